/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway's side of the join procedure (PROTOCOL.md section 12): which requests are answered
 * (pairing window, known EUI, root key, fresh nonce, rate limit) and the accept that answers them.
 * Pure: the caller passes the time and the gateway nonce's random bytes, persists the outcome and
 * transmits the accept. */
#ifndef LW_PAIRING_H
#define LW_PAIRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_join.h"
#include "lw_model.h"
#include "lw_registry.h"

/* Join requests are refused before any lookup or crypto once this bucket is empty: a flood of
 * requests from unknown EUIs costs a counter increment each, and no memory. */
#define LW_JOIN_RATE_PER_S                                                                         \
    2.0 /* a maintainer pairs one node at a time; an estate-wide power cut                         \
         * makes every node rejoin: 300 nodes in 150 s, nodes back off */
#define LW_JOIN_BURST 10.0
struct lw_join_limiter {
    double rate;  /* tokens per second */
    double burst; /* bucket size */
    double tokens;
    int64_t last_ms;
};
void lw_join_limiter_init(struct lw_join_limiter *l, double rate_per_s, double burst);
/* Take a token at now_ms (monotonic); false when the bucket is empty. */
bool lw_join_limiter_take(struct lw_join_limiter *l, int64_t now_ms);

struct lw_pairing_stats {
    uint64_t accepted;
    uint64_t malformed;    /* not a well-formed JOIN_REQ, or another network */
    uint64_t rate_limited; /* dropped unexamined: too many join requests */
    uint64_t unknown;      /* EUI not paired, retired, or provisioned with a fixed key */
    uint64_t window;       /* pending node whose pairing window has closed */
    uint64_t refused;      /* MIC or nonce check failed (wrong key, replayed request) */
};

struct lw_join_outcome {
    struct lw_node *node;     /* the node that joined (registry entry, not yet updated) */
    struct lw_node_conf conf; /* its new description: session keys, nonce, state active */
    uint8_t accept[LW_JOIN_ACC_LEN];
    size_t accept_len;
    struct lw_join_req req;
};

/* Examine one JOIN_REQ frame received at wall time wall_ms / monotonic time mono_ms; gw_nonce
 * must be fresh random bytes. The accept gets the request's hop limit: the answer may need as
 * many relays. LW_OK fills out: the caller must store out->conf (the accepted
 * nonce above all) durably before it transmits out->accept, then put out->conf in the registry.
 * Errors, each counted in st and never answered: LW_ERR_AGAIN (rate limited), lw_join_request_peek
 * errors and LW_ERR_NETWORK (malformed), LW_ERR_UNKNOWN_NODE, LW_ERR_STATE (pairing window
 * closed), LW_ERR_MIC / LW_ERR_REPLAY (refused). */
int lw_pairing_handle(const uint8_t *buf, size_t len, uint16_t net_id, struct lw_registry *reg,
                      struct lw_join_limiter *lim, int64_t wall_ms, int64_t mono_ms,
                      const uint8_t gw_nonce[LW_JOIN_GW_NONCE_LEN], struct lw_join_outcome *out,
                      struct lw_pairing_stats *st);

#endif
