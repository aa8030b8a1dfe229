# SPDX-License-Identifier: Apache-2.0
"""The oracle: checks one finished run against the ground truth and the documented invariants.

Each violation has a kind (named so a check can be switched off with LW_INV_SKIP=kind,kind while
the behaviour it checks is undecided) and a one-line detail. Kinds:
  schema            a message fails its JSON Schema or disagrees with its topic (docs/schemas)
  missing-alert     an expected alert was never raised
  late-alert        raised, but after its deadline (virtual time, outages added)
  wrong-level       raised at another level than the rules say
  unexpected-alert  an alert the storm cannot justify (the trace never came near its threshold)
  false-clear       cleared while the water really stood above the clear level (docs/RULES.md)
  not-paged         a raised alert never reached the roster's people for its tier (docs/MQTT.md)
  wrong-person      a tier 1 message to a worker who does not cover the node's grid
  no-escalation     unacknowledged and open past escalate_after, the next tier not told in time
  escalated-after-ack  escalated although acknowledged
  raise-facts-changed  level, value, statistic, incident or threshold of one alert's raise differ
  lost              journalled transition (alert raised/cleared, duty notified/escalated) never delivered
  invented          delivered but not in the journal
  retained-mismatch retained alert/<id> differs from the alerts table
  unexpected-closed an alert closed although no rule or node was removed
  integrity         PRAGMA integrity_check is not ok
  outbox-stuck      messages still waiting in the outbox 20 s after the storm ended
  daemon-died       lorawatchd exited without being killed, or not with 0 on SIGTERM
  slow-reconnect    the daemon came back more than RECONNECT_S after the broker
  disk-full-unavailable  no method to make a full disk (a failure in CI)
  harness           the harness itself could not do its job (a failure too)
"""
import collections
import datetime
import importlib.util
import json
import os
import sqlite3

from . import gen
from .runner import ESCALATE_S

RECONNECT_S = 3.0
SLACK_S = 2.5  # wall seconds for a loaded 2-core machine on top of every timer


def load_validator(src):
    """The validator of tests/integration/validate_mqtt.py (the tree's own, so its topics and
    schemas are the ones checked) and its validators."""
    path = os.path.join(src, "tests", "integration", "validate_mqtt.py")
    spec = importlib.util.spec_from_file_location("validate_mqtt", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if hasattr(mod, "load_validators"):
        return mod, mod.load_validators(os.path.join(src, "docs", "schemas"))
    import jsonschema
    vals = {}
    for kind in ("alert", "gateway-status", "node-state", "reply", "command"):
        with open(os.path.join(src, "docs", "schemas", kind + ".schema.json"), encoding="utf-8") as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        vals[kind] = cls(schema)
    return mod, vals


def check_message(mod, vals, topic, payload):
    """(kind, problems) of one message, with the validator's own rules where it has them."""
    if hasattr(mod, "check_line"):
        kind, _, _, problems = mod.check_line(vals, topic + " " + payload)
        return kind, problems
    kind = m = None
    for rx, k in mod.TOPICS:
        m = rx.match(topic)
        if m:
            kind = k
            break
    if kind is None:
        return None, ["topic matches no part of the lorawatch MQTT contract"]
    if payload in ("", "(null)"):
        return kind, [] if kind == "alert" else ["empty payload"]
    try:
        msg = json.loads(payload)
    except ValueError as e:
        return kind, ["payload is not JSON: %s" % e]
    return kind, [mod.describe(e) for e in vals[kind].iter_errors(msg)] + mod.topic_checks(kind, m, msg)


class Oracle:
    def __init__(self, run, src):
        self.r, self.src = run, src
        self.sc = run.sc
        self.v = []
        self.skip = set(filter(None, os.environ.get("LW_INV_SKIP", "").split(",")))

    def bad(self, kind, detail):
        if kind not in self.skip:
            self.v.append(dict(kind=kind, detail=detail))

    def messages(self):
        out = []
        path = os.path.join(self.r.work, "sub.log")
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                parts = line.split(" ", 2)
                if len(parts) < 3:
                    continue
                try:
                    ts = float(parts[0])
                except ValueError:
                    continue
                out.append((ts, parts[1], parts[2]))
        return out

    def check(self):
        r, sc = self.r, self.sc
        site = sc["site"]
        for n in r.notes:
            self.bad("harness", n)
        for d in r.died:
            self.bad("daemon-died", "lorawatchd exited (%s) at %.1f s%s" % (d["rc"], d["t"], " on " + d["on"] if d.get("on") else ""))
        if any(e["op"] == "disk_full" for e in r.events) and not r.disk:
            msg = "no way to fill the state directory here (unshare -Urm + tmpfs, LD_PRELOAD shim)"
            if os.environ.get("CI") == "true":
                self.bad("disk-full-unavailable", msg)
        for x in r.trace:
            if x["op"] == "drain" and not x.get("outbox_empty"):
                self.bad("outbox-stuck", "the outbox still held messages 20 s after the storm")
        for s in r.reconnects:
            if s is None or s > RECONNECT_S:
                self.bad("slow-reconnect", "daemon back %s s after the broker" % s)

        msgs = self.messages()
        mod, vals = load_validator(self.src)
        parsed = []
        schema_bad = collections.Counter()
        emptied = set()
        examples = {}
        for ts, topic, payload in msgs + [(None, t, p) for t, _, p in
                                          (l.partition(" ") for l in r.retained.splitlines() if l)]:
            kind, errs = check_message(mod, vals, topic, payload)
            try:
                msg = json.loads(payload) if payload not in ("", "(null)") else None
            except ValueError:
                msg = None
            if errs:
                key = "%s %s" % (topic.split("/")[2], msg.get("rule", "") if isinstance(msg, dict) else "")
                schema_bad[key] += 1
                examples.setdefault(key, errs[0])
            if msg is None:
                if ts is not None and payload in ("", "(null)") and "/alert/" in topic:
                    # docs/MQTT.md: an alert that ended is removed by emptying its topic.
                    emptied.add(int(topic.rsplit("/", 1)[1]))
                continue
            if ts is not None:
                parsed.append((ts, topic, msg))
        for key, n in schema_bad.items():
            self.bad("schema", "%d %s messages invalid, e.g. %s" % (n, key, examples.get(key, "")))

        pre = "lorawatch/%s/" % site
        alert_msgs = [(ts, t, m) for ts, t, m in parsed if t.startswith(pre + "alert/") and isinstance(m, dict)]
        duty_msgs = [(ts, t, m) for ts, t, m in parsed if t.startswith(pre + "duty/") and isinstance(m, dict)]
        replies = [(ts, t, m) for ts, t, m in parsed if t.startswith(pre + "reply/")]

        con = sqlite3.connect("file:%s?mode=ro" % r.db, uri=True, timeout=5)
        ic = con.execute("PRAGMA integrity_check").fetchall()
        if ic != [("ok",)]:
            self.bad("integrity", str(ic)[:200])
        nodes = {a: n for a, n in con.execute("SELECT address, name FROM nodes")}
        db_alerts = {}
        for row in con.execute("SELECT id, rule, level, node, state, raised_ms, test, acked_ms FROM alerts"):
            db_alerts[row[0]] = dict(id=row[0], rule=row[1], level=row[2], node=nodes.get(row[3]),
                                     state=row[4], raised_ms=row[5], test=row[6], acked_ms=row[7])
        journal = con.execute("SELECT alert, event, tier, ts_ms FROM alert_journal").fetchall()
        # Alerts the gateway chose not to page (a node silent in a flooding building, docs/MQTT.md).
        self.withheld = {a for (a,) in con.execute(
            "SELECT alert FROM alert_journal WHERE event = 'silenced' AND actor = 'gateway'")}
        # Silences as stored (wall clock): a reply the subscriber missed still held paging.
        self.db_silences = [(b or "", c / 1000.0, min(u, l if l else u) / 1000.0) for b, c, u, l in con.execute(
            "SELECT building, created_ms, until_ms, lifted_ms FROM silences WHERE hazard = 'flood' OR hazard IS NULL")]
        con.close()
        tests = {i for i, a in db_alerts.items() if a["test"]}

        # ---- expected alerts, from MQTT and the database ----
        raised = {}  # (rule, node) -> list of (time_ms, level, id)
        for ts, t, m in alert_msgs:
            if m.get("state") == "raised" and not m.get("test"):
                raised.setdefault((m.get("rule"), (m.get("node") or {}).get("name")), []).append(
                    (m.get("time_ms", 0), m.get("level"), m.get("id")))
        for a in db_alerts.values():
            if not a["test"]:
                raised.setdefault((a["rule"], a["node"]), []).append((a["raised_ms"], a["level"], a["id"]))
        start_ms = sc["start_s"] * 1000
        bynode = {n["name"]: n for n in sc["nodes"]}
        # Coincidence: which detector is first is decided by the radio and the restarts, so the
        # levels of a group follow the order in which its alerts were really raised.
        groups = collections.defaultdict(list)
        for e in sc["expect"]:
            if e.get("group") and e["kind"] == "MUST":
                groups[e["group"]].append(e)
        for lst in groups.values():
            levels = [e["level"] for e in sorted(lst, key=lambda e: e["due"])]
            order = sorted(lst, key=lambda e: min(raised.get((e["rule"], e["node"]), [(float("inf"),)]))[0])
            for e, lvl in zip(order, levels):
                e["level"] = lvl
        calibrated = {}
        t_storm = next((x["t"] for x in r.trace if x["op"] == "storm_start"), 0)
        for x in r.trace:
            if x["op"] == "calibrate" and x.get("done"):
                calibrated[x["node"]] = self.virtual_at(r.t0_wall + x["t"], parsed) - sc["start_s"]
        restarts_v = [self.virtual_at(r.t0_wall + x["t"] - x.get("down", 0), parsed) - sc["start_s"]
                      for x in r.trace if x["op"] in ("daemon_kill9", "daemon_term")]
        slack_v = 2 * gen.INTERVAL + 2 * r.virtual_down
        # Full-disk windows on the virtual clock: readings received then are shed, not stored, so
        # a restart after one cannot replay them into a rule's history (docs/RULES.md).
        full_v, since = [], None
        for x in r.trace:
            if x["op"] == "disk_full" and x.get("phase") == "full":
                since = self.virtual_at(r.t0_wall + x["t"], parsed) - sc["start_s"]
            elif x["op"] == "disk_full" and x.get("phase") == "released" and since is not None:
                full_v.append((since, self.virtual_at(r.t0_wall + x["t"], parsed) - sc["start_s"]))
                since = None
        for e in sc["expect"]:
            key = (e["rule"], e["node"])
            got = raised.get(key, [])
            if e["node"] is None:
                got = [g for k, v in raised.items() if k[0] == e["rule"] for g in v]
            if e["kind"] == "MUST_NOT" and e["rule"].startswith("silence"):
                # Nodes not yet heard while the battery history played are silent: that is right.
                got = [x for x in got if x[0] >= start_ms]
            if e["kind"] == "MUST_NOT" and got:
                self.bad("unexpected-alert", "%s on %s raised (alert %s) though the trace never came near it" %
                         (e["rule"], e["node"], got[0][2]))
            if e["kind"] != "MUST":
                continue
            due = e["due"]
            # Persistence timers and the history of mean, rise and twa live in memory: a restart
            # before the raise starts them again (docs/RULES.md). LW_INV_STRICT_RESTART=1 does not
            # grant that.
            rule = gen.RULES.get(e["rule"], {})
            need = rule.get("persistence", 0) + (rule.get("window", 0) / 4 if rule.get("stat") == "rise" else 0)
            if e["rule"] == "relay-silent":
                need = gen.RELAY_SILENCE
            skip = False
            if not os.environ.get("LW_INV_STRICT_RESTART"):
                for rv in restarts_v:
                    w = rule.get("window", 0) if rule.get("stat") in ("mean", "rise", "twa") else 0
                    if w and any(a < rv and b > rv - w for a, b in full_v):
                        need = max(need, w)  # its history lost the shed readings
                    if due - need - gen.INTERVAL <= rv <= due + slack_v:
                        due = max(due, rv + need + gen.INTERVAL)
                        node = bynode.get(e["node"])
                        if node is not None and rule.get("metric") and need > 0:
                            # Judged again on the readings after the restart alone.
                            after = [x for x in gen.samples_of(node, rule["metric"], sc["duration"]) if x[0] >= rv]
                            kind2, due2 = gen.classify(e["rule"], after) if len(after) > 1 else ("MAY", None)
                            if kind2 != "MUST":
                                skip = True
                            else:
                                due = max(due, due2)
            if skip:
                continue
            if e["node"] in calibrated and due + slack_v > calibrated[e["node"]]:
                continue  # the node's zero moved: its later alerts are no longer the trace's
            deadline = start_ms + (due + slack_v) * 1000
            if deadline > start_ms + sc["duration"] * 1000 and not got:
                continue  # outages pushed it past the end of the storm: not decidable
            if not got:
                self.bad("missing-alert", "%s on %s never raised (due %+d s virtual)" % (e["rule"], e["node"], e["due"]))
                continue
            first = min(got)
            if first[0] > deadline:
                self.bad("late-alert", "%s on %s raised at %+.0f s, due by %+.0f s" %
                         (e["rule"], e["node"], (first[0] - start_ms) / 1000, (deadline - start_ms) / 1000))
            if e["level"] and first[1] != e["level"]:
                self.bad("wrong-level", "%s on %s (alert %s) raised %s, expected %s" %
                         (e["rule"], e["node"], first[2], first[1], e["level"]))

        # ---- false all-clear: the ground truth at the clear's time ----
        for ts, t, m in alert_msgs:
            if m.get("state") != "cleared" or m.get("metric") != "water_mm":
                continue
            rule = gen.RULES.get(m.get("rule"))
            node = bynode.get((m.get("node") or {}).get("name"))
            if not rule or not node or rule.get("stat") not in ("value", "mean"):
                continue
            tv = (m.get("time_ms", 0) - start_ms) / 1000
            truth = gen.at(node["traces"]["water_mm"], tv)
            if truth > rule["clear"] + 10:
                self.bad("false-clear", "alert %s (%s on %s) cleared at %+.0f s with value %s while the water stood at %.0f mm (clear level %s)" %
                         (m.get("id"), m.get("rule"), node["name"], tv, m.get("value"), truth, rule["clear"]))

        # ---- raise facts never change ----
        facts = collections.defaultdict(set)
        keep = collections.defaultdict(set)
        for ts, t, m in alert_msgs + duty_msgs:
            if m.get("id") in tests or m.get("test"):
                continue
            if m.get("state") == "raised":
                facts[m.get("id")].add(json.dumps([m.get("level"), m.get("value"), m.get("statistic"),
                                                   m.get("incident"), m.get("threshold")]))
            keep[m.get("id")].add(json.dumps([m.get("level"), m.get("statistic"), m.get("incident")]))
        for i, s in sorted(facts.items(), key=lambda x: str(x[0])):
            if len(s) > 1:
                self.bad("raise-facts-changed", "alert %s raised as [level, value, statistic, incident, threshold] %s" %
                         (i, " / ".join(sorted(s))))
        for i, s in sorted(keep.items(), key=lambda x: str(x[0])):
            if len(s) > 1 and len(facts.get(i, ())) <= 1:
                self.bad("raise-facts-changed", "alert %s: [level, statistic, incident] differ between its messages: %s" %
                         (i, " / ".join(sorted(s))))

        # ---- journal versus subscriber ----
        j_states = {(a, ev) for a, ev, tier, ts in journal if ev in ("raised", "cleared", "closed") and a not in tests}
        got_states = {(m.get("id"), m.get("state")) for ts, t, m in alert_msgs
                      if m.get("id") not in tests and m.get("state") != "updated"}
        # An empty alert/<id> follows every all-clear (docs/MQTT.md: retained is what is open); it
        # stands for the closure only of an alert closed at start-up, which has no full message.
        got_states |= {(i, "closed") for i in emptied if (i, "closed") in j_states}
        for a, ev in sorted(j_states - got_states):
            self.bad("lost", "journal: alert %s %s, never received on alert/%s" % (a, ev, a))
        for a, ev in sorted(got_states - j_states, key=str):
            self.bad("invented", "received alert %s %s, not in the journal" % (a, ev))
        j_duty = {(a, ev, tier) for a, ev, tier, ts in journal if ev in ("notified", "escalated") and tier}
        got_duty = set()
        for ts, t, m in duty_msgs:
            if "/duty/tier/" in t and (m.get("duty") or {}).get("kind") in ("notified", "escalated"):
                got_duty.add((m.get("id"), (m.get("duty") or {}).get("kind"), int(t.rsplit("/", 1)[1])))
        for a, ev, tier in sorted(j_duty - got_duty):
            self.bad("lost", "journal: alert %s %s to tier %s, never received on duty/tier/%s" % (a, ev, tier, tier))
        for a, ev, tier in sorted(got_duty - j_duty, key=str):
            self.bad("invented", "received %s of alert %s on duty/tier/%s, not in the journal" % (ev, a, tier))
        if any(ev == "closed" for a, ev in j_states):
            self.bad("unexpected-closed", "alerts closed though no rule or node was removed: %s" %
                     sorted(a for a, ev in j_states if ev == "closed"))

        # ---- retained state equals the database ----
        for line in r.retained.splitlines():
            topic, _, payload = line.partition(" ")
            if not payload:
                continue
            try:
                m = json.loads(payload)
                i = int(topic.rsplit("/", 1)[1])
            except ValueError:
                continue
            a = db_alerts.get(i)
            if a is None:
                self.bad("retained-mismatch", "retained alert/%s has no row in alerts" % i)
            elif ({"updated": "raised"}.get(m.get("state"), m.get("state")), m.get("level")) != (a["state"], a["level"]):
                self.bad("retained-mismatch", "alert/%s retained %s %s, database %s %s" %
                         (i, m.get("state"), m.get("level"), a["state"], a["level"]))
        ret_ids = {int(l.split(" ", 1)[0].rsplit("/", 1)[1]) for l in r.retained.splitlines() if l}
        for i, a in db_alerts.items():
            # A broker that lost its store may lose the retained copy of an alert long over; an
            # open alert's retained state must be there.
            if i not in ret_ids and not a["test"] and a["state"] == "raised":
                self.bad("retained-mismatch", "alert %s (%s %s) in the database, nothing retained" % (i, a["rule"], a["state"]))

        # ---- paging: the roster's people for the tier, escalation, acknowledgements ----
        self.check_paging(alert_msgs, duty_msgs, replies, db_alerts, journal, tests)
        return self.v

    def virtual_at(self, wall, parsed):
        """Virtual time (Unix s) at a wall time: the first node state received after it. The
        simulator's clock is not the wall clock times the acceleration: it waits for answers."""
        if not hasattr(self, "_vmap"):
            self._vmap = []
            for ts, t, m in parsed:
                if "/node/" in t and isinstance(m, dict) and m.get("time"):
                    try:
                        self._vmap.append((ts, datetime.datetime.fromisoformat(m["time"]).timestamp()))
                    except ValueError:
                        pass
            self._vmap.sort()
        # Between two node states the simulator ran at about its acceleration: a long gap (the
        # broker down, so nothing reached the subscriber) is bridged from the state before it
        # rather than jumping to the first one after.
        before = None
        for ts, v in self._vmap:
            if ts >= wall:
                if before is not None:
                    return min(v, before[1] + (wall - before[0]) * self.sc["acceleration"])
                return v
            before = (ts, v)
        return self.sc["start_s"] + self.sc["duration"]

    def people(self, grid, tier):
        out = []
        for p in self.sc["roster"]:
            if p["tier"] == tier and (tier != 1 or "*" in p["grids"] or grid in p["grids"]):
                out.append(p["id"])
        return out

    def check_paging(self, alert_msgs, duty_msgs, replies, db_alerts, journal, tests):
        r = self.r
        first_raise = {}
        cleared_at = {}
        grid = {}
        building = {}
        hazard = {}
        for ts, t, m in alert_msgs:
            i = m.get("id")
            if m.get("state") == "raised":
                first_raise.setdefault(i, ts)
            elif m.get("state") in ("cleared", "closed"):
                cleared_at.setdefault(i, ts)
            grid[i] = (m.get("place") or {}).get("grid", "")
            building[i] = (m.get("place") or {}).get("building", "")
            hazard[i] = m.get("hazard")
        by_person = collections.defaultdict(list)  # (id, user) -> [(ts, kind, tier)]
        by_alert = collections.defaultdict(list)
        for ts, t, m in duty_msgs:
            if "/duty/person/" not in t:
                continue
            d = m.get("duty") or {}
            user = t.rsplit("/", 1)[1]
            by_person[(m.get("id"), user)].append((ts, d.get("kind"), d.get("tier")))
            by_alert[m.get("id")].append((ts, d.get("kind"), d.get("tier"), user))
        ok_acks = {}
        for ts, t, m in replies:
            if isinstance(m, dict) and m.get("ok") and str(m.get("id", "")).startswith("ack-"):
                ok_acks[m.get("alert")] = ts
        sil = []
        for ts, t, m in replies:
            if isinstance(m, dict) and m.get("ok") and str(m.get("id", "")).startswith("sil-"):
                ev = next((e for e in r.trace if e["op"] == "silence" and e.get("rid") == m["id"]), None)
                if ev:
                    sil.append((ev["building"], ts, ts + ev["length"]))
        sil += [x for x in self.db_silences if not any(y[0] == x[0] and abs(y[1] - x[1]) < 2 for y in sil)]
        acked_db = {i for i, a in db_alerts.items() if a["acked_ms"]}
        end = r.t_end_wall if hasattr(r, "t_end_wall") else max([x[0] for x in alert_msgs + duty_msgs] or [0])
        downtime = r.down_wall + sum(e.get("down", 0) for e in r.trace if e["op"].startswith("broker"))
        # On a simulated medium the journal's times are virtual, so a restart gives an open alert's
        # tier its full escalate_after again (docs/MQTT.md): one more per restart while it waits.
        restarts_wall = [r.t0_wall + x["t"] for x in r.trace if x["op"] in ("daemon_kill9", "daemon_term")]
        for i, t_raise in first_raise.items():
            if i in tests or i in self.withheld:
                continue
            g = grid.get(i, "")
            tier1 = self.people(g, 1)
            first_tier = 1 if tier1 else 2
            want = tier1 or self.people(g, 2)
            silenced = [s for s in sil if s[0] == building.get(i) and hazard.get(i) == "flood"
                        and s[1] < t_raise <= s[2]]
            t_clear = cleared_at.get(i)
            if silenced and t_clear and t_clear <= max(s[2] for s in silenced) + 1:
                continue  # over before anyone could be paged
            t_acked = ok_acks.get(i)
            if silenced and t_acked and t_acked <= max(s[2] for s in silenced) + 1:
                continue  # acknowledged (from the alert topic) while the silence held its paging
            # An alert without a grid sector (the gateway's own trouble) may go to the tier 1
            # workers of every sector or straight to the duty room: docs/MQTT.md does not say.
            choices = [want] if g else [w for w in (tier1, self.people(g, 2)) if w]
            missed = [[u for u in w if not [x for x in by_person.get((i, u), []) if x[1] in ("notified", "escalated")]]
                      for w in choices]
            if choices and all(missed):
                for u in missed[0]:
                    self.bad("not-paged", "alert %s (grid %s) never paged to %s (tier %d)" % (i, g or "-", u, first_tier))
            for ts, kind, tier, user in by_alert.get(i, []):
                if tier == 1 and user not in tier1:
                    self.bad("wrong-person", "alert %s (grid %s) sent to %s at tier 1" % (i, g, user))
                    break
            for s in silenced:
                early = [x for x in by_alert.get(i, []) if x[1] == "notified" and s[1] < x[0] < s[2] - 0.5]
                if early:
                    self.bad("not-paged", "alert %s paged to %s during the maintenance silence of building %s" %
                             (i, early[0][3], s[0]))
            # Escalation: the first tier's time runs out while nobody acknowledges and it is open.
            told = sorted(x for x in by_alert.get(i, []) if x[1] == "notified")
            if not told or first_tier >= 3:
                continue
            t_told = told[0][0]
            t_ack = ok_acks.get(i)
            stop = min(x for x in (t_clear, t_ack, end) if x is not None)
            esc = [x for x in by_alert.get(i, []) if x[1] == "escalated" and x[2] == first_tier + 1]
            if i in acked_db and t_ack is None:
                continue  # acknowledged some other way: no claim
            # On time: from the journal (its times are the simulator's clock, which runs at most
            # `acceleration` times the wall clock), so delivery delays of a broker outage do not count.
            jn = [ts for a, ev, tier, ts in journal if a == i and ev == "notified" and tier == first_tier]
            # A daemon started after the simulator ended has no virtual time: it journals on the
            # wall clock, which says nothing about the storm's timing (the wall check below does).
            v_end_ms = (self.sc["start_s"] + self.sc["duration"] + 3600) * 1000
            je = [ts for a, ev, tier, ts in journal if a == i and ev == "escalated" and tier == first_tier + 1
                  and ts <= v_end_ms]
            t_esc = min([x[0] for x in esc] + [stop])
            again = ESCALATE_S * sum(1 for w in restarts_wall if t_told < w < t_esc)
            limit_ms = (ESCALATE_S + SLACK_S + downtime + again) * self.sc["acceleration"] * 1000
            # (Not for alerts told while the battery history played as fast as possible.)
            if jn and je and min(jn) >= self.sc["start_s"] * 1000 and min(je) - min(jn) > limit_ms:
                self.bad("no-escalation", "alert %s: tier %d told at %+.0f s, tier %d only at %+.0f s (virtual; escalate_after %d s wall)" %
                         (i, first_tier, min(jn) / 1000 - self.sc["start_s"], first_tier + 1,
                          min(je) / 1000 - self.sc["start_s"], ESCALATE_S))
            if stop - t_told > ESCALATE_S + SLACK_S + downtime + again and not esc and not je:
                self.bad("no-escalation", "alert %s told tier %d at %.1f s, open and unacknowledged for %.1f s, tier %d never told" %
                         (i, first_tier, t_told - r.t0_wall, stop - t_told, first_tier + 1))
            ja = [ts for a, ev, tier, ts in journal if a == i and ev == "acknowledged"]
            if ja:
                late = sorted((ts, tier) for a, ev, tier, ts in journal if a == i and ev == "escalated" and ts > min(ja))
                if late:
                    self.bad("escalated-after-ack", "alert %s acknowledged at %+.0f s, escalated to tier %s at %+.0f s (virtual)" %
                             (i, min(ja) / 1000 - self.sc["start_s"], late[0][1], late[0][0] / 1000 - self.sc["start_s"]))
