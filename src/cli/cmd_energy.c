#include "cli.h"

int cmd_energy(int argc, char **argv) {
    (void)argc;
    (void)argv;
    cli_error("energy", "not implemented yet");
    return CLI_FAIL;
}
