#!/usr/bin/env bash
# Rollups after a crash: lorawatchd holds each node's current hour and day in memory and writes
# them when the node moves on, every minute or at exit. Killed with SIGKILL, it loses what it held
# from the rollups (never from the readings); on restart it rolls those readings back in before
# anything else, so every hourly row equals brute-force SQL over the raw readings again: count,
# sum, min, max and the time above the blue level, without counting a reading twice.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

lw_start_broker "$WORK"
lw_capture all 'lorawatch/rollups/#'
# A synchronised clock (readings stored before synchronisation join the rollups only when
# their time is corrected: test 10).
lw_one_node_conf rollups <<EOC
[gateway]
clock_check = none
[storage]
batch_interval = 50ms
[rule:watch]
metric = water_mm
threshold = 76
clear = 40
level = blue
EOC
q() { sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" "$1"; }
rows() { q 'SELECT count(*) FROM readings'; }
send() { # send FCNT COUNT: a flood rising to 200 mm and falling
  lw_n1_send --set "water_mm=0@0s 200@60s 0@120s" --interval 1s --fcnt-start "$1" --count "$2"
}
start() {
  lw_start_daemon "$WORK/lorawatchd.conf"
  lw_wait_for 10 grep -q 'connected to' "$WORK/lorawatchd.log" ||
    fail "daemon did not start: $(tail -n 5 "$WORK/lorawatchd.log")"
}
# Hours whose rollup row differs from brute force, plus rows without readings.
BRUTE="WITH x AS (SELECT node, ts_ms, water_mm AS v, min(ts_ms - lag(ts_ms) OVER (PARTITION BY
  node ORDER BY ts_ms), 900000) AS dt FROM readings), g AS (SELECT node, (ts_ms / 3600000) *
  3600000 AS t, count(*) AS frames, count(v) AS n, sum(v) AS vsum, min(v) AS vmin, max(v) AS vmax,
  sum(CASE WHEN v >= 76 THEN coalesce(dt, 0) ELSE 0 END) AS ab FROM x GROUP BY 1, 2)"
check() { # check WHEN
  local bad extra
  bad=$(q "$BRUTE SELECT count(*) FROM g LEFT JOIN rollup_hour h ON h.node = g.node AND h.t_ms =
    g.t WHERE h.node IS NULL OR h.frames <> g.frames OR h.n <> g.n OR h.vsum <> g.vsum OR
    h.vmin <> g.vmin OR h.vmax <> g.vmax OR h.above_blue <> g.ab")
  extra=$(q "$BRUTE SELECT (SELECT count(*) FROM rollup_hour) - (SELECT count(*) FROM g)")
  [ "$bad" -eq 0 ] && [ "$extra" -eq 0 ] ||
    fail "$1: $bad hourly rows differ from brute force, $extra rows without readings: $(q 'SELECT t_ms, frames, n, vsum, above_blue FROM rollup_hour')"
  [ "$(q 'SELECT sum(frames) FROM rollup_day')" -eq "$(rows)" ] ||
    fail "$1: daily rollups count $(q 'SELECT sum(frames) FROM rollup_day') of $(rows) readings"
}
kill9() {
  kill -KILL "$LW_DAEMON_PID"
  wait "$LW_DAEMON_PID" 2>/dev/null || true
}

start
send 1 150
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 2000' '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq 150 ]" ||
  fail "readings not stored: $(rows) of 150"
kill9
held=$(( $(rows) - $(q 'SELECT coalesce(sum(frames), 0) FROM rollup_hour') ))
pass "killed with 150 readings committed, $held of them not yet in the rollups (held in memory)"

start
# Recovered at start-up, before the daemon takes any frame: the rollups match at once.
[ "$held" -eq 0 ] || grep -q "rollups: $held readings not yet in the rollups added" "$WORK/lorawatchd.log" ||
  fail "no recovery logged: $(grep rollups "$WORK/lorawatchd.log")"
check "after the first restart"
[ "$(q 'SELECT sum(above_blue) FROM rollup_hour')" -gt 0 ] || fail "no time above the blue level"
pass "restart: the $held readings rolled up again, every hour equals brute force"

send 151 150
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 2000' '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq 300 ]" ||
  fail "readings not stored: $(rows) of 300"
kill9
start
check "after the second restart"
send 301 50
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 2000' '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq 350 ]" ||
  fail "readings not stored: $(rows) of 350"
lw_stop_daemon
check "after SIGTERM"
pass "two SIGKILLs and a stop: $(rows) readings, rollups equal brute force, none counted twice"
lw_validate_captured "$WORK/all.mqtt"
