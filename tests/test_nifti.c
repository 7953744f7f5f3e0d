/* NIfTI-1 reading and writing: the bundled sample against nibabel's numbers, round trips for every
 * datatype, every NIfTI/gz/label case of ../shared/cases, and generated bad files. */
#include <fcntl.h>
#include <zlib.h>

#include "check.h"
#include "npy.h"
#include "spikeunet/nifti.h"
#include "tmpdir.h" /* before nifti1.h: its DT_UNKNOWN macro clashes with <dirent.h> */

#include <nifti1_io.h>

static char tmp[512];

/* ---- the bundled sample, checked against nibabel 5 (get_fdata, bincount of the _gt) -------- */

typedef struct sample_row {
    const char *file; /* image; the _gt has the same stem */
    int nx, ny, nz;
    float dx, dy, dz;
    int dtype;
    long counts[4];
    double sum, max, probe; /* probe: value at (nx/2, ny/3, nz/2) */
} sample_row;

static const sample_row sample[] = {
    {"patient001/patient001_frame01", 216, 256, 10, 1.5625f, 1.5625f, 10.0f, SU_DT_INT16, {528405, 5723, 6728, 12104}, 43101591.0, 658.0, 43.0},
    {"patient001/patient001_frame12", 216, 256, 10, 1.5625f, 1.5625f, 10.0f, SU_DT_INT16, {533290, 2439, 7990, 9241}, 42991941.0, 984.0, 44.0},
    {"patient022/patient022_frame01", 200, 256, 7, 1.40625f, 1.40625f, 10.0f, SU_DT_INT16, {348181, 3028, 3563, 3628}, 35138466.0, 1766.0, 5.0},
    {"patient022/patient022_frame11", 200, 256, 7, 1.40625f, 1.40625f, 10.0f, SU_DT_INT16, {351341, 1691, 4096, 1272}, 34241226.0, 1834.0, 13.0},
    {"patient045/patient045_frame01", 208, 256, 8, 1.5625f, 1.5625f, 10.0f, SU_DT_FLOAT32, {405785, 6231, 4724, 9244}, 21360230.0, 255.0, 12.0},
    {"patient045/patient045_frame13", 208, 256, 8, 1.5625f, 1.5625f, 10.0f, SU_DT_FLOAT32, {410371, 3469, 5646, 6498}, 20725683.0, 255.0, 15.0},
    {"patient071/patient071_frame01", 192, 256, 10, 1.5625f, 1.5625f, 10.0f, SU_DT_INT16, {472243, 7720, 4948, 6609}, 24786970.0, 759.0, 19.0},
    {"patient071/patient071_frame09", 192, 256, 10, 1.5625f, 1.5625f, 10.0f, SU_DT_INT16, {480453, 3094, 4978, 2995}, 25275421.0, 1406.0, 23.0},
    {"patient090/patient090_frame04", 154, 224, 7, 1.78571f, 1.78571f, 10.0f, SU_DT_UINT8, {230329, 6829, 1882, 2432}, 13404078.0, 255.0, 11.0},
    {"patient090/patient090_frame11", 154, 224, 7, 1.78571f, 1.78571f, 10.0f, SU_DT_UINT8, {234055, 4085, 1991, 1341}, 13388746.0, 255.0, 27.0},
    {"patient093/patient093_frame01", 180, 224, 10, 1.5625f, 1.5625f, 7.0f, SU_DT_FLOAT32, {379709, 14845, 3111, 5535}, 20942285.0, 221.0, 34.0},
    {"patient093/patient093_frame14", 180, 224, 10, 1.5625f, 1.5625f, 7.0f, SU_DT_FLOAT32, {391616, 5882, 3408, 2294}, 21360308.0, 242.0, 36.0},
};

static void test_sample(void) {
    su_error err = {{0}};
    for (size_t k = 0; k < sizeof sample / sizeof sample[0]; k++) {
        const sample_row *r = &sample[k];
        char img_path[256], gt_path[256];
        snprintf(img_path, sizeof img_path, "data/acdc-sample/%s.nii.gz", r->file);
        snprintf(gt_path, sizeof gt_path, "data/acdc-sample/%s_gt.nii.gz", r->file);
        su_volume v;
        CHECK_OK(su_nifti_read(&v, img_path, &err), &err);
        if (!v.data) continue;
        CHECK(v.nx == r->nx && v.ny == r->ny && v.nz == r->nz, "%s: shape %dx%dx%d", r->file, v.nx, v.ny, v.nz);
        CHECK_NEAR(v.dx, r->dx, 1e-6, r->file);
        CHECK_NEAR(v.dy, r->dy, 1e-6, r->file);
        CHECK_NEAR(v.dz, r->dz, 1e-6, r->file);
        CHECK(v.datatype == r->dtype, "%s: dtype %s", r->file, su_nifti_dtype_name(v.datatype));
        double sum = 0, mx = -1e30;
        size_t n = su_volume_voxels(&v);
        for (size_t i = 0; i < n; i++) {
            sum += v.data[i];
            if (v.data[i] > mx) mx = v.data[i];
        }
        CHECK_NEAR(sum, r->sum, 0.5, r->file);
        CHECK_NEAR(mx, r->max, 0, r->file);
        size_t probe = ((size_t)(r->nz / 2) * r->ny + (size_t)(r->ny / 3)) * r->nx + (size_t)(r->nx / 2);
        CHECK_NEAR(v.data[probe], r->probe, 0, r->file);
        /* ACDC geometry: qform_code 0, sform_code 2 with diag(-1,-1,1) */
        const nifti_1_header *h = (const nifti_1_header *)v.header;
        CHECK(h->qform_code == 0 && h->sform_code == 2, "%s: codes %d %d", r->file, h->qform_code, h->sform_code);
        CHECK(h->srow_x[0] == -1.0f && h->srow_y[1] == -1.0f && h->srow_z[2] == 1.0f, "%s: sform diag", r->file);

        uint8_t *lab = NULL;
        su_volume geom;
        CHECK_OK(su_nifti_read_labels(&lab, &geom, gt_path, &err), &err);
        if (!lab) {
            su_volume_free(&v);
            continue;
        }
        CHECK(geom.nx == v.nx && geom.ny == v.ny && geom.nz == v.nz && geom.data == NULL, "%s: gt shape", r->file);
        CHECK(geom.datatype == SU_DT_UINT8, "%s: gt dtype %d", r->file, geom.datatype);
        long cnt[4] = {0};
        for (size_t i = 0; i < n; i++) cnt[lab[i]]++;
        for (int c = 0; c < 4; c++)
            CHECK(cnt[c] == r->counts[c], "%s: label %d count %ld want %ld", r->file, c, cnt[c], r->counts[c]);
        free(lab);
        su_volume_free(&v);
    }
    /* header-only read */
    su_volume h;
    CHECK_OK(su_nifti_read_header(&h, "data/acdc-sample/patient090/patient090_frame04.nii.gz", &err), &err);
    CHECK(h.data == NULL && h.nx == 154 && h.datatype == SU_DT_UINT8, "header-only read");
}

/* ---- round trips ------------------------------------------------------------------------- */

static void set_geometry(su_volume *v) {
    nifti_1_header *h = (nifti_1_header *)v->header;
    h->qform_code = NIFTI_XFORM_SCANNER_ANAT;
    h->sform_code = NIFTI_XFORM_ALIGNED_ANAT;
    h->quatern_b = 0.0f, h->quatern_c = 0.0f, h->quatern_d = 1.0f; /* 180 deg about z */
    h->qoffset_x = 12.5f, h->qoffset_y = -3.25f, h->qoffset_z = 40.0f;
    h->pixdim[0] = -1.0f;
    float sx[4] = {-1.25f, 0.1f, 0.0f, 12.5f}, sy[4] = {0.0f, -0.8f, 0.2f, -3.25f}, sz[4] = {0.0f, 0.0f, 6.0f, 40.0f};
    memcpy(h->srow_x, sx, sizeof sx);
    memcpy(h->srow_y, sy, sizeof sy);
    memcpy(h->srow_z, sz, sizeof sz);
    h->xyzt_units = NIFTI_UNITS_MM | NIFTI_UNITS_SEC;
}

static int same_geometry(const nifti_1_header *a, const nifti_1_header *b) {
    return a->qform_code == b->qform_code && a->sform_code == b->sform_code && a->quatern_b == b->quatern_b &&
           a->quatern_c == b->quatern_c && a->quatern_d == b->quatern_d && a->qoffset_x == b->qoffset_x &&
           a->qoffset_y == b->qoffset_y && a->qoffset_z == b->qoffset_z &&
           !memcmp(a->srow_x, b->srow_x, sizeof a->srow_x) && !memcmp(a->srow_y, b->srow_y, sizeof a->srow_y) &&
           !memcmp(a->srow_z, b->srow_z, sizeof a->srow_z) && !memcmp(a->pixdim, b->pixdim, 4 * sizeof(float)) &&
           a->xyzt_units == b->xyzt_units && !memcmp(a->dim + 1, b->dim + 1, 3 * sizeof(short));
}

static void test_round_trips(void) {
    su_error err = {{0}};
    const int types[] = {SU_DT_UINT8, SU_DT_INT16, SU_DT_INT32, SU_DT_FLOAT32, SU_DT_FLOAT64};
    su_volume src;
    CHECK_OK(su_volume_create(&src, 5, 4, 3, 1.25f, 0.8f, 6.0f, &err), &err);
    set_geometry(&src);
    size_t n = su_volume_voxels(&src);
    for (int t = 0; t < 5; t++) {
        for (int gz = 0; gz < 2; gz++) {
            int dt = types[t];
            for (size_t i = 0; i < n; i++) {
                double v = (double)(i * 7 % 60);                    /* fits uint8 */
                if (dt == SU_DT_INT16) v = (double)i * 301 - 9000;  /* needs 16 bits, negative */
                if (dt == SU_DT_INT32) v = (double)i * 40001 - 1e6; /* beyond int16 */
                if (dt == SU_DT_FLOAT32 || dt == SU_DT_FLOAT64) v = (double)i * 0.37 - 5.5;
                src.data[i] = (float)v;
            }
            char path[600];
            snprintf(path, sizeof path, "%s/rt_%s%s", tmp, su_nifti_dtype_name(dt), gz ? ".nii.gz" : ".nii");
            CHECK_OK(su_nifti_write(path, src.data, dt, &src, &err), &err);
            su_volume back;
            CHECK_OK(su_nifti_read(&back, path, &err), &err);
            if (!back.data) continue;
            CHECK(back.datatype == dt, "%s: datatype %d", path, back.datatype);
            CHECK(back.nx == 5 && back.ny == 4 && back.nz == 3, "%s: shape", path);
            CHECK(back.dx == 1.25f && back.dy == 0.8f && back.dz == 6.0f, "%s: spacing", path);
            CHECK(!memcmp(back.data, src.data, n * sizeof(float)), "%s: values differ", path);
            CHECK(same_geometry((const nifti_1_header *)back.header, (const nifti_1_header *)src.header),
                  "%s: geometry differs", path);
            /* the file is compressed iff the name ends in .gz */
            FILE *f = fopen(path, "rb");
            unsigned char magic[2] = {0, 0};
            if (f) {
                CHECK(fread(magic, 1, 2, f) == 2, "%s: read", path);
                fclose(f);
            }
            CHECK((magic[0] == 0x1f && magic[1] == 0x8b) == gz, "%s: gzip magic %02x%02x", path, magic[0], magic[1]);
            /* an independent reader (nifticlib) sees the same values and geometry */
            nifti_set_debug_level(0);
            nifti_image *nim = nifti_image_read(path, 1);
            CHECK(nim != NULL, "%s: nifticlib cannot read it", path);
            if (nim) {
                CHECK(nim->datatype == dt && nim->nx == 5 && nim->ny == 4 && nim->nz == 3, "%s: nifticlib header",
                      path);
                CHECK(nim->qform_code == NIFTI_XFORM_SCANNER_ANAT && nim->sform_code == NIFTI_XFORM_ALIGNED_ANAT,
                      "%s: nifticlib codes", path);
                CHECK(nim->sto_xyz.m[0][1] == 0.1f && nim->sto_xyz.m[1][2] == 0.2f && nim->sto_xyz.m[2][3] == 40.0f,
                      "%s: nifticlib sform", path);
                int same = 1;
                for (size_t i = 0; i < n; i++) {
                    double v = 0;
                    switch (dt) {
                    case SU_DT_UINT8: v = ((uint8_t *)nim->data)[i]; break;
                    case SU_DT_INT16: v = ((int16_t *)nim->data)[i]; break;
                    case SU_DT_INT32: v = ((int32_t *)nim->data)[i]; break;
                    case SU_DT_FLOAT32: v = ((float *)nim->data)[i]; break;
                    default: v = ((double *)nim->data)[i]; break;
                    }
                    if ((float)v != src.data[i]) same = 0;
                }
                CHECK(same, "%s: nifticlib values differ", path);
                nifti_image_free(nim);
            }
            su_volume_free(&back);
        }
    }
    /* integer types round to nearest and refuse values that do not fit (never clip) */
    src.data[0] = 2.6f;
    char path[600];
    snprintf(path, sizeof path, "%s/round.nii", tmp);
    CHECK_OK(su_nifti_write(path, src.data, SU_DT_INT16, &src, &err), &err);
    su_volume back;
    CHECK_OK(su_nifti_read(&back, path, &err), &err);
    CHECK(back.data && back.data[0] == 3.0f, "rounded to 3");
    su_volume_free(&back);
    src.data[0] = 300.0f;
    CHECK_FAILS_WITH(su_nifti_write(path, src.data, SU_DT_UINT8, &src, &err), &err, "does not fit uint8");
    /* ...and the older file at the target is left intact */
    CHECK_OK(su_nifti_read(&back, path, &err), &err);
    CHECK(back.data && back.data[0] == 3.0f && back.datatype == SU_DT_INT16, "old file intact");
    su_volume_free(&back);
    src.data[0] = NAN;
    CHECK_FAILS_WITH(su_nifti_write(path, src.data, SU_DT_FLOAT32, &src, &err), &err, "NaN");
    src.data[0] = 0.0f;
    CHECK_FAILS_WITH(su_nifti_write(path, src.data, 128, &src, &err), &err, "cannot write datatype 128");
    snprintf(path, sizeof path, "%s/out.img", tmp);
    CHECK_FAILS_WITH(su_nifti_write(path, src.data, SU_DT_FLOAT32, &src, &err), &err, "must end in .nii");
    snprintf(path, sizeof path, "%s/no/such/dir/x.nii.gz", tmp);
    CHECK_FAILS_WITH(su_nifti_write(path, src.data, SU_DT_FLOAT32, &src, &err), &err, "x.nii.gz");
    su_volume bare = {0};
    bare.nx = bare.ny = bare.nz = 2;
    snprintf(path, sizeof path, "%s/bare.nii", tmp);
    CHECK_FAILS_WITH(su_nifti_write(path, src.data, SU_DT_FLOAT32, &bare, &err), &err, "no NIfTI-1 header");
    su_volume_free(&src);
}

/* A label map written for an ACDC image carries that image's geometry. */
static void test_label_geometry(void) {
    su_error err = {{0}};
    const char *img_path = "data/acdc-sample/patient093/patient093_frame01.nii.gz";
    su_volume img;
    uint8_t *gt = NULL;
    CHECK_OK(su_nifti_read(&img, img_path, &err), &err);
    CHECK_OK(su_nifti_read_labels(&gt, NULL, "data/acdc-sample/patient093/patient093_frame01_gt.nii.gz", &err), &err);
    if (!img.data || !gt) return;
    for (int gz = 0; gz < 2; gz++) {
        char path[600];
        snprintf(path, sizeof path, "%s/pred%s", tmp, gz ? ".nii.gz" : ".nii");
        CHECK_OK(su_nifti_write_labels(path, gt, &img, &err), &err);
        uint8_t *back = NULL;
        su_volume geom;
        CHECK_OK(su_nifti_read_labels(&back, &geom, path, &err), &err);
        if (!back) continue;
        CHECK(!memcmp(back, gt, su_volume_voxels(&img)), "labels differ");
        const nifti_1_header *a = (const nifti_1_header *)img.header, *b = (const nifti_1_header *)geom.header;
        CHECK(same_geometry(a, b), "label map geometry differs from the image's");
        CHECK(b->datatype == SU_DT_UINT8 && b->bitpix == 8, "label datatype %d", b->datatype);
        CHECK(b->scl_slope == 1.0f && b->scl_inter == 0.0f, "scaling cleared");
        CHECK(b->dim[0] == 3 && b->vox_offset == 352.0f, "3-D, data at 352");
        free(back);
    }
    /* a temporary never stays behind: the folder holds only what was written so far */
    int before = dir_entries(tmp);
    char path[600];
    snprintf(path, sizeof path, "%s/pred.nii.gz", tmp);
    CHECK_OK(su_nifti_write_labels(path, gt, &img, &err), &err);
    CHECK(dir_entries(tmp) == before, "overwrite left %d entries (had %d)", dir_entries(tmp), before);
    free(gt);
    su_volume_free(&img);
}

/* ---- ../shared/cases --------------------------------------------------------------------- */

static void case_path(char *out, size_t cap, const char *id, const char *file) {
    snprintf(out, cap, "%s/cases/%s/%s", check_shared_dir(), id, file);
}

static void test_read_cases(void) {
    static const char *const reads[] = {"nii_baseline",     "nii_scl_slope_2",  "nii_big_endian",
                                        "nii_extension_496", "nii_4d_singleton", "nii_float64_image",
                                        "nii_uint8_image",   "gz_not_compressed"};
    su_error err = {{0}};
    for (size_t k = 0; k < sizeof reads / sizeof reads[0]; k++) {
        char path[600], npy[600];
        case_path(path, sizeof path, reads[k], "image.nii.gz");
        case_path(npy, sizeof npy, reads[k], "expected.npy");
        su_volume v;
        CHECK_OK(su_nifti_read(&v, path, &err), &err);
        int shape[3];
        double *want = npy_read3(npy, shape);
        CHECK(want != NULL, "%s: expected.npy", reads[k]);
        if (v.data && want) {
            CHECK(v.nx == 8 && v.ny == 8 && v.nz == 4, "%s: shape %dx%dx%d", reads[k], v.nx, v.ny, v.nz);
            CHECK(shape[0] == v.nx && shape[1] == v.ny && shape[2] == v.nz, "%s: npy shape", reads[k]);
            if (strcmp(reads[k], "gz_not_compressed") != 0) { /* its expect.json gives no spacing */
                CHECK(v.dx == 1.5f && v.dy == 1.5f && v.dz == 10.0f, "%s: spacing %g %g %g", reads[k], (double)v.dx,
                      (double)v.dy, (double)v.dz);
            }
            int bad = 0;
            for (size_t i = 0; i < su_volume_voxels(&v); i++)
                if (fabs(v.data[i] - want[i]) > 1e-6 * (1 + fabs(want[i]))) bad++;
            CHECK(bad == 0, "%s: %d values differ from expected.npy", reads[k], bad);
            double mx = 0;
            for (size_t i = 0; i < su_volume_voxels(&v); i++) mx = fmax(mx, fabs(want[i]));
            CHECK(mx > 0, "%s: expected values are not all zero", reads[k]);
        }
        free(want);
        su_volume_free(&v);
    }
    /* big-endian reads the same values as the baseline */
    {
        char a[600], b[600];
        case_path(a, sizeof a, "nii_baseline", "image.nii.gz");
        case_path(b, sizeof b, "nii_big_endian", "image.nii.gz");
        su_volume va, vb;
        CHECK_OK(su_nifti_read(&va, a, &err), &err);
        CHECK_OK(su_nifti_read(&vb, b, &err), &err);
        CHECK(va.data && vb.data && !memcmp(va.data, vb.data, su_volume_voxels(&va) * sizeof(float)),
              "big-endian == baseline");
        su_volume_free(&va);
        su_volume_free(&vb);
    }
    /* the 4-D singleton's geometry survives a write: 3-D out, same spatial header */
    {
        char a[600], out[600];
        case_path(a, sizeof a, "nii_4d_singleton", "image.nii.gz");
        snprintf(out, sizeof out, "%s/from4d.nii.gz", tmp);
        su_volume v, back;
        CHECK_OK(su_nifti_read(&v, a, &err), &err);
        if (v.data) {
            CHECK(((nifti_1_header *)v.header)->dim[0] == 4, "the source header says 4-D");
            uint8_t *lab = calloc(su_volume_voxels(&v), 1);
            CHECK_OK(su_nifti_write_labels(out, lab, &v, &err), &err);
            CHECK_OK(su_nifti_read_header(&back, out, &err), &err);
            const nifti_1_header *h = (const nifti_1_header *)back.header;
            CHECK(h->dim[0] == 3 && h->dim[4] == 1, "written 3-D");
            CHECK(same_geometry(h, (const nifti_1_header *)v.header), "spatial geometry kept");
            free(lab);
        }
        su_volume_free(&v);
    }
    /* labels stored as int32 and float64 */
    static const char *const labs[] = {"lab_int32", "lab_float64"};
    for (int k = 0; k < 2; k++) {
        char path[600], npy[600];
        case_path(path, sizeof path, labs[k], "labels.nii.gz");
        case_path(npy, sizeof npy, labs[k], "expected.npy");
        uint8_t *lab = NULL;
        su_volume geom;
        CHECK_OK(su_nifti_read_labels(&lab, &geom, path, &err), &err);
        int shape[3];
        double *want = npy_read3(npy, shape);
        if (lab && want) {
            CHECK(geom.nx == 8 && geom.ny == 8 && geom.nz == 4, "%s: shape", labs[k]);
            int bad = 0, seen[4] = {0};
            for (size_t i = 0; i < 256; i++) {
                if (lab[i] != want[i]) bad++;
                seen[lab[i]] = 1;
            }
            CHECK(bad == 0, "%s: %d labels differ", labs[k], bad);
            CHECK(seen[0] && seen[1] && seen[2] && seen[3], "%s: all four labels present", labs[k]);
        }
        free(lab);
        free(want);
    }
}

static void test_error_cases(void) {
    su_error err = {{0}};
    char path[600];
    su_volume v;
    case_path(path, sizeof path, "nii_4d_three_frames", "image.nii.gz");
    CHECK_FAILS_WITH(su_nifti_read(&v, path, &err), &err, "expected 3-D, got 4-D (3 frames)");
    CHECK(strstr(err.msg, path) == err.msg, "names the file: %s", err.msg);
    CHECK(v.data == NULL, "no volume");

    case_path(path, sizeof path, "gz_truncated", "image.nii.gz");
    CHECK_FAILS_WITH(su_nifti_read(&v, path, &err), &err, "short read");
    CHECK(strstr(err.msg, path) == err.msg, "names the file: %s", err.msg);
    CHECK(v.data == NULL, "never a zero-filled volume");

    case_path(path, sizeof path, "lab_value_7", "labels.nii.gz");
    uint8_t *lab = (uint8_t *)1;
    CHECK_FAILS_WITH(su_nifti_read_labels(&lab, NULL, path, &err), &err, "label value 7 at voxel");
    CHECK(strstr(err.msg, path) == err.msg, "names the file: %s", err.msg);
    CHECK(lab == NULL, "no labels");
}

/* ---- generated bad files ----------------------------------------------------------------- */

static nifti_1_header plain_header(int nx, int ny, int nz, int dt, int bitpix) {
    nifti_1_header h;
    memset(&h, 0, sizeof h);
    h.sizeof_hdr = 348;
    h.dim[0] = 3;
    h.dim[1] = (short)nx, h.dim[2] = (short)ny, h.dim[3] = (short)nz;
    for (int i = 4; i < 8; i++) h.dim[i] = 1;
    h.datatype = (short)dt;
    h.bitpix = (short)bitpix;
    for (int i = 0; i < 8; i++) h.pixdim[i] = 1.0f;
    h.vox_offset = 352;
    memcpy(h.magic, "n+1", 4);
    return h;
}

/* Writes header + extender + nbytes of data (gzip when gz). */
static void write_raw(const char *path, const nifti_1_header *h, const void *data, size_t nbytes, int gz) {
    gzFile f = gzopen(path, gz ? "wb" : "wbT");
    char ext[4] = {0};
    CHECK(f != NULL, "cannot create %s", path);
    if (!f) return;
    gzwrite(f, h, sizeof *h);
    gzwrite(f, ext, 4);
    if (nbytes) gzwrite(f, data, (unsigned)nbytes);
    gzclose(f);
}

static void expect_read_fails(const char *name, const nifti_1_header *h, const void *data, size_t nbytes, int gz,
                              const char *needle) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    write_raw(path, h, data, nbytes, gz);
    su_error err = {{0}};
    su_volume v;
    CHECK_FAILS_WITH(su_nifti_read(&v, path, &err), &err, needle);
    CHECK(strstr(err.msg, path) == err.msg, "%s: message names the file: %s", name, err.msg);
    CHECK(v.data == NULL, "%s: no data", name);
}

static void test_generated(void) {
    float data[2 * 2 * 2] = {1, 2, 3, 4, 5, 6, 7, 8};
    nifti_1_header h;

    h = plain_header(2, 2, 2, SU_DT_FLOAT32, 32);
    h.sizeof_hdr = 123;
    expect_read_fails("bad_size.nii", &h, data, sizeof data, 0, "sizeof_hdr 123, expected 348");
    h = plain_header(2, 2, 2, SU_DT_FLOAT32, 32);
    h.sizeof_hdr = 540;
    expect_read_fails("nifti2.nii", &h, data, sizeof data, 0, "NIfTI-2");
    h = plain_header(2, 2, 2, SU_DT_FLOAT32, 32);
    memcpy(h.magic, "xyz", 4);
    expect_read_fails("bad_magic.nii.gz", &h, data, sizeof data, 1, "bad magic");
    h = plain_header(2, 2, 2, SU_DT_FLOAT32, 32);
    memcpy(h.magic, "ni1", 4);
    expect_read_fails("two_file.nii", &h, data, sizeof data, 0, "two-file NIfTI");
    h = plain_header(2, 0, 2, SU_DT_FLOAT32, 32);
    expect_read_fails("zero_dim.nii", &h, data, sizeof data, 0, "zero or negative dimension (dim[2] = 0)");
    h = plain_header(2, 2, 2, SU_DT_FLOAT32, 32);
    h.dim[0] = 2;
    expect_read_fails("two_d.nii", &h, data, sizeof data, 0, "expected 3-D, got 2-D");
    h = plain_header(2, 2, 2, SU_DT_FLOAT32, 32);
    h.dim[0] = 5, h.dim[5] = 2;
    expect_read_fails("five_d.nii", &h, data, sizeof data, 0, "expected 3-D, got 5-D");
    h = plain_header(5000, 2, 2, SU_DT_FLOAT32, 32);
    expect_read_fails("absurd_axis.nii", &h, data, sizeof data, 0, "absurd dimensions 5000x2x2");
    h = plain_header(4096, 4096, 17, SU_DT_FLOAT32, 32);
    expect_read_fails("absurd_total.nii", &h, data, sizeof data, 0, "absurd dimensions 4096x4096x17");
    h = plain_header(2, 2, 2, NIFTI_TYPE_COMPLEX64, 64);
    expect_read_fails("complex.nii", &h, data, sizeof data, 0, "unsupported datatype 32");
    h = plain_header(2, 2, 2, NIFTI_TYPE_RGB24, 24);
    expect_read_fails("rgb.nii.gz", &h, data, sizeof data, 1, "unsupported datatype 128");
    h = plain_header(2, 2, 2, SU_DT_FLOAT32, 32);
    h.pixdim[2] = 0.0f;
    expect_read_fails("zero_spacing.nii", &h, data, sizeof data, 0, "invalid voxel spacing pixdim[2]");
    h = plain_header(2, 2, 2, SU_DT_FLOAT32, 32);
    expect_read_fails("short_data.nii", &h, data, sizeof data - 5, 0, "short read");
    expect_read_fails("short_data.nii.gz", &h, data, sizeof data - 5, 1, "short read");
    {
        char path[600];
        snprintf(path, sizeof path, "%s/tiny.nii", tmp);
        write_text(path, "hello");
        su_error err = {{0}};
        su_volume v;
        CHECK_FAILS_WITH(su_nifti_read(&v, path, &err), &err, "shorter than the 348-byte header");
        snprintf(path, sizeof path, "%s/missing.nii.gz", tmp);
        CHECK_FAILS_WITH(su_nifti_read(&v, path, &err), &err, "missing.nii.gz: cannot open: No such file");
        CHECK_FAILS_WITH(su_nifti_read(&v, tmp, &err), &err, "is a directory");
    }
    float nan_data[8] = {1, 2, 3, NAN, 5, 6, 7, 8};
    h = plain_header(2, 2, 2, SU_DT_FLOAT32, 32);
    expect_read_fails("nan.nii.gz", &h, nan_data, sizeof nan_data, 1, "NaN voxel value at (1,1,0)");
    double inf_data[8] = {1, 2, 3, 4, 5, 6, 7, INFINITY};
    h = plain_header(2, 2, 2, SU_DT_FLOAT64, 64);
    expect_read_fails("inf.nii", &h, inf_data, sizeof inf_data, 0, "infinite");
    /* a corrupt gzip trailer (CRC) is caught although the voxel bytes are all there */
    {
        char path[600];
        snprintf(path, sizeof path, "%s/badcrc.nii.gz", tmp);
        h = plain_header(2, 2, 2, SU_DT_FLOAT32, 32);
        write_raw(path, &h, data, sizeof data, 1);
        FILE *f = fopen(path, "r+b");
        CHECK(f != NULL, "reopen");
        if (f) {
            fseek(f, -8, SEEK_END); /* first byte of the CRC32 */
            int c = fgetc(f);
            fseek(f, -8, SEEK_END);
            fputc(c ^ 0xff, f);
            fclose(f);
        }
        su_error err = {{0}};
        su_volume v;
        CHECK_FAILS_WITH(su_nifti_read(&v, path, &err), &err, "corrupt gzip");
    }
    /* labels: non-integer and negative values */
    {
        char path[600];
        snprintf(path, sizeof path, "%s/half.nii", tmp);
        float half[8] = {0, 1, 2, 3, 0.5f, 0, 0, 0};
        h = plain_header(2, 2, 2, SU_DT_FLOAT32, 32);
        write_raw(path, &h, half, sizeof half, 0);
        su_error err = {{0}};
        uint8_t *lab;
        CHECK_FAILS_WITH(su_nifti_read_labels(&lab, NULL, path, &err), &err, "non-integer label value 0.5 at voxel (0,0,1)");
        snprintf(path, sizeof path, "%s/neg.nii", tmp);
        int16_t neg[8] = {0, 1, 2, 3, 0, -1, 0, 0};
        h = plain_header(2, 2, 2, SU_DT_INT16, 16);
        write_raw(path, &h, neg, sizeof neg, 0);
        CHECK_FAILS_WITH(su_nifti_read_labels(&lab, NULL, path, &err), &err, "label value -1 at voxel (1,0,1)");
        /* scaling applies to labels too: stored 0..6 with slope 0.5 -> 0..3 */
        snprintf(path, sizeof path, "%s/scaled.nii", tmp);
        int16_t twice[8] = {0, 2, 4, 6, 6, 4, 2, 0};
        h = plain_header(2, 2, 2, SU_DT_INT16, 16);
        h.scl_slope = 0.5f;
        write_raw(path, &h, twice, sizeof twice, 0);
        CHECK_OK(su_nifti_read_labels(&lab, NULL, path, &err), &err);
        CHECK(lab && lab[3] == 3 && lab[5] == 2, "scaled labels");
        free(lab);
    }
    /* slope 0 or NaN means no scaling; vox_offset 0 in a .nii means "data after the header" */
    {
        char path[600];
        snprintf(path, sizeof path, "%s/noscale.nii", tmp);
        h = plain_header(2, 2, 2, SU_DT_FLOAT32, 32);
        h.scl_slope = NAN;
        h.scl_inter = 100.0f;
        h.vox_offset = 0.0f;
        write_raw(path, &h, data, sizeof data, 0);
        su_error err = {{0}};
        su_volume v;
        CHECK_OK(su_nifti_read(&v, path, &err), &err);
        CHECK(v.data && v.data[0] == 1.0f && v.data[7] == 8.0f, "NaN slope: no scaling");
        su_volume_free(&v);
    }
}

/* The library prints nothing, even for bad files (nifticlib's own messages stay silent). */
static void test_silence(void) {
    char log[600], path[600];
    snprintf(log, sizeof log, "%s/stderr.txt", tmp);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (saved < 0 || fd < 0) return;
    dup2(fd, 2);
    close(fd);
    su_error err = {{0}};
    su_volume v;
    uint8_t *lab;
    static const char *const ids[] = {"nii_4d_three_frames", "gz_truncated", "nii_big_endian"};
    for (int i = 0; i < 3; i++) {
        case_path(path, sizeof path, ids[i], "image.nii.gz");
        if (!su_nifti_read(&v, path, &err)) su_volume_free(&v);
    }
    case_path(path, sizeof path, "lab_value_7", "labels.nii.gz");
    su_nifti_read_labels(&lab, NULL, path, &err);
    snprintf(path, sizeof path, "%s/bad_magic.nii.gz", tmp);
    su_nifti_read(&v, path, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    struct stat st;
    CHECK(stat(log, &st) == 0 && st.st_size == 0, "the library wrote %ld bytes to stderr", (long)st.st_size);
}

int main(void) {
    if (tmpdir_make(tmp, sizeof tmp, "nifti")) {
        fprintf(stderr, "cannot make a scratch folder\n");
        return 1;
    }
    test_sample();
    test_round_trips();
    test_label_geometry();
    test_read_cases();
    test_error_cases();
    test_generated();
    test_silence();
    CHECK(!strcmp(su_nifti_dtype_name(SU_DT_INT16), "int16") && !strcmp(su_nifti_dtype_name(7), "unsupported"),
          "dtype names");
    tmpdir_remove(tmp);
    return check_report("nifti");
}
