/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the rollups and retention kept by lw_store: every hourly and daily row is checked
 * against brute-force SQL over the raw readings of small generated data, after a clean close and
 * after a crash (the held hours recovered from the readings); and the compact readings row. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lw_config.h"
#include "lw_error.h"
#include "lw_gateway.h"
#include "lw_rollup_rules.h"
#include "lw_rollup.h"
#include "lw_store.h"
#include "test_support.h"

static char path[300];
static const char *qpath = path; /* the database q1 reads */

static const char rules[] =
    "[rule:watch]\nmetric = water_mm\nexcept_tags = basement\nthreshold = 76\nclear = 40\n"
    "level = blue\n"
    "[rule:street]\nmetric = water_mm\nexcept_tags = basement\nthreshold = 150\nclear = 100\n"
    "level = orange\n"
    "[rule:basement]\nmetric = water_mm\ntags = basement\nthreshold = 50\nclear = 20\n"
    "level = red\n"
    "[rule:smoke]\nmetric = smoke\nthreshold = 1\nclear = 0\nlevel = red\n"
    "[rule:batt]\nmetric = battery_mv\ndirection = below\nthreshold = 3300\nclear = 3400\n"
    "level = blue\nhazard = trouble\n";

static int setup(void **state)
{
    (void)state;
    return lw_test_db_path(path, sizeof(path), "lwrollup");
}

static void remove_db(const char *db)
{
    char p[340];
    unlink(db);
    snprintf(p, sizeof(p), "%s-wal", db);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", db);
    unlink(p);
}

static int teardown(void **state)
{
    (void)state;
    char p[320];
    remove_db(path);
    snprintf(p, sizeof(p), "%s.crash", path);
    remove_db(p);
    qpath = path;
    return 0;
}

static void exec_rw(const char *sql)
{
    sqlite3 *db;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static int64_t q1(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    int64_t v = INT64_MIN;
    assert_int_equal(sqlite3_open_v2(qpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

/* Three water nodes (street, street, basement) and a smoke node, readings every 5 min with
 * jitter and losses for two days, storms rising and falling, some frames sent twice. With late,
 * one reading in 30 is held back and stored a while later (out of time order). */
static struct lw_store *fill_late(uint32_t batch_rows, unsigned seed, bool late)
{
    char err[256];
    struct lw_store *s = lw_store_open(path, batch_rows, err, sizeof(err));
    if (!s)
        fail_msg("%s", err);
    exec_rw("INSERT INTO nodes(address, name, eui, kind, building, tags) VALUES"
            "(1, 'a', '01', 'water', 'B1', 'street'), (2, 'b', '02', 'water', 'B1', 'street'),"
            "(3, 'c', '03', 'water', 'B2', 'basement'), (4, 'd', '04', 'smoke', 'B2', '')");
    struct lw_config *cfg = lw_config_parse("rules", rules, strlen(rules), NULL, NULL);
    assert_non_null(cfg);
    assert_int_equal(lw_gateway_set_levels(s, cfg), LW_OK);
    lw_config_free(cfg);
    srand(seed);
    int64_t t0 = 1751328000000LL; /* 2025-07-01T00:00:00Z */
    uint32_t fcnt[5] = {0};
    struct lw_reading held_r;
    struct lw_store_reading held = {.node = 0};
    for (int k = 0; k < 2 * 288; k++)
        for (uint16_t node = 1; node <= 4; node++) {
            fcnt[node]++;
            if (rand() % 40 == 0 || (node == 2 && k > 100 && k < 130))
                continue; /* lost frames, and a silent half-hour and more */
            int64_t t = t0 + k * 300000LL + node * 1000 + rand() % 20000;
            double storm = 200 * sin((k % 144) * 3.14159 / 144.0);
            struct lw_reading r = {.present = LW_R_BATTERY,
                                   .battery_mv = (uint16_t)(3500 - k / 4 - rand() % 5)};
            if (node == 4) {
                r.present |= LW_R_SMOKE;
                r.smoke_alarm = k % 97 < 3;
                r.smoke_obscuration = (uint16_t)(rand() % 100);
            } else {
                r.present |= LW_R_WATER;
                double w = storm * (node == 3 ? 0.6 : node == 2 ? 1.1 : 0.9) - 20 + rand() % 7;
                r.water_mm = (uint16_t)(w < 0 ? 0 : w);
            }
            struct lw_store_reading rd = {.node = node,
                                          .t_ms = t,
                                          .fcnt = fcnt[node],
                                          .type = 1,
                                          .rssi_x10 = -1000,
                                          .snr_x10 = 50,
                                          .r = &r};
            if (late && !held.node && rand() % 30 == 0) {
                held_r = r;
                held = rd;
                held.r = &held_r;
                continue;
            }
            assert_int_equal(lw_store_add_reading(s, &rd), LW_OK);
            if (rand() % 25 == 0) /* a relay's copy: ignored, never counted twice */
                assert_int_equal(lw_store_add_reading(s, &rd), LW_OK);
            if (held.node && rand() % 15 == 0) { /* minutes to hours late */
                assert_int_equal(lw_store_add_reading(s, &held), LW_OK);
                held.node = 0;
            }
        }
    assert_int_equal(lw_store_commit(s), LW_OK);
    return s;
}

static struct lw_store *fill(uint32_t batch_rows, unsigned seed)
{
    return fill_late(batch_rows, seed, false);
}

/* Brute force: the metric per node (water_mm or smoke), the same duration rule as the rollups
 * (time since the node's previous reading, at most LW_ROLLUP_GAP_MS) through a window function. */
#define BRUTE(bucket)                                                                              \
    "WITH x AS (SELECT r.node, r.ts_ms, CASE WHEN n.kind = 'water' THEN r.water_mm ELSE "          \
    "r.smoke END AS v, r.battery_mv AS b, min(r.ts_ms - lag(r.ts_ms) OVER (PARTITION BY r.node "   \
    "ORDER BY r.ts_ms), 900000) AS dt FROM readings r JOIN nodes n ON n.address = r.node), "       \
    "g AS (SELECT x.node, " bucket " AS t, count(*) AS frames, count(v) AS n, sum(v) AS vsum, "    \
    "min(v) AS vmin, max(v) AS vmax, min(b) AS bmin, "                                             \
    "sum(CASE WHEN v >= l.blue THEN coalesce(dt, 0) ELSE 0 END) AS ab, "                           \
    "sum(CASE WHEN v >= l.orange THEN coalesce(dt, 0) ELSE 0 END) AS ao, "                         \
    "sum(CASE WHEN v >= l.red THEN coalesce(dt, 0) ELSE 0 END) AS ar "                             \
    "FROM x JOIN rollup_levels l ON l.node = x.node GROUP BY 1, 2) "

/* times: also the time above each level (brute force takes readings in time order, so only
 * for readings stored in time order). */
static void check_brute(const char *table, const char *bucket, bool times)
{
    char sql[4096];
    snprintf(sql, sizeof(sql),
             BRUTE("%s") "SELECT count(*) FROM g LEFT JOIN %s h ON h.node = g.node AND h.t_ms = "
                         "g.t WHERE h.node IS NULL OR h.frames <> g.frames OR h.n <> g.n OR "
                         "h.vsum <> g.vsum OR h.vmin <> g.vmin OR h.vmax <> g.vmax OR "
                         "h.batt_min <> g.bmin OR (%d AND (h.above_blue <> g.ab OR "
                         "h.above_orange <> g.ao OR h.above_red <> g.ar))",
             bucket, table, times);
    assert_int_equal(q1(sql), 0);
    snprintf(sql, sizeof(sql), BRUTE("%s") "SELECT count(*) FROM g", bucket);
    int64_t groups = q1(sql);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    assert_int_equal(q1(sql), groups); /* and no rollup row without readings */
    assert_true(groups > 0);
}

static void check_against_brute_force(const char *table, const char *bucket)
{
    check_brute(table, bucket, true);
}

static void day_bucket(char *buf, size_t cap)
{
    int64_t tz = lw_store_tz_offset_ms();
    snprintf(buf, cap, "((x.ts_ms + %lld) / 86400000) * 86400000 - %lld", (long long)tz,
             (long long)tz);
}

static void test_hourly_rollups_match_brute_force(void **state)
{
    (void)state;
    lw_store_close(fill(7, 1));
    check_against_brute_force("rollup_hour", "(x.ts_ms / 3600000) * 3600000");
    /* Something to check: time above each level exists, and the basement has only red. */
    assert_true(q1("SELECT sum(above_blue) FROM rollup_hour WHERE node = 1") > 0);
    assert_true(q1("SELECT sum(above_orange) FROM rollup_hour WHERE node = 2") > 0);
    assert_true(q1("SELECT sum(above_red) FROM rollup_hour WHERE node = 3") > 0);
    assert_int_equal(q1("SELECT sum(above_blue) FROM rollup_hour WHERE node = 3"), 0);
    assert_true(q1("SELECT sum(above_red) FROM rollup_hour WHERE node = 4") > 0);
    assert_int_equal(q1("SELECT red FROM rollup_levels WHERE node = 3"), 50);
    assert_true(q1("SELECT blue FROM rollup_levels WHERE node = 3") == INT64_MIN);
}

static void test_daily_rollups_match_brute_force(void **state)
{
    (void)state;
    lw_store_close(fill(256, 2));
    char bucket[160];
    day_bucket(bucket, sizeof(bucket));
    check_against_brute_force("rollup_day", bucket);
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[65536];
    size_t n;
    assert_non_null(in);
    assert_non_null(out);
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* What a power cut or kill -9 right after a commit leaves on disk: the file and its WAL. */
static void crash_image(const char *to)
{
    char a[340], b[340];
    copy_file(path, to);
    snprintf(a, sizeof(a), "%s-wal", path);
    snprintf(b, sizeof(b), "%s-wal", to);
    copy_file(a, b);
}

/* Each node's current hour and day are held in memory, not yet written: a crash loses them from
 * the rollups but not from the readings, and the next open rolls the readings after the latest
 * one counted back in, so every row matches brute force again. */
static void test_crash_recovers_held_hours(void **state)
{
    (void)state;
    char crash[320], bucket[160];
    snprintf(crash, sizeof(crash), "%s.crash", path);
    struct lw_store *s = fill(7, 5);
    crash_image(crash);
    lw_store_close(s);
    qpath = crash;
    int64_t readings = q1("SELECT count(*) FROM readings");
    assert_true(q1("SELECT sum(frames) FROM rollup_hour") < readings);
    assert_true(q1("SELECT sum(frames) FROM rollup_day") < readings);
    char err[256];
    struct lw_store *c = lw_store_open(crash, 7, err, sizeof(err));
    assert_non_null(c);
    /* Recovered at open, before any new reading: visible to readers at once. */
    assert_int_equal(q1("SELECT sum(frames) FROM rollup_hour"), readings);
    assert_int_equal(q1("SELECT sum(frames) FROM rollup_day"), readings);
    check_against_brute_force("rollup_hour", "(x.ts_ms / 3600000) * 3600000");
    day_bucket(bucket, sizeof(bucket));
    check_against_brute_force("rollup_day", bucket);
    lw_store_close(c);
    check_against_brute_force("rollup_hour", "(x.ts_ms / 3600000) * 3600000");
    /* The run that was not cut off ends with the same rollups. */
    qpath = path;
    check_against_brute_force("rollup_hour", "(x.ts_ms / 3600000) * 3600000");
    check_against_brute_force("rollup_day", bucket);
}

/* A crash in the middle of the stream, then the stream goes on: the recovered hours and the ones
 * written later add up, counting no reading twice. */
static void test_crash_then_more_readings(void **state)
{
    (void)state;
    char crash[320], err[256], bucket[160];
    snprintf(crash, sizeof(crash), "%s.crash", path);
    struct lw_store *s = fill(50, 6);
    crash_image(crash);
    lw_store_close(s);
    struct lw_store *c = lw_store_open(crash, 50, err, sizeof(err));
    assert_non_null(c);
    struct lw_config *cfg = lw_config_parse("rules", rules, strlen(rules), NULL, NULL);
    assert_non_null(cfg);
    assert_int_equal(lw_gateway_set_levels(c, cfg), LW_OK);
    lw_config_free(cfg);
    int64_t t = 1751328000000LL + 2 * 86400000LL;
    for (int k = 0; k < 40; k++)
        for (uint16_t node = 1; node <= 3; node++) {
            struct lw_reading r = {.present = LW_R_WATER | LW_R_BATTERY,
                                   .water_mm = (uint16_t)(k * 7 % 180),
                                   .battery_mv = 3400};
            struct lw_store_reading rd = {.node = node,
                                          .t_ms = t + k * 300000LL + node * 1000,
                                          .fcnt = 5000 + (uint32_t)k,
                                          .type = 1,
                                          .r = &r};
            assert_int_equal(lw_store_add_reading(c, &rd), LW_OK);
        }
    lw_store_close(c);
    qpath = crash;
    check_against_brute_force("rollup_hour", "(x.ts_ms / 3600000) * 3600000");
    day_bucket(bucket, sizeof(bucket));
    check_against_brute_force("rollup_day", bucket);
}

/* Frames received in the same millisecond (a burst through the forwarder) share a time: none is
 * lost or counted twice by the recovery. */
static void test_crash_with_equal_times(void **state)
{
    (void)state;
    char crash[320], err[256];
    snprintf(crash, sizeof(crash), "%s.crash", path);
    struct lw_store *s = lw_store_open(path, 16, err, sizeof(err));
    assert_non_null(s);
    for (uint32_t i = 0; i < 200; i++) {
        struct lw_reading r = {.present = LW_R_WATER, .water_mm = (uint16_t)(i % 90)};
        struct lw_store_reading rd = {.node = 1 + i % 2,
                                      .t_ms = 1751328000000LL + (i / 10) * 1000,
                                      .fcnt = i + 1,
                                      .type = 1,
                                      .r = &r};
        assert_int_equal(lw_store_add_reading(s, &rd), LW_OK);
    }
    assert_int_equal(lw_store_commit(s), LW_OK);
    crash_image(crash);
    lw_store_close(s);
    struct lw_store *c = lw_store_open(crash, 16, err, sizeof(err));
    assert_non_null(c);
    lw_store_close(c);
    qpath = crash;
    assert_int_equal(q1("SELECT sum(frames) FROM rollup_hour"), 200);
    assert_int_equal(q1("SELECT sum(vsum) FROM rollup_day"),
                     q1("SELECT sum(water_mm) FROM readings"));
    qpath = path;
    assert_int_equal(q1("SELECT sum(frames) FROM rollup_day"), 200);
}

/* Readings stored late (an older hour than the node's newest) go straight to their rows; count,
 * sum, min, max and battery still match brute force, after a close and after a crash. */
static void test_late_readings_match_brute_force(void **state)
{
    (void)state;
    char crash[320], err[256], bucket[160];
    snprintf(crash, sizeof(crash), "%s.crash", path);
    day_bucket(bucket, sizeof(bucket));
    struct lw_store *s = fill_late(9, 7, true);
    crash_image(crash);
    lw_store_close(s);
    check_brute("rollup_hour", "(x.ts_ms / 3600000) * 3600000", false);
    check_brute("rollup_day", bucket, false);
    struct lw_store *c = lw_store_open(crash, 9, err, sizeof(err));
    assert_non_null(c);
    lw_store_close(c);
    qpath = crash;
    check_brute("rollup_hour", "(x.ts_ms / 3600000) * 3600000", false);
    check_brute("rollup_day", bucket, false);
}

/* Schema version 6 stores a reading in fewer columns (packed integers behind generated ones):
 * every column reads back as it was stored, NULLs included, and old rows migrate unchanged. */
static void test_compact_row_keeps_every_column(void **state)
{
    (void)state;
    static const char cols[] = "node, ts_ms, fcnt, type, hops, rssi_x10, snr_x10, water_mm, "
                               "smoke, obscuration, gas_lel_x10, co_ppm, temp_x10, battery_mv, "
                               "flags, mono_ms, time_quality";
    /* A version 1 file with rows of every shape, migrated on open. */
    exec_rw(LW_TEST_SCHEMA_V1
            "INSERT INTO readings VALUES(1, 1000, 1, 1, 0, -1000, 50, 42, NULL, NULL, NULL, NULL, "
            "NULL, 3500, NULL);"
            "INSERT INTO readings VALUES(2, 1000, 9, 2, 3, -1370, -175, NULL, 1, 250, 1000, 35, "
            "-55, 3310, 8);"
            "INSERT INTO readings VALUES(3, 2000, 70000, 255, 255, NULL, NULL, 0, 0, 65535, 0, "
            "65535, 32767, NULL, 15);"
            "INSERT INTO readings VALUES(3, 3000, 70001, 6, 7, -900, 95, 2000, NULL, NULL, NULL, "
            "NULL, -32768, 0, 0);"
            "PRAGMA application_id = 1280787522; PRAGMA user_version = 1;");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char sql[512];
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE want AS SELECT *, NULL AS mono_ms, NULL AS "
                                  "time_quality FROM readings",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    char err[256];
    struct lw_store *s = lw_store_open(path, 10, err, sizeof(err));
    assert_non_null(s);
    /* And the same shapes stored by this version, clock unsynchronised for one. */
    struct lw_reading r1 = {
        .present = LW_R_WATER | LW_R_BATTERY, .water_mm = 42, .battery_mv = 3500};
    struct lw_reading r2 = {.present = LW_R_SMOKE | LW_R_GAS | LW_R_CO | LW_R_TEMP | LW_R_BATTERY |
                                       LW_R_FLAGS,
                            .smoke_alarm = 1,
                            .smoke_obscuration = 250,
                            .gas_lel_x10 = 1000,
                            .co_ppm = 35,
                            .temp_c_x10 = -55,
                            .battery_mv = 3310,
                            .flags = 8};
    struct lw_reading r3 = {.present = LW_R_WATER | LW_R_SMOKE | LW_R_CO | LW_R_TEMP | LW_R_FLAGS,
                            .smoke_obscuration = 65535,
                            .co_ppm = 65535,
                            .temp_c_x10 = 32767,
                            .flags = 15};
    struct lw_store_reading rd[] = {
        {.node = 101,
         .t_ms = 1000,
         .fcnt = 1,
         .type = 1,
         .rssi_x10 = -1000,
         .snr_x10 = 50,
         .r = &r1},
        {.node = 102,
         .t_ms = 1000,
         .fcnt = 9,
         .type = 2,
         .hops = 3,
         .rssi_x10 = -1370,
         .snr_x10 = -175,
         .unsynced = true,
         .mono_ms = 123456789,
         .r = &r2},
        {.node = 103, .t_ms = 2000, .fcnt = 70000, .type = 255, .hops = 255, .r = &r3},
    };
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(lw_store_add_reading(s, &rd[i]), LW_OK);
    lw_store_close(s);
    exec_rw("INSERT INTO want VALUES(101, 1000, 1, 1, 0, -1000, 50, 42, NULL, NULL, NULL, NULL, "
            "NULL, 3500, NULL, NULL, NULL), (102, 1000, 9, 2, 3, -1370, -175, NULL, 1, 250, 1000, "
            "35, -55, 3310, 8, 123456789, 1), (103, 2000, 70000, 255, 255, 0, 0, 0, 0, 65535, "
            "NULL, 65535, 32767, NULL, 15, NULL, NULL)");
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM (SELECT %s FROM readings EXCEPT SELECT * FROM want)", cols);
    assert_int_equal(q1(sql), 0);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM (SELECT * FROM want EXCEPT SELECT %s FROM readings)", cols);
    assert_int_equal(q1(sql), 0);
    assert_int_equal(q1("SELECT count(*) FROM readings"), 7);
    /* Negative temperatures come back negative integers, not as packed bits. */
    assert_int_equal(q1("SELECT count(*) FROM readings WHERE typeof(temp_x10) = 'integer' AND "
                        "temp_x10 < 0"),
                     3);
    assert_int_equal(q1("SELECT count(*) FROM readings WHERE time_quality = 1"), 1);
}

/* Batches of one and of many give the same rollups: the accumulators are exact. */
static void test_batch_size_does_not_change_rollups(void **state)
{
    (void)state;
    lw_store_close(fill(1, 3));
    int64_t a = q1("SELECT sum(vsum) + sum(above_blue) + sum(above_red) + sum(frames) FROM "
                   "rollup_hour");
    teardown(NULL);
    lw_store_close(fill(5000, 3));
    assert_int_equal(q1("SELECT sum(vsum) + sum(above_blue) + sum(above_red) + sum(frames) FROM "
                        "rollup_hour"),
                     a);
}

/* Retention deletes old raw readings a chunk at a time and keeps every rollup. */
static void test_retention_in_chunks_keeps_rollups(void **state)
{
    (void)state;
    struct lw_store *s = fill(64, 4);
    int64_t before = q1("SELECT count(*) FROM readings");
    int64_t hours = q1("SELECT count(*) FROM rollup_hour");
    int64_t max_ts = q1("SELECT max(ts_ms) FROM readings");
    assert_int_equal(lw_store_retention_step(s, max_ts, 100), 0); /* no retention set */
    lw_store_set_retention(s, 1);
    /* "now" is the last reading: everything older than one day goes. */
    int64_t due = q1("SELECT count(*) FROM readings WHERE ts_ms < (SELECT max(ts_ms) FROM "
                     "readings) - 86400000");
    assert_true(due > 200);
    long total = 0, n;
    int steps = 0;
    while ((n = lw_store_retention_step(s, max_ts, 50)) > 0) {
        assert_true(n <= 50 + 4); /* one node's chunk (equal times may add a few) */
        total += n;
        steps++;
        assert_true(steps < 1000);
    }
    assert_int_equal(n, 0);
    assert_int_equal(total, due);
    assert_int_equal(q1("SELECT count(*) FROM readings"), before - due);
    assert_int_equal(q1("SELECT count(*) FROM readings WHERE ts_ms < (SELECT max(ts_ms) FROM "
                        "readings) - 86400000"),
                     0);
    assert_int_equal(q1("SELECT count(*) FROM rollup_hour"), hours);
    lw_store_close(s);
}

static void test_levels_and_buckets_pure(void **state)
{
    (void)state;
    struct lw_config *cfg = lw_config_parse("rules", rules, strlen(rules), NULL, NULL);
    assert_non_null(cfg);
    struct lw_node_conf n;
    memset(&n, 0, sizeof(n));
    n.kind = LW_KIND_WATER;
    snprintf(n.tags, sizeof(n.tags), "street");
    double thr[LW_LEVEL_COUNT];
    lw_rollup_levels(cfg->rules, cfg->n_rules, &n, LW_METRIC_WATER, thr);
    assert_true(thr[LW_LEVEL_BLUE] == 76 && thr[LW_LEVEL_ORANGE] == 150);
    assert_true(isnan(thr[LW_LEVEL_RED]) && isnan(thr[LW_LEVEL_YELLOW]));
    /* A falling rule (battery) never counts as a level to be above. */
    lw_rollup_levels(cfg->rules, cfg->n_rules, &n, LW_METRIC_BATTERY, thr);
    assert_true(isnan(thr[LW_LEVEL_BLUE]));
    lw_config_free(cfg);
    assert_int_equal(lw_rollup_hour(3600000 * 5 + 1), 3600000 * 5);
    assert_int_equal(lw_rollup_hour(-1), -3600000);
    assert_int_equal(lw_rollup_day(16 * 3600000LL, 8 * 3600000LL), 16 * 3600000LL);
    assert_int_equal(lw_rollup_day(16 * 3600000LL - 1, 8 * 3600000LL), -8 * 3600000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hourly_rollups_match_brute_force, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daily_rollups_match_brute_force, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_size_does_not_change_rollups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_recovers_held_hours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_then_more_readings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_with_equal_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_readings_match_brute_force, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compact_row_keeps_every_column, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_in_chunks_keeps_rollups, setup, teardown),
        cmocka_unit_test(test_levels_and_buckets_pure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
