/* SPDX-License-Identifier: Apache-2.0 */
/* SPI access for radio HATs behind a small table of operations (Linux: /dev/spidevB.C and its
 * SPI_IOC_MESSAGE ioctl), and the Linux chip bus: SPI plus the chip's GPIO lines (software
 * chip-select, reset, IRQ, BUSY) implementing the drivers' bus contract (lw_radio_bus.h), so
 * emulators plug in below the drivers as spi/gpio tables. */
#ifndef LW_SPI_H
#define LW_SPI_H

#include <stddef.h>
#include <stdint.h>

#include "lw_gpio.h"
#include "lw_radio_bus.h"

struct lw_spi_ops {
    const char *name;
    /* Open dev (mode 0, 8 bits, speed_hz). LW_OK, LW_ERR_NOTFOUND (no such device), LW_ERR_IO
     * (not an SPI device, no permission); logged with the reason. */
    int (*open)(const char *dev, uint32_t speed_hz, void **ctx);
    void (*close)(void *ctx);
    /* One full-duplex transaction of len bytes (rx may be NULL). LW_OK or LW_ERR_IO. */
    int (*transfer)(void *ctx, const uint8_t *tx, uint8_t *rx, size_t len);
};

extern const struct lw_spi_ops lw_spi_linux_ops;

/* Longest single transaction the drivers make (see lw_radio_bus.h). */
#define LW_SPI_MAX_XFER LW_RADIO_MAX_XFER

/* GPIO line offsets of one chip; -1 where a line is not connected. */
struct lw_chip_pins {
    int reset;
    int cs;   /* -1: the SPI controller's own chip-select */
    int irq;  /* SX127x DIO0, SX126x DIO1 */
    int busy; /* SX126x only */
};

/* One radio chip's wiring, opened. Drivers take &radio; the rest is the transport's. */
struct lw_chip_bus {
    struct lw_radio_bus radio; /* the contract, with ctx pointing back here */
    const struct lw_spi_ops *spi;
    void *spi_ctx;
    const struct lw_gpio_ops *gpio;
    void *gpio_ctx;
    int h_reset, h_cs, h_irq, h_busy; /* GPIO handles, -1 when not connected */
    char dev[64];
    uint64_t xfers, xfer_errors;
};

/* Open SPI device dev and the GPIO lines of pins on gpio chip gpiochip. The reset line starts
 * high (chip running), the chip-select high (deselected). Logs go to the transport's logger
 * (lw_radio_linux_set_log). LW_OK or a negative lw_err, logged. b must stay in place while open
 * (the contract points into it). */
int lw_chip_bus_open(struct lw_chip_bus *b, const struct lw_spi_ops *spi, const char *dev,
                     uint32_t speed_hz, const struct lw_gpio_ops *gpio, const char *gpiochip,
                     const struct lw_chip_pins *pins);
void lw_chip_bus_close(struct lw_chip_bus *b);
/* Fd of the IRQ line's edge events, for poll/epoll (-1 without one). */
int lw_chip_bus_irq_fd(struct lw_chip_bus *b);

#endif
