#include "cli.h"

int cmd_predict(int argc, char **argv) {
    (void)argc;
    (void)argv;
    cli_error("predict", "not implemented yet");
    return CLI_FAIL;
}
