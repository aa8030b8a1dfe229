/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the gateway's whole admission path of radio frames, in the order
 * lw_gateway_handle_rx runs it: mesh sink (route trailer, hop limit, duplicates), then either the
 * join procedure (lw_pairing_handle) or frame admission (lw_ingest_frame) against a registry.
 * The input is a sequence of frames, each preceded by its length byte, received one after the
 * other by one gateway: no frame may be accepted twice within a session, a copy the mesh sink
 * recognises is never accepted, and the counters add up to the frames seen. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_frame.h"
#include "lw_ingest.h"
#include "lw_join.h"
#include "lw_mesh.h"
#include "lw_model.h"
#include "lw_pairing.h"
#include "lw_registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NET        0x4C57
#define MAX_FRAMES 16

/* Personalised node: address, key and network of test vector V1 (PROTOCOL.md section 10), so
 * seeds built from the vectors authenticate. */
#define V1_ADDR 0x0102
static const uint8_t v1_key[LW_KEY_LEN] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                           0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
/* Join-mode node pending pairing: EUI, root key and last nonce of the section 12.9 vectors. */
#define JOIN_ADDR 0x0021
static const uint8_t join_root[LW_KEY_LEN] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                              0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t join_eui[8] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};

struct seen {
    uint16_t src;
    uint32_t fcnt;
    uint32_t session; /* joins of the node before this frame */
};

static uint64_t sum_ingest(const struct lw_ingest_stats *s)
{
    return s->accepted + s->malformed + s->network + s->unknown + s->mic + s->replay + s->ignored;
}

static uint64_t sum_pairing(const struct lw_pairing_stats *s)
{
    return s->accepted + s->malformed + s->rate_limited + s->unknown + s->window + s->refused;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lw_config cfg; /* no rules: admission only */
    struct lw_node_conf nodes[2];
    memset(nodes, 0, sizeof(nodes));
    snprintf(nodes[0].name, sizeof(nodes[0].name), "v1");
    nodes[0].address = V1_ADDR;
    memset(nodes[0].eui, 0x70, 8);
    memcpy(nodes[0].key, v1_key, LW_KEY_LEN);
    memcpy(nodes[0].key_down, v1_key, LW_KEY_LEN);
    nodes[0].has_session = true;
    nodes[0].from_config = true;
    nodes[0].state = LW_NODE_ACTIVE;
    nodes[0].kind = LW_KIND_WATER;
    snprintf(nodes[1].name, sizeof(nodes[1].name), "joiner");
    nodes[1].address = JOIN_ADDR;
    memcpy(nodes[1].eui, join_eui, 8);
    memcpy(nodes[1].root_key, join_root, LW_KEY_LEN);
    nodes[1].join_nonce = 0x100;
    nodes[1].state = LW_NODE_PENDING;
    nodes[1].pairing_until_ms = INT64_MAX;
    nodes[1].kind = LW_KIND_WATER;

    struct lw_registry *reg = lw_registry_new(&cfg, nodes, 2);
    struct lw_mesh_config mc;
    lw_mesh_config_defaults(&mc);
    struct lw_mesh *mesh = lw_mesh_new(&mc);
    if (!reg || !mesh)
        abort();
    struct lw_join_limiter lim;
    lw_join_limiter_init(&lim, LW_JOIN_RATE_PER_S, LW_JOIN_BURST);
    struct lw_ingest_stats ist;
    struct lw_pairing_stats pst;
    memset(&ist, 0, sizeof(ist));
    memset(&pst, 0, sizeof(pst));
    struct seen seen[MAX_FRAMES];
    size_t n_seen = 0, n_ingest = 0, n_join = 0;
    uint32_t joins = 0;
    int64_t now = 1000;

    size_t off = 0;
    for (int k = 0; k < MAX_FRAMES && off < size; k++) {
        size_t len = data[off++];
        if (len > size - off)
            len = size - off;
        uint8_t buf[LW_FRAME_MAX_LEN];
        memcpy(buf, data + off, len);
        off += len;
        now += 250; /* frames a quarter second apart: the join bucket refills a little */

        struct lw_mesh_frame mf;
        int mrc = lw_mesh_admit(mesh, buf, len, &mf);
        if (mrc == LW_ERR_DUP && mf.echo)
            continue;
        bool copy = mrc == LW_ERR_DUP && mf.copy;
        if (copy)
            mrc = LW_OK;
        struct lw_frame_hdr peeked;
        if (mrc != LW_OK && lw_frame_peek(buf, len, &peeked) == LW_OK)
            continue; /* refused by the sink: hop limit, bad trailer, loop */
        if (mrc == LW_OK) {
            if (mf.len > len)
                abort();
            len = mf.len;
        }
        if (len >= 2 && (buf[0] & 0x0F) == LW_FT_JOIN_REQ) {
            static const uint8_t gw_nonce[LW_JOIN_GW_NONCE_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
            struct lw_join_outcome out;
            n_join++;
            if (lw_pairing_handle(buf, len, NET, reg, &lim, now, now, gw_nonce, &out, &pst) ==
                LW_OK) {
                if (!out.node || out.conf.address != JOIN_ADDR || !out.conf.has_session ||
                    out.conf.join_nonce <= out.node->conf->join_nonce ||
                    out.accept_len != LW_JOIN_ACC_LEN)
                    abort();
                if (lw_registry_update(reg, &out.conf) != LW_OK)
                    abort();
                struct lw_node *n = lw_registry_find(reg, JOIN_ADDR);
                if (!n)
                    abort();
                lw_replay_init(&n->replay);
                joins++;
            }
            continue;
        }
        struct lw_ingest_result res;
        n_ingest++;
        int rc = lw_ingest_frame(reg, NET, buf, len, &res, &ist);
        if (rc != LW_OK)
            continue;
        /* A copy of a frame a personalised node already got accepted is a replay. */
        if (copy && res.hdr.src == V1_ADDR)
            abort();
        uint32_t session = res.hdr.src == JOIN_ADDR ? joins : 0;
        for (size_t i = 0; i < n_seen; i++)
            if (seen[i].src == res.hdr.src && seen[i].fcnt == res.hdr.fcnt &&
                seen[i].session == session)
                abort(); /* accepted twice */
        seen[n_seen++] = (struct seen){res.hdr.src, res.hdr.fcnt, session};
        struct lw_mesh_rx mrx = {now, -900, 70};
        if (lw_mesh_accepted(mesh, &mf, &mrx) != LW_OK)
            abort();
    }
    /* Every frame handed on was counted exactly once; no node came from the air. */
    if (sum_ingest(&ist) != n_ingest || sum_pairing(&pst) != n_join || lw_registry_count(reg) != 2)
        abort();
    lw_mesh_free(mesh);
    lw_registry_free(reg);
    return 0;
}
