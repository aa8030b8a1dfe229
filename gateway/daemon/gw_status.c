/* SPDX-License-Identifier: Apache-2.0 */
/* The MQTT session: the gateway's status, the outbox handed to the broker and its mark, and
 * what is sent again when a broker lost its retained state. */
#include "gw_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lw_clock.h"
#include "lw_error.h"
#include "lw_log.h"
#include "lw_version.h"

char *gw_status_json(struct lw_gateway *g, const char *state)
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

void gw_publish_status(struct lw_gateway *g)
{
    char *s = gw_status_json(g, "online");
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
         * (gw_requeue_lost), and until then the broker's mark stays where it is. */
        if (mark < acked) {
            g->mark_requeue =
                g->mark_requeue >= 0 && g->mark_requeue < mark ? g->mark_requeue : mark;
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
void gw_requeue_lost(struct lw_gateway *g)
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
void gw_replay_outbox(struct lw_gateway *g, int64_t after)
{
    lw_store_each_outbox(g->store, after, replay_outbox_row, g);
    for (size_t i = 0; i < g->n_replayed; i++)
        free(g->replayed[i]);
    g->n_replayed = 0;
}

/* A message that waits for the disk goes to the broker from memory meanwhile. */
bool gw_publish_from_memory(void *arg, int64_t tag, const char *topic, const char *payload,
                            bool retain)
{
    struct lw_gateway *g = arg;
    if (!g->mqtt)
        return false;
    if (lw_mqtt_tag_pending(g->mqtt, tag))
        return true;
    return lw_mqtt_publish(g->mqtt, topic, payload, 1, retain, tag) == LW_OK;
}

/* What to do when two gateways share a client id: said the same way whichever way it was found. */
static void log_takeover(struct lw_gateway *g, const char *how, uint64_t retry_ms)
{
    lw_log(LW_LOG_ERR,
           "mqtt: another gateway connected with client id %s (%s): two gateways with site %s? "
           "give each its own [mqtt] client_id / site; this one tries again in %llu s",
           g->cfg->mqtt_client_id, how, g->cfg->site, (unsigned long long)(retry_ms / 1000));
}

/* The broker said so (MQTT 5 DISCONNECT reason 0x8E); the client waits already. */
static void on_mqtt_taken_over(void *arg, uint64_t retry_ms)
{
    log_takeover(arg, "the broker ended this session: session taken over", retry_ms);
}

/* A broker that does not send reason 0x8E (mosquitto before 2.0.15) just closes the session that
 * another client takes over, and publishes that client's last will. Told apart from a broker
 * restart by our status topic, which only this site's gateway writes: right after such a close
 * it holds the status (online, or its will) of a process started at another time than this one.
 * Twice in a row: once could be a broker restored from an old snapshot holding the status of
 * this gateway's previous run. *older: the other gateway was started before this one. */
static bool status_of_another(struct lw_gateway *g, const char *owner, char *started, size_t cap,
                              bool *older)
{
    bool other = false;
    *older = false;
    cJSON *o = owner && owner[0] ? cJSON_Parse(owner) : NULL;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "started");
    if (cJSON_IsString(s)) {
        char ours[40];
        lw_format_time(g->started_ms, ours, sizeof(ours));
        other = strcmp(s->valuestring, ours) != 0;
        *older = strcmp(s->valuestring, ours) < 0; /* the same format and offset: ordered */
        snprintf(started, cap, "%s", s->valuestring);
    }
    cJSON_Delete(o);
    return other;
}

static void on_mqtt_connected(void *arg, const char *retained, const char *owner)
{
    struct lw_gateway *g = arg;
    char started[64], how[400];
    bool older = false;
    /* Only the newer of the two gives way, so one of them keeps the session (both leaving, as
     * both would when each saw the other's status, would leave the site offline). */
    if (!lw_mqtt_closed_by_broker(g->mqtt) ||
        !status_of_another(g, owner, started, sizeof(started), &older))
        g->foreign_status = 0;
    else if (!older) {
        g->foreign_status = 0;
        lw_log_rl(LW_LOG_WARNING,
                  "mqtt: a gateway started %s after this one connects with client id %s too "
                  "(site %s); it gives way, this one keeps the session",
                  started, g->cfg->mqtt_client_id, g->cfg->site);
    } else if (++g->foreign_status >= 2) {
        /* Leave before publishing anything: the other gateway keeps the session. */
        g->foreign_status = 0;
        uint64_t wait = lw_mqtt_yield(g->mqtt);
        snprintf(how, sizeof(how),
                 "the broker closed this session twice and %s then held the status of a gateway "
                 "started %s",
                 g->status_topic, started);
        log_takeover(g, how, wait);
        return;
    }
    if (retained)
        check_mark(g, retained);
    gw_publish_status(g);
    /* Whatever the broker has not acknowledged yet, including from before a restart. The mark
     * starts again from nothing, so a row this replay cannot hand over is retried at the next
     * commit even if the mark had passed it while disconnected. */
    g->handover_failed = false;
    g->outbox_handed = 0;
    gw_replay_outbox(g, 0);
    lw_spool_each_message(g->spool, true, gw_publish_from_memory, g);
    g->mark_sent = -1;
    publish_mark(g);
}

/* Acknowledged messages are kept a day (docs/RELIABILITY.md); pruned at most every 10 min. */
#define SENT_KEEP_MS  (24 * 3600 * 1000LL)
#define SENT_PRUNE_MS (600 * 1000LL)

static void on_mqtt_acked(void *arg, int64_t seq)
{
    struct lw_gateway *g = arg;
    int64_t t = gw_now_ms(g);
    if (lw_spool_tag(seq)) {
        lw_spool_acked(g->spool, seq, t); /* paged from memory */
        return;
    }
    gw_journal_acked(g, seq, t);
    publish_mark(g);
    int64_t wall = lw_clock_wall_ms();
    if (wall - g->sent_pruned_ms >= SENT_PRUNE_MS || wall < g->sent_pruned_ms) {
        lw_store_outbox_prune(g->store, wall - SENT_KEEP_MS);
        g->sent_pruned_ms = wall;
    }
    gw_storage_commit_soon(g);
}

static void on_status_timer(uv_timer_t *t)
{
    gw_publish_status(t->data);
}

/* The MQTT session: the broker holds "offline" as the will, the phone commands' filter is
 * subscribed, and a probe on the mark topic tells whether the broker kept its retained state. */
int gw_status_start(struct lw_gateway *g)
{
    const struct lw_config *cfg = g->cfg;
    gw_timer_init(g, &g->status_timer);
    char command_filter[160];
    snprintf(command_filter, sizeof(command_filter), "%s+", g->command_prefix);
    char *offline = gw_status_json(g, "offline");
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
        .owner_topic = g->status_topic,
    };
    struct lw_mqtt_cbs cbs = {.arg = g,
                              .connected = on_mqtt_connected,
                              .taken_over = on_mqtt_taken_over,
                              .acked = on_mqtt_acked,
                              .message = gw_on_mqtt_message};
    g->mqtt = lw_mqtt_new(g->loop, &mc, &cbs);
    free(offline);
    free(probe);
    if (!g->mqtt)
        return LW_ERR_NOMEM;
    lw_mqtt_start(g->mqtt);
    uv_timer_start(&g->status_timer, on_status_timer, cfg->status_interval_ms,
                   cfg->status_interval_ms);
    return LW_OK;
}

static void mqtt_stopped(void *arg)
{
    struct lw_gateway *g = arg;
    g->mqtt = NULL;
    gw_handle_closed(g);
}

/* Last of all: the mark (the last acknowledgements: no needless resending next time), then the
 * session closes with the final status, built before the radio stopped (offline). */
void gw_status_stop(struct lw_gateway *g, const char *offline)
{
    gw_timer_close(&g->status_timer);
    if (!g->mqtt)
        return;
    publish_mark(g);
    g->handles_open++;
    lw_mqtt_stop(g->mqtt, g->status_topic, offline ? offline : "{\"state\":\"offline\"}",
                 mqtt_stopped, g);
}
