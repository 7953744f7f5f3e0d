#include "spikeunet/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int su_fail(su_error *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int su_fail_context(su_error *err, const char *fmt, ...) {
    if (err) {
        /* prefix, then ": ", then as much of the old message as still fits */
        char old[sizeof err->msg];
        memcpy(old, err->msg, sizeof old);
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        size_t used = n < 0 ? 0 : (size_t)n;
        if (used + 3 < sizeof err->msg) {
            memcpy(err->msg + used, ": ", 2);
            size_t room = sizeof err->msg - used - 3, len = strnlen(old, sizeof old);
            if (len > room) len = room;
            memcpy(err->msg + used + 2, old, len);
            err->msg[used + 2 + len] = 0;
        }
    }
    return -1;
}
