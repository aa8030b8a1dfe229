/* SPDX-License-Identifier: Apache-2.0 */
/* The rules' levels for the rollups: which threshold each level's time above is measured from,
 * per node and metric, handed to the store as a plain level source (struct lw_level_source). */
#include "lw_rollup_rules.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_rules.h"

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

static void source_levels(void *arg, const struct lw_node_conf *node, enum lw_metric metric,
                          double thr[LW_LEVEL_COUNT])
{
    const struct rollup_rules *rr = arg;
    lw_rollup_levels(rr ? rr->r : NULL, rr ? rr->n : 0, node, metric, thr);
}

int lw_rules_level_source(const struct lw_rule_conf *rules, size_t n_rules,
                          struct lw_level_source *out)
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
    out->levels = source_levels;
    out->free = free;
    out->arg = copy;
    return LW_OK;
}
