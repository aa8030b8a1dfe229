/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration loading: INI parsing through lw_ini against the key tables (lw_config_keys.c),
 * defaults and cross-checks. */
#include "lw_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lw_airtime.h"
#include "lw_config_int.h"
#include "lw_error.h"
#include "lw_ini.h"
#include "lw_parse.h"
#include "lw_presets.h"
#include "lw_reading.h"
#include "lw_roster.h"

/* Metric limits: the TLV ranges, so a rule can never name an impossible value. */
static const double metric_min[] = {0, 0, 0, 0, 0, -3276.8, 0};
static const double metric_max[] = {65535, 1, 655.35, 100, 65535, 3276.7, 65535};
static const uint32_t metric_kinds[] = {
    1u << LW_KIND_WATER | 1u << LW_KIND_MULTI,
    1u << LW_KIND_SMOKE | 1u << LW_KIND_MULTI,
    1u << LW_KIND_SMOKE | 1u << LW_KIND_MULTI,
    1u << LW_KIND_GAS | 1u << LW_KIND_MULTI,
    1u << LW_KIND_CO | 1u << LW_KIND_MULTI,
    (1u << LW_KIND_COUNT) - 1,
    (1u << LW_KIND_COUNT) - 1,
};
static const enum lw_hazard metric_hazard[] = {LW_HAZARD_FLOOD,  LW_HAZARD_FIRE, LW_HAZARD_FIRE,
                                               LW_HAZARD_GAS,    LW_HAZARD_GAS,  LW_HAZARD_FIRE,
                                               LW_HAZARD_TROUBLE};

/* ---- parse state ------------------------------------------------------------------------ */

struct parse {
    struct lw_config *cfg;
    const char *file;
    lw_config_error_fn err;
    void *err_arg;
    int errors;
    int scalar_line[N_SCALAR];
    int (*node_line)[N_NODE];     /* per node: where each key was set */
    int (*rule_line)[N_RULE + 1]; /* per rule; last slot: direction */
    bool *rule_below;
    bool *node_bad; /* a value failed to parse: skip cross-checks that would repeat it */
    bool *rule_bad;
    /* The section the pairs now belong to, decided at its header. */
    enum { SEC_NONE, SEC_SCALAR, SEC_NODE, SEC_RULE, SEC_DUTY, SEC_BAD } cur;
    size_t cur_index;
};

/* Longest node or rule id: "node:" plus the id must fit inih's section buffer. */
#define ID_MAX (LW_INI_MAX_SECTION - 5)

/* Line where a scalar key was set (0 when defaulted), for messages about cross-checks. */
static int sline(const struct parse *p, const char *name)
{
    for (size_t i = 0; i < N_SCALAR; i++)
        if (strcmp(lw_config_scalar_keys[i].name, name) == 0)
            return p->scalar_line[i];
    return 0;
}

static void report(struct parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(struct parse *p, int line, const char *fmt, ...)
{
    char msg[512], full[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(full, sizeof(full), "%s:%d: %s", p->file, line, msg);
    else
        snprintf(full, sizeof(full), "%s: %s", p->file, msg);
    p->errors++;
    if (p->err)
        p->err(p->err_arg, full);
    else
        fprintf(stderr, "%s\n", full);
}


static int choice_index(const char *const *choices, const char *v)
{
    for (int i = 0; choices[i]; i++)
        if (strcmp(choices[i], v) == 0)
            return i;
    return -1;
}

/* Store value into base per key k. On failure writes what is allowed into why. */
static int set_value(const struct key *k, void *base, const char *v, char *why, size_t whycap)
{
    char *field = (char *)base + k->off;
    char list[160];
    int rc;
    switch (k->type) {
    case KT_STR:
        if (strlen(v) >= k->size) {
            snprintf(why, whycap, "too long (at most %zu bytes)", k->size - 1);
            return LW_ERR_RANGE;
        }
        if (k->choices && choice_index(k->choices, v) < 0) {
            lw_config_choices_text(k->choices, list, sizeof(list));
            snprintf(why, whycap, "must be one of: %s", list);
            return LW_ERR_INVAL;
        }
        memcpy(field, v, strlen(v) + 1);
        return LW_OK;
    case KT_U32:
    case KT_U16: {
        uint32_t u;
        rc = lw_parse_u32(v, (uint32_t)k->min, (uint32_t)k->max, &u);
        if (rc != LW_OK) {
            snprintf(why, whycap, "must be an integer from %llu to %llu (decimal or 0x hex)",
                     (unsigned long long)k->min, (unsigned long long)k->max);
            return rc;
        }
        if (k->type == KT_U16) {
            uint16_t s = (uint16_t)u;
            memcpy(field, &s, sizeof(s));
        } else {
            memcpy(field, &u, sizeof(u));
        }
        return LW_OK;
    }
    case KT_DURATION: {
        uint64_t ms;
        rc = lw_parse_duration_ms(v, k->max, &ms);
        if (rc == LW_OK && ms < k->min)
            rc = LW_ERR_RANGE;
        if (rc != LW_OK) {
            snprintf(why, whycap,
                     "must be a duration from %llu ms to %llu s (units ms, s, m, h, d)",
                     (unsigned long long)k->min, (unsigned long long)(k->max / 1000));
            return rc;
        }
        memcpy(field, &ms, sizeof(ms));
        return LW_OK;
    }
    case KT_DOUBLE: {
        double d;
        rc = lw_parse_double(v, -1e9, 1e9, &d);
        if (rc != LW_OK) {
            snprintf(why, whycap, "must be a number");
            return rc;
        }
        memcpy(field, &d, sizeof(d));
        return LW_OK;
    }
    case KT_ENUM: {
        int i = choice_index(k->choices, v);
        if (i < 0) {
            lw_config_choices_text(k->choices, list, sizeof(list));
            snprintf(why, whycap, "must be one of: %s", list);
            return LW_ERR_INVAL;
        }
        memcpy(field, &i, sizeof(i));
        return LW_OK;
    }
    case KT_KINDS: {
        uint32_t mask = 0;
        char buf[LW_TEXT_MAX];
        if (strlen(v) >= sizeof(buf)) {
            snprintf(why, whycap, "too long");
            return LW_ERR_RANGE;
        }
        strcpy(buf, v);
        for (char *save, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
            int i = choice_index(lw_kind_names, t);
            if (i < 0) {
                lw_config_choices_text(lw_kind_names, list, sizeof(list));
                snprintf(why, whycap, "'%s' is not a node kind (%s)", t, list);
                return LW_ERR_INVAL;
            }
            mask |= 1u << i;
        }
        memcpy(field, &mask, sizeof(mask));
        return LW_OK;
    }
    case KT_HEX:
        rc = lw_parse_hex(v, (uint8_t *)field, k->size);
        if (rc != LW_OK) {
            snprintf(why, whycap, "must be exactly %zu hex digits", 2 * k->size);
            return rc;
        }
        return LW_OK;
    }
    return LW_ERR_INVAL;
}

static const struct key *find_key(const struct key *tab, size_t n, const char *name, size_t *idx)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tab[i].name, name) == 0) {
            *idx = i;
            return &tab[i];
        }
    return NULL;
}

static bool grow(void **arr, size_t n, size_t elem)
{
    void *a = realloc(*arr, (n + 1) * elem);
    if (!a)
        return false;
    *arr = a;
    memset((char *)a + n * elem, 0, elem);
    return true;
}

/* A [node:ID] or [rule:ID] header: start a new entry, refusing bad and repeated ids. */
static int new_entry(struct parse *p, int line, const char *section, const char *id, bool is_node)
{
    struct lw_config *c = p->cfg;
    size_t n = is_node ? c->n_nodes : c->n_rules;
    p->cur = SEC_BAD;
    if (strlen(id) == 0 || strlen(id) > ID_MAX ||
        strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
            strlen(id)) {
        report(p, line, "[%s]: name must be 1-%d letters, digits, '-', '_' or '.'", section,
               ID_MAX);
        return LW_ERR_CONFIG;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = is_node ? c->nodes[i].name : c->rules[i].name;
        if (strcmp(name, id) == 0) {
            report(p, line, "[%s]: section appears twice (first at line %d)", section,
                   is_node ? c->nodes[i].line : c->rules[i].line);
            return LW_ERR_CONFIG;
        }
    }
    bool ok = is_node ? grow((void **)&c->nodes, n, sizeof(*c->nodes)) &&
                            grow((void **)&p->node_line, n, sizeof(*p->node_line)) &&
                            grow((void **)&p->node_bad, n, sizeof(*p->node_bad))
                      : grow((void **)&c->rules, n, sizeof(*c->rules)) &&
                            grow((void **)&p->rule_line, n, sizeof(*p->rule_line)) &&
                            grow((void **)&p->rule_below, n, sizeof(*p->rule_below)) &&
                            grow((void **)&p->rule_bad, n, sizeof(*p->rule_bad));
    if (!ok) {
        report(p, line, "out of memory");
        return LW_ERR_NOMEM;
    }
    if (is_node) {
        strcpy(c->nodes[n].name, id);
        c->nodes[n].line = line;
        c->n_nodes++;
    } else {
        strcpy(c->rules[n].name, id);
        c->rules[n].line = line;
        c->n_rules++;
    }
    p->cur = is_node ? SEC_NODE : SEC_RULE;
    p->cur_index = n;
    return LW_OK;
}

static int on_section(void *user, int line, const char *section)
{
    struct parse *p = user;
    if (strncmp(section, "node:", 5) == 0)
        return new_entry(p, line, section, section + 5, true);
    if (strncmp(section, "rule:", 5) == 0)
        return new_entry(p, line, section, section + 5, false);
    if (strncmp(section, "duty:", 5) == 0) {
        p->cur = SEC_DUTY; /* the duty roster's own parser reads these (lw_roster.c) */
        return LW_OK;
    }
    for (size_t j = 0; j < N_SCALAR; j++)
        if (strcmp(lw_config_scalar_keys[j].section, section) == 0) {
            p->cur = SEC_SCALAR;
            return LW_OK;
        }
    p->cur = SEC_BAD;
    report(p, line,
           "[%s]: unknown section (expected gateway, radio, mesh, mqtt, storage, alerts, node:NAME, "
           "rule:NAME or duty:ID)",
           section);
    return LW_ERR_CONFIG;
}

static int on_pair(void *user, int line, const char *section, const char *name, const char *value)
{
    struct parse *p = user;
    char why[256];
    const struct key *k = NULL;
    size_t idx = 0, i = p->cur_index;
    void *base = p->cfg;
    int *seen = NULL;
    bool *bad = NULL;

    switch (p->cur) {
    case SEC_NONE:
        report(p, line, "%s: key outside any [section]", name);
        return LW_ERR_CONFIG;
    case SEC_DUTY:
        return LW_OK;
    case SEC_BAD:
        return LW_ERR_CONFIG; /* the header was reported; its keys would only repeat it */
    case SEC_NODE:
        k = find_key(lw_config_node_keys, N_NODE, name, &idx);
        base = &p->cfg->nodes[i];
        if (k)
            seen = &p->node_line[i][idx];
        bad = &p->node_bad[i];
        break;
    case SEC_RULE:
        if (strcmp(name, "direction") == 0) {
            if (p->rule_line[i][N_RULE]) {
                report(p, line, "[%s] direction: set twice (first at line %d)", section,
                       p->rule_line[i][N_RULE]);
                return LW_ERR_CONFIG;
            }
            p->rule_line[i][N_RULE] = line;
            int d = choice_index(lw_config_direction_names, value);
            if (d < 0) {
                report(p, line, "[%s] direction = %s: must be 'above' or 'below'", section, value);
                p->rule_bad[i] = true;
                return LW_ERR_CONFIG;
            }
            p->rule_below[i] = d == 1;
            return LW_OK;
        }
        k = find_key(lw_config_rule_keys, N_RULE, name, &idx);
        base = &p->cfg->rules[i];
        if (k)
            seen = &p->rule_line[i][idx];
        bad = &p->rule_bad[i];
        break;
    case SEC_SCALAR:
        for (idx = 0; idx < N_SCALAR; idx++)
            if (strcmp(lw_config_scalar_keys[idx].section, section) == 0 &&
                strcmp(lw_config_scalar_keys[idx].name, name) == 0) {
                k = &lw_config_scalar_keys[idx];
                seen = &p->scalar_line[idx];
                break;
            }
        break;
    }
    if (!k) {
        report(p, line, "[%s] %s: unknown key (lorawatchd --help-config lists them)", section,
               name);
        return LW_ERR_CONFIG;
    }
    if (*seen) {
        report(p, line, "[%s] %s: set twice (first at line %d)", section, name, *seen);
        return LW_ERR_CONFIG;
    }
    *seen = line;
    if (set_value(k, base, value, why, sizeof(why)) != LW_OK) {
        /* Keys and passwords are never echoed back. */
        bool secret = strcmp(name, "key") == 0 || strcmp(name, "password") == 0;
        report(p, line, "[%s] %s = %s: %s", section, name, secret ? "(hidden)" : value, why);
        if (bad)
            *bad = true;
        else
            set_value(k, base, k->def, why, sizeof(why)); /* later checks see a sane value */
        return LW_ERR_CONFIG;
    }
    return LW_OK;
}

static void on_syntax(void *user, int line, const char *why)
{
    report(user, line, "%s", why);
}

static void apply_defaults(struct parse *p)
{
    char why[256];
    for (size_t i = 0; i < N_SCALAR; i++)
        if (!p->scalar_line[i] &&
            set_value(&lw_config_scalar_keys[i], p->cfg, lw_config_scalar_keys[i].def, why,
                      sizeof(why)) != LW_OK)
            report(p, 0, "internal: bad default for %s: %s", lw_config_scalar_keys[i].name, why);
}

static void validate_nodes(struct parse *p)
{
    struct lw_config *c = p->cfg;
    char why[256];
    for (size_t i = 0; i < c->n_nodes; i++) {
        struct lw_node_conf *n = &c->nodes[i];
        for (size_t k = 0; k < N_NODE; k++) {
            if (p->node_line[i][k])
                continue;
            if (!lw_config_node_keys[k].def)
                report(p, n->line, "[node:%s]: missing required key '%s' (%s)", n->name,
                       lw_config_node_keys[k].name, lw_config_node_keys[k].help);
            else
                set_value(&lw_config_node_keys[k], n, lw_config_node_keys[k].def, why, sizeof(why));
        }
        /* A [node:] section is a personalised node: one key both ways, always in session. */
        memcpy(n->key_down, n->key, LW_KEY_LEN);
        n->has_session = true;
        n->from_config = true;
        n->state = LW_NODE_ACTIVE;
        if (p->node_bad[i])
            continue; /* its bad value was reported; comparing it would only repeat that */
        if (p->node_line[i][2] && lw_all_zero(n->key, sizeof(n->key)))
            report(p, p->node_line[i][2], "[node:%s] key: an all-zero key is not a key", n->name);
        for (size_t j = 0; j < i; j++) {
            const struct lw_node_conf *o = &c->nodes[j];
            if (p->node_bad[j])
                continue;
            if (p->node_line[i][0] && p->node_line[j][0] && o->address == n->address)
                report(p, p->node_line[i][0],
                       "[node:%s] address = 0x%04X: already used by "
                       "node '%s' (line %d)",
                       n->name, n->address, o->name, p->node_line[j][0]);
            if (p->node_line[i][1] && p->node_line[j][1] && !memcmp(o->eui, n->eui, 8))
                report(p, p->node_line[i][1], "[node:%s] eui: already used by node '%s' (line %d)",
                       n->name, o->name, p->node_line[j][1]);
            if (p->node_line[i][2] && p->node_line[j][2] && !memcmp(o->key, n->key, LW_KEY_LEN))
                report(p, p->node_line[i][2],
                       "[node:%s] key: same key as node '%s' (line %d); every node needs its own",
                       n->name, o->name, p->node_line[j][2]);
        }
    }
}

/* Keys that mean something only for some rule types: set elsewhere they are a mistake. */
static const struct {
    int key;
    uint32_t types; /* bit per enum lw_rule_type */
} rule_key_types[] = {
    {RK_METRIC, 1u << LW_RULE_THRESHOLD},
    {RK_THRESHOLD, 1u << LW_RULE_THRESHOLD},
    {RK_CLEAR, 1u << LW_RULE_THRESHOLD},
    {RK_STAT, 1u << LW_RULE_THRESHOLD},
    {RK_WINDOW, 1u << LW_RULE_THRESHOLD},
    {RK_EXPONENT, 1u << LW_RULE_THRESHOLD},
    {RK_FLOOR, 1u << LW_RULE_THRESHOLD},
    {RK_FILTER, 1u << LW_RULE_THRESHOLD},
    {RK_NOISE, 1u << LW_RULE_THRESHOLD},
    {RK_SPIKE, 1u << LW_RULE_THRESHOLD},
    {RK_MAXRISE, 1u << LW_RULE_THRESHOLD},
    {RK_PTOL, 1u << LW_RULE_THRESHOLD},
    {RK_PTIME, 1u << LW_RULE_THRESHOLD},
    {RK_COINC, 1u << LW_RULE_THRESHOLD | 1u << LW_RULE_FLAG},
    {RK_CWINDOW, 1u << LW_RULE_THRESHOLD | 1u << LW_RULE_FLAG},
    {RK_TIMEOUT, 1u << LW_RULE_SILENCE | 1u << LW_RULE_RADIO_FAULT},
    {RK_FLAG, 1u << LW_RULE_FLAG},
    {RK_KINDS, 1u << LW_RULE_THRESHOLD | 1u << LW_RULE_SILENCE | 1u << LW_RULE_FLAG},
    {RK_TAGS, 1u << LW_RULE_THRESHOLD | 1u << LW_RULE_SILENCE | 1u << LW_RULE_FLAG},
    {RK_EXCEPT, 1u << LW_RULE_THRESHOLD | 1u << LW_RULE_SILENCE | 1u << LW_RULE_FLAG},
};

/* A double key of rule r must lie in [lo, hi]. */
static void rule_range(struct parse *p, size_t i, int key, double v, double lo, double hi,
                       const char *unit)
{
    if (v < lo || v > hi)
        report(p, p->rule_line[i][key] ? p->rule_line[i][key] : p->cfg->rules[i].line,
               "[rule:%s] %s = %g: must be in %g..%g%s", p->cfg->rules[i].name,
               lw_config_rule_keys[key].name, v, lo, hi, unit);
}

/* Threshold rules: metric, threshold and clear with hysteresis, statistic and filter options. */
static void validate_threshold_rule(struct parse *p, size_t i)
{
    struct lw_rule_conf *r = &p->cfg->rules[i];
    const int *line = p->rule_line[i];
    /* Defaults that follow from the metric. */
    if (!line[RK_HAZARD])
        r->hazard = metric_hazard[r->metric];
    if (!line[RK_KINDS])
        r->kinds = metric_kinds[r->metric];
    double lo = metric_min[r->metric], hi = metric_max[r->metric];
    const char *unit = "";
    if (r->statistic == LW_STAT_RISE) {
        lo = -hi; /* a rate per minute: at most the whole range in a minute */
        unit = " per minute";
    } else if (r->statistic == LW_STAT_DAYS_LEFT) {
        lo = 0;
        hi = 36500;
        unit = " days";
    }
    if (r->threshold < lo || r->threshold > hi)
        report(p, line[RK_THRESHOLD], "[rule:%s] threshold = %g: %s must be in %g..%g%s", r->name,
               r->threshold, lw_metric_name(r->metric), lo, hi, unit);
    if (r->clear < lo || r->clear > hi)
        report(p, line[RK_CLEAR], "[rule:%s] clear = %g: %s must be in %g..%g%s", r->name,
               r->clear, lw_metric_name(r->metric), lo, hi, unit);
    bool below = p->rule_below[i];
    if (!below && r->clear >= r->threshold)
        report(p, line[RK_CLEAR],
               "[rule:%s] clear = %g: must be below threshold %g for a rising rule", r->name,
               r->clear, r->threshold);
    if (below && r->clear <= r->threshold)
        report(p, line[RK_CLEAR],
               "[rule:%s] clear = %g: must be above threshold %g for a 'below' rule", r->name,
               r->clear, r->threshold);
    if (below) {
        /* A falling rule is a rising rule on the negated value: one evaluator for both. */
        r->below = true;
        r->threshold = -r->threshold;
        r->clear = -r->clear;
    }
    if ((r->kinds & metric_kinds[r->metric]) == 0)
        report(p, r->line, "[rule:%s]: no node kind in 'kinds' reports %s", r->name,
               lw_metric_name(r->metric));
    if (r->statistic != LW_STAT_VALUE && r->window_ms == 0)
        report(p, line[RK_STAT] ? line[RK_STAT] : r->line,
               "[rule:%s] statistic = %s: needs a window", r->name,
               lw_config_statistic_names[r->statistic]);
    if (r->statistic == LW_STAT_VALUE && line[RK_WINDOW])
        report(p, line[RK_WINDOW], "[rule:%s] window: only for statistic mean, rise, twa or "
               "days_left", r->name);
    if (r->statistic != LW_STAT_TWA && line[RK_EXPONENT])
        report(p, line[RK_EXPONENT], "[rule:%s] exponent: only for statistic = twa", r->name);
    rule_range(p, i, RK_EXPONENT, r->exponent, 1, 4, "");
    if (r->statistic == LW_STAT_DAYS_LEFT) {
        if (!below)
            report(p, line[RK_STAT], "[rule:%s] statistic = days_left: needs direction = below "
                   "(raise when few days are left)", r->name);
        rule_range(p, i, RK_FLOOR, r->floor, metric_min[r->metric], metric_max[r->metric],
                   lw_metric_unit(r->metric)[0] ? " (the metric's unit)" : "");
    } else if (line[RK_FLOOR]) {
        report(p, line[RK_FLOOR], "[rule:%s] floor: only for statistic = days_left", r->name);
    }
    if (r->filter == LW_WATERFILTER_FLOODNET && r->metric != LW_METRIC_WATER)
        report(p, line[RK_FILTER], "[rule:%s] filter = floodnet: only for metric water_mm",
               r->name);
    rule_range(p, i, RK_NOISE, r->noise_floor, 0, 1000, " mm");
    rule_range(p, i, RK_SPIKE, r->spike, 1, 65535, " mm");
    rule_range(p, i, RK_MAXRISE, r->max_rise, 1, 65535, " mm/min");
    rule_range(p, i, RK_PTOL, r->plateau_tol, 0, 1000, " mm");
    for (int k = RK_NOISE; k <= RK_PTIME; k++)
        if (line[k] && r->filter != LW_WATERFILTER_FLOODNET)
            report(p, line[k], "[rule:%s] %s: only with filter = floodnet (metric water_mm)",
                   r->name, lw_config_rule_keys[k].name);
}

static void validate_rules(struct parse *p)
{
    struct lw_config *c = p->cfg;
    char why[256];
    for (size_t i = 0; i < c->n_rules; i++) {
        struct lw_rule_conf *r = &c->rules[i];
        bool missing = false;
        for (size_t k = 0; k < N_RULE; k++) {
            if (p->rule_line[i][k])
                continue;
            /* metric, threshold and clear are required of threshold rules only. */
            bool required =
                !lw_config_rule_keys[k].def || (k <= RK_CLEAR && r->type == LW_RULE_THRESHOLD);
            if (required) {
                report(p, r->line, "[rule:%s]: missing required key '%s' (%s)", r->name,
                       lw_config_rule_keys[k].name, lw_config_rule_keys[k].help);
                missing = true;
            } else if (lw_config_rule_keys[k].def[0]) {
                set_value(&lw_config_rule_keys[k], r, lw_config_rule_keys[k].def, why, sizeof(why));
            }
        }
        if (missing || p->rule_bad[i])
            continue;
        for (size_t k = 0; k < sizeof(rule_key_types) / sizeof(rule_key_types[0]); k++) {
            int line = p->rule_line[i][rule_key_types[k].key];
            if (line && !(rule_key_types[k].types & (1u << r->type)))
                report(p, line, "[rule:%s] %s: not a key of type = %s rules", r->name,
                       lw_config_rule_keys[rule_key_types[k].key].name,
                       lw_config_rule_type_names[r->type]);
        }
        if (p->rule_line[i][N_RULE] && r->type != LW_RULE_THRESHOLD)
            report(p, p->rule_line[i][N_RULE], "[rule:%s] direction: not a key of type = %s rules",
                   r->name, lw_config_rule_type_names[r->type]);
        if (r->type == LW_RULE_THRESHOLD) {
            validate_threshold_rule(p, i);
            continue;
        }
        /* Trouble rules: a condition that holds (1) or not (0); reported as trouble. */
        r->metric = LW_METRIC_BATTERY;
        r->threshold = 1;
        r->clear = 0;
        r->filter = LW_WATERFILTER_NONE;
        if (!p->rule_line[i][RK_HAZARD])
            r->hazard = LW_HAZARD_TROUBLE;
        if (!p->rule_line[i][RK_KINDS])
            r->kinds = r->type == LW_RULE_RADIO_FAULT ? 0 : (1u << LW_KIND_COUNT) - 1;
        if (r->type == LW_RULE_SILENCE && r->timeout_ms == 0)
            report(p, p->rule_line[i][RK_TIMEOUT] ? p->rule_line[i][RK_TIMEOUT] : r->line,
                   "[rule:%s] timeout: a silence rule needs a timeout of at least 1 s", r->name);
        if (r->type == LW_RULE_SILENCE && r->timeout_ms > 0 && r->timeout_ms < 1000)
            report(p, p->rule_line[i][RK_TIMEOUT],
                   "[rule:%s] timeout: a silence rule needs a timeout of at least 1 s", r->name);
        if (r->type == LW_RULE_FLAG && r->flag == LW_FLAGBIT_NONE)
            report(p, p->rule_line[i][RK_FLAG] ? p->rule_line[i][RK_FLAG] : r->line,
                   "[rule:%s]: a flag rule needs flag = fault, tamper or low_battery", r->name);
    }
}

/* Board and region presets, pins and chip options of the sx127x/sx126x backends (lw_presets). */
static void validate_radio_chip(struct parse *p)
{
    struct lw_config *c = p->cfg;
    char names[160], why[200];
    const struct lw_board *b = NULL;
    if (c->radio_board[0] && !(b = lw_board_find(c->radio_board))) {
        lw_board_names(names, sizeof(names));
        report(p, sline(p, "board"), "[radio] board = %s: must be one of: %s", c->radio_board,
               names);
    }
    static const char *const choosers[] = {"backend", "board", "sim_listen", "sim_clock"};
    for (size_t i = 0; i < sizeof(choosers) / sizeof(choosers[0]) && !c->radio_chosen_line; i++)
        c->radio_chosen_line = sline(p, choosers[i]);
    if (b && !sline(p, "backend"))
        snprintf(c->radio_backend, sizeof(c->radio_backend), "%s", b->backend);
    else if (b && strcmp(b->backend, c->radio_backend) != 0)
        report(p, sline(p, "backend"), "[radio] backend = %s: board %s needs backend %s",
               c->radio_backend, b->name, b->backend);
    const struct lw_region *r = lw_region_find(c->radio_region);
    bool chip = strcmp(c->radio_backend, "sx127x") == 0 || strcmp(c->radio_backend, "sx126x") == 0;
    if (r && !sline(p, "frequency_hz"))
        c->frequency_hz = r->default_freq_hz;
    if (r && (sline(p, "region") || chip) &&
        (c->frequency_hz < r->freq_min_hz || c->frequency_hz > r->freq_max_hz))
        report(p, sline(p, "frequency_hz") ? sline(p, "frequency_hz") : sline(p, "region"),
               "[radio] frequency_hz = %u: outside the %s band (%u-%u Hz)", c->frequency_hz,
               r->name, r->freq_min_hz, r->freq_max_hz);
    if (r && r->duty_permille) {
        struct lw_lora_params lp;
        lw_lora_params_default(&lp);
        lp.sf = (uint8_t)c->spreading_factor;
        lp.bw_hz = c->bandwidth_hz;
        lp.cr = (uint8_t)(c->coding_rate - 4);
        lp.preamble = (uint16_t)c->preamble;
        size_t biggest = LW_FRAME_OVERHEAD + LW_READING_MAX_LEN;
        uint32_t us = lw_airtime_us(&lp, biggest);
        if (us && lw_region_check_airtime(r, us, why, sizeof(why)) != LW_OK)
            report(p, sline(p, "spreading_factor") ? sline(p, "spreading_factor")
                                                   : sline(p, "region"),
                   "[radio] spreading_factor = %u: a %zu-byte frame: %s", c->spreading_factor,
                   biggest, why);
    }
    static const char *const pin_keys[] = {"pin_reset", "pin_cs", "pin_dio0", "pin_dio1",
                                           "pin_busy"};
    const char *pin_vals[] = {c->pin_reset, c->pin_cs, c->pin_dio0, c->pin_dio1, c->pin_busy};
    int pins[5];
    for (int i = 0; i < 5; i++)
        if (lw_pin_parse(pin_vals[i], &pins[i]) != LW_OK) {
            report(p, sline(p, pin_keys[i]),
                   "[radio] %s = %s: must be a GPIO line number (0-1023) or none", pin_keys[i],
                   pin_vals[i]);
            pins[i] = -1;
        }
    if (c->tcxo_voltage[0] && strcmp(c->tcxo_voltage, "none") != 0) {
        double v;
        if (lw_parse_double(c->tcxo_voltage, 1.6, 3.3, &v) != LW_OK)
            report(p, sline(p, "tcxo_voltage"),
                   "[radio] tcxo_voltage = %s: must be volts from 1.6 to 3.3, or none",
                   c->tcxo_voltage);
    }
    if (c->dio2_rf_switch[0] && strcmp(c->dio2_rf_switch, "yes") != 0 &&
        strcmp(c->dio2_rf_switch, "no") != 0)
        report(p, sline(p, "dio2_rf_switch"), "[radio] dio2_rf_switch = %s: must be yes or no",
               c->dio2_rf_switch);
    if (!chip)
        return;
    /* Lines the chip cannot work without: from the key, else from the board. */
    bool sx126x = strcmp(c->radio_backend, "sx126x") == 0;
    static const int need127[] = {0, 2}, need126[] = {0, 3, 4};
    const int *need = sx126x ? need126 : need127;
    for (int i = 0; i < (sx126x ? 3 : 2); i++) {
        int k = need[i];
        bool from_board = false;
        if (pins[k] == -2 && b) {
            const int bp[] = {b->pins.reset, b->pins.cs, b->pins.irq, b->pins.irq, b->pins.busy};
            from_board = bp[k] >= 0 && strcmp(b->backend, c->radio_backend) == 0;
        }
        if (pins[k] == -1 || (pins[k] == -2 && !from_board))
            report(p, sline(p, pin_keys[k]) ? sline(p, pin_keys[k]) : sline(p, "backend"),
                   "[radio] %s: backend %s needs it (set board, or %s to the GPIO line)",
                   pin_keys[k], c->radio_backend, pin_keys[k]);
    }
}

/* China's 470-510 MHz micro-power rules cap every transmission at 1 s: reject radio settings under
 * which our largest uplink frame would be on air longer than that. */
static void validate_radio(struct parse *p)
{
    struct lw_config *c = p->cfg;
    validate_radio_chip(p);
    if (c->bandwidth_hz != 125000 && c->bandwidth_hz != 250000 && c->bandwidth_hz != 500000)
        report(p, sline(p, "bandwidth_hz"),
               "[radio] bandwidth_hz = %u: must be 125000, 250000 or 500000", c->bandwidth_hz);
    struct lw_lora_params lp;
    lw_lora_params_default(&lp);
    lp.sf = (uint8_t)c->spreading_factor;
    lp.bw_hz = c->bandwidth_hz;
    lp.cr = (uint8_t)(c->coding_rate - 4);
    size_t biggest = LW_FRAME_OVERHEAD + LW_READING_MAX_LEN;
    uint32_t us = lw_airtime_us(&lp, biggest);
    if (c->frequency_hz >= 470000000u && c->frequency_hz <= 510000000u && us > 1000000u)
        report(p, sline(p, "spreading_factor"),
               "[radio] spreading_factor = %u: a %zu-byte frame would be on air %.1f ms at "
               "%u Hz bandwidth; the 470-510 MHz rules allow at most 1000 ms per transmission",
               c->spreading_factor, biggest, us / 1000.0, c->bandwidth_hz);
    char host[128];
    uint16_t port;
    if (lw_parse_hostport(c->sim_listen, host, sizeof(host), &port) != LW_OK)
        report(p, sline(p, "sim_listen"), "[radio] sim_listen = %s: must be HOST:PORT",
               c->sim_listen);
    if (lw_parse_hostport(c->forwarder_listen, host, sizeof(host), &port) != LW_OK)
        report(p, sline(p, "forwarder_listen"), "[radio] forwarder_listen = %s: must be HOST:PORT",
               c->forwarder_listen);
    if (strspn(c->site, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
            strlen(c->site) ||
        !c->site[0])
        report(p, sline(p, "site"),
               "[gateway] site = %s: only letters, digits, '-' and '_' "
               "(it is an MQTT topic level)",
               c->site);
    if (strcmp(c->clock_check, "kernel") != 0 && strcmp(c->clock_check, "none") != 0 &&
        c->clock_check[0] != '/')
        report(p, sline(p, "clock_check"),
               "[gateway] clock_check = %s: must be kernel, none or an absolute path",
               c->clock_check);
    if (c->control_socket[0] && c->control_socket[0] != '/')
        report(p, sline(p, "control_socket"),
               "[gateway] control_socket = %s: must be an absolute path", c->control_socket);
    /* TLS settings must make sense together, and the files must be there to be read. */
    const char *cert = c->mqtt_tls_cert_file, *key = c->mqtt_tls_key_file;
    if (cert[0] && !key[0])
        report(p, sline(p, "tls_cert_file"), "[mqtt] tls_cert_file: needs tls_key_file too");
    if (key[0] && !cert[0])
        report(p, sline(p, "tls_key_file"), "[mqtt] tls_key_file: needs tls_cert_file too");
    if ((cert[0] || key[0]) && !c->mqtt_tls_ca_file[0])
        report(p, sline(p, cert[0] ? "tls_cert_file" : "tls_key_file"),
               "[mqtt] client certificate without tls_ca_file: set the CA to turn TLS on");
    static const char *const tls_keys[] = {"tls_ca_file", "tls_cert_file", "tls_key_file"};
    const char *tls_files[] = {c->mqtt_tls_ca_file, cert, key};
    for (int i = 0; i < 3; i++) {
        FILE *f = tls_files[i][0] ? fopen(tls_files[i], "r") : NULL;
        if (tls_files[i][0] && !f)
            report(p, sline(p, tls_keys[i]), "[mqtt] %s = %s: cannot read: %s", tls_keys[i],
                   tls_files[i], strerror(errno));
        if (f)
            fclose(f);
    }
    if (c->mqtt_password[0] && !c->mqtt_username[0])
        report(p, sline(p, "password"), "[mqtt] password: set without a username");
    if (c->mqtt_reconnect_min_ms > c->mqtt_reconnect_max_ms)
        report(p, sline(p, "reconnect_min"), "[mqtt] reconnect_min: longer than reconnect_max");
    if (!c->mqtt_client_id[0])
        snprintf(c->mqtt_client_id, sizeof(c->mqtt_client_id), "lorawatchd-%.40s", c->site);
}

struct lw_config *lw_config_parse(const char *name, const char *text, size_t len,
                                  lw_config_error_fn err, void *arg)
{
    struct lw_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return NULL;
    snprintf(cfg->path, sizeof(cfg->path), "%s", name);
    struct parse p = {.cfg = cfg, .file = name, .err = err, .err_arg = arg};
    lw_ini_parse_sections(text, len, on_pair, on_syntax, on_section, &p);
    apply_defaults(&p);
    validate_radio(&p);
    validate_nodes(&p);
    validate_rules(&p);
    free(p.node_line);
    free(p.rule_line);
    free(p.rule_below);
    free(p.node_bad);
    free(p.rule_bad);
    p.errors += lw_roster_parse(name, text, len, &cfg->roster, err, arg);
    if (p.errors) {
        lw_config_free(cfg);
        return NULL;
    }
    return cfg;
}

struct lw_config *lw_config_load(const char *path, lw_config_error_fn err, void *arg)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        char msg[LW_PATH_MAX + 64];
        snprintf(msg, sizeof(msg), "%s: cannot open: %s", path, strerror(errno));
        if (err)
            err(arg, msg);
        else
            fprintf(stderr, "%s\n", msg);
        return NULL;
    }
    size_t cap = 1 << 20, len;
    char *text = malloc(cap);
    len = text ? fread(text, 1, cap, f) : 0;
    bool too_big = text && len == cap && fgetc(f) != EOF;
    fclose(f);
    if (!text || too_big) {
        char msg[LW_PATH_MAX + 64];
        snprintf(msg, sizeof(msg), "%s: %s", path, text ? "larger than 1 MiB" : "out of memory");
        if (err)
            err(arg, msg);
        else
            fprintf(stderr, "%s\n", msg);
        free(text);
        return NULL;
    }
    struct lw_config *cfg = lw_config_parse(path, text, len, err, arg);
    explicit_bzero(text, len); /* node keys and the MQTT password */
    free(text);
    return cfg;
}

void lw_config_free(struct lw_config *cfg)
{
    if (!cfg)
        return;
    /* Node keys are secrets: do not leave them in freed heap memory. */
    if (cfg->nodes)
        memset(cfg->nodes, 0, cfg->n_nodes * sizeof(*cfg->nodes));
    free(cfg->nodes);
    free(cfg->rules);
    lw_roster_free(cfg->roster);
    memset(cfg->mqtt_password, 0, sizeof(cfg->mqtt_password));
    free(cfg);
}

void lw_config_keep_restart_keys(const struct lw_config *running, struct lw_config *next,
                                 void (*note)(void *arg, const char *section, const char *key),
                                 void *arg)
{
    for (size_t i = 0; i < N_SCALAR; i++) {
        const struct key *k = &lw_config_scalar_keys[i];
        if (strcmp(k->name, "log_level") == 0)
            continue;
        const char *a = (const char *)running + k->off;
        char *b = (char *)next + k->off;
        bool differs = k->type == KT_STR ? strcmp(a, b) != 0 : memcmp(a, b, k->size) != 0;
        if (differs) {
            if (note)
                note(arg, k->section, k->name);
            memcpy(b, a, k->size);
        }
    }
}
