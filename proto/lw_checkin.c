/* SPDX-License-Identifier: Apache-2.0 */
/* Compact CHECKIN / CHECKIN_ACK frames: fixed layout, strict parse. */
#include "lw_checkin.h"
#include "lw_error.h"
#include "lw_frame.h"

#include <string.h>

static int addr_ok(uint16_t a)
{
    return a != LW_ADDR_GATEWAY && a != LW_ADDR_BROADCAST;
}

int lw_checkin_encode(const struct lw_checkin *c, uint8_t *out, size_t cap)
{
    if (c == NULL || out == NULL || (c->type != LW_FT_CHECKIN && c->type != LW_FT_CHECKIN_ACK) ||
        !addr_ok(c->from) || !addr_ok(c->to) || (c->type == LW_FT_CHECKIN && c->period_10s == 0) ||
        (c->type == LW_FT_CHECKIN_ACK && c->period_10s != 0))
        return LW_ERR_INVAL;
    if (cap < LW_CHECKIN_LEN)
        return LW_ERR_TOOBIG;
    out[0] = (uint8_t)(LW_PROTO_VERSION << 4 | c->type);
    out[1] = (uint8_t)(c->net_id & 0xFF);
    out[2] = (uint8_t)(c->net_id >> 8);
    out[3] = (uint8_t)(c->from & 0xFF);
    out[4] = (uint8_t)(c->from >> 8);
    out[5] = (uint8_t)(c->to & 0xFF);
    out[6] = (uint8_t)(c->to >> 8);
    out[7] = c->period_10s;
    return LW_CHECKIN_LEN;
}

int lw_checkin_is(const uint8_t *buf, size_t len)
{
    return buf != NULL && len == LW_CHECKIN_LEN &&
           (buf[0] == (LW_PROTO_VERSION << 4 | LW_FT_CHECKIN) ||
            buf[0] == (LW_PROTO_VERSION << 4 | LW_FT_CHECKIN_ACK) ||
            buf[0] == (LW_PROTO_VERSION << 4 | LW_FT_BEACON));
}

/* Length and version, the same for every compact frame. */
static int compact_header(const uint8_t *buf, size_t len)
{
    if (len < LW_CHECKIN_LEN)
        return LW_ERR_TRUNCATED;
    if (len > LW_CHECKIN_LEN)
        return LW_ERR_TOOBIG;
    return buf[0] >> 4 == LW_PROTO_VERSION ? LW_OK : LW_ERR_VERSION;
}

static int beacon_ok(const struct lw_beacon *b)
{
    return b->slots >= 1 && b->slots <= 16 && b->slot_10ms >= 1 && b->owned >= 1 &&
           b->owned <= b->slots && (b->slots == 16 || (b->received >> b->slots) == 0);
}

int lw_beacon_encode(const struct lw_beacon *b, uint8_t *out, size_t cap)
{
    if (b == NULL || out == NULL || !beacon_ok(b))
        return LW_ERR_INVAL;
    if (cap < LW_CHECKIN_LEN)
        return LW_ERR_TOOBIG;
    out[0] = (uint8_t)(LW_PROTO_VERSION << 4 | LW_FT_BEACON);
    out[1] = (uint8_t)(b->net_id & 0xFF);
    out[2] = (uint8_t)(b->net_id >> 8);
    out[3] = b->slots;
    out[4] = b->slot_10ms;
    out[5] = (uint8_t)(b->received & 0xFF);
    out[6] = (uint8_t)(b->received >> 8);
    out[7] = b->owned;
    return LW_CHECKIN_LEN;
}

uint8_t lw_beacon_extra_owner(const struct lw_beacon *b, uint8_t e)
{
    if (b == NULL || e <= b->owned || e > b->slots)
        return 0;
    uint8_t busy[16], k = 0;
    for (uint8_t s = 1; s <= b->owned; s++)
        if ((b->received >> (s - 1)) & 1u)
            busy[k++] = s;
    return k ? busy[(e - b->owned - 1) % k] : 0;
}

int lw_beacon_decode(const uint8_t *buf, size_t len, struct lw_beacon *b)
{
    if (b == NULL || buf == NULL)
        return LW_ERR_INVAL;
    memset(b, 0, sizeof(*b));
    int rc = compact_header(buf, len);
    if (rc != LW_OK)
        return rc;
    if ((buf[0] & 0x0F) != LW_FT_BEACON)
        return LW_ERR_TYPE;
    struct lw_beacon v = {
        .net_id = (uint16_t)(buf[1] | buf[2] << 8),
        .slots = buf[3],
        .slot_10ms = buf[4],
        .received = (uint16_t)(buf[5] | buf[6] << 8),
        .owned = buf[7],
    };
    if (!beacon_ok(&v))
        return LW_ERR_INVAL;
    *b = v;
    return LW_OK;
}

int lw_checkin_decode(const uint8_t *buf, size_t len, struct lw_checkin *c)
{
    if (c == NULL || buf == NULL)
        return LW_ERR_INVAL;
    memset(c, 0, sizeof(*c));
    int rc = compact_header(buf, len);
    if (rc != LW_OK)
        return rc;
    uint8_t type = buf[0] & 0x0F;
    if (type != LW_FT_CHECKIN && type != LW_FT_CHECKIN_ACK)
        return LW_ERR_TYPE; /* a BEACON has its own decoder */
    struct lw_checkin v = {
        .type = type,
        .net_id = (uint16_t)(buf[1] | buf[2] << 8),
        .from = (uint16_t)(buf[3] | buf[4] << 8),
        .to = (uint16_t)(buf[5] | buf[6] << 8),
        .period_10s = buf[7],
    };
    if (!addr_ok(v.from) || !addr_ok(v.to) || (type == LW_FT_CHECKIN && v.period_10s == 0) ||
        (type == LW_FT_CHECKIN_ACK && v.period_10s != 0))
        return LW_ERR_INVAL;
    *c = v;
    return LW_OK;
}
