#!/usr/bin/env bash
# The systemd unit: systemd-analyze verify finds nothing to complain about, the sandbox scores an
# overall exposure of at most 2.0 in systemd-analyze security, the settings the daemon relies on
# are there, and the sysusers and tmpfiles snippets apply to an empty root. Needs no running
# systemd (works in a container) and changes nothing on this machine.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
# common.sh's failure report tails $WORK/*.log and stops short of removing $WORK without one.
: >"$WORK/test.log"
UNIT=$LW_SOURCE_DIR/systemd/lorawatchd.service
MAX_EXPOSURE=2.0

command -v systemd-analyze >/dev/null ||
  fail "systemd-analyze not found: install the Debian package 'systemd' (scripts/setup does)"

# verify needs the ExecStart binaries to exist: point them at this build's daemon.
mkdir -p "$WORK/unit"
sed -e "s#/usr/sbin/lorawatchd#$LW_BIN/lorawatchd#g" "$UNIT" >"$WORK/unit/lorawatchd.service"
[ "$(grep -c "^Exec.*$LW_BIN/lorawatchd" "$WORK/unit/lorawatchd.service")" -eq 2 ] ||
  fail "ExecStartPre/ExecStart no longer name /usr/sbin/lorawatchd"

# Warnings (unknown keys, bad values) leave the exit status at 0: any output counts as failure.
# --recursive-errors=no: judge this unit, not whatever other units the host has.
verify() {
  (cd "$WORK/unit" && systemd-analyze verify --man=no --recursive-errors=no "./$1") \
    >"$WORK/verify.log" 2>&1
}
verify lorawatchd.service || fail "systemd-analyze verify failed: $(cat "$WORK/verify.log")"
[ ! -s "$WORK/verify.log" ] || fail "systemd-analyze verify complains: $(cat "$WORK/verify.log")"
# The check must be able to fail: a misspelt key has to produce output.
sed -e 's/^ProtectHome=yes/ProtectHomes=yes/' "$WORK/unit/lorawatchd.service" \
  >"$WORK/unit/broken.service"
verify broken.service || true
grep -q "ProtectHomes" "$WORK/verify.log" || fail "verify did not notice a misspelt key"
pass "systemd-analyze verify: clean"

systemd-analyze security --offline=true --no-pager "$UNIT" >"$WORK/security.log" 2>&1 ||
  fail "systemd-analyze security failed: $(tail -5 "$WORK/security.log")"
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$WORK/security.log")
[ -n "$exposure" ] || fail "no overall exposure in: $(tail -3 "$WORK/security.log")"
awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }' ||
  fail "exposure $exposure > $MAX_EXPOSURE: $(grep '✗' "$WORK/security.log")"
pass "systemd-analyze security: exposure $exposure (at most $MAX_EXPOSURE)"

# Settings the daemon and the package rely on, so a later edit cannot drop them unnoticed.
for want in 'Type=notify' 'WatchdogSec=30s' 'Restart=on-failure' 'User=lorawatch' \
  'Group=lorawatch' 'StateDirectory=lorawatch' 'RuntimeDirectory=lorawatch' \
  'ConfigurationDirectory=lorawatch' 'ExecReload=/bin/kill -HUP $MAINPID' \
  'ExecStartPre=/usr/sbin/lorawatchd -n -f /etc/lorawatch/lorawatch.conf' \
  'DevicePolicy=closed' 'DeviceAllow=/dev/spidev0.0 rw' 'DeviceAllow=/dev/gpiochip0 rw' \
  'CapabilityBoundingSet=' 'NoNewPrivileges=yes' 'UMask=0027'; do
  grep -qxF "$want" "$UNIT" || fail "unit lacks: $want"
done
grep -q '^PrivateDevices=yes' "$UNIT" && fail "PrivateDevices=yes would hide the radio"
# clock_check = kernel reads the NTP status with adjtimex(): ProtectClock=yes refuses even that.
grep -q '^ProtectClock=yes' "$UNIT" && fail "ProtectClock=yes breaks clock_check = kernel"
grep -qx 'SystemCallFilter=adjtimex' "$UNIT" || fail "adjtimex not allowed: clock_check = kernel"
pass "unit settings present"

# sysusers and tmpfiles snippets, applied to an empty root (names resolve inside it).
if command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
  root=$WORK/root
  mkdir -p "$root/etc"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  systemd-sysusers --root="$root" "$LW_SOURCE_DIR/systemd/lorawatch.sysusers" \
    >"$WORK/sysusers.log" 2>&1 || fail "sysusers: $(cat "$WORK/sysusers.log")"
  grep -q '^lorawatch:x:[0-9]*:[0-9]*:.*:/var/lib/lorawatch:/usr/sbin/nologin$' "$root/etc/passwd" ||
    fail "sysusers: no lorawatch system user: $(cat "$root/etc/passwd")"
  grep -Eq '^(spi|gpio):' "$root/etc/group" && fail "sysusers created spi/gpio groups"
  if [ "$(id -u)" -eq 0 ]; then # chown needs root
    mkdir -p "$root/etc/lorawatch" && echo '[gateway]' >"$root/etc/lorawatch/lorawatch.conf"
    systemd-tmpfiles --root="$root" --create "$LW_SOURCE_DIR/systemd/lorawatch.tmpfiles" \
      >"$WORK/tmpfiles.log" 2>&1 || fail "tmpfiles: $(cat "$WORK/tmpfiles.log")"
    uid=$(awk -F: '$1 == "lorawatch" { print $3 }' "$root/etc/passwd")
    gid=$(awk -F: '$1 == "lorawatch" { print $3 }' "$root/etc/group")
    [ "$(stat -c '%a %u %g' "$root/etc/lorawatch")" = "750 0 $gid" ] ||
      fail "tmpfiles: /etc/lorawatch is $(stat -c '%a %u %g' "$root/etc/lorawatch")"
    [ "$(stat -c '%a %u %g' "$root/etc/lorawatch/lorawatch.conf")" = "640 0 $gid" ] ||
      fail "tmpfiles: lorawatch.conf is $(stat -c '%a %u %g' "$root/etc/lorawatch/lorawatch.conf")"
    [ "$(stat -c '%a %u %g' "$root/var/lib/lorawatch")" = "750 $uid $gid" ] ||
      fail "tmpfiles: /var/lib/lorawatch is $(stat -c '%a %u %g' "$root/var/lib/lorawatch")"
    pass "sysusers and tmpfiles snippets apply"
  else
    pass "sysusers snippet applies (tmpfiles needs root: skipped)"
  fi
else
  fail "systemd-sysusers or systemd-tmpfiles not found: install the Debian package 'systemd'"
fi
