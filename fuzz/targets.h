/* Fuzz entry points, shared by the libFuzzer harness (fuzz/fuzzer.c) and the regression replay
 * (tests/test_fuzz_regress.c), so that a committed input runs through exactly the same code.
 *
 * Each target takes one input, feeds it to a parser of outside input through the public API and
 * then checks what came back (the oracle): on failure a message that names the file and nothing
 * left allocated; on success values inside their documented ranges, and a write + read round trip
 * that gives the same thing back. It returns NULL when all holds, else what was violated; the
 * harness aborts on that, so libFuzzer records the input like any crash.
 *
 *   nifti       byte 0 selects (see fuzz_nifti), the rest is a .nii/.nii.gz file
 *   info        an Info.cfg: su_acdc_read_info, then su_acdc_scan of a patient folder holding it
 *   checkpoint  a safetensors file: su_checkpoint_read_memory (+ metadata through su_split_parse)
 *   split       a split JSON (as saved with a run / in a checkpoint): su_split_parse
 *   args        byte 0 selects positionals, the rest is argv split at NUL bytes: cli_parse */
#ifndef SPIKEUNET_FUZZ_TARGETS_H
#define SPIKEUNET_FUZZ_TARGETS_H

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "spikeunet/acdc.h"
#include "spikeunet/checkpoint.h"
#include "spikeunet/nifti.h"

#include "../src/cli/cli.h"

#define FUZZ_PATIENT "patient042"
#define FUZZ_FRAMES 12       /* image files frame01..frame12 exist in the patient folder */
#define FUZZ_NO_GT_FRAME 7   /* ... and every frame but this one has a _gt file */
#define FUZZ_MAX_ARGS 64

typedef struct fuzz_ctx {
    char dir[512];     /* private scratch folder, removed by fuzz_ctx_free */
    char patient[600]; /* dir/patient042: Info.cfg and empty frame files */
    char path[700];    /* scratch file name for the current input */
    su_patient pats[6];
    su_dataset ds; /* six fixed patients (patient001..patient006) for split JSON */
} fuzz_ctx;

typedef const char *(*fuzz_fn)(fuzz_ctx *c, const uint8_t *d, size_t n, su_error *err);

static int fuzz_write(const char *path, const void *d, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = n == 0 || fwrite(d, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

static void fuzz_remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            fuzz_remove_tree(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int fuzz_ctx_init(fuzz_ctx *c) {
    memset(c, 0, sizeof *c);
    const char *base = getenv("TMPDIR");
    snprintf(c->dir, sizeof c->dir, "%s/su_fuzz_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(c->dir)) return -1;
    snprintf(c->patient, sizeof c->patient, "%s/" FUZZ_PATIENT, c->dir);
    if (mkdir(c->patient, 0755) != 0) return -1;
    for (int fr = 1; fr <= FUZZ_FRAMES; fr++) {
        char p[800];
        snprintf(p, sizeof p, "%s/" FUZZ_PATIENT "_frame%02d.nii.gz", c->patient, fr);
        if (fuzz_write(p, "", 0)) return -1;
        if (fr == FUZZ_NO_GT_FRAME) continue;
        snprintf(p, sizeof p, "%s/" FUZZ_PATIENT "_frame%02d_gt.nii.gz", c->patient, fr);
        if (fuzz_write(p, "", 0)) return -1;
    }
    static const char *const groups[6] = {"DCM", "HCM", "MINF", "NOR", "RV", "NOR"};
    for (int i = 0; i < 6; i++) {
        snprintf(c->pats[i].id, sizeof c->pats[i].id, "patient%03d", i + 1);
        c->pats[i].number = i + 1;
        snprintf(c->pats[i].group, sizeof c->pats[i].group, "%s", groups[i]);
    }
    c->ds.patients = c->pats;
    c->ds.n_patients = 6;
    return 0;
}

static void fuzz_ctx_free(fuzz_ctx *c) {
    if (c->dir[0]) fuzz_remove_tree(c->dir);
    c->dir[0] = 0;
}

/* gzip (not zlib) framing, as a .nii.gz holds; NULL on failure. */
static unsigned char *fuzz_gzip(const uint8_t *d, size_t n, size_t *out_n) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = deflateBound(&z, (uLong)n) + 32;
    unsigned char *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)d;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_n = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

/* A failed call: a message naming `what`, nothing handed out. */
static const char *fuzz_check_failure(const su_error *err, const char *what) {
    if (!err->msg[0]) return "failed without a message";
    if (what && !strstr(err->msg, what)) return "failure message does not name the file";
    return NULL;
}

static int fuzz_is_zero(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

static const char *fuzz_check_geometry(const su_volume *v) {
    if (v->nx < 1 || v->ny < 1 || v->nz < 1 || v->nx > SU_NIFTI_MAX_DIM || v->ny > SU_NIFTI_MAX_DIM ||
        v->nz > SU_NIFTI_MAX_DIM || (long)v->nx * v->ny * v->nz > SU_NIFTI_MAX_VOXELS)
        return "accepted a volume with a shape out of range";
    if (!(v->dx > 0 && v->dy > 0 && v->dz > 0 && isfinite(v->dx) && isfinite(v->dy) && isfinite(v->dz)))
        return "accepted a volume with a bad spacing";
    if (!strcmp(su_nifti_dtype_name(v->datatype), "unsupported")) return "accepted an unsupported datatype";
    int sizeof_hdr;
    memcpy(&sizeof_hdr, v->header, sizeof sizeof_hdr);
    if (sizeof_hdr != SU_NIFTI_HEADER_SIZE) return "header not in native byte order";
    return NULL;
}

/* Byte 0: bits 0-1 the call (0 su_nifti_read, 1 su_nifti_read_labels, 2 su_nifti_read_header,
 * 3 read + read_labels), bit 2 gzip the rest before writing it (so mutations of a plain header
 * also reach the inflate path), bit 3 name the file .nii instead of .nii.gz (the reader must not
 * care), bit 4 write what was read back out (su_nifti_write / su_nifti_write_labels) and read it
 * again: same shape, spacing and values. */
static const char *fuzz_nifti(fuzz_ctx *c, const uint8_t *d, size_t n, su_error *err) {
    err->msg[0] = 0;
    if (n < 1) return NULL;
    unsigned sel = d[0];
    d++, n--;
    snprintf(c->path, sizeof c->path, "%s/in%s", c->dir, (sel & 8) ? ".nii" : ".nii.gz");
    int wrote;
    if (sel & 4) {
        size_t gn = 0;
        unsigned char *g = fuzz_gzip(d, n, &gn);
        if (!g) return NULL;
        wrote = fuzz_write(c->path, g, gn);
        free(g);
    } else {
        wrote = fuzz_write(c->path, d, n);
    }
    if (wrote) return NULL; /* scratch disk full: not the reader's fault */

    const char *bad = NULL;
    int mode = sel & 3;
    su_volume vol, geom;
    uint8_t *labels = (uint8_t *)c; /* must be reset by the call */
    memset(&vol, 0xA5, sizeof vol);
    memset(&geom, 0xA5, sizeof geom);
    int rc_img = -2, rc_lab = -2;
    char path_out[760];
    snprintf(path_out, sizeof path_out, "%s/out%s", c->dir, (sel & 8) ? ".nii" : ".nii.gz");

    if (mode == 0 || mode == 3) {
        rc_img = su_nifti_read(&vol, c->path, err);
        if (rc_img) {
            if ((bad = fuzz_check_failure(err, c->path))) return bad;
            if (!fuzz_is_zero(&vol, sizeof vol)) return "su_nifti_read failed but left the volume filled";
            if (mode == 0) return NULL;
        } else {
            if ((bad = fuzz_check_geometry(&vol))) goto out;
            if (!vol.data) { bad = "su_nifti_read succeeded without data"; goto out; }
            size_t nv = su_volume_voxels(&vol);
            for (size_t i = 0; i < nv; i++)
                if (!isfinite(vol.data[i])) { bad = "su_nifti_read returned a non-finite voxel"; goto out; }
            if (sel & 16) {
                su_error e2 = {{0}};
                su_volume back;
                if (su_nifti_write(path_out, vol.data, SU_DT_FLOAT32, &vol, &e2)) {
                    bad = "su_nifti_write refused a volume su_nifti_read returned";
                    goto out;
                }
                if (su_nifti_read(&back, path_out, &e2)) { bad = "cannot read back a written volume"; goto out; }
                if (back.nx != vol.nx || back.ny != vol.ny || back.nz != vol.nz || back.dx != vol.dx ||
                    back.dy != vol.dy || back.dz != vol.dz || memcmp(back.data, vol.data, nv * sizeof *vol.data))
                    bad = "volume changed in a write + read round trip";
                su_volume_free(&back);
                if (bad) goto out;
            }
        }
    }
    if (mode == 1 || mode == 3) {
        err->msg[0] = 0;
        rc_lab = su_nifti_read_labels(&labels, &geom, c->path, err);
        if (rc_lab) {
            if ((bad = fuzz_check_failure(err, c->path))) goto out;
            if (labels) { bad = "su_nifti_read_labels failed but returned labels"; goto out; }
            if (!fuzz_is_zero(&geom, sizeof geom)) { bad = "su_nifti_read_labels failed but left geom filled"; goto out; }
        } else {
            if ((bad = fuzz_check_geometry(&geom))) goto out;
            if (geom.data || !labels) { bad = "su_nifti_read_labels: bad data pointers"; goto out; }
            size_t nv = su_volume_voxels(&geom);
            for (size_t i = 0; i < nv; i++)
                if (labels[i] > 3) { bad = "su_nifti_read_labels returned a label above 3"; goto out; }
            if (rc_img == 0) {
                if (geom.nx != vol.nx || geom.ny != vol.ny || geom.nz != vol.nz || geom.dx != vol.dx)
                    { bad = "image and label reads disagree on the geometry"; goto out; }
                for (size_t i = 0; i < nv; i++)
                    if ((float)labels[i] != vol.data[i]) { bad = "image and label reads disagree on a value"; goto out; }
            }
            if (sel & 16) {
                su_error e2 = {{0}};
                uint8_t *back = NULL;
                if (su_nifti_write_labels(path_out, labels, &geom, &e2)) {
                    bad = "su_nifti_write_labels refused labels su_nifti_read_labels returned";
                    goto out;
                }
                if (su_nifti_read_labels(&back, NULL, path_out, &e2)) { bad = "cannot read back written labels"; goto out; }
                if (memcmp(back, labels, nv)) bad = "labels changed in a write + read round trip";
                free(back);
                if (bad) goto out;
            }
        }
        if (mode == 3 && rc_img != 0 && rc_lab == 0) {
            bad = "labels read from a file that fails as an image";
            goto out;
        }
        if (rc_img == 0 && rc_lab != 0 && !strstr(err->msg, "label")) {
            bad = "an image that reads fine fails as labels for a reason other than its values";
            goto out;
        }
    }
    if (mode == 2) {
        int rc = su_nifti_read_header(&vol, c->path, err);
        if (rc) {
            if ((bad = fuzz_check_failure(err, c->path))) return bad;
            if (!fuzz_is_zero(&vol, sizeof vol)) return "su_nifti_read_header failed but left the volume filled";
        } else {
            if ((bad = fuzz_check_geometry(&vol))) return bad;
            if (vol.data) return "su_nifti_read_header returned data";
        }
        return NULL;
    }
out:
    if (rc_img == 0) su_volume_free(&vol);
    if (rc_lab == 0) free(labels);
    return bad;
}

/* An Info.cfg, read alone and then through su_acdc_scan of a patient folder whose image files are
 * frame01..frame12 (each with a _gt file but frame07): the scan must succeed exactly when the
 * Info.cfg parses and names existing frames with ground truth for both or neither. */
static const char *fuzz_info(fuzz_ctx *c, const uint8_t *d, size_t n, su_error *err) {
    err->msg[0] = 0;
    snprintf(c->path, sizeof c->path, "%s/Info.cfg", c->patient);
    if (fuzz_write(c->path, d, n)) return NULL;
    su_patient p;
    memset(&p, 0, sizeof p);
    int rc = su_acdc_read_info(&p, c->path, err);
    const char *bad;
    if (rc) {
        if ((bad = fuzz_check_failure(err, c->path))) return bad;
    } else {
        if (p.ed_frame < 1 || p.es_frame < 1 || p.nb_frame < 0) return "accepted a frame number below 1";
        if (p.nb_frame && (p.ed_frame > p.nb_frame || p.es_frame > p.nb_frame)) return "accepted a frame beyond NbFrame";
        if (!memchr(p.group, 0, sizeof p.group) || !p.group[0]) return "group empty or not terminated";
        for (const char *g = p.group; *g; g++)
            if (!(isalnum((unsigned char)*g) || *g == '_' || *g == '-')) return "group holds an odd character";
        if (!(p.height_cm >= 0 && p.weight_kg >= 0 && isfinite(p.height_cm) && isfinite(p.weight_kg)))
            return "accepted a negative or non-finite height/weight";
    }
    su_dataset ds;
    su_error e2 = {{0}};
    int rs = su_acdc_scan(&ds, c->patient, &e2);
    int frames_ok = !rc && p.ed_frame <= FUZZ_FRAMES && p.es_frame <= FUZZ_FRAMES &&
                    (p.ed_frame == FUZZ_NO_GT_FRAME) == (p.es_frame == FUZZ_NO_GT_FRAME);
    if (rs) {
        if (!e2.msg[0]) return "su_acdc_scan failed without a message";
        if (ds.patients || ds.n_patients) return "su_acdc_scan failed but returned patients";
        if (frames_ok) return "su_acdc_scan refused a patient folder that is complete";
        return NULL;
    }
    if (!frames_ok) bad = "su_acdc_scan accepted a patient folder it should refuse";
    else if (ds.n_patients != 1 || strcmp(ds.patients[0].id, FUZZ_PATIENT)) bad = "su_acdc_scan: wrong patient";
    else if (ds.patients[0].ed_frame != p.ed_frame || ds.patients[0].es_frame != p.es_frame ||
             strcmp(ds.patients[0].group, p.group))
        bad = "su_acdc_scan and su_acdc_read_info disagree";
    else if (ds.patients[0].has_gt != (p.ed_frame != FUZZ_NO_GT_FRAME)) bad = "su_acdc_scan: wrong has_gt";
    else bad = NULL;
    su_acdc_free(&ds);
    return bad;
}

static int fuzz_is_crc_key(const char *k) { return !strcmp(k, "crc32") || !strcmp(k, "crc32_header"); }

static const char *fuzz_split_check(fuzz_ctx *c, const char *json, su_error *err);

/* A safetensors file from memory. Accepted files must tile their data section exactly, give
 * every tensor back through su_checkpoint_get, and survive su_checkpoint_write + su_checkpoint_read
 * unchanged; every metadata value also goes through su_split_parse (the run's split travels there). */
static const char *fuzz_checkpoint(fuzz_ctx *c, const uint8_t *d, size_t n, su_error *err) {
    err->msg[0] = 0;
    su_checkpoint ck;
    memset(&ck, 0xA5, sizeof ck);
    static const char label[] = "fuzz.safetensors";
    if (su_checkpoint_read_memory(&ck, d, n, label, err)) {
        const char *bad = fuzz_check_failure(err, label);
        if (bad) return bad;
        if (!fuzz_is_zero(&ck, sizeof ck)) return "su_checkpoint_read_memory failed but left the handle filled";
        return NULL;
    }
    const char *bad = NULL;
    su_checkpoint back;
    memset(&back, 0, sizeof back);
    su_checkpoint_meta *meta = NULL;
    unsigned char *buf = NULL;
    const unsigned char *base = ck.n_tensors ? ck.tensors[0].data : NULL;
    size_t pos = 0;
    for (size_t i = 0; i < ck.n_tensors && !bad; i++) {
        const su_checkpoint_tensor *t = &ck.tensors[i];
        uint64_t bytes = su_checkpoint_tensor_bytes(t);
        if (!t->name || !su_checkpoint_dtype_name(t->dtype) || t->ndim < 0 || t->ndim > SU_CHECKPOINT_MAX_DIMS)
            bad = "accepted a tensor with a bad name, dtype or rank";
        else if ((const unsigned char *)t->data != base + pos || bytes > ck.data_bytes - pos)
            bad = "tensors do not tile the data section";
        else if (su_checkpoint_find(&ck, t->name) != t)
            bad = "su_checkpoint_find does not find a tensor by its name";
        pos += (size_t)bytes;
        if (bad) break;
        free(buf);
        buf = malloc(bytes ? (size_t)bytes : 1);
        if (!buf) break;
        su_error e2 = {{0}};
        if (su_checkpoint_get(&ck, t->name, t->dtype, t->ndim, t->shape, buf, &e2))
            bad = "su_checkpoint_get refused a tensor's own dtype and shape";
        else if (bytes && memcmp(buf, t->data, (size_t)bytes))
            bad = "su_checkpoint_get copied different bytes";
    }
    if (!bad && pos != ck.data_bytes) bad = "tensors do not cover the data section";
    if (bad) goto out;
    meta = calloc(ck.n_meta + 1, sizeof *meta);
    size_t nm = 0;
    for (size_t i = 0; meta && i < ck.n_meta; i++) {
        if (i && strcmp(ck.meta[i - 1].key, ck.meta[i].key) >= 0) { bad = "metadata not sorted or duplicated"; goto out; }
        if (su_checkpoint_meta_get(&ck, ck.meta[i].key) != ck.meta[i].value) { bad = "su_checkpoint_meta_get misses a key"; goto out; }
        su_error e_split = {{0}};
        if ((bad = fuzz_split_check(c, ck.meta[i].value, &e_split))) {
            snprintf(err->msg, sizeof err->msg, "metadata '%.100s': %.800s", ck.meta[i].key, e_split.msg);
            goto out;
        }
        if (!fuzz_is_crc_key(ck.meta[i].key)) meta[nm++] = ck.meta[i];
    }
    if (!meta) goto out;

    /* round trip through the writer and the file reader */
    snprintf(c->path, sizeof c->path, "%s/ck.safetensors", c->dir);
    su_error e3 = {{0}};
    if (su_checkpoint_write(c->path, ck.tensors, ck.n_tensors, meta, nm, &e3)) {
        /* the reader checks structure, not text: a name or value that is not UTF-8 (or a tensor
         * named like a reserved key) is for the writer to refuse */
        if (!strstr(e3.msg, "UTF-8")) bad = "su_checkpoint_write refused what su_checkpoint_read accepted";
        goto out;
    }
    if (su_checkpoint_read(&back, c->path, &e3)) { bad = "cannot read back a written checkpoint"; goto out; }
    if (back.n_tensors != ck.n_tensors || back.data_bytes != ck.data_bytes || !back.has_crc32 ||
        back.n_meta != nm + 2) {
        bad = "checkpoint changed in a write + read round trip (counts)";
        goto out;
    }
    for (size_t i = 0; i < ck.n_tensors; i++) {
        const su_checkpoint_tensor *a = &ck.tensors[i], *b = &back.tensors[i];
        if (strcmp(a->name, b->name) || a->dtype != b->dtype || a->ndim != b->ndim ||
            memcmp(a->shape, b->shape, sizeof a->shape) ||
            memcmp(a->data, b->data, (size_t)su_checkpoint_tensor_bytes(a))) {
            bad = "checkpoint changed in a write + read round trip (tensor)";
            goto out;
        }
    }
    for (size_t i = 0; i < nm; i++) {
        const char *v = su_checkpoint_meta_get(&back, meta[i].key);
        if (!v || strcmp(v, meta[i].value)) { bad = "checkpoint changed in a write + read round trip (metadata)"; goto out; }
    }
out:
    free(buf);
    free(meta);
    su_checkpoint_free(&back);
    su_checkpoint_free(&ck);
    return bad;
}

/* su_split_parse against six fixed patients; an accepted split names each volume at most once,
 * in ascending order, and comes back the same through su_split_format. */
static const char *fuzz_split_check(fuzz_ctx *c, const char *json, su_error *err) {
    su_split s;
    memset(&s, 0xA5, sizeof s);
    su_error e = {{0}};
    if (su_split_parse(&s, &c->ds, json, &e)) {
        if (!e.msg[0]) return "su_split_parse failed without a message";
        if (s.train || s.val) return "su_split_parse failed but left arrays";
        snprintf(err->msg, sizeof err->msg, "%s", e.msg);
        return NULL;
    }
    const char *bad = NULL;
    int nv = 2 * c->ds.n_patients;
    unsigned char seen[64] = {0};
    if (s.n_train < 0 || s.n_val < 0 || s.n_train + s.n_val > nv) bad = "split has too many volumes";
    for (int k = 0; !bad && k < 2; k++) {
        const int *v = k ? s.val : s.train;
        int cnt = k ? s.n_val : s.n_train;
        for (int i = 0; i < cnt && !bad; i++) {
            if (v[i] < 0 || v[i] >= nv) bad = "split holds a volume index outside the data set";
            else if (i && v[i] <= v[i - 1]) bad = "split indices not strictly ascending";
            else if (seen[v[i]]++) bad = "split names a volume twice";
        }
    }
    char *text = NULL;
    su_split again;
    memset(&again, 0, sizeof again);
    if (!bad && su_split_format(&text, &s, &c->ds, &e)) bad = "su_split_format refused a parsed split";
    if (!bad && su_split_parse(&again, &c->ds, text, &e)) bad = "su_split_parse refused su_split_format's JSON";
    if (!bad && (again.n_train != s.n_train || again.n_val != s.n_val || again.method != s.method ||
                 again.seed != s.seed ||
                 memcmp(again.train, s.train, (size_t)s.n_train * sizeof *s.train) ||
                 memcmp(again.val, s.val, (size_t)s.n_val * sizeof *s.val)))
        bad = "split changed in a format + parse round trip";
    free(text);
    su_split_free(&again);
    su_split_free(&s);
    return bad;
}

static const char *fuzz_split(fuzz_ctx *c, const uint8_t *d, size_t n, su_error *err) {
    err->msg[0] = 0;
    char *json = malloc(n + 1);
    if (!json) return NULL;
    if (n) memcpy(json, d, n);
    json[n] = 0;
    const char *bad = fuzz_split_check(c, json, err);
    free(json);
    return bad;
}

/* cli_parse over a representative option table (every option type, flags, '=' forms); byte 0
 * bits 0-2: how many positional arguments are allowed; bit 3: pass the positional array even when
 * that is 0 (otherwise NULL: positionals refused). */
static const char *fuzz_args(fuzz_ctx *c, const uint8_t *d, size_t n, su_error *err) {
    (void)c;
    err->msg[0] = 0;
    if (n < 1) return NULL;
    unsigned sel = d[0];
    d++, n--;
    char *buf = malloc(n + 1);
    if (!buf) return NULL;
    if (n) memcpy(buf, d, n);
    buf[n] = 0;
    char *argv[FUZZ_MAX_ARGS + 1];
    char prog[] = "spikeunet-fuzz";
    int argc = 0;
    argv[argc++] = prog;
    for (size_t i = 0; i <= n && argc < FUZZ_MAX_ARGS;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;

    int epochs = 10, flag = 0, seed = 42;
    float lr = 1e-3f, frac = 0.2f;
    static const char data_default[] = "data/acdc-sample";
    const char *data = data_default, *model = NULL, *out = NULL;
    const cli_opt opts[] = {
        {"--data", OPT_STRING, &data, "DIR", "ACDC folder"},
        {"--model", OPT_STRING, &model, "NAME", "unet or spiking"},
        {"--out", OPT_STRING, &out, "RUN", "run folder"},
        {"--epochs", OPT_INT, &epochs, "N", "epochs"},
        {"--seed", OPT_INT, &seed, "N", "seed"},
        {"--lr", OPT_FLOAT, &lr, "X", "learning rate"},
        {"--val-fraction", OPT_FLOAT, &frac, "F", "validation share"},
        {"--resume", OPT_FLAG, &flag, NULL, "resume"},
        {NULL, OPT_FLAG, NULL, NULL, NULL},
    };
    const cli_command cmd = {"fuzz", "fuzz the flag parser", "spikeunet-fuzz [options] [FILE...]", NULL, NULL};
    const char *pos[8];
    int max_pos = (int)(sel & 7), npos = -1;
    int allow = max_pos > 0 || (sel & 8);
    int rc = cli_parse(&cmd, opts, argc, argv, allow ? pos : NULL, max_pos, &npos);
    snprintf(err->msg, sizeof err->msg, "cli_parse returned %d", rc);
    const char *bad = NULL;
    if (rc != CLI_OK && rc != CLI_USAGE && rc != -1) bad = "cli_parse returned an undocumented code";
    if (rc == CLI_OK) {
        if (npos < 0 || npos > max_pos || (!allow && npos)) bad = "cli_parse: positional count out of range";
        for (int i = 0; !bad && i < npos; i++)
            if (pos[i] < buf || pos[i] > buf + n) bad = "cli_parse: positional outside argv";
        const char *strs[3] = {data, model, out}, *defaults[3] = {data_default, NULL, NULL};
        for (int i = 0; !bad && i < 3; i++)
            if (strs[i] != defaults[i] && (strs[i] < buf || strs[i] > buf + n))
                bad = "cli_parse: string option outside argv";
        if (!bad && flag != 0 && flag != 1) bad = "cli_parse: flag not 0/1";
        if (!bad && (lr != lr || frac != frac)) bad = "cli_parse: accepted NaN";
    }
    (void)epochs, (void)seed;
    free(buf);
    return bad;
}

typedef struct fuzz_target {
    const char *name;
    fuzz_fn fn;
} fuzz_target;

static const fuzz_target fuzz_targets[] = {
    {"nifti", fuzz_nifti},
    {"info", fuzz_info},
    {"checkpoint", fuzz_checkpoint},
    {"split", fuzz_split},
    {"args", fuzz_args},
};
#define FUZZ_N_TARGETS (sizeof fuzz_targets / sizeof fuzz_targets[0])

static const fuzz_target *fuzz_find_target(const char *name) {
    for (size_t i = 0; i < FUZZ_N_TARGETS; i++)
        if (!strcmp(fuzz_targets[i].name, name)) return &fuzz_targets[i];
    return NULL;
}

#endif
