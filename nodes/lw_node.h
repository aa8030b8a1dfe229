/* Portable sensor-node core: turns readings into sealed DATA/ALARM frames and hands them to a
 * caller-supplied radio HAL. No OS calls, no heap: it builds for Linux and for microcontrollers. */
#ifndef LW_NODE_H
#define LW_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_frame.h"
#include "lw_reading.h"

#define LW_NODE_HOP_LIMIT_DEFAULT 3u
#define LW_NODE_EUI_LEN           8

/* Identity and keys of one node, as provisioned (and as the gateway's registry holds them). */
struct lw_node_config {
    uint16_t net_id;              /* network identifier of the estate */
    uint16_t address;             /* 0x0001..0xFFFE */
    uint8_t eui[LW_NODE_EUI_LEN]; /* EUI-64 from the label; used by the join procedure later */
    uint8_t key[LW_KEY_LEN];      /* AES-128 session key; all-zero keys are refused */
    uint8_t hop_limit;            /* 0..7 relays allowed; lw_node_config_defaults sets 3 */
    uint32_t fcnt_start;          /* first frame counter (restored from flash after a reboot) */
};

/* What the node needs from its platform. Designated initialisers, please: more ops will be
 * added and unused ones may stay NULL. */
struct lw_node_hal {
    void *ctx; /* passed back to every op */
    /* Milliseconds on any monotonic or wall clock; optional today (retry timing will use it). */
    uint64_t (*now_ms)(void *ctx);
    /* Put one frame on the air. Returns >= 0 on success or a negative lw_err. Required. */
    int (*send)(void *ctx, const uint8_t *frame, size_t len);
    /* Reserved for the downlink path (ACK of ALARM frames, CMD): called with an opened frame. */
    void (*on_receive)(void *ctx, const struct lw_frame_hdr *hdr, const uint8_t *plain, size_t len);
    /* Reserved: random numbers for join nonces and retry back-off. */
    uint32_t (*random)(void *ctx);
};

/* Node state; the caller allocates it (statically on a microcontroller). Treat as opaque. */
struct lw_node {
    struct lw_node_config cfg;
    struct lw_node_hal hal;
    uint32_t fcnt_next; /* counter of the next frame */
    bool fcnt_spent;    /* 0xFFFFFFFF has been used: no nonce is left under this key */
    uint8_t frame[LW_FRAME_MAX_LEN];
    /* Later: pending ALARM awaiting its ACK (retry count, deadline), join state, relay queue. */
};

/* Fill cfg with defaults: everything zero, hop_limit LW_NODE_HOP_LIMIT_DEFAULT, fcnt_start 1. */
void lw_node_config_defaults(struct lw_node_config *cfg);

/* Returns LW_OK, or LW_ERR_INVAL for a NULL argument, a missing hal->send, an address of 0
 * (gateway) or 0xFFFF (broadcast), a hop limit above 7 or an all-zero key. */
int lw_node_init(struct lw_node *n, const struct lw_node_config *cfg,
                 const struct lw_node_hal *hal);

/* Encode r as TLVs, seal it as a DATA frame (ALARM with ack_req when alarm) to the gateway with
 * the next frame counter, and send it. The counter advances even if hal->send fails, because a
 * sealed frame may have reached the air: a nonce is never used twice.
 * Returns the frame length, or a negative lw_err: LW_ERR_RANGE once counter 0xFFFFFFFF has been
 * used (the node needs a new key), any lw_reading_encode/lw_frame_seal error, or hal->send's. */
int lw_node_report(struct lw_node *n, const struct lw_reading *r, bool alarm);

/* Counter the next frame will carry (persist it across reboots), and whether any are left. */
uint32_t lw_node_fcnt_next(const struct lw_node *n);
bool lw_node_fcnt_exhausted(const struct lw_node *n);

#endif
