/* SPDX-License-Identifier: Apache-2.0 */
/* Over-the-air frame v1: header layout, sealing (AES-128-CCM, 8-byte MIC) and opening. No I/O. */
#ifndef LW_FRAME_H
#define LW_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_PROTO_VERSION     1
#define LW_FRAME_HDR_LEN     12 /* VT, HOP, net_id, src, dst, fcnt */
#define LW_FRAME_MIC_LEN     8  /* CCM tag length */
#define LW_FRAME_OVERHEAD    (LW_FRAME_HDR_LEN + LW_FRAME_MIC_LEN)
#define LW_FRAME_MAX_LEN     255 /* largest LoRa PHY payload */
#define LW_FRAME_MAX_PAYLOAD (LW_FRAME_MAX_LEN - LW_FRAME_OVERHEAD)
#define LW_KEY_LEN           16

#define LW_ADDR_GATEWAY   0x0000u
#define LW_ADDR_BROADCAST 0xFFFFu
#define LW_HOP_MAX        7u

enum lw_frame_type {
    LW_FT_DATA = 1,     /* routine readings / heartbeat, not acknowledged */
    LW_FT_ALARM = 2,    /* readings in an alarm state; acknowledged end to end */
    LW_FT_JOIN_REQ = 3, /* reserved for the join procedure */
    LW_FT_JOIN_ACC = 4, /* reserved for the join procedure */
    LW_FT_ACK = 5,      /* gateway acknowledgement of an ALARM frame */
    LW_FT_CMD = 6,      /* downlink configuration command */
    /* v1.1 compact frames (8 bytes, not sealed, never forwarded; lw_checkin.h, PROTOCOL.md
     * 15.4-15.5): a node tells its parent relay it is alive, the relay answers; the gateway
     * opens a cycle of slots in which the relays nearest it forward alarms without contention. */
    LW_FT_CHECKIN = 7,
    LW_FT_CHECKIN_ACK = 8,
    LW_FT_BEACON = 9, /* the gateway opens a cycle of alarm slots (PROTOCOL.md 15.5) */
};

struct lw_frame_hdr {
    uint8_t version;   /* LW_PROTO_VERSION */
    uint8_t type;      /* enum lw_frame_type */
    uint8_t hop_count; /* 0..7, incremented by each relay; not authenticated */
    uint8_t hop_limit; /* 0..7, set by the origin; authenticated */
    bool ack_req;      /* origin asks for an end-to-end acknowledgement */
    uint16_t net_id;   /* network identifier: neighbouring estates do not mix */
    uint16_t src;      /* origin address */
    uint16_t dst;      /* final destination address */
    uint32_t fcnt;     /* per-origin, per-direction frame counter, never reused with one key */
};

/* Parse and sanity-check the clear header of a received frame without touching crypto, so the
 * receiver can look up the source's key and its replay state first.
 * Returns LW_OK, or LW_ERR_TRUNCATED (< LW_FRAME_OVERHEAD bytes), LW_ERR_TOOBIG (> 255 bytes),
 * LW_ERR_VERSION, LW_ERR_TYPE (unknown type), LW_ERR_INVAL (reserved bit set, hop_count >
 * hop_limit). Network id is the caller's to compare. */
int lw_frame_peek(const uint8_t *buf, size_t len, struct lw_frame_hdr *hdr);

/* Build a frame: header from hdr (version forced to LW_PROTO_VERSION), payload encrypted and
 * authenticated under key. out needs LW_FRAME_OVERHEAD + plain_len bytes.
 * Returns the frame length (> 0) or LW_ERR_INVAL / LW_ERR_TOOBIG / LW_ERR_CRYPTO. */
int lw_frame_seal(const struct lw_frame_hdr *hdr, const uint8_t key[LW_KEY_LEN],
                  const uint8_t *plain, size_t plain_len, uint8_t *out, size_t outcap);

/* Verify and decrypt a frame. hdr receives the parsed header; plain receives len -
 * LW_FRAME_OVERHEAD bytes (plaincap must be at least that). Returns the plaintext length (>= 0)
 * or a negative lw_err (any lw_frame_peek error, LW_ERR_MIC, LW_ERR_TOOBIG for a small plaincap,
 * LW_ERR_CRYPTO). On any error plain is zeroed: nothing unauthenticated escapes. */
int lw_frame_open(const uint8_t *buf, size_t len, const uint8_t key[LW_KEY_LEN],
                  struct lw_frame_hdr *hdr, uint8_t *plain, size_t plaincap);

/* Relay step: increment the hop count in place in a sealed frame (the MIC does not cover it).
 * Returns LW_OK, LW_ERR_RANGE when the hop limit is reached, or a peek error. */
int lw_frame_hop(uint8_t *buf, size_t len);

/* Name of a frame type for logs ("DATA", "ALARM", ...; "?" when unknown). */
const char *lw_frame_type_name(uint8_t type);

#endif
