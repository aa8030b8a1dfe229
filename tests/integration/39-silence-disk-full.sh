#!/usr/bin/env bash
# Fault: a maintenance silence is asked for while the gateway's disk takes no writes at all. It is
# refused with the reason (code db), not kept in memory only: killed before the disk is back, the
# daemon would have forgotten it and paged the alerts it holds back. Made with the ENOSPC shim
# (every write under the state directory fails while its control file exists), so the refusal
# does not depend on how much room SQLite's WAL happens to have left.
# SPDX-License-Identifier: Apache-2.0
LW_DISKFULL_MODE=preload
. "$(dirname "$0")/diskfull-lib.sh"
diskfull_enter "$@"
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/fault-lib.sh"

MNT=$WORK/dbfs
diskfull_setup "$MNT" 0
fault_start_broker "$WORK"
diskfull_conf sil <<EOC
[gateway]
clock_check = none
[duty:room]
tier = 2
EOC
lw_capture replies 'lorawatch/sil/reply/#'
silence() {
  mosquitto_pub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -t lorawatch/sil/command/room \
    -m "{\"cmd\":\"silence\",\"building\":\"1\",\"hazard\":\"flood\",\"for\":\"1h\",\"reason\":\"pump test\",\"id\":\"$1\"}"
  lw_wait_for 5 grep -q "\"$1\"" "$WORK/replies.mqtt" || fail "no reply to silence $1"
  grep "\"$1\"" "$WORK/replies.mqtt" | head -n 1 | cut -d' ' -f2- | sed '/^(null)$/d'
}

diskfull_start_daemon 1
touch "$MNT.full" # from now on no write under the state directory succeeds
reply=$(silence s1)
jq -e '.ok == false and .code == "db" and (.error | test("could not be stored"))' <<<"$reply" >/dev/null ||
  fail "silence on the full disk answered: $reply"
pass "refused on the full disk: $(jq -r .error <<<"$reply")"
kill -KILL "$LW_DAEMON_PID"
wait "$LW_DAEMON_PID" 2>/dev/null || true
rm -f "$MNT.full"
diskfull_start_daemon 2
[ "$(q 'SELECT count(*) FROM silences')" = 0 ] || fail "a silence row after the restart: $(q 'SELECT * FROM silences')"
# With the disk back a silence is stored, answered and kept across a kill.
reply=$(silence s2)
jq -e '.ok == true' <<<"$reply" >/dev/null || fail "silence with the disk back answered: $reply"
kill -KILL "$LW_DAEMON_PID"
wait "$LW_DAEMON_PID" 2>/dev/null || true
[ "$(q 'SELECT count(*) FROM silences WHERE lifted_ms IS NULL')" = 1 ] ||
  fail "the silence answered ok is not on disk: $(q 'SELECT * FROM silences')"
pass "with the disk back the silence is stored before it is answered, and survives a kill"
