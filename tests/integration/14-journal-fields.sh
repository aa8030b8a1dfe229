#!/usr/bin/env bash
# Journal fields: under systemd (JOURNAL_STREAM names our stderr) alert log lines go to the
# journal with LORAWATCH_NODE and LORAWATCH_ALERT_ID, so `journalctl LORAWATCH_NODE=n1` finds a
# node's story. Where no journald runs (CI), a stand-in listens on the journal's native socket.
. "$(dirname "$0")/common.sh"
: "${LW_TESTBIN:?}"

JSOCK=/run/systemd/journal/socket
if [ -e "$JSOCK" ] || [ "$(id -u)" -ne 0 ]; then
  echo "skipped: a real journald owns $JSOCK, or not root (cannot stand in for it)"
  exit 77 # reported by ctest as skipped, not passed
fi
made_dir=0
[ -d /run/systemd/journal ] || { mkdir -p /run/systemd/journal && made_dir=1; }
lw_spawn journal "$WORK/journal.log" "$LW_TESTBIN/notify_listen" "$JSOCK"
# Clean up the stand-in, then hand the test's own exit status on to on_exit.
trap 'rc=$?; rm -f "$JSOCK"; [ $made_dir -eq 1 ] && rmdir /run/systemd/journal 2>/dev/null
      (exit $rc); on_exit' EXIT
lw_wait_for 5 test -S "$JSOCK" || fail "stand-in journal socket not created"

lw_start_broker "$WORK"
lw_one_node_conf jf <<EOC
[gateway]
clock_check = none
[rule:wet]
metric = water_mm
threshold = 100
clear = 50
level = orange
EOC
: >"$WORK/lorawatchd.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$WORK/lorawatchd.log") lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon did not start"
grep -q '^<5>' "$WORK/lorawatchd.log" || fail "stderr lines lack journal priority prefixes"
lw_n1_send --set water_mm=150
lw_wait_for 5 grep -q 'LORAWATCH_NODE=n1' "$WORK/journal.log" || fail "no LORAWATCH_NODE field"
grep 'LORAWATCH_NODE=n1' "$WORK/journal.log" | grep -q 'LORAWATCH_ALERT_ID=1' ||
  fail "no LORAWATCH_ALERT_ID field"
grep 'LORAWATCH_NODE=n1' "$WORK/journal.log" | grep -q 'PRIORITY=5' || fail "no PRIORITY field"
lw_stop_daemon
pass "alert lines reach the journal with LORAWATCH_NODE, LORAWATCH_ALERT_ID and PRIORITY"
