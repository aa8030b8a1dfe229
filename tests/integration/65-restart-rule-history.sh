#!/usr/bin/env bash
# A restart does not throw away a rule's history. Water rises steadily by 2 mm/s (120 mm/min)
# under a rate-of-rise rule (threshold 30 mm/min, 60 s window). A slope wants a quarter of the
# window (15 s) between the mean times of its first and last history bucket (5 s each), so
# without a restart the alert is due about 20 s after the first reading. lorawatchd is killed
# with SIGKILL 12 s in and restarted at once; the water keeps rising. The alert must come by then
# (plus 5 s for the restart and a loaded machine), not another 20 s after the restart: the
# readings stored before the kill are replayed into the rule at start-up. The replay itself
# raises nothing (the alert comes with a real reading), and a stored reading with no trustworthy
# time is not replayed.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/restart-lib.sh"

restart_setup hist <<'EOF'
[gateway]
clock_check = none
[rule:flood-rising]
metric = water_mm
statistic = rise
window = 60s
threshold = 30
clear = 1
level = yellow
EOF
DUE_S=20 SLACK_S=5

start
T0=$(now_ms)
# 13 readings, one a second: 0, 2, ... 24 mm over 12 s, too short for a slope.
lw_n1_send --set 'water_mm=0@0s 200@100s' --count 13 --interval 1s --acceleration 1
lw_wait_for 5 count_is readings 13 || fail "readings not stored"
[ "$(q "SELECT count(*) FROM alerts")" = 0 ] || fail "raised before the kill: the test is wrong"
# A stray reading of the node whose time cannot be trusted (received unsynchronised in a boot
# that ended before the clock synchronised), stored as 6 s before the first one at 10 m: a
# replay that took it would see the water falling fast, and raise nothing in time.
q "INSERT INTO readings(node, ts_ms, fcnt, water_mm, packed, mono_ms)
   SELECT 1, min(ts_ms) - 6000, 0, 10000, 3 << 16, NULL FROM readings"
kill -KILL "$LW_DAEMON_PID"
wait "$LW_DAEMON_PID" 2>/dev/null || true
start
[ "$(q "SELECT count(*) FROM alerts")" = 0 ] || fail "the replay raised an alert by itself"
# The water goes on rising from where it was.
ELAPSED=$(($(now_ms) - T0))
V=$((ELAPSED / 500))
lw_n1_send --set "water_mm=${V}@0s $((V + 200))@100s" --count 12 --interval 1s --acceleration 1 \
  --fcnt-start 20 &
SEND=$!
lw_wait_for $((DUE_S + SLACK_S)) count_is "alerts WHERE rule = 'flood-rising'" 1 || true
wait "$SEND" || fail "lorawatch-sim failed"
RAISED=$(q "SELECT raised_ms FROM alerts WHERE rule = 'flood-rising'")
[ -n "$RAISED" ] || fail "flood-rising never raised after the restart"
LATE=$((RAISED - T0))
[ "$LATE" -le $(((DUE_S + SLACK_S) * 1000)) ] ||
  fail "flood-rising raised $LATE ms after the first reading: the restart cost the rule its history (due at ${DUE_S} s + ${SLACK_S} s)"
grep -q 'stored readings of 1 nodes replayed' "$WORK/lorawatchd.log" ||
  fail "no replay logged: $(grep -m 3 -i 'rules\|replay' "$WORK/lorawatchd.log" || true)"
pass "flood-rising raised $LATE ms after the first reading (due ${DUE_S} s), across a kill -9"
lw_stop_daemon
