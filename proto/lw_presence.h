/* SPDX-License-Identifier: Apache-2.0 */
/* Presence TLV (v1.1, PROTOCOL.md 15.4): a relay's account of the children that check in with
 * it, carried in its own authenticated DATA frame after the reading TLVs. Type 0x80 is in the
 * optional range, so a v1 decoder skips it. Layout: type 0x80, length 2 + 2k, u8 children
 * supervised, u8 k, then k little-endian u16 addresses of children not heard within their
 * check-in timeout. No I/O. */
#ifndef LW_PRESENCE_H
#define LW_PRESENCE_H

#include <stddef.h>
#include <stdint.h>

#define LW_TLV_PRESENCE        0x80u
#define LW_PRESENCE_ABSENT_MAX 16u
#define LW_PRESENCE_MAX_LEN    (4u + 2u * LW_PRESENCE_ABSENT_MAX)

struct lw_presence {
    uint8_t children;                        /* children this relay supervises */
    uint8_t n_absent;                        /* how many of them are missing */
    uint16_t absent[LW_PRESENCE_ABSENT_MAX]; /* their addresses */
};

/* Append the TLV to out (cap bytes). Returns bytes written, LW_ERR_TOOBIG, or LW_ERR_RANGE
 * (more absent than children or than LW_PRESENCE_ABSENT_MAX), LW_ERR_INVAL (NULL). */
int lw_presence_encode(const struct lw_presence *p, uint8_t *out, size_t cap);

/* Find the presence TLV among the TLVs of a decrypted payload and decode it. Returns LW_OK,
 * LW_ERR_NOTFOUND (no presence TLV), LW_ERR_TRUNCATED (a TLV runs past the end), LW_ERR_INVAL
 * (odd or short length, k not matching the length), LW_ERR_RANGE (k > children, or an address
 * 0x0000 / 0xFFFF). p is zeroed first. */
int lw_presence_find(const uint8_t *payload, size_t len, struct lw_presence *p);

#endif
