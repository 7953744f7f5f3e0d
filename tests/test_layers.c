/* Layers: finite-difference gradient checks of every layer (borders, ties included), and the oneDNN
 * fast path against the plain reference convolutions. */
#include <stdint.h>

#include "check.h"
#include "spikeunet/layers.h"

/* A small deterministic generator for test data. */
static uint64_t rng_state = 0x1234567u;
static double urand(void) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}
static void fill(float *x, long n, double lo, double hi) {
    for (long i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * urand());
}
static double dot(const float *a, const float *b, long n) {
    double s = 0;
    for (long i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}
static double max_abs(const float *a, long n) {
    double m = 0;
    for (long i = 0; i < n; i++) m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

/* A layer under test: evaluates L = <r, f(inputs)> for the current inputs. */
typedef double (*loss_fn)(void *ctx);

/* Central differences on `count` random entries of x against the analytic gradient g. The tolerance
 * is relative to the gradient's scale, so a wrong sign or a missing term (an error of the order of the
 * gradient itself) fails while float rounding passes. */
static void fd_check(const char *what, loss_fn f, void *ctx, float *x, const float *g, long n, int count,
                     double h, double rtol) {
    double scale = max_abs(g, n) + 1e-12, worst = 0;
    for (int k = 0; k < count; k++) {
        long i = (long)(urand() * n);
        float keep = x[i];
        x[i] = keep + (float)h;
        double lp = f(ctx);
        x[i] = keep - (float)h;
        double lm = f(ctx);
        x[i] = keep;
        double num = (lp - lm) / (2 * h), err = fabs(num - g[i]) / scale;
        if (err > worst) worst = err;
        CHECK(err <= rtol, "%s: entry %ld numeric %.6g analytic %.6g (rel err %.3g)", what, i, num, g[i], err);
    }
    printf("  %-34s max rel err %.2e over %d entries\n", what, worst, count);
}

/* ---- conv3d ---------------------------------------------------------------------------------- */
typedef struct {
    int N, D, H, W, Cin, Cout, k, up;
    float *in, *w, *b, *out, *r;
} conv_ctx;

static long conv_out_n(const conv_ctx *c) {
    return (long)c->N * c->D * c->H * c->W * c->Cout * (c->up ? 4 : 1);
}
static double conv_loss(void *p) {
    conv_ctx *c = p;
    if (c->up)
        su_upconv_forward_ref(c->out, c->in, c->w, c->b, c->N, c->D, c->H, c->W, c->Cin, c->Cout);
    else
        su_conv3d_forward_ref(c->out, c->in, c->w, c->b, c->N, c->D, c->H, c->W, c->Cin, c->Cout, c->k);
    return dot(c->out, c->r, conv_out_n(c));
}

static void test_conv(int up, int k, int N, int D, int H, int W, int Cin, int Cout) {
    conv_ctx c = {N, D, H, W, Cin, Cout, k, up, 0, 0, 0, 0, 0};
    long nin = (long)N * D * H * W * Cin, nw = (long)Cout * Cin * (up ? 4 : k * k * k);
    c.in = malloc(sizeof(float) * nin);
    c.w = malloc(sizeof(float) * nw);
    c.b = malloc(sizeof(float) * Cout);
    long nout = conv_out_n(&c);
    c.out = malloc(sizeof(float) * nout);
    c.r = malloc(sizeof(float) * nout);
    fill(c.in, nin, -1, 1);
    fill(c.w, nw, -0.5, 0.5);
    fill(c.b, Cout, -0.5, 0.5);
    fill(c.r, nout, -1, 1);
    float *din = calloc(nin, sizeof(float)), *dw = calloc(nw, sizeof(float)), *db = calloc(Cout, sizeof(float));
    if (up)
        su_upconv_backward_ref(din, dw, db, c.r, c.in, c.w, N, D, H, W, Cin, Cout);
    else
        su_conv3d_backward_ref(din, dw, db, c.r, c.in, c.w, N, D, H, W, Cin, Cout, k);
    char name[64];
    const char *kind = up ? "upconv(1,2,2)" : (k == 3 ? "conv3x3x3" : "conv1x1x1");
    snprintf(name, sizeof name, "%s d/input", kind);
    fd_check(name, conv_loss, &c, c.in, din, nin, 40, 1e-2, 2e-3);
    snprintf(name, sizeof name, "%s d/weight", kind);
    fd_check(name, conv_loss, &c, c.w, dw, nw, 40, 1e-2, 2e-3);
    snprintf(name, sizeof name, "%s d/bias", kind);
    fd_check(name, conv_loss, &c, c.b, db, Cout, Cout, 1e-2, 2e-3);
    /* the border: input voxel 0 (a corner) must be checked explicitly for the padded convolution */
    {
        float keep = c.in[0];
        c.in[0] = keep + 0.01f;
        double lp = conv_loss(&c);
        c.in[0] = keep - 0.01f;
        double lm = conv_loss(&c);
        c.in[0] = keep;
        CHECK_NEAR((lp - lm) / 0.02, din[0], 2e-3 * (max_abs(din, nin) + 1), "corner voxel gradient");
    }

    /* the fast path (oneDNN) against the reference: forward, input gradient, accumulated dw/db */
    su_error err = {{0}};
    su_engine *eng = NULL;
    su_conv_plan *plan = NULL;
    su_conv_kind ck = up ? SU_UPCONV : (k == 3 ? SU_CONV3 : SU_CONV1);
    CHECK_OK(su_engine_create(&eng, &err), &err);
    CHECK_OK(su_conv_plan_create(&plan, eng, ck, N, D, H, W, Cin, Cout, SU_CONV_BIAS | SU_CONV_TRAIN | SU_CONV_NEED_DIN, &err), &err);
    if (plan) {
        float *out2 = malloc(sizeof(float) * nout), *din2 = malloc(sizeof(float) * nin);
        float *dw2 = malloc(sizeof(float) * nw), *db2 = malloc(sizeof(float) * Cout);
        for (long i = 0; i < nw; i++) dw2[i] = 0.25f; /* backward must add to what is there */
        for (int i = 0; i < Cout; i++) db2[i] = -0.5f;
        conv_loss(&c);
        CHECK_OK(su_conv_set_weights(plan, c.w, &err), &err);
        CHECK_OK(su_conv_forward(plan, out2, c.in, c.b, &err), &err);
        CHECK_OK(su_conv_backward(plan, din2, dw2, db2, c.r, c.in, &err), &err);
        double eo = 0, ed = 0, ew = 0, eb = 0;
        for (long i = 0; i < nout; i++) eo = fmax(eo, fabs(out2[i] - c.out[i]));
        for (long i = 0; i < nin; i++) ed = fmax(ed, fabs(din2[i] - din[i]));
        for (long i = 0; i < nw; i++) ew = fmax(ew, fabs(dw2[i] - 0.25f - dw[i]));
        for (int i = 0; i < Cout; i++) eb = fmax(eb, fabs(db2[i] + 0.5f - db[i]));
        printf("  %-34s fast vs reference: out %.1e din %.1e dw %.1e db %.1e\n", kind, eo, ed, ew, eb);
        CHECK(eo < 1e-4 * (max_abs(c.out, nout) + 1), "%s forward differs by %g", kind, eo);
        CHECK(ed < 1e-4 * (max_abs(din, nin) + 1), "%s input gradient differs by %g", kind, ed);
        CHECK(ew < 1e-4 * (max_abs(dw, nw) + 1), "%s weight gradient differs by %g", kind, ew);
        CHECK(eb < 1e-4 * (max_abs(db, Cout) + 1), "%s bias gradient differs by %g", kind, eb);
        free(out2), free(din2), free(dw2), free(db2);
    }
    su_conv_plan_destroy(plan);
    su_engine_destroy(eng);
    free(c.in), free(c.w), free(c.b), free(c.out), free(c.r), free(din), free(dw), free(db);
}

/* ---- batch norm (+ReLU) ------------------------------------------------------------------------ */
typedef struct {
    long NS;
    int C, relu;
    float *x, *gamma, *beta, *y, *r, *mean, *rstd;
    double *scratch;
} bn_ctx;

static double bn_loss(void *p) {
    bn_ctx *c = p;
    su_bn_stats(c->mean, c->rstd, NULL, c->x, c->NS, c->C, c->C, 1e-5f, c->scratch);
    su_bn_act_forward(c->y, c->C, c->x, c->mean, c->rstd, c->gamma, c->beta, c->NS, c->C, c->relu);
    return dot(c->y, c->r, c->NS * c->C);
}

static void test_bn(int relu) {
    bn_ctx c = {60, 5, relu, 0, 0, 0, 0, 0, 0, 0, 0};
    long n = c.NS * c.C;
    c.x = malloc(sizeof(float) * n);
    c.y = malloc(sizeof(float) * n);
    c.r = malloc(sizeof(float) * n);
    c.gamma = malloc(sizeof(float) * c.C);
    c.beta = malloc(sizeof(float) * c.C);
    c.mean = malloc(sizeof(float) * c.C);
    c.rstd = malloc(sizeof(float) * c.C);
    c.scratch = malloc(sizeof(double) * 4 * c.C * su_max_threads());
    fill(c.x, n, -2, 3);
    fill(c.r, n, -1, 1);
    fill(c.gamma, c.C, 0.5, 1.5);
    fill(c.beta, c.C, -0.3, 0.3);
    bn_loss(&c);
    /* the forward against the definition: channel 0's mean and biased variance */
    double m = 0, v = 0;
    for (long i = 0; i < c.NS; i++) m += c.x[i * c.C];
    m /= c.NS;
    for (long i = 0; i < c.NS; i++) v += (c.x[i * c.C] - m) * (c.x[i * c.C] - m);
    v /= c.NS;
    CHECK_NEAR(c.mean[0], m, 1e-5, "bn mean");
    CHECK_NEAR(c.rstd[0], 1 / sqrt(v + 1e-5), 1e-4, "bn rstd");
    float *dx = malloc(sizeof(float) * n), *dg = calloc(c.C, sizeof(float)), *db = calloc(c.C, sizeof(float));
    su_bn_act_backward(dx, dg, db, c.r, c.C, relu ? c.y : NULL, c.C, c.x, c.mean, c.rstd, c.gamma, c.NS, c.C,
                       c.scratch);
    fd_check(relu ? "batchnorm+relu d/input" : "batchnorm d/input", bn_loss, &c, c.x, dx, n, 60, 1e-3, 5e-3);
    fd_check(relu ? "batchnorm+relu d/gamma" : "batchnorm d/gamma", bn_loss, &c, c.gamma, dg, c.C, c.C, 1e-3, 5e-3);
    fd_check(relu ? "batchnorm+relu d/beta" : "batchnorm d/beta", bn_loss, &c, c.beta, db, c.C, c.C, 1e-3, 5e-3);
    /* running statistics: PyTorch's momentum convention with the unbiased variance */
    float rm[5] = {0}, rv[5] = {1, 1, 1, 1, 1}, mean[5], rstd[5], vu[5];
    su_bn_stats(mean, rstd, vu, c.x, c.NS, c.C, c.C, 1e-5f, c.scratch);
    su_bn_update_running(rm, rv, mean, vu, c.C, 0.1f);
    CHECK_NEAR(rm[0], 0.1 * m, 1e-6, "running mean");
    CHECK_NEAR(rv[0], 0.9 + 0.1 * v * c.NS / (c.NS - 1), 1e-5, "running var (unbiased)");
    free(c.x), free(c.y), free(c.r), free(c.gamma), free(c.beta), free(c.mean), free(c.rstd), free(c.scratch);
    free(dx), free(dg), free(db);
}

/* ---- max pooling ------------------------------------------------------------------------------- */
typedef struct {
    int N, D, H, W, C;
    float *x, *y, *r;
    uint8_t *arg;
} pool_ctx;

static double pool_loss(void *p) {
    pool_ctx *c = p;
    su_maxpool_forward(c->y, c->arg, c->x, c->C, c->N, c->D, c->H, c->W, c->C);
    return dot(c->y, c->r, (long)c->N * c->D * (c->H / 2) * (c->W / 2) * c->C);
}

static void test_pool(void) {
    pool_ctx c = {2, 3, 4, 6, 3, 0, 0, 0, 0};
    long nin = (long)c.N * c.D * c.H * c.W * c.C, nout = nin / 4;
    c.x = malloc(sizeof(float) * nin);
    c.y = malloc(sizeof(float) * nout);
    c.r = malloc(sizeof(float) * nout);
    c.arg = malloc(nout);
    fill(c.x, nin, -1, 1);
    fill(c.r, nout, -1, 1);
    pool_loss(&c);
    float *dx = calloc(nin, sizeof(float));
    su_maxpool_backward(dx, c.C, c.r, c.arg, c.N, c.D, c.H, c.W, c.C);
    fd_check("maxpool(1,2,2) d/input", pool_loss, &c, c.x, dx, nin, 60, 1e-4, 1e-3);

    /* ties: spikes are 0/1, so equal maxima are everywhere; PyTorch sends the gradient to the first */
    float tie[2 * 2 * 1] = {1, 1, 0, 1}, out[1], g[1] = {3}, dtie[4] = {0};
    uint8_t a[1];
    su_maxpool_forward(out, a, tie, 1, 1, 1, 2, 2, 1);
    su_maxpool_backward(dtie, 1, g, a, 1, 1, 2, 2, 1);
    CHECK(out[0] == 1 && a[0] == 0 && dtie[0] == 3 && dtie[1] == 0 && dtie[3] == 0, "tie goes to the first max");
    float zeros[4] = {0, 0, 0, 0};
    su_maxpool_forward(out, a, zeros, 1, 1, 1, 2, 2, 1);
    CHECK(a[0] == 0, "all-zero window picks index 0");
    free(c.x), free(c.y), free(c.r), free(c.arg), free(dx);
}

/* ---- losses ------------------------------------------------------------------------------------ */
typedef struct {
    long M;
    int K;
    su_loss_kind kind;
    const float *cw;
    float *z, *p;
    uint8_t *y;
    double *scratch;
} loss_ctx;

static double loss_loss(void *q) {
    loss_ctx *c = q;
    return su_loss_forward_backward(NULL, c->p, c->z, c->y, c->M, c->K, c->kind, c->cw, c->scratch).total;
}

static void test_loss(su_loss_kind kind, const float *cw, const char *name) {
    loss_ctx c = {50, 4, kind, cw, 0, 0, 0, 0};
    c.z = malloc(sizeof(float) * c.M * c.K);
    c.p = malloc(sizeof(float) * c.M * c.K);
    c.y = malloc(c.M);
    c.scratch = malloc(sizeof(double) * 4 * c.K * su_max_threads());
    fill(c.z, c.M * c.K, -2, 2);
    for (long i = 0; i < c.M; i++) c.y[i] = (uint8_t)(urand() * 3.999);
    float *g = malloc(sizeof(float) * c.M * c.K);
    su_loss_forward_backward(g, c.p, c.z, c.y, c.M, c.K, kind, cw, c.scratch);
    fd_check(name, loss_loss, &c, c.z, g, c.M * c.K, 60, 1e-3, 5e-3);
    free(c.z), free(c.p), free(c.y), free(c.scratch), free(g);
}

static void test_loss_values(void) {
    /* two voxels, two classes, hand-computed: logits (0,0) label 0 and (ln 3, 0) label 1 */
    float z[4] = {0, 0, logf(3), 0}, p[4];
    uint8_t y[2] = {0, 1};
    double s[64];
    su_loss_value v = su_loss_forward_backward(NULL, p, z, y, 2, 2, SU_LOSS_CE_DICE, NULL, s);
    double ce = (-log(0.5) - log(0.25)) / 2;
    /* foreground class 1: I = 0.25, P = 0.5 + 0.25, G = 1: dice = (0.5 + 1) / (1.75 + 1) */
    double dice = 1 - (2 * 0.25 + 1) / (0.75 + 1 + 1);
    CHECK_NEAR(v.ce, ce, 1e-6, "cross-entropy by hand");
    CHECK_NEAR(v.dice, dice, 1e-6, "soft Dice by hand");
    CHECK_NEAR(v.total, ce + dice, 1e-6, "CE + Dice");
    float w[2] = {1, 3};
    v = su_loss_forward_backward(NULL, p, z, y, 2, 2, SU_LOSS_CE, w, s);
    CHECK_NEAR(v.ce, (-log(0.5) - 3 * log(0.25)) / 4, 1e-6, "weighted CE by hand (PyTorch's weighted mean)");
}

int main(void) {
    test_conv(0, 3, 2, 3, 5, 4, 3, 4);
    test_conv(0, 1, 2, 2, 3, 4, 5, 3);
    test_conv(1, 0, 2, 2, 3, 2, 4, 3);
    test_conv(0, 3, 1, 4, 8, 8, 16, 16); /* a shape where oneDNN uses its blocked AVX-512 kernels */
    test_conv(0, 3, 1, 2, 4, 4, 1, 16);  /* the first layer: one input channel */
    test_bn(0);
    test_bn(1);
    test_pool();
    test_loss(SU_LOSS_CE, NULL, "cross-entropy d/logits");
    float cw[4] = {0.5f, 2, 1, 3};
    test_loss(SU_LOSS_CE, cw, "weighted cross-entropy d/logits");
    test_loss(SU_LOSS_DICE, NULL, "soft Dice d/logits");
    test_loss(SU_LOSS_CE_DICE, NULL, "CE + Dice d/logits");
    test_loss_values();
    return check_report("layers");
}
