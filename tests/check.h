/* A tiny test harness: CHECK-style assertions that count and report, and a closing line
 * "N passed, N failed" that CI reads. Each tests/test_*.c is one executable (one CTest test). */
#ifndef SPIKEUNET_TEST_CHECK_H
#define SPIKEUNET_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed_, check_failed_;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (cond) {                                                             \
            check_passed_++;                                                    \
        } else {                                                                \
            check_failed_++;                                                    \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)

/* |got - want| <= tol */
#define CHECK_NEAR(got, want, tol, what)                                        \
    do {                                                                        \
        double g_ = (double)(got), w_ = (double)(want);                         \
        CHECK(fabs(g_ - w_) <= (tol), "%s: got %.9g want %.9g (tol %g)", what,  \
              g_, w_, (double)(tol));                                           \
    } while (0)

/* A call that must succeed: prints the library's error message otherwise. */
#define CHECK_OK(call, errp)                                                    \
    do {                                                                        \
        int rc_ = (call);                                                       \
        CHECK(rc_ == 0, "%s", (errp)->msg);                                     \
    } while (0)

/* A call that must fail with a message containing `needle`. */
#define CHECK_FAILS_WITH(call, errp, needle)                                    \
    do {                                                                        \
        (errp)->msg[0] = 0;                                                     \
        int rc_ = (call);                                                       \
        CHECK(rc_ != 0 && strstr((errp)->msg, (needle)) != NULL,                \
              "expected failure mentioning '%s', got rc=%d msg='%s'", (needle), \
              rc_, (errp)->msg);                                                \
    } while (0)

static inline int check_report(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, check_passed_, check_failed_);
    return check_failed_ ? 1 : 0;
}

/* Path of the shared folder (../shared from the repository root) or NULL. */
static inline const char *check_shared_dir(void) {
    const char *s = getenv("SU_SHARED");
    return s ? s : "../shared";
}

#endif
