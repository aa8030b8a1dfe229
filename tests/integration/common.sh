# Common set-up for the numbered system tests: a private work dir, a broker, and failure helpers.
# SPDX-License-Identifier: Apache-2.0
set -euo pipefail
: "${LW_SOURCE_DIR:?}" "${LW_BIN:?}"
. "$LW_SOURCE_DIR/scripts/lw-env.sh"

WORK=$(mktemp -d /tmp/lw-test.XXXXXX)
on_exit() {
  local rc=$?
  lw_cleanup
  if [ $rc -ne 0 ]; then
    echo "---- failure: logs from $WORK ----"
    for f in "$WORK"/*.log; do
      [ -f "$f" ] || continue
      echo "== $f"
      tail -n 40 "$f" || true
    done
  fi
  [ -n "${LW_KEEP:-}" ] || rm -rf "$WORK"
  exit $rc
}
trap on_exit EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# Daemon under test; stopped with SIGTERM by lw_stop_daemon so its exit code can be checked.
lw_start_daemon() {
  local conf=$1
  "$LW_BIN/lorawatchd" -d -f "$conf" >"$WORK/lorawatchd.log" 2>&1 &
  LW_DAEMON_PID=$!
  LW_PIDS+=("$LW_DAEMON_PID") # a failing test must not leave its daemon behind
}
lw_stop_daemon() {
  kill -TERM "$LW_DAEMON_PID"
  local rc=0
  wait "$LW_DAEMON_PID" || rc=$?
  [ $rc -eq 0 ] || fail "lorawatchd exited with $rc after SIGTERM"
}

# One-node estate shared by several tests: water node n1 (address 1) on a private simulated radio.
LW_N1_KEY=5A4B3C2D1E0F11223344556677889900
# lw_one_node_conf SITE: $WORK/lorawatchd.conf for SITE with node n1, the broker of lw_start_broker
# and a free sim port (LW_SIM_PORT). Extra sections are read from stdin and appended (a section
# header may repeat, so "[gateway]" plus keys adds to it); give </dev/null when there are none.
lw_one_node_conf() {
  LW_SIM_PORT=$(lw_free_port udp)
  {
    printf '[gateway]\nsite = %s\ndatabase = %s/lw.db\n' "$1" "$WORK"
    printf '[radio]\nsim_listen = 127.0.0.1:%s\n[mqtt]\nport = %s\n' "$LW_SIM_PORT" "$LW_MQTT_PORT"
    printf '[node:n1]\naddress = 1\neui = 70B3D57ED0000001\nkey = %s\nkind = water\n' "$LW_N1_KEY"
    cat
  } >"$WORK/lorawatchd.conf"
  chmod 600 "$WORK/lorawatchd.conf" # it holds a key: lorawatchd refuses it readable by others
}
# lw_n1_send ARGS...: frames from n1 through lorawatch-sim's ad-hoc mode, as fast as possible.
lw_n1_send() {
  "$LW_BIN/lorawatch-sim" -q --gateway "127.0.0.1:$LW_SIM_PORT" --network-id 0x4C57 --address 1 \
    --eui 70B3D57ED0000001 --key "$LW_N1_KEY" --kind water --acceleration 0 "$@" ||
    fail "lorawatch-sim $* failed"
}

# The MQTT contract (docs/MQTT.md, docs/schemas) holds for every message a test sees, not only in
# test 15: a strict consumer drops a message that breaks it. Captures are mosquitto_sub -v files.
# lw_capture NAME TOPIC...: record every message on the TOPICs, retained ones included, in
# $WORK/NAME.mqtt from now on; the subscriber is connected on return (LW_CAPTURE_BROKER_LOG: the
# broker's log if not $WORK/mosquitto.log).
lw_capture() {
  local name=$1 t args=()
  shift
  for t in "$@"; do args+=(-t "$t"); done
  lw_spawn "capture_$name" "$WORK/$name.mqtt" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
    -i "lw-capture-$name-$$" "${args[@]}"
  local log=${LW_CAPTURE_BROKER_LOG:-$WORK/mosquitto.log}
  lw_wait_for 10 grep -q "as lw-capture-$name-$$ " "$log" ||
    fail "capture $name: subscriber did not connect: $(tail -n 3 "$WORK/$name.mqtt")"
}
# lw_validate_captured [--skip-commands] FILE...: every message captured in the FILEs matches the
# JSON Schema of its topic and agrees with its topic; a topic outside the contract fails too.
# --skip-commands: leave out the command/<user> messages (the test's own input, malformed on
# purpose in some tests). One validator run for all files, after the captures have gone quiet
# (at most 1 s). The failure names the file, line, topic and the violated rule.
lw_validate_captured() {
  local py='' p out=$WORK/validate-captured.out size last='' opts=(--capture)
  if [ "${1:-}" = --skip-commands ]; then
    opts+=("$1")
    shift
  fi
  for p in /usr/bin/python3 python3; do # the system one: Debian's python3-jsonschema
    if command -v "$p" >/dev/null && "$p" -c 'import jsonschema' 2>/dev/null; then py=$p; break; fi
  done
  [ -n "$py" ] || fail "no python3 with jsonschema to check the MQTT contract (scripts/setup installs python3-jsonschema)"
  for p in "$@"; do [ -f "$p" ] || fail "no MQTT capture $p"; done
  for _ in $(seq 1 10); do
    size=$(cat -- "$@" | wc -c)
    [ "$size" = "$last" ] && break
    last=$size
    sleep 0.1
  done
  if ! "$py" "$LW_SOURCE_DIR/tests/integration/validate_mqtt.py" "${opts[@]}" \
    "$LW_SOURCE_DIR/docs/schemas" "$@" >"$out" 2>&1; then
    { grep -v '^note: ' "$out" || true; } | head -n 60 >&2 || true
    fail "MQTT contract broken: $(grep -m 1 '^INVALID' "$out" | sed 's/^INVALID //') $(grep -m 1 '^  violates' "$out" | sed 's/^ *//') [$(tail -n 1 "$out")]"
  fi
  pass "MQTT contract: $(tail -n 1 "$out") in $(for p in "$@"; do basename "$p"; done | tr '\n' ' ')"
}
