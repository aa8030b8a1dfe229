/* SPDX-License-Identifier: Apache-2.0 */
/* Alert transitions: an alert raised, updated or cleared becomes its record, its journal row,
 * its retained message and its duty state; flood and fire alerts of a building form incidents. */
#include "gw_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_clock.h"
#include "lw_error.h"
#include "lw_log.h"

/* Flood and fire alerts of one building form one incident while any of them is open; trouble
 * alerts stand alone. Returns the alert's incident (0: none), opening or closing it. */
static int64_t incident_of(struct lw_gateway *g, const struct lw_node_conf *node,
                           const struct lw_rule_conf *rule, enum lw_level level,
                           enum lw_alert_state state, int64_t alert, int64_t t)
{
    if (!g->incidents || rule->hazard == LW_HAZARD_TROUBLE)
        return 0;
    if (state != LW_ALERT_RAISED) {
        bool closed;
        int64_t id = lw_incident_remove(g->incidents, alert, &closed);
        if (id && closed) {
            gw_journal_incident(g, id, false, rule->hazard, level, node->building, t);
            lw_log(LW_LOG_NOTICE, "incident #%lld (%s, building %s) closed", (long long)id,
                   lw_hazard_name(rule->hazard), node->building);
            if (rule->hazard == LW_HAZARD_FLOOD && node->building[0])
                lw_gateway_event_mode(g, node->building, false); /* back to routine sampling */
        }
        return id;
    }
    int64_t id = lw_incident_find(g->incidents, rule->hazard, node->building);
    if (!id) {
        id = gw_next_incident_id(g);
        if (gw_journal_incident(g, id, true, rule->hazard, level, node->building, t) != LW_OK)
            return 0;
        lw_log(LW_LOG_NOTICE, "incident #%lld opened: %s in building %s", (long long)id,
               lw_hazard_name(rule->hazard), node->building[0] ? node->building : "(none)");
        /* The building's nodes sample fast while the water is there (event mode). */
        if (rule->hazard == LW_HAZARD_FLOOD && node->building[0])
            lw_gateway_event_mode(g, node->building, true);
    }
    lw_incident_add(g->incidents, id, rule->hazard, node->building, alert);
    return id;
}

/* Journal the transition (alert row, journal, outbox) and commit before publishing: an alert
 * the broker has seen is always in the journal, and one in the journal is delivered eventually.
 * The rows of one transition go in together or not at all. If the disk cannot take them, people
 * are told all the same, from memory, and the rows are written in order, with their own times,
 * when it can (gw_journal_now). The raise decides the alert's level (a coincidence may put it above
 * its rule's) and the row keeps its whole record, the raise message included: the clear, and
 * every duty message after a restart, say what the raise said. */
void gw_alert_transition(struct lw_gateway *g, const struct lw_node_conf *node,
                         const struct lw_rule_conf *rule, struct lw_rule_state *st,
                         enum lw_alert_state state, double value, int64_t t)
{
    if (state == LW_ALERT_RAISED) {
        st->alert_id = gw_next_alert_id(g);
        st->raised_ms = t;
        st->level = lw_rule_raise_level(rule, st);
        st->reported = value;
        st->reported_ms = t;
        st->reported_level = st->level;
        g->c.alerts_raised++;
    } else if (state == LW_ALERT_CLEARED) {
        g->c.alerts_cleared++;
    }
    struct lw_alert_info info = {
        .id = st->alert_id,
        .site = g->cfg->site,
        .rule = rule,
        .node = node,
        .state = state,
        .level = st->level,
        .value = value,
        .raised_ms = st->raised_ms ? st->raised_ms : t,
        .t_ms = t,
        .test = g->test_mode,
        .incident =
            g->test_mode ? 0 : incident_of(g, node, rule, st->level, state, st->alert_id, t),
        .unconfirmed = st->unconfirmed,
    };
    char sentence[512], topic[128];
    lw_alert_sentence_en(&info, sentence, sizeof(sentence));
    lw_alert_topic(topic, sizeof(topic), g->cfg->site, info.id);
    char *json = lw_alert_json(&info);
    const char *name = lw_alert_state_name(state);
    int rc = state == LW_ALERT_RAISED ? gw_journal_alert(g, rule, node->address, &info, json)
                                      : gw_journal_state(g, info.id, state, t);
    if (rc == LW_OK)
        gw_journal_event(g, info.id, t, name, NULL, 0, NULL, sentence, NULL);
    /* What is retained on alert/<id> is what is open now: a raise stays retained; the all-clear
     * (or withdrawal) is sent as it happens, then an empty retained message removes the alert
     * from the broker, so a phone subscribing to alert/# gets the open alerts, not the season. */
    bool over = state != LW_ALERT_RAISED;
    int64_t tag;
    if (rc == LW_OK && json)
        rc = lw_spool_message(g->spool, info.id, topic, json, !over, &tag);
    if (rc == LW_OK && json && over)
        rc = lw_spool_message(g->spool, info.id, topic, "", true, &tag);
    lw_log_fields(LW_LOG_NOTICE, node->name, (long long)info.id, "alert #%lld %s: %s",
                  (long long)info.id, name, sentence);
    if (!json) {
        lw_log(LW_LOG_ERR, "alert #%lld: out of memory building the message", (long long)info.id);
        return;
    }
    if (rc != LW_OK) {
        /* The queue for the disk is full (it has been failing for long): told all the same. */
        lw_log_rl(LW_LOG_ERR, "alert #%lld paged without being kept for the journal",
                  (long long)info.id);
        if (g->mqtt && lw_mqtt_publish(g->mqtt, topic, json, 1, !over, 0) == LW_OK && over)
            lw_mqtt_publish(g->mqtt, topic, "", 1, true, 0);
    } else if (gw_journal_now(g) != LW_OK)
        lw_log(LW_LOG_ERR,
               "alert #%lld could not be journalled; paged from memory, journalled when the "
               "disk takes writes again",
               (long long)info.id);
    /* Raised on an exceedance a recalibration pinned (calibrate --zero --force while its
     * persistence ran): its record keeps the pin, as for an alert open at the recalibration. */
    if (state == LW_ALERT_RAISED && st->pinned && rc == LW_OK &&
        lw_alertdb_set_pin(g->store, info.id, st->pin_zero_mm) != LW_OK)
        lw_log_rl(LW_LOG_ERR, "alert #%lld: its calibration pin could not be stored",
                  (long long)info.id);
    /* Then the people on duty: tier topics, escalation, reminders (a test alarm: a notice only). */
    gw_escalation_transition(g, node, rule, state, &info, json);
    free(json);
}

/* Water rising under an open flood alert: an update when the water has risen UPDATE_RISE_MM since
 * the alert's last message or reached a higher level's line (the lowest threshold of the node's
 * rules of that level), at most one per UPDATE_EVERY_MS. The update replaces the retained
 * alert/<id> (state updated: the new peak) and is journalled; the people told are paged again
 * only when it reached a colour above any the alert's messages reached before. */
#define UPDATE_RISE_MM  50.0
#define UPDATE_EVERY_MS (5 * 60 * 1000)

/* The highest level whose line the node's depth (or its mean) v has reached, and that line. */
static enum lw_level level_reached(const struct lw_config *cfg, const struct lw_node_conf *node,
                                   double v, enum lw_level floor, double *line)
{
    enum lw_level best = floor;
    double thr[LW_LEVEL_COUNT];
    for (int l = 0; l < LW_LEVEL_COUNT; l++)
        thr[l] = -1;
    for (size_t i = 0; i < cfg->n_rules; i++) {
        const struct lw_rule_conf *r = &cfg->rules[i];
        if (r->type != LW_RULE_THRESHOLD || r->metric != LW_METRIC_WATER || r->below ||
            (r->statistic != LW_STAT_VALUE && r->statistic != LW_STAT_MEAN) ||
            r->level >= LW_LEVEL_COUNT || !lw_rule_applies(r, node))
            continue;
        if (thr[r->level] < 0 || r->threshold < thr[r->level])
            thr[r->level] = r->threshold;
    }
    *line = 0;
    for (int l = LW_LEVEL_COUNT - 1; l > (int)floor; l--)
        if (thr[l] >= 0 && v >= thr[l]) {
            best = (enum lw_level)l;
            *line = thr[l];
            break;
        }
    return best;
}

void gw_alert_rising(struct lw_gateway *g, const struct lw_node_conf *node,
                     const struct lw_rule_conf *rule, struct lw_rule_state *st, double v, int64_t t)
{
    if (!st->active || st->pinned || rule->hazard != LW_HAZARD_FLOOD ||
        rule->type != LW_RULE_THRESHOLD || rule->metric != LW_METRIC_WATER || rule->below ||
        (rule->statistic != LW_STAT_VALUE && rule->statistic != LW_STAT_MEAN))
        return;
    double line;
    enum lw_level reached = level_reached(g->cfg, node, v, st->level, &line);
    bool higher = reached > st->reported_level;
    if ((v < st->reported + UPDATE_RISE_MM && !higher) ||
        (st->reported_ms && t - st->reported_ms < UPDATE_EVERY_MS && t >= st->reported_ms))
        return;
    struct lw_alert_info info = {
        .id = st->alert_id,
        .site = g->cfg->site,
        .rule = rule,
        .node = node,
        .state = LW_ALERT_UPDATED,
        .level = st->level,
        .value = v,
        .raised_ms = st->raised_ms ? st->raised_ms : t,
        .t_ms = t,
        .incident = g->incidents ? lw_incident_find(g->incidents, rule->hazard, node->building) : 0,
        .unconfirmed = st->unconfirmed,
        .previous = st->reported,
        .reached = reached,
        .reached_at = line,
    };
    char sentence[512], topic[128];
    lw_alert_sentence_en(&info, sentence, sizeof(sentence));
    lw_alert_topic(topic, sizeof(topic), g->cfg->site, info.id);
    char *json = lw_alert_json(&info);
    if (!json)
        return;
    int64_t tag;
    gw_journal_event(g, info.id, t, "updated", NULL, 0, NULL, sentence, NULL);
    gw_journal_peak(g, info.id, v);
    if (lw_spool_message(g->spool, info.id, topic, json, true, &tag) != LW_OK && g->mqtt)
        lw_mqtt_publish(g->mqtt, topic, json, 1, true, 0);
    lw_log_fields(LW_LOG_NOTICE, node->name, (long long)info.id, "alert #%lld updated: %s",
                  (long long)info.id, sentence);
    st->reported = v;
    st->reported_ms = t;
    if (higher) {
        st->reported_level = reached;
        if (g->escalation)
            lw_escalation_updated(g->escalation, info.id, json, lw_clock_wall_ms());
    }
    if (gw_journal_now(g) != LW_OK)
        lw_log(LW_LOG_ERR, "alert #%lld: its update could not be journalled yet",
               (long long)info.id);
    free(json);
}

/* What alerts share: the rules' cross-node state, the storage trouble alert's built-in rule, and
 * ids that continue above every id the last run may have published. */
int gw_alerts_open(struct lw_gateway *g)
{
    if (!(g->rules = lw_rules_new()))
        return LW_ERR_NOMEM;
    lw_alert_storage_rule(&g->storage_rule);
    g->last_alert_id = g->reserved_alert_id = lw_alertdb_id_floor(g->store);
    g->last_incident_id = g->reserved_incident_id = lw_alertdb_incident_id_floor(g->store);
    return LW_OK;
}
