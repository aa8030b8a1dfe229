/* FloodNet-style water-depth filter. FloodNet cleans its series after the fact, looking at both
 * neighbours of a reading; an alarm cannot wait for the future, so a jump is held back until the
 * next reading shows whether it was a spike (back at the old level), a possible obstruction (flat
 * for plateau_ms) or water (anything else). Only jumps pay that delay, gradual change passes at
 * once, and nothing that stays away from the old level is kept back for longer than
 * LW_FILTER_HOLD_MAX_MS: a flat 300 mm may be a car roof or a flooded ramp, and only someone on
 * the spot can tell, so it is passed on marked unconfirmed rather than removed.
 */
#include "lw_filter.h"

#include <math.h>
#include <stdbool.h>

/* Take v as the new level, after the readings held before it. An unconfirmed depth stays
 * unconfirmed while the level stays within plateau_tol of it; water moving off it confirms. */
static void accept(const struct lw_filter_conf *c, struct lw_filter *f, double v, int64_t t_ms,
                   struct lw_sample *out, size_t *n_out)
{
    for (size_t i = 0; i < f->n_held; i++)
        out[(*n_out)++] = f->held[i];
    f->n_held = 0;
    f->keeping = 0;
    f->have_rise = 0;
    f->level.t_ms = t_ms;
    f->level.v = v;
    f->have_level = 1;
    if (f->unconfirmed && fabs(v - f->plateau_v) > c->plateau_tol)
        f->unconfirmed = 0;
    out[*n_out].t_ms = t_ms;
    out[*n_out].v = v;
    (*n_out)++;
}

static void keep_from(struct lw_filter *f, int64_t t_ms)
{
    if (!f->keeping) {
        f->keeping = 1;
        f->kept_since_ms = t_ms;
    }
}

static bool kept_too_long(const struct lw_filter *f, int64_t t_ms)
{
    return f->keeping && t_ms - f->kept_since_ms >= LW_FILTER_HOLD_MAX_MS;
}

/* What was held, and v, go on as water nobody has confirmed: the alert they raise says so. */
static void pass_unconfirmed(const struct lw_filter_conf *c, struct lw_filter *f, double v,
                             int64_t t_ms, struct lw_sample *out, size_t *n_out)
{
    f->passed_unconfirmed += f->n_held + 1u;
    f->unconfirmed = 1;
    f->plateau_v = v;
    accept(c, f, v, t_ms, out, n_out);
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
        accept(c, f, v, t_ms, out, n_out);
        return LW_FILT_PASS;
    }
    /* A copy relayed late, older than what was accepted: the series has moved on. */
    if (t_ms < f->level.t_ms) {
        f->dropped_stale++;
        return LW_FILT_DROP;
    }
    /* Rises are measured from the accepted level, so a sustained real rise is accepted once the
     * average rate since then is possible again, or unconfirmed once kept back for the bound.
     * Falls are never limited: water drains. */
    double dt_min = (double)(t_ms - f->level.t_ms) / 60000.0;
    if (v > f->level.v && (dt_min <= 0 || (v - f->level.v) / dt_min > c->max_rise)) {
        if (kept_too_long(f, t_ms)) {
            pass_unconfirmed(c, f, v, t_ms, out, n_out);
            return LW_FILT_PASS;
        }
        keep_from(f, t_ms);
        f->rise.t_ms = t_ms;
        f->rise.v = v;
        f->have_rise = 1;
        f->dropped_rise++;
        return LW_FILT_DROP;
    }
    if (!f->n_held) {
        if (fabs(v - f->level.v) > c->spike) {
            if (v > f->level.v && kept_too_long(f, t_ms)) { /* after too fast a rise */
                pass_unconfirmed(c, f, v, t_ms, out, n_out);
                return LW_FILT_PASS;
            }
            keep_from(f, t_ms);
            f->held[0].t_ms = t_ms;
            f->held[0].v = v;
            f->n_held = 1;
            return LW_FILT_HOLD;
        }
        accept(c, f, v, t_ms, out, n_out);
        return LW_FILT_PASS;
    }
    const struct lw_sample *h0 = &f->held[0];
    if (fabs(v - f->level.v) <= c->spike) { /* back where it was: the jump was a spike */
        f->dropped_spike += f->n_held;
        f->n_held = 0;
        accept(c, f, v, t_ms, out, n_out);
        return LW_FILT_PASS;
    }
    /* A car roof or a box is flat to a millimetre for minutes (still water can be too, hence
     * plateau_ms is off for basements). Only upward jumps can be objects under the sensor. Flat
     * for plateau_ms, it is passed on unconfirmed rather than removed: a flooded ramp is flat
     * too, and the alert telling someone to go and look is the lesser harm. */
    bool up = h0->v > f->level.v;
    if (up && c->plateau_ms && fabs(v - h0->v) <= c->plateau_tol) {
        uint64_t flat_ms =
            c->plateau_ms < LW_FILTER_HOLD_MAX_MS ? c->plateau_ms : LW_FILTER_HOLD_MAX_MS;
        if ((uint64_t)(t_ms - h0->t_ms) >= flat_ms || kept_too_long(f, t_ms)) {
            pass_unconfirmed(c, f, v, t_ms, out, n_out);
            return LW_FILT_PASS;
        }
        size_t i = f->n_held < LW_FILTER_HOLD ? f->n_held++ : LW_FILTER_HOLD - 1u;
        f->held[i].t_ms = t_ms;
        f->held[i].v = v;
        return LW_FILT_HOLD;
    }
    accept(c, f, v, t_ms, out, n_out); /* moved on from the jump: it was water */
    return LW_FILT_PASS;
}

int64_t lw_filter_release_due(const struct lw_filter *f)
{
    /* Only a rise: a drop that was never followed up must not clear an alarm. */
    if (f->n_held ? f->held[0].v <= f->level.v : !f->have_rise)
        return INT64_MAX;
    int64_t quiet = f->gap_ms * 5 / 2;
    quiet = quiet < LW_FILTER_QUIET_MIN_MS   ? LW_FILTER_QUIET_MIN_MS
            : quiet > LW_FILTER_QUIET_MAX_MS ? LW_FILTER_QUIET_MAX_MS
                                             : quiet;
    /* Quiet since the latest reading fed, held or not: a node whose readings are still coming
     * (dropped as too fast a rise, say) has not gone quiet. */
    int64_t last = f->n_held ? f->held[f->n_held - 1].t_ms : f->rise.t_ms;
    int64_t due = (f->last_feed_ms > last ? f->last_feed_ms : last) + quiet;
    /* Seen flat more than once, the jump was no single-sample spike: the bound applies. */
    if (f->n_held > 1 && f->kept_since_ms + LW_FILTER_HOLD_MAX_MS < due)
        due = f->kept_since_ms + LW_FILTER_HOLD_MAX_MS;
    return due;
}

size_t lw_filter_release(struct lw_filter *f, int64_t now_ms, struct lw_sample *out)
{
    if (now_ms < lw_filter_release_due(f))
        return 0;
    size_t n = f->n_held;
    for (size_t i = 0; i < n; i++)
        out[i] = f->held[i];
    /* The steepest rise came last and the node fell silent: a sensor drowned by fast water. */
    if (f->have_rise && f->rise.t_ms > (n ? out[n - 1].t_ms : f->level.t_ms))
        out[n++] = f->rise;
    f->level = out[n - 1];
    f->have_level = 1;
    f->n_held = 0;
    f->keeping = 0;
    f->have_rise = 0;
    /* Never followed up by a reading: nothing confirmed it as water. */
    f->unconfirmed = 1;
    f->plateau_v = f->level.v;
    f->passed_unconfirmed += (uint32_t)n;
    return n;
}
