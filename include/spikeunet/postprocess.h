/* Post-processing of a predicted label map: keep only the largest 3D connected component, either of the
 * heart as a whole (every structure together: removes blobs away from the heart, such as a stomach wall or
 * a bright vessel, which cost little IoU but dominate HD95) or of each structure on its own (a heart has
 * one RV, one myocardium and one LV cavity; stricter, and it can cut off a real part of a structure that
 * the network split, e.g. the RV at the base).
 * Connectivity is 26 (faces, edges and corners): slices are 5-10 mm apart, so a structure that shifts
 * in-plane from one slice to the next still touches itself diagonally. Removed voxels become background. */
#ifndef SPIKEUNET_POSTPROCESS_H
#define SPIKEUNET_POSTPROCESS_H

#include <stdint.h>

#include "spikeunet/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SU_KEEP_HEART = 1, SU_KEEP_PER_STRUCTURE = 2 } su_keep_mode;

/* labels: nx*ny*nz (x fastest), values 0..classes-1; classes 1..classes-1 are filtered in place.
 * mode: SU_KEEP_HEART or SU_KEEP_PER_STRUCTURE. removed (may be NULL): voxels set to background. */
int su_keep_largest_components(uint8_t *labels, int nx, int ny, int nz, int classes, su_keep_mode mode, long *removed,
                               su_error *err);

#ifdef __cplusplus
}
#endif
#endif
