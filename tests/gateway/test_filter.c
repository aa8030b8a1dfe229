/* Unit tests of lw_filter: FloodNet-style cleaning of water depth, table-driven with injected
 * time: noise floor, spikes, impossible rises, plateaus, held jumps and what comes out of them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "lw_filter.h"

#define MIN 60000

/* DOMAIN.md defaults: < 10 mm is 0, rises over 250 mm/min are artefacts; ours: jumps over
 * 100 mm wait a reading, flat within 2 mm for 3 min after a jump is a plateau. */
static const struct lw_filter_conf defaults = {
    .noise_floor = 10,
    .spike = 100,
    .max_rise = 250,
    .plateau_tol = 2,
    .plateau_ms = 3 * MIN,
};

struct step {
    double v;
    int64_t t_ms;
    enum lw_filter_result res;
    int n_out;       /* readings released */
    double last_out; /* the newest released value (when n_out > 0) */
};

static void run(const struct lw_filter_conf *c, const struct step *s, size_t n)
{
    struct lw_filter f;
    memset(&f, 0, sizeof(f));
    for (size_t i = 0; i < n; i++) {
        struct lw_sample out[LW_FILTER_HOLD + 1];
        size_t n_out = 99;
        enum lw_filter_result r = lw_filter_feed(c, &f, s[i].v, s[i].t_ms, out, &n_out);
        if (r != s[i].res || (int)n_out != s[i].n_out ||
            (n_out && fabs(out[n_out - 1].v - s[i].last_out) > 1e-9))
            fail_msg("step %zu (%g mm at %lld min): result %d, %zu out (last %g); expected %d, "
                     "%d (last %g)",
                     i, s[i].v, (long long)(s[i].t_ms / MIN), r, n_out,
                     n_out ? out[n_out - 1].v : -1, s[i].res, s[i].n_out, s[i].last_out);
        for (size_t k = 1; k < n_out; k++)
            assert_true(out[k - 1].t_ms <= out[k].t_ms); /* oldest first */
    }
}

#define RUN(c, s) run(&(c), (s), sizeof(s) / sizeof((s)[0]))

static void test_noise_floor(void **state)
{
    static const struct step s[] = {
        {0, 0, LW_FILT_PASS, 1, 0},         {9.9, 1 * MIN, LW_FILT_PASS, 1, 0},
        {10, 2 * MIN, LW_FILT_PASS, 1, 10}, {35, 3 * MIN, LW_FILT_PASS, 1, 35},
        {4, 4 * MIN, LW_FILT_PASS, 1, 0},
    };
    (void)state;
    RUN(defaults, s);
}

static void test_single_sample_spike_dropped(void **state)
{
    static const struct step s[] = {
        {20, 0, LW_FILT_PASS, 1, 20},
        {240, 1 * MIN, LW_FILT_HOLD, 0, 0}, /* +220 mm in a minute: possible, but a jump */
        {22, 2 * MIN, LW_FILT_PASS, 1, 22}, /* back: the 240 never reaches a rule */
        {21, 3 * MIN, LW_FILT_PASS, 1, 21},
        {0, 4 * MIN, LW_FILT_PASS, 1, 0},   /* 21 -> 0 is within the spike size */
        {150, 5 * MIN, LW_FILT_HOLD, 0, 0}, /* downward spikes too: */
        {0, 6 * MIN, LW_FILT_PASS, 1, 0},
        {300, 20 * MIN, LW_FILT_HOLD, 0, 0},
        {40, 21 * MIN, LW_FILT_PASS, 1, 40}, /* back within 100 mm of the level */
    };
    (void)state;
    RUN(defaults, s);
}

static void test_impossible_rise_dropped(void **state)
{
    static const struct step s[] = {
        {0, 0, LW_FILT_PASS, 1, 0},
        {260, 1 * MIN, LW_FILT_DROP, 0, 0}, /* 260 mm/min > 250 */
        {0, 2 * MIN, LW_FILT_PASS, 1, 0},
        {200, 2 * MIN + 30000, LW_FILT_DROP, 0, 0}, /* 400 mm/min */
        {250, 3 * MIN, LW_FILT_HOLD, 0, 0},         /* exactly 250 mm/min: possible, but a jump */
        {255, 4 * MIN, LW_FILT_PASS, 2, 255},       /* moving on: water, both released */
        {255, 4 * MIN, LW_FILT_PASS, 1, 255},       /* same time, no rise: fine */
        {256, 4 * MIN, LW_FILT_DROP, 0, 0},         /* same time, a rise: no rate is possible */
        {100, 3 * MIN, LW_FILT_DROP, 0, 0},         /* older than the level: stale */
    };
    (void)state;
    RUN(defaults, s);
}

static void test_sustained_fast_rise_accepted_once_possible(void **state)
{
    /* A real 600 mm wall of water arriving within a minute and staying, rippling: dropped while
     * the average rate from the last accepted level is impossible, then held, then accepted. */
    static const struct step s[] = {
        {0, 0, LW_FILT_PASS, 1, 0},           {600, 1 * MIN, LW_FILT_DROP, 0, 0}, /* 600 mm/min */
        {610, 2 * MIN, LW_FILT_DROP, 0, 0},                                       /* 305 mm/min */
        {605, 3 * MIN, LW_FILT_HOLD, 0, 0}, /* 202 mm/min: possible; a jump, held */
        {615, 4 * MIN, LW_FILT_PASS, 2, 615},
    };
    (void)state;
    RUN(defaults, s);
}

static void test_parked_car_plateau_removed(void **state)
{
    static const struct step s[] = {
        {0, 0, LW_FILT_PASS, 1, 0},
        {400, 10 * MIN, LW_FILT_HOLD, 0, 0}, /* a van parks: 40 mm/min since the level */
        {401, 11 * MIN, LW_FILT_HOLD, 0, 0}, /* flat */
        {400, 12 * MIN, LW_FILT_HOLD, 0, 0},
        {399, 13 * MIN, LW_FILT_DROP, 0, 0}, /* flat for 3 min: a plateau, all dropped */
        {400, 14 * MIN, LW_FILT_DROP, 0, 0}, /* still the van */
        {402, 40 * MIN, LW_FILT_DROP, 0, 0},
        {0, 41 * MIN, LW_FILT_PASS, 1, 0},   /* it leaves */
        {12, 42 * MIN, LW_FILT_PASS, 1, 12}, /* rain starts: gradual water passes */
    };
    struct lw_filter_conf off = defaults;
    static const struct step s_off[] = {
        {0, 0, LW_FILT_PASS, 1, 0},
        {400, 10 * MIN, LW_FILT_HOLD, 0, 0},
        {400, 11 * MIN, LW_FILT_PASS, 2, 400}, /* plateau removal off: confirmed as depth */
    };
    (void)state;
    RUN(defaults, s);
    off.plateau_ms = 0;
    RUN(off, s_off);
}

static void test_plateau_needs_an_upward_jump(void **state)
{
    /* Water that falls suddenly and stays flat is not a plateau: it is accepted. */
    static const struct step s[] = {
        {50, 0, LW_FILT_PASS, 1, 50},         {100, 1 * MIN, LW_FILT_PASS, 1, 100},
        {180, 2 * MIN, LW_FILT_PASS, 1, 180}, {300, 3 * MIN, LW_FILT_HOLD, 0, 0},
        {300, 4 * MIN, LW_FILT_HOLD, 0, 0},   /* flat after an upward jump: held ... */
        {310, 5 * MIN, LW_FILT_PASS, 3, 310}, /* ... moved: water after all, all released */
        {0, 6 * MIN, LW_FILT_HOLD, 0, 0},     /* a pump empties the pit */
        {0, 7 * MIN, LW_FILT_PASS, 2, 0},     /* flat at the new level: accepted */
    };
    (void)state;
    RUN(defaults, s);
}

static void test_long_hold_keeps_bounded(void **state)
{
    /* Readings every 5 s with a 3 min plateau time: more flat readings than the hold buffer. */
    struct lw_filter f;
    struct lw_sample out[LW_FILTER_HOLD + 1];
    size_t n;
    (void)state;
    memset(&f, 0, sizeof(f));
    assert_int_equal(lw_filter_feed(&defaults, &f, 0, 0, out, &n), LW_FILT_PASS);
    int64_t t = 10 * MIN;
    assert_int_equal(lw_filter_feed(&defaults, &f, 500, t, out, &n), LW_FILT_HOLD);
    for (t += 5000; t < 13 * MIN; t += 5000) {
        assert_int_equal(lw_filter_feed(&defaults, &f, 500, t, out, &n), LW_FILT_HOLD);
        assert_true(f.n_held <= LW_FILTER_HOLD);
    }
    assert_int_equal(lw_filter_feed(&defaults, &f, 500, t, out, &n), LW_FILT_DROP);
    assert_true(f.in_plateau);
    /* A fresh filter takes the first reading as the level, whatever it is. */
    memset(&f, 0, sizeof(f));
    assert_int_equal(lw_filter_feed(&defaults, &f, 900, 0, out, &n), LW_FILT_PASS);
    assert_int_equal(n, 1);
    assert_true(out[0].v == 900);
}

/* A jump the node never followed up (it went quiet) is released as water once the node has been
 * quiet for two and a half of its reporting gaps (at least 2 min); not while readings come. */
static void test_quiet_after_jump_released(void **state)
{
    struct lw_filter f;
    struct lw_sample out[LW_FILTER_HOLD + 1];
    size_t n;
    (void)state;
    memset(&f, 0, sizeof(f));
    assert_int_equal(lw_filter_release_due(&f), INT64_MAX);
    assert_int_equal(lw_filter_feed(&defaults, &f, 0, 0, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_filter_feed(&defaults, &f, 0, 1 * MIN, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_filter_feed(&defaults, &f, 180, 2 * MIN, out, &n), LW_FILT_HOLD);
    assert_int_equal(lw_filter_release_due(&f), 2 * MIN + 150000); /* 2.5 x 60 s */
    assert_int_equal(lw_filter_release(&f, 4 * MIN, out), 0);
    assert_int_equal(lw_filter_release(&f, 2 * MIN + 150000, out), 1);
    assert_true(out[0].v == 180 && out[0].t_ms == 2 * MIN);
    assert_true(f.level.v == 180 && f.n_held == 0);
    assert_int_equal(lw_filter_release_due(&f), INT64_MAX);
    /* A drop that is never followed up stays held: silence must not clear an alarm. */
    assert_int_equal(lw_filter_feed(&defaults, &f, 0, 6 * MIN, out, &n), LW_FILT_HOLD);
    assert_int_equal(lw_filter_release_due(&f), INT64_MAX);
    assert_int_equal(lw_filter_release(&f, 600 * MIN, out), 0);
    /* Fast reports: the 2 min floor. A spike that comes back in time is still dropped. */
    memset(&f, 0, sizeof(f));
    assert_int_equal(lw_filter_feed(&defaults, &f, 0, 0, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_filter_feed(&defaults, &f, 0, 15000, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_filter_feed(&defaults, &f, 0, 30000, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_filter_feed(&defaults, &f, 120, 60000, out, &n), LW_FILT_HOLD);
    assert_int_equal(lw_filter_release_due(&f), 60000 + LW_FILTER_QUIET_MIN_MS);
    assert_int_equal(lw_filter_feed(&defaults, &f, 0, 75000, out, &n), LW_FILT_PASS);
    assert_int_equal(f.dropped_spike, 1);
    assert_int_equal(lw_filter_release(&f, 10 * MIN, out), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_noise_floor),
        cmocka_unit_test(test_single_sample_spike_dropped),
        cmocka_unit_test(test_impossible_rise_dropped),
        cmocka_unit_test(test_sustained_fast_rise_accepted_once_possible),
        cmocka_unit_test(test_parked_car_plateau_removed),
        cmocka_unit_test(test_plateau_needs_an_upward_jump),
        cmocka_unit_test(test_long_hold_keeps_bounded),
        cmocka_unit_test(test_quiet_after_jump_released),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
