/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the simulated air: delivery over links, link loss, collisions with and without
 * capture, half duplex, channels, a failed endpoint, listen before talk, utilisation; and the
 * honest model: settings that must match, listen windows, interference that adds up, a receiver
 * locked on an earlier preamble, CAD that sees preambles only (SX127x), energy accounting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lw_airtime.h"
#include "lw_error.h"
#include "sim_air.h"

struct got {
    int n;
    uint32_t rx[16], tx[16];
    double snr[16];
};

static void on_rx(void *user, uint32_t rx, uint32_t tx, const uint8_t *frame, size_t len,
                  double snr_db, uint64_t t_us)
{
    struct got *g = user;
    (void)frame;
    (void)len;
    (void)t_us;
    if (g->n < 16) {
        g->rx[g->n] = rx;
        g->tx[g->n] = tx;
        g->snr[g->n] = snr_db;
    }
    g->n++;
}

static struct sim_air *air(uint32_t n, uint32_t channels)
{
    struct lw_lora_params lp;
    lw_lora_params_default(&lp);
    struct sim_air *a = sim_air_new(n, channels, &lp, 6.0, 42);
    assert_non_null(a);
    return a;
}

static const uint8_t frame[30] = {0x11};

static void delivers_over_links(void **state)
{
    (void)state;
    struct sim_air *a = air(4, 1);
    /* 1 -- 2 -- 0 (gateway); 3 alone */
    assert_int_equal(sim_air_link(a, 1, 2, 5, 0), LW_OK);
    assert_int_equal(sim_air_link(a, 2, 0, 8, 0), LW_OK);
    assert_int_equal(sim_air_link(a, 1, 1, 5, 0), LW_ERR_INVAL);
    uint32_t toa = sim_air_transmit(a, 1, 0, 1000, frame, sizeof(frame));
    assert_int_equal(
        toa, lw_airtime_us(
                 &(struct lw_lora_params){
                     .sf = 9, .bw_hz = 125000, .cr = 1, .preamble = 8, .crc = true, .ldro = -1},
                 30));
    /* A second frame while still sending is refused. */
    assert_int_equal(sim_air_transmit(a, 1, 0, 1001, frame, sizeof(frame)), 0);
    assert_int_equal(sim_air_next_end(a), 1000 + toa);
    struct got g = {0};
    assert_int_equal(sim_air_advance(a, 1000 + toa - 1, on_rx, &g), 0);
    assert_int_equal(sim_air_advance(a, 1000 + toa, on_rx, &g), 1);
    assert_int_equal(g.rx[0], 2);
    assert_int_equal(g.tx[0], 1);
    assert_true(g.snr[0] == 5.0);
    assert_int_equal(sim_air_next_end(a), UINT64_MAX);
    struct sim_air_stats st;
    sim_air_stats(a, &st);
    assert_int_equal(st.busy_us[0], toa);
    sim_air_free(a);
}

static void collisions_and_capture(void **state)
{
    (void)state;
    struct sim_air *a = air(4, 2);
    sim_air_link(a, 1, 0, 10, 0);
    sim_air_link(a, 2, 0, 8, 0);  /* 2 dB weaker than 1: no capture, both lost */
    sim_air_link(a, 3, 0, -2, 0); /* 12 dB weaker than 1: 1 captures */
    struct got g = {0};
    sim_air_transmit(a, 1, 0, 0, frame, sizeof(frame));
    sim_air_transmit(a, 2, 0, 50000, frame, sizeof(frame));
    sim_air_advance(a, 10000000, on_rx, &g);
    assert_int_equal(g.n, 0);
    struct sim_air_stats st;
    sim_air_stats(a, &st);
    assert_int_equal(st.lost_collision, 2);
    memset(&g, 0, sizeof(g));
    sim_air_transmit(a, 1, 0, 20000000, frame, sizeof(frame));
    sim_air_transmit(a, 3, 0, 20050000, frame, sizeof(frame));
    sim_air_advance(a, 30000000, on_rx, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.tx[0], 1);
    /* Other channel: no collision. */
    memset(&g, 0, sizeof(g));
    sim_air_transmit(a, 1, 0, 40000000, frame, sizeof(frame));
    sim_air_transmit(a, 2, 1, 40000000, frame, sizeof(frame));
    sim_air_advance(a, 50000000, on_rx, &g);
    assert_int_equal(g.n, 2);
    sim_air_free(a);
}

static void half_duplex_loss_down_and_lbt(void **state)
{
    (void)state;
    struct sim_air *a = air(3, 1);
    sim_air_link(a, 1, 2, 5, 0);
    struct got g = {0};
    /* 2 is sending while 1's frame arrives: lost. */
    sim_air_transmit(a, 2, 0, 0, frame, sizeof(frame));
    assert_true(sim_air_busy(a, 1, 0, 100));  /* 1 hears 2 on the channel */
    assert_false(sim_air_busy(a, 0, 0, 100)); /* the gateway does not */
    sim_air_transmit(a, 1, 0, 100, frame, sizeof(frame));
    sim_air_advance(a, 10000000, on_rx, &g);
    struct sim_air_stats st;
    sim_air_stats(a, &st);
    assert_int_equal(st.lost_busy, 2);
    /* A link that loses half of the frames loses about half. */
    sim_air_link(a, 1, 2, 5, 0.5);
    memset(&g, 0, sizeof(g));
    for (int i = 0; i < 1000; i++) {
        sim_air_transmit(a, 1, 0, 20000000ull + (uint64_t)i * 1000000, frame, sizeof(frame));
        sim_air_advance(a, 20000000ull + (uint64_t)i * 1000000 + 900000, on_rx, &g);
    }
    assert_true(g.n > 400 && g.n < 600);
    /* A failed endpoint neither sends nor hears. */
    sim_air_set_down(a, 2, true);
    memset(&g, 0, sizeof(g));
    sim_air_transmit(a, 1, 0, 2000000000ull, frame, sizeof(frame));
    assert_int_equal(sim_air_transmit(a, 2, 0, 2000000000ull, frame, sizeof(frame)), 0);
    sim_air_advance(a, 3000000000ull, on_rx, &g);
    assert_int_equal(g.n, 0);
    /* Below the demodulation floor (SF9: -12.5 dB). */
    sim_air_set_down(a, 2, false);
    sim_air_link(a, 1, 2, -14, 0);
    sim_air_transmit(a, 1, 0, 4000000000ull, frame, sizeof(frame));
    sim_air_advance(a, 5000000000ull, on_rx, &g);
    assert_int_equal(g.n, 0);
    sim_air_stats(a, &st);
    assert_int_equal(st.lost_weak, 1);
    assert_true(sim_air_snr_floor(7) == -7.5 && sim_air_snr_floor(12) == -20.0);
    sim_air_free(a);
}

static struct sim_air *honest(uint32_t n)
{
    struct sim_air *a = air(n, 2);
    sim_air_set_model(a, SIM_AIR_HONEST);
    return a;
}

static void honest_settings_must_match(void **state)
{
    (void)state;
    struct sim_air *a = honest(3);
    sim_air_link(a, 1, 0, 5, 0);
    struct sim_air_radio r;
    struct got g = {0};
    struct sim_air_stats st;
    uint64_t t = 0;
    /* Each setting the receiver is not tuned to loses the frame. */
    for (int k = 0; k < 6; k++) {
        sim_air_radio_default(a, &r);
        switch (k) {
        case 0:
            break; /* everything matches */
        case 1:
            r.sync_word = 0x34;
            break;
        case 2:
            r.iq_inverted_tx = true;
            break;
        case 3:
            r.sf = 10;
            break;
        case 4:
            r.bw_hz = 250000;
            break;
        default:
            break;
        }
        assert_int_equal(sim_air_set_radio(a, 1, &r), LW_OK);
        uint32_t ch = 0;
        if (k == 5) { /* the gateway listens on channel 0 only */
            struct sim_air_radio gw;
            sim_air_radio_default(a, &gw);
            gw.rx_channels = 1;
            sim_air_set_radio(a, 0, &gw);
            ch = 1;
        }
        sim_air_transmit(a, 1, ch, t, frame, sizeof(frame));
        t += 2000000;
        sim_air_advance(a, t, on_rx, &g);
    }
    assert_int_equal(g.n, 1); /* only the first, on matching settings */
    sim_air_stats(a, &st);
    assert_int_equal(st.lost_mismatch, 5);
    assert_int_equal(sim_air_set_radio(a, 1, &(struct sim_air_radio){.sf = 5, .bw_hz = 1}),
                     LW_ERR_INVAL);
    sim_air_free(a);
}

static void honest_listen_windows(void **state)
{
    (void)state;
    struct sim_air *a = honest(3);
    sim_air_link(a, 0, 1, 5, 0);
    struct sim_air_radio r;
    sim_air_radio_default(a, &r);
    r.rx_always = false;
    sim_air_set_radio(a, 1, &r);
    struct got g = {0};
    sim_air_transmit(a, 0, 0, 0, frame, sizeof(frame)); /* asleep */
    sim_air_advance(a, 1000000, on_rx, &g);
    assert_int_equal(g.n, 0);
    assert_int_equal(sim_air_listen(a, 1, 2000000, 3000000), LW_OK);
    assert_int_equal(sim_air_listen(a, 1, 2500000, 3500000), LW_OK); /* merged */
    sim_air_transmit(a, 0, 0, 3400000, frame, sizeof(frame));        /* starts inside, ends after */
    sim_air_advance(a, 5000000, on_rx, &g);
    assert_int_equal(g.n, 1);
    sim_air_transmit(a, 0, 0, 3600000, frame, sizeof(frame)); /* window closed */
    sim_air_advance(a, 6000000, on_rx, &g);
    assert_int_equal(g.n, 1);
    struct sim_air_energy e;
    sim_air_energy(a, 1, &e);
    assert_int_equal(e.rx_us, 1500000);
    sim_air_energy(a, 0, &e);
    assert_int_equal(e.tx_frames, 3);
    assert_int_equal(e.tx_us, 3 * sim_air_toa_us(a, 0, sizeof(frame)));
    struct sim_air_stats st;
    sim_air_stats(a, &st);
    assert_int_equal(st.lost_asleep, 2);
    sim_air_free(a);
}

/* Two interferers 7 dB below the frame: each alone is captured (6 dB), together (4 dB) not. */
static void honest_interference_adds_up(void **state)
{
    (void)state;
    for (int model = 0; model < 2; model++) {
        struct sim_air *a = air(4, 1);
        if (model)
            sim_air_set_model(a, SIM_AIR_HONEST);
        sim_air_link(a, 1, 0, 10, 0);
        sim_air_link(a, 2, 0, 3, 0);
        sim_air_link(a, 3, 0, 3, 0);
        struct got g = {0};
        /* The interferers start after the frame's preamble: the receiver stays locked on 1. */
        sim_air_transmit(a, 1, 0, 0, frame, sizeof(frame));
        sim_air_transmit(a, 2, 0, 80000, frame, sizeof(frame));
        sim_air_transmit(a, 3, 0, 90000, frame, sizeof(frame));
        sim_air_advance(a, 10000000, on_rx, &g);
        int from1 = 0;
        for (int i = 0; i < g.n && i < 16; i++)
            from1 += g.tx[i] == 1;
        assert_int_equal(from1, model ? 0 : 1);
        sim_air_free(a);
    }
}

/* A weaker frame that began first holds the receiver: the stronger one that starts during its
 * payload is lost (honest), where the ideal model let it capture. */
static void honest_receiver_locks_on_first_preamble(void **state)
{
    (void)state;
    for (int model = 0; model < 2; model++) {
        struct sim_air *a = air(3, 1);
        if (model)
            sim_air_set_model(a, SIM_AIR_HONEST);
        sim_air_link(a, 1, 0, 0, 0);
        sim_air_link(a, 2, 0, 12, 0);
        struct got g = {0};
        sim_air_transmit(a, 1, 0, 0, frame, sizeof(frame));
        sim_air_transmit(a, 2, 0, 100000, frame, sizeof(frame));
        sim_air_advance(a, 10000000, on_rx, &g);
        assert_int_equal(g.n, model ? 0 : 1);
        if (model) {
            struct sim_air_stats st;
            sim_air_stats(a, &st);
            assert_int_equal(st.lost_locked, 1);
        }
        sim_air_free(a);
    }
}

static void honest_cad_sees_preambles_only_on_sx127x(void **state)
{
    (void)state;
    struct sim_air *a = honest(3);
    sim_air_link(a, 1, 2, 5, 0);
    uint32_t pre = sim_air_preamble_us(a, 1), d = 0;
    assert_true(pre > 50000 && pre < 60000); /* 12.25 symbols of 4.096 ms at SF9 */
    sim_air_transmit(a, 1, 0, 0, frame, sizeof(frame));
    assert_true(sim_air_cad(a, 2, 0, 10000, &d));
    assert_true(d > 8000 && d < 8400);                     /* two symbols */
    assert_false(sim_air_cad(a, 2, 0, pre + 10000, NULL)); /* in the payload: invisible */
    assert_true(sim_air_busy(a, 2, 0, pre + 10000));       /* an ideal carrier sense sees it */
    assert_false(sim_air_cad(a, 2, 1, 10000, NULL));       /* another channel */
    struct sim_air_radio r;
    sim_air_radio_default(a, &r);
    r.chip = SIM_AIR_SX126X;
    sim_air_set_radio(a, 2, &r);
    sim_air_set_cad_payload(a, 1.0);
    assert_true(sim_air_cad(a, 2, 0, pre + 10000, NULL)); /* tuned SX126x CAD: payload too */
    struct sim_air_energy e;
    sim_air_energy(a, 2, &e);
    assert_int_equal(e.cads, 4);
    assert_int_equal(e.cad_us, 3 * d + (uint32_t)(4.5 * 4096)); /* the SX126x: 4.5 symbols */
    sim_air_free(a);
}

/* The what-if switch: an inert frame takes no air from anyone else (no collision, no lock, no
 * CAD or carrier-sense hit); switched off, the same air collides. */
static void inert_frames_take_no_air(void **state)
{
    (void)state;
    for (int inert = 0; inert < 2; inert++) {
        struct sim_air *a = honest(4);
        sim_air_link(a, 1, 0, 5, 0);
        sim_air_link(a, 2, 0, 5, 0);
        sim_air_link(a, 2, 3, 5, 0);
        sim_air_link(a, 1, 3, 5, 0);
        assert_int_equal(sim_air_set_tx_inert(a, 2, inert), LW_OK);
        struct got g = {0};
        sim_air_transmit(a, 2, 0, 0, frame, sizeof(frame));
        sim_air_transmit(a, 1, 0, 20000, frame, sizeof(frame));
        assert_int_equal(sim_air_busy(a, 3, 0, 500), !inert);
        assert_int_equal(sim_air_cad(a, 3, 0, 500, NULL), !inert);
        sim_air_advance(a, 10000000, on_rx, &g);
        int from1 = 0, from2 = 0;
        for (int i = 0; i < g.n && i < 16; i++) {
            from1 += g.tx[i] == 1 && g.rx[i] == 0;
            from2 += g.tx[i] == 2;
        }
        assert_int_equal(from1, inert); /* 1's frame survives only beside an inert one */
        assert_int_equal(from2, 0);     /* an inert frame still suffers from those that are not */
        sim_air_free(a);
    }
    assert_int_equal(sim_air_set_tx_inert(NULL, 1, true), LW_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivers_over_links),
        cmocka_unit_test(collisions_and_capture),
        cmocka_unit_test(half_duplex_loss_down_and_lbt),
        cmocka_unit_test(honest_settings_must_match),
        cmocka_unit_test(honest_listen_windows),
        cmocka_unit_test(honest_interference_adds_up),
        cmocka_unit_test(honest_receiver_locks_on_first_preamble),
        cmocka_unit_test(honest_cad_sees_preambles_only_on_sx127x),
        cmocka_unit_test(inert_frames_take_no_air),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
