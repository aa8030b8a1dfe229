/* SPDX-License-Identifier: Apache-2.0 */
/* The MQTT outbox: the messages that must reach the broker at least once, kept until it has
 * acknowledged them, with the mark of how far it has. */
#include <sqlite3.h>
#include <stdio.h>
#include <time.h>

#include "lw_error.h"
#include "lw_log.h"
#include "lw_store_int.h"

int lw_store_outbox_add(struct lw_store *s, int64_t alert, const char *topic, const char *payload,
                        bool retain, int64_t *seq)
{
    if (lw_store_begin(s) != LW_OK)
        return LW_ERR_DB;
    sqlite3_stmt *q = s->st[ST_OUTBOX_ADD];
    if (alert > 0)
        sqlite3_bind_int64(q, 1, alert);
    else
        sqlite3_bind_null(q, 1);
    sqlite3_bind_text(q, 2, topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, payload, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 4, retain);
    if (lw_store_step(s, q) != LW_OK)
        return LW_ERR_DB;
    *seq = sqlite3_last_insert_rowid(s->db);
    return LW_OK;
}

static int outbox_done(struct lw_store *s, int64_t seq, int64_t *alert);

int lw_store_outbox_done(struct lw_store *s, int64_t seq, int64_t *alert)
{
    /* Joins the reading batch: losing this delete in a crash only means one more redelivery.
     * Losing it while running (a failed write, a rolled-back batch) leaves a row in the outbox
     * that the MQTT client has already forgotten: lw_store_outbox_acks_lost tells the owner. */
    int rc = outbox_done(s, seq, alert);
    if (rc != LW_OK)
        s->acks_lost = true;
    return rc;
}

bool lw_store_outbox_acks_lost(struct lw_store *s)
{
    lw_store_settle_acks(s);
    bool lost = s->acks_lost;
    s->acks_lost = false;
    return lost;
}

static int outbox_done(struct lw_store *s, int64_t seq, int64_t *alert)
{
    if (lw_store_begin(s) != LW_OK)
        return LW_ERR_DB;
    s->txn_acks = true;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    sqlite3_stmt *k = s->st[ST_SENT_ADD];
    sqlite3_bind_int64(k, 1, seq);
    sqlite3_bind_int64(k, 2, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    if (lw_store_step(s, k) != LW_OK)
        return LW_ERR_DB;
    k = s->st[ST_SENT_SUPERSEDED];
    sqlite3_bind_int64(k, 1, seq);
    if (lw_store_step(s, k) != LW_OK)
        return LW_ERR_DB;
    sqlite3_stmt *q = s->st[ST_OUTBOX_DONE];
    sqlite3_bind_int64(q, 1, seq);
    int rc = sqlite3_step(q);
    *alert = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (rc != SQLITE_DONE) {
        lw_log_rl(LW_LOG_ERR, "database: %s", sqlite3_errmsg(s->db));
        return LW_ERR_DB;
    }
    return LW_OK;
}

int lw_store_each_outbox(struct lw_store *s, int64_t after,
                         void (*fn)(void *arg, int64_t seq, const char *topic, const char *payload,
                                    bool retain),
                         void *arg)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(
            s->db, "SELECT seq, topic, payload, retain FROM outbox WHERE seq > ? ORDER BY seq", -1,
            &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, after);
    while (sqlite3_step(q) == SQLITE_ROW)
        fn(arg, sqlite3_column_int64(q, 0), (const char *)sqlite3_column_text(q, 1),
           (const char *)sqlite3_column_text(q, 2), sqlite3_column_int(q, 3) != 0);
    sqlite3_finalize(q);
    return LW_OK;
}

static int query_int64(struct lw_store *s, const char *sql, int64_t arg, int64_t *out)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, arg);
    int rc = sqlite3_step(q) == SQLITE_ROW ? LW_OK : LW_ERR_DB;
    *out = rc == LW_OK ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    return rc;
}

int lw_store_outbox_mark(struct lw_store *s, int64_t *acked, int64_t *last)
{
    int rc = query_int64(s,
                         "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), "
                         "0)",
                         0, last);
    if (rc == LW_OK)
        rc = query_int64(s, "SELECT coalesce((SELECT min(seq) - 1 FROM outbox), ?)", *last, acked);
    return rc;
}

int lw_store_outbox_requeue(struct lw_store *s, int64_t after, int64_t *moved)
{
    *moved = 0;
    int64_t lost;
    if (query_int64(s, "SELECT count(*) FROM outbox_sent WHERE seq > ?", after, &lost) != LW_OK)
        return LW_ERR_DB;
    if (lost == 0)
        return LW_OK;
    /* What the broker lost, and the open alerts' state whatever it still has: a snapshot can
     * be older than its mark says, and a page that is re-sent costs a duplicate, one that is
     * not costs a person who never hears of the alert. */
    sqlite3_stmt *q;
    if (lw_store_begin(s) != LW_OK ||
        sqlite3_prepare_v2(
            s->db,
            "INSERT INTO outbox(seq, alert, topic, payload, retain) "
            "SELECT seq, alert, topic, payload, retain FROM outbox_sent o WHERE seq > ?1 OR "
            "alert IN (SELECT id FROM alerts WHERE state NOT IN ('cleared', 'closed') AND "
            "(o.retain = 1 OR acked_ms IS NULL)) AND "
            "(retain = 0 OR seq = (SELECT max(seq) FROM outbox_sent k WHERE k.topic = o.topic))",
            -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, after);
    int rc = sqlite3_step(q) == SQLITE_DONE ? LW_OK : LW_ERR_DB;
    sqlite3_finalize(q);
    char err[160];
    if (rc == LW_OK) {
        *moved = sqlite3_changes64(s->db);
        rc = lw_store_exec(s, "DELETE FROM outbox_sent WHERE seq IN (SELECT seq FROM outbox)", err,
                           sizeof(err));
    }
    if (rc != LW_OK)
        lw_log_rl(LW_LOG_ERR, "database: %s", sqlite3_errmsg(s->db));
    return rc;
}

int lw_store_outbox_prune(struct lw_store *s, int64_t before_ms)
{
    sqlite3_stmt *q;
    if (lw_store_begin(s) != LW_OK ||
        sqlite3_prepare_v2(
            s->db,
            "DELETE FROM outbox_sent AS o WHERE acked_ms < ?1 AND NOT (alert IN (SELECT id FROM "
            "alerts WHERE state NOT IN ('cleared', 'closed')) AND (retain = 0 OR seq = (SELECT "
            "max(seq) FROM outbox_sent k WHERE k.topic = o.topic)))",
            -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, before_ms);
    int rc = sqlite3_step(q) == SQLITE_DONE ? LW_OK : LW_ERR_DB;
    sqlite3_finalize(q);
    return rc;
}

int64_t lw_store_outbox_count(struct lw_store *s)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM outbox", -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    int64_t n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : LW_ERR_DB;
    sqlite3_finalize(q);
    return n;
}
