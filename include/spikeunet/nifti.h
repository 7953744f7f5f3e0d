/* NIfTI-1 volumes (.nii and .nii.gz): read an image as float, read a label map as uint8 0..3, write
 * either back with the geometry of a source image so viewers overlay it voxel for voxel.
 *
 * Layout: data[(z*ny + y)*nx + x] (x fastest), as stored in the file. Spacing comes from pixdim;
 * the qform/sform (codes and matrices) travel unchanged in `header` (the 348-byte NIfTI-1 header in
 * this machine's byte order, a `struct nifti_1_header` from <nifti1.h>).
 *
 * Accepted: datatypes uint8, int16, int32, float32, float64; dim[0] 3, or 4+ with every extra
 * dimension 1 (read as 3-D); at most SU_NIFTI_MAX_DIM per axis and SU_NIFTI_MAX_VOXELS voxels.
 * scl_slope/scl_inter are applied (slope 0 or NaN = no scaling). NaN/Inf voxels, truncated or
 * corrupt gzip data and short files are errors (never a zero-filled volume). */
#ifndef SPIKEUNET_NIFTI_H
#define SPIKEUNET_NIFTI_H

#include <stddef.h>
#include <stdint.h>

#include "spikeunet/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Datatype codes: the NIfTI-1 codes (DT_UINT8, DT_INT16, ...). */
enum {
    SU_DT_UINT8 = 2,
    SU_DT_INT16 = 4,
    SU_DT_INT32 = 8,
    SU_DT_FLOAT32 = 16,
    SU_DT_FLOAT64 = 64
};

#define SU_NIFTI_MAX_DIM 4096
#define SU_NIFTI_MAX_VOXELS (1L << 28)
#define SU_NIFTI_HEADER_SIZE 348

typedef struct su_volume {
    int nx, ny, nz;       /* voxels along x (fastest), y, z */
    float dx, dy, dz;     /* voxel spacing in mm (|pixdim[1..3]|) */
    int datatype;         /* SU_DT_* as stored in the file */
    float *data;          /* nx*ny*nz values, scaling applied; NULL after a header-only read */
    unsigned char header[SU_NIFTI_HEADER_SIZE]; /* struct nifti_1_header, native byte order */
} su_volume;

/* Reads an image. On failure *vol is left empty (data NULL). */
int su_nifti_read(su_volume *vol, const char *path, su_error *err);

/* Reads and validates only the header (vol->data = NULL). */
int su_nifti_read_header(su_volume *vol, const char *path, su_error *err);

/* Reads a label map: *labels = malloc'd nx*ny*nz values, each an integer 0..3 (any datatype; a
 * label 7 or 0.5 is an error naming the file, the value and the voxel). geom may be NULL; else it
 * receives the map's geometry with data NULL. */
int su_nifti_read_labels(uint8_t **labels, su_volume *geom, const char *path, su_error *err);

/* Writes data (nx*ny*nz floats, `like`'s shape) as `datatype` with like's geometry (dims, pixdim,
 * qform/sform codes and matrices, xyzt_units; scl 1/0). Integer types round to nearest; values
 * that do not fit the type, or NaN/Inf, are an error. gzip-compressed iff path ends in ".gz";
 * path must end in ".nii" or ".nii.gz". Written atomically (temporary beside it + rename). */
int su_nifti_write(const char *path, const float *data, int datatype, const su_volume *like,
                   su_error *err);

/* Writes a uint8 label map with like's geometry (see su_nifti_write). */
int su_nifti_write_labels(const char *path, const uint8_t *labels, const su_volume *like,
                          su_error *err);

/* A new zero-filled float volume with a plain header: qform and sform (scanner) = diag(dx,dy,dz). */
int su_volume_create(su_volume *vol, int nx, int ny, int nz, float dx, float dy, float dz,
                     su_error *err);

/* Frees vol->data and clears the struct (safe on a zeroed or already freed volume). */
void su_volume_free(su_volume *vol);

static inline size_t su_volume_voxels(const su_volume *vol) {
    return (size_t)vol->nx * (size_t)vol->ny * (size_t)vol->nz;
}

/* "uint8", "int16", "int32", "float32", "float64", or "unsupported" for other codes. */
const char *su_nifti_dtype_name(int datatype);

#ifdef __cplusplus
}
#endif
#endif
