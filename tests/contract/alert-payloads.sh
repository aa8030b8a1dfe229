#!/usr/bin/env bash
# Every rule type's alert, on alert/<id> and on the duty topics, matches docs/schemas: each rule
# of the shipped config/lorawatch.conf raised, cleared and closed, with its duty round (notified,
# reminder, escalated, acknowledged, cleared), plus the radio-fault and relay-silent alerts.
# SPDX-License-Identifier: Apache-2.0
set -euo pipefail
: "${LW_SOURCE_DIR:?}" "${LW_TESTBIN:?}"
SCHEMAS=$LW_SOURCE_DIR/docs/schemas
VALIDATE=$LW_SOURCE_DIR/tests/integration/validate_mqtt.py
CONF=$LW_SOURCE_DIR/config/lorawatch.conf
WORK=$(mktemp -d /tmp/lw-contract.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# The system python's jsonschema, as test 15 picks it.
PY=
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import jsonschema' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "SKIP: no python3 with jsonschema (scripts/setup installs python3-jsonschema)"; exit 77; }

"$LW_TESTBIN/alert_payloads" "$CONF" >"$WORK/messages.txt" || fail "alert_payloads failed"
payloads() { grep "^lorawatch/payloads/$1" "$WORK/messages.txt" | cut -d' ' -f2-; }

# Every rule of the shipped file (and the built-in relay-silent) in every state and duty kind.
rules=$(sed -n 's/^\[rule:\(.*\)\]$/\1/p' "$CONF")
[ "$(wc -w <<<"$rules")" -ge 10 ] || fail "only $(wc -w <<<"$rules") rules found in $CONF"
{ payloads alert/ | jq -r '"\(.rule) \(.state)"'; payloads duty/ | jq -r '"\(.rule) duty-\(.duty.kind)"'; } |
  sort -u >"$WORK/seen.txt"
for r in $rules relay-silent; do
  for s in raised cleared closed duty-notified duty-reminder duty-escalated duty-acknowledged \
    duty-cleared; do
    grep -qx "$r $s" "$WORK/seen.txt" || fail "no $s message of rule $r"
  done
done
types=$(payloads alert/ | jq -rs '[.[].type] | unique | join(",")')
[ "$types" = "flag,radio_fault,silence,storage,threshold" ] || fail "rule types covered: $types"
stats=$(payloads alert/ | jq -rs '[.[].statistic // empty] | unique | join(",")')
[ "$stats" = "days_left,mean,rise,twa,value" ] || fail "statistics covered: $stats"
pass "$(wc -l <"$WORK/messages.txt") messages: $(wc -w <<<"$rules") shipped rules + relay-silent, types $types, statistics $stats"

"$PY" "$VALIDATE" "$SCHEMAS" <"$WORK/messages.txt" >"$WORK/validate.out" 2>&1 || {
  cat "$WORK/validate.out" >&2
  fail "alert payloads do not match docs/schemas"
}
pass "every alert and duty payload matches its schema: $(tail -n 1 "$WORK/validate.out")"

# The schema must still refuse what does not belong to the quantity, or the pass above proves
# little: each edited payload below must be invalid.
: >"$WORK/bad.txt"
bad() { # JQ-SELECT JQ-EDIT
  local p
  p=$(payloads alert/ | jq -cs "[.[] | select($1)][0] | $2")
  [ "$p" != null ] || fail "no payload for the negative case $2"
  echo "lorawatch/payloads/alert/$(jq .id <<<"$p") $p" >>"$WORK/bad.txt"
}
bad '.rule=="flood-basement"' '.unit="s"'                    # a water depth in seconds
bad '.type=="silence"' '.metric="battery_mv" | .unit="mV"'   # a silence as a battery voltage
bad '.type=="silence"' '.unit="mm"'                          # a silence in mm
bad '.statistic=="rise"' '.unit="mm"'                        # a rate of rise without /min
bad '.statistic=="days_left"' '.unit="mV"'                   # days left in mV
bad '.type=="flag"' 'del(.flag)'                             # a flag alert not naming its flag
bad '.type=="flag"' '.metric="battery_mv" | .unit="mV"'      # a flag as a battery voltage
bad '.type=="threshold"' 'del(.statistic)'                   # a threshold alert without statistic
bad '.type=="threshold"' '.metric="silent_s" | .unit="s"'    # a threshold rule on no reading
bad '.type=="radio_fault"' '.metric="water_mm" | .unit="mm"' # the radio as a water depth
n=$(wc -l <"$WORK/bad.txt")
"$PY" "$VALIDATE" "$SCHEMAS" <"$WORK/bad.txt" >"$WORK/bad.out" 2>&1 || true
grep -q "^$n messages .*: $n invalid$" "$WORK/bad.out" || {
  cat "$WORK/bad.out" >&2
  fail "the schema accepts a payload it must refuse"
}
pass "the schema refuses all $n payloads whose quantity, unit or type fields disagree"
