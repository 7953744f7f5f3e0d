/* Segmentation metrics: Dice, IoU, HD95 (mm), volumes (ml), ejection fraction.
 *
 * Labels: 0 background, 1 RV, 2 myocardium (MYO), 3 LV. A volume is a uint8 array of nx*ny*nz labels,
 * x fastest, with voxel spacing dx, dy, dz in mm (ACDC is anisotropic, e.g. 1.56 x 1.56 x 10).
 *
 * Conventions for empty classes (every value is finite; nothing is ever NaN-skipped):
 *   - class absent from both gt and prediction: Dice 1, IoU 1, HD95 0, presence SU_EMPTY_BOTH;
 *   - class present in only one of them: Dice 0, IoU 0, HD95 = the volume's diagonal in mm,
 *     sqrt((nx*dx)^2 + (ny*dy)^2 + (nz*dz)^2), an upper bound of every possible distance
 *     (presence SU_EMPTY_PRED or SU_EMPTY_GT).
 *   Both cases are counted in every mean and summary like any other value.
 * HD95 follows medpy's hd95: surface voxels of each mask (mask minus its erosion with the 6-neighbourhood,
 * voxels outside the volume counting as background), the distance in mm (real anisotropic spacing) from
 * each surface voxel of one mask to the nearest surface voxel of the other, both directions pooled, then
 * the 95th percentile with linear interpolation (numpy's default). Distances come from an exact separable
 * Euclidean distance transform (Felzenszwalb-Huttenlocher), not brute force. */
#ifndef SPIKEUNET_METRICS_H
#define SPIKEUNET_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "spikeunet/error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SU_BG = 0, SU_RV = 1, SU_MYO = 2, SU_LV = 3, SU_NCLASS = 4 };

/* "BG", "RV", "MYO", "LV"; "?" for anything else. */
const char *su_metrics_class_name(int c);

typedef enum su_presence {
    SU_PRESENT = 0,    /* in both gt and prediction: scores computed */
    SU_EMPTY_BOTH = 1, /* in neither: Dice 1, IoU 1, HD95 0 */
    SU_EMPTY_PRED = 2, /* in gt only: Dice 0, IoU 0, HD95 = diagonal */
    SU_EMPTY_GT = 3    /* in prediction only: Dice 0, IoU 0, HD95 = diagonal */
} su_presence;

/* "ok", "both_empty", "pred_empty", "gt_empty" */
const char *su_presence_name(su_presence p);

typedef struct su_class_scores {
    double dice, iou, hd95_mm;
    int64_t n_gt, n_pred;        /* voxel counts */
    double vol_gt_ml, vol_pred_ml; /* voxels * dx*dy*dz / 1000 */
    su_presence presence;
} su_class_scores;

typedef struct su_volume_scores {
    su_class_scores cls[SU_NCLASS];
    /* means over the three structures RV, MYO, LV ("mean3") and over all four classes ("mean4") */
    double dice_mean3, iou_mean3, hd95_mean3;
    double dice_mean4, iou_mean4, hd95_mean4;
    double diag_mm; /* the worst-case HD95 used for one-sided empty classes */
} su_volume_scores;

/* Scores one prediction against its ground truth on the original voxel grid. Fails on sizes <= 0,
 * spacing not finite and > 0, or a label outside 0..3 (message "prediction: label 7 at voxel (x,y,z) ..."
 * or "ground truth: ..."; the caller adds the file name with su_fail_context). */
int su_metrics_volume(su_volume_scores *out, const uint8_t *pred, const uint8_t *gt, int nx, int ny, int nz,
                      float dx, float dy, float dz, su_error *err);

/* Exact Euclidean distance transform with anisotropic spacing: dist_mm[i] = distance in mm from voxel i
 * to the nearest voxel with seed[i] != 0 (0 at seeds). With no seed at all every value is +INFINITY. */
int su_metrics_edt(double *dist_mm, const uint8_t *seed, int nx, int ny, int nz, float dx, float dy, float dz,
                   su_error *err);

/* The 95th percentile with numpy's linear interpolation; sorts v in place. n must be > 0. */
double su_metrics_percentile(double *v, size_t n, double q);

/* ---- cheap per-batch scores for the training loop (network grid, no HD95) ---------------------- */

typedef struct su_confusion {
    int64_t m[SU_NCLASS][SU_NCLASS]; /* m[gt][pred] voxel counts */
} su_confusion;

void su_confusion_reset(su_confusion *c);
/* Adds n voxels. Fails on a label outside 0..3 (nothing is added then). */
int su_confusion_add(su_confusion *c, const uint8_t *pred, const uint8_t *gt, size_t n, su_error *err);
/* Dice and IoU per class from the counts (same empty convention: absent from both -> 1), and the means
 * over RV/MYO/LV (mean3) and all four classes (mean4). Any output pointer may be NULL. */
void su_confusion_scores(const su_confusion *c, double dice[SU_NCLASS], double iou[SU_NCLASS], double *dice_mean3,
                         double *iou_mean3, double *dice_mean4, double *iou_mean4);

/* ---- many volumes -------------------------------------------------------------------------------- */

enum { SU_METRICS_PHASE_NONE = 0, SU_METRICS_PHASE_ED = 1, SU_METRICS_PHASE_ES = 2 };

typedef struct su_metrics_record {
    char patient[64]; /* e.g. "patient001" */
    int phase;        /* SU_METRICS_PHASE_* */
    su_volume_scores s;
} su_metrics_record;

typedef struct su_metrics_set {
    su_metrics_record *rec;
    size_t n, cap;
} su_metrics_set;

void su_metrics_set_init(su_metrics_set *set);
void su_metrics_set_free(su_metrics_set *set);
/* Copies s and the patient id (fails if longer than 63 characters or the phase is unknown). */
int su_metrics_set_add(su_metrics_set *set, const char *patient, int phase, const su_volume_scores *s,
                       su_error *err);

typedef struct su_stat {
    double mean, std; /* population std (numpy's default, ddof 0); 0 when n < 2; NaN when n == 0 */
    int n;
} su_stat;

typedef struct su_metrics_summary {
    int n; /* volumes summarised */
    su_stat dice[SU_NCLASS], iou[SU_NCLASS], hd95[SU_NCLASS];
    su_stat dice_mean3, iou_mean3, hd95_mean3;
    su_stat dice_mean4, iou_mean4, hd95_mean4;
    /* IoU of the volumes pooled into one confusion count (intersection and union summed in ml over the
     * volumes, then divided): large volumes weigh more, so it runs above the per-volume mean. The training
     * log's network-grid figure is of this kind. Absent from every volume: 1. */
    double iou_pooled[SU_NCLASS], iou_pooled_mean3;
} su_metrics_summary;

/* Mean and std over the records with the given phase (SU_METRICS_PHASE_NONE = all records). */
void su_metrics_summarize(su_metrics_summary *out, const su_metrics_record *rec, size_t n, int phase);

/* (edv - esv) / edv * 100; NaN when edv <= 0 (undefined). */
double su_ejection_fraction(double edv_ml, double esv_ml);

typedef struct su_ef_result {
    char patient[64];
    /* volumes in ml, from the ED and ES records of the patient */
    double lv_edv_gt, lv_esv_gt, lv_edv_pred, lv_esv_pred;
    double rv_edv_gt, rv_esv_gt, rv_edv_pred, rv_esv_pred;
    /* EF in percent; diff = pred - gt; NaN where EDV is 0 */
    double lv_ef_gt, lv_ef_pred, lv_ef_diff;
    double rv_ef_gt, rv_ef_pred, rv_ef_diff;
} su_ef_result;

/* One result per patient that has both an ED and an ES record, in order of first appearance; patients
 * with only one phase are left out. Fails on a duplicate (patient, phase). *out is malloc'ed (free it);
 * *n_out may be 0 (then *out is NULL). */
int su_metrics_ejection(su_ef_result **out, size_t *n_out, const su_metrics_record *rec, size_t n, su_error *err);

typedef struct su_ef_summary {
    /* over the patients where the value is defined (finite); absdiff = |pred - gt| */
    su_stat lv_ef_gt, lv_ef_pred, lv_ef_diff, lv_ef_absdiff;
    su_stat rv_ef_gt, rv_ef_pred, rv_ef_diff, rv_ef_absdiff;
} su_ef_summary;

void su_metrics_ef_summarize(su_ef_summary *out, const su_ef_result *ef, size_t n);

/* ---- CSV ----------------------------------------------------------------------------------------- */
/* Per-volume table: patient,phase, then per class X in BG,RV,MYO,LV: dice_X,iou_X,hd95_X,voxels_gt_X,
 * voxels_pred_X,vol_gt_ml_X,vol_pred_ml_X,status_X; then dice_mean3,iou_mean3,hd95_mean3,dice_mean4,
 * iou_mean4,hd95_mean4. The _fwrite variants write to an open stream (e.g. stdout); the others write a
 * file atomically (temporary beside it, then rename). */
int su_metrics_csv_fwrite(FILE *f, const su_metrics_record *rec, size_t n, su_error *err);
int su_metrics_csv_write(const char *path, const su_metrics_record *rec, size_t n, su_error *err);
/* Summary table, long format: scope,metric,class,mean,std,n with scope all/ED/ES (ED/ES only where present),
 * metric dice/iou/hd95_mm and class BG/RV/MYO/LV/mean3/mean4. */
int su_metrics_summary_csv_fwrite(FILE *f, const su_metrics_record *rec, size_t n, su_error *err);
int su_metrics_summary_csv_write(const char *path, const su_metrics_record *rec, size_t n, su_error *err);
/* Ejection fraction per patient: patient, the eight volumes and the six EF columns of su_ef_result. */
int su_metrics_ef_csv_fwrite(FILE *f, const su_ef_result *ef, size_t n, su_error *err);
int su_metrics_ef_csv_write(const char *path, const su_ef_result *ef, size_t n, su_error *err);

#ifdef __cplusplus
}
#endif
#endif
