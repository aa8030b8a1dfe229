#!/usr/bin/env bash
# Duty escalation with a real broker: an alert reaches the grid worker of the node's sector,
# is repeated while nobody answers, goes up to the duty room after the (shortened) tier
# timeout, and stops there once a duty phone acknowledges it with mosquitto_pub; malformed,
# unknown, repeated, oversized and impersonated commands are answered with an error and change
# nothing; a sector without a worker goes straight to the duty room; an acknowledgement carries
# its outcome into the journal, the alert row and everyone's message (named by roster name); the
# CLI acknowledges as the roster person of the Unix login (or --as), else uid:N; a test alarm
# reaches the worker marked as a test and never escalates; a maintenance silence holds paging back until it expires (fire only with --force); the
# all-clear reaches every tier that was told. Every step is an append-only journal row.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

lw_start_broker "$WORK"
SOCK=$WORK/control.sock
UDP=$(lw_free_port udp)
K1=11111111111111111111111111111111 K2=22222222222222222222222222222222
K3=33333333333333333333333333333333
cat >"$WORK/lorawatchd.conf" <<EOF
[gateway]
site = duty
database = $WORK/lw.db
control_socket = $SOCK
control_group =
clock_check = none
[radio]
sim_listen = 127.0.0.1:$UDP
[mqtt]
port = $LW_MQTT_PORT
[alerts]
escalate_after = 3s
remind_every = 1s
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
[node:n2]
address = 2
eui = 70B3D57ED0000002
key = $K2
kind = water
building = B2
grid = G2
[node:n3]
address = 3
eui = 70B3D57ED0000003
key = $K3
kind = water
building = B3
grid = G1
[duty:wang]
name = Wang Li
tier = 1
grids = G1
[duty:room]
name = Duty room
tier = 2
[duty:office]
name = Street office
tier = 3
mqtt_user = office-1
[duty:$(id -un)]
name = Console operator
tier = 3
mqtt_user = console-op
EOF
chmod 600 "$WORK/lorawatchd.conf"
"$LW_BIN/lorawatchd" -n -f "$WORK/lorawatchd.conf" >/dev/null || fail "config refused"

# Everything the duty side publishes, and the replies, with topics.
mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -v -q 1 -t 'lorawatch/duty/duty/#' \
  -t 'lorawatch/duty/reply/#' >"$WORK/duty.mqtt" 2>/dev/null &
LW_PIDS+=("$!")
# The rest the daemon publishes (not command/#: the test's own malformed commands are there).
lw_capture all 'lorawatch/duty/alert/+' 'lorawatch/duty/gateway/status' 'lorawatch/duty/node/+'
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 test -S "$SOCK" || fail "daemon did not start"
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "no broker connection"
sleep 0.5

send() { # send ADDRESS KEY FCNT WATER
  "$LW_BIN/lorawatch-sim" -q --gateway "127.0.0.1:$UDP" --network-id 0x4C57 --address "$1" \
    --eui "70B3D57ED000000$1" --key "$2" --kind water --set "water_mm=$4" --fcnt-start "$3" \
    --acceleration 0 || fail "lorawatch-sim failed"
}
q() { sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" "$1"; }
# got TOPIC_SUFFIX JQ: a message on lorawatch/duty/TOPIC_SUFFIX whose payload satisfies JQ
got() {
  grep "^lorawatch/duty/$1 " "$WORK/duty.mqtt" | cut -d' ' -f2- | sed '/^(null)$/d' | jq -e -s "map(select($2)) | length > 0" >/dev/null 2>&1
}
cmd() { # cmd USER JSON: a duty phone's command
  mosquitto_pub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -t "lorawatch/duty/command/$1" -m "$2"
}
reply() { # reply USER ID JQ: the reply to request ID satisfies JQ
  lw_wait_for 5 got "reply/$1" "(.id // \"\") == \"$2\" and ($3)"
}
LW=("$LW_BIN/lorawatch")

# ---- tier 1, reminders, escalation to tier 2 -----------------------------------------------
send 1 $K1 1 150
lw_wait_for 5 got duty/person/wang '.id == 1 and .duty.tier == 1 and .duty.kind == "notified"' ||
  fail "grid worker not told"
got duty/tier/1 '.id == 1' || fail "tier 1 topic not told"
got duty/person/room '.id == 1' && fail "duty room told before the timeout"
lw_wait_for 6 got duty/person/room '.id == 1 and .duty.tier == 2 and .duty.kind == "escalated"' ||
  fail "not escalated to the duty room"
got duty/person/wang '.id == 1 and .duty.kind == "reminder" and .duty.reminder >= 1' ||
  fail "no reminder to the worker before escalating"
pass "tier 1 told at once, reminded, escalated to tier 2 after the timeout"

# ---- acknowledgement from a duty phone -----------------------------------------------------
cmd room '{"cmd":"ack","alert":1,"id":"r0","outcome":"on_the_way"}'
reply room r0 '.ok == false and .code == "usage" and (.error | contains("outcome"))' ||
  fail "an unknown outcome was not refused"
# The note reads like a false alarm; the outcome says otherwise, and the outcome counts.
cmd room '{"cmd":"ack","alert":1,"id":"r1","outcome":"on_my_way","note":"误报? 正在去现场"}'
reply room r1 '.ok == true and .alert == 1' || fail "ack not answered: $(cat "$WORK/duty.mqtt" | tail -3)"
[ "$(q "SELECT actor || '|' || tier || '|' || via || '|' || detail || '|' || outcome FROM alert_journal WHERE alert = 1 AND event = 'acknowledged'")" = \
  "room|2|mqtt|误报? 正在去现场|on_my_way" ] || fail "acknowledgement not journalled"
[ "$(q "SELECT acked_by || '|' || ack_outcome FROM alerts WHERE id = 1")" = "room|on_my_way" ] ||
  fail "alert row not acknowledged with its outcome"
lw_wait_for 3 got duty/person/wang '.id == 1 and .duty.kind == "acknowledged" and .duty.by == "room"
    and .duty.by_name == "Duty room" and .duty.outcome == "on_my_way"
    and (.text_zh | contains("由Duty room（社区值班室）确认：正在赶往现场"))
    and (.text_en | contains("by Duty room (community duty room): on the way"))' ||
  fail "the worker was not told who acknowledged and what they said"
got duty/person/room '.duty.kind == "escalated" and (.text_zh | startswith("升级通知：#1「"))
    and (.text_zh | contains("请立即到场确认") | not)' ||
  fail "the escalation repeats the raise instead of saying it escalated"
got duty/person/wang '.duty.kind == "reminder" and (.text_en | startswith("Reminder: alert #1 "))' ||
  fail "the reminder does not say it is one"
# The timeline names the person as the roster had them and shows what the acknowledgement said.
"${LW[@]}" events --db "$WORK/lw.db" >"$WORK/events.txt" || fail "lorawatch events"
grep -E '^[0-9-]+ [0-9:]+ +#1 +acknowledged .*Duty room tier 2 via mqtt +on_my_way; 误报\? 正在去现场' \
  "$WORK/events.txt" >/dev/null || fail "events: $(grep acknowledged "$WORK/events.txt")"
sleep 4
got duty/person/office-1 '.id == 1' && fail "escalated to tier 3 after the acknowledgement"
[ "$(q "SELECT count(*) FROM alert_journal WHERE alert = 1 AND event = 'escalated' AND tier = 3")" -eq 0 ] ||
  fail "tier 3 escalation journalled"
pass "acknowledged from mosquitto_pub: reply, journal (who, tier, via), escalation stopped"

# ---- bad commands: answered with an error, nothing changes ---------------------------------
before=$(q "SELECT count(*) FROM alert_journal")
cmd room '{"cmd":"ack","alert":1,"id":"r2"}'
reply room r2 '.ok == false and .code == "conflict"' || fail "second ack not refused"
cmd room '{"cmd":"ack","alert":999,"id":"r3"}'
reply room r3 '.ok == false and .code == "not_found"' || fail "unknown alert not refused"
cmd room '{"cmd":"ack","alert":"one","id":"r4"}'
reply room r4 '.ok == false and .code == "usage"' || fail "malformed alert id not refused"
cmd room 'not json at all'
lw_wait_for 5 got reply/room '.ok == false and (.error | test("not a JSON object"))' || fail "malformed JSON"
cmd wang '{"cmd":"ack","alert":1,"id":"r5","by":"room"}'
reply wang r5 '.ok == false and .code == "denied"' || fail "impersonation not refused"
cmd mallory '{"cmd":"ack","alert":1,"id":"r6"}'
reply mallory r6 '.ok == false and .code == "denied"' || fail "identity off the roster not refused"
cmd room "{\"cmd\":\"ack\",\"alert\":1,\"note\":\"$(head -c 5000 /dev/zero | tr '\0' x)\"}"
lw_wait_for 5 got reply/room '.ok == false and (.error | test("larger than"))' || fail "oversized command"
cmd room '{"cmd":"launch","id":"r7"}'
reply room r7 '.ok == false' || fail "unknown command not refused"
[ "$(q "SELECT count(*) FROM alert_journal")" -eq "$before" ] || fail "a refused command changed the journal"
grep -q "mqtt command from '[a-z]*' refused" "$WORK/lorawatchd.log" || fail "refusal not logged"
pass "malformed, unknown, repeated, oversized and impersonated commands refused, nothing changed"

# ---- a sector without a grid worker; acknowledgement from the CLI --------------------------
send 2 $K2 1 150
lw_wait_for 5 got duty/person/room '.id == 2 and .duty.tier == 2' || fail "no worker for G2: duty room not told"
"${LW[@]}" alerts -s "$SOCK" >"$WORK/alerts.txt" || fail "lorawatch alerts"
grep -q '^2 .*red .*flood .*n2 ' "$WORK/alerts.txt" || fail "alerts list: $(cat "$WORK/alerts.txt")"
rc=0; "${LW[@]}" ack 2 -s "$SOCK" --outcome maybe 2>"$WORK/err.txt" || rc=$?
[ $rc -eq 2 ] && grep -q 'on_my_way, false_alarm, test, dealt_with' "$WORK/err.txt" ||
  fail "ack --outcome maybe: exit $rc, $(cat "$WORK/err.txt")"
rc=0; "${LW[@]}" ack 2 -s "$SOCK" --as nobody 2>"$WORK/err.txt" || rc=$?
[ $rc -eq 2 ] && grep -q 'nobody with that id on the duty roster' "$WORK/err.txt" ||
  fail "ack --as nobody: exit $rc, $(cat "$WORK/err.txt")"
# The Unix user is on the roster (the section named after the login): journalled as that person.
"${LW[@]}" ack 2 -s "$SOCK" --outcome false_alarm --note "checked on camera" >"$WORK/ack.txt" ||
  fail "lorawatch ack"
grep -qx "acknowledged as $(id -un)" "$WORK/ack.txt" || fail "ack output: $(cat "$WORK/ack.txt")"
[ "$(q "SELECT actor || '|' || tier || '|' || via || '|' || outcome FROM alert_journal WHERE alert = 2 AND event = 'acknowledged'")" = \
  "$(id -un)|3|cli|false_alarm" ] || fail "CLI ack not journalled as the roster person"
rc=0; "${LW[@]}" ack 2 -s "$SOCK" 2>/dev/null || rc=$?
[ $rc -eq 7 ] || fail "second CLI ack: exit $rc"
rc=0; "${LW[@]}" ack 999 -s "$SOCK" 2>/dev/null || rc=$?
[ $rc -eq 4 ] || fail "CLI ack of an unknown alert: exit $rc"
"${LW[@]}" alerts -s "$SOCK" --json | jq -e '.alerts[] | select(.id == 2) | .acked_by == "'"$(id -un)"'"' \
  >/dev/null || fail "alerts --json"
pass "sector without a worker goes to tier 2; CLI ack journalled as the login's roster person with its outcome; bad outcome, unknown --as, repeated/unknown refused"

# ---- maintenance silence --------------------------------------------------------------------
rc=0; "${LW[@]}" silence -s "$SOCK" --building B3 --for 1h --reason "pump test" 2>"$WORK/err.txt" || rc=$?
[ $rc -eq 7 ] && grep -q 'never silenced without --force' "$WORK/err.txt" || fail "fire silenced without force (exit $rc)"
rc=0; "${LW[@]}" silence -s "$SOCK" --building B3 --hazard flood --for 30d --reason x 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "silence beyond max_silence accepted (exit $rc)"
"${LW[@]}" silence -s "$SOCK" --building B3 --hazard flood --for 4s --reason "pump test" \
  >"$WORK/silence.txt" || fail "silence refused"
"${LW[@]}" silences -s "$SOCK" | grep -q 'building B3 hazard flood .*pump test' || fail "silences list"
send 3 $K3 1 150
lw_wait_for 5 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \"SELECT count(*) FROM alert_journal WHERE alert = 3 AND event = 'silenced'\") -eq 1 ]" ||
  fail "held alert not journalled as silenced"
sleep 1
got duty/person/wang '.id == 3' && fail "a silenced alert paged the worker"
lw_wait_for 8 got duty/person/wang '.id == 3 and .duty.kind == "notified"' ||
  fail "held alert not paged when the silence expired"
[ -n "$(q "SELECT lifted_ms FROM silences WHERE id = 1")" ] || fail "silence end not recorded"
pass "silence: fire needs --force, expiry bounded, alerts held and paged when it ends"

# ---- a test alarm reaches the worker, marked, and never escalates ---------------------------
"${LW[@]}" test-alarm n1 -s "$SOCK" >/dev/null || fail "lorawatch test-alarm"
tid=$(q "SELECT max(id) FROM alerts WHERE test = 1")
lw_wait_for 5 got duty/person/wang ".id == $tid and .test and .duty.kind == \"notified\"
    and (.text_zh | startswith(\"【测试，无需出动】\")) and (.text_en | startswith(\"[TEST\"))" ||
  fail "test alarm $tid not on the worker's duty topic"
sleep 4 # past escalate_after
got duty/person/room ".id == $tid" && fail "the test alarm escalated"
got duty/person/wang ".id == $tid and .duty.kind == \"reminder\"" && fail "the test alarm was reminded"
pass "test alarm on the worker's duty topic, marked as a test, no reminder or escalation"

# ---- all clear to every tier told ------------------------------------------------------------
send 1 $K1 2 10
lw_wait_for 5 got duty/person/room '.id == 1 and .duty.kind == "cleared"' || fail "duty room not told of the all-clear"
got duty/person/wang '.id == 1 and .duty.kind == "cleared"' || fail "worker not told of the all-clear"
q "SELECT event FROM alert_journal WHERE alert = 1 AND event != 'published' ORDER BY id" | tr '\n' ' ' >"$WORK/ev.txt"
grep -Eq '^raised notified (reminded )+escalated (reminded )*acknowledged cleared $' "$WORK/ev.txt" ||
  fail "journal of alert 1: $(cat "$WORK/ev.txt")"
q "UPDATE alert_journal SET event = 'x' WHERE id = 1" 2>/dev/null && fail "alert journal rewritable"
pass "all-clear to every tier told; the journal tells the whole story and is append-only"

lw_stop_daemon
# Every duty message and reply received keeps the documented contract (docs/MQTT.md, schemas).
lw_validate_captured "$WORK/duty.mqtt" "$WORK/all.mqtt"
