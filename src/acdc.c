/* Scanning ACDC folders and loading ED/ES volume pairs. */
#include "spikeunet/acdc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *su_phase_name(int phase) { return phase == SU_ES ? "ES" : "ED"; }

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int join(char *out, size_t cap, const char *dir, const char *name, su_error *err) {
    size_t len = strlen(dir);
    const char *sep = (len > 0 && dir[len - 1] == '/') ? "" : "/";
    int n = snprintf(out, cap, "%s%s%s", dir, sep, name);
    if (n < 0 || (size_t)n >= cap) return su_fail(err, "%s/%s: path too long", dir, name);
    return 0;
}

/* ---- Info.cfg ---------------------------------------------------------------------------- */

static char *trim(char *s) {
    while (*s && isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

static int parse_int(const char *text, int *out) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < -1000000 || v > 1000000) return -1;
    *out = (int)v;
    return 0;
}

static int parse_float(const char *text, float *out) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || fabs(v) > FLT_MAX) return -1; /* 1e39 is no float */
    *out = (float)v;
    return 0;
}

int su_acdc_read_info(su_patient *p, const char *path, su_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return su_fail(err, "%s: cannot open: %s", path, strerror(errno));
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int too_long = !feof(f) && n == sizeof buf - 1;
    int bad = ferror(f);
    fclose(f);
    if (bad) return su_fail(err, "%s: read error", path);
    if (too_long) return su_fail(err, "%s: malformed Info.cfg (larger than %zu bytes)", path, sizeof buf - 1);
    buf[n] = 0;
    if (memchr(buf, 0, n)) return su_fail(err, "%s: malformed Info.cfg (binary data)", path);

    int have_ed = 0, have_es = 0, have_group = 0;
    p->nb_frame = 0;
    p->height_cm = p->weight_kg = 0.0f;
    p->group[0] = 0;
    int lineno = 0;
    for (char *line = buf; line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = 0;
        lineno++;
        char *s = trim(line); /* also drops a CR before the LF */
        line = next;
        if (!*s) continue;
        char *colon = strchr(s, ':');
        if (!colon) return su_fail(err, "%s: line %d: malformed (expected 'Key: value'): '%.40s'", path, lineno, s);
        *colon = 0;
        char *key = trim(s), *val = trim(colon + 1);
        int rc = 0;
        if (!strcmp(key, "ED")) {
            rc = parse_int(val, &p->ed_frame);
            have_ed = 1;
        } else if (!strcmp(key, "ES")) {
            rc = parse_int(val, &p->es_frame);
            have_es = 1;
        } else if (!strcmp(key, "NbFrame")) {
            rc = parse_int(val, &p->nb_frame);
        } else if (!strcmp(key, "Height")) {
            rc = parse_float(val, &p->height_cm);
        } else if (!strcmp(key, "Weight")) {
            rc = parse_float(val, &p->weight_kg);
        } else if (!strcmp(key, "Group")) {
            size_t len = strlen(val);
            rc = (len == 0 || len >= sizeof p->group) ? -1 : 0;
            for (size_t i = 0; i < len && !rc; i++)
                if (!isalnum((unsigned char)val[i]) && val[i] != '_' && val[i] != '-') rc = -1;
            if (!rc) memcpy(p->group, val, len + 1);
            have_group = 1;
        }
        if (rc) return su_fail(err, "%s: line %d: malformed value '%.40s' for %s", path, lineno, val, key);
    }
    if (!have_ed) return su_fail(err, "%s: malformed Info.cfg: no ED line", path);
    if (!have_es) return su_fail(err, "%s: malformed Info.cfg: no ES line", path);
    if (!have_group) return su_fail(err, "%s: malformed Info.cfg: no Group line", path);
    if (p->ed_frame < 1 || p->es_frame < 1)
        return su_fail(err, "%s: malformed Info.cfg: frame numbers must be >= 1 (ED %d, ES %d)", path, p->ed_frame,
                       p->es_frame);
    if (p->nb_frame < 0) return su_fail(err, "%s: malformed Info.cfg: NbFrame %d", path, p->nb_frame);
    if (p->nb_frame > 0 && (p->ed_frame > p->nb_frame || p->es_frame > p->nb_frame))
        return su_fail(err, "%s: malformed Info.cfg: ED %d / ES %d beyond NbFrame %d", path, p->ed_frame,
                       p->es_frame, p->nb_frame);
    if (p->height_cm < 0 || p->weight_kg < 0)
        return su_fail(err, "%s: malformed Info.cfg: negative Height or Weight", path);
    return 0;
}

/* ---- one patient folder ------------------------------------------------------------------ */

static int name_number(const char *name) {
    const char *d = name + strlen(name);
    while (d > name && isdigit((unsigned char)d[-1])) d--;
    if (!*d || strlen(d) > 8) return -1;
    return atoi(d);
}

/* <dir>/<id>_frameXX<suffix>.nii.gz, else the .nii twin if only that exists; 0 when found. */
static int frame_file(char *out, size_t cap, const char *dir, const char *id, int frame, const char *suffix,
                      char *gz_name, size_t gz_cap, su_error *err) {
    char name[160];
    snprintf(name, sizeof name, "%s_frame%02d%s.nii.gz", id, frame, suffix);
    if (gz_name) snprintf(gz_name, gz_cap, "%s", name);
    if (join(out, cap, dir, name, err)) return -1;
    if (is_file(out)) return 0;
    name[strlen(name) - 3] = 0; /* drop ".gz" */
    char alt[SU_ACDC_PATH_MAX];
    if (join(alt, sizeof alt, dir, name, err)) return -1;
    if (is_file(alt)) {
        memcpy(out, alt, strlen(alt) + 1);
        return 0;
    }
    return 1;
}

static int scan_patient(su_patient *p, const char *dir, const char *id, su_error *err) {
    memset(p, 0, sizeof *p);
    if (strlen(id) >= sizeof p->id) return su_fail(err, "%s: patient folder name too long", dir);
    memcpy(p->id, id, strlen(id) + 1);
    p->number = name_number(id);
    char info[SU_ACDC_PATH_MAX];
    if (join(info, sizeof info, dir, "Info.cfg", err)) return -1;
    if (!is_file(info)) return su_fail(err, "%s: missing Info.cfg (%s)", id, info);
    if (su_acdc_read_info(p, info, err)) return -1;
    int gt = 0;
    for (int ph = 0; ph < 2; ph++) {
        int frame = ph == SU_ED ? p->ed_frame : p->es_frame;
        char want[160];
        int rc = frame_file(p->image_path[ph], sizeof p->image_path[ph], dir, id, frame, "", want, sizeof want, err);
        if (rc < 0) return -1;
        if (rc > 0)
            return su_fail(err, "%s: %s frame file %s does not exist (Info.cfg: %s %d)", id, su_phase_name(ph),
                           p->image_path[ph], su_phase_name(ph), frame);
        rc = frame_file(p->label_path[ph], sizeof p->label_path[ph], dir, id, frame, "_gt", NULL, 0, err);
        if (rc < 0) return -1;
        if (rc > 0)
            p->label_path[ph][0] = 0;
        else
            gt++;
    }
    if (gt == 1) {
        int missing = p->label_path[SU_ED][0] ? SU_ES : SU_ED;
        int frame = missing == SU_ED ? p->ed_frame : p->es_frame;
        return su_fail(err, "%s: ground truth %s_frame%02d_gt.nii.gz (%s) is missing but the other phase has one",
                       id, id, frame, su_phase_name(missing));
    }
    p->has_gt = gt == 2;
    return 0;
}

/* ---- folders ----------------------------------------------------------------------------- */

typedef struct plist {
    su_patient *v;
    int n, cap;
} plist;

static su_patient *plist_add(plist *l, su_error *err) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        su_patient *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) {
            su_fail(err, "out of memory for %d patients", cap);
            return NULL;
        }
        l->v = v;
        l->cap = cap;
    }
    return &l->v[l->n++];
}

static int is_patient_name(const char *name) {
    if (strncmp(name, "patient", 7) != 0 || !name[7]) return 0;
    for (const char *c = name + 7; *c; c++)
        if (!isdigit((unsigned char)*c)) return 0;
    return 1;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Adds every patientNNN/ folder of dir; returns how many, or -1. */
static int scan_split_dir(plist *l, const char *dir, su_error *err) {
    DIR *d = opendir(dir);
    if (!d) return su_fail(err, "%s: cannot open folder: %s", dir, strerror(errno));
    char **names = NULL;
    int n = 0, cap = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_patient_name(e->d_name)) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 128;
            char **v = realloc(names, (size_t)cap * sizeof *v);
            if (!v) {
                rc = su_fail(err, "%s: out of memory", dir);
                break;
            }
            names = v;
        }
        names[n] = strdup(e->d_name);
        if (!names[n]) {
            rc = su_fail(err, "%s: out of memory", dir);
            break;
        }
        n++;
    }
    closedir(d);
    if (!rc && n > 1) qsort(names, (size_t)n, sizeof *names, cmp_name);
    int added = 0;
    for (int i = 0; i < n && !rc; i++) {
        char sub[SU_ACDC_PATH_MAX];
        if (join(sub, sizeof sub, dir, names[i], err)) {
            rc = -1;
            break;
        }
        if (!is_dir(sub)) continue;
        su_patient *p = plist_add(l, err);
        if (!p) {
            rc = -1;
            break;
        }
        if (scan_patient(p, sub, names[i], err)) {
            l->n--;
            rc = -1;
            break;
        }
        added++;
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc ? -1 : added;
}

static int cmp_patient(const void *a, const void *b) {
    const su_patient *p = a, *q = b;
    if (p->number != q->number) return p->number < q->number ? -1 : 1;
    return strcmp(p->id, q->id);
}

int su_acdc_scan(su_dataset *ds, const char *dir, su_error *err) {
    ds->patients = NULL;
    ds->n_patients = 0;
    if (!is_dir(dir)) {
        struct stat st;
        if (stat(dir, &st) != 0) return su_fail(err, "%s: cannot open folder: %s", dir, strerror(errno));
        return su_fail(err, "%s: not a folder", dir);
    }
    plist l = {0};
    char path[SU_ACDC_PATH_MAX];
    if (join(path, sizeof path, dir, "Info.cfg", err)) return -1;
    if (is_file(path)) {
        /* one patient folder: its name is the last path component */
        char name[SU_ACDC_PATH_MAX];
        snprintf(name, sizeof name, "%s", dir);
        size_t len = strlen(name);
        while (len > 1 && name[len - 1] == '/') name[--len] = 0;
        const char *base = strrchr(name, '/');
        base = base ? base + 1 : name;
        if (!strcmp(base, ".") || !strcmp(base, "..") || !*base) {
            char *real = realpath(dir, NULL);
            if (real) {
                const char *b = strrchr(real, '/');
                snprintf(name, sizeof name, "%s", b ? b + 1 : real);
                free(real);
            }
            base = name;
        }
        su_patient *p = plist_add(&l, err);
        if (!p || scan_patient(p, dir, base, err)) {
            free(l.v);
            return -1;
        }
    } else {
        int n = scan_split_dir(&l, dir, err);
        if (n < 0) goto fail;
        if (n == 0) {
            static const char *const subs[] = {"training", "testing"};
            for (int i = 0; i < 2; i++) {
                if (join(path, sizeof path, dir, subs[i], err)) goto fail;
                if (is_dir(path) && scan_split_dir(&l, path, err) < 0) goto fail;
            }
        }
        if (l.n == 0) {
            free(l.v);
            return su_fail(err, "%s: no ACDC patients found (expected patientNNN/ folders, training/ or testing/, "
                                "or a patient folder with Info.cfg)",
                           dir);
        }
    }
    qsort(l.v, (size_t)l.n, sizeof *l.v, cmp_patient);
    for (int i = 1; i < l.n; i++)
        if (!strcmp(l.v[i].id, l.v[i - 1].id)) {
            su_fail(err, "%s: patient %s appears twice", dir, l.v[i].id);
            goto fail;
        }
    ds->patients = l.v;
    ds->n_patients = l.n;
    return 0;
fail:
    free(l.v);
    return -1;
}

void su_acdc_free(su_dataset *ds) {
    if (!ds) return;
    free(ds->patients);
    ds->patients = NULL;
    ds->n_patients = 0;
}

int su_acdc_find(const su_dataset *ds, const char *id) {
    for (int i = 0; i < ds->n_patients; i++)
        if (!strcmp(ds->patients[i].id, id)) return i;
    return -1;
}

int su_acdc_load(su_volume *img, uint8_t **labels, const su_patient *p, int phase, su_error *err) {
    if (labels) *labels = NULL;
    if (phase != SU_ED && phase != SU_ES) return su_fail(err, "%s: bad phase %d (0 ED, 1 ES)", p->id, phase);
    if (labels && !p->label_path[phase][0])
        return su_fail(err, "%s: no ground truth (_gt file) for %s frame %d", p->id, su_phase_name(phase),
                       phase == SU_ED ? p->ed_frame : p->es_frame);
    if (su_nifti_read(img, p->image_path[phase], err)) return su_fail_context(err, "%s", p->id);
    if (!labels) return 0;
    su_volume geom;
    if (su_nifti_read_labels(labels, &geom, p->label_path[phase], err)) {
        su_volume_free(img);
        return su_fail_context(err, "%s", p->id);
    }
    if (geom.nx != img->nx || geom.ny != img->ny || geom.nz != img->nz) {
        su_fail(err, "%s: shape mismatch: image %s is %dx%dx%d but ground truth %s is %dx%dx%d", p->id,
                p->image_path[phase], img->nx, img->ny, img->nz, p->label_path[phase], geom.nx, geom.ny, geom.nz);
        free(*labels);
        *labels = NULL;
        su_volume_free(img);
        return -1;
    }
    return 0;
}
