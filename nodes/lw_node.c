/* SPDX-License-Identifier: Apache-2.0 */
/* Portable sensor-node core: join, reading -> TLVs -> sealed frame -> HAL send, downlinks. */
#include "lw_node.h"
#include "lw_error.h"
#include "lw_checkin.h"
#include "lw_join.h"
#include "lw_presence.h"
#include "lw_route.h"

#include <string.h>

void lw_node_config_defaults(struct lw_node_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->hop_limit = LW_NODE_HOP_LIMIT_DEFAULT;
    cfg->fcnt_start = 1;
    cfg->join_backoff_min_ms = LW_NODE_JOIN_BACKOFF_MIN_MS;
    cfg->join_backoff_max_ms = LW_NODE_JOIN_BACKOFF_MAX_MS;
    cfg->alarm_retry_min_ms = LW_NODE_ALARM_RETRY_MIN_MS;
    cfg->alarm_retry_max_ms = LW_NODE_ALARM_RETRY_MAX_MS;
}

static bool lw_node_key_is_zero(const uint8_t key[LW_KEY_LEN])
{
    uint8_t acc = 0;

    for (size_t i = 0; i < LW_KEY_LEN; i++)
        acc |= key[i];
    return acc == 0;
}

/* Key material in the node state must not linger once replaced; volatile keeps the stores. */
static void lw_node_wipe(void *p, size_t len)
{
    volatile uint8_t *v = p;

    while (len--)
        *v++ = 0;
}

int lw_node_init(struct lw_node *n, const struct lw_node_config *cfg, const struct lw_node_hal *hal)
{
    bool personal, joinable;

    if (n == NULL || cfg == NULL || hal == NULL || hal->send == NULL)
        return LW_ERR_INVAL;
    personal = !lw_node_key_is_zero(cfg->key);
    joinable = !lw_node_key_is_zero(cfg->root_key);
    /* A relay without keys of its own only forwards (it still needs an address for its route
     * entries); every other node needs a key or a root key. */
    if ((!personal && !joinable && !cfg->relay) || cfg->hop_limit > LW_HOP_MAX)
        return LW_ERR_INVAL;
    if (cfg->relay && (cfg->address == LW_ADDR_GATEWAY || cfg->address == LW_ADDR_BROADCAST))
        return LW_ERR_INVAL;
    if (cfg->relay && cfg->relay_rank > LW_HOP_MAX && cfg->relay_rank != LW_NODE_RELAY_RANK_LEARN)
        return LW_ERR_INVAL;
    if (personal && (cfg->address == LW_ADDR_GATEWAY || cfg->address == LW_ADDR_BROADCAST))
        return LW_ERR_INVAL;
    if (personal && joinable && memcmp(cfg->key, cfg->root_key, LW_KEY_LEN) == 0)
        return LW_ERR_INVAL;
    memset(n, 0, sizeof(*n));
    n->cfg = *cfg;
    if (n->cfg.join_backoff_min_ms == 0)
        n->cfg.join_backoff_min_ms = LW_NODE_JOIN_BACKOFF_MIN_MS;
    if (n->cfg.join_backoff_max_ms == 0)
        n->cfg.join_backoff_max_ms = LW_NODE_JOIN_BACKOFF_MAX_MS;
    if (n->cfg.join_backoff_max_ms < n->cfg.join_backoff_min_ms)
        n->cfg.join_backoff_max_ms = n->cfg.join_backoff_min_ms;
    if (n->cfg.alarm_retry_min_ms == 0)
        n->cfg.alarm_retry_min_ms = LW_NODE_ALARM_RETRY_MIN_MS;
    if (n->cfg.alarm_retry_max_ms == 0)
        n->cfg.alarm_retry_max_ms = LW_NODE_ALARM_RETRY_MAX_MS;
    if (n->cfg.alarm_retry_max_ms < n->cfg.alarm_retry_min_ms)
        n->cfg.alarm_retry_max_ms = n->cfg.alarm_retry_min_ms;
    if (n->cfg.relay_slot_ms == 0)
        n->cfg.relay_slot_ms = LW_NODE_RELAY_SLOT_MS;
    if (n->cfg.hop_retries == 0)
        n->cfg.hop_retries = LW_NODE_HOP_RETRIES;
    n->relay_rank = cfg->relay_rank;
    if (cfg->relay)
        n->address = cfg->address; /* route entries name it, also before any join */
    n->hal = *hal;
    n->join_nonce_last = cfg->join_nonce_last;
    lw_replay_init(&n->down_replay);
    if (personal) {
        n->have_session = true;
        n->address = cfg->address;
        memcpy(n->key_up, cfg->key, LW_KEY_LEN);
        memcpy(n->key_down, cfg->key, LW_KEY_LEN);
        n->fcnt_next = cfg->fcnt_start;
        if (cfg->fcnt_down_top > 0)
            lw_replay_init_at(&n->down_replay, cfg->fcnt_down_top);
    }
    return LW_OK;
}

static uint64_t lw_node_now(const struct lw_node *n);
static uint64_t lw_node_backoff(const struct lw_node *n, uint32_t attempt, uint32_t min_ms,
                                uint32_t max_ms);

/* Seal and send one reading; *fcnt_used gets the counter when a frame was sealed. */
static int lw_node_send_reading(struct lw_node *n, const struct lw_reading *r, bool alarm,
                                const uint8_t *extra, size_t extra_len, uint32_t *fcnt_used)
{
    bool urgent = n->next_urgent; /* lw_node_report_trouble: DATA with ACK_REQ */
    n->next_urgent = false;
    uint8_t plain[LW_READING_MAX_LEN + LW_PRESENCE_MAX_LEN];
    struct lw_frame_hdr hdr;
    int plen, flen;

    if (n == NULL || r == NULL)
        return LW_ERR_INVAL;
    if (!n->have_session)
        return LW_ERR_STATE;
    if (n->fcnt_spent)
        return LW_ERR_RANGE;
    plen = lw_reading_encode(r, plain, LW_READING_MAX_LEN);
    if (plen < 0)
        return plen;
    if (extra_len > 0) {
        /* Only optional TLVs (0x80..): a decoder that does not know them skips them. */
        if (extra == NULL || extra[0] < 0x80u || extra_len > LW_PRESENCE_MAX_LEN)
            return LW_ERR_INVAL;
        memcpy(plain + plen, extra, extra_len);
        plen += (int)extra_len;
    }

    memset(&hdr, 0, sizeof(hdr));
    hdr.version = LW_PROTO_VERSION;
    hdr.type = alarm ? LW_FT_ALARM : LW_FT_DATA;
    hdr.hop_count = 0;
    hdr.hop_limit = n->cfg.hop_limit;
    hdr.ack_req = alarm || urgent;
    hdr.net_id = n->cfg.net_id;
    hdr.src = n->address;
    hdr.dst = LW_ADDR_GATEWAY;
    hdr.fcnt = n->fcnt_next;
    flen = lw_frame_seal(&hdr, n->key_up, plain, (size_t)plen, n->frame, sizeof(n->frame));
    memset(plain, 0, sizeof(plain));
    if (flen < 0)
        return flen; /* nothing sealed: the counter may be used again */
    *fcnt_used = hdr.fcnt;

    if (n->fcnt_next == UINT32_MAX)
        n->fcnt_spent = true;
    else
        n->fcnt_next++;

    int rc = n->hal.send(n->hal.ctx, n->frame, (size_t)flen);
    if (rc < 0)
        return rc;
    return flen;
}

static uint64_t lw_node_hop_wait(const struct lw_node *n);
static uint32_t lw_node_rand(const struct lw_node *n);

static void lw_node_alarm_sent(struct lw_node *n, uint32_t fcnt, uint64_t now)
{
    n->alarm_last_fcnt = fcnt;
    n->alarm_attempts++;
    n->alarm_hop_acked = n->cfg.hop_ack_ms == 0;
    n->alarm_hop_tries = 0;
    n->alarm_hop_at = now + lw_node_hop_wait(n);
    uint32_t min = n->cfg.alarm_retry_min_ms + n->down_hops * LW_NODE_ALARM_RETRY_PER_HOP_MS;
    n->alarm_retry_at =
        now + lw_node_backoff(n, n->alarm_attempts, min,
                              min > n->cfg.alarm_retry_max_ms ? min : n->cfg.alarm_retry_max_ms);
}

int lw_node_report(struct lw_node *n, const struct lw_reading *r, bool alarm)
{
    return lw_node_report_with(n, r, alarm, NULL, 0);
}

int lw_node_report_with(struct lw_node *n, const struct lw_reading *r, bool alarm,
                        const uint8_t *extra, size_t extra_len)
{
    uint32_t fcnt = 0;
    int rc;

    if (n == NULL || r == NULL)
        return LW_ERR_INVAL;
    rc = lw_node_send_reading(n, r, alarm, extra, extra_len, &fcnt);
    if (alarm && fcnt != 0 && !n->cfg.alarm_send_once) {
        /* The newest alarm reading is the one that must arrive; it replaces an older one. */
        n->alarm_pending = true;
        n->alarm_reading = *r;
        n->alarm_first_fcnt = fcnt;
        n->alarm_attempts = 0;
        lw_node_alarm_sent(n, fcnt, lw_node_now(n));
    }
    return rc;
}

/* A relay's report with its presence TLV; urgent: as a trouble report, one more try of the
 * change not yet acknowledged. */
static int lw_node_presence_send(struct lw_node *n, const struct lw_reading *r, bool urgent)
{
    struct lw_presence pr;
    uint8_t extra[LW_PRESENCE_MAX_LEN];
    uint64_t now = lw_node_now(n);
    uint32_t fcnt = n->fcnt_next;
    if (urgent && lw_node_presence_changed(n, now)) {
        /* A new state: only an acknowledgement of a report carrying it (or a newer one) ends
         * the tries, and they start again. */
        n->presence_first_fcnt = fcnt;
        n->presence_tries = 0;
    }
    lw_node_presence(n, now, &pr);
    int el = lw_presence_encode(&pr, extra, sizeof(extra));
    if (el < 0)
        return el;
    if (!urgent)
        return lw_node_report_with(n, r, false, extra, (size_t)el);
    n->presence_tries++;
    uint64_t wait = LW_NODE_PRESENCE_REPEAT_MS;
    for (uint8_t k = 2; k < n->presence_tries && wait < 64000u; k++)
        wait *= 2;
    if (wait > 64000u)
        wait = 64000u;
    n->presence_repeat_at =
        now + wait + (n->presence_tries >= 3 ? lw_node_rand(n) % (wait / 4) : 0);
    int rc = lw_node_report_trouble(n, r, extra, (size_t)el);
    if (rc > 0)
        n->presence_last_fcnt = fcnt;
    return rc;
}

int lw_node_relay_report(struct lw_node *n, const struct lw_reading *r)
{
    if (n == NULL || r == NULL || !n->cfg.relay)
        return LW_ERR_INVAL;
    uint64_t now = lw_node_now(n);
    if (lw_node_presence_changed(n, now)) {
        /* Whatever made this report due, it carries the change: a trouble report, tried until
         * the gateway acknowledges one that carries this state or a newer one. */
        n->presence_unacked = true;
        n->presence_reading = *r;
    }
    return lw_node_presence_send(n, r, n->presence_unacked);
}

int lw_node_report_trouble(struct lw_node *n, const struct lw_reading *r, const uint8_t *extra,
                           size_t extra_len)
{
    if (n == NULL)
        return LW_ERR_INVAL;
    n->next_urgent = true;
    return lw_node_report_with(n, r, false, extra, extra_len);
}

uint32_t lw_node_fcnt_next(const struct lw_node *n)
{
    return n->fcnt_next;
}

bool lw_node_fcnt_exhausted(const struct lw_node *n)
{
    return n->fcnt_spent;
}

static uint64_t lw_node_now(const struct lw_node *n)
{
    return n->hal.now_ms != NULL ? n->hal.now_ms(n->hal.ctx) : 0;
}

/* Delay before retry number attempt (1 = after the first request): min doubling up to max,
 * then +-25 % from hal.random so that nodes which failed together spread out. */
static uint64_t lw_node_backoff(const struct lw_node *n, uint32_t attempt, uint32_t min_ms,
                                uint32_t max_ms)
{
    uint64_t d = min_ms;

    for (uint32_t i = 1; i < attempt && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    if (n->hal.random != NULL && d >= 4) {
        uint64_t span = d / 2; /* [-25 %, +25 %) */
        d = d - d / 4 + n->hal.random(n->hal.ctx) % span;
    }
    return d;
}

/* v1.1: how long to listen for the next hop forwarding an ALARM before sending it again: the
 * configured wait plus a random part that widens with every try (tries so far), so senders whose
 * copies collided at a receiver they cannot hear each other from do not collide again. */
static uint64_t lw_node_hop_wait_try(const struct lw_node *n, uint32_t tries)
{
    uint32_t w = n->cfg.hop_ack_ms;
    if (w == 0)
        return 0;
    uint32_t spread = (w / 2) * (tries + 1);
    return w + (n->hal.random != NULL && spread > 0 ? n->hal.random(n->hal.ctx) % spread : 0);
}

static uint64_t lw_node_hop_wait(const struct lw_node *n)
{
    return lw_node_hop_wait_try(n, n->alarm_hop_tries);
}

/* One JOIN_REQ with the next nonce, and the retry after it. */
static int lw_node_join_send(struct lw_node *n, uint64_t now_ms)
{
    struct lw_join_req req;
    uint32_t nonce;
    int rc, flen;

    if (n->join_nonce_last == UINT32_MAX)
        return LW_ERR_RANGE;
    /* Write ahead: once stored, a reboot resumes after this nonce whether or not it was sent. */
    nonce = n->join_nonce_last + 1;
    rc = n->hal.store_join_nonce(n->hal.ctx, nonce);
    if (rc < 0)
        return rc;
    n->join_nonce_last = nonce;
    n->join_pending = false; /* an accept for an older nonce is stale from here on */

    memset(&req, 0, sizeof(req));
    req.net_id = n->cfg.net_id;
    req.hop_limit = n->cfg.hop_limit;
    memcpy(req.eui, n->cfg.eui, LW_JOIN_EUI_LEN);
    req.join_nonce = nonce;
    flen = lw_join_request_build(&req, n->cfg.root_key, n->frame, sizeof(n->frame));
    if (flen < 0)
        return flen;
    n->join_pending = true;
    n->join_attempts++;
    n->join_retry_at = now_ms + lw_node_backoff(n, n->join_attempts, n->cfg.join_backoff_min_ms,
                                                n->cfg.join_backoff_max_ms);
    rc = n->hal.send(n->hal.ctx, n->frame, (size_t)flen);
    if (rc < 0)
        return rc;
    return flen;
}

int lw_node_join_start(struct lw_node *n)
{
    if (n == NULL)
        return LW_ERR_INVAL;
    if (lw_node_key_is_zero(n->cfg.root_key))
        return LW_ERR_STATE;
    if (n->hal.store_join_nonce == NULL)
        return LW_ERR_INVAL;
    if (n->join_nonce_last == UINT32_MAX)
        return LW_ERR_RANGE;
    n->join_attempts = 0;
    n->join_failed = false;
    return lw_node_join_send(n, lw_node_now(n));
}

static int lw_node_relay_send_due(struct lw_node *n, uint64_t now_ms);
static void lw_node_child_heard(struct lw_node *n, uint16_t src, uint64_t now_ms);
static int lw_node_checkin_send(struct lw_node *n, uint64_t now_ms);
static int lw_node_hear_checkin(struct lw_node *n, const uint8_t *frame, size_t len,
                                uint64_t now_ms);
static int lw_node_hear_beacon(struct lw_node *n, const uint8_t *frame, size_t len,
                               uint64_t now_ms);
static bool lw_node_slotted(const struct lw_node *n, uint64_t now_ms);
static void lw_node_cycle_roll(struct lw_node *n, uint64_t now_ms);
static uint8_t lw_node_next_slot(const struct lw_node *n);
static uint64_t lw_node_slot_at(const struct lw_node *n, uint8_t s);
static void lw_node_relay_acked_by_gateway(struct lw_node *n, uint16_t node);

int lw_node_poll(struct lw_node *n, uint64_t now_ms)
{
    int rc;

    if (n == NULL)
        return LW_ERR_INVAL;
    rc = lw_node_relay_send_due(n, now_ms);
    if (rc != 0)
        return rc;
    if (n->presence_unacked && now_ms >= n->presence_repeat_at) {
        if (n->presence_tries >= LW_NODE_PRESENCE_TRIES) {
            n->presence_unacked = false; /* its routine reports carry the presence on */
            return 0;
        }
        rc = lw_node_presence_send(n, &n->presence_reading, true);
        return rc < 0 ? rc : 1;
    }
    if (n->checkin_pending && now_ms >= n->checkin_retry_at) {
        uint8_t tries =
            n->checkin_unanswered >= LW_NODE_CHECKIN_ORPHANED ? 1u : LW_NODE_CHECKIN_TRIES;
        if (n->checkin_tries >= tries) {
            n->checkin_pending = false; /* the next period tries again */
            if (n->checkin_unanswered < UINT8_MAX)
                n->checkin_unanswered++;
            return 0;
        }
        rc = lw_node_checkin_send(n, now_ms);
        return rc < 0 ? rc : 1;
    }
    if (n->alarm_pending && n->have_session && !n->alarm_hop_acked && now_ms >= n->alarm_hop_at &&
        now_ms < n->alarm_retry_at) {
        /* v1.1: the next hop was not overheard forwarding it: send it again now rather than
         * wait for the end-to-end retry. A new counter, as every retry. */
        if (n->alarm_hop_tries >= n->cfg.hop_retries) {
            n->alarm_hop_acked = true; /* the end-to-end retry takes over */
            return 0;
        }
        if (n->hal.channel_busy != NULL && n->hal.channel_busy(n->hal.ctx) > 0) {
            /* The next hop (or a neighbour) is on the air: a copy now would collide. */
            n->alarm_hop_at = now_ms + 50u + lw_node_rand(n) % 300u;
            return 0;
        }
        uint32_t fcnt = 0;
        rc = lw_node_send_reading(n, &n->alarm_reading, true, NULL, 0, &fcnt);
        if (fcnt != 0)
            n->alarm_last_fcnt = fcnt;
        n->alarm_hop_tries++;
        n->hop_retries_sent++;
        n->alarm_hop_at = now_ms + lw_node_hop_wait(n);
        return rc < 0 ? rc : 1;
    }
    if (n->alarm_pending && n->have_session && now_ms >= n->alarm_retry_at) {
        uint32_t fcnt = 0;
        rc = lw_node_send_reading(n, &n->alarm_reading, true, NULL, 0, &fcnt);
        if (fcnt != 0)
            lw_node_alarm_sent(n, fcnt, now_ms);
        else /* nothing sealed (counter spent): try later, do not spin */
            n->alarm_retry_at = now_ms + n->cfg.alarm_retry_max_ms;
        return rc < 0 ? rc : 1;
    }
    if (n->join_pending && now_ms >= n->join_retry_at) {
        if (n->cfg.join_attempts_max != 0 && n->join_attempts >= n->cfg.join_attempts_max) {
            n->join_pending = false;
            n->join_failed = true;
            return 0;
        }
        uint32_t before = n->join_nonce_last;
        rc = lw_node_join_send(n, now_ms);
        if (rc == LW_ERR_RANGE) {
            n->join_pending = false; /* no nonce left: only a new root key helps */
            n->join_failed = true;
        } else if (rc < 0 && n->join_nonce_last == before) {
            /* Nothing stored or built: try again after the back-off, do not spin. */
            n->join_retry_at =
                now_ms + lw_node_backoff(n, n->join_attempts + 1, n->cfg.join_backoff_min_ms,
                                         n->cfg.join_backoff_max_ms);
        }
        return rc < 0 ? rc : 1;
    }
    return 0;
}

uint64_t lw_node_next_due(const struct lw_node *n)
{
    uint64_t due = UINT64_MAX;

    if (n->join_pending)
        due = n->join_retry_at;
    if (n->alarm_pending && n->have_session && n->alarm_retry_at < due)
        due = n->alarm_retry_at;
    if (n->alarm_pending && n->have_session && !n->alarm_hop_acked && n->alarm_hop_at < due)
        due = n->alarm_hop_at;
    if (n->checkin_pending && n->checkin_retry_at < due)
        due = n->checkin_retry_at;
    if (n->presence_unacked && n->presence_repeat_at < due)
        due = n->presence_repeat_at;
    for (size_t i = 0; i < LW_NODE_RELAY_QUEUE; i++) {
        if (!n->relay_q[i].used)
            continue;
        uint64_t d = n->relay_q[i].due;
        if (n->cfg.backbone_slot != 0 && n->beacon_at != 0) {
            /* In an alarm cycle: its next slot, or when the cycles have stopped. */
            uint64_t hold = n->hold_until;
            uint8_t ns = lw_node_next_slot(n);
            uint64_t slot = ns ? lw_node_slot_at(n, ns) : hold;
            if (!ns && n->cycle_ms != 0 &&
                lw_node_slot_at(n, n->cfg.backbone_slot) + n->cycle_ms < hold)
                slot = lw_node_slot_at(n, n->cfg.backbone_slot) + n->cycle_ms; /* predicted */
            if (d < hold && (d < slot || !n->relay_q[i].await))
                d = slot;
        }
        if (d < due)
            due = d;
    }
    return due;
}

bool lw_node_alarm_pending(const struct lw_node *n)
{
    return n->alarm_pending;
}

uint32_t lw_node_alarm_attempts(const struct lw_node *n)
{
    return n->alarm_attempts;
}

uint64_t lw_node_alarm_acks(const struct lw_node *n)
{
    return n->alarm_acks;
}

/* JOIN_ACC: switch to the new session only once it opened and its keys exist. */
static int lw_node_accept(struct lw_node *n, const uint8_t *frame, size_t len)
{
    struct lw_join_acc acc;
    struct lw_join_keys keys;
    int rc;

    if (!n->join_pending)
        return LW_ERR_STATE;
    rc = lw_join_accept_open(frame, len, n->cfg.net_id, n->cfg.root_key, n->cfg.eui,
                             n->join_nonce_last, &acc);
    if (rc != LW_OK)
        return rc;
    rc = lw_join_derive_keys(n->cfg.root_key, n->cfg.eui, &acc, &keys);
    if (rc != LW_OK)
        return rc;

    /* New keys, so counters restart: (key, counter) pairs of this session are all unused. */
    memcpy(n->key_up, keys.up, LW_KEY_LEN);
    memcpy(n->key_down, keys.down, LW_KEY_LEN);
    lw_node_wipe(&keys, sizeof(keys));
    n->address = acc.address;
    n->fcnt_next = 1;
    n->fcnt_spent = false;
    lw_replay_init(&n->down_replay);
    n->have_session = true;
    n->joined = true;
    if (n->alarm_pending) { /* still to deliver, with the new session's counters */
        n->alarm_first_fcnt = 1;
        n->alarm_retry_at = lw_node_now(n);
    }
    n->join_pending = false;
    return LW_OK;
}

/* A configuration command: idempotent settings (the gateway may send one twice). */
static void lw_node_apply_cmd(struct lw_node *n, const uint8_t *plain, size_t len)
{
    struct lw_cmd c;

    if (lw_cmd_decode(plain, len, &c) != LW_OK) {
        n->cmds_bad++;
        return;
    }
    if (c.present & LW_CMD_HAS_INTERVAL)
        n->interval_ms = (uint32_t)c.interval_s * 1000u;
    if (c.present & LW_CMD_HAS_EVENT) {
        n->event_mode = c.event_on;
        n->event_interval_ms = (uint32_t)c.event_interval_s * 1000u;
    }
    for (unsigned t = 0; t < LW_CMD_THRESHOLDS; t++) {
        if (!(c.thresholds & (1u << t)))
            continue;
        if (c.threshold[t] == LW_CMD_THRESHOLD_NONE) {
            n->thresholds &= (uint8_t) ~(1u << t);
        } else {
            n->thresholds |= (uint8_t)(1u << t);
            n->threshold[t] = c.threshold[t];
        }
    }
    n->cmds++;
}

uint32_t lw_node_report_interval(const struct lw_node *n, uint32_t dflt_ms)
{
    if (n->event_mode && n->event_interval_ms)
        return n->event_interval_ms;
    return n->interval_ms ? n->interval_ms : dflt_ms;
}

bool lw_node_event_mode(const struct lw_node *n)
{
    return n->event_mode;
}

uint64_t lw_node_commands(const struct lw_node *n)
{
    return n->cmds;
}

bool lw_node_over_threshold(const struct lw_node *n, const struct lw_reading *r)
{
    static const struct {
        uint32_t present;
    } map[LW_CMD_THRESHOLDS] = {{LW_R_WATER}, {LW_R_SMOKE}, {LW_R_GAS},
                                {LW_R_CO},    {LW_R_TEMP},  {LW_R_BATTERY}};
    for (unsigned t = 0; t < LW_CMD_THRESHOLDS; t++) {
        if (!(n->thresholds & (1u << t)) || !(r->present & map[t].present))
            continue;
        int32_t v;
        switch (t) {
        case 0:
            v = r->water_mm;
            break;
        case 1:
            v = r->smoke_alarm;
            break;
        case 2:
            v = r->gas_lel_x10;
            break;
        case 3:
            v = r->co_ppm;
            break;
        case 4:
            v = r->temp_c_x10;
            break;
        default:
            v = r->battery_mv;
            break;
        }
        if (v >= (int32_t)n->threshold[t])
            return true;
    }
    return false;
}

/* ACK or CMD: header checks, replay window, MIC, then the application. */
static int lw_node_downlink(struct lw_node *n, const struct lw_frame_hdr *peeked,
                            const uint8_t *frame, size_t len)
{
    uint8_t plain[LW_FRAME_MAX_PAYLOAD];
    struct lw_frame_hdr hdr;
    int rc, plen;

    if (!n->have_session)
        return LW_ERR_STATE;
    if (peeked->net_id != n->cfg.net_id)
        return LW_ERR_NETWORK;
    if (peeked->src != LW_ADDR_GATEWAY || peeked->dst != n->address)
        return LW_ERR_INVAL;
    rc = lw_replay_check(&n->down_replay, peeked->fcnt);
    if (rc != LW_OK)
        return rc;
    plen = lw_frame_open(frame, len, n->key_down, &hdr, plain, sizeof(plain));
    if (plen < 0)
        return plen;
    lw_replay_accept(&n->down_replay, hdr.fcnt);
    if (hdr.type == LW_FT_CMD)
        lw_node_apply_cmd(n, plain, (size_t)plen);
    if (hdr.type == LW_FT_ACK && n->alarm_pending) {
        /* An ACK names the counter of the copy that arrived (empty: the latest alarm). */
        uint32_t acked = n->alarm_last_fcnt;
        if (plen >= 4)
            acked = (uint32_t)plain[0] | (uint32_t)plain[1] << 8 | (uint32_t)plain[2] << 16 |
                    (uint32_t)plain[3] << 24;
        if (acked >= n->alarm_first_fcnt && acked <= n->alarm_last_fcnt) {
            n->alarm_pending = false;
            n->alarm_acks++;
        }
    }
    if (hdr.type == LW_FT_ACK && n->presence_unacked && plen >= 4) {
        uint32_t acked = (uint32_t)plain[0] | (uint32_t)plain[1] << 8 | (uint32_t)plain[2] << 16 |
                         (uint32_t)plain[3] << 24;
        if (acked >= n->presence_first_fcnt && acked <= n->presence_last_fcnt)
            n->presence_unacked = false; /* the gateway knows who is missing */
    }
    if (n->hal.on_receive != NULL)
        n->hal.on_receive(n->hal.ctx, &hdr, plain, (size_t)plen);
    memset(plain, 0, sizeof(plain));
    return LW_OK;
}

int lw_node_handle_downlink(struct lw_node *n, const uint8_t *frame, size_t len)
{
    struct lw_frame_hdr hdr;
    uint8_t origin[LW_FRAME_MAX_LEN];
    int rc;

    if (n == NULL || frame == NULL)
        return LW_ERR_INVAL;
    rc = lw_frame_peek(frame, len, &hdr);
    if (rc != LW_OK)
        return rc;
    uint8_t hops = hdr.hop_count;
    if (hdr.hop_count > 0) {
        /* Relayed: the origin's frame is the received one less the relays' route entries. */
        memcpy(origin, frame, len);
        rc = lw_route_strip(origin, len);
        if (rc < 0)
            return rc;
        frame = origin;
        len = (size_t)rc;
        hdr.hop_count = 0;
    }
    switch (hdr.type) {
    case LW_FT_JOIN_ACC:
        rc = lw_node_accept(n, frame, len);
        break;
    case LW_FT_ACK:
    case LW_FT_CMD:
        rc = lw_node_downlink(n, &hdr, frame, len);
        break;
    default:
        return LW_ERR_TYPE; /* uplink types are not for nodes */
    }
    if (rc == LW_OK)
        n->down_hops = hops; /* authentic: the path length back to the gateway */
    return rc;
}

bool lw_node_joined(const struct lw_node *n)
{
    return n->joined;
}

bool lw_node_join_pending(const struct lw_node *n)
{
    return n->join_pending;
}

bool lw_node_join_failed(const struct lw_node *n)
{
    return n->join_failed;
}

uint32_t lw_node_join_attempts(const struct lw_node *n)
{
    return n->join_attempts;
}

uint16_t lw_node_address(const struct lw_node *n)
{
    return n->have_session ? n->address : 0;
}

uint32_t lw_node_join_nonce_last(const struct lw_node *n)
{
    return n->join_nonce_last;
}

uint32_t lw_node_fcnt_down_top(const struct lw_node *n)
{
    return n->down_replay.any ? n->down_replay.top : 0;
}

/* ---- relay role (PROTOCOL.md 8.3) -------------------------------------------------------- */

enum { SEEN_QUEUED = 1, SEEN_FORWARDED, SEEN_CANCELLED, SEEN_SKIPPED };

static struct lw_node_relay_seen *lw_node_seen_find(struct lw_node *n, const struct lw_frame_hdr *h)
{
    for (size_t i = 0; i < LW_NODE_RELAY_SEEN; i++) {
        struct lw_node_relay_seen *e = &n->relay_seen[i];
        if (e->state && e->src == h->src && e->dst == h->dst && e->fcnt == h->fcnt &&
            e->type == h->type)
            return e;
    }
    return NULL;
}

static struct lw_node_relay_seen *lw_node_seen_add(struct lw_node *n, const struct lw_frame_hdr *h,
                                                   uint8_t state)
{
    struct lw_node_relay_seen *e = &n->relay_seen[n->relay_seen_head];

    n->relay_seen_head = (uint8_t)((n->relay_seen_head + 1) % LW_NODE_RELAY_SEEN);
    /* The oldest entry goes; if its frame still waits in the queue, it waits without a memory
     * of having been seen, which only costs a possible second copy. */
    e->src = h->src;
    e->dst = h->dst;
    e->fcnt = h->fcnt;
    e->type = h->type;
    e->state = state;
    e->hop_heard = h->hop_count;
    return e;
}

static struct lw_node_relay_frame *lw_node_queued(struct lw_node *n, const struct lw_frame_hdr *h)
{
    for (size_t i = 0; i < LW_NODE_RELAY_QUEUE; i++) {
        struct lw_node_relay_frame *q = &n->relay_q[i];
        if (q->used && q->src == h->src && q->dst == h->dst && q->fcnt == h->fcnt &&
            q->type == h->type)
            return q;
    }
    return NULL;
}

static void lw_node_route_note(struct lw_node *n, uint16_t node, uint64_t now_ms)
{
    size_t oldest = 0;

    for (size_t i = 0; i < LW_NODE_RELAY_ROUTES; i++) {
        struct lw_node_relay_route *r = &n->relay_routes[i];
        if (r->node == node) {
            r->t = now_ms;
            return;
        }
        if (r->t < n->relay_routes[oldest].t)
            oldest = i;
    }
    n->relay_routes[oldest].node = node;
    n->relay_routes[oldest].t = now_ms;
}

static bool lw_node_route_known(const struct lw_node *n, uint16_t node, uint64_t now_ms)
{
    for (size_t i = 0; i < LW_NODE_RELAY_ROUTES; i++) {
        const struct lw_node_relay_route *r = &n->relay_routes[i];
        if (r->node == node && r->node != 0 && now_ms - r->t <= LW_NODE_RELAY_ROUTE_TTL_MS)
            return true;
    }
    return false;
}

/* A downlink's route entries name the relays that carried it away from the gateway: the k-th
 * (from 0) is k relays from it, its rank. */
static void lw_node_learn_ranks(struct lw_node *n, const struct lw_route *rt)
{
    for (uint8_t k = 0; k < rt->n_hops; k++) {
        uint16_t relay = rt->hops[k].relay;
        struct lw_node_relay_neighbour *slot = NULL;
        for (size_t i = 0; i < LW_NODE_RELAY_NEIGHBOURS && !slot; i++)
            if (n->relay_ranks[i].relay == relay)
                slot = &n->relay_ranks[i];
        if (!slot) {
            slot = &n->relay_ranks[n->relay_ranks_head];
            n->relay_ranks_head = (uint8_t)((n->relay_ranks_head + 1) % LW_NODE_RELAY_NEIGHBOURS);
            slot->relay = relay;
            slot->rank = k;
        } else if (k < slot->rank) {
            slot->rank = k;
        }
    }
}

static uint8_t lw_node_rank_of(const struct lw_node *n, uint16_t relay)
{
    for (size_t i = 0; i < LW_NODE_RELAY_NEIGHBOURS; i++)
        if (n->relay_ranks[i].relay == relay && relay != 0)
            return n->relay_ranks[i].rank;
    return LW_NODE_RELAY_RANK_LEARN;
}

static uint32_t lw_node_rand(const struct lw_node *n)
{
    return n->hal.random != NULL ? n->hal.random(n->hal.ctx) : 0;
}

/* Rebroadcast delay: relays nearer the gateway (lower rank) go a whole slot earlier, urgent
 * frames (ALARMs, downlinks, joins) within the first half of their slot, routine ones in the
 * second half; the random part keeps relays of one rank apart. Downlinks travel away from the
 * gateway, where rank says nothing: they only get the random part. */
static uint64_t lw_node_relay_delay(const struct lw_node *n, bool urgent, bool downlink)
{
    uint32_t slot = n->cfg.relay_slot_ms, half = slot / 2;
    uint32_t rank = n->relay_rank > LW_HOP_MAX ? LW_HOP_MAX : n->relay_rank;
    uint64_t d = downlink ? 0 : (uint64_t)rank * slot;

    if (!urgent)
        d += half;
    if (half > 0)
        d += lw_node_rand(n) % half;
    return d;
}

static int lw_node_relay_queue(struct lw_node *n, const struct lw_frame_hdr *h,
                               const uint8_t *frame, size_t len, int8_t snr_db, bool urgent,
                               bool downlink, uint64_t now_ms)
{
    struct lw_node_relay_frame *slot = NULL;
    int flen;

    if (n->cfg.hop_ack_ms != 0 && (h->type == LW_FT_ALARM || h->type == LW_FT_ACK)) {
        /* v1.1: a newer ALARM of a node carries what an older one still queued here would (the
         * origin re-sends its latest reading), and a newer ACK to a node says what an older
         * one would: the newer takes the older's place instead of queueing behind it. */
        for (size_t i = 0; i < LW_NODE_RELAY_QUEUE && !slot; i++) {
            struct lw_node_relay_frame *q = &n->relay_q[i];
            if (q->used && q->type == h->type && q->src == h->src && q->dst == h->dst &&
                q->fcnt < h->fcnt) {
                slot = q;
                n->relay_stats.superseded++;
            }
        }
    }
    for (size_t i = 0; i < LW_NODE_RELAY_QUEUE && !slot; i++)
        if (!n->relay_q[i].used)
            slot = &n->relay_q[i];
    if (!slot && urgent) { /* an urgent frame pushes out a routine one */
        for (size_t i = 0; i < LW_NODE_RELAY_QUEUE && !slot; i++)
            if (!n->relay_q[i].urgent)
                slot = &n->relay_q[i];
    }
    if (!slot) {
        n->relay_stats.queue_full++;
        return LW_ERR_AGAIN;
    }
    if (slot->used)
        n->relay_stats.queue_full++;
    memcpy(slot->buf, frame, len);
    flen = lw_route_append(slot->buf, len, sizeof(slot->buf), n->address, snr_db);
    if (flen < 0) {
        slot->used = false;
        if (flen == LW_ERR_RANGE || flen == LW_ERR_TOOBIG)
            n->relay_stats.hop_limit++;
        else
            n->relay_stats.invalid++;
        return flen;
    }
    slot->used = true;
    slot->urgent = urgent;
    slot->type = h->type;
    slot->ack_req = h->ack_req && h->src != LW_ADDR_GATEWAY;
    slot->hop_heard = h->hop_count;
    slot->src = h->src;
    slot->dst = h->dst;
    slot->fcnt = h->fcnt;
    slot->busy_tries = 0;
    slot->await = false;
    slot->retries = 0;
    slot->len = (uint16_t)flen;
    slot->due = now_ms + lw_node_relay_delay(n, urgent, downlink);
    return LW_OK;
}

static bool lw_node_is_child(const struct lw_node *n, uint16_t addr)
{
    for (uint8_t i = 0; i < n->n_children; i++)
        if (n->children[i].addr == addr)
            return true;
    return false;
}

/* v1.1 (PROTOCOL.md 15.3): uplinks travel along the tree the check-ins build: a relay carries
 * what its children sent (their own frames, or what they forwarded), and an ALARM heard straight
 * from its origin even when that node checks in elsewhere (a second path). What another relay
 * forwarded is that relay's path, not this one's. */
static bool lw_node_tree_forwards(const struct lw_node *n, const struct lw_route *rt)
{
    uint16_t sender = rt->n_hops > 0 ? rt->hops[rt->n_hops - 1].relay : rt->hdr.src;
    if (n->cfg.parent != LW_ADDR_GATEWAY && sender == n->cfg.parent)
        return false;
    if (lw_node_is_child(n, sender))
        return true;
    return rt->hdr.type == LW_FT_ALARM && rt->n_hops == 0;
}

/* Should this relay forward h (a frame of someone else)? */
static int lw_node_relay_consider(struct lw_node *n, const struct lw_route *rt,
                                  const uint8_t *frame, size_t len, int8_t snr_db, uint64_t now_ms)
{
    const struct lw_frame_hdr *h = &rt->hdr;
    struct lw_node_relay_seen *seen = lw_node_seen_find(n, h);
    bool downlink = h->src == LW_ADDR_GATEWAY;
    /* A DATA frame asking for an acknowledgement is a trouble report (v1.1, PROTOCOL.md
     * 15.2): it goes ahead of routine frames like an ALARM. */
    bool urgent = downlink || h->type == LW_FT_ALARM || h->type == LW_FT_JOIN_REQ || h->ack_req;

    if (seen != NULL) {
        struct lw_node_relay_frame *q = lw_node_queued(n, h);
        if (q != NULL && q->await) {
            if (h->hop_count > q->hop_heard + 1) {
                /* The next hop forwarded what this relay forwarded: done here. */
                q->used = false;
                n->relay_stats.implicit_acks++;
            } else if (h->hop_count <= q->hop_heard) {
                /* The hop before repeats it: it did not hear this relay's copy, and the
                 * next hop may not have either: send it again soon. */
                uint64_t soon = now_ms + 1 + lw_node_rand(n) % (n->cfg.relay_slot_ms / 2 + 1);
                if (soon < q->due)
                    q->due = soon;
            }
            n->relay_stats.duplicates++;
            return LW_ERR_DUP;
        }
        bool from_child = n->cfg.hop_ack_ms != 0 && rt->n_hops > 0 &&
                          lw_node_is_child(n, rt->hops[rt->n_hops - 1].relay);
        if (q != NULL && seen->state == SEEN_QUEUED && h->hop_count > q->hop_heard && !from_child) {
            /* (v1.1: a child forwarding it towards this relay is no reason to hold back.) */
            /* Another relay forwarded the copy this one was waiting to forward. */
            q->used = false;
            seen->state = SEEN_CANCELLED;
            n->relay_stats.cancelled++;
            return LW_ERR_DUP;
        }
        n->relay_stats.duplicates++;
        return LW_ERR_DUP;
    }
    for (uint8_t i = 0; i < rt->n_hops; i++) {
        if (rt->hops[i].relay == n->address) { /* it passed here already: a loop */
            n->relay_stats.invalid++;
            lw_node_seen_add(n, h, SEEN_SKIPPED);
            return LW_ERR_DUP;
        }
    }
    if (h->hop_count >= h->hop_limit) {
        n->relay_stats.hop_limit++;
        lw_node_seen_add(n, h, SEEN_SKIPPED);
        return LW_ERR_RANGE;
    }
    if (downlink) {
        bool known;
        if (h->type == LW_FT_JOIN_ACC) { /* only where the JOIN_REQ with that nonce went */
            struct lw_frame_hdr req = {.src = LW_ADDR_BROADCAST,
                                       .dst = LW_ADDR_GATEWAY,
                                       .fcnt = h->fcnt,
                                       .type = LW_FT_JOIN_REQ};
            struct lw_node_relay_seen *r = lw_node_seen_find(n, &req);
            known = r != NULL && r->state == SEEN_FORWARDED;
        } else {
            known = lw_node_route_known(n, h->dst, now_ms);
        }
        if (!known) {
            n->relay_stats.no_route++;
            lw_node_seen_add(n, h, SEEN_SKIPPED);
            return LW_ERR_NOTFOUND;
        }
    } else if (h->dst != LW_ADDR_GATEWAY) {
        n->relay_stats.invalid++;
        return LW_ERR_INVAL;
    } else if (n->cfg.hop_ack_ms != 0 && !lw_node_tree_forwards(n, rt)) {
        n->relay_stats.no_progress++;
        lw_node_seen_add(n, h, SEEN_SKIPPED);
        return LW_ERR_RANGE;
    } else if (rt->n_hops > 0 && n->relay_rank != LW_NODE_RELAY_RANK_LEARN) {
        /* Forward only towards the gateway: a copy last carried by a relay known to be at
         * least as near it needs nobody here (neighbouring roofs would flood each other). */
        uint8_t last = lw_node_rank_of(n, rt->hops[rt->n_hops - 1].relay);
        if (last != LW_NODE_RELAY_RANK_LEARN && last <= n->relay_rank) {
            n->relay_stats.no_progress++;
            lw_node_seen_add(n, h, SEEN_SKIPPED);
            return LW_ERR_RANGE;
        }
    }
    int rc = lw_node_relay_queue(n, h, frame, len, snr_db, urgent, downlink, now_ms);
    lw_node_seen_add(n, h, rc == LW_OK ? SEEN_QUEUED : SEEN_SKIPPED);
    return rc;
}

int lw_node_hear(struct lw_node *n, const uint8_t *frame, size_t len, int8_t snr_db,
                 uint64_t now_ms)
{
    struct lw_route rt;
    int rc;

    if (n == NULL || frame == NULL)
        return LW_ERR_INVAL;
    n->relay_stats.heard++;
    if (lw_checkin_is(frame, len))
        return (frame[0] & 0x0F) == LW_FT_BEACON ? lw_node_hear_beacon(n, frame, len, now_ms)
                                                 : lw_node_hear_checkin(n, frame, len, now_ms);
    rc = lw_route_parse(frame, len, &rt);
    if (rc != LW_OK) {
        n->relay_stats.invalid += n->cfg.relay;
        return rc;
    }
    const struct lw_frame_hdr *h = &rt.hdr;
    if (h->net_id != n->cfg.net_id)
        return LW_ERR_NETWORK;
    if (h->src != LW_ADDR_GATEWAY && h->hop_count == 0 && n->cfg.relay)
        lw_node_child_heard(n, h->src, now_ms);
    if (h->src == n->address && n->have_session && h->src != LW_ADDR_GATEWAY &&
        h->type == LW_FT_ALARM && h->hop_count > 0) {
        /* Its own ALARM forwarded by the next hop: an implicit acknowledgement of that hop. */
        if (n->alarm_pending && !n->alarm_hop_acked && h->fcnt >= n->alarm_first_fcnt &&
            h->fcnt <= n->alarm_last_fcnt) {
            n->alarm_hop_acked = true;
            n->relay_stats.implicit_acks++;
        }
        return LW_ERR_DUP;
    }
    if (h->src == LW_ADDR_GATEWAY && h->type == LW_FT_ACK && n->cfg.relay) {
        lw_node_relay_acked_by_gateway(n, h->dst);
        if (n->cfg.hop_ack_ms != 0)
            n->quiet_until = now_ms + LW_NODE_QUIET_MS; /* an alarm is being answered */
    }
    if (h->src == LW_ADDR_GATEWAY) {
        /* A frame of the gateway heard after h relays: this node is h + 1 hops from it, and
         * h relays lie between (its rank). */
        if (n->cfg.relay_rank == LW_NODE_RELAY_RANK_LEARN && h->hop_count < n->relay_rank)
            n->relay_rank = h->hop_count;
        if (n->cfg.relay)
            lw_node_learn_ranks(n, &rt);
        bool mine = (h->type == LW_FT_JOIN_ACC && h->dst == LW_ADDR_BROADCAST && n->join_pending &&
                     h->fcnt == n->join_nonce_last) ||
                    (h->type != LW_FT_JOIN_ACC && n->have_session && h->dst == n->address);
        if (mine)
            return lw_node_handle_downlink(n, frame, len);
    }
    if (!n->cfg.relay)
        return LW_ERR_INVAL; /* not for this node */
    if (h->src == n->address && h->src != LW_ADDR_GATEWAY)
        return LW_ERR_DUP; /* its own frame, forwarded by someone else */
    if (h->src != LW_ADDR_GATEWAY && h->dst == n->address)
        return LW_ERR_INVAL;
    return lw_node_relay_consider(n, &rt, frame, len, snr_db, now_ms);
}

/* Which queued frame goes first: ALARMs towards the gateway, then other urgent frames (trouble
 * reports, joins, downlinks such as the ACKs going back), then routine ones. */
static int lw_node_relay_prio(const struct lw_node_relay_frame *q)
{
    if (q->type == LW_FT_ALARM && q->src != LW_ADDR_GATEWAY)
        return 2;
    return q->urgent ? 1 : 0;
}

/* The gateway acknowledged node's ALARM (or trouble report): whatever of node's this relay still
 * waits on has arrived (the ACK is sent only once it is in). */
static void lw_node_relay_acked_by_gateway(struct lw_node *n, uint16_t node)
{
    for (size_t i = 0; i < LW_NODE_RELAY_QUEUE; i++) {
        struct lw_node_relay_frame *q = &n->relay_q[i];
        if (q->used && q->await && q->src == node && q->ack_req) {
            q->used = false;
            n->relay_stats.implicit_acks++;
        }
    }
}

/* Forward the most urgent due frame: listen first, and while the channel is busy wait a random
 * part of a slot (a frame that stays unsendable for a whole rank of slots is dropped). */
static int lw_node_relay_send_due(struct lw_node *n, uint64_t now_ms)
{
    struct lw_node_relay_frame *best = NULL;

    lw_node_cycle_roll(n, now_ms);
    bool slotted = lw_node_slotted(n, now_ms);
    for (size_t i = 0; i < LW_NODE_RELAY_QUEUE; i++) {
        struct lw_node_relay_frame *q = &n->relay_q[i];
        /* In an alarm cycle the slot decides when; a rebroadcast delay still running must not
         * let a less urgent frame take the slot (only a hop wait, await, keeps a frame back). */
        if (!q->used || (q->due > now_ms && !(slotted && !q->await)))
            continue;
        if (!q->urgent && now_ms < n->quiet_until) {
            /* Relays that heard the same ACK or BEACON end their quiet together and cannot all
             * hear each other: released within a slot, their held frames met at the gateway. */
            q->due = n->quiet_until + lw_node_rand(n) % (LW_NODE_QUIET_MS * 3 / 2);
            continue; /* routine waits out the alarm quiet */
        }
        if (best == NULL || lw_node_relay_prio(q) > lw_node_relay_prio(best) ||
            (lw_node_relay_prio(q) == lw_node_relay_prio(best) && q->due < best->due))
            best = q;
    }
    if (best == NULL)
        return 0;
    if (best->await && best->retries >= n->cfg.hop_retries && !slotted) {
        best->used = false; /* the next hop never answered: the end-to-end retry remains */
        return 0;
    }
    uint8_t slot_now = 0;
    if (slotted) {
        /* Alarm cycle: one frame per slot of this relay's, without listening first (the slot
         * is its own); everything else waits. A slot it was too late for passes unused. */
        uint8_t ns;
        while ((ns = lw_node_next_slot(n)) != 0 &&
               now_ms >= lw_node_slot_at(n, ns) + n->slot_ms / 4)
            n->slots_used |= (uint16_t)(1u << (ns - 1));
        if (ns == 0 || now_ms < lw_node_slot_at(n, ns))
            return 0;
        slot_now = ns;
    } else if (n->hal.channel_busy != NULL &&
               !(n->cfg.hop_ack_ms != 0 && best->urgent && best->busy_tries >= 8) &&
               n->hal.channel_busy(n->hal.ctx) > 0) {
        /* v1: a frame the channel never lets through is dropped after 8 tries. v1.1: an urgent
         * one goes out after 8 regardless (a busy building must not silence its alarms). */
        if (++best->busy_tries > 8) {
            best->used = false;
            n->relay_stats.queue_full++;
            return 0;
        }
        uint32_t half = n->cfg.relay_slot_ms / 2 ? n->cfg.relay_slot_ms / 2 : 1;
        best->due = now_ms + 1 + lw_node_rand(n) % half;
        return 0;
    }
    struct lw_frame_hdr h = {
        .src = best->src, .dst = best->dst, .fcnt = best->fcnt, .type = best->type};
    struct lw_node_relay_seen *seen = lw_node_seen_find(n, &h);
    if (seen != NULL)
        seen->state = SEEN_FORWARDED;
    if (best->src != LW_ADDR_GATEWAY && best->type != LW_FT_JOIN_REQ)
        lw_node_route_note(n, best->src, now_ms); /* the reverse path for its downlinks */
    if (best->await) {
        best->retries++;
        n->relay_stats.hop_retries++;
    } else {
        n->relay_stats.forwarded++;
    }
    if (slot_now) {
        struct lw_node_slot_frame *f = &n->slot_frame[slot_now - 1];
        n->slots_used |= (uint16_t)(1u << (slot_now - 1));
        f->valid = true;
        f->src = best->src;
        f->fcnt = best->fcnt;
        f->type = best->type;
    }
    if (n->cfg.hop_ack_ms != 0 && best->ack_req && best->src != LW_ADDR_GATEWAY) {
        /* v1.1: keep it until the next hop is overheard forwarding it. */
        if (best->type == LW_FT_ALARM)
            n->quiet_until = now_ms + LW_NODE_QUIET_MS;
        best->await = true;
        best->due = now_ms + lw_node_hop_wait_try(n, best->retries);
        best->busy_tries = 0;
    } else {
        best->used = false;
    }
    int rc = n->hal.send(n->hal.ctx, best->buf, best->len);
    return rc < 0 ? rc : 1;
}

void lw_node_relay_stats(const struct lw_node *n, struct lw_node_relay_stats *out)
{
    *out = n->relay_stats;
}

uint8_t lw_node_relay_rank(const struct lw_node *n)
{
    return n->relay_rank;
}

/* ---- supervision (PROTOCOL.md 15.4) -----------------------------------------------------------
 */

static int lw_node_checkin_send(struct lw_node *n, uint64_t now_ms)
{
    uint8_t buf[LW_CHECKIN_LEN];
    struct lw_checkin c = {.type = LW_FT_CHECKIN,
                           .net_id = n->cfg.net_id,
                           .from = n->address,
                           .to = n->cfg.parent,
                           .period_10s = (uint8_t)(n->cfg.checkin_period_ms / 10000u)};
    int len = lw_checkin_encode(&c, buf, sizeof(buf));
    if (len < 0)
        return len;
    if (n->hal.channel_busy != NULL && n->checkin_defers < LW_NODE_CHECKIN_DEFERS &&
        n->hal.channel_busy(n->hal.ctx) > 0) {
        /* Someone near is talking (its relay, likely): a frame now would be lost at the relay
         * or by it. Try again shortly; this costs no try. */
        n->checkin_defers++;
        n->checkin_pending = true;
        n->checkin_retry_at = now_ms + 200u + lw_node_rand(n) % 800u;
        return 0;
    }
    n->checkin_defers = 0;
    n->checkin_pending = true;
    n->checkin_tries++;
    n->checkins_sent++;
    n->checkin_retry_at = now_ms + LW_NODE_CHECKIN_ACK_MS + 1000u + lw_node_rand(n) % 2000u;
    int rc = n->hal.send(n->hal.ctx, buf, (size_t)len);
    return rc < 0 ? rc : len;
}

int lw_node_checkin(struct lw_node *n)
{
    if (n == NULL)
        return LW_ERR_INVAL;
    if (n->cfg.parent == LW_ADDR_GATEWAY || n->cfg.parent == LW_ADDR_BROADCAST ||
        n->address == LW_ADDR_GATEWAY)
        return LW_ERR_STATE;
    if (n->cfg.checkin_period_ms < 10000u || n->cfg.checkin_period_ms > 2550000u)
        return LW_ERR_INVAL;
    n->checkin_tries = 0;
    n->checkin_defers = 0;
    return lw_node_checkin_send(n, lw_node_now(n));
}

uint8_t lw_node_checkin_unanswered(const struct lw_node *n)
{
    return n != NULL ? n->checkin_unanswered : 0;
}

bool lw_node_quiet(const struct lw_node *n, uint64_t now_ms)
{
    return now_ms < n->quiet_until;
}

bool lw_node_checkin_pending(const struct lw_node *n)
{
    return n->checkin_pending;
}

/* A compact frame: a child's CHECKIN to this relay (answer it, count the child present), or the
 * answer to this node's own. */
static int lw_node_hear_checkin(struct lw_node *n, const uint8_t *frame, size_t len,
                                uint64_t now_ms)
{
    struct lw_checkin c;
    int rc = lw_checkin_decode(frame, len, &c);
    if (rc != LW_OK)
        return rc;
    if (c.net_id != n->cfg.net_id)
        return LW_ERR_NETWORK;
    if (c.type == LW_FT_CHECKIN_ACK) {
        if (c.to != n->address || c.from != n->cfg.parent || !n->checkin_pending)
            return LW_ERR_INVAL;
        n->checkin_pending = false;
        n->checkin_unanswered = 0;
        n->checkins_acked++;
        return LW_OK;
    }
    if (!n->cfg.relay || c.to != n->address)
        return LW_ERR_INVAL;
    struct lw_node_child *child = NULL;
    for (uint8_t i = 0; i < n->n_children && !child; i++)
        if (n->children[i].addr == c.from)
            child = &n->children[i];
    if (!child) {
        if (n->n_children >= LW_NODE_CHILDREN)
            return LW_ERR_AGAIN;
        child = &n->children[n->n_children++];
        child->addr = c.from;
        child->absent = false;
    }
    child->last = now_ms;
    child->period_10s = c.period_10s;
    n->relay_stats.checkins++;
    if (lw_node_slotted(n, now_ms) && now_ms < n->slots_end)
        return LW_OK; /* heard, not answered: the gateway's alarm slots run; the child retries */
    /* Answer at once: the child listens only briefly after its frame. */
    uint8_t ack[LW_CHECKIN_LEN];
    struct lw_checkin a = {
        .type = LW_FT_CHECKIN_ACK, .net_id = n->cfg.net_id, .from = n->address, .to = c.from};
    int al = lw_checkin_encode(&a, ack, sizeof(ack));
    if (al > 0 && n->hal.send(n->hal.ctx, ack, (size_t)al) >= 0)
        n->checkin_acks_sent++;
    return LW_OK;
}

static bool lw_node_child_absent(const struct lw_node_child *c, uint64_t now_ms)
{
    uint64_t period = (uint64_t)c->period_10s * 10000u;
    return now_ms > c->last && now_ms - c->last > period + period / 10 + LW_NODE_CHECKIN_GRACE_MS;
}

/* The gateway's BEACON: a cycle of slots starts; the bitmap says which slots of the cycle
 * before brought a frame (this relay is done with what it sent there) and, through it, which
 * shared slots are this relay's now. */
static int lw_node_hear_beacon(struct lw_node *n, const uint8_t *frame, size_t len, uint64_t now_ms)
{
    struct lw_beacon b;
    int rc = lw_beacon_decode(frame, len, &b);
    if (rc != LW_OK)
        return rc;
    if (b.net_id != n->cfg.net_id)
        return LW_ERR_NETWORK;
    n->beacons_heard++;
    n->quiet_until = now_ms + LW_NODE_QUIET_MS; /* beacons mean alarms in flight */
    if (!n->cfg.relay || n->cfg.backbone_slot == 0 || n->cfg.backbone_slot > b.owned)
        return LW_OK;
    for (uint8_t s = 1; s <= 16; s++) {
        struct lw_node_slot_frame *f = &n->slot_frame[s - 1];
        if (!f->valid || !((b.received >> (s - 1)) & 1u))
            continue;
        for (size_t i = 0; i < LW_NODE_RELAY_QUEUE; i++) {
            struct lw_node_relay_frame *q = &n->relay_q[i];
            if (q->used && q->await && q->src == f->src && q->fcnt == f->fcnt &&
                q->type == f->type) {
                q->used = false;
                n->slot_acks++;
                n->relay_stats.implicit_acks++;
            }
        }
    }
    memset(n->slot_frame, 0, sizeof(n->slot_frame));
    /* Two BEACONs in a row of a cycle as long as the last one: its period, for cycles whose
     * BEACON this relay misses (a child on the air at the time, a collision). */
    uint64_t since = now_ms - n->beacon_at;
    uint32_t slot_ms = (uint32_t)b.slot_10ms * 10u;
    if (n->beacon_at != 0 && n->slot_ms == slot_ms && since > (uint64_t)b.slots * slot_ms &&
        since * 2 < (uint64_t)b.slots * slot_ms * 3)
        n->cycle_ms = (uint32_t)since;
    else if (n->slot_ms != slot_ms)
        n->cycle_ms = 0;
    n->beacon_at = now_ms;
    /* Relays that all heard this BEACON and miss the next ones must not all return to
     * contention at the same instant (they cannot hear each other): a random part spreads them. */
    n->hold_until =
        now_ms + LW_NODE_BEACON_HOLD_MS + lw_node_rand(n) % (LW_NODE_BEACON_HOLD_MS / 4);
    n->slot_ms = (uint32_t)b.slot_10ms * 10u;
    n->cycle_start = now_ms + LW_NODE_SLOT_GUARD_MS;
    n->slots_end = n->cycle_start + (uint64_t)b.slots * n->slot_ms;
    n->my_slots = (uint16_t)(1u << (n->cfg.backbone_slot - 1));
    for (uint8_t e = (uint8_t)(b.owned + 1); e <= b.slots; e++)
        if (lw_beacon_extra_owner(&b, e) == n->cfg.backbone_slot)
            n->my_slots |= (uint16_t)(1u << (e - 1));
    n->slots_used = 0;
    return LW_OK;
}

/* This relay's next slot of the cycle not yet used or passed (1..16), 0 when none is left. */
static uint8_t lw_node_next_slot(const struct lw_node *n)
{
    for (uint8_t s = 1; s <= 16; s++)
        if ((n->my_slots >> (s - 1)) & 1u && !((n->slots_used >> (s - 1)) & 1u))
            return s;
    return 0;
}

static uint64_t lw_node_slot_at(const struct lw_node *n, uint8_t s)
{
    return n->cycle_start + (uint64_t)(s - 1) * n->slot_ms;
}

/* A BEACON due by now did not come (or was not heard): the cycle it would have opened begins
 * anyway, with this relay's own slot in it (shared slots need the BEACON's bitmap). */
static void lw_node_cycle_roll(struct lw_node *n, uint64_t now_ms)
{
    while (n->cycle_ms != 0 && n->beacon_at != 0 && now_ms < n->hold_until &&
           now_ms >= n->beacon_at + n->cycle_ms + LW_NODE_SLOT_GUARD_MS) {
        n->beacon_at += n->cycle_ms;
        n->cycle_start += n->cycle_ms;
        n->slots_end += n->cycle_ms;
        n->my_slots = (uint16_t)(1u << (n->cfg.backbone_slot - 1));
        n->slots_used = 0;
        memset(n->slot_frame, 0, sizeof(n->slot_frame));
    }
}

static bool lw_node_slotted(const struct lw_node *n, uint64_t now_ms)
{
    return n->cfg.backbone_slot != 0 && n->beacon_at != 0 && now_ms < n->hold_until;
}

int lw_node_supervise(struct lw_node *n, uint16_t addr, uint8_t period_10s, uint64_t now_ms)
{
    if (n == NULL || !n->cfg.relay || addr == LW_ADDR_GATEWAY || addr == LW_ADDR_BROADCAST ||
        period_10s == 0)
        return LW_ERR_INVAL;
    for (uint8_t i = 0; i < n->n_children; i++)
        if (n->children[i].addr == addr) {
            n->children[i].period_10s = period_10s;
            return LW_OK;
        }
    if (n->n_children >= LW_NODE_CHILDREN)
        return LW_ERR_AGAIN;
    struct lw_node_child *c = &n->children[n->n_children++];
    c->addr = addr;
    c->absent = false;
    c->period_10s = period_10s;
    c->last = now_ms;
    return LW_OK;
}

/* Any frame heard straight from a known child is a sign of life. */
static void lw_node_child_heard(struct lw_node *n, uint16_t src, uint64_t now_ms)
{
    for (uint8_t i = 0; i < n->n_children; i++)
        if (n->children[i].addr == src)
            n->children[i].last = now_ms;
}

bool lw_node_presence_changed(const struct lw_node *n, uint64_t now_ms)
{
    for (uint8_t i = 0; i < n->n_children; i++)
        if (lw_node_child_absent(&n->children[i], now_ms) != n->children[i].absent)
            return true;
    return false;
}

bool lw_node_presence(struct lw_node *n, uint64_t now_ms, struct lw_presence *out)
{
    bool changed = false;

    memset(out, 0, sizeof(*out));
    out->children = n->n_children;
    for (uint8_t i = 0; i < n->n_children; i++) {
        struct lw_node_child *c = &n->children[i];
        bool absent = lw_node_child_absent(c, now_ms);
        changed |= absent != c->absent;
        c->absent = absent;
        if (absent && out->n_absent < LW_PRESENCE_ABSENT_MAX)
            out->absent[out->n_absent++] = c->addr;
    }
    return changed;
}
