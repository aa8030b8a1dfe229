#!/usr/bin/env bash
# Soak, short form: 60 simulated nodes for one simulated day with a rainstorm, a fire, gas and CO
# against the real daemon and broker (scripts/soak); VmRSS and open files flat after the warm-up.
# The long form (300 nodes, 7 simulated days, about 10 minutes) is `scripts/soak` itself; its
# figures are in docs/RELIABILITY.md.
# SPDX-License-Identifier: Apache-2.0
set -euo pipefail
: "${LW_SOURCE_DIR:?}" "${LW_BIN:?}"
# Under AddressSanitizer freed memory sits in a quarantine that would look like growth.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=1"
exec "$LW_SOURCE_DIR/scripts/soak" --days 1 --nodes 60 --acceleration 1000 --sample 3
