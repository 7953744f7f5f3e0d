/* Times the spike convolution (spikeconv.h) against oneDNN's dense convolution (layers.h) on the layer
 * shapes of the benchmark Spiking 3D U-Net (base 16, depth 4, grid 16x128x128, T = 4, batch 1: N = 4),
 * at several firing rates of random (independent) spikes. Dense and spike runs alternate and each figure
 * is the median of --reps runs, since the machine is shared. Prints a Markdown table (docs/SPIKECONV.md).
 *
 *   spikeconv_bench [--reps 7] [--rates 0.05,0.1,0.2,0.4] [--layer i] [--isa auto|avx512|avx2|baseline]
 *
 * Forward: dense = su_conv_forward; spike = su_spikeconv_load (float spikes -> bit mask, once per
 * forward pass, reused by the backward) + su_spikeconv_forward, reported separately and summed.
 * Weight gradient: dense = su_conv_backward of a plan without input gradient; spike =
 * su_spikeconv_backward_weights. Each row is printed twice: wall-clock and process CPU time (see now()). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spikeunet/layers.h"
#include "spikeunet/spikeconv.h"

typedef struct {
    int D, H, W, Cin, Cout;
} layer;

static const layer layers[] = {
    {16, 128, 128, 16, 16}, {16, 64, 64, 16, 32}, {16, 64, 64, 32, 32},   {16, 32, 32, 32, 64},
    {16, 32, 32, 64, 64},   {16, 16, 16, 64, 128}, {16, 16, 16, 128, 128}, {16, 8, 8, 128, 256},
    {16, 8, 8, 256, 256},
};
#define NLAYERS ((int)(sizeof layers / sizeof layers[0]))

/* Wall time, and the CPU time of the whole process (every thread; run with OMP_WAIT_POLICY=passive so
 * that threads waiting at barriers do not spin): on a machine shared with other jobs, CPU time measures
 * the work itself while wall time also counts the time the scheduler gave to others. */
typedef struct {
    double wall, cpu;
} stamp;
static stamp now(void) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    return (stamp){a.tv_sec + 1e-9 * a.tv_nsec, b.tv_sec + 1e-9 * b.tv_nsec};
}
static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *v, int n) {
    qsort(v, n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
static uint64_t rng = 88172645463325252ull;
static double urand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

#define REPS_MAX 64

int main(int argc, char **argv) {
    int reps = 7, only = -1;
    double rates[16] = {0.05, 0.10, 0.20, 0.40};
    int nrates = 4;
    su_spikeconv_isa isa = SU_SPIKECONV_ISA_AUTO;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--layer") && i + 1 < argc) {
            only = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--rates") && i + 1 < argc) {
            nrates = 0;
            for (char *t = strtok(argv[++i], ","); t && nrates < 16; t = strtok(NULL, ",")) rates[nrates++] = atof(t);
        } else if (!strcmp(argv[i], "--isa") && i + 1 < argc) {
            const char *s = argv[++i];
            isa = !strcmp(s, "avx512") ? SU_SPIKECONV_ISA_AVX512 : !strcmp(s, "avx2") ? SU_SPIKECONV_ISA_AVX2
                  : !strcmp(s, "baseline") ? SU_SPIKECONV_ISA_BASELINE : SU_SPIKECONV_ISA_AUTO;
        } else {
            fprintf(stderr, "usage: %s [--reps n] [--rates r1,r2,..] [--layer i] [--isa auto|avx512|avx2|baseline]\n",
                    argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > REPS_MAX) reps = 7;
    const int N = 4;
    su_error err = {{0}};
    su_engine *eng = NULL;
    if (su_engine_create(&eng, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("threads %d, median of %d runs, N = %d, times in ms\n\n", omp_get_max_threads(), reps, N);
    printf("| layer | rate | time | dense fwd | load | spike fwd | fwd speedup | dense wgrad | spike wgrad | wgrad speedup |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    for (int li = 0; li < NLAYERS; li++) {
        if (only >= 0 && li != only) continue;
        const layer L = layers[li];
        const long NS = (long)N * L.D * L.H * L.W, nw = 27L * L.Cin * L.Cout;
        float *spk = malloc(sizeof(float) * NS * L.Cin), *out = malloc(sizeof(float) * NS * L.Cout);
        float *dout = malloc(sizeof(float) * NS * L.Cout), *w = malloc(sizeof(float) * nw);
        float *dw = calloc(nw, sizeof(float));
        su_conv_plan *dense = NULL;
        su_spikeconv *sc = NULL;
        if (!spk || !out || !dout || !w || !dw ||
            su_conv_plan_create(&dense, eng, SU_CONV3, N, L.D, L.H, L.W, L.Cin, L.Cout, 0, 1, 0, &err) ||
            su_spikeconv_create(&sc, 3, N, L.D, L.H, L.W, L.Cin, L.Cout, &err) || su_spikeconv_set_isa(sc, isa, &err)) {
            fprintf(stderr, "layer %d: %s\n", li, err.msg);
            return 1;
        }
        for (long i = 0; i < nw; i++) w[i] = (float)(urand() - 0.5);
        for (long i = 0; i < NS * L.Cout; i++) dout[i] = (float)(urand() - 0.5);
        if (su_conv_set_weights(dense, w, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        su_spikeconv_set_weights(sc, w);
        for (int ri = 0; ri < nrates; ri++) {
            for (long i = 0; i < NS * L.Cin; i++) spk[i] = urand() < rates[ri] ? 1.0f : 0.0f;
            /* [wall, cpu][rep] of: dense fwd, load, spike fwd, dense wgrad, spike wgrad */
            double tm[2][5][REPS_MAX];
            for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
                stamp t0 = now();
                if (su_conv_forward(dense, out, spk, NULL, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
                stamp t1 = now();
                su_spikeconv_load(sc, spk, L.Cin);
                stamp t2 = now();
                su_spikeconv_forward(sc, out, NULL, 0);
                stamp t3 = now();
                if (su_conv_backward(dense, NULL, dw, NULL, dout, spk, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
                stamp t4 = now();
                su_spikeconv_backward_weights(sc, dw, dout);
                stamp t5 = now();
                if (r >= 0) {
                    stamp t[6] = {t0, t1, t2, t3, t4, t5};
                    for (int q = 0; q < 5; q++) {
                        tm[0][q][r] = 1e3 * (t[q + 1].wall - t[q].wall);
                        tm[1][q][r] = 1e3 * (t[q + 1].cpu - t[q].cpu);
                    }
                }
            }
            for (int c = 0; c < 2; c++) {
                double df = median(tm[c][0], reps), l = median(tm[c][1], reps), sf = median(tm[c][2], reps);
                double dwm = median(tm[c][3], reps), sw = median(tm[c][4], reps);
                printf("| %dx%dx%d %d->%d | %.0f%% | %s | %.2f | %.2f | %.2f | %.2fx | %.2f | %.2f | %.2fx |\n", L.D, L.H,
                       L.W, L.Cin, L.Cout, 100 * rates[ri], c ? "cpu" : "wall", df, l, sf, df / (l + sf), dwm, sw,
                       dwm / sw);
            }
            fflush(stdout);
        }
        su_conv_plan_destroy(dense);
        su_spikeconv_destroy(sc);
        free(spk), free(out), free(dout), free(w), free(dw);
    }
    su_engine_destroy(eng);
    return 0;
}
