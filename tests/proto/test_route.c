/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the route trailer: relays append hops, the receiver strips them, and the origin
 * frame still authenticates; loops, bad addresses and hop limits are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lw_error.h"
#include "lw_frame.h"
#include "lw_route.h"

static const uint8_t key[LW_KEY_LEN] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                        0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};

static int make_frame(uint8_t *buf, uint8_t hop_limit)
{
    struct lw_frame_hdr h = {.type = LW_FT_ALARM,
                             .hop_limit = hop_limit,
                             .ack_req = true,
                             .net_id = 0x4C57,
                             .src = 0x0102,
                             .dst = 0,
                             .fcnt = 42};
    const uint8_t plain[] = {0x01, 0x02, 0xd2, 0x04};
    int n = lw_frame_seal(&h, key, plain, sizeof(plain), buf, LW_FRAME_MAX_LEN);
    assert_int_equal(n, LW_FRAME_OVERHEAD + 4);
    return n;
}

static void test_append_parse_strip_open(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN], plain[LW_FRAME_MAX_PAYLOAD];
    struct lw_route rt;
    struct lw_frame_hdr h;
    (void)state;

    int n = make_frame(buf, 3), origin = n;
    n = lw_route_append(buf, (size_t)n, sizeof(buf), 0x0201, -7);
    assert_int_equal(n, origin + 3);
    n = lw_route_append(buf, (size_t)n, sizeof(buf), 0x0301, 12);
    assert_int_equal(n, origin + 6);
    assert_int_equal(lw_route_parse(buf, (size_t)n, &rt), LW_OK);
    assert_int_equal(rt.n_hops, 2);
    assert_int_equal(rt.origin_len, origin);
    assert_int_equal(rt.hops[0].relay, 0x0201);
    assert_int_equal(rt.hops[0].snr_db, -7);
    assert_int_equal(rt.hops[1].relay, 0x0301);
    assert_int_equal(rt.hops[1].snr_db, 12);
    assert_int_equal(rt.hdr.hop_count, 2);
    /* The wire bytes: address little-endian, then the SNR byte. */
    assert_int_equal(buf[origin], 0x01);
    assert_int_equal(buf[origin + 1], 0x02);
    assert_int_equal(buf[origin + 2], 0xF9);

    assert_int_equal(lw_route_strip(buf, (size_t)n), origin);
    assert_int_equal(lw_frame_open(buf, (size_t)origin, key, &h, plain, sizeof(plain)), 4);
    assert_int_equal(h.hop_count, 0);
    assert_int_equal(h.fcnt, 42);
}

static void test_hop_limit_and_loops(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN];
    (void)state;

    int n = make_frame(buf, 2);
    n = lw_route_append(buf, (size_t)n, sizeof(buf), 0x0201, 0);
    assert_true(n > 0);
    /* A relay that already forwarded it would loop. */
    assert_int_equal(lw_route_append(buf, (size_t)n, sizeof(buf), 0x0201, 0), LW_ERR_DUP);
    /* So would the origin. */
    assert_int_equal(lw_route_append(buf, (size_t)n, sizeof(buf), 0x0102, 0), LW_ERR_DUP);
    assert_int_equal(lw_route_append(buf, (size_t)n, sizeof(buf), 0, 0), LW_ERR_INVAL);
    assert_int_equal(lw_route_append(buf, (size_t)n, sizeof(buf), 0xFFFF, 0), LW_ERR_INVAL);
    n = lw_route_append(buf, (size_t)n, sizeof(buf), 0x0202, 0);
    assert_true(n > 0);
    assert_int_equal(lw_route_append(buf, (size_t)n, sizeof(buf), 0x0203, 0), LW_ERR_RANGE);
    /* No room left in the caller's buffer. */
    n = make_frame(buf, 2);
    assert_int_equal(lw_route_append(buf, (size_t)n, (size_t)n + 2, 0x0201, 0), LW_ERR_TOOBIG);
}

static void test_parse_rejects(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN];
    struct lw_route rt;
    (void)state;

    int n = make_frame(buf, 3);
    /* hop_count 1 claimed, but the frame is only the origin's 24 bytes: the "entry" would be
     * the MIC's tail. Length still suffices, so it parses; stripping breaks the MIC. */
    uint8_t forged[LW_FRAME_MAX_LEN];
    memcpy(forged, buf, (size_t)n);
    forged[1] = (uint8_t)(forged[1] + (1u << 5));
    uint8_t plain[LW_FRAME_MAX_PAYLOAD];
    struct lw_frame_hdr h;
    int m = lw_route_strip(forged, (size_t)n);
    if (m > 0)
        assert_int_equal(lw_frame_open(forged, (size_t)m, key, &h, plain, sizeof(plain)),
                         LW_ERR_MIC);
    /* Shorter than the overhead plus the claimed entries. */
    uint8_t tiny[LW_FRAME_OVERHEAD + 2];
    memcpy(tiny, buf, LW_FRAME_OVERHEAD);
    tiny[1] = (uint8_t)(3u << 5 | 3u << 2);
    assert_int_equal(lw_route_parse(tiny, LW_FRAME_OVERHEAD + 2, &rt), LW_ERR_TRUNCATED);
    /* A relay entry naming the gateway or broadcast. */
    n = lw_route_append(buf, (size_t)n, sizeof(buf), 0x0201, 0);
    buf[n - 3] = 0;
    buf[n - 2] = 0;
    assert_int_equal(lw_route_parse(buf, (size_t)n, &rt), LW_ERR_INVAL);
    buf[n - 3] = 0xFF;
    buf[n - 2] = 0xFF;
    assert_int_equal(lw_route_parse(buf, (size_t)n, &rt), LW_ERR_INVAL);
    /* The source listed as a relay: a loop. */
    buf[n - 3] = 0x02;
    buf[n - 2] = 0x01;
    assert_int_equal(lw_route_parse(buf, (size_t)n, &rt), LW_ERR_DUP);
    assert_int_equal(rt.n_hops, 0);
    assert_int_equal(lw_route_parse(NULL, 3, &rt), LW_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_parse_strip_open),
        cmocka_unit_test(test_hop_limit_and_loops),
        cmocka_unit_test(test_parse_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
