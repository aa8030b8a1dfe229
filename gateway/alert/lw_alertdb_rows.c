/* SPDX-License-Identifier: Apache-2.0 */
/* The alert rows themselves: an alert's record, its state, its test mark, the plain journal row,
 * and the id blocks reserved ahead. On the store's connection (lw_store_int.h); each call joins
 * the open transaction. */
#include "lw_alertdb.h"

#include <sqlite3.h>
#include <stdio.h>

#include "lw_error.h"
#include "lw_log.h"
#include "lw_store_int.h"

int lw_alertdb_insert(struct lw_store *s, int64_t id, const char *rule, const char *hazard,
                      const char *level, uint16_t node, int64_t t_ms, double value,
                      double threshold, const char *message)
{
    if (lw_store_begin(s) != LW_OK)
        return LW_ERR_DB;
    s->urgent = true;
    sqlite3_stmt *q = s->st[ST_ALERT_INSERT];
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, rule, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, hazard, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, level, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 5, node);
    sqlite3_bind_int64(q, 6, t_ms);
    sqlite3_bind_double(q, 7, value);
    sqlite3_bind_double(q, 8, threshold);
    if (message)
        sqlite3_bind_text(q, 9, message, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 9);
    return lw_store_step(s, q);
}

/* The highest id of table used or reserved (meta key) so far; a reservation is a meta row. */
static int64_t id_floor(struct lw_store *s, const char *table, const char *key)
{
    char sql[200];
    snprintf(sql, sizeof(sql),
             "SELECT max(coalesce((SELECT max(id) FROM %s), 0), coalesce((SELECT "
             "CAST(value AS INTEGER) FROM meta WHERE key = '%s'), 0))",
             table, key);
    sqlite3_stmt *q;
    int64_t floor = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    if (sqlite3_step(q) == SQLITE_ROW)
        floor = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return floor;
}

static int reserve_ids(struct lw_store *s, const char *key, int64_t upto)
{
    char sql[160], e2[256] = "";
    snprintf(sql, sizeof(sql),
             "INSERT INTO meta(key, value) VALUES('%s', '%lld') ON CONFLICT(key) DO UPDATE SET "
             "value = excluded.value",
             key, (long long)upto);
    if (lw_store_begin(s) != LW_OK)
        return LW_ERR_DB;
    return lw_store_exec(s, sql, e2, sizeof(e2));
}

int64_t lw_alertdb_id_floor(struct lw_store *s)
{
    return id_floor(s, "alerts", "alert_id_reserved");
}

int lw_alertdb_reserve_ids(struct lw_store *s, int64_t upto)
{
    return reserve_ids(s, "alert_id_reserved", upto);
}

int64_t lw_alertdb_incident_id_floor(struct lw_store *s)
{
    return id_floor(s, "incidents", "incident_id_reserved");
}

int lw_alertdb_reserve_incident_ids(struct lw_store *s, int64_t upto)
{
    return reserve_ids(s, "incident_id_reserved", upto);
}

int lw_alertdb_set_state(struct lw_store *s, int64_t id, const char *state, int64_t t_ms)
{
    if (lw_store_begin(s) != LW_OK)
        return LW_ERR_DB;
    s->urgent = true;
    sqlite3_stmt *q = s->st[ST_ALERT_STATE];
    sqlite3_bind_text(q, 1, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, t_ms);
    sqlite3_bind_int64(q, 4, id);
    return lw_store_step(s, q);
}

int lw_alertdb_journal_row(struct lw_store *s, int64_t alert, int64_t t_ms, const char *event,
                           const char *detail)
{
    if (lw_store_begin(s) != LW_OK)
        return LW_ERR_DB;
    sqlite3_stmt *q = s->st[ST_JOURNAL];
    sqlite3_bind_int64(q, 1, alert);
    sqlite3_bind_int64(q, 2, t_ms);
    sqlite3_bind_text(q, 3, event, -1, SQLITE_STATIC);
    if (detail)
        sqlite3_bind_text(q, 4, detail, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 4);
    return lw_store_step(s, q);
}

int lw_alertdb_set_test(struct lw_store *s, int64_t id)
{
    sqlite3_stmt *q;
    if (lw_store_begin(s) != LW_OK ||
        sqlite3_prepare_v2(s->db, "UPDATE alerts SET test = 1 WHERE id = ?", -1, &q, NULL) !=
            SQLITE_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, id);
    int rc = lw_store_step(s, q);
    sqlite3_finalize(q);
    return rc;
}
