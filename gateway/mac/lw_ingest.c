/* SPDX-License-Identifier: Apache-2.0 */
/* Frame admission, ordered so that cheap checks run before crypto and nothing unauthenticated
 * changes state. */
#include "lw_ingest.h"

#include <string.h>

#include "lw_error.h"

int lw_ingest_frame(struct lw_registry *reg, uint16_t net_id, const uint8_t *buf, size_t len,
                    struct lw_ingest_result *res, struct lw_ingest_stats *st)
{
    uint8_t plain[LW_FRAME_MAX_PAYLOAD];
    memset(res, 0, sizeof(*res));
    int rc = lw_frame_peek(buf, len, &res->hdr);
    if (rc != LW_OK) {
        st->malformed++;
        return rc;
    }
    if (res->hdr.net_id != net_id) {
        st->network++;
        return LW_ERR_NETWORK;
    }
    struct lw_node *node = lw_registry_find(reg, res->hdr.src);
    /* A paired node that has not joined yet (or was rekeyed) has no session to check against. */
    if (!node || !node->conf->has_session) {
        st->unknown++;
        return LW_ERR_UNKNOWN_NODE;
    }
    /* Replay check before crypto is safe (it does not update) and sheds replay floods cheaply. */
    if (lw_replay_check(&node->replay, res->hdr.fcnt) != LW_OK) {
        st->replay++;
        return LW_ERR_REPLAY;
    }
    int n = lw_frame_open(buf, len, node->conf->key, &res->hdr, plain, sizeof(plain));
    if (n < 0) {
        if (n == LW_ERR_MIC)
            st->mic++;
        else
            st->malformed++;
        return n;
    }
    if (res->hdr.type != LW_FT_DATA && res->hdr.type != LW_FT_ALARM) {
        /* Authentic, so the counter is spent even though we do not act on it yet. */
        lw_replay_accept(&node->replay, res->hdr.fcnt);
        st->ignored++;
        return LW_ERR_TYPE;
    }
    rc = lw_reading_decode(plain, (size_t)n, &res->reading);
    if (rc != LW_OK) {
        lw_replay_accept(&node->replay, res->hdr.fcnt);
        st->malformed++;
        return rc;
    }
    lw_replay_accept(&node->replay, res->hdr.fcnt);
    res->node = node;
    st->accepted++;
    return LW_OK;
}
