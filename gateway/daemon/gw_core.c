/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's core in the order it starts. Each job of the pipeline lives in a file of its own
 * (gw_int.h lists them); this file starts them in dependency order and stops them in reverse,
 * and counts the loop's handles so the gateway is freed when the last one has closed. Everything
 * runs on the one libuv loop; the only waits are SQLite commits, which are batched
 * (storage.batch_rows / storage.batch_interval). */
#include "gw_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_clock.h"
#include "lw_error.h"
#include "lw_log.h"

int64_t gw_now_ms(const struct lw_gateway *g)
{
    return g->medium_clock && g->clock_ms ? g->clock_ms : lw_clock_wall_ms();
}

static void finish(struct lw_gateway *g)
{
    lw_escalation_free(g->escalation);
    lw_incidents_free(g->incidents);
    lw_mesh_free(g->mesh);
    lw_downlink_free(g->dl);
    free(g->relay_alerts);
    free(g->pending_cmds);
    free(g->was);
    lw_rules_free(g->rules);
    lw_nodedb_free(g->nodedb);
    lw_store_close(g->store);
    lw_spool_free(g->spool);
    free(g->replayed);
    lw_registry_free(g->reg);
    void (*done)(void *) = g->done;
    void *arg = g->done_arg;
    free(g);
    if (done)
        done(arg);
}

void gw_handle_closed(struct lw_gateway *g)
{
    if (--g->handles_open == 0)
        finish(g);
}

static void timer_closed(uv_handle_t *h)
{
    gw_handle_closed(h->data);
}

void gw_timer_init(struct lw_gateway *g, uv_timer_t *t)
{
    uv_timer_init(g->loop, t);
    t->data = g;
    g->handles_open++;
}

void gw_timer_close(uv_timer_t *t)
{
    if (!t->data || uv_is_closing((uv_handle_t *)t))
        return; /* never initialised (start failed before it), or closed already */
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, timer_closed);
}

/* State first (storage, the queue of alert writes, nodes, alerts, duty, clock, the last run's
 * open alerts), then the loop's handles (timers, MQTT, radio, relays, downlinks, the control
 * socket, metrics). */
int lw_gateway_new(uv_loop_t *loop, const struct lw_config *cfg, bool with_radio,
                   struct lw_gateway **out)
{
    struct lw_gateway *g = calloc(1, sizeof(*g));
    if (!g)
        return LW_ERR_NOMEM;
    g->loop = loop;
    g->cfg = cfg;
    g->started_ms = lw_clock_wall_ms();
    g->medium_clock = strcmp(cfg->sim_clock, "medium") == 0;
    snprintf(g->status_topic, sizeof(g->status_topic), "lorawatch/%s/gateway/status", cfg->site);
    snprintf(g->mark_topic, sizeof(g->mark_topic), "lorawatch/%s/gateway/mark", cfg->site);
    g->mark_sent = -1;
    g->mark_requeue = -1;

    int rc = gw_storage_open(g);
    if (rc == LW_OK)
        rc = gw_journal_open(g);
    if (rc == LW_OK)
        rc = gw_registry_open(g);
    if (rc == LW_OK)
        rc = gw_alerts_open(g);
    if (rc == LW_OK)
        rc = gw_escalation_open(g);
    if (rc != LW_OK) {
        finish(g);
        return rc == LW_ERR_DB ? LW_ERR_DB : LW_ERR_IO;
    }
    gw_clock_open(g);
    gw_restore_open(g);

    gw_storage_start(g);
    gw_escalation_start(g);
    gw_rules_start(g);
    gw_clock_start(g);
    if (gw_status_start(g) != LW_OK || gw_uplink_start(g, with_radio) != LW_OK) {
        /* Handles exist now: they are released through the normal stop path. */
        lw_gateway_stop(g, NULL, NULL);
        return LW_ERR_IO;
    }
    gw_relays_start(g);
    if (gw_downlinks_start(g) != LW_OK) {
        lw_gateway_stop(g, NULL, NULL);
        return LW_ERR_IO;
    }
    gw_commands_start(g);
    gw_metrics_start(g);

    char path[LW_PATH_MAX + 32];
    lw_config_db_path(cfg, path, sizeof(path));
    lw_log(LW_LOG_INFO, "site %s: %zu nodes, %zu rules, database %s", cfg->site,
           lw_registry_count(g->reg), cfg->n_rules, path);
    *out = g;
    return LW_OK;
}

void lw_gateway_stop(struct lw_gateway *g, void (*done)(void *arg), void *arg)
{
    g->done = done;
    g->done_arg = arg;
    lw_store_commit(g->store);
    gw_journal_stop(g);
    /* The last status carries the final counters, radio ones included: built first. */
    char *offline = gw_status_json(g, "offline");
    gw_metrics_stop(g);
    gw_uplink_stop(g);
    gw_commands_stop(g);
    gw_downlinks_stop(g);
    gw_relays_stop(g);
    lw_store_commit(g->store);
    gw_clock_stop(g);
    gw_rules_stop(g);
    gw_escalation_stop(g);
    gw_storage_stop(g);
    struct lw_store_stats ss;
    lw_store_stats(g->store, &ss);
    lw_log(LW_LOG_INFO, "stopped: %llu frames, %llu accepted, %llu readings stored, %llu alerts",
           (unsigned long long)g->c.frames, (unsigned long long)g->c.accepted,
           (unsigned long long)ss.readings_committed, (unsigned long long)g->c.alerts_raised);
    gw_status_stop(g, offline);
    free(offline);
}

void lw_gateway_counters(const struct lw_gateway *g, struct lw_gateway_counters *out)
{
    struct lw_store_stats ss;
    lw_store_stats(g->store, &ss);
    *out = g->c;
    out->readings_stored = ss.readings_committed; /* on disk, not merely handed to SQLite */
}
