/* Unit tests of the portable node core with a fake HAL that captures every frame sent. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lw_error.h"
#include "lw_frame.h"
#include "lw_node.h"
#include "lw_reading.h"

#define MAX_CAPTURED 8

struct fake_radio {
    uint8_t frames[MAX_CAPTURED][LW_FRAME_MAX_LEN];
    size_t lens[MAX_CAPTURED];
    size_t n;
    int send_rc; /* what send returns */
    uint64_t now;
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
