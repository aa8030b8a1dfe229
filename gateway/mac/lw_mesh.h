/* SPDX-License-Identifier: Apache-2.0 */
/* Mesh sink of the gateway (pure: no I/O, time passed in): hop-limit enforcement, duplicate
 * suppression on (source, frame counter) across relays, the path, hop count and per-hop link
 * quality of every accepted frame, reverse routes for downlinks, and relays gone silent. */
#ifndef LW_MESH_H
#define LW_MESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_route.h"

#define LW_MESH_HOP_LIMIT_DEFAULT     3u
#define LW_MESH_RELAY_SILENCE_DEFAULT (300u * 1000u) /* EN 54-25: loss of communication, 300 s */
#define LW_MESH_DEDUP_DEPTH           16u            /* frame counters remembered per source */

struct lw_mesh_config {
    uint8_t hop_limit_max;     /* frames whose hop_limit exceeds it are dropped; 0..7 */
    uint32_t relay_silence_ms; /* a relay not heard for this long is reported once */
};

struct lw_mesh_stats {
    uint64_t admitted;   /* handed on for authentication */
    uint64_t duplicates; /* copies of an accepted frame (another relay, a replay) */
    uint64_t hop_limit;  /* asked for more hops than the gateway allows */
    uint64_t bad_route;  /* malformed trailer, loops, bad relay addresses */
    uint64_t echoes;     /* the gateway's own downlinks, forwarded by a relay and heard back */
    uint64_t accepted;   /* authenticated frames recorded */
    uint64_t relayed;    /* of those, frames that came through at least one relay */
};

/* What the radio reported for the last hop. */
struct lw_mesh_rx {
    int64_t mono_ms; /* reception time on a clock that never jumps */
    int16_t rssi_x10;
    int16_t snr_x10;
};

/* A frame between lw_mesh_admit and lw_mesh_accepted. */
struct lw_mesh_frame {
    struct lw_route route; /* the path as received (unauthenticated until accepted) */
    size_t len;            /* length of the origin's frame now at the start of the buffer */
    bool echo;             /* a downlink of the gateway's own, heard back from a relay */
    bool copy;             /* LW_ERR_DUP for a copy of an accepted frame (not a route loop) */
};

/* The path of a node's latest accepted frame: the reverse route for downlinks. */
struct lw_mesh_path {
    uint8_t hops;                        /* relays crossed; 0 = heard directly */
    struct lw_route_hop hop[LW_HOP_MAX]; /* hop[0]: the relay nearest the node */
    int16_t gw_rssi_x10, gw_snr_x10;     /* the last hop, as the gateway heard it */
    int64_t t_ms;                        /* when (mono_ms) */
};

struct lw_mesh;

void lw_mesh_config_defaults(struct lw_mesh_config *cfg);
/* NULL when out of memory or cfg->hop_limit_max > 7. */
struct lw_mesh *lw_mesh_new(const struct lw_mesh_config *cfg);
void lw_mesh_free(struct lw_mesh *m);

/* Step 1, before any cryptography. Parses the route trailer, enforces the hop limit and spots
 * copies of frames already accepted; on LW_OK and LW_ERR_DUP the buffer holds the origin's frame
 * (trailer removed, hop_count 0) of f->len bytes, to authenticate as usual. Returns LW_OK,
 * LW_ERR_DUP (a copy: the replay window will refuse it), LW_ERR_RANGE (hop_limit or hop_count above
 * the gateway's maximum), or a lw_route_parse error. JOIN_REQ frames skip the duplicate check
 * (their counter is the join nonce, and the join procedure refuses repeats itself). A downlink type
 * from the gateway's address (its own ACK, CMD or JOIN_ACC forwarded by a relay) gives LW_ERR_DUP
 * with f->echo set: not an uplink, nothing to reject. Nothing is remembered here: a forged copy
 * cannot keep the genuine frame out. */
int lw_mesh_admit(struct lw_mesh *m, uint8_t *buf, size_t len, struct lw_mesh_frame *f);

/* Step 2, only once the frame authenticated (src and fcnt are genuine): remember (src, fcnt)
 * for duplicate suppression, the path with its per-hop SNRs as the node's route, and every relay
 * on it as heard now. Returns LW_OK or LW_ERR_NOMEM. */
int lw_mesh_accepted(struct lw_mesh *m, const struct lw_mesh_frame *f, const struct lw_mesh_rx *rx);

/* The route to node (its latest accepted path). LW_OK or LW_ERR_NOTFOUND. A downlink to the node
 * is sent with hop_limit = path.hops; relays forward it back along the reverse path. */
int lw_mesh_route(const struct lw_mesh *m, uint16_t node, struct lw_mesh_path *path);

/* Nodes whose latest path goes through relay (reachable only through it, as far as the gateway
 * knows), in address order; at most cap written, the total returned. */
size_t lw_mesh_behind(const struct lw_mesh *m, uint16_t relay, uint16_t *out, size_t cap);

/* Called by lw_mesh_check_relays for a relay that went silent (silent true; behind = the nodes
 * behind it) or was heard again after being reported (silent false). */
typedef void (*lw_mesh_relay_fn)(void *user, uint16_t relay, bool silent, const uint16_t *behind,
                                 size_t n_behind, int64_t last_heard_ms);

/* Report each relay not heard for relay_silence_ms once, and once more when it is heard again.
 * Call it from a timer with the same clock as lw_mesh_rx.mono_ms. Returns the calls made. */
size_t lw_mesh_check_relays(struct lw_mesh *m, int64_t now_ms, lw_mesh_relay_fn fn, void *user);

/* Relays known (they forwarded an accepted frame), and the counters. */
size_t lw_mesh_relay_count(const struct lw_mesh *m);
/* A relay known from before a restart: watched as if heard at last_heard_ms; silent when its
 * silence was already reported (lw_mesh_check_relays then reports it once it is heard). */
void lw_mesh_relay_known(struct lw_mesh *m, uint16_t relay, int64_t last_heard_ms, bool silent);
void lw_mesh_stats(const struct lw_mesh *m, struct lw_mesh_stats *out);

#endif
