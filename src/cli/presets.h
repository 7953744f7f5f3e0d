/* Named training configurations (--preset NAME) for train and compare.
 * A preset is a list of ordinary flags placed before the user's own, so any flag given on the command line
 * overrides the preset's value (the parser keeps the last occurrence). docs/RESULTS.md says how each was
 * chosen. */
#ifndef SPIKEUNET_CLI_PRESETS_H
#define SPIKEUNET_CLI_PRESETS_H

#include <stdio.h>

/* Looks for "--preset NAME" (or "--preset=NAME") in argv[1..argc-1]. Without one, *out_argv = argv.
 * With one, *out_argv is a new argv (free it with free(); its strings are argv's or static) holding
 * argv[0], the preset's flags, then the original arguments, and *out_argc its length.
 * Returns 0, or CLI_USAGE after printing the fault (unknown preset, missing name). */
int cli_expand_preset(const char *cmd, int argc, char **argv, int *out_argc, char ***out_argv);

/* One line per preset with its flags, for --help. */
void cli_print_presets(FILE *f);

#define CLI_PRESET_OPT(var)                                                                                     \
    {"--preset", OPT_STRING, &(var), "paper|best", "a named configuration (flags given too override it; see below)"}

#endif
