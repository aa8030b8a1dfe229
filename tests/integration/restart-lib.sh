# Shared by the restart tests 65 and 66: a broker, one water node whose rules come on stdin, the
# configuration checked, and helpers to start the daemon, query its database and read the clock.
#   restart_setup NAME <<'EOF' ... EOF     (the [gateway]/[rule:] sections for lw_one_node_conf)
# SPDX-License-Identifier: Apache-2.0
restart_setup() {
  lw_start_broker "$WORK"
  lw_one_node_conf "$1"
  "$LW_BIN/lorawatchd" -n -f "$WORK/lorawatchd.conf" >"$WORK/check.log" 2>&1 ||
    fail "config refused: $(cat "$WORK/check.log")"
}
q() { sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" "$1"; }
# Start lorawatchd on the configuration and wait for its MQTT connection.
start() {
  lw_start_daemon "$WORK/lorawatchd.conf"
  lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon not connected"
}
count_is() { [ "$(q "SELECT count(*) FROM $1")" = "$2" ]; } # count_is TABLE_AND_WHERE N
now_ms() { echo $(($(date +%s%N) / 1000000)); }
