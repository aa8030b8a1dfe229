/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_rules: table-driven threshold, persistence and hysteresis with injected time,
 * rule scope and metric units; statistics (mean, rise, time-weighted CO against EN 50291, days
 * left on a battery trend), flags, silence ticks, coincidence of two devices, the radio rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_config.h"
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

/* ---- statistics ------------------------------------------------------------------------- */

#define MIN 60000
#define SEC 1000

/* A step of a reading-driven table: the reading's value at t, the event, the active state after
 * it and, unless NAN, the value reported (the statistic). */
struct rstep {
    double value;
    int64_t t_ms;
    enum lw_rule_event ev;
    bool active;
    double reported;
};

static struct lw_reading water(double mm)
{
    struct lw_reading r;
    memset(&r, 0, sizeof(r));
    r.present = LW_R_WATER;
    r.water_mm = (uint16_t)mm;
    return r;
}

static struct lw_node_conf node_at(uint16_t address, const char *building, const char *tags)
{
    struct lw_node_conf n;
    memset(&n, 0, sizeof(n));
    snprintf(n.name, sizeof(n.name), "n%u", address);
    n.address = address;
    n.kind = LW_KIND_MULTI;
    snprintf(n.building, sizeof(n.building), "%s", building);
    snprintf(n.tags, sizeof(n.tags), "%s", tags);
    return n;
}

/* Water readings through lw_rules_reading (filter, statistic, evaluation). */
static void run_water(const struct lw_rule_conf *r, const struct rstep *steps, size_t n)
{
    struct lw_rules *e = lw_rules_new();
    struct lw_rule_state st;
    struct lw_node_conf node = node_at(1, "", "");
    memset(&st, 0, sizeof(st));
    assert_non_null(e);
    for (size_t i = 0; i < n; i++) {
        struct lw_reading rd = water(steps[i].value);
        double v = -1;
        enum lw_rule_event ev = lw_rules_reading(e, r, &node, &st, &rd, steps[i].t_ms, &v);
        if (ev != steps[i].ev || st.active != steps[i].active ||
            (!isnan(steps[i].reported) && fabs(v - steps[i].reported) > 1e-6))
            fail_msg("step %zu (%g mm at %lld ms): event %d active %d value %g, expected %d / %d "
                     "/ %g",
                     i, steps[i].value, (long long)steps[i].t_ms, ev, st.active, v, steps[i].ev,
                     steps[i].active, steps[i].reported);
    }
    lw_rules_free(e);
}

#define RUNW(r, steps) run_water(&(r), (steps), sizeof(steps) / sizeof((steps)[0]))

static void test_sliding_mean(void **state)
{
    /* FloodNet alerts on the 5-minute mean: one high reading does not, a sustained level does. */
    struct lw_rule_conf r = rule(76, 40, 0);
    r.statistic = LW_STAT_MEAN;
    r.window_ms = 5 * MIN;
    static const struct rstep s[] = {
        {0, 0 * MIN, LW_RULE_NONE, false, 0},    {0, 1 * MIN, LW_RULE_NONE, false, 0},
        {0, 2 * MIN, LW_RULE_NONE, false, 0},    {0, 3 * MIN, LW_RULE_NONE, false, 0},
        {300, 4 * MIN, LW_RULE_NONE, false, 60}, /* one high reading: (0+0+0+0+300)/5 */
        {0, 5 * MIN, LW_RULE_NONE, false, 60},   /* 0@0 left the window (t <= now - 5 min) */
        {100, 6 * MIN, LW_RULE_RAISE, true, 80}, /* (0+0+300+0+100)/5 */
        {100, 7 * MIN, LW_RULE_NONE, true, 100}, /* (0+300+0+100+100)/5 */
        {0, 8 * MIN, LW_RULE_NONE, true, 100},   /* (300+0+100+100+0)/5 */
        {0, 9 * MIN, LW_RULE_CLEAR, false, 40},  /* (0+100+100+0+0)/5: at clear */
        {0, 30 * MIN, LW_RULE_NONE, false, 0},   /* alone in the window after a long gap */
    };
    (void)state;
    RUNW(r, s);
}

static void test_mean_with_persistence(void **state)
{
    struct lw_rule_conf r = rule(76, 40, 5 * MIN);
    r.statistic = LW_STAT_MEAN;
    r.window_ms = 5 * MIN;
    static const struct rstep s[] = {
        {100, 0, LW_RULE_NONE, false, 100},
        {100, 4 * MIN, LW_RULE_NONE, false, 100},
        {100, 5 * MIN - 1, LW_RULE_NONE, false, 100},
        {100, 5 * MIN, LW_RULE_RAISE, true, 100},
    };
    (void)state;
    RUNW(r, s);
}

static void test_rate_of_rise(void **state)
{
    /* Rise >= 5 mm/min over a 10-minute window, clear at <= 1 mm/min. */
    struct lw_rule_conf r = rule(5, 1, 0);
    r.statistic = LW_STAT_RISE;
    r.window_ms = 10 * MIN;
    static const struct rstep s[] = {
        {20, 0, LW_RULE_NONE, false, NAN}, /* one reading: no slope yet */
        /* Two or three readings over less than a quarter of the window: no slope (sensor noise
         * over two close points would read as a flood rising). */
        {22, 1 * MIN, LW_RULE_NONE, false, NAN},
        {24, 2 * MIN, LW_RULE_NONE, false, NAN},
        {30, 3 * MIN, LW_RULE_NONE, false, 3.2},
        {45, 4 * MIN, LW_RULE_RAISE, true, 5.8}, /* least squares over 20, 22, 24, 30, 45 */
        {65, 5 * MIN, LW_RULE_NONE, true, NAN},
        {90, 6 * MIN, LW_RULE_NONE, true, NAN},
        {90, 7 * MIN, LW_RULE_NONE, true, NAN},  /* levelling off: the window still rises */
        {90, 20 * MIN, LW_RULE_NONE, true, NAN}, /* alone after a gap: no slope, no change */
        {90, 21 * MIN, LW_RULE_NONE, true, NAN},
        {90, 22 * MIN, LW_RULE_NONE, true, NAN},
        {90, 23 * MIN, LW_RULE_CLEAR, false, 0},
    };
    (void)state;
    RUNW(r, s);
}

static void test_rise_exact_slope(void **state)
{
    struct lw_rule_conf r = rule(10, 2, 0);
    struct lw_rule_state st;
    struct lw_rule_hist h;
    double v;
    (void)state;
    r.statistic = LW_STAT_RISE;
    r.window_ms = 5 * MIN;
    memset(&st, 0, sizeof(st));
    memset(&h, 0, sizeof(h));
    assert_false(lw_rule_statistic(&r, &st, NULL, 100, 0, &v)); /* no history to keep */
    assert_false(lw_rule_statistic(&r, &st, &h, 100, 0, &v));
    for (int k = 1; k <= 20; k++) {
        /* A slope once three buckets span a quarter of the window (75 s) */
        bool slope = lw_rule_statistic(&r, &st, &h, 100 + 7.5 * k, k * 30 * SEC, &v);
        assert_int_equal(slope, k >= 3);
        if (!slope)
            continue;
        assert_true(fabs(v - 15) < 1e-6); /* 7.5 mm per 30 s */
        assert_true(h.n <= LW_HIST_N);
    }
    /* Falling water: a negative rise. */
    assert_true(lw_rule_statistic(&r, &st, &h, 0, 21 * 30 * SEC, &v));
    assert_true(v < 0);
}

/* Start-up replay (lw_rules_prime): the stored readings before a restart fill the history, so
 * the first real reading finds the slope the rule had; the replay itself raises nothing. */
static void test_prime_resumes_rise(void **state)
{
    struct lw_rule_conf r = rule(5, 1, 0);
    r.statistic = LW_STAT_RISE;
    r.window_ms = 10 * MIN;
    struct lw_node_conf node = node_at(1, "", "");
    struct lw_rules *e = lw_rules_new(), *fresh = lw_rules_new();
    struct lw_rule_state st, fst;
    static const double before[] = {20, 22, 24, 30, 45}; /* 5.8 mm/min at 4 min: over */
    double v;
    (void)state;
    memset(&st, 0, sizeof(st));
    memset(&fst, 0, sizeof(fst));
    assert_true(lw_rule_primes(&r));
    for (int k = 0; k < 5; k++) {
        struct lw_reading rd = water(before[k]);
        lw_rules_prime(e, &r, &node, &st, &rd, k * MIN);
    }
    assert_false(st.active); /* no raise from the replay ... */
    assert_true(st.above);   /* ... but the exceedance it found is kept */
    struct lw_reading rd = water(65);
    assert_int_equal(lw_rules_reading(e, &r, &node, &st, &rd, 5 * MIN, &v), LW_RULE_RAISE);
    assert_true(v > 5);
    /* Without the replay the same reading is alone: no slope, no alert. */
    assert_int_equal(lw_rules_reading(fresh, &r, &node, &fst, &rd, 5 * MIN, &v), LW_RULE_NONE);
    lw_rules_free(e);
    lw_rules_free(fresh);
}

static void test_prime_never_clears_restored_alert(void **state)
{
    /* flood-watch: mean over 5 min >= 76, clear <= 40; its alert restored open at 120 mm. */
    struct lw_rule_conf r = rule(76, 40, 0);
    r.statistic = LW_STAT_MEAN;
    r.window_ms = 5 * MIN;
    struct lw_node_conf node = node_at(1, "", "");
    struct lw_rules *e = lw_rules_new();
    struct lw_rule_state st;
    double v;
    (void)state;
    memset(&st, 0, sizeof(st));
    st.active = true;
    st.alert_id = 7;
    st.last = 120;
    for (int k = 0; k < 4; k++) {
        struct lw_reading rd = water(0);
        lw_rules_prime(e, &r, &node, &st, &rd, k * MIN);
    }
    assert_true(st.active);
    assert_int_equal(st.alert_id, 7);
    assert_true(fabs(st.last - 120) < 1e-9); /* what the alert said stays */
    /* The first real reading judges the replayed mean (0): the all-clear comes now. */
    struct lw_reading rd = water(0);
    assert_int_equal(lw_rules_reading(e, &r, &node, &st, &rd, 4 * MIN, &v), LW_RULE_CLEAR);
    lw_rules_free(e);
}

static void test_prime_forgotten_when_clock_began_again(void **state)
{
    /* A simulator's virtual clock that began again: the first real reading is older than the
     * replayed ones. The replay is of another time line and is forgotten; the new readings make
     * their own slope (kept, they would all be older than the history and left out). */
    struct lw_rule_conf r = rule(5, 1, 0);
    r.statistic = LW_STAT_RISE;
    r.window_ms = 10 * MIN;
    struct lw_node_conf node = node_at(1, "", "");
    struct lw_rules *e = lw_rules_new();
    struct lw_rule_state st;
    static const double after[] = {20, 22, 24, 30, 45};
    double v;
    (void)state;
    memset(&st, 0, sizeof(st));
    for (int k = 0; k < 5; k++) {
        struct lw_reading rd = water(500 - 10 * k); /* falling, an hour later */
        lw_rules_prime(e, &r, &node, &st, &rd, 60 * MIN + k * MIN);
    }
    enum lw_rule_event ev = LW_RULE_NONE;
    for (int k = 0; k < 5; k++) {
        struct lw_reading rd = water(after[k]);
        ev = lw_rules_reading(e, &r, &node, &st, &rd, k * MIN, &v);
        if (k < 4)
            assert_int_equal(ev, LW_RULE_NONE);
    }
    assert_int_equal(ev, LW_RULE_RAISE);
    assert_true(fabs(v - 5.8) < 1e-6);
    lw_rules_free(e);
}

static void test_prime_only_history_rules(void **state)
{
    struct lw_rule_conf r = rule(150, 100, 0);
    struct lw_node_conf node = node_at(1, "", "");
    struct lw_rules *e = lw_rules_new();
    struct lw_rule_state st;
    (void)state;
    memset(&st, 0, sizeof(st));
    assert_false(lw_rule_primes(&r)); /* a value rule with no persistence has nothing to lose */
    assert_int_equal(lw_rule_prime_span_ms(&r), 0);
    struct lw_reading rd = water(200);
    lw_rules_prime(e, &r, &node, &st, &rd, 0);
    assert_false(st.above);
    r.statistic = LW_STAT_TWA;
    r.window_ms = 60 * MIN;
    r.exponent = 1;
    assert_true(lw_rule_primes(&r));
    lw_rules_prime(e, &r, &node, &st, &rd, MIN);
    assert_true(st.twa_ms == MIN); /* the CO average goes on from its readings */
    assert_false(st.active);
    lw_rules_free(e);
}

/* flood-basement: 50 mm held for 2 min, red. The water stood over the line for 90 s when the
 * daemon was killed: after the restart the alert comes with the first real reading at 2 min, not
 * 2 min after the restart. A tick before that reading raises nothing: what the daemon missed
 * while it was down may have said otherwise. */
static void test_prime_resumes_persistence(void **state)
{
    struct lw_rule_conf r = rule(50, 20, 2 * MIN);
    struct lw_node_conf node = node_at(1, "", "");
    struct lw_rules *e = lw_rules_new(), *fresh = lw_rules_new();
    struct lw_rule_state st, fst;
    double v;
    (void)state;
    memset(&st, 0, sizeof(st));
    memset(&fst, 0, sizeof(fst));
    assert_true(lw_rule_primes(&r));
    assert_int_equal(lw_rule_prime_span_ms(&r), 2 * MIN);
    for (int k = 0; k <= 3; k++) { /* 60, 70, 80, 90 mm at 0, 30, 60, 90 s */
        struct lw_reading rd = water(60 + 10 * k);
        lw_rules_prime(e, &r, &node, &st, &rd, k * 30 * SEC);
    }
    assert_false(st.active);
    assert_true(st.above);
    assert_int_equal(st.above_since_ms, 0);
    /* 2 min 10 s: persistence is up, but no real reading yet. */
    assert_int_equal(lw_rules_node_tick(e, &r, &node, &st, 130 * SEC, &v), LW_RULE_NONE);
    struct lw_reading rd = water(100);
    assert_int_equal(lw_rules_reading(e, &r, &node, &st, &rd, 135 * SEC, &v), LW_RULE_RAISE);
    assert_true(fabs(v - 100) < 1e-9);
    /* Without the replay the persistence starts at that reading. */
    assert_int_equal(lw_rules_reading(fresh, &r, &node, &fst, &rd, 135 * SEC, &v), LW_RULE_NONE);
    /* Once a real reading came, ticks decide again. */
    struct lw_rule_conf r2 = rule(50, 20, 2 * MIN);
    strcpy(r2.name, "r2");
    struct lw_rule_state st2;
    memset(&st2, 0, sizeof(st2));
    struct lw_reading low = water(60);
    lw_rules_prime(e, &r2, &node, &st2, &low, 10 * SEC);
    assert_int_equal(lw_rules_reading(e, &r2, &node, &st2, &low, 30 * SEC, &v), LW_RULE_NONE);
    assert_int_equal(lw_rules_node_tick(e, &r2, &node, &st2, 135 * SEC, &v), LW_RULE_RAISE);
    lw_rules_free(e);
    lw_rules_free(fresh);
}

static void test_statistic_history_is_bounded(void **state)
{
    /* A 7-day window with a reading every minute keeps 12 buckets, not 10080 readings. */
    struct lw_rule_conf r = rule(0, 1, 0);
    struct lw_rule_state st;
    struct lw_rule_hist h;
    double v, sum = 0;
    (void)state;
    r.statistic = LW_STAT_MEAN;
    r.window_ms = 7ull * 86400000;
    memset(&st, 0, sizeof(st));
    memset(&h, 0, sizeof(h));
    for (int k = 0; k < 7 * 1440; k++) {
        sum += k % 100;
        assert_true(lw_rule_statistic(&r, &st, &h, k % 100, (int64_t)k * MIN, &v));
        assert_true(h.n <= LW_HIST_N);
    }
    assert_true(fabs(v - sum / (7 * 1440)) < 0.5);
}

/* ---- time-weighted CO (EN 50291) --------------------------------------------------------- */

/* The shipped CO rule: a time-weighted power mean (exponent 1.75, time constant 60 min) alarming
 * at 40 ppm equivalent (docs/RULES.md shows how the numbers were chosen). */
static struct lw_rule_conf co_rule(void)
{
    struct lw_rule_conf r = rule(40, 25, 0);
    r.metric = LW_METRIC_CO;
    r.statistic = LW_STAT_TWA;
    r.window_ms = 60 * MIN;
    r.exponent = 1.75;
    return r;
}

/* Minutes from the start of a constant exposure to the alarm, readings every period_ms from
 * t = 0; -1 when no alarm within limit_min. */
static double co_alarm_min(const struct lw_rule_conf *r, double ppm, int64_t period_ms,
                           double limit_min)
{
    struct lw_rules *e = lw_rules_new();
    struct lw_rule_state st;
    struct lw_node_conf node = node_at(9, "", "");
    struct lw_reading rd;
    double v, found = -1;
    memset(&st, 0, sizeof(st));
    memset(&rd, 0, sizeof(rd));
    rd.present = LW_R_CO;
    rd.co_ppm = (uint16_t)ppm;
    /* Clean air for an hour first: the model starts from whatever came before. */
    for (int64_t t = 0; t < 60 * MIN; t += period_ms) {
        struct lw_reading clean = rd;
        clean.co_ppm = 0;
        assert_int_equal(lw_rules_reading(e, r, &node, &st, &clean, t, &v), LW_RULE_NONE);
    }
    for (int64_t t = 60 * MIN; t <= 60 * MIN + (int64_t)(limit_min * MIN); t += period_ms)
        if (lw_rules_reading(e, r, &node, &st, &rd, t, &v) == LW_RULE_RAISE) {
            found = (double)(t - 60 * MIN) / MIN;
            assert_true(v >= 40);
            break;
        }
    lw_rules_free(e);
    return found;
}

static void test_co_twa_en50291_windows(void **state)
{
    /* EN 50291: 50 ppm alarm in 60-90 min, 100 ppm in 10-40 min, 300 ppm within 3 min; 30 ppm
     * no alarm before 120 min. Checked at several reporting periods. */
    static const struct {
        double ppm, lo_min, hi_min;
    } win[] = {{50, 60, 90}, {100, 10, 40}, {300, 0, 3}};
    static const int64_t periods[] = {10 * SEC, 30 * SEC, 60 * SEC};
    const struct lw_rule_conf r = co_rule();
    (void)state;
    for (size_t p = 0; p < sizeof(periods) / sizeof(periods[0]); p++) {
        for (size_t i = 0; i < sizeof(win) / sizeof(win[0]); i++) {
            double t = co_alarm_min(&r, win[i].ppm, periods[p], 240);
            print_message("  %g ppm, reading every %lld s: alarm after %g min\n", win[i].ppm,
                          (long long)(periods[p] / SEC), t);
            if (t < win[i].lo_min || t > win[i].hi_min)
                fail_msg("%g ppm (every %lld s): alarm at %g min, EN 50291 wants %g..%g",
                         win[i].ppm, (long long)(periods[p] / SEC), t, win[i].lo_min,
                         win[i].hi_min);
        }
        assert_true(co_alarm_min(&r, 30, periods[p], 120) < 0);
        assert_true(co_alarm_min(&r, 30, periods[p], 24 * 60) < 0); /* nor ever */
        assert_true(co_alarm_min(&r, 0, periods[p], 240) < 0);
    }
}

static void test_co_twa_clears_after_fresh_air(void **state)
{
    const struct lw_rule_conf r = co_rule();
    struct lw_rules *e = lw_rules_new();
    struct lw_rule_state st;
    struct lw_node_conf node = node_at(9, "", "");
    struct lw_reading rd;
    double v;
    int64_t t = 0, raised = -1, cleared = -1;
    (void)state;
    memset(&st, 0, sizeof(st));
    memset(&rd, 0, sizeof(rd));
    rd.present = LW_R_CO;
    for (; t <= 30 * MIN; t += MIN) {
        rd.co_ppm = 200;
        if (lw_rules_reading(e, &r, &node, &st, &rd, t, &v) == LW_RULE_RAISE)
            raised = t;
    }
    for (; t <= 300 * MIN && cleared < 0; t += MIN) {
        rd.co_ppm = 0;
        enum lw_rule_event ev = lw_rules_reading(e, &r, &node, &st, &rd, t, &v);
        assert_true(ev != LW_RULE_RAISE);
        if (ev == LW_RULE_CLEAR) {
            cleared = t;
            assert_true(v <= 25);
        }
    }
    assert_true(raised >= 0 && raised <= 5 * MIN);
    /* Back under 25 ppm equivalent only after the body would have cleared much of the dose. */
    assert_true(cleared > 40 * MIN);
    lw_rules_free(e);
}

/* An open CO alarm found at start-up has no average: it must not clear on the first reading. */
static void test_co_twa_restored_alarm_holds(void **state)
{
    const struct lw_rule_conf r = co_rule();
    struct lw_rules *e = lw_rules_new();
    struct lw_rule_state st;
    struct lw_node_conf node = node_at(9, "", "");
    struct lw_reading rd;
    double v;
    (void)state;
    memset(&st, 0, sizeof(st));
    memset(&rd, 0, sizeof(rd));
    st.active = true; /* as restore_alert leaves it */
    rd.present = LW_R_CO;
    rd.co_ppm = 300;
    assert_int_equal(lw_rules_reading(e, &r, &node, &st, &rd, 0, &v), LW_RULE_NONE);
    assert_true(st.active && v >= 300 - 1e-6);
    /* Fresh air from now on: it clears, but no sooner than an alarm just at the threshold. */
    int64_t t = MIN, cleared = -1;
    rd.co_ppm = 0;
    for (; t <= 300 * MIN && cleared < 0; t += MIN)
        if (lw_rules_reading(e, &r, &node, &st, &rd, t, &v) == LW_RULE_CLEAR)
            cleared = t;
    assert_true(cleared > 20 * MIN);
    /* A restored alarm with low readings: started from the threshold, not from 0. */
    memset(&st, 0, sizeof(st));
    st.active = true;
    rd.co_ppm = 10;
    assert_int_equal(lw_rules_reading(e, &r, &node, &st, &rd, 0, &v), LW_RULE_NONE);
    assert_true(fabs(v - 40) < 1e-6);
    assert_int_equal(lw_rules_reading(e, &r, &node, &st, &rd, MIN, &v), LW_RULE_NONE);
    assert_true(st.active);
    lw_rules_free(e);
}

/* Persistence runs out between reports: the tick raises (with the latest value) instead of the
 * next reading; a reading back under the threshold before then cancels it. */
static void test_persistence_raised_on_tick(void **state)
{
    struct lw_rule_conf r = rule(50, 20, 2 * MIN);
    struct lw_rules *e = lw_rules_new();
    struct lw_rule_state st;
    struct lw_node_conf node = node_at(1, "", "");
    struct lw_reading rd = water(150);
    double v;
    (void)state;
    memset(&st, 0, sizeof(st));
    assert_true(lw_rule_timed(&r));
    assert_int_equal(lw_rule_due(&r, &st), INT64_MAX); /* nothing over the threshold yet */
    assert_int_equal(lw_rules_reading(e, &r, &node, &st, &rd, 30 * SEC, &v), LW_RULE_NONE);
    assert_int_equal(lw_rule_due(&r, &st), 30 * SEC + 2 * MIN);
    assert_int_equal(lw_rule_tick(&r, &st, 2 * MIN, &v), LW_RULE_NONE);
    assert_int_equal(lw_rule_tick(&r, &st, 30 * SEC + 2 * MIN, &v), LW_RULE_RAISE);
    assert_true(st.active && v == 150);
    assert_int_equal(lw_rule_due(&r, &st), INT64_MAX);
    assert_int_equal(lw_rules_reading(e, &r, &node, &st, &rd, 3 * MIN, &v), LW_RULE_NONE);
    /* Back under before the persistence ran out: no raise on the tick. */
    memset(&st, 0, sizeof(st));
    assert_int_equal(lw_rules_reading(e, &r, &node, &st, &rd, 0, &v), LW_RULE_NONE);
    rd = water(30);
    assert_int_equal(lw_rules_reading(e, &r, &node, &st, &rd, MIN, &v), LW_RULE_NONE);
    assert_int_equal(lw_rule_due(&r, &st), INT64_MAX);
    assert_int_equal(lw_rule_tick(&r, &st, 5 * MIN, &v), LW_RULE_NONE);
    /* A reload moved the line above the latest reading: the tick does not raise on it. */
    memset(&st, 0, sizeof(st));
    rd = water(150);
    assert_int_equal(lw_rules_reading(e, &r, &node, &st, &rd, 0, &v), LW_RULE_NONE);
    struct lw_rule_conf higher = rule(300, 200, 2 * MIN);
    assert_int_equal(lw_rule_tick(&higher, &st, 3 * MIN, &v), LW_RULE_NONE);
    struct lw_rule_conf no_wait = rule(50, 20, 0); /* and one without a persistence never waits */
    assert_int_equal(lw_rule_due(&no_wait, &st), INT64_MAX);
    /* Without a persistence the reading itself raises: nothing for the tick to do. */
    struct lw_rule_conf at_once = rule(50, 20, 0);
    assert_false(lw_rule_timed(&at_once));
    lw_rules_free(e);
}

/* A jump the filter held back counts from its own time once it is confirmed as water: the street
 * rule's 5 minutes run from the jump, not from the reading that confirmed it. */
static void test_held_jump_counts_from_its_time(void **state)
{
    struct lw_rule_conf r = rule(150, 100, 5 * MIN);
    r.filter = LW_WATERFILTER_FLOODNET;
    r.noise_floor = 10;
    r.spike = 100;
    r.max_rise = 250;
    r.plateau_tol = 2;
    r.plateau_ms = 3 * MIN;
    static const struct rstep s[] = {
        {0, 0, LW_RULE_NONE, false, 0},
        {0, 1 * MIN, LW_RULE_NONE, false, 0},
        {160, 2 * MIN, LW_RULE_NONE, false, NAN}, /* a jump: held */
        {170, 3 * MIN, LW_RULE_NONE, false, 170}, /* water: both accepted, over since 2 min */
        {175, 4 * MIN, LW_RULE_NONE, false, 175},
        {180, 5 * MIN, LW_RULE_NONE, false, 180},
        {185, 6 * MIN, LW_RULE_NONE, false, 185},
        {190, 7 * MIN, LW_RULE_RAISE, true, 190}, /* 5 min after the jump */
    };
    (void)state;
    RUNW(r, s);
}

/* A basement sensor reports a jump and then nothing (its radio drowned): the held reading is
 * released as water once the node has been quiet for 2.5 reporting gaps, and the persistence,
 * counted from the jump, raises at once. */
static void test_jump_then_quiet_is_raised(void **state)
{
    struct lw_rule_conf r = rule(50, 20, 2 * MIN);
    r.filter = LW_WATERFILTER_FLOODNET;
    r.noise_floor = 10;
    r.spike = 100;
    r.max_rise = 250;
    r.plateau_tol = 2;
    struct lw_rules *e = lw_rules_new();
    struct lw_rule_state st;
    struct lw_node_conf node = node_at(4, "7", "basement");
    double v;
    (void)state;
    memset(&st, 0, sizeof(st));
    assert_true(lw_rule_timed(&r));
    for (int k = 0; k <= 2; k++) {
        struct lw_reading rd = water(k < 2 ? 0 : 180);
        assert_int_equal(lw_rules_reading(e, &r, &node, &st, &rd, k * MIN, &v), LW_RULE_NONE);
    }
    int64_t due = lw_rules_node_due(e, &r, &node, &st);
    assert_int_equal(due, 2 * MIN + 150000);
    assert_int_equal(lw_rules_node_tick(e, &r, &node, &st, due - 1, &v), LW_RULE_NONE);
    assert_int_equal(lw_rules_node_tick(e, &r, &node, &st, due, &v), LW_RULE_RAISE);
    assert_true(st.active && v == 180);
    assert_int_equal(lw_rules_node_due(e, &r, &node, &st), INT64_MAX);
    assert_true(st.unconfirmed); /* nothing after the jump confirmed it */
    /* Water too fast to be possible, then silence: raised as well, unconfirmed. */
    struct lw_rule_state s3;
    struct lw_node_conf third = node_at(6, "7", "basement");
    memset(&s3, 0, sizeof(s3));
    for (int k = 0; k <= 2; k++) {
        struct lw_reading rd = water(k < 2 ? 0 : 900);
        assert_int_equal(lw_rules_reading(e, &r, &third, &s3, &rd, k * MIN, &v), LW_RULE_NONE);
    }
    due = lw_rules_node_due(e, &r, &third, &s3);
    assert_int_equal(due, 2 * MIN + 150000);
    assert_int_equal(lw_rules_node_tick(e, &r, &third, &s3, due, &v), LW_RULE_RAISE);
    assert_true(s3.active && s3.unconfirmed && v == 900);
    /* Active, then a drop is held and the node goes quiet: the alarm stays. */
    struct lw_reading low = water(0);
    assert_int_equal(lw_rules_reading(e, &r, &node, &st, &low, 6 * MIN, &v), LW_RULE_NONE);
    assert_int_equal(lw_rules_node_due(e, &r, &node, &st), INT64_MAX);
    assert_int_equal(lw_rules_node_tick(e, &r, &node, &st, 600 * MIN, &v), LW_RULE_NONE);
    assert_true(st.active);
    /* Over the threshold with persistence running, then a lower reading held: the tick waits for
     * what comes next instead of raising on the older one. */
    struct lw_rule_state s2;
    struct lw_node_conf other = node_at(5, "7", "basement");
    memset(&s2, 0, sizeof(s2));
    static const struct {
        double mm;
        int64_t t_ms;
    } seq[] = {{160, 0}, {160, MIN}, {20, 90 * SEC}}; /* the drop is held */
    for (size_t k = 0; k < sizeof(seq) / sizeof(seq[0]); k++) {
        struct lw_reading rd = water(seq[k].mm);
        assert_int_equal(lw_rules_reading(e, &r, &other, &s2, &rd, seq[k].t_ms, &v), LW_RULE_NONE);
    }
    assert_int_equal(lw_rules_node_tick(e, &r, &other, &s2, 2 * MIN, &v), LW_RULE_NONE);
    assert_false(s2.active);
    struct lw_reading still_low = water(20); /* the drop was real: no alarm at all */
    assert_int_equal(lw_rules_reading(e, &r, &other, &s2, &still_low, 150 * SEC, &v), LW_RULE_NONE);
    assert_int_equal(lw_rules_node_tick(e, &r, &other, &s2, 10 * MIN, &v), LW_RULE_NONE);
    assert_false(s2.active);
    lw_rules_free(e);
}

static const struct lw_rule_conf *find_rule(const struct lw_config *cfg, const char *name);

/* config/lorawatch.conf as shipped (the test runs with LW_SOURCE_DIR set). */
static struct lw_config *shipped_config(void)
{
    const char *src = getenv("LW_SOURCE_DIR");
    char path[1024];
    assert_non_null(src);
    snprintf(path, sizeof(path), "%s/config/lorawatch.conf", src);
    struct lw_config *cfg = lw_config_load(path, NULL, NULL);
    assert_non_null(cfg);
    return cfg;
}

/* A basement flooded at once and then still: with the plateau step off (the shipped basement
 * rule) it is water and raised at once, confirmed (test_parked_car_plateau_alarms_unconfirmed
 * shows the same kind of series held back and marked where the plateau step is on). */
static void test_flat_basement_flood_is_water(void **state)
{
    (void)state;
    struct lw_config *cfg = shipped_config();
    const struct lw_rule_conf *r = find_rule(cfg, "flood-basement");
    assert_non_null(r);
    assert_int_equal(r->plateau_ms, 0);
    struct lw_rules *e = lw_rules_new();
    struct lw_rule_state st;
    struct lw_node_conf node = node_at(3, "7", "basement");
    double v;
    int64_t raised = -1;
    memset(&st, 0, sizeof(st));
    for (int k = 0; k <= 15 && raised < 0; k++) {
        struct lw_reading rd = water(k < 2 ? 0 : 150 + (k & 1));
        if (lw_rules_reading(e, r, &node, &st, &rd, k * MIN, &v) == LW_RULE_RAISE)
            raised = k * MIN;
        else if (lw_rule_tick(r, &st, k * MIN + 30 * SEC, &v) == LW_RULE_RAISE)
            raised = k * MIN + 30 * SEC;
    }
    /* Jump at 2 min, held to 3 min, counted from 2 min: raised 2 min later. */
    assert_int_equal(raised, 4 * MIN);
    lw_rules_free(e);
    lw_config_free(cfg);
}

/* ---- calibration: a new zero offset never clears an alert ------------------------------- */

/* One reading of the sensor's own depth raw_mm (before calibration). */
static enum lw_rule_event feed_raw(struct lw_rules *e, const struct lw_rule_conf *r,
                                   const struct lw_node_conf *node, struct lw_rule_state *st,
                                   double raw_mm, int64_t t_ms, double *v)
{
    struct lw_reading rd = water(raw_mm);
    return lw_rules_reading(e, r, node, st, &rd, t_ms, v);
}

/* Zeroed at 105 mm under an open red alert (the site's case): the water rising on the new zero
 * is 7..25 mm, under the clear level, and must not clear it; nor does water that fell below
 * the new zero but not under the clear level on the old one; real water under it does. */
static void test_recalibration_never_clears(void **state)
{
    (void)state;
    struct lw_rule_conf r = rule(50, 20, 0);
    struct lw_rules *e = lw_rules_new();
    struct lw_node_conf node = node_at(1, "", "");
    struct lw_rule_state st;
    double v;
    memset(&st, 0, sizeof(st));
    assert_int_equal(feed_raw(e, &r, &node, &st, 105, 0, &v), LW_RULE_RAISE);
    node.zero_offset_mm = 105;
    lw_rules_recalibrated(e, &r, &node, &st, 0);
    assert_true(st.pinned);
    assert_int_equal(st.pin_zero_mm, 0);
    assert_true(fabs(st.last) < 1e-9); /* the latest value on the new calibration */
    static const double rising[] = {112, 116, 130, 110, 40, 21};
    for (size_t i = 0; i < sizeof(rising) / sizeof(rising[0]); i++) {
        if (feed_raw(e, &r, &node, &st, rising[i], (int64_t)(i + 1) * MIN, &v) != LW_RULE_NONE ||
            !st.active)
            fail_msg("%g mm (%g on the new zero) cleared the alert", rising[i], v);
        assert_true(fabs(v - (rising[i] > 105 ? rising[i] - 105 : 0)) < 1e-9);
    }
    assert_int_equal(feed_raw(e, &r, &node, &st, 20, 10 * MIN, &v), LW_RULE_CLEAR);
    assert_false(st.pinned);
    /* A new alert lives on the new calibration alone. */
    assert_int_equal(feed_raw(e, &r, &node, &st, 150, 11 * MIN, &v), LW_RULE_NONE);
    assert_int_equal(feed_raw(e, &r, &node, &st, 160, 12 * MIN, &v), LW_RULE_RAISE);
    assert_false(st.pinned);
    assert_int_equal(feed_raw(e, &r, &node, &st, 125, 13 * MIN, &v), LW_RULE_CLEAR);
    /* No alert open: a recalibration pins nothing. */
    node.zero_offset_mm = 0;
    lw_rules_recalibrated(e, &r, &node, &st, 105);
    assert_false(st.pinned);
    lw_rules_free(e);
}

/* The offset lowered (readings jump up) under an open alert: it clears when the depth is under
 * the clear level on both calibrations, the new one included. */
static void test_recalibration_lowered_offset(void **state)
{
    (void)state;
    struct lw_rule_conf r = rule(50, 20, 0);
    struct lw_rules *e = lw_rules_new();
    struct lw_node_conf node = node_at(1, "", "");
    struct lw_rule_state st;
    double v;
    memset(&st, 0, sizeof(st));
    node.zero_offset_mm = 100;
    assert_int_equal(feed_raw(e, &r, &node, &st, 200, 0, &v), LW_RULE_RAISE);
    node.zero_offset_mm = 0;
    lw_rules_recalibrated(e, &r, &node, &st, 100);
    assert_int_equal(feed_raw(e, &r, &node, &st, 110, MIN, &v), LW_RULE_NONE); /* 10 on the old */
    assert_true(st.active);
    assert_int_equal(feed_raw(e, &r, &node, &st, 15, 2 * MIN, &v), LW_RULE_CLEAR);
    lw_rules_free(e);
}

/* A step of the calibration is neither a fall nor a rise: the rate of rise and the sliding mean
 * go on from the history moved by the change, as if the new zero had always been set. */
static void test_recalibration_moves_history(void **state)
{
    (void)state;
    static const struct {
        enum lw_statistic stat;
        double thr, clear;
    } kinds[] = {{LW_STAT_RISE, 5, 1}, {LW_STAT_MEAN, 25, 10}};
    static const double raw[] = {20, 22, 24, 30, 45, 65, 90, 110, 120};
    for (size_t k = 0; k < 2; k++) {
        struct lw_rule_conf r = rule(kinds[k].thr, kinds[k].clear, 0);
        r.statistic = kinds[k].stat;
        r.window_ms = 10 * MIN;
        struct lw_rules *a = lw_rules_new(), *b = lw_rules_new();
        struct lw_node_conf na = node_at(1, "", ""), nb = node_at(1, "", "");
        struct lw_rule_state sa, sb;
        memset(&sa, 0, sizeof(sa));
        memset(&sb, 0, sizeof(sb));
        nb.zero_offset_mm = 10; /* b: zeroed at 10 mm from the start */
        for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
            double va = 0, vb = 0;
            if (i == 5) { /* a: the same zero set half-way, with its alert open */
                assert_true(sa.active);
                na.zero_offset_mm = 10;
                lw_rules_recalibrated(a, &r, &na, &sa, 0);
            }
            enum lw_rule_event ea = feed_raw(a, &r, &na, &sa, raw[i], (int64_t)i * MIN, &va);
            enum lw_rule_event eb = feed_raw(b, &r, &nb, &sb, raw[i], (int64_t)i * MIN, &vb);
            if (i >= 5 && (ea != LW_RULE_NONE || !sa.active || fabs(va - vb) > 1e-3))
                fail_msg("statistic %zu, reading %zu: event %d active %d value %g, zeroed from "
                         "the start %g",
                         k, i, ea, sa.active, va, vb);
            (void)eb;
        }
        lw_rules_free(a);
        lw_rules_free(b);
    }
}

/* A mean alert pinned by a new zero clears on the mean of the depths on the old calibration,
 * not on the newest one: 8 x 105 mm, zeroed at 105, then the water drains to 35 mm in 9 s (the
 * real mean is still about 84 mm); only a real fall of the mean under 40 mm clears it. */
static void test_recalibration_pinned_mean(void **state)
{
    (void)state;
    struct lw_rule_conf r = rule(76, 40, 0);
    r.statistic = LW_STAT_MEAN;
    r.window_ms = 5 * MIN;
    struct lw_rules *e = lw_rules_new();
    struct lw_node_conf node = node_at(1, "", "");
    struct lw_rule_state st;
    double v;
    memset(&st, 0, sizeof(st));
    int64_t t = 0;
    for (int i = 0; i < 8; i++, t += SEC)
        feed_raw(e, &r, &node, &st, 105, t, &v);
    assert_true(st.active);
    node.zero_offset_mm = 105;
    lw_rules_recalibrated(e, &r, &node, &st, 0);
    assert_true(st.pinned);
    for (int i = 0; i <= 9; i++, t += SEC)
        if (feed_raw(e, &r, &node, &st, 100 - 65.0 * i / 9, t, &v) != LW_RULE_NONE)
            fail_msg("reading %d (%g mm) cleared the pinned mean alert", i, 100 - 65.0 * i / 9);
    assert_true(st.active);
    enum lw_rule_event ev = LW_RULE_NONE;
    for (t += MIN; ev == LW_RULE_NONE && t < 20 * MIN; t += 30 * SEC)
        ev = feed_raw(e, &r, &node, &st, 10, t, &v);
    assert_int_equal(ev, LW_RULE_CLEAR);
    assert_false(st.pinned);
    lw_rules_free(e);
}

/* Re-zeroed at 100 mm while a rate-of-rise alert is open and the water goes on rising at
 * 10 mm/min: the slope is the same on any zero, so the alert stays open. */
static void test_recalibration_keeps_rise(void **state)
{
    (void)state;
    struct lw_rule_conf r = rule(5, 1, 0);
    r.statistic = LW_STAT_RISE;
    r.window_ms = 10 * MIN;
    struct lw_rules *e = lw_rules_new();
    struct lw_node_conf node = node_at(1, "", "");
    struct lw_rule_state st;
    double v;
    memset(&st, 0, sizeof(st));
    for (int i = 0; i <= 10; i++)
        feed_raw(e, &r, &node, &st, 10.0 * i, (int64_t)i * MIN, &v);
    assert_true(st.active);
    node.zero_offset_mm = 100;
    lw_rules_recalibrated(e, &r, &node, &st, 0);
    for (int i = 11; i <= 20; i++) {
        if (feed_raw(e, &r, &node, &st, 10.0 * i, (int64_t)i * MIN, &v) != LW_RULE_NONE)
            fail_msg("minute %d: the rise alert cleared at %g mm/min", i, v);
        assert_true(fabs(v - 10) < 1e-3);
    }
    /* A zero set above the water (300 mm at 200 mm): the water under it still rises. */
    node.zero_offset_mm = 300;
    lw_rules_recalibrated(e, &r, &node, &st, 100);
    for (int i = 21; i <= 30; i++) {
        if (feed_raw(e, &r, &node, &st, 10.0 * i, (int64_t)i * MIN, &v) != LW_RULE_NONE)
            fail_msg("minute %d: the rise alert cleared at %g mm/min", i, v);
        assert_true(fabs(v - 10) < 1e-3);
    }
    lw_rules_free(e);
}

/* Zeroed (forced) at 120 mm while a 50 mm threshold's persistence runs: the exceedance goes on
 * on the old calibration and is raised on the depth it stands at; one that ends unpins. */
static void test_recalibration_pins_exceedance(void **state)
{
    (void)state;
    struct lw_rule_conf r = rule(50, 20, 20 * SEC);
    struct lw_rules *e = lw_rules_new();
    struct lw_node_conf node = node_at(1, "", "");
    struct lw_rule_state st;
    double v;
    memset(&st, 0, sizeof(st));
    assert_int_equal(feed_raw(e, &r, &node, &st, 120, 0, &v), LW_RULE_NONE);
    assert_int_equal(feed_raw(e, &r, &node, &st, 120, 5 * SEC, &v), LW_RULE_NONE);
    node.zero_offset_mm = 120;
    lw_rules_recalibrated(e, &r, &node, &st, 0);
    assert_true(st.pinned);
    assert_int_equal(feed_raw(e, &r, &node, &st, 150, 10 * SEC, &v), LW_RULE_NONE);
    assert_int_equal(feed_raw(e, &r, &node, &st, 150, 20 * SEC, &v), LW_RULE_RAISE);
    assert_true(fabs(v - 150) < 1e-9);
    assert_int_equal(feed_raw(e, &r, &node, &st, 130, 30 * SEC, &v), LW_RULE_NONE); /* 10 */
    assert_int_equal(feed_raw(e, &r, &node, &st, 17, 40 * SEC, &v), LW_RULE_CLEAR);
    assert_false(st.pinned);
    /* An exceedance that ends before its raise takes its pin with it. */
    node.zero_offset_mm = 0;
    assert_int_equal(feed_raw(e, &r, &node, &st, 120, 50 * SEC, &v), LW_RULE_NONE);
    node.zero_offset_mm = 120;
    lw_rules_recalibrated(e, &r, &node, &st, 0);
    assert_true(st.pinned);
    assert_int_equal(feed_raw(e, &r, &node, &st, 40, 55 * SEC, &v),
                     LW_RULE_NONE); /* 40 on the old */
    assert_false(st.pinned);
    assert_int_equal(feed_raw(e, &r, &node, &st, 175, 60 * SEC, &v), LW_RULE_NONE);
    assert_int_equal(feed_raw(e, &r, &node, &st, 175, 70 * SEC, &v), LW_RULE_NONE);
    assert_int_equal(feed_raw(e, &r, &node, &st, 10, 75 * SEC, &v), LW_RULE_NONE);
    /* Zeroed and no reading since: the persistence runs out between reports, the tick raises. */
    node.zero_offset_mm = 0;
    assert_int_equal(feed_raw(e, &r, &node, &st, 120, 80 * SEC, &v), LW_RULE_NONE);
    node.zero_offset_mm = 120;
    lw_rules_recalibrated(e, &r, &node, &st, 0);
    assert_int_equal(lw_rule_tick(&r, &st, 100 * SEC, &v), LW_RULE_RAISE);
    assert_true(fabs(v - 120) < 1e-9);
    lw_rules_free(e);
}

/* ---- battery: days left on the trend ----------------------------------------------------- */

static void test_battery_days_left(void **state)
{
    /* 3600 mV falling 10 mV a day towards a 3000 mV floor: empty on day 60. Warn at <= 30 days
     * left (BS 5839-1), fault at <= 7 (NFPA 72). A reading every hour. */
    struct lw_rule_conf warn = rule(-30, -45, 0), fault = rule(-7, -10, 0);
    struct lw_rule_state sw, sf;
    struct lw_rules *e = lw_rules_new();
    struct lw_node_conf node = node_at(3, "", "");
    struct lw_reading rd;
    double v;
    int64_t warn_at = -1, fault_at = -1;
    (void)state;
    warn.metric = fault.metric = LW_METRIC_BATTERY;
    warn.below = fault.below = true;
    warn.statistic = fault.statistic = LW_STAT_DAYS_LEFT;
    warn.window_ms = fault.window_ms = 7ull * 86400000;
    warn.floor = fault.floor = 3000;
    memset(&sw, 0, sizeof(sw));
    memset(&sf, 0, sizeof(sf));
    memset(&rd, 0, sizeof(rd));
    rd.present = LW_R_BATTERY;
    for (int h = 0; h <= 60 * 24; h++) {
        int64_t t = (int64_t)h * 3600000;
        double mv = 3600 - 10.0 * h / 24;
        rd.battery_mv = (uint16_t)lround(mv + ((h % 3) - 1)); /* 1 mV of noise */
        if (lw_rules_reading(e, &warn, &node, &sw, &rd, t, &v) == LW_RULE_RAISE) {
            warn_at = h;
            assert_true(v <= 30 && v > 25);
        }
        if (lw_rules_reading(e, &fault, &node, &sf, &rd, t, &v) == LW_RULE_RAISE) {
            fault_at = h;
            assert_true(v <= 7 && v > 5);
        }
        if (h < 84) /* less than half the window of data: no projection, no alarm */
            assert_false(sw.active || sf.active);
    }
    print_message("  warning on day %.1f, fault on day %.1f (empty on day 60)\n", warn_at / 24.0,
                  fault_at / 24.0);
    assert_true(warn_at >= 29 * 24 && warn_at <= 31 * 24);
    assert_true(fault_at >= 52 * 24 && fault_at <= 54 * 24);

    /* A new battery clears the warning, and a flat one never projects an end. */
    bool cleared = false;
    assert_true(sw.active);
    for (int h = 60 * 24 + 1; h <= 70 * 24; h++) {
        rd.battery_mv = 3600;
        enum lw_rule_event ev =
            lw_rules_reading(e, &warn, &node, &sw, &rd, (int64_t)h * 3600000, &v);
        assert_true(ev != LW_RULE_RAISE);
        cleared |= ev == LW_RULE_CLEAR;
    }
    assert_true(cleared && !sw.active);
    assert_true(v >= 36500);
    lw_rules_free(e);
}

/* ---- flags ----------------------------------------------------------------------------------- */

static void test_flag_rules(void **state)
{
    static const struct {
        enum lw_flag_bit bit;
        uint32_t present;
        uint8_t flags;
        enum lw_rule_event ev;
        bool active;
    } s[] = {
        {LW_FLAGBIT_TAMPER, LW_R_FLAGS, 0, LW_RULE_NONE, false},
        {LW_FLAGBIT_TAMPER, LW_R_FLAGS, LW_FLAG_FAULT, LW_RULE_NONE, false}, /* another bit */
        {LW_FLAGBIT_TAMPER, LW_R_FLAGS, LW_FLAG_TAMPER, LW_RULE_RAISE, true},
        {LW_FLAGBIT_TAMPER, LW_R_FLAGS, LW_FLAG_TAMPER | 1, LW_RULE_NONE, true},
        {LW_FLAGBIT_TAMPER, LW_R_WATER, 0, LW_RULE_NONE, true}, /* no flags TLV: unknown */
        {LW_FLAGBIT_TAMPER, LW_R_FLAGS, 0, LW_RULE_CLEAR, false},
        {LW_FLAGBIT_FAULT, LW_R_FLAGS, LW_FLAG_FAULT, LW_RULE_RAISE, true},
        {LW_FLAGBIT_FAULT, LW_R_FLAGS, LW_FLAG_LOW_BATT, LW_RULE_CLEAR, false},
        {LW_FLAGBIT_LOW_BATTERY, LW_R_FLAGS, LW_FLAG_LOW_BATT, LW_RULE_RAISE, true},
        {LW_FLAGBIT_LOW_BATTERY, LW_R_FLAGS, 0, LW_RULE_CLEAR, false},
    };
    struct lw_rules *e = lw_rules_new();
    struct lw_node_conf node = node_at(4, "", "");
    struct lw_rule_state st[4];
    (void)state;
    memset(st, 0, sizeof(st));
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        struct lw_rule_conf r = rule(1, 0, 0);
        struct lw_reading rd;
        double v;
        r.type = LW_RULE_FLAG;
        r.flag = s[i].bit;
        memset(&rd, 0, sizeof(rd));
        rd.present = s[i].present;
        rd.flags = s[i].flags;
        enum lw_rule_event ev = lw_rules_reading(e, &r, &node, &st[s[i].bit], &rd, (int64_t)i, &v);
        if (ev != s[i].ev || st[s[i].bit].active != s[i].active)
            fail_msg("step %zu: event %d active %d", i, ev, st[s[i].bit].active);
    }
    lw_rules_free(e);
}

/* ---- silence ------------------------------------------------------------------------------- */

static void test_silence_from_ticks(void **state)
{
    /* Fire-class default: trouble when not heard for 200 s (NFPA 72); cleared when heard. */
    struct lw_rule_conf r = rule(1, 0, 0);
    struct lw_rules *e = lw_rules_new();
    struct lw_node_conf node = node_at(5, "", "");
    struct lw_rule_state st;
    struct lw_reading rd;
    static const struct {
        char what; /* 't' tick, 'r' reading */
        int64_t t_ms;
        enum lw_rule_event ev;
        bool active;
        double value; /* seconds silent reported */
    } s[] = {
        {'t', 1000 * SEC, LW_RULE_NONE, false, 0}, /* never heard: counting starts now */
        {'t', 1199 * SEC, LW_RULE_NONE, false, 0},
        {'t', 1200 * SEC, LW_RULE_RAISE, true, 200},  /* silent since start */
        {'t', 1300 * SEC, LW_RULE_NONE, true, 0},     /* raised once */
        {'r', 1310 * SEC, LW_RULE_CLEAR, false, 310}, /* heard again after 310 s */
        {'t', 1400 * SEC, LW_RULE_NONE, false, 0},
        {'r', 1450 * SEC, LW_RULE_NONE, false, 140},
        {'t', 1649 * SEC, LW_RULE_NONE, false, 0},
        {'r', 1400 * SEC, LW_RULE_NONE, false, 0}, /* an older copy does not move it back */
        {'t', 1650 * SEC, LW_RULE_RAISE, true, 200},
        {'r', 1651 * SEC, LW_RULE_CLEAR, false, 201},
    };
    (void)state;
    r.type = LW_RULE_SILENCE;
    r.timeout_ms = 200 * SEC;
    memset(&st, 0, sizeof(st));
    memset(&rd, 0, sizeof(rd));
    rd.present = LW_R_BATTERY;
    rd.battery_mv = 3300;
    assert_true(lw_rule_timed(&r));
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        double v = -1;
        enum lw_rule_event ev = s[i].what == 't'
                                    ? lw_rule_tick(&r, &st, s[i].t_ms, &v)
                                    : lw_rules_reading(e, &r, &node, &st, &rd, s[i].t_ms, &v);
        if (ev != s[i].ev || st.active != s[i].active || fabs(v - s[i].value) > 1e-9)
            fail_msg("step %zu (%c at %lld s): event %d active %d value %g", i, s[i].what,
                     (long long)(s[i].t_ms / SEC), ev, st.active, v);
    }
    /* When the next tick is worth having: now when never heard, at heard + timeout, never while
     * raised. */
    struct lw_rule_state fresh;
    memset(&fresh, 0, sizeof(fresh));
    assert_true(lw_rule_due(&r, &fresh) == 0);
    fresh.heard_ms = 5000 * SEC;
    assert_true(lw_rule_due(&r, &fresh) == 5200 * SEC);
    fresh.active = true;
    assert_true(lw_rule_due(&r, &fresh) == INT64_MAX);
    /* Other rule types are not timed and ticks leave them alone. */
    struct lw_rule_conf thr = rule(1, 0, 0);
    double v;
    assert_false(lw_rule_timed(&thr));
    assert_true(lw_rule_due(&thr, &st) == INT64_MAX);
    assert_int_equal(lw_rule_tick(&thr, &st, 99999 * SEC, &v), LW_RULE_NONE);
    lw_rules_free(e);
}

/* ---- coincidence ------------------------------------------------------------------------- */

static void test_smoke_coincidence(void **state)
{
    /* Smoke alarms at once (orange); a second independent device of the same building agreeing
     * within 60 s raises red (GB 50116-2013: two independent devices). */
    struct lw_rule_conf r = rule(1, 0, 0);
    struct lw_rules *e = lw_rules_new();
    struct lw_node_conf a = node_at(1, "2", ""), b = node_at(2, "2", ""), c = node_at(3, "7", ""),
                        d = node_at(4, "", ""), f = node_at(5, "7", "");
    const struct lw_node_conf *nodes[] = {&a, &b, &c, &d, &f};
    struct lw_rule_state st[5];
    static const struct {
        int node;
        int smoke;
        int64_t t_ms;
        enum lw_rule_event ev;
        bool confirmed; /* after the step */
        enum lw_level shown;
    } s[] = {
        {0, 1, 0, LW_RULE_RAISE, false, LW_LEVEL_ORANGE},        /* a alone */
        {2, 1, 10 * SEC, LW_RULE_RAISE, false, LW_LEVEL_ORANGE}, /* another building */
        {3, 1, 11 * SEC, LW_RULE_RAISE, false, LW_LEVEL_ORANGE}, /* no building: no group */
        {1, 1, 30 * SEC, LW_RULE_RAISE, true, LW_LEVEL_RED},     /* b agrees with a */
        {1, 0, 40 * SEC, LW_RULE_CLEAR, true, LW_LEVEL_RED},     /* clear shows what was raised */
        {0, 0, 50 * SEC, LW_RULE_CLEAR, false, LW_LEVEL_ORANGE},
        {1, 1, 100 * SEC, LW_RULE_RAISE, true, LW_LEVEL_RED}, /* a's alarm ended 50 s ago */
        {1, 0, 110 * SEC, LW_RULE_CLEAR, true, LW_LEVEL_RED},
        {1, 1, 300 * SEC, LW_RULE_RAISE, false, LW_LEVEL_ORANGE}, /* a's is 250 s old: alone */
        {0, 1, 310 * SEC, LW_RULE_RAISE, true, LW_LEVEL_RED},     /* and now a agrees with b */
        {0, 1, 320 * SEC, LW_RULE_NONE, true, LW_LEVEL_RED},
        /* c has said nothing since its alarm at 10 s (its battery died): it agrees no more. */
        {4, 1, 400 * SEC, LW_RULE_RAISE, false, LW_LEVEL_ORANGE},
    };
    (void)state;
    r.metric = LW_METRIC_SMOKE;
    r.level = LW_LEVEL_ORANGE;
    r.coincidence = LW_COINC_BUILDING;
    r.coincidence_ms = 60 * SEC;
    memset(st, 0, sizeof(st));
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        struct lw_reading rd;
        double v;
        memset(&rd, 0, sizeof(rd));
        rd.present = LW_R_SMOKE;
        rd.smoke_alarm = (uint8_t)s[i].smoke;
        struct lw_rule_state *x = &st[s[i].node];
        enum lw_rule_event ev = lw_rules_reading(e, &r, nodes[s[i].node], x, &rd, s[i].t_ms, &v);
        enum lw_level shown = lw_rule_raise_level(&r, x);
        if (ev != s[i].ev || x->confirmed != s[i].confirmed || shown != s[i].shown)
            fail_msg("step %zu: event %d confirmed %d level %d", i, ev, x->confirmed, shown);
    }
    /* A red rule stays red: there is no level above. */
    struct lw_rule_conf red = r;
    red.level = LW_LEVEL_RED;
    assert_int_equal(lw_rule_raise_level(&red, &st[0]), LW_LEVEL_RED);
    lw_rules_free(e);
}

static void test_coincidence_by_zone_tag_and_rule(void **state)
{
    struct lw_rule_conf r = rule(1, 0, 0), other;
    struct lw_rules *e = lw_rules_new();
    struct lw_node_conf a = node_at(1, "2", "old-building,zone-b2-stair"),
                        b = node_at(2, "3", "zone-b2-stair"), c = node_at(3, "2", "zone-b2-roof");
    struct lw_rule_state sa, sb, sc, so;
    struct lw_reading rd;
    double v;
    (void)state;
    r.metric = LW_METRIC_SMOKE;
    r.coincidence = LW_COINC_ZONE;
    r.coincidence_ms = 60 * SEC;
    other = r;
    strcpy(other.name, "other-rule");
    memset(&sa, 0, sizeof(sa));
    memset(&sb, 0, sizeof(sb));
    memset(&sc, 0, sizeof(sc));
    memset(&so, 0, sizeof(so));
    memset(&rd, 0, sizeof(rd));
    rd.present = LW_R_SMOKE;
    rd.smoke_alarm = 1;
    assert_int_equal(lw_rules_reading(e, &r, &a, &sa, &rd, 0, &v), LW_RULE_RAISE);
    assert_false(sa.confirmed);
    /* Same building, other zone: not a second device of the zone. */
    assert_int_equal(lw_rules_reading(e, &r, &c, &sc, &rd, SEC, &v), LW_RULE_RAISE);
    assert_false(sc.confirmed);
    /* Another rule's alarms are not this rule's. */
    assert_int_equal(lw_rules_reading(e, &other, &b, &so, &rd, 2 * SEC, &v), LW_RULE_RAISE);
    assert_false(so.confirmed);
    /* Same zone tag, other building: agrees. */
    assert_int_equal(lw_rules_reading(e, &r, &b, &sb, &rd, 3 * SEC, &v), LW_RULE_RAISE);
    assert_true(sb.confirmed);
    /* The same device twice is not two devices. */
    struct lw_rule_state again;
    memset(&again, 0, sizeof(again));
    struct lw_rules *e2 = lw_rules_new();
    assert_int_equal(lw_rules_reading(e2, &r, &a, &again, &rd, 0, &v), LW_RULE_RAISE);
    rd.smoke_alarm = 0;
    assert_int_equal(lw_rules_reading(e2, &r, &a, &again, &rd, SEC, &v), LW_RULE_CLEAR);
    rd.smoke_alarm = 1;
    assert_int_equal(lw_rules_reading(e2, &r, &a, &again, &rd, 2 * SEC, &v), LW_RULE_RAISE);
    assert_false(again.confirmed);
    lw_rules_free(e2);
    lw_rules_free(e);
}

/* After a restart the engine is new: a detector whose alarm was open before counts for the
 * others once restored (lw_rules_restore_alarm), so a second detector's alarm is confirmed. */
static void test_coincidence_restored_alarm(void **state)
{
    struct lw_rule_conf r = rule(1, 0, 0);
    struct lw_node_conf a = node_at(1, "2", "zone-b2-stair"), b = node_at(2, "2", "zone-b2-stair");
    struct lw_rule_state sb;
    struct lw_reading rd;
    double v;
    (void)state;
    r.metric = LW_METRIC_SMOKE;
    r.coincidence = LW_COINC_ZONE;
    r.coincidence_ms = 60 * SEC;
    r.level = LW_LEVEL_ORANGE; /* red when confirmed */
    memset(&rd, 0, sizeof(rd));
    rd.present = LW_R_SMOKE;
    rd.smoke_alarm = 1;
    struct lw_rules *e = lw_rules_new();
    memset(&sb, 0, sizeof(sb));
    assert_int_equal(lw_rules_reading(e, &r, &b, &sb, &rd, 100 * SEC, &v), LW_RULE_RAISE);
    assert_false(sb.confirmed); /* without the restored alarm: nobody agrees */
    lw_rules_free(e);
    e = lw_rules_new();
    memset(&sb, 0, sizeof(sb));
    lw_rules_restore_alarm(e, &r, &a, 90 * SEC);
    assert_int_equal(lw_rules_reading(e, &r, &b, &sb, &rd, 100 * SEC, &v), LW_RULE_RAISE);
    assert_true(sb.confirmed);
    assert_int_equal(lw_rule_raise_level(&r, &sb), LW_LEVEL_RED);
    lw_rules_free(e);
}

/* ---- gateway radio ----------------------------------------------------------------------- */

static void test_radio_fault(void **state)
{
    struct lw_rule_conf r = rule(1, 0, 30 * SEC);
    struct lw_rules *e = lw_rules_new();
    struct lw_rule_state *st = NULL;
    double v;
    (void)state;
    r.type = LW_RULE_RADIO_FAULT;
    r.kinds = 0;
    r.timeout_ms = 600 * SEC;
    /* Applies to no node: it is the gateway's own. */
    struct lw_node_conf n = node_at(1, "", "");
    for (int k = 0; k < LW_KIND_COUNT; k++) {
        n.kind = (enum lw_node_kind)k;
        assert_false(lw_rule_applies(&r, &n));
    }
    assert_int_equal(lw_rules_gateway_tick(e, &r, 1000 * SEC, &st, &v), LW_RULE_NONE);
    assert_non_null(st);
    lw_rules_radio_input(e, true, 1001 * SEC);
    assert_int_equal(lw_rules_gateway_tick(e, &r, 1002 * SEC, &st, &v), LW_RULE_NONE);
    assert_int_equal(lw_rules_gateway_tick(e, &r, 1031 * SEC, &st, &v), LW_RULE_NONE);
    assert_int_equal(lw_rules_gateway_tick(e, &r, 1032 * SEC, &st, &v), LW_RULE_RAISE);
    assert_true(v == 1 && st->active);
    lw_rules_radio_input(e, false, 1040 * SEC);
    assert_int_equal(lw_rules_gateway_tick(e, &r, 1041 * SEC, &st, &v), LW_RULE_CLEAR);
    assert_false(st->active);
    /* Deaf: no frame from any node for the timeout (counted from the first tick). */
    assert_int_equal(lw_rules_gateway_tick(e, &r, 1599 * SEC, &st, &v), LW_RULE_NONE);
    assert_int_equal(lw_rules_gateway_tick(e, &r, 1600 * SEC, &st, &v), LW_RULE_NONE);
    assert_int_equal(lw_rules_gateway_tick(e, &r, 1630 * SEC, &st, &v), LW_RULE_RAISE);
    lw_rules_frame(e, 1631 * SEC);
    assert_int_equal(lw_rules_gateway_tick(e, &r, 1632 * SEC, &st, &v), LW_RULE_CLEAR);
    /* An alert found open at start-up (a new engine: nothing heard yet) is not cleared by the
     * count starting afresh, only by a frame. */
    struct lw_rules *e2 = lw_rules_new();
    assert_non_null(e2);
    assert_null(lw_rules_gateway_state(e2, r.name));
    assert_true(lw_rules_gateway_restore(e2, r.name, 42, 5 * SEC, LW_LEVEL_ORANGE));
    assert_int_equal(lw_rules_gateway_tick(e2, &r, 10 * SEC, &st, &v), LW_RULE_NONE);
    assert_true(st->active && st->alert_id == 42 && v == 1);
    assert_true(lw_rules_gateway_state(e2, r.name) == st);
    lw_rules_frame(e2, 11 * SEC);
    assert_int_equal(lw_rules_gateway_tick(e2, &r, 12 * SEC, &st, &v), LW_RULE_CLEAR);
    lw_rules_free(e2);
    /* Node rules get nothing from the gateway tick; the gateway node is named. */
    struct lw_rule_conf thr = rule(1, 0, 0);
    assert_int_equal(lw_rules_gateway_tick(e, &thr, 2000 * SEC, &st, &v), LW_RULE_NONE);
    assert_null(st);
    assert_string_equal(lw_rules_gateway_node(e, "estate")->name, "gateway");
    lw_rules_free(e);
}

/* ---- water through the FloodNet filter --------------------------------------------------- */

static struct lw_rule_conf floodnet_rule(double threshold, double clear)
{
    struct lw_rule_conf r = rule(threshold, clear, 0);
    r.filter = LW_WATERFILTER_FLOODNET;
    r.noise_floor = 10;
    r.spike = 100;
    r.max_rise = 250;
    r.plateau_tol = 2;
    r.plateau_ms = 3 * MIN;
    return r;
}

static void test_water_rule_filtered(void **state)
{
    struct lw_rule_conf r = floodnet_rule(76, 40);
    static const struct rstep s[] = {
        {5, 0, LW_RULE_NONE, false, 0},           /* noise floor: 0 */
        {400, 1 * MIN, LW_RULE_NONE, false, NAN}, /* impossible rise: dropped */
        {0, 2 * MIN, LW_RULE_NONE, false, 0},
        {180, 3 * MIN, LW_RULE_NONE, false, NAN}, /* jump: held back */
        {3, 4 * MIN, LW_RULE_NONE, false, 0},     /* back: it was a spike */
        {50, 5 * MIN, LW_RULE_NONE, false, 50},
        {80, 6 * MIN, LW_RULE_RAISE, true, 80},   /* gradual water passes at once */
        {200, 7 * MIN, LW_RULE_NONE, true, NAN},  /* a jump waits one reading */
        {230, 8 * MIN, LW_RULE_NONE, true, 230},  /* ... and is water */
        {20, 9 * MIN, LW_RULE_NONE, true, NAN},   /* a sudden drop is held too */
        {21, 10 * MIN, LW_RULE_CLEAR, false, 21}, /* confirmed */
    };
    (void)state;
    RUNW(r, s);
}

/* A frame flagged with a sensor fault carries figures the node itself disowns: a rule neither
 * raises nor clears on them, and they feed no filter, mean or persistence. The alert stays open
 * until a sound reading clears it; the battery (the node's own) is still read. */
static struct lw_reading faulty(double mm)
{
    struct lw_reading rd = water(mm);
    rd.present |= LW_R_FLAGS | LW_R_BATTERY;
    rd.flags = LW_FLAG_FAULT;
    rd.battery_mv = 2900;
    return rd;
}

static void test_faulty_readings_are_not_measurements(void **state)
{
    struct lw_rule_conf flt = floodnet_rule(250, 20), mean = rule(76, 40, 0),
                        held = rule(50, 20, 0);
    struct lw_rules *e = lw_rules_new();
    struct lw_node_conf node = node_at(1, "", "basement");
    struct lw_rule_state sf, sm, sh;
    struct lw_reading rd;
    double v;
    (void)state;
    assert_non_null(e);
    memset(&sf, 0, sizeof(sf));
    memset(&sm, 0, sizeof(sm));
    memset(&sh, 0, sizeof(sh));
    mean.statistic = LW_STAT_MEAN;
    mean.window_ms = 5 * MIN;
    snprintf(mean.name, sizeof(mean.name), "mean");
    held.persistence_ms = 2 * MIN;
    snprintf(held.name, sizeof(held.name), "held");
    /* Water rises gradually to 300 mm: both rules raise on sound readings. */
    int64_t t = 0;
    for (int mm = 0; mm <= 300; mm += 50, t += MIN) {
        rd = water(mm);
        lw_rules_reading(e, &flt, &node, &sf, &rd, t, &v);
        lw_rules_reading(e, &mean, &node, &sm, &rd, t, &v);
    }
    for (int i = 0; i < 5; i++, t += MIN) {
        rd = water(300);
        lw_rules_reading(e, &flt, &node, &sf, &rd, t, &v);
        lw_rules_reading(e, &mean, &node, &sm, &rd, t, &v);
    }
    assert_true(sf.active && sm.active);
    /* Ten minutes of 0 mm from a sensor that reports its own fault: nothing clears. */
    for (int i = 0; i < 10; i++, t += MIN) {
        rd = faulty(0);
        assert_int_equal(lw_rules_reading(e, &flt, &node, &sf, &rd, t, &v), LW_RULE_NONE);
        assert_int_equal(lw_rules_reading(e, &mean, &node, &sm, &rd, t, &v), LW_RULE_NONE);
    }
    assert_true(sf.active && sm.active);
    assert_true(fabs(sm.last - 300) < 1e-6); /* nothing of the 0s went into the mean */
    /* A sound reading at the old level: the filter saw no drop and the mean is 300 still. */
    rd = water(300);
    assert_int_equal(lw_rules_reading(e, &flt, &node, &sf, &rd, t, &v), LW_RULE_NONE);
    assert_true(fabs(v - 300) < 1e-6);
    assert_int_equal(lw_rules_reading(e, &mean, &node, &sm, &rd, t, &v), LW_RULE_NONE);
    assert_true(fabs(v - 300) < 1e-6);
    /* Sound readings of dry ground clear them, as ever. */
    int64_t cleared_f = -1, cleared_m = -1;
    for (int i = 0; i < 10; i++) {
        t += MIN;
        rd = water(0);
        if (lw_rules_reading(e, &flt, &node, &sf, &rd, t, &v) == LW_RULE_CLEAR)
            cleared_f = t;
        if (lw_rules_reading(e, &mean, &node, &sm, &rd, t, &v) == LW_RULE_CLEAR)
            cleared_m = t;
    }
    assert_true(cleared_f > 0 && cleared_m > 0);

    /* Nor does a faulty reading raise, or start (or carry on) a persistence. */
    for (int i = 0; i < 5; i++, t += MIN) {
        rd = faulty(400);
        assert_int_equal(lw_rules_reading(e, &held, &node, &sh, &rd, t, &v), LW_RULE_NONE);
        assert_false(sh.above);
        assert_int_equal(lw_rule_tick(&held, &sh, t, &v), LW_RULE_NONE);
    }
    assert_false(sh.active);
    rd = water(400); /* the first sound reading over starts the persistence afresh */
    assert_int_equal(lw_rules_reading(e, &held, &node, &sh, &rd, t, &v), LW_RULE_NONE);
    assert_int_equal(lw_rules_reading(e, &held, &node, &sh, &rd, t + 2 * MIN, &v), LW_RULE_RAISE);

    /* The node's own battery voltage is no sensor's: its rules still see it. */
    struct lw_rule_conf batt = rule(-2950, -3000, 0); /* below: stored negated */
    struct lw_rule_state sb;
    memset(&sb, 0, sizeof(sb));
    batt.metric = LW_METRIC_BATTERY;
    batt.below = true;
    rd = faulty(0);
    assert_true(lw_metric_value(LW_METRIC_BATTERY, &rd, &v) && v == 2900);
    assert_false(lw_metric_value(LW_METRIC_WATER, &rd, &v));
    assert_int_equal(lw_rules_reading(e, &batt, &node, &sb, &rd, t, &v), LW_RULE_RAISE);
    lw_rules_free(e);
}

/* A car parks under a street sensor for an hour: 1300 mm "deep", flat. The filter cannot tell it
 * from a flooded ramp: after LW_WATERFILTER_HOLD_MAX_MS the alert is raised, marked unconfirmed, and
 * it clears when the car has gone. */
static void test_parked_car_plateau_alarms_unconfirmed(void **state)
{
    struct lw_rule_conf r = floodnet_rule(76, 40);
    struct lw_rules *e = lw_rules_new();
    struct lw_node_conf node = node_at(1, "", "");
    struct lw_rule_state st;
    double v;
    int64_t raised = -1, cleared = -1;
    (void)state;
    memset(&st, 0, sizeof(st));
    for (int m = 0; m < 120; m++) {
        double mm = m >= 10 && m < 70 ? 1300 : 0;
        struct lw_reading rd = water(mm);
        enum lw_rule_event ev = lw_rules_reading(e, &r, &node, &st, &rd, (int64_t)m * MIN, &v);
        if (ev == LW_RULE_RAISE) {
            assert_true(raised < 0 && st.unconfirmed && v == 1300);
            raised = m;
        } else if (ev == LW_RULE_CLEAR) {
            cleared = m;
        }
    }
    /* Too fast a rise from 10 min, kept back for 5 min: raised at 15 min, cleared once the drop
     * at 70 min was confirmed by the next reading. */
    assert_int_equal(raised, 15);
    assert_int_equal(cleared, 71);
    assert_true(lw_rules_filter(e, &r, &node)->passed_unconfirmed > 0);
    lw_rules_free(e);
}

/* Readings every gap through lw_rules_reading, and the ticks the daemon would give between them
 * (when lw_rules_node_due says, and every 10 s); the first raise time, or -1. */
struct series {
    const double *mm;
    int n;
    int64_t gap;
};

static int64_t first_raise(const struct lw_rule_conf *r, const struct lw_node_conf *node,
                           const struct series *s, bool *unconfirmed)
{
    struct lw_rules *e = lw_rules_new();
    struct lw_rule_state st;
    double v;
    int64_t raised = -1;
    memset(&st, 0, sizeof(st));
    for (int i = 0; i < s->n && raised < 0; i++) {
        int64_t t = (int64_t)i * s->gap;
        struct lw_reading rd = water(s->mm[i]);
        if (lw_rules_reading(e, r, node, &st, &rd, t, &v) == LW_RULE_RAISE) {
            raised = t;
            break;
        }
        for (int64_t tick = t + 10 * SEC; tick < t + s->gap; tick += 10 * SEC) {
            int64_t due = lw_rules_node_due(e, r, node, &st);
            int64_t at = due > t && due < tick ? due : tick;
            if (lw_rules_node_tick(e, r, node, &st, at, &v) == LW_RULE_RAISE) {
                raised = at;
                break;
            }
        }
    }
    *unconfirmed = st.unconfirmed;
    lw_rules_free(e);
    return raised;
}

/* xorshift64*: a fixed seed, so a failing series can be replayed. */
static uint64_t rnd(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 2685821657736338717ull;
}

/* Sustained high water always raises the shipped water rules, confirmed or not: seeded series of
 * "water pours down a ramp" (a dry or damp level, a jump straight or through one reading on the
 * way, a level held flat like a car roof, flat within a millimetre, or rippling, then back down),
 * every 15 s to 2 min. For each rule, the same rule without the filter gives the time the raw
 * readings raise it; with the filter it must be raised no later than LW_WATERFILTER_HOLD_MAX_MS plus
 * one reporting gap after that, whenever the high water lasts that long. A single high reading
 * (a spike) raises nothing. */
static void test_sustained_water_always_alerts(void **state)
{
    static const char *const names[] = {"flood-watch", "flood-street", "flood-basement"};
    static const int64_t every[] = {15 * SEC, 30 * SEC, MIN, 2 * MIN};
    struct lw_config *cfg = shipped_config();
    struct lw_node_conf street = node_at(21, "5", ""), basement = node_at(22, "5", "basement");
    uint64_t x = 0x7A11A6E5EEDull;
    int raised = 0, unconfirmed_n = 0;
    (void)state;
    for (int k = 0; k < 1500; k++) {
        const struct lw_rule_conf *r = find_rule(cfg, names[k % 3]);
        struct lw_rule_conf raw = *r;
        raw.filter = LW_WATERFILTER_NONE;
        const struct lw_node_conf *node = k % 3 == 2 ? &basement : &street;
        assert_true(lw_rule_applies(r, node));
        double mm[160];
        struct series s = {mm, 0, every[rnd(&x) % 4]};
        double base = rnd(&x) % 2 ? 0 : (double)(rnd(&x) % 20);
        double high = r->threshold + 1 + (double)(rnd(&x) % 3000);
        int shape = (int)(rnd(&x) % 3), n_high = 1 + (int)(rnd(&x) % 40);
        int first_high;
        for (int i = 0; i < 10; i++)
            mm[s.n++] = base;
        bool ramp = rnd(&x) % 2; /* one reading on the way up */
        if (ramp)
            mm[s.n++] = base + (high - base) * (double)(5 + rnd(&x) % 90) / 100;
        first_high = s.n;
        for (int i = 0; i < n_high; i++)
            mm[s.n++] = high + (shape == 0 ? 0 : shape == 1 ? (double)(i % 2) : i % 2 ? 5 : -5);
        int64_t high_until = (int64_t)s.n * s.gap; /* the first reading back down */
        for (int i = 0; i < 10; i++)
            mm[s.n++] = base;
        bool u, u_raw;
        int64_t t_raw = first_raise(&raw, node, &s, &u_raw);
        int64_t t_f = first_raise(r, node, &s, &u);
        if (n_high == 1 && !ramp && high - base > r->spike && t_f >= 0)
            fail_msg("series %d (%s, every %llds): a single %g mm reading raised it", k, r->name,
                     (long long)(s.gap / 1000), high);
        if (t_raw < 0 || n_high == 1)
            continue;
        int64_t bound = t_raw + LW_WATERFILTER_HOLD_MAX_MS + s.gap;
        if (bound >= high_until)
            continue; /* gone before the filter had to decide */
        if (t_f < 0 || t_f > bound)
            fail_msg("series %d (%s, every %llds, %g -> %g mm from %lld s, shape %d): raw "
                     "readings raise it at %lld s, filtered %lld s (bound %lld s)",
                     k, r->name, (long long)(s.gap / 1000), base, high,
                     (long long)(first_high * s.gap / 1000), shape, (long long)(t_raw / 1000),
                     t_f < 0 ? -1LL : (long long)(t_f / 1000), (long long)(bound / 1000));
        raised++;
        unconfirmed_n += u;
    }
    /* Both kinds occur: the generator is not one-sided. */
    assert_true(raised > 300 && unconfirmed_n > 30 && unconfirmed_n < raised);
    lw_config_free(cfg);
}

/* As first_raise, and the first clear after the raise (-1: none). */
static void raise_and_clear(const struct lw_rule_conf *r, const struct lw_node_conf *node,
                            const struct series *s, int64_t *raised, int64_t *cleared)
{
    struct lw_rules *e = lw_rules_new();
    struct lw_rule_state st;
    double v;
    *raised = *cleared = -1;
    memset(&st, 0, sizeof(st));
    for (int i = 0; i < s->n && *cleared < 0; i++) {
        int64_t t0 = (int64_t)i * s->gap, t = t0;
        struct lw_reading rd = water(s->mm[i]);
        enum lw_rule_event ev = lw_rules_reading(e, r, node, &st, &rd, t, &v);
        for (int64_t tick = t0 + 10 * SEC; ev == LW_RULE_NONE && tick < t0 + s->gap;
             tick += 10 * SEC) {
            int64_t due = lw_rules_node_due(e, r, node, &st);
            t = due > t && due < tick ? due : tick;
            ev = lw_rules_node_tick(e, r, node, &st, t, &v);
        }
        if (ev == LW_RULE_RAISE && *raised < 0)
            *raised = t;
        else if (ev == LW_RULE_CLEAR && *raised >= 0)
            *cleared = t;
    }
    lw_rules_free(e);
}

/* The same, with lost echoes: ultrasonic sensors read 0 mm when they miss the echo (foam,
 * turbulence), here among the high readings at random positions, one in two at most, never two
 * in a row (two readings back down are the water going). Sustained high water is still raised
 * within LW_WATERFILTER_HOLD_MAX_MS plus one reporting gap of when the rule raises on the water
 * itself (the series without the lost echoes, unfiltered); and once the water has gone, the
 * depth rules clear no more than one reading after they would on the water itself. */
static void test_sustained_water_alerts_through_dropouts(void **state)
{
    static const char *const names[] = {"flood-watch", "flood-street", "flood-basement"};
    static const int64_t every[] = {15 * SEC, 30 * SEC, MIN, 2 * MIN};
    struct lw_config *cfg = shipped_config();
    struct lw_node_conf street = node_at(21, "5", ""), basement = node_at(22, "5", "basement");
    uint64_t x = 0xD209D209D209ull;
    int raised = 0, lost_n = 0;
    (void)state;
    for (int k = 0; k < 1500; k++) {
        const struct lw_rule_conf *r = find_rule(cfg, names[k % 3]);
        struct lw_rule_conf raw = *r;
        raw.filter = LW_WATERFILTER_NONE;
        const struct lw_node_conf *node = k % 3 == 2 ? &basement : &street;
        double mm[160], water[160];
        struct series s = {mm, 0, every[rnd(&x) % 4]}, w = {water, 0, s.gap};
        double base = rnd(&x) % 2 ? 0 : (double)(rnd(&x) % 20);
        /* A jump: a lost echo from a depth within r->spike of the old level is a change the
         * filter passes as it comes. */
        double low = r->threshold > base + r->spike ? r->threshold : base + r->spike;
        double high = low + 1 + (double)(rnd(&x) % 3000);
        int shape = (int)(rnd(&x) % 3), n_high = 2 + (int)(rnd(&x) % 40);
        int mode = (int)(rnd(&x) % 4), every_n = 2 + (int)(rnd(&x) % 4);
        bool prev = false;
        for (int i = 0; i < 10; i++, s.n++)
            mm[s.n] = water[s.n] = base;
        for (int i = 0; i < n_high; i++, s.n++) {
            double v = high + (shape == 0 ? 0 : shape == 1 ? (double)(i % 2) : i % 2 ? 5 : -5);
            bool lost = i >= 1 && i <= n_high - 2 && !prev &&
                        (mode == 0   ? i % every_n == 1 /* one in every_n */
                         : mode == 1 ? rnd(&x) % 2 == 0 /* at random, about one in three */
                         : mode == 2 ? rnd(&x) % 5 == 0
                                     : i % 2 == 1); /* one in two */
            water[s.n] = v;
            mm[s.n] = lost ? 0 : v;
            lost_n += prev = lost;
        }
        int64_t high_until = (int64_t)s.n * s.gap; /* the first reading back down */
        for (int i = 0; i < 10; i++, s.n++)
            mm[s.n] = water[s.n] = base;
        w.n = s.n;
        int64_t t_raw, c_raw, t_f, c_f;
        raise_and_clear(&raw, node, &w, &t_raw, &c_raw);
        raise_and_clear(r, node, &s, &t_f, &c_f);
        if (t_raw < 0)
            continue;
        int64_t bound = t_raw + LW_WATERFILTER_HOLD_MAX_MS + s.gap;
        if (bound >= high_until)
            continue; /* gone before the filter had to decide */
        if (t_f < 0 || t_f > bound)
            fail_msg("series %d (%s, every %llds, %g -> %g mm, shape %d, lost echoes %d/%d): "
                     "the water raises it at %lld s, filtered %lld s (bound %lld s)",
                     k, r->name, (long long)(s.gap / 1000), base, high, shape, mode, every_n,
                     (long long)(t_raw / 1000), t_f < 0 ? -1LL : (long long)(t_f / 1000),
                     (long long)(bound / 1000));
        raised++;
        if (r->statistic == LW_STAT_VALUE && c_raw >= 0 && (c_f < 0 || c_f > c_raw + s.gap))
            fail_msg("series %d (%s, every %llds, lost echoes %d/%d): the water clears it at "
                     "%lld s, filtered %lld s",
                     k, r->name, (long long)(s.gap / 1000), mode, every_n,
                     (long long)(c_raw / 1000), c_f < 0 ? -1LL : (long long)(c_f / 1000));
    }
    assert_true(raised > 300 && lost_n > 3000);
    lw_config_free(cfg);
}

/* Issue 15 as it was found: config/scenarios/mesh-chain.ini's B2 garage sensor (no basement
 * tag) reports at 7 s past each minute, 0 mm to 9 min, 300 mm from 10 min (35 mm at 9:07 on the
 * way), for 10 minutes. The shipped street rules must raise, marked unconfirmed. */
static void test_garage_ramp_flood_alerts(void **state)
{
    struct lw_config *cfg = shipped_config();
    struct lw_node_conf garage = node_at(0x0A01, "5", "");
    (void)state;
    double mm[21];
    for (int m = 0; m <= 20; m++)
        mm[m] = m < 9 ? 0 : m == 9 ? 35 : 300;
    struct series s = {mm, 21, MIN};
    static const char *const names[] = {"flood-watch", "flood-street"};
    for (size_t i = 0; i < 2; i++) {
        bool u = false;
        int64_t t = first_raise(find_rule(cfg, names[i]), &garage, &s, &u);
        if (t < 0 || t > 17 * MIN || !u)
            fail_msg("%s: raised at %lld s (-1: never), unconfirmed %d", names[i],
                     t < 0 ? -1LL : (long long)(t / 1000), u);
    }
    lw_config_free(cfg);
}

/* ---- rules as data: the shipped set and the rule keys ----------------------------------- */

static const struct lw_rule_conf *find_rule(const struct lw_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_rules; i++)
        if (strcmp(cfg->rules[i].name, name) == 0)
            return &cfg->rules[i];
    fail_msg("shipped configuration has no rule %s", name);
    return NULL;
}

static void test_shipped_rules(void **state)
{
    (void)state;
    struct lw_config *cfg = shipped_config();
    const struct lw_rule_conf *r;

    r = find_rule(cfg, "flood-watch"); /* FloodNet: 76 mm on the 5-minute mean, filtered */
    assert_int_equal(r->statistic, LW_STAT_MEAN);
    assert_true(r->window_ms == 5 * MIN && r->threshold == 76);
    assert_int_equal(r->filter, LW_WATERFILTER_FLOODNET);
    assert_true(r->noise_floor == 10 && r->max_rise == 250);
    r = find_rule(cfg, "flood-rising");
    assert_int_equal(r->statistic, LW_STAT_RISE);
    assert_int_equal(r->filter, LW_WATERFILTER_FLOODNET);
    assert_int_equal(find_rule(cfg, "flood-street")->filter, LW_WATERFILTER_FLOODNET);
    assert_int_equal(find_rule(cfg, "flood-basement")->filter, LW_WATERFILTER_FLOODNET);
    r = find_rule(cfg, "gas-low"); /* two stages */
    assert_true(r->threshold >= 10 && r->threshold <= 25 && r->metric == LW_METRIC_GAS);
    r = find_rule(cfg, "gas-high");
    assert_true(r->threshold == 50 && r->metric == LW_METRIC_GAS && r->level == LW_LEVEL_RED);
    r = find_rule(cfg, "fire-smoke");
    assert_int_equal(r->coincidence, LW_COINC_BUILDING);
    assert_true(r->coincidence_ms == 60 * SEC && r->persistence_ms == 0);
    assert_int_equal(r->level, LW_LEVEL_ORANGE);
    assert_int_equal(r->filter, LW_WATERFILTER_NONE);
    r = find_rule(cfg, "silence-fire");
    assert_int_equal(r->type, LW_RULE_SILENCE);
    assert_true(r->timeout_ms <= 200 * SEC);
    assert_int_equal(r->hazard, LW_HAZARD_TROUBLE);
    for (int k = LW_KIND_SMOKE; k <= LW_KIND_CO; k++)
        assert_true(r->kinds & (1u << k));
    assert_false(r->kinds & (1u << LW_KIND_WATER));
    r = find_rule(cfg, "silence-water");
    assert_true(r->kinds == 1u << LW_KIND_WATER);
    r = find_rule(cfg, "battery-warn");
    assert_true(r->statistic == LW_STAT_DAYS_LEFT && r->below && r->threshold == -30);
    r = find_rule(cfg, "battery-fault");
    assert_true(r->statistic == LW_STAT_DAYS_LEFT && r->below && r->threshold == -7);
    assert_int_equal(find_rule(cfg, "tamper")->flag, LW_FLAGBIT_TAMPER);
    assert_int_equal(find_rule(cfg, "sensor-fault")->flag, LW_FLAGBIT_FAULT);
    r = find_rule(cfg, "radio-fault");
    assert_int_equal(r->type, LW_RULE_RADIO_FAULT);
    assert_true(r->kinds == 0);

    /* The shipped CO rule itself meets EN 50291 at a reading a minute. */
    r = find_rule(cfg, "co-twa");
    double t50 = co_alarm_min(r, 50, MIN, 240), t100 = co_alarm_min(r, 100, MIN, 240),
           t300 = co_alarm_min(r, 300, MIN, 240);
    assert_true(t50 >= 60 && t50 <= 90);
    assert_true(t100 >= 10 && t100 <= 40);
    assert_true(t300 >= 0 && t300 <= 3);
    assert_true(co_alarm_min(r, 30, MIN, 120) < 0);
    lw_config_free(cfg);
}

struct errs {
    char text[4096];
    int n;
};

static void collect(void *arg, const char *msg)
{
    struct errs *e = arg;
    size_t l = strlen(e->text);
    snprintf(e->text + l, sizeof(e->text) - l, "%s\n", msg);
    e->n++;
}

static void test_rule_keys_checked(void **state)
{
    /* Each bad section and the error it must give, as file:line. */
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"[rule:r]\nmetric = water_mm\nthreshold = 5\nclear = 1\nlevel = red\nstatistic = rise\n",
         "t.conf:6: [rule:r] statistic = rise: needs a window"},
        {"[rule:r]\nmetric = water_mm\nthreshold = 5\nclear = 1\nlevel = red\nwindow = 5m\n",
         "t.conf:6: [rule:r] window: only for statistic mean, rise, twa or days_left"},
        {"[rule:r]\nmetric = co_ppm\nthreshold = 40\nclear = 20\nlevel = red\nstatistic = twa\n"
         "window = 1h\nexponent = 9\n",
         "t.conf:8: [rule:r] exponent = 9: must be in 1..4"},
        {"[rule:r]\nmetric = co_ppm\nthreshold = 40\nclear = 20\nlevel = red\nexponent = 2\n",
         "t.conf:6: [rule:r] exponent: only for statistic = twa"},
        {"[rule:r]\nmetric = battery_mv\nthreshold = 30\nclear = 45\nlevel = red\n"
         "statistic = days_left\nwindow = 7d\n",
         "[rule:r] clear = 45: must be below threshold 30 for a rising rule"},
        {"[rule:r]\nmetric = battery_mv\nthreshold = 3\nclear = 1\nlevel = red\n"
         "statistic = days_left\nwindow = 7d\n",
         "t.conf:6: [rule:r] statistic = days_left: needs direction = below"},
        {"[rule:r]\nmetric = gas_lel\nthreshold = 20\nclear = 10\nlevel = red\nfilter = floodnet\n",
         "t.conf:6: [rule:r] filter = floodnet: only for metric water_mm"},
        {"[rule:r]\nmetric = water_mm\nthreshold = 20\nclear = 10\nlevel = red\nfilter = auto\n",
         "t.conf:6: [rule:r] filter = auto: must be one of: none, floodnet"},
        {"[rule:r]\nmetric = gas_lel\nthreshold = 20\nclear = 10\nlevel = red\nspike = 30\n",
         "t.conf:6: [rule:r] spike: only with filter = floodnet"},
        {"[rule:r]\nmetric = water_mm\nthreshold = 20\nclear = 10\nlevel = red\nmax_rise = 5\n",
         "t.conf:6: [rule:r] max_rise: only with filter = floodnet"},
        {"[rule:r]\nmetric = water_mm\nthreshold = 20\nclear = 10\nlevel = red\n"
         "filter = floodnet\nmax_rise = 0\n",
         "t.conf:7: [rule:r] max_rise = 0: must be in 1..65535 mm/min"},
        {"[rule:r]\nmetric = water_mm\nthreshold = 20\nclear = 10\nlevel = red\nstatistic = sum\n",
         "t.conf:6: [rule:r] statistic = sum: must be one of: value, mean, rise, twa, days_left"},
        {"[rule:r]\nmetric = smoke\nthreshold = 1\nclear = 0\nlevel = red\ncoincidence = street\n",
         "t.conf:6: [rule:r] coincidence = street: must be one of: none, building, zone"},
        {"[rule:s]\ntype = silence\nlevel = blue\n",
         "t.conf:1: [rule:s] timeout: a silence rule needs a timeout of at least 1 s"},
        {"[rule:s]\ntype = silence\nlevel = blue\ntimeout = 200s\nthreshold = 3\n",
         "t.conf:5: [rule:s] threshold: not a key of type = silence rules"},
        {"[rule:s]\ntype = silence\nlevel = blue\ntimeout = 200s\ndirection = below\n",
         "t.conf:5: [rule:s] direction: not a key of type = silence rules"},
        {"[rule:f]\ntype = flag\nlevel = blue\n",
         "t.conf:1: [rule:f]: a flag rule needs flag = fault, tamper or low_battery"},
        {"[rule:f]\ntype = flag\nlevel = blue\nflag = smoke\n",
         "t.conf:4: [rule:f] flag = smoke: must be one of: none, fault, tamper, low_battery"},
        {"[rule:g]\ntype = radio_fault\nlevel = blue\ntags = basement\n",
         "t.conf:4: [rule:g] tags: not a key of type = radio_fault rules"},
        {"[rule:t]\ntype = threshold\nlevel = blue\n",
         "t.conf:1: [rule:t]: missing required key 'metric'"},
        {"[rule:t]\ntype = alarm\nlevel = blue\n",
         "t.conf:2: [rule:t] type = alarm: must be one of: threshold, silence, flag, radio_fault"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct errs e;
        memset(&e, 0, sizeof(e));
        struct lw_config *cfg =
            lw_config_parse("t.conf", cases[i].text, strlen(cases[i].text), collect, &e);
        if (cfg || !strstr(e.text, cases[i].want))
            fail_msg("case %zu: expected \"%s\", got:\n%s", i, cases[i].want, e.text);
    }
}

static void test_rule_keys_parsed(void **state)
{
    static const char text[] = "[rule:s]\ntype = silence\nlevel = yellow\ntimeout = 3m\n"
                               "[rule:f]\ntype = flag\nflag = low_battery\nlevel = blue\n"
                               "kinds = smoke\n"
                               "[rule:w]\nmetric = water_mm\nthreshold = 5\nclear = 1\n"
                               "level = red\n"
                               "[rule:c]\nmetric = smoke\nthreshold = 1\nclear = 0\n"
                               "level = blue\ncoincidence = zone\ncoincidence_window = 2m\n";
    struct errs e;
    (void)state;
    memset(&e, 0, sizeof(e));
    struct lw_config *cfg = lw_config_parse("t.conf", text, strlen(text), collect, &e);
    if (!cfg)
        fail_msg("%s", e.text);
    assert_int_equal(cfg->rules[0].type, LW_RULE_SILENCE);
    assert_true(cfg->rules[0].timeout_ms == 3 * MIN);
    assert_int_equal(cfg->rules[0].hazard, LW_HAZARD_TROUBLE);
    assert_true(cfg->rules[0].kinds == (1u << LW_KIND_COUNT) - 1);
    assert_int_equal(cfg->rules[1].flag, LW_FLAGBIT_LOW_BATTERY);
    assert_true(cfg->rules[1].kinds == 1u << LW_KIND_SMOKE);
    assert_true(cfg->rules[1].threshold == 1 && cfg->rules[1].clear == 0);
    assert_int_equal(cfg->rules[2].filter, LW_WATERFILTER_NONE);
    assert_int_equal(cfg->rules[3].coincidence, LW_COINC_ZONE);
    assert_true(cfg->rules[3].coincidence_ms == 2 * MIN);
    assert_string_equal(lw_rule_value_unit(&cfg->rules[0]), "s");
    assert_string_equal(lw_rule_type_name(cfg->rules[1].type), "flag");
    lw_config_free(cfg);
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
        cmocka_unit_test(test_sliding_mean),
        cmocka_unit_test(test_mean_with_persistence),
        cmocka_unit_test(test_rate_of_rise),
        cmocka_unit_test(test_rise_exact_slope),
        cmocka_unit_test(test_prime_resumes_rise),
        cmocka_unit_test(test_prime_never_clears_restored_alert),
        cmocka_unit_test(test_prime_forgotten_when_clock_began_again),
        cmocka_unit_test(test_prime_only_history_rules),
        cmocka_unit_test(test_prime_resumes_persistence),
        cmocka_unit_test(test_statistic_history_is_bounded),
        cmocka_unit_test(test_co_twa_en50291_windows),
        cmocka_unit_test(test_co_twa_clears_after_fresh_air),
        cmocka_unit_test(test_co_twa_restored_alarm_holds),
        cmocka_unit_test(test_persistence_raised_on_tick),
        cmocka_unit_test(test_held_jump_counts_from_its_time),
        cmocka_unit_test(test_flat_basement_flood_is_water),
        cmocka_unit_test(test_recalibration_never_clears),
        cmocka_unit_test(test_recalibration_lowered_offset),
        cmocka_unit_test(test_recalibration_moves_history),
        cmocka_unit_test(test_recalibration_pinned_mean),
        cmocka_unit_test(test_recalibration_keeps_rise),
        cmocka_unit_test(test_recalibration_pins_exceedance),
        cmocka_unit_test(test_jump_then_quiet_is_raised),
        cmocka_unit_test(test_battery_days_left),
        cmocka_unit_test(test_flag_rules),
        cmocka_unit_test(test_silence_from_ticks),
        cmocka_unit_test(test_smoke_coincidence),
        cmocka_unit_test(test_coincidence_by_zone_tag_and_rule),
        cmocka_unit_test(test_coincidence_restored_alarm),
        cmocka_unit_test(test_radio_fault),
        cmocka_unit_test(test_water_rule_filtered),
        cmocka_unit_test(test_faulty_readings_are_not_measurements),
        cmocka_unit_test(test_parked_car_plateau_alarms_unconfirmed),
        cmocka_unit_test(test_sustained_water_always_alerts),
        cmocka_unit_test(test_sustained_water_alerts_through_dropouts),
        cmocka_unit_test(test_garage_ramp_flood_alerts),
        cmocka_unit_test(test_shipped_rules),
        cmocka_unit_test(test_rule_keys_checked),
        cmocka_unit_test(test_rule_keys_parsed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
