/* picture: PNG written and read back with libpng, the overlay figure (size, slice choice, contour and
 * grey pixels, orientation), SVG plots (polylines, legend entries, escaping, errors). */
#include <dirent.h>
#include <png.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "spikeunet/picture.h"

/* reads an 8-bit RGB PNG; returns NULL on any fault */
static uint8_t *read_png(const char *path, int *w, int *h) {
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&im, path)) return NULL;
    int native_rgb8 = im.format == PNG_FORMAT_RGB;
    im.format = PNG_FORMAT_RGB;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(im));
    if (!buf || !png_image_finish_read(&im, NULL, buf, 0, NULL) || !native_rgb8) {
        png_image_free(&im);
        free(buf);
        return NULL;
    }
    *w = (int)im.width;
    *h = (int)im.height;
    return buf;
}

static char tmpdir[] = "/tmp/su_picture_XXXXXX";

static int files_in(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static void test_png_roundtrip(void) {
    const int w = 5, h = 3;
    uint8_t rgb[5 * 3 * 3];
    for (int i = 0; i < w * h * 3; i++) rgb[i] = (uint8_t)(i * 17);
    char path[256];
    snprintf(path, sizeof path, "%s/a.png", tmpdir);
    su_error err = {{0}};
    CHECK_OK(su_png_write_rgb(path, rgb, w, h, &err), &err);
    int rw = 0, rh = 0;
    uint8_t *back = read_png(path, &rw, &rh);
    CHECK(back != NULL, "read back %s", path);
    if (back) {
        CHECK(rw == w && rh == h, "size %dx%d", rw, rh);
        CHECK(memcmp(back, rgb, sizeof rgb) == 0, "pixels identical");
        CHECK(back[3 * (2 * w + 4) + 1] == (uint8_t)((3 * 14 + 1) * 17), "pixel (4,2) green");
    }
    free(back);
    CHECK(files_in(tmpdir) == 1, "no temporary left beside the PNG");
    CHECK_FAILS_WITH(su_png_write_rgb("/nonexistent-dir/x.png", rgb, w, h, &err), &err, "/nonexistent-dir/x.png");
    CHECK_FAILS_WITH(su_png_write_rgb(path, rgb, 0, h, &err), &err, "bad image size");
    /* the older file is left intact by a failed write */
    back = read_png(path, &rw, &rh);
    CHECK(back && rw == w, "old file intact");
    free(back);
    unlink(path);
}

enum { NX = 12, NY = 10, NZ = 5 };
#define IDX(x, y, z) (((size_t)(z) * NY + (size_t)(y)) * NX + (size_t)(x))

/* slices 1..3 hold a heart: LV square x 4..7, y 3..6; MYO its 1-voxel ring; RV block x 0..2, y 2..7
 * (prediction), while the gt's LV is one voxel smaller in x (4..6) and the gt has no RV. */
static void make_volume(float *img, uint8_t *pred, uint8_t *gt) {
    for (int z = 0; z < NZ; z++)
        for (int y = 0; y < NY; y++)
            for (int x = 0; x < NX; x++) {
                size_t i = IDX(x, y, z);
                img[i] = (float)i;
                pred[i] = gt[i] = 0;
                if (z < 1 || z > 3) continue;
                if (x >= 3 && x <= 8 && y >= 2 && y <= 7) pred[i] = gt[i] = 2;
                if (x >= 4 && x <= 7 && y >= 3 && y <= 6) pred[i] = 3;
                if (x >= 4 && x <= 6 && y >= 3 && y <= 6) gt[i] = 3;
                if (x <= 1 && y >= 2 && y <= 7) pred[i] = 1;
            }
}

static const uint8_t *px(const su_rgb_image *im, int x, int y) { return im->rgb + ((size_t)y * im->width + x) * 3; }

static int is_rgb(const uint8_t *p, int r, int g, int b) { return p[0] == r && p[1] == g && p[2] == b; }

/* centre pixel of voxel (x,y) of column c, row r, for scale s and gap g (y runs upward) */
static const uint8_t *vox(const su_rgb_image *im, int c, int r, int x, int y, int s, int g) {
    int ox = g + c * (NX * s + g), oy = g + r * (NY * s + g);
    return px(im, ox + x * s + s / 2, oy + (NY - 1 - y) * s + s / 2);
}

static void test_overlay(void) {
    float *img = malloc(sizeof(float) * NX * NY * NZ);
    uint8_t *pred = malloc(NX * NY * NZ), *gt = malloc(NX * NY * NZ);
    make_volume(img, pred, gt);
    int z[8];
    CHECK(su_overlay_pick_slices(z, 3, pred, gt, NX, NY, NZ) == 3 && z[0] == 1 && z[1] == 2 && z[2] == 3,
          "slices 1,2,3 of the labelled range 1..3");
    CHECK(su_overlay_pick_slices(z, 5, pred, gt, NX, NY, NZ) == 3, "never more slices than labelled");
    CHECK(su_overlay_pick_slices(z, 1, pred, NULL, NX, NY, NZ) == 1 && z[0] == 2, "one slice: the middle");
    uint8_t *none = calloc(NX * NY * NZ, 1);
    CHECK(su_overlay_pick_slices(z, 2, none, NULL, NX, NY, NZ) == 2 && z[0] == 1 && z[1] == 3,
          "unlabelled: spread over all slices (1, 3)");

    su_overlay_opts o = {3, 3, 2};
    su_rgb_image im;
    su_error err = {{0}};
    CHECK_OK(su_overlay_render(&im, img, pred, gt, NX, NY, NZ, &o, &err), &err);
    CHECK(im.width == 3 * NX * 3 + 4 * 2 && im.height == 2 * NY * 3 + 3 * 2, "size %dx%d", im.width, im.height);
    if (im.rgb) {
        CHECK(is_rgb(px(&im, 0, 0), 32, 32, 32) && is_rgb(px(&im, NX * 3 + 2, 5), 32, 32, 32), "gap colour");
        /* window: 1st..99th percentile of 0..599 = 5.99 .. 593.01 */
        double lo = 5.99, hi = 593.01;
        for (int c = 0; c < 3; c++) {
            int zc = c + 1;
            const uint8_t *p = vox(&im, c, 0, 10, 0, 3, 2); /* background voxel (10,0) */
            int want = (int)lrint(255.0 * ((double)IDX(10, 0, zc) - lo) / (hi - lo));
            CHECK(is_rgb(p, want, want, want), "grey of (10,0,%d): %d,%d,%d want %d", zc, p[0], p[1], p[2], want);
            CHECK(is_rgb(vox(&im, c, 0, 4, 3, 3, 2), 0, 0, 255), "LV contour blue (pred)");
            CHECK(is_rgb(vox(&im, c, 0, 7, 5, 3, 2), 0, 0, 255), "LV contour blue at x=7 (pred)");
            const uint8_t *in = vox(&im, c, 0, 5, 4, 3, 2);
            CHECK(in[0] == in[1] && in[1] == in[2], "LV interior is grey");
            CHECK(is_rgb(vox(&im, c, 0, 3, 2, 3, 2), 0, 255, 0), "MYO contour green");
            CHECK(is_rgb(vox(&im, c, 0, 1, 5, 3, 2), 255, 0, 0), "RV contour red (x=1 next to background)");
            CHECK(is_rgb(vox(&im, c, 0, 0, 4, 3, 2), 255, 0, 0), "RV contour red (slice edge)");
            /* gt row: LV ends at x=6, so x=7 is MYO there (green contour: it touches the LV) */
            CHECK(is_rgb(vox(&im, c, 1, 6, 5, 3, 2), 0, 0, 255), "gt LV contour at x=6");
            CHECK(is_rgb(vox(&im, c, 1, 7, 5, 3, 2), 0, 255, 0), "gt x=7 is MYO contour");
            const uint8_t *g = vox(&im, c, 1, 0, 4, 3, 2);
            CHECK(g[0] == g[1] && g[1] == g[2], "gt has no RV: grey");
        }
        /* orientation: voxel y=0 is the bottom row of its panel; the slice-0 value is never shown */
        const uint8_t *bottom = px(&im, 2 + 10 * 3 + 1, 2 + NY * 3 - 1);
        int want = (int)lrint(255.0 * ((double)IDX(10, 0, 1) - lo) / (hi - lo));
        CHECK(bottom[0] == want, "y=0 drawn at the bottom (%d want %d)", bottom[0], want);
    }
    char path[256];
    snprintf(path, sizeof path, "%s/overlay.png", tmpdir);
    CHECK_OK(su_overlay_write_png(path, img, pred, gt, NX, NY, NZ, &o, &err), &err);
    int w = 0, h = 0;
    uint8_t *back = read_png(path, &w, &h);
    CHECK(back && w == im.width && h == im.height, "overlay PNG read back %dx%d", w, h);
    CHECK(back && im.rgb && memcmp(back, im.rgb, (size_t)w * h * 3) == 0, "overlay PNG pixels = render");
    free(back);
    unlink(path);
    su_rgb_image_free(&im);

    /* no gt: one row; default options */
    CHECK_OK(su_overlay_render(&im, img, pred, NULL, NX, NY, NZ, NULL, &err), &err);
    CHECK(im.width == 3 * NX * 2 + 4 * 4 && im.height == NY * 2 + 2 * 4, "one row %dx%d", im.width, im.height);
    su_rgb_image_free(&im);

    pred[IDX(5, 5, 2)] = 5;
    CHECK_FAILS_WITH(su_overlay_render(&im, img, pred, gt, NX, NY, NZ, &o, &err), &err, "label 5");
    CHECK(im.rgb == NULL, "nothing allocated on failure");
    pred[IDX(5, 5, 2)] = 3;
    o.scale = 0;
    CHECK_FAILS_WITH(su_overlay_render(&im, img, pred, gt, NX, NY, NZ, &o, &err), &err, "bad options");
    CHECK_FAILS_WITH(su_overlay_write_png("/nonexistent-dir/o.png", img, pred, gt, NX, NY, NZ, NULL, &err), &err,
                     "/nonexistent-dir/o.png");
    free(none);
    free(img);
    free(pred);
    free(gt);
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++) n++;
    return n;
}

static void test_svg(void) {
    const double x5[5] = {1, 2, 3, 4, 5}, y5[5] = {1.0, 0.8, 0.6, 0.5, 0.45};
    const double x1[1] = {3}, y1[1] = {0.7};
    const double nan3[3] = {NAN, NAN, NAN}, x3[3] = {1, 2, 3}, y3[3] = {0.2, NAN, 0.9};
    const su_plot_panel panels[2] = {{"Loss", "epoch", "loss"}, {"Validation", "epoch", "score"}};
    const su_plot_series s[4] = {
        {"unet: train_loss", x5, y5, 5, 0, 0, 0},
        {"spiking <T=4> & co", x1, y1, 1, 0, 1, 1},
        {"empty", x3, nan3, 3, 1, 2, 0},
        {"unet: val_dice_mean", x3, y3, 3, 1, 0, 2},
    };
    char *svg = NULL;
    size_t len = 0;
    su_error err = {{0}};
    CHECK_OK(su_svg_plot_render(&svg, &len, panels, 2, s, 4, &err), &err);
    if (svg) {
        CHECK(len == strlen(svg), "length");
        CHECK(strncmp(svg, "<?xml", 5) == 0 && strstr(svg, "</svg>\n") != NULL, "an SVG document");
        CHECK(count(svg, "<polyline") == 3, "3 polylines, got %d", count(svg, "<polyline"));
        CHECK(count(svg, "class=\"legend-entry\"") == 3, "3 legend entries");
        CHECK(count(svg, "<circle") == 1, "a single point gets a marker");
        CHECK(count(svg, "class=\"panel\"") == 2, "2 panels");
        CHECK(strstr(svg, "spiking &lt;T=4&gt; &amp; co") != NULL, "names escaped");
        CHECK(strstr(svg, ">empty<") == NULL, "a series without points has no legend entry");
        CHECK(strstr(svg, "stroke-dasharray=\"7,4\"") != NULL, "dashed style");
        CHECK(strstr(svg, ">Validation<") != NULL && strstr(svg, ">epoch<") != NULL, "titles and labels");
        /* x ticks of the loss panel: 1..5 step 1 */
        CHECK(strstr(svg, ">1</text>") && strstr(svg, ">5</text>"), "x tick labels");
        /* y ticks 0.4 .. 1.0 step 0.1 in the loss panel */
        CHECK(strstr(svg, ">0.4</text>") && strstr(svg, ">1.0</text>"), "y tick labels");
        /* the val_dice polyline skips the NaN: two points */
        const char *v = strstr(svg, "stroke-dasharray=\"2,3\" points=\"");
        CHECK(v != NULL, "dotted series");
        if (v) {
            const char *q = strchr(v + 31, '"');
            int spaces = 0;
            for (const char *p = v + 31; p < q; p++) spaces += *p == ' ';
            CHECK(spaces == 1, "two points in the NaN-skipping polyline (%d separators)", spaces);
        }
    }
    char path[256];
    snprintf(path, sizeof path, "%s/curves.svg", tmpdir);
    CHECK_OK(su_svg_plot_write(path, panels, 2, s, 4, &err), &err);
    FILE *f = fopen(path, "rb");
    char *back = calloc(1, len + 2);
    size_t got = f && back ? fread(back, 1, len + 1, f) : 0;
    if (f) fclose(f);
    CHECK(got == len && svg && memcmp(back, svg, len) == 0, "file = render");
    free(back);
    free(svg);
    unlink(path);
    su_plot_series bad = s[0];
    bad.panel = 2;
    CHECK_FAILS_WITH(su_svg_plot_render(&svg, &len, panels, 2, &bad, 1, &err), &err, "panel 2 of 2");
    CHECK(svg == NULL, "nothing on failure");
    CHECK_FAILS_WITH(su_svg_plot_write("/nonexistent-dir/c.svg", panels, 2, s, 4, &err), &err, "/nonexistent-dir/c.svg");
    /* all series empty: still a valid document with empty panels */
    CHECK_OK(su_svg_plot_render(&svg, &len, panels, 2, &s[2], 1, &err), &err);
    CHECK(svg && count(svg, "<polyline") == 0 && strstr(svg, "</svg>"), "empty plot");
    free(svg);
}

int main(void) {
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_png_roundtrip();
    test_overlay();
    test_svg();
    rmdir(tmpdir);
    return check_report("picture");
}
