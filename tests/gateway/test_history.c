/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_history and lw_report: time-range parsing (outside input), and the figures the
 * timeline and the season report print, checked against brute-force SQL on small data. */
#define _GNU_SOURCE /* fopencookie */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lw_config.h"
#include "lw_error.h"
#include "lw_gateway.h"
#include "lw_history.h"
#include "lw_report.h"
#include "lw_store.h"
#include "test_support.h"

#define NOW 1751328000000LL /* 2025-07-01T00:00:00Z */
#define TZ  (8 * 3600000LL) /* UTC+8 */

/* ---- parsing ------------------------------------------------------------------------------- */

static void test_time_forms(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(lw_history_parse_time("now", NOW, TZ, &t), LW_OK);
    assert_int_equal(t, NOW);
    assert_int_equal(lw_history_parse_time("2025-07-01", NOW, TZ, &t), LW_OK);
    assert_int_equal(t, NOW - TZ); /* local midnight */
    assert_int_equal(lw_history_parse_time("2025-07-01T08:30", NOW, TZ, &t), LW_OK);
    assert_int_equal(t, NOW + 30 * 60000);
    assert_int_equal(lw_history_parse_time("2025-07-01 08:00:05", NOW, TZ, &t), LW_OK);
    assert_int_equal(t, NOW + 5000);
    assert_int_equal(lw_history_parse_time("2025-07-01T00:00:00Z", NOW, TZ, &t), LW_OK);
    assert_int_equal(t, NOW);
    assert_int_equal(lw_history_parse_time("2025-07-01T08:00:00+08:00", NOW, TZ, &t), LW_OK);
    assert_int_equal(t, NOW);
    assert_int_equal(lw_history_parse_time("@1751328000", NOW, TZ, &t), LW_OK);
    assert_int_equal(t, NOW);
    assert_int_equal(lw_history_parse_time("-7d", NOW, TZ, &t), LW_OK);
    assert_int_equal(t, NOW - 7 * 86400000LL);
    assert_int_equal(lw_history_parse_time("-90m", NOW, TZ, &t), LW_OK);
    assert_int_equal(t, NOW - 90 * 60000LL);
    assert_int_equal(lw_history_parse_time("2024-02-29", NOW, TZ, &t), LW_OK);
}

static void test_time_rejects_bad_input(void **state)
{
    (void)state;
    int64_t t;
    static const char *const inval[] = {
        "",           "yesterday", "2025-7-1", "2025-07-01x", "2025-07-01T8:00",
        "2025/07/01", "-7",        "-",        "--7d",        "2025-07-01T08:00:00+25:00",
        "@",          "now "};
    for (size_t i = 0; i < sizeof(inval) / sizeof(inval[0]); i++)
        if (lw_history_parse_time(inval[i], NOW, TZ, &t) == LW_OK)
            fail_msg("'%s' accepted", inval[i]);
    assert_int_equal(lw_history_parse_time("2025-13-01", NOW, TZ, &t), LW_ERR_RANGE);
    assert_int_equal(lw_history_parse_time("2025-02-29", NOW, TZ, &t), LW_ERR_RANGE);
    assert_int_equal(lw_history_parse_time("2025-04-31", NOW, TZ, &t), LW_ERR_RANGE);
    assert_int_equal(lw_history_parse_time("2025-07-01T24:00", NOW, TZ, &t), LW_ERR_RANGE);
    assert_int_equal(lw_history_parse_time("1969-12-31", NOW, TZ, &t), LW_ERR_RANGE);
    assert_int_equal(lw_history_parse_time(NULL, NOW, TZ, &t), LW_ERR_INVAL);
}

static void test_ranges_and_steps(void **state)
{
    (void)state;
    int64_t a, b, s;
    assert_int_equal(lw_history_parse_range(NULL, NULL, NOW, TZ, &a, &b), LW_OK);
    assert_true(a == NOW - 86400000 && b == NOW);
    assert_int_equal(lw_history_parse_range("2025-07-02", "2025-07-01", NOW, TZ, &a, &b),
                     LW_ERR_RANGE);
    assert_int_equal(lw_history_parse_range("2025-07-01", "2025-07-01", NOW, TZ, &a, &b),
                     LW_ERR_RANGE);
    assert_int_equal(lw_history_parse_range("2025-07-01", "junk", NOW, TZ, &a, &b), LW_ERR_INVAL);
    assert_int_equal(lw_history_parse_range("2025-06-01", "2025-07-01", NOW, TZ, &a, &b), LW_OK);
    assert_int_equal(b - a, 30 * 86400000LL);
    assert_int_equal(lw_history_parse_every("5min", &s), LW_OK);
    assert_int_equal(s, 300000);
    assert_int_equal(lw_history_parse_every("day", &s), LW_OK);
    assert_int_equal(s, 86400000);
    assert_int_equal(lw_history_parse_every("raw", &s), LW_OK);
    assert_int_equal(s, 0);
    assert_int_equal(lw_history_parse_every("week", &s), LW_ERR_INVAL);
}

static void test_node_matching(void **state)
{
    (void)state;
    struct lw_hist_node n = {.address = 0x0102,
                             .name = "garage",
                             .kind = "water",
                             .building = "7",
                             .grid = "3",
                             .unit = "garage",
                             .place = "7号楼地下车库 / Block 7 garage",
                             .tags = "low-lying,basement"};
    assert_true(lw_history_node_matches(&n, LW_HIST_NODE, "garage"));
    assert_true(lw_history_node_matches(&n, LW_HIST_NODE, "0x0102"));
    assert_true(lw_history_node_matches(&n, LW_HIST_NODE, "258"));
    assert_false(lw_history_node_matches(&n, LW_HIST_NODE, "259"));
    assert_true(lw_history_node_matches(&n, LW_HIST_PLACE, "7"));
    assert_true(lw_history_node_matches(&n, LW_HIST_PLACE, "basement"));
    assert_true(lw_history_node_matches(&n, LW_HIST_PLACE, "地下车库"));
    assert_false(lw_history_node_matches(&n, LW_HIST_PLACE, "8"));
    assert_true(lw_history_node_matches(&n, LW_HIST_KIND, "water"));
    assert_false(lw_history_node_matches(&n, LW_HIST_KIND, "smoke"));
}

/* ---- a small database ------------------------------------------------------------------------ */

static char path[300];

static void exec_rw(const char *sql)
{
    sqlite3 *db;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static double q1(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q;
    double v = NAN;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
        v = sqlite3_column_double(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* One street water node alone in building S, a storm each day for three days; flood alerts:
 * one acknowledged after an escalation, one never, one false. */
static int db_setup(void **state)
{
    (void)state;
    if (lw_test_db_path(path, sizeof(path), "lwhist") != 0)
        return -1;
    char err[256];
    struct lw_store *s = lw_store_open(path, 50, err, sizeof(err));
    if (!s)
        return -1;
    exec_rw("INSERT INTO nodes(address, name, eui, kind, building, grid, place, tags) VALUES"
            "(9, 'w9', '09', 'water', 'S', '4', 'S entrance', 'street')");
    static const char rules[] =
        "[rule:watch]\nmetric = water_mm\nthreshold = 76\nclear = 40\nlevel = blue\n"
        "[rule:street]\nmetric = water_mm\nthreshold = 150\nclear = 100\nlevel = orange\n";
    struct lw_config *cfg = lw_config_parse("r", rules, strlen(rules), NULL, NULL);
    lw_gateway_set_levels(s, cfg);
    lw_config_free(cfg);
    for (int k = 0; k < 3 * 288; k++) {
        int64_t t = NOW + k * 300000LL + (k * 7919) % 30000;
        if (k % 37 == 5)
            continue;
        double x = (k % 288) / 288.0;
        double w = x < 0.5 ? 260 * sin(x * 2 * 3.14159) - 30 : 0;
        struct lw_reading r = {.present = LW_R_WATER | LW_R_BATTERY,
                               .water_mm = (uint16_t)(w < 0 ? 0 : w),
                               .battery_mv = 3500};
        struct lw_store_reading rd = {.node = 9, .t_ms = t, .fcnt = (uint32_t)k + 1, .r = &r};
        if (lw_store_add_reading(s, &rd) != LW_OK)
            return -1;
    }
    lw_store_close(s);
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "INSERT INTO alerts(id, rule, hazard, level, node, state, raised_ms, cleared_ms, "
             "value, threshold) VALUES (1, 'watch', 'flood', 'blue', 9, 'cleared', %lld, %lld, 80, "
             "76), (2, 'street', 'flood', 'orange', 9, 'cleared', %lld, %lld, 151, 150), "
             "(3, 'watch', 'flood', 'blue', 9, 'cleared', %lld, %lld, 80, 76);"
             "INSERT INTO alert_journal(alert, ts_ms, event, actor, tier, via, detail) VALUES "
             "(1, %lld, 'raised', 'gateway', 1, 'gateway', ''),"
             "(1, %lld, 'escalated', 'gateway', 2, 'gateway', ''),"
             "(1, %lld, 'acknowledged', 'duty-room', 2, 'mqtt', 'on my way'),"
             "(1, %lld, 'cleared', 'gateway', 2, 'gateway', ''),"
             "(2, %lld, 'raised', 'gateway', 1, 'gateway', ''),"
             "(2, %lld, 'cleared', 'gateway', 1, 'gateway', ''),"
             "(3, %lld, 'raised', 'gateway', 1, 'gateway', ''),"
             "(3, %lld, 'acknowledged', 'worker-4', 1, 'mqtt', 'false alarm: a bucket'),"
             "(3, %lld, 'cleared', 'gateway', 1, 'gateway', '');"
             "UPDATE alerts SET ack_outcome = 'false_alarm' WHERE id = 3",
             NOW + 3600000LL, NOW + 9 * 3600000LL, NOW + 4 * 3600000LL, NOW + 6 * 3600000LL,
             NOW + 86400000LL + 3600000LL, NOW + 86400000LL + 3660000LL, NOW + 3600000LL,
             NOW + 3600000LL + 300000, NOW + 3600000LL + 420000, NOW + 9 * 3600000LL,
             NOW + 4 * 3600000LL, NOW + 6 * 3600000LL, NOW + 86400000LL + 3600000LL,
             NOW + 86400000LL + 3630000LL, NOW + 86400000LL + 3660000LL);
    exec_rw(sql);
    return 0;
}

static int db_teardown(void **state)
{
    (void)state;
    char p[320];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-ballast", path);
    unlink(p);
    return 0;
}

static char *capture(sqlite3 *db, const struct lw_report_opts *o, enum lw_report_fmt fmt, int *rc)
{
    char *buf = NULL, err[256] = "";
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    *rc = lw_report_write(db, o, fmt, f, err, sizeof(err));
    fclose(f);
    return buf;
}

/* The flood events' time above each level and peak equal brute force over the raw readings; the
 * first acknowledgement and escalations come from the journal. */
static void test_report_events_match_brute_force(void **state)
{
    (void)state;
    char err[256];
    sqlite3 *db = lw_store_open_readonly(path, 5, err, sizeof(err));
    assert_non_null(db);
    struct lw_report_opts o = {.from_ms = NOW, .to_ms = NOW + 3 * 86400000LL};
    int rc;
    char *json = capture(db, &o, LW_REPORT_JSON, &rc);
    assert_int_equal(rc, LW_OK);
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    cJSON *rows = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "flood_events"), "rows");
    assert_int_equal(cJSON_GetArraySize(rows), 3); /* one storm a day */
    double blue = 0, orange = 0, peak = 0;
    cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        blue += cJSON_GetArrayItem(row, 5)->valuedouble;
        orange += cJSON_GetArrayItem(row, 7)->valuedouble;
        if (cJSON_GetArrayItem(row, 3)->valuedouble > peak)
            peak = cJSON_GetArrayItem(row, 3)->valuedouble;
    }
    static const char brute[] =
        "WITH x AS (SELECT water_mm AS v, min(ts_ms - lag(ts_ms) OVER (ORDER BY ts_ms), 900000) "
        "AS dt FROM readings WHERE node = 9) SELECT sum(CASE WHEN v >= %d THEN coalesce(dt, 0) "
        "END) / 3600000.0 FROM x";
    char sql[512];
    snprintf(sql, sizeof(sql), brute, 76);
    assert_float_equal(blue, q1(db, sql), 1e-9);
    snprintf(sql, sizeof(sql), brute, 150);
    assert_float_equal(orange, q1(db, sql), 1e-9);
    assert_float_equal(peak, q1(db, "SELECT max(water_mm) FROM readings"), 1e-9);
    /* First event: alerts 1 and 2, acknowledged 7 min after the first was raised, after one
     * escalation; second: alert 3 after 30 s; third: no alert at all. */
    cJSON *ev = cJSON_GetArrayItem(rows, 0);
    assert_float_equal(cJSON_GetArrayItem(ev, 9)->valuedouble, 2, 0);
    assert_float_equal(cJSON_GetArrayItem(ev, 10)->valuedouble, 7, 1e-9);
    assert_float_equal(cJSON_GetArrayItem(ev, 11)->valuedouble, 1, 0);
    ev = cJSON_GetArrayItem(rows, 1);
    assert_float_equal(cJSON_GetArrayItem(ev, 9)->valuedouble, 1, 0);
    assert_float_equal(cJSON_GetArrayItem(ev, 10)->valuedouble, 0.5, 1e-9);
    ev = cJSON_GetArrayItem(rows, 2);
    assert_float_equal(cJSON_GetArrayItem(ev, 9)->valuedouble, 0, 0);
    assert_true(cJSON_IsNull(cJSON_GetArrayItem(ev, 10)));
    /* Response per tier: tier 1 worker-4 after 30 s, tier 2 duty room after 7 min. */
    cJSON *tiers = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "response_by_tier"), "rows");
    assert_float_equal(cJSON_GetArrayItem(cJSON_GetArrayItem(tiers, 0), 2)->valuedouble, 0.5, 1e-9);
    assert_float_equal(cJSON_GetArrayItem(cJSON_GetArrayItem(tiers, 1), 2)->valuedouble, 7, 1e-9);
    /* False alarms: alert 3 (acknowledged as one, and cleared within a minute). */
    cJSON *fa = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "false_alarms"), "rows");
    assert_int_equal(cJSON_GetArraySize(fa), 1);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetArrayItem(fa, 0), 0)->valuestring, "#3");
    cJSON_Delete(root);
    free(json);

    /* HTML: one chart, never an empty one; a place without data says why. */
    char *html = capture(db, &o, LW_REPORT_HTML, &rc);
    assert_int_equal(rc, LW_OK);
    assert_non_null(strstr(html, "<svg"));
    assert_non_null(strstr(html, "</html>"));
    assert_null(strstr(html, "src=")); /* self-contained: nothing loaded from anywhere */
    assert_null(strstr(html, "<link"));
    free(html);
    struct lw_report_opts later = {.from_ms = NOW + 10 * 86400000LL,
                                   .to_ms = NOW + 11 * 86400000LL};
    html = capture(db, &later, LW_REPORT_HTML, &rc);
    assert_int_equal(rc, LW_OK);
    assert_null(strstr(html, "<svg"));
    assert_non_null(strstr(html, "No water readings at this site"));
    free(html);
    struct lw_report_opts nowhere = {.from_ms = NOW, .to_ms = NOW + 86400000LL, .place = "X"};
    free(capture(db, &nowhere, LW_REPORT_JSON, &rc));
    assert_int_equal(rc, LW_ERR_NOTFOUND);
    sqlite3_close(db);
}

/* The timeline says how long after being raised each alert was acknowledged. */
static void test_events_timeline(void **state)
{
    (void)state;
    char err[256], *buf = NULL;
    size_t len = 0, rows = 0;
    sqlite3 *db = lw_store_open_readonly(path, 4, err, sizeof(err));
    assert_non_null(db);
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(lw_history_events(db, NULL, 0, NOW, NOW + 3 * 86400000LL, LW_FMT_JSON, f,
                                       &rows, err, sizeof(err)),
                     LW_OK);
    fclose(f);
    assert_int_equal(rows, 9);
    cJSON *a = cJSON_Parse(buf);
    assert_non_null(a);
    int acks = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        if (strcmp(cJSON_GetObjectItem(e, "event")->valuestring, "acknowledged") != 0)
            continue;
        acks++;
        int id = cJSON_GetObjectItem(e, "alert")->valueint;
        assert_int_equal(cJSON_GetObjectItem(e, "after_s")->valueint, id == 1 ? 420 : 30);
    }
    assert_int_equal(acks, 2);
    cJSON_Delete(a);
    free(buf);
    sqlite3_close(db);
}

/* What the output's writes see: can the daemon reset its WAL meanwhile? */
struct pin_probe {
    sqlite3 *writer;
    int writes, pinned;
};

static ssize_t probe_write(void *cookie, const char *buf, size_t len)
{
    struct pin_probe *p = cookie;
    (void)buf;
    /* Like the daemon: a commit, then a checkpoint that must reset the WAL without waiting. */
    char *msg = NULL;
    if (sqlite3_exec(p->writer,
                     "INSERT INTO meta(key, value) VALUES('probe', 'x') ON CONFLICT(key) DO "
                     "UPDATE SET value = value || 'x'",
                     NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("probe write: %s", msg);
    int log = 0, done = 0;
    if (sqlite3_wal_checkpoint_v2(p->writer, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done) !=
        SQLITE_OK)
        p->pinned++;
    p->writes++;
    return (ssize_t)len;
}

/* A slow consumer of the output (a pager) must not hold the query's read transaction: the rows
 * are written only after it ended, so the daemon's checkpoints still reset the WAL. */
static void test_output_holds_no_read_transaction(void **state)
{
    (void)state;
    char err[256];
    size_t rows = 0;
    struct pin_probe p = {0};
    assert_int_equal(sqlite3_open(path, &p.writer), SQLITE_OK);
    sqlite3 *db = lw_store_open_readonly(path, 4, err, sizeof(err));
    assert_non_null(db);
    FILE *f = fopencookie(&p, "w", (cookie_io_functions_t){.write = probe_write});
    assert_non_null(f);
    setvbuf(f, NULL, _IONBF, 0); /* every write reaches the probe at once */
    assert_int_equal(lw_history_events(db, NULL, 0, NOW, NOW + 3 * 86400000LL, LW_FMT_CSV, f, &rows,
                                       err, sizeof(err)),
                     LW_OK);
    fclose(f);
    assert_int_equal(rows, 9);
    assert_true(p.writes > 0);
    assert_int_equal(p.pinned, 0);
    sqlite3_close(db);
    sqlite3_close(p.writer);
}

/* Newer schema and foreign files are refused with one line. */
static void test_readonly_open_refusals(void **state)
{
    (void)state;
    char err[256];
    exec_rw("PRAGMA user_version = 99");
    assert_null(lw_store_open_readonly(path, 1, err, sizeof(err)));
    assert_non_null(strstr(err, "newer"));
    assert_null(strchr(err, '\n'));
    exec_rw("PRAGMA user_version = 5");
    assert_null(lw_store_open_readonly("/nonexistent/x.db", 1, err, sizeof(err)));
    assert_non_null(strstr(err, "no such"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_forms),
        cmocka_unit_test(test_time_rejects_bad_input),
        cmocka_unit_test(test_ranges_and_steps),
        cmocka_unit_test(test_node_matching),
        cmocka_unit_test(test_report_events_match_brute_force),
        cmocka_unit_test(test_events_timeline),
        cmocka_unit_test(test_output_holds_no_read_transaction),
        cmocka_unit_test(test_readonly_open_refusals),
    };
    return cmocka_run_group_tests(tests, db_setup, db_teardown);
}
