#!/usr/bin/env bash
# Fault: an alert raised while the disk is full is paged from memory; the daemon is killed
# (SIGKILL) before the disk takes writes again. With [storage] spool_file on another file system
# the next start finds the alert's writes there and journals them before restoring the open
# alerts: the alert, its journal and its retained state agree, and it goes on (reminders,
# escalation) like any open alert. Without the file the alert was paged, retained on the broker,
# and unknown to the database for good.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/diskfull-lib.sh"
diskfull_enter "$@"
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/fault-lib.sh"

MNT=$WORK/dbfs
diskfull_setup "$MNT" $((1024 * 1024))
fault_start_broker "$WORK"
lw_capture all 'lorawatch/spl/#'
diskfull_conf spl <<EOC
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
diskfull_start_daemon
lw_n1_send --set water_mm=0 --count 3 --interval 100ms --fcnt-start 1
lw_wait_for 5 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$DB' 'SELECT count(*) FROM readings') -eq 3 ]" ||
  fail "readings not stored before the disk filled"

diskfull_fill
lw_n1_send --set water_mm=0 --count 10 --interval 100ms --fcnt-start 4
lw_wait_for 10 grep -q 'storage trouble raised' "$WORK/lorawatchd.log" || fail "no storage trouble"
diskfull_fill # what the ballast gave back: the next alert cannot be journalled
lw_n1_send --set water_mm=300 --count 3 --interval 100ms --fcnt-start 20
lw_wait_for 10 grep -q 'could not be journalled; paged from memory' "$WORK/lorawatchd.log" ||
  fail "the flood alert was journalled on the full disk: the test did not reach its case"
id=$(mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -C 1 -W 5 -t 'lorawatch/spl/alert/+' \
  -F '%j' | jq -r 'select(.payload.rule == "flood-test") | .payload.id' 2>/dev/null || true)
[ -n "$id" ] || id=$(grep -o 'alert #[0-9]* raised: RED flood' "$WORK/lorawatchd.log" | head -n 1 | tr -dc 0-9)
[ -n "$id" ] || fail "no flood alert raised: $(grep 'alert #' "$WORK/lorawatchd.log" | tail -n 3)"
[ "$(q "SELECT count(*) FROM alerts WHERE id = $id")" = 0 ] || fail "alert #$id is in the database already"
[ -s "$WORK/spool" ] || fail "the spool file is empty"
pass "flood alert #$id paged while the disk is full, kept in the spool file only"

kill -KILL "$LW_DAEMON_PID"
wait "$LW_DAEMON_PID" 2>/dev/null || true
diskfull_free
diskfull_start_daemon
lw_wait_for 5 grep -q "spool file .* alert writes of a run that stopped with the disk full journalled" "$WORK/lorawatchd.log" ||
  fail "the spool file was not journalled at start: $(grep -i spool "$WORK/lorawatchd.log" | tail -n 3)"
row=$(q "SELECT rule, level, state, value FROM alerts WHERE id = $id")
[ "$row" = "flood-test|red|raised|300.0" ] || fail "alert #$id after the restart: '$row'"
[ "$(q "SELECT count(*) FROM alert_journal WHERE alert = $id AND event = 'raised'")" = 1 ] ||
  fail "alert #$id journal: $(q "SELECT event, detail FROM alert_journal WHERE alert = $id")"
pass "after the restart alert #$id is in the database, open, with its raise journalled"
retained=$(mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -C 1 -W 5 -t "lorawatch/spl/alert/$id")
jq -e --argjson id "$id" '.id == $id and .state == "raised" and .level == "red"' <<<"$retained" >/dev/null ||
  fail "retained alert/$id: '$retained'"
# It goes on as an open alert: the water falls and it clears, journalled.
lw_n1_send --set water_mm=50 --count 3 --interval 100ms --fcnt-start 40
lw_wait_for 10 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT state FROM alerts WHERE id = $id\")\" = cleared ]" ||
  fail "alert #$id not cleared by the falling water: $(q "SELECT state FROM alerts WHERE id = $id")"
[ "$(wc -c <"$WORK/spool")" -lt 100 ] || fail "the spool file still holds $(wc -c <"$WORK/spool") bytes"
pass "alert #$id cleared by real readings after the restart; the spool file is empty again"
lw_stop_daemon
lw_validate_captured "$WORK/all.mqtt"
