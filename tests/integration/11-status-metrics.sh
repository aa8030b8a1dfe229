#!/usr/bin/env bash
# Observability: lorawatchd rewrites a Prometheus textfile (frames by outcome, alerts, MQTT
# outbox, database size, clock, loop lag); `lorawatch status` summarises it, as text and JSON,
# tells a stopped daemon apart (exit 3), and rejects a malformed file naming the line (exit 1).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

lw_start_broker "$WORK"
M=$WORK/metrics.prom
lw_one_node_conf obs <<EOC
[gateway]
clock_check = none
metrics_file = $M
metrics_interval = 1s
[rule:wet]
metric = water_mm
threshold = 100
clear = 50
level = orange
EOC
sim() { lw_n1_send "$@"; }
metric() { awk -v k="$1" '$1 == k {print $2}' "$M"; }

lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 test -s "$M" || fail "no metrics file"
sim --set water_mm=150 --count 4 --fcnt-start 1
sim --set water_mm=150 --count 2 --fcnt-start 1 # replays
sim --set water_mm=150 --count 3 --fcnt-start 20 --mutate mic
lw_wait_for 10 sh -c "grep -q '^lorawatch_frames_total{outcome=\"mic\"} 3$' '$M'" ||
  fail "metrics file never showed the 3 forged frames"
[ "$(metric 'lorawatch_frames_total{outcome="accepted"}')" = 4 ] || fail "accepted != 4"
[ "$(metric 'lorawatch_frames_total{outcome="replay"}')" = 2 ] || fail "replay != 2"
[ "$(metric 'lorawatch_alerts_active')" = 1 ] || fail "alerts_active != 1"
[ "$(metric 'lorawatch_mqtt_connected')" = 1 ] || fail "not connected in metrics"
[ "$(metric 'lorawatch_db_bytes')" -gt 0 ] || fail "db size missing"
grep -q '^# TYPE lorawatch_frames_total counter$' "$M" || fail "TYPE lines missing"
pass "metrics file: frames by outcome, alerts, MQTT, database size"

# Clock and loop lag under their documented names (dashboards and alerting rules use them).
for g in lorawatch_clock_synchronized lorawatch_loop_lag_seconds lorawatch_loop_lag_max_seconds; do
  grep -q "^# TYPE $g gauge\$" "$M" || fail "no gauge $g in the metrics file"
done
[ "$(metric lorawatch_clock_synchronized)" = 1 ] ||
  fail "clock_check = none: lorawatch_clock_synchronized '$(metric lorawatch_clock_synchronized)', expected 1"
lag=$(metric lorawatch_loop_lag_seconds) lag_max=$(metric lorawatch_loop_lag_max_seconds)
# Sane: numbers, not negative, the maximum not below the last, and no loop stalled for a minute.
awk -v l="$lag" -v m="$lag_max" 'BEGIN {
  ok = l ~ /^[0-9.e+-]+$/ && m ~ /^[0-9.e+-]+$/ && l + 0 >= 0 && m + 0 >= l + 0 && m + 0 < 60
  exit !ok }' || fail "loop lag '$lag', max '$lag_max'"
pass "clock and loop lag metrics: synchronised 1, lag $lag s (max $lag_max s)"

"$LW_BIN/lorawatch" status -m "$M" >"$WORK/status.txt" || fail "status exit $? while running"
grep -q 'site obs: running' "$WORK/status.txt" || fail "status: not 'running'"
grep -q 'accepted 4, rejected 5' "$WORK/status.txt" || fail "status: frame figures wrong"
grep -Eq '^  clock +synchronised$' "$WORK/status.txt" || fail "status: clock not shown synchronised"
grep -Eq '^  loop lag +[0-9]+ ms now, [0-9]+ ms at most$' "$WORK/status.txt" || fail "status: no loop lag"
"$LW_BIN/lorawatch" status -m "$M" --json >"$WORK/status.json" || fail "status --json exit"
jq -e '.state == "running" and .frames.mic == 3 and .alerts_active == 1 and .mqtt_connected and
       .clock_synchronized == true and (.loop_lag_max_s | type == "number" and . >= 0)' \
  "$WORK/status.json" >/dev/null || fail "status --json figures wrong"
pass "lorawatch status: text and JSON while running"

lw_stop_daemon
rc=0; "$LW_BIN/lorawatch" status -m "$M" >"$WORK/stopped.txt" || rc=$?
[ $rc -eq 3 ] && grep -q ': stopped' "$WORK/stopped.txt" || fail "stopped daemon: exit $rc"
printf 'lorawatch_up 1\nlorawatch_nodes{broken 3\n' >"$WORK/bad.prom"
rc=0; "$LW_BIN/lorawatch" status -m "$WORK/bad.prom" 2>"$WORK/bad.txt" || rc=$?
[ $rc -eq 1 ] && grep -q 'bad.prom:2: not a metrics line' "$WORK/bad.txt" ||
  fail "malformed metrics file: exit $rc"
rc=0; "$LW_BIN/lorawatch" status --bogus 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "usage error: exit $rc"
pass "stopped daemon exit 3; malformed file exit 1 with line; usage error exit 2"
