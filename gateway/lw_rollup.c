/* Rollups kept as data arrives: per batch, one accumulator per (node, hour) and (node, day) in
 * memory, written as additive upserts just before the batch commits, so the rollup tables always
 * describe exactly the committed readings and each reading costs no extra statement. */
#include "lw_rollup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_log.h"
#include "lw_rules.h"

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

void lw_rollup_levels(const struct lw_rule_conf *rules, size_t n_rules,
                      const struct lw_node_conf *node, enum lw_metric metric,
                      double thr[LW_LEVEL_COUNT])
{
    for (int l = 0; l < LW_LEVEL_COUNT; l++)
        thr[l] = NAN;
    for (size_t i = 0; i < n_rules; i++) {
        const struct lw_rule_conf *ru = &rules[i];
        if (ru->below || ru->metric != metric || ru->level >= LW_LEVEL_COUNT ||
            !lw_rule_applies(ru, node))
            continue;
        if (isnan(thr[ru->level]) || ru->threshold < thr[ru->level])
            thr[ru->level] = ru->threshold;
    }
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
};

struct pend {
    struct acc *a;
    size_t n, cap;
};

/* What is known about one node: its metric and levels (refreshed every hour, so tags changed
 * through the CLI take effect), its latest reading time, and its buckets in the open batch. */
struct node_st {
    bool resolved;
    bool known_last;
    int metric;
    double thr[LW_LEVEL_COUNT];
    int64_t levels_hour;
    int64_t last_ts;
    long hour_idx, day_idx; /* into the pending arrays, -1: none in this batch */
};

enum { Q_NODE, Q_PREV, Q_LEVELS, Q_HOUR, Q_DAY, Q_COUNT };

#define UPSERT(table)                                                                              \
    "INSERT INTO " table "(node, t_ms, metric, frames, n, vsum, vmin, vmax, above_blue, "          \
    "above_yellow, above_orange, above_red, batt_min) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,"  \
    "?12,?13) ON CONFLICT(node, t_ms) DO UPDATE SET metric = excluded.metric, "                    \
    "frames = frames + excluded.frames, n = n + excluded.n, "                                      \
    "vsum = coalesce(vsum, 0) + coalesce(excluded.vsum, 0), "                                      \
    "vmin = min(coalesce(vmin, excluded.vmin), coalesce(excluded.vmin, vmin)), "                   \
    "vmax = max(coalesce(vmax, excluded.vmax), coalesce(excluded.vmax, vmax)), "                   \
    "above_blue = above_blue + excluded.above_blue, "                                              \
    "above_yellow = above_yellow + excluded.above_yellow, "                                        \
    "above_orange = above_orange + excluded.above_orange, "                                        \
    "above_red = above_red + excluded.above_red, "                                                 \
    "batt_min = min(coalesce(batt_min, excluded.batt_min), coalesce(excluded.batt_min, "           \
    "batt_min))"

static const char *const q_sql[Q_COUNT] = {
    [Q_NODE] = "SELECT kind, tags FROM nodes WHERE address = ?",
    [Q_PREV] = "SELECT max(ts_ms) FROM readings WHERE node = ?1 AND ts_ms < ?2",
    [Q_LEVELS] = "INSERT INTO rollup_levels(node, metric, blue, yellow, orange, red, set_ms) "
                 "VALUES(?,?,?,?,?,?,?) ON CONFLICT(node) DO UPDATE SET metric = excluded.metric, "
                 "blue = excluded.blue, yellow = excluded.yellow, orange = excluded.orange, "
                 "red = excluded.red, set_ms = excluded.set_ms WHERE metric IS NOT "
                 "excluded.metric OR blue IS NOT excluded.blue OR yellow IS NOT excluded.yellow "
                 "OR orange IS NOT excluded.orange OR red IS NOT excluded.red",
    [Q_HOUR] = UPSERT("rollup_hour"),
    [Q_DAY] = UPSERT("rollup_day"),
};

struct lw_rollup {
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
    int64_t tz_off_ms;
    struct lw_rule_conf *rules;
    size_t n_rules;
    struct node_st *nodes[65536];
    struct pend hours, days;
};

struct lw_rollup *lw_rollup_new(sqlite3 *db, int64_t tz_off_ms)
{
    struct lw_rollup *ru = calloc(1, sizeof(*ru));
    if (!ru)
        return NULL;
    ru->db = db;
    ru->tz_off_ms = tz_off_ms;
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
    for (size_t i = 0; i < 65536; i++)
        free(ru->nodes[i]);
    free(ru->rules);
    free(ru->hours.a);
    free(ru->days.a);
    free(ru);
}

int lw_rollup_set_rules(struct lw_rollup *ru, const struct lw_rule_conf *rules, size_t n_rules)
{
    struct lw_rule_conf *copy = NULL;
    size_t kept = 0;
    if (n_rules) {
        copy = malloc(n_rules * sizeof(*copy));
        if (!copy)
            return LW_ERR_NOMEM;
        /* Levels are values of the metric itself: a rule on a rate of rise, a CO dose, days of
         * battery left, or a silence/flag/radio rule has no level the readings could be above. */
        for (size_t i = 0; i < n_rules; i++)
            if (rules[i].type == LW_RULE_THRESHOLD &&
                (rules[i].statistic == LW_STAT_VALUE || rules[i].statistic == LW_STAT_MEAN))
                copy[kept++] = rules[i];
    }
    n_rules = kept;
    free(ru->rules);
    ru->rules = copy;
    ru->n_rules = n_rules;
    for (size_t i = 0; i < 65536; i++)
        if (ru->nodes[i])
            ru->nodes[i]->resolved = false;
    return LW_OK;
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
    int metric = (int)lw_rollup_metric(nc.kind, r);
    if (!st->resolved || nc.kind != LW_KIND_MULTI)
        st->metric = metric; /* a multi node keeps the metric it started with */
    lw_rollup_levels(ru->rules, ru->n_rules, &nc, (enum lw_metric)st->metric, st->thr);
    st->levels_hour = hour;
    st->resolved = true;
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
    return rc == SQLITE_DONE ? LW_OK : LW_ERR_DB;
}

static long bucket(struct pend *p, long *idx, uint16_t node, int metric, int64_t t)
{
    if (*idx >= 0 && p->a[*idx].t == t)
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

static void account(struct acc *a, bool has_v, double v, const double *thr, int64_t dt,
                    const struct lw_reading *r)
{
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

int lw_rollup_add(struct lw_rollup *ru, uint16_t node, int64_t t_ms, const struct lw_reading *r)
{
    struct node_st *st = ru->nodes[node];
    if (!st) {
        st = calloc(1, sizeof(*st));
        if (!st)
            return LW_ERR_NOMEM;
        st->hour_idx = st->day_idx = -1;
        ru->nodes[node] = st;
    }
    int64_t hour = lw_rollup_hour(t_ms), day = lw_rollup_day(t_ms, ru->tz_off_ms);
    if ((!st->resolved || st->levels_hour != hour) && resolve(ru, node, st, hour, r) != LW_OK)
        return LW_ERR_DB;
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
    /* Only readings in time order carry a duration: a late one adds to count, min, max and
     * mean but not to the time above a level, which its successor already covered. */
    int64_t dt = 0;
    if (st->last_ts && t_ms > st->last_ts)
        dt = t_ms - st->last_ts < LW_ROLLUP_GAP_MS ? t_ms - st->last_ts : LW_ROLLUP_GAP_MS;
    if (t_ms > st->last_ts)
        st->last_ts = t_ms;
    double v = 0;
    bool has_v = lw_metric_value((enum lw_metric)st->metric, r, &v);
    long h = bucket(&ru->hours, &st->hour_idx, node, st->metric, hour);
    long d = h < 0 ? -1 : bucket(&ru->days, &st->day_idx, node, st->metric, day);
    if (h < 0 || d < 0)
        return LW_ERR_NOMEM;
    account(&ru->hours.a[h], has_v, v, st->thr, dt, r);
    account(&ru->days.a[d], has_v, v, st->thr, dt, r);
    return LW_OK;
}

static int write_pend(struct lw_rollup *ru, sqlite3_stmt *q, const struct pend *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct acc *a = &p->a[i];
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
    const struct pend *ps[2] = {&ru->hours, &ru->days};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < ps[k]->n; i++) {
            struct node_st *st = ru->nodes[ps[k]->a[i].node];
            if (st)
                st->hour_idx = st->day_idx = -1;
        }
    ru->hours.n = ru->days.n = 0;
}

int lw_rollup_flush(struct lw_rollup *ru)
{
    int rc = write_pend(ru, ru->q[Q_HOUR], &ru->hours);
    if (rc == LW_OK)
        rc = write_pend(ru, ru->q[Q_DAY], &ru->days);
    end_batch(ru);
    return rc;
}

void lw_rollup_discard(struct lw_rollup *ru)
{
    end_batch(ru);
    /* The latest reading times may have come from rows that are now gone. */
    for (size_t i = 0; i < 65536; i++)
        if (ru->nodes[i]) {
            ru->nodes[i]->known_last = false;
            ru->nodes[i]->resolved = false;
        }
}
