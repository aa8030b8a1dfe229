/* Unit tests of the rollups and retention kept by lw_store: every hourly and daily row is checked
 * against brute-force SQL over the raw readings of small generated data. */
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
#include "lw_rollup.h"
#include "lw_store.h"

static char path[300];

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
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof(path), "%s/lwrollup.XXXXXX", base && *base ? base : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[320];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
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
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

/* Three water nodes (street, street, basement) and a smoke node, readings every 5 min with
 * jitter and losses for two days, storms rising and falling, some frames sent twice. */
static struct lw_store *fill(uint32_t batch_rows, unsigned seed)
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
    assert_int_equal(lw_store_set_rules(s, cfg), LW_OK);
    lw_config_free(cfg);
    srand(seed);
    int64_t t0 = 1751328000000LL; /* 2025-07-01T00:00:00Z */
    uint32_t fcnt[5] = {0};
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
            assert_int_equal(lw_store_add_reading(s, &rd), LW_OK);
            if (rand() % 25 == 0) /* a relay's copy: ignored, never counted twice */
                assert_int_equal(lw_store_add_reading(s, &rd), LW_OK);
        }
    assert_int_equal(lw_store_commit(s), LW_OK);
    return s;
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

static void check_against_brute_force(const char *table, const char *bucket)
{
    char sql[4096];
    snprintf(sql, sizeof(sql),
             BRUTE("%s") "SELECT count(*) FROM g LEFT JOIN %s h ON h.node = g.node AND h.t_ms = "
                         "g.t WHERE h.node IS NULL OR h.frames <> g.frames OR h.n <> g.n OR "
                         "h.vsum <> g.vsum OR h.vmin <> g.vmin OR h.vmax <> g.vmax OR "
                         "h.batt_min <> g.bmin OR h.above_blue <> g.ab OR h.above_orange <> g.ao "
                         "OR h.above_red <> g.ar",
             bucket, table);
    assert_int_equal(q1(sql), 0);
    snprintf(sql, sizeof(sql), BRUTE("%s") "SELECT count(*) FROM g", bucket);
    int64_t groups = q1(sql);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    assert_int_equal(q1(sql), groups); /* and no rollup row without readings */
    assert_true(groups > 0);
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
    int64_t tz = lw_store_tz_offset_ms();
    snprintf(bucket, sizeof(bucket), "((x.ts_ms + %lld) / 86400000) * 86400000 - %lld",
             (long long)tz, (long long)tz);
    check_against_brute_force("rollup_day", bucket);
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
        cmocka_unit_test_setup_teardown(test_retention_in_chunks_keeps_rollups, setup, teardown),
        cmocka_unit_test(test_levels_and_buckets_pure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
