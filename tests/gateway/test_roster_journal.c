/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the roster journal on real SQLite files: what each load of the configuration
 * writes, that a failed write leaves nothing half done, and naming a person as they were. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lw_error.h"
#include "lw_roster.h"
#include "lw_store.h"
#include "test_support.h"

#define T0 1751328000000LL /* 2025-07-01T00:00:00Z */
#define H  3600000LL

static char path[300];

static void roster_err(void *arg, const char *msg)
{
    (void)arg;
    fail_msg("roster: %s", msg);
}

static struct lw_roster *roster(const char *ini)
{
    struct lw_roster *r = NULL;
    assert_int_equal(lw_roster_parse("t.conf", ini, strlen(ini), &r, roster_err, NULL), 0);
    assert_non_null(r);
    return r;
}

static struct lw_store *open_store(void)
{
    char err[256] = "";
    assert_int_equal(lw_test_db_path(path, sizeof(path), "lwroster"), 0);
    struct lw_store *s = lw_store_open(path, 50, err, sizeof(err));
    if (!s)
        fail_msg("lw_store_open: %s", err);
    return s;
}

static void remove_db(void)
{
    char p[320];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-ballast", path);
    unlink(p);
}

/* One text result of sql on a connection of its own ("" for no row, "NULL" for NULL). */
static char *q_text(const char *sql)
{
    static char buf[1024];
    sqlite3 *db;
    sqlite3_stmt *q;
    buf[0] = 0;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        snprintf(buf, sizeof(buf), "%s", t ? t : "NULL");
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return buf;
}

static void exec_rw(const char *sql)
{
    sqlite3 *db;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static const char roster_a[] = "[duty:worker-1]\nname = 张伟\ntier = 1\ngrids = G1,G2\n"
                               "phone = 138 0000 0001\n"
                               "[duty:room]\nname = 王芳\ntier = 2\n"
                               "[duty:office]\nname = Street office\ntier = 3\n"
                               "mqtt_user = office-1\n";

/* The first load writes everyone; the same roster again writes nothing. */
static void test_first_load_then_unchanged(void **state)
{
    (void)state;
    struct lw_store *s = open_store();
    struct lw_roster *r = roster(roster_a);
    size_t changed = 99;
    assert_int_equal(lw_store_roster_journal(s, r, T0, &changed), LW_OK);
    assert_int_equal(changed, 3);
    assert_string_equal(q_text("SELECT count(*) FROM roster_journal WHERE to_ms IS NULL AND "
                               "from_ms = 1751328000000"),
                        "3");
    assert_string_equal(q_text("SELECT name || '|' || tier || '|' || grids || '|' || mqtt_user || "
                               "'|' || phone FROM roster_journal WHERE person = 'worker-1'"),
                        "张伟|1|G1,G2|worker-1|138 0000 0001");
    assert_string_equal(q_text("SELECT mqtt_user FROM roster_journal WHERE person = 'office'"),
                        "office-1");
    assert_string_equal(q_text("SELECT coalesce(grids, 'NULL') || coalesce(phone, 'NULL') FROM "
                               "roster_journal WHERE person = 'room'"),
                        "NULLNULL");
    assert_int_equal(lw_store_roster_journal(s, r, T0 + H, &changed), LW_OK);
    assert_int_equal(changed, 0);
    assert_string_equal(q_text("SELECT count(*) FROM roster_journal"), "3");
    /* Reopened (a restart) with the same roster: still nothing. */
    lw_store_close(s);
    char err[256];
    s = lw_store_open(path, 50, err, sizeof(err));
    assert_non_null(s);
    assert_int_equal(lw_store_roster_journal(s, r, T0 + 2 * H, &changed), LW_OK);
    assert_int_equal(changed, 0);
    assert_string_equal(q_text("SELECT count(*) FROM roster_journal"), "3");
    lw_roster_free(r);
    lw_store_close(s);
    remove_db();
}

/* A changed person: old period closed, new one opened at the same instant; a removed person's
 * period closed; a new person added; the unchanged ones untouched. */
static void test_changes_removals_additions(void **state)
{
    (void)state;
    struct lw_store *s = open_store();
    struct lw_roster *a = roster(roster_a);
    assert_int_equal(lw_store_roster_journal(s, a, T0, NULL), LW_OK);
    struct lw_roster *b = roster("[duty:worker-1]\nname = 张伟\ntier = 1\ngrids = G1\n"
                                 "phone = 138 0000 0001\n"
                                 "[duty:room]\nname = 李娜\ntier = 2\n"
                                 "[duty:worker-2]\nname = 赵强\ntier = 1\ngrids = G2\n");
    size_t changed = 0;
    assert_int_equal(lw_store_roster_journal(s, b, T0 + H, &changed), LW_OK);
    /* worker-1 (grids) and room (name): close + open each; office closed; worker-2 opened. */
    assert_int_equal(changed, 6);
    assert_string_equal(q_text("SELECT group_concat(name || '@' || (from_ms - 1751328000000) || "
                               "'-' || coalesce(to_ms - 1751328000000, 'open'), ';') FROM (SELECT "
                               "* FROM roster_journal WHERE person = 'room' ORDER BY id)"),
                        "王芳@0-3600000;李娜@3600000-open");
    assert_string_equal(q_text("SELECT group_concat(coalesce(grids, '') || '@' || coalesce(to_ms, "
                               "'open'), ';') FROM (SELECT * FROM roster_journal WHERE person = "
                               "'worker-1' ORDER BY id)"),
                        "G1,G2@1751331600000;G1@open");
    assert_string_equal(
        q_text("SELECT to_ms - from_ms FROM roster_journal WHERE person = 'office'"), "3600000");
    assert_string_equal(
        q_text("SELECT from_ms FROM roster_journal WHERE person = 'worker-2' AND to_ms IS NULL"),
        "1751331600000");
    assert_string_equal(q_text("SELECT count(*) FROM roster_journal WHERE to_ms IS NULL"), "3");
    /* Back to the first roster: the office returns with a new period. */
    assert_int_equal(lw_store_roster_journal(s, a, T0 + 2 * H, &changed), LW_OK);
    assert_int_equal(changed, 2 + 2 + 1 + 1);
    assert_string_equal(q_text("SELECT count(*) FROM roster_journal WHERE person = 'office'"), "2");
    /* The journal stays append-only: nothing may rewrite a period. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db,
                                      "UPDATE roster_journal SET name = 'x' WHERE person = 'room'",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM roster_journal", NULL, NULL, NULL),
                         SQLITE_OK);
    sqlite3_close(db);
    lw_roster_free(a);
    lw_roster_free(b);
    lw_store_close(s);
    remove_db();
}

/* A write that fails half way (here a trigger standing in for a full disk) leaves the journal as
 * it was: no closed period without its successor. The next load writes it all. */
static void test_failed_write_changes_nothing(void **state)
{
    (void)state;
    struct lw_store *s = open_store();
    struct lw_roster *a = roster(roster_a);
    assert_int_equal(lw_store_roster_journal(s, a, T0, NULL), LW_OK);
    exec_rw("CREATE TRIGGER fail_new BEFORE INSERT ON roster_journal WHEN NEW.person = 'new' "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
    struct lw_roster *b = roster("[duty:worker-1]\nname = 张伟 (网格)\ntier = 1\ngrids = G1,G2\n"
                                 "phone = 138 0000 0001\n"
                                 "[duty:new]\nname = New\ntier = 2\n");
    size_t changed = 99;
    assert_int_equal(lw_store_roster_journal(s, b, T0 + H, &changed), LW_ERR_DB);
    assert_int_equal(changed, 0);
    assert_string_equal(q_text("SELECT count(*) FROM roster_journal"), "3");
    assert_string_equal(q_text("SELECT count(*) FROM roster_journal WHERE to_ms IS NULL"), "3");
    /* The store still takes writes afterwards. */
    exec_rw("DROP TRIGGER fail_new");
    assert_int_equal(lw_store_roster_journal(s, b, T0 + 2 * H, &changed), LW_OK);
    assert_int_equal(changed, 2 + 1 + 2); /* worker-1 renamed, new added, room + office closed */
    assert_string_equal(
        q_text("SELECT name FROM roster_journal WHERE person = 'worker-1' AND to_ms IS NULL"),
        "张伟 (网格)");
    lw_roster_free(a);
    lw_roster_free(b);
    lw_store_close(s);
    remove_db();
}

/* The name at a time: the period covering it, else the nearest, else the id itself; on a
 * read-only connection, and on a database without the journal. */
static void test_name_at_time(void **state)
{
    (void)state;
    struct lw_store *s = open_store();
    struct lw_roster *a = roster(roster_a);
    struct lw_roster *b = roster("[duty:worker-1]\nname = 刘洋\ntier = 1\ngrids = G1\n"
                                 "[duty:room]\nname = 王芳\ntier = 2\n");
    assert_int_equal(lw_store_roster_journal(s, a, T0, NULL), LW_OK);
    assert_int_equal(lw_store_roster_journal(s, b, T0 + 10 * H, NULL), LW_OK);
    assert_int_equal(lw_store_roster_journal(s, a, T0 + 20 * H, NULL), LW_OK);
    lw_store_close(s);
    char err[256], name[160];
    sqlite3 *db = lw_store_open_readonly(path, 11, err, sizeof(err));
    assert_non_null(db);
    assert_string_equal(lw_store_roster_name(db, "worker-1", T0 + H, name, sizeof(name)), "张伟");
    assert_string_equal(lw_store_roster_name(db, "worker-1", T0 + 10 * H, name, sizeof(name)),
                        "刘洋"); /* from_ms is inside, to_ms outside */
    assert_string_equal(lw_store_roster_name(db, "worker-1", T0 + 20 * H - 1, name, sizeof(name)),
                        "刘洋");
    assert_string_equal(lw_store_roster_name(db, "worker-1", T0 + 30 * H, name, sizeof(name)),
                        "张伟");
    /* Before the first period: the nearest, the first. */
    assert_string_equal(lw_store_roster_name(db, "worker-1", T0 - 5 * H, name, sizeof(name)),
                        "张伟");
    /* The office was off the roster from 10 h to 20 h: at 12 h the nearest period is the first
     * (ended 2 h before). */
    struct lw_duty_person p;
    assert_int_equal(lw_store_roster_at(db, "office", T0 + 12 * H, &p), LW_OK);
    assert_string_equal(p.name, "Street office");
    assert_int_equal(p.tier, 3);
    assert_string_equal(p.mqtt_user, "office-1");
    assert_int_equal(lw_store_roster_at(db, "worker-1", T0 + 12 * H, &p), LW_OK);
    assert_string_equal(p.grids, "G1");
    assert_int_equal(lw_store_roster_at(db, "uid:1000", T0, &p), LW_ERR_NOTFOUND);
    assert_string_equal(p.name, "uid:1000");
    assert_int_equal(p.tier, 0);
    assert_string_equal(lw_store_roster_name(db, "", T0, name, sizeof(name)), "");
    assert_string_equal(lw_store_roster_name(db, "x", T0, name, 1), ""); /* cut, terminated */
    sqlite3_close(db);
    /* A database without the journal (before version 11) names nobody. */
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_string_equal(lw_store_roster_name(db, "worker-1", T0, name, sizeof(name)), "worker-1");
    sqlite3_close(db);
    lw_roster_free(a);
    lw_roster_free(b);
    remove_db();
}

/* A wall clock set back between two loads never makes a period end before it began. */
static void test_clock_set_back(void **state)
{
    (void)state;
    struct lw_store *s = open_store();
    struct lw_roster *a = roster(roster_a);
    struct lw_roster *b = roster("[duty:room]\nname = 李娜\ntier = 2\n");
    assert_int_equal(lw_store_roster_journal(s, a, T0 + H, NULL), LW_OK);
    assert_int_equal(lw_store_roster_journal(s, b, T0, NULL), LW_OK);
    assert_string_equal(q_text("SELECT count(*) FROM roster_journal WHERE to_ms < from_ms"), "0");
    assert_string_equal(q_text("SELECT to_ms - from_ms FROM roster_journal WHERE name = '王芳'"),
                        "0");
    char err[256], name[160];
    sqlite3 *db = lw_store_open_readonly(path, 11, err, sizeof(err));
    assert_non_null(db);
    assert_string_equal(lw_store_roster_name(db, "room", T0 + 2 * H, name, sizeof(name)), "李娜");
    sqlite3_close(db);
    lw_roster_free(a);
    lw_roster_free(b);
    lw_store_close(s);
    remove_db();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_load_then_unchanged),
        cmocka_unit_test(test_changes_removals_additions),
        cmocka_unit_test(test_failed_write_changes_nothing),
        cmocka_unit_test(test_name_at_time),
        cmocka_unit_test(test_clock_set_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
