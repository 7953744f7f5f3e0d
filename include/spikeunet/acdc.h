/* The ACDC data set on disk: scan a folder into patients (Info.cfg, ED/ES image and _gt paths),
 * load one phase as an image + label map, and split patients (or volumes) into train/val.
 *
 * A folder may be the ACDC root (training/ and/or testing/), one of those (patientNNN/ folders),
 * or one patient folder (holding Info.cfg). Patients come sorted by number. A "volume index" is
 * patient*2 + phase (SU_ED 0, SU_ES 1). Labels: 0 background, 1 RV cavity, 2 myocardium, 3 LV cavity. */
#ifndef SPIKEUNET_ACDC_H
#define SPIKEUNET_ACDC_H

#include <stdint.h>

#include "spikeunet/error.h"
#include "spikeunet/nifti.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SU_ED = 0, SU_ES = 1 };
#define SU_N_LABELS 4
#define SU_ACDC_PATH_MAX 1024

typedef struct su_patient {
    char id[64];          /* folder name, e.g. "patient001" */
    int number;           /* 1 for patient001 (the digits of the name; -1 without digits) */
    char group[16];       /* Info.cfg Group: DCM, HCM, MINF, NOR, RV */
    int ed_frame, es_frame, nb_frame; /* nb_frame 0 when Info.cfg has none */
    float height_cm, weight_kg;       /* 0 when Info.cfg has none */
    char image_path[2][SU_ACDC_PATH_MAX]; /* [SU_ED], [SU_ES]: <dir>/<id>_frameXX.nii.gz (or .nii) */
    char label_path[2][SU_ACDC_PATH_MAX]; /* the _gt files, "" when absent */
    int has_gt;           /* both _gt files present (test patients have none) */
} su_patient;

typedef struct su_dataset {
    su_patient *patients;
    int n_patients;
} su_dataset;

/* Scans dir (see above). Every Info.cfg must parse and every ED/ES image must exist; a patient with
 * only one of its two _gt files is an error. */
int su_acdc_scan(su_dataset *ds, const char *dir, su_error *err);
void su_acdc_free(su_dataset *ds);

/* Loads one phase: the image, and (when labels != NULL) its label map, which must exist, have the
 * image's shape and hold only 0..3. On failure nothing stays allocated. */
int su_acdc_load(su_volume *img, uint8_t **labels, const su_patient *p, int phase, su_error *err);

/* Parses an Info.cfg (CRLF tolerated) into p's id-independent fields. */
int su_acdc_read_info(su_patient *p, const char *info_path, su_error *err);

/* "ED" / "ES". */
const char *su_phase_name(int phase);

/* Index of the patient with this id, or -1. */
int su_acdc_find(const su_dataset *ds, const char *id);

/* ---- splits ------------------------------------------------------------------------------ */

#define SU_SPLIT_VAL_FRACTION 0.2
#define SU_SPLIT_SEED 42u

typedef enum { SU_SPLIT_BY_PATIENT = 0, SU_SPLIT_BY_VOLUME = 1 } su_split_method;

typedef struct su_split {
    int *train, *val;        /* volume indices (patient*2 + phase), ascending */
    int n_train, n_val;
    su_split_method method;
    uint64_t seed;
    double val_fraction;
} su_split;

/* By patient, stratified by group: each group sends round-to-total(val_fraction * its size)
 * patients (both their volumes) to val; no patient is in both sets. Deterministic for a seed. */
int su_split_by_patient(su_split *s, const su_dataset *ds, double val_fraction, uint64_t seed, su_error *err);

/* The study's split: a random val_fraction of all volumes. It LEAKS: a patient's ED can land in
 * train while its ES is in val (same heart, same scan session), which flatters validation scores.
 * Kept only to reproduce the study; prefer su_split_by_patient. */
int su_split_by_volume(su_split *s, const su_dataset *ds, double val_fraction, uint64_t seed, su_error *err);

void su_split_free(su_split *s);

/* JSON for saving with a run: {"method":"patient","seed":"42","val_fraction":0.2,
 * "train":["patient001:ED",...],"val":[...]}. *json is malloc'd. */
int su_split_format(char **json, const su_split *s, const su_dataset *ds, su_error *err);

/* Parses su_split_format's JSON back against ds (a resumed run reuses exactly that split).
 * Unknown names, duplicates or a volume in both sets are errors. */
int su_split_parse(su_split *s, const su_dataset *ds, const char *json, su_error *err);

/* As su_split_parse, but volumes whose patient is not in ds are skipped and counted (a folder holding
 * only some of a run's patients, e.g. scoring the held-out ones present). Other faults are errors. */
int su_split_parse_present(su_split *s, int *missing_train, int *missing_val, const su_dataset *ds, const char *json,
                           su_error *err);

#ifdef __cplusplus
}
#endif
#endif
