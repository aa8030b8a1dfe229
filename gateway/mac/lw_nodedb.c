/* SPDX-License-Identifier: Apache-2.0 */
/* Node registry rows and the maintenance journal, on the store's connection and transaction. */
#include "lw_nodedb.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_clock.h"
#include "lw_error.h"
#include "lw_log.h"
#include "lw_parse.h"
#include "lw_store_int.h"

enum {
    Q_PUT,
    Q_SEEN,
    Q_SEEN_COUNTER,
    Q_FCNT_DOWN,
    Q_JOURNAL,
    Q_BY_ADDRESS,
    Q_BY_NAME,
    Q_BY_EUI,
    Q_RETIRE,
    Q_RENAME,
    Q_COUNT
};

static const char *const sql[Q_COUNT] = {
    [Q_PUT] =
        "INSERT INTO nodes(address, name, eui, kind, label, building, floor, unit, grid, "
        "place, tags, state, source, root_key, key_up, key_down, join_nonce, "
        "mount_height_mm, zero_offset_mm, created_ms, pairing_until_ms, fcnt_up, "
        "retired_ms, fcnt_down) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,"
        "?18,?19,?20,?21,?22,CASE WHEN ?12='retired' THEN ?23 END,?24) ON CONFLICT(address) DO "
        "UPDATE SET name=?2, eui=?3, "
        /* A downlink counter never goes back under the same key; a new key starts anew. */
        "fcnt_down=CASE WHEN key_down IS ?16 THEN max(fcnt_down, ?24) ELSE ?24 END, "
        "kind=?4, label=?5, building=?6, floor=?7, unit=?8, grid=?9, place=?10, tags=?11, "
        "state=?12, source=?13, root_key=?14, key_up=?15, key_down=?16, join_nonce=?17, "
        "mount_height_mm=?18, zero_offset_mm=?19, pairing_until_ms=?21, fcnt_up=?22, "
        "retired_ms=CASE WHEN ?12='retired' THEN coalesce(retired_ms, ?23) END",
    [Q_SEEN] = "UPDATE nodes SET first_seen_ms=coalesce(first_seen_ms, ?2), last_seen_ms=?2, "
               "rssi_x10=?3, snr_x10=?4, battery_mv=coalesce(?5, battery_mv), hops=?6, "
               "relay=?7 WHERE address=?1",
    [Q_SEEN_COUNTER] = "UPDATE nodes SET fcnt_up=?2 WHERE address=?1 AND source='paired'",
    [Q_FCNT_DOWN] = "UPDATE nodes SET fcnt_down=max(fcnt_down, ?2) WHERE address=?1",
    [Q_JOURNAL] = "INSERT INTO maintenance(ts_ms, uid, action, node, old, new, detail) "
                  "VALUES(?,?,?,?,?,?,?)",
    [Q_BY_ADDRESS] = "SELECT source, name, eui, kind, building, floor, unit, grid, place, tags, "
                     "state, mount_height_mm, zero_offset_mm FROM nodes WHERE address=?",
    [Q_BY_NAME] = "SELECT address, source, state FROM nodes WHERE name=? AND address!=?",
    [Q_BY_EUI] = "SELECT address, source, name FROM nodes WHERE eui=? AND address!=? AND "
                 "state!='retired'",
    [Q_RETIRE] = "UPDATE nodes SET state='retired', retired_ms=coalesce(retired_ms, ?2), "
                 "key_up=NULL, key_down=NULL WHERE address=?1",
    [Q_RENAME] = "UPDATE nodes SET name=? WHERE address=?",
};

struct lw_nodedb {
    struct lw_store *store;
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
};

struct lw_nodedb *lw_nodedb_new(struct lw_store *s)
{
    struct lw_nodedb *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->store = s;
    d->db = lw_store_handle(s);
    for (int i = 0; i < Q_COUNT; i++)
        if (sqlite3_prepare_v3(d->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &d->q[i], NULL) !=
            SQLITE_OK) {
            lw_log(LW_LOG_ERR, "database: node registry: %s", sqlite3_errmsg(d->db));
            lw_nodedb_free(d);
            return NULL;
        }
    return d;
}

void lw_nodedb_free(struct lw_nodedb *d)
{
    if (!d)
        return;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(d->q[i]);
    free(d);
}

static bool all_zero(const uint8_t *b, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= b[i];
    return acc == 0;
}

static void eui_hex(const uint8_t eui[8], char out[17])
{
    lw_format_hex(eui, 8, out);
}

/* Bind a key as hex text, or NULL when it is absent. */
static void bind_key(sqlite3_stmt *q, int col, const uint8_t *key, bool present)
{
    char hex[2 * LW_KEY_LEN + 1];
    if (!present) {
        sqlite3_bind_null(q, col);
        return;
    }
    lw_format_hex(key, LW_KEY_LEN, hex);
    sqlite3_bind_text(q, col, hex, -1, SQLITE_TRANSIENT);
}

static void bind_opt(sqlite3_stmt *q, int col, bool present, int64_t v)
{
    if (present)
        sqlite3_bind_int64(q, col, v);
    else
        sqlite3_bind_null(q, col);
}

int lw_nodedb_put(struct lw_nodedb *d, const struct lw_node_conf *n)
{
    if (lw_store_begin(d->store) != LW_OK)
        return LW_ERR_DB;
    sqlite3_stmt *q = d->q[Q_PUT];
    char eui[17];
    eui_hex(n->eui, eui);
    sqlite3_bind_int(q, 1, n->address);
    const char *text[] = {n->name,
                          eui,
                          lw_kind_name(n->kind),
                          n->label,
                          n->building,
                          n->floor,
                          n->unit,
                          n->grid,
                          n->place,
                          n->tags,
                          lw_node_state_name(n->state),
                          n->from_config ? "config" : "paired"};
    for (int t = 0; t < 12; t++)
        sqlite3_bind_text(q, t + 2, text[t], -1, SQLITE_STATIC);
    bind_key(q, 14, n->root_key, !all_zero(n->root_key, LW_KEY_LEN));
    bind_key(q, 15, n->key, n->has_session);
    bind_key(q, 16, n->key_down, n->has_session);
    bind_opt(q, 17, n->join_nonce > 0, n->join_nonce);
    bind_opt(q, 18, n->mount_height_mm > 0, n->mount_height_mm);
    sqlite3_bind_int64(q, 19, n->zero_offset_mm);
    sqlite3_bind_int64(q, 20, n->created_ms);
    bind_opt(q, 21, n->state == LW_NODE_PENDING && n->pairing_until_ms, n->pairing_until_ms);
    sqlite3_bind_int64(q, 22, n->fcnt_up);
    sqlite3_bind_int64(q, 23, lw_clock_wall_ms());
    sqlite3_bind_int64(q, 24, n->fcnt_down);
    return lw_store_step(d->store, q);
}

/* Read a hex key column; false when NULL or malformed. */
static bool col_key(sqlite3_stmt *q, int col, uint8_t out[LW_KEY_LEN])
{
    const char *t = (const char *)sqlite3_column_text(q, col);
    memset(out, 0, LW_KEY_LEN);
    return t && lw_parse_hex(t, out, LW_KEY_LEN) == LW_OK;
}

static void col_text(sqlite3_stmt *q, int col, char *out, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(q, col);
    snprintf(out, cap, "%s", t ? t : "");
}

int lw_nodedb_load(struct lw_nodedb *d, bool include_retired, struct lw_node_conf **nodes,
                   struct lw_node_contact **seen, size_t *n)
{
    static const char q_sql[] =
        "SELECT address, name, eui, kind, label, building, floor, unit, grid, place, tags, "
        "state, source, root_key, key_up, key_down, join_nonce, mount_height_mm, "
        "zero_offset_mm, created_ms, pairing_until_ms, fcnt_up, first_seen_ms, last_seen_ms, "
        "rssi_x10, snr_x10, battery_mv, hops, relay, fcnt_down FROM nodes %s ORDER BY address";
    char text[sizeof(q_sql) + 64];
    snprintf(text, sizeof(text), q_sql, include_retired ? "" : "WHERE state != 'retired'");
    sqlite3_stmt *q;
    *nodes = NULL;
    if (seen)
        *seen = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(d->db, text, -1, &q, NULL) != SQLITE_OK) {
        lw_log(LW_LOG_ERR, "database: node registry: %s", sqlite3_errmsg(d->db));
        return LW_ERR_DB;
    }
    size_t cap = 0, cnt = 0;
    struct lw_node_conf *arr = NULL;
    struct lw_node_contact *sarr = NULL;
    int rc, ret = LW_OK;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (cnt == cap) {
            cap = cap ? 2 * cap : 64;
            struct lw_node_conf *na = realloc(arr, cap * sizeof(*arr));
            struct lw_node_contact *ns = na ? realloc(sarr, cap * sizeof(*sarr)) : NULL;
            if (na)
                arr = na;
            if (ns)
                sarr = ns;
            if (!na || !ns) {
                ret = LW_ERR_NOMEM;
                break;
            }
        }
        struct lw_node_conf *c = &arr[cnt];
        memset(c, 0, sizeof(*c));
        c->address = (uint16_t)sqlite3_column_int(q, 0);
        col_text(q, 1, c->name, sizeof(c->name));
        const char *eui = (const char *)sqlite3_column_text(q, 2);
        if (!eui || lw_parse_hex(eui, c->eui, 8) != LW_OK)
            memset(c->eui, 0, 8);
        const char *kind = (const char *)sqlite3_column_text(q, 3);
        int k = kind ? lw_kind_from_name(kind) : -1;
        c->kind = k < 0 ? LW_KIND_MULTI : (enum lw_node_kind)k;
        col_text(q, 4, c->label, sizeof(c->label));
        col_text(q, 5, c->building, sizeof(c->building));
        col_text(q, 6, c->floor, sizeof(c->floor));
        col_text(q, 7, c->unit, sizeof(c->unit));
        col_text(q, 8, c->grid, sizeof(c->grid));
        col_text(q, 9, c->place, sizeof(c->place));
        col_text(q, 10, c->tags, sizeof(c->tags));
        const char *st = (const char *)sqlite3_column_text(q, 11);
        c->state = LW_NODE_ACTIVE;
        for (int s = 0; st && s < LW_NODE_STATE_COUNT; s++)
            if (strcmp(st, lw_node_state_name((enum lw_node_state)s)) == 0)
                c->state = (enum lw_node_state)s;
        const char *src = (const char *)sqlite3_column_text(q, 12);
        c->from_config = src && strcmp(src, "config") == 0;
        col_key(q, 13, c->root_key);
        c->has_session = col_key(q, 14, c->key) && col_key(q, 15, c->key_down);
        c->join_nonce = (uint32_t)sqlite3_column_int64(q, 16);
        c->mount_height_mm = (uint32_t)sqlite3_column_int64(q, 17);
        c->zero_offset_mm = (uint32_t)sqlite3_column_int64(q, 18);
        c->created_ms = sqlite3_column_int64(q, 19);
        c->pairing_until_ms = sqlite3_column_int64(q, 20);
        c->fcnt_up = (uint32_t)sqlite3_column_int64(q, 21);
        c->fcnt_down = (uint32_t)sqlite3_column_int64(q, 29);
        struct lw_node_contact *s = &sarr[cnt];
        s->first_seen_ms = sqlite3_column_int64(q, 22);
        s->last_seen_ms = sqlite3_column_int64(q, 23);
        s->rssi_x10 = sqlite3_column_type(q, 24) == SQLITE_NULL
                          ? INT16_MIN
                          : (int16_t)sqlite3_column_int(q, 24);
        s->snr_x10 = sqlite3_column_type(q, 25) == SQLITE_NULL ? INT16_MIN
                                                               : (int16_t)sqlite3_column_int(q, 25);
        s->battery_mv = sqlite3_column_type(q, 26) == SQLITE_NULL ? -1 : sqlite3_column_int(q, 26);
        s->hops = sqlite3_column_type(q, 27) == SQLITE_NULL ? -1 : sqlite3_column_int(q, 27);
        s->relay = sqlite3_column_type(q, 28) == SQLITE_NULL ? -1 : sqlite3_column_int(q, 28);
        cnt++;
    }
    if (ret == LW_OK && rc != SQLITE_DONE) {
        lw_log(LW_LOG_ERR, "database: node registry: %s", sqlite3_errmsg(d->db));
        ret = LW_ERR_DB;
    }
    sqlite3_finalize(q);
    if (ret != LW_OK) {
        free(arr);
        free(sarr);
        return ret;
    }
    *nodes = arr;
    *n = cnt;
    if (seen)
        *seen = sarr;
    else
        free(sarr);
    return LW_OK;
}

int lw_nodedb_delete(struct lw_nodedb *d, uint16_t address)
{
    int64_t readings = 0, alerts = 0;
    if (lw_nodedb_history(d, address, &readings, &alerts) != LW_OK)
        return LW_ERR_DB;
    if (readings || alerts)
        return LW_ERR_STATE;
    sqlite3_stmt *q;
    if (lw_store_begin(d->store) != LW_OK ||
        sqlite3_prepare_v2(d->db, "DELETE FROM nodes WHERE address=?", -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    sqlite3_bind_int(q, 1, address);
    int rc = lw_store_step(d->store, q);
    sqlite3_finalize(q);
    return rc;
}

int lw_nodedb_seen(struct lw_nodedb *d, uint16_t address, uint32_t fcnt,
                   const struct lw_node_contact *seen)
{
    if (lw_store_begin(d->store) != LW_OK)
        return LW_ERR_DB;
    sqlite3_stmt *q = d->q[Q_SEEN];
    sqlite3_bind_int(q, 1, address);
    sqlite3_bind_int64(q, 2, seen->last_seen_ms);
    sqlite3_bind_int(q, 3, seen->rssi_x10);
    sqlite3_bind_int(q, 4, seen->snr_x10);
    bind_opt(q, 5, seen->battery_mv >= 0, seen->battery_mv);
    sqlite3_bind_int(q, 6, seen->hops);
    sqlite3_bind_int(q, 7, seen->relay);
    int rc = lw_store_step(d->store, q);
    q = d->q[Q_SEEN_COUNTER];
    sqlite3_bind_int(q, 1, address);
    sqlite3_bind_int64(q, 2, fcnt);
    return rc == LW_OK ? lw_store_step(d->store, q) : rc;
}

int lw_nodedb_reserve_fcnt_down(struct lw_nodedb *d, uint16_t address, uint32_t upto)
{
    if (lw_store_begin(d->store) != LW_OK)
        return LW_ERR_DB;
    sqlite3_stmt *q = d->q[Q_FCNT_DOWN];
    sqlite3_bind_int(q, 1, address);
    sqlite3_bind_int64(q, 2, upto);
    int rc = lw_store_step(d->store, q);
    return rc == LW_OK && sqlite3_changes(d->db) != 1 ? LW_ERR_NOTFOUND : rc;
}

static int count(struct lw_nodedb *d, const char *text, uint16_t address, int64_t *out)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(d->db, text, -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    sqlite3_bind_int(q, 1, address);
    int rc = sqlite3_step(q);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    return rc == SQLITE_ROW ? LW_OK : LW_ERR_DB;
}

int lw_nodedb_history(struct lw_nodedb *d, uint16_t address, int64_t *readings, int64_t *alerts)
{
    /* EXISTS-style limits: a season of readings must not be counted row by row here. */
    if (count(d, "SELECT count(*) FROM (SELECT 1 FROM readings WHERE node=? LIMIT 1)", address,
              readings) != LW_OK ||
        count(d, "SELECT count(*) FROM alerts WHERE node=?", address, alerts) != LW_OK)
        return LW_ERR_DB;
    return LW_OK;
}

int lw_nodedb_free_address(struct lw_nodedb *d, uint16_t *out)
{
    /* The first gap in the used addresses (retired places keep theirs: their history does). */
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(d->db,
                           "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM nodes WHERE address=1) "
                           "UNION ALL SELECT min(address + 1) FROM nodes WHERE address + 1 <= "
                           "65534 AND address + 1 NOT IN (SELECT address FROM nodes)",
                           -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    int rc = sqlite3_step(q);
    int64_t a = rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL
                    ? sqlite3_column_int64(q, 0)
                    : 0;
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW)
        return LW_ERR_DB;
    if (a < 1 || a > 0xFFFE)
        return LW_ERR_RANGE;
    *out = (uint16_t)a;
    return LW_OK;
}

int lw_nodedb_journal(struct lw_nodedb *d, int64_t ts_ms, long uid, const char *action,
                      uint16_t node, const char *old_value, const char *new_value,
                      const char *detail)
{
    if (lw_store_begin(d->store) != LW_OK)
        return LW_ERR_DB;
    sqlite3_stmt *q = d->q[Q_JOURNAL];
    sqlite3_bind_int64(q, 1, ts_ms);
    bind_opt(q, 2, uid >= 0, uid);
    sqlite3_bind_text(q, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 4, node);
    sqlite3_bind_text(q, 5, old_value, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, new_value, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, detail, -1, SQLITE_STATIC);
    return lw_store_step(d->store, q);
}

/* ---- [node:] sections -------------------------------------------------------------------- */

static void report(void (*err)(void *, const char *), void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(void (*err)(void *, const char *), void *arg, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (err)
        err(arg, msg);
}

/* What a maintainer would call the node's description, for the journal's old -> new. */
static void describe(char *out, size_t cap, const char *name, const char *eui, const char *kind,
                     const char *building, const char *floor, const char *unit, const char *grid,
                     const char *place, const char *tags)
{
    snprintf(out, cap,
             "name=%s eui=%s kind=%s building=%s floor=%s unit=%s grid=%s place=%s tags=%s", name,
             eui, kind, building, floor, unit, grid, place, tags);
}

static const char *col(sqlite3_stmt *q, int i)
{
    const char *t = (const char *)sqlite3_column_text(q, i);
    return t ? t : "";
}

/* Check one section against the paired nodes; rename retired rows that hold its name. */
static bool config_node_ok(struct lw_nodedb *d, const struct lw_config *cfg,
                           const struct lw_node_conf *n, void (*err)(void *, const char *),
                           void *arg)
{
    char eui[17];
    eui_hex(n->eui, eui);
    bool ok = true;
    sqlite3_stmt *q = d->q[Q_BY_ADDRESS];
    sqlite3_bind_int(q, 1, n->address);
    if (sqlite3_step(q) == SQLITE_ROW && strcmp(col(q, 0), "paired") == 0) {
        report(err, arg,
               "%s:%d: [node:%s] address = 0x%04X is taken by paired node '%s'; choose another "
               "address",
               cfg->path, n->line, n->name, n->address, col(q, 1));
        ok = false;
    }
    sqlite3_reset(q);
    q = d->q[Q_BY_EUI];
    sqlite3_bind_text(q, 1, eui, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, n->address);
    if (ok && sqlite3_step(q) == SQLITE_ROW && strcmp(col(q, 1), "paired") == 0) {
        report(err, arg, "%s:%d: [node:%s] eui = %s belongs to paired node '%s'", cfg->path,
               n->line, n->name, eui, col(q, 2));
        ok = false;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    q = d->q[Q_BY_NAME];
    sqlite3_bind_text(q, 1, n->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, n->address);
    int other = -1;
    if (ok && sqlite3_step(q) == SQLITE_ROW) {
        if (strcmp(col(q, 2), "retired") == 0) {
            other = sqlite3_column_int(q, 0);
        } else {
            report(err, arg, "%s:%d: [node:%s]: a %s node at address 0x%04X has that name",
                   cfg->path, n->line, n->name, col(q, 1), sqlite3_column_int(q, 0));
            ok = false;
        }
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (ok && other >= 0) {
        /* A retired place keeps its history under a name that frees the old one. */
        char renamed[LW_NAME_MAX + 24];
        snprintf(renamed, sizeof(renamed), "%s (retired 0x%04X)", n->name, other);
        q = d->q[Q_RENAME];
        sqlite3_bind_text(q, 1, renamed, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(q, 2, other);
        ok = lw_store_step(d->store, q) == LW_OK;
    }
    return ok;
}

int lw_nodedb_sync_config(struct lw_nodedb *d, const struct lw_config *cfg, int64_t now_ms,
                          void (*err)(void *, const char *), void *arg)
{
    struct lw_node_conf *rows = NULL;
    size_t n = 0;
    if (lw_store_commit(d->store) != LW_OK || lw_nodedb_load(d, false, &rows, NULL, &n) != LW_OK ||
        lw_store_begin(d->store) != LW_OK) {
        free(rows);
        return LW_ERR_DB;
    }
    int rc = LW_OK;
    /* Config nodes no longer in the file: retired first, so their names and EUIs are free. */
    for (size_t i = 0; i < n && rc == LW_OK; i++) {
        if (!rows[i].from_config)
            continue;
        bool kept = false;
        for (size_t j = 0; j < cfg->n_nodes && !kept; j++)
            kept = cfg->nodes[j].address == rows[i].address;
        if (kept)
            continue;
        sqlite3_stmt *q = d->q[Q_RETIRE];
        sqlite3_bind_int(q, 1, rows[i].address);
        sqlite3_bind_int64(q, 2, now_ms);
        rc = lw_store_step(d->store, q);
        if (rc == LW_OK)
            rc = lw_nodedb_journal(d, now_ms, -1, "retire", rows[i].address, rows[i].name, NULL,
                                   "removed from the configuration file");
    }
    free(rows);
    for (size_t i = 0; i < cfg->n_nodes && rc == LW_OK; i++) {
        const struct lw_node_conf *c = &cfg->nodes[i];
        if (!config_node_ok(d, cfg, c, err, arg))
            continue;
        char eui[17], before[768] = "", after[768];
        eui_hex(c->eui, eui);
        describe(after, sizeof(after), c->name, eui, lw_kind_name(c->kind), c->building, c->floor,
                 c->unit, c->grid, c->place, c->tags);
        sqlite3_stmt *q = d->q[Q_BY_ADDRESS];
        sqlite3_bind_int(q, 1, c->address);
        bool existed = sqlite3_step(q) == SQLITE_ROW;
        bool was_retired = existed && strcmp(col(q, 10), "retired") == 0;
        if (existed)
            describe(before, sizeof(before), col(q, 1), col(q, 2), col(q, 3), col(q, 4), col(q, 5),
                     col(q, 6), col(q, 7), col(q, 8), col(q, 9));
        sqlite3_reset(q);
        struct lw_node_conf row = *c;
        row.created_ms = now_ms;
        rc = lw_nodedb_put(d, &row);
        if (rc != LW_OK)
            break;
        if (!existed || was_retired)
            rc = lw_nodedb_journal(d, now_ms, -1, "provision", c->address, NULL, after,
                                   "from the configuration file");
        else if (strcmp(before, after) != 0)
            rc = lw_nodedb_journal(d, now_ms, -1, "update", c->address, before, after,
                                   "changed in the configuration file");
    }
    if (rc != LW_OK)
        return rc;
    return lw_store_commit(d->store);
}
