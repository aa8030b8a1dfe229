#!/usr/bin/env bash
# lorawatchd with backend sx126x (Waveshare SX1262 HAT preset) on the command-level SX1262
# emulator (tests/emu LD_PRELOAD shim): BUSY handshake, TCXO and RF-switch set-up, frames from
# lorawatch-sim received through DIO1 and stored with the chip's RSSI/SNR, an alert over MQTT,
# and a hang (BUSY stuck high) that the radio watchdog resets.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$LW_SOURCE_DIR/tests/emu/emu-lib.sh"

lw_start_broker "$WORK"
M=$WORK/metrics.prom
lw_one_node_conf wave <<EOC
[gateway]
clock_check = none
metrics_file = $M
metrics_interval = 1s
[radio]
board = waveshare-sx1262-hat
watchdog_interval = 1s
[rule:flood]
metric = water_mm
threshold = 100
clear = 50
level = orange
EOC
lw_emu_selftest "$WORK/lorawatchd.conf" LW_EMU_CHIP=sx126x >"$WORK/selftest.log" 2>&1 ||
  fail "self-test failed: $(cat "$WORK/selftest.log")"
grep -q 'found SX126x ("SX1261 V2D 2D02") on /dev/spidev0.0: 470.300 MHz.*TCXO on DIO3, RF switch on DIO2' \
  "$WORK/selftest.log" || fail "self-test output: $(cat "$WORK/selftest.log")"
rc=0
lw_emu_selftest "$WORK/lorawatchd.conf" LW_EMU_CHIP=sx126x LW_EMU_PIN_IN_USE=20 \
  >"$WORK/selftest2.log" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q 'cannot request line 20 of gpiochip0: Device or resource busy (in use by another-program)' \
  "$WORK/selftest2.log" || fail "pin in use: exit $rc: $(cat "$WORK/selftest2.log")"
pass "self-test finds the SX1262 (TCXO, RF switch); a BUSY pin in use is reported with its holder"

lw_spawn sub "$WORK/mqtt.log" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t 'lorawatch/wave/alert/+'
lw_capture all 'lorawatch/wave/#'
lw_emu_start_daemon "$WORK/lorawatchd.conf" LW_EMU_CHIP=sx126x
lw_wait_for 10 test -s "$M" || fail "daemon did not start"
lw_n1_send --set water_mm=180 --count 3 --fcnt-start 1 --rssi -101 --snr -3.25
lw_wait_for 10 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq 3 ]" ||
  fail "frames through the SX1262: $(sqlite3 "$WORK/lw.db" 'SELECT count(*) FROM readings')"
# GetPacketStatus reports RSSI in 0.5 dB and SNR in 0.25 dB steps.
[ "$(sqlite3 "$WORK/lw.db" 'SELECT count(*) FROM readings WHERE rssi_x10 = -1010 AND snr_x10 = -32')" -eq 3 ] ||
  fail "RSSI/SNR: $(sqlite3 "$WORK/lw.db" 'SELECT rssi_x10, snr_x10 FROM readings')"
lw_wait_for 10 grep -q '"hazard":"flood"' "$WORK/mqtt.log" || fail "no flood alert"
pass "3 frames through the SX1262 buffer with RSSI -101 dBm, SNR -3.25 dB; flood alert over MQTT"

lw_emu_cmd hang
lw_wait_for 15 grep -q 'radio sx126x: recovered, listening again' "$WORK/lorawatchd.log" ||
  fail "hung SX1262 not recovered"
lw_n1_send --set water_mm=180 --count 1 --fcnt-start 10
lw_wait_for 10 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq 4 ]" ||
  fail "no frame after the recovery"
pass "hung SX1262 (BUSY stuck high) reset by the watchdog; receiving again"

lw_stop_daemon
pass "SIGTERM: exit 0"
lw_validate_captured "$WORK/mqtt.log" "$WORK/all.mqtt"
