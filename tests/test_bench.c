/* The benchmark harness: FLOP counts (hand-computed, and the project's shapes as computed independently by
 * bench/torch_reference.py's conv_flops), the statistics, the JSON shape, and that the timing functions run
 * and fill what they promise. No timing is asserted beyond being positive. */
#include <cjson/cJSON.h>

#include "check.h"
#include "spikeunet/bench.h"

static su_model_config tiny(su_model_kind kind, int T) {
    su_model_config c;
    su_model_config_default(&c, kind);
    c.base = 2, c.depth = 1;
    if (kind == SU_MODEL_SPIKING) c.timesteps = T;
    return c;
}

static void test_flops(void) {
    su_error err = {{0}};
    su_bench_flops f;
    /* 3D U-Net base 2, depth 1, 1 x 2 x 2 grid, 1 input channel, 4 classes. MACs by hand:
     *   enc0.conv1 4 vox * 2 * 1 * 27 = 216, enc0.conv2 4*2*2*27 = 432, enc1.conv1 1*4*2*27 = 216,
     *   enc1.conv2 1*4*4*27 = 432, up0 4 vox * 2 * 4 = 32, dec0.conv1 4*2*4*27 = 864, dec0.conv2 432,
     *   out 4*4*2 = 32: total 2656, first layer 216. */
    su_model_config c = tiny(SU_MODEL_UNET, 1);
    CHECK_OK(su_bench_count_flops(&f, &c, 1, 1, 2, 2, &err), &err);
    CHECK_NEAR(f.conv_macs, 2656, 0, "U-Net MACs");
    CHECK_NEAR(f.first_macs, 216, 0, "first layer MACs");
    CHECK_NEAR(f.infer, 5312, 0, "inference FLOPs = 2 MACs");
    CHECK_NEAR(f.train, 15504, 0, "training FLOPs = 2 (3 MACs - first)");
    /* spiking T = 3: the first conv and the output conv run once, the rest T times:
     * 216 + 3 * (432 + 216 + 432 + 32 + 864 + 432) + 32 = 7472 */
    c = tiny(SU_MODEL_SPIKING, 3);
    CHECK_OK(su_bench_count_flops(&f, &c, 1, 1, 2, 2, &err), &err);
    CHECK_NEAR(f.infer, 14944, 0, "spiking inference FLOPs");
    CHECK_NEAR(f.train, 44400, 0, "spiking training FLOPs");
    CHECK_OK(su_bench_count_flops(&f, &c, 2, 1, 2, 2, &err), &err);
    CHECK_NEAR(f.train, 88800, 0, "B = 2 doubles");
    /* the benchmark shape, base 16, depth 4, 1 x 16 x 128 x 128 (bench/torch_reference.py conv_flops) */
    su_model_config_default(&c, SU_MODEL_UNET);
    CHECK_OK(su_bench_count_flops(&f, &c, 1, 16, 128, 128, &err), &err);
    CHECK_NEAR(f.infer, 70187483136.0, 0, "U-Net 16x128x128 inference");
    CHECK_NEAR(f.train, 210335956992.0, 0, "U-Net 16x128x128 training");
    su_model_config_default(&c, SU_MODEL_SPIKING);
    c.timesteps = 4;
    CHECK_OK(su_bench_count_flops(&f, &c, 1, 16, 128, 128, &err), &err);
    CHECK_NEAR(f.infer, 279969792000.0, 0, "spiking T=4 inference");
    CHECK_NEAR(f.train, 839682883584.0, 0, "spiking T=4 training");
    c.timesteps = 8;
    CHECK_OK(su_bench_count_flops(&f, &c, 1, 16, 128, 128, &err), &err);
    CHECK_NEAR(f.train, 1678812119040.0, 0, "spiking T=8 training");
    c.depth = 0;
    CHECK_FAILS_WITH(su_bench_count_flops(&f, &c, 1, 16, 128, 128, &err), &err, "depth");
    su_model_config_default(&c, SU_MODEL_UNET);
    CHECK_FAILS_WITH(su_bench_count_flops(&f, &c, 0, 16, 128, 128, &err), &err, "0x16x128x128");
}

static void test_stats(void) {
    su_bench_stats s;
    const double odd[3] = {3, 1, 2}, even[4] = {4, 1, 3, 2};
    su_bench_summarize(&s, odd, 3);
    CHECK(s.n == 3 && s.median == 2 && s.min == 1 && s.max == 3 && s.mean == 2, "odd: median %g", s.median);
    su_bench_summarize(&s, even, 4);
    CHECK(s.n == 4 && s.median == 2.5 && s.min == 1 && s.max == 4 && s.mean == 2.5, "even: median %g", s.median);
    CHECK(odd[0] == 3 && even[0] == 4, "the input is not reordered");
    su_bench_summarize(&s, odd, 0);
    CHECK(s.n == 0, "no samples");
}

static void test_probes(void) {
    su_error err = {{0}};
    su_bench_peak p;
    CHECK_OK(su_bench_peak_flops(&p, 1, 0.02, &err), &err);
    CHECK(p.gflops > 0.1 && p.gflops < 1e5, "peak %g GFLOP/s", p.gflops);
    CHECK(p.threads == 1 && p.seconds > 0, "threads %d, %g s", p.threads, p.seconds);
    CHECK(!strcmp(p.isa, "avx512f") || !strcmp(p.isa, "avx2+fma") || !strcmp(p.isa, "scalar"), "isa %s", p.isa);
    CHECK_FAILS_WITH(su_bench_peak_flops(&p, 0, 0.02, &err), &err, "threads");
    CHECK_FAILS_WITH(su_bench_peak_flops(&p, 1, 0, &err), &err, "out of range");
    double cur = su_bench_current_rss_mb(), peak = su_bench_peak_rss_mb();
    CHECK(cur > 0 && peak > 0, "resident %g MB, peak %g MB", cur, peak);
    /* 64 MB touched raises the peak by about that much */
    size_t n = 64u << 20;
    char *big = malloc(n);
    memset(big, 1, n);
    double peak2 = su_bench_peak_rss_mb();
    CHECK(peak2 >= cur + 60, "peak %g MB after touching 64 MB (resident before %g)", peak2, cur);
    free(big);
    double t0 = su_bench_now(), t1 = su_bench_now();
    CHECK(t1 >= t0 && t0 > 0, "monotonic clock");
}

static void test_model_timing(void) {
    su_error err = {{0}};
    for (int kind = 0; kind < 2; kind++) {
        su_model_config c = tiny(kind ? SU_MODEL_SPIKING : SU_MODEL_UNET, 2);
        su_model *m = NULL;
        CHECK_OK(su_model_create(&m, &c, 1, &err), &err);
        if (!m) return;
        enum { B = 1, D = 2, H = 4, W = 4 };
        float x[B * D * H * W];
        uint8_t y[B * D * H * W];
        for (int i = 0; i < B * D * H * W; i++) x[i] = (float)((i * 7) % 11) / 5 - 1, y[i] = (uint8_t)(i % 4);
        double ti[3] = {0}, tt[2] = {0};
        CHECK_OK(su_bench_infer(m, x, B, D, H, W, 1, 3, ti, &err), &err);
        CHECK(ti[0] > 0 && ti[1] > 0 && ti[2] > 0, "inference times %g %g %g", ti[0], ti[1], ti[2]);
        double rate = su_bench_mean_firing_rate(m);
        if (kind)
            CHECK(rate >= 0 && rate <= 1, "firing rate %g", rate);
        else
            CHECK(rate == -1, "U-Net has no firing rate (%g)", rate);
        su_adam_config ac;
        su_adam_config_default(&ac);
        float before = su_model_params(m)[0];
        CHECK_OK(su_bench_train(m, x, y, B, D, H, W, 0, 2, &ac, tt, &err), &err);
        CHECK(tt[0] > 0 && tt[1] > 0, "training times %g %g", tt[0], tt[1]);
        CHECK(su_model_params(m)[0] != before, "Adam moved the parameters");
        CHECK_FAILS_WITH(su_bench_infer(m, x, B, D, H, W, 0, 0, ti, &err), &err, "runs >= 1");
        CHECK_FAILS_WITH(su_bench_infer(m, x, B, D, 3, W, 0, 1, ti, &err), &err, "does not fit");
        su_model_destroy(m);
    }
    CHECK(su_bench_adam(1000, 3) > 0, "Adam timing");
}

static void test_layers(void) {
    su_error err = {{0}};
    su_model_config c = tiny(SU_MODEL_SPIKING, 2);
    su_bench_layer L[16];
    int n = 0;
    CHECK_OK(su_bench_layers(&c, 1, 1, 4, 4, 0, 1, L, 16, &n, &err), &err);
    CHECK(n == 8, "8 convolutions in a depth-1 U-Net, got %d", n);
    if (n != 8) return;
    /* name, kind, N (steps * B), Cin, Cout: the first conv runs once, the output conv on the mean */
    const char *names[8] = {"enc0.conv1", "enc0.conv2", "enc1.conv1", "enc1.conv2", "up0", "dec0.conv1",
                            "dec0.conv2", "out"};
    const int kinds[8] = {SU_CONV3, SU_CONV3, SU_CONV3, SU_CONV3, SU_UPCONV, SU_CONV3, SU_CONV3, SU_CONV1};
    const int Ns[8] = {1, 2, 2, 2, 2, 2, 2, 1}, cin[8] = {1, 2, 2, 4, 4, 4, 2, 2}, cout[8] = {2, 2, 4, 4, 2, 2, 2, 4};
    for (int i = 0; i < 8; i++) {
        CHECK(!strcmp(L[i].name, names[i]) && (int)L[i].kind == kinds[i] && L[i].N == Ns[i] && L[i].Cin == cin[i] &&
                  L[i].Cout == cout[i],
              "layer %d: %s kind %d N %d %d -> %d", i, L[i].name, L[i].kind, L[i].N, L[i].Cin, L[i].Cout);
        CHECK(L[i].need_din == (i > 0), "%s need_din %d", L[i].name, L[i].need_din);
        CHECK(L[i].conv_fwd_s > 0 && L[i].conv_bwd_s > 0, "%s timed", L[i].name);
        CHECK((L[i].act_fwd_s > 0) == (kinds[i] == SU_CONV3), "%s: BN + LIF timed only after 3x3x3", L[i].name);
    }
    /* enc0.conv1: 16 voxels * 2 * 1 * 27 = 864 MACs, once; backward without data gradient = 1x */
    CHECK_NEAR(L[0].flops_fwd, 1728, 0, "enc0.conv1 forward FLOPs");
    CHECK_NEAR(L[0].flops_bwd, 1728, 0, "enc0.conv1 backward FLOPs (weights only)");
    /* enc0.conv2: 16 * 2 * 2 * 27 * T=2 = 3456 MACs; backward data + weights = 2x */
    CHECK_NEAR(L[1].flops_bwd, 2 * 2 * 3456, 0, "enc0.conv2 backward FLOPs");
    /* real taps on a 1 x 4 x 4 grid with padding 1: (1/3) (10/12) (10/12) */
    CHECK_NEAR(L[0].real_frac, (1.0 / 3) * (10.0 / 12) * (10.0 / 12), 1e-12, "share of non-padding taps");
    CHECK_NEAR(L[4].real_frac, 1, 0, "transposed conv has no padding");
    /* more layers than room: only max are timed */
    CHECK_OK(su_bench_layers(&c, 1, 1, 4, 4, 0, 1, L, 3, &n, &err), &err);
    CHECK(n == 3, "max 3 rows, got %d", n);
}

static void test_json(void) {
    su_error err = {{0}};
    su_bench_result r;
    memset(&r, 0, sizeof r);
    r.model = "spiking";
    r.timesteps = 4, r.B = 1, r.D = 16, r.H = 128, r.W = 128, r.base = 16, r.depth = 4, r.threads = 2;
    r.warmup = 1, r.runs = 3;
    r.flops.infer = 2e9, r.flops.train = 6e9;
    r.peak.gflops = 200, r.peak.isa = "avx512f";
    const double times[3] = {0.5, 0.4, 0.6};
    su_bench_summarize(&r.infer, times, 3);
    r.infer_times = times;
    r.peak_rss_mb = 1234.5, r.base_rss_mb = 7, r.plan_mb = 1000, r.firing_rate = 0.125, r.adam_s = -1;
    r.weights = "random-init seed 1";
    char *js = NULL;
    CHECK_OK(su_bench_json(&js, &r, &err), &err);
    cJSON *o = cJSON_Parse(js);
    CHECK(o != NULL, "valid JSON: %s", js ? js : "(null)");
    if (!o) {
        free(js);
        return;
    }
    CHECK(strchr(js, '\n') == NULL, "one line");
    const char *required[] = {"model", "timesteps", "shape", "threads", "infer_s", "train_s", "infer_gflops",
                              "train_gflops", "peak_gflops", "peak_rss_mb"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        CHECK(cJSON_HasObjectItem(o, required[i]), "key %s", required[i]);
    CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(o, "model")), "spiking"), "model");
    CHECK(cJSON_GetObjectItem(o, "timesteps")->valuedouble == 4, "timesteps");
    cJSON *shape = cJSON_GetObjectItem(o, "shape");
    CHECK(cJSON_GetArraySize(shape) == 4 && cJSON_GetArrayItem(shape, 0)->valueint == 1 &&
              cJSON_GetArrayItem(shape, 1)->valueint == 16 && cJSON_GetArrayItem(shape, 3)->valueint == 128,
          "shape [B, D, H, W]");
    CHECK_NEAR(cJSON_GetObjectItem(o, "infer_s")->valuedouble, 0.5, 1e-12, "infer_s = median");
    CHECK_NEAR(cJSON_GetObjectItem(o, "infer_min_s")->valuedouble, 0.4, 1e-12, "infer_min_s");
    CHECK_NEAR(cJSON_GetObjectItem(o, "infer_max_s")->valuedouble, 0.6, 1e-12, "infer_max_s");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(o, "infer_times")) == 3, "infer_times");
    CHECK_NEAR(cJSON_GetObjectItem(o, "infer_gflops")->valuedouble, 4, 1e-9, "2e9 FLOPs / 0.5 s");
    CHECK_NEAR(cJSON_GetObjectItem(o, "infer_peak_pct")->valuedouble, 2, 1e-9, "4 of 200 GFLOP/s");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(o, "train_s")) && cJSON_IsNull(cJSON_GetObjectItem(o, "train_gflops")),
          "unmeasured training is null");
    CHECK_NEAR(cJSON_GetObjectItem(o, "train_flops")->valuedouble, 6e9, 0, "train_flops");
    CHECK_NEAR(cJSON_GetObjectItem(o, "peak_gflops")->valuedouble, 200, 0, "peak_gflops");
    CHECK_NEAR(cJSON_GetObjectItem(o, "peak_rss_mb")->valuedouble, 1234.5, 0, "peak_rss_mb");
    CHECK_NEAR(cJSON_GetObjectItem(o, "firing_rate")->valuedouble, 0.125, 0, "firing_rate");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(o, "adam_s")), "adam_s null when not measured");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(o, "input")), "input null");
    CHECK(!cJSON_HasObjectItem(o, "layers"), "no layers key without layers");
    cJSON_Delete(o);
    free(js);

    su_bench_layer L;
    memset(&L, 0, sizeof L);
    strcpy(L.name, "enc0.conv2");
    L.kind = SU_CONV3, L.N = 4, L.D = 16, L.H = 128, L.W = 128, L.Cin = L.Cout = 16, L.need_din = 1;
    L.flops_fwd = 1e9, L.conv_fwd_s = 0.01, L.real_frac = 0.9;
    r.layers = &L, r.n_layers = 1;
    CHECK_OK(su_bench_json(&js, &r, &err), &err);
    o = cJSON_Parse(js);
    cJSON *layers = o ? cJSON_GetObjectItem(o, "layers") : NULL;
    CHECK(cJSON_GetArraySize(layers) == 1, "one layer");
    cJSON *l0 = cJSON_GetArrayItem(layers, 0);
    CHECK(l0 && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(l0, "name")), "enc0.conv2") &&
              !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(l0, "kind")), "conv3") &&
              cJSON_GetObjectItem(l0, "conv_fwd_s")->valuedouble == 0.01 &&
              cJSON_GetArraySize(cJSON_GetObjectItem(l0, "n_d_h_w_cin_cout_din")) == 7,
          "layer entry");
    cJSON_Delete(o);
    free(js);
}

int main(void) {
    test_flops();
    test_stats();
    test_probes();
    test_model_timing();
    test_layers();
    test_json();
    return check_report("bench");
}
