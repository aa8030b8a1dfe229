/* SPDX-License-Identifier: Apache-2.0 */
/* FloodNet-style water-depth filter. FloodNet cleans its series after the fact, looking at both
 * neighbours of a reading; an alarm cannot wait for the future, so a jump is held back until the
 * next reading shows whether it was a spike (back at the old level), a possible obstruction (flat
 * for plateau_ms) or water (anything else). Only jumps pay that delay, gradual change passes at
 * once, and nothing that stays away from the old level is kept back for longer than
 * LW_WATERFILTER_HOLD_MAX_MS: a flat 300 mm may be a car roof or a flooded ramp, and only someone
 * on the spot can tell, so it is passed on marked unconfirmed rather than removed. Sensors miss
 * echoes (foam, turbulence) and read 0 then: after a rise seen twice, a single reading back down
 * is the odd one out until the next reading says otherwise, so a lost echo neither throws the
 * rise away nor restarts the bound, and two readings down in a row are the water going.
 */
#include "lw_waterfilter.h"

#include <math.h>
#include <stdbool.h>

/* Take v as the new level, after the readings held before it. An unconfirmed depth stays
 * unconfirmed while the level stays within plateau_tol of it; water moving off it confirms. */
static void accept(const struct lw_waterfilter_conf *c, struct lw_waterfilter *f, double v,
                   int64_t t_ms, struct lw_sample *out, size_t *n_out)
{
    for (size_t i = 0; i < f->n_held; i++)
        out[(*n_out)++] = f->held[i];
    f->n_held = 0;
    f->keeping = 0;
    f->n_up = 0;
    f->pending = 0;
    f->spiked = 0;
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

static void keep_from(struct lw_waterfilter *f, int64_t t_ms)
{
    if (!f->keeping) {
        f->keeping = 1;
        f->kept_since_ms = t_ms;
    }
}

static void kept_up(struct lw_waterfilter *f, int64_t t_ms)
{
    keep_from(f, t_ms);
    if (f->n_up < UINT8_MAX)
        f->n_up++;
}

static bool kept_too_long(const struct lw_waterfilter *f, int64_t t_ms)
{
    return f->keeping && t_ms - f->kept_since_ms >= LW_WATERFILTER_HOLD_MAX_MS;
}

/* What was held, and v, go on as water nobody has confirmed: the alert they raise says so. */
static void pass_unconfirmed(const struct lw_waterfilter_conf *c, struct lw_waterfilter *f,
                             double v, int64_t t_ms, struct lw_sample *out, size_t *n_out)
{
    f->passed_unconfirmed += f->n_held + 1u;
    f->unconfirmed = 1;
    f->plateau_v = v;
    accept(c, f, v, t_ms, out, n_out);
}

/* v came back after a single reading kept back above the level: that reading was a spike. It may
 * also be that v is a lost echo in a rise that goes on, so until a second reading shows the level
 * stands, the bound keeps counting from the first reading kept back. */
static void back_after_spike(const struct lw_waterfilter_conf *c, struct lw_waterfilter *f,
                             double v, int64_t t_ms, struct lw_sample *out, size_t *n_out)
{
    uint8_t keeping = f->keeping, n_up = f->n_up;
    int64_t since = f->kept_since_ms;
    f->dropped_spike += f->n_held;
    f->n_held = 0;
    accept(c, f, v, t_ms, out, n_out);
    f->keeping = keeping;
    f->kept_since_ms = since;
    f->n_up = n_up;
    f->spiked = 1;
}

/* v fell back after a rise kept back: held too, until the next reading tells whether it was a
 * lost echo (the next one is up again) or the water going (it is not). */
static enum lw_waterfilter_result hold_pending(struct lw_waterfilter *f, double v, int64_t t_ms)
{
    size_t i = f->n_held < LW_WATERFILTER_HOLD ? f->n_held++ : LW_WATERFILTER_HOLD - 1u;
    f->held[i].t_ms = t_ms;
    f->held[i].v = v;
    f->pending = 1;
    return LW_FILT_HOLD;
}

/* The reading after the one that fell back is not up again: that one was no dropout, and is
 * judged as any reading after a rise. Back near the level, the rise was a spike or a short
 * stretch (dropped); further down, it was water that has gone again (passed on). */
static void settle_pending(const struct lw_waterfilter_conf *c, struct lw_waterfilter *f,
                           struct lw_sample *out, size_t *n_out)
{
    struct lw_sample p = f->held[--f->n_held];
    f->pending = 0;
    if (fabs(p.v - f->level.v) <= c->spike) {
        f->dropped_spike += f->n_held;
        f->n_held = 0;
    }
    accept(c, f, p.v, p.t_ms, out, n_out);
}

/* How long the node must say nothing to count as quiet: two and a half of its reporting gaps. */
static int64_t quiet_ms(const struct lw_waterfilter *f)
{
    int64_t quiet = f->gap_ms * 5 / 2;
    return quiet < LW_WATERFILTER_QUIET_MIN_MS   ? LW_WATERFILTER_QUIET_MIN_MS
           : quiet > LW_WATERFILTER_QUIET_MAX_MS ? LW_WATERFILTER_QUIET_MAX_MS
                                                 : quiet;
}

/* v against the accepted level, with nothing pending; out[] is appended to. */
static enum lw_waterfilter_result judge(const struct lw_waterfilter_conf *c,
                                        struct lw_waterfilter *f, double v, int64_t t_ms,
                                        struct lw_sample *out, size_t *n_out)
{
    /* Rises are measured from the accepted level, so a sustained real rise is accepted once the
     * average rate since then is possible again, or unconfirmed once kept back for the bound.
     * Falls are never limited: water drains. */
    double dt_min = (double)(t_ms - f->level.t_ms) / 60000.0;
    if (v > f->level.v && (dt_min <= 0 || (v - f->level.v) / dt_min > c->max_rise)) {
        if (kept_too_long(f, t_ms)) {
            pass_unconfirmed(c, f, v, t_ms, out, n_out);
            return LW_FILT_PASS;
        }
        kept_up(f, t_ms);
        f->rise.t_ms = t_ms;
        f->rise.v = v;
        f->have_rise = 1;
        f->dropped_rise++;
        return LW_FILT_DROP;
    }
    bool back = fabs(v - f->level.v) <= c->spike;
    if (!f->n_held) {
        if (!back) {
            if (v > f->level.v && kept_too_long(f, t_ms)) { /* after too fast a rise */
                pass_unconfirmed(c, f, v, t_ms, out, n_out);
                return LW_FILT_PASS;
            }
            if (v > f->level.v)
                kept_up(f, t_ms);
            else
                keep_from(f, t_ms);
            f->held[0].t_ms = t_ms;
            f->held[0].v = v;
            f->n_held = 1;
            return LW_FILT_HOLD;
        }
        if (f->have_rise) { /* back after too fast a rise */
            if (f->n_up > 1)
                return hold_pending(f, v, t_ms);
            back_after_spike(c, f, v, t_ms, out, n_out);
            return LW_FILT_PASS;
        }
        accept(c, f, v, t_ms, out, n_out);
        return LW_FILT_PASS;
    }
    const struct lw_sample *h0 = &f->held[0];
    bool up = h0->v > f->level.v;
    if (back) {
        /* Back where it was after a single reading: the jump was a spike. After a rise seen
         * more than once, a single reading back is the odd one out until the next one says. */
        if (up && f->n_up > 1)
            return hold_pending(f, v, t_ms);
        if (up) {
            back_after_spike(c, f, v, t_ms, out, n_out);
            return LW_FILT_PASS;
        }
        f->dropped_spike += f->n_held; /* a drop and back: a lost echo */
        f->n_held = 0;
        accept(c, f, v, t_ms, out, n_out);
        return LW_FILT_PASS;
    }
    if (up && v < f->level.v) /* a rise, then a reading below the level: a lost echo? */
        return hold_pending(f, v, t_ms);
    /* A car roof or a box is flat to a millimetre for minutes (still water can be too, hence
     * plateau_ms is off for basements). Only upward jumps can be objects under the sensor. Flat
     * for plateau_ms, it is passed on unconfirmed rather than removed: a flooded ramp is flat
     * too, and the alert telling someone to go and look is the lesser harm. */
    if (up && c->plateau_ms && fabs(v - h0->v) <= c->plateau_tol) {
        uint64_t flat_ms =
            c->plateau_ms < LW_WATERFILTER_HOLD_MAX_MS ? c->plateau_ms : LW_WATERFILTER_HOLD_MAX_MS;
        if ((uint64_t)(t_ms - h0->t_ms) >= flat_ms || kept_too_long(f, t_ms)) {
            pass_unconfirmed(c, f, v, t_ms, out, n_out);
            return LW_FILT_PASS;
        }
        kept_up(f, t_ms);
        size_t i = f->n_held < LW_WATERFILTER_HOLD ? f->n_held++ : LW_WATERFILTER_HOLD - 1u;
        f->held[i].t_ms = t_ms;
        f->held[i].v = v;
        return LW_FILT_HOLD;
    }
    accept(c, f, v, t_ms, out, n_out); /* moved on from the jump: it was water */
    return LW_FILT_PASS;
}

enum lw_waterfilter_result lw_waterfilter_feed(const struct lw_waterfilter_conf *c,
                                               struct lw_waterfilter *f, double v, int64_t t_ms,
                                               struct lw_sample *out, size_t *n_out)
{
    *n_out = 0;
    /* In step with the node's reports, or after a silence long enough to release a rise. */
    bool in_step = t_ms - f->last_feed_ms < quiet_ms(f);
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
    if (t_ms < f->level.t_ms || (f->pending && t_ms < f->held[f->n_held - 1].t_ms)) {
        f->dropped_stale++;
        return LW_FILT_DROP;
    }
    /* Up: v would be kept back as a rise (too fast, or a jump up). */
    double dt_min = (double)(t_ms - f->level.t_ms) / 60000.0;
    bool up = v - f->level.v > c->spike ||
              (v > f->level.v && (dt_min <= 0 || (v - f->level.v) / dt_min > c->max_rise));
    if (f->spiked) {
        f->spiked = 0;
        if (!up || !in_step) { /* a second reading away from the spike: the level stands */
            f->keeping = 0;
            f->n_up = 0;
        }
    }
    if (f->pending) {
        if (up) { /* the rise goes on: the reading that fell back was a lost echo */
            f->n_held--;
            f->pending = 0;
            f->dropped_dropout++;
        } else { /* two readings down: the water went (or was never there) */
            settle_pending(c, f, out, n_out);
            judge(c, f, v, t_ms, out, n_out);
            return LW_FILT_PASS;
        }
    }
    return judge(c, f, v, t_ms, out, n_out);
}

int64_t lw_waterfilter_release_due(const struct lw_waterfilter *f)
{
    size_t n_jump = f->n_held - f->pending; /* held readings of the jump itself */
    /* Only a rise: a drop that was never followed up must not clear an alarm. */
    if (n_jump ? f->held[0].v <= f->level.v : !f->have_rise)
        return INT64_MAX;
    int64_t quiet = quiet_ms(f);
    /* Quiet since the latest reading fed, held or not: a node whose readings are still coming
     * (dropped as too fast a rise, say) has not gone quiet. */
    int64_t last = f->n_held ? f->held[f->n_held - 1].t_ms : f->rise.t_ms;
    int64_t due = (f->last_feed_ms > last ? f->last_feed_ms : last) + quiet;
    /* Seen up more than once, the rise was no single-sample spike: the bound applies. */
    if (f->n_up > 1 && f->kept_since_ms + LW_WATERFILTER_HOLD_MAX_MS < due)
        due = f->kept_since_ms + LW_WATERFILTER_HOLD_MAX_MS;
    return due;
}

size_t lw_waterfilter_release(struct lw_waterfilter *f, int64_t now_ms, struct lw_sample *out)
{
    if (now_ms < lw_waterfilter_release_due(f))
        return 0;
    size_t n = f->n_held - f->pending;
    for (size_t i = 0; i < n; i++)
        out[i] = f->held[i];
    /* The steepest rise came last and the node fell silent: a sensor drowned by fast water. */
    if (f->have_rise && (n == 0 || f->rise.t_ms > out[n - 1].t_ms))
        out[n++] = f->rise;
    f->level = out[n - 1];
    f->have_level = 1;
    /* A reading that fell back after the rise stays held, now a drop from the level: only a
     * reading, never silence, can take water away. */
    if (f->pending) {
        f->held[0] = f->held[f->n_held - 1];
        f->n_held = 1;
        f->keeping = 1;
        f->kept_since_ms = f->held[0].t_ms;
    } else {
        f->n_held = 0;
        f->keeping = 0;
    }
    f->pending = 0;
    f->spiked = 0;
    f->n_up = 0;
    f->have_rise = 0;
    /* Never followed up by a reading: nothing confirmed it as water. */
    f->unconfirmed = 1;
    f->plateau_v = f->level.v;
    f->passed_unconfirmed += (uint32_t)n;
    return n;
}
