/* spikeunet: the command-line entry point. Dispatches to one function per command. */
#include "cli.h"

#include <string.h>

#include "spikeunet/version.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command_entry;

static const command_entry commands[] = {
    {"info", cmd_info, "list the volumes of an ACDC folder (shape, spacing, dtype, label counts)"},
    {"model", cmd_model, "print a network's layer table: shapes, parameters, MACs, memory"},
    {"train", cmd_train, "train a 3D U-Net or a Spiking 3D U-Net on ACDC"},
    {"evaluate", cmd_evaluate, "score a checkpoint on ACDC volumes with ground truth"},
    {"predict", cmd_predict, "write label maps (and overlay pictures) for images"},
    {"compare", cmd_compare, "train and evaluate both networks on one split; the study's table"},
    {"demo", cmd_demo, "compare both networks on the bundled sample (what 'make demo' runs)"},
    {"energy", cmd_energy, "operation counts, energy estimate and measured joules per volume"},
    {"bench", cmd_bench, "time inference and training steps; GFLOP/s against the machine's peak"},
    {"checkpoint", cmd_checkpoint, "validate a checkpoint and show its configuration and training state"},
    {"plot", cmd_plot, "draw runs' learning curves (SVG)"},
};

static void usage(FILE *f) {
    fprintf(f, "spikeunet %s: 3D U-Net and Spiking 3D U-Net segmentation of cardiac MRI\n\n", SU_VERSION);
    fprintf(f, "usage: spikeunet <command> [options]   ('spikeunet <command> --help' for each)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("spikeunet %s\n", SU_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "spikeunet: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
