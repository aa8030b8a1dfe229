#!/usr/bin/env bash
# The daemon's main paths under valgrind (memcheck): start-up, a night of flood and fire frames
# from lorawatch-sim, alerts to a real broker, duty paging, an acknowledgement over MQTT, control
# socket requests, a reload (SIGHUP), metrics, and a clean stop. No invalid access, no use of
# uninitialised memory, nothing definitely or indirectly lost at exit. Skipped (77) without
# valgrind, and for sanitizer builds (valgrind cannot run those; they check the same at exit).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

command -v valgrind >/dev/null || { echo "skip: valgrind is not installed"; exit 77; }
# (grep without -q reads all of ldd's output: under pipefail an early exit would fail the pipe)
if ldd "$LW_BIN/lorawatchd" | grep -E 'libasan|libubsan|libtsan' >/dev/null; then
  echo "skip: lorawatchd is a sanitizer build"
  exit 77
fi

SCEN=$LW_SOURCE_DIR/config/scenarios/storm-and-fire.ini
SOCK=$WORK/control.sock
lw_start_broker "$WORK"
UDP=$(lw_free_port udp)
lw_compose_config "$LW_SOURCE_DIR/config/lorawatch.conf" "$SCEN" vg "$WORK/lw.db" \
  "$LW_MQTT_PORT" "$UDP" "$WORK/lorawatchd.conf"
cat >>"$WORK/lorawatchd.conf" <<EOF
[gateway]
control_socket = $SOCK
control_group =
metrics_file = $WORK/metrics.prom
metrics_interval = 1s
[alerts]
escalate_after = 2s
remind_every = 1s
[duty:room]
name = Duty room
tier = 1
grids = *
EOF
chmod 600 "$WORK/lorawatchd.conf"
"$LW_BIN/lorawatchd" -n -f "$WORK/lorawatchd.conf" >/dev/null || fail "config refused"

lw_spawn sub "$WORK/mqtt.log" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t 'lorawatch/vg/#'
# Only leaks count as errors here (valgrind's exit status 99); still-reachable blocks are the
# libraries' own (OpenSSL, libmosquitto) and are freed by the process exit.
valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --track-origins=yes --log-file="$WORK/valgrind.log" \
  "$LW_BIN/lorawatchd" -d -f "$WORK/lorawatchd.conf" >"$WORK/lorawatchd.log" 2>&1 &
LW_DAEMON_PID=$!
LW_PIDS+=("$LW_DAEMON_PID")
lw_wait_for 60 grep -q '"state":"online"' "$WORK/mqtt.log" || fail "no online status"
lw_wait_for 30 test -S "$SOCK" || fail "no control socket"

# Slower than the other tests' runs: the daemon runs many times slower under memcheck.
"$LW_BIN/lorawatch-sim" -q -s "$SCEN" --gateway "127.0.0.1:$UDP" --acceleration 300 \
  --summary-json "$WORK/sim.json" >"$WORK/sim.log" 2>&1 || fail "simulator failed"
sent=$(jq -r '.frames' "$WORK/sim.json")
lw_wait_for 60 sh -c "grep -q '\"hazard\":\"fire\"' '$WORK/mqtt.log'" || fail "no fire alert"
lw_wait_for 60 sh -c "grep -q '\"hazard\":\"flood\"' '$WORK/mqtt.log'" || fail "no flood alert"
lw_wait_for 60 grep -q 'lorawatch/vg/duty/person/room ' "$WORK/mqtt.log" || fail "duty room not paged"

# The control socket, an acknowledgement from the duty phone, a reload.
"$LW_BIN/lorawatch" status -s "$SOCK" >"$WORK/status.txt" || fail "status"
"$LW_BIN/lorawatch" alerts -s "$SOCK" >"$WORK/alerts.txt" || fail "alerts"
# The newest alert: acknowledged if still open, else refused as cleared; either way answered.
alert=$(sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" "SELECT max(id) FROM alerts")
mosquitto_pub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -t lorawatch/vg/command/room \
  -m "{\"cmd\":\"ack\",\"alert\":$alert,\"id\":\"vg\"}"
lw_wait_for 30 grep -q '"id":"vg"' "$WORK/mqtt.log" || fail "no reply to the acknowledgement"
mosquitto_pub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -t lorawatch/vg/command/room -m 'not json'
kill -HUP "$LW_DAEMON_PID"
lw_wait_for 30 grep -q 'configuration reloaded' "$WORK/lorawatchd.log" || fail "no reload"
lw_wait_for 30 test -s "$WORK/metrics.prom" || fail "no metrics file"
"$LW_BIN/lorawatch" status -s "$SOCK" >/dev/null || fail "status after reload"

rows=$(sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" 'SELECT count(*) FROM readings')
kill -TERM "$LW_DAEMON_PID"
rc=0
wait "$LW_DAEMON_PID" || rc=$?
if [ $rc -ne 0 ] || [ -s "$WORK/valgrind.log" ]; then
  cat "$WORK/valgrind.log" >&2
  fail "lorawatchd under valgrind: exit $rc"
fi
pass "$sent frames ($rows readings), alerts, duty paging, acknowledgement, control socket, reload: valgrind clean, exit 0"
lw_validate_captured --skip-commands "$WORK/mqtt.log" # its own commands include a malformed one
