/* SPDX-License-Identifier: Apache-2.0 */
/* The radio boundary: every backend (sim, udp-forwarder, sx127x, sx126x) is a table of
 * operations with a void *ctx, chosen by its config name. The daemon watches the backend's fd in
 * its libuv loop and drains received frames when it is readable: no work in interrupt context. */
#ifndef LW_RADIO_H
#define LW_RADIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lw_model.h"
#include "lw_radio_types.h" /* struct lw_radio_rx, shared with the chip drivers */

struct lw_radio_stats {
    uint64_t rx_frames;
    uint64_t rx_malformed; /* transport-level garbage the backend dropped (udp-forwarder: also
                            * rxpk with a failed or no CRC, or not LoRa) */
    uint64_t tx_frames;
    uint64_t resets; /* chip resets by the radio watchdog */
    /* Single-chip backends (sx127x, sx126x; zero elsewhere): */
    uint64_t rx_crc_errors;     /* frames with a bad or no payload CRC (also in rx_malformed) */
    uint64_t watchdog_checks;   /* periodic read-backs of the chip's configuration */
    uint64_t tx_timeouts;       /* transmissions whose TX done never came */
    uint64_t recoveries_failed; /* resets after which the chip still did not work */
    bool fault; /* the radio is down: the last recovery failed (retried with backoff) */
};

struct lw_radio_ops {
    const char *name;
    /* Allocate and configure from cfg; LW_OK or negative lw_err (logged by the backend). */
    int (*open)(const struct lw_config *cfg, void **ctx);
    void (*close)(void *ctx);
    /* File descriptor that becomes readable when frames (or IRQs) are pending. */
    int (*fd)(void *ctx);
    /* Fetch one pending frame: LW_OK, LW_ERR_AGAIN when nothing is left, other errors are
     * faults of the radio. Malformed transport input is dropped and counted, not returned. */
    int (*read)(void *ctx, struct lw_radio_rx *rx);
    /* Queue a frame for transmission; LW_OK or negative lw_err. */
    int (*transmit)(void *ctx, const uint8_t *buf, size_t len);
    void (*stats)(void *ctx, struct lw_radio_stats *out);
    /* Optional (NULL: the backend cannot listen, e.g. a concentrator's forwarder schedules its
     * own TX): channel activity detection for listen-before-talk. 1 the channel is busy, 0 free,
     * negative lw_err on a radio fault. */
    int (*cad)(void *ctx);
};

extern const struct lw_radio_ops lw_radio_sim_ops;
extern const struct lw_radio_ops lw_radio_udpfwd_ops;
extern const struct lw_radio_ops lw_radio_sx127x_ops; /* lw_radio_chip.c */
extern const struct lw_radio_ops lw_radio_sx126x_ops;

/* For UDP-based backends: a non-blocking UDP socket bound to the numeric HOST:PORT in
 * hostport (the config key named key, for messages), with a receive buffer of rcvbuf bytes.
 * Returns the fd, or a negative lw_err after logging why. */
int lw_radio_udp_bind(const char *backend, const char *key, const char *hostport, int rcvbuf);

/* Find a backend by its config name; NULL when unknown. */
const struct lw_radio_ops *lw_radio_find(const char *name);

/* The loop side: owns the backend and a uv_poll on its fd, and delivers frames to on_rx. */
struct lw_radio;
typedef void (*lw_radio_rx_fn)(void *arg, const struct lw_radio_rx *rx);

int lw_radio_new(uv_loop_t *loop, const struct lw_config *cfg, lw_radio_rx_fn on_rx, void *arg,
                 struct lw_radio **out);
/* Stop polling and close; the struct is freed after libuv has released the handle. */
void lw_radio_free(struct lw_radio *r);
void lw_radio_stats(struct lw_radio *r, struct lw_radio_stats *out);
int lw_radio_transmit(struct lw_radio *r, const uint8_t *buf, size_t len);
/* Listen before talk: 1 busy, 0 free (also when the backend cannot tell), negative lw_err. */
int lw_radio_channel_busy(struct lw_radio *r);

#endif
