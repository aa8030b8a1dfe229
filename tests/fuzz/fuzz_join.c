/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for lw_join: parse arbitrary bytes as JOIN_REQ and JOIN_ACC, check that
 * failures leak nothing and that whatever verifies re-builds to the exact frame. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_frame.h"
#include "lw_join.h"

/* Root key, EUI, network and nonces of the PROTOCOL.md section 12.9 vectors, so corpus seeds
 * built from them authenticate. */
static const uint8_t fuzz_root[LW_KEY_LEN] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                              0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t fuzz_eui[LW_JOIN_EUI_LEN] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
#define FUZZ_NET        0x4C57
#define FUZZ_LAST_NONCE 0x100u /* gateway: last accepted; the vector's 0x105 is fresh */
#define FUZZ_NONCE      0x105u /* node: pending join nonce */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must_be_zero(const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            abort(); /* unauthenticated bytes escaped */
}

/* A frame we built must equal the input except for hop_count, which the origin sends as 0. */
static void must_match_but_hops(const uint8_t *built, const uint8_t *data, size_t size)
{
    if ((built[1] >> 5) != 0 || (built[1] & 0x1F) != (data[1] & 0x1F) || built[0] != data[0] ||
        memcmp(built + 2, data + 2, size - 2) != 0)
        abort();
}

static void fuzz_request(const uint8_t *data, size_t size)
{
    struct lw_join_req peeked, req, again;
    uint8_t built[LW_FRAME_MAX_LEN];
    int prc, vrc;

    prc = lw_join_request_peek(data, size, &peeked);
    vrc = lw_join_request_parse_verify(data, size, FUZZ_NET, fuzz_root, FUZZ_LAST_NONCE, &req);
    if (prc != LW_OK) {
        must_be_zero(&peeked, sizeof(peeked));
        must_be_zero(&req, sizeof(req));
        if (vrc != prc)
            abort(); /* structural errors are the same in both steps */
        return;
    }
    if (vrc != LW_OK) {
        must_be_zero(&req, sizeof(req));
        if (vrc != LW_ERR_NETWORK && vrc != LW_ERR_MIC && vrc != LW_ERR_REPLAY)
            abort();
        return;
    }
    if (size != LW_JOIN_REQ_LEN || req.join_nonce != peeked.join_nonce ||
        req.join_nonce <= FUZZ_LAST_NONCE || req.hop_count != peeked.hop_count ||
        memcmp(req.eui, peeked.eui, LW_JOIN_EUI_LEN) != 0)
        abort();
    if (lw_join_request_build(&req, fuzz_root, built, sizeof(built)) != LW_JOIN_REQ_LEN)
        abort();
    must_match_but_hops(built, data, size);
    /* Once its nonce is stored as the last accepted, the same request is a replay. */
    if (lw_join_request_parse_verify(data, size, FUZZ_NET, fuzz_root, req.join_nonce, &again) !=
        LW_ERR_REPLAY)
        abort();
}

static void fuzz_accept(const uint8_t *data, size_t size)
{
    struct lw_join_acc acc;
    struct lw_join_keys keys;
    uint8_t built[LW_FRAME_MAX_LEN];
    int rc;

    rc = lw_join_accept_open(data, size, FUZZ_NET, fuzz_root, fuzz_eui, FUZZ_NONCE, &acc);
    if (rc != LW_OK) {
        must_be_zero(&acc, sizeof(acc));
        return;
    }
    if (size != LW_JOIN_ACC_LEN || acc.join_nonce != FUZZ_NONCE || acc.address == LW_ADDR_GATEWAY ||
        acc.address == LW_ADDR_UNASSIGNED)
        abort();
    if (lw_join_accept_build(&acc, fuzz_root, fuzz_eui, built, sizeof(built)) != LW_JOIN_ACC_LEN)
        abort();
    must_match_but_hops(built, data, size);
    if (lw_join_derive_keys(fuzz_root, fuzz_eui, &acc, &keys) != LW_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_request(data, size);
    fuzz_accept(data, size);
    return 0;
}
