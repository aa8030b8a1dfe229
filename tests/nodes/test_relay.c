/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the node core's relay role: forwarding with a route entry, duplicate
 * suppression, rebroadcast delay by rank, cancel on overhearing, hop limit, loops, reverse-path
 * downlinks (ACK and JOIN_ACC), and a sensor node opening a relayed downlink. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lw_cmd.h"
#include "lw_error.h"
#include "lw_frame.h"
#include "lw_node.h"
#include "lw_reading.h"
#include "lw_route.h"

struct air {
    uint8_t last[LW_FRAME_MAX_LEN];
    size_t last_len;
    size_t sent;
    int busy; /* channel_busy answers 1 this many times */
    uint32_t rnd;
    uint64_t now;
};

static int air_send(void *ctx, const uint8_t *frame, size_t len)
{
    struct air *a = ctx;
    memcpy(a->last, frame, len);
    a->last_len = len;
    a->sent++;
    return 0;
}

static uint64_t air_now(void *ctx)
{
    return ((struct air *)ctx)->now;
}

static uint32_t air_random(void *ctx)
{
    return ((struct air *)ctx)->rnd;
}

static int air_busy(void *ctx)
{
    struct air *a = ctx;
    if (a->busy > 0) {
        a->busy--;
        return 1;
    }
    return 0;
}

static const uint8_t k_sensor[LW_KEY_LEN] = {0x8f, 0x1c, 0x2a, 0x9b, 0x3e, 0x4d, 0x5f, 0x60,
                                             0x71, 0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8};
static const uint8_t k_relay[LW_KEY_LEN] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                            0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0, 0x01};

static void make(struct lw_node *n, struct air *a, uint16_t addr, bool relay, uint8_t rank,
                 const uint8_t *key)
{
    struct lw_node_config cfg;
    struct lw_node_hal hal = {.ctx = a,
                              .now_ms = air_now,
                              .send = air_send,
                              .random = air_random,
                              .channel_busy = air_busy};
    lw_node_config_defaults(&cfg);
    cfg.net_id = 0x4C57;
    cfg.address = addr;
    if (key)
        memcpy(cfg.key, key, LW_KEY_LEN);
    cfg.relay = relay;
    cfg.relay_rank = rank;
    cfg.relay_slot_ms = 400;
    assert_int_equal(lw_node_init(n, &cfg, &hal), LW_OK);
}

/* An uplink of the sensor at 0x0101 (fcnt, ALARM or DATA), sealed by its own core. */
static size_t uplink(uint8_t *out, bool alarm, uint32_t fcnt)
{
    struct air a = {0};
    struct lw_node s;
    struct lw_reading r = {.present = LW_R_WATER, .water_mm = 321};
    struct lw_node_config cfg;
    struct lw_node_hal hal = {.ctx = &a, .now_ms = air_now, .send = air_send};
    lw_node_config_defaults(&cfg);
    cfg.net_id = 0x4C57;
    cfg.address = 0x0101;
    cfg.fcnt_start = fcnt;
    memcpy(cfg.key, k_sensor, LW_KEY_LEN);
    assert_int_equal(lw_node_init(&s, &cfg, &hal), LW_OK);
    assert_true(lw_node_report(&s, &r, alarm) > 0);
    memcpy(out, a.last, a.last_len);
    return a.last_len;
}

static void forwards_with_route_entry(void **state)
{
    (void)state;
    struct air a = {.rnd = 7};
    struct lw_node r;
    make(&r, &a, 0x0201, true, 0, NULL); /* a pure relay: no key */
    uint8_t f[LW_FRAME_MAX_LEN];
    size_t len = uplink(f, false, 5);
    assert_int_equal(lw_node_hear(&r, f, len, -4, 1000), LW_OK);
    /* Routine frame at rank 0: second half of the first slot. */
    uint64_t due = lw_node_next_due(&r);
    assert_int_equal(due, 1000 + 200 + 7);
    assert_int_equal(lw_node_poll(&r, due - 1), 0);
    assert_int_equal(lw_node_poll(&r, due), 1);
    struct lw_route rt;
    assert_int_equal(lw_route_parse(a.last, a.last_len, &rt), LW_OK);
    assert_int_equal(rt.n_hops, 1);
    assert_int_equal(rt.hops[0].relay, 0x0201);
    assert_int_equal(rt.hops[0].snr_db, -4);
    assert_int_equal(rt.origin_len, len);
    /* The copy still opens under the sensor's key once stripped. */
    uint8_t plain[64];
    struct lw_frame_hdr h;
    int olen = lw_route_strip(a.last, a.last_len);
    assert_int_equal(lw_frame_open(a.last, (size_t)olen, k_sensor, &h, plain, sizeof(plain)), 4);
    /* Hearing the same frame again (another copy, the gateway's echo) does nothing. */
    assert_int_equal(lw_node_hear(&r, f, len, -4, 3000), LW_ERR_DUP);
    assert_int_equal(lw_node_next_due(&r), UINT64_MAX);
    struct lw_node_relay_stats st;
    lw_node_relay_stats(&r, &st);
    assert_int_equal(st.forwarded, 1);
    assert_int_equal(st.duplicates, 1);
}

static void alarms_first_and_rank_delay(void **state)
{
    (void)state;
    struct air a = {.rnd = 0};
    struct lw_node r;
    make(&r, &a, 0x0201, true, 2, NULL);
    uint8_t d[LW_FRAME_MAX_LEN], al[LW_FRAME_MAX_LEN];
    size_t dl = uplink(d, false, 10), alen = uplink(al, true, 11);
    assert_int_equal(lw_node_hear(&r, d, dl, 3, 0), LW_OK);
    assert_int_equal(lw_node_hear(&r, al, alen, 3, 0), LW_OK);
    /* Rank 2: two slots first; the ALARM in the first half of its slot, before the DATA. */
    assert_int_equal(lw_node_next_due(&r), 800);
    assert_int_equal(lw_node_poll(&r, 5000), 1);
    assert_int_equal(a.last[0] & 0x0F, LW_FT_ALARM);
    assert_int_equal(lw_node_poll(&r, 5000), 1);
    assert_int_equal(a.last[0] & 0x0F, LW_FT_DATA);
}

static void cancel_on_overhearing(void **state)
{
    (void)state;
    struct air a1 = {0}, a2 = {0};
    struct lw_node near, far;
    make(&near, &a1, 0x0201, true, 0, NULL);
    make(&far, &a2, 0x0202, true, 1, NULL);
    uint8_t f[LW_FRAME_MAX_LEN];
    size_t len = uplink(f, true, 20);
    assert_int_equal(lw_node_hear(&near, f, len, 1, 0), LW_OK);
    assert_int_equal(lw_node_hear(&far, f, len, 5, 0), LW_OK);
    /* The relay nearer the gateway goes first ... */
    assert_true(lw_node_next_due(&near) < lw_node_next_due(&far));
    assert_int_equal(lw_node_poll(&near, lw_node_next_due(&near)), 1);
    /* ... the other overhears its copy (one hop more) and cancels its own. */
    assert_int_equal(lw_node_hear(&far, a1.last, a1.last_len, -2, 300), LW_ERR_DUP);
    assert_int_equal(lw_node_next_due(&far), UINT64_MAX);
    struct lw_node_relay_stats st;
    lw_node_relay_stats(&far, &st);
    assert_int_equal(st.cancelled, 1);
    assert_int_equal(a2.sent, 0);
}

static void chain_forwards_forwarded_copies(void **state)
{
    (void)state;
    struct air a1 = {0}, a2 = {0};
    struct lw_node r1, r2;
    make(&r1, &a1, 0x0201, true, 1, NULL);
    make(&r2, &a2, 0x0202, true, 0, NULL);
    uint8_t f[LW_FRAME_MAX_LEN];
    size_t len = uplink(f, false, 30);
    assert_int_equal(lw_node_hear(&r1, f, len, 1, 0), LW_OK);
    assert_int_equal(lw_node_poll(&r1, 10000), 1);
    /* r2 never heard the origin: the copy r1 forwarded is new to it. */
    assert_int_equal(lw_node_hear(&r2, a1.last, a1.last_len, 2, 10100), LW_OK);
    assert_int_equal(lw_node_poll(&r2, 20000), 1);
    struct lw_route rt;
    assert_int_equal(lw_route_parse(a2.last, a2.last_len, &rt), LW_OK);
    assert_int_equal(rt.n_hops, 2);
    assert_int_equal(rt.hops[0].relay, 0x0201);
    assert_int_equal(rt.hops[1].relay, 0x0202);
    /* r1 hears r2's copy: it passed there already. */
    assert_int_equal(lw_node_hear(&r1, a2.last, a2.last_len, 2, 20100), LW_ERR_DUP);
    assert_int_equal(lw_node_next_due(&r1), UINT64_MAX);
}

static void hop_limit_and_loops(void **state)
{
    (void)state;
    struct air a = {0};
    struct lw_node r;
    make(&r, &a, 0x0203, true, 0, NULL);
    uint8_t f[LW_FRAME_MAX_LEN];
    size_t len = uplink(f, false, 40); /* hop limit 3 */
    int l = (int)len;
    l = lw_route_append(f, (size_t)l, sizeof(f), 0x0301, 0);
    l = lw_route_append(f, (size_t)l, sizeof(f), 0x0302, 0);
    l = lw_route_append(f, (size_t)l, sizeof(f), 0x0303, 0);
    assert_true(l > 0);
    assert_int_equal(lw_node_hear(&r, f, (size_t)l, 0, 0), LW_ERR_RANGE);
    /* A copy that already passed this relay (a loop) is not forwarded again. */
    len = uplink(f, false, 41);
    l = lw_route_append(f, len, sizeof(f), 0x0203, 0);
    assert_int_equal(lw_node_hear(&r, f, (size_t)l, 0, 0), LW_ERR_DUP);
    /* Garbage and other networks. */
    assert_true(lw_node_hear(&r, f, 10, 0, 0) < 0);
    len = uplink(f, false, 42);
    f[2] ^= 1;
    assert_int_equal(lw_node_hear(&r, f, len, 0, 0), LW_ERR_NETWORK);
    assert_int_equal(lw_node_next_due(&r), UINT64_MAX);
}

static void reverse_path_downlinks(void **state)
{
    (void)state;
    struct air ar = {0}, as = {0};
    struct lw_node relay, sensor;
    make(&relay, &ar, 0x0201, true, LW_NODE_RELAY_RANK_LEARN, NULL);
    make(&sensor, &as, 0x0101, false, 0, k_sensor);
    uint8_t ack[LW_FRAME_MAX_LEN];
    struct lw_frame_hdr h = {
        .type = LW_FT_ACK, .hop_limit = 1, .net_id = 0x4C57, .src = 0, .dst = 0x0101, .fcnt = 1};
    int alen = lw_frame_seal(&h, k_sensor, NULL, 0, ack, sizeof(ack));
    assert_true(alen > 0);
    /* No uplink of 0x0101 went through this relay: its downlinks are not its business. */
    assert_int_equal(lw_node_hear(&relay, ack, (size_t)alen, 0, 0), LW_ERR_NOTFOUND);
    /* The gateway heard directly: rank 0 learnt. */
    assert_int_equal(lw_node_relay_rank(&relay), 0);
    /* Forward an uplink of 0x0101; then a (new) downlink to it goes back. */
    struct lw_reading rd = {.present = LW_R_WATER, .water_mm = 900};
    assert_true(lw_node_report(&sensor, &rd, true) > 0);
    assert_int_equal(lw_node_hear(&relay, as.last, as.last_len, 1, 1000), LW_OK);
    assert_int_equal(lw_node_poll(&relay, 5000), 1);
    h.fcnt = 2;
    uint8_t p[4] = {1, 0, 0, 0}; /* acknowledges the alarm's fcnt 1 */
    alen = lw_frame_seal(&h, k_sensor, p, 4, ack, sizeof(ack));
    assert_int_equal(lw_node_hear(&relay, ack, (size_t)alen, 0, 6000), LW_OK);
    assert_int_equal(lw_node_poll(&relay, 7000), 1);
    /* The sensor opens the relayed ACK (route entry stripped) and stops retrying. */
    assert_true(lw_node_alarm_pending(&sensor));
    assert_int_equal(lw_node_hear(&sensor, ar.last, ar.last_len, 2, 7100), LW_OK);
    assert_false(lw_node_alarm_pending(&sensor));
    assert_int_equal(lw_node_alarm_acks(&sensor), 1);
    /* A relay's own uplinks come back to it forwarded by others: ignored. */
    assert_int_equal(lw_node_hear(&sensor, as.last, as.last_len, 0, 7200), LW_ERR_INVAL);
}

static void relay_and_sensor(void **state)
{
    (void)state;
    struct air a = {0};
    struct lw_node r;
    make(&r, &a, 0x0201, true, 0, k_relay);
    struct lw_reading rd = {.present = LW_R_WATER, .water_mm = 12};
    assert_true(lw_node_report(&r, &rd, false) > 0);
    uint8_t own[LW_FRAME_MAX_LEN];
    size_t olen = a.last_len;
    memcpy(own, a.last, olen);
    /* Its own frame, forwarded by a neighbour, is not forwarded again. */
    int l = lw_route_append(own, olen, sizeof(own), 0x0202, 0);
    assert_int_equal(lw_node_hear(&r, own, (size_t)l, 0, 0), LW_ERR_DUP);
    /* Listen before talk: a busy channel delays the rebroadcast within half a slot. */
    uint8_t f[LW_FRAME_MAX_LEN];
    size_t len = uplink(f, false, 50);
    assert_int_equal(lw_node_hear(&r, f, len, 0, 0), LW_OK);
    a.busy = 1;
    uint64_t due = lw_node_next_due(&r);
    assert_int_equal(lw_node_poll(&r, due), 0);
    assert_true(lw_node_next_due(&r) > due && lw_node_next_due(&r) <= due + 201);
    assert_int_equal(lw_node_poll(&r, lw_node_next_due(&r)), 1);
    /* A relay needs an address for its route entries. */
    struct lw_node bad;
    struct lw_node_config cfg;
    struct lw_node_hal hal = {.send = air_send};
    lw_node_config_defaults(&cfg);
    cfg.relay = true;
    assert_int_equal(lw_node_init(&bad, &cfg, &hal), LW_ERR_INVAL);
    cfg.address = 5;
    cfg.relay_rank = 9;
    assert_int_equal(lw_node_init(&bad, &cfg, &hal), LW_ERR_INVAL);
    /* A pure relay reports nothing of its own. */
    cfg.relay_rank = 1;
    assert_int_equal(lw_node_init(&bad, &cfg, &hal), LW_OK);
    assert_int_equal(lw_node_report(&bad, &rd, false), LW_ERR_STATE);
}

static void commands_event_mode_and_thresholds(void **state)
{
    (void)state;
    struct air a = {0};
    struct lw_node s;
    make(&s, &a, 0x0101, false, 0, k_sensor);
    assert_int_equal(lw_node_report_interval(&s, 60000), 60000);
    struct lw_cmd c = {.present = LW_CMD_HAS_EVENT | LW_CMD_HAS_INTERVAL,
                       .interval_s = 120,
                       .event_on = true,
                       .event_interval_s = 15,
                       .thresholds = 1u << 0,
                       .threshold = {200}};
    uint8_t p[LW_CMD_MAX_LEN], f[LW_FRAME_MAX_LEN];
    int pl = lw_cmd_encode(&c, p, sizeof(p));
    struct lw_frame_hdr h = {
        .type = LW_FT_CMD, .hop_limit = 1, .net_id = 0x4C57, .src = 0, .dst = 0x0101, .fcnt = 9};
    int fl = lw_frame_seal(&h, k_sensor, p, (size_t)pl, f, sizeof(f));
    fl = lw_route_append(f, (size_t)fl, sizeof(f), 0x0201, 3); /* through a relay */
    assert_int_equal(lw_node_hear(&s, f, (size_t)fl, 1, 0), LW_OK);
    assert_true(lw_node_event_mode(&s));
    assert_int_equal(lw_node_report_interval(&s, 60000), 15000);
    assert_int_equal(lw_node_commands(&s), 1);
    struct lw_reading low = {.present = LW_R_WATER, .water_mm = 199};
    struct lw_reading high = {.present = LW_R_WATER, .water_mm = 200};
    assert_false(lw_node_over_threshold(&s, &low));
    assert_true(lw_node_over_threshold(&s, &high));
    /* The same frame again is a replay: nothing changes. */
    assert_int_equal(lw_node_hear(&s, f, (size_t)fl, 1, 0), LW_ERR_REPLAY);
    /* Event off: back to the interval the command set. */
    struct lw_cmd off = {.present = LW_CMD_HAS_EVENT};
    pl = lw_cmd_encode(&off, p, sizeof(p));
    h.fcnt = 10;
    fl = lw_frame_seal(&h, k_sensor, p, (size_t)pl, f, sizeof(f));
    assert_int_equal(lw_node_hear(&s, f, (size_t)fl, 1, 0), LW_OK);
    assert_false(lw_node_event_mode(&s));
    assert_int_equal(lw_node_report_interval(&s, 60000), 120000);
    /* An authentic CMD that does not decode changes nothing. */
    h.fcnt = 11;
    fl = lw_frame_seal(&h, k_sensor, (const uint8_t *)"\x04\x00", 2, f, sizeof(f));
    assert_int_equal(lw_node_hear(&s, f, (size_t)fl, 1, 0), LW_OK);
    assert_int_equal(lw_node_commands(&s), 2);
    assert_int_equal(s.cmds_bad, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forwards_with_route_entry),
        cmocka_unit_test(alarms_first_and_rank_delay),
        cmocka_unit_test(cancel_on_overhearing),
        cmocka_unit_test(chain_forwards_forwarded_copies),
        cmocka_unit_test(hop_limit_and_loops),
        cmocka_unit_test(reverse_path_downlinks),
        cmocka_unit_test(relay_and_sensor),
        cmocka_unit_test(commands_event_mode_and_thresholds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
