/* SPDX-License-Identifier: Apache-2.0 */
/* Shared pieces of the benchmark programs: the 1,000-node estate (keys, configuration text,
 * sealed frames), clocks and percentiles, /proc readings of another process, flat JSON output. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "lw_frame.h"

#define BENCH_NODES      1000
#define BENCH_NET_ID     0x4C57
#define BENCH_ALERT_NODE 1000 /* address of the smoke node the latency bench raises and clears */

/* Every tenth node is a smoke detector, the others water sensors. */
bool bench_is_smoke(unsigned address);
/* Distinct key per node address (the daemon refuses shared or all-zero keys); not secret. */
void bench_node_key(unsigned address, uint8_t key[LW_KEY_LEN]);

struct bench_conf {
    const char *site;
    const char *database;
    unsigned mqtt_port;        /* 1: no broker reachable (connection refused, retried rarely) */
    unsigned udp_port;         /* 0: no [radio] listen address (in-process benchmarks) */
    const char *clock;         /* "system" or "medium" */
    const char *rules;         /* configuration file whose [rule:*] sections are copied, or NULL */
    const char *log_level;     /* "info", "warning" */
    const char *gateway_extra; /* one more "key = value" line for [gateway], or NULL */
};
/* The daemon's configuration for the bench estate; malloc'd text, NULL on error (reported). */
char *bench_config_text(const struct bench_conf *c);

/* A sealed DATA (or ALARM) frame from node address with counter fcnt. Routine values stay below
 * every shipped threshold; alarm sets the smoke alarm bit of a smoke node. Returns the length. */
int bench_frame(unsigned address, uint32_t fcnt, unsigned variant, bool alarm, uint8_t *out,
                size_t cap);
/* The same frame wrapped in an lw_simwire AIR datagram (t_ms 0: the daemon's own clock). */
int bench_datagram(unsigned address, uint32_t fcnt, unsigned variant, bool alarm, uint8_t *out,
                   size_t cap);

double bench_mono_s(void);
void bench_sleep_until(double mono_s);
/* p in [0, 100] of n values (sorted in place); nearest-rank. NAN when n == 0. */
double bench_percentile(double *v, size_t n, double p);

/* /proc figures of another process (all its threads). -1 when unreadable. */
long bench_rss_kb(pid_t pid);
long bench_ctxt_switches(pid_t pid); /* voluntary + nonvoluntary */
long bench_cpu_ticks(pid_t pid);     /* utime + stime, in clock ticks */

/* Flat JSON object written key by key: {"a": 1, "b": "x"}. */
struct bench_json {
    FILE *f;
    int n;
};
bool bench_json_open(struct bench_json *j, const char *path);
void bench_json_num(struct bench_json *j, const char *key, double v, int decimals);
void bench_json_str(struct bench_json *j, const char *key, const char *v);
void bench_json_bool(struct bench_json *j, const char *key, bool v);
bool bench_json_close(struct bench_json *j);

/* Table row on stdout: figure, value. */
void bench_row(const char *figure, double v, int decimals);

#endif
