/* Benchmark helpers for `spikeunet bench`: wall-clock timing, the machine's peak FP32 FLOP/s (a short
 * loop of independent FMA chains on every thread), peak resident memory, the FLOP count of a network,
 * timing of a model's inference pass and training step, and the convolution / batch-norm / activation
 * layers timed in isolation at the network's shapes (to see what limits a step).
 *
 * FLOPs counted: only the convolutions (3x3x3, transposed 1x2x2, output 1x1x1), as 2 x dense MACs from
 * su_model_layers (spikes are counted as dense inputs). Inference = the forward convolutions; a training
 * step = forward + backward-data + backward-weights = 3 x forward, minus the first layer's backward-data
 * (never computed). Batch norm, activations, pooling, the loss and Adam are not counted (they are a few
 * percent of the FLOPs but can be a large share of the time; the layer timing measures them).
 *
 * Everything here uses only the public API of the engine (model.h, layers.h, lif.h, adam.h). */
#ifndef SPIKEUNET_BENCH_H
#define SPIKEUNET_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "spikeunet/adam.h"
#include "spikeunet/error.h"
#include "spikeunet/layers.h"
#include "spikeunet/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Monotonic wall-clock time in seconds. */
double su_bench_now(void);

/* Median (the mean of the two middle values for even n), min, max and mean of n >= 1 samples. */
typedef struct su_bench_stats {
    int n;
    double median, min, max, mean;
} su_bench_stats;
void su_bench_summarize(su_bench_stats *s, const double *x, int n);

/* Peak FP32 FLOP/s: every thread runs independent FMA chains (enough accumulators to hide the FMA
 * latency on two pipes) for about `seconds`, in the widest instruction set the CPU has (chosen at run
 * time: AVX-512F, AVX2+FMA, else plain C), in four parts; the fastest part counts. An FMA counts 2 FLOPs
 * per lane. */
typedef struct su_bench_peak {
    double gflops;   /* all threads together */
    double seconds;  /* the timed loop */
    int threads;
    const char *isa; /* "avx512f", "avx2+fma" or "scalar" */
} su_bench_peak;
int su_bench_peak_flops(su_bench_peak *p, int threads, double seconds, su_error *err);

/* Peak resident set of this process so far (getrusage ru_maxrss), and the current one (/proc). MB = 1e6 B. */
double su_bench_peak_rss_mb(void);
double su_bench_current_rss_mb(void);

/* FLOPs of B volumes of D x H x W (see the top of this file for what is counted). */
typedef struct su_bench_flops {
    double conv_macs;  /* all convolutions, forward, B volumes */
    double first_macs; /* the first convolution (its backward-data is skipped) */
    double infer;      /* 2 * conv_macs */
    double train;      /* 2 * (3 * conv_macs - first_macs) */
} su_bench_flops;
int su_bench_count_flops(su_bench_flops *f, const su_model_config *cfg, int B, int D, int H, int W, su_error *err);

/* Plans the model for evaluation (B, D, H, W) and times `runs` evaluation-mode forward passes after
 * `warmup` untimed ones: times[runs] in seconds. input: (B, D, H, W, in_channels). */
int su_bench_infer(su_model *m, const float *input, int B, int D, int H, int W, int warmup, int runs,
                   double *times, su_error *err);

/* Plans the model for training and times `runs` whole training steps after `warmup` untimed ones:
 * forward with batch statistics, zero_grad, loss (CE + Dice) and backward, an Adam step, and
 * su_model_params_changed (the weight reorder for the next forward). The parameters move (lr of adam). */
int su_bench_train(su_model *m, const float *input, const uint8_t *labels, int B, int D, int H, int W, int warmup,
                   int runs, const su_adam_config *adam, double *times, su_error *err);

/* Neuron-weighted mean firing rate over the LIF layers of the last forward (-1 for the 3D U-Net). */
double su_bench_mean_firing_rate(const su_model *m);

/* One convolution of the network timed alone (oneDNN plan with backward, random data), with the
 * normalisation and activation that follow it (batch-norm statistics + BN/ReLU, or BN folded into a LIF
 * layer over T steps, forward and backward as the model calls them). Times are medians over the runs. */
typedef struct su_bench_layer {
    char name[32];
    su_conv_kind kind;
    int N, D, H, W, Cin, Cout; /* N samples of the convolution's input D x H x W */
    int need_din;              /* 0: the first layer (no backward-data) */
    double flops_fwd, flops_bwd;   /* 2 x dense MACs (backward: data + weights) */
    double real_frac;              /* share of those MACs whose input is not zero padding: kernels that skip
                                      the padding can exceed the peak on small grids by 1 / real_frac */
    double conv_fwd_s, conv_bwd_s; /* su_conv_forward; su_conv_backward (data + weights) */
    double act_fwd_s, act_bwd_s;   /* the BN + ReLU/LIF after it (0 for the transposed and output convs) */
} su_bench_layer;

/* Times every convolution layer of the network for B volumes of D x H x W (at the model's T).
 * rows: at least max entries; *n receives the number of layers (at most max are timed). */
int su_bench_layers(const su_model_config *cfg, int B, int D, int H, int W, int warmup, int runs,
                    su_bench_layer *rows, int max, int *n, su_error *err);

/* Adam over n parameters, median seconds of `runs` steps (the optimiser's share of a training step). */
double su_bench_adam(size_t n, int runs);

/* What one `spikeunet bench` invocation measured, for the JSON form. Unmeasured stats have n == 0
 * (JSON null); firing_rate < 0 is null. Strings may be NULL (null). */
typedef struct su_bench_result {
    const char *model; /* "unet" or "spiking" */
    int timesteps, B, D, H, W, base, depth, threads, warmup, runs;
    su_bench_flops flops;
    su_bench_peak peak;
    su_bench_stats infer, train;
    const double *infer_times, *train_times; /* infer.n and train.n values, or NULL */
    double peak_rss_mb, base_rss_mb;         /* peak; and resident before the model was created */
    double plan_mb;                          /* su_model_plan_bytes of the largest plan used */
    double firing_rate;                      /* mean over the LIF layers (last forward) */
    double adam_s;                           /* su_bench_adam, or < 0 when not measured */
    const char *weights;                     /* "random-init seed 1" or the checkpoint's path */
    const char *input;                       /* "random normal" or the volume's path */
    const su_bench_layer *layers;            /* n_layers rows, or NULL */
    int n_layers;
} su_bench_result;

/* The result as one JSON object (one line, no newline), malloc'd into *json. Keys: model, timesteps,
 * shape [B,D,H,W], base, depth, threads, warmup, runs, infer_s, infer_min_s, infer_max_s, infer_times,
 * train_s, train_min_s, train_max_s, train_times, infer_flops, train_flops, infer_gflops, train_gflops,
 * peak_gflops, peak_isa, infer_peak_pct, train_peak_pct, peak_rss_mb, base_rss_mb, plan_mb, firing_rate,
 * adam_s, weights, input, and layers (an array of objects, only when layers were timed). Free with free(). */
int su_bench_json(char **json, const su_bench_result *r, su_error *err);

#ifdef __cplusplus
}
#endif
#endif
