/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the SX127x and SX126x drivers: the input is everything a broken or
 * noisy chip could clock out on MISO (and its BUSY line), fed to probe, configuration,
 * read-back, IRQ handling, TX and CAD. The drivers must never overrun a buffer, hang, or hand
 * on a frame longer than the FIFO. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_config.h"
#include "lw_error.h"
#include "lw_log.h"
#include "lw_presets.h"
#include "lw_radio_chip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *in;
static size_t in_len, in_pos;
static uint64_t now;

static uint8_t next(void)
{
    return in_pos < in_len ? in[in_pos++] : 0;
}

static int f_spi_open(const char *dev, uint32_t hz, void **ctx)
{
    (void)dev;
    (void)hz;
    *ctx = &in;
    return LW_OK;
}
static void f_spi_close(void *ctx)
{
    (void)ctx;
}
static int f_spi_transfer(void *ctx, const uint8_t *tx, uint8_t *rx, size_t len)
{
    (void)ctx;
    (void)tx;
    if (in_pos >= in_len)
        return LW_ERR_IO; /* the chip is gone: ends every loop */
    for (size_t i = 0; i < len; i++) {
        uint8_t b = next();
        if (rx)
            rx[i] = b;
    }
    return LW_OK;
}
static const struct lw_spi_ops f_spi = {"fuzz", f_spi_open, f_spi_close, f_spi_transfer};

static int f_open(const char *chip, const char *consumer, void **ctx)
{
    (void)chip;
    (void)consumer;
    *ctx = &in;
    return LW_OK;
}
static void f_close(void *ctx)
{
    (void)ctx;
}
static int f_request(void *ctx, unsigned offset, enum lw_gpio_mode mode, int initial)
{
    (void)ctx;
    (void)mode;
    (void)initial;
    return (int)(offset % 4);
}
static int f_set(void *ctx, int h, int v)
{
    (void)ctx;
    (void)h;
    (void)v;
    return LW_OK;
}
static int f_get(void *ctx, int h)
{
    (void)ctx;
    (void)h;
    return next() & 1;
}
static int f_event_fd(void *ctx, int h)
{
    (void)ctx;
    (void)h;
    return 0;
}
static int f_event_read(void *ctx, int h)
{
    (void)ctx;
    (void)h;
    return LW_ERR_AGAIN;
}
static void f_delay(void *ctx, uint32_t us)
{
    (void)ctx;
    now += us;
}
static uint64_t f_now(void *ctx)
{
    (void)ctx;
    return now += 10;
}
static const struct lw_gpio_ops f_gpio = {"fuzz", f_open,     f_close,      f_request, f_set,
                                          f_get,  f_event_fd, f_event_read, f_delay,   f_now};

static void run(const struct lw_chip_driver *drv, const char *text)
{
    struct lw_config *cfg = lw_config_parse("fuzz.conf", text, strlen(text), NULL, NULL);
    struct lw_radio_settings s;
    char why[200], desc[256];
    if (!cfg || lw_radio_settings_from_config(cfg, &s, why, sizeof(why)) != LW_OK)
        abort();
    struct lw_chip_bus bus;
    struct lw_chip_params p;
    void *d = NULL;
    lw_radio_chip_params(&s, &p);
    if (lw_chip_bus_open(&bus, &f_spi, s.spi_device, s.spi_speed_hz, &f_gpio, s.gpio_chip,
                         &s.pins) != LW_OK ||
        drv->create(&bus.radio, &p, &d) != LW_OK)
        abort();
    if (drv->init(d, desc, sizeof(desc)) == LW_OK) {
        struct lw_radio_rx rx;
        static const uint8_t frame[20] = {1, 2, 3};
        uint32_t airtime;
        for (int i = 0; i < 8 && in_pos < in_len; i++) {
            unsigned ev = 0;
            int rc = drv->service(d, &ev, &rx);
            if (rc == LW_OK && (ev & LW_CHIP_EV_RX) && (rx.len == 0 || rx.len > 255))
                abort();
            drv->check(d, why, sizeof(why));
        }
        drv->transmit(d, frame, sizeof(frame), &airtime);
        drv->cad(d);
    }
    drv->destroy(d);
    lw_chip_bus_close(&bus);
    lw_config_free(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        lw_log_init("fuzz", 0);
        quiet = 1;
    }
    if (size < 1)
        return 0;
    in = data + 1;
    in_len = size - 1;
    in_pos = 0;
    now = 0;
    if (data[0] & 1)
        run(&lw_sx126x_driver, "[radio]\nboard = waveshare-sx1262-hat\n");
    else
        run(&lw_sx127x_driver, "[radio]\nboard = dragino-lora-gps-hat\n");
    return 0;
}
