/* SPDX-License-Identifier: Apache-2.0 */
/* Retention: raw readings older than the configured days are deleted a bounded step at a time
 * (rollups and journals are kept). */
#include <sqlite3.h>

#include "lw_error.h"
#include "lw_store_int.h"

void lw_store_set_retention(struct lw_store *s, uint32_t days)
{
    s->retention_ms = (int64_t)days * 86400000;
}

/* One step: the next node (in address order, round robin) that has readings older than the
 * cutoff loses its oldest ones, at most about max_rows. Every statement is an index seek. */
long lw_store_retention_step(struct lw_store *s, int64_t now_ms, long max_rows)
{
    if (s->retention_ms <= 0 || max_rows <= 0)
        return 0;
    int64_t cutoff = now_ms - s->retention_ms;
    sqlite3_stmt *next = NULL, *bound = NULL, *del = NULL;
    long deleted = 0;
    int rc = LW_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT node FROM readings WHERE node > ? ORDER BY node LIMIT 1",
                           -1, &next, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "SELECT ts_ms FROM readings WHERE node = ?1 AND ts_ms < ?2 ORDER BY "
                           "ts_ms LIMIT 1 OFFSET ?3",
                           -1, &bound, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "DELETE FROM readings WHERE node = ?1 AND ts_ms < ?2", -1, &del,
                           NULL) != SQLITE_OK) {
        rc = LW_ERR_DB;
        goto out;
    }
    /* A bounded number of probes per step, so a database with nothing due costs little. */
    for (int probe = 0; probe < 64 && deleted == 0 && rc == LW_OK; probe++) {
        sqlite3_bind_int64(next, 1, s->retention_node);
        int st = sqlite3_step(next);
        int64_t node = st == SQLITE_ROW ? sqlite3_column_int64(next, 0) : -1;
        sqlite3_reset(next);
        if (st != SQLITE_ROW && st != SQLITE_DONE) {
            rc = LW_ERR_DB;
            break;
        }
        if (node < 0) {
            if (s->retention_node < 0)
                break; /* no readings at all */
            s->retention_node = -1;
            continue;
        }
        /* Delete below the max_rows-th oldest expired reading, or all expired ones. */
        int64_t upto = cutoff;
        sqlite3_bind_int64(bound, 1, node);
        sqlite3_bind_int64(bound, 2, cutoff);
        sqlite3_bind_int64(bound, 3, max_rows);
        if (sqlite3_step(bound) == SQLITE_ROW)
            upto = sqlite3_column_int64(bound, 0);
        else
            s->retention_node = node; /* this node is done for now */
        sqlite3_reset(bound);
        if (lw_store_begin(s) != LW_OK) {
            rc = LW_ERR_DB;
            break;
        }
        sqlite3_bind_int64(del, 1, node);
        sqlite3_bind_int64(del, 2, upto);
        if (lw_store_step(s, del) != LW_OK) {
            rc = LW_ERR_DB;
            break;
        }
        deleted += sqlite3_changes(s->db);
    }
    if (rc == LW_OK && lw_store_commit(s) != LW_OK)
        rc = LW_ERR_DB;
out:
    sqlite3_finalize(next);
    sqlite3_finalize(bound);
    sqlite3_finalize(del);
    return rc == LW_OK ? deleted : rc;
}
