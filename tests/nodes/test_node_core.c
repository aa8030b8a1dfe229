/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the portable node core with a fake HAL that captures every frame sent and plays
 * the gateway's part of the join procedure with lw_join. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lw_error.h"
#include "lw_frame.h"
#include "lw_join.h"
#include "lw_node.h"
#include "lw_reading.h"

#define MAX_CAPTURED 8

struct fake_radio {
    uint8_t frames[MAX_CAPTURED][LW_FRAME_MAX_LEN];
    size_t lens[MAX_CAPTURED];
    size_t n;
    int send_rc; /* what send returns */
    uint64_t now;
    uint32_t stored_nonce;      /* "flash": last join nonce stored */
    size_t stores;              /* store_join_nonce calls */
    size_t sent_at_store;       /* frames already sent when the nonce was last stored */
    int store_rc;               /* what store_join_nonce returns */
    size_t received;            /* on_receive calls */
    struct lw_frame_hdr rx_hdr; /* last frame handed to on_receive */
};

static int fake_send(void *ctx, const uint8_t *frame, size_t len)
{
    struct fake_radio *fr = ctx;
    assert_true(len <= LW_FRAME_MAX_LEN);
    if (fr->n < MAX_CAPTURED) {
        memcpy(fr->frames[fr->n], frame, len);
        fr->lens[fr->n] = len;
    }
    fr->n++;
    return fr->send_rc;
}

static uint64_t fake_now(void *ctx)
{
    return ((struct fake_radio *)ctx)->now;
}

static int fake_store_join_nonce(void *ctx, uint32_t nonce)
{
    struct fake_radio *fr = ctx;

    fr->stores++;
    fr->sent_at_store = fr->n;
    if (fr->store_rc >= 0)
        fr->stored_nonce = nonce;
    return fr->store_rc;
}

static void fake_on_receive(void *ctx, const struct lw_frame_hdr *hdr, const uint8_t *plain,
                            size_t len)
{
    struct fake_radio *fr = ctx;

    (void)plain;
    (void)len;
    fr->received++;
    fr->rx_hdr = *hdr;
}

static const uint8_t test_key[LW_KEY_LEN] = {0x8f, 0x1c, 0x2a, 0x9b, 0x3e, 0x4d, 0x5f, 0x60,
                                             0x71, 0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8};

static void make_node(struct lw_node *n, struct fake_radio *fr, uint32_t fcnt_start)
{
    struct lw_node_config cfg;
    struct lw_node_hal hal = {.ctx = fr, .now_ms = fake_now, .send = fake_send};

    memset(fr, 0, sizeof(*fr));
    lw_node_config_defaults(&cfg);
    cfg.net_id = 0x4C57;
    cfg.address = 0x0101;
    memcpy(cfg.key, test_key, sizeof(cfg.key));
    cfg.fcnt_start = fcnt_start;
    assert_int_equal(lw_node_init(n, &cfg, &hal), LW_OK);
}

static const struct lw_reading water_reading = {
    .present = LW_R_WATER | LW_R_TEMP | LW_R_BATTERY,
    .water_mm = 180,
    .temp_c_x10 = -25,
    .battery_mv = 3600,
};

static void test_defaults(void **state)
{
    struct lw_node_config cfg;
    (void)state;

    memset(&cfg, 0xAB, sizeof(cfg));
    lw_node_config_defaults(&cfg);
    assert_int_equal(cfg.hop_limit, 3);
    assert_int_equal(cfg.fcnt_start, 1);
    assert_int_equal(cfg.address, 0);
}

static void test_init_rejects(void **state)
{
    static struct lw_node n; /* as on a microcontroller: static storage */
    struct fake_radio fr;
    struct lw_node_config cfg;
    struct lw_node_hal hal = {.ctx = &fr, .send = fake_send};
    struct lw_node_hal no_send = {.ctx = &fr};
    (void)state;

    lw_node_config_defaults(&cfg);
    cfg.address = 0x0101;
    assert_int_equal(lw_node_init(&n, &cfg, &hal), LW_ERR_INVAL); /* all-zero key */
    memcpy(cfg.key, test_key, sizeof(cfg.key));
    assert_int_equal(lw_node_init(&n, &cfg, &hal), LW_OK);
    assert_int_equal(lw_node_init(&n, &cfg, &no_send), LW_ERR_INVAL);
    assert_int_equal(lw_node_init(NULL, &cfg, &hal), LW_ERR_INVAL);
    cfg.address = LW_ADDR_GATEWAY;
    assert_int_equal(lw_node_init(&n, &cfg, &hal), LW_ERR_INVAL);
    cfg.address = LW_ADDR_BROADCAST;
    assert_int_equal(lw_node_init(&n, &cfg, &hal), LW_ERR_INVAL);
    cfg.address = 0x0101;
    cfg.hop_limit = 8;
    assert_int_equal(lw_node_init(&n, &cfg, &hal), LW_ERR_INVAL);
}

static void test_frames_open_and_decode(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    (void)state;

    make_node(&n, &fr, 7);
    for (uint32_t i = 0; i < 3; i++) {
        int len = lw_node_report(&n, &water_reading, false);
        assert_true(len > LW_FRAME_OVERHEAD);
        assert_int_equal(fr.n, i + 1);
        assert_int_equal((size_t)len, fr.lens[i]);
    }
    assert_int_equal(lw_node_fcnt_next(&n), 10);

    for (uint32_t i = 0; i < 3; i++) {
        struct lw_frame_hdr hdr;
        struct lw_reading back;
        uint8_t plain[LW_FRAME_MAX_PAYLOAD];
        int plen = lw_frame_open(fr.frames[i], fr.lens[i], test_key, &hdr, plain, sizeof(plain));
        assert_true(plen > 0);
        assert_int_equal(hdr.version, LW_PROTO_VERSION);
        assert_int_equal(hdr.type, LW_FT_DATA);
        assert_false(hdr.ack_req);
        assert_int_equal(hdr.hop_count, 0);
        assert_int_equal(hdr.hop_limit, 3);
        assert_int_equal(hdr.net_id, 0x4C57);
        assert_int_equal(hdr.src, 0x0101);
        assert_int_equal(hdr.dst, LW_ADDR_GATEWAY);
        assert_int_equal(hdr.fcnt, 7 + i); /* counters increase one by one */
        assert_int_equal(lw_reading_decode(plain, (size_t)plen, &back), LW_OK);
        assert_int_equal(back.present, water_reading.present);
        assert_int_equal(back.water_mm, 180);
        assert_int_equal(back.temp_c_x10, -25);
        assert_int_equal(back.battery_mv, 3600);
    }
    /* Each frame is a fresh nonce: no two ciphertexts are equal. */
    assert_memory_not_equal(fr.frames[0] + LW_FRAME_HDR_LEN, fr.frames[1] + LW_FRAME_HDR_LEN,
                            fr.lens[0] - LW_FRAME_HDR_LEN);
}

static void test_alarm_frame(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    struct lw_reading smoke = {.present = LW_R_SMOKE, .smoke_alarm = 1, .smoke_obscuration = 800};
    struct lw_frame_hdr hdr;
    struct lw_reading back;
    uint8_t plain[LW_FRAME_MAX_PAYLOAD];
    (void)state;

    make_node(&n, &fr, 1);
    assert_true(lw_node_report(&n, &smoke, true) > 0);
    int plen = lw_frame_open(fr.frames[0], fr.lens[0], test_key, &hdr, plain, sizeof(plain));
    assert_true(plen > 0);
    assert_int_equal(hdr.type, LW_FT_ALARM);
    assert_true(hdr.ack_req);
    assert_int_equal(hdr.fcnt, 1);
    assert_int_equal(lw_reading_decode(plain, (size_t)plen, &back), LW_OK);
    assert_int_equal(back.smoke_alarm, 1);
    assert_int_equal(back.smoke_obscuration, 800);

    /* A wrong key does not open it. */
    uint8_t other[LW_KEY_LEN];
    memcpy(other, test_key, sizeof(other));
    other[5] ^= 0x10;
    assert_int_equal(lw_frame_open(fr.frames[0], fr.lens[0], other, &hdr, plain, sizeof(plain)),
                     LW_ERR_MIC);
}

static void test_empty_heartbeat(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    struct lw_reading none = {0};
    (void)state;

    make_node(&n, &fr, 1);
    assert_int_equal(lw_node_report(&n, &none, false), LW_FRAME_OVERHEAD);
}

static void test_counter_wrap_refused(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    struct lw_frame_hdr hdr;
    uint8_t plain[LW_FRAME_MAX_PAYLOAD];
    (void)state;

    make_node(&n, &fr, 0xFFFFFFFEu);
    assert_true(lw_node_report(&n, &water_reading, false) > 0);
    assert_false(lw_node_fcnt_exhausted(&n));
    assert_true(lw_node_report(&n, &water_reading, false) > 0);
    assert_true(lw_node_fcnt_exhausted(&n));
    assert_int_equal(fr.n, 2);
    assert_true(lw_frame_open(fr.frames[1], fr.lens[1], test_key, &hdr, plain, sizeof(plain)) > 0);
    assert_int_equal(hdr.fcnt, 0xFFFFFFFFu);
    /* Counter 0 would reuse a nonce of this key: refused, nothing sent, ever again. */
    assert_int_equal(lw_node_report(&n, &water_reading, false), LW_ERR_RANGE);
    assert_int_equal(lw_node_report(&n, &water_reading, true), LW_ERR_RANGE);
    assert_int_equal(fr.n, 2);
}

static void test_bad_reading_keeps_counter(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    struct lw_reading bad = {.present = LW_R_GAS, .gas_lel_x10 = 1001};
    (void)state;

    make_node(&n, &fr, 5);
    assert_int_equal(lw_node_report(&n, &bad, false), LW_ERR_RANGE);
    assert_int_equal(fr.n, 0);
    assert_int_equal(lw_node_fcnt_next(&n), 5); /* nothing was sealed */
}

static void test_send_failure_still_advances(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    (void)state;

    make_node(&n, &fr, 5);
    fr.send_rc = LW_ERR_IO;
    assert_int_equal(lw_node_report(&n, &water_reading, false), LW_ERR_IO);
    assert_int_equal(lw_node_fcnt_next(&n), 6); /* the sealed frame may be on the air */
    fr.send_rc = 0;
    assert_true(lw_node_report(&n, &water_reading, false) > 0);
    assert_int_equal(lw_node_fcnt_next(&n), 7);
}

/* --- Join procedure (PROTOCOL.md section 12), vectors of section 12.9 --- */

static const uint8_t root_r[LW_KEY_LEN] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                           0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t eui_e[LW_JOIN_EUI_LEN] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
static const uint8_t gw_nonce_g[LW_JOIN_GW_NONCE_LEN] = {0xf0, 0xe1, 0xd2, 0xc3,
                                                         0xb4, 0xa5, 0x96, 0x87};
/* JOIN_REQ with join nonce 0x105, its JOIN_ACC (address 0x0123), the first heartbeat of the
 * session and the gateway's first ACK, exactly as printed in PROTOCOL.md. */
static const uint8_t vec_req[LW_JOIN_REQ_LEN] = {
    0x13, 0x0c, 0x57, 0x4c, 0xff, 0xff, 0x00, 0x00, 0x05, 0x01, 0x00, 0x00, 0x02, 0x11,
    0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0xa6, 0x7a, 0x26, 0x70, 0xa7, 0xd4, 0xa1, 0xa7};
static const uint8_t vec_acc[LW_JOIN_ACC_LEN] = {
    0x14, 0x0c, 0x57, 0x4c, 0x00, 0x00, 0xff, 0xff, 0x05, 0x01, 0x00, 0x00, 0xf0, 0xe1, 0xd2,
    0xc3, 0xb4, 0xa5, 0x96, 0x87, 0x45, 0x4d, 0x76, 0x11, 0xfb, 0xae, 0x2b, 0x01, 0x04, 0x08};
static const uint8_t vec_heartbeat[LW_FRAME_OVERHEAD] = {0x11, 0x0c, 0x57, 0x4c, 0x23, 0x01, 0x00,
                                                         0x00, 0x01, 0x00, 0x00, 0x00, 0xef, 0x35,
                                                         0x31, 0xa4, 0x9c, 0x34, 0xdb, 0xf2};
static const uint8_t vec_ack[LW_FRAME_OVERHEAD] = {0x15, 0x0c, 0x57, 0x4c, 0x00, 0x00, 0x23,
                                                   0x01, 0x01, 0x00, 0x00, 0x00, 0xa4, 0x03,
                                                   0x4d, 0xae, 0xa0, 0x20, 0x42, 0x0f};

/* A join mode node (root key, no node key) as provisioned, restored with join_nonce_last. */
static void make_join_node(struct lw_node *n, struct fake_radio *fr, uint32_t join_nonce_last)
{
    struct lw_node_config cfg;
    struct lw_node_hal hal = {.ctx = fr,
                              .now_ms = fake_now,
                              .send = fake_send,
                              .on_receive = fake_on_receive,
                              .store_join_nonce = fake_store_join_nonce};

    memset(fr, 0, sizeof(*fr));
    lw_node_config_defaults(&cfg);
    cfg.net_id = 0x4C57;
    memcpy(cfg.eui, eui_e, sizeof(cfg.eui));
    memcpy(cfg.root_key, root_r, sizeof(cfg.root_key));
    cfg.join_nonce_last = join_nonce_last;
    assert_int_equal(lw_node_init(n, &cfg, &hal), LW_OK);
}

/* The gateway's side: verify the captured JOIN_REQ and answer it; returns the accept's length. */
static int gateway_answer(const struct fake_radio *fr, size_t frame, uint32_t last_nonce,
                          const uint8_t root[LW_KEY_LEN], uint16_t address, uint8_t *acc_out,
                          struct lw_join_keys *keys)
{
    struct lw_join_req req;
    struct lw_join_acc acc = {.net_id = 0x4C57, .hop_limit = 3, .address = address};
    int n;

    assert_int_equal(lw_join_request_peek(fr->frames[frame], fr->lens[frame], &req), LW_OK);
    assert_memory_equal(req.eui, eui_e, LW_JOIN_EUI_LEN);
    assert_int_equal(lw_join_request_parse_verify(fr->frames[frame], fr->lens[frame], 0x4C57,
                                                  root_r, last_nonce, &req),
                     LW_OK);
    acc.join_nonce = req.join_nonce;
    memcpy(acc.gw_nonce, gw_nonce_g, sizeof(acc.gw_nonce));
    n = lw_join_accept_build(&acc, root, eui_e, acc_out, LW_JOIN_ACC_LEN);
    assert_int_equal(n, LW_JOIN_ACC_LEN);
    if (keys != NULL)
        assert_int_equal(lw_join_derive_keys(root, eui_e, &acc, keys), LW_OK);
    return n;
}

static void test_join_mode_init_rules(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    struct lw_node_config cfg;
    struct lw_node_hal hal = {.ctx = &fr, .send = fake_send};
    (void)state;

    memset(&fr, 0, sizeof(fr));
    lw_node_config_defaults(&cfg);
    cfg.net_id = 0x4C57;
    memcpy(cfg.root_key, root_r, sizeof(cfg.root_key));
    /* No node key, no address: fine in join mode. */
    assert_int_equal(lw_node_init(&n, &cfg, &hal), LW_OK);
    assert_false(lw_node_joined(&n));
    assert_int_equal(lw_node_address(&n), 0);
    /* Nothing can be sent before the join... */
    assert_int_equal(lw_node_report(&n, &water_reading, false), LW_ERR_STATE);
    assert_int_equal(fr.n, 0);
    /* ...and joining needs somewhere to persist the join nonce. */
    assert_int_equal(lw_node_join_start(&n), LW_ERR_INVAL);
    assert_int_equal(fr.n, 0);
    /* One key, one role: a root key equal to the node key is refused. */
    memcpy(cfg.key, root_r, sizeof(cfg.key));
    cfg.address = 0x0101;
    assert_int_equal(lw_node_init(&n, &cfg, &hal), LW_ERR_INVAL);
    /* A personalised node without a root key cannot join. */
    make_node(&n, &fr, 1);
    assert_int_equal(lw_node_join_start(&n), LW_ERR_STATE);
    assert_int_equal(lw_node_join_start(NULL), LW_ERR_INVAL);
    assert_int_equal(lw_node_handle_downlink(NULL, vec_acc, sizeof(vec_acc)), LW_ERR_INVAL);
}

static void test_join_vectors_end_to_end(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    struct lw_reading none = {0};
    (void)state;

    make_join_node(&n, &fr, 0x104);
    assert_int_equal(lw_node_join_start(&n), LW_JOIN_REQ_LEN);
    /* Write ahead: the nonce was stored before anything went on the air. */
    assert_int_equal(fr.stores, 1);
    assert_int_equal(fr.sent_at_store, 0);
    assert_int_equal(fr.stored_nonce, 0x105);
    assert_int_equal(lw_node_join_nonce_last(&n), 0x105);
    assert_int_equal(fr.n, 1);
    assert_int_equal(fr.lens[0], sizeof(vec_req));
    assert_memory_equal(fr.frames[0], vec_req, sizeof(vec_req));
    /* Still not joined: no uplink until the accept. */
    assert_int_equal(lw_node_report(&n, &none, false), LW_ERR_STATE);

    assert_int_equal(lw_node_handle_downlink(&n, vec_acc, sizeof(vec_acc)), LW_OK);
    assert_true(lw_node_joined(&n));
    assert_int_equal(lw_node_address(&n), 0x0123);
    assert_int_equal(lw_node_fcnt_next(&n), 1);
    assert_int_equal(lw_node_fcnt_down_top(&n), 0);

    /* The first frame of the session is the documented heartbeat, counter 1. */
    assert_int_equal(lw_node_report(&n, &none, false), LW_FRAME_OVERHEAD);
    assert_int_equal(fr.n, 2);
    assert_memory_equal(fr.frames[1], vec_heartbeat, sizeof(vec_heartbeat));
    assert_int_equal(lw_node_fcnt_next(&n), 2);

    /* The gateway's first downlink of the session opens, once. */
    assert_int_equal(lw_node_handle_downlink(&n, vec_ack, sizeof(vec_ack)), LW_OK);
    assert_int_equal(fr.received, 1);
    assert_int_equal(fr.rx_hdr.type, LW_FT_ACK);
    assert_int_equal(fr.rx_hdr.fcnt, 1);
    assert_int_equal(lw_node_fcnt_down_top(&n), 1);
    assert_int_equal(lw_node_handle_downlink(&n, vec_ack, sizeof(vec_ack)), LW_ERR_REPLAY);
    assert_int_equal(fr.received, 1);

    /* The accept cannot be replayed: no join is pending any more. */
    assert_int_equal(lw_node_handle_downlink(&n, vec_acc, sizeof(vec_acc)), LW_ERR_STATE);
    assert_int_equal(lw_node_address(&n), 0x0123);
}

static void test_join_session_frames_use_derived_keys(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    struct lw_join_keys keys;
    struct lw_frame_hdr hdr;
    uint8_t acc[LW_JOIN_ACC_LEN], plain[LW_FRAME_MAX_PAYLOAD];
    (void)state;

    make_join_node(&n, &fr, 0);
    assert_int_equal(lw_node_join_start(&n), LW_JOIN_REQ_LEN);
    assert_int_equal(fr.stored_nonce, 1); /* first join ever: nonce 1 */
    gateway_answer(&fr, 0, 0, root_r, 0x0BEE, acc, &keys);
    assert_int_equal(lw_node_handle_downlink(&n, acc, sizeof(acc)), LW_OK);
    for (uint32_t i = 0; i < 3; i++)
        assert_true(lw_node_report(&n, &water_reading, i == 2) > LW_FRAME_OVERHEAD);
    for (uint32_t i = 0; i < 3; i++) {
        int plen =
            lw_frame_open(fr.frames[1 + i], fr.lens[1 + i], keys.up, &hdr, plain, sizeof(plain));
        assert_true(plen > 0);
        assert_int_equal(hdr.src, 0x0BEE);
        assert_int_equal(hdr.fcnt, 1 + i); /* counters restart at 1 in a new session */
        assert_int_equal(hdr.type, i == 2 ? LW_FT_ALARM : LW_FT_DATA);
        /* The root key and the downlink key open nothing. */
        assert_int_equal(
            lw_frame_open(fr.frames[1 + i], fr.lens[1 + i], keys.down, &hdr, plain, sizeof(plain)),
            LW_ERR_MIC);
        assert_int_equal(
            lw_frame_open(fr.frames[1 + i], fr.lens[1 + i], root_r, &hdr, plain, sizeof(plain)),
            LW_ERR_MIC);
    }
}

static void test_join_accept_with_wrong_key_refused(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    uint8_t wrong[LW_KEY_LEN], acc[LW_JOIN_ACC_LEN];
    (void)state;

    make_join_node(&n, &fr, 0x104);
    assert_int_equal(lw_node_join_start(&n), LW_JOIN_REQ_LEN);
    memcpy(wrong, root_r, sizeof(wrong));
    wrong[15] ^= 0x01;
    gateway_answer(&fr, 0, 0x104, wrong, 0x0123, acc, NULL);
    assert_int_equal(lw_node_handle_downlink(&n, acc, sizeof(acc)), LW_ERR_MIC);
    assert_false(lw_node_joined(&n));
    assert_int_equal(lw_node_report(&n, &water_reading, false), LW_ERR_STATE);
    /* The join is still pending: the genuine accept is taken afterwards. */
    assert_int_equal(lw_node_handle_downlink(&n, vec_acc, sizeof(vec_acc)), LW_OK);
    assert_true(lw_node_joined(&n));
}

static void test_join_stale_accept_and_rejoin(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    struct lw_join_keys keys;
    struct lw_frame_hdr hdr;
    uint8_t acc[LW_JOIN_ACC_LEN], plain[LW_FRAME_MAX_PAYLOAD];
    (void)state;

    make_join_node(&n, &fr, 0x104);
    assert_int_equal(lw_node_join_start(&n), LW_JOIN_REQ_LEN);
    assert_int_equal(lw_node_handle_downlink(&n, vec_acc, sizeof(vec_acc)), LW_OK);
    assert_int_equal(lw_node_report(&n, &water_reading, false) > 0, 1);

    /* Rejoin: nonce 0x106. Until its accept arrives the old session keeps working. */
    assert_int_equal(lw_node_join_start(&n), LW_JOIN_REQ_LEN);
    assert_int_equal(fr.stored_nonce, 0x106);
    assert_true(lw_node_report(&n, &water_reading, false) > 0);
    assert_int_equal(lw_frame_peek(fr.frames[3], fr.lens[3], &hdr), LW_OK);
    assert_int_equal(hdr.src, 0x0123);
    assert_int_equal(hdr.fcnt, 2);
    /* The accept of the previous join is stale now. */
    assert_int_equal(lw_node_handle_downlink(&n, vec_acc, sizeof(vec_acc)), LW_ERR_REPLAY);
    /* The gateway saw 0x105 last; it answers 0x106 with a new address. */
    gateway_answer(&fr, 2, 0x105, root_r, 0x0456, acc, &keys);
    assert_int_equal(lw_node_handle_downlink(&n, acc, sizeof(acc)), LW_OK);
    assert_int_equal(lw_node_address(&n), 0x0456);
    assert_int_equal(lw_node_fcnt_next(&n), 1);
    assert_true(lw_node_report(&n, &water_reading, false) > 0);
    assert_true(lw_frame_open(fr.frames[4], fr.lens[4], keys.up, &hdr, plain, sizeof(plain)) > 0);
    assert_int_equal(hdr.fcnt, 1);
    assert_int_equal(hdr.src, 0x0456);
    /* The previous session's downlinks are dead: new keys (and here a new address). */
    assert_int_equal(lw_node_handle_downlink(&n, vec_ack, sizeof(vec_ack)), LW_ERR_INVAL);
}

static void test_join_store_failure_sends_nothing(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    (void)state;

    make_join_node(&n, &fr, 7);
    fr.store_rc = LW_ERR_IO;
    assert_int_equal(lw_node_join_start(&n), LW_ERR_IO);
    assert_int_equal(fr.n, 0);
    assert_int_equal(lw_node_join_nonce_last(&n), 7);
    /* Nothing is pending: an accept is refused. */
    assert_int_equal(lw_node_handle_downlink(&n, vec_acc, sizeof(vec_acc)), LW_ERR_STATE);
    fr.store_rc = 0;
    assert_int_equal(lw_node_join_start(&n), LW_JOIN_REQ_LEN);
    assert_int_equal(fr.stored_nonce, 8);
}

static void test_join_send_failure_keeps_nonce_spent(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    (void)state;

    make_join_node(&n, &fr, 0x104);
    fr.send_rc = LW_ERR_IO;
    assert_int_equal(lw_node_join_start(&n), LW_ERR_IO);
    assert_int_equal(fr.stored_nonce, 0x105); /* the request may be on the air */
    assert_int_equal(lw_node_join_nonce_last(&n), 0x105);
    assert_int_equal(lw_node_handle_downlink(&n, vec_acc, sizeof(vec_acc)), LW_OK);
}

static void test_join_reboot_resumes_after_stored_nonce(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    uint32_t flash;
    (void)state;

    make_join_node(&n, &fr, 0x103);
    assert_int_equal(lw_node_join_start(&n), LW_JOIN_REQ_LEN);
    assert_int_equal(lw_node_join_start(&n), LW_JOIN_REQ_LEN);
    flash = fr.stored_nonce;
    assert_int_equal(flash, 0x105);
    /* Power cut; the node boots from flash and never reuses a nonce. */
    make_join_node(&n, &fr, flash);
    assert_int_equal(lw_node_join_start(&n), LW_JOIN_REQ_LEN);
    assert_int_equal(fr.stored_nonce, 0x106);
    assert_int_equal(fr.frames[0][8], 0x06);
    /* The pre-reboot accept (nonce 0x105) is not taken. */
    assert_int_equal(lw_node_handle_downlink(&n, vec_acc, sizeof(vec_acc)), LW_ERR_REPLAY);
    assert_false(lw_node_joined(&n));
}

static void test_join_nonce_exhausted(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    (void)state;

    make_join_node(&n, &fr, 0xFFFFFFFEu);
    assert_int_equal(lw_node_join_start(&n), LW_JOIN_REQ_LEN);
    assert_int_equal(fr.stored_nonce, 0xFFFFFFFFu);
    assert_int_equal(lw_node_join_start(&n), LW_ERR_RANGE);
    assert_int_equal(fr.stores, 1);
    assert_int_equal(fr.n, 1);
}

/* A personalised node that also holds a root key moves to a joined session. */
/* Without an answer the core sends a new JOIN_REQ (new nonce) after 10 s, 20 s, 40 s ... up to
 * the cap; an accepted JOIN_ACC ends the retries; join_attempts_max gives up. */
static void test_join_retry_backoff(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    uint64_t expect[] = {10000, 20000, 40000, 80000};
    (void)state;

    make_join_node(&n, &fr, 0x100);
    assert_int_equal(lw_node_next_due(&n), UINT64_MAX);
    assert_int_equal(lw_node_join_start(&n), LW_JOIN_REQ_LEN);
    for (size_t i = 0; i < 4; i++) {
        uint64_t due = lw_node_next_due(&n);
        assert_int_equal(due - fr.now, expect[i]); /* no hal.random: no spread */
        fr.now = due - 1;
        assert_int_equal(lw_node_poll(&n, fr.now), 0);
        fr.now = due;
        assert_int_equal(lw_node_poll(&n, fr.now), 1);
        assert_int_equal(fr.stored_nonce, 0x102 + i);
    }
    assert_int_equal(fr.n, 5);
    assert_int_equal(lw_node_join_attempts(&n), 5);
    /* The gateway answers the latest request: retries stop. */
    uint8_t acc[LW_JOIN_ACC_LEN];
    gateway_answer(&fr, 4, 0x104, root_r, 0x0123, acc, NULL);
    assert_int_equal(lw_node_handle_downlink(&n, acc, sizeof(acc)), LW_OK);
    assert_false(lw_node_join_pending(&n));
    assert_int_equal(lw_node_next_due(&n), UINT64_MAX);
    assert_int_equal(lw_node_poll(&n, fr.now + 10000000), 0);
    assert_int_equal(fr.n, 5);

    /* A cap on attempts. */
    struct lw_node_config cfg = n.cfg;
    struct lw_node_hal hal = n.hal;
    cfg.join_attempts_max = 2;
    cfg.join_backoff_max_ms = 15000;
    assert_int_equal(lw_node_init(&n, &cfg, &hal), LW_OK);
    fr.now = 0;
    assert_int_equal(lw_node_join_start(&n), LW_JOIN_REQ_LEN);
    assert_int_equal(lw_node_poll(&n, 10000), 1);
    assert_int_equal(lw_node_next_due(&n), 25000); /* capped at 15 s */
    assert_int_equal(lw_node_poll(&n, 25000), 0);
    assert_true(lw_node_join_failed(&n));
    assert_false(lw_node_join_pending(&n));
    assert_int_equal(lw_node_next_due(&n), UINT64_MAX);
}

/* An ALARM is re-sent with new counters and growing delays until the gateway's ACK names one of
 * its counters; routine reports are not. */
static void test_alarm_retransmitted_until_ack(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    struct lw_frame_hdr hdr;
    uint8_t ack[LW_FRAME_MAX_LEN];
    (void)state;

    make_node(&n, &fr, 1);
    n.hal.on_receive = fake_on_receive;
    assert_true(lw_node_report(&n, &water_reading, false) > 0);
    assert_false(lw_node_alarm_pending(&n));
    assert_int_equal(lw_node_next_due(&n), UINT64_MAX);
    assert_true(lw_node_report(&n, &water_reading, true) > 0); /* fcnt 2 */
    assert_true(lw_node_alarm_pending(&n));
    assert_int_equal(lw_node_next_due(&n), 2000);
    fr.now = 2000;
    assert_int_equal(lw_node_poll(&n, fr.now), 1); /* fcnt 3 */
    assert_int_equal(lw_node_next_due(&n), 6000);
    fr.now = 6000;
    assert_int_equal(lw_node_poll(&n, fr.now), 1); /* fcnt 4 */
    assert_int_equal(fr.n, 4);
    assert_int_equal(lw_frame_peek(fr.frames[3], fr.lens[3], &hdr), LW_OK);
    assert_int_equal(hdr.type, LW_FT_ALARM);
    assert_true(hdr.ack_req);
    assert_int_equal(hdr.fcnt, 4);
    assert_int_equal(lw_node_alarm_attempts(&n), 3);

    /* An ACK naming a counter of another frame changes nothing; one naming fcnt 3 (the copy
     * that arrived) ends the retries. */
    struct lw_frame_hdr h = {
        .type = LW_FT_ACK, .net_id = 0x4C57, .src = 0, .dst = 0x0101, .fcnt = 1};
    uint8_t named[4] = {1, 0, 0, 0};
    int len = lw_frame_seal(&h, test_key, named, 4, ack, sizeof(ack));
    assert_int_equal(lw_node_handle_downlink(&n, ack, (size_t)len), LW_OK);
    assert_true(lw_node_alarm_pending(&n));
    h.fcnt = 2;
    named[0] = 3;
    len = lw_frame_seal(&h, test_key, named, 4, ack, sizeof(ack));
    assert_int_equal(lw_node_handle_downlink(&n, ack, (size_t)len), LW_OK);
    assert_false(lw_node_alarm_pending(&n));
    assert_int_equal(lw_node_alarm_acks(&n), 1);
    assert_int_equal(lw_node_next_due(&n), UINT64_MAX);
    assert_int_equal(lw_node_poll(&n, 1000000), 0);
    assert_int_equal(fr.n, 4);

    /* An empty ACK acknowledges the latest alarm. */
    assert_true(lw_node_report(&n, &water_reading, true) > 0);
    h.fcnt = 3;
    len = lw_frame_seal(&h, test_key, NULL, 0, ack, sizeof(ack));
    assert_int_equal(lw_node_handle_downlink(&n, ack, (size_t)len), LW_OK);
    assert_false(lw_node_alarm_pending(&n));
}

static void test_personalised_node_can_join(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    struct lw_node_config cfg;
    struct lw_node_hal hal = {
        .ctx = &fr, .send = fake_send, .store_join_nonce = fake_store_join_nonce};
    struct lw_frame_hdr hdr;
    (void)state;

    memset(&fr, 0, sizeof(fr));
    lw_node_config_defaults(&cfg);
    cfg.net_id = 0x4C57;
    cfg.address = 0x0101;
    memcpy(cfg.key, test_key, sizeof(cfg.key));
    memcpy(cfg.eui, eui_e, sizeof(cfg.eui));
    memcpy(cfg.root_key, root_r, sizeof(cfg.root_key));
    cfg.fcnt_start = 500;
    cfg.join_nonce_last = 0x104;
    assert_int_equal(lw_node_init(&n, &cfg, &hal), LW_OK);
    assert_true(lw_node_report(&n, &water_reading, false) > 0);
    assert_int_equal(lw_node_join_start(&n), LW_JOIN_REQ_LEN);
    assert_int_equal(lw_node_handle_downlink(&n, vec_acc, sizeof(vec_acc)), LW_OK);
    assert_true(lw_node_joined(&n));
    assert_int_equal(lw_node_report(&n, &(struct lw_reading){0}, false), LW_FRAME_OVERHEAD);
    assert_memory_equal(fr.frames[2], vec_heartbeat, sizeof(vec_heartbeat));
    /* The personalised key no longer opens the node's frames. */
    assert_int_equal(lw_frame_open(fr.frames[2], fr.lens[2], test_key, &hdr, NULL, 0), LW_ERR_MIC);
}

/* Personalised mode downlinks: node key, replay window restored from flash across a reboot. */
static void test_personalised_downlink_and_reboot(void **state)
{
    struct lw_node n;
    struct fake_radio fr;
    struct lw_node_config cfg;
    struct lw_node_hal hal = {.ctx = &fr, .send = fake_send, .on_receive = fake_on_receive};
    struct lw_frame_hdr ack = {.type = LW_FT_ACK,
                               .hop_limit = 3,
                               .net_id = 0x4C57,
                               .src = LW_ADDR_GATEWAY,
                               .dst = 0x0101,
                               .fcnt = 40};
    uint8_t f1[LW_FRAME_MAX_LEN], f2[LW_FRAME_MAX_LEN], cmd[4] = {1, 2, 3, 4};
    int l1, l2;
    uint32_t flash;
    (void)state;

    memset(&fr, 0, sizeof(fr));
    lw_node_config_defaults(&cfg);
    cfg.net_id = 0x4C57;
    cfg.address = 0x0101;
    memcpy(cfg.key, test_key, sizeof(cfg.key));
    assert_int_equal(lw_node_init(&n, &cfg, &hal), LW_OK);
    l1 = lw_frame_seal(&ack, test_key, NULL, 0, f1, sizeof(f1));
    ack.type = LW_FT_CMD;
    ack.fcnt = 41;
    l2 = lw_frame_seal(&ack, test_key, cmd, sizeof(cmd), f2, sizeof(f2));
    assert_int_equal(lw_node_handle_downlink(&n, f1, (size_t)l1), LW_OK);
    assert_int_equal(lw_node_handle_downlink(&n, f2, (size_t)l2), LW_OK);
    assert_int_equal(fr.received, 2);
    assert_int_equal(fr.rx_hdr.type, LW_FT_CMD);
    assert_int_equal(lw_node_handle_downlink(&n, f1, (size_t)l1), LW_ERR_REPLAY);
    flash = lw_node_fcnt_down_top(&n);
    assert_int_equal(flash, 41);

    /* Reboot with the persisted top: the old frames stay dead. */
    memset(&fr, 0, sizeof(fr));
    cfg.fcnt_down_top = flash;
    assert_int_equal(lw_node_init(&n, &cfg, &hal), LW_OK);
    assert_int_equal(lw_node_handle_downlink(&n, f2, (size_t)l2), LW_ERR_REPLAY);
    assert_int_equal(lw_node_handle_downlink(&n, f1, (size_t)l1), LW_ERR_REPLAY);
    assert_int_equal(fr.received, 0);

    /* Not for this node, wrong network, uplink types, forged MIC. */
    ack.fcnt = 42;
    ack.dst = 0x0102;
    l1 = lw_frame_seal(&ack, test_key, NULL, 0, f1, sizeof(f1));
    assert_int_equal(lw_node_handle_downlink(&n, f1, (size_t)l1), LW_ERR_INVAL);
    ack.dst = 0x0101;
    ack.net_id = 0x4C58;
    l1 = lw_frame_seal(&ack, test_key, NULL, 0, f1, sizeof(f1));
    assert_int_equal(lw_node_handle_downlink(&n, f1, (size_t)l1), LW_ERR_NETWORK);
    assert_int_equal(lw_node_report(&n, &water_reading, false) > 0, 1);
    assert_int_equal(lw_node_handle_downlink(&n, fr.frames[0], fr.lens[0]), LW_ERR_TYPE);
    assert_int_equal(lw_node_handle_downlink(&n, vec_req, sizeof(vec_req)), LW_ERR_TYPE);
    ack.net_id = 0x4C57;
    l1 = lw_frame_seal(&ack, test_key, NULL, 0, f1, sizeof(f1));
    f1[l1 - 1] ^= 0x01;
    assert_int_equal(lw_node_handle_downlink(&n, f1, (size_t)l1), LW_ERR_MIC);
    f1[l1 - 1] ^= 0x01;
    assert_int_equal(lw_node_handle_downlink(&n, f1, (size_t)l1), LW_OK); /* window untouched */
    assert_int_equal(lw_node_handle_downlink(&n, f1, 5), LW_ERR_TRUNCATED);
    /* A JOIN_ACC without a pending join. */
    assert_int_equal(lw_node_handle_downlink(&n, vec_acc, sizeof(vec_acc)), LW_ERR_STATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_init_rejects),
        cmocka_unit_test(test_frames_open_and_decode),
        cmocka_unit_test(test_alarm_frame),
        cmocka_unit_test(test_empty_heartbeat),
        cmocka_unit_test(test_counter_wrap_refused),
        cmocka_unit_test(test_bad_reading_keeps_counter),
        cmocka_unit_test(test_send_failure_still_advances),
        cmocka_unit_test(test_join_mode_init_rules),
        cmocka_unit_test(test_join_vectors_end_to_end),
        cmocka_unit_test(test_join_session_frames_use_derived_keys),
        cmocka_unit_test(test_join_accept_with_wrong_key_refused),
        cmocka_unit_test(test_join_stale_accept_and_rejoin),
        cmocka_unit_test(test_join_store_failure_sends_nothing),
        cmocka_unit_test(test_join_send_failure_keeps_nonce_spent),
        cmocka_unit_test(test_join_reboot_resumes_after_stored_nonce),
        cmocka_unit_test(test_join_nonce_exhausted),
        cmocka_unit_test(test_join_retry_backoff),
        cmocka_unit_test(test_alarm_retransmitted_until_ack),
        cmocka_unit_test(test_personalised_node_can_join),
        cmocka_unit_test(test_personalised_downlink_and_reboot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
