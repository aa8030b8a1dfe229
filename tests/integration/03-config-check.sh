#!/usr/bin/env bash
# lorawatchd -n: the shipped configuration is valid; a broken one exits non-zero naming FILE:LINE
# for every problem; usage errors exit 2; a foreign database file is refused, not overwritten.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
D=$LW_BIN/lorawatchd

"$D" -n -f "$LW_SOURCE_DIR/config/lorawatch.conf" >"$WORK/ok.log" 2>&1 ||
  fail "shipped config rejected: $(cat "$WORK/ok.log")"
pass "shipped config valid"

cat >"$WORK/bad.conf" <<'EOC'
[gateway]
site = test
[radio]
spreading_factor = 13
[mqtt]
port = 70000
colour = blue
EOC
rc=0
"$D" -n -f "$WORK/bad.conf" >"$WORK/bad.log" 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "broken config: exit $rc, expected 1"
grep -q "bad.conf:4: \[radio\] spreading_factor = 13" "$WORK/bad.log" || fail "no file:line for SF"
grep -q "bad.conf:6: \[mqtt\] port = 70000" "$WORK/bad.log" || fail "no file:line for port"
grep -q "bad.conf:7: \[mqtt\] colour: unknown key" "$WORK/bad.log" || fail "unknown key not named"
pass "broken config: exit 1, every problem as file:line"

rc=0; "$D" --no-such-option >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "unknown option: exit $rc, expected 2"
# Outputs go to files first: grep -q would close the pipe early (SIGPIPE under pipefail).
"$D" --help >"$WORK/help.txt" || fail "--help exit status"
grep -q -- '--check' "$WORK/help.txt" || fail "--help lacks --check"
"$D" --help-config >"$WORK/keys.txt" || fail "--help-config exit status"
grep -q 'spreading_factor' "$WORK/keys.txt" || fail "--help-config lacks keys"
"$LW_BIN/lorawatch" --version >"$WORK/version.txt" || fail "lorawatch --version exit status"
grep -q '^lorawatch [0-9]' "$WORK/version.txt" || fail "lorawatch --version output"
rc=0; "$D" -n -f "$WORK/missing.conf" >"$WORK/missing.log" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "missing.conf: cannot open" "$WORK/missing.log" || fail "missing file"
pass "usage errors and --help"

# The shipped file documents every key: settings as "key =" lines (commented out when they keep
# their default), node and rule keys in the comment blocks of their sections.
section=""
while read -r first rest; do
  case $first in
    \[*) section=$first; continue ;;
    key|"") continue ;;
  esac
  case $section in
    "[node:NAME]"|"[rule:NAME]"|"[duty:ID]") grep -qw -- "$first" "$LW_SOURCE_DIR/config/lorawatch.conf" ;;
    *) grep -Eq "^;?$first =" "$LW_SOURCE_DIR/config/lorawatch.conf" ;;
  esac || fail "config/lorawatch.conf does not document $section $first"
done <"$WORK/keys.txt"
pass "config/lorawatch.conf documents every key of --help-config"

# A database that is somebody else's must be refused and left exactly as it was.
sqlite3 "$WORK/foreign.db" 'CREATE TABLE t(x); INSERT INTO t VALUES (42);'
sum=$(md5sum <"$WORK/foreign.db")
# The shipped file chooses no radio (the daemon would refuse to start): the simulator here.
sed -e "s#^state_dir = .*#database = $WORK/foreign.db#" "$LW_SOURCE_DIR/config/lorawatch.conf" \
  | sed -e "s#^;sim_listen = .*#sim_listen = 127.0.0.1:$(lw_free_port udp)#" >"$WORK/foreign.conf"
chmod 600 "$WORK/foreign.conf" "$WORK/foreign.db"
rc=0; timeout 10 "$D" -d -f "$WORK/foreign.conf" >"$WORK/foreign.log" 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "foreign database: exit $rc, expected 1"
grep -q "not a lorawatch database" "$WORK/foreign.log" || fail "foreign database: no clear reason"
[ "$(md5sum <"$WORK/foreign.db")" = "$sum" ] || fail "foreign database was modified"
pass "foreign database refused and untouched"

# Keys and readings open to other users: refuse to start, saying which file and how to fix it.
# With a node of its own: the shipped file provisions none (nodes are paired).
{
  sed -e "s#^state_dir = .*#database = $WORK/open.db#" \
    -e "s#^;sim_listen = .*#sim_listen = 127.0.0.1:$(lw_free_port udp)#" \
    "$LW_SOURCE_DIR/config/lorawatch.conf"
  printf '[node:n1]\naddress = 1\neui = 70B3D57ED0000001\nkey = 5A4B3C2D1E0F11223344556677889900\nkind = water\n'
} >"$WORK/open.conf"
chmod 644 "$WORK/open.conf"
rc=0; timeout 10 "$D" -d -f "$WORK/open.conf" >"$WORK/open.log" 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "world-readable keys: exit $rc, expected 1"
grep -q "open.conf: configuration with keys is accessible to other users (mode 0644); fix with: chmod o-rwx" \
  "$WORK/open.log" || fail "world-readable keys: no clear reason"
chmod 600 "$WORK/open.conf"
: >"$WORK/open.db"; chmod 644 "$WORK/open.db"
rc=0; timeout 10 "$D" -d -f "$WORK/open.conf" >"$WORK/open2.log" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "open.db: database is accessible to other users" "$WORK/open2.log" ||
  fail "world-readable database not refused"
pass "secrets or database open to other users: refused with the fix"

# lorawatch keygen: a fresh key each time, in a form the daemon's config accepts.
"$LW_BIN/lorawatch" keygen --eui 70B3D57ED0000101 --json >"$WORK/k1.json" || fail "keygen exit"
"$LW_BIN/lorawatch" keygen --eui 70B3D57ED0000101 --json >"$WORK/k2.json" || fail "keygen exit"
k1=$(jq -r .key "$WORK/k1.json"); k2=$(jq -r .key "$WORK/k2.json")
[ ${#k1} -eq 32 ] && [ "$k1" != "$k2" ] || fail "keygen keys: '$k1' '$k2'"
[ "$(jq -r .qr "$WORK/k1.json")" = "LW1:70B3D57ED0000101:$k1" ] || fail "keygen QR string"
printf '[node:new]\naddress = 9\neui = 70B3D57ED0000101\nkey = %s\nkind = water\n' "$k1" \
  >"$WORK/keygen.conf"
"$D" -n -f "$WORK/keygen.conf" >/dev/null || fail "generated key refused by lorawatchd -n"
rc=0; "$LW_BIN/lorawatch" keygen --eui 12345 >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "keygen with a bad EUI: exit $rc"
pass "lorawatch keygen: unique keys, QR string, accepted by the daemon; bad EUI exit 2"
