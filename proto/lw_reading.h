/* SPDX-License-Identifier: Apache-2.0 */
/* Reading TLVs carried (encrypted) in DATA and ALARM frames: encode and strict decode. No I/O. */
#ifndef LW_READING_H
#define LW_READING_H

#include <stddef.h>
#include <stdint.h>

enum lw_tlv_type {
    LW_TLV_WATER = 0x01,   /* u16 water depth, mm */
    LW_TLV_SMOKE = 0x02,   /* u8 alarm (0/1), u16 obscuration in 0.01 %/m */
    LW_TLV_GAS = 0x03,     /* u16 combustible gas, 0.1 %LEL (0..1000) */
    LW_TLV_CO = 0x04,      /* u16 carbon monoxide, ppm */
    LW_TLV_TEMP = 0x05,    /* s16 temperature, 0.1 degC */
    LW_TLV_BATTERY = 0x06, /* u16 battery voltage, mV */
    LW_TLV_FLAGS = 0x07,   /* u8 LW_FLAG_* bits */
    /* 0x08..0x7F: reserved, rejected by v1 decoders. 0x80..0xFF: optional, skipped if unknown. */
};

/* Bits of lw_reading.present: which fields the frame carried. */
#define LW_R_WATER   (1u << 0)
#define LW_R_SMOKE   (1u << 1)
#define LW_R_GAS     (1u << 2)
#define LW_R_CO      (1u << 3)
#define LW_R_TEMP    (1u << 4)
#define LW_R_BATTERY (1u << 5)
#define LW_R_FLAGS   (1u << 6)

/* Bits of the FLAGS TLV. */
#define LW_FLAG_FAULT    0x01u /* sensor self-test failed */
#define LW_FLAG_TAMPER   0x02u /* enclosure opened or detector removed */
#define LW_FLAG_LOW_BATT 0x04u /* node's own low-battery judgement */
#define LW_FLAG_WARMUP   0x08u /* gas sensor still warming up: readings not valid */
#define LW_FLAG_MASK     0x0Fu /* other bits reserved, must be 0 */

#define LW_READING_MAX_LEN 32 /* every v1 TLV once: 4+5+4+4+4+4+3 = 28 */

struct lw_reading {
    uint32_t present;           /* LW_R_* */
    uint16_t water_mm;          /* mm */
    uint8_t smoke_alarm;        /* 0 or 1 */
    uint16_t smoke_obscuration; /* 0.01 %/m */
    uint16_t gas_lel_x10;       /* 0.1 %LEL */
    uint16_t co_ppm;            /* ppm */
    int16_t temp_c_x10;         /* 0.1 degC */
    uint16_t battery_mv;        /* mV */
    uint8_t flags;              /* LW_FLAG_* */
};

/* Encode the present fields as TLVs in ascending type order. Returns bytes written, or
 * LW_ERR_TOOBIG when cap is too small, LW_ERR_RANGE for out-of-range values (smoke_alarm > 1,
 * gas > 1000, reserved flag bits), LW_ERR_INVAL for NULL arguments or present bits v1 does not
 * define (so a field is never silently dropped). Values of absent fields are ignored. */
int lw_reading_encode(const struct lw_reading *r, uint8_t *out, size_t cap);

/* Decode TLVs strictly. Returns LW_OK; LW_ERR_TRUNCATED (a TLV runs past the end),
 * LW_ERR_INVAL (wrong length for a known type), LW_ERR_DUP (a type twice), LW_ERR_TYPE (reserved
 * type 0x08..0x7F or 0x00), LW_ERR_RANGE (value out of range). Unknown types 0x80..0xFF are
 * skipped. r is zeroed first and left zeroed on error. */
int lw_reading_decode(const uint8_t *in, size_t len, struct lw_reading *r);

#endif
