/* The U-Net graph, for both networks: the 3D U-Net and the Spiking 3D U-Net differ only where the ReLU
 * stands (a LIF neuron instead) and in the time dimension (T steps folded into the batch).
 *
 *   encoder level k = 0..depth:  DoubleConv(C_{k-1} -> C_k)   (conv3 -> BN -> act -> conv3 -> BN -> act)
 *                                then max-pool (1,2,2) (not after the bottleneck, k = depth)
 *   decoder level k = depth-1..0: transposed conv (1,2,2) C_{k+1} -> C_k, concatenate [skip_k, up_k],
 *                                DoubleConv(2 C_k -> C_k)
 *   output:                      1x1x1 conv C_0 -> classes
 * with C_k = base * 2^k. Pooling is in-plane only, (1,2,2), at every level: ACDC volumes have few thick
 * slices (6-21 at 5-10 mm), so depth is never pooled and any slice count works at inference.
 *
 * Spiking: direct encoding (the same input at every step). The first convolution and its batch norm
 * run once (their input is the same at every step); every other layer sees T*B samples, and batch-norm
 * statistics are taken over T*B and space. The logits are the mean over the T steps of the output
 * convolution, computed as the convolution of the mean spikes (the same thing, by linearity).
 *
 * Memory: all parameters, their gradients and Adam's two moments are one allocation; all activations
 * for a given input shape are one allocation made by su_model_plan; a training step allocates nothing. */
#ifndef SPIKEUNET_MODEL_H
#define SPIKEUNET_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "spikeunet/error.h"
#include "spikeunet/layers.h"
#include "spikeunet/lif.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SU_MAX_DEPTH = 6, SU_MAX_LIF = 4 * SU_MAX_DEPTH + 2 };

typedef enum { SU_MODEL_UNET = 0, SU_MODEL_SPIKING = 1 } su_model_kind;
typedef enum { SU_LEARN_NONE = 0, SU_LEARN_LAYER = 1, SU_LEARN_CHANNEL = 2 } su_learn;

typedef struct su_model_config {
    su_model_kind kind;
    int in_channels;   /* 1 */
    int classes;       /* 4: background, RV, MYO, LV */
    int base;          /* channels at the top level (16) */
    int depth;         /* poolings (4): channels base .. base * 2^depth */
    int timesteps;     /* T (spiking only; 4) */
    float beta;        /* LIF decay (0.95; see docs/SPIKING.md for why) */
    float theta;       /* LIF threshold (1.0) */
    su_lif_config lif; /* reset and surrogate */
    su_learn learn_beta, learn_theta;
    float bn_momentum; /* 0.1 */
    float bn_eps;      /* 1e-5 */
} su_model_config;

void su_model_config_default(su_model_config *cfg, su_model_kind kind);
/* Checks ranges (base >= 1, depth 1..SU_MAX_DEPTH, T >= 1, ...); the message names the bad field. */
int su_model_config_check(const su_model_config *cfg, su_error *err);

/* Named views into a block shaped like the parameters (the parameters themselves, or their gradients). */
typedef struct su_conv_params { float *w, *b; } su_conv_params;
typedef struct su_bn_params { float *gamma, *beta; } su_bn_params;
typedef struct su_lif_params { float *beta, *theta; } su_lif_params;
typedef struct su_block_params {
    su_conv_params conv1, conv2;
    su_bn_params bn1, bn2;
    su_lif_params lif1, lif2; /* spiking only */
} su_block_params;
typedef struct su_params {
    su_block_params enc[SU_MAX_DEPTH + 1], dec[SU_MAX_DEPTH];
    su_conv_params up[SU_MAX_DEPTH], out;
} su_params;
/* Batch norm running statistics (not trained; saved with the model). */
typedef struct su_bn_buffers { float *running_mean, *running_var; } su_bn_buffers;

/* One named tensor of the model (a parameter or a buffer), PyTorch state_dict style:
 * "enc0.conv1.weight", "enc0.bn1.running_var", "enc0.lif1.beta", "up2.weight", "out.bias", ... */
typedef struct su_tensor_info {
    char name[48];
    float *data;
    float *grad;   /* NULL for buffers */
    int ndim;
    int shape[5];
    long numel;
    int trainable; /* receives Adam updates (LIF beta/theta only when learnable) */
} su_tensor_info;

/* A row of the layer table (`spikeunet model`, the energy accounting). Sizes for one volume (B = 1). */
typedef enum { SU_LAYER_CONV, SU_LAYER_BN, SU_LAYER_RELU, SU_LAYER_LIF, SU_LAYER_POOL, SU_LAYER_UPCONV,
               SU_LAYER_CONCAT, SU_LAYER_MEAN } su_layer_kind;
typedef struct su_layer_info {
    char name[32];
    su_layer_kind kind;
    int steps;            /* how many times it runs per volume: T, or 1 (first conv/BN, output conv) */
    int C, D, H, W;       /* output shape of one step */
    long params;
    double macs;          /* dense multiply-accumulates, all steps */
    int spike_input;      /* input channels fed by spikes: all (1), none (0), or half of them (2: concat) */
    int input_lif;        /* index of the LIF layer whose spikes feed it (-1: none) */
    int second_lif;       /* for a decoder conv after concat: the LIF feeding the skip half (-1) */
    int lif_index;        /* for LIF rows: its index (firing rates) */
} su_layer_info;

typedef struct su_model su_model;

/* Creates a model with PyTorch's default initialisation (Kaiming-uniform, a = sqrt(5)) from seed. */
int su_model_create(su_model **m, const su_model_config *cfg, uint64_t seed, su_error *err);
void su_model_destroy(su_model *m);
const su_model_config *su_model_get_config(const su_model *m);

/* The parameter block: params | grads | adam_m | adam_v, n floats each, one allocation. */
size_t su_model_num_params(const su_model *m);
float *su_model_params(su_model *m);
float *su_model_grads(su_model *m);
float *su_model_adam_m(su_model *m);
float *su_model_adam_v(su_model *m);
/* Which parameters Adam updates (1) and which stay fixed (0), e.g. a non-learnable beta: n bytes. */
const uint8_t *su_model_trainable_mask(const su_model *m);
const su_params *su_model_named_params(const su_model *m);
const su_params *su_model_named_grads(const su_model *m);
int su_model_num_tensors(const su_model *m);
const su_tensor_info *su_model_tensor(const su_model *m, int i);
const su_tensor_info *su_model_find_tensor(const su_model *m, const char *name);
/* Call after anything changes the parameters (an optimiser step, loading a checkpoint). */
void su_model_params_changed(su_model *m);

/* Allocates activations and creates the convolution plans for inputs of B volumes of D x H x W
 * (H, W divisible by 2^depth). training = 1 also prepares the backward pass. Re-planning replaces the
 * previous plan. */
int su_model_plan(su_model *m, int B, int D, int H, int W, int training, su_error *err);
/* Bytes the plan holds (activations, gradients, kernels' weight copies, scratchpad). */
size_t su_model_plan_bytes(const su_model *m);
/* The same figure computed without allocating, for `spikeunet model`. */
size_t su_model_estimate_bytes(const su_model_config *cfg, int B, int D, int H, int W, int training);

/* Forward pass. input: (B, D, H, W, in_channels) channels-last. batch_stats = 1 uses batch statistics
 * in batch norm and updates the running estimates (training); 0 uses the running estimates (evaluation).
 * Returns the logits (B, D, H, W, classes), valid until the next call. */
int su_model_forward(su_model *m, const float *input, int batch_stats, const float **logits, su_error *err);

/* Loss of the last forward's logits against labels (B*D*H*W values in 0..classes-1) and, when the
 * plan is for training, the backward pass, accumulating parameter gradients. */
int su_model_backward(su_model *m, const uint8_t *labels, su_loss_kind loss, const float *class_weight,
                      su_loss_value *value, su_error *err);
su_loss_value su_model_loss(su_model *m, const uint8_t *labels, su_loss_kind loss, const float *class_weight);
void su_model_zero_grad(su_model *m);

/* Firing rates of the LIF layers measured by the last forward pass (fraction of neuron-steps that fired). */
int su_model_num_lif(const su_model *m);
double su_model_firing_rate(const su_model *m, int i);
const char *su_model_lif_name(const su_model *m, int i);
/* Copies LIF layer i's spikes from the last forward into out, dense (T*B, D', H', W', C) of that level;
 * returns the number of values, or -1 when i is not a LIF layer. */
long su_model_lif_spikes(const su_model *m, int i, float *out);

/* The layer table for one volume of D x H x W. Returns the number of rows (at most max). */
int su_model_layers(const su_model_config *cfg, int D, int H, int W, su_layer_info *rows, int max);

#ifdef __cplusplus
}
#endif
#endif
