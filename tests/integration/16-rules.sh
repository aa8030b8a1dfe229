#!/usr/bin/env bash
# Rules end to end in virtual time (sim_clock = medium): the shipped rule set plus two probe rules,
# the rules-check scenario through lorawatch-sim, lorawatchd and a real mosquitto. Checks a
# rate-of-rise flood alert, a spike removed by the FloodNet filter, CO time-weighted alarms inside
# the EN 50291 windows, smoke confirmed by a second detector of the building one level up, and a
# silent smoke detector raising trouble within 200 s and clearing when heard again, and a basement
# red flood that readings flagged with a sensor fault do not clear.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

SCEN=$LW_SOURCE_DIR/config/scenarios/rules-check.ini
SITE=rtest
lw_start_broker "$WORK"
UDP=$(lw_free_port udp)
lw_compose_config "$LW_SOURCE_DIR/config/lorawatch.conf" "$SCEN" "$SITE" "$WORK/lw.db" \
  "$LW_MQTT_PORT" "$UDP" "$WORK/lorawatchd.conf"
# The same threshold with and without the FloodNet filter, on the node tagged probe only.
cat >>"$WORK/lorawatchd.conf" <<'EOC'

[rule:probe-raw]
metric = water_mm
tags = probe
filter = none
threshold = 150
clear = 50
level = red

[rule:probe-filtered]
metric = water_mm
tags = probe
filter = floodnet
threshold = 150
clear = 50
level = red
EOC
"$LW_BIN/lorawatchd" -n -f "$WORK/lorawatchd.conf" >"$WORK/check.log" 2>&1 ||
  fail "composed config invalid: $(cat "$WORK/check.log")"

lw_spawn sub "$WORK/mqtt.log" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t "lorawatch/$SITE/alert/+" -t "lorawatch/$SITE/gateway/status"
lw_capture all "lorawatch/$SITE/#"
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q '"state":"online"' "$WORK/mqtt.log" || fail "no online status on MQTT"

"$LW_BIN/lorawatch-sim" -q -s "$SCEN" --gateway "127.0.0.1:$UDP" \
  --summary-json "$WORK/sim.json" >"$WORK/sim.log" 2>&1 || fail "simulator failed"
start=$(jq -r '.start_ms' "$WORK/sim.json")
sent=$(jq -r '.frames' "$WORK/sim.json")
[ "$sent" -gt 100 ] || fail "simulator sent only $sent frames"
# Every frame becomes a reading: once all are stored the daemon has seen the whole run.
lw_wait_for 15 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings') -ge $sent ]" ||
  fail "not every frame was stored"
sleep 0.5 # the last ticks and their publications
lw_stop_daemon
sleep 0.3

alerts() { grep "^lorawatch/$SITE/alert/" "$WORK/mqtt.log" | cut -d' ' -f2- | sed '/^(null)$/d' | grep -v '^$'; }
# q JQ_FILTER: apply a filter to the array of every alert message received.
q() { alerts | jq -s "$1"; }
# first RULE NODE STATE: seconds from the scenario start to that alert transition, or null.
first() {
  q "[.[] | select(.rule==\"$1\" and .node.name==\"$2\" and .state==\"$3\")] | sort_by(.time_ms)
     | (.[0].time_ms // null) | if . == null then null else (. - $start) / 1000 end"
}
alerts >"$WORK/alerts.json" || true
echo "alerts received: $(alerts | wc -l)"

# Rate of rise: 10 mm/min from 300 s; the 10-minute least-squares slope, dry readings before
# included, passes 5 mm/min within a few readings.
t=$(first flood-rising street-rise raised)
[ "$t" != null ] || fail "no rate-of-rise alert for street-rise"
awk -v t="$t" 'BEGIN { exit !(t > 300 && t <= 720) }' || fail "rate-of-rise alert at $t s"
[ "$(q '[.[] | select(.rule=="flood-rising" and .state=="raised")][0].level')" = '"yellow"' ] ||
  fail "rate-of-rise alert level"
pass "rate-of-rise flood alert for street-rise at $t s (rising from 300 s)"

# Spike: the raw rule sees the 200 mm echo, the filtered one and the shipped rules do not.
[ "$(first probe-raw street-spike raised)" != null ] || fail "probe-raw never saw the spike"
[ "$(first probe-filtered street-spike raised)" = null ] || fail "the spike passed the filter"
[ "$(q '[.[] | select(.node.name=="street-spike" and .hazard=="flood"
                      and (.rule|startswith("probe")|not))] | length')" = 0 ] ||
  fail "a shipped flood rule alerted on the spike"
pass "single-sample spike: raised without the filter, removed with it"

# CO, time-weighted (EN 50291): exposure from 120 s.
t300=$(first co-twa co-300 raised)
t100=$(first co-twa co-100 raised)
[ "$t300" != null ] && [ "$t100" != null ] || fail "CO alarms missing (300: $t300, 100: $t100)"
awk -v a="$t300" -v b="$t100" 'BEGIN { exit !(a - 120 <= 180 && b - 120 >= 600 && b - 120 <= 2400) }' ||
  fail "CO alarm times: 300 ppm after $((${t300%.*} - 120)) s, 100 ppm after $((${t100%.*} - 120)) s"
[ "$(first co-twa co-30 raised)" = null ] || fail "30 ppm raised a CO alarm"
pass "CO: 300 ppm alarm after $(awk -v a="$t300" 'BEGIN{print a-120}') s, 100 ppm after $(awk -v b="$t100" 'BEGIN{print (b-120)/60}') min, none at 30 ppm"

# Smoke: one detector at once at the rule's level; the second of the building one level up.
lvl() { q "[.[] | select(.rule==\"fire-smoke\" and .node.name==\"$1\" and .state==\"raised\")][0].level"; }
[ "$(lvl smoke-a)" = '"orange"' ] || fail "first detector of block 9: $(lvl smoke-a)"
[ "$(lvl smoke-b)" = '"red"' ] || fail "second detector of block 9 not raised to red: $(lvl smoke-b)"
[ "$(lvl smoke-lone)" = '"orange"' ] || fail "lone detector of block 11: $(lvl smoke-lone)"
pass "smoke: single detectors orange, the second detector of block 9 red"

# Silence: smoke-quiet is heard at 60 s, then every 10 min.
ts=$(first silence-fire smoke-quiet raised)
tc=$(first silence-fire smoke-quiet cleared)
[ "$ts" != null ] && [ "$tc" != null ] || fail "silence alert raised at $ts s, cleared at $tc s"
awk -v s="$ts" -v c="$tc" 'BEGIN { exit !(s - 60 >= 200 && s - 60 <= 240 && c >= 660 && c < 670) }' ||
  fail "silence raised $ts s / cleared $tc s (heard at 60 s and 660 s)"
[ "$(q '[.[] | select(.rule=="silence-fire" and .state=="raised")][0].hazard')" = '"trouble"' ] ||
  fail "silence alert is not trouble"
others=$(q '[.[] | select((.rule|startswith("silence")) and .node.name!="smoke-quiet")] | length')
[ "$others" = 0 ] || fail "$others silence alerts for nodes that kept reporting"
pass "silent smoke detector: trouble $(awk -v s="$ts" 'BEGIN{print s-60}') s after its last frame, cleared when heard at $tc s"

# Sensor fault: basement-fault stands in 300 mm (red flood), reports the fault flag with 0 mm from
# 1200 s and sound 0 mm from 1800 s. The fault is trouble; the flood stays open until 1800 s.
tr=$(first flood-basement basement-fault raised)
tf=$(first sensor-fault basement-fault raised)
tc=$(first flood-basement basement-fault cleared)
[ "$tr" != null ] && [ "$tf" != null ] && [ "$tc" != null ] ||
  fail "basement-fault: flood raised $tr s, sensor fault $tf s, flood cleared $tc s"
awk -v r="$tr" -v f="$tf" -v c="$tc" 'BEGIN { exit !(r < 1200 && f >= 1200 && f < 1800 && c >= 1800) }' ||
  fail "the flood cleared at $tc s on readings flagged with a sensor fault (fault at $tf s)"
kept=$(sqlite3 "$WORK/lw.db" "SELECT count(*) FROM readings WHERE node = 2314 AND flags & 1 AND water_mm = 0")
[ "$kept" -ge 5 ] || fail "faulty readings not stored as received ($kept)"
# Nor are they water in the roll-ups the review reads: frames counted, no value taken.
ru=$(sqlite3 "$WORK/lw.db" "SELECT sum(frames) - sum(n) FROM rollup_hour WHERE node = 2314")
[ "${ru:-0}" -ge "$kept" ] || fail "roll-ups took $((kept - ${ru:-0})) faulty readings as depths"
h5=$("$LW_BIN/lorawatch" history --node basement-fault --every 5min --json --db "$WORK/lw.db" \
  --from "@$((start / 1000))" --to "@$((start / 1000 + 3600))" | jq '[.[] | .frames - .n] | add')
[ "${h5:-0}" -ge "$kept" ] || fail "5-minute history took $((kept - ${h5:-0})) faulty readings as depths"
pass "sensor fault: trouble at $tf s, the red flood held until sound readings at $tc s"

jr=$(sqlite3 "$WORK/lw.db" "SELECT count(*) FROM alert_journal WHERE event = 'raised'")
[ "$jr" -eq "$(q '[.[] | select(.state=="raised")] | length')" ] ||
  fail "journal has $jr raised rows, MQTT showed $(q '[.[] | select(.state=="raised")] | length')"
pass "$jr alerts journalled and published"
lw_validate_captured "$WORK/mqtt.log" "$WORK/all.mqtt"
