#include "cli.h"

int cmd_model(int argc, char **argv) {
    (void)argc;
    (void)argv;
    cli_error("model", "not implemented yet");
    return CLI_FAIL;
}
