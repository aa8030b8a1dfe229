/* SPDX-License-Identifier: Apache-2.0 */
/* What a technician asks of a node beyond its last contact: frames lost (gaps in the stored frame
 * counters), battery days left (the days_left statistic of the battery rules, computed by the
 * rules layer over the stored readings) and the link hour by hour. Read-only on the store. */
#include "lw_nodectl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_rules.h"

/* A counter that jumps further than this, or goes back, started again (the node joined again,
 * after a rekey for instance): the gap says nothing about lost frames. */
#define LOSS_MAX_GAP 10000u
#define HOUR_MS      3600000LL

/* ---- frame loss -------------------------------------------------------------------------- */

static void loss_add(struct lw_nodectl_loss *l, const struct lw_store_link *k)
{
    if (l->received && k->fcnt == l->last_fcnt)
        return; /* the same frame stored twice (it cannot be, but is no loss either) */
    if (!l->received || k->fcnt < l->last_fcnt || k->fcnt - l->last_fcnt > LOSS_MAX_GAP) {
        if (l->received)
            l->restarts++;
        l->expected++;
    } else {
        l->expected += k->fcnt - l->last_fcnt;
    }
    l->received++;
    l->last_fcnt = k->fcnt;
}

static void on_loss(void *arg, const struct lw_store_link *k)
{
    loss_add(arg, k);
}

int lw_nodectl_loss(struct lw_store *s, uint16_t node, int64_t since_ms, int64_t until_ms,
                    struct lw_nodectl_loss *out)
{
    memset(out, 0, sizeof(*out));
    return lw_store_each_link(s, node, since_ms, until_ms, on_loss, out);
}

void lw_nodectl_loss_json(cJSON *o, const struct lw_nodectl_loss *l, int64_t window_ms)
{
    cJSON *j = cJSON_AddObjectToObject(o, "loss");
    cJSON_AddNumberToObject(j, "window_s", (double)(window_ms / 1000));
    cJSON_AddNumberToObject(j, "received", (double)l->received);
    cJSON_AddNumberToObject(j, "expected", (double)l->expected);
    if (l->restarts)
        cJSON_AddNumberToObject(j, "counter_restarts", (double)l->restarts);
}

/* ---- battery days left ------------------------------------------------------------------- */

struct days {
    const struct lw_rule_conf *rule;
    struct lw_rule_state st;
    struct lw_rule_hist h;
    bool have;
    double left;
    int64_t first_ms, last_ms;
};

static void on_battery(void *arg, int64_t t_ms, const struct lw_reading *r)
{
    struct days *d = arg;
    double v, out;
    if (!lw_metric_value(d->rule->metric, r, &v))
        return;
    if (!d->first_ms)
        d->first_ms = t_ms;
    d->last_ms = t_ms;
    /* The statistic the rule itself raises on: the least-squares trend over its window. */
    if (lw_rule_statistic(d->rule, &d->st, &d->h, v, t_ms, &out)) {
        d->have = true;
        d->left = out;
    } else {
        d->have = false;
    }
}

int lw_nodectl_battery(const struct lw_config *cfg, struct lw_store *s,
                       const struct lw_node_conf *node, int64_t now_ms, cJSON *o)
{
    const struct lw_rule_conf *rule = NULL;
    for (size_t i = 0; i < cfg->n_rules && !rule; i++) {
        const struct lw_rule_conf *r = &cfg->rules[i];
        if (r->type == LW_RULE_THRESHOLD && r->statistic == LW_STAT_DAYS_LEFT &&
            r->metric == LW_METRIC_BATTERY && lw_rule_applies(r, node))
            rule = r;
    }
    if (!rule)
        return LW_OK; /* no battery trend rule applies: nothing is projected */
    struct days *d = calloc(1, sizeof(*d));
    if (!d)
        return LW_ERR_NOMEM;
    d->rule = rule;
    int64_t window = (int64_t)rule->window_ms;
    int rc = lw_store_each_recent(s, node->address, now_ms - window, window, on_battery, d);
    if (rc == LW_OK) {
        cJSON *j = cJSON_AddObjectToObject(o, "battery_trend");
        cJSON_AddStringToObject(j, "rule", rule->name);
        cJSON_AddNumberToObject(j, "window_s", (double)(window / 1000));
        cJSON_AddNumberToObject(j, "floor", rule->floor);
        cJSON_AddNumberToObject(j, "history_s", (double)((d->last_ms - d->first_ms) / 1000));
        if (d->have)
            cJSON_AddNumberToObject(j, "days_left", d->left);
    }
    free(d);
    return rc;
}

/* ---- link history ------------------------------------------------------------------------ */

struct hour {
    int64_t start_ms;
    struct lw_nodectl_loss loss;
    size_t n, cap;
    int16_t *rssi, *snr;
    uint8_t hops_min, hops_max;
};

struct link {
    int64_t tz_ms;
    struct hour *h;
    size_t n, cap;
    struct hour all;
    bool nomem;
};

static bool push(struct hour *h, const struct lw_store_link *k)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 16;
        int16_t *r = realloc(h->rssi, cap * sizeof(*r));
        if (r)
            h->rssi = r;
        int16_t *s = r ? realloc(h->snr, cap * sizeof(*s)) : NULL;
        if (!s)
            return false;
        h->snr = s;
        h->cap = cap;
    }
    if (!h->n || k->hops < h->hops_min)
        h->hops_min = k->hops;
    if (!h->n || k->hops > h->hops_max)
        h->hops_max = k->hops;
    h->rssi[h->n] = k->rssi_x10;
    h->snr[h->n] = k->snr_x10;
    h->n++;
    loss_add(&h->loss, k);
    return true;
}

static void on_link(void *arg, const struct lw_store_link *k)
{
    struct link *l = arg;
    if (l->nomem || k->rssi_x10 == INT16_MIN || k->snr_x10 == INT16_MIN)
        return;
    /* Hours of local time, as the rollups count them. */
    int64_t local = k->t_ms + l->tz_ms;
    int64_t start = local - ((local % HOUR_MS) + HOUR_MS) % HOUR_MS - l->tz_ms;
    if (!l->n || l->h[l->n - 1].start_ms != start) {
        if (l->n == l->cap) {
            size_t cap = l->cap ? 2 * l->cap : 32;
            struct hour *h = realloc(l->h, cap * sizeof(*h));
            if (!h) {
                l->nomem = true;
                return;
            }
            l->h = h;
            l->cap = cap;
        }
        l->h[l->n++] = (struct hour){.start_ms = start};
    }
    if (!push(&l->h[l->n - 1], k) || !push(&l->all, k))
        l->nomem = true;
}

static int cmp16(const void *a, const void *b)
{
    return *(const int16_t *)a - *(const int16_t *)b;
}

/* [min, median, max] in natural units (the median of an even count: the mean of the middle two). */
static void spread(cJSON *o, const char *name, int16_t *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp16);
    double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
    cJSON *a = cJSON_AddArrayToObject(o, name);
    cJSON_AddItemToArray(a, cJSON_CreateNumber(v[0] / 10.0));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(round(med) / 10.0));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(v[n - 1] / 10.0));
}

static cJSON *hour_json(const struct hour *h, bool with_start)
{
    cJSON *o = cJSON_CreateObject();
    if (with_start)
        cJSON_AddNumberToObject(o, "t_ms", (double)h->start_ms);
    cJSON_AddNumberToObject(o, "received", (double)h->loss.received);
    cJSON_AddNumberToObject(o, "expected", (double)h->loss.expected);
    spread(o, "rssi", h->rssi, h->n);
    spread(o, "snr", h->snr, h->n);
    cJSON_AddNumberToObject(o, "hops_min", h->hops_min);
    cJSON_AddNumberToObject(o, "hops_max", h->hops_max);
    return o;
}

int lw_nodectl_link(struct lw_store *s, uint16_t node, int64_t since_ms, int64_t until_ms,
                    bool hours, cJSON *o)
{
    struct link l = {.tz_ms = lw_store_tz_offset_ms()};
    int rc = lw_store_each_link(s, node, since_ms, until_ms, on_link, &l);
    if (rc == LW_OK && l.nomem)
        rc = LW_ERR_NOMEM;
    if (rc == LW_OK) {
        cJSON *j = cJSON_AddObjectToObject(o, "link_history");
        cJSON_AddNumberToObject(j, "since_ms", (double)since_ms);
        cJSON_AddNumberToObject(j, "until_ms", (double)until_ms);
        if (l.all.n)
            cJSON_AddItemToObject(j, "overall", hour_json(&l.all, false));
        if (hours) {
            cJSON *arr = cJSON_AddArrayToObject(j, "hours");
            for (size_t i = 0; i < l.n; i++)
                cJSON_AddItemToArray(arr, hour_json(&l.h[i], true));
        }
    }
    for (size_t i = 0; i < l.n; i++) {
        free(l.h[i].rssi);
        free(l.h[i].snr);
    }
    free(l.h);
    free(l.all.rssi);
    free(l.all.snr);
    return rc;
}
