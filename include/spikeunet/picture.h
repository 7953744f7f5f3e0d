/* Pictures: PNG images (libpng) of segmentation overlays, and SVG learning-curve plots (plain text).
 * Every file is written atomically: a temporary beside the target, then rename; on failure the temporary
 * is removed and an older file at the target is left intact.
 *
 * Display orientation of a slice (volume index (x,y), x fastest): x runs to the right and y runs UPWARD
 * (image row = ny-1-y). For ACDC this gives the usual short-axis view, RV on the left of the LV. In-plane
 * voxels are drawn square (ACDC's in-plane spacing is isotropic). */
#ifndef SPIKEUNET_PICTURE_H
#define SPIKEUNET_PICTURE_H

#include <stddef.h>
#include <stdint.h>

#include "spikeunet/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An RGB image: 3 bytes per pixel, rows top to bottom, width*3 bytes per row. */
typedef struct su_rgb_image {
    int width, height;
    uint8_t *rgb;
} su_rgb_image;

void su_rgb_image_free(su_rgb_image *im);

/* Writes an 8-bit RGB PNG. */
int su_png_write_rgb(const char *path, const uint8_t *rgb, int width, int height, su_error *err);

/* ---- overlay figure (like the study's Figure 1) ---------------------------------------------------- */

/* Contour colours: RV red, MYO green, LV blue. */
#define SU_COLOR_RV_R 255
#define SU_COLOR_RV_G 0
#define SU_COLOR_RV_B 0
#define SU_COLOR_MYO_R 0
#define SU_COLOR_MYO_G 255
#define SU_COLOR_MYO_B 0
#define SU_COLOR_LV_R 0
#define SU_COLOR_LV_G 0
#define SU_COLOR_LV_B 255

typedef struct su_overlay_opts {
    int n_slices; /* slices shown, spread over the labelled range (default 3; fewer if the volume is thinner) */
    int scale;    /* integer in-plane upscaling (default 2) */
    int gap;      /* pixels between panels (default 4), filled with dark grey (32,32,32) */
} su_overlay_opts;

void su_overlay_opts_default(su_overlay_opts *o);

/* Picks up to n_max distinct slices: the centres of n_max equal parts of the range of slices that hold
 * a label (prediction or gt; the whole volume when nothing is labelled), in increasing order.
 * gt may be NULL. Returns the count written to z. */
int su_overlay_pick_slices(int *z, int n_max, const uint8_t *pred, const uint8_t *gt, int nx, int ny, int nz);

/* The figure: one column per chosen slice; the top row shows the image in grey (window: the 1st-99th
 * percentile of the finite voxels of the whole volume) with the 1-voxel contours of pred's RV/MYO/LV (a
 * labelled voxel with an in-plane 4-neighbour of another label, or on the slice's edge); with gt given,
 * a second row shows the same slices with gt's contours. Each voxel becomes a scale x scale block.
 * Size: width = k*nx*scale + (k+1)*gap, height = rows*ny*scale + (rows+1)*gap. opts may be NULL. */
int su_overlay_render(su_rgb_image *out, const float *image, const uint8_t *pred, const uint8_t *gt, int nx, int ny,
                      int nz, const su_overlay_opts *opts, su_error *err);
int su_overlay_write_png(const char *path, const float *image, const uint8_t *pred, const uint8_t *gt, int nx,
                         int ny, int nz, const su_overlay_opts *opts, su_error *err);

/* ---- SVG line plots (learning curves) ------------------------------------------------------------- */

typedef struct su_plot_panel {
    const char *title, *xlabel, *ylabel;
} su_plot_panel;

typedef struct su_plot_series {
    const char *name;    /* legend text */
    const double *x, *y; /* n points; points with a non-finite x or y are left out */
    int n;
    int panel;  /* index into the panels */
    int color;  /* palette index (mod 8): give the same run the same colour */
    int dashed; /* 0 solid, 1 dashed, 2 dotted */
} su_plot_series;

/* An SVG with the panels side by side, each with its axes (ticks at 1-2-5 steps, labels, title) and, below,
 * a legend. Each series with at least one finite point is one <polyline class="series"> (plus a circle when
 * it has a single point) and one legend entry <g class="legend-entry">; series without points are left out.
 * Fails on a series naming a panel that does not exist. *svg is malloc'ed and NUL-terminated. */
int su_svg_plot_render(char **svg, size_t *len, const su_plot_panel *panels, int n_panels,
                       const su_plot_series *series, int n_series, su_error *err);
int su_svg_plot_write(const char *path, const su_plot_panel *panels, int n_panels, const su_plot_series *series,
                      int n_series, su_error *err);

#ifdef __cplusplus
}
#endif
#endif
