/* SPDX-License-Identifier: Apache-2.0 */
/* The uplink pipeline: frame -> mesh -> join? -> admission -> node state -> store -> rules ->
 * node state topic. */
#include "gw_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "lw_clock.h"
#include "lw_error.h"
#include "lw_log.h"
#include "lw_parse.h"

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

/* Last contact goes to the node's row in the reading's transaction. A joined node's frame counter
 * must be there with every frame (a restart resumes its replay window from it); for the others
 * once a minute is enough to show when they were last heard. */
static void save_contact(struct lw_gateway *g, struct lw_node *n, uint32_t fcnt, int64_t t)
{
    if (n->conf->from_config && n->db_saved_ms && t - n->db_saved_ms < 60000 && t >= n->db_saved_ms)
        return;
    struct lw_node_contact s = {
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
    rc = gw_send_downlink(g, LW_DL_URGENT, out.accept, out.accept_len);
    lw_log(LW_LOG_NOTICE, "node %s (0x%04X) joined (join nonce %u)%s%s", out.conf.name,
           out.conf.address, out.req.join_nonce,
           rc == LW_OK ? "" : "; JOIN_ACC not sent: ", rc == LW_OK ? "" : lw_strerror(rc));
}

/* Mesh sink first: hop limit, copies of an accepted frame through other relays, and the relays'
 * route trailer taken off (local->len), so what follows sees the origin's frame. False when the
 * frame ends here. */
static bool mesh_step(struct lw_gateway *g, const struct lw_radio_rx *rx, struct lw_radio_rx *local,
                      struct lw_mesh_frame *mf, bool *mesh_copy)
{
    if (!g->mesh) {
        struct lw_mesh_config mc;
        lw_mesh_config_defaults(&mc);
        mc.hop_limit_max = (uint8_t)g->cfg->mesh_hop_limit;
        mc.relay_silence_ms = (uint32_t)g->cfg->mesh_relay_silence_ms;
        g->mesh = lw_mesh_new(&mc);
        gw_restore_on_first_frame(g);
    }
    int mrc = g->mesh ? lw_mesh_admit(g->mesh, local->buf, local->len, mf) : LW_ERR_NOMEM;
    struct lw_frame_hdr peeked;
    if (mrc == LW_ERR_DUP && mf->echo)
        return false; /* our own downlink, forwarded by a relay: not an uplink */
    /* A counter the sink has seen: a copy through another relay, a replay, or the first frames
     * of a new session (counters restart at every join). The node's replay window, which a join
     * resets, decides; the sink's verdict only tells a relay copy from a replay below. */
    *mesh_copy = mrc == LW_ERR_DUP && mf->copy;
    if (*mesh_copy)
        mrc = LW_OK;
    if (mrc != LW_OK && lw_frame_peek(rx->buf, rx->len, &peeked) == LW_OK) {
        g->c.rejected++; /* hop limit, bad route trailer or loop */
        lw_log_rl(LW_LOG_WARNING, "frame rejected by the mesh sink: %s (len %zu, rssi %.1f)",
                  lw_strerror(mrc), rx->len, rx->rssi_x10 / 10.0);
        return false;
    }
    if (mrc == LW_OK) /* else a bad header: ingest counts it as before */
        local->len = mf->len;
    return true;
}

/* Admission: the node's session, MIC and replay window (lw_ingest). An accepted alarm or trouble
 * report is ACKed at once, before anything is stored: the node stops retrying. False when
 * refused. */
static bool ingest_step(struct lw_gateway *g, const struct lw_radio_rx *rx,
                        const struct lw_mesh_frame *mf, bool mesh_copy,
                        struct lw_ingest_result *res)
{
    int rc =
        lw_ingest_frame(g->reg, (uint16_t)g->cfg->network_id, rx->buf, rx->len, res, &g->ingest);
    if (rc == LW_OK) {
        struct lw_mesh_rx mrx = {rx->mono_ms, rx->rssi_x10, rx->snr_x10};
        lw_mesh_accepted(g->mesh, mf, &mrx);
        res->hdr.hop_count = mf->route.n_hops; /* as received: the sink cleared it */
        res->node->last_relay = mf->route.n_hops ? mf->route.hops[mf->route.n_hops - 1].relay : 0;
        if (res->hdr.ack_req) /* an ALARM, or a trouble report (PROTOCOL.md 15.2) */
            gw_send_ack(g, res->node, res->hdr.type, res->hdr.fcnt); /* the node stops retrying */
        else
            gw_reserve_downlinks_ahead(g, res->node->conf);
        if (g->n_pending_cmds)
            gw_send_pending_cmd(g, res->node); /* the node listens right after its uplink */
        g->c.accepted++;
        return true;
    }
    if (rc == LW_ERR_REPLAY && mesh_copy && mf->route.n_hops > 0) {
        g->ingest.replay--; /* the same frame through a second relay: expected, not an attack */
        lw_log(LW_LOG_DEBUG, "mesh: copy of src 0x%04X fcnt %u", mf->route.hdr.src,
               mf->route.hdr.fcnt);
        return false;
    }
    g->c.rejected++;
    /* Outside input: rate-limited so a flood cannot fill the journal. */
    lw_log_rl(LW_LOG_WARNING, "frame rejected: %s (len %zu, src 0x%04X, fcnt %u, rssi %.1f)",
              lw_strerror(rc), rx->len, res->hdr.src, res->hdr.fcnt, rx->rssi_x10 / 10.0);
    return false;
}

/* What the gateway knows of the node now. Calibration: the depth the node reports, less the zero
 * offset set at the site (the rules get the reading as received and calibrate it themselves,
 * lw_rules_recalibrated). */
static void node_update(struct lw_node *n, const struct lw_radio_rx *rx,
                        struct lw_ingest_result *res)
{
    if (!n->first_seen_ms)
        n->first_seen_ms = rx->t_ms;
    n->last_seen_ms = rx->t_ms;
    n->last_rssi_x10 = rx->rssi_x10;
    n->last_snr_x10 = rx->snr_x10;
    n->last_sf = rx->sf;
    n->last_hops = res->hdr.hop_count;
    n->frames++;
    if (res->reading.present & LW_R_WATER)
        res->reading.water_mm = lw_water_calibrated(res->reading.water_mm, n->conf->zero_offset_mm);
    n->last = res->reading;
}

/* Into the batch (counted stored once committed, lw_store_stats) and the node's last contact. */
static void store_step(struct lw_gateway *g, struct lw_node *n, const struct lw_radio_rx *rx,
                       const struct lw_ingest_result *res)
{
    struct lw_store_reading sr = {
        .node = n->conf->address,
        .t_ms = rx->t_ms,
        .fcnt = res->hdr.fcnt,
        .type = res->hdr.type,
        .hops = res->hdr.hop_count,
        .rssi_x10 = rx->rssi_x10,
        .snr_x10 = rx->snr_x10,
        .unsynced = !g->clock_synced,
        .mono_ms = rx->mono_ms,
        .r = &res->reading,
    };
    lw_store_add_reading(g->store, &sr);
    save_contact(g, n, res->hdr.fcnt, rx->t_ms);
    lw_log(LW_LOG_DEBUG, "frame %s from %s fcnt %u", lw_frame_type_name(res->hdr.type),
           n->conf->name, res->hdr.fcnt);
}

/* One frame through the pipeline: mesh -> join? -> admission -> node -> store -> rules -> node
 * state topic. */
void lw_gateway_handle_rx(struct lw_gateway *g, const struct lw_radio_rx *rx)
{
    if (rx->t_ms > g->clock_ms)
        g->clock_ms = rx->t_ms;
    if (rx->len == 0)
        return; /* clock tick from a simulated medium */
    g->c.frames++;
    struct lw_radio_rx local = *rx;
    struct lw_mesh_frame mf;
    bool mesh_copy = false;
    if (!mesh_step(g, rx, &local, &mf, &mesh_copy))
        return;
    if (local.len >= 2 && (local.buf[0] & 0x0F) == LW_FT_JOIN_REQ) {
        handle_join(g, &local);
        return;
    }
    struct lw_ingest_result res;
    if (!ingest_step(g, &local, &mf, mesh_copy, &res))
        return;
    struct lw_node *n = res.node;
    struct lw_reading received = res.reading; /* as the node reported it */
    node_update(n, &local, &res);
    store_step(g, n, &local, &res);
    gw_apply_rules(g, n, &received, local.mono_ms, local.t_ms);
    publish_node_state(g, n, &res.reading, local.t_ms);
    if (lw_store_pending(g->store))
        gw_storage_commit_soon(g);
}

static void on_radio_rx(void *arg, const struct lw_radio_rx *rx)
{
    lw_gateway_handle_rx(arg, rx);
}

/* Frames arrive from here on. Benchmarks leave the radio out and feed frames directly. */
int gw_uplink_start(struct lw_gateway *g, bool with_radio)
{
    lw_join_limiter_init(&g->join_limiter, LW_JOIN_RATE_PER_S, LW_JOIN_BURST);
    if (with_radio && lw_radio_new(g->loop, g->cfg, on_radio_rx, g, &g->radio) != LW_OK)
        return LW_ERR_IO;
    return LW_OK;
}

void gw_uplink_stop(struct lw_gateway *g)
{
    lw_radio_free(g->radio); /* no new frames from here on */
    g->radio = NULL;
}
