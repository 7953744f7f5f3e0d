/* Convolutions fed by binary spikes: the forward pass and the weight gradient of a 3-D convolution
 * (stride 1; 3x3x3 with padding 1, or 1x1x1) whose input is 0/1, without multiplications.
 *
 *   forward:      out[n, s, co]   = sum over offsets k and channels ci with spike[n, s+k, ci] = 1 of w[co][ci][k]
 *   weight grad:  dw[co][ci][k]  += sum over (n, s) with spike[n, s+k, ci] = 1 of dout[n, s, co]
 *
 * The input gradient stays dense (su_conv_backward with need_din, layers.h). Layouts as in layers.h:
 * activations NDHWC, weights PyTorch's w[Cout][Cin][k][k][k].
 *
 * Use: create a plan per layer and shape; su_spikeconv_set_weights after every weight update;
 * su_spikeconv_load with the layer's input spikes (any nonzero value counts as a spike) packs them into
 * the plan's bit mask, which the following su_spikeconv_forward and su_spikeconv_backward_weights read,
 * so a plan keeps one step's spikes from the forward to the backward pass. Every buffer is allocated at
 * plan time; no call allocates, none can fail once the plan exists. Multithreaded with OpenMP (at most the
 * thread count the plan was created with), deterministic for a fixed thread count. The kernels are
 * compiled for AVX-512, AVX2 and the x86-64 baseline and chosen at run time for the CPU.
 */
#ifndef SPIKEUNET_SPIKECONV_H
#define SPIKEUNET_SPIKECONV_H

#include <stddef.h>
#include <stdint.h>

#include "spikeunet/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct su_spikeconv su_spikeconv;

typedef enum {
    SU_SPIKECONV_ISA_AUTO = 0,    /* the best the CPU supports */
    SU_SPIKECONV_ISA_BASELINE = 1, /* x86-64 baseline (SSE2), or plain C elsewhere */
    SU_SPIKECONV_ISA_AVX2 = 2,     /* AVX2 + FMA + BMI2 */
    SU_SPIKECONV_ISA_AVX512 = 3    /* AVX-512 F/BW/VL/DQ + BMI2 */
} su_spikeconv_isa;

/* k = 3 (padding 1) or 1. N samples of D x H x W voxels; input and output have the same sizes. Any
 * Cin, Cout >= 1; Cout a multiple of 16 avoids a copy per output row. */
int su_spikeconv_create(su_spikeconv **plan, int k, int N, int D, int H, int W, int Cin, int Cout,
                        su_error *err);
void su_spikeconv_destroy(su_spikeconv *plan);
/* Bytes the plan holds (packed weights, spike mask, per-thread gradient partials). */
size_t su_spikeconv_bytes(const su_spikeconv *plan);

/* Kernels' instruction set: AUTO picks the best; forcing one the CPU lacks fails (tests, benchmarks). */
int su_spikeconv_set_isa(su_spikeconv *plan, su_spikeconv_isa isa, su_error *err);
su_spikeconv_isa su_spikeconv_get_isa(const su_spikeconv *plan);

/* How spikes select weights (AUTO: chosen per pass from the layer's shape and the loaded firing rate,
 * from measurements, docs/SPIKECONV.md; the others force one, for tests and benchmarks):
 *   ROWS    one weight row per spike and offset: the forward sums them in registers; the weight gradient
 *           adds the dout row into a per-thread partial row per spike and offset. Cost follows the rate.
 *   TABLE   one precomputed row per byte of 8 channels and offset (the sum of the weight rows of the
 *           byte's spikes): a fixed cost, 1/8 of the dense one, for narrow layers (the table stays small).
 *           The weight gradient accumulates dout per byte pattern, then folds patterns into channels.
 *   GATHER  weight gradient only (the forward runs ROWS): per input channel, the dout rows its spikes
 *           reach are summed in registers, with no store per spike. k = 3 and Cout a multiple of 16.
 * Forcing a method the plan cannot run fails. */
typedef enum {
    SU_SPIKECONV_AUTO = 0,
    SU_SPIKECONV_ROWS = 1,
    SU_SPIKECONV_TABLE = 2,
    SU_SPIKECONV_GATHER = 3
} su_spikeconv_method;
int su_spikeconv_set_method(su_spikeconv *plan, su_spikeconv_method method, su_error *err);

/* Reorders PyTorch-layout weights w[Cout][Cin][k][k][k] into rows w[k][ci][0..Cout) (and the byte tables);
 * call after every weight update. */
void su_spikeconv_set_weights(su_spikeconv *plan, const float *w);
/* The same from input channels [ci0, ci0 + Cin) of a wider weight tensor w[Cout][w_cin][k][k][k] (the
 * spike half of a decoder convolution whose input is a concatenation). */
void su_spikeconv_set_weights_slice(su_spikeconv *plan, const float *w, int w_cin, int ci0);

/* Packs the input spikes (N, D, H, W, Cin) with leading dimension lds >= Cin (a channel slice of a wider
 * tensor is fine); nonzero = spike. Returns the number of spikes (firing rate = count / (N*S*Cin)). */
long su_spikeconv_load(su_spikeconv *plan, const float *spikes, int lds);
long su_spikeconv_load_u8(su_spikeconv *plan, const uint8_t *spikes, int lds);

/* out (N, D, H, W, Cout), dense: out = conv(spikes) + bias, or out += conv(spikes) + bias when
 * accumulate != 0 (the decoder adds the skip half into the upsampled half). bias may be NULL. */
void su_spikeconv_forward(su_spikeconv *plan, float *out, const float *bias, int accumulate);

/* dw[Cout][Cin][k][k][k] += weight gradient, given dout (N, D, H, W, Cout), dense. The bias gradient
 * (a plain sum of dout) is not computed here. */
void su_spikeconv_backward_weights(su_spikeconv *plan, float *dw, const float *dout);
/* The same into input channels [ci0, ci0 + Cin) of a wider gradient dw[Cout][w_cin][k][k][k]. */
void su_spikeconv_backward_weights_slice(su_spikeconv *plan, float *dw, int w_cin, int ci0, const float *dout);

/* Firing rate of the loaded spikes (count / (N*S*Cin)). Above the crossover rate measured for the layer
 * (docs/SPIKECONV.md: about 30-40 %) the dense convolution is as fast or faster. */
double su_spikeconv_rate(const su_spikeconv *plan);

#ifdef __cplusplus
}
#endif
#endif
