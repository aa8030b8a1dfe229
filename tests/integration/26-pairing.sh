#!/usr/bin/env bash
# Pairing and node lifecycle through the real CLI and the real daemon: `lorawatch pair` opens a
# window and waits while a simulated node joins, then prints its first reading and link; the node
# is listed, moved, calibrated, given new hardware (its history stays with the place), sends a
# test alarm marked as a test, and is retired. A join with a wrong key and a replayed join (a
# reused join nonce) are refused and never answered; every CLI error has its exit status.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

lw_start_broker "$WORK"
lw_capture all 'lorawatch/pair/#'
SOCK=$WORK/control.sock
lw_one_node_conf pair <<EOF
[gateway]
control_socket = $SOCK
control_group =
EOF
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 test -S "$SOCK" || fail "control socket not created"

LW=("$LW_BIN/lorawatch")
EUI1=70B3D57ED0000201 KEY1=101112131415161718191A1B1C1D1E1F
EUI2=70B3D57ED0000202 KEY2=202122232425262728292A2B2C2D2E2F
sim_join() { # sim_join EUI KEY STATE EXTRA...: one join-mode water node
  local eui=$1 key=$2 state=$3
  shift 3
  "$LW_BIN/lorawatch-sim" -q --join --network-id 0x4C57 --eui "$eui" --root-key "$key" \
    --kind water --acceleration 0 --gateway "127.0.0.1:$LW_SIM_PORT" --state "$state" "$@"
}
q() { sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" "$@"; }
# readings_of ADDR N: the node's readings reach N (they commit in batches).
readings_of() { lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' 'SELECT count(*) FROM readings WHERE node = $1') -eq $2 ]"; }
expect_exit() { # expect_exit CODE WHAT CMD...: CMD fails with CODE and says something on stderr
  local want=$1 what=$2 rc=0
  shift 2
  "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
  [ "$rc" -eq "$want" ] || fail "$what: exit $rc, expected $want: $(cat "$WORK/err.txt")"
  [ "$(wc -l <"$WORK/err.txt")" -ge 1 ] || fail "$what: no message"
  echo "  $what -> $want: $(head -n 1 "$WORK/err.txt")"
}

# ---- pair: the CLI waits for the join and the first reading ------------------------------
"${LW[@]}" pair -s "$SOCK" --eui $EUI1 --key $KEY1 --kind water --name garage-b7 \
  --building B7 --floor -1 --unit garage --grid G3 --tags basement,low-lying \
  --wait 30 >"$WORK/pair.txt" 2>"$WORK/pair.err" &
PAIR=$!
lw_wait_for 10 sh -c "'$LW_BIN/lorawatch' nodes -s '$SOCK' | grep -q 'garage-b7.*pending'" ||
  fail "pairing window not open: $(cat "$WORK/pair.err")"
sim_join $EUI1 $KEY1 "$WORK/node1.state" --set water_mm=40 --count 3 --interval 1s \
  --summary-json "$WORK/sim1.json" >"$WORK/sim1.log" 2>&1 || fail "sim: $(cat "$WORK/sim1.log")"
wait $PAIR || fail "pair exit $?: $(cat "$WORK/pair.err")"
grep -q 'water 40 mm' "$WORK/pair.txt" || fail "pair did not print the first reading: $(cat "$WORK/pair.txt")"
grep -q 'margin' "$WORK/pair.txt" || fail "pair did not print the link margin"
grep -q 'hops' "$WORK/pair.txt" || fail "pair did not print the hop count"
pass "lorawatch pair: joined, first reading and link printed"
ADDR=$(q "SELECT address FROM nodes WHERE name = 'garage-b7'")
readings_of "$ADDR" 3 || fail "readings not stored"

"${LW[@]}" nodes -s "$SOCK" >"$WORK/nodes.txt"
grep -Eq 'garage-b7 .*water .*B7/-1/garage .*active .* 0 +[0-9.]+%$' "$WORK/nodes.txt" ||
  fail "nodes table: $(cat "$WORK/nodes.txt")"
"${LW[@]}" nodes -s "$SOCK" --json | jq -e '.nodes[] | select(.name == "garage-b7") |
  .state == "active" and .place.grid == "G3" and .battery_mv == null and .hops == 0' >/dev/null ||
  fail "nodes --json: $("${LW[@]}" nodes -s "$SOCK" --json)"
"${LW[@]}" node show garage-b7 -s "$SOCK" | grep -q 'reading .*water 40 mm' || fail "node show"
"${LW[@]}" node show $EUI1 -s "$SOCK" --json | jq -e '.node.address == '"$ADDR" >/dev/null ||
  fail "node show by EUI"
pass "nodes and node show (table, JSON, by name and EUI)"

# ---- refused joins: never answered ---------------------------------------------------------
rc=0
sim_join $EUI1 2F2E2D2C2B2A29282726252423222120 "$WORK/wrong.state" --set water_mm=1 --count 1 \
  --join-attempts 1 --reply-wait 1s >"$WORK/wrong.log" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q 'no JOIN_ACC' "$WORK/wrong.log" || fail "wrong-key join answered (exit $rc)"
lw_wait_for 5 grep -q "join request from EUI $EUI1 refused: not authentic" "$WORK/lorawatchd.log" ||
  fail "wrong-key join not logged"
# A fresh state file makes the node reuse join nonce 1: a replayed request.
rc=0
sim_join $EUI1 $KEY1 "$WORK/forgot.state" --set water_mm=1 --count 1 --join-attempts 1 --reply-wait 1s \
  >"$WORK/replay.log" 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "replayed join answered (exit $rc)"
[ "$(grep -c "join request from EUI $EUI1 refused: not authentic" "$WORK/lorawatchd.log")" -ge 2 ] ||
  fail "replayed join not logged"
[ "$(q "SELECT count(*) FROM maintenance WHERE action = 'join' AND node = $ADDR")" -eq 1 ] ||
  fail "a refused join was recorded as a join"
pass "wrong-key join and replayed join refused, not answered"

# ---- the node rejoins after a reboot (state file kept): fresh nonce, accepted -------------
sim_join $EUI1 $KEY1 "$WORK/node1.state" --set water_mm=55 --count 2 --interval 1s \
  >"$WORK/sim1b.log" 2>&1 || fail "rejoin: $(cat "$WORK/sim1b.log")"
readings_of "$ADDR" 5 || fail "readings after rejoin: $(q "SELECT count(*) FROM readings WHERE node = $ADDR")"
pass "rejoin with the next nonce accepted; counters restart with the new session"

# ---- locate and calibrate ------------------------------------------------------------------
"${LW[@]}" locate garage-b7 -s "$SOCK" --building B8 --floor -2 >/dev/null || fail "locate"
"${LW[@]}" node show garage-b7 -s "$SOCK" --json | jq -e '.node.place.building == "B8" and
  .node.place.floor == "-2" and .node.place.unit == "garage"' >/dev/null || fail "locate not applied"
[ "$(q "SELECT count(*) FROM maintenance WHERE action = 'locate' AND uid = $(id -u) AND
       old LIKE 'building=B7 floor=-1%' AND new LIKE 'building=B8 floor=-2%'")" -eq 1 ] ||
  fail "locate not journalled with old and new place"
"${LW[@]}" calibrate garage-b7 -s "$SOCK" --zero >"$WORK/cal.txt" || fail "calibrate --zero"
grep -q 'zero offset 55 mm' "$WORK/cal.txt" || fail "calibrate: $(cat "$WORK/cal.txt")"
"${LW[@]}" calibrate garage-b7 -s "$SOCK" --mount-height 2400 >/dev/null || fail "calibrate height"
pass "locate and calibrate, journalled with who and old -> new"

# ---- replace: new hardware, same place and history ----------------------------------------
"${LW[@]}" replace garage-b7 -s "$SOCK" --eui $EUI2 --key $KEY2 --wait 30 >"$WORK/replace.txt" \
  2>"$WORK/replace.err" &
REP=$!
lw_wait_for 10 sh -c "'$LW_BIN/lorawatch' nodes -s '$SOCK' | grep -q 'garage-b7.*pending'" ||
  fail "replace did not reopen pairing"
sim_join $EUI2 $KEY2 "$WORK/node2.state" --set water_mm=75 --count 2 --interval 1s \
  >"$WORK/sim2.log" 2>&1 || fail "new hardware: $(cat "$WORK/sim2.log")"
wait $REP || fail "replace exit $?: $(cat "$WORK/replace.err")"
grep -q 'water 20 mm' "$WORK/replace.txt" || fail "replace: zero offset not applied: $(cat "$WORK/replace.txt")"
readings_of "$ADDR" 7 || fail "history not kept"
[ "$(q "SELECT eui FROM nodes WHERE address = $ADDR")" = $EUI2 ] || fail "EUI not replaced"
[ "$(q "SELECT old || '>' || new FROM maintenance WHERE action = 'replace'")" = "$EUI1>$EUI2" ] ||
  fail "replace not journalled"
# The old hardware is out: its join is refused now.
sim_join $EUI1 $KEY1 "$WORK/node1.state" --set water_mm=1 --count 1 --join-attempts 1 --reply-wait 1s \
  >/dev/null 2>&1 && fail "old hardware still joins after replace"
pass "replace: new hardware joined at the same place; history kept; old hardware refused"

# ---- test alarm ---------------------------------------------------------------------------
timeout 10 mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -t "lorawatch/pair/alert/+" -C 2 -W 10 \
  >"$WORK/test-alarm.mqtt" 2>/dev/null &
SUB=$!
sleep 0.5
"${LW[@]}" test-alarm garage-b7 -s "$SOCK" >"$WORK/test.txt" || fail "test-alarm"
wait $SUB || true
jq -e -s '.[0].test == true and .[0].node.name == "garage-b7" and .[0].place.building == "B8"
  and (.[0].text_en | startswith("[TEST")) and .[1].state == "cleared"
  and (.[1].text_en | startswith("[TEST - no action needed] Test alarm (flood) ended"))
  and (.[1].text_zh | contains("已恢复") | not) and ([.[].value] == [0, 0])' "$WORK/test-alarm.mqtt" \
  >/dev/null || fail "test alarm message: $(cat "$WORK/test-alarm.mqtt")"
[ "$(q "SELECT count(*) FROM alerts WHERE test = 1 AND node = $ADDR")" -eq 1 ] || fail "test flag"
pass "test alarm published through the alert path, marked as a test"

# ---- CLI errors ---------------------------------------------------------------------------
expect_exit 4 "unknown node" "${LW[@]}" node show no-such-node -s "$SOCK"
expect_exit 4 "unknown node (locate)" "${LW[@]}" locate no-such-node -s "$SOCK" --floor 2
expect_exit 2 "malformed EUI" "${LW[@]}" pair -s "$SOCK" --eui 70B3D5 --key $KEY1 --kind water --name x1
expect_exit 2 "malformed key" "${LW[@]}" pair -s "$SOCK" --eui 70B3D57ED0000203 --key 1234 --kind water --name x1
expect_exit 2 "all-zero key" "${LW[@]}" pair -s "$SOCK" --eui 70B3D57ED0000203 \
  --key 00000000000000000000000000000000 --kind water --name x1
expect_exit 2 "bad kind" "${LW[@]}" pair -s "$SOCK" --eui 70B3D57ED0000203 --key $KEY1 --kind fire --name x1
expect_exit 2 "missing option" "${LW[@]}" pair -s "$SOCK" --eui 70B3D57ED0000203 --kind water --name x1
expect_exit 7 "duplicate EUI" "${LW[@]}" pair -s "$SOCK" --eui $EUI2 \
  --key 303132333435363738393A3B3C3D3E3F --kind water --name x1 --wait 0
expect_exit 7 "duplicate key" "${LW[@]}" pair -s "$SOCK" --eui 70B3D57ED0000203 --key $KEY2 \
  --kind water --name x1 --wait 0
expect_exit 7 "duplicate key of a configured node" "${LW[@]}" pair -s "$SOCK" \
  --eui 70B3D57ED0000203 --key $LW_N1_KEY --kind water --name x1 --wait 0
expect_exit 7 "duplicate name" "${LW[@]}" pair -s "$SOCK" --eui 70B3D57ED0000203 \
  --key 303132333435363738393A3B3C3D3E3F --kind water --name garage-b7 --wait 0
expect_exit 7 "config node managed by the file" "${LW[@]}" locate n1 -s "$SOCK" --floor 3
expect_exit 6 "pairing timeout" "${LW[@]}" pair -s "$SOCK" --eui 70B3D57ED0000203 \
  --key 303132333435363738393A3B3C3D3E3F --kind smoke --name stair-3 --wait 1
grep -q 'no join from stair-3 within 1 s' "$WORK/err.txt" || fail "timeout message"
"${LW[@]}" unpair stair-3 -s "$SOCK" >/dev/null || fail "unpair of a never-joined node"
expect_exit 7 "unpair with history" "${LW[@]}" unpair garage-b7 -s "$SOCK"
expect_exit 3 "daemon not running" "${LW[@]}" nodes -s "$WORK/nothing.sock"
expect_exit 2 "unknown option" "${LW[@]}" nodes -s "$SOCK" --bogus
for c in pair nodes "node show" unpair retire replace locate calibrate rekey test-alarm; do
  # shellcheck disable=SC2086
  "${LW[@]}" $c --help | grep -q "^Usage: lorawatch $c" || fail "$c --help"
done
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  chmod 755 "$WORK"
  expect_exit 5 "permission denied" setpriv --reuid=65534 --regid=65534 --clear-groups \
    "${LW[@]}" nodes -s "$SOCK"
fi
pass "CLI errors: one line each, documented exit statuses; --help on every command"

# ---- retire -------------------------------------------------------------------------------
"${LW[@]}" retire garage-b7 -s "$SOCK" >/dev/null || fail "retire"
sim_join $EUI2 $KEY2 "$WORK/node2.state" --set water_mm=1 --count 1 --join-attempts 1 --reply-wait 1s \
  >/dev/null 2>&1 && fail "retired node still joins"
"${LW[@]}" nodes -s "$SOCK" | grep -q garage-b7 && fail "retired node listed without --all"
"${LW[@]}" nodes -s "$SOCK" --all | grep -q 'garage-b7 .*retired' || fail "nodes --all"
[ "$(q "SELECT count(*) FROM readings WHERE node = $ADDR")" -eq 7 ] || fail "history lost at retire"
q "SELECT action FROM maintenance WHERE node = $ADDR ORDER BY id" | tr '\n' ' ' >"$WORK/actions.txt"
[ "$(cat "$WORK/actions.txt")" = "pair join join locate calibrate calibrate replace join test-alarm retire " ] ||
  fail "maintenance journal: $(cat "$WORK/actions.txt")"
q "UPDATE maintenance SET action = 'x'" 2>/dev/null && fail "maintenance journal rewritable"
pass "retire: refused from then on, history and journal kept (append-only)"

lw_stop_daemon
lw_validate_captured "$WORK/all.mqtt"
