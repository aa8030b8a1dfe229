/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_store on real SQLite files in a scratch directory: schema, refusal of foreign
 * files, batches, alerts and the outbox. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lw_alertdb.h"
#include "lw_error.h"
#include "lw_store.h"
#include "lw_store_int.h"
#include "test_support.h"

static char tmpdir[256];
static int file_no;

/* A fresh path in the scratch directory for each test. */
static void new_path(char *out, size_t cap)
{
    snprintf(out, cap, "%s/db%d.sqlite", tmpdir, ++file_no);
}

static int group_setup(void **state)
{
    const char *base = getenv("TMPDIR");
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "%s/lwstore.XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    return rmdir(tmpdir);
}

static struct lw_store *open_ok(const char *path, uint32_t batch_rows)
{
    char err[512] = "";
    struct lw_store *s = lw_store_open(path, batch_rows, err, sizeof(err));
    if (!s)
        fail_msg("lw_store_open(%s): %s", path, err);
    return s;
}

/* Integer result of one SQL query on a separate read-only connection. */
static int64_t query_ro(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    int64_t v = -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_type(q, 0) == SQLITE_NULL ? INT64_MIN : sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

static void query_text_ro(const char *path, const char *sql, char *out, size_t cap)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    out[0] = '\0';
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void exec_rw(const char *path, const char *sql)
{
    sqlite3 *db;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

/* Whole file contents (for "left byte-identical" checks); caller frees. */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void assert_dir_has_no_sidecars(const char *path)
{
    char p[512];
    snprintf(p, sizeof(p), "%s-wal", path);
    assert_int_not_equal(access(p, F_OK), 0);
    snprintf(p, sizeof(p), "%s-journal", path);
    assert_int_not_equal(access(p, F_OK), 0);
}

static struct lw_reading water_reading(uint16_t mm)
{
    struct lw_reading r;
    memset(&r, 0, sizeof(r));
    r.present = LW_R_WATER;
    r.water_mm = mm;
    return r;
}

static int add(struct lw_store *s, uint16_t node, int64_t t_ms, uint32_t fcnt,
               const struct lw_reading *r)
{
    struct lw_store_reading rd = {.node = node,
                                  .t_ms = t_ms,
                                  .fcnt = fcnt,
                                  .type = 1,
                                  .hops = 0,
                                  .rssi_x10 = -1105,
                                  .snr_x10 = 72,
                                  .r = r};
    return lw_store_add_reading(s, &rd);
}

/* ---- open / schema ------------------------------------------------------------------------- */

static void test_create_sets_schema_version_and_application_id(void **state)
{
    char path[300];
    (void)state;
    new_path(path, sizeof(path));
    struct lw_store *s = open_ok(path, 10);
    lw_store_close(s);
    assert_int_equal(query_ro(path, "PRAGMA user_version"), LW_SCHEMA_VERSION);
    assert_int_equal(query_ro(path, "PRAGMA application_id"), 0x4C574442);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' "
                                    "AND name IN ('nodes','readings','alerts','alert_journal',"
                                    "'outbox')"),
                     5);
    char mode[32];
    query_text_ro(path, "PRAGMA journal_mode", mode, sizeof(mode));
    assert_string_equal(mode, "wal");
}

static void test_reopen_existing_database(void **state)
{
    char path[300];
    (void)state;
    new_path(path, sizeof(path));
    struct lw_store *s = open_ok(path, 1);
    struct lw_reading r = water_reading(7);
    assert_int_equal(add(s, 1, 1000, 1, &r), LW_OK);
    lw_store_close(s);
    s = open_ok(path, 1);
    assert_int_equal(add(s, 1, 2000, 2, &r), LW_OK);
    lw_store_close(s);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM readings"), 2);
    assert_int_equal(query_ro(path, "PRAGMA user_version"), LW_SCHEMA_VERSION);
}

static void test_empty_existing_file_gets_schema(void **state)
{
    char path[300];
    (void)state;
    new_path(path, sizeof(path));
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fclose(f);
    lw_store_close(open_ok(path, 1));
    assert_int_equal(query_ro(path, "PRAGMA application_id"), 0x4C574442);
}

static void test_foreign_sqlite_file_refused_and_unchanged(void **state)
{
    char path[300], err[512] = "";
    size_t n0, n1;
    (void)state;
    new_path(path, sizeof(path));
    exec_rw(path, "CREATE TABLE contacts(name TEXT, phone TEXT);"
                  "INSERT INTO contacts VALUES('Li', '138');");
    unsigned char *before = slurp(path, &n0);
    assert_null(lw_store_open(path, 1, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "not a lorawatch database"));
    unsigned char *after = slurp(path, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    assert_dir_has_no_sidecars(path);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM contacts"), 1);
    assert_int_equal(query_ro(path, "PRAGMA application_id"), 0);
    free(before);
    free(after);
}

static void test_foreign_sqlite_file_with_only_user_version_refused(void **state)
{
    char path[300], err[512] = "";
    (void)state;
    new_path(path, sizeof(path));
    exec_rw(path, "PRAGMA user_version = 7;"); /* somebody else's empty database */
    assert_null(lw_store_open(path, 1, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    assert_int_equal(query_ro(path, "PRAGMA user_version"), 7);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM sqlite_schema"), 0);
}

static void test_garbage_file_refused_and_byte_identical(void **state)
{
    char path[300], err[512] = "";
    unsigned char junk[8192];
    size_t n0, n1;
    (void)state;
    new_path(path, sizeof(path));
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (unsigned char)(i * 131 + 7);
    memcpy(junk, "flood log 2026-07-15\n", 21);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
    fclose(f);

    assert_null(lw_store_open(path, 1, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    unsigned char *after = slurp(path, &n1);
    n0 = sizeof(junk);
    assert_int_equal(n0, n1);
    assert_memory_equal(junk, after, n0);
    assert_dir_has_no_sidecars(path);
    free(after);
}

/* Garbage over a page in the middle of a lorawatch database (header, application id and schema
 * intact): opening must refuse it as damaged, naming the file, and leave it untouched. */
static void test_damaged_pages_refused_and_byte_identical(void **state)
{
    char path[300], err[512] = "";
    size_t n0, n1;
    (void)state;
    new_path(path, sizeof(path));
    struct lw_store *s = open_ok(path, 500);
    struct lw_reading r = water_reading(42);
    for (uint32_t i = 1; i <= 2000; i++)
        assert_int_equal(add(s, 3, 1784000000000LL + i * 60000LL, i, &r), LW_OK);
    lw_store_close(s);
    exec_rw(path, "PRAGMA journal_mode = DELETE"); /* everything in the main file, no -wal */
    int64_t page = query_ro(path, "PRAGMA page_size");
    /* A leaf of the readings table in the middle: opening reads only the schema, so only a
     * check of every page can find it. */
    int64_t victim = query_ro(path, "SELECT pageno FROM dbstat WHERE name = 'readings' AND "
                                    "pagetype = 'leaf' ORDER BY pageno LIMIT 1 OFFSET 5");
    assert_true(victim > 1);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)(page * (victim - 1)), SEEK_SET), 0);
    for (int64_t i = 0; i < page; i++)
        fputc((int)((i * 131 + 7) & 0xff), f);
    fclose(f);
    unsigned char *before = slurp(path, &n0);

    assert_null(lw_store_open(path, 1, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    if (!strstr(err, "damaged"))
        fail_msg("%s", err);
    unsigned char *after = slurp(path, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    assert_dir_has_no_sidecars(path);
    free(before);
    free(after);
}

static void test_newer_schema_version_refused(void **state)
{
    char path[300], err[512] = "";
    (void)state;
    new_path(path, sizeof(path));
    lw_store_close(open_ok(path, 1));
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d;", LW_SCHEMA_VERSION + 1);
    exec_rw(path, sql);
    assert_null(lw_store_open(path, 1, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "newer"));
    assert_int_equal(query_ro(path, "PRAGMA user_version"), LW_SCHEMA_VERSION + 1);
}

static void test_unopenable_path_reports_it(void **state)
{
    char err[512] = "";
    char path[300];
    (void)state;
    snprintf(path, sizeof(path), "%s/no/such/dir/x.db", tmpdir);
    assert_null(lw_store_open(path, 1, err, sizeof(err)));
    assert_non_null(strstr(err, path));
}

/* ---- readings ------------------------------------------------------------------------------ */

static void test_batch_commits_at_batch_rows(void **state)
{
    char path[300];
    struct lw_store_stats st;
    (void)state;
    new_path(path, sizeof(path));
    struct lw_store *s = open_ok(path, 3);
    struct lw_reading r = water_reading(10);
    assert_int_equal(lw_store_pending(s), 0);
    assert_int_equal(add(s, 1, 1000, 1, &r), LW_OK);
    assert_int_equal(add(s, 1, 2000, 2, &r), LW_OK);
    assert_int_equal(lw_store_pending(s), 2);
    /* Not visible to another connection before the commit. */
    assert_int_equal(query_ro(path, "SELECT count(*) FROM readings"), 0);
    lw_store_stats(s, &st);
    assert_int_equal(st.commits, 0);
    assert_int_equal(add(s, 1, 3000, 3, &r), LW_OK);
    assert_int_equal(lw_store_pending(s), 0);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM readings"), 3);
    lw_store_stats(s, &st);
    assert_int_equal(st.commits, 1);
    assert_int_equal(st.readings_committed, 3);
    assert_int_equal(st.commit_failures, 0);
    assert_int_equal(st.readings_lost, 0);
    lw_store_close(s);
}

static void test_explicit_commit_and_close_commit_pending(void **state)
{
    char path[300];
    struct lw_store_stats st;
    (void)state;
    new_path(path, sizeof(path));
    struct lw_store *s = open_ok(path, 100);
    struct lw_reading r = water_reading(10);
    assert_int_equal(lw_store_commit(s), LW_OK); /* nothing open: fine */
    assert_int_equal(add(s, 1, 1000, 1, &r), LW_OK);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM readings"), 0);
    assert_int_equal(lw_store_commit(s), LW_OK);
    assert_int_equal(lw_store_pending(s), 0);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM readings"), 1);
    assert_int_equal(lw_store_commit(s), LW_OK);
    lw_store_stats(s, &st);
    assert_int_equal(st.commits, 1);
    assert_int_equal(st.readings_committed, 1);
    assert_int_equal(add(s, 1, 2000, 2, &r), LW_OK);
    lw_store_close(s); /* commits the pending one */
    assert_int_equal(query_ro(path, "SELECT count(*) FROM readings"), 2);
}

/* A database written by schema version 1 is migrated on open and keeps its rows. */
static void test_v1_database_migrated_keeping_rows(void **state)
{
    char path[300];
    (void)state;
    new_path(path, sizeof(path));
    exec_rw(path, LW_TEST_SCHEMA_V1
            "INSERT INTO readings(node, ts_ms, fcnt, type, hops, water_mm) VALUES(7, 1000, 3, 1, "
            "0, 42);"
            "PRAGMA application_id = 1280787522; PRAGMA user_version = 1;");
    struct lw_store *s = open_ok(path, 10);
    lw_store_close(s);
    assert_int_equal(query_ro(path, "PRAGMA user_version"), LW_SCHEMA_VERSION);
    assert_int_equal(query_ro(path, "SELECT water_mm FROM readings WHERE node = 7"), 42);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM readings WHERE time_quality IS NULL "
                                    "AND mono_ms IS NULL"),
                     1);
}

/* Readings received before the clock was synchronised are corrected from their monotonic time;
 * pending ones from an earlier boot can never be and are marked unknown. */
static void test_unsynced_readings_corrected_or_marked_unknown(void **state)
{
    char path[300];
    (void)state;
    new_path(path, sizeof(path));
    struct lw_store *s = open_ok(path, 10);
    assert_int_equal(lw_store_set_boot(s, "boot-a"), LW_OK);
    struct lw_reading r = water_reading(5);
    struct lw_store_reading rd = {
        .node = 1, .t_ms = 1000, .fcnt = 1, .type = 1, .r = &r, .unsynced = true, .mono_ms = 500};
    assert_int_equal(lw_store_add_reading(s, &rd), LW_OK);
    rd.fcnt = 2;
    rd.t_ms = 2000;
    rd.unsynced = false;
    assert_int_equal(lw_store_add_reading(s, &rd), LW_OK);
    assert_int_equal(lw_store_fix_times(s, 1700000000000LL, NULL, NULL), 1);
    assert_int_equal(query_ro(path, "SELECT ts_ms FROM readings WHERE fcnt = 1"), 1700000000500LL);
    assert_int_equal(query_ro(path, "SELECT time_quality FROM readings WHERE fcnt = 1"),
                     LW_TIME_CORRECTED);
    assert_int_equal(query_ro(path, "SELECT ts_ms FROM readings WHERE fcnt = 2"), 2000);
    assert_int_equal(lw_store_fix_times(s, 5, NULL, NULL), 0); /* nothing left to correct */

    rd.fcnt = 3;
    rd.unsynced = true;
    assert_int_equal(lw_store_add_reading(s, &rd), LW_OK);
    assert_int_equal(lw_store_set_boot(s, "boot-a"), LW_OK); /* same boot: still pending */
    assert_int_equal(query_ro(path, "SELECT time_quality FROM readings WHERE fcnt = 3"),
                     LW_TIME_PENDING);
    assert_int_equal(lw_store_set_boot(s, "boot-b"), LW_OK);
    assert_int_equal(query_ro(path, "SELECT time_quality FROM readings WHERE fcnt = 3"),
                     LW_TIME_UNKNOWN);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM readings WHERE mono_ms IS NOT NULL"), 0);
    lw_store_close(s);
}

struct retimed_calls {
    int n;
    int64_t alert, delta_ms, raised_ms;
};

static char *record_retime(void *arg, int64_t alert, int64_t delta_ms, int64_t raised_ms,
                           const char *message)
{
    struct retimed_calls *c = arg;
    c->n++;
    c->alert = alert;
    c->delta_ms = delta_ms;
    c->raised_ms = raised_ms;
    assert_string_equal(message, "{\"before\":1}");
    return strdup("{\"after\":1}");
}

/* Alert-side times written while the clock was unsynchronised are corrected with the readings,
 * by the synchronised offset minus the one they were written with; those written after are left
 * alone, the journal stays append-only otherwise, and a new boot drops what is pending. */
static void test_unsynced_alert_times_corrected(void **state)
{
    char path[300];
    const int64_t d = 3 * 86400000LL;
    (void)state;
    new_path(path, sizeof(path));
    struct lw_store *s = open_ok(path, 10);
    assert_int_equal(lw_store_set_boot(s, "boot-a"), LW_OK);
    assert_int_equal(lw_store_set_unsynced(s, true), LW_OK);
    assert_int_equal(
        lw_alertdb_insert(s, 1, "watch", "flood", "blue", 1, 1000, 12, 10, "{\"before\":1}"),
        LW_OK);
    assert_int_equal(lw_alertdb_journal_row(s, 1, 1000, "raised", NULL), LW_OK);
    assert_int_equal(lw_store_commit(s), LW_OK);
    int64_t off = query_ro(path, "SELECT off_ms FROM clock_pending WHERE what = "
                                 "'alerts.raised_ms' AND rid = 1");
    /* Each time has its own offset (the two clocks are read to the millisecond, so they may
     * differ by one). */
    int64_t offj = query_ro(path, "SELECT off_ms FROM clock_pending WHERE what = "
                                  "'alert_journal.ts_ms'");
    assert_int_equal(query_ro(path, "SELECT count(*) FROM clock_pending"), 2);
    assert_int_equal(lw_store_set_unsynced(s, false), LW_OK);
    assert_int_equal(lw_alertdb_journal_row(s, 1, 5000, "notified", NULL), LW_OK);
    assert_int_equal(lw_store_commit(s), LW_OK);

    struct retimed_calls c = {0};
    assert_int_equal(lw_store_fix_times(s, off + d, record_retime, &c), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.alert, 1);
    assert_int_equal(c.delta_ms, d);
    assert_int_equal(c.raised_ms, 1000 + d);
    assert_int_equal(query_ro(path, "SELECT raised_ms FROM alerts WHERE id = 1"), 1000 + d);
    assert_int_equal(query_ro(path, "SELECT length(message) FROM alerts WHERE id = 1"), 11);
    assert_int_equal(query_ro(path, "SELECT ts_ms FROM alert_journal WHERE event = 'raised'"),
                     1000 + off + d - offj);
    assert_int_equal(query_ro(path, "SELECT ts_ms FROM alert_journal WHERE event = 'notified'"),
                     5000);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM clock_pending"), 0);
    assert_int_equal(lw_store_fix_times(s, off + 2 * d, NULL, NULL), 0); /* once only */
    assert_int_equal(query_ro(path, "SELECT raised_ms FROM alerts WHERE id = 1"), 1000 + d);

    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE alert_journal SET ts_ms = 0", NULL, NULL, NULL),
                         SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(lw_store_set_unsynced(s, true), LW_OK);
    assert_int_equal(lw_alertdb_journal_row(s, 1, 6000, "reminded", NULL), LW_OK);
    assert_int_equal(lw_store_commit(s), LW_OK);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM clock_pending"), 1);
    assert_int_equal(lw_store_set_boot(s, "boot-b"), LW_OK);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM clock_pending"), 0);
    lw_store_close(s);
}

static void test_absent_fields_stored_as_null(void **state)
{
    char path[300];
    (void)state;
    new_path(path, sizeof(path));
    struct lw_store *s = open_ok(path, 1);
    struct lw_reading r = water_reading(153);
    assert_int_equal(add(s, 0x0101, 1784052000000, 9, &r), LW_OK);
    struct lw_reading all;
    memset(&all, 0, sizeof(all));
    all.present = LW_R_SMOKE | LW_R_GAS | LW_R_CO | LW_R_TEMP | LW_R_BATTERY | LW_R_FLAGS;
    all.smoke_alarm = 1;
    all.smoke_obscuration = 250;
    all.gas_lel_x10 = 205;
    all.co_ppm = 35;
    all.temp_c_x10 = -55;
    all.battery_mv = 3310;
    all.flags = LW_FLAG_WARMUP;
    assert_int_equal(add(s, 0x0002, 1784052000000, 10, &all), LW_OK);
    lw_store_close(s);

    assert_int_equal(query_ro(path, "SELECT water_mm FROM readings WHERE node = 257"), 153);
    assert_int_equal(query_ro(path, "SELECT ts_ms FROM readings WHERE node = 257"), 1784052000000);
    assert_int_equal(query_ro(path, "SELECT rssi_x10 FROM readings WHERE node = 257"), -1105);
    assert_int_equal(query_ro(path, "SELECT snr_x10 FROM readings WHERE node = 257"), 72);
    static const char *const absent[] = {"smoke",    "obscuration", "gas_lel_x10", "co_ppm",
                                         "temp_x10", "battery_mv",  "flags"};
    char sql[128];
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        snprintf(sql, sizeof(sql), "SELECT %s FROM readings WHERE node = 257", absent[i]);
        assert_true(query_ro(path, sql) == INT64_MIN);
    }
    assert_true(query_ro(path, "SELECT water_mm FROM readings WHERE node = 2") == INT64_MIN);
    assert_int_equal(query_ro(path, "SELECT smoke FROM readings WHERE node = 2"), 1);
    assert_int_equal(query_ro(path, "SELECT obscuration FROM readings WHERE node = 2"), 250);
    assert_int_equal(query_ro(path, "SELECT gas_lel_x10 FROM readings WHERE node = 2"), 205);
    assert_int_equal(query_ro(path, "SELECT co_ppm FROM readings WHERE node = 2"), 35);
    assert_int_equal(query_ro(path, "SELECT temp_x10 FROM readings WHERE node = 2"), -55);
    assert_int_equal(query_ro(path, "SELECT battery_mv FROM readings WHERE node = 2"), 3310);
    assert_int_equal(query_ro(path, "SELECT flags FROM readings WHERE node = 2"), 8);
}

struct counters {
    int n;
    uint16_t node[8];
    uint32_t fcnt[8];
};

static void on_counter(void *arg, uint16_t node, uint32_t fcnt)
{
    struct counters *c = arg;
    assert_true(c->n < 8);
    c->node[c->n] = node;
    c->fcnt[c->n] = fcnt;
    c->n++;
}

static void test_each_counter_gives_max_fcnt_per_node(void **state)
{
    char path[300];
    struct counters c;
    (void)state;
    new_path(path, sizeof(path));
    struct lw_store *s = open_ok(path, 100);
    struct lw_reading r = water_reading(1);
    assert_int_equal(add(s, 1, 1000, 5, &r), LW_OK);
    assert_int_equal(add(s, 1, 2000, 9, &r), LW_OK);
    assert_int_equal(add(s, 1, 3000, 7, &r), LW_OK); /* reordered: 9 stays the max */
    assert_int_equal(add(s, 2, 1000, 3, &r), LW_OK);
    assert_int_equal(add(s, 3, 1000, 0xFFFFFFF0u, &r), LW_OK); /* above INT32_MAX */
    assert_int_equal(lw_store_commit(s), LW_OK);
    memset(&c, 0, sizeof(c));
    assert_int_equal(lw_store_each_counter(s, on_counter, &c), LW_OK);
    assert_int_equal(c.n, 3);
    for (int i = 0; i < c.n; i++) {
        if (c.node[i] == 1)
            assert_int_equal(c.fcnt[i], 9);
        else if (c.node[i] == 2)
            assert_int_equal(c.fcnt[i], 3);
        else if (c.node[i] == 3)
            assert_true(c.fcnt[i] == 0xFFFFFFF0u);
        else
            fail_msg("unexpected node %u", c.node[i]);
    }
    lw_store_close(s);
}

static void test_duplicate_reading_ignored(void **state)
{
    char path[300];
    (void)state;
    new_path(path, sizeof(path));
    struct lw_store *s = open_ok(path, 1);
    struct lw_reading r = water_reading(1);
    assert_int_equal(add(s, 1, 1000, 5, &r), LW_OK);
    assert_int_equal(add(s, 1, 1000, 5, &r), LW_OK);
    lw_store_close(s);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM readings"), 1);
}

/* ---- alerts -------------------------------------------------------------------------------- */

struct actives {
    int n;
    struct lw_alertdb_open o[8]; /* strings copied below */
    char rule[8][32], message[8][64];
};

static void on_active(void *arg, const struct lw_alertdb_open *o)
{
    struct actives *a = arg;
    assert_true(a->n < 8);
    a->o[a->n] = *o;
    snprintf(a->rule[a->n], sizeof(a->rule[0]), "%s", o->rule);
    snprintf(a->message[a->n], sizeof(a->message[0]), "%s", o->message ? o->message : "(null)");
    a->n++;
}

static void test_alert_insert_state_journal_and_active(void **state)
{
    char path[300], text[64];
    int64_t a1 = 1, a2 = 2;
    struct actives act;
    (void)state;
    new_path(path, sizeof(path));
    struct lw_store *s = open_ok(path, 100);
    assert_int_equal(lw_alertdb_insert(s, a1, "flood-basement", "flood", "red", 0x0101,
                                       1784052000000, 63.0, 50.0, NULL),
                     LW_OK);
    assert_int_equal(lw_alertdb_journal_row(s, a1, 1784052000000, "raised", "water 63 mm"), LW_OK);
    assert_int_equal(lw_alertdb_insert(s, a2, "gas-high", "gas", "red", 0x0002, 1784052001000, 55.5,
                                       50.0, "{\"id\":2,\"level\":\"red\"}"),
                     LW_OK);
    assert_int_equal(lw_alertdb_journal_row(s, a2, 1784052001000, "raised", NULL), LW_OK);
    /* Joins the open transaction: not visible until committed. */
    assert_int_equal(query_ro(path, "SELECT count(*) FROM alerts"), 0);
    assert_int_equal(lw_store_commit(s), LW_OK);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM alerts"), 2);
    assert_int_equal(query_ro(path, "SELECT max(tier) FROM alerts"), 0); /* nobody told yet */

    assert_int_equal(lw_alertdb_set_state(s, a1, "cleared", 1784052600000), LW_OK);
    assert_int_equal(lw_alertdb_journal_row(s, a1, 1784052600000, "cleared", "water 18 mm"), LW_OK);
    assert_int_equal(lw_alertdb_set_state(s, a2, "acked", 1784052002000), LW_OK);
    assert_int_equal(lw_store_commit(s), LW_OK);

    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT state FROM alerts WHERE id = %lld", (long long)a1);
    query_text_ro(path, sql, text, sizeof(text));
    assert_string_equal(text, "cleared");
    snprintf(sql, sizeof(sql), "SELECT cleared_ms FROM alerts WHERE id = %lld", (long long)a1);
    assert_int_equal(query_ro(path, sql), 1784052600000);
    snprintf(sql, sizeof(sql), "SELECT cleared_ms FROM alerts WHERE id = %lld", (long long)a2);
    assert_true(query_ro(path, sql) == INT64_MIN); /* not cleared: no clear time */
    snprintf(sql, sizeof(sql), "SELECT raised_ms FROM alerts WHERE id = %lld", (long long)a2);
    assert_int_equal(query_ro(path, sql), 1784052001000);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM alert_journal WHERE alert = %lld",
             (long long)a1);
    assert_int_equal(query_ro(path, sql), 2);
    query_text_ro(path, "SELECT detail FROM alert_journal ORDER BY id DESC LIMIT 1", text,
                  sizeof(text));
    assert_string_equal(text, "water 18 mm");
    snprintf(sql, sizeof(sql), "SELECT detail IS NULL FROM alert_journal WHERE alert = %lld",
             (long long)a2);
    assert_int_equal(query_ro(path, sql), 1);

    /* The open alert's record comes back whole: the raise message, level, value and incident
     * as raised, and the reminders each tier had. */
    assert_int_equal(lw_alertdb_set_incident(s, a2, 4), LW_OK);
    assert_int_equal(lw_alertdb_journal(s, a2, 1784052001000, "notified", "wang", 1, "mqtt", NULL, NULL),
                     LW_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(
            lw_alertdb_journal(s, a2, 1784052002000 + i, "reminded", "wang", 1, "mqtt", NULL, NULL),
            LW_OK);
    assert_int_equal(lw_alertdb_journal(s, a2, 1784052003000, "escalated", "room", 2, "mqtt", NULL, NULL),
                     LW_OK);
    assert_int_equal(lw_alertdb_journal(s, a2, 1784052004000, "reminded", "room", 2, "mqtt", NULL, NULL),
                     LW_OK);
    assert_int_equal(lw_alertdb_update(s, a2, 2, NULL, 0, NULL), LW_OK);
    assert_int_equal(lw_store_commit(s), LW_OK);
    memset(&act, 0, sizeof(act));
    assert_int_equal(lw_alertdb_each_open(s, on_active, &act), LW_OK);
    assert_int_equal(act.n, 1);
    assert_true(act.o[0].id == a2);
    assert_string_equal(act.rule[0], "gas-high");
    assert_int_equal(act.o[0].node, 0x0002);
    assert_int_equal(act.o[0].level, LW_LEVEL_RED);
    assert_true(act.o[0].value == 55.5);
    assert_int_equal(act.o[0].incident, 4);
    assert_string_equal(act.message[0], "{\"id\":2,\"level\":\"red\"}");
    assert_int_equal(act.o[0].tier, 2);
    assert_int_equal(act.o[0].told_ms, 1784052003000);
    assert_int_equal(act.o[0].reminded_ms, 1784052004000);
    assert_int_equal(act.o[0].reminders[1], 3);
    assert_int_equal(act.o[0].reminders[2], 1);
    assert_int_equal(act.o[0].reminders[3], 0);
    /* Closed (withdrawn) alerts are not active either. */
    assert_int_equal(lw_alertdb_set_state(s, a2, "closed", 1784052003000), LW_OK);
    memset(&act, 0, sizeof(act));
    assert_int_equal(lw_alertdb_each_open(s, on_active, &act), LW_OK);
    assert_int_equal(act.n, 0);
    lw_store_close(s);
}

/* Ids are the gateway's: the floor covers used and reserved ids, so a restart never reuses an
 * id that may have been published while the database failed. */
static void test_alert_id_floor_covers_reserved_ids(void **state)
{
    char path[300];
    (void)state;
    new_path(path, sizeof(path));
    struct lw_store *s = open_ok(path, 100);
    assert_int_equal(lw_alertdb_id_floor(s), 0);
    assert_int_equal(lw_alertdb_insert(s, 5, "r", "flood", "red", 1, 1000, 1, 1, NULL), LW_OK);
    assert_int_equal(lw_store_commit(s), LW_OK);
    assert_int_equal(lw_alertdb_id_floor(s), 5);
    assert_int_equal(lw_alertdb_reserve_ids(s, 68), LW_OK);
    assert_int_equal(lw_store_commit(s), LW_OK);
    assert_int_equal(lw_alertdb_id_floor(s), 68);
    /* The same id twice is refused: the primary key guards against reuse. */
    assert_int_equal(lw_alertdb_insert(s, 5, "r", "flood", "red", 1, 2000, 1, 1, NULL), LW_ERR_DB);
    lw_store_close(s);
}

/* A transition's rows go in together or not at all, without disturbing the open batch. */
static void test_savepoint_rolls_back_one_transition_only(void **state)
{
    char path[300];
    (void)state;
    new_path(path, sizeof(path));
    struct lw_store *s = open_ok(path, 100);
    struct lw_reading r = water_reading(10);
    assert_int_equal(add(s, 1, 1000, 1, &r), LW_OK);
    assert_int_equal(lw_store_savepoint(s), LW_OK);
    assert_int_equal(lw_alertdb_insert(s, 9, "r", "flood", "red", 1, 1000, 1, 1, NULL), LW_OK);
    lw_store_savepoint_end(s, false);
    assert_int_equal(lw_store_savepoint(s), LW_OK);
    assert_int_equal(lw_alertdb_insert(s, 10, "r", "flood", "red", 1, 1000, 1, 1, NULL), LW_OK);
    lw_store_savepoint_end(s, true);
    assert_int_equal(lw_store_commit(s), LW_OK);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM readings"), 1);
    assert_int_equal(query_ro(path, "SELECT group_concat(id) FROM alerts"), 10);
    lw_store_close(s);
}

/* ---- outbox -------------------------------------------------------------------------------- */

struct outbox {
    int n;
    int64_t seq[8];
    char topic[8][64];
    char payload[8][64];
    bool retain[8];
};

static void on_outbox(void *arg, int64_t seq, const char *topic, const char *payload, bool retain)
{
    struct outbox *o = arg;
    assert_true(o->n < 8);
    o->seq[o->n] = seq;
    snprintf(o->topic[o->n], sizeof(o->topic[0]), "%s", topic);
    snprintf(o->payload[o->n], sizeof(o->payload[0]), "%s", payload);
    o->retain[o->n] = retain;
    o->n++;
}

static void test_outbox_add_each_done(void **state)
{
    char path[300];
    int64_t s1, s2, s3, alert = -1;
    struct outbox o;
    (void)state;
    new_path(path, sizeof(path));
    struct lw_store *s = open_ok(path, 100);
    assert_int_equal(lw_store_outbox_add(s, 7, "lorawatch/estate/alert/7", "{\"a\":7}", true, &s1),
                     LW_OK);
    assert_int_equal(lw_store_outbox_add(s, 0, "lorawatch/estate/status", "{}", false, &s2), LW_OK);
    assert_int_equal(lw_store_outbox_add(s, 9, "lorawatch/estate/alert/9", "{\"a\":9}", true, &s3),
                     LW_OK);
    assert_true(s1 < s2 && s2 < s3);
    assert_int_equal(lw_store_commit(s), LW_OK);

    memset(&o, 0, sizeof(o));
    assert_int_equal(lw_store_each_outbox(s, 0, on_outbox, &o), LW_OK);
    assert_int_equal(o.n, 3);
    assert_true(o.seq[0] == s1 && o.seq[1] == s2 && o.seq[2] == s3);
    assert_string_equal(o.topic[0], "lorawatch/estate/alert/7");
    assert_string_equal(o.payload[0], "{\"a\":7}");
    assert_true(o.retain[0]);
    assert_string_equal(o.topic[1], "lorawatch/estate/status");
    assert_false(o.retain[1]);
    assert_string_equal(o.topic[2], "lorawatch/estate/alert/9");

    assert_int_equal(lw_store_outbox_done(s, s1, &alert), LW_OK);
    assert_int_equal(alert, 7);
    assert_int_equal(lw_store_outbox_done(s, s2, &alert), LW_OK);
    assert_int_equal(alert, 0); /* no alert: NULL column */
    alert = -1;
    assert_int_equal(lw_store_outbox_done(s, 12345, &alert), LW_OK);
    assert_int_equal(alert, 0); /* unknown seq */
    assert_int_equal(lw_store_commit(s), LW_OK);

    memset(&o, 0, sizeof(o));
    assert_int_equal(lw_store_each_outbox(s, 0, on_outbox, &o), LW_OK);
    assert_int_equal(o.n, 1);
    assert_true(o.seq[0] == s3);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM outbox"), 1);
    lw_store_close(s);

    /* Survives a restart. */
    s = open_ok(path, 100);
    memset(&o, 0, sizeof(o));
    assert_int_equal(lw_store_each_outbox(s, 0, on_outbox, &o), LW_OK);
    assert_int_equal(o.n, 1);
    assert_string_equal(o.payload[0], "{\"a\":9}");
    lw_store_close(s);
}

/* An acknowledgement that joins a batch which is then rolled back is reported once, so the
 * owner hands the message over again; a committed one is not. */
static void test_outbox_ack_rolled_back_is_reported(void **state)
{
    char path[300];
    int64_t s1, s2, alert = -1;
    struct outbox o;
    (void)state;
    new_path(path, sizeof(path));
    struct lw_store *s = open_ok(path, 100);
    assert_int_equal(lw_store_outbox_add(s, 7, "lorawatch/estate/alert/7", "{}", true, &s1), LW_OK);
    assert_int_equal(lw_store_outbox_add(s, 8, "lorawatch/estate/alert/8", "{}", true, &s2), LW_OK);
    assert_int_equal(lw_store_commit(s), LW_OK);
    assert_false(lw_store_outbox_acks_lost(s));

    assert_int_equal(lw_store_outbox_done(s, s1, &alert), LW_OK);
    assert_int_equal(lw_store_commit(s), LW_OK);
    assert_false(lw_store_outbox_acks_lost(s));

    assert_int_equal(lw_store_outbox_done(s, s2, &alert), LW_OK);
    assert_false(lw_store_outbox_acks_lost(s)); /* still open: may yet be committed */
    lw_store_rollback(s);                       /* what a failed spool flush does */
    assert_true(lw_store_outbox_acks_lost(s));
    assert_false(lw_store_outbox_acks_lost(s)); /* once */
    memset(&o, 0, sizeof(o));
    assert_int_equal(lw_store_each_outbox(s, 0, on_outbox, &o), LW_OK);
    assert_int_equal(o.n, 1);
    assert_true(o.seq[0] == s2);

    /* Rolled back then a new batch begun (a reading): still reported. */
    assert_int_equal(lw_store_outbox_done(s, s2, &alert), LW_OK);
    lw_store_rollback(s);
    assert_int_equal(lw_store_outbox_prune(s, 0), LW_OK);
    assert_int_equal(lw_store_commit(s), LW_OK);
    assert_true(lw_store_outbox_acks_lost(s));
    lw_store_close(s);
}

/* What the broker acknowledged is kept: a broker that lost it (its mark behind) gets it back in
 * the outbox under its old sequence numbers; of duty messages only the latest per (alert, topic);
 * an open alert's latest state and its unacknowledged duty messages whatever the mark. */
static void test_outbox_kept_and_requeued(void **state)
{
    char path[300];
    int64_t seq[7], alert, acked, last, moved;
    struct outbox o;
    (void)state;
    new_path(path, sizeof(path));
    struct lw_store *s = open_ok(path, 100);
    assert_int_equal(lw_alertdb_insert(s, 1, "r", "flood", "red", 1, 1000, 150, 100, NULL), LW_OK);
    assert_int_equal(lw_alertdb_insert(s, 2, "r", "flood", "red", 2, 1000, 150, 100, NULL), LW_OK);
    assert_int_equal(lw_alertdb_set_state(s, 2, "cleared", 2000), LW_OK);
    const char *topic[7] = {"t/alert/1", "t/duty/tier/1", "t/alert/2", "t/duty/tier/1",
                            "t/alert/2", "t/duty/tier/1", "t/alert/1"};
    const int64_t of[7] = {1, 1, 2, 2, 2, 1, 1};
    const char *reminder = "{\"duty\":{\"kind\":\"reminder\"}}";
    for (int i = 0; i < 7; i++)
        assert_int_equal(lw_store_outbox_add(s, of[i], topic[i],
                                             of[i] == 1 && topic[i][2] == 'd' ? reminder : "{}",
                                             topic[i][2] == 'a', &seq[i]),
                         LW_OK);
    assert_int_equal(lw_store_outbox_mark(s, &acked, &last), LW_OK);
    assert_true(acked == seq[0] - 1 && last == seq[6]);
    for (int i = 0; i < 6; i++) /* the last alert/1 message stays unacknowledged */
        assert_int_equal(lw_store_outbox_done(s, seq[i], &alert), LW_OK);
    assert_int_equal(lw_store_commit(s), LW_OK);
    assert_int_equal(lw_store_outbox_mark(s, &acked, &last), LW_OK);
    assert_int_equal(acked, seq[5]);
    /* The later duty message of alert 1 replaced the earlier reminder. */
    assert_int_equal(query_ro(path, "SELECT count(*) FROM outbox_sent"), 5);

    /* The broker's mark covers everything: nothing to send again. */
    assert_int_equal(lw_store_outbox_requeue(s, seq[5], &moved), LW_OK);
    assert_int_equal(moved, 0);
    /* Behind after seq[2]: seq[3..5] again, and alert 1's latest state (seq[0]); not alert 2's
     * first message (before the mark, alert cleared) nor alert 1's replaced duty message. */
    assert_int_equal(lw_store_outbox_requeue(s, seq[2], &moved), LW_OK);
    assert_int_equal(moved, 4);
    assert_int_equal(lw_store_commit(s), LW_OK);
    memset(&o, 0, sizeof(o));
    assert_int_equal(lw_store_each_outbox(s, 0, on_outbox, &o), LW_OK);
    assert_int_equal(o.n, 5);
    assert_true(o.seq[0] == seq[0] && o.seq[1] == seq[3] && o.seq[2] == seq[4] &&
                o.seq[3] == seq[5] && o.seq[4] == seq[6]);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM outbox_sent"), 1);
    assert_int_equal(lw_store_outbox_mark(s, &acked, &last), LW_OK);
    assert_int_equal(acked, seq[0] - 1);

    /* A day later, only what an open alert still needs is kept. */
    for (int i = 0; i < 6; i++)
        lw_store_outbox_done(s, seq[i], &alert);
    assert_int_equal(lw_store_commit(s), LW_OK);
    assert_int_equal(lw_store_outbox_prune(s, INT64_MAX), LW_OK);
    assert_int_equal(lw_store_commit(s), LW_OK);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM outbox_sent WHERE alert = 1"), 2);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM outbox_sent WHERE alert = 2"), 0);
    /* Only reminders are replaced: what a tier was told (here its escalation) stays, with the
     * latest reminder after it. */
    const char *kinds[3] = {"{\"duty\":{\"kind\":\"escalated\"}}", reminder, reminder};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(lw_store_outbox_add(s, 1, "t/duty/tier/2", kinds[i], false, &seq[i]),
                         LW_OK);
        assert_int_equal(lw_store_outbox_done(s, seq[i], &alert), LW_OK);
    }
    assert_int_equal(lw_store_commit(s), LW_OK);
    assert_int_equal(query_ro(path, "SELECT count(*) FROM outbox_sent WHERE topic = "
                                    "'t/duty/tier/2' AND (json_extract(payload, '$.duty.kind') = "
                                    "'escalated' OR seq = (SELECT max(seq) FROM outbox_sent))"),
                     2);
    assert_int_equal(
        query_ro(path, "SELECT count(*) FROM outbox_sent WHERE topic = 't/duty/tier/2'"), 2);
    lw_store_close(s);
}

/* ---- storage trouble ----------------------------------------------------------------------- */

/* A reader that keeps its snapshot (a long report, a technician's sqlite3) stops checkpoints from
 * resetting the WAL: that is trouble, and it ends when the reader does. */
static void test_reader_pinning_the_wal_is_trouble(void **state)
{
    char path[300], wal[320];
    struct lw_store_stats st;
    (void)state;
    new_path(path, sizeof(path));
    snprintf(wal, sizeof(wal), "%s-wal", path);
    struct lw_store *s = open_ok(path, 1);
    struct lw_reading r = water_reading(10);
    assert_int_equal(add(s, 1, 1000, 1, &r), LW_OK);
    sqlite3 *reader;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open_v2(path, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(reader, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(reader, "SELECT count(*) FROM readings", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    sqlite3_finalize(q); /* the transaction, and its snapshot, stay */
    uint32_t fcnt = 2;
    for (; fcnt < 20000 && lw_store_trouble(s) == LW_STORE_OK; fcnt++)
        assert_int_equal(add(s, 1, 1000 * fcnt, fcnt, &r), LW_OK);
    assert_int_equal(lw_store_trouble(s), LW_STORE_WAL_PINNED);
    assert_string_equal(lw_store_trouble_name(lw_store_trouble(s)), "wal_pinned");
    lw_store_stats(s, &st);
    assert_true(st.checkpoints_pinned > 0);
    /* Readings are still stored while pinned: only the WAL's growth is the trouble. */
    assert_int_equal(query_ro(path, "SELECT count(*) FROM readings"), fcnt - 1);
    sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(reader);
    assert_int_equal(lw_store_tick(s), LW_STORE_OK);
    struct stat wst;
    assert_int_equal(stat(wal, &wst), 0);
    assert_int_equal(wst.st_size, 0); /* reset to nothing */
    lw_store_close(s);
}

/* Space for alerts is kept beside the database, and kept across restarts. */
static void test_ballast_made_and_kept(void **state)
{
    char path[300], ballast[320];
    struct stat st;
    (void)state;
    new_path(path, sizeof(path));
    snprintf(ballast, sizeof(ballast), "%s-ballast", path);
    struct lw_store *s = open_ok(path, 1);
    assert_int_equal(stat(ballast, &st), 0);
    assert_true(st.st_size > 0);
    assert_int_equal((uint64_t)st.st_size, lw_store_ballast_bytes(s));
    assert_int_equal(lw_store_trouble(s), LW_STORE_OK);
    assert_false(lw_store_ballast_just_released(s));
    lw_store_close(s);
    s = open_ok(path, 1);
    assert_int_equal((uint64_t)st.st_size, lw_store_ballast_bytes(s));
    lw_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_sets_schema_version_and_application_id),
        cmocka_unit_test(test_reader_pinning_the_wal_is_trouble),
        cmocka_unit_test(test_ballast_made_and_kept),
        cmocka_unit_test(test_reopen_existing_database),
        cmocka_unit_test(test_empty_existing_file_gets_schema),
        cmocka_unit_test(test_foreign_sqlite_file_refused_and_unchanged),
        cmocka_unit_test(test_foreign_sqlite_file_with_only_user_version_refused),
        cmocka_unit_test(test_garbage_file_refused_and_byte_identical),
        cmocka_unit_test(test_damaged_pages_refused_and_byte_identical),
        cmocka_unit_test(test_newer_schema_version_refused),
        cmocka_unit_test(test_unopenable_path_reports_it),
        cmocka_unit_test(test_batch_commits_at_batch_rows),
        cmocka_unit_test(test_explicit_commit_and_close_commit_pending),
        cmocka_unit_test(test_v1_database_migrated_keeping_rows),
        cmocka_unit_test(test_unsynced_readings_corrected_or_marked_unknown),
        cmocka_unit_test(test_unsynced_alert_times_corrected),
        cmocka_unit_test(test_absent_fields_stored_as_null),
        cmocka_unit_test(test_each_counter_gives_max_fcnt_per_node),
        cmocka_unit_test(test_duplicate_reading_ignored),
        cmocka_unit_test(test_alert_insert_state_journal_and_active),
        cmocka_unit_test(test_alert_id_floor_covers_reserved_ids),
        cmocka_unit_test(test_savepoint_rolls_back_one_transition_only),
        cmocka_unit_test(test_outbox_add_each_done),
        cmocka_unit_test(test_outbox_ack_rolled_back_is_reported),
        cmocka_unit_test(test_outbox_kept_and_requeued),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
