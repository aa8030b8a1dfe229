/* Threshold rules with hysteresis and persistence. */
#include "lw_rules.h"

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

bool lw_metric_value(enum lw_metric m, const struct lw_reading *r, double *out)
{
    switch (m) {
    case LW_METRIC_WATER:
        *out = r->water_mm;
        return r->present & LW_R_WATER;
    case LW_METRIC_SMOKE:
        *out = r->smoke_alarm;
        return r->present & LW_R_SMOKE;
    case LW_METRIC_OBSCURATION:
        *out = r->smoke_obscuration / 100.0;
        return r->present & LW_R_SMOKE;
    case LW_METRIC_GAS:
        *out = r->gas_lel_x10 / 10.0;
        /* A warming-up gas sensor reads nonsense: never alarm on it. */
        return (r->present & LW_R_GAS) &&
               !((r->present & LW_R_FLAGS) && (r->flags & LW_FLAG_WARMUP));
    case LW_METRIC_CO:
        *out = r->co_ppm;
        return r->present & LW_R_CO;
    case LW_METRIC_TEMP:
        *out = r->temp_c_x10 / 10.0;
        return r->present & LW_R_TEMP;
    case LW_METRIC_BATTERY:
        *out = r->battery_mv;
        return r->present & LW_R_BATTERY;
    case LW_METRIC_COUNT:
        break;
    }
    return false;
}

bool lw_rule_value(const struct lw_rule_conf *rule, const struct lw_reading *r, double *out)
{
    if (!lw_metric_value(rule->metric, r, out))
        return false;
    if (rule->below)
        *out = -*out;
    return true;
}
