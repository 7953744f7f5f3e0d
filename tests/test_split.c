/* Train/val splits: by patient (stratified, seeded, deterministic), by volume (the study's leaky
 * split), and the JSON form saved with a run. */
#include <sys/stat.h>

#include "check.h"
#include "spikeunet/acdc.h"

static const char *const groups[5] = {"DCM", "HCM", "MINF", "NOR", "RV"};

/* n patients patient001.., group of patient i given by group_of(i) */
static void synthetic(su_dataset *ds, int n, const int *group_of) {
    ds->n_patients = n;
    ds->patients = calloc((size_t)n, sizeof *ds->patients);
    for (int i = 0; i < n; i++) {
        su_patient *p = &ds->patients[i];
        snprintf(p->id, sizeof p->id, "patient%03d", i + 1);
        p->number = i + 1;
        snprintf(p->group, sizeof p->group, "%s", groups[group_of[i]]);
        p->ed_frame = 1, p->es_frame = 10, p->has_gt = 1;
    }
}

static int same_split(const su_split *a, const su_split *b) {
    return a->n_train == b->n_train && a->n_val == b->n_val &&
           !memcmp(a->train, b->train, (size_t)a->n_train * sizeof(int)) &&
           !memcmp(a->val, b->val, (size_t)a->n_val * sizeof(int));
}

/* Checks the invariants of any split of ds: a partition of all volumes, ascending. */
static void check_partition(const su_split *s, const su_dataset *ds, const char *what) {
    int nv = 2 * ds->n_patients;
    int *seen = calloc((size_t)nv, sizeof *seen);
    int ok = s->n_train + s->n_val == nv, sorted = 1;
    for (int i = 0; i < s->n_train; i++) {
        if (s->train[i] < 0 || s->train[i] >= nv) ok = 0;
        else seen[s->train[i]]++;
        if (i && s->train[i] <= s->train[i - 1]) sorted = 0;
    }
    for (int i = 0; i < s->n_val; i++) {
        if (s->val[i] < 0 || s->val[i] >= nv) ok = 0;
        else seen[s->val[i]]++;
        if (i && s->val[i] <= s->val[i - 1]) sorted = 0;
    }
    for (int i = 0; i < nv; i++)
        if (seen[i] != 1) ok = 0;
    CHECK(ok, "%s: not a partition of the %d volumes", what, nv);
    CHECK(sorted, "%s: not ascending", what);
    free(seen);
}

/* Patients with one volume in train and the other in val. */
static int leaked_patients(const su_split *s, const su_dataset *ds) {
    char *in_val = calloc((size_t)2 * ds->n_patients, 1);
    for (int i = 0; i < s->n_val; i++) in_val[s->val[i]] = 1;
    int leaks = 0;
    for (int p = 0; p < ds->n_patients; p++) leaks += in_val[2 * p] != in_val[2 * p + 1];
    free(in_val);
    return leaks;
}

static void test_by_patient(void) {
    su_error err = {{0}};
    su_dataset ds;
    int g[100];
    for (int i = 0; i < 100; i++) g[i] = i % 5; /* groups interleaved: 20 each */
    synthetic(&ds, 100, g);
    su_split a, b, c;
    CHECK_OK(su_split_by_patient(&a, &ds, SU_SPLIT_VAL_FRACTION, 7, &err), &err);
    check_partition(&a, &ds, "by patient");
    CHECK(a.n_train == 160 && a.n_val == 40, "160/40 volumes, got %d/%d", a.n_train, a.n_val);
    CHECK(leaked_patients(&a, &ds) == 0, "a patient is in both sets");
    int per_group[5] = {0};
    for (int i = 0; i < a.n_val; i += 1)
        if (a.val[i] % 2 == 0) per_group[g[a.val[i] / 2]]++;
    for (int k = 0; k < 5; k++) CHECK(per_group[k] == 4, "%s: %d val patients, want 4 (16/4)", groups[k], per_group[k]);

    CHECK_OK(su_split_by_patient(&b, &ds, SU_SPLIT_VAL_FRACTION, 7, &err), &err);
    CHECK(same_split(&a, &b), "same seed, same split");
    CHECK_OK(su_split_by_patient(&c, &ds, SU_SPLIT_VAL_FRACTION, 8, &err), &err);
    CHECK(!same_split(&a, &c), "seeds 7 and 8 give the same split");
    su_split_free(&b);
    su_split_free(&c);
    /* ten seeds: every patient lands in val for some seed (the shuffle reaches everyone) */
    int ever[100] = {0};
    for (uint64_t seed = 0; seed < 40; seed++) {
        CHECK_OK(su_split_by_patient(&b, &ds, 0.2, seed, &err), &err);
        for (int i = 0; i < b.n_val; i++) ever[b.val[i] / 2] = 1;
        su_split_free(&b);
    }
    int reached = 0;
    for (int i = 0; i < 100; i++) reached += ever[i];
    CHECK(reached == 100, "only %d patients ever in val over 40 seeds", reached);

    /* the split is stable under the order of the patients' groups (fixed by group name) */
    CHECK(a.method == SU_SPLIT_BY_PATIENT && a.seed == 7 && a.val_fraction == 0.2, "split metadata");
    su_split_free(&a);
    CHECK(a.train == NULL && a.n_val == 0, "freed");

    /* val_fraction 0: everything in train */
    CHECK_OK(su_split_by_patient(&a, &ds, 0.0, 1, &err), &err);
    CHECK(a.n_train == 200 && a.n_val == 0, "fraction 0");
    su_split_free(&a);
    CHECK_FAILS_WITH(su_split_by_patient(&a, &ds, 1.0, 1, &err), &err, "val_fraction 1 is outside [0, 1)");
    CHECK_FAILS_WITH(su_split_by_patient(&a, &ds, -0.1, 1, &err), &err, "outside [0, 1)");
    su_acdc_free(&ds);

    /* uneven groups 7/3/5 at 0.2: total round(3.0) = 3; floors 1/0/1, the largest remainder
     * (HCM, 0.6) gets the third */
    int g2[15];
    for (int i = 0; i < 15; i++) g2[i] = i < 7 ? 0 : i < 10 ? 1 : 2;
    synthetic(&ds, 15, g2);
    CHECK_OK(su_split_by_patient(&a, &ds, 0.2, 3, &err), &err);
    check_partition(&a, &ds, "uneven");
    int cnt[3] = {0};
    for (int i = 0; i < a.n_val; i += 2) cnt[g2[a.val[i] / 2]]++;
    CHECK(a.n_val == 6 && cnt[0] == 1 && cnt[1] == 1 && cnt[2] == 1, "uneven: %d %d %d", cnt[0], cnt[1], cnt[2]);
    su_split_free(&a);
    su_acdc_free(&ds);

    /* tiny sets: at least one val patient when val_fraction > 0, never all of them */
    int g3[2] = {0, 0};
    synthetic(&ds, 2, g3);
    CHECK_OK(su_split_by_patient(&a, &ds, 0.2, 1, &err), &err);
    CHECK(a.n_val == 2 && a.n_train == 2, "2 patients: 1/1");
    su_split_free(&a);
    CHECK_OK(su_split_by_patient(&a, &ds, 0.9, 1, &err), &err);
    CHECK(a.n_val == 2 && a.n_train == 2, "2 patients at 0.9: still 1/1");
    su_split_free(&a);
    su_acdc_free(&ds);
}

static void test_by_volume(void) {
    su_error err = {{0}};
    su_dataset ds;
    int g[100];
    for (int i = 0; i < 100; i++) g[i] = i / 20;
    synthetic(&ds, 100, g);
    su_split a, b;
    CHECK_OK(su_split_by_volume(&a, &ds, 0.2, 42, &err), &err);
    check_partition(&a, &ds, "by volume");
    CHECK(a.n_train == 160 && a.n_val == 40, "by volume 160/40");
    /* the study's split leaks: some patient has ED and ES on different sides */
    CHECK(leaked_patients(&a, &ds) > 0, "expected a leaking patient with seed 42");
    CHECK_OK(su_split_by_volume(&b, &ds, 0.2, 42, &err), &err);
    CHECK(same_split(&a, &b), "by volume: deterministic");
    su_split_free(&b);
    CHECK_OK(su_split_by_volume(&b, &ds, 0.2, 43, &err), &err);
    CHECK(!same_split(&a, &b), "by volume: seeds differ");
    CHECK(a.method == SU_SPLIT_BY_VOLUME, "method");
    su_split_free(&a);
    su_split_free(&b);
    su_acdc_free(&ds);
}

static void test_json(void) {
    su_error err = {{0}};
    su_dataset ds;
    int g[10] = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4};
    synthetic(&ds, 10, g);
    su_split a, b;
    char *json = NULL;
    CHECK_OK(su_split_by_volume(&a, &ds, 0.3, 12345678901234567890ull, &err), &err);
    CHECK_OK(su_split_format(&json, &a, &ds, &err), &err);
    CHECK(json && strstr(json, "\"method\":\"volume\"") && strstr(json, "\"seed\":\"12345678901234567890\""),
          "json: %s", json ? json : "(null)");
    CHECK(json && strstr(json, "\"patient001:ED\""), "names like patient001:ED");
    CHECK_OK(su_split_parse(&b, &ds, json, &err), &err);
    CHECK(same_split(&a, &b), "parse(format(s)) == s");
    CHECK(b.method == SU_SPLIT_BY_VOLUME && b.seed == 12345678901234567890ull && fabs(b.val_fraction - 0.3) < 1e-12,
          "metadata survives");
    su_split_free(&b);
    free(json);
    su_split_free(&a);

    /* hand-written: order does not matter, result is ascending */
    CHECK_OK(su_split_parse(&b, &ds,
                            "{\"train\":[\"patient003:ES\",\"patient001:ED\"],\"val\":[\"patient010:ES\",\"patient002:ED\"]}",
                            &err),
             &err);
    CHECK(b.n_train == 2 && b.train[0] == 0 && b.train[1] == 5 && b.n_val == 2 && b.val[0] == 2 && b.val[1] == 19,
          "hand-written split");
    CHECK(b.method == SU_SPLIT_BY_PATIENT && b.seed == 0, "defaults");
    su_split_free(&b);

    static const struct {
        const char *json, *needle;
    } bad[] = {
        {"not json", "not a JSON object"},
        {"{\"train\":[\"patient001:ED\"]}", "'val' is missing or not an array"},
        {"{\"train\":[\"patient011:ED\"],\"val\":[]}", "'patient011:ED' is not in the data set"},
        {"{\"train\":[\"patient001:XX\"],\"val\":[]}", "bad volume name 'patient001:XX'"},
        {"{\"train\":[\"patient001\"],\"val\":[]}", "bad volume name"},
        {"{\"train\":[\"patient001:ED\",\"patient001:ED\"],\"val\":[]}", "listed twice"},
        {"{\"train\":[\"patient001:ED\"],\"val\":[\"patient001:ED\"]}", "in both train and val"},
        {"{\"train\":[1],\"val\":[]}", "non-string entry"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        CHECK_FAILS_WITH(su_split_parse(&b, &ds, bad[k].json, &err), &err, bad[k].needle);
        CHECK(b.train == NULL && b.val == NULL, "nothing allocated after a failed parse");
    }
    su_acdc_free(&ds);
}

/* The real training set (when ../shared holds it): 100 patients, 20 per group -> 80/20. */
static void test_acdc_training(void) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/data/acdc/training", check_shared_dir());
    struct stat st;
    if (stat(dir, &st) != 0) {
        printf("skipping the full-ACDC split check (%s not found)\n", dir);
        return;
    }
    su_error err = {{0}};
    su_dataset ds;
    CHECK_OK(su_acdc_scan(&ds, dir, &err), &err);
    if (ds.n_patients != 100) {
        CHECK(0, "100 training patients, got %d", ds.n_patients);
        su_acdc_free(&ds);
        return;
    }
    su_split s;
    CHECK_OK(su_split_by_patient(&s, &ds, SU_SPLIT_VAL_FRACTION, SU_SPLIT_SEED, &err), &err);
    CHECK(s.n_train == 160 && s.n_val == 40, "ACDC: 160/40 volumes");
    CHECK(leaked_patients(&s, &ds) == 0, "ACDC: no patient in both");
    for (int k = 0; k < 5; k++) {
        int n = 0;
        for (int i = 0; i < s.n_val; i += 2)
            if (!strcmp(ds.patients[s.val[i] / 2].group, groups[k])) n++;
        CHECK(n == 4, "ACDC %s: %d val patients", groups[k], n);
    }
    su_split_free(&s);
    su_acdc_free(&ds);
}

int main(void) {
    test_by_patient();
    test_by_volume();
    test_json();
    test_acdc_training();
    return check_report("split");
}
