#!/usr/bin/env bash
# Time without a real-time clock: until the clock is known to be synchronised (here a flag file,
# as systemd-timesyncd writes one), readings are stored marked, with their monotonic time; when
# the flag appears they are corrected in one go, and later readings are stored unmarked.
. "$(dirname "$0")/common.sh"

lw_start_broker "$WORK"
lw_capture all 'lorawatch/rtc/#'
lw_one_node_conf rtc <<EOC
[gateway]
clock_check = $WORK/synchronized
[storage]
batch_interval = 50ms
EOC
send() { lw_n1_send --set water_mm=12 --fcnt-start "$1" --count "$2"; } # send FCNT COUNT
q() { sqlite3 "$WORK/lw.db" "$1"; }

lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q 'wall clock not synchronised' "$WORK/lorawatchd.log" ||
  fail "unsynchronised clock not noticed"
send 1 3
lw_wait_for 5 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings WHERE time_quality = 1 AND mono_ms IS NOT NULL') -eq 3 ]" ||
  fail "readings before synchronisation not marked"
before=$(q 'SELECT min(ts_ms) FROM readings')
pass "3 readings stored marked as received before synchronisation"

touch "$WORK/synchronized"
lw_wait_for 10 grep -q 'wall clock synchronised: 3 readings received before it corrected' \
  "$WORK/lorawatchd.log" || fail "no correction after the clock synchronised"
[ "$(q 'SELECT count(*) FROM readings WHERE time_quality = 2 AND mono_ms IS NULL')" -eq 3 ] ||
  fail "readings not marked corrected"
after=$(q 'SELECT min(ts_ms) FROM readings')
drift=$(( after > before ? after - before : before - after ))
# This machine's wall clock was right all along, so the correction must land where it was.
[ "$drift" -lt 2000 ] || fail "corrected time moved by $drift ms on a clock that was right"
pass "corrected once synchronised (moved $drift ms)"

send 10 1
lw_wait_for 5 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings WHERE time_quality IS NULL') -eq 1 ]" ||
  fail "reading after synchronisation still marked"
lw_stop_daemon
pass "readings after synchronisation unmarked"
lw_validate_captured "$WORK/all.mqtt"
