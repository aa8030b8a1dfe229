#!/usr/bin/env bash
# Fault: the gateway dies while its disk is full and its red storage trouble alert is open, and
# comes back once space has returned. The storage alert is restored like any other open alert and
# the first storage check gives it its own all-clear ("the database takes writes again"): it is
# not withdrawn as a rule "no longer configured" with an empty retained message, which would tell
# the duty room nothing about whether the database works again.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/diskfull-lib.sh"
diskfull_enter "$@"
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/fault-lib.sh"

MNT=$WORK/dbfs
diskfull_setup "$MNT" $((1024 * 1024))
DB=$MNT/lw.db
fault_start_broker "$WORK"
lw_capture all 'lorawatch/sto/#'
lw_one_node_conf sto <<EOC
[gateway]
clock_check = none
[storage]
batch_interval = 50ms
[duty:room]
tier = 2
EOC
sed -i "s|^database = .*|database = $DB|" "$WORK/lorawatchd.conf"
q() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }
start() {
  env "${DISKFULL_ENV[@]}" "$LW_BIN/lorawatchd" -d -f "$WORK/lorawatchd.conf" >>"$WORK/lorawatchd.log" 2>&1 &
  LW_DAEMON_PID=$!
  LW_PIDS+=("$LW_DAEMON_PID")
  lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon did not connect"
}
start
lw_n1_send --set water_mm=0 --count 3 --interval 100ms --fcnt-start 1
lw_wait_for 5 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$DB' 'SELECT count(*) FROM readings') -eq 3 ]" ||
  fail "readings not stored before the disk filled"

diskfull_fill
lw_n1_send --set water_mm=0 --count 10 --interval 100ms --fcnt-start 4
lw_wait_for 10 grep -q 'storage trouble raised' "$WORK/lorawatchd.log" || fail "no storage trouble"
# Its raise reaches the database through the ballast the daemon keeps for alerts.
lw_wait_for 5 sh -c "[ -n \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT id FROM alerts WHERE rule = 'storage' AND state = 'raised'\")\" ]" ||
  fail "the storage alert was not journalled: $(q "SELECT id, rule, state FROM alerts")"
id=$(q "SELECT id FROM alerts WHERE rule = 'storage' AND state = 'raised'")
pass "storage trouble alert #$id raised and journalled while the disk is full"

kill -KILL "$LW_DAEMON_PID"
wait "$LW_DAEMON_PID" 2>/dev/null || true
# Restarted while the disk is still full, with a node added to the file meanwhile (the node table
# cannot take it): it must come up (paging does not wait for the disk) and keep its storage alert
# open.
printf '[node:n2]\naddress = 2\neui = 70B3D57ED0000002\nkey = 2B4B3C2D1E0F11223344556677889902\nkind = water\n' \
  >>"$WORK/lorawatchd.conf"
diskfull_fill # whatever the killed daemon left free
start
sleep 1.5
kill -0 "$LW_DAEMON_PID" 2>/dev/null || fail "daemon did not survive a start on a full disk: $(tail -n 4 "$WORK/lorawatchd.log")"
[ "$(q "SELECT state FROM alerts WHERE id = $id")" = raised ] ||
  fail "storage alert #$id not open after a start on the full disk: $(q "SELECT state FROM alerts WHERE id = $id"): $(q "SELECT event, detail FROM alert_journal WHERE alert = $id"); $(cat "$WORK/lorawatchd.log")"
pass "started on the still full disk; storage alert #$id still open"
kill -KILL "$LW_DAEMON_PID"
wait "$LW_DAEMON_PID" 2>/dev/null || true
diskfull_free
start
lw_wait_for 10 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT state FROM alerts WHERE id = $id\")\" != raised ]" ||
  fail "storage alert #$id still open after the restart with space"
[ "$(q "SELECT state FROM alerts WHERE id = $id")" = cleared ] ||
  fail "storage alert #$id ended as '$(q "SELECT state FROM alerts WHERE id = $id")', not cleared: $(q "SELECT event, detail FROM alert_journal WHERE alert = $id")"
# Its all-clear was sent (seen by the capture), then the alert removed from the broker.
lw_wait_for 5 sh -c "grep '^lorawatch/sto/alert/$id ' '$WORK/all.mqtt' | cut -d' ' -f2- | sed '/^(null)\$/d' |
  jq -es 'any(.[]; .state == \"cleared\" and .rule == \"storage\" and (.text_en | test(\"takes writes again\")))' >/dev/null" ||
  fail "no all-clear of #$id: $(grep "^lorawatch/sto/alert/$id " "$WORK/all.mqtt")"
retained=$(mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -C 1 -W 2 --retained-only -t "lorawatch/sto/alert/$id" 2>/dev/null || true)
[ -z "$retained" ] || fail "alert #$id still retained after its all-clear: '$retained'"
pass "after the restart alert #$id cleared with its own all-clear, then removed from the broker"
lw_n1_send --set water_mm=0 --count 2 --interval 100ms --fcnt-start 14
lw_wait_for 5 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$DB' 'SELECT count(*) FROM readings') -ge 5 ]" ||
  fail "readings not stored again after the restart"
lw_stop_daemon
lw_validate_captured "$WORK/all.mqtt"
