/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_ingest: every admission and rejection path with real sealed frames, the replay
 * window and each counter. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lw_config.h"
#include "lw_error.h"
#include "lw_frame.h"
#include "lw_ingest.h"
#include "lw_reading.h"
#include "lw_registry.h"

#define NET 0x4C57

static const char conf_text[] = "[gateway]\n"
                                "network_id = 0x4C57\n"
                                "[node:garage]\n"
                                "address = 0x0101\n"
                                "eui = 70B3D57ED0000001\n"
                                "key = 6A1F3C9E58B20D47A3E19C5F0B7D2846\n"
                                "kind = water\n"
                                "[node:kitchen]\n"
                                "address = 0x0002\n"
                                "eui = 70B3D57ED0000002\n"
                                "key = 00112233445566778899AABBCCDDEEFF\n"
                                "kind = gas\n";

static const uint8_t key_garage[16] = {0x6A, 0x1F, 0x3C, 0x9E, 0x58, 0xB2, 0x0D, 0x47,
                                       0xA3, 0xE1, 0x9C, 0x5F, 0x0B, 0x7D, 0x28, 0x46};
static const uint8_t key_kitchen[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                        0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF};

struct fixture {
    struct lw_config *cfg;
    struct lw_registry *reg;
    struct lw_ingest_stats st;
    struct lw_ingest_stats want; /* what every counter should read */
    struct lw_ingest_result res;
    uint8_t buf[LW_FRAME_MAX_LEN];
    int len;
};

static void fail_on_config_error(void *arg, const char *msg)
{
    (void)arg;
    fail_msg("config: %s", msg);
}

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    f.cfg = lw_config_parse("ingest.conf", conf_text, sizeof(conf_text) - 1, fail_on_config_error,
                            NULL);
    assert_non_null(f.cfg);
    f.reg = lw_registry_new(f.cfg, f.cfg->nodes, f.cfg->n_nodes);
    assert_non_null(f.reg);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    lw_registry_free(f->reg);
    lw_config_free(f->cfg);
    return 0;
}

/* Seal a frame of type from src with counter fcnt carrying plain (or a water reading). */
static int seal_raw(struct fixture *f, uint8_t type, uint16_t net, uint16_t src, uint32_t fcnt,
                    const uint8_t *key, const uint8_t *plain, size_t plain_len)
{
    struct lw_frame_hdr h;
    memset(&h, 0, sizeof(h));
    h.type = type;
    h.hop_limit = 3;
    h.net_id = net;
    h.src = src;
    h.dst = LW_ADDR_GATEWAY;
    h.fcnt = fcnt;
    f->len = lw_frame_seal(&h, key, plain, plain_len, f->buf, sizeof(f->buf));
    assert_true(f->len > 0);
    return f->len;
}

static int seal_water(struct fixture *f, uint8_t type, uint16_t net, uint16_t src, uint32_t fcnt,
                      const uint8_t *key, uint16_t water_mm)
{
    struct lw_reading r;
    uint8_t plain[LW_READING_MAX_LEN];
    memset(&r, 0, sizeof(r));
    r.present = LW_R_WATER | LW_R_BATTERY;
    r.water_mm = water_mm;
    r.battery_mv = 3600;
    int n = lw_reading_encode(&r, plain, sizeof(plain));
    assert_true(n > 0);
    return seal_raw(f, type, net, src, fcnt, key, plain, (size_t)n);
}

static int ingest(struct fixture *f)
{
    return lw_ingest_frame(f->reg, NET, f->buf, (size_t)f->len, &f->res, &f->st);
}

static void check_counters(const struct fixture *f)
{
    assert_int_equal(f->st.accepted, f->want.accepted);
    assert_int_equal(f->st.malformed, f->want.malformed);
    assert_int_equal(f->st.network, f->want.network);
    assert_int_equal(f->st.unknown, f->want.unknown);
    assert_int_equal(f->st.mic, f->want.mic);
    assert_int_equal(f->st.replay, f->want.replay);
    assert_int_equal(f->st.ignored, f->want.ignored);
}

static struct lw_node *garage(struct fixture *f)
{
    struct lw_node *n = lw_registry_find(f->reg, 0x0101);
    assert_non_null(n);
    return n;
}

static void test_accepted_frame_fills_result_and_advances_replay(void **state)
{
    struct fixture *f = *state;
    seal_water(f, LW_FT_DATA, NET, 0x0101, 10, key_garage, 153);
    assert_int_equal(ingest(f), LW_OK);
    f->want.accepted++;
    check_counters(f);
    assert_ptr_equal(f->res.node, garage(f));
    assert_string_equal(f->res.node->conf->name, "garage");
    assert_int_equal(f->res.hdr.version, LW_PROTO_VERSION);
    assert_int_equal(f->res.hdr.type, LW_FT_DATA);
    assert_int_equal(f->res.hdr.net_id, NET);
    assert_int_equal(f->res.hdr.src, 0x0101);
    assert_int_equal(f->res.hdr.dst, LW_ADDR_GATEWAY);
    assert_int_equal(f->res.hdr.fcnt, 10);
    assert_int_equal(f->res.hdr.hop_limit, 3);
    assert_int_equal(f->res.reading.present, LW_R_WATER | LW_R_BATTERY);
    assert_int_equal(f->res.reading.water_mm, 153);
    assert_int_equal(f->res.reading.battery_mv, 3600);
    assert_true(garage(f)->replay.any);
    assert_int_equal(garage(f)->replay.top, 10);

    /* An ALARM frame of the other node is taken the same way. */
    seal_water(f, LW_FT_ALARM, NET, 0x0002, 0, key_kitchen, 5);
    assert_int_equal(ingest(f), LW_OK);
    f->want.accepted++;
    check_counters(f);
    assert_string_equal(f->res.node->conf->name, "kitchen");
    assert_int_equal(f->res.hdr.type, LW_FT_ALARM);
    assert_int_equal(garage(f)->replay.top, 10); /* windows are per node */
}

static void test_replayed_counter_rejected_and_counted(void **state)
{
    struct fixture *f = *state;
    seal_water(f, LW_FT_DATA, NET, 0x0101, 10, key_garage, 1);
    assert_int_equal(ingest(f), LW_OK);
    f->want.accepted++;
    /* Byte-identical replay. */
    assert_int_equal(ingest(f), LW_ERR_REPLAY);
    f->want.replay++;
    check_counters(f);
    assert_null(f->res.node);
    /* A different, genuine frame reusing the counter is refused too. */
    seal_water(f, LW_FT_DATA, NET, 0x0101, 10, key_garage, 999);
    assert_int_equal(ingest(f), LW_ERR_REPLAY);
    f->want.replay++;
    check_counters(f);
    assert_int_equal(garage(f)->replay.top, 10);
}

static void test_older_counter_within_window_accepted_once(void **state)
{
    struct fixture *f = *state;
    seal_water(f, LW_FT_DATA, NET, 0x0101, 100, key_garage, 1);
    assert_int_equal(ingest(f), LW_OK);
    seal_water(f, LW_FT_DATA, NET, 0x0101, 95, key_garage, 2);
    assert_int_equal(ingest(f), LW_OK);
    assert_int_equal(f->res.reading.water_mm, 2);
    assert_int_equal(ingest(f), LW_ERR_REPLAY);
    f->want.accepted += 2;
    f->want.replay++;
    /* Beyond the 64-counter window: too old. */
    seal_water(f, LW_FT_DATA, NET, 0x0101, 100 - 64, key_garage, 3);
    assert_int_equal(ingest(f), LW_ERR_REPLAY);
    f->want.replay++;
    check_counters(f);
    assert_int_equal(garage(f)->replay.top, 100);
}

static void test_wrong_network_id(void **state)
{
    struct fixture *f = *state;
    seal_water(f, LW_FT_DATA, 0x1234, 0x0101, 1, key_garage, 1);
    assert_int_equal(ingest(f), LW_ERR_NETWORK);
    f->want.network++;
    check_counters(f);
    assert_null(f->res.node);
    assert_false(garage(f)->replay.any);
}

static void test_unknown_source(void **state)
{
    struct fixture *f = *state;
    seal_water(f, LW_FT_DATA, NET, 0x0999, 1, key_garage, 1);
    assert_int_equal(ingest(f), LW_ERR_UNKNOWN_NODE);
    f->want.unknown++;
    check_counters(f);
    assert_null(f->res.node);
}

static void test_wrong_key_does_not_advance_replay(void **state)
{
    struct fixture *f = *state;
    seal_water(f, LW_FT_DATA, NET, 0x0101, 5, key_garage, 1);
    assert_int_equal(ingest(f), LW_OK);
    f->want.accepted++;

    /* Forged with another node's key, far ahead: refused, window unchanged. */
    seal_water(f, LW_FT_DATA, NET, 0x0101, 20, key_kitchen, 1);
    assert_int_equal(ingest(f), LW_ERR_MIC);
    f->want.mic++;
    check_counters(f);
    assert_null(f->res.node);
    assert_int_equal(garage(f)->replay.top, 5);
    assert_int_equal(f->res.reading.present, 0);

    /* A flipped ciphertext bit fails the same way. */
    seal_water(f, LW_FT_DATA, NET, 0x0101, 21, key_garage, 1);
    f->buf[LW_FRAME_HDR_LEN] ^= 0x01;
    assert_int_equal(ingest(f), LW_ERR_MIC);
    f->want.mic++;
    assert_int_equal(garage(f)->replay.top, 5);

    /* The genuine frames with those counters still get in. */
    seal_water(f, LW_FT_DATA, NET, 0x0101, 20, key_garage, 42);
    assert_int_equal(ingest(f), LW_OK);
    assert_int_equal(f->res.reading.water_mm, 42);
    seal_water(f, LW_FT_DATA, NET, 0x0101, 21, key_garage, 43);
    assert_int_equal(ingest(f), LW_OK);
    f->want.accepted += 2;
    check_counters(f);
    assert_int_equal(garage(f)->replay.top, 21);
}

static void test_truncated_and_oversized(void **state)
{
    struct fixture *f = *state;
    seal_water(f, LW_FT_DATA, NET, 0x0101, 1, key_garage, 1);
    f->len = LW_FRAME_OVERHEAD - 1;
    assert_int_equal(ingest(f), LW_ERR_TRUNCATED);
    f->len = 0;
    assert_int_equal(ingest(f), LW_ERR_TRUNCATED);
    f->want.malformed += 2;
    static uint8_t big[LW_FRAME_MAX_LEN + 1];
    memcpy(big, f->buf, LW_FRAME_OVERHEAD);
    assert_int_equal(lw_ingest_frame(f->reg, NET, big, sizeof(big), &f->res, &f->st),
                     LW_ERR_TOOBIG);
    f->want.malformed++;
    check_counters(f);
    /* Cut short but still header-sized: authentication fails. */
    seal_water(f, LW_FT_DATA, NET, 0x0101, 1, key_garage, 1);
    f->len -= 1;
    assert_int_equal(ingest(f), LW_ERR_MIC);
    f->want.mic++;
    check_counters(f);
    assert_false(garage(f)->replay.any);
}

static void test_bad_version_and_header_bits(void **state)
{
    struct fixture *f = *state;
    seal_water(f, LW_FT_DATA, NET, 0x0101, 1, key_garage, 1);
    f->buf[0] = (uint8_t)(2 << 4 | LW_FT_DATA);
    assert_int_equal(ingest(f), LW_ERR_VERSION);
    f->want.malformed++;
    seal_water(f, LW_FT_DATA, NET, 0x0101, 1, key_garage, 1);
    f->buf[0] = (uint8_t)(LW_PROTO_VERSION << 4 | 0x0F); /* unknown type */
    assert_int_equal(ingest(f), LW_ERR_TYPE);
    f->want.malformed++;
    seal_water(f, LW_FT_DATA, NET, 0x0101, 1, key_garage, 1);
    f->buf[1] |= 0x01; /* reserved bit */
    assert_int_equal(ingest(f), LW_ERR_INVAL);
    f->want.malformed++;
    seal_water(f, LW_FT_DATA, NET, 0x0101, 1, key_garage, 1);
    f->buf[1] = (uint8_t)(5 << 5 | 3 << 2); /* hop_count 5 > hop_limit 3 */
    assert_int_equal(ingest(f), LW_ERR_INVAL);
    f->want.malformed++;
    check_counters(f);
    assert_false(garage(f)->replay.any);
}

static void test_bad_tlvs_counted_as_malformed(void **state)
{
    struct fixture *f = *state;
    static const uint8_t truncated[] = {LW_TLV_WATER, 2, 0x10};
    static const uint8_t dup[] = {LW_TLV_WATER, 2, 1, 0, LW_TLV_WATER, 2, 2, 0};
    static const uint8_t reserved[] = {0x08, 1, 0};
    static const uint8_t badlen[] = {LW_TLV_WATER, 3, 1, 0, 0};
    static const uint8_t gas_range[] = {LW_TLV_GAS, 2, 0xE9, 0x03}; /* 1001 > 1000 */
    static const struct {
        const uint8_t *p;
        size_t n;
        int rc;
    } cases[] = {
        {truncated, sizeof(truncated), LW_ERR_TRUNCATED}, {dup, sizeof(dup), LW_ERR_DUP},
        {reserved, sizeof(reserved), LW_ERR_TYPE},        {badlen, sizeof(badlen), LW_ERR_INVAL},
        {gas_range, sizeof(gas_range), LW_ERR_RANGE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        seal_raw(f, LW_FT_DATA, NET, 0x0101, (uint32_t)(10 + i), key_garage, cases[i].p,
                 cases[i].n);
        assert_int_equal(ingest(f), cases[i].rc);
        f->want.malformed++;
        check_counters(f);
        assert_null(f->res.node);
        assert_int_equal(f->res.reading.present, 0);
        /* Authentic, so its counter is spent: the same frame again is a replay. */
        assert_int_equal(garage(f)->replay.top, 10 + i);
        assert_int_equal(ingest(f), LW_ERR_REPLAY);
        f->want.replay++;
        check_counters(f);
    }
    /* An empty payload is a valid heartbeat with no readings. */
    seal_raw(f, LW_FT_DATA, NET, 0x0101, 100, key_garage, NULL, 0);
    assert_int_equal(ingest(f), LW_OK);
    f->want.accepted++;
    check_counters(f);
    assert_int_equal(f->res.reading.present, 0);
}

static void test_other_frame_types_ignored(void **state)
{
    struct fixture *f = *state;
    static const uint8_t types[] = {LW_FT_JOIN_REQ, LW_FT_JOIN_ACC, LW_FT_ACK, LW_FT_CMD};
    for (size_t i = 0; i < sizeof(types); i++) {
        seal_water(f, types[i], NET, 0x0101, (uint32_t)(1 + i), key_garage, 1);
        assert_int_equal(ingest(f), LW_ERR_TYPE);
        f->want.ignored++;
        check_counters(f);
        assert_null(f->res.node);
        assert_int_equal(f->res.hdr.type, types[i]);
        assert_int_equal(garage(f)->replay.top, 1 + i); /* authentic: counter spent */
        assert_int_equal(ingest(f), LW_ERR_REPLAY);
        f->want.replay++;
    }
    /* A forged JOIN is a MIC failure, not "ignored". */
    seal_water(f, LW_FT_JOIN_REQ, NET, 0x0101, 50, key_kitchen, 1);
    assert_int_equal(ingest(f), LW_ERR_MIC);
    f->want.mic++;
    check_counters(f);
    assert_int_equal(garage(f)->replay.top, 4);
}

static void test_every_counter_after_a_mixed_sequence(void **state)
{
    struct fixture *f = *state;
    seal_water(f, LW_FT_DATA, NET, 0x0002, 1, key_kitchen, 1);
    assert_int_equal(ingest(f), LW_OK); /* accepted */
    assert_int_equal(ingest(f), LW_ERR_REPLAY);
    seal_water(f, LW_FT_DATA, 0x0001, 0x0002, 2, key_kitchen, 1);
    assert_int_equal(ingest(f), LW_ERR_NETWORK);
    seal_water(f, LW_FT_DATA, NET, 0x0003, 2, key_kitchen, 1);
    assert_int_equal(ingest(f), LW_ERR_UNKNOWN_NODE);
    seal_water(f, LW_FT_DATA, NET, 0x0002, 2, key_garage, 1);
    assert_int_equal(ingest(f), LW_ERR_MIC);
    seal_water(f, LW_FT_CMD, NET, 0x0002, 3, key_kitchen, 1);
    assert_int_equal(ingest(f), LW_ERR_TYPE);
    f->len = 3;
    assert_int_equal(ingest(f), LW_ERR_TRUNCATED);
    assert_int_equal(f->st.accepted, 1);
    assert_int_equal(f->st.replay, 1);
    assert_int_equal(f->st.network, 1);
    assert_int_equal(f->st.unknown, 1);
    assert_int_equal(f->st.mic, 1);
    assert_int_equal(f->st.ignored, 1);
    assert_int_equal(f->st.malformed, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_accepted_frame_fills_result_and_advances_replay, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_replayed_counter_rejected_and_counted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_older_counter_within_window_accepted_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wrong_network_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key_does_not_advance_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_and_oversized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_version_and_header_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_tlvs_counted_as_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_frame_types_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_counter_after_a_mixed_sequence, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
