#!/usr/bin/env bash
# The walking skeleton end to end: the storm-and-fire scenario through lorawatch-sim, lorawatchd
# and a real mosquitto; flood and fire alerts must arrive over MQTT and every frame the simulator
# sent must be a row in the SQLite file.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

SCEN=$LW_SOURCE_DIR/config/scenarios/storm-and-fire.ini
lw_start_broker "$WORK"
UDP=$(lw_free_port udp)
lw_compose_config "$LW_SOURCE_DIR/config/lorawatch.conf" "$SCEN" itest "$WORK/lw.db" \
  "$LW_MQTT_PORT" "$UDP" "$WORK/lorawatchd.conf"
"$LW_BIN/lorawatchd" -n -f "$WORK/lorawatchd.conf" >/dev/null || fail "composed config invalid"

lw_spawn sub "$WORK/mqtt.log" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t 'lorawatch/itest/alert/+' -t 'lorawatch/itest/gateway/status'
lw_capture all 'lorawatch/itest/#'
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q '"state":"online"' "$WORK/mqtt.log" || fail "no online status on MQTT"
pass "daemon online, retained status published"

"$LW_BIN/lorawatch-sim" -q -s "$SCEN" --gateway "127.0.0.1:$UDP" --acceleration 1200 \
  --summary-json "$WORK/sim.json" >"$WORK/sim.log" 2>&1 || fail "simulator failed"
sent=$(jq -r '.frames' "$WORK/sim.json")
[ "$sent" -gt 50 ] || fail "simulator sent only $sent frames"

alerts() { grep '^lorawatch/itest/alert/' "$WORK/mqtt.log" | cut -d' ' -f2- | sed '/^(null)$/d'; }
# has_alert JQ_CONDITION: some alert message received satisfies the condition.
has_alert() { alerts | jq -se "any(.[]; $1)" >/dev/null; }
lw_wait_for 10 sh -c "grep -q '\"hazard\":\"fire\"' '$WORK/mqtt.log'" || fail "no fire alert"
lw_wait_for 10 sh -c "grep -q '\"hazard\":\"flood\"' '$WORK/mqtt.log'" || fail "no flood alert"
has_alert '.hazard=="flood" and .state=="raised" and .level=="red"
           and .node.name=="garage-b7-b1" and (.place.tags|index("basement")) != null
           and .value >= .threshold and (.text_zh|length) > 0 and (.text_en|length) > 0' || fail "no red flood alert for the basement garage with place and sentences"
has_alert '.hazard=="fire" and .level=="red" and .metric=="smoke" and .place.building=="2"' ||
  fail "fire alert lacks level/metric"
has_alert '.hazard=="flood" and .state=="cleared"' ||
  fail "the receding flood never cleared its alert"
pass "flood (raised and cleared) and fire alerts received over MQTT"

lw_stop_daemon
lw_wait_for 5 sh -c "grep -q '\"state\":\"offline\"' '$WORK/mqtt.log'" ||
  fail "no offline status after SIGTERM"
pass "SIGTERM: exit 0, offline status published"

rows=$(sqlite3 "$WORK/lw.db" 'SELECT count(*) FROM readings')
[ "$rows" -eq "$sent" ] || fail "database has $rows readings, simulator sent $sent frames"
wet=$(sqlite3 "$WORK/lw.db" "SELECT max(water_mm) FROM readings r JOIN nodes n ON n.address = r.node
                            WHERE n.name = 'garage-b7-b1'")
[ "$wet" -ge 200 ] || fail "garage peak water $wet mm not stored"
jr=$(sqlite3 "$WORK/lw.db" "SELECT count(*) FROM alert_journal WHERE event = 'raised'")
pub=$(sqlite3 "$WORK/lw.db" "SELECT count(*) FROM alert_journal WHERE event = 'published'")
ob=$(sqlite3 "$WORK/lw.db" "SELECT count(*) FROM outbox")
[ "$jr" -ge 2 ] || fail "alert journal has $jr raised rows"
[ "$ob" -eq 0 ] || fail "$ob messages still in the outbox after a clean run"
[ "$pub" -ge "$jr" ] || fail "journal: $jr raised but only $pub published"
[ "$(sqlite3 "$WORK/lw.db" 'PRAGMA integrity_check')" = ok ] || fail "integrity check"
pass "$rows readings and $jr alerts journalled (all published, outbox empty)"
lw_validate_captured "$WORK/mqtt.log" "$WORK/all.mqtt"
