# Helpers shared by the fault tests (20-29), sourced after common.sh: a broker that keeps its
# state on disk and can be killed and restarted on the same port, a daemon started so that the
# cleanup trap always stops it, generated alert-storm scenarios, and journal/MQTT comparisons.
# Short forms fit in CI; LW_LONG=1 selects the long forms.
# SPDX-License-Identifier: Apache-2.0

LW_LONG=${LW_LONG:-}
FAULT_SITE=${FAULT_SITE:-ft}

# Extra cleanup steps (unmounts, ...) run by fault_exit before common.sh's on_exit.
FAULT_CLEANUPS=()
fault_exit() {
  local rc=$?
  lw_cleanup # stop processes first: a mount cannot go while a process has files open on it
  local c
  set +e # a failing step here must not end the handler before on_exit
  for c in "${FAULT_CLEANUPS[@]}"; do eval "$c"; done
  (exit $rc) # on_exit reads the exit status from $?
  on_exit
}
trap fault_exit EXIT

# fault_broker_conf DIR PORT: a broker that persists sessions, queues and retained messages to
# DIR every second, so a persistent subscriber's queue survives the broker's own SIGKILL except
# for the last second (the tests never kill it within a second of a change they depend on).
fault_broker_conf() {
  local dir=$1 port=$2
  mkdir -p "$dir/broker-db"
  cat >"$dir/mosquitto.conf" <<EOC
listener $port 127.0.0.1
allow_anonymous true
# As root, mosquitto drops to user mosquitto, which cannot write into the private work dir.
user $(id -un)
persistence true
persistence_location $dir/broker-db/
autosave_interval 1
max_queued_messages 100000
max_inflight_messages 0
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
EOC
}

FAULT_BROKER_STARTS=0
# fault_start_broker DIR: (re)start the persistent broker on LW_MQTT_PORT (chosen on first call).
fault_start_broker() {
  local dir=$1
  if [ -z "${LW_MQTT_PORT:-}" ]; then
    LW_MQTT_PORT=$(lw_free_port tcp)
    fault_broker_conf "$dir" "$LW_MQTT_PORT"
  fi
  FAULT_BROKER_STARTS=$((FAULT_BROKER_STARTS + 1))
  echo "=== broker start $FAULT_BROKER_STARTS" >>"$dir/mosquitto.log"
  mosquitto -c "$dir/mosquitto.conf" >>"$dir/mosquitto.log" 2>&1 &
  LW_PIDS+=("$!")
  FAULT_BROKER_PID=$!
  # A killed broker's port can stay in TIME_WAIT for its old connections, but the listener
  # itself binds with SO_REUSEADDR: the same port comes back at once.
  lw_wait_for 10 lw_tcp_listening "$LW_MQTT_PORT" || fail "mosquitto did not (re)start on $LW_MQTT_PORT"
}
fault_kill_broker() {
  kill -KILL "$FAULT_BROKER_PID" 2>/dev/null || true
  wait "$FAULT_BROKER_PID" 2>/dev/null || true
  lw_wait_for 5 sh -c "! ss -H -ltn 'sport = :$LW_MQTT_PORT' | grep -q ." || fail "killed broker still listening"
}

# fault_subscriber NAME: persistent-session QoS 1 subscriber to every alert topic of the site.
# Clean session off and a fixed client id: the broker queues alerts while it is away. -R drops
# the retained copies a (re)subscription brings, so only live deliveries are recorded.
fault_subscriber() {
  local name=$1
  lw_spawn "sub_$name" "$WORK/$name.mqtt" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" \
    -q 1 -c -i "lw-fault-$name" -R -v -t "lorawatch/$FAULT_SITE/alert/+"
}
# fault_sub_connected NAME COUNT: the broker has logged COUNT connections of that subscriber.
fault_sub_connected() {
  [ "$(grep -c "as lw-fault-$1 " "$WORK/mosquitto.log" || true)" -ge "$2" ]
}

# fault_conf SCENARIO DB UDP OUT [EXTRA_STORAGE_LINES]: daemon configuration with the storm rule
# (persistence 0, so every crossing is a transition) and the scenario's nodes.
fault_conf() {
  local scen=$1 db=$2 uport=$3 out=$4 storage=${5:-}
  {
    printf '[gateway]\nsite = %s\nnetwork_id = 0x4C57\ndatabase = %s\nlog_level = %s\n' \
      "$FAULT_SITE" "$db" "${FAULT_LOG_LEVEL:-info}"
    printf 'clock_check = none\n\n'
    printf '[radio]\nbackend = sim\nsim_listen = 127.0.0.1:%s\nsim_clock = %s\n\n' "$uport" \
      "${FAULT_SIM_CLOCK:-medium}"
    printf '[mqtt]\nhost = 127.0.0.1\nport = %s\nreconnect_min = 200ms\nreconnect_max = 1s\n' \
      "$LW_MQTT_PORT"
    printf 'client_id = lorawatchd-%s\n\n' "$FAULT_SITE"
    [ -n "$storage" ] && printf '[storage]\n%s\n\n' "$storage"
    printf '[rule:storm]\nmetric = water_mm\nthreshold = 100\nclear = 50\npersistence = 0s\nlevel = red\n\n'
    "$LW_BIN/lorawatch-sim" --emit-node-config -s "$scen"
  } >"$out"
  chmod 600 "$out"
  "$LW_BIN/lorawatchd" -n -f "$out" >/dev/null || fail "generated daemon configuration invalid"
}

# fault_storm_scenario OUT NODES DURATION_S PERIOD_S INTERVAL_S ACCEL [BASE_ADDR]: NODES water
# nodes whose level is a square wave: 200 mm for PERIOD_S, 0 mm for PERIOD_S, ... so each node
# raises and clears the storm rule every PERIOD_S. Each node starts at a different phase.
fault_storm_scenario() {
  local out=$1 nodes=$2 dur=$3 period=$4 interval=$5 accel=$6 base=${7:-0x2000}
  {
    printf '[scenario]\nname = fault-storm\nstart = 2026-07-15T02:00:00+08:00\n'
    printf 'duration = %ss\nacceleration = %s\nnetwork_id = 0x4C57\ntick = 1s\nseed = 7\n\n' \
      "$dur" "$accel"
    local i
    for i in $(seq 1 "$nodes"); do
      local addr=$((base + i))
      printf '[node:storm-%02d]\naddress = 0x%04X\neui = 70B3D57EDF%06X\n' "$i" "$addr" "$addr"
      printf 'key = %032X\n' "$((0x5A000000 + addr))"
      printf 'kind = water\nlabel = storm node %d\ntags = low-lying\n' "$i"
      printf 'interval = %ss\noffset = %sms\n' "$interval" "$(( (i * 97) % (interval * 1000) ))"
      # Square wave, points in ms: high [2kP, 2kP+P-1], low [2kP+P, 2kP+2P-1], shifted by node.
      local shift=$(( (i * 1000 * period / nodes) ))
      local t=0 pts="" n=0 v hi=0
      [ $((i % 2)) -eq 0 ] && hi=1
      pts="0@0ms"
      t=$shift
      while [ "$t" -lt $((dur * 1000)) ]; do
        if [ $hi -eq 1 ]; then v=200; else v=0; fi
        pts="$pts $v@${t}ms $v@$((t + period * 1000 - 1))ms"
        t=$((t + period * 1000))
        hi=$((1 - hi))
      done
      # Continuation lines keep each line under the 190-character limit.
      printf 'water_mm =' 
      local w col=10
      for w in $pts; do
        if [ $((col + ${#w} + 1)) -gt 180 ]; then printf '\n   '; col=3; fi
        printf ' %s' "$w"
        col=$((col + ${#w} + 1))
      done
      printf '\nbattery_mv = 3600\n\n'
    done
  } >"$out"
  "$LW_BIN/lorawatch-sim" -s "$out" --check >/dev/null || fail "generated scenario invalid: $("$LW_BIN/lorawatch-sim" -s "$out" --check 2>&1 | head -3)"
}

# fault_start_daemon CONF LOG: start lorawatchd in the foreground, appending to LOG, and make the
# cleanup trap stop it whatever happens.
fault_start_daemon() {
  "$LW_BIN/lorawatchd" -d -f "$1" >>"$2" 2>&1 &
  LW_DAEMON_PID=$!
  LW_PIDS+=("$LW_DAEMON_PID")
}

q() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }

# fault_received FILE...: "id state" lines of every alert message received (deduplicated).
fault_received() {
  { grep -h "^lorawatch/$FAULT_SITE/alert/" "$@" || true; } | cut -d' ' -f2- | sed '/^(null)$/d' |
    jq -r '"\(.id) \(if .state == "updated" then "raised" else .state end)"' | sort -u
}
# fault_journalled: "id state" of every raised/cleared transition in the journal.
fault_journalled() {
  q "SELECT alert || ' ' || event FROM alert_journal WHERE event IN ('raised','cleared')" | sort -u
}
