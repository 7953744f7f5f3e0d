/* libFuzzer harness: one binary per target, chosen at build time with -DFUZZ_TARGET="name".
 * The entry points and their checks live in targets.h (shared with tests/test_fuzz_regress.c). */
#include "targets.h"

#ifndef FUZZ_TARGET
#error "build with -DFUZZ_TARGET=\"nifti\" (or info, checkpoint, split, args)"
#endif

/* A fuzzer process runs one target; its scratch folder lives as long as the process. */
static fuzz_ctx ctx;
static const fuzz_target *target;

static void cleanup(void) { fuzz_ctx_free(&ctx); }

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    target = fuzz_find_target(FUZZ_TARGET);
    if (!target || fuzz_ctx_init(&ctx)) {
        fprintf(stderr, "fuzz_%s: cannot set up (unknown target or no scratch folder under $TMPDIR)\n", FUZZ_TARGET);
        abort();
    }
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    su_error err = {{0}};
    const char *bad = target->fn(&ctx, data, size, &err);
    if (bad) {
        fprintf(stderr, "fuzz_%s: check failed: %s (library said: %s)\n", FUZZ_TARGET, bad,
                err.msg[0] ? err.msg : "-");
        abort();
    }
    return 0;
}
