#!/usr/bin/env bash
# lorawatchd -n warns (WARNING: lines, exit 0) about settings that are valid but wrong for a
# gateway in service: no radio chosen or the simulator's, a node key published in lorawatch's
# examples, no duty roster. -n --strict fails on them. The shipped configuration chooses no radio,
# so the daemon started on it refuses, naming the file and the key.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
D=$LW_BIN/lorawatchd
SHIPPED=$LW_SOURCE_DIR/config/lorawatch.conf

# ---- the shipped configuration ---------------------------------------------------------------
rc=0; "$D" -n -f "$SHIPPED" >"$WORK/shipped.out" 2>"$WORK/shipped.err" || rc=$?
[ $rc -eq 0 ] || fail "lorawatchd -n on the shipped file: exit $rc: $(cat "$WORK/shipped.err")"
grep -q "^WARNING: $SHIPPED: \[radio\] backend: not set: lorawatchd refuses to start" \
  "$WORK/shipped.err" || fail "no warning about the radio: $(cat "$WORK/shipped.err")"
grep -q "^WARNING: $SHIPPED: \[duty:ID\]: no duty roster" "$WORK/shipped.err" ||
  fail "no warning about the duty roster: $(cat "$WORK/shipped.err")"
[ "$(grep -c '^WARNING: ' "$WORK/shipped.err")" -eq 2 ] ||
  fail "expected 2 warnings: $(cat "$WORK/shipped.err")"
grep -q 'configuration OK (0 nodes, [0-9]* rules, 2 warnings)' "$WORK/shipped.out" ||
  fail "summary: $(cat "$WORK/shipped.out")"
grep -Eq '^(key|;key) = [0-9A-Fa-f]{32}' "$SHIPPED" && fail "the shipped file carries a node key"
pass "lorawatchd -n on the shipped file: exit 0, radio and duty roster warnings"

rc=0; "$D" -n --strict -f "$SHIPPED" >"$WORK/strict.out" 2>"$WORK/strict.err" || rc=$?
[ $rc -eq 1 ] || fail "lorawatchd -n --strict on the shipped file: exit $rc, expected 1"
grep -q "lorawatchd: $SHIPPED: 2 warnings, refused under --strict" "$WORK/strict.err" ||
  fail "--strict: $(cat "$WORK/strict.err")"
rc=0; "$D" --strict -f "$SHIPPED" >/dev/null 2>"$WORK/usage.err" || rc=$?
[ $rc -eq 2 ] || fail "--strict without -n: exit $rc, expected 2"
"$D" --help >"$WORK/help.txt" || fail "--help"
grep -q -- '--strict' "$WORK/help.txt" || fail "--help lacks --strict"
pass "lorawatchd -n --strict: exit 1; --strict alone is a usage error; --help has it"

# Started on it (with a database of its own), the daemon refuses: the admin chooses the radio.
sed -e "s#^state_dir = .*#database = $WORK/lw.db#" -e 's#^control_socket = .*#control_socket =#' \
  -e 's#^metrics_file = .*#metrics_file =#' -e 's#^spool_file = .*#spool_file =#' "$SHIPPED" \
  >"$WORK/shipped.conf"
chmod 600 "$WORK/shipped.conf"
rc=0; timeout 10 "$D" -d -f "$WORK/shipped.conf" >"$WORK/start.log" 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "lorawatchd on the shipped file: exit $rc, expected 1: $(cat "$WORK/start.log")"
grep -q "$WORK/shipped.conf: \[radio\] backend: not set: choose the radio" "$WORK/start.log" ||
  fail "no clear reason: $(cat "$WORK/start.log")"
[ ! -e "$WORK/lw.db" ] || fail "a database was created before the refusal"
pass "lorawatchd refuses to start on it, naming the file and [radio] backend"

# ---- what the package used to install: the simulator, the example node, nobody on duty ----------
cat >"$WORK/old.conf" <<'EOC'
[gateway]
site = estate
[radio]
backend = sim
[node:example-garage]
address = 0x0001
eui = 70B3D57ED0000001
key = 6A1F3C9E58B20D47A3E19C5F0B7D2846
kind = water
EOC
rc=0; "$D" -n -f "$WORK/old.conf" >"$WORK/old.out" 2>"$WORK/old.err" || rc=$?
[ $rc -eq 0 ] || fail "old defaults: exit $rc"
grep -q "^WARNING: $WORK/old.conf:4: \[radio\] backend = sim: " "$WORK/old.err" ||
  fail "no warning about the simulator: $(cat "$WORK/old.err")"
grep -q "^WARNING: $WORK/old.conf:5: \[node:example-garage\] key: the example key published" \
  "$WORK/old.err" || fail "no warning about the published key: $(cat "$WORK/old.err")"
grep -q "^WARNING: $WORK/old.conf: \[duty:ID\]: no duty roster" "$WORK/old.err" ||
  fail "no warning about the roster: $(cat "$WORK/old.err")"
rc=0; "$D" -n --strict -f "$WORK/old.conf" >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "old defaults under --strict: exit $rc, expected 1"
pass "old defaults: three warnings with their lines; --strict fails"

# ---- a gateway set up for service: no warning, --strict passes ---------------------------------
key=$("$LW_BIN/lorawatch" keygen --eui 70B3D57ED0000001 --json | jq -r .key)
cat >"$WORK/good.conf" <<EOC
[gateway]
site = estate
[radio]
board = dragino-lora-gps-hat
[duty:duty-room]
tier = 2
[node:garage]
address = 0x0001
eui = 70B3D57ED0000001
key = $key
kind = water
EOC
"$D" -n --strict -f "$WORK/good.conf" >"$WORK/good.out" 2>"$WORK/good.err" ||
  fail "configured gateway refused under --strict: $(cat "$WORK/good.err")"
[ ! -s "$WORK/good.err" ] || fail "configured gateway: unexpected output: $(cat "$WORK/good.err")"
grep -q 'configuration OK (1 nodes, 0 rules, 0 warnings)' "$WORK/good.out" ||
  fail "summary: $(cat "$WORK/good.out")"
pass "configured gateway: no warning, --strict exit 0"
