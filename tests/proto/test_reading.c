/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_reading: TLV encoding order, strict decoding and every rejection rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lw_error.h"
#include "lw_reading.h"

static const struct lw_reading all_fields = {
    .present = LW_R_WATER | LW_R_SMOKE | LW_R_GAS | LW_R_CO | LW_R_TEMP | LW_R_BATTERY | LW_R_FLAGS,
    .water_mm = 0x1234,
    .smoke_alarm = 1,
    .smoke_obscuration = 0xABCD,
    .gas_lel_x10 = 1000,
    .co_ppm = 0xFFFF,
    .temp_c_x10 = -32768,
    .battery_mv = 3300,
    .flags = LW_FLAG_MASK,
};

static void assert_reading_equal(const struct lw_reading *a, const struct lw_reading *b)
{
    assert_int_equal(a->present, b->present);
    assert_int_equal(a->water_mm, b->water_mm);
    assert_int_equal(a->smoke_alarm, b->smoke_alarm);
    assert_int_equal(a->smoke_obscuration, b->smoke_obscuration);
    assert_int_equal(a->gas_lel_x10, b->gas_lel_x10);
    assert_int_equal(a->co_ppm, b->co_ppm);
    assert_int_equal(a->temp_c_x10, b->temp_c_x10);
    assert_int_equal(a->battery_mv, b->battery_mv);
    assert_int_equal(a->flags, b->flags);
}

static void assert_zeroed(const struct lw_reading *r)
{
    static const struct lw_reading zero;

    assert_memory_equal(r, &zero, sizeof(zero));
}

/* Decode must fail with want and leave r zeroed. */
static void expect_decode_error(const uint8_t *in, size_t len, int want)
{
    struct lw_reading r;

    memset(&r, 0xAA, sizeof(r));
    assert_int_equal(lw_reading_decode(in, len, &r), want);
    assert_zeroed(&r);
}

static void test_encode_all_fields_exact_bytes(void **state)
{
    static const uint8_t want[] = {0x01, 2,    0x34, 0x12, 0x02, 3,    0x01, 0xCD, 0xAB, 0x03,
                                   2,    0xE8, 0x03, 0x04, 2,    0xFF, 0xFF, 0x05, 2,    0x00,
                                   0x80, 0x06, 2,    0xE4, 0x0C, 0x07, 1,    0x0F};
    uint8_t out[LW_READING_MAX_LEN];

    (void)state;
    assert_int_equal(lw_reading_encode(&all_fields, out, sizeof(out)), sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    assert_int_equal(sizeof(want), 28);
}

static void test_round_trip_all_fields(void **state)
{
    uint8_t out[LW_READING_MAX_LEN];
    struct lw_reading r;
    int n;

    (void)state;
    n = lw_reading_encode(&all_fields, out, sizeof(out));
    assert_true(n > 0);
    assert_int_equal(lw_reading_decode(out, (size_t)n, &r), LW_OK);
    assert_reading_equal(&r, &all_fields);
}

static void test_round_trip_every_subset(void **state)
{
    (void)state;
    for (uint32_t present = 0; present <= 0x7F; present++) {
        struct lw_reading in = all_fields, got;
        uint8_t out[LW_READING_MAX_LEN];
        int n;

        in.present = present;
        n = lw_reading_encode(&in, out, sizeof(out));
        assert_true(n >= 0);
        assert_int_equal(lw_reading_decode(out, (size_t)n, &got), LW_OK);
        assert_int_equal(got.present, present);
        /* Ascending type order. */
        for (int pos = 0, last = 0; pos < n; pos += 2 + out[pos + 1]) {
            assert_true(out[pos] > last);
            last = out[pos];
        }
    }
}

static void test_typical_water_reading_is_15_bytes(void **state)
{
    struct lw_reading r = {.present = LW_R_WATER | LW_R_TEMP | LW_R_BATTERY | LW_R_FLAGS,
                           .water_mm = 1234,
                           .temp_c_x10 = -45,
                           .battery_mv = 3012};
    static const uint8_t want[] = {0x01, 0x02, 0xd2, 0x04, 0x05, 0x02, 0xd3, 0xff,
                                   0x06, 0x02, 0xc4, 0x0b, 0x07, 0x01, 0x00};
    uint8_t out[LW_READING_MAX_LEN];

    (void)state;
    assert_int_equal(lw_reading_encode(&r, out, sizeof(out)), 15);
    assert_memory_equal(out, want, sizeof(want));
}

static void test_empty_input_is_heartbeat(void **state)
{
    struct lw_reading r, none = {0};
    uint8_t out[1];

    (void)state;
    memset(&r, 0xAA, sizeof(r));
    assert_int_equal(lw_reading_decode(NULL, 0, &r), LW_OK);
    assert_zeroed(&r);
    assert_int_equal(lw_reading_decode(out, 0, &r), LW_OK);
    assert_int_equal(lw_reading_encode(&none, out, 0), 0);
    assert_int_equal(lw_reading_encode(&none, NULL, 0), 0);
}

static void test_encode_rejects_small_buffer(void **state)
{
    uint8_t out[LW_READING_MAX_LEN];

    (void)state;
    assert_int_equal(lw_reading_encode(&all_fields, out, 27), LW_ERR_TOOBIG);
    assert_int_equal(lw_reading_encode(&all_fields, out, 28), 28);
}

static void test_encode_rejects_out_of_range_values(void **state)
{
    uint8_t out[LW_READING_MAX_LEN];
    struct lw_reading r;

    (void)state;
    r = all_fields;
    r.smoke_alarm = 2;
    assert_int_equal(lw_reading_encode(&r, out, sizeof(out)), LW_ERR_RANGE);
    r = all_fields;
    r.gas_lel_x10 = 1001;
    assert_int_equal(lw_reading_encode(&r, out, sizeof(out)), LW_ERR_RANGE);
    r = all_fields;
    r.flags = 0x10;
    assert_int_equal(lw_reading_encode(&r, out, sizeof(out)), LW_ERR_RANGE);
    /* Values of absent fields are not looked at. */
    r = all_fields;
    r.present = LW_R_WATER;
    r.smoke_alarm = 9;
    r.gas_lel_x10 = 5000;
    r.flags = 0xF0;
    assert_int_equal(lw_reading_encode(&r, out, sizeof(out)), 4);
}

static void test_encode_rejects_unknown_present_bits_and_null(void **state)
{
    uint8_t out[LW_READING_MAX_LEN];
    struct lw_reading r = all_fields;

    (void)state;
    r.present |= 1u << 7;
    assert_int_equal(lw_reading_encode(&r, out, sizeof(out)), LW_ERR_INVAL);
    assert_int_equal(lw_reading_encode(NULL, out, sizeof(out)), LW_ERR_INVAL);
    assert_int_equal(lw_reading_encode(&all_fields, NULL, 5), LW_ERR_INVAL);
    assert_int_equal(lw_reading_decode(out, 4, NULL), LW_ERR_INVAL);
    expect_decode_error(NULL, 4, LW_ERR_INVAL);
}

static void test_decode_boundary_values(void **state)
{
    static const uint8_t in[] = {0x03, 2, 0xE8, 0x03, 0x05, 2, 0xFF, 0x7F, 0x02, 3, 0x00, 0, 0};
    struct lw_reading r;

    (void)state;
    assert_int_equal(lw_reading_decode(in, sizeof(in), &r), LW_OK);
    assert_int_equal(r.gas_lel_x10, 1000);
    assert_int_equal(r.temp_c_x10, 32767);
    assert_int_equal(r.smoke_alarm, 0);
    /* Fields may arrive in any order; only the encoder sorts. */
    assert_int_equal(r.present, LW_R_GAS | LW_R_TEMP | LW_R_SMOKE);
}

static void test_decode_rejects_reserved_types(void **state)
{
    uint8_t in[4] = {0, 2, 0, 0};

    (void)state;
    expect_decode_error(in, sizeof(in), LW_ERR_TYPE);
    for (unsigned t = 0x08; t <= 0x7F; t++) {
        in[0] = (uint8_t)t;
        expect_decode_error(in, sizeof(in), LW_ERR_TYPE);
    }
    /* Even after a valid field. */
    {
        static const uint8_t two[] = {0x01, 2, 0, 0, 0x42, 0};
        expect_decode_error(two, sizeof(two), LW_ERR_TYPE);
    }
}

static void test_decode_skips_optional_types(void **state)
{
    static const uint8_t in[] = {0x80, 0,    0x01, 2,    0x10, 0x00, 0xFF, 3,    1,    2,
                                 3,    0xC5, 1,    0x07, 0x06, 2,    0x10, 0x0E, 0x80, 0};
    struct lw_reading r;

    (void)state;
    assert_int_equal(lw_reading_decode(in, sizeof(in), &r), LW_OK);
    assert_int_equal(r.present, LW_R_WATER | LW_R_BATTERY);
    assert_int_equal(r.water_mm, 16);
    assert_int_equal(r.battery_mv, 3600);
}

static void test_decode_rejects_optional_type_running_past_end(void **state)
{
    static const uint8_t in[] = {0x01, 2, 0, 0, 0x90, 5, 1, 2, 3, 4};

    (void)state;
    expect_decode_error(in, sizeof(in), LW_ERR_TRUNCATED);
}

static void test_decode_rejects_wrong_length_for_known_type(void **state)
{
    static const uint8_t lens[8] = {0, 2, 3, 2, 2, 2, 2, 1};
    uint8_t in[2 + 8];

    (void)state;
    memset(in, 0, sizeof(in));
    for (unsigned t = 1; t <= 7; t++) {
        for (unsigned l = 0; l <= 8; l++) {
            if (l == lens[t])
                continue;
            in[0] = (uint8_t)t;
            in[1] = (uint8_t)l;
            expect_decode_error(in, 2 + l, LW_ERR_INVAL);
        }
    }
}

static void test_decode_rejects_truncated_tlv(void **state)
{
    static const uint8_t water[] = {0x01, 2, 0x34, 0x12};

    (void)state;
    expect_decode_error(water, 1, LW_ERR_TRUNCATED); /* lone type byte */
    expect_decode_error(water, 2, LW_ERR_TRUNCATED); /* header only */
    expect_decode_error(water, 3, LW_ERR_TRUNCATED); /* half a value */
    {
        static const uint8_t lone_after_field[] = {0x01, 2, 0x34, 0x12, 0x06};
        expect_decode_error(lone_after_field, sizeof(lone_after_field), LW_ERR_TRUNCATED);
    }
    {
        static const uint8_t lone_optional[] = {0xA0};
        expect_decode_error(lone_optional, sizeof(lone_optional), LW_ERR_TRUNCATED);
    }
}

static void test_decode_rejects_duplicate_type(void **state)
{
    static const uint8_t in[] = {0x06, 2, 0x10, 0x0E, 0x01, 2, 0, 0, 0x06, 2, 0x11, 0x0E};

    (void)state;
    expect_decode_error(in, sizeof(in), LW_ERR_DUP);
}

static void test_decode_rejects_smoke_alarm_not_boolean(void **state)
{
    uint8_t in[] = {0x02, 3, 2, 0, 0};

    (void)state;
    expect_decode_error(in, sizeof(in), LW_ERR_RANGE);
    in[2] = 0xFF;
    expect_decode_error(in, sizeof(in), LW_ERR_RANGE);
    in[2] = 1;
    {
        struct lw_reading r;
        assert_int_equal(lw_reading_decode(in, sizeof(in), &r), LW_OK);
        assert_int_equal(r.smoke_alarm, 1);
    }
}

static void test_decode_rejects_gas_above_100_percent_lel(void **state)
{
    static const uint8_t in[] = {0x03, 2, 0xE9, 0x03};

    (void)state;
    expect_decode_error(in, sizeof(in), LW_ERR_RANGE);
}

static void test_decode_rejects_reserved_flag_bits(void **state)
{
    uint8_t in[] = {0x07, 1, 0x10};

    (void)state;
    for (unsigned b = 4; b < 8; b++) {
        in[2] = (uint8_t)(1u << b);
        expect_decode_error(in, sizeof(in), LW_ERR_RANGE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_all_fields_exact_bytes),
        cmocka_unit_test(test_round_trip_all_fields),
        cmocka_unit_test(test_round_trip_every_subset),
        cmocka_unit_test(test_typical_water_reading_is_15_bytes),
        cmocka_unit_test(test_empty_input_is_heartbeat),
        cmocka_unit_test(test_encode_rejects_small_buffer),
        cmocka_unit_test(test_encode_rejects_out_of_range_values),
        cmocka_unit_test(test_encode_rejects_unknown_present_bits_and_null),
        cmocka_unit_test(test_decode_boundary_values),
        cmocka_unit_test(test_decode_rejects_reserved_types),
        cmocka_unit_test(test_decode_skips_optional_types),
        cmocka_unit_test(test_decode_rejects_optional_type_running_past_end),
        cmocka_unit_test(test_decode_rejects_wrong_length_for_known_type),
        cmocka_unit_test(test_decode_rejects_truncated_tlv),
        cmocka_unit_test(test_decode_rejects_duplicate_type),
        cmocka_unit_test(test_decode_rejects_smoke_alarm_not_boolean),
        cmocka_unit_test(test_decode_rejects_gas_above_100_percent_lel),
        cmocka_unit_test(test_decode_rejects_reserved_flag_bits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
