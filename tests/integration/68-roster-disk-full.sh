#!/usr/bin/env bash
# Fault: the duty roster cannot be journalled because the disk takes no writes. A SIGHUP reload on
# the full disk logs it and goes on (the new roster pages at once); nothing half written is left
# (no period closed without its successor); once the disk is back the next reload journals the
# roster then in force. (Start-up journals through the same call.) Made with the ENOSPC shim (every write under the state
# directory fails while its control file exists).
# SPDX-License-Identifier: Apache-2.0
LW_DISKFULL_MODE=preload
. "$(dirname "$0")/diskfull-lib.sh"
diskfull_enter "$@"
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/fault-lib.sh"

MNT=$WORK/dbfs
diskfull_setup "$MNT" 0
fault_start_broker "$WORK"
diskfull_conf ros <<EOC
[gateway]
clock_check = none
control_socket = $WORK/control.sock
control_group =
[duty:room]
name = 王芳
tier = 2
EOC
rename() { sed -i "s/^name = .*/name = $1/" "$WORK/lorawatchd.conf"; }
reloads() { [ "$(grep -c 'configuration reloaded' "$WORK/lorawatchd.log")" -ge "$1" ]; }
journal() { q "SELECT group_concat(name || ':' || (to_ms IS NULL), ' ') FROM (SELECT * FROM roster_journal ORDER BY id)"; }

diskfull_start_daemon 1
[ "$(journal)" = "王芳:1" ] || fail "start-up roster: $(journal)"

# ---- reload on the full disk ----------------------------------------------------------------
touch "$MNT.full"
rename 李娜
kill -HUP "$LW_DAEMON_PID"
lw_wait_for 10 reloads 1 || fail "no reload on the full disk"
lw_wait_for 5 grep -q 'duty roster not journalled' "$WORK/lorawatchd.log" || fail "failure not logged"
kill -0 "$LW_DAEMON_PID" || fail "the daemon stopped"
rm -f "$MNT.full"
[ "$(journal)" = "王芳:1" ] || fail "half a change written on the full disk: $(journal)"
pass "reload on the full disk: logged, the daemon goes on, nothing half written"

# ---- the disk back: the next reload journals the roster in force ---------------------------
kill -HUP "$LW_DAEMON_PID"
lw_wait_for 10 reloads 2 || fail "no reload with the disk back"
lw_wait_for 5 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT count(*) FROM roster_journal\")\" = 2 ]" ||
  fail "not journalled with the disk back: $(journal)"
[ "$(journal)" = "王芳:0 李娜:1" ] || fail "roster after the disk came back: $(journal)"
pass "with the disk back the next reload journals the rename"

lw_stop_daemon
