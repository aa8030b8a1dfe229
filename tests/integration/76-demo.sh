#!/usr/bin/env bash
# scripts/demo --fast, as a newcomer runs it: the warnings with their date and time, the roster
# people paged by name at their tier, one phone acknowledging one alert (by name, with the
# daemon's reply), an unanswered alert going up to the duty room, and a summary that tells the
# broker's PUBACKs apart from people's acknowledgements. The alert sentences are not checked here
# (test 15 and the contract tests do).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

out=$WORK/demo.out
"$LW_SOURCE_DIR/scripts/demo" --fast >"$out" 2>&1 || { cat "$out"; fail "scripts/demo --fast failed"; }
cp "$out" "$WORK/demo.log" # shown on failure
has() { grep -qE -- "$1" "$out" || fail "demo output lacks /$1/"; }
D='2026-07-15 [0-2][0-9]:[0-5][0-9]:[0-5][0-9]' # the scenario's night, date and time

# Every warning, page, acknowledgement and reply line starts with the date and the time.
has "^$D  \[RED\] flood #1  garage-b7-b1 "
has "^$D  \[CLEARED\] flood #1 "
[ "$(grep -cE '^[0-9]{2}:[0-9]{2}:[0-9]{2}  ' "$out")" -eq 0 ] || fail "a line with a time but no date"
pass "warnings with their date and time"

has "^$D  paged 张伟 \(tier 1, grid worker\) for #1$"
has "^$D  paged 张伟 \(tier 1, grid worker\) for #2$"
has "^$D  paged 李娜 \(tier 1, grid worker\) for #3$"
pass "the grid workers of the alerts' sectors paged by name"

has "^$D  张伟's phone sends: .*\"cmd\":\"ack\",\"alert\":2"
has "^$D  lorawatchd replies to 张伟: \{\"ok\":true,\"id\":\"ack-2\",\"alert\":2\}$"
has "^$D  told 张伟 \(tier 1\): #2 acknowledged by 张伟 \(on_my_way\): 带沙袋过去$"
[ "$(grep -c "phone sends" "$out")" -eq 1 ] || fail "not exactly one acknowledgement sent"
pass "张伟's phone acknowledged #2; the daemon's reply shown"

has "^$D  #1 unanswered: escalated to tier 2, paged 王芳 \(tier 2, community duty room\)$"
grep -q "escalated to tier 2, paged .* for #2\|#2 unanswered" "$out" && fail "the acknowledged #2 escalated"
pass "unanswered #1 escalated to the duty room"

has '^  acknowledged by people: +1 \(张伟, #2\)$'
has '^  escalated unanswered: +[1-9][0-9]* \(#1 to tier 2'
has '^  broker deliveries confirmed \(MQTT PUBACK\): [1-9][0-9]* \(outbox left: 0\)$'
grep -q 'MQTT deliveries acknowledged' "$out" && fail "the old PUBACK wording is back"
pass "summary: people's acknowledgements apart from the broker's PUBACKs"
