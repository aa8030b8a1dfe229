#!/usr/bin/env bash
# The MQTT contract (docs/MQTT.md): every message the daemon publishes during the storm-and-fire
# scenario and at SIGTERM must match the JSON Schema for its topic (docs/schemas), and what is
# retained on the broker afterwards must be the last state of every alert, node and the gateway.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

SCHEMAS=$LW_SOURCE_DIR/docs/schemas
VALIDATE=$LW_SOURCE_DIR/tests/integration/validate_mqtt.py
SCEN=$LW_SOURCE_DIR/config/scenarios/storm-and-fire.ini
SITE=itest

# Debian's python3-jsonschema (scripts/setup) lives in /usr/bin/python3's path; a python3 earlier
# in PATH (pyenv, a venv) may not have it, or a different version: prefer the system one.
PY=
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import jsonschema' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
  echo "SKIP: no python3 with jsonschema (scripts/setup installs python3-jsonschema)"
  exit 77
fi
pass "validator: $PY, jsonschema $("$PY" -c 'import importlib.metadata as m; print(m.version("jsonschema"))')"

# The validator itself must reject what the contract forbids, or a pass below proves nothing.
printf '%s\n' 'lorawatch/itest/node/x {"node":"x","kind":"water","time":"2026-07-15T01:30:00+08:00","rssi":-90,"snr":1,"extra":1}' \
  >"$WORK/bad.txt"
if "$PY" "$VALIDATE" "$SCHEMAS" <"$WORK/bad.txt" >"$WORK/bad.out" 2>&1; then
  fail "validator accepted a node state with an unknown field"
fi
grep -q 'violates: node-state schema: .*extra' "$WORK/bad.out" ||
  fail "validator did not name the violated rule: $(cat "$WORK/bad.out")"
pass "validator rejects a payload outside the schema and names the rule"

lw_start_broker "$WORK"
UDP=$(lw_free_port udp)
lw_compose_config "$LW_SOURCE_DIR/config/lorawatch.conf" "$SCEN" "$SITE" "$WORK/lw.db" \
  "$LW_MQTT_PORT" "$UDP" "$WORK/lorawatchd.conf"
"$LW_BIN/lorawatchd" -n -f "$WORK/lorawatchd.conf" >/dev/null || fail "composed config invalid"

lw_spawn sub "$WORK/mqtt.log" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t "lorawatch/$SITE/#"
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q '"state":"online"' "$WORK/mqtt.log" || fail "no online status on MQTT"

"$LW_BIN/lorawatch-sim" -q -s "$SCEN" --gateway "127.0.0.1:$UDP" --acceleration 1200 \
  --summary-json "$WORK/sim.json" >"$WORK/sim.log" 2>&1 || fail "simulator failed"
sent=$(jq -r '.frames' "$WORK/sim.json")
[ "$sent" -gt 50 ] || fail "simulator sent only $sent frames"
# Every frame of the scenario is genuine and earns one node state: once all have arrived, the
# daemon has handled the whole night and can be stopped.
node_msgs() { grep -c "^lorawatch/$SITE/node/" "$WORK/mqtt.log" || true; }
lw_wait_for 10 sh -c "[ \$(grep -c '^lorawatch/$SITE/node/' '$WORK/mqtt.log') -ge $sent ]" ||
  fail "$(node_msgs) node states for $sent frames"
lw_stop_daemon
lw_wait_for 5 grep -q '"state":"offline"' "$WORK/mqtt.log" || fail "no offline status after SIGTERM"
sleep 0.3 # let mosquitto_sub write out anything still buffered
cp "$WORK/mqtt.log" "$WORK/messages.txt"

# Every message received, against its schema.
"$PY" "$VALIDATE" "$SCHEMAS" <"$WORK/messages.txt" >"$WORK/validate.out" 2>&1 || {
  cat "$WORK/validate.out" >&2
  fail "MQTT payloads do not match docs/schemas"
}
pass "every payload matches its schema: $(tail -n 1 "$WORK/validate.out")"

payloads() { grep "^lorawatch/$SITE/$1" "$WORK/messages.txt" | cut -d' ' -f2- | sed '/^(null)$/d'; }
count() { payloads "$1" | jq -s "[.[] | select($2)] | length"; }
raised=$(count alert/ '.state=="raised"')
cleared=$(count alert/ '.state=="cleared"')
[ "$raised" -ge 1 ] || fail "no alert raised"
[ "$cleared" -ge 1 ] || fail "no alert cleared"
[ "$(count gateway/status '.state=="online"')" -ge 1 ] || fail "no online status"
[ "$(payloads gateway/status | tail -n 1 | jq -r .state)" = offline ] ||
  fail "the last status message is not offline"
payloads gateway/status | tail -n 1 | jq -e '.counters.radio_malformed != null' >/dev/null ||
  fail "the offline status at stop lacks the radio counter"
while read -r node; do
  grep -q "^lorawatch/$SITE/node/$node " "$WORK/messages.txt" || fail "no node state for $node"
done < <(sed -n 's/^\[node:\(.*\)\]$/\1/p' "$SCEN")
nodes=$(grep -c '^\[node:' "$SCEN")
pass "$raised raised and $cleared cleared alerts, online and offline status, all $nodes scenario nodes"

# Retained on the broker now: one message per retained topic seen (open alerts, status, node
# states; the duty topics are not retained), each the last one seen on it. An alert that ended
# was sent as it happened and then removed (an empty retained message): alert/# shows what is
# open, not the season.
grep -v "^lorawatch/$SITE/duty/" "$WORK/messages.txt" >"$WORK/retained-kinds.txt" || true
: >"$WORK/expect-retained.txt"
: >"$WORK/expect-removed.txt"
while read -r topic; do
  last=$(grep "^$topic " "$WORK/retained-kinds.txt" | tail -n 1)
  if [ "$last" = "$topic (null)" ]; then echo "$topic" >>"$WORK/expect-removed.txt"
  else printf '%s\n' "$last" >>"$WORK/expect-retained.txt"; fi
done < <(cut -d' ' -f1 "$WORK/retained-kinds.txt" | sort -u)
ntopics=$(wc -l <"$WORK/expect-retained.txt")
[ -s "$WORK/expect-removed.txt" ] || fail "no alert ended and was removed from the broker"
mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -v -t "lorawatch/$SITE/#" --retained-only \
  -C "$ntopics" -W 5 >"$WORK/retained.txt" 2>&1 || true
"$PY" "$VALIDATE" "$SCHEMAS" <"$WORK/retained.txt" >"$WORK/validate-retained.out" 2>&1 || {
  cat "$WORK/validate-retained.out" >&2
  fail "retained payloads do not match docs/schemas"
}
[ "$(wc -l <"$WORK/retained.txt")" -eq "$ntopics" ] ||
  fail "$(wc -l <"$WORK/retained.txt") retained messages for $ntopics topics"
while read -r last; do
  grep -qxF -- "$last" "$WORK/retained.txt" || fail "retained message on ${last%% *} is not the last one sent"
done <"$WORK/expect-retained.txt"
while read -r topic; do
  grep -q "^$topic " "$WORK/retained.txt" && fail "alert $topic ended but is still retained"
  grep "^$topic " "$WORK/messages.txt" | tail -n 2 | head -n 1 | grep -Eq '"state":"(cleared|closed)"' ||
    fail "alert $topic removed without its all-clear sent first"
done <"$WORK/expect-removed.txt"
pass "$ntopics topics retained, each with its last message; $(wc -l <"$WORK/expect-removed.txt") ended alerts sent, then removed"

# The last will: the broker publishes it when the daemon dies without saying goodbye. The new
# subscriber first gets the retained offline status of the clean stop, then online, then the will.
lw_spawn sub2 "$WORK/mqtt-will.log" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t "lorawatch/$SITE/gateway/status"
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q '"state":"online"' "$WORK/mqtt-will.log" || fail "no online status after restart"
kill -KILL "$LW_DAEMON_PID"
wait "$LW_DAEMON_PID" 2>/dev/null || true
lw_wait_for 5 sh -c "sed -n '/\"state\":\"online\"/,\$p' '$WORK/mqtt-will.log' | grep -q '\"state\":\"offline\"'" ||
  fail "no last will after SIGKILL"
sleep 0.2
"$PY" "$VALIDATE" "$SCHEMAS" <"$WORK/mqtt-will.log" >"$WORK/validate-will.out" 2>&1 || {
  cat "$WORK/validate-will.out" >&2
  fail "status or last will after a restart does not match docs/schemas"
}
will=$(tail -n 1 "$WORK/mqtt-will.log" | cut -d' ' -f2- | sed '/^(null)$/d')
[ "$(jq -r .state <<<"$will")" = offline ] || fail "last message after SIGKILL is not the offline will"
pass "last will after SIGKILL matches the schema (counters $(jq -c .counters <<<"$will" | head -c 60)...)"

# The other rule types, live: a rate of rise, a silent detector, tamper and fault flags, each
# raised and cleared, on alert/<id> and paged to a duty roster, against the same schemas.
cat >"$WORK/types.ini" <<'INI'
[scenario]
name = rule-types
description = Rate of rise, a silent smoke detector, tamper and fault flags, for test 15.
start = 2026-07-20T02:00:00+08:00
duration = 20m
acceleration = 1200
network_id = 0x4C57
tick = 1s
seed = 15

[node:t-rise]
address = 0x0A01
eui = 70B3D57ED0000A01
key = 3C4F8E1A9B2D7C6E5F0A1B2C3D4E5F60
kind = water
label = Street water sensor, rising then falling
building = 1
grid = 1
tags = street
water_mm = 0@0m 0@3m 100@8m 100@12m 0@13m 0@20m
battery_mv = 3600

[node:t-quiet]
address = 0x0A02
eui = 70B3D57ED0000A02
key = 8D2E6F1C4B9A3E7D0C5F2A8B1E4D7C60
kind = smoke
label = Smoke detector reporting every 8 minutes
building = 2
grid = 1
offset = 30s
interval = 8m
smoke = 0
battery_mv = 3600

[node:t-flags]
address = 0x0A03
eui = 70B3D57ED0000A03
key = 5B7A9C1E3D2F4A6B8C0E1D3F5A7B9C20
kind = gas
label = Kitchen gas detector, opened then faulty
building = 3
grid = 1
gas_lel = 0
flags = 0@0m 2@2m 0@6m 1@9m 0@14m
battery_mv = 3600
INI
TSITE=itest-types
lw_compose_config "$LW_SOURCE_DIR/config/lorawatch.conf" "$WORK/types.ini" "$TSITE" "$WORK/types.db" \
  "$LW_MQTT_PORT" "$UDP" "$WORK/types.conf"
printf '\n[duty:t-worker]\ntier = 1\ngrids = 1\n[duty:t-room]\ntier = 2\n' >>"$WORK/types.conf"
"$LW_BIN/lorawatchd" -n -f "$WORK/types.conf" >/dev/null || fail "composed rule-types config invalid"
lw_spawn sub3 "$WORK/mqtt-types.log" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t "lorawatch/$TSITE/#"
lw_start_daemon "$WORK/types.conf"
lw_wait_for 10 grep -q '"state":"online"' "$WORK/mqtt-types.log" || fail "no online status (rule types)"
"$LW_BIN/lorawatch-sim" -q -s "$WORK/types.ini" --gateway "127.0.0.1:$UDP" \
  --summary-json "$WORK/types-sim.json" >"$WORK/types-sim.log" 2>&1 || fail "simulator failed (rule types)"
sent=$(jq -r '.frames' "$WORK/types-sim.json")
lw_wait_for 10 sh -c "[ \$(grep -c '^lorawatch/$TSITE/node/' '$WORK/mqtt-types.log') -ge $sent ]" ||
  fail "not every frame of the rule-types run arrived"
lw_stop_daemon
sleep 0.3
cp "$WORK/mqtt-types.log" "$WORK/types.txt"
"$PY" "$VALIDATE" "$SCHEMAS" <"$WORK/types.txt" >"$WORK/validate-types.out" 2>&1 || {
  cat "$WORK/validate-types.out" >&2
  fail "payloads of silence, flag and rate-of-rise alerts do not match docs/schemas"
}
seen=$(grep "^lorawatch/$TSITE/\(alert\|duty/person\)/" "$WORK/types.txt" | cut -d' ' -f2- | sed '/^(null)$/d' |
  jq -r 'select(.state) | "\(.rule) \(.state) \(.duty.kind // "alert")"' | sort -u)
for want in "flood-rising raised alert" "flood-rising cleared alert" "silence-fire raised alert" \
  "silence-fire cleared alert" "tamper raised alert" "tamper cleared alert" \
  "sensor-fault raised alert" "sensor-fault cleared alert" "flood-rising raised notified" \
  "silence-fire raised notified" "tamper raised notified" "sensor-fault cleared cleared"; do
  grep -qx "$want" <<<"$seen" || fail "no '$want' message; seen: $(tr '\n' ';' <<<"$seen")"
done
pass "rate-of-rise, silence and flag alerts and their duty pages match the schema: $(tail -n 1 "$WORK/validate-types.out")"
# The alert rows say what the messages said: a silence alert's threshold is its timeout (200 s).
thr=$(sqlite3 "$WORK/types.db" "SELECT DISTINCT threshold FROM alerts WHERE rule = 'silence-fire'")
[ "$thr" = 200.0 ] || fail "silence-fire alert rows store threshold '$thr', not the 200 s timeout"
pass "silence-fire alert rows store the 200 s timeout as their threshold"
