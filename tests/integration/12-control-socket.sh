#!/usr/bin/env bash
# Control socket: mode 0660 with the control group; `lorawatch status` asks the daemon over it;
# malformed, unknown and oversized requests get an error reply (oversized: connection closed)
# and change nothing; other users are refused by the file mode and, should the mode be wrong, by
# the peer-credential check, which logs them; once stopped, status falls back to the metrics file.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

lw_start_broker "$WORK"
SOCK=$WORK/control.sock
GROUP=$(id -gn)
cat >"$WORK/lorawatchd.conf" <<EOC
[gateway]
site = ctl
database = $WORK/lw.db
clock_check = none
control_socket = $SOCK
control_group = $GROUP
metrics_file = $WORK/metrics.prom
metrics_interval = 1s
[radio]
sim_listen = 127.0.0.1:$(lw_free_port udp)
[mqtt]
port = $LW_MQTT_PORT
EOC
chmod 600 "$WORK/lorawatchd.conf"
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 test -S "$SOCK" || fail "no control socket"
[ "$(stat -c '%a %G' "$SOCK")" = "660 $GROUP" ] || fail "socket mode/group: $(stat -c '%a %G' "$SOCK")"
pass "socket $SOCK is 0660 with group $GROUP"

"$LW_BIN/lorawatch" status -s "$SOCK" >"$WORK/status.txt" || fail "status over the socket: exit $?"
grep -q 'site ctl: running' "$WORK/status.txt" || fail "status over the socket: not running"
pass "lorawatch status over the socket"

# ask HEX_HEADER BODY: one raw request; prints the reply.
ask() { { printf "$1"; printf '%s' "$2"; } | socat -t 2 - "UNIX-CONNECT:$SOCK" | tr -d '\000-\010'; }
ask '\000\000\000\005' 'hello' | grep -q 'not a JSON object' || fail "malformed JSON not answered"
ask '\000\000\000\020' '{"cmd":"reboot"}' | grep -q "unknown command 'reboot'" ||
  fail "unknown command not answered"
ask '\000\020\000\000' 'x' | grep -q 'message too large' || fail "oversized header not refused"
ask '\000\000\000\016' '{"cmd":"ping"}' | grep -q '"ok":true' || fail "ping after bad requests"
pass "malformed, unknown and oversized requests answered with errors; daemon still serves"

if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  chmod 755 "$WORK"
  as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
  rc=0; as_nobody "$LW_BIN/lorawatch" status -s "$SOCK" 2>"$WORK/nobody.txt" || rc=$?
  [ $rc -eq 5 ] && grep -q 'permission denied; run as root or as a member' "$WORK/nobody.txt" ||
    fail "other user not stopped by the socket mode (exit $rc)"
  chmod 666 "$SOCK" # a wrong mode must not be enough to get in
  rc=0; as_nobody "$LW_BIN/lorawatch" status -s "$SOCK" 2>"$WORK/nobody2.txt" || rc=$?
  [ $rc -eq 5 ] || fail "other user got in through a world-writable socket (exit $rc)"
  lw_wait_for 5 grep -q 'control: refused connection from uid 65534' "$WORK/lorawatchd.log" ||
    fail "refused connection not logged"
  pass "other users refused by the mode, and by peer credentials when the mode is wrong"
else
  echo "skipped: refusing other users needs root and setpriv"
fi

lw_stop_daemon
[ ! -e "$SOCK" ] || fail "socket left behind after stop"
rc=0; "$LW_BIN/lorawatch" status -s "$SOCK" -m "$WORK/metrics.prom" >"$WORK/after.txt" || rc=$?
rc2=0; "$LW_BIN/lorawatch" status -s "$SOCK" >"$WORK/after2.txt" 2>&1 || rc2=$?
[ $rc -eq 3 ] && grep -q ': stopped' "$WORK/after.txt" || fail "stopped: exit $rc"
[ $rc2 -eq 1 ] || fail "no socket and no default metrics file: exit $rc2, expected 1"
pass "socket removed at stop; status then reports from the metrics file"
