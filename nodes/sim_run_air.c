/* SPDX-License-Identifier: Apache-2.0 */
/* The mesh's air in a run: with links, every frame goes through the simulated air (sim_air),
 * where relays, losses and collisions happen, and what reaches the gateway is counted here. Kept
 * apart from the scheduler, which runs scenarios without links just the same. */
#include "lw_error.h"
#include "lw_route.h"
#include "sim_air.h"
#include "sim_run_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static uint32_t ep_of(const struct run *r, const struct run_node *rn)
{
    return (uint32_t)(rn - r->nodes) + 1;
}

/* Channels are chosen at random per transmission, as LoRa nodes hop; listen before talk looks
 * at the channel the next one will use. */
int sim_run_channel_busy(void *ctx)
{
    struct run_node *rn = ctx;
    struct run *r = rn->run;
    return r->air && sim_air_busy(r->air, ep_of(r, rn), rn->channel, r->vnow * 1000) ? 1 : 0;
}

/* Remember (src, fcnt) as received by the gateway; false when it was there already. */
static bool gw_first(struct run *r, uint16_t src, uint32_t fcnt)
{
    uint64_t key = ((uint64_t)src << 32 | fcnt) + 1;
    if (r->gw_seen_n * 2 >= r->gw_seen_cap) {
        size_t ncap = r->gw_seen_cap ? r->gw_seen_cap * 2 : 1024;
        uint64_t *nt = calloc(ncap, sizeof(*nt));
        if (!nt)
            return true;
        for (size_t i = 0; i < r->gw_seen_cap; i++) {
            if (!r->gw_seen[i])
                continue;
            size_t h = (size_t)(r->gw_seen[i] * UINT64_C(0x9E3779B97F4A7C15) >> 20) & (ncap - 1);
            while (nt[h])
                h = (h + 1) & (ncap - 1);
            nt[h] = r->gw_seen[i];
        }
        free(r->gw_seen);
        r->gw_seen = nt;
        r->gw_seen_cap = ncap;
    }
    size_t h = (size_t)(key * UINT64_C(0x9E3779B97F4A7C15) >> 20) & (r->gw_seen_cap - 1);
    while (r->gw_seen[h]) {
        if (r->gw_seen[h] == key)
            return false;
        h = (h + 1) & (r->gw_seen_cap - 1);
    }
    r->gw_seen[h] = key;
    r->gw_seen_n++;
    return true;
}

static struct run_node *node_by_address(struct run *r, uint16_t addr)
{
    for (size_t i = 0; i < r->n; i++)
        if (lw_node_address(&r->nodes[i].node) == addr)
            return &r->nodes[i];
    return NULL;
}

int sim_run_air_send(struct run *r, struct run_node *rn, const uint8_t *frame, size_t len)
{
    struct lw_frame_hdr h;
    uint32_t ch = rn->channel;

    if (rn->dark)
        return LW_ERR_IO;
    rn->channel = (uint32_t)sim_prng_below(&rn->prng, sim_air_channels(r->air));
    if (sim_air_sending(r->air, ep_of(r, rn), r->vnow * 1000)) {
        /* Half duplex: still sending the previous frame (a forward). Counted apart from the
         * air's losses, since the frame never went out. */
        r->st->mesh_st.tx_busy++;
        return LW_ERR_AGAIN;
    }
    uint32_t toa = sim_air_transmit(r->air, ep_of(r, rn), ch, r->vnow * 1000, frame, len);
    if (toa == 0)
        return LW_ERR_NOMEM; /* the arguments are ours and checked: only memory can fail */
    r->st->airtime_us += toa;
    if (lw_frame_peek(frame, len, &h) != LW_OK)
        return LW_OK;
    if (h.hop_count > 0 || h.src != lw_node_address(&rn->node) || h.src == LW_ADDR_BROADCAST) {
        if (h.hop_count > 0)
            rn->st->forwarded++;
        return LW_OK; /* a forward, or a JOIN_REQ */
    }
    r->st->mesh_st.sent++;
    if (h.type == LW_FT_DATA)
        r->st->mesh_st.routine_sent++;
    return LW_OK;
}

static void gw_received(struct run *r, const uint8_t *frame, size_t len, double snr_db)
{
    struct lw_route rt;
    struct sim_rf rf = {
        .freq_hz = r->o->sc->frequency_hz,
        .bw_hz = r->o->sc->bw_hz,
        .sf = r->o->sc->sf,
        .snr_x10 = (int16_t)lround(snr_db * 10),
        /* Thermal noise in 125 kHz with a 6 dB noise figure is about -117 dBm. */
        .rssi_x10 = (int16_t)lround((snr_db > 0 ? -117.0 + snr_db : -117.0) * 10),
    };

    sim_medium_send_air(&r->medium, &rf, sim_abs_time(r, r->vnow), frame, len);
    if (lw_route_parse(frame, len, &rt) != LW_OK)
        return;
    const struct lw_frame_hdr *h = &rt.hdr;
    if (h->src == LW_ADDR_GATEWAY)
        return;
    bool first = h->type == LW_FT_JOIN_REQ || gw_first(r, h->src, h->fcnt);
    if (!first) {
        r->st->mesh_st.copies++;
        return;
    }
    if (h->type == LW_FT_JOIN_REQ || h->ack_req) {
        r->gw_hold = true;
        r->gw_hold_at = r->vnow;
        r->gw_hold_real = uv_hrtime();
    }
    if (h->type == LW_FT_JOIN_REQ)
        return;
    r->st->mesh_st.delivered++;
    if (h->type == LW_FT_DATA)
        r->st->mesh_st.routine_delivered++;
    struct run_node *src = node_by_address(r, h->src);
    if (h->type == LW_FT_ALARM && src && src->alarm_open) {
        src->alarm_open = false;
        r->st->mesh_st.alarms_delivered++;
        if (r->n_lat == r->cap_lat) {
            size_t ncap = r->cap_lat ? r->cap_lat * 2 : 256;
            uint32_t *nl = realloc(r->lat, ncap * sizeof(*nl));
            if (!nl)
                return;
            r->lat = nl;
            r->cap_lat = ncap;
        }
        uint64_t l = r->vnow - src->alarm_start;
        r->lat[r->n_lat++] = l > UINT32_MAX ? UINT32_MAX : (uint32_t)l;
    }
}

static void on_air_rx(void *user, uint32_t rx, uint32_t tx, const uint8_t *frame, size_t len,
                      double snr_db, uint64_t t_us)
{
    struct run *r = user;
    (void)tx;
    (void)t_us;
    if (rx == SIM_AIR_GATEWAY) {
        gw_received(r, frame, len, snr_db);
        return;
    }
    struct run_node *rn = &r->nodes[rx - 1];
    if (rn->dark || rn->stopped)
        return;
    uint8_t type = (uint8_t)(frame[0] & 0x0F);
    bool had_session = lw_node_address(&rn->node) != 0;
    bool join_pending = lw_node_join_pending(&rn->node);
    uint16_t old_addr = lw_node_address(&rn->node);
    uint64_t acks = lw_node_alarm_acks(&rn->node);
    struct lw_node_relay_stats rs0, rs1;
    lw_node_relay_stats(&rn->node, &rs0);
    int8_t snr = (int8_t)(snr_db < -128 ? -128 : snr_db > 127 ? 127 : lround(snr_db));
    int rc = lw_node_hear(&rn->node, frame, len, snr, r->vnow);
    lw_node_relay_stats(&rn->node, &rs1);
    rn->st->cancelled += rs1.cancelled - rs0.cancelled;
    if (rc != LW_OK || len < 8 || frame[4] != 0 || frame[5] != 0)
        return; /* not a downlink it took */
    bool mine = type == LW_FT_JOIN_ACC
                    ? join_pending && !lw_node_join_pending(&rn->node)
                    : had_session && (uint16_t)(frame[6] | frame[7] << 8) == old_addr;
    if (!mine)
        return;
    sim_note_downlink(r, rn, type, had_session, old_addr);
    if (lw_node_alarm_acks(&rn->node) != acks)
        r->st->mesh_st.alarms_acked++;
}

void sim_run_air_advance(struct run *r)
{
    sim_air_advance(r->air, r->vnow * 1000, on_air_rx, r);
}

/* The gateway's downlink goes on the air from endpoint 0. */
void sim_run_air_downlink(struct run *r, const struct rx_item *it)
{
    uint32_t ch = (uint32_t)(r->vnow % sim_air_channels(r->air));
    if (sim_air_transmit(r->air, SIM_AIR_GATEWAY, ch, r->vnow * 1000, it->buf, it->len) == 0)
        r->medium.rx_malformed++; /* the gateway sent while still sending: counted, dropped */
}

void sim_run_node_dark(struct run *r, struct run_node *rn)
{
    rn->dark = true;
    rn->done = true;
    rn->stopped = true; /* nothing more at all, but not a failure of the run */
    rn->st->failed = true;
    sim_air_set_down(r->air, ep_of(r, rn), true);
    sim_vlog(r, rn, "goes dark (fail_at)");
}

int sim_run_air_open(struct run *r)
{
    const struct sim_scenario *sc = r->o->sc;

    r->air = sim_air_new((uint32_t)r->n + 1, sc->channels, &r->lora, sc->capture_db, sc->seed);
    if (!r->air)
        return LW_ERR_NOMEM;
    for (size_t i = 0; i < r->n; i++) {
        const struct sim_node *sn = sc->nodes[i];
        for (size_t l = 0; l < sn->n_links; l++) {
            uint32_t other = SIM_AIR_GATEWAY;
            if (strcmp(sn->links[l].to, SIM_LINK_GATEWAY) != 0)
                for (size_t j = 0; j < r->n; j++)
                    if (strcmp(sc->nodes[j]->name, sn->links[l].to) == 0)
                        other = (uint32_t)j + 1;
            if (sim_air_link(r->air, (uint32_t)i + 1, other, sn->links[l].snr_db,
                             sn->links[l].loss) != LW_OK)
                return LW_ERR_INVAL;
        }
    }
    return LW_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void sim_run_air_summary(struct run *r)
{
    struct sim_mesh_stats *m = &r->st->mesh_st;
    struct sim_air_stats as;

    sim_air_stats(r->air, &as);
    r->st->mesh = true;
    m->transmissions = as.transmissions;
    m->lost_link = as.lost_link;
    m->lost_collision = as.lost_collision;
    m->lost_busy = as.lost_busy;
    m->lost_weak = as.lost_weak;
    m->channels = sim_air_channels(r->air);
    for (uint32_t c = 0; c < m->channels && c < 16; c++)
        m->utilisation[c] = r->vnow ? (double)as.busy_us[c] / ((double)r->vnow * 1000.0) : 0;
    for (size_t i = 0; i < r->n; i++) {
        m->forwarded += r->nodes[i].st->forwarded;
        m->cancelled += r->nodes[i].st->cancelled;
    }
    if (r->n_lat) {
        qsort(r->lat, r->n_lat, sizeof(*r->lat), cmp_u32);
        m->alarm_latency_median_ms = r->lat[(r->n_lat - 1) / 2];
        m->alarm_latency_p99_ms = r->lat[(r->n_lat * 99 + 99) / 100 - 1];
        m->alarm_latency_max_ms = r->lat[r->n_lat - 1];
    }
}
