/* Inference with a trained checkpoint: segment image volumes on their own voxel grid, score them
 * against ground truth, and count the operations (and energy) each volume cost.
 *
 * A volume goes onto the network grid the checkpoint was trained with (in-plane spacing and H x W from
 * its metadata), with every slice kept (depth max(D, nz)), runs through the model in evaluation mode, and
 * its per-class scores come back onto the image's voxels (bilinear, then argmax): the label map has the
 * image's shape and geometry. */
#ifndef SPIKEUNET_INFER_H
#define SPIKEUNET_INFER_H

#include <stdint.h>

#include "spikeunet/acdc.h"
#include "spikeunet/dataset.h"
#include "spikeunet/energy.h"
#include "spikeunet/metrics.h"
#include "spikeunet/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct su_predictor {
    su_model *m;
    su_grid_config grid;
    int planned_depth;    /* the depth the model is planned for (0: none yet) */
    float *input, *scores;
    size_t cap;           /* voxels the buffers hold */
    double rate_sum[SU_MAX_LIF];
    double volumes;       /* volumes segmented (for mean firing rates) */
    int keep_largest;     /* post-process: 0 none, else an su_keep_mode (largest connected component, postprocess.h) */
} su_predictor;

/* Opens a checkpoint written by `spikeunet train` (model + grid). */
int su_predictor_open(su_predictor *p, const char *checkpoint, su_error *err);
/* Wraps a model already in memory with a grid. */
int su_predictor_init(su_predictor *p, su_model *m, const su_grid_config *grid, su_error *err);
void su_predictor_close(su_predictor *p);  /* destroys the model too */

/* Segments img into labels (nx*ny*nz, allocated by the caller). */
int su_predict_volume(su_predictor *p, const su_volume *img, uint8_t *labels, su_error *err);
/* Mean firing rate of LIF layer i over the volumes segmented so far. */
double su_predictor_rate(const su_predictor *p, int i);

/* Operation counts of one volume of D x H x W for the energy estimate (see energy.h): layers fed by
 * spikes are charged SOPs = input firing rate x MACs (rates[i]: LIF layer i; NULL means 1, the dense
 * bound); a decoder convolution whose input is [skip spikes, upsampled real values] is split into a
 * spike half and a real half. Returns the rows written (at most max; call with max 0 to count). */
int su_model_op_counts(const su_model_config *cfg, int D, int H, int W, const double *rates, su_layer_ops *rows,
                       int max);

#ifdef __cplusplus
}
#endif
#endif
