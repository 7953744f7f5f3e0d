/* Writes the seed corpora into OUT/<target>/ from the bundled sample (data/acdc-sample), the shared
 * cases (../shared/cases, or $SU_SHARED/cases; optional) and files made with the library's own
 * writers, then runs every seed through its target once (a seed that breaks a check is a harness
 * bug, found before fuzzing starts). Run from the repository root: mkseeds OUT. Deterministic. */
#include "targets.h"

#include <errno.h>

static fuzz_ctx ctx;
static const char *out_dir;
static int n_seeds, n_bad;

static void emit(const char *target, const char *name, int sel, const void *d, size_t n) {
    char dir[1024], path[1400];
    snprintf(dir, sizeof dir, "%s/%s", out_dir, target);
    mkdir(out_dir, 0755);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unsigned char *buf = malloc(n + 1);
    if (!buf) return;
    size_t k = 0;
    if (sel >= 0) buf[k++] = (unsigned char)sel;
    if (n) memcpy(buf + k, d, n);
    k += n;
    if (fuzz_write(path, buf, k)) {
        fprintf(stderr, "mkseeds: cannot write %s: %s\n", path, strerror(errno));
        n_bad++;
    }
    su_error err = {{0}};
    const char *bad = fuzz_find_target(target)->fn(&ctx, buf, k, &err);
    if (bad) {
        fprintf(stderr, "mkseeds: seed %s breaks a check: %s (%s)\n", path, bad, err.msg);
        n_bad++;
    }
    n_seeds++;
    free(buf);
}

static unsigned char *slurp(const char *path, size_t max, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = malloc(max ? max : 1);
    *n = buf ? fread(buf, 1, max, f) : 0;
    fclose(f);
    return buf;
}

static void emit_file(const char *target, const char *name, int sel, const char *path, size_t max) {
    size_t n = 0;
    unsigned char *d = slurp(path, max, &n);
    if (d) emit(target, name, sel, d, n);
    free(d);
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* A 12x12x2 crop of one sample phase around the heart (the labels' centroid), written with the
 * library's writer in the image's own datatype (.nii and .nii.gz) and as a label map. */
static void nifti_crops(const su_patient *p, int phase) {
    su_volume img;
    uint8_t *lab = NULL;
    su_error err = {{0}};
    if (su_acdc_load(&img, &lab, p, phase, &err)) {
        fprintf(stderr, "mkseeds: %s\n", err.msg);
        n_bad++;
        return;
    }
    double sx = 0, sy = 0, sz = 0, cnt = 0;
    for (int z = 0; z < img.nz; z++)
        for (int y = 0; y < img.ny; y++)
            for (int x = 0; x < img.nx; x++)
                if (lab[((size_t)z * img.ny + y) * img.nx + x]) sx += x, sy += y, sz += z, cnt++;
    enum { W = 12, H = 12, D = 2 };
    int x0 = cnt ? (int)(sx / cnt) - W / 2 : img.nx / 2 - W / 2;
    int y0 = cnt ? (int)(sy / cnt) - H / 2 : img.ny / 2 - H / 2;
    int z0 = cnt ? (int)(sz / cnt) - D / 2 : img.nz / 2 - D / 2;
    if (x0 > img.nx - W) x0 = img.nx - W;
    if (y0 > img.ny - H) y0 = img.ny - H;
    if (z0 > img.nz - D) z0 = img.nz - D;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (z0 < 0) z0 = 0;
    float crop[W * H * D];
    uint8_t lcrop[W * H * D];
    for (int z = 0; z < D; z++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                size_t src = ((size_t)(z0 + z) * img.ny + (y0 + y)) * img.nx + (x0 + x);
                crop[(z * H + y) * W + x] = img.data[src];
                lcrop[(z * H + y) * W + x] = lab[src];
            }
    su_volume like = img;
    like.nx = W, like.ny = H, like.nz = D;
    static const char *const ext[2] = {".nii", ".nii.gz"};
    for (int g = 0; g < 2; g++) {
        char path[800], name[128];
        snprintf(path, sizeof path, "%s/crop%s", ctx.dir, ext[g]);
        if (su_nifti_write(path, crop, img.datatype, &like, &err) == 0) {
            snprintf(name, sizeof name, "%s-%s-%s%s", p->id, su_phase_name(phase),
                     su_nifti_dtype_name(img.datatype), ext[g]);
            /* plain: read + round trip; gzip: read + labels (fails on the image's values) */
            emit_file("nifti", name, g ? 0x03 : 0x10, path, 1 << 20);
        } else {
            fprintf(stderr, "mkseeds: %s\n", err.msg);
            n_bad++;
        }
        snprintf(path, sizeof path, "%s/crop_gt%s", ctx.dir, ext[g]);
        if (su_nifti_write_labels(path, lcrop, &like, &err) == 0) {
            snprintf(name, sizeof name, "%s-%s-gt%s", p->id, su_phase_name(phase), ext[g]);
            emit_file("nifti", name, g ? 0x01 : 0x13, path, 1 << 20);
        } else {
            fprintf(stderr, "mkseeds: %s\n", err.msg);
            n_bad++;
        }
    }
    su_volume_free(&img);
    free(lab);
}

static void sample_seeds(void) {
    su_dataset ds;
    su_error err = {{0}};
    if (su_acdc_scan(&ds, "data/acdc-sample", &err)) {
        fprintf(stderr, "mkseeds: no sample (%s); seeds from the shared cases and writers only\n", err.msg);
        return;
    }
    for (int i = 0; i < ds.n_patients; i++) {
        const su_patient *p = &ds.patients[i];
        char path[1200], name[128];
        snprintf(path, sizeof path, "data/acdc-sample/%s/Info.cfg", p->id);
        snprintf(name, sizeof name, "%s.cfg", p->id);
        emit_file("info", name, -1, path, 1 << 16);
        nifti_crops(p, i % 2 ? SU_ES : SU_ED);
    }
    /* one whole label map (small compressed, 241k voxels), and the head of a real image */
    int last = ds.n_patients - 1;
    emit_file("nifti", "whole-gt.nii.gz", 0x01, ds.patients[last].label_path[SU_ED], 1 << 16);
    emit_file("nifti", "truncated-image.nii.gz", 0x00, ds.patients[last].image_path[SU_ED], 4096);
    /* Info.cfg with CRLF line ends and the fields in another order */
    static const char crlf[] = "Group: NOR\r\nNbFrame: 12\r\nES: 9\r\nED: 1\r\nWeight: 70.5\r\nHeight: 172\r\n";
    emit("info", "crlf.cfg", -1, crlf, sizeof crlf - 1);
    su_acdc_free(&ds);
}

static void shared_seeds(void) {
    const char *shared = getenv("SU_SHARED");
    char cases[1024];
    snprintf(cases, sizeof cases, "%s/cases", shared && *shared ? shared : "../shared");
    DIR *d = opendir(cases);
    if (!d) {
        fprintf(stderr, "mkseeds: no %s; seeds from the sample and writers only\n", cases);
        return;
    }
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char **v = realloc(names, (n + 1) * sizeof *v);
        if (!v) break;
        names = v;
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        if (!names[i]) continue;
        /* files of the case folder and of one level below (patient folders) */
        char dir[1400];
        snprintf(dir, sizeof dir, "%s/%s", cases, names[i]);
        for (int level = 0; level < 2; level++) {
            DIR *cd = opendir(dir);
            if (!cd) break;
            char sub[1400] = "";
            while ((e = readdir(cd)) != NULL) {
                if (e->d_name[0] == '.') continue;
                char path[2900], name[300];
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                struct stat st;
                if (stat(path, &st) != 0) continue;
                if (S_ISDIR(st.st_mode)) {
                    if (!sub[0]) snprintf(sub, sizeof sub, "%s", path);
                    continue;
                }
                snprintf(name, sizeof name, "%s-%s", names[i], e->d_name);
                if (ends_with(e->d_name, ".nii.gz") && st.st_size <= 65536) {
                    int lab = strstr(e->d_name, "_gt") || strstr(e->d_name, "label");
                    emit_file("nifti", name, lab ? 0x13 : 0x10, path, 65536);
                } else if (!strcmp(e->d_name, "Info.cfg")) {
                    emit_file("info", name, -1, path, 65536);
                }
            }
            closedir(cd);
            if (!sub[0]) break;
            snprintf(dir, sizeof dir, "%s", sub);
        }
        free(names[i]);
    }
    free(names);
}

static void checkpoint_seeds(void) {
    char path[800];
    snprintf(path, sizeof path, "%s/seed.safetensors", ctx.dir);
    su_error err = {{0}};
    float w[6] = {0.5f, -1.25f, 3.0f, 0.0f, 1e-3f, -7.5f}, mean[2] = {0.1f, 0.2f};
    int64_t step = 1234;
    uint8_t mask[5] = {0, 1, 2, 3, 255};
    su_split sp;
    char *split_json = NULL;
    if (su_split_by_patient(&sp, &ctx.ds, 0.34, 42, &err) == 0) {
        if (su_split_format(&split_json, &sp, &ctx.ds, &err)) split_json = NULL;
        su_split_free(&sp);
    }
    su_checkpoint_tensor t[] = {
        {"conv1.weight", SU_CKPT_F32, 3, {2, 1, 3}, w},
        {"bn1.running_mean", SU_CKPT_F32, 1, {2}, mean},
        {"step", SU_CKPT_I64, 0, {0}, &step},
        {"mask", SU_CKPT_U8, 1, {5}, mask},
    };
    su_checkpoint_meta m[] = {
        {"config", "{\"model\":\"spiking\",\"base\":8,\"timesteps\":4,\"beta\":0.9}"},
        {"epoch", "3"},
        {"rng", "12345678901234567890"},
        {"split", split_json ? split_json : "{}"},
    };
    struct {
        const char *name;
        const su_checkpoint_tensor *t;
        size_t nt;
        const su_checkpoint_meta *m;
        size_t nm;
    } files[] = {
        {"model.safetensors", t, 4, m, 4},
        {"meta-only.safetensors", NULL, 0, m, 2},
        {"one-tensor.safetensors", t + 2, 1, NULL, 0},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (su_checkpoint_write(path, files[i].t, files[i].nt, files[i].m, files[i].nm, &err)) {
            fprintf(stderr, "mkseeds: %s\n", err.msg);
            n_bad++;
            continue;
        }
        emit_file("checkpoint", files[i].name, -1, path, 1 << 16);
    }
    /* by hand: no checksums (as Python's safetensors writes), zero-sized tensors */
    static const char *const hdrs[] = {
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"__metadata__\":{\"k\":\"v\"}}",
        "{\"z\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]},"
        "\"e\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]},"
        "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}",
    };
    static const unsigned char payload[2][4] = {{0, 0, 128, 63}, {7, 9, 0, 0}};
    static const size_t payload_n[2] = {4, 2};
    for (int i = 0; i < 2; i++) {
        unsigned char buf[512];
        size_t hl = strlen(hdrs[i]), padded = (hl + 7) / 8 * 8;
        for (int b = 0; b < 8; b++) buf[b] = (unsigned char)((uint64_t)padded >> (8 * b));
        memcpy(buf + 8, hdrs[i], hl);
        memset(buf + 8 + hl, ' ', padded - hl);
        memcpy(buf + 8 + padded, payload[i], payload_n[i]);
        emit("checkpoint", i ? "zero-sized.safetensors" : "no-crc.safetensors", -1, buf, 8 + padded + payload_n[i]);
    }
    if (split_json) emit("split", "by-patient.json", -1, split_json, strlen(split_json));
    free(split_json);
    if (su_split_by_volume(&sp, &ctx.ds, 0.25, 7, &err) == 0) {
        if (su_split_format(&split_json, &sp, &ctx.ds, &err) == 0) {
            emit("split", "by-volume.json", -1, split_json, strlen(split_json));
            free(split_json);
        }
        su_split_free(&sp);
    }
    static const char empty[] = "{\"method\":\"patient\",\"seed\":\"1\",\"val_fraction\":0.5,\"train\":[],\"val\":[]}";
    emit("split", "empty.json", -1, empty, sizeof empty - 1);
}

static void args_seeds(void) {
    static const struct {
        const char *name;
        int sel;
        const char *argv; /* NUL-separated */
        size_t n;
    } a[] = {
#define A(name, sel, s) {name, sel, s, sizeof s - 1}
        A("train", 0, "--data\0data/acdc-sample\0--model\0spiking\0--epochs\0003\0--lr=1e-3\0--resume"),
        A("positional", 2, "run1\0run2\0--out=x.svg"),
        A("help", 0, "--help"),
        A("numbers", 0, "--val-fraction\0.25\0--seed=-1\0--epochs=2147483647\0--lr\0-inf"),
        A("missing-value", 0, "--epochs"),
        A("flag-value", 8, "--resume=1\0-"),
#undef A
    };
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) emit("args", a[i].name, a[i].sel, a[i].argv, a[i].n);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: mkseeds OUT   (run from the repository root)\n");
        return 2;
    }
    out_dir = argv[1];
    if (fuzz_ctx_init(&ctx)) {
        fprintf(stderr, "mkseeds: cannot make a scratch folder under $TMPDIR\n");
        return 1;
    }
    sample_seeds();
    shared_seeds();
    checkpoint_seeds();
    args_seeds();
    fuzz_ctx_free(&ctx);
    printf("mkseeds: %d seeds in %s%s\n", n_seeds, out_dir, n_bad ? " (with problems, see above)" : "");
    return n_bad ? 1 : 0;
}
