/* SPDX-License-Identifier: Apache-2.0 */
/* Simulator downlinks and join mode against a stand-in gateway on loopback UDP: a thread that
 * answers JOIN_REQs with lw_join (or stays silent) and opens the data frames that follow. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lw_error.h"
#include "lw_frame.h"
#include "lw_join.h"
#include "lw_simwire.h"
#include "sim_run.h"
#include "sim_scenario.h"
#include "sim_state.h"

#define NET_ID 0x4C57

static const uint8_t root_key[LW_KEY_LEN] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                             0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t node_eui[8] = {0x70, 0xB3, 0xD5, 0x7E, 0xD0, 0x00, 0x02, 0x01};

struct fake_gw {
    int fd;
    uint16_t port;
    pthread_t thread;
    volatile int stop;
    uint32_t answer_from; /* answer the JOIN_REQ with this attempt number and later; 0 = never */
    uint32_t last_nonce;  /* the gateway's L */
    /* what it saw */
    uint32_t join_reqs, join_nonces[16], answered;
    uint32_t data_frames, bad_data, fcnts[64];
    uint16_t src[64];
    struct lw_join_keys keys;
    bool have_keys;
};

static void gw_answer(struct fake_gw *g, const uint8_t *frame, size_t len,
                      const struct sockaddr_storage *from, socklen_t fromlen)
{
    struct lw_join_req req;
    struct lw_join_acc acc = {.net_id = NET_ID, .hop_limit = 3, .address = 0x0123};
    uint8_t out[LW_JOIN_ACC_LEN], dg[LW_SIMWIRE_MAX_LEN];

    if (lw_join_request_peek(frame, len, &req) != LW_OK)
        return;
    if (g->join_reqs < 16)
        g->join_nonces[g->join_reqs] = req.join_nonce;
    g->join_reqs++;
    if (g->answer_from == 0 || g->join_reqs < g->answer_from)
        return;
    if (lw_join_request_parse_verify(frame, len, NET_ID, root_key, g->last_nonce, &req) != LW_OK)
        return;
    g->last_nonce = req.join_nonce;
    acc.join_nonce = req.join_nonce;
    for (int i = 0; i < LW_JOIN_GW_NONCE_LEN; i++)
        acc.gw_nonce[i] = (uint8_t)(0xA0 + i + g->answered);
    if (lw_join_accept_build(&acc, root_key, node_eui, out, sizeof(out)) != LW_JOIN_ACC_LEN)
        return;
    if (lw_join_derive_keys(root_key, node_eui, &acc, &g->keys) != LW_OK)
        return;
    g->have_keys = true;
    struct lw_simwire w = {.kind = LW_SIMWIRE_AIR, .payload = out, .len = sizeof(out)};
    int n = lw_simwire_encode(&w, dg, sizeof(dg));
    if (n > 0 && sendto(g->fd, dg, (size_t)n, 0, (const struct sockaddr *)from, fromlen) == n)
        g->answered++;
}

static void gw_data(struct fake_gw *g, const uint8_t *frame, size_t len)
{
    struct lw_frame_hdr hdr;
    uint8_t plain[LW_FRAME_MAX_PAYLOAD];

    if (!g->have_keys || lw_frame_open(frame, len, g->keys.up, &hdr, plain, sizeof(plain)) < 0) {
        g->bad_data++;
        return;
    }
    if (g->data_frames < 64) {
        g->fcnts[g->data_frames] = hdr.fcnt;
        g->src[g->data_frames] = hdr.src;
    }
    g->data_frames++;
}

static void *gw_main(void *arg)
{
    struct fake_gw *g = arg;
    uint8_t buf[LW_SIMWIRE_MAX_LEN];

    while (!g->stop) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof(from);
        ssize_t n = recvfrom(g->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
        struct lw_simwire w;
        if (n <= 0 || lw_simwire_decode(buf, (size_t)n, &w) != LW_OK || w.kind != LW_SIMWIRE_AIR)
            continue;
        if ((w.payload[0] & 0x0F) == LW_FT_JOIN_REQ)
            gw_answer(g, w.payload, w.len, &from, fromlen);
        else
            gw_data(g, w.payload, w.len);
    }
    return NULL;
}

static void gw_start(struct fake_gw *g, uint32_t answer_from, uint32_t last_nonce)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 50000};

    memset(g, 0, sizeof(*g));
    g->answer_from = answer_from;
    g->last_nonce = last_nonce;
    g->fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(g->fd >= 0);
    assert_int_equal(bind(g->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(g->fd, (struct sockaddr *)&a, &alen), 0);
    g->port = ntohs(a.sin_port);
    setsockopt(g->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(pthread_create(&g->thread, NULL, gw_main, g), 0);
}

static void gw_stop(struct fake_gw *g)
{
    usleep(100000); /* let the last datagrams in */
    g->stop = 1;
    pthread_join(g->thread, NULL);
    close(g->fd);
}

/* A scenario of one water node in join mode (or personalised with join false), 5 virtual
 * minutes, a report every minute from 0. */
static void make_scenario(struct sim_scenario *sc, uint16_t port, bool join, const char *extra)
{
    char text[2048];

    snprintf(text, sizeof(text),
             "[scenario]\nname = join-test\nstart = 2026-07-15T02:00:00+08:00\n"
             "duration = 5m\nnetwork_id = 0x4C57\ngateway = 127.0.0.1:%u\ntick = 0\n"
             "[node:new-node]\neui = 70B3D57ED0000201\nkind = water\nlabel = test node\n"
             "water_mm = 40\ninterval = 60s\n%s%s",
             (unsigned)port,
             join ? "join = yes\nroot_key = 101112131415161718191A1B1C1D1E1F\n"
                  : "address = 0x0201\nkey = 8F1C2A9B3E4D5F60718293A4B5C6D7E8\n",
             extra);
    sim_scenario_init(sc);
    assert_int_equal(sim_scenario_parse(sc, text, strlen(text), "test.ini", NULL, NULL), 0);
}

static int run(struct sim_scenario *sc, struct sim_state *state, struct sim_stats *st, char *err,
               size_t errlen)
{
    struct sim_run_opts ro = {.sc = sc, .acceleration = 0, .state = state, .reply_wait_ms = 300};
    return sim_run(&ro, st, err, errlen);
}

static char state_path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(state_path, sizeof(state_path), "/tmp/lw-test-sim-join.%ld.state", (long)getpid());
    unlink(state_path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(state_path);
    return 0;
}

static void test_join_after_retry_then_reports(void **unused)
{
    struct fake_gw g;
    struct sim_scenario sc;
    struct sim_state state;
    struct sim_stats st;
    char err[512] = "";
    (void)unused;

    gw_start(&g, 2, 0); /* the first request goes unanswered */
    make_scenario(&sc, g.port, true, "");
    assert_int_equal(sim_state_init(&state, state_path), LW_OK);
    assert_int_equal(sim_state_load(&state, err, sizeof(err)), LW_OK);
    int rc = run(&sc, &state, &st, err, sizeof(err));
    gw_stop(&g);
    assert_int_equal(rc, LW_OK);

    /* Nonces 1 then 2 (a retry uses a new nonce); the second was answered. */
    assert_int_equal(g.join_reqs, 2);
    assert_int_equal(g.join_nonces[0], 1);
    assert_int_equal(g.join_nonces[1], 2);
    assert_int_equal(g.answered, 1);
    assert_int_equal(st.nodes[0].join_requests, 2);
    assert_true(st.nodes[0].joined_ms >= 7500 && st.nodes[0].joined_ms <= 12500);
    assert_int_equal(st.nodes[0].address, 0x0123);
    assert_int_equal(st.nodes[0].downlinks, 1);
    /* The report due at 0 came before the join; those at 1..4 min went out under K_up. */
    assert_int_equal(st.nodes[0].skipped, 1);
    assert_int_equal(st.frames, 4);
    assert_int_equal(g.data_frames, 4);
    assert_int_equal(g.bad_data, 0);
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(g.fcnts[i], i + 1); /* counters restart with the session */
        assert_int_equal(g.src[i], 0x0123);
    }
    assert_true(st.reply_waits >= 1);
    assert_int_equal(state.nodes[0].join_nonce, 2);
    sim_stats_free(&st);
    sim_state_free(&state);
    sim_scenario_free(&sc);

    /* A restarted simulator goes on after the stored nonce. */
    gw_start(&g, 1, 2);
    make_scenario(&sc, g.port, true, "");
    assert_int_equal(sim_state_init(&state, state_path), LW_OK);
    assert_int_equal(sim_state_load(&state, err, sizeof(err)), LW_OK);
    rc = run(&sc, &state, &st, err, sizeof(err));
    gw_stop(&g);
    assert_int_equal(rc, LW_OK);
    assert_int_equal(g.join_reqs, 1);
    assert_int_equal(g.join_nonces[0], 3);
    assert_int_equal(g.answered, 1);
    /* The answer comes from another process: the report due with the request at 0 goes first. */
    assert_int_equal(st.nodes[0].joined_ms, 0);
    assert_int_equal(st.nodes[0].skipped, 1);
    assert_int_equal(g.data_frames, 4);
    sim_stats_free(&st);
    sim_state_free(&state);
    sim_scenario_free(&sc);
}

static void test_join_gives_up(void **unused)
{
    struct fake_gw g;
    struct sim_scenario sc;
    struct sim_state state;
    struct sim_stats st;
    char err[512] = "";
    (void)unused;

    gw_start(&g, 0, 0); /* never answers: not paired */
    make_scenario(&sc, g.port, true, "join_attempts = 3\n");
    assert_int_equal(sim_state_init(&state, NULL), LW_OK);
    int rc = run(&sc, &state, &st, err, sizeof(err));
    gw_stop(&g);
    assert_int_equal(rc, LW_ERR_STATE);
    assert_non_null(strstr(err, "no JOIN_ACC after 3 join requests"));
    assert_int_equal(g.join_reqs, 3);
    assert_int_equal(st.nodes[0].joined_ms, -1);
    assert_int_equal(st.frames, 0);
    sim_stats_free(&st);
    sim_state_free(&state);
    sim_scenario_free(&sc);
}

static void test_personalised_counter_bound(void **unused)
{
    struct fake_gw g;
    struct sim_scenario sc;
    struct sim_state state;
    struct sim_stats st;
    char err[512] = "";
    (void)unused;

    for (int round = 0; round < 2; round++) {
        gw_start(&g, 0, 0);
        make_scenario(&sc, g.port, false, "");
        assert_int_equal(sim_state_init(&state, state_path), LW_OK);
        assert_int_equal(sim_state_load(&state, err, sizeof(err)), LW_OK);
        assert_int_equal(run(&sc, &state, &st, err, sizeof(err)), LW_OK);
        gw_stop(&g);
        /* First run: counters 1..5, bound 257 written ahead. Second: skips to 257. */
        assert_int_equal(st.nodes[0].first_fcnt, round == 0 ? 1 : 257);
        assert_int_equal(st.nodes[0].last_fcnt, round == 0 ? 5 : 261);
        assert_int_equal(state.nodes[0].fcnt_bound, round == 0 ? 257 : 513);
        sim_stats_free(&st);
        sim_state_free(&state);
        sim_scenario_free(&sc);
    }
}

static void test_state_file_parse(void **unused)
{
    struct sim_state st;
    char err[256];
    static const char good[] = "; comment\n[node:a-1]\neui = 70B3D57ED0000201\njoin_nonce = 7\n"
                               "fcnt_bound = 512\n[node:b]\njoin_nonce = 0\n";
    static const char *const bad[] = {
        "[nodes:a]\njoin_nonce = 1\n",
        "[node:a]\njoin_nonce = -1\n",
        "[node:a]\njoin_nonce = 4294967296\n",
        "[node:a]\nfoo = 1\n",
        "[node:a]\neui = 12\n",
        "[node:a]\n[node:a]\n",
        "join_nonce = 1\n",
        "[node:a b]\n",
        "[node:a]\njoin_nonce\n",
    };
    (void)unused;

    assert_int_equal(sim_state_init(&st, NULL), LW_OK);
    assert_int_equal(sim_state_parse(&st, good, strlen(good), err, sizeof(err)), LW_OK);
    assert_int_equal(st.n, 2);
    assert_string_equal(st.nodes[0].name, "a-1");
    assert_int_equal(st.nodes[0].join_nonce, 7);
    assert_int_equal(st.nodes[0].fcnt_bound, 512);
    assert_true(st.nodes[0].have_eui);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sim_state_parse(&st, bad[i], strlen(bad[i]), err, sizeof(err)),
                         LW_ERR_CONFIG);
        assert_non_null(strstr(err, "line "));
        assert_int_equal(st.n, 2); /* unchanged */
    }
    /* Another EUI under the same name is another node: its counters start afresh. */
    bool replaced;
    uint8_t other[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct sim_state_node *e = sim_state_node(&st, "a-1", other, &replaced);
    assert_true(replaced);
    assert_int_equal(e->join_nonce, 0);
    e = sim_state_node(&st, "c", other, &replaced);
    assert_false(replaced);
    assert_int_equal(st.n, 3);
    sim_state_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_join_after_retry_then_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_join_gives_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_personalised_counter_bound, setup, teardown),
        cmocka_unit_test(test_state_file_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
