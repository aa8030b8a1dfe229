#!/usr/bin/env bash
# An open alert's record survives a crash whole. Raised before a SIGKILL: a flood-watch alert on
# the 5-minute mean (value 120 mm, in the building's flood incident) and a red fire alarm that
# two smoke detectors of one building confirmed (the rule's level is orange), next to the first
# detector's orange one. After the restart every reminder, escalation and all-clear of these
# alerts, on the duty topics and on alert/<id>, carries the level, statistic, incident and raise
# time of the raise (reminders and escalations its value too); each tier's reminder count goes
# on from where it was, an escalation tells its tier 0 reminders, and the retained final state
# keeps the raised level. A fourth water node of the building, never heard, falls silent while
# the building floods: its silence alert is not paged, and the restart does not page it either.
# No roster: the tier topics escalate on the (shortened) timer.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

lw_start_broker "$WORK"
SITE=rec UDP=$(lw_free_port udp)
K1=11111111111111111111111111111111 K2=22222222222222222222222222222222
K3=33333333333333333333333333333333 K4=44444444444444444444444444444444
{
  cat <<EOF
[gateway]
site = $SITE
database = $WORK/lw.db
clock_check = none
[radio]
sim_listen = 127.0.0.1:$UDP
[mqtt]
port = $LW_MQTT_PORT
[alerts]
escalate_after = 10s
remind_every = 2s
EOF
  # The shipped flood-watch rule without its FloodNet filter (a first jump would be held back)
  # and the shipped fire-smoke rule.
  cat <<'EOF'
[rule:flood-watch]
metric = water_mm
statistic = mean
window = 5m
threshold = 76
clear = 40
level = blue
[rule:fire-smoke]
metric = smoke
threshold = 1
clear = 0
level = orange
coincidence = building
coincidence_window = 60s
[rule:silence-water]
type = silence
kinds = water
timeout = 3s
level = blue
EOF
  for n in 1 2 3 4; do
    kind=water
    [ $n = 2 ] || [ $n = 3 ] && kind=smoke
    key=K$n
    printf '[node:n%s]\naddress = %s\neui = 70B3D57ED000000%s\nkey = %s\nkind = %s\nbuilding = 7\ngrid = G1\n' \
      $n $n $n "${!key}" $kind
  done
} >"$WORK/lorawatchd.conf"
chmod 600 "$WORK/lorawatchd.conf"
"$LW_BIN/lorawatchd" -n -f "$WORK/lorawatchd.conf" >"$WORK/check.log" 2>&1 ||
  fail "config refused: $(cat "$WORK/check.log")"

lw_spawn sub "$WORK/mqtt.log" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t "lorawatch/$SITE/alert/+" -t "lorawatch/$SITE/duty/tier/+"
start() {
  lw_start_daemon "$WORK/lorawatchd.conf"
  lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon not connected"
}
send() { # send ADDRESS KIND FCNT METRIC=VALUE [SIM-OPTION...]
  local key=K$1
  "$LW_BIN/lorawatch-sim" -q --gateway "127.0.0.1:$UDP" --network-id 0x4C57 --address "$1" \
    --eui "70B3D57ED000000$1" --key "${!key}" --kind "$2" --fcnt-start "$3" --set "$4" \
    --acceleration 0 "${@:5}" || fail "lorawatch-sim failed"
}
q() { sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" "$1"; }
# msgs JQ: the messages received so far (topic in .topic), as one JSON array, filtered by JQ.
msgs() {
  awk 'NF > 1 && $2 != "(null)" {t = $1; sub(/^[^ ]* /, ""); printf "{\"topic\":\"%s\",\"m\":%s}\n", t, $0}' \
    "$WORK/mqtt.log" | jq -c -s "map(.m + {topic: .topic}) | $1"
}
has() { [ "$(msgs "map(select($1)) | length")" -gt 0 ]; }
reminded() { # reminded ALERT TIER: reminders journalled for ALERT at TIER
  q "SELECT count(*) FROM alert_journal WHERE alert = $1 AND tier = $2 AND event = 'reminded'"
}

start
send 1 water 1 water_mm=120
send 2 smoke 1 smoke=1
send 3 smoke 1 smoke=1
lw_wait_for 10 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \"SELECT count(*) FROM alerts WHERE rule != 'silence-water'\")\" -eq 3 ]" ||
  fail "three alerts not raised: $(q 'SELECT id, rule, node, level FROM alerts')"
flood=$(q "SELECT id FROM alerts WHERE node = 1 AND rule = 'flood-watch'")
one=$(q "SELECT id FROM alerts WHERE node = 2") two=$(q "SELECT id FROM alerts WHERE node = 3")
[ "$(q "SELECT level FROM alerts WHERE id = $two")" = red ] || fail "the confirmed fire alarm is not red"
[ "$(q "SELECT level FROM alerts WHERE id = $one")" = orange ] || fail "the first detector's alarm is not orange"
[ "$(q "SELECT incident IS NOT NULL FROM alerts WHERE id = $flood")" = 1 ] || fail "flood alert in no incident"

lw_wait_for 10 sh -c "[ -n \"\$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \"SELECT id FROM alerts WHERE rule = 'silence-water' AND node = 4\")\" ]" ||
  fail "the silent node's alert was not raised"
sil=$(q "SELECT id FROM alerts WHERE rule = 'silence-water' AND node = 4")

# Killed once every alert has had a tier 1 reminder; its next reminders are due after the restart.
for a in $flood $one $two; do
  lw_wait_for 10 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \"SELECT count(*) FROM alert_journal WHERE alert = $a AND event = 'reminded'\")\" -ge 1 ]" ||
    fail "alert $a: no reminder before the kill"
done
kill -KILL "$LW_DAEMON_PID"
wait "$LW_DAEMON_PID" 2>/dev/null || true
restart=$(date +%s%3N)
start

# Up to tier 2 and reminded there, then cleared.
for a in $flood $one $two; do
  lw_wait_for 20 has ".id == $a and .duty.tier == 2 and .duty.kind == \"reminder\"" ||
    fail "alert $a: no tier 2 reminder after the restart"
done
# The 5-minute mean goes on across the restart (its readings are replayed): one reading of 0
# after the 120 mm one is a mean of 60, still over the clear level of 40; three make it 30.
send 1 water 2 water_mm=0 --count 3
send 2 smoke 2 smoke=0
send 3 smoke 2 smoke=0
for a in $flood $one $two; do
  lw_wait_for 10 has ".id == $a and .state == \"cleared\" and (.topic | test(\"/alert/\"))" ||
    fail "alert $a: no all-clear"
  lw_wait_for 10 has ".id == $a and .duty.kind == \"cleared\" and .duty.tier == 2" ||
    fail "alert $a: tier 2 got no all-clear"
done

for a in $flood $one $two; do
  # The raise on alert/<id> is the record every later message must repeat.
  raise=$(msgs "map(select(.id == $a and .state == \"raised\" and (.topic | test(\"/alert/\"))))[0]
    | {level, value, statistic, incident, raised}")
  [ "$raise" != null ] || fail "alert $a: raise message not received"
  after=$(q "SELECT count(*) FROM alert_journal WHERE alert = $a AND event = 'reminded' AND tier = 1 AND ts_ms > $restart")
  [ "$after" -ge 1 ] || fail "alert $a: no tier 1 reminder after the restart (timing): the test proves nothing"
  bad=$(msgs "map(select(.id == $a and .state == \"raised\") | select({level, value, statistic, incident, raised} != $raise)
    | {topic, kind: .duty.kind, tier: .duty.tier, level, value, statistic, incident})")
  [ "$bad" = "[]" ] || fail "alert $a: raised at $raise, later told: $bad"
  bad=$(msgs "map(select(.id == $a and .state == \"cleared\")
    | select({level, statistic, incident, raised} != ($raise | {level, statistic, incident, raised}))
    | {topic, kind: .duty.kind, level, statistic, incident})")
  [ "$bad" = "[]" ] || fail "alert $a: raised at $raise, cleared with: $bad"
  # Each tier's reminders counted on across the restart: the highest count sent is the number
  # journalled, and the journal's own count runs 1, 2, 3 ... without starting again.
  for t in 1 2; do
    top=$(msgs "map(select(.id == $a and .duty.tier == $t and .duty.kind == \"reminder\") | .duty.reminder) | max")
    [ "$top" = "$(reminded "$a" $t)" ] ||
      fail "alert $a tier $t: reminders counted up to $top, $(reminded "$a" $t) sent"
    [ "$(q "SELECT group_concat(detail, ',') FROM (SELECT detail FROM alert_journal WHERE alert = $a
      AND tier = $t AND event = 'reminded' ORDER BY id)")" = \
      "$(seq -s, -f 'reminder %g' 1 "$(reminded "$a" $t)")" ] ||
      fail "alert $a tier $t: journal counts $(q "SELECT group_concat(detail, ',') FROM alert_journal WHERE alert = $a AND tier = $t AND event = 'reminded'")"
  done
  esc=$(msgs "map(select(.id == $a and .duty.kind == \"escalated\") | .duty.reminder) | unique")
  [ "$esc" = "[0]" ] ||
    fail "alert $a: escalations carried reminder counts $esc, not the new tier's 0"
  # Its all-clear at the raise's level; then nothing is retained (alert/<id> keeps what is open).
  [ "$(msgs "map(select(.id == $a and .state == \"cleared\" and (.topic | test(\"/alert/\")))) | .[0].level")" = \
    "$(echo "$raise" | jq .level)" ] || fail "alert $a: the all-clear is not at the raise's level $raise"
  retained=$({ mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -C 1 -W 2 --retained-only \
    -t "lorawatch/$SITE/alert/$a" 2>/dev/null || true; })
  [ -z "$retained" ] || fail "alert $a: still retained after its all-clear: $retained"
  pass "alert $a ($(echo "$raise" | jq -c .)): the same in every message across the SIGKILL"
done
[ "$(msgs "map(select(.id == $two and .state == \"cleared\" and (.topic | test(\"/alert/\")))) | .[0].level")" = '"red"' ] ||
  fail "the confirmed fire alarm did not clear red"
[ "$(msgs "map(select(.id == $flood and .state == \"raised\" and .duty.kind == \"reminder\")) | .[-1] | .value > 0 and .incident > 0")" = true ] ||
  fail "the flood alert's last reminder lost its value or incident"
pass "reminder counts went on across the restart; escalations said 0; the all-clear kept the raised level"
has ".id == $sil and .duty != null" && fail "the silent node in the flooding building was paged"
[ "$(q "SELECT count(*) FROM alert_journal WHERE alert = $sil AND event IN ('notified', 'escalated', 'reminded')")" -eq 0 ] ||
  fail "the silent node in the flooding building was paged: $(q "SELECT event, tier FROM alert_journal WHERE alert = $sil")"
pass "the silent node in the flooding building was not paged, before or after the restart"
lw_stop_daemon
lw_validate_captured "$WORK/mqtt.log"
