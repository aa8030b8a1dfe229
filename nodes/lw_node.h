/* Portable sensor-node core: joins (or uses a personalised key), turns readings into sealed
 * DATA/ALARM frames for a caller-supplied radio HAL and opens downlinks. No OS calls, no heap: it
 * builds for Linux and for microcontrollers. */
#ifndef LW_NODE_H
#define LW_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_frame.h"
#include "lw_reading.h"
#include "lw_replay.h"

#define LW_NODE_HOP_LIMIT_DEFAULT 3u
#define LW_NODE_EUI_LEN           8

/* Identity and keys of one node, as provisioned (and as the gateway's registry holds them).
 * Personalised mode: key (and address) set, the node sends at once. Join mode: key all-zero,
 * root_key set; the node sends nothing until lw_node_join_start's JOIN_ACC has arrived. A node
 * with both starts personalised and may join later. PROTOCOL.md sections 4 and 12. */
struct lw_node_config {
    uint16_t net_id;              /* network identifier of the estate */
    uint16_t address;             /* personalised mode: 0x0001..0xFFFE; join mode: ignored */
    uint8_t eui[LW_NODE_EUI_LEN]; /* EUI-64 from the label: identifies the node in a JOIN_REQ */
    uint8_t key[LW_KEY_LEN];      /* personalised node key; all-zero: none (join mode) */
    uint8_t hop_limit;            /* 0..7 relays allowed; lw_node_config_defaults sets 3 */
    uint32_t fcnt_start;          /* personalised: first frame counter (restored from flash) */
    uint32_t fcnt_down_top;       /* personalised: highest downlink counter accepted (restored
                                     from flash), 0 = none; every counter <= it counts as seen */
    uint8_t root_key[LW_KEY_LEN]; /* the node's own join root key; all-zero: cannot join */
    uint32_t join_nonce_last;     /* last join nonce used (restored from flash), 0 = none */
};

/* What the node needs from its platform. Designated initialisers, please: more ops will be
 * added and unused ones may stay NULL. */
struct lw_node_hal {
    void *ctx; /* passed back to every op */
    /* Milliseconds on any monotonic or wall clock; optional today (retry timing will use it). */
    uint64_t (*now_ms)(void *ctx);
    /* Put one frame on the air. Returns >= 0 on success or a negative lw_err. Required. */
    int (*send)(void *ctx, const uint8_t *frame, size_t len);
    /* Optional: an authentic, fresh ACK or CMD opened by lw_node_handle_downlink. In
     * personalised mode persist lw_node_fcnt_down_top() here before acting on the frame. */
    void (*on_receive)(void *ctx, const struct lw_frame_hdr *hdr, const uint8_t *plain, size_t len);
    /* Reserved: random numbers for retry back-off (join nonces are counters, not random). */
    uint32_t (*random)(void *ctx);
    /* Store nonce durably as the last join nonce used (cfg.join_nonce_last after a reboot).
     * Returns >= 0 once it is stored, or a negative lw_err. Required by lw_node_join_start, which
     * calls it before the JOIN_REQ carrying nonce is built, so a nonce is never sent twice. */
    int (*store_join_nonce)(void *ctx, uint32_t nonce);
};

/* Node state; the caller allocates it (statically on a microcontroller). Treat as opaque. */
struct lw_node {
    struct lw_node_config cfg;
    struct lw_node_hal hal;
    uint32_t fcnt_next; /* counter of the next frame */
    bool fcnt_spent;    /* 0xFFFFFFFF has been used: no nonce is left under this key */
    bool have_session;  /* key_up/key_down/address are usable (personalised or joined) */
    bool joined;        /* the session came from a join */
    bool join_pending;  /* a JOIN_REQ with join_nonce_last awaits its JOIN_ACC */
    uint16_t address;   /* source address of uplinks */
    uint32_t join_nonce_last;
    uint8_t key_up[LW_KEY_LEN];   /* seals uplinks: cfg.key, or the session's uplink key */
    uint8_t key_down[LW_KEY_LEN]; /* opens downlinks: cfg.key, or the session's downlink key */
    struct lw_replay down_replay; /* downlink counters seen under key_down */
    uint8_t frame[LW_FRAME_MAX_LEN];
    /* Later: pending ALARM awaiting its ACK (retry count, deadline), relay queue. */
};

/* Fill cfg with defaults: everything zero, hop_limit LW_NODE_HOP_LIMIT_DEFAULT, fcnt_start 1. */
void lw_node_config_defaults(struct lw_node_config *cfg);

/* Returns LW_OK, or LW_ERR_INVAL for a NULL argument, a missing hal->send, a hop limit above 7,
 * both key and root_key all-zero, key equal to root_key (one key, one role), or with a
 * personalised key an address of 0 (gateway) or 0xFFFF (broadcast). */
int lw_node_init(struct lw_node *n, const struct lw_node_config *cfg,
                 const struct lw_node_hal *hal);

/* Encode r as TLVs, seal it as a DATA frame (ALARM with ack_req when alarm) to the gateway with
 * the next frame counter, and send it. The counter advances even if hal->send fails, because a
 * sealed frame may have reached the air: a nonce is never used twice.
 * Returns the frame length, or a negative lw_err: LW_ERR_STATE before a join mode node has
 * joined, LW_ERR_RANGE once counter 0xFFFFFFFF has been used (the node needs a new key: rejoin),
 * any lw_reading_encode/lw_frame_seal error, or hal->send's. */
int lw_node_report(struct lw_node *n, const struct lw_reading *r, bool alarm);

/* Counter the next frame will carry (persist it across reboots), and whether any are left. */
uint32_t lw_node_fcnt_next(const struct lw_node *n);
bool lw_node_fcnt_exhausted(const struct lw_node *n);

/* Start (or restart) a join: take the last join nonce used (cfg.join_nonce_last at boot) + 1,
 * store it through hal->store_join_nonce, then build and send a JOIN_REQ (src 0xFFFF) with it.
 * A JOIN_ACC for an earlier nonce is refused from now on; an existing session keeps working until
 * the new one is accepted. Call again (with back-off) when no JOIN_ACC arrives. Returns the frame
 * length, or LW_ERR_STATE (no root key), LW_ERR_INVAL (NULL, no store_join_nonce), LW_ERR_RANGE
 * (nonce 0xFFFFFFFF used: the node needs a new root key), the store's error (nothing sent), a build
 * error, or hal->send's (the request stays pending: it may have reached the air). */
int lw_node_join_start(struct lw_node *n);

/* Handle one received frame. JOIN_ACC answering the pending join: open it, derive the session
 * keys, switch to them with the assigned address, uplink counter 1 and a fresh downlink window.
 * ACK or CMD to this node: check counter (window of PROTOCOL.md section 6), open with the
 * downlink key, then hand it to hal->on_receive. Returns LW_OK, or a negative lw_err and changes
 * nothing: any lw_frame_peek / lw_join_accept_open / lw_frame_open error, LW_ERR_STATE (no join
 * pending, or no session for an ACK/CMD), LW_ERR_TYPE (an uplink type), LW_ERR_NETWORK,
 * LW_ERR_INVAL (not from the gateway or not to this node), LW_ERR_REPLAY, LW_ERR_TOOBIG. */
int lw_node_handle_downlink(struct lw_node *n, const uint8_t *frame, size_t len);

/* State for the application: the session came from a join; the current source address (0 while
 * a join mode node has no session); the last join nonce used (persisted by the HAL already); the
 * highest downlink counter accepted (persist it in personalised mode). */
bool lw_node_joined(const struct lw_node *n);
uint16_t lw_node_address(const struct lw_node *n);
uint32_t lw_node_join_nonce_last(const struct lw_node *n);
uint32_t lw_node_fcnt_down_top(const struct lw_node *n);

#endif
