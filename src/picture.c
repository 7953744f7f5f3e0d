/* PNG overlays (libpng) and SVG learning-curve plots. Orientation and layout are described in picture.h. */
#include "spikeunet/picture.h"

#include "atomic.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- atomic file writing ----------------------------------------------------------------------------- */

/* ---- PNG -------------------------------------------------------------------------------------------- */

typedef struct png_job {
    const uint8_t *rgb;
    int width, height;
    char msg[256]; /* libpng's error message */
} png_job;

static void png_error_cb(png_structp png, png_const_charp msg) {
    png_job *job = png_get_error_ptr(png);
    snprintf(job->msg, sizeof job->msg, "%s", msg);
    png_longjmp(png, 1);
}

/* the library never prints: libpng's warnings are dropped */
static void png_warning_cb(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static void png_rows(png_structp png, const png_job *job) {
    for (int y = 0; y < job->height; y++) png_write_row(png, job->rgb + (size_t)y * job->width * 3);
}

static int png_stream(FILE *f, const void *ctx, su_error *err) {
    png_job *job = (png_job *)ctx;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, job, png_error_cb, png_warning_cb);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, NULL);
        return su_fail(err, "libpng: out of memory");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return su_fail(err, "libpng: %s", job->msg);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)job->width, (png_uint_32)job->height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_rows(png, job);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int su_png_write_rgb(const char *path, const uint8_t *rgb, int width, int height, su_error *err) {
    if (width <= 0 || height <= 0 || width > 1000000 || height > 1000000)
        return su_fail(err, "%s: bad image size %dx%d", path, width, height);
    png_job job = {rgb, width, height, {0}};
    return su_write_atomic(path, png_stream, &job, err);
}

void su_rgb_image_free(su_rgb_image *im) {
    free(im->rgb);
    memset(im, 0, sizeof *im);
}

/* ---- overlay ---------------------------------------------------------------------------------------- */

void su_overlay_opts_default(su_overlay_opts *o) {
    o->n_slices = 3;
    o->scale = 2;
    o->gap = 4;
}

int su_overlay_pick_slices(int *z, int n_max, const uint8_t *pred, const uint8_t *gt, int nx, int ny, int nz) {
    if (n_max <= 0 || nx <= 0 || ny <= 0 || nz <= 0) return 0;
    size_t plane = (size_t)nx * ny;
    int z0 = -1, z1 = -1;
    for (int k = 0; k < nz; k++) {
        int any = 0;
        for (size_t i = 0; i < plane && !any; i++)
            any = (pred && pred[(size_t)k * plane + i]) || (gt && gt[(size_t)k * plane + i]);
        if (any) {
            if (z0 < 0) z0 = k;
            z1 = k;
        }
    }
    if (z0 < 0) {
        z0 = 0;
        z1 = nz - 1;
    }
    int count = z1 - z0 + 1, k = n_max < count ? n_max : count;
    for (int i = 0; i < k; i++) z[i] = z0 + (int)((long)(2 * i + 1) * count / (2L * k));
    return k;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static float percentile_sorted(const float *v, size_t n, double q) {
    double pos = q / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    if (lo + 1 >= n) return v[n - 1];
    return (float)(v[lo] + (v[lo + 1] - v[lo]) * (pos - (double)lo));
}

static int window(float *lo, float *hi, const float *image, size_t n, su_error *err) {
    float *v = malloc(sizeof(float) * n);
    if (!v) return su_fail(err, "overlay: out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(image[i])) v[m++] = image[i];
    *lo = 0;
    *hi = 1;
    if (m > 0) {
        qsort(v, m, sizeof *v, cmp_float);
        *lo = percentile_sorted(v, m, 1.0);
        *hi = percentile_sorted(v, m, 99.0);
        if (!(*hi > *lo)) *hi = *lo + 1; /* flat image: mid grey would be arbitrary, take black */
    }
    free(v);
    return 0;
}

static int check_labels(const uint8_t *lab, size_t n, const char *what, su_error *err) {
    for (size_t i = 0; i < n; i++)
        if (lab[i] > 3) return su_fail(err, "overlay: %s label %d at index %zu, expected 0..3", what, lab[i], i);
    return 0;
}

static const uint8_t class_rgb[4][3] = {{0, 0, 0},
                                        {SU_COLOR_RV_R, SU_COLOR_RV_G, SU_COLOR_RV_B},
                                        {SU_COLOR_MYO_R, SU_COLOR_MYO_G, SU_COLOR_MYO_B},
                                        {SU_COLOR_LV_R, SU_COLOR_LV_G, SU_COLOR_LV_B}};

/* label of the contour at (x,y) of slice lab (nx*ny), or 0 */
static int contour(const uint8_t *lab, int x, int y, int nx, int ny) {
    size_t i = (size_t)y * nx + (size_t)x;
    uint8_t c = lab[i];
    if (c == 0) return 0;
    if (x == 0 || y == 0 || x == nx - 1 || y == ny - 1) return c;
    return lab[i - 1] != c || lab[i + 1] != c || lab[i - (size_t)nx] != c || lab[i + (size_t)nx] != c ? c : 0;
}

int su_overlay_render(su_rgb_image *out, const float *image, const uint8_t *pred, const uint8_t *gt, int nx, int ny,
                      int nz, const su_overlay_opts *opts, su_error *err) {
    memset(out, 0, sizeof *out);
    su_overlay_opts o;
    su_overlay_opts_default(&o);
    if (opts) o = *opts;
    if (nx <= 0 || ny <= 0 || nz <= 0) return su_fail(err, "overlay: bad volume size %dx%dx%d", nx, ny, nz);
    if (o.n_slices < 1 || o.n_slices > 64 || o.scale < 1 || o.scale > 16 || o.gap < 0 || o.gap > 64)
        return su_fail(err, "overlay: bad options (slices %d, scale %d, gap %d)", o.n_slices, o.scale, o.gap);
    size_t n = (size_t)nx * ny * nz, plane = (size_t)nx * ny;
    if (check_labels(pred, n, "prediction", err) || (gt && check_labels(gt, n, "ground truth", err))) return -1;
    int *zs = malloc(sizeof(int) * (size_t)o.n_slices);
    if (!zs) return su_fail(err, "overlay: out of memory");
    int k = su_overlay_pick_slices(zs, o.n_slices, pred, gt, nx, ny, nz);
    int rows = gt ? 2 : 1, s = o.scale, pw = nx * s, ph = ny * s;
    long width = (long)k * pw + (long)(k + 1) * o.gap, height = (long)rows * ph + (long)(rows + 1) * o.gap;
    if (width > 65535 || height > 65535) {
        free(zs);
        return su_fail(err, "overlay: figure %ldx%ld too large (lower the scale)", width, height);
    }
    float lo = 0, hi = 1;
    uint8_t *rgb = malloc((size_t)width * (size_t)height * 3);
    if (!rgb || window(&lo, &hi, image, n, err)) {
        free(rgb);
        free(zs);
        return rgb ? -1 : su_fail(err, "overlay: out of memory");
    }
    memset(rgb, 32, (size_t)width * (size_t)height * 3);
    for (int r = 0; r < rows; r++) {
        const uint8_t *lab = r == 0 ? pred : gt;
        for (int c = 0; c < k; c++) {
            size_t off = (size_t)zs[c] * plane;
            long ox = o.gap + (long)c * (pw + o.gap), oy = o.gap + (long)r * (ph + o.gap);
            for (int y = 0; y < ny; y++)
                for (int x = 0; x < nx; x++) {
                    float v = image[off + (size_t)y * nx + (size_t)x];
                    double t = isfinite(v) ? (v - lo) / (double)(hi - lo) : 0.0;
                    uint8_t g = (uint8_t)lrint(255.0 * (t < 0 ? 0 : t > 1 ? 1 : t));
                    int cl = contour(lab + off, x, y, nx, ny);
                    uint8_t px[3] = {g, g, g};
                    if (cl) memcpy(px, class_rgb[cl], 3);
                    long x0 = ox + (long)x * s, y0 = oy + (long)(ny - 1 - y) * s; /* y runs upward */
                    for (int b = 0; b < s; b++)
                        for (int a = 0; a < s; a++) memcpy(rgb + ((size_t)(y0 + b) * width + (size_t)(x0 + a)) * 3, px, 3);
                }
        }
    }
    free(zs);
    out->width = (int)width;
    out->height = (int)height;
    out->rgb = rgb;
    return 0;
}

int su_overlay_write_png(const char *path, const float *image, const uint8_t *pred, const uint8_t *gt, int nx,
                         int ny, int nz, const su_overlay_opts *opts, su_error *err) {
    su_rgb_image im;
    if (su_overlay_render(&im, image, pred, gt, nx, ny, nz, opts, err)) return su_fail_context(err, "%s", path);
    int rc = su_png_write_rgb(path, im.rgb, im.width, im.height, err);
    su_rgb_image_free(&im);
    return rc;
}

/* ---- SVG plots ---------------------------------------------------------------------------------------- */

typedef struct sbuf {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + (size_t)n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
}

/* text content / attribute value with & < > " escaped */
static void sb_escaped(sbuf *b, const char *t) {
    for (; t && *t; t++) {
        switch (*t) {
        case '&': sb_printf(b, "&amp;"); break;
        case '<': sb_printf(b, "&lt;"); break;
        case '>': sb_printf(b, "&gt;"); break;
        case '"': sb_printf(b, "&quot;"); break;
        default: sb_printf(b, "%c", *t);
        }
    }
}

static const char *const palette[8] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                       "#9467bd", "#8c564b", "#e377c2", "#17becf"};

typedef struct axis {
    double lo, hi, step;
    int decimals;
} axis;

/* an axis covering [mn, mx] with 1-2-5 steps; integer data (epochs) never gets fractional ticks */
static axis make_axis(double mn, double mx, int integral) {
    axis a;
    if (!(mx > mn)) {
        double pad = fabs(mn) > 0 ? fabs(mn) * 0.1 : 0.5;
        if (integral && pad < 1) pad = 1;
        mn -= pad;
        mx += pad;
    }
    double raw = (mx - mn) / 5.0, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    a.step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
    if (integral && a.step < 1) a.step = 1;
    a.lo = floor(mn / a.step + 1e-9) * a.step;
    a.hi = ceil(mx / a.step - 1e-9) * a.step;
    if (!(a.hi > a.lo)) a.hi = a.lo + a.step;
    int d = (int)-floor(log10(a.step) + 1e-9);
    a.decimals = d < 0 ? 0 : d > 8 ? 8 : d;
    return a;
}

enum { PW = 480, ML = 70, MR = 20, MT = 40, PH = 260, LEG_TOP = 56, LEG_ROW = 18 };

static int finite_pt(const su_plot_series *s, int i) { return isfinite(s->x[i]) && isfinite(s->y[i]); }

static int n_finite(const su_plot_series *s) {
    int m = 0;
    for (int i = 0; i < s->n; i++) m += finite_pt(s, i);
    return m;
}

static void draw_panel(sbuf *b, const su_plot_panel *p, int pi, const su_plot_series *series, int n_series) {
    double x0 = pi * PW + ML, y0 = MT, w = PW - ML - MR, h = PH;
    double xmn = INFINITY, xmx = -INFINITY, ymn = INFINITY, ymx = -INFINITY;
    int integral = 1, any = 0;
    for (int k = 0; k < n_series; k++) {
        const su_plot_series *s = &series[k];
        if (s->panel != pi) continue;
        for (int i = 0; i < s->n; i++) {
            if (!finite_pt(s, i)) continue;
            any = 1;
            xmn = fmin(xmn, s->x[i]);
            xmx = fmax(xmx, s->x[i]);
            ymn = fmin(ymn, s->y[i]);
            ymx = fmax(ymx, s->y[i]);
            integral &= s->x[i] == floor(s->x[i]);
        }
    }
    if (!any) xmn = xmx = ymn = ymx = 0;
    axis ax = make_axis(xmn, xmx, integral), ay = make_axis(ymn, ymx, 0);
    sb_printf(b, "<g class=\"panel\">\n<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"15\" "
                 "font-weight=\"bold\">", x0 + w / 2, MT - 14);
    sb_escaped(b, p->title);
    sb_printf(b, "</text>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"white\" "
                 "stroke=\"black\"/>\n", x0, y0, w, h);
    /* ticks, grid lines and tick labels */
    for (int i = 0;; i++) {
        double v = ax.lo + i * ax.step;
        if (v > ax.hi + ax.step * 1e-6) break;
        double px = x0 + (v - ax.lo) / (ax.hi - ax.lo) * w;
        sb_printf(b, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                     "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>"
                     "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%.*f</text>\n",
                  px, y0, px, y0 + h, px, y0 + h, px, y0 + h + 5, px, y0 + h + 17, ax.decimals, v);
    }
    for (int i = 0;; i++) {
        double v = ay.lo + i * ay.step;
        if (v > ay.hi + ay.step * 1e-6) break;
        double py = y0 + h - (v - ay.lo) / (ay.hi - ay.lo) * h;
        sb_printf(b, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                     "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>"
                     "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%.*f</text>\n",
                  x0, py, x0 + w, py, x0 - 5, py, x0, py, x0 - 8, py + 4, ay.decimals, v);
    }
    sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">", x0 + w / 2, y0 + h + 36);
    sb_escaped(b, p->xlabel);
    sb_printf(b, "</text>\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" "
                 "transform=\"rotate(-90 %.1f %.1f)\">", x0 - 52, y0 + h / 2, x0 - 52, y0 + h / 2);
    sb_escaped(b, p->ylabel);
    sb_printf(b, "</text>\n");
    /* curves, then the legend below the plot */
    int row = 0;
    for (int k = 0; k < n_series; k++) {
        const su_plot_series *s = &series[k];
        if (s->panel != pi || n_finite(s) == 0) continue;
        const char *col = palette[((s->color % 8) + 8) % 8];
        const char *dash = s->dashed == 1 ? " stroke-dasharray=\"7,4\"" : s->dashed == 2 ? " stroke-dasharray=\"2,3\"" : "";
        sb_printf(b, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\"%s points=\"", col, dash);
        double lx = 0, ly = 0;
        for (int i = 0, first = 1; i < s->n; i++) {
            if (!finite_pt(s, i)) continue;
            lx = x0 + (s->x[i] - ax.lo) / (ax.hi - ax.lo) * w;
            ly = y0 + h - (s->y[i] - ay.lo) / (ay.hi - ay.lo) * h;
            sb_printf(b, "%s%.2f,%.2f", first ? "" : " ", lx, ly);
            first = 0;
        }
        sb_printf(b, "\"/>\n");
        if (n_finite(s) == 1) sb_printf(b, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"/>\n", lx, ly, col);
        double ly0 = y0 + h + LEG_TOP + row * LEG_ROW;
        sb_printf(b, "<g class=\"legend-entry\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                     "stroke-width=\"2\"%s/><text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">",
                  x0, ly0, x0 + 28, ly0, col, dash, x0 + 36, ly0 + 4);
        sb_escaped(b, s->name);
        sb_printf(b, "</text></g>\n");
        row++;
    }
    sb_printf(b, "</g>\n");
}

int su_svg_plot_render(char **svg, size_t *len, const su_plot_panel *panels, int n_panels,
                       const su_plot_series *series, int n_series, su_error *err) {
    *svg = NULL;
    if (len) *len = 0;
    if (n_panels < 1) return su_fail(err, "plot: no panels");
    int max_rows = 0;
    for (int pi = 0; pi < n_panels; pi++) {
        int rows = 0;
        for (int k = 0; k < n_series; k++) rows += series[k].panel == pi && n_finite(&series[k]) > 0;
        if (rows > max_rows) max_rows = rows;
    }
    for (int k = 0; k < n_series; k++)
        if (series[k].panel < 0 || series[k].panel >= n_panels)
            return su_fail(err, "plot: series '%s' names panel %d of %d", series[k].name ? series[k].name : "",
                           series[k].panel, n_panels);
    int width = n_panels * PW, height = MT + PH + LEG_TOP + max_rows * LEG_ROW + 6;
    sbuf b = {0};
    sb_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                  "font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
              width, height, width, height);
    for (int pi = 0; pi < n_panels; pi++) draw_panel(&b, &panels[pi], pi, series, n_series);
    sb_printf(&b, "</svg>\n");
    if (b.oom) {
        free(b.s);
        return su_fail(err, "plot: out of memory");
    }
    *svg = b.s;
    if (len) *len = b.len;
    return 0;
}

typedef struct text_job {
    const char *s;
    size_t n;
} text_job;

static int text_stream(FILE *f, const void *ctx, su_error *err) {
    const text_job *t = ctx;
    return fwrite(t->s, 1, t->n, f) == t->n ? 0 : su_fail(err, "write error");
}

int su_svg_plot_write(const char *path, const su_plot_panel *panels, int n_panels, const su_plot_series *series,
                      int n_series, su_error *err) {
    char *svg;
    size_t n;
    if (su_svg_plot_render(&svg, &n, panels, n_panels, series, n_series, err)) return su_fail_context(err, "%s", path);
    text_job t = {svg, n};
    int rc = su_write_atomic(path, text_stream, &t, err);
    free(svg);
    return rc;
}
