/* SPDX-License-Identifier: Apache-2.0 */
/* The wall clock's synchronisation: readings and alert times taken before it are corrected once
 * it is, and the open alerts' messages are sent again with the corrected times. */
#include "gw_int.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lw_clock.h"
#include "lw_error.h"
#include "lw_log.h"

/* The raise message of an open alert raised before the clock was right, its times moved by
 * delta_ms (raised: raised_ms); the rest is as published. NULL if it cannot be read. */
static char *retimed_message(const char *message, int64_t delta_ms, int64_t raised_ms)
{
    cJSON *o = message ? cJSON_Parse(message) : NULL;
    cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "time_ms");
    char buf[64], *out = NULL;
    if (cJSON_IsNumber(t)) {
        int64_t t_ms = (int64_t)t->valuedouble + delta_ms;
        cJSON_SetNumberValue(t, (double)t_ms);
        lw_format_time(t_ms, buf, sizeof(buf));
        cJSON_ReplaceItemInObjectCaseSensitive(o, "time", cJSON_CreateString(buf));
        lw_format_time(raised_ms, buf, sizeof(buf));
        cJSON_ReplaceItemInObjectCaseSensitive(o, "raised", cJSON_CreateString(buf));
        out = cJSON_PrintUnformatted(o);
    }
    cJSON_Delete(o);
    return out;
}

/* lw_store_fix_times calls this inside its transaction: the stored message is corrected there;
 * what is held in memory only once that transaction is committed (apply_retimed). */
static char *retime_alert(void *arg, int64_t alert, int64_t delta_ms, int64_t raised_ms,
                          const char *message)
{
    struct lw_gateway *g = arg;
    struct retimed *r = realloc(g->retimed, (g->n_retimed + 1) * sizeof(*r));
    if (!r)
        return NULL;
    g->retimed = r;
    char *m = retimed_message(message, delta_ms, raised_ms);
    r[g->n_retimed++] = (struct retimed){alert, raised_ms, m ? strdup(m) : NULL};
    return m;
}

static struct lw_rule_state *state_of_alert(struct lw_gateway *g, int64_t id)
{
    if (g->storage_st.active && g->storage_st.alert_id == id)
        return &g->storage_st;
    for (size_t i = 0; i < g->n_relay_alerts; i++)
        if (g->relay_alerts[i].st.active && g->relay_alerts[i].st.alert_id == id)
            return &g->relay_alerts[i].st;
    for (size_t k = 0; k < g->cfg->n_rules; k++) {
        struct lw_rule_state *st = lw_rules_gateway_state(g->rules, g->cfg->rules[k].name);
        if (st && st->active && st->alert_id == id)
            return st;
    }
    for (size_t i = 0; i < lw_registry_count(g->reg); i++) {
        struct lw_node *n = lw_registry_at(g->reg, i);
        for (size_t k = 0; k < g->cfg->n_rules; k++)
            if (n->rules[k].active && n->rules[k].alert_id == id)
                return &n->rules[k];
    }
    return NULL;
}

/* Once the correction is committed (ok): the open alerts it moved say their corrected raise time
 * in their all-clear and in later duty messages, and their retained alert/<id> state is
 * published again with it. Messages already published keep the times they had. */
static void apply_retimed(struct lw_gateway *g, bool ok)
{
    bool sent = false;
    for (size_t i = 0; i < g->n_retimed; i++) {
        struct retimed *r = &g->retimed[i];
        struct lw_rule_state *st = ok ? state_of_alert(g, r->id) : NULL;
        if (st)
            st->raised_ms = r->raised_ms;
        if (ok && r->message) {
            char topic[128];
            int64_t tag;
            lw_escalation_set_payload(g->escalation, r->id, r->message);
            lw_alert_topic(topic, sizeof(topic), g->cfg->site, r->id);
            sent |= lw_spool_message(g->spool, r->id, topic, r->message, true, &tag) == LW_OK;
        }
        free(r->message);
    }
    free(g->retimed);
    g->retimed = NULL;
    g->n_retimed = 0;
    if (sent && g->mqtt)
        gw_journal_now(g); /* at start-up the storage timer writes them, before the connection */
}

/* A silence made before the clock was right shows its corrected end (its duration runs on the
 * monotonic clock and does not change). */
static void retime_silence(void *arg, const struct lw_silence *s)
{
    struct lw_gateway *g = arg;
    const struct lw_silence *all;
    size_t n = lw_escalation_silences(g->escalation, &all);
    for (size_t i = 0; i < n; i++)
        if (all[i].id == s->id)
            ((struct lw_silence *)all)[i].until_ms = s->until_ms;
}

/* Readings of this boot stored before the wall clock was right get their time (and join the
 * rollups), and the alert side's times written meanwhile theirs, in one transaction: the offset
 * is the one between the monotonic clock and the now correct wall clock. */
static long correct_times(struct lw_gateway *g)
{
    long n = lw_store_fix_times(g->store, lw_clock_wall_ms() - lw_clock_mono_ms(), retime_alert, g);
    apply_retimed(g, n >= 0);
    if (n >= 0)
        lw_alertdb_each_silence(g->store, lw_clock_wall_ms(), retime_silence, g);
    return n;
}

/* Until NTP (or whatever clock_check names) says the wall clock is right, readings are stored
 * with their monotonic time and alert-side times are listed as provisional; then all of them are
 * put right. Rows a full disk still holds in memory carry provisional times too: they go to the
 * database first, so the correction finds them (until then the clock counts as unsynchronised).
 * A correction that fails is tried again. */
static void on_sync_timer(uv_timer_t *t)
{
    struct lw_gateway *g = t->data;
    if (!g->clock_synced) {
        if (!lw_clock_synced(g->cfg->clock_check))
            return;
        if (lw_spool_count(g->spool))
            gw_journal_now(g);
        if (lw_spool_count(g->spool))
            return;
        g->clock_synced = true;
        lw_store_set_unsynced(g->store, false);
    }
    long n = correct_times(g);
    if (n < 0)
        return;
    uv_timer_stop(t);
    lw_log(LW_LOG_NOTICE, "wall clock synchronised: %ld readings received before it corrected", n);
}

/* A simulated medium supplies its own clock; otherwise ask whether ours can be trusted. Decided
 * before the alerts are restored: their times (an escalation's due time, a silence's end) must be
 * read corrected, and whatever the restore writes is marked. */
void gw_clock_open(struct lw_gateway *g)
{
    g->clock_synced = g->medium_clock || lw_clock_synced(g->cfg->clock_check);
    if (!g->clock_synced) {
        lw_log(LW_LOG_WARNING,
               "wall clock not synchronised (clock_check = %s): readings are "
               "marked and corrected once it is",
               g->cfg->clock_check);
        lw_store_set_unsynced(g->store, true);
    } else if (!g->medium_clock) {
        /* An earlier run of this boot stopped before the clock synchronised: its readings and
         * alert times are put right now, or they would stay wrong (and the readings out of the
         * rollups) for good. */
        long n = correct_times(g);
        if (n > 0)
            lw_log(LW_LOG_NOTICE,
                   "wall clock synchronised: %ld readings received before it corrected", n);
    }
}

void gw_clock_start(struct lw_gateway *g)
{
    gw_timer_init(g, &g->sync_timer);
    if (!g->clock_synced)
        uv_timer_start(&g->sync_timer, on_sync_timer, 2000, 2000);
}

void gw_clock_stop(struct lw_gateway *g)
{
    gw_timer_close(&g->sync_timer);
}
