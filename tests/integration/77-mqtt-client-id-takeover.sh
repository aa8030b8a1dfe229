#!/usr/bin/env bash
# Two gateways configured with the same site share one MQTT client id: each connection takes the
# session from the other. The gateway must say so (an error naming the client id, the site and
# what to do), count it (lorawatch_mqtt_takeovers_total) and stay away for a while instead of
# reconnecting at full speed for ever. Two ways to learn of it: a real mosquitto 2.0 as in Debian
# 12, which just closes the older connection, and an MQTT 5 broker that says why (DISCONNECT
# reason 0x8E, mosquitto 2.0.15 and later), played by fake_broker_takeover.py.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

lw_start_broker "$WORK"
# The broker logs every connection; the gateways reconnect as fast as they are allowed to.
twin_conf() {
  local n=$1
  cat >"$WORK/twin-$n.conf" <<EOC
[gateway]
site = twin
database = $WORK/twin-$n.db
clock_check = none
metrics_file = $WORK/twin-$n.prom
metrics_interval = 1s
[radio]
sim_listen = 127.0.0.1:$(lw_free_port udp)
[mqtt]
port = $2
reconnect_min = 200ms
reconnect_max = 2s
EOC
  chmod 600 "$WORK/twin-$n.conf"
}
twin_conf a "$LW_MQTT_PORT"
twin_conf b "$LW_MQTT_PORT"
lw_spawn twin_a "$WORK/twin-a.log" "$LW_BIN/lorawatchd" -d -f "$WORK/twin-a.conf"
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/twin-a.log" || fail "gateway a did not connect"
# Another start second: the gateways' statuses differ in their start time.
sleep 1.2
lw_spawn twin_b "$WORK/twin-b.log" "$LW_BIN/lorawatchd" -d -f "$WORK/twin-b.conf"
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/twin-b.log" || fail "gateway b did not connect"
lw_wait_for 15 grep -q 'another gateway connected' "$WORK/twin-a.log" "$WORK/twin-b.log" ||
  fail "no gateway said that another one took its session: $(grep -h mqtt "$WORK"/twin-*.log | tail -n 5)"
line=$(grep -h 'another gateway connected' "$WORK"/twin-*.log | head -n 1)
case $line in
  *"client id lorawatchd-twin"*"two gateways with site twin?"*"give each its own [mqtt] client_id / site"*"tries again in 30 s"*) ;;
  *) fail "take-over error does not name the client id, site and remedy: $line" ;;
esac
# The newer gateway (b) gives way; the older one (a) keeps the session: never both.
grep -q 'another gateway connected' "$WORK/twin-a.log" &&
  fail "the older gateway gave way: $(grep -h 'another gateway\|gives way' "$WORK"/twin-*.log)"
grep -q 'another gateway connected' "$WORK/twin-b.log" || fail "the newer gateway did not give way"
pass "the fight over client id lorawatchd-twin is logged by the newer gateway, which gives way: $line"

# Bounded: in the 15 s after (less than the 30 s the one that left waits) the broker sees a
# handful of connections as lorawatchd-twin, not one every reconnect_min (200 ms) from each side.
before=$(grep -c 'as lorawatchd-twin ' "$WORK/mosquitto.log" || true)
sleep 15
after=$(grep -c 'as lorawatchd-twin ' "$WORK/mosquitto.log" || true)
[ $((after - before)) -le 4 ] ||
  fail "$((after - before)) connections as lorawatchd-twin in 15 s after the take-over was noticed"
[ "$before" -le 10 ] || fail "$before connections as lorawatchd-twin before the take-over was noticed"
n=$(cat "$WORK"/twin-*.log | grep -c 'another gateway connected' || true)
[ "$n" -le 2 ] || fail "take-over logged $n times"
grep -h '^lorawatch_mqtt_takeovers_total [1-9]' "$WORK"/twin-*.prom >/dev/null ||
  fail "takeover not in the metrics: $(grep -h takeovers "$WORK"/twin-*.prom)"
pass "reconnects bounded: $before connections until noticed, $((after - before)) in the 15 s after; counted in lorawatch_mqtt_takeovers_total"
# The one that stayed keeps the session: its status is online on the broker.
st=$(mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -t lorawatch/twin/gateway/status -C 1 -W 3 | jq -r .state)
[ "$st" = online ] || fail "retained status is $st while one gateway holds the session"
pass "one gateway keeps the session (status online)"
lw_cleanup

# An MQTT 5 broker that says why: reason 0x8E on every session.
PORT=$(lw_free_port tcp)
lw_spawn fake "$WORK/fake.log" python3 -u "$LW_SOURCE_DIR/tests/integration/fake_broker_takeover.py" "$PORT" 0.5
lw_wait_for 10 grep -q listening "$WORK/fake.log" || fail "fake broker did not start"
twin_conf c "$PORT"
lw_spawn twin_c "$WORK/twin-c.log" "$LW_BIN/lorawatchd" -d -f "$WORK/twin-c.conf"
lw_wait_for 10 grep -q 'another gateway connected' "$WORK/twin-c.log" ||
  fail "reason 0x8E not recognised: $(grep mqtt "$WORK/twin-c.log" | tail -n 5)"
grep -q 'CONNECT protocol 5 ' "$WORK/fake.log" || fail "the gateway did not speak MQTT 5: $(head -n 3 "$WORK/fake.log")"
line=$(grep 'another gateway connected' "$WORK/twin-c.log")
case $line in
  *"client id lorawatchd-twin (the broker ended this session: session taken over)"*"two gateways with site twin?"*"tries again in 30 s"*) ;;
  *) fail "0x8E error does not say so: $line" ;;
esac
sleep 5
[ "$(grep -c '^CONNECT' "$WORK/fake.log")" -eq 1 ] ||
  fail "reconnected within 5 s of a take-over: $(grep -c '^CONNECT' "$WORK/fake.log") connections"
pass "MQTT 5 reason 0x8E: $line; no reconnect within 5 s"
