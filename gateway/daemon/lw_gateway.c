/* Pipeline wiring. Everything runs on the one libuv loop; the only waits are SQLite commits,
 * which are batched (storage.batch_rows / storage.batch_interval). */
#include "lw_gateway.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>
#include <string.h>
#include <time.h>

#include "lw_alert.h"
#include "lw_alertdb.h"
#include "lw_command.h"
#include "lw_duty.h"
#include "lw_incident.h"
#include "lw_clock.h"
#include "lw_cmd.h"
#include "lw_control.h"
#include "lw_downlink.h"
#include "lw_error.h"
#include "lw_ingest.h"
#include "lw_log.h"
#include "lw_mesh.h"
#include "lw_metrics.h"
#include "lw_mqtt.h"
#include "lw_nodectl.h"
#include "lw_parse.h"
#include "lw_nodedb.h"
#include "lw_pairing.h"
#include "lw_presets.h"
#include "lw_registry.h"
#include "lw_rules.h"
#include "lw_spool.h"
#include "lw_store.h"
#include "lw_version.h"

struct lw_gateway {
    uv_loop_t *loop;
    const struct lw_config *cfg;
    struct lw_store *store;
    struct lw_nodedb *nodedb;
    struct lw_registry *reg;
    struct lw_join_limiter join_limiter;
    struct lw_duty *duty;
    struct lw_incidents *incidents;
    uv_timer_t duty_timer;    /* escalations, reminders, silence expiry: runs only when due */
    char command_prefix[128]; /* lorawatch/<site>/command/ */
    struct lw_pairing_stats joins;
    struct lw_command_counts commands; /* MQTT commands from phones by outcome */
    int64_t outbox_handed;             /* highest outbox row given to the MQTT client */
    bool handover_failed;              /* a row of the current hand-over could not be given */
    struct lw_radio *radio;
    struct lw_mqtt *mqtt;
    struct lw_control *control;
    uv_timer_t commit_timer;
    uv_timer_t status_timer;
    uv_timer_t sync_timer; /* runs only until the wall clock is synchronised */
    uv_timer_t metrics_timer;
    uv_timer_t retention_timer; /* deletes raw readings past [storage] retention_days */
    uv_timer_t rules_timer;     /* time-based rules: node silence, the gateway's radio */
    struct lw_rules *rules;     /* what rules share across nodes (coincidence groups) */
    int64_t rules_tick_ms;      /* rule clock at the last tick */
    uint64_t metrics_due; /* loop time the metrics timer should fire: its lateness is loop lag */
    double lag_s, lag_max_s;
    bool clock_synced;
    int handles_open;
    bool medium_clock;
    int64_t clock_ms; /* latest reception time: drives the journal when the medium is the clock */
    int64_t ts_cached_s; /* node-state time text, formatted once per second */
    char ts_cached[40];
    int64_t last_alert_id;     /* highest alert id handed out */
    int64_t reserved_alert_id; /* ids up to this are reserved in the database */
    int64_t last_incident_id;  /* the same for incidents */
    int64_t reserved_incident_id;
    struct lw_spool *spool;              /* alert writes the database has not taken yet, in order */
    uv_timer_t storage_timer;            /* while the disk fails: ballast, probe, queued writes */
    struct lw_rule_state storage_st;     /* the storage trouble alert */
    struct lw_rule_conf storage_rule;    /* ... and its built-in rule (lw_alert_storage_rule) */
    enum lw_store_trouble storage_shown; /* as the status message last said */
    bool storage_checking;
    uint64_t flush_retry_ms; /* loop time before which a failed flush is not tried again */
    int64_t started_ms;
    bool test_mode; /* alert_transition is publishing a test alarm */
    struct lw_ingest_stats ingest;
    struct lw_mesh *mesh;   /* mesh sink: created with the first frame, see lw_gateway_handle_rx */
    struct lw_downlink *dl; /* downlink queue, airtime and listen-before-talk; see send_downlink */
    uv_timer_t dl_timer;    /* the queue's next due time */
    uv_timer_t relay_timer; /* relays gone silent: see on_relay_timer */
    struct relay_alert {    /* one trouble alert per silent relay */
        uint16_t relay;
        struct lw_rule_state st;
    } * relay_alerts;
    size_t n_relay_alerts;
    struct retimed { /* an open alert whose times the clock's synchronisation corrected */
        int64_t id, raised_ms;
        char *message; /* its raise message with corrected times; NULL: none stored */
    } * retimed;
    size_t n_retimed;
    struct pending_cmd { /* a CMD sent again after the node's next uplinks */
        uint16_t node;
        uint8_t sends_left;
        uint8_t len;
        uint8_t buf[LW_CMD_MAX_LEN];
    } * pending_cmds;
    size_t n_pending_cmds;
    struct lw_gateway_counters c;
    char status_topic[128];
    char mark_topic[128];   /* lorawatch/<site>/gateway/mark: see publish_mark */
    int64_t mark_sent;      /* the mark last given to the broker (-1: none on this connection) */
    int64_t mark_requeue; /* broker lost state, requeue waits for the disk; -1: none */
    char **replayed; /* replay_outbox: retained topics sent again in this pass */
    size_t n_replayed, cap_replayed;
    int64_t sent_pruned_ms; /* wall clock of the last lw_store_outbox_prune */
    void (*done)(void *);
    void *done_arg;
};

static int64_t now_ms(const struct lw_gateway *g)
{
    return g->medium_clock && g->clock_ms ? g->clock_ms : lw_clock_wall_ms();
}

static void on_commit_timer(uv_timer_t *t)
{
    lw_gateway_flush(t->data);
}

/* ---- MQTT ------------------------------------------------------------------------------- */

static char *status_json(struct lw_gateway *g, const char *state)
{
    char t[40];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "site", g->cfg->site);
    cJSON_AddStringToObject(o, "state", state);
    cJSON_AddStringToObject(o, "version", LW_VERSION);
    lw_format_time(g->started_ms, t, sizeof(t));
    cJSON_AddStringToObject(o, "started", t);
    lw_format_time(lw_clock_wall_ms(), t, sizeof(t));
    cJSON_AddStringToObject(o, "time", t);
    cJSON_AddNumberToObject(o, "nodes", (double)lw_registry_count(g->reg));
    cJSON *c = cJSON_AddObjectToObject(o, "counters");
    cJSON_AddNumberToObject(c, "frames", (double)g->c.frames);
    cJSON_AddNumberToObject(c, "accepted", (double)g->ingest.accepted);
    cJSON_AddNumberToObject(c, "rejected_malformed", (double)g->ingest.malformed);
    cJSON_AddNumberToObject(c, "rejected_network", (double)g->ingest.network);
    cJSON_AddNumberToObject(c, "rejected_unknown_node", (double)g->ingest.unknown);
    cJSON_AddNumberToObject(c, "rejected_mic", (double)g->ingest.mic);
    cJSON_AddNumberToObject(c, "rejected_replay", (double)g->ingest.replay);
    struct lw_store_stats ss;
    lw_store_stats(g->store, &ss);
    cJSON_AddNumberToObject(c, "readings_stored", (double)ss.readings_committed);
    cJSON_AddNumberToObject(c, "alerts_raised", (double)g->c.alerts_raised);
    cJSON_AddNumberToObject(c, "alerts_cleared", (double)g->c.alerts_cleared);
    if (g->radio) {
        struct lw_radio_stats rs;
        lw_radio_stats(g->radio, &rs);
        cJSON_AddNumberToObject(c, "radio_malformed", (double)rs.rx_malformed);
    }
    /* The database: "ok", or why alerts wait in memory and readings are shed. */
    cJSON *st = cJSON_AddObjectToObject(o, "storage");
    cJSON_AddStringToObject(st, "state", lw_store_trouble_name(lw_store_trouble(g->store)));
    cJSON_AddNumberToObject(st, "waiting", (double)lw_spool_count(g->spool));
    cJSON_AddNumberToObject(st, "readings_lost", (double)ss.readings_lost);
    cJSON_AddNumberToObject(st, "ballast_bytes", (double)lw_store_ballast_bytes(g->store));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static void publish_status(struct lw_gateway *g)
{
    char *s = status_json(g, "online");
    if (s) {
        lw_mqtt_publish(g->mqtt, g->status_topic, s, 1, true, 0);
        free(s);
    }
}

/* The broker is told, retained, how far it has acknowledged the outbox without a gap. It stores
 * the mark after every message below it, so a broker that comes back from a crash or a snapshot
 * with an older mark (or none) has lost what it acknowledged after that: see check_mark. */
static void publish_mark(struct lw_gateway *g)
{
    int64_t acked, last;
    /* What the broker lost is not back in the outbox yet: its mark must not say otherwise, or a
     * restart before the disk takes writes would believe the broker has it all. */
    if (g->mark_requeue >= 0)
        return;
    if (!lw_mqtt_connected(g->mqtt) || lw_store_outbox_mark(g->store, &acked, &last) != LW_OK ||
        acked == g->mark_sent)
        return;
    char t[40];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "site", g->cfg->site);
    cJSON_AddNumberToObject(o, "seq", (double)acked);
    lw_format_time(lw_clock_wall_ms(), t, sizeof(t));
    cJSON_AddStringToObject(o, "time", t);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    /* QoS 0: libmosquitto never sends an old mark again on a later connection, where it could
     * overwrite the mark a restarted broker came back with before we read it. */
    if (s && lw_mqtt_publish(g->mqtt, g->mark_topic, s, 0, true, 0) == LW_OK)
        g->mark_sent = acked;
    free(s);
}

/* retained: the broker's mark as it answered our probe ("" when it has none). Whatever was
 * acknowledged after it goes back into the outbox, with every open alert's state. */
static void check_mark(struct lw_gateway *g, const char *retained)
{
    int64_t mark = 0, acked, last, moved = 0;
    cJSON *o = retained[0] ? cJSON_Parse(retained) : NULL;
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(o, "seq");
    if (cJSON_IsNumber(seq) && seq->valuedouble >= 0)
        mark = (int64_t)seq->valuedouble;
    cJSON_Delete(o);
    if (lw_store_outbox_mark(g->store, &acked, &last) != LW_OK)
        return;
    /* A mark beyond any message this database made is not about it (a new or restored
     * database): the broker's state cannot be vouched for. */
    if (mark > last)
        mark = 0;
    if (lw_store_outbox_requeue(g->store, mark, &moved) != LW_OK ||
        lw_store_commit(g->store) != LW_OK) {
        /* A full or failing disk: the requeue is tried again once it takes writes
         * (requeue_lost), and until then the broker's mark stays where it is. */
        if (mark < acked) {
            g->mark_requeue = g->mark_requeue >= 0 && g->mark_requeue < mark ? g->mark_requeue
                                                                                : mark;
            lw_log(LW_LOG_ERR,
                   "mqtt: the broker's mark is %lld%s, messages up to %lld were acknowledged: it "
                   "lost state; they are sent again once the disk takes writes",
                   (long long)mark, retained[0] ? "" : " (none)", (long long)acked);
        }
        return;
    }
    if (moved > 0)
        lw_log(LW_LOG_WARNING,
               "mqtt: the broker's mark is %lld%s, messages up to %lld were acknowledged: it lost "
               "state; %lld messages sent again",
               (long long)mark, retained[0] ? "" : " (none)", (long long)acked, (long long)moved);
}

/* The requeue check_mark could not write: once the disk takes writes. */
static void requeue_lost(struct lw_gateway *g)
{
    int64_t moved = 0;
    if (lw_store_outbox_requeue(g->store, g->mark_requeue, &moved) != LW_OK ||
        lw_store_commit(g->store) != LW_OK)
        return;
    lw_log(LW_LOG_WARNING, "mqtt: %lld messages the broker lost sent again (after mark %lld)",
           (long long)moved, (long long)g->mark_requeue);
    g->mark_requeue = -1;
    g->outbox_handed = 0; /* the requeued rows are behind the handover mark */
}

/* Retained topics sent (again) in this replay pass: see replay_outbox_row. */
static bool replayed_topic(struct lw_gateway *g, const char *topic, bool add)
{
    for (size_t i = 0; i < g->n_replayed; i++)
        if (strcmp(g->replayed[i], topic) == 0)
            return true;
    if (!add)
        return false;
    if (g->n_replayed == g->cap_replayed) {
        size_t cap = g->cap_replayed ? 2 * g->cap_replayed : 16;
        char **r = realloc(g->replayed, cap * sizeof(*r));
        if (!r)
            return false;
        g->replayed = r;
        g->cap_replayed = cap;
    }
    if ((g->replayed[g->n_replayed] = strdup(topic)))
        g->n_replayed++;
    return false;
}

static void replay_outbox_row(void *arg, int64_t seq, const char *topic, const char *payload,
                              bool retain)
{
    struct lw_gateway *g = arg;
    int rc = LW_OK;
    /* A row still with the client is not sent twice, except a retained state whose older one
     * this pass has just sent again (a requeue, a lost acknowledgement): the broker must end
     * with the newer one, so it goes after it once more. */
    bool pending = lw_mqtt_tag_pending(g->mqtt, seq);
    if (!pending || (retain && replayed_topic(g, topic, false)))
        rc = lw_mqtt_publish(g->mqtt, topic, payload, 1, retain, seq);
    if (rc == LW_OK && retain && !pending)
        replayed_topic(g, topic, true);
    /* With the client, or disconnected (the next connection replays every row): handed over.
     * From the first other failure on, rows are tried again at the next commit. Later rows still
     * go now: one row the client refuses must not hold back every alert after it. */
    if (rc != LW_OK && rc != LW_ERR_AGAIN)
        g->handover_failed = true;
    if (!g->handover_failed && seq > g->outbox_handed)
        g->outbox_handed = seq;
}

/* Hand the outbox rows after seq `after` to the client, oldest first. */
static void replay_outbox(struct lw_gateway *g, int64_t after)
{
    lw_store_each_outbox(g->store, after, replay_outbox_row, g);
    for (size_t i = 0; i < g->n_replayed; i++)
        free(g->replayed[i]);
    g->n_replayed = 0;
}

/* A message that waits for the disk goes to the broker from memory meanwhile. */
static bool publish_from_memory(void *arg, int64_t tag, const char *topic, const char *payload,
                                bool retain)
{
    struct lw_gateway *g = arg;
    if (!g->mqtt)
        return false;
    if (lw_mqtt_tag_pending(g->mqtt, tag))
        return true;
    return lw_mqtt_publish(g->mqtt, topic, payload, 1, retain, tag) == LW_OK;
}

static void on_mqtt_connected(void *arg, const char *retained)
{
    struct lw_gateway *g = arg;
    if (retained)
        check_mark(g, retained);
    publish_status(g);
    /* Whatever the broker has not acknowledged yet, including from before a restart. The mark
     * starts again from nothing, so a row this replay cannot hand over is retried at the next
     * commit even if the mark had passed it while disconnected. */
    g->handover_failed = false;
    g->outbox_handed = 0;
    replay_outbox(g, 0);
    lw_spool_each_message(g->spool, true, publish_from_memory, g);
    g->mark_sent = -1;
    publish_mark(g);
}

struct outbox_done_row {
    int64_t seq, t;
};

static int apply_outbox_done(struct lw_store *s, const void *data)
{
    const struct outbox_done_row *d = data;
    int64_t alert = 0;
    int rc = lw_store_outbox_done(s, d->seq, &alert);
    if (rc == LW_OK && alert > 0)
        rc = lw_store_journal(s, alert, d->t, "published", NULL);
    return rc;
}

static int journal_now(struct lw_gateway *g);

/* Acknowledged messages are kept a day (docs/RELIABILITY.md); pruned at most every 10 min. */
#define SENT_KEEP_MS  (24 * 3600 * 1000LL)
#define SENT_PRUNE_MS (600 * 1000LL)

static void on_mqtt_acked(void *arg, int64_t seq)
{
    struct lw_gateway *g = arg;
    struct outbox_done_row d = {seq, now_ms(g)};
    if (lw_spool_tag(seq)) {
        lw_spool_acked(g->spool, seq, d.t); /* paged from memory */
        return;
    }
    /* Through the queue, written at once: an acknowledgement that joined the reading batch and
     * went with it when the disk rolled the batch back was lost, and handing its row to the
     * broker again could put an older retained state after a newer one. Queued, it waits for
     * the disk like any alert write, behind what waits already. */
    if (lw_spool_write(g->spool, apply_outbox_done, &d, sizeof(d)) == LW_OK)
        journal_now(g);
    else
        apply_outbox_done(g->store, &d);
    publish_mark(g);
    int64_t wall = lw_clock_wall_ms();
    if (wall - g->sent_pruned_ms >= SENT_PRUNE_MS || wall < g->sent_pruned_ms) {
        lw_store_outbox_prune(g->store, wall - SENT_KEEP_MS);
        g->sent_pruned_ms = wall;
    }
    if (!uv_is_active((uv_handle_t *)&g->commit_timer))
        uv_timer_start(&g->commit_timer, on_commit_timer, g->cfg->batch_ms, 0);
}

/* ---- alerts ----------------------------------------------------------------------------- */

/* Alert ids come from here, not from SQLite: an id is never handed out twice, even when the
 * disk fails and a transition could not be journalled but was published all the same. Ids are
 * reserved in the database a block at a time, so a restart continues above every id that may
 * have been published. */
#define ALERT_ID_BLOCK 64

static int64_t next_alert_id(struct lw_gateway *g)
{
    int64_t id = ++g->last_alert_id;
    if (id > g->reserved_alert_id) {
        int64_t upto = id + ALERT_ID_BLOCK - 1;
        if (lw_store_reserve_alert_ids(g->store, upto) == LW_OK &&
            lw_store_commit(g->store) == LW_OK)
            g->reserved_alert_id = upto;
        else
            lw_log_rl(LW_LOG_ERR, "alert ids could not be reserved in the database: ids may "
                                  "repeat after a restart");
    }
    return id;
}

/* Incident ids are handed out the same way: an incident opened while the disk fails has an id
 * of its own, never one another (hazard, building) was given. */
static int64_t next_incident_id(struct lw_gateway *g)
{
    int64_t id = ++g->last_incident_id;
    if (id > g->reserved_incident_id) {
        int64_t upto = id + ALERT_ID_BLOCK - 1;
        if (lw_store_reserve_incident_ids(g->store, upto) == LW_OK &&
            lw_store_commit(g->store) == LW_OK)
            g->reserved_incident_id = upto;
        else
            lw_log_rl(LW_LOG_ERR, "incident ids could not be reserved in the database: ids may "
                                  "repeat after a restart");
    }
    return id;
}

static void duty_transition(struct lw_gateway *g, const struct lw_node_conf *node,
                            const struct lw_rule_conf *rule, enum lw_alert_state state,
                            const struct lw_alert_info *info, const char *json);

/* ---- alert writes, queued in order until the database has them (lw_spool) ---------------- */

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

static int apply_alert_row(struct lw_store *s, const void *data)
{
    const struct alert_row *a = data;
    int rc = lw_store_alert_insert(s, a->id, a->rule, lw_hazard_name(a->hazard),
                                   lw_level_name(a->level), a->node, a->t, a->value, a->threshold,
                                   a->message[0] ? a->message : NULL);
    if (rc == LW_OK && a->test)
        rc = lw_store_alert_set_test(s, a->id);
    if (rc == LW_OK && a->incident)
        rc = lw_alertdb_set_incident(s, a->id, a->incident);
    return rc;
}

struct state_row {
    int64_t id, t;
    enum lw_alert_state state;
};

static int apply_state_row(struct lw_store *s, const void *data)
{
    const struct state_row *r = data;
    return lw_store_alert_set_state(s, r->id, lw_alert_state_name(r->state), r->t);
}

struct journal_row {
    int64_t alert, t;
    unsigned tier;
    char event[16], actor[256], via[16], detail[LW_TEXT_MAX + 512];
    bool has_actor, has_via, has_detail;
};

static int apply_journal_row(struct lw_store *s, const void *data)
{
    const struct journal_row *j = data;
    return lw_alertdb_journal(s, j->alert, j->t, j->event, j->has_actor ? j->actor : NULL, j->tier,
                              j->has_via ? j->via : NULL, j->has_detail ? j->detail : NULL);
}

static void queue_journal(struct lw_gateway *g, int64_t alert, int64_t t, const char *event,
                          const char *actor, unsigned tier, const char *via, const char *detail)
{
    struct journal_row j = {.alert = alert, .t = t, .tier = tier};
    snprintf(j.event, sizeof(j.event), "%s", event);
    j.has_actor = actor && snprintf(j.actor, sizeof(j.actor), "%s", actor) >= 0;
    j.has_via = via && snprintf(j.via, sizeof(j.via), "%s", via) >= 0;
    j.has_detail = detail && snprintf(j.detail, sizeof(j.detail), "%s", detail) >= 0;
    if (lw_spool_write(g->spool, apply_journal_row, &j, sizeof(j)) != LW_OK)
        lw_log(LW_LOG_ERR, "alert #%lld: out of memory: journal row '%s' lost", (long long)alert,
               event);
}

struct incident_row {
    int64_t id, t;
    bool open;
    enum lw_hazard hazard;
    enum lw_level level;
    char building[LW_NAME_MAX];
};

static int apply_incident_row(struct lw_store *s, const void *data)
{
    const struct incident_row *r = data;
    return r->open ? lw_alertdb_incident_open(s, r->id, r->hazard, r->building, r->level, r->t)
                   : lw_alertdb_incident_close(s, r->id, r->t);
}

static void storage_check(struct lw_gateway *g);

/* Write what is queued and commit; then hand the new outbox rows to MQTT. When the disk does
 * not take it (full, failing), the queued messages go to the broker from memory now, and the
 * queue is written when the disk is back (on_storage_timer). A full disk first gives up its
 * ballast: the retry then has the space reserved for exactly this. */
static int journal_now(struct lw_gateway *g)
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
        requeue_lost(g);
    if (rc == LW_OK) {
        g->handover_failed = false;
        if (lw_store_outbox_acks_lost(g->store))
            g->outbox_handed = 0; /* rows the client forgot are back in the outbox: see below */
        replay_outbox(g, g->outbox_handed);
    } else {
        lw_spool_each_message(g->spool, false, publish_from_memory, g);
    }
    storage_check(g);
    return rc;
}

/* Flood and fire alerts of one building form one incident while any of them is open; trouble
 * alerts stand alone. Returns the alert's incident (0: none), opening or closing it. */
static int64_t incident_of(struct lw_gateway *g, const struct lw_node_conf *node,
                           const struct lw_rule_conf *rule, enum lw_level level,
                           enum lw_alert_state state, int64_t alert, int64_t t)
{
    if (!g->incidents || rule->hazard == LW_HAZARD_TROUBLE)
        return 0;
    struct incident_row row = {.t = t, .hazard = rule->hazard, .level = level};
    snprintf(row.building, sizeof(row.building), "%s", node->building);
    if (state != LW_ALERT_RAISED) {
        bool closed;
        int64_t id = lw_incident_remove(g->incidents, alert, &closed);
        if (id && closed) {
            row.id = id;
            lw_spool_write(g->spool, apply_incident_row, &row, sizeof(row));
            lw_log(LW_LOG_NOTICE, "incident #%lld (%s, building %s) closed", (long long)id,
                   lw_hazard_name(rule->hazard), node->building);
            if (rule->hazard == LW_HAZARD_FLOOD && node->building[0])
                lw_gateway_event_mode(g, node->building, false); /* back to routine sampling */
        }
        return id;
    }
    int64_t id = lw_incident_find(g->incidents, rule->hazard, node->building);
    if (!id) {
        row.id = id = next_incident_id(g);
        row.open = true;
        if (lw_spool_write(g->spool, apply_incident_row, &row, sizeof(row)) != LW_OK)
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
 * when it can (journal_now). The raise decides the alert's level (a coincidence may put it above
 * its rule's) and the row keeps its whole record, the raise message included: the clear, and
 * every duty message after a restart, say what the raise said. */
static void alert_transition(struct lw_gateway *g, const struct lw_node_conf *node,
                             const struct lw_rule_conf *rule, struct lw_rule_state *st,
                             enum lw_alert_state state, double value, int64_t t)
{
    if (state == LW_ALERT_RAISED) {
        st->alert_id = next_alert_id(g);
        st->raised_ms = t;
        st->level = lw_rule_raise_level(rule, st);
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
    int rc;
    if (state == LW_ALERT_RAISED) {
        size_t mlen = json ? strlen(json) + 1 : 1;
        struct alert_row *a = calloc(1, sizeof(*a) + mlen);
        if (a) {
            *a = (struct alert_row){
                .id = info.id,
                .t = t,
                .incident = info.incident,
                .hazard = rule->hazard,
                .level = info.level,
                .node = node->address,
                .value = value,
                .threshold = lw_rule_value_threshold(rule, false),
                .test = g->test_mode,
            };
            snprintf(a->rule, sizeof(a->rule), "%s", rule->name);
            memcpy(a->message, json ? json : "", mlen);
            rc = lw_spool_write(g->spool, apply_alert_row, a, sizeof(*a) + mlen);
            free(a);
        } else {
            rc = LW_ERR_NOMEM;
        }
    } else {
        struct state_row r = {.id = info.id, .t = t, .state = state};
        rc = lw_spool_write(g->spool, apply_state_row, &r, sizeof(r));
    }
    if (rc == LW_OK)
        queue_journal(g, info.id, t, name, NULL, 0, NULL, sentence);
    int64_t tag;
    if (rc == LW_OK && json)
        rc = lw_spool_message(g->spool, info.id, topic, json, true, &tag);
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
        if (g->mqtt)
            lw_mqtt_publish(g->mqtt, topic, json, 1, true, 0);
    } else if (journal_now(g) != LW_OK)
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
    /* Then the people on duty: tier topics, escalation, reminders (test alarms page nobody). */
    if (!g->test_mode)
        duty_transition(g, node, rule, state, &info, json);
    free(json);
}

/* ---- storage trouble -------------------------------------------------------------------- */

/* The database cannot take writes (or its WAL cannot be reset): a red trouble alert to the duty
 * room, raised while it lasts and while alerts wait in memory for the disk. */
static void storage_check(struct lw_gateway *g)
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
        alert_transition(g, lw_rules_gateway_node(g->rules, g->cfg->site), &g->storage_rule,
                         &g->storage_st, bad ? LW_ALERT_RAISED : LW_ALERT_CLEARED,
                         bad ? (double)t : 0, now_ms(g));
        g->storage_checking = false;
    }
    if (t != g->storage_shown && g->mqtt) {
        g->storage_shown = t;
        publish_status(g);
    }
}

static void on_storage_timer(uv_timer_t *timer)
{
    struct lw_gateway *g = timer->data;
    lw_store_tick(g->store);
    g->flush_retry_ms = 0;
    if (lw_spool_count(g->spool))
        journal_now(g);
    else
        storage_check(g);
}

static void on_rules_timer(uv_timer_t *timer);
static void rules_wake_by(struct lw_gateway *g, int64_t due, int64_t rule_ms);

static void apply_rules(struct lw_gateway *g, struct lw_node *node, const struct lw_reading *r,
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
            alert_transition(g, node->conf, rule, st,
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

/* Time-based rules run on the rule clock (monotonic, or the medium's virtual time) from a timer.
 * On the monotonic clock it sleeps until the next silence, persistence or held water reading could
 * be due (at most 10 s, for the radio rules; a reading brings it forward), so an idle gateway
 * wakes rarely; with a simulated medium it looks every 50 ms
 * whether the virtual clock has moved, so fast runs still see a silence within a few virtual
 * seconds. */
#define RULES_TICK_MIN_MS    100
#define RULES_TICK_MAX_MS    10000
#define RULES_TICK_MEDIUM_MS 50

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
        int64_t t = now_ms(g);
        for (size_t i = 0; i < g->cfg->n_rules; i++) {
            const struct lw_rule_conf *rule = &g->cfg->rules[i];
            struct lw_rule_state *st;
            double v;
            enum lw_rule_event ev = lw_rules_gateway_tick(g->rules, rule, rule_ms, &st, &v);
            if (ev != LW_RULE_NONE)
                alert_transition(g, lw_rules_gateway_node(g->rules, g->cfg->site), rule, st,
                                 ev == LW_RULE_CLEAR ? LW_ALERT_CLEARED : LW_ALERT_RAISED, v, t);
            for (size_t k = 0; lw_rule_timed(rule) && k < lw_registry_count(g->reg); k++) {
                struct lw_node *n = lw_registry_at(g->reg, k);
                if (!n->rules[i].applies ||
                    (rule->type == LW_RULE_SILENCE && behind_silent_relay(g, n->conf->address)))
                    continue; /* the relay's one trouble alert speaks for its nodes' silence */
                enum lw_rule_event nev =
                    lw_rules_node_tick(g->rules, rule, n->conf, &n->rules[i], rule_ms, &v);
                if (nev != LW_RULE_NONE)
                    alert_transition(g, n->conf, rule, &n->rules[i],
                                     nev == LW_RULE_CLEAR ? LW_ALERT_CLEARED : LW_ALERT_RAISED, v,
                                     t);
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

/* ---- configuration downlinks (event mode) ------------------------------------------------- */

static int send_to_node(struct lw_gateway *g, const struct lw_node_conf *nc, uint8_t type,
                        const uint8_t *plain, size_t plain_len, enum lw_dl_prio prio);

/* After an uplink the node listens: a command waiting for it goes now. */
static void send_pending_cmd(struct lw_gateway *g, const struct lw_node *n)
{
    for (size_t i = 0; i < g->n_pending_cmds; i++) {
        struct pending_cmd *pc = &g->pending_cmds[i];
        if (pc->node != n->conf->address)
            continue;
        if (send_to_node(g, n->conf, LW_FT_CMD, pc->buf, pc->len, LW_DL_ROUTINE) == LW_OK &&
            --pc->sends_left == 0)
            g->pending_cmds[i] = g->pending_cmds[--g->n_pending_cmds];
        return;
    }
}

static void queue_cmd(struct lw_gateway *g, uint16_t node, const uint8_t *buf, size_t len)
{
    struct pending_cmd *pc = NULL;
    for (size_t i = 0; i < g->n_pending_cmds && !pc; i++)
        if (g->pending_cmds[i].node == node)
            pc = &g->pending_cmds[i]; /* the newer command replaces it */
    if (!pc) {
        struct pending_cmd *np = realloc(g->pending_cmds, (g->n_pending_cmds + 1) * sizeof(*np));
        if (!np)
            return;
        g->pending_cmds = np;
        pc = &np[g->n_pending_cmds++];
    }
    pc->node = node;
    pc->sends_left = 1;
    pc->len = (uint8_t)len;
    memcpy(pc->buf, buf, len);
}

size_t lw_gateway_event_mode(struct lw_gateway *g, const char *building, bool on)
{
    struct lw_cmd c = {
        .present = LW_CMD_HAS_EVENT,
        .event_on = on,
        .event_interval_s = (uint16_t)(g->cfg->mesh_event_interval_ms / 1000),
    };
    uint8_t buf[LW_CMD_MAX_LEN];
    int len = lw_cmd_encode(&c, buf, sizeof(buf));
    size_t count = 0;
    if (len < 0 || !building || !building[0])
        return 0;
    for (size_t i = 0; i < lw_registry_count(g->reg); i++) {
        const struct lw_node *n = lw_registry_at(g->reg, i);
        if (!n->conf->has_session || n->conf->state != LW_NODE_ACTIVE ||
            strcmp(n->conf->building, building) != 0)
            continue;
        send_to_node(g, n->conf, LW_FT_CMD, buf, (size_t)len, LW_DL_ROUTINE);
        queue_cmd(g, n->conf->address, buf, (size_t)len);
        count++;
    }
    lw_log(LW_LOG_NOTICE, "event mode %s for building %s: %zu node%s", on ? "on" : "off", building,
           count, count == 1 ? "" : "s");
    return count;
}

/* Control request {"cmd": "event-mode", "building": B, "on": true|false}. */
static char *control_event_mode(struct lw_gateway *g, const cJSON *req)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(req, "building");
    const cJSON *on = cJSON_GetObjectItemCaseSensitive(req, "on");
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (!cJSON_IsString(b) || !b->valuestring[0] || !cJSON_IsBool(on)) {
        cJSON_AddBoolToObject(o, "ok", 0);
        cJSON_AddStringToObject(o, "code", "usage");
        cJSON_AddStringToObject(o, "error", "event-mode needs \"building\" and \"on\"");
    } else {
        size_t n = lw_gateway_event_mode(g, b->valuestring, cJSON_IsTrue(on));
        cJSON_AddBoolToObject(o, "ok", n > 0);
        cJSON_AddNumberToObject(o, "nodes", (double)n);
        if (!n) {
            cJSON_AddStringToObject(o, "code", "not_found");
            cJSON_AddStringToObject(o, "error", "no node with a session in that building");
        }
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* ---- relays gone silent ----------------------------------------------------------------- */

/* When a relay goes silent, the nodes behind it are unreachable through it: one trouble alert
 * names the relay and lists them, instead of one silence alert per node. It clears when the relay
 * is heard again. The rule is synthetic (not in the configuration), like the test alarm's. */
#define RELAY_TICK_MS        1000
#define RELAY_TICK_MEDIUM_MS 20

static struct relay_alert *relay_alert_state(struct lw_gateway *g, uint16_t relay)
{
    for (size_t i = 0; i < g->n_relay_alerts; i++)
        if (g->relay_alerts[i].relay == relay)
            return &g->relay_alerts[i];
    struct relay_alert *na = realloc(g->relay_alerts, (g->n_relay_alerts + 1) * sizeof(*na));
    if (!na)
        return NULL;
    g->relay_alerts = na;
    memset(&na[g->n_relay_alerts], 0, sizeof(*na));
    na[g->n_relay_alerts].relay = relay;
    return &na[g->n_relay_alerts++];
}

/* The relay as an alert's node: its registry entry when it is also a sensor, else a name made
 * from its address. */
static void relay_node_conf(struct lw_gateway *g, uint16_t relay, struct lw_node_conf *node)
{
    const struct lw_node *rn = lw_registry_find(g->reg, relay);
    if (rn) {
        *node = *rn->conf;
        return;
    }
    memset(node, 0, sizeof(*node));
    node->address = relay;
    node->kind = LW_KIND_MULTI;
    snprintf(node->name, sizeof(node->name), "relay-%04X", relay);
    snprintf(node->label, sizeof(node->label), "relay 0x%04X", relay);
}

static void on_relay_event(void *user, uint16_t relay, bool silent, const uint16_t *behind,
                           size_t n_behind, int64_t last_heard_ms)
{
    struct lw_gateway *g = user;
    struct relay_alert *ra = relay_alert_state(g, relay);
    if (!ra || silent == ra->st.active)
        return;
    /* Its value is a silence rule's: seconds not heard, when raised; the silence that ended (the
     * gap between the frames either side), when cleared. */
    int64_t now = g->medium_clock ? g->clock_ms : lw_clock_mono_ms();
    int64_t gap = silent ? now - last_heard_ms : last_heard_ms - ra->st.heard_ms;
    ra->st.heard_ms = last_heard_ms;
    struct lw_rule_conf rule;
    lw_alert_relay_rule(&rule, g->cfg->mesh_relay_silence_ms);
    /* The place lists who is cut off. */
    struct lw_node_conf node;
    relay_node_conf(g, relay, &node);
    char where[LW_TEXT_MAX * 2];
    int len = snprintf(where, sizeof(where), "relay %s%s%s%s; %zu node%s behind it%s", node.name,
                       node.place[0] || node.building[0] ? " (" : "",
                       node.place[0] ? node.place : node.building,
                       node.place[0] || node.building[0] ? ")" : "", n_behind,
                       n_behind == 1 ? "" : "s", n_behind ? ":" : "");
    for (size_t i = 0; silent && i < n_behind && len > 0 && (size_t)len < sizeof(where); i++) {
        const struct lw_node *b = lw_registry_find(g->reg, behind[i]);
        char one[LW_NAME_MAX + 8];
        if (b)
            snprintf(one, sizeof(one), " %s", b->conf->name);
        else
            snprintf(one, sizeof(one), " 0x%04X", behind[i]);
        len += snprintf(where + len, sizeof(where) - (size_t)len, "%s%s", i ? "," : "", one);
    }
    size_t wl = strlen(where);
    if (wl >= sizeof(node.place)) { /* a long list is cut, and says so */
        wl = sizeof(node.place) - 1;
        memcpy(where + wl - 3, "...", 3);
    }
    memcpy(node.place, where, wl);
    node.place[wl] = '\0';
    lw_log(LW_LOG_NOTICE, "mesh: relay 0x%04X %s (%zu nodes behind it)", relay,
           silent ? "silent" : "heard again", n_behind);
    alert_transition(g, &node, &rule, &ra->st, silent ? LW_ALERT_RAISED : LW_ALERT_CLEARED,
                     gap > 0 ? (double)gap / 1000.0 : 0, now_ms(g));
    ra->st.active = silent;
}

/* Last time node was heard before the restart, as stored (its newest reading or its last
 * contact, whichever is later; 0: never). */
static int64_t heard_before(struct lw_gateway *g, const struct lw_node *n)
{
    int64_t t = 0;
    if (!n || lw_store_newest_reading(g->store, n->conf->address, &t) != LW_OK)
        t = 0;
    return n && n->db_seen.last_seen_ms > t ? n->db_seen.last_seen_ms : t;
}

/* Relays known from before the restart (the last relay of each node's last frame) are watched
 * from where they were: silence counts only the time the gateway listened, so a relay already
 * quiet for 4 of its 5 minutes before the restart is reported a minute after it, and a long
 * stop of the daemon never makes a relay look silent. Both ends come from the same stored
 * clock: the relay's last frame (its own, or one it carried) and the newest frame of all. */
static void known_relays(struct lw_gateway *g, int64_t now, int64_t silence)
{
    size_t count = g->reg ? lw_registry_count(g->reg) : 0;
    struct seen_relay {
        uint16_t addr;
        int64_t last;
    } *rl = count ? calloc(count, sizeof(*rl)) : NULL;
    size_t n_rl = 0;
    int64_t newest = 0;
    for (size_t i = 0; i < count; i++) {
        const struct lw_node *n = lw_registry_at(g->reg, i);
        int64_t t = heard_before(g, n);
        if (t > newest)
            newest = t;
        if (n->db_seen.relay <= 0)
            continue;
        uint16_t addr = (uint16_t)n->db_seen.relay;
        if (!rl) { /* no memory: watched from now, as if just heard */
            lw_mesh_relay_known(g->mesh, addr, now, false);
            continue;
        }
        size_t k = 0;
        while (k < n_rl && rl[k].addr != addr)
            k++;
        if (k == n_rl)
            rl[n_rl++] = (struct seen_relay){addr, heard_before(g, lw_registry_find(g->reg, addr))};
        if (n->db_seen.last_seen_ms > rl[k].last)
            rl[k].last = n->db_seen.last_seen_ms;
    }
    for (size_t k = 0; k < n_rl; k++) {
        int64_t quiet = rl[k].last > 0 && newest > rl[k].last ? newest - rl[k].last : 0;
        if (quiet > silence)
            quiet = silence;
        lw_mesh_relay_known(g->mesh, rl[k].addr, now - quiet, false);
    }
    free(rl);
}

/* What a restart knows of the mesh and of alarms is taken up with the first frame, on the rules'
 * clock (a simulated medium's starts with it). Relays known from before (the last relay of a
 * node's last frame, and relays whose silence alert is still open) are watched: one that died
 * before the restart is reported after relay_silence, one already reported stays reported until
 * it is heard again, and then its alert clears. Detectors whose alarm is still open count for the
 * coincidence of the others, as before the restart. */
static void restore_on_first_frame(struct lw_gateway *g)
{
    int64_t now = g->medium_clock ? g->clock_ms : lw_clock_mono_ms();
    int64_t silence = (int64_t)g->cfg->mesh_relay_silence_ms;
    for (size_t i = 0; i < g->n_relay_alerts; i++) {
        struct relay_alert *ra = &g->relay_alerts[i];
        if (!ra->st.active)
            continue;
        ra->st.heard_ms = now - silence;
        lw_mesh_relay_known(g->mesh, ra->relay, now - silence, true);
    }
    known_relays(g, now, silence);
    for (size_t i = 0; g->reg && i < lw_registry_count(g->reg); i++) {
        const struct lw_node *n = lw_registry_at(g->reg, i);
        for (size_t k = 0; k < g->cfg->n_rules; k++)
            if (n->rules[k].active && n->rules[k].applies)
                lw_rules_restore_alarm(g->rules, &g->cfg->rules[k], n->conf, now);
    }
}

static void on_relay_timer(uv_timer_t *t)
{
    struct lw_gateway *g = t->data;
    int64_t now = g->medium_clock ? g->clock_ms : lw_clock_mono_ms();
    if (g->mesh && now)
        lw_mesh_check_relays(g->mesh, now, on_relay_event, g);
}

/* ---- node state topic ------------------------------------------------------------------- */

/* A fixed-point reading (v / 10^dec) as the shortest JSON number text. cJSON formats doubles with
 * sprintf("%1.15g") and parses them back to check: for the per-frame node state that was the
 * largest single cost of the whole pipeline. cJSON still builds the document (AddRaw). */
static void add_fixed(cJSON *o, const char *name, long v, int dec)
{
    char t[32];
    long div = dec == 2 ? 100 : dec == 1 ? 10 : 1, ip = labs(v) / div, fp = labs(v) % div;
    const char *sign = v < 0 ? "-" : "";
    if (fp == 0)
        snprintf(t, sizeof(t), "%s%ld", sign, ip);
    else if (dec == 2 && fp % 10)
        snprintf(t, sizeof(t), "%s%ld.%02ld", sign, ip, fp);
    else
        snprintf(t, sizeof(t), "%s%ld.%ld", sign, ip, dec == 2 ? fp / 10 : fp);
    cJSON_AddRawToObject(o, name, t);
}

static void publish_node_state(struct lw_gateway *g, const struct lw_node *n,
                               const struct lw_reading *r, int64_t t)
{
    if (!lw_mqtt_connected(g->mqtt))
        return;
    char topic[160];
    snprintf(topic, sizeof(topic), "lorawatch/%s/node/%s", g->cfg->site, n->conf->name);
    if (t / 1000 != g->ts_cached_s) { /* local time formatting once per second, not per frame */
        g->ts_cached_s = t / 1000;
        lw_format_time(t, g->ts_cached, sizeof(g->ts_cached));
    }
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "node", n->conf->name);
    cJSON_AddStringToObject(o, "kind", lw_kind_name(n->conf->kind));
    cJSON_AddStringToObject(o, "time", g->ts_cached);
    add_fixed(o, "rssi", n->last_rssi_x10, 1);
    add_fixed(o, "snr", n->last_snr_x10, 1);
    if (r->present & LW_R_WATER)
        add_fixed(o, lw_metric_name(LW_METRIC_WATER), r->water_mm, 0);
    if (r->present & LW_R_SMOKE) {
        add_fixed(o, lw_metric_name(LW_METRIC_SMOKE), r->smoke_alarm, 0);
        add_fixed(o, lw_metric_name(LW_METRIC_OBSCURATION), r->smoke_obscuration, 2);
    }
    /* As received (flags included) but for gas while the sensor warms up, which reads nonsense. */
    if ((r->present & LW_R_GAS) && !((r->present & LW_R_FLAGS) && (r->flags & LW_FLAG_WARMUP)))
        add_fixed(o, lw_metric_name(LW_METRIC_GAS), r->gas_lel_x10, 1);
    if (r->present & LW_R_CO)
        add_fixed(o, lw_metric_name(LW_METRIC_CO), r->co_ppm, 0);
    if (r->present & LW_R_TEMP)
        add_fixed(o, lw_metric_name(LW_METRIC_TEMP), r->temp_c_x10, 1);
    if (r->present & LW_R_BATTERY)
        add_fixed(o, lw_metric_name(LW_METRIC_BATTERY), r->battery_mv, 0);
    if (r->present & LW_R_FLAGS)
        add_fixed(o, "flags", r->flags, 0);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (s) {
        lw_mqtt_publish(g->mqtt, topic, s, 0, true, 0);
        free(s);
    }
}

/* ---- pipeline --------------------------------------------------------------------------- */

/* Last contact goes to the node's row in the reading's transaction. A joined node's frame counter
 * must be there with every frame (a restart resumes its replay window from it); for the others
 * once a minute is enough to show when they were last heard. */
static void save_contact(struct lw_gateway *g, struct lw_node *n, uint32_t fcnt, int64_t t)
{
    if (n->conf->from_config && n->db_saved_ms && t - n->db_saved_ms < 60000 && t >= n->db_saved_ms)
        return;
    struct lw_nodedb_seen s = {
        .first_seen_ms = n->first_seen_ms,
        .last_seen_ms = t,
        .rssi_x10 = n->last_rssi_x10,
        .snr_x10 = n->last_snr_x10,
        .battery_mv = (n->last.present & LW_R_BATTERY) ? n->last.battery_mv : -1,
        .hops = n->last_hops,
        .relay = n->last_relay,
    };
    if (lw_nodedb_seen(g->nodedb, n->conf->address, fcnt, &s) == LW_OK) {
        n->db_saved_ms = t;
        n->db_seen = s;
    }
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
        replay_outbox(g, 0);
    }
}

/* ---- downlinks -------------------------------------------------------------------------- */

static int dl_channel_busy(void *ctx)
{
    struct lw_gateway *g = ctx;
    return g->radio ? lw_radio_channel_busy(g->radio) : 0;
}

static int dl_transmit(void *ctx, const uint8_t *buf, size_t len)
{
    struct lw_gateway *g = ctx;
    return g->radio ? lw_radio_transmit(g->radio, buf, len) : LW_ERR_STATE;
}

static uint32_t dl_random(void *ctx)
{
    (void)ctx;
    uint32_t r = 0;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
        r = (uint32_t)lw_clock_mono_ms() * 2654435761u; /* spreading only, not secrecy */
    return r;
}

/* The scheduler follows the radio's settings and the region's rules (per-frame cap, duty cycle,
 * listen before talk). */
static struct lw_downlink *downlink_new(struct lw_gateway *g)
{
    struct lw_downlink_config dc;
    struct lw_radio_settings rs;
    char why[256];
    lw_downlink_config_defaults(&dc);
    if (lw_radio_settings_from_config(g->cfg, &rs, why, sizeof(why)) == LW_OK)
        lw_radio_settings_lora(&rs, &dc.lora);
    const struct lw_region *region = lw_region_find(g->cfg->radio_region);
    if (region) {
        dc.max_tx_ms = region->max_tx_ms;
        dc.duty_permille = region->duty_permille;
        dc.lbt = true; /* also where not mandatory: it costs a CAD, and spares a collision */
    }
    struct lw_downlink_io io = {
        .ctx = g, .channel_busy = dl_channel_busy, .transmit = dl_transmit, .random = dl_random};
    return lw_downlink_new(&dc, &io);
}

static void on_dl_timer(uv_timer_t *t);

static void downlink_kick(struct lw_gateway *g)
{
    uv_update_time(g->loop);
    int64_t now = (int64_t)uv_now(g->loop);
    int64_t next = lw_downlink_run(g->dl, now);
    if (next < 0)
        uv_timer_stop(&g->dl_timer);
    else
        uv_timer_start(&g->dl_timer, on_dl_timer, next > now ? (uint64_t)(next - now) : 1, 0);
}

static void on_dl_timer(uv_timer_t *t)
{
    downlink_kick(t->data);
}

/* Queue one sealed frame and send what is due at once. */
static int send_downlink(struct lw_gateway *g, enum lw_dl_prio prio, const uint8_t *buf, size_t len)
{
    if (!g->dl || !g->radio)
        return LW_ERR_STATE;
    int rc = lw_downlink_enqueue(g->dl, prio, buf, len, (int64_t)uv_now(g->loop));
    if (rc != LW_OK)
        lw_log_rl(LW_LOG_WARNING, "downlink of %zu bytes not queued: %s", len, lw_strerror(rc));
    downlink_kick(g);
    return rc;
}

/* An ACK or CMD to a node with a session: the next downlink counter (reserved in the database
 * before first use, so a restart never reuses one under the same key), sealed under the node's
 * downlink key, sent back along the path of its latest uplink. */
static int send_to_node(struct lw_gateway *g, const struct lw_node_conf *nc, uint8_t type,
                        const uint8_t *plain, size_t plain_len, enum lw_dl_prio prio)
{
    if (!g->dl || !nc->has_session)
        return LW_ERR_STATE;
    struct lw_mesh_path path;
    uint8_t hops = 0;
    if (g->mesh && lw_mesh_route(g->mesh, nc->address, &path) == LW_OK)
        hops = path.hops;
    uint32_t fcnt, upto;
    int rc = lw_downlink_fcnt_next(g->dl, nc->address, nc->key_down, nc->fcnt_down, &fcnt, &upto);
    if (rc != LW_OK) {
        lw_log_rl(LW_LOG_ERR, "downlink to %s: no counter left (%s): the node must rejoin",
                  nc->name, lw_strerror(rc));
        return rc;
    }
    if (upto) {
        rc = lw_nodedb_reserve_fcnt_down(g->nodedb, nc->address, upto);
        if (rc == LW_OK)
            rc = lw_store_commit(g->store);
        if (rc != LW_OK && lw_downlink_fcnt_unreserved(g->dl, nc->address, fcnt)) {
            /* Still within the block reserved earlier: sent; the next frame asks again. */
            lw_log_rl(LW_LOG_WARNING,
                      "downlink counters of %s could not be reserved ahead; "
                      "sent from the reserve",
                      nc->name);
        } else if (rc != LW_OK) {
            lw_log_rl(LW_LOG_ERR, "downlink to %s not sent: its counter could not be reserved",
                      nc->name);
            return rc;
        }
    }
    uint8_t frame[LW_FRAME_MAX_LEN];
    int len = lw_downlink_seal((uint16_t)g->cfg->network_id, nc->address, type, hops, fcnt,
                               nc->key_down, plain, plain_len, frame, sizeof(frame));
    if (len < 0)
        return len;
    return send_downlink(g, prio, frame, (size_t)len);
}

/* Downlink counters are reserved while the disk takes writes, with the node's uplinks, well
 * before an ACK needs them: an alarm's ACK must never wait for a commit (the disk may be full). */
static void reserve_downlinks_ahead(struct lw_gateway *g, const struct lw_node_conf *nc)
{
    enum lw_store_trouble t = lw_store_trouble(g->store);
    if (!g->dl || !nc->has_session || t == LW_STORE_FULL || t == LW_STORE_IOERR)
        return;
    uint32_t upto;
    if (lw_downlink_fcnt_ahead(g->dl, nc->address, nc->key_down, nc->fcnt_down, &upto) != LW_OK ||
        !upto)
        return;
    if (lw_nodedb_reserve_fcnt_down(g->nodedb, nc->address, upto) != LW_OK ||
        lw_store_commit(g->store) != LW_OK) {
        lw_downlink_fcnt_unreserved(g->dl, nc->address, 0);
        lw_log_rl(LW_LOG_WARNING, "downlink counters of %s could not be reserved ahead", nc->name);
    }
}

/* An authenticated ALARM asking for it: the ACK names the copy's counter (PROTOCOL.md 3.1). */
static void send_alarm_ack(struct lw_gateway *g, const struct lw_node *n, uint32_t alarm_fcnt)
{
    uint8_t p[LW_ACK_PAYLOAD_LEN];
    lw_downlink_ack_payload(alarm_fcnt, p);
    int rc = send_to_node(g, n->conf, LW_FT_ACK, p, sizeof(p), LW_DL_URGENT);
    lw_log(rc == LW_OK ? LW_LOG_DEBUG : LW_LOG_WARNING, "ACK of %s alarm fcnt %u%s%s",
           n->conf->name, alarm_fcnt,
           rc == LW_OK ? " queued" : " not sent: ", rc == LW_OK ? "" : lw_strerror(rc));
}

/* A JOIN_REQ: answered only when it passes every check, after the accepted nonce and the new
 * session keys are on disk (a reboot must never make the gateway accept the nonce again). */
static void handle_join(struct lw_gateway *g, const struct lw_radio_rx *rx)
{
    uint8_t gw_nonce[LW_JOIN_GW_NONCE_LEN];
    if (getrandom(gw_nonce, sizeof(gw_nonce), GRND_NONBLOCK) != (ssize_t)sizeof(gw_nonce)) {
        lw_log_rl(LW_LOG_ERR, "join: no random bytes for the gateway nonce: %s", strerror(errno));
        return;
    }
    struct lw_join_outcome out;
    int rc =
        lw_pairing_handle(rx->buf, rx->len, (uint16_t)g->cfg->network_id, g->reg, &g->join_limiter,
                          lw_clock_wall_ms(), rx->mono_ms, gw_nonce, &out, &g->joins);
    if (rc != LW_OK) {
        char eui[17] = "?";
        struct lw_join_req peek;
        if (lw_join_request_peek(rx->buf, rx->len, &peek) == LW_OK)
            lw_format_hex(peek.eui, 8, eui);
        /* Refused requests are never answered, and the log does not say which check failed
         * beyond what an operator needs: unknown, window closed, or not authentic. */
        lw_log_rl(LW_LOG_WARNING, "join request from EUI %s refused: %s", eui,
                  rc == LW_ERR_UNKNOWN_NODE ? "not paired (lorawatch pair)"
                  : rc == LW_ERR_STATE      ? "pairing window closed (lorawatch pair again)"
                  : rc == LW_ERR_AGAIN      ? "too many join requests, dropped"
                  : rc == LW_ERR_MIC || rc == LW_ERR_REPLAY
                      ? "not authentic (wrong key or replayed request)"
                      : lw_strerror(rc));
        return;
    }
    int64_t now = lw_clock_wall_ms();
    char nonce[16];
    snprintf(nonce, sizeof(nonce), "%u", out.req.join_nonce);
    rc = lw_nodedb_put(g->nodedb, &out.conf);
    if (rc == LW_OK)
        rc = lw_nodedb_journal(g->nodedb, now, -1, "join", out.conf.address, NULL, nonce,
                               "join accepted; new session keys");
    if (rc == LW_OK)
        rc = lw_store_commit(g->store);
    if (rc != LW_OK) {
        lw_log(LW_LOG_ERR, "join of %s not answered: the accepted nonce could not be stored",
               out.conf.name);
        return;
    }
    lw_registry_update(g->reg, &out.conf);
    struct lw_node *n = lw_registry_find(g->reg, out.conf.address);
    if (n)
        lw_replay_init(&n->replay); /* the new session's counters start at 1 */
    rc = send_downlink(g, LW_DL_URGENT, out.accept, out.accept_len);
    lw_log(LW_LOG_NOTICE, "node %s (0x%04X) joined (join nonce %u)%s%s", out.conf.name,
           out.conf.address, out.req.join_nonce,
           rc == LW_OK ? "" : "; JOIN_ACC not sent: ", rc == LW_OK ? "" : lw_strerror(rc));
}

void lw_gateway_handle_rx(struct lw_gateway *g, const struct lw_radio_rx *rx)
{
    if (rx->t_ms > g->clock_ms)
        g->clock_ms = rx->t_ms;
    if (rx->len == 0)
        return; /* clock tick from a simulated medium */
    g->c.frames++;
    /* Mesh sink first: hop limit, copies of an accepted frame through other relays, and the
     * relays' route trailer taken off, so what follows sees the origin's frame. */
    if (!g->mesh) {
        struct lw_mesh_config mc;
        lw_mesh_config_defaults(&mc);
        mc.hop_limit_max = (uint8_t)g->cfg->mesh_hop_limit;
        mc.relay_silence_ms = (uint32_t)g->cfg->mesh_relay_silence_ms;
        g->mesh = lw_mesh_new(&mc);
        restore_on_first_frame(g);
    }
    struct lw_radio_rx local = *rx;
    struct lw_mesh_frame mf;
    int mrc = g->mesh ? lw_mesh_admit(g->mesh, local.buf, local.len, &mf) : LW_ERR_NOMEM;
    struct lw_frame_hdr peeked;
    if (mrc == LW_ERR_DUP && mf.echo)
        return; /* our own downlink, forwarded by a relay: not an uplink */
    /* A counter the sink has seen: a copy through another relay, a replay, or the first frames
     * of a new session (counters restart at every join). The node's replay window, which a join
     * resets, decides; the sink's verdict only tells a relay copy from a replay below. */
    bool mesh_copy = mrc == LW_ERR_DUP && mf.copy;
    if (mesh_copy)
        mrc = LW_OK;
    if (mrc != LW_OK && lw_frame_peek(rx->buf, rx->len, &peeked) == LW_OK) {
        g->c.rejected++; /* hop limit, bad route trailer or loop */
        lw_log_rl(LW_LOG_WARNING, "frame rejected by the mesh sink: %s (len %zu, rssi %.1f)",
                  lw_strerror(mrc), rx->len, rx->rssi_x10 / 10.0);
        return;
    }
    if (mrc == LW_OK) /* else a bad header: ingest counts it as before */
        local.len = mf.len;
    rx = &local;
    if (rx->len >= 2 && (rx->buf[0] & 0x0F) == LW_FT_JOIN_REQ) {
        handle_join(g, rx);
        return;
    }
    struct lw_ingest_result res;
    int rc =
        lw_ingest_frame(g->reg, (uint16_t)g->cfg->network_id, rx->buf, rx->len, &res, &g->ingest);
    if (rc == LW_OK) {
        struct lw_mesh_rx mrx = {rx->mono_ms, rx->rssi_x10, rx->snr_x10};
        lw_mesh_accepted(g->mesh, &mf, &mrx);
        res.hdr.hop_count = mf.route.n_hops; /* as received: the sink cleared it */
        res.node->last_relay = mf.route.n_hops ? mf.route.hops[mf.route.n_hops - 1].relay : 0;
        if (res.hdr.type == LW_FT_ALARM && res.hdr.ack_req)
            send_alarm_ack(g, res.node, res.hdr.fcnt); /* first: the node stops retrying */
        else
            reserve_downlinks_ahead(g, res.node->conf);
        if (g->n_pending_cmds)
            send_pending_cmd(g, res.node); /* the node listens right after its uplink */
    }
    if (rc == LW_ERR_REPLAY && mesh_copy && mf.route.n_hops > 0) {
        g->ingest.replay--; /* the same frame through a second relay: expected, not an attack */
        lw_log(LW_LOG_DEBUG, "mesh: copy of src 0x%04X fcnt %u", mf.route.hdr.src,
               mf.route.hdr.fcnt);
        return;
    }
    if (rc != LW_OK) {
        g->c.rejected++;
        /* Outside input: rate-limited so a flood cannot fill the journal. */
        lw_log_rl(LW_LOG_WARNING, "frame rejected: %s (len %zu, src 0x%04X, fcnt %u, rssi %.1f)",
                  lw_strerror(rc), rx->len, res.hdr.src, res.hdr.fcnt, rx->rssi_x10 / 10.0);
        return;
    }
    g->c.accepted++;
    struct lw_node *n = res.node;
    if (!n->first_seen_ms)
        n->first_seen_ms = rx->t_ms;
    n->last_seen_ms = rx->t_ms;
    n->last_rssi_x10 = rx->rssi_x10;
    n->last_snr_x10 = rx->snr_x10;
    n->last_sf = rx->sf;
    n->last_hops = res.hdr.hop_count;
    n->frames++;
    /* Calibration: the depth the node reports, less the zero offset set at the site. The rules
     * get the reading as received and calibrate it themselves (lw_rules_recalibrated). */
    struct lw_reading received = res.reading;
    if (res.reading.present & LW_R_WATER)
        res.reading.water_mm = lw_water_calibrated(res.reading.water_mm, n->conf->zero_offset_mm);
    n->last = res.reading;
    struct lw_store_reading sr = {
        .node = n->conf->address,
        .t_ms = rx->t_ms,
        .fcnt = res.hdr.fcnt,
        .type = res.hdr.type,
        .hops = res.hdr.hop_count,
        .rssi_x10 = rx->rssi_x10,
        .snr_x10 = rx->snr_x10,
        .unsynced = !g->clock_synced,
        .mono_ms = rx->mono_ms,
        .r = &res.reading,
    };
    lw_store_add_reading(g->store, &sr); /* counted stored once committed (lw_store_stats) */
    save_contact(g, n, res.hdr.fcnt, rx->t_ms);
    lw_log(LW_LOG_DEBUG, "frame %s from %s fcnt %u", lw_frame_type_name(res.hdr.type),
           n->conf->name, res.hdr.fcnt);
    apply_rules(g, n, &received, rx->mono_ms, rx->t_ms);
    publish_node_state(g, n, &res.reading, rx->t_ms);
    if (lw_store_pending(g->store) && !uv_is_active((uv_handle_t *)&g->commit_timer))
        uv_timer_start(&g->commit_timer, on_commit_timer, g->cfg->batch_ms, 0);
}

static void on_radio_rx(void *arg, const struct lw_radio_rx *rx)
{
    lw_gateway_handle_rx(arg, rx);
}

static void on_status_timer(uv_timer_t *t)
{
    publish_status(t->data);
}

/* ---- metrics ---------------------------------------------------------------------------- */

static void fill_metrics(struct lw_gateway *g, bool up, struct lw_metrics *out)
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
    fill_metrics(g, up, &m);
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

/* ---- duty: escalation, acknowledgements, silences ---------------------------------------- */

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
                        unsigned tier, const char *via, const char *detail)
{
    queue_journal(arg, alert, now_ms(arg), event, actor, tier, via, detail);
    return LW_OK;
}

struct update_row {
    int64_t alert, acked_ms;
    unsigned tier;
    bool acked;
    char acked_by[256];
};

static int apply_update_row(struct lw_store *s, const void *data)
{
    const struct update_row *u = data;
    return lw_alertdb_update(s, u->alert, u->tier, u->acked ? u->acked_by : NULL, u->acked_ms);
}

struct silence_end_row {
    int64_t silence, t;
};

static int apply_silence_end(struct lw_store *s, const void *data)
{
    const struct silence_end_row *r = data;
    return lw_alertdb_silence_end(s, r->silence, r->t);
}

static int duty_update(void *arg, int64_t alert, unsigned tier, const char *acked_by,
                       int64_t acked_ms)
{
    struct lw_gateway *g = arg;
    struct update_row u = {.alert = alert, .acked_ms = acked_ms, .tier = tier};
    u.acked = acked_by && snprintf(u.acked_by, sizeof(u.acked_by), "%s", acked_by) >= 0;
    return lw_spool_write(g->spool, apply_update_row, &u, sizeof(u));
}

static void duty_silence_ended(void *arg, int64_t silence, int64_t wall_ms)
{
    struct lw_gateway *g = arg;
    struct silence_end_row r = {silence, wall_ms};
    lw_spool_write(g->spool, apply_silence_end, &r, sizeof(r));
    lw_log(LW_LOG_NOTICE, "silence #%lld ended", (long long)silence);
}

static void duty_schedule(struct lw_gateway *g);

/* Commit, then hand the outbox rows added since the last hand-over to MQTT, in order. Older
 * rows are with the client already or go at the next connection: during a long broker outage
 * an alert costs the rows it added, not a scan of everything waiting. */
static int duty_commit(void *arg)
{
    struct lw_gateway *g = arg;
    int rc = journal_now(g);
    duty_schedule(g);
    return rc;
}

static void on_duty_timer(uv_timer_t *t)
{
    struct lw_gateway *g = t->data;
    lw_duty_tick(g->duty, lw_clock_mono_ms(), lw_clock_wall_ms());
    duty_schedule(g);
}

/* Sleep until the next escalation, reminder or silence expiry: an idle gateway does not wake. */
static void duty_schedule(struct lw_gateway *g)
{
    if (!g->duty || uv_is_closing((uv_handle_t *)&g->duty_timer))
        return;
    int64_t due = lw_duty_next_due(g->duty), wait = INT64_MAX;
    if (due != INT64_MAX)
        wait = due - lw_clock_mono_ms();
    if (wait == INT64_MAX) {
        uv_timer_stop(&g->duty_timer);
        return;
    }
    uv_timer_start(&g->duty_timer, on_duty_timer, wait < 10 ? 10 : (uint64_t)wait, 0);
}

static void duty_alert_of(const struct lw_node_conf *node, const struct lw_rule_conf *rule,
                          int64_t id, struct lw_duty_alert *a)
{
    memset(a, 0, sizeof(*a));
    a->id = id;
    a->node = node->address;
    a->hazard = rule->hazard;
    snprintf(a->grid, sizeof(a->grid), "%s", node->grid);
    snprintf(a->building, sizeof(a->building), "%s", node->building);
}

static void duty_transition(struct lw_gateway *g, const struct lw_node_conf *node,
                            const struct lw_rule_conf *rule, enum lw_alert_state state,
                            const struct lw_alert_info *info, const char *json)
{
    if (!g->duty)
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
        queue_journal(g, info->id, now_ms(g), "silenced", "gateway", 0, "gateway", detail);
        duty_commit(g);
        return;
    }
    if (state == LW_ALERT_RAISED) {
        struct lw_duty_alert a;
        duty_alert_of(node, rule, info->id, &a);
        if (rule->type == LW_RULE_STORAGE)
            a.first_tier = 2; /* the duty room: a gateway matter, not a grid worker's */
        lw_duty_raised(g->duty, &a, json, lw_clock_mono_ms(), lw_clock_wall_ms());
    } else {
        lw_duty_resolved(g->duty, info->id, json);
    }
    duty_commit(g);
}

/* The duty state of an open alert found at start-up resumes at its stored tier, with the
 * reminders each tier has had (one nobody was told about yet is paged as its raise would). Its
 * messages repeat the raise message as published; a row from before that was kept gets one rebuilt
 * from its record (level, value, incident as raised). */
static void restore_duty(struct lw_gateway *g, const struct lw_node_conf *nc,
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
    struct lw_duty_alert a;
    duty_alert_of(nc, rule, o->id, &a);
    /* The journal's times are the wall clock's, except on a simulated medium, whose virtual
     * clock restarts with the process: there the tier gets its full time again. */
    struct lw_duty_resume r = {.tier = o->tier, .acked = o->acked};
    memcpy(r.reminders, o->reminders, sizeof(r.reminders));
    if (!g->medium_clock) {
        r.told_ms = o->told_ms;
        r.reminded_ms = o->reminded_ms;
    }
    if (payload && !o->tier && !o->acked) {
        /* Nobody was told before the restart (it stopped first, or a silence held it back): the
         * raise's paging happens now, through the outbox. One the gateway withheld stays so. */
        if (!o->withheld)
            lw_duty_raised(g->duty, &a, payload, lw_clock_mono_ms(), lw_clock_wall_ms());
    } else if (payload)
        lw_duty_restore(g->duty, &a, payload, &r, lw_clock_mono_ms(), lw_clock_wall_ms());
    else
        lw_log(LW_LOG_ERR, "alert #%lld: out of memory: its duty state is not restored",
               (long long)o->id);
    free(rebuilt);
}

static void restore_incident(void *arg, int64_t incident, const char *hazard, const char *building,
                             int64_t alert)
{
    struct lw_gateway *g = arg;
    for (int h = 0; h < LW_HAZARD_COUNT && g->incidents; h++)
        if (strcmp(hazard, lw_hazard_name((enum lw_hazard)h)) == 0)
            lw_incident_add(g->incidents, incident, (enum lw_hazard)h, building, alert);
}

static void restore_silence(void *arg, const struct lw_silence *s)
{
    struct lw_gateway *g = arg;
    char why[160];
    struct lw_silence c = *s;
    c.forced = true; /* accepted when it was made; the rules of its making stand */
    c.hazard = s->hazard;
    lw_duty_silence_add(g->duty, &c, lw_clock_mono_ms(), lw_clock_wall_ms() - 1, why, sizeof(why));
}

/* Acknowledge alert id for actor; the reply's error text and code on failure. */
static int ack_alert(struct lw_gateway *g, int64_t id, const char *actor, unsigned tier,
                     const char *via, const char *note, char *why, size_t cap, const char **code)
{
    int rc = lw_duty_ack(g->duty, id, actor, tier, via, note, lw_clock_wall_ms(), why, cap);
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
    lw_log_fields(LW_LOG_NOTICE, NULL, (long long)id, "alert #%lld acknowledged by %s via %s",
                  (long long)id, actor, via);
    duty_commit(g);
    return LW_OK;
}

/* Resolve a silence request into a silence; the node may be named by name or address. */
static int make_silence(struct lw_gateway *g, const char *node, const char *building, int hazard,
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
    int rc = lw_duty_silence_add(g->duty, s, lw_clock_mono_ms(), lw_clock_wall_ms(), why, cap);
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
        lw_duty_silence_lift(g->duty, 0, lw_clock_mono_ms(), lw_clock_wall_ms());
        snprintf(why, cap, "the silence could not be stored (%s)",
                 lw_store_trouble(g->store) == LW_STORE_FULL ? "the gateway's disk is full"
                                                              : "database error");
        *code = "db";
        return LW_ERR_DB;
    }
    /* The id came from the database: the copy duty holds must carry it too. */
    const struct lw_silence *all;
    size_t n = lw_duty_silences(g->duty, &all);
    for (size_t i = 0; i < n; i++)
        if (all[i].id == 0)
            ((struct lw_silence *)all)[i].id = s->id;
    lw_log(LW_LOG_NOTICE, "silence #%lld by %s for %llu s: %s", (long long)s->id, actor,
           (unsigned long long)(for_ms / 1000), reason);
    duty_commit(g);
    return LW_OK;
}

static int lift_silence(struct lw_gateway *g, int64_t id, char *why, size_t cap, const char **code)
{
    if (lw_duty_silence_lift(g->duty, id, lw_clock_mono_ms(), lw_clock_wall_ms()) != LW_OK) {
        snprintf(why, cap, "no active silence #%lld", (long long)id);
        *code = "not_found";
        return LW_ERR_UNKNOWN_NODE;
    }
    lw_alertdb_silence_end(g->store, id, lw_clock_wall_ms());
    duty_commit(g);
    return LW_OK;
}

/* A command from a duty phone on lorawatch/<site>/command/<mqtt_user>; the answer goes to
 * lorawatch/<site>/reply/<mqtt_user>. The identity is the topic's (the broker's ACL lets each
 * user publish only there); a "by" naming somebody else is refused. Nothing changes on refusal. */
static void on_mqtt_message(void *arg, const char *topic, const void *payload, size_t len)
{
    struct lw_gateway *g = arg;
    size_t pl = strlen(g->command_prefix);
    if (strncmp(topic, g->command_prefix, pl) != 0)
        return;
    const char *user = topic + pl;
    if (!user[0] || strchr(user, '/') || strlen(user) >= 64) {
        lw_command_count(&g->commands, "usage");
        return;
    }
    char reply_topic[192], why[256] = "";
    snprintf(reply_topic, sizeof(reply_topic), "lorawatch/%s/reply/%s", g->cfg->site, user);
    struct lw_command c;
    const char *code = "usage";
    const struct lw_duty_person *who = lw_roster_by_user(g->cfg->roster, user);
    int rc = lw_command_parse(payload, len, &c, why, sizeof(why));
    if (!who) {
        snprintf(why, sizeof(why), "'%s' is not on the duty roster", user);
        code = "denied";
        rc = LW_ERR_INVAL;
    } else if (rc == LW_OK && c.by[0] && strcmp(c.by, user) != 0 && strcmp(c.by, who->id) != 0) {
        snprintf(why, sizeof(why), "\"by\" says '%s' but the command came from '%s'", c.by, user);
        code = "denied";
        rc = LW_ERR_INVAL;
    }
    if (rc == LW_OK) {
        switch (c.kind) {
        case LW_CMD_ACK:
            rc = ack_alert(g, c.alert, who->id, who->tier, "mqtt", c.note, why, sizeof(why), &code);
            break;
        case LW_CMD_SILENCE: {
            struct lw_silence s;
            rc = make_silence(g, c.node, c.building, c.hazard, c.for_ms, c.force, who->id, c.reason,
                              &s, why, sizeof(why), &code);
            if (rc == LW_OK)
                snprintf(why, sizeof(why), "silence #%lld", (long long)s.id);
            break;
        }
        case LW_CMD_UNSILENCE:
            rc = lift_silence(g, c.silence, why, sizeof(why), &code);
            break;
        }
    }
    if (rc != LW_OK)
        lw_log_rl(LW_LOG_WARNING, "mqtt command from '%s' refused: %s", user, why);
    lw_command_count(&g->commands, rc == LW_OK ? NULL : code);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", rc == LW_OK);
    if (c.request_id[0])
        cJSON_AddStringToObject(o, "id", c.request_id);
    if (rc == LW_OK && c.kind == LW_CMD_ACK)
        cJSON_AddNumberToObject(o, "alert", (double)c.alert);
    if (rc == LW_OK && why[0])
        cJSON_AddStringToObject(o, "result", why);
    if (rc != LW_OK) {
        cJSON_AddStringToObject(o, "error", why);
        cJSON_AddStringToObject(o, "code", code);
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text)
        lw_mqtt_publish(g->mqtt, reply_topic, text, 1, false, 0);
    free(text);
}

/* Control-socket commands of the alert lifecycle; NULL when cmd is not one. */
static char *alert_control(struct lw_gateway *g, const char *cmd, const cJSON *req,
                           const struct lw_control_peer *peer)
{
    char why[256] = "", actor[32];
    const char *code = "usage";
    int rc = LW_OK;
    snprintf(actor, sizeof(actor), "uid:%u", peer->uid);
    cJSON *o = cJSON_CreateObject();
    if (strcmp(cmd, "alerts") == 0) {
        bool all = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "all"));
        cJSON *arr = lw_alertdb_list(g->store, all, all ? 200 : 1000);
        const cJSON *a;
        cJSON_ArrayForEach(a, arr)
        {
            unsigned tier;
            bool acked, held;
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
            if (cJSON_IsNumber(id) &&
                lw_duty_state(g->duty, (int64_t)id->valuedouble, &tier, &acked, &held))
                cJSON_AddBoolToObject((cJSON *)a, "held", held);
        }
        cJSON_AddItemToObject(o, "alerts", arr ? arr : cJSON_CreateArray());
        const struct lw_silence *s;
        size_t n = lw_duty_silences(g->duty, &s);
        cJSON_AddNumberToObject(o, "silences", (double)n);
    } else if (strcmp(cmd, "ack") == 0) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "alert");
        const cJSON *note = cJSON_GetObjectItemCaseSensitive(req, "note");
        if (!cJSON_IsNumber(id) || id->valuedouble < 1) {
            snprintf(why, sizeof(why), "which alert? (\"alert\": its id)");
            rc = LW_ERR_INVAL;
        } else if (note && (!cJSON_IsString(note) || strlen(note->valuestring) > 159)) {
            snprintf(why, sizeof(why), "the note is text of at most 159 bytes");
            rc = LW_ERR_INVAL;
        } else {
            rc = ack_alert(g, (int64_t)id->valuedouble, actor, 0, "cli",
                           note ? note->valuestring : NULL, why, sizeof(why), &code);
        }
    } else if (strcmp(cmd, "silence") == 0) {
        /* The same fields as the MQTT command, checked by the same parser. */
        char *text = cJSON_PrintUnformatted(req);
        cJSON *copy = cJSON_Parse(text ? text : "{}");
        free(text);
        cJSON_ReplaceItemInObjectCaseSensitive(copy, "cmd", cJSON_CreateString("silence"));
        char *body = cJSON_PrintUnformatted(copy);
        cJSON_Delete(copy);
        struct lw_command c;
        rc = body ? lw_command_parse(body, strlen(body), &c, why, sizeof(why)) : LW_ERR_NOMEM;
        free(body);
        struct lw_silence s;
        if (rc == LW_OK)
            rc = make_silence(g, c.node, c.building, c.hazard, c.for_ms, c.force, actor, c.reason,
                              &s, why, sizeof(why), &code);
        if (rc == LW_OK) {
            cJSON_AddNumberToObject(o, "silence", (double)s.id);
            cJSON_AddNumberToObject(o, "until_ms", (double)s.until_ms);
        }
    } else if (strcmp(cmd, "silences") == 0) {
        const struct lw_silence *s;
        size_t n = lw_duty_silences(g->duty, &s);
        cJSON *arr = cJSON_AddArrayToObject(o, "silences");
        for (size_t i = 0; i < n; i++) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddNumberToObject(j, "id", (double)s[i].id);
            const struct lw_node *nd = s[i].node ? lw_registry_find(g->reg, s[i].node) : NULL;
            if (nd)
                cJSON_AddStringToObject(j, "node", nd->conf->name);
            if (s[i].building[0])
                cJSON_AddStringToObject(j, "building", s[i].building);
            cJSON_AddStringToObject(
                j, "hazard", s[i].hazard < 0 ? "any" : lw_hazard_name((enum lw_hazard)s[i].hazard));
            cJSON_AddNumberToObject(j, "until_ms", (double)s[i].until_ms);
            cJSON_AddStringToObject(j, "by", s[i].actor);
            cJSON_AddStringToObject(j, "reason", s[i].reason);
            cJSON_AddBoolToObject(j, "forced", s[i].forced);
            cJSON_AddItemToArray(arr, j);
        }
    } else if (strcmp(cmd, "unsilence") == 0) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "silence");
        if (!cJSON_IsNumber(id) || id->valuedouble < 1) {
            snprintf(why, sizeof(why), "which silence? (\"silence\": its id)");
            rc = LW_ERR_INVAL;
        } else {
            rc = lift_silence(g, (int64_t)id->valuedouble, why, sizeof(why), &code);
        }
    } else {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddBoolToObject(o, "ok", rc == LW_OK);
    if (rc != LW_OK) {
        cJSON_AddStringToObject(o, "error", why);
        cJSON_AddStringToObject(o, "code", code);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* ---- control socket ---------------------------------------------------------------------- */

/* Requests from the lorawatch CLI. "status" answers with the same text as the metrics file, so
 * the CLI reads one format whether the daemon is reachable or only its last snapshot is. */
static struct lw_registry *current_registry(void *arg)
{
    return ((struct lw_gateway *)arg)->reg;
}

/* lorawatch test-alarm: a blue test alert of the node's own hazard travels the whole alert path
 * (journal, outbox, MQTT) marked as a test, and is cleared at once. It measures nothing: its
 * value is 0, and its sentences say it is a test, not what the water or air is. */
static int64_t raise_test_alarm(void *arg, struct lw_node *n)
{
    struct lw_gateway *g = arg;
    struct lw_rule_conf rule;
    lw_alert_test_rule(&rule, n->conf->kind);
    struct lw_rule_state st = {0};
    int64_t t = now_ms(g);
    g->test_mode = true;
    alert_transition(g, n->conf, &rule, &st, LW_ALERT_RAISED, 0, t);
    alert_transition(g, n->conf, &rule, &st, LW_ALERT_CLEARED, 0, t);
    g->test_mode = false;
    return st.alert_id;
}

static int rebuild_registry(void *arg);

static char *on_control(void *arg, const char *cmd, const cJSON *req,
                        const struct lw_control_peer *peer)
{
    struct lw_gateway *g = arg;
    struct lw_nodectl_env env = {
        .arg = g,
        .cfg = g->cfg,
        .store = g->store,
        .nodedb = g->nodedb,
        .registry = current_registry,
        .rebuild = rebuild_registry,
        .test_alarm = raise_test_alarm,
        .now_ms = lw_clock_wall_ms(),
    };
    char *reply = lw_nodectl_handle(&env, cmd, req, peer);
    if (reply)
        return reply;
    if ((reply = alert_control(g, cmd, req, peer)))
        return reply;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (strcmp(cmd, "status") == 0) {
        struct lw_metrics m;
        fill_metrics(g, true, &m);
        char *text = lw_metrics_text(&m);
        cJSON_AddBoolToObject(o, "ok", text != NULL);
        cJSON_AddStringToObject(o, "metrics", text ? text : "");
        free(text);
    } else if (strcmp(cmd, "event-mode") == 0) {
        cJSON_Delete(o);
        return control_event_mode(g, req);
    } else if (strcmp(cmd, "ping") == 0) {
        cJSON_AddBoolToObject(o, "ok", 1);
        cJSON_AddStringToObject(o, "version", LW_VERSION);
    } else {
        cJSON_Delete(o);
        return NULL;
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

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
            lw_duty_set_payload(g->duty, r->id, r->message);
            lw_alert_topic(topic, sizeof(topic), g->cfg->site, r->id);
            sent |= lw_spool_message(g->spool, r->id, topic, r->message, true, &tag) == LW_OK;
        }
        free(r->message);
    }
    free(g->retimed);
    g->retimed = NULL;
    g->n_retimed = 0;
    if (sent && g->mqtt)
        journal_now(g); /* at start-up the storage timer writes them, before the connection */
}

/* A silence made before the clock was right shows its corrected end (its duration runs on the
 * monotonic clock and does not change). */
static void retime_silence(void *arg, const struct lw_silence *s)
{
    struct lw_gateway *g = arg;
    const struct lw_silence *all;
    size_t n = lw_duty_silences(g->duty, &all);
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
            journal_now(g);
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

/* ---- registry ----------------------------------------------------------------------------- */

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
    struct lw_nodedb_seen *seen = NULL;
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

/* ---- reload ----------------------------------------------------------------------------- */

static void note_restart_key(void *arg, const char *section, const char *key)
{
    (void)arg;
    lw_log(LW_LOG_WARNING, "reload: [%s] %s changed; it takes effect after a restart", section,
           key);
}

static long rule_index(const struct lw_config *cfg, const char *name)
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

static size_t adopt_registry(struct lw_gateway *g, const struct lw_config *next,
                             struct lw_registry *reg);

int lw_gateway_reload(struct lw_gateway *g, struct lw_config *next)
{
    lw_config_keep_restart_keys(g->cfg, next, note_restart_key, g);
    if (lw_nodedb_sync_config(g->nodedb, next, lw_clock_wall_ms(), log_node_problem, g) != LW_OK)
        lw_log(LW_LOG_WARNING, "reload: node table not updated in the database");
    struct lw_registry *reg = load_registry(g, next);
    if (!reg)
        return LW_ERR_NOMEM;
    size_t closed = adopt_registry(g, next, reg);
    lw_store_set_rules(g->store, next); /* rollups: time above the new rule levels */
    lw_duty_set_config(g->duty, next);  /* the roster and timings reload with the rules */
    lw_log(LW_LOG_NOTICE, "configuration reloaded: %zu nodes, %zu rules%s", lw_registry_count(reg),
           next->n_rules, closed ? "; alerts of removed rules or nodes closed" : "");
    return LW_OK;
}

/* The node registry changed in the database (a maintenance command): same configuration, new
 * registry. */
static int rebuild_registry(void *arg)
{
    struct lw_gateway *g = arg;
    struct lw_registry *reg = load_registry(g, g->cfg);
    if (!reg)
        return LW_ERR_NOMEM;
    adopt_registry(g, g->cfg, reg);
    return LW_OK;
}

/* Make reg (built for configuration next) the running registry: runtime state carries over by
 * node address and rule name; alerts whose node or rule is gone, or whose rule no longer applies
 * to the node, are closed. Returns how many were closed. */
static size_t adopt_registry(struct lw_gateway *g, const struct lw_config *next,
                             struct lw_registry *reg)
{
    int64_t t = now_ms(g);
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
            long j = n ? rule_index(next, g->cfg->rules[k].name) : -1;
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
                alert_transition(g, old->conf, &g->cfg->rules[k], &old->rules[k], LW_ALERT_CLOSED,
                                 0, t);
                closed++;
            }
        }
    }
    /* The gateway's own rules: an open alert of one that is gone is withdrawn the same way. */
    for (size_t k = 0; k < g->cfg->n_rules; k++) {
        const struct lw_rule_conf *rule = &g->cfg->rules[k];
        long j = rule_index(next, rule->name);
        struct lw_rule_state *st =
            rule->type == LW_RULE_RADIO_FAULT ? lw_rules_gateway_state(g->rules, rule->name) : NULL;
        if (!st || !st->active || (j >= 0 && next->rules[j].type == LW_RULE_RADIO_FAULT))
            continue;
        alert_transition(g, lw_rules_gateway_node(g->rules, g->cfg->site), rule, st,
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

/* ---- start and stop --------------------------------------------------------------------- */

static void restore_counter(void *arg, uint16_t addr, uint32_t fcnt)
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
    long gi = o->node == 0 ? rule_index(g->cfg, o->rule) : -1;
    if (gi >= 0 && g->cfg->rules[gi].type == LW_RULE_RADIO_FAULT) {
        if (lw_rules_gateway_restore(g->rules, o->rule, o->id, o->raised_ms, o->level)) {
            rule = &g->cfg->rules[gi];
            nc = lw_rules_gateway_node(g->rules, g->cfg->site);
        }
    } else if (strcmp(o->rule, relay_rule.name) == 0 && (ra = relay_alert_state(g, o->node))) {
        /* A relay reported silent before the restart stays so until it is heard again
         * (mesh_known_relays); its alert is not withdrawn. */
        ra->st = (struct lw_rule_state){
            .active = true, .alert_id = o->id, .raised_ms = o->raised_ms, .level = o->level};
        rule = &relay_rule;
        relay_node_conf(g, o->node, &relay_node);
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
            restore_duty(g, nc, rule, o);
        return;
    }
    lw_log(LW_LOG_NOTICE, "alert #%lld (rule %s) no longer applies: closed", (long long)o->id,
           o->rule);
    lw_store_alert_set_state(g->store, o->id, "closed", lw_clock_wall_ms());
    lw_store_journal(g->store, o->id, lw_clock_wall_ms(), "closed",
                     "rule or node no longer configured at start-up");
    /* Its rule is gone, so no full message can be built: an empty retained message removes the
     * stale "raised" one from the broker (MQTT's way), delivered through the outbox as usual. */
    char topic[128];
    int64_t seq;
    lw_alert_topic(topic, sizeof(topic), g->cfg->site, o->id);
    lw_store_outbox_add(g->store, o->id, topic, "", true, &seq);
}

/* Raw readings past [storage] retention_days go a few hundred at a time, never all at once, and
 * not while the wall clock is untrusted (a clock years ahead would delete them all). */
#define RETENTION_INTERVAL_MS 10000
#define RETENTION_ROWS        500

static void on_retention_timer(uv_timer_t *t)
{
    struct lw_gateway *g = t->data;
    if (g->clock_synced && lw_store_retention_step(g->store, now_ms(g), RETENTION_ROWS) < 0)
        lw_log_rl(LW_LOG_WARNING, "retention: deleting old readings failed; retried later");
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

static void prime_rules(struct lw_gateway *g)
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

/* A zero offset changed in the file while the daemon was stopped is a recalibration too: the
 * alerts found open that were raised under the old zero (was: the nodes as the last run left
 * them in the database) are pinned to it, as a reload would have. */
static void pin_restored(struct lw_gateway *g, const struct lw_node_conf *was, size_t n_was)
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

/* The writes the spool file names by index: append only, never reorder (a file written by the
 * previous run of the same build is read back with this table). */
static const lw_spool_apply_fn spool_kinds[] = {
    apply_outbox_done, apply_alert_row,  apply_state_row,   apply_journal_row,
    apply_incident_row, apply_update_row, apply_silence_end,
};

/* Alert writes a run killed with a full disk left in the spool file are journalled now, before
 * the alerts are restored from the database: then they come back like any other. With the disk
 * still full they wait in the queue (paged from it once the broker is there). */
static int keep_spool(struct lw_gateway *g)
{
    char layout[160];
    snprintf(layout, sizeof(layout), "%s %zu %zu %zu %zu %zu %zu %zu", LW_VERSION,
             sizeof(struct outbox_done_row), sizeof(struct alert_row), sizeof(struct state_row),
             sizeof(struct journal_row), sizeof(struct incident_row), sizeof(struct update_row),
             sizeof(struct silence_end_row));
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

int lw_gateway_new(uv_loop_t *loop, const struct lw_config *cfg, bool with_radio,
                   struct lw_gateway **out)
{
    char path[LW_PATH_MAX + 32], err[512];
    struct lw_node_conf *was = NULL; /* the nodes as the last run left them */
    size_t n_was = 0;
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

    lw_config_db_path(cfg, path, sizeof(path));
    g->store = lw_store_open(path, cfg->batch_rows, err, sizeof(err));
    if (!g->store) {
        lw_log(LW_LOG_ERR, "%s", err);
        free(g);
        return LW_ERR_DB;
    }
    if (!(g->spool = lw_spool_new(SPOOL_MAX_BYTES)) || keep_spool(g) != LW_OK)
        goto fail;
    g->nodedb = lw_nodedb_new(g->store);
    if (g->nodedb && lw_nodedb_load(g->nodedb, false, &was, NULL, &n_was) != LW_OK)
        n_was = 0; /* then a zero changed while stopped is not seen: logged below */
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
        goto fail;
    }
    if (!(g->rules = lw_rules_new()))
        goto fail;
    lw_alert_storage_rule(&g->storage_rule);
    lw_join_limiter_init(&g->join_limiter, LW_JOIN_RATE_PER_S, LW_JOIN_BURST);
    lw_store_each_counter(g->store, restore_counter, g->reg);
    g->last_alert_id = g->reserved_alert_id = lw_store_alert_id_floor(g->store);
    g->last_incident_id = g->reserved_incident_id = lw_store_incident_id_floor(g->store);
    struct lw_duty_ops dops = {.arg = g,
                               .publish = duty_publish,
                               .journal = duty_journal,
                               .update = duty_update,
                               .silence_ended = duty_silence_ended,
                               .commit = duty_commit};
    snprintf(g->command_prefix, sizeof(g->command_prefix), "lorawatch/%s/command/", cfg->site);
    g->duty = lw_duty_new(cfg->site, cfg, &dops);
    if (!g->duty) {
        lw_log(LW_LOG_ERR, "out of memory");
        goto fail;
    }
    char boot[64];
    lw_clock_boot_id(boot, sizeof(boot));
    lw_store_set_boot(g->store, boot);
    lw_store_set_rules(g->store, cfg); /* rollups: time above each rule level */
    lw_store_set_retention(g->store, cfg->retention_days);
    /* A simulated medium supplies its own clock; otherwise ask whether ours can be trusted.
     * Decided before the alerts are restored: their times (an escalation's due time, a
     * silence's end) must be read corrected, and whatever the restore writes is marked. */
    g->clock_synced = g->medium_clock || lw_clock_synced(cfg->clock_check);
    if (!g->clock_synced) {
        lw_log(LW_LOG_WARNING,
               "wall clock not synchronised (clock_check = %s): readings are "
               "marked and corrected once it is",
               cfg->clock_check);
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

    /* Silences first: an open alert a silence covers resumes held back. */
    lw_alertdb_each_silence(g->store, lw_clock_wall_ms(), restore_silence, g);
    lw_alertdb_each_open(g->store, restore_alert, g);
    pin_restored(g, was, n_was);
    prime_rules(g); /* after the alerts: a replay never raises or clears one */
    free(was);
    was = NULL;
    lw_store_commit(g->store);
    g->incidents = lw_incidents_new();
    lw_alertdb_each_incident_alert(g->store, lw_clock_wall_ms(), restore_incident, g);

    uv_timer_init(loop, &g->commit_timer);
    uv_timer_init(loop, &g->status_timer);
    uv_timer_init(loop, &g->sync_timer);
    uv_timer_init(loop, &g->metrics_timer);
    g->commit_timer.data = g;
    g->status_timer.data = g;
    g->sync_timer.data = g;
    g->metrics_timer.data = g;
    g->handles_open = 4;
    uv_timer_init(loop, &g->retention_timer);
    g->retention_timer.data = g;
    g->handles_open++;
    if (cfg->retention_days)
        uv_timer_start(&g->retention_timer, on_retention_timer, RETENTION_INTERVAL_MS,
                       RETENTION_INTERVAL_MS);
    uv_timer_init(loop, &g->storage_timer);
    g->storage_timer.data = g;
    g->handles_open++;
    uv_timer_start(&g->storage_timer, on_storage_timer, 1000, 1000);
    uv_timer_init(loop, &g->duty_timer);
    g->duty_timer.data = g;
    g->handles_open++;
    duty_schedule(g); /* alerts restored above may be due for escalation */
    uv_timer_init(loop, &g->rules_timer);
    g->rules_timer.data = g;
    g->handles_open++;
    if (g->medium_clock)
        uv_timer_start(&g->rules_timer, on_rules_timer, RULES_TICK_MEDIUM_MS, RULES_TICK_MEDIUM_MS);
    else
        uv_timer_start(&g->rules_timer, on_rules_timer, RULES_TICK_MIN_MS, 0);
    if (!g->clock_synced)
        uv_timer_start(&g->sync_timer, on_sync_timer, 2000, 2000);

    char command_filter[160];
    snprintf(command_filter, sizeof(command_filter), "%s+", g->command_prefix);
    char *offline = status_json(g, "offline");
    cJSON *po = cJSON_CreateObject();
    if (po) {
        cJSON_AddStringToObject(po, "site", cfg->site);
        cJSON_AddTrueToObject(po, "probe");
    }
    char *probe = po ? cJSON_PrintUnformatted(po) : NULL;
    cJSON_Delete(po);
    struct lw_mqtt_conf mc = {
        .host = cfg->mqtt_host,
        .port = (uint16_t)cfg->mqtt_port,
        .client_id = cfg->mqtt_client_id,
        .keepalive_s = (unsigned)(cfg->mqtt_keepalive_ms / 1000),
        .username = cfg->mqtt_username,
        .password = cfg->mqtt_password,
        .tls_ca_file = cfg->mqtt_tls_ca_file,
        .tls_cert_file = cfg->mqtt_tls_cert_file,
        .tls_key_file = cfg->mqtt_tls_key_file,
        .tls_version = cfg->mqtt_tls_version,
        .will_topic = g->status_topic,
        .will_payload = offline ? offline : "{\"state\":\"offline\"}",
        .reconnect_min_ms = cfg->mqtt_reconnect_min_ms,
        .reconnect_max_ms = cfg->mqtt_reconnect_max_ms,
        .subscribe = command_filter,
        .probe_topic = probe ? g->mark_topic : NULL,
        .probe_payload = probe,
    };
    struct lw_mqtt_cbs cbs = {.arg = g,
                              .connected = on_mqtt_connected,
                              .acked = on_mqtt_acked,
                              .message = on_mqtt_message};
    g->mqtt = lw_mqtt_new(loop, &mc, &cbs);
    free(offline);
    free(probe);
    if (!g->mqtt)
        goto fail_handles;
    lw_mqtt_start(g->mqtt);
    uv_timer_start(&g->status_timer, on_status_timer, cfg->status_interval_ms,
                   cfg->status_interval_ms);

    if (with_radio && lw_radio_new(loop, cfg, on_radio_rx, g, &g->radio) != LW_OK)
        goto fail_handles;
    uv_timer_init(loop, &g->dl_timer);
    g->dl_timer.data = g;
    g->handles_open++;
    uv_timer_init(loop, &g->relay_timer);
    g->relay_timer.data = g;
    g->handles_open++;
    uint64_t relay_tick = g->medium_clock ? RELAY_TICK_MEDIUM_MS : RELAY_TICK_MS;
    uv_timer_start(&g->relay_timer, on_relay_timer, relay_tick, relay_tick);
    if (!(g->dl = downlink_new(g)))
        goto fail_handles;
    /* The CLI's socket is a convenience: without it the daemon still does its main job. */
    if (cfg->control_socket[0] && lw_control_new(loop, cfg->control_socket, cfg->control_group,
                                                 on_control, g, &g->control) != LW_OK)
        lw_log(LW_LOG_ERR, "control socket unavailable; lorawatch status falls back to metrics");
    if (cfg->metrics_file[0]) {
        g->metrics_due = uv_now(loop) + cfg->metrics_interval_ms;
        uv_timer_start(&g->metrics_timer, on_metrics_timer, cfg->metrics_interval_ms,
                       cfg->metrics_interval_ms);
        write_metrics(g, true);
    }
    lw_log(LW_LOG_INFO, "site %s: %zu nodes, %zu rules, database %s", cfg->site,
           lw_registry_count(g->reg), cfg->n_rules, path);
    *out = g;
    return LW_OK;

fail_handles:
    /* Handles exist now: release them through the normal stop path. */
    lw_gateway_stop(g, NULL, NULL);
    return LW_ERR_IO;
fail:
    free(was);
    lw_spool_free(g->spool);
    free(g->replayed);
    lw_rules_free(g->rules);
    lw_registry_free(g->reg);
    lw_nodedb_free(g->nodedb);
    lw_store_close(g->store);
    free(g);
    return LW_ERR_IO;
}

static void finish(struct lw_gateway *g)
{
    lw_duty_free(g->duty);
    lw_incidents_free(g->incidents);
    lw_mesh_free(g->mesh);
    lw_downlink_free(g->dl);
    free(g->relay_alerts);
    free(g->pending_cmds);
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

static void handle_closed(uv_handle_t *h)
{
    struct lw_gateway *g = h->data;
    if (--g->handles_open == 0)
        finish(g);
}

static void mqtt_stopped(void *arg)
{
    struct lw_gateway *g = arg;
    g->mqtt = NULL;
    if (--g->handles_open == 0)
        finish(g);
}

void lw_gateway_stop(struct lw_gateway *g, void (*done)(void *arg), void *arg)
{
    g->done = done;
    g->done_arg = arg;
    lw_store_commit(g->store);
    /* A last chance for what waits in memory; the disk may have room again. */
    if (lw_spool_count(g->spool) && lw_spool_flush(g->spool, g->store) != LW_OK)
        lw_log(LW_LOG_ERR, "%zu alert writes could not be journalled before stopping",
               lw_spool_count(g->spool));
    /* The last status carries the final counters, radio ones included: build it first. */
    char *offline = status_json(g, "offline");
    if (g->cfg->metrics_file[0])
        write_metrics(g, false); /* lorawatch status then says "not running", not "stale" */
    if (g->radio) {
        lw_radio_free(g->radio); /* no new frames from here on */
        g->radio = NULL;
    }
    lw_control_free(g->control);
    g->control = NULL;
    lw_store_commit(g->store);
    uv_timer_stop(&g->commit_timer);
    uv_timer_stop(&g->status_timer);
    uv_timer_stop(&g->sync_timer);
    uv_timer_stop(&g->metrics_timer);
    uv_close((uv_handle_t *)&g->metrics_timer, handle_closed);
    uv_close((uv_handle_t *)&g->commit_timer, handle_closed);
    uv_close((uv_handle_t *)&g->status_timer, handle_closed);
    uv_close((uv_handle_t *)&g->sync_timer, handle_closed);
    uv_timer_stop(&g->duty_timer);
    uv_close((uv_handle_t *)&g->duty_timer, handle_closed);
    uv_timer_stop(&g->storage_timer);
    uv_close((uv_handle_t *)&g->storage_timer, handle_closed);
    uv_timer_stop(&g->retention_timer);
    uv_close((uv_handle_t *)&g->retention_timer, handle_closed);
    uv_timer_stop(&g->rules_timer);
    uv_close((uv_handle_t *)&g->rules_timer, handle_closed);
    if (g->dl_timer.data) {
        uv_timer_stop(&g->dl_timer);
        uv_close((uv_handle_t *)&g->dl_timer, handle_closed);
    }
    if (g->relay_timer.data) {
        uv_timer_stop(&g->relay_timer);
        uv_close((uv_handle_t *)&g->relay_timer, handle_closed);
    }
    struct lw_store_stats ss;
    lw_store_stats(g->store, &ss);
    lw_log(LW_LOG_INFO, "stopped: %llu frames, %llu accepted, %llu readings stored, %llu alerts",
           (unsigned long long)g->c.frames, (unsigned long long)g->c.accepted,
           (unsigned long long)ss.readings_committed, (unsigned long long)g->c.alerts_raised);
    if (g->mqtt) {
        publish_mark(g); /* the last acknowledgements: no needless resending next time */
        g->handles_open++;
        lw_mqtt_stop(g->mqtt, g->status_topic, offline ? offline : "{\"state\":\"offline\"}",
                     mqtt_stopped, g);
    }
    free(offline);
}

void lw_gateway_counters(const struct lw_gateway *g, struct lw_gateway_counters *out)
{
    struct lw_store_stats ss;
    lw_store_stats(g->store, &ss);
    *out = g->c;
    out->readings_stored = ss.readings_committed; /* on disk, not merely handed to SQLite */
}
