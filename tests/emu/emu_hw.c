/* SPDX-License-Identifier: Apache-2.0 */
/* In-process SPI and GPIO operations over an emulated chip, for the unit tests. */
#include "emu_hw.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lw_error.h"

static struct emu_hw *current;

/* Line handles: the role of the requested offset. */
enum { H_RESET, H_CS, H_IRQ, H_BUSY, H_OTHER };

static void update_irq(struct emu_hw *hw)
{
    int level = hw->in_reset ? 0 : hw->ops->irq(hw->chip);
    if (level && !hw->irq_level) {
        uint8_t b = 1;
        if (write(hw->pipe[1], &b, 1) == 1)
            hw->edges++;
    }
    hw->irq_level = level;
}

struct emu_hw *emu_hw_new(const struct emu_chip_ops *ops, const struct lw_chip_pins *pins)
{
    struct emu_hw *hw = calloc(1, sizeof(*hw));
    if (!hw)
        return NULL;
    hw->ops = ops;
    hw->pins = *pins;
    hw->pin_in_use = -1;
    hw->reset_level = hw->cs_level = 1;
    hw->chip = ops == &emu_sx126x_ops ? emu_sx126x_new(0) : emu_sx127x_new(0);
    if (!hw->chip || pipe(hw->pipe) != 0 || fcntl(hw->pipe[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(hw->pipe[1], F_SETFL, O_NONBLOCK) != 0) {
        if (hw->chip)
            ops->free(hw->chip);
        free(hw);
        return NULL;
    }
    current = hw;
    return hw;
}

void emu_hw_free(struct emu_hw *hw)
{
    if (!hw)
        return;
    hw->ops->free(hw->chip);
    close(hw->pipe[0]);
    close(hw->pipe[1]);
    if (current == hw)
        current = NULL;
    free(hw);
}

void emu_hw_advance(struct emu_hw *hw, uint64_t us)
{
    hw->now_us += us;
    hw->ops->tick(hw->chip, hw->now_us);
    update_irq(hw);
}

bool emu_hw_inject(struct emu_hw *hw, const struct emu_frame *f)
{
    bool ok = !hw->in_reset && hw->ops->inject(hw->chip, f, hw->now_us);
    update_irq(hw);
    return ok;
}

int emu_hw_pending_edges(struct emu_hw *hw)
{
    int n = 0;
    ioctl(hw->pipe[0], FIONREAD, &n);
    return n;
}

/* ---- SPI -------------------------------------------------------------------------------- */

static int spi_open(const char *dev, uint32_t speed_hz, void **ctx)
{
    (void)speed_hz;
    if (!current || current->spi_missing || strncmp(dev, "/dev/spidev", 11) != 0)
        return LW_ERR_NOTFOUND;
    current->spi_open = true;
    *ctx = current;
    return LW_OK;
}

static void spi_close(void *ctx)
{
    ((struct emu_hw *)ctx)->spi_open = false;
}

static int spi_transfer(void *ctx, const uint8_t *tx, uint8_t *rx, size_t len)
{
    struct emu_hw *hw = ctx;
    if (hw->spi_fail || (hw->spi_fail_after > 0 && hw->xfers >= (unsigned)hw->spi_fail_after))
        return LW_ERR_IO;
    hw->xfers++;
    /* With a software chip-select the chip only sees transfers framed by it. */
    if (hw->pins.cs >= 0 && hw->cs_level) {
        hw->xfers_without_cs++;
        if (rx)
            memset(rx, 0, len);
        return LW_OK;
    }
    if (hw->in_reset) {
        if (rx)
            memset(rx, 0, len);
        return LW_OK;
    }
    hw->ops->spi(hw->chip, tx, rx, len, hw->now_us);
    update_irq(hw);
    return LW_OK;
}

const struct lw_spi_ops emu_spi_ops = {
    .name = "emu-spi",
    .open = spi_open,
    .close = spi_close,
    .transfer = spi_transfer,
};

/* ---- GPIO ------------------------------------------------------------------------------- */

static int gpio_open(const char *chip, const char *consumer, void **ctx)
{
    (void)consumer;
    if (!current || strcmp(chip, "gpiochip0") != 0)
        return LW_ERR_NOTFOUND;
    current->gpio_open = true;
    *ctx = current;
    return LW_OK;
}

static void gpio_close(void *ctx)
{
    ((struct emu_hw *)ctx)->gpio_open = false;
}

static int gpio_request(void *ctx, unsigned offset, enum lw_gpio_mode mode, int initial)
{
    struct emu_hw *hw = ctx;
    (void)mode;
    if ((int)offset == hw->pin_in_use)
        return LW_ERR_STATE;
    if ((int)offset == hw->pins.reset) {
        hw->reset_level = initial;
        return H_RESET;
    }
    if ((int)offset == hw->pins.cs) {
        hw->cs_level = initial;
        return H_CS;
    }
    if ((int)offset == hw->pins.irq)
        return H_IRQ;
    if ((int)offset == hw->pins.busy)
        return H_BUSY;
    return H_OTHER;
}

static int gpio_set(void *ctx, int h, int value)
{
    struct emu_hw *hw = ctx;
    if (h == H_CS)
        hw->cs_level = value;
    if (h == H_RESET) {
        if (!value)
            hw->in_reset = true;
        else if (hw->in_reset) {
            hw->in_reset = false;
            hw->ops->reset(hw->chip, hw->now_us);
        }
        hw->reset_level = value;
        update_irq(hw);
    }
    return LW_OK;
}

static int gpio_get(void *ctx, int h)
{
    struct emu_hw *hw = ctx;
    if (h == H_BUSY)
        return hw->in_reset ? 1 : hw->ops->busy(hw->chip, hw->now_us);
    if (h == H_IRQ)
        return hw->irq_level;
    return 0;
}

static int gpio_event_fd(void *ctx, int h)
{
    struct emu_hw *hw = ctx;
    return h == H_IRQ ? hw->pipe[0] : -1;
}

static int gpio_event_read(void *ctx, int h)
{
    struct emu_hw *hw = ctx;
    uint8_t b;
    if (h != H_IRQ)
        return LW_ERR_INVAL;
    return read(hw->pipe[0], &b, 1) == 1 ? LW_OK : LW_ERR_AGAIN;
}

static void gpio_delay_us(void *ctx, uint32_t us)
{
    emu_hw_advance(ctx, us);
}

static uint64_t gpio_now_us(void *ctx)
{
    return ((struct emu_hw *)ctx)->now_us;
}

const struct lw_gpio_ops emu_gpio_ops = {
    .name = "emu-gpio",
    .open = gpio_open,
    .close = gpio_close,
    .request = gpio_request,
    .set = gpio_set,
    .get = gpio_get,
    .event_fd = gpio_event_fd,
    .event_read = gpio_event_read,
    .delay_us = gpio_delay_us,
    .now_us = gpio_now_us,
};
