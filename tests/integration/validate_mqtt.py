#!/usr/bin/env python3
"""Check MQTT messages captured with `mosquitto_sub -v` against lorawatch's JSON Schemas (docs/schemas).

Usage: validate_mqtt.py SCHEMA_DIR < messages

Each input line is "TOPIC PAYLOAD". The topic picks the schema (alert, gateway status, node
state); an unknown topic, a payload that is not JSON, a schema violation, or a payload that
disagrees with its own topic (site, alert id, node name) is an error. Every error names the topic,
an excerpt of the payload and the violated rule. Prints a per-kind count; exit 0 when every
message is valid, 1 when any is not, 2 on usage errors. Works with Debian 12's python3-jsonschema
(4.10) and later versions.
"""
import json
import os
import re
import sys

import jsonschema

TOPICS = [
    (re.compile(r"^lorawatch/(?P<site>[^/]+)/alert/(?P<id>[^/]+)$"), "alert"),
    (re.compile(r"^lorawatch/(?P<site>[^/]+)/gateway/status$"), "gateway-status"),
    (re.compile(r"^lorawatch/(?P<site>[^/]+)/gateway/mark$"), "gateway-mark"),
    (re.compile(r"^lorawatch/(?P<site>[^/]+)/node/(?P<node>[^/]+)$"), "node-state"),
    (re.compile(r"^lorawatch/(?P<site>[^/]+)/duty/(person/[^/]+|tier/[1-3])$"), "alert"),
    (re.compile(r"^lorawatch/(?P<site>[^/]+)/reply/(?P<user>[^/]+)$"), "reply"),
    (re.compile(r"^lorawatch/(?P<site>[^/]+)/command/(?P<user>[^/]+)$"), "command"),
]
MAX_REPORTED = 10  # per kind of message, so one broken kind cannot hide another


def excerpt(payload, n=160):
    return payload if len(payload) <= n else payload[:n] + "..."


def where(path):
    """A JSON path like $.node.address for an error's location in the instance."""
    out = "$"
    for p in path:
        out += "[%d]" % p if isinstance(p, int) else "." + str(p)
    return out


def describe(err):
    """The violated rule: location in the payload, schema keyword path, and the message."""
    # anyOf/oneOf failures: report the alternative that got furthest, not only "is not valid".
    if err.context:
        err = jsonschema.exceptions.best_match(err.context)
    keyword_path = "/".join(str(p) for p in err.absolute_schema_path)
    return "%s: %s (schema: %s)" % (where(err.absolute_path), err.message, keyword_path)


def topic_checks(kind, m, msg):
    """The payload must agree with the topic it was published on."""
    problems = []
    if not isinstance(msg, dict):
        return problems
    if "site" in msg and msg["site"] != m.group("site"):
        problems.append("$.site: %r differs from the topic's site %r" % (msg["site"], m.group("site")))
    if kind == "alert" and "id" in m.groupdict() and msg.get("id") is not None and str(msg.get("id")) != m.group("id"):
        problems.append("$.id: %r differs from the topic's alert id %r" % (msg["id"], m.group("id")))
    if kind == "node-state" and msg.get("node") != m.group("node"):
        problems.append("$.node: %r differs from the topic's node %r" % (msg.get("node"), m.group("node")))
    return problems


def main(argv):
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print("usage: validate_mqtt.py SCHEMA_DIR < messages", file=sys.stderr)
        return 2
    validators = {}
    for kind in ("alert", "gateway-status", "gateway-mark", "node-state", "reply", "command"):
        with open(os.path.join(argv[1], kind + ".schema.json"), encoding="utf-8") as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validators[kind] = cls(schema)

    counts = {k: 0 for k in validators}
    invalid = {k: 0 for k in list(validators) + [None]}
    bad = 0
    total = 0
    for lineno, line in enumerate(sys.stdin, 1):
        line = line.rstrip("\n")
        if not line:
            continue
        total += 1
        topic, _, payload = line.partition(" ")
        problems = []
        kind = None
        m = None
        for rx, k in TOPICS:
            m = rx.match(topic)
            if m:
                kind = k
                break
        if kind is None:
            problems.append("topic matches no part of the lorawatch MQTT contract")
        else:
            counts[kind] += 1
            try:
                msg = json.loads(payload)
            except ValueError as e:
                problems.append("payload is not JSON: %s" % e)
            else:
                errors = sorted(validators[kind].iter_errors(msg), key=lambda e: list(e.absolute_path))
                problems += ["%s schema: %s" % (kind, describe(e)) for e in errors]
                problems += topic_checks(kind, m, msg)
        if problems:
            bad += 1
            invalid[kind] += 1
            if invalid[kind] <= MAX_REPORTED:
                print("INVALID line %d: topic %s\n  payload: %s" % (lineno, topic, excerpt(payload)),
                      file=sys.stderr)
                for p in problems:
                    print("  violates: %s" % p, file=sys.stderr)
    for kind, n in invalid.items():
        if n > MAX_REPORTED:
            print("... %d more invalid %s messages not shown" % (n - MAX_REPORTED, kind or "unknown-topic"),
                  file=sys.stderr)
    if total == 0:
        print("no messages on stdin: nothing was validated", file=sys.stderr)
    summary = ", ".join("%s %d" % (k, n) for k, n in counts.items())
    print("%d messages (%s): %d invalid" % (total, summary, bad))
    return 1 if bad or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
