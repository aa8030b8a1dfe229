/* SPDX-License-Identifier: Apache-2.0 */
/* Rule evaluation: threshold with hysteresis and persistence over values or statistics, water
 * filtering, coincidence groups, silence, flags and the gateway's radio (docs/RULES.md). */
#include "lw_rules.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- threshold, hysteresis, persistence ------------------------------------------------- */

enum lw_rule_event lw_rule_eval(const struct lw_rule_conf *rule, struct lw_rule_state *st,
                                double value, int64_t now_ms)
{
    if (value >= rule->threshold) {
        if (!st->above) {
            st->above = true;
            st->above_since_ms = now_ms;
        }
        /* A reading older than the start of the exceedance (reordered by relays) counts as 0. */
        int64_t held = now_ms > st->above_since_ms ? now_ms - st->above_since_ms : 0;
        if (!st->active && (uint64_t)held >= rule->persistence_ms) {
            st->active = true;
            return LW_RULE_RAISE;
        }
        return LW_RULE_NONE;
    }
    st->above = false;
    if (st->active && value <= rule->clear) {
        st->active = false;
        return LW_RULE_CLEAR;
    }
    return LW_RULE_NONE;
}

bool lw_rule_applies(const struct lw_rule_conf *rule, const struct lw_node_conf *node)
{
    if (!(rule->kinds & (1u << node->kind)))
        return false;
    if (rule->tags[0] && !lw_tags_match(node->tags, rule->tags))
        return false;
    return !lw_tags_any(node->tags, rule->except_tags);
}

bool lw_rule_value(const struct lw_rule_conf *rule, const struct lw_reading *r, double *out)
{
    if (!lw_metric_value(rule->metric, r, out))
        return false;
    if (rule->below)
        *out = -*out;
    return true;
}

/* ---- statistics ------------------------------------------------------------------------- */

static struct lw_hist_bucket *bucket(struct lw_rule_hist *h, unsigned i)
{
    return &h->b[(h->head + i) % LW_HIST_N];
}

/* Add (t, v) to the history and forget what fell out of the window. Readings older than the
 * newest bucket (reordered by relays) are left out: the history stays in time order. */
static void hist_add(const struct lw_rule_conf *rule, struct lw_rule_hist *h, double v,
                     int64_t t_ms)
{
    int64_t width = (int64_t)(rule->window_ms / LW_HIST_N);
    if (width < 1)
        width = 1;
    struct lw_hist_bucket *last = h->n ? bucket(h, h->n - 1u) : NULL;
    if (last && t_ms < last->t_ms)
        return;
    if (last && t_ms - h->last_t0_ms < width) {
        last->n++;
        last->v += (float)((v - last->v) / last->n);
        last->t_ms += (t_ms - last->t_ms) / (int64_t)last->n;
    } else {
        if (h->n == LW_HIST_N) { /* drop the oldest */
            h->head = (uint8_t)((h->head + 1u) % LW_HIST_N);
            h->n--;
        }
        struct lw_hist_bucket *nb = bucket(h, h->n++);
        nb->t_ms = h->last_t0_ms = t_ms;
        nb->v = (float)v;
        nb->n = 1;
    }
    while (h->n && bucket(h, 0)->t_ms <= t_ms - (int64_t)rule->window_ms) {
        h->head = (uint8_t)((h->head + 1u) % LW_HIST_N);
        h->n--;
    }
}

/* Weighted least-squares line through the buckets: slope per unit_ms and value at t_ms. */
static bool hist_fit(struct lw_rule_hist *h, int64_t t_ms, double unit_ms, double *slope,
                     double *at_t)
{
    if (h->n < 2)
        return false;
    double sw = 0, sx = 0, sy = 0;
    for (unsigned i = 0; i < h->n; i++) {
        const struct lw_hist_bucket *b = bucket(h, i);
        double x = (double)(b->t_ms - t_ms) / unit_ms;
        sw += b->n;
        sx += b->n * x;
        sy += b->n * (double)b->v;
    }
    double mx = sx / sw, my = sy / sw, sxx = 0, sxy = 0;
    for (unsigned i = 0; i < h->n; i++) {
        const struct lw_hist_bucket *b = bucket(h, i);
        double dx = (double)(b->t_ms - t_ms) / unit_ms - mx;
        sxx += b->n * dx * dx;
        sxy += b->n * dx * ((double)b->v - my);
    }
    if (sxx <= 0)
        return false;
    *slope = sxy / sxx;
    *at_t = my - *slope * mx; /* x = 0 is t_ms */
    return true;
}

#define DAY_MS        86400000.0
#define DAYS_LEFT_MAX 36500.0

bool lw_rule_statistic(const struct lw_rule_conf *rule, struct lw_rule_state *st,
                       struct lw_rule_hist *h, double v, int64_t t_ms, double *out)
{
    if (!h && (rule->statistic == LW_STAT_MEAN || rule->statistic == LW_STAT_RISE ||
               rule->statistic == LW_STAT_DAYS_LEFT))
        return false;
    switch (rule->statistic) {
    case LW_STAT_VALUE:
    case LW_STAT_COUNT:
        *out = v;
        return true;
    case LW_STAT_TWA: {
        /* dE/dt = (v^p - E) / window with v held since the previous reading (the newer value
         * counts for the whole gap: an early alarm rather than a late one). The result is the
         * p-th root of E, a concentration again. */
        double x = pow(v > 0 ? v : 0, rule->exponent);
        if (!st->twa_ms && st->active) {
            /* An alert restored at start-up: the average it rose on was not kept. Start from the
             * threshold (or this reading, when higher), so it clears no sooner than an alarm that
             * had just reached the threshold would. */
            double thr = pow(rule->threshold > 0 ? rule->threshold : 0, rule->exponent);
            st->twa = x > thr ? x : thr;
            st->twa_ms = t_ms;
        }
        if (st->twa_ms && t_ms > st->twa_ms) {
            double a = exp(-(double)(t_ms - st->twa_ms) / (double)rule->window_ms);
            st->twa = st->twa * a + x * (1 - a);
        }
        if (!st->twa_ms || t_ms > st->twa_ms)
            st->twa_ms = t_ms;
        *out = pow(st->twa, 1.0 / rule->exponent);
        return true;
    }
    case LW_STAT_MEAN: {
        hist_add(rule, h, v, t_ms);
        double sw = 0, s = 0;
        for (unsigned i = 0; i < h->n; i++) {
            sw += bucket(h, i)->n;
            s += bucket(h, i)->n * (double)bucket(h, i)->v;
        }
        if (sw <= 0)
            return false;
        *out = s / sw;
        return true;
    }
    case LW_STAT_RISE: {
        hist_add(rule, h, v, t_ms);
        /* A slope from two close points is mostly the sensor's noise: the readings must span a
         * quarter of the window at least (two reports 5 min apart do, in a 10 min window). */
        if (h->n < 2 ||
            (uint64_t)(bucket(h, h->n - 1u)->t_ms - bucket(h, 0)->t_ms) < rule->window_ms / 4)
            return false;
        double at;
        return hist_fit(h, t_ms, 60000.0, out, &at);
    }
    case LW_STAT_DAYS_LEFT: {
        hist_add(rule, h, v, t_ms);
        double slope, at;
        /* A projection over days needs days of data: half the window at least. */
        if (!h->n ||
            (uint64_t)(bucket(h, h->n - 1u)->t_ms - bucket(h, 0)->t_ms) < rule->window_ms / 2 ||
            !hist_fit(h, t_ms, DAY_MS, &slope, &at))
            return false;
        double left = at <= rule->floor ? 0 : slope < 0 ? (at - rule->floor) / -slope : INFINITY;
        *out = left < DAYS_LEFT_MAX ? left : DAYS_LEFT_MAX;
        return true;
    }
    }
    return false;
}

/* ---- the engine: coincidence groups and the gateway's own rules ------------------------- */

/* One node of a coincidence group that is, or recently was, in alarm under a rule. */
struct coinc {
    char rule[LW_NAME_MAX];
    char group[LW_NAME_MAX];
    uint16_t node;
    bool alarm;            /* its latest reading is at/over the threshold */
    int64_t last_alarm_ms; /* when it was last known in alarm */
};

struct gw_rule {
    char rule[LW_NAME_MAX];
    struct lw_rule_state st;
    bool restored; /* its alert was found open at start-up and no frame was heard since */
};

/* What a node's rule keeps beyond struct lw_rule_state, allocated only when the rule needs it:
 * most node/rule pairs have neither, and 1,000 nodes must fit in a few MB. */
struct ext {
    struct ext *next;
    uint32_t hash;
    uint16_t node;
    char rule[LW_NAME_MAX];
    struct lw_rule_hist *hist;
    struct lw_waterfilter *filter;
    struct lw_rule_hist *pin_hist; /* a pinned mean: the history on the pinned calibration */
    int64_t primed_ms; /* newest reading replayed at start-up (lw_rules_prime); 0: none */
};

struct lw_rules {
    struct ext **ext; /* hash table, chained */
    size_t n_ext, cap_ext;
    struct coinc *coinc;
    size_t n_coinc, cap_coinc;
    struct gw_rule *gw;
    size_t n_gw;
    bool radio_fault;
    bool heard_frame; /* a frame was accepted (or there is nobody to hear) since the start */
    int64_t heard_ms; /* latest frame from any node, or when watching began */
    struct lw_node_conf gateway;
};

struct lw_rules *lw_rules_new(void)
{
    return calloc(1, sizeof(struct lw_rules));
}

void lw_rules_free(struct lw_rules *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->cap_ext; i++)
        for (struct ext *x = e->ext[i], *next; x; x = next) {
            next = x->next;
            free(x->hist);
            free(x->filter);
            free(x->pin_hist);
            free(x);
        }
    free(e->ext);
    free(e->coinc);
    free(e->gw);
    free(e);
}

static uint32_t ext_hash(uint16_t node, const char *rule)
{
    uint32_t h = 2166136261u ^ node; /* FNV-1a */
    for (const char *c = rule; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    return h;
}

/* The extension of (node, rule); created when create is set (NULL when out of memory). Keyed by
 * names, not configuration pointers, so a reload finds it again. */
static struct ext *ext_get(struct lw_rules *e, uint16_t node, const char *rule, bool create)
{
    uint32_t h = ext_hash(node, rule);
    for (struct ext *x = e->cap_ext ? e->ext[h & (e->cap_ext - 1)] : NULL; x; x = x->next)
        if (x->hash == h && x->node == node && strcmp(x->rule, rule) == 0)
            return x;
    if (!create)
        return NULL;
    if (e->n_ext >= e->cap_ext) { /* grow: keep chains short */
        size_t cap = e->cap_ext ? 2 * e->cap_ext : 256;
        struct ext **t = calloc(cap, sizeof(*t));
        if (!t)
            return NULL;
        for (size_t i = 0; i < e->cap_ext; i++)
            for (struct ext *x = e->ext[i], *next; x; x = next) {
                next = x->next;
                x->next = t[x->hash & (cap - 1)];
                t[x->hash & (cap - 1)] = x;
            }
        free(e->ext);
        e->ext = t;
        e->cap_ext = cap;
    }
    struct ext *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->hash = h;
    x->node = node;
    snprintf(x->rule, sizeof(x->rule), "%s", rule);
    x->next = e->ext[h & (e->cap_ext - 1)];
    e->ext[h & (e->cap_ext - 1)] = x;
    e->n_ext++;
    return x;
}

const struct lw_waterfilter *lw_rules_filter(struct lw_rules *e, const struct lw_rule_conf *rule,
                                        const struct lw_node_conf *node)
{
    struct ext *x = ext_get(e, node->address, rule->name, false);
    return x ? x->filter : NULL;
}

/* The node's group under the rule: its building, or its first zone-* tag. Empty: none. */
static void coinc_group(const struct lw_rule_conf *rule, const struct lw_node_conf *node, char *out,
                        size_t cap)
{
    out[0] = '\0';
    if (rule->coincidence == LW_COINC_BUILDING) {
        snprintf(out, cap, "%s", node->building);
        return;
    }
    for (const char *s = node->tags; *s;) {
        while (*s == ',' || *s == ' ')
            s++;
        size_t l = strcspn(s, ", ");
        if (l > 5 && strncmp(s, "zone-", 5) == 0) {
            snprintf(out, cap, "%.*s", (int)l, s);
            return;
        }
        s += l;
    }
}

/* A device in alarm that has not reported for this long (EN 54-25's 300 s for a radio device
 * to be missed) agrees with nobody any more: its battery may have died mid-alarm. */
#define COINC_SILENT_MS 300000

/* Record the node's alarm state in its group; true when another node of the group agrees: in
 * alarm now, or in alarm within the coincidence window. Entries of nodes whose alarm is over and
 * older than the window, or that went silent in alarm, are dropped, so the table holds only
 * recent alarms. */
static bool coincide(struct lw_rules *e, const struct lw_rule_conf *rule,
                     const struct lw_node_conf *node, bool alarm, int64_t now_ms)
{
    char group[LW_NAME_MAX];
    coinc_group(rule, node, group, sizeof(group));
    if (!group[0])
        return false;
    bool agree = false;
    struct coinc *mine = NULL;
    for (size_t i = 0; i < e->n_coinc;) {
        struct coinc *c = &e->coinc[i];
        bool stale = now_ms - c->last_alarm_ms >
                     (int64_t)rule->coincidence_ms + (c->alarm ? COINC_SILENT_MS : 0);
        if (strcmp(c->rule, rule->name) != 0) {
            i++;
            continue;
        }
        if (c->node == node->address) {
            mine = c;
        } else if (stale) {
            *c = e->coinc[--e->n_coinc];
            continue;
        } else if (strcmp(c->group, group) == 0) {
            agree = true;
        }
        i++;
    }
    if (!mine && alarm) {
        if (e->n_coinc == e->cap_coinc) {
            size_t cap = e->cap_coinc ? 2 * e->cap_coinc : 8;
            struct coinc *a = realloc(e->coinc, cap * sizeof(*a));
            if (!a)
                return agree; /* out of memory: this alarm is not remembered for others */
            e->coinc = a;
            e->cap_coinc = cap;
        }
        mine = &e->coinc[e->n_coinc++];
        memset(mine, 0, sizeof(*mine));
        snprintf(mine->rule, sizeof(mine->rule), "%s", rule->name);
        mine->node = node->address;
    }
    if (mine) {
        snprintf(mine->group, sizeof(mine->group), "%s", group); /* a reload may move it */
        /* In alarm until now when this reading ends an alarm: the window counts from here. */
        if (alarm || mine->alarm)
            mine->last_alarm_ms = now_ms;
        mine->alarm = alarm;
        if (!alarm && now_ms - mine->last_alarm_ms > (int64_t)rule->coincidence_ms)
            *mine = e->coinc[--e->n_coinc]; /* nothing left to agree with */
    }
    return agree;
}

void lw_rules_restore_alarm(struct lw_rules *e, const struct lw_rule_conf *rule,
                            const struct lw_node_conf *node, int64_t now_ms)
{
    if (rule->coincidence != LW_COINC_NONE)
        (void)coincide(e, rule, node, true, now_ms);
}

void lw_rules_frame(struct lw_rules *e, int64_t now_ms)
{
    e->heard_frame = true;
    if (now_ms > e->heard_ms)
        e->heard_ms = now_ms;
}

void lw_rules_radio_input(struct lw_rules *e, bool fault, int64_t now_ms)
{
    (void)now_ms;
    e->radio_fault = fault;
}

/* ---- per reading ------------------------------------------------------------------------ */

uint16_t lw_water_calibrated(uint16_t raw_mm, uint32_t zero_mm)
{
    return raw_mm > zero_mm ? (uint16_t)(raw_mm - zero_mm) : 0;
}

/* A pinned alert or exceedance (lw_rules_recalibrated) ends only when the statistic on the
 * calibration it began under is under the threshold (clear level) too: the comparison takes the
 * higher of the two. v: the sample's depth on the current calibration; pin_v: the newest
 * sample's depth on the pinned one (NAN: not known; then the difference of the offsets stands
 * in, which is never lower). A mean is taken over the depths on the pinned calibration, kept
 * beside the rule's own history from the moment of the pin: one shallow reading does not end a
 * deep mean. */
static double pinned_cmp(struct lw_rules *e, const struct lw_rule_conf *rule,
                         const struct lw_node_conf *node, struct lw_rule_state *st, double cmp,
                         double v, double pin_v, int64_t t_ms, bool newest)
{
    if (!st->pinned)
        return cmp;
    double shift = (double)node->zero_offset_mm - (double)st->pin_zero_mm;
    double d = fabs(shift);
    double pv = newest && !isnan(pin_v) ? pin_v : rule->below ? v - d : v + d;
    double alt = cmp + d; /* the mean's fallback: never lower */
    if (rule->statistic == LW_STAT_MEAN) {
        struct ext *x = ext_get(e, node->address, rule->name, true);
        if (x && !x->pin_hist) /* pinned at start-up: the pinned mean starts from here */
            x->pin_hist = calloc(1, sizeof(*x->pin_hist));
        double m;
        if (x && x->pin_hist && lw_rule_statistic(rule, st, x->pin_hist, pv, t_ms, &m))
            alt = rule->below ? -m : m;
    } else {
        alt = rule->below ? -pv : pv;
    }
    return alt > cmp ? alt : cmp;
}

/* The exceedance or alert the pin was for is over: the next one lives on the new calibration. */
static void unpin(struct lw_rules *e, const struct lw_rule_conf *rule,
                  const struct lw_node_conf *node, struct lw_rule_state *st)
{
    st->pinned = false;
    struct ext *x = ext_get(e, node->address, rule->name, false);
    if (x) {
        free(x->pin_hist);
        x->pin_hist = NULL;
    }
}

/* Readings the filter held back and now passed on count as of their own times, in order: an
 * exceedance began with the first of them, not with the newest. The transition reported is the
 * net one (an alarm raised and over within held readings is not). unconfirmed: the filter could
 * not confirm them as water; an alert they raise says so. */
static enum lw_rule_event eval_samples(struct lw_rules *e, const struct lw_rule_conf *rule,
                                       const struct lw_node_conf *node, struct lw_rule_state *st,
                                       struct lw_rule_hist *h, const struct lw_sample *out,
                                       size_t n, bool unconfirmed, double pin_v, double *value)
{
    bool was_active = st->active, have = false;
    double s = 0, cmp = 0, pc = 0;
    int64_t t = 0;
    for (size_t i = 0; i < n; i++) {
        if (!lw_rule_statistic(rule, st, h, out[i].v, out[i].t_ms, &s))
            continue;
        have = true;
        t = out[i].t_ms;
        cmp = rule->below ? -s : s;
        pc = pinned_cmp(e, rule, node, st, cmp, out[i].v, pin_v, t, i + 1 == n);
        lw_rule_eval(rule, st, pc, t);
    }
    if (st->pinned && !st->active && !st->above)
        unpin(e, rule, node, st); /* cleared (or never raised): the next alert starts afresh */
    if (!have)
        return LW_RULE_NONE;
    enum lw_rule_event ev = st->active == was_active ? LW_RULE_NONE
                            : st->active             ? LW_RULE_RAISE
                                                     : LW_RULE_CLEAR;
    /* An exceedance pinned before its raise is raised (here or by the tick) on the depth that
     * made it, not on the smaller one the new zero shows. */
    bool pending_pin = st->pinned && (ev == LW_RULE_RAISE || !st->active) && pc > cmp;
    *value = st->last = pending_pin ? (rule->below ? -pc : pc) : s;
    if (ev == LW_RULE_RAISE)
        st->unconfirmed = unconfirmed;
    if (rule->coincidence != LW_COINC_NONE) {
        bool agree = coincide(e, rule, node, cmp >= rule->threshold, t);
        if (ev == LW_RULE_RAISE)
            st->confirmed = agree;
    }
    return ev;
}

static enum lw_rule_event threshold_reading(struct lw_rules *e, const struct lw_rule_conf *rule,
                                            const struct lw_node_conf *node,
                                            struct lw_rule_state *st, const struct lw_reading *r,
                                            int64_t now_ms, double *value)
{
    double v, pin_v = NAN;
    if (!lw_metric_value(rule->metric, r, &v))
        return LW_RULE_NONE;
    if (rule->metric == LW_METRIC_WATER) {
        /* Calibration here, not before: a pinned alert needs the depth on its own calibration
         * too, which the calibrated value no longer tells once it is cut at 0. */
        if (st->pinned)
            pin_v = lw_water_calibrated(r->water_mm, st->pin_zero_mm);
        /* A rate of rise on the depth not cut at 0: water under a zero set above it still
         * moves, and a slope must not depend on where the zero is (lw_rules_recalibrated). */
        v = rule->statistic == LW_STAT_RISE
                ? (double)r->water_mm - (double)node->zero_offset_mm
                : lw_water_calibrated(r->water_mm, node->zero_offset_mm);
    }
    int64_t t = now_ms;
    bool need_hist = rule->statistic == LW_STAT_MEAN || rule->statistic == LW_STAT_RISE ||
                     rule->statistic == LW_STAT_DAYS_LEFT;
    struct ext *x = NULL;
    if (need_hist || rule->filter == LW_WATERFILTER_FLOODNET) {
        x = ext_get(e, node->address, rule->name, true);
        if (x && need_hist && !x->hist)
            x->hist = calloc(1, sizeof(*x->hist));
        if (x && rule->filter == LW_WATERFILTER_FLOODNET && !x->filter)
            x->filter = calloc(1, sizeof(*x->filter));
        if (!x || (need_hist && !x->hist) || (rule->filter == LW_WATERFILTER_FLOODNET && !x->filter))
            return LW_RULE_NONE; /* out of memory: the rule cannot be evaluated now */
    }
    struct lw_rule_hist *h = x ? x->hist : NULL;
    struct lw_sample out[LW_WATERFILTER_HOLD + 1] = {{.t_ms = t, .v = v}};
    size_t n = 1;
    if (rule->filter == LW_WATERFILTER_FLOODNET) {
        const struct lw_waterfilter_conf fc = {
            .noise_floor = rule->noise_floor,
            .spike = rule->spike,
            .max_rise = rule->max_rise,
            .plateau_tol = rule->plateau_tol,
            .plateau_ms = rule->plateau_ms,
        };
        if (lw_waterfilter_feed(&fc, x->filter, v, now_ms, out, &n) != LW_FILT_PASS || n == 0)
            return LW_RULE_NONE;
    }
    return eval_samples(e, rule, node, st, h, out, n, x && x->filter && x->filter->unconfirmed,
                        pin_v, value);
}

void lw_rules_recalibrated(struct lw_rules *e, const struct lw_rule_conf *rule,
                           const struct lw_node_conf *node, struct lw_rule_state *st,
                           uint32_t old_zero_mm)
{
    if (rule->type != LW_RULE_THRESHOLD || rule->metric != LW_METRIC_WATER ||
        old_zero_mm == node->zero_offset_mm)
        return;
    /* The same water reads this much more (less, when negative) from now on. */
    double shift = (double)old_zero_mm - (double)node->zero_offset_mm;
    bool level = rule->statistic == LW_STAT_VALUE || rule->statistic == LW_STAT_MEAN;
    bool rise = rule->statistic == LW_STAT_RISE;
    struct ext *x = ext_get(e, node->address, rule->name, false);
    /* An open alert, or an exceedance still waiting out its persistence (calibrate --force), is
     * judged on the old calibration as well until it is over: a new zero is no fall of water. */
    bool pin = level && (st->active || st->above) && !st->pinned;
    if (pin && x) {
        free(x->pin_hist);
        x->pin_hist =
            x->hist && rule->statistic == LW_STAT_MEAN ? malloc(sizeof(*x->pin_hist)) : NULL;
        if (x->pin_hist)
            *x->pin_hist = *x->hist; /* still on the old calibration */
    }
    /* A rate of rise is moved without a cut at 0: a constant offset leaves a slope as it was,
     * whereas a history cut at 0 would read as water that stood still (a fake all-clear). */
    if (x && x->hist)
        for (unsigned i = 0; i < x->hist->n; i++) {
            float *v = &bucket(x->hist, i)->v;
            *v = rise || *v + shift > 0 ? (float)(*v + shift) : 0.0f;
        }
    if (x && x->filter) {
        struct lw_waterfilter *f = x->filter;
        f->level.v = f->level.v + shift > 0 ? f->level.v + shift : 0;
        for (unsigned i = 0; i < f->n_held; i++)
            f->held[i].v = f->held[i].v + shift > 0 ? f->held[i].v + shift : 0;
        f->plateau_v = f->plateau_v + shift > 0 ? f->plateau_v + shift : 0;
    }
    if (level) {
        /* A pinned exceedance keeps its latest value on the old zero: the tick raises on it. */
        if (!pin || st->active)
            st->last = st->last + shift > 0 ? st->last + shift : 0;
        if (pin) {
            st->pinned = true;
            st->pin_zero_mm = old_zero_mm;
        }
    }
}

bool lw_rule_primes(const struct lw_rule_conf *rule)
{
    return rule->type == LW_RULE_THRESHOLD &&
           (rule->statistic == LW_STAT_MEAN || rule->statistic == LW_STAT_RISE ||
            rule->statistic == LW_STAT_TWA || rule->statistic == LW_STAT_DAYS_LEFT ||
            rule->persistence_ms > 0);
}

uint64_t lw_rule_prime_span_ms(const struct lw_rule_conf *rule)
{
    if (!lw_rule_primes(rule))
        return 0;
    uint64_t w = rule->statistic == LW_STAT_VALUE ? 0 : rule->window_ms;
    return rule->persistence_ms > w ? rule->persistence_ms : w;
}

void lw_rules_prime(struct lw_rules *e, const struct lw_rule_conf *rule,
                    const struct lw_node_conf *node, struct lw_rule_state *st,
                    const struct lw_reading *r, int64_t t_ms)
{
    /* A pinned alert (recalibrated while open) keeps its own comparison from the restart on. */
    if (!lw_rule_primes(rule) || st->pinned)
        return;
    struct lw_rule_state was = *st;
    double v;
    (void)threshold_reading(e, rule, node, st, r, t_ms, &v);
    /* Alerts come back from their own records, never from a replay: a raise the replay implies
     * stays an exceedance (above, since when) that the first real evaluation raises, and a
     * restored alert is cleared only by real readings. */
    st->active = was.active;
    st->confirmed = was.confirmed;
    st->unconfirmed = was.unconfirmed;
    if (was.active)
        st->last = was.last;
    struct ext *x = ext_get(e, node->address, rule->name, true);
    if (x && t_ms > x->primed_ms)
        x->primed_ms = t_ms;
}

/* The first real reading after a replay: one older than the replayed ones means the rule clock
 * began again (a simulator restarted its virtual time), so the replay belongs to another time
 * line and is forgotten; the rule starts from nothing, as without it. */
static void end_priming(struct lw_rules *e, const struct lw_rule_conf *rule,
                        const struct lw_node_conf *node, struct lw_rule_state *st, int64_t now_ms)
{
    struct ext *x = ext_get(e, node->address, rule->name, false);
    if (!x || !x->primed_ms)
        return;
    if (now_ms < x->primed_ms) {
        free(x->hist);
        x->hist = NULL;
        if (x->filter)
            memset(x->filter, 0, sizeof(*x->filter));
        st->twa = 0;
        st->twa_ms = 0;
        st->above = false;
        st->above_since_ms = 0;
    }
    x->primed_ms = 0;
}

enum lw_rule_event lw_rules_reading(struct lw_rules *e, const struct lw_rule_conf *rule,
                                    const struct lw_node_conf *node, struct lw_rule_state *st,
                                    const struct lw_reading *r, int64_t now_ms, double *value)
{
    *value = 0;
    lw_rules_frame(e, now_ms);
    switch (rule->type) {
    case LW_RULE_THRESHOLD:
        end_priming(e, rule, node, st, now_ms);
        return threshold_reading(e, rule, node, st, r, now_ms, value);
    case LW_RULE_SILENCE: {
        int64_t gap = st->heard_ms && now_ms > st->heard_ms ? now_ms - st->heard_ms : 0;
        if (now_ms > st->heard_ms)
            st->heard_ms = now_ms;
        *value = (double)gap / 1000.0;
        if (!st->active)
            return LW_RULE_NONE;
        st->active = false;
        return LW_RULE_CLEAR;
    }
    case LW_RULE_FLAG: {
        static const uint8_t bits[] = {
            [LW_FLAGBIT_FAULT] = LW_FLAG_FAULT,
            [LW_FLAGBIT_TAMPER] = LW_FLAG_TAMPER,
            [LW_FLAGBIT_LOW_BATTERY] = LW_FLAG_LOW_BATT,
        };
        if (!(r->present & LW_R_FLAGS) || rule->flag == LW_FLAGBIT_NONE ||
            (size_t)rule->flag >= sizeof(bits))
            return LW_RULE_NONE; /* no flags in this frame: nothing known either way */
        double x = (r->flags & bits[rule->flag]) ? 1 : 0;
        *value = x;
        enum lw_rule_event ev = lw_rule_eval(rule, st, x, now_ms);
        if (rule->coincidence != LW_COINC_NONE) {
            bool agree = coincide(e, rule, node, x >= rule->threshold, now_ms);
            if (ev == LW_RULE_RAISE)
                st->confirmed = agree;
        }
        return ev;
    }
    case LW_RULE_RADIO_FAULT:
    case LW_RULE_STORAGE:
    case LW_RULE_TYPE_COUNT:
        break;
    }
    return LW_RULE_NONE;
}

/* ---- periodic ---------------------------------------------------------------------------- */

bool lw_rule_timed(const struct lw_rule_conf *rule)
{
    return rule->type == LW_RULE_SILENCE ||
           (rule->type == LW_RULE_THRESHOLD &&
            (rule->persistence_ms > 0 || rule->filter == LW_WATERFILTER_FLOODNET));
}

int64_t lw_rule_due(const struct lw_rule_conf *rule, const struct lw_rule_state *st)
{
    if (!lw_rule_timed(rule) || st->active)
        return INT64_MAX;
    if (rule->type == LW_RULE_THRESHOLD)
        return st->above && rule->persistence_ms
                   ? st->above_since_ms + (int64_t)rule->persistence_ms
                   : INT64_MAX;
    return st->heard_ms ? st->heard_ms + (int64_t)rule->timeout_ms : 0;
}

enum lw_rule_event lw_rule_tick(const struct lw_rule_conf *rule, struct lw_rule_state *st,
                                int64_t now_ms, double *value)
{
    *value = 0;
    if (rule->type == LW_RULE_THRESHOLD) {
        /* Persistence ends between readings: the latest one is still over the threshold and
         * nothing has said otherwise since, so the alarm does not wait for the next report (or
         * for ever, when the sensor went quiet under water). */
        double cmp = rule->below ? -st->last : st->last; /* a reload may have moved the line */
        if (st->active || !st->above || rule->persistence_ms == 0 || cmp < rule->threshold ||
            now_ms - st->above_since_ms < (int64_t)rule->persistence_ms)
            return LW_RULE_NONE;
        st->active = true;
        st->confirmed = false; /* no second device is consulted here */
        st->unconfirmed = false;
        *value = st->last;
        return LW_RULE_RAISE;
    }
    if (rule->type != LW_RULE_SILENCE)
        return LW_RULE_NONE;
    if (!st->heard_ms) { /* never heard since start: the silence counts from now */
        st->heard_ms = now_ms;
        return LW_RULE_NONE;
    }
    int64_t gap = now_ms - st->heard_ms;
    if (st->active || gap < 0 || (uint64_t)gap < rule->timeout_ms)
        return LW_RULE_NONE;
    st->active = true;
    *value = (double)gap / 1000.0;
    return LW_RULE_RAISE;
}

static struct gw_rule *gw_get(struct lw_rules *e, const char *rule, bool create)
{
    for (size_t i = 0; i < e->n_gw; i++)
        if (strcmp(e->gw[i].rule, rule) == 0)
            return &e->gw[i];
    if (!create)
        return NULL;
    struct gw_rule *a = realloc(e->gw, (e->n_gw + 1) * sizeof(*a));
    if (!a)
        return NULL;
    e->gw = a;
    struct gw_rule *g = &e->gw[e->n_gw++];
    memset(g, 0, sizeof(*g));
    snprintf(g->rule, sizeof(g->rule), "%s", rule);
    return g;
}

struct lw_rule_state *lw_rules_gateway_state(struct lw_rules *e, const char *rule)
{
    struct gw_rule *g = gw_get(e, rule, false);
    return g ? &g->st : NULL;
}

bool lw_rules_gateway_restore(struct lw_rules *e, const char *rule, int64_t alert_id,
                              int64_t raised_ms, enum lw_level level)
{
    struct gw_rule *g = gw_get(e, rule, true);
    if (!g)
        return false;
    g->st.active = true;
    g->st.alert_id = alert_id;
    g->st.raised_ms = raised_ms;
    g->st.level = level;
    g->restored = true;
    return true;
}

int64_t lw_rules_node_due(struct lw_rules *e, const struct lw_rule_conf *rule,
                          const struct lw_node_conf *node, const struct lw_rule_state *st)
{
    int64_t due = lw_rule_due(rule, st);
    if (rule->type == LW_RULE_THRESHOLD && rule->filter == LW_WATERFILTER_FLOODNET) {
        struct ext *x = ext_get(e, node->address, rule->name, false);
        int64_t r = x && x->filter ? lw_waterfilter_release_due(x->filter) : INT64_MAX;
        if (x && x->filter && x->filter->n_held)
            due = r; /* the tick waits for what is held */
        else if (r < due)
            due = r; /* a rise dropped as too fast, then silence */
    }
    return due;
}

enum lw_rule_event lw_rules_node_tick(struct lw_rules *e, const struct lw_rule_conf *rule,
                                      const struct lw_node_conf *node, struct lw_rule_state *st,
                                      int64_t now_ms, double *value)
{
    *value = 0;
    if (rule->type == LW_RULE_THRESHOLD) {
        /* An exceedance found by the start-up replay waits for the node's first real reading:
         * the readings the daemon missed while it was down may have said otherwise. */
        struct ext *px = ext_get(e, node->address, rule->name, false);
        if (px && px->primed_ms)
            return LW_RULE_NONE;
    }
    if (rule->type == LW_RULE_THRESHOLD && rule->filter == LW_WATERFILTER_FLOODNET) {
        struct ext *x = ext_get(e, node->address, rule->name, false);
        struct lw_sample out[LW_WATERFILTER_HOLD + 1];
        size_t n = x && x->filter ? lw_waterfilter_release(x->filter, now_ms, out) : 0;
        if (n) {
            enum lw_rule_event ev = eval_samples(e, rule, node, st, x->hist, out, n,
                                                 x->filter->unconfirmed, NAN, value);
            if (ev != LW_RULE_NONE)
                return ev;
        }
        /* A newer reading is held (a drop, perhaps): the next reading decides, not the tick. */
        if (x && x->filter && x->filter->n_held)
            return LW_RULE_NONE;
        enum lw_rule_event ev = lw_rule_tick(rule, st, now_ms, value);
        if (ev == LW_RULE_RAISE) /* on the latest reading passed: as the filter judged it */
            st->unconfirmed = x && x->filter && x->filter->unconfirmed;
        return ev;
    }
    return lw_rule_tick(rule, st, now_ms, value);
}

enum lw_rule_event lw_rules_gateway_tick(struct lw_rules *e, const struct lw_rule_conf *rule,
                                         int64_t now_ms, struct lw_rule_state **stp, double *value)
{
    *value = 0;
    *stp = NULL;
    if (rule->type != LW_RULE_RADIO_FAULT)
        return LW_RULE_NONE;
    struct gw_rule *g = gw_get(e, rule->name, true);
    if (!g)
        return LW_RULE_NONE;
    struct lw_rule_state *st = &g->st;
    *stp = st;
    if (!e->heard_ms)
        e->heard_ms = now_ms; /* nothing heard since start: count from now */
    /* An alert found open at start-up stays until a frame is heard: the count starting afresh
     * is not an all-clear. */
    if (e->heard_frame || !st->active)
        g->restored = false;
    bool deaf =
        (rule->timeout_ms && now_ms - e->heard_ms >= (int64_t)rule->timeout_ms) || g->restored;
    *value = e->radio_fault || deaf ? 1 : 0;
    return lw_rule_eval(rule, st, *value, now_ms);
}

const struct lw_node_conf *lw_rules_gateway_node(struct lw_rules *e, const char *site)
{
    struct lw_node_conf *n = &e->gateway;
    snprintf(n->name, sizeof(n->name), "gateway");
    snprintf(n->label, sizeof(n->label), "Gateway radio");
    snprintf(n->place, sizeof(n->place), "%s 网关 / %s gateway", site, site);
    n->kind = LW_KIND_MULTI;
    return n;
}

/* ---- messages ---------------------------------------------------------------------------- */

enum lw_level lw_rule_raise_level(const struct lw_rule_conf *rule, const struct lw_rule_state *st)
{
    if (!st->confirmed || rule->level >= LW_LEVEL_RED)
        return rule->level;
    return (enum lw_level)(rule->level + 1);
}

const char *lw_rule_type_name(enum lw_rule_type t)
{
    static const char *const names[] = {"threshold", "silence", "flag", "radio_fault", "storage"};
    return t < LW_RULE_TYPE_COUNT ? names[t] : "?";
}

const char *lw_statistic_name(enum lw_statistic s)
{
    static const char *const names[] = {"value", "mean", "rise", "twa", "days_left"};
    return s < LW_STAT_COUNT ? names[s] : "?";
}

const char *lw_rule_flag_name(enum lw_flag_bit f)
{
    static const char *const names[] = {"none", "fault", "tamper", "low_battery"};
    return f <= LW_FLAGBIT_LOW_BATTERY ? names[f] : "?";
}

/* Rules of the other types watch no metric of the node: the configuration gives them
 * battery_mv only as a placeholder, which must never reach a message. */
const char *lw_rule_value_metric(const struct lw_rule_conf *rule)
{
    switch (rule->type) {
    case LW_RULE_SILENCE:
        return "silent_s";
    case LW_RULE_FLAG:
        return "flags";
    case LW_RULE_RADIO_FAULT:
        return "radio_fault";
    case LW_RULE_STORAGE:
        return "storage";
    default:
        return lw_metric_name(rule->metric);
    }
}

double lw_rule_value_threshold(const struct lw_rule_conf *rule, bool clear)
{
    if (rule->type == LW_RULE_SILENCE) /* the timeout; heard again (0 s) clears */
        return clear ? 0 : (double)rule->timeout_ms / 1000.0;
    double v = clear ? rule->clear : rule->threshold;
    return rule->below ? -v : v;
}

const char *lw_rule_value_unit(const struct lw_rule_conf *rule)
{
    static const char *const rise_units[] = {"mm/min",  "/min",   "%/m/min", "%LEL/min",
                                             "ppm/min", "°C/min", "mV/min"};
    switch (rule->type) {
    case LW_RULE_THRESHOLD:
        if (rule->statistic == LW_STAT_RISE)
            return rule->metric < LW_METRIC_COUNT ? rise_units[rule->metric] : "";
        if (rule->statistic == LW_STAT_DAYS_LEFT)
            return "d";
        return lw_metric_unit(rule->metric);
    case LW_RULE_SILENCE:
        return "s";
    default:
        return "";
    }
}
