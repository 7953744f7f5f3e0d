/* Text reports shared by evaluate and compare. */
#ifndef SPIKEUNET_CLI_REPORT_H
#define SPIKEUNET_CLI_REPORT_H

#include <stdio.h>

#include "spikeunet/evaluate.h"

void report_volumes(FILE *f, const su_eval_result *r);
/* Summary: per class Dice, IoU, HD95 (mean +- std) overall, ED and ES; the two mean IoUs; EF. */
void report_summary(FILE *f, const su_eval_result *r);
/* Operation counts, estimated energy, measured energy, time per volume. */
void report_energy(FILE *f, const su_eval_result *r, const su_model_config *cfg);
void report_eval_progress(void *ctx, int done, int total, const char *volume);

#endif
