/* SPDX-License-Identifier: Apache-2.0 */
/* Memory under load: routine frames from all 1,000 nodes into a running lorawatchd's sim radio as
 * fast as it takes them (its socket queue is watched so nothing is dropped), with the daemon's
 * resident memory sampled before, at every quarter and after the queue has drained.
 * usage: bench_load --udp-port P --pid PID [--frames N] [--fcnt-base N] [--json FILE] */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_common.h"
#include "lw_simwire.h"

/* Keep at most this much waiting in the daemon's socket (it asks for a 4 MB buffer). */
#define MAX_QUEUED_BYTES (1u << 20)
#define CHECK_EVERY      128

/* rx_queue bytes and drops of the IPv4 UDP socket bound to 127.0.0.1:port; false if not found. */
static bool udp_queue(unsigned port, unsigned long *rx_queue, unsigned long *drops)
{
    FILE *f = fopen("/proc/net/udp", "r");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        unsigned addr, lport, tx, rx;
        unsigned long d;
        if (sscanf(line, " %*u: %x:%x %*x:%*x %*x %x:%x %*x:%*x %*x %*u %*u %*u %*u %*x %lu", &addr,
                   &lport, &tx, &rx, &d) == 5 &&
            lport == port && addr == 0x0100007Fu) {
            *rx_queue = rx;
            *drops = d;
            found = true;
        }
    }
    fclose(f);
    return found;
}

int main(int argc, char **argv)
{
    unsigned udp_port = 0;
    pid_t pid = 0;
    unsigned long frames = 1000000;
    uint32_t fcnt_base = 1;
    const char *json = NULL;
    static const struct option opts[] = {
        {"udp-port", required_argument, NULL, 'u'}, {"pid", required_argument, NULL, 'p'},
        {"frames", required_argument, NULL, 'n'},   {"fcnt-base", required_argument, NULL, 'f'},
        {"json", required_argument, NULL, 'j'},     {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "u:p:n:f:j:", opts, NULL)) != -1) {
        if (c == 'u')
            udp_port = (unsigned)strtoul(optarg, NULL, 10);
        else if (c == 'p')
            pid = (pid_t)strtol(optarg, NULL, 10);
        else if (c == 'n')
            frames = strtoul(optarg, NULL, 10);
        else if (c == 'f')
            fcnt_base = (uint32_t)strtoul(optarg, NULL, 10);
        else if (c == 'j')
            json = optarg;
        else
            udp_port = 0, optind = argc;
    }
    if (!udp_port || pid <= 0 || frames < 4 || frames > 100000000 || fcnt_base == 0) {
        fprintf(stderr, "usage: bench_load --udp-port P --pid PID [--frames N] [--fcnt-base N] "
                        "[--json FILE]\n");
        return 2;
    }
    unsigned long q, drops0, drops1;
    if (!udp_queue(udp_port, &q, &drops0)) {
        fprintf(stderr, "bench_load: nothing listens on udp 127.0.0.1:%u\n", udp_port);
        return 1;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)udp_port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
        perror("bench_load: udp socket");
        return 1;
    }

    long rss[5] = {bench_rss_kb(pid), 0, 0, 0, 0}, rss_peak = rss[0];
    if (rss[0] < 0) {
        fprintf(stderr, "bench_load: cannot read /proc/%d/status\n", (int)pid);
        return 1;
    }
    uint8_t dg[LW_SIMWIRE_MAX_LEN];
    unsigned long waits = 0, errors = 0;
    double t0 = bench_mono_s();
    for (unsigned long i = 0; i < frames; i++) {
        if (i % CHECK_EVERY == 0) {
            while (udp_queue(udp_port, &q, &drops1) && q > MAX_QUEUED_BYTES) {
                usleep(200);
                waits++;
            }
            long r = bench_rss_kb(pid);
            if (r < 0) {
                fprintf(stderr, "bench_load: lorawatchd (pid %d) is gone\n", (int)pid);
                return 1;
            }
            if (r > rss_peak)
                rss_peak = r;
        }
        /* Quarters in flight; the last one after draining, below. */
        if (i > 0 && i % (frames / 4) == 0 && i / (frames / 4) < 4)
            rss[i / (frames / 4)] = bench_rss_kb(pid);
        unsigned addr = (unsigned)(i % BENCH_NODES) + 1;
        uint32_t fcnt = fcnt_base + (uint32_t)(i / BENCH_NODES);
        int n = bench_datagram(addr, fcnt, (unsigned)i, false, dg, sizeof(dg));
        if (n < 0 || send(fd, dg, (size_t)n, 0) != n)
            errors++;
    }
    /* Drained: the queue is empty; then one batch interval and MQTT flushing. */
    while (udp_queue(udp_port, &q, &drops1) && q > 0)
        usleep(1000);
    double t_drained = bench_mono_s();
    usleep(1000000);
    rss[4] = bench_rss_kb(pid);
    if (rss[4] > rss_peak)
        rss_peak = rss[4];
    udp_queue(udp_port, &q, &drops1);
    close(fd);

    double fps = (double)frames / (t_drained - t0);
    long growth = rss[4] - rss[2];
    printf("%-32s %14s\n", "figure", "value");
    bench_row("load_frames", (double)frames, 0);
    bench_row("daemon_frames_per_s_udp", fps, 0);
    bench_row("udp_drops", (double)(drops1 - drops0), 0);
    bench_row("rss_kb_before_load", (double)rss[0], 0);
    bench_row("rss_kb_at_25pct", (double)rss[1], 0);
    bench_row("rss_kb_at_50pct", (double)rss[2], 0);
    bench_row("rss_kb_at_75pct", (double)rss[3], 0);
    bench_row("rss_kb_after_load", (double)rss[4], 0);
    bench_row("rss_kb_peak", (double)rss_peak, 0);
    bench_row("rss_growth_kb_50_to_100pct", (double)growth, 0);
    if (errors)
        bench_row("send_errors", (double)errors, 0);
    if (json) {
        struct bench_json j;
        if (!bench_json_open(&j, json))
            return 1;
        bench_json_num(&j, "rss_kb_after_1m_frames", (double)rss[4], 0);
        bench_json_num(&j, "rss_kb_before_load", (double)rss[0], 0);
        bench_json_num(&j, "rss_kb_at_25pct", (double)rss[1], 0);
        bench_json_num(&j, "rss_kb_at_50pct", (double)rss[2], 0);
        bench_json_num(&j, "rss_kb_at_75pct", (double)rss[3], 0);
        bench_json_num(&j, "rss_kb_peak", (double)rss_peak, 0);
        bench_json_num(&j, "rss_growth_kb_50_to_100pct", (double)growth, 0);
        bench_json_num(&j, "load_frames", (double)frames, 0);
        bench_json_num(&j, "load_udp_drops", (double)(drops1 - drops0), 0);
        bench_json_num(&j, "daemon_frames_per_s_udp", fps, 0);
        bench_json_num(&j, "load_flow_control_waits", (double)waits, 0);
        if (!bench_json_close(&j))
            return 1;
    }
    return errors ? 1 : 0;
}
