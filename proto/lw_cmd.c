/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration command TLVs: encode and strict decode. */
#include "lw_cmd.h"
#include "lw_error.h"

#include <string.h>

static uint16_t u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static bool interval_ok(uint16_t s)
{
    return s >= LW_CMD_INTERVAL_MIN_S && s <= LW_CMD_INTERVAL_MAX_S;
}

static bool event_ok(bool on, uint16_t s)
{
    return !on || (s >= LW_CMD_INTERVAL_MIN_S && s <= LW_CMD_EVENT_INTERVAL_MAX_S);
}

int lw_cmd_encode(const struct lw_cmd *c, uint8_t *out, size_t cap)
{
    size_t n = 0;

    if (c == NULL || out == NULL)
        return LW_ERR_INVAL;
    if (!c->present && !c->thresholds)
        return LW_ERR_INVAL;
    if (c->present & LW_CMD_HAS_INTERVAL) {
        if (!interval_ok(c->interval_s))
            return LW_ERR_RANGE;
        if (n + 4 > cap)
            return LW_ERR_TOOBIG;
        out[n] = LW_CMD_INTERVAL;
        out[n + 1] = 2;
        put16(out + n + 2, c->interval_s);
        n += 4;
    }
    if (c->present & LW_CMD_HAS_EVENT) {
        if (!event_ok(c->event_on, c->event_interval_s))
            return LW_ERR_RANGE;
        if (n + 5 > cap)
            return LW_ERR_TOOBIG;
        out[n] = LW_CMD_EVENT;
        out[n + 1] = 3;
        out[n + 2] = c->event_on ? 1 : 0;
        put16(out + n + 3, c->event_on ? c->event_interval_s : 0);
        n += 5;
    }
    for (unsigned t = 0; t < LW_CMD_THRESHOLDS; t++) {
        if (!(c->thresholds & (1u << t)))
            continue;
        if (n + 5 > cap)
            return LW_ERR_TOOBIG;
        out[n] = LW_CMD_THRESHOLD;
        out[n + 1] = 3;
        out[n + 2] = (uint8_t)(t + 1);
        put16(out + n + 3, c->threshold[t]);
        n += 5;
    }
    return (int)n;
}

int lw_cmd_decode(const uint8_t *buf, size_t len, struct lw_cmd *c)
{
    size_t i = 0;
    int rc = LW_OK;

    if (c == NULL || (buf == NULL && len > 0))
        return LW_ERR_INVAL;
    memset(c, 0, sizeof(*c));
    while (i < len) {
        if (len - i < 2) {
            rc = LW_ERR_TRUNCATED;
            break;
        }
        uint8_t type = buf[i], l = buf[i + 1];
        const uint8_t *v = buf + i + 2;
        if (type == 0 || (type > LW_CMD_THRESHOLD && type < 0x80)) {
            rc = LW_ERR_TYPE;
            break;
        }
        if (len - i - 2 < l) {
            rc = LW_ERR_TRUNCATED;
            break;
        }
        i += 2u + l;
        if (type >= 0x80)
            continue; /* optional: skipped */
        if (type == LW_CMD_INTERVAL) {
            if (l != 2) {
                rc = LW_ERR_INVAL;
                break;
            }
            if (c->present & LW_CMD_HAS_INTERVAL) {
                rc = LW_ERR_DUP;
                break;
            }
            c->present |= LW_CMD_HAS_INTERVAL;
            c->interval_s = u16(v);
            if (!interval_ok(c->interval_s)) {
                rc = LW_ERR_RANGE;
                break;
            }
        } else if (type == LW_CMD_EVENT) {
            if (l != 3) {
                rc = LW_ERR_INVAL;
                break;
            }
            if (c->present & LW_CMD_HAS_EVENT) {
                rc = LW_ERR_DUP;
                break;
            }
            c->present |= LW_CMD_HAS_EVENT;
            c->event_on = v[0] == 1;
            c->event_interval_s = u16(v + 1);
            if (v[0] > 1 || !event_ok(c->event_on, c->event_interval_s)) {
                rc = LW_ERR_RANGE;
                break;
            }
            if (!c->event_on)
                c->event_interval_s = 0; /* meaningless when off */
        } else {                         /* LW_CMD_THRESHOLD */
            if (l != 3) {
                rc = LW_ERR_INVAL;
                break;
            }
            if (v[0] < 1 || v[0] > LW_CMD_THRESHOLDS) {
                rc = LW_ERR_RANGE;
                break;
            }
            unsigned bit = 1u << (v[0] - 1);
            if (c->thresholds & bit) {
                rc = LW_ERR_DUP;
                break;
            }
            c->thresholds |= (uint8_t)bit;
            c->threshold[v[0] - 1] = u16(v + 1);
        }
    }
    if (rc == LW_OK && !c->present && !c->thresholds)
        rc = LW_ERR_INVAL; /* nothing a node could act on */
    if (rc != LW_OK)
        memset(c, 0, sizeof(*c));
    return rc;
}
