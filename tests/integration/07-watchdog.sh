#!/usr/bin/env bash
# systemd watchdog: with WATCHDOG_USEC set, lorawatchd sends READY=1 and then WATCHDOG=1 at half
# the interval from its event loop; when the loop stalls (test-only switch) the keep-alives stop
# for longer than the interval, which is what makes systemd restart it; afterwards they resume.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
: "${LW_TESTBIN:?}"

lw_start_broker "$WORK"
SOCK=$WORK/notify.sock
lw_spawn notify "$WORK/notify.log" "$LW_TESTBIN/notify_listen" "$SOCK"
lw_wait_for 5 test -S "$SOCK" || fail "notify listener did not start"
cat >"$WORK/lorawatchd.conf" <<EOC
[gateway]
site = wd
database = $WORK/lw.db
[radio]
sim_listen = 127.0.0.1:$(lw_free_port udp)
[mqtt]
port = $LW_MQTT_PORT
EOC
chmod 600 "$WORK/lorawatchd.conf"

# 1 s watchdog: pings every 500 ms; the stall lasts 3 s.
NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=1000000 LORAWATCHD_TEST_STALL_S=3 \
  lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q 'READY=1' "$WORK/notify.log" || fail "no READY=1"
sleep 2
before=$(grep -c 'WATCHDOG=1' "$WORK/notify.log")
[ "$before" -ge 2 ] || fail "only $before keep-alives in the first 2 s (expected about 4)"
pass "READY=1, then $before keep-alives in 2 s"

t_stall=$(awk '{print $1; exit}' <(tail -n 1 "$WORK/notify.log"))
kill -USR1 "$LW_DAEMON_PID"
sleep 4.5
# Largest gap between consecutive keep-alives: must exceed the 1 s interval (a miss).
gap=$(grep 'WATCHDOG=1' "$WORK/notify.log" | awk 'NR > 1 && $1 - p > g {g = $1 - p} {p = $1} END {print g + 0}')
[ "$gap" -gt 1000 ] || fail "largest keep-alive gap $gap ms: the stall was not visible"
after=$(awk -v t="$t_stall" '$1 > t + 3000 && /WATCHDOG=1/' "$WORK/notify.log" | wc -l)
[ "$after" -ge 2 ] || fail "keep-alives did not resume after the stall"
pass "stalled loop: keep-alives missed for $gap ms (> 1000 ms interval), then resumed"

lw_stop_daemon
lw_wait_for 5 grep -q 'STOPPING=1' "$WORK/notify.log" || fail "no STOPPING=1"
pass "STOPPING=1 on SIGTERM"
