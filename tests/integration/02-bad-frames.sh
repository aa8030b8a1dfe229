#!/usr/bin/env bash
# Bad input over the simulated radio: replayed, forged, truncated, oversized, foreign-network,
# unknown-node and garbage frames are rejected, counted by reason and logged rate-limited; none
# reaches the database and the daemon keeps running and exits cleanly.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

lw_start_broker "$WORK"
lw_one_node_conf bad <<EOC
[mqtt]
reconnect_min = 200ms
EOC
lw_spawn sub "$WORK/mqtt.log" mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -q 1 -v \
  -t 'lorawatch/bad/gateway/status'
lw_capture all 'lorawatch/bad/#'
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q '"state":"online"' "$WORK/mqtt.log" || fail "daemon not online"

sim() { lw_n1_send --set water_mm=10 "$@"; }
rows() { sqlite3 "$WORK/lw.db" 'SELECT count(*) FROM readings'; }
alive() { kill -0 "$LW_DAEMON_PID" 2>/dev/null || fail "daemon died after $1"; }

sim --count 3 --fcnt-start 1
lw_wait_for 5 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings') -eq 3 ]" ||
  fail "3 genuine frames: $(rows) rows"
pass "genuine frames stored"

sim --mutate replay --count 2 --fcnt-start 10; alive replay      # 10,10,11,11: 2 stored
sim --count 1 --fcnt-start 1; alive "old counter"                 # already seen
sim --mutate mic --count 30 --fcnt-start 20; alive "forged MIC"   # 30 forgeries
sim --mutate key --count 1 --fcnt-start 60; alive "wrong key"
sim --mutate truncate --count 1 --fcnt-start 61; alive truncated
sim --mutate version --count 1 --fcnt-start 62; alive "bad version"
sim --mutate netid --count 1 --fcnt-start 63; alive "other network"
sim --mutate oversize --count 1 --fcnt-start 64; alive oversized
sim --mutate garbage --count 5 --fcnt-start 65; alive garbage
"$LW_BIN/lorawatch-sim" -q --gateway "127.0.0.1:$LW_SIM_PORT" --network-id 0x4C57 --address 0x0999 \
  --eui 70B3D57ED0000999 --key 00112233445566778899AABBCCDDEEFF --kind water \
  --set water_mm=10 --acceleration 0; alive "unknown node"
# The forgeries used counter 20: it must still be free for the genuine node.
sim --count 1 --fcnt-start 20
sleep 0.5
lw_stop_daemon
pass "daemon survived every bad frame and exited 0"

[ "$(rows)" -eq 6 ] || fail "expected 6 stored readings (3 + 2 + 1), found $(rows)"
[ "$(sqlite3 "$WORK/lw.db" 'SELECT count(*) FROM readings WHERE fcnt = 20')" -eq 1 ] ||
  fail "genuine counter 20 after forgeries not stored"
pass "only genuine frames reached the database"

last=$(grep '"state":"offline"' "$WORK/mqtt.log" | tail -n 1 | cut -d' ' -f2- | sed '/^(null)$/d')
[ -n "$last" ] || fail "no offline status with counters"
counter() { printf '%s' "$last" | jq -r ".counters.$1"; }
[ "$(counter rejected_replay)" -eq 3 ] || fail "rejected_replay $(counter rejected_replay) != 3"
[ "$(counter rejected_mic)" -eq 31 ] || fail "rejected_mic $(counter rejected_mic) != 31"
[ "$(counter rejected_network)" -eq 1 ] || fail "rejected_network $(counter rejected_network)"
[ "$(counter rejected_unknown_node)" -eq 1 ] || fail "rejected_unknown_node $(counter rejected_unknown_node)"
[ "$(counter radio_malformed)" -eq 1 ] || fail "radio_malformed $(counter radio_malformed) != 1"
[ "$(counter rejected_malformed)" -ge 2 ] || fail "rejected_malformed $(counter rejected_malformed)"
pass "rejections counted by reason: $(printf '%s' "$last" | jq -c .counters)"

mic_lines=$(grep -c 'bad MIC' "$WORK/lorawatchd.log" || true)
[ "$mic_lines" -le 5 ] || fail "$mic_lines log lines for 31 forgeries: not rate-limited"
[ "$mic_lines" -ge 1 ] || fail "forgeries not logged at all"
pass "rejections logged, rate-limited ($mic_lines lines for 31 forgeries)"
lw_validate_captured "$WORK/mqtt.log" "$WORK/all.mqtt"
