/* SPDX-License-Identifier: Apache-2.0 */
/* splitmix64 (Steele, Lea, Flood 2014): tiny, fast and good enough for jitter; never rand(). */
#include "sim_prng.h"

void sim_prng_seed(struct sim_prng *p, uint64_t seed)
{
    p->state = seed;
}

uint64_t sim_prng_next(struct sim_prng *p)
{
    uint64_t z = (p->state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

uint64_t sim_prng_below(struct sim_prng *p, uint64_t bound)
{
    if (bound == 0)
        return 0;
    /* Rejection sampling keeps the distribution exactly uniform. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t v;
    do {
        v = sim_prng_next(p);
    } while (v >= limit);
    return v % bound;
}
