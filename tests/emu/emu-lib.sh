# Helpers for the system tests 30-39 that run lorawatchd on an emulated radio HAT: the daemon is
# started with tests/emu's LD_PRELOAD shim, which puts a register-level SX1276 or SX1262 behind
# its spidev and libgpiod calls and listens for the air (lw_simwire datagrams) on LW_EMU_AIR.
# Source after common.sh.
# SPDX-License-Identifier: Apache-2.0

LW_EMU_SO=${LW_TESTBIN:?}/lw_emu_preload.so
[ -f "$LW_EMU_SO" ] || { echo "SKIP: $LW_EMU_SO not built"; exit 77; }
# An instrumented daemon would refuse a preloaded library ahead of the sanitizer runtime.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# lw_emu_start_daemon CONF [ENV=VALUE...]: lorawatchd on the emulated chip, air on LW_SIM_PORT.
lw_emu_start_daemon() {
  local conf=$1
  shift
  env LD_PRELOAD="$LW_EMU_SO" LW_EMU_AIR="127.0.0.1:$LW_SIM_PORT" "$@" \
    "$LW_BIN/lorawatchd" -d -f "$conf" >"$WORK/lorawatchd.log" 2>&1 &
  LW_DAEMON_PID=$!
  LW_PIDS+=("$LW_DAEMON_PID")
}

# lw_emu_cmd CMD: change the emulated chip (hang, dead, deaf, notxdone, brownout, ok, bad-crc).
lw_emu_cmd() {
  printf 'EMU:%s' "$1" >"/dev/udp/127.0.0.1/$LW_SIM_PORT"
}

# lw_emu_selftest CONF [ENV=VALUE...]: lorawatchd --radio-selftest on the emulated chip.
lw_emu_selftest() {
  local conf=$1
  shift
  env LD_PRELOAD="$LW_EMU_SO" LW_EMU_AIR="127.0.0.1:$(lw_free_port udp)" "$@" \
    "$LW_BIN/lorawatchd" --radio-selftest -f "$conf"
}

# lw_metric FILE NAME: a sample's value from the metrics file.
lw_metric() { awk -v k="$2" '$1 == k {print $2}' "$1"; }
