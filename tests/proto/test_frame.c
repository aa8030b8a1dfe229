/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_frame: header rules, CCM seal/open, relay hops and the PROTOCOL.md vectors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lw_error.h"
#include "lw_frame.h"
#include "lw_reading.h"

static const uint8_t key_a[LW_KEY_LEN] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                          0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
static const uint8_t key_b[LW_KEY_LEN] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                          0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};

/* A test vector as printed in proto/PROTOCOL.md, section "Test vectors". */
struct vector {
    const char *name;
    const uint8_t *key;
    struct lw_frame_hdr hdr;
    const char *plain_hex;
    const char *frame_hex;
};

static const struct vector vectors[] = {
    {"V1 water reading",
     key_a,
     {.version = 1,
      .type = LW_FT_DATA,
      .hop_count = 0,
      .hop_limit = 3,
      .ack_req = false,
      .net_id = 0x4C57,
      .src = 0x0102,
      .dst = LW_ADDR_GATEWAY,
      .fcnt = 42},
     "0102d2040502d3ff0602c40b070100",
     "110c574c020100002a000000a9a15cc49163f041e4f461f110b204ccd8827ec45e6dfc"},
    {"V2 smoke alarm with ack_req",
     key_b,
     {.version = 1,
      .type = LW_FT_ALARM,
      .hop_count = 0,
      .hop_limit = 2,
      .ack_req = true,
      .net_id = 0x4C57,
      .src = 0x0A17,
      .dst = LW_ADDR_GATEWAY,
      .fcnt = 0x00010203},
     "0203015203050238010602860b070102",
     "120a574c170a00000302010059954ec3e139b0cbe249782ef993f006cdc9ec3fd6ba3bc2"},
    {"V3 heartbeat (empty payload)",
     key_a,
     {.version = 1,
      .type = LW_FT_DATA,
      .hop_count = 0,
      .hop_limit = 0,
      .ack_req = false,
      .net_id = 0x4C57,
      .src = 0x0102,
      .dst = LW_ADDR_GATEWAY,
      .fcnt = 0xFFFFFFFE},
     "",
     "1100574c02010000feffffffe6541bf654189949"},
    {"V4 downlink ACK",
     key_b,
     {.version = 1,
      .type = LW_FT_ACK,
      .hop_count = 0,
      .hop_limit = 2,
      .ack_req = false,
      .net_id = 0x4C57,
      .src = LW_ADDR_GATEWAY,
      .dst = 0x0A17,
      .fcnt = 7},
     "",
     "1508574c0000170a07000000eeda8e981df0f89c"},
};

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

static void assert_hdr_equal(const struct lw_frame_hdr *a, const struct lw_frame_hdr *b)
{
    assert_int_equal(a->version, b->version);
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->hop_count, b->hop_count);
    assert_int_equal(a->hop_limit, b->hop_limit);
    assert_int_equal(a->ack_req, b->ack_req);
    assert_int_equal(a->net_id, b->net_id);
    assert_int_equal(a->src, b->src);
    assert_int_equal(a->dst, b->dst);
    assert_int_equal(a->fcnt, b->fcnt);
}

static struct lw_frame_hdr base_hdr(void)
{
    struct lw_frame_hdr h = {.version = 1,
                             .type = LW_FT_DATA,
                             .hop_count = 0,
                             .hop_limit = 3,
                             .net_id = 0x1234,
                             .src = 0x0042,
                             .dst = LW_ADDR_GATEWAY,
                             .fcnt = 1000};
    return h;
}

/* Seal a 15-byte payload with base_hdr; returns the frame length. */
static int sample_frame(uint8_t *buf, size_t cap)
{
    static const uint8_t pl[15] = {1, 2, 0xd2, 4, 5, 2, 0xd3, 0xff, 6, 2, 0xc4, 0x0b, 7, 1, 0};
    struct lw_frame_hdr h = base_hdr();
    int n = lw_frame_seal(&h, key_a, pl, sizeof(pl), buf, cap);

    assert_int_equal(n, LW_FRAME_OVERHEAD + sizeof(pl));
    return n;
}

static void test_vectors_seal_byte_for_byte(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const struct vector *v = &vectors[i];
        uint8_t plain[64], want[LW_FRAME_MAX_LEN], got[LW_FRAME_MAX_LEN];
        size_t plen = unhex(v->plain_hex, plain, sizeof(plain));
        size_t flen = unhex(v->frame_hex, want, sizeof(want));
        int n = lw_frame_seal(&v->hdr, v->key, plain, plen, got, sizeof(got));

        print_message("  %s\n", v->name);
        assert_int_equal(n, flen);
        assert_memory_equal(got, want, flen);
    }
}

static void test_vectors_open_byte_for_byte(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const struct vector *v = &vectors[i];
        uint8_t plain[64], frame[LW_FRAME_MAX_LEN], got[LW_FRAME_MAX_PAYLOAD];
        size_t plen = unhex(v->plain_hex, plain, sizeof(plain));
        size_t flen = unhex(v->frame_hex, frame, sizeof(frame));
        struct lw_frame_hdr h;
        int n = lw_frame_open(frame, flen, v->key, &h, got, sizeof(got));

        assert_int_equal(n, plen);
        assert_memory_equal(got, plain, plen);
        assert_hdr_equal(&h, &v->hdr);
    }
}

/* V1 is the typical water node frame from PROTOCOL.md: check its TLVs decode as documented. */
static void test_vector_water_reading_contents(void **state)
{
    uint8_t frame[LW_FRAME_MAX_LEN], plain[LW_FRAME_MAX_PAYLOAD];
    size_t flen = unhex(vectors[0].frame_hex, frame, sizeof(frame));
    struct lw_frame_hdr h;
    struct lw_reading r;
    int n;

    (void)state;
    assert_int_equal(flen, 35);
    n = lw_frame_open(frame, flen, key_a, &h, plain, sizeof(plain));
    assert_int_equal(n, 15);
    assert_int_equal(lw_reading_decode(plain, (size_t)n, &r), LW_OK);
    assert_int_equal(r.present, LW_R_WATER | LW_R_TEMP | LW_R_BATTERY | LW_R_FLAGS);
    assert_int_equal(r.water_mm, 1234);
    assert_int_equal(r.temp_c_x10, -45);
    assert_int_equal(r.battery_mv, 3012);
    assert_int_equal(r.flags, 0);
}

/* The relayed form of V1 printed in PROTOCOL.md: only byte 1 changes, and it still verifies. */
static void test_vector_water_relayed_once(void **state)
{
    static const char relayed_hex[] =
        "112c574c020100002a000000a9a15cc49163f041e4f461f110b204ccd8827ec45e6dfc";
    uint8_t frame[LW_FRAME_MAX_LEN], want[LW_FRAME_MAX_LEN], plain[LW_FRAME_MAX_PAYLOAD];
    size_t flen = unhex(vectors[0].frame_hex, frame, sizeof(frame));
    struct lw_frame_hdr h;

    (void)state;
    assert_int_equal(unhex(relayed_hex, want, sizeof(want)), flen);
    assert_int_equal(lw_frame_hop(frame, flen), LW_OK);
    assert_memory_equal(frame, want, flen);
    assert_int_equal(lw_frame_open(want, flen, key_a, &h, plain, sizeof(plain)), 15);
    assert_int_equal(h.hop_count, 1);
}

static void test_round_trip_all_types_and_fields(void **state)
{
    uint8_t pl[LW_FRAME_MAX_PAYLOAD], buf[LW_FRAME_MAX_LEN], out[LW_FRAME_MAX_PAYLOAD];
    struct lw_frame_hdr h, got;

    (void)state;
    for (size_t i = 0; i < sizeof(pl); i++)
        pl[i] = (uint8_t)(i * 7 + 3);
    for (uint8_t type = LW_FT_DATA; type <= LW_FT_CMD; type++) {
        size_t lens[] = {0, 1, 15, 16, 17, LW_FRAME_MAX_PAYLOAD};
        for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
            int n, m;

            h = base_hdr();
            h.type = type;
            h.hop_count = 2;
            h.hop_limit = 7;
            h.ack_req = type == LW_FT_ALARM;
            h.src = type == LW_FT_CMD ? LW_ADDR_GATEWAY : 0x0042;
            h.dst = type == LW_FT_CMD ? 0x0042 : LW_ADDR_GATEWAY;
            h.fcnt = 0xDEADBEEF;
            n = lw_frame_seal(&h, key_b, pl, lens[li], buf, sizeof(buf));
            assert_int_equal(n, LW_FRAME_OVERHEAD + lens[li]);
            m = lw_frame_open(buf, (size_t)n, key_b, &got, out, sizeof(out));
            assert_int_equal(m, lens[li]);
            assert_memory_equal(out, pl, lens[li]);
            assert_hdr_equal(&got, &h);
        }
    }
}

static void test_seal_forces_version(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN];
    struct lw_frame_hdr h = base_hdr();

    (void)state;
    h.version = 9;
    assert_int_equal(lw_frame_seal(&h, key_a, NULL, 0, buf, sizeof(buf)), LW_FRAME_OVERHEAD);
    assert_int_equal(buf[0] >> 4, LW_PROTO_VERSION);
}

static void test_zero_length_payload_heartbeat(void **state)
{
    uint8_t buf[LW_FRAME_OVERHEAD];
    uint8_t canary = 0xA5;
    struct lw_frame_hdr h = base_hdr(), got;

    (void)state;
    assert_int_equal(lw_frame_seal(&h, key_a, NULL, 0, buf, sizeof(buf)), LW_FRAME_OVERHEAD);
    /* No plaintext buffer at all is fine for an empty payload. */
    assert_int_equal(lw_frame_open(buf, sizeof(buf), key_a, &got, NULL, 0), 0);
    assert_int_equal(lw_frame_open(buf, sizeof(buf), key_a, &got, &canary, 1), 0);
    assert_hdr_equal(&got, &h);
    /* The tag still authenticates an empty payload. */
    buf[LW_FRAME_HDR_LEN] ^= 0x01;
    assert_int_equal(lw_frame_open(buf, sizeof(buf), key_a, &got, NULL, 0), LW_ERR_MIC);
    buf[LW_FRAME_HDR_LEN] ^= 0x01;
    buf[8] ^= 0x01; /* fcnt */
    assert_int_equal(lw_frame_open(buf, sizeof(buf), key_a, &got, NULL, 0), LW_ERR_MIC);
}

static void test_peek_rejects_truncated(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN];
    struct lw_frame_hdr h;

    (void)state;
    sample_frame(buf, sizeof(buf));
    for (size_t len = 0; len < LW_FRAME_OVERHEAD; len++)
        assert_int_equal(lw_frame_peek(buf, len, &h), LW_ERR_TRUNCATED);
    assert_int_equal(lw_frame_peek(buf, LW_FRAME_OVERHEAD, &h), LW_OK);
}

static void test_peek_rejects_oversized(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN + 1];
    struct lw_frame_hdr h;

    (void)state;
    memset(buf, 0, sizeof(buf));
    sample_frame(buf, sizeof(buf));
    assert_int_equal(lw_frame_peek(buf, LW_FRAME_MAX_LEN, &h), LW_OK);
    assert_int_equal(lw_frame_peek(buf, LW_FRAME_MAX_LEN + 1, &h), LW_ERR_TOOBIG);
}

static void test_peek_rejects_wrong_version(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN];
    struct lw_frame_hdr h;
    int n;

    (void)state;
    n = sample_frame(buf, sizeof(buf));
    for (unsigned v = 0; v < 16; v++) {
        buf[0] = (uint8_t)(v << 4 | LW_FT_DATA);
        assert_int_equal(lw_frame_peek(buf, (size_t)n, &h), v == 1 ? LW_OK : LW_ERR_VERSION);
    }
    /* Version is checked before type. */
    buf[0] = 0x20;
    assert_int_equal(lw_frame_peek(buf, (size_t)n, &h), LW_ERR_VERSION);
}

static void test_peek_rejects_unknown_type(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN];
    struct lw_frame_hdr h;
    int n;

    (void)state;
    n = sample_frame(buf, sizeof(buf));
    for (unsigned t = 0; t < 16; t++) {
        buf[0] = (uint8_t)(0x10 | t);
        assert_int_equal(lw_frame_peek(buf, (size_t)n, &h), t >= 1 && t <= 6 ? LW_OK : LW_ERR_TYPE);
    }
}

static void test_peek_rejects_reserved_hop_bit(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN];
    struct lw_frame_hdr h;
    int n;

    (void)state;
    n = sample_frame(buf, sizeof(buf));
    buf[1] |= 0x01;
    assert_int_equal(lw_frame_peek(buf, (size_t)n, &h), LW_ERR_INVAL);
    assert_int_equal(lw_frame_open(buf, (size_t)n, key_a, &h, NULL, 0), LW_ERR_INVAL);
}

static void test_peek_rejects_hop_count_above_limit(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN];
    struct lw_frame_hdr h;
    int n;

    (void)state;
    n = sample_frame(buf, sizeof(buf));
    for (unsigned hc = 0; hc <= 7; hc++) {
        for (unsigned hl = 0; hl <= 7; hl++) {
            buf[1] = (uint8_t)(hc << 5 | hl << 2);
            assert_int_equal(lw_frame_peek(buf, (size_t)n, &h), hc <= hl ? LW_OK : LW_ERR_INVAL);
        }
    }
}

static void test_peek_parses_header_fields(void **state)
{
    /* 0x5E = 010 111 1 0: hop_count 2, hop_limit 7, ACK_REQ, reserved clear. */
    static const uint8_t raw[LW_FRAME_OVERHEAD] = {0x12, 0x5E, 0x34, 0x12, 0x78, 0x56,
                                                   0xBC, 0x9A, 0x04, 0x03, 0x02, 0x01};
    struct lw_frame_hdr h;

    (void)state;
    assert_int_equal(lw_frame_peek(raw, sizeof(raw), &h), LW_OK);
    assert_int_equal(h.version, 1);
    assert_int_equal(h.type, LW_FT_ALARM);
    assert_int_equal(h.hop_count, 2);
    assert_int_equal(h.hop_limit, 7);
    assert_true(h.ack_req);
    assert_int_equal(h.net_id, 0x1234);
    assert_int_equal(h.src, 0x5678);
    assert_int_equal(h.dst, 0x9ABC);
    assert_int_equal(h.fcnt, 0x01020304);
}

static void test_peek_null_arguments(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN];
    struct lw_frame_hdr h;
    int n;

    (void)state;
    n = sample_frame(buf, sizeof(buf));
    assert_int_equal(lw_frame_peek(NULL, (size_t)n, &h), LW_ERR_INVAL);
    assert_int_equal(lw_frame_peek(buf, (size_t)n, NULL), LW_ERR_INVAL);
    assert_int_equal(lw_frame_open(NULL, (size_t)n, key_a, &h, NULL, 0), LW_ERR_INVAL);
    assert_int_equal(lw_frame_open(buf, (size_t)n, NULL, &h, buf, 0), LW_ERR_INVAL);
    assert_int_equal(lw_frame_hop(NULL, (size_t)n), LW_ERR_INVAL);
}

static void test_seal_rejects_bad_header_fields(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN], pl[4] = {0};
    struct lw_frame_hdr h;

    (void)state;
    h = base_hdr();
    h.type = 0;
    assert_int_equal(lw_frame_seal(&h, key_a, pl, 4, buf, sizeof(buf)), LW_ERR_INVAL);
    h.type = 7;
    assert_int_equal(lw_frame_seal(&h, key_a, pl, 4, buf, sizeof(buf)), LW_ERR_INVAL);
    h = base_hdr();
    h.hop_limit = 8;
    assert_int_equal(lw_frame_seal(&h, key_a, pl, 4, buf, sizeof(buf)), LW_ERR_INVAL);
    h = base_hdr();
    h.hop_count = 8;
    h.hop_limit = 8;
    assert_int_equal(lw_frame_seal(&h, key_a, pl, 4, buf, sizeof(buf)), LW_ERR_INVAL);
    h = base_hdr();
    h.hop_count = 4;
    h.hop_limit = 3;
    assert_int_equal(lw_frame_seal(&h, key_a, pl, 4, buf, sizeof(buf)), LW_ERR_INVAL);
    h = base_hdr();
    assert_int_equal(lw_frame_seal(NULL, key_a, pl, 4, buf, sizeof(buf)), LW_ERR_INVAL);
    assert_int_equal(lw_frame_seal(&h, NULL, pl, 4, buf, sizeof(buf)), LW_ERR_INVAL);
    assert_int_equal(lw_frame_seal(&h, key_a, NULL, 4, buf, sizeof(buf)), LW_ERR_INVAL);
    assert_int_equal(lw_frame_seal(&h, key_a, pl, 4, NULL, sizeof(buf)), LW_ERR_INVAL);
}

static void test_seal_rejects_oversized_payload_and_small_output(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN + 8], pl[LW_FRAME_MAX_PAYLOAD + 1];
    struct lw_frame_hdr h = base_hdr();

    (void)state;
    memset(pl, 0x55, sizeof(pl));
    assert_int_equal(lw_frame_seal(&h, key_a, pl, LW_FRAME_MAX_PAYLOAD + 1, buf, sizeof(buf)),
                     LW_ERR_TOOBIG);
    assert_int_equal(lw_frame_seal(&h, key_a, pl, LW_FRAME_MAX_PAYLOAD, buf, sizeof(buf)),
                     LW_FRAME_MAX_LEN);
    assert_int_equal(lw_frame_seal(&h, key_a, pl, 10, buf, LW_FRAME_OVERHEAD + 9), LW_ERR_TOOBIG);
    assert_int_equal(lw_frame_seal(&h, key_a, pl, 10, buf, LW_FRAME_OVERHEAD + 10),
                     LW_FRAME_OVERHEAD + 10);
}

/* Flip every single bit of the frame except hop_count: each one must fail authentication
 * (or, for header bits that make it malformed, an earlier peek error), never succeed. */
static void test_any_bit_flip_is_rejected(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN], plain[LW_FRAME_MAX_PAYLOAD];
    struct lw_frame_hdr h;
    int n;

    (void)state;
    n = sample_frame(buf, sizeof(buf));
    for (int byte = 0; byte < n; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            int rc;

            if (byte == 1 && bit >= 5)
                continue; /* hop_count: covered by its own test */
            buf[byte] ^= (uint8_t)(1u << bit);
            memset(plain, 0xEE, sizeof(plain));
            rc = lw_frame_open(buf, (size_t)n, key_a, &h, plain, sizeof(plain));
            buf[byte] ^= (uint8_t)(1u << bit);
            assert_true(rc < 0);
            if (byte >= 2 || (byte == 1 && bit >= 1))
                assert_int_equal(rc, LW_ERR_MIC);
            /* Nothing unauthenticated escapes. */
            for (size_t i = 0; i < sizeof(plain); i++)
                assert_int_equal(plain[i], 0);
        }
    }
}

static void test_bit_flips_in_header_ciphertext_mic(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN], plain[LW_FRAME_MAX_PAYLOAD];
    struct lw_frame_hdr h;
    const int where[] = {2, 5, 9, LW_FRAME_HDR_LEN, LW_FRAME_HDR_LEN + 7};
    int n;

    (void)state;
    n = sample_frame(buf, sizeof(buf));
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        buf[where[i]] ^= 0x80;
        assert_int_equal(lw_frame_open(buf, (size_t)n, key_a, &h, plain, sizeof(plain)),
                         LW_ERR_MIC);
        buf[where[i]] ^= 0x80;
    }
    buf[n - 1] ^= 0x01; /* last MIC byte */
    assert_int_equal(lw_frame_open(buf, (size_t)n, key_a, &h, plain, sizeof(plain)), LW_ERR_MIC);
    buf[n - 1] ^= 0x01;
    buf[n - LW_FRAME_MIC_LEN] ^= 0x01; /* first MIC byte */
    assert_int_equal(lw_frame_open(buf, (size_t)n, key_a, &h, plain, sizeof(plain)), LW_ERR_MIC);
    buf[n - LW_FRAME_MIC_LEN] ^= 0x01;
    buf[1] ^= 0x02; /* ACK_REQ is authenticated */
    assert_int_equal(lw_frame_open(buf, (size_t)n, key_a, &h, plain, sizeof(plain)), LW_ERR_MIC);
    buf[1] ^= 0x02;
    assert_int_equal(lw_frame_open(buf, (size_t)n, key_a, &h, plain, sizeof(plain)), 15);
}

static void test_wrong_key_fails_mic_and_zeroes_plain(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN], plain[LW_FRAME_MAX_PAYLOAD];
    struct lw_frame_hdr h;
    int n;

    (void)state;
    n = sample_frame(buf, sizeof(buf));
    memset(plain, 0xEE, sizeof(plain));
    assert_int_equal(lw_frame_open(buf, (size_t)n, key_b, &h, plain, sizeof(plain)), LW_ERR_MIC);
    for (size_t i = 0; i < sizeof(plain); i++)
        assert_int_equal(plain[i], 0);
    /* The right key still works afterwards (cached crypto context recovers). */
    assert_int_equal(lw_frame_open(buf, (size_t)n, key_a, &h, plain, sizeof(plain)), 15);
}

static void test_open_rejects_small_plain_buffer(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN], plain[15];
    struct lw_frame_hdr h;
    int n;

    (void)state;
    n = sample_frame(buf, sizeof(buf));
    memset(plain, 0xEE, sizeof(plain));
    assert_int_equal(lw_frame_open(buf, (size_t)n, key_a, &h, plain, 14), LW_ERR_TOOBIG);
    for (size_t i = 0; i < 14; i++)
        assert_int_equal(plain[i], 0);
    assert_int_equal(plain[14], 0xEE); /* never written past plaincap */
    assert_int_equal(lw_frame_open(buf, (size_t)n, key_a, &h, plain, 15), 15);
}

static void test_open_rejects_truncated_frame(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN], plain[LW_FRAME_MAX_PAYLOAD];
    struct lw_frame_hdr h;
    int n;

    (void)state;
    n = sample_frame(buf, sizeof(buf));
    /* Dropping the last byte still parses but moves the MIC: authentication fails. */
    assert_int_equal(lw_frame_open(buf, (size_t)n - 1, key_a, &h, plain, sizeof(plain)),
                     LW_ERR_MIC);
    assert_int_equal(lw_frame_open(buf, LW_FRAME_OVERHEAD - 1, key_a, &h, plain, sizeof(plain)),
                     LW_ERR_TRUNCATED);
}

static void test_hop_count_change_keeps_mic(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN], plain[LW_FRAME_MAX_PAYLOAD];
    struct lw_frame_hdr h;
    int n;

    (void)state;
    n = sample_frame(buf, sizeof(buf)); /* hop_limit 3 */
    for (unsigned hop = 1; hop <= 3; hop++) {
        assert_int_equal(lw_frame_hop(buf, (size_t)n), LW_OK);
        assert_int_equal(lw_frame_open(buf, (size_t)n, key_a, &h, plain, sizeof(plain)), 15);
        assert_int_equal(h.hop_count, hop);
        assert_int_equal(h.hop_limit, 3);
    }
    assert_int_equal(lw_frame_hop(buf, (size_t)n), LW_ERR_RANGE);
    assert_int_equal(buf[1] >> 5, 3); /* unchanged on refusal */
    /* Setting hop_count directly (not just via lw_frame_hop) is equally unauthenticated. */
    buf[1] &= 0x1F;
    assert_int_equal(lw_frame_open(buf, (size_t)n, key_a, &h, plain, sizeof(plain)), 15);
    assert_int_equal(h.hop_count, 0);
}

static void test_hop_limit_change_breaks_mic(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN], plain[LW_FRAME_MAX_PAYLOAD];
    struct lw_frame_hdr h;
    int n;

    (void)state;
    n = sample_frame(buf, sizeof(buf)); /* hop_limit 3 */
    buf[1] = (uint8_t)((buf[1] & ~0x1Cu) | (7u << 2));
    assert_int_equal(lw_frame_peek(buf, (size_t)n, &h), LW_OK);
    assert_int_equal(lw_frame_open(buf, (size_t)n, key_a, &h, plain, sizeof(plain)), LW_ERR_MIC);
}

static void test_hop_with_zero_limit_is_refused(void **state)
{
    uint8_t buf[LW_FRAME_MAX_LEN];
    size_t n = unhex(vectors[2].frame_hex, buf, sizeof(buf)); /* hop_limit 0 */

    (void)state;
    assert_int_equal(lw_frame_hop(buf, n), LW_ERR_RANGE);
    assert_int_equal(lw_frame_hop(buf, LW_FRAME_OVERHEAD - 1), LW_ERR_TRUNCATED);
}

static void test_uplink_and_downlink_nonces_differ(void **state)
{
    /* Same key, net, addresses swapped, same counter and payload: the dir byte and src/dst
     * differ in the nonce, so the ciphertexts must differ. */
    uint8_t up[LW_FRAME_MAX_LEN], down[LW_FRAME_MAX_LEN], pl[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct lw_frame_hdr h = base_hdr();

    (void)state;
    h.type = LW_FT_CMD;
    assert_int_equal(lw_frame_seal(&h, key_a, pl, 8, up, sizeof(up)), 28);
    h.src = LW_ADDR_GATEWAY;
    h.dst = 0x0042;
    assert_int_equal(lw_frame_seal(&h, key_a, pl, 8, down, sizeof(down)), 28);
    assert_memory_not_equal(up + LW_FRAME_HDR_LEN, down + LW_FRAME_HDR_LEN, 8);
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(lw_frame_type_name(LW_FT_DATA), "DATA");
    assert_string_equal(lw_frame_type_name(LW_FT_ALARM), "ALARM");
    assert_string_equal(lw_frame_type_name(LW_FT_JOIN_REQ), "JOIN_REQ");
    assert_string_equal(lw_frame_type_name(LW_FT_JOIN_ACC), "JOIN_ACC");
    assert_string_equal(lw_frame_type_name(LW_FT_ACK), "ACK");
    assert_string_equal(lw_frame_type_name(LW_FT_CMD), "CMD");
    assert_string_equal(lw_frame_type_name(0), "?");
    assert_string_equal(lw_frame_type_name(LW_FT_CHECKIN), "CHECKIN"); /* compact, v1.1 */
    assert_string_equal(lw_frame_type_name(LW_FT_CHECKIN_ACK), "CHECKIN_ACK");
    assert_string_equal(lw_frame_type_name(LW_FT_BEACON), "BEACON");
    assert_string_equal(lw_frame_type_name(10), "?");
    assert_string_equal(lw_frame_type_name(255), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_seal_byte_for_byte),
        cmocka_unit_test(test_vectors_open_byte_for_byte),
        cmocka_unit_test(test_vector_water_reading_contents),
        cmocka_unit_test(test_vector_water_relayed_once),
        cmocka_unit_test(test_round_trip_all_types_and_fields),
        cmocka_unit_test(test_seal_forces_version),
        cmocka_unit_test(test_zero_length_payload_heartbeat),
        cmocka_unit_test(test_peek_rejects_truncated),
        cmocka_unit_test(test_peek_rejects_oversized),
        cmocka_unit_test(test_peek_rejects_wrong_version),
        cmocka_unit_test(test_peek_rejects_unknown_type),
        cmocka_unit_test(test_peek_rejects_reserved_hop_bit),
        cmocka_unit_test(test_peek_rejects_hop_count_above_limit),
        cmocka_unit_test(test_peek_parses_header_fields),
        cmocka_unit_test(test_peek_null_arguments),
        cmocka_unit_test(test_seal_rejects_bad_header_fields),
        cmocka_unit_test(test_seal_rejects_oversized_payload_and_small_output),
        cmocka_unit_test(test_any_bit_flip_is_rejected),
        cmocka_unit_test(test_bit_flips_in_header_ciphertext_mic),
        cmocka_unit_test(test_wrong_key_fails_mic_and_zeroes_plain),
        cmocka_unit_test(test_open_rejects_small_plain_buffer),
        cmocka_unit_test(test_open_rejects_truncated_frame),
        cmocka_unit_test(test_hop_count_change_keeps_mic),
        cmocka_unit_test(test_hop_limit_change_breaks_mic),
        cmocka_unit_test(test_hop_with_zero_limit_is_refused),
        cmocka_unit_test(test_uplink_and_downlink_nonces_differ),
        cmocka_unit_test(test_type_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
