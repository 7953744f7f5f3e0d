/* The U-Net graph for both variants (see model.h): parameters, activations, forward, backward. */
#include "spikeunet/model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spikeunet/rng.h"
#include "spikeunet/spikeconv.h"

enum { MAX_TENSORS = 20 * (2 * SU_MAX_DEPTH + 1) + 8 };

/* Batch-norm statistics of one forward pass, and the affine map they fold into (X = a*scale + shift). */
typedef struct norm_state {
    float *mean, *rstd, *var_unbiased, *scale, *shift;
} norm_state;

/* A convolution of the graph. Dense inputs run on oneDNN. A 3x3x3 or 1x1x1 convolution fed by spikes
 * (one byte each) runs its forward pass and weight gradient on the spike kernels (spikeconv.h: sums of
 * weights over the active inputs, no multiplications) and only its input gradient, which is dense, on
 * oneDNN; the transposed convolution fed by spikes widens them to floats for oneDNN. When the weights are
 * a slice of a larger tensor (the two halves of a decoder's first convolution, which reads [skip,
 * upsampled]), the dense kernels work on contiguous copies and add their gradient back into the slice. */
typedef struct conv_op {
    su_conv_plan *plan;
    su_spikeconv *sc;            /* spike kernels (spike-fed 3x3x3 / 1x1x1 layers), else NULL */
    int N, S, Cin, Cout, spikes; /* spikes: the input is uint8 spikes */
    float *w, *dw;               /* this op's weights and gradient in the parameter block */
    int slice_off, slice_cin;    /* slice: first input channel and the full input width (else 0, 0) */
    float *w_copy, *dw_copy;     /* contiguous copies for a slice */
} conv_op;

/* One DoubleConv block's tensors and kernels for the planned shape. Activations (h1, h2) are floats
 * after a ReLU and spikes (uint8) after a LIF layer; exactly one of hf/hs is set. */
typedef struct block_acts {
    int Cin, C, D, H, W;
    long S;            /* voxels per sample at this level */
    int n1;            /* samples entering the first conv: B when shared across steps, else N */
    const float *in_f; /* real-valued input: the image (enc0), pooled floats, or the upsampled path (dec) */
    const uint8_t *in_s; /* spike input: pooled spikes (enc), or the skip spikes (dec) */
    const float *skip_f; /* 3D U-Net decoder: the skip input (floats) */
    float *a1, *a2;    /* convolution outputs (batch norm inputs) */
    float *h1f, *h2f;
    uint8_t *h1s, *h2s;
    norm_state bn1, bn2;
    conv_op c1, c1b, c2; /* decoder: c1 reads the skip half, c1b the upsampled half */
    int lif1, lif2;      /* LIF layer indices (spiking) */
    su_block_params *p, *g;
    su_bn_buffers run1, run2;
} block_acts;

struct su_model {
    su_model_config cfg;
    /* parameters: params | grads | adam_m | adam_v (n_params each) in one allocation */
    size_t n_params, n_buffers;
    float *block, *params, *grads, *adam_m, *adam_v, *buffers;
    uint8_t *trainable;
    su_params p, g;
    su_bn_buffers enc_run[SU_MAX_DEPTH + 1][2], dec_run[SU_MAX_DEPTH][2];
    su_tensor_info tensors[MAX_TENSORS];
    int n_tensors;
    unsigned long params_version;

    /* the plan: one arena for every activation of one input shape */
    int planned, B, D, H, W, training, T, N;
    unsigned long synced_version;
    su_engine *eng;
    void *arena;
    size_t arena_bytes;
    block_acts enc[SU_MAX_DEPTH + 1], dec[SU_MAX_DEPTH];
    conv_op up[SU_MAX_DEPTH], outc;
    uint8_t *pool_arg[SU_MAX_DEPTH];
    float *pooled_f[SU_MAX_DEPTH + 1], *up_f[SU_MAX_DEPTH]; /* pooled floats (U-Net), upsampled paths */
    uint8_t *pooled_s[SU_MAX_DEPTH + 1];                    /* pooled spikes */
    float *input, *widened, *mean_spikes, *logits, *probs, *dlogits;
    float *G1, *G2, *dskip[SU_MAX_DEPTH];
    double *scratch;
    int last_batch_stats;

    int n_lif;
    char lif_name[SU_MAX_LIF][32];
    long lif_neurons[SU_MAX_LIF]; /* neuron-steps per forward */
    long lif_spikes[SU_MAX_LIF];
};
static int channels(const su_model_config *c, int k) { return c->base << k; }

void su_model_config_default(su_model_config *c, su_model_kind kind) {
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->in_channels = 1;
    c->classes = 4;
    c->base = 16;
    c->depth = 4;
    c->timesteps = kind == SU_MODEL_SPIKING ? 4 : 1;
    c->beta = 0.95f;
    c->theta = 1.0f;
    c->lif.reset = SU_RESET_SUBTRACT;
    c->lif.surrogate = SU_SURROGATE_ATAN;
    c->lif.slope = 2.0f;
    c->learn_beta = SU_LEARN_NONE;
    c->learn_theta = SU_LEARN_NONE;
    c->bn_momentum = 0.1f;
    c->bn_eps = 1e-5f;
}

int su_model_config_check(const su_model_config *c, su_error *err) {
    if (c->kind != SU_MODEL_UNET && c->kind != SU_MODEL_SPIKING) return su_fail(err, "model: unknown kind %d", c->kind);
    if (c->in_channels < 1 || c->in_channels > 64) return su_fail(err, "model: in_channels %d out of range 1..64", c->in_channels);
    if (c->classes < 2 || c->classes > 255) return su_fail(err, "model: classes %d out of range 2..255", c->classes);
    if (c->base < 1 || c->base > 256) return su_fail(err, "model: base %d out of range 1..256", c->base);
    if (c->depth < 1 || c->depth > SU_MAX_DEPTH) return su_fail(err, "model: depth %d out of range 1..%d", c->depth, SU_MAX_DEPTH);
    if ((long)c->base << c->depth > 4096) return su_fail(err, "model: base %d at depth %d gives too many channels", c->base, c->depth);
    if (c->kind == SU_MODEL_SPIKING) {
        if (c->timesteps < 1 || c->timesteps > 256) return su_fail(err, "model: timesteps %d out of range 1..256", c->timesteps);
        if (!(c->theta > 0) || !isfinite(c->theta)) return su_fail(err, "model: threshold %g must be positive", c->theta);
        if (!isfinite(c->beta)) return su_fail(err, "model: beta must be finite");
        if (!(c->lif.slope > 0)) return su_fail(err, "model: surrogate slope %g must be positive", c->lif.slope);
        if ((unsigned)c->lif.reset > SU_RESET_NONE) return su_fail(err, "model: unknown reset %d", c->lif.reset);
        if ((unsigned)c->lif.surrogate > SU_SURROGATE_FAST_SIGMOID) return su_fail(err, "model: unknown surrogate %d", c->lif.surrogate);
    } else if (c->timesteps != 1) {
        return su_fail(err, "model: the 3D U-Net runs one step (timesteps %d)", c->timesteps);
    }
    if (!(c->bn_eps > 0) || !(c->bn_momentum >= 0 && c->bn_momentum <= 1)) return su_fail(err, "model: bad batch-norm settings");
    return 0;
}

/* ---- parameter layout ------------------------------------------------------------------------- */

/* Walks every tensor in a fixed order. Counting pass (m->block == NULL): sizes only. Assigning pass:
 * records the tensor and returns its pointers. */
typedef struct layout {
    su_model *m;
    size_t np, nb; /* floats so far in the parameter and buffer blocks */
} layout;

static float *add_tensor(layout *L, float **grad, int buffer, int trainable, int ndim, const int *shape,
                         const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static float *add_tensor(layout *L, float **grad, int buffer, int trainable, int ndim, const int *shape,
                         const char *fmt, ...) {
    long numel = 1;
    for (int i = 0; i < ndim; i++) numel *= shape[i];
    su_model *m = L->m;
    float *data = NULL;
    if (m->block) {
        su_tensor_info *t = &m->tensors[m->n_tensors++];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->name, sizeof t->name, fmt, ap);
        va_end(ap);
        t->ndim = ndim;
        for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
        t->numel = numel;
        if (buffer) {
            t->data = data = m->buffers + L->nb;
            t->grad = NULL;
            t->trainable = 0;
        } else {
            t->data = data = m->params + L->np;
            t->grad = m->grads + L->np;
            t->trainable = trainable;
            memset(m->trainable + L->np, trainable ? 1 : 0, (size_t)numel);
            if (grad) *grad = t->grad;
        }
    }
    if (buffer)
        L->nb += (size_t)numel;
    else
        L->np += (size_t)numel;
    return data;
}

static void layout_conv(layout *L, su_conv_params *p, su_conv_params *g, int cout, int cin, int k, int up,
                        int bias, const char *prefix) {
    int wshape[5] = {up ? cin : cout, up ? cout : cin, up ? 1 : k, up ? 2 : k, up ? 2 : k};
    int bshape[1] = {cout};
    p->w = add_tensor(L, &g->w, 0, 1, 5, wshape, "%s.weight", prefix);
    p->b = bias ? add_tensor(L, &g->b, 0, 1, 1, bshape, "%s.bias", prefix) : NULL;
}

static void layout_block(layout *L, su_block_params *p, su_block_params *g, su_bn_buffers run[2], int cin,
                         int c, const char *prefix) {
    const su_model_config *cfg = &L->m->cfg;
    char name[40];
    int cshape[1] = {c};
    for (int j = 0; j < 2; j++) {
        su_conv_params *cp = j ? &p->conv2 : &p->conv1, *cg = j ? &g->conv2 : &g->conv1;
        su_bn_params *bp = j ? &p->bn2 : &p->bn1, *bg = j ? &g->bn2 : &g->bn1;
        su_lif_params *lp = j ? &p->lif2 : &p->lif1, *lg = j ? &g->lif2 : &g->lif1;
        snprintf(name, sizeof name, "%s.conv%d", prefix, j + 1);
        /* no bias: the batch norm that follows subtracts any constant (and under Adam a bias whose
         * gradient is zero up to rounding would only drift on noise) */
        layout_conv(L, cp, cg, c, j ? c : cin, 3, 0, 0, name);
        bp->gamma = add_tensor(L, &bg->gamma, 0, 1, 1, cshape, "%s.bn%d.weight", prefix, j + 1);
        bp->beta = add_tensor(L, &bg->beta, 0, 1, 1, cshape, "%s.bn%d.bias", prefix, j + 1);
        run[j].running_mean = add_tensor(L, NULL, 1, 0, 1, cshape, "%s.bn%d.running_mean", prefix, j + 1);
        run[j].running_var = add_tensor(L, NULL, 1, 0, 1, cshape, "%s.bn%d.running_var", prefix, j + 1);
        if (cfg->kind == SU_MODEL_SPIKING) {
            int nb[1] = {cfg->learn_beta == SU_LEARN_CHANNEL ? c : 1};
            int nt[1] = {cfg->learn_theta == SU_LEARN_CHANNEL ? c : 1};
            lp->beta = add_tensor(L, &lg->beta, 0, cfg->learn_beta != SU_LEARN_NONE, 1, nb, "%s.lif%d.beta", prefix, j + 1);
            lp->theta = add_tensor(L, &lg->theta, 0, cfg->learn_theta != SU_LEARN_NONE, 1, nt, "%s.lif%d.threshold",
                                   prefix, j + 1);
        }
    }
}

static void layout_all(layout *L) {
    su_model *m = L->m;
    const su_model_config *c = &m->cfg;
    char name[16];
    for (int k = 0; k <= c->depth; k++) {
        snprintf(name, sizeof name, "enc%d", k);
        layout_block(L, &m->p.enc[k], &m->g.enc[k], m->enc_run[k], k ? channels(c, k - 1) : c->in_channels,
                     channels(c, k), name);
    }
    for (int k = c->depth - 1; k >= 0; k--) {
        snprintf(name, sizeof name, "up%d", k);
        layout_conv(L, &m->p.up[k], &m->g.up[k], channels(c, k), channels(c, k + 1), 0, 1, 1, name);
        snprintf(name, sizeof name, "dec%d", k);
        layout_block(L, &m->p.dec[k], &m->g.dec[k], m->dec_run[k], 2 * channels(c, k), channels(c, k), name);
    }
    layout_conv(L, &m->p.out, &m->g.out, c->classes, channels(c, 0), 1, 0, 1, "out");
}

/* PyTorch's default initialisation: weights and biases uniform in +-1/sqrt(fan_in) (Kaiming-uniform
 * with a = sqrt(5) reduces to that bound); fan_in = weight.size(1) * kernel volume, which for a
 * transposed convolution (weight [Cin][Cout][k]) is Cout * 4. Batch norm: gamma 1, beta 0, running
 * mean 0, running var 1. */
static void init_params(su_model *m, uint64_t seed) {
    su_rng rng;
    su_rng_seed(&rng, seed);
    for (int i = 0; i < m->n_tensors; i++) {
        su_tensor_info *t = &m->tensors[i];
        const char *leaf = strrchr(t->name, '.') + 1;
        int is_bn = strstr(t->name, ".bn") != NULL, is_lif = strstr(t->name, ".lif") != NULL;
        if (is_lif) {
            float v = strcmp(leaf, "beta") == 0 ? m->cfg.beta : m->cfg.theta;
            for (long j = 0; j < t->numel; j++) t->data[j] = v;
        } else if (is_bn) {
            float v = (!strcmp(leaf, "weight") || !strcmp(leaf, "running_var")) ? 1.0f : 0.0f;
            for (long j = 0; j < t->numel; j++) t->data[j] = v;
        } else if (!strcmp(leaf, "weight")) {
            long fan_in = (long)t->shape[1] * t->shape[2] * t->shape[3] * t->shape[4];
            double bound = 1.0 / sqrt((double)fan_in);
            for (long j = 0; j < t->numel; j++) t->data[j] = (float)((2 * su_rng_uniform(&rng) - 1) * bound);
            /* the bias that follows (if the layer has one) uses the same fan_in */
            su_tensor_info *b = i + 1 < m->n_tensors ? &m->tensors[i + 1] : NULL;
            size_t plen = (size_t)(leaf - t->name);
            if (b && !strncmp(b->name, t->name, plen) && !strcmp(b->name + plen, "bias")) {
                for (long j = 0; j < b->numel; j++) b->data[j] = (float)((2 * su_rng_uniform(&rng) - 1) * bound);
                i++;
            }
        }
    }
}

static void name_lifs(su_model *m);

int su_model_create(su_model **out, const su_model_config *cfg, uint64_t seed, su_error *err) {
    if (su_model_config_check(cfg, err)) return -1;
    su_model *m = calloc(1, sizeof *m);
    if (!m) return su_fail(err, "out of memory creating a model");
    m->cfg = *cfg;
    layout L = {m, 0, 0};
    layout_all(&L); /* counting pass */
    m->n_params = L.np;
    m->n_buffers = L.nb;
    m->block = calloc(4 * m->n_params + m->n_buffers, sizeof(float));
    m->trainable = calloc(m->n_params, 1);
    if (!m->block || !m->trainable) {
        su_model_destroy(m);
        return su_fail(err, "out of memory for %zu parameters", L.np);
    }
    m->params = m->block;
    m->grads = m->params + m->n_params;
    m->adam_m = m->grads + m->n_params;
    m->adam_v = m->adam_m + m->n_params;
    m->buffers = m->adam_v + m->n_params;
    L.np = L.nb = 0;
    layout_all(&L); /* assigning pass */
    init_params(m, seed);
    name_lifs(m);
    m->params_version = 1;
    *out = m;
    return 0;
}

static void free_plan(su_model *m);

void su_model_destroy(su_model *m) {
    if (!m) return;
    free_plan(m);
    su_engine_destroy(m->eng);
    free(m->block);
    free(m->trainable);
    free(m);
}

const su_model_config *su_model_get_config(const su_model *m) { return &m->cfg; }
size_t su_model_num_params(const su_model *m) { return m->n_params; }
float *su_model_params(su_model *m) { return m->params; }
float *su_model_grads(su_model *m) { return m->grads; }
float *su_model_adam_m(su_model *m) { return m->adam_m; }
float *su_model_adam_v(su_model *m) { return m->adam_v; }
const uint8_t *su_model_trainable_mask(const su_model *m) { return m->trainable; }
const su_params *su_model_named_params(const su_model *m) { return &m->p; }
const su_params *su_model_named_grads(const su_model *m) { return &m->g; }
int su_model_num_tensors(const su_model *m) { return m->n_tensors; }
const su_tensor_info *su_model_tensor(const su_model *m, int i) { return i >= 0 && i < m->n_tensors ? &m->tensors[i] : NULL; }
void su_model_params_changed(su_model *m) { m->params_version++; }
void su_model_zero_grad(su_model *m) { memset(m->grads, 0, sizeof(float) * m->n_params); }
int su_model_num_lif(const su_model *m) { return m->n_lif; }
const char *su_model_lif_name(const su_model *m, int i) { return m->lif_name[i]; }
double su_model_firing_rate(const su_model *m, int i) {
    return m->lif_neurons[i] ? (double)m->lif_spikes[i] / (double)m->lif_neurons[i] : 0.0;
}

long su_model_lif_spikes(const su_model *m, int i, float *out) {
    if (!m->planned || i < 0 || i >= m->n_lif) return -1;
    for (int k = 0; k <= m->cfg.depth; k++) {
        const block_acts *blocks[2] = {&m->enc[k], k < m->cfg.depth ? &m->dec[k] : NULL};
        for (int j = 0; j < 2 && blocks[j]; j++) {
            const block_acts *b = blocks[j];
            if (b->lif1 != i && b->lif2 != i) continue;
            const long n = (long)m->N * b->S * b->C;
            su_spikes_to_float(out, b->lif1 == i ? b->h1s : b->h2s, n);
            return n;
        }
    }
    return -1;
}

const su_tensor_info *su_model_find_tensor(const su_model *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

/* ---- the plan: activation arena and convolution kernels ------------------------------------------- */

/* A bump allocator over the arena. Counting pass when base == NULL. */
typedef struct arena {
    char *base;
    size_t off;
} arena;

static void *take(arena *A, size_t bytes) {
    size_t at = (A->off + 63) & ~(size_t)63;
    A->off = at + bytes;
    return A->base ? A->base + at : NULL;
}
static float *takef(arena *A, size_t n) { return take(A, n * sizeof(float)); }

static void take_norm(arena *A, norm_state *s, int C) {
    s->mean = takef(A, C);
    s->rstd = takef(A, C);
    s->var_unbiased = takef(A, C);
    s->scale = takef(A, C);
    s->shift = takef(A, C);
}

/* A block's own tensors: the two convolution outputs, the activations (floats or spikes), the batch-norm
 * state; and its views into the parameters. */
static void take_block(arena *A, block_acts *b, int N, int spk, su_block_params *p, su_block_params *g,
                       su_bn_buffers run[2]) {
    const size_t n = (size_t)N * b->S * b->C;
    b->a1 = takef(A, (size_t)b->n1 * b->S * b->C);
    b->a2 = takef(A, n);
    b->h1f = spk ? NULL : takef(A, n);
    b->h2f = spk ? NULL : takef(A, n);
    b->h1s = spk ? take(A, n) : NULL;
    b->h2s = spk ? take(A, n) : NULL;
    take_norm(A, &b->bn1, b->C);
    take_norm(A, &b->bn2, b->C);
    b->p = p, b->g = g;
    b->run1 = run[0], b->run2 = run[1];
}

/* Lays out every tensor for the model's current (B, D, H, W, training); the same walk sizes the arena
 * (counting pass) and assigns pointers (second pass). */
static size_t layout_acts(su_model *m, arena *A) {
    const su_model_config *c = &m->cfg;
    const int B = m->B, N = m->N, L = c->depth, spk = c->kind == SU_MODEL_SPIKING;
    const long S0 = (long)m->D * m->H * m->W;
    size_t gmax = 0, wide = 0;
    m->input = takef(A, (size_t)B * S0 * c->in_channels);
    for (int k = 0; k <= L; k++) {
        block_acts *b = &m->enc[k];
        b->Cin = k ? channels(c, k - 1) : c->in_channels;
        b->C = channels(c, k);
        b->D = m->D, b->H = m->H >> k, b->W = m->W >> k;
        b->S = (long)b->D * b->H * b->W;
        b->n1 = k == 0 ? B : N;
        const size_t n = (size_t)N * b->S * b->C;
        b->in_f = NULL, b->in_s = NULL, b->skip_f = NULL;
        if (k == 0) {
            b->in_f = m->input;
        } else if (spk) {
            b->in_s = m->pooled_s[k] = take(A, (size_t)N * b->S * b->Cin);
        } else {
            b->in_f = m->pooled_f[k] = takef(A, (size_t)N * b->S * b->Cin);
        }
        take_block(A, b, N, spk, &m->p.enc[k], &m->g.enc[k], m->enc_run[k]);
        if (k < L) m->pool_arg[k] = take(A, (size_t)N * (b->S / 4) * b->C);
        gmax = n > gmax ? n : gmax;
        if (spk) wide = n > wide ? n : wide; /* spikes widened for a dense kernel */
    }
    for (int k = L - 1; k >= 0; k--) {
        block_acts *b = &m->dec[k], *e = &m->enc[k];
        b->C = channels(c, k);
        b->Cin = 2 * b->C;
        b->D = e->D, b->H = e->H, b->W = e->W, b->S = e->S;
        b->n1 = N;
        const size_t n = (size_t)N * b->S * b->C;
        b->in_f = m->up_f[k] = takef(A, n); /* the upsampled path */
        b->in_s = spk ? e->h2s : NULL;      /* the skip */
        b->skip_f = spk ? NULL : e->h2f;
        take_block(A, b, N, spk, &m->p.dec[k], &m->g.dec[k], m->dec_run[k]);
    }
    if (spk) m->mean_spikes = takef(A, (size_t)B * S0 * channels(c, 0));
    m->widened = spk ? takef(A, wide) : NULL;
    m->logits = takef(A, (size_t)B * S0 * c->classes);
    m->probs = takef(A, (size_t)B * S0 * c->classes);
    m->scratch = take(A, sizeof(double) * 4 * 4096 * (size_t)su_max_threads());
    if (m->training) {
        m->dlogits = takef(A, (size_t)B * S0 * c->classes);
        m->G1 = takef(A, gmax);
        m->G2 = takef(A, gmax);
        for (int k = 0; k < L; k++) m->dskip[k] = takef(A, (size_t)N * m->enc[k].S * m->enc[k].C);
    } else {
        m->dlogits = m->G1 = m->G2 = NULL;
        for (int k = 0; k < L; k++) m->dskip[k] = NULL;
    }
    /* contiguous copies of the decoder's weight halves */
    for (int k = 0; k < L; k++) {
        size_t w = (size_t)channels(c, k) * channels(c, k) * 27;
        m->dec[k].c1.w_copy = takef(A, w);
        m->dec[k].c1b.w_copy = takef(A, w);
        m->dec[k].c1.dw_copy = m->training ? takef(A, w) : NULL;
        m->dec[k].c1b.dw_copy = m->training ? takef(A, w) : NULL;
    }
    return A->off;
}

static void name_lifs(su_model *m) {
    const su_model_config *c = &m->cfg;
    m->n_lif = 0;
    if (c->kind != SU_MODEL_SPIKING) return;
    for (int k = 0; k <= c->depth; k++)
        for (int j = 1; j <= 2; j++) snprintf(m->lif_name[m->n_lif++], 32, "enc%d.lif%d", k, j);
    for (int k = c->depth - 1; k >= 0; k--)
        for (int j = 1; j <= 2; j++) snprintf(m->lif_name[m->n_lif++], 32, "dec%d.lif%d", k, j);
}

static void op_destroy(conv_op *op) {
    su_conv_plan_destroy(op->plan);
    su_spikeconv_destroy(op->sc);
    op->plan = NULL;
    op->sc = NULL;
}

static void free_plan(su_model *m) {
    for (int k = 0; k <= SU_MAX_DEPTH; k++) {
        op_destroy(&m->enc[k].c1);
        op_destroy(&m->enc[k].c2);
    }
    for (int k = 0; k < SU_MAX_DEPTH; k++) {
        op_destroy(&m->dec[k].c1);
        op_destroy(&m->dec[k].c1b);
        op_destroy(&m->dec[k].c2);
        op_destroy(&m->up[k]);
    }
    op_destroy(&m->outc);
    free(m->arena);
    m->arena = NULL;
    m->arena_bytes = 0;
    m->planned = 0;
}

/* Creates the kernels of one convolution. w/dw: its weights in the parameter block; a slice when
 * slice_cin > 0 (input channels [slice_off, slice_off + Cin) of a tensor with slice_cin of them). */
static int op_create(su_model *m, conv_op *op, su_conv_kind kind, int N, int D, int H, int W, int Cin, int Cout,
                     int flags, int spikes, float *w, float *dw, int slice_off, int slice_cin, su_error *err) {
    op->N = N, op->S = D * H * W, op->Cin = Cin, op->Cout = Cout, op->spikes = spikes;
    op->w = w, op->dw = dw, op->slice_off = slice_off, op->slice_cin = slice_cin;
    if (m->training) flags |= SU_CONV_TRAIN;
    if (spikes && kind != SU_UPCONV &&
        su_spikeconv_create(&op->sc, kind == SU_CONV3 ? 3 : 1, N, D, H, W, Cin, Cout, err))
        return -1;
    return su_conv_plan_create(&op->plan, m->eng, kind, N, D, H, W, Cin, Cout, flags, err);
}

int su_model_plan(su_model *m, int B, int D, int H, int W, int training, su_error *err) {
    const su_model_config *c = &m->cfg;
    free_plan(m);
    const int f = 1 << c->depth, spk = c->kind == SU_MODEL_SPIKING;
    if (B < 1 || D < 1 || H < f || W < f || H % f || W % f)
        return su_fail(err, "model: input %dx%dx%dx%d does not fit depth %d (B, D >= 1; H and W multiples of %d)", B, D,
                       H, W, c->depth, f);
    if ((double)B * c->timesteps * D * H * W * c->base > 4e10)
        return su_fail(err, "model: input %dx%dx%dx%d is too large to plan", B, D, H, W);
    if (!m->eng && su_engine_create(&m->eng, err)) return -1;
    m->B = B, m->D = D, m->H = H, m->W = W, m->training = training;
    m->T = spk ? c->timesteps : 1;
    m->N = m->T * B;
    arena A = {NULL, 0};
    size_t bytes = layout_acts(m, &A);
    if (posix_memalign(&m->arena, 64, bytes)) {
        m->arena = NULL;
        return su_fail(err, "model: out of memory for activations (%.1f MB for input %dx%dx%dx%d)", bytes / 1e6, B, D, H, W);
    }
    m->arena_bytes = bytes;
    A.base = m->arena;
    A.off = 0;
    layout_acts(m, &A);
    const int N = m->N;
    int li = 0;
    for (int k = 0; k <= c->depth; k++) {
        block_acts *b = &m->enc[k];
        b->lif1 = li++;
        b->lif2 = li++;
        if (op_create(m, &b->c1, SU_CONV3, b->n1, b->D, b->H, b->W, b->Cin, b->C, k ? SU_CONV_NEED_DIN : 0,
                      spk && k > 0, b->p->conv1.w, b->g->conv1.w, 0, 0, err) ||
            op_create(m, &b->c2, SU_CONV3, N, b->D, b->H, b->W, b->C, b->C, SU_CONV_NEED_DIN, spk, b->p->conv2.w,
                      b->g->conv2.w, 0, 0, err))
            goto fail;
    }
    for (int k = c->depth - 1; k >= 0; k--) {
        block_acts *b = &m->dec[k], *lo = k + 1 == c->depth ? &m->enc[k + 1] : &m->dec[k + 1];
        b->lif1 = li++;
        b->lif2 = li++;
        /* the upsampled half writes the first conv's output, the skip half adds to it */
        if (op_create(m, &m->up[k], SU_UPCONV, N, lo->D, lo->H, lo->W, lo->C, b->C, SU_CONV_BIAS | SU_CONV_NEED_DIN,
                      spk, m->p.up[k].w, m->g.up[k].w, 0, 0, err) ||
            op_create(m, &b->c1b, SU_CONV3, N, b->D, b->H, b->W, b->C, b->C, SU_CONV_NEED_DIN, 0, b->p->conv1.w,
                      b->g->conv1.w, b->C, 2 * b->C, err) ||
            op_create(m, &b->c1, SU_CONV3, N, b->D, b->H, b->W, b->C, b->C, SU_CONV_NEED_DIN | SU_CONV_ACCUMULATE, spk,
                      b->p->conv1.w, b->g->conv1.w, 0, 2 * b->C, err) ||
            op_create(m, &b->c2, SU_CONV3, N, b->D, b->H, b->W, b->C, b->C, SU_CONV_NEED_DIN, spk, b->p->conv2.w,
                      b->g->conv2.w, 0, 0, err))
            goto fail;
    }
    if (op_create(m, &m->outc, SU_CONV1, B, D, H, W, channels(c, 0), c->classes, SU_CONV_BIAS | SU_CONV_NEED_DIN, 0,
                  m->p.out.w, m->g.out.w, 0, 0, err))
        goto fail;
    m->planned = 1;
    m->synced_version = 0;
    return 0;
fail:
    free_plan(m);
    return -1;
}

size_t su_model_plan_bytes(const su_model *m) {
    size_t total = m->arena_bytes;
    for (int k = 0; k <= m->cfg.depth; k++) total += su_conv_plan_bytes(m->enc[k].c1.plan) + su_conv_plan_bytes(m->enc[k].c2.plan);
    for (int k = 0; k < m->cfg.depth; k++)
        total += su_conv_plan_bytes(m->dec[k].c1.plan) + su_conv_plan_bytes(m->dec[k].c1b.plan) +
                 su_conv_plan_bytes(m->dec[k].c2.plan) + su_conv_plan_bytes(m->up[k].plan);
    return total + su_conv_plan_bytes(m->outc.plan) + su_engine_scratch_bytes(m->eng);
}

size_t su_model_estimate_bytes(const su_model_config *cfg, int B, int D, int H, int W, int training) {
    su_model m;
    memset(&m, 0, sizeof m);
    m.cfg = *cfg;
    m.B = B, m.D = D, m.H = H, m.W = W, m.training = training;
    m.T = cfg->kind == SU_MODEL_SPIKING ? cfg->timesteps : 1;
    m.N = m.T * B;
    arena A = {NULL, 0};
    return layout_acts(&m, &A);
}

/* ---- convolution ops ------------------------------------------------------------------------------ */

static int op_set_weights(conv_op *op, su_error *err) {
    const float *w = op->w;
    if (op->sc) {
        if (op->slice_cin)
            su_spikeconv_set_weights_slice(op->sc, op->w, op->slice_cin, op->slice_off);
        else
            su_spikeconv_set_weights(op->sc, op->w);
    }
    if (op->slice_cin) { /* gather the slice's input channels into a contiguous copy */
        for (int co = 0; co < op->Cout; co++)
            memcpy(op->w_copy + (size_t)co * op->Cin * 27, op->w + ((size_t)co * op->slice_cin + op->slice_off) * 27,
                   sizeof(float) * op->Cin * 27);
        w = op->w_copy;
    }
    return su_conv_set_weights(op->plan, w, err);
}

/* The op's input as floats: dense inputs as they are, spikes widened into the model's scratch. */
static const float *op_input(su_model *m, const conv_op *op, const float *in_f, const uint8_t *in_s) {
    if (!op->spikes) return in_f;
    su_spikes_to_float(m->widened, in_s, (long)op->N * op->S * op->Cin);
    return m->widened;
}

static int op_forward(su_model *m, conv_op *op, float *out, const float *in_f, const uint8_t *in_s,
                      const float *bias, int accumulate, su_error *err) {
    if (op->sc) { /* the spike mask stays in the plan for the weight gradient */
        su_spikeconv_load_u8(op->sc, in_s, op->Cin);
        su_spikeconv_forward(op->sc, out, bias, accumulate);
        return 0;
    }
    return su_conv_forward(op->plan, out, op_input(m, op, in_f, in_s), bias, err);
}

/* din (may be NULL) is written; the weight (and bias) gradient accumulates. */
static int op_backward(su_model *m, conv_op *op, float *din, float *dbias, const float *dout, const float *in_f,
                       const uint8_t *in_s, su_error *err) {
    if (op->sc) { /* the input gradient on oneDNN, the weight gradient from the saved spike mask */
        if (su_conv_backward(op->plan, din, NULL, NULL, dout, NULL, err)) return -1;
        if (op->slice_cin)
            su_spikeconv_backward_weights_slice(op->sc, op->dw, op->slice_cin, op->slice_off, dout);
        else
            su_spikeconv_backward_weights(op->sc, op->dw, dout);
        return 0;
    }
    const float *in = op_input(m, op, in_f, in_s);
    if (!op->slice_cin) return su_conv_backward(op->plan, din, op->dw, dbias, dout, in, err);
    const size_t n = (size_t)op->Cout * op->Cin * 27;
    memset(op->dw_copy, 0, sizeof(float) * n);
    if (su_conv_backward(op->plan, din, op->dw_copy, dbias, dout, in, err)) return -1;
    for (int co = 0; co < op->Cout; co++) {
        float *dst = op->dw + ((size_t)co * op->slice_cin + op->slice_off) * 27;
        const float *src = op->dw_copy + (size_t)co * op->Cin * 27;
        for (int i = 0; i < op->Cin * 27; i++) dst[i] += src[i];
    }
    return 0;
}

/* ---- forward ------------------------------------------------------------------------------------ */

/* Batch statistics (training) or running estimates (evaluation), folded into scale and shift. */
static void norm_forward(su_model *m, norm_state *s, const float *a, long NS, int C, const su_bn_params *p,
                         su_bn_buffers run, int batch_stats) {
    if (batch_stats) {
        su_bn_stats(s->mean, s->rstd, s->var_unbiased, a, NS, C, C, m->cfg.bn_eps, m->scratch);
        su_bn_update_running(run.running_mean, run.running_var, s->mean, s->var_unbiased, C, m->cfg.bn_momentum);
    } else {
        su_bn_eval_stats(s->mean, s->rstd, run.running_mean, run.running_var, C, m->cfg.bn_eps);
    }
    for (int c = 0; c < C; c++) {
        s->scale[c] = p->gamma[c] * s->rstd[c];
        s->shift[c] = p->beta[c] - s->mean[c] * s->scale[c];
    }
}

/* A LIF layer's beta (or theta) tensor has C entries when learnable per channel, else one. */
static int nparam_of(su_learn learn, int C) { return learn == SU_LEARN_CHANNEL ? C : 1; }

/* Arguments of a LIF call; when beta and theta differ in count, both are expanded per channel into bc/tc. */
static su_lif_args lif_args(const su_model *m, const block_acts *b, const norm_state *s, const su_lif_params *p,
                            int shared, float *bc, float *tc) {
    const int nb = nparam_of(m->cfg.learn_beta, b->C), nt = nparam_of(m->cfg.learn_theta, b->C);
    su_lif_args a = {m->T, (long)m->B * b->S, b->C, shared, s->scale, s->shift, p->beta, p->theta, nb};
    if (nb != nt) {
        for (int c = 0; c < b->C; c++) {
            bc[c] = p->beta[nb > 1 ? c : 0];
            tc[c] = p->theta[nt > 1 ? c : 0];
        }
        a.beta = bc, a.theta = tc, a.nparam = b->C;
    }
    return a;
}

/* The activation after a batch norm: ReLU, or a LIF layer over T steps. */
static void act_forward(su_model *m, block_acts *b, int which, const float *a, int n_in) {
    norm_state *s = which == 1 ? &b->bn1 : &b->bn2;
    if (m->cfg.kind == SU_MODEL_UNET) {
        su_bn_params *bp = which == 1 ? &b->p->bn1 : &b->p->bn2;
        su_bn_act_forward(which == 1 ? b->h1f : b->h2f, b->C, a, s->mean, s->rstd, bp->gamma, bp->beta,
                          (long)n_in * b->S, b->C, 1);
        return;
    }
    su_lif_params *lp = which == 1 ? &b->p->lif1 : &b->p->lif2;
    const int idx = which == 1 ? b->lif1 : b->lif2;
    float bc[b->C], tc[b->C];
    su_lif_args args = lif_args(m, b, s, lp, n_in != m->N, bc, tc);
    m->lif_spikes[idx] = su_lif_forward(which == 1 ? b->h1s : b->h2s, b->C, a, &args, &m->cfg.lif);
    m->lif_neurons[idx] = (long)m->N * b->S * b->C;
}

static int block_forward(su_model *m, block_acts *b, int is_dec, int batch_stats, su_error *err) {
    if (is_dec) { /* conv1 over [skip, upsampled] = conv1b(upsampled) + conv1(skip) */
        if (op_forward(m, &b->c1b, b->a1, b->in_f, NULL, NULL, 0, err) ||
            op_forward(m, &b->c1, b->a1, b->skip_f, b->in_s, NULL, 1, err))
            return -1;
    } else if (op_forward(m, &b->c1, b->a1, b->in_f, b->in_s, NULL, 0, err)) {
        return -1;
    }
    norm_forward(m, &b->bn1, b->a1, (long)b->n1 * b->S, b->C, &b->p->bn1, b->run1, batch_stats);
    act_forward(m, b, 1, b->a1, b->n1);
    if (op_forward(m, &b->c2, b->a2, b->h1f, b->h1s, NULL, 0, err)) return -1;
    norm_forward(m, &b->bn2, b->a2, (long)m->N * b->S, b->C, &b->p->bn2, b->run2, batch_stats);
    act_forward(m, b, 2, b->a2, m->N);
    return 0;
}

static int sync_weights(su_model *m, su_error *err) {
    if (m->synced_version == m->params_version) return 0;
    const int L = m->cfg.depth;
    for (int k = 0; k <= L; k++)
        if (op_set_weights(&m->enc[k].c1, err) || op_set_weights(&m->enc[k].c2, err)) return -1;
    for (int k = 0; k < L; k++)
        if (op_set_weights(&m->dec[k].c1, err) || op_set_weights(&m->dec[k].c1b, err) ||
            op_set_weights(&m->dec[k].c2, err) || op_set_weights(&m->up[k], err))
            return -1;
    if (op_set_weights(&m->outc, err)) return -1;
    m->synced_version = m->params_version;
    return 0;
}

int su_model_forward(su_model *m, const float *input, int batch_stats, const float **logits, su_error *err) {
    if (!m->planned) return su_fail(err, "model: forward before su_model_plan");
    const su_model_config *c = &m->cfg;
    const int L = c->depth, N = m->N, B = m->B, spk = c->kind == SU_MODEL_SPIKING;
    const long S0 = (long)m->D * m->H * m->W;
    if (sync_weights(m, err)) return -1;
    memcpy(m->input, input, sizeof(float) * B * S0 * c->in_channels);
    for (int k = 0; k <= L; k++) {
        block_acts *b = &m->enc[k];
        if (block_forward(m, b, 0, batch_stats, err)) return -1;
        if (k == L) break;
        if (spk)
            su_maxpool_forward_u8(m->pooled_s[k + 1], m->pool_arg[k], b->h2s, N, b->D, b->H, b->W, b->C);
        else
            su_maxpool_forward(m->pooled_f[k + 1], m->pool_arg[k], b->h2f, b->C, N, b->D, b->H, b->W, b->C);
    }
    const block_acts *lo = &m->enc[L];
    for (int k = L - 1; k >= 0; k--) {
        block_acts *b = &m->dec[k];
        if (op_forward(m, &m->up[k], m->up_f[k], lo->h2f, lo->h2s, m->p.up[k].b, 0, err)) return -1;
        if (block_forward(m, b, 1, batch_stats, err)) return -1;
        lo = b;
    }
    const float *x = m->dec[0].h2f;
    if (spk) {
        /* logits = mean_t conv(S_t) = conv(mean_t S_t) */
        const long n = (long)B * S0 * channels(c, 0);
        const float inv = 1.0f / m->T;
        const uint8_t *h = m->dec[0].h2s;
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) {
            int sum = 0;
            for (int t = 0; t < m->T; t++) sum += h[(long)t * n + i];
            m->mean_spikes[i] = (float)sum * inv;
        }
        x = m->mean_spikes;
    }
    if (op_forward(m, &m->outc, m->logits, x, NULL, m->p.out.b, 0, err)) return -1;
    m->last_batch_stats = batch_stats;
    if (logits) *logits = m->logits;
    return 0;
}

/* ---- backward ----------------------------------------------------------------------------------- */

/* Through the activation and batch norm: dh (dense, in place) becomes d(conv output). */
static void act_backward(su_model *m, block_acts *b, int which, float *dh, const float *a, int n_in) {
    norm_state *s = which == 1 ? &b->bn1 : &b->bn2;
    su_bn_params *bp = which == 1 ? &b->p->bn1 : &b->p->bn2, *bg = which == 1 ? &b->g->bn1 : &b->g->bn2;
    const long NS = (long)n_in * b->S;
    if (m->cfg.kind == SU_MODEL_UNET) {
        su_bn_act_backward(dh, bg->gamma, bg->beta, dh, b->C, which == 1 ? b->h1f : b->h2f, b->C, a, s->mean, s->rstd,
                           bp->gamma, NS, b->C, m->scratch);
        return;
    }
    const su_model_config *c = &m->cfg;
    su_lif_params *lp = which == 1 ? &b->p->lif1 : &b->p->lif2, *lg = which == 1 ? &b->g->lif1 : &b->g->lif2;
    float bc[b->C], tc[b->C], gb[b->C], gt[b->C];
    su_lif_args args = lif_args(m, b, s, lp, n_in != m->N, bc, tc);
    float *dbeta = c->learn_beta != SU_LEARN_NONE ? lg->beta : NULL;
    float *dtheta = c->learn_theta != SU_LEARN_NONE ? lg->theta : NULL;
    const int nb = nparam_of(c->learn_beta, b->C), nt = nparam_of(c->learn_theta, b->C);
    if (args.nparam == nb && nb == nt) {
        su_lif_backward(dh, dbeta, dtheta, dh, a, &args, &c->lif, m->scratch);
    } else { /* expanded per channel: fold the per-layer parameter's gradient back */
        for (int i = 0; i < b->C; i++) gb[i] = gt[i] = 0;
        su_lif_backward(dh, gb, gt, dh, a, &args, &c->lif, m->scratch);
        for (int i = 0; i < b->C; i++) {
            if (dbeta) dbeta[nb > 1 ? i : 0] += gb[i];
            if (dtheta) dtheta[nt > 1 ? i : 0] += gt[i];
        }
    }
    su_bn_act_backward(dh, bg->gamma, bg->beta, dh, b->C, NULL, 0, a, s->mean, s->rstd, bp->gamma, NS, b->C,
                       m->scratch);
}

/* dh2 (dense, consumed in place) -> parameter gradients, and d(block input) into din (may be NULL);
 * for a decoder block also d(skip) into dskip. other: a free buffer. */
static int block_backward(su_model *m, block_acts *b, int is_dec, float *dh2, float *other, float *din, float *dskip,
                          su_error *err) {
    act_backward(m, b, 2, dh2, b->a2, m->N);
    if (op_backward(m, &b->c2, other, NULL, dh2, b->h1f, b->h1s, err)) return -1;
    act_backward(m, b, 1, other, b->a1, b->n1);
    if (is_dec)
        return op_backward(m, &b->c1b, din, NULL, other, b->in_f, NULL, err) ||
                       op_backward(m, &b->c1, dskip, NULL, other, b->skip_f, b->in_s, err)
                   ? -1
                   : 0;
    return op_backward(m, &b->c1, din, NULL, other, b->in_f, b->in_s, err);
}

su_loss_value su_model_loss(su_model *m, const uint8_t *labels, su_loss_kind loss, const float *class_weight) {
    const long M = (long)m->B * m->D * m->H * m->W;
    return su_loss_forward_backward(NULL, m->probs, m->logits, labels, M, m->cfg.classes, loss, class_weight, m->scratch);
}

int su_model_backward(su_model *m, const uint8_t *labels, su_loss_kind loss, const float *class_weight,
                      su_loss_value *value, su_error *err) {
    if (!m->planned || !m->training) return su_fail(err, "model: backward needs a training plan");
    if (!m->last_batch_stats) return su_fail(err, "model: backward after an evaluation-mode forward");
    const su_model_config *c = &m->cfg;
    const int L = c->depth, B = m->B, spk = c->kind == SU_MODEL_SPIKING;
    const long S0 = (long)m->D * m->H * m->W, M = B * S0;
    su_loss_value v = su_loss_forward_backward(m->dlogits, m->probs, m->logits, labels, M, c->classes, loss,
                                               class_weight, m->scratch);
    if (value) *value = v;
    float *P = m->G1, *Q = m->G2; /* P: the gradient travelling down the graph; Q: a free buffer */
    /* output convolution; for the spiking net, d(mean spikes) spreads evenly over the T steps */
    if (spk) {
        if (op_backward(m, &m->outc, Q, m->g.out.b, m->dlogits, m->mean_spikes, NULL, err)) return -1;
        const long n = (long)B * S0 * channels(c, 0);
        const float inv = 1.0f / m->T;
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++)
            for (int t = 0; t < m->T; t++) P[(long)t * n + i] = Q[i] * inv;
    } else if (op_backward(m, &m->outc, P, m->g.out.b, m->dlogits, m->dec[0].h2f, NULL, err)) {
        return -1;
    }
    /* decoder, top level first: P holds d(h2) on entry, d(the level below's output) on exit */
    for (int k = 0; k < L; k++) {
        block_acts *b = &m->dec[k];
        if (block_backward(m, b, 1, P, Q, P, m->dskip[k], err)) return -1; /* P: d(upsampled path) */
        const block_acts *lo = k + 1 == L ? &m->enc[L] : &m->dec[k + 1];
        if (op_backward(m, &m->up[k], Q, m->g.up[k].b, P, lo->h2f, lo->h2s, err)) return -1;
        float *t = P;
        P = Q, Q = t;
    }
    /* bottleneck, then the encoder: each level's d(h2) = skip gradient + unpooled gradient */
    if (block_backward(m, &m->enc[L], 0, P, Q, P, NULL, err)) return -1;
    {
        block_acts *e = &m->enc[L - 1];
        su_maxpool_backward(m->dskip[L - 1], e->C, P, m->pool_arg[L - 1], m->N, e->D, e->H, e->W, e->C);
    }
    for (int k = L - 1; k >= 0; k--) {
        block_acts *e = &m->enc[k];
        if (block_backward(m, e, 0, m->dskip[k], P, k > 0 ? Q : NULL, NULL, err)) return -1;
        if (k > 0) {
            block_acts *up = &m->enc[k - 1];
            su_maxpool_backward(m->dskip[k - 1], up->C, Q, m->pool_arg[k - 1], m->N, up->D, up->H, up->W, up->C);
        }
    }
    return 0;
}

/* ---- the layer table ------------------------------------------------------------------------------ */

typedef struct table {
    su_layer_info *rows;
    int n, max;
    su_layer_info sink; /* rows past max are counted, not stored */
} table;

static su_layer_info *row(table *t, su_layer_kind kind, int steps, int C, int D, int H, int W, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
static su_layer_info *row(table *t, su_layer_kind kind, int steps, int C, int D, int H, int W, const char *fmt, ...) {
    su_layer_info *r = t->n < t->max ? &t->rows[t->n] : &t->sink;
    t->n++;
    memset(r, 0, sizeof *r);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->name, sizeof r->name, fmt, ap);
    va_end(ap);
    r->kind = kind, r->steps = steps, r->C = C, r->D = D, r->H = H, r->W = W;
    r->input_lif = r->second_lif = r->lif_index = -1;
    return r;
}

/* conv -> BN -> act, twice; returns the LIF index of the block's output (-1 for ReLU). */
static int table_block(table *t, const su_model_config *c, const char *prefix, int Cin, int C, int D, int H, int W,
                       int steps1, int in_lif, int skip_lif, int *lif) {
    const int spk = c->kind == SU_MODEL_SPIKING, T = spk ? c->timesteps : 1;
    const double S = (double)D * H * W;
    for (int j = 1; j <= 2; j++) {
        int steps = j == 1 ? steps1 : T, cin = j == 1 ? Cin : C;
        su_layer_info *r = row(t, SU_LAYER_CONV, steps, C, D, H, W, "%s.conv%d", prefix, j);
        r->params = (long)C * cin * 27;
        r->macs = S * C * cin * 27 * steps;
        r->input_lif = j == 1 ? in_lif : (spk ? *lif - 1 : -1);
        r->second_lif = j == 1 ? skip_lif : -1;
        r->spike_input = !spk ? 0 : (j == 1 && skip_lif >= 0) ? 2 : (r->input_lif >= 0);
        r = row(t, SU_LAYER_BN, steps, C, D, H, W, "%s.bn%d", prefix, j);
        r->params = 2L * C;
        r->macs = S * C * steps;
        r = row(t, spk ? SU_LAYER_LIF : SU_LAYER_RELU, T, C, D, H, W, spk ? "%s.lif%d" : "%s.relu%d", prefix, j);
        if (spk) {
            r->params = (c->learn_beta == SU_LEARN_CHANNEL ? C : 1) + (c->learn_theta == SU_LEARN_CHANNEL ? C : 1);
            r->lif_index = (*lif)++;
        }
    }
    return spk ? *lif - 1 : -1;
}

int su_model_layers(const su_model_config *c, int D, int H, int W, su_layer_info *rows, int max) {
    const int spk = c->kind == SU_MODEL_SPIKING, T = spk ? c->timesteps : 1;
    table t;
    t.rows = rows, t.n = 0, t.max = max;
    int lif = 0, out_lif = -1, skip_lif[SU_MAX_DEPTH];
    char prefix[16];
    for (int k = 0; k <= c->depth; k++) {
        int C = channels(c, k), Cin = k ? channels(c, k - 1) : c->in_channels, h = H >> k, w = W >> k;
        snprintf(prefix, sizeof prefix, "enc%d", k);
        /* the first convolution sees the same input at every step: it runs once */
        out_lif = table_block(&t, c, prefix, Cin, C, D, h, w, k == 0 ? 1 : T, k ? out_lif : -1, -1, &lif);
        if (k < c->depth) {
            skip_lif[k] = out_lif;
            su_layer_info *r = row(&t, SU_LAYER_POOL, T, C, D, h / 2, w / 2, "pool%d", k);
            r->input_lif = out_lif;
            r->spike_input = spk;
        }
    }
    for (int k = c->depth - 1; k >= 0; k--) {
        int C = channels(c, k), h = H >> k, w = W >> k;
        su_layer_info *r = row(&t, SU_LAYER_UPCONV, T, C, D, h, w, "up%d", k);
        r->params = (long)2 * C * C * 4 + C;
        r->macs = (double)D * h * w * C * 2 * C * T; /* each output voxel: one input voxel x 2C channels */
        r->input_lif = out_lif;
        r->spike_input = spk;
        row(&t, SU_LAYER_CONCAT, T, 2 * C, D, h, w, "cat%d", k);
        snprintf(prefix, sizeof prefix, "dec%d", k);
        /* its first conv reads [skip spikes, upsampled real values]: half of its input is spikes */
        out_lif = table_block(&t, c, prefix, 2 * C, C, D, h, w, T, -1, spk ? skip_lif[k] : -1, &lif);
    }
    if (spk) row(&t, SU_LAYER_MEAN, 1, channels(c, 0), D, H, W, "mean_t");
    /* the output conv reads the mean spike count over T, a real value, so it costs MACs */
    su_layer_info *r = row(&t, SU_LAYER_CONV, 1, c->classes, D, H, W, "out");
    r->params = (long)c->classes * channels(c, 0) + c->classes;
    r->macs = (double)D * H * W * c->classes * channels(c, 0);
    return t.n;
}
