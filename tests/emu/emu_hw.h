/* SPDX-License-Identifier: Apache-2.0 */
/* Hardware stand-in for unit tests: lw_spi_ops and lw_gpio_ops backed by an emulated chip, on a
 * virtual clock that delay_us advances, with the IRQ line's edges delivered through a real pipe
 * fd that can be polled like libgpiod's event fd. Faults of the host side (SPI ioctl failures,
 * a pin in use, a missing device) can be switched on. */
#ifndef EMU_HW_H
#define EMU_HW_H

#include <stdbool.h>
#include <stdint.h>

#include "emu_chip.h"
#include "lw_gpio.h"
#include "lw_spi.h"

struct emu_hw {
    const struct emu_chip_ops *ops;
    void *chip;
    struct lw_chip_pins pins; /* which line offsets are wired to the chip */
    uint64_t now_us;          /* virtual time */
    int pipe[2];              /* IRQ edge events: one byte per rising edge */
    int irq_level;
    int reset_level, cs_level;
    bool in_reset;
    /* Host-side faults. */
    bool spi_fail;      /* every transfer fails (ioctl error) */
    int spi_fail_after; /* > 0: this many transfers succeed, then all fail */
    bool spi_missing;   /* open fails: no such device */
    int pin_in_use;     /* this line offset is held by another program (-1: none) */
    /* Counters. */
    unsigned xfers, xfers_without_cs, edges;
    bool spi_open, gpio_open;
};

/* A chip of ops wired to pins, at virtual time 0. Installs it as the one the ops below use. */
struct emu_hw *emu_hw_new(const struct emu_chip_ops *ops, const struct lw_chip_pins *pins);
void emu_hw_free(struct emu_hw *hw);
/* Advance virtual time (chip events happen, IRQ edges are queued). */
void emu_hw_advance(struct emu_hw *hw, uint64_t us);
/* A frame on the air now. */
bool emu_hw_inject(struct emu_hw *hw, const struct emu_frame *f);
/* Pending IRQ edge events not yet read by the driver. */
int emu_hw_pending_edges(struct emu_hw *hw);

extern const struct lw_spi_ops emu_spi_ops;
extern const struct lw_gpio_ops emu_gpio_ops;

#endif
