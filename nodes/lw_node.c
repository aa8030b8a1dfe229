/* Portable sensor-node core: join, reading -> TLVs -> sealed frame -> HAL send, downlinks. */
#include "lw_node.h"
#include "lw_error.h"
#include "lw_join.h"

#include <string.h>

void lw_node_config_defaults(struct lw_node_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->hop_limit = LW_NODE_HOP_LIMIT_DEFAULT;
    cfg->fcnt_start = 1;
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
    if ((!personal && !joinable) || cfg->hop_limit > LW_HOP_MAX)
        return LW_ERR_INVAL;
    if (personal && (cfg->address == LW_ADDR_GATEWAY || cfg->address == LW_ADDR_BROADCAST))
        return LW_ERR_INVAL;
    if (personal && joinable && memcmp(cfg->key, cfg->root_key, LW_KEY_LEN) == 0)
        return LW_ERR_INVAL;
    memset(n, 0, sizeof(*n));
    n->cfg = *cfg;
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

int lw_node_report(struct lw_node *n, const struct lw_reading *r, bool alarm)
{
    uint8_t plain[LW_READING_MAX_LEN];
    struct lw_frame_hdr hdr;
    int plen, flen;

    if (n == NULL || r == NULL)
        return LW_ERR_INVAL;
    if (!n->have_session)
        return LW_ERR_STATE;
    if (n->fcnt_spent)
        return LW_ERR_RANGE;
    plen = lw_reading_encode(r, plain, sizeof(plain));
    if (plen < 0)
        return plen;

    memset(&hdr, 0, sizeof(hdr));
    hdr.version = LW_PROTO_VERSION;
    hdr.type = alarm ? LW_FT_ALARM : LW_FT_DATA;
    hdr.hop_count = 0;
    hdr.hop_limit = n->cfg.hop_limit;
    hdr.ack_req = alarm;
    hdr.net_id = n->cfg.net_id;
    hdr.src = n->address;
    hdr.dst = LW_ADDR_GATEWAY;
    hdr.fcnt = n->fcnt_next;
    flen = lw_frame_seal(&hdr, n->key_up, plain, (size_t)plen, n->frame, sizeof(n->frame));
    memset(plain, 0, sizeof(plain));
    if (flen < 0)
        return flen; /* nothing sealed: the counter may be used again */

    if (n->fcnt_next == UINT32_MAX)
        n->fcnt_spent = true;
    else
        n->fcnt_next++;

    /* Later: an ALARM frame is kept here and re-sent with a new counter until the gateway's ACK
     * arrives through hal.on_receive (bounded retries, back-off from hal.random). Relaying of
     * neighbours' frames (lw_frame_hop) will also be queued from here. */
    int rc = n->hal.send(n->hal.ctx, n->frame, (size_t)flen);
    if (rc < 0)
        return rc;
    return flen;
}

uint32_t lw_node_fcnt_next(const struct lw_node *n)
{
    return n->fcnt_next;
}

bool lw_node_fcnt_exhausted(const struct lw_node *n)
{
    return n->fcnt_spent;
}

int lw_node_join_start(struct lw_node *n)
{
    struct lw_join_req req;
    uint32_t nonce;
    int rc, flen;

    if (n == NULL)
        return LW_ERR_INVAL;
    if (lw_node_key_is_zero(n->cfg.root_key))
        return LW_ERR_STATE;
    if (n->hal.store_join_nonce == NULL)
        return LW_ERR_INVAL;
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
    rc = n->hal.send(n->hal.ctx, n->frame, (size_t)flen);
    if (rc < 0)
        return rc;
    return flen;
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
    n->join_pending = false;
    return LW_OK;
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
    if (n->hal.on_receive != NULL)
        n->hal.on_receive(n->hal.ctx, &hdr, plain, (size_t)plen);
    memset(plain, 0, sizeof(plain));
    return LW_OK;
}

int lw_node_handle_downlink(struct lw_node *n, const uint8_t *frame, size_t len)
{
    struct lw_frame_hdr hdr;
    int rc;

    if (n == NULL)
        return LW_ERR_INVAL;
    rc = lw_frame_peek(frame, len, &hdr);
    if (rc != LW_OK)
        return rc;
    switch (hdr.type) {
    case LW_FT_JOIN_ACC:
        return lw_node_accept(n, frame, len);
    case LW_FT_ACK:
    case LW_FT_CMD:
        return lw_node_downlink(n, &hdr, frame, len);
    default:
        return LW_ERR_TYPE; /* uplink types are not for nodes */
    }
}

bool lw_node_joined(const struct lw_node *n)
{
    return n->joined;
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
