#include "cli.h"

int cmd_plot(int argc, char **argv) {
    (void)argc;
    (void)argv;
    cli_error("plot", "not implemented yet");
    return CLI_FAIL;
}
