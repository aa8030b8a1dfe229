#!/usr/bin/env bash
# What the Debian package ships and how its maintainer scripts behave: a /usr build packaged with
# cpack (without a CMake warning), then dpkg-deb -c / -I / -e on the .deb:
#   - programs, unit, configuration, man pages; every document of docs/, the JSON Schemas beside
#     MQTT.md, the mosquitto bridge and ACL examples, and a DEP-5 copyright file;
#   - Recommends: mosquitto and a CJK font for the report;
#   - the packaged /etc/lorawatch/lorawatch.conf, checked by the packaged lorawatchd: warnings
#     (no radio, no duty roster), exit 0; --strict fails; no published node key;
#   - the maintainer scripts never enable or start the service, and every systemctl call is
#     allowed to fail: run with a systemctl that fails, postinst and prerm still exit 0.
# Inspects the .deb only; nothing is installed on this machine.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
: >"$WORK/test.log"

for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null ||
    fail "$tool not found: install the Debian packages cmake and dpkg-dev (scripts/setup does)"
done

B=$WORK/build-pkg
cmake -S "$LW_SOURCE_DIR" -B "$B" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLW_TESTS=OFF -DLW_BENCH=OFF >"$WORK/configure.log" 2>&1 ||
  fail "configure: $(tail -20 "$WORK/configure.log")"
nice -n 19 cmake --build "$B" -j2 --target lorawatchd lorawatch lorawatch-sim >"$WORK/build.log" 2>&1 ||
  fail "build: $(grep -E -A5 'error' "$WORK/build.log" | head -40)"
(cd "$B" && cpack -G DEB) >"$WORK/cpack.log" 2>&1 || fail "cpack: $(tail -20 "$WORK/cpack.log")"
grep -qi 'warning' "$WORK/configure.log" "$WORK/cpack.log" &&
  fail "CMake warnings: $(grep -i -A4 warning "$WORK/configure.log" "$WORK/cpack.log" | head -20)"
debs=("$B"/lorawatch_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one lorawatch_*.deb in $B"
DEB=${debs[0]}
pass "built $(basename "$DEB") without a CMake warning"

# ---- contents -----------------------------------------------------------------------------
dpkg-deb -c "$DEB" >"$WORK/contents.txt" || fail "dpkg-deb -c"
has() { grep -q " \./$1$" "$WORK/contents.txt" || fail "package lacks /$1"; }
for f in usr/sbin/lorawatchd usr/bin/lorawatch usr/bin/lorawatch-sim etc/lorawatch/lorawatch.conf \
  usr/lib/systemd/system/lorawatchd.service usr/lib/sysusers.d/lorawatch.conf \
  usr/lib/tmpfiles.d/lorawatch.conf usr/share/man/man8/lorawatchd.8.gz \
  usr/share/man/man1/lorawatch.1.gz usr/share/man/man5/lorawatch.conf.5.gz \
  usr/share/doc/lorawatch/copyright usr/share/doc/lorawatch/README.md; do
  has "$f"
done
D=usr/share/doc/lorawatch
for doc in MQTT HARDWARE REVIEW CONTROL INSTALL RULES ARCHITECTURE; do has "$D/$doc.md"; done
n=0
for s in "$LW_SOURCE_DIR"/docs/schemas/*.schema.json; do has "$D/schemas/$(basename "$s")"; n=$((n + 1)); done
[ $n -ge 6 ] || fail "only $n schemas in docs/schemas"
for e in "$LW_SOURCE_DIR"/config/mosquitto/*; do has "$D/examples/mosquitto/$(basename "$e")"; done
has "$D/examples/mosquitto/bridge.conf.example"
has "$D/examples/mosquitto/acl.example"
pass "contents: programs, unit, config, man pages, docs, $n schemas, mosquitto examples, copyright"

# ---- copyright (DEP-5) and licence ---------------------------------------------------------
dpkg-deb --fsys-tarfile "$DEB" | tar -xO "./$D/copyright" >"$WORK/copyright" ||
  fail "cannot extract the copyright file"
cmp -s "$WORK/copyright" "$LW_SOURCE_DIR/debian/copyright" || fail "copyright is not debian/copyright"
head -1 "$WORK/copyright" |
  grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' ||
  fail "copyright: no DEP-5 Format line"
grep -qx 'Upstream-Name: lorawatch' "$WORK/copyright" || fail "copyright: no Upstream-Name"
awk -v RS= '/(^|\n)Files: \*(\n|$)/ && /\nCopyright: .*lorawatch contributors/ &&
  /\nLicense: Apache-2.0(\n|$)/ { found = 1 } END { exit !found }' "$WORK/copyright" ||
  fail "copyright: no 'Files: *' paragraph for lorawatch contributors under Apache-2.0"
awk -v RS= '/^License: Apache-2.0\n/ && /common-licenses\/Apache-2.0/ { found = 1 }
  END { exit !found }' "$WORK/copyright" || fail "copyright: no stand-alone Apache-2.0 licence paragraph"
grep -q 'Version 2.0, January 2004' "$LW_SOURCE_DIR/LICENSE" &&
  grep -q 'END OF TERMS AND CONDITIONS' "$LW_SOURCE_DIR/LICENSE" || fail "LICENSE is not Apache-2.0"
if [ -f /usr/share/common-licenses/Apache-2.0 ]; then
  cmp -s /usr/share/common-licenses/Apache-2.0 "$LW_SOURCE_DIR/LICENSE" ||
    fail "LICENSE differs from the standard text"
fi
pass "copyright: DEP-5, lorawatch contributors, Apache-2.0; LICENSE is the full text"

# ---- control fields --------------------------------------------------------------------------
dpkg-deb -I "$DEB" >"$WORK/info.txt" || fail "dpkg-deb -I"
recommends=$(dpkg-deb -f "$DEB" Recommends)
for p in mosquitto fonts-wqy-microhei; do
  grep -Eq "(^|, )$p( |,|$)" <<<"$recommends" || fail "Recommends lacks $p: $recommends"
done
grep -q 'lorawatchd -n --strict' "$WORK/info.txt" || fail "Description does not say how to check"
pass "control: Recommends: $recommends"

# ---- the packaged configuration, checked by the packaged daemon ------------------------------
X=$WORK/root
mkdir -p "$X"
dpkg-deb -x "$DEB" "$X" || fail "dpkg-deb -x"
CONF=$X/etc/lorawatch/lorawatch.conf
grep -Eq '^key = ' "$CONF" && fail "the packaged configuration provisions a node key"
rc=0; "$X/usr/sbin/lorawatchd" -n -f "$CONF" >"$WORK/check.out" 2>&1 || rc=$?
[ $rc -eq 0 ] || fail "lorawatchd -n on the packaged configuration: exit $rc: $(cat "$WORK/check.out")"
grep -q '^WARNING: .*\[radio\] backend: not set' "$WORK/check.out" ||
  fail "no warning that the radio is not chosen: $(cat "$WORK/check.out")"
grep -q '^WARNING: .*no duty roster' "$WORK/check.out" ||
  fail "no warning about the duty roster: $(cat "$WORK/check.out")"
rc=0; "$X/usr/sbin/lorawatchd" -n --strict -f "$CONF" >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "lorawatchd -n --strict on the packaged configuration: exit $rc, expected 1"
pass "packaged configuration: lorawatchd -n warns (radio, duty roster), --strict fails"

# ---- maintainer scripts ----------------------------------------------------------------------
C=$WORK/control
dpkg-deb -e "$DEB" "$C" || fail "dpkg-deb -e"
grep -qx /etc/lorawatch/lorawatch.conf "$C/conffiles" || fail "conffiles lacks lorawatch.conf"
starter='(systemctl|deb-systemd-invoke|deb-systemd-helper|invoke-rc\.d)'
for s in postinst prerm postrm; do
  [ -x "$C/$s" ] || fail "$s missing or not executable"
  sh -n "$C/$s" || fail "$s: sh -n"
  # Code only: comments and quoted text (messages to the admin) are not commands.
  sed -e 's/#.*//' -e 's/"[^"]*"//g' -e "s/'[^']*'//g" "$C/$s" >"$WORK/$s.code"
  # Every call that talks to the service manager tolerates its failure.
  grep -nE "(^|[[:space:];&|(])$starter[[:space:]]" "$WORK/$s.code" | grep -v '|| true[[:space:]]*$' \
    >"$WORK/$s.bad" && fail "$s: service manager call that can fail the installation: $(cat "$WORK/$s.bad")"
done
grep -Eq "$starter([[:space:]]+[^[:space:];|&]+)*[[:space:]]+(start|enable|reenable|restart)([[:space:]]|;|\$)|--now" \
  "$WORK/postinst.code" && fail "postinst enables or starts the service"
pass "maintainer scripts: no enable or start, every systemctl call '|| true'"

# Behaviour: postinst (fresh install and upgrade) and prerm with a systemd that is running (a
# private /run) and a systemctl that always fails; the user and file tools are stand-ins that
# only record their arguments. Needs root for the mount namespace.
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null ||
  ! unshare -m sh -c 'mount -t tmpfs lw-run /run' 2>/dev/null; then
  pass "maintainer script run skipped (needs root and a private mount namespace)"
  exit 0
fi
S=$WORK/stubs
mkdir -p "$S"
for t in systemctl deb-systemd-invoke deb-systemd-helper; do
  printf '#!/bin/sh\necho "%s $*" >>"%s/calls.log"\nexit 1\n' "$t" "$WORK" >"$S/$t"
done
for t in systemd-sysusers systemd-tmpfiles usermod useradd groupadd adduser chown chmod mkdir; do
  printf '#!/bin/sh\necho "%s $*" >>"%s/calls.log"\nexit 0\n' "$t" "$WORK" >"$S/$t"
done
printf '#!/bin/sh\nexit 0\n' >"$S/getent"
printf '#!/bin/sh\necho lorawatch spi gpio\n' >"$S/id"
chmod +x "$S"/*
run_script() { # NAME ARGS...: exit status of the maintainer script in the faked system
  unshare -m sh -c 'mount -t tmpfs lw-run /run && mkdir -p /run/systemd/system &&
    PATH="$0:/usr/bin:/bin" exec "$@"' "$S" "$C/$1" "${@:2}" >>"$WORK/scripts.log" 2>&1
}
: >"$WORK/calls.log"
run_script postinst configure || fail "postinst configure (fresh) failed: $(cat "$WORK/scripts.log")"
grep -q 'systemctl --system daemon-reload' "$WORK/calls.log" ||
  fail "postinst did not reload systemd: $(cat "$WORK/calls.log")"
grep -Eq "^$starter( [^ ]+)* (start|restart|enable|reenable)( |\$)" "$WORK/calls.log" &&
  fail "fresh install enabled or started the service: $(cat "$WORK/calls.log")"
grep -q "lorawatchd -n --strict" "$WORK/scripts.log" || fail "postinst does not tell the admin to check"
grep -q "usermod -aG lorawatch" "$WORK/scripts.log" || fail "postinst does not mention the group"
: >"$WORK/calls.log"
run_script postinst configure 0.0.9 || fail "postinst configure (upgrade) failed with a failing systemctl"
grep -qx 'systemctl try-restart lorawatchd.service' "$WORK/calls.log" ||
  fail "upgrade: no try-restart: $(cat "$WORK/calls.log")"
grep -Eq "^$starter( [^ ]+)* (start|restart|enable|reenable)( |\$)" "$WORK/calls.log" &&
  fail "upgrade enabled or started the service: $(cat "$WORK/calls.log")"
run_script prerm remove || fail "prerm remove failed with a failing systemctl"
run_script postrm remove || fail "postrm remove failed with a failing systemctl"
pass "postinst (install, upgrade), prerm, postrm exit 0 with a failing systemctl; nothing enabled or started"
