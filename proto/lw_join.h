/* SPDX-License-Identifier: Apache-2.0 */
/* Join procedure (PROTOCOL.md section 12): JOIN_REQ/JOIN_ACC frames and session-key derivation
 * from a node's root key. Pure functions: no I/O, no allocation, no state of their own. */
#ifndef LW_JOIN_H
#define LW_JOIN_H

#include <stdint.h>
#include <stddef.h>

#include "lw_frame.h"

#define LW_JOIN_EUI_LEN      8 /* EUI-64, sent in label order (first printed byte first) */
#define LW_JOIN_GW_NONCE_LEN 8 /* gateway nonce: 64 random bits from the gateway's CSPRNG */
#define LW_JOIN_ADDR_LEN     2 /* the encrypted part of a JOIN_ACC: the assigned address */
/* JOIN_REQ: header | EUI | MIC; JOIN_ACC: header | gateway nonce | address (encrypted) | MIC. */
#define LW_JOIN_REQ_LEN (LW_FRAME_HDR_LEN + LW_JOIN_EUI_LEN + LW_FRAME_MIC_LEN)
#define LW_JOIN_ACC_LEN                                                                            \
    (LW_FRAME_HDR_LEN + LW_JOIN_GW_NONCE_LEN + LW_JOIN_ADDR_LEN + LW_FRAME_MIC_LEN)
/* Source of a JOIN_REQ and destination of a JOIN_ACC: the node has no address yet. */
#define LW_ADDR_UNASSIGNED 0xFFFFu

/* A join request: what the node sends, and what the gateway learns from it. */
struct lw_join_req {
    uint16_t net_id;              /* network the node asks to join (provisioned) */
    uint8_t hop_count;            /* as received; the origin always sends 0 */
    uint8_t hop_limit;            /* 0..7 */
    uint8_t eui[LW_JOIN_EUI_LEN]; /* the node's EUI-64: selects its root key */
    uint32_t join_nonce;          /* node's persisted join counter, 1..0xFFFFFFFF, never reused */
};

/* A join accept: what the gateway answers, and what the node learns from it. */
struct lw_join_acc {
    uint16_t net_id;                        /* equals the request's */
    uint8_t hop_count;                      /* as received; the gateway always sends 0 */
    uint8_t hop_limit;                      /* 0..7, chosen by the gateway */
    uint32_t join_nonce;                    /* echo of the request's join nonce */
    uint8_t gw_nonce[LW_JOIN_GW_NONCE_LEN]; /* fresh random bytes per accept */
    uint16_t address;                       /* assigned node address, 0x0001..0xFFFE */
};

/* The keys of one session; frames then use lw_frame_seal/lw_frame_open unchanged. */
struct lw_join_keys {
    uint8_t up[LW_KEY_LEN];   /* frames node -> gateway (DATA, ALARM) */
    uint8_t down[LW_KEY_LEN]; /* frames gateway -> node (ACK, CMD) */
};

/* The key that authenticates JOIN_REQ and encrypts JOIN_ACC:
 * HKDF-SHA256(salt empty, IKM root_key, info "lorawatch v1 join" 00 | net_id | EUI), 16 bytes.
 * Returns LW_OK, LW_ERR_INVAL (NULL, all-zero root key) or LW_ERR_CRYPTO; out zeroed on error. */
int lw_join_derive_join_key(const uint8_t root_key[LW_KEY_LEN], uint16_t net_id,
                            const uint8_t eui[LW_JOIN_EUI_LEN], uint8_t join_key[LW_KEY_LEN]);

/* Node: build a JOIN_REQ for req (hop_count is ignored and sent as 0). The caller must have
 * persisted req->join_nonce as used before the frame goes on the air. out needs
 * LW_JOIN_REQ_LEN bytes. Returns LW_JOIN_REQ_LEN, or LW_ERR_INVAL (NULL, join_nonce 0,
 * hop_limit > 7, all-zero root key), LW_ERR_TOOBIG (small outcap) or LW_ERR_CRYPTO. */
int lw_join_request_build(const struct lw_join_req *req, const uint8_t root_key[LW_KEY_LEN],
                          uint8_t *out, size_t outcap);

/* Gateway, step 1: structural checks only, no crypto, so the caller can look up the root key and
 * last accepted join nonce of req->eui. Returns LW_OK or, in this order: any lw_frame_peek error,
 * LW_ERR_TYPE (not JOIN_REQ), LW_ERR_TRUNCATED / LW_ERR_TOOBIG (length != LW_JOIN_REQ_LEN),
 * LW_ERR_INVAL (ACK_REQ set, src != LW_ADDR_UNASSIGNED, dst != gateway, join nonce 0).
 * Nothing learnt here is authenticated; req is zeroed on error. */
int lw_join_request_peek(const uint8_t *buf, size_t len, struct lw_join_req *req);

/* Gateway, step 2: the lw_join_request_peek checks, then net_id (LW_ERR_NETWORK), then the MIC
 * under the join key of root_key (LW_ERR_MIC), then the join nonce against last_nonce, the
 * highest nonce ever accepted from this EUI, 0 if none (LW_ERR_REPLAY unless > last_nonce).
 * The MIC is checked first so that LW_ERR_REPLAY is only ever reported for genuine requests.
 * On LW_OK the caller must persist req->join_nonce as the new last nonce before it answers.
 * req is zeroed on any error; the gateway answers no rejected request (PROTOCOL.md 12.6). */
int lw_join_request_parse_verify(const uint8_t *buf, size_t len, uint16_t net_id,
                                 const uint8_t root_key[LW_KEY_LEN], uint32_t last_nonce,
                                 struct lw_join_req *req);

/* Gateway: build the JOIN_ACC answering a verified request (acc->join_nonce its nonce, acc->
 * gw_nonce fresh random bytes; hop_count ignored, sent as 0). out needs LW_JOIN_ACC_LEN bytes.
 * Returns LW_JOIN_ACC_LEN, or LW_ERR_INVAL (NULL, join_nonce 0, address 0 or 0xFFFF,
 * hop_limit > 7, all-zero root key), LW_ERR_TOOBIG or LW_ERR_CRYPTO. */
int lw_join_accept_build(const struct lw_join_acc *acc, const uint8_t root_key[LW_KEY_LEN],
                         const uint8_t eui[LW_JOIN_EUI_LEN], uint8_t *out, size_t outcap);

/* Node: open a JOIN_ACC answering the request with join_nonce. Returns LW_OK or, in this order:
 * LW_ERR_INVAL (NULL, join_nonce 0, all-zero root key), any lw_frame_peek error, LW_ERR_TYPE,
 * LW_ERR_TRUNCATED / LW_ERR_TOOBIG (length != LW_JOIN_ACC_LEN), LW_ERR_INVAL (ACK_REQ set,
 * src != gateway, dst != LW_ADDR_UNASSIGNED), LW_ERR_NETWORK, LW_ERR_REPLAY (echoed nonce is not
 * join_nonce: a stale accept or another node's), LW_ERR_MIC, LW_ERR_RANGE (authentic but the
 * address is 0 or 0xFFFF). acc is zeroed on any error: nothing unauthenticated escapes. */
int lw_join_accept_open(const uint8_t *buf, size_t len, uint16_t net_id,
                        const uint8_t root_key[LW_KEY_LEN], const uint8_t eui[LW_JOIN_EUI_LEN],
                        uint32_t join_nonce, struct lw_join_acc *acc);

/* Both sides: the session keys of the join described by acc, 16 bytes each:
 * HKDF-SHA256(salt join_nonce | gw_nonce, IKM root_key,
 *             info "lorawatch v1 up" / "lorawatch v1 down" 00 | net_id | EUI | address).
 * Returns LW_OK, LW_ERR_INVAL (NULL, join_nonce 0, address 0 or 0xFFFF, all-zero root key) or
 * LW_ERR_CRYPTO; keys is zeroed on error. */
int lw_join_derive_keys(const uint8_t root_key[LW_KEY_LEN], const uint8_t eui[LW_JOIN_EUI_LEN],
                        const struct lw_join_acc *acc, struct lw_join_keys *keys);

#endif
