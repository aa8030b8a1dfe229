/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the node core's receiving side, the code a microcontroller runs on
 * whatever it hears: lw_node_hear (relay role: duplicate suppression, route trailers, rank
 * learning, forwarding) and lw_node_handle_downlink (JOIN_ACC, ACK, CMD), with lw_node_poll
 * between frames. The input is a sequence of frames heard by one relay node; every frame the
 * node puts on the air must be a well-formed lorawatch frame within the hop limit it carries. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_frame.h"
#include "lw_node.h"
#include "lw_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NET        0x4C57
#define MAX_FRAMES 24

/* Key and address of test vector V1, and the EUI, root key and nonce of the section 12.9 join
 * vectors (PROTOCOL.md), so seeds built from them open. */
static const uint8_t v1_key[LW_KEY_LEN] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                           0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
static const uint8_t join_root[LW_KEY_LEN] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                              0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t join_eui[8] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};

struct ctx {
    uint64_t now;
    uint32_t rnd;
    unsigned sent;
};

static uint64_t hal_now(void *c)
{
    return ((struct ctx *)c)->now;
}

static uint32_t hal_random(void *c)
{
    struct ctx *x = c;
    x->rnd = x->rnd * 1664525u + 1013904223u;
    return x->rnd;
}

static int hal_store_nonce(void *c, uint32_t nonce)
{
    (void)c;
    (void)nonce;
    return 0;
}

/* Everything the node transmits: its own frames, JOIN_REQs and forwarded frames. */
static int hal_send(void *c, const uint8_t *frame, size_t len)
{
    struct ctx *x = c;
    struct lw_route r;
    x->sent++;
    if (len < LW_FRAME_OVERHEAD || len > LW_FRAME_MAX_LEN)
        abort();
    if (lw_route_parse(frame, len, &r) != LW_OK)
        abort(); /* a malformed frame or trailer went on the air */
    if (r.hdr.hop_count > r.hdr.hop_limit || r.hdr.net_id != NET)
        abort();
    return (int)len;
}

static void hal_receive(void *c, const struct lw_frame_hdr *hdr, const uint8_t *plain, size_t len)
{
    (void)c;
    (void)plain;
    if (len > LW_FRAME_MAX_PAYLOAD || (hdr->type != LW_FT_ACK && hdr->type != LW_FT_CMD))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct ctx x = {.now = 1000, .rnd = 7};
    struct lw_node_config cfg;
    lw_node_config_defaults(&cfg);
    cfg.net_id = NET;
    cfg.address = 0x0102;
    memcpy(cfg.key, v1_key, LW_KEY_LEN);
    memcpy(cfg.root_key, join_root, LW_KEY_LEN);
    memcpy(cfg.eui, join_eui, sizeof(cfg.eui));
    cfg.join_nonce_last = 0x104;
    cfg.relay = true;
    cfg.relay_rank = (data[0] & 1) ? LW_NODE_RELAY_RANK_LEARN : 1;
    struct lw_node_hal hal = {
        .ctx = &x,
        .now_ms = hal_now,
        .send = hal_send,
        .on_receive = hal_receive,
        .random = hal_random,
        .store_join_nonce = hal_store_nonce,
    };
    static struct lw_node n; /* large: keep it off the stack */
    memset(&n, 0, sizeof(n));
    if (lw_node_init(&n, &cfg, &hal) != LW_OK)
        abort();
    if (data[0] & 2)
        (void)lw_node_join_start(&n); /* a JOIN_ACC in the input may answer it */

    /* Records: length, SNR (dB, signed), time step (x 100 ms), frame. */
    size_t off = 1;
    for (int k = 0; k < MAX_FRAMES && off + 3 <= size; k++) {
        size_t len = data[off];
        int8_t snr = (int8_t)data[off + 1];
        x.now += 100u * data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        uint8_t buf[LW_FRAME_MAX_LEN + 8];
        memcpy(buf, data + off, len < sizeof(buf) ? len : sizeof(buf));
        off += len;
        (void)lw_node_hear(&n, buf, len < sizeof(buf) ? len : sizeof(buf), snr, x.now);
        if (data[0] & 4) /* the same bytes straight to the downlink handler, too */
            (void)lw_node_handle_downlink(&n, buf, len < sizeof(buf) ? len : sizeof(buf));
        for (int p = 0; p < 4 && lw_node_next_due(&n) <= x.now + 5000; p++) {
            uint64_t due = lw_node_next_due(&n);
            if (due > x.now)
                x.now = due;
            if (lw_node_poll(&n, x.now) < 0)
                break;
        }
    }
    /* Whatever queued is flushed: forwards must still be well-formed after time passes. */
    x.now += 3600000;
    (void)lw_node_poll(&n, x.now);
    return 0;
}
