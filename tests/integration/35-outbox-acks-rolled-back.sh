#!/usr/bin/env bash
# Fault: the disk fills while the broker's acknowledgements come in. An acknowledgement that joined
# the reading batch (batch_interval 60 s here) went with it when the full disk rolled the batch
# back, and handing its row over again could put an older retained state after a newer one. Now
# every acknowledgement goes through the queue of alert writes and is committed at once (or kept
# until the disk takes writes): none waits in the batch, no message stays in the outbox, and the
# broker's retained state of every alert follows the database's (raised, or removed when ended).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/diskfull-lib.sh"
diskfull_enter "$@"
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/fault-lib.sh"

MNT=$WORK/dbfs
diskfull_setup "$MNT" $((4 * 1024 * 1024))
DB=$MNT/lw.db

# Three water nodes that rise at T1, after every node's first uplink (downlink counters are
# reserved then, with a commit), and a fourth that rises at T4, while the disk is full: its
# alert's commit fails and takes the open batch with it.
T1=4 T4=12
SCEN=$WORK/acks.ini
{
  printf '[scenario]\nname = acks-rolled-back\nstart = 2026-07-15T02:00:00+08:00\n'
  printf 'duration = 60s\nacceleration = 1\nnetwork_id = 0x4C57\ntick = 1s\nseed = 7\n\n'
  for i in 1 2 3 4; do
    addr=$((0x2400 + i))
    printf '[node:w%d]\naddress = 0x%04X\neui = 70B3D57EDF%06X\nkey = %032X\n' "$i" "$addr" "$addr" "$((0x5A000000 + addr))"
    printf 'kind = water\nlabel = water %d\ninterval = 1s\noffset = %dms\n' "$i" $((i * 150))
    if [ "$i" -lt 4 ]; then
      printf 'water_mm = 0@0s 0@%ds 200@%ds 200@60s\n' $((T1 - 1)) "$T1"
    else
      printf 'water_mm = 0@0s 0@%ds 200@%ds 200@60s\n' $((T4 - 1)) "$T4"
    fi
    printf 'battery_mv = 3600\n\n'
  done
} >"$SCEN"
"$LW_BIN/lorawatch-sim" -s "$SCEN" --check >/dev/null || fail "scenario invalid"
fault_start_broker "$WORK"
UDP=$(lw_free_port udp)
# A long batch: acknowledgements wait in it, uncommitted, until the disk fills.
fault_conf "$SCEN" "$DB" "$UDP" "$WORK/lorawatchd.conf" "batch_interval = 60s"
lw_spawn sub "$WORK/all.mqtt" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v -t "lorawatch/$FAULT_SITE/alert/+"
env "${DISKFULL_ENV[@]}" "$LW_BIN/lorawatchd" -d -f "$WORK/lorawatchd.conf" >>"$WORK/lorawatchd.log" 2>&1 &
LW_DAEMON_PID=$!
LW_PIDS+=("$LW_DAEMON_PID")
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon did not connect"
lw_spawn sim "$WORK/sim.log" "$LW_BIN/lorawatch-sim" -q -s "$SCEN" --gateway "127.0.0.1:$UDP"
t0=$(date +%s)

lw_wait_for $((T1 + 8)) sh -c "[ \$(grep -c '\"state\":\"raised\"' '$WORK/all.mqtt') -ge 3 ]" ||
  fail "the first three alerts did not reach the broker"
sleep 1 # their acknowledgements arrive
held=$(q 'SELECT count(*) FROM outbox')
[ "$held" -eq 0 ] ||
  fail "$held acknowledged messages wait in the open batch, uncommitted: a full disk would lose them"
[ $(($(date +%s) - t0)) -lt $((T4 - 2)) ] || fail "machine too slow: the disk would fill after the fourth alert"
pass "the acknowledgements are committed at once, not left in the 60 s reading batch"

connects=$(grep -c 'mqtt: connected' "$WORK/lorawatchd.log")
diskfull_fill
lw_wait_for $((T4 + 10)) grep -q 'storage trouble raised' "$WORK/lorawatchd.log" ||
  fail "the fourth alert did not meet the full disk"
pass "the disk filled while the fourth alert was raised"

diskfull_free
lw_wait_for 15 grep -q 'storage trouble cleared' "$WORK/lorawatchd.log" ||
  fail "storage trouble not cleared after space returned"
sleep 3 # handed over again, acknowledged; committed at the latest when the daemon stops
kill -TERM "$LW_PID_sim"
wait "$LW_PID_sim" || true
lw_stop_daemon
[ "$(grep -c 'mqtt: connected' "$WORK/lorawatchd.log")" -eq "$connects" ] ||
  fail "the daemon reconnected to the broker meanwhile: the test proves nothing"
[ "$(q 'SELECT count(*) FROM outbox')" -eq 0 ] ||
  fail "$(q 'SELECT count(*) FROM outbox') messages the broker had acknowledged before the rollback stayed in the outbox: $(q "SELECT group_concat(seq || ' ' || topic, '; ') FROM (SELECT seq, topic FROM outbox LIMIT 4)")"
pass "no message stays in the outbox"
# An open alert is retained as raised; one that ended was removed after its all-clear.
for id in $(q "SELECT id FROM alerts"); do
  want=$(q "SELECT CASE state WHEN 'raised' THEN 'raised' ELSE 'none' END FROM alerts WHERE id = $id")
  got=$({ mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -C 1 -W 2 --retained-only -t "lorawatch/$FAULT_SITE/alert/$id" 2>/dev/null || true; } | jq -r .state)
  [ "$got" = "$want" ] || [ -z "$got" -a "$want" = none ] || fail "alert/$id retained '$got', database '$want'"
done
pass "every alert's retained state is the database's (open: raised; ended: none)"
[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity check"
