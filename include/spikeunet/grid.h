/* Image <-> network grid. The only resampling code of the project.
 *
 * Forward: in-plane resampling to `spacing` mm (bilinear for images, nearest for labels), slices
 * kept as they are (no z resampling) and cropped/padded to D, in-plane centre crop/pad to H x W,
 * per-volume z-score of the image (statistics over the original voxels; padding is 0 afterwards).
 * Grid layout: out[(d*H + h)*W + w]; w <-> image x, h <-> image y, d <-> z.
 * Inverse: a grid label map (or per-class scores) back onto the image's own voxels; voxels the
 * grid does not cover get label 0. Where nothing is cropped and the spacing equals the image's,
 * grid-then-inverse returns the original label map exactly.
 *
 * Coordinates (per in-plane axis, r = spacing / dx): the image resampled to spacing has
 * n_r = round(n * dx / spacing) pixels, pixel i centred on original x = (i + 0.5) * r - 0.5;
 * grid index w shows resampled pixel i = w + x0 (x0 = floor((n_r - W) / 2): centre crop, or
 * negative = padding). In z, grid slice d shows original slice z = d + z0. */
#ifndef SPIKEUNET_GRID_H
#define SPIKEUNET_GRID_H

#include <stddef.h>
#include <stdint.h>

#include "spikeunet/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default grid (the project's benchmark shape) and in-plane spacing. Every labelled voxel of
 * the 200 ACDC training volumes lies inside the centre 128 x 128 crop from 2.10 mm on (no margin,
 * patient046 ED); 2.2 mm leaves at least 3 grid pixels (docs/DATA.md, checked by test_grid). */
#define SU_GRID_D 16
#define SU_GRID_H 128
#define SU_GRID_W 128
#define SU_GRID_SPACING_MM 2.2f

typedef struct su_grid_map {
    int nx, ny, nz;     /* the original image */
    float dx, dy;       /* its in-plane spacing (mm) */
    int D, H, W;        /* the grid */
    float spacing;      /* the grid's in-plane spacing (mm) */
    int rx, ry;         /* in-plane size of the image resampled to spacing */
    int x0, y0;         /* resampled pixel shown at w = 0 / h = 0 */
    int z0;             /* original slice shown at d = 0: z = d + z0. su_grid_plan centres it,
                           floor((nz - D) / 2); any value is allowed (random crops: nz-D..0 or
                           0..nz-D); slices outside 0..nz-1 are padding */
    float mean, std;    /* z-score statistics, set by su_grid_image */
} su_grid_map;

/* Plans the mapping for an nx*ny*nz image with in-plane spacing dx, dy onto a D*H*W grid of
 * in-plane spacing `spacing`. Any D, H, W >= 1 (e.g. D >= nz at inference so no slice is cut). */
int su_grid_plan(su_grid_map *m, int nx, int ny, int nz, float dx, float dy, int D, int H, int W,
                 float spacing, su_error *err);

/* Grid voxel count D*H*W. */
static inline size_t su_grid_size(const su_grid_map *m) { return (size_t)m->D * m->H * m->W; }

/* Image (nx*ny*nz, x fastest) -> z-scored grid (D*H*W). Computes and stores m->mean, m->std
 * (population std over all original voxels; a constant image uses std 1). */
void su_grid_image(float *out, su_grid_map *m, const float *img);

/* Label map -> grid (nearest); padding gets label 0. */
void su_grid_labels(uint8_t *out, const su_grid_map *m, const uint8_t *labels);

/* Grid labels (D*H*W) -> label map on the original voxels (nx*ny*nz), nearest; voxels outside the
 * grid get 0. */
void su_grid_labels_inverse(uint8_t *labels, const su_grid_map *m, const uint8_t *grid);

/* Per-class grid scores, channels last: scores[((d*H + h)*W + w)*C + c] -> label map on the
 * original voxels: bilinear in-plane interpolation of each class score, then argmax (lowest class
 * wins ties); voxels outside the grid get 0. */
void su_grid_scores_inverse(uint8_t *labels, const su_grid_map *m, const float *scores, int C);

#ifdef __cplusplus
}
#endif
#endif
