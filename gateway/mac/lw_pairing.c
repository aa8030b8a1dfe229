/* SPDX-License-Identifier: Apache-2.0 */
/* Join admission: cheap checks first (rate, structure, network, registry), crypto last, and
 * nothing about a refused request ever goes back on the air. */
#include "lw_pairing.h"
#include "lw_parse.h"

#include <string.h>

#include "lw_error.h"

void lw_join_limiter_init(struct lw_join_limiter *l, double rate_per_s, double burst)
{
    l->rate = rate_per_s;
    l->burst = burst;
    l->tokens = burst;
    l->last_ms = 0;
}

bool lw_join_limiter_take(struct lw_join_limiter *l, int64_t now_ms)
{
    if (l->last_ms && now_ms > l->last_ms) {
        l->tokens += (double)(now_ms - l->last_ms) / 1000.0 * l->rate;
        if (l->tokens > l->burst)
            l->tokens = l->burst;
    }
    l->last_ms = now_ms;
    if (l->tokens < 1.0)
        return false;
    l->tokens -= 1.0;
    return true;
}

int lw_pairing_handle(const uint8_t *buf, size_t len, uint16_t net_id, struct lw_registry *reg,
                      struct lw_join_limiter *lim, int64_t wall_ms, int64_t mono_ms,
                      const uint8_t gw_nonce[LW_JOIN_GW_NONCE_LEN], struct lw_join_outcome *out,
                      struct lw_pairing_stats *st)
{
    memset(out, 0, sizeof(*out));
    if (!lw_join_limiter_take(lim, mono_ms)) {
        st->rate_limited++;
        return LW_ERR_AGAIN;
    }
    struct lw_join_req req;
    int rc = lw_join_request_peek(buf, len, &req);
    if (rc == LW_OK && req.net_id != net_id)
        rc = LW_ERR_NETWORK;
    if (rc != LW_OK) {
        st->malformed++;
        return rc;
    }
    struct lw_node *n = lw_registry_find_eui(reg, req.eui);
    /* Nodes with a key from the configuration file cannot join: they have no root key. */
    if (!n || n->conf->from_config || lw_all_zero(n->conf->root_key, LW_KEY_LEN)) {
        st->unknown++;
        return LW_ERR_UNKNOWN_NODE;
    }
    if (n->conf->state == LW_NODE_PENDING && n->conf->pairing_until_ms < wall_ms) {
        st->window++;
        return LW_ERR_STATE;
    }
    rc = lw_join_request_parse_verify(buf, len, net_id, n->conf->root_key, n->conf->join_nonce,
                                      &req);
    if (rc != LW_OK) {
        st->refused++;
        return rc;
    }
    struct lw_join_acc acc = {
        .net_id = net_id,
        .hop_limit = req.hop_limit,
        .join_nonce = req.join_nonce,
        .address = n->conf->address,
    };
    memcpy(acc.gw_nonce, gw_nonce, LW_JOIN_GW_NONCE_LEN);
    struct lw_join_keys keys;
    int alen =
        lw_join_accept_build(&acc, n->conf->root_key, req.eui, out->accept, sizeof(out->accept));
    if (alen < 0 || lw_join_derive_keys(n->conf->root_key, req.eui, &acc, &keys) != LW_OK) {
        memset(out, 0, sizeof(*out));
        st->refused++;
        return alen < 0 ? alen : LW_ERR_CRYPTO;
    }
    out->accept_len = (size_t)alen;
    out->node = n;
    out->req = req;
    out->conf = *n->conf;
    memcpy(out->conf.key, keys.up, LW_KEY_LEN);
    memcpy(out->conf.key_down, keys.down, LW_KEY_LEN);
    out->conf.has_session = true;
    out->conf.join_nonce = req.join_nonce;
    out->conf.fcnt_up = 0; /* counters restart at 1 with a new session */
    out->conf.state = LW_NODE_ACTIVE;
    out->conf.pairing_until_ms = 0;
    memset(&keys, 0, sizeof(keys));
    st->accepted++;
    return LW_OK;
}
