/* Layers of the U-Net: each has a forward and a backward function.
 *
 * Dimensions, named once for the whole engine:
 *   B        volumes in a batch
 *   T        time steps of the spiking network (1 for the 3D U-Net)
 *   N        samples in an activation tensor: B, or T*B for spiking layers (t-major: n = t*B + b)
 *   C        channels (Cin, Cout for a convolution)
 *   D, H, W  depth (slices), height, width of the network grid;  S = D*H*W voxels per sample
 *
 * Activations are channels-last (NDHWC): x[(n*S + s)*ld + c], where ld (the leading dimension) is C for
 * a dense tensor, or larger when the tensor is a channel slice of a wider one (an encoder output written
 * straight into the first channels of its skip-concatenation buffer).
 * Weights keep PyTorch's layouts, so checkpoints load in PyTorch unchanged:
 *   conv3d            w[Cout][Cin][kD][kH][kW], bias[Cout]
 *   conv_transpose3d  w[Cin][Cout][kD][kH][kW], bias[Cout]
 *
 * Conventions: outputs first, then inputs, then sizes. Parameter gradients accumulate (+=); input
 * gradients are written (=) for speed, since every activation has one consumer except the encoder outputs,
 * whose two gradients (skip and pooling paths) are summed explicitly by the model.
 *
 * Convolutions have two implementations: a plain reference (su_conv3d_*_ref, simple loops, used by the
 * tests and as the definition) and the fast path (su_conv_plan, oneDNN's JIT kernels, dispatched at run
 * time for the CPU's instruction set). The elementwise layers (batch norm, ReLU, pooling, losses) are
 * written once, multithreaded with OpenMP, deterministic for a fixed thread count.
 */
#ifndef SPIKEUNET_LAYERS_H
#define SPIKEUNET_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "spikeunet/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- convolution: reference ------------------------------------------------------------------ */

/* 3-D convolution, stride 1, kernel k x k x k (k = 3 with padding 1, or k = 1 with padding 0). */
void su_conv3d_forward_ref(float *out, const float *in, const float *w, const float *bias,
                           int N, int D, int H, int W, int Cin, int Cout, int k);
/* din may be NULL (first layer). dw, dbias accumulate. */
void su_conv3d_backward_ref(float *din, float *dw, float *dbias, const float *dout, const float *in,
                            const float *w, int N, int D, int H, int W, int Cin, int Cout, int k);

/* Transposed convolution with kernel = stride = (1,2,2): in (N,D,H,W,Cin) -> out (N,D,2H,2W,Cout).
 * No two inputs overlap, so each output voxel comes from exactly one input voxel. */
void su_upconv_forward_ref(float *out, const float *in, const float *w, const float *bias,
                           int N, int D, int H, int W, int Cin, int Cout);
void su_upconv_backward_ref(float *din, float *dw, float *dbias, const float *dout, const float *in,
                            const float *w, int N, int D, int H, int W, int Cin, int Cout);

/* ---- convolution: fast path (oneDNN) ----------------------------------------------------------- */

typedef enum { SU_CONV3 = 0, SU_CONV1 = 1, SU_UPCONV = 2 } su_conv_kind;

typedef struct su_engine su_engine;       /* oneDNN engine + stream + shared scratchpad; one per model */
typedef struct su_conv_plan su_conv_plan; /* primitives of one layer for one input shape */

int su_engine_create(su_engine **eng, su_error *err);
void su_engine_destroy(su_engine *eng);
/* Bytes of the shared scratchpad the engine holds. */
size_t su_engine_scratch_bytes(const su_engine *eng);

/* What a plan can do (flags, or'ed): */
enum {
    SU_CONV_BIAS = 1,       /* a bias term (a convolution followed by batch norm has none: BN cancels it) */
    SU_CONV_TRAIN = 2,      /* backward passes too */
    SU_CONV_NEED_DIN = 4,   /* the input gradient (not for the first layer) */
    SU_CONV_ACCUMULATE = 8  /* the forward adds to what out holds (out += conv(in)) */
};

/* Creates the primitives for one layer. D, H, W are the input's sizes. */
int su_conv_plan_create(su_conv_plan **plan, su_engine *eng, su_conv_kind kind, int N, int D, int H,
                        int W, int Cin, int Cout, int flags, su_error *err);
void su_conv_plan_destroy(su_conv_plan *plan);
/* Bytes of oneDNN-side buffers (weights in oneDNN's layouts) held by the plan, for memory reports. */
size_t su_conv_plan_bytes(const su_conv_plan *plan);

/* Reorders the PyTorch-layout weights into the kernels' layout; call after every weight update. */
int su_conv_set_weights(su_conv_plan *plan, const float *w, su_error *err);
int su_conv_forward(su_conv_plan *plan, float *out, const float *in, const float *bias, su_error *err);
/* din (if the plan has one) is written; dw and dbias accumulate (dbias NULL without a bias). dw NULL:
 * the input gradient only (a spike-fed layer takes its weight gradient from the spike kernels). */
int su_conv_backward(su_conv_plan *plan, float *din, float *dw, float *dbias, const float *dout,
                     const float *in, su_error *err);

/* ---- batch norm (+ ReLU) ------------------------------------------------------------------------ */

/* Per-channel statistics over N*S samples of x (leading dimension ld): mean and 1/sqrt(var + eps)
 * with the biased variance; the unbiased variance goes to var_unbiased (for the running estimate).
 * scratch: at least 2*C*threads doubles. */
void su_bn_stats(float *mean, float *rstd, float *var_unbiased, const float *x, long NS, int C, int ld,
                 float eps, double *scratch);
/* running = (1 - momentum) * running + momentum * batch  (PyTorch's convention) */
void su_bn_update_running(float *running_mean, float *running_var, const float *mean,
                          const float *var_unbiased, int C, float momentum);
/* Evaluation mode: turns running statistics into (mean, rstd) for su_bn_act_forward. */
void su_bn_eval_stats(float *mean, float *rstd, const float *running_mean, const float *running_var,
                      int C, float eps);

/* y = gamma * (x - mean) * rstd + beta, then ReLU when relu != 0. y and x may have different ld. */
void su_bn_act_forward(float *y, int ldy, const float *x, const float *mean, const float *rstd,
                       const float *gamma, const float *beta, long NS, int C, int relu);

/* Backward of batch norm in training mode, with ReLU when y != NULL (y: the ReLU output, ldy).
 * dy (leading dimension ldd) holds dL/d(output); dx (dense, ld C) receives dL/dx and may alias dy when
 * ldd == C. dgamma, dbeta accumulate. scratch: at least 2*C*threads doubles. */
void su_bn_act_backward(float *dx, float *dgamma, float *dbeta, const float *dy, int ldd, const float *y,
                        int ldy, const float *x, const float *mean, const float *rstd, const float *gamma,
                        long NS, int C, double *scratch);

/* ---- pooling, concatenation --------------------------------------------------------------------- */

/* Max pooling with kernel = stride = (1,2,2): in (N,D,H,W,C; ld ldi) -> out (N,D,H/2,W/2,C), with the
 * window index (0..3, row-major over (h,w)) of the maximum in arg. Ties go to the first maximum in that
 * order, as PyTorch does, so gradients match exactly. */
void su_maxpool_forward(float *out, uint8_t *arg, const float *in, int ldi, int N, int D, int H, int W,
                        int C);
/* din[window max] += dout: accumulates into din (ld ldi), which the caller initialises. */
void su_maxpool_backward(float *din, int ldi, const float *dout, const uint8_t *arg, int N, int D, int H,
                         int W, int C);

/* The same on spikes (one byte each, 0/1): the maximum is a logical or; arg as above. */
void su_maxpool_forward_u8(uint8_t *out, uint8_t *arg, const uint8_t *in, int N, int D, int H, int W, int C);
/* Spikes as floats (0/1), for kernels that want floats. */
void su_spikes_to_float(float *dst, const uint8_t *src, long n);

/* Copies a dense (NS, C) tensor into channels [c0, c0 + C) of a (NS, ld) tensor, and back. */
void su_copy_channels(float *dst, int ldd, const float *src, int lds, long NS, int C);

/* ---- losses ------------------------------------------------------------------------------------- */

typedef enum { SU_LOSS_CE = 1, SU_LOSS_DICE = 2, SU_LOSS_CE_DICE = 3 } su_loss_kind;

typedef struct su_loss_value {
    double total, ce, dice; /* the terms, before weighting by the kind */
} su_loss_value;

/* Softmax cross-entropy (mean over voxels; with class_weight != NULL, PyTorch's weighted mean:
 * sum w[y] * nll / sum w[y]) and/or soft Dice over the foreground classes 1..K-1:
 *   dice_c = (2 * sum p_c g_c + 1) / (sum p_c + sum g_c + 1),  L_dice = 1 - mean_c dice_c,
 * sums over every voxel of the batch. logits and dlogits are (M, K) channels-last; dlogits is written
 * (may be NULL for evaluation). probs: scratch (M, K). scratch: at least 4*K*threads doubles. */
su_loss_value su_loss_forward_backward(float *dlogits, float *probs, const float *logits,
                                       const uint8_t *labels, long M, int K, su_loss_kind kind,
                                       const float *class_weight, double *scratch);

/* Argmax over the K channels of each of M voxels. */
void su_argmax(uint8_t *labels, const float *logits, long M, int K);

/* Threads OpenMP will use in the engine's parallel regions (sizes the per-thread scratch). */
int su_max_threads(void);

#ifdef __cplusplus
}
#endif
#endif
