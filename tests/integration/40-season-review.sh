#!/usr/bin/env bash
# The season review from the database file: a small generated season (bench_season, through
# lw_store) read back by lorawatch history, events and report, figures checked against
# brute-force SQL; bad input gives one line on stderr and the documented exit status; backup
# makes a consistent copy while lorawatchd is writing.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
: >"$WORK/test.log"
GEN=${LW_BENCH_BIN:-$LW_BIN}/bench_season
[ -x "$GEN" ] || { echo "SKIP: bench_season not built (-DLW_BENCH=OFF)"; exit 77; }
L=$LW_BIN/lorawatch
DB=$WORK/season.db
"$GEN" generate --db "$DB" --nodes 20 --days 10 --seed 7 >"$WORK/gen.log" || fail "generator failed"
q() { sqlite3 "$DB" "$1"; }
pass "generated: $(cat "$WORK/gen.log")"

# One node-day raw: as many CSV rows as readings.
FROM=2025-05-03 TO=2025-05-04
from_ms=$("$L" history --db "$DB" --node n003 --from 2025-05-03 --to 2025-05-03T00:01 --csv | sed -n 2p | cut -d, -f1)
n=$("$L" history --db "$DB" --node n003 --from $FROM --to $TO --csv | tail -n +2 | wc -l)
want=$(q "SELECT count(*) FROM readings WHERE node = 3 AND ts_ms >= $((from_ms - 60000)) AND ts_ms < $((from_ms - 60000 + 86400000))")
[ "$n" -gt 250 ] && [ $((n - want)) -le 1 ] && [ $((want - n)) -le 1 ] || fail "node-day raw: $n rows, database has about $want"
pass "history raw: $n readings of n003 for one day"

# Hourly: count, max and mean of every hour equal brute force over the raw readings.
"$L" history --db "$DB" --node n003 --from 2025-05-01 --to 2025-05-11 --every hour --csv >"$WORK/hours.csv"
bad=0 rows=0
while IFS=, read -r t _ _ _ n mn mean mx _; do
  rows=$((rows + 1))
  b=$(q "SELECT count(water_mm) || ',' || max(water_mm) || ',' || round(avg(water_mm), 3) FROM readings WHERE node = 3 AND ts_ms >= $t AND ts_ms < $t + 3600000")
  got="$n,$mx,$(printf '%.3f' "$mean")"
  [ "$got" = "$(echo "$b" | awk -F, '{ printf "%s,%s,%.3f", $1, $2, $3 }')" ] || { bad=$((bad + 1)); echo "hour $t: $got vs $b"; }
done < <(tail -n +2 "$WORK/hours.csv")
[ "$rows" -gt 200 ] && [ "$bad" -eq 0 ] || fail "$bad of $rows hourly rows differ from brute force"
pass "history --every hour: $rows hours equal brute-force SQL"

# Events: every journal row of the range, acknowledgements with their delay.
# The season starts 2025-05-01T00:00+08:00 (1746028800000) whatever this machine's zone.
S=2025-05-01T00:00:00+08:00 E=2025-05-11T00:00:00+08:00
ev=$("$L" events --db "$DB" --from $S --to $E --json | jq length)
want=$(q "SELECT (SELECT count(*) FROM alert_journal WHERE ts_ms >= 1746028800000 AND ts_ms < 1746892800000) + (SELECT count(*) FROM maintenance WHERE ts_ms >= 1746028800000 AND ts_ms < 1746892800000)")
[ "$ev" -eq "$want" ] || fail "events: $ev rows, journals hold $want"
"$L" events --db "$DB" --from $S --to $E --json |
  jq -e 'map(select(.event == "acknowledged")) | length > 0 and all(.after_s >= 0 and .actor != null)' >/dev/null ||
  fail "acknowledgements without actor or delay"
pass "events: $ev rows, acknowledgements with who and after how long"

# Report: HTML with charts, CSV and JSON with the same tables.
"$L" report --db "$DB" --from 2025-05-01 --to 2025-05-11 -o "$WORK/season.html" || fail "report failed"
grep -q '<svg' "$WORK/season.html" && grep -q '</html>' "$WORK/season.html" || fail "report without charts"
! grep -Eq '(src|href)=' "$WORK/season.html" || fail "report loads something from outside"
"$L" report --db "$DB" --from 2025-05-01 --to 2025-05-11 -o "$WORK/season.json" --format json
jq -e '.flood_events.rows | length > 0' "$WORK/season.json" >/dev/null || fail "no flood events in JSON"
"$L" report --db "$DB" --from 2025-05-01 --to 2025-05-11 -o "$WORK/season.csv" --format csv ||
  fail "CSV report failed"
grep -q '^# false_alarms' "$WORK/season.csv" && grep -q '^# test_alarms' "$WORK/season.csv" ||
  fail "CSV lacks a table"
pass "report: HTML $(wc -c <"$WORK/season.html") bytes, JSON and CSV tables"

# Bad input: one line on stderr, documented exit status.
expect() { # expect STATUS DESCRIPTION COMMAND...
  local want=$1 what=$2 rc=0
  shift 2
  "$@" >/dev/null 2>"$WORK/err.txt" || rc=$?
  [ "$rc" -eq "$want" ] || fail "$what: exit $rc, expected $want ($(cat "$WORK/err.txt"))"
  [ "$(wc -l <"$WORK/err.txt")" -eq 1 ] || fail "$what: not one line: $(cat "$WORK/err.txt")"
}
expect 4 "unknown node" "$L" history --db "$DB" --node nosuch
expect 4 "unknown place" "$L" report --db "$DB" --from 2025-05-01 --to 2025-05-02 -o "$WORK/x.html" --place nowhere
expect 2 "inverted range" "$L" history --db "$DB" --node n003 --from 2025-05-03 --to 2025-05-01
expect 2 "malformed time" "$L" events --db "$DB" --from 2025-05-32
expect 2 "malformed step" "$L" history --db "$DB" --node n003 --every fortnight
cp "$DB" "$WORK/newer.db"
sqlite3 "$WORK/newer.db" 'PRAGMA user_version = 99'
expect 1 "newer schema" "$L" history --db "$WORK/newer.db" --node n003
head -c 65536 /dev/urandom >"$WORK/corrupt.db"
expect 1 "corrupt file" "$L" report --db "$WORK/corrupt.db" --from 2025-05-01 --to 2025-05-02 -o "$WORK/x.html"
expect 1 "missing file" "$L" events --db "$WORK/none.db"
[ ! -e "$WORK/x.html" ] || fail "a failed report left a file"
pass "bad input: one-line errors, exit 4 / 2 / 1"

# Backup while the daemon writes.
lw_start_broker "$WORK"
lw_capture all 'lorawatch/review/#'
lw_one_node_conf review </dev/null
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q "connected to" "$WORK/lorawatchd.log" || fail "daemon not connected"
lw_n1_send --set water_mm=5 --count 3000 --fcnt-start 1 &
sender=$!
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 2000' '$WORK/lw.db' 'SELECT count(*) FROM readings') -ge 50 ]" ||
  fail "no readings stored"
"$L" backup --db "$WORK/lw.db" "$WORK/copy.db" >/dev/null || fail "backup while running"
wait $sender
[ "$(sqlite3 "$WORK/copy.db" 'PRAGMA integrity_check')" = ok ] || fail "backup damaged"
expect 7 "backup over an existing file" "$L" backup --db "$WORK/lw.db" "$WORK/copy.db"
lw_stop_daemon
copied=$(sqlite3 "$WORK/copy.db" 'SELECT count(*) FROM readings')
[ "$copied" -ge 50 ] || fail "backup holds $copied readings"
pass "backup while running: $copied of $(sqlite3 "$WORK/lw.db" 'SELECT count(*) FROM readings') readings, integrity ok"
lw_validate_captured "$WORK/all.mqtt"
