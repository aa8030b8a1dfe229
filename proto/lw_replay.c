/* SPDX-License-Identifier: Apache-2.0 */
/* Per-node replay window: a counter is accepted once, and only if it is newer than the highest
 * seen or among the 63 counters just below it. */
#include "lw_replay.h"
#include "lw_error.h"

#include <string.h>

void lw_replay_init(struct lw_replay *r)
{
    if (r == NULL)
        return;
    memset(r, 0, sizeof(*r));
}

void lw_replay_init_at(struct lw_replay *r, uint32_t top)
{
    if (r == NULL)
        return;
    r->top = top;
    r->mask = ~(uint64_t)0;
    r->any = true;
}

int lw_replay_check(const struct lw_replay *r, uint32_t fcnt)
{
    uint32_t age;

    if (r == NULL)
        return LW_ERR_INVAL;
    if (!r->any || fcnt > r->top)
        return LW_OK;
    age = r->top - fcnt;
    if (age >= LW_REPLAY_WINDOW)
        return LW_ERR_REPLAY;
    return (r->mask >> age) & 1u ? LW_ERR_REPLAY : LW_OK;
}

void lw_replay_accept(struct lw_replay *r, uint32_t fcnt)
{
    uint32_t d;

    if (r == NULL)
        return;
    if (!r->any) {
        r->top = fcnt;
        r->mask = 1;
        r->any = true;
        return;
    }
    if (fcnt > r->top) {
        d = fcnt - r->top;
        /* A shift by >= 64 is undefined in C, and means every old bit falls out anyway. */
        r->mask = d >= LW_REPLAY_WINDOW ? 0 : r->mask << d;
        r->mask |= 1;
        r->top = fcnt;
        return;
    }
    d = r->top - fcnt;
    if (d < LW_REPLAY_WINDOW)
        r->mask |= (uint64_t)1 << d;
}
