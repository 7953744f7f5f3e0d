/* metrics: Dice/IoU/HD95 by hand (anisotropic spacing), the EDT against brute force, a synthetic volume
 * against scipy (tests/ref/metrics_ref.py), the shared metric_* cases, confusion counts, summaries, EF,
 * CSV output and errors. */
#include <cjson/cJSON.h>
#include <nifti1_io.h>
#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include "spikeunet/metrics.h"

static uint8_t *alloc_labels(int nx, int ny, int nz) { return calloc((size_t)nx * ny * nz, 1); }
#define AT(v, x, y, z) (v)[((size_t)(z) * ny + (size_t)(y)) * nx + (size_t)(x)]

/* Two single voxels of LV at (1,1,0) and (2,3,1) in a 4x4x3 volume with spacing 1 x 2 x 10:
 * HD95 = sqrt(1^2 + (2*2)^2 + 10^2) = sqrt(117). RV in gt only (worst case), MYO in neither. */
static void test_hand_anisotropic(void) {
    const int nx = 4, ny = 4, nz = 3;
    uint8_t *gt = alloc_labels(nx, ny, nz), *pred = alloc_labels(nx, ny, nz);
    AT(gt, 1, 1, 0) = SU_LV;
    AT(pred, 2, 3, 1) = SU_LV;
    AT(gt, 3, 0, 2) = SU_RV;
    AT(gt, 3, 1, 2) = SU_RV;
    su_volume_scores s;
    su_error err = {{0}};
    CHECK_OK(su_metrics_volume(&s, pred, gt, nx, ny, nz, 1.0f, 2.0f, 10.0f, &err), &err);
    double diag = sqrt(16.0 + 64.0 + 900.0);
    CHECK_NEAR(s.diag_mm, diag, 1e-9, "diagonal");
    CHECK_NEAR(s.cls[SU_LV].dice, 0.0, 0, "LV dice (disjoint)");
    CHECK_NEAR(s.cls[SU_LV].iou, 0.0, 0, "LV iou (disjoint)");
    CHECK_NEAR(s.cls[SU_LV].hd95_mm, sqrt(117.0), 1e-9, "LV hd95 anisotropic");
    CHECK(s.cls[SU_LV].presence == SU_PRESENT, "LV present");
    CHECK(s.cls[SU_RV].presence == SU_EMPTY_PRED, "RV pred_empty");
    CHECK_NEAR(s.cls[SU_RV].dice, 0.0, 0, "RV dice");
    CHECK_NEAR(s.cls[SU_RV].hd95_mm, diag, 1e-9, "RV hd95 = diagonal");
    CHECK(s.cls[SU_MYO].presence == SU_EMPTY_BOTH, "MYO both empty");
    CHECK_NEAR(s.cls[SU_MYO].dice, 1.0, 0, "MYO dice");
    CHECK_NEAR(s.cls[SU_MYO].iou, 1.0, 0, "MYO iou");
    CHECK_NEAR(s.cls[SU_MYO].hd95_mm, 0.0, 0, "MYO hd95");
    /* background: 44 common of 45 + 47. Surfaces: 44 voxels (prediction), 42 (gt); of the 86 pooled
     * distances 6 are 1 mm (x neighbours), 80 are 0; the 95th percentile (index 80.75) is 1 mm */
    CHECK_NEAR(s.cls[SU_BG].dice, 88.0 / 92.0, 1e-12, "BG dice");
    CHECK_NEAR(s.cls[SU_BG].iou, 44.0 / 48.0, 1e-12, "BG iou");
    CHECK_NEAR(s.cls[SU_BG].hd95_mm, 1.0, 1e-12, "BG hd95");
    CHECK(s.cls[SU_BG].n_gt == 45 && s.cls[SU_BG].n_pred == 47, "BG counts %lld %lld",
          (long long)s.cls[SU_BG].n_gt, (long long)s.cls[SU_BG].n_pred);
    CHECK(s.cls[SU_RV].n_gt == 2 && s.cls[SU_RV].n_pred == 0, "RV counts");
    CHECK_NEAR(s.cls[SU_RV].vol_gt_ml, 2 * 20.0 / 1000.0, 1e-12, "RV volume ml");
    CHECK_NEAR(s.dice_mean3, 1.0 / 3.0, 1e-12, "dice mean3");
    CHECK_NEAR(s.iou_mean3, 1.0 / 3.0, 1e-12, "iou mean3");
    CHECK_NEAR(s.hd95_mean3, (diag + 0.0 + sqrt(117.0)) / 3.0, 1e-9, "hd95 mean3 counts the worst case");
    CHECK_NEAR(s.dice_mean4, (88.0 / 92.0 + 1.0) / 4.0, 1e-12, "dice mean4");
    CHECK_NEAR(s.hd95_mean4, (1.0 + diag + sqrt(117.0)) / 4.0, 1e-9, "hd95 mean4");
    free(gt);
    free(pred);
}

/* A line of voxels (every voxel is surface), spacing 1.5 mm: gt x=0..3, prediction x=0..7.
 * Pooled distances: eight 0, then 1.5, 3, 4.5, 6; 95th percentile at 10.45 -> 4.5 + 0.45*1.5. */
static void test_hand_percentile(void) {
    const int nx = 10, ny = 1, nz = 1;
    uint8_t gt[10] = {3, 3, 3, 3, 0, 0, 0, 0, 0, 0}, pred[10] = {3, 3, 3, 3, 3, 3, 3, 3, 0, 0};
    su_volume_scores s;
    su_error err = {{0}};
    CHECK_OK(su_metrics_volume(&s, pred, gt, nx, ny, nz, 1.5f, 7.0f, 9.0f, &err), &err);
    CHECK_NEAR(s.cls[SU_LV].dice, 2.0 / 3.0, 1e-12, "line dice");
    CHECK_NEAR(s.cls[SU_LV].iou, 0.5, 1e-12, "line iou");
    CHECK_NEAR(s.cls[SU_LV].hd95_mm, 5.175, 1e-9, "line hd95 interpolated");
    CHECK_NEAR(s.cls[SU_LV].vol_pred_ml, 8 * 1.5 * 7.0 * 9.0 / 1000.0, 1e-9, "line pred volume");
    double v[5] = {5, 1, 4, 2, 3};
    CHECK_NEAR(su_metrics_percentile(v, 5, 95.0), 4.8, 1e-12, "percentile 95 of 1..5");
    CHECK_NEAR(su_metrics_percentile(v, 5, 50.0), 3.0, 1e-12, "median of 1..5");
    double one = 7.0;
    CHECK_NEAR(su_metrics_percentile(&one, 1, 95.0), 7.0, 0, "percentile of one value");
}

static uint32_t lcg(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void test_edt_brute_force(void) {
    const int dims[4][3] = {{7, 6, 5}, {1, 9, 4}, {11, 1, 1}, {5, 8, 3}};
    const float sp[4][3] = {{1.3f, 0.7f, 2.9f}, {1.0f, 1.5625f, 10.0f}, {0.5f, 1.0f, 1.0f}, {3.0f, 0.25f, 1.1f}};
    uint32_t seed = 12345;
    su_error err = {{0}};
    for (int t = 0; t < 4; t++) {
        int nx = dims[t][0], ny = dims[t][1], nz = dims[t][2];
        size_t n = (size_t)nx * ny * nz;
        uint8_t *m = malloc(n);
        double *d = malloc(n * sizeof *d);
        for (int rep = 0; rep < 5; rep++) {
            for (size_t i = 0; i < n; i++) m[i] = lcg(&seed) % 100 < (unsigned)(3 + 10 * rep);
            m[lcg(&seed) % n] = 1;
            CHECK_OK(su_metrics_edt(d, m, nx, ny, nz, sp[t][0], sp[t][1], sp[t][2], &err), &err);
            double worst = 0;
            for (int z = 0; z < nz; z++)
                for (int y = 0; y < ny; y++)
                    for (int x = 0; x < nx; x++) {
                        double best = INFINITY;
                        for (int c = 0; c < nz; c++)
                            for (int b = 0; b < ny; b++)
                                for (int a = 0; a < nx; a++) {
                                    if (!AT(m, a, b, c)) continue;
                                    double ex = (x - a) * (double)sp[t][0], ey = (y - b) * (double)sp[t][1],
                                           ez = (z - c) * (double)sp[t][2];
                                    double e = sqrt(ex * ex + ey * ey + ez * ez);
                                    if (e < best) best = e;
                                }
                        double diff = fabs(AT(d, x, y, z) - best);
                        if (diff > worst) worst = diff;
                    }
            CHECK(worst < 1e-9, "EDT case %d rep %d: max |edt - brute force| = %g", t, rep, worst);
        }
        /* no seed at all: infinite everywhere */
        memset(m, 0, n);
        CHECK_OK(su_metrics_edt(d, m, nx, ny, nz, sp[t][0], sp[t][1], sp[t][2], &err), &err);
        CHECK(isinf(d[0]) && isinf(d[n - 1]), "EDT without seeds is infinite");
        free(m);
        free(d);
    }
}

/* Same construction as synth() in tests/ref/metrics_ref.py. */
static void synth(uint8_t *lab, int nx, int ny, int nz, int shift) {
    for (int z = 0; z < nz; z++)
        for (int y = 0; y < ny; y++)
            for (int x = 0; x < nx; x++) {
                int cx = 9 + shift, r2 = (x - cx) * (x - cx) + (y - 9) * (y - 9);
                uint8_t v = 0;
                if (z >= 1 && z <= 4 && r2 <= (shift == 0 ? 36 : 30) - z) v = 2;
                if (4 * r2 + 16 * (z - 2) * (z - 2) <= 64 + 8 * shift) v = 3;
                if (x >= 1 && x <= 4 && y >= 5 + shift && y <= 13 + shift && z >= 1 - shift && z <= 3) v = 1;
                AT(lab, x, y, z) = v;
            }
}

static void test_against_scipy(void) {
    const int nx = 20, ny = 18, nz = 6;
    uint8_t *gt = alloc_labels(nx, ny, nz), *pred = alloc_labels(nx, ny, nz);
    synth(gt, nx, ny, nz, 0);
    synth(pred, nx, ny, nz, 2);
    /* from /usr/bin/python3 tests/ref/metrics_ref.py (scipy 1.10, medpy's hd95 definition) */
    const int64_t n_gt[4] = {1650, 108, 277, 125}, n_pred[4] = {1639, 144, 184, 193};
    const double dice[4] = {0.923076923077, 0.666666666667, 0.468546637744, 0.622641509434};
    const double iou[4] = {0.857142857143, 0.5, 0.305949008499, 0.452054794521};
    const double hd[4] = {1.540292180075, 3.0, 2.5, 3.0};
    su_volume_scores s;
    su_error err = {{0}};
    CHECK_OK(su_metrics_volume(&s, pred, gt, nx, ny, nz, 1.25f, 0.9f, 3.0f, &err), &err);
    for (int c = 0; c < 4; c++) {
        CHECK(s.cls[c].n_gt == n_gt[c] && s.cls[c].n_pred == n_pred[c], "class %d counts %lld %lld", c,
              (long long)s.cls[c].n_gt, (long long)s.cls[c].n_pred);
        CHECK_NEAR(s.cls[c].dice, dice[c], 1e-11, su_metrics_class_name(c));
        CHECK_NEAR(s.cls[c].iou, iou[c], 1e-11, su_metrics_class_name(c));
        /* spacing is given as float: allow float rounding */
        CHECK_NEAR(s.cls[c].hd95_mm, hd[c], 1e-6, su_metrics_class_name(c));
    }
    /* symmetric: swapping prediction and truth changes nothing but counts */
    su_volume_scores t;
    CHECK_OK(su_metrics_volume(&t, gt, pred, nx, ny, nz, 1.25f, 0.9f, 3.0f, &err), &err);
    for (int c = 0; c < 4; c++) CHECK_NEAR(t.cls[c].hd95_mm, s.cls[c].hd95_mm, 1e-12, "hd95 symmetric");
    free(gt);
    free(pred);
}

static uint8_t *read_labels(const char *path, int dim[3], float sp[3]) {
    nifti_image *im = nifti_image_read(path, 1);
    if (!im) return NULL;
    uint8_t *out = NULL;
    if (im->datatype == DT_UINT8 && im->nx * im->ny * im->nz == (int64_t)im->nvox) {
        dim[0] = (int)im->nx;
        dim[1] = (int)im->ny;
        dim[2] = (int)im->nz;
        sp[0] = (float)im->dx;
        sp[1] = (float)im->dy;
        sp[2] = (float)im->dz;
        out = malloc(im->nvox);
        memcpy(out, im->data, im->nvox);
    }
    nifti_image_free(im);
    return out;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_shared_case(const char *id, const char *patient) {
    char gpath[512], ppath[512], jpath[512];
    const char *sh = check_shared_dir();
    snprintf(gpath, sizeof gpath, "%s/cases/%s/gt/%s/%s_frame01_gt.nii.gz", sh, id, patient, patient);
    snprintf(ppath, sizeof ppath, "%s/cases/%s/pred/%s_frame01.nii.gz", sh, id, patient);
    snprintf(jpath, sizeof jpath, "%s/cases/%s/expect.json", sh, id);
    int dg[3], dp[3];
    float sg[3], sp[3];
    uint8_t *gt = read_labels(gpath, dg, sg), *pred = read_labels(ppath, dp, sp);
    char *json = slurp(jpath);
    cJSON *ex = json ? cJSON_Parse(json) : NULL;
    CHECK(gt && pred && ex, "%s: cannot read the case files", id);
    if (!gt || !pred || !ex) goto done;
    CHECK(memcmp(dg, dp, sizeof dg) == 0, "%s: shapes", id);
    su_volume_scores s;
    su_error err = {{0}};
    CHECK_OK(su_metrics_volume(&s, pred, gt, dg[0], dg[1], dg[2], sg[0], sg[1], sg[2], &err), &err);
    const cJSON *dice = cJSON_GetObjectItem(ex, "dice"), *hd = cJSON_GetObjectItem(ex, "hd95_mm");
    double worst_min = cJSON_GetNumberValue(cJSON_GetObjectItem(ex, "worst_min_mm"));
    double want_mean = 0;
    for (int c = 1; c < SU_NCLASS; c++) {
        const char *name = su_metrics_class_name(c);
        const cJSON *dv = cJSON_GetObjectItem(dice, name), *hv = cJSON_GetObjectItem(hd, name);
        CHECK(cJSON_IsNumber(dv), "%s: expected dice for %s", id, name);
        CHECK_NEAR(s.cls[c].dice, cJSON_GetNumberValue(dv), 1e-12, name);
        CHECK_NEAR(s.cls[c].iou, cJSON_GetNumberValue(dv), 1e-12, name); /* 1 or 0 here: IoU equals Dice */
        if (cJSON_IsString(hv) && strcmp(hv->valuestring, "worst") == 0) {
            CHECK(isfinite(s.cls[c].hd95_mm) && s.cls[c].hd95_mm >= worst_min - 1e-6,
                  "%s %s: hd95 %g must be the worst case >= %g", id, name, s.cls[c].hd95_mm, worst_min);
            CHECK(s.cls[c].presence == SU_EMPTY_PRED, "%s %s: presence pred_empty", id, name);
        } else {
            CHECK_NEAR(s.cls[c].hd95_mm, cJSON_GetNumberValue(hv), 1e-12, name);
        }
        want_mean += s.cls[c].hd95_mm / 3.0;
    }
    CHECK_NEAR(s.hd95_mean3, want_mean, 1e-9, "hd95 mean3 includes every class");
    if (strcmp(id, "metric_pred_empty") == 0) {
        CHECK_NEAR(s.hd95_mean3, sqrt(24.0 * 24 + 24.0 * 24 + 40.0 * 40) / 3.0, 1e-6, "worst counted in the mean");
        CHECK_NEAR(s.dice_mean3, 2.0 / 3.0, 1e-12, "pred_empty dice mean3");
    }
    if (strcmp(id, "metric_both_empty") == 0) {
        CHECK(s.cls[SU_RV].presence == SU_EMPTY_BOTH, "both_empty flagged");
        CHECK_NEAR(s.dice_mean3, 1.0, 1e-12, "both_empty dice mean3");
    }
done:
    cJSON_Delete(ex);
    free(json);
    free(gt);
    free(pred);
}

static void test_confusion(void) {
    /* gt:   0 0 1 1 2 2 3 3 ; pred: 0 1 1 1 2 3 3 0 */
    const uint8_t gt[8] = {0, 0, 1, 1, 2, 2, 3, 3}, pred[8] = {0, 1, 1, 1, 2, 3, 3, 0};
    su_confusion c;
    su_error err = {{0}};
    su_confusion_reset(&c);
    CHECK_OK(su_confusion_add(&c, pred, gt, 4, &err), &err); /* split over two calls like two batches */
    CHECK_OK(su_confusion_add(&c, pred + 4, gt + 4, 4, &err), &err);
    double d[4], j[4], d3, j3, d4, j4;
    su_confusion_scores(&c, d, j, &d3, &j3, &d4, &j4);
    /* BG tp1 fp1 fn1; RV tp2 fp1 fn0; MYO tp1 fp0 fn1; LV tp1 fp1 fn1 */
    CHECK_NEAR(d[0], 0.5, 1e-12, "BG dice");
    CHECK_NEAR(d[1], 0.8, 1e-12, "RV dice");
    CHECK_NEAR(d[2], 2.0 / 3.0, 1e-12, "MYO dice");
    CHECK_NEAR(d[3], 0.5, 1e-12, "LV dice");
    CHECK_NEAR(j[1], 2.0 / 3.0, 1e-12, "RV iou");
    CHECK_NEAR(j[2], 0.5, 1e-12, "MYO iou");
    CHECK_NEAR(d3, (0.8 + 2.0 / 3.0 + 0.5) / 3.0, 1e-12, "dice mean3");
    CHECK_NEAR(j4, (1.0 / 3.0 + 2.0 / 3.0 + 0.5 + 1.0 / 3.0) / 4.0, 1e-12, "iou mean4");
    (void)d4;
    (void)j3;
    /* a class absent from both is 1 */
    su_confusion_reset(&c);
    const uint8_t z[3] = {0, 0, 3};
    CHECK_OK(su_confusion_add(&c, z, z, 3, &err), &err);
    su_confusion_scores(&c, d, NULL, NULL, NULL, NULL, NULL);
    CHECK(d[1] == 1.0 && d[2] == 1.0 && d[3] == 1.0, "absent classes score 1");
    const uint8_t bad[2] = {0, 9};
    CHECK_FAILS_WITH(su_confusion_add(&c, bad, z, 2, &err), &err, "label 9");
    CHECK(c.m[0][0] == 2 && c.m[3][3] == 1, "a failed add adds nothing");
}

static su_volume_scores fake(double lv_gt, double lv_pred, double rv_gt, double rv_pred, double dice_lv,
                             double hd_lv) {
    su_volume_scores s;
    memset(&s, 0, sizeof s);
    s.cls[SU_LV].vol_gt_ml = lv_gt;
    s.cls[SU_LV].vol_pred_ml = lv_pred;
    s.cls[SU_RV].vol_gt_ml = rv_gt;
    s.cls[SU_RV].vol_pred_ml = rv_pred;
    s.cls[SU_LV].dice = dice_lv;
    s.cls[SU_LV].hd95_mm = hd_lv;
    s.dice_mean3 = dice_lv / 3;
    return s;
}

static void test_sets_and_ef(void) {
    su_metrics_set set;
    su_metrics_set_init(&set);
    su_error err = {{0}};
    su_volume_scores a = fake(100, 110, 150, 140, 0.9, 4), b = fake(40, 55, 75, 70, 0.8, 6),
                     c = fake(200, 180, 0, 0, 0.7, 10), d = fake(50, 90, 0, 10, 0.6, 20), e = fake(80, 80, 80, 80, 0.5, 30);
    CHECK_OK(su_metrics_set_add(&set, "patient001", SU_METRICS_PHASE_ED, &a, &err), &err);
    CHECK_OK(su_metrics_set_add(&set, "patient002", SU_METRICS_PHASE_ED, &c, &err), &err);
    CHECK_OK(su_metrics_set_add(&set, "patient001", SU_METRICS_PHASE_ES, &b, &err), &err);
    CHECK_OK(su_metrics_set_add(&set, "patient002", SU_METRICS_PHASE_ES, &d, &err), &err);
    CHECK_OK(su_metrics_set_add(&set, "patient003", SU_METRICS_PHASE_ES, &e, &err), &err); /* no ED */
    CHECK(set.n == 5, "5 records");

    su_metrics_summary s;
    su_metrics_summarize(&s, set.rec, set.n, SU_METRICS_PHASE_NONE);
    CHECK(s.n == 5, "summary n");
    CHECK_NEAR(s.dice[SU_LV].mean, 0.7, 1e-12, "LV dice mean");
    CHECK_NEAR(s.dice[SU_LV].std, sqrt(0.02), 1e-12, "LV dice population std"); /* var of .9..5 = .02 */
    CHECK_NEAR(s.hd95[SU_LV].mean, 14.0, 1e-12, "LV hd95 mean");
    su_metrics_summarize(&s, set.rec, set.n, SU_METRICS_PHASE_ED);
    CHECK(s.n == 2, "ED n");
    CHECK_NEAR(s.dice[SU_LV].mean, 0.8, 1e-12, "ED LV dice mean");
    CHECK_NEAR(s.dice[SU_LV].std, 0.1, 1e-12, "ED LV dice std");
    CHECK_NEAR(s.hd95[SU_LV].mean, 7.0, 1e-12, "ED LV hd95 mean");
    /* pooled LV: I = 0.9 * 210 / 2 + 0.7 * 380 / 2 = 227.5, U = 590 - 227.5; MYO absent everywhere: 1 */
    CHECK_NEAR(s.iou_pooled[SU_LV], 227.5 / 362.5, 1e-12, "ED LV pooled IoU");
    CHECK_NEAR(s.iou_pooled[SU_MYO], 1.0, 0, "MYO absent from all: pooled IoU 1");
    CHECK_NEAR(s.iou_pooled[SU_RV], 0.0, 0, "RV Dice 0 everywhere: pooled IoU 0");
    CHECK_NEAR(s.iou_pooled_mean3, (227.5 / 362.5 + 1.0) / 3, 1e-12, "ED pooled mean3");
    su_metrics_summarize(&s, set.rec, set.n, SU_METRICS_PHASE_ES);
    CHECK(s.n == 3 && fabs(s.hd95[SU_LV].mean - 56.0 / 3) < 1e-12, "ES hd95 mean %g", s.hd95[SU_LV].mean);

    CHECK_NEAR(su_ejection_fraction(100, 40), 60.0, 1e-12, "EF 100/40");
    CHECK(isnan(su_ejection_fraction(0, 0)), "EF undefined for EDV 0");
    su_ef_result *ef = NULL;
    size_t nef = 0;
    CHECK_OK(su_metrics_ejection(&ef, &nef, set.rec, set.n, &err), &err);
    CHECK(nef == 2, "two patients with ED and ES, got %zu", nef);
    if (nef == 2) {
        CHECK(strcmp(ef[0].patient, "patient001") == 0 && strcmp(ef[1].patient, "patient002") == 0, "order");
        CHECK_NEAR(ef[0].lv_ef_gt, 60.0, 1e-12, "p1 LV EF gt");
        CHECK_NEAR(ef[0].lv_ef_pred, 50.0, 1e-12, "p1 LV EF pred (110 -> 55)");
        CHECK_NEAR(ef[0].lv_ef_diff, -10.0, 1e-12, "p1 LV EF diff");
        CHECK_NEAR(ef[0].rv_ef_gt, 50.0, 1e-12, "p1 RV EF gt");
        CHECK_NEAR(ef[0].rv_ef_pred, 50.0, 1e-12, "p1 RV EF pred");
        CHECK_NEAR(ef[1].lv_ef_gt, 75.0, 1e-12, "p2 LV EF gt");
        CHECK_NEAR(ef[1].lv_ef_pred, 50.0, 1e-12, "p2 LV EF pred");
        CHECK(isnan(ef[1].rv_ef_gt) && isnan(ef[1].rv_ef_diff), "p2 RV EF undefined");
        su_ef_summary es;
        su_metrics_ef_summarize(&es, ef, nef);
        CHECK_NEAR(es.lv_ef_diff.mean, -17.5, 1e-12, "LV EF diff mean");
        CHECK_NEAR(es.lv_ef_absdiff.mean, 17.5, 1e-12, "LV EF |diff| mean");
        CHECK_NEAR(es.lv_ef_diff.std, 7.5, 1e-12, "LV EF diff std");
        CHECK(es.rv_ef_diff.n == 1 && es.rv_ef_diff.mean == 0.0, "RV EF only where defined");
    }

    /* CSV files: written atomically, one line per record plus the header */
    char dir[] = "/tmp/su_metrics_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256];
    snprintf(path, sizeof path, "%s/scores.csv", dir);
    CHECK_OK(su_metrics_csv_write(path, set.rec, set.n, &err), &err);
    char *txt = slurp(path);
    int lines = 0;
    for (char *p = txt; p && *p; p++) lines += *p == '\n';
    CHECK(lines == 6, "scores.csv lines %d", lines);
    CHECK(txt && strncmp(txt, "patient,phase,dice_BG,", 22) == 0, "header");
    CHECK(txt && strstr(txt, "\npatient002,ES,") != NULL, "row");
    free(txt);
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    CHECK_OK(su_metrics_summary_csv_write(path, set.rec, set.n, &err), &err);
    txt = slurp(path);
    CHECK(txt && strstr(txt, "all,dice,LV,0.700000,0.141421,5\n") != NULL, "summary row: %s", txt ? txt : "");
    CHECK(txt && strstr(txt, "ED,hd95_mm,LV,7.000000,3.000000,2\n") != NULL, "ED summary row");
    CHECK(txt && strstr(txt, "ED,iou_pooled,LV,0.627586,,2\n") != NULL, "ED pooled IoU row"); /* 227.5 / 362.5 */
    free(txt);
    unlink(path);
    snprintf(path, sizeof path, "%s/scores.csv", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/ef.csv", dir);
    CHECK_OK(su_metrics_ef_csv_write(path, ef, nef, &err), &err);
    txt = slurp(path);
    CHECK(txt && strstr(txt, "\npatient001,100.0000,40.0000,110.0000,55.0000,") != NULL, "ef row");
    free(txt);
    unlink(path);
    rmdir(dir);
    snprintf(path, sizeof path, "%s/no/such/dir/x.csv", dir);
    CHECK_FAILS_WITH(su_metrics_csv_write(path, set.rec, set.n, &err), &err, "/no/such/dir/x.csv");
    free(ef);

    /* a duplicate phase is an error */
    CHECK_OK(su_metrics_set_add(&set, "patient001", SU_METRICS_PHASE_ED, &a, &err), &err);
    CHECK_FAILS_WITH(su_metrics_ejection(&ef, &nef, set.rec, set.n, &err), &err, "patient001: two ED records");
    CHECK(ef == NULL && nef == 0, "nothing returned on failure");
    CHECK_FAILS_WITH(su_metrics_set_add(&set, "patient001", 7, &a, &err), &err, "unknown phase 7");
    su_metrics_set_free(&set);
}

static void test_errors(void) {
    uint8_t gt[8] = {0}, pred[8] = {0};
    su_volume_scores s;
    su_error err = {{0}};
    pred[5] = 7;
    CHECK_FAILS_WITH(su_metrics_volume(&s, pred, gt, 2, 2, 2, 1, 1, 1, &err), &err, "prediction: label 7 at voxel (1,0,1)");
    pred[5] = 0;
    gt[2] = 4;
    CHECK_FAILS_WITH(su_metrics_volume(&s, pred, gt, 2, 2, 2, 1, 1, 1, &err), &err, "ground truth: label 4");
    gt[2] = 0;
    CHECK_FAILS_WITH(su_metrics_volume(&s, pred, gt, 2, 2, 2, 1, 0, 1, &err), &err, "spacing");
    CHECK_FAILS_WITH(su_metrics_volume(&s, pred, gt, 2, 0, 2, 1, 1, 1, &err), &err, "size");
    /* all background: every structure empty in both -> all ones, all zeros */
    CHECK_OK(su_metrics_volume(&s, pred, gt, 2, 2, 2, 1, 1, 1, &err), &err);
    CHECK(s.dice_mean3 == 1.0 && s.hd95_mean3 == 0.0 && s.dice_mean4 == 1.0, "all background");
}

int main(void) {
    test_hand_anisotropic();
    test_hand_percentile();
    test_edt_brute_force();
    test_against_scipy();
    test_shared_case("metric_perfect", "patient931");
    test_shared_case("metric_both_empty", "patient932");
    test_shared_case("metric_pred_empty", "patient933");
    test_confusion();
    test_sets_and_ef();
    test_errors();
    return check_report("metrics");
}
