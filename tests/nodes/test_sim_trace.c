/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of sim_trace: parsing, interpolation, steps, continuation and error messages. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lw_error.h"
#include "sim_trace.h"

static const struct sim_trace_limits water = {0, 65535, false, SIM_TRACE_LINEAR};
static const struct sim_trace_limits smoke = {0, 1, true, SIM_TRACE_STEP};

#define MIN(m) ((uint64_t)(m)*60000)

static void test_constant(void **state)
{
    struct sim_trace t;
    char err[256];
    (void)state;

    sim_trace_init(&t);
    assert_int_equal(sim_trace_append(&t, "180", &water, err, sizeof(err)), LW_OK);
    assert_true(t.set);
    assert_true(t.constant);
    assert_true(sim_trace_eval(&t, 0) == 180.0);
    assert_true(sim_trace_eval(&t, MIN(500)) == 180.0);
    /* A constant cannot be continued. */
    assert_int_equal(sim_trace_append(&t, "5@1m", &water, err, sizeof(err)), LW_ERR_INVAL);
    assert_non_null(strstr(err, "constant"));
    sim_trace_free(&t);
}

static void test_linear(void **state)
{
    struct sim_trace t;
    char err[256];
    (void)state;

    sim_trace_init(&t);
    assert_int_equal(
        sim_trace_append(&t, "0@0m 0@15m 60@25m  220@40m\t300@55m", &water, err, sizeof(err)),
        LW_OK);
    assert_int_equal(t.n, 5);
    assert_false(t.constant);
    assert_true(sim_trace_eval(&t, 0) == 0.0);
    assert_true(sim_trace_eval(&t, MIN(15)) == 0.0);
    assert_true(sim_trace_eval(&t, MIN(20)) == 30.0);
    assert_true(sim_trace_eval(&t, MIN(25)) == 60.0);
    assert_true(sim_trace_eval(&t, MIN(30)) > 113.33 && sim_trace_eval(&t, MIN(30)) < 113.34);
    assert_true(sim_trace_eval(&t, MIN(55)) == 300.0);
    assert_true(sim_trace_eval(&t, MIN(90)) == 300.0); /* after the last point: held */
    sim_trace_free(&t);
}

static void test_before_first_point(void **state)
{
    struct sim_trace t;
    char err[256];
    (void)state;

    sim_trace_init(&t);
    assert_int_equal(sim_trace_append(&t, "10@5m 20@10m", &water, err, sizeof(err)), LW_OK);
    assert_true(sim_trace_eval(&t, 0) == 10.0);
    assert_true(sim_trace_eval(&t, MIN(7) + 30000) == 15.0);
    sim_trace_free(&t);
}

static void test_step(void **state)
{
    struct sim_trace t;
    char err[256];
    (void)state;

    sim_trace_init(&t);
    assert_int_equal(sim_trace_append(&t, "0@0m 1@52m 0@80m", &smoke, err, sizeof(err)), LW_OK);
    assert_true(sim_trace_eval(&t, MIN(51)) == 0.0);
    assert_true(sim_trace_eval(&t, MIN(52) - 1) == 0.0);
    assert_true(sim_trace_eval(&t, MIN(52)) == 1.0);
    assert_true(sim_trace_eval(&t, MIN(79)) == 1.0);
    assert_true(sim_trace_eval(&t, MIN(80)) == 0.0);
    sim_trace_free(&t);
}

static void test_continuation_appends(void **state)
{
    struct sim_trace t;
    char err[256];
    (void)state;

    sim_trace_init(&t);
    assert_int_equal(sim_trace_append(&t, "0@0m 100@10m", &water, err, sizeof(err)), LW_OK);
    assert_int_equal(sim_trace_append(&t, "200@20m 0@1.5h", &water, err, sizeof(err)), LW_OK);
    assert_int_equal(t.n, 4);
    assert_true(sim_trace_eval(&t, MIN(15)) == 150.0);
    assert_true(sim_trace_eval(&t, MIN(55)) == 100.0);
    /* A continuation must keep ascending; a failed line leaves the trace unchanged. */
    assert_int_equal(sim_trace_append(&t, "5@2h 7@1h", &water, err, sizeof(err)), LW_ERR_INVAL);
    assert_non_null(strstr(err, "ascend"));
    assert_int_equal(t.n, 4);
    /* A bare number cannot follow points. */
    assert_int_equal(sim_trace_append(&t, "5", &water, err, sizeof(err)), LW_ERR_INVAL);
    sim_trace_free(&t);
}

static void test_errors(void **state)
{
    static const struct {
        const char *text;
        const struct sim_trace_limits *lim;
        int rc;
        const char *needle;
    } cases[] = {
        {"", &water, LW_ERR_INVAL, "empty"},
        {"   ", &water, LW_ERR_INVAL, "empty"},
        {"abc", &water, LW_ERR_INVAL, "not a number"},
        {"10@5x", &water, LW_ERR_INVAL, "bad time '5x'"},
        {"10@", &water, LW_ERR_INVAL, "bad time"},
        {"@5m", &water, LW_ERR_INVAL, "not a number"},
        {"10@-5m", &water, LW_ERR_INVAL, "bad time"},
        {"-1@0m", &water, LW_ERR_RANGE, "out of range 0..65535"},
        {"70000", &water, LW_ERR_RANGE, "out of range"},
        {"0@0m 5@5m 6@5m", &water, LW_ERR_INVAL, "previous point is at 5m"},
        {"0@10m 5@5m", &water, LW_ERR_INVAL, "ascend"},
        {"0.5@1m", &smoke, LW_ERR_RANGE, "whole number"},
        {"2@1m", &smoke, LW_ERR_RANGE, "out of range 0..1"},
        {"1 2", &water, LW_ERR_INVAL, "expected value@time"},
        {"1@0m 2", &water, LW_ERR_INVAL, "expected value@time"},
        {"1@40d", &water, LW_ERR_RANGE, "30 days"},
        {"nan@1m", &water, LW_ERR_INVAL, "not a number"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sim_trace t;
        char err[256] = "";
        sim_trace_init(&t);
        int rc = sim_trace_append(&t, cases[i].text, cases[i].lim, err, sizeof(err));
        if (rc != cases[i].rc || !strstr(err, cases[i].needle))
            fail_msg("'%s': rc %d, message '%s'", cases[i].text, rc, err);
        assert_false(t.set);
        assert_int_equal(t.n, 0);
        sim_trace_free(&t);
    }
}

static void test_unset_and_format(void **state)
{
    struct sim_trace t;
    char buf[32];
    (void)state;

    sim_trace_init(&t);
    assert_true(sim_trace_eval(&t, 1000) == 0.0);
    sim_format_duration(0, buf, sizeof(buf));
    assert_string_equal(buf, "0s");
    sim_format_duration(250, buf, sizeof(buf));
    assert_string_equal(buf, "250ms");
    sim_format_duration(90000, buf, sizeof(buf));
    assert_string_equal(buf, "1m30s");
    sim_format_duration(MIN(25), buf, sizeof(buf));
    assert_string_equal(buf, "25m");
    sim_format_duration(MIN(90), buf, sizeof(buf));
    assert_string_equal(buf, "1h30m");
    sim_format_duration(MIN(120), buf, sizeof(buf));
    assert_string_equal(buf, "2h");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_before_first_point),
        cmocka_unit_test(test_step),
        cmocka_unit_test(test_continuation_appends),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_unset_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
