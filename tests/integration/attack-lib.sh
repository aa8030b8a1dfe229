# Helpers shared by the attack tests (70-79), sourced after common.sh: the attacker on the
# simulated medium (attack_udp.py), counters from the daemon's metrics file, and the daemon's
# memory and open files from /proc; atk_start brings the daemon up on a one-node configuration.
# SPDX-License-Identifier: Apache-2.0

ATK=(python3 "$LW_SOURCE_DIR/tests/integration/attack_udp.py")

# atk_metric SAMPLE: the value of one sample of $WORK/metrics.prom, SAMPLE being the name with
# its labels exactly as written (lorawatch_frames_total{outcome="replay"}); 0 when absent.
atk_metric() {
  awk -v s="$1" '$1 == s { v = $2 } END { printf "%d\n", v + 0 }' "$WORK/metrics.prom" 2>/dev/null
}
# atk_metric_is SAMPLE OP VALUE: for lw_wait_for, e.g. atk_metric_is 'x{...}' -ge 5
atk_metric_is() { [ "$(atk_metric "$1")" "$2" "$3" ]; }
# atk_fresh_metrics: wait until the metrics file has been rewritten after now (1 s interval).
atk_fresh_metrics() {
  local t0
  t0=$(date +%s)
  lw_wait_for 10 sh -c "[ \$(stat -c %Y '$WORK/metrics.prom' 2>/dev/null || echo 0) -gt $t0 ]" ||
    fail "metrics file not rewritten"
}

atk_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# Open files, less the metrics file's temporary copy (it is open for a moment every second).
atk_fds() {
  local f n=0
  for f in /proc/"$1"/fd/*; do
    case $(readlink "$f" 2>/dev/null) in *metrics.prom.*) ;; *) n=$((n + 1)) ;; esac
  done
  echo $n
}
atk_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# atk_log_bound WHAT SECONDS: log lines a rate-limited call site may write in SECONDS (5 per
# 10 s window, one "suppressed" line per window, and the window that was already open).
atk_log_bound() { echo $(( (($2 + 9) / 10 + 1) * 6 )); }

# atk_start SITE: write common.sh's one-node configuration for SITE with the metrics file
# rewritten every second and what stdin adds ([gateway] keys first, then other sections), start
# the daemon (PID) and wait until it has connected to the broker. ASan's quarantine is kept small
# so that freed memory does not look like growth.
atk_start() {
  local extra
  extra=$(cat)
  lw_one_node_conf "$1" <<CONF
[gateway]
clock_check = none
metrics_file = $WORK/metrics.prom
metrics_interval = 1s
$extra
CONF
  export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=1"
  lw_start_daemon "$WORK/lorawatchd.conf"
  PID=$LW_DAEMON_PID
  lw_wait_for 10 grep -q 'mqtt: connected' "$WORK/lorawatchd.log" || fail "daemon not connected"
}
# q SQL: one query on the daemon's database, waiting out its write lock.
q() { sqlite3 -cmd '.timeout 5000' "$WORK/lw.db" "$1"; }
