#!/usr/bin/env bash
# End to end through two mosquitto brokers bridged on loopback, configured from the shipped
# examples in config/mosquitto/ (site, ports and paths substituted, plain TCP instead of TLS):
# the daemon publishes to the gateway's local broker; a duty phone logged in to the phones'
# broker gets the alert on its own duty topic, acknowledges it there, and gets the reply back
# through the bridge. The phones' broker's ACL keeps a phone from reading another's duty topic
# and from acknowledging as someone else. An alert raised while the phones' broker is down
# reaches it once it is back (queued in the bridge's persistent session).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

EX=$LW_SOURCE_DIR/config/mosquitto
PA=$(lw_free_port tcp)
PB=$(lw_free_port tcp)
[ "$PA" != "$PB" ] || PB=$(lw_free_port tcp)
mkdir -p "$WORK/a" "$WORK/b"

# The phones' broker (B): passwords and the ACL from acl.example.
sed 's/estate/bridge/g' "$EX/acl.example" >"$WORK/b/acl"
touch "$WORK/b/passwd"
chmod 600 "$WORK/b/passwd"
for u in lorawatch-gw-bridge wang-li duty-room; do
  mosquitto_passwd -b "$WORK/b/passwd" "$u" "pw-$u" || fail "mosquitto_passwd"
done
cat >"$WORK/b/mosquitto.conf" <<EOF
per_listener_settings true
listener $PB 127.0.0.1
allow_anonymous false
password_file $WORK/b/passwd
acl_file $WORK/b/acl
persistence true
persistence_location $WORK/b/
# Started as root, mosquitto would drop to its own user and not read the test's files.
user $(id -un)
EOF
# The gateway's broker (A): local.conf plus bridge.conf.example.
{
  sed -e "s/^listener 1883 127.0.0.1/listener $PA 127.0.0.1/" \
    -e "s|^persistence_location .*|persistence_location $WORK/a/|" "$EX/local.conf"
  sed -e 's/estate/bridge/g' -e "s/^address .*/address 127.0.0.1:$PB/" \
    -e '/^bridge_cafile/d' -e '/^bridge_insecure/d' \
    -e 's/^remote_password .*/remote_password pw-lorawatch-gw-bridge/' \
    -e 's/^restart_timeout .*/restart_timeout 1 2/' "$EX/bridge.conf.example"
  echo "user $(id -un)"
} >"$WORK/a/mosquitto.conf"
grep -q '^topic lorawatch/bridge/command/# in 1' "$WORK/a/mosquitto.conf" || fail "bridge example changed"

start_b() {
  mosquitto -c "$WORK/b/mosquitto.conf" >>"$WORK/broker-b.log" 2>&1 &
  LW_PIDS+=("$!")
  PID_B=$!
  lw_wait_for 5 lw_tcp_listening "$PB" || fail "phones' broker did not start: $(tail -n 3 "$WORK/broker-b.log")"
}
start_b
mosquitto -c "$WORK/a/mosquitto.conf" >"$WORK/broker-a.log" 2>&1 &
LW_PIDS+=("$!")
lw_wait_for 5 lw_tcp_listening "$PA" || fail "gateway broker did not start: $(tail -n 3 "$WORK/broker-a.log")"
LW_MQTT_PORT=$PA LW_CAPTURE_BROKER_LOG=$WORK/broker-a.log lw_capture all 'lorawatch/bridge/#'
lw_wait_for 10 grep -q 'lorawatch-gw-bridge' "$WORK/broker-b.log" || fail "bridge did not connect"

UDP=$(lw_free_port udp)
K1=44444444444444444444444444444444
cat >"$WORK/lorawatchd.conf" <<EOF
[gateway]
site = bridge
database = $WORK/lw.db
clock_check = none
[radio]
sim_listen = 127.0.0.1:$UDP
[mqtt]
port = $PA
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
[duty:wang-li]
tier = 1
grids = G1
[duty:duty-room]
tier = 2
EOF
chmod 600 "$WORK/lorawatchd.conf"
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon did not connect"

phone() { # phone USER ARGS...: a client of the phones' broker
  local u=$1
  shift
  "$@" -h 127.0.0.1 -p "$PB" -u "$u" -P "pw-$u"
}
# Started directly (not through phone) so that the pid recorded is mosquitto_sub's own.
lw_spawn wang "$WORK/wang.mqtt" mosquitto_sub -h 127.0.0.1 -p "$PB" -u wang-li -P pw-wang-li \
  -v -q 1 -t 'lorawatch/bridge/duty/person/wang-li' -t 'lorawatch/bridge/reply/wang-li' \
  -t 'lorawatch/bridge/alert/#'
# Subscribed to someone else's duty topic: the ACL delivers nothing.
lw_spawn snoop "$WORK/snoop.mqtt" mosquitto_sub -h 127.0.0.1 -p "$PB" -u wang-li -P pw-wang-li \
  -v -q 1 -t 'lorawatch/bridge/duty/person/duty-room'
sleep 1

send() { # send FCNT WATER
  "$LW_BIN/lorawatch-sim" -q --gateway "127.0.0.1:$UDP" --network-id 0x4C57 --address 1 \
    --eui 70B3D57ED0000001 --key $K1 --kind water --set "water_mm=$2" --fcnt-start "$1" \
    --acceleration 0 || fail "lorawatch-sim failed"
}
got() { # got FILE TOPIC JQ
  grep "^$2 " "$1" | cut -d' ' -f2- | sed '/^(null)$/d' | jq -e -s "map(select($3)) | length > 0" >/dev/null 2>&1
}
q() { sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" "$1"; }

send 1 150
lw_wait_for 10 got "$WORK/wang.mqtt" lorawatch/bridge/duty/person/wang-li '.id == 1 and .duty.tier == 1' ||
  fail "alert did not reach the phone through the bridge: $(cat "$WORK/wang.mqtt")"
got "$WORK/wang.mqtt" lorawatch/bridge/alert/1 '.state == "raised"' || fail "alert topic not bridged"
pass "alert from the daemon reached the phone on the bridged broker (duty and alert topics)"

phone wang-li mosquitto_pub -q 1 -t lorawatch/bridge/command/wang-li \
  -m '{"cmd":"ack","alert":1,"id":"p1","note":"on site"}'
lw_wait_for 10 got "$WORK/wang.mqtt" lorawatch/bridge/reply/wang-li '.id == "p1" and .ok == true' ||
  fail "no reply through the bridge"
[ "$(q "SELECT actor || '|' || via FROM alert_journal WHERE alert = 1 AND event = 'acknowledged'")" = "wang-li|mqtt" ] ||
  fail "acknowledgement through the bridge not journalled"
pass "acknowledged from the phones' broker; reply came back through the bridge"

# The ACL: wang-li may not act as the duty room, nor read its topic.
send 2 150 # same alert still open: no new alert; raise another by clearing first
send 3 10
send 4 150
lw_wait_for 10 got "$WORK/wang.mqtt" lorawatch/bridge/duty/person/wang-li '.id == 2' || fail "second alert"
phone wang-li mosquitto_pub -q 1 -t lorawatch/bridge/command/duty-room -m '{"cmd":"ack","alert":2,"id":"x"}'
sleep 2
[ "$(q "SELECT count(*) FROM alert_journal WHERE alert = 2 AND event = 'acknowledged'")" -eq 0 ] ||
  fail "the ACL let a phone acknowledge as someone else"
[ ! -s "$WORK/snoop.mqtt" ] || fail "the ACL let a phone read another's duty topic: $(head -n 2 "$WORK/snoop.mqtt")"
pass "the phones' broker's ACL: no acknowledging as someone else, no reading their duty topic"

# The phones' broker goes away; an alert raised meanwhile waits in the bridge's session.
kill -TERM "$PID_B"
wait "$PID_B" 2>/dev/null || true
send 5 10
send 6 150
lw_wait_for 5 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \"SELECT count(*) FROM alerts WHERE id = 3\") -eq 1 ]" ||
  fail "third alert not raised"
start_b
lw_wait_for 15 sh -c "timeout 3 mosquitto_sub -h 127.0.0.1 -p $PB -u wang-li -P pw-wang-li -t lorawatch/bridge/alert/3 -C 1 -W 2 | grep -q raised" ||
  fail "alert raised while the phones' broker was down never reached it"
pass "alert raised during the outage delivered once the phones' broker was back"

lw_stop_daemon
lw_validate_captured "$WORK/wang.mqtt" "$WORK/all.mqtt"
