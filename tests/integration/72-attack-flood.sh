#!/usr/bin/env bash
# Floods on the radio: tens of thousands of frames from unknown nodes, join requests from unknown
# EUIs, and join requests for an EUI that is being paired but with a wrong key, as fast as the
# loopback carries them. The daemon's memory (VmRSS) and open files stay flat once warmed up,
# the join rate limiter drops most requests unexamined and counts them, log lines stay
# rate-limited, nothing of the attacker is stored, and afterwards a genuine frame and the
# genuine join of the node being paired go through.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/attack-lib.sh"

lw_start_broker "$WORK"
SOCK=$WORK/control.sock
atk_start flood <<EOF
control_socket = $SOCK
control_group =
EOF
lw_wait_for 10 test -S "$SOCK" || fail "no control socket"
joins() { atk_metric "lorawatch_join_requests_total{outcome=\"$1\"}"; }
join_total() {
  local s=0 o
  for o in accepted malformed rate_limited unknown_eui window_closed refused; do s=$((s + $(joins $o))); done
  echo $s
}

# A maintainer is pairing node EUIJ: its window is open during the whole flood.
EUIJ=70B3D57ED0000301 KEYJ=303132333435363738393A3B3C3D3E3F
"$LW_BIN/lorawatch" pair -s "$SOCK" --eui $EUIJ --key $KEYJ --kind water --name pairing-1 \
  --wait 90 >"$WORK/pair.txt" 2>"$WORK/pair.err" &
PAIR=$!
LW_PIDS+=("$PAIR")
lw_wait_for 10 sh -c "'$LW_BIN/lorawatch' nodes -s '$SOCK' | grep -q 'pairing-1.*pending'" ||
  fail "pairing window not open: $(cat "$WORK/pair.err")"
nodes0=$(q 'SELECT count(*) FROM nodes')

flood() { # flood DATA JOINS: frames of unknown nodes, join requests of unknown EUIs
  "${ATK[@]}" flood-data "$LW_SIM_PORT" "$1" --rate 20000 --seed "$RANDOM" >/dev/null
  "${ATK[@]}" flood-join "$LW_SIM_PORT" "$2" --rate 20000 --seed "$RANDOM" >/dev/null
}
settle() { # the daemon has drained its socket: the frame counter stops moving
  local a b
  a=$(atk_metric lorawatch_radio_frames_total)
  for _ in $(seq 1 20); do
    atk_fresh_metrics
    b=$(atk_metric lorawatch_radio_frames_total)
    [ "$a" = "$b" ] && return 0
    a=$b
  done
}

# ---- warm-up: the first flood touches every page the steady state needs, and the first MIC
# checks load the crypto library's tables (about 2 MB, once) --------------------------------------
flood 20000 5000
lw_n1_send --set water_mm=30
sleep 1
"${ATK[@]}" flood-join "$LW_SIM_PORT" 1000 --rate 20000 --eui $EUIJ >/dev/null
settle
rss0=$(atk_rss_kb "$PID") fds0=$(atk_fds "$PID") cpu0=$(atk_cpu_ticks "$PID")
f0=$(atk_metric lorawatch_radio_frames_total)
t0=$(date +%s)

# ---- the flood ---------------------------------------------------------------------------------
flood 60000 20000
sleep 1 # the join bucket refills two tokens: some wrong-key requests reach the MIC check
"${ATK[@]}" flood-join "$LW_SIM_PORT" 5000 --rate 20000 --eui $EUIJ >/dev/null
settle
rss1=$(atk_rss_kb "$PID") fds1=$(atk_fds "$PID") cpu1=$(atk_cpu_ticks "$PID")
frames=$(( $(atk_metric lorawatch_radio_frames_total) - f0 ))
kill -0 "$PID" 2>/dev/null || fail "daemon died in the flood"
echo "   flood: 85000 datagrams sent, $frames reached the pipeline (the rest the kernel dropped);"
echo "   VmRSS $rss0 -> $rss1 kB, open files $fds0 -> $fds1, CPU $(( (cpu1 - cpu0) * 10 )) ms" \
  "(about $(( (cpu1 - cpu0) * 10000 / (frames > 0 ? frames : 1) )) us per frame)"
[ "$frames" -ge 10000 ] || fail "only $frames flood frames reached the daemon: not a flood"
[ $((rss1 - rss0)) -le 2048 ] || fail "VmRSS grew by $((rss1 - rss0)) kB during the flood"
[ "$fds1" -eq "$fds0" ] || fail "open files $fds0 -> $fds1"
pass "memory and open files flat under the flood ($frames frames)"

# ---- counted and refused -------------------------------------------------------------------------
[ "$(atk_metric 'lorawatch_frames_total{outcome="accepted"}')" -eq 1 ] || fail "a flood frame was accepted"
[ "$(atk_metric 'lorawatch_frames_total{outcome="unknown_node"}')" -ge 10000 ] ||
  fail "unknown nodes counted: $(atk_metric 'lorawatch_frames_total{outcome="unknown_node"}')"
[ "$(joins accepted)" -eq 0 ] || fail "a flood join was accepted"
[ "$(joins rate_limited)" -ge 10000 ] || fail "join rate limiter: $(joins rate_limited) dropped"
[ "$(joins unknown_eui)" -ge 1 ] || fail "unknown EUIs not counted"
[ "$(joins refused)" -ge 1 ] || fail "wrong-key joins of the pairing EUI not counted as refused"
# Examined requests (past the limiter) stay within its budget: a burst of 10, then 2 per second.
examined=$(( $(join_total) - $(joins rate_limited) ))
budget=$(( 2 * (10 + 2 * ($(date +%s) - t0 + 30)) ))
[ "$examined" -le "$budget" ] || fail "$examined join requests examined: limiter budget $budget"
pass "joins: $(joins rate_limited) rate-limited, $(joins unknown_eui) unknown EUI, $(joins refused) wrong key, none accepted"
"$LW_BIN/lorawatch" status -s "$SOCK" | grep -E '^  (frames|joins) ' | sed 's/^/   /'

[ "$(q 'SELECT count(*) FROM readings WHERE node != 1')" -eq 0 ] || fail "flood readings stored"
[ "$(q 'SELECT count(*) FROM nodes')" -eq "$nodes0" ] || fail "the flood added nodes"
[ "$(q "SELECT count(*) FROM maintenance WHERE action = 'join'")" -eq 0 ] || fail "a flood join journalled"
secs=$(( $(date +%s) - t0 + 10 ))
for pat in 'frame rejected' 'join request from EUI'; do
  lines=$(grep -c "$pat" "$WORK/lorawatchd.log" || true)
  [ "$lines" -le "$(atk_log_bound x "$secs")" ] || fail "$lines '$pat' log lines: not rate-limited"
done
pass "nothing of the attacker stored; log lines rate-limited"

# ---- genuine traffic afterwards --------------------------------------------------------------------
lw_n1_send --set water_mm=33 --fcnt-start 2
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' 'SELECT count(*) FROM readings WHERE node = 1') -eq 2 ]" ||
  fail "genuine frame after the flood not stored"
sleep 5 # the join limiter's bucket refills on the monotonic clock: 2 per second
"$LW_BIN/lorawatch-sim" -q --join --network-id 0x4C57 --eui $EUIJ --root-key $KEYJ --kind water \
  --acceleration 0 --gateway "127.0.0.1:$LW_SIM_PORT" --state "$WORK/node.state" \
  --set water_mm=21 --count 1 >"$WORK/join.log" 2>&1 || fail "genuine join after the flood: $(cat "$WORK/join.log")"
wait "$PAIR" || fail "lorawatch pair: exit $? ($(cat "$WORK/pair.err"))"
grep -q 'water 21 mm' "$WORK/pair.txt" || fail "pair output: $(cat "$WORK/pair.txt")"
[ "$(q "SELECT count(*) FROM maintenance WHERE action = 'join'")" -eq 1 ] || fail "genuine join not journalled"
pass "a genuine frame and the genuine join go through after the flood"
lw_stop_daemon
