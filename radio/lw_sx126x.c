/* SPDX-License-Identifier: Apache-2.0 */
/* SX1262 driver: BUSY handshake, probe by status and sync-word reset values, TCXO and RF switch
 * options, LoRa set-up, continuous RX with RxDone/CrcErr on DIO1, TX with TxDone, CAD. */
#include "lw_sx126x.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_airtime.h"
#include "lw_error.h"
#include "lw_radio_drv.h"
#include "lw_sx126x_regs.h"

uint32_t lw_sx126x_rf_freq(uint32_t freq_hz)
{
    return (uint32_t)((((uint64_t)freq_hz << LW_SX126X_FREQ_SHIFT) + LW_SX126X_XTAL_HZ / 2) /
                      LW_SX126X_XTAL_HZ);
}

int lw_sx126x_bw_code(uint32_t bw_hz)
{
    switch (bw_hz) {
    case 125000:
        return LW_SX126X_BW_125;
    case 250000:
        return LW_SX126X_BW_250;
    case 500000:
        return LW_SX126X_BW_500;
    default:
        return -1;
    }
}

uint8_t lw_sx126x_tcxo_code(uint16_t mv)
{
    static const uint16_t levels[] = {1600, 1700, 1800, 2200, 2400, 2700, 3000, 3300};
    uint8_t code = 0;
    for (uint8_t i = 0; i < 8; i++)
        if (mv >= levels[i])
            code = i;
    return code;
}

void lw_sx126x_sync_regs(uint8_t sync_word, uint8_t out[2])
{
    out[0] = (uint8_t)((sync_word & 0xF0) | 0x04);
    out[1] = (uint8_t)(((sync_word & 0x0F) << 4) | 0x04);
}

void lw_sx126x_image_cal(uint32_t freq_hz, uint8_t out[2])
{
    static const struct {
        uint32_t above_hz;
        uint8_t f1, f2;
    } bands[] = {{902000000, 0xE1, 0xE9},
                 {863000000, 0xD7, 0xDB},
                 {779000000, 0xC1, 0xC5},
                 {470000000, 0x75, 0x81},
                 {0, 0x6B, 0x6F}};
    for (size_t i = 0; i < sizeof(bands) / sizeof(bands[0]); i++)
        if (freq_hz >= bands[i].above_hz) {
            out[0] = bands[i].f1;
            out[1] = bands[i].f2;
            return;
        }
}

struct sx126x {
    const struct lw_radio_bus *bus;
    struct lw_chip_params s;
    bool tx_busy;
    uint8_t status;    /* last status byte */
    bool busy_timeout; /* the last failure was BUSY staying high, not the SPI transfer */
    uint8_t iq_reg;    /* REG_IQ_POLARITY as read at init */
    char version[17];
};

/* ---- command layer ---------------------------------------------------------------------- */

static int wait_busy(struct sx126x *c)
{
    uint64_t start = lw_radio_bus_now_us(c->bus);
    for (;;) {
        int b = lw_radio_bus_busy(c->bus);
        if (b < 0)
            return b;
        if (b == 0)
            return LW_OK;
        if (lw_radio_bus_now_us(c->bus) - start > LW_SX126X_BUSY_TIMEOUT_US) {
            c->busy_timeout = true;
            LW_RADIO_LOG_RL(c->bus, LW_RADIO_LOG_ERR, "radio sx126x: BUSY stays high for %u ms",
                            LW_SX126X_BUSY_TIMEOUT_US / 1000);
            return LW_ERR_IO;
        }
        lw_radio_bus_delay_us(c->bus, 50);
    }
}

/* One transaction after the BUSY handshake; checks the command status of the status byte. */
static int xfer(struct sx126x *c, const uint8_t *tx, uint8_t *rx, size_t len)
{
    uint8_t tmp[LW_RADIO_MAX_XFER];
    c->busy_timeout = false;
    int rc = wait_busy(c);
    if (rc != LW_OK)
        return rc;
    if (!rx)
        rx = tmp;
    memset(rx, 0, len);
    if ((rc = lw_radio_bus_xfer(c->bus, tx, rx, len)) != LW_OK)
        return rc;
    if (len > 1) {
        c->status = rx[1];
        unsigned cs = (rx[1] & LW_SX126X_STATUS_CMD_MASK) >> LW_SX126X_STATUS_CMD_SHIFT;
        if (rx[1] != 0xFF &&
            (cs == LW_SX126X_CMD_PROCESSING_ERR || cs == LW_SX126X_CMD_EXEC_FAILURE)) {
            LW_RADIO_LOG_RL(c->bus, LW_RADIO_LOG_ERR,
                            "radio sx126x: command 0x%02X refused (status 0x%02X)", tx[0], rx[1]);
            return LW_ERR_IO;
        }
    }
    return LW_OK;
}

static int cmd(struct sx126x *c, uint8_t op, const uint8_t *p, size_t n)
{
    uint8_t tx[16];
    tx[0] = op;
    if (n)
        memcpy(tx + 1, p, n);
    return xfer(c, tx, NULL, n + 1);
}

#define CMD(c, op, ...)                                                                            \
    cmd((c), (op), (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

/* A Get command: opcode, NOP (status), then n bytes of data. */
static int get(struct sx126x *c, uint8_t op, uint8_t *out, size_t n)
{
    uint8_t tx[16] = {op}, rx[16];
    int rc = xfer(c, tx, rx, n + 2);
    memcpy(out, rx + 2, n);
    return rc;
}

static int read_regs(struct sx126x *c, uint16_t addr, uint8_t *out, size_t n)
{
    uint8_t tx[LW_RADIO_MAX_XFER] = {LW_SX126X_CMD_READ_REGISTER, (uint8_t)(addr >> 8),
                                     (uint8_t)addr},
            rx[LW_RADIO_MAX_XFER];
    int rc = xfer(c, tx, rx, n + 4);
    memcpy(out, rx + 4, n);
    return rc;
}

static int write_reg(struct sx126x *c, uint16_t addr, uint8_t v)
{
    return CMD(c, LW_SX126X_CMD_WRITE_REGISTER, (uint8_t)(addr >> 8), (uint8_t)addr, v);
}

static int get_status(struct sx126x *c, uint8_t *status)
{
    /* GetStatus: the status comes back in the second byte, clocked by a NOP. */
    uint8_t tx[2] = {LW_SX126X_CMD_GET_STATUS, 0}, rx[2];
    int rc = xfer(c, tx, rx, 2);
    *status = rx[1];
    return rc;
}

static int packet_params(struct sx126x *c, uint8_t len, bool inverted)
{
    int rc = CMD(c, LW_SX126X_CMD_SET_PACKET_PARAMS, (uint8_t)(c->s.preamble >> 8),
                 (uint8_t)c->s.preamble, LW_SX126X_HEADER_EXPLICIT, len, LW_SX126X_CRC_ON,
                 inverted ? LW_SX126X_IQ_INVERTED : LW_SX126X_IQ_STANDARD);
    if (rc != LW_OK)
        return rc;
    /* Datasheet 15.4: the IQ polarity register must follow the IQ setting or inverted-IQ
     * packets are lost. */
    uint8_t iq = inverted ? (uint8_t)(c->iq_reg & ~LW_SX126X_IQ_POLARITY_BIT)
                          : (uint8_t)(c->iq_reg | LW_SX126X_IQ_POLARITY_BIT);
    return write_reg(c, LW_SX126X_REG_IQ_POLARITY, iq);
}

static int start_rx(struct sx126x *c)
{
    int rc = packet_params(c, 0xFF, false);
    if (rc != LW_OK)
        return rc;
    return CMD(c, LW_SX126X_CMD_SET_RX, 0xFF, 0xFF, 0xFF);
}

/* ---- driver table ----------------------------------------------------------------------- */

static int sx_create(const struct lw_radio_bus *bus, const struct lw_chip_params *s, void **drv)
{
    if (lw_sx126x_bw_code(s->bw_hz) < 0 || s->sf < 5 || s->sf > 12 || s->cr < 5 || s->cr > 8)
        return LW_ERR_CONFIG;
    if (!bus->has_busy) {
        LW_RADIO_LOG(bus, LW_RADIO_LOG_ERR, "radio sx126x: the BUSY line is required");
        return LW_ERR_CONFIG;
    }
    struct sx126x *c = calloc(1, sizeof(*c));
    if (!c)
        return LW_ERR_NOMEM;
    c->bus = bus;
    c->s = *s;
    *drv = c;
    return LW_OK;
}

static void sx_destroy(void *drv)
{
    struct sx126x *c = drv;
    CMD(c, LW_SX126X_CMD_SET_STANDBY, LW_SX126X_STANDBY_RC);
    free(c);
}

static int sx_init(void *drv, char *desc, size_t cap)
{
    struct sx126x *c = drv;
    const struct lw_chip_params *s = &c->s;
    uint8_t st, sync[2], buf[16];
    int rc;
    c->tx_busy = false;
    if ((rc = lw_radio_bus_reset(c->bus, LW_SX126X_RESET_LOW_US, LW_SX126X_RESET_WAIT_US)) != LW_OK)
        return rc;
    if ((rc = get_status(c, &st)) != LW_OK) {
        if (!c->busy_timeout)
            return rc;
        LW_RADIO_LOG(c->bus, LW_RADIO_LOG_ERR,
                     "radio sx126x: no chip answers on %s (BUSY never went low)", c->bus->where);
        return LW_ERR_NOTFOUND;
    }
    unsigned mode = (st & LW_SX126X_STATUS_MODE_MASK) >> LW_SX126X_STATUS_MODE_SHIFT;
    if (st == 0x00 || st == 0xFF || mode != LW_SX126X_MODE_STDBY_RC) {
        LW_RADIO_LOG(c->bus, LW_RADIO_LOG_ERR,
                     "radio sx126x: no SX126x answers on %s (status 0x%02X after reset, expected "
                     "STDBY_RC): check the HAT, the SPI device and the CS, RESET and BUSY pins",
                     c->bus->where, st);
        return LW_ERR_NOTFOUND;
    }
    if ((rc = read_regs(c, LW_SX126X_REG_SYNC_WORD_MSB, sync, 2)) != LW_OK)
        return rc;
    if (sync[0] != LW_SX126X_SYNC_WORD_MSB_RESET || sync[1] != LW_SX126X_SYNC_WORD_LSB_RESET) {
        LW_RADIO_LOG(
            c->bus, LW_RADIO_LOG_ERR,
            "radio sx126x: sync word registers read 0x%02X%02X after reset, not 0x%02X%02X: "
            "not an SX126x",
            sync[0], sync[1], LW_SX126X_SYNC_WORD_MSB_RESET, LW_SX126X_SYNC_WORD_LSB_RESET);
        return LW_ERR_NOTFOUND;
    }
    if ((rc = read_regs(c, LW_SX126X_REG_VERSION_STRING, buf, 16)) != LW_OK ||
        (rc = read_regs(c, LW_SX126X_REG_IQ_POLARITY, &c->iq_reg, 1)) != LW_OK)
        return rc;
    for (int i = 0; i < 16; i++)
        c->version[i] = isprint(buf[i]) ? (char)buf[i] : buf[i] ? '?' : '\0';
    c->version[16] = '\0';

    uint32_t rf = lw_sx126x_rf_freq(s->freq_hz);
    uint8_t img[2], sw[2];
    lw_sx126x_image_cal(s->freq_hz, img);
    lw_sx126x_sync_regs(s->sync_word, sw);
    int power = s->power_dbm < LW_SX126X_POWER_MIN_DBM   ? LW_SX126X_POWER_MIN_DBM
                : s->power_dbm > LW_SX126X_POWER_MAX_DBM ? LW_SX126X_POWER_MAX_DBM
                                                         : s->power_dbm;
    bool ldro = ((uint64_t)1 << s->sf) * 1000u >= 16ull * s->bw_hz;
    uint16_t irqs = LW_SX126X_IRQ_TX_DONE | LW_SX126X_IRQ_RX_DONE | LW_SX126X_IRQ_CRC_ERR |
                    LW_SX126X_IRQ_HEADER_ERR | LW_SX126X_IRQ_CAD_DONE | LW_SX126X_IRQ_CAD_DETECTED |
                    LW_SX126X_IRQ_TIMEOUT;
    if ((rc = CMD(c, LW_SX126X_CMD_SET_STANDBY, LW_SX126X_STANDBY_RC)) != LW_OK)
        return rc;
    if (s->tcxo_mv &&
        (rc = CMD(c, LW_SX126X_CMD_SET_DIO3_AS_TCXO_CTRL, lw_sx126x_tcxo_code(s->tcxo_mv), 0,
                  (uint8_t)(LW_SX126X_TCXO_DELAY_STEPS >> 8),
                  (uint8_t)LW_SX126X_TCXO_DELAY_STEPS)) != LW_OK)
        return rc;
    /* Calibrate again once the TCXO runs: the reset calibration ran without it. */
    if ((rc = CMD(c, LW_SX126X_CMD_CALIBRATE, LW_SX126X_CALIBRATE_ALL)) != LW_OK ||
        (rc = CMD(c, LW_SX126X_CMD_SET_REGULATOR_MODE, LW_SX126X_REGULATOR_DCDC)) != LW_OK ||
        (s->dio2_rf_switch && (rc = CMD(c, LW_SX126X_CMD_SET_DIO2_AS_RF_SWITCH, 1)) != LW_OK) ||
        (rc = CMD(c, LW_SX126X_CMD_SET_PACKET_TYPE, LW_SX126X_PACKET_TYPE_LORA)) != LW_OK ||
        (rc = CMD(c, LW_SX126X_CMD_CALIBRATE_IMAGE, img[0], img[1])) != LW_OK ||
        (rc = CMD(c, LW_SX126X_CMD_SET_RF_FREQUENCY, (uint8_t)(rf >> 24), (uint8_t)(rf >> 16),
                  (uint8_t)(rf >> 8), (uint8_t)rf)) != LW_OK ||
        (rc = CMD(c, LW_SX126X_CMD_SET_PA_CONFIG, LW_SX126X_PA_DUTY_22DBM, LW_SX126X_PA_HPMAX_22DBM,
                  LW_SX126X_PA_DEVICE_SX1262, LW_SX126X_PA_LUT)) != LW_OK ||
        (rc = CMD(c, LW_SX126X_CMD_SET_TX_PARAMS, (uint8_t)(int8_t)power, LW_SX126X_RAMP_200US)) !=
            LW_OK ||
        (rc = CMD(c, LW_SX126X_CMD_SET_BUFFER_BASE_ADDR, LW_SX126X_TX_BASE, LW_SX126X_RX_BASE)) !=
            LW_OK ||
        (rc = CMD(c, LW_SX126X_CMD_SET_MODULATION_PARAMS, s->sf,
                  (uint8_t)lw_sx126x_bw_code(s->bw_hz), (uint8_t)(s->cr - 4), ldro ? 1 : 0)) !=
            LW_OK ||
        (rc = write_reg(c, LW_SX126X_REG_SYNC_WORD_MSB, sw[0])) != LW_OK ||
        (rc = write_reg(c, LW_SX126X_REG_SYNC_WORD_LSB, sw[1])) != LW_OK ||
        (rc = CMD(c, LW_SX126X_CMD_SET_DIO_IRQ_PARAMS, (uint8_t)(irqs >> 8), (uint8_t)irqs,
                  (uint8_t)(irqs >> 8), (uint8_t)irqs, 0, 0, 0, 0)) != LW_OK ||
        (rc = CMD(c, LW_SX126X_CMD_CLEAR_IRQ_STATUS, 0xFF, 0xFF)) != LW_OK ||
        (rc = start_rx(c)) != LW_OK)
        return rc;
    char why[120];
    if ((rc = lw_sx126x_driver.check(c, why, sizeof(why))) != LW_OK) {
        LW_RADIO_LOG(c->bus, LW_RADIO_LOG_ERR, "radio sx126x: configuration does not hold: %s",
                     rc == LW_ERR_STATE ? why : lw_strerror(rc));
        return LW_ERR_IO;
    }
    snprintf(desc, cap,
             "SX126x (\"%s\") on %s: %.3f MHz, SF%u BW%u CR4/%u, sync word 0x%02X, preamble %u, "
             "%d dBm, %s%s%s",
             c->version, c->bus->where, s->freq_hz / 1e6, s->sf, (unsigned)(s->bw_hz / 1000), s->cr,
             s->sync_word, s->preamble, power, s->tcxo_mv ? "TCXO on DIO3" : "crystal",
             s->dio2_rf_switch ? ", RF switch on DIO2" : "",
             ldro ? ", low data rate optimisation" : "");
    return LW_OK;
}

static int sx_check(void *drv, char *why, size_t cap)
{
    struct sx126x *c = drv;
    uint8_t st, type, sync[2], want_sync[2];
    int rc;
    if ((rc = get_status(c, &st)) != LW_OK)
        return rc;
    unsigned mode = (st & LW_SX126X_STATUS_MODE_MASK) >> LW_SX126X_STATUS_MODE_SHIFT;
    /* After TX the chip falls back to STDBY_RC until its TxDone is handled. */
    bool ok = c->tx_busy ? (mode == LW_SX126X_MODE_TX || mode == LW_SX126X_MODE_STDBY_RC)
                         : mode == LW_SX126X_MODE_RX;
    if (!ok) {
        snprintf(why, cap, "chip mode %u (status 0x%02X), expected %s", mode, st,
                 c->tx_busy ? "TX" : "RX (5)");
        return LW_ERR_STATE;
    }
    if ((rc = get(c, LW_SX126X_CMD_GET_PACKET_TYPE, &type, 1)) != LW_OK)
        return rc;
    if (type != LW_SX126X_PACKET_TYPE_LORA) {
        snprintf(why, cap, "packet type %u, expected LoRa (1)", type);
        return LW_ERR_STATE;
    }
    lw_sx126x_sync_regs(c->s.sync_word, want_sync);
    if ((rc = read_regs(c, LW_SX126X_REG_SYNC_WORD_MSB, sync, 2)) != LW_OK)
        return rc;
    if (memcmp(sync, want_sync, 2) != 0) {
        snprintf(why, cap, "sync word reads 0x%02X%02X, expected 0x%02X%02X", sync[0], sync[1],
                 want_sync[0], want_sync[1]);
        return LW_ERR_STATE;
    }
    return LW_OK;
}

static int sx_service(void *drv, unsigned *ev, struct lw_radio_rx *rx)
{
    struct sx126x *c = drv;
    uint8_t b[3];
    int rc = get(c, LW_SX126X_CMD_GET_IRQ_STATUS, b, 2);
    if (rc != LW_OK)
        return rc;
    uint16_t irq = (uint16_t)(b[0] << 8 | b[1]) & LW_SX126X_IRQ_ALL;
    if (!irq)
        return LW_ERR_AGAIN;
    *ev = 0;
    if (irq & LW_SX126X_IRQ_RX_DONE) {
        if (irq & (LW_SX126X_IRQ_CRC_ERR | LW_SX126X_IRQ_HEADER_ERR)) {
            *ev |= LW_CHIP_EV_RX_BAD;
        } else {
            uint8_t tx[LW_RADIO_MAX_XFER] = {LW_SX126X_CMD_READ_BUFFER}, data[LW_RADIO_MAX_XFER];
            if ((rc = get(c, LW_SX126X_CMD_GET_RX_BUFFER_STATUS, b, 2)) != LW_OK)
                return rc;
            uint8_t len = b[0];
            tx[1] = b[1];
            if ((rc = xfer(c, tx, data, (size_t)len + 3)) != LW_OK ||
                (rc = get(c, LW_SX126X_CMD_GET_PACKET_STATUS, b, 3)) != LW_OK)
                return rc;
            memcpy(rx->buf, data + 3, len);
            rx->len = len;
            rx->rssi_x10 = (int16_t)(-(int)b[0] * 10 / 2);
            rx->snr_x10 = (int16_t)((int8_t)b[1] * 10 / 4);
            rx->freq_hz = c->s.freq_hz;
            rx->sf = c->s.sf;
            rx->bw_hz = c->s.bw_hz;
            *ev |= len ? LW_CHIP_EV_RX : LW_CHIP_EV_RX_BAD;
        }
    }
    if (irq & LW_SX126X_IRQ_TX_DONE) {
        c->tx_busy = false;
        *ev |= LW_CHIP_EV_TX_DONE;
    }
    if ((rc = CMD(c, LW_SX126X_CMD_CLEAR_IRQ_STATUS, (uint8_t)(irq >> 8), (uint8_t)irq)) != LW_OK)
        return rc;
    if ((*ev & LW_CHIP_EV_TX_DONE) && (rc = start_rx(c)) != LW_OK)
        return rc;
    return LW_OK;
}

static int sx_transmit(void *drv, const uint8_t *buf, size_t len, uint32_t *airtime_us)
{
    struct sx126x *c = drv;
    if (c->tx_busy)
        return LW_ERR_AGAIN;
    if (len == 0 || len > 255)
        return LW_ERR_TOOBIG;
    uint8_t tx[LW_RADIO_MAX_XFER] = {LW_SX126X_CMD_WRITE_BUFFER, LW_SX126X_TX_BASE};
    memcpy(tx + 2, buf, len);
    int rc;
    /* Downlinks go out with inverted IQ, as the forwarder backend sends them. */
    if ((rc = CMD(c, LW_SX126X_CMD_SET_STANDBY, LW_SX126X_STANDBY_RC)) != LW_OK ||
        (rc = xfer(c, tx, NULL, len + 2)) != LW_OK ||
        (rc = packet_params(c, (uint8_t)len, true)) != LW_OK ||
        (rc = CMD(c, LW_SX126X_CMD_SET_TX, 0, 0, 0)) != LW_OK)
        return rc;
    c->tx_busy = true;
    struct lw_lora_params lp;
    lw_chip_params_lora(&c->s, &lp);
    *airtime_us = lw_airtime_us(&lp, len);
    return LW_OK;
}

/* For lw_chip_cad_wait: 1 activity, 0 quiet, LW_ERR_AGAIN while CAD runs. */
static int cad_flags(void *drv)
{
    struct sx126x *c = drv;
    uint8_t b[2];
    int rc = get(c, LW_SX126X_CMD_GET_IRQ_STATUS, b, 2);
    if (rc != LW_OK)
        return rc;
    uint16_t irq = (uint16_t)(b[0] << 8 | b[1]);
    if (!(irq & LW_SX126X_IRQ_CAD_DONE))
        return LW_ERR_AGAIN;
    return (irq & LW_SX126X_IRQ_CAD_DETECTED) ? 1 : 0;
}

static int sx_cad(void *drv)
{
    struct sx126x *c = drv;
    if (c->tx_busy)
        return 1;
    /* Detection peaks per spreading factor from Semtech's CAD application note (AN1200.48). */
    static const uint8_t peak[] = {22, 22, 22, 22, 22, 22, 22, 22, 24, 25, 26, 30};
    int rc;
    if ((rc = CMD(c, LW_SX126X_CMD_SET_STANDBY, LW_SX126X_STANDBY_RC)) != LW_OK ||
        (rc = CMD(c, LW_SX126X_CMD_CLEAR_IRQ_STATUS, 0x01, 0x80)) != LW_OK ||
        (rc = CMD(c, LW_SX126X_CMD_SET_CAD_PARAMS, LW_SX126X_CAD_ON_2_SYMB, peak[c->s.sf - 1],
                  LW_SX126X_CAD_DET_MIN, LW_SX126X_CAD_EXIT_STDBY, 0, 0, 0)) != LW_OK ||
        (rc = CMD(c, LW_SX126X_CMD_SET_CAD)) != LW_OK)
        return rc;
    /* Clear and listen again whatever CAD gave (after a bus fault this fails too). */
    int result = lw_chip_cad_wait(c->bus, &c->s, "sx126x", cad_flags, c);
    if ((rc = CMD(c, LW_SX126X_CMD_CLEAR_IRQ_STATUS, 0x01, 0x80)) != LW_OK ||
        (rc = start_rx(c)) != LW_OK)
        return rc;
    return result;
}

const struct lw_chip_driver lw_sx126x_driver = {
    .name = "sx126x",
    .create = sx_create,
    .destroy = sx_destroy,
    .init = sx_init,
    .check = sx_check,
    .service = sx_service,
    .transmit = sx_transmit,
    .cad = sx_cad,
};
