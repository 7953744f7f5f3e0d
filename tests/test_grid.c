/* Image <-> network grid: exact inverse where nothing is cropped, crop/pad placement, resampling
 * values, z-score statistics, the score inverse, and the default grid on the real ACDC labels. */
#include <stdint.h>
#include <sys/stat.h>

#include "check.h"
#include "spikeunet/acdc.h"
#include "spikeunet/grid.h"

static uint64_t rng = 88172645463325252ull;
static unsigned next_rand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (unsigned)(rng >> 16);
}

static void test_plan(void) {
    su_error err = {{0}};
    su_grid_map m;
    /* crop: 10 -> 6 keeps 2..7; pad: 10 -> 14 puts x=0 at w=2; odd pad 10 -> 13: 2 before, 1 after */
    CHECK_OK(su_grid_plan(&m, 10, 10, 18, 1.0f, 1.0f, 16, 14, 6, 1.0f, &err), &err);
    CHECK(m.rx == 10 && m.ry == 10 && m.x0 == 2 && m.y0 == -2 && m.z0 == 1, "x0 %d y0 %d z0 %d", m.x0, m.y0, m.z0);
    CHECK_OK(su_grid_plan(&m, 10, 9, 7, 1.0f, 1.0f, 16, 12, 13, 1.0f, &err), &err);
    CHECK(m.x0 == -2 && m.y0 == -2 && m.z0 == -5, "odd pads: x0 %d y0 %d z0 %d", m.x0, m.y0, m.z0);
    /* resampled size: 216 * 1.5625 / 2.2 = 153.4 -> 153 */
    CHECK_OK(su_grid_plan(&m, 216, 256, 10, 1.5625f, 1.5625f, SU_GRID_D, SU_GRID_H, SU_GRID_W, SU_GRID_SPACING_MM, &err),
             &err);
    CHECK(m.rx == 153 && m.ry == 182 && m.x0 == 12 && m.y0 == 27 && m.z0 == -3, "ACDC-like plan %d %d %d %d %d", m.rx,
          m.ry, m.x0, m.y0, m.z0);
    CHECK(su_grid_size(&m) == 16 * 128 * 128, "grid size");
    CHECK_FAILS_WITH(su_grid_plan(&m, 0, 4, 4, 1, 1, 4, 4, 4, 1, &err), &err, "bad image shape");
    CHECK_FAILS_WITH(su_grid_plan(&m, 4, 4, 4, 1, 1, 0, 4, 4, 1, &err), &err, "bad grid shape");
    CHECK_FAILS_WITH(su_grid_plan(&m, 4, 4, 4, 1, 1, 4, 4, 4, 0, &err), &err, "bad spacing");
}

/* grid-then-inverse is the identity when the grid covers the image at the image's spacing */
static void test_identity(void) {
    su_error err = {{0}};
    const int shapes[][3] = {{20, 24, 5}, {21, 17, 7}, {32, 32, 8}, {1, 1, 1}};
    const int grids[][3] = {{8, 32, 32}, {9, 20, 24}, {8, 32, 32}, {3, 3, 3}};
    for (int k = 0; k < 4; k++) {
        int nx = shapes[k][0], ny = shapes[k][1], nz = shapes[k][2];
        int D = grids[k][0], H = grids[k][1], W = grids[k][2];
        su_grid_map m;
        CHECK_OK(su_grid_plan(&m, nx, ny, nz, 1.7f, 1.7f, D, H, W, 1.7f, &err), &err);
        size_t n = (size_t)nx * ny * nz, g = su_grid_size(&m);
        uint8_t *lab = malloc(n), *grid = malloc(g), *back = malloc(n);
        float *scores = malloc(g * 4 * sizeof *scores);
        for (size_t i = 0; i < n; i++) lab[i] = (uint8_t)(next_rand() % 4);
        su_grid_labels(grid, &m, lab);
        su_grid_labels_inverse(back, &m, grid);
        CHECK(!memcmp(back, lab, n), "shape %d: labels grid-then-inverse differs", k);
        /* the labelled voxels all appear on the grid, and padding is 0 */
        long on_grid = 0, on_image = 0;
        for (size_t i = 0; i < g; i++) on_grid += grid[i] != 0;
        for (size_t i = 0; i < n; i++) on_image += lab[i] != 0;
        CHECK(on_grid == on_image, "shape %d: %ld labelled grid voxels, %ld in the image", k, on_grid, on_image);
        /* scores: one-hot of the grid labels with some noise on the losers */
        for (size_t i = 0; i < g; i++)
            for (int c = 0; c < 4; c++) scores[i * 4 + c] = c == grid[i] ? 2.0f : (float)(next_rand() % 100) / 100.0f;
        memset(back, 9, n);
        su_grid_scores_inverse(back, &m, scores, 4);
        CHECK(!memcmp(back, lab, n), "shape %d: scores grid-then-inverse differs", k);
        free(lab), free(grid), free(back), free(scores);
    }
}

/* placement: the image value x + 100 y + 10000 z lands where the plan says */
static void test_placement(void) {
    su_error err = {{0}};
    int nx = 10, ny = 9, nz = 7;
    float img[10 * 9 * 7];
    for (int z = 0; z < nz; z++)
        for (int y = 0; y < ny; y++)
            for (int x = 0; x < nx; x++) img[(z * ny + y) * nx + x] = (float)(x + 100 * y + 10000 * z);
    su_grid_map m;
    /* W 6 (crop x: 2..7), H 12 (pad y: 1 before... floor(-3/2) = -2), D 4 (crop z: 1..4) */
    CHECK_OK(su_grid_plan(&m, nx, ny, nz, 1.5f, 1.5f, 4, 12, 6, 1.5f, &err), &err);
    CHECK(m.x0 == 2 && m.y0 == -2 && m.z0 == 1, "plan %d %d %d", m.x0, m.y0, m.z0);
    float out[4 * 12 * 6];
    su_grid_image(out, &m, img);
    int bad = 0, pads = 0;
    for (int d = 0; d < 4; d++)
        for (int h = 0; h < 12; h++)
            for (int w = 0; w < 6; w++) {
                float v = out[(d * 12 + h) * 6 + w];
                int y = h + m.y0, x = w + m.x0, z = d + m.z0;
                if (y < 0 || y >= ny) {
                    pads++;
                    if (v != 0.0f) bad++;
                    continue;
                }
                float want = (float)(x + 100 * y + 10000 * z);
                if (fabsf(v * m.std + m.mean - want) > 1e-2f) bad++;
            }
    CHECK(bad == 0, "%d misplaced grid values", bad);
    CHECK(pads == 4 * 3 * 6, "3 padded rows per slice, got %d pads", pads);
    /* a random z offset: z0 = -2 puts slice 0 at d = 2; d 0,1 are padding */
    m.z0 = -2;
    su_grid_image(out, &m, img);
    int zeros = 0;
    for (int i = 0; i < 2 * 12 * 6; i++) zeros += out[i] == 0.0f;
    CHECK(zeros == 2 * 12 * 6, "slices before the image are padding");
    CHECK(fabsf(out[(2 * 12 + 5) * 6 + 0] * m.std + m.mean - (float)(2 + 100 * 3)) < 1e-2f, "slice 0 at d 2");
    uint8_t lab[10 * 9 * 7], g[4 * 12 * 6], back[10 * 9 * 7];
    for (int i = 0; i < nx * ny * nz; i++) lab[i] = 1 + (uint8_t)(i % 3);
    su_grid_labels(g, &m, lab);
    su_grid_labels_inverse(back, &m, g);
    /* inverse: only slices 0,1 (d 2,3) and columns 2..7 come back; the rest is 0 */
    bad = 0;
    for (int z = 0; z < nz; z++)
        for (int y = 0; y < ny; y++)
            for (int x = 0; x < nx; x++) {
                int i = (z * ny + y) * nx + x;
                int covered = z <= 1 && x >= 2 && x <= 7;
                if (back[i] != (covered ? lab[i] : 0)) bad++;
            }
    CHECK(bad == 0, "inverse of a cropped grid: %d wrong voxels", bad);
}

/* resampling: a ramp in x stays a ramp; bilinear downsampling by 2 averages pixel pairs */
static void test_resample(void) {
    su_error err = {{0}};
    float img[8 * 2 * 1];
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 8; x++) img[y * 8 + x] = (float)x;
    su_grid_map m;
    /* 8 px at 1 mm -> 4 px at 2 mm; grid W 4 H 1 D 1: no crop in x */
    CHECK_OK(su_grid_plan(&m, 8, 2, 1, 1.0f, 1.0f, 1, 1, 4, 2.0f, &err), &err);
    CHECK(m.rx == 4 && m.ry == 1 && m.x0 == 0 && m.y0 == 0, "plan rx %d ry %d", m.rx, m.ry);
    float out[4];
    su_grid_image(out, &m, img);
    for (int w = 0; w < 4; w++) CHECK_NEAR(out[w] * m.std + m.mean, 2 * w + 0.5, 1e-5, "downsampled ramp");
    /* upsampling 8 -> 16 at 0.5 mm: centres at x = 0.5 i - 0.25 (edge clamped to 0) */
    CHECK_OK(su_grid_plan(&m, 8, 2, 1, 1.0f, 1.0f, 1, 1, 16, 0.5f, &err), &err);
    float up[16];
    su_grid_image(up, &m, img);
    CHECK_NEAR(up[0] * m.std + m.mean, 0.0, 1e-5, "upsampled edge");
    for (int w = 1; w < 15; w++) CHECK_NEAR(up[w] * m.std + m.mean, 0.5 * w - 0.25, 1e-5, "upsampled ramp");
    CHECK_NEAR(up[15] * m.std + m.mean, 7.0, 1e-5, "upsampled far edge");
    /* labels downsample by nearest: resampled pixel i takes original floor((i + 0.5) * 2) = 2i + 1 */
    uint8_t lab[16], gl[4];
    for (int i = 0; i < 16; i++) lab[i] = (uint8_t)(i % 4);
    CHECK_OK(su_grid_plan(&m, 8, 2, 1, 1.0f, 1.0f, 1, 1, 4, 2.0f, &err), &err);
    su_grid_labels(gl, &m, lab);
    for (int w = 0; w < 4; w++) CHECK(gl[w] == (2 * w + 1) % 4, "nearest label at w=%d: %d", w, gl[w]);
    /* and back: original x maps to resampled floor((x + 0.5) / 2) = x / 2 */
    uint8_t back[16];
    su_grid_labels_inverse(back, &m, gl);
    for (int x = 0; x < 8; x++) CHECK(back[x] == gl[x / 2], "inverse nearest at x=%d", x);
}

static void test_zscore(void) {
    su_error err = {{0}};
    /* values 1..8 (2x2x2): mean 4.5, population std sqrt(5.25) */
    float img[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    su_grid_map m;
    CHECK_OK(su_grid_plan(&m, 2, 2, 2, 1, 1, 4, 4, 4, 1, &err), &err);
    float out[64];
    su_grid_image(out, &m, img);
    CHECK_NEAR(m.mean, 4.5, 1e-6, "mean");
    CHECK_NEAR(m.std, sqrt(5.25), 1e-6, "std");
    /* image at d 1..2, h 1..2, w 1..2; zeros elsewhere */
    CHECK_NEAR(out[(1 * 4 + 1) * 4 + 1], (1 - 4.5) / sqrt(5.25), 1e-6, "first voxel");
    CHECK_NEAR(out[(2 * 4 + 2) * 4 + 2], (8 - 4.5) / sqrt(5.25), 1e-6, "last voxel");
    double sum = 0, sq = 0;
    int zeros = 0;
    for (int i = 0; i < 64; i++) {
        sum += out[i], sq += (double)out[i] * out[i];
        zeros += out[i] == 0.0f;
    }
    CHECK(zeros == 56, "56 padding voxels are exactly 0, got %d", zeros);
    CHECK_NEAR(sum, 0.0, 1e-5, "the image part has mean 0");
    CHECK_NEAR(sq, 8.0, 1e-4, "and variance 1");
    /* a constant image: std 1, values 0 */
    float flat[8] = {5, 5, 5, 5, 5, 5, 5, 5};
    su_grid_image(out, &m, flat);
    CHECK(m.std == 1.0f && out[(1 * 4 + 1) * 4 + 1] == 0.0f, "constant image");
}

/* the score inverse interpolates before the argmax */
static void test_score_inverse(void) {
    su_error err = {{0}};
    /* image 8x1x1 at 1 mm, grid 4 at 2 mm: grid w centres sit at image x = 2w + 0.5 */
    su_grid_map m;
    CHECK_OK(su_grid_plan(&m, 8, 1, 1, 1.0f, 1.0f, 1, 1, 4, 2.0f, &err), &err);
    /* class 1 score ramps 0, 1, 2, 3 across w; class 0 is flat 1.6: class 1 wins where the
     * interpolated ramp exceeds 1.6, i.e. at grid position u > 1.6 -> image x with (x+0.5)/2-0.5 > 1.6 */
    float s[4 * 2];
    for (int w = 0; w < 4; w++) s[w * 2 + 0] = 1.6f, s[w * 2 + 1] = (float)w;
    uint8_t lab[8];
    su_grid_scores_inverse(lab, &m, s, 2);
    for (int x = 0; x < 8; x++) {
        double u = (x + 0.5) / 2 - 0.5;
        if (u < 0) u = 0;
        int want = u > 1.6 ? 1 : 0;
        CHECK(lab[x] == want, "x=%d: label %d want %d", x, lab[x], want);
    }
    /* three classes, each dominant in one grid column block; a crop puts the rest outside (label 0) */
    CHECK_OK(su_grid_plan(&m, 12, 1, 2, 1.0f, 1.0f, 1, 1, 6, 1.0f, &err), &err); /* x0 3, z0 0 */
    float s3[6 * 4];
    for (int w = 0; w < 6; w++)
        for (int c = 0; c < 4; c++) s3[w * 4 + c] = c == 1 + w / 2 ? 1.0f : 0.0f;
    uint8_t lab3[24];
    su_grid_scores_inverse(lab3, &m, s3, 4);
    static const uint8_t want3[12] = {0, 0, 0, 1, 1, 2, 2, 3, 3, 0, 0, 0};
    CHECK(!memcmp(lab3, want3, 12), "classes by column block");
    int z1 = 0;
    for (int i = 12; i < 24; i++) z1 += lab3[i];
    CHECK(z1 == 0, "slice 1 is outside D=1: label 0");
}

/* The default grid on the real ACDC training labels: every labelled voxel of all 200 volumes lies
 * inside the centre crop; the margin is the largest k for which it still holds for H-2k x W-2k. */
static void test_acdc_coverage(void) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/data/acdc/training", check_shared_dir());
    struct stat st;
    if (stat(dir, &st) != 0) {
        printf("skipping the ACDC coverage check (%s not found)\n", dir);
        return;
    }
    su_error err = {{0}};
    su_dataset ds;
    CHECK_OK(su_acdc_scan(&ds, dir, &err), &err);
    int margin = 60, worst = -1, z_cut = 0, n_vol = 0;
    for (int p = 0; p < ds.n_patients; p++) {
        for (int ph = 0; ph < 2; ph++) {
            uint8_t *lab = NULL;
            su_volume geom;
            if (su_nifti_read_labels(&lab, &geom, ds.patients[p].label_path[ph], &err)) {
                CHECK(0, "%s", err.msg);
                continue;
            }
            n_vol++;
            size_t n = su_volume_voxels(&geom);
            uint8_t *covered = malloc(n);
            /* in-plane coverage: D = nz keeps every slice */
            for (int k = margin; k >= 0; k--) {
                su_grid_map m;
                su_grid_plan(&m, geom.nx, geom.ny, geom.nz, geom.dx, geom.dy, geom.nz, SU_GRID_H - 2 * k,
                             SU_GRID_W - 2 * k, SU_GRID_SPACING_MM, &err);
                uint8_t *ones = malloc(su_grid_size(&m));
                memset(ones, 1, su_grid_size(&m));
                su_grid_labels_inverse(covered, &m, ones);
                free(ones);
                int ok = 1;
                for (size_t i = 0; i < n && ok; i++)
                    if (lab[i] && !covered[i]) ok = 0;
                if (ok) {
                    if (k < margin) margin = k, worst = 2 * p + ph;
                    break;
                }
                if (k == 0) margin = -1, worst = 2 * p + ph;
            }
            /* z: the default D = 16 centre crop cuts labelled slices of the 17/18-slice volumes */
            su_grid_map m;
            su_grid_plan(&m, geom.nx, geom.ny, geom.nz, geom.dx, geom.dy, SU_GRID_D, SU_GRID_H, SU_GRID_W,
                         SU_GRID_SPACING_MM, &err);
            int cut = 0;
            size_t plane = (size_t)geom.nx * geom.ny;
            for (int z = 0; z < geom.nz && !cut; z++) {
                if (z - m.z0 >= 0 && z - m.z0 < SU_GRID_D) continue;
                for (size_t i = 0; i < plane; i++)
                    if (lab[(size_t)z * plane + i]) cut = 1;
            }
            z_cut += cut;
            free(covered);
            free(lab);
        }
    }
    printf("ACDC training: %d volumes; in-plane margin of the %dx%d crop at %.2f mm: %d grid pixels (worst %s %s); "
           "volumes with labelled slices outside the centre %d-slice crop: %d\n",
           n_vol, SU_GRID_H, SU_GRID_W, (double)SU_GRID_SPACING_MM, margin,
           worst >= 0 ? ds.patients[worst / 2].id : "-", worst >= 0 ? su_phase_name(worst % 2) : "-", SU_GRID_D,
           z_cut);
    CHECK(n_vol == 200, "200 volumes, got %d", n_vol);
    CHECK(margin >= 3, "every labelled voxel inside the centre crop with >= 3 pixels to spare (margin %d)", margin);
    CHECK(z_cut == 4, "4 volumes (patient081, patient096) have labelled slices beyond 16 centre slices, got %d", z_cut);
    su_acdc_free(&ds);
}

int main(void) {
    test_plan();
    test_identity();
    test_placement();
    test_resample();
    test_zscore();
    test_score_inverse();
    test_acdc_coverage();
    return check_report("grid");
}
