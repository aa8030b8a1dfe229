/* FloodNet-style cleaning of one node's water-depth readings before rules see them: noise floor,
 * single-sample spikes, impossible rises and flat plateaus (a parked car under the sensor). Pure:
 * state in a value type, time passed in. */
#ifndef LW_FILTER_H
#define LW_FILTER_H

#include <stddef.h>
#include <stdint.h>

/* Readings after a jump held back while the filter waits to see what the jump was. */
#define LW_FILTER_HOLD 8

struct lw_filter_conf {
    double noise_floor;  /* mm: depths below this are 0 */
    double spike;        /* mm: a jump larger than this from the accepted level is held */
    double max_rise;     /* mm/min: a faster rise from the accepted level is an artefact */
    double plateau_tol;  /* mm: held readings within this of the first held one are flat */
    uint64_t plateau_ms; /* flat this long after an upward jump: a plateau (0: never) */
};

struct lw_sample {
    int64_t t_ms;
    double v;
};

struct lw_filter {
    struct lw_sample level; /* last accepted reading */
    struct lw_sample held[LW_FILTER_HOLD];
    uint8_t n_held;
    uint8_t have_level;
    uint8_t in_plateau;
    double plateau_v;             /* depth of the plateau being removed */
    int64_t last_feed_ms, gap_ms; /* the latest reading fed, and the gap before it */
    uint32_t dropped_spike, dropped_rise, dropped_plateau, dropped_stale;
};

enum lw_filter_result {
    LW_FILT_PASS, /* out[] holds the accepted readings, oldest first */
    LW_FILT_HOLD, /* kept back until a later reading tells what it was */
    LW_FILT_DROP, /* removed (a spike, artefact, plateau or stale reading) */
};

/* Feed one depth reading v (mm) taken at t_ms. On LW_FILT_PASS, out[0 .. *n_out - 1] (room for
 * LW_FILTER_HOLD + 1) are the readings to use, oldest first: readings held earlier and now
 * confirmed, then this one, the noise floor applied. A zeroed struct lw_filter is a fresh
 * filter. */
enum lw_filter_result lw_filter_feed(const struct lw_filter_conf *c, struct lw_filter *f, double v,
                                     int64_t t_ms, struct lw_sample *out, size_t *n_out);

/* A jump is held until a later reading tells what it was. When none comes after a rise (the node
 * went quiet: a sensor under water, a radio drowned), the held readings are taken as water once
 * the node has been quiet for two and a half of its reporting gaps, within [QUIET_MIN, QUIET_MAX].
 * A held drop is never released this way (silence must not clear an alarm).
 * lw_filter_release_due: when that is (INT64_MAX: never). lw_filter_release: the readings
 * released at now_ms into out (room for LW_FILTER_HOLD), oldest first; 0 when not due. */
#define LW_FILTER_QUIET_MIN_MS 120000
#define LW_FILTER_QUIET_MAX_MS 3600000
int64_t lw_filter_release_due(const struct lw_filter *f);
size_t lw_filter_release(struct lw_filter *f, int64_t now_ms, struct lw_sample *out);

#endif
