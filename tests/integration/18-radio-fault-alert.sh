#!/usr/bin/env bash
# The gateway's own alert (radio_fault: no frame from any node for a while) across a restart and
# a reload. Raised while nobody is heard and paged to the duty room; after a SIGKILL and restart
# the same alert is still open (not closed as "no longer configured", not raised again under a
# new id), still the duty room's (it can be acknowledged), and clears when a node is heard; raised
# again, it is withdrawn (closed, also on its retained topic) when a reload removes the rule.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

lw_start_broker "$WORK"
SOCK=$WORK/control.sock
lw_one_node_conf rf <<EOF
[gateway]
clock_check = none
control_socket = $SOCK
control_group =
[duty:room]
name = Duty room
tier = 1
grids = *
[rule:deaf]
type = radio_fault
timeout = 2s
persistence = 0s
level = orange
EOF
cp "$WORK/lorawatchd.conf" "$WORK/with-rule.conf"
q() { sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" "$1"; }
state() { q "SELECT state FROM alerts WHERE id = $1"; }
lw_spawn sub "$WORK/mqtt.log" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t 'lorawatch/rf/alert/+'
lw_spawn duty "$WORK/duty.mqtt" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t 'lorawatch/rf/duty/tier/+'
lw_capture all 'lorawatch/rf/#'
start() {
  lw_start_daemon "$WORK/lorawatchd.conf"
  lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon not connected"
}

start
lw_wait_for 15 sh -c "[ -n \"\$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \
  \"SELECT id FROM alerts WHERE rule = 'deaf' AND state = 'raised'\")\" ]" ||
  fail "no radio-fault alert while nobody was heard"
id=$(q "SELECT id FROM alerts WHERE rule = 'deaf' AND state = 'raised'")
pass "alert #$id raised: no frame for 2 s"

kill -KILL "$LW_DAEMON_PID"
wait "$LW_DAEMON_PID" 2>/dev/null || true
start
sleep 3 # past the rule's timeout: a lost alert would be raised again by now
[ "$(state "$id")" = raised ] || fail "alert #$id is '$(state "$id")' after the restart"
[ "$(q "SELECT count(*) FROM alerts WHERE rule = 'deaf'")" -eq 1 ] ||
  fail "raised again after the restart: $(q "SELECT id, state FROM alerts")"
[ "$(q "SELECT count(*) FROM alert_journal WHERE alert = $id AND event = 'closed'")" -eq 0 ] ||
  fail "alert #$id was closed at start-up"
lw_wait_for 10 test -S "$SOCK" || fail "no control socket"
"$LW_BIN/lorawatch" ack "$id" -s "$SOCK" --note "radio checked" >"$WORK/ack.txt" 2>&1 ||
  fail "acknowledging alert #$id after the restart: $(cat "$WORK/ack.txt")"
# The gateway's rules are looked at every few seconds: keep the node talking until then.
for _ in $(seq 1 30); do
  lw_n1_send --set water_mm=5
  [ "$(state "$id")" = cleared ] && break
  sleep 0.5
done
[ "$(state "$id")" = cleared ] || fail "alert #$id not cleared when a node was heard: $(state "$id")"
lw_wait_for 10 grep -q "^lorawatch/rf/duty/tier/1 .*\"id\":$id,.*\"kind\":\"cleared\"" "$WORK/duty.mqtt" ||
  fail "the duty room was not told that alert #$id cleared"
pass "alert #$id open across SIGKILL and restart, acknowledged, cleared when a node was heard (duty room told)"

# Nobody heard again: raised again; then the rule is removed by a reload.
lw_wait_for 15 sh -c "[ -n \"\$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \
  \"SELECT id FROM alerts WHERE rule = 'deaf' AND state = 'raised'\")\" ]" ||
  fail "no second radio-fault alert"
id2=$(q "SELECT id FROM alerts WHERE rule = 'deaf' AND state = 'raised'")
sed '/^\[rule:deaf\]/,$d' "$WORK/with-rule.conf" >"$WORK/lorawatchd.conf"
kill -HUP "$LW_DAEMON_PID"
lw_wait_for 10 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \
  \"SELECT state FROM alerts WHERE id = $id2\")\" = closed ]" ||
  fail "alert #$id2 is '$(state "$id2")' after its rule was removed"
# Withdrawn: the closed message is sent, then the alert is removed from the broker.
lw_wait_for 10 sh -c "! mosquitto_sub -h 127.0.0.1 -p $LW_MQTT_PORT -t lorawatch/rf/alert/$id2 --retained-only -W 1 2>/dev/null | grep -q state" ||
  fail "alert #$id2 still retained on its topic after it was closed"
pass "alert #$id2 closed when a reload removed its rule"
lw_stop_daemon
lw_validate_captured "$WORK/mqtt.log" "$WORK/duty.mqtt" "$WORK/all.mqtt"
