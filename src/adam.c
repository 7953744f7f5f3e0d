#include "spikeunet/adam.h"

#include <math.h>
#include <omp.h>

#include "dispatch.h"

void su_adam_config_default(su_adam_config *c) {
    c->lr = 1e-4f;
    c->beta1 = 0.9f;
    c->beta2 = 0.999f;
    c->eps = 1e-8f;
    c->weight_decay = 0.0f;
}

SU_DISPATCH static void adam_range(float *p, const float *g, float *m, float *v, const uint8_t *trainable,
                                   size_t i0, size_t i1, float step_size, float bc2_sqrt, const su_adam_config *c) {
    const float b1 = c->beta1, b2 = c->beta2, wd = c->weight_decay, eps = c->eps;
    for (size_t i = i0; i < i1; i++) {
        if (trainable && !trainable[i]) continue;
        float gi = g[i] + (wd != 0.0f ? wd * p[i] : 0.0f);
        m[i] = m[i] * b1 + gi * (1.0f - b1);
        v[i] = v[i] * b2 + gi * gi * (1.0f - b2);
        float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        p[i] -= step_size * (m[i] / denom);
    }
}

void su_adam_step(float *params, const float *grads, float *m, float *v, const uint8_t *trainable, size_t n,
                  long t, const su_adam_config *c) {
    /* the scalars in double, as Python computes them, then rounded once */
    const double bc1 = 1.0 - pow(c->beta1, (double)t), bc2 = 1.0 - pow(c->beta2, (double)t);
    const float step_size = (float)(c->lr / bc1), bc2_sqrt = (float)sqrt(bc2);
#pragma omp parallel
    {
        size_t nt = (size_t)omp_get_num_threads(), id = (size_t)omp_get_thread_num();
        adam_range(params, grads, m, v, trainable, n * id / nt, n * (id + 1) / nt, step_size, bc2_sqrt, c);
    }
}
