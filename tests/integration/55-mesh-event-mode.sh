#!/usr/bin/env bash
# Event mode (mesh-event.ini): while the scenario plays, block 7 is switched to fast sampling
# through the control socket (what the daemon does when a flood incident opens there) and back.
# Its nodes, one behind a relay, then report every 15 s instead of every minute; block 8 does
# not change. Checked on the stored readings' (virtual) times.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mesh-lib.sh"

SOCK=$WORK/control.sock
mesh_start mesh-event <<EOF2
[gateway]
control_socket = $SOCK
control_group =
[mesh]
event_interval = 15s
EOF2
lw_wait_for 10 test -S "$SOCK" || fail "control socket not created"
LW=("$LW_BIN/lorawatch")
# Paced run: 20 virtual minutes at 60x, about 20 s.
"$LW_BIN/lorawatch-sim" -s "$MESH_SC" --gateway "127.0.0.1:$LW_SIM_PORT" --acceleration 60 \
  --reply-wait 1s -v --summary-json "$WORK/sim.json" >"$WORK/sim.log" 2>&1 &
SIM=$!
LW_PIDS+=("$SIM")
# on once 4 virtual minutes have passed, off after 12
lw_wait_for 30 grep -q '^+00:04:' "$WORK/sim.log" || fail "the run did not get going"
"${LW[@]}" event-mode 7 on -s "$SOCK" >"$WORK/on.txt" || fail "event-mode on: exit $?"
grep -q '2 nodes' "$WORK/on.txt" || fail "event-mode on: $(cat "$WORK/on.txt")"
lw_wait_for 30 grep -q '^+00:12:' "$WORK/sim.log" || fail "the run stalled"
"${LW[@]}" event-mode 7 off -s "$SOCK" >"$WORK/off.txt" || fail "event-mode off: exit $?"
wait "$SIM" || fail "lorawatch-sim: $(grep -iE 'fail|error|stopp|gave up' "$WORK/sim.log" | head -n 5) $(tail -n 3 "$WORK/sim.log")"
grep -q 'b7-garage CMD from the gateway (event mode on)' "$WORK/sim.log" ||
  fail "the node behind the relay got no event-mode command"
grep -q 'b7-garage CMD from the gateway (event mode off)' "$WORK/sim.log" || fail "no 'off' command"
sleep 1
# Gaps between consecutive readings of a node, in seconds of virtual time.
gaps() {
  q "SELECT (ts_ms - lag(ts_ms) OVER (ORDER BY ts_ms)) / 1000 FROM readings WHERE node = $1" | sed '/^$/d'
}
# Gaps between a node's DATA frames as it sent them (the simulator's log, virtual seconds): after
# event mode ends its frames may all collide with another node's at the gateway (the schedule
# depends on when the command arrived), so the end is checked at the sender.
sent_gaps() {
  awk -v n="$1" '$2 == n && $4 == "DATA" {
    split(substr($1, 2), t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3]
    if (p != "") printf "%d\n", s - p
    p = s }' "$WORK/sim.log"
}
for nn in 3841:b7-garage 3842:b7-entrance; do
  n=${nn%%:*} name=${nn#*:}
  fast=$(gaps $n | awk '$1 <= 20' | wc -l)
  [ "$fast" -ge 10 ] || fail "node $n: only $fast readings 15 s apart: $(gaps $n | tr '\n' ' ')"
  last=$(sent_gaps "$name" | tail -n 3 | awk '$1 < 50' | wc -l)
  [ "$last" -eq 0 ] || fail "$name still fast at the end: $(sent_gaps "$name" | tail -n 3 | tr '\n' ' ')"
done
pass "block 7 (one node behind a relay) reported every 15 s in event mode, every minute after"
[ "$(gaps 3873 | awk '$1 < 50' | wc -l)" -eq 0 ] || fail "block 8 changed: $(gaps 3873 | tr '\n' ' ')"
rc=0
"${LW[@]}" event-mode nowhere on -s "$SOCK" 2>"$WORK/err.txt" || rc=$?
[ $rc -eq 4 ] || fail "event-mode for an unknown building: exit $rc"
pass "block 8 untouched; an unknown building is exit 4"
lw_stop_daemon
lw_validate_captured "$WORK/all.mqtt"
