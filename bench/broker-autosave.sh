#!/usr/bin/env bash
# How much the local broker writes to its database (an SD card on a gateway) under the shipped
# config/mosquitto/local.conf and under autosave_on_changes: the demo night (storm-and-fire, six
# nodes, alerts and duty pages) for 60 s at 90x, with the phones' bridge offline (a persistent
# subscriber whose queue the broker keeps). Prints, per setting, the database rewrites, the bytes
# the broker wrote (its own log subtracted) and the database size at the end.
#   bench/broker-autosave.sh [BUILD_DIR]    (default build)
# SPDX-License-Identifier: Apache-2.0
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export LW_BIN=$ROOT/${1:-build}/bin
. scripts/lw-env.sh
WORK=$(mktemp -d /tmp/lw-autosave.XXXXXX)
trap 'lw_cleanup; rm -rf "$WORK"' EXIT
SCEN=config/scenarios/storm-and-fire.ini SITE=demo

run() { # run NAME EXTRA_CONF_LINES
  local name=$1 extra=$2 dir=$WORK/$1 port udp pid
  mkdir -p "$dir/db"
  port=$(lw_free_port tcp)
  { sed -e "s|^listener 1883 |listener $port |" -e "s|^persistence_location .*|persistence_location $dir/db/|" \
      -e '/^autosave_/d' config/mosquitto/local.conf
    printf '%b' "$extra"
    printf 'user %s\nlog_dest file %s/broker.log\nlog_type information\n' "$(id -un)" "$dir"
  } >"$dir/mosquitto.conf"
  mosquitto -c "$dir/mosquitto.conf" >/dev/null 2>&1 &
  pid=$!
  LW_PIDS+=("$pid")
  lw_wait_for 10 lw_tcp_listening "$port"
  mosquitto_sub -p "$port" -q 1 -c -i bridge-stand-in -E -t "lorawatch/$SITE/#"
  udp=$(lw_free_port udp)
  lw_compose_config config/lorawatch.conf "$SCEN" "$SITE" "$dir/lw.db" "$port" "$udp" "$dir/lw.conf"
  "$LW_BIN/lorawatchd" -d -f "$dir/lw.conf" >"$dir/lorawatchd.log" 2>&1 &
  local dpid=$!
  LW_PIDS+=("$dpid")
  lw_wait_for 10 grep -q "connected to" "$dir/lorawatchd.log"
  local w0 w1 l0 l1
  w0=$(awk '/^wchar/{print $2}' "/proc/$pid/io"); l0=$(stat -c %s "$dir/broker.log")
  "$LW_BIN/lorawatch-sim" -q -s "$SCEN" --gateway "127.0.0.1:$udp" --acceleration 90 >/dev/null 2>&1
  w1=$(awk '/^wchar/{print $2}' "/proc/$pid/io"); l1=$(stat -c %s "$dir/broker.log")
  printf '%-44s %6d rewrites %10d bytes written, database %7d bytes\n' "$name" \
    "$(grep -c 'Saving in-memory database' "$dir/broker.log" || true)" $(( (w1 - w0) - (l1 - l0) )) \
    "$(stat -c %s "$dir/db/mosquitto.db" 2>/dev/null || echo 0)"
  kill -TERM "$dpid"; wait "$dpid" || true
  kill -TERM "$pid"; wait "$pid" || true
}
run "autosave_interval 30 (shipped)" 'autosave_interval 30\n'
run "autosave_on_changes true, autosave_interval 1" 'autosave_on_changes true\nautosave_interval 1\n'
run "autosave_on_changes true, autosave_interval 100" 'autosave_on_changes true\nautosave_interval 100\n'
