/* SPDX-License-Identifier: Apache-2.0 */
/* Route trailer of relayed frames (PROTOCOL.md section 8): each relay appends its address and the
 * SNR it heard the frame with, and counts the hop. Pure functions on frames in buffers. */
#ifndef LW_ROUTE_H
#define LW_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "lw_frame.h"

#define LW_ROUTE_ENTRY_LEN 3 /* relay address (LE) | SNR in dB (int8) of the hop it heard */

struct lw_route_hop {
    uint16_t relay; /* address of the relay that forwarded the frame */
    int8_t snr_db;  /* SNR at which that relay heard the frame (the hop before it), dB */
};

/* A received frame split into the origin's frame and the route it took. */
struct lw_route {
    struct lw_frame_hdr hdr;              /* as received (hop_count = number of hops) */
    size_t origin_len;                    /* bytes of the origin's frame: header .. MIC */
    uint8_t n_hops;                       /* = hdr.hop_count */
    struct lw_route_hop hops[LW_HOP_MAX]; /* hops[0]: the relay nearest the origin */
};

/* Parse a received frame: lw_frame_peek's checks, then the trailer: len must be at least
 * LW_FRAME_OVERHEAD + LW_ROUTE_ENTRY_LEN * hop_count (LW_ERR_TRUNCATED); every relay address
 * must be 0x0001..0xFFFE (LW_ERR_INVAL), differ from src and dst and appear once (LW_ERR_DUP:
 * a loop). Nothing here is authenticated: the route is a hint, the origin frame's MIC decides.
 * Returns LW_OK or a negative lw_err; rt is zeroed on error. */
int lw_route_parse(const uint8_t *buf, size_t len, struct lw_route *rt);

/* Turn a received frame back into the origin's frame in place: drop the trailer and set
 * hop_count to 0 (hop_count is outside the MIC, so the frame still verifies). Returns the new
 * length or a negative lw_route_parse error. */
int lw_route_strip(uint8_t *buf, size_t len);

/* Relay step: append (relay, snr_db) and increment hop_count. buf has room for cap bytes.
 * Returns the new length, or LW_ERR_RANGE (hop_count already equals hop_limit), LW_ERR_TOOBIG
 * (the frame would pass 255 bytes or cap), LW_ERR_DUP (relay is already in the route, or is the
 * frame's src or dst: forwarding would loop), LW_ERR_INVAL (relay 0 or 0xFFFF), or any
 * lw_route_parse error. */
int lw_route_append(uint8_t *buf, size_t len, size_t cap, uint16_t relay, int8_t snr_db);

#endif
