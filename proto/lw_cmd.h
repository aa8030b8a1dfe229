/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration commands carried (encrypted) in CMD downlinks (PROTOCOL.md section 13): the
 * reporting interval, event mode (fast sampling while an incident is open) and alarm thresholds
 * kept on the node. Encode and strict decode, no I/O. */
#ifndef LW_CMD_H
#define LW_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lw_cmd_tlv {
    LW_CMD_INTERVAL = 0x01,  /* u16 reporting interval, s (10..43200) */
    LW_CMD_EVENT = 0x02,     /* u8 on (0/1), u16 interval during the event, s (10..3600) */
    LW_CMD_THRESHOLD = 0x03, /* u8 reading TLV type (0x01..0x06), u16 value in its units: readings
                                at or above it go as ALARM frames; 0xFFFF: no threshold */
    /* 0x04..0x7F reserved (rejected); 0x80..0xFF optional (skipped). */
};

#define LW_CMD_INTERVAL_MIN_S       10u
#define LW_CMD_INTERVAL_MAX_S       43200u
#define LW_CMD_EVENT_INTERVAL_MAX_S 3600u
#define LW_CMD_THRESHOLDS           6u /* one per reading type 0x01..0x06 */
#define LW_CMD_THRESHOLD_NONE       0xFFFFu
#define LW_CMD_MAX_LEN              (4 + 5 + LW_CMD_THRESHOLDS * 5)

#define LW_CMD_HAS_INTERVAL (1u << 0)
#define LW_CMD_HAS_EVENT    (1u << 1)

struct lw_cmd {
    uint8_t present;     /* LW_CMD_HAS_* */
    uint16_t interval_s; /* LW_CMD_HAS_INTERVAL */
    bool event_on;       /* LW_CMD_HAS_EVENT */
    uint16_t event_interval_s;
    uint8_t thresholds; /* bit (type - 1) set: threshold[type - 1] given */
    uint16_t threshold[LW_CMD_THRESHOLDS];
};

/* Encode c as TLVs in ascending type order. Returns the length or LW_ERR_RANGE (a value out of
 * range), LW_ERR_TOOBIG (cap too small), LW_ERR_INVAL (nothing to send). */
int lw_cmd_encode(const struct lw_cmd *c, uint8_t *out, size_t cap);

/* Strict decode: LW_ERR_TRUNCATED, LW_ERR_TYPE (reserved type), LW_ERR_INVAL (wrong length, or
 * an empty command), LW_ERR_DUP (a type twice; thresholds: the same reading type twice),
 * LW_ERR_RANGE (a value out of range). c is zeroed on error. */
int lw_cmd_decode(const uint8_t *buf, size_t len, struct lw_cmd *c);

#endif
