/* The evaluation job: segment every volume with ground truth, score it on its own voxel grid
 * (metrics.h: Dice, IoU, HD95 in mm, volumes), time it, measure energy where a counter exists, and
 * estimate the operation-count energy from the firing rates seen on these volumes. */
#ifndef SPIKEUNET_EVALUATE_H
#define SPIKEUNET_EVALUATE_H

#include "spikeunet/energy.h"
#include "spikeunet/infer.h"
#include "spikeunet/metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct su_eval_result {
    su_metrics_set set;           /* per volume, tagged patient + phase */
    double *seconds;              /* inference seconds per volume (reading and scoring excluded) */
    int n;
    double infer_seconds;         /* sum */
    su_energy_result measured;    /* around the inference passes only */
    int n_lif;
    double rates[SU_MAX_LIF];     /* mean firing rate per LIF layer over the volumes */
    double mean_rate;
    su_energy_estimate estimate;  /* per volume of the network grid (D x H x W of the checkpoint) */
    double macs, sops;            /* the same, operation counts */
} su_eval_result;

typedef void (*su_eval_progress_fn)(void *ctx, int done, int total, const char *volume);

/* Evaluates volumes (indices patient*2 + phase; NULL with n = -1: every volume of ds with ground truth).
 * table: the energy table for the estimate. */
int su_evaluate(su_eval_result *r, su_predictor *p, const su_dataset *ds, const int *volumes, int n,
                const su_energy_table *table, su_eval_progress_fn progress, void *ctx, su_error *err);
void su_eval_result_free(su_eval_result *r);

/* The estimate alone for a model at given firing rates (NULL: dense bound) on a D x H x W volume. */
int su_energy_of_model(su_energy_estimate *est, const su_model_config *cfg, int D, int H, int W,
                       const double *rates, const su_energy_table *table, double *macs, double *sops, su_error *err);

#ifdef __cplusplus
}
#endif
#endif
