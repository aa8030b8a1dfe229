#!/usr/bin/env bash
# Downlinks through the emulated SX1276: a node is paired with `lorawatch pair` while lorawatchd
# runs on the sx127x backend (tests/emu LD_PRELOAD shim). Its JOIN_REQ is received by the chip,
# the JOIN_ACC goes out through the chip's FIFO in TX mode with inverted IQ, TxDone on DIO0
# returns the chip to reception, and the node, joined, reports through the chip.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$LW_SOURCE_DIR/tests/emu/emu-lib.sh"

lw_start_broker "$WORK"
SOCK=$WORK/control.sock
M=$WORK/metrics.prom
lw_one_node_conf joinhat <<EOC
[gateway]
control_socket = $SOCK
control_group =
clock_check = none
metrics_file = $M
metrics_interval = 1s
[radio]
board = dragino-lora-gps-hat
EOC
lw_emu_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 test -S "$SOCK" || fail "control socket not created"

EUI=70B3D57ED0000301 KEY=303132333435363738393A3B3C3D3E3F
"$LW_BIN/lorawatch" pair -s "$SOCK" --eui $EUI --key $KEY --kind water --name roof-7 \
  --wait 30 >"$WORK/pair.txt" 2>"$WORK/pair.err" &
PAIR=$!
lw_wait_for 10 sh -c "'$LW_BIN/lorawatch' nodes -s '$SOCK' | grep -q 'roof-7.*pending'" ||
  fail "pairing window not open: $(cat "$WORK/pair.err")"
"$LW_BIN/lorawatch-sim" -q --join --network-id 0x4C57 --eui $EUI --root-key $KEY --kind water \
  --acceleration 0 --gateway "127.0.0.1:$LW_SIM_PORT" --state "$WORK/node.state" \
  --set water_mm=40 --count 2 --interval 1s --reply-wait 5s >"$WORK/sim.log" 2>&1 ||
  fail "node did not join through the emulated chip: $(cat "$WORK/sim.log")"
wait $PAIR || fail "pair exit $?: $(cat "$WORK/pair.err")"
grep -q 'lw-emu: chip transmitted' "$WORK/lorawatchd.log" || fail "the chip never transmitted"
pass "JOIN_ACC sent through the SX1276 (TX, TxDone on DIO0); the node joined and reported"

ADDR=$(sqlite3 "$WORK/lw.db" "SELECT address FROM nodes WHERE name = 'roof-7'")
lw_wait_for 10 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings WHERE node = $ADDR') -ge 1 ]" ||
  fail "no reading of the joined node"
lw_stop_daemon
grep -q 'radio sx127x: [0-9]* frames received, 0 with a bad CRC, [1-9][0-9]* sent' \
  "$WORK/lorawatchd.log" || fail "stop summary: $(grep 'frames received' "$WORK/lorawatchd.log")"
pass "readings of the joined node stored; radio counted the transmission"
