/* --preset: named training configurations, expanded into flags before parsing. */
#include "presets.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct preset {
    const char *name;
    const char *summary;
    const char *flags[16];         /* for train, compare and demo; NULL-terminated */
    const char *compare_flags[4];  /* compare and demo only (flags that name the other network's run) */
} preset;

#define PAPER_FLAGS "--lr", "1e-4", "--epochs", "100", "--batch", "1", "--timesteps", "4", "--beta", "0.95", \
                    "--threshold", "1"

static const preset PRESETS[] = {
    /* The published study: Adam lr 1e-4, 100 epochs, batch 1, no augmentation; the spiking network with the
     * LIF defaults of docs/SPIKING.md (beta 0.95, threshold 1, subtract reset, atan surrogate) at T = 4. */
    {"paper", "the published study's setup (Adam lr 1e-4, 100 epochs, batch 1, no augmentation, T = 4)",
     {PAPER_FLAGS, NULL},
     {NULL}},
    /* The best variant measured so far (docs/RESULTS.md): the study's setup, with the spiking network starting
     * from the trained 3D U-Net's weights instead of a random initialisation. train needs that checkpoint
     * (--init-from); compare and demo use the 3D U-Net they have just trained. */
    {"best", "the paper's setup, the spiking network initialised from the trained 3D U-Net (best in a screening on the sample; train: give --init-from)",
     {PAPER_FLAGS, NULL},
     {"--spiking-init", "unet", NULL}},
};

static const preset *find_preset(const char *name) {
    for (size_t i = 0; i < sizeof PRESETS / sizeof PRESETS[0]; i++)
        if (!strcmp(PRESETS[i].name, name)) return &PRESETS[i];
    return NULL;
}

void cli_print_presets(FILE *f) {
    fprintf(f, "presets:\n");
    for (size_t i = 0; i < sizeof PRESETS / sizeof PRESETS[0]; i++) {
        fprintf(f, "  %-8s %s\n          =", PRESETS[i].name, PRESETS[i].summary);
        for (const char *const *a = PRESETS[i].flags; *a; a++) fprintf(f, " %s", *a);
        if (PRESETS[i].compare_flags[0]) fprintf(f, " (compare, demo: +");
        for (const char *const *a = PRESETS[i].compare_flags; *a; a++) fprintf(f, " %s", *a);
        fprintf(f, "%s\n", PRESETS[i].compare_flags[0] ? ")" : "");
    }
}

int cli_expand_preset(const char *cmd, int argc, char **argv, int *out_argc, char ***out_argv) {
    const int compare = strcmp(cmd, "train") != 0;
    *out_argc = argc;
    *out_argv = argv;
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--preset")) {
            if (i + 1 >= argc) {
                cli_error(cmd, "option --preset needs a value (paper|best)");
                return CLI_USAGE;
            }
            name = argv[++i];
        } else if (!strncmp(argv[i], "--preset=", 9)) {
            name = argv[i] + 9;
        }
    }
    if (!name) return CLI_OK;
    const preset *p = find_preset(name);
    if (!p) {
        cli_error(cmd, "--preset: unknown preset '%s' (see 'spikeunet %s --help')", name, cmd);
        return CLI_USAGE;
    }
    int n = 0, nc = 0;
    while (p->flags[n]) n++;
    while (compare && p->compare_flags[nc]) nc++;
    char **av = malloc(sizeof(char *) * (size_t)(argc + n + nc + 1));
    if (!av) {
        cli_error(cmd, "out of memory");
        return CLI_FAIL;
    }
    av[0] = argv[0];
    for (int i = 0; i < n; i++) av[1 + i] = (char *)p->flags[i];
    for (int i = 0; i < nc; i++) av[1 + n + i] = (char *)p->compare_flags[i];
    n += nc;
    for (int i = 1; i < argc; i++) av[n + i] = argv[i];
    av[argc + n] = NULL;
    *out_argc = argc + n;
    *out_argv = av;
    return CLI_OK;
}
