/* Adam over the model's one parameter block, exactly as PyTorch's torch.optim.Adam (1.13):
 *   g += weight_decay * p                      (L2, when weight_decay != 0; not AdamW)
 *   m = b1*m + (1-b1)*g;   v = b2*v + (1-b2)*g*g
 *   p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)        t = 1, 2, ... */
#ifndef SPIKEUNET_ADAM_H
#define SPIKEUNET_ADAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct su_adam_config {
    float lr;           /* 1e-4 */
    float beta1, beta2; /* 0.9, 0.999 */
    float eps;          /* 1e-8 */
    float weight_decay; /* 0 */
} su_adam_config;

void su_adam_config_default(su_adam_config *cfg);

/* One step t (1-based) over n parameters; entries with trainable[i] == 0 are left alone (NULL: all). */
void su_adam_step(float *params, const float *grads, float *m, float *v, const uint8_t *trainable, size_t n,
                  long t, const su_adam_config *cfg);

#ifdef __cplusplus
}
#endif
#endif
