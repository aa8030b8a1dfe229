/* FloodNet-style water-depth filter. FloodNet cleans its series after the fact, looking at both
 * neighbours of a reading; an alarm cannot wait for the future, so a jump is held back until the
 * next reading shows whether it was a spike (back at the old level), a plateau (flat for
 * plateau_ms) or water (anything else). Only jumps pay that delay, gradual change passes at once.
 */
#include "lw_filter.h"

#include <math.h>
#include <stdbool.h>

static void accept(struct lw_filter *f, double v, int64_t t_ms, struct lw_sample *out,
                   size_t *n_out)
{
    for (size_t i = 0; i < f->n_held; i++)
        out[(*n_out)++] = f->held[i];
    f->n_held = 0;
    f->level.t_ms = t_ms;
    f->level.v = v;
    f->have_level = 1;
    out[*n_out].t_ms = t_ms;
    out[*n_out].v = v;
    (*n_out)++;
}

enum lw_filter_result lw_filter_feed(const struct lw_filter_conf *c, struct lw_filter *f, double v,
                                     int64_t t_ms, struct lw_sample *out, size_t *n_out)
{
    *n_out = 0;
    if (t_ms > f->last_feed_ms) {
        if (f->last_feed_ms)
            f->gap_ms = t_ms - f->last_feed_ms;
        f->last_feed_ms = t_ms;
    }
    if (v < c->noise_floor)
        v = 0; /* ultrasonic noise over a dry street */
    if (!f->have_level) {
        accept(f, v, t_ms, out, n_out);
        return LW_FILT_PASS;
    }
    /* A copy relayed late, older than what was accepted: the series has moved on. */
    if (t_ms < f->level.t_ms) {
        f->dropped_stale++;
        return LW_FILT_DROP;
    }
    if (f->in_plateau) {
        if (fabs(v - f->plateau_v) <= c->plateau_tol) {
            f->dropped_plateau++;
            return LW_FILT_DROP;
        }
        f->in_plateau = 0; /* the car has left, or water came: judge the reading afresh */
    }
    /* Rises are measured from the accepted level, so a sustained real rise is accepted once the
     * average rate since then is possible again. Falls are never limited: water drains. */
    double dt_min = (double)(t_ms - f->level.t_ms) / 60000.0;
    if (v > f->level.v && (dt_min <= 0 || (v - f->level.v) / dt_min > c->max_rise)) {
        f->dropped_rise++;
        return LW_FILT_DROP;
    }
    if (!f->n_held) {
        if (fabs(v - f->level.v) > c->spike) {
            f->held[0].t_ms = t_ms;
            f->held[0].v = v;
            f->n_held = 1;
            return LW_FILT_HOLD;
        }
        accept(f, v, t_ms, out, n_out);
        return LW_FILT_PASS;
    }
    const struct lw_sample *h0 = &f->held[0];
    if (fabs(v - f->level.v) <= c->spike) { /* back where it was: the jump was a spike */
        f->dropped_spike += f->n_held;
        f->n_held = 0;
        accept(f, v, t_ms, out, n_out);
        return LW_FILT_PASS;
    }
    /* A car roof or a box is flat to a millimetre for minutes (still water can be too, hence
     * plateau_ms is off for basements). Only upward jumps can be objects under the sensor. */
    bool up = h0->v > f->level.v;
    if (up && c->plateau_ms && fabs(v - h0->v) <= c->plateau_tol) {
        if ((uint64_t)(t_ms - h0->t_ms) >= c->plateau_ms) {
            f->dropped_plateau += f->n_held + 1u;
            f->n_held = 0;
            f->in_plateau = 1;
            f->plateau_v = h0->v;
            return LW_FILT_DROP;
        }
        size_t i = f->n_held < LW_FILTER_HOLD ? f->n_held++ : LW_FILTER_HOLD - 1u;
        f->held[i].t_ms = t_ms;
        f->held[i].v = v;
        return LW_FILT_HOLD;
    }
    accept(f, v, t_ms, out, n_out); /* moved on from the jump: it was water */
    return LW_FILT_PASS;
}

int64_t lw_filter_release_due(const struct lw_filter *f)
{
    /* Only a rise: a drop that was never followed up must not clear an alarm. */
    if (!f->n_held || f->held[0].v <= f->level.v)
        return INT64_MAX;
    int64_t quiet = f->gap_ms * 5 / 2;
    quiet = quiet < LW_FILTER_QUIET_MIN_MS   ? LW_FILTER_QUIET_MIN_MS
            : quiet > LW_FILTER_QUIET_MAX_MS ? LW_FILTER_QUIET_MAX_MS
                                             : quiet;
    return f->held[f->n_held - 1].t_ms + quiet;
}

size_t lw_filter_release(struct lw_filter *f, int64_t now_ms, struct lw_sample *out)
{
    if (now_ms < lw_filter_release_due(f))
        return 0;
    size_t n = f->n_held;
    for (size_t i = 0; i < n; i++)
        out[i] = f->held[i];
    f->level = f->held[n - 1];
    f->have_level = 1;
    f->n_held = 0;
    return n;
}
