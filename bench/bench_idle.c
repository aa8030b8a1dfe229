/* SPDX-License-Identifier: Apache-2.0 */
/* Idle cost of a running lorawatchd: wakeups (voluntary + involuntary context switches of all
 * its threads) and CPU time over a window with no traffic, plus its resident memory.
 * usage: bench_idle --pid PID [--seconds S] [--json FILE] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/timex.h>
#include <unistd.h>

#include "bench_common.h"

int main(int argc, char **argv)
{
    pid_t pid = 0;
    double secs = 60;
    const char *json = NULL;
    static const struct option opts[] = {{"pid", required_argument, NULL, 'p'},
                                         {"seconds", required_argument, NULL, 's'},
                                         {"json", required_argument, NULL, 'j'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "p:s:j:", opts, NULL)) != -1) {
        if (c == 'p')
            pid = (pid_t)strtol(optarg, NULL, 10);
        else if (c == 's')
            secs = strtod(optarg, NULL);
        else if (c == 'j')
            json = optarg;
        else
            pid = 0, optind = argc;
    }
    if (pid <= 0 || secs <= 0) {
        fprintf(stderr, "usage: bench_idle --pid PID [--seconds S] [--json FILE]\n");
        return 2;
    }
    long rss = bench_rss_kb(pid);
    long cs0 = bench_ctxt_switches(pid), cpu0 = bench_cpu_ticks(pid);
    double t0 = bench_mono_s();
    if (rss < 0 || cs0 < 0 || cpu0 < 0) {
        fprintf(stderr, "bench_idle: cannot read /proc/%d\n", (int)pid);
        return 1;
    }
    bench_sleep_until(t0 + secs);
    long cs1 = bench_ctxt_switches(pid), cpu1 = bench_cpu_ticks(pid);
    double dt = bench_mono_s() - t0;
    if (cs1 < 0 || cpu1 < 0) {
        fprintf(stderr, "bench_idle: process %d went away during the window\n", (int)pid);
        return 1;
    }
    /* The daemon polls for clock synchronisation while the kernel says it is not: record it. */
    struct timex tx = {.modes = 0};
    int clock_state = adjtimex(&tx);
    bool synced = clock_state != -1 && clock_state != TIME_ERROR && !(tx.status & STA_UNSYNC);
    double wakeups = (double)(cs1 - cs0) / dt;
    double cpu = 100.0 * (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK) / dt;
    printf("%-32s %14s\n", "figure", "value");
    bench_row("idle_seconds", dt, 1);
    bench_row("rss_kb_idle_1000_nodes", (double)rss, 0);
    bench_row("idle_wakeups_per_s", wakeups, 2);
    bench_row("idle_cpu_percent", cpu, 3);
    printf("%-32s %14s\n", "machine_clock_synchronised", synced ? "yes" : "no");
    if (json) {
        struct bench_json j;
        if (!bench_json_open(&j, json))
            return 1;
        bench_json_num(&j, "rss_kb_idle_1000_nodes", (double)rss, 0);
        bench_json_num(&j, "idle_wakeups_per_s", wakeups, 3);
        bench_json_num(&j, "idle_cpu_percent", cpu, 3);
        bench_json_num(&j, "idle_seconds", dt, 1);
        bench_json_num(&j, "idle_cpu_resolution_percent", 100.0 / (double)sysconf(_SC_CLK_TCK) / dt,
                       3);
        bench_json_bool(&j, "machine_clock_synchronised", synced);
        if (!bench_json_close(&j))
            return 1;
    }
    return 0;
}
