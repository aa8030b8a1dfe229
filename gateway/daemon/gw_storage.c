/* SPDX-License-Identifier: Apache-2.0 */
/* Storage: batched commits, the disk's trouble alert and retention of raw readings. */
#include "gw_int.h"

#include <string.h>

#include "lw_clock.h"
#include "lw_error.h"
#include "lw_rollup_rules.h"
#include "lw_log.h"

/* Raw readings past [storage] retention_days go a few hundred at a time, never all at once, and
 * not while the wall clock is untrusted (a clock years ahead would delete them all). */
#define RETENTION_INTERVAL_MS 10000
#define RETENTION_ROWS        500

static void on_commit_timer(uv_timer_t *t)
{
    lw_gateway_flush(t->data);
}

/* The database cannot take writes (or its WAL cannot be reset): a red trouble alert to the duty
 * room, raised while it lasts and while alerts wait in memory for the disk. */
void gw_storage_check(struct lw_gateway *g)
{
    if (g->storage_checking || !g->rules || !g->cfg)
        return;
    enum lw_store_trouble t = lw_store_trouble(g->store);
    bool bad = t != LW_STORE_OK || lw_spool_count(g->spool) > 0;
    if (bad != g->storage_st.active) {
        g->storage_checking = true;
        g->storage_st.active = bad;
        lw_log(bad ? LW_LOG_ERR : LW_LOG_NOTICE, "storage trouble %s (%s)",
               bad ? "raised" : "cleared", lw_store_trouble_name(t));
        gw_alert_transition(g, lw_rules_gateway_node(g->rules, g->cfg->site), &g->storage_rule,
                            &g->storage_st, bad ? LW_ALERT_RAISED : LW_ALERT_CLEARED,
                            bad ? (double)t : 0, gw_now_ms(g));
        g->storage_checking = false;
    }
    if (t != g->storage_shown && g->mqtt) {
        g->storage_shown = t;
        gw_publish_status(g);
    }
}

static void on_storage_timer(uv_timer_t *timer)
{
    struct lw_gateway *g = timer->data;
    lw_store_tick(g->store);
    g->flush_retry_ms = 0;
    if (lw_spool_count(g->spool))
        gw_journal_now(g);
    else
        gw_storage_check(g);
}

void lw_gateway_flush(struct lw_gateway *g)
{
    /* An acknowledgement lost with a rolled-back batch leaves its row in the outbox while the
     * MQTT client has forgotten it, and the handover mark has passed it: without this it would
     * wait there until the next connection. Handed over again (a duplicate for subscribers) only
     * once the disk takes writes, or a full disk would have it published again and again. */
    if (lw_store_commit(g->store) == LW_OK && lw_store_trouble(g->store) == LW_STORE_OK &&
        lw_store_outbox_acks_lost(g->store)) {
        g->handover_failed = false;
        g->outbox_handed = 0;
        gw_replay_outbox(g, 0);
    }
}

static void on_retention_timer(uv_timer_t *t)
{
    struct lw_gateway *g = t->data;
    if (g->clock_synced && lw_store_retention_step(g->store, gw_now_ms(g), RETENTION_ROWS) < 0)
        lw_log_rl(LW_LOG_WARNING, "retention: deleting old readings failed; retried later");
}

/* Pending readings are committed within [storage] batch_interval of the first. */
void gw_storage_commit_soon(struct lw_gateway *g)
{
    if (!uv_is_active((uv_handle_t *)&g->commit_timer))
        uv_timer_start(&g->commit_timer, on_commit_timer, g->cfg->batch_ms, 0);
}

int lw_gateway_set_levels(struct lw_store *s, const struct lw_config *cfg)
{
    struct lw_level_source src;
    int rc = lw_rules_level_source(cfg->rules, cfg->n_rules, &src);
    if (rc == LW_OK)
        lw_store_set_levels(s, &src);
    return rc;
}

/* The rules' levels the rollups measure time above; again after a reload. */
void gw_storage_set_levels(struct lw_gateway *g, const struct lw_config *cfg)
{
    if (lw_gateway_set_levels(g->store, cfg) != LW_OK)
        lw_log(LW_LOG_ERR, "out of memory: the rollups keep the levels they had");
}

/* The database and what it is told once: this boot, the rule levels rollups count time above,
 * how long raw readings are kept. */
int gw_storage_open(struct lw_gateway *g)
{
    char path[LW_PATH_MAX + 32], err[512];
    lw_config_db_path(g->cfg, path, sizeof(path));
    g->store = lw_store_open(path, g->cfg->batch_rows, err, sizeof(err));
    if (!g->store) {
        lw_log(LW_LOG_ERR, "%s", err);
        return LW_ERR_DB;
    }
    char boot[64];
    lw_clock_boot_id(boot, sizeof(boot));
    lw_store_set_boot(g->store, boot);
    gw_storage_set_levels(g, g->cfg); /* rollups: time above each rule level */
    lw_store_set_retention(g->store, g->cfg->retention_days);
    return LW_OK;
}

void gw_storage_start(struct lw_gateway *g)
{
    gw_timer_init(g, &g->commit_timer);
    gw_timer_init(g, &g->retention_timer);
    if (g->cfg->retention_days)
        uv_timer_start(&g->retention_timer, on_retention_timer, RETENTION_INTERVAL_MS,
                       RETENTION_INTERVAL_MS);
    gw_timer_init(g, &g->storage_timer);
    uv_timer_start(&g->storage_timer, on_storage_timer, 1000, 1000);
}

void gw_storage_stop(struct lw_gateway *g)
{
    gw_timer_close(&g->commit_timer);
    gw_timer_close(&g->storage_timer);
    gw_timer_close(&g->retention_timer);
}
