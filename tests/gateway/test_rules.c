/* Unit tests of lw_rules: table-driven threshold, persistence and hysteresis with injected time,
 * rule scope and metric units. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lw_rules.h"

struct step {
    double value;
    int64_t t_ms;
    enum lw_rule_event ev; /* expected event */
    bool active;           /* expected state after the step */
};

static struct lw_rule_conf rule(double threshold, double clear, uint64_t persistence_ms)
{
    struct lw_rule_conf r;
    memset(&r, 0, sizeof(r));
    strcpy(r.name, "r");
    r.metric = LW_METRIC_WATER;
    r.kinds = 1u << LW_KIND_WATER | 1u << LW_KIND_MULTI;
    r.threshold = threshold;
    r.clear = clear;
    r.persistence_ms = persistence_ms;
    r.level = LW_LEVEL_RED;
    return r;
}

static void run_steps(const struct lw_rule_conf *r, const struct step *steps, size_t n)
{
    struct lw_rule_state st;
    memset(&st, 0, sizeof(st));
    for (size_t i = 0; i < n; i++) {
        enum lw_rule_event ev = lw_rule_eval(r, &st, steps[i].value, steps[i].t_ms);
        if (ev != steps[i].ev || st.active != steps[i].active)
            fail_msg("step %zu (value %g at %lld ms): event %d active %d, expected %d / %d", i,
                     steps[i].value, (long long)steps[i].t_ms, ev, st.active, steps[i].ev,
                     steps[i].active);
    }
}

#define RUN(r, steps) run_steps(&(r), (steps), sizeof(steps) / sizeof((steps)[0]))

static void test_raise_exactly_when_held_for_persistence(void **state)
{
    const struct lw_rule_conf r = rule(50, 20, 60000);
    static const struct step s[] = {
        {49.9, 0, LW_RULE_NONE, false},   /* below threshold */
        {50, 1000, LW_RULE_NONE, false},  /* exceedance starts */
        {80, 30000, LW_RULE_NONE, false}, /* held 29 s */
        {55, 60999, LW_RULE_NONE, false}, /* held 59.999 s: not yet */
        {55, 61000, LW_RULE_RAISE, true}, /* held exactly 60 s */
        {70, 62000, LW_RULE_NONE, true},  /* already active: no second raise */
        {50, 3600000, LW_RULE_NONE, true},
    };
    (void)state;
    RUN(r, s);
}

static void test_hysteresis_between_clear_and_threshold(void **state)
{
    const struct lw_rule_conf r = rule(50, 20, 0);
    static const struct step s[] = {
        {60, 0, LW_RULE_RAISE, true},
        {49, 1000, LW_RULE_NONE, true}, /* below threshold but above clear: stays active */
        {30, 2000, LW_RULE_NONE, true},
        {20.1, 3000, LW_RULE_NONE, true},
        {20, 4000, LW_RULE_CLEAR, false}, /* clears at <= clear */
        {10, 5000, LW_RULE_NONE, false},  /* no second clear */
        {30, 6000, LW_RULE_NONE, false},  /* between: inactive stays inactive */
        {50, 7000, LW_RULE_RAISE, true},  /* raises again */
        {5, 8000, LW_RULE_CLEAR, false},  /* far below clear */
    };
    (void)state;
    RUN(r, s);
}

static void test_interruption_restarts_persistence(void **state)
{
    const struct lw_rule_conf r = rule(50, 20, 60000);
    static const struct step s[] = {
        {50, 0, LW_RULE_NONE, false},      {60, 50000, LW_RULE_NONE, false},
        {49, 55000, LW_RULE_NONE, false}, /* dips under the threshold: exceedance over */
        {50, 60000, LW_RULE_NONE, false}, /* would be 60 s since t=0, but restarted */
        {50, 100000, LW_RULE_NONE, false}, {50, 119999, LW_RULE_NONE, false},
        {50, 120000, LW_RULE_RAISE, true}, /* 60 s since t=60000 */
    };
    (void)state;
    RUN(r, s);
}

static void test_dip_while_active_does_not_need_persistence_again(void **state)
{
    const struct lw_rule_conf r = rule(50, 20, 60000);
    static const struct step s[] = {
        {50, 0, LW_RULE_NONE, false},
        {50, 60000, LW_RULE_RAISE, true},
        {40, 61000, LW_RULE_NONE, true}, /* dip between clear and threshold */
        {60, 62000, LW_RULE_NONE, true}, /* back over: still the same alert */
        {10, 63000, LW_RULE_CLEAR, false},
        {60, 64000, LW_RULE_NONE, false}, /* new exceedance needs the full 60 s */
        {60, 123999, LW_RULE_NONE, false},
        {60, 124000, LW_RULE_RAISE, true},
    };
    (void)state;
    RUN(r, s);
}

static void test_zero_persistence_raises_at_once(void **state)
{
    const struct lw_rule_conf r = rule(1, 0, 0);
    static const struct step s[] = {
        {0, 0, LW_RULE_NONE, false}, {1, 0, LW_RULE_RAISE, true}, /* same timestamp: held 0 >= 0 */
        {1, 0, LW_RULE_NONE, true},  {0, 1, LW_RULE_CLEAR, false}, {0.99, 2, LW_RULE_NONE, false},
        {1, 3, LW_RULE_RAISE, true},
    };
    (void)state;
    RUN(r, s);
}

static void test_out_of_order_earlier_timestamp(void **state)
{
    const struct lw_rule_conf r = rule(50, 20, 60000);
    static const struct step s[] = {
        {50, 10000, LW_RULE_NONE, false}, /* exceedance starts at 10 s */
        {55, 5000, LW_RULE_NONE, false},  /* a relayed older reading: held counts as 0 */
        {55, 69999, LW_RULE_NONE, false}, /* start stays 10 s, not 5 s */
        {55, 70000, LW_RULE_RAISE, true},
        {60, 1000, LW_RULE_NONE, true}, /* an old reading never raises twice */
    };
    (void)state;
    RUN(r, s);
}

static void test_first_reading_older_than_start_is_harmless(void **state)
{
    const struct lw_rule_conf r = rule(50, 20, 0);
    static const struct step s[] = {
        {60, 100000, LW_RULE_RAISE, true},
        {10, 50000, LW_RULE_CLEAR, false}, /* a late but genuine reading still clears */
    };
    (void)state;
    RUN(r, s);
}

static void test_below_rule_through_negated_values(void **state)
{
    /* battery below 3300 mV raises, back at 3400 clears: stored as -3300 / -3400. */
    struct lw_rule_conf r = rule(-3300, -3400, 0);
    struct lw_rule_state st;
    struct lw_reading rd;
    double v;
    static const struct {
        uint16_t mv;
        enum lw_rule_event ev;
    } s[] = {
        {3600, LW_RULE_NONE}, {3301, LW_RULE_NONE}, {3300, LW_RULE_RAISE}, {3200, LW_RULE_NONE},
        {3350, LW_RULE_NONE}, {3399, LW_RULE_NONE}, {3400, LW_RULE_CLEAR}, {3500, LW_RULE_NONE},
    };
    (void)state;
    r.metric = LW_METRIC_BATTERY;
    r.below = true;
    memset(&st, 0, sizeof(st));
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        memset(&rd, 0, sizeof(rd));
        rd.present = LW_R_BATTERY;
        rd.battery_mv = s[i].mv;
        assert_true(lw_rule_value(&r, &rd, &v));
        assert_true(v == -(double)s[i].mv);
        if (lw_rule_eval(&r, &st, v, (int64_t)i * 1000) != s[i].ev)
            fail_msg("step %zu: %u mV", i, s[i].mv);
    }
    /* The natural value stays positive for messages. */
    assert_true(lw_metric_value(LW_METRIC_BATTERY, &rd, &v));
    assert_true(v == 3500);
}

static void test_rule_value_absent_metric(void **state)
{
    struct lw_rule_conf r = rule(50, 20, 0);
    struct lw_reading rd;
    double v = 123;
    (void)state;
    memset(&rd, 0, sizeof(rd));
    rd.present = LW_R_BATTERY;
    rd.battery_mv = 3000;
    assert_false(lw_rule_value(&r, &rd, &v));
    rd.present |= LW_R_WATER;
    rd.water_mm = 77;
    assert_true(lw_rule_value(&r, &rd, &v));
    assert_true(v == 77);
}

/* ---- lw_rule_applies ----------------------------------------------------------------------- */

static void test_rule_applies_kinds_and_tags(void **state)
{
    struct lw_rule_conf r = rule(50, 20, 0);
    struct lw_node_conf n;
    (void)state;
    memset(&n, 0, sizeof(n));
    strcpy(n.tags, "low-lying,basement");

    n.kind = LW_KIND_WATER;
    assert_true(lw_rule_applies(&r, &n));
    n.kind = LW_KIND_MULTI;
    assert_true(lw_rule_applies(&r, &n));
    n.kind = LW_KIND_SMOKE;
    assert_false(lw_rule_applies(&r, &n));
    n.kind = LW_KIND_GAS;
    assert_false(lw_rule_applies(&r, &n));

    n.kind = LW_KIND_WATER;
    strcpy(r.tags, "basement");
    assert_true(lw_rule_applies(&r, &n));
    strcpy(r.tags, "basement,low-lying");
    assert_true(lw_rule_applies(&r, &n));
    strcpy(r.tags, "basement,old-building");
    assert_false(lw_rule_applies(&r, &n));
    n.tags[0] = '\0';
    assert_false(lw_rule_applies(&r, &n));
    r.tags[0] = '\0';
    assert_true(lw_rule_applies(&r, &n)); /* no tags: every node of a matching kind */

    r.kinds = 0;
    assert_false(lw_rule_applies(&r, &n));
    r.kinds = (1u << LW_KIND_COUNT) - 1;
    for (int k = 0; k < LW_KIND_COUNT; k++) {
        n.kind = (enum lw_node_kind)k;
        assert_true(lw_rule_applies(&r, &n));
    }
}

/* ---- lw_metric_value ----------------------------------------------------------------------- */

static void test_metric_value_units(void **state)
{
    struct lw_reading rd;
    double v;
    (void)state;
    memset(&rd, 0, sizeof(rd));
    rd.present = LW_R_WATER | LW_R_SMOKE | LW_R_GAS | LW_R_CO | LW_R_TEMP | LW_R_BATTERY;
    rd.water_mm = 153;
    rd.smoke_alarm = 1;
    rd.smoke_obscuration = 250; /* 0.01 %/m */
    rd.gas_lel_x10 = 205;       /* 0.1 %LEL */
    rd.co_ppm = 35;
    rd.temp_c_x10 = -55; /* 0.1 degC */
    rd.battery_mv = 3310;
    static const struct {
        enum lw_metric m;
        double want;
    } cases[] = {
        {LW_METRIC_WATER, 153},    {LW_METRIC_SMOKE, 1}, {LW_METRIC_OBSCURATION, 2.5},
        {LW_METRIC_GAS, 20.5},     {LW_METRIC_CO, 35},   {LW_METRIC_TEMP, -5.5},
        {LW_METRIC_BATTERY, 3310},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        v = -999;
        assert_true(lw_metric_value(cases[i].m, &rd, &v));
        if (v != cases[i].want)
            fail_msg("metric %d: %g, expected %g", cases[i].m, v, cases[i].want);
    }
    rd.temp_c_x10 = 571;
    assert_true(lw_metric_value(LW_METRIC_TEMP, &rd, &v));
    assert_true(v == 57.1);
    assert_false(lw_metric_value(LW_METRIC_COUNT, &rd, &v));
}

static void test_metric_value_absent_fields(void **state)
{
    struct lw_reading rd;
    double v;
    (void)state;
    memset(&rd, 0, sizeof(rd));
    for (int m = 0; m < LW_METRIC_COUNT; m++)
        assert_false(lw_metric_value((enum lw_metric)m, &rd, &v));
    rd.present = LW_R_FLAGS;
    rd.flags = LW_FLAG_FAULT;
    for (int m = 0; m < LW_METRIC_COUNT; m++)
        assert_false(lw_metric_value((enum lw_metric)m, &rd, &v));
}

static void test_gas_suppressed_while_warming_up(void **state)
{
    struct lw_reading rd;
    double v;
    (void)state;
    memset(&rd, 0, sizeof(rd));
    rd.present = LW_R_GAS | LW_R_FLAGS;
    rd.gas_lel_x10 = 800;
    rd.flags = LW_FLAG_WARMUP;
    assert_false(lw_metric_value(LW_METRIC_GAS, &rd, &v));
    rd.flags = LW_FLAG_WARMUP | LW_FLAG_LOW_BATT;
    assert_false(lw_metric_value(LW_METRIC_GAS, &rd, &v));
    rd.flags = LW_FLAG_LOW_BATT; /* other flags do not suppress */
    assert_true(lw_metric_value(LW_METRIC_GAS, &rd, &v));
    assert_true(v == 80.0);
    rd.flags = 0;
    assert_true(lw_metric_value(LW_METRIC_GAS, &rd, &v));
    rd.present = LW_R_GAS; /* no FLAGS TLV: the flags byte is not meaningful */
    rd.flags = LW_FLAG_WARMUP;
    assert_true(lw_metric_value(LW_METRIC_GAS, &rd, &v));

    /* Other metrics of the same frame are not suppressed by warm-up. */
    rd.present = LW_R_GAS | LW_R_CO | LW_R_FLAGS;
    rd.co_ppm = 40;
    assert_true(lw_metric_value(LW_METRIC_CO, &rd, &v));
    assert_true(v == 40);

    /* And a rule on gas never sees the warming-up value. */
    struct lw_rule_conf r = rule(20, 10, 0);
    r.metric = LW_METRIC_GAS;
    assert_false(lw_rule_value(&r, &rd, &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raise_exactly_when_held_for_persistence),
        cmocka_unit_test(test_hysteresis_between_clear_and_threshold),
        cmocka_unit_test(test_interruption_restarts_persistence),
        cmocka_unit_test(test_dip_while_active_does_not_need_persistence_again),
        cmocka_unit_test(test_zero_persistence_raises_at_once),
        cmocka_unit_test(test_out_of_order_earlier_timestamp),
        cmocka_unit_test(test_first_reading_older_than_start_is_harmless),
        cmocka_unit_test(test_below_rule_through_negated_values),
        cmocka_unit_test(test_rule_value_absent_metric),
        cmocka_unit_test(test_rule_applies_kinds_and_tags),
        cmocka_unit_test(test_metric_value_units),
        cmocka_unit_test(test_metric_value_absent_fields),
        cmocka_unit_test(test_gas_suppressed_while_warming_up),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
