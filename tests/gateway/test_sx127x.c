/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the SX127x driver and the sx127x backend, run unchanged against the register-level
 * emulator (tests/emu): probe, register values after init, frames received with RSSI/SNR, CRC
 * errors, TX with TxDone, CAD, a missing or wrong chip, SPI and GPIO failures. */
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
#include "lw_presets.h"
#include "lw_radio_chip.h"
#include "lw_sx127x.h"
#include "lw_sx127x_regs.h"

static const struct lw_chip_pins dragino = {.reset = 17, .cs = 25, .irq = 4, .busy = -1};

static struct lw_config *config(const char *extra)
{
    char text[1024];
    snprintf(text, sizeof(text), "[radio]\nboard = dragino-lora-gps-hat\n%s", extra);
    struct lw_config *cfg = lw_config_parse("t.conf", text, strlen(text), NULL, NULL);
    assert_non_null(cfg);
    return cfg;
}

struct fx {
    struct emu_hw *hw;
    struct lw_config *cfg;
    void *radio;
};

/* Open the sx127x backend on the emulator. */
static int open_radio(struct fx *f, const char *extra)
{
    f->cfg = config(extra);
    return lw_radio_chip_open(f->cfg, &emu_spi_ops, &emu_gpio_ops, &f->radio);
}

static void fx_setup(struct fx *f, const char *extra)
{
    memset(f, 0, sizeof(*f));
    f->hw = emu_hw_new(&emu_sx127x_ops, &dragino);
    assert_non_null(f->hw);
    assert_int_equal(open_radio(f, extra), LW_OK);
}

static void fx_teardown(struct fx *f)
{
    if (f->radio)
        lw_radio_sx127x_ops.close(f->radio);
    lw_config_free(f->cfg);
    emu_hw_free(f->hw);
}

static uint8_t reg(struct fx *f, uint8_t addr)
{
    return emu_sx127x_reg(f->hw->chip, addr);
}

static bool readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

static struct emu_frame frame(const uint8_t *data, size_t len)
{
    struct emu_frame fr = {
        .data = data, .len = len, .rssi_x10 = -870, .snr_x10 = 75, .crc_ok = true, .has_crc = true};
    return fr;
}

/* ---- pure conversions ------------------------------------------------------------------- */

static void test_conversions(void **state)
{
    (void)state;
    /* Frf = f * 2^19 / 32 MHz */
    assert_int_equal(lw_sx127x_frf(470300000), 0x759333);
    assert_int_equal(lw_sx127x_frf(868100000), 0xD90666);
    assert_int_equal(lw_sx127x_frf(434000000), 0x6C8000); /* the reset value */
    assert_int_equal(lw_sx127x_bw_code(125000), 7);
    assert_int_equal(lw_sx127x_bw_code(500000), 9);
    assert_int_equal(lw_sx127x_bw_code(62500), -1);
    assert_false(lw_sx127x_ldro(10, 125000)); /* 8.2 ms */
    assert_true(lw_sx127x_ldro(11, 125000));  /* 16.4 ms */
    assert_false(lw_sx127x_ldro(12, 500000));
    assert_true(lw_sx127x_ldro(12, 250000)); /* 16.4 ms */
    assert_int_equal(lw_sx127x_snr_x10(30), 75);
    assert_int_equal(lw_sx127x_snr_x10((uint8_t)-30), -75);
    /* LF port: -164 + 16/15 * 72 = -87.2 dBm; with SNR -7.5 dB: -164 + 60 - 7.5 */
    assert_int_equal(lw_sx127x_rssi_x10(72, 30, true), -1640 + 768);
    assert_int_equal(lw_sx127x_rssi_x10(60, (uint8_t)-30, true), -1640 + 600 - 75);
    assert_int_equal(lw_sx127x_rssi_x10(60, 0, false), -1570 + 640);
}

/* ---- probe and init --------------------------------------------------------------------- */

static void test_init_registers(void **state)
{
    struct fx f;
    (void)state;
    fx_setup(&f, "");
    /* LoRa, LF page (470.3 MHz < 525 MHz), continuous RX */
    assert_int_equal(reg(&f, LW_SX127X_REG_OPMODE), 0x8D);
    assert_int_equal(reg(&f, LW_SX127X_REG_FRFMSB), 0x75);
    assert_int_equal(reg(&f, LW_SX127X_REG_FRFMID), 0x93);
    assert_int_equal(reg(&f, LW_SX127X_REG_FRFLSB), 0x33);
    assert_int_equal(reg(&f, LW_SX127X_REG_MODEMCONFIG1), 0x72); /* BW125, CR4/5, explicit */
    assert_int_equal(reg(&f, LW_SX127X_REG_MODEMCONFIG2), 0x94); /* SF9, CRC on */
    assert_int_equal(reg(&f, LW_SX127X_REG_MODEMCONFIG3), 0x04); /* AGC, no LDRO at SF9 */
    assert_int_equal(reg(&f, LW_SX127X_REG_PACONFIG), 0x80 | 0x70 | (14 - 2));
    assert_int_equal(reg(&f, LW_SX127X_REG_PADAC), 0x84);
    assert_int_equal(reg(&f, LW_SX127X_REG_SYNCWORD), 0x12);
    assert_int_equal(reg(&f, LW_SX127X_REG_PREAMBLEMSB), 0);
    assert_int_equal(reg(&f, LW_SX127X_REG_PREAMBLELSB), 8);
    assert_int_equal(reg(&f, LW_SX127X_REG_DIOMAPPING1) & LW_SX127X_DIO0_MASK,
                     LW_SX127X_DIO0_RXDONE);
    assert_int_equal(reg(&f, LW_SX127X_REG_LNA), 0x20); /* no HF boost on the LF port */
    assert_int_equal(reg(&f, LW_SX127X_REG_INVERTIQ), LW_SX127X_INVERTIQ_RESET);
    uint8_t mask = reg(&f, LW_SX127X_REG_IRQFLAGSMASK);
    assert_int_equal(mask & (LW_SX127X_IRQ_RXDONE | LW_SX127X_IRQ_TXDONE |
                             LW_SX127X_IRQ_PAYLOADCRCERROR | LW_SX127X_IRQ_CADDONE),
                     0);
    assert_int_equal(f.hw->xfers_without_cs, 0); /* every transfer framed by NSS on GPIO 25 */
    fx_teardown(&f);
}

static void test_init_options(void **state)
{
    struct fx f;
    (void)state;
    /* Larger frames at SF11/SF12 break both regions' airtime rules, so low data rate
     * optimisation is only reachable through lw_sx127x_ldro (tested above). */
    fx_setup(&f, "spreading_factor = 10\nbandwidth_hz = 250000\ncoding_rate = 8\n"
                 "sync_word = 0x2B\npreamble = 12\ntx_power_dbm = 27\n");
    assert_int_equal(reg(&f, LW_SX127X_REG_MODEMCONFIG1), 0x88); /* BW250, CR4/8 */
    assert_int_equal(reg(&f, LW_SX127X_REG_MODEMCONFIG2), 0xA4);
    assert_int_equal(reg(&f, LW_SX127X_REG_MODEMCONFIG3), 0x04);
    assert_int_equal(reg(&f, LW_SX127X_REG_SYNCWORD), 0x2B);
    assert_int_equal(reg(&f, LW_SX127X_REG_PREAMBLELSB), 12);
    /* 27 dBm capped to CN470's 17 dBm: PA_BOOST OutputPower 15 */
    assert_int_equal(reg(&f, LW_SX127X_REG_PACONFIG), 0xFF);
    fx_teardown(&f);
}

static void test_hf_band(void **state)
{
    struct fx f;
    (void)state;
    fx_setup(&f, "region = EU868\n");
    assert_int_equal(reg(&f, LW_SX127X_REG_OPMODE), 0x85); /* HF page */
    assert_int_equal(reg(&f, LW_SX127X_REG_FRFMSB), 0xD9);
    assert_int_equal(reg(&f, LW_SX127X_REG_LNA), 0x23); /* HF LNA boost */
    uint8_t data[] = {1, 2, 3};
    struct emu_frame fr = frame(data, 3);
    fr.rssi_x10 = -1000;
    fr.snr_x10 = 50;
    assert_true(emu_hw_inject(f.hw, &fr));
    struct lw_radio_rx rx;
    assert_int_equal(lw_radio_sx127x_ops.read(f.radio, &rx), LW_OK);
    assert_in_range(rx.rssi_x10, -1010, -990); /* offset -157 on the HF port */
    assert_int_equal(rx.freq_hz, 868100000);
    fx_teardown(&f);
}

/* ---- reception -------------------------------------------------------------------------- */

static void test_receive(void **state)
{
    struct fx f;
    struct lw_radio_rx rx;
    uint8_t data[40];
    (void)state;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 1);
    fx_setup(&f, "");
    int fd = lw_radio_sx127x_ops.fd(f.radio);
    assert_false(readable(fd));
    assert_int_equal(lw_radio_sx127x_ops.read(f.radio, &rx), LW_ERR_AGAIN);
    struct emu_frame fr = frame(data, sizeof(data));
    assert_true(emu_hw_inject(f.hw, &fr));
    assert_true(readable(fd)); /* DIO0 rose: the loop wakes up */
    assert_int_equal(lw_radio_sx127x_ops.read(f.radio, &rx), LW_OK);
    assert_int_equal(rx.len, sizeof(data));
    assert_memory_equal(rx.buf, data, sizeof(data));
    assert_in_range(rx.rssi_x10, -880, -860);
    assert_int_equal(rx.snr_x10, 75);
    assert_int_equal(rx.sf, 9);
    assert_int_equal(rx.bw_hz, 125000);
    assert_int_equal(rx.freq_hz, 470300000);
    assert_true(rx.mono_ms > 0);
    assert_int_equal(lw_radio_sx127x_ops.read(f.radio, &rx), LW_ERR_AGAIN);
    assert_false(readable(fd));
    assert_int_equal(reg(&f, LW_SX127X_REG_IRQFLAGS), 0); /* cleared by writing 1s */
    /* Negative SNR goes into the RSSI formula too. */
    fr.rssi_x10 = -1250;
    fr.snr_x10 = -100;
    assert_true(emu_hw_inject(f.hw, &fr));
    assert_int_equal(lw_radio_sx127x_ops.read(f.radio, &rx), LW_OK);
    assert_int_equal(rx.snr_x10, -100);
    assert_in_range(rx.rssi_x10, -1260, -1240);
    struct lw_radio_stats st;
    lw_radio_sx127x_ops.stats(f.radio, &st);
    assert_int_equal(st.rx_frames, 2);
    assert_int_equal(st.rx_malformed, 0);
    fx_teardown(&f);
}

static void test_receive_many_wraps_fifo(void **state)
{
    struct fx f;
    struct lw_radio_rx rx;
    uint8_t data[200];
    (void)state;
    fx_setup(&f, "");
    /* 200-byte frames: the RX pointer runs round the 256-byte FIFO. */
    for (int n = 0; n < 6; n++) {
        memset(data, n + 1, sizeof(data));
        data[0] = (uint8_t)n;
        struct emu_frame fr = frame(data, sizeof(data));
        assert_true(emu_hw_inject(f.hw, &fr));
        assert_int_equal(lw_radio_sx127x_ops.read(f.radio, &rx), LW_OK);
        assert_int_equal(rx.len, sizeof(data));
        assert_memory_equal(rx.buf, data, sizeof(data));
    }
    /* A frame of the wrong spreading factor is not demodulated at all. */
    struct emu_frame other = frame(data, 10);
    other.sf = 7;
    assert_false(emu_hw_inject(f.hw, &other));
    assert_int_equal(lw_radio_sx127x_ops.read(f.radio, &rx), LW_ERR_AGAIN);
    fx_teardown(&f);
}

static void test_crc_error(void **state)
{
    struct fx f;
    struct lw_radio_rx rx;
    uint8_t data[] = {0xDE, 0xAD, 0xBE, 0xEF};
    (void)state;
    fx_setup(&f, "");
    struct emu_frame fr = frame(data, sizeof(data));
    fr.crc_ok = false;
    assert_true(emu_hw_inject(f.hw, &fr));
    assert_int_equal(lw_radio_sx127x_ops.read(f.radio, &rx), LW_ERR_AGAIN);
    /* A header without a payload CRC: never checked, never accepted. */
    fr.crc_ok = true;
    fr.has_crc = false;
    assert_true(emu_hw_inject(f.hw, &fr));
    assert_int_equal(lw_radio_sx127x_ops.read(f.radio, &rx), LW_ERR_AGAIN);
    struct lw_radio_stats st;
    lw_radio_sx127x_ops.stats(f.radio, &st);
    assert_int_equal(st.rx_frames, 0);
    assert_int_equal(st.rx_crc_errors, 2);
    assert_int_equal(st.rx_malformed, 2);
    assert_int_equal(reg(&f, LW_SX127X_REG_IRQFLAGS), 0);
    /* The next good frame still comes through. */
    fr.has_crc = true;
    assert_true(emu_hw_inject(f.hw, &fr));
    assert_int_equal(lw_radio_sx127x_ops.read(f.radio, &rx), LW_OK);
    assert_memory_equal(rx.buf, data, sizeof(data));
    fx_teardown(&f);
}

/* ---- transmission ----------------------------------------------------------------------- */

static void test_transmit(void **state)
{
    struct fx f;
    struct lw_radio_rx rx;
    uint8_t data[24], out[64];
    (void)state;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(0xA0 + i);
    fx_setup(&f, "");
    assert_int_equal(lw_radio_sx127x_ops.transmit(f.radio, data, sizeof(data)), LW_OK);
    assert_int_equal(reg(&f, LW_SX127X_REG_OPMODE), 0x8B); /* TX */
    assert_int_equal(reg(&f, LW_SX127X_REG_DIOMAPPING1) & LW_SX127X_DIO0_MASK,
                     LW_SX127X_DIO0_TXDONE);
    assert_int_equal(reg(&f, LW_SX127X_REG_PAYLOADLENGTH), sizeof(data));
    assert_int_equal(reg(&f, LW_SX127X_REG_INVERTIQ) & 0x41, 0); /* inverted IQ downlink */
    assert_int_equal(reg(&f, LW_SX127X_REG_INVERTIQ2), LW_SX127X_INVERTIQ2_ON);
    assert_int_equal(lw_radio_sx127x_ops.transmit(f.radio, data, 4), LW_ERR_AGAIN);
    /* 24 bytes at SF9/BW125 take about 200 ms: nothing before, TxDone after. */
    emu_hw_advance(f.hw, 100000);
    assert_false(readable(lw_radio_sx127x_ops.fd(f.radio)) && emu_hw_pending_edges(f.hw));
    emu_hw_advance(f.hw, 200000);
    assert_int_equal(emu_hw_pending_edges(f.hw), 1);
    assert_int_equal(lw_radio_sx127x_ops.read(f.radio, &rx), LW_ERR_AGAIN);
    assert_int_equal(emu_sx127x_ops.take_tx(f.hw->chip, out, sizeof(out)), sizeof(data));
    assert_memory_equal(out, data, sizeof(data));
    struct lw_radio_stats st;
    lw_radio_sx127x_ops.stats(f.radio, &st);
    assert_int_equal(st.tx_frames, 1);
    /* Listening again, with normal IQ and RxDone on DIO0. */
    assert_int_equal(reg(&f, LW_SX127X_REG_OPMODE), 0x8D);
    assert_int_equal(reg(&f, LW_SX127X_REG_INVERTIQ), LW_SX127X_INVERTIQ_RESET);
    assert_int_equal(reg(&f, LW_SX127X_REG_DIOMAPPING1) & LW_SX127X_DIO0_MASK,
                     LW_SX127X_DIO0_RXDONE);
    struct emu_frame fr = frame(data, 5);
    assert_true(emu_hw_inject(f.hw, &fr));
    assert_int_equal(lw_radio_sx127x_ops.read(f.radio, &rx), LW_OK);
    assert_int_equal(lw_radio_sx127x_ops.transmit(f.radio, data, 0), LW_ERR_TOOBIG);
    fx_teardown(&f);
}

static void test_cad(void **state)
{
    struct fx f;
    (void)state;
    fx_setup(&f, "");
    assert_int_equal(lw_radio_sx127x_ops.cad(f.radio), 0);
    assert_int_equal(reg(&f, LW_SX127X_REG_OPMODE), 0x8D);
    emu_sx127x_ops.activity(f.hw->chip, true);
    assert_int_equal(lw_radio_sx127x_ops.cad(f.radio), 1);
    assert_int_equal(reg(&f, LW_SX127X_REG_OPMODE), 0x8D);
    assert_int_equal(reg(&f, LW_SX127X_REG_DIOMAPPING1) & LW_SX127X_DIO0_MASK,
                     LW_SX127X_DIO0_RXDONE);
    assert_int_equal(reg(&f, LW_SX127X_REG_IRQFLAGS), 0);
    fx_teardown(&f);
}

/* ---- failures --------------------------------------------------------------------------- */

static void test_chip_missing(void **state)
{
    static const enum emu_fault faults[] = {EMU_MISSING, EMU_MISSING_FF};
    (void)state;
    for (int i = 0; i < 2; i++) {
        struct fx f = {0};
        f.hw = emu_hw_new(&emu_sx127x_ops, &dragino);
        emu_sx127x_ops.fault(f.hw->chip, faults[i]);
        assert_int_equal(open_radio(&f, ""), LW_ERR_NOTFOUND);
        assert_null(f.radio);
        assert_false(f.hw->spi_open); /* everything released again */
        assert_false(f.hw->gpio_open);
        fx_teardown(&f);
    }
    /* An SX1272 answers 0x22: not ours. */
    struct fx f = {0};
    f.hw = emu_hw_new(&emu_sx127x_ops, &dragino);
    emu_sx127x_set_version(f.hw->chip, 0x22);
    assert_int_equal(open_radio(&f, ""), LW_ERR_NOTFOUND);
    fx_teardown(&f);
}

static void test_spi_errors(void **state)
{
    struct fx f = {0};
    (void)state;
    f.hw = emu_hw_new(&emu_sx127x_ops, &dragino);
    f.hw->spi_fail = true;
    assert_int_equal(open_radio(&f, ""), LW_ERR_IO);
    fx_teardown(&f);

    f.hw = emu_hw_new(&emu_sx127x_ops, &dragino);
    f.hw->spi_missing = true;
    assert_int_equal(open_radio(&f, ""), LW_ERR_NOTFOUND);
    fx_teardown(&f);

    /* Failing in the middle of work: no frame, no crash, and the watchdog takes over. */
    fx_setup(&f, "");
    uint8_t data[] = {1, 2, 3};
    struct emu_frame fr = frame(data, 3);
    assert_true(emu_hw_inject(f.hw, &fr));
    f.hw->spi_fail = true;
    struct lw_radio_rx rx;
    assert_int_equal(lw_radio_sx127x_ops.read(f.radio, &rx), LW_ERR_AGAIN);
    assert_int_equal(lw_radio_sx127x_ops.transmit(f.radio, data, 3), LW_ERR_IO);
    assert_true(lw_radio_sx127x_ops.cad(f.radio) < 0);
    f.hw->spi_fail = false;
    emu_hw_advance(f.hw, 1000);
    assert_int_equal(lw_radio_sx127x_ops.read(f.radio, &rx), LW_OK); /* still pending */
    assert_memory_equal(rx.buf, data, 3);
    fx_teardown(&f);
}

static void test_linux_spidev_errors(void **state)
{
    void *ctx = NULL;
    (void)state;
    assert_int_equal(lw_spi_linux_ops.open("/dev/spidev-lorawatch-none", 1000000, &ctx),
                     LW_ERR_NOTFOUND);
    /* Not an SPI device: the mode ioctl fails (ENOTTY). */
    assert_int_equal(lw_spi_linux_ops.open("/dev/null", 1000000, &ctx), LW_ERR_IO);
    assert_int_equal(lw_gpio_linux_ops.open("gpiochip-lorawatch-none", "t", &ctx), LW_ERR_NOTFOUND);
}

static void test_pin_in_use(void **state)
{
    struct fx f = {0};
    (void)state;
    f.hw = emu_hw_new(&emu_sx127x_ops, &dragino);
    f.hw->pin_in_use = 25;
    assert_int_equal(open_radio(&f, ""), LW_ERR_STATE);
    assert_false(f.hw->spi_open);
    fx_teardown(&f);
    /* Overriding a board pin moves the chip-select elsewhere. */
    struct lw_chip_pins moved = dragino;
    moved.cs = 8;
    f.hw = emu_hw_new(&emu_sx127x_ops, &moved);
    f.hw->pin_in_use = 25;
    assert_int_equal(open_radio(&f, "pin_cs = 8\n"), LW_OK);
    fx_teardown(&f);
}

/* ---- presets and region rules ---------------------------------------------------------- */

struct errs {
    char text[2048];
};

static void collect(void *arg, const char *msg)
{
    struct errs *e = arg;
    strncat(e->text, msg, sizeof(e->text) - strlen(e->text) - 2);
    strcat(e->text, "\n");
}

/* Parse text; NULL and the messages in e when refused. */
static struct lw_config *parse(struct errs *e, const char *text)
{
    e->text[0] = '\0';
    return lw_config_parse("t.conf", text, strlen(text), collect, e);
}

static void test_presets_and_regions(void **state)
{
    struct errs e;
    struct lw_radio_settings s;
    char why[200];
    (void)state;
    struct lw_config *cfg = parse(&e, "[radio]\nboard = waveshare-sx1262-hat\n");
    assert_non_null(cfg);
    assert_string_equal(cfg->radio_backend, "sx126x");
    assert_int_equal(lw_radio_settings_from_config(cfg, &s, why, sizeof(why)), LW_OK);
    assert_int_equal(s.pins.reset, 18);
    assert_int_equal(s.pins.busy, 20);
    assert_int_equal(s.pins.irq, 16);
    assert_int_equal(s.pins.cs, 21);
    assert_int_equal(s.tcxo_mv, 1800);
    assert_true(s.dio2_rf_switch);
    assert_true(s.lbt);
    lw_config_free(cfg);

    /* EU868: its own default channel, 16 dBm cap, SF10 fits the duty cycle, SF11 does not. */
    cfg = parse(&e, "[radio]\nboard = dragino-lora-gps-hat\nregion = EU868\ntx_power_dbm = 20\n"
                    "spreading_factor = 10\n");
    assert_non_null(cfg);
    assert_int_equal(cfg->frequency_hz, 868100000);
    assert_int_equal(lw_radio_settings_from_config(cfg, &s, why, sizeof(why)), LW_OK);
    assert_int_equal(s.power_dbm, 16);
    assert_true(s.power_capped);
    assert_false(s.lbt);
    lw_config_free(cfg);
    assert_null(parse(&e, "[radio]\nregion = EU868\nspreading_factor = 11\n"));
    assert_non_null(strstr(e.text, "t.conf:3: [radio] spreading_factor = 11: a 52-byte frame: on "
                                   "air"));
    assert_non_null(strstr(e.text, "EU868 duty cycle of 1.0 %"));
    assert_null(parse(&e, "[radio]\nregion = EU868\nfrequency_hz = 470300000\n"));
    assert_non_null(strstr(e.text, "t.conf:3: [radio] frequency_hz = 470300000: outside the "
                                   "EU868 band"));
    /* A chip backend is held to the region's band even when the region is the default. */
    assert_null(parse(&e, "[radio]\nboard = dragino-lora-gps-hat\nfrequency_hz = 868100000\n"));
    assert_non_null(strstr(e.text, "outside the CN470 band"));
    assert_null(parse(&e, "[radio]\nboard = rak2245\n"));
    assert_non_null(strstr(e.text, "t.conf:2: [radio] board = rak2245: must be one of: "
                                   "dragino-lora-gps-hat, waveshare-sx1262-hat, sx1302-forwarder"));
    assert_null(parse(&e, "[radio]\nboard = dragino-lora-gps-hat\nbackend = udp-forwarder\n"));
    assert_non_null(strstr(e.text, "board dragino-lora-gps-hat needs backend sx127x"));
    assert_null(parse(&e, "[radio]\nbackend = sx127x\npin_reset = 17\n"));
    assert_non_null(strstr(e.text, "t.conf:2: [radio] pin_dio0: backend sx127x needs it"));
    assert_null(parse(&e, "[radio]\nboard = dragino-lora-gps-hat\npin_cs = GPIO25\n"));
    assert_non_null(strstr(e.text, "t.conf:3: [radio] pin_cs = GPIO25: must be a GPIO line"));
    assert_null(parse(&e, "[radio]\nbackend = sx127x\npin_dio0 = none\npin_reset = 1\n"));
    assert_null(parse(&e, "[radio]\nboard = waveshare-sx1262-hat\ntcxo_voltage = 5\n"));
    assert_non_null(strstr(e.text, "tcxo_voltage = 5: must be volts from 1.6 to 3.3"));
    /* Hand-wired: no board, every pin given. */
    cfg = parse(&e, "[radio]\nbackend = sx127x\npin_dio0 = 27\npin_reset = 22\npin_cs = none\n"
                    "spi_device = /dev/spidev0.1\n");
    assert_non_null(cfg);
    assert_int_equal(lw_radio_settings_from_config(cfg, &s, why, sizeof(why)), LW_OK);
    assert_int_equal(s.pins.cs, -1);
    assert_int_equal(s.pins.irq, 27);
    assert_string_equal(s.spi_device, "/dev/spidev0.1");
    lw_config_free(cfg);
}

int main(void)
{
    lw_log_init("test_sx127x", getenv("LW_TEST_LOG") ? LW_LOG_DEBUG : 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conversions),  cmocka_unit_test(test_init_registers),
        cmocka_unit_test(test_init_options), cmocka_unit_test(test_hf_band),
        cmocka_unit_test(test_receive),      cmocka_unit_test(test_receive_many_wraps_fifo),
        cmocka_unit_test(test_crc_error),    cmocka_unit_test(test_transmit),
        cmocka_unit_test(test_cad),          cmocka_unit_test(test_chip_missing),
        cmocka_unit_test(test_spi_errors),   cmocka_unit_test(test_linux_spidev_errors),
        cmocka_unit_test(test_pin_in_use),   cmocka_unit_test(test_presets_and_regions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
