/* Errors: every library call that can fail returns 0 on success or -1 on failure and, on
 * failure, fills an su_error with one line that names the file (or object) and the fault.
 * Nothing in the library prints or exits; the CLI decides what to do with the message. */
#ifndef SPIKEUNET_ERROR_H
#define SPIKEUNET_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct su_error {
    char msg[1024];
} su_error;

/* Formats the message into err (if err is not NULL) and returns -1, so that callers can write
 *   if (bad) return su_fail(err, "%s: expected 3-D, got 4-D (%d frames)", path, nt);           */
int su_fail(su_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends "context: " to an existing message (used when a lower layer's error bubbles up). */
int su_fail_context(su_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif
