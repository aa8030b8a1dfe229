/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the configuration command TLVs: round trip, the byte layout of PROTOCOL.md
 * section 13, and every rejection of the strict decoder. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lw_cmd.h"
#include "lw_error.h"

static void round_trip_and_layout(void **state)
{
    (void)state;
    struct lw_cmd c = {.present = LW_CMD_HAS_INTERVAL | LW_CMD_HAS_EVENT,
                       .interval_s = 300,
                       .event_on = true,
                       .event_interval_s = 15,
                       .thresholds = 1u << 0,
                       .threshold = {150}};
    uint8_t buf[LW_CMD_MAX_LEN], want[] = {0x01, 0x02, 0x2c, 0x01,        /* interval 300 s */
                                           0x02, 0x03, 0x01, 0x0f, 0x00,  /* event on, 15 s */
                                           0x03, 0x03, 0x01, 0x96, 0x00}; /* water >= 150 mm */
    int n = lw_cmd_encode(&c, buf, sizeof(buf));
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));
    struct lw_cmd d;
    assert_int_equal(lw_cmd_decode(buf, (size_t)n, &d), LW_OK);
    assert_int_equal(d.present, c.present);
    assert_int_equal(d.interval_s, 300);
    assert_true(d.event_on);
    assert_int_equal(d.event_interval_s, 15);
    assert_int_equal(d.thresholds, 1);
    assert_int_equal(d.threshold[0], 150);
    /* Event off: the interval field is 0. */
    struct lw_cmd off = {.present = LW_CMD_HAS_EVENT};
    n = lw_cmd_encode(&off, buf, sizeof(buf));
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "\x02\x03\x00\x00\x00", 5);
    assert_int_equal(lw_cmd_decode(buf, 5, &d), LW_OK);
    assert_false(d.event_on);
    /* Optional types are skipped, in any order. */
    uint8_t opt[] = {0x90, 0x01, 0xAA, 0x01, 0x02, 0x3c, 0x00};
    assert_int_equal(lw_cmd_decode(opt, sizeof(opt), &d), LW_OK);
    assert_int_equal(d.interval_s, 60);
}

static void rejects(void **state)
{
    (void)state;
    struct lw_cmd d;
    static const struct {
        const char *bytes;
        size_t len;
        int rc;
    } bad[] = {
        {"", 0, LW_ERR_INVAL},                               /* nothing to do */
        {"\x01", 1, LW_ERR_TRUNCATED},                       /* lone type */
        {"\x01\x02\x3c", 3, LW_ERR_TRUNCATED},               /* value cut */
        {"\x04\x00", 2, LW_ERR_TYPE},                        /* reserved */
        {"\x00\x00", 2, LW_ERR_TYPE},                        /* reserved */
        {"\x01\x01\x3c", 3, LW_ERR_INVAL},                   /* wrong length */
        {"\x01\x02\x05\x00", 4, LW_ERR_RANGE},               /* 5 s: too short */
        {"\x01\x02\x3c\x00\x01\x02\x3c\x00", 8, LW_ERR_DUP}, /* twice */
        {"\x02\x03\x02\x0f\x00", 5, LW_ERR_RANGE},           /* on = 2 */
        {"\x02\x03\x01\x05\x00", 5, LW_ERR_RANGE},           /* event interval 5 s */
        {"\x02\x03\x01\x11\x0e", 5, LW_ERR_RANGE},           /* 3601 s */
        {"\x03\x03\x07\x01\x00", 5, LW_ERR_RANGE},           /* flags: no threshold */
        {"\x03\x03\x01\x01\x00\x03\x03\x01\x02\x00", 10, LW_ERR_DUP},
        {"\x90\x01", 2, LW_ERR_TRUNCATED}, /* optional, value cut */
        {"\x90\x00", 2, LW_ERR_INVAL},     /* only optional: nothing to do */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&d, 0xAA, sizeof(d));
        int rc = lw_cmd_decode((const uint8_t *)bad[i].bytes, bad[i].len, &d);
        if (rc != bad[i].rc)
            fail_msg("case %zu: %d, expected %d", i, rc, bad[i].rc);
        assert_int_equal(d.present, 0); /* zeroed */
    }
    struct lw_cmd c = {.present = LW_CMD_HAS_INTERVAL, .interval_s = 9};
    uint8_t buf[LW_CMD_MAX_LEN];
    assert_int_equal(lw_cmd_encode(&c, buf, sizeof(buf)), LW_ERR_RANGE);
    c.interval_s = 60;
    assert_int_equal(lw_cmd_encode(&c, buf, 3), LW_ERR_TOOBIG);
    struct lw_cmd none = {0};
    assert_int_equal(lw_cmd_encode(&none, buf, sizeof(buf)), LW_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_and_layout),
        cmocka_unit_test(rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
