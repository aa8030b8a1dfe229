/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_waterfilter: FloodNet-style cleaning of water depth, table-driven with injected
 * time: noise floor, spikes, impossible rises, plateaus, held jumps and what comes out of them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "lw_waterfilter.h"

#define MIN 60000

/* DOMAIN.md defaults: < 10 mm is 0, rises over 250 mm/min are artefacts; ours: jumps over
 * 100 mm wait a reading, flat within 2 mm for 3 min after a jump is a plateau. */
static const struct lw_waterfilter_conf defaults = {
    .noise_floor = 10,
    .spike = 100,
    .max_rise = 250,
    .plateau_tol = 2,
    .plateau_ms = 3 * MIN,
};

struct step {
    double v;
    int64_t t_ms;
    enum lw_waterfilter_result res;
    int n_out;       /* readings released */
    double last_out; /* the newest released value (when n_out > 0) */
};

static void run(const struct lw_waterfilter_conf *c, const struct step *s, size_t n)
{
    struct lw_waterfilter f;
    memset(&f, 0, sizeof(f));
    for (size_t i = 0; i < n; i++) {
        struct lw_sample out[LW_WATERFILTER_HOLD + 1];
        size_t n_out = 99;
        enum lw_waterfilter_result r = lw_waterfilter_feed(c, &f, s[i].v, s[i].t_ms, out, &n_out);
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

/* A van parks under the sensor: flat for plateau_time after an upward jump. It may be a car roof
 * or a flooded ramp; the filter cannot tell, so it passes the readings on marked unconfirmed
 * instead of removing them, and water moving off the flat level confirms it. */
static void test_parked_car_plateau_passed_unconfirmed(void **state)
{
    static const struct step s[] = {
        {0, 0, LW_FILT_PASS, 1, 0},
        {400, 10 * MIN, LW_FILT_HOLD, 0, 0}, /* a van parks: 40 mm/min since the level */
        {401, 11 * MIN, LW_FILT_HOLD, 0, 0}, /* flat */
        {400, 12 * MIN, LW_FILT_HOLD, 0, 0},
        {399, 13 * MIN, LW_FILT_PASS, 4, 399}, /* flat for 3 min: passed on, unconfirmed */
        {400, 14 * MIN, LW_FILT_PASS, 1, 400}, /* still the van, or still water */
        {401, 40 * MIN, LW_FILT_PASS, 1, 401},
        {0, 41 * MIN, LW_FILT_HOLD, 0, 0},   /* it leaves: a drop waits a reading */
        {0, 42 * MIN, LW_FILT_PASS, 2, 0},   /* confirmed: gone */
        {12, 43 * MIN, LW_FILT_PASS, 1, 12}, /* rain starts: gradual water passes */
    };
    static const bool unconfirmed[] = {0, 0, 0, 0, 1, 1, 1, 1, 0, 0};
    struct lw_waterfilter f;
    (void)state;
    memset(&f, 0, sizeof(f));
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        struct lw_sample out[LW_WATERFILTER_HOLD + 1];
        size_t n;
        enum lw_waterfilter_result r = lw_waterfilter_feed(&defaults, &f, s[i].v, s[i].t_ms, out, &n);
        if (r != s[i].res || (int)n != s[i].n_out || f.unconfirmed != unconfirmed[i])
            fail_msg("step %zu: result %d, %zu out, unconfirmed %d", i, r, n, f.unconfirmed);
    }
    assert_int_equal(f.passed_unconfirmed, 4);
    /* Flat water that ripples off the plateau band is confirmed at once. */
    static const struct step w[] = {
        {0, 0, LW_FILT_PASS, 1, 0},
        {300, 2 * MIN, LW_FILT_HOLD, 0, 0},
        {300, 3 * MIN, LW_FILT_HOLD, 0, 0},
        {300, 4 * MIN, LW_FILT_HOLD, 0, 0},
        {300, 5 * MIN, LW_FILT_PASS, 4, 300},
        {305, 6 * MIN, LW_FILT_PASS, 1, 305}, /* moved like water */
    };
    RUN(defaults, w);
    memset(&f, 0, sizeof(f));
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        struct lw_sample out[LW_WATERFILTER_HOLD + 1];
        size_t n;
        lw_waterfilter_feed(&defaults, &f, w[i].v, w[i].t_ms, out, &n);
        assert_int_equal(f.unconfirmed, i == 4);
    }
    struct lw_waterfilter_conf off = defaults;
    static const struct step s_off[] = {
        {0, 0, LW_FILT_PASS, 1, 0},
        {400, 10 * MIN, LW_FILT_HOLD, 0, 0},
        {400, 11 * MIN, LW_FILT_PASS, 2, 400}, /* plateau step off: confirmed as depth */
    };
    off.plateau_ms = 0;
    RUN(off, s_off);
}

/* However long plateau_time is set, and however far a rise is beyond max_rise, a depth that stays
 * is kept back no longer than LW_WATERFILTER_HOLD_MAX_MS while the node reports. */
static void test_hold_is_bounded(void **state)
{
    struct lw_waterfilter_conf slow = defaults, steep = defaults;
    slow.plateau_ms = steep.plateau_ms = 60 * MIN;
    slow.max_rise = 1000;
    static const struct step s[] = {
        {0, 0, LW_FILT_PASS, 1, 0},
        {900, 1 * MIN, LW_FILT_HOLD, 0, 0},   /* 900 mm/min: possible here, a jump */
        {900, 2 * MIN, LW_FILT_HOLD, 0, 0},   /* flat: held */
        {900, 5 * MIN, LW_FILT_HOLD, 0, 0},   /* 4 min: held still */
        {900, 6 * MIN, LW_FILT_PASS, 4, 900}, /* 5 min: passed on, unconfirmed */
    };
    /* 3 m within a minute, at 250 mm/min possible only after 12 min: passed after 5. */
    static const struct step r[] = {
        {0, 0, LW_FILT_PASS, 1, 0},
        {3000, 1 * MIN, LW_FILT_DROP, 0, 0},
        {3000, 5 * MIN, LW_FILT_DROP, 0, 0},
        {3000, 6 * MIN, LW_FILT_PASS, 1, 3000},
        {3000, 7 * MIN, LW_FILT_PASS, 1, 3000},
    };
    (void)state;
    RUN(slow, s);
    RUN(steep, r);
}

/* xorshift64*: a fixed seed, so a failure names a series that can be replayed. */
static uint64_t rnd(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 2685821657736338717ull;
}

static double uniform(uint64_t *x, double lo, double hi)
{
    return lo + (hi - lo) * (double)(rnd(x) >> 11) / 9007199254740992.0;
}

/* Generated series of the shape "water pours down a ramp": a dry or damp level, a jump (straight,
 * or through one reading on the way up), a high level held for 1 to 30 readings (flat to the
 * millimetre like a car roof, flat within 1 mm, or rippling like water), then back down. Reports
 * every 15 s to 2 min. Whatever the shape: every high reading at or after LW_WATERFILTER_HOLD_MAX_MS
 * from the first one kept back is passed on; a rippling level is confirmed by its second reading
 * passed; and a single high reading (a spike) never comes out. */
static void test_jump_then_flat_generated(void **state)
{
    static const int64_t every[] = {15000, 30000, MIN, 2 * MIN};
    uint64_t x = 0x15F1A7C0FFEEull;
    (void)state;
    for (int k = 0; k < 4000; k++) {
        int64_t gap = every[rnd(&x) % 4];
        double base = rnd(&x) % 2 ? 0 : uniform(&x, 0, 60);
        double high = uniform(&x, base + defaults.spike + 1, 3000);
        int shape = (int)(rnd(&x) % 3); /* 0 exact, 1 within 1 mm, 2 ripples of 5 mm */
        bool ramp = rnd(&x) % 2;
        int n_high = 1 + (int)(rnd(&x) % 30);
        struct lw_waterfilter f;
        struct lw_sample out[LW_WATERFILTER_HOLD + 1];
        size_t n;
        memset(&f, 0, sizeof(f));
        int64_t t = 0, first_high = -1, kept = -1;
        int passed_high = 0;
        for (int i = 0; i < 5; i++, t += gap)
            lw_waterfilter_feed(&defaults, &f, base, t, out, &n);
        if (ramp) {
            double mid = base + (high - base) * uniform(&x, 0.05, 0.95);
            if (lw_waterfilter_feed(&defaults, &f, mid, t, out, &n) != LW_FILT_PASS)
                kept = t;
            t += gap;
        }
        for (int i = 0; i < n_high; i++, t += gap) {
            double v = high;
            if (shape == 1)
                v += (double)(rnd(&x) % 3) - 1;
            else if (shape == 2)
                v += i % 2 ? 5 : -5;
            if (first_high < 0)
                first_high = t;
            enum lw_waterfilter_result r = lw_waterfilter_feed(&defaults, &f, v, t, out, &n);
            if (r != LW_FILT_PASS && kept < 0)
                kept = t;
            if (r == LW_FILT_PASS)
                passed_high++;
            if (n_high == 1 && !ramp && r == LW_FILT_PASS)
                fail_msg("series %d: a single high reading passed at once", k);
            if (kept >= 0 && t - kept >= LW_WATERFILTER_HOLD_MAX_MS && r != LW_FILT_PASS)
                fail_msg("series %d (every %llds, %g -> %g mm, shape %d, ramp %d): reading %d "
                         "kept back %lld s after the first",
                         k, (long long)(gap / 1000), base, high, shape, ramp, i,
                         (long long)((t - kept) / 1000));
            if (r == LW_FILT_PASS && shape == 2 && passed_high >= 2 && f.unconfirmed)
                fail_msg("series %d: rippling water still unconfirmed", k);
        }
        for (int i = 0; i < 5; i++, t += gap) {
            lw_waterfilter_feed(&defaults, &f, base, t, out, &n);
            for (size_t j = 0; n_high == 1 && !ramp && j < n; j++)
                if (out[j].v > base + defaults.spike)
                    fail_msg("series %d: a single-sample spike of %g mm came out", k, high);
        }
    }
}

/* Where the water stands, which readings are lost echoes (0 mm: an ultrasonic sensor that
 * misses its echo reads 0), never two in a row: two readings back down are the water going. */
static bool dropout_at(uint64_t *x, int mode, int i, int n, bool prev)
{
    if (i < 1 || i > n - 2 || prev)
        return false;
    switch (mode) {
    case 0:
        return i % 2 == 1; /* one in two */
    case 1:
        return i % 3 == 1; /* one in three */
    case 2:
        return i % 5 == 2; /* one in five */
    case 3:
        return rnd(x) % 2 == 0; /* at random, about one in three */
    default:
        return rnd(x) % 10 == 0; /* at random, now and then */
    }
}

/* The generated series above, with lost echoes (0 mm) among the high readings, one in two at
 * most. A lost echo in a rise held back does not throw the held readings away, nor does it
 * restart the bound: every high reading at or after LW_WATERFILTER_HOLD_MAX_MS from the first one
 * kept back is passed on; once the rise has been seen twice no lost echo is passed on; and two
 * readings back at the old level after the water are taken at once (the water went). */
static void test_dropouts_generated(void **state)
{
    static const int64_t every[] = {15000, 30000, MIN, 2 * MIN};
    uint64_t x = 0xD209F00D5EEDull;
    (void)state;
    for (int k = 0; k < 4000; k++) {
        int64_t gap = every[rnd(&x) % 4];
        double base = rnd(&x) % 2 ? 0 : uniform(&x, 0, 60);
        double high = uniform(&x, base + defaults.spike + 1, 3000);
        int shape = (int)(rnd(&x) % 3); /* 0 exact, 1 within 1 mm, 2 ripples of 5 mm */
        int mode = (int)(rnd(&x) % 5);
        int n_high = 2 + (int)(rnd(&x) % 30);
        struct lw_waterfilter f;
        struct lw_sample out[LW_WATERFILTER_HOLD + 1];
        size_t n;
        memset(&f, 0, sizeof(f));
        int64_t t = 0, kept = -1, seen_twice = -1;
        int n_seen = 0;
        bool prev = false, lost[40] = {false};
        for (int i = 0; i < 5; i++, t += gap)
            lw_waterfilter_feed(&defaults, &f, base, t, out, &n);
        int64_t t0 = t;
        for (int i = 0; i < n_high; i++, t += gap) {
            bool d = prev = lost[i] = dropout_at(&x, mode, i, n_high, prev);
            double v = d ? 0
                         : high + (shape == 1   ? (double)(rnd(&x) % 3) - 1
                                   : shape == 2 ? (i % 2 ? 5 : -5)
                                                : 0);
            enum lw_waterfilter_result r = lw_waterfilter_feed(&defaults, &f, v, t, out, &n);
            if (r != LW_FILT_PASS && kept < 0)
                kept = t;
            if (!d && ++n_seen == 2)
                seen_twice = t;
            for (size_t j = 0; j < n; j++) {
                int at = (int)((out[j].t_ms - t0) / gap);
                if (out[j].t_ms >= t0 && lost[at] && seen_twice >= 0 && out[j].t_ms > seen_twice)
                    fail_msg("series %d (every %llds, %g -> %g mm, mode %d): the lost echo at "
                             "%lld s was passed on",
                             k, (long long)(gap / 1000), base, high, mode,
                             (long long)(out[j].t_ms / 1000));
            }
            if (!d && kept >= 0 && t - kept >= LW_WATERFILTER_HOLD_MAX_MS && r != LW_FILT_PASS)
                fail_msg("series %d (every %llds, %g -> %g mm, shape %d, mode %d): reading %d "
                         "kept back %lld s after the first",
                         k, (long long)(gap / 1000), base, high, shape, mode, i,
                         (long long)((t - kept) / 1000));
        }
        /* The water goes: the second reading back down is taken, with the first. */
        lw_waterfilter_feed(&defaults, &f, base, t, out, &n);
        t += gap;
        lw_waterfilter_feed(&defaults, &f, base, t, out, &n);
        if (fabs(f.level.v - base) > defaults.spike || f.n_held)
            fail_msg("series %d (mode %d): two readings back at %g mm, the level is %g mm, "
                     "%d held",
                     k, mode, base, f.level.v, f.n_held);
    }
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
    struct lw_waterfilter f;
    struct lw_sample out[LW_WATERFILTER_HOLD + 1];
    size_t n;
    (void)state;
    memset(&f, 0, sizeof(f));
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 0, out, &n), LW_FILT_PASS);
    int64_t t = 10 * MIN;
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 500, t, out, &n), LW_FILT_HOLD);
    for (t += 5000; t < 13 * MIN; t += 5000) {
        assert_int_equal(lw_waterfilter_feed(&defaults, &f, 500, t, out, &n), LW_FILT_HOLD);
        assert_true(f.n_held <= LW_WATERFILTER_HOLD);
    }
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 500, t, out, &n), LW_FILT_PASS);
    assert_true(n == LW_WATERFILTER_HOLD + 1 && f.unconfirmed);
    assert_true(out[0].t_ms == 10 * MIN && out[n - 1].t_ms == t); /* from the jump on */
    /* A fresh filter takes the first reading as the level, whatever it is. */
    memset(&f, 0, sizeof(f));
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 900, 0, out, &n), LW_FILT_PASS);
    assert_int_equal(n, 1);
    assert_true(out[0].v == 900);
}

/* A jump the node never followed up (it went quiet) is released as water once the node has been
 * quiet for two and a half of its reporting gaps (at least 2 min); not while readings come. */
static void test_quiet_after_jump_released(void **state)
{
    struct lw_waterfilter f;
    struct lw_sample out[LW_WATERFILTER_HOLD + 1];
    size_t n;
    (void)state;
    memset(&f, 0, sizeof(f));
    assert_int_equal(lw_waterfilter_release_due(&f), INT64_MAX);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 0, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 1 * MIN, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 180, 2 * MIN, out, &n), LW_FILT_HOLD);
    assert_int_equal(lw_waterfilter_release_due(&f), 2 * MIN + 150000); /* 2.5 x 60 s */
    assert_int_equal(lw_waterfilter_release(&f, 4 * MIN, out), 0);
    assert_int_equal(lw_waterfilter_release(&f, 2 * MIN + 150000, out), 1);
    assert_true(out[0].v == 180 && out[0].t_ms == 2 * MIN);
    assert_true(f.level.v == 180 && f.n_held == 0);
    assert_true(f.unconfirmed); /* no reading followed it: unconfirmed */
    assert_int_equal(lw_waterfilter_release_due(&f), INT64_MAX);
    /* A drop that is never followed up stays held: silence must not clear an alarm. */
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 6 * MIN, out, &n), LW_FILT_HOLD);
    assert_int_equal(lw_waterfilter_release_due(&f), INT64_MAX);
    assert_int_equal(lw_waterfilter_release(&f, 600 * MIN, out), 0);
    /* Fast reports: the 2 min floor. A spike that comes back in time is still dropped. */
    memset(&f, 0, sizeof(f));
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 0, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 15000, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 30000, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 120, 60000, out, &n), LW_FILT_HOLD);
    assert_int_equal(lw_waterfilter_release_due(&f), 60000 + LW_WATERFILTER_QUIET_MIN_MS);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 75000, out, &n), LW_FILT_PASS);
    assert_int_equal(f.dropped_spike, 1);
    assert_int_equal(lw_waterfilter_release(&f, 10 * MIN, out), 0);
    /* A node whose readings still come, dropped as too fast a rise, has not gone quiet: the
     * quiet time counts from its latest reading, not from the held one. */
    memset(&f, 0, sizeof(f));
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 0, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 1 * MIN, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 151, 2 * MIN, out, &n), LW_FILT_HOLD);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 3000, 3 * MIN, out, &n), LW_FILT_DROP);
    assert_int_equal(lw_waterfilter_release_due(&f), 3 * MIN + 150000);
    /* Too fast a rise, then silence (fast water drowned the sensor): the latest reading dropped
     * is passed on once the node has been quiet that long, unconfirmed. */
    memset(&f, 0, sizeof(f));
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 0, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 1 * MIN, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 2500, 2 * MIN, out, &n), LW_FILT_DROP);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 3000, 3 * MIN, out, &n), LW_FILT_DROP);
    assert_int_equal(lw_waterfilter_release_due(&f), 3 * MIN + 150000);
    assert_int_equal(lw_waterfilter_release(&f, 3 * MIN + 149999, out), 0);
    assert_int_equal(lw_waterfilter_release(&f, 3 * MIN + 150000, out), 1);
    assert_true(out[0].v == 3000 && out[0].t_ms == 3 * MIN && f.unconfirmed);
    assert_int_equal(lw_waterfilter_release_due(&f), INT64_MAX);
    /* ... but not when a reading came back down in between: that was an artefact. */
    memset(&f, 0, sizeof(f));
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 0, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 3000, 1 * MIN, out, &n), LW_FILT_DROP);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 2 * MIN, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_waterfilter_release_due(&f), INT64_MAX);
}

/* A rise seen twice, a lost echo, then nothing (the sensor drowned): the rise is released as
 * water, unconfirmed; the reading back down stays held (silence never takes water away), and
 * the next reading decides. The water going reads low twice in a row and is taken at once. */
static void test_lost_echo_then_quiet(void **state)
{
    struct lw_waterfilter f;
    struct lw_sample out[LW_WATERFILTER_HOLD + 1];
    size_t n;
    (void)state;
    memset(&f, 0, sizeof(f));
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 0, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 1 * MIN, out, &n), LW_FILT_PASS);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 200, 2 * MIN, out, &n), LW_FILT_HOLD);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 200, 3 * MIN, out, &n), LW_FILT_HOLD);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 4 * MIN, out, &n), LW_FILT_HOLD);
    assert_int_equal(lw_waterfilter_release_due(&f), 4 * MIN + 150000);
    assert_int_equal(lw_waterfilter_release(&f, 4 * MIN + 150000, out), 2);
    assert_true(out[1].v == 200 && out[1].t_ms == 3 * MIN && f.unconfirmed);
    assert_true(f.n_held == 1 && f.held[0].v == 0);
    assert_int_equal(lw_waterfilter_release_due(&f), INT64_MAX);
    assert_int_equal(lw_waterfilter_release(&f, 600 * MIN, out), 0);
    /* It was a lost echo: the water is still there. */
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 200, 8 * MIN, out, &n), LW_FILT_PASS);
    assert_true(n == 1 && out[0].v == 200);
    /* Drained: low twice in a row, taken at the second. */
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 9 * MIN, out, &n), LW_FILT_HOLD);
    assert_int_equal(lw_waterfilter_feed(&defaults, &f, 0, 10 * MIN, out, &n), LW_FILT_PASS);
    assert_true(n == 2 && f.level.v == 0);
    /* One in two lost from the start: the echo after the first high reading is taken for a
     * spike, the next high reading shows the rise goes on, and the echoes after it are dropped;
     * with no plateau step the rise is water at its second reading. */
    struct lw_waterfilter_conf off = defaults;
    off.plateau_ms = 0;
    static const struct step alt[] = {
        {0, 0, LW_FILT_PASS, 1, 0},       {200, 1 * MIN, LW_FILT_HOLD, 0, 0},
        {0, 2 * MIN, LW_FILT_PASS, 1, 0}, {200, 3 * MIN, LW_FILT_HOLD, 0, 0},
        {0, 4 * MIN, LW_FILT_HOLD, 0, 0}, {200, 5 * MIN, LW_FILT_PASS, 2, 200},
        {0, 6 * MIN, LW_FILT_HOLD, 0, 0}, {200, 7 * MIN, LW_FILT_PASS, 1, 200},
        {0, 8 * MIN, LW_FILT_HOLD, 0, 0}, {0, 9 * MIN, LW_FILT_PASS, 2, 0},
    };
    RUN(off, alt);
    /* A spike that comes back and stays: the bound does not carry over to a rise much later. */
    static const struct step later[] = {
        {0, 0, LW_FILT_PASS, 1, 0},        {200, 1 * MIN, LW_FILT_HOLD, 0, 0},
        {0, 2 * MIN, LW_FILT_PASS, 1, 0},  {200, 20 * MIN, LW_FILT_HOLD, 0, 0},
        {0, 21 * MIN, LW_FILT_PASS, 1, 0},
    };
    RUN(defaults, later);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_noise_floor),
        cmocka_unit_test(test_single_sample_spike_dropped),
        cmocka_unit_test(test_impossible_rise_dropped),
        cmocka_unit_test(test_sustained_fast_rise_accepted_once_possible),
        cmocka_unit_test(test_parked_car_plateau_passed_unconfirmed),
        cmocka_unit_test(test_hold_is_bounded),
        cmocka_unit_test(test_jump_then_flat_generated),
        cmocka_unit_test(test_dropouts_generated),
        cmocka_unit_test(test_plateau_needs_an_upward_jump),
        cmocka_unit_test(test_long_hold_keeps_bounded),
        cmocka_unit_test(test_quiet_after_jump_released),
        cmocka_unit_test(test_lost_echo_then_quiet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
