/* SPDX-License-Identifier: Apache-2.0 */
/* Route trailer: parse, strip and append hop entries after the origin frame's MIC. */
#include "lw_route.h"
#include "lw_error.h"

#include <string.h>

int lw_route_parse(const uint8_t *buf, size_t len, struct lw_route *rt)
{
    int rc;

    if (buf == NULL || rt == NULL)
        return LW_ERR_INVAL;
    memset(rt, 0, sizeof(*rt));
    rc = lw_frame_peek(buf, len, &rt->hdr);
    if (rc != LW_OK)
        goto fail;
    size_t tlen = (size_t)rt->hdr.hop_count * LW_ROUTE_ENTRY_LEN;
    if (len < LW_FRAME_OVERHEAD + tlen) {
        rc = LW_ERR_TRUNCATED;
        goto fail;
    }
    rt->origin_len = len - tlen;
    rt->n_hops = rt->hdr.hop_count;
    for (uint8_t i = 0; i < rt->n_hops; i++) {
        const uint8_t *e = buf + rt->origin_len + (size_t)i * LW_ROUTE_ENTRY_LEN;
        uint16_t a = (uint16_t)(e[0] | e[1] << 8);
        if (a == LW_ADDR_GATEWAY || a == LW_ADDR_BROADCAST) {
            rc = LW_ERR_INVAL;
            goto fail;
        }
        if (a == rt->hdr.src || a == rt->hdr.dst) {
            rc = LW_ERR_DUP;
            goto fail;
        }
        for (uint8_t j = 0; j < i; j++) {
            if (rt->hops[j].relay == a) {
                rc = LW_ERR_DUP;
                goto fail;
            }
        }
        rt->hops[i].relay = a;
        rt->hops[i].snr_db = (int8_t)e[2];
    }
    return LW_OK;
fail:
    memset(rt, 0, sizeof(*rt));
    return rc;
}

int lw_route_strip(uint8_t *buf, size_t len)
{
    struct lw_route rt;
    int rc = lw_route_parse(buf, len, &rt);

    if (rc != LW_OK)
        return rc;
    buf[1] &= 0x1F; /* hop_count 0: the origin's HOP byte */
    return (int)rt.origin_len;
}

int lw_route_append(uint8_t *buf, size_t len, size_t cap, uint16_t relay, int8_t snr_db)
{
    struct lw_route rt;
    int rc;

    if (relay == LW_ADDR_GATEWAY || relay == LW_ADDR_BROADCAST)
        return LW_ERR_INVAL;
    rc = lw_route_parse(buf, len, &rt);
    if (rc != LW_OK)
        return rc;
    if (rt.hdr.hop_count >= rt.hdr.hop_limit)
        return LW_ERR_RANGE;
    if (relay == rt.hdr.src || relay == rt.hdr.dst)
        return LW_ERR_DUP;
    for (uint8_t i = 0; i < rt.n_hops; i++) {
        if (rt.hops[i].relay == relay)
            return LW_ERR_DUP;
    }
    if (len + LW_ROUTE_ENTRY_LEN > LW_FRAME_MAX_LEN || len + LW_ROUTE_ENTRY_LEN > cap)
        return LW_ERR_TOOBIG;
    buf[len] = (uint8_t)relay;
    buf[len + 1] = (uint8_t)(relay >> 8);
    buf[len + 2] = (uint8_t)snr_db;
    buf[1] = (uint8_t)(buf[1] + (1u << 5));
    return (int)(len + LW_ROUTE_ENTRY_LEN);
}
