/* SPDX-License-Identifier: Apache-2.0 */
/* The node registry: built from the node table at start, rebuilt after maintenance commands and
 * on reload, carrying runtime state over by address and rule name. */
#include "gw_int.h"

#include <stdlib.h>
#include <string.h>

#include "lw_clock.h"
#include "lw_config.h"
#include "lw_error.h"
#include "lw_log.h"
#include "lw_presets.h"

static void log_node_problem(void *arg, const char *msg)
{
    (void)arg;
    lw_log(LW_LOG_ERR, "%s; that node is left out", msg);
}

/* A registry of the database's nodes for cfg's rules. Joined nodes resume their replay window
 * from their own row; last contact comes from the row until the node is heard again. */
static struct lw_registry *load_registry(struct lw_gateway *g, const struct lw_config *cfg)
{
    struct lw_node_conf *nodes = NULL;
    struct lw_node_contact *seen = NULL;
    size_t n = 0;
    if (lw_nodedb_load(g->nodedb, false, &nodes, &seen, &n) != LW_OK)
        return NULL;
    struct lw_registry *reg = lw_registry_new(cfg, nodes, n);
    for (size_t i = 0; reg && i < n; i++) {
        struct lw_node *node = lw_registry_find(reg, nodes[i].address);
        if (!node)
            continue;
        if (!nodes[i].from_config && nodes[i].fcnt_up)
            lw_replay_init_at(&node->replay, nodes[i].fcnt_up);
        node->db_seen = seen[i];
    }
    free(nodes);
    free(seen);
    return reg;
}

static void note_restart_key(void *arg, const char *section, const char *key)
{
    (void)arg;
    lw_log(LW_LOG_WARNING, "reload: [%s] %s changed; it takes effect after a restart", section,
           key);
}

long gw_rule_index(const struct lw_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_rules; i++)
        if (strcmp(cfg->rules[i].name, name) == 0)
            return (long)i;
    return -1;
}

static void restore_new_counter(void *arg, uint16_t addr, uint32_t fcnt)
{
    struct lw_node *n = lw_registry_find(arg, addr);
    /* Only nodes that were not running before; joined nodes resume from their own row (their
     * counters restart with every session, so older readings say nothing). */
    if (n && !n->replay.any && n->conf->from_config)
        lw_replay_init_at(&n->replay, fcnt);
}

/* Make reg (built for configuration next) the running registry: runtime state carries over by
 * node address and rule name; alerts whose node or rule is gone, or whose rule no longer applies
 * to the node, are closed. Returns how many were closed. */
static size_t adopt_registry(struct lw_gateway *g, const struct lw_config *next,
                             struct lw_registry *reg)
{
    int64_t t = gw_now_ms(g);
    size_t closed = 0;
    for (size_t i = 0; i < lw_registry_count(g->reg); i++) {
        struct lw_node *old = lw_registry_at(g->reg, i);
        struct lw_node *n = lw_registry_find(reg, old->conf->address);
        if (n) {
            /* The replay window belongs to the session keys: new keys, new window. */
            if (old->conf->has_session && n->conf->has_session &&
                !memcmp(old->conf->key, n->conf->key, LW_KEY_LEN))
                n->replay = old->replay;
            n->first_seen_ms = old->first_seen_ms;
            n->last_seen_ms = old->last_seen_ms;
            n->last_rssi_x10 = old->last_rssi_x10;
            n->last_snr_x10 = old->last_snr_x10;
            n->last_sf = old->last_sf;
            n->last_hops = old->last_hops;
            n->last_relay = old->last_relay;
            n->last = old->last;
            if ((n->last.present & LW_R_WATER) &&
                old->conf->zero_offset_mm != n->conf->zero_offset_mm) { /* on the new zero */
                uint32_t raw = n->last.water_mm + old->conf->zero_offset_mm;
                n->last.water_mm = lw_water_calibrated(
                    raw > UINT16_MAX ? UINT16_MAX : (uint16_t)raw, n->conf->zero_offset_mm);
            }
            n->frames = old->frames;
            n->db_saved_ms = old->db_saved_ms;
        }
        for (size_t k = 0; k < g->cfg->n_rules; k++) {
            long j = n ? gw_rule_index(next, g->cfg->rules[k].name) : -1;
            if (j >= 0 && n->rules[j].applies) {
                n->rules[j] = old->rules[k];
                n->rules[j].applies = true; /* computed for the new configuration */
                /* A new zero offset (calibrate, or a reload) never clears an alert by itself. */
                struct lw_rule_state *st = &n->rules[j];
                bool was_pinned = st->pinned;
                lw_rules_recalibrated(g->rules, &next->rules[j], n->conf, st,
                                      old->conf->zero_offset_mm);
                /* On the alert's record too: a restart must not forget it. */
                if (st->pinned && !was_pinned && st->active &&
                    lw_alertdb_set_pin(g->store, st->alert_id, st->pin_zero_mm) != LW_OK)
                    lw_log_rl(LW_LOG_ERR, "alert #%lld: its calibration pin could not be stored",
                              (long long)st->alert_id);
            } else if (old->rules[k].active) {
                /* Nobody will ever clear it now: withdraw it, on the record and on the retained
                 * topic, so no phone keeps showing it as raised. */
                gw_alert_transition(g, old->conf, &g->cfg->rules[k], &old->rules[k],
                                    LW_ALERT_CLOSED, 0, t);
                closed++;
            }
        }
    }
    /* The gateway's own rules: an open alert of one that is gone is withdrawn the same way. */
    for (size_t k = 0; k < g->cfg->n_rules; k++) {
        const struct lw_rule_conf *rule = &g->cfg->rules[k];
        long j = gw_rule_index(next, rule->name);
        struct lw_rule_state *st =
            rule->type == LW_RULE_RADIO_FAULT ? lw_rules_gateway_state(g->rules, rule->name) : NULL;
        if (!st || !st->active || (j >= 0 && next->rules[j].type == LW_RULE_RADIO_FAULT))
            continue;
        gw_alert_transition(g, lw_rules_gateway_node(g->rules, g->cfg->site), rule, st,
                            LW_ALERT_CLOSED, 0, t);
        memset(st, 0, sizeof(*st));
        closed++;
    }
    lw_store_commit(g->store);
    lw_store_each_counter(g->store, restore_new_counter, reg);
    lw_registry_free(g->reg);
    g->reg = reg;
    g->cfg = next;
    return closed;
}

int lw_gateway_reload(struct lw_gateway *g, struct lw_config *next)
{
    lw_config_keep_restart_keys(g->cfg, next, note_restart_key, g);
    if (lw_nodedb_sync_config(g->nodedb, next, lw_clock_wall_ms(), log_node_problem, g) != LW_OK)
        lw_log(LW_LOG_WARNING, "reload: node table not updated in the database");
    struct lw_registry *reg = load_registry(g, next);
    if (!reg)
        return LW_ERR_NOMEM;
    size_t closed = adopt_registry(g, next, reg);
    gw_storage_set_levels(g, next); /* rollups: time above the new rule levels */
    lw_escalation_set_config(g->escalation,
                             next); /* the roster and timings reload with the rules */
    gw_escalation_journal_roster(g, next);
    lw_log(LW_LOG_NOTICE, "configuration reloaded: %zu nodes, %zu rules%s", lw_registry_count(reg),
           next->n_rules, closed ? "; alerts of removed rules or nodes closed" : "");
    return LW_OK;
}

/* The node registry changed in the database (a maintenance command): same configuration, new
 * registry. */
int gw_rebuild_registry(void *arg)
{
    struct lw_gateway *g = arg;
    struct lw_registry *reg = load_registry(g, g->cfg);
    if (!reg)
        return LW_ERR_NOMEM;
    adopt_registry(g, g->cfg, reg);
    return LW_OK;
}

/* The node table brought up to date from the configuration, and the registry built from it. The
 * nodes as the last run left them are kept (g->was) until the open alerts are restored: a zero
 * changed while the daemon was stopped pins them (gw_pin_restored). */
int gw_registry_open(struct lw_gateway *g)
{
    const struct lw_config *cfg = g->cfg;
    g->nodedb = lw_nodedb_new(g->store);
    if (g->nodedb && lw_nodedb_load(g->nodedb, false, &g->was, NULL, &g->n_was) != LW_OK)
        g->n_was = 0; /* then a zero changed while stopped is not seen: logged below */
    int synced =
        g->nodedb ? lw_nodedb_sync_config(g->nodedb, cfg, lw_clock_wall_ms(), log_node_problem, g)
                  : LW_ERR_NOMEM;
    if (synced != LW_OK && g->nodedb && lw_store_ballast_just_released(g->store))
        synced = lw_nodedb_sync_config(g->nodedb, cfg, lw_clock_wall_ms(), log_node_problem, g);
    if (synced != LW_OK && g->nodedb && lw_store_trouble(g->store) != LW_STORE_OK) {
        /* A full or failing disk must not keep the gateway from paging: the nodes as the table
         * has them, the file's changes when the disk takes writes (a reload or restart). */
        lw_log(LW_LOG_ERR, "node table not updated from the configuration (%s): nodes as stored",
               lw_store_trouble_name(lw_store_trouble(g->store)));
        synced = LW_OK;
    }
    if (synced != LW_OK || !(g->reg = load_registry(g, cfg))) {
        lw_log(LW_LOG_ERR, "cannot set up the node registry");
        return LW_ERR_IO;
    }
    lw_store_each_counter(g->store, gw_restore_counter, g->reg);
    return LW_OK;
}
