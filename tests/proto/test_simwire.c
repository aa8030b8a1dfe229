/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_simwire: exact layout, round trips and every rejection of the decoder. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lw_error.h"
#include "lw_simwire.h"

static const uint8_t frame[5] = {0x11, 0x0C, 0x57, 0x4C, 0x99};

static struct lw_simwire sample_air(void)
{
    struct lw_simwire m = {.kind = LW_SIMWIRE_AIR,
                           .sf = 9,
                           .freq_hz = 470300000,
                           .bw_hz = 125000,
                           .rssi_x10 = -1125,
                           .snr_x10 = -75,
                           .t_ms = 0x0102030405060708ull,
                           .payload = frame,
                           .len = sizeof(frame)};
    return m;
}

static int sample_datagram(uint8_t *buf, size_t cap)
{
    struct lw_simwire m = sample_air();
    int n = lw_simwire_encode(&m, buf, cap);

    assert_int_equal(n, LW_SIMWIRE_HDR_LEN + sizeof(frame));
    return n;
}

static void test_encode_exact_layout(void **state)
{
    static const uint8_t want[] = {
        'L',  'W',  'S',  'M',  1,    1,    9,    0,    0x60, 0x35, 0x08, 0x1C, /* 470300000 */
        0x48, 0xE8, 0x01, 0x00,                                                 /* 125000 */
        0x9B, 0xFB,                                                             /* -1125 */
        0xB5, 0xFF,                                                             /* -75 */
        0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x05, 0x00,             /* len */
        0x11, 0x0C, 0x57, 0x4C, 0x99};
    uint8_t buf[LW_SIMWIRE_MAX_LEN];

    (void)state;
    assert_int_equal(sample_datagram(buf, sizeof(buf)), sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));
}

static void test_air_round_trip(void **state)
{
    uint8_t buf[LW_SIMWIRE_MAX_LEN];
    struct lw_simwire in = sample_air(), out;
    int n = sample_datagram(buf, sizeof(buf));

    (void)state;
    assert_int_equal(lw_simwire_decode(buf, (size_t)n, &out), LW_OK);
    assert_int_equal(out.kind, in.kind);
    assert_int_equal(out.sf, in.sf);
    assert_int_equal(out.freq_hz, in.freq_hz);
    assert_int_equal(out.bw_hz, in.bw_hz);
    assert_int_equal(out.rssi_x10, in.rssi_x10);
    assert_int_equal(out.snr_x10, in.snr_x10);
    assert_int_equal(out.t_ms, in.t_ms);
    assert_int_equal(out.len, in.len);
    /* Zero-copy: the payload points into the datagram. */
    assert_ptr_equal(out.payload, buf + LW_SIMWIRE_HDR_LEN);
    assert_memory_equal(out.payload, frame, sizeof(frame));
}

static void test_tick_round_trip(void **state)
{
    uint8_t buf[LW_SIMWIRE_MAX_LEN];
    struct lw_simwire in = {.kind = LW_SIMWIRE_TICK, .t_ms = 1700000000123ull}, out;

    (void)state;
    assert_int_equal(lw_simwire_encode(&in, buf, sizeof(buf)), LW_SIMWIRE_HDR_LEN);
    assert_int_equal(lw_simwire_decode(buf, LW_SIMWIRE_HDR_LEN, &out), LW_OK);
    assert_int_equal(out.kind, LW_SIMWIRE_TICK);
    assert_int_equal(out.t_ms, 1700000000123ull);
    assert_int_equal(out.len, 0);
    assert_non_null(out.payload);
}

static void test_max_payload_round_trip(void **state)
{
    uint8_t pl[255], buf[LW_SIMWIRE_MAX_LEN];
    struct lw_simwire in = sample_air(), out;

    (void)state;
    for (size_t i = 0; i < sizeof(pl); i++)
        pl[i] = (uint8_t)i;
    in.payload = pl;
    in.len = 255;
    assert_int_equal(lw_simwire_encode(&in, buf, sizeof(buf)), LW_SIMWIRE_MAX_LEN);
    assert_int_equal(lw_simwire_decode(buf, LW_SIMWIRE_MAX_LEN, &out), LW_OK);
    assert_int_equal(out.len, 255);
    assert_memory_equal(out.payload, pl, 255);
}

static void test_encode_rejections(void **state)
{
    uint8_t buf[LW_SIMWIRE_MAX_LEN + 1];
    struct lw_simwire m;

    (void)state;
    m = sample_air();
    assert_int_equal(lw_simwire_encode(NULL, buf, sizeof(buf)), LW_ERR_INVAL);
    assert_int_equal(lw_simwire_encode(&m, NULL, sizeof(buf)), LW_ERR_INVAL);
    m.kind = 3;
    assert_int_equal(lw_simwire_encode(&m, buf, sizeof(buf)), LW_ERR_INVAL);
    m = sample_air();
    m.len = 256;
    assert_int_equal(lw_simwire_encode(&m, buf, sizeof(buf)), LW_ERR_TOOBIG);
    m = sample_air();
    m.len = 0;
    assert_int_equal(lw_simwire_encode(&m, buf, sizeof(buf)), LW_ERR_INVAL); /* empty AIR */
    m = sample_air();
    m.kind = LW_SIMWIRE_TICK;
    assert_int_equal(lw_simwire_encode(&m, buf, sizeof(buf)), LW_ERR_INVAL); /* TICK + data */
    m = sample_air();
    m.payload = NULL;
    assert_int_equal(lw_simwire_encode(&m, buf, sizeof(buf)), LW_ERR_INVAL);
    m = sample_air();
    assert_int_equal(lw_simwire_encode(&m, buf, LW_SIMWIRE_HDR_LEN + 4), LW_ERR_TOOBIG);
}

static void test_decode_rejects_truncated(void **state)
{
    uint8_t buf[LW_SIMWIRE_MAX_LEN];
    struct lw_simwire m;
    int n = sample_datagram(buf, sizeof(buf));

    (void)state;
    for (size_t len = 0; len < LW_SIMWIRE_HDR_LEN; len++)
        assert_int_equal(lw_simwire_decode(buf, len, &m), LW_ERR_TRUNCATED);
    /* Header complete, payload shorter than declared. */
    assert_int_equal(lw_simwire_decode(buf, (size_t)n - 1, &m), LW_ERR_TRUNCATED);
    assert_int_equal(lw_simwire_decode(buf, LW_SIMWIRE_HDR_LEN, &m), LW_ERR_TRUNCATED);
}

static void test_decode_rejects_bad_magic(void **state)
{
    uint8_t buf[LW_SIMWIRE_MAX_LEN];
    struct lw_simwire m;
    int n = sample_datagram(buf, sizeof(buf));

    (void)state;
    for (int i = 0; i < 4; i++) {
        buf[i] ^= 0x20;
        assert_int_equal(lw_simwire_decode(buf, (size_t)n, &m), LW_ERR_INVAL);
        buf[i] ^= 0x20;
    }
}

static void test_decode_rejects_wrong_version(void **state)
{
    uint8_t buf[LW_SIMWIRE_MAX_LEN];
    struct lw_simwire m;
    int n = sample_datagram(buf, sizeof(buf));

    (void)state;
    buf[4] = 0;
    assert_int_equal(lw_simwire_decode(buf, (size_t)n, &m), LW_ERR_VERSION);
    buf[4] = 2;
    assert_int_equal(lw_simwire_decode(buf, (size_t)n, &m), LW_ERR_VERSION);
}

static void test_decode_rejects_unknown_kind_and_reserved(void **state)
{
    uint8_t buf[LW_SIMWIRE_MAX_LEN];
    struct lw_simwire m;
    int n = sample_datagram(buf, sizeof(buf));

    (void)state;
    buf[5] = 0;
    assert_int_equal(lw_simwire_decode(buf, (size_t)n, &m), LW_ERR_INVAL);
    buf[5] = 3;
    assert_int_equal(lw_simwire_decode(buf, (size_t)n, &m), LW_ERR_INVAL);
    buf[5] = LW_SIMWIRE_AIR;
    buf[7] = 1;
    assert_int_equal(lw_simwire_decode(buf, (size_t)n, &m), LW_ERR_INVAL);
}

static void test_decode_rejects_declared_length_over_255(void **state)
{
    uint8_t buf[LW_SIMWIRE_MAX_LEN + 1];
    struct lw_simwire m;

    (void)state;
    memset(buf, 0, sizeof(buf));
    sample_datagram(buf, sizeof(buf));
    buf[28] = 0x00;
    buf[29] = 0x01; /* 256 */
    assert_int_equal(lw_simwire_decode(buf, sizeof(buf), &m), LW_ERR_TOOBIG);
    buf[28] = 0xFF;
    buf[29] = 0xFF;
    assert_int_equal(lw_simwire_decode(buf, sizeof(buf), &m), LW_ERR_TOOBIG);
}

static void test_decode_rejects_length_mismatch(void **state)
{
    uint8_t buf[LW_SIMWIRE_MAX_LEN];
    struct lw_simwire m;
    int n = sample_datagram(buf, sizeof(buf));

    (void)state;
    /* Trailing bytes after the declared payload. */
    buf[28] = 4;
    assert_int_equal(lw_simwire_decode(buf, (size_t)n, &m), LW_ERR_INVAL);
    /* AIR without payload. */
    buf[28] = 0;
    assert_int_equal(lw_simwire_decode(buf, LW_SIMWIRE_HDR_LEN, &m), LW_ERR_INVAL);
    /* TICK with payload. */
    buf[28] = 5;
    buf[5] = LW_SIMWIRE_TICK;
    assert_int_equal(lw_simwire_decode(buf, (size_t)n, &m), LW_ERR_INVAL);
}

static void test_decode_zeroes_output_on_error_and_null_args(void **state)
{
    uint8_t buf[LW_SIMWIRE_MAX_LEN];
    struct lw_simwire m;
    int n = sample_datagram(buf, sizeof(buf));

    (void)state;
    assert_int_equal(lw_simwire_decode(NULL, (size_t)n, &m), LW_ERR_INVAL);
    assert_int_equal(lw_simwire_decode(buf, (size_t)n, NULL), LW_ERR_INVAL);
    memset(&m, 0xAA, sizeof(m));
    buf[4] = 9;
    assert_int_equal(lw_simwire_decode(buf, (size_t)n, &m), LW_ERR_VERSION);
    assert_int_equal(m.kind, 0);
    assert_int_equal(m.len, 0);
    assert_null(m.payload);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_exact_layout),
        cmocka_unit_test(test_air_round_trip),
        cmocka_unit_test(test_tick_round_trip),
        cmocka_unit_test(test_max_payload_round_trip),
        cmocka_unit_test(test_encode_rejections),
        cmocka_unit_test(test_decode_rejects_truncated),
        cmocka_unit_test(test_decode_rejects_bad_magic),
        cmocka_unit_test(test_decode_rejects_wrong_version),
        cmocka_unit_test(test_decode_rejects_unknown_kind_and_reserved),
        cmocka_unit_test(test_decode_rejects_declared_length_over_255),
        cmocka_unit_test(test_decode_rejects_length_mismatch),
        cmocka_unit_test(test_decode_zeroes_output_on_error_and_null_args),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
