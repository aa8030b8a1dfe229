/* SPDX-License-Identifier: Apache-2.0 */
/* Small seeded PRNG (splitmix64) for reproducible simulator jitter and garbage bytes. */
#ifndef SIM_PRNG_H
#define SIM_PRNG_H

#include <stdint.h>

struct sim_prng {
    uint64_t state;
};

void sim_prng_seed(struct sim_prng *p, uint64_t seed);
uint64_t sim_prng_next(struct sim_prng *p);
/* Uniform in [0, bound); 0 when bound is 0. */
uint64_t sim_prng_below(struct sim_prng *p, uint64_t bound);

#endif
