/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the SX126x driver and the sx126x backend against the command-level emulator
 * (tests/emu): no command while BUSY is high, the command set at init (TCXO, RF switch, LoRa
 * parameters, sync word registers, IRQ masks), frames with RSSI/SNR, CRC errors, TX with TxDone,
 * CAD, a missing chip, a stuck BUSY line, SPI errors, and the watchdog. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_hw.h"
#include "lw_config.h"
#include "lw_error.h"
#include "lw_log.h"
#include "lw_radio.h"
#include "lw_radio_chip.h"
#include "lw_sx126x.h"
#include "lw_sx126x_regs.h"

static const struct lw_chip_pins waveshare = {.reset = 18, .cs = 21, .irq = 16, .busy = 20};

struct fx {
    struct emu_hw *hw;
    struct lw_config *cfg;
    void *radio;
};

static int open_radio(struct fx *f, const char *extra)
{
    char text[512];
    snprintf(text, sizeof(text),
             "[radio]\nboard = waveshare-sx1262-hat\nwatchdog_interval = 10s\n%s", extra);
    f->cfg = lw_config_parse("t.conf", text, strlen(text), NULL, NULL);
    assert_non_null(f->cfg);
    return lw_radio_chip_open(f->cfg, &emu_spi_ops, &emu_gpio_ops, &f->radio);
}

static void fx_new(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    f->hw = emu_hw_new(&emu_sx126x_ops, &waveshare);
    assert_non_null(f->hw);
}

static void fx_setup(struct fx *f, const char *extra)
{
    fx_new(f);
    assert_int_equal(open_radio(f, extra), LW_OK);
}

static void fx_teardown(struct fx *f)
{
    if (f->radio) {
        lw_radio_sx126x_ops.close(f->radio);
        assert_int_equal(emu_sx126x_busy_violations(f->hw->chip), 0);
    }
    lw_config_free(f->cfg);
    emu_hw_free(f->hw);
}

static struct emu_sx126x_state chip(struct fx *f)
{
    struct emu_sx126x_state s;
    emu_sx126x_state(f->hw->chip, &s);
    return s;
}

static bool readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

static struct emu_frame frame(const uint8_t *data, size_t len)
{
    struct emu_frame fr = {.data = data,
                           .len = len,
                           .rssi_x10 = -915,
                           .snr_x10 = -50,
                           .crc_ok = true,
                           .has_crc = true};
    return fr;
}

static void test_conversions(void **state)
{
    uint8_t b[2];
    (void)state;
    /* RfFreq = f * 2^25 / 32 MHz */
    assert_int_equal(lw_sx126x_rf_freq(470300000), 0x1D64CCCD);
    assert_int_equal(lw_sx126x_rf_freq(868100000), 0x3641999A);
    assert_int_equal(lw_sx126x_bw_code(125000), 0x04);
    assert_int_equal(lw_sx126x_bw_code(41700), -1);
    assert_int_equal(lw_sx126x_tcxo_code(1800), 2);
    assert_int_equal(lw_sx126x_tcxo_code(3300), 7);
    assert_int_equal(lw_sx126x_tcxo_code(1650), 0);
    lw_sx126x_sync_regs(0x12, b);
    assert_int_equal(b[0], 0x14);
    assert_int_equal(b[1], 0x24);
    lw_sx126x_sync_regs(0x34, b);
    assert_int_equal(b[0], 0x34);
    assert_int_equal(b[1], 0x44);
    lw_sx126x_image_cal(470300000, b);
    assert_int_equal(b[0], 0x75);
    assert_int_equal(b[1], 0x81);
    lw_sx126x_image_cal(868100000, b);
    assert_int_equal(b[0], 0xD7);
    assert_int_equal(b[1], 0xDB);
}

static void test_init_commands(void **state)
{
    struct fx f;
    (void)state;
    fx_setup(&f, "sync_word = 0x2B\npreamble = 10\n");
    struct emu_sx126x_state s = chip(&f);
    assert_int_equal(s.mode, 4); /* RX */
    assert_int_equal(s.packet_type, LW_SX126X_PACKET_TYPE_LORA);
    assert_int_equal(s.rf_freq, 0x1D64CCCD);
    assert_int_equal(s.sf, 9);
    assert_int_equal(s.bw, LW_SX126X_BW_125);
    assert_int_equal(s.cr, 1);
    assert_int_equal(s.ldro, 0);
    assert_int_equal(s.preamble, 10);
    assert_int_equal(s.crc, 1);
    assert_int_equal(s.iq, LW_SX126X_IQ_STANDARD);
    assert_true(s.tcxo);        /* the board's TCXO on DIO3 */
    assert_true(s.dio2_switch); /* and antenna switch on DIO2 */
    assert_true(s.dio1_mask & LW_SX126X_IRQ_RX_DONE);
    assert_true(s.dio1_mask & LW_SX126X_IRQ_TX_DONE);
    assert_true(s.dio1_mask & LW_SX126X_IRQ_CRC_ERR);
    assert_int_equal(emu_sx126x_reg(f.hw->chip, LW_SX126X_REG_SYNC_WORD_MSB), 0x24);
    assert_int_equal(emu_sx126x_reg(f.hw->chip, LW_SX126X_REG_SYNC_WORD_LSB), 0xB4);
    assert_true(emu_sx126x_reg(f.hw->chip, LW_SX126X_REG_IQ_POLARITY) & LW_SX126X_IQ_POLARITY_BIT);
    assert_int_equal(f.hw->xfers_without_cs, 0);
    fx_teardown(&f);

    /* Overrides: no TCXO, no RF switch. */
    fx_setup(&f, "tcxo_voltage = none\ndio2_rf_switch = no\n");
    s = chip(&f);
    assert_false(s.tcxo);
    assert_false(s.dio2_switch);
    fx_teardown(&f);
}

static void test_receive(void **state)
{
    struct fx f;
    struct lw_radio_rx rx;
    uint8_t data[60];
    (void)state;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(255 - i);
    fx_setup(&f, "");
    int fd = lw_radio_sx126x_ops.fd(f.radio);
    assert_int_equal(lw_radio_sx126x_ops.read(f.radio, &rx), LW_ERR_AGAIN);
    for (int n = 0; n < 6; n++) { /* runs round the 256-byte buffer */
        data[0] = (uint8_t)n;
        struct emu_frame fr = frame(data, sizeof(data));
        emu_hw_advance(f.hw, 1000);
        assert_true(emu_hw_inject(f.hw, &fr));
        assert_true(readable(fd));
        assert_int_equal(lw_radio_sx126x_ops.read(f.radio, &rx), LW_OK);
        assert_int_equal(rx.len, sizeof(data));
        assert_memory_equal(rx.buf, data, sizeof(data));
        assert_int_equal(rx.rssi_x10, -915);
        assert_int_equal(rx.snr_x10, -50);
        assert_int_equal(lw_radio_sx126x_ops.read(f.radio, &rx), LW_ERR_AGAIN);
    }
    fx_teardown(&f);
}

static void test_crc_error(void **state)
{
    struct fx f;
    struct lw_radio_rx rx;
    uint8_t data[] = {9, 9, 9};
    (void)state;
    fx_setup(&f, "");
    struct emu_frame fr = frame(data, sizeof(data));
    fr.crc_ok = false;
    emu_hw_advance(f.hw, 1000);
    assert_true(emu_hw_inject(f.hw, &fr));
    assert_int_equal(lw_radio_sx126x_ops.read(f.radio, &rx), LW_ERR_AGAIN);
    struct lw_radio_stats st;
    lw_radio_sx126x_ops.stats(f.radio, &st);
    assert_int_equal(st.rx_crc_errors, 1);
    assert_int_equal(st.rx_frames, 0);
    fx_teardown(&f);
}

static void test_transmit_and_cad(void **state)
{
    struct fx f;
    struct lw_radio_rx rx;
    uint8_t data[30], out[64];
    (void)state;
    memset(data, 0x5A, sizeof(data));
    fx_setup(&f, "");
    assert_int_equal(lw_radio_sx126x_ops.cad(f.radio), 0);
    assert_int_equal(chip(&f).mode, 4);
    emu_sx126x_ops.activity(f.hw->chip, true);
    assert_int_equal(lw_radio_sx126x_ops.cad(f.radio), 1);
    assert_int_equal(chip(&f).mode, 4);
    assert_int_equal(lw_radio_sx126x_ops.transmit(f.radio, data, sizeof(data)), LW_OK);
    struct emu_sx126x_state s = chip(&f);
    assert_int_equal(s.mode, 5); /* TX */
    assert_int_equal(s.iq, LW_SX126X_IQ_INVERTED);
    assert_false(emu_sx126x_reg(f.hw->chip, LW_SX126X_REG_IQ_POLARITY) & LW_SX126X_IQ_POLARITY_BIT);
    assert_int_equal(lw_radio_sx126x_ops.transmit(f.radio, data, 3), LW_ERR_AGAIN);
    emu_hw_advance(f.hw, 400000);
    assert_int_equal(lw_radio_sx126x_ops.read(f.radio, &rx), LW_ERR_AGAIN);
    assert_int_equal(emu_sx126x_ops.take_tx(f.hw->chip, out, sizeof(out)), sizeof(data));
    assert_memory_equal(out, data, sizeof(data));
    s = chip(&f);
    assert_int_equal(s.mode, 4);
    assert_int_equal(s.iq, LW_SX126X_IQ_STANDARD);
    struct lw_radio_stats st;
    lw_radio_sx126x_ops.stats(f.radio, &st);
    assert_int_equal(st.tx_frames, 1);
    fx_teardown(&f);
}

static void test_missing_and_stuck(void **state)
{
    struct fx f;
    (void)state;
    fx_new(&f);
    emu_sx126x_ops.fault(f.hw->chip, EMU_MISSING);
    assert_int_equal(open_radio(&f, ""), LW_ERR_NOTFOUND);
    fx_teardown(&f);
    fx_new(&f);
    emu_sx126x_ops.fault(f.hw->chip, EMU_MISSING_FF);
    assert_int_equal(open_radio(&f, ""), LW_ERR_NOTFOUND);
    fx_teardown(&f);
    /* BUSY stuck high even after reset: a clear error, not a hang. */
    fx_new(&f);
    emu_sx126x_ops.fault(f.hw->chip, EMU_DEAD);
    uint64_t before = f.hw->now_us;
    assert_int_equal(open_radio(&f, ""), LW_ERR_NOTFOUND);
    assert_true(f.hw->now_us - before < 100000);
    fx_teardown(&f);
    /* The sx126x backend needs its BUSY line. */
    fx_new(&f);
    char text[] = "[radio]\nbackend = sx126x\npin_dio1 = 16\npin_reset = 18\n";
    f.cfg = lw_config_parse("t.conf", text, strlen(text), NULL, NULL);
    assert_null(f.cfg);
    fx_teardown(&f);
}

static void test_spi_errors(void **state)
{
    struct fx f;
    (void)state;
    fx_new(&f);
    f.hw->spi_fail = true;
    assert_int_equal(open_radio(&f, ""), LW_ERR_IO);
    fx_teardown(&f);
    fx_new(&f);
    f.hw->spi_fail_after = 5; /* dies in the middle of the set-up */
    assert_int_equal(open_radio(&f, ""), LW_ERR_IO);
    fx_teardown(&f);
}

static void test_watchdog_hang(void **state)
{
    struct fx f;
    struct lw_radio_rx rx;
    uint8_t data[] = {1, 2, 3, 4};
    (void)state;
    fx_setup(&f, "");
    emu_sx126x_ops.fault(f.hw->chip, EMU_HANG); /* BUSY stuck high */
    for (int i = 0; i < 22; i++) {
        emu_hw_advance(f.hw, 500000);
        lw_radio_sx126x_ops.read(f.radio, &rx);
    }
    struct lw_radio_stats st;
    lw_radio_sx126x_ops.stats(f.radio, &st);
    assert_int_equal(st.resets, 1);
    assert_false(st.fault);
    assert_int_equal(chip(&f).mode, 4);
    struct emu_frame fr = frame(data, sizeof(data));
    assert_true(emu_hw_inject(f.hw, &fr));
    assert_int_equal(lw_radio_sx126x_ops.read(f.radio, &rx), LW_OK);
    fx_teardown(&f);
}

int main(void)
{
    lw_log_init("test_sx126x", getenv("LW_TEST_LOG") ? LW_LOG_DEBUG : 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conversions),      cmocka_unit_test(test_init_commands),
        cmocka_unit_test(test_receive),          cmocka_unit_test(test_crc_error),
        cmocka_unit_test(test_transmit_and_cad), cmocka_unit_test(test_missing_and_stuck),
        cmocka_unit_test(test_spi_errors),       cmocka_unit_test(test_watchdog_hang),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
