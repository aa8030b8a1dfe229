#!/usr/bin/env bash
# docs/INSTALL.md uses only real commands and options: every `lorawatch COMMAND --option` and
# `lorawatchd --option` in its shell blocks is in the built programs' --help, every [radio] board
# it names is a preset, and its `lorawatchd -n` examples match what the daemon prints.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
DOC=$LW_SOURCE_DIR/docs/INSTALL.md

# Shell lines of the ```sh blocks, continuation lines joined, "sudo [-u USER]" dropped.
awk '/^```sh$/ { sh = 1; next } /^```/ { sh = 0 } sh' "$DOC" |
  sed -e ':a' -e '/\\$/N; s/\\\n//; ta' -e 's/#.*//' >"$WORK/lines.txt"
[ -s "$WORK/lines.txt" ] || fail "no shell blocks in INSTALL.md"

"$LW_BIN/lorawatch" --help >"$WORK/cli.help" || fail "lorawatch --help"
"$LW_BIN/lorawatchd" --help >"$WORK/d.help" || fail "lorawatchd --help"
n=0
while read -r line; do
  for cmd in $(grep -Eo '(^|[;&|(]|sudo( -u [a-z]+)?) *lorawatchd?( [^;&|]*)?' <<<"$line" |
    sed -E 's/^[;&|( ]*(sudo( -u [a-z]+)? *)?//' | tr ' ' '\037'); do
    cmd=$(tr '\037' ' ' <<<"$cmd")
    set -- $cmd
    prog=$1; shift
    if [ "$prog" = lorawatch ]; then
      [ $# -gt 0 ] || continue
      sub=$1; shift
      [ "$sub" = node ] && { sub="node $1"; shift; }
      grep -Eq "^  $sub( |$)" "$WORK/cli.help" || fail "INSTALL.md: 'lorawatch $sub' is not a command"
      # shellcheck disable=SC2086
      "$LW_BIN/lorawatch" $sub --help >"$WORK/sub.help" 2>&1 || fail "lorawatch $sub --help"
      help=$WORK/sub.help
    else
      help=$WORK/d.help
    fi
    for opt in "$@"; do
      case $opt in
        --*) o=${opt%%=*}
          grep -q -- "$o\b" "$help" || fail "INSTALL.md: '$prog ${sub:-} $o' is not in its --help" ;;
        -[a-zA-Z]) grep -Eq -- "(^| )$opt(,| )" "$help" || fail "INSTALL.md: '$prog $opt' is not in its --help" ;;
      esac
    done
    n=$((n + 1)); sub=""
  done
done <"$WORK/lines.txt"
[ $n -ge 6 ] || fail "only $n lorawatch/lorawatchd commands found in INSTALL.md"
pass "$n lorawatch and lorawatchd commands of INSTALL.md are in the programs' --help"

for b in $(grep -Eo 'board = [a-z0-9-]+' "$DOC" | cut -d' ' -f3 | sort -u); do
  printf '[radio]\nboard = %s\n' "$b" >"$WORK/board.conf"
  "$LW_BIN/lorawatchd" -n -f "$WORK/board.conf" >/dev/null 2>"$WORK/board.err" ||
    fail "INSTALL.md: board = $b refused: $(cat "$WORK/board.err")"
done
pass "every board preset INSTALL.md names is accepted"

# The printed examples: the shipped file's two warnings and summary, and the configured one's.
rules=$(grep -c '^\[rule:' "$LW_SOURCE_DIR/config/lorawatch.conf")
grep -q "configuration OK (0 nodes, $rules rules, 2 warnings)" "$DOC" ||
  fail "INSTALL.md's 'lorawatchd -n' summary is not what the shipped file gives ($rules rules)"
{
  cat "$LW_SOURCE_DIR/config/lorawatch.conf"
  printf '[radio]\nboard = dragino-lora-gps-hat\n'
  # The first ini block with a [duty:ID] section (one awk: an early exit would cut a pipe).
  awk '/^```ini$/ { ini = 1; if (!done) n = 0; next }
    /^```/ && ini { ini = 0; if (duty) done = 1; next }
    ini && !done { block[n++] = $0; if ($0 ~ /^\[duty:/) duty = 1 }
    END { for (i = 0; i < n && duty; i++) print block[i] }' "$DOC"
} >"$WORK/configured.conf"
"$LW_BIN/lorawatchd" -n --strict -f "$WORK/configured.conf" >"$WORK/configured.out" 2>&1 ||
  fail "the shipped file with a board and INSTALL.md's roster fails --strict: $(cat "$WORK/configured.out")"
grep -q "configuration OK (0 nodes, $rules rules, 0 warnings)" "$WORK/configured.out" ||
  fail "configured: $(cat "$WORK/configured.out")"
grep -q "configuration OK (0 nodes, $rules rules, 0 warnings)" "$DOC" ||
  fail "INSTALL.md's 'lorawatchd -n --strict' summary differs"
pass "INSTALL.md's lorawatchd -n examples match the daemon; its roster passes --strict"
