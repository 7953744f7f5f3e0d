/* su_fail / su_fail_context: the message format every library error uses. */
#include "check.h"
#include "spikeunet/error.h"

int main(void) {
    su_error err = {{0}};
    CHECK(su_fail(&err, "%s: bad value %d", "file.nii.gz", 7) == -1, "returns -1");
    CHECK(strcmp(err.msg, "file.nii.gz: bad value 7") == 0, "msg '%s'", err.msg);
    su_fail_context(&err, "patient%03d", 42);
    CHECK(strcmp(err.msg, "patient042: file.nii.gz: bad value 7") == 0, "msg '%s'", err.msg);
    CHECK(su_fail(NULL, "ignored") == -1, "NULL err is allowed");
    /* a long message is truncated, never overflowed */
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    su_fail(&err, "%s", big);
    su_fail_context(&err, "%s", big);
    CHECK(strlen(err.msg) == sizeof err.msg - 1, "truncated to %zu", strlen(err.msg));
    return check_report("error");
}
