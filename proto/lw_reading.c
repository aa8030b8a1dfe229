/* SPDX-License-Identifier: Apache-2.0 */
/* Reading TLVs: encoder in ascending type order and a strict decoder (no silent acceptance of
 * malformed sensor data, since alarms are raised from it). */
#include "lw_reading.h"
#include "lw_bytes.h"
#include "lw_error.h"

#include <string.h>

#define LW_TLV_HDR_LEN     2
#define LW_TLV_OPTIONAL    0x80u /* types from here up may be skipped by older decoders */
#define LW_GAS_MAX_X10     1000u /* 100 %LEL */
#define LW_R_ALL           0x7Fu /* every LW_R_* bit v1 knows */
#define LW_TLV_KNOWN_COUNT 7

/* Value length of each known type (index = type), 0 for types v1 does not define. */
static const uint8_t lw_tlv_len[LW_TLV_KNOWN_COUNT + 1] = {
    [LW_TLV_WATER] = 2, [LW_TLV_SMOKE] = 3,   [LW_TLV_GAS] = 2,   [LW_TLV_CO] = 2,
    [LW_TLV_TEMP] = 2,  [LW_TLV_BATTERY] = 2, [LW_TLV_FLAGS] = 1,
};

/* Append one TLV header; the caller has checked the space. */
static uint8_t *lw_tlv_start(uint8_t *p, uint8_t type)
{
    p[0] = type;
    p[1] = lw_tlv_len[type];
    return p + LW_TLV_HDR_LEN;
}

static size_t lw_reading_size(uint32_t present)
{
    size_t n = 0;

    for (unsigned t = 1; t <= LW_TLV_KNOWN_COUNT; t++) {
        if (present & (1u << (t - 1)))
            n += LW_TLV_HDR_LEN + lw_tlv_len[t];
    }
    return n;
}

int lw_reading_encode(const struct lw_reading *r, uint8_t *out, size_t cap)
{
    uint8_t *p = out;
    size_t need;

    if (r == NULL || (out == NULL && cap > 0) || (r->present & ~LW_R_ALL))
        return LW_ERR_INVAL;
    /* Refuse values a decoder would reject, so nodes never send what the gateway drops. */
    if (((r->present & LW_R_SMOKE) && r->smoke_alarm > 1) ||
        ((r->present & LW_R_GAS) && r->gas_lel_x10 > LW_GAS_MAX_X10) ||
        ((r->present & LW_R_FLAGS) && (r->flags & ~LW_FLAG_MASK)))
        return LW_ERR_RANGE;
    need = lw_reading_size(r->present);
    if (need > cap)
        return LW_ERR_TOOBIG;
    if (need == 0)
        return 0;

    if (r->present & LW_R_WATER) {
        p = lw_tlv_start(p, LW_TLV_WATER);
        lw_put_le16(p, r->water_mm);
        p += 2;
    }
    if (r->present & LW_R_SMOKE) {
        p = lw_tlv_start(p, LW_TLV_SMOKE);
        p[0] = r->smoke_alarm;
        lw_put_le16(p + 1, r->smoke_obscuration);
        p += 3;
    }
    if (r->present & LW_R_GAS) {
        p = lw_tlv_start(p, LW_TLV_GAS);
        lw_put_le16(p, r->gas_lel_x10);
        p += 2;
    }
    if (r->present & LW_R_CO) {
        p = lw_tlv_start(p, LW_TLV_CO);
        lw_put_le16(p, r->co_ppm);
        p += 2;
    }
    if (r->present & LW_R_TEMP) {
        p = lw_tlv_start(p, LW_TLV_TEMP);
        lw_put_le16(p, (uint16_t)r->temp_c_x10);
        p += 2;
    }
    if (r->present & LW_R_BATTERY) {
        p = lw_tlv_start(p, LW_TLV_BATTERY);
        lw_put_le16(p, r->battery_mv);
        p += 2;
    }
    if (r->present & LW_R_FLAGS) {
        p = lw_tlv_start(p, LW_TLV_FLAGS);
        p[0] = r->flags;
        p += 1;
    }
    return (int)(p - out);
}

/* Store one known TLV's value (length already checked) into r. */
static int lw_tlv_store(uint8_t type, const uint8_t *v, struct lw_reading *r)
{
    switch (type) {
    case LW_TLV_WATER:
        r->water_mm = lw_get_le16(v);
        break;
    case LW_TLV_SMOKE:
        if (v[0] > 1)
            return LW_ERR_RANGE;
        r->smoke_alarm = v[0];
        r->smoke_obscuration = lw_get_le16(v + 1);
        break;
    case LW_TLV_GAS:
        r->gas_lel_x10 = lw_get_le16(v);
        if (r->gas_lel_x10 > LW_GAS_MAX_X10)
            return LW_ERR_RANGE;
        break;
    case LW_TLV_CO:
        r->co_ppm = lw_get_le16(v);
        break;
    case LW_TLV_TEMP:
        r->temp_c_x10 = (int16_t)lw_get_le16(v);
        break;
    case LW_TLV_BATTERY:
        r->battery_mv = lw_get_le16(v);
        break;
    case LW_TLV_FLAGS:
        if (v[0] & ~LW_FLAG_MASK)
            return LW_ERR_RANGE;
        r->flags = v[0];
        break;
    }
    return LW_OK;
}

static int lw_reading_parse(const uint8_t *in, size_t len, struct lw_reading *r)
{
    size_t pos = 0;

    while (pos < len) {
        uint8_t type, vlen;
        uint32_t bit;
        int rc;

        /* Checks in a fixed order so every implementation reports the same error. */
        if (len - pos < LW_TLV_HDR_LEN)
            return LW_ERR_TRUNCATED;
        type = in[pos];
        vlen = in[pos + 1];
        if (type < LW_TLV_OPTIONAL && (type == 0 || type > LW_TLV_KNOWN_COUNT))
            return LW_ERR_TYPE;
        if (len - pos - LW_TLV_HDR_LEN < vlen)
            return LW_ERR_TRUNCATED;
        pos += LW_TLV_HDR_LEN;
        if (type >= LW_TLV_OPTIONAL) {
            pos += vlen; /* optional extension a v1 decoder does not know: skip it */
            continue;
        }
        if (vlen != lw_tlv_len[type])
            return LW_ERR_INVAL;
        bit = 1u << (type - 1);
        if (r->present & bit)
            return LW_ERR_DUP;
        rc = lw_tlv_store(type, in + pos, r);
        if (rc != LW_OK)
            return rc;
        r->present |= bit;
        pos += vlen;
    }
    return LW_OK;
}

int lw_reading_decode(const uint8_t *in, size_t len, struct lw_reading *r)
{
    int rc;

    if (r == NULL)
        return LW_ERR_INVAL;
    memset(r, 0, sizeof(*r));
    if (in == NULL && len > 0)
        return LW_ERR_INVAL;
    rc = lw_reading_parse(in, len, r);
    if (rc != LW_OK)
        memset(r, 0, sizeof(*r));
    return rc;
}
