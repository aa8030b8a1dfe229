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

/* Time-based rules run on the rule clock (monotonic, or the medium's virtual time) from a timer.
 * On the monotonic clock it sleeps until the next silence, persistence or held water reading could
 * be due (at most 10 s, for the radio rules; a reading brings it forward), so an idle gateway
 * wakes rarely; with a simulated medium it looks every 50 ms
 * whether the virtual clock has moved, so fast runs still see a silence within a few virtual
 * seconds. */
#define RULES_TICK_MIN_MS    100
#define RULES_TICK_MAX_MS    10000
#define RULES_TICK_MEDIUM_MS 50

/* When a relay goes silent, the nodes behind it are unreachable through it: one trouble alert
 * names the relay and lists them, instead of one silence alert per node. It clears when the relay
 * is heard again. The rule is synthetic (not in the configuration), like the test alarm's. */
#define RELAY_TICK_MS        1000
#define RELAY_TICK_MEDIUM_MS 20

/* lw_gateway.c */
int64_t gw_now_ms(const struct lw_gateway *g);
void gw_handle_closed(struct lw_gateway *g);
void gw_timer_init(struct lw_gateway *g, uv_timer_t *t);
void gw_timer_close(uv_timer_t *t);

/* gw_storage.c */
void gw_storage_check(struct lw_gateway *g);
void gw_storage_commit_soon(struct lw_gateway *g);
int gw_storage_open(struct lw_gateway *g);
void gw_storage_start(struct lw_gateway *g);
void gw_storage_stop(struct lw_gateway *g);

/* gw_journal.c */
int gw_apply_outbox_done(struct lw_store *s, const void *data);
int64_t gw_next_alert_id(struct lw_gateway *g);
int64_t gw_next_incident_id(struct lw_gateway *g);
int gw_apply_alert_row(struct lw_store *s, const void *data);
int gw_apply_state_row(struct lw_store *s, const void *data);
void gw_journal_event(struct lw_gateway *g, int64_t alert, int64_t t, const char *event,
                      const char *actor, unsigned tier, const char *via, const char *detail);
int gw_apply_incident_row(struct lw_store *s, const void *data);
int gw_journal_now(struct lw_gateway *g);
int gw_apply_update_row(struct lw_store *s, const void *data);
int gw_apply_silence_end(struct lw_store *s, const void *data);
int gw_journal_open(struct lw_gateway *g);
void gw_journal_stop(struct lw_gateway *g);

/* gw_registry.c */
long gw_rule_index(const struct lw_config *cfg, const char *name);
int gw_rebuild_registry(void *arg);
int gw_registry_open(struct lw_gateway *g);

/* gw_alerts.c */
void gw_alert_transition(struct lw_gateway *g, const struct lw_node_conf *node,
                         const struct lw_rule_conf *rule, struct lw_rule_state *st,
                         enum lw_alert_state state, double value, int64_t t);
int gw_alerts_open(struct lw_gateway *g);

/* gw_duty.c */
void gw_duty_transition(struct lw_gateway *g, const struct lw_node_conf *node,
                        const struct lw_rule_conf *rule, enum lw_alert_state state,
                        const struct lw_alert_info *info, const char *json);
void gw_restore_duty(struct lw_gateway *g, const struct lw_node_conf *nc,
                     const struct lw_rule_conf *rule, const struct lw_alertdb_open *o);
void gw_restore_incident(void *arg, int64_t incident, const char *hazard, const char *building,
                         int64_t alert);
void gw_restore_silence(void *arg, const struct lw_silence *s);
int gw_ack_alert(struct lw_gateway *g, int64_t id, const char *actor, unsigned tier,
                 const char *via, const char *note, char *why, size_t cap, const char **code);
int gw_make_silence(struct lw_gateway *g, const char *node, const char *building, int hazard,
                    uint64_t for_ms, bool force, const char *actor, const char *reason,
                    struct lw_silence *s, char *why, size_t cap, const char **code);
int gw_lift_silence(struct lw_gateway *g, int64_t id, char *why, size_t cap, const char **code);
int gw_duty_open(struct lw_gateway *g);
void gw_duty_start(struct lw_gateway *g);
void gw_duty_stop(struct lw_gateway *g);

/* gw_clock.c */
void gw_clock_open(struct lw_gateway *g);
void gw_clock_start(struct lw_gateway *g);
void gw_clock_stop(struct lw_gateway *g);

/* gw_restore.c */
void gw_restore_counter(void *arg, uint16_t addr, uint32_t fcnt);
void gw_pin_restored(struct lw_gateway *g, const struct lw_node_conf *was, size_t n_was);
void gw_restore_open(struct lw_gateway *g);

/* gw_rules.c */
void gw_apply_rules(struct lw_gateway *g, struct lw_node *node, const struct lw_reading *r,
                    int64_t rule_ms, int64_t t);
void gw_prime_rules(struct lw_gateway *g);
void gw_rules_start(struct lw_gateway *g);
void gw_rules_stop(struct lw_gateway *g);

/* gw_status.c */
char *gw_status_json(struct lw_gateway *g, const char *state);
void gw_publish_status(struct lw_gateway *g);
void gw_requeue_lost(struct lw_gateway *g);
void gw_replay_outbox(struct lw_gateway *g, int64_t after);
bool gw_publish_from_memory(void *arg, int64_t tag, const char *topic, const char *payload,
                            bool retain);
int gw_status_start(struct lw_gateway *g);
void gw_status_stop(struct lw_gateway *g, const char *offline);

/* gw_uplink.c */
int gw_uplink_start(struct lw_gateway *g, bool with_radio);
void gw_uplink_stop(struct lw_gateway *g);

/* gw_relays.c */
struct relay_alert *gw_relay_alert_state(struct lw_gateway *g, uint16_t relay);
void gw_relay_node_conf(struct lw_gateway *g, uint16_t relay, struct lw_node_conf *node);
void gw_restore_on_first_frame(struct lw_gateway *g);
void gw_relays_start(struct lw_gateway *g);
void gw_relays_stop(struct lw_gateway *g);

/* gw_downlinks.c */
void gw_send_pending_cmd(struct lw_gateway *g, const struct lw_node *n);
char *gw_control_event_mode(struct lw_gateway *g, const cJSON *req);
int gw_send_downlink(struct lw_gateway *g, enum lw_dl_prio prio, const uint8_t *buf, size_t len);
void gw_reserve_downlinks_ahead(struct lw_gateway *g, const struct lw_node_conf *nc);
void gw_send_alarm_ack(struct lw_gateway *g, const struct lw_node *n, uint32_t alarm_fcnt);
int gw_downlinks_start(struct lw_gateway *g);
void gw_downlinks_stop(struct lw_gateway *g);

/* gw_commands.c */
void gw_on_mqtt_message(void *arg, const char *topic, const void *payload, size_t len);
void gw_commands_start(struct lw_gateway *g);
void gw_commands_stop(struct lw_gateway *g);

/* gw_metrics.c */
void gw_fill_metrics(struct lw_gateway *g, bool up, struct lw_metrics *out);
void gw_metrics_start(struct lw_gateway *g);
void gw_metrics_stop(struct lw_gateway *g);

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
