#!/usr/bin/env bash
# Fault: the broker acknowledges alerts, then loses them. mosquitto runs with the shipped
# config/mosquitto/local.conf (autosave every 30 s); a persistent QoS 1 subscriber (what the bridge
# to the phones is while its uplink is down) is offline. After an alert storm the broker has
# acknowledged every message (the outbox is empty) and is SIGKILLed before its next autosave, so
# it comes back without them: once from a snapshot without the daemon's outbox mark, once from
# one whose mark is behind. Every journalled transition must still reach the subscriber, and
# every open alert nobody acknowledged must have its duty message there, with its msg_id.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/fault-lib.sh"

NODES=6 ACCEL=30 PERIOD=10 INTERVAL=5
DB=$WORK/lw.db
SCEN=$WORK/storm.ini
fault_storm_scenario "$SCEN" "$NODES" 3600 "$PERIOD" "$INTERVAL" "$ACCEL"

# The shipped broker settings; only the port, the state directory, the user and logging differ.
LW_MQTT_PORT=$(lw_free_port tcp)
mkdir -p "$WORK/broker-db"
sed -e "s|^listener 1883 |listener $LW_MQTT_PORT |" \
  -e "s|^persistence_location .*|persistence_location $WORK/broker-db/|" \
  "$LW_SOURCE_DIR/config/mosquitto/local.conf" >"$WORK/mosquitto.conf"
printf 'user %s\nlog_dest stderr\nlog_type all\nconnection_messages true\n' "$(id -un)" >>"$WORK/mosquitto.conf"
grep -q "^listener $LW_MQTT_PORT " "$WORK/mosquitto.conf" || fail "shipped local.conf has no listener line to adapt"
AUTOSAVE=$(awk '$1 == "autosave_interval" {print $2}' "$WORK/mosquitto.conf")
[ "${AUTOSAVE:-0}" -ge 20 ] || fail "the shipped autosave_interval ($AUTOSAVE) is too short for this test to kill the broker between two saves"
grep -q '^autosave_on_changes true' "$WORK/mosquitto.conf" && fail "this test assumes time-based autosave"
fault_start_broker "$WORK"

# The phones' bridge: subscribes once with a persistent session, then goes away.
mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -c -i lw-phones -E \
  -t "lorawatch/$FAULT_SITE/alert/+" -t "lorawatch/$FAULT_SITE/duty/tier/+" ||
  fail "persistent subscriber could not subscribe"
UDP=$(lw_free_port udp)
fault_conf "$SCEN" "$DB" "$UDP" "$WORK/lorawatchd.conf"
journalled() { q "SELECT count(*) FROM alert_journal WHERE event IN ('raised','cleared')"; }
outbox_empty() { [ "$(q 'SELECT count(*) FROM outbox')" -eq 0 ]; }
connects() { grep -c 'mqtt: connected' "$WORK/lorawatchd.log" 2>/dev/null || true; }

# round N: a clean broker restart saves its state (the subscriber's session; from round 2 on also
# the daemon's mark), then 30 more transitions are acknowledged and lost in a SIGKILL before the
# next autosave. Round 1: the broker comes back without a mark; round 2: with one behind.
round() {
  local c0 c1 n0 saved started
  c0=$(connects)
  kill -TERM "$FAULT_BROKER_PID"; wait "$FAULT_BROKER_PID" || true
  fault_start_broker "$WORK"
  started=$(date +%s)
  saved=$(stat -c %Y.%s "$WORK/broker-db/mosquitto.db") || fail "broker saved no database"
  if [ "$1" = 1 ]; then
    fault_start_daemon "$WORK/lorawatchd.conf" "$WORK/lorawatchd.log"
    lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon did not connect"
    lw_spawn sim "$WORK/sim.log" "$LW_BIN/lorawatch-sim" -q -s "$SCEN" --gateway "127.0.0.1:$UDP"
  else
    lw_wait_for 10 sh -c "[ \$(grep -c 'mqtt: connected' '$WORK/lorawatchd.log') -gt $c0 ]" ||
      fail "daemon did not reconnect"
    kill -CONT "$LW_PID_sim"
  fi
  n0=$(journalled)
  lw_wait_for 20 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT count(*) FROM alert_journal WHERE event IN ('raised','cleared')\") -ge $((n0 + 30)) ]" ||
    fail "round $1: the storm raised too few alerts"
  kill -STOP "$LW_PID_sim"
  lw_wait_for 10 outbox_empty || fail "round $1: the broker did not acknowledge every message"
  sleep 0.5 # the last acknowledgements committed
  # Everything is acknowledged, the latest of it unsaved: the kill comes before the next save.
  [ "$(stat -c %Y.%s "$WORK/broker-db/mosquitto.db")" = "$saved" ] && [ $(($(date +%s) - started)) -lt "$AUTOSAVE" ] ||
    fail "round $1: the broker saved its database before the kill (machine too slow): nothing to lose"
  fault_kill_broker
  c1=$(connects)
  fault_start_broker "$WORK"
  lw_wait_for 15 sh -c "[ \$(grep -c 'mqtt: connected' '$WORK/lorawatchd.log') -gt $c1 ]" ||
    fail "round $1: the daemon did not reconnect to the restarted broker"
  lw_wait_for 10 outbox_empty || fail "round $1: outbox not emptied after the broker came back"
  pass "round $1: $(($(journalled) - n0)) transitions acknowledged by the broker, lost in its SIGKILL"
}
round 1
round 2
total=$(journalled)

lw_spawn phones "$WORK/phones.mqtt" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -c -i lw-phones -v \
  -t "lorawatch/$FAULT_SITE/alert/+" -t "lorawatch/$FAULT_SITE/duty/tier/+"
fault_journalled >"$WORK/journal.txt"
for _ in $(seq 1 50); do
  fault_received "$WORK/phones.mqtt" >"$WORK/received.txt"
  [ -z "$(comm -23 "$WORK/journal.txt" "$WORK/received.txt")" ] && break
  sleep 0.2
done
missing=$(comm -23 "$WORK/journal.txt" "$WORK/received.txt" | wc -l)
[ "$missing" -eq 0 ] ||
  fail "$missing of $total transitions the broker had acknowledged never reached the persistent subscriber: $(comm -23 "$WORK/journal.txt" "$WORK/received.txt" | head -n 5 | tr '\n' ' ')"
pass "all $total transitions reached the offline persistent subscriber though the broker lost them twice ($(grep -c 'it lost state' "$WORK/lorawatchd.log" || true) losses seen by the daemon)"

# Open alerts nobody acknowledged: the subscriber has each one's latest duty message again.
q "SELECT id FROM alerts WHERE state = 'raised' AND acked_ms IS NULL" | sort >"$WORK/open.txt"
[ -s "$WORK/open.txt" ] || fail "no open alert left to check duty messages of"
grep "^lorawatch/$FAULT_SITE/duty/tier/" "$WORK/phones.mqtt" | cut -d' ' -f2- | sed '/^(null)$/d' |
  jq -r 'select(.state == "raised") | "\(.id) \(.duty.msg_id)"' | sort -u >"$WORK/duty.txt"
no_duty=$(join -v1 "$WORK/open.txt" <(cut -d' ' -f1 "$WORK/duty.txt" | sort -u) | wc -l)
[ "$no_duty" -eq 0 ] || fail "$no_duty open alerts without a duty message at the subscriber"
bad_id=$(awk '{ split($2, p, "-"); if (p[1] != $1) print }' "$WORK/duty.txt" | head -n 3)
[ -z "$bad_id" ] || fail "duty msg_id not of its alert: $bad_id"
dups=$(grep "^lorawatch/$FAULT_SITE/duty/tier/" "$WORK/phones.mqtt" | cut -d' ' -f2- | sed '/^(null)$/d' | jq -r .duty.msg_id | sort | uniq -d | wc -l)
pass "$(wc -l <"$WORK/open.txt") open alerts' duty messages delivered again ($dups msg_ids seen twice, to be dropped by the receiver)"

kill -TERM "$LW_PID_sim"; kill -CONT "$LW_PID_sim"
lw_stop_daemon
[ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity check"
pass "daemon exited 0; database intact"
