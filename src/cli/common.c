/* Helpers shared by the commands: model flags, dimensions, threads, byte counts. */
#include "common.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "spikeunet/model_io.h"
#include "spikeunet/postprocess.h"

void cli_model_args_default(cli_model_args *a) {
    su_model_config c;
    su_model_config_default(&c, SU_MODEL_SPIKING);
    a->model = "unet";
    a->base = c.base;
    a->depth = c.depth;
    a->timesteps = c.timesteps;
    a->beta = c.beta;
    a->theta = c.theta;
    a->slope = c.lif.slope;
    a->reset = "subtract";
    a->surrogate = "atan";
    a->learn_beta = "none";
    a->learn_theta = "none";
}

static int pick(const char *cmd, const char *flag, const char *value, const char *const *names, int n, int *out) {
    for (int i = 0; i < n; i++)
        if (!strcmp(value, names[i])) {
            *out = i;
            return 0;
        }
    cli_error(cmd, "%s: unknown value '%s'", flag, value);
    return CLI_USAGE;
}

int cli_model_config(su_model_config *cfg, const cli_model_args *a, const char *cmd) {
    su_model_kind kind;
    if (su_model_kind_parse(&kind, a->model)) {
        cli_error(cmd, "--model: expected unet or spiking, got '%s'", a->model);
        return CLI_USAGE;
    }
    su_model_config_default(cfg, kind);
    cfg->base = a->base;
    cfg->depth = a->depth;
    cfg->timesteps = kind == SU_MODEL_SPIKING ? a->timesteps : 1;
    cfg->beta = a->beta;
    cfg->theta = a->theta;
    cfg->lif.slope = a->slope;
    static const char *const resets[] = {"subtract", "zero", "none"}, *const surr[] = {"atan", "fast_sigmoid"},
                             *const learn[] = {"none", "layer", "channel"};
    int r, s, lb, lt;
    if (pick(cmd, "--reset", a->reset, resets, 3, &r) || pick(cmd, "--surrogate", a->surrogate, surr, 2, &s) ||
        pick(cmd, "--learn-beta", a->learn_beta, learn, 3, &lb) ||
        pick(cmd, "--learn-threshold", a->learn_theta, learn, 3, &lt))
        return CLI_USAGE;
    cfg->lif.reset = (su_reset)r;
    cfg->lif.surrogate = (su_surrogate)s;
    cfg->learn_beta = (su_learn)lb;
    cfg->learn_theta = (su_learn)lt;
    su_error err;
    if (su_model_config_check(cfg, &err)) {
        cli_error(cmd, "%s", err.msg);
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cli_parse_dims(int *dims, int n, const char *text, const char *flag, const char *cmd) {
    const char *p = text;
    for (int i = 0; i < n; i++) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 100000 || (i < n - 1 ? *end != 'x' : *end != 0)) {
            cli_error(cmd, "%s: expected %s, got '%s'", flag, n == 3 ? "DxHxW (e.g. 16x128x128)" : "BxDxHxW (e.g. 1x16x128x128)", text);
            return CLI_USAGE;
        }
        dims[i] = (int)v;
        p = end + 1;
    }
    return CLI_OK;
}

int cli_set_threads(int threads, const char *cmd) {
    if (threads < 0 || threads > 1024) {
        cli_error(cmd, "--threads: expected 0 (all cores) to 1024, got %d", threads);
        return CLI_USAGE;
    }
    if (threads > 0) omp_set_num_threads(threads);
    return CLI_OK;
}

int cli_keep_mode(const char *value, const char *cmd) {
    if (!value) return 0;
    if (!strcmp(value, "heart")) return SU_KEEP_HEART;
    if (!strcmp(value, "structures")) return SU_KEEP_PER_STRUCTURE;
    cli_error(cmd, "--keep-largest: expected heart or structures, got '%s'", value);
    return -1;
}

const char *cli_bytes(char *buf, size_t size, double bytes) {
    if (bytes >= 1e9)
        snprintf(buf, size, "%.2f GB", bytes / 1e9);
    else if (bytes >= 1e6)
        snprintf(buf, size, "%.1f MB", bytes / 1e6);
    else
        snprintf(buf, size, "%.1f kB", bytes / 1e3);
    return buf;
}
