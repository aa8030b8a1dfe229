# A small file system of its own for the database, that a test fills and frees, made without
# depending on the machine (sourced by the disk-full tests):
#   tmpfs    a tmpfs mounted in a private user + mount namespace (unshare -Urm: the test runs
#            itself again in there), or directly where the test runs as root;
#   preload  tests/emu/enospc_preload.c loaded into lorawatchd: the directory gets a quota that
#            statvfs reports and writes beyond it fail with ENOSPC.
# LW_DISKFULL_MODE=tmpfs or preload forces one. In CI (CI=true) a test that can have neither
# fails instead of skipping.
# SPDX-License-Identifier: Apache-2.0

# diskfull_enter "$@": first thing in the test, before common.sh. Runs the test again inside a
# user + mount namespace where one can be made (its mounts vanish with it, whatever happens).
diskfull_enter() {
  [ -z "${LW_DISKFULL_NS:-}" ] || return 0
  [ "${LW_DISKFULL_MODE:-}" != preload ] || return 0
  if unshare -Urm true 2>/dev/null; then
    LW_DISKFULL_NS=1 exec unshare -Urm "$0" "$@"
  fi
}

# diskfull_setup DIR BYTES: DIR becomes a file system of BYTES. Sets DISKFULL_MODE and
# DISKFULL_ENV (the environment lorawatchd and the filler need: empty for a tmpfs).
diskfull_setup() {
  local dir=$1 size=$2 mode=${LW_DISKFULL_MODE:-}
  mkdir -p "$dir"
  DISKFULL_DIR=$dir
  DISKFULL_ENV=()
  if [ "$mode" != preload ] &&
    mount -t tmpfs -o "size=$size,mode=0700" lw-diskfull "$dir" 2>"$WORK/mount.err"; then
    DISKFULL_MODE=tmpfs
    FAULT_CLEANUPS+=("umount '$dir' 2>/dev/null || umount -l '$dir'")
  elif [ "$mode" != tmpfs ] && [ -f "${LW_TESTBIN:-}/lw_enospc_preload.so" ]; then
    DISKFULL_MODE=preload
    # An instrumented daemon wants its sanitizer runtime first in the preload list; the shim
    # may come first here.
    DISKFULL_ENV=("LD_PRELOAD=$LW_TESTBIN/lw_enospc_preload.so" "LW_ENOSPC_DIR=$dir"
      "LW_ENOSPC_QUOTA=$size" "LW_ENOSPC_CTL=$dir.full"
      "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
  else
    local why="no tmpfs ($(cat "$WORK/mount.err" 2>/dev/null)) and no $LW_TESTBIN/lw_enospc_preload.so"
    [ "${CI:-}" != true ] || fail "cannot make a full disk here: $why"
    echo "skipped: cannot make a full disk here: $why"
    exit 77
  fi
  echo "disk-full mode: $DISKFULL_MODE, $((size / 1024)) KiB at $dir"
}

# diskfull_run CMD...: CMD with the environment of the disk (lorawatchd, the filler).
diskfull_run() { env "${DISKFULL_ENV[@]}" "$@"; }

# diskfull_fill: take every free block of the disk with another filler file (again: what the
# daemon freed meanwhile, its ballast say, goes too).
DISKFULL_FILLERS=0
diskfull_fill() {
  DISKFULL_FILLERS=$((DISKFULL_FILLERS + 1))
  diskfull_run dd if=/dev/zero of="$DISKFULL_DIR/filler.$DISKFULL_FILLERS" bs=4k >/dev/null 2>&1 || true
}
# diskfull_free: give the fillers' space back.
diskfull_free() { rm -f "$DISKFULL_DIR"/filler.*; }

# The daemon on the small disk, for the tests that start and kill it themselves (after
# common.sh, fault-lib.sh and diskfull_setup). diskfull_conf SITE: lorawatchd.conf for node n1
# (lw_one_node_conf, extra sections on stdin) with the database on the disk: $DB.
diskfull_conf() {
  lw_one_node_conf "$1"
  DB=$DISKFULL_DIR/lw.db
  sed -i "s|^database = .*|database = $DB|" "$WORK/lorawatchd.conf"
}
# diskfull_start_daemon [N]: lorawatchd with the disk's environment, in the background; waits for
# its Nth MQTT connection in the log (default 1 more than before; 0: no wait).
diskfull_start_daemon() {
  local want=${1:-$(($(grep -c 'mqtt: connected' "$WORK/lorawatchd.log" 2>/dev/null || true) + 1))}
  env "${DISKFULL_ENV[@]}" "$LW_BIN/lorawatchd" -d -f "$WORK/lorawatchd.conf" >>"$WORK/lorawatchd.log" 2>&1 &
  LW_DAEMON_PID=$!
  LW_PIDS+=("$LW_DAEMON_PID")
  [ "$want" = 0 ] && return 0
  lw_wait_for 10 sh -c "[ \$(grep -c 'mqtt: connected' '$WORK/lorawatchd.log' 2>/dev/null || true) -ge $want ]" ||
    fail "daemon did not connect: $(tail -n 3 "$WORK/lorawatchd.log")"
}
# q SQL: a query on the disk's database
q() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }
