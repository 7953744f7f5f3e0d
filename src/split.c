/* Train/validation splits of an ACDC data set, and their JSON form (saved with a run). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spikeunet/acdc.h"
#include "json_num.h"

/* splitmix64: tiny, self-contained, same sequence on every platform (unlike rand()). */
static uint64_t next_u64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias (rejection). */
static uint32_t below(uint64_t *state, uint32_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do r = next_u64(state);
    while (r >= limit);
    return (uint32_t)(r % n);
}

static void shuffle(int *v, int n, uint64_t *state) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)below(state, (uint32_t)i + 1);
        int t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

void su_split_free(su_split *s) {
    if (!s) return;
    free(s->train);
    free(s->val);
    memset(s, 0, sizeof *s);
}

/* How many of n go to validation: round(f*n), but at least 1 and at most n-1 when 0 < f and n >= 2. */
static int val_count(double f, int n) {
    int k = (int)floor(f * n + 0.5);
    if (f > 0 && k == 0 && n >= 2) k = 1;
    if (k >= n && n >= 2) k = n - 1;
    if (k > n) k = n;
    return k;
}

static int check_args(const su_dataset *ds, double f, su_error *err) {
    if (!ds || ds->n_patients <= 0) return su_fail(err, "split: the data set has no patients");
    if (!(f >= 0.0 && f < 1.0)) return su_fail(err, "split: val_fraction %g is outside [0, 1)", f);
    return 0;
}

/* Fills s from a 0/1 flag per volume. */
static int from_flags(su_split *s, const unsigned char *is_val, int n_vol, su_error *err) {
    int nv = 0;
    for (int i = 0; i < n_vol; i++) nv += is_val[i];
    s->train = malloc((size_t)(n_vol - nv + 1) * sizeof *s->train);
    s->val = malloc((size_t)(nv + 1) * sizeof *s->val);
    if (!s->train || !s->val) {
        su_split_free(s);
        return su_fail(err, "split: out of memory");
    }
    s->n_train = s->n_val = 0;
    for (int i = 0; i < n_vol; i++) {
        if (is_val[i])
            s->val[s->n_val++] = i;
        else
            s->train[s->n_train++] = i;
    }
    return 0;
}

typedef struct group_share {
    int first;   /* index into the order array */
    int n;
    int k;       /* patients sent to val */
    double frac; /* remainder of f*n, for largest-remainder rounding */
} group_share;

static int cmp_share(const void *a, const void *b) {
    const group_share *x = a, *y = b;
    if (x->frac != y->frac) return x->frac > y->frac ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

static int cmp_first(const void *a, const void *b) {
    const group_share *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

static int cmp_group_then_index(const void *a, const void *b, const su_dataset *ds) {
    int x = *(const int *)a, y = *(const int *)b;
    int c = strcmp(ds->patients[x].group, ds->patients[y].group);
    return c ? c : (x > y) - (x < y);
}

int su_split_by_patient(su_split *s, const su_dataset *ds, double f, uint64_t seed, su_error *err) {
    memset(s, 0, sizeof *s);
    if (check_args(ds, f, err)) return -1;
    int n = ds->n_patients;
    int *order = malloc((size_t)n * sizeof *order);
    group_share *g = malloc((size_t)n * sizeof *g);
    unsigned char *is_val = calloc((size_t)2 * n, 1);
    if (!order || !g || !is_val) {
        free(order), free(g), free(is_val);
        return su_fail(err, "split: out of memory");
    }
    /* patients ordered by (group, index): insertion sort keeps this free of qsort_r */
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && cmp_group_then_index(&order[j - 1], &i, ds) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    int ng = 0;
    for (int i = 0; i < n; i++) {
        if (i == 0 || strcmp(ds->patients[order[i]].group, ds->patients[order[i - 1]].group)) {
            g[ng].first = i;
            g[ng].n = 0;
            ng++;
        }
        g[ng - 1].n++;
    }
    /* each group gets floor(f * size); the rest of the total goes to the largest remainders */
    int total = val_count(f, n), given = 0;
    for (int i = 0; i < ng; i++) {
        double want = f * g[i].n;
        g[i].k = (int)floor(want);
        g[i].frac = want - g[i].k;
        given += g[i].k;
    }
    qsort(g, (size_t)ng, sizeof *g, cmp_share);
    for (int i = 0; given < total && i < ng; i++)
        if (g[i].k < g[i].n) g[i].k++, given++;
    qsort(g, (size_t)ng, sizeof *g, cmp_first);
    /* one stream shuffles every group, in group-name order */
    uint64_t state = seed;
    for (int i = 0; i < ng; i++) {
        shuffle(order + g[i].first, g[i].n, &state);
        for (int j = 0; j < g[i].k; j++) {
            int p = order[g[i].first + j];
            is_val[2 * p] = is_val[2 * p + 1] = 1;
        }
    }
    int rc = from_flags(s, is_val, 2 * n, err);
    free(order), free(g), free(is_val);
    if (rc) return -1;
    s->method = SU_SPLIT_BY_PATIENT;
    s->seed = seed;
    s->val_fraction = f;
    return 0;
}

int su_split_by_volume(su_split *s, const su_dataset *ds, double f, uint64_t seed, su_error *err) {
    memset(s, 0, sizeof *s);
    if (check_args(ds, f, err)) return -1;
    int nv = 2 * ds->n_patients;
    int *order = malloc((size_t)nv * sizeof *order);
    unsigned char *is_val = calloc((size_t)nv, 1);
    if (!order || !is_val) {
        free(order), free(is_val);
        return su_fail(err, "split: out of memory");
    }
    for (int i = 0; i < nv; i++) order[i] = i;
    uint64_t state = seed;
    shuffle(order, nv, &state);
    int k = val_count(f, nv);
    for (int i = 0; i < k; i++) is_val[order[i]] = 1;
    int rc = from_flags(s, is_val, nv, err);
    free(order), free(is_val);
    if (rc) return -1;
    s->method = SU_SPLIT_BY_VOLUME;
    s->seed = seed;
    s->val_fraction = f;
    return 0;
}

/* ---- JSON -------------------------------------------------------------------------------- */

static cJSON *name_array(const int *v, int n, const su_dataset *ds) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s:%s", ds->patients[v[i] / 2].id, su_phase_name(v[i] % 2));
        cJSON *item = cJSON_CreateString(name);
        if (!item) {
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddItemToArray(a, item);
    }
    return a;
}

int su_split_format(char **json, const su_split *s, const su_dataset *ds, su_error *err) {
    *json = NULL;
    for (int i = 0; i < s->n_train + s->n_val; i++) {
        int v = i < s->n_train ? s->train[i] : s->val[i - s->n_train];
        if (v < 0 || v >= 2 * ds->n_patients) return su_fail(err, "split: volume index %d outside the data set", v);
    }
    cJSON *root = cJSON_CreateObject();
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
    cJSON *train = name_array(s->train, s->n_train, ds), *val = name_array(s->val, s->n_val, ds);
    if (!root || !train || !val ||
        !cJSON_AddStringToObject(root, "method", s->method == SU_SPLIT_BY_VOLUME ? "volume" : "patient") ||
        !cJSON_AddStringToObject(root, "seed", seed) ||
        !cJSON_AddNumberToObject(root, "val_fraction", su_json_float((float)s->val_fraction))) {
        cJSON_Delete(root), cJSON_Delete(train), cJSON_Delete(val);
        return su_fail(err, "split: out of memory");
    }
    cJSON_AddItemToObject(root, "train", train);
    cJSON_AddItemToObject(root, "val", val);
    *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!*json) return su_fail(err, "split: out of memory");
    return 0;
}

/* missing: NULL makes a name absent from ds an error; otherwise such names are skipped and counted. */
static int parse_names(int **out, int *count, const cJSON *arr, const char *key, const su_dataset *ds,
                       unsigned char *seen, unsigned char mark, int *missing, su_error *err) {
    if (!cJSON_IsArray(arr)) return su_fail(err, "split: '%s' is missing or not an array", key);
    int n = cJSON_GetArraySize(arr);
    *out = malloc((size_t)(n + 1) * sizeof **out);
    if (!*out) return su_fail(err, "split: out of memory");
    *count = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, arr) {
        const char *name = cJSON_GetStringValue(item);
        if (!name) return su_fail(err, "split: '%s' holds a non-string entry", key);
        const char *colon = strrchr(name, ':');
        int phase = -1;
        if (colon && !strcmp(colon + 1, "ED")) phase = SU_ED;
        if (colon && !strcmp(colon + 1, "ES")) phase = SU_ES;
        if (phase < 0) return su_fail(err, "split: bad volume name '%s' (expected e.g. patient001:ED)", name);
        char id[64];
        size_t len = (size_t)(colon - name);
        if (len >= sizeof id) return su_fail(err, "split: bad volume name '%s'", name);
        memcpy(id, name, len);
        id[len] = 0;
        int p = su_acdc_find(ds, id);
        if (p < 0 && missing) {
            ++*missing;
            continue;
        }
        if (p < 0) return su_fail(err, "split: volume '%s' is not in the data set", name);
        int v = 2 * p + phase;
        if (seen[v]) {
            return su_fail(err, "split: volume '%s' is listed %s", name,
                           seen[v] == mark ? "twice" : "in both train and val");
        }
        seen[v] = mark;
        (*out)[(*count)++] = v;
    }
    qsort(*out, (size_t)*count, sizeof **out, cmp_int);
    return 0;
}

int su_split_parse(su_split *s, const su_dataset *ds, const char *json, su_error *err) {
    return su_split_parse_present(s, NULL, NULL, ds, json, err);
}

int su_split_parse_present(su_split *s, int *missing_train, int *missing_val, const su_dataset *ds, const char *json,
                           su_error *err) {
    memset(s, 0, sizeof *s);
    if (missing_train) *missing_train = 0;
    if (missing_val) *missing_val = 0;
    if (!ds || ds->n_patients <= 0) return su_fail(err, "split: the data set has no patients");
    cJSON *root = cJSON_Parse(json);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return su_fail(err, "split: not a JSON object");
    }
    unsigned char *seen = calloc((size_t)2 * ds->n_patients, 1);
    int rc = -1;
    if (!seen) {
        su_fail(err, "split: out of memory");
        goto done;
    }
    if (parse_names(&s->train, &s->n_train, cJSON_GetObjectItemCaseSensitive(root, "train"), "train", ds, seen, 1,
                    missing_train, err) ||
        parse_names(&s->val, &s->n_val, cJSON_GetObjectItemCaseSensitive(root, "val"), "val", ds, seen, 2,
                    missing_val, err))
        goto done;
    const char *method = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "method"));
    s->method = method && !strcmp(method, "volume") ? SU_SPLIT_BY_VOLUME : SU_SPLIT_BY_PATIENT;
    const char *seed = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "seed"));
    s->seed = seed ? strtoull(seed, NULL, 10) : 0;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "val_fraction");
    s->val_fraction = cJSON_IsNumber(f) ? f->valuedouble : 0.0;
    rc = 0;
done:
    if (rc) su_split_free(s);
    free(seen);
    cJSON_Delete(root);
    return rc;
}
