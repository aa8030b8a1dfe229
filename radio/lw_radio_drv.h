/* SPDX-License-Identifier: Apache-2.0 */
/* The chip driver contract: what a driver (sx127x, sx126x) offers its consumer, and the helpers
 * the drivers share. Drivers include only this (and proto/), never their consumers, so the
 * gateway, a node program and microcontroller firmware use the same drivers. */
#ifndef LW_RADIO_DRV_H
#define LW_RADIO_DRV_H

#include <stddef.h>
#include <stdint.h>

#include "lw_airtime.h"
#include "lw_radio_bus.h"
#include "lw_radio_types.h"

/* What one call of a driver's service() found: a bit mask. */
enum lw_chip_event {
    LW_CHIP_EV_RX = 1,      /* a frame with a good payload CRC, in rx */
    LW_CHIP_EV_RX_BAD = 2,  /* a frame with a bad or no payload CRC, dropped */
    LW_CHIP_EV_TX_DONE = 4, /* the transmission ended; the chip listens again */
};

/* A chip driver: works only through the bus, so emulators can stand in for the hardware. */
struct lw_chip_driver {
    const char *name; /* the backend name: "sx127x", "sx126x" */
    /* bus and p must outlive the driver; the bus stays open until after destroy(). */
    int (*create)(const struct lw_radio_bus *bus, const struct lw_chip_params *p, void **drv);
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

extern const struct lw_chip_driver lw_sx127x_driver;
extern const struct lw_chip_driver lw_sx126x_driver;

/* The CAD wait both drivers share. CAD takes about two symbols; the flags are polled every
 * quarter symbol for up to eight symbols plus 20 ms instead of returning to the loop, since the
 * caller decides to send right after. flags(drv) reads the chip's: 1 activity seen, 0 done and
 * quiet, LW_ERR_AGAIN not done yet, another negative value a bus fault (returned at once).
 * Returns 1, 0, the bus fault, or LW_ERR_IO when CAD never finished (logged, rate-limited). */
int lw_chip_cad_wait(const struct lw_radio_bus *bus, const struct lw_chip_params *p,
                     const char *chip, int (*flags)(void *drv), void *drv);

/* The LoRa parameters of p for lw_airtime (explicit header, payload CRC on). */
void lw_chip_params_lora(const struct lw_chip_params *p, struct lw_lora_params *lp);

#endif
