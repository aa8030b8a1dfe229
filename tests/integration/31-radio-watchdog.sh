#!/usr/bin/env bash
# The radio watchdog end to end: lorawatchd on an emulated SX1276 (tests/emu LD_PRELOAD shim).
# The chip hangs (stops answering on SPI), then resets itself (brown-out), then dies for good and
# comes back: each time the watchdog's read-back notices, resets the chip through its reset line
# and configures it again; `lorawatch status` counts the resets; frames are received again after
# every recovery; while the chip is dead the fault is logged and retried with backoff.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$LW_SOURCE_DIR/tests/emu/emu-lib.sh"

lw_start_broker "$WORK"
M=$WORK/metrics.prom
lw_one_node_conf wd <<EOC
[gateway]
clock_check = none
metrics_file = $M
metrics_interval = 1s
[radio]
board = dragino-lora-gps-hat
watchdog_interval = 1s
EOC
lw_emu_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 test -s "$M" || fail "daemon did not start: no metrics"

rows() { sqlite3 "$WORK/lw.db" 'SELECT count(*) FROM readings'; }
fcnt=1
# receive_one: one more frame through the chip lands in the database.
receive_one() {
  local want=$(( $(rows) + 1 ))
  lw_n1_send --set water_mm=30 --count 1 --fcnt-start $fcnt
  fcnt=$(( fcnt + 1 ))
  lw_wait_for 10 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq $want ]"
}
resets() { lw_metric "$M" lorawatch_radio_resets_total; }
# The watchdog's counters and fault flag must reach the metrics (checked at every step): a
# gateway that stopped copying them from struct lw_radio_stats would hide radio faults.
checks() { lw_metric "$M" lorawatch_radio_watchdog_checks_total; }
failed() { lw_metric "$M" lorawatch_radio_recoveries_failed_total; }
# metric_is NAME VALUE: the metrics file shows exactly that value (within a few rewrites).
metric_is() { lw_wait_for 5 sh -c "[ \"\$(awk -v k='$1' '\$1 == k {print \$2}' '$M')\" = '$2' ]"; }
status_resets() { "$LW_BIN/lorawatch" status -m "$M" | grep -o 'radio resets [0-9]*' | cut -d' ' -f3; }

receive_one || fail "first frame not received"
[ "$(resets)" = 0 ] || fail "resets before any fault: $(resets)"
lw_wait_for 5 sh -c "[ \"\$(awk '\$1 == \"lorawatch_radio_watchdog_checks_total\" {print \$2}' '$M')\" -ge 2 ]" ||
  fail "watchdog checks not counted in the metrics: '$(checks)'"
metric_is lorawatch_radio_fault 0 || fail "fault set on a healthy chip: '$(lw_metric "$M" lorawatch_radio_fault)'"
pass "healthy chip: frame received, watchdog leaves it alone"

lw_emu_cmd hang
lw_wait_for 15 grep -q 'radio sx127x: RegOpMode reads 0x00, expected 0x8D: resetting the chip' \
  "$WORK/lorawatchd.log" || fail "hung chip not noticed"
lw_wait_for 10 grep -q 'radio sx127x: recovered, listening again' "$WORK/lorawatchd.log" ||
  fail "hung chip not recovered"
lw_wait_for 5 sh -c "[ \"\$('$LW_BIN/lorawatch' status -m '$M' | grep -o 'radio resets [0-9]*')\" = 'radio resets 1' ]" ||
  fail "lorawatch status: $("$LW_BIN/lorawatch" status -m "$M")"
receive_one || fail "no frame after the recovery from the hang"
pass "hung chip noticed by read-back, reset and re-initialised; status shows 1 reset; receiving again"

lw_emu_cmd brownout
lw_wait_for 15 grep -q 'RegOpMode reads 0x09, expected 0x8D: resetting the chip' \
  "$WORK/lorawatchd.log" || fail "chip reset (brown-out) not noticed"
lw_wait_for 10 sh -c "[ \"\$(awk '\$1 == \"lorawatch_radio_resets_total\" {print \$2}' '$M')\" = 2 ]" ||
  fail "resets after brown-out: $(resets)"
receive_one || fail "no frame after the recovery from the brown-out"
pass "chip that reset itself (FSK standby, 0x09) noticed and configured again"

metric_is lorawatch_radio_resets_total 2 || fail "resets after brown-out: '$(resets)'"
metric_is lorawatch_radio_recoveries_failed_total 0 || fail "failed recoveries before any: '$(failed)'"

lw_emu_cmd dead
lw_wait_for 15 grep -q 'radio sx127x: recovery failed (not found); the radio is not receiving' \
  "$WORK/lorawatchd.log" || fail "dead chip: no failed recovery logged"
lw_wait_for 5 grep -q '^lorawatch_radio_fault 1$' "$M" || fail "fault not set in metrics"
"$LW_BIN/lorawatch" status -m "$M" | grep -q 'FAULT: the radio is not receiving' ||
  fail "status does not show the fault"
sleep 3 # retried after 1 s, 2 s, 4 s ...
n=$(grep -c 'radio sx127x: recovery failed' "$WORK/lorawatchd.log")
[ "$n" -ge 2 ] && [ "$n" -le 4 ] || fail "$n failed recoveries in ~3 s: backoff not working"
lw_wait_for 5 sh -c "[ \"\$(awk '\$1 == \"lorawatch_radio_recoveries_failed_total\" {print \$2}' '$M')\" -ge 2 ]" ||
  fail "failed recoveries not counted in the metrics: '$(failed)' (log: $n)"
kill -0 "$LW_DAEMON_PID" 2>/dev/null || fail "daemon died with a dead radio"
pass "dead chip: recovery fails, is logged and retried with backoff ($n tries); daemon keeps running"

lw_emu_cmd ok
lw_wait_for 20 grep -q 'radio sx127x: working again after' "$WORK/lorawatchd.log" ||
  fail "chip back but radio not recovered"
receive_one || fail "no frame after the chip came back"
lw_wait_for 5 grep -q '^lorawatch_radio_fault 0$' "$M" || fail "fault not cleared in metrics"
[ "$(resets)" -ge 3 ] || fail "resets after the dead chip came back: '$(resets)'"
pass "chip answers again: radio recovered, fault cleared, frames received"

lw_stop_daemon
grep -q 'radio sx127x: 4 frames received.*watchdog checks, [0-9]* resets ([0-9]* failed)' \
  "$WORK/lorawatchd.log" || fail "stop summary: $(grep 'frames received' "$WORK/lorawatchd.log")"
pass "SIGTERM: exit 0"
