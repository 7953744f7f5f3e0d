/* The whole engine against PyTorch (llm.c style): tests/reference/reference.bin holds what the PyTorch
 * definition (tests/reference/spikeunet_torch.py) computes for the same weights and input; this test loads
 * the weights, runs the same steps, and checks every tensor.
 *
 * Tolerances: relative to the reference tensor's largest magnitude (max |ours - ref| / max |ref|):
 * logits and loss 1e-4, gradients 2e-3 (observed: 1e-6 .. 1e-5, 6e-4 for a learnable beta), the Adam
 * optimiser itself 1e-6; after five whole training steps, the parameters within 0.5 (worst entry) and
 * 0.05 (mean) of how far they moved (observed: 0.13 and 0.006 for the U-Net, whose ReLU kinks and pooling
 * near-ties route a few gradients differently under rounding; 1e-4 for the spiking nets). Float rounding between two
 * implementations (different summation orders) stays near 1e-6..1e-4; a wrong sign or a missing term
 * errs by the size of the tensor itself. Spikes must match exactly (the generator chose inputs whose
 * membranes never come within 2e-5 of the threshold). */
#include <stdarg.h>
#include <stdint.h>

#include "check.h"
#include "spikeunet/adam.h"
#include "spikeunet/lif.h"
#include "spikeunet/model.h"

typedef struct ref_entry {
    char name[128];
    int dtype, ndim;
    int dims[8];
    long numel;
    void *data;
} ref_entry;

typedef struct ref_file {
    ref_entry *e;
    int n;
    unsigned char *blob;
} ref_file;

static int ref_load(ref_file *r, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    r->blob = malloc(size);
    if (fread(r->blob, 1, size, f) != (size_t)size) {
        fclose(f);
        return -1;
    }
    fclose(f);
    unsigned char *p = r->blob;
    if (size < 16 || memcmp(p, "SUREF\0\0\0", 8)) return -1;
    uint32_t version, count;
    memcpy(&version, p + 8, 4);
    memcpy(&count, p + 12, 4);
    if (version != 1) return -1;
    p += 16;
    r->e = calloc(count, sizeof *r->e);
    r->n = (int)count;
    for (uint32_t i = 0; i < count; i++) {
        ref_entry *e = &r->e[i];
        uint16_t len;
        memcpy(&len, p, 2);
        p += 2;
        memcpy(e->name, p, len < 127 ? len : 127);
        p += len;
        e->dtype = p[0];
        e->ndim = p[1];
        p += 2;
        e->numel = 1;
        for (int d = 0; d < e->ndim; d++) {
            int32_t v;
            memcpy(&v, p, 4);
            p += 4;
            e->dims[d] = v;
            e->numel *= v;
        }
        /* entries follow each other byte by byte: copy each into its own (aligned) buffer */
        size_t bytes = (size_t)e->numel * (e->dtype == 0 ? 4 : e->dtype == 1 ? 1 : 8);
        e->data = malloc(bytes ? bytes : 1);
        memcpy(e->data, p, bytes);
        p += bytes;
    }
    return 0;
}

static const ref_entry *ref_get(const ref_file *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const ref_entry *ref_get(const ref_file *r, const char *fmt, ...) {
    char name[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->e[i].name, name)) return &r->e[i];
    return NULL;
}

/* Compares n floats; prints max abs / rel error; returns the relative error. */
static double compare(const char *what, const float *ours, const float *ref, long n, double tol) {
    double maxerr = 0, maxref = 0;
    for (long i = 0; i < n; i++) {
        double d = fabs((double)ours[i] - ref[i]);
        if (d > maxerr || d != d) maxerr = d != d ? INFINITY : d;
        if (fabs(ref[i]) > maxref) maxref = fabs(ref[i]);
    }
    double rel = maxerr / (maxref > 1e-12 ? maxref : 1e-12);
    CHECK(rel <= tol, "%s: max abs err %.3g, rel %.3g > tol %.1g", what, maxerr, rel, tol);
    return rel;
}

static void load_params(su_model *m, const ref_file *r, const char *tag) {
    for (int i = 0; i < su_model_num_tensors(m); i++) {
        const su_tensor_info *t = su_model_tensor(m, i);
        const ref_entry *e = ref_get(r, "%s/param/%s", tag, t->name);
        CHECK(e && e->numel == t->numel, "%s: reference has no tensor %s of %ld values", tag, t->name, t->numel);
        if (e && e->numel == t->numel) memcpy(t->data, e->data, sizeof(float) * t->numel);
    }
    memset(su_model_adam_m(m), 0, sizeof(float) * su_model_num_params(m));
    memset(su_model_adam_v(m), 0, sizeof(float) * su_model_num_params(m));
    su_model_params_changed(m);
}

static void test_variant(const ref_file *r, const char *tag) {
    const ref_entry *arch = ref_get(r, "%s/arch", tag), *lif = ref_get(r, "%s/lif", tag),
                    *shape = ref_get(r, "%s/shape", tag);
    if (!arch || !lif || !shape) {
        CHECK(0, "reference lacks variant %s", tag);
        return;
    }
    const int64_t *a = arch->data, *sh = shape->data;
    const float *lv = lif->data;
    su_model_config cfg;
    su_model_config_default(&cfg, a[0] ? SU_MODEL_SPIKING : SU_MODEL_UNET);
    cfg.base = (int)a[1];
    cfg.depth = (int)a[2];
    cfg.timesteps = (int)a[3];
    cfg.lif.reset = (su_reset)a[4];
    cfg.lif.surrogate = (su_surrogate)a[5];
    cfg.learn_beta = (su_learn)a[6];
    cfg.learn_theta = (su_learn)a[7];
    cfg.classes = (int)a[8];
    cfg.beta = lv[0];
    cfg.theta = lv[1];
    cfg.lif.slope = lv[2];
    const float lr = lv[3];
    const int B = (int)sh[0], D = (int)sh[1], H = (int)sh[2], W = (int)sh[3];
    printf("%s: %s base %d depth %d T %d, input %dx%dx%dx%d\n", tag, a[0] ? "spiking" : "unet", cfg.base, cfg.depth,
           cfg.timesteps, B, D, H, W);

    su_error err = {{0}};
    su_model *m = NULL;
    CHECK_OK(su_model_create(&m, &cfg, 1, &err), &err);
    if (!m) return;
    load_params(m, r, tag);
    CHECK_OK(su_model_plan(m, B, D, H, W, 1, &err), &err);
    const ref_entry *in = ref_get(r, "%s/input", tag), *lab = ref_get(r, "%s/labels", tag);
    const float *logits = NULL;
    CHECK_OK(su_model_forward(m, in->data, 1, &logits, &err), &err);
    const ref_entry *rl = ref_get(r, "%s/logits", tag);
    double e = compare("logits", logits, rl->data, rl->numel, 1e-4);
    printf("  logits                       rel err %.2e\n", e);

    su_model_zero_grad(m);
    su_loss_value v;
    CHECK_OK(su_model_backward(m, lab->data, SU_LOSS_CE_DICE, NULL, &v, &err), &err);
    const float *rloss = ref_get(r, "%s/loss", tag)->data;
    CHECK_NEAR(v.total, rloss[0], 1e-4 * fabs(rloss[0]), "loss");
    CHECK_NEAR(v.ce, rloss[1], 1e-4 * fabs(rloss[1]), "cross-entropy");
    CHECK_NEAR(v.dice, rloss[2], 1e-4 * fabs(rloss[2]) + 1e-6, "dice loss");
    printf("  loss %.6f (ref %.6f)\n", v.total, rloss[0]);

    /* every parameter gradient */
    double worst = 0;
    const char *worst_name = "";
    int ngrad = 0;
    for (int i = 0; i < su_model_num_tensors(m); i++) {
        const su_tensor_info *t = su_model_tensor(m, i);
        const ref_entry *g = ref_get(r, "%s/grad/%s", tag, t->name);
        if (!t->trainable) {
            CHECK(g == NULL, "%s is fixed here but PyTorch trains it", t->name);
            continue;
        }
        CHECK(g != NULL, "no reference gradient for %s", t->name);
        if (!g) continue;
        double rel = compare(t->name, t->grad, g->data, t->numel, 2e-3);
        ngrad++;
        if (rel > worst) worst = rel, worst_name = t->name;
    }
    printf("  %d gradients                 worst rel err %.2e (%s)\n", ngrad, worst, worst_name);

    /* running statistics after one training forward */
    worst = 0;
    for (int i = 0; i < su_model_num_tensors(m); i++) {
        const su_tensor_info *t = su_model_tensor(m, i);
        const ref_entry *g = ref_get(r, "%s/after1/%s", tag, t->name);
        if (!g) continue;
        double rel = compare(t->name, t->data, g->data, t->numel, 1e-4);
        worst = rel > worst ? rel : worst;
    }
    printf("  running statistics           worst rel err %.2e\n", worst);

    if (cfg.kind == SU_MODEL_SPIKING) {
        const ref_entry *rates = ref_get(r, "%s/rates", tag);
        CHECK(rates && rates->numel == su_model_num_lif(m), "firing rates: %d LIF layers", su_model_num_lif(m));
        for (int i = 0; rates && i < su_model_num_lif(m); i++)
            CHECK_NEAR(su_model_firing_rate(m, i), ((float *)rates->data)[i], 1e-6, su_model_lif_name(m, i));
        for (int i = 0; i < su_model_num_lif(m); i++) {
            const ref_entry *s = ref_get(r, "%s/spikes/%s", tag, su_model_lif_name(m, i));
            if (!s) continue;
            float *ours = malloc(sizeof(float) * s->numel);
            long n = su_model_lif_spikes(m, i, ours);
            CHECK(n == s->numel, "%s spikes: %ld values, reference %ld", su_model_lif_name(m, i), n, s->numel);
            long mismatch = 0;
            const uint8_t *rs = s->data;
            for (long j = 0; j < n && j < s->numel; j++) mismatch += ours[j] != (float)rs[j];
            CHECK(mismatch == 0, "%s: %ld spikes differ", su_model_lif_name(m, i), mismatch);
            printf("  spikes %-20s  %ld of %ld differ\n", su_model_lif_name(m, i), mismatch, n);
            free(ours);
        }
    }

    /* evaluation mode: batch norm with the running statistics of that forward */
    CHECK_OK(su_model_forward(m, in->data, 0, &logits, &err), &err);
    const ref_entry *el = ref_get(r, "%s/eval_logits", tag);
    e = compare("evaluation logits", logits, el->data, el->numel, 1e-4);
    printf("  evaluation-mode logits       rel err %.2e\n", e);

    /* five Adam steps from the same start */
    load_params(m, r, tag);
    su_adam_config ac;
    su_adam_config_default(&ac);
    ac.lr = lr;
    const float *ref_losses = ref_get(r, "%s/adam_losses", tag)->data;
    for (int step = 1; step <= 5; step++) {
        CHECK_OK(su_model_forward(m, in->data, 1, NULL, &err), &err);
        su_model_zero_grad(m);
        CHECK_OK(su_model_backward(m, lab->data, SU_LOSS_CE_DICE, NULL, &v, &err), &err);
        CHECK_NEAR(v.total, ref_losses[step - 1], 1e-4 * fabs(ref_losses[step - 1]), "Adam step loss");
        su_adam_step(su_model_params(m), su_model_grads(m), su_model_adam_m(m), su_model_adam_v(m),
                     su_model_trainable_mask(m), su_model_num_params(m), step, &ac);
        su_model_params_changed(m);
    }
    /* Parameters after the 5 steps, relative to how far they moved: Adam's first step is lr * sign(g)
     * for every entry, so an entry whose gradient is below float noise (there are some) moves by +-lr
     * in either implementation; everything else agrees to rounding. A wrong sign or a missing term in
     * Adam errs by the whole movement or more, everywhere. (Adam itself is checked exactly above.) */
    worst = 0;
    double worst_mean = 0;
    for (int i = 0; i < su_model_num_tensors(m); i++) {
        const su_tensor_info *t = su_model_tensor(m, i);
        const ref_entry *g = ref_get(r, "%s/final/%s", tag, t->name), *p0 = ref_get(r, "%s/param/%s", tag, t->name);
        CHECK(g != NULL && p0 != NULL, "no final value for %s", t->name);
        if (!g || !p0) continue;
        const float *rf = g->data, *ri = p0->data;
        double move = 0, maxerr = 0, sumerr = 0;
        for (long j = 0; j < t->numel; j++) {
            move = fmax(move, fabs((double)rf[j] - ri[j]));
            maxerr = fmax(maxerr, fabs((double)t->data[j] - rf[j]));
            sumerr += fabs((double)t->data[j] - rf[j]);
        }
        double rel = move > 0 ? maxerr / move : maxerr, mean_rel = move > 0 ? sumerr / t->numel / move : 0;
        CHECK(rel <= 0.5, "%s after 5 Adam steps: error %.3g of a movement of %.3g", t->name, maxerr, move);
        CHECK(mean_rel <= 0.05, "%s after 5 Adam steps: mean error %.3g of the movement", t->name, mean_rel);
        worst = rel > worst ? rel : worst;
        worst_mean = mean_rel > worst_mean ? mean_rel : worst_mean;
    }
    printf("  after 5 Adam steps           err of the movement: worst %.2e, worst mean %.2e (losses %.5f .. %.5f)\n",
           worst, worst_mean, ref_losses[0], ref_losses[4]);
    su_model_destroy(m);
}

static void test_lif_layers(const ref_file *r) {
    int n_cases = 0;
    for (int i = 0; i < r->n; i++) {
        const char *name = r->e[i].name;
        size_t len = strlen(name);
        if (strncmp(name, "lif/", 4) || len < 7 || strcmp(name + len - 7, "/params")) continue;
        char tag[96];
        snprintf(tag, sizeof tag, "%.*s", (int)(len - 7), name);
        const int64_t *pr = r->e[i].data;
        const float *vals = ref_get(r, "%s/values", tag)->data;
        const ref_entry *x = ref_get(r, "%s/x", tag);
        const int T = x->dims[0], n = x->dims[1], C = x->dims[2];
        su_lif_config cfg = {(su_reset)pr[0], (su_surrogate)pr[1], vals[2]};
        float one[8], zero[8];
        for (int c = 0; c < 8; c++) one[c] = 1, zero[c] = 0;
        su_lif_args args = {T, n, C, 0, one, zero, &vals[0], &vals[1], 1};
        uint8_t *spikes = malloc((size_t)T * n * C);
        float *dx = malloc(sizeof(float) * T * n * C);
        su_lif_forward(spikes, C, x->data, &args, &cfg);
        const float *rs = ref_get(r, "%s/spikes", tag)->data;
        long mismatch = 0;
        for (long j = 0; j < (long)T * n * C; j++) mismatch += spikes[j] != rs[j];
        CHECK(mismatch == 0, "%s: %ld spikes differ", tag, mismatch);
        double scratch[64];
        float dbeta = 0, dtheta = 0;
        su_lif_backward(dx, &dbeta, &dtheta, ref_get(r, "%s/g", tag)->data, x->data, &args, &cfg, scratch);
        compare(tag, dx, ref_get(r, "%s/dx", tag)->data, (long)T * n * C, 1e-5);
        float rb = *(float *)ref_get(r, "%s/dbeta", tag)->data, rt = *(float *)ref_get(r, "%s/dtheta", tag)->data;
        CHECK_NEAR(dbeta, rb, 1e-4 * (fabs(rb) + 1), "dbeta");
        CHECK_NEAR(dtheta, rt, 1e-4 * (fabs(rt) + 1), "dtheta");
        free(spikes), free(dx);
        n_cases++;
    }
    printf("LIF layers alone: %d cases (3 resets x 2 surrogates x beta clamped or not)\n", n_cases);
    CHECK(n_cases == 12, "expected 12 standalone LIF cases, found %d", n_cases);
}

static void test_lif_identity(void) {
    /* T = 1 from rest: S = [X > theta] exactly, U == theta does not fire */
    float x[5] = {0.5f, 1.0f, 1.0000001f, 2.0f, -3.0f}, one = 1, zero = 0, beta = 0.9f, theta = 1.0f;
    uint8_t s[5], out[4];
    su_lif_config cfg = {SU_RESET_SUBTRACT, SU_SURROGATE_ATAN, 2.0f};
    su_lif_args args = {1, 5, 1, 0, &one, &zero, &beta, &theta, 1};
    su_lif_forward(s, 1, x, &args, &cfg);
    CHECK(s[0] == 0 && s[1] == 0 && s[2] == 1 && s[3] == 1 && s[4] == 0, "T=1: S = [X > theta]");
    /* a hand-computed sequence, beta 0.5: U = 0.6, 0.9, 1.05 (spike), then 0.525 + 1.5 - 1 = 1.025 */
    float seq[4] = {0.6f, 0.6f, 0.6f, 1.5f};
    float half = 0.5f;
    su_lif_args a4 = {4, 1, 1, 0, &one, &zero, &half, &theta, 1};
    su_lif_forward(out, 1, seq, &a4, &cfg);
    CHECK(out[0] == 0 && out[1] == 0 && out[2] == 1 && out[3] == 1, "hand sequence (subtract)");
    cfg.reset = SU_RESET_ZERO; /* U4 = 0.5 * 0 * 1.05 + 1.5 */
    su_lif_forward(out, 1, seq, &a4, &cfg);
    CHECK(out[3] == 1, "hand sequence (zero)");
    float seq2[3] = {0.6f, 0.6f, 0.3f}; /* subtract: 0.6, 0.9, 0.75 (no spike); zero: same */
    su_lif_args a3 = {3, 1, 1, 0, &one, &zero, &half, &theta, 1};
    su_lif_forward(out, 1, seq2, &a3, &cfg);
    CHECK(out[0] == 0 && out[1] == 0 && out[2] == 0, "no spike below threshold");
    CHECK_NEAR(su_lif_surrogate(0, &cfg), 1.0, 1e-7, "atan surrogate at U = theta: alpha/2 = 1");
    CHECK_NEAR(su_lif_surrogate(0.5f, &cfg), 1.0 / (1 + M_PI * M_PI * 0.25), 1e-6, "atan surrogate at 0.5");
    su_lif_config fs = {SU_RESET_SUBTRACT, SU_SURROGATE_FAST_SIGMOID, 25.0f};
    CHECK_NEAR(su_lif_surrogate(0.2f, &fs), 1.0 / 36, 1e-7, "fast sigmoid at 0.2 (slope 25)");
}

static void test_adam(const ref_file *r) {
    const ref_entry *p0 = ref_get(r, "adam/p0");
    if (!p0) {
        CHECK(0, "reference lacks adam/");
        return;
    }
    long n = p0->numel;
    float *p = malloc(sizeof(float) * n), *m = calloc(n, sizeof(float)), *v = calloc(n, sizeof(float));
    memcpy(p, p0->data, sizeof(float) * n);
    su_adam_config c = {1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f};
    for (int i = 0; i < 3; i++) {
        su_adam_step(p, ref_get(r, "adam/g%d", i)->data, m, v, NULL, (size_t)n, i + 1, &c);
        char what[32];
        snprintf(what, sizeof what, "Adam step %d", i + 1);
        double e = compare(what, p, ref_get(r, "adam/p%d", i + 1)->data, n, 1e-6);
        printf("Adam (weight decay, gradients of 1, 1e-3, 10): step %d rel err %.1e\n", i + 1, e);
    }
    free(p), free(m), free(v);
}

int main(void) {
    ref_file r = {0};
    if (ref_load(&r, "tests/reference/reference.bin")) {
        fprintf(stderr, "cannot read tests/reference/reference.bin (regenerate with tests/reference/make_reference.py)\n");
        return 1;
    }
    test_lif_identity();
    test_lif_layers(&r);
    test_adam(&r);
    test_variant(&r, "unet");
    test_variant(&r, "spk_fixed");
    test_variant(&r, "spk_learn");
    test_variant(&r, "spk_zero_fs");
    for (int i = 0; i < r.n; i++) free(r.e[i].data);
    free(r.e);
    free(r.blob);
    return check_report("reference");
}
