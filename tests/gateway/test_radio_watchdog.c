/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the radio watchdog: its pure schedule with made-up time, and the sx127x backend
 * on the emulator with its virtual clock: a hung chip, a chip that reset itself, a deaf chip and
 * a lost TxDone are each noticed, the chip reset and configured again; a dead chip sets the fault
 * flag and is retried with backoff until it answers again. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_hw.h"
#include "lw_config.h"
#include "lw_error.h"
#include "lw_log.h"
#include "lw_radio.h"
#include "lw_radio_chip.h"
#include "lw_sx127x_regs.h"

/* ---- the schedule ----------------------------------------------------------------------- */

static void test_schedule(void **state)
{
    struct lw_radio_wd w;
    (void)state;
    lw_radio_wd_start(&w, 30000, 600000, 1000);
    assert_int_equal(lw_radio_wd_poll(&w, false, 1000), LW_WD_NOTHING);
    assert_int_equal(lw_radio_wd_next_ms(&w, false, 1000), 30000);
    assert_int_equal(lw_radio_wd_poll(&w, false, 30999), LW_WD_NOTHING);
    assert_int_equal(lw_radio_wd_poll(&w, false, 31000), LW_WD_CHECK);
    assert_int_equal(lw_radio_wd_poll(&w, false, 31000), LW_WD_NOTHING);
    assert_int_equal(lw_radio_wd_next_ms(&w, false, 31000), 30000);
    /* Interrupts keep the silence check quiet. */
    lw_radio_wd_irq(&w, 500000);
    while (lw_radio_wd_poll(&w, false, 1099999) == LW_WD_CHECK)
        ; /* catch up on checks: never SILENT before 600 s without an interrupt */
    assert_int_equal(lw_radio_wd_poll(&w, false, 1099999), LW_WD_NOTHING);
    assert_int_equal(lw_radio_wd_poll(&w, false, 1100000), LW_WD_SILENT);
    assert_int_equal(lw_radio_wd_poll(&w, false, 1100000), LW_WD_NOTHING);
    /* A transmission of 100 ms must end within 2 x 100 ms + 1 s. */
    lw_radio_wd_irq(&w, 2000000);
    while (lw_radio_wd_poll(&w, false, 2000000) == LW_WD_CHECK)
        ;
    lw_radio_wd_tx(&w, 100000, 2000000);
    assert_int_equal(lw_radio_wd_next_ms(&w, false, 2000000), 1200);
    while (lw_radio_wd_poll(&w, false, 2001199) == LW_WD_CHECK)
        ;
    assert_int_equal(lw_radio_wd_poll(&w, false, 2001200), LW_WD_TX_TIMEOUT);
    assert_int_equal(lw_radio_wd_poll(&w, false, 2001200), LW_WD_NOTHING);
}

static void test_backoff(void **state)
{
    struct lw_radio_wd w;
    (void)state;
    lw_radio_wd_start(&w, 1000, 0, 0);
    uint64_t now = 0;
    uint64_t expect[] = {1000, 2000, 4000, 8000, 16000, 32000, 64000, 64000, 64000};
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        lw_radio_wd_recovered(&w, false, now);
        assert_int_equal(lw_radio_wd_next_ms(&w, true, now), expect[i]);
        assert_int_equal(lw_radio_wd_poll(&w, true, now + expect[i] - 1), LW_WD_NOTHING);
        now += expect[i];
        assert_int_equal(lw_radio_wd_poll(&w, true, now), LW_WD_RETRY);
    }
    lw_radio_wd_recovered(&w, true, now);
    assert_int_equal(w.failures, 0);
    assert_int_equal(lw_radio_wd_poll(&w, false, now), LW_WD_NOTHING);
    assert_int_equal(lw_radio_wd_next_ms(&w, false, now), 1000);
}

/* ---- the backend on the emulator -------------------------------------------------------- */

static const struct lw_chip_pins dragino = {.reset = 17, .cs = 25, .irq = 4, .busy = -1};

struct fx {
    struct emu_hw *hw;
    struct lw_config *cfg;
    void *radio;
};

static void fx_setup(struct fx *f, const char *extra)
{
    char text[512];
    memset(f, 0, sizeof(*f));
    f->hw = emu_hw_new(&emu_sx127x_ops, &dragino);
    assert_non_null(f->hw);
    snprintf(text, sizeof(text),
             "[radio]\nboard = dragino-lora-gps-hat\nwatchdog_interval = 10s\n%s", extra);
    f->cfg = lw_config_parse("t.conf", text, strlen(text), NULL, NULL);
    assert_non_null(f->cfg);
    assert_int_equal(lw_radio_chip_open(f->cfg, &emu_spi_ops, &emu_gpio_ops, &f->radio), LW_OK);
}

static void fx_teardown(struct fx *f)
{
    lw_radio_sx127x_ops.close(f->radio);
    lw_config_free(f->cfg);
    emu_hw_free(f->hw);
}

static struct lw_radio_stats stats(struct fx *f)
{
    struct lw_radio_stats st;
    lw_radio_sx127x_ops.stats(f->radio, &st);
    return st;
}

/* Let virtual time pass in steps, calling read() as the loop would when the timer fires. */
static void run_for(struct fx *f, uint64_t ms)
{
    struct lw_radio_rx rx;
    for (uint64_t t = 0; t < ms; t += 500) {
        emu_hw_advance(f->hw, 500000);
        while (lw_radio_sx127x_ops.read(f->radio, &rx) == LW_OK)
            ;
    }
}

/* The chip hears a frame and the backend delivers it. */
static bool receives(struct fx *f)
{
    static const uint8_t data[] = {0x4C, 0x57, 1, 2, 3};
    struct emu_frame fr = {
        .data = data, .len = sizeof(data), .rssi_x10 = -900, .crc_ok = true, .has_crc = true};
    struct lw_radio_rx rx;
    if (!emu_hw_inject(f->hw, &fr))
        return false;
    return lw_radio_sx127x_ops.read(f->radio, &rx) == LW_OK && rx.len == sizeof(data);
}

static void test_healthy_chip_is_left_alone(void **state)
{
    struct fx f;
    (void)state;
    fx_setup(&f, "");
    run_for(&f, 65000);
    struct lw_radio_stats st = stats(&f);
    assert_int_equal(st.watchdog_checks, 6);
    assert_int_equal(st.resets, 0);
    assert_false(st.fault);
    assert_true(receives(&f));
    fx_teardown(&f);
}

static void test_hung_chip_reset(void **state)
{
    struct fx f;
    (void)state;
    fx_setup(&f, "");
    assert_true(receives(&f));
    emu_sx127x_ops.fault(f.hw->chip, EMU_HANG);
    assert_false(receives(&f));
    run_for(&f, 10500);
    struct lw_radio_stats st = stats(&f);
    assert_int_equal(st.resets, 1);
    assert_int_equal(st.recoveries_failed, 0);
    assert_false(st.fault);
    assert_int_equal(emu_sx127x_reg(f.hw->chip, LW_SX127X_REG_OPMODE), 0x8D);
    assert_true(receives(&f));
    fx_teardown(&f);
}

static void test_chip_reset_itself(void **state)
{
    struct fx f;
    (void)state;
    fx_setup(&f, "");
    /* A brown-out: every register back to its reset value, FSK standby. */
    emu_sx127x_ops.reset(f.hw->chip, f.hw->now_us);
    assert_false(receives(&f));
    run_for(&f, 10500);
    assert_int_equal(stats(&f).resets, 1);
    assert_true(receives(&f));
    fx_teardown(&f);
}

static void test_deaf_chip_reset_after_silence(void **state)
{
    struct fx f;
    (void)state;
    fx_setup(&f, "watchdog_silence = 60s\n");
    emu_sx127x_ops.fault(f.hw->chip, EMU_DEAF);
    run_for(&f, 59000);
    assert_int_equal(stats(&f).resets, 0); /* its registers look fine */
    run_for(&f, 2000);
    assert_int_equal(stats(&f).resets, 1);
    assert_true(receives(&f));
    /* Traffic keeps the silence check quiet. */
    for (int i = 0; i < 5; i++) {
        run_for(&f, 30000);
        assert_true(receives(&f));
    }
    assert_int_equal(stats(&f).resets, 1);
    fx_teardown(&f);
}

static void test_lost_txdone(void **state)
{
    struct fx f;
    static const uint8_t data[16] = {1};
    (void)state;
    fx_setup(&f, "");
    emu_sx127x_ops.fault(f.hw->chip, EMU_NO_TXDONE);
    assert_int_equal(lw_radio_sx127x_ops.transmit(f.radio, data, sizeof(data)), LW_OK);
    run_for(&f, 1000);
    assert_int_equal(stats(&f).tx_timeouts, 0);
    run_for(&f, 1000); /* 2 x ~180 ms + 1 s */
    struct lw_radio_stats st = stats(&f);
    assert_int_equal(st.tx_timeouts, 1);
    assert_int_equal(st.resets, 1);
    assert_int_equal(st.tx_frames, 0);
    assert_true(receives(&f));
    assert_int_equal(lw_radio_sx127x_ops.transmit(f.radio, data, sizeof(data)), LW_OK);
    run_for(&f, 1000);
    assert_int_equal(stats(&f).tx_frames, 1);
    fx_teardown(&f);
}

static void test_dead_chip_fault_then_back(void **state)
{
    struct fx f;
    static const uint8_t data[4] = {1};
    (void)state;
    fx_setup(&f, "");
    emu_sx127x_ops.fault(f.hw->chip, EMU_DEAD);
    run_for(&f, 10500);
    struct lw_radio_stats st = stats(&f);
    assert_int_equal(st.resets, 1);
    assert_int_equal(st.recoveries_failed, 1);
    assert_true(st.fault);
    assert_int_equal(lw_radio_sx127x_ops.transmit(f.radio, data, sizeof(data)), LW_ERR_STATE);
    assert_int_equal(lw_radio_sx127x_ops.cad(f.radio), LW_ERR_STATE);
    /* Retried after 10 s, then 20 s, 40 s ... */
    run_for(&f, 10000);
    assert_int_equal(stats(&f).recoveries_failed, 2);
    run_for(&f, 20000);
    assert_int_equal(stats(&f).recoveries_failed, 3);
    /* The chip answers again (someone reseated the HAT): the next retry brings it back. */
    emu_sx127x_ops.fault(f.hw->chip, EMU_OK);
    run_for(&f, 40500);
    st = stats(&f);
    assert_false(st.fault);
    assert_int_equal(st.recoveries_failed, 3);
    assert_int_equal(st.resets, 4);
    assert_true(receives(&f));
    fx_teardown(&f);
}

int main(void)
{
    lw_log_init("test_radio_watchdog", getenv("LW_TEST_LOG") ? LW_LOG_DEBUG : 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_healthy_chip_is_left_alone),
        cmocka_unit_test(test_hung_chip_reset),
        cmocka_unit_test(test_chip_reset_itself),
        cmocka_unit_test(test_deaf_chip_reset_after_silence),
        cmocka_unit_test(test_lost_txdone),
        cmocka_unit_test(test_dead_chip_fault_then_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
