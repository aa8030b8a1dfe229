/* The rollups' facts from the rules, and the two store calls that take the rules themselves
 * (lw_store_open, lw_store_set_rules, declared in lw_store.h): the store hands them on as facts. */
#include "lw_rollup_rules.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_rules.h"
#include "lw_store.h"

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

/* The rules a rollup measures (the facts' arg; NULL: none). */
struct rollup_rules {
    size_t n;
    struct lw_rule_conf r[];
};

static bool facts_value(void *arg, enum lw_metric metric, const struct lw_reading *r, double *out)
{
    (void)arg;
    return lw_metric_value(metric, r, out);
}

static void facts_levels(void *arg, const struct lw_node_conf *node, enum lw_metric metric,
                         double thr[LW_LEVEL_COUNT])
{
    const struct rollup_rules *rr = arg;
    lw_rollup_levels(rr ? rr->r : NULL, rr ? rr->n : 0, node, metric, thr);
}

int lw_rollup_rules_facts(const struct lw_rule_conf *rules, size_t n_rules,
                          struct lw_rollup_facts *out)
{
    struct rollup_rules *copy = NULL;
    size_t kept = 0;
    if (n_rules) {
        copy = malloc(sizeof(*copy) + n_rules * sizeof(copy->r[0]));
        if (!copy)
            return LW_ERR_NOMEM;
        /* Levels are values of the metric itself: a rule on a rate of rise, a CO dose, days of
         * battery left, or a silence/flag/radio rule has no level the readings could be above. */
        for (size_t i = 0; i < n_rules; i++)
            if (rules[i].type == LW_RULE_THRESHOLD &&
                (rules[i].statistic == LW_STAT_VALUE || rules[i].statistic == LW_STAT_MEAN))
                copy->r[kept++] = rules[i];
        copy->n = kept;
    }
    memset(out, 0, sizeof(*out));
    out->value = facts_value;
    out->levels = facts_levels;
    out->free = free;
    out->arg = copy;
    return LW_OK;
}

struct lw_store *lw_store_open(const char *path, uint32_t batch_rows, char *err, size_t errcap)
{
    struct lw_rollup_facts facts;
    lw_rollup_rules_facts(NULL, 0, &facts); /* no rules: nothing to allocate */
    return lw_store_open_with(path, batch_rows, &facts, err, errcap);
}

int lw_store_set_rules(struct lw_store *s, const struct lw_config *cfg)
{
    struct lw_rollup_facts facts;
    if (lw_rollup_rules_facts(cfg->rules, cfg->n_rules, &facts) != LW_OK)
        return LW_ERR_NOMEM;
    lw_store_set_rollup_facts(s, &facts);
    return LW_OK;
}
