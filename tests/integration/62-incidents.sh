#!/usr/bin/env bash
# Incidents in virtual time (config/scenarios/basement-flood*.ini): the three basement sensors
# of building 7 go red one after the other and form one flood incident (the alert messages
# carry its id); the grid worker is paged for each flood alert; then the pit sensor falls silent
# under the water: its silence alert is raised and journalled but not paged, because the
# building's flood incident explains it. Last the water drains and the pit sensor reports again:
# every alert of the incident clears and the incident closes.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

SCEN1=$LW_SOURCE_DIR/config/scenarios/basement-flood.ini
SCEN2=$LW_SOURCE_DIR/config/scenarios/basement-flood-after.ini
SCEN3=$LW_SOURCE_DIR/config/scenarios/basement-flood-recede.ini
SITE=inc
lw_start_broker "$WORK"
UDP=$(lw_free_port udp)
lw_compose_config "$LW_SOURCE_DIR/config/lorawatch.conf" "$SCEN1" "$SITE" "$WORK/lw.db" \
  "$LW_MQTT_PORT" "$UDP" "$WORK/lorawatchd.conf"
printf '\n[duty:worker-1]\ntier = 1\ngrids = 1\n[duty:room]\ntier = 2\n' >>"$WORK/lorawatchd.conf"
"$LW_BIN/lorawatchd" -n -f "$WORK/lorawatchd.conf" >"$WORK/check.log" 2>&1 ||
  fail "composed config invalid: $(cat "$WORK/check.log")"
lw_spawn sub "$WORK/mqtt.log" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t "lorawatch/$SITE/alert/+" -t "lorawatch/$SITE/duty/person/+"
lw_capture all "lorawatch/$SITE/#"
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "no broker connection"
q() { sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" "$1"; }

"$LW_BIN/lorawatch-sim" -q -s "$SCEN1" --gateway "127.0.0.1:$UDP" >"$WORK/sim1.log" 2>&1 ||
  fail "simulator (part 1): $(cat "$WORK/sim1.log")"
"$LW_BIN/lorawatch-sim" -q -s "$SCEN2" --gateway "127.0.0.1:$UDP" >"$WORK/sim2.log" 2>&1 ||
  fail "simulator (part 2): $(cat "$WORK/sim2.log")"
sleep 1

floods=$(q "SELECT count(*) FROM alerts a JOIN nodes n ON n.address = a.node WHERE a.hazard = 'flood' AND n.building = '7'")
[ "$floods" -ge 3 ] || fail "only $floods flood alerts in building 7"
[ "$(q "SELECT count(DISTINCT incident) FROM alerts WHERE hazard = 'flood'")" -eq 1 ] ||
  fail "flood alerts of one building are not one incident: $(q "SELECT id, rule, incident FROM alerts")"
inc=$(q "SELECT incident FROM alerts WHERE hazard = 'flood' LIMIT 1")
[ "$(q "SELECT hazard || ' ' || building || ' ' || (closed_ms IS NULL) FROM incidents WHERE id = $inc")" = "flood 7 1" ] ||
  fail "incident row: $(q "SELECT * FROM incidents")"
grep "^lorawatch/$SITE/alert/" "$WORK/mqtt.log" | cut -d' ' -f2- | sed '/^(null)$/d' |
  jq -e -s "map(select(.hazard == \"flood\")) | length > 0 and all(.incident == $inc)" >/dev/null ||
  fail "flood alert messages do not carry incident $inc"
pass "three basement flood alerts form one incident, named in their messages"

sil=$(q "SELECT a.id FROM alerts a JOIN nodes n ON n.address = a.node WHERE a.rule = 'silence-water' AND n.name = 'b7-pit'")
[ -n "$sil" ] || fail "the drowned pit sensor's silence was not raised: $(q "SELECT id, rule, node FROM alerts")"
[ "$(q "SELECT count(*) FROM alert_journal WHERE alert = $sil AND event = 'silenced' AND detail LIKE '%flood incident #$inc%'")" -eq 1 ] ||
  fail "silence alert not marked as caused by the flood"
[ "$(q "SELECT count(*) FROM alert_journal WHERE alert = $sil AND event IN ('notified', 'escalated')")" -eq 0 ] ||
  fail "the drowned sensor's silence paged someone"
grep -q "^lorawatch/$SITE/duty/person/worker-1 .*\"id\":$sil," "$WORK/mqtt.log" && fail "silence alert on a duty topic"
grep -q "^lorawatch/$SITE/duty/person/worker-1 .*\"hazard\":\"flood\"" "$WORK/mqtt.log" ||
  fail "the flood itself was not paged"
pass "the silent sensor under water: alert raised and journalled, not paged (flood incident)"

"$LW_BIN/lorawatch-sim" -q -s "$SCEN3" --gateway "127.0.0.1:$UDP" >"$WORK/sim3.log" 2>&1 ||
  fail "simulator (part 3): $(cat "$WORK/sim3.log")"
lw_wait_for 10 sh -c "[ -n \"\$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' 'SELECT closed_ms FROM incidents WHERE id = $inc')\" ]" ||
  fail "incident $inc still open after the water drained: $(q "SELECT id, rule, state, incident FROM alerts")"
[ "$(q "SELECT count(*) FROM alerts WHERE incident = $inc AND state = 'raised'")" -eq 0 ] ||
  fail "incident closed with alerts still raised"
[ "$(q "SELECT state FROM alerts WHERE id = $sil")" != raised ] || fail "the pit sensor's silence alert did not clear"
[ "$(q "SELECT closed_ms >= max(a.cleared_ms) FROM incidents i JOIN alerts a ON a.incident = i.id WHERE i.id = $inc")" = 1 ] ||
  fail "incident closed before its last alert cleared: $(q "SELECT * FROM incidents")"
pass "the water drains: every alert of incident $inc clears and the incident closes"

lw_stop_daemon
lw_validate_captured "$WORK/mqtt.log" "$WORK/all.mqtt"
