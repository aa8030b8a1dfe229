/* SPDX-License-Identifier: Apache-2.0 */
/* Simulated radio medium datagram: fixed 30-byte little-endian header plus one PHY payload. */
#include "lw_simwire.h"
#include "lw_bytes.h"
#include "lw_error.h"

#include <stdbool.h>
#include <string.h>

#define LW_SIMWIRE_MAX_PAYLOAD 255

/* AIR carries exactly one frame, TICK never carries one. */
static bool lw_simwire_len_ok(uint8_t kind, uint16_t len)
{
    return kind == LW_SIMWIRE_TICK ? len == 0 : len >= 1;
}

int lw_simwire_encode(const struct lw_simwire *m, uint8_t *out, size_t cap)
{
    if (m == NULL || out == NULL)
        return LW_ERR_INVAL;
    if (m->kind != LW_SIMWIRE_AIR && m->kind != LW_SIMWIRE_TICK)
        return LW_ERR_INVAL;
    if (m->len > LW_SIMWIRE_MAX_PAYLOAD)
        return LW_ERR_TOOBIG;
    if (!lw_simwire_len_ok(m->kind, m->len) || (m->len > 0 && m->payload == NULL))
        return LW_ERR_INVAL;
    if (cap < (size_t)LW_SIMWIRE_HDR_LEN + m->len)
        return LW_ERR_TOOBIG;

    memcpy(out, LW_SIMWIRE_MAGIC, 4);
    out[4] = LW_SIMWIRE_VERSION;
    out[5] = m->kind;
    out[6] = m->sf;
    out[7] = 0;
    lw_put_le32(out + 8, m->freq_hz);
    lw_put_le32(out + 12, m->bw_hz);
    lw_put_le16(out + 16, (uint16_t)m->rssi_x10);
    lw_put_le16(out + 18, (uint16_t)m->snr_x10);
    lw_put_le64(out + 20, m->t_ms);
    lw_put_le16(out + 28, m->len);
    if (m->len > 0)
        memcpy(out + LW_SIMWIRE_HDR_LEN, m->payload, m->len);
    return LW_SIMWIRE_HDR_LEN + m->len;
}

int lw_simwire_decode(const uint8_t *in, size_t len, struct lw_simwire *m)
{
    size_t rest;
    uint16_t plen;

    if (in == NULL || m == NULL)
        return LW_ERR_INVAL;
    memset(m, 0, sizeof(*m));
    if (len < LW_SIMWIRE_HDR_LEN)
        return LW_ERR_TRUNCATED;
    if (memcmp(in, LW_SIMWIRE_MAGIC, 4) != 0)
        return LW_ERR_INVAL;
    if (in[4] != LW_SIMWIRE_VERSION)
        return LW_ERR_VERSION;
    if ((in[5] != LW_SIMWIRE_AIR && in[5] != LW_SIMWIRE_TICK) || in[7] != 0)
        return LW_ERR_INVAL;
    plen = lw_get_le16(in + 28);
    if (plen > LW_SIMWIRE_MAX_PAYLOAD)
        return LW_ERR_TOOBIG;
    rest = len - LW_SIMWIRE_HDR_LEN;
    if (rest < plen)
        return LW_ERR_TRUNCATED;
    if (rest != plen || !lw_simwire_len_ok(in[5], plen))
        return LW_ERR_INVAL;

    m->kind = in[5];
    m->sf = in[6];
    m->freq_hz = lw_get_le32(in + 8);
    m->bw_hz = lw_get_le32(in + 12);
    m->rssi_x10 = (int16_t)lw_get_le16(in + 16);
    m->snr_x10 = (int16_t)lw_get_le16(in + 18);
    m->t_ms = lw_get_le64(in + 20);
    m->len = plen;
    /* Never NULL, even for TICK, so callers may memcpy(dst, payload, len) unconditionally. */
    m->payload = in + LW_SIMWIRE_HDR_LEN;
    return LW_OK;
}
