#!/usr/bin/env bash
# Replay attack: genuine frames of a water node are recorded off the air (flood raised, all clear,
# flood raised again) and played back later, byte for byte, through forged relay hops, and after
# a gateway restart. Yesterday's "all clear" must not clear today's flood: every copy is
# rejected, counted (replay, or mesh duplicate when a relay could have sent it), logged
# rate-limited; no reading, journal row or alert state changes; the node's next genuine frame
# is still accepted.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/attack-lib.sh"

lw_start_broker "$WORK"
atk_start atk <<EOF
[rule:deep]
metric = water_mm
threshold = 100
clear = 50
persistence = 0s
level = red
EOF
lw_spawn sub "$WORK/alerts.mqtt" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t 'lorawatch/atk/alert/+'
lw_capture all 'lorawatch/atk/#'
replay() { atk_metric 'lorawatch_frames_total{outcome="replay"}'; }
accepted() { atk_metric 'lorawatch_frames_total{outcome="accepted"}'; }

# ---- record 8 genuine frames off the air (the attacker's receiver, not the gateway) ---------
CAP=$(lw_free_port udp)
"${ATK[@]}" capture "$CAP" "$WORK/air.hex" 8 &
capture=$!
LW_PIDS+=("$capture")
lw_wait_for 5 sh -c "ss -H -lun 'sport = :$CAP' | grep -q ." || fail "capture not listening"
# fcnt 1..8, one per virtual second: 10 10 10 200 200 10 200 200 mm.
"$LW_BIN/lorawatch-sim" -q --gateway "127.0.0.1:$CAP" --network-id 0x4C57 --address 1 \
  --eui 70B3D57ED0000001 --key "$LW_N1_KEY" --kind water --acceleration 0 --count 8 \
  --set water_mm='10@0s 10@2s 200@3s 200@4s 10@5s 200@6s 200@7s' || fail "sim"
wait "$capture"
[ "$(wc -l <"$WORK/air.hex")" -eq 8 ] || fail "recorded $(wc -l <"$WORK/air.hex") frames, not 8"

# The genuine frames reach the gateway: raised, cleared, raised again (alert 2 active).
"${ATK[@]}" send "$LW_SIM_PORT" "$WORK/air.hex" >/dev/null
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq 8 ]" ||
  fail "genuine frames not stored: $(q 'SELECT count(*) FROM readings')"
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' 'SELECT count(*) FROM outbox') -eq 0 ]" || fail "outbox not emptied"
[ "$(q "SELECT group_concat(event, ' ') FROM (SELECT event FROM alert_journal WHERE event IN ('raised','cleared') ORDER BY id)")" = \
  "raised cleared raised" ] || fail "genuine run: journal $(q "SELECT group_concat(event) FROM alert_journal")"
ACTIVE=$(q "SELECT id FROM alerts WHERE cleared_ms IS NULL")
[ -n "$ACTIVE" ] || fail "no active alert after the genuine run"
pass "8 genuine frames recorded and delivered: raised, cleared, raised (alert $ACTIVE active)"

snapshot() {
  echo "readings $(q 'SELECT count(*) FROM readings')"
  echo "journal $(q "SELECT count(*) FROM alert_journal WHERE event != 'published'")"
  echo "alerts $(q "SELECT group_concat(id || ':' || coalesce(cleared_ms, 'open'), ' ') FROM alerts")"
}
snapshot >"$WORK/before.txt"
atk_fresh_metrics
r0=$(replay) a0=$(accepted) d0=$(atk_metric lorawatch_mesh_duplicates_total)
t0=$(date +%s)

# ---- byte-for-byte replays, and the "all clear" (fcnt 6) again and again --------------------
n=$("${ATK[@]}" send "$LW_SIM_PORT" "$WORK/air.hex")
for _ in 1 2 3 4 5; do "${ATK[@]}" send "$LW_SIM_PORT" "$WORK/air.hex" --lines 6:6 >/dev/null; done
lw_wait_for 10 atk_metric_is 'lorawatch_frames_total{outcome="replay"}' -eq $((r0 + n + 5)) ||
  fail "direct replays: replay counter $(replay), expected $((r0 + n + 5))"
pass "$((n + 5)) direct replays rejected as replays"

# ---- through forged relays: one hop, and two hops ------------------------------------------
"${ATK[@]}" send "$LW_SIM_PORT" "$WORK/air.hex" --relay 0x0A22:5 >/dev/null
"${ATK[@]}" send "$LW_SIM_PORT" "$WORK/air.hex" --lines 6:6 --relay 0x0A23:3 --relay 0x0A24:-4 >/dev/null
# A copy through a relay is what a second relay's genuine forward looks like: dropped as a mesh
# duplicate before any cryptography, not counted as an attack.
lw_wait_for 10 atk_metric_is lorawatch_mesh_duplicates_total -ge $((d0 + 9)) ||
  fail "relayed replays: mesh duplicates $(atk_metric lorawatch_mesh_duplicates_total), expected $((d0 + 9))"
[ "$(accepted)" -eq "$a0" ] || fail "a replay was accepted"
pass "9 replays through forged relay hops dropped as duplicates"

# ---- after a restart of the gateway: the sink has forgotten, the replay window has not -----
lw_stop_daemon
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon did not restart"
atk_fresh_metrics
"${ATK[@]}" send "$LW_SIM_PORT" "$WORK/air.hex" >/dev/null
"${ATK[@]}" send "$LW_SIM_PORT" "$WORK/air.hex" --relay 0x0A22:5 >/dev/null
"${ATK[@]}" send "$LW_SIM_PORT" "$WORK/air.hex" --lines 6:6 --relay 0x0A23:3 >/dev/null
lw_wait_for 10 atk_metric_is 'lorawatch_frames_total{outcome="replay"}' -eq 17 ||
  fail "after restart: replay counter $(replay), expected 17 (8 direct, 9 relayed)"
[ "$(accepted)" -eq 0 ] || fail "a replay was accepted after the restart"
pass "17 replays after a restart rejected (the node's counter survived the restart)"

sleep 0.5
snapshot >"$WORK/after.txt"
diff "$WORK/before.txt" "$WORK/after.txt" || fail "a replay changed the database"
[ "$(q "SELECT cleared_ms IS NULL FROM alerts WHERE id = $ACTIVE")" -eq 1 ] ||
  fail "yesterday's all clear cleared alert $ACTIVE"
cleared=$(grep -c "^lorawatch/atk/alert/$ACTIVE .*\"state\":\"cleared\"" "$WORK/alerts.mqtt" || true)
[ "$cleared" -eq 0 ] || fail "a cleared message for alert $ACTIVE reached the broker"
pass "readings, journal and alert states unchanged; alert $ACTIVE still raised"

lines=$(grep -c 'frame rejected: .*replay' "$WORK/lorawatchd.log" || true)
bound=$(atk_log_bound replay $(( $(date +%s) - t0 )))
[ "$lines" -ge 1 ] || fail "replays not logged"
[ "$lines" -le "$bound" ] || fail "$lines log lines for 39 replays: not rate-limited (bound $bound)"
pass "replays logged, rate-limited: $lines lines"

# ---- the node itself is still heard: its next genuine frame clears the flood ----------------
lw_n1_send --set water_mm=10 --fcnt-start 9
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \"SELECT count(*) FROM alerts WHERE id = $ACTIVE AND cleared_ms IS NOT NULL\") -eq 1 ]" ||
  fail "genuine frame after the replays did not clear alert $ACTIVE"
pass "the node's next genuine frame accepted and clears the alert"
lw_stop_daemon
lw_validate_captured "$WORK/alerts.mqtt" "$WORK/all.mqtt"
