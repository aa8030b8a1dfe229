#!/usr/bin/env bash
# The Debian package: a separate /usr build of the three programs, cpack -G DEB, then the
# control fields, the contents, the conffiles and the maintainer scripts as dpkg-deb shows them.
# Inspects the .deb only; nothing is installed on this machine.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
# common.sh's failure report tails $WORK/*.log and stops short of removing $WORK without one.
: >"$WORK/test.log"

for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null ||
    fail "$tool not found: install the Debian packages cmake and dpkg-dev (scripts/setup does)"
done

B=$WORK/build-pkg # removed with $WORK
# The parent build's compiler and sanitizer settings do not leak in: a plain release-like build.
cmake -S "$LW_SOURCE_DIR" -B "$B" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLW_TESTS=OFF -DLW_BENCH=OFF >"$WORK/configure.log" 2>&1 ||
  fail "configure: $(tail -20 "$WORK/configure.log")"
cmake --build "$B" -j4 --target lorawatchd lorawatch lorawatch-sim >"$WORK/build.log" 2>&1 ||
  fail "build: $(grep -E -A5 'error' "$WORK/build.log" | head -40)"
# No fakeroot needed, as root or not: CPack writes root:root into the archive itself.
(cd "$B" && cpack -G DEB) >"$WORK/cpack.log" 2>&1 || fail "cpack: $(tail -20 "$WORK/cpack.log")"
debs=("$B"/lorawatch_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one lorawatch_*.deb in $B"
DEB=${debs[0]}
pass "built $(basename "$DEB")"

field() { dpkg-deb -f "$DEB" "$1"; }
version=$(sed -n 's/^project(lorawatch VERSION \([0-9.]*\).*/\1/p' "$LW_SOURCE_DIR/CMakeLists.txt")
[ "$(field Package)" = lorawatch ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), project says $version"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] ||
  fail "Architecture: $(field Architecture)"
[ "$(field Section)" = misc ] || fail "Section: $(field Section)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ -n "$(field Description)" ] || fail "no Description"
depends=$(field Depends)
for lib in libmosquitto1 libuv1 libsqlite3-0 libcjson1 libssl3 libsystemd0; do
  grep -Eq "(^|, )$lib( |,|$)" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
grep -Eq '(^|, )mosquitto( |,|$)' <<<"$(field Recommends)" ||
  fail "Recommends lacks mosquitto: $(field Recommends)"
pass "control: lorawatch $version, Depends: $depends"

dpkg-deb -c "$DEB" >"$WORK/contents.txt" || fail "dpkg-deb -c"
for f in usr/sbin/lorawatchd usr/bin/lorawatch usr/bin/lorawatch-sim etc/lorawatch/lorawatch.conf \
  usr/lib/systemd/system/lorawatchd.service usr/lib/sysusers.d/lorawatch.conf \
  usr/lib/tmpfiles.d/lorawatch.conf usr/share/lorawatch/scenarios/storm-and-fire.ini \
  usr/share/doc/lorawatch/INSTALL.md; do
  grep -q " \./$f$" "$WORK/contents.txt" || fail "package lacks /$f"
done
for m in man1/lorawatch.1 man5/lorawatch.conf.5 man8/lorawatchd.8; do
  grep -Eq " \./usr/share/man/$m(\.gz)?$" "$WORK/contents.txt" || fail "package lacks $m"
done
grep -q '^-rw-r----- root/root .* \./etc/lorawatch/lorawatch.conf$' "$WORK/contents.txt" ||
  fail "lorawatch.conf is not 0640 root: $(grep lorawatch.conf "$WORK/contents.txt")"
grep -Eq ' \./usr/lib/[^/]*-linux-gnu[^/]*/| \./usr/local/' "$WORK/contents.txt" && fail "files in odd places"
pass "contents: programs, config, unit, sysusers, tmpfiles, man pages, docs"

C=$WORK/control
dpkg-deb -e "$DEB" "$C" || fail "dpkg-deb -e"
grep -qx /etc/lorawatch/lorawatch.conf "$C/conffiles" || fail "conffiles lacks lorawatch.conf"
# The packaged unit is the committed one (prefix /usr needs no path rewriting).
dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./usr/lib/systemd/system/lorawatchd.service \
  >"$WORK/packaged.service" || fail "cannot extract the unit"
cmp -s "$WORK/packaged.service" "$LW_SOURCE_DIR/systemd/lorawatchd.service" ||
  fail "packaged unit differs from systemd/lorawatchd.service"
for s in postinst prerm postrm; do
  [ -x "$C/$s" ] || fail "$s missing or not executable"
  head -1 "$C/$s" | grep -qx '#!/bin/sh' || fail "$s is not a /bin/sh script"
  grep -qx 'set -e' "$C/$s" || fail "$s lacks set -e"
  sh -n "$C/$s" || fail "$s: sh -n"
  if command -v dash >/dev/null; then dash -n "$C/$s" || fail "$s: dash -n"; fi
done
# The postinst must never start or enable the unconfigured daemon. Comments and quoted text
# (the hint printed to the admin) are not commands.
sed -e 's/#.*//' -e 's/"[^"]*"//g' -e "s/'[^']*'//g" "$C/postinst" >"$WORK/postinst.code"
starter='(systemctl|deb-systemd-invoke|deb-systemd-helper|invoke-rc\.d)'
grep -Eq "$starter([[:space:]]+[^[:space:];|&]+)*[[:space:]]+(start|enable|reenable|restart)([[:space:]]|;|\$)|--now" \
  "$WORK/postinst.code" && fail "postinst starts or enables the service: $(grep -n systemctl "$C/postinst")"
grep -q 'systemctl enable --now lorawatchd' "$C/postinst" || fail "postinst does not tell the admin"
grep -q 'rm -rf /var/lib/lorawatch' "$C/postrm" || fail "postrm does not purge the database"
awk '/^purge\)/ { p = 1 } /;;/ { p = 0 } /rm -rf \/var\/lib\/lorawatch/ && !p { bad = 1 }
  END { exit bad }' "$C/postrm" || fail "postrm removes /var/lib/lorawatch outside purge"
pass "conffiles and maintainer scripts"
