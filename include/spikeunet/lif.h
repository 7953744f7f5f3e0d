/* The Leaky Integrate-and-Fire neuron, with snntorch 0.9.4 `snn.Leaky` semantics, equation for equation.
 *
 * Per neuron, membrane U(0) = 0 at the start of every volume's forward pass; at each step t = 1..T:
 *   R(t) = [U(t-1) > theta]                      the previous step's spike, DETACHED (no gradient)
 *   U(t) = b*U(t-1) + X(t) - theta*R(t)          reset "subtract" (default)
 *   U(t) = b*(1 - R(t))*U(t-1) + X(t)            reset "zero"
 *   U(t) = b*U(t-1) + X(t)                       reset "none"
 *   S(t) = [U(t) > theta]                        strict: U == theta does not fire
 * with b = clamp(beta, 0, 1) as snntorch does in its forward pass.
 * Backward (surrogate gradient; the Heaviside step has none):
 *   dS/dU = sigma'(U - theta):  atan (default, alpha = 2):  (alpha/2) / (1 + (pi/2 * alpha * x)^2)
 *                               fast sigmoid (slope k):     1 / (k*|x| + 1)^2
 *   dU(t)/dU(t-1) = b (times (1 - R(t)) for reset zero), dU(t)/dX(t) = 1,
 *   dL/dbeta  = sum_t dU(t) * U(t-1) [* (1 - R(t))]   (zero outside 0 <= beta <= 1, the clamp's gradient)
 *   dL/dtheta = sum_t -dS(t)*sigma'(U(t) - theta) - dU(t)*R(t)  (the reset term only for "subtract").
 *
 * In the network the neuron's input X is the batch norm of a convolution's output a:
 *   X = a * scale + shift  (scale = gamma * rstd, shift = beta_bn - mean * scale, per channel)
 * and the forward/backward are fused with that affine map so the membrane is never stored: the backward
 * recomputes U(t) from a, which keeps the memory of backpropagation through time at one float (a) and one
 * spike per neuron-step. Layouts: a and the spikes are (T*B, S, C) channels-last, t-major (see layers.h);
 * with shared_input the layer's input is the same at every step (the first layer of the network, whose
 * input image is the same at every step), so a is (B, S, C) and dX is summed over the steps. */
#ifndef SPIKEUNET_LIF_H
#define SPIKEUNET_LIF_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SU_RESET_SUBTRACT = 0, SU_RESET_ZERO = 1, SU_RESET_NONE = 2 } su_reset;
typedef enum { SU_SURROGATE_ATAN = 0, SU_SURROGATE_FAST_SIGMOID = 1 } su_surrogate;

typedef struct su_lif_config {
    su_reset reset;
    su_surrogate surrogate;
    float slope; /* atan: alpha (snntorch default 2); fast sigmoid: slope k (snntorch default 25) */
} su_lif_config;

/* One LIF layer's sizes and per-channel parameters for a call. */
typedef struct su_lif_args {
    int T;               /* time steps */
    long BS;             /* B * S: neurons per channel per step */
    int C;               /* channels */
    int shared_input;    /* a holds one step's input, reused at every step */
    const float *scale;  /* [C] batch-norm affine folded: X = a * scale + shift */
    const float *shift;  /* [C] */
    const float *beta;   /* [nparam]: decay, clamped to [0, 1] */
    const float *theta;  /* [nparam]: threshold */
    int nparam;          /* 1 (one beta/theta per layer) or C (per channel) */
} su_lif_args;

/* Runs the T steps. spikes: (T*B, S, C) with leading dimension lds, one byte per neuron-step (0 or 1).
 * Returns the number of spikes emitted (firing rate = count / (T * BS * C)). */
long su_lif_forward(uint8_t *spikes, int lds, const float *a, const su_lif_args *args, const su_lif_config *cfg);

/* Backpropagation through time. dspikes: dL/dS (T*B, S, C), dense. dx receives dL/dX, (T*B, S, C) or
 * (B, S, C) with shared_input; it may alias dspikes. dbeta and dtheta (nparam each) accumulate when not
 * NULL. scratch: at least 2 * C * threads doubles. */
void su_lif_backward(float *dx, float *dbeta, float *dtheta, const float *dspikes, const float *a,
                     const su_lif_args *args, const su_lif_config *cfg, double *scratch);

/* The surrogate derivative dS/dU at x = U - theta. */
float su_lif_surrogate(float x, const su_lif_config *cfg);

#ifdef __cplusplus
}
#endif
#endif
