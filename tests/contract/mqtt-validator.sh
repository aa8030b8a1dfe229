#!/usr/bin/env bash
# The checker the integration tests run over every message they capture (validate_mqtt.py, through
# lw_validate_captured in tests/integration/common.sh) refuses what the contract does not have: a
# topic outside the docs/MQTT.md topic tree (a new kind of message cannot go unchecked), an empty
# payload anywhere but on alert/<id>, a duty object on the wrong topic or tier; and it reads
# mosquitto_sub captures as they are (its own error lines, "(null)", a line still being written).
# SPDX-License-Identifier: Apache-2.0
set -euo pipefail
: "${LW_SOURCE_DIR:?}" "${LW_TESTBIN:?}"
SCHEMAS=$LW_SOURCE_DIR/docs/schemas
VALIDATE=$LW_SOURCE_DIR/tests/integration/validate_mqtt.py
WORK=$(mktemp -d /tmp/lw-contract.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
PY=
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import jsonschema' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "SKIP: no python3 with jsonschema (scripts/setup installs python3-jsonschema)"; exit 77; }

"$LW_TESTBIN/alert_payloads" "$LW_SOURCE_DIR/config/lorawatch.conf" >"$WORK/messages.txt" ||
  fail "alert_payloads failed"
S=lorawatch/payloads
alert=$(grep -m 1 "^$S/alert/1 " "$WORK/messages.txt" | cut -d' ' -f2-)
duty1=$(grep -m 1 "^$S/duty/tier/1 " "$WORK/messages.txt" | cut -d' ' -f2-)
[ -n "$alert" ] && [ -n "$duty1" ] || fail "no alert or duty payload of alert 1 to build the cases from"

# A capture as the tests make one: valid messages, the removal of a retained alert as printed by
# mosquitto_sub 2.0.11 and by later versions, mosquitto_sub's own error line, and a last line
# that is still being written.
{
  echo "$S/alert/1 $alert"
  echo "$S/duty/tier/1 $duty1"
  echo "$S/alert/1 (null)"
  echo "$S/alert/1 "
  echo "Error: The connection was lost."
  printf '%s' "$S/alert/1 {\"id\":1,\"si"
} >"$WORK/capture.mqtt"
"$PY" "$VALIDATE" --capture "$SCHEMAS" "$WORK/capture.mqtt" >"$WORK/capture.out" 2>&1 || {
  cat "$WORK/capture.out" >&2
  fail "a valid capture was refused"
}
grep -q '^4 messages .*: 0 invalid, 2 lines skipped$' "$WORK/capture.out" ||
  fail "capture not read as 4 messages and 2 skipped lines: $(tail -n 1 "$WORK/capture.out")"
# Without --capture (what test 15 and the contract tests use) nothing is skipped.
"$PY" "$VALIDATE" "$SCHEMAS" <"$WORK/capture.mqtt" >"$WORK/strict.out" 2>&1 &&
  fail "an error line and a cut payload passed without --capture"
grep -q '^6 messages .*: 2 invalid$' "$WORK/strict.out" || fail "strict read: $(tail -n 1 "$WORK/strict.out")"
# A test's own commands (malformed on purpose) can be left out; the replies are still checked.
printf '%s\n' "$S/command/room not json" "$S/reply/room {\"id\":\"x\"}" >"$WORK/commands.mqtt"
"$PY" "$VALIDATE" --capture --skip-commands "$SCHEMAS" "$WORK/commands.mqtt" >"$WORK/commands.out" 2>&1 &&
  fail "an invalid reply passed with --skip-commands"
grep -q '^1 messages .*reply 1, command 0): 1 invalid, 1 lines skipped$' "$WORK/commands.out" ||
  fail "--skip-commands: $(tail -n 1 "$WORK/commands.out")"
"$PY" "$VALIDATE" --capture "$SCHEMAS" "$WORK/commands.mqtt" >"$WORK/commands.out" 2>&1 || true
grep -q '^2 messages .*: 2 invalid$' "$WORK/commands.out" || fail "commands not checked: $(tail -n 1 "$WORK/commands.out")"
pass "captures: '(null)' and empty payloads on alert/<id>, mosquitto_sub's own lines, a partial last line, commands left out on request"

# Each line alone must be refused, and the report must name its topic and the reason. One file per
# line, one validator run per group (it reports at most 10 invalid messages of a kind).
n=0
CASES=()
refused() { # refused REASON-REGEX LINE
  n=$((n + 1))
  printf '%s\n' "$2" >"$WORK/bad-$n.mqtt"
  CASES+=("$n|$1|${2%% *}")
}
check_refused() {
  local files=() c
  for c in "${CASES[@]}"; do files+=("$WORK/bad-${c%%|*}.mqtt"); done
  "$PY" "$VALIDATE" --capture "$SCHEMAS" "${files[@]}" >"$WORK/bad.out" 2>&1 || true
  grep -q "^${#CASES[@]} messages .*: ${#CASES[@]} invalid$" "$WORK/bad.out" ||
    fail "not all refused: $(cat "$WORK/bad.out")"
  for c in "${CASES[@]}"; do
    local i=${c%%|*} rest=${c#*|}
    local reason=${rest%|*} topic=${rest#*|}
    # The report of file bad-$i: its INVALID line up to the next one.
    awk -v f="bad-$i.mqtt:1:" 'index($0, "INVALID ") == 1 { on = index($0, f) > 0 } on' "$WORK/bad.out" \
      >"$WORK/bad-$i.out"
    grep -qF "topic $topic" "$WORK/bad-$i.out" && grep -Eq "violates: .*$reason" "$WORK/bad-$i.out" ||
      fail "refusal of $topic does not say '$reason': $(cat "$WORK/bad-$i.out")"
  done
  CASES=()
}
notopic='not in the lorawatch MQTT contract'
refused "$notopic" "$S/alerts/1 $alert"
refused "$notopic" "$S/alert/x $alert"
refused "$notopic" "$S/alert/1/ack $alert"
refused "$notopic" "$S/duty/tier/4 ${duty1/\"tier\":1/\"tier\":4}"
refused "$notopic" "$S/duty/room $duty1"
refused "$notopic" "$S/node/pl-water/battery {\"node\":\"pl-water\"}"
refused "$notopic" "$S/event/1 $alert"
refused "$notopic" "$S/gateway/state {\"state\":\"online\"}"
refused "$notopic" "lorawatch/payloads $alert"
refused "$notopic" "other/payloads/alert/1 $alert"
check_refused
refused 'empty payload' "$S/node/pl-water (null)"
refused 'empty payload' "$S/gateway/status "
refused 'not JSON' "$S/alert/1 {\"id\":1,\"si"
refused 'duty object on an alert topic' "$S/alert/1 $duty1"
refused 'missing on a duty topic' "$S/duty/tier/1 $alert"
refused "differs from the topic's tier" "$S/duty/tier/2 $duty1"
refused "differs from the topic's alert id" "$S/alert/2 $alert"
refused "differs from the topic's site" "lorawatch/other/alert/1 $alert"
check_refused
: >"$WORK/empty.mqtt"
"$PY" "$VALIDATE" --capture "$SCHEMAS" "$WORK/empty.mqtt" >/dev/null 2>&1 && fail "an empty capture passed"
pass "$n lines refused with their reason (unknown topics, empty payloads, topic disagreements); an empty capture fails"

# lw_validate_captured, as the integration tests call it: the failure names the file, the line,
# the topic and the violated rule.
printf '%s\n' "$S/alert/1 $alert" "$S/alerts/1 $alert" >"$WORK/test.mqtt"
rc=0
LW_BIN=/nonexistent bash -c '. "$LW_SOURCE_DIR/tests/integration/common.sh"; lw_validate_captured "$1"' \
  _ "$WORK/test.mqtt" >"$WORK/validate-captured.out" 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "lw_validate_captured exit $rc on an invalid capture: $(cat "$WORK/validate-captured.out")"
grep -Eq "^FAIL: MQTT contract broken: .*test.mqtt:2: topic $S/alerts/1 violates: topic is $notopic" \
  "$WORK/validate-captured.out" || fail "lw_validate_captured's failure: $(cat "$WORK/validate-captured.out")"
pass "lw_validate_captured fails naming file:line, topic and rule"
