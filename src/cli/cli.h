/* The command-line tool: one file per command (cmd_<name>.c), a shared flag parser (args.c).
 * Only the CLI parses flags, prints progress and chooses exit codes:
 *   0 success, 1 a runtime failure (bad input file, I/O error), 2 a usage error (bad flags). */
#ifndef SPIKEUNET_CLI_H
#define SPIKEUNET_CLI_H

#include <stdio.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

typedef enum { OPT_INT, OPT_FLOAT, OPT_STRING, OPT_FLAG } cli_opt_type;

typedef struct cli_opt {
    const char *name;   /* "--epochs" */
    cli_opt_type type;
    void *value;        /* int*, float*, const char**, int* (flag: set to 1) */
    const char *meta;   /* "N", "DIR", ... (NULL for flags) */
    const char *help;   /* one line; the default is printed from *value */
} cli_opt;

typedef struct cli_command {
    const char *name;
    const char *summary;
    const char *usage;       /* "spikeunet train --data DIR --model unet|spiking --out RUN [options]" */
    const char *description; /* paragraphs printed by --help after the usage line (may be NULL) */
    void (*epilogue)(FILE *f); /* prints more after the options (may be NULL) */
} cli_command;

/* Parses argv[1..argc-1] against opts (a NULL-named entry ends the list). Positional arguments
 * are not accepted unless positional != NULL (then up to max_positional are stored there).
 * Returns CLI_OK, CLI_USAGE (after printing the fault), or -1 when --help was printed. */
int cli_parse(const cli_command *cmd, const cli_opt *opts, int argc, char **argv,
              const char **positional, int max_positional, int *n_positional);
void cli_print_help(FILE *f, const cli_command *cmd, const cli_opt *opts);
/* Error printing in one style: "spikeunet <cmd>: <message>" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 when a required string option is missing (prints the error). */
int cli_require(const char *cmd, const char *flag, const char *value);

int cmd_info(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_energy(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);

#endif
