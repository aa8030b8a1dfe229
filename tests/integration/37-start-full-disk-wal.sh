#!/usr/bin/env bash
# Fault: lorawatchd is killed (SIGKILL) with a WAL to recover and starts again on a full disk.
# Its first read must rebuild the WAL index (the -shm file), which needs room. With the ballast
# kept beside the database it gives that up and comes up at once; without one (given up before
# the kill) it waits for room for a few seconds instead of calling the database unreadable and
# exiting, and comes up when a filler goes. Nothing stored before the kill is lost.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/diskfull-lib.sh"
diskfull_enter "$@"
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/fault-lib.sh"

MNT=$WORK/dbfs
diskfull_setup "$MNT" $((2 * 1024 * 1024))
fault_start_broker "$WORK"
diskfull_conf wal <<EOC
[gateway]
clock_check = none
[storage]
batch_interval = 50ms
EOC
# kill_with_wal N: N readings stored, then SIGKILL; the WAL keeps them (no checkpoint at exit).
kill_with_wal() {
  lw_n1_send --set water_mm=5 --count "$1" --interval 100ms --fcnt-start "$2"
  lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$DB' 'SELECT count(*) FROM readings') -ge $3 ]" ||
    fail "readings not stored"
  kill -KILL "$LW_DAEMON_PID"
  wait "$LW_DAEMON_PID" 2>/dev/null || true
  [ -s "$DB-wal" ] || fail "no WAL left by the kill: the test did not reach its case"
  # What a failed open leaves behind: an index file cut to nothing, to be rebuilt.
  truncate -s 3 "$DB-shm"
}

diskfull_start_daemon
[ -e "$DB-ballast" ] || fail "no ballast beside the database"
kill_with_wal 300 1 300
diskfull_fill
diskfull_start_daemon 0
lw_wait_for 10 sh -c "[ \$(grep -c 'mqtt: connected' '$WORK/lorawatchd.log') -ge 2 ]" ||
  fail "daemon did not come up on the full disk with its ballast: $(tail -n 3 "$WORK/lorawatchd.log")"
grep -q 'no room to open .*ballast released' "$WORK/lorawatchd.log" ||
  fail "the ballast was not what made room: $(grep -i 'room\|ballast' "$WORK/lorawatchd.log" | tail -n 3)"
pass "came up on the full disk: the ballast made room for the WAL index"

# Again, with no ballast left: it waits for room instead of exiting.
diskfull_free
# Readings are shed until the database takes writes again (room for the ballast, a probe).
lw_wait_for 15 grep -q 'database: writable again' "$WORK/lorawatchd.log" ||
  fail "the database did not take writes again after the disk was freed"
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$DB' 'SELECT count(*) FROM readings') -ge 300 ]" ||
  fail "readings gone after the first restart"
kill_with_wal 300 400 600
rm -f "$DB-ballast"
diskfull_fill
diskfull_start_daemon 0
sleep 3
kill -0 "$LW_DAEMON_PID" 2>/dev/null ||
  fail "lorawatchd exited on the full disk: $(tail -n 3 "$WORK/lorawatchd.log")"
grep -q 'no room to open .*waiting up to' "$WORK/lorawatchd.log" ||
  fail "no word of the wait: $(tail -n 3 "$WORK/lorawatchd.log")"
diskfull_free
lw_wait_for 10 sh -c "[ \$(grep -c 'mqtt: connected' '$WORK/lorawatchd.log') -ge 3 ]" ||
  fail "daemon did not come up once the disk had room: $(tail -n 3 "$WORK/lorawatchd.log")"
n=$(q 'SELECT count(*) FROM readings')
[ "$n" -ge 600 ] || fail "$n readings after the restarts, 600 stored before the kills"
pass "waited for room, came up when the filler went; all $n readings kept"
lw_stop_daemon
