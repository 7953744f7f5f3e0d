#include "cli.h"

int cmd_evaluate(int argc, char **argv) {
    (void)argc;
    (void)argv;
    cli_error("evaluate", "not implemented yet");
    return CLI_FAIL;
}
