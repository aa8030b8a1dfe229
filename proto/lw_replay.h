/* SPDX-License-Identifier: Apache-2.0 */
/* Per-node replay protection: highest frame counter seen plus a 64-frame sliding window, so
 * frames reordered by relays are still accepted once. Value type, no allocation, no I/O. */
#ifndef LW_REPLAY_H
#define LW_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define LW_REPLAY_WINDOW 64

struct lw_replay {
    uint32_t top;  /* highest accepted counter */
    uint64_t mask; /* bit i set: counter top - i accepted */
    bool any;      /* false until the first frame is accepted */
};

void lw_replay_init(struct lw_replay *r);
/* Start from a persisted counter: every counter <= top is treated as seen. */
void lw_replay_init_at(struct lw_replay *r, uint32_t top);
/* LW_OK when fcnt was never accepted and is within the window; LW_ERR_REPLAY otherwise.
 * Does not modify r: call lw_replay_accept only after the MIC verified. */
int lw_replay_check(const struct lw_replay *r, uint32_t fcnt);
void lw_replay_accept(struct lw_replay *r, uint32_t fcnt);

#endif
