/* SPDX-License-Identifier: Apache-2.0 */
/* Rules on the pipeline: each reading through the node's rules, the timer of time-based rules,
 * and rule histories primed from stored readings at start. */
#include "gw_int.h"

#include <string.h>

#include "lw_clock.h"
#include "lw_error.h"
#include "lw_log.h"

/* Time-based rules run on the rule clock (monotonic, or the medium's virtual time) from a timer.
 * On the monotonic clock it sleeps until the next silence, persistence or held water reading could
 * be due (at most 10 s, for the radio rules; a reading brings it forward), so an idle gateway
 * wakes rarely; with a simulated medium it looks every 50 ms
 * whether the virtual clock has moved, so fast runs still see a silence within a few virtual
 * seconds. */
#define RULES_TICK_MIN_MS    100
#define RULES_TICK_MAX_MS    10000
#define RULES_TICK_MEDIUM_MS 50

static void on_rules_timer(uv_timer_t *timer);
static void rules_wake_by(struct lw_gateway *g, int64_t due, int64_t rule_ms);

void gw_apply_rules(struct lw_gateway *g, struct lw_node *node, const struct lw_reading *r,
                    int64_t rule_ms, int64_t t)
{
    lw_rules_frame(g->rules, rule_ms);
    for (size_t i = 0; i < g->cfg->n_rules; i++) {
        const struct lw_rule_conf *rule = &g->cfg->rules[i];
        struct lw_rule_state *st = &node->rules[i];
        double v;
        if (!st->applies)
            continue;
        enum lw_rule_event ev = lw_rules_reading(g->rules, rule, node->conf, st, r, rule_ms, &v);
        if (ev != LW_RULE_NONE)
            gw_alert_transition(g, node->conf, rule, st,
                                ev == LW_RULE_CLEAR ? LW_ALERT_CLEARED : LW_ALERT_RAISED, v, t);
        else if (st->active)
            gw_alert_rising(g, node->conf, rule, st, v, t); /* still open: higher now? */
        /* A persistence that began with this reading ends between reports: the tick raises. */
        rules_wake_by(g, lw_rules_node_due(g->rules, rule, node->conf, st), rule_ms);
    }
    /* A frame ends "nothing heard": an open radio-fault alert clears now, not at the next look. */
    for (size_t i = 0; i < g->cfg->n_rules; i++) {
        const struct lw_rule_state *gs =
            g->cfg->rules[i].type == LW_RULE_RADIO_FAULT
                ? lw_rules_gateway_state(g->rules, g->cfg->rules[i].name)
                : NULL;
        if (gs && gs->active)
            rules_wake_by(g, rule_ms, rule_ms);
    }
}

/* Is the node reachable only through a relay that is silent now (its trouble alert raised)? */
static bool behind_silent_relay(struct lw_gateway *g, uint16_t node)
{
    uint16_t behind[256];
    for (size_t i = 0; g->mesh && i < g->n_relay_alerts; i++) {
        if (!g->relay_alerts[i].st.active)
            continue;
        size_t n = lw_mesh_behind(g->mesh, g->relay_alerts[i].relay, behind, 256);
        for (size_t k = 0; k < n && k < 256; k++)
            if (behind[k] == node)
                return true;
    }
    return false;
}

/* Bring the rules timer forward to due (rule clock) when it would wake later. */
static void rules_wake_by(struct lw_gateway *g, int64_t due, int64_t rule_ms)
{
    if (g->medium_clock || due == INT64_MAX || uv_is_closing((uv_handle_t *)&g->rules_timer))
        return;
    int64_t wait = due - rule_ms < RULES_TICK_MIN_MS ? RULES_TICK_MIN_MS : due - rule_ms;
    if (!uv_is_active((uv_handle_t *)&g->rules_timer) ||
        (uint64_t)wait < uv_timer_get_due_in(&g->rules_timer))
        uv_timer_start(&g->rules_timer, on_rules_timer, (uint64_t)wait, 0);
}

static void on_rules_timer(uv_timer_t *timer)
{
    struct lw_gateway *g = timer->data;
    int64_t rule_ms = g->medium_clock ? g->clock_ms : lw_clock_mono_ms();
    int64_t due = INT64_MAX;
    if (rule_ms && rule_ms != g->rules_tick_ms) {
        g->rules_tick_ms = rule_ms;
        if (!lw_registry_count(g->reg))
            lw_rules_frame(g->rules, rule_ms); /* no node to hear: the radio is not deaf */
        if (g->radio) {
            /* The radio watchdog's verdict: its recovery failed, the radio is down. */
            struct lw_radio_stats rs;
            lw_radio_stats(g->radio, &rs);
            lw_rules_radio_input(g->rules, rs.fault, rule_ms);
        }
        int64_t t = gw_now_ms(g);
        for (size_t i = 0; i < g->cfg->n_rules; i++) {
            const struct lw_rule_conf *rule = &g->cfg->rules[i];
            struct lw_rule_state *st;
            double v;
            enum lw_rule_event ev = lw_rules_gateway_tick(g->rules, rule, rule_ms, &st, &v);
            if (ev != LW_RULE_NONE)
                gw_alert_transition(g, lw_rules_gateway_node(g->rules, g->cfg->site), rule, st,
                                    ev == LW_RULE_CLEAR ? LW_ALERT_CLEARED : LW_ALERT_RAISED, v, t);
            for (size_t k = 0; lw_rule_timed(rule) && k < lw_registry_count(g->reg); k++) {
                struct lw_node *n = lw_registry_at(g->reg, k);
                if (!n->rules[i].applies ||
                    (rule->type == LW_RULE_SILENCE && behind_silent_relay(g, n->conf->address)))
                    continue; /* the relay's one trouble alert speaks for its nodes' silence */
                enum lw_rule_event nev =
                    lw_rules_node_tick(g->rules, rule, n->conf, &n->rules[i], rule_ms, &v);
                if (nev != LW_RULE_NONE)
                    gw_alert_transition(g, n->conf, rule, &n->rules[i],
                                        nev == LW_RULE_CLEAR ? LW_ALERT_CLEARED : LW_ALERT_RAISED,
                                        v, t);
                int64_t d = lw_rules_node_due(g->rules, rule, n->conf, &n->rules[i]);
                if (d < due)
                    due = d;
            }
        }
    }
    if (!g->medium_clock) {
        int64_t wait = due == INT64_MAX ? RULES_TICK_MAX_MS : due - rule_ms;
        wait = wait < RULES_TICK_MIN_MS   ? RULES_TICK_MIN_MS
               : wait > RULES_TICK_MAX_MS ? RULES_TICK_MAX_MS
                                          : wait;
        uv_timer_start(timer, on_rules_timer, (uint64_t)wait, 0);
    }
}

/* Start-up: the rules that need a history (mean, rise, twa, days_left, persistence) get the
 * node's stored readings of their longest window or persistence replayed (lw_rules_prime), so
 * a restart does not delay an alert by a whole window or persistence. Stored times are the wall
 * clock; on the monotonic rule clock each goes by its age (so only with a synchronised clock). With
 * a simulated medium stored times are the virtual clock itself and the window ends at the node's
 * newest reading; a simulator whose virtual time began again is caught by the engine at the first
 * real reading. */
struct prime_ctx {
    struct lw_gateway *g;
    struct lw_node *n;
    int64_t wall_ms, rule_ms;
    size_t replayed;
};

static void prime_reading(void *arg, int64_t t_ms, const struct lw_reading *stored)
{
    struct prime_ctx *c = arg;
    struct lw_gateway *g = c->g;
    int64_t rt = t_ms;
    if (!g->medium_clock) {
        if (t_ms > c->wall_ms)
            return; /* from the future: the clock was stepped back since */
        rt = c->rule_ms - (c->wall_ms - t_ms);
    }
    /* The rules want the depth as received; stored is calibrated (cut at 0) on the zero offset
     * of then, taken here to be today's. */
    struct lw_reading r = *stored;
    if (r.present & LW_R_WATER) {
        uint32_t raw = r.water_mm + c->n->conf->zero_offset_mm;
        r.water_mm = raw > UINT16_MAX ? UINT16_MAX : (uint16_t)raw;
    }
    for (size_t i = 0; i < g->cfg->n_rules; i++)
        if (c->n->rules[i].applies && lw_rule_primes(&g->cfg->rules[i]))
            lw_rules_prime(g->rules, &g->cfg->rules[i], c->n->conf, &c->n->rules[i], &r, rt);
    c->replayed++;
}

void gw_prime_rules(struct lw_gateway *g)
{
    if (!g->clock_synced)
        return; /* stored times cannot be placed on the rule clock */
    struct prime_ctx c = {.g = g, .wall_ms = lw_clock_wall_ms(), .rule_ms = lw_clock_mono_ms()};
    size_t nodes = 0;
    for (size_t k = 0; k < lw_registry_count(g->reg); k++) {
        c.n = lw_registry_at(g->reg, k);
        uint64_t window = 0;
        for (size_t i = 0; i < g->cfg->n_rules; i++)
            if (c.n->rules[i].applies && lw_rule_prime_span_ms(&g->cfg->rules[i]) > window)
                window = lw_rule_prime_span_ms(&g->cfg->rules[i]);
        if (!window)
            continue;
        int64_t span = window > (uint64_t)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)window;
        size_t before = c.replayed;
        if (lw_store_each_recent(g->store, c.n->conf->address,
                                 g->medium_clock ? INT64_MIN : c.wall_ms - span, span,
                                 prime_reading, &c) != LW_OK)
            lw_log(LW_LOG_WARNING, "rules of %s: stored readings not read: they start afresh",
                   c.n->conf->name);
        nodes += c.replayed > before;
    }
    if (c.replayed)
        lw_log(LW_LOG_INFO, "rules: %zu stored readings of %zu nodes replayed", c.replayed, nodes);
}

void gw_rules_start(struct lw_gateway *g)
{
    gw_timer_init(g, &g->rules_timer);
    if (g->medium_clock)
        uv_timer_start(&g->rules_timer, on_rules_timer, RULES_TICK_MEDIUM_MS, RULES_TICK_MEDIUM_MS);
    else
        uv_timer_start(&g->rules_timer, on_rules_timer, RULES_TICK_MIN_MS, 0);
}

void gw_rules_stop(struct lw_gateway *g)
{
    gw_timer_close(&g->rules_timer);
}
