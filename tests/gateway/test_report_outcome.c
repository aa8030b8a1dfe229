/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the season report's people and false alarms: false alarms come from the outcome
 * chosen when acknowledging (never from words in a note), test alarms are listed apart and kept
 * out of the response statistics, and people are named as the roster journal had them when
 * they acted. A real SQLite file; alerts and journal rows inserted directly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lw_error.h"
#include "lw_people.h"
#include "lw_report.h"
#include "lw_store.h"
#include "test_support.h"

#define T0  1751328000000LL /* 2025-07-01T00:00:00Z */
#define MIN 60000LL
#define H   3600000LL

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

/* One water node; worker-1 was 张伟 until 10 h, then the id went to 刘洋; the duty room is 王芳.
 * Alerts, each open for an hour (so none is short-lived):
 *   1  note "误报? 正在去现场", outcome on_my_way, by worker-1 (张伟) at tier 1 after 5 min
 *   2  outcome false_alarm, a note without any keyword, by room at tier 2 after 20 min
 *   3  outcome false_alarm in the journal's row only (the alert row's column not set)
 *   4  a test alarm, never acknowledged
 *   5  a test alarm acknowledged with outcome test and the note "test"
 *   6  note "false start of the pump, water real", no outcome, by worker-1 (刘洋) after 3 min
 *   7  a real alarm nobody acknowledged */
static int db_setup(void **state)
{
    (void)state;
    if (lw_test_db_path(path, sizeof(path), "lwreport") != 0)
        return -1;
    char err[256];
    struct lw_store *s = lw_store_open(path, 50, err, sizeof(err));
    if (!s)
        return -1;
    lw_store_close(s);
    exec_rw("INSERT INTO nodes(address, name, eui, kind, building, grid, place) VALUES"
            "(9, 'w9', '09', 'water', 'S', 'G1', 'S entrance')");
    char sql[4096];
    snprintf(sql, sizeof(sql),
             "INSERT INTO roster_journal(person, name, tier, grids, from_ms, to_ms) VALUES"
             "('worker-1', '张伟', 1, 'G1', %lld, %lld), ('worker-1', '刘洋', 1, 'G1', %lld, NULL),"
             "('room', '王芳', 2, NULL, %lld, NULL);",
             T0 - 24 * H, T0 + 10 * H, T0 + 10 * H, T0 - 24 * H);
    exec_rw(sql);
    static const struct {
        int id, test, ack_min, tier;
        const char *actor, *note, *row_outcome, *journal_outcome;
    } al[] = {
        {1, 0, 5, 1, "worker-1", "误报? 正在去现场", "on_my_way", "on_my_way"},
        {2, 0, 20, 2, "room", "水管漏水，已关阀", "false_alarm", "false_alarm"},
        {3, 0, 7, 2, "room", "", NULL, "false_alarm"},
        {4, 1, 0, 0, NULL, NULL, NULL, NULL},
        {5, 1, 2, 1, "worker-1", "test", "test", "test"},
        {6, 0, 3, 1, "worker-1", "false start of the pump, water real", NULL, NULL},
        {7, 0, 0, 0, NULL, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(al) / sizeof(al[0]); i++) {
        int64_t raised = T0 + (int64_t)al[i].id * 2 * H, ack = raised + al[i].ack_min * MIN;
        char acked_ms[24] = "NULL";
        if (al[i].actor)
            snprintf(acked_ms, sizeof(acked_ms), "%lld", (long long)ack);
        char *q = sqlite3_mprintf(
            "INSERT INTO alerts(id, rule, hazard, level, node, state, raised_ms, cleared_ms, "
            "value, threshold, tier, acked_by, acked_ms, test, ack_outcome) VALUES (%d, 'deep', "
            "'flood', 'red', 9, 'cleared', %lld, %lld, 150, 100, %d, %Q, %s, %d, %Q);"
            "INSERT INTO alert_journal(alert, ts_ms, event, actor, tier, via, detail) VALUES "
            "(%d, %lld, 'raised', 'gateway', 1, 'gateway', '');",
            al[i].id, (long long)raised, (long long)(raised + H), al[i].tier ? al[i].tier : 1,
            al[i].actor, acked_ms, al[i].test, al[i].row_outcome, al[i].id, (long long)raised);
        exec_rw(q);
        sqlite3_free(q);
        if (!al[i].actor)
            continue;
        q = sqlite3_mprintf("INSERT INTO alert_journal(alert, ts_ms, event, actor, tier, via, "
                            "detail, outcome) VALUES (%d, %lld, 'acknowledged', %Q, %d, 'mqtt', "
                            "%Q, %Q)",
                            al[i].id, (long long)ack, al[i].actor, al[i].tier,
                            al[i].note && *al[i].note ? al[i].note : NULL, al[i].journal_outcome);
        exec_rw(q);
        sqlite3_free(q);
    }
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

static char *capture(enum lw_report_fmt fmt, int *rc)
{
    char err[256] = "", *buf = NULL;
    size_t len = 0;
    sqlite3 *db = lw_store_open_readonly(path, 5, err, sizeof(err));
    assert_non_null(db);
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    struct lw_report_opts o = {.from_ms = T0, .to_ms = T0 + 24 * H};
    *rc = lw_report_write(db, &o, fmt, f, err, sizeof(err));
    fclose(f);
    sqlite3_close(db);
    return buf;
}

static const cJSON *rows_of(const cJSON *root, const char *table)
{
    const cJSON *t = cJSON_GetObjectItem(root, table);
    assert_non_null(t);
    return cJSON_GetObjectItem(t, "rows");
}

static const char *cell_s(const cJSON *rows, int row, int col)
{
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetArrayItem(rows, row), col);
    assert_true(cJSON_IsString(c));
    return c->valuestring;
}

static double cell_n(const cJSON *rows, int row, int col)
{
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetArrayItem(rows, row), col);
    assert_true(cJSON_IsNumber(c));
    return c->valuedouble;
}

/* Alerts 2 and 3 are false alarms (their outcome); 1 and 6 are not, whatever their notes say;
 * the test alarms 4 and 5 are not either. */
static void test_false_alarms_from_outcome(void **state)
{
    (void)state;
    int rc;
    char *json = capture(LW_REPORT_JSON, &rc);
    assert_int_equal(rc, LW_OK);
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    const cJSON *fa = rows_of(root, "false_alarms");
    assert_int_equal(cJSON_GetArraySize(fa), 2);
    assert_string_equal(cell_s(fa, 0, 0), "#2");
    assert_string_equal(cell_s(fa, 1, 0), "#3");
    assert_non_null(strstr(cell_s(fa, 0, 7), "false alarm by 王芳"));
    assert_non_null(strstr(cell_s(fa, 0, 7), "水管漏水")); /* the note, shown as said */
    cJSON_Delete(root);
    free(json);
}

/* Test alarms: listed apart, in no statistic: the tier table counts the five real alarms'
 * acknowledgements only, and "never acknowledged" is alert 7 alone. */
static void test_test_alarms_apart(void **state)
{
    (void)state;
    int rc;
    char *json = capture(LW_REPORT_JSON, &rc);
    assert_int_equal(rc, LW_OK);
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    const cJSON *tests = rows_of(root, "test_alarms");
    assert_int_equal(cJSON_GetArraySize(tests), 2);
    assert_string_equal(cell_s(tests, 0, 0), "#4");
    assert_string_equal(cell_s(tests, 0, 5), "");
    assert_string_equal(cell_s(tests, 1, 0), "#5");
    assert_string_equal(cell_s(tests, 1, 5), "刘洋"); /* raised at 10 h: the id had passed on */
    assert_float_equal(cell_n(tests, 1, 6), 2, 1e-9);
    assert_string_equal(cell_s(tests, 1, 7), "test");
    const cJSON *tiers = rows_of(root, "response_by_tier");
    assert_int_equal(cJSON_GetArraySize(tiers), 4);   /* three tiers, then never acknowledged */
    assert_float_equal(cell_n(tiers, 0, 1), 2, 0);    /* alerts 1 and 6, not the test 5 */
    assert_float_equal(cell_n(tiers, 0, 2), 5, 1e-9); /* median of 3 and 5 min: upper */
    assert_float_equal(cell_n(tiers, 1, 1), 2, 0);    /* alerts 2 and 3 */
    assert_float_equal(cell_n(tiers, 2, 1), 0, 0);
    assert_float_equal(cell_n(tiers, 3, 1), 1, 0); /* alert 7; the test alarm 4 is not counted */
    assert_non_null(strstr(cell_s(tiers, 3, 5), "1 条未被确认"));
    cJSON_Delete(root);
    free(json);
}

/* People by the name they had when they acknowledged: worker-1 was 张伟 for alert 1 and 刘洋 for
 * alert 6, two rows; the id is beside the name, and in the HTML on hover. */
static void test_names_as_they_were(void **state)
{
    (void)state;
    int rc;
    char *json = capture(LW_REPORT_JSON, &rc);
    assert_int_equal(rc, LW_OK);
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    const cJSON *w = rows_of(root, "response_by_worker");
    assert_int_equal(cJSON_GetArraySize(w), 3);
    /* Sorted by name (byte order): 刘 E5 88 98, 张 E5 BC A0, 王 E7 8E 8B. */
    assert_string_equal(cell_s(w, 0, 0), "刘洋");
    assert_string_equal(cell_s(w, 0, 5), "worker-1");
    assert_float_equal(cell_n(w, 0, 1), 1, 0);
    assert_float_equal(cell_n(w, 0, 2), 3, 1e-9);
    assert_string_equal(cell_s(w, 1, 0), "张伟");
    assert_string_equal(cell_s(w, 1, 5), "worker-1");
    assert_float_equal(cell_n(w, 1, 1), 1, 0); /* alert 1; the test alarm 5 is not counted */
    assert_string_equal(cell_s(w, 2, 0), "王芳");
    assert_string_equal(cell_s(w, 2, 5), "room");
    assert_float_equal(cell_n(w, 2, 1), 2, 0);
    cJSON_Delete(root);
    free(json);
    char *html = capture(LW_REPORT_HTML, &rc);
    assert_int_equal(rc, LW_OK);
    assert_non_null(strstr(html, "<td title=\"worker-1\">张伟</td>"));
    assert_non_null(strstr(html, "<td title=\"worker-1\">刘洋</td>"));
    assert_non_null(strstr(html, "<td title=\"room\">王芳</td>"));
    assert_non_null(strstr(html, "测试告警"));
    free(html);
}

/* Who was told about an alert: each person once, in the order told, named as they were when
 * told, with the tier they were told at; an id the roster journal never knew stays an id. */
static void test_people_told(void **state)
{
    (void)state;
    char *q = sqlite3_mprintf(
        "INSERT INTO alert_journal(alert, ts_ms, event, actor, tier, via, detail) VALUES "
        "(7, %lld, 'notified', 'worker-1,worker-9', 1, 'mqtt', ''),"
        "(7, %lld, 'reminded', 'worker-1,worker-9', 1, 'mqtt', ''),"
        "(7, %lld, 'escalated', 'room', 2, 'mqtt', ''),"
        "(7, %lld, 'escalated', '', 3, 'mqtt', ''),"
        "(7, %lld, 'notified', 'worker-1', 1, 'mqtt', '')",
        (long long)(T0 + 14 * H), (long long)(T0 + 14 * H + 2 * MIN),
        (long long)(T0 + 14 * H + 5 * MIN), (long long)(T0 + 14 * H + 10 * MIN),
        (long long)(T0 + 15 * H));
    exec_rw(q);
    sqlite3_free(q);
    char err[256];
    sqlite3 *db = lw_store_open_readonly(path, 5, err, sizeof(err));
    assert_non_null(db);
    struct lw_told t[4];
    assert_int_equal(lw_people_told(db, 7, t, 4), 3);
    assert_string_equal(t[0].id, "worker-1");
    assert_string_equal(t[0].name, "刘洋"); /* told at 14 h: the id had passed on */
    assert_int_equal(t[0].tier, 1);
    assert_string_equal(t[1].name, "worker-9");
    assert_string_equal(t[2].name, "王芳");
    assert_int_equal(t[2].tier, 2);
    assert_string_equal(lw_people_tier_name(t[2].tier), "duty room");
    assert_int_equal(lw_people_told(db, 7, t, 1), 3); /* how many there are, one filled */
    assert_string_equal(t[0].id, "worker-1");
    assert_int_equal(lw_people_told(db, 1, t, 4), 0);
    char names[64];
    assert_string_equal(lw_people_names(db, "worker-1,room,uid:1000", T0 + H, names, sizeof(names)),
                        "张伟, 王芳, uid:1000");
    assert_string_equal(lw_people_names(db, "worker-1", T0 + 11 * H, names, sizeof(names)), "刘洋");
    assert_string_equal(lw_people_names(db, "gateway", T0, names, sizeof(names)), "gateway");
    assert_string_equal(lw_people_names(db, NULL, T0, names, sizeof(names)), "");
    assert_string_equal(lw_people_names(db, "room", T0, names, 4), "王"); /* cut, terminated */
    sqlite3_close(db);
}

/* A file from before version 11 has no outcomes: nothing is a false alarm by outcome there, and
 * nobody has a journalled name; the report still works. */
static void test_older_file(void **state)
{
    (void)state;
    exec_rw("PRAGMA user_version = 10");
    int rc;
    char *json = capture(LW_REPORT_JSON, &rc);
    exec_rw("PRAGMA user_version = 11");
    assert_int_equal(rc, LW_OK);
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    assert_int_equal(cJSON_GetArraySize(rows_of(root, "false_alarms")), 0);
    cJSON_Delete(root);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_false_alarms_from_outcome),
        cmocka_unit_test(test_test_alarms_apart),
        cmocka_unit_test(test_names_as_they_were),
        cmocka_unit_test(test_people_told),
        cmocka_unit_test(test_older_file),
    };
    return cmocka_run_group_tests(tests, db_setup, db_teardown);
}
