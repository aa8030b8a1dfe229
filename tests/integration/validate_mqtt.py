#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Check MQTT messages captured with `mosquitto_sub -v` against lorawatch's JSON Schemas (docs/schemas).

Usage: validate_mqtt.py [--capture] [--skip-commands] SCHEMA_DIR [FILE...]    (no FILE: stdin)

Each input line is "TOPIC PAYLOAD". The topic picks the schema (alert, duty, gateway status, node
state, command, reply); a topic under lorawatch/ that is not in the contract, a payload that is
not JSON, a schema violation, or a payload that disagrees with its own topic (site, alert id,
node name, duty tier, duty object only on duty topics) is an error. An empty payload (printed by
mosquitto_sub as nothing or as "(null)") is valid only on alert/<id>, where the daemon uses it to
remove a retained alert (docs/MQTT.md). Every error names the file and line, the topic, an excerpt
of the payload and the violated rule.

--capture reads a capture file as the tests make it, a mosquitto_sub running in the background
with its stderr in the same file: lines that are mosquitto_sub's own diagnostics ("Error: ...")
and a last line still being written (no newline yet) are skipped and counted, not validated.
--skip-commands skips (and counts) the messages on command/<user>: they are what the phones send,
in a test the test's own input, sometimes malformed on purpose; the replies are still checked.

Prints a per-kind count; exit 0 when every message is valid, 1 when any is not or when there
was no message at all, 2 on usage errors. Works with Debian 12's python3-jsonschema (4.10) and
later versions.
"""
import json
import os
import re
import sys

import jsonschema

# Topic levels as the daemon makes them: site (docs/MQTT.md), node names, alert ids, users.
_SITE = r"(?P<site>[A-Za-z0-9_-]{1,47})"
_NAME = r"[A-Za-z0-9_.-]+"
TOPICS = [
    (re.compile(r"^lorawatch/%s/alert/(?P<id>[1-9][0-9]*)$" % _SITE), "alert"),
    (re.compile(r"^lorawatch/%s/gateway/status$" % _SITE), "gateway-status"),
    (re.compile(r"^lorawatch/%s/gateway/mark$" % _SITE), "gateway-mark"),
    (re.compile(r"^lorawatch/%s/node/(?P<node>%s)$" % (_SITE, _NAME)), "node-state"),
    (re.compile(r"^lorawatch/%s/duty/(person/(?P<user>%s)|tier/(?P<tier>[1-3]))$" % (_SITE, _NAME)), "alert"),
    (re.compile(r"^lorawatch/%s/reply/(?P<user>%s)$" % (_SITE, _NAME)), "reply"),
    (re.compile(r"^lorawatch/%s/command/(?P<user>%s)$" % (_SITE, _NAME)), "command"),
]
MAX_REPORTED = 10  # per kind of message, so one broken kind cannot hide another
# mosquitto_sub's own lines on stderr ("Error: Connection refused", "Connection error: ...").
DIAGNOSTIC = re.compile(r"^[A-Z][A-Za-z ]{0,40}: ")


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
    g = m.groupdict()
    if "site" in msg and msg["site"] != g["site"]:
        problems.append("$.site: %r differs from the topic's site %r" % (msg["site"], g["site"]))
    if kind == "alert" and g.get("id") is not None and str(msg.get("id")) != g["id"]:
        problems.append("$.id: %r differs from the topic's alert id %r" % (msg.get("id"), g["id"]))
    if kind == "alert" and g.get("id") is not None and "duty" in msg:
        problems.append("$.duty: a duty object on an alert topic (only duty topics carry one)")
    if kind == "alert" and g.get("id") is None and "duty" not in msg:
        problems.append("$.duty: missing on a duty topic (it says why this tier gets the message)")
    duty = msg.get("duty")
    if g.get("tier") is not None and isinstance(duty, dict) and str(duty.get("tier")) != g["tier"]:
        problems.append("$.duty.tier: %r differs from the topic's tier %r" % (duty.get("tier"), g["tier"]))
    if kind == "node-state" and msg.get("node") != g["node"]:
        problems.append("$.node: %r differs from the topic's node %r" % (msg.get("node"), g["node"]))
    return problems


def load_validators(schema_dir):
    validators = {}
    for kind in ("alert", "gateway-status", "gateway-mark", "node-state", "reply", "command"):
        with open(os.path.join(schema_dir, kind + ".schema.json"), encoding="utf-8") as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validators[kind] = cls(schema)
    return validators


def check_line(validators, line):
    """(kind or None, topic, payload, problems) of one "TOPIC PAYLOAD" line."""
    topic, _, payload = line.partition(" ")
    if payload == "(null)":  # mosquitto_sub 2.0.11's rendering of a zero-length payload
        payload = ""
    kind, m = None, None
    for rx, k in TOPICS:
        m = rx.match(topic)
        if m:
            kind = k
            break
    if kind is None:
        return None, topic, payload, ["topic is not in the lorawatch MQTT contract (docs/MQTT.md topic tree)"]
    if payload == "":
        if m.groupdict().get("id") is not None:
            return kind, topic, payload, []  # removal of a retained alert
        return kind, topic, payload, ["empty payload (only alert/<id> may be emptied, to remove a retained alert)"]
    try:
        msg = json.loads(payload)
    except ValueError as e:
        return kind, topic, payload, ["payload is not JSON: %s" % e]
    errors = sorted(validators[kind].iter_errors(msg), key=lambda e: list(e.absolute_path))
    problems = ["%s schema: %s" % (kind, describe(e)) for e in errors]
    return kind, topic, payload, problems + topic_checks(kind, m, msg)


def sources(files):
    if not files:
        yield "<stdin>", sys.stdin.read()
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            yield path, f.read()


def main(argv):
    args = argv[1:]
    options = set()
    while args and args[0] in ("--capture", "--skip-commands"):
        options.add(args.pop(0))
    capture = "--capture" in options
    if not args or not os.path.isdir(args[0]) or any(not os.path.isfile(f) for f in args[1:]):
        print("usage: validate_mqtt.py [--capture] [--skip-commands] SCHEMA_DIR [FILE...]", file=sys.stderr)
        return 2
    validators = load_validators(args[0])

    counts = {k: 0 for k in validators}
    invalid = {k: 0 for k in list(validators) + [None]}
    bad = total = skipped = 0
    for name, text in sources(args[1:]):
        lines = text.split("\n")
        partial = lines.pop()  # after the last newline: "" when the file ends with one
        if partial and not capture:
            lines.append(partial)
        elif partial:
            skipped += 1
            print("note: %s: last line not complete yet, not checked: %s" % (name, excerpt(partial, 80)),
                  file=sys.stderr)
        for lineno, line in enumerate(lines, 1):
            if not line:
                continue
            if capture and not line.startswith("lorawatch/") and DIAGNOSTIC.match(line):
                skipped += 1
                print("note: %s:%d: mosquitto_sub's own output, not a message: %s" % (name, lineno, excerpt(line, 80)),
                      file=sys.stderr)
                continue
            kind, topic, payload, problems = check_line(validators, line)
            if kind == "command" and "--skip-commands" in options:
                skipped += 1
                continue
            total += 1
            if kind is not None:
                counts[kind] += 1
            if problems:
                bad += 1
                invalid[kind] += 1
                if invalid[kind] <= MAX_REPORTED:
                    print("INVALID %s:%d: topic %s\n  payload: %s" % (name, lineno, topic, excerpt(payload)),
                          file=sys.stderr)
                    for p in problems:
                        print("  violates: %s" % p, file=sys.stderr)
    for kind, n in invalid.items():
        if n > MAX_REPORTED:
            print("... %d more invalid %s messages not shown" % (n - MAX_REPORTED, kind or "unknown-topic"),
                  file=sys.stderr)
    if total == 0:
        print("no messages in the input: nothing was validated", file=sys.stderr)
    summary = ", ".join("%s %d" % (k, n) for k, n in counts.items())
    extra = ", %d lines skipped" % skipped if skipped else ""
    print("%d messages (%s): %d invalid%s" % (total, summary, bad, extra))
    return 1 if bad or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
