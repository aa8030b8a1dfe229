#!/usr/bin/env bash
# Calibration never clears an alert. A basement floods under an open red alert; setting a new zero
# offset (a [node:] zero_offset and SIGHUP, or `lorawatch calibrate --zero`) moves every later
# reading down by the water that stood there, which must not read as the water going away:
# `calibrate --zero` is refused while an alert of the node is open (exit 7, naming the alert),
# and with --force, as on a reload, the open alerts stay open while the water keeps rising and
# clear only when it really falls. So does a zero_offset changed in the file while the daemon
# is stopped.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

lw_start_broker "$WORK"
lw_capture all 'lorawatch/cal/#'
SOCK=$WORK/control.sock
# Lines before the first section header belong to lw_one_node_conf's [node:n1].
lw_one_node_conf cal <<EOC
tags = basement
[gateway]
clock_check = none
control_socket = $SOCK
control_group =
[storage]
batch_interval = 50ms
[rule:basement]
metric = water_mm
threshold = 50
clear = 20
level = red
[rule:watch]
metric = water_mm
statistic = mean
window = 5m
threshold = 76
clear = 40
level = blue
EOC
q() { sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" "$1"; }
FCNT=1
send() { # send COUNT CURVE: the node's own depth (before any calibration), 1 s apart
  local before
  before=$(q 'SELECT count(*) FROM readings')
  lw_n1_send --set "water_mm=$2" --interval 1s --fcnt-start "$FCNT" --count "$1"
  FCNT=$((FCNT + $1))
  lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq $((before + $1)) ]" ||
    fail "readings not stored"
}
open_red() { q "SELECT id FROM alerts WHERE rule = 'basement' AND state = 'raised'"; }
clears() { q "SELECT count(*) FROM alert_journal WHERE event = 'cleared'"; }

lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 test -S "$SOCK" || fail "control socket not created"
lw_wait_for 10 grep -q 'connected to' "$WORK/lorawatchd.log" || fail "daemon did not connect"

# ---- the configuration path: zero_offset = 183 and SIGHUP while 183 mm stand ---------------
send 3 "183"
lw_wait_for 5 sh -c "[ -n \"\$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \"SELECT id FROM alerts WHERE rule = 'basement' AND state = 'raised'\")\" ]" ||
  fail "no red alert at 183 mm"
red=$(open_red)
sed -i 's/^tags = basement$/&\nzero_offset = 183/' "$WORK/lorawatchd.conf"
kill -HUP "$LW_DAEMON_PID"
lw_wait_for 5 grep -q 'configuration reloaded' "$WORK/lorawatchd.log" || fail "not reloaded"
send 10 "190@0s 250@9s"
[ "$(clears)" -eq 0 ] || fail "all-clear while the water rose after a reload with zero_offset = 183: $(q "SELECT alert, event, detail FROM alert_journal WHERE event = 'cleared'")"
[ "$(open_red)" = "$red" ] || fail "red alert #$red not open any more"
pass "reload with zero_offset = 183 at 183 mm: alert #$red stays open while the water rises to 250 mm"
send 3 "15"
lw_wait_for 5 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \"SELECT state FROM alerts WHERE id = $red\")\" = cleared ]" ||
  fail "alert #$red not cleared when the water really fell to 15 mm"
pass "cleared when the water really fell (15 mm on the old zero, under the clear level)"
send 3 "250" # 67 mm on the zero of 183: n1's red alert again, open across the restart below
lw_wait_for 5 sh -c "[ -n \"\$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \"SELECT id FROM alerts WHERE rule = 'basement' AND state = 'raised'\")\" ]" ||
  fail "no second red alert at 250 mm"
red1=$(open_red)

# ---- the CLI: calibrate --zero under an open alert, on a paired node ------------------------
EUI=70B3D57ED0000271 KEY=271112131415161718191A1B1C1D1E1F
ramp() { # ramp COUNT CURVE: the paired node's own depth, 1 s apart (each run joins afresh)
  local before
  before=$(q 'SELECT count(*) FROM readings')
  "$LW_BIN/lorawatch-sim" -q --join --network-id 0x4C57 --eui $EUI --root-key $KEY --kind water \
    --acceleration 0 --gateway "127.0.0.1:$LW_SIM_PORT" --state "$WORK/ramp.state" \
    --set "water_mm=$2" --count "$1" --interval 1s >>"$WORK/sim.log" 2>&1 || fail "sim: $(tail -n 3 "$WORK/sim.log")"
  lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq $((before + $1)) ]" ||
    fail "readings of the paired node not stored"
}
"$LW_BIN/lorawatch" pair -s "$SOCK" --eui $EUI --key $KEY --kind water --name ramp --tags basement \
  --wait 30 >"$WORK/pair.txt" 2>&1 &
PAIR=$!
lw_wait_for 10 sh -c "'$LW_BIN/lorawatch' nodes -s '$SOCK' | grep -q 'ramp.*pending'" ||
  fail "pairing window not open: $(cat "$WORK/pair.txt")"
ramp 3 "105"
wait $PAIR || fail "pair: $(cat "$WORK/pair.txt")"
ADDR=$(q "SELECT address FROM nodes WHERE name = 'ramp'")
open_ramp() { q "SELECT id FROM alerts WHERE rule = 'basement' AND node = $ADDR AND state = 'raised'"; }
lw_wait_for 5 sh -c "[ -n \"\$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \"SELECT id FROM alerts WHERE rule = 'basement' AND node = $ADDR AND state = 'raised'\")\" ]" ||
  fail "no red alert at 105 mm"
red=$(open_ramp)
n_clears=$(clears)
rc=0
"$LW_BIN/lorawatch" calibrate ramp -s "$SOCK" --zero >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
[ "$rc" -eq 7 ] || fail "calibrate --zero under open alert #$red: exit $rc: $(cat "$WORK/out.txt" "$WORK/err.txt")"
grep -q "open alert #$red (red, rule basement, 105 mm)" "$WORK/err.txt" ||
  fail "refusal does not name the alert: $(cat "$WORK/err.txt")"
[ "$(q "SELECT zero_offset_mm FROM nodes WHERE address = $ADDR")" -eq 0 ] || fail "refused, yet the offset changed"
pass "calibrate --zero refused (exit 7): $(cat "$WORK/err.txt")"

"$LW_BIN/lorawatch" calibrate ramp -s "$SOCK" --zero --force >"$WORK/out.txt" 2>&1 ||
  fail "calibrate --zero --force: $(cat "$WORK/out.txt")"
grep -q 'zero offset 105 mm' "$WORK/out.txt" || fail "calibrate --force: $(cat "$WORK/out.txt")"
ramp 10 "112@0s 130@9s" # 7..25 mm on the new zero
[ "$(clears)" -eq "$n_clears" ] || fail "all-clear while the water rose after calibrate --zero --force: $(q "SELECT alert, event, detail FROM alert_journal WHERE event = 'cleared'")"
[ "$(open_ramp)" = "$red" ] || fail "red alert #$red not open any more"
pass "calibrate --zero --force: alert #$red stays open while the water rises from 105 to 130 mm"
# The pin is part of the alert's record: a crash and restart must not forget it.
kill -KILL "$LW_DAEMON_PID"
wait "$LW_DAEMON_PID" 2>/dev/null || true
sed -i 's/^zero_offset = 183$/zero_offset = 250/' "$WORK/lorawatchd.conf" # n1 re-zeroed while stopped
[ "$(q "SELECT pin_zero_mm FROM alerts WHERE id = $red")" = 0 ] ||
  fail "alert #$red: pin not on its record: $(q "SELECT pin_zero_mm FROM alerts WHERE id = $red")"
: >"$WORK/lorawatchd.log"
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q 'connected to' "$WORK/lorawatchd.log" || fail "daemon did not come back"
ramp 5 "120@0s 135@4s" # 15..30 mm on the new zero
[ "$(clears)" -eq "$n_clears" ] || fail "all-clear after a restart while the water rose: $(q "SELECT alert, event, detail FROM alert_journal WHERE event = 'cleared'")"
[ "$(open_ramp)" = "$red" ] || fail "red alert #$red not open any more after the restart"
pass "after kill -9 and a restart alert #$red stays pinned while the water rises to 135 mm"
send 3 "255@0s 290@2s" # 5..40 mm on the zero of 250 set in the file while stopped
[ "$(q "SELECT state FROM alerts WHERE id = $red1")" = raised ] || fail "alert #$red1 of n1 cleared after a restart with zero_offset 183 -> 250: $(q "SELECT detail FROM alert_journal WHERE alert = $red1 AND event = 'cleared'")"
[ "$(q "SELECT pin_zero_mm FROM alerts WHERE id = $red1")" = 183 ] || fail "alert #$red1: not pinned to 183"
pass "zero_offset changed in the file while stopped: alert #$red1 pinned to the old zero, stays open"
ramp 3 "17" # 17 mm on the old zero
lw_wait_for 5 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \"SELECT state FROM alerts WHERE id = $red\")\" = cleared ]" ||
  fail "alert #$red not cleared when the water really fell"
lw_stop_daemon
pass "cleared when the water really fell (17 mm on the old zero)"
lw_validate_captured "$WORK/all.mqtt"
