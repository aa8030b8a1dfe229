/* Virtual-time scheduler: one uv_timer walks the merged schedule of all nodes, TICKs and the end
 * of the scenario; real delays are virtual delays divided by the acceleration. */
#include "sim_run.h"
#include "lw_airtime.h"
#include "lw_error.h"
#include "lw_simwire.h"
#include "sim_medium.h"
#include "sim_prng.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* Acceleration 0 still yields to the loop every RUN_BATCH events for 1 ms: at most ~16000
 * datagrams a second, so a receiver's socket buffer is not overrun by a burst of thousands. */
#define RUN_BATCH 16

struct run;

struct run_node {
    struct run *run;
    const struct sim_node *sn;
    struct lw_node node;
    struct sim_prng prng;
    struct sim_rf rf;
    uint64_t k;       /* index of the next report */
    uint64_t next_ms; /* virtual time of the next report */
    bool done;
    struct sim_node_stats *st;
};

struct run {
    const struct sim_run_opts *o;
    struct sim_stats *st;
    uv_loop_t loop;
    uv_timer_t timer;
    uv_signal_t sigint, sigterm;
    struct sim_medium medium;
    struct lw_lora_params lora;
    struct run_node *nodes;
    size_t n;
    uint64_t end_ms;     /* virtual end (UINT64_MAX: ad-hoc, ends when all nodes are done) */
    uint64_t next_tick;  /* UINT64_MAX: no more TICKs */
    uint64_t vnow;       /* virtual time of the event being processed */
    uint64_t real_start; /* uv_hrtime at virtual 0 */
    bool stopping;
    int failure; /* lw_err that ends the run as a failure */
    char *err;
    size_t errlen;
};

static uint64_t abs_time(const struct run *r, uint64_t v)
{
    return r->o->sc->start_ms > 0 ? (uint64_t)r->o->sc->start_ms + v : 0;
}

static uint64_t hal_now(void *ctx)
{
    struct run_node *rn = ctx;
    return abs_time(rn->run, rn->run->vnow);
}

static int hal_send(void *ctx, const uint8_t *frame, size_t len)
{
    struct run_node *rn = ctx;
    struct run *r = rn->run;
    uint64_t t = abs_time(r, r->vnow);
    enum sim_mutation m = r->o->mutation;
    int rc = LW_OK;

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
    uint64_t t = sn->offset_ms + rn->k * sn->interval_ms + sim_prng_below(&rn->prng, sn->jitter_ms);
    if (t >= r->end_ms || t < sn->offset_ms) {
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

    sim_node_sample(rn->sn, r->vnow, &rd, &alarm);
    int rc = lw_node_report(&rn->node, &rd, alarm);
    if (rc < 0 && rc != LW_ERR_IO) {
        /* The node cannot go on (counter exhausted, bad reading): stop it, fail the run. */
        rn->done = true;
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
                rn->sn->cfg.address, alarm ? "ALARM" : "DATA", fcnt);
        print_reading(r->o->verbose, &rd);
        if (r->o->mutation != SIM_MUT_NONE)
            fprintf(r->o->verbose, " mutate=%s", sim_mutation_name(r->o->mutation));
        fputc('\n', r->o->verbose);
        fflush(r->o->verbose);
    }
    rn->k++;
    schedule_next(r, rn);
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

/* The earliest pending event: 0 node report, 1 TICK, 2 end; ties go to reports first. */
static int next_event(struct run *r, uint64_t *t, struct run_node **who)
{
    int kind = -1;

    *t = UINT64_MAX;
    *who = NULL;
    for (size_t i = 0; i < r->n; i++) {
        struct run_node *rn = &r->nodes[i];
        if (!rn->done && (kind < 0 || rn->next_ms < *t)) {
            *t = rn->next_ms;
            *who = rn;
            kind = 0;
        }
    }
    if (r->next_tick != UINT64_MAX && (kind < 0 || r->next_tick < *t)) {
        *t = r->next_tick;
        *who = NULL;
        kind = 1;
    }
    if (r->end_ms != UINT64_MAX && (kind < 0 || r->end_ms < *t)) {
        *t = r->end_ms;
        *who = NULL;
        kind = 2;
    }
    return kind;
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
        uint64_t t;
        struct run_node *who;
        int kind = next_event(r, &t, &who);

        if (kind < 0) { /* ad-hoc: every node has sent its count */
            stop(r);
            return;
        }
        if (acc > 0) {
            double due_ns = (double)t / acc * 1e6;
            uint64_t elapsed = uv_hrtime() - r->real_start;
            if (due_ns > (double)elapsed) {
                arm(r, (uint64_t)ceil((due_ns - (double)elapsed) / 1e6));
                return;
            }
        } else if (batch >= RUN_BATCH) {
            arm(r, 1); /* let signals, queued sends and the receiver through */
            return;
        }

        r->vnow = t;
        if (kind == 0) {
            report_node(r, who);
            if (r->failure)
                stop(r);
        } else if (kind == 1) {
            if (sim_medium_send_tick(&r->medium, abs_time(r, t)) == LW_OK)
                r->st->ticks++;
            uint64_t nt = t + r->o->sc->tick_ms;
            r->next_tick = nt < r->end_ms ? nt : UINT64_MAX;
        } else {
            if (r->o->final_tick && sim_medium_send_tick(&r->medium, abs_time(r, t)) == LW_OK)
                r->st->ticks++;
            r->end_ms = UINT64_MAX;
            stop(r);
        }
    }
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

    for (size_t i = 0; i < r->n; i++) {
        struct run_node *rn = &r->nodes[i];
        const struct sim_node *sn = sc->nodes[i];
        struct lw_node_config cfg = sn->cfg;
        struct lw_node_hal hal = {.ctx = rn, .now_ms = hal_now, .send = hal_send};

        rn->run = r;
        rn->sn = sn;
        rn->st = &r->st->nodes[i];
        rn->st->name = sn->name;
        rn->st->address = sn->cfg.address;
        rn->st->first_alarm_ms = -1;
        rn->rf = (struct sim_rf){
            .freq_hz = sc->frequency_hz,
            .bw_hz = sc->bw_hz,
            .sf = sc->sf,
            .rssi_x10 = (int16_t)lround(sn->rssi_dbm * 10),
            .snr_x10 = (int16_t)lround(sn->snr_db * 10),
        };
        /* Per-node stream from the scenario seed and the address: adding a node does not
         * move the others' reports. */
        sim_prng_seed(&rn->prng,
                      sc->seed ^ ((uint64_t)sn->cfg.address * UINT64_C(0x9E3779B97F4A7C15)));
        cfg.net_id = sc->network_id;
        sim_mutate_config(r->o->mutation, &cfg);
        int rc = lw_node_init(&rn->node, &cfg, &hal);
        memset(&cfg, 0, sizeof(cfg));
        if (rc != LW_OK) {
            snprintf(r->err, r->errlen, "node %s: %s", sn->name, lw_strerror(rc));
            return rc;
        }
        schedule_next(r, rn);
    }
    return LW_OK;
}

int sim_run(const struct sim_run_opts *o, struct sim_stats *st, char *err, size_t errlen)
{
    const struct sim_scenario *sc = o->sc;
    struct run r;
    int rc;

    memset(st, 0, sizeof(*st));
    memset(&r, 0, sizeof(r));
    r.o = o;
    r.st = st;
    r.err = err;
    r.errlen = errlen;
    r.n = sc->n_nodes;
    st->scenario = sc->name;
    st->start_ms = sc->start_ms;
    st->n_nodes = sc->n_nodes;
    st->nodes = calloc(sc->n_nodes ? sc->n_nodes : 1, sizeof(*st->nodes));
    r.nodes = calloc(sc->n_nodes ? sc->n_nodes : 1, sizeof(*r.nodes));
    if (!st->nodes || !r.nodes) {
        free(r.nodes);
        snprintf(err, errlen, "out of memory");
        return LW_ERR_NOMEM;
    }
    lw_lora_params_default(&r.lora);
    r.lora.sf = sc->sf;
    r.lora.bw_hz = sc->bw_hz;
    r.end_ms = o->count ? UINT64_MAX : sc->duration_ms;
    r.next_tick = sc->tick_ms && r.end_ms != UINT64_MAX ? 0 : UINT64_MAX;

    rc = start_nodes(&r);
    if (rc != LW_OK) {
        for (size_t i = 0; i < r.n; i++)
            memset(&r.nodes[i].node, 0, sizeof(r.nodes[i].node));
        free(r.nodes);
        return rc;
    }

    rc = uv_loop_init(&r.loop);
    if (rc < 0) {
        snprintf(err, errlen, "event loop: %s", uv_strerror(rc));
        free(r.nodes);
        return LW_ERR_IO;
    }
    rc = sim_medium_open(&r.medium, &r.loop, sc->gateway_host, sc->gateway_port, err, errlen);
    if (rc != LW_OK) {
        uv_loop_close(&r.loop);
        free(r.nodes);
        return rc;
    }
    uv_timer_init(&r.loop, &r.timer);
    r.timer.data = &r;
    uv_signal_init(&r.loop, &r.sigint);
    uv_signal_init(&r.loop, &r.sigterm);
    r.sigint.data = r.sigterm.data = &r;
    uv_signal_start(&r.sigint, on_signal, SIGINT);
    uv_signal_start(&r.sigterm, on_signal, SIGTERM);

    r.real_start = uv_hrtime();
    st->started = true;
    arm(&r, 0);
    uv_run(&r.loop, UV_RUN_DEFAULT);

    st->real_ms = (uv_hrtime() - r.real_start) / 1000000;
    st->virtual_ms = r.vnow;
    st->datagrams = r.medium.datagrams;
    st->send_errors = r.medium.errors;
    st->last_send_error = r.medium.last_error;
    rc = uv_loop_close(&r.loop);
    for (size_t i = 0; i < r.n; i++)
        memset(&r.nodes[i].node, 0, sizeof(r.nodes[i].node)); /* keys */
    free(r.nodes);
    if (rc != 0) {
        snprintf(err, errlen, "event loop not empty at exit: %s", uv_strerror(rc));
        return LW_ERR_STATE;
    }
    return r.failure;
}

void sim_stats_free(struct sim_stats *st)
{
    free(st->nodes);
    st->nodes = NULL;
    st->n_nodes = 0;
}
