#include "cli.h"

int cmd_demo(int argc, char **argv) {
    (void)argc;
    (void)argv;
    cli_error("demo", "not implemented yet");
    return CLI_FAIL;
}
