/* spikeunet model: the layer table of a network, its totals and the memory a step needs. */
#include <stdlib.h>

#include "common.h"
#include "spikeunet/model.h"

static const char *kind_name(su_layer_kind k) {
    static const char *const names[] = {"conv", "batchnorm", "relu", "lif", "maxpool", "upconv", "concat", "mean"};
    return names[k];
}

int cmd_model(int argc, char **argv) {
    cli_model_args ma;
    cli_model_args_default(&ma);
    const char *shape = "16x128x128";
    int batch = 1, no_plan = 0;
    cli_opt opts[] = {CLI_MODEL_OPTS(ma),
                      {"--shape", OPT_STRING, &shape, "DxHxW", "input volume on the network grid"},
                      {"--batch", OPT_INT, &batch, "B", "volumes per step (for the memory figures)"},
                      {"--no-plan", OPT_FLAG, &no_plan, NULL, "skip building the kernels (memory is then estimated)"},
                      {NULL, 0, NULL, NULL, NULL}};
    cli_command cmd = {"model", "Print every layer with its output shape, parameters and MACs, the totals, and the "
                                "memory a training step and an inference pass need.",
                       "spikeunet model [--model unet|spiking] [--base N --depth N --shape DxHxW --timesteps T]",
                       "MACs are multiply-accumulates for one volume, all time steps included (the spiking network's "
                       "first convolution runs once: its input is the same at every step).", NULL};
    int rc = cli_parse(&cmd, opts, argc, argv, NULL, 0, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    su_model_config cfg;
    int dims[3];
    if ((rc = cli_model_config(&cfg, &ma, "model")) || (rc = cli_parse_dims(dims, 3, shape, "--shape", "model")))
        return rc;
    const int D = dims[0], H = dims[1], W = dims[2], f = 1 << cfg.depth;
    if (H % f || W % f) {
        cli_error("model", "--shape: H and W must be multiples of 2^depth = %d", f);
        return CLI_USAGE;
    }
    if (batch < 1) {
        cli_error("model", "--batch must be at least 1");
        return CLI_USAGE;
    }
    int n = su_model_layers(&cfg, D, H, W, NULL, 0);
    su_layer_info *rows = calloc((size_t)n, sizeof *rows);
    su_model_layers(&cfg, D, H, W, rows, n);
    const int spk = cfg.kind == SU_MODEL_SPIKING;
    char steps[32] = "";
    if (spk) snprintf(steps, sizeof steps, ", T = %d", cfg.timesteps);
    printf("%s, base %d, depth %d%s, input %dx%dx%d (D x H x W), pooling (1,2,2) at every level\n\n",
           spk ? "Spiking 3D U-Net" : "3D U-Net", cfg.base, cfg.depth, steps, D, H, W);
    printf("%-12s %-9s %5s  %-22s %10s %12s\n", "layer", "kind", "steps", "output (C x D x H x W)", "params", "MMAC");
    double macs = 0;
    long params = 0;
    for (int i = 0; i < n; i++) {
        const su_layer_info *r = &rows[i];
        char out[32];
        snprintf(out, sizeof out, "%d x %d x %d x %d", r->C, r->D, r->H, r->W);
        printf("%-12s %-9s %5d  %-22s %10ld %12.1f\n", r->name, kind_name(r->kind), r->steps, out, r->params,
               r->macs / 1e6);
        macs += r->kind == SU_LAYER_CONV || r->kind == SU_LAYER_UPCONV ? r->macs : 0;
        params += r->params;
    }
    printf("\ntotal: %ld parameters, %.2f GMAC per volume in convolutions%s\n", params, macs / 1e9,
           spk ? " (all time steps; spike-fed layers cost accumulates, see `spikeunet energy`)" : "");
    if (spk) printf("       %d LIF layers; neuron state kept for backpropagation through time: one float (the conv "
                    "output) and one spike per neuron-step\n", 2 * (2 * cfg.depth + 1));

    su_error err;
    char b1[32], b2[32], b3[32], b4[32];
    for (int training = 1; training >= 0; training--) {
        size_t act = su_model_estimate_bytes(&cfg, batch, D, H, W, training), total = act;
        su_model *m = NULL;
        if (!no_plan) {
            if (su_model_create(&m, &cfg, 1, &err) || su_model_plan(m, batch, D, H, W, training, &err)) {
                cli_error("model", "%s", err.msg);
                su_model_destroy(m);
                free(rows);
                return CLI_FAIL;
            }
            total = su_model_plan_bytes(m);
        }
        size_t pbytes = (size_t)params * sizeof(float) * (training ? 4 : 1);
        printf("%s (batch %d): activations%s %s + kernels' weight copies and scratch %s + parameters%s %s = %s%s\n",
               training ? "memory for a training step" : "memory for an inference pass", batch,
               training ? " and gradients" : "", cli_bytes(b1, sizeof b1, act), cli_bytes(b2, sizeof b2, (double)(total - act)),
               training ? ", gradients, Adam moments" : "", cli_bytes(b3, sizeof b3, pbytes),
               cli_bytes(b4, sizeof b4, (double)(total + pbytes)), no_plan ? " (kernels not built)" : "");
        su_model_destroy(m);
    }
    free(rows);
    return CLI_OK;
}
