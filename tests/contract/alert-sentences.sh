#!/usr/bin/env bash
# What the duty staff read: the Chinese and English sentences of every alert and duty message the
# shipped rules (every rule type and statistic, plus heat and obscuration rules) can make, in
# every state, for real and test alarms, checked against rules people rely on, then compared
# with the reviewed snapshot tests/contract/sentences.txt.
#   LW_UPDATE_SNAPSHOT=1 ctest -R contract-alert-sentences   rewrites the snapshot (review the diff)
# SPDX-License-Identifier: Apache-2.0
set -euo pipefail
: "${LW_SOURCE_DIR:?}" "${LW_TESTBIN:?}"
CONF=$LW_SOURCE_DIR/config/lorawatch.conf
SNAP=$LW_SOURCE_DIR/tests/contract/sentences.txt
WORK=$(mktemp -d /tmp/lw-sentences.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

"$LW_TESTBIN/alert_payloads" "$CONF" >"$WORK/messages.txt" || fail "alert_payloads failed"
# One line per distinct message: rule, what it is (state, or duty kind), test, then both texts.
cut -d' ' -f2- "$WORK/messages.txt" | jq -r '
  "\(.rule) \(if .duty then "duty-" + .duty.kind else .state end)\(if .test then " test" else "" end)\(if .level != null then " " + .level else "" end)\n  zh: \(.text_zh)\n  en: \(.text_en)"' |
  awk 'BEGIN{RS=""; FS="\n"} {print}' | paste -d'\t' - - - | sort -u | tr '\t' '\n' >"$WORK/sentences.txt"

# Rules every sentence keeps.
python3 - "$WORK/messages.txt" <<'PY' || fail "sentence rules broken (above)"
import json, re, sys
cjk = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
bad = 0
def no(cond, what, text):
    global bad
    if cond:
        bad += 1
        print("  %s: %s" % (what, text))
for line in open(sys.argv[1], encoding="utf-8"):
    m = json.loads(line.split(" ", 1)[1])
    zh, en, kind = m["text_zh"], m["text_en"], (m.get("duty") or {}).get("kind", "")
    place = (m.get("place") or {}).get("text", "")
    zh_bare = zh.replace(place.split(" / ")[0], "") if place else zh
    no(re.search(cjk + " | " + cjk, zh_bare), "space next to a Chinese character", zh)
    no(re.search(r"\d\.\d{2,}", zh + en), "more than one decimal", zh + " | " + en)
    no(not zh.endswith("。"), "Chinese text not ending in 。", zh)
    no(not re.search(r"[.\"]$", en), "English text not ending in a full stop", en)
    no("%" in re.sub(r"%(LEL|/m)", "", zh + en), "a stray format sign", zh + en)
    if m["hazard"] == "fire":
        no(re.search("蓝色|黄色|橙色|红色", zh), "a fire graded by colour", zh)
        no(re.search("BLUE|YELLOW|ORANGE|RED", m["text_en"]), "a fire graded by colour", en)
    elif not m.get("test") and kind in ("", "notified"):
        name = {"flood": "内涝", "gas": "燃气", "trouble": "设备故障"}[m["hazard"]]
        no(not re.match(r"(【测试，无需出动】)?(解除|撤销)?" + name + "(蓝色|黄色|橙色|红色)预警(更新)?：", zh),
           "Chinese warning not hazard first", zh)
    if kind in ("escalated", "reminder", "acknowledged"):
        no("请立即到场确认" in zh or "check now" in en, "a duty follow-up repeating the raise", zh)
        no(m["title_zh"] not in zh, "a duty follow-up not naming the alert", zh)
    if kind == "acknowledged":
        no(m["duty"].get("by_name", "") not in zh or m["duty"].get("by_name", "") not in en,
           "an acknowledgement not naming who", zh)
        no(m["duty"].get("outcome") == "on_my_way" and "正在赶往现场" not in zh,
           "an acknowledgement not saying its outcome", zh)
    if m["state"] == "updated":
        no("仍在上涨" not in zh or "still rising" not in en, "an update not saying the water rises", zh)
        no(m["reached"] != m["level"] and "线" not in zh, "an update not naming the level reached", zh)
    if m.get("test"):
        no(not zh.startswith("【测试") or "TEST" not in en, "a test alarm not marked as one", zh)
        no(re.search(r"\d+mm", zh), "a test alarm quoting a reading", zh)
print("  %d sentence problems" % bad)
sys.exit(1 if bad else 0)
PY
pass "$(wc -l <"$WORK/messages.txt") messages keep the sentence rules"

grep -q "确认火警" "$WORK/sentences.txt" || fail "no confirmed fire (second detector) sentence"
grep -q "duty-notified test" "$WORK/sentences.txt" || fail "no test alarm on a duty topic"

if [ "${LW_UPDATE_SNAPSHOT:-}" = 1 ]; then
  cp "$WORK/sentences.txt" "$SNAP"
  pass "snapshot rewritten: $SNAP"
  exit 0
fi
diff -u "$SNAP" "$WORK/sentences.txt" >"$WORK/diff.txt" || {
  head -n 60 "$WORK/diff.txt" >&2
  fail "sentences differ from the snapshot $SNAP (review; LW_UPDATE_SNAPSHOT=1 rewrites it)"
}
pass "$(grep -c '^  zh:' "$SNAP") sentence pairs match the snapshot"
