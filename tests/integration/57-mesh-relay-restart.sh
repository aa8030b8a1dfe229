#!/usr/bin/env bash
# A restart while a relay is already dark does not start its silence again: the relay of block 12
# loses power at 4 min, the daemon is killed (-9) and started again at about 5.5 min, and the
# trouble alert still comes at 4 min + relay_silence (7 min), not 3 min after the restart (which
# would be after the 8-minute scenario). Healthy relay-14 stays unreported: only time the daemon
# listened counts as a relay's silence.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/mesh-lib.sh"

mesh_start mesh-relay-fail <<EOF2
[mesh]
relay_silence = 3m
EOF2
start_ms=$(($(date -d 2026-07-20T02:00:00+08:00 +%s) * 1000))
# 8 virtual minutes in 24 s
mesh_run --acceleration 20 &
sim=$!
# Virtual time from the newest stored reading.
vnow() { echo $((($(q 'SELECT coalesce(max(ts_ms), 0) FROM readings') - start_ms) / 1000)); }
lw_wait_for 30 sh -c "[ \$(( (\$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' 'SELECT coalesce(max(ts_ms), 0) FROM readings') - $start_ms) / 1000 )) -ge 330 ]" ||
  fail "the scenario did not reach 5.5 min: $(vnow) s"
[ "$(q "SELECT count(*) FROM alerts WHERE rule = 'relay-silent'")" -eq 0 ] || fail "relay alert before 7 min"
at=$(vnow)
kill -KILL "$LW_DAEMON_PID"
wait "$LW_DAEMON_PID" 2>/dev/null || true
lw_start_daemon "$WORK/lorawatchd.conf"
pass "daemon killed and started again at about ${at} s virtual, relay-12 dark since 240 s"
wait "$sim" || fail "lorawatch-sim: $(tail -n 3 "$WORK/sim.log")"
[ "$(sim_json '.nodes[] | select(.name == "relay-12") | .failed')" = true ] || fail "relay-12 did not fail"
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \"SELECT count(*) FROM alerts WHERE rule = 'relay-silent'\") -ge 1 ]" ||
  fail "no relay-silent alert by the end of the scenario (the restart at ${at} s started its silence again): $(grep -i relay "$WORK/lorawatchd.log" | tail -n 3)"
row=$(q "SELECT node, (raised_ms - $start_ms) / 1000 FROM alerts WHERE rule = 'relay-silent'")
[ "$(q "SELECT count(*) FROM alerts WHERE rule = 'relay-silent'")" -eq 1 ] || fail "relay alerts: $row"
raised=${row#*|}
[ "${row%|*}" = 3601 ] || fail "relay alert on node ${row%|*}, expected relay-12 (3601)"
# Due 180 s after the last frame relay-12 carried (its own or a sensor's behind it, just before
# 240 s); the relay check and the frames that carry the clock add a few seconds.
last=$(q "SELECT (max(ts_ms) - $start_ms) / 1000 FROM readings WHERE node IN (3585, 3586, 3587, 3601) AND ts_ms < $start_ms + 240000")
[ "$raised" -ge $((last + 180)) ] && [ "$raised" -le 450 ] ||
  fail "relay-12 reported at ${raised} s virtual, due from $((last + 180)) s to 450 s (last stored frame at ${last} s, silence 180 s)"
pass "relay-12 reported at ${raised} s virtual across the restart (last stored frame at ${last} s)"
lw_stop_daemon
lw_validate_captured "$WORK/all.mqtt"
