/* Segmentation metrics. Conventions (empty classes, HD95 definition) are stated in metrics.h and
 * docs/METRICS.md; they follow ../shared/cases (metric_both_empty, metric_pred_empty). */
#include "spikeunet/metrics.h"

#include "atomic.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *su_metrics_class_name(int c) {
    static const char *const names[SU_NCLASS] = {"BG", "RV", "MYO", "LV"};
    return c >= 0 && c < SU_NCLASS ? names[c] : "?";
}

const char *su_presence_name(su_presence p) {
    switch (p) {
    case SU_PRESENT: return "ok";
    case SU_EMPTY_BOTH: return "both_empty";
    case SU_EMPTY_PRED: return "pred_empty";
    case SU_EMPTY_GT: return "gt_empty";
    }
    return "?";
}

static const char *phase_name(int phase) {
    return phase == SU_METRICS_PHASE_ED ? "ED" : phase == SU_METRICS_PHASE_ES ? "ES" : "-";
}

/* ---- distance transform -------------------------------------------------------------------------- */

typedef struct edt_scratch {
    double *f, *d, *z;
    int *v;
} edt_scratch;

static int scratch_alloc(edt_scratch *s, int len) {
    s->f = malloc(sizeof(double) * (size_t)len);
    s->d = malloc(sizeof(double) * (size_t)len);
    s->z = malloc(sizeof(double) * ((size_t)len + 1));
    s->v = malloc(sizeof(int) * (size_t)len);
    return s->f && s->d && s->z && s->v ? 0 : -1;
}

static void scratch_free(edt_scratch *s) {
    free(s->f);
    free(s->d);
    free(s->z);
    free(s->v);
}

/* 1-D squared distance transform of sampled function f (Felzenszwalb & Huttenlocher 2012) for samples
 * spaced w_sqrt apart: d[p] = min_q w*(p-q)^2 + f[q], w = spacing^2. Infinite samples are left out of the
 * lower envelope, so a line without any finite sample stays infinite (no INF arithmetic). */
static void edt_1d(double *d, const double *f, int n, double w, int *v, double *z) {
    int k = -1;
    for (int q = 0; q < n; q++) {
        if (!isfinite(f[q])) continue;
        if (k < 0) {
            k = 0;
            v[0] = q;
            z[0] = -INFINITY;
            z[1] = INFINITY;
            continue;
        }
        double s;
        for (;;) {
            int p = v[k];
            s = ((f[q] + w * (double)q * q) - (f[p] + w * (double)p * p)) / (2.0 * w * (q - p));
            if (s <= z[k]) {
                k--; /* never below 0: z[0] is -inf */
                continue;
            }
            break;
        }
        k++;
        v[k] = q;
        z[k] = s;
        z[k + 1] = INFINITY;
    }
    if (k < 0) {
        for (int q = 0; q < n; q++) d[q] = INFINITY;
        return;
    }
    int j = 0;
    for (int q = 0; q < n; q++) {
        while (z[j + 1] < q) j++;
        double t = (double)(q - v[j]);
        d[q] = w * t * t + f[v[j]];
    }
}

/* In place: d2 holds 0 at seeds and +inf elsewhere; on return the squared distance in mm^2. */
static void edt_sq(double *d2, int nx, int ny, int nz, double dx, double dy, double dz, edt_scratch *s) {
    size_t sx = 1, sy = (size_t)nx, sz = (size_t)nx * ny;
    const int len[3] = {nx, ny, nz};
    const size_t stride[3] = {sx, sy, sz};
    const double w[3] = {dx * dx, dy * dy, dz * dz};
    for (int axis = 0; axis < 3; axis++) {
        int n = len[axis];
        if (n == 1) continue; /* a single sample: nothing moves along this axis */
        size_t st = stride[axis];
        /* every line along `axis`: iterate over the other two indices */
        int a = axis == 0 ? ny : nx, b = axis == 2 ? ny : nz;
        size_t sa = axis == 0 ? sy : sx, sb = axis == 2 ? sy : sz;
        for (int ib = 0; ib < b; ib++)
            for (int ia = 0; ia < a; ia++) {
                double *line = d2 + (size_t)ia * sa + (size_t)ib * sb;
                for (int i = 0; i < n; i++) s->f[i] = line[(size_t)i * st];
                edt_1d(s->d, s->f, n, w[axis], s->v, s->z);
                for (int i = 0; i < n; i++) line[(size_t)i * st] = s->d[i];
            }
    }
}

static int max3(int a, int b, int c) {
    int m = a > b ? a : b;
    return m > c ? m : c;
}

static int check_geometry(int nx, int ny, int nz, float dx, float dy, float dz, su_error *err) {
    if (nx <= 0 || ny <= 0 || nz <= 0)
        return su_fail(err, "metrics: bad volume size %dx%dx%d", nx, ny, nz);
    if (!(isfinite(dx) && isfinite(dy) && isfinite(dz) && dx > 0 && dy > 0 && dz > 0))
        return su_fail(err, "metrics: bad voxel spacing %gx%gx%g mm", (double)dx, (double)dy, (double)dz);
    return 0;
}

int su_metrics_edt(double *dist_mm, const uint8_t *seed, int nx, int ny, int nz, float dx, float dy, float dz,
                   su_error *err) {
    if (check_geometry(nx, ny, nz, dx, dy, dz, err)) return -1;
    size_t n = (size_t)nx * ny * nz;
    edt_scratch s;
    if (scratch_alloc(&s, max3(nx, ny, nz))) {
        scratch_free(&s);
        return su_fail(err, "metrics: out of memory for the distance transform");
    }
    for (size_t i = 0; i < n; i++) dist_mm[i] = seed[i] ? 0.0 : INFINITY;
    edt_sq(dist_mm, nx, ny, nz, dx, dy, dz, &s);
    for (size_t i = 0; i < n; i++) dist_mm[i] = sqrt(dist_mm[i]);
    scratch_free(&s);
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double su_metrics_percentile(double *v, size_t n, double q) {
    if (n == 0) return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    double pos = q / 100.0 * (double)(n - 1);
    if (pos <= 0) return v[0];
    if (pos >= (double)(n - 1)) return v[n - 1];
    size_t lo = (size_t)floor(pos);
    double frac = pos - (double)lo;
    return v[lo] + (v[lo + 1] - v[lo]) * frac;
}

/* ---- one volume -------------------------------------------------------------------------------- */

/* Surface of label c: voxels of c with a 6-neighbour that is not c; outside the volume counts as not c
 * (scipy's binary_erosion with border_value 0, as medpy uses). Returns the count. */
static size_t surface(uint8_t *out, const uint8_t *lab, uint8_t c, int nx, int ny, int nz) {
    size_t count = 0, sy = (size_t)nx, sz = (size_t)nx * ny;
    for (int z = 0; z < nz; z++)
        for (int y = 0; y < ny; y++)
            for (int x = 0; x < nx; x++) {
                size_t i = (size_t)z * sz + (size_t)y * sy + (size_t)x;
                uint8_t b = 0;
                if (lab[i] == c) {
                    b = x == 0 || x == nx - 1 || y == 0 || y == ny - 1 || z == 0 || z == nz - 1 ||
                        lab[i - 1] != c || lab[i + 1] != c || lab[i - sy] != c || lab[i + sy] != c ||
                        lab[i - sz] != c || lab[i + sz] != c;
                }
                out[i] = b;
                count += b;
            }
    return count;
}

typedef struct hd_work {
    uint8_t *bp, *bg; /* surfaces of prediction and gt */
    double *dist;     /* squared distances, then mm */
    edt_scratch s;
} hd_work;

static void seeds_to_d2(double *d2, const uint8_t *seed, size_t n) {
    for (size_t i = 0; i < n; i++) d2[i] = seed[i] ? 0.0 : INFINITY;
}

/* HD95 of class c, present in both volumes. */
static int hd95_class(double *out, hd_work *w, const uint8_t *pred, const uint8_t *gt, uint8_t c, int nx, int ny,
                      int nz, double dx, double dy, double dz, su_error *err) {
    size_t n = (size_t)nx * ny * nz;
    size_t np = surface(w->bp, pred, c, nx, ny, nz), ng = surface(w->bg, gt, c, nx, ny, nz);
    double *d = malloc(sizeof(double) * (np + ng));
    if (!d) return su_fail(err, "metrics: out of memory for %zu surface distances", np + ng);
    size_t k = 0;
    /* prediction surface -> nearest gt surface voxel */
    seeds_to_d2(w->dist, w->bg, n);
    edt_sq(w->dist, nx, ny, nz, dx, dy, dz, &w->s);
    for (size_t i = 0; i < n; i++)
        if (w->bp[i]) d[k++] = sqrt(w->dist[i]);
    /* gt surface -> nearest prediction surface voxel */
    seeds_to_d2(w->dist, w->bp, n);
    edt_sq(w->dist, nx, ny, nz, dx, dy, dz, &w->s);
    for (size_t i = 0; i < n; i++)
        if (w->bg[i]) d[k++] = sqrt(w->dist[i]);
    *out = su_metrics_percentile(d, k, 95.0);
    free(d);
    return 0;
}

static int bad_label(const char *what, const uint8_t *lab, size_t i, int nx, int ny, su_error *err) {
    int x = (int)(i % (size_t)nx), y = (int)(i / (size_t)nx % (size_t)ny), z = (int)(i / ((size_t)nx * ny));
    return su_fail(err, "%s: label %d at voxel (%d,%d,%d), expected 0..3 (BG, RV, MYO, LV)", what, lab[i], x, y, z);
}

int su_metrics_volume(su_volume_scores *out, const uint8_t *pred, const uint8_t *gt, int nx, int ny, int nz,
                      float dx, float dy, float dz, su_error *err) {
    if (check_geometry(nx, ny, nz, dx, dy, dz, err)) return -1;
    size_t n = (size_t)nx * ny * nz;
    int64_t npred[SU_NCLASS] = {0}, ngt[SU_NCLASS] = {0}, inter[SU_NCLASS] = {0};
    for (size_t i = 0; i < n; i++) {
        uint8_t p = pred[i], g = gt[i];
        if (p >= SU_NCLASS) return bad_label("prediction", pred, i, nx, ny, err);
        if (g >= SU_NCLASS) return bad_label("ground truth", gt, i, nx, ny, err);
        npred[p]++;
        ngt[g]++;
        inter[g] += p == g;
    }
    memset(out, 0, sizeof *out);
    double ddx = dx, ddy = dy, ddz = dz;
    double voxel_ml = ddx * ddy * ddz / 1000.0;
    out->diag_mm = sqrt(nx * ddx * nx * ddx + ny * ddy * ny * ddy + nz * ddz * nz * ddz);

    hd_work w = {0};
    int need_hd = 0;
    for (int c = 0; c < SU_NCLASS; c++) need_hd |= npred[c] > 0 && ngt[c] > 0;
    if (need_hd) {
        w.bp = malloc(n);
        w.bg = malloc(n);
        w.dist = malloc(sizeof(double) * n);
        if (!w.bp || !w.bg || !w.dist || scratch_alloc(&w.s, max3(nx, ny, nz))) {
            free(w.bp);
            free(w.bg);
            free(w.dist);
            scratch_free(&w.s);
            return su_fail(err, "metrics: out of memory for a %dx%dx%d volume", nx, ny, nz);
        }
    }
    int rc = 0;
    for (int c = 0; c < SU_NCLASS && rc == 0; c++) {
        su_class_scores *cs = &out->cls[c];
        cs->n_gt = ngt[c];
        cs->n_pred = npred[c];
        cs->vol_gt_ml = (double)ngt[c] * voxel_ml;
        cs->vol_pred_ml = (double)npred[c] * voxel_ml;
        if (ngt[c] == 0 && npred[c] == 0) {
            cs->presence = SU_EMPTY_BOTH;
            cs->dice = 1.0;
            cs->iou = 1.0;
            cs->hd95_mm = 0.0;
        } else if (ngt[c] == 0 || npred[c] == 0) {
            cs->presence = npred[c] == 0 ? SU_EMPTY_PRED : SU_EMPTY_GT;
            cs->dice = 0.0;
            cs->iou = 0.0;
            cs->hd95_mm = out->diag_mm;
        } else {
            cs->presence = SU_PRESENT;
            double i = (double)inter[c], g = (double)ngt[c], p = (double)npred[c];
            cs->dice = 2.0 * i / (g + p);
            cs->iou = i / (g + p - i);
            rc = hd95_class(&cs->hd95_mm, &w, pred, gt, (uint8_t)c, nx, ny, nz, ddx, ddy, ddz, err);
        }
    }
    if (need_hd) {
        free(w.bp);
        free(w.bg);
        free(w.dist);
        scratch_free(&w.s);
    }
    if (rc) return rc;
    for (int c = 0; c < SU_NCLASS; c++) {
        const su_class_scores *cs = &out->cls[c];
        out->dice_mean4 += cs->dice / 4.0;
        out->iou_mean4 += cs->iou / 4.0;
        out->hd95_mean4 += cs->hd95_mm / 4.0;
        if (c == SU_BG) continue;
        out->dice_mean3 += cs->dice / 3.0;
        out->iou_mean3 += cs->iou / 3.0;
        out->hd95_mean3 += cs->hd95_mm / 3.0;
    }
    return 0;
}

/* ---- confusion counts ------------------------------------------------------------------------------ */

void su_confusion_reset(su_confusion *c) { memset(c, 0, sizeof *c); }

int su_confusion_add(su_confusion *c, const uint8_t *pred, const uint8_t *gt, size_t n, su_error *err) {
    int64_t m[SU_NCLASS][SU_NCLASS] = {{0}};
    for (size_t i = 0; i < n; i++) {
        uint8_t p = pred[i], g = gt[i];
        if (p >= SU_NCLASS) return su_fail(err, "prediction: label %d at index %zu, expected 0..3", p, i);
        if (g >= SU_NCLASS) return su_fail(err, "ground truth: label %d at index %zu, expected 0..3", g, i);
        m[g][p]++;
    }
    for (int g = 0; g < SU_NCLASS; g++)
        for (int p = 0; p < SU_NCLASS; p++) c->m[g][p] += m[g][p];
    return 0;
}

void su_confusion_scores(const su_confusion *c, double dice[SU_NCLASS], double iou[SU_NCLASS], double *dice_mean3,
                         double *iou_mean3, double *dice_mean4, double *iou_mean4) {
    double d[SU_NCLASS], j[SU_NCLASS], d3 = 0, j3 = 0, d4 = 0, j4 = 0;
    for (int k = 0; k < SU_NCLASS; k++) {
        double tp = (double)c->m[k][k], fp = 0, fn = 0;
        for (int o = 0; o < SU_NCLASS; o++) {
            if (o == k) continue;
            fp += (double)c->m[o][k];
            fn += (double)c->m[k][o];
        }
        if (tp + fp + fn == 0) {
            d[k] = j[k] = 1.0; /* absent from both: same convention as su_metrics_volume */
        } else {
            d[k] = 2 * tp / (2 * tp + fp + fn);
            j[k] = tp / (tp + fp + fn);
        }
        d4 += d[k] / 4;
        j4 += j[k] / 4;
        if (k != SU_BG) {
            d3 += d[k] / 3;
            j3 += j[k] / 3;
        }
    }
    if (dice) memcpy(dice, d, sizeof d);
    if (iou) memcpy(iou, j, sizeof j);
    if (dice_mean3) *dice_mean3 = d3;
    if (iou_mean3) *iou_mean3 = j3;
    if (dice_mean4) *dice_mean4 = d4;
    if (iou_mean4) *iou_mean4 = j4;
}

/* ---- many volumes ---------------------------------------------------------------------------------- */

void su_metrics_set_init(su_metrics_set *set) { memset(set, 0, sizeof *set); }

void su_metrics_set_free(su_metrics_set *set) {
    free(set->rec);
    memset(set, 0, sizeof *set);
}

int su_metrics_set_add(su_metrics_set *set, const char *patient, int phase, const su_volume_scores *s,
                       su_error *err) {
    if (!patient || strlen(patient) >= sizeof set->rec[0].patient)
        return su_fail(err, "metrics: patient id '%.40s...' too long (at most 63 characters)", patient ? patient : "");
    if (phase != SU_METRICS_PHASE_NONE && phase != SU_METRICS_PHASE_ED && phase != SU_METRICS_PHASE_ES)
        return su_fail(err, "%s: unknown phase %d", patient, phase);
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        su_metrics_record *r = realloc(set->rec, cap * sizeof *r);
        if (!r) return su_fail(err, "metrics: out of memory for %zu records", cap);
        set->rec = r;
        set->cap = cap;
    }
    su_metrics_record *r = &set->rec[set->n++];
    memset(r, 0, sizeof *r);
    strcpy(r->patient, patient);
    r->phase = phase;
    r->s = *s;
    return 0;
}

/* mean and population std of the finite values v[0..n-1] (two passes) */
typedef double (*getter)(const su_metrics_record *r, int c);

static su_stat stat_of(const su_metrics_record *rec, size_t n, int phase, getter get, int c) {
    su_stat st = {NAN, NAN, 0};
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (phase != SU_METRICS_PHASE_NONE && rec[i].phase != phase) continue;
        sum += get(&rec[i], c);
        st.n++;
    }
    if (st.n == 0) return st;
    st.mean = sum / st.n;
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        if (phase != SU_METRICS_PHASE_NONE && rec[i].phase != phase) continue;
        double t = get(&rec[i], c) - st.mean;
        ss += t * t;
    }
    st.std = st.n > 1 ? sqrt(ss / st.n) : 0.0;
    return st;
}

static double g_dice(const su_metrics_record *r, int c) { return r->s.cls[c].dice; }
static double g_iou(const su_metrics_record *r, int c) { return r->s.cls[c].iou; }
static double g_hd(const su_metrics_record *r, int c) { return r->s.cls[c].hd95_mm; }
static double g_dice3(const su_metrics_record *r, int c) { (void)c; return r->s.dice_mean3; }
static double g_iou3(const su_metrics_record *r, int c) { (void)c; return r->s.iou_mean3; }
static double g_hd3(const su_metrics_record *r, int c) { (void)c; return r->s.hd95_mean3; }
static double g_dice4(const su_metrics_record *r, int c) { (void)c; return r->s.dice_mean4; }
static double g_iou4(const su_metrics_record *r, int c) { (void)c; return r->s.iou_mean4; }
static double g_hd4(const su_metrics_record *r, int c) { (void)c; return r->s.hd95_mean4; }

void su_metrics_summarize(su_metrics_summary *out, const su_metrics_record *rec, size_t n, int phase) {
    memset(out, 0, sizeof *out);
    for (int c = 0; c < SU_NCLASS; c++) {
        out->dice[c] = stat_of(rec, n, phase, g_dice, c);
        out->iou[c] = stat_of(rec, n, phase, g_iou, c);
        out->hd95[c] = stat_of(rec, n, phase, g_hd, c);
    }
    out->dice_mean3 = stat_of(rec, n, phase, g_dice3, 0);
    out->iou_mean3 = stat_of(rec, n, phase, g_iou3, 0);
    out->hd95_mean3 = stat_of(rec, n, phase, g_hd3, 0);
    out->dice_mean4 = stat_of(rec, n, phase, g_dice4, 0);
    out->iou_mean4 = stat_of(rec, n, phase, g_iou4, 0);
    out->hd95_mean4 = stat_of(rec, n, phase, g_hd4, 0);
    out->n = out->dice_mean3.n;
    /* pooled: a volume's intersection follows from its Dice, 2I / (|G| + |P|) */
    for (int c = 0; c < SU_NCLASS; c++) {
        double inter = 0, uni = 0;
        for (size_t i = 0; i < n; i++) {
            if (phase != SU_METRICS_PHASE_NONE && rec[i].phase != phase) continue;
            const su_class_scores *k = &rec[i].s.cls[c];
            double sum = k->vol_gt_ml + k->vol_pred_ml, in = k->dice * sum / 2;
            inter += in, uni += sum - in;
        }
        out->iou_pooled[c] = uni > 0 ? inter / uni : 1.0;
    }
    out->iou_pooled_mean3 = (out->iou_pooled[SU_RV] + out->iou_pooled[SU_MYO] + out->iou_pooled[SU_LV]) / 3;
}

double su_ejection_fraction(double edv_ml, double esv_ml) {
    if (!(edv_ml > 0)) return NAN;
    return (edv_ml - esv_ml) / edv_ml * 100.0;
}

int su_metrics_ejection(su_ef_result **out, size_t *n_out, const su_metrics_record *rec, size_t n, su_error *err) {
    *out = NULL;
    *n_out = 0;
    if (n == 0) return 0;
    /* ed[k], es[k]: record index of patient k's ED / ES, or n when missing */
    size_t *ed = malloc(sizeof(size_t) * n), *es = malloc(sizeof(size_t) * n), *first = malloc(sizeof(size_t) * n);
    if (!ed || !es || !first) {
        free(ed);
        free(es);
        free(first);
        return su_fail(err, "metrics: out of memory for %zu records", n);
    }
    size_t np = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (rec[i].phase != SU_METRICS_PHASE_ED && rec[i].phase != SU_METRICS_PHASE_ES) continue;
        size_t k = 0;
        while (k < np && strcmp(rec[first[k]].patient, rec[i].patient) != 0) k++;
        if (k == np) {
            first[np] = i;
            ed[np] = es[np] = n;
            np++;
        }
        size_t *slot = rec[i].phase == SU_METRICS_PHASE_ED ? &ed[k] : &es[k];
        if (*slot != n)
            rc = su_fail(err, "%s: two %s records", rec[i].patient, phase_name(rec[i].phase));
        *slot = i;
    }
    su_ef_result *res = NULL;
    size_t m = 0;
    if (rc == 0) {
        for (size_t k = 0; k < np; k++) m += ed[k] < n && es[k] < n;
        if (m) {
            res = calloc(m, sizeof *res);
            if (!res) rc = su_fail(err, "metrics: out of memory for %zu patients", m);
        }
    }
    if (rc == 0 && m) {
        size_t j = 0;
        for (size_t k = 0; k < np; k++) {
            if (ed[k] >= n || es[k] >= n) continue;
            const su_volume_scores *a = &rec[ed[k]].s, *b = &rec[es[k]].s;
            su_ef_result *r = &res[j++];
            memcpy(r->patient, rec[ed[k]].patient, sizeof r->patient);
            r->lv_edv_gt = a->cls[SU_LV].vol_gt_ml;
            r->lv_esv_gt = b->cls[SU_LV].vol_gt_ml;
            r->lv_edv_pred = a->cls[SU_LV].vol_pred_ml;
            r->lv_esv_pred = b->cls[SU_LV].vol_pred_ml;
            r->rv_edv_gt = a->cls[SU_RV].vol_gt_ml;
            r->rv_esv_gt = b->cls[SU_RV].vol_gt_ml;
            r->rv_edv_pred = a->cls[SU_RV].vol_pred_ml;
            r->rv_esv_pred = b->cls[SU_RV].vol_pred_ml;
            r->lv_ef_gt = su_ejection_fraction(r->lv_edv_gt, r->lv_esv_gt);
            r->lv_ef_pred = su_ejection_fraction(r->lv_edv_pred, r->lv_esv_pred);
            r->lv_ef_diff = r->lv_ef_pred - r->lv_ef_gt;
            r->rv_ef_gt = su_ejection_fraction(r->rv_edv_gt, r->rv_esv_gt);
            r->rv_ef_pred = su_ejection_fraction(r->rv_edv_pred, r->rv_esv_pred);
            r->rv_ef_diff = r->rv_ef_pred - r->rv_ef_gt;
        }
        *out = res;
        *n_out = m;
    }
    free(ed);
    free(es);
    free(first);
    return rc;
}

static su_stat stat_finite(const su_ef_result *ef, size_t n, size_t offset, int absolute) {
    su_stat st = {NAN, NAN, 0};
    double sum = 0;
    for (int pass = 0; pass < 2; pass++) {
        double ss = 0;
        for (size_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, (const char *)&ef[i] + offset, sizeof v);
            if (!isfinite(v)) continue;
            if (absolute) v = fabs(v);
            if (pass == 0) {
                sum += v;
                st.n++;
            } else {
                ss += (v - st.mean) * (v - st.mean);
            }
        }
        if (st.n == 0) return st;
        if (pass == 0) st.mean = sum / st.n;
        else st.std = st.n > 1 ? sqrt(ss / st.n) : 0.0;
    }
    return st;
}

void su_metrics_ef_summarize(su_ef_summary *out, const su_ef_result *ef, size_t n) {
    out->lv_ef_gt = stat_finite(ef, n, offsetof(su_ef_result, lv_ef_gt), 0);
    out->lv_ef_pred = stat_finite(ef, n, offsetof(su_ef_result, lv_ef_pred), 0);
    out->lv_ef_diff = stat_finite(ef, n, offsetof(su_ef_result, lv_ef_diff), 0);
    out->lv_ef_absdiff = stat_finite(ef, n, offsetof(su_ef_result, lv_ef_diff), 1);
    out->rv_ef_gt = stat_finite(ef, n, offsetof(su_ef_result, rv_ef_gt), 0);
    out->rv_ef_pred = stat_finite(ef, n, offsetof(su_ef_result, rv_ef_pred), 0);
    out->rv_ef_diff = stat_finite(ef, n, offsetof(su_ef_result, rv_ef_diff), 0);
    out->rv_ef_absdiff = stat_finite(ef, n, offsetof(su_ef_result, rv_ef_diff), 1);
}

/* ---- CSV ----------------------------------------------------------------------------------------- */

int su_metrics_csv_fwrite(FILE *f, const su_metrics_record *rec, size_t n, su_error *err) {
    fputs("patient,phase", f);
    for (int c = 0; c < SU_NCLASS; c++) {
        const char *x = su_metrics_class_name(c);
        fprintf(f, ",dice_%s,iou_%s,hd95_%s,voxels_gt_%s,voxels_pred_%s,vol_gt_ml_%s,vol_pred_ml_%s,status_%s", x, x,
                x, x, x, x, x, x);
    }
    fputs(",dice_mean3,iou_mean3,hd95_mean3,dice_mean4,iou_mean4,hd95_mean4\n", f);
    for (size_t i = 0; i < n; i++) {
        const su_volume_scores *s = &rec[i].s;
        fprintf(f, "%s,%s", rec[i].patient, phase_name(rec[i].phase));
        for (int c = 0; c < SU_NCLASS; c++) {
            const su_class_scores *cs = &s->cls[c];
            fprintf(f, ",%.6f,%.6f,%.4f,%lld,%lld,%.4f,%.4f,%s", cs->dice, cs->iou, cs->hd95_mm, (long long)cs->n_gt,
                    (long long)cs->n_pred, cs->vol_gt_ml, cs->vol_pred_ml, su_presence_name(cs->presence));
        }
        fprintf(f, ",%.6f,%.6f,%.4f,%.6f,%.6f,%.4f\n", s->dice_mean3, s->iou_mean3, s->hd95_mean3, s->dice_mean4,
                s->iou_mean4, s->hd95_mean4);
    }
    return ferror(f) ? su_fail(err, "metrics: write error") : 0;
}

static void summary_rows(FILE *f, const char *scope, const su_metrics_summary *s) {
    const char *metric[3] = {"dice", "iou", "hd95_mm"};
    for (int m = 0; m < 3; m++) {
        const su_stat *per = m == 0 ? s->dice : m == 1 ? s->iou : s->hd95;
        const su_stat *m3 = m == 0 ? &s->dice_mean3 : m == 1 ? &s->iou_mean3 : &s->hd95_mean3;
        const su_stat *m4 = m == 0 ? &s->dice_mean4 : m == 1 ? &s->iou_mean4 : &s->hd95_mean4;
        for (int c = 0; c < SU_NCLASS + 2; c++) {
            const su_stat *st = c < SU_NCLASS ? &per[c] : c == SU_NCLASS ? m3 : m4;
            const char *cls = c < SU_NCLASS ? su_metrics_class_name(c) : c == SU_NCLASS ? "mean3" : "mean4";
            fprintf(f, "%s,%s,%s,%.6f,%.6f,%d\n", scope, metric[m], cls, st->mean, st->std, st->n);
        }
    }
    /* pooled IoU: one figure over the volumes, so no spread */
    for (int c = 0; c <= SU_NCLASS; c++)
        fprintf(f, "%s,iou_pooled,%s,%.6f,,%d\n", scope, c < SU_NCLASS ? su_metrics_class_name(c) : "mean3",
                c < SU_NCLASS ? s->iou_pooled[c] : s->iou_pooled_mean3, s->n);
}

int su_metrics_summary_csv_fwrite(FILE *f, const su_metrics_record *rec, size_t n, su_error *err) {
    fputs("scope,metric,class,mean,std,n\n", f);
    su_metrics_summary s;
    su_metrics_summarize(&s, rec, n, SU_METRICS_PHASE_NONE);
    summary_rows(f, "all", &s);
    const int phases[2] = {SU_METRICS_PHASE_ED, SU_METRICS_PHASE_ES};
    for (int k = 0; k < 2; k++) {
        su_metrics_summarize(&s, rec, n, phases[k]);
        if (s.n > 0) summary_rows(f, phase_name(phases[k]), &s);
    }
    return ferror(f) ? su_fail(err, "metrics: write error") : 0;
}

int su_metrics_ef_csv_fwrite(FILE *f, const su_ef_result *ef, size_t n, su_error *err) {
    fputs("patient,lv_edv_gt_ml,lv_esv_gt_ml,lv_edv_pred_ml,lv_esv_pred_ml,rv_edv_gt_ml,rv_esv_gt_ml,rv_edv_pred_ml,"
          "rv_esv_pred_ml,lv_ef_gt,lv_ef_pred,lv_ef_diff,rv_ef_gt,rv_ef_pred,rv_ef_diff\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const su_ef_result *r = &ef[i];
        fprintf(f, "%s,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n", r->patient,
                r->lv_edv_gt, r->lv_esv_gt, r->lv_edv_pred, r->lv_esv_pred, r->rv_edv_gt, r->rv_esv_gt,
                r->rv_edv_pred, r->rv_esv_pred, r->lv_ef_gt, r->lv_ef_pred, r->lv_ef_diff, r->rv_ef_gt,
                r->rv_ef_pred, r->rv_ef_diff);
    }
    return ferror(f) ? su_fail(err, "metrics: write error") : 0;
}

/* The three CSV writers go through su_write_atomic (atomic.h). */
typedef struct csv_job {
    int (*fn)(FILE *f, const void *data, size_t n, su_error *err);
    const void *data;
    size_t n;
} csv_job;

static int csv_stream(FILE *f, const void *ctx, su_error *err) {
    const csv_job *j = ctx;
    return j->fn(f, j->data, j->n, err);
}

static int atomic_csv(const char *path, int (*fn)(FILE *, const void *, size_t, su_error *), const void *data,
                      size_t n, su_error *err) {
    csv_job j = {fn, data, n};
    return su_write_atomic(path, csv_stream, &j, err);
}

static int rec_fn(FILE *f, const void *d, size_t n, su_error *err) { return su_metrics_csv_fwrite(f, d, n, err); }
static int sum_fn(FILE *f, const void *d, size_t n, su_error *err) {
    return su_metrics_summary_csv_fwrite(f, d, n, err);
}
static int ef_fn(FILE *f, const void *d, size_t n, su_error *err) { return su_metrics_ef_csv_fwrite(f, d, n, err); }

int su_metrics_csv_write(const char *path, const su_metrics_record *rec, size_t n, su_error *err) {
    return atomic_csv(path, rec_fn, rec, n, err);
}

int su_metrics_summary_csv_write(const char *path, const su_metrics_record *rec, size_t n, su_error *err) {
    return atomic_csv(path, sum_fn, rec, n, err);
}

int su_metrics_ef_csv_write(const char *path, const su_ef_result *ef, size_t n, su_error *err) {
    return atomic_csv(path, ef_fn, ef, n, err);
}
