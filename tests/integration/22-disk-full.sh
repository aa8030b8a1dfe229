#!/usr/bin/env bash
# Fault: the database's file system fills up under an alert storm. The database lives on a 2 MiB
# file system of its own (diskfull-lib.sh: a tmpfs in a private mount namespace, or an ENOSPC
# preload shim where no mount can be made; in CI one of them must work). While it is full:
# - every alert raised is still paged to the roster's tier-1 person (duty topic), not only
#   published on alert/<id>;
# - a red storage trouble alert reaches the duty room (tier 2), and the gateway status, the
#   metrics and `lorawatch status` show the storage problem;
# - ACKs to ALARM frames go on (downlink counters are reserved ahead, not at the ACK);
# - distinct (hazard, building) pairs get distinct incident ids;
# - the daemon keeps its WAL small (2 MiB: it must never fill the disk with its own log).
# When space returns, without a restart: every transition published is in the journal with its
# own time, alerts raised while full clear normally (no FOREIGN KEY errors), readings are stored
# again, the trouble alert clears, and counters.readings_stored counts only readings on disk.
#
# Also checks that an alert that could not be stored still has an id of its own (alert ids are
# handed out by the gateway, gw_next_alert_id in gateway/daemon/gw_journal.c): no id is published for two nodes.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/diskfull-lib.sh"
diskfull_enter "$@"
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/fault-lib.sh"

DISK=$((2 * 1024 * 1024))
MNT=$WORK/dbfs
diskfull_setup "$MNT" "$DISK"
DB=$MNT/lw.db

# Six water nodes in six buildings, each raising and clearing the storm rule every second, and
# a smoke detector whose alarm (ALARM frames asking for an ACK, one a second) starts only once
# the disk is full, so its first ACKs need downlink counters nobody reserved for an ACK yet.
NODES=6 ACCEL=20 PERIOD=20 INTERVAL=2
T_FILL=5 T_ALARM=8 # seconds after the simulator starts
SCEN=$WORK/storm.ini
fault_storm_scenario "$SCEN" "$NODES" $((120 * ACCEL)) "$PERIOD" "$INTERVAL" "$ACCEL"
sed -i -E 's/^label = storm node ([0-9]+)$/&\nbuilding = B\1/' "$SCEN"
cat >>"$SCEN" <<EOF
[node:smoke-1]
address = 0x3001
eui = 70B3D57EDF003001
key = 5A0000000000000000000000000C3001
kind = smoke
label = stairwell smoke detector
building = S1
interval = ${ACCEL}s
offset = 500ms
smoke = 0@0s 0@$((T_ALARM * ACCEL - 1))s 1@$((T_ALARM * ACCEL))s
alarm_ack = yes
battery_mv = 3600
EOF
"$LW_BIN/lorawatch-sim" -s "$SCEN" --check >/dev/null || fail "scenario invalid"
fault_start_broker "$WORK"
UDP=$(lw_free_port udp)
FAULT_LOG_LEVEL=debug fault_conf "$SCEN" "$DB" "$UDP" "$WORK/lorawatchd.conf"
sed -i "s|^clock_check = none|&\nmetrics_file = $WORK/metrics.prom\nmetrics_interval = 1s|" \
  "$WORK/lorawatchd.conf"
cat >>"$WORK/lorawatchd.conf" <<EOF

[duty:wang]
name = Wang Li
tier = 1
grids = *
[duty:room]
name = Duty room
tier = 2
EOF
"$LW_BIN/lorawatchd" -n -f "$WORK/lorawatchd.conf" >/dev/null || fail "configuration refused"

SITE=$FAULT_SITE
lw_spawn sub "$WORK/all.mqtt" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t "lorawatch/$SITE/alert/+" -t "lorawatch/$SITE/duty/#" -t "lorawatch/$SITE/gateway/status"
lw_wait_for 10 grep -q "New client connected" "$WORK/mosquitto.log" || fail "subscriber not up"
env "${DISKFULL_ENV[@]}" "$LW_BIN/lorawatchd" -d -f "$WORK/lorawatchd.conf" >>"$WORK/lorawatchd.log" 2>&1 &
LW_DAEMON_PID=$!
LW_PIDS+=("$LW_DAEMON_PID")
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon did not connect"

# The WAL's size, sampled all along (the daemon must keep it far below the disk's size).
( while :; do stat -c %s "$DB-wal" 2>/dev/null || echo 0; sleep 0.2; done ) >"$WORK/wal.sizes" &
LW_PIDS+=("$!")

lw_spawn sim "$WORK/sim.log" "$LW_BIN/lorawatch-sim" -q -s "$SCEN" --gateway "127.0.0.1:$UDP"
t0=$(date +%s%3N)
alive() { kill -0 "$LW_DAEMON_PID" 2>/dev/null || fail "daemon died $1: $(tail -n 5 "$WORK/lorawatchd.log")"; }
rows() { q 'SELECT count(*) FROM readings'; }
# msgs TOPIC_SUFFIX: payloads received on lorawatch/SITE/TOPIC_SUFFIX (a regex), lines FROM..TO.
msgs() { sed -n "${FROM:-1},${TO:-\$}p" "$WORK/all.mqtt" | { grep -E "^lorawatch/$SITE/$1 " || true; } | cut -d' ' -f2- | sed '/^(null)$/d'; }
# A failed check is reported and the test goes on, so one run shows every check that fails.
FAILED=()
check_failed() { echo "FAIL: $*" >&2; FAILED+=("$*"); }
ok() { # pass, unless a check failed since the last ok
  if [ ${#FAILED[@]} -gt "${FAILED_SEEN:-0}" ]; then FAILED_SEEN=${#FAILED[@]}; else pass "$@"; fi
}
sleep_until() { local ms=$(($1 * 1000 - ($(date +%s%3N) - t0))); [ $ms -le 0 ] || sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"; }

lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$DB' 'SELECT count(*) FROM alert_journal') -gt 5 ]" ||
  fail "no alerts journalled before the disk filled"
sleep_until "$T_FILL"
r0=$(rows)
A_MAX=$(q 'SELECT coalesce(max(id), 0) FROM alerts')
pass "$r0 readings and alerts up to #$A_MAX stored before the disk filled"

# ---- full ---------------------------------------------------------------------------------
L_FULL=$(wc -l <"$WORK/lorawatchd.log")
M_FULL=$(wc -l <"$WORK/all.mqtt")
diskfull_fill
df -k "$MNT" 2>/dev/null | tail -n 1 | awk '{print "after filling: " $4 " KiB free (df)"}'
lw_wait_for 10 grep -q 'storage trouble raised' "$WORK/lorawatchd.log" ||
  check_failed "no storage trouble within 10 s of the disk filling"
lw_wait_for 5 grep -q '"storage":{"state":"full"' "$WORK/all.mqtt" ||
  check_failed "the gateway status does not show the full disk"
ok "storage trouble raised; gateway status says full"
# The daemon gave up its ballast so alerts could still be journalled: something else takes that
# space too, and from here on alerts can only be paged from memory.
diskfull_fill
lw_wait_for 5 sh -c "grep -q 'lorawatch_storage_ok 0' '$WORK/metrics.prom'" ||
  check_failed "metrics do not show the storage trouble"
"$LW_BIN/lorawatch" status -m "$WORK/metrics.prom" --json | jq -e '.storage == "full"' >/dev/null ||
  check_failed "lorawatch status does not show the full disk: $("$LW_BIN/lorawatch" status -m "$WORK/metrics.prom" | grep -i storage)"
"$LW_BIN/lorawatch" status -m "$WORK/metrics.prom" | grep -E '^ +storage +TROUBLE: full' || true
sleep_until $((T_ALARM + 5))
alive "while the disk was full"
L_FREE=$(wc -l <"$WORK/lorawatchd.log")
M_FREE=$(wc -l <"$WORK/all.mqtt")
r_full=$(rows)

# What happened while full: alerts raised (storm rule), their pages, the trouble alert, ACKs.
FROM=$((M_FULL + 1)) TO=$M_FREE
during=$(msgs 'alert/[0-9]+')
TO='$'
raised=$(printf '%s\n' "$during" | jq -r 'select(.state == "raised" and .rule == "storm") | .id' | sort -un)
n_raised=$(printf '%s\n' "$raised" | grep -c . || true)
[ "$n_raised" -ge 5 ] || check_failed "only $n_raised storm alerts raised while the disk was full"
paged=$(msgs 'duty/person/wang' | jq -r 'select(.duty.tier == 1 and .state == "raised") | .id' | sort -un)
unpaged=$(comm -23 <(printf '%s\n' "$raised") <(printf '%s\n' "$paged") | head -n 5 | tr '\n' ' ')
[ -z "$unpaged" ] || check_failed "raised while the disk was full but never paged to tier 1: $unpaged(of $n_raised)"
from_memory=$(sed -n "$((L_FULL + 1)),${L_FREE}p" "$WORK/lorawatchd.log" | grep -c 'could not be journalled; paged from memory' || true)
[ "$from_memory" -ge 3 ] || check_failed "only $from_memory transitions paged from memory (the disk was not full enough)"
ok "all $n_raised alerts raised while full were paged to the tier-1 worker ($from_memory transitions from memory)"
msgs 'duty/person/room' | jq -e -s 'map(select(.rule == "storage" and .level == "red" and
  .hazard == "trouble" and .duty.tier == 2 and .state == "raised")) | length == 1' >/dev/null ||
  check_failed "no red storage trouble alert to the duty room (tier 2)"
ok "red storage trouble alert paged to the duty room"
acks=$(sed -n "$((L_FULL + 1)),${L_FREE}p" "$WORK/lorawatchd.log" | grep -c 'ACK of smoke-1 alarm fcnt [0-9]* queued' || true)
noack=$(sed -n "$((L_FULL + 1)),${L_FREE}p" "$WORK/lorawatchd.log" | grep -c 'ACK of smoke-1 alarm fcnt [0-9]* not sent' || true)
[ "$acks" -ge 3 ] && [ "$noack" -eq 0 ] ||
  check_failed "ACKs to ALARM frames while full: $acks sent, $noack not sent"
ok "$acks ACKs to ALARM frames sent while the disk was full"

# ---- space returns ------------------------------------------------------------------------
diskfull_free
t_free=$(date +%s%3N)
lw_wait_for 15 grep -q 'storage trouble cleared' "$WORK/lorawatchd.log" ||
  check_failed "storage trouble not cleared within 15 s of space returning"
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$DB' 'SELECT count(*) FROM readings') -gt $((r_full + 100)) ]" ||
  check_failed "readings not stored again after space returned: $(rows) rows (was $r_full)"
alive "after space returned"
ok "space back: trouble cleared and readings stored again after $(($(date +%s%3N) - t_free)) ms"
FROM=1 TO='$'
msgs 'duty/person/room' | jq -e -s 'map(select(.rule == "storage" and .state == "cleared")) | length >= 1' >/dev/null ||
  check_failed "the duty room was not told that the storage trouble cleared"
sleep 3 # alerts raised while full clear now, with the storm
kill -TERM "$LW_PID_sim"
wait "$LW_PID_sim" || true
sleep 1
lw_stop_daemon

# Every transition published is in the journal, with the time it was published with.
sent=$(msgs 'alert/[0-9]+' | jq -r 'select(.state == "raised" or .state == "cleared") | "\(.id) \(.state) \(.time_ms)"' | sort -u)
journalled=$(q "SELECT alert || ' ' || event || ' ' || ts_ms FROM alert_journal WHERE event IN ('raised','cleared')" | sort -u)
missing=$(comm -23 <(printf '%s\n' "$sent") <(printf '%s\n' "$journalled"))
[ -z "$missing" ] || check_failed "$(printf '%s\n' "$missing" | wc -l) published transitions not journalled as published (id state time): $(printf '%s\n' "$missing" | head -n 4 | tr '\n' ';')"
ok "all $(printf '%s\n' "$sent" | wc -l) published transitions journalled with their own times"
full_cleared=$(printf '%s\n' "$sent" | awk -v m="$A_MAX" '$1 > m && $2 == "cleared"' | wc -l)
[ "$full_cleared" -ge 3 ] || check_failed "only $full_cleared alerts raised after the disk filled were cleared"
! grep -q 'FOREIGN KEY' "$WORK/lorawatchd.log" || check_failed "FOREIGN KEY errors: $(grep -m 2 'FOREIGN KEY' "$WORK/lorawatchd.log")"
ok "$full_cleared alerts raised while full cleared normally; no FOREIGN KEY errors"

# Incidents: one id per (hazard, building), never shared; ids unique per node as before.
shared=$(msgs 'alert/[0-9]+' | jq -r 'select(.incident != null) | "\(.incident) \(.hazard)/\(.place.building)"' |
  sort -u | awk '{n[$1]++; p[$1] = p[$1] " " $2} END {for (i in n) if (n[i] > 1) print "#" i ":" p[i]}' | head -n 3)
[ -z "$shared" ] || check_failed "incident ids shared by different (hazard, building): $shared"
collide=$(msgs 'alert/[0-9]+' | jq -r '"\(.id) \(.node.name)"' | sort -u | cut -d' ' -f1 | uniq -d | head -n 3)
[ -z "$collide" ] || check_failed "alert ids published for more than one node: $collide"
ok "incident ids distinct per (hazard, building); alert ids per node"

# Readings: counted stored only when on disk.
stored=$(awk '/^lorawatch_readings_stored_total /{print $2}' "$WORK/metrics.prom")
lost=$(awk '/^lorawatch_readings_lost_total /{print $2}' "$WORK/metrics.prom")
[ "$stored" = "$(rows)" ] || check_failed "readings_stored $stored, but $(rows) readings in the database"
[ "${lost%.*}" -gt 0 ] || check_failed "no readings counted lost while the disk was full"
FROM=1
last_status=$(msgs 'gateway/status' | tail -n 1)
[ "$(printf '%s' "$last_status" | jq '.counters.readings_stored')" = "$stored" ] ||
  check_failed "status counters.readings_stored $(printf '%s' "$last_status" | jq '.counters.readings_stored') != $stored"
ok "readings_stored $stored = rows on disk; $lost readings counted lost"

# The status messages with their storage state follow the published schema.
grep "^lorawatch/$SITE/gateway/status " "$WORK/all.mqtt" |
  python3 "$LW_SOURCE_DIR/tests/integration/validate_mqtt.py" "$LW_SOURCE_DIR/docs/schemas" >"$WORK/validate.out" 2>&1 ||
  check_failed "gateway status messages violate docs/schemas: $(grep -m 2 violates "$WORK/validate.out")"

# The daemon's own WAL stayed small on the 2 MiB disk.
wal_max=$(sort -n "$WORK/wal.sizes" | tail -n 1)
[ "$wal_max" -le $((DISK / 4)) ] || check_failed "the WAL grew to $((wal_max / 1024)) KiB on a $((DISK / 1024)) KiB disk"
[ "$(q 'PRAGMA integrity_check')" = ok ] || check_failed "integrity check after the disk-full episode"
ok "WAL at most $((wal_max / 1024)) KiB on a $((DISK / 1024)) KiB disk; database intact"

[ ${#FAILED[@]} -eq 0 ] || fail "${#FAILED[@]} check(s) failed: $(printf '%s; ' "${FAILED[@]}")"
lw_validate_captured "$WORK/all.mqtt"
