#!/usr/bin/env bash
# Fault: the broker comes back without what it had acknowledged (SIGKILL, state lost) while the
# gateway's disk is full, so the messages it lost cannot go back into the outbox yet. The gateway
# must not tell the broker its mark meanwhile (that would say the broker has everything), so even
# when lorawatchd is killed too before the disk takes writes again, the next start finds the
# broker behind and sends it every open alert's retained state again.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/diskfull-lib.sh"
diskfull_enter "$@"
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/fault-lib.sh"

MNT=$WORK/dbfs
diskfull_setup "$MNT" $((1024 * 1024))
fault_start_broker "$WORK"
diskfull_conf blk <<EOC
[gateway]
clock_check = none
[storage]
batch_interval = 50ms
spool_file = $WORK/spool
[rule:flood-test]
metric = water_mm
threshold = 200
clear = 100
level = red
[duty:room]
tier = 2
EOC
connects() { grep -c 'mqtt: connected' "$WORK/lorawatchd.log" 2>/dev/null || true; }
retained() { mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -C 1 -W 3 -t "lorawatch/blk/alert/$1" 2>/dev/null || true; }

diskfull_start_daemon
lw_n1_send --set water_mm=300 --count 3 --interval 100ms --fcnt-start 1
lw_wait_for 10 sh -c "[ -n \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT id FROM alerts WHERE rule = 'flood-test'\")\" ]" ||
  fail "no flood alert"
id=$(q "SELECT id FROM alerts WHERE rule = 'flood-test'")
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$DB' 'SELECT count(*) FROM outbox') -eq 0 ]" ||
  fail "the broker did not acknowledge the outbox"
jq -e '.state == "raised"' <<<"$(retained "$id")" >/dev/null || fail "alert/$id not retained at first"
pass "red alert #$id raised, retained, acknowledged by the broker"

# The disk fills (the ballast goes for the storage alert, then that room too).
diskfull_fill
lw_n1_send --set water_mm=300 --count 10 --interval 100ms --fcnt-start 10
lw_wait_for 10 grep -q 'storage trouble raised' "$WORK/lorawatchd.log" || fail "no storage trouble"
sleep 0.5
diskfull_fill
# The broker crashes and comes back with nothing.
c0=$(connects)
fault_kill_broker
rm -f "$WORK/broker-db/"*
fault_start_broker "$WORK"
lw_wait_for 10 sh -c "[ \$(grep -c 'mqtt: connected' '$WORK/lorawatchd.log') -gt $c0 ]" ||
  fail "daemon did not reconnect"
lw_wait_for 5 grep -q 'lost state; they are sent again once the disk takes writes' "$WORK/lorawatchd.log" ||
  fail "the broker's loss was not held over for the disk: $(grep -i 'mark\|lost state\|full' "$WORK/lorawatchd.log" | tail -n 3)"
sleep 1
mark=$(mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -C 1 -W 2 -t 'lorawatch/blk/gateway/mark' 2>/dev/null || true)
[ -z "$mark" ] || fail "the daemon gave the broker a mark while what it lost waits for the disk: $mark"
pass "the broker lost alert/$id; the requeue waits for the disk and no mark is given meanwhile"

# Killed before the disk takes writes; started again once it does.
kill -KILL "$LW_DAEMON_PID"
wait "$LW_DAEMON_PID" 2>/dev/null || true
diskfull_free
diskfull_start_daemon 0
lw_wait_for 10 sh -c "mosquitto_sub -h 127.0.0.1 -p $LW_MQTT_PORT -C 1 -W 2 -t lorawatch/blk/alert/$id 2>/dev/null | grep -q raised" ||
  fail "alert/$id never retained again after the restart: '$(retained "$id")'"
pass "after the restart the broker has alert/$id again: $(retained "$id" | jq -c '{id, state, level}')"
lw_stop_daemon
