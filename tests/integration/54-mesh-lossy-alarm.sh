#!/usr/bin/env bash
# A smoke detector behind a link that loses 30 % of the frames both ways (mesh-lossy-alarm.ini):
# retransmissions with back-off carry every alarm to the gateway, each is acknowledged, and no
# retransmission becomes a second alert.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mesh-lib.sh"

mesh_start mesh-lossy-alarm </dev/null
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
lw_stop_daemon
lw_validate_captured "$WORK/all.mqtt"
