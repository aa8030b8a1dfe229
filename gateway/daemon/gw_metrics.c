/* SPDX-License-Identifier: Apache-2.0 */
/* The metrics snapshot: the file node-exporter reads and the CLI's status. */
#include "gw_int.h"

#include <errno.h>
#include <string.h>

#include "lw_clock.h"
#include "lw_error.h"
#include "lw_log.h"

void gw_fill_metrics(struct lw_gateway *g, bool up, struct lw_metrics *out)
{
    struct lw_metrics m = {
        .site = g->cfg->site,
        .up = up,
        .start_time_s = g->started_ms / 1000.0,
        .time_s = lw_clock_wall_ms() / 1000.0,
        .interval_s = g->cfg->metrics_interval_ms / 1000.0,
        .nodes = lw_registry_count(g->reg),
        .frames = g->c.frames,
        .ingest = g->ingest,
        .db_bytes = lw_store_size(g->store),
        .alerts_raised = g->c.alerts_raised,
        .alerts_cleared = g->c.alerts_cleared,
        .mqtt_connected = g->mqtt && lw_mqtt_connected(g->mqtt),
        .outbox = lw_store_outbox_count(g->store),
        .clock_synced = g->clock_synced,
        .loop_lag_s = g->lag_s,
        .loop_lag_max_s = g->lag_max_s,
    };
    if (g->radio) {
        struct lw_radio_stats rs;
        lw_radio_stats(g->radio, &rs);
        m.radio_malformed = rs.rx_malformed;
        m.radio_resets = rs.resets;
        m.radio_crc_errors = rs.rx_crc_errors;
        m.radio_watchdog_checks = rs.watchdog_checks;
        m.radio_tx_timeouts = rs.tx_timeouts;
        m.radio_recoveries_failed = rs.recoveries_failed;
        m.radio_fault = rs.fault;
    }
    lw_store_stats(g->store, &m.store);
    m.storage = lw_store_trouble(g->store);
    m.storage_waiting = lw_spool_count(g->spool);
    m.ballast_bytes = lw_store_ballast_bytes(g->store);
    if (g->mqtt)
        lw_mqtt_stats(g->mqtt, &m.mqtt);
    if (g->mesh)
        lw_mesh_stats(g->mesh, &m.mesh);
    if (g->control)
        lw_control_stats(g->control, &m.control);
    m.joins = g->joins;
    m.commands = g->commands;
    for (size_t i = 0; i < lw_registry_count(g->reg); i++) {
        const struct lw_node *n = lw_registry_at(g->reg, i);
        for (size_t r = 0; r < g->cfg->n_rules; r++)
            m.alerts_active += n->rules[r].active;
    }
    *out = m;
}

static void write_metrics(struct lw_gateway *g, bool up)
{
    struct lw_metrics m;
    gw_fill_metrics(g, up, &m);
    if (lw_metrics_write(g->cfg->metrics_file, &m) != LW_OK)
        lw_log_rl(LW_LOG_WARNING, "metrics: cannot write %s: %s", g->cfg->metrics_file,
                  strerror(errno));
}

static void on_metrics_timer(uv_timer_t *t)
{
    struct lw_gateway *g = t->data;
    uint64_t now = uv_now(g->loop);
    g->lag_s = now > g->metrics_due ? (now - g->metrics_due) / 1000.0 : 0;
    if (g->lag_s > g->lag_max_s)
        g->lag_max_s = g->lag_s;
    g->metrics_due = now + g->cfg->metrics_interval_ms;
    write_metrics(g, true);
}

void gw_metrics_start(struct lw_gateway *g)
{
    gw_timer_init(g, &g->metrics_timer);
    if (!g->cfg->metrics_file[0])
        return;
    g->metrics_due = uv_now(g->loop) + g->cfg->metrics_interval_ms;
    uv_timer_start(&g->metrics_timer, on_metrics_timer, g->cfg->metrics_interval_ms,
                   g->cfg->metrics_interval_ms);
    write_metrics(g, true);
}

/* lorawatch status then says "not running", not "stale". */
void gw_metrics_stop(struct lw_gateway *g)
{
    if (g->cfg->metrics_file[0])
        write_metrics(g, false);
    gw_timer_close(&g->metrics_timer);
}
