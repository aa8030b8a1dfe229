/* SPDX-License-Identifier: Apache-2.0 */
/* Duty: escalation, reminders, acknowledgements and silences (lw_escalation decides, this file
 * writes through the journal and publishes). */
#include "gw_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_clock.h"
#include "lw_error.h"
#include "lw_log.h"

static void duty_schedule(struct lw_gateway *g);

static int duty_publish(void *arg, int64_t alert, const char *topic, const char *payload,
                        bool retain)
{
    struct lw_gateway *g = arg;
    int64_t tag;
    /* Into the outbox (through the queue); duty_commit publishes once the rows are on disk, or
     * from memory when the disk cannot take them. */
    int rc = lw_spool_message(g->spool, alert, topic, payload, retain, &tag);
    if (rc != LW_OK && g->mqtt) /* the queue is full: paged, not kept */
        rc = lw_mqtt_publish(g->mqtt, topic, payload, 1, retain, 0);
    return rc;
}

static int duty_journal(void *arg, int64_t alert, const char *event, const char *actor,
                        unsigned tier, const char *via, const char *detail, const char *outcome)
{
    gw_journal_event(arg, alert, gw_now_ms(arg), event, actor, tier, via, detail, outcome);
    return LW_OK;
}

static int duty_update(void *arg, int64_t alert, unsigned tier, const char *acked_by,
                       int64_t acked_ms, const char *outcome)
{
    return gw_journal_update(arg, alert, tier, acked_by, acked_ms, outcome);
}

static void duty_silence_ended(void *arg, int64_t silence, int64_t wall_ms)
{
    struct lw_gateway *g = arg;
    gw_journal_silence_end(g, silence, wall_ms);
    lw_log(LW_LOG_NOTICE, "silence #%lld ended", (long long)silence);
}

/* Commit, then hand the outbox rows added since the last hand-over to MQTT, in order. Older
 * rows are with the client already or go at the next connection: during a long broker outage
 * an alert costs the rows it added, not a scan of everything waiting. */
static int duty_commit(void *arg)
{
    struct lw_gateway *g = arg;
    int rc = gw_journal_now(g);
    duty_schedule(g);
    return rc;
}

static void on_duty_timer(uv_timer_t *t)
{
    struct lw_gateway *g = t->data;
    lw_escalation_tick(g->escalation, lw_clock_mono_ms(), lw_clock_wall_ms());
    duty_schedule(g);
}

/* Sleep until the next escalation, reminder or silence expiry: an idle gateway does not wake. */
static void duty_schedule(struct lw_gateway *g)
{
    if (!g->escalation || uv_is_closing((uv_handle_t *)&g->escalation_timer))
        return;
    int64_t due = lw_escalation_next_due(g->escalation), wait = INT64_MAX;
    if (due != INT64_MAX)
        wait = due - lw_clock_mono_ms();
    if (wait == INT64_MAX) {
        uv_timer_stop(&g->escalation_timer);
        return;
    }
    uv_timer_start(&g->escalation_timer, on_duty_timer, wait < 10 ? 10 : (uint64_t)wait, 0);
}

static void duty_alert_of(const struct lw_node_conf *node, const struct lw_rule_conf *rule,
                          int64_t id, struct lw_escalation_alert *a)
{
    memset(a, 0, sizeof(*a));
    a->id = id;
    a->node = node->address;
    a->hazard = rule->hazard;
    snprintf(a->grid, sizeof(a->grid), "%s", node->grid);
    snprintf(a->building, sizeof(a->building), "%s", node->building);
}

void gw_escalation_transition(struct lw_gateway *g, const struct lw_node_conf *node,
                              const struct lw_rule_conf *rule, enum lw_alert_state state,
                              const struct lw_alert_info *info, const char *json)
{
    if (!g->escalation)
        return;
    struct lw_rule_conf relay_rule;
    lw_alert_relay_rule(&relay_rule, 0);
    int64_t flood =
        rule->type == LW_RULE_SILENCE && strcmp(rule->name, relay_rule.name) != 0 && g->incidents
            ? lw_incident_find(g->incidents, LW_HAZARD_FLOOD, node->building)
            : 0;
    if (state == LW_ALERT_RAISED && flood) {
        /* A node gone quiet while its building floods is most likely under water: the flood
         * incident already has everyone's attention; one page per drowned node helps nobody.
         * A silent relay is paged all the same: the nodes behind it, in other buildings too,
         * are cut off with it. */
        char detail[96];
        snprintf(detail, sizeof(detail), "not paged: building in flood incident #%lld",
                 (long long)flood);
        gw_journal_event(g, info->id, gw_now_ms(g), "silenced", "gateway", 0, "gateway", detail,
                         NULL);
        duty_commit(g);
        return;
    }
    if (info->test) {
        struct lw_escalation_alert a;
        duty_alert_of(node, rule, info->id, &a);
        if (state == LW_ALERT_RAISED)
            lw_escalation_test(g->escalation, &a, json, lw_clock_wall_ms());
        duty_commit(g);
        return;
    }
    if (state == LW_ALERT_RAISED) {
        struct lw_escalation_alert a;
        duty_alert_of(node, rule, info->id, &a);
        if (rule->type == LW_RULE_STORAGE)
            a.first_tier = 2; /* the duty room: a gateway matter, not a grid worker's */
        lw_escalation_raised(g->escalation, &a, json, lw_clock_mono_ms(), lw_clock_wall_ms());
    } else {
        lw_escalation_resolved(g->escalation, info->id, json);
    }
    duty_commit(g);
}

/* The duty state of an open alert found at start-up resumes at its stored tier, with the
 * reminders each tier has had (one nobody was told about yet is paged as its raise would). Its
 * messages repeat the raise message as published; a row from before that was kept gets one rebuilt
 * from its record (level, value, incident as raised). */
void gw_restore_duty(struct lw_gateway *g, const struct lw_node_conf *nc,
                     const struct lw_rule_conf *rule, const struct lw_alertdb_open *o)
{
    char *rebuilt = NULL;
    if (!o->message) {
        struct lw_alert_info info = {.id = o->id,
                                     .site = g->cfg->site,
                                     .rule = rule,
                                     .node = nc,
                                     .state = LW_ALERT_RAISED,
                                     .level = o->level,
                                     .value = o->value,
                                     .raised_ms = o->raised_ms,
                                     .t_ms = o->raised_ms,
                                     .incident = o->incident};
        rebuilt = lw_alert_json(&info);
    }
    const char *payload = o->message ? o->message : rebuilt;
    struct lw_escalation_alert a;
    duty_alert_of(nc, rule, o->id, &a);
    /* The journal's times are the wall clock's, except on a simulated medium, whose virtual
     * clock restarts with the process: there the tier gets its full time again. */
    struct lw_escalation_resume r = {.tier = o->tier, .acked = o->acked};
    memcpy(r.reminders, o->reminders, sizeof(r.reminders));
    if (!g->medium_clock) {
        r.told_ms = o->told_ms;
        r.reminded_ms = o->reminded_ms;
    }
    if (payload && !o->tier && !o->acked) {
        /* Nobody was told before the restart (it stopped first, or a silence held it back): the
         * raise's paging happens now, through the outbox. One the gateway withheld stays so. */
        if (!o->withheld)
            lw_escalation_raised(g->escalation, &a, payload, lw_clock_mono_ms(),
                                 lw_clock_wall_ms());
    } else if (payload)
        lw_escalation_restore(g->escalation, &a, payload, &r, lw_clock_mono_ms(),
                              lw_clock_wall_ms());
    else
        lw_log(LW_LOG_ERR, "alert #%lld: out of memory: its duty state is not restored",
               (long long)o->id);
    free(rebuilt);
}

void gw_restore_incident(void *arg, int64_t incident, const char *hazard, const char *building,
                         int64_t alert)
{
    struct lw_gateway *g = arg;
    for (int h = 0; h < LW_HAZARD_COUNT && g->incidents; h++)
        if (strcmp(hazard, lw_hazard_name((enum lw_hazard)h)) == 0)
            lw_incident_add(g->incidents, incident, (enum lw_hazard)h, building, alert);
}

void gw_restore_silence(void *arg, const struct lw_silence *s)
{
    struct lw_gateway *g = arg;
    char why[160];
    struct lw_silence c = *s;
    c.forced = true; /* accepted when it was made; the rules of its making stand */
    c.hazard = s->hazard;
    lw_escalation_silence_add(g->escalation, &c, lw_clock_mono_ms(), lw_clock_wall_ms() - 1, why,
                              sizeof(why));
}

/* Acknowledge alert id for actor; the reply's error text and code on failure. */
int gw_ack_alert(struct lw_gateway *g, int64_t id, const struct lw_ack *ack, char *why, size_t cap,
                 const char **code)
{
    int rc = lw_escalation_ack(g->escalation, id, ack, lw_clock_wall_ms(), why, cap);
    if (rc == LW_ERR_UNKNOWN_NODE) {
        char state[16];
        if (lw_alertdb_state(g->store, id, state, sizeof(state)) == LW_OK) {
            snprintf(why, cap, "alert #%lld is %s: nothing to acknowledge", (long long)id, state);
            *code = "conflict";
        } else {
            snprintf(why, cap, "no alert #%lld", (long long)id);
            *code = "not_found";
        }
        return rc;
    }
    if (rc != LW_OK) {
        *code = "conflict";
        return rc;
    }
    lw_log_fields(LW_LOG_NOTICE, NULL, (long long)id, "alert #%lld acknowledged by %s via %s%s%s",
                  (long long)id, ack->actor, ack->via, ack->outcome && ack->outcome[0] ? ": " : "",
                  ack->outcome ? ack->outcome : "");
    duty_commit(g);
    return LW_OK;
}

/* Resolve a silence request into a silence; the node may be named by name or address. */
int gw_make_silence(struct lw_gateway *g, const char *node, const char *building, int hazard,
                    uint64_t for_ms, bool force, const char *actor, const char *reason,
                    struct lw_silence *s, char *why, size_t cap, const char **code)
{
    memset(s, 0, sizeof(*s));
    s->hazard = hazard;
    s->forced = force;
    s->until_ms = lw_clock_wall_ms() + (int64_t)for_ms;
    snprintf(s->actor, sizeof(s->actor), "%s", actor);
    snprintf(s->reason, sizeof(s->reason), "%s", reason);
    snprintf(s->building, sizeof(s->building), "%s", building ? building : "");
    if (node && node[0]) {
        for (size_t i = 0; i < lw_registry_count(g->reg); i++) {
            const struct lw_node *n = lw_registry_at(g->reg, i);
            if (strcmp(n->conf->name, node) == 0)
                s->node = n->conf->address;
        }
        if (!s->node) {
            snprintf(why, cap, "no node '%s'", node);
            *code = "not_found";
            return LW_ERR_UNKNOWN_NODE;
        }
    }
    int rc = lw_escalation_silence_add(g->escalation, s, lw_clock_mono_ms(), lw_clock_wall_ms(),
                                       why, cap);
    if (rc != LW_OK) {
        *code = rc == LW_ERR_STATE ? "conflict" : "usage";
        return rc;
    }
    /* Stored and committed before it is answered: a silence that is not on disk is not kept
     * either, or it would vanish at the next restart (a full disk, then a crash) and the alerts
     * it holds back would page after all. */
    if (lw_alertdb_silence_add(g->store, s, lw_clock_wall_ms()) != LW_OK ||
        lw_store_commit(g->store) != LW_OK) {
        /* duty's copy has no id yet (it comes from the row) */
        lw_escalation_silence_lift(g->escalation, 0, lw_clock_mono_ms(), lw_clock_wall_ms());
        snprintf(why, cap, "the silence could not be stored (%s)",
                 lw_store_trouble(g->store) == LW_STORE_FULL ? "the gateway's disk is full"
                                                             : "database error");
        *code = "db";
        return LW_ERR_DB;
    }
    /* The id came from the database: the copy duty holds must carry it too. */
    const struct lw_silence *all;
    size_t n = lw_escalation_silences(g->escalation, &all);
    for (size_t i = 0; i < n; i++)
        if (all[i].id == 0)
            ((struct lw_silence *)all)[i].id = s->id;
    lw_log(LW_LOG_NOTICE, "silence #%lld by %s for %llu s: %s", (long long)s->id, actor,
           (unsigned long long)(for_ms / 1000), reason);
    duty_commit(g);
    return LW_OK;
}

int gw_lift_silence(struct lw_gateway *g, int64_t id, char *why, size_t cap, const char **code)
{
    if (lw_escalation_silence_lift(g->escalation, id, lw_clock_mono_ms(), lw_clock_wall_ms()) !=
        LW_OK) {
        snprintf(why, cap, "no active silence #%lld", (long long)id);
        *code = "not_found";
        return LW_ERR_UNKNOWN_NODE;
    }
    lw_alertdb_silence_end(g->store, id, lw_clock_wall_ms());
    duty_commit(g);
    return LW_OK;
}

/* The roster a load of the configuration brought, into the roster journal, so a review names
 * people as they were. A write that fails (full disk) is logged and the daemon goes on paging:
 * the next load journals what is in force then. */
void gw_escalation_journal_roster(struct lw_gateway *g, const struct lw_config *cfg)
{
    size_t changed = 0;
    int rc = lw_store_roster_journal(g->store, cfg->roster, gw_now_ms(g), &changed);
    if (rc != LW_OK && lw_store_ballast_just_released(g->store))
        rc = lw_store_roster_journal(g->store, cfg->roster, gw_now_ms(g), &changed);
    if (rc != LW_OK)
        lw_log(LW_LOG_ERR,
               "duty roster not journalled (%s, database %s): reviews name people as the next "
               "load of the configuration finds them",
               lw_strerror(rc), lw_store_trouble_name(lw_store_trouble(g->store)));
    else if (changed)
        lw_log(LW_LOG_INFO, "duty roster journalled: %zu row%s written", changed,
               changed == 1 ? "" : "s");
}

/* Escalation, reminders and silences: the duty module writes through the journal above. */
int gw_escalation_open(struct lw_gateway *g)
{
    struct lw_escalation_ops dops = {.arg = g,
                                     .publish = duty_publish,
                                     .journal = duty_journal,
                                     .update = duty_update,
                                     .silence_ended = duty_silence_ended,
                                     .commit = duty_commit};
    snprintf(g->command_prefix, sizeof(g->command_prefix), "lorawatch/%s/command/", g->cfg->site);
    g->escalation = lw_escalation_new(g->cfg->site, g->cfg, &dops);
    if (!g->escalation) {
        lw_log(LW_LOG_ERR, "out of memory");
        return LW_ERR_NOMEM;
    }
    gw_escalation_journal_roster(g, g->cfg);
    return LW_OK;
}

void gw_escalation_start(struct lw_gateway *g)
{
    gw_timer_init(g, &g->escalation_timer);
    duty_schedule(g); /* alerts restored at start may be due for escalation */
}

void gw_escalation_stop(struct lw_gateway *g)
{
    gw_timer_close(&g->escalation_timer);
}
