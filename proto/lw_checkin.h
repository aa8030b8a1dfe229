/* SPDX-License-Identifier: Apache-2.0 */
/* Compact frames of v1.1 (PROTOCOL.md 15.4, 15.5): eight bytes, one hop, not sealed.
 *   CHECKIN      VT 0x17, net_id u16, src u16 (the child), parent u16 (the relay it reports
 *                to), period u8 (its check-in period in units of 10 s, 1..255)
 *   CHECKIN_ACK  VT 0x18, net_id u16, relay u16, child u16, flags u8 (0; others reserved)
 *   BEACON       VT 0x19, net_id u16, slots u8 (1..16), slot length u8 (units of 10 ms, >= 1),
 *                received u16 (bit i-1: a frame arrived in slot i of the previous cycle),
 *                owned u8 (slots 1..owned belong to one relay each; owned+1..slots are shared
 *                out among the relays whose slots brought a frame: PROTOCOL.md 15.5)
 * Little-endian. Eight bytes with the LoRa CRC fit the same 18 symbols as one byte would, while a
 * sealed frame (20 bytes at least) takes 33: a battery node checks in for about half the charge.
 * Being unsealed they prove nothing by themselves; a relay vouches for its children in its own
 * authenticated presence TLV (lw_presence.h), and PROTOCOL.md 15.4 says what that trusts. */
#ifndef LW_CHECKIN_H
#define LW_CHECKIN_H

#include <stddef.h>
#include <stdint.h>

#define LW_CHECKIN_LEN 8

struct lw_checkin {
    uint8_t type; /* LW_FT_CHECKIN or LW_FT_CHECKIN_ACK (a BEACON: struct lw_beacon) */
    uint16_t net_id;
    uint16_t from;      /* CHECKIN: the child; ACK: the relay */
    uint16_t to;        /* CHECKIN: its parent relay; ACK: the child */
    uint8_t period_10s; /* CHECKIN: check-in period / 10 s; ACK: flags (0) */
};

/* A BEACON's fields, from and to the generic layout above. */
struct lw_beacon {
    uint16_t net_id;
    uint8_t slots;     /* 1..16 */
    uint8_t slot_10ms; /* slot length in 10 ms, >= 1 */
    uint16_t received; /* bit i-1: slot i of the previous cycle brought a frame */
    uint8_t owned;     /* slots 1..owned are owned (1..slots) */
};
/* Extra slot e (owned < e <= slots) of a cycle goes to the relay owning the (j mod k)-th busy
 * owned slot, where j = e - owned - 1 and the busy ones are those whose bit is set in received,
 * in ascending order; 0 when none was busy. Every relay computes the same from the beacon. */
uint8_t lw_beacon_extra_owner(const struct lw_beacon *b, uint8_t e);
int lw_beacon_encode(const struct lw_beacon *b, uint8_t *out, size_t cap);
/* LW_OK, or as lw_checkin_decode; LW_ERR_TYPE when it is not a BEACON, LW_ERR_INVAL for 0 or
 * more than 16 slots, a zero slot length, received bits beyond the slots, owned 0 or above
 * slots. */
int lw_beacon_decode(const uint8_t *buf, size_t len, struct lw_beacon *b);

/* Write the 8 bytes. Returns LW_CHECKIN_LEN, or LW_ERR_INVAL (NULL, another type, an address
 * 0x0000 or 0xFFFF, a CHECKIN with period 0, an ACK with flags), LW_ERR_TOOBIG (cap < 8). */
int lw_checkin_encode(const struct lw_checkin *c, uint8_t *out, size_t cap);

/* Is buf a compact frame by its length and first byte? (Cheap test before lw_checkin_decode.) */
int lw_checkin_is(const uint8_t *buf, size_t len);

/* Parse. Returns LW_OK, LW_ERR_TRUNCATED / LW_ERR_TOOBIG (not 8 bytes), LW_ERR_VERSION,
 * LW_ERR_TYPE (not a compact type), LW_ERR_INVAL (an address 0x0000 or 0xFFFF, period 0 or
 * reserved flags). c is zeroed first. */
int lw_checkin_decode(const uint8_t *buf, size_t len, struct lw_checkin *c);

#endif
