/* Benchmark helpers: timing, the FMA peak probe, resident memory, FLOP counts, model and layer timing.
 * Only the engine's public API is used, so the harness measures whatever the engine does inside. */
#include "spikeunet/bench.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "spikeunet/lif.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SU_BENCH_X86 1
#endif

double su_bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void su_bench_summarize(su_bench_stats *s, const double *x, int n) {
    memset(s, 0, sizeof *s);
    if (n < 1) return;
    double *v = malloc(sizeof(double) * (size_t)n);
    if (!v) return;
    memcpy(v, x, sizeof(double) * (size_t)n);
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    double sum = 0;
    for (int i = 0; i < n; i++) sum += v[i];
    s->n = n;
    s->min = v[0];
    s->max = v[n - 1];
    s->mean = sum / n;
    s->median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    free(v);
}

/* ---- peak FP32 FLOP/s ---------------------------------------------------------------------------- */

/* Each function runs `iters` iterations of A independent FMA chains and returns a value depending on
 * all of them (so nothing is optimised away). x <- x * m + c with m just below 1 stays finite. */
#ifdef SU_BENCH_X86
enum { AVX512_ACC = 16, AVX2_ACC = 12 };

#define FMA16(op)                                                                                            \
    op(0) op(1) op(2) op(3) op(4) op(5) op(6) op(7) op(8) op(9) op(10) op(11) op(12) op(13) op(14) op(15)
#define FMA12(op) op(0) op(1) op(2) op(3) op(4) op(5) op(6) op(7) op(8) op(9) op(10) op(11)

__attribute__((target("avx512f"))) static double fma_avx512(long iters) {
    const __m512 m = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-7f);
#define DECL(i) __m512 x##i = _mm512_set1_ps(1.0f + 0.01f * (i));
#define STEP(i) x##i = _mm512_fmadd_ps(x##i, m, c);
#define SUM(i) s = _mm512_add_ps(s, x##i);
    FMA16(DECL)
    for (long it = 0; it < iters; it++) {
        FMA16(STEP)
    }
    __m512 s = _mm512_setzero_ps();
    FMA16(SUM)
    float out[16];
    _mm512_storeu_ps(out, s);
#undef DECL
#undef STEP
#undef SUM
    double r = 0;
    for (int i = 0; i < 16; i++) r += out[i];
    return r;
}

__attribute__((target("avx2,fma"))) static double fma_avx2(long iters) {
    const __m256 m = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
#define DECL(i) __m256 x##i = _mm256_set1_ps(1.0f + 0.01f * (i));
#define STEP(i) x##i = _mm256_fmadd_ps(x##i, m, c);
#define SUM(i) s = _mm256_add_ps(s, x##i);
    FMA12(DECL)
    for (long it = 0; it < iters; it++) {
        FMA12(STEP)
    }
    __m256 s = _mm256_setzero_ps();
    FMA12(SUM)
    float out[8];
    _mm256_storeu_ps(out, s);
#undef DECL
#undef STEP
#undef SUM
    double r = 0;
    for (int i = 0; i < 8; i++) r += out[i];
    return r;
}
#endif

enum { SCALAR_ACC = 16 };

static double fma_scalar(long iters) {
    float x[SCALAR_ACC];
    for (int i = 0; i < SCALAR_ACC; i++) x[i] = 1.0f + 0.01f * i;
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < SCALAR_ACC; i++) x[i] = x[i] * 0.9999999f + 1e-7f;
    double r = 0;
    for (int i = 0; i < SCALAR_ACC; i++) r += x[i];
    return r;
}

typedef double (*fma_fn)(long);

/* Runs fn(iters) on `threads` threads at once; returns the wall time, adds the results into *sink. */
static double run_fma(fma_fn fn, long iters, int threads, double *sink) {
    double total = 0;
    double t0 = su_bench_now();
#pragma omp parallel num_threads(threads) reduction(+ : total)
    total += fn(iters);
    double t = su_bench_now() - t0;
    *sink += total;
    return t;
}

int su_bench_peak_flops(su_bench_peak *p, int threads, double seconds, su_error *err) {
    memset(p, 0, sizeof *p);
    if (threads < 1) return su_fail(err, "bench: peak probe needs threads >= 1, got %d", threads);
    if (!(seconds > 0) || seconds > 60) return su_fail(err, "bench: peak probe time %g s is out of range (0, 60]", seconds);
    fma_fn fn = fma_scalar;
    double flops_per_iter = 2.0 * SCALAR_ACC;
    p->isa = "scalar";
#ifdef SU_BENCH_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        fn = fma_avx512, flops_per_iter = 2.0 * 16 * AVX512_ACC, p->isa = "avx512f";
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        fn = fma_avx2, flops_per_iter = 2.0 * 8 * AVX2_ACC, p->isa = "avx2+fma";
    }
#endif
    double sink = 0;
    /* calibrate on this thread alone (no thread start-up or scheduling in the figure): grow the count
     * until a run takes >= 20 ms */
    long iters = 1000;
    double t0 = su_bench_now();
    sink += fn(iters);
    double t = su_bench_now() - t0;
    while (t < 0.02 && iters < (1L << 40)) {
        iters *= 2;
        t0 = su_bench_now();
        sink += fn(iters);
        t = su_bench_now() - t0;
    }
    /* then `seconds` in four parallel parts; the fastest part is the peak (other processes on the
     * machine only ever slow a part down) */
    long target = (long)((double)iters * seconds / 4 / t);
    if (target < iters) target = iters;
    double best = 0;
    p->seconds = 0;
    for (int part = 0; part < 4; part++) {
        t = run_fma(fn, target, threads, &sink);
        if (!(sink == sink) || t <= 0) return su_fail(err, "bench: peak probe gave no usable timing");
        p->seconds += t;
        double g = flops_per_iter * (double)target * threads / t * 1e-9;
        best = g > best ? g : best;
    }
    p->threads = threads;
    p->gflops = best;
    return 0;
}

/* ---- memory -------------------------------------------------------------------------------------- */

double su_bench_peak_rss_mb(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) return -1;
    return (double)ru.ru_maxrss * 1024.0 / 1e6; /* Linux: kilobytes */
}

double su_bench_current_rss_mb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    long size = 0, resident = 0;
    int ok = fscanf(f, "%ld %ld", &size, &resident) == 2;
    fclose(f);
    return ok ? (double)resident * (double)sysconf(_SC_PAGESIZE) / 1e6 : -1;
}

/* ---- FLOPs --------------------------------------------------------------------------------------- */

enum { MAX_ROWS = 16 * SU_MAX_DEPTH + 16 };

int su_bench_count_flops(su_bench_flops *f, const su_model_config *cfg, int B, int D, int H, int W, su_error *err) {
    memset(f, 0, sizeof *f);
    if (su_model_config_check(cfg, err)) return -1;
    if (B < 1 || D < 1 || H < 1 || W < 1) return su_fail(err, "bench: shape %dx%dx%dx%d must be positive", B, D, H, W);
    su_layer_info rows[MAX_ROWS];
    int n = su_model_layers(cfg, D, H, W, rows, MAX_ROWS);
    if (n > MAX_ROWS) return su_fail(err, "bench: the layer table has %d rows, more than %d", n, MAX_ROWS);
    int first = 1;
    for (int i = 0; i < n; i++) {
        if (rows[i].kind != SU_LAYER_CONV && rows[i].kind != SU_LAYER_UPCONV) continue;
        f->conv_macs += rows[i].macs * B;
        if (first) f->first_macs = rows[i].macs * B, first = 0;
    }
    f->infer = 2 * f->conv_macs;
    f->train = 2 * (3 * f->conv_macs - f->first_macs);
    return 0;
}

/* ---- the model ----------------------------------------------------------------------------------- */

int su_bench_infer(su_model *m, const float *input, int B, int D, int H, int W, int warmup, int runs,
                   double *times, su_error *err) {
    if (warmup < 0 || runs < 1) return su_fail(err, "bench: need warmup >= 0 and runs >= 1 (got %d, %d)", warmup, runs);
    if (su_model_plan(m, B, D, H, W, 0, err)) return -1;
    for (int i = 0; i < warmup + runs; i++) {
        double t0 = su_bench_now();
        if (su_model_forward(m, input, 0, NULL, err)) return -1;
        if (i >= warmup) times[i - warmup] = su_bench_now() - t0;
    }
    return 0;
}

int su_bench_train(su_model *m, const float *input, const uint8_t *labels, int B, int D, int H, int W, int warmup,
                   int runs, const su_adam_config *adam, double *times, su_error *err) {
    if (warmup < 0 || runs < 1) return su_fail(err, "bench: need warmup >= 0 and runs >= 1 (got %d, %d)", warmup, runs);
    if (su_model_plan(m, B, D, H, W, 1, err)) return -1;
    const size_t n = su_model_num_params(m);
    for (int i = 0; i < warmup + runs; i++) {
        double t0 = su_bench_now();
        su_loss_value v;
        if (su_model_forward(m, input, 1, NULL, err)) return -1;
        su_model_zero_grad(m);
        if (su_model_backward(m, labels, SU_LOSS_CE_DICE, NULL, &v, err)) return -1;
        su_adam_step(su_model_params(m), su_model_grads(m), su_model_adam_m(m), su_model_adam_v(m),
                     su_model_trainable_mask(m), n, i + 1, adam);
        su_model_params_changed(m);
        if (i >= warmup) times[i - warmup] = su_bench_now() - t0;
        if (!(v.total == v.total)) return su_fail(err, "bench: training step %d gave a NaN loss", i + 1);
    }
    return 0;
}

double su_bench_mean_firing_rate(const su_model *m) {
    const su_model_config *cfg = su_model_get_config(m);
    const int nl = su_model_num_lif(m);
    if (cfg->kind != SU_MODEL_SPIKING || nl < 1) return -1;
    /* weights: neurons per step of each LIF layer; any shape gives the same proportions */
    su_layer_info rows[MAX_ROWS];
    int n = su_model_layers(cfg, 16, 128, 128, rows, MAX_ROWS);
    double num = 0, den = 0;
    for (int i = 0; i < n && i < MAX_ROWS; i++) {
        if (rows[i].kind != SU_LAYER_LIF || rows[i].lif_index < 0 || rows[i].lif_index >= nl) continue;
        double w = (double)rows[i].C * rows[i].D * rows[i].H * rows[i].W;
        num += w * su_model_firing_rate(m, rows[i].lif_index);
        den += w;
    }
    return den > 0 ? num / den : -1;
}

/* ---- layers in isolation ------------------------------------------------------------------------- */

/* Deterministic pseudo-random fill: uniform [-1, 1), or 0/1 spikes with probability `rate` when rate > 0. */
static void fill(float *x, size_t n, uint64_t seed, double rate) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        uint64_t z = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        double u = (double)(z >> 11) * 0x1.0p-53;
        x[i] = rate > 0 ? (float)(u < rate) : (float)(2 * u - 1);
    }
}

static float *alloc_floats(size_t n) {
    void *p = NULL;
    if (posix_memalign(&p, 64, (n ? n : 1) * sizeof(float))) return NULL;
    return p;
}

static double median_of(double *t, int n) {
    su_bench_stats s;
    su_bench_summarize(&s, t, n);
    return s.median;
}

/* The buffers of one layer's isolated timing. */
typedef struct layer_bufs {
    float *in, *out, *dout, *din, *w, *dw, *bias, *dbias, *h;
    float *mean, *rstd, *var, *scale, *shift, *gamma, *beta, *dgamma, *dbeta, *run_mean, *run_var;
    double *scratch;
} layer_bufs;

static void free_bufs(layer_bufs *b) {
    float **f[] = {&b->in, &b->out, &b->dout, &b->din, &b->w, &b->dw, &b->bias, &b->dbias, &b->h, &b->mean,
                   &b->rstd, &b->var, &b->scale, &b->shift, &b->gamma, &b->beta, &b->dgamma, &b->dbeta,
                   &b->run_mean, &b->run_var};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        free(*f[i]);
        *f[i] = NULL;
    }
    free(b->scratch);
    b->scratch = NULL;
}

/* The normalisation + activation after a 3x3x3 convolution, as the model runs it in training. */
static void act_forward(const su_model_config *cfg, su_bench_layer *L, layer_bufs *b, int T, int B) {
    const long S = (long)L->D * L->H * L->W, NS = (long)L->N * S;
    const int C = L->Cout;
    su_bn_stats(b->mean, b->rstd, b->var, b->out, NS, C, C, cfg->bn_eps, b->scratch);
    su_bn_update_running(b->run_mean, b->run_var, b->mean, b->var, C, cfg->bn_momentum);
    if (cfg->kind == SU_MODEL_UNET) {
        su_bn_act_forward(b->h, C, b->out, b->mean, b->rstd, b->gamma, b->beta, NS, C, 1);
        return;
    }
    for (int c = 0; c < C; c++) {
        b->scale[c] = b->gamma[c] * b->rstd[c];
        b->shift[c] = b->beta[c] - b->mean[c] * b->scale[c];
    }
    su_lif_args a = {T, (long)B * S, C, L->N != T * B, b->scale, b->shift, &cfg->beta, &cfg->theta, 1};
    su_lif_forward((uint8_t *)b->h, C, b->out, &a, &cfg->lif); /* spikes are bytes: the float buffer holds them */
}

static void act_backward(const su_model_config *cfg, su_bench_layer *L, layer_bufs *b, int T, int B) {
    const long S = (long)L->D * L->H * L->W, NS = (long)L->N * S;
    const int C = L->Cout;
    /* the incoming gradient is d(activation output), (T*B, S, C); dout is overwritten in place */
    if (cfg->kind == SU_MODEL_UNET) {
        su_bn_act_backward(b->dout, b->dgamma, b->dbeta, b->dout, C, b->h, C, b->out, b->mean, b->rstd, b->gamma, NS,
                           C, b->scratch);
        return;
    }
    su_lif_args a = {T, (long)B * S, C, L->N != T * B, b->scale, b->shift, &cfg->beta, &cfg->theta, 1};
    su_lif_backward(b->dout, NULL, NULL, b->dout, b->out, &a, &cfg->lif, b->scratch);
    su_bn_act_backward(b->dout, b->dgamma, b->dbeta, b->dout, C, NULL, 0, b->out, b->mean, b->rstd, b->gamma, NS, C,
                       b->scratch);
}

static int time_layer(su_engine *eng, const su_model_config *cfg, su_bench_layer *L, int spike_in, int T, int B,
                      int warmup, int runs, su_error *err) {
    const long Sin = L->kind == SU_UPCONV ? (long)L->D * (L->H / 2) * (L->W / 2) : (long)L->D * L->H * L->W;
    const long Sout = (long)L->D * L->H * L->W;
    const size_t nin = (size_t)L->N * Sin * L->Cin, nout = (size_t)L->N * Sout * L->Cout;
    /* the activation's gradient buffer is (T*B, S, C) even when the convolution ran once (shared input) */
    const size_t nact = (size_t)T * B * Sout * L->Cout;
    const size_t nw = (size_t)L->Cin * L->Cout * (L->kind == SU_CONV3 ? 27 : L->kind == SU_UPCONV ? 4 : 1);
    const int has_bias = L->kind != SU_CONV3, act = L->kind == SU_CONV3, C = L->Cout;
    layer_bufs b;
    memset(&b, 0, sizeof b);
    su_conv_plan *plan = NULL;
    double *t = malloc(sizeof(double) * (size_t)(runs > 0 ? runs : 1) * 4);
    int rc = -1;
    b.in = alloc_floats(nin), b.out = alloc_floats(nout), b.dout = alloc_floats(nact > nout ? nact : nout);
    b.din = L->need_din ? alloc_floats(nin) : NULL;
    b.w = alloc_floats(nw), b.dw = alloc_floats(nw), b.bias = alloc_floats(C), b.dbias = alloc_floats(C);
    b.h = act ? alloc_floats(nact) : NULL;
    float **pc[] = {&b.mean, &b.rstd, &b.var, &b.scale, &b.shift, &b.gamma, &b.beta, &b.dgamma, &b.dbeta,
                    &b.run_mean, &b.run_var};
    int ok = t && b.in && b.out && b.dout && (b.din || !L->need_din) && b.w && b.dw && b.bias && b.dbias &&
             (b.h || !act);
    for (size_t i = 0; i < sizeof pc / sizeof pc[0]; i++) {
        *pc[i] = alloc_floats((size_t)C);
        ok = ok && *pc[i];
    }
    b.scratch = malloc(sizeof(double) * 4 * 4096 * (size_t)su_max_threads());
    if (!ok || !b.scratch) {
        su_fail(err, "bench: out of memory timing layer %s (%.0f MB)", L->name,
                4e-6 * (double)(2 * nin + 3 * nout + nact));
        goto done;
    }
    fill(b.in, nin, 1, spike_in ? 0.1 : 0);
    fill(b.dout, nact > nout ? nact : nout, 2, 0);
    fill(b.w, nw, 3, 0);
    for (size_t i = 0; i < nw; i++) b.w[i] *= 0.1f;
    for (int c = 0; c < C; c++) {
        b.bias[c] = 0, b.dbias[c] = 0, b.gamma[c] = 1, b.beta[c] = 0, b.dgamma[c] = 0, b.dbeta[c] = 0;
        b.run_mean[c] = 0, b.run_var[c] = 1;
    }
    memset(b.dw, 0, nw * sizeof(float));
    if (su_conv_plan_create(&plan, eng, L->kind, L->N, L->D, L->kind == SU_UPCONV ? L->H / 2 : L->H,
                            L->kind == SU_UPCONV ? L->W / 2 : L->W, L->Cin, L->Cout,
                            (has_bias ? SU_CONV_BIAS : 0) | SU_CONV_TRAIN | (L->need_din ? SU_CONV_NEED_DIN : 0), err) ||
        su_conv_set_weights(plan, b.w, err)) {
        su_fail_context(err, "bench: layer %s", L->name);
        goto done;
    }
    double *tf = t, *tb = t + runs, *taf = t + 2 * runs, *tab = t + 3 * runs;
    for (int i = 0; i < warmup + runs; i++) {
        double t0 = su_bench_now();
        if (su_conv_forward(plan, b.out, b.in, has_bias ? b.bias : NULL, err)) goto done;
        double t1 = su_bench_now();
        if (act) act_forward(cfg, L, &b, T, B);
        double t2 = su_bench_now();
        if (act) act_backward(cfg, L, &b, T, B);
        double t3 = su_bench_now();
        if (su_conv_backward(plan, b.din, b.dw, has_bias ? b.dbias : NULL, b.dout, b.in, err)) goto done;
        double t4 = su_bench_now();
        if (i >= warmup) {
            int j = i - warmup;
            tf[j] = t1 - t0, taf[j] = t2 - t1, tab[j] = t3 - t2, tb[j] = t4 - t3;
        }
        /* the backward consumed dout in place: refill so every run sees the same kind of values */
        if (act) fill(b.dout, nact, 2 + (uint64_t)i, 0);
    }
    L->conv_fwd_s = median_of(tf, runs);
    L->conv_bwd_s = median_of(tb, runs);
    L->act_fwd_s = act ? median_of(taf, runs) : 0;
    L->act_bwd_s = act ? median_of(tab, runs) : 0;
    rc = 0;
done:
    su_conv_plan_destroy(plan);
    free_bufs(&b);
    free(t);
    return rc;
}

int su_bench_layers(const su_model_config *cfg, int B, int D, int H, int W, int warmup, int runs,
                    su_bench_layer *out, int max, int *n_out, su_error *err) {
    *n_out = 0;
    if (su_model_config_check(cfg, err)) return -1;
    if (warmup < 0 || runs < 1) return su_fail(err, "bench: need warmup >= 0 and runs >= 1 (got %d, %d)", warmup, runs);
    su_layer_info rows[MAX_ROWS];
    int nr = su_model_layers(cfg, D, H, W, rows, MAX_ROWS);
    if (nr > MAX_ROWS) return su_fail(err, "bench: the layer table has %d rows, more than %d", nr, MAX_ROWS);
    const int T = cfg->kind == SU_MODEL_SPIKING ? cfg->timesteps : 1;
    su_engine *eng = NULL;
    if (su_engine_create(&eng, err)) return -1;
    int n = 0, first = 1;
    for (int i = 0; i < nr; i++) {
        const su_layer_info *r = &rows[i];
        if (r->kind != SU_LAYER_CONV && r->kind != SU_LAYER_UPCONV) continue;
        su_bench_layer L;
        memset(&L, 0, sizeof L);
        memcpy(L.name, r->name, sizeof L.name);
        L.name[sizeof L.name - 1] = 0;
        L.N = r->steps * B;
        L.D = r->D, L.H = r->H, L.W = r->W, L.Cout = r->C;
        if (r->kind == SU_LAYER_UPCONV) {
            L.kind = SU_UPCONV;
            L.Cin = (int)((r->params - r->C) / (4L * r->C));
        } else if (r->params % (27L * r->C) == 0 && strcmp(r->name, "out") != 0) {
            L.kind = SU_CONV3;
            L.Cin = (int)(r->params / (27L * r->C));
        } else {
            L.kind = SU_CONV1;
            L.Cin = (int)((r->params - r->C) / r->C);
        }
        L.need_din = !first;
        first = 0;
        L.real_frac = 1;
        if (L.kind == SU_CONV3) { /* taps on the zero padding: (3n - 2) / 3n of the taps per axis are real */
            const int dims[3] = {L.D, L.H, L.W};
            for (int d = 0; d < 3; d++) L.real_frac *= (3.0 * dims[d] - 2) / (3.0 * dims[d]);
        }
        L.flops_fwd = 2 * r->macs * B;
        L.flops_bwd = 2 * r->macs * B * (L.need_din ? 2 : 1);
        if (n < max) {
            if (time_layer(eng, cfg, &L, r->spike_input != 0, T, B, warmup, runs, err)) {
                su_engine_destroy(eng);
                return -1;
            }
            out[n] = L;
        }
        n++;
    }
    su_engine_destroy(eng);
    *n_out = n < max ? n : max;
    return 0;
}

double su_bench_adam(size_t n, int runs) {
    float *p = alloc_floats(n), *g = alloc_floats(n), *m = alloc_floats(n), *v = alloc_floats(n);
    double med = -1;
    double *t = malloc(sizeof(double) * (size_t)(runs > 0 ? runs : 1));
    if (p && g && m && v && t && runs > 0) {
        fill(p, n, 5, 0), fill(g, n, 6, 0);
        memset(m, 0, n * sizeof(float)), memset(v, 0, n * sizeof(float));
        su_adam_config c;
        su_adam_config_default(&c);
        for (int i = 0; i < runs + 1; i++) {
            double t0 = su_bench_now();
            su_adam_step(p, g, m, v, NULL, n, i + 1, &c);
            if (i) t[i - 1] = su_bench_now() - t0;
        }
        med = median_of(t, runs);
    }
    free(p), free(g), free(m), free(v), free(t);
    return med;
}

/* ---- JSON ---------------------------------------------------------------------------------------- */

static void add_num_or_null(cJSON *o, const char *key, double v, int valid) {
    if (valid && isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_str_or_null(cJSON *o, const char *key, const char *s) {
    if (s)
        cJSON_AddStringToObject(o, key, s);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_stats(cJSON *o, const char *what, const su_bench_stats *s, const double *times, double flops,
                      double peak) {
    char key[32];
    const int ok = s->n > 0 && s->median > 0;
    snprintf(key, sizeof key, "%s_s", what);
    add_num_or_null(o, key, s->median, ok);
    snprintf(key, sizeof key, "%s_min_s", what);
    add_num_or_null(o, key, s->min, ok);
    snprintf(key, sizeof key, "%s_max_s", what);
    add_num_or_null(o, key, s->max, ok);
    snprintf(key, sizeof key, "%s_times", what);
    if (ok && times)
        cJSON_AddItemToObject(o, key, cJSON_CreateDoubleArray(times, s->n));
    else
        cJSON_AddNullToObject(o, key);
    snprintf(key, sizeof key, "%s_flops", what);
    cJSON_AddNumberToObject(o, key, flops);
    snprintf(key, sizeof key, "%s_gflops", what);
    add_num_or_null(o, key, ok ? flops / s->median * 1e-9 : 0, ok);
    snprintf(key, sizeof key, "%s_peak_pct", what);
    add_num_or_null(o, key, ok && peak > 0 ? 100.0 * flops / s->median * 1e-9 / peak : 0, ok && peak > 0);
}

static const char *conv_kind_name(su_conv_kind k) {
    return k == SU_CONV3 ? "conv3" : k == SU_CONV1 ? "conv1" : "upconv";
}

int su_bench_json(char **json, const su_bench_result *r, su_error *err) {
    *json = NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o) return su_fail(err, "bench: out of memory building JSON");
    add_str_or_null(o, "model", r->model);
    cJSON_AddNumberToObject(o, "timesteps", r->timesteps);
    const int shape[4] = {r->B, r->D, r->H, r->W};
    cJSON_AddItemToObject(o, "shape", cJSON_CreateIntArray(shape, 4));
    cJSON_AddNumberToObject(o, "base", r->base);
    cJSON_AddNumberToObject(o, "depth", r->depth);
    cJSON_AddNumberToObject(o, "threads", r->threads);
    cJSON_AddNumberToObject(o, "warmup", r->warmup);
    cJSON_AddNumberToObject(o, "runs", r->runs);
    add_stats(o, "infer", &r->infer, r->infer_times, r->flops.infer, r->peak.gflops);
    add_stats(o, "train", &r->train, r->train_times, r->flops.train, r->peak.gflops);
    add_num_or_null(o, "peak_gflops", r->peak.gflops, r->peak.gflops > 0);
    add_str_or_null(o, "peak_isa", r->peak.isa);
    add_num_or_null(o, "peak_rss_mb", r->peak_rss_mb, r->peak_rss_mb >= 0);
    add_num_or_null(o, "base_rss_mb", r->base_rss_mb, r->base_rss_mb >= 0);
    add_num_or_null(o, "plan_mb", r->plan_mb, r->plan_mb > 0);
    add_num_or_null(o, "firing_rate", r->firing_rate, r->firing_rate >= 0);
    add_num_or_null(o, "adam_s", r->adam_s, r->adam_s >= 0);
    add_str_or_null(o, "weights", r->weights);
    add_str_or_null(o, "input", r->input);
    if (r->layers) {
        cJSON *arr = cJSON_AddArrayToObject(o, "layers");
        for (int i = 0; arr && i < r->n_layers; i++) {
            const su_bench_layer *L = &r->layers[i];
            cJSON *l = cJSON_CreateObject();
            if (!l) break;
            cJSON_AddStringToObject(l, "name", L->name);
            cJSON_AddStringToObject(l, "kind", conv_kind_name(L->kind));
            const int dims[7] = {L->N, L->D, L->H, L->W, L->Cin, L->Cout, L->need_din};
            cJSON_AddItemToObject(l, "n_d_h_w_cin_cout_din", cJSON_CreateIntArray(dims, 7));
            cJSON_AddNumberToObject(l, "flops_fwd", L->flops_fwd);
            cJSON_AddNumberToObject(l, "flops_bwd", L->flops_bwd);
            cJSON_AddNumberToObject(l, "real_frac", L->real_frac);
            cJSON_AddNumberToObject(l, "conv_fwd_s", L->conv_fwd_s);
            cJSON_AddNumberToObject(l, "conv_bwd_s", L->conv_bwd_s);
            cJSON_AddNumberToObject(l, "act_fwd_s", L->act_fwd_s);
            cJSON_AddNumberToObject(l, "act_bwd_s", L->act_bwd_s);
            cJSON_AddItemToArray(arr, l);
        }
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) return su_fail(err, "bench: out of memory printing JSON");
    *json = s;
    return 0;
}
