#!/usr/bin/env bash
# Three relays in a ring (mesh-loop.ini): frames could circle for ever. Each relay forwards a
# frame at most once, the run ends, and the gateway stores each reading once. A frame whose route
# already shows a loop, sent straight to the gateway, is dropped.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mesh-lib.sh"

mesh_start mesh-loop </dev/null
mesh_run
sent=$(node_frames sensor)
own=$(sim_json '[.nodes[].frames] | add')
fwd=$(sim_json .mesh.forwarded)
[ "$fwd" -le $((3 * own)) ] || fail "$fwd forwards for $own frames: something went round"
readings_reach 0x0C01 "$sent" || fail "sensor readings missing"
sleep 1
[ "$(q 'SELECT count(*) FROM readings WHERE node = 3073')" -eq "$sent" ] || fail "duplicate readings"
pass "ring of relays: $own frames, $fwd forwards (at most one per relay), one reading each"

# A frame with a looping route (the same relay twice) from a known node: rejected, never stored.
before=$(q 'SELECT count(*) FROM readings')
"$LW_BIN/lorawatch-sim" -q --gateway "127.0.0.1:$LW_SIM_PORT" --network-id 0x4C57 --address 1 \
  --eui 70B3D57ED0000001 --key "$LW_N1_KEY" --kind water --acceleration 0 --set water_mm=3 \
  --count 1 --mutate route-loop || fail "sim --mutate route-loop"
lw_wait_for 5 grep -q 'rejected by the mesh sink' "$WORK/lorawatchd.log" || fail "loop not rejected"
sleep 1
[ "$(q 'SELECT count(*) FROM readings')" -eq "$before" ] || fail "a looping frame was stored"
pass "a frame whose route loops is rejected by the mesh sink"

# Bad hop fields: a hop limit above the gateway's maximum (authenticated, so set by the origin),
# and a hop counted without a real route entry (the MIC is then read at the wrong place).
for m in hop-limit hop-forged; do
  "$LW_BIN/lorawatch-sim" -q --gateway "127.0.0.1:$LW_SIM_PORT" --network-id 0x4C57 --address 1 \
    --eui 70B3D57ED0000001 --key "$LW_N1_KEY" --kind water --acceleration 0 --set water_mm=3 \
    --count 2 --fcnt-start 100 --mutate $m || fail "sim --mutate $m"
done
lw_wait_for 5 grep -q 'rejected by the mesh sink: value out of range' "$WORK/lorawatchd.log" ||
  fail "hop limit above the maximum not rejected"
sleep 1
[ "$(q 'SELECT count(*) FROM readings')" -eq "$before" ] || fail "a frame with bad hop fields was stored"
pass "hop limit above the gateway's maximum and a forged hop count: dropped, nothing stored"
lw_stop_daemon
lw_validate_captured "$WORK/all.mqtt"
