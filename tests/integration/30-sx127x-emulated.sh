#!/usr/bin/env bash
# The walking skeleton on a real radio driver: lorawatchd with backend sx127x (Dragino preset)
# drives a register-level SX1276 emulator through its unmodified spidev and libgpiod code
# (tests/emu LD_PRELOAD shim). Frames from lorawatch-sim arrive as RF receptions in the chip,
# are read out of its FIFO on DIO0 interrupts, stored with the chip's RSSI/SNR, and raise a flood
# alert over a real mosquitto. The self-test finds the chip, and reports a missing one.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$LW_SOURCE_DIR/tests/emu/emu-lib.sh"

lw_start_broker "$WORK"
M=$WORK/metrics.prom
lw_one_node_conf hat <<EOC
[gateway]
clock_check = none
metrics_file = $M
metrics_interval = 1s
[radio]
board = dragino-lora-gps-hat
[rule:flood]
metric = water_mm
threshold = 100
clear = 50
level = red
EOC
"$LW_BIN/lorawatchd" -n -f "$WORK/lorawatchd.conf" >"$WORK/check.log" 2>&1 ||
  fail "config with board = dragino-lora-gps-hat refused: $(cat "$WORK/check.log")"

lw_emu_selftest "$WORK/lorawatchd.conf" >"$WORK/selftest.log" 2>&1 || fail "self-test failed"
grep -q 'found SX1276/77/78/79 (RegVersion 0x12)' "$WORK/selftest.log" &&
  grep -q 'read back OK' "$WORK/selftest.log" || fail "self-test output: $(cat "$WORK/selftest.log")"
rc=0
lw_emu_selftest "$WORK/lorawatchd.conf" LW_EMU_FAULT=missing >"$WORK/selftest2.log" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q 'no chip answers on /dev/spidev0.0 (RegVersion reads 0x00)' \
  "$WORK/selftest2.log" || fail "self-test with no chip: exit $rc: $(cat "$WORK/selftest2.log")"
pass "radio self-test finds the SX1276 and reports a missing chip (exit 1)"

lw_spawn sub "$WORK/mqtt.log" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t 'lorawatch/hat/alert/+' -t 'lorawatch/hat/gateway/status'
lw_capture all 'lorawatch/hat/#'
lw_emu_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q '"state":"online"' "$WORK/mqtt.log" || fail "daemon not online"
grep -q 'radio sx127x: SX1276/77/78/79 (RegVersion 0x12) on /dev/spidev0.0: 470.300 MHz' \
  "$WORK/lorawatchd.log" || fail "backend did not announce the chip"
pass "daemon online on the emulated SX1276 (board dragino-lora-gps-hat, CN470)"

rows() { sqlite3 "$WORK/lw.db" "SELECT count(*) FROM readings${1:+ WHERE $1}"; }
lw_n1_send --set water_mm=150 --count 3 --fcnt-start 1 --rssi -95 --snr 6.5
lw_wait_for 10 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq 3 ]" ||
  fail "3 frames through the chip: $(rows) readings"
# The chip's registers hold RSSI in 1 dB and SNR in 0.25 dB steps.
[ "$(rows 'rssi_x10 BETWEEN -960 AND -940 AND snr_x10 = 65')" -eq 3 ] ||
  fail "RSSI/SNR from the chip: $(sqlite3 "$WORK/lw.db" 'SELECT rssi_x10, snr_x10 FROM readings')"
pass "3 frames received through the SX1276 FIFO, stored with RSSI -95 dBm and SNR 6.5 dB"

lw_wait_for 10 grep -q '"hazard":"flood"' "$WORK/mqtt.log" || fail "no flood alert"
grep '^lorawatch/hat/alert/' "$WORK/mqtt.log" | cut -d' ' -f2- | sed '/^(null)$/d' |
  jq -se 'any(.[]; .hazard=="flood" and .state=="raised" and .level=="red" and .value==150)' \
    >/dev/null || fail "flood alert lacks level/value"
lw_emu_cmd bad-crc
lw_n1_send --set water_mm=150 --count 1 --fcnt-start 10
lw_n1_send --set water_mm=150 --count 2 --fcnt-start 20
lw_wait_for 10 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq 5 ]" ||
  fail "2 more good frames: $(rows) readings"
[ "$(rows 'fcnt = 10')" -eq 0 ] || fail "a frame with a bad CRC was stored"
pass "red flood alert over MQTT; the frame with a bad payload CRC was dropped"

lw_wait_for 10 sh -c "grep -q '^lorawatch_radio_malformed_total 1$' '$M'" ||
  fail "radio_malformed not 1: $(grep radio "$M")"
"$LW_BIN/lorawatch" status -m "$M" >"$WORK/status.txt" || fail "status exit $?"
grep -q 'radio resets 0, malformed transport input 1' "$WORK/status.txt" ||
  fail "status radio line: $(cat "$WORK/status.txt")"
pass "bad CRC counted in metrics and lorawatch status"

kill -0 "$LW_DAEMON_PID" 2>/dev/null || fail "daemon died"
lw_stop_daemon
grep -q 'radio sx127x: 5 frames received, 1 with a bad CRC' "$WORK/lorawatchd.log" ||
  fail "stop summary: $(grep 'radio sx127x' "$WORK/lorawatchd.log" | tail -n 3)"
[ "$(sqlite3 "$WORK/lw.db" 'PRAGMA integrity_check')" = ok ] || fail "integrity check"
pass "SIGTERM: exit 0 with the radio's counters logged"
lw_validate_captured "$WORK/mqtt.log" "$WORK/all.mqtt"
