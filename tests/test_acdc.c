/* ACDC folders: the bundled sample, the acdc_* cases of ../shared/cases, and generated bad folders. */
#include "check.h"
#include "tmpdir.h"

#include "spikeunet/acdc.h"

static char tmp[512];

/* data/acdc-sample/index.csv, by hand */
typedef struct want_patient {
    const char *id;
    const char *group;
    int ed, es, nb;
    float height, weight;
    int nx, ny, nz, dtype;
} want_patient;

static const want_patient sample[] = {
    {"patient001", "DCM", 1, 12, 30, 184.0f, 95.0f, 216, 256, 10, SU_DT_INT16},
    {"patient022", "HCM", 1, 11, 28, 165.0f, 42.0f, 200, 256, 7, SU_DT_INT16},
    {"patient045", "MINF", 1, 13, 35, 174.0f, 68.0f, 208, 256, 8, SU_DT_FLOAT32},
    {"patient071", "NOR", 1, 9, 30, 169.0f, 61.0f, 192, 256, 10, SU_DT_INT16},
    {"patient090", "RV", 4, 11, 12, 150.0f, 66.0f, 154, 224, 7, SU_DT_UINT8},
    {"patient093", "RV", 1, 14, 30, 165.0f, 65.0f, 180, 224, 10, SU_DT_FLOAT32},
};

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static void test_sample(void) {
    su_error err = {{0}};
    su_dataset ds;
    CHECK_OK(su_acdc_scan(&ds, "data/acdc-sample", &err), &err);
    CHECK(ds.n_patients == 6, "6 patients, got %d", ds.n_patients);
    for (int i = 0; i < ds.n_patients && i < 6; i++) {
        const su_patient *p = &ds.patients[i];
        const want_patient *w = &sample[i];
        CHECK(!strcmp(p->id, w->id), "patient %d is %s", i, p->id);
        CHECK(p->number == atoi(w->id + 7), "%s: number %d", w->id, p->number);
        CHECK(!strcmp(p->group, w->group), "%s: group %s", w->id, p->group);
        CHECK(p->ed_frame == w->ed && p->es_frame == w->es && p->nb_frame == w->nb, "%s: frames %d %d %d", w->id,
              p->ed_frame, p->es_frame, p->nb_frame);
        CHECK(p->height_cm == w->height && p->weight_kg == w->weight, "%s: height/weight", w->id);
        CHECK(p->has_gt, "%s: has_gt", w->id);
        char name[64];
        snprintf(name, sizeof name, "/%s_frame%02d.nii.gz", w->id, w->ed);
        CHECK(ends_with(p->image_path[SU_ED], name), "%s: ED path %s", w->id, p->image_path[SU_ED]);
        snprintf(name, sizeof name, "/%s_frame%02d_gt.nii.gz", w->id, w->es);
        CHECK(ends_with(p->label_path[SU_ES], name), "%s: ES gt path %s", w->id, p->label_path[SU_ES]);
    }
    CHECK(su_acdc_find(&ds, "patient090") == 4 && su_acdc_find(&ds, "patient002") == -1, "find");
    /* one volume pair through su_acdc_load: patient090 ES (uint8 image, frame 11) */
    su_volume img;
    uint8_t *lab = NULL;
    if (ds.n_patients == 6) {
        CHECK_OK(su_acdc_load(&img, &lab, &ds.patients[4], SU_ES, &err), &err);
        if (lab) {
            CHECK(img.nx == 154 && img.ny == 224 && img.nz == 7 && img.datatype == SU_DT_UINT8, "patient090 ES shape");
            long cnt[4] = {0};
            for (size_t i = 0; i < su_volume_voxels(&img); i++) cnt[lab[i]]++;
            CHECK(cnt[0] == 234055 && cnt[1] == 4085 && cnt[2] == 1991 && cnt[3] == 1341, "patient090 ES counts");
            free(lab);
            su_volume_free(&img);
        }
        CHECK_OK(su_acdc_load(&img, NULL, &ds.patients[0], SU_ED, &err), &err);
        CHECK(img.data && img.nx == 216 && img.datatype == SU_DT_INT16, "image only");
        su_volume_free(&img);
        CHECK_FAILS_WITH(su_acdc_load(&img, &lab, &ds.patients[0], 2, &err), &err, "bad phase 2");
    }
    su_acdc_free(&ds);
    CHECK(ds.patients == NULL && ds.n_patients == 0, "freed");

    /* one patient folder, with and without a trailing slash */
    CHECK_OK(su_acdc_scan(&ds, "data/acdc-sample/patient090/", &err), &err);
    CHECK(ds.n_patients == 1 && !strcmp(ds.patients[0].id, "patient090") && ds.patients[0].ed_frame == 4,
          "single patient folder");
    su_acdc_free(&ds);

    /* an ACDC root: training/ (here a link to the sample) and testing/ */
    char root[600], link[700], abs_sample[4096];
    snprintf(root, sizeof root, "%s/root", tmp);
    mkdir(root, 0755);
    snprintf(link, sizeof link, "%s/training", root);
    CHECK(realpath("data/acdc-sample", abs_sample) != NULL, "realpath");
    CHECK(symlink(abs_sample, link) == 0, "symlink");
    snprintf(link, sizeof link, "%s/testing", root);
    mkdir(link, 0755);
    snprintf(link, sizeof link, "%s/testing/patient101", root);
    mkdir(link, 0755);
    char f[800];
    snprintf(f, sizeof f, "%s/Info.cfg", link);
    write_text(f, "ED: 1\nES: 14\nGroup: DCM\nHeight: 169.0\nNbFrame: 30\nWeight: 79.0\n");
    /* test images have no _gt: copy two sample images as its frames (a link is enough) */
    snprintf(f, sizeof f, "%s/patient101_frame01.nii.gz", link);
    CHECK(symlink("../../training/patient001/patient001_frame01.nii.gz", f) == 0, "link");
    snprintf(f, sizeof f, "%s/patient101_frame14.nii.gz", link);
    CHECK(symlink("../../training/patient001/patient001_frame12.nii.gz", f) == 0, "link");
    CHECK_OK(su_acdc_scan(&ds, root, &err), &err);
    CHECK(ds.n_patients == 7, "root: 7 patients, got %d", ds.n_patients);
    if (ds.n_patients == 7) {
        const su_patient *p = &ds.patients[6];
        CHECK(!strcmp(p->id, "patient101") && !p->has_gt && p->label_path[0][0] == 0 && p->label_path[1][0] == 0,
              "test patient has no gt");
        CHECK_FAILS_WITH(su_acdc_load(&img, &lab, p, SU_ES, &err), &err, "patient101: no ground truth");
        CHECK_OK(su_acdc_load(&img, NULL, p, SU_ES, &err), &err);
        su_volume_free(&img);
    }
    su_acdc_free(&ds);
}

static void case_dir(char *out, size_t cap, const char *id) {
    snprintf(out, cap, "%s/cases/%s", check_shared_dir(), id);
}

static void test_cases(void) {
    su_error err = {{0}};
    su_dataset ds;
    char dir[600];
    su_volume img;
    uint8_t *lab = NULL;

    case_dir(dir, sizeof dir, "acdc_ok");
    CHECK_OK(su_acdc_scan(&ds, dir, &err), &err);
    CHECK(ds.n_patients == 1, "acdc_ok: one patient");
    if (ds.n_patients == 1) {
        const su_patient *p = &ds.patients[0];
        CHECK(!strcmp(p->id, "patient901") && p->ed_frame == 1 && p->es_frame == 3 && p->has_gt, "acdc_ok: ED 1 ES 3");
        CHECK(ends_with(p->image_path[SU_ED], "patient901_frame01.nii.gz") &&
                  ends_with(p->image_path[SU_ES], "patient901_frame03.nii.gz"),
              "acdc_ok: frame01 = ED, frame03 = ES");
        for (int ph = 0; ph < 2; ph++) {
            CHECK_OK(su_acdc_load(&img, &lab, p, ph, &err), &err);
            CHECK(img.dx == 1.5625f && img.dy == 1.5625f && img.dz == 10.0f, "acdc_ok: spacing");
            CHECK(img.datatype == SU_DT_INT16, "acdc_ok: int16 image");
            free(lab);
            su_volume_free(&img);
        }
    }
    su_acdc_free(&ds);

    case_dir(dir, sizeof dir, "acdc_crlf_infocfg");
    CHECK_OK(su_acdc_scan(&ds, dir, &err), &err);
    if (ds.n_patients == 1) {
        const su_patient *p = &ds.patients[0];
        CHECK(p->ed_frame == 1 && p->es_frame == 3 && !strcmp(p->group, "NOR") && p->height_cm == 170.0f &&
                  p->weight_kg == 70.0f && p->nb_frame == 12,
              "crlf: ED %d ES %d group '%s' height %g", p->ed_frame, p->es_frame, p->group, (double)p->height_cm);
        CHECK(!strchr(p->group, '\r'), "no CR in values");
        for (int ph = 0; ph < 2; ph++) {
            CHECK_OK(su_acdc_load(&img, &lab, p, ph, &err), &err);
            free(lab);
            su_volume_free(&img);
        }
    }
    su_acdc_free(&ds);

    case_dir(dir, sizeof dir, "acdc_ed_frame_4");
    CHECK_OK(su_acdc_scan(&ds, dir, &err), &err);
    if (ds.n_patients == 1) {
        const su_patient *p = &ds.patients[0];
        CHECK(p->ed_frame == 4 && p->es_frame == 11, "ED 4 ES 11");
        CHECK(ends_with(p->image_path[SU_ED], "patient904_frame04.nii.gz") &&
                  ends_with(p->label_path[SU_ED], "patient904_frame04_gt.nii.gz") &&
                  ends_with(p->image_path[SU_ES], "patient904_frame11.nii.gz"),
              "frame04 is ED, frame11 is ES");
        for (int ph = 0; ph < 2; ph++) {
            CHECK_OK(su_acdc_load(&img, &lab, p, ph, &err), &err);
            free(lab);
            su_volume_free(&img);
        }
    }
    su_acdc_free(&ds);

    case_dir(dir, sizeof dir, "acdc_missing_es_file");
    CHECK_FAILS_WITH(su_acdc_scan(&ds, dir, &err), &err, "patient906_frame03.nii.gz");
    CHECK(strncmp(err.msg, "patient906: ES frame file", 25) == 0, "names the patient: %s", err.msg);
    CHECK(ds.patients == NULL && ds.n_patients == 0, "nothing half-loaded");

    case_dir(dir, sizeof dir, "acdc_gt_shape_mismatch");
    CHECK_OK(su_acdc_scan(&ds, dir, &err), &err);
    if (ds.n_patients == 1) {
        lab = (uint8_t *)1;
        CHECK_FAILS_WITH(su_acdc_load(&img, &lab, &ds.patients[0], SU_ED, &err), &err, "shape mismatch");
        CHECK(strstr(err.msg, "patient910_frame01.nii.gz is 16x16x4") &&
                  strstr(err.msg, "patient910_frame01_gt.nii.gz is 16x16x3") && !strncmp(err.msg, "patient910: ", 12),
              "names both files and shapes: %s", err.msg);
        CHECK(lab == NULL && img.data == NULL, "nothing stays allocated");
    }
    su_acdc_free(&ds);

    case_dir(dir, sizeof dir, "acdc_uint8_image");
    CHECK_OK(su_acdc_scan(&ds, dir, &err), &err);
    if (ds.n_patients == 1) {
        CHECK(!strcmp(ds.patients[0].id, "patient914"), "patient914");
        for (int ph = 0; ph < 2; ph++) {
            CHECK_OK(su_acdc_load(&img, &lab, &ds.patients[0], ph, &err), &err);
            CHECK(img.datatype == SU_DT_UINT8, "uint8 image");
            int nonzero = 0;
            for (size_t i = 0; lab && i < su_volume_voxels(&img); i++) nonzero += img.data[i] != 0;
            CHECK(nonzero > 0, "image has content");
            free(lab);
            su_volume_free(&img);
        }
    }
    su_acdc_free(&ds);
}

/* A patient folder under tmp with the given Info.cfg text (NULL: none) and frame files. */
static void make_patient(char *dir, size_t cap, const char *parent, const char *id, const char *info,
                         const int *frames, int n_frames, int with_gt) {
    snprintf(dir, cap, "%s/%s", parent, id);
    mkdir(parent, 0755);
    mkdir(dir, 0755);
    char f[900];
    if (info) {
        snprintf(f, sizeof f, "%s/Info.cfg", dir);
        write_text(f, info);
    }
    su_volume v;
    su_error err;
    su_volume_create(&v, 4, 3, 2, 1.5f, 1.5f, 10.0f, &err);
    uint8_t lab[24] = {0, 1, 2, 3};
    for (int i = 0; i < n_frames; i++) {
        snprintf(f, sizeof f, "%s/%s_frame%02d.nii.gz", dir, id, frames[i]);
        su_nifti_write(f, v.data, SU_DT_INT16, &v, &err);
        if (with_gt) {
            snprintf(f, sizeof f, "%s/%s_frame%02d_gt.nii.gz", dir, id, frames[i]);
            su_nifti_write_labels(f, lab, &v, &err);
        }
    }
    su_volume_free(&v);
}

static void test_generated(void) {
    su_error err = {{0}};
    su_dataset ds;
    char dir[700], parent[600];
    const int f1_3[2] = {1, 3};

    /* a good generated patient loads, including a .nii (uncompressed) twin */
    snprintf(parent, sizeof parent, "%s/good", tmp);
    make_patient(dir, sizeof dir, parent, "patient950", "ED: 1\nES: 3\nGroup: NOR\n", f1_3, 2, 1);
    {
        char gz[900], plain[900];
        snprintf(gz, sizeof gz, "%s/patient950_frame03.nii.gz", dir);
        snprintf(plain, sizeof plain, "%s/patient950_frame03.nii", dir);
        su_volume v;
        CHECK_OK(su_nifti_read(&v, gz, &err), &err);
        CHECK_OK(su_nifti_write(plain, v.data, SU_DT_FLOAT32, &v, &err), &err);
        su_volume_free(&v);
        unlink(gz);
    }
    CHECK_OK(su_acdc_scan(&ds, parent, &err), &err);
    CHECK(ds.n_patients == 1 && ds.patients[0].nb_frame == 0 && ds.patients[0].height_cm == 0.0f, "optional keys");
    if (ds.n_patients == 1) {
        CHECK(ends_with(ds.patients[0].image_path[SU_ES], "patient950_frame03.nii"), "the .nii twin");
        su_volume img;
        uint8_t *lab;
        CHECK_OK(su_acdc_load(&img, &lab, &ds.patients[0], SU_ES, &err), &err);
        CHECK(img.datatype == SU_DT_FLOAT32 && lab && lab[3] == 3, "loads the .nii twin");
        free(lab);
        su_volume_free(&img);
    }
    su_acdc_free(&ds);

    snprintf(parent, sizeof parent, "%s/noinfo", tmp);
    make_patient(dir, sizeof dir, parent, "patient951", NULL, f1_3, 2, 1);
    CHECK_FAILS_WITH(su_acdc_scan(&ds, parent, &err), &err, "patient951: missing Info.cfg");
    CHECK(strstr(err.msg, "patient951/Info.cfg") != NULL, "names the file: %s", err.msg);

    static const struct {
        const char *info, *needle;
    } bad[] = {
        {"ED: one\nES: 3\nGroup: NOR\n", "line 1: malformed value 'one' for ED"},
        {"ES: 3\nGroup: NOR\n", "malformed Info.cfg: no ED line"},
        {"ED: 1\nES: 3\n", "no Group line"},
        {"ED: 1\nES: 3\nGroup: NOR\nthis is not a key\n", "line 4: malformed"},
        {"ED: 1\nES: 3\nGroup: NOR\nHeight: tall\n", "malformed value 'tall' for Height"},
        {"ED: 0\nES: 3\nGroup: NOR\n", "frame numbers must be >= 1"},
        {"ED: 1\nES: 40\nGroup: NOR\nNbFrame: 30\n", "beyond NbFrame 30"},
        {"", "no ED line"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        snprintf(parent, sizeof parent, "%s/bad%zu", tmp, k);
        make_patient(dir, sizeof dir, parent, "patient952", bad[k].info, f1_3, 2, 1);
        CHECK_FAILS_WITH(su_acdc_scan(&ds, parent, &err), &err, bad[k].needle);
        CHECK(strstr(err.msg, "patient952/Info.cfg") != NULL, "names Info.cfg: %s", err.msg);
    }

    /* Info.cfg names an ED frame that does not exist (files are frame01/03, ED says 2) */
    snprintf(parent, sizeof parent, "%s/noed", tmp);
    make_patient(dir, sizeof dir, parent, "patient953", "ED: 2\nES: 3\nGroup: NOR\n", f1_3, 2, 1);
    CHECK_FAILS_WITH(su_acdc_scan(&ds, parent, &err), &err, "patient953: ED frame file");
    CHECK(strstr(err.msg, "patient953_frame02.nii.gz") != NULL, "names the file: %s", err.msg);

    /* only one of the two _gt files */
    snprintf(parent, sizeof parent, "%s/onegt", tmp);
    make_patient(dir, sizeof dir, parent, "patient954", "ED: 1\nES: 3\nGroup: NOR\n", f1_3, 2, 1);
    char f[900];
    snprintf(f, sizeof f, "%s/patient954_frame03_gt.nii.gz", dir);
    unlink(f);
    CHECK_FAILS_WITH(su_acdc_scan(&ds, parent, &err), &err, "patient954_frame03_gt.nii.gz (ES) is missing");

    /* a label 7 inside an ACDC patient */
    snprintf(parent, sizeof parent, "%s/seven", tmp);
    make_patient(dir, sizeof dir, parent, "patient955", "ED: 1\nES: 3\nGroup: NOR\n", f1_3, 2, 1);
    snprintf(f, sizeof f, "%s/patient955_frame01_gt.nii.gz", dir);
    {
        su_volume v;
        su_volume_create(&v, 4, 3, 2, 1.5f, 1.5f, 10.0f, &err);
        v.data[5] = 7;
        su_nifti_write(f, v.data, SU_DT_UINT8, &v, &err);
        su_volume_free(&v);
    }
    CHECK_OK(su_acdc_scan(&ds, parent, &err), &err);
    if (ds.n_patients == 1) {
        su_volume img;
        uint8_t *lab;
        CHECK_FAILS_WITH(su_acdc_load(&img, &lab, &ds.patients[0], SU_ED, &err), &err, "label value 7");
        CHECK(strstr(err.msg, "patient955_frame01_gt.nii.gz") != NULL, "names the file: %s", err.msg);
    }
    su_acdc_free(&ds);

    /* folders without patients, and paths that are not folders */
    snprintf(parent, sizeof parent, "%s/empty", tmp);
    mkdir(parent, 0755);
    CHECK_FAILS_WITH(su_acdc_scan(&ds, parent, &err), &err, "no ACDC patients found");
    snprintf(parent, sizeof parent, "%s/does-not-exist", tmp);
    CHECK_FAILS_WITH(su_acdc_scan(&ds, parent, &err), &err, "does-not-exist: cannot open folder");
    CHECK_FAILS_WITH(su_acdc_scan(&ds, "data/acdc-sample/patient001/Info.cfg", &err), &err, "not a folder");
}

int main(void) {
    if (tmpdir_make(tmp, sizeof tmp, "acdc")) return 1;
    test_sample();
    test_cases();
    test_generated();
    CHECK(!strcmp(su_phase_name(SU_ED), "ED") && !strcmp(su_phase_name(SU_ES), "ES"), "phase names");
    tmpdir_remove(tmp);
    return check_report("acdc");
}
