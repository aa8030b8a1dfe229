#!/usr/bin/env bash
# Forged frames, exhaustively: every single-bit flip of a genuine frame (header, ciphertext and
# MIC), the frame cut to every shorter length, padded to 255 bytes, a 300-byte datagram, forged
# MICs and frames sealed for a neighbouring network. Each is rejected and counted under exactly
# one reason (the counters add up to what was sent), log lines stay rate-limited, nothing is
# stored, and the genuine frame the forgeries were made from is still accepted afterwards: a
# forgery cannot burn the node's frame counter.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/attack-lib.sh"

lw_start_broker "$WORK"
atk_start forge </dev/null

# Two genuine frames (fcnt 1 and 2) recorded off the air; only the first reaches the gateway.
CAP=$(lw_free_port udp)
"${ATK[@]}" capture "$CAP" "$WORK/air.hex" 2 &
capture=$!
LW_PIDS+=("$capture")
lw_wait_for 5 sh -c "ss -H -lun 'sport = :$CAP' | grep -q ." || fail "capture not listening"
"$LW_BIN/lorawatch-sim" -q --gateway "127.0.0.1:$CAP" --network-id 0x4C57 --address 1 \
  --eui 70B3D57ED0000001 --key "$LW_N1_KEY" --kind water --acceleration 0 --count 2 \
  --set water_mm=42 --set battery_mv=3600 || fail "sim"
wait "$capture"
"${ATK[@]}" send "$LW_SIM_PORT" "$WORK/air.hex" --lines 1:1 >/dev/null
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq 1 ]" ||
  fail "genuine frame 1 not stored"

# Datagrams the daemon received: frames handed to the pipeline, and datagrams the simulated
# radio refused by their framing.
received() { echo $(( $(atk_metric lorawatch_radio_frames_total) + $(atk_metric lorawatch_radio_malformed_total) )); }
# Every place a frame can be refused: admission outcomes, the mesh sink, the join procedure and
# the simulated radio's framing. Each refused datagram is counted once, in one of them.
refused_total() {
  local s=0 o
  for o in malformed network unknown_node mic replay ignored; do
    s=$((s + $(atk_metric "lorawatch_frames_total{outcome=\"$o\"}")))
  done
  for o in hop_limit bad_route; do s=$((s + $(atk_metric "lorawatch_mesh_dropped_total{reason=\"$o\"}"))); done
  for o in malformed rate_limited unknown_eui window_closed refused; do
    s=$((s + $(atk_metric "lorawatch_join_requests_total{outcome=\"$o\"}")))
  done
  echo $((s + $(atk_metric lorawatch_radio_malformed_total)))
}
atk_fresh_metrics
base=$(refused_total) rx0=$(received)
accepted0=$(atk_metric 'lorawatch_frames_total{outcome="accepted"}')
t0=$(date +%s)

sent=0
n=$("${ATK[@]}" bitflips "$LW_SIM_PORT" "$WORK/air.hex" 2); sent=$((sent + n)); flips=$n
n=$("${ATK[@]}" truncations "$LW_SIM_PORT" "$WORK/air.hex" 2); sent=$((sent + n)); cuts=$n
n=$("${ATK[@]}" oversize "$LW_SIM_PORT" "$WORK/air.hex" 2); sent=$((sent + n))
lw_n1_send --set water_mm=1 --mutate mic --count 20 --fcnt-start 2; sent=$((sent + 20))
lw_n1_send --set water_mm=1 --mutate netid --count 5 --fcnt-start 2; sent=$((sent + 5))
lw_n1_send --set water_mm=1 --mutate key --count 5 --fcnt-start 2; sent=$((sent + 5))
all_in() { [ $(( $(received) - rx0 )) -ge "$sent" ]; }
lw_wait_for 15 all_in || true
atk_fresh_metrics
got=$(( $(received) - rx0 )) refused=$(( $(refused_total) - base ))
[ "$(atk_metric 'lorawatch_frames_total{outcome="accepted"}')" -eq "$accepted0" ] ||
  fail "a forgery was accepted"
[ "$got" -eq "$sent" ] && [ "$refused" -eq "$got" ] || {
  grep -E 'frames_total|mesh_dropped|join_requests|radio_' "$WORK/metrics.prom" >&2
  fail "$sent forgeries sent ($flips bit flips, $cuts truncations), $got received, $refused refusals counted"
}
pass "$sent forgeries received and refused with a reason: $flips bit flips, $cuts truncations, 2 oversized, 30 sealed wrong"
grep -E '^lorawatch_(frames_total|mesh_dropped_total|join_requests_total)' "$WORK/metrics.prom" |
  grep -v ' 0$' | sed 's/^/   /'

[ "$(q 'SELECT count(*) FROM readings')" -eq 1 ] || fail "a forgery was stored"
lines=$(grep -cE 'frame rejected|radio sim: dropped|join request from' "$WORK/lorawatchd.log" || true)
bound=$(( $(atk_log_bound x $(( $(date +%s) - t0 ))) * 4 )) # four call sites
[ "$lines" -le "$bound" ] || fail "$lines log lines for $sent forgeries: not rate-limited (bound $bound)"
pass "nothing stored; $lines log lines for $sent forgeries (rate-limited)"

# The frame every forgery was made from is genuine and still fresh.
"${ATK[@]}" send "$LW_SIM_PORT" "$WORK/air.hex" --lines 2:2 >/dev/null
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' 'SELECT count(*) FROM readings WHERE fcnt = 2') -eq 1 ]" ||
  fail "the genuine frame 2 was refused after its forgeries"
pass "the genuine frame behind the forgeries is accepted afterwards"
lw_stop_daemon
