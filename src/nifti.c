/* NIfTI-1 read/write. nifticlib (libniftiio) supplies the header layout, byte swapping and datatype
 * tables; the bytes themselves go through zlib here, because nifticlib 3.0's znzread turns gzread's
 * -1 into a huge size_t, so nifti_image_read accepts a truncated .nii.gz (data past the cut is
 * garbage) and nifti_image_write reports no errors at all. Reading with gzread directly also passes
 * a plain file named .nii.gz straight through. */
#include "spikeunet/nifti.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <nifti1_io.h>

_Static_assert(sizeof(nifti_1_header) == SU_NIFTI_HEADER_SIZE, "nifti_1_header is 348 bytes");

#define VOX_OFFSET 352 /* header + 4-byte extender, where our files put the data */
#define IO_CHUNK (1u << 26)
#define VOXEL_CHUNK ((size_t)1 << 24) /* first buffer for gzip voxel data; doubles as data arrives */

const char *su_nifti_dtype_name(int datatype) {
    switch (datatype) {
    case SU_DT_UINT8: return "uint8";
    case SU_DT_INT16: return "int16";
    case SU_DT_INT32: return "int32";
    case SU_DT_FLOAT32: return "float32";
    case SU_DT_FLOAT64: return "float64";
    default: return "unsupported";
    }
}

static int dtype_size(int datatype) {
    switch (datatype) {
    case SU_DT_UINT8: return 1;
    case SU_DT_INT16: return 2;
    case SU_DT_INT32: return 4;
    case SU_DT_FLOAT32: return 4;
    case SU_DT_FLOAT64: return 8;
    default: return 0;
    }
}

void su_volume_free(su_volume *vol) {
    if (!vol) return;
    free(vol->data);
    memset(vol, 0, sizeof *vol);
}

static uint32_t bswap32(uint32_t v) {
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

static void clear_volume(su_volume *vol) {
    if (vol) memset(vol, 0, sizeof *vol);
}

/* ---- reading ----------------------------------------------------------------------------- */

typedef struct reader {
    const char *path;
    gzFile f;
    int swapped;
    nifti_1_header hdr;
} reader;

static int zfail(reader *r, su_error *err, const char *what) {
    int zerr = Z_OK;
    const char *zmsg = gzerror(r->f, &zerr);
    if (zerr == Z_ERRNO)
        return su_fail(err, "%s: %s: %s", r->path, what, strerror(errno));
    if (zerr != Z_OK && zerr != Z_BUF_ERROR)
        return su_fail(err, "%s: %s: corrupt gzip data (%s)", r->path, what, zmsg ? zmsg : "zlib error");
    /* Z_BUF_ERROR: the compressed stream ended early */
    return su_fail(err, "%s: %s: short read (truncated or corrupt gzip data)", r->path, what);
}

/* Reads exactly n bytes; anything less is an error (never padded with zeros). The n bytes are
 * [at, at + n) of `what`, which is `total` bytes long (for the message). */
static int read_exact(reader *r, void *buf, size_t n, const char *what, size_t at, size_t total, su_error *err) {
    unsigned char *p = buf;
    size_t done = 0;
    while (done < n) {
        unsigned want = (unsigned)(n - done < IO_CHUNK ? n - done : IO_CHUNK);
        int got = gzread(r->f, p + done, want);
        if (got < 0) return zfail(r, err, what);
        if (got == 0) {
            int zerr = Z_OK;
            gzerror(r->f, &zerr);
            if (zerr != Z_OK) return zfail(r, err, what);
            return su_fail(err, "%s: short read: %s ends after %zu of %zu bytes (truncated file)", r->path,
                           what, at + done, total);
        }
        done += (size_t)got;
    }
    return 0;
}

static int check_header(reader *r, su_error *err) {
    nifti_1_header *h = &r->hdr;
    const char *path = r->path;
    if (h->sizeof_hdr != 348) {
        uint32_t s = bswap32((uint32_t)h->sizeof_hdr);
        if (s == 348) {
            r->swapped = 1;
            swap_nifti_header(h, 1);
        } else if (h->sizeof_hdr == 540 || s == 540) {
            return su_fail(err, "%s: NIfTI-2 header (sizeof_hdr 540); only NIfTI-1 is supported", path);
        } else {
            return su_fail(err, "%s: not a NIfTI-1 file (sizeof_hdr %d, expected 348)", path, h->sizeof_hdr);
        }
    }
    if (memcmp(h->magic, "ni1", 4) == 0)
        return su_fail(err, "%s: two-file NIfTI (magic 'ni1', .hdr/.img pair) is not supported; "
                            "convert it to a single .nii/.nii.gz", path);
    if (memcmp(h->magic, "n+1", 4) != 0)
        return su_fail(err, "%s: not a NIfTI-1 file (bad magic '%.3s', expected 'n+1')", path, h->magic);

    int ndim = h->dim[0];
    if (ndim < 1 || ndim > 7) return su_fail(err, "%s: bad dim[0] %d (expected 3)", path, ndim);
    if (ndim < 3) return su_fail(err, "%s: expected 3-D, got %d-D", path, ndim);
    for (int i = 1; i <= ndim; i++)
        if (h->dim[i] <= 0)
            return su_fail(err, "%s: zero or negative dimension (dim[%d] = %d)", path, i, h->dim[i]);
    int real = 3; /* the highest axis with more than one element */
    for (int i = 4; i <= ndim; i++)
        if (h->dim[i] > 1) real = i;
    if (real == 4) return su_fail(err, "%s: expected 3-D, got 4-D (%d frames)", path, h->dim[4]);
    if (real > 4) return su_fail(err, "%s: expected 3-D, got %d-D", path, real);
    long nvox = (long)h->dim[1] * h->dim[2] * h->dim[3];
    if (h->dim[1] > SU_NIFTI_MAX_DIM || h->dim[2] > SU_NIFTI_MAX_DIM || h->dim[3] > SU_NIFTI_MAX_DIM ||
        nvox > SU_NIFTI_MAX_VOXELS)
        return su_fail(err, "%s: absurd dimensions %dx%dx%d (limit %d per axis, %ld voxels)", path, h->dim[1],
                       h->dim[2], h->dim[3], SU_NIFTI_MAX_DIM, (long)SU_NIFTI_MAX_VOXELS);
    if (!dtype_size(h->datatype)) {
        const char *name = nifti_datatype_to_string(h->datatype);
        return su_fail(err, "%s: unsupported datatype %d (%s); expected uint8, int16, int32, float32 or float64",
                       path, h->datatype, name ? name : "unknown");
    }
    for (int i = 1; i <= 3; i++) {
        float p = h->pixdim[i];
        if (!isfinite(p) || p == 0.0f)
            return su_fail(err, "%s: invalid voxel spacing pixdim[%d] = %g", path, i, (double)p);
    }
    if (!isfinite(h->vox_offset) || h->vox_offset < 0.0f || h->vox_offset > 1e9f ||
        h->vox_offset != floorf(h->vox_offset))
        return su_fail(err, "%s: bad vox_offset %g", path, (double)h->vox_offset);
    return 0;
}

static void fill_geometry(su_volume *vol, const nifti_1_header *h) {
    vol->nx = h->dim[1];
    vol->ny = h->dim[2];
    vol->nz = h->dim[3];
    vol->dx = fabsf(h->pixdim[1]);
    vol->dy = fabsf(h->pixdim[2]);
    vol->dz = fabsf(h->pixdim[3]);
    vol->datatype = h->datatype;
    vol->data = NULL;
    memcpy(vol->header, h, sizeof *h);
}

/* Opens, reads and validates the header; with raw != NULL also reads the voxel bytes (native
 * byte order) and checks that the stream ends cleanly (CRC, no truncation). */
static int read_file(const char *path, nifti_1_header *hdr, void **raw, su_error *err) {
    reader r = {.path = path};
    if (raw) *raw = NULL;
    struct stat st;
    if (stat(path, &st) != 0) return su_fail(err, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return su_fail(err, "%s: is a directory, not a NIfTI file", path);
    r.f = gzopen(path, "rb");
    if (!r.f) return su_fail(err, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    gzbuffer(r.f, 1u << 17);
    int rc = -1;
    unsigned char *data = NULL;
    int got = gzread(r.f, &r.hdr, sizeof r.hdr);
    int zerr = Z_OK;
    gzerror(r.f, &zerr);
    if (got < 0 || (zerr != Z_OK && zerr != Z_BUF_ERROR)) {
        zfail(&r, err, "header");
        goto done;
    }
    if (got < (int)sizeof r.hdr) {
        su_fail(err, "%s: not a NIfTI-1 file (%d bytes, shorter than the 348-byte header%s)", path, got,
                zerr == Z_BUF_ERROR ? "; truncated gzip data" : "");
        goto done;
    }
    if (check_header(&r, err)) goto done;
    if (raw) {
        size_t nvox = (size_t)r.hdr.dim[1] * (size_t)r.hdr.dim[2] * (size_t)r.hdr.dim[3];
        int nbyper = 0, swapsize = 0;
        nifti_datatype_sizes(r.hdr.datatype, &nbyper, &swapsize);
        size_t nbytes = nvox * (size_t)nbyper;
        /* skip the extender and any extensions up to vox_offset; like nifticlib, an offset
         * below 352 (some writers leave 0) means the data follows the extender */
        size_t off = r.hdr.vox_offset < VOX_OFFSET ? VOX_OFFSET : (size_t)r.hdr.vox_offset;
        size_t skip = off - sizeof r.hdr;
        unsigned char scratch[4096];
        for (size_t at = 0; at < skip;) {
            size_t n = skip - at < sizeof scratch ? skip - at : sizeof scratch;
            if (read_exact(&r, scratch, n, "header extension", at, skip, err)) goto done;
            at += n;
        }
        /* The header alone must not decide how much memory a file gets (a 400-byte file may claim
         * 2 GiB): a plain file is checked against its size first, and a gzip stream's buffer grows
         * with the data that actually arrives. */
        if (gzdirect(r.f) && (uint64_t)st.st_size < (uint64_t)off + nbytes) {
            su_fail(err, "%s: short read: voxel data ends after %zu of %zu bytes (truncated file)", path,
                    (uint64_t)st.st_size > off ? (size_t)st.st_size - off : 0, nbytes);
            goto done;
        }
        size_t cap = gzdirect(r.f) || nbytes < VOXEL_CHUNK ? nbytes : VOXEL_CHUNK;
        data = malloc(cap ? cap : 1);
        for (size_t at = 0; data;) {
            if (read_exact(&r, data + at, cap - at, "voxel data", at, nbytes, err)) goto done;
            at = cap;
            if (at == nbytes) break;
            cap = nbytes - cap < cap ? nbytes : 2 * cap;
            unsigned char *grown = realloc(data, cap);
            if (!grown) free(data);
            data = grown;
        }
        if (!data) {
            su_fail(err, "%s: out of memory for %zu bytes of voxel data", path, nbytes);
            goto done;
        }
        /* drain to the end so zlib verifies the stream's length and CRC */
        for (;;) {
            got = gzread(r.f, scratch, sizeof scratch);
            if (got < 0) {
                zfail(&r, err, "after the voxel data");
                goto done;
            }
            if (got == 0) {
                gzerror(r.f, &zerr);
                if (zerr != Z_OK) {
                    zfail(&r, err, "after the voxel data");
                    goto done;
                }
                break;
            }
        }
        if (r.swapped && swapsize > 1) nifti_swap_Nbytes(nvox, swapsize, data);
        *raw = data;
        data = NULL;
    }
    *hdr = r.hdr;
    rc = 0;
done:
    free(data);
    gzclose_r(r.f);
    return rc;
}

static double raw_value(const void *raw, int datatype, size_t i) {
    switch (datatype) {
    case SU_DT_UINT8: return ((const uint8_t *)raw)[i];
    case SU_DT_INT16: return ((const int16_t *)raw)[i];
    case SU_DT_INT32: return ((const int32_t *)raw)[i];
    case SU_DT_FLOAT32: return ((const float *)raw)[i];
    default: return ((const double *)raw)[i];
    }
}

static void scaling(const nifti_1_header *h, double *slope, double *inter) {
    *slope = 1.0;
    *inter = 0.0;
    if (isfinite(h->scl_slope) && h->scl_slope != 0.0f) {
        *slope = h->scl_slope;
        *inter = isfinite(h->scl_inter) ? h->scl_inter : 0.0;
    }
}

static void voxel_xyz(const nifti_1_header *h, size_t i, int *x, int *y, int *z) {
    *x = (int)(i % (size_t)h->dim[1]);
    *y = (int)(i / (size_t)h->dim[1] % (size_t)h->dim[2]);
    *z = (int)(i / ((size_t)h->dim[1] * (size_t)h->dim[2]));
}

int su_nifti_read_header(su_volume *vol, const char *path, su_error *err) {
    nifti_1_header h;
    clear_volume(vol);
    if (read_file(path, &h, NULL, err)) return -1;
    fill_geometry(vol, &h);
    return 0;
}

int su_nifti_read(su_volume *vol, const char *path, su_error *err) {
    nifti_1_header h;
    void *raw = NULL;
    clear_volume(vol);
    if (read_file(path, &h, &raw, err)) return -1;
    size_t n = (size_t)h.dim[1] * (size_t)h.dim[2] * (size_t)h.dim[3];
    float *out = malloc(n * sizeof *out);
    if (!out) {
        free(raw);
        return su_fail(err, "%s: out of memory for %zu voxels", path, n);
    }
    double slope, inter;
    scaling(&h, &slope, &inter);
    for (size_t i = 0; i < n; i++) {
        double v = raw_value(raw, h.datatype, i) * slope + inter;
        float f = (float)v;
        if (!isfinite(f)) {
            int x, y, z;
            voxel_xyz(&h, i, &x, &y, &z);
            free(raw);
            free(out);
            return su_fail(err, "%s: %s voxel value at (%d,%d,%d)", path,
                           isnan(v) ? "NaN" : "infinite (or beyond float range)", x, y, z);
        }
        /* A value too small for float (or a stored -0.0) becomes a signed zero; store +0 so that
         * writing the volume and reading it back gives the same bits (found by fuzz_nifti). */
        out[i] = f == 0.0f ? 0.0f : f;
    }
    free(raw);
    fill_geometry(vol, &h);
    vol->data = out;
    return 0;
}

int su_nifti_read_labels(uint8_t **labels, su_volume *geom, const char *path, su_error *err) {
    nifti_1_header h;
    void *raw = NULL;
    *labels = NULL;
    if (geom) clear_volume(geom);
    if (read_file(path, &h, &raw, err)) return -1;
    size_t n = (size_t)h.dim[1] * (size_t)h.dim[2] * (size_t)h.dim[3];
    uint8_t *out = malloc(n ? n : 1);
    if (!out) {
        free(raw);
        return su_fail(err, "%s: out of memory for %zu voxels", path, n);
    }
    double slope, inter;
    scaling(&h, &slope, &inter);
    for (size_t i = 0; i < n; i++) {
        double v = raw_value(raw, h.datatype, i) * slope + inter;
        if (!(v >= 0.0 && v <= 3.0 && v == floor(v))) {
            int x, y, z;
            voxel_xyz(&h, i, &x, &y, &z);
            free(raw);
            free(out);
            if (isfinite(v) && v == floor(v))
                return su_fail(err, "%s: label value %.0f at voxel (%d,%d,%d) (expected 0..3)", path, v, x, y,
                               z);
            return su_fail(err, "%s: non-integer label value %g at voxel (%d,%d,%d) (expected 0..3)", path, v,
                           x, y, z);
        }
        out[i] = (uint8_t)v;
    }
    free(raw);
    if (geom) fill_geometry(geom, &h);
    *labels = out;
    return 0;
}

/* ---- writing ----------------------------------------------------------------------------- */

static int has_suffix(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The header for a 3-D file with like's geometry and the given datatype, no scaling. */
static void output_header(nifti_1_header *h, const su_volume *like, int datatype) {
    memcpy(h, like->header, sizeof *h);
    h->sizeof_hdr = 348;
    h->dim[0] = 3;
    h->dim[1] = (short)like->nx;
    h->dim[2] = (short)like->ny;
    h->dim[3] = (short)like->nz;
    for (int i = 4; i < 8; i++) h->dim[i] = 1;
    h->datatype = (short)datatype;
    h->bitpix = (short)(8 * dtype_size(datatype));
    h->vox_offset = VOX_OFFSET;
    h->scl_slope = 1.0f;
    h->scl_inter = 0.0f;
    h->cal_min = 0.0f;
    h->cal_max = 0.0f;
    h->glmin = h->glmax = 0;
    memcpy(h->magic, "n+1", 4);
}

static int check_like(const char *path, const su_volume *like, su_error *err) {
    if (!like || like->nx <= 0 || like->ny <= 0 || like->nz <= 0 || like->nx > SU_NIFTI_MAX_DIM ||
        like->ny > SU_NIFTI_MAX_DIM || like->nz > SU_NIFTI_MAX_DIM)
        return su_fail(err, "%s: cannot write: the source geometry has no valid shape", path);
    const nifti_1_header *h = (const nifti_1_header *)like->header;
    if (h->sizeof_hdr != 348 || memcmp(h->magic, "n+1", 4) != 0)
        return su_fail(err, "%s: cannot write: the source volume carries no NIfTI-1 header "
                            "(read it from a file or make it with su_volume_create)", path);
    return 0;
}

/* Writes header + extender + payload to a temporary beside path, then renames it into place. */
static int write_file(const char *path, const nifti_1_header *h, const void *payload, size_t nbytes,
                      su_error *err) {
    int gz = has_suffix(path, ".nii.gz");
    if (!gz && !has_suffix(path, ".nii"))
        return su_fail(err, "%s: output name must end in .nii or .nii.gz", path);
    const char *ext = gz ? ".nii.gz" : ".nii";
    size_t stem = strlen(path) - strlen(ext);
    size_t cap = stem + 16 + strlen(ext);
    char *tmp = malloc(cap);
    if (!tmp) return su_fail(err, "%s: out of memory", path);
    /* the temporary keeps the .nii/.nii.gz ending, so anything watching the folder sees a NIfTI name */
    snprintf(tmp, cap, "%.*s.tmp-XXXXXX%s", (int)stem, path, ext);
    int fd = mkstemps(tmp, (int)strlen(ext));
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return su_fail(err, "%s: cannot create a temporary file beside it: %s", path, strerror(e));
    }
    fchmod(fd, 0644);
    gzFile f = gzdopen(fd, gz ? "wb6" : "wbT");
    if (!f) {
        close(fd);
        unlink(tmp);
        free(tmp);
        return su_fail(err, "%s: cannot open for writing", path);
    }
    gzbuffer(f, 1u << 17);
    int ok = 1;
    unsigned char extender[4] = {0, 0, 0, 0};
    if (gzwrite(f, h, sizeof *h) != (int)sizeof *h || gzwrite(f, extender, 4) != 4) ok = 0;
    const unsigned char *p = payload;
    for (size_t done = 0; ok && done < nbytes;) {
        unsigned n = (unsigned)(nbytes - done < IO_CHUNK ? nbytes - done : IO_CHUNK);
        if (gzwrite(f, p + done, n) != (int)n) ok = 0;
        done += n;
    }
    int zerr = Z_OK;
    char zmsg[128] = "";
    if (!ok) snprintf(zmsg, sizeof zmsg, "%s", gzerror(f, &zerr));
    int crc = gzclose_w(f); /* closes fd; flushes, reports late write errors (disk full) */
    if (ok && crc != Z_OK) {
        ok = 0;
        snprintf(zmsg, sizeof zmsg, "%s", crc == Z_ERRNO ? strerror(errno) : "zlib error on close");
    }
    if (!ok) {
        unlink(tmp);
        free(tmp);
        return su_fail(err, "%s: write failed: %s", path, zmsg[0] ? zmsg : strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return su_fail(err, "%s: cannot rename the temporary into place: %s", path, strerror(e));
    }
    free(tmp);
    return 0;
}

int su_nifti_write(const char *path, const float *data, int datatype, const su_volume *like, su_error *err) {
    if (check_like(path, like, err)) return -1;
    int size = dtype_size(datatype);
    if (!size)
        return su_fail(err, "%s: cannot write datatype %d (expected uint8, int16, int32, float32 or float64)",
                       path, datatype);
    size_t n = su_volume_voxels(like);
    unsigned char *buf = malloc(n * (size_t)size);
    if (!buf) return su_fail(err, "%s: out of memory for %zu voxels", path, n);
    double lo = 0, hi = 0;
    switch (datatype) {
    case SU_DT_UINT8: lo = 0, hi = 255; break;
    case SU_DT_INT16: lo = -32768, hi = 32767; break;
    case SU_DT_INT32: lo = -2147483648.0, hi = 2147483647.0; break;
    default: break;
    }
    for (size_t i = 0; i < n; i++) {
        float v = data[i];
        if (!isfinite(v)) {
            free(buf);
            return su_fail(err, "%s: cannot write a %s value at voxel %zu", path, isnan(v) ? "NaN" : "infinite",
                           i);
        }
        if (datatype == SU_DT_FLOAT32) {
            ((float *)buf)[i] = v;
            continue;
        }
        if (datatype == SU_DT_FLOAT64) {
            ((double *)buf)[i] = v;
            continue;
        }
        double r = nearbyint((double)v);
        if (r < lo || r > hi) {
            free(buf);
            return su_fail(err, "%s: value %g at voxel %zu does not fit %s", path, (double)v, i,
                           su_nifti_dtype_name(datatype));
        }
        if (datatype == SU_DT_UINT8)
            buf[i] = (uint8_t)r;
        else if (datatype == SU_DT_INT16)
            ((int16_t *)buf)[i] = (int16_t)r;
        else
            ((int32_t *)buf)[i] = (int32_t)r;
    }
    nifti_1_header h;
    output_header(&h, like, datatype);
    int rc = write_file(path, &h, buf, n * (size_t)size, err);
    free(buf);
    return rc;
}

int su_nifti_write_labels(const char *path, const uint8_t *labels, const su_volume *like, su_error *err) {
    if (check_like(path, like, err)) return -1;
    nifti_1_header h;
    output_header(&h, like, SU_DT_UINT8);
    return write_file(path, &h, labels, su_volume_voxels(like), err);
}

int su_volume_create(su_volume *vol, int nx, int ny, int nz, float dx, float dy, float dz, su_error *err) {
    clear_volume(vol);
    if (nx <= 0 || ny <= 0 || nz <= 0 || nx > SU_NIFTI_MAX_DIM || ny > SU_NIFTI_MAX_DIM || nz > SU_NIFTI_MAX_DIM ||
        (long)nx * ny * nz > SU_NIFTI_MAX_VOXELS)
        return su_fail(err, "volume: bad shape %dx%dx%d", nx, ny, nz);
    if (!(dx > 0 && dy > 0 && dz > 0 && isfinite(dx) && isfinite(dy) && isfinite(dz)))
        return su_fail(err, "volume: bad spacing %gx%gx%g", (double)dx, (double)dy, (double)dz);
    nifti_1_header h;
    memset(&h, 0, sizeof h);
    h.sizeof_hdr = 348;
    h.dim[0] = 3;
    h.dim[1] = (short)nx;
    h.dim[2] = (short)ny;
    h.dim[3] = (short)nz;
    for (int i = 4; i < 8; i++) h.dim[i] = 1;
    h.datatype = SU_DT_FLOAT32;
    h.bitpix = 32;
    h.pixdim[0] = 1.0f; /* qfac */
    h.pixdim[1] = dx;
    h.pixdim[2] = dy;
    h.pixdim[3] = dz;
    h.vox_offset = VOX_OFFSET;
    h.scl_slope = 1.0f;
    h.xyzt_units = NIFTI_UNITS_MM;
    h.qform_code = NIFTI_XFORM_SCANNER_ANAT;
    h.sform_code = NIFTI_XFORM_SCANNER_ANAT;
    h.srow_x[0] = dx;
    h.srow_y[1] = dy;
    h.srow_z[2] = dz;
    memcpy(h.magic, "n+1", 4);
    vol->data = calloc((size_t)nx * ny * nz, sizeof *vol->data);
    if (!vol->data) return su_fail(err, "volume: out of memory for %dx%dx%d", nx, ny, nz);
    float *keep = vol->data;
    fill_geometry(vol, &h);
    vol->data = keep;
    return 0;
}
