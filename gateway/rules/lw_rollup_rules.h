/* The rules' side of the rollups: which rule levels a node's readings are measured against and
 * what value a reading gives a metric, handed to the store as plain facts (struct
 * lw_rollup_facts) so that storage applies no rule semantics of its own. */
#ifndef LW_ROLLUP_RULES_H
#define LW_ROLLUP_RULES_H

#include <stddef.h>

#include "lw_config.h"
#include "lw_rollup.h"

/* For each level, the lowest threshold (in the metric's unit) of the rising rules on that metric
 * that apply to the node; NAN where no such rule exists. */
void lw_rollup_levels(const struct lw_rule_conf *rules, size_t n_rules,
                      const struct lw_node_conf *node, enum lw_metric metric,
                      double thr[LW_LEVEL_COUNT]);
/* The facts of these rules (the ones copied into out->arg: threshold rules on the value or its
 * mean); no rules: values only. For lw_store_open_with and lw_store_set_rollup_facts, which take
 * out->arg. LW_OK or LW_ERR_NOMEM. */
int lw_rollup_rules_facts(const struct lw_rule_conf *rules, size_t n_rules,
                          struct lw_rollup_facts *out);

#endif
