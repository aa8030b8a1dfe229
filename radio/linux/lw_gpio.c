/* SPDX-License-Identifier: Apache-2.0 */
/* GPIO through libgpiod 1.6 (Debian 12, Raspberry Pi OS bookworm): lines requested on a chip,
 * edge events read from a non-blocking fd that the daemon's loop polls. */
#include "lw_gpio.h"

#include <errno.h>
#include <fcntl.h>
#include <gpiod.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lw_error.h"

static lw_radio_linux_log_fn linux_log;

void lw_radio_linux_set_log(lw_radio_linux_log_fn fn)
{
    linux_log = fn;
}

void lw_radio_linux_logf(int prio, struct lw_radio_log_site *site, const char *fmt, ...)
{
    if (!linux_log)
        return;
    char msg[LW_RADIO_LOG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    linux_log(prio, site, msg);
}

/* A HAT needs five lines at most (reset, CS, DIO0/DIO1, BUSY). */
#define GPIO_MAX_LINES 8

struct gpio {
    struct gpiod_chip *chip;
    char chip_name[64];
    char consumer[32];
    struct gpiod_line *line[GPIO_MAX_LINES];
    unsigned offset[GPIO_MAX_LINES];
    int n;
};

static struct gpiod_chip *open_chip(const char *name)
{
    if (name[0] == '/')
        return gpiod_chip_open(name);
    size_t digits = strspn(name, "0123456789");
    if (digits && digits == strlen(name) && digits < 4)
        return gpiod_chip_open_by_number((unsigned)atoi(name));
    return gpiod_chip_open_by_name(name);
}

static int gpio_open(const char *chip, const char *consumer, void **ctx)
{
    struct gpio *g = calloc(1, sizeof(*g));
    if (!g)
        return LW_ERR_NOMEM;
    g->chip = open_chip(chip);
    if (!g->chip) {
        int e = errno;
        LW_LINUX_LOG(LW_RADIO_LOG_ERR, "gpio: cannot open %s: %s%s", chip, strerror(e),
                     e == ENOENT   ? " (is this the right gpio_chip? gpiodetect lists them)"
                     : e == EACCES ? " (the service user needs the gpio group)"
                                   : "");
        free(g);
        return e == ENOENT ? LW_ERR_NOTFOUND : LW_ERR_IO;
    }
    snprintf(g->chip_name, sizeof(g->chip_name), "%s", chip);
    snprintf(g->consumer, sizeof(g->consumer), "%s", consumer);
    *ctx = g;
    return LW_OK;
}

static void gpio_close(void *ctx)
{
    struct gpio *g = ctx;
    for (int i = 0; i < g->n; i++)
        gpiod_line_release(g->line[i]);
    gpiod_chip_close(g->chip);
    free(g);
}

static int gpio_request(void *ctx, unsigned offset, enum lw_gpio_mode mode, int initial)
{
    struct gpio *g = ctx;
    if (g->n == GPIO_MAX_LINES)
        return LW_ERR_TOOBIG;
    struct gpiod_line *l = gpiod_chip_get_line(g->chip, offset);
    if (!l) {
        LW_LINUX_LOG(LW_RADIO_LOG_ERR, "gpio: %s has no line %u", g->chip_name, offset);
        return LW_ERR_NOTFOUND;
    }
    int rc;
    switch (mode) {
    case LW_GPIO_OUTPUT:
        rc = gpiod_line_request_output(l, g->consumer, initial);
        break;
    case LW_GPIO_INPUT:
        rc = gpiod_line_request_input(l, g->consumer);
        break;
    default:
        rc = gpiod_line_request_rising_edge_events(l, g->consumer);
        break;
    }
    if (rc != 0) {
        int e = errno;
        const char *holder = e == EBUSY ? gpiod_line_consumer(l) : NULL;
        LW_LINUX_LOG(LW_RADIO_LOG_ERR, "gpio: cannot request line %u of %s: %s%s%s%s", offset,
                     g->chip_name, strerror(e), e == EBUSY ? " (in use by " : "",
                     e == EBUSY ? (holder ? holder : "another program") : "",
                     e == EBUSY ? ")" : "");
        return e == EBUSY ? LW_ERR_STATE : LW_ERR_IO;
    }
    if (mode == LW_GPIO_RISING) {
        /* Events are read only after poll says so, but a spurious wakeup must not block. */
        int fd = gpiod_line_event_get_fd(l);
        int fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
            LW_LINUX_LOG(LW_RADIO_LOG_ERR,
                         "gpio: line %u: cannot make its event fd non-blocking: %s", offset,
                         strerror(errno));
            gpiod_line_release(l);
            return LW_ERR_IO;
        }
    }
    g->line[g->n] = l;
    g->offset[g->n] = offset;
    return g->n++;
}

static int gpio_set(void *ctx, int h, int value)
{
    struct gpio *g = ctx;
    return gpiod_line_set_value(g->line[h], value) == 0 ? LW_OK : LW_ERR_IO;
}

static int gpio_get(void *ctx, int h)
{
    struct gpio *g = ctx;
    int v = gpiod_line_get_value(g->line[h]);
    return v < 0 ? LW_ERR_IO : v;
}

static int gpio_event_fd(void *ctx, int h)
{
    struct gpio *g = ctx;
    return gpiod_line_event_get_fd(g->line[h]);
}

static int gpio_event_read(void *ctx, int h)
{
    struct gpio *g = ctx;
    struct gpiod_line_event ev;
    if (gpiod_line_event_read(g->line[h], &ev) == 0)
        return LW_OK;
    return errno == EAGAIN || errno == EWOULDBLOCK ? LW_ERR_AGAIN : LW_ERR_IO;
}

static void gpio_delay_us(void *ctx, uint32_t us)
{
    (void)ctx;
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static uint64_t gpio_now_us(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const struct lw_gpio_ops lw_gpio_linux_ops = {
    .name = "libgpiod",
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
