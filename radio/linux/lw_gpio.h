/* SPDX-License-Identifier: Apache-2.0 */
/* GPIO lines for radio HATs behind a small table of operations: the Linux implementation uses
 * libgpiod 1.6 (character device, edge events as a pollable fd); emulators in tests provide their
 * own table, so the chip drivers run unchanged against either. */
#ifndef LW_GPIO_H
#define LW_GPIO_H

#include <stdint.h>

#include "lw_radio_bus.h"

enum lw_gpio_mode {
    LW_GPIO_OUTPUT, /* driven by us: reset, software chip-select */
    LW_GPIO_INPUT,  /* read when needed: BUSY */
    LW_GPIO_RISING, /* input whose rising edges are queued as events on a pollable fd: DIO */
};

struct lw_gpio_ops {
    const char *name;
    /* Open the GPIO chip named chip ("gpiochip0", a path or a number); consumer labels the lines
     * we request (shown by gpioinfo). LW_OK, LW_ERR_NOTFOUND, LW_ERR_IO (logged). */
    int (*open)(const char *chip, const char *consumer, void **ctx);
    void (*close)(void *ctx);
    /* Request line offset in mode (initial: output level). Returns a handle >= 0, or
     * LW_ERR_NOTFOUND (no such line), LW_ERR_STATE (in use by someone else), LW_ERR_IO; logged
     * with the consumer that holds the line. */
    int (*request)(void *ctx, unsigned offset, enum lw_gpio_mode mode, int initial);
    /* Drive an output: LW_OK or LW_ERR_IO. */
    int (*set)(void *ctx, int h, int value);
    /* Level of a line: 0, 1, or LW_ERR_IO. */
    int (*get)(void *ctx, int h);
    /* For LW_GPIO_RISING lines: the fd that becomes readable when edges are queued. */
    int (*event_fd)(void *ctx, int h);
    /* Consume one queued edge: LW_OK, LW_ERR_AGAIN when none is queued, LW_ERR_IO. Never blocks. */
    int (*event_read)(void *ctx, int h);
    /* Wait about us microseconds (reset pulses, BUSY polling); emulators advance virtual time. */
    void (*delay_us)(void *ctx, uint32_t us);
    /* A clock that never jumps, in microseconds, for timeouts measured around delay_us. */
    uint64_t (*now_us)(void *ctx);
};

extern const struct lw_gpio_ops lw_gpio_linux_ops;

/* Where the Linux transport's messages go (spidev, libgpiod and the chip bus's log hook): set once
 * by the program before it opens a bus (the gateway: its journal, lw_radio_chip.c). Unset, they
 * are dropped. site is NULL or the state of a call site that may repeat at bus speed. */
typedef void (*lw_radio_linux_log_fn)(int prio, struct lw_radio_log_site *site, const char *msg);
void lw_radio_linux_set_log(lw_radio_linux_log_fn fn);
void lw_radio_linux_logf(int prio, struct lw_radio_log_site *site, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define LW_LINUX_LOG(prio, ...) lw_radio_linux_logf((prio), NULL, __VA_ARGS__)
#define LW_LINUX_LOG_RL(prio, ...)                                                                 \
    do {                                                                                           \
        static struct lw_radio_log_site lw_site_;                                                  \
        lw_radio_linux_logf((prio), &lw_site_, __VA_ARGS__);                                       \
    } while (0)

#endif
