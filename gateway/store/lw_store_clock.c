/* SPDX-License-Identifier: Apache-2.0 */
/* Times written before the wall clock was synchronised: readings keep their monotonic time and
 * alert-side rows are listed by temporary triggers, so both are corrected in one transaction
 * once the clock is right (and what an earlier boot left pending is marked unknown). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lw_error.h"
#include "lw_log.h"
#include "lw_rollup.h"
#include "lw_store_int.h"

int lw_store_set_boot(struct lw_store *s, const char *boot_id)
{
    sqlite3_stmt *q;
    char *old = NULL;
    if (lw_store_commit(s) != LW_OK)
        return LW_ERR_DB;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'boot_id'", -1, &q, NULL) !=
        SQLITE_OK)
        return LW_ERR_DB;
    if (sqlite3_step(q) == SQLITE_ROW)
        old = sqlite3_mprintf("%s", sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    int rc = LW_OK;
    if (!old || strcmp(old, boot_id) != 0) {
        char *sql = sqlite3_mprintf(
            "BEGIN;"
            "UPDATE readings SET packed = (packed & ~%lld) | (%d << %d), mono_ms = NULL WHERE "
            "time_quality = %d;"
            "DELETE FROM clock_pending;"
            "INSERT INTO meta(key, value) VALUES('boot_id', %Q) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value;"
            "COMMIT;",
            (long long)PACKED_TQ_MASK, LW_TIME_UNKNOWN, PACKED_TQ_SHIFT, LW_TIME_PENDING, boot_id);
        char e2[256];
        rc = sql ? lw_store_exec(s, sql, e2, sizeof(e2)) : LW_ERR_NOMEM;
        if (rc != LW_OK) {
            lw_store_exec(s, "ROLLBACK", e2, sizeof(e2));
            lw_log(LW_LOG_ERR, "database: recording the boot id failed");
        }
        sqlite3_free(sql);
    }
    sqlite3_free(old);
    return rc;
}

/* Readings stored with a provisional time join the rollups once their time is known. */
static void rollup_pending(struct lw_store *s, int64_t offset_ms)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT node, mono_ms, water_mm, smoke, obscuration, gas_lel_x10, "
                           "co_ppm, temp_x10, battery_mv, flags FROM readings WHERE "
                           "time_quality = 1 ORDER BY node, mono_ms",
                           -1, &q, NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(q) == SQLITE_ROW) {
        struct lw_reading r;
        lw_store_column_reading(q, 2, &r);
        lw_rollup_add(s->rollup, (uint16_t)sqlite3_column_int(q, 0),
                      sqlite3_column_int64(q, 1) + offset_ms, &r);
    }
    sqlite3_finalize(q);
}

/* The alert side's times, as listed in clock_pending by the triggers below: table, its key,
 * the time column. */
static const struct {
    const char *table, *key, *col;
} alert_times[] = {
    {"alerts", "id", "raised_ms"},    {"alerts", "id", "cleared_ms"},
    {"alerts", "id", "acked_ms"},     {"alert_journal", "id", "ts_ms"},
    {"incidents", "id", "opened_ms"}, {"incidents", "id", "closed_ms"},
    {"silences", "id", "created_ms"}, {"silences", "id", "until_ms"},
    {"silences", "id", "lifted_ms"},  {"outbox_sent", "seq", "acked_ms"},
};

/* Temporary triggers (this connection only) list every alert-side time written while the clock
 * is unsynchronised, with the clock's offset then: written here once, rather than at each of the
 * places that write a time, so none is missed. A row rewritten keeps its latest offset. */
static const char unsynced_triggers[] =
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_alert AFTER INSERT ON main.alerts BEGIN "
    "INSERT OR REPLACE INTO clock_pending VALUES('alerts.raised_ms', NEW.id, lw_clock_offset()); "
    "END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_cleared AFTER UPDATE OF cleared_ms ON "
    "main.alerts WHEN NEW.cleared_ms IS NOT NULL AND NEW.cleared_ms IS NOT OLD.cleared_ms BEGIN "
    "INSERT OR REPLACE INTO clock_pending VALUES('alerts.cleared_ms', NEW.id, lw_clock_offset()); "
    "END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_acked AFTER UPDATE OF acked_ms ON main.alerts "
    "WHEN NEW.acked_ms IS NOT NULL AND NEW.acked_ms IS NOT OLD.acked_ms BEGIN "
    "INSERT OR REPLACE INTO clock_pending VALUES('alerts.acked_ms', NEW.id, lw_clock_offset()); "
    "END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_journal AFTER INSERT ON main.alert_journal "
    "BEGIN INSERT OR REPLACE INTO clock_pending VALUES('alert_journal.ts_ms', NEW.id, "
    "lw_clock_offset()); END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_incident AFTER INSERT ON main.incidents BEGIN "
    "INSERT OR REPLACE INTO clock_pending VALUES('incidents.opened_ms', NEW.id, "
    "lw_clock_offset()); END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_incident_closed AFTER UPDATE OF closed_ms ON "
    "main.incidents WHEN NEW.closed_ms IS NOT NULL AND NEW.closed_ms IS NOT OLD.closed_ms BEGIN "
    "INSERT OR REPLACE INTO clock_pending VALUES('incidents.closed_ms', NEW.id, "
    "lw_clock_offset()); END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_silence AFTER INSERT ON main.silences BEGIN "
    "INSERT OR REPLACE INTO clock_pending VALUES('silences.created_ms', NEW.id, "
    "lw_clock_offset()); INSERT OR REPLACE INTO clock_pending VALUES('silences.until_ms', NEW.id, "
    "lw_clock_offset()); END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_silence_end AFTER UPDATE OF lifted_ms ON "
    "main.silences WHEN NEW.lifted_ms IS NOT NULL AND NEW.lifted_ms IS NOT OLD.lifted_ms BEGIN "
    "INSERT OR REPLACE INTO clock_pending VALUES('silences.lifted_ms', NEW.id, "
    "lw_clock_offset()); END;"
    "CREATE TEMP TRIGGER IF NOT EXISTS lw_unsynced_sent AFTER INSERT ON main.outbox_sent BEGIN "
    "INSERT OR REPLACE INTO clock_pending VALUES('outbox_sent.acked_ms', NEW.seq, "
    "lw_clock_offset()); END;";

static const char synced_triggers[] = "DROP TRIGGER IF EXISTS temp.lw_unsynced_alert;"
                                      "DROP TRIGGER IF EXISTS temp.lw_unsynced_cleared;"
                                      "DROP TRIGGER IF EXISTS temp.lw_unsynced_acked;"
                                      "DROP TRIGGER IF EXISTS temp.lw_unsynced_journal;"
                                      "DROP TRIGGER IF EXISTS temp.lw_unsynced_incident;"
                                      "DROP TRIGGER IF EXISTS temp.lw_unsynced_incident_closed;"
                                      "DROP TRIGGER IF EXISTS temp.lw_unsynced_silence;"
                                      "DROP TRIGGER IF EXISTS temp.lw_unsynced_silence_end;"
                                      "DROP TRIGGER IF EXISTS temp.lw_unsynced_sent;";

/* lw_clock_offset(): wall - monotonic clock now, in ms. */
void lw_store_sql_clock_offset(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    struct timespec w;
    clock_gettime(CLOCK_REALTIME, &w);
    sqlite3_result_int64(ctx, (int64_t)w.tv_sec * 1000 + w.tv_nsec / 1000000 - lw_store_mono_ms());
}

int lw_store_set_unsynced(struct lw_store *s, bool unsynced)
{
    char e2[256] = "";
    lw_store_commit(s); /* rows of the open batch were written under the state before */
    int rc = lw_store_exec(s, unsynced ? unsynced_triggers : synced_triggers, e2, sizeof(e2));
    if (rc != LW_OK)
        lw_log(LW_LOG_ERR, "database: %s: %s",
               unsynced ? "marking times written before the clock is right"
                        : "ending the marks of unsynchronised times",
               e2);
    return rc;
}

/* Open alerts raised while unsynchronised: their raise message, which says when, is retimed. */
static int retime_open(struct lw_store *s, int64_t offset_ms, lw_store_retime_fn retime, void *arg)
{
    sqlite3_stmt *q, *u;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT a.id, ?1 - p.off_ms, a.message, a.raised_ms + ?1 - p.off_ms "
                           "FROM clock_pending p JOIN "
                           "alerts a ON a.id = p.rid WHERE p.what = 'alerts.raised_ms' AND "
                           "a.state = 'raised' ORDER BY a.id",
                           -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    if (sqlite3_prepare_v2(s->db, "UPDATE alerts SET message = ?2 WHERE id = ?1", -1, &u, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(q);
        return LW_ERR_DB;
    }
    sqlite3_bind_int64(q, 1, offset_ms);
    int rc = LW_OK;
    while (rc == LW_OK && sqlite3_step(q) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        char *m = retime(arg, id, sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 3),
                         (const char *)sqlite3_column_text(q, 2));
        if (m) {
            sqlite3_bind_int64(u, 1, id);
            sqlite3_bind_text(u, 2, m, -1, SQLITE_TRANSIENT);
            rc = lw_store_step(s, u);
            free(m);
        }
    }
    sqlite3_finalize(q);
    sqlite3_finalize(u);
    return rc;
}

/* The alert side's times listed in clock_pending, put right by offset_ms - their offset. */
static long fix_alert_times(struct lw_store *s, int64_t offset_ms, lw_store_retime_fn retime,
                            void *arg, char *err, size_t errcap)
{
    long n = 0;
    if (retime && retime_open(s, offset_ms, retime, arg) != LW_OK) {
        snprintf(err, errcap, "retiming open alerts: %s", sqlite3_errmsg(s->db));
        return LW_ERR_DB;
    }
    for (size_t i = 0; i < sizeof(alert_times) / sizeof(alert_times[0]); i++) {
        char *sql = sqlite3_mprintf(
            "UPDATE %s SET %s = %s + %lld - (SELECT p.off_ms FROM clock_pending p WHERE p.what = "
            "'%s.%s' AND p.rid = %s.%s) WHERE %s IN (SELECT rid FROM clock_pending WHERE what = "
            "'%s.%s') AND %s IS NOT NULL",
            alert_times[i].table, alert_times[i].col, alert_times[i].col, (long long)offset_ms,
            alert_times[i].table, alert_times[i].col, alert_times[i].table, alert_times[i].key,
            alert_times[i].key, alert_times[i].table, alert_times[i].col, alert_times[i].col);
        int rc = sql ? lw_store_exec(s, sql, err, errcap) : LW_ERR_NOMEM;
        sqlite3_free(sql);
        if (rc != LW_OK)
            return rc;
        n += sqlite3_changes(s->db);
    }
    return lw_store_exec(s, "DELETE FROM clock_pending", err, errcap) == LW_OK ? n : LW_ERR_DB;
}

long lw_store_fix_times(struct lw_store *s, int64_t offset_ms, lw_store_retime_fn retime, void *arg)
{
    char *sql = sqlite3_mprintf("UPDATE readings SET ts_ms = mono_ms + %lld, mono_ms = NULL, "
                                "packed = (packed & ~%lld) | (%d << %d) WHERE time_quality = %d",
                                (long long)offset_ms, (long long)PACKED_TQ_MASK, LW_TIME_CORRECTED,
                                PACKED_TQ_SHIFT, LW_TIME_PENDING);
    char e2[256] = "";
    if (!sql)
        return LW_ERR_NOMEM;
    /* Pending rows of the open batch are included: the update runs inside it, then commits.
     * All or nothing (a savepoint): a time corrected twice would be wrong again. */
    int rc = lw_store_begin(s);
    if (rc == LW_OK)
        rc = lw_store_exec(s, "SAVEPOINT fix_times", e2, sizeof(e2));
    if (rc == LW_OK)
        rollup_pending(s, offset_ms);
    rc = rc == LW_OK ? lw_store_exec(s, sql, e2, sizeof(e2)) : LW_ERR_DB;
    sqlite3_free(sql);
    long n = rc == LW_OK ? (long)sqlite3_changes(s->db) : LW_ERR_DB;
    /* The alerts raised on those readings, and all else written meanwhile, in the same go. */
    long other = rc == LW_OK ? fix_alert_times(s, offset_ms, retime, arg, e2, sizeof(e2)) : 0;
    if (other < 0)
        n = LW_ERR_DB;
    if (n < 0) {
        char e3[64];
        lw_log(LW_LOG_ERR,
               "database: correcting times written before the clock was right "
               "failed: %s",
               e2);
        if (s->in_txn && !sqlite3_get_autocommit(s->db)) {
            lw_store_exec(s, "ROLLBACK TO fix_times", e3, sizeof(e3));
            lw_store_exec(s, "RELEASE fix_times", e3, sizeof(e3));
        }
        lw_rollup_discard(s->rollup); /* recovered from the committed readings later */
    } else {
        lw_store_exec(s, "RELEASE fix_times", e2, sizeof(e2));
    }
    if (lw_store_commit(s) != LW_OK && n >= 0)
        n = LW_ERR_DB;
    else if (other > 0)
        lw_log(LW_LOG_NOTICE,
               "database: %ld alert, journal, incident and silence times written "
               "before the clock was right corrected",
               other);
    return n;
}
