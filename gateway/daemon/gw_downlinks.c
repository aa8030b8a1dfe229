/* SPDX-License-Identifier: Apache-2.0 */
/* Downlinks: alarm ACKs, join accepts and configuration CMDs, queued by priority and sent within
 * the region's airtime rules; event mode for the nodes of a flooded building. */
#include "gw_int.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "lw_clock.h"
#include "lw_config.h"
#include "lw_error.h"
#include "lw_log.h"
#include "lw_presets.h"

static int send_to_node(struct lw_gateway *g, const struct lw_node_conf *nc, uint8_t type,
                        const uint8_t *plain, size_t plain_len, enum lw_dl_prio prio);
static void on_dl_timer(uv_timer_t *t);

/* After an uplink the node listens: a command waiting for it goes now. */
void gw_send_pending_cmd(struct lw_gateway *g, const struct lw_node *n)
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
char *gw_control_event_mode(struct lw_gateway *g, const cJSON *req)
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
int gw_send_downlink(struct lw_gateway *g, enum lw_dl_prio prio, const uint8_t *buf, size_t len)
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
    return gw_send_downlink(g, prio, frame, (size_t)len);
}

/* Downlink counters are reserved while the disk takes writes, with the node's uplinks, well
 * before an ACK needs them: an alarm's ACK must never wait for a commit (the disk may be full). */
void gw_reserve_downlinks_ahead(struct lw_gateway *g, const struct lw_node_conf *nc)
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
void gw_send_ack(struct lw_gateway *g, const struct lw_node *n, uint8_t type, uint32_t fcnt)
{
    uint8_t p[LW_ACK_PAYLOAD_LEN];
    lw_downlink_ack_payload(fcnt, p);
    int rc = send_to_node(g, n->conf, LW_FT_ACK, p, sizeof(p), LW_DL_URGENT);
    lw_log(rc == LW_OK ? LW_LOG_DEBUG : LW_LOG_WARNING, "ACK of %s %s fcnt %u%s%s", n->conf->name,
           type == LW_FT_ALARM ? "alarm" : "trouble report", fcnt,
           rc == LW_OK ? " queued" : " not sent: ", rc == LW_OK ? "" : lw_strerror(rc));
}

int gw_downlinks_start(struct lw_gateway *g)
{
    gw_timer_init(g, &g->dl_timer);
    return (g->dl = downlink_new(g)) ? LW_OK : LW_ERR_NOMEM;
}

void gw_downlinks_stop(struct lw_gateway *g)
{
    gw_timer_close(&g->dl_timer);
}
