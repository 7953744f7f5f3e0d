#include "atomic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int su_write_atomic(const char *path, su_write_fn fn, const void *ctx, su_error *err) {
    size_t len = strlen(path);
    char *tmp = malloc(len + 12);
    if (!tmp) return su_fail(err, "%s: out of memory", path);
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmpXXXXXX", 11);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return su_fail(err, "%s: cannot create a temporary file: %s", path, strerror(e));
    }
    (void)fchmod(fd, 0644); /* mkstemp makes it private; these are ordinary result files */
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        return su_fail(err, "%s: %s", path, strerror(e));
    }
    int rc = fn(f, ctx, err);
    if (rc) su_fail_context(err, "%s", path);
    if (fflush(f) != 0 && rc == 0) rc = su_fail(err, "%s: write error: %s", path, strerror(errno));
    if (ferror(f) && rc == 0) rc = su_fail(err, "%s: write error", path);
    if (fsync(fileno(f)) != 0 && rc == 0) rc = su_fail(err, "%s: write error: %s", path, strerror(errno));
    if (fclose(f) != 0 && rc == 0) rc = su_fail(err, "%s: write error: %s", path, strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0) rc = su_fail(err, "%s: cannot rename into place: %s", path, strerror(errno));
    if (rc) unlink(tmp);
    free(tmp);
    return rc;
}

static int put_text(FILE *f, const void *text, su_error *err) {
    if (fputs(text, f) < 0) return su_fail(err, "write error: %s", strerror(errno));
    return 0;
}

int su_write_text_atomic(const char *path, const char *text, su_error *err) {
    return su_write_atomic(path, put_text, text, err);
}
