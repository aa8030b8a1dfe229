/* SPDX-License-Identifier: Apache-2.0 */
/* spidev access (open, mode/speed ioctls, SPI_IOC_MESSAGE transfers) and the chip bus that adds
 * the GPIO lines around it and offers both to the drivers as their bus contract. */
#include "lw_spi.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/spi/spidev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lw_error.h"

struct spidev {
    int fd;
    uint32_t speed_hz;
    char dev[64];
};

static int spi_open(const char *dev, uint32_t speed_hz, void **ctx)
{
    struct spidev *s = calloc(1, sizeof(*s));
    if (!s)
        return LW_ERR_NOMEM;
    snprintf(s->dev, sizeof(s->dev), "%s", dev);
    s->speed_hz = speed_hz;
    s->fd = open(dev, O_RDWR | O_CLOEXEC);
    if (s->fd < 0) {
        int e = errno;
        LW_LINUX_LOG(LW_RADIO_LOG_ERR, "spi: cannot open %s: %s%s", dev, strerror(e),
                     e == ENOENT
                         ? " (is SPI enabled? raspi-config nonint do_spi 0, or dtparam=spi=on)"
                     : e == EACCES ? " (the service user needs the spi group)"
                                   : "");
        free(s);
        return e == ENOENT ? LW_ERR_NOTFOUND : LW_ERR_IO;
    }
    uint8_t mode = SPI_MODE_0, bits = 8;
    const char *what = NULL;
    if (ioctl(s->fd, SPI_IOC_WR_MODE, &mode) < 0)
        what = "set mode 0";
    else if (ioctl(s->fd, SPI_IOC_WR_BITS_PER_WORD, &bits) < 0)
        what = "set 8 bits per word";
    else if (ioctl(s->fd, SPI_IOC_WR_MAX_SPEED_HZ, &speed_hz) < 0)
        what = "set the clock speed";
    if (what) {
        int e = errno;
        LW_LINUX_LOG(LW_RADIO_LOG_ERR, "spi: %s: cannot %s: %s%s", dev, what, strerror(e),
                     e == ENOTTY || e == EINVAL ? " (not an SPI device?)" : "");
        close(s->fd);
        free(s);
        return LW_ERR_IO;
    }
    *ctx = s;
    return LW_OK;
}

static void spi_close(void *ctx)
{
    struct spidev *s = ctx;
    close(s->fd);
    free(s);
}

static int spi_transfer(void *ctx, const uint8_t *tx, uint8_t *rx, size_t len)
{
    struct spidev *s = ctx;
    struct spi_ioc_transfer tr;
    memset(&tr, 0, sizeof(tr));
    tr.tx_buf = (uintptr_t)tx;
    tr.rx_buf = (uintptr_t)rx;
    tr.len = (uint32_t)len;
    tr.speed_hz = s->speed_hz;
    tr.bits_per_word = 8;
    int rc = ioctl(s->fd, SPI_IOC_MESSAGE(1), &tr);
    if (rc < 0 || (size_t)rc != len) {
        LW_LINUX_LOG_RL(LW_RADIO_LOG_ERR, "spi: %s: transfer of %zu bytes failed: %s", s->dev, len,
                        rc < 0 ? strerror(errno) : "short transfer");
        return LW_ERR_IO;
    }
    return LW_OK;
}

const struct lw_spi_ops lw_spi_linux_ops = {
    .name = "spidev",
    .open = spi_open,
    .close = spi_close,
    .transfer = spi_transfer,
};

/* ---- chip bus --------------------------------------------------------------------------- */

static int request(struct lw_chip_bus *b, const char *what, int offset, enum lw_gpio_mode mode,
                   int initial, int *h)
{
    *h = -1;
    if (offset < 0)
        return LW_OK;
    int rc = b->gpio->request(b->gpio_ctx, (unsigned)offset, mode, initial);
    if (rc < 0) {
        LW_LINUX_LOG(LW_RADIO_LOG_ERR, "radio: %s line (GPIO %d) not available", what, offset);
        return rc;
    }
    *h = rc;
    return LW_OK;
}

/* ---- the bus contract over spi + gpio ---------------------------------------------------- */

static int bus_xfer(void *ctx, const uint8_t *tx, uint8_t *rx, size_t len)
{
    struct lw_chip_bus *b = ctx;
    int rc = LW_OK;
    b->xfers++;
    if (b->h_cs >= 0 && b->gpio->set(b->gpio_ctx, b->h_cs, 0) != LW_OK)
        rc = LW_ERR_IO;
    if (rc == LW_OK)
        rc = b->spi->transfer(b->spi_ctx, tx, rx, len);
    /* Deselect even after a failed transfer: a chip left selected would ignore the next one. */
    if (b->h_cs >= 0 && b->gpio->set(b->gpio_ctx, b->h_cs, 1) != LW_OK)
        rc = LW_ERR_IO;
    if (rc != LW_OK)
        b->xfer_errors++;
    return rc;
}

static int bus_reset(void *ctx, uint32_t low_us, uint32_t wait_us)
{
    struct lw_chip_bus *b = ctx;
    if (b->h_reset < 0) {
        b->gpio->delay_us(b->gpio_ctx, wait_us);
        return LW_OK;
    }
    if (b->gpio->set(b->gpio_ctx, b->h_reset, 0) != LW_OK)
        return LW_ERR_IO;
    b->gpio->delay_us(b->gpio_ctx, low_us);
    if (b->gpio->set(b->gpio_ctx, b->h_reset, 1) != LW_OK)
        return LW_ERR_IO;
    b->gpio->delay_us(b->gpio_ctx, wait_us);
    return LW_OK;
}

static int bus_busy(void *ctx)
{
    struct lw_chip_bus *b = ctx;
    return b->h_busy >= 0 ? b->gpio->get(b->gpio_ctx, b->h_busy) : 0;
}

static int bus_irq_take(void *ctx)
{
    struct lw_chip_bus *b = ctx;
    int seen = 0;
    /* Edges only wake us up: the chip's IRQ register says what happened. Bounded, so a line
     * that toggles without end cannot hold the loop. */
    for (int i = 0; i < 64 && b->h_irq >= 0; i++) {
        if (b->gpio->event_read(b->gpio_ctx, b->h_irq) != LW_OK)
            break;
        seen = 1;
    }
    return seen;
}

static void bus_delay_us(void *ctx, uint32_t us)
{
    struct lw_chip_bus *b = ctx;
    b->gpio->delay_us(b->gpio_ctx, us);
}

static uint64_t bus_now_us(void *ctx)
{
    struct lw_chip_bus *b = ctx;
    return b->gpio->now_us(b->gpio_ctx);
}

static void bus_log(void *ctx, int prio, struct lw_radio_log_site *site, const char *msg)
{
    (void)ctx;
    lw_radio_linux_logf(prio, site, "%s", msg);
}

static const struct lw_radio_bus_ops chip_bus_ops = {
    .xfer = bus_xfer,
    .reset = bus_reset,
    .busy = bus_busy,
    .irq_take = bus_irq_take,
    .delay_us = bus_delay_us,
    .now_us = bus_now_us,
    .log = bus_log,
};

int lw_chip_bus_open(struct lw_chip_bus *b, const struct lw_spi_ops *spi, const char *dev,
                     uint32_t speed_hz, const struct lw_gpio_ops *gpio, const char *gpiochip,
                     const struct lw_chip_pins *pins)
{
    memset(b, 0, sizeof(*b));
    b->h_reset = b->h_cs = b->h_irq = b->h_busy = -1;
    b->spi = spi;
    b->gpio = gpio;
    snprintf(b->dev, sizeof(b->dev), "%s", dev);
    int rc = gpio->open(gpiochip, "lorawatchd", &b->gpio_ctx);
    if (rc != LW_OK)
        return rc;
    rc = spi->open(dev, speed_hz, &b->spi_ctx);
    if (rc != LW_OK) {
        gpio->close(b->gpio_ctx);
        return rc;
    }
    if ((rc = request(b, "reset", pins->reset, LW_GPIO_OUTPUT, 1, &b->h_reset)) != LW_OK ||
        (rc = request(b, "chip-select", pins->cs, LW_GPIO_OUTPUT, 1, &b->h_cs)) != LW_OK ||
        (rc = request(b, "IRQ (DIO)", pins->irq, LW_GPIO_RISING, 0, &b->h_irq)) != LW_OK ||
        (rc = request(b, "BUSY", pins->busy, LW_GPIO_INPUT, 0, &b->h_busy)) != LW_OK) {
        lw_chip_bus_close(b);
        return rc;
    }
    b->radio.ops = &chip_bus_ops;
    b->radio.ctx = b;
    b->radio.where = b->dev;
    b->radio.has_busy = b->h_busy >= 0;
    return LW_OK;
}

void lw_chip_bus_close(struct lw_chip_bus *b)
{
    if (b->spi_ctx)
        b->spi->close(b->spi_ctx);
    if (b->gpio_ctx)
        b->gpio->close(b->gpio_ctx); /* releases the lines */
    b->spi_ctx = b->gpio_ctx = NULL;
}

int lw_chip_bus_irq_fd(struct lw_chip_bus *b)
{
    return b->h_irq >= 0 ? b->gpio->event_fd(b->gpio_ctx, b->h_irq) : -1;
}
