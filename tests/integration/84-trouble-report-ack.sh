#!/usr/bin/env bash
# Trouble reports (draft v1.1, proto/PROTOCOL.md 15.2: DATA frames with ACK_REQ set, such as a
# relay's account of a child gone silent) are acknowledged by the gateway like an ALARM, so the
# node stops trying; they are stored as readings and raise no alarm. lorawatch-sim's --trouble
# sends them through the real node core; the node counts the ACKs it accepted.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

lw_start_broker "$WORK"
lw_one_node_conf trouble <<EOC
[gateway]
log_level = debug
[radio]
sim_clock = medium
EOC
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q 'radio sim: listening' "$WORK/lorawatchd.log" || fail "daemon not up"

lw_n1_send --set water_mm=10 --trouble --count 3 --interval 10s --fcnt-start 1 --reply-wait 3s \
  --summary-json "$WORK/sim.json"
acks=$(jq -r '.nodes[0].downlinks' "$WORK/sim.json")
[ "$acks" = 3 ] || fail "3 trouble reports, $acks ACKs accepted by the node: $(grep -i ack "$WORK/lorawatchd.log" | tail -n 3)"
for f in 1 2 3; do
  grep -q "ACK of n1 trouble report fcnt $f queued" "$WORK/lorawatchd.log" ||
    fail "no ACK of trouble report fcnt $f in the log"
done
pass "3 trouble reports, 3 ACKs accepted by the node"

lw_wait_for 5 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq 3 ]" ||
  fail "readings: $(sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" 'SELECT count(*) FROM readings')"
[ "$(sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" 'SELECT count(*) FROM alerts')" -eq 0 ] ||
  fail "a trouble report raised an alert: $(sqlite3 "$WORK/lw.db" 'SELECT rule, node FROM alerts')"
pass "stored as 3 readings, no alert"

# Routine DATA (no ACK_REQ) is not answered.
lw_n1_send --set water_mm=10 --count 2 --interval 10s --fcnt-start 10 --reply-wait 1s \
  --summary-json "$WORK/sim2.json"
[ "$(jq -r '.nodes[0].downlinks' "$WORK/sim2.json")" = 0 ] || fail "routine DATA answered"
pass "routine DATA not answered"
