#!/usr/bin/env bash
# The manual pages render without a single groff warning, and stay true to the programs: every
# option of lorawatchd --help and lorawatch --help is in their page, every section and key of
# lorawatchd --help-config is in lorawatch.conf(5).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
# common.sh's failure report tails $WORK/*.log and stops short of removing $WORK without one.
: >"$WORK/test.log"
MAN=$LW_SOURCE_DIR/docs/man

command -v groff >/dev/null ||
  fail "groff not found: install the Debian package groff-base (scripts/setup does)"

# The groff diagnostics go to *.log files, which common.sh shows on failure.
for page in lorawatchd.8 lorawatch.1 lorawatch.conf.5; do
  [ -s "$MAN/$page" ] || fail "$page missing or empty"
  # -ww: all warnings; -z: no output, only the diagnostics; C.UTF-8 as man(1) would run it.
  LC_ALL=C.UTF-8 groff -man -ww -z "$MAN/$page" 2>"$WORK/groff-$page.log" || fail "$page: groff failed"
  [ ! -s "$WORK/groff-$page.log" ] || fail "$page: groff warnings: $(cat "$WORK/groff-$page.log")"
  # Rendered text, as a reader sees it; catches a page that is empty after formatting.
  LC_ALL=C.UTF-8 groff -man -Tutf8 -P-cbou "$MAN/$page" >"$WORK/$page.txt" 2>/dev/null
  grep -q '^NAME' "$WORK/$page.txt" || fail "$page: no NAME section when rendered"
done
pass "every page renders without groff warnings"

# roff writes a minus as \-: compare options in that spelling.
roff() { sed -e 's/-/\\-/g' <<<"$1"; }
# check_options PAGE PROGRAM [COMMAND]: each -x and --long-option that PROGRAM [COMMAND] --help
# lists appears in PAGE.
check_options() {
  local page=$1 help=$WORK/help.txt opts
  shift
  "$LW_BIN/$1" "${@:2}" --help >"$help" || fail "$* --help exit status"
  opts=$(grep -Eo '^ +(-[A-Za-z], )?--[a-z][a-z-]*' "$help" | tr ',' ' ')
  [ -n "$opts" ] || fail "$* --help lists no options"
  for o in $opts; do
    grep -qF -- "$(roff "$o")" "$MAN/$page" || fail "$page does not document '$*' option $o"
  done
}
check_options lorawatchd.8 lorawatchd
check_options lorawatch.1 lorawatch
# The client's commands, from the "Commands:" block of its help, each with its own options.
"$LW_BIN/lorawatch" --help >"$WORK/cli.help" || fail "lorawatch --help exit status"
for cmd in $(sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' "$WORK/cli.help"); do
  grep -qxF ".B $(roff "$cmd")" "$MAN/lorawatch.1" || fail "lorawatch.1 does not document command $cmd"
  check_options lorawatch.1 lorawatch "$cmd"
done
pass "every option and command of lorawatchd and lorawatch is documented"

"$LW_BIN/lorawatchd" --help-config >"$WORK/keys.txt" || fail "--help-config exit status"
sections=$(sed -n 's/^\[\([a-z]*\).*/\1/p' "$WORK/keys.txt")
keys=$(sed -n 's/^  \([a-z_][a-z_0-9]*\) .*/\1/p' "$WORK/keys.txt" | sort -u)
[ "$(wc -w <<<"$sections")" -ge 6 ] && [ "$(wc -w <<<"$keys")" -ge 30 ] ||
  fail "--help-config output not understood"
for s in $sections; do
  grep -Eq "^\.SH \"\[$s[]:]" "$MAN/lorawatch.conf.5" || fail "lorawatch.conf.5 lacks [$s]"
done
for k in $keys; do
  # A key is documented when it heads an entry: .B key, or .BR key ", " other ...
  grep -Eq "^\.BR? (.*[ \"])?$k([ \",]|$)" "$MAN/lorawatch.conf.5" ||
    fail "lorawatch.conf.5 does not document key '$k' (lorawatchd --help-config lists it)"
done
pass "lorawatch.conf.5 documents all $(wc -w <<<"$keys") keys in $(wc -w <<<"$sections") sections"
