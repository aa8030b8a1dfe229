# Common set-up for the numbered system tests: a private work dir, a broker, and failure helpers.
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
