/* SPDX-License-Identifier: Apache-2.0 */
/* Ingest benchmark: sealed frames from a 1,000-node registry through the daemon's whole pipeline
 * (admission, CCM, SQLite batch, rules, node-state publish when a broker is given), side by side
 * with a minimal batched SQLite insert loop in the same run, so the ratio survives machine drift.
 * usage: bench_ingest [--frames N] [--mqtt-port PORT] [--dir DIR] [--rules FILE] [--json FILE] */
#include <getopt.h>
#include <mosquitto.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_common.h"
#include "lw_config.h"
#include "lw_error.h"
#include "lw_gateway.h"
#include "lw_log.h"
#include "lw_store.h"

#define SITE "bench"
/* The daemon drains at most this many frames per loop iteration (lw_radio.c): do the same. */
#define FRAMES_PER_WAKEUP 64

/* The same rows through the simplest batched insert loop we can write: the ceiling. The table is
 * the daemon's own (lw_store creates the schema, indexes included), so the two stay comparable
 * whatever the schema becomes. */
static double sqlite_ceiling(const char *dir, unsigned rows)
{
    char path[512], err[256];
    snprintf(path, sizeof(path), "%s/ceiling.db", dir);
    unlink(path);
    struct lw_store *st = lw_store_open(path, 256, err, sizeof(err));
    if (!st) {
        fprintf(stderr, "bench_ingest: %s\n", err);
        return 0;
    }
    lw_store_close(st);
    sqlite3 *db;
    sqlite3_stmt *q;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           /* Schema v6 packs type 1, hops 0 and flags 0 into packed and
                            * the temperature 24.5 degC into sensors (lw_store_schema.c, migrate_v6). */
                           "INSERT INTO readings(node, ts_ms, fcnt, rssi_x10, snr_x10, water_mm, "
                           "battery_mv, packed, sensors) VALUES(?,?,?,-900,70,?,3600,262145,"
                           "256901122)",
                           -1, &q, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_ingest: ceiling: %s\n", sqlite3_errmsg(db));
        sqlite3_close(db);
        return 0;
    }
    double t0 = bench_mono_s();
    for (unsigned i = 0; i < rows; i++) {
        if (i % 256 == 0)
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        sqlite3_bind_int(q, 1, (int)(i % BENCH_NODES + 1));
        sqlite3_bind_int64(q, 2, 1784052000000LL + i * 10);
        sqlite3_bind_int(q, 3, (int)(i / BENCH_NODES + 1));
        sqlite3_bind_int(q, 4, (int)(i % 20));
        sqlite3_step(q);
        sqlite3_reset(q);
        if (i % 256 == 255)
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    double dt = bench_mono_s() - t0;
    sqlite3_finalize(q);
    sqlite3_close(db);
    unlink(path);
    return rows / dt;
}

/* A watcher on the broker, in libmosquitto's own thread: sees the gateway come online and counts
 * the retained state messages of one node, so the figure provably includes MQTT publishing. */
struct watch {
    atomic_bool online;
    atomic_uint node_msgs;
};

static void on_watch_msg(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
    struct watch *w = obj;
    (void)mosq;
    if (strstr(msg->topic, "/gateway/status")) {
        /* libmosquitto terminates every payload with a NUL byte. */
        if (msg->payloadlen > 0 && strstr(msg->payload, "\"state\":\"online\""))
            atomic_store(&w->online, true);
    } else {
        atomic_fetch_add(&w->node_msgs, 1);
    }
}

static void on_watch_connect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)obj;
    if (rc == 0) {
        mosquitto_subscribe(mosq, NULL, "lorawatch/" SITE "/gateway/status", 0);
        mosquitto_subscribe(mosq, NULL, "lorawatch/" SITE "/node/n0001", 0);
    }
}

static void on_tick(uv_timer_t *t)
{
    (void)t; /* only wakes uv_run(UV_RUN_ONCE) so the wait loop can look at the clock */
}

int main(int argc, char **argv)
{
    unsigned frames = 200000, port = 1;
    char dir[256] = "", dbpath[320];
    const char *rules = NULL, *json = NULL;
    static const struct option opts[] = {
        {"frames", required_argument, NULL, 'n'}, {"mqtt-port", required_argument, NULL, 'p'},
        {"dir", required_argument, NULL, 'd'},    {"rules", required_argument, NULL, 'r'},
        {"json", required_argument, NULL, 'j'},   {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "n:p:d:r:j:", opts, NULL)) != -1) {
        if (c == 'n')
            frames = (unsigned)strtoul(optarg, NULL, 10);
        else if (c == 'p')
            port = (unsigned)strtoul(optarg, NULL, 10);
        else if (c == 'd')
            snprintf(dir, sizeof(dir), "%s", optarg);
        else if (c == 'r')
            rules = optarg;
        else if (c == 'j')
            json = optarg;
        else {
            fprintf(stderr, "usage: bench_ingest [--frames N] [--mqtt-port PORT] [--dir DIR] "
                            "[--rules FILE] [--json FILE]\n");
            return 2;
        }
    }
    if (frames < BENCH_NODES) {
        fprintf(stderr, "bench_ingest: --frames must be at least %u\n", BENCH_NODES);
        return 2;
    }
    bool own_dir = !dir[0];
    if (own_dir) {
        snprintf(dir, sizeof(dir), "/tmp/lw-bench.XXXXXX");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            return 1;
        }
    }
    snprintf(dbpath, sizeof(dbpath), "%s/bench.db", dir);
    unlink(dbpath);
    lw_log_init("bench_ingest", LW_LOG_WARNING);
    struct bench_conf bc = {.site = SITE,
                            .database = dbpath,
                            .mqtt_port = port,
                            .clock = "medium",
                            .rules = rules,
                            .log_level = "warning"};
    char *text = bench_config_text(&bc);
    struct lw_config *cfg = text ? lw_config_parse("bench", text, strlen(text), NULL, NULL) : NULL;
    free(text);
    if (!cfg)
        return 1;

    /* Seal every frame first: the node side's cost is not the gateway's. */
    struct lw_radio_rx *rx = calloc(frames, sizeof(*rx));
    if (!rx)
        return 1;
    for (unsigned i = 0; i < frames; i++) {
        unsigned addr = i % BENCH_NODES + 1;
        int n = bench_frame(addr, i / BENCH_NODES + 1, i, false, rx[i].buf, sizeof(rx[i].buf));
        if (n < 0) {
            fprintf(stderr, "bench_ingest: sealing: %s\n", lw_strerror(n));
            return 1;
        }
        rx[i].len = (size_t)n;
        rx[i].t_ms = 1784052000000LL + (int64_t)i * 10;
        rx[i].mono_ms = rx[i].t_ms; /* rules run on the monotonic clock: keep it moving too */
        rx[i].rssi_x10 = -900;
        rx[i].snr_x10 = 70;
    }

    struct watch w = {0};
    struct mosquitto *mosq = NULL;
    if (port > 1) {
        mosquitto_lib_init();
        mosq = mosquitto_new("bench_ingest-watch", true, &w);
        if (!mosq)
            return 1;
        mosquitto_connect_callback_set(mosq, on_watch_connect);
        mosquitto_message_callback_set(mosq, on_watch_msg);
        if (mosquitto_connect(mosq, "127.0.0.1", (int)port, 30) != MOSQ_ERR_SUCCESS ||
            mosquitto_loop_start(mosq) != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "bench_ingest: no broker on 127.0.0.1:%u\n", port);
            return 1;
        }
    }

    uv_loop_t loop;
    uv_loop_init(&loop);
    struct lw_gateway *g;
    if (lw_gateway_new(&loop, cfg, false, &g) != LW_OK)
        return 1;
    if (port > 1) {
        /* Wait (asleep, not spinning) until the gateway's online status reaches the broker. */
        uv_timer_t tick;
        uv_timer_init(&loop, &tick);
        uv_timer_start(&tick, on_tick, 10, 10);
        double until = bench_mono_s() + 10.0;
        while (!atomic_load(&w.online) && bench_mono_s() < until)
            uv_run(&loop, UV_RUN_ONCE);
        uv_close((uv_handle_t *)&tick, NULL);
        uv_run(&loop, UV_RUN_NOWAIT);
        if (!atomic_load(&w.online)) {
            fprintf(stderr, "bench_ingest: the gateway did not come online on the broker\n");
            return 1;
        }
    }

    double ceiling1 = sqlite_ceiling(dir, frames);
    double t0 = bench_mono_s();
    for (unsigned i = 0; i < frames; i++) {
        lw_gateway_handle_rx(g, &rx[i]);
        if (i % FRAMES_PER_WAKEUP == FRAMES_PER_WAKEUP - 1)
            uv_run(&loop, UV_RUN_NOWAIT); /* MQTT writes and commit timers, as in the daemon */
    }
    lw_gateway_flush(g);
    double dt = bench_mono_s() - t0;
    struct lw_gateway_counters gc;
    lw_gateway_counters(g, &gc);
    lw_gateway_stop(g, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    double ceiling2 = sqlite_ceiling(dir, frames);

    unsigned expect_msgs = frames / BENCH_NODES, seen = 0;
    if (mosq) {
        double until = bench_mono_s() + 3.0;
        while (atomic_load(&w.node_msgs) < expect_msgs && bench_mono_s() < until)
            usleep(10000);
        seen = atomic_load(&w.node_msgs);
        mosquitto_disconnect(mosq);
        mosquitto_loop_stop(mosq, false);
        mosquitto_destroy(mosq);
        mosquitto_lib_cleanup();
    }

    /* The better of two ceiling runs (before and after): the ratio errs on the strict side. */
    double ingest = frames / dt;
    double ceiling = ceiling1 > ceiling2 ? ceiling1 : ceiling2;
    if (ceiling1 <= 0 || ceiling2 <= 0)
        return 1;
    printf("%-32s %14s\n", "figure", "value");
    bench_row("nodes", BENCH_NODES, 0);
    bench_row("frames", frames, 0);
    bench_row("readings_stored", (double)gc.readings_stored, 0);
    printf("%-32s %14s\n", "mqtt", port > 1 ? "broker" : "none");
    if (port > 1)
        printf("%-32s %8u of %4u\n", "state_msgs_seen_node_n0001", seen, expect_msgs);
    bench_row("ingest_frames_per_s", ingest, 0);
    bench_row("ingest_us_per_frame", 1e6 / ingest, 2);
    bench_row("sqlite_ceiling_rows_per_s", ceiling, 0);
    bench_row("ingest_vs_ceiling", ingest / ceiling, 2);
    if (json) {
        struct bench_json j;
        if (!bench_json_open(&j, json))
            return 1;
        bench_json_num(&j, "ingest_frames_per_s", ingest, 0);
        bench_json_num(&j, "sqlite_ceiling_rows_per_s", ceiling, 0);
        bench_json_num(&j, "ingest_vs_ceiling", ingest / ceiling, 3);
        bench_json_num(&j, "ingest_frames", frames, 0);
        bench_json_bool(&j, "ingest_mqtt", port > 1);
        if (port > 1)
            bench_json_num(&j, "ingest_state_msgs_seen_ratio",
                           expect_msgs ? (double)seen / expect_msgs : 0, 3);
        if (!bench_json_close(&j))
            return 1;
    }
    free(rx);
    lw_config_free(cfg);
    unlink(dbpath);
    if (own_dir) {
        char p[400];
        snprintf(p, sizeof(p), "%s-wal", dbpath);
        unlink(p);
        snprintf(p, sizeof(p), "%s-shm", dbpath);
        unlink(p);
        rmdir(dir);
    }
    if (gc.readings_stored != frames) {
        fprintf(stderr, "bench_ingest: %llu of %u readings stored\n",
                (unsigned long long)gc.readings_stored, frames);
        return 1;
    }
    return 0;
}
