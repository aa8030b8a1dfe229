/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_join: PROTOCOL.md section 12 vectors, round trips and every rejection rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lw_aead.h"
#include "lw_error.h"
#include "lw_frame.h"
#include "lw_join.h"

#define NET 0x4C57

/* Section 12.9 inputs. */
static const uint8_t root_r[LW_KEY_LEN] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                           0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t eui_e[LW_JOIN_EUI_LEN] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
static const uint8_t gw_nonce_g[LW_JOIN_GW_NONCE_LEN] = {0xf0, 0xe1, 0xd2, 0xc3,
                                                         0xb4, 0xa5, 0x96, 0x87};
#define VEC_JOIN_NONCE 0x00000105u
#define VEC_ADDRESS    0x0123u

static const char vec_join_key[] = "b8bda7f5011b42b8ac704d8d7b637587";
static const char vec_req[] = "130c574cffff0000050100000211223344556677a67a2670a7d4a1a7";
static const char vec_acc[] = "140c574c0000ffff05010000f0e1d2c3b4a59687454d7611fbae2b010408";
static const char vec_key_up[] = "ff023271fe9601b209a94f6c776cc0ad";
static const char vec_key_down[] = "e3d49fbd121d9b9af6d2ba8a1a02f8dd";
static const char vec_first_heartbeat[] = "110c574c2301000001000000ef3531a49c34dbf2";
static const char vec_first_ack[] = "150c574c0000230101000000a4034daea020420f";

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    unsigned v;

    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void assert_all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++)
        assert_int_equal(b[i], 0);
}

static struct lw_join_req vec_req_in(void)
{
    struct lw_join_req r = {.net_id = NET, .hop_limit = 3, .join_nonce = VEC_JOIN_NONCE};

    memcpy(r.eui, eui_e, sizeof(r.eui));
    return r;
}

static struct lw_join_acc vec_acc_in(void)
{
    struct lw_join_acc a = {
        .net_id = NET, .hop_limit = 3, .join_nonce = VEC_JOIN_NONCE, .address = VEC_ADDRESS};

    memcpy(a.gw_nonce, gw_nonce_g, sizeof(a.gw_nonce));
    return a;
}

static size_t vec_frame(const char *hex, uint8_t *buf, size_t cap)
{
    return unhex(hex, buf, cap);
}

static void test_vector_join_key(void **state)
{
    uint8_t want[LW_KEY_LEN], got[LW_KEY_LEN];

    (void)state;
    unhex(vec_join_key, want, sizeof(want));
    assert_int_equal(lw_join_derive_join_key(root_r, NET, eui_e, got), LW_OK);
    assert_memory_equal(got, want, LW_KEY_LEN);
}

static void test_vector_request_build_and_verify(void **state)
{
    struct lw_join_req in = vec_req_in(), out;
    uint8_t want[LW_FRAME_MAX_LEN], got[LW_FRAME_MAX_LEN];
    size_t n = vec_frame(vec_req, want, sizeof(want));

    (void)state;
    assert_int_equal(n, LW_JOIN_REQ_LEN);
    assert_int_equal(lw_join_request_build(&in, root_r, got, sizeof(got)), LW_JOIN_REQ_LEN);
    assert_memory_equal(got, want, n);

    assert_int_equal(lw_join_request_peek(want, n, &out), LW_OK);
    assert_memory_equal(out.eui, eui_e, LW_JOIN_EUI_LEN);
    assert_int_equal(out.join_nonce, VEC_JOIN_NONCE);
    assert_int_equal(lw_join_request_parse_verify(want, n, NET, root_r, 0, &out), LW_OK);
    assert_int_equal(out.net_id, NET);
    assert_int_equal(out.hop_count, 0);
    assert_int_equal(out.hop_limit, 3);
    assert_memory_equal(out.eui, eui_e, LW_JOIN_EUI_LEN);
    assert_int_equal(out.join_nonce, VEC_JOIN_NONCE);
}

static void test_vector_accept_build_and_open(void **state)
{
    struct lw_join_acc in = vec_acc_in(), out;
    uint8_t want[LW_FRAME_MAX_LEN], got[LW_FRAME_MAX_LEN];
    size_t n = vec_frame(vec_acc, want, sizeof(want));

    (void)state;
    assert_int_equal(n, LW_JOIN_ACC_LEN);
    assert_int_equal(lw_join_accept_build(&in, root_r, eui_e, got, sizeof(got)), LW_JOIN_ACC_LEN);
    assert_memory_equal(got, want, n);

    assert_int_equal(lw_join_accept_open(want, n, NET, root_r, eui_e, VEC_JOIN_NONCE, &out), LW_OK);
    assert_int_equal(out.net_id, NET);
    assert_int_equal(out.hop_limit, 3);
    assert_int_equal(out.join_nonce, VEC_JOIN_NONCE);
    assert_memory_equal(out.gw_nonce, gw_nonce_g, LW_JOIN_GW_NONCE_LEN);
    assert_int_equal(out.address, VEC_ADDRESS);
}

static void test_vector_session_keys_and_first_frames(void **state)
{
    struct lw_join_acc acc = vec_acc_in();
    struct lw_join_keys keys;
    struct lw_frame_hdr up = {.type = LW_FT_DATA,
                              .hop_limit = 3,
                              .net_id = NET,
                              .src = VEC_ADDRESS,
                              .dst = LW_ADDR_GATEWAY,
                              .fcnt = 1};
    struct lw_frame_hdr down = {.type = LW_FT_ACK,
                                .hop_limit = 3,
                                .net_id = NET,
                                .src = LW_ADDR_GATEWAY,
                                .dst = VEC_ADDRESS,
                                .fcnt = 1};
    uint8_t want[LW_FRAME_MAX_LEN], got[LW_FRAME_MAX_LEN];
    size_t n;

    (void)state;
    assert_int_equal(lw_join_derive_keys(root_r, eui_e, &acc, &keys), LW_OK);
    unhex(vec_key_up, want, sizeof(want));
    assert_memory_equal(keys.up, want, LW_KEY_LEN);
    unhex(vec_key_down, want, sizeof(want));
    assert_memory_equal(keys.down, want, LW_KEY_LEN);

    /* Counters restart at 1 in the new session; lw_frame is used unchanged. */
    n = unhex(vec_first_heartbeat, want, sizeof(want));
    assert_int_equal(lw_frame_seal(&up, keys.up, NULL, 0, got, sizeof(got)), (int)n);
    assert_memory_equal(got, want, n);
    n = unhex(vec_first_ack, want, sizeof(want));
    assert_int_equal(lw_frame_seal(&down, keys.down, NULL, 0, got, sizeof(got)), (int)n);
    assert_memory_equal(got, want, n);
    /* The uplink key does not open downlinks and vice versa. */
    assert_int_equal(lw_frame_open(got, n, keys.up, &down, NULL, 0), LW_ERR_MIC);
}

static void test_round_trip(void **state)
{
    static const uint32_t nonces[] = {1, 2, 0x105, 0x80000000u, 0xFFFFFFFFu};
    static const uint16_t addrs[] = {0x0001, 0x0123, 0xFFFE};
    uint8_t buf[LW_FRAME_MAX_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof(nonces) / sizeof(nonces[0]); i++) {
        for (uint8_t hl = 0; hl <= LW_HOP_MAX; hl++) {
            struct lw_join_req rq = vec_req_in(), rq_out;
            struct lw_join_acc ac = vec_acc_in(), ac_out;
            struct lw_join_keys k_gw, k_node;

            rq.join_nonce = nonces[i];
            rq.hop_limit = hl;
            rq.hop_count = 5; /* ignored: the origin sends 0 */
            assert_int_equal(lw_join_request_build(&rq, root_r, buf, sizeof(buf)), LW_JOIN_REQ_LEN);
            assert_int_equal(lw_join_request_parse_verify(buf, LW_JOIN_REQ_LEN, NET, root_r,
                                                          nonces[i] - 1, &rq_out),
                             LW_OK);
            assert_int_equal(rq_out.join_nonce, nonces[i]);
            assert_int_equal(rq_out.hop_limit, hl);
            assert_int_equal(rq_out.hop_count, 0);

            ac.join_nonce = rq_out.join_nonce;
            ac.hop_limit = hl;
            ac.address = addrs[i % 3];
            ac.gw_nonce[0] = (uint8_t)i;
            assert_int_equal(lw_join_accept_build(&ac, root_r, eui_e, buf, sizeof(buf)),
                             LW_JOIN_ACC_LEN);
            assert_int_equal(
                lw_join_accept_open(buf, LW_JOIN_ACC_LEN, NET, root_r, eui_e, nonces[i], &ac_out),
                LW_OK);
            assert_int_equal(ac_out.address, ac.address);
            assert_int_equal(ac_out.hop_limit, hl);
            assert_memory_equal(ac_out.gw_nonce, ac.gw_nonce, LW_JOIN_GW_NONCE_LEN);

            /* Both ends derive the same keys. */
            assert_int_equal(lw_join_derive_keys(root_r, eui_e, &ac, &k_gw), LW_OK);
            assert_int_equal(lw_join_derive_keys(root_r, rq_out.eui, &ac_out, &k_node), LW_OK);
            assert_memory_equal(&k_gw, &k_node, sizeof(k_gw));
        }
    }
}

/* Relays may bump hop_count on join frames too: both still verify and report the count. */
static void test_relayed_join_frames_verify(void **state)
{
    uint8_t req[LW_FRAME_MAX_LEN], acc[LW_FRAME_MAX_LEN];
    size_t rn = vec_frame(vec_req, req, sizeof(req)), an = vec_frame(vec_acc, acc, sizeof(acc));
    struct lw_join_req r;
    struct lw_join_acc a;

    (void)state;
    assert_int_equal(lw_frame_hop(req, rn), LW_OK);
    assert_int_equal(lw_frame_hop(req, rn), LW_OK);
    assert_int_equal(lw_join_request_parse_verify(req, rn, NET, root_r, 0, &r), LW_OK);
    assert_int_equal(r.hop_count, 2);
    assert_int_equal(lw_frame_hop(acc, an), LW_OK);
    assert_int_equal(lw_join_accept_open(acc, an, NET, root_r, eui_e, VEC_JOIN_NONCE, &a), LW_OK);
    assert_int_equal(a.hop_count, 1);
    /* hop_limit is authenticated. */
    req[1] = (uint8_t)((req[1] & 0xE3u) | 7u << 2);
    assert_int_equal(lw_join_request_parse_verify(req, rn, NET, root_r, 0, &r), LW_ERR_MIC);
}

/* A wrong root key, a tampered EUI and a tampered nonce all look alike: LW_ERR_MIC, nothing
 * learnt, outputs zeroed. */
static void test_wrong_root_key_is_mic_failure(void **state)
{
    uint8_t other[LW_KEY_LEN], req[LW_FRAME_MAX_LEN], acc[LW_FRAME_MAX_LEN];
    size_t rn = vec_frame(vec_req, req, sizeof(req)), an = vec_frame(vec_acc, acc, sizeof(acc));
    struct lw_join_req r;
    struct lw_join_acc a;

    (void)state;
    for (size_t byte = 0; byte < LW_KEY_LEN; byte++) {
        memcpy(other, root_r, sizeof(other));
        other[byte] ^= 0x01;
        memset(&r, 0xAA, sizeof(r));
        assert_int_equal(lw_join_request_parse_verify(req, rn, NET, other, 0, &r), LW_ERR_MIC);
        assert_all_zero(&r, sizeof(r));
        memset(&a, 0xAA, sizeof(a));
        assert_int_equal(lw_join_accept_open(acc, an, NET, other, eui_e, VEC_JOIN_NONCE, &a),
                         LW_ERR_MIC);
        assert_all_zero(&a, sizeof(a));
    }
    /* The gateway looked up the key of a different EUI than the node's own. */
    req[LW_FRAME_HDR_LEN + 7] ^= 0x01;
    assert_int_equal(lw_join_request_parse_verify(req, rn, NET, root_r, 0, &r), LW_ERR_MIC);
    req[LW_FRAME_HDR_LEN + 7] ^= 0x01;
    /* A node with another EUI does not open the accept. */
    memcpy(other, eui_e, LW_JOIN_EUI_LEN);
    other[0] ^= 0x80;
    assert_int_equal(lw_join_accept_open(acc, an, NET, root_r, other, VEC_JOIN_NONCE, &a),
                     LW_ERR_MIC);
}

/* Every single-bit flip outside hop_count is rejected, with zeroed outputs; never LW_OK. */
static void test_bit_flips_rejected(void **state)
{
    uint8_t req[LW_FRAME_MAX_LEN], acc[LW_FRAME_MAX_LEN];
    size_t rn = vec_frame(vec_req, req, sizeof(req)), an = vec_frame(vec_acc, acc, sizeof(acc));
    struct lw_join_req r;
    struct lw_join_acc a;
    int rc;

    (void)state;
    for (size_t bit = 0; bit < rn * 8; bit++) {
        if (bit / 8 == 1 && bit % 8 >= 5)
            continue; /* hop_count: not authenticated by design */
        req[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        memset(&r, 0xAA, sizeof(r));
        rc = lw_join_request_parse_verify(req, rn, NET, root_r, 0, &r);
        assert_true(rc < 0);
        assert_all_zero(&r, sizeof(r));
        /* Flips in the authenticated body (EUI, MIC) are MIC failures. */
        if (bit / 8 >= LW_FRAME_HDR_LEN)
            assert_int_equal(rc, LW_ERR_MIC);
        req[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t bit = 0; bit < an * 8; bit++) {
        if (bit / 8 == 1 && bit % 8 >= 5)
            continue;
        acc[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        memset(&a, 0xAA, sizeof(a));
        rc = lw_join_accept_open(acc, an, NET, root_r, eui_e, VEC_JOIN_NONCE, &a);
        assert_true(rc < 0);
        assert_all_zero(&a, sizeof(a));
        if (bit / 8 >= LW_FRAME_HDR_LEN)
            assert_int_equal(rc, LW_ERR_MIC);
        acc[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* Untouched, both still verify. */
    assert_int_equal(lw_join_request_parse_verify(req, rn, NET, root_r, 0, &r), LW_OK);
    assert_int_equal(lw_join_accept_open(acc, an, NET, root_r, eui_e, VEC_JOIN_NONCE, &a), LW_OK);
}

static void test_replayed_or_old_node_nonce(void **state)
{
    uint8_t req[LW_FRAME_MAX_LEN];
    size_t rn = vec_frame(vec_req, req, sizeof(req));
    struct lw_join_req r;

    (void)state;
    assert_int_equal(lw_join_request_parse_verify(req, rn, NET, root_r, VEC_JOIN_NONCE - 1, &r),
                     LW_OK);
    /* The gateway stored VEC_JOIN_NONCE as the last accepted nonce: the same request again... */
    memset(&r, 0xAA, sizeof(r));
    assert_int_equal(lw_join_request_parse_verify(req, rn, NET, root_r, VEC_JOIN_NONCE, &r),
                     LW_ERR_REPLAY);
    assert_all_zero(&r, sizeof(r));
    /* ...and any older one are refused. */
    assert_int_equal(lw_join_request_parse_verify(req, rn, NET, root_r, 0xFFFFFFFFu, &r),
                     LW_ERR_REPLAY);
    /* A forgery with an old nonce is a MIC failure, not a replay: REPLAY means authentic. */
    req[rn - 1] ^= 0x01;
    assert_int_equal(lw_join_request_parse_verify(req, rn, NET, root_r, VEC_JOIN_NONCE, &r),
                     LW_ERR_MIC);
}

/* A node accepts only the answer to its pending request. */
static void test_accept_for_other_nonce_refused(void **state)
{
    uint8_t acc[LW_FRAME_MAX_LEN];
    size_t an = vec_frame(vec_acc, acc, sizeof(acc));
    struct lw_join_acc a;

    (void)state;
    assert_int_equal(lw_join_accept_open(acc, an, NET, root_r, eui_e, VEC_JOIN_NONCE + 1, &a),
                     LW_ERR_REPLAY);
    assert_int_equal(lw_join_accept_open(acc, an, NET, root_r, eui_e, VEC_JOIN_NONCE - 1, &a),
                     LW_ERR_REPLAY);
    /* Rewriting the echoed nonce to the pending one breaks the MIC. */
    acc[8] = 0x06;
    assert_int_equal(lw_join_accept_open(acc, an, NET, root_r, eui_e, 0x106, &a), LW_ERR_MIC);
    assert_all_zero(&a, sizeof(a));
}

static void test_truncated_and_oversized(void **state)
{
    uint8_t req[LW_FRAME_MAX_LEN + 1], acc[LW_FRAME_MAX_LEN + 1];
    struct lw_join_req r;
    struct lw_join_acc a;

    (void)state;
    memset(req, 0, sizeof(req));
    memset(acc, 0, sizeof(acc));
    vec_frame(vec_req, req, sizeof(req));
    vec_frame(vec_acc, acc, sizeof(acc));
    for (size_t len = 0; len < LW_JOIN_REQ_LEN; len++) {
        assert_int_equal(lw_join_request_peek(req, len, &r), LW_ERR_TRUNCATED);
        assert_int_equal(lw_join_request_parse_verify(req, len, NET, root_r, 0, &r),
                         LW_ERR_TRUNCATED);
    }
    for (size_t len = LW_JOIN_REQ_LEN + 1; len <= LW_FRAME_MAX_LEN + 1; len++)
        assert_int_equal(lw_join_request_parse_verify(req, len, NET, root_r, 0, &r), LW_ERR_TOOBIG);
    for (size_t len = 0; len < LW_JOIN_ACC_LEN; len++)
        assert_int_equal(lw_join_accept_open(acc, len, NET, root_r, eui_e, VEC_JOIN_NONCE, &a),
                         LW_ERR_TRUNCATED);
    for (size_t len = LW_JOIN_ACC_LEN + 1; len <= LW_FRAME_MAX_LEN + 1; len++)
        assert_int_equal(lw_join_accept_open(acc, len, NET, root_r, eui_e, VEC_JOIN_NONCE, &a),
                         LW_ERR_TOOBIG);
    assert_all_zero(&r, sizeof(r));
    assert_all_zero(&a, sizeof(a));
}

static void test_wrong_network(void **state)
{
    uint8_t req[LW_FRAME_MAX_LEN], acc[LW_FRAME_MAX_LEN];
    size_t rn = vec_frame(vec_req, req, sizeof(req)), an = vec_frame(vec_acc, acc, sizeof(acc));
    struct lw_join_req r = vec_req_in(), rout;
    struct lw_join_acc a = vec_acc_in(), aout;

    (void)state;
    assert_int_equal(lw_join_request_parse_verify(req, rn, 0x4C58, root_r, 0, &rout),
                     LW_ERR_NETWORK);
    assert_int_equal(lw_join_accept_open(acc, an, 0x4C58, root_r, eui_e, VEC_JOIN_NONCE, &aout),
                     LW_ERR_NETWORK);
    /* The network is bound into the join key: a request built for another network and passed
     * off as ours (net_id rewritten) fails the MIC. */
    r.net_id = 0x4C58;
    assert_int_equal(lw_join_request_build(&r, root_r, req, sizeof(req)), LW_JOIN_REQ_LEN);
    req[2] = 0x57;
    assert_int_equal(lw_join_request_parse_verify(req, rn, NET, root_r, 0, &rout), LW_ERR_MIC);
    a.net_id = 0x4C58;
    assert_int_equal(lw_join_accept_build(&a, root_r, eui_e, acc, sizeof(acc)), LW_JOIN_ACC_LEN);
    acc[2] = 0x57;
    assert_int_equal(lw_join_accept_open(acc, an, NET, root_r, eui_e, VEC_JOIN_NONCE, &aout),
                     LW_ERR_MIC);
}

static void test_header_rules(void **state)
{
    uint8_t req[LW_FRAME_MAX_LEN], acc[LW_FRAME_MAX_LEN];
    size_t rn = vec_frame(vec_req, req, sizeof(req)), an = vec_frame(vec_acc, acc, sizeof(acc));
    struct lw_join_req r;
    struct lw_join_acc a;

    (void)state;
    /* Each parser takes only its own type. */
    assert_int_equal(lw_join_request_peek(acc, an, &r), LW_ERR_TYPE);
    assert_int_equal(lw_join_accept_open(req, rn, NET, root_r, eui_e, VEC_JOIN_NONCE, &a),
                     LW_ERR_TYPE);
    req[0] = 0x11; /* DATA */
    assert_int_equal(lw_join_request_peek(req, rn, &r), LW_ERR_TYPE);
    req[0] = 0x23; /* version 2 */
    assert_int_equal(lw_join_request_peek(req, rn, &r), LW_ERR_VERSION);
    req[0] = 0x13;
    /* ACK_REQ, src, dst and nonce 0 are checked before any crypto. */
    req[1] |= 0x02;
    assert_int_equal(lw_join_request_peek(req, rn, &r), LW_ERR_INVAL);
    req[1] &= (uint8_t)~0x02u;
    req[4] = 0x01; /* src 0xFF01 */
    assert_int_equal(lw_join_request_peek(req, rn, &r), LW_ERR_INVAL);
    req[4] = 0xFF;
    req[6] = 0x01; /* dst 0x0001 */
    assert_int_equal(lw_join_request_peek(req, rn, &r), LW_ERR_INVAL);
    req[6] = 0x00;
    memset(req + 8, 0, 4); /* join nonce 0 */
    assert_int_equal(lw_join_request_parse_verify(req, rn, NET, root_r, 0, &r), LW_ERR_INVAL);

    acc[1] |= 0x02;
    assert_int_equal(lw_join_accept_open(acc, an, NET, root_r, eui_e, VEC_JOIN_NONCE, &a),
                     LW_ERR_INVAL);
    acc[1] &= (uint8_t)~0x02u;
    acc[4] = 0x01; /* src 0x0001 */
    assert_int_equal(lw_join_accept_open(acc, an, NET, root_r, eui_e, VEC_JOIN_NONCE, &a),
                     LW_ERR_INVAL);
    acc[4] = 0x00;
    acc[6] = 0x23; /* dst 0xFF23 */
    assert_int_equal(lw_join_accept_open(acc, an, NET, root_r, eui_e, VEC_JOIN_NONCE, &a),
                     LW_ERR_INVAL);
    acc[6] = 0xFF;
    assert_int_equal(lw_join_accept_open(acc, an, NET, root_r, eui_e, VEC_JOIN_NONCE, &a), LW_OK);
}

/* An authentic accept carrying address 0 or 0xFFFF (a gateway bug) is still refused. */
static void test_accept_with_reserved_address(void **state)
{
    static const uint16_t bad[] = {LW_ADDR_GATEWAY, LW_ADDR_UNASSIGNED};
    uint8_t acc[LW_FRAME_MAX_LEN], jk[LW_KEY_LEN], aad[LW_FRAME_HDR_LEN + 8];
    uint8_t nonce[LW_AEAD_NONCE_LEN], plain[2];
    size_t an = vec_frame(vec_acc, acc, sizeof(acc));
    struct lw_join_acc a;

    (void)state;
    assert_int_equal(lw_join_derive_join_key(root_r, NET, eui_e, jk), LW_OK);
    for (size_t i = 0; i < 2; i++) {
        /* Seal by hand as section 12.4 describes. */
        memcpy(aad, acc, sizeof(aad));
        nonce[0] = 0x03;
        memcpy(nonce + 1, gw_nonce_g, 8);
        memcpy(nonce + 9, acc + 8, 4);
        plain[0] = (uint8_t)bad[i];
        plain[1] = (uint8_t)(bad[i] >> 8);
        assert_int_equal(lw_aead_seal(jk, nonce, aad, sizeof(aad), plain, 2, acc + 20, acc + 22),
                         LW_OK);
        memset(&a, 0xAA, sizeof(a));
        assert_int_equal(lw_join_accept_open(acc, an, NET, root_r, eui_e, VEC_JOIN_NONCE, &a),
                         LW_ERR_RANGE);
        assert_all_zero(&a, sizeof(a));
    }
}

static void test_bad_arguments(void **state)
{
    static const uint8_t zero[LW_KEY_LEN];
    uint8_t buf[LW_FRAME_MAX_LEN], req[LW_FRAME_MAX_LEN], acc[LW_FRAME_MAX_LEN], k[LW_KEY_LEN];
    size_t rn = vec_frame(vec_req, req, sizeof(req)), an = vec_frame(vec_acc, acc, sizeof(acc));
    struct lw_join_req r = vec_req_in(), rout;
    struct lw_join_acc a = vec_acc_in(), aout;
    struct lw_join_keys keys;

    (void)state;
    /* All-zero (default) root keys are refused everywhere. */
    assert_int_equal(lw_join_derive_join_key(zero, NET, eui_e, k), LW_ERR_INVAL);
    assert_all_zero(k, sizeof(k));
    assert_int_equal(lw_join_request_build(&r, zero, buf, sizeof(buf)), LW_ERR_INVAL);
    assert_int_equal(lw_join_request_parse_verify(req, rn, NET, zero, 0, &rout), LW_ERR_INVAL);
    assert_int_equal(lw_join_accept_build(&a, zero, eui_e, buf, sizeof(buf)), LW_ERR_INVAL);
    assert_int_equal(lw_join_accept_open(acc, an, NET, zero, eui_e, VEC_JOIN_NONCE, &aout),
                     LW_ERR_INVAL);
    memset(&keys, 0xAA, sizeof(keys));
    assert_int_equal(lw_join_derive_keys(zero, eui_e, &a, &keys), LW_ERR_INVAL);
    assert_all_zero(&keys, sizeof(keys));

    assert_int_equal(lw_join_request_build(NULL, root_r, buf, sizeof(buf)), LW_ERR_INVAL);
    assert_int_equal(lw_join_request_build(&r, NULL, buf, sizeof(buf)), LW_ERR_INVAL);
    assert_int_equal(lw_join_request_build(&r, root_r, NULL, sizeof(buf)), LW_ERR_INVAL);
    assert_int_equal(lw_join_request_build(&r, root_r, buf, LW_JOIN_REQ_LEN - 1), LW_ERR_TOOBIG);
    r.join_nonce = 0;
    assert_int_equal(lw_join_request_build(&r, root_r, buf, sizeof(buf)), LW_ERR_INVAL);
    r = vec_req_in();
    r.hop_limit = 8;
    assert_int_equal(lw_join_request_build(&r, root_r, buf, sizeof(buf)), LW_ERR_INVAL);

    assert_int_equal(lw_join_request_peek(NULL, rn, &rout), LW_ERR_INVAL);
    assert_int_equal(lw_join_request_peek(req, rn, NULL), LW_ERR_INVAL);
    assert_int_equal(lw_join_request_parse_verify(req, rn, NET, NULL, 0, &rout), LW_ERR_INVAL);
    assert_int_equal(lw_join_request_parse_verify(req, rn, NET, root_r, 0, NULL), LW_ERR_INVAL);

    assert_int_equal(lw_join_accept_build(NULL, root_r, eui_e, buf, sizeof(buf)), LW_ERR_INVAL);
    assert_int_equal(lw_join_accept_build(&a, root_r, NULL, buf, sizeof(buf)), LW_ERR_INVAL);
    assert_int_equal(lw_join_accept_build(&a, root_r, eui_e, buf, LW_JOIN_ACC_LEN - 1),
                     LW_ERR_TOOBIG);
    a.address = LW_ADDR_GATEWAY;
    assert_int_equal(lw_join_accept_build(&a, root_r, eui_e, buf, sizeof(buf)), LW_ERR_INVAL);
    assert_int_equal(lw_join_derive_keys(root_r, eui_e, &a, &keys), LW_ERR_INVAL);
    a.address = LW_ADDR_UNASSIGNED;
    assert_int_equal(lw_join_accept_build(&a, root_r, eui_e, buf, sizeof(buf)), LW_ERR_INVAL);
    a = vec_acc_in();
    a.join_nonce = 0;
    assert_int_equal(lw_join_accept_build(&a, root_r, eui_e, buf, sizeof(buf)), LW_ERR_INVAL);
    assert_int_equal(lw_join_derive_keys(root_r, eui_e, &a, &keys), LW_ERR_INVAL);
    a = vec_acc_in();
    a.hop_limit = 8;
    assert_int_equal(lw_join_accept_build(&a, root_r, eui_e, buf, sizeof(buf)), LW_ERR_INVAL);

    assert_int_equal(lw_join_accept_open(NULL, an, NET, root_r, eui_e, VEC_JOIN_NONCE, &aout),
                     LW_ERR_INVAL);
    assert_int_equal(lw_join_accept_open(acc, an, NET, root_r, NULL, VEC_JOIN_NONCE, &aout),
                     LW_ERR_INVAL);
    assert_int_equal(lw_join_accept_open(acc, an, NET, root_r, eui_e, 0, &aout), LW_ERR_INVAL);
    assert_int_equal(lw_join_accept_open(acc, an, NET, root_r, eui_e, VEC_JOIN_NONCE, NULL),
                     LW_ERR_INVAL);
    assert_int_equal(lw_join_derive_keys(root_r, NULL, &a, &keys), LW_ERR_INVAL);
    assert_int_equal(lw_join_derive_keys(root_r, eui_e, NULL, &keys), LW_ERR_INVAL);
    assert_int_equal(lw_join_derive_keys(root_r, eui_e, &a, NULL), LW_ERR_INVAL);
}

/* Every join yields fresh, independent keys: no key is reused across sessions or roles. */
static void test_keys_are_distinct(void **state)
{
    struct lw_join_acc base = vec_acc_in(), a;
    struct lw_join_keys k0, k1;
    uint8_t jk[LW_KEY_LEN], eui2[LW_JOIN_EUI_LEN];

    (void)state;
    assert_int_equal(lw_join_derive_keys(root_r, eui_e, &base, &k0), LW_OK);
    assert_memory_not_equal(k0.up, k0.down, LW_KEY_LEN);
    assert_int_equal(lw_join_derive_join_key(root_r, NET, eui_e, jk), LW_OK);
    assert_memory_not_equal(jk, root_r, LW_KEY_LEN);
    assert_memory_not_equal(jk, k0.up, LW_KEY_LEN);
    assert_memory_not_equal(jk, k0.down, LW_KEY_LEN);

    for (int change = 0; change < 4; change++) {
        a = base;
        memcpy(eui2, eui_e, sizeof(eui2));
        switch (change) {
        case 0:
            a.gw_nonce[7] ^= 0x01; /* the gateway's fresh randomness */
            break;
        case 1:
            a.join_nonce++; /* the node's counter */
            break;
        case 2:
            a.address++;
            break;
        default:
            eui2[3] ^= 0x01;
            break;
        }
        assert_int_equal(lw_join_derive_keys(root_r, eui2, &a, &k1), LW_OK);
        assert_memory_not_equal(k0.up, k1.up, LW_KEY_LEN);
        assert_memory_not_equal(k0.down, k1.down, LW_KEY_LEN);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_join_key),
        cmocka_unit_test(test_vector_request_build_and_verify),
        cmocka_unit_test(test_vector_accept_build_and_open),
        cmocka_unit_test(test_vector_session_keys_and_first_frames),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_relayed_join_frames_verify),
        cmocka_unit_test(test_wrong_root_key_is_mic_failure),
        cmocka_unit_test(test_bit_flips_rejected),
        cmocka_unit_test(test_replayed_or_old_node_nonce),
        cmocka_unit_test(test_accept_for_other_nonce_refused),
        cmocka_unit_test(test_truncated_and_oversized),
        cmocka_unit_test(test_wrong_network),
        cmocka_unit_test(test_header_rules),
        cmocka_unit_test(test_accept_with_reserved_address),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_keys_are_distinct),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
