/* Image <-> network grid (see grid.h for the coordinate conventions). */
#include "spikeunet/grid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int floor_div2(int v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

int su_grid_plan(su_grid_map *m, int nx, int ny, int nz, float dx, float dy, int D, int H, int W, float spacing,
                 su_error *err) {
    memset(m, 0, sizeof *m);
    if (nx <= 0 || ny <= 0 || nz <= 0) return su_fail(err, "grid: bad image shape %dx%dx%d", nx, ny, nz);
    if (D <= 0 || H <= 0 || W <= 0 || (long)D * H * W > (1L << 28))
        return su_fail(err, "grid: bad grid shape %dx%dx%d", D, H, W);
    if (!(dx > 0 && dy > 0 && spacing > 0) || !isfinite(dx) || !isfinite(dy) || !isfinite(spacing))
        return su_fail(err, "grid: bad spacing (image %g x %g mm, grid %g mm)", (double)dx, (double)dy,
                       (double)spacing);
    double rxd = floor((double)nx * dx / spacing + 0.5), ryd = floor((double)ny * dy / spacing + 0.5);
    if (rxd > 1e6 || ryd > 1e6)
        return su_fail(err, "grid: spacing %g mm is absurdly fine for a %g mm image", (double)spacing,
                       (double)nx * dx);
    m->nx = nx, m->ny = ny, m->nz = nz;
    m->dx = dx, m->dy = dy;
    m->D = D, m->H = H, m->W = W;
    m->spacing = spacing;
    m->rx = rxd < 1 ? 1 : (int)rxd;
    m->ry = ryd < 1 ? 1 : (int)ryd;
    m->x0 = floor_div2(m->rx - W);
    m->y0 = floor_div2(m->ry - H);
    m->z0 = floor_div2(nz - D);
    m->mean = 0.0f;
    m->std = 1.0f;
    return 0;
}

/* One in-plane axis, grid -> image: for a grid index, whether it shows the image, and the
 * bilinear (lo, hi, frac) and nearest source indices. */
typedef struct axis_tap {
    int inside, lo, hi, nearest;
    float frac;
} axis_tap;

static axis_tap forward_tap(int g, int off, int r, int n, double ratio) {
    axis_tap t;
    int i = g + off;
    t.inside = i >= 0 && i < r;
    double x = (i + 0.5) * ratio - 0.5;
    if (x < 0) x = 0;
    if (x > n - 1) x = n - 1;
    t.lo = (int)floor(x);
    t.hi = t.lo + 1 < n ? t.lo + 1 : t.lo;
    t.frac = (float)(x - t.lo);
    int near = (int)floor((i + 0.5) * ratio);
    t.nearest = near < 0 ? 0 : near >= n ? n - 1 : near;
    return t;
}

/* One in-plane axis, image -> grid: the grid index holding an image index (nearest; -1 when
 * outside the grid) and the continuous grid position for bilinear score sampling. */
typedef struct axis_back {
    int g;        /* nearest grid index or -1 */
    int lo, hi;   /* bilinear grid taps */
    float frac;
} axis_back;

static axis_back inverse_tap(int x, int G, int off, int r, double scale) {
    axis_back t;
    int i = (int)floor((x + 0.5) * scale);
    if (i > r - 1) i = r - 1; /* round(n*d/spacing) may fall short of the last voxel's centre */
    if (i < 0) i = 0;
    int g = i - off;
    t.g = (g >= 0 && g < G) ? g : -1;
    double u = (x + 0.5) * scale - 0.5 - off;
    if (u < 0) u = 0;
    if (u > G - 1) u = G - 1;
    t.lo = (int)floor(u);
    t.hi = t.lo + 1 < G ? t.lo + 1 : t.lo;
    t.frac = (float)(u - t.lo);
    return t;
}

void su_grid_image(float *out, su_grid_map *m, const float *img) {
    size_t n = (size_t)m->nx * m->ny * m->nz;
    double sum = 0.0, sq = 0.0;
    for (size_t i = 0; i < n; i++) sum += img[i];
    double mean = sum / (double)n;
    for (size_t i = 0; i < n; i++) {
        double e = img[i] - mean;
        sq += e * e;
    }
    double sd = sqrt(sq / (double)n);
    if (!(sd > 1e-12 * (fabs(mean) + 1.0))) sd = 1.0;
    m->mean = (float)mean;
    m->std = (float)sd;

    double rx = (double)m->spacing / m->dx, ry = (double)m->spacing / m->dy;
    float inv = (float)(1.0 / sd), mu = (float)mean;
    for (int d = 0; d < m->D; d++) {
        int z = d + m->z0;
        float *slice = out + (size_t)d * m->H * m->W;
        if (z < 0 || z >= m->nz) {
            memset(slice, 0, (size_t)m->H * m->W * sizeof *slice);
            continue;
        }
        const float *src = img + (size_t)z * m->nx * m->ny;
        for (int h = 0; h < m->H; h++) {
            float *row = slice + (size_t)h * m->W;
            axis_tap ty = forward_tap(h, m->y0, m->ry, m->ny, ry);
            if (!ty.inside) {
                memset(row, 0, (size_t)m->W * sizeof *row);
                continue;
            }
            const float *r0 = src + (size_t)ty.lo * m->nx, *r1 = src + (size_t)ty.hi * m->nx;
            for (int w = 0; w < m->W; w++) {
                axis_tap tx = forward_tap(w, m->x0, m->rx, m->nx, rx);
                if (!tx.inside) {
                    row[w] = 0.0f;
                    continue;
                }
                float a = r0[tx.lo] + tx.frac * (r0[tx.hi] - r0[tx.lo]);
                float b = r1[tx.lo] + tx.frac * (r1[tx.hi] - r1[tx.lo]);
                row[w] = (a + ty.frac * (b - a) - mu) * inv;
            }
        }
    }
}

void su_grid_labels(uint8_t *out, const su_grid_map *m, const uint8_t *labels) {
    double rx = (double)m->spacing / m->dx, ry = (double)m->spacing / m->dy;
    memset(out, 0, su_grid_size(m));
    for (int d = 0; d < m->D; d++) {
        int z = d + m->z0;
        if (z < 0 || z >= m->nz) continue;
        const uint8_t *src = labels + (size_t)z * m->nx * m->ny;
        for (int h = 0; h < m->H; h++) {
            axis_tap ty = forward_tap(h, m->y0, m->ry, m->ny, ry);
            if (!ty.inside) continue;
            const uint8_t *row = src + (size_t)ty.nearest * m->nx;
            uint8_t *o = out + ((size_t)d * m->H + h) * m->W;
            for (int w = 0; w < m->W; w++) {
                axis_tap tx = forward_tap(w, m->x0, m->rx, m->nx, rx);
                if (tx.inside) o[w] = row[tx.nearest];
            }
        }
    }
}

void su_grid_labels_inverse(uint8_t *labels, const su_grid_map *m, const uint8_t *grid) {
    size_t plane = (size_t)m->nx * m->ny;
    memset(labels, 0, plane * m->nz);
    double sx = (double)m->dx / m->spacing, sy = (double)m->dy / m->spacing;
    for (int z = 0; z < m->nz; z++) {
        int d = z - m->z0;
        if (d < 0 || d >= m->D) continue;
        for (int y = 0; y < m->ny; y++) {
            axis_back by = inverse_tap(y, m->H, m->y0, m->ry, sy);
            if (by.g < 0) continue;
            const uint8_t *row = grid + ((size_t)d * m->H + by.g) * m->W;
            uint8_t *o = labels + (size_t)z * plane + (size_t)y * m->nx;
            for (int x = 0; x < m->nx; x++) {
                axis_back bx = inverse_tap(x, m->W, m->x0, m->rx, sx);
                if (bx.g >= 0) o[x] = row[bx.g];
            }
        }
    }
}

void su_grid_scores_inverse(uint8_t *labels, const su_grid_map *m, const float *scores, int C) {
    size_t plane = (size_t)m->nx * m->ny;
    memset(labels, 0, plane * m->nz);
    if (C <= 0) return;
    double sx = (double)m->dx / m->spacing, sy = (double)m->dy / m->spacing;
    size_t W = (size_t)m->W, Cs = (size_t)C;
    for (int z = 0; z < m->nz; z++) {
        int d = z - m->z0;
        if (d < 0 || d >= m->D) continue;
        const float *sl = scores + (size_t)d * m->H * W * Cs;
        for (int y = 0; y < m->ny; y++) {
            axis_back by = inverse_tap(y, m->H, m->y0, m->ry, sy);
            if (by.g < 0) continue;
            const float *r0 = sl + (size_t)by.lo * W * Cs, *r1 = sl + (size_t)by.hi * W * Cs;
            float fy = by.frac;
            uint8_t *o = labels + (size_t)z * plane + (size_t)y * m->nx;
            for (int x = 0; x < m->nx; x++) {
                axis_back bx = inverse_tap(x, m->W, m->x0, m->rx, sx);
                if (bx.g < 0) continue;
                const float *p00 = r0 + bx.lo * Cs, *p01 = r0 + bx.hi * Cs;
                const float *p10 = r1 + bx.lo * Cs, *p11 = r1 + bx.hi * Cs;
                float fx = bx.frac;
                int best = 0;
                float best_v = 0.0f;
                for (int c = 0; c < C; c++) {
                    float a = p00[c] + fx * (p01[c] - p00[c]);
                    float b = p10[c] + fx * (p11[c] - p10[c]);
                    float v = a + fy * (b - a);
                    if (c == 0 || v > best_v) best = c, best_v = v;
                }
                o[x] = (uint8_t)best;
            }
        }
    }
}
