/* safetensors checkpoints: atomic writer, validating reader. See checkpoint.h and docs/CHECKPOINT.md. */
#include "spikeunet/checkpoint.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define HEADER_CRC_KEY "crc32_header"
#define DATA_ALIGN 64
/* JSON numbers are doubles: integers above 2^53 would not round-trip. */
#define MAX_JSON_INT ((uint64_t)1 << 53)

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#define SU_BIG_ENDIAN_HOST 1
#else
#define SU_BIG_ENDIAN_HOST 0
#endif

static const char *const dtype_names[] = {"F32", "U8", "I64"};
static const size_t dtype_sizes[] = {4, 1, 8};
#define N_DTYPES 3

const char *su_checkpoint_dtype_name(su_checkpoint_dtype dtype) {
    return (unsigned)dtype < N_DTYPES ? dtype_names[dtype] : NULL;
}

size_t su_checkpoint_dtype_size(su_checkpoint_dtype dtype) {
    return (unsigned)dtype < N_DTYPES ? dtype_sizes[dtype] : 0;
}

/* Product of dims, or UINT64_MAX when a dim is negative or the product passes MAX_JSON_INT. */
static uint64_t shape_elements(int ndim, const int64_t *shape) {
    uint64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (uint64_t)shape[i] > MAX_JSON_INT) return UINT64_MAX;
        uint64_t d = (uint64_t)shape[i];
        if (d != 0 && n > MAX_JSON_INT / d) return UINT64_MAX;
        n *= d;
    }
    return n;
}

uint64_t su_checkpoint_tensor_elements(const su_checkpoint_tensor *t) {
    if (!t || t->ndim < 0 || t->ndim > SU_CHECKPOINT_MAX_DIMS) return 0;
    uint64_t n = shape_elements(t->ndim, t->shape);
    return n == UINT64_MAX ? 0 : n;
}

uint64_t su_checkpoint_tensor_bytes(const su_checkpoint_tensor *t) {
    return t ? su_checkpoint_tensor_elements(t) * su_checkpoint_dtype_size(t->dtype) : 0;
}

static void shape_text(char *buf, size_t size, int ndim, const int64_t *shape) {
    size_t used = 0;
    buf[0] = 0;
    used += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%" PRId64, i ? "," : "", shape[i]);
    if (used < size) snprintf(buf + used, size - used, "]");
}

static int is_reserved_key(const char *key) {
    return strcmp(key, SU_CHECKPOINT_CRC_KEY) == 0 || strcmp(key, HEADER_CRC_KEY) == 0;
}

/* RFC 3629 UTF-8 (no overlongs, no surrogates, at most U+10FFFF): safetensors readers insist. */
static int valid_utf8(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        int n;
        unsigned min, cp;
        if (c < 0x80) { p++; continue; }
        if ((c & 0xE0) == 0xC0) { n = 1; min = 0x80; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { n = 2; min = 0x800; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { n = 3; min = 0x10000; cp = c & 0x07; }
        else return 0;
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        p += n + 1;
    }
    return 1;
}

/* ---- the canonical header checksum -------------------------------------------------------
 * The data CRC cannot see a flipped byte inside a tensor name or a metadata value (the model's
 * whole configuration lives there), so the writer also stores "crc32_header": CRC-32 over, for
 * each tensor in data order (begin, end, name), "name\0DTYPE\0d0,d1,..\0begin,end\0", then for
 * each metadata entry sorted by key (bytewise), except the two crc keys, "key\0value\0".
 * It does not depend on JSON spacing or key order, so any writer can reproduce it. */
typedef struct ck_entry {
    const char *name;
    su_checkpoint_dtype dtype;
    int ndim;
    int64_t shape[SU_CHECKPOINT_MAX_DIMS];
    uint64_t begin, end;
    const void *data; /* writer only */
} ck_entry;

static int entry_cmp(const void *a, const void *b) {
    const ck_entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int meta_cmp(const void *a, const void *b) {
    return strcmp(((const su_checkpoint_meta *)a)->key, ((const su_checkpoint_meta *)b)->key);
}

static int name_ptr_cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static uLong crc_str(uLong crc, const char *s) {
    return crc32_z(crc, (const Bytef *)s, strlen(s) + 1);
}

/* entries sorted by entry_cmp, meta sorted by key */
static uint32_t header_crc(const ck_entry *e, size_t n, const su_checkpoint_meta *meta, size_t nm) {
    uLong crc = crc32_z(0L, Z_NULL, 0);
    char buf[SU_CHECKPOINT_MAX_DIMS * 24 + 8];
    for (size_t i = 0; i < n; i++) {
        crc = crc_str(crc, e[i].name);
        crc = crc_str(crc, dtype_names[e[i].dtype]);
        size_t used = 0;
        buf[0] = 0;
        for (int d = 0; d < e[i].ndim; d++)
            used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%" PRId64, d ? "," : "",
                                     e[i].shape[d]);
        crc = crc_str(crc, buf);
        snprintf(buf, sizeof buf, "%" PRIu64 ",%" PRIu64, e[i].begin, e[i].end);
        crc = crc_str(crc, buf);
    }
    for (size_t i = 0; i < nm; i++) {
        if (is_reserved_key(meta[i].key)) continue;
        crc = crc_str(crc, meta[i].key);
        crc = crc_str(crc, meta[i].value);
    }
    return (uint32_t)crc;
}

/* ---- writer ---------------------------------------------------------------------------- */

static int add_raw_u64(cJSON *array, uint64_t v) {
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    cJSON *item = cJSON_CreateRaw(buf);
    return item && cJSON_AddItemToArray(array, item) ? 0 : -1;
}

/* The header JSON; NULL on out-of-memory. */
static char *build_header(const ck_entry *given, size_t n, const su_checkpoint_meta *meta, size_t nm,
                          uint32_t data_crc, uint32_t hdr_crc) {
    cJSON *root = cJSON_CreateObject();
    cJSON *mobj = cJSON_AddObjectToObject(root, "__metadata__");
    int bad = !root || !mobj;
    char hex[16];
    for (size_t i = 0; !bad && i < nm; i++)
        bad = !cJSON_AddStringToObject(mobj, meta[i].key, meta[i].value);
    snprintf(hex, sizeof hex, "%08" PRIx32, data_crc);
    bad = bad || !cJSON_AddStringToObject(mobj, SU_CHECKPOINT_CRC_KEY, hex);
    snprintf(hex, sizeof hex, "%08" PRIx32, hdr_crc);
    bad = bad || !cJSON_AddStringToObject(mobj, HEADER_CRC_KEY, hex);
    for (size_t i = 0; !bad && i < n; i++) {
        cJSON *t = cJSON_AddObjectToObject(root, given[i].name);
        cJSON *shape = t ? cJSON_CreateArray() : NULL;
        cJSON *offs = shape ? cJSON_CreateArray() : NULL;
        bad = !offs || !cJSON_AddStringToObject(t, "dtype", dtype_names[given[i].dtype]);
        if (shape && !cJSON_AddItemToObject(t, "shape", shape)) { cJSON_Delete(shape); bad = 1; }
        if (offs && !cJSON_AddItemToObject(t, "data_offsets", offs)) { cJSON_Delete(offs); bad = 1; }
        for (int d = 0; !bad && d < given[i].ndim; d++) bad = add_raw_u64(shape, (uint64_t)given[i].shape[d]);
        bad = bad || add_raw_u64(offs, given[i].begin) || add_raw_u64(offs, given[i].end);
    }
    char *text = bad ? NULL : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

static int fsync_parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash) dir = strdup(".");
    else if (slash == path) dir = strdup("/");
    else dir = strndup(path, (size_t)(slash - path));
    if (!dir) return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    free(dir);
    if (fd < 0) return 0; /* an unreadable directory: the rename itself has happened */
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    /* some file systems cannot fsync a directory; that is no fault of ours */
    if (rc != 0 && (e == EINVAL || e == ENOTSUP || e == EROFS)) rc = 0;
    errno = e;
    return rc;
}

static int write_file_atomic(const char *path, const char *header, size_t header_len, size_t padded,
                             const ck_entry *e, size_t n, su_error *err) {
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) return su_fail(err, "%s: out of memory", path);
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e0 = errno;
        free(tmp);
        return su_fail(err, "%s: cannot create a temporary file beside it: %s", path, strerror(e0));
    }
    FILE *f = NULL;
    const char *step = "write";
    int fault = 0;
    if (fchmod(fd, 0644) != 0) { step = "chmod"; fault = errno; }
    if (!fault && !(f = fdopen(fd, "wb"))) { step = "fdopen"; fault = errno; }
    if (fault) goto fail;

    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    errno = 0;
    if (fwrite(len8, 1, 8, f) != 8 || fwrite(header, 1, header_len, f) != header_len) fault = errno ? errno : EIO;
    for (size_t i = header_len; !fault && i < padded; i++)
        if (fputc(' ', f) == EOF) fault = errno ? errno : EIO;
    for (size_t i = 0; !fault && i < n; i++) {
        size_t bytes = (size_t)(e[i].end - e[i].begin);
        if (bytes && fwrite(e[i].data, 1, bytes, f) != bytes) fault = errno ? errno : EIO;
    }
    if (fault) goto fail;
    step = "flush";
    if (fflush(f) != 0) { fault = errno ? errno : EIO; goto fail; }
    step = "fsync";
    if (fsync(fileno(f)) != 0) { fault = errno; goto fail; }
    step = "close";
    int rc = fclose(f);
    f = NULL;
    fd = -1;
    if (rc != 0) { fault = errno ? errno : EIO; goto fail; }
    step = "rename";
    if (rename(tmp, path) != 0) { fault = errno; goto fail; }
    free(tmp);
    if (fsync_parent_dir(path) != 0)
        return su_fail(err, "%s: written, but fsync of its directory failed: %s", path, strerror(errno));
    return 0;

fail:
    if (f) fclose(f);
    else if (fd >= 0) close(fd);
    unlink(tmp);
    free(tmp);
    return su_fail(err, "%s: %s failed: %s (nothing written; any previous file is unchanged)", path, step,
                   strerror(fault));
}

int su_checkpoint_write(const char *path, const su_checkpoint_tensor *tensors, size_t n_tensors,
                        const su_checkpoint_meta *meta, size_t n_meta, su_error *err) {
    if (!path || !*path) return su_fail(err, "checkpoint: no output path given");
    if (SU_BIG_ENDIAN_HOST) return su_fail(err, "%s: writing safetensors on a big-endian host is not supported", path);
    if ((n_tensors && !tensors) || (n_meta && !meta)) return su_fail(err, "%s: NULL tensor or metadata list", path);

    ck_entry *e = calloc(n_tensors ? n_tensors : 1, sizeof *e);
    const char **names = calloc(n_tensors + n_meta + 1, sizeof *names);
    su_checkpoint_meta *msorted = calloc(n_meta ? n_meta : 1, sizeof *msorted);
    char *header = NULL;
    int rc = -1;
    if (!e || !names || !msorted) { su_fail(err, "%s: out of memory", path); goto done; }

    uint64_t pos = 0;
    uLong dcrc = crc32_z(0L, Z_NULL, 0);
    for (size_t i = 0; i < n_tensors; i++) {
        const su_checkpoint_tensor *t = &tensors[i];
        if (!t->name || !*t->name) { su_fail(err, "%s: tensor %zu has no name", path, i); goto done; }
        if (strcmp(t->name, "__metadata__") == 0 || !valid_utf8(t->name)) {
            su_fail(err, "%s: tensor %zu: name '%.200s' is reserved or not valid UTF-8", path, i, t->name);
            goto done;
        }
        if ((unsigned)t->dtype >= N_DTYPES) { su_fail(err, "%s: tensor '%.200s': invalid dtype %d", path, t->name, (int)t->dtype); goto done; }
        if (t->ndim < 0 || t->ndim > SU_CHECKPOINT_MAX_DIMS) {
            su_fail(err, "%s: tensor '%.200s': %d dimensions (0..%d allowed)", path, t->name, t->ndim, SU_CHECKPOINT_MAX_DIMS);
            goto done;
        }
        uint64_t count = shape_elements(t->ndim, t->shape);
        uint64_t bytes = count == UINT64_MAX ? UINT64_MAX : count * dtype_sizes[t->dtype];
        if (count == UINT64_MAX || bytes > MAX_JSON_INT - pos || bytes > SIZE_MAX) {
            char s[256];
            shape_text(s, sizeof s, t->ndim, t->shape);
            su_fail(err, "%s: tensor '%.200s': invalid or too large shape %s", path, t->name, s);
            goto done;
        }
        if (bytes && !t->data) { su_fail(err, "%s: tensor '%.200s': NULL data", path, t->name); goto done; }
        e[i].name = t->name;
        e[i].dtype = t->dtype;
        e[i].ndim = t->ndim;
        memcpy(e[i].shape, t->shape, sizeof e[i].shape);
        e[i].begin = pos;
        e[i].end = pos + bytes;
        e[i].data = t->data;
        pos += bytes;
        if (bytes) dcrc = crc32_z(dcrc, t->data, (z_size_t)bytes);
        names[i] = t->name;
    }
    for (size_t i = 0; i < n_meta; i++) {
        if (!meta[i].key || !meta[i].value) { su_fail(err, "%s: metadata entry %zu has a NULL key or value", path, i); goto done; }
        if (is_reserved_key(meta[i].key)) {
            su_fail(err, "%s: metadata key '%s' is reserved for the checksum", path, meta[i].key);
            goto done;
        }
        if (!valid_utf8(meta[i].key) || !valid_utf8(meta[i].value)) {
            su_fail(err, "%s: metadata entry '%.200s' is not valid UTF-8", path, meta[i].key);
            goto done;
        }
        msorted[i] = meta[i];
    }
    qsort(names, n_tensors, sizeof *names, name_ptr_cmp);
    for (size_t i = 1; i < n_tensors; i++)
        if (strcmp(names[i - 1], names[i]) == 0) { su_fail(err, "%s: duplicate tensor name '%.200s'", path, names[i]); goto done; }
    qsort(msorted, n_meta, sizeof *msorted, meta_cmp);
    for (size_t i = 1; i < n_meta; i++)
        if (strcmp(msorted[i - 1].key, msorted[i].key) == 0) {
            su_fail(err, "%s: duplicate metadata key '%.200s'", path, msorted[i].key);
            goto done;
        }

    /* the canonical order ties zero-byte tensors at one offset by name; e[] stays in the given
     * order for the JSON, a sorted copy feeds the checksum */
    ck_entry *sorted = n_tensors ? malloc(n_tensors * sizeof *sorted) : NULL;
    if (n_tensors && !sorted) { su_fail(err, "%s: out of memory", path); goto done; }
    if (n_tensors) memcpy(sorted, e, n_tensors * sizeof *sorted);
    if (n_tensors) qsort(sorted, n_tensors, sizeof *sorted, entry_cmp); /* qsort(NULL, 0) is undefined */
    uint32_t hcrc = header_crc(sorted, n_tensors, msorted, n_meta);
    free(sorted);

    header = build_header(e, n_tensors, meta, n_meta, (uint32_t)dcrc, hcrc);
    if (!header) { su_fail(err, "%s: out of memory building the header", path); goto done; }
    size_t hlen = strlen(header), padded = (hlen + 7) / 8 * 8;
    rc = write_file_atomic(path, header, hlen, padded, e, n_tensors, err);

done:
    free(header);
    free(e);
    free(names);
    free(msorted);
    return rc;
}

/* ---- reader ---------------------------------------------------------------------------- */

void su_checkpoint_free(su_checkpoint *ck) {
    if (!ck) return;
    for (size_t i = 0; ck->tensors && i < ck->n_tensors; i++) free((char *)ck->tensors[i].name);
    for (size_t i = 0; ck->meta && i < ck->n_meta; i++) {
        free((char *)ck->meta[i].key);
        free((char *)ck->meta[i].value);
    }
    free(ck->tensors);
    free(ck->meta);
    free(ck->storage_);
    free(ck->path);
    memset(ck, 0, sizeof *ck);
}

/* A non-negative integral JSON number that is exact as a double. */
static int json_uint(const cJSON *item, uint64_t *out) {
    if (!cJSON_IsNumber(item)) return 0;
    double v = item->valuedouble;
    if (!isfinite(v) || v < 0 || v > (double)MAX_JSON_INT || v != floor(v)) return 0;
    *out = (uint64_t)v;
    return 1;
}

static int parse_hex32(const char *s, uint32_t *out) {
    uint32_t v = 0;
    if (strlen(s) != 8) return 0;
    for (int i = 0; i < 8; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return 0;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 1;
}

/* Validates the file bytes f[0..size) (data section at a 64-byte boundary) and fills ck, which
 * takes ownership of block. */
static int parse(su_checkpoint *ck, const char *label, unsigned char *block, const unsigned char *f,
                 uint64_t size, su_error *err) {
    cJSON *root = NULL;
    ck_entry *e = NULL;
    const char **names = NULL;
    su_checkpoint_meta *meta = NULL;
    size_t n = 0, nm = 0;
    int rc = -1;

    if (SU_BIG_ENDIAN_HOST) { su_fail(err, "%s: reading safetensors on a big-endian host is not supported", label); goto done; }
    if (size < 8) {
        su_fail(err, "%s: truncated (%" PRIu64 " bytes; a safetensors file starts with an 8-byte header length)", label, size);
        goto done;
    }
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)f[i] << (8 * i);
    if (hlen > size - 8) {
        su_fail(err, "%s: header length %" PRIu64 " exceeds file size %" PRIu64 " (truncated, or not a safetensors file)",
                label, hlen, size);
        goto done;
    }
    if (hlen > SU_CHECKPOINT_MAX_HEADER_BYTES) {
        su_fail(err, "%s: header length %" PRIu64 " exceeds the %" PRIu64 "-byte limit", label, hlen,
                SU_CHECKPOINT_MAX_HEADER_BYTES);
        goto done;
    }
    const char *hdr = (const char *)f + 8;
    if (hlen < 2 || hdr[0] != '{') {
        su_fail(err, "%s: header does not start with '{' (not a safetensors file?)", label);
        goto done;
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(hdr, (size_t)hlen, &end, 0);
    if (!root) {
        long at = end ? (long)(end - hdr) : -1;
        su_fail(err, "%s: header is not valid JSON (error near header byte %ld)", label, at);
        goto done;
    }
    for (const char *p = end; p < hdr + hlen; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            su_fail(err, "%s: header has stray bytes after the JSON object (header byte %ld)", label, (long)(p - hdr));
            goto done;
        }
    if (!cJSON_IsObject(root)) { su_fail(err, "%s: header is not a JSON object", label); goto done; }

    const unsigned char *data = f + 8 + hlen;
    uint64_t data_bytes = size - 8 - hlen;
    size_t n_items = (size_t)cJSON_GetArraySize(root);
    e = calloc(n_items ? n_items : 1, sizeof *e);
    names = calloc(n_items ? n_items : 1, sizeof *names);
    if (!e || !names) { su_fail(err, "%s: out of memory", label); goto done; }

    const cJSON *mobj = NULL;
    for (const cJSON *item = root->child; item; item = item->next) {
        const char *name = item->string;
        names[n + (mobj ? 1 : 0)] = name; /* all top-level keys, for the duplicate check */
        if (strcmp(name, "__metadata__") == 0) {
            if (mobj) { su_fail(err, "%s: duplicate \"__metadata__\" entry", label); goto done; }
            if (!cJSON_IsObject(item)) { su_fail(err, "%s: \"__metadata__\" is not an object", label); goto done; }
            mobj = item;
            continue;
        }
        ck_entry *t = &e[n];
        t->name = name;
        if (!*name) { su_fail(err, "%s: a tensor has an empty name", label); goto done; }
        if (!cJSON_IsObject(item)) { su_fail(err, "%s: tensor '%.200s': entry is not an object", label, name); goto done; }
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(item, "dtype");
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(item, "shape");
        const cJSON *of = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
        if (!cJSON_IsString(dt)) { su_fail(err, "%s: tensor '%.200s': missing or non-string \"dtype\"", label, name); goto done; }
        int k = 0;
        while (k < N_DTYPES && strcmp(dt->valuestring, dtype_names[k]) != 0) k++;
        if (k == N_DTYPES) {
            su_fail(err, "%s: tensor '%.200s': unknown dtype '%.32s' (supported: F32, U8, I64)", label, name, dt->valuestring);
            goto done;
        }
        t->dtype = (su_checkpoint_dtype)k;
        int nd = cJSON_IsArray(sh) ? cJSON_GetArraySize(sh) : -1;
        int shape_ok = nd >= 0 && nd <= SU_CHECKPOINT_MAX_DIMS;
        t->ndim = shape_ok ? nd : 0;
        int di = 0;
        for (const cJSON *d = shape_ok ? sh->child : NULL; d && shape_ok; d = d->next) {
            uint64_t v;
            shape_ok = json_uint(d, &v);
            if (shape_ok) t->shape[di++] = (int64_t)v;
        }
        if (!shape_ok) {
            su_fail(err, "%s: tensor '%.200s': \"shape\" is not an array of at most %d non-negative integers", label, name,
                    SU_CHECKPOINT_MAX_DIMS);
            goto done;
        }
        if (!cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2 || !json_uint(of->child, &t->begin) ||
            !json_uint(of->child->next, &t->end)) {
            su_fail(err, "%s: tensor '%.200s': \"data_offsets\" is not a pair of non-negative integers", label, name);
            goto done;
        }
        if (t->begin > t->end) {
            su_fail(err, "%s: tensor '%.200s': data_offsets [%" PRIu64 ", %" PRIu64 "] are reversed", label, name, t->begin, t->end);
            goto done;
        }
        if (t->end > data_bytes) {
            su_fail(err, "%s: tensor '%.200s': data_offsets [%" PRIu64 ", %" PRIu64 "] exceed the %" PRIu64
                         "-byte data section (truncated?)", label, name, t->begin, t->end, data_bytes);
            goto done;
        }
        uint64_t count = shape_elements(t->ndim, t->shape);
        if (count == UINT64_MAX || count * dtype_sizes[k] != t->end - t->begin) {
            char s[256];
            shape_text(s, sizeof s, t->ndim, t->shape);
            su_fail(err, "%s: tensor '%.200s': shape %s of %s needs %s%" PRIu64 " bytes but data_offsets [%" PRIu64 ", %" PRIu64
                         "] hold %" PRIu64, label, name, s, dtype_names[k], count == UINT64_MAX ? "more than " : "",
                    count == UINT64_MAX ? MAX_JSON_INT : count * dtype_sizes[k], t->begin, t->end, t->end - t->begin);
            goto done;
        }
        n++;
    }
    size_t n_names = n + (mobj ? 1 : 0);
    qsort(names, n_names, sizeof *names, name_ptr_cmp);
    for (size_t i = 1; i < n_names; i++)
        if (strcmp(names[i - 1], names[i]) == 0) { su_fail(err, "%s: duplicate tensor name '%.200s'", label, names[i]); goto done; }

    /* the tensors must tile the data section exactly: no overlap, no hole, nothing left over */
    qsort(e, n, sizeof *e, entry_cmp);
    uint64_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].begin < pos) {
            su_fail(err, "%s: tensor '%.200s' offsets [%" PRIu64 ", %" PRIu64 "] overlap tensor '%.200s' [%" PRIu64 ", %" PRIu64 "]",
                    label, e[i].name, e[i].begin, e[i].end, e[i - 1].name, e[i - 1].begin, e[i - 1].end);
            goto done;
        }
        if (e[i].begin > pos) {
            su_fail(err, "%s: data section bytes [%" PRIu64 ", %" PRIu64 ") belong to no tensor (before tensor '%.200s')",
                    label, pos, e[i].begin, e[i].name);
            goto done;
        }
        pos = e[i].end;
    }
    if (pos != data_bytes) {
        su_fail(err, "%s: data section bytes [%" PRIu64 ", %" PRIu64 ") belong to no tensor", label, pos, data_bytes);
        goto done;
    }

    /* metadata: every value a string */
    nm = mobj ? (size_t)cJSON_GetArraySize(mobj) : 0;
    meta = calloc(nm ? nm : 1, sizeof *meta);
    if (!meta) { su_fail(err, "%s: out of memory", label); goto done; }
    size_t im = 0;
    for (const cJSON *m = mobj ? mobj->child : NULL; m; m = m->next, im++) {
        if (!cJSON_IsString(m)) {
            su_fail(err, "%s: metadata value for key '%.200s' is not a string", label, m->string);
            goto done;
        }
        meta[im].key = m->string;
        meta[im].value = m->valuestring;
    }
    qsort(meta, nm, sizeof *meta, meta_cmp);
    const char *dcrc_text = NULL, *hcrc_text = NULL;
    for (size_t i = 0; i < nm; i++) {
        if (i && strcmp(meta[i - 1].key, meta[i].key) == 0) {
            su_fail(err, "%s: duplicate metadata key '%.200s'", label, meta[i].key);
            goto done;
        }
        if (strcmp(meta[i].key, SU_CHECKPOINT_CRC_KEY) == 0) dcrc_text = meta[i].value;
        if (strcmp(meta[i].key, HEADER_CRC_KEY) == 0) hcrc_text = meta[i].value;
    }
    /* our writer always stores both; a lone data checksum means the header key was damaged */
    if (dcrc_text && !hcrc_text) {
        su_fail(err, "%s: metadata has \"%s\" but no \"%s\" (header altered?)", label, SU_CHECKPOINT_CRC_KEY, HEADER_CRC_KEY);
        goto done;
    }
    uint32_t want;
    if (hcrc_text) {
        if (!parse_hex32(hcrc_text, &want)) { su_fail(err, "%s: metadata \"%s\" is not 8 hex digits", label, HEADER_CRC_KEY); goto done; }
        uint32_t got = header_crc(e, n, meta, nm);
        if (got != want) {
            su_fail(err, "%s: header checksum mismatch (file altered): header says %08" PRIx32 ", content gives %08" PRIx32,
                    label, want, got);
            goto done;
        }
    }
    if (dcrc_text) {
        if (!parse_hex32(dcrc_text, &want)) { su_fail(err, "%s: metadata \"%s\" is not 8 hex digits", label, SU_CHECKPOINT_CRC_KEY); goto done; }
        uint32_t got = (uint32_t)crc32_z(crc32_z(0L, Z_NULL, 0), data, (z_size_t)data_bytes);
        if (got != want) {
            su_fail(err, "%s: checksum mismatch (file altered or truncated): header says %08" PRIx32 ", data gives %08" PRIx32,
                    label, want, got);
            goto done;
        }
    }

    /* all checked: copy out what outlives the JSON tree */
    ck->path = strdup(label);
    ck->tensors = calloc(n ? n : 1, sizeof *ck->tensors);
    ck->meta = calloc(nm ? nm : 1, sizeof *ck->meta);
    if (!ck->path || !ck->tensors || !ck->meta) { su_fail(err, "%s: out of memory", label); goto done; }
    for (size_t i = 0; i < n; i++) {
        su_checkpoint_tensor *t = &ck->tensors[i];
        t->name = strdup(e[i].name);
        if (!t->name) { su_fail(err, "%s: out of memory", label); goto done; }
        ck->n_tensors = i + 1;
        t->dtype = e[i].dtype;
        t->ndim = e[i].ndim;
        memcpy(t->shape, e[i].shape, sizeof t->shape);
        t->data = data + e[i].begin;
    }
    for (size_t i = 0; i < nm; i++) {
        ck->meta[i].key = strdup(meta[i].key);
        ck->meta[i].value = strdup(meta[i].value);
        ck->n_meta = i + 1;
        if (!ck->meta[i].key || !ck->meta[i].value) { su_fail(err, "%s: out of memory", label); goto done; }
    }
    ck->has_crc32 = dcrc_text != NULL;
    ck->data_bytes = (size_t)data_bytes;
    ck->storage_ = block;
    block = NULL;
    rc = 0;

done:
    cJSON_Delete(root);
    free(e);
    free(names);
    free(meta);
    if (rc != 0) {
        free(block);
        su_checkpoint_free(ck);
    }
    return rc;
}

/* A block of size bytes (+ slack) where the data section (file offset 8 + hlen) falls on a
 * DATA_ALIGN boundary; *file gets the place for file byte 0. */
static unsigned char *alloc_block(uint64_t size, uint64_t hlen, unsigned char **file) {
    unsigned char *block = malloc((size_t)size + DATA_ALIGN);
    if (!block) return NULL;
    uintptr_t want = (uintptr_t)(8 + hlen) % DATA_ALIGN;
    uintptr_t at = (uintptr_t)block % DATA_ALIGN;
    *file = block + (DATA_ALIGN + (DATA_ALIGN - want) - at) % DATA_ALIGN;
    return block;
}

static uint64_t le64(const unsigned char *p, uint64_t size) {
    uint64_t v = 0;
    for (int i = 0; i < 8 && (uint64_t)i < size; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int su_checkpoint_read_memory(su_checkpoint *ck, const void *bytes, size_t size, const char *label, su_error *err) {
    if (!ck) return su_fail(err, "checkpoint: NULL handle");
    memset(ck, 0, sizeof *ck);
    if (!label) label = "(memory)";
    if (!bytes && size) return su_fail(err, "%s: NULL buffer", label);
    if ((uint64_t)size > SU_CHECKPOINT_MAX_FILE_BYTES)
        return su_fail(err, "%s: %zu bytes exceed the %" PRIu64 "-byte limit", label, size, SU_CHECKPOINT_MAX_FILE_BYTES);
    unsigned char *file;
    unsigned char *block = alloc_block(size, le64(bytes, size), &file);
    if (!block) return su_fail(err, "%s: out of memory (%zu bytes)", label, size);
    if (size) memcpy(file, bytes, size);
    return parse(ck, label, block, file, size, err);
}

static int read_full(int fd, unsigned char *p, size_t n) {
    while (n) {
        ssize_t got = read(fd, p, n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return -1;
        if (got == 0) { errno = 0; return -1; }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

int su_checkpoint_read(su_checkpoint *ck, const char *path, su_error *err) {
    if (!ck) return su_fail(err, "checkpoint: NULL handle");
    memset(ck, 0, sizeof *ck);
    if (!path) return su_fail(err, "checkpoint: NULL path");
    int fd = open(path, O_RDONLY);
    if (fd < 0) return su_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return su_fail(err, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return su_fail(err, "%s: not a regular file", path);
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size > SU_CHECKPOINT_MAX_FILE_BYTES) {
        close(fd);
        return su_fail(err, "%s: %" PRIu64 " bytes exceed the %" PRIu64 "-byte limit", path, size, SU_CHECKPOINT_MAX_FILE_BYTES);
    }
    unsigned char head[8] = {0};
    size_t first = size < 8 ? (size_t)size : 8;
    if (read_full(fd, head, first) != 0) {
        int e = errno;
        close(fd);
        return su_fail(err, "%s: read failed: %s", path, e ? strerror(e) : "file shrank while reading");
    }
    unsigned char *file;
    unsigned char *block = alloc_block(size, le64(head, first), &file);
    if (!block) {
        close(fd);
        return su_fail(err, "%s: out of memory (%" PRIu64 " bytes)", path, size);
    }
    memcpy(file, head, first);
    if (read_full(fd, file + first, (size_t)size - first) != 0) {
        int e = errno;
        close(fd);
        free(block);
        return su_fail(err, "%s: read failed: %s", path, e ? strerror(e) : "file shrank while reading");
    }
    close(fd);
    return parse(ck, path, block, file, size, err);
}

const su_checkpoint_tensor *su_checkpoint_find(const su_checkpoint *ck, const char *name) {
    for (size_t i = 0; ck && name && i < ck->n_tensors; i++)
        if (strcmp(ck->tensors[i].name, name) == 0) return &ck->tensors[i];
    return NULL;
}

const char *su_checkpoint_meta_get(const su_checkpoint *ck, const char *key) {
    if (!ck || !key || !ck->n_meta) return NULL;
    su_checkpoint_meta probe = {key, NULL};
    const su_checkpoint_meta *m = bsearch(&probe, ck->meta, ck->n_meta, sizeof *ck->meta, meta_cmp);
    return m ? m->value : NULL;
}

int su_checkpoint_get(const su_checkpoint *ck, const char *name, su_checkpoint_dtype dtype, int ndim,
                      const int64_t *shape, void *dst, su_error *err) {
    const char *label = ck && ck->path ? ck->path : "checkpoint";
    const su_checkpoint_tensor *t = su_checkpoint_find(ck, name);
    if (!t) return su_fail(err, "%s: no tensor '%.200s'", label, name ? name : "(null)");
    char want[256], got[256];
    int same = t->ndim == ndim && ndim >= 0 && ndim <= SU_CHECKPOINT_MAX_DIMS;
    for (int i = 0; same && i < ndim; i++) same = shape && shape[i] == t->shape[i];
    if (t->dtype != dtype || !same) {
        const char *wn = su_checkpoint_dtype_name(dtype);
        if (ndim >= 0 && ndim <= SU_CHECKPOINT_MAX_DIMS && (shape || ndim == 0)) shape_text(want, sizeof want, ndim, shape);
        else snprintf(want, sizeof want, "(invalid, %d dims)", ndim);
        shape_text(got, sizeof got, t->ndim, t->shape);
        return su_fail(err, "%s: tensor '%.200s' is %s %s, expected %s %s", label, name, su_checkpoint_dtype_name(t->dtype),
                       got, wn ? wn : "?", want);
    }
    uint64_t bytes = su_checkpoint_tensor_bytes(t);
    if (bytes && !dst) return su_fail(err, "%s: tensor '%.200s': NULL destination", label, name);
    if (bytes) memcpy(dst, t->data, (size_t)bytes);
    return 0;
}
