/* A tiny .npy reader for tests: 3-D arrays of |u1 |i1 <i2 <u2 <i4 <u4 <f4 <f8, C or Fortran order,
 * returned as doubles in NIfTI order (x fastest: v[(z*ny + y)*nx + x] for shape (nx, ny, nz)). */
#ifndef SPIKEUNET_TEST_NPY_H
#define SPIKEUNET_TEST_NPY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Returns a malloc'd array and fills shape[3], or NULL (with a note on stderr). */
static inline double *npy_read3(const char *path, int shape[3]) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "npy: cannot open %s\n", path);
        return NULL;
    }
    unsigned char pre[10];
    double *out = NULL;
    char *hdr = NULL;
    unsigned char *raw = NULL;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) goto bad;
    size_t hlen;
    if (pre[6] == 1) {
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else {
        unsigned char more[2];
        if (fread(more, 1, 2, f) != 2) goto bad;
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)more[0] << 16 | (size_t)more[1] << 24;
    }
    hdr = calloc(hlen + 1, 1);
    if (!hdr || fread(hdr, 1, hlen, f) != hlen) goto bad;
    const char *d = strstr(hdr, "'descr':"), *fo = strstr(hdr, "'fortran_order':"), *sh = strstr(hdr, "'shape':");
    if (!d || !fo || !sh) goto bad;
    char descr[8] = {0};
    if (sscanf(d, "'descr': '%7[^']'", descr) != 1) goto bad;
    int fortran = strstr(fo, "True") == fo + strlen("'fortran_order': ");
    if (sscanf(sh, "'shape': (%d, %d, %d)", &shape[0], &shape[1], &shape[2]) != 3) goto bad;
    int size = descr[2] - '0';
    char kind = descr[1];
    if (descr[0] == '>' || (size != 1 && size != 2 && size != 4 && size != 8)) goto bad;
    size_t n = (size_t)shape[0] * shape[1] * shape[2];
    raw = malloc(n * (size_t)size);
    out = malloc(n * sizeof *out);
    if (!raw || !out || fread(raw, (size_t)size, n, f) != n) goto bad;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = raw + i * (size_t)size;
        double v;
        if (kind == 'f' && size == 8) { double t; memcpy(&t, p, 8); v = t; }
        else if (kind == 'f' && size == 4) { float t; memcpy(&t, p, 4); v = t; }
        else if (kind == 'i' && size == 1) v = (int8_t)p[0];
        else if (kind == 'u' && size == 1) v = p[0];
        else if (kind == 'i' && size == 2) { int16_t t; memcpy(&t, p, 2); v = t; }
        else if (kind == 'u' && size == 2) { uint16_t t; memcpy(&t, p, 2); v = t; }
        else if (kind == 'i' && size == 4) { int32_t t; memcpy(&t, p, 4); v = t; }
        else if (kind == 'u' && size == 4) { uint32_t t; memcpy(&t, p, 4); v = t; }
        else goto bad;
        size_t x, y, z;
        if (fortran) { /* already x fastest */
            x = i % (size_t)shape[0];
            y = i / (size_t)shape[0] % (size_t)shape[1];
            z = i / ((size_t)shape[0] * shape[1]);
        } else {
            z = i % (size_t)shape[2];
            y = i / (size_t)shape[2] % (size_t)shape[1];
            x = i / ((size_t)shape[2] * shape[1]);
        }
        out[(z * (size_t)shape[1] + y) * (size_t)shape[0] + x] = v;
    }
    free(hdr);
    free(raw);
    fclose(f);
    return out;
bad:
    fprintf(stderr, "npy: cannot parse %s\n", path);
    free(hdr);
    free(raw);
    free(out);
    fclose(f);
    return NULL;
}

#endif
