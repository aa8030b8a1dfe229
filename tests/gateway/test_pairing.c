/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_pairing: which join requests the gateway answers, and that its accept gives
 * the node the same session keys the gateway keeps. The node side is proto/lw_join.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lw_error.h"
#include "lw_join.h"
#include "lw_pairing.h"
#include "lw_registry.h"

#define NET 0x4C57

static const uint8_t EUI[8] = {0x70, 0xB3, 0xD5, 0x7E, 0xD0, 0x05, 0x12, 0x34};
static const uint8_t ROOT[16] = {0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6,
                                 0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C};
static const uint8_t GW_NONCE[8] = {1, 2, 3, 4, 5, 6, 7, 8};

struct fixture {
    struct lw_config cfg; /* no rules */
    struct lw_node_conf nodes[2];
    struct lw_registry *reg;
    struct lw_join_limiter lim;
    struct lw_pairing_stats st;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    struct lw_node_conf *p = &f.nodes[0];
    snprintf(p->name, sizeof(p->name), "garage-b7");
    p->address = 0x0021;
    memcpy(p->eui, EUI, 8);
    memcpy(p->root_key, ROOT, 16);
    p->kind = LW_KIND_WATER;
    p->state = LW_NODE_PENDING;
    p->pairing_until_ms = 10000;
    /* A personalised node from the configuration file: it has a key, but no root key. */
    struct lw_node_conf *c = &f.nodes[1];
    snprintf(c->name, sizeof(c->name), "stair-1");
    c->address = 0x0005;
    memset(c->eui, 0xEE, 8);
    memset(c->key, 0x11, 16);
    c->has_session = true;
    c->from_config = true;
    c->state = LW_NODE_ACTIVE;
    f.reg = lw_registry_new(&f.cfg, f.nodes, 2);
    assert_non_null(f.reg);
    lw_join_limiter_init(&f.lim, 2, 10);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    lw_registry_free(f->reg);
    return 0;
}

static size_t request(uint8_t *buf, const uint8_t *eui, const uint8_t *key, uint32_t nonce)
{
    struct lw_join_req req = {.net_id = NET, .hop_limit = 3, .join_nonce = nonce};
    memcpy(req.eui, eui, 8);
    int n = lw_join_request_build(&req, key, buf, LW_JOIN_REQ_LEN);
    assert_int_equal(n, LW_JOIN_REQ_LEN);
    return (size_t)n;
}

static void test_join_accepted_and_keys_agree_with_node(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[LW_JOIN_REQ_LEN];
    size_t len = request(buf, EUI, ROOT, 7);
    struct lw_join_outcome out;
    assert_int_equal(
        lw_pairing_handle(buf, len, NET, f->reg, &f->lim, 5000, 1, GW_NONCE, &out, &f->st), LW_OK);
    assert_int_equal(f->st.accepted, 1);
    assert_int_equal(out.conf.address, 0x0021);
    assert_int_equal(out.conf.join_nonce, 7);
    assert_int_equal(out.conf.state, LW_NODE_ACTIVE);
    assert_true(out.conf.has_session);
    assert_int_equal(out.accept_len, LW_JOIN_ACC_LEN);
    /* The node opens the accept and derives the same keys. */
    struct lw_join_acc acc;
    assert_int_equal(lw_join_accept_open(out.accept, out.accept_len, NET, ROOT, EUI, 7, &acc),
                     LW_OK);
    assert_int_equal(acc.address, 0x0021);
    assert_int_equal(acc.hop_limit, 3); /* the request's */
    struct lw_join_keys keys;
    assert_int_equal(lw_join_derive_keys(ROOT, EUI, &acc, &keys), LW_OK);
    assert_memory_equal(keys.up, out.conf.key, 16);
    assert_memory_equal(keys.down, out.conf.key_down, 16);
    /* The registry itself is untouched until the caller has stored the outcome. */
    assert_false(lw_registry_find(f->reg, 0x0021)->conf->has_session);
}

static void test_wrong_key_refused(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[LW_JOIN_REQ_LEN], other[16];
    memset(other, 0x5A, sizeof(other));
    size_t len = request(buf, EUI, other, 1);
    struct lw_join_outcome out;
    assert_int_equal(
        lw_pairing_handle(buf, len, NET, f->reg, &f->lim, 5000, 1, GW_NONCE, &out, &f->st),
        LW_ERR_MIC);
    assert_int_equal(f->st.refused, 1);
    assert_int_equal(out.accept_len, 0);
}

static void test_replayed_nonce_refused(void **state)
{
    struct fixture *f = *state;
    /* The node joined before with nonce 9: 9 and below are replays. */
    struct lw_node_conf c = *lw_registry_find(f->reg, 0x0021)->conf;
    c.join_nonce = 9;
    c.state = LW_NODE_ACTIVE; /* rejoin of an active node needs no window */
    c.pairing_until_ms = 0;
    assert_int_equal(lw_registry_update(f->reg, &c), LW_OK);
    uint8_t buf[LW_JOIN_REQ_LEN];
    struct lw_join_outcome out;
    for (uint32_t nonce = 1; nonce <= 9; nonce += 8) {
        size_t len = request(buf, EUI, ROOT, nonce);
        assert_int_equal(
            lw_pairing_handle(buf, len, NET, f->reg, &f->lim, 99999, 1, GW_NONCE, &out, &f->st),
            LW_ERR_REPLAY);
    }
    size_t len = request(buf, EUI, ROOT, 10);
    assert_int_equal(
        lw_pairing_handle(buf, len, NET, f->reg, &f->lim, 99999, 1, GW_NONCE, &out, &f->st), LW_OK);
    assert_int_equal(f->st.refused, 2);
}

static void test_window_closed_unknown_and_config_nodes(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[LW_JOIN_REQ_LEN];
    struct lw_join_outcome out;
    size_t len = request(buf, EUI, ROOT, 1);
    assert_int_equal(
        lw_pairing_handle(buf, len, NET, f->reg, &f->lim, 10001, 1, GW_NONCE, &out, &f->st),
        LW_ERR_STATE);
    assert_int_equal(f->st.window, 1);
    uint8_t stranger[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    len = request(buf, stranger, ROOT, 1);
    assert_int_equal(
        lw_pairing_handle(buf, len, NET, f->reg, &f->lim, 5000, 2, GW_NONCE, &out, &f->st),
        LW_ERR_UNKNOWN_NODE);
    /* A [node:] section has a fixed key and no root key: it never joins. */
    uint8_t eui_cfg[8];
    memset(eui_cfg, 0xEE, 8);
    len = request(buf, eui_cfg, ROOT, 1);
    assert_int_equal(
        lw_pairing_handle(buf, len, NET, f->reg, &f->lim, 5000, 3, GW_NONCE, &out, &f->st),
        LW_ERR_UNKNOWN_NODE);
    assert_int_equal(f->st.unknown, 2);
    /* Another network's request is malformed for us. */
    len = request(buf, EUI, ROOT, 1);
    assert_int_equal(
        lw_pairing_handle(buf, len, NET + 1, f->reg, &f->lim, 5000, 4, GW_NONCE, &out, &f->st),
        LW_ERR_NETWORK);
    buf[5] ^= 1; /* src no longer 0xFFFF */
    assert_int_not_equal(
        lw_pairing_handle(buf, len, NET, f->reg, &f->lim, 5000, 5, GW_NONCE, &out, &f->st), LW_OK);
    assert_int_equal(f->st.malformed, 2);
    assert_int_equal(f->st.accepted, 0);
}

static void test_flood_is_rate_limited(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[LW_JOIN_REQ_LEN], stranger[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    struct lw_join_outcome out;
    int limited = 0;
    /* 1000 requests within one second: the burst of 10 and ~2 refills are examined. */
    for (int i = 0; i < 1000; i++) {
        stranger[7] = (uint8_t)i;
        size_t len = request(buf, stranger, ROOT, (uint32_t)i + 1);
        if (lw_pairing_handle(buf, len, NET, f->reg, &f->lim, 5000, 1000 + i, GW_NONCE, &out,
                              &f->st) == LW_ERR_AGAIN)
            limited++;
    }
    assert_true(f->st.unknown <= 12);
    assert_int_equal(limited, 1000 - (int)f->st.unknown);
    /* Tokens come back with time. */
    size_t len = request(buf, EUI, ROOT, 1);
    assert_int_equal(
        lw_pairing_handle(buf, len, NET, f->reg, &f->lim, 5000, 10000, GW_NONCE, &out, &f->st),
        LW_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_join_accepted_and_keys_agree_with_node, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replayed_nonce_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_closed_unknown_and_config_nodes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_flood_is_rate_limited, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
