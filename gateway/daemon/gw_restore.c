/* SPDX-License-Identifier: Apache-2.0 */
/* Start-up: the last run's open alerts, silences and incidents come back as they were. */
#include "gw_int.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "lw_clock.h"
#include "lw_error.h"
#include "lw_log.h"

void gw_restore_counter(void *arg, uint16_t addr, uint32_t fcnt)
{
    struct lw_node *n = lw_registry_find(arg, addr);
    if (n && n->conf->from_config)
        lw_replay_init_at(&n->replay, fcnt);
}

/* An open alert found at start-up is restored whole from its row: the rule state, so it clears
 * as usual and at the level it was raised at, and (test alarms aside) its duty state. One whose
 * rule or node is gone, or whose rule no longer applies to the node, was never closed (the daemon
 * stopped first): it is closed now. */
/* Whether the raise message says the filter could not confirm its water: the mark stays with
 * the alert's later messages, also after a restart. */
static bool raised_unconfirmed(const char *message)
{
    cJSON *m = message ? cJSON_Parse(message) : NULL;
    bool u = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "unconfirmed"));
    cJSON_Delete(m);
    return u;
}

static void restore_alert(void *arg, const struct lw_alertdb_open *o)
{
    struct lw_gateway *g = arg;
    struct lw_rule_conf relay_rule;
    struct lw_node_conf relay_node;
    struct relay_alert *ra;
    lw_alert_relay_rule(&relay_rule, g->cfg->mesh_relay_silence_ms);
    const struct lw_rule_conf *rule = NULL;
    const struct lw_node_conf *nc = NULL;
    /* The gateway's own rules (radio fault) keep their alert under address 0, in the engine. */
    long gi = o->node == 0 ? gw_rule_index(g->cfg, o->rule) : -1;
    if (gi >= 0 && g->cfg->rules[gi].type == LW_RULE_RADIO_FAULT) {
        if (lw_rules_gateway_restore(g->rules, o->rule, o->id, o->raised_ms, o->level)) {
            rule = &g->cfg->rules[gi];
            nc = lw_rules_gateway_node(g->rules, g->cfg->site);
        }
    } else if (strcmp(o->rule, relay_rule.name) == 0 && (ra = gw_relay_alert_state(g, o->node))) {
        /* A relay reported silent before the restart stays so until it is heard again
         * (mesh_known_relays); its alert is not withdrawn. */
        ra->st = (struct lw_rule_state){
            .active = true, .alert_id = o->id, .raised_ms = o->raised_ms, .level = o->level};
        rule = &relay_rule;
        gw_relay_node_conf(g, o->node, &relay_node);
        nc = &relay_node;
    } else if (o->node == 0 && strcmp(o->rule, g->storage_rule.name) == 0) {
        /* The storage trouble alert of before the restart: the first storage check clears it
         * (with its own all-clear) once the database takes writes, or it stays open. */
        g->storage_st = (struct lw_rule_state){
            .active = true, .alert_id = o->id, .raised_ms = o->raised_ms, .level = o->level};
        rule = &g->storage_rule;
        nc = lw_rules_gateway_node(g->rules, g->cfg->site);
    } else {
        struct lw_node *n = lw_registry_find(g->reg, o->node);
        for (size_t i = 0; n && i < g->cfg->n_rules; i++)
            if (strcmp(g->cfg->rules[i].name, o->rule) == 0 &&
                lw_rule_applies(&g->cfg->rules[i], n->conf)) {
                n->rules[i].active = true;
                n->rules[i].alert_id = o->id;
                n->rules[i].raised_ms = o->raised_ms;
                n->rules[i].level = o->level;
                n->rules[i].reported = o->peak; /* the next update goes on from its peak */
                n->rules[i].reported_level = o->level;
                n->rules[i].unconfirmed = raised_unconfirmed(o->message);
                if (o->pin_zero_mm >= 0) {
                    n->rules[i].pinned = true;
                    n->rules[i].pin_zero_mm = (uint32_t)o->pin_zero_mm;
                }
                rule = &g->cfg->rules[i];
                nc = n->conf;
                break;
            }
    }
    if (rule) {
        if (!o->test)
            gw_restore_duty(g, nc, rule, o);
        return;
    }
    lw_log(LW_LOG_NOTICE, "alert #%lld (rule %s) no longer applies: closed", (long long)o->id,
           o->rule);
    lw_alertdb_set_state(g->store, o->id, "closed", lw_clock_wall_ms());
    lw_alertdb_journal_row(g->store, o->id, lw_clock_wall_ms(), "closed",
                           "rule or node no longer configured at start-up");
    /* Its rule is gone, so no full message can be built: an empty retained message removes the
     * stale "raised" one from the broker (MQTT's way), delivered through the outbox as usual. */
    char topic[128];
    int64_t seq;
    lw_alert_topic(topic, sizeof(topic), g->cfg->site, o->id);
    lw_store_outbox_add(g->store, o->id, topic, "", true, &seq);
}

/* A zero offset changed in the file while the daemon was stopped is a recalibration too: the
 * alerts found open that were raised under the old zero (was: the nodes as the last run left
 * them in the database) are pinned to it, as a reload would have. */
void gw_pin_restored(struct lw_gateway *g, const struct lw_node_conf *was, size_t n_was)
{
    for (size_t k = 0; k < n_was; k++) {
        struct lw_node *n = lw_registry_find(g->reg, was[k].address);
        if (!n || n->conf->zero_offset_mm == was[k].zero_offset_mm)
            continue;
        for (size_t i = 0; i < g->cfg->n_rules; i++) {
            struct lw_rule_state *st = &n->rules[i];
            if (!st->applies || !st->active || st->pinned)
                continue;
            lw_rules_recalibrated(g->rules, &g->cfg->rules[i], n->conf, st, was[k].zero_offset_mm);
            if (st->pinned && lw_alertdb_set_pin(g->store, st->alert_id, st->pin_zero_mm) != LW_OK)
                lw_log_rl(LW_LOG_ERR, "alert #%lld: its calibration pin could not be stored",
                          (long long)st->alert_id);
        }
    }
}

/* The last run's open alerts, silences and incidents come back as they were. Silences first: an
 * open alert a silence covers resumes held back. Then the rules are primed from stored readings,
 * after the alerts: a replay never raises or clears one. */
void gw_restore_open(struct lw_gateway *g)
{
    lw_alertdb_each_silence(g->store, lw_clock_wall_ms(), gw_restore_silence, g);
    lw_alertdb_each_open(g->store, restore_alert, g);
    gw_pin_restored(g, g->was, g->n_was);
    gw_prime_rules(g);
    free(g->was);
    g->was = NULL;
    g->n_was = 0;
    lw_store_commit(g->store);
    g->incidents = lw_incidents_new();
    lw_alertdb_each_incident_alert(g->store, lw_clock_wall_ms(), gw_restore_incident, g);
}
