/* SPDX-License-Identifier: Apache-2.0 */
/* Downlink scheduler: a small array queue (few frames wait at once), a token bucket for the duty
 * cycle, and a sorted table of per-node downlink counters. */
#include "lw_downlink.h"
#include "lw_error.h"

#include <stdlib.h>
#include <string.h>

struct dl_frame {
    bool used;
    uint8_t prio;
    uint64_t seq; /* arrival order within a priority */
    int64_t queued_ms;
    int64_t next_try_ms;
    uint32_t busy_tries;
    uint32_t airtime_us;
    uint16_t len;
    uint8_t buf[LW_FRAME_MAX_LEN];
};

struct dl_counter {
    uint16_t node;
    uint8_t key[LW_KEY_LEN];
    uint32_t next;          /* next counter to hand out */
    uint32_t reserved;      /* counters up to this are stored as possibly used */
    uint32_t reserved_prev; /* before the latest reservation request */
    bool exhausted;         /* 0xFFFFFFFF handed out */
};

struct lw_downlink {
    struct lw_downlink_config cfg;
    struct lw_downlink_io io;
    struct lw_downlink_stats st;
    struct dl_frame *q;
    uint64_t seq;
    int64_t radio_free_ms; /* the previous transmission is over by then */
    /* Duty cycle: a bucket of air time (us) refilled at duty_permille of the clock. */
    double bucket_us, bucket_cap_us;
    int64_t bucket_ms;
    bool bucket_started;
    struct dl_counter *ctr;
    size_t n_ctr, cap_ctr;
};

void lw_downlink_config_defaults(struct lw_downlink_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    lw_lora_params_default(&cfg->lora);
    cfg->lbt = true;
    cfg->lbt_backoff_min_ms = LW_DOWNLINK_LBT_BACKOFF_MIN_MS;
    cfg->lbt_backoff_max_ms = LW_DOWNLINK_LBT_BACKOFF_MAX_MS;
    cfg->lbt_attempts = LW_DOWNLINK_LBT_ATTEMPTS;
    cfg->max_age_ms = LW_DOWNLINK_MAX_AGE_MS;
    cfg->queue_cap = LW_DOWNLINK_QUEUE_DEFAULT;
}

struct lw_downlink *lw_downlink_new(const struct lw_downlink_config *cfg,
                                    const struct lw_downlink_io *io)
{
    if (!cfg || !io || !io->transmit)
        return NULL;
    struct lw_downlink *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->cfg = *cfg;
    if (d->cfg.queue_cap == 0)
        d->cfg.queue_cap = LW_DOWNLINK_QUEUE_DEFAULT;
    if (d->cfg.lbt_backoff_min_ms == 0)
        d->cfg.lbt_backoff_min_ms = LW_DOWNLINK_LBT_BACKOFF_MIN_MS;
    if (d->cfg.lbt_backoff_max_ms < d->cfg.lbt_backoff_min_ms)
        d->cfg.lbt_backoff_max_ms = d->cfg.lbt_backoff_min_ms;
    if (d->cfg.lbt_attempts == 0)
        d->cfg.lbt_attempts = LW_DOWNLINK_LBT_ATTEMPTS;
    if (d->cfg.max_age_ms == 0)
        d->cfg.max_age_ms = LW_DOWNLINK_MAX_AGE_MS;
    d->io = *io;
    d->q = calloc(d->cfg.queue_cap, sizeof(*d->q));
    if (!d->q) {
        free(d);
        return NULL;
    }
    /* A full hour's allowance to start with: the rule is a share of any hour. */
    d->bucket_cap_us = (double)d->cfg.duty_permille * 3600.0 * 1000.0;
    d->bucket_us = d->bucket_cap_us;
    return d;
}

void lw_downlink_free(struct lw_downlink *d)
{
    if (!d)
        return;
    free(d->q);
    free(d->ctr);
    free(d);
}

uint32_t lw_downlink_airtime_us(const struct lw_downlink *d, size_t len)
{
    return lw_airtime_us(&d->cfg.lora, len);
}

int lw_downlink_enqueue(struct lw_downlink *d, enum lw_dl_prio prio, const uint8_t *buf, size_t len,
                        int64_t now_ms)
{
    if (!d || !buf || len == 0 || prio >= LW_DL_PRIO_COUNT)
        return LW_ERR_INVAL;
    if (len > LW_FRAME_MAX_LEN)
        return LW_ERR_TOOBIG;
    uint32_t us = lw_downlink_airtime_us(d, len);
    if (us == 0 || (d->cfg.max_tx_ms && us > d->cfg.max_tx_ms * 1000u) ||
        (d->cfg.duty_permille && us > d->bucket_cap_us)) {
        d->st.dropped_airtime++;
        return LW_ERR_RANGE;
    }
    struct dl_frame *slot = NULL, *victim = NULL;
    for (uint32_t i = 0; i < d->cfg.queue_cap; i++) {
        struct dl_frame *f = &d->q[i];
        if (!f->used) {
            slot = f;
            break;
        }
        /* The newest of the least urgent frames is the one to give up for a more urgent one. */
        if (f->prio > prio && (!victim || f->prio > victim->prio ||
                               (f->prio == victim->prio && f->seq > victim->seq)))
            victim = f;
    }
    if (!slot) {
        d->st.dropped_full++;
        if (!victim)
            return LW_ERR_AGAIN;
        slot = victim;
        d->st.depth--;
    }
    memset(slot, 0, sizeof(*slot));
    slot->used = true;
    slot->prio = (uint8_t)prio;
    slot->seq = ++d->seq;
    slot->queued_ms = now_ms;
    slot->next_try_ms = now_ms;
    slot->airtime_us = us;
    slot->len = (uint16_t)len;
    memcpy(slot->buf, buf, len);
    d->st.queued++;
    d->st.depth++;
    return LW_OK;
}

static void refill(struct lw_downlink *d, int64_t now_ms)
{
    if (!d->cfg.duty_permille)
        return;
    if (!d->bucket_started) {
        d->bucket_started = true;
        d->bucket_ms = now_ms;
        return;
    }
    if (now_ms > d->bucket_ms) {
        /* permille of each elapsed ms, in us: ms * permille / 1000 * 1000 */
        d->bucket_us += (double)(now_ms - d->bucket_ms) * d->cfg.duty_permille;
        if (d->bucket_us > d->bucket_cap_us)
            d->bucket_us = d->bucket_cap_us;
        d->bucket_ms = now_ms;
    }
}

/* When the bucket will hold need_us again. */
static int64_t bucket_ready_ms(const struct lw_downlink *d, uint32_t need_us)
{
    double missing = need_us - d->bucket_us;
    if (missing <= 0)
        return d->bucket_ms;
    return d->bucket_ms + (int64_t)(missing / d->cfg.duty_permille) + 1;
}

static void drop(struct lw_downlink *d, struct dl_frame *f, uint64_t *counter)
{
    (*counter)++;
    f->used = false;
    d->st.depth--;
}

static uint32_t backoff_ms(const struct lw_downlink *d, uint32_t tries)
{
    uint64_t span = d->cfg.lbt_backoff_min_ms;
    for (uint32_t i = 1; i < tries && span < d->cfg.lbt_backoff_max_ms; i++)
        span *= 2;
    if (span > d->cfg.lbt_backoff_max_ms)
        span = d->cfg.lbt_backoff_max_ms;
    /* Uniform in [min, span]: two gateways (or a gateway and a relay) that met on the channel
     * do not meet again at once. */
    uint64_t extra = span > d->cfg.lbt_backoff_min_ms ? span - d->cfg.lbt_backoff_min_ms : 0;
    uint32_t r = d->io.random ? d->io.random(d->io.ctx) : 0;
    return (uint32_t)(d->cfg.lbt_backoff_min_ms + (extra ? r % (extra + 1) : 0));
}

int64_t lw_downlink_run(struct lw_downlink *d, int64_t now_ms)
{
    if (!d)
        return -1;
    refill(d, now_ms);
    for (;;) {
        struct dl_frame *best = NULL;
        int64_t next = -1;
        for (uint32_t i = 0; i < d->cfg.queue_cap; i++) {
            struct dl_frame *f = &d->q[i];
            if (!f->used)
                continue;
            if (now_ms - f->queued_ms > (int64_t)d->cfg.max_age_ms) {
                drop(d, f, &d->st.dropped_stale);
                continue;
            }
            if (!best || f->prio < best->prio || (f->prio == best->prio && f->seq < best->seq))
                best = f;
        }
        if (!best)
            return -1;
        /* The most urgent frame waits for its own turn; a routine frame does not overtake it. */
        next = best->next_try_ms;
        if (d->radio_free_ms > next)
            next = d->radio_free_ms;
        if (d->cfg.duty_permille) {
            int64_t ready = bucket_ready_ms(d, best->airtime_us);
            if (ready > next)
                next = ready;
        }
        if (next > now_ms)
            return next;
        if (d->cfg.lbt && d->io.channel_busy) {
            int busy = d->io.channel_busy(d->io.ctx);
            if (busy != 0) { /* busy, or the radio cannot tell: do not talk over anyone */
                d->st.busy++;
                if (++best->busy_tries >= d->cfg.lbt_attempts) {
                    drop(d, best, &d->st.dropped_busy);
                    continue;
                }
                best->next_try_ms = now_ms + backoff_ms(d, best->busy_tries);
                continue;
            }
        }
        int rc = d->io.transmit(d->io.ctx, best->buf, best->len);
        if (rc != LW_OK) {
            drop(d, best, &d->st.tx_errors);
            continue;
        }
        d->st.sent++;
        d->st.airtime_us += best->airtime_us;
        if (d->cfg.duty_permille)
            d->bucket_us -= best->airtime_us;
        d->radio_free_ms = now_ms + (best->airtime_us + 999) / 1000;
        best->used = false;
        d->st.depth--;
    }
}

void lw_downlink_stats(const struct lw_downlink *d, struct lw_downlink_stats *out)
{
    *out = d->st;
}

int lw_downlink_seal(uint16_t net_id, uint16_t node, uint8_t type, uint8_t hop_limit, uint32_t fcnt,
                     const uint8_t key_down[LW_KEY_LEN], const uint8_t *plain, size_t plain_len,
                     uint8_t *out, size_t cap)
{
    if ((type != LW_FT_ACK && type != LW_FT_CMD) || node == LW_ADDR_GATEWAY ||
        node == LW_ADDR_BROADCAST || hop_limit > LW_HOP_MAX)
        return LW_ERR_INVAL;
    struct lw_frame_hdr h = {
        .version = LW_PROTO_VERSION,
        .type = type,
        .hop_limit = hop_limit,
        .net_id = net_id,
        .src = LW_ADDR_GATEWAY,
        .dst = node,
        .fcnt = fcnt,
    };
    return lw_frame_seal(&h, key_down, plain, plain_len, out, cap);
}

void lw_downlink_ack_payload(uint32_t alarm_fcnt, uint8_t out[LW_ACK_PAYLOAD_LEN])
{
    out[0] = (uint8_t)alarm_fcnt;
    out[1] = (uint8_t)(alarm_fcnt >> 8);
    out[2] = (uint8_t)(alarm_fcnt >> 16);
    out[3] = (uint8_t)(alarm_fcnt >> 24);
}

/* ---- downlink counters ------------------------------------------------------------------ */

static struct dl_counter *counter(struct lw_downlink *d, uint16_t node, bool create)
{
    size_t lo = 0, hi = d->n_ctr;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (d->ctr[mid].node < node)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < d->n_ctr && d->ctr[lo].node == node)
        return &d->ctr[lo];
    if (!create)
        return NULL;
    if (d->n_ctr == d->cap_ctr) {
        size_t ncap = d->cap_ctr ? 2 * d->cap_ctr : 16;
        struct dl_counter *nc = realloc(d->ctr, ncap * sizeof(*nc));
        if (!nc)
            return NULL;
        d->ctr = nc;
        d->cap_ctr = ncap;
    }
    memmove(&d->ctr[lo + 1], &d->ctr[lo], (d->n_ctr - lo) * sizeof(*d->ctr));
    memset(&d->ctr[lo], 0, sizeof(*d->ctr));
    d->ctr[lo].node = node;
    d->n_ctr++;
    return &d->ctr[lo];
}

/* The node's counter, brought in line with the key and the stored bound. */
static struct dl_counter *counter_for(struct lw_downlink *d, uint16_t node,
                                      const uint8_t key_down[LW_KEY_LEN], uint32_t stored)
{
    struct dl_counter *c = counter(d, node, true);
    if (!c)
        return NULL;
    if (memcmp(c->key, key_down, LW_KEY_LEN) != 0 || (c->next == 0 && !c->exhausted)) {
        /* First use, or a new session: everything up to the stored bound may have been used. */
        memcpy(c->key, key_down, LW_KEY_LEN);
        c->exhausted = stored == UINT32_MAX;
        c->next = stored + 1; /* wraps to 0 only when exhausted */
        c->reserved = c->reserved_prev = stored;
    } else if (stored >= c->next && !c->exhausted) {
        /* The stored bound is ahead of this table: never go below it. */
        c->exhausted = stored == UINT32_MAX;
        c->next = stored + 1;
    }
    if (stored > c->reserved)
        c->reserved = c->reserved_prev = stored;
    return c;
}

static bool reserve_low(const struct dl_counter *c)
{
    return c->next > c->reserved || c->reserved - c->next < LW_DOWNLINK_FCNT_LOW;
}

int lw_downlink_fcnt_ahead(struct lw_downlink *d, uint16_t node, const uint8_t key_down[LW_KEY_LEN],
                           uint32_t stored, uint32_t *reserve_upto)
{
    *reserve_upto = 0;
    struct dl_counter *c = counter_for(d, node, key_down, stored);
    if (!c)
        return LW_ERR_NOMEM;
    if (c->exhausted || c->next == 0)
        return LW_ERR_RANGE;
    if (reserve_low(c)) {
        uint64_t upto = (uint64_t)c->next + LW_DOWNLINK_FCNT_BLOCK - 1;
        c->reserved_prev = c->reserved;
        c->reserved = upto > UINT32_MAX ? UINT32_MAX : (uint32_t)upto;
        *reserve_upto = c->reserved;
    }
    return LW_OK;
}

int lw_downlink_fcnt_next(struct lw_downlink *d, uint16_t node, const uint8_t key_down[LW_KEY_LEN],
                          uint32_t stored, uint32_t *fcnt, uint32_t *reserve_upto)
{
    *reserve_upto = 0;
    *fcnt = 0;
    struct dl_counter *c = counter_for(d, node, key_down, stored);
    if (!c)
        return LW_ERR_NOMEM;
    if (c->exhausted || c->next == 0)
        return LW_ERR_RANGE;
    *fcnt = c->next;
    if (reserve_low(c)) {
        uint64_t upto = (uint64_t)c->next + LW_DOWNLINK_FCNT_BLOCK - 1;
        c->reserved_prev = c->reserved;
        c->reserved = upto > UINT32_MAX ? UINT32_MAX : (uint32_t)upto;
        *reserve_upto = c->reserved;
    }
    if (c->next == UINT32_MAX)
        c->exhausted = true;
    else
        c->next++;
    return LW_OK;
}

bool lw_downlink_fcnt_unreserved(struct lw_downlink *d, uint16_t node, uint32_t fcnt)
{
    struct dl_counter *c = counter(d, node, false);
    if (!c)
        return false;
    c->reserved = c->reserved_prev;
    return fcnt != 0 && fcnt <= c->reserved;
}
