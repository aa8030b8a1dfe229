/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_airtime: the datasheet table at BW125 CR4/5, LDRO rules and validation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lw_airtime.h"

/* Time on air rounded to 0.1 ms, as tenths of a millisecond. */
static uint32_t toa_tenth_ms(const struct lw_lora_params *p, size_t len)
{
    return (lw_airtime_us(p, len) + 50) / 100;
}

static void test_defaults(void **state)
{
    struct lw_lora_params p;

    (void)state;
    lw_lora_params_default(&p);
    assert_int_equal(p.sf, 9);
    assert_int_equal(p.bw_hz, 125000);
    assert_int_equal(p.cr, 1);
    assert_int_equal(p.preamble, 8);
    assert_true(p.crc);
    assert_false(p.implicit_hdr);
    assert_int_equal(p.ldro, -1);
}

/* The table in PROTOCOL.md: BW125, CR4/5, preamble 8, CRC on, explicit header, LDRO auto. */
static void test_table_20_and_50_bytes_sf7_to_sf12(void **state)
{
    static const uint32_t want20[] = {566, 1029, 1853, 3707, 7414, 13189};
    static const uint32_t want50[] = {975, 1746, 3287, 6164, 13148, 23020};
    struct lw_lora_params p;

    (void)state;
    lw_lora_params_default(&p);
    for (uint8_t sf = 7; sf <= 12; sf++) {
        p.sf = sf;
        assert_int_equal(toa_tenth_ms(&p, 20), want20[sf - 7]);
        assert_int_equal(toa_tenth_ms(&p, 50), want50[sf - 7]);
    }
}

static void test_exact_microseconds(void **state)
{
    struct lw_lora_params p;

    (void)state;
    lw_lora_params_default(&p);
    p.sf = 7;
    assert_int_equal(lw_airtime_us(&p, 20), 56576); /* 55.25 symbols of 1.024 ms */
    p.sf = 12;
    assert_int_equal(lw_airtime_us(&p, 50), 2301952);
    /* Typical 35-byte water frame at the default SF9. */
    p.sf = 9;
    assert_int_equal(lw_airtime_us(&p, 35), 246784);
}

static void test_china_one_second_cap(void **state)
{
    struct lw_lora_params p;

    (void)state;
    lw_lora_params_default(&p);
    p.sf = 11;
    assert_true(lw_airtime_us(&p, 20) <= 1000000);
    p.sf = 12;
    assert_true(lw_airtime_us(&p, 20) > 1000000);
    p.sf = 10;
    assert_true(lw_airtime_us(&p, 50) <= 1000000);
    p.sf = 11;
    assert_true(lw_airtime_us(&p, 50) > 1000000);
}

static void test_ldro_auto_and_forced(void **state)
{
    struct lw_lora_params p;
    uint32_t autov, on, off;

    (void)state;
    lw_lora_params_default(&p);
    /* SF10/BW125: 8.192 ms symbols, LDRO auto is off. */
    p.sf = 10;
    autov = lw_airtime_us(&p, 50);
    p.ldro = 0;
    off = lw_airtime_us(&p, 50);
    p.ldro = 1;
    on = lw_airtime_us(&p, 50);
    assert_int_equal(autov, off);
    assert_true(on > off);
    /* SF11/BW125: 16.384 ms symbols, auto turns it on. */
    p.sf = 11;
    p.ldro = -1;
    autov = lw_airtime_us(&p, 50);
    p.ldro = 1;
    on = lw_airtime_us(&p, 50);
    p.ldro = 0;
    off = lw_airtime_us(&p, 50);
    assert_int_equal(autov, on);
    assert_true(on > off);
    /* SF12/BW500: 8.192 ms symbols, so off again. */
    p.sf = 12;
    p.bw_hz = 500000;
    p.ldro = -1;
    autov = lw_airtime_us(&p, 20);
    p.ldro = 0;
    assert_int_equal(autov, lw_airtime_us(&p, 20));
}

static void test_zero_payload_and_header_options(void **state)
{
    struct lw_lora_params p;
    uint32_t explicit_crc, implicit_crc;

    (void)state;
    lw_lora_params_default(&p);
    p.sf = 7;
    /* 0 bytes: 8 - 28 + 28 + 16 = 16 bits -> 1 block of 5 symbols: 12.25 + 13 symbols. */
    assert_int_equal(lw_airtime_us(&p, 0), 25856);
    explicit_crc = lw_airtime_us(&p, 20);
    p.implicit_hdr = true;
    implicit_crc = lw_airtime_us(&p, 20);
    assert_true(implicit_crc < explicit_crc);
    p.crc = false;
    assert_true(lw_airtime_us(&p, 20) < implicit_crc);
    /* Payload bits negative -> max(..., 0): just preamble + 8 symbols. */
    p.sf = 12;
    p.ldro = 0;
    assert_int_equal(lw_airtime_us(&p, 0), (12 + 8) * 32768 + 32768 / 4);
}

static void test_other_bandwidths_and_coding_rates(void **state)
{
    struct lw_lora_params p;

    (void)state;
    lw_lora_params_default(&p);
    p.sf = 7;
    p.bw_hz = 250000;
    assert_int_equal(lw_airtime_us(&p, 20), 56576 / 2);
    p.bw_hz = 500000;
    assert_int_equal(lw_airtime_us(&p, 20), 56576 / 4);
    p.bw_hz = 125000;
    p.cr = 4; /* 4/8: 7 blocks of 8 symbols instead of 5 */
    assert_int_equal(lw_airtime_us(&p, 20), (uint32_t)((12.25 + 8 + 56) * 1024 + 0.5));
    p.cr = 1;
    p.bw_hz = 7800; /* slowest standard bandwidth (7.8 kHz) */
    assert_true(lw_airtime_us(&p, 20) > 56576 * 16);
}

static void test_invalid_parameters_return_zero(void **state)
{
    struct lw_lora_params p;

    (void)state;
    lw_lora_params_default(&p);
    assert_int_equal(lw_airtime_us(NULL, 20), 0);
    assert_int_equal(lw_airtime_us(&p, 256), 0);
    assert_true(lw_airtime_us(&p, 255) > 0);
    p.sf = 5;
    assert_int_equal(lw_airtime_us(&p, 20), 0);
    p.sf = 13;
    assert_int_equal(lw_airtime_us(&p, 20), 0);
    p.sf = 6;
    assert_true(lw_airtime_us(&p, 20) > 0);
    lw_lora_params_default(&p);
    p.bw_hz = 7799;
    assert_int_equal(lw_airtime_us(&p, 20), 0);
    p.bw_hz = 500001;
    assert_int_equal(lw_airtime_us(&p, 20), 0);
    lw_lora_params_default(&p);
    p.cr = 0;
    assert_int_equal(lw_airtime_us(&p, 20), 0);
    p.cr = 5;
    assert_int_equal(lw_airtime_us(&p, 20), 0);
    lw_lora_params_default(&p);
    p.ldro = 2;
    assert_int_equal(lw_airtime_us(&p, 20), 0);
    p.ldro = -2;
    assert_int_equal(lw_airtime_us(&p, 20), 0);
}

static void test_huge_preamble_saturates(void **state)
{
    struct lw_lora_params p;

    (void)state;
    lw_lora_params_default(&p);
    p.sf = 12;
    p.bw_hz = 7800;
    p.preamble = 65535;
    assert_int_equal(lw_airtime_us(&p, 255), UINT32_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_table_20_and_50_bytes_sf7_to_sf12),
        cmocka_unit_test(test_exact_microseconds),
        cmocka_unit_test(test_china_one_second_cap),
        cmocka_unit_test(test_ldro_auto_and_forced),
        cmocka_unit_test(test_zero_payload_and_header_options),
        cmocka_unit_test(test_other_bandwidths_and_coding_rates),
        cmocka_unit_test(test_invalid_parameters_return_zero),
        cmocka_unit_test(test_huge_preamble_saturates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
