/* Ingest benchmark: sealed frames from a 1,000-node registry through the daemon's whole pipeline
 * (admission, CCM, SQLite batch, rules, node-state publish when a broker is given), side by side
 * with a minimal batched SQLite insert loop in the same run, so the ratio survives machine drift.
 * usage: bench_ingest [--frames N] [--mqtt-port PORT] [--dir DIR] */
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lw_config.h"
#include "lw_error.h"
#include "lw_frame.h"
#include "lw_gateway.h"
#include "lw_log.h"
#include "lw_reading.h"

#define NODES 1000

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void node_key(unsigned i, uint8_t key[LW_KEY_LEN])
{
    /* Distinct per node (the daemon refuses shared keys); not secret, only a benchmark. */
    uint32_t x = 0x9E3779B9u * (i + 1);
    for (unsigned b = 0; b < LW_KEY_LEN; b++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        key[b] = (uint8_t)x;
    }
    key[0] = (uint8_t)i;
    key[1] = (uint8_t)(i >> 8);
}

static char *make_config(const char *dir, unsigned port)
{
    size_t cap = 256 * NODES + 4096, len = 0;
    char *t = malloc(cap);
    if (!t)
        return NULL;
    len += (size_t)snprintf(t + len, cap - len,
                            "[gateway]\nsite = bench\ndatabase = %s/bench.db\n"
                            "[radio]\nsim_clock = medium\n"
                            "[mqtt]\nport = %u\nreconnect_min = 60s\n"
                            "[rule:flood]\nmetric = water_mm\nthreshold = 150\nclear = 100\n"
                            "persistence = 5m\nlevel = orange\n",
                            dir, port);
    for (unsigned i = 0; i < NODES; i++) {
        uint8_t key[LW_KEY_LEN];
        char hex[33];
        node_key(i, key);
        for (int b = 0; b < LW_KEY_LEN; b++)
            snprintf(hex + 2 * b, 3, "%02X", key[b]);
        len += (size_t)snprintf(t + len, cap - len,
                                "[node:n%u]\naddress = %u\neui = 70B3D57E%08X\nkey = %s\n"
                                "kind = water\n",
                                i, i + 1, i + 1, hex);
    }
    return t;
}

/* The same rows through the simplest batched insert loop we can write: the ceiling. */
static double sqlite_ceiling(const char *dir, unsigned rows)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/ceiling.db", dir);
    unlink(path);
    sqlite3 *db;
    sqlite3_stmt *q;
    sqlite3_open(path, &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "CREATE TABLE readings(node INTEGER NOT NULL, ts_ms INTEGER NOT NULL, fcnt "
                 "INTEGER NOT NULL, type INTEGER NOT NULL, hops INTEGER NOT NULL, rssi_x10 "
                 "INTEGER, snr_x10 INTEGER, water_mm INTEGER, smoke INTEGER, obscuration INTEGER, "
                 "gas_lel_x10 INTEGER, co_ppm INTEGER, temp_x10 INTEGER, battery_mv INTEGER, "
                 "flags INTEGER, PRIMARY KEY(node, ts_ms, fcnt)) WITHOUT ROWID;",
                 NULL, NULL, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT INTO readings VALUES(?,?,?,1,0,-900,70,?,NULL,NULL,NULL,NULL,245,"
                       "3600,0)",
                       -1, &q, NULL);
    double t0 = mono_s();
    for (unsigned i = 0; i < rows; i++) {
        if (i % 256 == 0)
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        sqlite3_bind_int(q, 1, (int)(i % NODES + 1));
        sqlite3_bind_int64(q, 2, 1784052000000LL + i * 10);
        sqlite3_bind_int(q, 3, (int)(i / NODES + 1));
        sqlite3_bind_int(q, 4, (int)(i % 90));
        sqlite3_step(q);
        sqlite3_reset(q);
        if (i % 256 == 255)
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    double dt = mono_s() - t0;
    sqlite3_finalize(q);
    sqlite3_close(db);
    return rows / dt;
}

int main(int argc, char **argv)
{
    unsigned frames = 200000, port = 1;
    char dir[256] = "";
    static const struct option opts[] = {{"frames", required_argument, NULL, 'n'},
                                         {"mqtt-port", required_argument, NULL, 'p'},
                                         {"dir", required_argument, NULL, 'd'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "n:p:d:", opts, NULL)) != -1) {
        if (c == 'n')
            frames = (unsigned)strtoul(optarg, NULL, 10);
        else if (c == 'p')
            port = (unsigned)strtoul(optarg, NULL, 10);
        else if (c == 'd')
            snprintf(dir, sizeof(dir), "%s", optarg);
        else {
            fprintf(stderr, "usage: bench_ingest [--frames N] [--mqtt-port PORT] [--dir DIR]\n");
            return 2;
        }
    }
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/lw-bench.XXXXXX");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            return 1;
        }
    }
    lw_log_init("bench_ingest", LW_LOG_WARNING);
    char *text = make_config(dir, port);
    struct lw_config *cfg = text ? lw_config_parse("bench", text, strlen(text), NULL, NULL) : NULL;
    free(text);
    if (!cfg)
        return 1;

    /* Seal every frame first: the node side's cost is not the gateway's. */
    struct lw_radio_rx *rx = calloc(frames, sizeof(*rx));
    if (!rx)
        return 1;
    for (unsigned i = 0; i < frames; i++) {
        unsigned node = i % NODES;
        uint8_t key[LW_KEY_LEN], plain[LW_READING_MAX_LEN];
        node_key(node, key);
        struct lw_reading r = {.present = LW_R_WATER | LW_R_TEMP | LW_R_BATTERY | LW_R_FLAGS,
                               .water_mm = (uint16_t)(i % 90),
                               .temp_c_x10 = 245,
                               .battery_mv = 3600};
        int pl = lw_reading_encode(&r, plain, sizeof(plain));
        struct lw_frame_hdr h = {.type = LW_FT_DATA,
                                 .hop_limit = 3,
                                 .net_id = 0x4C57,
                                 .src = (uint16_t)(node + 1),
                                 .dst = LW_ADDR_GATEWAY,
                                 .fcnt = i / NODES + 1};
        int n = lw_frame_seal(&h, key, plain, (size_t)pl, rx[i].buf, sizeof(rx[i].buf));
        rx[i].len = (size_t)n;
        rx[i].t_ms = 1784052000000LL + (int64_t)i * 10;
        rx[i].rssi_x10 = -900;
        rx[i].snr_x10 = 70;
    }

    uv_loop_t loop;
    uv_loop_init(&loop);
    struct lw_gateway *g;
    if (lw_gateway_new(&loop, cfg, false, &g) != LW_OK)
        return 1;
    double until = mono_s() + (port > 1 ? 3.0 : 0.0);
    while (mono_s() < until)
        uv_run(&loop, UV_RUN_NOWAIT); /* let MQTT connect when a broker is given */

    double t0 = mono_s();
    for (unsigned i = 0; i < frames; i++) {
        lw_gateway_handle_rx(g, &rx[i]);
        if (i % 256 == 255)
            uv_run(&loop, UV_RUN_NOWAIT); /* MQTT writes and commit timers, as in the daemon */
    }
    lw_gateway_flush(g);
    double dt = mono_s() - t0;
    struct lw_gateway_counters gc;
    lw_gateway_counters(g, &gc);
    lw_gateway_stop(g, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);

    double ingest = frames / dt;
    double ceiling = sqlite_ceiling(dir, frames);
    printf("%-28s %12s\n", "figure", "value");
    printf("%-28s %12u\n", "nodes", NODES);
    printf("%-28s %12u\n", "frames", frames);
    printf("%-28s %12llu\n", "readings_stored", (unsigned long long)gc.readings_stored);
    printf("%-28s %12s\n", "mqtt", port > 1 ? "broker" : "none");
    printf("%-28s %12.0f\n", "ingest_frames_per_s", ingest);
    printf("%-28s %12.0f\n", "sqlite_ceiling_rows_per_s", ceiling);
    printf("%-28s %12.2f\n", "ingest_vs_ceiling", ingest / ceiling);
    free(rx);
    lw_config_free(cfg);
    return gc.readings_stored == frames ? 0 : 1;
}
