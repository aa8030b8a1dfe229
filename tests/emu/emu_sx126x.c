/* SPDX-License-Identifier: Apache-2.0 */
/* Command-level SX1262 emulator: every SPI transaction decoded as the chip does (opcode, exact
 * parameter count, status byte from the second MISO byte, data after the NOP), BUSY high while a
 * command is processed (a command sent during BUSY is ignored and counted), modes with the
 * STDBY_RC fallback after TX and CAD, the 256-byte buffer with TX/RX base addresses, IRQ status
 * with IRQ and DIO1 masks, registers (sync word, IQ polarity, version string). */
#include <stdlib.h>
#include <string.h>

#include "emu_chip.h"
#include "lw_airtime.h"
#include "lw_sx126x_regs.h"

#define REG_SPACE 0x1000

enum { M_SLEEP, M_STDBY_RC, M_STDBY_XOSC, M_FS, M_RX, M_TX, M_CAD };

struct sx126x_emu {
    int mode;
    uint8_t packet_type;
    uint8_t buf[LW_SX126X_BUFFER_SIZE];
    uint8_t tx_base, rx_base, rx_wr;
    uint16_t irq, irq_mask, dio1_mask;
    uint8_t reg[REG_SPACE];
    uint32_t rf_freq;
    uint8_t sf, bw, cr, ldro;
    uint16_t preamble;
    uint8_t hdr, payload_len, crc, iq;
    uint8_t last_len, last_start;
    int16_t last_rssi_x10, last_snr_x10;
    uint8_t cmd_status;
    uint64_t busy_until_us, tx_end_us, cad_end_us;
    uint8_t tx_buf[256];
    size_t tx_len, tx_taken_len;
    bool activity;
    enum emu_fault fault;
    unsigned busy_violations, missed;
    bool tcxo, dio2_switch;
};

static void power_on(struct sx126x_emu *e, uint64_t now_us)
{
    enum emu_fault f = e->fault;
    unsigned v = e->busy_violations, missed = e->missed;
    memset(e, 0, sizeof(*e));
    e->fault = f;
    e->busy_violations = v;
    e->missed = missed;
    e->mode = M_STDBY_RC;
    e->reg[LW_SX126X_REG_SYNC_WORD_MSB] = LW_SX126X_SYNC_WORD_MSB_RESET;
    e->reg[LW_SX126X_REG_SYNC_WORD_LSB] = LW_SX126X_SYNC_WORD_LSB_RESET;
    e->reg[LW_SX126X_REG_IQ_POLARITY] = LW_SX126X_IQ_POLARITY_RESET;
    memcpy(e->reg + LW_SX126X_REG_VERSION_STRING, "SX1261 V2D 2D02", 16);
    e->preamble = 8;
    /* The start-up calibration keeps BUSY high for about 3.5 ms. */
    e->busy_until_us = now_us + 3500;
}

void *emu_sx126x_new(uint64_t now_us)
{
    struct sx126x_emu *e = calloc(1, sizeof(*e));
    if (e)
        power_on(e, now_us);
    return e;
}

uint8_t emu_sx126x_reg(void *chip, uint16_t addr)
{
    return ((struct sx126x_emu *)chip)->reg[addr % REG_SPACE];
}

unsigned emu_sx126x_busy_violations(void *chip)
{
    return ((struct sx126x_emu *)chip)->busy_violations;
}

void emu_sx126x_state(void *chip, struct emu_sx126x_state *out)
{
    struct sx126x_emu *e = chip;
    out->mode = e->mode;
    out->packet_type = e->packet_type;
    out->rf_freq = e->rf_freq;
    out->sf = e->sf;
    out->bw = e->bw;
    out->cr = e->cr;
    out->ldro = e->ldro;
    out->preamble = e->preamble;
    out->crc = e->crc;
    out->iq = e->iq;
    out->irq_mask = e->irq_mask;
    out->dio1_mask = e->dio1_mask;
    out->tcxo = e->tcxo;
    out->dio2_switch = e->dio2_switch;
}

unsigned emu_sx126x_missed(void *chip)
{
    return ((struct sx126x_emu *)chip)->missed;
}

static bool mute(const struct sx126x_emu *e)
{
    return e->fault == EMU_HANG || e->fault == EMU_DEAD || e->fault == EMU_MISSING ||
           e->fault == EMU_MISSING_FF;
}

static uint8_t status(const struct sx126x_emu *e)
{
    static const uint8_t chip_mode[] = {0,
                                        LW_SX126X_MODE_STDBY_RC,
                                        LW_SX126X_MODE_STDBY_XOSC,
                                        LW_SX126X_MODE_FS,
                                        LW_SX126X_MODE_RX,
                                        LW_SX126X_MODE_TX,
                                        LW_SX126X_MODE_STDBY_RC};
    return (uint8_t)(chip_mode[e->mode] << LW_SX126X_STATUS_MODE_SHIFT |
                     e->cmd_status << LW_SX126X_STATUS_CMD_SHIFT);
}

static void raise(struct sx126x_emu *e, uint16_t bits)
{
    e->irq |= bits & e->irq_mask;
}

static struct lw_lora_params params(const struct sx126x_emu *e, size_t *len)
{
    static const uint32_t bws[] = {7810, 15630, 31250, 62500, 125000, 250000, 500000};
    struct lw_lora_params p;
    lw_lora_params_default(&p);
    p.sf = e->sf ? e->sf : 7;
    p.bw_hz = e->bw < 7 ? bws[e->bw] : 125000;
    p.cr = e->cr >= 1 && e->cr <= 4 ? e->cr : 1;
    p.preamble = e->preamble;
    p.crc = e->crc;
    p.implicit_hdr = e->hdr;
    p.ldro = e->ldro ? 1 : 0;
    if (len)
        *len = e->payload_len;
    return p;
}

static void tick(void *chip, uint64_t now_us)
{
    struct sx126x_emu *e = chip;
    if (mute(e))
        return;
    if (e->tx_end_us && now_us >= e->tx_end_us && e->fault != EMU_NO_TXDONE) {
        e->tx_end_us = 0;
        e->tx_taken_len = e->tx_len;
        e->mode = M_STDBY_RC; /* the default fallback mode */
        e->cmd_status = LW_SX126X_CMD_TX_DONE;
        raise(e, LW_SX126X_IRQ_TX_DONE);
    }
    if (e->cad_end_us && now_us >= e->cad_end_us) {
        e->cad_end_us = 0;
        e->mode = M_STDBY_RC;
        raise(e, LW_SX126X_IRQ_CAD_DONE | (e->activity ? LW_SX126X_IRQ_CAD_DETECTED : 0));
    }
}

/* Parameter bytes each write command takes (-1: any number, for buffer and register writes;
 * -2: not a command this emulator knows). */
static int param_count(uint8_t op)
{
    switch (op) {
    case LW_SX126X_CMD_SET_STANDBY:
    case LW_SX126X_CMD_SET_SLEEP:
    case LW_SX126X_CMD_CALIBRATE:
    case LW_SX126X_CMD_SET_PACKET_TYPE:
    case LW_SX126X_CMD_SET_REGULATOR_MODE:
    case LW_SX126X_CMD_SET_DIO2_AS_RF_SWITCH:
        return 1;
    case LW_SX126X_CMD_CLEAR_IRQ_STATUS:
    case LW_SX126X_CMD_SET_BUFFER_BASE_ADDR:
    case LW_SX126X_CMD_SET_TX_PARAMS:
    case LW_SX126X_CMD_CALIBRATE_IMAGE:
    case LW_SX126X_CMD_CLEAR_DEVICE_ERRORS:
        return 2;
    case LW_SX126X_CMD_SET_RX:
    case LW_SX126X_CMD_SET_TX:
        return 3;
    case LW_SX126X_CMD_SET_RF_FREQUENCY:
    case LW_SX126X_CMD_SET_PA_CONFIG:
    case LW_SX126X_CMD_SET_DIO3_AS_TCXO_CTRL:
        return 4;
    case LW_SX126X_CMD_SET_MODULATION_PARAMS:
        return 4; /* LoRa uses 4 of the 8 */
    case LW_SX126X_CMD_SET_PACKET_PARAMS:
        return 6; /* LoRa uses 6 of the 9 */
    case LW_SX126X_CMD_SET_CAD_PARAMS:
        return 7;
    case LW_SX126X_CMD_SET_DIO_IRQ_PARAMS:
        return 8;
    case LW_SX126X_CMD_SET_CAD:
        return 0;
    case LW_SX126X_CMD_WRITE_REGISTER:
    case LW_SX126X_CMD_WRITE_BUFFER:
        return -1;
    default:
        return -2;
    }
}

/* How long BUSY stays high after a command, in microseconds (datasheet 8.3.1 orders of
 * magnitude: mode changes tens of us, calibration milliseconds). */
static uint64_t busy_cost(uint8_t op)
{
    switch (op) {
    case LW_SX126X_CMD_CALIBRATE:
        return 3500;
    case LW_SX126X_CMD_CALIBRATE_IMAGE:
        return 3000;
    case LW_SX126X_CMD_SET_STANDBY:
    case LW_SX126X_CMD_SET_RX:
    case LW_SX126X_CMD_SET_TX:
    case LW_SX126X_CMD_SET_CAD:
        return 100;
    default:
        return 20;
    }
}

static void start_tx(struct sx126x_emu *e, uint64_t now_us)
{
    size_t len;
    struct lw_lora_params p = params(e, &len);
    for (size_t i = 0; i < len; i++)
        e->tx_buf[i] = e->buf[(uint8_t)(e->tx_base + i)];
    e->tx_len = len;
    uint32_t us = lw_airtime_us(&p, len);
    e->tx_end_us = now_us + (us ? us : 1000);
    e->mode = M_TX;
}

/* Execute a complete write command of n parameter bytes p. */
static void execute(struct sx126x_emu *e, uint8_t op, const uint8_t *p, size_t n, uint64_t now_us)
{
    e->cmd_status = 0;
    switch (op) {
    case LW_SX126X_CMD_SET_STANDBY:
        e->mode = p[0] ? M_STDBY_XOSC : M_STDBY_RC;
        e->tx_end_us = e->cad_end_us = 0;
        break;
    case LW_SX126X_CMD_SET_SLEEP:
        e->mode = M_SLEEP;
        break;
    case LW_SX126X_CMD_SET_PACKET_TYPE:
        if (e->mode != M_STDBY_RC && e->mode != M_STDBY_XOSC)
            e->cmd_status = LW_SX126X_CMD_EXEC_FAILURE; /* only in standby */
        else
            e->packet_type = p[0];
        break;
    case LW_SX126X_CMD_SET_RF_FREQUENCY:
        e->rf_freq = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        break;
    case LW_SX126X_CMD_SET_MODULATION_PARAMS:
        e->sf = p[0];
        e->bw = p[1];
        e->cr = p[2];
        e->ldro = p[3];
        break;
    case LW_SX126X_CMD_SET_PACKET_PARAMS:
        e->preamble = (uint16_t)(p[0] << 8 | p[1]);
        e->hdr = p[2];
        e->payload_len = p[3];
        e->crc = p[4];
        e->iq = p[5];
        break;
    case LW_SX126X_CMD_SET_BUFFER_BASE_ADDR:
        e->tx_base = p[0];
        e->rx_base = p[1];
        break;
    case LW_SX126X_CMD_SET_DIO_IRQ_PARAMS:
        e->irq_mask = (uint16_t)(p[0] << 8 | p[1]);
        e->dio1_mask = (uint16_t)(p[2] << 8 | p[3]);
        break;
    case LW_SX126X_CMD_CLEAR_IRQ_STATUS:
        e->irq &= (uint16_t) ~(p[0] << 8 | p[1]);
        break;
    case LW_SX126X_CMD_SET_RX:
        if (e->packet_type != LW_SX126X_PACKET_TYPE_LORA) {
            e->cmd_status = LW_SX126X_CMD_EXEC_FAILURE;
            break;
        }
        e->mode = M_RX;
        e->rx_wr = e->rx_base;
        break;
    case LW_SX126X_CMD_SET_TX:
        if (e->packet_type != LW_SX126X_PACKET_TYPE_LORA) {
            e->cmd_status = LW_SX126X_CMD_EXEC_FAILURE;
            break;
        }
        start_tx(e, now_us);
        break;
    case LW_SX126X_CMD_SET_CAD: {
        struct lw_lora_params lp = params(e, NULL);
        e->mode = M_CAD;
        e->cad_end_us = now_us + 2 * (((uint64_t)1 << lp.sf) * 1000000u / lp.bw_hz) + 1;
        break;
    }
    case LW_SX126X_CMD_SET_DIO3_AS_TCXO_CTRL:
        e->tcxo = true;
        break;
    case LW_SX126X_CMD_SET_DIO2_AS_RF_SWITCH:
        e->dio2_switch = p[0] & 1;
        break;
    case LW_SX126X_CMD_WRITE_REGISTER:
        if (n >= 2)
            for (size_t i = 2; i < n; i++)
                e->reg[((p[0] << 8 | p[1]) + i - 2) % REG_SPACE] = p[i];
        break;
    case LW_SX126X_CMD_WRITE_BUFFER:
        if (n >= 1)
            for (size_t i = 1; i < n; i++)
                e->buf[(uint8_t)(p[0] + i - 1)] = p[i];
        break;
    default:
        break; /* calibration, regulator, PA, TX params, CAD params: nothing to model */
    }
}

/* Data a read command clocks out at data position i (after its header). */
static uint8_t read_data(struct sx126x_emu *e, uint8_t op, const uint8_t *tx, size_t i)
{
    switch (op) {
    case LW_SX126X_CMD_GET_IRQ_STATUS:
        return i == 0 ? (uint8_t)(e->irq >> 8) : i == 1 ? (uint8_t)e->irq : 0;
    case LW_SX126X_CMD_GET_RX_BUFFER_STATUS:
        return i == 0 ? e->last_len : i == 1 ? e->last_start : 0;
    case LW_SX126X_CMD_GET_PACKET_STATUS: {
        int rssi = -e->last_rssi_x10 * 2 / 10, snr = e->last_snr_x10 * 4 / 10;
        if (rssi < 0)
            rssi = 0;
        if (rssi > 255)
            rssi = 255;
        return i == 0 ? (uint8_t)rssi : i == 1 ? (uint8_t)(int8_t)snr : (uint8_t)rssi;
    }
    case LW_SX126X_CMD_GET_PACKET_TYPE:
        return i == 0 ? e->packet_type : 0;
    case LW_SX126X_CMD_READ_REGISTER:
        return e->reg[((tx[1] << 8 | tx[2]) + i) % REG_SPACE];
    case LW_SX126X_CMD_READ_BUFFER:
        return e->buf[(uint8_t)(tx[1] + i)];
    default:
        return 0;
    }
}

static void spi(void *chip, const uint8_t *tx, uint8_t *rx, size_t len, uint64_t now_us)
{
    struct sx126x_emu *e = chip;
    uint8_t tmp[300];
    if (!rx)
        rx = len <= sizeof(tmp) ? tmp : NULL;
    if (!len || !rx)
        return;
    if (e->fault == EMU_MISSING || e->fault == EMU_MISSING_FF) {
        memset(rx, e->fault == EMU_MISSING_FF ? 0xFF : 0x00, len);
        return;
    }
    if (mute(e)) {
        memset(rx, 0xFF, len);
        return;
    }
    tick(e, now_us);
    if (now_us < e->busy_until_us || e->mode == M_SLEEP) {
        /* The chip ignores what is clocked in while BUSY is high. */
        e->busy_violations++;
        memset(rx, 0xFF, len);
        return;
    }
    uint8_t op = tx[0];
    uint8_t st = status(e);
    int count = param_count(op);
    size_t hdr; /* bytes before data for read commands */
    switch (op) {
    case LW_SX126X_CMD_GET_STATUS: /* the status itself is the answer, in byte 1 */
    case LW_SX126X_CMD_GET_IRQ_STATUS:
    case LW_SX126X_CMD_GET_RX_BUFFER_STATUS:
    case LW_SX126X_CMD_GET_PACKET_STATUS:
    case LW_SX126X_CMD_GET_PACKET_TYPE:
    case LW_SX126X_CMD_GET_DEVICE_ERRORS:
    case LW_SX126X_CMD_GET_RSSI_INST:
        hdr = 2;
        break;
    case LW_SX126X_CMD_READ_REGISTER:
        hdr = 4;
        break;
    case LW_SX126X_CMD_READ_BUFFER:
        hdr = 3;
        break;
    default:
        hdr = 0;
    }
    if (!hdr && count == -2)
        st = (uint8_t)((st & ~LW_SX126X_STATUS_CMD_MASK) | LW_SX126X_CMD_PROCESSING_ERR
                                                               << LW_SX126X_STATUS_CMD_SHIFT);
    rx[0] = 0; /* RFU while the opcode is clocked in */
    for (size_t i = 1; i < len; i++)
        rx[i] = hdr && i >= hdr ? read_data(e, op, tx, i - hdr) : st;
    if (hdr) {
        if (op == LW_SX126X_CMD_GET_IRQ_STATUS || op == LW_SX126X_CMD_GET_STATUS)
            e->cmd_status = e->cmd_status == LW_SX126X_CMD_TX_DONE ? 0 : e->cmd_status;
    } else if (count == -2 || (count >= 0 && (size_t)count != len - 1)) {
        e->cmd_status = LW_SX126X_CMD_PROCESSING_ERR; /* shows in the next status */
    } else {
        execute(e, op, tx + 1, len - 1, now_us);
    }
    e->busy_until_us = now_us + (hdr ? 10 : busy_cost(op));
}

static void reset(void *chip, uint64_t now_us)
{
    struct sx126x_emu *e = chip;
    if (e->fault == EMU_DEAD || e->fault == EMU_MISSING || e->fault == EMU_MISSING_FF)
        return;
    e->fault = EMU_OK;
    power_on(e, now_us);
}

static int irq(void *chip)
{
    struct sx126x_emu *e = chip;
    return !mute(e) && (e->irq & e->dio1_mask) != 0;
}

static int busy(void *chip, uint64_t now_us)
{
    struct sx126x_emu *e = chip;
    if (e->fault == EMU_MISSING || e->fault == EMU_MISSING_FF)
        return 0; /* nothing drives the line: it reads low */
    if (mute(e))
        return 1; /* a hung SX126x keeps BUSY high */
    return now_us < e->busy_until_us || e->mode == M_SLEEP;
}

static bool inject(void *chip, const struct emu_frame *f, uint64_t now_us)
{
    struct sx126x_emu *e = chip;
    tick(e, now_us);
    struct lw_lora_params p = params(e, NULL);
    if (mute(e) || e->fault == EMU_DEAF || e->mode != M_RX ||
        e->packet_type != LW_SX126X_PACKET_TYPE_LORA || (f->sf && f->sf != p.sf) ||
        (f->bw_hz && f->bw_hz != p.bw_hz) || f->len == 0 || f->len > 255) {
        e->missed++;
        return false;
    }
    e->last_start = e->rx_wr;
    e->last_len = (uint8_t)f->len;
    for (size_t i = 0; i < f->len; i++)
        e->buf[e->rx_wr++] = f->data[i];
    e->last_rssi_x10 = f->rssi_x10;
    e->last_snr_x10 = f->snr_x10;
    raise(e, LW_SX126X_IRQ_HEADER_VALID | LW_SX126X_IRQ_RX_DONE |
                 (f->has_crc && !f->crc_ok ? LW_SX126X_IRQ_CRC_ERR : 0));
    return true;
}

static void fault(void *chip, enum emu_fault f)
{
    ((struct sx126x_emu *)chip)->fault = f;
}

static void activity(void *chip, bool busy_channel)
{
    ((struct sx126x_emu *)chip)->activity = busy_channel;
}

static size_t take_tx(void *chip, uint8_t *out, size_t cap)
{
    struct sx126x_emu *e = chip;
    size_t n = e->tx_taken_len < cap ? e->tx_taken_len : cap;
    memcpy(out, e->tx_buf, n);
    e->tx_taken_len = 0;
    return n;
}

static uint64_t next_event_us(void *chip)
{
    struct sx126x_emu *e = chip;
    uint64_t t = e->tx_end_us;
    if (e->cad_end_us && (!t || e->cad_end_us < t))
        t = e->cad_end_us;
    return t;
}

const struct emu_chip_ops emu_sx126x_ops = {
    .name = "sx126x",
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
