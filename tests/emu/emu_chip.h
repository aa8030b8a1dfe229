/* SPDX-License-Identifier: Apache-2.0 */
/* The interface every register-level radio emulator offers to the hardware stand-ins (emu_hw for
 * unit tests, the LD_PRELOAD shim for the daemon): one SPI transaction as the chip decodes it,
 * its reset pin, its IRQ and BUSY lines, and time passing. */
#ifndef EMU_CHIP_H
#define EMU_CHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Faults a test can put the chip in. */
enum emu_fault {
    EMU_OK,
    EMU_HANG, /* stops answering (MISO 0x00, writes lost, no IRQ; SX126x: BUSY stuck); reset cures
               */
    EMU_DEAD, /* like HANG, and a reset does not help */
    EMU_DEAF, /* registers fine, but no frame is ever received; reset cures */
    EMU_NO_TXDONE, /* a transmission never ends; reset cures */
    EMU_MISSING,   /* no chip on the bus: MISO reads 0x00 whatever happens */
    EMU_MISSING_FF /* no chip, MISO pulled up: reads 0xFF */
};

/* One frame on the air as the emulated chip would demodulate it. */
struct emu_frame {
    const uint8_t *data;
    size_t len;
    int16_t rssi_x10, snr_x10;
    bool crc_ok;  /* payload CRC matches */
    bool has_crc; /* the header announces a payload CRC */
    uint8_t sf;   /* 0: matches whatever the chip listens with */
    uint32_t bw_hz;
};

struct emu_chip_ops {
    const char *name;
    void (*spi)(void *chip, const uint8_t *tx, uint8_t *rx, size_t len, uint64_t now_us);
    void (*reset)(void *chip, uint64_t now_us); /* NRESET released after a low pulse */
    int (*irq)(void *chip);                     /* level of DIO0 (SX127x) or DIO1 (SX126x) */
    int (*busy)(void *chip, uint64_t now_us);   /* BUSY level; 0 for chips without one */
    void (*tick)(void *chip, uint64_t now_us);  /* time passes: TX done, CAD done */
    /* A frame arrives at now_us: true when the chip received it (RX mode, right settings). */
    bool (*inject)(void *chip, const struct emu_frame *f, uint64_t now_us);
    void (*fault)(void *chip, enum emu_fault f);
    void (*activity)(void *chip, bool busy); /* what the next CAD will detect */
    /* The last frame the chip transmitted (0 when none since the last call). */
    size_t (*take_tx)(void *chip, uint8_t *out, size_t cap);
    /* Next time something happens on its own (TX/CAD end), 0 when nothing is pending. */
    uint64_t (*next_event_us)(void *chip);
    void (*free)(void *chip);
};

void *emu_sx127x_new(uint64_t now_us);
void *emu_sx126x_new(uint64_t now_us);
extern const struct emu_chip_ops emu_sx127x_ops;
extern const struct emu_chip_ops emu_sx126x_ops;

/* For tests: direct register access that bypasses SPI (SX127x address, SX126x register). */
uint8_t emu_sx127x_reg(void *chip, uint8_t addr);
void emu_sx127x_set_version(void *chip, uint8_t version);
uint8_t emu_sx126x_reg(void *chip, uint16_t addr);
/* SX126x: what the commands set. */
struct emu_sx126x_state {
    int mode; /* 0 sleep, 1 STDBY_RC, 2 STDBY_XOSC, 3 FS, 4 RX, 5 TX, 6 CAD */
    uint8_t packet_type;
    uint32_t rf_freq;
    uint8_t sf, bw, cr, ldro;
    uint16_t preamble;
    uint8_t crc, iq;
    uint16_t irq_mask, dio1_mask;
    bool tcxo, dio2_switch;
};
void emu_sx126x_state(void *chip, struct emu_sx126x_state *out);
/* SX126x: commands sent while BUSY was high (a driver bug: the chip ignores them). */
unsigned emu_sx126x_busy_violations(void *chip);
/* Frames that arrived but were not received (wrong mode or settings, deaf). */
unsigned emu_sx127x_missed(void *chip);
unsigned emu_sx126x_missed(void *chip);

#endif
