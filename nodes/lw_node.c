/* Portable sensor-node core: reading -> TLVs -> sealed frame -> HAL send, with nonce safety. */
#include "lw_node.h"
#include "lw_error.h"

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

int lw_node_init(struct lw_node *n, const struct lw_node_config *cfg, const struct lw_node_hal *hal)
{
    if (n == NULL || cfg == NULL || hal == NULL || hal->send == NULL)
        return LW_ERR_INVAL;
    if (cfg->address == LW_ADDR_GATEWAY || cfg->address == LW_ADDR_BROADCAST ||
        cfg->hop_limit > LW_HOP_MAX || lw_node_key_is_zero(cfg->key))
        return LW_ERR_INVAL;
    memset(n, 0, sizeof(*n));
    n->cfg = *cfg;
    n->hal = *hal;
    n->fcnt_next = cfg->fcnt_start;
    n->fcnt_spent = false;
    /* Later: start the join procedure here when the node has no session key yet. */
    return LW_OK;
}

int lw_node_report(struct lw_node *n, const struct lw_reading *r, bool alarm)
{
    uint8_t plain[LW_READING_MAX_LEN];
    struct lw_frame_hdr hdr;
    int plen, flen;

    if (n == NULL || r == NULL)
        return LW_ERR_INVAL;
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
    hdr.src = n->cfg.address;
    hdr.dst = LW_ADDR_GATEWAY;
    hdr.fcnt = n->fcnt_next;
    flen = lw_frame_seal(&hdr, n->cfg.key, plain, (size_t)plen, n->frame, sizeof(n->frame));
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
