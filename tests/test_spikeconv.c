/* Spike convolution (spikeconv.h) against the reference convolutions of layers.h, for every instruction
 * set the CPU has: forward (written and accumulating, with and without bias) and weight gradient, on
 * random spikes at firing rates 0, 1 %, 20 % and 100 %, 3x3x3 and 1x1x1, odd sizes (borders everywhere),
 * channel counts that are not multiples of 8/16/64, a channel slice (lds > Cin), float and byte spikes.
 *
 * Weights, biases and dout are multiples of 1/32 (resp. 1/16) of small integers, so every partial sum is
 * exact in float and the spike kernels must match the reference (which sums in double) bit for bit: any
 * difference is a wrong or missing term, not rounding. One case with arbitrary float weights checks the
 * same to a relative 1e-5 of the sum of |terms|. */
#include <omp.h>
#include <stdint.h>

#include "check.h"
#include "spikeunet/layers.h"
#include "spikeunet/spikeconv.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static double urand(void) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}
/* integers in [-m, m] divided by q: exact sums */
static void fill_dyadic(float *x, long n, int m, float q) {
    for (long i = 0; i < n; i++) x[i] = (float)((int)(urand() * (2 * m + 1)) - m) / q;
}

static long count_diff(const float *a, const float *b, long n, double tol, double *worst) {
    long bad = 0;
    *worst = 0;
    for (long i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (e > *worst) *worst = e;
        if (!(e <= tol)) bad++;
    }
    return bad;
}

typedef struct {
    int k, N, D, H, W, Cin, Cout;
} shape;

static const su_spikeconv_isa isas[] = {SU_SPIKECONV_ISA_BASELINE, SU_SPIKECONV_ISA_AVX2, SU_SPIKECONV_ISA_AVX512};
static const char *isa_names[] = {"baseline", "avx2", "avx512"};
static const su_spikeconv_method methods[] = {SU_SPIKECONV_AUTO, SU_SPIKECONV_ROWS, SU_SPIKECONV_TABLE,
                                              SU_SPIKECONV_GATHER};
static const char *method_names[] = {"auto", "rows", "table", "gather"};
static int runs_per_method[4];

/* One shape at one firing rate: reference once, then each instruction set. */
static void check_case(shape s, double rate, int lds_extra, int dyadic) {
    const long NS = (long)s.N * s.D * s.H * s.W;
    const int K3 = s.k * s.k * s.k, lds = s.Cin + lds_extra;
    const long nw = (long)s.Cout * s.Cin * K3;
    uint8_t *sp8 = malloc((size_t)NS * lds);
    float *spf = malloc(sizeof(float) * NS * lds), *in = malloc(sizeof(float) * NS * s.Cin);
    float *w = malloc(sizeof(float) * nw), *bias = malloc(sizeof(float) * s.Cout);
    float *dout = malloc(sizeof(float) * NS * s.Cout), *prior = malloc(sizeof(float) * NS * s.Cout);
    float *ref = malloc(sizeof(float) * NS * s.Cout), *ref_b = malloc(sizeof(float) * NS * s.Cout);
    float *got = malloc(sizeof(float) * NS * s.Cout);
    float *dw_prior = malloc(sizeof(float) * nw), *dw_ref = malloc(sizeof(float) * nw);
    float *dw = malloc(sizeof(float) * nw), *dw2 = malloc(sizeof(float) * nw);
    long spikes = 0;
    for (long v = 0; v < NS; v++)
        for (int c = 0; c < lds; c++) {
            int on = c < s.Cin ? urand() < rate : 1; /* channels beyond Cin: other data, must be ignored */
            float val = c < s.Cin ? (float)on : 7.0f;
            sp8[v * lds + c] = (uint8_t)on;
            spf[v * lds + c] = val;
            if (c < s.Cin) {
                in[v * s.Cin + c] = val;
                spikes += on;
            }
        }
    if (dyadic) {
        fill_dyadic(w, nw, 16, 32.0f);
        fill_dyadic(bias, s.Cout, 16, 32.0f);
        fill_dyadic(dout, NS * s.Cout, 16, 16.0f);
        fill_dyadic(prior, NS * s.Cout, 16, 16.0f);
        fill_dyadic(dw_prior, nw, 16, 16.0f);
    } else {
        for (long i = 0; i < nw; i++) w[i] = (float)(urand() * 2 - 1);
        for (int i = 0; i < s.Cout; i++) bias[i] = (float)(urand() * 2 - 1);
        for (long i = 0; i < NS * s.Cout; i++) dout[i] = (float)(urand() * 2 - 1), prior[i] = (float)(urand() * 2 - 1);
        for (long i = 0; i < nw; i++) dw_prior[i] = (float)(urand() * 2 - 1);
    }
    /* tolerance: exact for dyadic data, else 1e-5 of the largest possible sum of |terms| */
    double tol_f = dyadic ? 0 : 1e-5 * (K3 * s.Cin + 2), tol_w = dyadic ? 0 : 1e-5 * (NS + 1);
    su_conv3d_forward_ref(ref, in, w, NULL, s.N, s.D, s.H, s.W, s.Cin, s.Cout, s.k);
    su_conv3d_forward_ref(ref_b, in, w, bias, s.N, s.D, s.H, s.W, s.Cin, s.Cout, s.k);
    memcpy(dw_ref, dw_prior, sizeof(float) * nw);
    su_conv3d_backward_ref(NULL, dw_ref, NULL, dout, in, w, s.N, s.D, s.H, s.W, s.Cin, s.Cout, s.k);

    char what[200];
    snprintf(what, sizeof what, "k%d N%d %dx%dx%d %d->%d lds%d rate %.2f%s", s.k, s.N, s.D, s.H, s.W, s.Cin,
             s.Cout, lds, rate, dyadic ? "" : " (float weights)");
    su_error err = {{0}};
    su_spikeconv *p = NULL;
    CHECK_OK(su_spikeconv_create(&p, s.k, s.N, s.D, s.H, s.W, s.Cin, s.Cout, &err), &err);
    if (!p) goto done;
    su_spikeconv_set_weights(p, w);
    for (int mi = 0; mi < 4; mi++)
    for (int i = 0; i < 3; i++) {
        if (su_spikeconv_set_method(p, methods[mi], &err)) {
            if (i == 0) printf("  %-52s %-6s skipped: %s\n", what, method_names[mi], err.msg);
            break;
        }
        if (su_spikeconv_set_isa(p, isas[i], &err)) {
            printf("  %-52s %-6s %-8s skipped: %s\n", what, method_names[mi], isa_names[i], err.msg);
            continue;
        }
        runs_per_method[mi]++;
        char tag[240];
        snprintf(tag, sizeof tag, "%s %s %s", what, method_names[mi], isa_names[i]);
        double worst, wmax = 0;
        long bad;
        /* float spikes (a channel slice), forward written, no bias */
        CHECK(su_spikeconv_load(p, spf, lds) == spikes, "%s: spike count", tag);
        memcpy(got, prior, sizeof(float) * NS * s.Cout); /* must be overwritten */
        su_spikeconv_forward(p, got, NULL, 0);
        bad = count_diff(got, ref, NS * s.Cout, tol_f, &worst);
        CHECK(bad == 0, "%s forward: %ld outputs differ (worst %g)", tag, bad, worst);
        wmax = worst > wmax ? worst : wmax;
        /* byte spikes, with bias */
        CHECK(su_spikeconv_load_u8(p, sp8, lds) == spikes, "%s: spike count (u8)", tag);
        su_spikeconv_forward(p, got, bias, 0);
        bad = count_diff(got, ref_b, NS * s.Cout, tol_f, &worst);
        CHECK(bad == 0, "%s forward+bias: %ld outputs differ (worst %g)", tag, bad, worst);
        wmax = worst > wmax ? worst : wmax;
        /* accumulate: got = prior + conv + bias */
        memcpy(got, prior, sizeof(float) * NS * s.Cout);
        su_spikeconv_forward(p, got, bias, 1);
        for (long j = 0; j < NS * s.Cout; j++) ref_b[j] += prior[j];
        bad = count_diff(got, ref_b, NS * s.Cout, 2 * tol_f, &worst);
        CHECK(bad == 0, "%s forward accumulate: %ld outputs differ (worst %g)", tag, bad, worst);
        for (long j = 0; j < NS * s.Cout; j++) ref_b[j] -= prior[j];
        /* weight gradient accumulates into dw; twice = deterministic */
        memcpy(dw, dw_prior, sizeof(float) * nw);
        su_spikeconv_backward_weights(p, dw, dout);
        bad = count_diff(dw, dw_ref, nw, tol_w, &worst);
        CHECK(bad == 0, "%s weight gradient: %ld weights differ (worst %g)", tag, bad, worst);
        memcpy(dw2, dw_prior, sizeof(float) * nw);
        su_spikeconv_backward_weights(p, dw2, dout);
        CHECK(memcmp(dw, dw2, sizeof(float) * nw) == 0, "%s weight gradient not deterministic", tag);
        printf("  %-52s %-6s %-8s forward worst %.2g, weight grad worst %.2g\n", what, method_names[mi],
               isa_names[i], wmax, worst);
    }
done:
    su_spikeconv_destroy(p);
    free(sp8), free(spf), free(in), free(w), free(bias), free(dout), free(prior), free(ref), free(ref_b);
    free(got), free(dw_prior), free(dw_ref), free(dw), free(dw2);
}

/* One spike in the middle of a 3x3x3 volume: each output sees it through exactly one offset. */
static void check_hand(void) {
    float w[27], spk[27] = {0}, out[27], dout[27], dw[27] = {0};
    for (int i = 0; i < 27; i++) w[i] = (float)(i + 1), dout[i] = (float)(i + 1);
    spk[13] = 1;
    su_error err = {{0}};
    su_spikeconv *p = NULL;
    CHECK_OK(su_spikeconv_create(&p, 3, 1, 3, 3, 3, 1, 1, &err), &err);
    if (!p) return;
    su_spikeconv_set_weights(p, w);
    CHECK(su_spikeconv_load(p, spk, 1) == 1, "one spike");
    su_spikeconv_forward(p, out, NULL, 0);
    /* out[d][h][x] = w[(2-d)][(2-h)][(2-x)] */
    CHECK_NEAR(out[0], 27, 0, "out[0,0,0] = w[2,2,2]");
    CHECK_NEAR(out[13], 14, 0, "out[1,1,1] = w[1,1,1]");
    CHECK_NEAR(out[26], 1, 0, "out[2,2,2] = w[0,0,0]");
    CHECK_NEAR(out[5], 22, 0, "out[0,1,2] = w[2,1,0]");
    /* dw[kd][kh][kw] = dout[2-kd][2-kh][2-kw] */
    su_spikeconv_backward_weights(p, dw, dout);
    CHECK_NEAR(dw[0], 27, 0, "dw[0,0,0] = dout[2,2,2]");
    CHECK_NEAR(dw[13], 14, 0, "dw[1,1,1] = dout[1,1,1]");
    CHECK_NEAR(dw[26], 1, 0, "dw[2,2,2] = dout[0,0,0]");
    su_spikeconv_destroy(p);
}

/* The spike half of a decoder convolution: weights and weight gradient as input channels [ci0, ci0 + C)
 * of a wider tensor; the other channels' gradient is left alone. */
static void check_slice(void) {
    const int N = 2, D = 3, H = 4, W = 5, C = 16, Ctot = 40, ci0 = 8, Cout = 32;
    const long NS = (long)N * D * H * W, nfull = (long)Cout * Ctot * 27, nw = (long)Cout * C * 27;
    float *wfull = malloc(sizeof(float) * nfull), *w = malloc(sizeof(float) * nw);
    float *dwfull = malloc(sizeof(float) * nfull), *dwref = malloc(sizeof(float) * nw);
    float *in = malloc(sizeof(float) * NS * C), *dout = malloc(sizeof(float) * NS * Cout);
    float *out = malloc(sizeof(float) * NS * Cout), *ref = malloc(sizeof(float) * NS * Cout);
    fill_dyadic(wfull, nfull, 16, 32.0f);
    fill_dyadic(dwfull, nfull, 16, 16.0f);
    fill_dyadic(dout, NS * Cout, 16, 16.0f);
    long spikes = 0;
    for (long i = 0; i < NS * C; i++) spikes += (in[i] = urand() < 0.3 ? 1.0f : 0.0f) != 0;
    for (int co = 0; co < Cout; co++)
        for (int ci = 0; ci < C; ci++)
            for (int k = 0; k < 27; k++) w[((long)co * C + ci) * 27 + k] = wfull[((long)co * Ctot + ci0 + ci) * 27 + k];
    memset(dwref, 0, sizeof(float) * nw);
    su_conv3d_forward_ref(ref, in, w, NULL, N, D, H, W, C, Cout, 3);
    su_conv3d_backward_ref(NULL, dwref, NULL, dout, in, w, N, D, H, W, C, Cout, 3);
    su_error err = {{0}};
    su_spikeconv *p = NULL;
    CHECK_OK(su_spikeconv_create(&p, 3, N, D, H, W, C, Cout, &err), &err);
    if (p) {
        su_spikeconv_set_weights_slice(p, wfull, Ctot, ci0);
        su_spikeconv_load(p, in, C);
        CHECK_NEAR(su_spikeconv_rate(p), (double)spikes / (NS * C), 1e-12, "firing rate");
        su_spikeconv_forward(p, out, NULL, 0);
        double worst;
        CHECK(count_diff(out, ref, NS * Cout, 0, &worst) == 0, "slice forward (worst %g)", worst);
        float *before = malloc(sizeof(float) * nfull);
        memcpy(before, dwfull, sizeof(float) * nfull);
        su_spikeconv_backward_weights_slice(p, dwfull, Ctot, ci0, dout);
        long bad = 0;
        for (int co = 0; co < Cout; co++)
            for (int ci = 0; ci < Ctot; ci++)
                for (int k = 0; k < 27; k++) {
                    long i = ((long)co * Ctot + ci) * 27 + k;
                    float want = before[i];
                    if (ci >= ci0 && ci < ci0 + C) want += dwref[((long)co * C + ci - ci0) * 27 + k];
                    bad += dwfull[i] != want;
                }
        CHECK(bad == 0, "slice weight gradient: %ld entries differ", bad);
        free(before);
        su_spikeconv_destroy(p);
    }
    free(wfull), free(w), free(dwfull), free(dwref), free(in), free(dout), free(out), free(ref);
}

int main(void) {
    su_error err = {{0}};
    su_spikeconv *p = NULL;
    CHECK_FAILS_WITH(su_spikeconv_create(&p, 2, 1, 4, 4, 4, 8, 8, &err), &err, "kernel size 2");
    CHECK_FAILS_WITH(su_spikeconv_create(&p, 3, 1, 0, 4, 4, 8, 8, &err), &err, "bad sizes");
    CHECK_OK(su_spikeconv_create(&p, 3, 1, 2, 2, 2, 8, 8, &err), &err);
    CHECK_FAILS_WITH(su_spikeconv_set_isa(p, (su_spikeconv_isa)9, &err), &err, "unknown instruction set");
    CHECK_OK(su_spikeconv_set_isa(p, SU_SPIKECONV_ISA_BASELINE, &err), &err);
    CHECK(su_spikeconv_get_isa(p) == SU_SPIKECONV_ISA_BASELINE, "isa forced");
    su_spikeconv_destroy(p);
    check_hand();
    check_slice();

    const double rates[] = {0.0, 0.01, 0.2, 1.0};
    const shape shapes[] = {
        {3, 2, 3, 5, 7, 16, 16},    /* the network's widths, odd sizes */
        {3, 1, 4, 6, 5, 5, 3},      /* channels not multiples of 8 or 16 */
        {3, 2, 2, 3, 9, 70, 40},    /* two mask words, padded output rows */
        {3, 1, 3, 4, 3, 128, 256},  /* 256 outputs in registers; offsets in blocks (L2) */
        {3, 1, 2, 3, 4, 64, 300},   /* output chunks of 256 */
        {3, 1, 1, 1, 1, 16, 32},    /* a single voxel: all neighbours are padding */
        {1, 2, 3, 4, 5, 33, 17},    /* 1x1x1 */
        {1, 1, 2, 2, 3, 256, 128},
        {1, 2, 3, 2, 5, 12, 20},    /* 1x1x1 through the table */
        {3, 1, 4, 9, 10, 256, 16},  /* gathering in several tiles */
        {3, 2, 4, 3, 1, 24, 32},    /* W = 1: every voxel on both x borders */
        {3, 1, 2, 3, 2, 16, 512},   /* two chunks of 256 outputs, gathering included */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (size_t j = 0; j < sizeof rates / sizeof rates[0]; j++) check_case(shapes[i], rates[j], i % 2 ? 3 : 0, 1);
    check_case(shapes[0], 0.25, 16, 0);
    check_case(shapes[3], 0.1, 0, 0);
    /* one thread and two give the same (exact) result */
    omp_set_num_threads(1);
    check_case(shapes[2], 0.2, 0, 1);
    omp_set_num_threads(2);
    /* every method ran somewhere */
    for (int mi = 0; mi < 4; mi++) CHECK(runs_per_method[mi] > 0, "method %s never ran", method_names[mi]);
    return check_report("spikeconv");
}
