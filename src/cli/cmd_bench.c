/* spikeunet bench: time an inference pass and a training step, GFLOP/s against the machine's measured
 * peak, peak resident memory; optionally every convolution layer (with its BN + activation) alone. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "spikeunet/bench.h"
#include "spikeunet/grid.h"
#include "spikeunet/nifti.h"
#include "spikeunet/rng.h"

/* Checkpoint loading (model_io.h) is compiled in where the library has it. */
#if defined(__has_include)
#if __has_include("spikeunet/model_io.h")
#include "spikeunet/model_io.h"
#define BENCH_HAVE_MODEL_IO 1
#endif
#endif

static const cli_command CMD = {
    "bench",
    "time inference and training steps; GFLOP/s against the machine's peak",
    "spikeunet bench [--model unet|spiking] [--timesteps T] [--shape BxDxHxW] [--base N --depth N] [--threads N] "
    "[--json]",
    "Runs --warmup untimed then --runs timed repetitions of an evaluation-mode forward pass (inference) and of\n"
    "a whole training step (forward, CE+Dice loss and backward, Adam), and reports the median, min and max.\n"
    "GFLOP/s count the convolutions only, as 2 x dense MACs (spikes counted as dense inputs); a training\n"
    "step counts forward + backward-data + backward-weights (3x, the first layer has no backward-data).\n"
    "The peak is measured by a short FMA loop on every thread of this process (AVX-512 / AVX2 at run time).\n"
    "Peak memory is this process's peak resident set (getrusage): run one --mode per process to separate\n"
    "inference from training. --mode layers times every convolution alone (with the batch norm and\n"
    "ReLU/LIF after it), to see per-layer throughput and what a step spends outside convolutions.\n"
    "Without --checkpoint the weights are random (seed --seed): a spiking net then fires at other rates\n"
    "than a trained one. With --checkpoint the network (kind, base, depth, T) is the checkpoint's; --timesteps\n"
    "may still change T. --volume gives a real image (and its _gt labels when present) instead of noise.", NULL};

typedef struct opts {
    const char *model, *shape, *mode, *checkpoint, *volume;
    int timesteps, base, depth, threads, runs, warmup, layer_runs, seed, json;
    float peak_seconds;
} opts;

static int parse_shape(const char *s, int *B, int *D, int *H, int *W) {
    char tail;
    return sscanf(s, "%dx%dx%dx%d%c", B, D, H, W, &tail) == 4 && *B > 0 && *D > 0 && *H > 0 && *W > 0;
}

/* "dir/x.nii.gz" -> "dir/x_gt.nii.gz" (the ACDC naming), or NULL. */
static char *gt_path(const char *path) {
    const char *ext = NULL;
    size_t n = strlen(path);
    if (n > 7 && !strcmp(path + n - 7, ".nii.gz"))
        ext = path + n - 7;
    else if (n > 4 && !strcmp(path + n - 4, ".nii"))
        ext = path + n - 4;
    if (!ext) return NULL;
    char *g = malloc(n + 4);
    if (!g) return NULL;
    snprintf(g, n + 4, "%.*s_gt%s", (int)(ext - path), path, ext);
    return g;
}

/* The network input for B volumes: the volume on the grid (replicated), or random normal values; labels
 * from the volume's _gt file when present, else random. */
static int make_input(const opts *o, int B, int D, int H, int W, float *x, uint8_t *y, const char **desc,
                      su_error *err) {
    const size_t S = (size_t)D * H * W;
    su_rng rng;
    su_rng_seed(&rng, (uint64_t)o->seed + 1000);
    for (size_t i = 0; i < S; i++) y[i] = (uint8_t)su_rng_below(&rng, 4);
    if (!o->volume) {
        for (size_t i = 0; i < S * B; i++) x[i] = (float)su_rng_normal(&rng);
        for (int b = 1; b < B; b++) memcpy(y + b * S, y, S);
        *desc = "random normal, random labels";
        return 0;
    }
    su_volume v;
    su_grid_map map;
    if (su_nifti_read(&v, o->volume, err)) return -1;
    if (su_grid_plan(&map, v.nx, v.ny, v.nz, v.dx, v.dy, D, H, W, SU_GRID_SPACING_MM, err)) {
        su_volume_free(&v);
        return su_fail_context(err, "%s", o->volume);
    }
    su_grid_image(x, &map, v.data);
    su_volume_free(&v);
    *desc = "volume (random labels)";
    char *gp = gt_path(o->volume);
    FILE *f = gp ? fopen(gp, "rb") : NULL;
    if (f) {
        fclose(f);
        uint8_t *lab = NULL;
        if (su_nifti_read_labels(&lab, NULL, gp, err)) {
            free(gp);
            return -1;
        }
        su_grid_labels(y, &map, lab);
        free(lab);
        *desc = "volume and its labels";
    }
    free(gp);
    for (int b = 1; b < B; b++) memcpy(x + b * S, x, S * sizeof(float)), memcpy(y + b * S, y, S);
    return 0;
}

/* The loaded weights into a model of the same network (whose T may differ: no tensor depends on T). */
static int copy_weights(su_model *dst, const su_model *src, su_error *err) {
    for (int i = 0; i < su_model_num_tensors(dst); i++) {
        const su_tensor_info *d = su_model_tensor(dst, i), *s = su_model_find_tensor(src, d->name);
        if (!s || s->numel != d->numel) return su_fail(err, "bench: the checkpoint has no tensor %s of %ld values",
                                                       d->name, d->numel);
        memcpy(d->data, s->data, sizeof(float) * (size_t)d->numel);
    }
    su_model_params_changed(dst);
    return 0;
}

static void print_stats(const char *what, const su_bench_stats *s, double flops, double peak) {
    if (s->n == 0) return;
    double g = flops / s->median * 1e-9;
    printf("%-15s %8.3f s %8.3f s %8.3f s %9.1f %8.1f %% %9.1f\n", what, s->median, s->min, s->max, g,
           peak > 0 ? 100 * g / peak : 0, flops * 1e-9);
}

static void print_layers(const su_bench_layer *L, int n, double peak) {
    printf("\nconvolutions alone (median of the layer runs; backward = data + weights; act = BN statistics + "
           "BN/ReLU or LIF;\nreal = share of the dense MACs not on zero padding: kernels skipping the padding can "
           "pass 100 %% of peak)\n");
    printf("%-12s %-6s %3s %-12s %4s %4s %5s | %8s %7s %5s | %8s %7s %5s | %8s %8s\n", "layer", "kind", "N",
           "DxHxW", "Cin", "Cout", "real", "fwd ms", "GFLOP/s", "%peak", "bwd ms", "GFLOP/s", "%peak", "act f ms",
           "act b ms");
    double cf = 0, cb = 0, af = 0, ab = 0;
    for (int i = 0; i < n; i++) {
        const su_bench_layer *l = &L[i];
        char dhw[32];
        snprintf(dhw, sizeof dhw, "%dx%dx%d", l->D, l->H, l->W);
        double gf = l->flops_fwd / l->conv_fwd_s * 1e-9, gb = l->flops_bwd / l->conv_bwd_s * 1e-9;
        printf("%-12s %-6s %3d %-12s %4d %4d %5.2f | %8.2f %7.1f %5.1f | %8.2f %7.1f %5.1f | %8.2f %8.2f\n", l->name,
               l->kind == SU_CONV3 ? "conv3" : l->kind == SU_CONV1 ? "conv1" : "upconv", l->N, dhw, l->Cin, l->Cout,
               l->real_frac,
               1e3 * l->conv_fwd_s, gf, peak > 0 ? 100 * gf / peak : 0, 1e3 * l->conv_bwd_s, gb,
               peak > 0 ? 100 * gb / peak : 0, 1e3 * l->act_fwd_s, 1e3 * l->act_bwd_s);
        cf += l->conv_fwd_s, cb += l->conv_bwd_s, af += l->act_fwd_s, ab += l->act_bwd_s;
    }
    printf("sums: conv forward %.3f s, conv backward %.3f s, BN+act forward %.3f s, BN+act backward %.3f s\n", cf, cb,
           af, ab);
}

int cmd_bench(int argc, char **argv) {
    opts o = {NULL, "1x16x128x128", "both", NULL, NULL, 0, 0, 0, 0, 5, 1, 3, 1, 0, 0.2f};
    const cli_opt spec[] = {
        {"--model", OPT_STRING, &o.model, "unet|spiking", "which network (unset: unet, or the checkpoint's)"},
        {"--timesteps", OPT_INT, &o.timesteps, "T", "time steps of the spiking network (0: 4, or the checkpoint's)"},
        {"--shape", OPT_STRING, &o.shape, "BxDxHxW", "batch and grid of the input (one channel)"},
        {"--base", OPT_INT, &o.base, "N", "channels at the top level (0: 16, or the checkpoint's)"},
        {"--depth", OPT_INT, &o.depth, "N", "poolings (0: 4, or the checkpoint's)"},
        {"--threads", OPT_INT, &o.threads, "N", "OpenMP threads (0: OpenMP's default)"},
        {"--runs", OPT_INT, &o.runs, "N", "timed repetitions (>= 1; the median is reported)"},
        {"--warmup", OPT_INT, &o.warmup, "N", "untimed repetitions first"},
        {"--mode", OPT_STRING, &o.mode, "MODE", "infer, train, both, layers (each conv alone) or all"},
        {"--layer-runs", OPT_INT, &o.layer_runs, "N", "timed repetitions per layer in --mode layers"},
        {"--peak-seconds", OPT_FLOAT, &o.peak_seconds, "S", "duration of the FMA peak probe"},
        {"--seed", OPT_INT, &o.seed, "N", "seed of the random weights and input"},
        {"--checkpoint", OPT_STRING, &o.checkpoint, "FILE", "trained weights (firing rates of a trained net)"},
        {"--volume", OPT_STRING, &o.volume, "FILE", "an image (.nii/.nii.gz) as input instead of noise"},
        {"--json", OPT_FLAG, &o.json, NULL, "print one JSON object instead of the table"},
        {NULL, 0, NULL, NULL, NULL}};
    int rc = cli_parse(&CMD, spec, argc, argv, NULL, 0, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;

    int B, D, H, W;
    if (!parse_shape(o.shape, &B, &D, &H, &W)) {
        cli_error("bench", "--shape expects BxDxHxW with positive sizes, e.g. 1x16x128x128; got '%s'", o.shape);
        return CLI_USAGE;
    }
    if (o.model && strcmp(o.model, "unet") && strcmp(o.model, "spiking")) {
        cli_error("bench", "--model expects unet or spiking, got '%s'", o.model);
        return CLI_USAGE;
    }
    int do_infer = 0, do_train = 0, do_layers = 0;
    if (!strcmp(o.mode, "infer")) do_infer = 1;
    else if (!strcmp(o.mode, "train")) do_train = 1;
    else if (!strcmp(o.mode, "both")) do_infer = do_train = 1;
    else if (!strcmp(o.mode, "layers")) do_layers = 1;
    else if (!strcmp(o.mode, "all")) do_infer = do_train = do_layers = 1;
    else {
        cli_error("bench", "--mode expects infer, train, both, layers or all; got '%s'", o.mode);
        return CLI_USAGE;
    }
    if (o.runs < 1 || o.warmup < 0 || o.layer_runs < 1 || o.threads < 0 || o.timesteps < 0 || o.base < 0 ||
        o.depth < 0) {
        cli_error("bench", "need --runs >= 1, --layer-runs >= 1, --warmup >= 0 and --threads, --timesteps, --base, "
                           "--depth >= 0");
        return CLI_USAGE;
    }
    if ((rc = cli_set_threads(o.threads, "bench"))) return rc;
    const int threads = omp_get_max_threads();
    su_error err = {{0}};
    su_model *loaded = NULL;
    su_model_config cfg;
    if (o.checkpoint) {
#ifdef BENCH_HAVE_MODEL_IO
        if (su_model_load(&loaded, o.checkpoint, &err)) {
            cli_error("bench", "%s", err.msg);
            return CLI_FAIL;
        }
        cfg = *su_model_get_config(loaded);
        const char *kind = cfg.kind == SU_MODEL_SPIKING ? "spiking" : "unet";
        if ((o.model && strcmp(o.model, kind)) || (o.base && o.base != cfg.base) || (o.depth && o.depth != cfg.depth)) {
            cli_error("bench", "%s holds a %s network, base %d, depth %d: --model/--base/--depth disagree",
                      o.checkpoint, kind, cfg.base, cfg.depth);
            su_model_destroy(loaded);
            return CLI_USAGE;
        }
#else
        cli_error("bench", "--checkpoint: not available yet (this build's library has no checkpoint loading, "
                           "su_model_load); run without it for random-init weights");
        return CLI_FAIL;
#endif
    } else {
        su_model_config_default(&cfg, o.model && !strcmp(o.model, "spiking") ? SU_MODEL_SPIKING : SU_MODEL_UNET);
        if (o.base) cfg.base = o.base;
        if (o.depth) cfg.depth = o.depth;
        if (cfg.kind == SU_MODEL_SPIKING) cfg.timesteps = 4;
    }
    if (cfg.kind == SU_MODEL_SPIKING && o.timesteps) cfg.timesteps = o.timesteps;
    const int spiking = cfg.kind == SU_MODEL_SPIKING;
    if (cfg.depth >= 1 && cfg.depth <= SU_MAX_DEPTH && (H % (1 << cfg.depth) || W % (1 << cfg.depth))) {
        cli_error("bench", "--shape %s: H and W must be multiples of 2^depth = %d", o.shape, 1 << cfg.depth);
        su_model_destroy(loaded);
        return CLI_USAGE;
    }
    su_bench_result r;
    memset(&r, 0, sizeof r);
    r.model = spiking ? "spiking" : "unet";
    r.timesteps = spiking ? cfg.timesteps : 1;
    r.B = B, r.D = D, r.H = H, r.W = W, r.base = cfg.base, r.depth = cfg.depth, r.threads = threads;
    r.warmup = o.warmup, r.runs = o.runs, r.firing_rate = -1, r.adam_s = -1;
    char weights[64];
    snprintf(weights, sizeof weights, "random-init seed %d", o.seed);
    r.weights = o.checkpoint ? o.checkpoint : weights;
    r.base_rss_mb = su_bench_current_rss_mb();
    if (su_bench_count_flops(&r.flops, &cfg, B, D, H, W, &err)) {
        cli_error("bench", "%s", err.msg);
        su_model_destroy(loaded);
        return CLI_USAGE;
    }
    if (su_bench_peak_flops(&r.peak, threads, o.peak_seconds, &err)) {
        cli_error("bench", "%s", err.msg);
        su_model_destroy(loaded);
        return CLI_FAIL;
    }
    if (!o.json) {
        printf("spikeunet bench: %s, base %d, depth %d%s, input %dx1x%dx%dx%d, %d threads\n",
               spiking ? "Spiking 3D U-Net" : "3D U-Net", cfg.base, cfg.depth, "", B, D, H, W, threads);
        if (spiking) printf("time steps: %d\n", cfg.timesteps);
        printf("peak FP32: %.1f GFLOP/s (%s FMA loop, %d threads, %.2f s)\n", r.peak.gflops, r.peak.isa,
               r.peak.threads, r.peak.seconds);
        fflush(stdout);
    }

    double *ti = calloc((size_t)o.runs, sizeof(double)), *tt = calloc((size_t)o.runs, sizeof(double));
    const size_t S = (size_t)B * D * H * W;
    float *x = malloc(S * sizeof(float));
    uint8_t *y = malloc(S);
    su_bench_layer *layers = NULL;
    su_model *m = NULL;
    int status = CLI_FAIL;
    if (!ti || !tt || !x || !y) {
        cli_error("bench", "out of memory");
        goto done;
    }
    if (do_infer || do_train) {
        if (make_input(&o, B, D, H, W, x, y, &r.input, &err) || su_model_create(&m, &cfg, (uint64_t)o.seed, &err) ||
            (loaded && copy_weights(m, loaded, &err))) {
            cli_error("bench", "%s", err.msg);
            goto done;
        }
        if (!o.json) {
            printf("weights: %s%s; input: %s%s%s\n", r.weights,
                   spiking && !loaded ? " (firing rates differ from a trained net)" : "", r.input, o.volume ? " " : "",
                   o.volume ? o.volume : "");
            printf("FLOPs counted: convolutions only, 2 x dense MACs; training step = forward + backward-data + "
                   "backward-weights\n\n");
            printf("%-15s %10s %10s %10s %9s %10s %9s\n", "", "median", "min", "max", "GFLOP/s", "% of peak", "GFLOP");
            fflush(stdout);
        }
    }
    if (do_infer) {
        if (su_bench_infer(m, x, B, D, H, W, o.warmup, o.runs, ti, &err)) {
            cli_error("bench", "inference: %s", err.msg);
            goto done;
        }
        su_bench_summarize(&r.infer, ti, o.runs);
        r.infer_times = ti;
        r.plan_mb = su_model_plan_bytes(m) / 1e6;
        r.firing_rate = su_bench_mean_firing_rate(m);
        if (!o.json) print_stats("inference", &r.infer, r.flops.infer, r.peak.gflops), fflush(stdout);
    }
    if (do_train) {
        su_adam_config ac;
        su_adam_config_default(&ac);
        if (su_bench_train(m, x, y, B, D, H, W, o.warmup, o.runs, &ac, tt, &err)) {
            cli_error("bench", "training: %s", err.msg);
            goto done;
        }
        su_bench_summarize(&r.train, tt, o.runs);
        r.train_times = tt;
        double pm = su_model_plan_bytes(m) / 1e6;
        r.plan_mb = pm > r.plan_mb ? pm : r.plan_mb;
        if (!do_infer) r.firing_rate = su_bench_mean_firing_rate(m);
        if (!o.json) print_stats("training step", &r.train, r.flops.train, r.peak.gflops), fflush(stdout);
    }
    if (do_layers) {
        enum { MAXL = 4 * SU_MAX_DEPTH + 8 };
        layers = calloc(MAXL, sizeof *layers);
        if (!layers || su_bench_layers(&cfg, B, D, H, W, 1, o.layer_runs, layers, MAXL, &r.n_layers, &err)) {
            cli_error("bench", "layers: %s", layers ? err.msg : "out of memory");
            goto done;
        }
        r.layers = layers;
        /* the optimiser's share of a step, for the breakdown (outside the timed steps above) */
        su_model *tmp = NULL;
        if (su_model_create(&tmp, &cfg, 1, &err) == 0) r.adam_s = su_bench_adam(su_model_num_params(tmp), 5);
        su_model_destroy(tmp);
    }
    r.peak_rss_mb = su_bench_peak_rss_mb();
    if (o.json) {
        char *js = NULL;
        if (su_bench_json(&js, &r, &err)) {
            cli_error("bench", "%s", err.msg);
            goto done;
        }
        printf("%s\n", js);
        free(js);
    } else {
        if (r.firing_rate >= 0) printf("firing rate: %.4f (neuron-weighted mean over the LIF layers, last forward)\n",
                                       r.firing_rate);
        printf("peak resident memory: %.0f MB (%.0f MB before the model", r.peak_rss_mb, r.base_rss_mb);
        if (r.plan_mb > 0) printf("; the model's plan %.0f MB", r.plan_mb);
        printf(")\n");
        if (r.adam_s >= 0) printf("Adam step alone: %.2f ms\n", 1e3 * r.adam_s);
        if (layers) print_layers(layers, r.n_layers, r.peak.gflops);
        if (do_layers && r.train.n > 0) {
            double c = 0, a = 0;
            for (int i = 0; i < r.n_layers; i++)
                c += layers[i].conv_fwd_s + layers[i].conv_bwd_s, a += layers[i].act_fwd_s + layers[i].act_bwd_s;
            double t = r.train.median, rest = t - c - a - r.adam_s;
            printf("training step %.3f s = convolutions %.3f s (%.0f %%) + BN/act %.3f s (%.0f %%) + Adam %.3f s "
                   "(%.0f %%) + rest %.3f s (%.0f %%: pooling, concatenation, loss, weight reorders, ...)\n",
                   t, c, 100 * c / t, a, 100 * a / t, r.adam_s, 100 * r.adam_s / t, rest, 100 * rest / t);
        }
    }
    status = CLI_OK;
done:
    su_model_destroy(m);
    su_model_destroy(loaded);
    free(ti), free(tt), free(x), free(y), free(layers);
    return status;
}
