/* SPI access for radio HATs behind a small table of operations (Linux: /dev/spidevB.C and its
 * SPI_IOC_MESSAGE ioctl), and the chip bus the drivers talk through: SPI plus the chip's GPIO
 * lines (software chip-select, reset, IRQ, BUSY), so emulators plug in below the drivers. */
#ifndef LW_SPI_H
#define LW_SPI_H

#include <stddef.h>
#include <stdint.h>

#include "lw_gpio.h"

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

/* Longest single transaction the drivers make: a 255-byte FIFO burst plus command bytes. */
#define LW_SPI_MAX_XFER 260

/* GPIO line offsets of one chip; -1 where a line is not connected. */
struct lw_chip_pins {
    int reset;
    int cs;   /* -1: the SPI controller's own chip-select */
    int irq;  /* SX127x DIO0, SX126x DIO1 */
    int busy; /* SX126x only */
};

/* One radio chip's wiring, opened. The drivers use only the functions below. */
struct lw_chip_bus {
    const struct lw_spi_ops *spi;
    void *spi_ctx;
    const struct lw_gpio_ops *gpio;
    void *gpio_ctx;
    int h_reset, h_cs, h_irq, h_busy; /* GPIO handles, -1 when not connected */
    uint64_t xfers, xfer_errors;
};

/* Open SPI device dev and the GPIO lines of pins on gpio chip gpiochip. The reset line starts
 * high (chip running), the chip-select high (deselected). LW_OK or a negative lw_err, logged. */
int lw_chip_bus_open(struct lw_chip_bus *b, const struct lw_spi_ops *spi, const char *dev,
                     uint32_t speed_hz, const struct lw_gpio_ops *gpio, const char *gpiochip,
                     const struct lw_chip_pins *pins);
void lw_chip_bus_close(struct lw_chip_bus *b);
/* One transaction framed by the software chip-select when there is one. */
int lw_chip_bus_xfer(struct lw_chip_bus *b, const uint8_t *tx, uint8_t *rx, size_t len);
/* Pulse reset low for low_us, then wait wait_us for the chip to start. LW_OK or LW_ERR_IO. */
int lw_chip_bus_reset(struct lw_chip_bus *b, uint32_t low_us, uint32_t wait_us);
/* Fd of the IRQ line's edge events (-1 without one); consume queued edges without blocking. */
int lw_chip_bus_irq_fd(struct lw_chip_bus *b);
void lw_chip_bus_irq_drain(struct lw_chip_bus *b);
/* Level of the BUSY line: 0, 1, or LW_ERR_IO; 0 when there is none. */
int lw_chip_bus_busy(struct lw_chip_bus *b);
void lw_chip_bus_delay_us(struct lw_chip_bus *b, uint32_t us);
uint64_t lw_chip_bus_now_us(struct lw_chip_bus *b);

#endif
