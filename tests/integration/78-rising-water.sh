#!/usr/bin/env bash
# Water rising under an open flood alert, in virtual time: seeded water curves (LW_SEED, default
# 1) rise from dry to a peak of 200-400 mm and fall again on three street sensors, under blue
# (60 mm), orange (150 mm, 5 min) and red (250 mm, 10 min) rules. Every flood alert's messages
# are checked against the update rules (docs/MQTT.md): an update only after the water rose 50 mm
# since the alert's last message or reached a higher level's line, at most one per 5 minutes,
# each quoting the previous message's value; the duty worker paged again only when a higher
# colour was reached; the database keeps the peak and journals every update; the raise's facts
# never change; after the all-clear nothing is retained.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"

SEED=${LW_SEED:-1}
SITE=rise
lw_start_broker "$WORK"
UDP=$(lw_free_port udp)
SCEN=$WORK/rise.ini
python3 - "$SEED" >"$SCEN" <<'PY'
import random, sys
rnd = random.Random(int(sys.argv[1]))
print("[scenario]\nname = rising-water\nstart = 2026-07-15T02:00:00+08:00\nduration = 70m")
print("acceleration = 200\nnetwork_id = 0x4C57\ntick = 1s\nseed = %d\n" % int(sys.argv[1]))
for i in range(3):
    addr = 0x0B01 + i
    t0 = rnd.randint(2, 6)                 # minutes: the rain starts
    peak = rnd.randint(200, 400)           # mm
    tp = t0 + rnd.randint(12, 28)          # minutes: the peak
    hold = rnd.randint(2, 8)
    dry = tp + hold + rnd.randint(10, 20)  # minutes: dry again
    print("[node:street-%d]\naddress = 0x%04X\neui = 70B3D57ED000%04X\nkey = %032X" %
          (i + 1, addr, addr, 0x6B000000 + addr))
    print("kind = water\nlabel = street sensor %d\nbuilding = %d\ngrid = 3\ntags = street" %
          (i + 1, 20 + i))
    print("interval = 30s\noffset = %ds" % (3 + 7 * i))
    print("water_mm = 0@0m 0@%dm %d@%dm %d@%dm 0@%dm 0@70m\nbattery_mv = 3600\n" %
          (t0, peak, tp, peak, tp + hold, dry))
PY
cat >"$WORK/rules.conf" <<'EOC'
[rule:flood-watch]
metric = water_mm
threshold = 60
clear = 30
level = blue
[rule:flood-street]
metric = water_mm
threshold = 150
clear = 100
persistence = 5m
level = orange
[rule:flood-deep]
metric = water_mm
threshold = 250
clear = 200
persistence = 10m
level = red
EOC
lw_compose_config "$WORK/rules.conf" "$SCEN" "$SITE" "$WORK/lw.db" "$LW_MQTT_PORT" "$UDP" \
  "$WORK/lorawatchd.conf"
cat >>"$WORK/lorawatchd.conf" <<'EOC'

[alerts]
escalate_after = 24h
remind_every = 0
[duty:zhang]
name = 张伟
tier = 1
grids = 3
[duty:room]
name = 王芳
tier = 2
EOC
"$LW_BIN/lorawatchd" -n -f "$WORK/lorawatchd.conf" >"$WORK/check.log" 2>&1 ||
  fail "composed config invalid: $(cat "$WORK/check.log")"
lw_capture all "lorawatch/$SITE/#"
lw_start_daemon "$WORK/lorawatchd.conf"
lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "no broker connection"
"$LW_BIN/lorawatch-sim" -q -s "$SCEN" --gateway "127.0.0.1:$UDP" \
  --summary-json "$WORK/sim.json" >"$WORK/sim.log" 2>&1 || fail "simulator failed"
sent=$(jq -r '.frames' "$WORK/sim.json")
lw_wait_for 15 sh -c "[ \$(sqlite3 '$WORK/lw.db' 'SELECT count(*) FROM readings') -ge $sent ]" ||
  fail "not every frame was stored"
sleep 1
retained=$(mosquitto_sub -h 127.0.0.1 -p "$LW_MQTT_PORT" -v -t "lorawatch/$SITE/alert/+" \
  --retained-only -W 2 2>/dev/null || true)
lw_stop_daemon

python3 - "$WORK/all.mqtt" "$WORK/lw.db" "$SITE" <<'PY' || fail "update rules broken (above)"
import collections, json, sqlite3, sys
mqtt, db, site = sys.argv[1:4]
order = ["blue", "yellow", "orange", "red"]
alerts = collections.defaultdict(list)   # id -> messages on alert/<id>, in order
pages = collections.defaultdict(list)    # id -> duty "updated" messages to the worker
for line in open(mqtt, encoding="utf-8"):
    topic, _, payload = line.rstrip("\n").partition(" ")
    if payload in ("", "(null)"):
        if "/alert/" in topic:
            alerts[int(topic.rsplit("/", 1)[1])].append(None)
        continue
    m = json.loads(payload)
    if topic.startswith("lorawatch/%s/alert/" % site):
        alerts[m["id"]].append(m)
    elif topic == "lorawatch/%s/duty/person/zhang" % site and m["duty"]["kind"] == "updated":
        pages[m["id"]].append(m)
con = sqlite3.connect(db)
bad, updates, repaged = [], 0, 0
for i, ms in sorted(alerts.items()):
    seq = [m["state"] if m else "(empty)" for m in ms]
    if seq[0] != "raised" or seq[-2:] != ["cleared", "(empty)"] or \
            any(s != "updated" for s in seq[1:-2]):
        bad.append("alert %d: messages %s" % (i, seq))
        continue
    last, reached = ms[0], ms[0]["level"]
    for u in ms[1:-2]:
        updates += 1
        rose = u["value"] >= last["value"] + 50
        higher = order.index(u["reached"]) > order.index(reached)
        if not (rose or higher):
            bad.append("alert %d: update to %g from %g, reached %s (was %s)" %
                       (i, u["value"], last["value"], u["reached"], reached))
        if u["previous"] != last["value"]:
            bad.append("alert %d: update quotes %g, the last message said %g" %
                       (i, u["previous"], last["value"]))
        if u["time_ms"] - last["time_ms"] < 300000:
            bad.append("alert %d: updates %d s apart" % (i, (u["time_ms"] - last["time_ms"]) / 1000))
        for k in ("level", "raised", "rule", "threshold", "incident"):
            if u.get(k) != ms[0].get(k):
                bad.append("alert %d: update changed %s" % (i, k))
        if "仍在上涨" not in u["text_zh"] or "still rising" not in u["text_en"]:
            bad.append("alert %d: update text %s" % (i, u["text_zh"]))
        if higher:
            reached = u["reached"]
        last = u
    # Paged again exactly for the updates that reached a higher colour.
    want = []
    r = ms[0]["level"]
    for u in ms[1:-2]:
        if order.index(u["reached"]) > order.index(r):
            want.append(u["reached"]); r = u["reached"]
    got = [p["reached"] for p in pages.get(i, [])]
    if got != want:
        bad.append("alert %d: paged again for %s, expected %s" % (i, got, want))
    repaged += len(got)
    peak, = con.execute("SELECT coalesce(peak, value) FROM alerts WHERE id = ?", (i,)).fetchone()
    if abs(peak - last["value"]) > 1e-6:
        bad.append("alert %d: database peak %g, last message %g" % (i, peak, last["value"]))
    n, = con.execute("SELECT count(*) FROM alert_journal WHERE alert = ? AND event = 'updated'",
                     (i,)).fetchone()
    if n != len(ms) - 3:
        bad.append("alert %d: %d updates journalled, %d sent" % (i, n, len(ms) - 3))
blue = [i for i, ms in alerts.items() if ms and ms[0] and ms[0]["rule"] == "flood-watch"]
if len(blue) != 3:
    bad.append("%d blue alerts, want one per sensor" % len(blue))
for i in blue:  # every curve rises by at least 140 mm above the blue line
    if not any(m and m["state"] == "updated" for m in alerts[i]):
        bad.append("blue alert %d was never updated as the water rose" % i)
if not repaged:
    bad.append("nobody was paged again for a higher colour")
for b in bad:
    print("  " + b)
print("ok: %d alerts, %d updates, %d paged again for a higher colour" % (len(alerts), updates, repaged))
sys.exit(1 if bad else 0)
PY
[ -z "$retained" ] || fail "alerts still retained after their all-clear: $retained"
pass "updates as the water rose (seed $SEED) keep the rules; nothing retained once cleared"
lw_validate_captured "$WORK/all.mqtt"
