/* SPDX-License-Identifier: Apache-2.0 */
/* Over-the-air frame v1: header packing, AAD/nonce construction and CCM seal/open via lw_aead. */
#include "lw_frame.h"
#include "lw_aead.h"
#include "lw_bytes.h"
#include "lw_error.h"

#include <string.h>

#define LW_HOP_COUNT_SHIFT 5
#define LW_HOP_LIMIT_SHIFT 2
#define LW_HOP_COUNT_MASK  0xE0u
#define LW_HOP_ACK_REQ     0x02u
#define LW_HOP_RESERVED    0x01u

static bool lw_type_valid(uint8_t type)
{
    return type >= LW_FT_DATA && type <= LW_FT_CMD;
}

/* The nonce is unique as long as (key, src, dst, fcnt, type) never repeats; dir keeps an uplink
 * and a downlink with equal counters apart even if both ends share one key. */
static void lw_frame_nonce(const struct lw_frame_hdr *h, uint8_t nonce[LW_AEAD_NONCE_LEN])
{
    nonce[0] = h->src == LW_ADDR_GATEWAY ? 0x01 : 0x00;
    lw_put_le16(nonce + 1, h->net_id);
    lw_put_le16(nonce + 3, h->src);
    lw_put_le16(nonce + 5, h->dst);
    lw_put_le32(nonce + 7, h->fcnt);
    nonce[11] = h->type;
    nonce[12] = 0x00;
}

/* AAD is the header with hop_count cleared, so relays can bump it without the key. */
static void lw_frame_aad(const uint8_t *hdr_bytes, uint8_t aad[LW_FRAME_HDR_LEN])
{
    memcpy(aad, hdr_bytes, LW_FRAME_HDR_LEN);
    aad[1] &= (uint8_t)~LW_HOP_COUNT_MASK;
}

int lw_frame_peek(const uint8_t *buf, size_t len, struct lw_frame_hdr *hdr)
{
    uint8_t vt, hop;

    if (buf == NULL || hdr == NULL)
        return LW_ERR_INVAL;
    memset(hdr, 0, sizeof(*hdr));
    if (len < LW_FRAME_OVERHEAD)
        return LW_ERR_TRUNCATED;
    if (len > LW_FRAME_MAX_LEN)
        return LW_ERR_TOOBIG;
    vt = buf[0];
    hop = buf[1];
    if ((vt >> 4) != LW_PROTO_VERSION)
        return LW_ERR_VERSION;
    if (!lw_type_valid(vt & 0x0F))
        return LW_ERR_TYPE;
    if ((hop & LW_HOP_RESERVED) ||
        (hop >> LW_HOP_COUNT_SHIFT) > ((hop >> LW_HOP_LIMIT_SHIFT) & LW_HOP_MAX))
        return LW_ERR_INVAL;

    hdr->version = vt >> 4;
    hdr->type = vt & 0x0F;
    hdr->hop_count = hop >> LW_HOP_COUNT_SHIFT;
    hdr->hop_limit = (hop >> LW_HOP_LIMIT_SHIFT) & LW_HOP_MAX;
    hdr->ack_req = (hop & LW_HOP_ACK_REQ) != 0;
    hdr->net_id = lw_get_le16(buf + 2);
    hdr->src = lw_get_le16(buf + 4);
    hdr->dst = lw_get_le16(buf + 6);
    hdr->fcnt = lw_get_le32(buf + 8);
    return LW_OK;
}

int lw_frame_seal(const struct lw_frame_hdr *hdr, const uint8_t key[LW_KEY_LEN],
                  const uint8_t *plain, size_t plain_len, uint8_t *out, size_t outcap)
{
    struct lw_frame_hdr h;
    uint8_t nonce[LW_AEAD_NONCE_LEN];
    uint8_t aad[LW_FRAME_HDR_LEN];
    int rc;

    if (hdr == NULL || key == NULL || out == NULL || (plain == NULL && plain_len > 0))
        return LW_ERR_INVAL;
    if (!lw_type_valid(hdr->type) || hdr->hop_count > LW_HOP_MAX || hdr->hop_limit > LW_HOP_MAX ||
        hdr->hop_count > hdr->hop_limit)
        return LW_ERR_INVAL;
    if (plain_len > LW_FRAME_MAX_PAYLOAD || outcap < LW_FRAME_OVERHEAD + plain_len)
        return LW_ERR_TOOBIG;

    h = *hdr;
    h.version = LW_PROTO_VERSION;
    out[0] = (uint8_t)(h.version << 4 | h.type);
    out[1] = (uint8_t)(h.hop_count << LW_HOP_COUNT_SHIFT | h.hop_limit << LW_HOP_LIMIT_SHIFT |
                       (h.ack_req ? LW_HOP_ACK_REQ : 0));
    lw_put_le16(out + 2, h.net_id);
    lw_put_le16(out + 4, h.src);
    lw_put_le16(out + 6, h.dst);
    lw_put_le32(out + 8, h.fcnt);

    lw_frame_nonce(&h, nonce);
    lw_frame_aad(out, aad);
    rc = lw_aead_seal(key, nonce, aad, sizeof(aad), plain, plain_len, out + LW_FRAME_HDR_LEN,
                      out + LW_FRAME_HDR_LEN + plain_len);
    if (rc != LW_OK)
        return rc;
    return (int)(LW_FRAME_OVERHEAD + plain_len);
}

int lw_frame_open(const uint8_t *buf, size_t len, const uint8_t key[LW_KEY_LEN],
                  struct lw_frame_hdr *hdr, uint8_t *plain, size_t plaincap)
{
    uint8_t nonce[LW_AEAD_NONCE_LEN];
    uint8_t aad[LW_FRAME_HDR_LEN];
    size_t clen;
    int rc;

    if (plain != NULL && plaincap > 0)
        memset(plain, 0, plaincap);
    if (key == NULL || (plain == NULL && plaincap > 0))
        return LW_ERR_INVAL;
    rc = lw_frame_peek(buf, len, hdr);
    if (rc != LW_OK)
        return rc;
    clen = len - LW_FRAME_OVERHEAD;
    if (plaincap < clen)
        return LW_ERR_TOOBIG;

    lw_frame_nonce(hdr, nonce);
    lw_frame_aad(buf, aad);
    rc = lw_aead_open(key, nonce, aad, sizeof(aad), buf + LW_FRAME_HDR_LEN, clen, plain,
                      buf + LW_FRAME_HDR_LEN + clen);
    if (rc != LW_OK) {
        if (plaincap > 0)
            memset(plain, 0, plaincap);
        return rc;
    }
    return (int)clen;
}

int lw_frame_hop(uint8_t *buf, size_t len)
{
    struct lw_frame_hdr h;
    int rc = lw_frame_peek(buf, len, &h);

    if (rc != LW_OK)
        return rc;
    if (h.hop_count >= h.hop_limit)
        return LW_ERR_RANGE;
    buf[1] = (uint8_t)(buf[1] + (1u << LW_HOP_COUNT_SHIFT));
    return LW_OK;
}

const char *lw_frame_type_name(uint8_t type)
{
    static const char *const names[] = {
        [LW_FT_DATA] = "DATA",         [LW_FT_ALARM] = "ALARM",
        [LW_FT_JOIN_REQ] = "JOIN_REQ", [LW_FT_JOIN_ACC] = "JOIN_ACC",
        [LW_FT_ACK] = "ACK",           [LW_FT_CMD] = "CMD",
        [LW_FT_CHECKIN] = "CHECKIN",   [LW_FT_CHECKIN_ACK] = "CHECKIN_ACK",
        [LW_FT_BEACON] = "BEACON",
    };

    return lw_type_valid(type) || (type >= LW_FT_CHECKIN && type <= LW_FT_BEACON) ? names[type]
                                                                                  : "?";
}
