/* SPDX-License-Identifier: Apache-2.0 */
/* SX1276/77/78/79 driver: probe by RegVersion, LoRa mode through sleep, channel and modem set-up,
 * continuous RX with RxDone/CRC error on DIO0, TX with TxDone, CAD for listen before talk. */
#include "lw_sx127x.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_airtime.h"
#include "lw_error.h"
#include "lw_radio_drv.h"
#include "lw_sx127x_regs.h"

uint32_t lw_sx127x_frf(uint32_t freq_hz)
{
    return (uint32_t)((((uint64_t)freq_hz << LW_SX127X_FRF_SHIFT) + LW_SX127X_FXOSC_HZ / 2) /
                      LW_SX127X_FXOSC_HZ);
}

int lw_sx127x_bw_code(uint32_t bw_hz)
{
    switch (bw_hz) {
    case 125000:
        return LW_SX127X_BW_125KHZ;
    case 250000:
        return LW_SX127X_BW_250KHZ;
    case 500000:
        return LW_SX127X_BW_500KHZ;
    default:
        return -1;
    }
}

bool lw_sx127x_ldro(uint8_t sf, uint32_t bw_hz)
{
    /* T_sym = 2^SF / BW >= 16 ms  <=>  2^SF * 1000 >= 16 * BW */
    return bw_hz && ((uint64_t)1 << sf) * 1000u >= 16ull * bw_hz;
}

int16_t lw_sx127x_snr_x10(uint8_t pkt_snr)
{
    return (int16_t)((int8_t)pkt_snr * 10 / 4);
}

int16_t lw_sx127x_rssi_x10(uint8_t pkt_rssi, uint8_t pkt_snr, bool lf)
{
    int off = (lf ? LW_SX127X_RSSI_OFFSET_LF : LW_SX127X_RSSI_OFFSET_HF) * 10;
    int snr = (int8_t)pkt_snr;
    if (snr < 0)
        return (int16_t)(off + pkt_rssi * 10 + snr * 10 / 4);
    return (int16_t)(off + (pkt_rssi * 160 + 7) / 15);
}

struct sx127x {
    const struct lw_radio_bus *bus;
    struct lw_chip_params s;
    bool lf;        /* LF port: below 525 MHz */
    uint8_t opmode; /* LongRange | LowFrequency, without the mode bits */
    uint8_t version;
    bool tx_busy;
    /* Registers written at init, read back by check(). */
    struct {
        uint8_t addr, value;
    } expect[16];
    int n_expect;
};

/* ---- register access -------------------------------------------------------------------- */

static int wr(struct sx127x *c, uint8_t addr, uint8_t v)
{
    uint8_t tx[2] = {(uint8_t)(addr | LW_SX127X_SPI_WRITE), v};
    return lw_radio_bus_xfer(c->bus, tx, NULL, 2);
}

static int rd(struct sx127x *c, uint8_t addr, uint8_t *v)
{
    uint8_t tx[2] = {(uint8_t)(addr & LW_SX127X_ADDR_MASK), 0}, rx[2] = {0, 0};
    int rc = lw_radio_bus_xfer(c->bus, tx, rx, 2);
    *v = rx[1];
    return rc;
}

static int fifo_read(struct sx127x *c, uint8_t *out, size_t len)
{
    uint8_t tx[LW_RADIO_MAX_XFER] = {LW_SX127X_REG_FIFO}, rx[LW_RADIO_MAX_XFER];
    int rc = lw_radio_bus_xfer(c->bus, tx, rx, len + 1);
    memcpy(out, rx + 1, len);
    return rc;
}

static int fifo_write(struct sx127x *c, const uint8_t *in, size_t len)
{
    uint8_t tx[LW_RADIO_MAX_XFER];
    tx[0] = LW_SX127X_REG_FIFO | LW_SX127X_SPI_WRITE;
    memcpy(tx + 1, in, len);
    return lw_radio_bus_xfer(c->bus, tx, NULL, len + 1);
}

/* Write a configuration register and remember it for the watchdog's read-back. */
static int wr_keep(struct sx127x *c, uint8_t addr, uint8_t v)
{
    if (c->n_expect < (int)(sizeof(c->expect) / sizeof(c->expect[0]))) {
        c->expect[c->n_expect].addr = addr;
        c->expect[c->n_expect].value = v;
        c->n_expect++;
    }
    return wr(c, addr, v);
}

static int set_mode(struct sx127x *c, uint8_t mode)
{
    return wr(c, LW_SX127X_REG_OPMODE, (uint8_t)(c->opmode | mode));
}

/* Back to listening: normal IQ, RxDone on DIO0, continuous RX. */
static int start_rx(struct sx127x *c)
{
    int rc;
    if ((rc = set_mode(c, LW_SX127X_MODE_STDBY)) != LW_OK ||
        (rc = wr(c, LW_SX127X_REG_INVERTIQ, LW_SX127X_INVERTIQ_RESET)) != LW_OK ||
        (rc = wr(c, LW_SX127X_REG_INVERTIQ2, LW_SX127X_INVERTIQ2_OFF)) != LW_OK ||
        (rc = wr(c, LW_SX127X_REG_DIOMAPPING1, LW_SX127X_DIO0_RXDONE)) != LW_OK ||
        (rc = set_mode(c, LW_SX127X_MODE_RXCONTINUOUS)) != LW_OK)
        return rc;
    return LW_OK;
}

/* ---- driver table ----------------------------------------------------------------------- */

static int sx_create(const struct lw_radio_bus *bus, const struct lw_chip_params *s, void **drv)
{
    if (lw_sx127x_bw_code(s->bw_hz) < 0 || s->sf < 6 || s->sf > 12 || s->cr < 5 || s->cr > 8)
        return LW_ERR_CONFIG;
    struct sx127x *c = calloc(1, sizeof(*c));
    if (!c)
        return LW_ERR_NOMEM;
    c->bus = bus;
    c->s = *s;
    c->lf = s->freq_hz < LW_SX127X_LF_LIMIT_HZ;
    *drv = c;
    return LW_OK;
}

static void sx_destroy(void *drv)
{
    struct sx127x *c = drv;
    set_mode(c, LW_SX127X_MODE_SLEEP); /* quiet until someone configures it again */
    free(c);
}

static int sx_init(void *drv, char *desc, size_t cap)
{
    struct sx127x *c = drv;
    const struct lw_chip_params *s = &c->s;
    uint8_t v;
    int rc;
    c->tx_busy = false;
    c->n_expect = 0;
    if ((rc = lw_radio_bus_reset(c->bus, LW_SX127X_RESET_LOW_US, LW_SX127X_RESET_WAIT_US)) != LW_OK)
        return rc;
    if ((rc = rd(c, LW_SX127X_REG_VERSION, &v)) != LW_OK)
        return rc;
    c->version = v;
    if (v == 0x00 || v == 0xFF) {
        LW_RADIO_LOG(c->bus, LW_RADIO_LOG_ERR,
                     "radio sx127x: no chip answers on %s (RegVersion reads 0x%02X): check the HAT "
                     "is seated, the SPI device and the chip-select and reset pins",
                     c->bus->where, v);
        return LW_ERR_NOTFOUND;
    }
    if (v != LW_SX127X_VERSION_SX1276) {
        LW_RADIO_LOG(c->bus, LW_RADIO_LOG_ERR,
                     "radio sx127x: RegVersion 0x%02X on %s is not an SX1276/77/78/79 (0x12)%s", v,
                     c->bus->where, v == 0x22 ? "; 0x22 is an SX1272, not supported" : "");
        return LW_ERR_NOTFOUND;
    }
    /* LongRangeMode can only change in sleep: sleep in FSK first, then switch to LoRa. */
    c->opmode = (uint8_t)(LW_SX127X_OPMODE_LONGRANGE | (c->lf ? LW_SX127X_OPMODE_LOWFREQ : 0));
    if ((rc = wr(c, LW_SX127X_REG_OPMODE,
                 (uint8_t)((c->lf ? LW_SX127X_OPMODE_LOWFREQ : 0) | LW_SX127X_MODE_SLEEP))) !=
            LW_OK ||
        (rc = wr(c, LW_SX127X_REG_OPMODE, (uint8_t)(c->opmode | LW_SX127X_MODE_SLEEP))) != LW_OK ||
        (rc = rd(c, LW_SX127X_REG_OPMODE, &v)) != LW_OK)
        return rc;
    if (!(v & LW_SX127X_OPMODE_LONGRANGE)) {
        LW_RADIO_LOG(c->bus, LW_RADIO_LOG_ERR,
                     "radio sx127x: chip does not enter LoRa mode (RegOpMode 0x%02X)", v);
        return LW_ERR_IO;
    }
    uint32_t frf = lw_sx127x_frf(s->freq_hz);
    int power = s->power_dbm < LW_SX127X_PABOOST_MIN_DBM   ? LW_SX127X_PABOOST_MIN_DBM
                : s->power_dbm > LW_SX127X_PABOOST_MAX_DBM ? LW_SX127X_PABOOST_MAX_DBM
                                                           : s->power_dbm;
    bool ldro = lw_sx127x_ldro(s->sf, s->bw_hz);
    uint8_t mc1 = (uint8_t)(lw_sx127x_bw_code(s->bw_hz) << LW_SX127X_MC1_BW_SHIFT |
                            (s->cr - 4) << LW_SX127X_MC1_CR_SHIFT);
    uint8_t mc2 = (uint8_t)(s->sf << LW_SX127X_MC2_SF_SHIFT | LW_SX127X_MC2_RXPAYLOADCRCON);
    uint8_t mc3 = (uint8_t)(LW_SX127X_MC3_AGCAUTO | (ldro ? LW_SX127X_MC3_LOWDATARATEOPT : 0));
    uint8_t lna = (uint8_t)(LW_SX127X_LNA_GAIN_G1 | (c->lf ? 0 : LW_SX127X_LNA_BOOSTHF_ON));
    /* Interrupts we do not handle stay masked so they never hold DIO0 or the flags. */
    uint8_t irqmask =
        (uint8_t) ~(LW_SX127X_IRQ_RXDONE | LW_SX127X_IRQ_PAYLOADCRCERROR | LW_SX127X_IRQ_TXDONE |
                    LW_SX127X_IRQ_CADDONE | LW_SX127X_IRQ_CADDETECTED);
    const struct {
        uint8_t addr, value;
    } cfg[] = {
        {LW_SX127X_REG_FRFMSB, (uint8_t)(frf >> 16)},
        {LW_SX127X_REG_FRFMID, (uint8_t)(frf >> 8)},
        {LW_SX127X_REG_FRFLSB, (uint8_t)frf},
        {LW_SX127X_REG_PACONFIG,
         (uint8_t)(LW_SX127X_PACONFIG_PABOOST | LW_SX127X_PACONFIG_MAXPOWER_MAX | (power - 2))},
        {LW_SX127X_REG_PADAC,
         (uint8_t)((LW_SX127X_PADAC_RESET & ~LW_SX127X_PADAC_MASK) | LW_SX127X_PADAC_DEFAULT)},
        {LW_SX127X_REG_OCP, (uint8_t)(LW_SX127X_OCP_ON | 0x0F)}, /* 120 mA for PA_BOOST */
        {LW_SX127X_REG_LNA, lna},
        {LW_SX127X_REG_MODEMCONFIG1, mc1},
        {LW_SX127X_REG_MODEMCONFIG2, mc2},
        {LW_SX127X_REG_MODEMCONFIG3, mc3},
        {LW_SX127X_REG_PREAMBLEMSB, (uint8_t)(s->preamble >> 8)},
        {LW_SX127X_REG_PREAMBLELSB, (uint8_t)s->preamble},
        {LW_SX127X_REG_SYNCWORD, s->sync_word},
        {LW_SX127X_REG_IRQFLAGSMASK, irqmask},
    };
    for (size_t i = 0; i < sizeof(cfg) / sizeof(cfg[0]); i++)
        if ((rc = wr_keep(c, cfg[i].addr, cfg[i].value)) != LW_OK)
            return rc;
    if ((rc = wr(c, LW_SX127X_REG_DETECTOPTIMIZE,
                 (LW_SX127X_DETECTOPTIMIZE_RESET & ~LW_SX127X_DETECTOPTIMIZE_MASK) |
                     LW_SX127X_DETECTOPTIMIZE_SF7_12)) != LW_OK ||
        (rc = wr(c, LW_SX127X_REG_DETECTIONTHRESHOLD, LW_SX127X_DETECTIONTHRESH_SF7_12)) != LW_OK ||
        (rc = wr(c, LW_SX127X_REG_FIFOTXBASEADDR, LW_SX127X_FIFOTXBASEADDR_RESET)) != LW_OK ||
        (rc = wr(c, LW_SX127X_REG_FIFORXBASEADDR, LW_SX127X_FIFORXBASEADDR_RESET)) != LW_OK ||
        (rc = wr(c, LW_SX127X_REG_PAYLOADMAXLENGTH, LW_SX127X_PAYLOADMAXLENGTH_RESET)) != LW_OK ||
        (rc = wr(c, LW_SX127X_REG_IRQFLAGS, LW_SX127X_IRQ_ALL)) != LW_OK ||
        (rc = start_rx(c)) != LW_OK)
        return rc;
    /* Read one back now: a chip that takes writes but keeps none is not working. */
    if ((rc = rd(c, LW_SX127X_REG_MODEMCONFIG2, &v)) != LW_OK)
        return rc;
    if (v != mc2) {
        LW_RADIO_LOG(c->bus, LW_RADIO_LOG_ERR,
                     "radio sx127x: RegModemConfig2 reads 0x%02X after writing 0x%02X", v, mc2);
        return LW_ERR_IO;
    }
    snprintf(desc, cap,
             "SX1276/77/78/79 (RegVersion 0x%02X) on %s: %.3f MHz (%s port), SF%u BW%u CR4/%u, "
             "sync word 0x%02X, preamble %u, PA_BOOST %d dBm%s",
             c->version, c->bus->where, s->freq_hz / 1e6, c->lf ? "LF" : "HF", s->sf,
             (unsigned)(s->bw_hz / 1000), s->cr, s->sync_word, s->preamble, power,
             ldro ? ", low data rate optimisation" : "");
    return LW_OK;
}

static int sx_check(void *drv, char *why, size_t cap)
{
    struct sx127x *c = drv;
    uint8_t v;
    int rc = rd(c, LW_SX127X_REG_OPMODE, &v);
    if (rc != LW_OK)
        return rc;
    uint8_t want =
        (uint8_t)(c->opmode | (c->tx_busy ? LW_SX127X_MODE_TX : LW_SX127X_MODE_RXCONTINUOUS));
    /* A finished transmission drops to standby until its TxDone is handled. */
    bool ok = v == want || (c->tx_busy && v == (c->opmode | LW_SX127X_MODE_STDBY));
    if (!ok) {
        snprintf(why, cap, "RegOpMode reads 0x%02X, expected 0x%02X", v, want);
        return LW_ERR_STATE;
    }
    for (int i = 0; i < c->n_expect; i++) {
        if ((rc = rd(c, c->expect[i].addr, &v)) != LW_OK)
            return rc;
        if (v != c->expect[i].value) {
            snprintf(why, cap, "register 0x%02X reads 0x%02X, expected 0x%02X", c->expect[i].addr,
                     v, c->expect[i].value);
            return LW_ERR_STATE;
        }
    }
    return LW_OK;
}

static int read_packet(struct sx127x *c, struct lw_radio_rx *rx)
{
    uint8_t n, cur, snr, rssi;
    int rc;
    if ((rc = rd(c, LW_SX127X_REG_RXNBBYTES, &n)) != LW_OK ||
        (rc = rd(c, LW_SX127X_REG_FIFORXCURRENTADDR, &cur)) != LW_OK ||
        (rc = rd(c, LW_SX127X_REG_PKTSNRVALUE, &snr)) != LW_OK ||
        (rc = rd(c, LW_SX127X_REG_PKTRSSIVALUE, &rssi)) != LW_OK ||
        (rc = wr(c, LW_SX127X_REG_FIFOADDRPTR, cur)) != LW_OK)
        return rc;
    if ((rc = fifo_read(c, rx->buf, n)) != LW_OK)
        return rc;
    rx->len = n;
    rx->snr_x10 = lw_sx127x_snr_x10(snr);
    rx->rssi_x10 = lw_sx127x_rssi_x10(rssi, snr, c->lf);
    rx->freq_hz = c->s.freq_hz;
    rx->sf = c->s.sf;
    rx->bw_hz = c->s.bw_hz;
    return LW_OK;
}

static int sx_service(void *drv, unsigned *ev, struct lw_radio_rx *rx)
{
    struct sx127x *c = drv;
    uint8_t flags, hop;
    int rc = rd(c, LW_SX127X_REG_IRQFLAGS, &flags);
    if (rc != LW_OK)
        return rc;
    if (!flags)
        return LW_ERR_AGAIN;
    *ev = 0;
    if (flags & LW_SX127X_IRQ_RXDONE) {
        if ((rc = rd(c, LW_SX127X_REG_HOPCHANNEL, &hop)) != LW_OK)
            return rc;
        /* A frame without a payload CRC was never checked: as bad as a failed one. */
        if ((flags & LW_SX127X_IRQ_PAYLOADCRCERROR) || !(hop & LW_SX127X_HOPCHANNEL_CRCONPAYLOAD))
            *ev |= LW_CHIP_EV_RX_BAD;
        else if ((rc = read_packet(c, rx)) != LW_OK)
            return rc;
        else
            *ev |= rx->len ? LW_CHIP_EV_RX : LW_CHIP_EV_RX_BAD;
    }
    if (flags & LW_SX127X_IRQ_TXDONE) {
        c->tx_busy = false;
        *ev |= LW_CHIP_EV_TX_DONE;
    }
    /* Clear exactly what was handled (write 1 to clear): a flag raised meanwhile stays. */
    if ((rc = wr(c, LW_SX127X_REG_IRQFLAGS, flags)) != LW_OK)
        return rc;
    if ((*ev & LW_CHIP_EV_TX_DONE) && (rc = start_rx(c)) != LW_OK)
        return rc;
    return LW_OK;
}

static uint32_t airtime(const struct sx127x *c, size_t len)
{
    struct lw_lora_params lp;
    lw_chip_params_lora(&c->s, &lp);
    return lw_airtime_us(&lp, len);
}

static int sx_transmit(void *drv, const uint8_t *buf, size_t len, uint32_t *airtime_us)
{
    struct sx127x *c = drv;
    if (c->tx_busy)
        return LW_ERR_AGAIN;
    if (len == 0 || len > 255)
        return LW_ERR_TOOBIG;
    int rc;
    /* Downlinks go out with inverted IQ so nodes never hear each other's uplinks as ours. */
    if ((rc = set_mode(c, LW_SX127X_MODE_STDBY)) != LW_OK ||
        (rc = wr(c, LW_SX127X_REG_FIFOADDRPTR, LW_SX127X_FIFOTXBASEADDR_RESET)) != LW_OK ||
        (rc = fifo_write(c, buf, len)) != LW_OK ||
        (rc = wr(c, LW_SX127X_REG_PAYLOADLENGTH, (uint8_t)len)) != LW_OK ||
        (rc = wr(c, LW_SX127X_REG_INVERTIQ,
                 LW_SX127X_INVERTIQ_RESET &
                     ~(LW_SX127X_INVERTIQ_RX | LW_SX127X_INVERTIQ_TX_OFF))) != LW_OK ||
        (rc = wr(c, LW_SX127X_REG_INVERTIQ2, LW_SX127X_INVERTIQ2_ON)) != LW_OK ||
        (rc = wr(c, LW_SX127X_REG_DIOMAPPING1, LW_SX127X_DIO0_TXDONE)) != LW_OK ||
        (rc = set_mode(c, LW_SX127X_MODE_TX)) != LW_OK)
        return rc;
    c->tx_busy = true;
    *airtime_us = airtime(c, len);
    return LW_OK;
}

/* For lw_chip_cad_wait: 1 activity, 0 quiet, LW_ERR_AGAIN while CAD runs. */
static int cad_flags(void *drv)
{
    struct sx127x *c = drv;
    uint8_t flags = 0;
    int rc = rd(c, LW_SX127X_REG_IRQFLAGS, &flags);
    if (rc != LW_OK)
        return rc;
    if (!(flags & LW_SX127X_IRQ_CADDONE))
        return LW_ERR_AGAIN;
    return (flags & LW_SX127X_IRQ_CADDETECTED) ? 1 : 0;
}

static int sx_cad(void *drv)
{
    struct sx127x *c = drv;
    if (c->tx_busy)
        return 1; /* we are on the air ourselves */
    int rc;
    if ((rc = set_mode(c, LW_SX127X_MODE_STDBY)) != LW_OK ||
        (rc = wr(c, LW_SX127X_REG_IRQFLAGS, LW_SX127X_IRQ_CADDONE | LW_SX127X_IRQ_CADDETECTED)) !=
            LW_OK ||
        (rc = wr(c, LW_SX127X_REG_DIOMAPPING1, LW_SX127X_DIO0_CADDONE)) != LW_OK ||
        (rc = set_mode(c, LW_SX127X_MODE_CAD)) != LW_OK)
        return rc;
    /* Clear and listen again whatever CAD gave (after a bus fault this fails too). */
    int result = lw_chip_cad_wait(c->bus, &c->s, "sx127x", cad_flags, c);
    if ((rc = wr(c, LW_SX127X_REG_IRQFLAGS, LW_SX127X_IRQ_CADDONE | LW_SX127X_IRQ_CADDETECTED)) !=
            LW_OK ||
        (rc = start_rx(c)) != LW_OK)
        return rc;
    return result;
}

const struct lw_chip_driver lw_sx127x_driver = {
    .name = "sx127x",
    .create = sx_create,
    .destroy = sx_destroy,
    .init = sx_init,
    .check = sx_check,
    .service = sx_service,
    .transmit = sx_transmit,
    .cad = sx_cad,
};
