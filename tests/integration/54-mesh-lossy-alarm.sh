#!/usr/bin/env bash
# A smoke detector behind a link that loses 30 % of the frames both ways (mesh-lossy-alarm.ini):
# retransmissions with back-off carry every alarm to the gateway, each is acknowledged, and no
# retransmission becomes a second alert: under the shipped smoke rule the one smoke episode (from
# minute 1 to the end) is exactly one alert, raised once and still open.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mesh-lib.sh"

# The shipped fire-smoke rule (config/lorawatch.conf), so every alarm reading meets a rule.
sed -n '/^\[rule:fire-smoke\]$/,/^$/p' "$LW_SOURCE_DIR/config/lorawatch.conf" >"$WORK/rule.conf"
grep -q '^threshold' "$WORK/rule.conf" || fail "no fire-smoke rule in the shipped config"
mesh_start mesh-lossy-alarm <"$WORK/rule.conf"
mesh_run
alarms=$(sim_json .mesh.alarms)
lost=$(sim_json .mesh.lost_link)
[ "$alarms" -ge 10 ] || fail "only $alarms alarms"
[ "$lost" -ge 3 ] || fail "the link lost only $lost frames: not a lossy link"
[ "$(sim_json .mesh.alarms_delivered)" -eq "$alarms" ] || fail "alarms delivered: $(sim_json .mesh.alarms_delivered)/$alarms"
[ "$(sim_json .mesh.alarms_acked)" -eq "$alarms" ] || fail "alarms acknowledged: $(sim_json .mesh.alarms_acked)/$alarms"
retries=$(grep -c 'ALARM retransmission' "$WORK/sim.log" || true)
[ "$retries" -ge 1 ] || fail "no retransmission was needed: the loss did not bite"
pass "30 % link loss: $alarms alarms, all delivered and acknowledged ($retries retransmissions, $lost frames lost)"
# Every frame that reached the gateway is one reading; the retransmissions are new frames.
frames=$(q 'SELECT count(*) FROM readings WHERE node = 3329')
[ "$frames" -ge "$alarms" ] || fail "readings $frames < alarms $alarms"
pass "p99 alarm latency $(sim_json .mesh.alarm_latency_p99_ms) ms"
# One smoke episode, one alert: every alarm and retransmission after the first meets the open
# alert; none raises a second one, none clears it.
sleep 1 # the last batch
alerts=$(q "SELECT count(*) FROM alerts WHERE node = 3329")
[ "$alerts" -eq 1 ] || fail "$alerts alerts for one smoke episode: $(q "SELECT id, rule, state FROM alerts")"
[ "$(q "SELECT rule || ' ' || hazard || ' ' || state FROM alerts WHERE node = 3329")" = "fire-smoke fire raised" ] ||
  fail "the alert: $(q "SELECT rule, hazard, state FROM alerts WHERE node = 3329")"
raised=$(q "SELECT count(*) FROM alert_journal j JOIN alerts a ON a.id = j.alert WHERE a.node = 3329 AND j.event = 'raised'")
[ "$raised" -eq 1 ] || fail "the alert was raised $raised times"
[ "$(q "SELECT count(*) FROM alerts WHERE node != 3329")" -eq 0 ] || fail "alerts for other nodes"
pass "$alarms alarms over the lossy link: exactly one fire-smoke alert, raised once, still open"
lw_stop_daemon
lw_validate_captured "$WORK/all.mqtt"
