/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the simulated air: delivery over links, link loss, collisions with and without
 * capture, half duplex, channels, a failed endpoint, listen before talk, utilisation. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivers_over_links),
        cmocka_unit_test(collisions_and_capture),
        cmocka_unit_test(half_duplex_loss_down_and_lbt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
