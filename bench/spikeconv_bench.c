/* Times the spike convolution (spikeconv.h) against oneDNN's dense convolution (layers.h) on the layer
 * shapes of the benchmark Spiking 3D U-Net (base 16, depth 4, grid 16x128x128, T = 4, batch 1: N = 4),
 * at several firing rates of random (independent) spikes. Dense and spike runs alternate and each figure
 * is the median of --reps runs, since the machine is shared. Prints a Markdown table (docs/SPIKECONV.md).
 *
 *   spikeconv_bench [--reps 7] [--rates 0.05,0.1,0.2,0.3,0.4,0.5] [--layer i] [--isa auto|avx512|avx2|baseline]
 *
 * Rates must increase. The closing table gives, per layer, the firing rate where spike and dense CPU
 * times meet.
 *
 * Forward: dense = su_conv_forward; spike = su_spikeconv_load (float spikes -> bit mask, once per
 * forward pass, reused by the backward) + su_spikeconv_forward, reported separately; the speedup counts
 * both. load u8: the same packing from byte spikes, for comparison.
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

/* Firing rate where the spike time (linear between the two measured rates around it) meets the dense
 * time; -1: spike slower already at the lowest rate; 2: still faster at the highest. */
static double crossover(const double *rate, const double *spike, const double *dense, int n) {
    if (spike[0] >= dense[0]) return -1;
    for (int i = 0; i + 1 < n; i++)
        if (spike[i + 1] >= dense[i + 1]) {
            double d = 0.5 * (dense[i] + dense[i + 1]), a = (d - spike[i]) / (spike[i + 1] - spike[i]);
            return rate[i] + a * (rate[i + 1] - rate[i]);
        }
    return 2;
}
static void print_crossover(double x, double last) {
    if (x < 0) printf(" below %.0f%% |", 0.0);
    else if (x > 1) printf(" above %.0f%% |", 100 * last);
    else printf(" %.0f%% |", 100 * x);
}

int main(int argc, char **argv) {
    int reps = 7, only = -1;
    double rates[16] = {0.05, 0.10, 0.20, 0.30, 0.40, 0.50};
    int nrates = 6;
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
    /* per layer, from the CPU-time medians: crossover rates, plan bytes */
    double xf[NLAYERS], xw[NLAYERS];
    size_t plan_bytes[NLAYERS];
    printf("| layer | rate | time | dense fwd | load f32 | load u8 | spike fwd | fwd speedup | dense wgrad | "
           "spike wgrad | wgrad speedup |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int li = 0; li < NLAYERS; li++) {
        if (only >= 0 && li != only) continue;
        const layer L = layers[li];
        const long NS = (long)N * L.D * L.H * L.W, nw = 27L * L.Cin * L.Cout;
        float *spk = malloc(sizeof(float) * NS * L.Cin), *out = malloc(sizeof(float) * NS * L.Cout);
        float *dout = malloc(sizeof(float) * NS * L.Cout), *w = malloc(sizeof(float) * nw);
        float *dw = calloc(nw, sizeof(float));
        uint8_t *spk8 = malloc((size_t)NS * L.Cin);
        su_conv_plan *dense = NULL;
        su_spikeconv *sc = NULL;
        if (!spk || !spk8 || !out || !dout || !w || !dw ||
            su_conv_plan_create(&dense, eng, SU_CONV3, N, L.D, L.H, L.W, L.Cin, L.Cout, SU_CONV_TRAIN, &err) ||
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
        plan_bytes[li] = su_spikeconv_bytes(sc);
        double cf_s[16], cf_d[16], cw_s[16], cw_d[16];
        for (int ri = 0; ri < nrates; ri++) {
            for (long i = 0; i < NS * L.Cin; i++) spk8[i] = urand() < rates[ri], spk[i] = spk8[i];
            /* [wall, cpu][rep] of: dense fwd, load, spike fwd, dense wgrad, spike wgrad, load u8 */
            double tm[2][6][REPS_MAX];
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
                su_spikeconv_load_u8(sc, spk8, L.Cin);
                stamp t6 = now();
                if (r >= 0) {
                    stamp t[7] = {t0, t1, t2, t3, t4, t5, t6};
                    for (int q = 0; q < 6; q++) {
                        tm[0][q][r] = 1e3 * (t[q + 1].wall - t[q].wall);
                        tm[1][q][r] = 1e3 * (t[q + 1].cpu - t[q].cpu);
                    }
                }
            }
            for (int c = 0; c < 2; c++) {
                double df = median(tm[c][0], reps), l = median(tm[c][1], reps), sf = median(tm[c][2], reps);
                double dwm = median(tm[c][3], reps), sw = median(tm[c][4], reps), l8 = median(tm[c][5], reps);
                if (c) cf_s[ri] = l + sf, cf_d[ri] = df, cw_s[ri] = sw, cw_d[ri] = dwm;
                printf("| %dx%dx%d %d->%d | %.0f%% | %s | %.1f | %.1f | %.1f | %.1f | %.2fx | %.1f | %.1f | %.2fx |\n",
                       L.D, L.H, L.W, L.Cin, L.Cout, 100 * rates[ri], c ? "cpu" : "wall", df, l, l8, sf, df / (l + sf),
                       dwm, sw, dwm / sw);
            }
            fflush(stdout);
        }
        xf[li] = crossover(rates, cf_s, cf_d, nrates);
        xw[li] = crossover(rates, cw_s, cw_d, nrates);
        su_conv_plan_destroy(dense);
        su_spikeconv_destroy(sc);
        free(spk), free(spk8), free(out), free(dout), free(w), free(dw);
    }
    printf("\n| layer | crossover fwd (incl. load) | crossover wgrad | plan MiB |\n|---|---|---|---|\n");
    for (int li = 0; li < NLAYERS; li++) {
        if (only >= 0 && li != only) continue;
        printf("| %dx%dx%d %d->%d |", layers[li].D, layers[li].H, layers[li].W, layers[li].Cin, layers[li].Cout);
        print_crossover(xf[li], rates[nrates - 1]);
        print_crossover(xw[li], rates[nrates - 1]);
        printf(" %.1f |\n", plan_bytes[li] / 1048576.0);
    }
    su_engine_destroy(eng);
    return 0;
}
