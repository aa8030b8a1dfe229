/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the v1.1 compact frames (CHECKIN, CHECKIN_ACK, BEACON) and of the presence TLV:
 * the PROTOCOL.md 15 vectors byte for byte, round trips, every refusal, the shared-slot rule,
 * and a v1 reading decoder skipping the presence TLV. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "lw_checkin.h"
#include "lw_error.h"
#include "lw_frame.h"
#include "lw_presence.h"
#include "lw_reading.h"

/* PROTOCOL.md 15.7, vectors 1-4. */
static const uint8_t v_checkin[8] = {0x17, 0x57, 0x4C, 0x17, 0x0A, 0x00, 0x02, 0x0E};
static const uint8_t v_ack[8] = {0x18, 0x57, 0x4C, 0x00, 0x02, 0x17, 0x0A, 0x00};
static const uint8_t v_beacon[8] = {0x19, 0x57, 0x4C, 0x0C, 0x21, 0x05, 0x00, 0x0A};
static const uint8_t v_presence[8] = {0x80, 0x06, 0x0B, 0x02, 0x17, 0x0A, 0x31, 0x0A};

static void checkin_vectors(void **state)
{
    (void)state;
    uint8_t buf[8];
    struct lw_checkin c = {
        .type = LW_FT_CHECKIN, .net_id = 0x4C57, .from = 0x0A17, .to = 0x0200, .period_10s = 14};
    assert_int_equal(lw_checkin_encode(&c, buf, sizeof(buf)), LW_CHECKIN_LEN);
    assert_memory_equal(buf, v_checkin, 8);
    struct lw_checkin a = {
        .type = LW_FT_CHECKIN_ACK, .net_id = 0x4C57, .from = 0x0200, .to = 0x0A17};
    assert_int_equal(lw_checkin_encode(&a, buf, sizeof(buf)), LW_CHECKIN_LEN);
    assert_memory_equal(buf, v_ack, 8);
    struct lw_checkin d;
    assert_true(lw_checkin_is(v_checkin, 8) && lw_checkin_is(v_ack, 8) &&
                lw_checkin_is(v_beacon, 8));
    assert_int_equal(lw_checkin_decode(v_checkin, 8, &d), LW_OK);
    assert_true(d.type == c.type && d.net_id == c.net_id && d.from == c.from && d.to == c.to &&
                d.period_10s == c.period_10s);
    assert_int_equal(lw_checkin_decode(v_ack, 8, &d), LW_OK);
    assert_int_equal(d.from, 0x0200);
    assert_int_equal(d.to, 0x0A17);
}

static void checkin_refusals(void **state)
{
    (void)state;
    uint8_t buf[8], bad[9];
    struct lw_checkin d,
        c = {.type = LW_FT_CHECKIN, .net_id = 1, .from = 2, .to = 3, .period_10s = 1};
    assert_int_equal(lw_checkin_encode(&c, buf, 7), LW_ERR_TOOBIG);
    c.period_10s = 0;
    assert_int_equal(lw_checkin_encode(&c, buf, 8), LW_ERR_INVAL);
    c.period_10s = 1;
    c.to = 0;
    assert_int_equal(lw_checkin_encode(&c, buf, 8), LW_ERR_INVAL);
    c.to = 0xFFFF;
    assert_int_equal(lw_checkin_encode(&c, buf, 8), LW_ERR_INVAL);
    c.to = 3;
    c.type = LW_FT_DATA;
    assert_int_equal(lw_checkin_encode(&c, buf, 8), LW_ERR_INVAL);
    assert_int_equal(lw_checkin_encode(NULL, buf, 8), LW_ERR_INVAL);
    assert_int_equal(lw_checkin_decode(v_checkin, 7, &d), LW_ERR_TRUNCATED);
    memcpy(bad, v_checkin, 8);
    bad[8] = 0;
    assert_int_equal(lw_checkin_decode(bad, 9, &d), LW_ERR_TOOBIG);
    assert_false(lw_checkin_is(bad, 9));
    bad[0] = 0x27; /* version 2 */
    assert_int_equal(lw_checkin_decode(bad, 8, &d), LW_ERR_VERSION);
    bad[0] = 0x11; /* a DATA type */
    assert_int_equal(lw_checkin_decode(bad, 8, &d), LW_ERR_TYPE);
    assert_false(lw_checkin_is(bad, 8));
    assert_int_equal(lw_checkin_decode(v_beacon, 8, &d), LW_ERR_TYPE); /* its own decoder */
    memcpy(bad, v_checkin, 8);
    bad[7] = 0; /* period 0 */
    assert_int_equal(lw_checkin_decode(bad, 8, &d), LW_ERR_INVAL);
    memcpy(bad, v_ack, 8);
    bad[7] = 1; /* reserved flags */
    assert_int_equal(lw_checkin_decode(bad, 8, &d), LW_ERR_INVAL);
    memcpy(bad, v_ack, 8);
    bad[3] = bad[4] = 0; /* from the gateway's address */
    assert_int_equal(lw_checkin_decode(bad, 8, &d), LW_ERR_INVAL);
}

static void beacon_vectors_and_shares(void **state)
{
    (void)state;
    uint8_t buf[8];
    struct lw_beacon b = {
        .net_id = 0x4C57, .slots = 12, .slot_10ms = 33, .received = 0x0005, .owned = 10};
    assert_int_equal(lw_beacon_encode(&b, buf, sizeof(buf)), LW_CHECKIN_LEN);
    assert_memory_equal(buf, v_beacon, 8);
    struct lw_beacon d;
    assert_int_equal(lw_beacon_decode(v_beacon, 8, &d), LW_OK);
    assert_true(d.net_id == b.net_id && d.slots == b.slots && d.slot_10ms == b.slot_10ms &&
                d.received == b.received && d.owned == b.owned);
    /* Slots 1 and 3 were busy: the two shared slots go to them in turn. */
    assert_int_equal(lw_beacon_extra_owner(&b, 11), 1);
    assert_int_equal(lw_beacon_extra_owner(&b, 12), 3);
    assert_int_equal(lw_beacon_extra_owner(&b, 10), 0); /* an owned slot */
    assert_int_equal(lw_beacon_extra_owner(&b, 13), 0); /* beyond the cycle */
    b.received = 0;
    assert_int_equal(lw_beacon_extra_owner(&b, 11), 0); /* nobody busy: unused */
    /* Refusals. */
    b.slots = 0;
    assert_int_equal(lw_beacon_encode(&b, buf, 8), LW_ERR_INVAL);
    b.slots = 17;
    assert_int_equal(lw_beacon_encode(&b, buf, 8), LW_ERR_INVAL);
    b.slots = 4;
    b.owned = 5;
    assert_int_equal(lw_beacon_encode(&b, buf, 8), LW_ERR_INVAL);
    b.owned = 4;
    b.received = 0x10; /* slot 5 of a 4-slot cycle */
    assert_int_equal(lw_beacon_encode(&b, buf, 8), LW_ERR_INVAL);
    b.received = 0;
    b.slot_10ms = 0;
    assert_int_equal(lw_beacon_encode(&b, buf, 8), LW_ERR_INVAL);
    uint8_t bad[8];
    memcpy(bad, v_beacon, 8);
    bad[7] = 0; /* owned 0 */
    assert_int_equal(lw_beacon_decode(bad, 8, &d), LW_ERR_INVAL);
    assert_int_equal(lw_beacon_decode(v_checkin, 8, &d), LW_ERR_TYPE);
    assert_int_equal(lw_beacon_decode(v_beacon, 6, &d), LW_ERR_TRUNCATED);
}

static void presence_vector_and_v1_decoder(void **state)
{
    (void)state;
    struct lw_presence p = {.children = 11, .n_absent = 2, .absent = {0x0A17, 0x0A31}};
    uint8_t payload[64];
    struct lw_reading r = {.present = LW_R_BATTERY, .battery_mv = 13200};
    int rl = lw_reading_encode(&r, payload, sizeof(payload));
    assert_true(rl > 0);
    int pl = lw_presence_encode(&p, payload + rl, sizeof(payload) - (size_t)rl);
    assert_int_equal(pl, 8);
    assert_memory_equal(payload + rl, v_presence, 8);
    struct lw_presence d;
    assert_int_equal(lw_presence_find(payload, (size_t)(rl + pl), &d), LW_OK);
    assert_true(d.children == 11 && d.n_absent == 2 && d.absent[0] == 0x0A17 &&
                d.absent[1] == 0x0A31);
    /* A v1 decoder skips the optional TLV and keeps the reading. */
    struct lw_reading back;
    assert_int_equal(lw_reading_decode(payload, (size_t)(rl + pl), &back), LW_OK);
    assert_int_equal(back.battery_mv, 13200);
    /* Without one. */
    assert_int_equal(lw_presence_find(payload, (size_t)rl, &d), LW_ERR_NOTFOUND);
    assert_int_equal(lw_presence_find(NULL, 0, &d), LW_ERR_NOTFOUND);
    /* Refusals. */
    uint8_t bad[16];
    memcpy(bad, v_presence, 8);
    assert_int_equal(lw_presence_find(bad, 7, &d), LW_ERR_TRUNCATED);
    bad[3] = 3; /* k does not match the length */
    assert_int_equal(lw_presence_find(bad, 8, &d), LW_ERR_INVAL);
    memcpy(bad, v_presence, 8);
    bad[2] = 1; /* more absent than children */
    assert_int_equal(lw_presence_find(bad, 8, &d), LW_ERR_RANGE);
    memcpy(bad, v_presence, 8);
    bad[4] = bad[5] = 0xFF; /* the broadcast address */
    assert_int_equal(lw_presence_find(bad, 8, &d), LW_ERR_RANGE);
    assert_int_equal(d.n_absent, 0);
    p.n_absent = 12;
    assert_int_equal(lw_presence_encode(&p, bad, sizeof(bad)), LW_ERR_RANGE);
    p.n_absent = 2;
    assert_int_equal(lw_presence_encode(&p, bad, 7), LW_ERR_TOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(checkin_vectors),
        cmocka_unit_test(checkin_refusals),
        cmocka_unit_test(beacon_vectors_and_shares),
        cmocka_unit_test(presence_vector_and_v1_decoder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
