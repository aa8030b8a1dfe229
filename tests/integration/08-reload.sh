#!/usr/bin/env bash
# SIGHUP reload: rules, nodes and the duty roster change at once and keep their state (active
# alerts, replay windows); settings that need a restart are reported and keep their running value; alerts of a
# removed rule are closed on the record; a broken file is refused and the old configuration keeps
# running.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

lw_start_broker "$WORK"
lw_capture all 'lorawatch/rl/#'
UDP=$(lw_free_port udp)
K1=0F1E2D3C4B5A69788796A5B4C3D2E1F0
K2=1F2E3D4C5B6A79889706B5C4D3E2F100
write_conf() { # write_conf MQTT_PORT RULES... (rule names a, b) [n2] [duty ann|bob|badduty]
  local port=$1
  shift
  {
    printf '[gateway]\nsite = rl\ndatabase = %s\n' "$WORK/lw.db"
    printf '[radio]\nsim_listen = 127.0.0.1:%s\n[mqtt]\nport = %s\n' "$UDP" "$port"
    printf '[node:n1]\naddress = 1\neui = 70B3D57ED0000001\nkey = %s\nkind = water\n' "$K1"
    for r in "$@"; do
      case $r in
        a) printf '[rule:a]\nmetric = water_mm\nthreshold = 100\nclear = 50\nlevel = yellow\n' ;;
        b) printf '[rule:b]\nmetric = water_mm\nthreshold = 120\nclear = 50\nlevel = red\n' ;;
        n2) printf '[node:n2]\naddress = 2\neui = 70B3D57ED0000002\nkey = %s\nkind = water\n' "$K2" ;;
        ann|bob) printf '[duty:%s]\ntier = 1\ngrids = *\n' "$r" ;;
        badduty) printf '[duty:eve]\ntier = 9\ngrids = *\n' ;;
      esac
    done
  } >"$WORK/lorawatchd.conf.new"
  chmod 600 "$WORK/lorawatchd.conf.new"
  mv "$WORK/lorawatchd.conf.new" "$WORK/lorawatchd.conf"
}
send() { # send ADDRESS KEY FCNT WATER
  "$LW_BIN/lorawatch-sim" -q --gateway "127.0.0.1:$UDP" --network-id 0x4C57 --address "$1" \
    --eui "70B3D57ED000000$1" --key "$2" --kind water --set "water_mm=$4" --fcnt-start "$3" \
    --acceleration 0 || fail "lorawatch-sim failed"
}
q() { sqlite3 "$WORK/lw.db" "$1"; }
hup_and_wait() { # hup_and_wait PATTERN: SIGHUP, then wait for a log line
  local n
  n=$(grep -c "$1" "$WORK/lorawatchd.log" || true)
  kill -HUP "$LW_DAEMON_PID"
  lw_wait_for 5 sh -c "[ \$(grep -c '$1' '$WORK/lorawatchd.log') -gt $n ]" ||
    fail "no '$1' after SIGHUP"
}

write_conf "$LW_MQTT_PORT" a
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon did not connect"
send 1 "$K1" 1 150
lw_wait_for 5 sh -c "[ \"\$(sqlite3 '$WORK/lw.db' \"SELECT count(*) FROM alerts WHERE rule='a'\")\" = 1 ]" ||
  fail "rule a not raised"
pass "rule a raised before the reload"

write_conf 1 a b n2 # the MQTT port changes too: that one needs a restart
hup_and_wait 'configuration reloaded: 2 nodes, 2 rules'
grep -q '\[mqtt\] port changed; it takes effect after a restart' "$WORK/lorawatchd.log" ||
  fail "restart-only change not reported"
send 1 "$K1" 2 150
send 2 "$K2" 1 10
lw_wait_for 5 sh -c "[ \"\$(sqlite3 '$WORK/lw.db' \"SELECT count(*) FROM alerts WHERE rule='b'\")\" = 1 ]" ||
  fail "new rule b not applied"
[ "$(q "SELECT count(*) FROM alerts WHERE rule='a'")" = 1 ] || fail "rule a raised twice: state lost"
lw_wait_for 5 sh -c "[ \"\$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings WHERE node=2')\" = 1 ]" ||
  fail "new node n2 not accepted"
grep -q 'mqtt: lost connection' "$WORK/lorawatchd.log" && fail "reload dropped the MQTT session"
pass "reload: new rule and node live, active alert kept, restart-only key kept running value"

write_conf 1 a n2 # rule b removed while its alert is active
hup_and_wait 'configuration reloaded: 2 nodes, 1 rules'
[ "$(q "SELECT state FROM alerts WHERE rule='b'")" = closed ] || fail "alert of removed rule not closed"
[ "$(q "SELECT count(*) FROM alert_journal j JOIN alerts a ON a.id=j.alert WHERE a.rule='b' AND j.event='closed'")" = 1 ] ||
  fail "closing not journalled"
pass "alert of a removed rule closed in the journal"

printf '[rule:broken]\nmetric = water_mm\nthreshold = lots\n' >>"$WORK/lorawatchd.conf"
hup_and_wait 'reload refused'
grep -q "lorawatchd.conf:[0-9]*: \[rule:broken\] threshold = lots" "$WORK/lorawatchd.log" ||
  fail "refused reload did not say file:line"
send 1 "$K1" 3 10
lw_wait_for 5 sh -c "[ \"\$(sqlite3 '$WORK/lw.db' \"SELECT state FROM alerts WHERE rule='a'\")\" = cleared ]" ||
  fail "old configuration not in force after a refused reload"
pass "broken file refused; the running configuration kept working"

send 1 "$K1" 2 10 # a counter used before the reloads
sleep 0.3
lw_stop_daemon
grep -q 'replayed or stale frame counter.*src 0x0001, fcnt 2' "$WORK/lorawatchd.log" ||
  fail "replay window not carried across reloads"
pass "replay window carried across reloads"

# An alert still raised when the daemon stops, whose rule is gone when it starts again: closed in
# the journal, and its retained "raised" message removed from the broker.
write_conf "$LW_MQTT_PORT" a n2
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "restart did not connect"
send 1 "$K1" 4 150
lw_wait_for 5 sh -c "[ \"\$(sqlite3 '$WORK/lw.db' \"SELECT count(*) FROM alerts WHERE rule='a' AND state='raised'\")\" = 1 ]" ||
  fail "rule a not raised again"
id=$(q "SELECT id FROM alerts WHERE rule='a' AND state='raised'")
topic="lorawatch/rl/alert/$id"
[ -n "$(mosquitto_sub -p "$LW_MQTT_PORT" -t "$topic" -C 1 -W 3 2>/dev/null)" ] ||
  fail "alert $id not retained on the broker (the port change must not have applied)"
lw_stop_daemon
write_conf "$LW_MQTT_PORT" n2 # no rules at all now
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q "alert #$id (rule a) no longer applies: closed" "$WORK/lorawatchd.log" ||
  fail "stale alert not closed at start"
[ "$(q "SELECT state FROM alerts WHERE id=$id")" = closed ] || fail "alert $id not closed in the store"
lw_wait_for 10 sh -c "[ \"\$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM outbox')\" = 0 ]" ||
  fail "removal of the retained message not acknowledged"
[ -z "$(mosquitto_sub -p "$LW_MQTT_PORT" -t "$topic" -C 1 -W 2 2>/dev/null)" ] ||
  fail "retained message of closed alert $id still on the broker"
lw_stop_daemon
pass "alert of a rule removed while stopped: closed at start, retained message removed"

# The duty roster reloads with the rules: the person on duty changes without a restart, and a
# roster with an error is refused whole (the running one keeps paging).
lw_spawn duty "$WORK/duty.mqtt" mosquitto_sub -p "$LW_MQTT_PORT" -q 1 -v -t 'lorawatch/rl/duty/person/+'
write_conf "$LW_MQTT_PORT" a ann
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon did not connect (roster)"
write_conf "$LW_MQTT_PORT" a bob
hup_and_wait 'configuration reloaded'
write_conf "$LW_MQTT_PORT" a badduty
hup_and_wait 'reload refused'
send 1 "$K1" 5 150
lw_wait_for 10 grep -q '^lorawatch/rl/duty/person/bob ' "$WORK/duty.mqtt" ||
  fail "the reloaded roster's person was not paged: $(cat "$WORK/duty.mqtt")"
grep -q '^lorawatch/rl/duty/person/\(ann\|eve\) ' "$WORK/duty.mqtt" &&
  fail "a person of the old or the refused roster was paged"
lw_stop_daemon
pass "duty roster reloaded: the new person on duty is paged; a broken roster is refused"
lw_validate_captured "$WORK/duty.mqtt" "$WORK/all.mqtt"
