/* Files written whole or not at all: the contents go to a temporary file beside the target (same folder,
 * so the rename cannot cross file systems), flushed and synced, then renamed into place. On any failure
 * the temporary is removed and a file already at the target is left as it was. (Internal to the library.) */
#ifndef SPIKEUNET_ATOMIC_H
#define SPIKEUNET_ATOMIC_H

#include <stdio.h>

#include "spikeunet/error.h"

/* fn writes the contents to f and returns 0, or -1 with err filled (the path is prepended). */
typedef int (*su_write_fn)(FILE *f, const void *ctx, su_error *err);

int su_write_atomic(const char *path, su_write_fn fn, const void *ctx, su_error *err);
/* The common case: a text. */
int su_write_text_atomic(const char *path, const char *text, su_error *err);

#endif
