/* Data augmentation on the network grid (the study's own future work): small in-plane
 * rotations and scalings, optional mirror flips, intensity changes (gamma, contrast, brightness, noise) and a smooth elastic
 * deformation. The image is resampled bilinearly, the labels with nearest neighbour, with the same
 * transform for every slice of a volume (slices are 5-10 mm apart; the heart does not rotate between
 * them). Deterministic for a given generator state. */
#ifndef SPIKEUNET_AUGMENT_H
#define SPIKEUNET_AUGMENT_H

#include <stdint.h>

#include "spikeunet/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct su_augment_config {
    float p_flip;          /* probability of a left-right flip, and independently an up-down flip; 0 by default:
                            * ACDC's hearts all lie one way round (RV on one side of the LV), and flips taught
                            * a trained 3D U-Net the mirrored problem at the cost of 0.17 validation IoU
                            * (docs/RESULTS.md) */
    float max_rotate_deg;  /* rotation uniform in +-this */
    float max_scale;       /* scale uniform in [1/(1+s), 1+s] */
    float max_gamma;       /* intensity gamma uniform in [1/(1+g), 1+g] (on the min-max rescaled image) */
    float max_contrast;    /* multiply by uniform in [1-c, 1+c] */
    float max_brightness;  /* add uniform in +-b (in z-score units) */
    float noise_std;       /* Gaussian noise std, uniform in [0, this] */
    float elastic_alpha;   /* elastic displacement amplitude in pixels (0: off) */
    float elastic_sigma;   /* smoothness of the displacement field in pixels */
} su_augment_config;

void su_augment_config_default(su_augment_config *c);

/* Transforms one volume in place: img and lab are D x H x W (lab may be NULL). scratch: at least
 * su_augment_scratch_floats(D, H, W) floats (so nothing is allocated per sample). */
void su_augment_volume(float *img, uint8_t *lab, int D, int H, int W, su_rng *rng, const su_augment_config *c,
                       float *scratch);
/* Floats of scratch su_augment_volume needs. */
long su_augment_scratch_floats(int D, int H, int W);

#ifdef __cplusplus
}
#endif
#endif
