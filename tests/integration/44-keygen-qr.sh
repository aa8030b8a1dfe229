#!/usr/bin/env bash
# lorawatch keygen draws the pairing string LW1:EUI:KEY as a QR code: in the terminal with UTF-8
# half blocks (--qr) and as a PNG label (--png). Both are decoded here by zbarimg (zbar-tools) and
# must give back exactly the string printed above them.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
: >"$WORK/test.log"
command -v zbarimg >/dev/null || fail "zbarimg not found: install zbar-tools (scripts/setup does)"
LW=("$LW_BIN/lorawatch")

"${LW[@]}" keygen --eui 70:B3:D5:7E:D0:00:0B:01 --qr --png "$WORK/label.png" >"$WORK/keygen.txt" ||
  fail "keygen --qr --png: exit $?"
label=$(sed -n 2p "$WORK/keygen.txt")
[[ $label =~ ^LW1:70B3D57ED0000B01:[0-9A-F]{32}$ ]] || fail "pairing string: $label"
[ "$(zbarimg --raw -q "$WORK/label.png" 2>/dev/null)" = "$label" ] ||
  fail "the PNG does not decode to $label: $(zbarimg --raw -q "$WORK/label.png" 2>&1 | head -3)"
pass "--png: the label decodes to the pairing string"

# The terminal drawing, put back into pixels (each character two modules high), must decode too.
python3 - "$WORK/keygen.txt" "$WORK/term.pgm" <<'PY' || fail "the drawing is not made of half blocks"
import sys
lines = [l for l in open(sys.argv[1], encoding="utf-8").read().split("\n")[2:] if l]
cell = {"\u2588": (1, 1), "\u2580": (1, 0), "\u2584": (0, 1), " ": (0, 0)}
rows = []
for l in lines:
    pairs = [cell[c] for c in l]
    rows += [[p[0] for p in pairs], [p[1] for p in pairs]]
assert len({len(r) for r in rows}) == 1 and len(rows[0]) >= 21 + 8, "ragged or too small"
assert not any(rows[0]) and not any(rows[-1]), "no light margin"
s = 8
with open(sys.argv[2], "wb") as f:
    f.write(b"P5 %d %d 255\n" % (len(rows[0]) * s, len(rows) * s))
    for r in rows:
        line = bytes(0 if v else 255 for v in r for _ in range(s))
        for _ in range(s):
            f.write(line)
PY
[ "$(zbarimg --raw -q "$WORK/term.pgm" 2>/dev/null)" = "$label" ] || fail "the terminal QR code does not decode"
grep -q $'\033' "$WORK/keygen.txt" && fail "colour codes written to a file"
pass "--qr: UTF-8 half blocks that decode to the pairing string; no colour codes off a terminal"

"${LW[@]}" keygen >"$WORK/plain.txt" || fail "keygen: exit $?"
[ "$(wc -l <"$WORK/plain.txt")" -eq 2 ] || fail "keygen to a file draws a QR code: $(wc -l <"$WORK/plain.txt") lines"
"${LW[@]}" keygen --json --png "$WORK/j.png" | jq -e '(.qr | test("^LW1:[0-9A-F]{16}:[0-9A-F]{32}$")) and .png != null' \
  >/dev/null || fail "keygen --json --png"
rc=0
"${LW[@]}" keygen --png "$WORK/no/such/dir/l.png" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
[ $rc -eq 1 ] && grep -q "no/such/dir/l.png" "$WORK/err.txt" && [ ! -s "$WORK/out.txt" ] ||
  fail "unwritable --png: exit $rc, $(cat "$WORK/err.txt") / $(cat "$WORK/out.txt")"
pass "no drawing when not asked off a terminal; --json names the PNG; an unwritable PNG exit 1, no key printed"
