/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_replay: in-order, reordered, duplicate, stale and far-jumping counters. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lw_error.h"
#include "lw_replay.h"

/* The gateway's sequence: check, then accept only what passed. */
static int offer(struct lw_replay *r, uint32_t fcnt)
{
    int rc = lw_replay_check(r, fcnt);

    if (rc == LW_OK)
        lw_replay_accept(r, fcnt);
    return rc;
}

static void test_fresh_window_accepts_anything_first(void **state)
{
    struct lw_replay r;

    (void)state;
    lw_replay_init(&r);
    assert_false(r.any);
    assert_int_equal(lw_replay_check(&r, 0), LW_OK);
    assert_int_equal(lw_replay_check(&r, 0xFFFFFFFF), LW_OK);
    assert_int_equal(offer(&r, 500), LW_OK);
    assert_true(r.any);
    assert_int_equal(r.top, 500);
    assert_int_equal(offer(&r, 500), LW_ERR_REPLAY);
}

static void test_first_counter_zero(void **state)
{
    struct lw_replay r;

    (void)state;
    lw_replay_init(&r);
    assert_int_equal(offer(&r, 0), LW_OK);
    assert_int_equal(offer(&r, 0), LW_ERR_REPLAY);
    assert_int_equal(offer(&r, 1), LW_OK);
}

static void test_in_order_counters_accepted_once(void **state)
{
    struct lw_replay r;

    (void)state;
    lw_replay_init(&r);
    assert_int_equal(offer(&r, 0), LW_OK);
    for (uint32_t f = 1; f <= 1000; f++) {
        assert_int_equal(offer(&r, f), LW_OK);
        assert_int_equal(offer(&r, f), LW_ERR_REPLAY);
        assert_int_equal(offer(&r, f - 1), LW_ERR_REPLAY);
    }
    assert_int_equal(r.top, 1000);
}

static void test_check_does_not_modify(void **state)
{
    struct lw_replay r;

    (void)state;
    lw_replay_init(&r);
    assert_int_equal(lw_replay_check(&r, 7), LW_OK);
    assert_int_equal(lw_replay_check(&r, 7), LW_OK);
    assert_false(r.any);
}

static void test_reorder_within_window_accepted(void **state)
{
    struct lw_replay r;

    (void)state;
    lw_replay_init(&r);
    assert_int_equal(offer(&r, 100), LW_OK);
    assert_int_equal(offer(&r, 105), LW_OK);
    assert_int_equal(offer(&r, 103), LW_OK);
    assert_int_equal(offer(&r, 101), LW_OK);
    assert_int_equal(offer(&r, 104), LW_OK);
    assert_int_equal(offer(&r, 102), LW_OK);
    for (uint32_t f = 100; f <= 105; f++)
        assert_int_equal(offer(&r, f), LW_ERR_REPLAY);
    assert_int_equal(r.top, 105);
}

static void test_oldest_slot_in_window_and_just_outside(void **state)
{
    struct lw_replay r;

    (void)state;
    lw_replay_init(&r);
    assert_int_equal(offer(&r, 1000), LW_OK);
    /* top - 63 is the oldest counter the window remembers; top - 64 is too old. */
    assert_int_equal(offer(&r, 1000 - 63), LW_OK);
    assert_int_equal(offer(&r, 1000 - 63), LW_ERR_REPLAY);
    assert_int_equal(lw_replay_check(&r, 1000 - 64), LW_ERR_REPLAY);
    assert_int_equal(lw_replay_check(&r, 0), LW_ERR_REPLAY);
    /* Moving top by one pushes 937 out of the window: now too old, still refused. */
    assert_int_equal(offer(&r, 1001), LW_OK);
    assert_int_equal(lw_replay_check(&r, 1000 - 63), LW_ERR_REPLAY);
    assert_int_equal(lw_replay_check(&r, 1001 - 63), LW_OK);
}

static void test_duplicate_rejected(void **state)
{
    struct lw_replay r;

    (void)state;
    lw_replay_init(&r);
    assert_int_equal(offer(&r, 10), LW_OK);
    assert_int_equal(offer(&r, 12), LW_OK);
    assert_int_equal(offer(&r, 10), LW_ERR_REPLAY);
    assert_int_equal(offer(&r, 12), LW_ERR_REPLAY);
    assert_int_equal(offer(&r, 11), LW_OK);
    assert_int_equal(offer(&r, 11), LW_ERR_REPLAY);
}

static void test_jump_by_exactly_64_and_more_clears_window(void **state)
{
    struct lw_replay r;

    (void)state;
    lw_replay_init(&r);
    assert_int_equal(offer(&r, 100), LW_OK);
    assert_int_equal(offer(&r, 164), LW_OK); /* shift by exactly 64: no UB, mask = 1 */
    assert_int_equal(r.mask, 1);
    assert_int_equal(lw_replay_check(&r, 100), LW_ERR_REPLAY); /* now too old */
    assert_int_equal(offer(&r, 101), LW_OK);                   /* 63 back: never seen */
    assert_int_equal(offer(&r, 100000), LW_OK);                /* far jump */
    assert_int_equal(r.mask, 1);
    assert_int_equal(offer(&r, 99999), LW_OK);
    assert_int_equal(offer(&r, 99999), LW_ERR_REPLAY);
    assert_int_equal(offer(&r, 164), LW_ERR_REPLAY);
}

static void test_jump_by_63_keeps_old_top(void **state)
{
    struct lw_replay r;

    (void)state;
    lw_replay_init(&r);
    assert_int_equal(offer(&r, 100), LW_OK);
    assert_int_equal(offer(&r, 163), LW_OK);
    assert_int_equal(r.mask, (1ull << 63) | 1u);
    assert_int_equal(offer(&r, 100), LW_ERR_REPLAY);
    assert_int_equal(offer(&r, 101), LW_OK);
}

static void test_init_at_treats_everything_up_to_top_as_seen(void **state)
{
    struct lw_replay r;

    (void)state;
    lw_replay_init_at(&r, 5000);
    assert_true(r.any);
    assert_int_equal(lw_replay_check(&r, 5000), LW_ERR_REPLAY);
    assert_int_equal(lw_replay_check(&r, 4999), LW_ERR_REPLAY);
    assert_int_equal(lw_replay_check(&r, 4937), LW_ERR_REPLAY);
    assert_int_equal(lw_replay_check(&r, 0), LW_ERR_REPLAY);
    assert_int_equal(offer(&r, 5001), LW_OK);
    assert_int_equal(lw_replay_check(&r, 4999), LW_ERR_REPLAY);
}

static void test_init_at_small_top(void **state)
{
    struct lw_replay r;

    (void)state;
    lw_replay_init_at(&r, 3);
    for (uint32_t f = 0; f <= 3; f++)
        assert_int_equal(lw_replay_check(&r, f), LW_ERR_REPLAY);
    assert_int_equal(offer(&r, 4), LW_OK);
}

static void test_counter_at_uint32_max(void **state)
{
    struct lw_replay r;

    (void)state;
    lw_replay_init(&r);
    assert_int_equal(offer(&r, 0xFFFFFFF0u), LW_OK);
    assert_int_equal(offer(&r, 0xFFFFFFFFu), LW_OK);
    assert_int_equal(r.top, 0xFFFFFFFFu);
    assert_int_equal(offer(&r, 0xFFFFFFFFu), LW_ERR_REPLAY);
    assert_int_equal(offer(&r, 0xFFFFFFFEu), LW_OK);
    assert_int_equal(offer(&r, 0xFFFFFFF0u), LW_ERR_REPLAY);
    /* No wrap-around: a counter that restarted at 0 is far too old. The node must re-key. */
    assert_int_equal(lw_replay_check(&r, 0), LW_ERR_REPLAY);
    assert_int_equal(lw_replay_check(&r, 62), LW_ERR_REPLAY);

    lw_replay_init_at(&r, 0xFFFFFFFFu);
    assert_int_equal(lw_replay_check(&r, 0xFFFFFFFFu), LW_ERR_REPLAY);
    assert_int_equal(lw_replay_check(&r, 0), LW_ERR_REPLAY);
}

static void test_accept_of_too_old_counter_is_harmless(void **state)
{
    struct lw_replay r;

    (void)state;
    lw_replay_init(&r);
    lw_replay_accept(&r, 1000);
    lw_replay_accept(&r, 10); /* callers should not, but it must not corrupt the window */
    assert_int_equal(r.top, 1000);
    assert_int_equal(r.mask, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_window_accepts_anything_first),
        cmocka_unit_test(test_first_counter_zero),
        cmocka_unit_test(test_in_order_counters_accepted_once),
        cmocka_unit_test(test_check_does_not_modify),
        cmocka_unit_test(test_reorder_within_window_accepted),
        cmocka_unit_test(test_oldest_slot_in_window_and_just_outside),
        cmocka_unit_test(test_duplicate_rejected),
        cmocka_unit_test(test_jump_by_exactly_64_and_more_clears_window),
        cmocka_unit_test(test_jump_by_63_keeps_old_top),
        cmocka_unit_test(test_init_at_treats_everything_up_to_top_as_seen),
        cmocka_unit_test(test_init_at_small_top),
        cmocka_unit_test(test_counter_at_uint32_max),
        cmocka_unit_test(test_accept_of_too_old_counter_is_harmless),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
