#!/usr/bin/env bash
# config/scenarios/mesh-chain.ini against the shipped rules: the B2 garage sensor (no basement
# tag) goes from 0 to 300 mm within a minute and then reads a flat 300 mm for 10 minutes, as water
# pouring down a ramp does, and as a car parked under a street sensor would. The FloodNet filter
# may keep such a level back for 5 minutes at most (docs/RULES.md): the street rules must raise,
# marked unconfirmed in the payload and in both sentences, and every alert message must fit its
# schema.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

SCEN=$LW_SOURCE_DIR/config/scenarios/mesh-chain.ini
SITE=mtest
lw_start_broker "$WORK"
UDP=$(lw_free_port udp)
lw_compose_config "$LW_SOURCE_DIR/config/lorawatch.conf" "$SCEN" "$SITE" "$WORK/lw.db" \
  "$LW_MQTT_PORT" "$UDP" "$WORK/lorawatchd.conf"
"$LW_BIN/lorawatchd" -n -f "$WORK/lorawatchd.conf" >"$WORK/check.log" 2>&1 ||
  fail "composed config invalid: $(cat "$WORK/check.log")"

lw_spawn sub "$WORK/mqtt.log" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t "lorawatch/$SITE/alert/+" -t "lorawatch/$SITE/gateway/status"
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q '"state":"online"' "$WORK/mqtt.log" || fail "no online status on MQTT"

"$LW_BIN/lorawatch-sim" -s "$SCEN" --gateway "127.0.0.1:$UDP" --acceleration 0 --reply-wait 1s \
  --summary-json "$WORK/sim.json" >"$WORK/sim.log" 2>&1 || fail "simulator: $(tail -n 3 "$WORK/sim.log")"
start=$(jq -r '.start_ms' "$WORK/sim.json")
sent=$(jq -r '.nodes[] | select(.name == "garage-b2") | .frames' "$WORK/sim.json")
# Every frame of the sensor becomes a reading: once all are stored the daemon has seen the run.
lw_wait_for 15 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' 'SELECT count(*) FROM readings WHERE node = 2561') -ge $sent ]" ||
  fail "not every frame of garage-b2 was stored ($sent sent)"
max=$(sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" 'SELECT max(water_mm) FROM readings WHERE node = 2561')
[ "${max%.*}" -ge 300 ] || fail "garage-b2 never read 300 mm (max $max)"
sleep 0.5 # the last ticks and their publications
lw_stop_daemon
sleep 0.3

alerts() { grep "^lorawatch/$SITE/alert/" "$WORK/mqtt.log" | cut -d' ' -f2- | sed '/^(null)$/d' | grep -v '^$' || true; }
q() { alerts | jq -s "$1"; }
# raised RULE: the first raised message of RULE for garage-b2, or null.
raised() {
  q "[.[] | select(.rule==\"$1\" and .node.name==\"garage-b2\" and .state==\"raised\")]
     | sort_by(.time_ms) | .[0]"
}
echo "alerts received: $(alerts | wc -l)"

# The water arrives between 9:07 and 10:07 (one reading of 35 mm on the way). flood-watch (no
# persistence) within the filter's 5 minutes and one reading after that; flood-street within its
# own 5 minutes more.
for rule in flood-watch flood-street; do
  a=$(raised "$rule")
  [ "$a" != null ] || fail "no $rule alert for garage-b2 (300 mm for 10 minutes)"
  t=$(jq -r ".time_ms - $start" <<<"$a")
  limit=967000 # 10:07 + 6 min
  [ "$rule" = flood-watch ] || limit=1267000 # and the street rule's 5 min
  [ "$(jq -r '.unconfirmed' <<<"$a")" = true ] || fail "$rule: not marked unconfirmed: $a"
  jq -r '.text_en' <<<"$a" | grep -q 'Unconfirmed: possibly an obstruction under the sensor' ||
    fail "$rule: the English sentence does not say unconfirmed: $(jq -r '.text_en' <<<"$a")"
  jq -r '.text_zh' <<<"$a" | grep -q '未经确认' ||
    fail "$rule: the Chinese sentence does not say unconfirmed: $(jq -r '.text_zh' <<<"$a")"
  [ "$t" -le "$limit" ] || fail "$rule raised $((t / 1000)) s after the start (at most $((limit / 1000)))"
  pass "$rule raised for garage-b2 $((t / 1000)) s after the start, marked unconfirmed"
done

# Every alert payload of the run, against the schema (when a validator is installed).
PY=
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import jsonschema' 2>/dev/null; then PY=$p; break; fi
done
if [ -n "$PY" ]; then
  grep "^lorawatch/$SITE/alert/" "$WORK/mqtt.log" | grep -v ' $' >"$WORK/alerts.txt" || true
  "$PY" "$LW_SOURCE_DIR/tests/integration/validate_mqtt.py" "$LW_SOURCE_DIR/docs/schemas" \
    <"$WORK/alerts.txt" >"$WORK/validate.out" 2>&1 || fail "schema: $(cat "$WORK/validate.out")"
  pass "all $(wc -l <"$WORK/alerts.txt") alert messages fit docs/schemas/alert.schema.json"
fi
