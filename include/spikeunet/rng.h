/* A small seeded random generator (xoshiro256**, seeded through splitmix64): deterministic across
 * platforms, and its whole state is four integers, saved in checkpoints so a resumed run continues the
 * same random stream. No global state: each user owns its su_rng. */
#ifndef SPIKEUNET_RNG_H
#define SPIKEUNET_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct su_rng {
    uint64_t s[4];
} su_rng;

void su_rng_seed(su_rng *r, uint64_t seed);
uint64_t su_rng_next(su_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double su_rng_uniform(su_rng *r);
/* Uniform integer in [0, n) without modulo bias (n > 0). */
uint64_t su_rng_below(su_rng *r, uint64_t n);
/* Standard normal (Box-Muller). */
double su_rng_normal(su_rng *r);

#ifdef __cplusplus
}
#endif
#endif
