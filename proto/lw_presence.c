/* SPDX-License-Identifier: Apache-2.0 */
/* Presence TLV: encode, and find-and-decode among a payload's TLVs. */
#include "lw_presence.h"
#include "lw_error.h"
#include "lw_frame.h"

#include <string.h>

int lw_presence_encode(const struct lw_presence *p, uint8_t *out, size_t cap)
{
    if (p == NULL || out == NULL)
        return LW_ERR_INVAL;
    if (p->n_absent > LW_PRESENCE_ABSENT_MAX || p->n_absent > p->children)
        return LW_ERR_RANGE;
    size_t len = 4u + 2u * p->n_absent;
    if (cap < len)
        return LW_ERR_TOOBIG;
    out[0] = LW_TLV_PRESENCE;
    out[1] = (uint8_t)(len - 2);
    out[2] = p->children;
    out[3] = p->n_absent;
    for (uint8_t i = 0; i < p->n_absent; i++) {
        out[4 + 2 * i] = (uint8_t)(p->absent[i] & 0xFF);
        out[5 + 2 * i] = (uint8_t)(p->absent[i] >> 8);
    }
    return (int)len;
}

int lw_presence_find(const uint8_t *payload, size_t len, struct lw_presence *p)
{
    if (p == NULL || (payload == NULL && len > 0))
        return LW_ERR_INVAL;
    memset(p, 0, sizeof(*p));
    size_t i = 0;
    while (i < len) {
        if (len - i < 2)
            return LW_ERR_TRUNCATED;
        uint8_t type = payload[i], vlen = payload[i + 1];
        if (len - i - 2 < vlen)
            return LW_ERR_TRUNCATED;
        const uint8_t *v = payload + i + 2;
        if (type == LW_TLV_PRESENCE) {
            if (vlen < 2 || (vlen & 1) || (size_t)v[1] * 2 + 2 != vlen)
                return LW_ERR_INVAL;
            if (v[1] > v[0] || v[1] > LW_PRESENCE_ABSENT_MAX)
                return LW_ERR_RANGE;
            p->children = v[0];
            p->n_absent = v[1];
            for (uint8_t k = 0; k < p->n_absent; k++) {
                uint16_t a = (uint16_t)(v[2 + 2 * k] | v[3 + 2 * k] << 8);
                if (a == LW_ADDR_GATEWAY || a == LW_ADDR_BROADCAST) {
                    memset(p, 0, sizeof(*p));
                    return LW_ERR_RANGE;
                }
                p->absent[k] = a;
            }
            return LW_OK;
        }
        i += 2u + vlen;
    }
    return LW_ERR_NOTFOUND;
}
