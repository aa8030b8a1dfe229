#!/usr/bin/env bash
# A local broker that comes back after a long outage is used again at once: with the shipped
# [mqtt] reconnect_min 1s / reconnect_max 60s, the daemon's backoff would have grown to a minute
# during a 40 s stop, but a broker on loopback is retried every second. The daemon must be back
# within 3 s of the broker listening again, and an alert raised during the outage delivered.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/fault-lib.sh"

fault_start_broker "$WORK"
RECONNECT=$(sed -n 's/^reconnect_\(min\|max\) = /\1=/p' "$LW_SOURCE_DIR/config/lorawatch.conf" | tr '\n' ' ')
[ "$RECONNECT" = "min=1s max=60s " ] || fail "shipped reconnect settings changed ($RECONNECT): adapt this test"
lw_one_node_conf back <<EOC
[mqtt]
host = localhost
reconnect_min = 1s
reconnect_max = 60s
[rule:deep]
metric = water_mm
threshold = 100
clear = 50
persistence = 0s
level = red
EOC
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon did not connect"

kill -TERM "$FAULT_BROKER_PID"; wait "$FAULT_BROKER_PID" || true
lw_wait_for 5 grep -q 'mqtt: lost connection' "$WORK/lorawatchd.log" || fail "daemon did not notice the broker stop"
lw_n1_send --set water_mm=150 --count 1
lw_wait_for 10 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM outbox') -gt 0 ]" ||
  fail "the alert raised during the outage is not waiting in the outbox"
sleep 40 # long enough for a remote broker's backoff to reach reconnect_max

fault_start_broker "$WORK"
back=$(date +%s.%N)
lw_wait_for 10 sh -c "[ \$(grep -c 'mqtt: connected' '$WORK/lorawatchd.log') -ge 2 ]" ||
  fail "daemon did not reconnect within 10 s of the broker's return"
took=$(echo "$(date +%s.%N) - $back" | bc)
lw_wait_for 5 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM outbox') -eq 0 ]" ||
  fail "the alert raised during the outage was not delivered"
[ "$(echo "$took <= 3" | bc)" = 1 ] || fail "daemon reconnected ${took}s after the broker was back (more than 3 s)"
pass "loopback broker back after 40 s: daemon reconnected within ${took}s, queued alert delivered"

lw_stop_daemon
pass "daemon exited 0"
