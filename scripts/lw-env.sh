# Shell helpers shared by scripts/demo and the integration tests: free ports, a private
# mosquitto, a daemon configuration composed from the shipped rules and a scenario's nodes, and
# cleanup that leaves no process behind. Source it; it defines functions only.
# SPDX-License-Identifier: Apache-2.0

# lw_free_port tcp|udp: print a loopback port nobody listens on.
lw_free_port() {
  local proto=$1 port flag=-ltn
  [ "$proto" = udp ] && flag=-lun
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 40000 ))
    if [ -z "$(ss -H $flag "sport = :$port" 2>/dev/null)" ]; then
      echo "$port"
      return 0
    fi
  done
  echo "lw_free_port: no free $proto port found" >&2
  return 1
}

LW_PIDS=()
# lw_spawn NAME LOG CMD...: start CMD in the background, remember its pid.
lw_spawn() {
  local name=$1 log=$2
  shift 2
  "$@" >"$log" 2>&1 &
  LW_PIDS+=("$!")
  eval "LW_PID_$name=$!"
}

# lw_cleanup: stop everything lw_spawn started (TERM, then KILL after 5 s).
lw_cleanup() {
  local pid
  for pid in "${LW_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${LW_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${LW_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  LW_PIDS=()
}

# lw_wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
lw_wait_for() {
  local secs=$1
  shift
  local i
  for i in $(seq 1 $(( secs * 10 ))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# lw_tcp_listening PORT: something listens on that loopback TCP port (ss itself always exits 0).
lw_tcp_listening() {
  [ -n "$(ss -H -ltn "sport = :$1" 2>/dev/null)" ]
}

# lw_pid_listening PID PORT: process PID itself listens on that loopback TCP port (not another
# process that took the port meanwhile).
lw_pid_listening() {
  ss -H -ltnp "sport = :$2" 2>/dev/null | grep -q "pid=$1,"
}

# lw_start_broker DIR: private mosquitto on a free loopback port; sets LW_MQTT_PORT.
lw_start_broker() {
  local dir=$1 attempt i
  # A port found free can be taken by another process before mosquitto binds it: try another.
  for attempt in 1 2 3; do
    LW_MQTT_PORT=$(lw_free_port tcp)
    cat >"$dir/mosquitto.conf" <<EOC
listener $LW_MQTT_PORT 127.0.0.1
allow_anonymous true
persistence false
log_dest stderr
EOC
    lw_spawn broker "$dir/mosquitto.log" mosquitto -c "$dir/mosquitto.conf"
    # Up when this mosquitto listens; given up on as soon as it has exited (port taken).
    for i in $(seq 1 100); do
      lw_pid_listening "$LW_PID_broker" "$LW_MQTT_PORT" && return 0
      kill -0 "$LW_PID_broker" 2>/dev/null || break
      sleep 0.1
    done
    grep -q 'Address already in use' "$dir/mosquitto.log" || break
    echo "mosquitto: port $LW_MQTT_PORT taken meanwhile (attempt $attempt), trying another" >&2
  done
  echo "mosquitto did not start:" >&2
  cat "$dir/mosquitto.log" >&2
  return 1
}

# lw_compose_config SRC SCENARIO SITE DB MQTT_PORT UDP_PORT OUT: the daemon configuration for a
# simulated run: the rules of SRC, the nodes of SCENARIO (printed by lorawatch-sim, so keys are
# written once), the medium's virtual clock.
lw_compose_config() {
  local src=$1 scenario=$2 site=$3 db=$4 mport=$5 uport=$6 out=$7
  {
    printf '[gateway]\nsite = %s\nnetwork_id = 0x4C57\ndatabase = %s\nlog_level = info\n\n' \
      "$site" "$db"
    printf '[radio]\nbackend = sim\nsim_listen = 127.0.0.1:%s\nsim_clock = medium\n\n' "$uport"
    printf '[mqtt]\nhost = 127.0.0.1\nport = %s\nreconnect_min = 200ms\nreconnect_max = 2s\n\n' \
      "$mport"
    # Only the rule sections of the shipped configuration.
    awk '/^\[/{keep = ($0 ~ /^\[rule:/)} keep' "$src"
    echo
    "$LW_BIN/lorawatch-sim" --emit-node-config -s "$scenario"
  } >"$out"
  chmod 600 "$out" # it holds node keys: lorawatchd refuses files others can read
}
