/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_parse: strict integers, numbers, booleans, durations, hex, host:port and times.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lw_error.h"
#include "lw_parse.h"

/* ---- lw_parse_u64 / lw_parse_u32 ------------------------------------------------------- */

static void test_u64_valid_decimal_and_hex(void **state)
{
    static const struct {
        const char *s;
        uint64_t want;
    } ok[] = {
        {"0", 0},
        {"42", 42},
        {"007", 7},
        {"0x4C57", 0x4C57},
        {"0X1f", 0x1F},
        {"0xffffffffffffffff", UINT64_MAX},
        {"18446744073709551615", UINT64_MAX},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 12345;
        assert_int_equal(lw_parse_u64(ok[i].s, 0, UINT64_MAX, &v), LW_OK);
        assert_true(v == ok[i].want);
    }
}

static void test_u64_rejects_junk_sign_blank_and_empty(void **state)
{
    static const char *const bad[] = {
        "", " 1", "1 ", "+1", "-1", "-0", "1a", "12abc", "0x", "0xg", "x10", "1.0", "1e3", "\t7",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 777;
        assert_int_equal(lw_parse_u64(bad[i], 0, UINT64_MAX, &v), LW_ERR_INVAL);
        assert_true(v == 777); /* output untouched on error */
    }
    assert_int_equal(lw_parse_u64(NULL, 0, 10, &(uint64_t){0}), LW_ERR_INVAL);
}

static void test_u64_hex_prefix_only_once(void **state)
{
    uint64_t v = 777;

    (void)state;
    /* Only hex digits may follow the prefix: a second "0x" is junk. */
    assert_int_equal(lw_parse_u64("0x0x10", 0, UINT64_MAX, &v), LW_ERR_INVAL);
    assert_true(v == 777);
}

static void test_u64_overflow_and_bounds(void **state)
{
    uint64_t v = 0;

    (void)state;
    assert_int_equal(lw_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_u64("0x10000000000000000", 0, UINT64_MAX, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_u64("9", 10, 20, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_u64("21", 10, 20, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_u64("10", 10, 20, &v), LW_OK);
    assert_true(v == 10);
    assert_int_equal(lw_parse_u64("20", 10, 20, &v), LW_OK);
    assert_true(v == 20);
    assert_int_equal(lw_parse_u64("0x14", 10, 20, &v), LW_OK);
    assert_true(v == 20);
}

static void test_u32_bounds_and_overflow(void **state)
{
    uint32_t v = 0;

    (void)state;
    assert_int_equal(lw_parse_u32("4294967295", 0, UINT32_MAX, &v), LW_OK);
    assert_true(v == UINT32_MAX);
    assert_int_equal(lw_parse_u32("4294967296", 0, UINT32_MAX, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_u32("0x100000000", 0, UINT32_MAX, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_u32("0", 1, 65535, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_u32("65536", 1, 65535, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_u32("-1", 0, UINT32_MAX, &v), LW_ERR_INVAL);
    assert_int_equal(lw_parse_u32("1883", 1, 65535, &v), LW_OK);
    assert_int_equal(v, 1883);
}

/* ---- lw_parse_i64 ------------------------------------------------------------------------ */

static void test_i64_valid_and_limits(void **state)
{
    int64_t v = 0;

    (void)state;
    assert_int_equal(lw_parse_i64("-5", -10, 10, &v), LW_OK);
    assert_true(v == -5);
    assert_int_equal(lw_parse_i64("0", -10, 10, &v), LW_OK);
    assert_true(v == 0);
    assert_int_equal(lw_parse_i64("-0", -10, 10, &v), LW_OK);
    assert_true(v == 0);
    assert_int_equal(lw_parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), LW_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(lw_parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), LW_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(lw_parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_i64("-11", -10, 10, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_i64("11", -10, 10, &v), LW_ERR_RANGE);
}

static void test_i64_rejects_junk(void **state)
{
    static const char *const bad[] = {"",   "-",   "--1",  "+1",  " 1",
                                      "1 ", "1.0", "0x10", "1e2", "- 1"};
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t v = 99;
        assert_int_equal(lw_parse_i64(bad[i], INT64_MIN, INT64_MAX, &v), LW_ERR_INVAL);
        assert_true(v == 99);
    }
    assert_int_equal(lw_parse_i64(NULL, 0, 1, &(int64_t){0}), LW_ERR_INVAL);
}

/* ---- lw_parse_double --------------------------------------------------------------------- */

static void test_double_valid_forms(void **state)
{
    double v = 0;

    (void)state;
    assert_int_equal(lw_parse_double("1.5", -1e9, 1e9, &v), LW_OK);
    assert_true(v == 1.5);
    assert_int_equal(lw_parse_double("-2.25", -1e9, 1e9, &v), LW_OK);
    assert_true(v == -2.25);
    assert_int_equal(lw_parse_double("+3", -1e9, 1e9, &v), LW_OK);
    assert_true(v == 3.0);
    assert_int_equal(lw_parse_double(".5", -1e9, 1e9, &v), LW_OK);
    assert_true(v == 0.5);
    assert_int_equal(lw_parse_double("1e3", -1e9, 1e9, &v), LW_OK);
    assert_true(v == 1000.0);
    assert_int_equal(lw_parse_double("76", 0, 65535, &v), LW_OK);
    assert_true(v == 76.0);
}

static void test_double_rejects_inf_nan_hex_and_junk(void **state)
{
    static const char *const bad[] = {"",     "inf",  "-inf",  "nan", "NaN", "infinity",
                                      "0x10", "1.5x", " 1",    "1 ",  "-",   ".",
                                      "e5",   "1,5",  "1.5.2", "+-1"};
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        double v = 42;
        assert_int_equal(lw_parse_double(bad[i], -1e300, 1e300, &v), LW_ERR_INVAL);
        assert_true(v == 42);
    }
    assert_int_equal(lw_parse_double(NULL, 0, 1, &(double){0}), LW_ERR_INVAL);
}

static void test_double_range(void **state)
{
    double v = 0;

    (void)state;
    assert_int_equal(lw_parse_double("1e999", -1e300, 1e300, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_double("-1e999", -1e300, 1e300, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_double("100.01", 0, 100, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_double("-0.01", 0, 100, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_double("100", 0, 100, &v), LW_OK);
    assert_true(v == 100.0);
}

/* ---- lw_parse_bool ----------------------------------------------------------------------- */

static void test_bool_words_case_insensitive(void **state)
{
    static const char *const yes[] = {"yes", "YES", "true", "True", "on", "ON", "1"};
    static const char *const no[] = {"no", "No", "false", "FALSE", "off", "Off", "0"};
    static const char *const bad[] = {"", "y", "n", "2", " yes", "yes ", "tru", "01", "enable"};
    (void)state;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        bool b = false;
        assert_int_equal(lw_parse_bool(yes[i], &b), LW_OK);
        assert_true(b);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        bool b = true;
        assert_int_equal(lw_parse_bool(no[i], &b), LW_OK);
        assert_false(b);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bool b = true;
        assert_int_equal(lw_parse_bool(bad[i], &b), LW_ERR_INVAL);
        assert_true(b);
    }
    assert_int_equal(lw_parse_bool(NULL, &(bool){false}), LW_ERR_INVAL);
}

/* ---- lw_parse_duration_ms ---------------------------------------------------------------- */

static void test_duration_units_and_fractions(void **state)
{
    static const struct {
        const char *s;
        uint64_t ms;
    } ok[] = {
        {"90", 90000},  {"0", 0},          {"250ms", 250},    {"30s", 30000},
        {"5m", 300000}, {"1.5h", 5400000}, {"2d", 172800000}, {"0.5s", 500},
        {".5s", 500},   {"1h", 3600000},   {"1.5", 1500},     {"0.25m", 15000},
        {"200ms", 200}, {"1d", 86400000},  {"0ms", 0},        {"60s", 60000},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 1;
        assert_int_equal(lw_parse_duration_ms(ok[i].s, UINT32_MAX, &v), LW_OK);
        assert_true(v == ok[i].ms);
    }
}

static void test_duration_rejects_bad_units_and_signs(void **state)
{
    static const char *const bad[] = {"",    "s",   "ms",     "5x",   "5 s", " 5s", "5s ",
                                      "5S",  "5M",  "5sec",   "-1s",  "+1s", "-1",  "inf",
                                      "nan", "5hh", "1.2.3s", "0x10", "5w",  "1y"};
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 4242;
        assert_int_equal(lw_parse_duration_ms(bad[i], UINT32_MAX, &v), LW_ERR_INVAL);
        assert_true(v == 4242);
    }
    assert_int_equal(lw_parse_duration_ms(NULL, 1, &(uint64_t){0}), LW_ERR_INVAL);
}

static void test_duration_over_max(void **state)
{
    uint64_t v = 0;

    (void)state;
    assert_int_equal(lw_parse_duration_ms("1h", 3600000, &v), LW_OK);
    assert_true(v == 3600000);
    assert_int_equal(lw_parse_duration_ms("1h", 3599999, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_duration_ms("3600001ms", 3600000, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_duration_ms("2d", 86400000, &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_duration_ms("61", 60000, &v), LW_ERR_RANGE);
}

/* ---- lw_parse_hex ------------------------------------------------------------------------ */

static void test_hex_plain_and_separated(void **state)
{
    static const uint8_t want[8] = {0x70, 0xB3, 0xD5, 0x7E, 0xD0, 0x00, 0x00, 0x01};
    static const char *const ok[] = {
        "70B3D57ED0000001",        "70b3d57ed0000001",    "70:B3:D5:7E:D0:00:00:01",
        "70-B3-D5-7E-D0-00-00-01", "70B3:D57E-D000:0001",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint8_t out[8] = {0};
        assert_int_equal(lw_parse_hex(ok[i], out, sizeof(out)), LW_OK);
        assert_memory_equal(out, want, sizeof(want));
    }
}

static void test_hex_wrong_lengths_and_characters(void **state)
{
    static const char *const bad[] = {
        "",                        /* empty */
        "70B3",                    /* too short */
        "70B3D57ED000000",         /* odd number of digits */
        "70B3D57ED000000102",      /* one byte too many */
        ":70B3D57ED0000001",       /* leading separator */
        "70B3D57ED0000001:",       /* trailing separator */
        "70::B3D57ED00000",        /* doubled separator */
        "7:0B3D57ED0000001",       /* separator inside a byte */
        "70B3D57ED000000G",        /* not hex */
        "70 B3 D5 7E D0 00 00 01", /* blanks are not separators */
        "70.B3.D5.7E.D0.00.00.01", /* dots neither */
        "0x70B3D57ED00000",        /* no 0x prefix */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t out[8];
        assert_int_equal(lw_parse_hex(bad[i], out, sizeof(out)), LW_ERR_INVAL);
    }
    uint8_t k[16];
    assert_int_equal(lw_parse_hex("6A1F3C9E58B20D47A3E19C5F0B7D2846", k, 16), LW_OK);
    assert_int_equal(k[0], 0x6A);
    assert_int_equal(k[15], 0x46);
    assert_int_equal(lw_parse_hex("6A1F3C9E58B20D47A3E19C5F0B7D28", k, 16), LW_ERR_INVAL);
    assert_int_equal(lw_parse_hex(NULL, k, 16), LW_ERR_INVAL);
}

/* ---- lw_parse_hostport ------------------------------------------------------------------- */

static void test_hostport_valid(void **state)
{
    char host[64];
    uint16_t port = 0;

    (void)state;
    assert_int_equal(lw_parse_hostport("127.0.0.1:17000", host, sizeof(host), &port), LW_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 17000);
    assert_int_equal(lw_parse_hostport("broker.local:1", host, sizeof(host), &port), LW_OK);
    assert_string_equal(host, "broker.local");
    assert_int_equal(port, 1);
    assert_int_equal(lw_parse_hostport("h:65535", host, sizeof(host), &port), LW_OK);
    assert_int_equal(port, 65535);
    assert_int_equal(lw_parse_hostport("[::1]:1883", host, sizeof(host), &port), LW_OK);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 1883);
    assert_int_equal(lw_parse_hostport("[fe80::1%eth0]:80", host, sizeof(host), &port), LW_OK);
    assert_string_equal(host, "fe80::1%eth0");
    assert_int_equal(port, 80);
}

static void test_hostport_bad_forms(void **state)
{
    static const struct {
        const char *s;
        int rc;
    } bad[] = {
        {"", LW_ERR_INVAL},         {":80", LW_ERR_INVAL},       {"host", LW_ERR_INVAL},
        {"host:", LW_ERR_INVAL},    {"host:0", LW_ERR_RANGE},    {"host:65536", LW_ERR_RANGE},
        {"::1:80", LW_ERR_INVAL},   {"[::1]", LW_ERR_INVAL},     {"[::1]80", LW_ERR_INVAL},
        {"[::1:80", LW_ERR_INVAL},  {"[]:80", LW_ERR_INVAL},     {"host:80x", LW_ERR_INVAL},
        {"host: 80", LW_ERR_INVAL}, {"host:-1", LW_ERR_INVAL},   {"a:b:80", LW_ERR_INVAL},
        {"[::1]:", LW_ERR_INVAL},   {"[::1]x:80", LW_ERR_INVAL}, {"host:99999999999", LW_ERR_RANGE},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char host[64] = "untouched";
        uint16_t port = 7;
        assert_int_equal(lw_parse_hostport(bad[i].s, host, sizeof(host), &port), bad[i].rc);
        assert_string_equal(host, "untouched");
        assert_int_equal(port, 7);
    }
    assert_int_equal(lw_parse_hostport(NULL, (char[8]){0}, 8, &(uint16_t){0}), LW_ERR_INVAL);
}

static void test_hostport_host_capacity(void **state)
{
    char host[7];
    uint16_t port = 0;

    (void)state;
    assert_int_equal(lw_parse_hostport("abcdef:1", host, 7, &port), LW_OK); /* 6 + NUL fits */
    assert_string_equal(host, "abcdef");
    assert_int_equal(lw_parse_hostport("abcdefg:1", host, 7, &port), LW_ERR_INVAL);
    assert_int_equal(lw_parse_hostport("[abcdefg]:1", host, 7, &port), LW_ERR_INVAL);
}

/* ---- lw_parse_time ----------------------------------------------------------------------- */

static void test_time_zones_exact_ms(void **state)
{
    static const struct {
        const char *s;
        int64_t ms;
    } ok[] = {
        {"2026-07-15T02:00:00+08:00", INT64_C(1784052000000)},
        {"2026-07-14T18:00:00Z", INT64_C(1784052000000)},
        {"2026-07-14T18:00:00+00:00", INT64_C(1784052000000)},
        {"2026-07-14T18:00:00-00:00", INT64_C(1784052000000)},
        {"2026-07-15T02:00:00-05:30", INT64_C(1784100600000)},
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T08:00:00+08:00", 0},
        {"1970-01-01T00:00:01Z", 1000},
        {"2000-02-29T12:00:00Z", INT64_C(951825600000)},  /* 400-year leap day */
        {"2024-02-29T23:59:59Z", INT64_C(1709251199000)}, /* ordinary leap day */
        {"2026-12-31T23:59:59+14:00", INT64_C(1798711199000)},
        {"9999-12-31T23:59:59Z", INT64_C(253402300799000)},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t v = -1;
        assert_int_equal(lw_parse_time(ok[i].s, &v), LW_OK);
        assert_true(v == ok[i].ms);
    }
}

static void test_time_unix_seconds(void **state)
{
    int64_t v = -1;

    (void)state;
    assert_int_equal(lw_parse_time("@0", &v), LW_OK);
    assert_true(v == 0);
    assert_int_equal(lw_parse_time("@1784052000", &v), LW_OK);
    assert_true(v == INT64_C(1784052000000));
    assert_int_equal(lw_parse_time("@253402300799", &v), LW_OK);
    assert_true(v == INT64_C(253402300799000));
    assert_int_equal(lw_parse_time("@253402300800", &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_time("@-1", &v), LW_ERR_RANGE);
    assert_int_equal(lw_parse_time("@", &v), LW_ERR_INVAL);
    assert_int_equal(lw_parse_time("@12x", &v), LW_ERR_INVAL);
    assert_int_equal(lw_parse_time("@ 12", &v), LW_ERR_INVAL);
    assert_int_equal(lw_parse_time("@1.5", &v), LW_ERR_INVAL);
}

static void test_time_invalid_dates_and_fields(void **state)
{
    static const char *const range[] = {
        "2026-02-29T00:00:00Z", /* not a leap year */
        "2100-02-29T00:00:00Z", /* century, not a leap year */
        "2026-02-30T00:00:00Z",      "2026-04-31T00:00:00Z",      "2026-06-31T00:00:00Z",
        "2026-13-01T00:00:00Z",      "2026-00-10T00:00:00Z",      "2026-07-00T00:00:00Z",
        "2026-07-32T00:00:00Z",      "2026-07-15T24:00:00Z",      "2026-07-15T23:60:00Z",
        "2026-07-15T23:59:60Z", /* no leap seconds */
        "1969-12-31T23:59:59Z", /* before the epoch */
        "2026-07-15T02:00:00+15:00", "2026-07-15T02:00:00+08:60", "2026-07-15T02:00:00-99:00",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
        int64_t v = 5;
        assert_int_equal(lw_parse_time(range[i], &v), LW_ERR_RANGE);
        assert_true(v == 5);
    }
}

static void test_time_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "2026-07-15",
        "2026-07-15T02:00Z",          /* missing seconds */
        "2026-07-15T02:00:00",        /* missing zone */
        "2026-07-15 02:00:00Z",       /* space instead of T */
        "2026-07-15t02:00:00Z",       /* lower-case t */
        "2026-07-15T02:00:00z",       /* lower-case z */
        "2026-07-15T02:00:00+08",     /* offset without minutes */
        "2026-07-15T02:00:00+0800",   /* offset without colon */
        "2026-07-15T02:00:00+8:00",   /* one-digit offset hour */
        "2026-07-15T02:00:00 +08:00", /* blank before zone */
        "2026-07-15T02:00:00Zjunk",   /* trailing junk */
        "2026-07-15T02:00:00+08:00x", /* trailing junk */
        "2026-07-15T02:00:00.5Z",     /* fractions not supported */
        "2026-7-15T02:00:00Z",        /* one-digit month */
        "26-07-15T02:00:00Z",         /* two-digit year */
        "2026/07/15T02:00:00Z",
        "2026-07-15T02:00:00+aa:bb",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t v = 5;
        assert_int_equal(lw_parse_time(bad[i], &v), LW_ERR_INVAL);
        assert_true(v == 5);
    }
    assert_int_equal(lw_parse_time(NULL, &(int64_t){0}), LW_ERR_INVAL);
}

static void test_time_rejects_signed_or_blank_padded_fields(void **state)
{
    /* Every field is digits only: no blanks, signs or negative times. */
    static const char *const bad[] = {
        "2026-07-15T-1:00:00Z", "2026-07-15T02:-5:00Z", "2026-07-15T02:00:-1Z",
        "2026-+7-15T02:00:00Z", "2026- 7-15T02:00:00Z", "2026-07-+5T02:00:00Z",
    };
    int accepted = 0;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t v = 5;
        if (lw_parse_time(bad[i], &v) == LW_OK) {
            print_error("accepted: %s as %lld ms\n", bad[i], (long long)v);
            accepted++;
        }
    }
    assert_int_equal(accepted, 0);
}

/* ---- lw_format_hex ----------------------------------------------------------------------- */

static void test_format_hex_upper_case(void **state)
{
    static const uint8_t in[] = {0x70, 0xB3, 0x0A, 0x00, 0xFF};
    char out[2 * sizeof(in) + 1];

    (void)state;
    memset(out, 'X', sizeof(out));
    lw_format_hex(in, sizeof(in), out);
    assert_string_equal(out, "70B30A00FF");
    lw_format_hex(in, 0, out);
    assert_string_equal(out, "");
}

static void test_format_hex_round_trips_through_parse(void **state)
{
    uint8_t in[16], back[16];
    char text[33];

    (void)state;
    for (int i = 0; i < 16; i++)
        in[i] = (uint8_t)(i * 17 + 3);
    lw_format_hex(in, 16, text);
    assert_int_equal(lw_parse_hex(text, back, 16), LW_OK);
    assert_memory_equal(in, back, 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u64_valid_decimal_and_hex),
        cmocka_unit_test(test_u64_rejects_junk_sign_blank_and_empty),
        cmocka_unit_test(test_u64_hex_prefix_only_once),
        cmocka_unit_test(test_u64_overflow_and_bounds),
        cmocka_unit_test(test_u32_bounds_and_overflow),
        cmocka_unit_test(test_i64_valid_and_limits),
        cmocka_unit_test(test_i64_rejects_junk),
        cmocka_unit_test(test_double_valid_forms),
        cmocka_unit_test(test_double_rejects_inf_nan_hex_and_junk),
        cmocka_unit_test(test_double_range),
        cmocka_unit_test(test_bool_words_case_insensitive),
        cmocka_unit_test(test_duration_units_and_fractions),
        cmocka_unit_test(test_duration_rejects_bad_units_and_signs),
        cmocka_unit_test(test_duration_over_max),
        cmocka_unit_test(test_hex_plain_and_separated),
        cmocka_unit_test(test_hex_wrong_lengths_and_characters),
        cmocka_unit_test(test_hostport_valid),
        cmocka_unit_test(test_hostport_bad_forms),
        cmocka_unit_test(test_hostport_host_capacity),
        cmocka_unit_test(test_time_zones_exact_ms),
        cmocka_unit_test(test_time_unix_seconds),
        cmocka_unit_test(test_time_invalid_dates_and_fields),
        cmocka_unit_test(test_time_malformed),
        cmocka_unit_test(test_time_rejects_signed_or_blank_padded_fields),
        cmocka_unit_test(test_format_hex_upper_case),
        cmocka_unit_test(test_format_hex_round_trips_through_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
