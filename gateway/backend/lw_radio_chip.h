/* SPDX-License-Identifier: Apache-2.0 */
/* Single-chip radio backends (sx127x, sx126x): a chip driver (radio/lw_radio_drv.h) on the Linux
 * chip bus, run from the daemon's loop through one pollable fd (the chip's IRQ line and a
 * watchdog timer), with a radio watchdog that notices a hung, reset or deaf chip and resets it
 * through its reset line. */
#ifndef LW_RADIO_CHIP_H
#define LW_RADIO_CHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lw_presets.h"
#include "lw_radio.h"
#include "lw_radio_drv.h"
#include "lw_spi.h"

/* The driver's settings from the backend's (the channel, modem and module options). */
void lw_radio_chip_params(const struct lw_radio_settings *s, struct lw_chip_params *p);

/* For tests and the self-test: open a chip backend on the given SPI and GPIO implementations
 * instead of spidev and libgpiod. Same contract as lw_radio_ops.open. */
int lw_radio_chip_open(const struct lw_config *cfg, const struct lw_spi_ops *spi,
                       const struct lw_gpio_ops *gpio, void **ctx);

/* lorawatchd --radio-selftest: open the configured chip backend, probe and configure the chip,
 * print what was found to out. LW_OK, or the error (printed too). */
int lw_radio_chip_selftest(const struct lw_config *cfg, const struct lw_spi_ops *spi,
                           const struct lw_gpio_ops *gpio, FILE *out);

/* The radio watchdog's decisions, kept pure so tests drive it with made-up time. */
struct lw_radio_wd {
    uint64_t interval_ms, silence_ms;
    uint64_t next_check_ms;  /* next read-back */
    uint64_t last_irq_ms;    /* last interrupt of any kind (or start) */
    uint64_t tx_deadline_ms; /* 0: no transmission on the air */
    uint64_t retry_ms;       /* after a failed recovery: when to try again */
    unsigned failures;       /* consecutive failed recoveries */
};
enum lw_radio_wd_action {
    LW_WD_NOTHING,
    LW_WD_CHECK,      /* read the configuration back */
    LW_WD_SILENT,     /* no IRQ for silence_ms: reset */
    LW_WD_TX_TIMEOUT, /* TX done never came: reset */
    LW_WD_RETRY,      /* the radio is down: try to recover again */
};
void lw_radio_wd_start(struct lw_radio_wd *w, uint64_t interval_ms, uint64_t silence_ms,
                       uint64_t now_ms);
/* What is due at now_ms (one action per call; call again until LW_WD_NOTHING). */
enum lw_radio_wd_action lw_radio_wd_poll(struct lw_radio_wd *w, bool down, uint64_t now_ms);
void lw_radio_wd_irq(struct lw_radio_wd *w, uint64_t now_ms);
void lw_radio_wd_tx(struct lw_radio_wd *w, uint32_t airtime_us, uint64_t now_ms);
/* After a recovery attempt: ok or not; the retry delay doubles up to 64 intervals. */
void lw_radio_wd_recovered(struct lw_radio_wd *w, bool ok, uint64_t now_ms);
/* Milliseconds from now_ms until something is due (for the timer). */
uint64_t lw_radio_wd_next_ms(const struct lw_radio_wd *w, bool down, uint64_t now_ms);

#endif
