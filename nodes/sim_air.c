/* SPDX-License-Identifier: Apache-2.0 */
/* Simulated air: a dense link matrix and a list of transmissions kept until nothing still in
 * the air overlaps them. */
#include "sim_air.h"
#include "lw_error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct air_link {
    bool up;
    float snr_db;
    float loss;
};

struct air_tx {
    uint32_t tx, channel;
    uint64_t start, end;
    uint64_t preamble_end; /* start + preamble: when CAD on an SX127x stops seeing it */
    uint8_t sf, sync;
    uint32_t bw;
    bool iq_inv;
    bool resolved;
    bool inert; /* what-if: heard by its receivers, takes no air from anyone else */
    uint16_t len;
    uint8_t buf[LW_FRAME_MAX_LEN];
};

struct sim_air {
    uint32_t n, channels;
    struct lw_lora_params lora;
    double capture_db, floor_db;
    struct sim_prng prng;
    struct air_link *links; /* n * n */
    bool *down;
    struct air_tx *txs;
    size_t n_tx, cap_tx;
    struct sim_air_stats st;
    enum sim_air_model model;
    double cad_payload, sf_rejection_db;
    struct sim_air_radio *radio; /* n */
    struct air_window {
        uint64_t from, until;
    } * win;                       /* n: the latest listen window */
    struct sim_air_energy *energy; /* n */
    bool *inert;                   /* n: sim_air_set_tx_inert */
};

double sim_air_snr_floor(uint8_t sf)
{
    static const double floor_db[] = {-5.0, -7.5, -10.0, -12.5, -15.0, -17.5, -20.0};
    return sf >= 6 && sf <= 12 ? floor_db[sf - 6] : 0;
}

struct sim_air *sim_air_new(uint32_t n, uint32_t channels, const struct lw_lora_params *lora,
                            double capture_db, uint64_t seed)
{
    if (n == 0 || n > 65536 || channels == 0 || channels > 16 || !lora)
        return NULL;
    struct sim_air *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->n = n;
    a->channels = channels;
    a->lora = *lora;
    a->capture_db = capture_db;
    a->floor_db = sim_air_snr_floor(lora->sf);
    sim_prng_seed(&a->prng, seed);
    a->links = calloc((size_t)n * n, sizeof(*a->links));
    a->down = calloc(n, sizeof(*a->down));
    a->radio = calloc(n, sizeof(*a->radio));
    a->win = calloc(n, sizeof(*a->win));
    a->energy = calloc(n, sizeof(*a->energy));
    a->inert = calloc(n, sizeof(*a->inert));
    a->cad_payload = 0.9;
    a->sf_rejection_db = 16.0;
    if (!a->links || !a->down || !a->radio || !a->win || !a->energy || !a->inert) {
        sim_air_free(a);
        return NULL;
    }
    for (uint32_t x = 0; x < n; x++)
        sim_air_radio_default(a, &a->radio[x]);
    return a;
}

void sim_air_free(struct sim_air *a)
{
    if (!a)
        return;
    free(a->links);
    free(a->down);
    free(a->txs);
    free(a->radio);
    free(a->win);
    free(a->energy);
    free(a->inert);
    free(a);
}

static struct air_link *link_at(const struct sim_air *a, uint32_t x, uint32_t y)
{
    return &a->links[(size_t)x * a->n + y];
}

int sim_air_link(struct sim_air *a, uint32_t x, uint32_t y, double snr_db, double loss)
{
    if (!a || x >= a->n || y >= a->n || x == y || loss < 0 || loss > 1)
        return LW_ERR_INVAL;
    struct air_link l = {.up = true, .snr_db = (float)snr_db, .loss = (float)loss};
    *link_at(a, x, y) = l;
    *link_at(a, y, x) = l;
    return LW_OK;
}

bool sim_air_linked(const struct sim_air *a, uint32_t x, uint32_t y, double *snr_db)
{
    if (!a || x >= a->n || y >= a->n || !link_at(a, x, y)->up)
        return false;
    if (snr_db)
        *snr_db = link_at(a, x, y)->snr_db;
    return true;
}

void sim_air_set_down(struct sim_air *a, uint32_t x, bool down)
{
    if (a && x < a->n)
        a->down[x] = down;
}

static bool sending(const struct sim_air *a, uint32_t x, uint64_t from, uint64_t to)
{
    for (size_t i = 0; i < a->n_tx; i++) {
        const struct air_tx *t = &a->txs[i];
        if (t->tx == x && t->start < to && from < t->end)
            return true;
    }
    return false;
}

bool sim_air_sending(const struct sim_air *a, uint32_t x, uint64_t t_us)
{
    return a && sending(a, x, t_us, t_us + 1);
}

uint32_t sim_air_transmit(struct sim_air *a, uint32_t tx, uint32_t channel, uint64_t t_us,
                          const uint8_t *frame, size_t len)
{
    if (!a || tx >= a->n || channel >= a->channels || !frame || len == 0 ||
        len > LW_FRAME_MAX_LEN || a->down[tx])
        return 0;
    uint32_t toa = sim_air_toa_us(a, tx, len);
    if (toa == 0 || sending(a, tx, t_us, t_us + 1))
        return 0;
    if (a->n_tx == a->cap_tx) {
        size_t ncap = a->cap_tx ? a->cap_tx * 2 : 64;
        struct air_tx *nt = realloc(a->txs, ncap * sizeof(*nt));
        if (!nt)
            return 0;
        a->txs = nt;
        a->cap_tx = ncap;
    }
    struct air_tx *t = &a->txs[a->n_tx++];
    t->tx = tx;
    t->channel = channel;
    t->start = t_us;
    t->end = t_us + toa;
    t->preamble_end = t_us + sim_air_preamble_us(a, tx);
    const struct sim_air_radio *r = &a->radio[tx];
    t->sf = a->model == SIM_AIR_HONEST ? r->sf : a->lora.sf;
    t->bw = a->model == SIM_AIR_HONEST ? r->bw_hz : a->lora.bw_hz;
    t->sync = r->sync_word;
    t->iq_inv = r->iq_inverted_tx;
    t->resolved = false;
    t->inert = a->inert[tx];
    a->energy[tx].tx_us += toa;
    a->energy[tx].tx_frames++;
    t->len = (uint16_t)len;
    memcpy(t->buf, frame, len);
    a->st.transmissions++;
    a->st.busy_us[channel] += toa;
    return toa;
}

bool sim_air_busy(const struct sim_air *a, uint32_t x, uint32_t channel, uint64_t t_us)
{
    for (size_t i = 0; a && i < a->n_tx; i++) {
        const struct air_tx *t = &a->txs[i];
        if (t_us < t->start || t_us >= t->end)
            continue;
        if (t->tx == x)
            return true;
        if (t->channel != channel || a->down[t->tx] || t->inert)
            continue;
        const struct air_link *l = link_at(a, t->tx, x);
        if (l->up && l->snr_db >= a->floor_db)
            return true;
    }
    return false;
}

uint64_t sim_air_next_end(const struct sim_air *a)
{
    uint64_t e = UINT64_MAX;
    for (size_t i = 0; a && i < a->n_tx; i++)
        if (!a->txs[i].resolved && a->txs[i].end < e)
            e = a->txs[i].end;
    return e;
}

/* The link over which o interferes with t at rx, or NULL when it does not: another frame on
 * t's channel, overlapping it in time, from a live endpoint other than rx that rx hears. */
static const struct air_link *interferer(const struct sim_air *a, const struct air_tx *t,
                                         const struct air_tx *o, uint32_t rx)
{
    if (o == t || o->channel != t->channel || o->start >= t->end || t->start >= o->end ||
        o->tx == rx || a->down[o->tx] || o->inert)
        return NULL;
    const struct air_link *l = link_at(a, o->tx, rx);
    return l->up ? l : NULL;
}

/* Does reception of t at rx survive the other transmissions that overlap it? */
static bool survives(struct sim_air *a, const struct air_tx *t, uint32_t rx, double snr)
{
    for (size_t i = 0; i < a->n_tx; i++) {
        const struct air_link *l = interferer(a, t, &a->txs[i], rx);
        if (l && snr < l->snr_db + a->capture_db)
            return false;
    }
    return true;
}

/* Honest: the interference at rx adds up (power, relative to the noise), and a receiver that
 * locked on an earlier frame's preamble it could demodulate stays with it. */
static int survives_honest(struct sim_air *a, const struct air_tx *t, uint32_t rx, double snr)
{
    double interf = 0; /* linear, in units of the noise power */
    const struct sim_air_radio *r = &a->radio[rx];
    for (size_t i = 0; i < a->n_tx; i++) {
        const struct air_tx *o = &a->txs[i];
        const struct air_link *l = interferer(a, t, o, rx);
        if (!l)
            continue;
        double p = pow(10.0, l->snr_db / 10.0);
        if (o->sf != t->sf)
            p *= pow(10.0, -a->sf_rejection_db / 10.0);
        interf += p;
        /* Locked on an earlier, demodulable frame of the receiver's own settings. */
        if (o->start < t->start && o->sf == r->sf && o->bw == r->bw_hz && o->sync == r->sync_word &&
            o->iq_inv == r->iq_inverted_rx && l->snr_db >= a->floor_db &&
            t->start >= o->preamble_end)
            return 2;
    }
    if (interf <= 0)
        return 0;
    if (snr - 10.0 * log10(interf) < a->capture_db)
        return 1;
    if (snr - 10.0 * log10(1.0 + interf) < a->floor_db)
        return 1;
    return 0;
}

/* Honest: is rx tuned to what t was sent with, and listening when it began? */
static int tuned(struct sim_air *a, const struct air_tx *t, uint32_t rx)
{
    const struct sim_air_radio *r = &a->radio[rx];
    if (!(r->rx_channels & (1u << t->channel)) || r->sf != t->sf || r->bw_hz != t->bw ||
        r->sync_word != t->sync || r->iq_inverted_rx != t->iq_inv)
        return 1;
    if (!r->rx_always && !(t->start >= a->win[rx].from && t->start < a->win[rx].until))
        return 2;
    return 0;
}

/* Who receives t: decided at its end, before any callback can add transmissions. */
static size_t resolve(struct sim_air *a, const struct air_tx *t, uint32_t *rx_out, float *snr_out)
{
    size_t k = 0;
    if (a->down[t->tx])
        return 0;
    for (uint32_t rx = 0; rx < a->n; rx++) {
        const struct air_link *l = link_at(a, t->tx, rx);
        if (rx == t->tx || !l->up || a->down[rx])
            continue;
        if (l->snr_db < a->floor_db) {
            a->st.lost_weak++;
            continue;
        }
        if (sending(a, rx, t->start, t->end)) {
            a->st.lost_busy++;
            a->energy[rx].rx_busy++;
            continue;
        }
        if (a->model == SIM_AIR_HONEST) {
            int why = tuned(a, t, rx);
            if (why) {
                if (why == 1)
                    a->st.lost_mismatch++;
                else
                    a->st.lost_asleep++;
                continue;
            }
            why = survives_honest(a, t, rx, l->snr_db);
            if (why) {
                if (why == 2) {
                    a->st.lost_locked++;
                    a->energy[rx].rx_locked++;
                } else {
                    a->st.lost_collision++;
                    a->energy[rx].rx_collision++;
                }
                continue;
            }
        } else if (!survives(a, t, rx, l->snr_db)) {
            a->st.lost_collision++;
            a->energy[rx].rx_collision++;
            continue;
        }
        if (l->loss > 0 && (double)sim_prng_below(&a->prng, 1000000) < (double)l->loss * 1e6) {
            a->st.lost_link++;
            a->energy[rx].rx_link++;
            continue;
        }
        a->st.receptions++;
        a->energy[rx].rx_ok++;
        rx_out[k] = rx;
        snr_out[k] = l->snr_db;
        k++;
    }
    return k;
}

/* Drop resolved transmissions that nothing unresolved can overlap any more. */
static void prune(struct sim_air *a)
{
    uint64_t oldest = UINT64_MAX;
    for (size_t i = 0; i < a->n_tx; i++)
        if (!a->txs[i].resolved && a->txs[i].start < oldest)
            oldest = a->txs[i].start;
    size_t w = 0;
    for (size_t i = 0; i < a->n_tx; i++) {
        if (a->txs[i].resolved && a->txs[i].end <= oldest)
            continue;
        if (w != i)
            a->txs[w] = a->txs[i];
        w++;
    }
    a->n_tx = w;
}

size_t sim_air_advance(struct sim_air *a, uint64_t t_us, sim_air_rx_fn fn, void *user)
{
    size_t count = 0;
    if (!a)
        return 0;
    uint32_t *rx = malloc(a->n * sizeof(*rx));
    float *snr = malloc(a->n * sizeof(*snr));
    if (!rx || !snr) {
        free(rx);
        free(snr);
        return 0;
    }
    for (;;) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < a->n_tx; i++)
            if (!a->txs[i].resolved && a->txs[i].end <= t_us &&
                (best == SIZE_MAX || a->txs[i].end < a->txs[best].end))
                best = i;
        if (best == SIZE_MAX)
            break;
        struct air_tx t = a->txs[best]; /* the callbacks may add (and move) transmissions */
        size_t k = resolve(a, &a->txs[best], rx, snr);
        a->txs[best].resolved = true;
        for (size_t i = 0; i < k; i++) {
            count++;
            if (fn)
                fn(user, rx[i], t.tx, t.buf, t.len, snr[i], t.end);
        }
    }
    prune(a);
    free(rx);
    free(snr);
    return count;
}

void sim_air_stats(const struct sim_air *a, struct sim_air_stats *out)
{
    *out = a->st;
}

uint32_t sim_air_channels(const struct sim_air *a)
{
    return a->channels;
}

void sim_air_set_model(struct sim_air *a, enum sim_air_model m)
{
    if (a)
        a->model = m;
}

void sim_air_radio_default(const struct sim_air *a, struct sim_air_radio *r)
{
    memset(r, 0, sizeof(*r));
    r->chip = SIM_AIR_SX127X;
    r->sf = a->lora.sf;
    r->bw_hz = a->lora.bw_hz;
    r->sync_word = 0x12;
    r->rx_channels = a->channels >= 32 ? UINT32_MAX : (1u << a->channels) - 1u;
    r->rx_always = true;
    r->tx_dbm = 14;
}

int sim_air_set_radio(struct sim_air *a, uint32_t x, const struct sim_air_radio *r)
{
    if (!a || !r || x >= a->n || r->sf < 6 || r->sf > 12 || r->bw_hz == 0)
        return LW_ERR_INVAL;
    a->radio[x] = *r;
    return LW_OK;
}

int sim_air_listen(struct sim_air *a, uint32_t x, uint64_t from_us, uint64_t until_us)
{
    if (!a || x >= a->n || until_us < from_us)
        return LW_ERR_INVAL;
    struct air_window *w = &a->win[x];
    if (from_us <= w->until && until_us >= w->from && w->until > 0) {
        /* Touching the current window: extend it, count only the new time. */
        if (until_us > w->until) {
            a->energy[x].rx_us += until_us - w->until;
            w->until = until_us;
        }
        if (from_us < w->from) {
            a->energy[x].rx_us += w->from - from_us;
            w->from = from_us;
        }
        return LW_OK;
    }
    w->from = from_us;
    w->until = until_us;
    a->energy[x].rx_us += until_us - from_us;
    return LW_OK;
}

static struct lw_lora_params lora_of(const struct sim_air *a, uint32_t x)
{
    struct lw_lora_params p = a->lora;
    if (a->model == SIM_AIR_HONEST && x < a->n) {
        p.sf = a->radio[x].sf;
        p.bw_hz = a->radio[x].bw_hz;
    }
    return p;
}

uint32_t sim_air_toa_us(const struct sim_air *a, uint32_t x, size_t len)
{
    struct lw_lora_params p = lora_of(a, x);
    return lw_airtime_us(&p, len);
}

static double symbol_us(const struct lw_lora_params *p)
{
    return (double)(1u << p->sf) * 1e6 / (double)p->bw_hz;
}

uint32_t sim_air_preamble_us(const struct sim_air *a, uint32_t x)
{
    struct lw_lora_params p = lora_of(a, x);
    return (uint32_t)lround((p.preamble + 4.25) * symbol_us(&p));
}

bool sim_air_cad(struct sim_air *a, uint32_t x, uint32_t channel, uint64_t t_us, uint32_t *cad_us)
{
    if (cad_us)
        *cad_us = 0;
    if (!a || x >= a->n)
        return false;
    if (a->model != SIM_AIR_HONEST)
        return sim_air_busy(a, x, channel, t_us);
    const struct sim_air_radio *r = &a->radio[x];
    struct lw_lora_params p = lora_of(a, x);
    /* SX127x: the receiver on for (2^SF + 32) / BW, then a correlation of a little less than a
     * symbol: about two symbols (datasheet, "Principle of Operation" of CAD). SX126x: cadSymbolNum
     * 4 at SF9 and above, 2 below (the STM32WL reference manual's recommended settings), plus
     * half a symbol of processing. */
    double sym = r->chip == SIM_AIR_SX126X ? (r->sf >= 9 ? 4.5 : 2.5) : 2.0;
    uint32_t d = (uint32_t)lround(sym * symbol_us(&p));
    if (cad_us)
        *cad_us = d;
    a->energy[x].cad_us += d;
    a->energy[x].cads++;
    a->st.cads++;
    if (sending(a, x, t_us, t_us + 1))
        return true;
    for (size_t i = 0; i < a->n_tx; i++) {
        const struct air_tx *o = &a->txs[i];
        if (o->channel != channel || o->start >= t_us + d || t_us >= o->end || a->down[o->tx] ||
            o->inert)
            continue;
        if (o->sf != r->sf || o->bw != r->bw_hz)
            continue; /* CAD correlates against its own chirps only */
        const struct air_link *l = link_at(a, o->tx, x);
        if (!l->up || l->snr_db < a->floor_db)
            continue;
        bool in_preamble = o->start < t_us + d && t_us < o->preamble_end;
        if (in_preamble || (r->chip == SIM_AIR_SX126X &&
                            (double)sim_prng_below(&a->prng, 1000000) < a->cad_payload * 1e6)) {
            a->st.cad_hits++;
            return true;
        }
    }
    return false;
}

void sim_air_set_cad_payload(struct sim_air *a, double p)
{
    if (a && p >= 0 && p <= 1)
        a->cad_payload = p;
}

void sim_air_set_sf_rejection(struct sim_air *a, double db)
{
    if (a && db >= 0)
        a->sf_rejection_db = db;
}

int sim_air_set_tx_inert(struct sim_air *a, uint32_t x, bool inert)
{
    if (!a || x >= a->n)
        return LW_ERR_INVAL;
    a->inert[x] = inert;
    return LW_OK;
}

void sim_air_energy(const struct sim_air *a, uint32_t x, struct sim_air_energy *out)
{
    memset(out, 0, sizeof(*out));
    if (a && x < a->n)
        *out = a->energy[x];
}
