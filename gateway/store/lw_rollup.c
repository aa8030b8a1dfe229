/* SPDX-License-Identifier: Apache-2.0 */
/* Rollups kept as data arrives. Each node's current hour and current day are accumulated in
 * memory (its "open slices") and written as additive upserts when the node moves on to the next
 * one, every LW_ROLLUP_FLUSH_MS, or at close; readings of an hour or day already written are
 * upserted with their batch. Whatever is written goes in the transaction of a batch of readings,
 * and every row records the latest reading it counts (last_off_ms): each table holds exactly the
 * node's committed readings up to the latest reading counted in the node's latest row and none
 * after it, so after a crash the readings after it are rolled up again (lw_rollup_begin). A
 * node's hour row is thus written about once an hour and its day row once a day, instead of both
 * once per batch. */
#include "lw_rollup.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_log.h"

/* ---- pure helpers ------------------------------------------------------------------------ */

enum lw_metric lw_rollup_metric(enum lw_node_kind kind, const struct lw_reading *r)
{
    switch (kind) {
    case LW_KIND_WATER:
        return LW_METRIC_WATER;
    case LW_KIND_SMOKE:
        return LW_METRIC_SMOKE;
    case LW_KIND_GAS:
        return LW_METRIC_GAS;
    case LW_KIND_CO:
        return LW_METRIC_CO;
    default:
        break;
    }
    if (r && (r->present & LW_R_WATER))
        return LW_METRIC_WATER;
    if (r && (r->present & LW_R_SMOKE))
        return LW_METRIC_SMOKE;
    if (r && (r->present & LW_R_GAS))
        return LW_METRIC_GAS;
    if (r && (r->present & LW_R_CO))
        return LW_METRIC_CO;
    return r && (r->present & LW_R_TEMP) ? LW_METRIC_TEMP : LW_METRIC_WATER;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t lw_rollup_hour(int64_t t_ms)
{
    return floor_div(t_ms, LW_ROLLUP_HOUR_MS) * LW_ROLLUP_HOUR_MS;
}

int64_t lw_rollup_day(int64_t t_ms, int64_t tz_off_ms)
{
    return floor_div(t_ms + tz_off_ms, LW_ROLLUP_DAY_MS) * LW_ROLLUP_DAY_MS - tz_off_ms;
}

/* ---- accumulator ------------------------------------------------------------------------- */

struct acc {
    uint16_t node;
    int metric;
    int64_t t; /* bucket start */
    uint32_t frames, n;
    double sum, min, max;
    int64_t above[LW_LEVEL_COUNT];
    int batt_min; /* 0: no battery value */
    int64_t last; /* latest reading counted */
};

struct pend {
    struct acc *a;
    size_t n, cap;
};

enum { K_HOUR, K_DAY, K_COUNT }; /* the two rollup tables */

/* A node's rollups in one table: the table (with what the open batch owes it) holds the node's
 * readings up to upto and none after; later ones are held in the open slice, in memory only. */
struct slice {
    int64_t upto;
    int64_t from; /* recovery: the table has the node's readings up to here */
    bool open;
    int64_t max; /* latest reading held */
    struct acc a;
    long idx; /* the node's bucket in the pending array, -1: none in this batch */
};

/* What is known about one node: its metric and levels (refreshed every hour, so tags changed
 * through the CLI take effect), its latest reading time, and its slices. */
struct node_st {
    bool resolved;
    bool levels_written; /* rollup_levels holds metric and thr */
    bool known_last;
    bool loaded; /* the slices' upto read from the tables */
    int metric;
    double thr[LW_LEVEL_COUNT];
    int64_t levels_hour;
    enum lw_node_kind kind; /* and a hash of the tags: what metric and thr come from */
    uint64_t tags_hash;
    int64_t last_ts;
    struct slice sl[K_COUNT];
};

enum { Q_NODE, Q_PREV, Q_LEVELS, Q_HOUR, Q_DAY, Q_UPTO_HOUR, Q_UPTO_DAY, Q_COUNT };

#define UPSERT(table)                                                                              \
    "INSERT INTO " table "(node, t_ms, metric, frames, n, vsum, vmin, vmax, above_blue, "          \
    "above_yellow, above_orange, above_red, batt_min, last_off_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,"   \
    "?8,?9,?10,?11,?12,?13,?14) ON CONFLICT(node, t_ms) DO UPDATE SET metric = excluded.metric, "  \
    "frames = frames + excluded.frames, n = n + excluded.n, "                                      \
    "vsum = coalesce(vsum, 0) + coalesce(excluded.vsum, 0), "                                      \
    "vmin = min(coalesce(vmin, excluded.vmin), coalesce(excluded.vmin, vmin)), "                   \
    "vmax = max(coalesce(vmax, excluded.vmax), coalesce(excluded.vmax, vmax)), "                   \
    "above_blue = above_blue + excluded.above_blue, "                                              \
    "above_yellow = above_yellow + excluded.above_yellow, "                                        \
    "above_orange = above_orange + excluded.above_orange, "                                        \
    "above_red = above_red + excluded.above_red, "                                                 \
    "batt_min = min(coalesce(batt_min, excluded.batt_min), coalesce(excluded.batt_min, "           \
    "batt_min)), last_off_ms = max(coalesce(last_off_ms, -1), excluded.last_off_ms)"

/* How far a node's rows in a table go: the latest reading counted in its latest row (rows written
 * before schema version 6 count as complete). */
#define UPTO(table, len)                                                                           \
    "SELECT t_ms + coalesce(last_off_ms, " len " - 1) FROM " table " WHERE node = ? ORDER BY "     \
    "t_ms DESC LIMIT 1"

static const char *const q_sql[Q_COUNT] = {
    [Q_NODE] = "SELECT kind, tags FROM nodes WHERE address = ?",
    /* Only readings the rollups count: one stored before the clock was synchronised has a
     * provisional time (a reading corrected from it would stand for days). */
    [Q_PREV] = "SELECT max(ts_ms) FROM readings WHERE node = ?1 AND ts_ms < ?2 AND "
               "(time_quality IS NULL OR time_quality = 2)",
    [Q_LEVELS] = "INSERT INTO rollup_levels(node, metric, blue, yellow, orange, red, set_ms) "
                 "VALUES(?,?,?,?,?,?,?) ON CONFLICT(node) DO UPDATE SET metric = excluded.metric, "
                 "blue = excluded.blue, yellow = excluded.yellow, orange = excluded.orange, "
                 "red = excluded.red, set_ms = excluded.set_ms WHERE metric IS NOT "
                 "excluded.metric OR blue IS NOT excluded.blue OR yellow IS NOT excluded.yellow "
                 "OR orange IS NOT excluded.orange OR red IS NOT excluded.red",
    [Q_HOUR] = UPSERT("rollup_hour"),
    [Q_DAY] = UPSERT("rollup_day"),
    [Q_UPTO_HOUR] = UPTO("rollup_hour", "3600000"),
    [Q_UPTO_DAY] = UPTO("rollup_day", "86400000"),
};

struct lw_rollup {
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
    int64_t tz_off_ms;
    struct lw_level_source levels;
    struct node_st *nodes[65536];
    uint16_t *ids; /* nodes with a state, in order of first use */
    size_t n_ids, cap_ids;
    struct pend pend[K_COUNT];
    bool recover;       /* memory may not match the database: lw_rollup_begin recovers */
    bool swept;         /* last_sweep is set */
    int64_t last_sweep; /* monotonic ms of the last flush of every open slice */
};

struct lw_rollup *lw_rollup_new(sqlite3 *db, int64_t tz_off_ms)
{
    struct lw_rollup *ru = calloc(1, sizeof(*ru));
    if (!ru)
        return NULL;
    ru->db = db;
    ru->tz_off_ms = tz_off_ms;
    ru->recover = true; /* the last run may have ended without writing its open slices */
    for (int i = 0; i < Q_COUNT; i++)
        if (sqlite3_prepare_v3(db, q_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &ru->q[i], NULL) !=
            SQLITE_OK) {
            lw_log(LW_LOG_ERR, "rollups: %s", sqlite3_errmsg(db));
            lw_rollup_free(ru);
            return NULL;
        }
    return ru;
}

void lw_rollup_free(struct lw_rollup *ru)
{
    if (!ru)
        return;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(ru->q[i]);
    for (size_t i = 0; i < ru->n_ids; i++)
        free(ru->nodes[ru->ids[i]]);
    free(ru->ids);
    if (ru->levels.free)
        ru->levels.free(ru->levels.arg);
    for (int k = 0; k < K_COUNT; k++)
        free(ru->pend[k].a);
    free(ru);
}

void lw_rollup_set_levels(struct lw_rollup *ru, const struct lw_level_source *src)
{
    if (ru->levels.free)
        ru->levels.free(ru->levels.arg);
    memset(&ru->levels, 0, sizeof(ru->levels));
    if (src)
        ru->levels = *src;
    for (size_t i = 0; i < ru->n_ids; i++)
        ru->nodes[ru->ids[i]]->resolved = false;
}

static struct node_st *node_state(struct lw_rollup *ru, uint16_t node)
{
    struct node_st *st = ru->nodes[node];
    if (st)
        return st;
    if (ru->n_ids == ru->cap_ids) {
        size_t cap = ru->cap_ids ? 2 * ru->cap_ids : 256;
        uint16_t *ids = realloc(ru->ids, cap * sizeof(*ids));
        if (!ids)
            return NULL;
        ru->ids = ids;
        ru->cap_ids = cap;
    }
    st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    for (int k = 0; k < K_COUNT; k++)
        st->sl[k].idx = -1;
    ru->nodes[node] = st;
    ru->ids[ru->n_ids++] = node;
    return st;
}

static void node_levels(struct lw_rollup *ru, const struct lw_node_conf *node,
                        enum lw_metric metric, double thr[LW_LEVEL_COUNT])
{
    for (int l = 0; l < LW_LEVEL_COUNT; l++)
        thr[l] = NAN;
    if (ru->levels.levels)
        ru->levels.levels(ru->levels.arg, node, metric, thr);
}

static bool same_level(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* Kind and tags from the nodes table (a node missing there is judged by its reading alone),
 * then the metric and the levels; the levels are recorded in rollup_levels for the report. */
static int resolve(struct lw_rollup *ru, uint16_t node, struct node_st *st, int64_t hour,
                   const struct lw_reading *r)
{
    struct lw_node_conf nc;
    memset(&nc, 0, sizeof(nc));
    nc.kind = LW_KIND_MULTI;
    nc.address = node;
    sqlite3_stmt *q = ru->q[Q_NODE];
    sqlite3_bind_int(q, 1, node);
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(q, 0);
        const char *tags = (const char *)sqlite3_column_text(q, 1);
        int k = kind ? lw_kind_from_name(kind) : -1;
        if (k >= 0)
            nc.kind = (enum lw_node_kind)k;
        if (tags)
            snprintf(nc.tags, sizeof(nc.tags), "%s", tags);
    }
    sqlite3_reset(q);
    /* The same kind and tags as last time (the usual case): the same levels. */
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *c = nc.tags; *c; c++)
        h = (h ^ (uint8_t)*c) * 1099511628211ull;
    if (st->resolved && st->levels_written && nc.kind == st->kind && h == st->tags_hash) {
        st->levels_hour = hour;
        return LW_OK;
    }
    st->kind = nc.kind;
    st->tags_hash = h;
    int metric = (int)lw_rollup_metric(nc.kind, r), old_metric = st->metric;
    double old[LW_LEVEL_COUNT];
    memcpy(old, st->thr, sizeof(old));
    if (!st->resolved || nc.kind != LW_KIND_MULTI)
        st->metric = metric; /* a multi node keeps the metric it started with */
    node_levels(ru, &nc, (enum lw_metric)st->metric, st->thr);
    st->levels_hour = hour;
    st->resolved = true;
    bool same = st->levels_written && st->metric == old_metric;
    for (int l = 0; l < LW_LEVEL_COUNT && same; l++)
        same = same_level(old[l], st->thr[l]);
    if (same)
        return LW_OK; /* nothing new for rollup_levels: spare the statement */
    q = ru->q[Q_LEVELS];
    sqlite3_bind_int(q, 1, node);
    sqlite3_bind_int(q, 2, st->metric);
    for (int l = 0; l < LW_LEVEL_COUNT; l++)
        if (isnan(st->thr[l]))
            sqlite3_bind_null(q, 3 + l);
        else
            sqlite3_bind_double(q, 3 + l, st->thr[l]);
    sqlite3_bind_int64(q, 7, hour);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    st->levels_written = rc == SQLITE_DONE;
    return rc == SQLITE_DONE ? LW_OK : LW_ERR_DB;
}

static long bucket(struct pend *p, long *idx, uint16_t node, int metric, int64_t t)
{
    if (*idx >= 0 && p->a[*idx].t == t && p->a[*idx].metric == metric)
        return *idx;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 256;
        struct acc *a = realloc(p->a, cap * sizeof(*a));
        if (!a)
            return -1;
        p->a = a;
        p->cap = cap;
    }
    /* A node going back to an older bucket in the same batch (a late frame) gets a second
     * accumulator for it: the upserts add up, so that is still exact. */
    struct acc *a = &p->a[p->n];
    memset(a, 0, sizeof(*a));
    a->node = node;
    a->metric = metric;
    a->t = t;
    *idx = (long)p->n++;
    return *idx;
}

static void account(struct acc *a, int64_t t_ms, bool has_v, double v, const double *thr,
                    int64_t dt, const struct lw_reading *r)
{
    if (a->frames == 0 || t_ms > a->last)
        a->last = t_ms;
    a->frames++;
    if (has_v) {
        if (a->n == 0 || v < a->min)
            a->min = v;
        if (a->n == 0 || v > a->max)
            a->max = v;
        a->n++;
        a->sum += v;
        for (int l = 0; l < LW_LEVEL_COUNT; l++)
            if (!isnan(thr[l]) && v >= thr[l])
                a->above[l] += dt;
    }
    if ((r->present & LW_R_BATTERY) && r->battery_mv > 0 &&
        (a->batt_min == 0 || r->battery_mv < a->batt_min))
        a->batt_min = r->battery_mv;
}

static void merge(struct acc *a, const struct acc *b)
{
    if (b->frames && (a->frames == 0 || b->last > a->last))
        a->last = b->last;
    a->frames += b->frames;
    if (b->n) {
        if (a->n == 0 || b->min < a->min)
            a->min = b->min;
        if (a->n == 0 || b->max > a->max)
            a->max = b->max;
        a->n += b->n;
        a->sum += b->sum;
    }
    for (int l = 0; l < LW_LEVEL_COUNT; l++)
        a->above[l] += b->above[l];
    if (b->batt_min && (a->batt_min == 0 || b->batt_min < a->batt_min))
        a->batt_min = b->batt_min;
}

static void open_slice(struct slice *sl, uint16_t node, int metric, int64_t t)
{
    sl->open = true;
    sl->max = sl->upto;
    memset(&sl->a, 0, sizeof(sl->a));
    sl->a.node = node;
    sl->a.metric = metric;
    sl->a.t = t;
}

/* Hand what the slice holds to this batch (written at commit) and empty it; the slice stays
 * open, so the node's next readings of the same bucket are held again. */
static int close_slice(struct lw_rollup *ru, uint16_t node, struct node_st *st, int k)
{
    struct slice *sl = &st->sl[k];
    if (!sl->open || sl->a.frames == 0)
        return LW_OK;
    long i = bucket(&ru->pend[k], &sl->idx, node, sl->a.metric, sl->a.t);
    if (i < 0)
        return LW_ERR_NOMEM;
    merge(&ru->pend[k].a[i], &sl->a);
    if (sl->max > sl->upto)
        sl->upto = sl->max;
    open_slice(sl, node, sl->a.metric, sl->a.t);
    return LW_OK;
}

/* One reading into table k's rollups: held in the open slice when it is newer than upto and of
 * the slice's bucket (or of a later one, which closes the slice and opens the next); otherwise
 * owed by this batch at once (a late reading). With hold false (recovery), owed at once when
 * newer than the table's rows go (from), skipped when the table already has it. */
static int account_table(struct lw_rollup *ru, uint16_t node, struct node_st *st, int k,
                         int64_t t_ms, bool has_v, double v, int64_t dt, const struct lw_reading *r,
                         bool hold)
{
    struct slice *sl = &st->sl[k];
    int64_t b = k == K_HOUR ? lw_rollup_hour(t_ms) : lw_rollup_day(t_ms, ru->tz_off_ms);
    if (!hold && t_ms <= sl->from)
        return LW_OK;
    if (hold && t_ms > sl->upto) {
        if (sl->open && sl->a.metric != st->metric) {
            /* The node's metric changed (its kind was edited): the slice is complete. */
            if (close_slice(ru, node, st, k) != LW_OK)
                return LW_ERR_NOMEM;
            sl->open = false;
        }
        if (sl->open && b == sl->a.t) {
            account(&sl->a, t_ms, has_v, v, st->thr, dt, r);
            if (t_ms > sl->max)
                sl->max = t_ms;
            return LW_OK;
        }
        if (!sl->open || b > sl->a.t) {
            /* The node moved on: the slice is complete and this reading opens the next. */
            if (close_slice(ru, node, st, k) != LW_OK)
                return LW_ERR_NOMEM;
            if (t_ms > sl->upto) {
                open_slice(sl, node, st->metric, b);
                account(&sl->a, t_ms, has_v, v, st->thr, dt, r);
                sl->max = t_ms;
                return LW_OK;
            }
        } else if (t_ms > sl->upto) {
            /* Of a bucket the node has left: every reading held in the slice is later than
             * this one, so upto may move up to it. */
            sl->upto = t_ms;
        }
    }
    long i = bucket(&ru->pend[k], &sl->idx, node, st->metric, b);
    if (i < 0)
        return LW_ERR_NOMEM;
    account(&ru->pend[k].a[i], t_ms, has_v, v, st->thr, dt, r);
    if (!hold && t_ms > sl->upto)
        sl->upto = t_ms;
    return LW_OK;
}

static int accumulate(struct lw_rollup *ru, uint16_t node, struct node_st *st, int64_t t_ms,
                      const struct lw_reading *r, bool hold)
{
    /* Only readings in time order carry a duration: a late one adds to count, min, max and
     * mean but not to the time above a level, which its successor already covered. */
    int64_t dt = 0;
    if (st->last_ts && t_ms > st->last_ts)
        dt = t_ms - st->last_ts < LW_ROLLUP_GAP_MS ? t_ms - st->last_ts : LW_ROLLUP_GAP_MS;
    if (t_ms > st->last_ts)
        st->last_ts = t_ms;
    double v = 0;
    bool has_v = lw_metric_value((enum lw_metric)st->metric, r, &v);
    for (int k = 0; k < K_COUNT; k++) {
        int rc = account_table(ru, node, st, k, t_ms, has_v, v, dt, r, hold);
        if (rc != LW_OK)
            return rc;
    }
    return LW_OK;
}

int lw_rollup_add(struct lw_rollup *ru, uint16_t node, int64_t t_ms, const struct lw_reading *r)
{
    struct node_st *st = node_state(ru, node);
    if (!st)
        return LW_ERR_NOMEM;
    int64_t hour = lw_rollup_hour(t_ms);
    if (!st->known_last) {
        sqlite3_stmt *q = ru->q[Q_PREV];
        sqlite3_bind_int(q, 1, node);
        sqlite3_bind_int64(q, 2, t_ms);
        int rc = sqlite3_step(q);
        st->last_ts = rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL
                          ? sqlite3_column_int64(q, 0)
                          : 0;
        sqlite3_reset(q);
        if (rc != SQLITE_ROW)
            return LW_ERR_DB;
        st->known_last = true;
    }
    if (!st->loaded) {
        for (int k = 0; k < K_COUNT; k++) {
            sqlite3_stmt *q = ru->q[k == K_HOUR ? Q_UPTO_HOUR : Q_UPTO_DAY];
            sqlite3_bind_int(q, 1, node);
            int rc = sqlite3_step(q);
            st->sl[k].open = false;
            st->sl[k].upto = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : INT64_MIN;
            sqlite3_reset(q);
            if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return LW_ERR_DB;
        }
        st->loaded = true;
    }
    if ((!st->resolved || st->levels_hour != hour) && resolve(ru, node, st, hour, r) != LW_OK)
        return LW_ERR_DB;
    return accumulate(ru, node, st, t_ms, r, true);
}

/* A readings row (columns from water_mm on, as in RECOVER_SQL) as the reading it was stored from.
 */
static void row_reading(sqlite3_stmt *q, int col, struct lw_reading *r)
{
    static const uint32_t bit[8] = {LW_R_WATER, LW_R_SMOKE, LW_R_SMOKE,   LW_R_GAS,
                                    LW_R_CO,    LW_R_TEMP,  LW_R_BATTERY, LW_R_FLAGS};
    int v[8];
    memset(r, 0, sizeof(*r));
    for (int c = 0; c < 8; c++) {
        v[c] = sqlite3_column_int(q, col + c);
        if (sqlite3_column_type(q, col + c) != SQLITE_NULL)
            r->present |= bit[c];
    }
    r->water_mm = (uint16_t)v[0];
    r->smoke_alarm = (uint8_t)v[1];
    r->smoke_obscuration = (uint16_t)v[2];
    r->gas_lel_x10 = (uint16_t)v[3];
    r->co_ppm = (uint16_t)v[4];
    r->temp_c_x10 = (int16_t)v[5];
    r->battery_mv = (uint16_t)v[6];
    r->flags = (uint8_t)v[7];
}

/* Readings the rollups may be missing: after the lower upto, with a known time (pending ones
 * join when lw_store_fix_times corrects them, unknown ones never). */
#define RECOVER_SQL                                                                                \
    "SELECT ts_ms, water_mm, smoke, obscuration, gas_lel_x10, co_ppm, temp_x10, battery_mv, "      \
    "flags FROM readings WHERE node = ?1 AND ts_ms > ?2 AND (time_quality IS NULL OR "             \
    "time_quality = 2) ORDER BY ts_ms, fcnt"

static void forget(struct lw_rollup *ru);

int lw_rollup_begin(struct lw_rollup *ru)
{
    if (!ru->recover)
        return LW_OK;
    sqlite3_stmt *nodes = NULL, *rows = NULL;
    long recovered = 0;
    int rc = LW_OK, st_rc = SQLITE_DONE;
    if (sqlite3_prepare_v2(ru->db,
                           "SELECT node, metric, blue, yellow, orange, red, set_ms FROM "
                           "rollup_levels",
                           -1, &nodes, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(ru->db, RECOVER_SQL, -1, &rows, NULL) != SQLITE_OK) {
        lw_log(LW_LOG_ERR, "rollups: %s", sqlite3_errmsg(ru->db));
        rc = LW_ERR_DB;
        goto out;
    }
    while (rc == LW_OK && (st_rc = sqlite3_step(nodes)) == SQLITE_ROW) {
        uint16_t node = (uint16_t)sqlite3_column_int(nodes, 0);
        struct node_st *st = node_state(ru, node);
        if (!st) {
            rc = LW_ERR_NOMEM;
            break;
        }
        /* The levels the rollups were using: the rules may not be loaded yet. */
        st->metric = sqlite3_column_int(nodes, 1);
        for (int l = 0; l < LW_LEVEL_COUNT; l++)
            st->thr[l] = sqlite3_column_type(nodes, 2 + l) == SQLITE_NULL
                             ? NAN
                             : sqlite3_column_double(nodes, 2 + l);
        int64_t from = INT64_MAX;
        for (int k = 0; k < K_COUNT && rc == LW_OK; k++) {
            sqlite3_stmt *q = ru->q[k == K_HOUR ? Q_UPTO_HOUR : Q_UPTO_DAY];
            sqlite3_bind_int(q, 1, node);
            int qrc = sqlite3_step(q);
            /* No row yet: the node's rollups began with the reading that set its levels (its
             * readings from before the rollups existed are not taken in). */
            st->sl[k].upto =
                qrc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : sqlite3_column_int64(nodes, 6) - 1;
            st->sl[k].from = st->sl[k].upto;
            sqlite3_reset(q);
            if (qrc != SQLITE_ROW && qrc != SQLITE_DONE)
                rc = LW_ERR_DB;
            st->sl[k].open = false;
            if (st->sl[k].upto < from)
                from = st->sl[k].upto;
        }
        if (rc != LW_OK)
            break;
        st->loaded = true;
        st->resolved = false; /* levels from the rules at the next reading */
        st->levels_written = false;
        /* The duration of the first reading recovered runs from the one before it. */
        sqlite3_stmt *q = ru->q[Q_PREV];
        sqlite3_bind_int(q, 1, node);
        sqlite3_bind_int64(q, 2, from + 1);
        if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
            st->last_ts = sqlite3_column_int64(q, 0);
        else
            st->last_ts = 0;
        sqlite3_reset(q);
        sqlite3_bind_int(rows, 1, node);
        sqlite3_bind_int64(rows, 2, from);
        int row_rc;
        while (rc == LW_OK && (row_rc = sqlite3_step(rows)) == SQLITE_ROW) {
            struct lw_reading r;
            row_reading(rows, 1, &r);
            rc = accumulate(ru, node, st, sqlite3_column_int64(rows, 0), &r, false);
            recovered++;
        }
        if (rc == LW_OK && row_rc != SQLITE_DONE)
            rc = LW_ERR_DB;
        sqlite3_reset(rows);
        st->known_last = false; /* looked up again at the node's next reading */
    }
    if (rc == LW_OK && st_rc != SQLITE_DONE)
        rc = LW_ERR_DB;
out:
    sqlite3_finalize(nodes);
    sqlite3_finalize(rows);
    if (rc != LW_OK) {
        lw_log_rl(LW_LOG_ERR, "rollups: recovery failed: %s", sqlite3_errmsg(ru->db));
        forget(ru); /* nothing half-done reaches the tables; tried again next transaction */
        return rc;
    }
    ru->recover = false;
    if (recovered)
        lw_log(LW_LOG_NOTICE, "rollups: %ld readings not yet in the rollups added", recovered);
    return LW_OK;
}

static int write_pend(struct lw_rollup *ru, sqlite3_stmt *q, const struct pend *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct acc *a = &p->a[i];
        if (a->frames == 0)
            continue;
        sqlite3_bind_int(q, 1, a->node);
        sqlite3_bind_int64(q, 2, a->t);
        sqlite3_bind_int(q, 3, a->metric);
        sqlite3_bind_int64(q, 4, a->frames);
        sqlite3_bind_int64(q, 5, a->n);
        if (a->n) {
            sqlite3_bind_double(q, 6, a->sum);
            sqlite3_bind_double(q, 7, a->min);
            sqlite3_bind_double(q, 8, a->max);
        } else {
            sqlite3_bind_null(q, 6);
            sqlite3_bind_null(q, 7);
            sqlite3_bind_null(q, 8);
        }
        for (int l = 0; l < LW_LEVEL_COUNT; l++)
            sqlite3_bind_int64(q, 9 + l, a->above[l]);
        if (a->batt_min)
            sqlite3_bind_int(q, 13, a->batt_min);
        else
            sqlite3_bind_null(q, 13);
        sqlite3_bind_int64(q, 14, a->last - a->t);
        int rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE) {
            lw_log_rl(LW_LOG_ERR, "rollups: %s", sqlite3_errmsg(ru->db));
            return LW_ERR_DB;
        }
    }
    return LW_OK;
}

/* The batch is over either way: node bucket indexes point into arrays about to be emptied. */
static void end_batch(struct lw_rollup *ru)
{
    for (int k = 0; k < K_COUNT; k++) {
        for (size_t i = 0; i < ru->pend[k].n; i++) {
            struct node_st *st = ru->nodes[ru->pend[k].a[i].node];
            if (st)
                st->sl[k].idx = -1;
        }
        ru->pend[k].n = 0;
    }
}

int lw_rollup_flush(struct lw_rollup *ru, int64_t now_ms, bool all)
{
    int rc = LW_OK;
    if (!ru->swept) {
        ru->swept = true;
        ru->last_sweep = now_ms;
    }
    if (all || now_ms - ru->last_sweep >= LW_ROLLUP_FLUSH_MS) {
        for (size_t i = 0; i < ru->n_ids && rc == LW_OK; i++)
            for (int k = 0; k < K_COUNT && rc == LW_OK; k++)
                rc = close_slice(ru, ru->ids[i], ru->nodes[ru->ids[i]], k);
        ru->last_sweep = now_ms;
    }
    if (rc == LW_OK)
        rc = write_pend(ru, ru->q[Q_HOUR], &ru->pend[K_HOUR]);
    if (rc == LW_OK)
        rc = write_pend(ru, ru->q[Q_DAY], &ru->pend[K_DAY]);
    end_batch(ru);
    return rc;
}

/* Held slices, latest times and upto may all describe rows that are gone: start again from what
 * the database holds. */
static void forget(struct lw_rollup *ru)
{
    end_batch(ru);
    for (size_t i = 0; i < ru->n_ids; i++) {
        struct node_st *st = ru->nodes[ru->ids[i]];
        st->known_last = false;
        st->resolved = false;
        st->levels_written = false;
        st->loaded = false;
        for (int k = 0; k < K_COUNT; k++)
            st->sl[k].open = false;
    }
    ru->recover = true;
}

void lw_rollup_discard(struct lw_rollup *ru)
{
    forget(ru);
}
