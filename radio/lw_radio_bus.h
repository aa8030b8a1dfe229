/* SPDX-License-Identifier: Apache-2.0 */
/* The bus contract: everything a chip driver needs from the board, as a table of operations with
 * a context. No fds, GPIO numbers or OS calls, so one driver runs over Linux spidev + libgpiod, a
 * register-level emulator, or a microcontroller's radio SPI (where BUSY and NSS may be
 * power-controller bits and the IRQ an interrupt line). */
#ifndef LW_RADIO_BUS_H
#define LW_RADIO_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Log priorities: the syslog numbers. */
enum lw_radio_log_prio {
    LW_RADIO_LOG_ERR = 3,
    LW_RADIO_LOG_WARNING = 4,
    LW_RADIO_LOG_NOTICE = 5,
    LW_RADIO_LOG_INFO = 6,
    LW_RADIO_LOG_DEBUG = 7,
};

/* State of one call site whose message can repeat at bus speed (zeroed static storage, updated
 * only by the log hook, which may use it to rate-limit). */
struct lw_radio_log_site {
    uint64_t window_start_ms;
    unsigned printed;
    unsigned suppressed;
};

/* Longest message a driver formats; longer ones are cut. */
#define LW_RADIO_LOG_MAX 256

/* Longest single transaction the drivers make: a 255-byte FIFO burst plus command bytes. */
#define LW_RADIO_MAX_XFER 260

struct lw_radio_bus_ops {
    /* One full-duplex SPI transaction of len bytes with NSS held low around it (rx may be NULL).
     * LW_OK or LW_ERR_IO; NSS is released even after a failure. */
    int (*xfer)(void *ctx, const uint8_t *tx, uint8_t *rx, size_t len);
    /* Hold the chip in reset for low_us, release it, then wait wait_us for it to start. Without a
     * reset line, only wait. LW_OK or LW_ERR_IO. */
    int (*reset)(void *ctx, uint32_t low_us, uint32_t wait_us);
    /* Level of BUSY: 0, 1, or a negative lw_err (0 when the bus has none). */
    int (*busy)(void *ctx);
    /* Consume what the IRQ signal has queued since the last call (edges, an interrupt flag):
     * 1 something was pending, 0 nothing. Used by the consumer's loop, not the drivers, which
     * read the chip's own IRQ register. */
    int (*irq_take)(void *ctx);
    /* Wait about us microseconds (emulators advance virtual time). */
    void (*delay_us)(void *ctx, uint32_t us);
    /* A clock that never jumps, in microseconds. */
    uint64_t (*now_us)(void *ctx);
    /* Optional (NULL: silent). One formatted message at prio; site is NULL, or the state of a
     * call site whose message may repeat at bus speed. */
    void (*log)(void *ctx, int prio, struct lw_radio_log_site *site, const char *msg);
};

/* One opened bus as a driver sees it. */
struct lw_radio_bus {
    const struct lw_radio_bus_ops *ops;
    void *ctx;
    const char *where; /* names the bus in messages: "/dev/spidev0.0", "SUBGHZSPI" */
    bool has_busy;     /* a BUSY signal is wired (required by the SX126x) */
};

static inline int lw_radio_bus_xfer(const struct lw_radio_bus *b, const uint8_t *tx, uint8_t *rx,
                                    size_t len)
{
    return b->ops->xfer(b->ctx, tx, rx, len);
}

static inline int lw_radio_bus_reset(const struct lw_radio_bus *b, uint32_t low_us,
                                     uint32_t wait_us)
{
    return b->ops->reset(b->ctx, low_us, wait_us);
}

static inline int lw_radio_bus_busy(const struct lw_radio_bus *b)
{
    return b->ops->busy(b->ctx);
}

static inline int lw_radio_bus_irq_take(const struct lw_radio_bus *b)
{
    return b->ops->irq_take(b->ctx);
}

static inline void lw_radio_bus_delay_us(const struct lw_radio_bus *b, uint32_t us)
{
    b->ops->delay_us(b->ctx, us);
}

static inline uint64_t lw_radio_bus_now_us(const struct lw_radio_bus *b)
{
    return b->ops->now_us(b->ctx);
}

/* Format and hand a message to the bus's log hook (nothing when there is none). */
void lw_radio_logf(const struct lw_radio_bus *b, int prio, struct lw_radio_log_site *site,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define LW_RADIO_LOG(bus, prio, ...) lw_radio_logf((bus), (prio), NULL, __VA_ARGS__)
/* For messages that can repeat at bus speed: the hook may rate-limit per call site. */
#define LW_RADIO_LOG_RL(bus, prio, ...)                                                            \
    do {                                                                                           \
        static struct lw_radio_log_site lw_site_;                                                  \
        lw_radio_logf((bus), (prio), &lw_site_, __VA_ARGS__);                                      \
    } while (0)

#endif
