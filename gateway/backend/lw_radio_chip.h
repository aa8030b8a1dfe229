/* Single-chip radio backends (sx127x, sx126x): a chip driver behind a small table, run from the
 * daemon's loop through one pollable fd (the chip's IRQ line and a watchdog timer), with a radio
 * watchdog that notices a hung, reset or deaf chip and resets it through its reset line. */
#ifndef LW_RADIO_CHIP_H
#define LW_RADIO_CHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lw_presets.h"
#include "lw_radio.h"
#include "lw_spi.h"

/* What one call of a driver's service() found: a bit mask. */
enum lw_chip_event {
    LW_CHIP_EV_RX = 1,      /* a frame with a good payload CRC, in rx */
    LW_CHIP_EV_RX_BAD = 2,  /* a frame with a bad or no payload CRC, dropped */
    LW_CHIP_EV_TX_DONE = 4, /* the transmission ended; the chip listens again */
};

/* A chip driver: works only through the bus, so emulators can stand in for the hardware. */
struct lw_chip_driver {
    const char *name; /* the backend name: "sx127x", "sx126x" */
    int (*create)(struct lw_chip_bus *bus, const struct lw_radio_settings *s, void **drv);
    void (*destroy)(void *drv);
    /* Reset through the reset line, probe, configure, listen (continuous RX). LW_OK;
     * LW_ERR_NOTFOUND when no or another chip answers; LW_ERR_IO on bus failures; logged. A
     * one-line description of what was found goes into desc. */
    int (*init)(void *drv, char *desc, size_t cap);
    /* Read the configuration back: LW_OK, LW_ERR_STATE when the chip lost it (reset, brown-out,
     * hang) with the first difference in why, LW_ERR_IO on bus failures. */
    int (*check)(void *drv, char *why, size_t cap);
    /* Handle the pending IRQs: LW_ERR_AGAIN when none is pending, LW_OK with *ev set to the
     * lw_chip_event bits found (0: an IRQ nobody waits for, cleared; rx filled with
     * LW_CHIP_EV_RX); other errors are bus faults. */
    int (*service)(void *drv, unsigned *ev, struct lw_radio_rx *rx);
    /* Start a transmission (TX done arrives through service()). LW_OK, LW_ERR_AGAIN while one is
     * on the air, LW_ERR_TOOBIG, LW_ERR_IO. *airtime_us: how long it will take. */
    int (*transmit)(void *drv, const uint8_t *buf, size_t len, uint32_t *airtime_us);
    /* Channel activity detection, blocking for a few symbols: 1 busy, 0 free, negative lw_err. */
    int (*cad)(void *drv);
};

/* The CAD wait both drivers share. CAD takes about two symbols; the flags are polled every
 * quarter symbol for up to eight symbols plus 20 ms instead of returning to the loop, since the
 * caller decides to send right after. flags(drv) reads the chip's: 1 activity seen, 0 done and
 * quiet, LW_ERR_AGAIN not done yet, another negative value a bus fault (returned at once).
 * Returns 1, 0, the bus fault, or LW_ERR_IO when CAD never finished (logged, rate-limited). */
int lw_chip_cad_wait(struct lw_chip_bus *bus, const struct lw_radio_settings *s, const char *chip,
                     int (*flags)(void *drv), void *drv);

extern const struct lw_chip_driver lw_sx127x_driver;
extern const struct lw_chip_driver lw_sx126x_driver;

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
