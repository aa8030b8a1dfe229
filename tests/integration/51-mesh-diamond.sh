#!/usr/bin/env bash
# Two relays hear the same frames and both forward them (mesh-diamond.ini): the gateway gets two
# copies of each and stores one reading per frame; copies are dropped before any cryptography.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mesh-lib.sh"

mesh_start mesh-diamond </dev/null
mesh_run
sent=$(node_frames cellar)
copies=$(sim_json .mesh.copies_at_gateway)
[ "$sent" -ge 8 ] || fail "cellar sent only $sent frames"
[ "$copies" -ge 1 ] || fail "the gateway never got a second copy: the diamond did not form"
[ "$(sim_json '.nodes[] | select(.name == "relay-east") | .forwarded')" -ge 1 ] &&
  [ "$(sim_json '.nodes[] | select(.name == "relay-west") | .forwarded')" -ge 1 ] ||
  fail "both relays should forward"
readings_reach 0x0B01 "$sent" || fail "readings missing"
sleep 1
[ "$(q 'SELECT count(*) FROM readings WHERE node = 2817')" -eq "$sent" ] ||
  fail "$(q 'SELECT count(*) FROM readings WHERE node = 2817') readings for $sent frames ($copies copies)"
[ "$(q 'SELECT count(DISTINCT fcnt) FROM readings WHERE node = 2817')" -eq "$sent" ] || fail "fcnt repeated"
pass "diamond: $sent frames, $copies extra copies at the gateway, $sent readings"
! grep -q 'replayed' "$WORK/lorawatchd.log" || fail "relay copies were treated as replays"
pass "copies are not reported as replays"
lw_stop_daemon
lw_validate_captured "$WORK/all.mqtt"
