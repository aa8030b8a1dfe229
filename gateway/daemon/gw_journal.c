/* SPDX-License-Identifier: Apache-2.0 */
/* The one writer of alert and journal rows: every write is queued in order (lw_spool) until the
 * database has it, and alert ids are reserved ahead so none is handed out twice. */
#include "gw_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_log.h"
#include "lw_version.h"

struct outbox_done_row {
    int64_t seq, t;
};

/* Memory for alert writes waiting for the disk: a storm of hours. Beyond it, transitions are
 * still paged, but no longer kept for the journal. */
#define SPOOL_MAX_BYTES (32u << 20)

struct alert_row {
    int64_t id, t, incident;
    char rule[LW_NAME_MAX];
    enum lw_hazard hazard;
    enum lw_level level;
    uint16_t node;
    double value, threshold;
    bool test;
    char message[]; /* the raise message as published, kept with the alert */
};

struct state_row {
    int64_t id, t;
    enum lw_alert_state state;
};

struct incident_row {
    int64_t id, t;
    bool open;
    enum lw_hazard hazard;
    enum lw_level level;
    char building[LW_NAME_MAX];
};

struct update_row {
    int64_t alert, acked_ms;
    unsigned tier;
    bool acked;
    char acked_by[256], outcome[16];
};

struct silence_end_row {
    int64_t silence, t;
};

static int apply_outbox_done(struct lw_store *s, const void *data)
{
    const struct outbox_done_row *d = data;
    int64_t alert = 0;
    int rc = lw_store_outbox_done(s, d->seq, &alert);
    if (rc == LW_OK && alert > 0)
        rc = lw_alertdb_journal_row(s, alert, d->t, "published", NULL);
    return rc;
}

/* Alert ids come from here, not from SQLite: an id is never handed out twice, even when the
 * disk fails and a transition could not be journalled but was published all the same. Ids are
 * reserved in the database a block at a time, so a restart continues above every id that may
 * have been published. */
#define ALERT_ID_BLOCK 64

int64_t gw_next_alert_id(struct lw_gateway *g)
{
    int64_t id = ++g->last_alert_id;
    if (id > g->reserved_alert_id) {
        int64_t upto = id + ALERT_ID_BLOCK - 1;
        if (lw_alertdb_reserve_ids(g->store, upto) == LW_OK && lw_store_commit(g->store) == LW_OK)
            g->reserved_alert_id = upto;
        else
            lw_log_rl(LW_LOG_ERR, "alert ids could not be reserved in the database: ids may "
                                  "repeat after a restart");
    }
    return id;
}

/* Incident ids are handed out the same way: an incident opened while the disk fails has an id
 * of its own, never one another (hazard, building) was given. */
int64_t gw_next_incident_id(struct lw_gateway *g)
{
    int64_t id = ++g->last_incident_id;
    if (id > g->reserved_incident_id) {
        int64_t upto = id + ALERT_ID_BLOCK - 1;
        if (lw_alertdb_reserve_incident_ids(g->store, upto) == LW_OK &&
            lw_store_commit(g->store) == LW_OK)
            g->reserved_incident_id = upto;
        else
            lw_log_rl(LW_LOG_ERR, "incident ids could not be reserved in the database: ids may "
                                  "repeat after a restart");
    }
    return id;
}

static int apply_alert_row(struct lw_store *s, const void *data)
{
    const struct alert_row *a = data;
    int rc =
        lw_alertdb_insert(s, a->id, a->rule, lw_hazard_name(a->hazard), lw_level_name(a->level),
                          a->node, a->t, a->value, a->threshold, a->message[0] ? a->message : NULL);
    if (rc == LW_OK && a->test)
        rc = lw_alertdb_set_test(s, a->id);
    if (rc == LW_OK && a->incident)
        rc = lw_alertdb_set_incident(s, a->id, a->incident);
    return rc;
}

static int apply_state_row(struct lw_store *s, const void *data)
{
    const struct state_row *r = data;
    return lw_alertdb_set_state(s, r->id, lw_alert_state_name(r->state), r->t);
}

struct journal_row {
    int64_t alert, t;
    unsigned tier;
    char event[16], actor[256], via[16], detail[LW_TEXT_MAX + 512], outcome[16];
    bool has_actor, has_via, has_detail, has_outcome;
};

static int apply_journal_row(struct lw_store *s, const void *data)
{
    const struct journal_row *j = data;
    return lw_alertdb_journal(s, j->alert, j->t, j->event, j->has_actor ? j->actor : NULL, j->tier,
                              j->has_via ? j->via : NULL, j->has_detail ? j->detail : NULL,
                              j->has_outcome ? j->outcome : NULL);
}

void gw_journal_event(struct lw_gateway *g, int64_t alert, int64_t t, const char *event,
                      const char *actor, unsigned tier, const char *via, const char *detail,
                      const char *outcome)
{
    struct journal_row j = {.alert = alert, .t = t, .tier = tier};
    snprintf(j.event, sizeof(j.event), "%s", event);
    j.has_actor = actor && snprintf(j.actor, sizeof(j.actor), "%s", actor) >= 0;
    j.has_via = via && snprintf(j.via, sizeof(j.via), "%s", via) >= 0;
    j.has_detail = detail && snprintf(j.detail, sizeof(j.detail), "%s", detail) >= 0;
    j.has_outcome = outcome && snprintf(j.outcome, sizeof(j.outcome), "%s", outcome) >= 0;
    if (lw_spool_write(g->spool, apply_journal_row, &j, sizeof(j)) != LW_OK)
        lw_log(LW_LOG_ERR, "alert #%lld: out of memory: journal row '%s' lost", (long long)alert,
               event);
}

static int apply_incident_row(struct lw_store *s, const void *data)
{
    const struct incident_row *r = data;
    return r->open ? lw_alertdb_incident_open(s, r->id, r->hazard, r->building, r->level, r->t)
                   : lw_alertdb_incident_close(s, r->id, r->t);
}

/* Write what is queued and commit; then hand the new outbox rows to MQTT. When the disk does
 * not take it (full, failing), the queued messages go to the broker from memory now, and the
 * queue is written when the disk is back (on_storage_timer in gw_storage.c). A full disk first
 * gives up its ballast: the retry then has the space reserved for exactly this. */
int gw_journal_now(struct lw_gateway *g)
{
    /* After a failure the queue is tried again once a second, not with every transition: a long
     * queue written again and again on a full disk would cost the loop more and more. */
    uint64_t now = uv_now(g->loop);
    int rc = LW_ERR_DB;
    if (now >= g->flush_retry_ms) {
        rc = lw_spool_flush(g->spool, g->store);
        if (rc != LW_OK && lw_store_ballast_just_released(g->store))
            rc = lw_spool_flush(g->spool, g->store);
        g->flush_retry_ms = rc == LW_OK ? 0 : now + 1000;
    }
    if (rc == LW_OK && g->mark_requeue >= 0)
        gw_requeue_lost(g);
    if (rc == LW_OK) {
        g->handover_failed = false;
        if (lw_store_outbox_acks_lost(g->store))
            g->outbox_handed = 0; /* rows the client forgot are back in the outbox: see below */
        gw_replay_outbox(g, g->outbox_handed);
    } else {
        lw_spool_each_message(g->spool, false, gw_publish_from_memory, g);
    }
    gw_storage_check(g);
    return rc;
}

static int apply_update_row(struct lw_store *s, const void *data)
{
    const struct update_row *u = data;
    return lw_alertdb_update(s, u->alert, u->tier, u->acked ? u->acked_by : NULL, u->acked_ms,
                             u->acked && u->outcome[0] ? u->outcome : NULL);
}

struct peak_row {
    int64_t alert;
    double peak;
};

static int apply_peak_row(struct lw_store *s, const void *data)
{
    const struct peak_row *r = data;
    return lw_alertdb_set_peak(s, r->alert, r->peak);
}

static int apply_silence_end(struct lw_store *s, const void *data)
{
    const struct silence_end_row *r = data;
    return lw_alertdb_silence_end(s, r->silence, r->t);
}

/* The writes the spool file names by index: append only, never reorder (a file written by the
 * previous run of the same build is read back with this table). */
static const lw_spool_apply_fn spool_kinds[] = {
    apply_outbox_done,  apply_alert_row,  apply_state_row,   apply_journal_row,
    apply_incident_row, apply_update_row, apply_silence_end, apply_peak_row,
};

/* Alert writes a run killed with a full disk left in the spool file are journalled now, before
 * the alerts are restored from the database: then they come back like any other. With the disk
 * still full they wait in the queue (paged from it once the broker is there). */
static int keep_spool(struct lw_gateway *g)
{
    char layout[160];
    snprintf(layout, sizeof(layout), "%s %zu %zu %zu %zu %zu %zu %zu %zu", LW_VERSION,
             sizeof(struct outbox_done_row), sizeof(struct alert_row), sizeof(struct state_row),
             sizeof(struct journal_row), sizeof(struct incident_row), sizeof(struct update_row),
             sizeof(struct silence_end_row), sizeof(struct peak_row));
    if (lw_spool_keep(g->spool, g->cfg->spool_file, spool_kinds,
                      sizeof(spool_kinds) / sizeof(spool_kinds[0]), layout) != LW_OK)
        return LW_ERR_NOMEM;
    size_t loaded = 0;
    lw_spool_load(g->spool, &loaded);
    if (!loaded)
        return LW_OK;
    int rc = lw_spool_flush(g->spool, g->store);
    if (rc != LW_OK && lw_store_ballast_just_released(g->store))
        rc = lw_spool_flush(g->spool, g->store);
    if (rc == LW_OK)
        lw_log(LW_LOG_NOTICE,
               "spool file %s: %zu alert writes of a run that stopped with the disk full "
               "journalled",
               g->cfg->spool_file, loaded);
    else
        lw_log(LW_LOG_ERR,
               "spool file %s: %zu alert writes of a run that stopped with the disk full still "
               "wait for the disk",
               g->cfg->spool_file, loaded);
    return LW_OK;
}

/* The queue of alert writes, and what a run killed with a full disk left in its file. */
int gw_journal_open(struct lw_gateway *g)
{
    if (!(g->spool = lw_spool_new(SPOOL_MAX_BYTES)) || keep_spool(g) != LW_OK)
        return LW_ERR_NOMEM;
    return LW_OK;
}

/* A last chance for what waits in memory when stopping; the disk may have room again. */
void gw_journal_stop(struct lw_gateway *g)
{
    if (lw_spool_count(g->spool) && lw_spool_flush(g->spool, g->store) != LW_OK)
        lw_log(LW_LOG_ERR, "%zu alert writes could not be journalled before stopping",
               lw_spool_count(g->spool));
}

/* The typed writers: every alert, state, incident, duty and acknowledgement row goes through
 * the queue from here, in the order the daemon decided them. */
int gw_journal_alert(struct lw_gateway *g, const struct lw_rule_conf *rule, uint16_t node,
                     const struct lw_alert_info *info, const char *json)
{
    size_t mlen = json ? strlen(json) + 1 : 1;
    struct alert_row *a = calloc(1, sizeof(*a) + mlen);
    if (!a)
        return LW_ERR_NOMEM;
    *a = (struct alert_row){
        .id = info->id,
        .t = info->t_ms,
        .incident = info->incident,
        .hazard = rule->hazard,
        .level = info->level,
        .node = node,
        .value = info->value,
        .threshold = lw_rule_value_threshold(rule, false),
        .test = info->test,
    };
    snprintf(a->rule, sizeof(a->rule), "%s", rule->name);
    memcpy(a->message, json ? json : "", mlen);
    int rc = lw_spool_write(g->spool, apply_alert_row, a, sizeof(*a) + mlen);
    free(a);
    return rc;
}

int gw_journal_state(struct lw_gateway *g, int64_t alert, enum lw_alert_state state, int64_t t)
{
    struct state_row r = {.id = alert, .t = t, .state = state};
    return lw_spool_write(g->spool, apply_state_row, &r, sizeof(r));
}

int gw_journal_incident(struct lw_gateway *g, int64_t id, bool open, enum lw_hazard hazard,
                        enum lw_level level, const char *building, int64_t t)
{
    struct incident_row row = {.id = id, .t = t, .open = open, .hazard = hazard, .level = level};
    snprintf(row.building, sizeof(row.building), "%s", building);
    return lw_spool_write(g->spool, apply_incident_row, &row, sizeof(row));
}

int gw_journal_update(struct lw_gateway *g, int64_t alert, unsigned tier, const char *acked_by,
                      int64_t acked_ms, const char *outcome)
{
    struct update_row u = {.alert = alert, .acked_ms = acked_ms, .tier = tier};
    u.acked = acked_by && snprintf(u.acked_by, sizeof(u.acked_by), "%s", acked_by) >= 0;
    if (outcome)
        snprintf(u.outcome, sizeof(u.outcome), "%s", outcome);
    return lw_spool_write(g->spool, apply_update_row, &u, sizeof(u));
}

int gw_journal_peak(struct lw_gateway *g, int64_t alert, double peak)
{
    struct peak_row r = {alert, peak};
    return lw_spool_write(g->spool, apply_peak_row, &r, sizeof(r));
}

void gw_journal_silence_end(struct lw_gateway *g, int64_t silence, int64_t t)
{
    struct silence_end_row r = {silence, t};
    lw_spool_write(g->spool, apply_silence_end, &r, sizeof(r));
}

/* The broker has an outbox row. Through the queue, written at once: an acknowledgement that
 * joined the reading batch and went with it when the disk rolled the batch back was lost, and
 * handing its row to the broker again could put an older retained state after a newer one.
 * Queued, it waits for the disk like any alert write, behind what waits already. */
void gw_journal_acked(struct lw_gateway *g, int64_t seq, int64_t t)
{
    struct outbox_done_row d = {seq, t};
    if (lw_spool_write(g->spool, apply_outbox_done, &d, sizeof(d)) == LW_OK)
        gw_journal_now(g);
    else
        apply_outbox_done(g->store, &d);
}
