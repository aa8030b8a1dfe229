#!/usr/bin/env bash
# What a technician and a duty operator read from the CLI, checked on its output: the node table
# without invented place prefixes or blank fields; node show with the whole path by name (the
# relays the gateway cannot name counted), the last hop's link labelled as the relay's, frames
# lost from the frame-counter gaps, and the link hour by hour; global options before the command.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mesh-lib.sh"

LW=("$LW_BIN/lorawatch")
SOCK=$WORK/control.sock
mesh_start mesh-chain <<EOC
[gateway]
control_socket = $SOCK
control_group =
[rule:deep]
metric = water_mm
threshold = 100
clear = 50
level = orange
[rule:battery-warn]
metric = battery_mv
direction = below
statistic = days_left
window = 7d
floor = 3000
threshold = 30
clear = 45
level = blue
[rule:smoke]
metric = smoke
threshold = 1
clear = 0
level = red
[node:hall]
address = 0x0B01
eui = 70B3D57ED0000B01
key = 4E7C0A65B8C9FAEBDC3556677889900E
kind = smoke
building = 5
floor = 1
unit = hall
EOC
lw_wait_for 10 test -S "$SOCK" || fail "control socket not created"
mesh_run
sent=$(node_frames garage-b2)
readings_reach 0x0A01 "$sent" || fail "readings of garage-b2"

# ---- global options before the command ---------------------------------------------------------
"${LW[@]}" -s "$SOCK" nodes >"$WORK/nodes.txt" 2>"$WORK/nodes.err" ||
  fail "lorawatch -s SOCK nodes: exit $?: $(cat "$WORK/nodes.err")"
"${LW[@]}" --socket "$SOCK" node show garage-b2 >/dev/null 2>&1 ||
  fail "lorawatch --socket SOCK node show: exit $?"
"${LW[@]}" nodes -s "$SOCK" | cmp -s - "$WORK/nodes.txt" || fail "-s after the command differs"
rc=0
"${LW[@]}" -s "$WORK/nobody.sock" nodes -s "$SOCK" >/dev/null 2>&1 || rc=$?
[ $rc -eq 0 ] || fail "the command's own -s does not win over the global one: exit $rc"
rc=0
"${LW[@]}" -s "$WORK/nobody.sock" nodes >/dev/null 2>&1 || rc=$?
[ $rc -eq 3 ] || fail "global -s to a dead socket: exit $rc, expected 3"
pass "global -s/--socket before the command; the command's own wins; dead socket exit 3"

# ---- nodes: the place as recorded ---------------------------------------------------------------
grep -Eq '^0x0A01 +garage-b2 +water +5/B2 ' "$WORK/nodes.txt" ||
  fail "garage-b2's place is not 5/B2: $(grep garage-b2 "$WORK/nodes.txt")"
grep -Eq '^0x0A13 +relay-roof +water +5 ' "$WORK/nodes.txt" ||
  fail "relay-roof's place is not 5: $(grep relay-roof "$WORK/nodes.txt")"
grep -Eq '^0x0B01 +hall +smoke +5/1/hall +never-heard ' "$WORK/nodes.txt" ||
  fail "hall: $(grep hall "$WORK/nodes.txt")"
grep -q '/F' "$WORK/nodes.txt" && fail "a floor prefix was invented: $(cat "$WORK/nodes.txt")"
grep -Eq 'LOSS 24H$' "$WORK/nodes.txt" || fail "no LOSS 24H column: $(head -1 "$WORK/nodes.txt")"
grep -Eq '^0x0A01 .* 3 +[0-9.]+%$' "$WORK/nodes.txt" ||
  fail "garage-b2: hops and loss: $(grep garage-b2 "$WORK/nodes.txt")"
pass "nodes: places as recorded (5/B2, 5, 5/1/hall), no F prefix, a loss column"

# ---- node show: path, link of the last hop, loss --------------------------------------------------
"${LW[@]}" node show garage-b2 -s "$SOCK" >"$WORK/show.txt" || fail "node show: exit $?"
cat "$WORK/show.txt"
grep -Eq '^  place +building 5, floor B2$' "$WORK/show.txt" ||
  fail "place line: $(grep place "$WORK/show.txt")"
# From the node table: the last relay by name, the two before it counted. When the daemon hands
# its mesh sink to the node commands, the whole route with the scenario's link SNRs instead.
if grep -q '^  hops ' "$WORK/show.txt"; then
  grep -Eq '^  path +garage-b2 -> relay-b1 -> relay-3f -> relay-roof -> gateway \(3 hops\)$' "$WORK/show.txt" &&
    grep -Eq '^  hops +garage-b2 -> relay-b1: relay-b1 heard it at SNR 4 dB$' "$WORK/show.txt" &&
    grep -Eq '^ +relay-3f -> relay-roof: relay-roof heard it at SNR 6 dB$' "$WORK/show.txt" &&
    grep -Eq '^ +relay-roof -> gateway: RSSI -[0-9.]+ dBm, SNR 8\.0 dB$' "$WORK/show.txt" ||
    fail "route: $(grep -A4 path "$WORK/show.txt")"
else
  grep -Eq '^  path +garage-b2 -> \(2 relays not recorded\) -> relay-roof \(0x0A13\) -> gateway \(3 hops\)$' \
    "$WORK/show.txt" || fail "path line: $(grep path "$WORK/show.txt")"
fi
grep -Eq '^  heard +gateway heard relay-roof \(the last relay\) at RSSI -[0-9.]+ dBm, SNR [0-9.-]+ dB' \
  "$WORK/show.txt" || fail "heard line: $(grep heard "$WORK/show.txt")"
grep -q 'unit ,\|grid $\|, ,' "$WORK/show.txt" && fail "blank fields: $(cat "$WORK/show.txt")"
got=$(q "SELECT count(*) FROM readings WHERE node = 2561")
want=$(q "SELECT max(fcnt) - min(fcnt) + 1 FROM readings WHERE node = 2561")
grep -Eq "^  frames 24h +$got of $want frames received \([0-9.]+ % lost\)" "$WORK/show.txt" ||
  fail "frames line (stored $got of $want): $(grep frames "$WORK/show.txt")"
grep -Eq '^  link 24h +RSSI -[0-9]+/-[0-9]+/-[0-9]+ dBm, SNR [0-9.-]+/[0-9.-]+/[0-9.-]+ dB' "$WORK/show.txt" ||
  fail "link 24h line: $(grep 'link 24h' "$WORK/show.txt")"
# 20 minutes of readings: the battery rule's trend needs half its 7-day window.
grep -Eq '^  battery +.*days left not known yet: the trend needs 3\.5 d of readings, has 0\.0 d$' "$WORK/show.txt" ||
  fail "battery line: $(grep battery "$WORK/show.txt")"
"${LW[@]}" node show relay-roof -s "$SOCK" >"$WORK/roof.txt" || fail "node show relay-roof: exit $?"
grep -Eq '^  path +relay-roof -> gateway \(0 hops\)$' "$WORK/roof.txt" &&
  grep -Eq '^  heard +gateway heard relay-roof directly at RSSI' "$WORK/roof.txt" ||
  fail "relay-roof, heard directly: $(cat "$WORK/roof.txt")"
pass "node show: path by name with the unrecorded relays counted, the last relay's link labelled, frames $got/$want"

# ---- node link: hour by hour ----------------------------------------------------------------------
"${LW[@]}" node link garage-b2 -s "$SOCK" >"$WORK/link.txt" || fail "node link: exit $?"
cat "$WORK/link.txt"
grep -Eq '^HOUR +FRAMES +RSSI dBm +SNR dB +HOPS$' "$WORK/link.txt" || fail "link header"
rows=$(grep -Ec '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:00 +[0-9]+/[0-9]+ +-[0-9]+/-[0-9]+/-[0-9]+ ' "$WORK/link.txt")
[ "$rows" -ge 1 ] || fail "no hour rows"
sum=$(awk '$3 ~ /^[0-9]+\/[0-9]+$/ { split($3, a, "/"); s += a[1] } END { print s }' "$WORK/link.txt")
[ "$sum" -eq "$got" ] || fail "hour rows add up to $sum frames, stored $got"
"${LW[@]}" node link garage-b2 -s "$SOCK" --json | jq -e '.node.link_history.hours | length >= 1' >/dev/null ||
  fail "node link --json"
rc=0
"${LW[@]}" node link garage-b2 -s "$SOCK" --since -30d 2>"$WORK/err.txt" || rc=$?
[ $rc -eq 2 ] && grep -q -- '--since -30d' "$WORK/err.txt" || fail "--since -30d: exit $rc: $(cat "$WORK/err.txt")"
rc=0
"${LW[@]}" node link garage-b2 -s "$SOCK" --since yesterday-ish 2>"$WORK/err.txt" || rc=$?
[ $rc -eq 2 ] && grep -q 'yesterday-ish' "$WORK/err.txt" || fail "bad --since: exit $rc"
pass "node link: $rows hour row(s) adding up to the $got stored frames; bad --since exit 2 naming it"

# ---- silence of a node: its own hazards ----------------------------------------------------------
"${LW[@]}" silence -s "$SOCK" --node garage-b2 --for 3h --reason "sensor cleaning" \
  >"$WORK/sil.txt" 2>&1 || fail "silence of a water node without --hazard: exit $?: $(cat "$WORK/sil.txt")"
grep -qx "it holds back the node's own alerts: flood, trouble" "$WORK/sil.txt" ||
  fail "silence output: $(cat "$WORK/sil.txt")"
[ "$(q "SELECT count(*) FROM silences WHERE node = 2561 AND lifted_ms IS NULL")" -eq 1 ] ||
  fail "the water node's silence is not stored"
rc=0
"${LW[@]}" silence -s "$SOCK" --node hall --for 1h --reason x 2>"$WORK/err.txt" || rc=$?
[ $rc -eq 7 ] && grep -q 'never silenced without --force' "$WORK/err.txt" && grep -q 'fire' "$WORK/err.txt" ||
  fail "silence of a smoke node without --force: exit $rc: $(cat "$WORK/err.txt")"
"${LW[@]}" silence -s "$SOCK" --node hall --hazard trouble --for 1h --reason x >/dev/null ||
  fail "silence of a smoke node's trouble alerts: exit $?"
rc=0
"${LW[@]}" silence -s "$SOCK" --building 5 --for 1h --reason x 2>"$WORK/err.txt" || rc=$?
[ $rc -eq 7 ] || fail "a building's silence of every hazard without --force: exit $rc"
pass "silence: a water node's own hazards without --hazard; a smoke node and a building refused without --force"

# ---- events: a readable table, the place as it was -------------------------------------------------
# garage-b2 moves to building 6 (its [node:] section, then a reload): its flood alert stays at 5/B2.
sed -i '/^\[node:garage-b2\]/,/^\[/ s/^building = 5$/building = 6/' "$WORK/lorawatchd.conf"
kill -HUP "$LW_DAEMON_PID"
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \"SELECT count(*) FROM maintenance WHERE action = 'update' AND node = 2561\") -eq 1 ]" ||
  fail "the move was not journalled"
"${LW[@]}" --db "$WORK/lw.db" events --from 2026-07-01 --to now >"$WORK/events.txt" || fail "events: exit $?"
cat "$WORK/events.txt"
head -1 "$WORK/events.txt" | grep -Eq '^TIME +ALERT +EVENT +LEVEL +NODE +PLACE THEN +WHO +DETAIL$' ||
  fail "events header: $(head -1 "$WORK/events.txt")"
[ "$(tail -n +2 "$WORK/events.txt" | grep -Evc '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} ')" -eq 0 ] &&
  [ "$(awk 'length($0) > 200' "$WORK/events.txt" | wc -l)" -eq 0 ] ||
  fail "a line without a local date and time first, or over 200 characters"
grep -Eq '^[-0-9: ]+ #1 +raised +orange flood +garage-b2 +5/B2 ' "$WORK/events.txt" ||
  fail "the alert's place as it was: $(grep raised "$WORK/events.txt")"
grep -Eq '^[-0-9: ]+ - +update +maintenance +garage-b2 +6/B2 .*5/B2 -> 6/B2' "$WORK/events.txt" ||
  fail "the move: $(grep update "$WORK/events.txt")"
pub=$(q "SELECT count(*) FROM alert_journal WHERE alert = 1 AND event = 'published'")
[ "$pub" -ge 2 ] || fail "only $pub published rows in the journal"
[ "$(grep -c ' #1 .*published ' "$WORK/events.txt")" -eq 1 ] &&
  grep -q "$pub messages acknowledged by the broker" "$WORK/events.txt" || fail "published rows not folded"
[ "$("${LW[@]}" --db "$WORK/lw.db" events --from 2026-07-01 --to now -v | grep -c ' #1 .*published ')" -eq "$pub" ] ||
  fail "events -v does not show every published row"
"${LW[@]}" --db "$WORK/lw.db" events --from 2026-07-01 --to now --json | jq -e 'map(select(.event == "published")) | length >= 2' \
  >/dev/null || fail "events --json lost rows"
pass "events: local time first, the alert at 5/B2 after the node moved to 6/B2, $pub published rows as one"

# ---- the review commands without a configuration file -------------------------------------------
if [ -e /etc/lorawatch/lorawatch.conf ]; then
  echo "note: /etc/lorawatch/lorawatch.conf exists: the fallback to the daemon's database is not checked"
else
  "${LW[@]}" -s "$SOCK" history --node garage-b2 --from 2026-07-19 --to 2026-07-21 --csv \
    >"$WORK/hist.csv" 2>"$WORK/hist.err" || fail "history through the daemon: exit $?: $(cat "$WORK/hist.err")"
  [ "$(($(wc -l <"$WORK/hist.csv") - 1))" -eq "$got" ] || fail "history rows: $(wc -l <"$WORK/hist.csv")"
  "${LW[@]}" events --from 2026-07-19 --to 2026-07-21 -s "$SOCK" >/dev/null 2>"$WORK/ev.err" ||
    fail "events through the daemon: exit $?: $(cat "$WORK/ev.err")"
  rc=0
  "${LW[@]}" -s "$WORK/nobody.sock" history --node garage-b2 2>"$WORK/err.txt" || rc=$?
  [ $rc -eq 1 ] && grep -q -- '--db FILE' "$WORK/err.txt" && grep -q 'nobody.sock' "$WORK/err.txt" ||
    fail "no configuration, no daemon: exit $rc: $(cat "$WORK/err.txt")"
fi
"${LW[@]}" --db "$WORK/lw.db" history --node garage-b2 --from 2026-07-19 --to 2026-07-21 --csv |
  cmp -s - "$WORK/hist.csv" || [ -e /etc/lorawatch/lorawatch.conf ] || fail "global --db differs"
"${LW[@]}" --db "$WORK/lw.db" report --from 2026-07-19 --to 2026-07-21 -o "$WORK/r.html" ||
  fail "report with a global --db: exit $?"
pass "history, events, report: --db before the command, or the running daemon's database"

lw_stop_daemon
