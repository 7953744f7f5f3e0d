/* spikeunet predict: label maps (and overlay pictures) for images. */
#include <dirent.h>
#include <errno.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "spikeunet/acdc.h"
#include "spikeunet/infer.h"
#include "spikeunet/nifti.h"
#include "spikeunet/picture.h"

typedef struct job {
    char image[4096], label[4096]; /* label: ground truth or "" */
} job;

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static int is_image_name(const char *name) {
    return (ends_with(name, ".nii.gz") || ends_with(name, ".nii")) && !strstr(name, "_gt.nii") && !strstr(name, "_4d.nii");
}

/* The ground truth beside an image, ACDC style (x.nii.gz -> x_gt.nii.gz), for the pictures; "" if none. */
static void find_label(job *j) {
    const char *ext = strstr(j->image, ".nii");
    j->label[0] = 0;
    if (!ext) return;
    snprintf(j->label, sizeof j->label, "%.*s_gt%s", (int)(ext - j->image), j->image, ext);
    if (access(j->label, R_OK)) j->label[0] = 0;
}

static int cmp_job(const void *a, const void *b) { return strcmp(((const job *)a)->image, ((const job *)b)->image); }

/* The images to segment: one file; an ACDC folder (ED and ES of each patient, with ground truth for the
 * pictures); or a folder of NIfTI images. */
static int collect(job **out, int *n, const char *input, su_error *err) {
    struct stat st;
    *out = NULL;
    *n = 0;
    if (stat(input, &st)) return su_fail(err, "%s: %s", input, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        *out = calloc(1, sizeof(job));
        snprintf((*out)[0].image, sizeof(*out)[0].image, "%s", input);
        find_label(&(*out)[0]);
        *n = 1;
        return 0;
    }
    su_dataset ds;
    su_error scan_err;
    if (su_acdc_scan(&ds, input, &scan_err) == 0) {
        *out = calloc((size_t)ds.n_patients * 2 + 1, sizeof(job));
        for (int i = 0; i < ds.n_patients; i++)
            for (int ph = 0; ph < 2; ph++) {
                job *j = &(*out)[(*n)++];
                snprintf(j->image, sizeof j->image, "%s", ds.patients[i].image_path[ph]);
                snprintf(j->label, sizeof j->label, "%s", ds.patients[i].label_path[ph]);
            }
        su_acdc_free(&ds);
        return 0;
    }
    DIR *d = opendir(input);
    if (!d) return su_fail(err, "%s: %s", input, strerror(errno));
    int cap = 16;
    *out = calloc((size_t)cap, sizeof(job));
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_image_name(e->d_name)) continue;
        if (*n == cap) *out = realloc(*out, sizeof(job) * (size_t)(cap *= 2));
        job *j = &(*out)[(*n)++];
        memset(j, 0, sizeof *j);
        snprintf(j->image, sizeof j->image, "%s/%s", input, e->d_name);
        find_label(j);
    }
    closedir(d);
    if (*n == 0) return su_fail(err, "%s: no ACDC patients and no NIfTI images here (%s)", input, scan_err.msg);
    qsort(*out, (size_t)*n, sizeof(job), cmp_job);
    return 0;
}

int cmd_predict(int argc, char **argv) {
    const char *keep = NULL, *ckpt = NULL, *input = NULL, *out = NULL;
    int png = 0, force = 0, threads = 0, quiet = 0;
    cli_opt opts[] = {
        {"--checkpoint", OPT_STRING, &ckpt, "FILE", "a checkpoint written by spikeunet train"},
        {"--input", OPT_STRING, &input, "FILE|DIR", "an image, an ACDC folder, or a folder of NIfTI images"},
        {"--out", OPT_STRING, &out, "DIR", "output folder: DIR/<image file name> label maps"},
        {"--png", OPT_FLAG, &png, NULL, "also DIR/<image name>.png: contours of RV (red), MYO (green), LV (blue) "
                                        "on a few slices, ground truth in a second row when present"},
        CLI_KEEP_LARGEST_OPT(keep),
        {"--force", OPT_FLAG, &force, NULL, "write into an output folder that is not empty"},
        CLI_THREADS_OPT(threads),
        {"--quiet", OPT_FLAG, &quiet, NULL, "no per-image lines"},
        {NULL, 0, NULL, NULL, NULL}};
    cli_command cmd = {"predict", "Segment images: one label map per image, on the image's own voxel grid with its "
                                  "own header (geometry), so it overlays exactly in viewers.",
                       "spikeunet predict --checkpoint FILE --input FILE_OR_DIR --out DIR [--png]",
                       "Labels: 0 background, 1 RV, 2 myocardium, 3 LV (uint8).", NULL};
    int rc = cli_parse(&cmd, opts, argc, argv, NULL, 0, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (cli_require("predict", "--checkpoint", ckpt) || cli_require("predict", "--input", input) ||
        cli_require("predict", "--out", out))
        return CLI_USAGE;
    if ((rc = cli_set_threads(threads, "predict"))) return rc;
    const int keep_mode = cli_keep_mode(keep, "predict");
    if (keep_mode < 0) return CLI_USAGE;
    su_error err;
    job *jobs = NULL;
    int n = 0;
    su_predictor pred;
    if (collect(&jobs, &n, input, &err) || su_predictor_open(&pred, ckpt, &err)) {
        cli_error("predict", "%s", err.msg);
        free(jobs);
        return CLI_FAIL;
    }
    pred.keep_largest = keep_mode;
    rc = CLI_FAIL;
    struct stat st;
    if (stat(out, &st) == 0) {
        DIR *d = opendir(out);
        int empty = 1;
        struct dirent *e;
        while (d && (e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
        if (d) closedir(d);
        if (!S_ISDIR(st.st_mode)) {
            cli_error("predict", "%s: exists and is not a folder", out);
            goto done;
        }
        if (!empty && !force) {
            cli_error("predict", "%s: folder is not empty (use --force to write into it)", out);
            rc = CLI_USAGE;
            goto done;
        }
    } else if (mkdir(out, 0755)) {
        cli_error("predict", "%s: cannot create: %s", out, strerror(errno));
        goto done;
    }
    /* A label map takes its image's file name: never let it land on an input image. */
    for (int i = 0; i < n; i++) {
        const char *base = strrchr(jobs[i].image, '/');
        char path[8300];
        snprintf(path, sizeof path, "%s/%s", out, base ? base + 1 : jobs[i].image);
        struct stat a, b;
        if (stat(path, &a) == 0 && stat(jobs[i].image, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
            cli_error("predict", "%s: --out is the input images' own folder; the label map would overwrite %s",
                      out, jobs[i].image);
            rc = CLI_USAGE;
            goto done;
        }
    }
    for (int i = 0; i < n; i++) {
        su_volume img;
        uint8_t *labels = NULL, *gt = NULL;
        if (su_nifti_read(&img, jobs[i].image, &err)) goto fail;
        const char *base = strrchr(jobs[i].image, '/');
        base = base ? base + 1 : jobs[i].image;
        char path[8300];
        snprintf(path, sizeof path, "%s/%s", out, base);
        labels = malloc(su_volume_voxels(&img));
        int bad = !labels || su_predict_volume(&pred, &img, labels, &err) || su_nifti_write_labels(path, labels, &img, &err);
        if (!bad && png) {
            if (jobs[i].label[0] && su_nifti_read_labels(&gt, NULL, jobs[i].label, &err)) bad = 1;
            char pic[8400];
            snprintf(pic, sizeof pic, "%s/%.*s.png", out, (int)(strstr(base, ".nii") ? strstr(base, ".nii") - base : (long)strlen(base)), base);
            su_overlay_opts oo;
            su_overlay_opts_default(&oo);
            if (!bad && su_overlay_write_png(pic, img.data, labels, gt, img.nx, img.ny, img.nz, &oo, &err)) bad = 1;
        }
        if (!bad && !quiet) printf("%s -> %s\n", jobs[i].image, path);
        su_volume_free(&img);
        free(labels);
        free(gt);
        if (bad) goto fail;
    }
    if (!quiet) printf("%d label map%s written to %s\n", n, n == 1 ? "" : "s", out);
    rc = CLI_OK;
    goto done;
fail:
    cli_error("predict", "%s", err.msg);
done:
    su_predictor_close(&pred);
    free(jobs);
    return rc;
}
