/* Rule evaluation as a pure function of (rule, state, value, time): threshold with hysteresis and
 * persistence. No I/O and no clock: callers pass the reading's time, so tests inject time. */
#ifndef LW_RULES_H
#define LW_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "lw_config.h"
#include "lw_reading.h"

struct lw_rule_state {
    bool above;             /* value currently at/over threshold */
    bool active;            /* alert raised and not yet cleared */
    int64_t above_since_ms; /* when the current exceedance began */
    int64_t alert_id;       /* journal id of the active alert */
    int64_t raised_ms;      /* when it was raised */
    bool applies;           /* lw_rule_applies(rule, node), set once per configuration */
};

enum lw_rule_event { LW_RULE_NONE, LW_RULE_RAISE, LW_RULE_CLEAR };

/* Feed one value observed at now_ms. RAISE once the value has stayed >= threshold for the
 * persistence time (checked as readings arrive); CLEAR once an active rule sees value <= clear.
 * Between clear and threshold an active rule stays active and an inactive one restarts its
 * persistence timer: the exceedance must be continuous. */
enum lw_rule_event lw_rule_eval(const struct lw_rule_conf *rule, struct lw_rule_state *st,
                                double value, int64_t now_ms);

/* Does the rule apply to this node (kind and place tags)? */
bool lw_rule_applies(const struct lw_rule_conf *rule, const struct lw_node_conf *node);

/* The rule's metric from a reading, in the config's units (mm, %LEL, degC ...), negated for
 * falling rules. false when the reading does not carry it. */
bool lw_rule_value(const struct lw_rule_conf *rule, const struct lw_reading *r, double *out);

/* Value in the metric's natural units (not negated), for messages. */
bool lw_metric_value(enum lw_metric m, const struct lw_reading *r, double *out);

#endif
