# SPDX-License-Identifier: Apache-2.0
"""Seeded generator of one invariant-checker scenario: an estate, its storm, a fault schedule and the ground truth.

Everything here is a pure function of the seed: the same seed gives the same files and the same
planned schedule. The ground truth is computed from the traces with a small reference evaluator of
each statistic (docs/RULES.md), with a margin around every threshold so that only clear-cut cases
become expectations: MUST (the alert has to be raised, at this level, by this virtual time),
MUST_NOT (it must never be raised); anything in between is left free (MAY).
"""
import math
import random

START_S = 1784052000  # 2026-07-15T02:00:00+08:00, virtual time 0 of the storm
HISTORY_S = 5 * 86400  # battery history played before the storm (days_left needs half its 7 d window
# spanned by the centres of its averaged buckets, docs/RULES.md)
HISTORY_STEP = 300
INTERVAL = 30  # seconds between reports during the storm
JITTER = 3  # seconds of random delay of each report
SF = 7
MARGIN = 0.15  # relative margin around thresholds for MUST / MUST_NOT

# The shipped rules (config/lorawatch.conf) as the evaluator needs them.
RULES = {
    "flood-watch": dict(metric="water_mm", stat="mean", window=300, thr=76, clear=40, level="blue",
                        kinds={"water", "multi"}, except_tags={"basement"}, persistence=0),
    "flood-street": dict(metric="water_mm", stat="value", thr=150, clear=100, level="orange",
                         kinds={"water", "multi"}, except_tags={"basement"}, persistence=300),
    "flood-basement": dict(metric="water_mm", stat="value", thr=50, clear=20, level="red",
                           kinds={"water", "multi"}, tags={"basement"}, persistence=120),
    "flood-rising": dict(metric="water_mm", stat="rise", window=600, thr=5, clear=1, level="yellow",
                         kinds={"water", "multi"}, except_tags={"basement"}, persistence=0),
    "fire-smoke": dict(metric="smoke", stat="value", thr=1, clear=0, level="orange",
                       kinds={"smoke", "multi"}, persistence=0, coincidence=60),
    "gas-low": dict(metric="gas_lel", stat="value", thr=20, clear=10, level="orange",
                    kinds={"gas", "multi"}, persistence=30),
    "gas-high": dict(metric="gas_lel", stat="value", thr=50, clear=25, level="red",
                     kinds={"gas", "multi"}, persistence=0),
    "co-twa": dict(metric="co_ppm", stat="twa", window=3600, exponent=1.75, thr=40, clear=25,
                   level="red", kinds={"co", "multi"}, persistence=0),
    "battery-low": dict(metric="battery_mv", stat="value", below=True, thr=3300, clear=3400,
                        level="blue", kinds=None, persistence=3600, margin=60),
    "battery-warn": dict(metric="battery_mv", stat="days_left", below=True, window=7 * 86400,
                         floor=3000, thr=30, clear=45, level="blue", kinds=None, persistence=0),
    "battery-fault": dict(metric="battery_mv", stat="days_left", below=True, window=7 * 86400,
                          floor=3000, thr=7, clear=10, level="yellow", kinds=None, persistence=0),
    "silence-fire": dict(type="silence", timeout=200, level="yellow", kinds={"smoke", "gas", "co", "multi"}),
    "silence-water": dict(type="silence", timeout=600, level="blue", kinds={"water"}),
    "tamper": dict(type="flag", bit=2, level="yellow", kinds=None),
    "sensor-fault": dict(type="flag", bit=1, level="yellow", kinds=None),
}
RELAY_SILENCE = 300  # [mesh] relay_silence default
SITE = "inv"


def applies(rule, node):
    r = RULES[rule]
    if r.get("kinds") is not None and node["kind"] not in r["kinds"]:
        return False
    tags = set(node.get("tags", []))
    if r.get("tags") and not r["tags"] <= tags:
        return False
    if r.get("except_tags") and r["except_tags"] & tags:
        return False
    if r.get("type") is None and r["metric"] not in node["traces"]:
        return False
    return True


def at(points, t, step=False):
    """Value of a trace [(t, v), ...] at time t (linear, or a step)."""
    if t <= points[0][0]:
        return points[0][1]
    for (t0, v0), (t1, v1) in zip(points, points[1:]):
        if t0 <= t < t1:
            return v0 if step else v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return points[-1][1]


def lsq_slope(xs, ys):
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    if den == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den


def statistic(rule, samples, i):
    """The rule's statistic after reading i of samples [(t, v), ...]; None when undefined."""
    r = RULES[rule]
    t, v = samples[i]
    if r["stat"] == "value":
        return v
    if r["stat"] == "mean":
        win = [s for s in samples[: i + 1] if s[0] > t - r["window"]]
        return sum(s[1] for s in win) / len(win)
    if r["stat"] == "rise":
        win = [s for s in samples[: i + 1] if s[0] > t - r["window"]]
        if win[-1][0] - win[0][0] < r["window"] / 4:  # the daemon wants a quarter window
            return None
        sl = lsq_slope([s[0] / 60.0 for s in win], [s[1] for s in win])
        return sl
    if r["stat"] == "days_left":
        win = [s for s in samples[: i + 1] if s[0] > t - r["window"]]
        # The daemon averages the window in 12 buckets and measures the span between their
        # centres: about one bucket less than the readings' own span.
        if win[-1][0] - win[0][0] < r["window"] / 2 + r["window"] / 12:
            return None
        sl = lsq_slope([s[0] / 86400.0 for s in win], [s[1] for s in win])
        if sl is None or sl >= 0:
            return 36500
        return max(0.0, (v - r["floor"]) / -sl)
    raise ValueError(r["stat"])


def twa_series(rule, samples):
    r = RULES[rule]
    out, e, prev = [], 0.0, None
    p = r["exponent"]
    for t, v in samples:
        if prev is not None:
            a = math.exp(-(t - prev) / r["window"])
            e = e * a + (v ** p) * (1 - a)
        prev = t
        out.append(e ** (1.0 / p))
    return out


def classify(rule, samples):
    """(kind, first_t): MUST with the virtual time by which the raise is due, MUST_NOT, or MAY."""
    r = RULES[rule]
    below = r.get("below", False)
    if r["stat"] == "twa":
        stats = twa_series(rule, samples)
    else:
        stats = [statistic(rule, samples, i) for i in range(len(samples))]
    m = r.get("margin", r["thr"] * MARGIN)
    hi = r["thr"] - m if below else r["thr"] + m
    lo = r["thr"] + m if below else r["thr"] - m
    if r["metric"] == "smoke":
        hi = lo = 1
        strong = [s is not None and s >= 1 for s in stats]
        weak = strong
    elif below:
        strong = [s is not None and s <= hi for s in stats]
        weak = [s is not None and s <= lo for s in stats]
    else:
        strong = [s is not None and s >= hi for s in stats]
        weak = [s is not None and s >= lo for s in stats]
    if not any(weak):
        return ("MUST_NOT", None)
    hold = r["persistence"] + 3 * INTERVAL
    for i, ok in enumerate(strong):
        if not ok:
            continue
        t0 = samples[i][0]
        span = [s for j, s in enumerate(strong) if t0 <= samples[j][0] <= t0 + hold]
        if samples[-1][0] >= t0 + hold and all(span):
            return ("MUST", t0 + r["persistence"] + INTERVAL)
    return ("MAY", None)


def fmt_trace(points):
    """Trace points as VALUE@TIMEs, wrapped on indented continuation lines."""
    words = ["%s@%ds" % (("%g" % v), t) for t, v in points]
    lines, cur = [], ""
    for w in words:
        if len(cur) + len(w) + 1 > 150:
            lines.append(cur)
            cur = "   "
        cur += " " + w
    lines.append(cur)
    return "\n".join(lines)


class Gen:
    def __init__(self, seed):
        self.seed = seed
        self.rng = random.Random(seed)
        self.nodes = []
        self.addr = 0x0100

    def node(self, name, kind, building, grid, tags=(), **kw):
        self.addr += 1
        n = dict(name=name, kind=kind, building=str(building), grid=str(grid), tags=list(tags),
                 address=self.addr, eui="70B3D57ED0%06X" % self.addr,
                 key="%08X%08X%08X%08X" % tuple(self.rng.getrandbits(32) | 1 for _ in range(4)),
                 traces={}, offset=self.rng.randint(1, INTERVAL - 1), links="gateway:%d" % self.rng.randint(3, 9),
                 fail_at=None, relay=False)
        n.update(kw)
        self.nodes.append(n)
        return n

    def water(self, dur, shape, depth, offset=0):
        """Water depth trace (points at every report) and a note of its shape."""
        rng = self.rng
        t0 = rng.randint(30, 150)
        pts = []
        if shape == "dry":
            for t in range(0, dur + 1, INTERVAL):
                pts.append((t, rng.choice([0, 2, 4, 6])))
            return pts
        if shape == "jump":  # water pouring down a ramp: 0 to 300 mm within a minute, then flat
            # Between two reports (every 60 s, offset `offset`), as in mesh-chain.ini's garage.
            t0 = offset + 60 * rng.randint(1, 3) + JITTER + 1
            return [(0, 0), (t0, 0), (t0 + 50, depth), (dur, depth)]
        rate = rng.randint(30, 80)  # mm/min, well under max_rise and every step under spike
        t = 0
        recede = rng.random() < 0.4
        v = 0
        wob = 1
        while t <= dur:
            if t < t0:
                v = 0
            elif v < depth and not (recede and t > dur - 200):
                v = min(depth, v + rate * INTERVAL / 60.0)
            elif recede and t > dur - 200:
                v = max(0, v - 60)
            pv = v
            if v >= depth and not (recede and t > dur - 200):
                wob = -wob
                pv = depth + 5 * wob  # never flat: a flat line after a rise is a plateau to the filter
            pts.append((t, int(round(pv))))
            t += INTERVAL
        return pts


def generate(seed, fault_mix=None):
    """The scenario of seed: a dict holding everything the runner and the oracle need."""
    g = Gen(seed)
    rng = g.rng
    dur = rng.choice([720, 780, 840])  # 12-14 virtual minutes
    accel = 70
    buildings = rng.sample(range(1, 20), 3)
    grids = {b: rng.randint(1, 6) for b in buildings}
    b1, b2, b3 = buildings

    street_shape = rng.choice(["ramp", "ramp", "jump", "dry"])
    street = g.node("street-%d" % b1, "water", b1, grids[b1], ("low-lying", "street"))
    street["traces"]["water_mm"] = g.water(dur, street_shape, rng.randint(180, 320) if street_shape != "jump" else rng.randint(260, 320), street["offset"])
    street["traces"]["battery_mv"] = [(0, 3600)]
    if street_shape == "jump":
        street["interval"] = 60  # as the garage node of config/scenarios/mesh-chain.ini
    base_shape = rng.choice(["ramp", "ramp", "dry"])
    base = g.node("garage-%d" % b2, "water", b2, grids[b2], ("low-lying", "basement"))
    base["traces"]["water_mm"] = g.water(dur, base_shape, rng.randint(90, 160))
    base["traces"]["battery_mv"] = [(0, 3580)]

    # Two smoke detectors of one building: one or both go into alarm.
    both = rng.random() < 0.7
    ts = rng.randint(60, 240)
    s1 = g.node("smoke-%d-a" % b3, "smoke", b3, grids[b3], ("stairwell",))
    s2 = g.node("smoke-%d-b" % b3, "smoke", b3, grids[b3], ("stairwell",))
    s1["traces"]["smoke"] = [(0, 0), (ts, 1)]
    s2["traces"]["smoke"] = [(0, 0), (ts + rng.randint(15, 40), 1)] if both else [(0, 0)]
    for s in (s1, s2):
        s["traces"]["battery_mv"] = [(0, 3500)]
    if rng.random() < 0.4:  # the fire is out again
        tc = ts + rng.randint(240, 360)
        s1["traces"]["smoke"].append((tc, 0))
        if both:
            s2["traces"]["smoke"].append((tc + 10, 0))

    gas = g.node("kitchen-%d" % b1, "gas", b1, grids[b1])
    tg = rng.randint(60, 300)
    peak = rng.choice([8, 30, 65])
    gas["traces"]["gas_lel"] = [(0, 1), (tg, 1), (tg + INTERVAL, peak)]
    gas["traces"]["battery_mv"] = [(0, 3550)]
    co = g.node("boiler-%d" % b2, "co", b2, grids[b2])
    tco = rng.randint(60, 240)
    co["traces"]["co_ppm"] = [(0, 0), (tco, 0), (tco + INTERVAL, rng.choice([30, 300, 300]))]
    co["traces"]["battery_mv"] = [(0, 3550)]

    # A detector that reports tamper or a fault, and one that goes dark (silence).
    fl = g.node("hall-%d" % b2, "smoke", b2, grids[b2])
    fl["traces"]["smoke"] = [(0, 0)]
    fl["traces"]["battery_mv"] = [(0, 3500)]
    bit = rng.choice([1, 2, 3])
    fl["traces"]["flags"] = [(0, 0), (rng.randint(60, 400), bit)]
    dark = g.node("attic-%d" % b3, "smoke", b3, grids[b3])
    dark["traces"]["smoke"] = [(0, 0)]
    dark["traces"]["battery_mv"] = [(0, 3500)]
    dark["fail_at"] = rng.randint(60, dur - 200 - 3 * INTERVAL - 60)

    # A relay with a sensor behind it; the relay loses power.
    relay = g.node("relay-%d" % b1, "water", b1, grids[b1], ("stairwell",), relay=True)
    relay["traces"]["water_mm"] = [(0, 0)]
    relay["traces"]["battery_mv"] = [(0, 3600)]
    relay["fail_at"] = rng.randint(60, dur - RELAY_SILENCE - 120)
    behind = g.node("cellar-%d" % b1, "water", b1, grids[b1], ("basement",), links="%s:5" % relay["name"])
    behind["traces"]["water_mm"] = [(0, 3)]
    behind["traces"]["battery_mv"] = [(0, 3600)]

    # A pump-room sensor whose battery has been falling for days (history phase).
    pump = g.node("pump-%d" % b3, "water", b3, grids[b3], ("basement",))
    pump["traces"]["water_mm"] = [(0, 0)]
    v0, v1 = rng.choice([(3600, 3150), (3620, 3400), (3600, 3580)])
    slope = (v1 - v0) / HISTORY_S
    pump["history"] = [(0, v0), (HISTORY_S, v1)]
    pump["traces"]["battery_mv"] = [(0, v1), (dur, int(v1 + slope * dur))]
    pump["fcnt_start"] = HISTORY_S // HISTORY_STEP + 10

    # The roster: tier 1 workers for some grids, a duty room, a street office.
    roster = []
    covered = set()
    for gsec in sorted(set(grids.values())):
        if rng.random() < 0.7:
            roster.append(dict(id="worker-%d" % gsec, tier=1, grids=[str(gsec)]))
            covered.add(str(gsec))
    if rng.random() < 0.5:
        roster.append(dict(id="patrol", tier=1, grids=["*"]))
        covered |= {"*"}
    roster.append(dict(id="room", tier=2, grids=[]))
    roster.append(dict(id="office", tier=3, grids=[]))

    expect = ground_truth(g.nodes, dur)
    # The filter may hold a jump followed by a flat line back for its plateau_time (3 min), never
    # for good (issue 15, item 7); the rate of rise of a jump is the filter's to judge.
    if street_shape == "jump":
        for e in expect:
            if e["node"] == street["name"] and e["rule"] == "flood-rising":
                e["kind"] = "MAY"
            elif e["node"] == street["name"] and e["kind"] == "MUST" and e["rule"].startswith("flood"):
                e["due"] += 180
    events = plan_events(rng, dur, accel, fault_mix, buildings, [street, base])
    return dict(seed=seed, site=SITE, duration=dur, acceleration=accel, start_s=START_S,
                nodes=g.nodes, roster=roster, events=events, expect=expect,
                shapes=dict(street=street_shape, basement=base_shape, smoke_both=both))


def plan_events(rng, dur, accel, mix, buildings, water_nodes):
    """Fault schedule in wall seconds after the storm started (virtual time / acceleration)."""
    mix = mix or {}
    wall = dur / accel
    ev = []

    def when(a=0.08, b=0.85):
        return round(rng.uniform(a * wall, b * wall), 2)

    # At least one kill -9, a restart after a short outage (virtual downtime stays under 2 min).
    for _ in range(rng.choice([1, 1, 2])):
        ev.append(dict(t=when(), op="daemon_kill9", down=round(rng.uniform(0.1, 1.2), 2)))
    if rng.random() < 0.5:
        ev.append(dict(t=when(), op="daemon_term", down=round(rng.uniform(0.1, 0.8), 2)))
    if rng.random() < 0.5:
        ev.append(dict(t=when(), op="daemon_hup"))
    if mix.get("broker_kill", rng.random() < 0.4):
        ev.append(dict(t=when(0.2, 0.7), op="broker_kill9", down=round(rng.uniform(0.3, 1.5), 2),
                       sub_offline=rng.random() < 0.6))
    if rng.random() < 0.3:  # a longer stop: the daemon must be back soon after the broker
        ev.append(dict(t=when(0.1, 0.6), op="broker_term", down=round(rng.uniform(2.5, 6.0), 2)))
    if mix.get("disk_full", rng.random() < 0.35):
        ev.append(dict(t=when(0.1, 0.6), op="disk_full", length=round(rng.uniform(1.5, 3.5), 2)))
    if rng.random() < 0.35:
        ev.append(dict(t=when(0.55, 0.85), op="calibrate", node=rng.choice(water_nodes)["name"]))
    for _ in range(rng.randint(1, 3)):
        ev.append(dict(t=when(0.2, 0.9), op="ack"))
    if rng.random() < 0.3:
        ev.append(dict(t=when(0.02, 0.3), op="silence", building=str(rng.choice(buildings)),
                       hazard="flood", length=rng.choice([3, 4, 5])))
    ev.sort(key=lambda e: e["t"])
    return ev


def samples_of(node, metric, dur):
    pts = node["traces"].get(metric)
    if pts is None:
        return None
    step = metric in ("smoke", "flags")
    end = min(dur, node["fail_at"]) if node["fail_at"] else dur
    out = []
    t = node["offset"]
    step_s = node.get("interval", INTERVAL)
    if metric == "battery_mv" and node.get("history"):
        out = [(t0 - HISTORY_S, at(node["history"], t0)) for t0 in range(0, HISTORY_S, HISTORY_STEP)]
    while t < end:
        out.append((t, at(pts, t, step)))
        t += step_s
    return out


def ground_truth(nodes, dur):
    """Expectations: rule, node, kind MUST/MUST_NOT, level, due (virtual s after the storm start)."""
    exp = []
    fire_first = {}
    for n in nodes:
        for rule, r in RULES.items():
            if not applies(rule, n):
                continue
            e = dict(rule=rule, node=n["name"], level=r["level"])
            if r.get("type") == "silence":
                if n["fail_at"] and not n["relay"]:
                    last = max(t for t in range(n["offset"], n["fail_at"], INTERVAL))
                    due = last + r["timeout"] + INTERVAL
                    e.update(kind="MUST" if due + 60 < dur else "MAY", due=due)
                elif n["links"].startswith("gateway") and not n["relay"]:
                    e.update(kind="MUST_NOT")
                else:
                    e.update(kind="MAY")
                exp.append(e)
                continue
            if r.get("type") == "flag":
                fl = n["traces"].get("flags")
                hit = fl and any(int(v) & r["bit"] for _, v in fl)
                if hit:
                    t_on = min(t for t, v in fl if int(v) & r["bit"])
                    e.update(kind="MUST", due=t_on + 2 * INTERVAL)
                else:
                    e.update(kind="MUST_NOT")
                exp.append(e)
                continue
            s = samples_of(n, r["metric"], dur)
            kind, due = classify(rule, s)
            e.update(kind=kind, due=due)
            if rule == "fire-smoke":
                e["group"] = "building-" + n["building"]
            if rule == "fire-smoke" and kind == "MUST":
                ends = [t for t, v in n["traces"]["smoke"] if t > due - INTERVAL and v == 0]
                fire_first.setdefault(n["building"], []).append((due, e, min(ends) if ends else dur + 1e9))
            exp.append(e)
        if n["relay"]:
            exp.append(dict(rule="relay-silent", node=n["name"], level=None, kind="MUST",
                            due=n["fail_at"] + RELAY_SILENCE + 2 * INTERVAL))
    # Coincidence: the second detector of a building within 60 s of the first is confirmed (red).
    for b, lst in fire_first.items():
        lst.sort(key=lambda x: x[0])
        for (d0, e0, c0), (d1, e1, c1) in zip(lst, lst[1:]):
            # Confirmed while the first detector is still in alarm, or was within 60 s.
            e1["level"] = "red" if d1 + INTERVAL < c0 else None
    # The radio is never silent long enough for the radio-fault rule.
    exp.append(dict(rule="radio-fault", node=None, level="orange", kind="MUST_NOT"))
    return exp


def scenario_ini(sc):
    """The storm as a lorawatch-sim mesh scenario (every node linked; fail_at makes silence)."""
    out = ["[scenario]", "name = invariant-%d" % sc["seed"], "start = @%d" % sc["start_s"],
           "duration = %ds" % sc["duration"], "acceleration = %d" % sc["acceleration"],
           "network_id = 0x4C57", "tick = 2s", "seed = %d" % (sc["seed"] % 1000000 + 1),
           # SF7 and jitter: the shared channel stays far from saturation, so the storm is not
           # decided by collisions that repeat every period between the same two nodes.
           "spreading_factor = %d" % SF, ""]
    for n in sc["nodes"]:
        out += node_ini(n)
        out.append("interval = %ds" % n.get("interval", INTERVAL))
        out.append("offset = %ds" % n["offset"])
        out.append("jitter = %ds" % JITTER)
        if n.get("fcnt_start"):
            out.append("fcnt_start = %d" % n["fcnt_start"])
        out.append("links = %s" % n["links"])
        if n["relay"]:
            out += ["relay = yes", "relay_rank = 0"]
        if n["fail_at"]:
            out.append("fail_at = %ds" % n["fail_at"])
        for m, pts in n["traces"].items():
            out.append("%s =%s" % (m, fmt_trace(pts)))
        out.append("")
    return "\n".join(out)


def node_ini(n):
    return ["[node:%s]" % n["name"], "address = 0x%04X" % n["address"], "eui = %s" % n["eui"],
            "key = %s" % n["key"], "kind = %s" % n["kind"], "label = %s %s" % (n["kind"], n["name"]),
            "building = %s" % n["building"], "grid = %s" % n["grid"]] + (
        ["tags = %s" % ",".join(n["tags"])] if n["tags"] else [])


def history_ini(sc):
    """Days of battery readings before the storm (fast, no mesh), so days_left has its window."""
    out = ["[scenario]", "name = invariant-%d-history" % sc["seed"],
           "start = @%d" % (sc["start_s"] - HISTORY_S), "duration = %ds" % (HISTORY_S - 1),
           "acceleration = 0", "network_id = 0x4C57", "tick = 60s", "spreading_factor = %d" % SF, ""]
    for n in sc["nodes"]:
        if not n.get("history"):
            continue
        out += node_ini(n)
        out += ["interval = %ds" % HISTORY_STEP, "offset = 0s", "water_mm = 0",
                "battery_mv =%s" % fmt_trace(n["history"]), ""]
    return "\n".join(out)
