#!/usr/bin/env bash
# Escalation across a crash: the time an alert has already waited at its tier counts after the
# daemon is killed (SIGKILL) and restarted. An alert whose tier 1 was told 3 s before the kill
# goes up to tier 2 when its 10 s are over, not 10 s after the restart; a tier 2 whose time ran
# out while the daemon was down goes up to tier 3 as soon as the daemon is back. No roster: the
# tier topics escalate on the timer, as people who do not answer would.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

lw_start_broker "$WORK"
lw_capture all 'lorawatch/rst/#'
lw_one_node_conf rst <<EOF
[gateway]
clock_check = none
[alerts]
escalate_after = 10s
remind_every = 1h
[rule:deep]
metric = water_mm
threshold = 100
clear = 50
persistence = 0s
level = red
EOF
start() {
  lw_start_daemon "$WORK/lorawatchd.conf"
  lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon not connected"
}
crash() {
  kill -KILL "$LW_DAEMON_PID"
  wait "$LW_DAEMON_PID" 2>/dev/null || true
}
now_ms() { date +%s%3N; }
q() { sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" "$1"; }
# told TIER: journal time (ms) at which TIER was told about alert 1, empty while it was not.
told() {
  q "SELECT min(ts_ms) FROM alert_journal WHERE alert = 1 AND tier = $1
     AND event IN ('notified', 'escalated')"
}
# wait_told TIER SECONDS: until TIER has been told, or fail.
wait_told() {
  local i
  for i in $(seq 1 $(($2 * 10))); do
    [ -n "$(told "$1")" ] && return 0
    sleep 0.1
  done
  fail "tier $1 was not told within $2 s"
}

start
lw_n1_send --set water_mm=150
wait_told 1 10
t1=$(told 1)

# Killed 3 s into tier 1's 10 s, back 1 s later: 6 s are left, not 10.
sleep 3
crash
sleep 1
restart=$(now_ms)
start
wait_told 2 20
t2=$(told 2)
waited=$((t2 - t1)) after_restart=$((t2 - restart))
# Full time again after the restart would be at least restart + 10 s (t1 + 14 s).
[ "$waited" -ge 9900 ] || fail "tier 2 told after ${waited} ms at tier 1, before its 10 s"
[ "$after_restart" -lt 9000 ] ||
  fail "tier 2 told ${after_restart} ms after the restart (${waited} ms at tier 1): the time before the crash was lost"
pass "tier 2 told after ${waited} ms at tier 1, ${after_restart} ms after the restart"

# Killed again, and down past tier 2's 10 s: tier 3 is told as soon as the daemon is back.
crash
while [ $(( $(now_ms) - t2 )) -lt 11000 ]; do sleep 0.2; done
restart=$(now_ms)
start
wait_told 3 10
t3=$(told 3)
after_restart=$((t3 - restart))
# (Full time again would be 10 s after the restart.)
[ "$after_restart" -lt 8000 ] ||
  fail "tier 3 told ${after_restart} ms after the restart, though its time had run out while down"
[ "$(q "SELECT count(*) FROM alert_journal WHERE alert = 1 AND event = 'escalated' AND tier = 3")" -eq 1 ] ||
  fail "tier 3 told more than once"
[ "$(q "SELECT count(*) FROM alerts WHERE state = 'raised'")" -eq 1 ] || fail "alert raised twice"
pass "tier 3 told ${after_restart} ms after the restart (tier 2's time ran out while down)"
lw_stop_daemon
lw_validate_captured "$WORK/all.mqtt"
