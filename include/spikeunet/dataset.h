/* Volumes of an ACDC data set on the network grid, in memory: what the training loop and the
 * evaluation read. Each sample keeps all of its slices (grid depth max(D, nz)), so a window of D slices
 * can be taken anywhere (random crops in training, the centre in validation). */
#ifndef SPIKEUNET_DATASET_H
#define SPIKEUNET_DATASET_H

#include <stdint.h>

#include "spikeunet/acdc.h"
#include "spikeunet/error.h"
#include "spikeunet/grid.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct su_grid_config {
    int D, H, W;   /* the network's input window */
    float spacing; /* in-plane mm per grid pixel */
} su_grid_config;

void su_grid_config_default(su_grid_config *g);

typedef struct su_sample {
    int volume;        /* patient * 2 + phase in the su_dataset */
    int depth;         /* slices stored: max(D, nz) */
    float *image;      /* depth * H * W, z-scored */
    uint8_t *labels;   /* depth * H * W, or NULL without ground truth */
    su_grid_map map;   /* image <-> grid, for the inverse */
} su_sample;

typedef struct su_sample_set {
    su_sample *samples;
    int n;
} su_sample_set;

/* Loads the given volumes (indices patient*2 + phase) onto the grid. With need_labels, every volume
 * must have ground truth. progress (may be NULL) is called after each volume. */
int su_samples_load(su_sample_set *set, const su_dataset *ds, const int *volumes, int n, const su_grid_config *g,
                    int need_labels, void (*progress)(void *ctx, int done, int total), void *ctx, su_error *err);
void su_samples_free(su_sample_set *set);

/* Copies slices [z, z + D) of a sample (zero / label 0 outside 0..depth-1) into img and lab (either may be
 * NULL). */
void su_sample_window(float *img, uint8_t *lab, const su_sample *s, int z, int D, int H, int W);
/* The centred window's first slice: (depth - D) / 2. */
int su_sample_centre(const su_sample *s, int D);

#ifdef __cplusplus
}
#endif
#endif
