/* SPDX-License-Identifier: Apache-2.0 */
/* Season generator and history benchmark. `generate` fills a new database with a flood season
 * through lw_store (the daemon's schema, batches and rollups): nodes in buildings and grid
 * sectors, one reading per node every interval, storms with rising and falling water, a few fires
 * and a gas leak, batteries running down, silent nodes, and the alerts the shipped rules raise
 * with their notification, escalation, acknowledgement and clearing in the journal. `measure`
 * prints the history figures of such a database.
 * usage: bench_season generate --db FILE [--nodes N] [--days D] [--interval S] [--seed S]
 *                              [--start TIME]
 *        bench_season measure --db FILE [--json FILE] [--ingest N]
 *        bench_season ingest --dir DIR [--ingest N] [--mode all|rollups|store|bare] */
#include <getopt.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "lw_config.h"
#include "lw_error.h"
#include "lw_gateway.h"
#include "lw_history.h"
#include "lw_log.h"
#include "lw_parse.h"
#include "lw_report.h"
#include "lw_rollup.h"
#include "lw_rules.h"
#include "lw_store.h"

/* ---- deterministic randomness ---------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double rndu(void) /* [0, 1) */
{
    return (rnd() >> 11) * (1.0 / 9007199254740992.0);
}
static int rndi(int lo, int hi) /* [lo, hi] */
{
    return lo + (int)(rnd() % (uint64_t)(hi - lo + 1));
}

/* ---- the estate ---------------------------------------------------------------------------- */

/* The shipped rules (config/lorawatch.conf), so the alerts are the ones the daemon would raise. */
static const char rules_text[] =
    "[rule:flood-watch]\nmetric = water_mm\nexcept_tags = basement\nthreshold = 76\nclear = 40\n"
    "persistence = 5m\nlevel = blue\n"
    "[rule:flood-street]\nmetric = water_mm\nexcept_tags = basement\nthreshold = 150\n"
    "clear = 100\npersistence = 5m\nlevel = orange\n"
    "[rule:flood-basement]\nmetric = water_mm\ntags = basement\nthreshold = 50\nclear = 20\n"
    "persistence = 2m\nlevel = red\n"
    "[rule:fire-smoke]\nmetric = smoke\nthreshold = 1\nclear = 0\nlevel = red\n"
    "[rule:gas-low]\nmetric = gas_lel\nthreshold = 20\nclear = 10\npersistence = 30s\n"
    "level = orange\n"
    "[rule:gas-high]\nmetric = gas_lel\nthreshold = 50\nclear = 25\nlevel = red\n"
    "[rule:battery-low]\nmetric = battery_mv\ndirection = below\nthreshold = 3300\nclear = 3400\n"
    "persistence = 1h\nlevel = blue\nhazard = trouble\n";

#define BUILDINGS 20
#define GRIDS     8

struct gnode {
    struct lw_node_conf *conf;
    double sens;                /* water: how strongly storms reach it */
    double batt;                /* mV */
    double drain;               /* mV per day */
    int64_t dead_from, dead_to; /* silent period (0: none) */
    uint32_t fcnt;
    struct lw_rule_state *rs;
};

struct storm {
    int64_t start;
    double rise_h, top_h, fall_h, peak;
};

struct event_win { /* a fire or gas leak at one node */
    int node;
    int64_t from, to;
};

/* An alert as the rule engine raised it, acknowledged and escalated by the duty model below. */
struct galert {
    int64_t id;
    int rule, node;
    int64_t raised, cleared;
    double value, peak;
};

struct season {
    struct lw_config *cfg;
    struct gnode *nodes;
    size_t n_nodes;
    struct storm storms[16];
    int n_storms;
    struct event_win fires[8];
    int n_fires;
    struct galert *alerts;
    size_t n_alerts, cap_alerts;
    int64_t start, end, interval;
};

static double storm_level(const struct season *se, int64_t t)
{
    double lvl = 0;
    for (int i = 0; i < se->n_storms; i++) {
        const struct storm *s = &se->storms[i];
        double h = (t - s->start) / 3600000.0;
        double f = 0;
        if (h < 0 || h > s->rise_h + s->top_h + s->fall_h)
            continue;
        if (h < s->rise_h)
            f = h / s->rise_h;
        else if (h < s->rise_h + s->top_h)
            f = 1;
        else
            f = 1 - (h - s->rise_h - s->top_h) / s->fall_h;
        lvl += s->peak * f * f * (3 - 2 * f); /* smooth rise and fall */
    }
    return lvl;
}

static char *estate_text(size_t n_nodes)
{
    size_t cap = 4096 + n_nodes * 420;
    char *t = malloc(cap);
    if (!t)
        return NULL;
    size_t len = (size_t)snprintf(t, cap, "[gateway]\nsite = season\n%s", rules_text);
    for (size_t i = 0; i < n_nodes; i++) {
        unsigned a = (unsigned)i + 1, b = (unsigned)(i % BUILDINGS) + 1;
        unsigned grid = (b - 1) % GRIDS + 1;
        /* 70 % water (a third of them in basements or ramps), 20 % smoke, 10 % gas. */
        unsigned m = (unsigned)(i % 10);
        const char *kind = m < 7 ? "water" : m < 9 ? "smoke" : "gas";
        const char *tags = m < 2   ? "low-lying,basement"
                           : m < 5 ? "low-lying,street"
                           : m < 7 ? "street"
                                   : "old-building,stairwell";
        const char *where_zh = m < 2 ? "地下车库" : m < 7 ? "入口" : "楼道";
        const char *where_en = m < 2 ? "basement garage" : m < 7 ? "entrance" : "stairwell";
        len += (size_t)snprintf(
            t + len, cap - len,
            "[node:n%03u]\naddress = %u\neui = 70B3D57ED0%06X\nkey = %08X%08X%08X%08X\n"
            "kind = %s\nbuilding = %u\nfloor = %s\ngrid = %u\ntags = %s\n"
            "place = %u号楼%s / Block %u %s\n",
            a, a, a, 0x5A5A0000u + a, 0x11223344u, 0x55667788u, a * 2654435761u, kind, b,
            m < 2 ? "B1" : "1", grid, tags, b, where_zh, b, where_en);
    }
    return t;
}

static void on_cfg_error(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "bench_season: estate: %s\n", msg);
}

static int add_alert(struct season *se, int rule, int node, int64_t t, double v)
{
    if (se->n_alerts == se->cap_alerts) {
        size_t cap = se->cap_alerts ? 2 * se->cap_alerts : 256;
        struct galert *a = realloc(se->alerts, cap * sizeof(*a));
        if (!a)
            return -1;
        se->alerts = a;
        se->cap_alerts = cap;
    }
    struct galert *a = &se->alerts[se->n_alerts];
    memset(a, 0, sizeof(*a));
    a->id = (int64_t)se->n_alerts + 1;
    a->rule = rule;
    a->node = node;
    a->raised = t;
    a->value = a->peak = v;
    se->n_alerts++;
    return (int)a->id;
}

/* One reading of node i at time t; false when the node is silent (dead or a lost frame). */
static bool make_reading(struct season *se, size_t i, int64_t t, struct lw_reading *r)
{
    struct gnode *g = &se->nodes[i];
    if (g->dead_from && t >= g->dead_from && t < g->dead_to)
        return false;
    if (rndu() < 0.01)
        return false; /* radio loss */
    memset(r, 0, sizeof(*r));
    double days = (t - se->start) / 86400000.0;
    g->batt = 3620 - g->drain * days + (rndu() - 0.5) * 6;
    r->present = LW_R_BATTERY;
    r->battery_mv = (uint16_t)(g->batt < 2800 ? 2800 : g->batt);
    switch (g->conf->kind) {
    case LW_KIND_WATER: {
        double w = storm_level(se, t) * g->sens - 15 + (rndu() - 0.5) * 4;
        r->present |= LW_R_WATER;
        r->water_mm = (uint16_t)(w < 10 ? 0 : w > 2000 ? 2000 : w); /* < 10 mm reads as 0 */
        break;
    }
    case LW_KIND_SMOKE:
        r->present |= LW_R_SMOKE | LW_R_TEMP;
        r->smoke_obscuration = (uint16_t)rndi(0, 20);
        r->temp_c_x10 = (int16_t)(260 + rndi(-40, 60));
        for (int f = 0; f < se->n_fires; f++)
            if (se->fires[f].node == (int)i && t >= se->fires[f].from && t < se->fires[f].to) {
                r->smoke_alarm = 1;
                r->smoke_obscuration = (uint16_t)rndi(400, 1500);
                r->temp_c_x10 = (int16_t)rndi(450, 900);
            }
        break;
    default:
        r->present |= LW_R_GAS;
        r->gas_lel_x10 = (uint16_t)rndi(0, 25);
        for (int f = 0; f < se->n_fires; f++)
            if (se->fires[f].node == (int)i && t >= se->fires[f].from && t < se->fires[f].to)
                r->gas_lel_x10 = (uint16_t)rndi(250, 620);
        break;
    }
    return true;
}

/* Who answers and when: the grid worker of the node's sector (tier 1) usually within minutes;
 * unanswered alerts escalate to the duty room (tier 2) after 5 min and the street office
 * (tier 3) after 15 min, as the lifecycle does. */
static int write_alerts(struct season *se, const char *path)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *qa, *qj;
    int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    rc |= sqlite3_prepare_v2(db,
                             "INSERT INTO alerts(id, rule, hazard, level, node, state, raised_ms, "
                             "cleared_ms, value, threshold, tier, acked_ms, acked_by) "
                             "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                             -1, &qa, NULL);
    rc |= sqlite3_prepare_v2(db,
                             "INSERT INTO alert_journal(alert, ts_ms, event, detail, actor, tier, "
                             "via) VALUES(?,?,?,?,?,?,?)",
                             -1, &qj, NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "bench_season: alerts: %s\n", sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
#define J(alert, ts, ev, det, actor, tier, via)                                                    \
    do {                                                                                           \
        sqlite3_bind_int64(qj, 1, alert);                                                          \
        sqlite3_bind_int64(qj, 2, ts);                                                             \
        sqlite3_bind_text(qj, 3, ev, -1, SQLITE_STATIC);                                           \
        sqlite3_bind_text(qj, 4, det, -1, SQLITE_TRANSIENT);                                       \
        sqlite3_bind_text(qj, 5, actor, -1, SQLITE_TRANSIENT);                                     \
        sqlite3_bind_int(qj, 6, tier);                                                             \
        sqlite3_bind_text(qj, 7, via, -1, SQLITE_STATIC);                                          \
        sqlite3_step(qj);                                                                          \
        sqlite3_reset(qj);                                                                         \
    } while (0)
    for (size_t k = 0; k < se->n_alerts; k++) {
        const struct galert *a = &se->alerts[k];
        const struct lw_rule_conf *ru = &se->cfg->rules[a->rule];
        const struct lw_node_conf *nc = se->nodes[a->node].conf;
        char worker[64], det[160];
        snprintf(worker, sizeof(worker), "worker-%s", nc->grid);
        /* Minutes to the first acknowledgement; 15 % are not answered at tier 1. */
        double u = rndu();
        int64_t ack_after = (int64_t)((u < 0.85 ? 0.5 + rndu() * 4.5 : 6 + rndu() * 20) * 60000);
        if (ru->hazard == LW_HAZARD_TROUBLE)
            ack_after = (int64_t)((30 + rndu() * 600) * 60000);
        int tier = 1;
        snprintf(det, sizeof(det), "%s %s at %s", lw_level_name(ru->level), ru->name, nc->name);
        J(a->id, a->raised, "raised", det, "gateway", 1, "gateway");
        J(a->id, a->raised + rndi(50, 400), "published", "", "gateway", 1, "mqtt");
        J(a->id, a->raised + rndi(100, 900), "notified", "tier 1", "gateway", 1, "mqtt");
        if (ru->hazard != LW_HAZARD_TROUBLE && ack_after > 5 * 60000) {
            J(a->id, a->raised + 5 * 60000, "escalated", "no acknowledgement in 5 min", "gateway",
              2, "gateway");
            tier = 2;
        }
        if (ru->hazard != LW_HAZARD_TROUBLE && ack_after > 15 * 60000) {
            J(a->id, a->raised + 15 * 60000, "escalated", "no acknowledgement in 15 min", "gateway",
              3, "gateway");
            tier = 3;
        }
        const char *who = tier == 1 ? worker : tier == 2 ? "duty-room" : "street-office";
        bool false_alarm =
            ru->hazard == LW_HAZARD_FIRE && a->cleared && a->cleared - a->raised <= 10 * 60000;
        int64_t acked = a->raised + ack_after;
        J(a->id, acked, "acknowledged", false_alarm ? "false alarm: cooking steam" : "on my way",
          who, tier, "mqtt");
        if (a->cleared)
            J(a->id, a->cleared, "cleared", "", "gateway", tier, "gateway");
        sqlite3_bind_int64(qa, 1, a->id);
        sqlite3_bind_text(qa, 2, ru->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(qa, 3, lw_hazard_name(ru->hazard), -1, SQLITE_STATIC);
        sqlite3_bind_text(qa, 4, lw_level_name(ru->level), -1, SQLITE_STATIC);
        sqlite3_bind_int(qa, 5, nc->address);
        sqlite3_bind_text(qa, 6, a->cleared ? "cleared" : "acknowledged", -1, SQLITE_STATIC);
        sqlite3_bind_int64(qa, 7, a->raised);
        if (a->cleared)
            sqlite3_bind_int64(qa, 8, a->cleared);
        else
            sqlite3_bind_null(qa, 8);
        sqlite3_bind_double(qa, 9, a->value);
        sqlite3_bind_double(qa, 10, ru->below ? -ru->threshold : ru->threshold);
        sqlite3_bind_int(qa, 11, tier);
        sqlite3_bind_int64(qa, 12, acked);
        sqlite3_bind_text(qa, 13, who, -1, SQLITE_STATIC);
        if (sqlite3_step(qa) != SQLITE_DONE) {
            fprintf(stderr, "bench_season: alert: %s\n", sqlite3_errmsg(db));
            rc = -1;
        }
        sqlite3_reset(qa);
    }
#undef J
    /* Maintainers replaced the batteries that ran lowest, once, late in the season. */
    char *sql = sqlite3_mprintf(
        "INSERT INTO maintenance(ts_ms, uid, action, node, old, new, detail) SELECT %lld + "
        "address * 60000, 1000, 'battery', address, 'low', 'new', 'battery replaced' FROM nodes "
        "WHERE address %% 37 = 5",
        (long long)(se->end - 10 * 86400000LL));
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_free(sql);
    sqlite3_finalize(qa);
    sqlite3_finalize(qj);
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = -1;
    sqlite3_close(db);
    return rc;
}

static int insert_nodes(struct season *se, const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO nodes(address, name, eui, kind, building, floor, unit, "
                           "grid, place, tags) VALUES(?,?,?,?,?,?,?,?,?,?)",
                           -1, &q, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_season: nodes: %s\n", sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    int rc = 0;
    for (size_t i = 0; i < se->n_nodes; i++) {
        const struct lw_node_conf *n = se->nodes[i].conf;
        char eui[17];
        lw_format_hex(n->eui, 8, eui);
        sqlite3_bind_int(q, 1, n->address);
        const char *text[] = {n->name,     eui,      lw_kind_name(n->kind),
                              n->building, n->floor, n->unit,
                              n->grid,     n->place, n->tags};
        for (int c = 0; c < 9; c++)
            sqlite3_bind_text(q, c + 2, text[c], -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE)
            rc = -1;
        sqlite3_reset(q);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return rc;
}

static int generate(const char *path, size_t n_nodes, int days, int interval_s, uint64_t seed,
                    int64_t start)
{
    struct season se;
    memset(&se, 0, sizeof(se));
    rng_state = seed;
    struct stat st;
    if (stat(path, &st) == 0) {
        fprintf(stderr, "bench_season: %s exists; give a new file\n", path);
        return 1;
    }
    char *text = estate_text(n_nodes);
    se.cfg = text ? lw_config_parse("season", text, strlen(text), on_cfg_error, NULL) : NULL;
    free(text);
    if (!se.cfg)
        return 1;
    se.n_nodes = se.cfg->n_nodes;
    se.nodes = calloc(se.n_nodes, sizeof(*se.nodes));
    se.start = start;
    se.interval = interval_s * 1000LL;
    se.end = start + days * 86400000LL;
    for (size_t i = 0; i < se.n_nodes; i++) {
        struct gnode *g = &se.nodes[i];
        g->conf = &se.cfg->nodes[i];
        g->rs = calloc(se.cfg->n_rules, sizeof(*g->rs));
        for (size_t r = 0; r < se.cfg->n_rules; r++)
            g->rs[r].applies = lw_rule_applies(&se.cfg->rules[r], g->conf);
        const char *tags = g->conf->tags;
        g->sens = (strstr(tags, "basement")    ? 1.3
                   : strstr(tags, "low-lying") ? 1.0
                                               : 0.6) *
                  (0.75 + rndu() * 0.5);
        g->drain = 0.8 + rndu() * 0.8;
        if (i % 53 == 7)
            g->drain = 2.6; /* a weak battery: a trouble alert late in the season */
        if (i % 41 == 3) {  /* silent for three days: availability shows it */
            g->dead_from = start + (int64_t)(rndu() * (days - 3)) * 86400000LL;
            g->dead_to = g->dead_from + 3 * 86400000LL;
        }
    }
    /* About one storm every three weeks, stronger in July and August. */
    for (int64_t t = start + 5 * 86400000LL; t < se.end && se.n_storms < 16;
         t += (int64_t)(12 + rndu() * 16) * 86400000LL) {
        struct storm *s = &se.storms[se.n_storms++];
        s->start = t + (int64_t)(rndu() * 86400000.0);
        s->rise_h = 1 + rndu() * 3;
        s->top_h = 0.5 + rndu() * 3;
        s->fall_h = 2 + rndu() * 5;
        s->peak = 60 + rndu() * 220;
    }
    /* Fires (one a false alarm of a few minutes) and a gas leak. */
    for (int f = 0; f < 4 && se.n_nodes >= 10; f++) {
        int base = f < 3 ? 7 : 9; /* smoke nodes: i % 10 in 7..8; gas: 9 */
        int node = base + 10 * rndi(0, (int)(se.n_nodes / 10) - 1);
        int64_t from = start + (int64_t)(rndu() * (days - 1) * 86400000.0);
        int64_t len = f == 1 ? 5 * 60000 : (int64_t)(20 + rndu() * 30) * 60000;
        se.fires[se.n_fires++] = (struct event_win){node, from, from + len};
    }

    char err[512];
    struct lw_store *s = lw_store_open(path, 256, err, sizeof(err));
    if (!s) {
        fprintf(stderr, "bench_season: %s\n", err);
        return 1;
    }
    lw_store_close(s);
    if (insert_nodes(&se, path) != 0)
        return 1;
    s = lw_store_open(path, 256, err, sizeof(err));
    if (!s || lw_gateway_set_levels(s, se.cfg) != LW_OK) {
        fprintf(stderr, "bench_season: %s\n", s ? "rules" : err);
        return 1;
    }
    uint64_t stored = 0;
    double t0 = bench_mono_s();
    for (int64_t t = start; t < se.end; t += se.interval) {
        for (size_t i = 0; i < se.n_nodes; i++) {
            struct gnode *g = &se.nodes[i];
            struct lw_reading r;
            /* Nodes are not in step: each sends at its own offset within the interval. */
            int64_t tn = t + (int64_t)((i * 7919) % (size_t)se.interval);
            g->fcnt++;
            if (!make_reading(&se, i, tn, &r))
                continue;
            struct lw_store_reading rd = {.node = g->conf->address,
                                          .t_ms = tn,
                                          .fcnt = g->fcnt,
                                          .type = 1,
                                          .hops = (uint8_t)(i % 5 == 0),
                                          .rssi_x10 = (int16_t)(-1050 + rndi(-150, 150)),
                                          .snr_x10 = (int16_t)rndi(-50, 95),
                                          .r = &r};
            if (lw_store_add_reading(s, &rd) != LW_OK) {
                fprintf(stderr, "bench_season: storing a reading failed\n");
                lw_store_close(s);
                return 1;
            }
            stored++;
            for (size_t k = 0; k < se.cfg->n_rules; k++) {
                const struct lw_rule_conf *ru = &se.cfg->rules[k];
                double v;
                if (!g->rs[k].applies || !lw_rule_value(ru, &r, &v))
                    continue;
                enum lw_rule_event ev = lw_rule_eval(ru, &g->rs[k], v, tn);
                double val = ru->below ? -v : v;
                if (ev == LW_RULE_RAISE)
                    g->rs[k].alert_id = add_alert(&se, (int)k, (int)i, tn, val);
                else if (ev == LW_RULE_CLEAR && g->rs[k].alert_id > 0)
                    se.alerts[g->rs[k].alert_id - 1].cleared = tn;
                if (g->rs[k].active && g->rs[k].alert_id > 0) {
                    struct galert *a = &se.alerts[g->rs[k].alert_id - 1];
                    if (ru->below ? val < a->peak : val > a->peak)
                        a->peak = val;
                }
            }
        }
    }
    lw_store_close(s);
    double dt = bench_mono_s() - t0;
    int rc = write_alerts(&se, path);
    printf("season: %zu nodes, %d days from %lld, %llu readings in %.1f s (%.0f/s), %d storms, "
           "%d fires/leaks, %zu alerts\n",
           se.n_nodes, days, (long long)start, (unsigned long long)stored, dt, stored / dt,
           se.n_storms, se.n_fires, se.n_alerts);
    for (size_t i = 0; i < se.n_nodes; i++)
        free(se.nodes[i].rs);
    free(se.nodes);
    free(se.alerts);
    lw_config_free(se.cfg);
    return rc == 0 ? 0 : 1;
}

/* ---- measure ------------------------------------------------------------------------------- */

static int64_t q1(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

#define INGEST_RUNS 7

/* Readings per second into a fresh database, all through lw_store with the same rows and
 * batches of 256: with the rollups (INGEST_ROLLUPS) or with them switched off (INGEST_STORE, the
 * reference of the goal); INGEST_BARE is the bare prepared insert of the same schema, printed as
 * the ceiling of what any store could do. */
enum ingest_mode { INGEST_ROLLUPS, INGEST_STORE, INGEST_BARE };

/* Readings per second of elapsed time and per second of this process's CPU time (user and
 * system: what the shared machine's other load disturbs least). */
struct rate {
    double wall, cpu;
};

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct rate ingest_rate(const char *dir, unsigned rows, enum ingest_mode mode)
{
    char path[512], err[256];
    struct rate rate = {0, 0};
    snprintf(path, sizeof(path), "%s/ingest-%d.db", dir, (int)mode);
    unlink(path);
    struct lw_store *s = lw_store_open(path, 256, err, sizeof(err));
    if (!s)
        return rate;
    struct lw_config *cfg = lw_config_parse("rules", rules_text, strlen(rules_text), NULL, NULL);
    if (cfg)
        lw_gateway_set_levels(s, cfg);
    lw_store_set_rollups(s, mode == INGEST_ROLLUPS);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    if (mode == INGEST_BARE) {
        lw_store_close(s);
        s = NULL;
        sqlite3_open(path, &db);
        sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
        sqlite3_prepare_v2(db,
                           "INSERT OR IGNORE INTO readings(node, ts_ms, fcnt, rssi_x10, snr_x10, "
                           "water_mm, battery_mv, packed) VALUES(?,?,?,?,?,?,?,1)",
                           -1, &q, NULL);
    }
    double t0 = bench_mono_s(), c0 = cpu_s();
    for (unsigned i = 0; i < rows; i++) {
        uint16_t node = (uint16_t)(i % 200 + 1);
        int64_t t = 1746028800000LL + (int64_t)(i / 200) * 300000 + node * 1000;
        struct lw_reading r = {.present = LW_R_WATER | LW_R_BATTERY,
                               .water_mm = (uint16_t)((i / 200) % 300),
                               .battery_mv = 3500};
        if (s) {
            struct lw_store_reading rd = {.node = node,
                                          .t_ms = t,
                                          .fcnt = i / 200 + 1,
                                          .type = 1,
                                          .rssi_x10 = -1000,
                                          .snr_x10 = 50,
                                          .r = &r};
            lw_store_add_reading(s, &rd);
        } else {
            if (i % 256 == 0)
                sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
            sqlite3_bind_int(q, 1, node);
            sqlite3_bind_int64(q, 2, t);
            sqlite3_bind_int64(q, 3, i / 200 + 1);
            sqlite3_bind_int(q, 4, -1000);
            sqlite3_bind_int(q, 5, 50);
            sqlite3_bind_int(q, 6, r.water_mm);
            sqlite3_bind_int(q, 7, r.battery_mv);
            sqlite3_step(q);
            sqlite3_reset(q);
            if (i % 256 == 255)
                sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        }
    }
    if (s)
        lw_store_close(s);
    else {
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        sqlite3_finalize(q);
        sqlite3_close(db);
    }
    rate.wall = rows / (bench_mono_s() - t0);
    rate.cpu = rows / (cpu_s() - c0);
    lw_config_free(cfg);
    char p2[540];
    unlink(path);
    snprintf(p2, sizeof(p2), "%s-wal", path);
    unlink(p2);
    snprintf(p2, sizeof(p2), "%s-shm", path);
    unlink(p2);
    return rate;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double v[INGEST_RUNS])
{
    qsort(v, INGEST_RUNS, sizeof(double), cmp_double);
    return v[INGEST_RUNS / 2];
}

/* ---- start-up replay ------------------------------------------------------------------------ */

/* What lorawatchd does at start-up for the rules that keep a history or a persistence
 * (lw_rules_prime): each node's stored readings of the longest such span, through its rules.
 * Timed against the same queries with nothing done per row (the reference). */
struct replay_ctx {
    struct lw_rules *e;
    const struct lw_config *cfg;
    const struct lw_node_conf *node;
    struct lw_rule_state *st;
    bool feed;
    size_t rows;
};

static void replay_row(void *arg, int64_t t_ms, const struct lw_reading *r)
{
    struct replay_ctx *c = arg;
    c->rows++;
    for (size_t i = 0; c->feed && i < c->cfg->n_rules; i++)
        if (lw_rule_primes(&c->cfg->rules[i]) && lw_rule_applies(&c->cfg->rules[i], c->node))
            lw_rules_prime(c->e, &c->cfg->rules[i], c->node, &c->st[i], r, t_ms);
}

/* The shipped rules that keep a history, besides the ones the season was generated with. */
static const char history_rules_text[] =
    "[rule:flood-rising]\nmetric = water_mm\nfilter = floodnet\nexcept_tags = basement\n"
    "statistic = rise\nwindow = 10m\nthreshold = 5\nclear = 1\nlevel = yellow\n"
    "[rule:battery-warn]\nmetric = battery_mv\ndirection = below\nstatistic = days_left\n"
    "window = 7d\nfloor = 3000\nthreshold = 30\nclear = 45\nlevel = blue\n"
    "[rule:battery-fault]\nmetric = battery_mv\ndirection = below\nstatistic = days_left\n"
    "window = 7d\nfloor = 3000\nthreshold = 7\nclear = 10\nlevel = yellow\n";

static int replay_figures(const char *path, size_t n_nodes, double *replay_s, double *query_s,
                          size_t *rows)
{
    char err[512];
    char *estate = estate_text(n_nodes);
    size_t len = estate ? strlen(estate) : 0;
    char *text = estate ? realloc(estate, len + sizeof(history_rules_text)) : NULL;
    if (text)
        memcpy(text + len, history_rules_text, sizeof(history_rules_text));
    else
        free(estate);
    struct lw_config *cfg =
        text ? lw_config_parse("season", text, strlen(text), on_cfg_error, NULL) : NULL;
    free(text);
    struct lw_store *s = cfg ? lw_store_open(path, 256, err, sizeof(err)) : NULL;
    struct lw_rule_state *st = cfg ? calloc(cfg->n_rules, sizeof(*st)) : NULL;
    if (!s || !st) {
        fprintf(stderr, "bench_season: replay: %s\n", cfg && !s ? err : "no estate");
        free(st);
        lw_store_close(s);
        lw_config_free(cfg);
        return -1;
    }
    for (int feed = 0; feed < 2; feed++) {
        struct replay_ctx c = {.e = lw_rules_new(), .cfg = cfg, .st = st, .feed = feed};
        double t0 = bench_mono_s();
        for (size_t k = 0; k < cfg->n_nodes; k++) {
            c.node = &cfg->nodes[k];
            memset(st, 0, cfg->n_rules * sizeof(*st));
            uint64_t span = 0;
            for (size_t i = 0; i < cfg->n_rules; i++)
                if (lw_rule_applies(&cfg->rules[i], c.node) &&
                    lw_rule_prime_span_ms(&cfg->rules[i]) > span)
                    span = lw_rule_prime_span_ms(&cfg->rules[i]);
            if (span)
                lw_store_each_recent(s, c.node->address, INT64_MIN, (int64_t)span, replay_row, &c);
        }
        *(feed ? replay_s : query_s) = bench_mono_s() - t0;
        *rows = c.rows;
        lw_rules_free(c.e);
    }
    free(st);
    lw_store_close(s);
    lw_config_free(cfg);
    return 0;
}

static int measure(const char *path, const char *json, unsigned ingest_rows)
{
    char err[512];
    sqlite3 *db = lw_store_open_readonly(path, 5, err, sizeof(err));
    if (!db) {
        fprintf(stderr, "bench_season: %s\n", err);
        return 1;
    }
    int64_t readings = q1(db, "SELECT count(*) FROM readings");
    int64_t t_min = q1(db, "SELECT min(ts_ms) FROM readings");
    int64_t t_max = q1(db, "SELECT max(ts_ms) FROM readings") + 1;
    int64_t bytes = q1(db, "SELECT page_count * page_size FROM pragma_page_count, "
                           "pragma_page_size");
    int64_t raw_bytes = q1(db, "SELECT sum(pgsize) FROM dbstat WHERE name = 'readings'");
    int64_t rollup_bytes = q1(db, "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'rollup%'");
    FILE *null = fopen("/dev/null", "w");
    struct lw_hist_node *nodes = NULL;
    size_t n = 0, rows = 0;
    lw_history_nodes(db, LW_HIST_NODE, "1", &nodes, &n, err, sizeof(err));
    if (n == 0 || readings <= 0 || !null) {
        fprintf(stderr, "bench_season: %s: no node 1 or no readings\n", path);
        return 1;
    }
    /* A node-day in the middle of the season, raw; the same node's hourly curve, whole season. */
    int64_t mid = t_min + (t_max - t_min) / 2;
    double best_day = 1e9, best_curve = 1e9, best_report = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = bench_mono_s();
        lw_history_readings(db, nodes, 1, mid, mid + 86400000, 0, LW_FMT_CSV, null, &rows, err,
                            sizeof(err));
        double t1 = bench_mono_s();
        lw_history_readings(db, nodes, 1, t_min, t_max, LW_ROLLUP_HOUR_MS, LW_FMT_CSV, null, &rows,
                            err, sizeof(err));
        double t2 = bench_mono_s();
        if (t1 - t0 < best_day)
            best_day = t1 - t0;
        if (t2 - t1 < best_curve)
            best_curve = t2 - t1;
    }
    size_t curve_rows = rows;
    for (int rep = 0; rep < 3; rep++) {
        struct lw_report_opts ro = {.from_ms = t_min, .to_ms = t_max};
        double t0 = bench_mono_s();
        int rc = lw_report_write(db, &ro, LW_REPORT_HTML, null, err, sizeof(err));
        double dt = bench_mono_s() - t0;
        if (rc != LW_OK) {
            fprintf(stderr, "bench_season: report: %s\n", err);
            return 1;
        }
        if (dt < best_report)
            best_report = dt;
    }
    fclose(null);
    free(nodes);
    size_t n_nodes = (size_t)q1(db, "SELECT count(*) FROM nodes");
    sqlite3_close(db);
    double replay_s = 0, replay_query_s = 0;
    size_t replay_rows = 0;
    if (replay_figures(path, n_nodes, &replay_s, &replay_query_s, &replay_rows) != 0)
        return 1;
    char dir[512];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    /* Pairs of runs, with and without rollups back to back (which goes first alternates), and
     * the median of the pairs' ratios: the machine's drift hits both sides of a pair alike. */
    double with[INGEST_RUNS], store[INGEST_RUNS], bare[INGEST_RUNS], ratios[INGEST_RUNS];
    double with_cpu[INGEST_RUNS], store_cpu[INGEST_RUNS], ratios_cpu[INGEST_RUNS];
    for (int rep = 0; rep < INGEST_RUNS; rep++) {
        struct rate a, b;
        if (rep % 2 == 0) {
            a = ingest_rate(dir, ingest_rows, INGEST_ROLLUPS);
            b = ingest_rate(dir, ingest_rows, INGEST_STORE);
        } else {
            b = ingest_rate(dir, ingest_rows, INGEST_STORE);
            a = ingest_rate(dir, ingest_rows, INGEST_ROLLUPS);
        }
        with[rep] = a.wall;
        with_cpu[rep] = a.cpu;
        store[rep] = b.wall;
        store_cpu[rep] = b.cpu;
        ratios[rep] = b.wall > 0 ? a.wall / b.wall : 0;
        ratios_cpu[rep] = b.cpu > 0 ? a.cpu / b.cpu : 0;
        bare[rep] = ingest_rate(dir, ingest_rows, INGEST_BARE).wall;
    }
    double w = median(with), st = median(store), b = median(bare), ratio = median(ratios);
    double wc = median(with_cpu), sc = median(store_cpu), ratio_cpu = median(ratios_cpu);
    printf("history_readings                %lld\n", (long long)readings);
    printf("history_bytes_per_reading       %.1f (whole file, rollups and journals included)\n",
           (double)bytes / readings);
    printf("history_raw_bytes_per_reading   %.1f (readings table alone)\n",
           raw_bytes > 0 ? (double)raw_bytes / readings : -1.0);
    printf("history_rollup_bytes_per_reading %.1f (rollup tables)\n",
           rollup_bytes > 0 ? (double)rollup_bytes / readings : -1.0);
    printf("history_report_s                %.3f\n", best_report);
    printf("history_node_day_raw_ms         %.2f\n", best_day * 1000);
    printf("history_node_season_hourly_ms   %.2f (%zu rows)\n", best_curve * 1000, curve_rows);
    printf("ingest_rollups_per_s            %.0f (lw_store, rollups on; median of %d)\n", w,
           INGEST_RUNS);
    printf("ingest_store_per_s              %.0f (lw_store, rollups off, same rows and batches)\n",
           st);
    printf("ingest_rollups_vs_store         %.2f (goal >= 0.8; median of %d paired runs, "
           "%.2f..%.2f)\n",
           ratio, INGEST_RUNS, ratios[0], ratios[INGEST_RUNS - 1]);
    printf("ingest_rollups_vs_store_cpu     %.2f (the same per second of CPU time: %.0f / %.0f)\n",
           ratio_cpu, wc, sc);
    printf("ingest_bare_insert_per_s        %.0f (prepared INSERT loop, no lw_store: ceiling)\n",
           b);
    printf("startup_replay_s                %.3f (%zu stored readings of %zu nodes through their "
           "rules)\n",
           replay_s, replay_rows, n_nodes);
    printf("startup_replay_vs_query         %.2f (the same queries alone: %.3f s)\n",
           replay_query_s > 0 ? replay_s / replay_query_s : 0, replay_query_s);
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f)
            return 1;
        fprintf(f,
                "{\"history_readings\": %lld, \"history_bytes_per_reading\": %.1f, "
                "\"history_raw_bytes_per_reading\": %.1f, \"history_report_s\": %.3f, "
                "\"history_node_day_raw_ms\": %.2f, \"history_node_season_hourly_ms\": %.2f, "
                "\"history_rollup_bytes_per_reading\": %.1f, \"ingest_rollups_per_s\": %.0f, "
                "\"ingest_store_per_s\": %.0f, \"ingest_rollups_vs_store\": %.2f, "
                "\"ingest_rollups_vs_store_cpu\": %.2f, \"ingest_bare_insert_per_s\": %.0f, "
                "\"startup_replay_s\": %.3f, \"startup_replay_rows\": %zu, "
                "\"startup_replay_vs_query\": %.2f}\n",
                (long long)readings, (double)bytes / readings,
                raw_bytes > 0 ? (double)raw_bytes / readings : -1.0, best_report, best_day * 1000,
                best_curve * 1000, rollup_bytes > 0 ? (double)rollup_bytes / readings : -1.0, w, st,
                ratio, ratio_cpu, b, replay_s, replay_rows,
                replay_query_s > 0 ? replay_s / replay_query_s : 0);
        fclose(f);
    }
    return 0;
}

/* Only the ingest comparison, one mode or all, INGEST_RUNS times each (for profiling). */
static int ingest_only(const char *dir, unsigned rows, const char *mode)
{
    static const char *const names[] = {"rollups", "store", "bare"};
    for (int rep = 0; rep < INGEST_RUNS; rep++)
        for (int m = 0; m < 3; m++)
            if (strcmp(mode, "all") == 0 || strcmp(mode, names[m]) == 0) {
                struct rate r = ingest_rate(dir, rows, (enum ingest_mode)m);
                printf("ingest_%-8s %.0f readings/s, %.0f per CPU second\n", names[m], r.wall,
                       r.cpu);
            }
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: bench_season generate --db FILE [--nodes N] [--days D] [--interval S]\n"
                 "                             [--seed S] [--start TIME]\n"
                 "       bench_season measure --db FILE [--json FILE] [--ingest N]\n"
                 "       bench_season ingest --dir DIR [--ingest N] [--mode all|rollups|store|"
                 "bare]\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},   {"nodes", required_argument, NULL, 'n'},
        {"days", required_argument, NULL, 'D'}, {"interval", required_argument, NULL, 'i'},
        {"seed", required_argument, NULL, 's'}, {"start", required_argument, NULL, 'S'},
        {"json", required_argument, NULL, 'j'}, {"ingest", required_argument, NULL, 'I'},
        {"dir", required_argument, NULL, 'r'},  {"mode", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
    const char *db = NULL, *json = NULL, *dir = NULL, *imode = "all";
    uint32_t nodes = 200, days = 184, interval = 300, ingest = 300000;
    uint64_t seed = 1;
    int64_t start = 1746028800000LL; /* 2025-05-01T00:00:00+08:00: the flood season */
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *mode = argv[1];
    optind = 2;
    lw_log_init("bench_season", LW_LOG_WARNING);
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = LW_OK;
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'n':
            rc = lw_parse_u32(optarg, 10, 60000, &nodes);
            break;
        case 'D':
            rc = lw_parse_u32(optarg, 1, 3660, &days);
            break;
        case 'i':
            rc = lw_parse_u32(optarg, 10, 86400, &interval);
            break;
        case 's':
            rc = lw_parse_u64(optarg, 0, UINT64_MAX, &seed);
            break;
        case 'S':
            rc = lw_history_parse_time(optarg, 0, 8 * 3600000LL, &start);
            break;
        case 'j':
            json = optarg;
            break;
        case 'r':
            dir = optarg;
            break;
        case 'm':
            imode = optarg;
            break;
        case 'I':
            rc = lw_parse_u32(optarg, 1000, 100000000, &ingest);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (rc != LW_OK) {
            fprintf(stderr, "bench_season: bad value '%s'\n", optarg);
            return 2;
        }
    }
    if (strcmp(mode, "ingest") == 0 && dir)
        return ingest_only(dir, ingest, imode);
    if (!db) {
        usage(stderr);
        return 2;
    }
    if (strcmp(mode, "generate") == 0)
        return generate(db, nodes, (int)days, (int)interval, seed, start);
    if (strcmp(mode, "measure") == 0)
        return measure(db, json, ingest);
    usage(stderr);
    return 2;
}
