#!/usr/bin/env bash
# The season report opens in headless Chromium (Debian's chromium) without a console error, and
# its first page is written as a screenshot (kept in $LW_SCREENSHOT_DIR when that is set).
# Skipped (77) when chromium is not installed: scripts/setup does not install it (it is large).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
: >"$WORK/test.log"
GEN=${LW_BENCH_BIN:-$LW_BIN}/bench_season
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "SKIP: chromium not installed (apt-get install chromium)"; exit 77; }
[ -x "$GEN" ] || { echo "SKIP: bench_season not built"; exit 77; }
"$GEN" generate --db "$WORK/season.db" --nodes 30 --days 30 --seed 11 >/dev/null || fail "generator"
"$LW_BIN/lorawatch" report --db "$WORK/season.db" --from 2025-05-01 --to 2025-05-31 \
  --title "测试小区 Test estate" -o "$WORK/season.html" || fail "report"
flags=(--headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$WORK/profile"
  --window-size=1240,1754)
# Console errors (bad markup, scripts, blocked loads) appear in the log with --enable-logging.
timeout 120 "$CHROMIUM" "${flags[@]}" --enable-logging=stderr --v=0 \
  --screenshot="$WORK/page1.png" "file://$WORK/season.html" >"$WORK/chromium.log" 2>&1 ||
  fail "chromium failed"
[ -s "$WORK/page1.png" ] || fail "no screenshot"
! grep -E 'CONSOLE|Uncaught|Failed to load|ERR_' "$WORK/chromium.log" | grep -v -i 'dbus\|gpu' ||
  fail "errors while loading the report"
timeout 120 "$CHROMIUM" "${flags[@]}" --print-to-pdf="$WORK/season.pdf" --no-pdf-header-footer \
  "file://$WORK/season.html" >>"$WORK/chromium.log" 2>&1 || fail "printing failed"
[ "$(head -c 4 "$WORK/season.pdf")" = "%PDF" ] || fail "no PDF"
if [ -n "${LW_SCREENSHOT_DIR:-}" ]; then
  cp "$WORK/page1.png" "$WORK/season.pdf" "$LW_SCREENSHOT_DIR/"
fi
pass "report opened in $($CHROMIUM --version 2>/dev/null | head -1): screenshot $(wc -c <"$WORK/page1.png") bytes, PDF $(wc -c <"$WORK/season.pdf") bytes"
