# Shared by the mesh system tests (50-59): the daemon with a simulated-clock radio and the
# [node:] sections of a mesh scenario, and the simulator playing it. Source after common.sh.
# SPDX-License-Identifier: Apache-2.0

# mesh_start SCENARIO [extra config on stdin]: broker, capture of the site's messages, config,
# daemon; MESH_SC is the file.
mesh_start() {
  MESH_SC=$LW_SOURCE_DIR/config/scenarios/$1.ini
  lw_start_broker "$WORK"
  # Every message of the run, for lw_validate_captured "$WORK/all.mqtt" at the end of a test.
  lw_capture all "lorawatch/$1/#"
  {
    printf '[radio]\nsim_clock = medium\n'
    cat
  } >"$WORK/extra.conf"
  lw_one_node_conf "$1" <"$WORK/extra.conf" # not in a pipe: it sets LW_SIM_PORT
  "$LW_BIN/lorawatch-sim" -s "$MESH_SC" --emit-node-config >>"$WORK/lorawatchd.conf" ||
    fail "emit-node-config"
  lw_start_daemon "$WORK/lorawatchd.conf"
  lw_wait_for 10 grep -q 'radio sim: listening' "$WORK/lorawatchd.log" || fail "daemon not up"
}

# mesh_run [sim options]: play the scenario as fast as possible; $WORK/sim.json is its summary.
mesh_run() {
  "$LW_BIN/lorawatch-sim" -s "$MESH_SC" --gateway "127.0.0.1:$LW_SIM_PORT" --acceleration 0 \
    --reply-wait 1s -v --summary-json "$WORK/sim.json" "$@" >"$WORK/sim.log" 2>&1 ||
    fail "lorawatch-sim: $(tail -n 3 "$WORK/sim.log")"
}

# jq on the summary
sim_json() { jq -r "$1" "$WORK/sim.json"; }
q() { sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" "$@"; }
# readings_reach ADDR N: the node's stored readings reach N (batches commit within a second).
readings_reach() {
  lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' \"SELECT count(*) FROM readings WHERE node = $1\") -ge $2 ]"
}
# node_frames NAME: frames the simulator's node sent (its own, retransmissions included)
node_frames() { sim_json ".nodes[] | select(.name == \"$1\") | .frames"; }
