/* SPDX-License-Identifier: Apache-2.0 */
/* Virtual-time scheduler: one uv_timer walks the merged schedule of all nodes (reports, join
 * starts, the node core's retries), TICKs, received downlinks and the end of the scenario; real
 * delays are virtual delays divided by the acceleration, and virtual time waits for answers. */
#include "sim_run.h"
#include "lw_airtime.h"
#include "lw_error.h"
#include "lw_simwire.h"
#include "sim_air.h"
#include "sim_medium.h"
#include "sim_prng.h"
#include "sim_run_int.h"
#include "sim_sensor.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* Acceleration 0 still yields to the loop every RUN_BATCH events for 1 ms: at most ~16000
 * datagrams a second, so a receiver's socket buffer is not overrun by a burst of thousands. */
#define RUN_BATCH 16

uint64_t sim_abs_time(const struct run *r, uint64_t v)
{
    return r->o->sc->start_ms > 0 ? (uint64_t)r->o->sc->start_ms + v : 0;
}

/* The node core only needs a clock that never goes back: virtual ms since the start. */
static uint64_t hal_now(void *ctx)
{
    struct run_node *rn = ctx;
    return rn->run->vnow;
}

static uint32_t hal_random(void *ctx)
{
    struct run_node *rn = ctx;
    return (uint32_t)sim_prng_next(&rn->prng);
}

static int save_state(struct run *r)
{
    char err[512];
    int rc = sim_state_save(r->o->state, err, sizeof(err));

    if (rc != LW_OK && !r->failure) {
        r->failure = rc;
        snprintf(r->err, r->errlen, "state file: %s", err);
    }
    return rc;
}

/* Write ahead: the nonce is on disk before the JOIN_REQ carrying it exists. */
static int hal_store_join_nonce(void *ctx, uint32_t nonce)
{
    struct run_node *rn = ctx;
    struct sim_state_node *e = &rn->run->o->state->nodes[rn->state_idx];

    e->join_nonce = nonce;
    return save_state(rn->run) == LW_OK ? LW_OK : LW_ERR_IO;
}

static void fmt_vtime(uint64_t v, char *out, size_t cap);

void sim_vlog(struct run *r, const struct run_node *rn, const char *fmt, ...)
{
    char vt[32];
    va_list ap;

    if (!r->o->verbose)
        return;
    fmt_vtime(r->vnow, vt, sizeof(vt));
    fprintf(r->o->verbose, "%s %s ", vt, rn->sn->name);
    va_start(ap, fmt);
    vfprintf(r->o->verbose, fmt, ap);
    va_end(ap);
    fputc('\n', r->o->verbose);
    fflush(r->o->verbose);
}

static int hal_send(void *ctx, const uint8_t *frame, size_t len)
{
    struct run_node *rn = ctx;
    struct run *r = rn->run;
    uint64_t t = sim_abs_time(r, r->vnow);
    enum sim_mutation m = r->o->mutation;
    int rc = LW_OK;

    if (r->air)
        return sim_run_air_send(r, rn, frame, len);

    /* A JOIN_REQ or a frame with ACK_REQ opens a reply window. */
    if (len >= 2 && ((frame[0] & 0x0F) == LW_FT_JOIN_REQ || (frame[1] & 0x02))) {
        rn->reply_until = r->vnow + SIM_REPLY_WINDOW_MS;
        rn->reply_real = uv_hrtime();
    }
    r->st->airtime_us += lw_airtime_us(&r->lora, len);
    if (m == SIM_MUT_OVERSIZE) {
        uint8_t buf[LW_SIMWIRE_HDR_LEN + SIM_MUTATE_OVERSIZE_LEN];
        int n = sim_mutate_oversize(rn->rf.sf, rn->rf.freq_hz, rn->rf.bw_hz, rn->rf.rssi_x10,
                                    rn->rf.snr_x10, t, frame, len, buf, sizeof(buf));
        return n < 0 ? n : sim_medium_send_raw(&r->medium, buf, (size_t)n);
    }
    uint8_t out[LW_FRAME_MAX_LEN];
    size_t olen = sim_mutate_frame(m, frame, len, out, &rn->prng);
    for (unsigned i = 0; i < sim_mutation_copies(m); i++) {
        int one = sim_medium_send_air(&r->medium, &rn->rf, t, out, olen);
        if (one < 0)
            rc = one;
    }
    return rc;
}

/* Virtual time of report k: offset + k * interval + uniform jitter in [0, jitter). */
static void schedule_next(struct run *r, struct run_node *rn)
{
    const struct sim_node *sn = rn->sn;

    if (r->o->count && rn->k >= r->o->count) {
        rn->done = true;
        return;
    }
    uint32_t iv = lw_node_report_interval(&rn->node, (uint32_t)sn->interval_ms);
    if (rn->cur_interval && iv != rn->cur_interval) {
        /* A command changed the interval (event mode): the schedule restarts from now. */
        rn->base_ms = r->vnow;
        rn->k = 1;
    }
    rn->cur_interval = iv;
    uint64_t jitter = sn->jitter_ms < iv / 2 ? sn->jitter_ms : iv / 2;
    uint64_t t = rn->base_ms + rn->k * iv + sim_prng_below(&rn->prng, jitter);
    if (t >= r->end_ms || t < rn->base_ms) {
        rn->done = true;
        return;
    }
    rn->next_ms = t;
}

static void print_reading(FILE *f, const struct lw_reading *rd)
{
    if (rd->present & LW_R_WATER)
        fprintf(f, " water=%umm", rd->water_mm);
    if (rd->present & LW_R_SMOKE)
        fprintf(f, " smoke=%u obscuration=%u.%02u%%/m", rd->smoke_alarm,
                rd->smoke_obscuration / 100, rd->smoke_obscuration % 100);
    if (rd->present & LW_R_GAS)
        fprintf(f, " gas=%u.%u%%LEL", rd->gas_lel_x10 / 10, rd->gas_lel_x10 % 10);
    if (rd->present & LW_R_CO)
        fprintf(f, " co=%uppm", rd->co_ppm);
    if (rd->present & LW_R_TEMP)
        fprintf(f, " temp=%s%d.%dC", rd->temp_c_x10 < 0 ? "-" : "", abs(rd->temp_c_x10) / 10,
                abs(rd->temp_c_x10) % 10);
    if (rd->present & LW_R_BATTERY)
        fprintf(f, " battery=%umV", rd->battery_mv);
    if (rd->present & LW_R_FLAGS)
        fprintf(f, " flags=0x%02X", rd->flags);
}

static void fmt_vtime(uint64_t v, char *out, size_t cap)
{
    snprintf(out, cap, "+%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64, v / 3600000,
             v / 60000 % 60, v / 1000 % 60, v % 1000);
}

static void report_node(struct run *r, struct run_node *rn)
{
    struct lw_reading rd;
    bool alarm;
    uint32_t fcnt = lw_node_fcnt_next(&rn->node);

    if (lw_node_address(&rn->node) == 0) {
        /* A joining node has no session yet: this reading is never sent. */
        rn->st->skipped++;
        rn->k++;
        schedule_next(r, rn);
        return;
    }
    if (!rn->sn->join) {
        struct sim_state_node *e = &r->o->state->nodes[rn->state_idx];
        if (fcnt >= e->fcnt_bound && e->fcnt_bound != UINT32_MAX) {
            /* Write ahead a bound past the counters about to be used. */
            e->fcnt_bound =
                fcnt > UINT32_MAX - SIM_STATE_FCNT_STEP ? UINT32_MAX : fcnt + SIM_STATE_FCNT_STEP;
            if (save_state(r) != LW_OK) {
                rn->done = rn->stopped = true;
                rn->st->error = LW_ERR_IO;
                return;
            }
        }
    }
    sim_node_sample(rn->sn, r->vnow, &rd, &alarm);
    if (rn->sn->alarm_frames == SIM_ALARM_AUTO && lw_node_over_threshold(&rn->node, &rd))
        alarm = true; /* a threshold the gateway set on the node */
    if (r->air && alarm && !rn->dark) {
        /* A new alarm reading (one still undelivered is replaced: it counts as lost). */
        rn->alarm_open = true;
        rn->alarm_start = r->vnow;
        r->st->mesh_st.alarms++;
    }
    bool trouble = !alarm && rn->sn->trouble_frames;
    int rc = trouble ? lw_node_report_trouble(&rn->node, &rd, NULL, 0)
                     : lw_node_report(&rn->node, &rd, alarm);
    if (trouble && rc >= 0)
        rn->trouble_pending = true;
    /* LW_ERR_IO: the node's radio is dark (a failed relay) or the loopback socket failed;
     * LW_ERR_AGAIN: its radio was still sending a forward. The frame is lost like one lost on
     * the air, and the node goes on. */
    if (rc < 0 && rc != LW_ERR_IO && rc != LW_ERR_AGAIN) {
        /* The node cannot go on (counter exhausted, bad reading): stop it, fail the run. */
        rn->done = rn->stopped = true;
        rn->st->error = rc;
        if (!r->failure) {
            r->failure = rc;
            if (lw_node_fcnt_exhausted(&rn->node))
                snprintf(r->err, r->errlen,
                         "node %s: frame counter exhausted (0xFFFFFFFF was used); it needs a new "
                         "key before it may send again",
                         rn->sn->name);
            else
                snprintf(r->err, r->errlen, "node %s: frame %" PRIu32 " not sent: %s", rn->sn->name,
                         fcnt, lw_strerror(rc));
        }
        return;
    }
    struct sim_node_stats *ns = rn->st;
    if (ns->frames == 0)
        ns->first_fcnt = fcnt;
    ns->last_fcnt = fcnt;
    ns->frames++;
    r->st->frames++;
    if (alarm) {
        ns->alarm_frames++;
        r->st->alarm_frames++;
        if (ns->first_alarm_ms < 0)
            ns->first_alarm_ms = (int64_t)r->vnow;
    }
    if (r->o->verbose) {
        char vt[32];
        fmt_vtime(r->vnow, vt, sizeof(vt));
        fprintf(r->o->verbose, "%s %s 0x%04X %s fcnt=%" PRIu32, vt, rn->sn->name,
                lw_node_address(&rn->node), alarm ? "ALARM" : "DATA", fcnt);
        print_reading(r->o->verbose, &rd);
        if (r->o->mutation != SIM_MUT_NONE)
            fprintf(r->o->verbose, " mutate=%s", sim_mutation_name(r->o->mutation));
        fputc('\n', r->o->verbose);
        fflush(r->o->verbose);
    }
    rn->k++;
    schedule_next(r, rn);
}

/* A node failed in a way it cannot recover from: stop it, and the run fails with why. */
static void node_fail(struct run *r, struct run_node *rn, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void node_fail(struct run *r, struct run_node *rn, int rc, const char *fmt, ...)
{
    va_list ap;

    rn->done = rn->stopped = true;
    rn->reply_until = 0;
    rn->st->error = rc;
    if (r->failure)
        return;
    r->failure = rc;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errlen, fmt, ap);
    va_end(ap);
}

/* A JOIN_REQ left the node (first one or a retry). */
static void note_join_request(struct run *r, struct run_node *rn)
{
    rn->st->join_requests++;
    sim_vlog(r, rn, "JOIN_REQ nonce=%" PRIu32 " attempt=%" PRIu32,
             lw_node_join_nonce_last(&rn->node), lw_node_join_attempts(&rn->node));
}

static void join_start(struct run *r, struct run_node *rn)
{
    int rc;

    rn->join_at = UINT64_MAX;
    rc = lw_node_join_start(&rn->node);
    /* LW_ERR_IO, LW_ERR_AGAIN: the request was not sent (see report_node); the retry will come */
    if (rc >= 0 || rc == LW_ERR_IO || rc == LW_ERR_AGAIN) {
        if (r->failure)
            node_fail(r, rn, r->failure, "%s", r->err); /* the state file could not be written */
        else
            note_join_request(r, rn);
        return;
    }
    node_fail(r, rn, rc, "node %s: join not started: %s", rn->sn->name, lw_strerror(rc));
}

/* The node core's timed work (join retries). */
static void poll_node(struct run *r, struct run_node *rn)
{
    uint32_t before = lw_node_join_attempts(&rn->node);
    uint32_t alarm_before = lw_node_alarm_attempts(&rn->node);
    int rc = lw_node_poll(&rn->node, r->vnow);

    if (lw_node_alarm_attempts(&rn->node) != alarm_before) {
        /* A retransmission: a new frame with a new counter. */
        rn->st->frames++;
        rn->st->alarm_frames++;
        rn->st->last_fcnt = lw_node_fcnt_next(&rn->node) - 1;
        r->st->frames++;
        r->st->alarm_frames++;
        sim_vlog(r, rn, "ALARM retransmission %" PRIu32 " fcnt=%" PRIu32,
                 lw_node_alarm_attempts(&rn->node), rn->st->last_fcnt);
    }

    if (r->failure && !rn->stopped) {
        node_fail(r, rn, r->failure, "%s", r->err);
        return;
    }
    if (lw_node_join_attempts(&rn->node) != before)
        note_join_request(r, rn);
    if (rc < 0 && rc != LW_ERR_IO && rc != LW_ERR_AGAIN) /* a lost send: see report_node */
        node_fail(r, rn, rc, "node %s: %s", rn->sn->name, lw_strerror(rc));
    else if (lw_node_join_failed(&rn->node))
        node_fail(r, rn, LW_ERR_STATE,
                  "node %s: no JOIN_ACC after %" PRIu32 " join request%s (is the node paired and "
                  "the gateway's pairing window open?)",
                  rn->sn->name, lw_node_join_attempts(&rn->node),
                  lw_node_join_attempts(&rn->node) == 1 ? "" : "s");
}

/* A frame from the gateway reaches every node; each keeps what is addressed to it. */
static void deliver(struct run *r, const struct rx_item *it)
{
    uint8_t type = it->len > 0 ? (uint8_t)(it->buf[0] & 0x0F) : 0;

    for (size_t i = 0; i < r->n; i++) {
        struct run_node *rn = &r->nodes[i];
        bool had_session = lw_node_address(&rn->node) != 0;
        uint16_t old_addr = lw_node_address(&rn->node);

        if (rn->stopped)
            continue;
        if (lw_node_handle_downlink(&rn->node, it->buf, it->len) != LW_OK)
            continue;
        sim_note_downlink(r, rn, type, had_session, old_addr);
    }
}

/* A node accepted a downlink addressed to it. */
void sim_note_downlink(struct run *r, struct run_node *rn, uint8_t type, bool had_session,
                       uint16_t old_addr)
{
    {
        rn->st->downlinks++;
        rn->reply_until = 0;
        if (type == LW_FT_ACK)
            rn->trouble_pending = false;
        if (type == LW_FT_JOIN_ACC) {
            rn->st->joined_ms = (int64_t)r->vnow;
            rn->st->address = lw_node_address(&rn->node);
            sim_vlog(r, rn, "JOINED address=0x%04X after %" PRIu32 " request%s (was 0x%04X)",
                     lw_node_address(&rn->node), lw_node_join_attempts(&rn->node),
                     lw_node_join_attempts(&rn->node) == 1 ? "" : "s", old_addr);
            if (!had_session && r->o->count) {
                /* Ad hoc: the count of reports starts with the session. */
                rn->base_ms = r->vnow;
                rn->k = 0;
                rn->done = false;
                schedule_next(r, rn);
            }
        } else {
            sim_vlog(r, rn, "%s from the gateway%s", lw_frame_type_name(type),
                     type == LW_FT_CMD ? (lw_node_event_mode(&rn->node) ? " (event mode on)"
                                                                        : " (event mode off)")
                                       : "");
            if (type == LW_FT_CMD && !rn->done &&
                lw_node_report_interval(&rn->node, (uint32_t)rn->sn->interval_ms) !=
                    rn->cur_interval) {
                rn->k = 0; /* reschedule at once with the new interval */
                rn->cur_interval = 1;
                schedule_next(r, rn);
            }
        }
    }
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

static void stop(struct run *r)
{
    if (r->stopping)
        return;
    r->stopping = true;
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, on_closed);
    uv_close((uv_handle_t *)&r->sigint, on_closed);
    uv_close((uv_handle_t *)&r->sigterm, on_closed);
    sim_medium_close(&r->medium, on_closed);
}

enum ev { EV_NONE = -1, EV_REPORT, EV_TICK, EV_END, EV_JOIN, EV_POLL, EV_RX, EV_AIR, EV_FAIL };

/* The earliest pending event. Ties: received frames first, then the node core's work, join
 * starts, reports, TICKs, the end. */
static enum ev next_event(struct run *r, uint64_t *t, struct run_node **who)
{
    enum ev kind = EV_NONE;

#define TAKE(time, k, w)                                                                           \
    do {                                                                                           \
        if (kind == EV_NONE || (time) < *t) {                                                      \
            *t = (time);                                                                           \
            kind = (k);                                                                            \
            *who = (w);                                                                            \
        }                                                                                          \
    } while (0)

    *t = UINT64_MAX;
    *who = NULL;
    if (r->rx_n > 0)
        TAKE(r->rxq[r->rx_head].t, EV_RX, NULL);
    if (r->air) {
        uint64_t end = sim_air_next_end(r->air);
        if (end != UINT64_MAX)
            TAKE((end + 999) / 1000, EV_AIR, NULL);
        for (size_t i = 0; i < r->n; i++)
            if (!r->nodes[i].dark && r->nodes[i].sn->fail_ms != UINT64_MAX)
                TAKE(r->nodes[i].sn->fail_ms, EV_FAIL, &r->nodes[i]);
    }
    for (size_t i = 0; i < r->n; i++) {
        struct run_node *rn = &r->nodes[i];
        if (rn->stopped)
            continue;
        uint64_t due = lw_node_next_due(&rn->node);
        if (due != UINT64_MAX)
            TAKE(due < r->vnow ? r->vnow : due, EV_POLL, rn);
    }
    for (size_t i = 0; i < r->n; i++) {
        struct run_node *rn = &r->nodes[i];
        if (!rn->stopped && rn->join_at != UINT64_MAX)
            TAKE(rn->join_at, EV_JOIN, rn);
        /* A trouble report's answer is waited for even after the node's last report. */
        if (!rn->stopped && rn->trouble_pending && rn->reply_until != 0)
            TAKE(rn->reply_until + 1, EV_POLL, rn);
    }
    for (size_t i = 0; i < r->n; i++) {
        struct run_node *rn = &r->nodes[i];
        if (!rn->done)
            TAKE(rn->next_ms, EV_REPORT, rn);
    }
    if (r->next_tick != UINT64_MAX)
        TAKE(r->next_tick, EV_TICK, NULL);
    if (r->end_ms != UINT64_MAX)
        TAKE(r->end_ms, EV_END, NULL);
#undef TAKE
    return kind;
}

/* Virtual time now, on the pacing line (acceleration 0 or waiting: the current event's time). */
static uint64_t vclock(const struct run *r)
{
    double acc = r->o->acceleration;

    if (acc <= 0 || r->held)
        return r->vnow;
    double v = (double)r->v_anchor + (double)(uv_hrtime() - r->real_anchor) / 1e6 * acc;
    return v > (double)r->vnow ? (uint64_t)v : r->vnow;
}

static uint64_t reply_wait_ns(const struct run *r)
{
    return (uint64_t)(r->o->reply_wait_ms ? r->o->reply_wait_ms : SIM_REPLY_WAIT_MS) * 1000000u;
}

/* Would processing an event at virtual time t pass the end of a reply window whose answer has
 * neither arrived nor had its real time to arrive? Then wait (returns the real ms to wait). */
static bool must_wait(struct run *r, uint64_t t, uint64_t *wait_ms)
{
    uint64_t now = uv_hrtime(), wait_ns = reply_wait_ns(r), longest = 0;
    bool wait = false;

    if (r->air) {
        /* Mesh: relays take virtual time, so the hold is at the gateway: virtual time does not
         * pass the moment a frame asking for an answer reached it until an answer came back. */
        if (!r->gw_hold || t <= r->gw_hold_at)
            return false;
        if (now - r->gw_hold_real >= wait_ns) {
            r->gw_hold = false;
            return false;
        }
        *wait_ms = (r->gw_hold_real + wait_ns - now + 999999) / 1000000;
        return true;
    }

    for (size_t i = 0; i < r->n; i++) {
        struct run_node *rn = &r->nodes[i];
        if (rn->reply_until == 0 || rn->reply_until >= t)
            continue;
        if (rn->stopped || (!lw_node_join_pending(&rn->node) && !lw_node_alarm_pending(&rn->node) &&
                            !rn->trouble_pending)) {
            rn->reply_until = 0; /* answered, or nothing to wait for any more */
            continue;
        }
        if (now - rn->reply_real >= wait_ns) {
            rn->reply_until = 0; /* the answer did not come: the node retries in time */
            continue;
        }
        uint64_t left = rn->reply_real + wait_ns - now;
        if (!wait || left < longest)
            longest = left;
        wait = true;
    }
    *wait_ms = (longest + 999999) / 1000000;
    return wait;
}

static void on_timer(uv_timer_t *t);

static void arm(struct run *r, uint64_t delay_ms)
{
    uv_timer_start(&r->timer, on_timer, delay_ms, 0);
}

static void on_timer(uv_timer_t *th)
{
    struct run *r = th->data;
    double acc = r->o->acceleration;

    for (int batch = 0; !r->stopping; batch++) {
        uint64_t t, wait_ms;
        struct run_node *who;
        enum ev kind = next_event(r, &t, &who);

        if (kind == EV_NONE) { /* ad-hoc: every node has sent its count */
            stop(r);
            return;
        }
        if (must_wait(r, t, &wait_ms)) {
            if (!r->held)
                r->st->reply_waits++;
            r->held = true;
            arm(r, wait_ms ? wait_ms : 1); /* a received answer re-arms at once */
            return;
        }
        if (r->held) { /* pacing goes on from here, without a burst to catch up */
            r->held = false;
            r->v_anchor = r->vnow;
            r->real_anchor = uv_hrtime();
        }
        if (acc > 0) {
            double due_ns = (double)(t > r->v_anchor ? t - r->v_anchor : 0) / acc * 1e6;
            uint64_t elapsed = uv_hrtime() - r->real_anchor;
            if (due_ns > (double)elapsed) {
                arm(r, (uint64_t)ceil((due_ns - (double)elapsed) / 1e6));
                return;
            }
        } else if (batch >= RUN_BATCH) {
            arm(r, 1); /* let signals, queued sends and the receiver through */
            return;
        }

        if (t > r->vnow)
            r->vnow = t;
        switch (kind) {
        case EV_AIR:
            sim_run_air_advance(r);
            break;
        case EV_FAIL:
            sim_run_node_dark(r, who);
            break;
        case EV_RX:
            if (r->air)
                sim_run_air_downlink(r, &r->rxq[r->rx_head]);
            else
                deliver(r, &r->rxq[r->rx_head]);
            r->rx_head = (r->rx_head + 1) % RUN_RXQ;
            r->rx_n--;
            break;
        case EV_POLL:
            poll_node(r, who);
            break;
        case EV_JOIN:
            join_start(r, who);
            break;
        case EV_REPORT:
            report_node(r, who);
            break;
        case EV_TICK:
            if (sim_medium_send_tick(&r->medium, sim_abs_time(r, t)) == LW_OK)
                r->st->ticks++;
            uint64_t nt = t + r->o->sc->tick_ms;
            r->next_tick = nt < r->end_ms ? nt : UINT64_MAX;
            break;
        case EV_END:
            if (r->o->final_tick && sim_medium_send_tick(&r->medium, sim_abs_time(r, t)) == LW_OK)
                r->st->ticks++;
            r->end_ms = UINT64_MAX;
            stop(r);
            break;
        case EV_NONE:
            break;
        }
        if (r->failure)
            stop(r);
    }
}

/* A datagram from the gateway: queue its frame at the current virtual time. */
static void on_medium_rx(void *user, const struct lw_simwire *w)
{
    struct run *r = user;

    if (w->kind != LW_SIMWIRE_AIR || r->stopping)
        return;
    if (r->rx_n == RUN_RXQ || w->len > LW_FRAME_MAX_LEN) {
        r->medium.rx_malformed++;
        return;
    }
    struct rx_item *it = &r->rxq[(r->rx_head + r->rx_n) % RUN_RXQ];
    uint64_t t = vclock(r);
    if (r->rx_n > 0 && t < r->rxq[(r->rx_head + r->rx_n - 1) % RUN_RXQ].t)
        t = r->rxq[(r->rx_head + r->rx_n - 1) % RUN_RXQ].t; /* keep the queue in time order */
    it->t = t;
    it->len = w->len;
    memcpy(it->buf, w->payload, w->len);
    r->rx_n++;
    r->gw_hold = false; /* the gateway answered */
    arm(r, 0);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct run *r = s->data;
    (void)signum;
    r->st->interrupted = true;
    stop(r);
}

static int start_nodes(struct run *r)
{
    const struct sim_scenario *sc = r->o->sc;
    struct sim_state *state = r->o->state;
    bool reserved = false;

    for (size_t i = 0; i < r->n; i++) {
        struct run_node *rn = &r->nodes[i];
        const struct sim_node *sn = sc->nodes[i];
        struct lw_node_config cfg = sn->cfg;
        struct lw_node_hal hal = {.ctx = rn,
                                  .now_ms = hal_now,
                                  .send = hal_send,
                                  .random = hal_random,
                                  .channel_busy = sim_run_channel_busy,
                                  .store_join_nonce = hal_store_join_nonce};
        bool replaced;

        rn->run = r;
        rn->sn = sn;
        rn->st = &r->st->nodes[i];
        rn->st->name = sn->name;
        rn->st->address = sn->join ? 0 : sn->cfg.address;
        rn->st->first_alarm_ms = -1;
        rn->st->joined_ms = -1;
        rn->st->join = sn->join;
        rn->join_at = UINT64_MAX;
        rn->rf = (struct sim_rf){
            .freq_hz = sc->frequency_hz,
            .bw_hz = sc->bw_hz,
            .sf = sc->sf,
            .rssi_x10 = (int16_t)lround(sn->rssi_dbm * 10),
            .snr_x10 = (int16_t)lround(sn->snr_db * 10),
        };
        /* Per-node stream from the scenario seed and the address (join nodes: the EUI), so
         * adding a node does not move the others' reports. */
        uint64_t id = sn->cfg.address;
        for (size_t b = 0; sn->join && b < sizeof(sn->cfg.eui); b++)
            id = id << 8 ^ sn->cfg.eui[b];
        sim_prng_seed(&rn->prng, sc->seed ^ (id * UINT64_C(0x9E3779B97F4A7C15)));

        struct sim_state_node *e = sim_state_node(state, sn->name, sn->cfg.eui, &replaced);
        if (!e) {
            snprintf(r->err, r->errlen, "out of memory");
            return LW_ERR_NOMEM;
        }
        rn->state_idx = (size_t)(e - state->nodes);
        if (replaced)
            fprintf(stderr,
                    "lorawatch-sim: state file: node %s had another EUI there; its counters "
                    "start afresh\n",
                    sn->name);
        cfg.net_id = sc->network_id;
        if (sn->join) {
            if (e->join_nonce > cfg.join_nonce_last)
                cfg.join_nonce_last = e->join_nonce;
        } else {
            /* Counters below the bound may have been used by an earlier run: skip them. */
            if (e->fcnt_bound > cfg.fcnt_start)
                cfg.fcnt_start = e->fcnt_bound;
            uint32_t bound = cfg.fcnt_start > UINT32_MAX - SIM_STATE_FCNT_STEP
                                 ? UINT32_MAX
                                 : cfg.fcnt_start + SIM_STATE_FCNT_STEP;
            if (e->fcnt_bound < bound) {
                e->fcnt_bound = bound;
                reserved = true;
            }
        }
        sim_mutate_config(r->o->mutation, &cfg);
        if (cfg.relay && !cfg.relay_slot_ms) {
            /* A slot must hold a forwarded frame (with its route entries) and a listen. */
            uint32_t us = lw_airtime_us(&r->lora, 64);
            cfg.relay_slot_ms = sc->relay_slot_ms ? (uint32_t)sc->relay_slot_ms : us / 1000 + 50;
        }
        int rc = lw_node_init(&rn->node, &cfg, &hal);
        memset(&cfg, 0, sizeof(cfg));
        if (rc != LW_OK) {
            snprintf(r->err, r->errlen, "node %s: %s", sn->name, lw_strerror(rc));
            return rc;
        }
        rn->base_ms = sn->offset_ms;
        if (sn->join) {
            rn->join_at = sn->offset_ms;
            if (r->o->count) /* ad hoc: reports start once joined */
                rn->done = true;
        }
        if (!rn->done)
            schedule_next(r, rn);
    }
    if (reserved) { /* one write for all the counter bounds of the start */
        char err[512];
        int rc = sim_state_save(state, err, sizeof(err));
        if (rc != LW_OK) {
            snprintf(r->err, r->errlen, "state file: %s", err);
            return rc;
        }
    }
    return LW_OK;
}

int sim_run(const struct sim_run_opts *o, struct sim_stats *st, char *err, size_t errlen)
{
    const struct sim_scenario *sc = o->sc;
    struct run *rp;
    int rc;

    memset(st, 0, sizeof(*st));
    st->scenario = sc->name;
    st->start_ms = sc->start_ms;
    st->n_nodes = sc->n_nodes;
    st->nodes = calloc(sc->n_nodes ? sc->n_nodes : 1, sizeof(*st->nodes));
    rp = calloc(1, sizeof(*rp));
    if (!st->nodes || !rp) {
        free(rp);
        snprintf(err, errlen, "out of memory");
        return LW_ERR_NOMEM;
    }
    struct run *r = rp;
    r->o = o;
    r->st = st;
    r->err = err;
    r->errlen = errlen;
    r->n = sc->n_nodes;
    r->nodes = calloc(sc->n_nodes ? sc->n_nodes : 1, sizeof(*r->nodes));
    if (!r->nodes || !o->state) {
        free(r->nodes);
        free(rp);
        snprintf(err, errlen, !o->state ? "no state" : "out of memory");
        return !o->state ? LW_ERR_INVAL : LW_ERR_NOMEM;
    }
    lw_lora_params_default(&r->lora);
    r->lora.sf = sc->sf;
    r->lora.bw_hz = sc->bw_hz;
    r->end_ms = o->count ? UINT64_MAX : sc->duration_ms;
    r->next_tick = sc->tick_ms && r->end_ms != UINT64_MAX ? 0 : UINT64_MAX;

    rc = start_nodes(r);
    if (rc == LW_OK && sc->has_links) {
        rc = sim_run_air_open(r);
        if (rc != LW_OK)
            snprintf(err, errlen, "mesh topology: %s", lw_strerror(rc));
    }
    if (rc != LW_OK)
        goto fail_nodes;

    rc = uv_loop_init(&r->loop);
    if (rc < 0) {
        snprintf(err, errlen, "event loop: %s", uv_strerror(rc));
        rc = LW_ERR_IO;
        goto fail_nodes;
    }
    rc = sim_medium_open(&r->medium, &r->loop, sc->gateway_host, sc->gateway_port, err, errlen);
    if (rc == LW_OK) {
        rc = sim_medium_listen(&r->medium, on_medium_rx, r, err, errlen);
        if (rc != LW_OK) {
            sim_medium_close(&r->medium, NULL);
            uv_run(&r->loop, UV_RUN_DEFAULT);
        }
    }
    if (rc != LW_OK) {
        uv_loop_close(&r->loop);
        goto fail_nodes;
    }
    uv_timer_init(&r->loop, &r->timer);
    r->timer.data = r;
    uv_signal_init(&r->loop, &r->sigint);
    uv_signal_init(&r->loop, &r->sigterm);
    r->sigint.data = r->sigterm.data = r;
    uv_signal_start(&r->sigint, on_signal, SIGINT);
    uv_signal_start(&r->sigterm, on_signal, SIGTERM);

    r->real_start = r->real_anchor = uv_hrtime();
    st->started = true;
    arm(r, 0);
    uv_run(&r->loop, UV_RUN_DEFAULT);

    st->real_ms = (uv_hrtime() - r->real_start) / 1000000;
    st->virtual_ms = r->vnow;
    st->datagrams = r->medium.datagrams;
    st->send_errors = r->medium.errors;
    st->last_send_error = r->medium.last_error;
    st->rx_datagrams = r->medium.rx_datagrams;
    st->rx_malformed = r->medium.rx_malformed;
    if (r->air)
        sim_run_air_summary(r);
    rc = uv_loop_close(&r->loop);
    if (rc != 0) {
        snprintf(err, errlen, "event loop not empty at exit: %s", uv_strerror(rc));
        rc = LW_ERR_STATE;
    } else {
        rc = r->failure;
    }
    goto out;

fail_nodes:
    /* rc and err are set */
out:
    for (size_t i = 0; i < r->n; i++)
        memset(&r->nodes[i].node, 0, sizeof(r->nodes[i].node)); /* keys */
    sim_air_free(r->air);
    free(r->gw_seen);
    free(r->lat);
    free(r->nodes);
    free(rp);
    return rc;
}

void sim_stats_free(struct sim_stats *st)
{
    free(st->nodes);
    st->nodes = NULL;
    st->n_nodes = 0;
}
