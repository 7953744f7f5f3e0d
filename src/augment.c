/* Data augmentation on the network grid (see augment.h). */
#include "spikeunet/augment.h"

#include <math.h>
#include <string.h>

void su_augment_config_default(su_augment_config *c) {
    c->p_flip = 0.0f;
    c->max_rotate_deg = 15.0f;
    c->max_scale = 0.1f;
    c->max_gamma = 0.3f;
    c->max_contrast = 0.1f;
    c->max_brightness = 0.1f;
    c->noise_std = 0.05f;
    c->elastic_alpha = 4.0f;
    c->elastic_sigma = 12.0f;
}

/* copy of the image | fx | fy | coarse field (at most 2 (H/2+2)(W/2+2)) | copy of the labels (bytes) */
static long coarse_floats(int H, int W) { return 2L * (H / 2 + 2) * (W / 2 + 2); }
long su_augment_scratch_floats(int D, int H, int W) {
    return (long)D * H * W + 2L * H * W + coarse_floats(H, W) + ((long)D * H * W + 3) / 4;
}

static float uniform(su_rng *r, float lo, float hi) { return lo + (hi - lo) * (float)su_rng_uniform(r); }

/* A smooth random displacement field: Gaussian noise on a coarse grid, bilinearly upsampled. Coarse
 * control points every sigma pixels give a field that varies on that scale. */
static void elastic_field(float *fx, float *fy, int H, int W, float alpha, float sigma, su_rng *r, float *coarse) {
    int step = sigma < 2 ? 2 : (int)sigma;
    int ch = H / step + 2, cw = W / step + 2;
    for (int i = 0; i < 2 * ch * cw; i++) coarse[i] = (float)su_rng_normal(r) * alpha;
    for (int h = 0; h < H; h++) {
        float gy = (float)h / step;
        int y0 = (int)gy;
        float ty = gy - y0;
        for (int w = 0; w < W; w++) {
            float gx = (float)w / step;
            int x0 = (int)gx;
            float tx = gx - x0;
            for (int k = 0; k < 2; k++) {
                const float *c = coarse + k * ch * cw;
                float v = (1 - ty) * ((1 - tx) * c[y0 * cw + x0] + tx * c[y0 * cw + x0 + 1]) +
                          ty * ((1 - tx) * c[(y0 + 1) * cw + x0] + tx * c[(y0 + 1) * cw + x0 + 1]);
                (k ? fy : fx)[h * W + w] = v;
            }
        }
    }
}

void su_augment_volume(float *img, uint8_t *lab, int D, int H, int W, su_rng *r, const su_augment_config *c,
                       float *scratch) {
    const long plane = (long)H * W;
    /* draw every random number first, in a fixed order */
    int flip_x = su_rng_uniform(r) < c->p_flip, flip_y = su_rng_uniform(r) < c->p_flip;
    float ang = uniform(r, -c->max_rotate_deg, c->max_rotate_deg) * (float)M_PI / 180.0f;
    float ls = logf(1.0f + c->max_scale), scale = expf(uniform(r, -ls, ls));
    float lg = logf(1.0f + c->max_gamma), gamma = expf(uniform(r, -lg, lg));
    float contrast = uniform(r, 1.0f - c->max_contrast, 1.0f + c->max_contrast);
    float bright = uniform(r, -c->max_brightness, c->max_brightness);
    float noise = uniform(r, 0, c->noise_std);
    float *copy = scratch, *fx = copy + (long)D * plane, *fy = fx + plane, *coarse = fy + plane;
    int elastic = c->elastic_alpha > 0;
    if (elastic) elastic_field(fx, fy, H, W, c->elastic_alpha, c->elastic_sigma, r, coarse);

    /* geometry: output pixel -> source pixel (inverse map about the centre), same for every slice */
    memcpy(copy, img, sizeof(float) * D * plane);
    uint8_t *lcopy = (uint8_t *)(coarse + coarse_floats(H, W));
    if (lab) memcpy(lcopy, lab, (size_t)D * plane);
    const float cy = (H - 1) / 2.0f, cx = (W - 1) / 2.0f, ca = cosf(ang) / scale, sa = sinf(ang) / scale;
    for (int h = 0; h < H; h++)
        for (int w = 0; w < W; w++) {
            float ox = (flip_x ? W - 1 - w : w) - cx, oy = (flip_y ? H - 1 - h : h) - cy;
            float sx = ca * ox - sa * oy + cx, sy = sa * ox + ca * oy + cy;
            if (elastic) sx += fx[h * W + w], sy += fy[h * W + w];
            int x0 = (int)floorf(sx), y0 = (int)floorf(sy);
            float tx = sx - x0, ty = sy - y0;
            int xn = (int)lroundf(sx), yn = (int)lroundf(sy);
            for (int d = 0; d < D; d++) {
                const float *src = copy + d * plane;
                float v = 0;
                for (int j = 0; j < 4; j++) {
                    int xx = x0 + (j & 1), yy = y0 + (j >> 1);
                    float wgt = ((j & 1) ? tx : 1 - tx) * ((j >> 1) ? ty : 1 - ty);
                    if (xx >= 0 && xx < W && yy >= 0 && yy < H) v += wgt * src[yy * W + xx];
                }
                img[d * plane + h * W + w] = v;
                if (lab)
                    lab[d * plane + h * W + w] =
                        (xn >= 0 && xn < W && yn >= 0 && yn < H) ? lcopy[d * plane + yn * W + xn] : 0;
            }
        }

    /* intensity: gamma on the min-max rescaled volume, then contrast, brightness, noise */
    float lo = img[0], hi = img[0];
    for (long i = 0; i < D * plane; i++) {
        lo = img[i] < lo ? img[i] : lo;
        hi = img[i] > hi ? img[i] : hi;
    }
    float range = hi - lo > 1e-6f ? hi - lo : 1.0f;
    for (long i = 0; i < D * plane; i++) {
        float u = (img[i] - lo) / range;
        float v = powf(u, gamma) * range + lo;
        img[i] = v * contrast + bright + (noise > 0 ? noise * (float)su_rng_normal(r) : 0.0f);
    }
}
