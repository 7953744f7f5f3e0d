/* Checkpoints: named tensors + string metadata in the safetensors format, so that Python's
 * safetensors / PyTorch users can load them (safetensors.numpy.load_file, safe_open).
 *
 * File layout (all little-endian):
 *   u64 N | N bytes of JSON header, padded with spaces so that N % 8 == 0 | data section
 * Header: {"__metadata__":{"key":"value",...},
 *          "<name>":{"dtype":"F32","shape":[2,3],"data_offsets":[begin,end]}, ...}
 * with offsets relative to the data section; tensors are packed back to back in the order given.
 * The writer adds metadata key "crc32" (8 lowercase hex digits, zlib CRC-32 of the data section)
 * and "crc32_header" (CRC-32 of the names, dtypes, shapes, offsets and metadata in a canonical form,
 * see docs/CHECKPOINT.md); the reader checks both when present, and validates every offset and
 * shape before trusting any.
 *
 * Alignment: a tensor's data starts at data-section offset `begin`; the reader keeps the data
 * section 64-byte aligned, so a tensor is aligned to its element size when every tensor before it
 * has a byte size that is a multiple of that element size (put F32/I64 tensors before U8 ones, or
 * use su_checkpoint_get, which copies). */
#ifndef SPIKEUNET_CHECKPOINT_H
#define SPIKEUNET_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "spikeunet/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SU_CHECKPOINT_MAX_DIMS 8
/* The reader refuses files larger than this (it reads the whole file into memory). */
#define SU_CHECKPOINT_MAX_FILE_BYTES ((uint64_t)4 << 30)
/* ... and headers larger than this (the limit the safetensors library itself uses). */
#define SU_CHECKPOINT_MAX_HEADER_BYTES ((uint64_t)100 << 20)
/* Metadata key the writer reserves for the data-section checksum. */
#define SU_CHECKPOINT_CRC_KEY "crc32"

typedef enum su_checkpoint_dtype {
    SU_CKPT_F32 = 0, /* "F32" float */
    SU_CKPT_U8,      /* "U8"  uint8_t */
    SU_CKPT_I64      /* "I64" int64_t */
} su_checkpoint_dtype;

/* One tensor. For the writer the caller fills it (data points at n_elements * element size
 * bytes; it may be NULL when that is 0). For the reader, name and data point into the opened
 * su_checkpoint and stay valid until su_checkpoint_free. ndim 0 is a scalar (1 element). */
typedef struct su_checkpoint_tensor {
    const char *name;
    su_checkpoint_dtype dtype;
    int ndim;
    int64_t shape[SU_CHECKPOINT_MAX_DIMS];
    const void *data;
} su_checkpoint_tensor;

/* One metadata entry; both strings must be valid UTF-8 (the model puts its configuration as a
 * JSON string under one key, plus epoch, RNG state, data split, ...). */
typedef struct su_checkpoint_meta {
    const char *key;
    const char *value;
} su_checkpoint_meta;

/* An opened, fully validated checkpoint. Fields are read-only for the caller. tensors[] are
 * sorted by their position in the data section (= the order the writer was given). */
typedef struct su_checkpoint {
    char *path;                    /* the file (or label) it was read from */
    size_t n_tensors;
    su_checkpoint_tensor *tensors;
    size_t n_meta;
    su_checkpoint_meta *meta;      /* sorted by key; includes "crc32"/"crc32_header" when present */
    int has_crc32;                 /* 1 when the file carried a checksum (and it matched) */
    size_t data_bytes;             /* size of the data section */
    void *storage_;                /* private: file bytes, names, arrays */
} su_checkpoint;

/* "F32", "U8", "I64" (NULL for an invalid value) and the element size in bytes (0 if invalid). */
const char *su_checkpoint_dtype_name(su_checkpoint_dtype dtype);
size_t su_checkpoint_dtype_size(su_checkpoint_dtype dtype);
/* Number of elements (product of the shape; 1 for ndim 0) and bytes of a tensor. */
uint64_t su_checkpoint_tensor_elements(const su_checkpoint_tensor *t);
uint64_t su_checkpoint_tensor_bytes(const su_checkpoint_tensor *t);

/* Writes path atomically: a temporary file beside it (path.tmp.XXXXXX), fflush + fsync, rename,
 * fsync of the directory. On any failure (bad arguments, duplicate names, a reserved or non-UTF-8
 * key, ENOSPC/EFBIG/EIO from write, flush, fsync or close) the temporary is removed, an existing
 * file at path is left as it was, and err names path and the fault. The file gets mode 0644. */
int su_checkpoint_write(const char *path, const su_checkpoint_tensor *tensors, size_t n_tensors,
                        const su_checkpoint_meta *meta, size_t n_meta, su_error *err);

/* Reads and validates path (whole file into memory, at most SU_CHECKPOINT_MAX_FILE_BYTES).
 * On failure ck is left empty (safe to free) and err names the file and the fault. */
int su_checkpoint_read(su_checkpoint *ck, const char *path, su_error *err);
/* The same from bytes in memory (copied); label stands for the file name in messages. */
int su_checkpoint_read_memory(su_checkpoint *ck, const void *bytes, size_t size,
                              const char *label, su_error *err);
void su_checkpoint_free(su_checkpoint *ck);

/* Lookup by name / key; NULL when absent. */
const su_checkpoint_tensor *su_checkpoint_find(const su_checkpoint *ck, const char *name);
const char *su_checkpoint_meta_get(const su_checkpoint *ck, const char *key);

/* Copies tensor `name` into dst after checking that it exists and has exactly this dtype and
 * shape; the message names the file, the tensor and both shapes otherwise. */
int su_checkpoint_get(const su_checkpoint *ck, const char *name, su_checkpoint_dtype dtype,
                      int ndim, const int64_t *shape, void *dst, su_error *err);

#ifdef __cplusplus
}
#endif
#endif
