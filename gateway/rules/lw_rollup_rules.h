/* SPDX-License-Identifier: Apache-2.0 */
/* The rules' side of the rollups: which rule levels a node's readings are measured against,
 * handed to the store as a plain level source (struct lw_level_source, lw_model.h) so that
 * storage applies no rule semantics of its own. */
#ifndef LW_ROLLUP_RULES_H
#define LW_ROLLUP_RULES_H

#include <stddef.h>

#include "lw_model.h"

/* For each level, the lowest threshold (in the metric's unit) of the rising rules on that metric
 * that apply to the node; NAN where no such rule exists. */
void lw_rollup_levels(const struct lw_rule_conf *rules, size_t n_rules,
                      const struct lw_node_conf *node, enum lw_metric metric,
                      double thr[LW_LEVEL_COUNT]);
/* The level source of these rules (the ones copied into out->arg: threshold rules on the value or
 * its mean), for lw_store_set_levels, which takes out->arg. LW_OK or LW_ERR_NOMEM. */
int lw_rules_level_source(const struct lw_rule_conf *rules, size_t n_rules,
                          struct lw_level_source *out);

#endif
