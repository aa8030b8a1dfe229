#!/usr/bin/env bash
# Time without a real-time clock: until the clock is known to be synchronised (here a flag file,
# as systemd-timesyncd writes one), readings are stored marked, with their monotonic time; when
# the flag appears they are corrected in one go, and later readings are stored unmarked. Corrected
# readings are rolled up like any other (history by the hour, the season report), also when the
# daemon was killed before the rollups were written, or stopped before the clock synchronised.
# What the alert side wrote meanwhile (alerts, journal, incidents) is corrected with them.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
: "${LW_TESTBIN:?}"

lw_start_broker "$WORK"
lw_capture all 'lorawatch/rtc/#'
lw_one_node_conf rtc <<EOC
[gateway]
clock_check = $WORK/synchronized
control_socket = $WORK/control.sock
control_group =
[storage]
batch_interval = 50ms
[rule:watch]
metric = water_mm
threshold = 10
clear = 5
level = blue
EOC
send() { lw_n1_send --set water_mm=12 --fcnt-start "$1" --count "$2"; } # send FCNT COUNT
q() { sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" "$1"; }
# Until it synchronises, the daemon's wall clock is three days behind, as on a Pi without a
# real-time clock that restored the time of its last shutdown (the clock_shift.so preload shifts
# it for lorawatchd alone); the synchronisation puts it right.
SHIFT=$WORK/shift_ms
start() {
  # An ASan build wants its runtime first in the preload list; the shim may come first here.
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
    LD_PRELOAD=$LW_TESTBIN/clock_shift.so LW_CLOCK_SHIFT_FILE=$SHIFT lw_start_daemon "$WORK/lorawatchd.conf"
  lw_wait_for 10 grep -q 'connected to' "$WORK/lorawatchd.log" || fail "daemon did not start"
}
kill9() {
  kill -KILL "$LW_DAEMON_PID"
  wait "$LW_DAEMON_PID" 2>/dev/null || true
}
unsynced() { rm -f "$WORK/synchronized"; echo $((-3 * 86400000)) >"$SHIFT"; }
synced() { echo 0 >"$SHIFT"; touch "$WORK/synchronized"; }
# The corrected readings (time_quality 2) must lie within 2 s of when they were sent.
near() { # near SENT_MS WHAT
  local t drift
  t=$(q "SELECT max(ts_ms) FROM readings WHERE time_quality = 2")
  drift=$(( t > $1 ? t - $1 : $1 - t ))
  [ "$drift" -lt 2000 ] || fail "$2: corrected time is $drift ms from when they were sent"
}
# Rollups equal brute-force SQL over the readings: every hour (count, sum, min, max, time above
# the blue level: a reading stands for the time since the one before, at most 15 min), every
# day's count, and history by the hour counts every reading.
BRUTE="WITH x AS (SELECT node, ts_ms, water_mm AS v, min(ts_ms - lag(ts_ms) OVER (PARTITION BY
  node ORDER BY ts_ms), 900000) AS dt FROM readings), g AS (SELECT node, (ts_ms / 3600000) *
  3600000 AS t, count(*) AS frames, count(v) AS n, sum(v) AS vsum, min(v) AS vmin, max(v) AS vmax,
  sum(CASE WHEN v >= 10 THEN coalesce(dt, 0) ELSE 0 END) AS ab FROM x GROUP BY 1, 2)"
check_rollups() { # check_rollups WHEN
  local bad extra all from to hours
  all=$(q 'SELECT count(*) FROM readings')
  bad=$(q "$BRUTE SELECT count(*) FROM g LEFT JOIN rollup_hour h ON h.node = g.node AND
    h.t_ms = g.t WHERE h.node IS NULL OR h.frames <> g.frames OR h.n <> g.n OR
    h.vsum <> g.vsum OR h.vmin <> g.vmin OR h.vmax <> g.vmax OR h.above_blue <> g.ab")
  extra=$(q "$BRUTE SELECT (SELECT count(*) FROM rollup_hour) - (SELECT count(*) FROM g)")
  [ "$bad" -eq 0 ] && [ "$extra" -eq 0 ] ||
    fail "$1: $bad hourly rows differ from brute force, $extra without readings: $(q 'SELECT node, t_ms, frames, above_blue FROM rollup_hour') vs $(q "$BRUTE SELECT * FROM g")"
  [ "$(q 'SELECT coalesce(sum(frames), 0) FROM rollup_day')" -eq "$all" ] ||
    fail "$1: daily rollups count $(q 'SELECT coalesce(sum(frames), 0) FROM rollup_day') of $all readings"
  from=$(q 'SELECT min(ts_ms) / 1000 - 7200 FROM readings')
  to=$(q 'SELECT max(ts_ms) / 1000 + 7200 FROM readings')
  "$LW_BIN/lorawatch" history --db "$WORK/lw.db" --node n1 --from "@$from" --to "@$to" \
    --every hour --csv >"$WORK/hours.csv" 2>&1 || fail "$1: history --every hour: $(cat "$WORK/hours.csv")"
  hours=$(tail -n +2 "$WORK/hours.csv" | awk -F, '{ s += $5 } END { print s + 0 }')
  [ "$hours" -eq "$all" ] ||
    fail "$1: history --every hour shows $hours of $all readings: $(cat "$WORK/hours.csv")"
}

unsynced
start
grep -q 'wall clock not synchronised' "$WORK/lorawatchd.log" || fail "unsynchronised clock not noticed"
sent=$(date +%s%3N)
send 1 3
lw_wait_for 5 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings WHERE time_quality = 1 AND mono_ms IS NOT NULL') -eq 3 ]" ||
  fail "readings before synchronisation not marked"
pass "3 readings stored marked as received before synchronisation"

synced
lw_wait_for 10 grep -q 'wall clock synchronised: 3 readings received before it corrected' \
  "$WORK/lorawatchd.log" || fail "no correction after the clock synchronised"
[ "$(q 'SELECT count(*) FROM readings WHERE time_quality = 2 AND mono_ms IS NULL')" -eq 3 ] ||
  fail "readings not marked corrected"
near "$sent" "synchronised while running"
pass "corrected once synchronised"
# The blue alert raised on those readings is on the corrected time line too: its row, its
# journal, and `lorawatch events` over the hours it really happened in.
raised=$(q "SELECT raised_ms FROM alerts WHERE id = 1")
[ -n "$raised" ] && [ $(( raised > sent ? raised - sent : sent - raised )) -lt 5000 ] ||
  fail "alert raised before synchronisation: raised at $(q "SELECT datetime(raised_ms / 1000, 'unixepoch') FROM alerts"), sent at $(date -ud "@$((sent / 1000))")"
[ "$(q "SELECT count(*) FROM alert_journal WHERE ts_ms < $sent - 5000")" -eq 0 ] ||
  fail "journal rows before synchronisation left uncorrected: $(q 'SELECT event, datetime(ts_ms / 1000, "unixepoch") FROM alert_journal')"
"$LW_BIN/lorawatch" events --db "$WORK/lw.db" --from "@$((sent / 1000 - 60))" --to "@$((sent / 1000 + 600))" \
  >"$WORK/events.txt" 2>&1 || fail "lorawatch events: $(cat "$WORK/events.txt")"
grep -q 'raised .* blue' "$WORK/events.txt" || fail "lorawatch events does not show the alert: $(cat "$WORK/events.txt")"
# Its retained state on alert/1 (still open) is published again with the corrected time.
lw_wait_for 5 sh -c "grep '^lorawatch/rtc/alert/1 ' '$WORK/all.mqtt' | tail -n 1 | cut -d' ' -f2- | sed '/^(null)$/d' |
  jq -e '.state == \"raised\" and (.time_ms - $sent | fabs) < 5000' >/dev/null" ||
  fail "alert/1 still says it was raised at $(grep '^lorawatch/rtc/alert/1 ' "$WORK/all.mqtt" | tail -n 1 | cut -d' ' -f2- | sed '/^(null)$/d' | jq -r .raised)"
pass "the alert raised before synchronisation corrected with its readings"
send 4 1
lw_wait_for 5 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings WHERE time_quality IS NULL') -eq 1 ]" ||
  fail "reading after synchronisation still marked"
pass "readings after synchronisation unmarked"
lw_stop_daemon
check_rollups "synchronised while running"
pass "corrected readings in the hourly and daily rollups and in history --every hour"

# Killed before the corrected readings reached the rollup tables (a node's hour is held in memory
# until it is over or a minute has passed): the restart rolls them in.
unsynced
start
send 5 2
lw_wait_for 5 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings WHERE time_quality = 1') -eq 2 ]" ||
  fail "readings of the second run not marked"
synced
lw_wait_for 10 grep -q 'wall clock synchronised: 2 readings received before it corrected' \
  "$WORK/lorawatchd.log" || fail "no correction in the second run"
kill9
start
check_rollups "killed after the correction"
pass "killed after the correction: the corrected readings rolled up at the restart"

# The daemon restarted before the clock synchronised and was killed again; the clock synchronised
# while it was down (same boot): its next start corrects them.
kill9
unsynced
start
sent=$(date +%s%3N)
send 7 2
lw_wait_for 5 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings WHERE time_quality = 1') -eq 2 ]" ||
  fail "readings of the third run not marked"
# The open alert is acknowledged meanwhile: its acknowledgement is corrected at the next start.
"$LW_BIN/lorawatch" ack 1 -s "$WORK/control.sock" >"$WORK/ack.txt" 2>&1 || fail "lorawatch ack: $(cat "$WORK/ack.txt")"
kill9
synced
start
acked=$(q "SELECT acked_ms FROM alerts WHERE id = 1")
[ -n "$acked" ] && [ $(( acked > sent ? acked - sent : sent - acked )) -lt 10000 ] ||
  fail "acknowledgement before synchronisation: at $(q "SELECT datetime(acked_ms / 1000, 'unixepoch') FROM alerts"), not corrected at the start"
lw_wait_for 10 grep -q 'wall clock synchronised: 2 readings received before it corrected' \
  "$WORK/lorawatchd.log" || fail "readings of an earlier run not corrected at the start"
[ "$(q 'SELECT count(*) FROM readings WHERE time_quality = 2')" -eq 7 ] ||
  fail "$(q 'SELECT count(*) FROM readings WHERE time_quality = 1') readings still pending"
near "$sent" "synchronised while stopped"
pass "synchronised while the daemon was down: corrected at its start"
send 9 1
lw_wait_for 5 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq 9 ]" ||
  fail "reading after the start not stored"
lw_stop_daemon
check_rollups "synchronised while stopped"
pass "and rolled up like any other"
# Whatever each run wrote on the alert side before its clock synchronised (also at a start, and
# by a run the clock synchronised after) lies after the first reading, not three days back.
first=$(q 'SELECT min(ts_ms) - 5000 FROM readings')
old=$(q "SELECT (SELECT count(*) FROM alerts WHERE raised_ms < $first OR cleared_ms < $first OR
  acked_ms < $first) + (SELECT count(*) FROM alert_journal WHERE ts_ms < $first) + (SELECT
  count(*) FROM incidents WHERE opened_ms < $first OR closed_ms < $first) + (SELECT count(*)
  FROM outbox_sent WHERE acked_ms < $first) + (SELECT count(*) FROM clock_pending)")
[ "$old" -eq 0 ] || fail "$old alert-side times left before the first reading (or pending)"
pass "alert, journal, incident and sent-message times of every run corrected"

# clock_check = kernel: the daemon trusts the clock when the kernel's maximum error estimate
# (adjtimex, read-only) is under 16 s; its verdict must be the kernel's, whichever it is here.
sed -i "s|^clock_check = .*|clock_check = kernel|" "$WORK/lorawatchd.conf"
maxerr=$(python3 -c 'import ctypes, struct
b = ctypes.create_string_buffer(1024)
assert ctypes.CDLL(None).adjtimex(b) != -1
print(struct.unpack_from("l", b, 24)[0])') || fail "adjtimex unreadable"
echo 0 >"$SHIFT"
start
if [ "$maxerr" -lt 16000000 ]; then
  ! grep -q 'wall clock not synchronised' "$WORK/lorawatchd.log" ||
    fail "clock_check = kernel: maxerror $maxerr us, yet taken as unsynchronised"
else
  grep -q 'wall clock not synchronised (clock_check = kernel)' "$WORK/lorawatchd.log" ||
    fail "clock_check = kernel: maxerror $maxerr us, yet taken as synchronised"
fi
lw_stop_daemon
pass "clock_check = kernel agrees with the kernel (maxerror $maxerr us)"
lw_validate_captured "$WORK/all.mqtt"
