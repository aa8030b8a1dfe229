#!/usr/bin/env bash
# A flood of bad commands on the MQTT command topics while an alert is open: thousands of
# acknowledgements from a user who is not on the duty roster, garbage and oversized payloads
# from a user who is, impersonations, and commands on topics outside the pattern. Every one is
# refused (the reply says why), none changes the alert or its journal, the refusals are logged
# rate-limited, the daemon's memory stays flat once warmed up, and a genuine acknowledgement
# afterwards is taken. (60-duty-escalation covers each kind of bad command once.)
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/attack-lib.sh"

# The broker queues every message of the flood (its default drops QoS 1 messages beyond 1000
# queued for a slow client), so each command reaches the daemon and each reply the subscriber.
# It logs subscriptions, so the test knows when the reply subscriber is in place.
LW_MQTT_PORT=$(lw_free_port tcp)
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nmax_inflight_messages 0\n' \
  "$LW_MQTT_PORT" >"$WORK/mosquitto.conf"
printf 'log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\nlog_type subscribe\n' \
  >>"$WORK/mosquitto.conf"
lw_spawn broker "$WORK/mosquitto.log" mosquitto -c "$WORK/mosquitto.conf"
lw_wait_for 10 lw_pid_listening "$LW_PID_broker" "$LW_MQTT_PORT" || fail "mosquitto did not start"
atk_start cmdf <<EOF
[rule:deep]
metric = water_mm
threshold = 100
clear = 50
level = red
[duty:room]
name = Duty room
tier = 1
grids = *
EOF
lw_spawn replies "$WORK/replies.mqtt" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t 'lorawatch/cmdf/reply/#'
lw_n1_send --set water_mm=150
lw_wait_for 10 sh -c "[ \$(sqlite3 -cmd '.timeout 5000' '$WORK/lw.db' 'SELECT count(*) FROM alerts') -eq 1 ]" ||
  fail "alert not raised"
# Replies are not retained: the subscriber must be in place before the first command.
lw_wait_for 10 grep -qF 'lorawatch/cmdf/reply/#' "$WORK/mosquitto.log" || fail "reply subscriber not subscribed"

# pub USER: publish stdin's lines, one message each, on USER's command topic.
pub() { mosquitto_pub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -t "lorawatch/cmdf/command/$1" -l; }
# times N LINE: LINE N times (yes | head would die of SIGPIPE under pipefail).
times() { awk -v n="$1" -v l="$2" 'BEGIN { for (i = 0; i < n; i++) print l }'; }
flood() { # flood N: N of each kind of bad command
  local n=$1 big
  big=$(head -c 5000 /dev/zero | tr '\0' x)
  times "$n" '{"cmd":"ack","alert":1,"note":"let me in"}' | pub mallory
  { times "$n" 'not json {{{'; times "$n" '{"cmd":"ack","alert":"1; DROP TABLE alerts"}'; } | pub room
  times "$((n / 10))" "{\"cmd\":\"ack\",\"alert\":1,\"note\":\"$big\"}" | pub room
  times "$n" '{"cmd":"ack","alert":1,"by":"chief"}' | pub room
  times "$n" '{"cmd":"silence","building":"*","for":"30d","reason":"x","force":true}' | pub room
  times "$n" '{"cmd":"ack","alert":1}' | pub room/../mallory
}
replies() { grep -c . "$WORK/replies.mqtt" || true; }

before=$(q "SELECT count(*) FROM alert_journal WHERE event != 'published'")
# Warm-up: a flood of the same size first, so the second measures growth, not the high-water
# mark of queues that a burst fills and empties (freed memory is not given back to the system).
flood 2000
lw_wait_for 120 sh -c "[ \$(grep -c . '$WORK/replies.mqtt') -ge 10200 ]" || fail "warm-up: $(replies) replies"
sleep 1
rss0=$(atk_rss_kb "$PID") fds0=$(atk_fds "$PID") r0=$(replies) t0=$(date +%s)
flood 2000
# 2000 each of five refused kinds and 200 oversized get a reply; the bad topic gets none.
want=$((r0 + 5 * 2000 + 200))
lw_wait_for 120 sh -c "[ \$(grep -c . '$WORK/replies.mqtt') -ge $want ]" ||
  fail "flood: $(( $(replies) - r0 )) replies of $((want - r0))"
sleep 1
rss1=$(atk_rss_kb "$PID") fds1=$(atk_fds "$PID")
kill -0 "$PID" 2>/dev/null || fail "daemon died in the command flood"
echo "   10200 bad commands after as many: VmRSS $rss0 -> $rss1 kB, open files $fds0 -> $fds1"
[ $((rss1 - rss0)) -le 2048 ] || fail "VmRSS grew by $((rss1 - rss0)) kB"
[ "$fds1" -eq "$fds0" ] || fail "open files $fds0 -> $fds1"
pass "every bad command answered with a refusal; memory and open files flat"

[ "$(grep -c '"ok":true' "$WORK/replies.mqtt" || true)" -eq 0 ] || fail "a flood command was accepted"
for code in denied usage; do
  grep -q "\"code\":\"$code\"" "$WORK/replies.mqtt" || fail "no '$code' refusal"
done
[ "$(q "SELECT count(*) FROM alert_journal WHERE event != 'published'")" -eq "$before" ] ||
  fail "the flood changed the journal"
[ -z "$(q 'SELECT acked_by FROM alerts WHERE id = 1')" ] || fail "alert acknowledged by the flood"
[ "$(q 'SELECT count(*) FROM silences')" -eq 0 ] || fail "the flood created a silence"
lines=$(grep -c "mqtt command from .* refused" "$WORK/lorawatchd.log" || true)
bound=$(atk_log_bound x $(( $(date +%s) - t0 + 30 )))
[ "$lines" -le "$bound" ] || fail "$lines refusal log lines: not rate-limited (bound $bound)"
pass "journal, alert and silences unchanged; $lines refusal log lines (rate-limited)"
refused() {
  local sum=0 c
  for c in usage denied not_found conflict db; do
    sum=$((sum + $(atk_metric "lorawatch_mqtt_commands_total{outcome=\"refused\",code=\"$c\"}")))
  done
  echo "$sum"
}
atk_fresh_metrics
[ "$(refused)" -eq $((2 * 10200)) ] || fail "refused commands counted: $(refused), want $((2 * 10200))"
[ "$(atk_metric 'lorawatch_mqtt_commands_total{outcome="refused",code="denied"}')" -ge 8000 ] ||
  fail "impersonations and off-roster commands not counted as denied"
"$LW_BIN/lorawatch" status -m "$WORK/metrics.prom" >"$WORK/status.txt" || fail "lorawatch status failed"
grep -q "commands *from phones: accepted 0, refused $((2 * 10200)) " "$WORK/status.txt" ||
  fail "lorawatch status does not show the refused commands: $(cat "$WORK/status.txt")"
pass "every refused command counted in lorawatch_mqtt_commands_total and shown by lorawatch status"

echo '{"cmd":"ack","alert":1,"id":"real","note":"on my way"}' | pub room
lw_wait_for 10 grep -q '"id":"real".*"ok":true\|"ok":true.*"id":"real"' "$WORK/replies.mqtt" ||
  fail "genuine ack after the flood not answered"
[ "$(q 'SELECT acked_by FROM alerts WHERE id = 1')" = room ] || fail "genuine ack not applied"
lw_wait_for 10 atk_metric_is 'lorawatch_mqtt_commands_total{outcome="accepted",code=""}' -eq 1 ||
  fail "the genuine acknowledgement not counted as accepted"
pass "a genuine acknowledgement after the flood is taken"
lw_stop_daemon
lw_validate_captured "$WORK/replies.mqtt"
