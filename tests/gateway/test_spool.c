/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_spool on a real store: writes kept in order, messages published from memory
 * until the broker has them, and everything written and committed by one flush. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "lw_alertdb.h"
#include "lw_error.h"
#include "lw_spool.h"
#include "lw_store.h"

static char dir[256], path[300], spool[300];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/lwspool.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/lw.db", dir);
    snprintf(spool, sizeof(spool), "%s/spool", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[400];
    const char *suffix[] = {"", "-wal", "-shm", "-ballast"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        unlink(p);
    }
    unlink(spool);
    snprintf(p, sizeof(p), "%s.unread", spool);
    unlink(p);
    return rmdir(dir);
}

static int64_t count(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    int64_t v = -1;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

struct row {
    int64_t alert, t;
    char event[16];
};

static int apply_alert(struct lw_store *s, const void *data)
{
    const struct row *r = data;
    return lw_alertdb_insert(s, r->alert, "storm", "flood", "red", 7, r->t, 120, 100, NULL);
}

static int apply_journal(struct lw_store *s, const void *data)
{
    const struct row *r = data;
    return lw_alertdb_journal_row(s, r->alert, r->t, r->event, NULL);
}

struct seen {
    int calls;
    int64_t tag;
};

static bool publish(void *arg, int64_t tag, const char *topic, const char *payload, bool retain)
{
    struct seen *s = arg;
    assert_string_equal(topic, "lorawatch/t/alert/1");
    assert_string_equal(payload, "{\"id\":1}");
    assert_true(retain);
    s->calls++;
    s->tag = tag;
    return true;
}

static void test_flush_in_order_with_times_and_acks(void **state)
{
    (void)state;
    char err[256];
    struct lw_store *st = lw_store_open(path, 64, err, sizeof(err));
    assert_non_null(st);
    struct lw_spool *sp = lw_spool_new(1 << 20);
    struct row a = {1, 1000, "raised"}, j = {1, 1000, "raised"};
    int64_t tag = 0, tag2 = 0;
    assert_int_equal(lw_spool_write(sp, apply_alert, &a, sizeof(a)), LW_OK);
    assert_int_equal(lw_spool_write(sp, apply_journal, &j, sizeof(j)), LW_OK);
    assert_int_equal(lw_spool_message(sp, 1, "lorawatch/t/alert/1", "{\"id\":1}", true, &tag),
                     LW_OK);
    assert_int_equal(lw_spool_message(sp, 1, "lorawatch/t/alert/1", "{\"id\":1}", true, &tag2),
                     LW_OK);
    assert_true(lw_spool_tag(tag));
    assert_false(lw_spool_tag(1)); /* an outbox sequence number */
    assert_int_equal(lw_spool_count(sp), 4);
    /* Paged from memory once, again only when asked to (a new connection). */
    struct seen s = {0};
    lw_spool_each_message(sp, false, publish, &s);
    assert_int_equal(s.calls, 2);
    lw_spool_each_message(sp, false, publish, &s);
    assert_int_equal(s.calls, 2);
    lw_spool_acked(sp, tag, 1500);
    lw_spool_each_message(sp, true, publish, &s);
    assert_int_equal(s.calls, 3); /* only the message the broker has not acknowledged */
    assert_int_equal(s.tag, tag2);
    /* A journal row of an alert that does not exist is refused by the database (foreign key):
     * dropped, not blocking the rest. */
    struct row bad = {999, 1200, "cleared"};
    assert_int_equal(lw_spool_write(sp, apply_journal, &bad, sizeof(bad)), LW_OK);
    assert_int_equal(lw_spool_flush(sp, st), LW_OK);
    assert_int_equal(lw_spool_count(sp), 0);
    assert_int_equal(count("SELECT count(*) FROM alerts WHERE id = 1 AND raised_ms = 1000"), 1);
    assert_int_equal(
        count("SELECT count(*) FROM alert_journal WHERE alert = 1 AND event = 'raised' "
              "AND ts_ms = 1000"),
        1);
    /* The acknowledged message became its 'published' row, at the time of the ack; the other
     * waits in the outbox to be sent again. */
    assert_int_equal(count("SELECT count(*) FROM alert_journal WHERE alert = 1 AND event = "
                           "'published' AND ts_ms = 1500"),
                     1);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE alert = 1"), 1);
    /* ... and the acknowledged one is kept as acknowledged by the broker, to be given again to a
     * broker that loses it (outbox mark). */
    assert_int_equal(count("SELECT count(*) FROM outbox_sent WHERE alert = 1"), 1);
    assert_int_equal(count("SELECT count(*) FROM alert_journal WHERE alert = 999"), 0);
    /* Written in the order queued: the alert row before its journal row. */
    assert_int_equal(count("SELECT min(id) FROM alert_journal WHERE event = 'raised'"),
                     count("SELECT min(id) FROM alert_journal"));
    lw_spool_free(sp);
    lw_store_close(st);
}

/* A queue that would outgrow its memory refuses more (the caller pages without keeping), and
 * takes again once flushed. */
static void test_bounded(void **state)
{
    (void)state;
    char err[256];
    struct lw_store *st = lw_store_open(path, 64, err, sizeof(err));
    assert_non_null(st);
    struct lw_spool *sp = lw_spool_new(4096);
    struct row a = {1, 1000, "raised"};
    int64_t tag;
    char big[2048];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(lw_spool_write(sp, apply_alert, &a, sizeof(a)), LW_OK);
    assert_int_equal(lw_spool_message(sp, 1, "t", big, true, &tag), LW_OK);
    assert_int_equal(lw_spool_message(sp, 1, "t", big, true, &tag), LW_ERR_TOOBIG);
    assert_int_equal(lw_spool_refused(sp), 1);
    assert_int_equal(lw_spool_count(sp), 2);
    assert_int_equal(lw_spool_flush(sp, st), LW_OK);
    assert_int_equal(lw_spool_message(sp, 1, "t", big, true, &tag), LW_OK);
    lw_spool_free(sp);
    lw_store_close(st);
}

static const lw_spool_apply_fn kinds[] = {apply_alert, apply_journal};

/* A daemon killed while writes waited for the disk: the next one finds them in the spool file
 * (writes in order, messages with what the broker had acknowledged) and journals them. */
static void test_file_survives_the_process(void **state)
{
    (void)state;
    char err[256];
    struct lw_spool *sp = lw_spool_new(1 << 20);
    assert_int_equal(lw_spool_keep(sp, spool, kinds, 2, "v1 40"), LW_OK);
    size_t loaded = 9;
    assert_int_equal(lw_spool_load(sp, &loaded), LW_OK);
    assert_int_equal(loaded, 0);
    struct row a = {1, 1000, "raised"}, j = {1, 1000, "raised"};
    int64_t tag = 0, tag2 = 0;
    assert_int_equal(lw_spool_write(sp, apply_alert, &a, sizeof(a)), LW_OK);
    assert_int_equal(lw_spool_write(sp, apply_journal, &j, sizeof(j)), LW_OK);
    assert_int_equal(lw_spool_message(sp, 1, "lorawatch/t/alert/1", "{\"id\":1}", true, &tag),
                     LW_OK);
    assert_int_equal(lw_spool_message(sp, 1, "lorawatch/t/alert/1", "{\"id\":1}", true, &tag2),
                     LW_OK);
    lw_spool_acked(sp, tag, 1500);
    /* Killed: the memory is gone (freed without a flush), the file stays. */
    lw_spool_free(sp);

    struct lw_store *st = lw_store_open(path, 64, err, sizeof(err));
    assert_non_null(st);
    sp = lw_spool_new(1 << 20);
    assert_int_equal(lw_spool_keep(sp, spool, kinds, 2, "v1 40"), LW_OK);
    assert_int_equal(lw_spool_load(sp, &loaded), LW_OK);
    assert_int_equal(loaded, 4);
    assert_int_equal(lw_spool_count(sp), 4);
    /* Only the message the broker had not acknowledged is paged from memory again. */
    struct seen s = {0};
    lw_spool_each_message(sp, true, publish, &s);
    assert_int_equal(s.calls, 1);
    assert_true(lw_spool_tag(s.tag));
    assert_int_equal(lw_spool_flush(sp, st), LW_OK);
    assert_int_equal(count("SELECT count(*) FROM alerts WHERE id = 1 AND raised_ms = 1000"), 1);
    assert_int_equal(count("SELECT count(*) FROM alert_journal WHERE alert = 1 AND event = "
                           "'published' AND ts_ms = 1500"),
                     1);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE alert = 1"), 1);
    lw_spool_free(sp);
    /* Journalled: the file keeps nothing more. */
    sp = lw_spool_new(1 << 20);
    assert_int_equal(lw_spool_keep(sp, spool, kinds, 2, "v1 40"), LW_OK);
    assert_int_equal(lw_spool_load(sp, &loaded), LW_OK);
    assert_int_equal(loaded, 0);
    lw_spool_free(sp);
    lw_store_close(st);
}

/* A record cut short (the daemon died in the middle of writing it) is dropped, the ones before
 * it kept; a file of another layout or a damaged one is set aside, not read. */
static void test_file_cut_or_foreign(void **state)
{
    (void)state;
    struct lw_spool *sp = lw_spool_new(1 << 20);
    assert_int_equal(lw_spool_keep(sp, spool, kinds, 2, "v1 40"), LW_OK);
    size_t loaded;
    assert_int_equal(lw_spool_load(sp, &loaded), LW_OK);
    struct row a = {1, 1000, "raised"}, j = {1, 1000, "raised"};
    assert_int_equal(lw_spool_write(sp, apply_alert, &a, sizeof(a)), LW_OK);
    assert_int_equal(lw_spool_write(sp, apply_journal, &j, sizeof(j)), LW_OK);
    lw_spool_free(sp);
    FILE *f = fopen(spool, "r+");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    fclose(f);
    assert_int_equal(truncate(spool, size - 3), 0);
    sp = lw_spool_new(1 << 20);
    assert_int_equal(lw_spool_keep(sp, spool, kinds, 2, "v1 40"), LW_OK);
    assert_int_equal(lw_spool_load(sp, &loaded), LW_OK);
    assert_int_equal(loaded, 1);
    lw_spool_free(sp);
    /* Another build's file: set aside whole. */
    sp = lw_spool_new(1 << 20);
    assert_int_equal(lw_spool_keep(sp, spool, kinds, 2, "v2 48"), LW_OK);
    assert_int_equal(lw_spool_load(sp, &loaded), LW_ERR_INVAL);
    assert_int_equal(loaded, 0);
    assert_int_equal(lw_spool_count(sp), 0);
    char aside[320];
    snprintf(aside, sizeof(aside), "%s.unread", spool);
    assert_int_equal(access(aside, F_OK), 0);
    lw_spool_free(sp);
    /* A write kind the table does not have: damaged. */
    unlink(aside);
    unlink(spool);
    sp = lw_spool_new(1 << 20);
    assert_int_equal(lw_spool_keep(sp, spool, kinds, 2, "v1 40"), LW_OK);
    assert_int_equal(lw_spool_load(sp, &loaded), LW_OK);
    assert_int_equal(lw_spool_write(sp, apply_journal, &j, sizeof(j)), LW_OK);
    lw_spool_free(sp);
    sp = lw_spool_new(1 << 20);
    assert_int_equal(lw_spool_keep(sp, spool, kinds, 1, "v1 40"), LW_OK);
    assert_int_equal(lw_spool_load(sp, &loaded), LW_ERR_INVAL);
    assert_int_equal(lw_spool_count(sp), 0);
    assert_int_equal(access(aside, F_OK), 0);
    lw_spool_free(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flush_in_order_with_times_and_acks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_survives_the_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_cut_or_foreign, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
