#!/usr/bin/env bash
# Abuse of the control socket by local clients (12-control-socket covers the basic refusals):
# random bytes, a header announcing 4 GiB, a full-size message of garbage, a thousand bad
# requests on one connection, thousands of pings whose replies are never read, connections that
# send half a header and hang, more connections than there are client slots, and (as root) other
# users through a world-writable socket. Each is refused or answered with an error, counted
# (lorawatch_control_*), logged rate-limited; the daemon's memory and open files stay bounded,
# nothing changes state, and `lorawatch status` works throughout and afterwards.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/attack-lib.sh"

lw_start_broker "$WORK"
SOCK=$WORK/control.sock
atk_start ctla <<EOF
control_socket = $SOCK
control_group =
EOF
lw_wait_for 10 test -S "$SOCK" || fail "no control socket"
status() { "$LW_BIN/lorawatch" status -s "$SOCK" >/dev/null; }
status || fail "status before the attack"
nodes0=$(q 'SELECT count(*) FROM nodes') maint0=$(q 'SELECT count(*) FROM maintenance')

# client SCRIPT: run a Python client against the socket (SOCK in its environment).
client() { SOCK=$SOCK python3 -c "$1"; }
PRE='
import os, socket, struct, sys, time
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.environ["SOCK"])
    return s
def msg(body):
    return struct.pack(">I", len(body)) + body
def reply(s): # one whole reply: its 4-byte length, then that many bytes
    head = b""
    while len(head) < 4:
        head += s.recv(4 - len(head))
    n = struct.unpack(">I", head)[0]
    body = b""
    while len(body) < n:
        body += s.recv(n - len(body))
    return body
def drain(s, t=2.0):
    s.settimeout(t)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except (socket.timeout, ConnectionResetError):
        pass
    return out
'

# Requests back to back in one write (before the baseline below: this is not an attack, and the
# replies are the largest the daemon builds): every one is answered, in order, even those that were
# already buffered when the daemon paused reading (status replies are kilobytes each: they fill
# the socket before the client starts reading).
n=$(client "$PRE
s = conn()
s.settimeout(5)
s.sendall(b''.join(msg(b'{\"cmd\":\"status\"}') for _ in range(2000)) + msg(b'{\"cmd\":\"reboot\"}'))
got = [reply(s) for _ in range(2001)]
print(sum(b'\"ok\":true' in b for b in got[:2000]), b'reboot' in got[2000])
")
[ "$n" = "2000 True" ] || fail "2001 requests in one write: $n"
pass "2001 requests in one write answered in order"
# A request of the largest size allowed, with a small one right behind it in the same write.
n=$(client "$PRE
s = conn()
s.settimeout(5)
head = b'{\"cmd\":\"ping\",\"pad\":\"'
big = head + b'x' * (65536 - len(head) - 2) + b'\"}'
s.sendall(msg(big) + msg(b'{\"cmd\":\"ping\"}'))
print(len(big), sum(b'\"ok\":true' in reply(s) for _ in range(2)))
")
[ "$n" = "65536 2" ] || fail "a 64 KiB request and one behind it: $n"
pass "a request of the largest size and one pipelined behind it both answered"

rss0=$(atk_rss_kb "$PID") fds0=$(atk_fds "$PID") t0=$(date +%s)

# ---- garbage, a huge announced length, a full-size message of garbage -----------------------
out=$(client "$PRE
import random
r = random.Random(5)
s = conn(); s.sendall(b'\x00\x10' + bytes(r.randrange(256) for _ in range(20000)))
print(drain(s))
s = conn(); s.sendall(b'\xff\xff\xff\xff{}'); print(drain(s))
s = conn(); s.sendall(msg(b'[' * 65536)); print(drain(s))
")
grep -q 'message too large' <<<"$out" || fail "oversized input not refused: $out"
grep -q 'not a JSON object' <<<"$out" || fail "full-size garbage not refused: $out"
status || fail "status after garbage"
pass "random bytes, a 4 GiB header and a 64 KiB message of garbage refused"

# ---- a thousand bad requests on one connection, and 5000 pings never read -------------------
n=$(client "$PRE
s = conn()
bad = [b'nope', b'{\"cmd\":42}', b'{\"cmd\":\"reboot\"}', b'{\"cmd\":\"pair\",\"eui\":\"zz\"}', b'\xc3\x28']
# One at a time here; requests sent back to back in one write are checked below.
s.settimeout(5)
got = 0
for i in range(1000):
    s.sendall(msg(bad[i % len(bad)]))
    got += reply(s).startswith(b'{\"ok\":false')
print(got)
")
[ "$n" -eq 1000 ] || fail "1000 bad requests: $n error replies"
client "$PRE
s = conn()
s.setblocking(False)
sent = 0
data = b''.join(msg(b'{\"cmd\":\"ping\"}') for _ in range(5000))
t = time.time()
while sent < len(data) and time.time() - t < 5:
    try:
        sent += s.send(data[sent:])
    except BlockingIOError:
        time.sleep(0.01)
print(sent // 18, file=sys.stderr)
status = os.system(os.environ.get('LW_BIN', '.') + '/lorawatch status -s ' + os.environ['SOCK'] + ' >/dev/null')
sys.exit(0 if status == 0 else 1)
" 2>"$WORK/unread.txt" || fail "status while a client does not read its replies"
pass "1000 bad requests answered with errors; $(cat "$WORK/unread.txt") unread pings do not block others"

# ---- half a header and hang; more clients than slots -----------------------------------------
client "$PRE
hold = []
for _ in range(40):
    t = time.time()
    while time.time() - t < 3: # the listen backlog is short: retry until accepted
        try:
            s = conn(); s.sendall(b'\x00\x00'); hold.append(s)
            break
        except OSError:
            time.sleep(0.02)
# The daemon keeps 16 clients; the rest are closed as soon as it accepts them.
closed = set()
t = time.time()
while len(closed) < len(hold) - 16 and time.time() - t < 10:
    for i, s in enumerate(hold):
        if i in closed:
            continue
        s.setblocking(False)
        try:
            if s.recv(1) == b'':
                closed.add(i)
        except BlockingIOError:
            pass
        except ConnectionResetError:
            closed.add(i)
    time.sleep(0.05)
closed = len(closed)
print(len(hold), 'connected,', closed, 'closed', file=sys.stderr)
sys.exit(0 if len(hold) == 40 and closed >= 40 - 16 else 1)
" 2>"$WORK/slots.txt" || fail "connections beyond the client slots not closed: $(cat "$WORK/slots.txt")"
status || fail "status after the hanging clients left"
lw_wait_for 5 grep -q 'control: too many clients' "$WORK/lorawatchd.log" || fail "slot exhaustion not logged"
pass "hanging clients hold at most 16 slots ($(cat "$WORK/slots.txt")); status works once they go"

# ---- other users, through a socket made world-writable by mistake ---------------------------
refused=0
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  chmod 755 "$WORK"
  chmod 666 "$SOCK"
  for _ in $(seq 1 30); do
    setpriv --reuid=65534 --regid=65534 --clear-groups "$LW_BIN/lorawatch" status -s "$SOCK" \
      >/dev/null 2>&1 && fail "another user got in"
  done
  refused=30
  pass "30 connections of another user refused by peer credentials"
else
  echo "skipped: other users need root and setpriv"
fi

# ---- counted, logged rate-limited, nothing changed, memory bounded ---------------------------
atk_fresh_metrics
bad=$(atk_metric lorawatch_control_bad_requests_total)
ref=$(atk_metric 'lorawatch_control_connections_total{outcome="refused"}')
# 600 of the 1000 bad requests do not parse (an unknown command or a usage error is a request).
[ "$bad" -ge 603 ] || fail "bad requests counted: $bad, expected at least 603"
[ "$ref" -eq "$refused" ] || fail "refused connections counted: $ref, expected $refused"
pass "counted: $bad bad requests, $ref refused connections"
secs=$(( $(date +%s) - t0 + 5 ))
lines=$(grep -c 'control: ' "$WORK/lorawatchd.log" || true)
bound=$(( $(atk_log_bound x "$secs") * 5 )) # five call sites
[ "$lines" -le "$bound" ] || fail "$lines control log lines: not rate-limited (bound $bound)"
[ "$(q 'SELECT count(*) FROM nodes')" -eq "$nodes0" ] && [ "$(q 'SELECT count(*) FROM maintenance')" -eq "$maint0" ] ||
  fail "the attack changed nodes or the maintenance journal"
sleep 1
rss1=$(atk_rss_kb "$PID") fds1=$(atk_fds "$PID")
echo "   VmRSS $rss0 -> $rss1 kB, open files $fds0 -> $fds1; $lines log lines"
[ $((rss1 - rss0)) -le 4096 ] || fail "VmRSS grew by $((rss1 - rss0)) kB"
[ "$fds1" -eq "$fds0" ] || fail "open files $fds0 -> $fds1: client connections left open"
pass "nothing changed; log lines rate-limited; memory and open files back to where they were"
lw_stop_daemon
