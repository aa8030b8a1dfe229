/* SPDX-License-Identifier: Apache-2.0 */
/* Mesh capacity of an estate in virtual time: 300 sensor nodes in ten buildings, up to three
 * relays from the gateway, routine readings and acknowledged alarms over the simulated air
 * (sim_air: links, collisions, channels), the real node core (lw_node: relaying, retries) and the
 * gateway's own mesh sink and downlink scheduler (lw_mesh, lw_downlink). Prints the alarm
 * delivery ratio, median and p99 alarm latency, and routine delivery against the pure-ALOHA
 * bound e^-2G of the offered load measured on the air. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_airtime.h"
#include "lw_downlink.h"
#include "lw_error.h"
#include "lw_mesh.h"
#include "lw_node.h"
#include "lw_route.h"
#include "sim_air.h"
#include "sim_prng.h"

#define BUILDINGS    10
#define RELAYS_PER_B 3 /* roof (rank 0), mid (rank 1), basement (rank 2) */
#define NET_ID       0x4C57

struct bnode {
    struct lw_node node;
    uint32_t ep; /* endpoint in the air */
    uint16_t addr;
    uint8_t key[LW_KEY_LEN];
    bool relay;
    uint32_t interval_ms;
    uint64_t next_report;
    uint32_t next_channel;
    bool alarm_open;
    uint64_t alarm_start;
    uint32_t hops; /* relays between it and the gateway, by construction */
};

struct bench {
    struct sim_air *air;
    struct sim_prng prng;
    struct bnode *nodes;
    size_t n;
    uint32_t channels;
    uint64_t now_ms;
    struct lw_mesh *mesh;
    struct lw_downlink *dl;
    uint32_t *fcnt_down;
    /* figures */
    uint64_t routine_sent, routine_delivered, alarms, alarms_delivered, alarms_acked;
    uint64_t copies, acks_sent;
    uint32_t *lat;
    size_t n_lat, cap_lat;
    uint64_t lat_by_hops[4], n_by_hops[4];
};

static struct bench B;

static struct bnode *by_addr(uint16_t a)
{
    for (size_t i = 0; i < B.n; i++)
        if (B.nodes[i].addr == a)
            return &B.nodes[i];
    return NULL;
}

static uint64_t hal_now(void *ctx)
{
    (void)ctx;
    return B.now_ms;
}

static uint32_t hal_random(void *ctx)
{
    (void)ctx;
    return (uint32_t)sim_prng_next(&B.prng);
}

static int hal_busy(void *ctx)
{
    struct bnode *n = ctx;
    return sim_air_busy(B.air, n->ep, n->next_channel, B.now_ms * 1000) ? 1 : 0;
}

static int hal_send(void *ctx, const uint8_t *frame, size_t len)
{
    struct bnode *n = ctx;
    uint32_t ch = n->next_channel;
    n->next_channel = (uint32_t)sim_prng_below(&B.prng, B.channels);
    return sim_air_transmit(B.air, n->ep, ch, B.now_ms * 1000, frame, len) ? 0 : LW_ERR_AGAIN;
}

static int dl_busy(void *ctx)
{
    (void)ctx;
    return sim_air_busy(B.air, SIM_AIR_GATEWAY, 0, B.now_ms * 1000) ? 1 : 0;
}

static int dl_transmit(void *ctx, const uint8_t *buf, size_t len)
{
    (void)ctx;
    uint32_t ch = (uint32_t)sim_prng_below(&B.prng, B.channels);
    return sim_air_transmit(B.air, SIM_AIR_GATEWAY, ch, B.now_ms * 1000, buf, len) ? LW_OK
                                                                                   : LW_ERR_AGAIN;
}

/* The gateway: mesh sink, authentication with the node's key, ACK for an ALARM. */
static void gateway_rx(const uint8_t *frame, size_t len, double snr)
{
    uint8_t buf[LW_FRAME_MAX_LEN], plain[LW_FRAME_MAX_PAYLOAD];
    struct lw_mesh_frame mf;
    memcpy(buf, frame, len);
    int rc = lw_mesh_admit(B.mesh, buf, len, &mf);
    if (rc == LW_ERR_DUP && mf.copy)
        B.copies++;
    if (rc != LW_OK)
        return;
    struct bnode *n = by_addr(mf.route.hdr.src);
    struct lw_frame_hdr h;
    if (!n || lw_frame_open(buf, mf.len, n->key, &h, plain, sizeof(plain)) < 0)
        return;
    struct lw_mesh_rx mrx = {(int64_t)B.now_ms, (int16_t)((snr - 117) * 10), (int16_t)(snr * 10)};
    lw_mesh_accepted(B.mesh, &mf, &mrx);
    if (h.type == LW_FT_DATA && !n->relay)
        B.routine_delivered++;
    if (h.type != LW_FT_ALARM)
        return;
    if (n->alarm_open) {
        n->alarm_open = false;
        B.alarms_delivered++;
        uint64_t l = B.now_ms - n->alarm_start;
        if (B.n_lat == B.cap_lat) {
            B.cap_lat = B.cap_lat ? 2 * B.cap_lat : 256;
            B.lat = realloc(B.lat, B.cap_lat * sizeof(*B.lat));
        }
        B.lat[B.n_lat++] = (uint32_t)l;
        B.lat_by_hops[n->hops] += l;
        B.n_by_hops[n->hops]++;
    }
    struct lw_mesh_path path;
    uint8_t hops = lw_mesh_route(B.mesh, n->addr, &path) == LW_OK ? path.hops : 0;
    uint8_t p[LW_ACK_PAYLOAD_LEN], ack[LW_FRAME_MAX_LEN];
    lw_downlink_ack_payload(h.fcnt, p);
    size_t i = (size_t)(n - B.nodes);
    int al = lw_downlink_seal(NET_ID, n->addr, LW_FT_ACK, hops, ++B.fcnt_down[i], n->key, p,
                              sizeof(p), ack, sizeof(ack));
    if (al > 0 &&
        lw_downlink_enqueue(B.dl, LW_DL_URGENT, ack, (size_t)al, (int64_t)B.now_ms) == LW_OK)
        B.acks_sent++;
}

static void on_rx(void *user, uint32_t rx, uint32_t tx, const uint8_t *frame, size_t len,
                  double snr_db, uint64_t t_us)
{
    (void)user;
    (void)tx;
    (void)t_us;
    if (rx == SIM_AIR_GATEWAY) {
        gateway_rx(frame, len, snr_db);
        return;
    }
    struct bnode *n = &B.nodes[rx - 1];
    uint64_t acks = lw_node_alarm_acks(&n->node);
    lw_node_hear(&n->node, frame, len, (int8_t)lround(snr_db), B.now_ms);
    B.alarms_acked += lw_node_alarm_acks(&n->node) - acks;
}

static double frand(void)
{
    return (double)sim_prng_below(&B.prng, 1000000) / 1e6;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_mesh [--nodes N] [--hours H] [--interval S] [--alarms N] [--sf SF]\n"
               "                  [--channels C] [--seed N] [--quick] [--json FILE]\n");
}

int main(int argc, char **argv)
{
    uint32_t sensors = 300, interval_s = 300, n_alarms = 300, sf = 9, seed = 1;
    double hours = 2.0;
    const char *json = NULL;
    static const struct option opts[] = {
        {"nodes", required_argument, NULL, 'n'},
        {"hours", required_argument, NULL, 'H'},
        {"interval", required_argument, NULL, 'i'},
        {"alarms", required_argument, NULL, 'a'},
        {"sf", required_argument, NULL, 's'},
        {"channels", required_argument, NULL, 'c'},
        {"seed", required_argument, NULL, 'S'},
        {"quick", no_argument, NULL, 'q'},
        {"json", required_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int o;
    B.channels = 2;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'n':
            sensors = (uint32_t)atoi(optarg);
            break;
        case 'H':
            hours = atof(optarg);
            break;
        case 'i':
            interval_s = (uint32_t)atoi(optarg);
            break;
        case 'a':
            n_alarms = (uint32_t)atoi(optarg);
            break;
        case 's':
            sf = (uint32_t)atoi(optarg);
            break;
        case 'c':
            B.channels = (uint32_t)atoi(optarg);
            break;
        case 'S':
            seed = (uint32_t)atoi(optarg);
            break;
        case 'q':
            hours = 0.5;
            n_alarms = 100;
            break;
        case 'j':
            json = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (sensors < BUILDINGS || sensors > 5000 || hours <= 0 || sf < 7 || sf > 12 || !B.channels ||
        B.channels > 16 || interval_s < 10) {
        usage(stderr);
        return 2;
    }
    uint64_t end_ms = (uint64_t)(hours * 3600000.0);
    sim_prng_seed(&B.prng, seed);
    struct lw_lora_params lp;
    lw_lora_params_default(&lp);
    lp.sf = (uint8_t)sf;
    B.n = sensors + BUILDINGS * RELAYS_PER_B;
    B.nodes = calloc(B.n, sizeof(*B.nodes));
    B.fcnt_down = calloc(B.n, sizeof(*B.fcnt_down));
    B.air = sim_air_new((uint32_t)B.n + 1, B.channels, &lp, 6.0, seed);
    struct lw_mesh_config mc;
    lw_mesh_config_defaults(&mc);
    B.mesh = lw_mesh_new(&mc);
    struct lw_downlink_config dc;
    lw_downlink_config_defaults(&dc);
    dc.lora = lp;
    dc.max_tx_ms = 1000;
    struct lw_downlink_io io = {
        .transmit = dl_transmit, .channel_busy = dl_busy, .random = hal_random};
    B.dl = lw_downlink_new(&dc, &io);
    if (!B.nodes || !B.fcnt_down || !B.air || !B.mesh || !B.dl) {
        fprintf(stderr, "bench_mesh: out of memory\n");
        return 1;
    }
    uint32_t slot = lw_airtime_us(&lp, 64) / 1000 + 50;

    /* Relays: per building roof (hears the gateway), mid, basement; roofs hear each other. */
    for (size_t i = 0; i < B.n; i++) {
        struct bnode *n = &B.nodes[i];
        n->ep = (uint32_t)i + 1;
        n->addr = (uint16_t)(0x0100 + i);
        for (int k = 0; k < LW_KEY_LEN; k++)
            n->key[k] = (uint8_t)(sim_prng_next(&B.prng) | 1);
        n->next_channel = (uint32_t)sim_prng_below(&B.prng, B.channels);
        struct lw_node_config cfg;
        lw_node_config_defaults(&cfg);
        cfg.net_id = NET_ID;
        cfg.address = n->addr;
        memcpy(cfg.key, n->key, LW_KEY_LEN);
        n->relay = i < BUILDINGS * RELAYS_PER_B;
        if (n->relay) {
            cfg.relay = true;
            cfg.relay_rank = (uint8_t)(i % RELAYS_PER_B);
            cfg.relay_slot_ms = slot;
            n->interval_ms = 120000; /* relays report every 2 min: the gateway sees them alive */
            n->hops = (uint32_t)(i % RELAYS_PER_B);
        } else {
            n->interval_ms = interval_s * 1000u;
        }
        struct lw_node_hal hal = {.ctx = n,
                                  .now_ms = hal_now,
                                  .send = hal_send,
                                  .random = hal_random,
                                  .channel_busy = hal_busy};
        if (lw_node_init(&n->node, &cfg, &hal) != LW_OK) {
            fprintf(stderr, "bench_mesh: node init failed\n");
            return 1;
        }
        n->next_report = sim_prng_below(&B.prng, n->interval_ms);
    }
    for (uint32_t b = 0; b < BUILDINGS; b++) {
        uint32_t roof = 1 + b * RELAYS_PER_B, mid = roof + 1, base = roof + 2;
        sim_air_link(B.air, roof, SIM_AIR_GATEWAY, 4 + 6 * frand(), 0.02);
        sim_air_link(B.air, mid, roof, 3 + 6 * frand(), 0.02);
        sim_air_link(B.air, base, mid, 3 + 6 * frand(), 0.02);
        for (uint32_t c = 0; c < b; c++) /* neighbouring roofs hear each other, weakly */
            if (b - c == 1)
                sim_air_link(B.air, roof, 1 + c * RELAYS_PER_B, -3 + 4 * frand(), 0.2);
    }
    /* Sensors: a third hear their building's roof relay (1 hop), a third the mid (2), a third
     * the basement relay (3 hops); one in five also hears the next relay up, weakly (a
     * diamond). */
    for (uint32_t s = 0; s < sensors; s++) {
        struct bnode *n = &B.nodes[BUILDINGS * RELAYS_PER_B + s];
        uint32_t b = s % BUILDINGS, level = (s / BUILDINGS) % 3;
        uint32_t relay = 1 + b * RELAYS_PER_B + level;
        n->hops = level + 1;
        sim_air_link(B.air, n->ep, relay, 2 + 8 * frand(), 0.05);
        if (level > 0 && sim_prng_below(&B.prng, 5) == 0)
            sim_air_link(B.air, n->ep, relay - 1, -6 + 4 * frand(), 0.3);
    }
    /* Alarms at random times on random sensors (a smoke alarm: acknowledged, retried). */
    uint64_t *alarm_at = calloc(n_alarms ? n_alarms : 1, sizeof(*alarm_at));
    uint32_t *alarm_node = calloc(n_alarms ? n_alarms : 1, sizeof(*alarm_node));
    for (uint32_t a = 0; a < n_alarms; a++) {
        alarm_at[a] = sim_prng_below(&B.prng, end_ms - 120000); /* 2 min to be delivered */
        alarm_node[a] = BUILDINGS * RELAYS_PER_B + (uint32_t)sim_prng_below(&B.prng, sensors);
    }
    uint32_t next_alarm = 0;
    /* Sort alarm times (few hundred: insertion sort). */
    for (uint32_t a = 1; a < n_alarms; a++)
        for (uint32_t b2 = a; b2 > 0 && alarm_at[b2] < alarm_at[b2 - 1]; b2--) {
            uint64_t t = alarm_at[b2];
            alarm_at[b2] = alarm_at[b2 - 1];
            alarm_at[b2 - 1] = t;
        }
    int64_t dl_next = -1;

    while (B.now_ms < end_ms) {
        uint64_t t = end_ms;
        for (size_t i = 0; i < B.n; i++) {
            if (B.nodes[i].next_report < t)
                t = B.nodes[i].next_report;
            uint64_t d = lw_node_next_due(&B.nodes[i].node);
            if (d < t)
                t = d < B.now_ms ? B.now_ms : d;
        }
        uint64_t ae = sim_air_next_end(B.air);
        if (ae != UINT64_MAX && (ae + 999) / 1000 < t)
            t = (ae + 999) / 1000;
        if (dl_next >= 0 && (uint64_t)dl_next < t)
            t = (uint64_t)dl_next;
        if (next_alarm < n_alarms && alarm_at[next_alarm] < t)
            t = alarm_at[next_alarm];
        if (t < B.now_ms)
            t = B.now_ms;
        B.now_ms = t;
        if (t >= end_ms)
            break;
        sim_air_advance(B.air, t * 1000, on_rx, NULL);
        dl_next = lw_downlink_run(B.dl, (int64_t)t);
        while (next_alarm < n_alarms && alarm_at[next_alarm] <= t) {
            struct bnode *n = &B.nodes[alarm_node[next_alarm++]];
            struct lw_reading r = {.present = LW_R_SMOKE, .smoke_alarm = 1};
            B.alarms++;
            n->alarm_open = true;
            n->alarm_start = t;
            lw_node_report(&n->node, &r, true);
        }
        for (size_t i = 0; i < B.n; i++) {
            struct bnode *n = &B.nodes[i];
            if (lw_node_next_due(&n->node) <= t)
                lw_node_poll(&n->node, t);
            if (n->next_report <= t) {
                struct lw_reading r = {
                    .present = LW_R_WATER | LW_R_BATTERY, .water_mm = 0, .battery_mv = 3600};
                if (!n->relay)
                    B.routine_sent++;
                lw_node_report(&n->node, &r, false);
                n->next_report = t + n->interval_ms - n->interval_ms / 10 +
                                 sim_prng_below(&B.prng, n->interval_ms / 5);
            }
        }
    }
    /* ---- figures ---- */
    struct sim_air_stats as;
    sim_air_stats(B.air, &as);
    double g = 0;
    for (uint32_t c = 0; c < B.channels; c++)
        g += (double)as.busy_us[c] / 1000.0 / (double)end_ms;
    g /= B.channels;
    double aloha = exp(-2 * g);
    double routine = B.routine_sent ? (double)B.routine_delivered / B.routine_sent : 0;
    double alarm_ratio = B.alarms ? (double)B.alarms_delivered / B.alarms : 0;
    double p50 = 0, p99 = 0, pmax = 0;
    if (B.n_lat) {
        qsort(B.lat, B.n_lat, sizeof(*B.lat), cmp_u32);
        p50 = B.lat[(B.n_lat - 1) / 2];
        p99 = B.lat[(B.n_lat * 99 + 99) / 100 - 1];
        pmax = B.lat[B.n_lat - 1];
    }
    struct lw_mesh_stats ms;
    lw_mesh_stats(B.mesh, &ms);
    struct lw_downlink_stats ds;
    lw_downlink_stats(B.dl, &ds);
    printf("mesh estate: %u sensors + %u relays in %u buildings, up to 3 hops; SF%u, %u "
           "channel%s; %.1f h virtual\n",
           sensors, BUILDINGS * RELAYS_PER_B, BUILDINGS, sf, B.channels, B.channels == 1 ? "" : "s",
           hours);
    printf("  alarm_delivery_ratio      %.4f   (%llu of %llu alarms reached the gateway; goal "
           ">= 0.999)\n",
           alarm_ratio, (unsigned long long)B.alarms_delivered, (unsigned long long)B.alarms);
    printf("  alarms_acked              %llu     (ACK back at the node)\n",
           (unsigned long long)B.alarms_acked);
    printf("  alarm_latency_p50_ms      %.0f\n", p50);
    printf("  alarm_latency_p99_ms      %.0f     (max %.0f)\n", p99, pmax);
    for (int h = 1; h <= 3; h++)
        if (B.n_by_hops[h])
            printf("  alarm_latency_mean_%dhop   %.0f ms\n", h,
                   (double)B.lat_by_hops[h] / B.n_by_hops[h]);
    printf("  routine_delivery          %.4f   (%llu of %llu DATA frames, no retries)\n", routine,
           (unsigned long long)B.routine_delivered, (unsigned long long)B.routine_sent);
    printf("  offered_load_G            %.3f    per channel, every transmission on the air\n", g);
    printf("  aloha_bound_e^-2G         %.4f   (one hop; routine frames cross up to 3)\n", aloha);
    printf("  air: %llu transmissions, lost %llu collision / %llu link / %llu half-duplex; "
           "gateway: %llu copies dropped, %llu ACKs, downlinks %llu sent %llu busy\n",
           (unsigned long long)as.transmissions, (unsigned long long)as.lost_collision,
           (unsigned long long)as.lost_link, (unsigned long long)as.lost_busy,
           (unsigned long long)B.copies, (unsigned long long)B.acks_sent,
           (unsigned long long)ds.sent, (unsigned long long)ds.busy);
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            perror(json);
            return 1;
        }
        fprintf(
            f,
            "{\"mesh_sensors\": %u, \"mesh_relays\": %u, \"mesh_hours\": %.2f, \"mesh_sf\": %u, "
            "\"mesh_channels\": %u, \"mesh_alarms\": %llu, \"mesh_alarm_delivery_ratio\": %.5f, "
            "\"mesh_alarm_latency_p50_ms\": %.0f, \"mesh_alarm_latency_p99_ms\": %.0f, "
            "\"mesh_routine_delivery\": %.5f, \"mesh_offered_load_g\": %.4f, "
            "\"mesh_aloha_bound\": %.5f}\n",
            sensors, BUILDINGS * RELAYS_PER_B, hours, sf, B.channels, (unsigned long long)B.alarms,
            alarm_ratio, p50, p99, routine, g, aloha);
        fclose(f);
    }
    for (size_t i = 0; i < B.n; i++)
        memset(&B.nodes[i].node, 0, sizeof(B.nodes[i].node));
    free(B.nodes);
    free(B.fcnt_down);
    free(B.lat);
    free(alarm_at);
    free(alarm_node);
    sim_air_free(B.air);
    lw_mesh_free(B.mesh);
    lw_downlink_free(B.dl);
    return 0;
}
