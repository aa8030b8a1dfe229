/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the mesh sink: diamond copies give one frame, hop limits, loops, forged copies
 * cannot block the genuine frame, paths and routes, and one report per silent relay. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lw_error.h"
#include "lw_frame.h"
#include "lw_mesh.h"
#include "lw_route.h"

static const uint8_t key[LW_KEY_LEN] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                        0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};

/* A DATA frame from src with fcnt, relayed by the n relays given (nearest the node first). */
static size_t frame(uint8_t *buf, uint16_t src, uint32_t fcnt, uint8_t hop_limit,
                    const uint16_t *relays, size_t n)
{
    struct lw_frame_hdr h = {.type = LW_FT_DATA,
                             .hop_limit = hop_limit,
                             .net_id = 0x4C57,
                             .src = src,
                             .dst = 0,
                             .fcnt = fcnt};
    const uint8_t plain[] = {0x01, 0x02, 0x10, 0x00};
    int len = lw_frame_seal(&h, key, plain, sizeof(plain), buf, LW_FRAME_MAX_LEN);
    assert_true(len > 0);
    for (size_t i = 0; i < n; i++) {
        len = lw_route_append(buf, (size_t)len, LW_FRAME_MAX_LEN, relays[i], (int8_t)(5 - i));
        assert_true(len > 0);
    }
    return (size_t)len;
}

static struct lw_mesh *mesh(uint8_t hop_limit_max)
{
    struct lw_mesh_config cfg;
    lw_mesh_config_defaults(&cfg);
    assert_int_equal(cfg.hop_limit_max, 3);
    cfg.hop_limit_max = hop_limit_max;
    cfg.relay_silence_ms = 300000;
    struct lw_mesh *m = lw_mesh_new(&cfg);
    assert_non_null(m);
    return m;
}

/* Admit, "authenticate" (open with the key as ingest would) and record. */
static int deliver(struct lw_mesh *m, uint8_t *buf, size_t len, int64_t t)
{
    struct lw_mesh_frame f;
    struct lw_mesh_rx rx = {.mono_ms = t, .rssi_x10 = -1000, .snr_x10 = 35};
    uint8_t plain[LW_FRAME_MAX_PAYLOAD];
    struct lw_frame_hdr h;
    int rc = lw_mesh_admit(m, buf, len, &f);
    if (rc != LW_OK)
        return rc;
    rc = lw_frame_open(buf, f.len, key, &h, plain, sizeof(plain));
    if (rc < 0)
        return rc;
    assert_int_equal(lw_mesh_accepted(m, &f, &rx), LW_OK);
    return LW_OK;
}

static void test_diamond_one_frame(void **state)
{
    struct lw_mesh *m = mesh(3);
    struct lw_mesh_stats st;
    struct lw_mesh_path p;
    uint8_t a[LW_FRAME_MAX_LEN], b[LW_FRAME_MAX_LEN], c[LW_FRAME_MAX_LEN];
    const uint16_t via1[] = {0x0201}, via2[] = {0x0202};
    (void)state;

    /* Two relays heard the same frame; the direct copy comes too. */
    size_t la = frame(a, 0x0101, 7, 3, via1, 1);
    size_t lb = frame(b, 0x0101, 7, 3, via2, 1);
    size_t lc = frame(c, 0x0101, 7, 3, NULL, 0);
    assert_int_equal(deliver(m, a, la, 1000), LW_OK);
    assert_int_equal(deliver(m, b, lb, 1010), LW_ERR_DUP);
    assert_int_equal(deliver(m, c, lc, 1020), LW_ERR_DUP);
    lw_mesh_stats(m, &st);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.duplicates, 2);
    assert_int_equal(st.relayed, 1);
    /* The path of the frame that got through. */
    assert_int_equal(lw_mesh_route(m, 0x0101, &p), LW_OK);
    assert_int_equal(p.hops, 1);
    assert_int_equal(p.hop[0].relay, 0x0201);
    assert_int_equal(p.hop[0].snr_db, 5);
    assert_int_equal(p.gw_snr_x10, 35);
    assert_int_equal(lw_mesh_relay_count(m), 1);
    /* The next frame is new. */
    lc = frame(c, 0x0101, 8, 3, NULL, 0);
    assert_int_equal(deliver(m, c, lc, 2000), LW_OK);
    assert_int_equal(lw_mesh_route(m, 0x0101, &p), LW_OK);
    assert_int_equal(p.hops, 0);
    lw_mesh_free(m);
}

static void test_forged_copy_does_not_block(void **state)
{
    struct lw_mesh *m = mesh(3);
    uint8_t bad[LW_FRAME_MAX_LEN], good[LW_FRAME_MAX_LEN];
    const uint16_t via[] = {0x0201};
    (void)state;

    size_t lb = frame(bad, 0x0101, 9, 3, via, 1);
    bad[14] ^= 0x40; /* ciphertext flipped: the MIC fails */
    assert_int_equal(deliver(m, bad, lb, 1000), LW_ERR_MIC);
    size_t lg = frame(good, 0x0101, 9, 3, NULL, 0);
    assert_int_equal(deliver(m, good, lg, 1001), LW_OK);
    /* A forged route never made the relay known. */
    assert_int_equal(lw_mesh_relay_count(m), 0);
    lw_mesh_free(m);
}

static void test_hop_limit_and_loops(void **state)
{
    struct lw_mesh *m = mesh(3);
    struct lw_mesh_stats st;
    uint8_t buf[LW_FRAME_MAX_LEN];
    const uint16_t three[] = {0x0201, 0x0202, 0x0203};
    (void)state;

    /* A 3-hop chain is fine with the default limit. */
    size_t len = frame(buf, 0x0101, 1, 3, three, 3);
    assert_int_equal(deliver(m, buf, len, 1000), LW_OK);
    /* The origin asked for 5 hops: more than the gateway allows, even with fewer taken. */
    len = frame(buf, 0x0101, 2, 5, three, 1);
    assert_int_equal(deliver(m, buf, len, 1000), LW_ERR_RANGE);
    /* A relay listed twice is a loop. */
    len = frame(buf, 0x0101, 3, 3, three, 1);
    len = (size_t)lw_route_append(buf, len, sizeof(buf), 0x0202, 0);
    buf[len - 3] = 0x01; /* rewrite the second entry to 0x0201 */
    buf[len - 2] = 0x02;
    assert_int_equal(deliver(m, buf, len, 1000), LW_ERR_DUP);
    /* Truncated trailer. */
    len = frame(buf, 0x0101, 4, 3, NULL, 0);
    buf[1] = (uint8_t)(buf[1] | 7u << 5 | 7u << 2);
    lw_mesh_stats(m, &st);
    assert_int_equal(st.hop_limit, 1);
    assert_int_equal(st.bad_route, 1);
    assert_int_equal(deliver(m, buf, LW_FRAME_OVERHEAD + 2, 1000), LW_ERR_TRUNCATED);
    lw_mesh_free(m);

    /* Hop limit 7 at most. */
    struct lw_mesh_config cfg = {.hop_limit_max = 8};
    assert_null(lw_mesh_new(&cfg));
}

static void test_tampered_hop_count_cannot_forge(void **state)
{
    struct lw_mesh *m = mesh(7);
    uint8_t buf[LW_FRAME_MAX_LEN];
    const uint16_t via[] = {0x0201};
    (void)state;

    size_t len = frame(buf, 0x0101, 5, 3, via, 1);
    /* An attacker lowers hop_count to 0 to hide the trailer: the trailer is read as MIC. */
    uint8_t t[LW_FRAME_MAX_LEN];
    memcpy(t, buf, len);
    t[1] &= 0x1F;
    assert_int_equal(deliver(m, t, len, 1000), LW_ERR_MIC);
    /* Raising hop_limit is caught by the MIC (it is authenticated). */
    memcpy(t, buf, len);
    t[1] = (uint8_t)((t[1] & ~0x1Cu) | 5u << 2);
    assert_int_equal(deliver(m, t, len, 1000), LW_ERR_MIC);
    /* The genuine frame still goes through afterwards. */
    assert_int_equal(deliver(m, buf, len, 1000), LW_OK);
    lw_mesh_free(m);
}

struct reports {
    size_t n;
    uint16_t relay[8];
    bool silent[8];
    size_t n_behind[8];
    uint16_t behind[8][8];
};

static void on_relay(void *user, uint16_t relay, bool silent, const uint16_t *behind, size_t nb,
                     int64_t last)
{
    struct reports *r = user;
    (void)last;
    assert_true(r->n < 8);
    r->relay[r->n] = relay;
    r->silent[r->n] = silent;
    r->n_behind[r->n] = nb;
    if (nb > 0)
        memcpy(r->behind[r->n], behind, (nb < 8 ? nb : 8) * sizeof(*behind));
    r->n++;
}

static void test_relay_silent_reported_once(void **state)
{
    struct lw_mesh *m = mesh(3);
    struct reports r = {0};
    uint8_t buf[LW_FRAME_MAX_LEN];
    const uint16_t via[] = {0x0201}, via2[] = {0x0202, 0x0201};
    uint16_t behind[4];
    (void)state;

    /* Three nodes behind relay 0x0201 (one through 0x0202 too), one heard directly. */
    size_t len = frame(buf, 0x0101, 1, 3, via, 1);
    assert_int_equal(deliver(m, buf, len, 0), LW_OK);
    len = frame(buf, 0x0102, 1, 3, via, 1);
    assert_int_equal(deliver(m, buf, len, 0), LW_OK);
    len = frame(buf, 0x0103, 1, 3, via2, 2);
    assert_int_equal(deliver(m, buf, len, 0), LW_OK);
    len = frame(buf, 0x0104, 1, 3, NULL, 0);
    assert_int_equal(deliver(m, buf, len, 0), LW_OK);
    assert_int_equal(lw_mesh_behind(m, 0x0201, behind, 4), 3);
    assert_int_equal(behind[0], 0x0101);
    assert_int_equal(behind[2], 0x0103);

    /* The nodes behind keep quiet (the relay failed); the direct node talks. */
    len = frame(buf, 0x0104, 2, 3, NULL, 0);
    assert_int_equal(deliver(m, buf, len, 200000), LW_OK);
    assert_int_equal(lw_mesh_check_relays(m, 299999, on_relay, &r), 0);
    assert_int_equal(lw_mesh_check_relays(m, 300000, on_relay, &r), 2); /* 0x0201 and 0x0202 */
    assert_int_equal(r.relay[0], 0x0201);
    assert_true(r.silent[0]);
    assert_int_equal(r.n_behind[0], 3);
    assert_int_equal(r.relay[1], 0x0202);
    assert_int_equal(r.n_behind[1], 1);
    /* Once only. */
    assert_int_equal(lw_mesh_check_relays(m, 900000, on_relay, &r), 0);
    /* Heard again: one "back" report. */
    len = frame(buf, 0x0101, 2, 3, via, 1);
    assert_int_equal(deliver(m, buf, len, 950000), LW_OK);
    assert_int_equal(lw_mesh_check_relays(m, 950001, on_relay, &r), 1);
    assert_int_equal(r.relay[2], 0x0201);
    assert_false(r.silent[2]);
    lw_mesh_free(m);
}

static void test_join_request_not_deduplicated(void **state)
{
    struct lw_mesh *m = mesh(3);
    struct lw_mesh_frame f;
    uint8_t buf[LW_FRAME_MAX_LEN] = {0x13, 0x0c, 0x57, 0x4c, 0xff, 0xff,
                                     0x00, 0x00, 0x01, 0x00, 0x00, 0x00};
    struct lw_mesh_rx rx = {0};
    (void)state;

    /* Two joining nodes with nonce 1 each: both reach the join procedure. */
    for (int i = 0; i < 2; i++) {
        buf[12] = (uint8_t)i;
        assert_int_equal(lw_mesh_admit(m, buf, 28, &f), LW_OK);
        assert_int_equal(f.len, 28);
        assert_int_equal(lw_mesh_accepted(m, &f, &rx), LW_OK);
    }
    lw_mesh_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diamond_one_frame),
        cmocka_unit_test(test_forged_copy_does_not_block),
        cmocka_unit_test(test_hop_limit_and_loops),
        cmocka_unit_test(test_tampered_hop_count_cannot_forge),
        cmocka_unit_test(test_relay_silent_reported_once),
        cmocka_unit_test(test_join_request_not_deduplicated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
