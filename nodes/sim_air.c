/* SPDX-License-Identifier: Apache-2.0 */
/* Simulated air: a dense link matrix and a list of transmissions kept until nothing still in
 * the air overlaps them. */
#include "sim_air.h"
#include "lw_error.h"

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
    bool resolved;
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
    if (!a->links || !a->down) {
        sim_air_free(a);
        return NULL;
    }
    return a;
}

void sim_air_free(struct sim_air *a)
{
    if (!a)
        return;
    free(a->links);
    free(a->down);
    free(a->txs);
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
    uint32_t toa = lw_airtime_us(&a->lora, len);
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
    t->resolved = false;
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
        if (t->channel != channel || a->down[t->tx])
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

/* Does reception of t at rx survive the other transmissions that overlap it? */
static bool survives(struct sim_air *a, const struct air_tx *t, uint32_t rx, double snr)
{
    for (size_t i = 0; i < a->n_tx; i++) {
        const struct air_tx *o = &a->txs[i];
        if (o == t || o->channel != t->channel || o->start >= t->end || t->start >= o->end)
            continue;
        if (o->tx == rx || a->down[o->tx])
            continue;
        const struct air_link *l = link_at(a, o->tx, rx);
        if (!l->up)
            continue;
        if (snr < l->snr_db + a->capture_db)
            return false;
    }
    return true;
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
            continue;
        }
        if (!survives(a, t, rx, l->snr_db)) {
            a->st.lost_collision++;
            continue;
        }
        if (l->loss > 0 && (double)sim_prng_below(&a->prng, 1000000) < (double)l->loss * 1e6) {
            a->st.lost_link++;
            continue;
        }
        a->st.receptions++;
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
