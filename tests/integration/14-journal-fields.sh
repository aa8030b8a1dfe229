#!/usr/bin/env bash
# Journal fields: under systemd (JOURNAL_STREAM names our stderr) alert log lines go to the
# journal with LORAWATCH_NODE and LORAWATCH_ALERT_ID, so `journalctl LORAWATCH_NODE=n1` finds a
# node's story. A stand-in (journal_listen.py) takes the journal's native socket and decodes
# the entries: inside a private mount namespace (unshare -Urm, a tmpfs over /run/systemd/journal)
# wherever user namespaces work, so it runs beside a real journald and without root; else, as
# root on a host without journald (a container without user namespaces), on the real path.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

JSOCK=/run/systemd/journal/socket
LISTEN=$LW_SOURCE_DIR/tests/integration/journal_listen.py
if unshare -Urm true 2>/dev/null; then
  MODE=namespace
elif [ ! -e "$JSOCK" ] && [ "$(id -u)" -eq 0 ]; then
  MODE=host
else
  echo "skipped: no user namespaces here, and a real journald owns $JSOCK or not root"
  exit 77 # reported by ctest as skipped, not passed
fi
echo "journal stand-in: $MODE"

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
export JOURNAL_STREAM
JOURNAL_STREAM=$(stat -c '%d:%i' "$WORK/lorawatchd.log")

if [ $MODE = namespace ]; then
  # In the namespace: cover the journal directory (or the nearest parent that exists) with a
  # tmpfs, start the stand-in there, then become the daemon, so LW_DAEMON_PID is lorawatchd.
  unshare -Urm sh -c '
    for d in /run/systemd/journal /run/systemd /run; do
      [ -d "$d" ] && { mount -t tmpfs lw-journal "$d" || exit 1; break; }
    done
    mkdir -p /run/systemd/journal
    python3 "$1" /run/systemd/journal/socket >"$2" 2>&1 &
    echo $! >"$3"
    i=0
    while [ ! -S /run/systemd/journal/socket ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    exec "$4" -d -f "$5"' sh "$LISTEN" "$WORK/journal.log" "$WORK/listen.pid" \
    "$LW_BIN/lorawatchd" "$WORK/lorawatchd.conf" >>"$WORK/lorawatchd.log" 2>&1 &
  LW_DAEMON_PID=$!
  LW_PIDS+=("$LW_DAEMON_PID")
  lw_wait_for 5 test -s "$WORK/listen.pid" || fail "stand-in not started in the namespace"
  LW_PIDS+=("$(cat "$WORK/listen.pid")")
else
  made_dir=0
  [ -d /run/systemd/journal ] || { mkdir -p /run/systemd/journal && made_dir=1; }
  lw_spawn journal "$WORK/journal.log" python3 "$LISTEN" "$JSOCK"
  # Clean up the stand-in, then hand the test's own exit status on to on_exit.
  trap 'rc=$?; rm -f "$JSOCK"; [ $made_dir -eq 1 ] && rmdir /run/systemd/journal 2>/dev/null
        (exit $rc); on_exit' EXIT
  lw_wait_for 5 test -S "$JSOCK" || fail "stand-in journal socket not created"
  lw_start_daemon "$WORK/lorawatchd.conf"
fi
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon did not start"
grep -q '^<5>' "$WORK/lorawatchd.log" || fail "stderr lines lack journal priority prefixes"
lw_n1_send --set water_mm=150
# entry JQ: a journal entry the stand-in decoded satisfies JQ
entry() { jq -e -s "map(select($1)) | length > 0" "$WORK/journal.log" >/dev/null 2>&1; }
lw_wait_for 5 entry '.LORAWATCH_NODE == "n1"' ||
  fail "no entry with LORAWATCH_NODE=n1: $(head -c 600 "$WORK/journal.log")"
entry '.LORAWATCH_NODE == "n1" and .LORAWATCH_ALERT_ID == "1"' || fail "no LORAWATCH_ALERT_ID=1 field"
entry '.LORAWATCH_NODE == "n1" and .PRIORITY == "5" and .SYSLOG_IDENTIFIER == "lorawatchd" and
       (.MESSAGE | length > 0)' || fail "no PRIORITY=5, SYSLOG_IDENTIFIER or MESSAGE: $(cat "$WORK/journal.log")"
entry 'has("_MALFORMED")' && fail "malformed journal entries: $(grep _MALFORMED "$WORK/journal.log")"
lw_stop_daemon
pass "alert lines reach the journal with LORAWATCH_NODE, LORAWATCH_ALERT_ID, PRIORITY and MESSAGE ($MODE stand-in)"
