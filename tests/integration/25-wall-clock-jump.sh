#!/usr/bin/env bash
# Fault: the wall clock jumps (NTP stepping a Pi's clock, an operator setting it) while a rule's
# persistence time is running. Rules must time persistence on the monotonic clock: a jump of a
# day forwards must not raise the alert early, a jump of two days backwards must not hold it
# back; stored reading times follow the wall clock as it is. The machine's clock is not touched:
# the clock_shift.so preload shifts CLOCK_REALTIME for lorawatchd alone (sim_clock = system).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/fault-lib.sh"
: "${LW_TESTBIN:?}"
SHIM=$LW_TESTBIN/clock_shift.so
[ -f "$SHIM" ] || fail "$SHIM not built"

lw_start_broker "$WORK"
lw_capture all "lorawatch/$FAULT_SITE/#"
UDP=$(lw_free_port udp)
KEY=2B7E151628AED2A6ABF7158809CF4F3C
PERSIST_S=4
DB=$WORK/lw.db
cat >"$WORK/lorawatchd.conf" <<EOC
[gateway]
site = $FAULT_SITE
database = $DB
clock_check = none
[radio]
sim_listen = 127.0.0.1:$UDP
sim_clock = system
[mqtt]
port = $LW_MQTT_PORT
reconnect_min = 200ms
[rule:slow]
metric = water_mm
threshold = 100
clear = 50
persistence = ${PERSIST_S}s
level = orange
[node:n1]
address = 0x0301
eui = 70B3D57ED0000301
key = $KEY
kind = water
EOC
chmod 600 "$WORK/lorawatchd.conf"
SHIFT=$WORK/shift_ms
echo 0 >"$SHIFT"
# An ASan build wants its runtime first in the preload list; the shim may come first here.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
  LD_PRELOAD=$SHIM LW_CLOCK_SHIFT_FILE=$SHIFT fault_start_daemon "$WORK/lorawatchd.conf" "$WORK/lorawatchd.log"
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon did not connect"

FCNT=1
# send_for COUNT WATER: COUNT frames, one per 500 ms real time, in the background.
send_for() {
  lw_spawn "sim$FCNT" "$WORK/sim-$FCNT.log" "$LW_BIN/lorawatch-sim" -q --gateway "127.0.0.1:$UDP" \
    --network-id 0x4C57 --address 0x0301 --eui 70B3D57ED0000301 --key "$KEY" --kind water \
    --set "water_mm=$2" --count "$1" --interval 500ms --acceleration 1 --fcnt-start "$FCNT"
  LAST_SIM=$!
  FCNT=$((FCNT + $1))
}
raised() { [ "$(q "SELECT count(*) FROM alerts WHERE state = 'raised'")" -ge 1 ]; }
now_ms() { date +%s%3N; }

# episode NAME SHIFT_MS: water above the threshold from t = 0; at t = 1 s the daemon's wall
# clock jumps by SHIFT_MS; the alert must be raised PERSIST_S after the first frame, no sooner
# and not much later, whatever the jump.
episode() {
  local name=$1 shift_ms=$2 t0 t_raise=0
  t0=$(now_ms)
  send_for 20 150
  lw_wait_for 5 sh -c "[ \$(sqlite3 -cmd '.timeout 2000' '$DB' 'SELECT count(*) FROM readings WHERE water_mm = 150 AND fcnt >= $((FCNT - 20))') -ge 1 ]" ||
    fail "$name: first frame not stored"
  sleep 1
  echo "$shift_ms" >"$SHIFT"
  for _ in $(seq 1 100); do
    if raised; then t_raise=$(now_ms); break; fi
    sleep 0.1
  done
  [ "$t_raise" -gt 0 ] || fail "$name: alert not raised within 11 s of the first frame (persistence ${PERSIST_S} s): the jump held it back"
  local dt=$((t_raise - t0))
  [ $dt -ge $((PERSIST_S * 1000 - 300)) ] ||
    fail "$name: alert raised $dt ms after the first frame, before its ${PERSIST_S} s persistence: the jump cut it short"
  [ $dt -le $((PERSIST_S * 1000 + 2500)) ] || fail "$name: alert raised only after $dt ms"
  # The jump did reach the daemon: the newest reading carries the shifted wall time.
  local off
  off=$(( $(q 'SELECT ts_ms FROM readings ORDER BY fcnt DESC LIMIT 1') - $(now_ms) ))
  [ $off -gt $((shift_ms - 60000)) ] && [ $off -lt $((shift_ms + 60000)) ] ||
    fail "$name: stored reading time is $off ms from now, not the shifted wall clock ($shift_ms ms): the shim had no effect"
  pass "$name: wall clock moved ${shift_ms} ms; alert raised $dt ms after the first frame (persistence ${PERSIST_S} s); readings stored with the shifted time"
  # Its remaining frames must not arrive after the clearing one (the replay window would take them).
  kill -TERM "$LAST_SIM"
  wait "$LAST_SIM" || true
}

episode "forward jump of one day" 86400000
send_for 1 10 # clear it
lw_wait_for 5 sh -c "[ \$(sqlite3 -cmd '.timeout 2000' '$DB' \"SELECT count(*) FROM alerts WHERE state = 'raised'\") -eq 0 ]" ||
  fail "alert not cleared"
sleep 1
episode "backward jump to a day before the real time" -86400000
[ "$(q 'SELECT count(*) FROM alerts')" -eq 2 ] || fail "expected exactly 2 alerts, found $(q 'SELECT count(*) FROM alerts')"
lw_stop_daemon
pass "daemon exited 0"
lw_validate_captured "$WORK/all.mqtt"
