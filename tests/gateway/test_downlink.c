/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the downlink scheduler: priorities, listen-before-talk back-off, the region's
 * per-frame cap and duty cycle, stale frames, downlink counters reserved ahead (also through the
 * node table in SQLite), and the ACK frame format. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lw_downlink.h"
#include "lw_error.h"
#include "lw_frame.h"
#include "lw_nodedb.h"
#include "lw_store.h"

/* A radio stand-in: busy for the next n_busy questions, records what it sent. */
struct fake_radio {
    int n_busy;
    int questions;
    int sent;
    uint8_t first[8]; /* first byte of each frame sent, in order */
    int fail_tx;
    uint32_t rnd;
};

static int fake_busy(void *ctx)
{
    struct fake_radio *r = ctx;
    r->questions++;
    if (r->n_busy > 0) {
        r->n_busy--;
        return 1;
    }
    return 0;
}

static int fake_tx(void *ctx, const uint8_t *buf, size_t len)
{
    struct fake_radio *r = ctx;
    (void)len;
    if (r->fail_tx)
        return LW_ERR_IO;
    if (r->sent < 8)
        r->first[r->sent] = buf[12]; /* our test frames carry a marker there */
    r->sent++;
    return LW_OK;
}

static uint32_t fake_random(void *ctx)
{
    struct fake_radio *r = ctx;
    return r->rnd++;
}

static struct lw_downlink *make(struct fake_radio *r, struct lw_downlink_config *cfg)
{
    struct lw_downlink_config dc;
    if (!cfg) {
        lw_downlink_config_defaults(&dc);
        cfg = &dc;
    }
    struct lw_downlink_io io = {
        .ctx = r, .channel_busy = fake_busy, .transmit = fake_tx, .random = fake_random};
    struct lw_downlink *d = lw_downlink_new(cfg, &io);
    assert_non_null(d);
    return d;
}

static size_t marked(uint8_t *buf, uint8_t mark, size_t len)
{
    memset(buf, 0, len);
    buf[0] = 0x15;
    buf[12] = mark;
    return len;
}

static void urgent_goes_first(void **state)
{
    (void)state;
    struct fake_radio r = {.n_busy = 1};
    struct lw_downlink *d = make(&r, NULL);
    uint8_t f[40];
    assert_int_equal(lw_downlink_enqueue(d, LW_DL_ROUTINE, f, marked(f, 'c', 30), 0), LW_OK);
    assert_int_equal(lw_downlink_enqueue(d, LW_DL_ROUTINE, f, marked(f, 'd', 30), 0), LW_OK);
    assert_int_equal(lw_downlink_enqueue(d, LW_DL_URGENT, f, marked(f, 'a', 20), 0), LW_OK);
    /* The channel is busy at first: nothing goes out, a retry is scheduled after the back-off. */
    int64_t next = lw_downlink_run(d, 0);
    assert_int_equal(r.sent, 0);
    assert_true(next >= LW_DOWNLINK_LBT_BACKOFF_MIN_MS);
    /* Once free: the urgent frame, then the routine ones in order, each after the previous
     * transmission ended (the radio is one transmitter). */
    int64_t t = next;
    for (int i = 0; i < 10 && t >= 0; i++)
        t = lw_downlink_run(d, t);
    assert_int_equal(r.sent, 3);
    assert_memory_equal(r.first, "acd", 3);
    struct lw_downlink_stats st;
    lw_downlink_stats(d, &st);
    assert_int_equal(st.busy, 1);
    assert_int_equal(st.sent, 3);
    assert_int_equal(st.depth, 0);
    assert_true(st.airtime_us > 0);
    lw_downlink_free(d);
}

static void radio_one_at_a_time(void **state)
{
    (void)state;
    struct fake_radio r = {0};
    struct lw_downlink *d = make(&r, NULL);
    uint8_t f[40];
    lw_downlink_enqueue(d, LW_DL_URGENT, f, marked(f, 'a', 20), 1000);
    lw_downlink_enqueue(d, LW_DL_URGENT, f, marked(f, 'b', 20), 1000);
    int64_t next = lw_downlink_run(d, 1000);
    assert_int_equal(r.sent, 1);
    /* 20 bytes at SF9/125 kHz: 185.3 ms on air. */
    assert_int_equal(next, 1000 + 186);
    assert_int_equal(lw_downlink_run(d, 1100), 1186);
    assert_int_equal(r.sent, 1);
    assert_int_equal(lw_downlink_run(d, 1186), -1);
    assert_int_equal(r.sent, 2);
    lw_downlink_free(d);
}

static void busy_channel_gives_up(void **state)
{
    (void)state;
    struct fake_radio r = {.n_busy = 1000};
    struct lw_downlink *d = make(&r, NULL);
    uint8_t f[40];
    lw_downlink_enqueue(d, LW_DL_URGENT, f, marked(f, 'a', 20), 0);
    int64_t t = 0, prev = 0;
    int runs = 0;
    while (t >= 0 && runs < 100) {
        prev = t;
        t = lw_downlink_run(d, t);
        runs++;
        if (t >= 0) /* back-offs lie between min and max */
            assert_true(t - prev >= LW_DOWNLINK_LBT_BACKOFF_MIN_MS &&
                        t - prev <= LW_DOWNLINK_LBT_BACKOFF_MAX_MS);
    }
    assert_int_equal(r.sent, 0);
    assert_int_equal(r.questions, LW_DOWNLINK_LBT_ATTEMPTS);
    struct lw_downlink_stats st;
    lw_downlink_stats(d, &st);
    assert_int_equal(st.dropped_busy, 1);
    assert_int_equal(st.depth, 0);
    lw_downlink_free(d);
}

static void region_cap_refuses_long_frames(void **state)
{
    (void)state;
    struct fake_radio r = {0};
    struct lw_downlink_config dc;
    lw_downlink_config_defaults(&dc);
    dc.max_tx_ms = 1000; /* CN470 */
    dc.lora.sf = 12;
    struct lw_downlink *d = make(&r, &dc);
    uint8_t f[60];
    /* SF12: 20 bytes take 1318.9 ms, over the 1 s cap. */
    assert_int_equal(lw_downlink_enqueue(d, LW_DL_URGENT, f, marked(f, 'a', 20), 0), LW_ERR_RANGE);
    lw_downlink_free(d);
    dc.lora.sf = 11; /* 741.4 ms: allowed */
    d = make(&r, &dc);
    assert_int_equal(lw_downlink_enqueue(d, LW_DL_URGENT, f, marked(f, 'a', 20), 0), LW_OK);
    assert_int_equal(lw_downlink_enqueue(d, LW_DL_URGENT, f, marked(f, 'a', 50), 0), LW_ERR_RANGE);
    struct lw_downlink_stats st;
    lw_downlink_stats(d, &st);
    assert_int_equal(st.dropped_airtime, 1);
    assert_int_equal(lw_downlink_enqueue(d, LW_DL_URGENT, f, 256, 0), LW_ERR_TOOBIG);
    lw_downlink_free(d);
}

static void duty_cycle_defers(void **state)
{
    (void)state;
    struct fake_radio r = {0};
    struct lw_downlink_config dc;
    lw_downlink_config_defaults(&dc);
    dc.duty_permille = 10; /* EU868: 1 %, 36 s of air an hour */
    dc.lora.sf = 12;       /* 20 bytes: 1318.9 ms */
    dc.max_age_ms = 24 * 3600 * 1000u;
    dc.queue_cap = 64;
    struct lw_downlink *d = make(&r, &dc);
    uint8_t f[40];
    for (int i = 0; i < 30; i++)
        assert_int_equal(lw_downlink_enqueue(d, LW_DL_URGENT, f, marked(f, 'a', 20), 0), LW_OK);
    int64_t t = 0;
    while (t >= 0 && t < 60000)
        t = lw_downlink_run(d, t);
    /* 36 s of allowance / 1.319 s = 27 frames; the rest wait for the bucket to refill. */
    assert_int_equal(r.sent, 27);
    assert_true(t > 60000);
    /* The next one goes when 1318.9 ms of air have been earned back: ~132 s after the 27th. */
    int64_t at = t;
    assert_true(at < 27 * 1319 + 132000 + 1000);
    while (t >= 0 && r.sent < 30)
        t = lw_downlink_run(d, t);
    assert_int_equal(r.sent, 30);
    lw_downlink_free(d);
}

static void stale_and_full(void **state)
{
    (void)state;
    struct fake_radio r = {.n_busy = 1};
    struct lw_downlink_config dc;
    lw_downlink_config_defaults(&dc);
    dc.queue_cap = 2;
    dc.max_age_ms = 5000;
    struct lw_downlink *d = make(&r, &dc);
    uint8_t f[40];
    assert_int_equal(lw_downlink_enqueue(d, LW_DL_ROUTINE, f, marked(f, 'c', 20), 0), LW_OK);
    assert_int_equal(lw_downlink_enqueue(d, LW_DL_ROUTINE, f, marked(f, 'd', 20), 0), LW_OK);
    /* Full of routine frames: another routine one is refused, an urgent one pushes out the
     * newest routine frame. */
    assert_int_equal(lw_downlink_enqueue(d, LW_DL_ROUTINE, f, marked(f, 'e', 20), 0), LW_ERR_AGAIN);
    assert_int_equal(lw_downlink_enqueue(d, LW_DL_URGENT, f, marked(f, 'a', 20), 0), LW_OK);
    assert_int_equal(lw_downlink_enqueue(d, LW_DL_URGENT, f, marked(f, 'b', 20), 0), LW_OK);
    assert_int_equal(lw_downlink_enqueue(d, LW_DL_URGENT, f, marked(f, 'x', 20), 0), LW_ERR_AGAIN);
    struct lw_downlink_stats st;
    lw_downlink_stats(d, &st);
    assert_int_equal(st.dropped_full, 4);
    assert_int_equal(st.depth, 2);
    /* Busy once, then the radio is down for longer than max_age: both given up. */
    lw_downlink_run(d, 0);
    assert_int_equal(lw_downlink_run(d, 6000), -1);
    lw_downlink_stats(d, &st);
    assert_int_equal(st.dropped_stale, 2);
    assert_int_equal(r.sent, 0);
    lw_downlink_free(d);
}

static void transmit_error_counted(void **state)
{
    (void)state;
    struct fake_radio r = {.fail_tx = 1};
    struct lw_downlink *d = make(&r, NULL);
    uint8_t f[40];
    lw_downlink_enqueue(d, LW_DL_URGENT, f, marked(f, 'a', 20), 0);
    assert_int_equal(lw_downlink_run(d, 0), -1);
    struct lw_downlink_stats st;
    lw_downlink_stats(d, &st);
    assert_int_equal(st.tx_errors, 1);
    assert_int_equal(st.sent, 0);
    lw_downlink_free(d);
}

static const uint8_t key_b[LW_KEY_LEN] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                          0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};

static void counters_reserved_ahead(void **state)
{
    (void)state;
    struct fake_radio r = {0};
    struct lw_downlink *d = make(&r, NULL);
    uint32_t fcnt, upto;
    /* Nothing stored: counter 1, and a block is to be reserved first. */
    assert_int_equal(lw_downlink_fcnt_next(d, 0x0102, key_b, 0, &fcnt, &upto), LW_OK);
    assert_int_equal(fcnt, 1);
    assert_int_equal(upto, LW_DOWNLINK_FCNT_BLOCK);
    /* The first block is not reserved: the counter may not go out. */
    assert_false(lw_downlink_fcnt_unreserved(d, 0x0102, fcnt));
    assert_int_equal(lw_downlink_fcnt_next(d, 0x0102, key_b, 0, &fcnt, &upto), LW_OK);
    assert_int_equal(fcnt, 2);
    assert_int_equal(upto, LW_DOWNLINK_FCNT_BLOCK + 1);
    const uint32_t low = LW_DOWNLINK_FCNT_BLOCK + 1 - LW_DOWNLINK_FCNT_LOW;
    for (uint32_t i = 3; i <= low; i++) {
        assert_int_equal(lw_downlink_fcnt_next(d, 0x0102, key_b, 0, &fcnt, &upto), LW_OK);
        assert_int_equal(fcnt, i);
        assert_int_equal(upto, 0);
    }
    /* Half the block left: the next block is asked for ahead of need. */
    assert_int_equal(lw_downlink_fcnt_next(d, 0x0102, key_b, 0, &fcnt, &upto), LW_OK);
    assert_int_equal(fcnt, low + 1);
    assert_int_equal(upto, low + LW_DOWNLINK_FCNT_BLOCK);
    /* The reservation failed (the disk is full): the counter is still covered and goes out; every
     * later call asks again, until the old block is used up. */
    assert_true(lw_downlink_fcnt_unreserved(d, 0x0102, fcnt));
    uint32_t sent = 1;
    for (;;) {
        assert_int_equal(lw_downlink_fcnt_next(d, 0x0102, key_b, 0, &fcnt, &upto), LW_OK);
        assert_true(upto > fcnt);
        if (!lw_downlink_fcnt_unreserved(d, 0x0102, fcnt))
            break;
        sent++;
    }
    assert_int_equal(fcnt, LW_DOWNLINK_FCNT_BLOCK + 2);
    assert_int_equal(sent, LW_DOWNLINK_FCNT_LOW);
    /* After a restart (a new table) the stored bound is the floor. */
    struct lw_downlink *d2 = make(&r, NULL);
    assert_int_equal(
        lw_downlink_fcnt_next(d2, 0x0102, key_b, 2 * LW_DOWNLINK_FCNT_BLOCK + 1, &fcnt, &upto),
        LW_OK);
    assert_int_equal(fcnt, 2 * LW_DOWNLINK_FCNT_BLOCK + 2);
    assert_true(upto > fcnt);
    /* A new session key starts again above whatever is stored for it. */
    uint8_t k2[LW_KEY_LEN] = {1};
    assert_int_equal(lw_downlink_fcnt_next(d2, 0x0102, k2, 0, &fcnt, &upto), LW_OK);
    assert_int_equal(fcnt, 1);
    /* Exhausted: the node must rejoin. */
    assert_int_equal(lw_downlink_fcnt_next(d2, 0x0200, key_b, UINT32_MAX - 1, &fcnt, &upto), LW_OK);
    assert_int_equal(fcnt, UINT32_MAX);
    assert_int_equal(upto, UINT32_MAX);
    assert_int_equal(lw_downlink_fcnt_next(d2, 0x0200, key_b, UINT32_MAX, &fcnt, &upto),
                     LW_ERR_RANGE);
    assert_int_equal(lw_downlink_fcnt_next(d2, 0x0300, key_b, UINT32_MAX, &fcnt, &upto),
                     LW_ERR_RANGE);
    lw_downlink_free(d2);
    lw_downlink_free(d);
}

/* Counters reserved with uplinks, before any ACK needs one: the first ACKs need no commit. */
static void counters_reserved_before_the_first_ack(void **state)
{
    (void)state;
    struct fake_radio r = {0};
    struct lw_downlink *d = make(&r, NULL);
    uint32_t fcnt, upto;
    assert_int_equal(lw_downlink_fcnt_ahead(d, 0x0102, key_b, 0, &upto), LW_OK);
    assert_int_equal(upto, LW_DOWNLINK_FCNT_BLOCK);
    /* Stored: the next uplink asks for nothing, and the ACKs that follow need no reservation. */
    assert_int_equal(lw_downlink_fcnt_ahead(d, 0x0102, key_b, 0, &upto), LW_OK);
    assert_int_equal(upto, 0);
    for (uint32_t i = 1; i <= LW_DOWNLINK_FCNT_BLOCK - LW_DOWNLINK_FCNT_LOW; i++) {
        assert_int_equal(lw_downlink_fcnt_next(d, 0x0102, key_b, 0, &fcnt, &upto), LW_OK);
        assert_int_equal(fcnt, i);
        assert_int_equal(upto, 0);
    }
    /* Not stored (the disk is full): asked for again next time, the old bound still holds. */
    assert_int_equal(lw_downlink_fcnt_ahead(d, 0x0300, key_b, 0, &upto), LW_OK);
    assert_true(upto > 0);
    assert_false(lw_downlink_fcnt_unreserved(d, 0x0300, 0));
    assert_int_equal(lw_downlink_fcnt_ahead(d, 0x0300, key_b, 0, &upto), LW_OK);
    assert_true(upto > 0);
    lw_downlink_free(d);
}

static void ack_frame_format(void **state)
{
    (void)state;
    uint8_t out[LW_FRAME_MAX_LEN];
    /* PROTOCOL.md test vector V4: an empty ACK, fcnt 7, hop_limit 2, key B, to 0x0A17. */
    static const uint8_t v4[] = {0x15, 0x08, 0x57, 0x4c, 0x00, 0x00, 0x17, 0x0a, 0x07, 0x00,
                                 0x00, 0x00, 0xee, 0xda, 0x8e, 0x98, 0x1d, 0xf0, 0xf8, 0x9c};
    int len = lw_downlink_seal(0x4C57, 0x0A17, LW_FT_ACK, 2, 7, key_b, NULL, 0, out, sizeof(out));
    assert_int_equal(len, sizeof(v4));
    assert_memory_equal(out, v4, sizeof(v4));
    /* With the alarm's counter: opens under the key, payload little-endian. */
    uint8_t p[LW_ACK_PAYLOAD_LEN], plain[16];
    lw_downlink_ack_payload(0x00010203, p);
    len = lw_downlink_seal(0x4C57, 0x0A17, LW_FT_ACK, 0, 8, key_b, p, sizeof(p), out, sizeof(out));
    assert_int_equal(len, 24);
    struct lw_frame_hdr h;
    assert_int_equal(lw_frame_open(out, (size_t)len, key_b, &h, plain, sizeof(plain)), 4);
    assert_memory_equal(plain, "\x03\x02\x01\x00", 4);
    assert_int_equal(h.src, 0);
    assert_int_equal(h.dst, 0x0A17);
    assert_false(h.ack_req);
    /* Only ACK and CMD, only to a node address. */
    assert_int_equal(lw_downlink_seal(0x4C57, 0x0A17, LW_FT_DATA, 0, 1, key_b, NULL, 0, out, 64),
                     LW_ERR_INVAL);
    assert_int_equal(lw_downlink_seal(0x4C57, 0xFFFF, LW_FT_ACK, 0, 1, key_b, NULL, 0, out, 64),
                     LW_ERR_INVAL);
    assert_int_equal(lw_downlink_seal(0x4C57, 0x0A17, LW_FT_ACK, 8, 1, key_b, NULL, 0, out, 64),
                     LW_ERR_INVAL);
}

/* The node table keeps the bound: raised, never lowered under the same key, reset by a new one. */
static void nodedb_keeps_bound(void **state)
{
    (void)state;
    char dir[] = "/tmp/lw-test-downlink-XXXXXX", path[128], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/t.db", dir);
    struct lw_store *s = lw_store_open(path, 16, err, sizeof(err));
    assert_non_null(s);
    struct lw_nodedb *db = lw_nodedb_new(s);
    assert_non_null(db);
    struct lw_node_conf n;
    memset(&n, 0, sizeof(n));
    snprintf(n.name, sizeof(n.name), "w1");
    n.address = 0x0102;
    n.state = LW_NODE_ACTIVE;
    n.from_config = true;
    n.has_session = true;
    memcpy(n.key, key_b, LW_KEY_LEN);
    memcpy(n.key_down, key_b, LW_KEY_LEN);
    assert_int_equal(lw_nodedb_put(db, &n), LW_OK);
    assert_int_equal(lw_nodedb_reserve_fcnt_down(db, 0x0102, 64), LW_OK);
    assert_int_equal(lw_nodedb_reserve_fcnt_down(db, 0x0102, 10), LW_OK); /* never lowers */
    assert_int_equal(lw_nodedb_reserve_fcnt_down(db, 0x0999, 10), LW_ERR_NOTFOUND);
    assert_int_equal(lw_store_commit(s), LW_OK);
    /* The configuration file is read again (fcnt_down 0 there): the bound stays. */
    assert_int_equal(lw_nodedb_put(db, &n), LW_OK);
    assert_int_equal(lw_store_commit(s), LW_OK);
    lw_nodedb_free(db);
    lw_store_close(s);

    s = lw_store_open(path, 16, err, sizeof(err));
    assert_non_null(s);
    db = lw_nodedb_new(s);
    struct lw_node_conf *rows;
    size_t cnt;
    assert_int_equal(lw_nodedb_load(db, false, &rows, NULL, &cnt), LW_OK);
    assert_int_equal(cnt, 1);
    assert_int_equal(rows[0].fcnt_down, 64);
    free(rows);
    /* A new session (new downlink key) starts from the value given. */
    n.key_down[0] ^= 1;
    n.fcnt_down = 0;
    assert_int_equal(lw_nodedb_put(db, &n), LW_OK);
    assert_int_equal(lw_store_commit(s), LW_OK);
    assert_int_equal(lw_nodedb_load(db, false, &rows, NULL, &cnt), LW_OK);
    assert_int_equal(rows[0].fcnt_down, 0);
    free(rows);
    lw_nodedb_free(db);
    lw_store_close(s);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(urgent_goes_first),
        cmocka_unit_test(radio_one_at_a_time),
        cmocka_unit_test(busy_channel_gives_up),
        cmocka_unit_test(region_cap_refuses_long_frames),
        cmocka_unit_test(duty_cycle_defers),
        cmocka_unit_test(stale_and_full),
        cmocka_unit_test(transmit_error_counted),
        cmocka_unit_test(counters_reserved_ahead),
        cmocka_unit_test(counters_reserved_before_the_first_ack),
        cmocka_unit_test(ack_frame_format),
        cmocka_unit_test(nodedb_keeps_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
