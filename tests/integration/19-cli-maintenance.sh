#!/usr/bin/env bash
# The CLI commands no other test runs, checked for their output and their effect:
# `lorawatch airtime` and `plan` against the datasheet's time-on-air formula and pure ALOHA,
# worked out here independently; `rekey` against a running daemon (the node's session ends, it
# waits for a join, is heard again after it; with --key only the new root key joins); `unsilence`
# (a held alert is paged at once, the silence's end is recorded, a lifted silence is refused).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

LW=("$LW_BIN/lorawatch")
# close A B: two numbers agree to 1e-3 (relative)
close() {
  awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b
    exit !(a != "" && d <= 1e-3 * m + 1e-9) }'
}
# toa SF BW CR PAYLOAD PREAMBLE: ms on air of one packet (Semtech AN1200.13: CRC on, explicit
# header, coding rate 4/CR, low data rate optimisation when a symbol lasts 16 ms or more)
toa() {
  awk -v sf="$1" -v bw="$2" -v cr="$3" -v pl="$4" -v pre="$5" 'BEGIN {
    ts = 2 ^ sf / bw * 1000; de = ts >= 16 ? 1 : 0
    n = (8 * pl - 4 * sf + 28 + 16) / (4 * (sf - 2 * de)); c = int(n); if (c < n) c++
    if (c < 0) c = 0
    printf "%.6f\n", (pre + 4.25) * ts + (8 + c * cr) * ts }'
}

# ---- airtime ---------------------------------------------------------------------------------
for p in "9 125000 5 35 8" "7 125000 5 12 8" "10 250000 8 51 12" "11 125000 6 20 8"; do
  set -- $p
  "${LW[@]}" airtime --sf "$1" --bw "$2" --cr "$3" --payload "$4" --preamble "$5" --json \
    >"$WORK/airtime.json" || fail "airtime $p: exit $?"
  got=$(jq -r .airtime_ms "$WORK/airtime.json") want=$(toa "$@")
  close "$got" "$want" || fail "airtime $p: $got ms, the formula gives $want ms"
  jq -e '.allowed == true and .region == "CN470"' "$WORK/airtime.json" >/dev/null ||
    fail "airtime $p: $(cat "$WORK/airtime.json")"
done
"${LW[@]}" airtime >"$WORK/airtime.txt" || fail "airtime with defaults: exit $?"
grep -q '^SF9, 125000 Hz, CR 4/5, 35 bytes: 246.8 ms on air' "$WORK/airtime.txt" &&
  grep -q '^CN470: allowed$' "$WORK/airtime.txt" || fail "airtime text: $(cat "$WORK/airtime.txt")"
# SF12 with 35 bytes: 1810.4 ms, beyond CN470's 1 s per transmission: refused, exit 1.
rc=0
"${LW[@]}" airtime --sf 12 >"$WORK/airtime.txt" || rc=$?
[ $rc -eq 1 ] && grep -q 'CN470: refused: on air 1810.4 ms' "$WORK/airtime.txt" ||
  fail "SF12 35 bytes in CN470: exit $rc: $(cat "$WORK/airtime.txt")"
rc=0
"${LW[@]}" airtime --sf 13 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "airtime --sf 13: exit $rc, expected 2"
pass "airtime: matches the datasheet formula; SF12 refused in CN470 (exit 1); bad SF exit 2"

# ---- plan ------------------------------------------------------------------------------------
# G = nodes x time on air / interval / channels; delivery e^-2G.
for p in "100 60 9 1" "100 60 9 8" "500 300 7 2"; do
  set -- $p
  "${LW[@]}" plan --nodes "$1" --interval "$2" --sf "$3" --channels "$4" --json \
    >"$WORK/plan.json" || fail "plan $p: exit $?"
  t=$(toa "$3" 125000 5 35 8)
  g=$(awk -v n="$1" -v t="$t" -v s="$2" -v c="$4" 'BEGIN { printf "%.9f", n * t / 1000 / s / c }')
  e=$(awk -v g="$g" 'BEGIN { printf "%.9f", exp(-2 * g) }')
  close "$(jq -r .offered_load "$WORK/plan.json")" "$g" ||
    fail "plan $p: G $(jq .offered_load "$WORK/plan.json"), expected $g"
  close "$(jq -r .aloha_success "$WORK/plan.json")" "$e" ||
    fail "plan $p: delivery $(jq .aloha_success "$WORK/plan.json"), expected $e"
  [ "$(jq -r .frames_per_hour "$WORK/plan.json")" -eq $(($1 * 3600 / $2)) ] ||
    fail "plan $p: frames per hour $(jq .frames_per_hour "$WORK/plan.json")"
done
"${LW[@]}" plan --nodes 100 --interval 1m --sf 9 >"$WORK/plan.txt" || fail "plan text: exit $?"
grep -Eq '^offered load G +0\.411 per channel$' "$WORK/plan.txt" &&
  grep -Eq '^ALOHA delivery +43\.9 %' "$WORK/plan.txt" || fail "plan text: $(cat "$WORK/plan.txt")"
rc=0
"${LW[@]}" plan --nodes 10 --interval 60 --sf 12 >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "plan with a frame CN470 refuses: exit $rc, expected 1"
rc=0
"${LW[@]}" plan --sf 9 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "plan without --nodes: exit $rc, expected 2"
pass "plan: load G and e^-2G as worked out here, text and JSON; refused frame exit 1, usage exit 2"

# ---- against a daemon: rekey, unsilence --------------------------------------------------------
lw_start_broker "$WORK"
SOCK=$WORK/control.sock
lw_one_node_conf cli <<EOC
[gateway]
clock_check = none
control_socket = $SOCK
control_group =
[rule:deep]
metric = water_mm
threshold = 100
clear = 50
level = orange
[duty:wang]
name = Wang Li
tier = 1
grids = *
EOC
mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -v -q 1 -t 'lorawatch/cli/duty/#' \
  >"$WORK/duty.mqtt" 2>/dev/null &
LW_PIDS+=("$!")
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 test -S "$SOCK" || fail "control socket not created"
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "no broker connection"
q() { sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" "$@"; }
EUI3=70B3D57ED0000301 KEY3=303132333435363738393A3B3C3D3E3F K4=6D6C6B6A696867666564636261605F5E
join() { # join KEY EXTRA...: node cellar joins (OTAA) with root key KEY, then sends
  local key=$1
  shift
  "$LW_BIN/lorawatch-sim" -q --join --network-id 0x4C57 --eui $EUI3 --root-key "$key" \
    --kind water --acceleration 0 --gateway "127.0.0.1:$LW_SIM_PORT" --state "$WORK/cellar.state" "$@"
}
cellar() { q "SELECT address FROM nodes WHERE name = 'cellar'"; }
readings() { q "SELECT count(*) FROM readings WHERE node = $(cellar)"; }
readings_reach() {
  lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' 'SELECT count(*) FROM readings WHERE node = $(cellar)') -eq $1 ]"
}
refusals() { grep -c "join request from EUI $EUI3 refused" "$WORK/lorawatchd.log" || true; }

# A node paired at run time (rekey is for those; [node:] sections are rekeyed in the file).
"${LW[@]}" pair -s "$SOCK" --eui $EUI3 --key $KEY3 --kind water --name cellar --grid G1 \
  --wait 30 >"$WORK/pair.txt" 2>"$WORK/pair.err" &
PAIR=$!
lw_wait_for 10 sh -c "'$LW_BIN/lorawatch' nodes -s '$SOCK' | grep -q 'cellar.*pending'" ||
  fail "pairing window not open: $(cat "$WORK/pair.err")"
join $KEY3 --set water_mm=20 --count 2 --interval 1s >"$WORK/join0.log" 2>&1 ||
  fail "first join: $(cat "$WORK/join0.log")"
wait $PAIR || fail "pair: exit $?: $(cat "$WORK/pair.err")"
readings_reach 2 || fail "cellar not heard after pairing: $(readings)"

"${LW[@]}" rekey cellar -s "$SOCK" --window 60 >"$WORK/rekey.txt" 2>&1 ||
  fail "rekey: exit $?: $(cat "$WORK/rekey.txt")"
grep -q 'cellar' "$WORK/rekey.txt" || fail "rekey output: $(cat "$WORK/rekey.txt")"
"${LW[@]}" nodes -s "$SOCK" | grep -q 'cellar.*pending' || fail "rekeyed node not waiting for a join"
[ "$(q "SELECT detail FROM maintenance WHERE action = 'rekey' AND node = $(cellar)")" = \
  "session ended, node must join again" ] || fail "rekey not journalled"
join $KEY3 --set water_mm=21 --count 2 --interval 1s >"$WORK/join1.log" 2>&1 ||
  fail "join after rekey: $(cat "$WORK/join1.log")"
readings_reach 4 || fail "readings after the join: $(readings)"
"${LW[@]}" nodes -s "$SOCK" | grep -q 'cellar.*pending' && fail "still pending after the join"
pass "rekey: session ended and journalled, node pending until it joins again, then heard"

r0=$(refusals)
"${LW[@]}" rekey cellar -s "$SOCK" --key "$K4" >"$WORK/rekey2.txt" 2>&1 ||
  fail "rekey --key: exit $?: $(cat "$WORK/rekey2.txt")"
[ "$(q "SELECT count(*) FROM maintenance WHERE action = 'rekey' AND detail LIKE 'new root key%'")" -eq 1 ] ||
  fail "rekey --key not journalled"
rc=0
join $KEY3 --set water_mm=22 --count 1 --join-attempts 1 --reply-wait 1s >"$WORK/join2.log" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "join with the old root key answered after rekey --key"
[ "$(refusals)" -gt "$r0" ] || fail "join with the old root key not refused in the log"
join "$K4" --set water_mm=22 --count 2 --interval 1s >"$WORK/join3.log" 2>&1 ||
  fail "join with the new root key: $(cat "$WORK/join3.log")"
readings_reach 6 || fail "readings after the join with the new key: $(readings)"
rc=0
"${LW[@]}" rekey nosuch -s "$SOCK" 2>/dev/null || rc=$?
[ $rc -eq 4 ] || fail "rekey of an unknown node: exit $rc, expected 4"
rc=0
"${LW[@]}" rekey n1 -s "$SOCK" 2>"$WORK/err.txt" || rc=$?
[ $rc -eq 7 ] && grep -q 'node:n1' "$WORK/err.txt" || fail "rekey of a configured node: exit $rc"
pass "rekey --key: the old root key refused, the new one joins; unknown node exit 4, configured node exit 7"

# ---- unsilence ---------------------------------------------------------------------------------
# got JQ: a duty message for wang whose payload satisfies JQ
got() {
  grep '^lorawatch/cli/duty/person/wang ' "$WORK/duty.mqtt" | cut -d' ' -f2- | sed '/^(null)$/d' |
    jq -e -s "map(select($1)) | length > 0" >/dev/null 2>&1
}
"${LW[@]}" silence -s "$SOCK" --node n1 --hazard flood --for 1h --reason "pump test" \
  >"$WORK/silence.txt" 2>&1 || fail "silence: exit $?: $(cat "$WORK/silence.txt")"
sid=$(q "SELECT id FROM silences WHERE lifted_ms IS NULL")
[ -n "$sid" ] || fail "silence not stored: $(cat "$WORK/silence.txt")"
"${LW[@]}" silences -s "$SOCK" | grep -q 'pump test' || fail "silence not listed"
lw_n1_send --set water_mm=150 --count 1 --fcnt-start 1
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \"SELECT count(*) FROM alert_journal WHERE event = 'silenced'\") -eq 1 ]" ||
  fail "alert not held back by the silence"
aid=$(q "SELECT id FROM alerts WHERE state = 'raised'")
sleep 1
got ".id == $aid" && fail "a held alert paged wang"
"${LW[@]}" unsilence "$sid" -s "$SOCK" >"$WORK/unsilence.txt" 2>&1 ||
  fail "unsilence: exit $?: $(cat "$WORK/unsilence.txt")"
lw_wait_for 5 got ".id == $aid and .duty.kind == \"notified\"" || fail "held alert not paged after unsilence"
[ -n "$(q "SELECT lifted_ms FROM silences WHERE id = $sid")" ] || fail "the silence's end not recorded"
"${LW[@]}" silences -s "$SOCK" | grep -q 'pump test' && fail "the lifted silence is still listed"
rc=0
"${LW[@]}" unsilence "$sid" -s "$SOCK" 2>"$WORK/err.txt" || rc=$?
[ $rc -eq 4 ] || fail "unsilence of a lifted silence: exit $rc, expected 4: $(cat "$WORK/err.txt")"
pass "unsilence: the held alert is paged at once, the end recorded; a second unsilence exit 4"

lw_stop_daemon
