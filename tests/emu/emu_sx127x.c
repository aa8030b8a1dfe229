/* SPDX-License-Identifier: Apache-2.0 */
/* Register-level SX1276 emulator in LoRa mode: SPI bursts decoded as the chip does (wnr bit,
 * auto-increment, FIFO through FifoAddrPtr), modes with LongRangeMode only changeable in sleep,
 * the shared 256-byte FIFO with RX/TX base addresses, IRQ flags with mask and write-1-to-clear,
 * DIO0 mapping, packet SNR/RSSI registers, TX and CAD taking their real time. */
#include <stdlib.h>
#include <string.h>

#include "emu_chip.h"
#include "lw_airtime.h"
#include "lw_sx127x_regs.h"

struct sx127x_emu {
    uint8_t reg[LW_SX127X_REG_COUNT];
    uint8_t fifo[LW_SX127X_FIFO_SIZE];
    uint8_t rx_wr; /* where the modem writes the next received byte */
    uint64_t tx_end_us, cad_end_us;
    uint8_t tx_buf[256];
    size_t tx_len, tx_taken_len;
    bool activity;
    enum emu_fault fault;
    uint8_t version;
    unsigned missed;
    uint16_t rx_packets;
};

static const struct {
    uint8_t addr, value;
} defaults[] = {
    {LW_SX127X_REG_OPMODE, LW_SX127X_OPMODE_RESET},
    {LW_SX127X_REG_FRFMSB, LW_SX127X_FRFMSB_RESET},
    {LW_SX127X_REG_FRFMID, LW_SX127X_FRFMID_RESET},
    {LW_SX127X_REG_FRFLSB, LW_SX127X_FRFLSB_RESET},
    {LW_SX127X_REG_PACONFIG, LW_SX127X_PACONFIG_RESET},
    {LW_SX127X_REG_PARAMP, LW_SX127X_PARAMP_RESET},
    {LW_SX127X_REG_OCP, LW_SX127X_OCP_RESET},
    {LW_SX127X_REG_LNA, LW_SX127X_LNA_RESET},
    {LW_SX127X_REG_FIFOADDRPTR, LW_SX127X_FIFOADDRPTR_RESET},
    {LW_SX127X_REG_FIFOTXBASEADDR, LW_SX127X_FIFOTXBASEADDR_RESET},
    {LW_SX127X_REG_FIFORXBASEADDR, LW_SX127X_FIFORXBASEADDR_RESET},
    {LW_SX127X_REG_IRQFLAGSMASK, LW_SX127X_IRQFLAGSMASK_RESET},
    {LW_SX127X_REG_MODEMCONFIG1, LW_SX127X_MODEMCONFIG1_RESET},
    {LW_SX127X_REG_MODEMCONFIG2, LW_SX127X_MODEMCONFIG2_RESET},
    {LW_SX127X_REG_SYMBTIMEOUTLSB, LW_SX127X_SYMBTIMEOUTLSB_RESET},
    {LW_SX127X_REG_PREAMBLEMSB, LW_SX127X_PREAMBLEMSB_RESET},
    {LW_SX127X_REG_PREAMBLELSB, LW_SX127X_PREAMBLELSB_RESET},
    {LW_SX127X_REG_PAYLOADLENGTH, LW_SX127X_PAYLOADLENGTH_RESET},
    {LW_SX127X_REG_PAYLOADMAXLENGTH, LW_SX127X_PAYLOADMAXLENGTH_RESET},
    {LW_SX127X_REG_MODEMCONFIG3, LW_SX127X_MODEMCONFIG3_RESET},
    {LW_SX127X_REG_DETECTOPTIMIZE, LW_SX127X_DETECTOPTIMIZE_RESET},
    {LW_SX127X_REG_INVERTIQ, LW_SX127X_INVERTIQ_RESET},
    {LW_SX127X_REG_DETECTIONTHRESHOLD, LW_SX127X_DETECTIONTHRESHOLD_RESET},
    {LW_SX127X_REG_SYNCWORD, LW_SX127X_SYNCWORD_RESET},
    {LW_SX127X_REG_INVERTIQ2, LW_SX127X_INVERTIQ2_RESET},
    {LW_SX127X_REG_DIOMAPPING1, LW_SX127X_DIOMAPPING1_RESET},
    {LW_SX127X_REG_DIOMAPPING2, LW_SX127X_DIOMAPPING2_RESET},
    {LW_SX127X_REG_PADAC, LW_SX127X_PADAC_RESET},
};

static void power_on(struct sx127x_emu *e)
{
    memset(e->reg, 0, sizeof(e->reg));
    memset(e->fifo, 0, sizeof(e->fifo));
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        e->reg[defaults[i].addr] = defaults[i].value;
    e->reg[LW_SX127X_REG_VERSION] = e->version;
    e->tx_end_us = e->cad_end_us = 0;
    e->rx_wr = 0;
}

void *emu_sx127x_new(uint64_t now_us)
{
    (void)now_us;
    struct sx127x_emu *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->version = LW_SX127X_VERSION_SX1276;
    power_on(e);
    return e;
}

void emu_sx127x_set_version(void *chip, uint8_t version)
{
    struct sx127x_emu *e = chip;
    e->version = version;
    e->reg[LW_SX127X_REG_VERSION] = version;
}

uint8_t emu_sx127x_reg(void *chip, uint8_t addr)
{
    return ((struct sx127x_emu *)chip)->reg[addr & LW_SX127X_ADDR_MASK];
}

static bool lora(const struct sx127x_emu *e)
{
    return e->reg[LW_SX127X_REG_OPMODE] & LW_SX127X_OPMODE_LONGRANGE;
}

static uint8_t mode(const struct sx127x_emu *e)
{
    return e->reg[LW_SX127X_REG_OPMODE] & LW_SX127X_OPMODE_MODE_MASK;
}

static bool mute(const struct sx127x_emu *e)
{
    return e->fault == EMU_HANG || e->fault == EMU_DEAD || e->fault == EMU_MISSING ||
           e->fault == EMU_MISSING_FF;
}

/* Raise IRQ flags unless masked (a masked interrupt never sets its flag). */
static void raise(struct sx127x_emu *e, uint8_t flags)
{
    e->reg[LW_SX127X_REG_IRQFLAGS] |= flags & (uint8_t)~e->reg[LW_SX127X_REG_IRQFLAGSMASK];
}

static struct lw_lora_params params(const struct sx127x_emu *e)
{
    struct lw_lora_params p;
    static const uint32_t bws[] = {7800,  10400, 15600,  20800,  31250,
                                   41700, 62500, 125000, 250000, 500000};
    uint8_t bw = e->reg[LW_SX127X_REG_MODEMCONFIG1] >> LW_SX127X_MC1_BW_SHIFT;
    lw_lora_params_default(&p);
    p.sf = e->reg[LW_SX127X_REG_MODEMCONFIG2] >> LW_SX127X_MC2_SF_SHIFT;
    p.bw_hz = bw < 10 ? bws[bw] : 125000;
    p.cr = (e->reg[LW_SX127X_REG_MODEMCONFIG1] & LW_SX127X_MC1_CR_MASK) >> LW_SX127X_MC1_CR_SHIFT;
    if (p.cr < 1 || p.cr > 4)
        p.cr = 1;
    p.preamble =
        (uint16_t)(e->reg[LW_SX127X_REG_PREAMBLEMSB] << 8 | e->reg[LW_SX127X_REG_PREAMBLELSB]);
    p.crc = e->reg[LW_SX127X_REG_MODEMCONFIG2] & LW_SX127X_MC2_RXPAYLOADCRCON;
    p.implicit_hdr = e->reg[LW_SX127X_REG_MODEMCONFIG1] & LW_SX127X_MC1_IMPLICIT_HDR;
    p.ldro = (e->reg[LW_SX127X_REG_MODEMCONFIG3] & LW_SX127X_MC3_LOWDATARATEOPT) ? 1 : 0;
    return p;
}

static void set_opmode(struct sx127x_emu *e, uint8_t v, uint64_t now_us)
{
    uint8_t old = e->reg[LW_SX127X_REG_OPMODE];
    /* LongRangeMode only changes in sleep; in any other mode the bit keeps its value. */
    if ((old & LW_SX127X_OPMODE_MODE_MASK) != LW_SX127X_MODE_SLEEP)
        v = (uint8_t)((v & ~LW_SX127X_OPMODE_LONGRANGE) | (old & LW_SX127X_OPMODE_LONGRANGE));
    e->reg[LW_SX127X_REG_OPMODE] = v;
    uint8_t m = v & LW_SX127X_OPMODE_MODE_MASK;
    if (m == (old & LW_SX127X_OPMODE_MODE_MASK))
        return;
    e->tx_end_us = e->cad_end_us = 0;
    if (!lora(e))
        return;
    if (m == LW_SX127X_MODE_TX) {
        uint8_t len = e->reg[LW_SX127X_REG_PAYLOADLENGTH];
        uint8_t base = e->reg[LW_SX127X_REG_FIFOTXBASEADDR];
        for (unsigned i = 0; i < len; i++)
            e->tx_buf[i] = e->fifo[(uint8_t)(base + i)];
        e->tx_len = len;
        struct lw_lora_params p = params(e);
        uint32_t us = lw_airtime_us(&p, len);
        e->tx_end_us = now_us + (us ? us : 1000);
    } else if (m == LW_SX127X_MODE_RXCONTINUOUS || m == LW_SX127X_MODE_RXSINGLE) {
        e->rx_wr = e->reg[LW_SX127X_REG_FIFORXBASEADDR];
    } else if (m == LW_SX127X_MODE_CAD) {
        struct lw_lora_params p = params(e);
        e->cad_end_us = now_us + 2 * (((uint64_t)1 << p.sf) * 1000000u / p.bw_hz) + 1;
    }
}

static bool fifo_open(const struct sx127x_emu *e)
{
    /* The LoRa FIFO is not accessible in sleep mode. */
    return lora(e) && mode(e) != LW_SX127X_MODE_SLEEP;
}

static void write_reg(struct sx127x_emu *e, uint8_t addr, uint8_t v, uint64_t now_us)
{
    switch (addr) {
    case LW_SX127X_REG_FIFO:
        if (fifo_open(e))
            e->fifo[e->reg[LW_SX127X_REG_FIFOADDRPTR]++] = v;
        break;
    case LW_SX127X_REG_OPMODE:
        set_opmode(e, v, now_us);
        break;
    case LW_SX127X_REG_IRQFLAGS:
        e->reg[addr] &= (uint8_t)~v;
        break;
    case LW_SX127X_REG_FIFORXCURRENTADDR:
    case LW_SX127X_REG_RXNBBYTES:
    case LW_SX127X_REG_RXHEADERCNTVALUEMSB:
    case LW_SX127X_REG_RXHEADERCNTVALUELSB:
    case LW_SX127X_REG_RXPACKETCNTVALUEMSB:
    case LW_SX127X_REG_RXPACKETCNTVALUELSB:
    case LW_SX127X_REG_MODEMSTAT:
    case LW_SX127X_REG_PKTSNRVALUE:
    case LW_SX127X_REG_PKTRSSIVALUE:
    case LW_SX127X_REG_RSSIVALUE:
    case LW_SX127X_REG_HOPCHANNEL:
    case LW_SX127X_REG_FIFORXBYTEADDR:
    case LW_SX127X_REG_VERSION:
        break; /* read-only */
    default:
        e->reg[addr] = v;
    }
}

static uint8_t read_reg(struct sx127x_emu *e, uint8_t addr)
{
    if (addr == LW_SX127X_REG_FIFO)
        return fifo_open(e) ? e->fifo[e->reg[LW_SX127X_REG_FIFOADDRPTR]++] : 0;
    return e->reg[addr];
}

static void tick(void *chip, uint64_t now_us)
{
    struct sx127x_emu *e = chip;
    if (mute(e))
        return;
    if (e->tx_end_us && now_us >= e->tx_end_us && e->fault != EMU_NO_TXDONE) {
        e->tx_end_us = 0;
        e->tx_taken_len = e->tx_len;
        raise(e, LW_SX127X_IRQ_TXDONE);
        e->reg[LW_SX127X_REG_OPMODE] =
            (uint8_t)((e->reg[LW_SX127X_REG_OPMODE] & ~LW_SX127X_OPMODE_MODE_MASK) |
                      LW_SX127X_MODE_STDBY);
    }
    if (e->cad_end_us && now_us >= e->cad_end_us) {
        e->cad_end_us = 0;
        raise(e, LW_SX127X_IRQ_CADDONE | (e->activity ? LW_SX127X_IRQ_CADDETECTED : 0));
        e->reg[LW_SX127X_REG_OPMODE] =
            (uint8_t)((e->reg[LW_SX127X_REG_OPMODE] & ~LW_SX127X_OPMODE_MODE_MASK) |
                      LW_SX127X_MODE_STDBY);
    }
}

static void spi(void *chip, const uint8_t *tx, uint8_t *rx, size_t len, uint64_t now_us)
{
    struct sx127x_emu *e = chip;
    uint8_t fill = e->fault == EMU_MISSING_FF ? 0xFF : 0x00;
    if (!len)
        return;
    if (mute(e)) {
        if (rx)
            memset(rx, fill, len);
        return;
    }
    tick(e, now_us);
    uint8_t addr = tx[0] & LW_SX127X_ADDR_MASK;
    bool write = tx[0] & LW_SX127X_SPI_WRITE;
    if (rx)
        rx[0] = 0;
    for (size_t i = 1; i < len; i++) {
        if (write)
            write_reg(e, addr, tx[i], now_us);
        else if (rx)
            rx[i] = read_reg(e, addr);
        else
            read_reg(e, addr);
        if (addr != LW_SX127X_REG_FIFO)
            addr = (addr + 1) & LW_SX127X_ADDR_MASK;
    }
}

static void reset(void *chip, uint64_t now_us)
{
    struct sx127x_emu *e = chip;
    (void)now_us;
    if (e->fault == EMU_DEAD || e->fault == EMU_MISSING || e->fault == EMU_MISSING_FF)
        return;
    e->fault = EMU_OK;
    power_on(e);
}

static int irq(void *chip)
{
    struct sx127x_emu *e = chip;
    if (mute(e))
        return 0;
    static const uint8_t dio0[4] = {LW_SX127X_IRQ_RXDONE, LW_SX127X_IRQ_TXDONE,
                                    LW_SX127X_IRQ_CADDONE, 0};
    return (e->reg[LW_SX127X_REG_IRQFLAGS] & dio0[e->reg[LW_SX127X_REG_DIOMAPPING1] >> 6]) != 0;
}

static int busy(void *chip, uint64_t now_us)
{
    (void)chip;
    (void)now_us;
    return 0;
}

/* The inverse of the datasheet's packet strength formulas, to put an RF level into the
 * registers the driver converts back. */
static void set_signal(struct sx127x_emu *e, int16_t rssi_x10, int16_t snr_x10, bool lf)
{
    int off = (lf ? LW_SX127X_RSSI_OFFSET_LF : LW_SX127X_RSSI_OFFSET_HF) * 10;
    int snr4 = snr_x10 >= 0 ? (snr_x10 * 4 + 5) / 10 : -((-snr_x10 * 4 + 5) / 10);
    if (snr4 > 127)
        snr4 = 127;
    if (snr4 < -128)
        snr4 = -128;
    int pkt;
    if (snr4 < 0)
        pkt = (rssi_x10 - off - snr4 * 10 / 4 + 5) / 10;
    else
        pkt = ((rssi_x10 - off) * 15 + 80) / 160;
    if (pkt < 0)
        pkt = 0;
    if (pkt > 255)
        pkt = 255;
    e->reg[LW_SX127X_REG_PKTSNRVALUE] = (uint8_t)(int8_t)snr4;
    e->reg[LW_SX127X_REG_PKTRSSIVALUE] = (uint8_t)pkt;
}

static bool inject(void *chip, const struct emu_frame *f, uint64_t now_us)
{
    struct sx127x_emu *e = chip;
    tick(e, now_us);
    struct lw_lora_params p = params(e);
    uint8_t m = mode(e);
    bool listening = lora(e) && (m == LW_SX127X_MODE_RXCONTINUOUS || m == LW_SX127X_MODE_RXSINGLE);
    if (mute(e) || e->fault == EMU_DEAF || !listening || (f->sf && f->sf != p.sf) ||
        (f->bw_hz && f->bw_hz != p.bw_hz) || f->len == 0 || f->len > 255) {
        e->missed++;
        return false;
    }
    uint8_t start = e->rx_wr;
    for (size_t i = 0; i < f->len; i++)
        e->fifo[e->rx_wr++] = f->data[i];
    e->reg[LW_SX127X_REG_FIFORXCURRENTADDR] = start;
    e->reg[LW_SX127X_REG_FIFORXBYTEADDR] = e->rx_wr;
    e->reg[LW_SX127X_REG_RXNBBYTES] = (uint8_t)f->len;
    e->rx_packets++;
    e->reg[LW_SX127X_REG_RXPACKETCNTVALUEMSB] = (uint8_t)(e->rx_packets >> 8);
    e->reg[LW_SX127X_REG_RXPACKETCNTVALUELSB] = (uint8_t)e->rx_packets;
    e->reg[LW_SX127X_REG_HOPCHANNEL] =
        (uint8_t)((e->reg[LW_SX127X_REG_HOPCHANNEL] & ~LW_SX127X_HOPCHANNEL_CRCONPAYLOAD) |
                  (f->has_crc ? LW_SX127X_HOPCHANNEL_CRCONPAYLOAD : 0));
    set_signal(e, f->rssi_x10, f->snr_x10, e->reg[LW_SX127X_REG_OPMODE] & LW_SX127X_OPMODE_LOWFREQ);
    raise(e, LW_SX127X_IRQ_VALIDHEADER | LW_SX127X_IRQ_RXDONE |
                 (f->has_crc && !f->crc_ok ? LW_SX127X_IRQ_PAYLOADCRCERROR : 0));
    if (m == LW_SX127X_MODE_RXSINGLE)
        e->reg[LW_SX127X_REG_OPMODE] =
            (uint8_t)((e->reg[LW_SX127X_REG_OPMODE] & ~LW_SX127X_OPMODE_MODE_MASK) |
                      LW_SX127X_MODE_STDBY);
    return true;
}

static void fault(void *chip, enum emu_fault f)
{
    ((struct sx127x_emu *)chip)->fault = f;
}

static void activity(void *chip, bool busy_channel)
{
    ((struct sx127x_emu *)chip)->activity = busy_channel;
}

static size_t take_tx(void *chip, uint8_t *out, size_t cap)
{
    struct sx127x_emu *e = chip;
    size_t n = e->tx_taken_len < cap ? e->tx_taken_len : cap;
    memcpy(out, e->tx_buf, n);
    e->tx_taken_len = 0;
    return n;
}

static uint64_t next_event_us(void *chip)
{
    struct sx127x_emu *e = chip;
    uint64_t t = e->tx_end_us;
    if (e->cad_end_us && (!t || e->cad_end_us < t))
        t = e->cad_end_us;
    return t;
}

unsigned emu_sx127x_missed(void *chip)
{
    return ((struct sx127x_emu *)chip)->missed;
}

const struct emu_chip_ops emu_sx127x_ops = {
    .name = "sx127x",
    .spi = spi,
    .reset = reset,
    .irq = irq,
    .busy = busy,
    .tick = tick,
    .inject = inject,
    .fault = fault,
    .activity = activity,
    .take_tx = take_tx,
    .next_event_us = next_event_us,
    .free = free,
};
