#!/usr/bin/env bash
# The duty roster as it was: start-up journals the roster of the configuration, a SIGHUP reload
# with a renamed and a removed person closes their periods and opens the new one, an unchanged
# reload writes nothing. lorawatch alerts names the people told and who acknowledged as they
# were then (also after the rename), and so does the season report.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

lw_start_broker "$WORK"
SOCK=$WORK/control.sock
UDP=$(lw_free_port udp)
K1=11111111111111111111111111111111
conf() { # conf ROOM_NAME [OFFICE]: the configuration, with the duty room called ROOM_NAME
  cat >"$WORK/lorawatchd.conf" <<EOF
[gateway]
site = roster
database = $WORK/lw.db
control_socket = $SOCK
control_group =
clock_check = none
[radio]
sim_listen = 127.0.0.1:$UDP
[mqtt]
port = $LW_MQTT_PORT
[alerts]
escalate_after = 4s
remind_every = 0
[rule:deep]
metric = water_mm
threshold = 100
clear = 50
level = red
[node:n1]
address = 1
eui = 70B3D57ED0000001
key = $K1
kind = water
building = B1
grid = G1
[duty:wang]
name = 张伟
tier = 1
grids = G1
phone = 138 0000 0001
[duty:room]
name = $1
tier = 2
EOF
  if [ -n "${2:-}" ]; then
    printf '[duty:office]\nname = Street office\ntier = 3\nmqtt_user = office-1\n' >>"$WORK/lorawatchd.conf"
  fi
  chmod 600 "$WORK/lorawatchd.conf"
}
q() { sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" "$1"; }
LW=("$LW_BIN/lorawatch")

conf 王芳 office
"$LW_BIN/lorawatchd" -n -f "$WORK/lorawatchd.conf" >/dev/null || fail "config refused"
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 test -S "$SOCK" || fail "daemon did not start"
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "no broker connection"

# ---- start-up: everyone journalled, once ----------------------------------------------------
[ "$(q "SELECT group_concat(person || '=' || name || '/' || tier, ' ') FROM (SELECT * FROM roster_journal WHERE to_ms IS NULL ORDER BY person)")" = \
  "office=Street office/3 room=王芳/2 wang=张伟/1" ] || fail "start-up roster: $(q 'SELECT * FROM roster_journal')"
[ "$(q "SELECT phone || '|' || grids || '|' || mqtt_user FROM roster_journal WHERE person = 'wang'")" = "138 0000 0001|G1|wang" ] ||
  fail "person's details not journalled"
grep -q 'duty roster journalled: 3 rows written' "$WORK/lorawatchd.log" || fail "start-up journal not logged"
pass "start-up journals the roster"

# ---- an alert told to both tiers, acknowledged by the duty room ----------------------------
"$LW_BIN/lorawatch-sim" -q --gateway "127.0.0.1:$UDP" --network-id 0x4C57 --address 1 \
  --eui 70B3D57ED0000001 --key $K1 --kind water --set water_mm=150 --fcnt-start 1 \
  --acceleration 0 || fail "lorawatch-sim failed"
escalated() { [ "$(q "SELECT count(*) FROM alert_journal WHERE alert = 1 AND event = 'escalated'")" -ge 1 ]; }
acked() { [ "$(q "SELECT acked_by FROM alerts WHERE id = 1")" = room ]; }
lw_wait_for 10 escalated || fail "alert not escalated to the duty room"
# Acknowledged before it goes up to the office.
mosquitto_pub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -t lorawatch/roster/command/room \
  -m '{"cmd":"ack","alert":1,"id":"r1"}'
lw_wait_for 3 acked || fail "not acknowledged"
"${LW[@]}" alerts -s "$SOCK" -c "$WORK/lorawatchd.conf" >"$WORK/alerts.txt" || fail "lorawatch alerts"
grep -q '^ *told: 张伟 (grid worker), 王芳 (duty room)$' "$WORK/alerts.txt" ||
  fail "alerts does not name who was told: $(cat "$WORK/alerts.txt")"
grep -q '^1 .* 王芳 ' "$WORK/alerts.txt" || fail "acknowledged by: no name: $(cat "$WORK/alerts.txt")"
pass "alerts names who was told, by tier, and who acknowledged"

# ---- reload: the duty room renamed, the office removed -------------------------------------
conf 李娜
kill -HUP "$LW_DAEMON_PID"
lw_wait_for 10 grep -q 'configuration reloaded' "$WORK/lorawatchd.log" || fail "no reload"
[ "$(q "SELECT group_concat(name || ':' || (to_ms IS NULL), ' ') FROM (SELECT * FROM roster_journal WHERE person = 'room' ORDER BY id)")" = \
  "王芳:0 李娜:1" ] || fail "rename not journalled: $(q 'SELECT * FROM roster_journal')"
[ "$(q "SELECT to_ms FROM roster_journal WHERE person = 'room' AND name = '王芳'")" = \
  "$(q "SELECT from_ms FROM roster_journal WHERE person = 'room' AND name = '李娜'")" ] ||
  fail "the new period does not start where the old one ended"
[ "$(q "SELECT to_ms IS NOT NULL FROM roster_journal WHERE person = 'office'")" = 1 ] ||
  fail "removed person's period not closed"
[ "$(q "SELECT count(*) FROM roster_journal WHERE person = 'wang'")" = 1 ] || fail "unchanged person written again"
[ "$(q "SELECT count(*) FROM roster_journal")" = 4 ] || fail "rows after reload: $(q 'SELECT * FROM roster_journal')"
pass "reload journals a rename and a removal, nothing for the unchanged"

reloads() { [ "$(grep -c 'configuration reloaded' "$WORK/lorawatchd.log")" -ge "$1" ]; }
kill -HUP "$LW_DAEMON_PID"
lw_wait_for 10 reloads 2 || fail "no second reload"
[ "$(q "SELECT count(*) FROM roster_journal")" = 4 ] || fail "an unchanged reload wrote rows"
pass "an unchanged reload writes nothing"

# ---- names as they were, after the rename --------------------------------------------------
"${LW[@]}" alerts -s "$SOCK" -c "$WORK/lorawatchd.conf" >"$WORK/alerts.txt" || fail "lorawatch alerts"
grep -q '^1 .* 王芳 ' "$WORK/alerts.txt" || fail "acknowledged by: not the name then: $(cat "$WORK/alerts.txt")"
grep -q '^ *told: 张伟 (grid worker), 王芳 (duty room)$' "$WORK/alerts.txt" ||
  fail "told: not the names then: $(cat "$WORK/alerts.txt")"
"${LW[@]}" alerts -s "$SOCK" --db "$WORK/lw.db" --json |
  jq -e '.alerts[0] | .acked_by == "room" and .acked_by_name == "王芳" and
         ([.told[] | "\(.id)=\(.name)/\(.tier)"] == ["wang=张伟/1", "room=王芳/2"])' >/dev/null ||
  fail "alerts --json: $("${LW[@]}" alerts -s "$SOCK" --db "$WORK/lw.db" --json)"
# Without the database (another socket than the default configuration's): ids, no told lines.
"${LW[@]}" alerts -s "$SOCK" >"$WORK/alerts.txt" || fail "lorawatch alerts without names"
grep -q '^1 .* room ' "$WORK/alerts.txt" && ! grep -q 'told:' "$WORK/alerts.txt" ||
  fail "alerts without the database: $(cat "$WORK/alerts.txt")"
"${LW[@]}" report --db "$WORK/lw.db" --from -1d --to now --format json -o - >"$WORK/report.json" ||
  fail "lorawatch report"
jq -e '.response_by_worker.rows == [["王芳", 1, .response_by_worker.rows[0][2], .response_by_worker.rows[0][3], .response_by_worker.rows[0][4], "room"]]' \
  "$WORK/report.json" >/dev/null || fail "report: $(jq -c .response_by_worker "$WORK/report.json")"
pass "alerts and the report name people as they were"

lw_stop_daemon
