#include "cli.h"

int cmd_compare(int argc, char **argv) {
    (void)argc;
    (void)argv;
    cli_error("compare", "not implemented yet");
    return CLI_FAIL;
}
