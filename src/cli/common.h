/* Option groups shared by several commands (the model's architecture flags), and small parsers. */
#ifndef SPIKEUNET_CLI_COMMON_H
#define SPIKEUNET_CLI_COMMON_H

#include "cli.h"
#include "spikeunet/model.h"

typedef struct cli_model_args {
    const char *model;
    int base, depth, timesteps;
    float beta, theta, slope;
    const char *reset, *surrogate, *learn_beta, *learn_theta;
} cli_model_args;

void cli_model_args_default(cli_model_args *a);

/* The architecture flags, for a command's option table: the network kind and its shape. */
#define CLI_MODEL_OPTS(a)                                                                                  \
    {"--model", OPT_STRING, &(a).model, "unet|spiking", "network: 3D U-Net or Spiking 3D U-Net"},          \
        CLI_ARCH_OPTS(a)
/* The shape alone, for commands that build both networks (compare). */
#define CLI_ARCH_OPTS(a)                                                                                   \
        {"--base", OPT_INT, &(a).base, "N", "channels at the top level (doubling per level)"},             \
        {"--depth", OPT_INT, &(a).depth, "N", "poolings (levels below the top)"},                          \
        {"--timesteps", OPT_INT, &(a).timesteps, "T", "spiking: time steps per volume"},                    \
        {"--beta", OPT_FLOAT, &(a).beta, "B", "spiking: LIF membrane decay (clamped to [0,1])"},             \
        {"--threshold", OPT_FLOAT, &(a).theta, "V", "spiking: LIF firing threshold"},                      \
        {"--reset", OPT_STRING, &(a).reset, "subtract|zero|none", "spiking: reset after a spike"},         \
        {"--surrogate", OPT_STRING, &(a).surrogate, "atan|fast_sigmoid", "spiking: surrogate gradient"},   \
        {"--slope", OPT_FLOAT, &(a).slope, "S", "spiking: surrogate alpha (atan) or slope (fast_sigmoid; use 25)"}, \
        {"--learn-beta", OPT_STRING, &(a).learn_beta, "none|layer|channel", "spiking: learn beta"},        \
        {"--learn-threshold", OPT_STRING, &(a).learn_theta, "none|layer|channel", "spiking: learn the threshold"}

/* Builds and checks a configuration; prints the fault and returns CLI_USAGE on error. */
int cli_model_config(su_model_config *cfg, const cli_model_args *a, const char *cmd);

/* "16x128x128" (n = 3) or "1x16x128x128" (n = 4) into dims; 0 or CLI_USAGE (printed). */
int cli_parse_dims(int *dims, int n, const char *text, const char *flag, const char *cmd);

/* --threads N: 0 keeps OpenMP's default (all cores); 1..1024 sets it; anything else is a usage error. */
int cli_set_threads(int threads, const char *cmd);
#define CLI_THREADS_OPT(var) {"--threads", OPT_INT, &(var), "N", "threads, 0: all cores"}
#define CLI_KEEP_LARGEST_OPT(var)                                                                             \
    {"--keep-largest", OPT_STRING, &(var), "heart|structures",                                                \
     "post-process: keep only the largest 3D connected component of the heart (all structures together), or of " \
     "each structure"}
/* --keep-largest's value -> su_keep_mode (0 for NULL); -1 after an error message */
int cli_keep_mode(const char *value, const char *cmd);

/* "1.2 GB", "340 MB" ... */
const char *cli_bytes(char *buf, size_t size, double bytes);

#endif
