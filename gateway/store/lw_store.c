/* SPDX-License-Identifier: Apache-2.0 */
/* SQLite storage: opening the database, the prepared statements and the one open batch
 * transaction at a time that every other part of the store writes in. */
#include "lw_store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lw_error.h"
#include "lw_log.h"
#include "lw_rollup.h"
#include "lw_store_int.h"

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_READING] = "INSERT OR IGNORE INTO readings(node, ts_ms, fcnt, rssi_x10, snr_x10, "
                   "water_mm, battery_mv, packed, sensors, mono_ms) VALUES(?,?,?,?,?,?,?,?,?,?)",
    [ST_ALERT_INSERT] = "INSERT INTO alerts(id, rule, hazard, level, node, state, raised_ms, "
                        "value, threshold, message, tier) VALUES(?,?,?,?,?,'raised',?,?,?,?,0)",
    [ST_ALERT_STATE] = "UPDATE alerts SET state = ?, "
                       "cleared_ms = CASE WHEN ? = 'cleared' THEN ? ELSE cleared_ms END "
                       "WHERE id = ?",
    [ST_JOURNAL] = "INSERT INTO alert_journal(alert, ts_ms, event, detail) VALUES(?,?,?,?)",
    [ST_OUTBOX_ADD] = "INSERT INTO outbox(alert, topic, payload, retain) VALUES(?,?,?,?)",
    [ST_SENT_ADD] = "INSERT OR REPLACE INTO outbox_sent(seq, alert, topic, payload, retain, "
                    "acked_ms) SELECT seq, alert, topic, payload, retain, ?2 FROM outbox "
                    "WHERE seq = ?1",
    /* A duty message replaces the reminders before it to the same (alert, topic): replayed
     * after a broker's loss is what each recipient was told (notified, escalated, acknowledged,
     * cleared) and its latest reminder, never a stale series of reminders. */
    [ST_SENT_SUPERSEDED] = "DELETE FROM outbox_sent WHERE retain = 0 AND seq < ?1 AND "
                           "json_extract(payload, '$.duty.kind') = 'reminder' AND "
                           "(alert, topic) = (SELECT alert, topic FROM outbox_sent WHERE seq = ?1 "
                           "AND retain = 0)",
    [ST_OUTBOX_DONE] = "DELETE FROM outbox WHERE seq = ? RETURNING alert",
};

static int on_wal(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    ((struct lw_store *)arg)->wal_pages = pages;
    return SQLITE_OK;
}

int lw_store_exec(struct lw_store *s, const char *sql, char *err, size_t errcap)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errcap, "%s", msg ? msg : sqlite3_errmsg(s->db));
        lw_store_note_failure(s, sqlite3_extended_errcode(s->db));
        if (s->in_txn && sqlite3_get_autocommit(s->db)) {
            /* SQLite rolled the transaction back by itself: the batch went with it. */
            lw_rollup_discard(s->rollup);
            s->stats.commit_failures++;
            s->stats.readings_lost += s->pending;
            s->in_txn = false;
            s->pending = 0;
        }
        sqlite3_free(msg);
        return LW_ERR_DB;
    }
    return LW_OK;
}

int lw_store_pragma_int(struct lw_store *s, const char *sql, int *out)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    int rc = sqlite3_step(q);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? LW_OK : LW_ERR_DB;
}

struct lw_store *lw_store_open(const char *path, uint32_t batch_rows, char *err, size_t errcap)
{
    struct lw_store *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    s->batch_rows = batch_rows ? batch_rows : 1;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errcap, "%s: cannot open: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_create_function(s->db, "lw_clock_offset", 0, SQLITE_UTF8, NULL,
                            lw_store_sql_clock_offset, NULL, NULL);
    /* Readers (history, reports) must never block the daemon for long. */
    sqlite3_busy_timeout(s->db, 2000);
    if (lw_store_migrate(s, path, err, errcap) != LW_OK ||
        lw_store_check_pages(s, path, err, errcap) != LW_OK)
        goto fail;
    /* WAL: readers work beside the writer; NORMAL sync: a power cut loses at most the last
     * transactions, never the file (SQLite's documented WAL guarantee). */
    char e2[256], pragmas[160];
    lw_store_size_limits(s, path);
    /* journal_size_limit: a WAL that grew while a reader pinned it shrinks back when reset. */
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
             "PRAGMA journal_size_limit=%lld;",
             (long long)s->wal_pinned_bytes / 4);
    if (lw_store_exec(s, pragmas, e2, sizeof(e2)) != LW_OK) {
        snprintf(err, errcap, "%s: %s", path, e2);
        goto fail;
    }
    struct stat bst;
    if (snprintf(s->ballast, sizeof(s->ballast), "%s-ballast", path) >= (int)sizeof(s->ballast))
        s->ballast_size = 0;
    else if (stat(s->ballast, &bst) == 0 && (uint64_t)bst.st_size == s->ballast_size)
        s->ballast_present = true; /* kept from the last run */
    else if (access(s->ballast, F_OK) == 0)
        unlink(s->ballast); /* made again below, at its size for this file system */
    if (!s->ballast_present && lw_store_ballast_make(s) != LW_OK)
        lw_log(LW_LOG_WARNING, "database: no room for a ballast of %llu KiB beside %s",
               (unsigned long long)(s->ballast_size / 1024), path);
    sqlite3_wal_hook(s->db, on_wal, s); /* replaces the automatic checkpoint */
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, errcap, "%s: prepare: %s", path, sqlite3_errmsg(s->db));
            goto fail;
        }
    s->retention_node = -1;
    s->rollup = lw_rollup_new(s->db, lw_store_tz_offset_ms());
    if (!s->rollup) {
        snprintf(err, errcap, "%s: rollups: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    /* A crash leaves the rollups short of the readings of each node's open hour: recover now,
     * so they match before anything else is written. */
    /* On a full disk the recovery waits for space (the next transaction tries again): a gateway
     * must start and page whatever its disk does. */
    enum lw_store_trouble trouble = LW_STORE_OK;
    if (lw_store_begin(s) != LW_OK || lw_store_commit(s) != LW_OK) {
        if (s->trouble == LW_STORE_OK) {
            snprintf(err, errcap, "%s: recovering the rollups: %s", path, sqlite3_errmsg(s->db));
            goto fail;
        }
        trouble = s->trouble;
        lw_log(LW_LOG_ERR, "%s: recovering the rollups waits for the disk: %s", path,
               lw_store_trouble_name(trouble));
    }
    /* No room for the ballast: the disk is as good as full (readings shed, alerts first) until
     * lw_store_tick can make it. */
    if (trouble == LW_STORE_OK && !s->ballast_present && s->ballast_size) {
        lw_log(LW_LOG_ERR, "database: space is low at start (no room for the ballast): readings "
                           "are shed until there is");
        trouble = LW_STORE_FULL;
    }
    memset(&s->stats, 0, sizeof(s->stats)); /* the statistics count batches of readings */
    s->trouble = trouble;
    return s;
fail:
    if (s->rollup)
        lw_rollup_free(s->rollup);
    else
        for (int i = 0; i < ST_COUNT; i++)
            sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s);
    return NULL;
}

void lw_store_close(struct lw_store *s)
{
    if (!s)
        return;
    /* The open hours held in memory go to disk, so the next start has nothing to recover. */
    if (lw_store_begin(s) == LW_OK)
        lw_store_commit_txn(s, true);
    lw_rollup_free(s->rollup);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s);
}

/* Run a prepared statement to completion and reset it. */
int lw_store_step(struct lw_store *s, sqlite3_stmt *q)
{
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        lw_log_rl(LW_LOG_ERR, "database: %s", sqlite3_errmsg(s->db));
        lw_store_note_failure(s, rc);
        if (s->in_txn && sqlite3_get_autocommit(s->db)) {
            /* SQLite rolled the transaction back by itself (SQLITE_FULL, IOERR ...). */
            lw_rollup_discard(s->rollup);
            s->stats.commit_failures++;
            s->stats.readings_lost += s->pending;
            s->in_txn = false;
            s->pending = 0;
        }
        return LW_ERR_DB;
    }
    return LW_OK;
}

/* A transaction that moved acknowledged rows out of the outbox and ended without a commit
 * (rolled back by SQLite, by a failed COMMIT or by a spool flush) put those rows back. */
void lw_store_settle_acks(struct lw_store *s)
{
    if (s->txn_acks && !s->in_txn) {
        s->txn_acks = false;
        s->acks_lost = true;
    }
}

int lw_store_begin(struct lw_store *s)
{
    if (s->in_txn)
        return LW_OK;
    lw_store_settle_acks(s);
    if (lw_store_step(s, s->st[ST_BEGIN]) != LW_OK)
        return LW_ERR_DB;
    s->in_txn = true;
    /* After start-up or a rolled back batch: roll up the committed readings the rollups miss.
     * A failure leaves that for the next transaction. */
    if (lw_rollup_begin(s->rollup) != LW_OK)
        lw_log_rl(LW_LOG_ERR, "database: recovering the rollups failed; retried");
    return LW_OK;
}

int64_t lw_store_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* all: write every node's open hour too (at close). */
int lw_store_commit_txn(struct lw_store *s, bool all)
{
    if (!s->in_txn)
        return LW_OK;
    /* What the batch owes the rollups goes in its own transaction: both or neither. */
    int rc = lw_rollup_flush(s->rollup, lw_store_mono_ms(), all);
    /* In WAL mode synchronous=NORMAL leaves a commit to be made durable by the next checkpoint:
     * fine for readings (a power cut loses at most the last batches), not for an alert, which
     * must be on disk before it is published. FULL fsyncs the log at this commit. */
    if (s->urgent)
        sqlite3_exec(s->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    if (rc == LW_OK)
        rc = lw_store_step(s, s->st[ST_COMMIT]);
    if (s->urgent)
        sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    if (rc != LW_OK && !s->in_txn)
        return rc; /* SQLite already rolled back; lw_store_step() counted the loss */
    if (rc != LW_OK) {
        /* COMMIT can fail (disk full, I/O error); the transaction must not stay open. */
        lw_store_note_failure(s, sqlite3_extended_errcode(s->db));
        if (!sqlite3_get_autocommit(s->db))
            lw_store_step(s, s->st[ST_ROLLBACK]);
        lw_rollup_discard(s->rollup);
        s->stats.commit_failures++;
        s->stats.readings_lost += s->pending;
        lw_log_rl(LW_LOG_ERR, "database: commit failed, %zu readings lost", s->pending);
    } else {
        s->stats.commits++;
        s->stats.readings_committed += s->pending;
        s->txn_acks = false;
    }
    s->in_txn = false;
    s->pending = 0;
    if (!s->urgent && s->wal_pages >= s->ckpt_pages)
        lw_store_checkpoint(s);
    s->urgent = false;
    return rc;
}

int lw_store_commit(struct lw_store *s)
{
    return lw_store_commit_txn(s, false);
}

int lw_store_savepoint(struct lw_store *s)
{
    char e2[256] = "";
    s->last_err = SQLITE_OK; /* lw_store_last_error then speaks of what follows */
    if (lw_store_begin(s) != LW_OK)
        return LW_ERR_DB;
    return lw_store_exec(s, "SAVEPOINT transition", e2, sizeof(e2));
}

void lw_store_savepoint_end(struct lw_store *s, bool ok)
{
    char e2[256] = "";
    if (!ok)
        lw_store_exec(s, "ROLLBACK TO transition", e2, sizeof(e2));
    lw_store_exec(s, "RELEASE transition", e2, sizeof(e2));
    /* SQLite may have rolled the whole transaction back by itself (disk full, I/O error). */
    if (s->in_txn && sqlite3_get_autocommit(s->db)) {
        lw_rollup_discard(s->rollup);
        s->stats.readings_lost += s->pending;
        s->in_txn = false;
        s->pending = 0;
    }
}

void lw_store_stats(const struct lw_store *s, struct lw_store_stats *out)
{
    *out = s->stats;
}

/* ---- for modules that keep their own tables in this database (lw_store_int.h) ---------- */

sqlite3 *lw_store_handle(struct lw_store *s)
{
    return s->db;
}

int lw_store_last_error(const struct lw_store *s)
{
    return s->last_err & 0xFF;
}

void lw_store_rollback(struct lw_store *s)
{
    if (!s->in_txn)
        return;
    if (!sqlite3_get_autocommit(s->db))
        lw_store_step(s, s->st[ST_ROLLBACK]);
    lw_rollup_discard(s->rollup);
    s->stats.readings_lost += s->pending;
    s->in_txn = false;
    s->pending = 0;
    s->urgent = false;
}

/* ---- history (schema v5) ------------------------------------------------------------------ */

void lw_store_set_levels(struct lw_store *s, const struct lw_level_source *src)
{
    if (s->rollup)
        lw_rollup_set_levels(s->rollup, src);
    else if (src && src->free)
        src->free(src->arg);
}

int64_t lw_store_tz_offset_ms(void)
{
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm))
        return 0;
    return (int64_t)tm.tm_gmtoff * 1000;
}
