/* The progress bar and epoch lines of training (stderr), and the stop flag set by SIGINT/SIGTERM. */
#ifndef SPIKEUNET_CLI_PROGRESS_H
#define SPIKEUNET_CLI_PROGRESS_H

#include <signal.h>

#include "spikeunet/train.h"

typedef struct cli_progress {
    const char *label; /* prefix, e.g. "unet" in compare */
    int tty;           /* redraw one line with \r */
    int quiet;
    double last_draw;
} cli_progress;

void cli_progress_init(cli_progress *p, const char *label, int quiet);
void cli_progress_fn(void *ctx, const su_train_progress *p);

/* Installs SIGINT/SIGTERM handlers that set the returned flag (the first signal asks the job to finish
 * its step and save; a second one ends the process at once). */
volatile sig_atomic_t *cli_stop_flag(void);
/* The exit status after a job that polled the stop flag: 0, or 128 + the signal that interrupted it (as a
 * shell reports), so that `train && evaluate` stops after a Ctrl-C even though the run was saved. */
int cli_exit_status(volatile sig_atomic_t *stop);

#endif
