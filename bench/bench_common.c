/* SPDX-License-Identifier: Apache-2.0 */
/* Shared pieces of the benchmark programs: the bench estate, clocks, /proc readings, JSON. */
#include "bench_common.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lw_reading.h"
#include "lw_simwire.h"

bool bench_is_smoke(unsigned address)
{
    return address % 10 == 0;
}

void bench_node_key(unsigned address, uint8_t key[LW_KEY_LEN])
{
    uint32_t x = 0x9E3779B9u * (address + 1);
    for (unsigned b = 0; b < LW_KEY_LEN; b++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        key[b] = (uint8_t)x;
    }
    key[0] = (uint8_t)address;
    key[1] = (uint8_t)(address >> 8);
}

/* Growable text buffer for the configuration. */
struct text {
    char *s;
    size_t len, cap;
    bool oom;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = t->oom ? 0 : vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (t->oom || n < 0)
            return;
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = 2 * t->cap + (size_t)n;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->oom = true;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

/* Copy the [rule:*] sections of a configuration file, as scripts/lw-env.sh does with awk. */
static bool copy_rules(struct text *t, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
        return false;
    }
    char line[1024];
    bool keep = false;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '[')
            keep = strncmp(line, "[rule:", 6) == 0;
        if (keep)
            add(t, "%s", line);
    }
    fclose(f);
    add(t, "\n");
    return true;
}

char *bench_config_text(const struct bench_conf *c)
{
    struct text t = {.cap = 320 * BENCH_NODES + 8192};
    t.s = malloc(t.cap);
    if (!t.s)
        return NULL;
    t.s[0] = '\0';
    add(&t, "[gateway]\nsite = %s\nnetwork_id = 0x%04X\ndatabase = %s\nlog_level = %s\n", c->site,
        BENCH_NET_ID, c->database, c->log_level ? c->log_level : "info");
    if (c->gateway_extra)
        add(&t, "%s\n", c->gateway_extra);
    add(&t, "\n");
    add(&t, "[radio]\nbackend = sim\nsim_clock = %s\n", c->clock ? c->clock : "system");
    if (c->udp_port)
        add(&t, "sim_listen = 127.0.0.1:%u\n", c->udp_port);
    /* A refused broker (port 1) is retried once a minute, not in a tight loop. */
    add(&t, "\n[mqtt]\nhost = 127.0.0.1\nport = %u\nreconnect_min = %s\nreconnect_max = 60s\n\n",
        c->mqtt_port, c->mqtt_port > 1 ? "200ms" : "60s");
    if (c->rules) {
        if (!copy_rules(&t, c->rules)) {
            free(t.s);
            return NULL;
        }
    } else {
        add(&t, "[rule:flood-street]\nmetric = water_mm\nthreshold = 150\nclear = 100\n"
                "persistence = 5m\nlevel = orange\n\n"
                "[rule:fire-smoke]\nmetric = smoke\nthreshold = 1\nclear = 0\nlevel = red\n\n");
    }
    for (unsigned a = 1; a <= BENCH_NODES; a++) {
        uint8_t key[LW_KEY_LEN];
        char hex[2 * LW_KEY_LEN + 1];
        bench_node_key(a, key);
        for (int b = 0; b < LW_KEY_LEN; b++)
            snprintf(hex + 2 * b, 3, "%02X", key[b]);
        unsigned building = (a - 1) / 40 + 1, floor = (a - 1) % 40 / 4 + 1;
        add(&t,
            "[node:n%04u]\naddress = %u\neui = 70B3D57E%08X\nkey = %s\nkind = %s\n"
            "label = bench node %u\nbuilding = %u\nfloor = %u\nunit = %u\ngrid = %u\n"
            "place = Block %u floor %u, stairwell %u\ntags = %s\n\n",
            a, a, a, hex, bench_is_smoke(a) ? "smoke" : "water", a, building, floor, a % 4 + 1,
            building % 8 + 1, building, floor, a % 4 + 1,
            floor == 1 ? "low-lying,basement" : "old-building");
    }
    if (t.oom) {
        free(t.s);
        return NULL;
    }
    return t.s;
}

int bench_frame(unsigned address, uint32_t fcnt, unsigned variant, bool alarm, uint8_t *out,
                size_t cap)
{
    uint8_t key[LW_KEY_LEN], plain[LW_READING_MAX_LEN];
    struct lw_reading r = {.present = LW_R_TEMP | LW_R_BATTERY | LW_R_FLAGS,
                           .temp_c_x10 = (int16_t)(245 + variant % 7),
                           .battery_mv = 3600};
    if (bench_is_smoke(address)) {
        r.present |= LW_R_SMOKE;
        r.smoke_alarm = alarm ? 1 : 0;
        r.smoke_obscuration = (uint16_t)(alarm ? 450 : variant % 5);
    } else {
        /* Below every shipped water threshold, basements included. */
        r.present |= LW_R_WATER;
        r.water_mm = (uint16_t)(variant % 20);
    }
    int pl = lw_reading_encode(&r, plain, sizeof(plain));
    if (pl < 0)
        return pl;
    struct lw_frame_hdr h = {.type = alarm ? LW_FT_ALARM : LW_FT_DATA,
                             .hop_limit = 3,
                             .ack_req = alarm,
                             .net_id = BENCH_NET_ID,
                             .src = (uint16_t)address,
                             .dst = LW_ADDR_GATEWAY,
                             .fcnt = fcnt};
    bench_node_key(address, key);
    return lw_frame_seal(&h, key, plain, (size_t)pl, out, cap);
}

int bench_datagram(unsigned address, uint32_t fcnt, unsigned variant, bool alarm, uint8_t *out,
                   size_t cap)
{
    uint8_t frame[LW_FRAME_MAX_LEN];
    int n = bench_frame(address, fcnt, variant, alarm, frame, sizeof(frame));
    if (n < 0)
        return n;
    struct lw_simwire m = {.kind = LW_SIMWIRE_AIR,
                           .sf = 7,
                           .freq_hz = 470300000,
                           .bw_hz = 125000,
                           .rssi_x10 = (int16_t)(-900 - (int)(address % 300)),
                           .snr_x10 = 70,
                           .payload = frame,
                           .len = (uint16_t)n};
    return lw_simwire_encode(&m, out, cap);
}

double bench_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void bench_sleep_until(double mono_s)
{
    struct timespec ts = {.tv_sec = (time_t)mono_s};
    ts.tv_nsec = (long)((mono_s - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_nsec = 999999999L;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof(*v), cmp_double);
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    return v[rank ? rank - 1 : 0];
}

long bench_rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* Sum a field over every thread of pid (/proc/PID/task/TID/status or stat). */
long bench_ctxt_switches(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    long sum = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p2[128], line[256];
        if (snprintf(p2, sizeof(p2), "/proc/%d/task/%.32s/status", (int)pid, e->d_name) >=
            (int)sizeof(p2))
            continue;
        FILE *f = fopen(p2, "r");
        if (!f)
            continue;
        long v;
        while (fgets(line, sizeof(line), f))
            if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1 ||
                sscanf(line, "nonvoluntary_ctxt_switches: %ld", &v) == 1)
                sum += v;
        fclose(f);
    }
    closedir(d);
    return sum;
}

long bench_cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: fields follow the last ')'. */
    char *p = strrchr(buf, ')');
    unsigned long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (long)(ut + st);
}

bool bench_json_open(struct bench_json *j, const char *path)
{
    j->n = 0;
    j->f = fopen(path, "w");
    if (!j->f) {
        fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
        return false;
    }
    fputs("{", j->f);
    return true;
}

static void json_key(struct bench_json *j, const char *key)
{
    fprintf(j->f, "%s\n  \"%s\": ", j->n++ ? "," : "", key);
}

void bench_json_num(struct bench_json *j, const char *key, double v, int decimals)
{
    if (!j->f)
        return;
    json_key(j, key);
    if (isfinite(v))
        fprintf(j->f, "%.*f", decimals, v);
    else
        fputs("null", j->f);
}

void bench_json_str(struct bench_json *j, const char *key, const char *v)
{
    if (!j->f)
        return;
    json_key(j, key);
    fputc('"', j->f);
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(j->f, "\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            fprintf(j->f, "\\u%04x", (unsigned char)*p);
        else
            fputc(*p, j->f);
    }
    fputc('"', j->f);
}

void bench_json_bool(struct bench_json *j, const char *key, bool v)
{
    if (!j->f)
        return;
    json_key(j, key);
    fputs(v ? "true" : "false", j->f);
}

bool bench_json_close(struct bench_json *j)
{
    if (!j->f)
        return true;
    fputs("\n}\n", j->f);
    bool ok = fclose(j->f) == 0;
    j->f = NULL;
    return ok;
}

void bench_row(const char *figure, double v, int decimals)
{
    if (isfinite(v))
        printf("%-32s %14.*f\n", figure, decimals, v);
    else
        printf("%-32s %14s\n", figure, "n/a");
}
