/* SPDX-License-Identifier: Apache-2.0 */
/* Mesh capacity of an estate in virtual time: 300 sensor nodes (smoke and water) in ten
 * buildings, up to three relays from the gateway, over the simulated air (sim_air), the real node
 * core (lw_node: relaying, retries, check-ins) and the gateway's own mesh sink and downlink
 * scheduler (lw_mesh, lw_downlink). Alarms come as in life: a fire trips three detectors of one
 * stairwell within a minute, a storm sends 50 water nodes over their line within five minutes.
 * Nodes fail at random times and the gateway has to notice. Every run is played with the v1
 * medium access (the baseline) and the v1.1 one (PROTOCOL.md 15), on the ideal air the first
 * simulator had and on the honest one (single-chip radios, preamble-only CAD, interference that
 * adds up, battery receivers that sleep), pooled over seeds, and the radio time of every node
 * is turned into milliamp-hours per day and battery years. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_airtime.h"
#include "lw_checkin.h"
#include "lw_downlink.h"
#include "lw_error.h"
#include "lw_mesh.h"
#include "lw_node.h"
#include "lw_presence.h"
#include "lw_route.h"
#include "sim_air.h"
#include "sim_prng.h"

#define BUILDINGS    10
#define RELAYS_PER_B 3 /* roof (rank 0), mid (rank 1), basement (rank 2) */
#define SHARED_SLOTS 2 /* alarm cycle: shared slots after the roofs' own (PROTOCOL.md 15.5) */
#define NET_ID       0x4C57
#define KILLS        6 /* nodes that fail in each run */

/* ---- energy parameters (bench/RESULTS.md cites each) ------------------------------------- */
/* Battery sensors: an SX126x-class radio (the STM32WLE5 of the battery firmware) at +14 dBm. */
#define E_SX1262_TX14_MA  45.0
#define E_SX1262_RX_MA    4.6
#define E_SX1262_SLEEP_UA 0.6
/* Mains relays and the gateway HAT: SX1276 at +17 dBm (PA_BOOST). */
#define E_SX1276_TX17_MA 87.0
#define E_SX1276_RX_MA   10.8
#define E_MCU_STOP_UA    2.0
#define E_MCU_RUN_MA     5.0
#define E_MCU_WAKE_MS    3.0 /* per radio operation: wake, seal or open, set up the radio */
/* Ultrasonic water reading (MaxBotix MB7389 class): about 3 mA for about 150 ms. */
#define E_WATER_READ_MAS 0.45
#define E_BATT_MAH       2400.0 /* ER14505 usable */
#define E_SELF_DISCHARGE 0.01   /* per year */

enum role { R_RELAY, R_SMOKE, R_WATER };
enum mac { MAC_V1, MAC_V11 };

struct setting {
    const char *name;
    uint32_t sf, channels;
    bool storm; /* every water node in event mode for the whole run */
};

struct bnode {
    struct lw_node node;
    uint32_t ep;
    uint16_t addr;
    uint8_t key[LW_KEY_LEN];
    enum role role;
    uint32_t building, rank; /* relays: rank; sensors: the level of their relay */
    uint32_t hops;           /* relays between it and the gateway, by construction */
    uint32_t channel;        /* the channel it sends on */
    uint32_t parent;         /* index of its relay (sensors, mid and basement relays) */
    uint64_t next_report, next_checkin, next_sample, next_presence;
    uint32_t report_ms;
    bool alarm_open, had_alarm;
    uint32_t alarms_raised;
    uint64_t alarm_start;
    uint64_t alarm_roof_at; /* --verbose twice: when its building's roof relay first heard it */
    uint32_t routine_fcnt;  /* --verbose twice: its latest routine report, and how far it got: */
    uint8_t routine_reach;  /* bit 0 its parent relay heard it, bit 1 its roof, bit 2 gateway */
    bool dead;
    uint64_t died_at, detected_at;
    uint64_t last_heard; /* at the gateway: any authentic frame */
    uint64_t samples;
    uint16_t level_mm;
};

struct run {
    const struct setting *set;
    enum mac mac;
    bool honest;
    uint64_t seed;
    double hours;
    uint32_t sensors;
    struct sim_air *air;
    struct sim_prng prng;
    struct bnode *nodes;
    size_t n;
    uint64_t now_ms;
    struct lw_mesh *mesh;
    struct lw_downlink *dl;
    uint32_t *fcnt_down;
    uint32_t *last_acked; /* per node: the latest ALARM counter acknowledged */
    uint64_t *last_ack_ms;
    struct lw_lora_params lp;
    /* v1.1 alarm cycles (PROTOCOL.md 15.5): while alarms are in flight the gateway beacons; the
     * roof relays then forward in their own slots and the gateway answers after them. */
    uint64_t alarm_activity_until, next_beacon, slots_end, cycle_start;
    uint32_t slot_ms, cycle_slots;
    uint16_t slot_rx;
    struct lw_beacon prev_beacon;
    uint64_t beacons;
    /* figures */
    uint64_t routine_sent, routine_delivered, alarms, alarms_delivered, alarms_acked;
    uint64_t repeats_to_answer, repeats_answered; /* acknowledged ALARMs heard again (v1.1) */
    uint64_t routine_reached[4]; /* --verbose twice: routine reports heard by parent, roof, gw */
    uint32_t *lat;
    size_t n_lat, cap_lat;
    uint64_t presence_changes;
};

struct result {
    uint64_t alarms, delivered, acked, ack_expected;
    uint32_t *lat;
    size_t n_lat;
    double p99;
    uint64_t routine_sent, routine_delivered;
    double g;
    double loc_fire_max_s, loc_other_max_s;
    uint64_t loc_missed;
    double mah_day[3];      /* worst node of each role */
    double years_min;       /* worst battery node */
    double relay_duty_max;  /* share of time on air of the busiest relay */
    uint64_t lost_mismatch; /* honest model: frames on settings nobody listened to */
    uint64_t repeats_to_answer, repeats_answered;
    uint64_t hop_retries;
};

static struct run R;
static int verbose;          /* --verbose: a line per seed; twice: what each run's air did */
static bool no_slots;        /* --no-slots: v1.1 without the gateway's alarm cycles */
static uint32_t inert_types; /* --inert: bit t: frames of type t take no air (what-if) */

static struct bnode *by_addr(uint16_t a)
{
    if (a < 0x0100 || a >= 0x0100 + R.n)
        return NULL;
    return &R.nodes[a - 0x0100];
}

static uint64_t hal_now(void *ctx)
{
    (void)ctx;
    return R.now_ms;
}

static uint32_t hal_random(void *ctx)
{
    (void)ctx;
    return (uint32_t)sim_prng_next(&R.prng);
}

static int hal_busy(void *ctx)
{
    struct bnode *n = ctx;
    return sim_air_cad(R.air, n->ep, n->channel, R.now_ms * 1000, NULL) ? 1 : 0;
}

/* What a battery node listens for after it sent type: an ALARM's answer until its next retry
 * (ended early by the ACK), a DATA frame's downlink for one second, a CHECKIN nothing. */
static void battery_listen(struct bnode *n, uint8_t type, uint32_t toa_us)
{
    uint64_t end = R.now_ms * 1000 + toa_us;
    if (type == LW_FT_CHECKIN)
        sim_air_listen(R.air, n->ep, end, end + LW_NODE_CHECKIN_ACK_MS * 1000);
    else if (type == LW_FT_DATA)
        sim_air_listen(R.air, n->ep, end, end + 1000000);
    else if (type == LW_FT_ALARM)
        sim_air_listen(R.air, n->ep, end, end + 1000000); /* extended by keep_listening */
}

/* A battery node with an ALARM unanswered keeps its receiver on until its next retry: the ACK
 * comes back through the relays whenever it comes. Called after the node core ran. */
static void keep_listening(struct bnode *n)
{
    if (!R.honest || n->role == R_RELAY || !lw_node_alarm_pending(&n->node))
        return;
    uint64_t due = lw_node_next_due(&n->node);
    if (due != UINT64_MAX && due > R.now_ms)
        sim_air_listen(R.air, n->ep, R.now_ms * 1000, due * 1000);
}

/* Is every relay between n and the gateway alive? (An alarm from behind a failed relay cannot
 * arrive until the node is re-parented, which this estate's chains do not offer.) */
static bool reachable(const struct bnode *n)
{
    for (uint32_t p = n->parent; p != UINT32_MAX; p = R.nodes[p].parent)
        if (R.nodes[p].dead)
            return false;
    return true;
}

static uint64_t tx_by_type[2][16]; /* [relay?][type]: for --verbose */

static double gw_air[2][16]; /* [in the storm?][type]: seconds heard at the gateway */
static uint64_t storm_at_ms;

static int hal_send(void *ctx, const uint8_t *frame, size_t len)
{
    struct bnode *n = ctx;
    tx_by_type[n->role == R_RELAY][frame[0] & 0x0F]++;
    uint32_t ch = n->channel;
    if (!R.honest) /* the first simulator's nodes hopped channels at random */
        n->channel = (uint32_t)sim_prng_below(&R.prng, R.set->channels);
    if (verbose > 1 && n->role == R_RELAY && n->rank == 0 && (frame[0] & 0x0F) == LW_FT_DATA) {
        struct lw_route rt;
        struct bnode *o;
        if (lw_route_parse(frame, len, &rt) == LW_OK && (o = by_addr(rt.hdr.src)) != NULL &&
            o->role != R_RELAY && rt.hdr.fcnt == o->routine_fcnt)
            o->routine_reach |= 8u;
    }
    sim_air_set_tx_inert(R.air, n->ep, (inert_types >> (frame[0] & 0x0F)) & 1u);
    uint32_t toa = sim_air_transmit(R.air, n->ep, ch, R.now_ms * 1000, frame, len);
    if (!toa)
        return LW_ERR_AGAIN;
    double gsnr;
    if (sim_air_linked(R.air, n->ep, SIM_AIR_GATEWAY, &gsnr) && gsnr > -12)
        gw_air[R.now_ms >= storm_at_ms && R.now_ms < storm_at_ms + 360000][frame[0] & 0x0F] +=
            toa / 1e6;
    if (R.honest && n->role != R_RELAY)
        battery_listen(n, (uint8_t)(frame[0] & 0x0F), toa);
    return 0;
}

static int dl_busy(void *ctx)
{
    (void)ctx;
    /* The gateway listens before its downlinks on channel 0: the single-chip HAT's one. */
    return sim_air_cad(R.air, SIM_AIR_GATEWAY, 0, R.now_ms * 1000, NULL) ? 1 : 0;
}

static int dl_transmit(void *ctx, const uint8_t *buf, size_t len)
{
    (void)ctx;
    /* The downlink goes on the channel of the building it is for (honest), at random (ideal). */
    uint32_t ch = R.honest ? 0 : (uint32_t)sim_prng_below(&R.prng, R.set->channels);
    struct lw_frame_hdr h;
    if (R.honest && lw_frame_peek(buf, len, &h) == LW_OK) {
        struct bnode *n = by_addr(h.dst);
        if (n)
            ch = n->channel;
    }
    sim_air_set_tx_inert(R.air, SIM_AIR_GATEWAY,
                         len > 0 && ((inert_types >> (buf[0] & 0x0F)) & 1u));
    return sim_air_transmit(R.air, SIM_AIR_GATEWAY, ch, R.now_ms * 1000, buf, len) ? LW_OK
                                                                                   : LW_ERR_AGAIN;
}

static void send_ack(struct bnode *n, uint32_t fcnt)
{
    struct lw_mesh_path path;
    uint8_t hops = lw_mesh_route(R.mesh, n->addr, &path) == LW_OK ? path.hops : 0;
    uint8_t p[LW_ACK_PAYLOAD_LEN], ack[LW_FRAME_MAX_LEN];
    lw_downlink_ack_payload(fcnt, p);
    size_t i = (size_t)(n - R.nodes);
    int al = lw_downlink_seal(NET_ID, n->addr, LW_FT_ACK, hops, ++R.fcnt_down[i], n->key, p,
                              sizeof(p), ack, sizeof(ack));
    if (al > 0)
        lw_downlink_enqueue(R.dl, LW_DL_URGENT, ack, (size_t)al, (int64_t)R.now_ms);
    R.last_acked[i] = fcnt;
    R.last_ack_ms[i] = R.now_ms;
}

/* One alarm cycle: the BEACON (which slots of the cycle before brought a frame), then a slot
 * per roof relay, then the gateway's own time for its ACKs. */
static void beacon(void)
{
    uint8_t buf[LW_CHECKIN_LEN];
    /* Every cycle is as long as the last (a slot per roof and two shared ones, which go to the
     * roofs whose slot was busy): a roof that misses a BEACON still knows when its slot comes. */
    struct lw_beacon b = {.net_id = NET_ID,
                          .slots = (uint8_t)(BUILDINGS + SHARED_SLOTS),
                          .slot_10ms = (uint8_t)(R.slot_ms / 10),
                          .received = (uint16_t)(R.slot_rx & ((1u << BUILDINGS) - 1u)),
                          .owned = BUILDINGS};
    /* A frame in a shared slot counts for the roof it was given to: mark that roof busy. */
    for (uint32_t e = BUILDINGS + 1; e <= R.cycle_slots; e++)
        if ((R.slot_rx >> (e - 1)) & 1u) {
            uint8_t owner = lw_beacon_extra_owner(&R.prev_beacon, (uint8_t)e);
            if (owner)
                b.received |= (uint16_t)(1u << (owner - 1));
        }
    R.prev_beacon = b;
    R.slot_rx = 0;
    int bl = lw_beacon_encode(&b, buf, sizeof(buf));
    sim_air_set_tx_inert(R.air, SIM_AIR_GATEWAY, false);
    uint32_t toa =
        bl > 0 ? sim_air_transmit(R.air, SIM_AIR_GATEWAY, 0, R.now_ms * 1000, buf, (size_t)bl) : 0;
    uint64_t start = R.now_ms + (toa + 999) / 1000;
    R.cycle_start = start + LW_NODE_SLOT_GUARD_MS;
    R.cycle_slots = b.slots;
    R.slots_end = R.cycle_start + (uint64_t)b.slots * R.slot_ms;
    /* Three ACKs' worth of the gateway's own time after the slots. */
    R.next_beacon = R.slots_end + 3 * (lw_airtime_us(&R.lp, 28) / 1000 + 60);
    R.beacons++;
}

static void detected(struct bnode *n)
{
    if (n->dead && !n->detected_at)
        n->detected_at = R.now_ms;
}

/* Slot s (0-based) of the cycle brought an authentic frame: its bit is set in the next BEACON
 * only when the frame came from the relay the slot was given to (a frame of anyone else there,
 * or one that does not authenticate, would acknowledge what the slot's relay sent, lost). */
static void slot_brought(int s, const struct lw_mesh_frame *mf, const uint8_t *buf)
{
    if (mf->route.n_hops == 0)
        return;
    struct bnode *last = by_addr(mf->route.hops[mf->route.n_hops - 1].relay);
    struct bnode *o = by_addr(mf->route.hdr.src);
    uint8_t plain[LW_FRAME_MAX_PAYLOAD];
    struct lw_frame_hdr h;
    if (!last || !o || last->role != R_RELAY || last->rank != 0 ||
        lw_frame_open(buf, mf->len, o->key, &h, plain, sizeof(plain)) < 0)
        return;
    uint8_t owner = (uint8_t)(s + 1) <= BUILDINGS
                        ? (uint8_t)(s + 1)
                        : lw_beacon_extra_owner(&R.prev_beacon, (uint8_t)(s + 1));
    if (owner == last->building + 1)
        R.slot_rx |= (uint16_t)(1u << s);
}

/* The gateway: mesh sink, authentication with the node's key, ACK for an ALARM; a relay's
 * presence TLV tells it which children went silent. */
static void gateway_rx(const uint8_t *frame, size_t len, double snr)
{
    uint8_t buf[LW_FRAME_MAX_LEN], plain[LW_FRAME_MAX_PAYLOAD];
    struct lw_mesh_frame mf;
    memcpy(buf, frame, len);
    int slot = -1; /* the slot of the cycle it began in */
    if (R.slots_end && R.now_ms <= R.slots_end + 400) {
        uint64_t start_us = R.now_ms * 1000 - lw_airtime_us(&R.lp, len);
        if (start_us >= R.cycle_start * 1000) {
            uint64_t s = (start_us - R.cycle_start * 1000) / (R.slot_ms * 1000ull);
            if (s < R.cycle_slots)
                slot = (int)s;
        }
    }
    int rc = lw_mesh_admit(R.mesh, buf, len, &mf);
    if ((rc == LW_OK || (rc == LW_ERR_DUP && mf.copy)) && slot >= 0)
        slot_brought(slot, &mf, buf);
    if (rc == LW_ERR_DUP && mf.copy && R.mac == MAC_V11 && mf.route.hdr.type == LW_FT_ALARM) {
        /* v1.1: a repeated ALARM the gateway has acknowledged means the ACK went missing
         * (the last relay did not overhear it): acknowledge again, at most every 0.5 s. */
        struct bnode *n = by_addr(mf.route.hdr.src);
        size_t i = n ? (size_t)(n - R.nodes) : 0;
        struct lw_frame_hdr h;
        if (n && R.last_acked[i] == mf.route.hdr.fcnt && R.now_ms - R.last_ack_ms[i] >= 500) {
            R.repeats_to_answer++;
            if (lw_frame_open(buf, mf.len, n->key, &h, plain, sizeof(plain)) >= 0) {
                R.repeats_answered++;
                send_ack(n, mf.route.hdr.fcnt);
            }
        }
        return;
    }
    if (rc != LW_OK)
        return;
    struct bnode *n = by_addr(mf.route.hdr.src);
    struct lw_frame_hdr h;
    int plen;
    if (!n || (plen = lw_frame_open(buf, mf.len, n->key, &h, plain, sizeof(plain))) < 0)
        return;
    struct lw_mesh_rx mrx = {(int64_t)R.now_ms, (int16_t)((snr - 117) * 10), (int16_t)(snr * 10)};
    lw_mesh_accepted(R.mesh, &mf, &mrx);
    n->last_heard = R.now_ms;
    if (h.type == LW_FT_DATA && n->role != R_RELAY) {
        R.routine_delivered++;
        if (h.fcnt == n->routine_fcnt)
            n->routine_reach |= 4u;
    }
    struct lw_presence pr;
    if (h.type == LW_FT_DATA && n->role == R_RELAY &&
        lw_presence_find(plain, (size_t)plen, &pr) == LW_OK)
        for (uint8_t k = 0; k < pr.n_absent; k++) {
            struct bnode *c = by_addr(pr.absent[k]);
            if (c)
                detected(c);
        }
    if (R.mac == MAC_V11 && h.type == LW_FT_ALARM)
        R.alarm_activity_until = R.now_ms + 15000; /* cycles while ALARMs arrive (15.5) */
    if (h.type == LW_FT_DATA && h.ack_req && R.mac == MAC_V11) {
        send_ack(n, h.fcnt); /* a trouble report: acknowledged like an alarm */
        return;
    }
    if (h.type != LW_FT_ALARM)
        return;
    if (n->alarm_open) {
        n->alarm_open = false;
        R.alarms_delivered++;
        if (R.n_lat == R.cap_lat) {
            R.cap_lat = R.cap_lat ? 2 * R.cap_lat : 256;
            R.lat = realloc(R.lat, R.cap_lat * sizeof(*R.lat));
        }
        R.lat[R.n_lat++] = (uint32_t)(R.now_ms - n->alarm_start);
        if (verbose > 1)
            fprintf(stderr,
                    "alarm stages: role %d rank %u storm %d to roof %lld ms, roof to gateway %lld "
                    "ms node %zu at %llu\n",
                    n->role, n->rank, R.now_ms >= storm_at_ms && R.now_ms < storm_at_ms + 360000,
                    n->alarm_roof_at ? (long long)(n->alarm_roof_at - n->alarm_start) : -1LL,
                    n->alarm_roof_at ? (long long)(R.now_ms - n->alarm_roof_at) : -1LL,
                    (size_t)(n - R.nodes), (unsigned long long)n->alarm_start);
        if (verbose > 1 && R.now_ms - n->alarm_start > 20000)
            fprintf(stderr,
                    "slow alarm: node %zu role %d rank %u at %llu ms: %llu ms, %u attempts, "
                    "hop tries %u, arrived hop_count %u\n",
                    (size_t)(n - R.nodes), n->role, n->rank, (unsigned long long)n->alarm_start,
                    (unsigned long long)(R.now_ms - n->alarm_start), n->node.alarm_attempts,
                    n->node.alarm_hop_tries, mf.route.n_hops);
    }
    send_ack(n, h.fcnt);
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
    struct bnode *n = &R.nodes[rx - 1];
    if (n->dead)
        return;
    if (verbose > 1 && n->role == R_RELAY && (frame[0] & 0x0F) == LW_FT_DATA) {
        struct lw_route rt;
        struct bnode *o;
        if (lw_route_parse(frame, len, &rt) == LW_OK && (o = by_addr(rt.hdr.src)) != NULL &&
            o->role != R_RELAY && rt.hdr.fcnt == o->routine_fcnt) {
            if ((size_t)(n - R.nodes) == o->parent)
                o->routine_reach |= 1u;
            if (n->rank == 0 && n->building == o->building)
                o->routine_reach |= 2u;
        }
    }
    if (verbose > 1 && n->role == R_RELAY && n->rank == 0 && (frame[0] & 0x0F) == LW_FT_ALARM) {
        struct lw_route rt;
        struct bnode *o;
        if (lw_route_parse(frame, len, &rt) == LW_OK && (o = by_addr(rt.hdr.src)) != NULL &&
            o->alarm_open && !o->alarm_roof_at && o->building == n->building)
            o->alarm_roof_at = R.now_ms;
    }
    uint64_t acks = lw_node_alarm_acks(&n->node);
    lw_node_hear(&n->node, frame, len, (int8_t)lround(snr_db), R.now_ms);
    if (lw_node_alarm_acks(&n->node) != acks)
        R.alarms_acked++;
    keep_listening(n); /* the next hop was overheard: listen on until the end-to-end retry */
}

static double frand(void)
{
    return (double)sim_prng_below(&R.prng, 1000000) / 1e6;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const uint32_t *v, size_t n, int p)
{
    if (!n)
        return 0;
    size_t k = (n * (size_t)p + 99) / 100;
    return v[k ? k - 1 : 0];
}

/* ---- schedules --------------------------------------------------------------------------- */

/* v1: every sensor reports every 300 s (15 s in event mode), relays every 120 s. v1.1: report by
 * exception: a dry water node reports hourly, a wet one when the level moved 20 mm (at most
 * every 30 s, at least every 5 min); a smoke node hourly; every node checks in with its relay
 * (fire-class every 60 s, water every 90 s); roof relays report to the gateway every 60 s with
 * the presence of their children, the others check in with their parent relay and report their
 * presence when it changes and every 10 min. */
static uint32_t report_period_ms(const struct bnode *n)
{
    if (R.mac == MAC_V1) {
        if (n->role == R_RELAY)
            return 120000;
        return R.set->storm && n->role == R_WATER ? 15000 : 300000;
    }
    if (n->role == R_RELAY)
        return n->rank == 0 ? 60000 : 600000;
    return 3600000;
}

/* Check-in periods: the relay's timeout is the period + 10 % + 15 s, its report follows within
 * 5 s and a few seconds of air: within 200 s for fire-class nodes (smoke, relays), 300 s for
 * water. */
static uint32_t checkin_period_ms(const struct bnode *n)
{
    return n->role == R_WATER ? 230000 : n->role == R_SMOKE ? 140000 : 60000;
}

static uint64_t jitter(uint64_t t, uint32_t period)
{
    return t + period - period / 10 + sim_prng_below(&R.prng, period / 5 + 1);
}

/* Loss of communication as the gateway's own timer sees it: unheard for 2.5 periods. */
static uint64_t silence_timeout_ms(const struct bnode *n)
{
    return (uint64_t)report_period_ms(n) * 5 / 2;
}

static void relay_report(struct bnode *n)
{
    struct lw_reading r = {.present = LW_R_BATTERY, .battery_mv = 13200};
    if (R.mac == MAC_V11)
        lw_node_relay_report(&n->node, &r); /* with its children's presence */
    else
        lw_node_report(&n->node, &r, false);
}

static void routine_tally(struct bnode *n)
{
    for (int k = 0; k < 4; k++)
        if (n->routine_fcnt && ((n->routine_reach >> k) & 1u))
            R.routine_reached[k]++;
    n->routine_fcnt = 0;
}

static void sensor_report(struct bnode *n, bool alarm)
{
    struct lw_reading r = {.present = LW_R_BATTERY, .battery_mv = 3600};
    if (n->role == R_SMOKE) {
        r.present |= LW_R_SMOKE;
        r.smoke_alarm = alarm;
    } else {
        r.present |= LW_R_WATER;
        r.water_mm = n->level_mm;
    }
    if (!alarm) {
        routine_tally(n);
        R.routine_sent++;
        n->routine_fcnt = lw_node_fcnt_next(&n->node);
        n->routine_reach = 0;
    }
    lw_node_report(&n->node, &r, alarm);
}

/* ---- one run ----------------------------------------------------------------------------- */

static void setup_node(struct bnode *n, size_t i, uint32_t slot_ms)
{
    n->ep = (uint32_t)i + 1;
    n->addr = (uint16_t)(0x0100 + i);
    for (int k = 0; k < LW_KEY_LEN; k++)
        n->key[k] = (uint8_t)(sim_prng_next(&R.prng) | 1);
    struct lw_node_config cfg;
    lw_node_config_defaults(&cfg);
    cfg.net_id = NET_ID;
    cfg.address = n->addr;
    memcpy(cfg.key, n->key, LW_KEY_LEN);
    bool relay = i < BUILDINGS * RELAYS_PER_B;
    if (relay) {
        n->role = R_RELAY;
        n->building = (uint32_t)i / RELAYS_PER_B;
        n->rank = (uint32_t)i % RELAYS_PER_B;
        n->hops = n->rank;
        n->parent = n->rank ? (uint32_t)i - 1 : UINT32_MAX;
        cfg.relay = true;
        cfg.relay_rank = (uint8_t)n->rank;
        cfg.relay_slot_ms = slot_ms;
    } else {
        uint32_t s = (uint32_t)i - BUILDINGS * RELAYS_PER_B, k = s / BUILDINGS;
        n->building = s % BUILDINGS;
        n->rank = k % 3;
        n->hops = n->rank + 1;
        n->role = (k / 3) % 3 == 0 ? R_SMOKE : R_WATER;
        n->parent = n->building * RELAYS_PER_B + n->rank;
    }
    n->channel = R.honest ? n->building % R.set->channels
                          : (uint32_t)sim_prng_below(&R.prng, R.set->channels);
    if (R.mac == MAC_V11) {
        /* Wait for the next hop: the frame itself, the next relay's rank delay (rank - 1 slots
         * for a relay, its own relay's rank for a sensor) and up to half a slot more, its copy,
         * a margin. The last relay listens for the gateway's ACK instead, and tries more often:
         * every roof of the estate competes for the gateway. */
        uint32_t toa40 = lw_airtime_us(&R.lp, 40) / 1000;
        cfg.hop_retries = 6;
        if (relay && n->rank == 0) {
            cfg.hop_ack_ms = 2 * toa40 + 200;
            cfg.backbone_slot = (uint8_t)(n->building + 1);
        } else {
            uint32_t next_rank = relay ? n->rank - 1 : n->rank;
            cfg.hop_ack_ms = 2 * toa40 + next_rank * slot_ms + slot_ms / 2 + 150;
        }
        cfg.alarm_retry_min_ms = 30000; /* the hops retry; this is the last resort */
        if (n->parent != UINT32_MAX) {
            cfg.parent = (uint16_t)(0x0100 + n->parent);
            cfg.checkin_period_ms = checkin_period_ms(n);
        }
    }
    struct lw_node_hal hal = {.ctx = n,
                              .now_ms = hal_now,
                              .send = hal_send,
                              .random = hal_random,
                              .channel_busy = hal_busy};
    lw_node_init(&n->node, &cfg, &hal);
    n->report_ms = report_period_ms(n);
    n->next_report = sim_prng_below(&R.prng, n->report_ms);
    n->next_checkin = R.mac == MAC_V11 && n->parent != UINT32_MAX
                          ? sim_prng_below(&R.prng, checkin_period_ms(n))
                          : UINT64_MAX;
    n->next_sample = n->role == R_WATER ? sim_prng_below(&R.prng, 60000) : UINT64_MAX;
    n->next_presence = R.mac == MAC_V11 && n->role == R_RELAY ? 5000 : UINT64_MAX;
}

static void link_estate(void)
{
    for (uint32_t b = 0; b < BUILDINGS; b++) {
        uint32_t roof = 1 + b * RELAYS_PER_B, mid = roof + 1, base = roof + 2;
        sim_air_link(R.air, roof, SIM_AIR_GATEWAY, 4 + 6 * frand(), 0.02);
        sim_air_link(R.air, mid, roof, 3 + 6 * frand(), 0.02);
        sim_air_link(R.air, base, mid, 3 + 6 * frand(), 0.02);
        for (uint32_t c = 0; c < b; c++) /* neighbouring roofs hear each other, weakly */
            if (b - c == 1)
                sim_air_link(R.air, roof, 1 + c * RELAYS_PER_B, -3 + 4 * frand(), 0.2);
        if (R.honest) { /* the gateway still feels the mid relays, below the floor */
            sim_air_link(R.air, mid, SIM_AIR_GATEWAY, -22 + 6 * frand(), 1.0);
            sim_air_link(R.air, base, roof, -24 + 6 * frand(), 1.0);
        }
    }
    for (uint32_t s = 0; s < R.sensors; s++) {
        struct bnode *n = &R.nodes[BUILDINGS * RELAYS_PER_B + s];
        uint32_t relay = 1 + n->parent;
        sim_air_link(R.air, n->ep, relay, 2 + 8 * frand(), 0.05);
        if (n->rank > 0 && sim_prng_below(&R.prng, 5) == 0) /* a diamond: the next relay up */
            sim_air_link(R.air, n->ep, relay - 1, -6 + 4 * frand(), 0.3);
        if (!R.honest)
            continue;
        /* Honest: nodes of one floor hear each other, some below the floor (hidden from
         * CAD yet adding interference); the other relays of the building feel them weakly. */
        for (uint32_t o = 0; o < s; o++) {
            struct bnode *m = &R.nodes[BUILDINGS * RELAYS_PER_B + o];
            if (m->building == n->building && m->rank == n->rank)
                sim_air_link(R.air, n->ep, m->ep, -16 + 16 * frand(), 0.1);
        }
        for (uint32_t k = 0; k < RELAYS_PER_B; k++) {
            uint32_t other = 1 + n->building * RELAYS_PER_B + k;
            if (other != relay && !sim_air_linked(R.air, n->ep, other, NULL))
                sim_air_link(R.air, n->ep, other, -26 + 8 * frand(), 1.0);
        }
    }
}

static void set_radios(void)
{
    if (!R.honest)
        return;
    for (size_t i = 0; i <= R.n; i++) {
        struct sim_air_radio r;
        sim_air_radio_default(R.air, &r);
        r.sf = (uint8_t)R.set->sf;
        if (i == SIM_AIR_GATEWAY) {
            /* One channel: the single-chip HAT. More: a concentrator listening on all. */
            r.rx_channels = R.set->channels == 1 ? 1u : (1u << R.set->channels) - 1u;
            r.tx_dbm = 17;
        } else {
            struct bnode *n = &R.nodes[i - 1];
            r.rx_channels = 1u << n->channel; /* single chip: its building's channel */
            if (n->role == R_RELAY) {
                r.tx_dbm = 17;
            } else {
                r.chip = SIM_AIR_SX126X;
                r.rx_always = false;
                r.tx_dbm = 14;
            }
        }
        sim_air_set_radio(R.air, (uint32_t)i, &r);
    }
}

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Battery-node energy over the run, in mAh per day. */
static double node_mah_day(const struct bnode *n, uint64_t end_ms)
{
    struct sim_air_energy e;
    sim_air_energy(R.air, n->ep, &e);
    double secs = (double)end_ms / 1000.0;
    double tx = (double)e.tx_us / 1e6, rx, cad = (double)e.cad_us / 1e6;
    double mas; /* milliamp-seconds */
    if (n->role == R_RELAY) {
        rx = secs - tx; /* always listening */
        mas = tx * E_SX1276_TX17_MA + rx * E_SX1276_RX_MA + cad * E_SX1276_RX_MA +
              secs * E_MCU_RUN_MA; /* a Linux board or an MCU awake: counted as awake */
    } else {
        rx = (double)e.rx_us / 1e6;
        /* The MCU wakes for each radio operation and reading; the radio sends and listens on
         * its own meanwhile (the STM32WL's sub-GHz radio runs while the core is in stop). */
        double ops = (double)(e.tx_frames + e.cads) + (double)n->samples;
        double awake = ops * E_MCU_WAKE_MS / 1000.0;
        double asleep = secs - awake > 0 ? secs - awake : 0;
        mas = tx * E_SX1262_TX14_MA + rx * E_SX1262_RX_MA + cad * E_SX1262_RX_MA +
              awake * E_MCU_RUN_MA + asleep * (E_SX1262_SLEEP_UA + E_MCU_STOP_UA) / 1000.0 +
              (double)n->samples * E_WATER_READ_MAS;
    }
    return mas / 3600.0 / secs * 86400.0;
}

static double battery_years(double mah_day)
{
    /* Self-discharge taken off the capacity each year, the node's use on top. */
    return E_BATT_MAH / (mah_day * 365.0 + E_BATT_MAH * E_SELF_DISCHARGE);
}

static void schedule_alarms(uint64_t end_ms, uint64_t **at, uint32_t **who, uint32_t *count)
{
    /* Fires: three smoke detectors of one building (one stairwell) within a minute, every
     * 12 min; a storm: 50 water nodes over their line within 5 min, once per run. */
    uint32_t fires = (uint32_t)(end_ms / 720000);
    if (fires == 0)
        fires = 1;
    uint32_t cap = fires * 3 + 50, k = 0;
    *at = calloc(cap, sizeof(**at));
    *who = calloc(cap, sizeof(**who));
    uint32_t base = BUILDINGS * RELAYS_PER_B;
    for (uint32_t f = 0; f < fires; f++) {
        uint64_t t0 = 60000 + sim_prng_below(&R.prng, end_ms - 240000);
        uint32_t b = (uint32_t)sim_prng_below(&R.prng, BUILDINGS), got = 0;
        uint32_t first = (uint32_t)sim_prng_below(&R.prng, R.sensors / BUILDINGS);
        for (uint32_t j = 0; j < R.sensors / BUILDINGS && got < 3; j++) {
            uint32_t s = b + BUILDINGS * ((first + j) % (R.sensors / BUILDINGS));
            if (R.nodes[base + s].role != R_SMOKE)
                continue;
            (*at)[k] = t0 + (got ? sim_prng_below(&R.prng, 60000) : 0);
            (*who)[k++] = base + s;
            got++;
        }
    }
    uint64_t storm = 60000 + sim_prng_below(&R.prng, end_ms - 420000);
    storm_at_ms = storm;
    for (uint32_t j = 0; j < 50 && j < R.sensors; j++) {
        uint32_t s;
        do
            s = (uint32_t)sim_prng_below(&R.prng, R.sensors);
        while (R.nodes[base + s].role != R_WATER);
        (*at)[k] = storm + sim_prng_below(&R.prng, 300000);
        (*who)[k++] = base + s;
    }
    /* Sort (a few hundred: insertion sort). */
    for (uint32_t a = 1; a < k; a++)
        for (uint32_t b2 = a; b2 > 0 && (*at)[b2] < (*at)[b2 - 1]; b2--) {
            uint64_t t = (*at)[b2];
            (*at)[b2] = (*at)[b2 - 1];
            (*at)[b2 - 1] = t;
            uint32_t w = (*who)[b2];
            (*who)[b2] = (*who)[b2 - 1];
            (*who)[b2 - 1] = w;
        }
    *count = k;
}

static void schedule_kills(uint64_t end_ms, uint32_t who[KILLS], uint64_t at[KILLS])
{
    /* Two smoke and two water sensors, a basement relay and a mid relay, each failing once
     * the mesh has settled and early enough for the slowest rule to notice. */
    uint32_t base = BUILDINGS * RELAYS_PER_B;
    for (int k = 0; k < KILLS; k++) {
        uint32_t i;
        enum role want = k < 2 ? R_SMOKE : k < 4 ? R_WATER : R_RELAY;
        do {
            if (want == R_RELAY)
                i = (uint32_t)sim_prng_below(&R.prng, BUILDINGS) * RELAYS_PER_B + (k == 4 ? 2 : 1);
            else
                i = base + (uint32_t)sim_prng_below(&R.prng, R.sensors);
        } while (R.nodes[i].role != want);
        who[k] = i;
        at[k] = 600000 + sim_prng_below(&R.prng, end_ms > 2400000 ? end_ms - 2400000 : 60000);
    }
}

static void run_one(const struct setting *set, enum mac mac, bool honest, uint64_t seed,
                    double hours, uint32_t sensors, struct result *out)
{
    memset(&R, 0, sizeof(R));
    R.set = set;
    R.mac = mac;
    R.honest = honest;
    R.seed = seed;
    R.hours = hours;
    R.sensors = sensors;
    uint64_t end_ms = (uint64_t)(hours * 3600000.0);
    sim_prng_seed(&R.prng, seed);
    lw_lora_params_default(&R.lp);
    R.lp.sf = (uint8_t)set->sf;
    R.n = sensors + BUILDINGS * RELAYS_PER_B;
    R.nodes = calloc(R.n, sizeof(*R.nodes));
    R.fcnt_down = calloc(R.n, sizeof(*R.fcnt_down));
    R.last_acked = calloc(R.n, sizeof(*R.last_acked));
    R.last_ack_ms = calloc(R.n, sizeof(*R.last_ack_ms));
    R.air = sim_air_new((uint32_t)R.n + 1, set->channels, &R.lp, 6.0, seed);
    if (honest)
        sim_air_set_model(R.air, SIM_AIR_HONEST);
    struct lw_mesh_config mc;
    lw_mesh_config_defaults(&mc);
    R.mesh = lw_mesh_new(&mc);
    struct lw_downlink_config dc;
    lw_downlink_config_defaults(&dc);
    dc.lora = R.lp;
    dc.max_tx_ms = 1000;
    struct lw_downlink_io io = {
        .transmit = dl_transmit, .channel_busy = dl_busy, .random = hal_random};
    R.dl = lw_downlink_new(&dc, &io);
    if (!R.nodes || !R.fcnt_down || !R.last_acked || !R.last_ack_ms || !R.air || !R.mesh || !R.dl) {
        fprintf(stderr, "bench_mesh: out of memory\n");
        exit(1);
    }
    uint32_t toa64 = lw_airtime_us(&R.lp, 64) / 1000;
    uint32_t slot = toa64 + 50;
    R.slot_ms = (lw_airtime_us(&R.lp, 48) / 1000 + 40 + 9) / 10 * 10;
    for (size_t i = 0; i < R.n; i++)
        setup_node(&R.nodes[i], i, slot);
    set_radios();
    link_estate();
    if (mac == MAC_V11) /* the installer told each relay its children */
        for (size_t i = 0; i < R.n; i++)
            if (R.nodes[i].parent != UINT32_MAX)
                lw_node_supervise(&R.nodes[R.nodes[i].parent].node, R.nodes[i].addr,
                                  (uint8_t)(checkin_period_ms(&R.nodes[i]) / 10000), 0);
    uint64_t *alarm_at;
    uint32_t *alarm_node, n_alarms, next_alarm = 0;
    schedule_alarms(end_ms, &alarm_at, &alarm_node, &n_alarms);
    uint32_t kill_who[KILLS];
    uint64_t kill_at[KILLS];
    schedule_kills(end_ms, kill_who, kill_at);
    int64_t dl_next = -1;

    /* Events stop at end_ms; the air runs on for a drain period so the answers to the last
     * alarms can come back. Every figure counts the whole span. */
    uint64_t stop_ms = end_ms;
    end_ms += 300000;
    while (R.now_ms < end_ms) {
        uint64_t t = end_ms;
        for (size_t i = 0; i < R.n; i++) {
            struct bnode *n = &R.nodes[i];
            if (n->dead)
                continue;
            t = min64(t, min64(min64(n->next_report, n->next_checkin),
                               min64(n->next_sample, n->next_presence)));
            uint64_t d = lw_node_next_due(&n->node);
            if (d < t)
                t = d < R.now_ms ? R.now_ms : d;
        }
        uint64_t ae = sim_air_next_end(R.air);
        if (ae != UINT64_MAX && (ae + 999) / 1000 < t)
            t = (ae + 999) / 1000;
        bool cycles = R.mac == MAC_V11 && R.honest && R.set->channels == 1 &&
                      R.now_ms < R.alarm_activity_until && !no_slots;
        if (cycles && R.next_beacon < t)
            t = R.next_beacon > R.now_ms ? R.next_beacon : R.now_ms;
        /* In an alarm cycle the gateway keeps off the air while the roofs' slots run. */
        if (dl_next >= 0 && cycles && R.now_ms < R.slots_end && (uint64_t)dl_next < R.slots_end)
            dl_next = (int64_t)R.slots_end;
        if (dl_next >= 0 && (uint64_t)dl_next < t)
            t = (uint64_t)dl_next;
        if (next_alarm < n_alarms && alarm_at[next_alarm] < t && alarm_at[next_alarm] < stop_ms)
            t = alarm_at[next_alarm];
        for (int k = 0; k < KILLS; k++)
            if (!R.nodes[kill_who[k]].dead && kill_at[k] < t)
                t = kill_at[k];
        if (t < R.now_ms)
            t = R.now_ms;
        R.now_ms = t;
        if (t >= end_ms)
            break;
        sim_air_advance(R.air, t * 1000, on_rx, NULL);
        if (R.mac == MAC_V11 && R.honest && R.set->channels == 1 && t < R.alarm_activity_until &&
            !no_slots) {
            if (R.next_beacon + 60000 < t || R.next_beacon == 0)
                R.next_beacon = t; /* the first alarm: start the cycles now */
            if (t >= R.next_beacon) {
                if (sim_air_sending(R.air, SIM_AIR_GATEWAY, t * 1000))
                    R.next_beacon = t + 1; /* after the frame on the air */
                else
                    beacon();
            }
        } else {
            R.slots_end = 0;
        }
        if (!(R.slots_end && t < R.slots_end))
            dl_next = lw_downlink_run(R.dl, (int64_t)t);
        for (int k = 0; k < KILLS; k++) {
            struct bnode *n = &R.nodes[kill_who[k]];
            if (!n->dead && kill_at[k] <= t) {
                n->dead = true;
                n->died_at = t;
                sim_air_set_down(R.air, n->ep, true);
            }
        }
        while (next_alarm < n_alarms && alarm_at[next_alarm] <= t) {
            struct bnode *n = &R.nodes[alarm_node[next_alarm++]];
            if (n->dead || n->alarm_open || !reachable(n))
                continue;
            R.alarms++;
            n->alarm_open = true;
            n->had_alarm = true;
            n->alarms_raised++;
            n->alarm_start = t;
            n->alarm_roof_at = 0;
            if (n->role == R_WATER)
                n->level_mm = 300;
            sensor_report(n, true);
            keep_listening(n);
        }
        for (size_t i = 0; i < R.n; i++) {
            struct bnode *n = &R.nodes[i];
            if (n->dead)
                continue;
            if (lw_node_next_due(&n->node) <= t) {
                lw_node_poll(&n->node, t);
                keep_listening(n);
            }
            if (n->next_sample <= t) {
                n->samples++;
                n->next_sample = t + 60000;
                /* Storm: the level moves 20 mm every 1-10 min; v1.1 reports the change. */
                if (set->storm && mac == MAC_V11 && sim_prng_below(&R.prng, 5) == 0) {
                    n->level_mm = (uint16_t)(n->level_mm + 20);
                    if (t >= n->next_report - n->report_ms + 30000)
                        n->next_report = t;
                }
            }
            if (n->next_checkin <= t) {
                lw_node_checkin(&n->node);
                n->next_checkin = jitter(t, checkin_period_ms(n));
            }
            if (n->next_presence <= t) {
                n->next_presence = t + 5000;
                if (lw_node_presence_changed(&n->node, t)) {
                    n->next_report = t; /* a child went silent (or came back): say so now */
                    R.presence_changes++;
                }
            }
            if (n->next_report <= t && n->role == R_RELAY && lw_node_quiet(&n->node, t) &&
                !lw_node_presence_changed(&n->node, t)) {
                /* The air is kept for alarms: the routine report waits (a presence change
                 * does not: that is what the quiet must not hide), spread over 30 s, for every
                 * roof ends its quiet at about the same moment. */
                n->next_report = t + 5000 + sim_prng_below(&R.prng, 25000);
            }
            if (n->next_report <= t) {
                if (n->role == R_RELAY)
                    relay_report(n);
                else
                    sensor_report(n, false);
                uint32_t p =
                    n->role == R_WATER && set->storm && mac == MAC_V11 ? 300000 : n->report_ms;
                n->next_report = jitter(t, p);
            }
        }
    }

    /* ---- figures ---- */
    memset(out, 0, sizeof(*out));
    struct sim_air_stats as;
    sim_air_stats(R.air, &as);
    double g = 0;
    for (uint32_t c = 0; c < set->channels; c++)
        g += (double)as.busy_us[c] / 1000.0 / (double)end_ms;
    out->g = g / set->channels;
    out->alarms = R.alarms;
    out->delivered = R.alarms_delivered;
    out->acked = R.alarms_acked;
    /* An ACK cannot come back to a node that failed, or through a relay that failed, after its
     * alarm went out: those are not expected to be acknowledged. */
    out->ack_expected = R.alarms;
    for (size_t i = 0; i < R.n; i++)
        if (R.nodes[i].had_alarm && (R.nodes[i].dead || !reachable(&R.nodes[i])))
            out->ack_expected -= R.nodes[i].alarms_raised;
    out->lat = R.lat;
    out->n_lat = R.n_lat;
    qsort(out->lat, out->n_lat, sizeof(*out->lat), cmp_u32);
    out->p99 = pct(out->lat, out->n_lat, 99);
    if (verbose)
        fprintf(stderr, "%s %s %s seed %llu: p99 %.1f s max %.1f s, %zu alarms\n", set->name,
                honest ? "honest" : "ideal", mac ? "v1.1" : "v1", (unsigned long long)seed,
                out->p99 / 1000, out->n_lat ? out->lat[out->n_lat - 1] / 1000.0 : 0, out->n_lat);
    out->repeats_to_answer = R.repeats_to_answer;
    out->repeats_answered = R.repeats_answered;
    out->routine_sent = R.routine_sent;
    out->routine_delivered = R.routine_delivered;
    out->lost_mismatch = as.lost_mismatch;
    /* Loss of communication: the relay's presence report (v1.1), else the gateway's timer on
     * the node's last frame. */
    for (int k = 0; k < KILLS; k++) {
        struct bnode *n = &R.nodes[kill_who[k]];
        uint64_t timer = (n->last_heard ? n->last_heard : n->died_at) + silence_timeout_ms(n);
        uint64_t det = n->detected_at && n->detected_at < timer ? n->detected_at : timer;
        /* Behind a relay that failed too: the gateway knows the relay's children are cut off
         * once it knows the relay is. */
        for (uint32_t p = n->parent; p != UINT32_MAX; p = R.nodes[p].parent) {
            struct bnode *a = &R.nodes[p];
            if (!a->dead)
                continue;
            uint64_t at = (a->last_heard ? a->last_heard : a->died_at) + silence_timeout_ms(a);
            if (a->detected_at && a->detected_at < at)
                at = a->detected_at;
            if (at < det)
                det = at > n->died_at ? at : n->died_at;
        }
        /* A timer that ran out before the failure had already flagged the node (falsely). */
        double s = det > n->died_at ? (double)(det - n->died_at) / 1000.0 : 0;
        if (det > end_ms)
            out->loc_missed++;
        if (verbose > 1)
            fprintf(
                stderr,
                "failed node %zu (role %d rank %u, parent %u) at %llu: noticed after %.0f s%s\n",
                (size_t)(n - R.nodes), n->role, n->rank, n->parent, (unsigned long long)n->died_at,
                s, n->detected_at ? "" : " (by the timer)");
        double *m = n->role == R_WATER ? &out->loc_other_max_s : &out->loc_fire_max_s;
        if (s > *m)
            *m = s;
    }
    /* The energy budget is a routine day's: nodes that raised an alarm in the run (far more
     * often than in a year of life) are left out of it; what an alarm costs is counted apart. */
    out->years_min = 1e9;
    for (size_t i = 0; i < R.n; i++) {
        struct bnode *n = &R.nodes[i];
        if (n->dead || n->had_alarm)
            continue;
        double d = node_mah_day(n, end_ms);
        if (d > out->mah_day[n->role])
            out->mah_day[n->role] = d;
        if (n->role != R_RELAY) {
            double y = battery_years(d);
            if (y < out->years_min)
                out->years_min = y;
        } else {
            struct sim_air_energy e;
            sim_air_energy(R.air, n->ep, &e);
            double duty = (double)e.tx_us / 1000.0 / (double)end_ms;
            if (duty > out->relay_duty_max)
                out->relay_duty_max = duty;
            struct lw_node_relay_stats rs;
            lw_node_relay_stats(&n->node, &rs);
            out->hop_retries += rs.hop_retries;
        }
        out->hop_retries += n->node.hop_retries_sent;
    }
    if (verbose > 1) {
        fprintf(stderr, "tx by type (sensor/relay):");
        for (int ty = 1; ty <= 8; ty++)
            fprintf(stderr, " %s %llu/%llu", lw_frame_type_name((uint8_t)ty),
                    (unsigned long long)tx_by_type[0][ty], (unsigned long long)tx_by_type[1][ty]);
        fprintf(stderr,
                "\nair: tx %llu rx %llu coll %llu link %llu busy %llu weak %llu mism %llu "
                "asleep %llu locked %llu cads %llu hits %llu\n",
                (unsigned long long)as.transmissions, (unsigned long long)as.receptions,
                (unsigned long long)as.lost_collision, (unsigned long long)as.lost_link,
                (unsigned long long)as.lost_busy, (unsigned long long)as.lost_weak,
                (unsigned long long)as.lost_mismatch, (unsigned long long)as.lost_asleep,
                (unsigned long long)as.lost_locked, (unsigned long long)as.cads,
                (unsigned long long)as.cad_hits);
        double worst = 0;
        size_t wi = 0;
        for (size_t i = 0; i < R.n; i++)
            if (R.nodes[i].role != R_RELAY && !R.nodes[i].dead && !R.nodes[i].had_alarm &&
                node_mah_day(&R.nodes[i], end_ms) > worst) {
                worst = node_mah_day(&R.nodes[i], end_ms);
                wi = i;
            }
        struct sim_air_energy e;
        sim_air_energy(R.air, R.nodes[wi].ep, &e);
        fprintf(stderr,
                "worst battery node without an alarm %zu (role %d rank %u): %.2f mAh/day, tx "
                "%llu frames %.1f s, rx %.1f s, cad %llu %.2f s, check-ins %llu (%llu "
                "answered), %llu readings\n",
                wi, R.nodes[wi].role, R.nodes[wi].rank, worst, (unsigned long long)e.tx_frames,
                e.tx_us / 1e6, e.rx_us / 1e6, (unsigned long long)e.cads, e.cad_us / 1e6,
                (unsigned long long)R.nodes[wi].node.checkins_sent,
                (unsigned long long)R.nodes[wi].node.checkins_acked,
                (unsigned long long)R.nodes[wi].samples);
        memset(tx_by_type, 0, sizeof(tx_by_type));
        fprintf(stderr, "latencies ms:");
        for (size_t i = 0; i < R.n_lat; i++)
            fprintf(stderr, " %u", R.lat[i]);
        fprintf(stderr, "\n");
        uint64_t hr = 0, att = 0, ia = 0, cs = 0, ca = 0, cas = 0, qf = 0, fw = 0, rr = 0;
        for (size_t i = 0; i < R.n; i++) {
            cs += R.nodes[i].node.checkins_sent;
            ca += R.nodes[i].node.checkins_acked;
            cas += R.nodes[i].node.checkin_acks_sent;
            qf += R.nodes[i].node.relay_stats.queue_full;
            fw += R.nodes[i].node.relay_stats.forwarded;
            rr += R.nodes[i].node.relay_stats.hop_retries;
            hr += R.nodes[i].node.hop_retries_sent;
            att += R.nodes[i].node.alarm_attempts;
            ia += R.nodes[i].node.relay_stats.implicit_acks;
        }
        fprintf(stderr,
                "origin hop retries %llu, e2e attempts (last alarm) %llu, implicit acks %llu\n",
                (unsigned long long)hr, (unsigned long long)att, (unsigned long long)ia);
        uint64_t ok[3] = {0}, co[3] = {0}, bu[3] = {0}, lo[3] = {0}, li[3] = {0};
        for (size_t i = 0; i < R.n; i++) {
            if (R.nodes[i].role != R_RELAY)
                continue;
            struct sim_air_energy re;
            sim_air_energy(R.air, R.nodes[i].ep, &re);
            uint32_t k = R.nodes[i].rank;
            ok[k] += re.rx_ok, co[k] += re.rx_collision, bu[k] += re.rx_busy;
            lo[k] += re.rx_locked, li[k] += re.rx_link;
        }
        uint64_t fwk[3] = {0}, npk[3] = {0}, dk[3] = {0};
        for (size_t i = 0; i < R.n; i++)
            if (R.nodes[i].role == R_RELAY) {
                fwk[R.nodes[i].rank] += R.nodes[i].node.relay_stats.forwarded;
                npk[R.nodes[i].rank] += R.nodes[i].node.relay_stats.no_progress;
                dk[R.nodes[i].rank] += R.nodes[i].node.relay_stats.duplicates;
            }
        for (int k = 0; k < 3; k++)
            fprintf(stderr, "relays rank %d: forwarded %llu no_progress %llu dup %llu\n", k,
                    (unsigned long long)fwk[k], (unsigned long long)npk[k],
                    (unsigned long long)dk[k]);
        for (int k = 0; k < 3; k++)
            fprintf(stderr,
                    "relays rank %d rx: ok %llu coll %llu busy %llu locked %llu link %llu\n", k,
                    (unsigned long long)ok[k], (unsigned long long)co[k], (unsigned long long)bu[k],
                    (unsigned long long)lo[k], (unsigned long long)li[k]);
        struct sim_air_energy ge;
        sim_air_energy(R.air, SIM_AIR_GATEWAY, &ge);
        fprintf(stderr, "gateway rx: ok %llu coll %llu busy %llu locked %llu link %llu\n",
                (unsigned long long)ge.rx_ok, (unsigned long long)ge.rx_collision,
                (unsigned long long)ge.rx_busy, (unsigned long long)ge.rx_locked,
                (unsigned long long)ge.rx_link);
        fprintf(stderr, "presence changes %llu\n", (unsigned long long)R.presence_changes);
        uint64_t bh = 0, sa = 0, sup = 0;
        for (size_t i = 0; i < R.n; i++) {
            bh += R.nodes[i].node.beacons_heard;
            sa += R.nodes[i].node.slot_acks;
            sup += R.nodes[i].node.relay_stats.superseded;
        }
        fprintf(stderr, "beacons sent %llu heard %llu, slot acks %llu, superseded %llu\n",
                (unsigned long long)R.beacons, (unsigned long long)bh, (unsigned long long)sa,
                (unsigned long long)sup);
        for (int st = 0; st < 2; st++) {
            double span = st ? 360.0 : (double)end_ms / 1000.0 - 360.0;
            fprintf(stderr, "G at the gateway from roofs %s:", st ? "in the storm" : "otherwise");
            for (int ty = 1; ty <= 8; ty++)
                fprintf(stderr, " %s %.3f", lw_frame_type_name((uint8_t)ty), gw_air[st][ty] / span);
            fprintf(stderr, "\n");
        }
        memset(gw_air, 0, sizeof(gw_air));
        for (size_t i = 0; i < R.n; i++)
            if (R.nodes[i].role != R_RELAY)
                routine_tally(&R.nodes[i]);
        fprintf(stderr,
                "routine reports %llu: heard by their relay %llu, by their roof %llu, sent on by "
                "the roof %llu, at the gateway %llu\n",
                (unsigned long long)R.routine_sent, (unsigned long long)R.routine_reached[0],
                (unsigned long long)R.routine_reached[1], (unsigned long long)R.routine_reached[3],
                (unsigned long long)R.routine_reached[2]);
        fprintf(stderr,
                "checkins sent %llu acked %llu acks sent %llu; relay forwarded %llu, hop "
                "retries %llu, queue full %llu\n",
                (unsigned long long)cs, (unsigned long long)ca, (unsigned long long)cas,
                (unsigned long long)fw, (unsigned long long)rr, (unsigned long long)qf);
    }
    for (size_t i = 0; i < R.n; i++)
        memset(&R.nodes[i].node, 0, sizeof(R.nodes[i].node));
    free(R.nodes);
    free(R.fcnt_down);
    free(R.last_acked);
    free(R.last_ack_ms);
    free(alarm_at);
    free(alarm_node);
    sim_air_free(R.air);
    lw_mesh_free(R.mesh);
    lw_downlink_free(R.dl);
}

/* ---- pooling over seeds ------------------------------------------------------------------ */

struct pooled {
    uint64_t alarms, delivered, acked, routine_sent, routine_delivered, loc_missed, hop_retries;
    uint32_t *lat;
    size_t n_lat;
    double p50, p99, max, worst_p99, g, loc_fire, loc_other, years_min, relay_duty;
    double mah_day[3];
    uint64_t lost_mismatch;
};

static void pool(struct pooled *p, struct result *r)
{
    p->alarms += r->alarms;
    p->delivered += r->delivered;
    p->acked += r->acked;
    p->routine_sent += r->routine_sent;
    p->routine_delivered += r->routine_delivered;
    p->loc_missed += r->loc_missed;
    p->hop_retries += r->hop_retries;
    p->lost_mismatch += r->lost_mismatch;
    p->lat = realloc(p->lat, (p->n_lat + r->n_lat + 1) * sizeof(*p->lat));
    memcpy(p->lat + p->n_lat, r->lat, r->n_lat * sizeof(*r->lat));
    p->n_lat += r->n_lat;
    if (r->p99 > p->worst_p99)
        p->worst_p99 = r->p99;
    p->g = p->g > r->g ? p->g : r->g;
    if (r->loc_fire_max_s > p->loc_fire)
        p->loc_fire = r->loc_fire_max_s;
    if (r->loc_other_max_s > p->loc_other)
        p->loc_other = r->loc_other_max_s;
    if (p->years_min == 0 || r->years_min < p->years_min)
        p->years_min = r->years_min;
    if (r->relay_duty_max > p->relay_duty)
        p->relay_duty = r->relay_duty_max;
    for (int k = 0; k < 3; k++)
        if (r->mah_day[k] > p->mah_day[k])
            p->mah_day[k] = r->mah_day[k];
    free(r->lat);
}

static void finish(struct pooled *p)
{
    qsort(p->lat, p->n_lat, sizeof(*p->lat), cmp_u32);
    p->p50 = pct(p->lat, p->n_lat, 50);
    p->p99 = pct(p->lat, p->n_lat, 99);
    p->max = p->n_lat ? p->lat[p->n_lat - 1] : 0;
}

static double ratio(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 0;
}

static void print_row(const char *set, const char *model, const char *mac, const struct pooled *p)
{
    printf("  %-12s %-6s %-4s %6.4f %6.1f %7.1f %7.1f %7.1f  %5.3f %5.3f  %5.0f %5.0f  %5.1f  "
           "%5.2f%%\n",
           set, model, mac, ratio(p->delivered, p->alarms), p->p50 / 1000, p->p99 / 1000,
           p->worst_p99 / 1000, p->max / 1000, ratio(p->routine_delivered, p->routine_sent), p->g,
           p->loc_fire, p->loc_other, p->years_min, 100 * p->relay_duty);
}

static void json_block(FILE *f, const char *prefix, const struct pooled *p, bool last)
{
    fprintf(f,
            "  \"%salarm_delivery_ratio\": %.5f,\n  \"%salarm_latency_p50_ms\": %.0f,\n"
            "  \"%salarm_latency_p99_ms\": %.0f,\n  \"%salarm_latency_p99_worst_seed_ms\": %.0f,\n"
            "  \"%salarm_latency_max_ms\": %.0f,\n  \"%sroutine_delivery\": %.5f,\n"
            "  \"%soffered_load_g\": %.4f,\n  \"%sloss_of_comms_detect_max_s\": %.0f,\n"
            "  \"%sloss_of_comms_detect_fire_max_s\": %.0f,\n  \"%sbattery_years_min\": %.2f,\n"
            "  \"%smah_day_smoke\": %.3f,\n  \"%smah_day_water\": %.3f,\n"
            "  \"%smah_day_relay\": %.1f,\n  \"%srelay_duty_max\": %.5f,\n"
            "  \"%salarms\": %llu,\n  \"%salarms_acked\": %llu%s\n",
            prefix, ratio(p->delivered, p->alarms), prefix, p->p50, prefix, p->p99, prefix,
            p->worst_p99, prefix, p->max, prefix, ratio(p->routine_delivered, p->routine_sent),
            prefix, p->g, prefix, p->loc_fire > p->loc_other ? p->loc_fire : p->loc_other, prefix,
            p->loc_fire, prefix, p->years_min, prefix, p->mah_day[R_SMOKE], prefix,
            p->mah_day[R_WATER], prefix, p->mah_day[R_RELAY], prefix, p->relay_duty, prefix,
            (unsigned long long)p->alarms, prefix, (unsigned long long)p->acked, last ? "" : ",");
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_mesh [--seeds N] [--hours H] [--nodes N] [--only NAME] [--model M]\n"
            "                  [--quick] [--check] [--json FILE]\n"
            "\n"
            "Plays an estate of N sensors (default 300) and 30 relays for H hours (default 2)\n"
            "per seed (default 10 seeds), in four settings (1ch-sf9, 2ch-sf9, 4ch-sf7,\n"
            "storm-1ch-sf9), each with the v1 medium access (baseline) and v1.1, on the ideal\n"
            "and the honest air model (--model ideal|honest|both, default both). Prints the\n"
            "alarm delivery ratio, latency p50/p99 (pooled), the worst seed's p99 and the\n"
            "maximum in seconds, routine delivery, offered load G per channel, the slowest\n"
            "loss-of-communication detection (fire-class / water) in seconds, the worst battery\n"
            "node's years and the busiest relay's duty cycle.\n"
            "\n"
            "  --only NAME  one setting only\n"
            "  --mac M      v1, v1.1 or both (default)\n"
            "  --no-slots   v1.1 without the gateway's alarm cycles (what they add)\n"
            "  --inert LIST what-if, not a design: frames of these kinds (comma-\n"
            "               separated: checkin (with its ACK), data, ack, alarm) still reach\n"
            "               their receivers but take no air from anyone else; weighs what\n"
            "               that traffic costs the rest\n"
            "  --verbose    a line per seed; twice: each run's air, queues and slow alarms\n"
            "  --seed N     the first seed (default 1)\n"
            "  --quick      3 seeds of half an hour\n"
            "  --check      exit 1 unless, in every run played, every alarm reached the gateway,\n"
            "               every failed node was noticed, no frame went out on settings its\n"
            "               receiver was not tuned to and the gateway answered every repeat of\n"
            "               an ALARM it had acknowledged; alarms not acknowledged at their node\n"
            "               by the end are noted\n"
            "  --json FILE  the figures of 1ch-sf9 on the honest model, v1.1 as mesh_* and v1\n"
            "               as mesh_baseline_*, other settings as mesh_<setting>_*\n");
}

/* --inert: a comma-separated list of frame kinds. */
static int parse_inert(const char *list)
{
    static const struct {
        const char *name;
        uint32_t bits;
    } kinds[] = {
        {"checkin", (1u << LW_FT_CHECKIN) | (1u << LW_FT_CHECKIN_ACK)},
        {"data", 1u << LW_FT_DATA},
        {"ack", 1u << LW_FT_ACK},
        {"alarm", 1u << LW_FT_ALARM},
    };
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *save = NULL, *k = strtok_r(buf, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
        size_t i = 0;
        while (i < sizeof(kinds) / sizeof(kinds[0]) && strcmp(kinds[i].name, k))
            i++;
        if (i == sizeof(kinds) / sizeof(kinds[0])) {
            fprintf(stderr, "bench_mesh: --inert: unknown kind '%s' (checkin, data, ack, alarm)\n",
                    k);
            return -1;
        }
        inert_types |= kinds[i].bits;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct setting settings[] = {
        {"1ch-sf9", 9, 1, false},
        {"2ch-sf9", 9, 2, false},
        {"4ch-sf7", 7, 4, false},
        {"storm-1ch-sf9", 9, 1, true},
    };
    uint32_t seeds = 10, sensors = 300, first_seed = 1;
    double hours = 2.0;
    const char *json = NULL, *only = NULL, *model = "both", *macs = "both";
    bool check = false;
    static const struct option opts[] = {
        {"seeds", required_argument, NULL, 'S'},
        {"hours", required_argument, NULL, 'H'},
        {"nodes", required_argument, NULL, 'n'},
        {"only", required_argument, NULL, 'o'},
        {"model", required_argument, NULL, 'm'},
        {"quick", no_argument, NULL, 'q'},
        {"check", no_argument, NULL, 'c'},
        {"json", required_argument, NULL, 'j'},
        {"seed", required_argument, NULL, 's'},
        {"mac", required_argument, NULL, 'M'},
        {"verbose", no_argument, NULL, 'v'},
        {"no-slots", no_argument, NULL, 'N'},
        {"inert", required_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'S':
            seeds = (uint32_t)atoi(optarg);
            break;
        case 'H':
            hours = atof(optarg);
            break;
        case 's':
            first_seed = (uint32_t)atoi(optarg);
            break;
        case 'M':
            macs = optarg;
            break;
        case 'v':
            verbose++;
            break;
        case 'N':
            no_slots = true;
            break;
        case 'I':
            if (parse_inert(optarg) != 0)
                return 2;
            break;
        case 'n':
            sensors = (uint32_t)atoi(optarg);
            break;
        case 'o':
            only = optarg;
            break;
        case 'm':
            model = optarg;
            break;
        case 'q':
            seeds = 3;
            hours = 0.5;
            break;
        case 'c':
            check = true;
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
    if (sensors < 3 * BUILDINGS * 3 || sensors > 3000 || sensors % BUILDINGS || hours < 0.25 ||
        hours > 48 || seeds < 1 || seeds > 1000 ||
        (strcmp(model, "both") && strcmp(model, "ideal") && strcmp(model, "honest")) ||
        (strcmp(macs, "both") && strcmp(macs, "v1") && strcmp(macs, "v1.1"))) {
        fprintf(stderr,
                "bench_mesh: --nodes must be a multiple of %d from 90 to 3000, --hours "
                "0.25..48, --seeds 1..1000, --model ideal|honest|both, --mac v1|v1.1|both\n",
                BUILDINGS);
        return 2;
    }
    printf("mesh estate: %u sensors (a third smoke, two thirds water) + %d relays in %d "
           "buildings, up to 3 hops; %.2f h virtual per seed, %u seeds\n",
           sensors, BUILDINGS * RELAYS_PER_B, BUILDINGS, hours, seeds);
    printf("  %-12s %-6s %-4s %6s %6s %7s %7s %7s  %5s %5s  %5s %5s  %5s  %6s\n", "setting",
           "model", "mac", "alarm", "p50 s", "p99 s", "worst", "max s", "rout", "G", "LoCf", "LoCw",
           "years", "relay");
    FILE *jf = NULL;
    if (json && !(jf = fopen(json, "w"))) {
        perror(json);
        return 1;
    }
    if (jf)
        fprintf(jf,
                "{\n  \"mesh_sensors\": %u,\n  \"mesh_relays\": %d,\n  \"mesh_hours\": %.2f,\n"
                "  \"mesh_seeds\": %u,\n",
                sensors, BUILDINGS * RELAYS_PER_B, hours, seeds);
    bool ok = true, first_json = true;
    for (size_t s = 0; s < sizeof(settings) / sizeof(settings[0]); s++) {
        if (only && strcmp(only, settings[s].name))
            continue;
        for (int m = 0; m < 2; m++) {
            bool honest = m == 1;
            if ((honest && !strcmp(model, "ideal")) || (!honest && !strcmp(model, "honest")))
                continue;
            for (int mac = 0; mac < 2; mac++) {
                if ((mac && !strcmp(macs, "v1")) || (!mac && !strcmp(macs, "v1.1")))
                    continue;
                struct pooled p = {0};
                for (uint32_t k = 0; k < seeds; k++) {
                    struct result r;
                    run_one(&settings[s], (enum mac)mac, honest, first_seed + k, hours, sensors,
                            &r);
                    if (check && r.acked < r.ack_expected)
                        fprintf(stderr,
                                "bench_mesh: note: %s %s %s seed %u: %llu of %llu alarms "
                                "acknowledged at their node by the end\n",
                                settings[s].name, honest ? "honest" : "ideal", mac ? "v1.1" : "v1",
                                first_seed + k, (unsigned long long)r.acked,
                                (unsigned long long)r.ack_expected);
                    if (check && r.repeats_answered != r.repeats_to_answer) {
                        /* Every repeat is one of the node's own authentic frames here. */
                        fprintf(stderr,
                                "bench_mesh: %s %s %s seed %u: the gateway answered %llu of %llu "
                                "repeats of ALARMs it had acknowledged\n",
                                settings[s].name, honest ? "honest" : "ideal", mac ? "v1.1" : "v1",
                                first_seed + k, (unsigned long long)r.repeats_answered,
                                (unsigned long long)r.repeats_to_answer);
                        ok = false;
                    }
                    if (check &&
                        (r.delivered != r.alarms || r.loc_missed || (honest && r.lost_mismatch))) {
                        fprintf(stderr,
                                "bench_mesh: %s %s %s seed %u: %llu of %llu alarms delivered, "
                                "%llu of %llu acknowledged, %llu failed nodes unnoticed, %llu "
                                "frames on the wrong settings\n",
                                settings[s].name, honest ? "honest" : "ideal", mac ? "v1.1" : "v1",
                                first_seed + k, (unsigned long long)r.delivered,
                                (unsigned long long)r.alarms, (unsigned long long)r.acked,
                                (unsigned long long)r.ack_expected,
                                (unsigned long long)r.loc_missed,
                                (unsigned long long)r.lost_mismatch);
                        ok = false;
                    }
                    pool(&p, &r);
                }
                finish(&p);
                print_row(settings[s].name, honest ? "honest" : "ideal", mac ? "v1.1" : "v1", &p);
                if (jf && honest) {
                    char prefix[64];
                    if (s == 0)
                        snprintf(prefix, sizeof(prefix), "mesh_%s", mac ? "" : "baseline_");
                    else
                        snprintf(prefix, sizeof(prefix), "mesh_%s_%s", settings[s].name,
                                 mac ? "" : "baseline_");
                    for (char *c = prefix; *c; c++)
                        if (*c == '-')
                            *c = '_';
                    if (!first_json)
                        fprintf(jf, ",\n");
                    first_json = false;
                    json_block(jf, prefix, &p, true);
                }
                free(p.lat);
            }
        }
    }
    if (jf) {
        fprintf(jf, "}\n");
        fclose(jf);
    }
    printf("  (alarm: delivery ratio; p50/p99 pooled over seeds, worst: the worst seed's p99; "
           "rout: routine delivery; G: offered load per channel; LoCf/LoCw: slowest loss-of-"
           "communication detection, fire-class / water, s; years: worst battery node; relay: "
           "busiest relay's duty cycle)\n");
    return ok ? 0 : 1;
}
