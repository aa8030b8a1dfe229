#!/usr/bin/env bash
# The udp-forwarder backend end to end: fake_forwarder, a byte-for-byte stand-in for Semtech's
# lora_pkt_fwd, pushes rxpk carrying sealed frames to the real lorawatchd with a real mosquitto.
# Readings land in SQLite with the rxpk's RSSI/SNR, a flood alert arrives over MQTT, every ACK
# echoes its token, malformed datagrams are dropped and counted, and SIGTERM exits 0.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

lw_start_broker "$WORK"
UDP=$(lw_free_port udp)
KEY=3A9F0B6C1D2E4F5061728394A5B6C7D8
cat >"$WORK/lorawatchd.conf" <<EOC
[gateway]
site = fwd
database = $WORK/lw.db
clock_check = none
log_level = info
[radio]
backend = udp-forwarder
forwarder_listen = 127.0.0.1:$UDP
[mqtt]
port = $LW_MQTT_PORT
reconnect_min = 200ms
[rule:cellar-flood]
metric = water_mm
tags = basement
threshold = 100
clear = 50
level = red
[node:cellar-b2]
address = 0x0101
eui = 70B3D57ED0000101
key = $KEY
kind = water
building = 2
place = cellar of building 2
tags = basement
EOC
chmod 600 "$WORK/lorawatchd.conf" # it holds a node key: lorawatchd refuses files others can read
"$LW_BIN/lorawatchd" -n -f "$WORK/lorawatchd.conf" >"$WORK/check.log" 2>&1 ||
  fail "config with backend = udp-forwarder refused"

lw_spawn sub "$WORK/mqtt.log" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t 'lorawatch/fwd/alert/+' -t 'lorawatch/fwd/gateway/status'
lw_capture all 'lorawatch/fwd/#'
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q '"state":"online"' "$WORK/mqtt.log" || fail "daemon not online"
grep -q "radio udp-forwarder: listening on udp 127.0.0.1:$UDP" "$WORK/lorawatchd.log" ||
  fail "backend did not announce its address"
pass "daemon online with backend udp-forwarder on 127.0.0.1:$UDP"

ff() { "$LW_TESTBIN/fake_forwarder" --server "127.0.0.1:$UDP" --key "$KEY" --address 0x0101 "$@"; }
rows() { sqlite3 "$WORK/lw.db" "SELECT count(*) FROM readings${1:+ WHERE $1}"; }
alive() { kill -0 "$LW_DAEMON_PID" 2>/dev/null || fail "daemon died after $1"; }
# summary FILE FIELD: a number from fake_forwarder's JSON summary, its last line (before it, the
# PULL_RESP downlinks it received: alarm acknowledgements, when the gateway had a route in time).
summary() { tail -n 1 "$1" | jq -r ".$2"; }

# Dry cellar: three frames in one PUSH_DATA, as a concentrator delivers a burst.
ff --water 10 --count 3 --per-push 3 --rssi -87 --lsnr 7.5 >"$WORK/ff1.json" 2>"$WORK/ff1.log" ||
  fail "fake_forwarder (dry) reported a protocol violation"
[ "$(summary "$WORK/ff1.json" push_acks)" -eq "$(summary "$WORK/ff1.json" push_data)" ] &&
  [ "$(summary "$WORK/ff1.json" pull_acks)" -ge 1 ] && [ "$(summary "$WORK/ff1.json" bad)" -eq 0 ] ||
  fail "acknowledgements: $(cat "$WORK/ff1.json")"
lw_wait_for 5 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq 3 ]" ||
  fail "3 pushed frames: $(rows) rows"
[ "$(rows 'rssi_x10 = -870 AND snr_x10 = 75 AND water_mm = 10')" -eq 3 ] ||
  fail "RSSI/SNR of the rxpk not stored: $(sqlite3 "$WORK/lw.db" 'SELECT fcnt, rssi_x10, snr_x10 FROM readings')"
pass "3 rxpk of one PUSH_DATA stored with rssi -87 dBm, lsnr 7.5 dB; PUSH_ACK/PULL_ACK tokens match"

# Flooded cellar, from an SX1302-style forwarder (rssi and rssis), followed by one datagram of
# every malformed kind and a CRC-failed and an FSK rxpk; keeps pulling for a while.
ff --water 250 --count 2 --fcnt-start 10 --rssi -101 --lsnr -4.5 --rssis --malformed \
  --keepalive 300 --linger 1200 >"$WORK/ff2.json" 2>"$WORK/ff2.log" ||
  fail "fake_forwarder (flood) reported a protocol violation"
alive "malformed datagrams"
[ "$(summary "$WORK/ff2.json" push_acks)" -eq "$(summary "$WORK/ff2.json" push_data)" ] &&
  [ "$(summary "$WORK/ff2.json" pull_acks)" -ge 3 ] &&
  [ "$(summary "$WORK/ff2.json" pull_acks)" -eq "$(summary "$WORK/ff2.json" pull_data)" ] &&
  [ "$(summary "$WORK/ff2.json" malformed_sent)" -eq 6 ] ||
  fail "acknowledgements: $(cat "$WORK/ff2.json")"
pass "every PULL_DATA ($(summary "$WORK/ff2.json" pull_data)) and PUSH_DATA acknowledged with its token, malformed ones not"

alerts() { grep '^lorawatch/fwd/alert/' "$WORK/mqtt.log" | cut -d' ' -f2- | sed '/^(null)$/d'; }
lw_wait_for 10 sh -c "grep -q '\"hazard\":\"flood\"' '$WORK/mqtt.log'" || fail "no flood alert"
alerts | jq -se 'any(.[]; .hazard=="flood" and .state=="raised" and .level=="red"
                 and .node.name=="cellar-b2" and .value==250)' >/dev/null ||
  fail "flood alert lacks level/node/value: $(alerts)"
pass "red flood alert for cellar-b2 (250 mm) received over MQTT"

lw_wait_for 5 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq 5 ]" ||
  fail "expected 5 readings, found $(rows)"
[ "$(rows 'fcnt >= 10 AND rssi_x10 = -1010 AND snr_x10 = -45 AND water_mm = 250')" -eq 2 ] ||
  fail "flood readings: $(sqlite3 "$WORK/lw.db" 'SELECT fcnt, rssi_x10, snr_x10 FROM readings')"
[ "$(rows 'fcnt = 12')" -eq 0 ] || fail "a frame from a CRC-failed or FSK rxpk was stored"
pass "flood readings stored with the channel rssi (-101 dBm) and lsnr -4.5 dB; CRC-failed rxpk not"

# A second concentrator appears: announced with its EUI.
ff --eui 0016C001FF10A235 --water 20 --count 1 --fcnt-start 20 >"$WORK/ff3.json" 2>"$WORK/ff3.log" ||
  fail "fake_forwarder (second gateway) failed"
lw_wait_for 5 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq 6 ]" ||
  fail "frame through the second forwarder not stored"
grep -q 'new forwarder AA555A0000000101 from 127.0.0.1:' "$WORK/lorawatchd.log" &&
  grep -q 'new forwarder 0016C001FF10A235' "$WORK/lorawatchd.log" ||
  fail "new forwarders not logged"
pass "each new forwarder logged by EUI"

alive "all of it"
lw_stop_daemon
pass "SIGTERM: exit 0"

# The subscriber writes through stdio: wait until the offline status is in its file whole.
lw_wait_for 5 sh -c "grep '\"state\":\"offline\"' '$WORK/mqtt.log' | tail -n 1 | cut -d' ' -f2- | sed '/^(null)$/d' | jq -e .counters >/dev/null 2>&1" ||
  true
# The final status, not the last will (built at start, so without the radio's counters): a loaded
# broker may still deliver the will after it when the connection closes.
last=$(grep '"state":"offline"' "$WORK/mqtt.log" | cut -d' ' -f2- | sed '/^(null)$/d' |
  jq -c -s 'map(select(.counters.radio_malformed != null)) | last // empty' 2>/dev/null || true)
[ -n "$last" ] || fail "no offline status with counters"
counter() { printf '%s' "$last" | jq -r ".counters.$1"; }
# 6 dropped datagrams + the CRC-failed and the FSK rxpk.
[ "$(counter radio_malformed)" -eq 8 ] || fail "radio_malformed $(counter radio_malformed) != 8"
[ "$(counter accepted)" -eq 6 ] || fail "accepted $(counter accepted) != 6"
[ "$(counter frames)" -eq 6 ] || fail "frames $(counter frames) != 6"
pass "counters at stop: $(printf '%s' "$last" | jq -c .counters)"

drops=$(grep -c 'radio udp-forwarder: dropped' "$WORK/lorawatchd.log" || true)
[ "$drops" -ge 1 ] && [ "$drops" -le 6 ] || fail "$drops log lines for 6 dropped datagrams"
grep -q 'forwarder AA555A0000000101: [0-9]* PUSH_DATA, [0-9]* PULL_DATA' "$WORK/lorawatchd.log" ||
  fail "per-forwarder counts not logged at stop"
[ "$(sqlite3 "$WORK/lw.db" 'PRAGMA integrity_check')" = ok ] || fail "integrity check"
pass "drops logged rate-limited ($drops lines), per-forwarder counts logged at stop"
lw_validate_captured "$WORK/mqtt.log" "$WORK/all.mqtt"
