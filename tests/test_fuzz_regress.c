/* Replays every committed fuzz input (each file under fuzz/regress/<target>/: crashes and failed checks
 * that were fixed) through the same entry points the fuzzers use (fuzz/targets.h), so they stay fixed under
 * the normal build and under ASan/UBSan (make test-asan). Also runs real sample files through the
 * nifti and checkpoint entry points, to show that their checks pass on good input. */
#include "check.h"

#include "../fuzz/targets.h"
/* cli_parse lives in the CLI, not the library: build it in here */
#include "../src/cli/args.c"

#include <dirent.h>
#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Outside ASan (its shadow memory takes terabytes of address space) the replay runs with at most
 * 1 GiB of address space beyond what the process holds, as libFuzzer's -malloc_limit_mb does for
 * the fuzzers: an input that makes a parser allocate far more than it holds fails here too. */
static void limit_memory(void) {
#ifndef UNDER_ASAN
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return;
    int ok = fscanf(f, "%lu", &pages) == 1;
    fclose(f);
    if (!ok) return;
    rlim_t lim = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)1 << 30);
    struct rlimit rl = {lim, lim};
    CHECK(setrlimit(RLIMIT_AS, &rl) == 0, "setrlimit");
#endif
}

/* Inputs whose outcome is known: the library's message must contain `needle` ("" = success). */
typedef struct expectation {
    const char *target, *file, *needle;
} expectation;

static const expectation expected[] = {
    {"checkpoint", "write-no-tensors-qsort-null", ""},
    {"info", "height-1e39-float-overflow", "line 4: malformed value '1e39' for Height"},
    {"info", "weight-61e99-float-overflow", "malformed value '61e99' for Weight"},
    {"nifti", "huge-claim-gzip-2GiB", "ends after 100 of 2147483648 bytes"},
    {"nifti", "huge-claim-plain-2GiB", "ends after 100 of 2147483648 bytes"},
    {NULL, NULL, NULL},
};
#define N_EXPECTED (sizeof expected / sizeof expected[0] - 1)

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap) break;
        unsigned char *b = realloc(buf, cap * 2);
        if (!b) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = b;
        cap *= 2;
    }
    fclose(f);
    *n = len;
    return buf;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int replay_target(fuzz_ctx *ctx, const fuzz_target *t, int *seen) {
    char dir[512];
    snprintf(dir, sizeof dir, "fuzz/regress/%s", t->name);
    DIR *d = opendir(dir);
    if (!d) return 0;
    char *names[512];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 512)
        if (e->d_name[0] != '.' && strcmp(e->d_name, "README.md")) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len = 0;
        unsigned char *data = slurp(path, &len);
        CHECK(data != NULL, "cannot read %s", path);
        if (data) {
            su_error err = {{0}};
            const char *bad = t->fn(ctx, data, len, &err);
            CHECK(bad == NULL, "%s: %s (library said: %s)", path, bad, err.msg);
            for (size_t k = 0; k < N_EXPECTED; k++) {
                if (strcmp(expected[k].target, t->name) || strcmp(expected[k].file, names[i])) continue;
                seen[k] = 1;
                if (expected[k].needle[0])
                    CHECK(strstr(err.msg, expected[k].needle) != NULL, "%s: message '%s' lacks '%s'", path, err.msg,
                          expected[k].needle);
                else
                    CHECK(err.msg[0] == 0, "%s: expected success, got '%s'", path, err.msg);
            }
        }
        free(data);
        free(names[i]);
    }
    return n;
}

/* A real label map through every nifti mode (read, labels, header, both; gzip or not; .nii or
 * .nii.gz; with and without the round trip): all must succeed and pass the checks. */
static void good_nifti(fuzz_ctx *ctx) {
    /* the plain bytes (selector bit 2 gzips them again) */
    gzFile f = gzopen("data/acdc-sample/patient090/patient090_frame04_gt.nii.gz", "rb");
    CHECK(f != NULL, "sample label map missing");
    if (!f) return;
    size_t cap = 1 << 20, len = 0;
    unsigned char *in = malloc(cap);
    int got;
    while (in && len + 1 < cap && (got = gzread(f, in + 1 + len, (unsigned)(cap - 1 - len))) > 0) len += (size_t)got;
    gzclose(f);
    CHECK(len == 352 + 154 * 224 * 7, "patient090 ED gt: %zu bytes", len);
    const fuzz_target *t = fuzz_find_target("nifti");
    for (int sel = 0; sel < 32; sel++) {
        in[0] = (unsigned char)sel;
        su_error err = {{0}};
        const char *bad = t->fn(ctx, in, len + 1, &err);
        CHECK(bad == NULL && err.msg[0] == 0, "selector %d: %s (library said: %s)", sel, bad ? bad : "-", err.msg);
    }
    free(in);
}

/* A checkpoint from the writer through the checkpoint entry point (read, get, round trip). */
static void good_checkpoint(fuzz_ctx *ctx) {
    char path[800];
    snprintf(path, sizeof path, "%s/good.safetensors", ctx->dir);
    float w[4] = {1, 2, 3, 4};
    int64_t step = 9;
    su_checkpoint_tensor t[2] = {{"w", SU_CKPT_F32, 2, {2, 2}, w}, {"step", SU_CKPT_I64, 0, {0}, &step}};
    su_checkpoint_meta m[1] = {{"split", "{\"method\":\"patient\",\"seed\":\"3\",\"train\":[\"patient001:ED\"],"
                                         "\"val\":[\"patient002:ES\"]}"}};
    su_error err = {{0}};
    CHECK_OK(su_checkpoint_write(path, t, 2, m, 1, &err), &err);
    size_t len = 0;
    unsigned char *data = slurp(path, &len);
    CHECK(data != NULL, "cannot read %s", path);
    if (!data) return;
    const char *bad = fuzz_find_target("checkpoint")->fn(ctx, data, len, &err);
    CHECK(bad == NULL && err.msg[0] == 0, "good checkpoint: %s (library said: %s)", bad ? bad : "-", err.msg);
    free(data);
}

int main(void) {
    fuzz_ctx ctx;
    if (fuzz_ctx_init(&ctx)) {
        fprintf(stderr, "cannot make a scratch folder\n");
        return 1;
    }
    limit_memory();
    int seen[N_EXPECTED + 1] = {0}, total = 0;
    for (size_t i = 0; i < FUZZ_N_TARGETS; i++) total += replay_target(&ctx, &fuzz_targets[i], seen);
    for (size_t k = 0; k < N_EXPECTED; k++)
        CHECK(seen[k], "fuzz/regress/%s/%s is missing", expected[k].target, expected[k].file);
    printf("replayed %d committed fuzz inputs\n", total);
    good_nifti(&ctx);
    good_checkpoint(&ctx);
    fuzz_ctx_free(&ctx);
    return check_report("fuzz_regress");
}
