/* SPDX-License-Identifier: Apache-2.0 */
/* The roster journal (schema v11): the duty roster as each load of the configuration found it,
 * one row per person and period, so a review months later names people as they were. */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_log.h"
#include "lw_roster.h"
#include "lw_store.h"
#include "lw_store_int.h"

/* An open row: what the journal says is in force for one person now. */
struct open_row {
    int64_t id;
    char person[48];
    struct lw_duty_person p;
    bool seen; /* the person is still on the roster */
};

static void col_text(sqlite3_stmt *q, int c, char *out, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(q, c);
    snprintf(out, cap, "%s", t ? t : "");
}

/* Empty text goes in as NULL: "not given". */
static void bind_text(sqlite3_stmt *q, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, i);
}

static bool same(const struct lw_duty_person *a, const struct lw_duty_person *b)
{
    return strcmp(a->name, b->name) == 0 && a->tier == b->tier && strcmp(a->grids, b->grids) == 0 &&
           strcmp(a->mqtt_user, b->mqtt_user) == 0 && strcmp(a->phone, b->phone) == 0;
}

static int load_open(struct lw_store *s, struct open_row **rows, size_t *n)
{
    sqlite3_stmt *q;
    *rows = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, person, name, tier, grids, mqtt_user, phone FROM "
                           "roster_journal WHERE to_ms IS NULL ORDER BY id",
                           -1, &q, NULL) != SQLITE_OK) {
        lw_log_rl(LW_LOG_ERR, "database: %s", sqlite3_errmsg(s->db));
        return LW_ERR_DB;
    }
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            struct open_row *r = realloc(*rows, cap * sizeof(*r));
            if (!r) {
                sqlite3_finalize(q);
                return LW_ERR_NOMEM;
            }
            *rows = r;
        }
        struct open_row *o = &(*rows)[(*n)++];
        memset(o, 0, sizeof(*o));
        o->id = sqlite3_column_int64(q, 0);
        col_text(q, 1, o->person, sizeof(o->person));
        col_text(q, 2, o->p.name, sizeof(o->p.name));
        o->p.tier = (unsigned)sqlite3_column_int(q, 3);
        col_text(q, 4, o->p.grids, sizeof(o->p.grids));
        col_text(q, 5, o->p.mqtt_user, sizeof(o->p.mqtt_user));
        col_text(q, 6, o->p.phone, sizeof(o->p.phone));
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        lw_log_rl(LW_LOG_ERR, "database: %s", sqlite3_errmsg(s->db));
        lw_store_note_failure(s, rc);
        return LW_ERR_DB;
    }
    return LW_OK;
}

/* The journal's changes, inside the caller's savepoint. */
static int journal(struct lw_store *s, const struct lw_roster *r, struct open_row *open,
                   size_t n_open, int64_t now_ms, size_t *changed)
{
    sqlite3_stmt *close_q = NULL, *add_q = NULL;
    int rc = LW_ERR_DB;
    if (sqlite3_prepare_v2(
            s->db,
            "UPDATE roster_journal SET to_ms = max(?2, from_ms) WHERE id = ?1 AND to_ms IS NULL",
            -1, &close_q, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "INSERT INTO roster_journal(person, name, tier, grids, mqtt_user, "
                           "phone, from_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           -1, &add_q, NULL) != SQLITE_OK) {
        lw_log_rl(LW_LOG_ERR, "database: %s", sqlite3_errmsg(s->db));
        goto out;
    }
    for (size_t i = 0; r && i < r->n; i++) {
        const struct lw_duty_person *p = &r->p[i];
        struct open_row *o = NULL;
        for (size_t k = 0; k < n_open && !o; k++)
            if (!open[k].seen && strcmp(open[k].person, p->id) == 0)
                o = &open[k];
        if (o) {
            o->seen = true;
            if (same(&o->p, p))
                continue;
            sqlite3_bind_int64(close_q, 1, o->id);
            sqlite3_bind_int64(close_q, 2, now_ms);
            if (lw_store_step(s, close_q) != LW_OK)
                goto out;
            ++*changed;
        }
        sqlite3_bind_text(add_q, 1, p->id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(add_q, 2, p->name[0] ? p->name : p->id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(add_q, 3, (int)p->tier);
        bind_text(add_q, 4, p->grids);
        bind_text(add_q, 5, p->mqtt_user);
        bind_text(add_q, 6, p->phone);
        sqlite3_bind_int64(add_q, 7, now_ms);
        if (lw_store_step(s, add_q) != LW_OK)
            goto out;
        ++*changed;
    }
    /* Off the roster: their period ends now. */
    for (size_t k = 0; k < n_open; k++) {
        if (open[k].seen)
            continue;
        sqlite3_bind_int64(close_q, 1, open[k].id);
        sqlite3_bind_int64(close_q, 2, now_ms);
        if (lw_store_step(s, close_q) != LW_OK)
            goto out;
        ++*changed;
    }
    rc = LW_OK;
out:
    sqlite3_finalize(close_q);
    sqlite3_finalize(add_q);
    return rc;
}

int lw_store_roster_journal(struct lw_store *s, const struct lw_roster *r, int64_t now_ms,
                            size_t *changed)
{
    size_t n = 0, dummy;
    if (!changed)
        changed = &dummy;
    *changed = 0;
    if (lw_store_savepoint(s) != LW_OK)
        return LW_ERR_DB;
    struct open_row *open = NULL;
    int rc = load_open(s, &open, &n);
    if (rc == LW_OK)
        rc = journal(s, r, open, n, now_ms, changed);
    free(open);
    lw_store_savepoint_end(s, rc == LW_OK);
    /* Committed at once (with any readings of the open batch): an open transaction would keep a
     * read snapshot and pin the WAL. */
    int crc = lw_store_commit(s);
    if (rc == LW_OK)
        rc = crc;
    if (rc != LW_OK)
        *changed = 0;
    return rc;
}

int lw_store_roster_at(struct sqlite3 *db, const char *person, int64_t t_ms,
                       struct lw_duty_person *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->id, sizeof(out->id), "%s", person ? person : "");
    snprintf(out->name, sizeof(out->name), "%s", out->id);
    if (!db || !person || !*person)
        return LW_ERR_NOTFOUND;
    sqlite3_stmt *q;
    /* The row in force at t, else the one nearest to t (the latest on a tie). A database
     * without the table (older than version 11) knows nobody. */
    if (sqlite3_prepare_v2(db,
                           "SELECT name, tier, grids, mqtt_user, phone FROM roster_journal WHERE "
                           "person = ?1 ORDER BY CASE WHEN from_ms <= ?2 AND (to_ms IS NULL OR ?2 "
                           "< to_ms) THEN 0 WHEN ?2 < from_ms THEN from_ms - ?2 ELSE ?2 - to_ms "
                           "END, from_ms DESC, id DESC LIMIT 1",
                           -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_NOTFOUND;
    sqlite3_bind_text(q, 1, person, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, t_ms);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        col_text(q, 0, out->name, sizeof(out->name));
        if (!out->name[0])
            snprintf(out->name, sizeof(out->name), "%s", out->id);
        out->tier = (unsigned)sqlite3_column_int(q, 1);
        col_text(q, 2, out->grids, sizeof(out->grids));
        col_text(q, 3, out->mqtt_user, sizeof(out->mqtt_user));
        col_text(q, 4, out->phone, sizeof(out->phone));
    }
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? LW_OK : rc == SQLITE_DONE ? LW_ERR_NOTFOUND : LW_ERR_DB;
}

const char *lw_store_roster_name(struct sqlite3 *db, const char *person, int64_t t_ms, char *out,
                                 size_t cap)
{
    struct lw_duty_person p;
    lw_store_roster_at(db, person, t_ms, &p);
    snprintf(out, cap, "%s", p.name);
    return out;
}
