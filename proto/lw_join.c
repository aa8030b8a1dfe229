/* SPDX-License-Identifier: Apache-2.0 */
/* Join procedure: JOIN_REQ/JOIN_ACC layout, CCM via lw_aead and key derivation via lw_kdf. */
#include "lw_join.h"
#include "lw_aead.h"
#include "lw_bytes.h"
#include "lw_error.h"
#include "lw_kdf.h"

#include <stdbool.h>
#include <string.h>

#define LW_JOIN_HOP_COUNT_MASK  0xE0u /* as in lw_frame.c: the AAD clears hop_count */
#define LW_JOIN_HOP_LIMIT_SHIFT 2
#define LW_JOIN_AAD_LEN         (LW_FRAME_HDR_LEN + 8) /* header | EUI (REQ) or gateway nonce (ACC) */
#define LW_JOIN_DIR_REQ         0x02u /* first nonce byte; data frames use 0x00 and 0x01 */
#define LW_JOIN_DIR_ACC         0x03u
#define LW_JOIN_INFO_MAX        32

static const char lw_label_join[] = "lorawatch v1 join";
static const char lw_label_up[] = "lorawatch v1 up";
static const char lw_label_down[] = "lorawatch v1 down";

/* Key material on the stack must not outlive its use; volatile keeps the stores. */
static void lw_wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;

    while (n--)
        *v++ = 0;
}

static bool lw_key_is_zero(const uint8_t key[LW_KEY_LEN])
{
    uint8_t acc = 0;

    for (size_t i = 0; i < LW_KEY_LEN; i++)
        acc |= key[i];
    return acc == 0;
}

/* info = label | 0x00 | net_id (LE) | EUI [| address (LE)]; returns its length. */
static size_t lw_join_info(uint8_t info[LW_JOIN_INFO_MAX], const char *label, uint16_t net_id,
                           const uint8_t eui[LW_JOIN_EUI_LEN], bool with_addr, uint16_t address)
{
    size_t n = strlen(label);

    memcpy(info, label, n);
    info[n++] = 0x00;
    lw_put_le16(info + n, net_id);
    n += 2;
    memcpy(info + n, eui, LW_JOIN_EUI_LEN);
    n += LW_JOIN_EUI_LEN;
    if (with_addr) {
        lw_put_le16(info + n, address);
        n += 2;
    }
    return n;
}

int lw_join_derive_join_key(const uint8_t root_key[LW_KEY_LEN], uint16_t net_id,
                            const uint8_t eui[LW_JOIN_EUI_LEN], uint8_t join_key[LW_KEY_LEN])
{
    uint8_t info[LW_JOIN_INFO_MAX];
    size_t n;

    if (join_key == NULL)
        return LW_ERR_INVAL;
    memset(join_key, 0, LW_KEY_LEN);
    if (root_key == NULL || eui == NULL || lw_key_is_zero(root_key))
        return LW_ERR_INVAL;
    n = lw_join_info(info, lw_label_join, net_id, eui, false, 0);
    return lw_kdf_hkdf_sha256(root_key, LW_KEY_LEN, NULL, 0, info, n, join_key, LW_KEY_LEN);
}

/* The 12 header bytes of a join frame as the origin sends them (hop_count 0, no ACK_REQ). */
static void lw_join_header(uint8_t *out, uint8_t type, uint8_t hop_limit, uint16_t net_id,
                           uint16_t src, uint16_t dst, uint32_t join_nonce)
{
    out[0] = (uint8_t)(LW_PROTO_VERSION << 4 | type);
    out[1] = (uint8_t)(hop_limit << LW_JOIN_HOP_LIMIT_SHIFT);
    lw_put_le16(out + 2, net_id);
    lw_put_le16(out + 4, src);
    lw_put_le16(out + 6, dst);
    lw_put_le32(out + 8, join_nonce);
}

/* AAD = header with hop_count cleared | the 8 clear bytes after it; nonce = dir | 8 bytes | the
 * join nonce (LE). The 8 bytes are the EUI (REQ) or the gateway nonce (ACC). */
static void lw_join_aad_nonce(const uint8_t *frame, uint8_t dir, const uint8_t field[8],
                              uint32_t join_nonce, uint8_t aad[LW_JOIN_AAD_LEN],
                              uint8_t nonce[LW_AEAD_NONCE_LEN])
{
    memcpy(aad, frame, LW_FRAME_HDR_LEN);
    aad[1] &= (uint8_t)~LW_JOIN_HOP_COUNT_MASK;
    memcpy(aad + LW_FRAME_HDR_LEN, field, 8);
    nonce[0] = dir;
    memcpy(nonce + 1, field, 8);
    lw_put_le32(nonce + 9, join_nonce);
}

int lw_join_request_build(const struct lw_join_req *req, const uint8_t root_key[LW_KEY_LEN],
                          uint8_t *out, size_t outcap)
{
    uint8_t jk[LW_KEY_LEN], aad[LW_JOIN_AAD_LEN], nonce[LW_AEAD_NONCE_LEN];
    int rc;

    if (req == NULL || root_key == NULL || out == NULL || req->join_nonce == 0 ||
        req->hop_limit > LW_HOP_MAX)
        return LW_ERR_INVAL;
    if (outcap < LW_JOIN_REQ_LEN)
        return LW_ERR_TOOBIG;
    rc = lw_join_derive_join_key(root_key, req->net_id, req->eui, jk);
    if (rc != LW_OK)
        return rc;

    lw_join_header(out, LW_FT_JOIN_REQ, req->hop_limit, req->net_id, LW_ADDR_UNASSIGNED,
                   LW_ADDR_GATEWAY, req->join_nonce);
    memcpy(out + LW_FRAME_HDR_LEN, req->eui, LW_JOIN_EUI_LEN);
    lw_join_aad_nonce(out, LW_JOIN_DIR_REQ, req->eui, req->join_nonce, aad, nonce);
    rc = lw_aead_seal(jk, nonce, aad, sizeof(aad), NULL, 0, NULL,
                      out + LW_FRAME_HDR_LEN + LW_JOIN_EUI_LEN);
    lw_wipe(jk, sizeof(jk));
    if (rc != LW_OK) {
        memset(out, 0, LW_JOIN_REQ_LEN);
        return rc;
    }
    return LW_JOIN_REQ_LEN;
}

int lw_join_request_peek(const uint8_t *buf, size_t len, struct lw_join_req *req)
{
    struct lw_frame_hdr h;
    int rc;

    if (req == NULL)
        return LW_ERR_INVAL;
    memset(req, 0, sizeof(*req));
    rc = lw_frame_peek(buf, len, &h);
    if (rc != LW_OK)
        return rc;
    if (h.type != LW_FT_JOIN_REQ)
        return LW_ERR_TYPE;
    if (len < LW_JOIN_REQ_LEN)
        return LW_ERR_TRUNCATED;
    if (len > LW_JOIN_REQ_LEN)
        return LW_ERR_TOOBIG;
    if (h.ack_req || h.src != LW_ADDR_UNASSIGNED || h.dst != LW_ADDR_GATEWAY || h.fcnt == 0)
        return LW_ERR_INVAL;

    req->net_id = h.net_id;
    req->hop_count = h.hop_count;
    req->hop_limit = h.hop_limit;
    memcpy(req->eui, buf + LW_FRAME_HDR_LEN, LW_JOIN_EUI_LEN);
    req->join_nonce = h.fcnt;
    return LW_OK;
}

int lw_join_request_parse_verify(const uint8_t *buf, size_t len, uint16_t net_id,
                                 const uint8_t root_key[LW_KEY_LEN], uint32_t last_nonce,
                                 struct lw_join_req *req)
{
    uint8_t jk[LW_KEY_LEN], aad[LW_JOIN_AAD_LEN], nonce[LW_AEAD_NONCE_LEN];
    struct lw_join_req r;
    int rc;

    if (req == NULL)
        return LW_ERR_INVAL;
    memset(req, 0, sizeof(*req));
    if (root_key == NULL)
        return LW_ERR_INVAL;
    rc = lw_join_request_peek(buf, len, &r);
    if (rc != LW_OK)
        return rc;
    if (r.net_id != net_id)
        return LW_ERR_NETWORK;
    rc = lw_join_derive_join_key(root_key, r.net_id, r.eui, jk);
    if (rc != LW_OK)
        return rc;

    lw_join_aad_nonce(buf, LW_JOIN_DIR_REQ, r.eui, r.join_nonce, aad, nonce);
    rc = lw_aead_open(jk, nonce, aad, sizeof(aad), NULL, 0, NULL,
                      buf + LW_FRAME_HDR_LEN + LW_JOIN_EUI_LEN);
    lw_wipe(jk, sizeof(jk));
    if (rc != LW_OK)
        return rc;
    if (r.join_nonce <= last_nonce)
        return LW_ERR_REPLAY;
    *req = r;
    return LW_OK;
}

int lw_join_accept_build(const struct lw_join_acc *acc, const uint8_t root_key[LW_KEY_LEN],
                         const uint8_t eui[LW_JOIN_EUI_LEN], uint8_t *out, size_t outcap)
{
    uint8_t jk[LW_KEY_LEN], aad[LW_JOIN_AAD_LEN], nonce[LW_AEAD_NONCE_LEN];
    uint8_t plain[LW_JOIN_ADDR_LEN];
    uint8_t *p;
    int rc;

    if (acc == NULL || root_key == NULL || eui == NULL || out == NULL || acc->join_nonce == 0 ||
        acc->address == LW_ADDR_GATEWAY || acc->address == LW_ADDR_UNASSIGNED ||
        acc->hop_limit > LW_HOP_MAX)
        return LW_ERR_INVAL;
    if (outcap < LW_JOIN_ACC_LEN)
        return LW_ERR_TOOBIG;
    rc = lw_join_derive_join_key(root_key, acc->net_id, eui, jk);
    if (rc != LW_OK)
        return rc;

    lw_join_header(out, LW_FT_JOIN_ACC, acc->hop_limit, acc->net_id, LW_ADDR_GATEWAY,
                   LW_ADDR_UNASSIGNED, acc->join_nonce);
    p = out + LW_FRAME_HDR_LEN;
    memcpy(p, acc->gw_nonce, LW_JOIN_GW_NONCE_LEN);
    p += LW_JOIN_GW_NONCE_LEN;
    lw_put_le16(plain, acc->address);
    lw_join_aad_nonce(out, LW_JOIN_DIR_ACC, acc->gw_nonce, acc->join_nonce, aad, nonce);
    rc = lw_aead_seal(jk, nonce, aad, sizeof(aad), plain, sizeof(plain), p, p + sizeof(plain));
    lw_wipe(jk, sizeof(jk));
    if (rc != LW_OK) {
        memset(out, 0, LW_JOIN_ACC_LEN);
        return rc;
    }
    return LW_JOIN_ACC_LEN;
}

int lw_join_accept_open(const uint8_t *buf, size_t len, uint16_t net_id,
                        const uint8_t root_key[LW_KEY_LEN], const uint8_t eui[LW_JOIN_EUI_LEN],
                        uint32_t join_nonce, struct lw_join_acc *acc)
{
    uint8_t jk[LW_KEY_LEN], aad[LW_JOIN_AAD_LEN], nonce[LW_AEAD_NONCE_LEN];
    uint8_t plain[LW_JOIN_ADDR_LEN];
    const uint8_t *gw_nonce, *ct;
    struct lw_frame_hdr h;
    uint16_t address;
    int rc;

    if (acc == NULL)
        return LW_ERR_INVAL;
    memset(acc, 0, sizeof(*acc));
    if (root_key == NULL || eui == NULL || join_nonce == 0 || lw_key_is_zero(root_key))
        return LW_ERR_INVAL;
    rc = lw_frame_peek(buf, len, &h);
    if (rc != LW_OK)
        return rc;
    if (h.type != LW_FT_JOIN_ACC)
        return LW_ERR_TYPE;
    if (len < LW_JOIN_ACC_LEN)
        return LW_ERR_TRUNCATED;
    if (len > LW_JOIN_ACC_LEN)
        return LW_ERR_TOOBIG;
    if (h.ack_req || h.src != LW_ADDR_GATEWAY || h.dst != LW_ADDR_UNASSIGNED)
        return LW_ERR_INVAL;
    if (h.net_id != net_id)
        return LW_ERR_NETWORK;
    if (h.fcnt != join_nonce)
        return LW_ERR_REPLAY;
    rc = lw_join_derive_join_key(root_key, net_id, eui, jk);
    if (rc != LW_OK)
        return rc;

    gw_nonce = buf + LW_FRAME_HDR_LEN;
    ct = gw_nonce + LW_JOIN_GW_NONCE_LEN;
    lw_join_aad_nonce(buf, LW_JOIN_DIR_ACC, gw_nonce, join_nonce, aad, nonce);
    rc = lw_aead_open(jk, nonce, aad, sizeof(aad), ct, sizeof(plain), plain, ct + sizeof(plain));
    lw_wipe(jk, sizeof(jk));
    if (rc != LW_OK)
        return rc;
    address = (uint16_t)(plain[0] | plain[1] << 8);
    lw_wipe(plain, sizeof(plain));
    if (address == LW_ADDR_GATEWAY || address == LW_ADDR_UNASSIGNED)
        return LW_ERR_RANGE;

    acc->net_id = h.net_id;
    acc->hop_count = h.hop_count;
    acc->hop_limit = h.hop_limit;
    acc->join_nonce = h.fcnt;
    memcpy(acc->gw_nonce, gw_nonce, LW_JOIN_GW_NONCE_LEN);
    acc->address = address;
    return LW_OK;
}

/* One 16-byte session key: the salt carries both nonces, the info binds label, network, node and
 * address. */
static int lw_join_session_key(const uint8_t root_key[LW_KEY_LEN], const char *label,
                               const uint8_t eui[LW_JOIN_EUI_LEN], const struct lw_join_acc *acc,
                               uint8_t out[LW_KEY_LEN])
{
    uint8_t salt[4 + LW_JOIN_GW_NONCE_LEN], info[LW_JOIN_INFO_MAX];
    size_t n;

    lw_put_le32(salt, acc->join_nonce);
    memcpy(salt + 4, acc->gw_nonce, LW_JOIN_GW_NONCE_LEN);
    n = lw_join_info(info, label, acc->net_id, eui, true, acc->address);
    return lw_kdf_hkdf_sha256(root_key, LW_KEY_LEN, salt, sizeof(salt), info, n, out, LW_KEY_LEN);
}

int lw_join_derive_keys(const uint8_t root_key[LW_KEY_LEN], const uint8_t eui[LW_JOIN_EUI_LEN],
                        const struct lw_join_acc *acc, struct lw_join_keys *keys)
{
    int rc;

    if (keys == NULL)
        return LW_ERR_INVAL;
    memset(keys, 0, sizeof(*keys));
    if (root_key == NULL || eui == NULL || acc == NULL || acc->join_nonce == 0 ||
        acc->address == LW_ADDR_GATEWAY || acc->address == LW_ADDR_UNASSIGNED ||
        lw_key_is_zero(root_key))
        return LW_ERR_INVAL;
    rc = lw_join_session_key(root_key, lw_label_up, eui, acc, keys->up);
    if (rc == LW_OK)
        rc = lw_join_session_key(root_key, lw_label_down, eui, acc, keys->down);
    if (rc != LW_OK)
        lw_wipe(keys, sizeof(*keys));
    return rc;
}
