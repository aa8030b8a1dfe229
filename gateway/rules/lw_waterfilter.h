/* SPDX-License-Identifier: Apache-2.0 */
/* FloodNet-style cleaning of one node's water-depth readings before rules see them: noise floor,
 * single-sample spikes, impossible rises and flat plateaus (a parked car under the sensor), with
 * a bound on how long anything is held back. Pure: state in a value type, time passed in. */
#ifndef LW_WATERFILTER_H
#define LW_WATERFILTER_H

#include <stddef.h>
#include <stdint.h>

/* Readings after a jump held back while the filter waits to see what the jump was. */
#define LW_WATERFILTER_HOLD 8

/* The longest a depth that stays away from the accepted level is kept from the rules while the
 * node keeps reporting (dropped as too fast a rise, or held after a jump, flat or not), counted
 * from the first reading kept back. After it the readings are passed on marked unconfirmed:
 * sustained high water must raise an alert, even when it looks like a car. Five minutes: the
 * street rule's persistence and FloodNet's averaging window, the time a team takes to get out. */
#define LW_WATERFILTER_HOLD_MAX_MS 300000

struct lw_waterfilter_conf {
    double noise_floor;  /* mm: depths below this are 0 */
    double spike;        /* mm: a jump larger than this from the accepted level is held */
    double max_rise;     /* mm/min: a faster rise from the accepted level is an artefact */
    double plateau_tol;  /* mm: held readings within this of the first held one are flat */
    uint64_t plateau_ms; /* flat this long after an upward jump: a possible obstruction, passed on
                            unconfirmed (0: never; at most LW_WATERFILTER_HOLD_MAX_MS) */
};

struct lw_sample {
    int64_t t_ms;
    double v;
};

struct lw_waterfilter {
    struct lw_sample level; /* last accepted reading */
    struct lw_sample held[LW_WATERFILTER_HOLD];
    uint8_t n_held;
    uint8_t have_level;
    uint8_t unconfirmed;          /* the level was passed on without being confirmed as water */
    double plateau_v;             /* the unconfirmed depth: leaving it by plateau_tol confirms */
    uint8_t keeping;              /* a reading was kept back (dropped or held) since the level */
    int64_t kept_since_ms;        /* ... the first of them */
    uint8_t n_up;                 /* readings kept back above the level since then (saturates) */
    uint8_t pending;              /* the newest held reading fell back after a rise: the next
                                     reading tells a dropout from a fall */
    uint8_t spiked;               /* the latest reading came back after a one-reading rise */
    uint8_t have_rise;            /* a reading was dropped as too fast a rise since the level */
    struct lw_sample rise;        /* ... the latest: passed on if the node then goes quiet */
    int64_t last_feed_ms, gap_ms; /* the latest reading fed, and the gap before it */
    uint32_t dropped_spike, dropped_rise, dropped_stale;
    uint32_t dropped_dropout;    /* single readings that fell back during a rise kept back */
    uint32_t passed_unconfirmed; /* readings passed on unconfirmed (plateaus, bound, silence) */
};

enum lw_waterfilter_result {
    LW_FILT_PASS, /* out[] holds the accepted readings, oldest first */
    LW_FILT_HOLD, /* kept back until a later reading tells what it was */
    LW_FILT_DROP, /* removed (a spike, artefact or stale reading) */
};

/* Feed one depth reading v (mm) taken at t_ms. On LW_FILT_PASS, out[0 .. *n_out - 1] (room for
 * LW_WATERFILTER_HOLD + 1) are the readings to use, oldest first: readings held earlier and now
 * accepted, then this one, the noise floor applied; f->unconfirmed tells whether they were
 * confirmed as water. A zeroed struct lw_waterfilter is a fresh filter. */
enum lw_waterfilter_result lw_waterfilter_feed(const struct lw_waterfilter_conf *c,
                                               struct lw_waterfilter *f, double v, int64_t t_ms,
                                               struct lw_sample *out, size_t *n_out);

/* A jump is held until a later reading tells what it was. When none comes after a rise (the node
 * went quiet: a sensor under water, a radio drowned), the held readings, and the latest reading
 * dropped as too fast a rise, are passed on unconfirmed once the node has been quiet for two and
 * a half of its reporting gaps, within [QUIET_MIN, QUIET_MAX], or, for a rise already seen more
 * than once, once LW_WATERFILTER_HOLD_MAX_MS has passed since the first reading kept back,
 * whichever comes first. A held drop is never released this way (silence must not clear an
 * alarm), nor is a reading that fell back after the rise: it stays held, a drop.
 * lw_waterfilter_release_due: when that is (INT64_MAX: never). lw_waterfilter_release: the readings
 * released at now_ms into out (room for LW_WATERFILTER_HOLD + 1), oldest first; 0 when not due. */
#define LW_WATERFILTER_QUIET_MIN_MS 120000
#define LW_WATERFILTER_QUIET_MAX_MS 3600000
int64_t lw_waterfilter_release_due(const struct lw_waterfilter *f);
size_t lw_waterfilter_release(struct lw_waterfilter *f, int64_t now_ms, struct lw_sample *out);

#endif
