#!/usr/bin/env bash
# A water sensor three relays away from the gateway (mesh-chain.ini): every frame arrives with
# hop count 3 and the relays' path recorded, every ALARM is acknowledged back along the chain,
# and the sensor never has to give up on an alarm.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mesh-lib.sh"

mesh_start mesh-chain </dev/null
mesh_run
sent=$(node_frames garage-b2)
[ "$sent" -ge 20 ] || fail "sensor sent only $sent frames"
readings_reach 0x0A01 "$sent" || fail "readings of garage-b2: $(q 'SELECT count(*) FROM readings WHERE node = 2561'), sent $sent"
[ "$(q 'SELECT count(*) FROM readings WHERE node = 2561')" -eq "$sent" ] || fail "more readings than frames"
[ "$(q 'SELECT min(hops) || max(hops) FROM readings WHERE node = 2561')" = 33 ] ||
  fail "hops of garage-b2: $(q 'SELECT DISTINCT hops FROM readings WHERE node = 2561')"
pass "3-hop chain: $sent frames, $sent readings, each with hop count 3"

[ "$(q 'SELECT hops FROM readings WHERE node = 2577 LIMIT 1')" = 2 ] || fail "relay-b1 is 2 hops out"
[ "$(q 'SELECT hops FROM readings WHERE node = 2579 LIMIT 1')" = 0 ] || fail "relay-roof is heard directly"
lw_wait_for 10 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' 'SELECT hops, relay FROM nodes WHERE address = 2561')\" = '3|2579' ]" ||
  fail "node row: $(q 'SELECT hops, relay FROM nodes WHERE address = 2561')"
pass "node registry: last relay 0x0A13 (the roof), 3 hops"

alarms=$(sim_json .mesh.alarms)
[ "$alarms" -ge 10 ] && [ "$(sim_json .mesh.alarms_acked)" -eq "$alarms" ] ||
  fail "alarms $alarms, acknowledged $(sim_json .mesh.alarms_acked)"
[ "$(sim_json '.nodes[] | select(.name == "garage-b2") | .downlinks')" -ge "$alarms" ] || fail "downlinks"
pass "every ALARM acknowledged through three relays ($alarms)"
lw_stop_daemon
lw_validate_captured "$WORK/all.mqtt"
