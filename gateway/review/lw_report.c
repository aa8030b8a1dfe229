/* SPDX-License-Identifier: Apache-2.0 */
/* Season report: the data is gathered once from the rollups and the journal into plain tables,
 * then written as HTML (with inline SVG charts), CSV or JSON from those same tables. */
#include "lw_report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lw_csv.h"
#include "lw_error.h"
#include "lw_history.h"
#include "lw_model.h"
#include "lw_rollup.h"
#include "lw_store.h"

#define HOUR LW_ROLLUP_HOUR_MS

static const char *const level_css[LW_LEVEL_COUNT] = {"#1f6fd1", "#e0b000", "#f07800", "#d62020"};
static const char *const level_zh[LW_LEVEL_COUNT] = {"蓝色", "黄色", "橙色", "红色"};

/* ---- tables -------------------------------------------------------------------------------- */

struct cell {
    char *s;     /* text, or NULL for a number */
    char *title; /* text cells: what the HTML shows on hover (a person's roster id), or NULL */
    double v;    /* number (NAN: empty) */
};

struct table {
    const char *id, *zh, *en, *note;
    int ncol;
    const char *cols[14]; /* "中文 English" */
    struct cell *cells;
    size_t nrows, cap;
};

static int t_add(struct table *t, ...)
{
    if ((t->nrows + 1) * (size_t)t->ncol > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64 * (size_t)t->ncol;
        struct cell *c = realloc(t->cells, cap * sizeof(*c));
        if (!c)
            return LW_ERR_NOMEM;
        t->cells = c;
        t->cap = cap;
    }
    /* Arguments: per column a type char 's' (const char *), 'p' (two: text, then its title, both
     * const char *) or 'n' (double), then the value(s). */
    va_list ap;
    va_start(ap, t);
    struct cell *row = &t->cells[t->nrows * (size_t)t->ncol];
    int rc = LW_OK;
    for (int i = 0; i < t->ncol; i++) {
        int ty = va_arg(ap, int);
        row[i].title = NULL;
        if (ty == 's' || ty == 'p') {
            const char *s = va_arg(ap, const char *);
            row[i].s = strdup(s ? s : "");
            row[i].v = NAN;
            if (!row[i].s)
                rc = LW_ERR_NOMEM;
            const char *title = ty == 'p' ? va_arg(ap, const char *) : NULL;
            if (title && *title && !(row[i].title = strdup(title)))
                rc = LW_ERR_NOMEM;
        } else {
            row[i].s = NULL;
            row[i].v = va_arg(ap, double);
        }
    }
    va_end(ap);
    t->nrows++;
    return rc;
}

static void t_free(struct table *t)
{
    for (size_t i = 0; i < t->nrows * (size_t)t->ncol; i++) {
        free(t->cells[i].s);
        free(t->cells[i].title);
    }
    free(t->cells);
}

/* ---- data gathered ------------------------------------------------------------------------- */

struct rnode {
    struct lw_hist_node h;
    int site;
    int metric;
    double thr[LW_LEVEL_COUNT];
    int64_t frames, hours_heard, longest_gap_h;
    int batt_first, batt_last, batt_min;
};

struct site {
    char name[LW_NAME_MAX];
    double thr[LW_LEVEL_COUNT]; /* lowest threshold of any water node there */
    int water_nodes;
    /* Per hour of the range: highest water of any node (NAN: no reading), and per level the
     * longest time any node spent at or above it (ms). */
    double *hmax;
    int64_t (*habove)[LW_LEVEL_COUNT];
};

struct ralert {
    int64_t id, node_addr, raised, cleared, first_ack, acked_tier;
    int node; /* index into nodes, -1: not in the report */
    int level;
    int escalations;
    bool test; /* a test alarm (alerts.test): kept out of the statistics, listed apart */
    /* actor: who acknowledged first (a roster id, "uid:N" ...); actor_name: their name as the
     * roster journal had it then; outcome: what they chose (on_my_way, false_alarm, test,
     * dealt_with; "" when none was given); note: their note, shown, never interpreted. */
    char rule[LW_NAME_MAX], hazard[16], actor[64], actor_name[160], state[16], outcome[16],
        note[160];
};

struct report {
    const struct lw_report_opts *o;
    sqlite3 *db;
    int64_t from, to, hours;
    struct rnode *nodes;
    size_t n_nodes;
    struct site *sites;
    size_t n_sites;
    struct ralert *alerts;
    size_t n_alerts;
    struct table events, tiers, workers, avail, falses, tests;
    char err[256];
};

static int level_index(const char *name)
{
    for (int l = 0; l < LW_LEVEL_COUNT; l++)
        if (name && strcmp(name, lw_level_name((enum lw_level)l)) == 0)
            return l;
    return -1;
}

static int node_index(const struct report *r, int64_t addr)
{
    size_t lo = 0, hi = r->n_nodes;
    while (lo < hi) { /* nodes are in address order */
        size_t mid = (lo + hi) / 2;
        if (r->nodes[mid].h.address < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n_nodes && r->nodes[lo].h.address == addr ? (int)lo : -1;
}

static int prep(struct report *r, sqlite3_stmt **q, const char *sql)
{
    if (sqlite3_prepare_v2(r->db, sql, -1, q, NULL) != SQLITE_OK) {
        snprintf(r->err, sizeof(r->err), "%s", sqlite3_errmsg(r->db));
        return LW_ERR_DB;
    }
    return LW_OK;
}

static int load_nodes(struct report *r)
{
    size_t n;
    struct lw_hist_node *h = NULL;
    int rc = lw_history_nodes(r->db, r->o->place ? LW_HIST_PLACE : LW_HIST_ALL,
                              r->o->place ? r->o->place : "", &h, &n, r->err, sizeof(r->err));
    if (rc != LW_OK)
        return rc;
    r->nodes = calloc(n ? n : 1, sizeof(*r->nodes));
    if (!r->nodes) {
        free(h);
        return LW_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        r->nodes[i].h = h[i];
        r->nodes[i].site = -1;
        int k = lw_kind_from_name(h[i].kind);
        r->nodes[i].metric =
            (int)lw_rollup_metric(k < 0 ? LW_KIND_MULTI : (enum lw_node_kind)k, NULL);
        for (int l = 0; l < LW_LEVEL_COUNT; l++)
            r->nodes[i].thr[l] = NAN;
    }
    free(h);
    r->n_nodes = n;
    if (n == 0)
        return LW_ERR_NOTFOUND;
    sqlite3_stmt *q;
    if (prep(r, &q, "SELECT node, metric, blue, yellow, orange, red FROM rollup_levels") != LW_OK)
        return LW_ERR_DB;
    while (sqlite3_step(q) == SQLITE_ROW) {
        int i = node_index(r, sqlite3_column_int64(q, 0));
        if (i < 0)
            continue;
        r->nodes[i].metric = sqlite3_column_int(q, 1);
        for (int l = 0; l < LW_LEVEL_COUNT; l++)
            if (sqlite3_column_type(q, 2 + l) != SQLITE_NULL)
                r->nodes[i].thr[l] = sqlite3_column_double(q, 2 + l);
    }
    sqlite3_finalize(q);
    /* Sites: buildings in the order first met (nodes without one share "-"). */
    r->sites = calloc(n, sizeof(*r->sites));
    if (!r->sites)
        return LW_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *b = r->nodes[i].h.building[0] ? r->nodes[i].h.building : "-";
        size_t s = 0;
        while (s < r->n_sites && strcmp(r->sites[s].name, b) != 0)
            s++;
        if (s == r->n_sites) {
            snprintf(r->sites[s].name, sizeof(r->sites[s].name), "%s", b);
            for (int l = 0; l < LW_LEVEL_COUNT; l++)
                r->sites[s].thr[l] = NAN;
            r->n_sites++;
        }
        r->nodes[i].site = (int)s;
        if (r->nodes[i].metric != LW_METRIC_WATER)
            continue;
        r->sites[s].water_nodes++;
        for (int l = 0; l < LW_LEVEL_COUNT; l++)
            if (!isnan(r->nodes[i].thr[l]) &&
                (isnan(r->sites[s].thr[l]) || r->nodes[i].thr[l] < r->sites[s].thr[l]))
                r->sites[s].thr[l] = r->nodes[i].thr[l];
    }
    for (size_t s = 0; s < r->n_sites; s++) {
        r->sites[s].hmax = malloc((size_t)r->hours * sizeof(double));
        r->sites[s].habove = calloc((size_t)r->hours, sizeof(*r->sites[s].habove));
        if (!r->sites[s].hmax || !r->sites[s].habove)
            return LW_ERR_NOMEM;
        for (int64_t k = 0; k < r->hours; k++)
            r->sites[s].hmax[k] = NAN;
    }
    return LW_OK;
}

/* One pass over the hourly rollups of the range: site curves and levels, availability. */
static int load_hours(struct report *r)
{
    sqlite3_stmt *q;
    if (prep(r, &q,
             "SELECT node, t_ms, metric, n, vmax, above_blue, above_yellow, above_orange, "
             "above_red, frames FROM rollup_hour WHERE t_ms >= ?1 AND t_ms < ?2 ORDER BY node, "
             "t_ms") != LW_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, r->from);
    sqlite3_bind_int64(q, 2, r->to);
    int rc, cur = -1;
    int64_t last_h = -1;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int i = node_index(r, sqlite3_column_int64(q, 0));
        if (i < 0)
            continue;
        struct rnode *nd = &r->nodes[i];
        int64_t h = (sqlite3_column_int64(q, 1) - r->from) / HOUR;
        if (h < 0 || h >= r->hours)
            continue;
        if (i != cur) {
            if (cur >= 0 && r->hours - 1 - last_h > r->nodes[cur].longest_gap_h)
                r->nodes[cur].longest_gap_h = r->hours - 1 - last_h;
            cur = i;
            last_h = -1;
        }
        if (h - last_h - 1 > nd->longest_gap_h)
            nd->longest_gap_h = h - last_h - 1;
        last_h = h;
        nd->frames += sqlite3_column_int64(q, 9);
        nd->hours_heard++;
        if (sqlite3_column_int(q, 2) != LW_METRIC_WATER || sqlite3_column_int64(q, 3) == 0)
            continue;
        struct site *s = &r->sites[nd->site];
        double v = sqlite3_column_double(q, 4);
        if (isnan(s->hmax[h]) || v > s->hmax[h])
            s->hmax[h] = v;
        for (int l = 0; l < LW_LEVEL_COUNT; l++) {
            int64_t a = sqlite3_column_int64(q, 5 + l);
            if (a > s->habove[h][l])
                s->habove[h][l] = a;
        }
    }
    if (cur >= 0 && r->hours - 1 - last_h > r->nodes[cur].longest_gap_h)
        r->nodes[cur].longest_gap_h = r->hours - 1 - last_h;
    sqlite3_finalize(q);
    for (size_t i = 0; i < r->n_nodes; i++)
        if (r->nodes[i].hours_heard == 0)
            r->nodes[i].longest_gap_h = r->hours;
    if (rc != SQLITE_DONE) {
        snprintf(r->err, sizeof(r->err), "%s", sqlite3_errmsg(r->db));
        return LW_ERR_DB;
    }
    /* Battery: lowest of the first and of the last day heard, and of the whole range. */
    if (prep(r, &q,
             "SELECT node, min(batt_min), (SELECT batt_min FROM rollup_day d2 WHERE d2.node = "
             "d.node AND d2.t_ms >= ?1 AND d2.t_ms < ?2 AND batt_min IS NOT NULL ORDER BY t_ms "
             "LIMIT 1), (SELECT batt_min FROM rollup_day d3 WHERE d3.node = d.node AND d3.t_ms "
             ">= ?1 AND d3.t_ms < ?2 AND batt_min IS NOT NULL ORDER BY t_ms DESC LIMIT 1) FROM "
             "rollup_day d WHERE t_ms >= ?1 AND t_ms < ?2 GROUP BY node") != LW_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, lw_rollup_day(r->from, lw_store_tz_offset_ms()));
    sqlite3_bind_int64(q, 2, r->to);
    while (sqlite3_step(q) == SQLITE_ROW) {
        int i = node_index(r, sqlite3_column_int64(q, 0));
        if (i < 0)
            continue;
        r->nodes[i].batt_min = sqlite3_column_int(q, 1);
        r->nodes[i].batt_first = sqlite3_column_int(q, 2);
        r->nodes[i].batt_last = sqlite3_column_int(q, 3);
    }
    sqlite3_finalize(q);
    return LW_OK;
}

/* The acknowledgement's outcome (schema 11): the alert row's, else the journal's. Older files have
 * none: nothing is a false alarm by outcome there. */
static const char *outcome_sql(struct report *r)
{
    sqlite3_stmt *q;
    int version = 0;
    if (sqlite3_prepare_v2(r->db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW)
            version = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
    }
    return version >= 11 ? "coalesce(a.ack_outcome, (SELECT outcome FROM alert_journal j WHERE "
                           "j.alert = a.id AND j.event = 'acknowledged' AND j.outcome IS NOT NULL "
                           "ORDER BY ts_ms, id LIMIT 1))"
                         : "NULL";
}

static int load_alerts(struct report *r)
{
    sqlite3_stmt *q;
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "SELECT a.id, a.node, a.raised_ms, a.cleared_ms, a.level, a.rule, a.hazard, "
             "a.state, (SELECT min(ts_ms) FROM alert_journal j WHERE j.alert = a.id AND j.event "
             "= 'acknowledged'), (SELECT coalesce(actor, '') || char(9) || coalesce(tier, '') "
             "FROM alert_journal j WHERE j.alert = a.id AND j.event = 'acknowledged' ORDER BY "
             "ts_ms, id LIMIT 1), (SELECT count(*) FROM alert_journal j WHERE j.alert = a.id AND "
             "j.event = 'escalated'), (SELECT detail FROM alert_journal j WHERE j.alert = a.id "
             "AND j.event = 'acknowledged' ORDER BY ts_ms, id LIMIT 1), a.test, %s FROM alerts a "
             "WHERE a.raised_ms >= ?1 AND a.raised_ms < ?2 ORDER BY a.raised_ms, a.id",
             outcome_sql(r));
    if (prep(r, &q, sql) != LW_OK)
        return LW_ERR_DB;
    sqlite3_bind_int64(q, 1, r->from);
    sqlite3_bind_int64(q, 2, r->to);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int i = node_index(r, sqlite3_column_int64(q, 1));
        if (i < 0)
            continue; /* another place */
        if (r->n_alerts == cap) {
            cap = cap ? 2 * cap : 256;
            struct ralert *a = realloc(r->alerts, cap * sizeof(*a));
            if (!a) {
                sqlite3_finalize(q);
                return LW_ERR_NOMEM;
            }
            r->alerts = a;
        }
        struct ralert *a = &r->alerts[r->n_alerts++];
        memset(a, 0, sizeof(*a));
        a->id = sqlite3_column_int64(q, 0);
        a->node = i;
        a->node_addr = sqlite3_column_int64(q, 1);
        a->raised = sqlite3_column_int64(q, 2);
        a->cleared = sqlite3_column_type(q, 3) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 3);
        a->level = level_index((const char *)sqlite3_column_text(q, 4));
        snprintf(a->rule, sizeof(a->rule), "%s", (const char *)sqlite3_column_text(q, 5));
        snprintf(a->hazard, sizeof(a->hazard), "%s", (const char *)sqlite3_column_text(q, 6));
        snprintf(a->state, sizeof(a->state), "%s", (const char *)sqlite3_column_text(q, 7));
        a->first_ack = sqlite3_column_type(q, 8) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 8);
        const char *who = (const char *)sqlite3_column_text(q, 9);
        if (who) {
            const char *tab = strchr(who, '\t');
            snprintf(a->actor, sizeof(a->actor), "%.*s", tab ? (int)(tab - who) : (int)strlen(who),
                     who);
            a->acked_tier = tab && tab[1] ? atoll(tab + 1) : 0;
        }
        a->escalations = sqlite3_column_int(q, 10);
        const char *note = (const char *)sqlite3_column_text(q, 11);
        snprintf(a->note, sizeof(a->note), "%s", note ? note : "");
        a->test = sqlite3_column_int(q, 12) != 0;
        const char *outcome = (const char *)sqlite3_column_text(q, 13);
        snprintf(a->outcome, sizeof(a->outcome), "%s", outcome ? outcome : "");
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        snprintf(r->err, sizeof(r->err), "%s", sqlite3_errmsg(r->db));
        return LW_ERR_DB;
    }
    /* Who acknowledged, named as the roster journal had them at that moment. */
    for (size_t k = 0; k < r->n_alerts; k++)
        if (r->alerts[k].actor[0])
            lw_store_roster_name(r->db, r->alerts[k].actor, r->alerts[k].first_ack,
                                 r->alerts[k].actor_name, sizeof(r->alerts[k].actor_name));
    return LW_OK;
}

/* ---- tables built from the data ------------------------------------------------------------- */

static void fmt_time(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M", &tm))
        snprintf(out, cap, "?");
}

static int lowest_level(const double thr[LW_LEVEL_COUNT])
{
    int best = -1;
    for (int l = 0; l < LW_LEVEL_COUNT; l++)
        if (!isnan(thr[l]) && (best < 0 || thr[l] < thr[best]))
            best = l;
    return best;
}

static int build_events(struct report *r)
{
    struct table *t = &r->events;
    *t = (struct table){.id = "flood_events",
                        .zh = "积水事件",
                        .en = "Flood events",
                        .ncol = 12,
                        .cols = {"地点 Site", "开始 Start", "结束 End", "峰值 Peak (mm)",
                                 "峰值时间 Peak at", "蓝色以上 Blue+ (h)", "黄色以上 Yellow+ (h)",
                                 "橙色以上 Orange+ (h)", "红色以上 Red+ (h)", "告警 Alerts",
                                 "首次确认 First ack (min)", "升级 Escalations"}};
    for (size_t s = 0; s < r->n_sites; s++) {
        struct site *si = &r->sites[s];
        int low = lowest_level(si->thr);
        if (si->water_nodes == 0 || low < 0)
            continue;
        int64_t h = 0;
        while (h < r->hours) {
            if (!(si->habove[h][low] > 0 || (!isnan(si->hmax[h]) && si->hmax[h] >= si->thr[low]))) {
                h++;
                continue;
            }
            int64_t start = h, end = h, peak_h = h;
            int64_t above[LW_LEVEL_COUNT] = {0};
            for (int64_t k = h; k < r->hours && k <= end + LW_REPORT_EVENT_GAP_H; k++) {
                bool wet =
                    si->habove[k][low] > 0 || (!isnan(si->hmax[k]) && si->hmax[k] >= si->thr[low]);
                if (wet)
                    end = k;
                if (!isnan(si->hmax[k]) &&
                    (isnan(si->hmax[peak_h]) || si->hmax[k] > si->hmax[peak_h]))
                    peak_h = k;
                for (int l = 0; l < LW_LEVEL_COUNT; l++)
                    above[l] += si->habove[k][l];
            }
            int64_t t0 = r->from + start * HOUR, t1 = r->from + (end + 1) * HOUR;
            /* Flood alerts of the site raised from an hour before the event to its end. */
            int n_alerts = 0, esc = 0;
            int64_t first_raise = 0, first_ack = 0;
            for (size_t a = 0; a < r->n_alerts; a++) {
                const struct ralert *al = &r->alerts[a];
                if (al->test || strcmp(al->hazard, "flood") != 0 ||
                    r->nodes[al->node].site != (int)s || al->raised < t0 - HOUR || al->raised >= t1)
                    continue;
                n_alerts++;
                esc += al->escalations;
                if (!first_raise || al->raised < first_raise)
                    first_raise = al->raised;
                if (al->first_ack && (!first_ack || al->first_ack < first_ack))
                    first_ack = al->first_ack;
            }
            char a[32], b[32], c[32];
            fmt_time(t0, a, sizeof(a));
            fmt_time(t1, b, sizeof(b));
            fmt_time(r->from + peak_h * HOUR, c, sizeof(c));
            double lv[LW_LEVEL_COUNT];
            for (int l = 0; l < LW_LEVEL_COUNT; l++)
                lv[l] = isnan(si->thr[l]) ? NAN : above[l] / 3600000.0;
            if (t_add(t, 's', si->name, 's', a, 's', b, 'n', si->hmax[peak_h], 's', c, 'n', lv[0],
                      'n', lv[1], 'n', lv[2], 'n', lv[3], 'n', (double)n_alerts, 'n',
                      first_ack && first_raise ? (first_ack - first_raise) / 60000.0 : NAN, 'n',
                      (double)esc) != LW_OK)
                return LW_ERR_NOMEM;
            h = end + LW_REPORT_EVENT_GAP_H + 1;
        }
    }
    if (t->nrows == 0)
        t->note =
            "在此期间没有水位达到任何规则级别。 No water reached any rule level in this range.";
    return LW_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Minutes: count, median, 90th percentile and maximum of the sorted delays. */
static void stats(int64_t *d, size_t n, double out[3])
{
    qsort(d, n, sizeof(*d), cmp_i64);
    out[0] = n ? d[n / 2] / 60000.0 : NAN;
    out[1] = n ? d[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1] / 60000.0 : NAN;
    out[2] = n ? d[n - 1] / 60000.0 : NAN;
}

/* A person as the report shows them: their name then, and their roster id. */
struct who {
    const char *id, *name;
};

static int cmp_who(const void *a, const void *b)
{
    const struct who *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->id, y->id);
}

/* Response times of real alarms: test alarms (listed apart) are in neither table, nor among
 * those never acknowledged. */
static int build_response(struct report *r)
{
    r->tiers =
        (struct table){.id = "response_by_tier",
                       .zh = "各级响应时间",
                       .en = "Response time by tier",
                       .ncol = 6,
                       .cols = {"确认级别 Acknowledged at tier", "告警 Alerts", "中位 Median (min)",
                                "90% (min)", "最长 Max (min)", "说明 Note"}};
    r->workers =
        (struct table){.id = "response_by_worker",
                       .zh = "各责任人响应时间",
                       .en = "Response time by grid worker and duty post",
                       .ncol = 6,
                       .cols = {"确认人 Acknowledged by", "告警 Alerts", "中位 Median (min)",
                                "90% (min)", "最长 Max (min)", "编号 Roster id"}};
    int64_t *d = malloc((r->n_alerts + 1) * sizeof(*d));
    struct who *actors = calloc(r->n_alerts + 1, sizeof(*actors));
    if (!d || !actors) {
        free(d);
        free(actors);
        return LW_ERR_NOMEM;
    }
    static const char *const tier_name[4] = {"", "1 网格员 grid worker", "2 值班室 duty room",
                                             "3 街道办 street office"};
    int rc = LW_OK;
    size_t never = 0, real = 0;
    for (size_t a = 0; a < r->n_alerts; a++) {
        if (r->alerts[a].test)
            continue;
        real++;
        if (!r->alerts[a].first_ack && strcmp(r->alerts[a].hazard, "trouble") != 0)
            never++;
    }
    for (int tier = 1; tier <= 3 && rc == LW_OK; tier++) {
        size_t n = 0;
        for (size_t a = 0; a < r->n_alerts; a++)
            if (!r->alerts[a].test && r->alerts[a].first_ack && r->alerts[a].acked_tier == tier)
                d[n++] = r->alerts[a].first_ack - r->alerts[a].raised;
        double st[3];
        stats(d, n, st);
        rc = t_add(&r->tiers, 's', tier_name[tier], 'n', (double)n, 'n', st[0], 'n', st[1], 'n',
                   st[2], 's', "");
    }
    if (rc == LW_OK && never) {
        char note[96];
        snprintf(note, sizeof(note), "%zu 条未被确认 never acknowledged", never);
        rc =
            t_add(&r->tiers, 's', "-", 'n', (double)never, 'n', NAN, 'n', NAN, 'n', NAN, 's', note);
    }
    /* Per person or post: one row per roster id and the name it had when acknowledging (an id
     * handed to someone else is two rows), by name. */
    size_t n_actors = 0;
    for (size_t a = 0; a < r->n_alerts; a++) {
        const struct ralert *al = &r->alerts[a];
        if (al->test || !al->first_ack || !al->actor[0])
            continue;
        size_t k = 0;
        while (k < n_actors && (strcmp(actors[k].id, al->actor) != 0 ||
                                strcmp(actors[k].name, al->actor_name) != 0))
            k++;
        if (k == n_actors)
            actors[n_actors++] = (struct who){al->actor, al->actor_name};
    }
    qsort(actors, n_actors, sizeof(*actors), cmp_who);
    for (size_t k = 0; k < n_actors && rc == LW_OK; k++) {
        size_t n = 0;
        for (size_t a = 0; a < r->n_alerts; a++) {
            const struct ralert *al = &r->alerts[a];
            if (!al->test && al->first_ack && strcmp(al->actor, actors[k].id) == 0 &&
                strcmp(al->actor_name, actors[k].name) == 0)
                d[n++] = al->first_ack - al->raised;
        }
        double st[3];
        stats(d, n, st);
        rc = t_add(&r->workers, 'p', actors[k].name, actors[k].id, 'n', (double)n, 'n', st[0], 'n',
                   st[1], 'n', st[2], 's', actors[k].id);
    }
    free(d);
    free(actors);
    if (real == 0)
        r->tiers.note = r->workers.note = "在此期间没有告警。 No alerts in this range.";
    else if (r->workers.nrows == 0)
        r->workers.note = "没有告警被确认。 No alert was acknowledged.";
    return rc;
}

static int build_avail(struct report *r)
{
    struct table *t = &r->avail;
    *t = (struct table){.id = "nodes",
                        .zh = "节点在线率与电量",
                        .en = "Node availability and battery",
                        .ncol = 9,
                        .cols = {"节点 Node", "位置 Place", "类型 Kind", "在线小时 Hours heard (%)",
                                 "最长静默 Longest silence (h)", "读数 Readings",
                                 "期初电量 Battery first (mV)", "期末电量 Battery last (mV)",
                                 "最低电量 Battery min (mV)"}};
    /* Worst first: least available, then lowest battery. */
    size_t *ord = malloc((r->n_nodes + 1) * sizeof(*ord));
    if (!ord)
        return LW_ERR_NOMEM;
    for (size_t i = 0; i < r->n_nodes; i++)
        ord[i] = i;
    for (size_t i = 1; i < r->n_nodes; i++) /* insertion sort: a few hundred nodes */
        for (size_t k = i; k > 0; k--) {
            const struct rnode *a = &r->nodes[ord[k - 1]], *b = &r->nodes[ord[k]];
            bool swap = a->hours_heard > b->hours_heard ||
                        (a->hours_heard == b->hours_heard && a->batt_min > b->batt_min);
            if (!swap)
                break;
            size_t x = ord[k - 1];
            ord[k - 1] = ord[k];
            ord[k] = x;
        }
    int rc = LW_OK;
    for (size_t k = 0; k < r->n_nodes && rc == LW_OK; k++) {
        const struct rnode *n = &r->nodes[ord[k]];
        rc = t_add(t, 's', n->h.name, 's', n->h.place, 's', n->h.kind, 'n',
                   100.0 * (double)n->hours_heard / (double)r->hours, 'n', (double)n->longest_gap_h,
                   'n', (double)n->frames, 'n', n->batt_first ? (double)n->batt_first : NAN, 'n',
                   n->batt_last ? (double)n->batt_last : NAN, 'n',
                   n->batt_min ? (double)n->batt_min : NAN);
    }
    free(ord);
    return rc;
}

/* False alarms are those the person acknowledging marked so (outcome false_alarm); a note's
 * words never count, whatever they say. Alarms cleared within minutes or closed without
 * clearing are listed too, as such. Test alarms are not here: build_tests lists them. */
static int build_false(struct report *r)
{
    struct table *t = &r->falses;
    *t =
        (struct table){.id = "false_alarms",
                       .zh = "误报与无因消除",
                       .en = "False or cleared-without-cause alarms",
                       .ncol = 8,
                       .cols = {"告警 Alert", "触发 Raised", "节点 Node", "位置 Place", "规则 Rule",
                                "级别 Level", "持续 Lasted (min)", "原因 Why listed"}};
    int rc = LW_OK;
    for (size_t a = 0; a < r->n_alerts && rc == LW_OK; a++) {
        const struct ralert *al = &r->alerts[a];
        if (al->test)
            continue;
        bool shortlived = al->cleared && al->cleared - al->raised < LW_REPORT_SHORT_ALERT_MS &&
                          strcmp(al->hazard, "trouble") != 0;
        bool marked = strcmp(al->outcome, "false_alarm") == 0;
        bool closed = strcmp(al->state, "closed") == 0;
        if (!shortlived && !marked && !closed)
            continue;
        char when[32], why[512], id[24];
        fmt_time(al->raised, when, sizeof(when));
        snprintf(id, sizeof(id), "#%lld", (long long)al->id);
        int w = 0;
        why[0] = 0;
        if (marked)
            w = snprintf(why, sizeof(why), "确认为误报 acknowledged as a false alarm by %s%s%s%s",
                         al->actor_name[0] ? al->actor_name : al->actor, al->note[0] ? ": \"" : "",
                         al->note, al->note[0] ? "\"" : "");
        if (w >= 0 && (size_t)w < sizeof(why) && (shortlived || closed))
            snprintf(why + w, sizeof(why) - (size_t)w, "%s%s", marked ? "; " : "",
                     closed ? "关闭而非消除 closed, not cleared"
                            : "10分钟内消除 cleared within 10 min");
        rc = t_add(t, 's', id, 's', when, 's', r->nodes[al->node].h.name, 's',
                   r->nodes[al->node].h.place, 's', al->rule, 's',
                   al->level >= 0 ? lw_level_name((enum lw_level)al->level) : "?", 'n',
                   al->cleared ? (al->cleared - al->raised) / 60000.0 : NAN, 's', why);
    }
    if (t->nrows == 0)
        t->note = "没有误报或无因消除的告警。 No false or causeless alarms.";
    return rc;
}

/* Test alarms (alerts.test): a drill's or an installer's, not part of any statistic above. */
static int build_tests(struct report *r)
{
    struct table *t = &r->tests;
    *t = (struct table){.id = "test_alarms",
                        .zh = "测试告警",
                        .en = "Test alarms (not counted above)",
                        .ncol = 8,
                        .cols = {"告警 Alert", "触发 Raised", "节点 Node", "位置 Place",
                                 "规则 Rule", "确认人 Acknowledged by",
                                 "确认 Acknowledged after (min)", "结果 Outcome"}};
    int rc = LW_OK;
    for (size_t a = 0; a < r->n_alerts && rc == LW_OK; a++) {
        const struct ralert *al = &r->alerts[a];
        if (!al->test)
            continue;
        char when[32], id[24];
        fmt_time(al->raised, when, sizeof(when));
        snprintf(id, sizeof(id), "#%lld", (long long)al->id);
        rc = t_add(t, 's', id, 's', when, 's', r->nodes[al->node].h.name, 's',
                   r->nodes[al->node].h.place, 's', al->rule, 'p',
                   al->actor[0] ? al->actor_name : "", al->actor, 'n',
                   al->first_ack ? (al->first_ack - al->raised) / 60000.0 : NAN, 's', al->outcome);
    }
    if (t->nrows == 0)
        t->note = "在此期间没有测试告警。 No test alarms in this range.";
    return rc;
}

/* ---- writers ------------------------------------------------------------------------------- */

static void html_text(FILE *out, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
        }
}

static void num(char *buf, size_t cap, double v)
{
    if (isnan(v))
        snprintf(buf, cap, "%s", "");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, cap, "%.0f", v);
    else
        snprintf(buf, cap, "%.1f", v);
}

static void html_table(FILE *out, const struct table *t)
{
    fprintf(out, "<section class=\"tbl\"><h2>%s <span class=\"en\">%s</span></h2>\n", t->zh, t->en);
    if (t->note)
        fprintf(out, "<p class=\"note\">%s</p>\n", t->note);
    if (t->nrows == 0) {
        fputs("</section>\n", out);
        return;
    }
    fputs("<table><thead><tr>", out);
    for (int c = 0; c < t->ncol; c++) {
        fputs("<th>", out);
        html_text(out, t->cols[c]);
        fputs("</th>", out);
    }
    fputs("</tr></thead><tbody>\n", out);
    for (size_t r = 0; r < t->nrows; r++) {
        fputs("<tr>", out);
        for (int c = 0; c < t->ncol; c++) {
            const struct cell *ce = &t->cells[r * (size_t)t->ncol + c];
            char b[48];
            if (ce->s && ce->title) {
                fputs("<td title=\"", out);
                html_text(out, ce->title);
                fputs("\">", out);
                html_text(out, ce->s);
            } else if (ce->s) {
                fputs("<td>", out);
                html_text(out, ce->s);
            } else {
                num(b, sizeof(b), ce->v);
                fprintf(out, "<td class=\"n\">%s", b[0] ? b : "–");
            }
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table></section>\n", out);
}

#define CW 760.0 /* chart size in SVG user units */
#define CH 210.0
#define ML 46.0
#define MR 10.0
#define MT 14.0
#define MB 24.0

static double xpos(const struct report *r, int64_t t)
{
    return ML + (CW - ML - MR) * (double)(t - r->from) / (double)(r->to - r->from);
}

/* One site's water curve: the highest water of its nodes per bucket, the level bands behind it,
 * its flood alerts as marks along the top. A site without data says so instead of a chart. */
static void svg_site(FILE *out, const struct report *r, const struct site *s)
{
    fprintf(out, "<figure><figcaption>%s <b>", "地点 Site");
    html_text(out, s->name);
    fputs("</b>", out);
    int64_t bucket_h = r->hours > 1200 ? (r->hours + 1199) / 1200 : 1;
    double ymax = 0;
    int64_t points = 0;
    for (int64_t h = 0; h < r->hours; h++)
        if (!isnan(s->hmax[h])) {
            points++;
            if (s->hmax[h] > ymax)
                ymax = s->hmax[h];
        }
    for (int l = 0; l < LW_LEVEL_COUNT; l++)
        if (!isnan(s->thr[l]) && s->thr[l] * 1.25 > ymax)
            ymax = s->thr[l] * 1.25;
    if (ymax < 20)
        ymax = 20;
    fprintf(out, " — %s%s</figcaption>\n", bucket_h > 1 ? "" : "",
            "每段最高水位 highest water of the site's sensors per interval (mm)");
    if (points == 0) {
        fputs("<p class=\"note\">此地点在此期间没有水位读数（传感器静默或不在此范围内）。 No water "
              "readings at this site in this range: its sensors were silent or report nothing "
              "else.</p></figure>\n",
              out);
        return;
    }
    fprintf(out,
            "<svg viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" role=\"img\" "
            "xmlns=\"http://www.w3.org/2000/svg\">\n",
            CW, CH);
    double ph = CH - MT - MB;
#define YPOS(v) (MT + ph * (1 - (v) / ymax))
    /* Level bands: from each threshold up to the next one above it. */
    for (int l = 0; l < LW_LEVEL_COUNT; l++) {
        if (isnan(s->thr[l]))
            continue;
        double top = ymax;
        for (int k = 0; k < LW_LEVEL_COUNT; k++)
            if (!isnan(s->thr[k]) && s->thr[k] > s->thr[l] && s->thr[k] < top)
                top = s->thr[k];
        fprintf(out,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                "fill-opacity=\"0.14\"/><line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"%s\" stroke-dasharray=\"4 3\"/><text x=\"%.1f\" y=\"%.1f\" "
                "class=\"lv\" fill=\"%s\">%s %s %.0f</text>\n",
                ML, YPOS(top), CW - ML - MR, YPOS(s->thr[l]) - YPOS(top), level_css[l], ML, CW - MR,
                YPOS(s->thr[l]), YPOS(s->thr[l]), level_css[l], CW - MR - 4, YPOS(s->thr[l]) - 3,
                level_css[l], level_zh[l], lw_level_name((enum lw_level)l), s->thr[l]);
    }
    /* Axes: y ticks at quarters, x ticks at month or day starts. */
    for (int k = 0; k <= 4; k++) {
        double v = ymax * k / 4;
        fprintf(out,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/><text "
                "x=\"%.1f\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">%.0f</text>\n",
                ML, CW - MR, YPOS(v), YPOS(v), ML - 4, YPOS(v) + 3, v);
    }
    int64_t span_days = (r->to - r->from) / 86400000;
    int64_t step_days = span_days > 120 ? 30 : span_days > 30 ? 7 : span_days > 6 ? 1 : 0;
    int64_t tz = lw_store_tz_offset_ms();
    int64_t tick = lw_rollup_day(r->from, tz);
    for (int n = 0; n < 40; n++) {
        if (tick >= r->from) {
            char d[32];
            time_t tt = (time_t)(tick / 1000);
            struct tm tm;
            localtime_r(&tt, &tm);
            strftime(d, sizeof(d), step_days ? "%m-%d" : "%m-%d %H:%M", &tm);
            fprintf(out,
                    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/><text "
                    "x=\"%.1f\" y=\"%.1f\" class=\"ax\" text-anchor=\"middle\">%s</text>\n",
                    xpos(r, tick), xpos(r, tick), MT, CH - MB, xpos(r, tick), CH - MB + 14, d);
        }
        tick += step_days ? step_days * 86400000 : 6 * HOUR;
        if (tick >= r->to)
            break;
    }
    /* The curve, broken where nothing was heard. */
    bool open = false;
    for (int64_t h = 0; h < r->hours; h += bucket_h) {
        double v = NAN;
        for (int64_t k = h; k < h + bucket_h && k < r->hours; k++)
            if (!isnan(s->hmax[k]) && (isnan(v) || s->hmax[k] > v))
                v = s->hmax[k];
        if (isnan(v)) {
            if (open)
                fputs("\"/>\n", out);
            open = false;
            continue;
        }
        if (!open)
            fputs("<polyline class=\"curve\" points=\"", out);
        fprintf(out, "%.1f,%.1f ", xpos(r, r->from + (h * HOUR)), YPOS(v));
        open = true;
    }
    if (open)
        fputs("\"/>\n", out);
    /* Alerts of the site's water nodes. */
    for (size_t a = 0; a < r->n_alerts; a++) {
        const struct ralert *al = &r->alerts[a];
        if (strcmp(al->hazard, "flood") != 0 || &r->sites[r->nodes[al->node].site] != s)
            continue;
        double x = xpos(r, al->raised);
        char when[32];
        fmt_time(al->raised, when, sizeof(when));
        fprintf(
            out,
            "<path d=\"M%.1f %.1f l-4 -8 h8 z\" fill=\"%s\"><title>#%lld %s %s</title></path>\n", x,
            MT + 8, al->level >= 0 ? level_css[al->level] : "#555", (long long)al->id, al->rule,
            when);
    }
    fputs("</svg></figure>\n", out);
#undef YPOS
}

static const char css[] =
    "body{font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif;"
    "margin:24px;color:#111;font-size:13px}h1{font-size:20px}h2{font-size:16px;margin-top:24px}"
    ".en{color:#444;font-weight:normal}table{border-collapse:collapse;margin:6px 0;width:100%}"
    "th,td{border:1px solid #bbb;padding:2px 5px;text-align:left;vertical-align:top}"
    "th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".note{color:#555;font-style:italic}figure{margin:10px 0;break-inside:avoid}"
    "figcaption{font-size:13px;margin-bottom:2px}svg{border:1px solid #ddd;background:#fff}"
    ".grid{stroke:#e4e4e4}.ax{font-size:10px;fill:#444}.lv{font-size:10px;text-anchor:end}"
    ".curve{fill:none;stroke:#0b4f8a;stroke-width:1.3}"
    "@media print{@page{size:A4;margin:14mm}body{margin:0}h2{break-after:avoid}"
    "tr,figure{break-inside:avoid}section.tbl{break-before:auto}}";

static void write_html(struct report *r, FILE *out)
{
    char a[32], b[32], now[32];
    fmt_time(r->from, a, sizeof(a));
    fmt_time(r->to, b, sizeof(b));
    fmt_time((int64_t)time(NULL) * 1000, now, sizeof(now));
    fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\n<title>", out);
    html_text(out, r->o->title ? r->o->title : "lorawatch");
    fprintf(out, " 汛期复盘 flood-season review</title>\n<style>%s</style></head><body>\n", css);
    fputs("<h1>", out);
    html_text(out, r->o->title ? r->o->title : "lorawatch");
    fputs(" 汛期复盘 <span class=\"en\">Flood-season review</span></h1>\n", out);
    fprintf(out, "<p>%s — %s", a, b);
    if (r->o->place) {
        fputs(" · 范围 place: ", out);
        html_text(out, r->o->place);
    }
    fprintf(out, " · %zu 个节点 nodes · %zu 条告警 alerts · 生成于 generated %s</p>\n", r->n_nodes,
            r->n_alerts, now);
    fputs("<h2>各地点水位 <span class=\"en\">Water levels per site</span></h2>\n", out);
    fputs("<p class=\"note\">色带为规则级别（蓝、黄、橙、红）；三角为告警。 Bands are the rule "
          "levels (blue, yellow, orange, red); triangles mark alerts.</p>\n",
          out);
    int charts = 0;
    for (size_t s = 0; s < r->n_sites; s++)
        if (r->sites[s].water_nodes) {
            svg_site(out, r, &r->sites[s]);
            charts++;
        }
    if (!charts)
        fputs("<p class=\"note\">所选范围内没有水位传感器。 No water-level sensors in the "
              "selected place.</p>\n",
              out);
    html_table(out, &r->events);
    html_table(out, &r->tiers);
    html_table(out, &r->workers);
    html_table(out, &r->avail);
    html_table(out, &r->falses);
    html_table(out, &r->tests);
    fputs("</body></html>\n", out);
}

static void write_csv(struct report *r, FILE *out)
{
    const struct table *ts[] = {&r->events, &r->tiers,  &r->workers,
                                &r->avail,  &r->falses, &r->tests};
    for (size_t k = 0; k < sizeof(ts) / sizeof(ts[0]); k++) {
        const struct table *t = ts[k];
        fprintf(out, "%s# %s: %s %s\r\n", k ? "\r\n" : "", t->id, t->zh, t->en);
        for (int c = 0; c < t->ncol; c++) {
            lw_csv_field(out, t->cols[c], true);
            fputs(c + 1 < t->ncol ? "," : "\r\n", out);
        }
        for (size_t row = 0; row < t->nrows; row++)
            for (int c = 0; c < t->ncol; c++) {
                const struct cell *ce = &t->cells[row * (size_t)t->ncol + c];
                char b[48];
                num(b, sizeof(b), ce->v);
                lw_csv_field(out, ce->s ? ce->s : b, ce->s != NULL);
                fputs(c + 1 < t->ncol ? "," : "\r\n", out);
            }
    }
}

static int write_json(struct report *r, FILE *out)
{
    const struct table *ts[] = {&r->events, &r->tiers,  &r->workers,
                                &r->avail,  &r->falses, &r->tests};
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return LW_ERR_NOMEM;
    cJSON_AddNumberToObject(root, "from_ms", (double)r->from);
    cJSON_AddNumberToObject(root, "to_ms", (double)r->to);
    if (r->o->place)
        cJSON_AddStringToObject(root, "place", r->o->place);
    for (size_t k = 0; k < sizeof(ts) / sizeof(ts[0]); k++) {
        const struct table *t = ts[k];
        cJSON *o = cJSON_AddObjectToObject(root, t->id);
        cJSON_AddStringToObject(o, "title_zh", t->zh);
        cJSON_AddStringToObject(o, "title_en", t->en);
        cJSON *cols = cJSON_AddArrayToObject(o, "columns");
        for (int c = 0; c < t->ncol; c++)
            cJSON_AddItemToArray(cols, cJSON_CreateString(t->cols[c]));
        cJSON *rows = cJSON_AddArrayToObject(o, "rows");
        for (size_t row = 0; row < t->nrows; row++) {
            cJSON *a = cJSON_CreateArray();
            for (int c = 0; c < t->ncol; c++) {
                const struct cell *ce = &t->cells[row * (size_t)t->ncol + c];
                cJSON_AddItemToArray(a, ce->s          ? cJSON_CreateString(ce->s)
                                        : isnan(ce->v) ? cJSON_CreateNull()
                                                       : cJSON_CreateNumber(ce->v));
            }
            cJSON_AddItemToArray(rows, a);
        }
        if (t->note)
            cJSON_AddStringToObject(o, "note", t->note);
    }
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    if (!s)
        return LW_ERR_NOMEM;
    fprintf(out, "%s\n", s);
    free(s);
    return LW_OK;
}

int lw_report_write(sqlite3 *db, const struct lw_report_opts *o, enum lw_report_fmt fmt, FILE *out,
                    char *err, size_t errcap)
{
    struct report r;
    memset(&r, 0, sizeof(r));
    r.o = o;
    r.db = db;
    /* Whole hours, so the hourly rollups line up with the range. */
    r.from = lw_rollup_hour(o->from_ms);
    r.to = lw_rollup_hour(o->to_ms + HOUR - 1);
    r.hours = (r.to - r.from) / HOUR;
    if (r.hours <= 0 || r.hours > 24 * 366 * 3) {
        snprintf(err, errcap, "the range must be between one hour and three years");
        return LW_ERR_RANGE;
    }
    /* One read transaction: every table sees the same database state. */
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    int rc = load_nodes(&r);
    if (rc == LW_ERR_NOTFOUND)
        snprintf(r.err, sizeof(r.err), "no node matches place '%s'", o->place ? o->place : "");
    if (rc == LW_OK)
        rc = load_hours(&r);
    if (rc == LW_OK)
        rc = load_alerts(&r);
    if (rc == LW_OK)
        rc = build_events(&r);
    if (rc == LW_OK)
        rc = build_response(&r);
    if (rc == LW_OK)
        rc = build_avail(&r);
    if (rc == LW_OK)
        rc = build_false(&r);
    if (rc == LW_OK)
        rc = build_tests(&r);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc == LW_OK) {
        if (fmt == LW_REPORT_HTML)
            write_html(&r, out);
        else if (fmt == LW_REPORT_CSV)
            write_csv(&r, out);
        else
            rc = write_json(&r, out);
    }
    if (rc != LW_OK)
        snprintf(err, errcap, "%s", r.err[0] ? r.err : lw_strerror(rc));
    for (size_t s = 0; s < r.n_sites; s++) {
        free(r.sites[s].hmax);
        free(r.sites[s].habove);
    }
    free(r.sites);
    free(r.nodes);
    free(r.alerts);
    t_free(&r.events);
    t_free(&r.tiers);
    t_free(&r.workers);
    t_free(&r.avail);
    t_free(&r.falses);
    t_free(&r.tests);
    return rc;
}
