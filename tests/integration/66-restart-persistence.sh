#!/usr/bin/env bash
# A restart does not start a persistence again. A basement rule wants 80 mm held for 20 s (red);
# the water stands at 80 mm from the first reading, one a second. lorawatchd is killed with
# SIGKILL 12 s in and restarted at once; the water stays. The alert must come about 20 s after
# the first reading (plus 5 s for the restart and a loaded machine), not 20 s after the restart:
# the stored readings of the last 20 s are replayed into the rule at start-up, and the first
# real reading after it raises.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/restart-lib.sh"

restart_setup persist <<'EOF2'
[gateway]
clock_check = none
[rule:flood-cellar]
metric = water_mm
threshold = 50
clear = 20
persistence = 20s
level = red
EOF2
DUE_S=20 SLACK_S=5

start
T0=$(now_ms)
lw_n1_send --set 'water_mm=80@0s 80@100s' --count 13 --interval 1s --acceleration 1
lw_wait_for 5 count_is readings 13 || fail "readings not stored"
[ "$(q "SELECT count(*) FROM alerts")" = 0 ] || fail "raised before the kill: the test is wrong"
kill -KILL "$LW_DAEMON_PID"
wait "$LW_DAEMON_PID" 2>/dev/null || true
start
[ "$(q "SELECT count(*) FROM alerts")" = 0 ] || fail "the replay raised an alert by itself"
lw_n1_send --set 'water_mm=80@0s 80@100s' --count 20 --interval 1s --acceleration 1 \
  --fcnt-start 20 &
SEND=$!
lw_wait_for $((DUE_S + SLACK_S)) count_is "alerts WHERE rule = 'flood-cellar'" 1 || true
kill "$SEND" 2>/dev/null || true
wait "$SEND" 2>/dev/null || true
RAISED=$(q "SELECT raised_ms FROM alerts WHERE rule = 'flood-cellar'")
[ -n "$RAISED" ] || fail "flood-cellar never raised after the restart"
LATE=$((RAISED - T0))
[ "$LATE" -le $(((DUE_S + SLACK_S) * 1000)) ] ||
  fail "flood-cellar raised $LATE ms after the first reading: the restart started its persistence again (due at ${DUE_S} s + ${SLACK_S} s)"
[ "$(q "SELECT level FROM alerts WHERE rule = 'flood-cellar'")" = red ] || fail "not red"
pass "flood-cellar raised $LATE ms after the first reading (due ${DUE_S} s), across a kill -9"
lw_stop_daemon
