#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Check every payload example in docs/MQTT.md against its JSON Schema, and that the alert field
table names every field of the alert schema.

Usage: mqtt_doc_examples.py MQTT_MD SCHEMA_DIR

Examples are the ```json blocks (one object, possibly wrapped over several lines, or one object
per line) and the -m '...' payloads of mosquitto_pub commands in ```sh blocks. A json block's
schema follows its "## " section (Alerts and Duty topics: alert; Commands: reply ...); a
mosquitto_pub payload's follows its topic, as validate_mqtt.py does. Exit 0 when everything is
valid, 1 otherwise.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import validate_mqtt  # noqa: E402  (its topic table and error descriptions)

import jsonschema  # noqa: E402

SECTIONS = {  # "## " heading, up to its colon -> schema of its json examples
    "Alerts": "alert",
    "Duty topics": "alert",
    "Gateway status": "gateway-status",
    "Outbox mark": "gateway-mark",
    "Node state": "node-state",
    "Commands": "reply",
}
PUB = re.compile(r"mosquitto_pub\s.*?-t\s+(\S+).*?-m\s+'([^']*)'")


def blocks(path):
    """(section, language, first line number, text) of every fenced block."""
    section, lang, start, body = None, None, 0, []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if lang is None and line.startswith("## "):
                section = line[3:].split(":")[0].strip()
            elif lang is None and line.startswith("```"):
                lang, start, body = line[3:].strip(), n + 1, []
            elif lang is not None and line.startswith("```"):
                yield section, lang, start, "".join(body)
                lang = None
            elif lang is not None:
                body.append(line)


def objects(text):
    """The JSON values of a block: the whole block, else one per non-empty line."""
    try:
        return [json.loads(text)]
    except ValueError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def table_fields(path, sections):
    """Backticked names in the first column of the tables of the given sections."""
    names, section = set(), None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("## "):
                section = line[3:].split(":")[0].strip()
            elif section in sections and line.startswith("|"):
                names.update(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return names


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    md, schema_dir = argv[1], argv[2]
    validators = {}
    for kind in ("alert", "gateway-status", "gateway-mark", "node-state", "reply", "command"):
        with open(os.path.join(schema_dir, kind + ".schema.json"), encoding="utf-8") as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validators[kind] = cls(schema)

    bad, counts = 0, {k: 0 for k in validators}

    def check(kind, value, where):
        nonlocal bad
        counts[kind] += 1
        errors = list(validators[kind].iter_errors(value))
        for e in errors:
            print("INVALID %s: %s schema: %s" % (where, kind, validate_mqtt.describe(e)), file=sys.stderr)
        bad += bool(errors)

    for section, lang, line, text in blocks(md):
        where = "%s:%d (section %s)" % (md, line, section)
        if lang == "json":
            kind = SECTIONS.get(section)
            if kind is None:
                print("INVALID %s: a json example in a section with no schema known" % where, file=sys.stderr)
                bad += 1
                continue
            try:
                values = objects(text)
            except ValueError as e:
                print("INVALID %s: not JSON: %s" % (where, e), file=sys.stderr)
                bad += 1
                continue
            for v in values:
                check(kind, v, where)
        elif lang == "sh":
            for m in PUB.finditer(text.replace("\\\n", " ")):
                kind = next((k for rx, k in validate_mqtt.TOPICS if rx.match(m.group(1))), None)
                try:
                    value = json.loads(m.group(2))
                except ValueError as e:
                    print("INVALID %s: mosquitto_pub payload is not JSON: %s" % (where, e), file=sys.stderr)
                    bad += 1
                    continue
                if kind is None:
                    print("INVALID %s: topic %s is not in the contract" % (where, m.group(1)), file=sys.stderr)
                    bad += 1
                else:
                    check(kind, value, where)

    # The alert field tables (alert payload and duty object) name every field of the schema.
    with open(os.path.join(schema_dir, "alert.schema.json"), encoding="utf-8") as f:
        alert = json.load(f)
    documented = table_fields(md, ("Alerts", "Duty topics"))
    wanted = ["%s" % p for p in alert["properties"]]
    wanted += ["duty.%s" % p for p in alert["properties"]["duty"]["properties"]]
    for p in wanted:
        leaf = p.split(".")[-1]
        if not any(d == p or d == leaf or d.startswith(p + ".") or d == "." + leaf for d in documented):
            print("UNDOCUMENTED %s: alert field %s is not in its field table" % (md, p), file=sys.stderr)
            bad += 1

    print("%s: %s examples checked, %d problems" % (md, ", ".join("%s %d" % kv for kv in counts.items()), bad))
    if counts["alert"] < 1:
        print("no alert example found", file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
