#!/usr/bin/env bash
# docs/MQTT.md tells the truth: each of its payload examples matches its JSON Schema, and its
# alert field tables name every field the alert schema has.
# SPDX-License-Identifier: Apache-2.0
set -euo pipefail
: "${LW_SOURCE_DIR:?}"
PY=
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import jsonschema' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "SKIP: no python3 with jsonschema (scripts/setup installs python3-jsonschema)"; exit 77; }
exec "$PY" "$LW_SOURCE_DIR/tests/contract/mqtt_doc_examples.py" "$LW_SOURCE_DIR/docs/MQTT.md" \
  "$LW_SOURCE_DIR/docs/schemas"
