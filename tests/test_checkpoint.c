/* Checkpoints: safetensors round trip, byte-exact layout, and every way a file can be broken.
 * The byte-exact constants (CRCs, header length) were computed independently with Python's zlib
 * and json; the Python cross-check at the end reads our file with safetensors when installed,
 * else with a plain struct/json/numpy parser written from the format description. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "spikeunet/checkpoint.h"

static char dir[256];

static void path_in(char *out, size_t size, const char *name) { snprintf(out, size, "%s/%s", dir, name); }

static unsigned char *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    *size = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static void spit(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

static char *find_bytes(unsigned char *hay, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0) return (char *)hay + i;
    return NULL;
}

/* Number of entries in dir whose name contains ".tmp." */
static int count_temporaries(void) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) n += strstr(de->d_name, ".tmp.") != NULL;
    if (d) closedir(d);
    return n;
}

/* A safetensors file from header text + data (header padded with spaces to a multiple of 8). */
static unsigned char *make_file(const char *json, const void *data, size_t data_len, size_t *size) {
    size_t h = strlen(json), padded = (h + 7) / 8 * 8;
    *size = 8 + padded + data_len;
    unsigned char *b = malloc(*size + 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    memcpy(b + 8, json, h);
    memset(b + 8 + h, ' ', padded - h);
    if (data_len) memcpy(b + 8 + padded, data, data_len);
    return b;
}

/* ---- round trip ------------------------------------------------------------------------- */
static float W[2 * 3 * 4], B[3];
static int64_t STEP = 1234567890123LL;
static unsigned char MASK[5] = {0, 1, 2, 254, 255};
static const char *CONFIG = "{\"model\":\"spiking\",\"T\":4,\"note\":\"caf\xc3\xa9 \\\"quoted\\\"\"}";

static void fill_round_trip(su_checkpoint_tensor t[5], su_checkpoint_meta m[3]) {
    for (int i = 0; i < 24; i++) W[i] = (float)i * 0.5f - 3.0f;
    B[0] = 1e-8f; B[1] = -0.0f; B[2] = 3.4e38f;
    memset(t, 0, 5 * sizeof *t);
    t[0] = (su_checkpoint_tensor){"enc1.w", SU_CKPT_F32, 3, {2, 3, 4}, W};
    t[1] = (su_checkpoint_tensor){"enc1.b", SU_CKPT_F32, 1, {3}, B};
    t[2] = (su_checkpoint_tensor){"step", SU_CKPT_I64, 0, {0}, &STEP};
    t[3] = (su_checkpoint_tensor){"mask", SU_CKPT_U8, 1, {5}, MASK};
    t[4] = (su_checkpoint_tensor){"empty", SU_CKPT_F32, 2, {0, 4}, NULL};
    m[0] = (su_checkpoint_meta){"config", CONFIG};
    m[1] = (su_checkpoint_meta){"epoch", "7"};
    m[2] = (su_checkpoint_meta){"split", "train:patient001,patient022\nval:patient045"};
}

static void test_round_trip(void) {
    su_error err = {{0}};
    su_checkpoint_tensor t[5];
    su_checkpoint_meta m[3];
    fill_round_trip(t, m);
    char p[512];
    path_in(p, sizeof p, "rt.safetensors");
    CHECK_OK(su_checkpoint_write(p, t, 5, m, 3, &err), &err);
    su_checkpoint ck;
    CHECK_OK(su_checkpoint_read(&ck, p, &err), &err);
    CHECK(ck.n_tensors == 5, "n_tensors %zu", ck.n_tensors);
    CHECK(ck.has_crc32 == 1, "crc present");
    CHECK(ck.data_bytes == 96 + 12 + 8 + 5, "data bytes %zu", ck.data_bytes);
    /* data order = given order */
    const char *order[5] = {"enc1.w", "enc1.b", "step", "mask", "empty"};
    for (size_t i = 0; i < 5 && i < ck.n_tensors; i++)
        CHECK(strcmp(ck.tensors[i].name, order[i]) == 0, "tensor %zu is '%s'", i, ck.tensors[i].name);
    for (int i = 0; i < 5; i++) {
        const su_checkpoint_tensor *r = su_checkpoint_find(&ck, t[i].name);
        CHECK(r != NULL, "find %s", t[i].name);
        if (!r) continue;
        CHECK(r->dtype == t[i].dtype && r->ndim == t[i].ndim, "%s dtype/ndim", t[i].name);
        for (int d = 0; d < t[i].ndim; d++) CHECK(r->shape[d] == t[i].shape[d], "%s dim %d", t[i].name, d);
        uint64_t bytes = su_checkpoint_tensor_bytes(r);
        CHECK(bytes == su_checkpoint_tensor_bytes(&t[i]), "%s bytes", t[i].name);
        if (bytes) CHECK(memcmp(r->data, t[i].data, (size_t)bytes) == 0, "%s values", t[i].name);
    }
    const su_checkpoint_tensor *w = su_checkpoint_find(&ck, "enc1.w");
    CHECK(w && (uintptr_t)w->data % 64 == 0, "data section 64-byte aligned");
    /* "step" sits at data offset 96 + 12 = 108: not 8-aligned, so it is read by copying */
    const su_checkpoint_tensor *st = su_checkpoint_find(&ck, "step");
    int64_t step = 0;
    CHECK(st && su_checkpoint_tensor_elements(st) == 1 && (uintptr_t)st->data % 64 == 108 % 64, "scalar I64 at 108");
    CHECK_OK(su_checkpoint_get(&ck, "step", SU_CKPT_I64, 0, NULL, &step, &err), &err);
    CHECK(step == 1234567890123LL, "scalar I64 value %lld", (long long)step);
    CHECK(su_checkpoint_find(&ck, "nope") == NULL, "absent tensor");
    const char *cfg = su_checkpoint_meta_get(&ck, "config");
    CHECK(cfg && strcmp(cfg, CONFIG) == 0, "config '%s'", cfg ? cfg : "(null)");
    CHECK(su_checkpoint_meta_get(&ck, "epoch") && strcmp(su_checkpoint_meta_get(&ck, "epoch"), "7") == 0, "epoch");
    CHECK(su_checkpoint_meta_get(&ck, "split") && strcmp(su_checkpoint_meta_get(&ck, "split"), m[2].value) == 0, "split");
    CHECK(su_checkpoint_meta_get(&ck, "crc32") && strlen(su_checkpoint_meta_get(&ck, "crc32")) == 8, "crc32 key");
    CHECK(su_checkpoint_meta_get(&ck, "missing") == NULL, "absent key");

    /* checked copy */
    float got[24] = {0};
    int64_t shp[3] = {2, 3, 4}, bad[3] = {2, 4, 3};
    CHECK_OK(su_checkpoint_get(&ck, "enc1.w", SU_CKPT_F32, 3, shp, got, &err), &err);
    CHECK(memcmp(got, W, sizeof W) == 0, "get copies");
    CHECK_FAILS_WITH(su_checkpoint_get(&ck, "enc1.w", SU_CKPT_F32, 3, bad, got, &err), &err,
                     "tensor 'enc1.w' is F32 [2,3,4], expected F32 [2,4,3]");
    CHECK_FAILS_WITH(su_checkpoint_get(&ck, "enc1.w", SU_CKPT_I64, 3, shp, got, &err), &err, "expected I64");
    CHECK_FAILS_WITH(su_checkpoint_get(&ck, "dec9.w", SU_CKPT_F32, 3, shp, got, &err), &err, "no tensor 'dec9.w'");
    CHECK(strstr(err.msg, "rt.safetensors") != NULL, "names the file: %s", err.msg);
    su_checkpoint_free(&ck);
    su_checkpoint_free(&ck); /* twice is harmless */

    /* overwrite in place: the new content wins, no temporary left */
    float one = 1.0f;
    su_checkpoint_tensor t1 = {"x", SU_CKPT_F32, 1, {1}, &one};
    CHECK_OK(su_checkpoint_write(p, &t1, 1, NULL, 0, &err), &err);
    CHECK_OK(su_checkpoint_read(&ck, p, &err), &err);
    CHECK(ck.n_tensors == 1 && su_checkpoint_find(&ck, "x") != NULL, "overwritten");
    su_checkpoint_free(&ck);
    struct stat sb;
    CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0644, "mode 0644 (got %o)", (unsigned)(sb.st_mode & 0777));
    CHECK(count_temporaries() == 0, "no temporary left");
}

/* ---- byte-exact layout ------------------------------------------------------------------ */
static void test_exact_layout(void) {
    su_error err = {{0}};
    float a[2] = {1.0f, -2.0f};
    unsigned char b[3] = {1, 2, 3};
    su_checkpoint_tensor t[2] = {{"a", SU_CKPT_F32, 1, {2}, a}, {"b", SU_CKPT_U8, 1, {3}, b}};
    su_checkpoint_meta m[1] = {{"k", "v"}};
    char p[512];
    path_in(p, sizeof p, "exact.safetensors");
    CHECK_OK(su_checkpoint_write(p, t, 2, m, 1, &err), &err);
    /* python: zlib.crc32(struct.pack('<ff',1,-2)+bytes([1,2,3])) = 0x8d8f477b;
     * zlib.crc32(b"a\0F32\0" b"2\0" b"0,8\0" b"b\0U8\0" b"3\0" b"8,11\0" b"k\0v\0") = 0x6d535f50 */
    const char *json = "{\"__metadata__\":{\"k\":\"v\",\"crc32\":\"8d8f477b\",\"crc32_header\":\"6d535f50\"},"
                       "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                       "\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[8,11]}}";
    CHECK(strlen(json) == 177, "hand header is 177 bytes");
    const unsigned char data[11] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 1, 2, 3};
    size_t want_n;
    unsigned char *want = make_file(json, data, sizeof data, &want_n);
    size_t got_n = 0;
    unsigned char *got = slurp(p, &got_n);
    CHECK(want_n == 203 && got_n == 203, "file size %zu (want 203 = 8 + 184 + 11)", got_n);
    CHECK(got && got[0] == 184 && got[1] == 0 && got[7] == 0, "header length 184 little-endian");
    CHECK(got && got_n == want_n && memcmp(got, want, want_n) == 0, "byte-identical to the hand-built file: %.*s",
          got ? (int)(got_n > 8 ? got_n - 8 : 0) : 0, got ? (const char *)got + 8 : "");
    /* and the hand-built bytes read back */
    su_checkpoint ck;
    CHECK_OK(su_checkpoint_read_memory(&ck, want, want_n, "hand", &err), &err);
    const su_checkpoint_tensor *ta = su_checkpoint_find(&ck, "a");
    CHECK(ta && ((const float *)ta->data)[1] == -2.0f, "a[1]");
    su_checkpoint_free(&ck);
    free(want);
    free(got);
}

/* ---- corrupt files ---------------------------------------------------------------------- */
static void expect_bad(const char *json, const void *data, size_t n, const char *needle) {
    su_error err = {{0}};
    size_t size;
    unsigned char *b = make_file(json, data, n, &size);
    su_checkpoint ck;
    CHECK_FAILS_WITH(su_checkpoint_read_memory(&ck, b, size, "bad.safetensors", &err), &err, needle);
    CHECK(strncmp(err.msg, "bad.safetensors: ", 17) == 0, "message names the file: %s", err.msg);
    CHECK(ck.n_tensors == 0 && ck.tensors == NULL && ck.storage_ == NULL, "left empty");
    free(b);
}

static void test_corrupt(void) {
    su_error err = {{0}};
    su_checkpoint_tensor t[5];
    su_checkpoint_meta m[3];
    fill_round_trip(t, m);
    char p[512], q[512];
    path_in(p, sizeof p, "good.safetensors");
    path_in(q, sizeof q, "cut.safetensors");
    CHECK_OK(su_checkpoint_write(p, t, 5, m, 3, &err), &err);
    size_t n = 0;
    unsigned char *good = slurp(p, &n);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)good[i] << (8 * i);
    size_t data0 = 8 + (size_t)hlen;
    su_checkpoint ck;

    /* truncated at several lengths: never accepted, always a clear message */
    size_t cuts[] = {0, 1, 7, 8, 9, 100, data0 - 1, data0, data0 + 1, data0 + 50, n - 6, n - 1};
    const char *needles[] = {"truncated", "truncated", "truncated", "header length", "header length",
                             "header length", "header length", "data section", "data section",
                             "data section", "data section", "data section"};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        spit(q, good, cuts[i]);
        CHECK_FAILS_WITH(su_checkpoint_read(&ck, q, &err), &err, needles[i]);
        CHECK(strstr(err.msg, "cut.safetensors") != NULL, "cut %zu names the file: %s", cuts[i], err.msg);
    }
    /* the last tensor (zero bytes) ends exactly at the end: cutting the U8 mask's last byte is
     * caught by the offsets; a data byte flip only by the checksum */
    unsigned char *b = malloc(n);
    size_t flips[] = {data0, data0 + 50, n - 1};
    for (size_t i = 0; i < 3; i++) {
        memcpy(b, good, n);
        b[flips[i]] ^= 0x01;
        CHECK_FAILS_WITH(su_checkpoint_read_memory(&ck, b, n, "flip", &err), &err,
                         "checksum mismatch (file altered or truncated)");
    }
    /* flipped header bytes: in a tensor name, in a metadata value, in an offset, the brace */
    const char *spots[] = {"enc1.w", "\"epoch\":\"7\"", "[0,96]", "{", "crc32_header", "\"crc32\""};
    const int delta[] = {2, 9, 3, 0, 6, 1};
    const char *hneedle[] = {"header checksum mismatch", "header checksum mismatch", "enc1.w", "does not start",
                             "but no \"crc32_header\"", "header checksum mismatch"};
    for (int i = 0; i < 6; i++) {
        memcpy(b, good, n);
        char *hit = find_bytes(b + 8, (size_t)hlen, spots[i]);
        CHECK(hit != NULL, "spot %s in header", spots[i]);
        if (!hit) continue;
        hit[delta[i]] ^= (i == 2 ? 0x01 : 0x02); /* 'c'->'a', '7'->'5', '9'->'8', '{'->'y', 'h'->'j', 'c'->'a' */
        CHECK_FAILS_WITH(su_checkpoint_read_memory(&ck, b, n, "hflip", &err), &err, hneedle[i]);
    }
    /* absurd header length */
    memcpy(b, good, n);
    b[7] = 0x40;
    CHECK_FAILS_WITH(su_checkpoint_read_memory(&ck, b, n, "absurd", &err), &err, "header length 4611686018427388");
    CHECK(strstr(err.msg, "exceeds file size") != NULL, "%s", err.msg);
    free(b);
    free(good);

    /* a header larger than the 100 MiB limit inside a file that really is that big is refused
     * before parsing; simulated with a small buffer is impossible, so check the message path
     * through "exceeds file size" above and the limit constant here */
    CHECK(SU_CHECKPOINT_MAX_HEADER_BYTES == 100u << 20, "header limit");

    const unsigned char d16[16] = {0};
    expect_bad("{\"a\":", d16, 0, "not valid JSON");
    expect_bad("[1,2]", d16, 0, "does not start with '{'");
    expect_bad("{}x", d16, 0, "stray bytes");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
               "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}", d16, 6,
               "tensor 'b' offsets [2, 6] overlap tensor 'a' [0, 4]");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
               "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[6,10]}}", d16, 10,
               "bytes [4, 6) belong to no tensor");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", d16, 6, "bytes [4, 6) belong to no tensor");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", d16, 2,
               "tensor 'a': data_offsets [0, 4] exceed the 2-byte data section");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,0]}}", d16, 4, "reversed");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,4]}}", d16, 4,
               "shape [3] of U8 needs 3 bytes but data_offsets [0, 4] hold 4");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", d16, 4,
               "needs more than");
    expect_bad("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", d16, 4, "unknown dtype 'F16'");
    expect_bad("{\"a\":{\"shape\":[2],\"data_offsets\":[0,4]}}", d16, 4, "\"dtype\"");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[-4],\"data_offsets\":[0,4]}}", d16, 4, "\"shape\" is not");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", d16, 4, "\"shape\" is not");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,4],\"data_offsets\":[0,4]}}", d16, 4, "at most 8");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0]}}", d16, 4, "\"data_offsets\" is not");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,-4]}}", d16, 4, "\"data_offsets\" is not");
    expect_bad("{\"a\":7}", d16, 0, "tensor 'a': entry is not an object");
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
               "\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}", d16, 4, "duplicate tensor name 'a'");
    expect_bad("{\"__metadata__\":{\"epoch\":7}}", d16, 0, "metadata value for key 'epoch' is not a string");
    expect_bad("{\"__metadata__\":{\"cfg\":{\"T\":4}}}", d16, 0, "metadata value for key 'cfg' is not a string");
    expect_bad("{\"__metadata__\":[]}", d16, 0, "\"__metadata__\" is not an object");
    expect_bad("{\"__metadata__\":{\"crc32\":\"xyz\",\"crc32_header\":\"00000000\"}}", d16, 0, "\"crc32\" is not 8 hex digits");
    expect_bad("{\"__metadata__\":{\"crc32\":\"00000000\"}}", d16, 0, "but no \"crc32_header\"");
    /* crc32 of no data is 00000000, canonical header of nothing is 00000000 too */
    expect_bad("{\"__metadata__\":{\"crc32\":\"00000001\",\"crc32_header\":\"00000000\"}}", d16, 0, "checksum mismatch");
    expect_bad("{\"__metadata__\":{\"crc32\":\"00000000\",\"crc32_header\":\"00000001\"}}", d16, 0,
               "header checksum mismatch");

    /* files from other writers (no checksum, no metadata) are fine */
    const float four = 4.0f;
    size_t size;
    unsigned char *f = make_file("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", &four, 4, &size);
    CHECK_OK(su_checkpoint_read_memory(&ck, f, size, "foreign", &err), &err);
    CHECK(ck.has_crc32 == 0 && ck.n_meta == 0 && ck.n_tensors == 1 && *(const float *)ck.tensors[0].data == 4.0f, "foreign");
    su_checkpoint_free(&ck);
    free(f);
    f = make_file("{}", NULL, 0, &size);
    CHECK_OK(su_checkpoint_read_memory(&ck, f, size, "empty", &err), &err);
    CHECK(ck.n_tensors == 0, "empty file has no tensors");
    su_checkpoint_free(&ck);
    free(f);

    /* missing file, a directory */
    path_in(q, sizeof q, "does-not-exist.safetensors");
    CHECK_FAILS_WITH(su_checkpoint_read(&ck, q, &err), &err, "does-not-exist.safetensors: cannot open: No such file");
    CHECK_FAILS_WITH(su_checkpoint_read(&ck, dir, &err), &err, "not a regular file");
}

/* ---- writer argument checks ------------------------------------------------------------- */
static void test_write_errors(void) {
    su_error err = {{0}};
    float x[2] = {1, 2};
    char p[512];
    path_in(p, sizeof p, "args.safetensors");
    su_checkpoint_tensor dup[2] = {{"w", SU_CKPT_F32, 1, {1}, x}, {"w", SU_CKPT_F32, 1, {1}, x + 1}};
    CHECK_FAILS_WITH(su_checkpoint_write(p, dup, 2, NULL, 0, &err), &err, "duplicate tensor name 'w'");
    su_checkpoint_tensor ok = {"w", SU_CKPT_F32, 1, {2}, x};
    su_checkpoint_meta reserved = {"crc32", "0"};
    CHECK_FAILS_WITH(su_checkpoint_write(p, &ok, 1, &reserved, 1, &err), &err, "metadata key 'crc32' is reserved");
    su_checkpoint_meta dupm[2] = {{"a", "1"}, {"a", "2"}};
    CHECK_FAILS_WITH(su_checkpoint_write(p, &ok, 1, dupm, 2, &err), &err, "duplicate metadata key 'a'");
    su_checkpoint_meta latin1 = {"note", "caf\xe9"};
    CHECK_FAILS_WITH(su_checkpoint_write(p, &ok, 1, &latin1, 1, &err), &err, "not valid UTF-8");
    su_checkpoint_tensor nine = {"w", SU_CKPT_F32, 9, {1, 1, 1, 1, 1, 1, 1, 1}, x};
    CHECK_FAILS_WITH(su_checkpoint_write(p, &nine, 1, NULL, 0, &err), &err, "9 dimensions");
    su_checkpoint_tensor neg = {"w", SU_CKPT_F32, 1, {-2}, x};
    CHECK_FAILS_WITH(su_checkpoint_write(p, &neg, 1, NULL, 0, &err), &err, "shape [-2]");
    su_checkpoint_tensor nodata = {"w", SU_CKPT_F32, 1, {2}, NULL};
    CHECK_FAILS_WITH(su_checkpoint_write(p, &nodata, 1, NULL, 0, &err), &err, "NULL data");
    su_checkpoint_tensor meta_name = {"__metadata__", SU_CKPT_F32, 1, {2}, x};
    CHECK_FAILS_WITH(su_checkpoint_write(p, &meta_name, 1, NULL, 0, &err), &err, "reserved");
    su_checkpoint_tensor noname = {"", SU_CKPT_F32, 1, {2}, x};
    CHECK_FAILS_WITH(su_checkpoint_write(p, &noname, 1, NULL, 0, &err), &err, "has no name");
    su_checkpoint_tensor baddt = {"w", (su_checkpoint_dtype)7, 1, {2}, x};
    CHECK_FAILS_WITH(su_checkpoint_write(p, &baddt, 1, NULL, 0, &err), &err, "invalid dtype");
    struct stat sb;
    CHECK(stat(p, &sb) != 0, "nothing written on argument errors");
    char nodir[600];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir/x.safetensors", dir);
    CHECK_FAILS_WITH(su_checkpoint_write(nodir, &ok, 1, NULL, 0, &err), &err, "cannot create a temporary file");
    CHECK(strstr(err.msg, "no/such/dir/x.safetensors") != NULL, "names the target: %s", err.msg);
    CHECK(count_temporaries() == 0, "no temporary left");
}

/* ---- disk full -------------------------------------------------------------------------- */
static void test_disk_full(void) {
    su_error err = {{0}};
    char p[512];
    path_in(p, sizeof p, "full.safetensors");
    float small[4] = {1, 2, 3, 4};
    su_checkpoint_tensor t0 = {"w", SU_CKPT_F32, 1, {4}, small};
    su_checkpoint_meta m0 = {"epoch", "1"};
    CHECK_OK(su_checkpoint_write(p, &t0, 1, &m0, 1, &err), &err);
    size_t n_before = 0;
    unsigned char *before = slurp(p, &n_before);

    int fds[2];
    CHECK(pipe(fds) == 0, "pipe");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* child: files may not grow past 4 KiB; writing 256 KiB must fail with EFBIG */
        close(fds[0]);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {4096, 4096};
        setrlimit(RLIMIT_FSIZE, &rl);
        static float big[65536];
        su_checkpoint_tensor t1 = {"w", SU_CKPT_F32, 1, {65536}, big};
        su_error e = {{0}};
        int rc = su_checkpoint_write(p, &t1, 1, NULL, 0, &e);
        ssize_t wrote = write(fds[1], e.msg, strlen(e.msg) + 1);
        (void)wrote;
        _exit(rc == -1 ? 0 : 1);
    }
    close(fds[1]);
    char msg[1100] = {0};
    size_t got = 0;
    ssize_t r;
    while ((r = read(fds[0], msg + got, sizeof msg - 1 - got)) > 0) got += (size_t)r;
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child write failed as it should (status %d)", status);
    CHECK(strstr(msg, "full.safetensors") != NULL && strstr(msg, "File too large") != NULL, "message: %s", msg);
    size_t n_after = 0;
    unsigned char *after = slurp(p, &n_after);
    CHECK(after && n_after == n_before && memcmp(before, after, n_before) == 0, "previous file byte-identical");
    CHECK(count_temporaries() == 0, "no temporary left");
    su_checkpoint ck;
    CHECK_OK(su_checkpoint_read(&ck, p, &err), &err);
    su_checkpoint_free(&ck);
    free(before);
    free(after);
}

/* ---- Python cross-check ----------------------------------------------------------------- */
static const char *PY =
    "import sys, json, struct, zlib\n"
    "import numpy as np\n"
    "path = sys.argv[1]\n"
    "try:\n"
    "    from safetensors.numpy import load_file\n"
    "    from safetensors import safe_open\n"
    "    t = load_file(path)\n"
    "    with safe_open(path, 'np') as f: meta = f.metadata()\n"
    "    how = 'safetensors'\n"
    "except ImportError:\n"
    "    raw = open(path, 'rb').read()\n"
    "    (n,) = struct.unpack('<Q', raw[:8])\n"
    "    assert n % 8 == 0\n"
    "    h = json.loads(raw[8:8 + n].decode('utf-8'))\n"
    "    data = raw[8 + n:]\n"
    "    meta = h.pop('__metadata__')\n"
    "    assert all(isinstance(v, str) for v in meta.values())\n"
    "    assert int(meta['crc32'], 16) == zlib.crc32(data)\n"
    "    dt = {'F32': '<f4', 'U8': 'u1', 'I64': '<i8'}\n"
    "    t = {k: np.frombuffer(data[v['data_offsets'][0]:v['data_offsets'][1]], dtype=dt[v['dtype']]).reshape(v['shape'])\n"
    "         for k, v in h.items()}\n"
    "    how = 'a plain struct/json/numpy parser'\n"
    "w = np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.5 - 3\n"
    "assert t['enc1.w'].dtype == np.float32 and np.array_equal(t['enc1.w'], w)\n"
    "assert np.array_equal(t['enc1.b'], np.array([1e-8, -0.0, 3.4e38], dtype=np.float32))\n"
    "assert t['step'].shape == () and int(t['step']) == 1234567890123\n"
    "assert t['mask'].tolist() == [0, 1, 2, 254, 255]\n"
    "assert t['empty'].shape == (0, 4)\n"
    "assert json.loads(meta['config']) == {'model': 'spiking', 'T': 4, 'note': 'caf\\u00e9 \"quoted\"'}\n"
    "assert meta['epoch'] == '7'\n"
    "print('python cross-check read the file with', how)\n";

static void test_python(void) {
    if (access("/usr/bin/python3", X_OK) != 0 || system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0) {
        printf("note: /usr/bin/python3 with numpy not available; Python cross-check skipped\n");
        return;
    }
    char p[512], script[512], cmd[1200];
    path_in(p, sizeof p, "rt.safetensors");
    path_in(script, sizeof script, "check.py");
    su_error err = {{0}};
    su_checkpoint_tensor t[5];
    su_checkpoint_meta m[3];
    fill_round_trip(t, m);
    CHECK_OK(su_checkpoint_write(p, t, 5, m, 3, &err), &err);
    spit(script, PY, strlen(PY));
    fflush(stdout);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s'", script, p);
    CHECK(system(cmd) == 0, "python cross-check failed");
}

static void cleanup(void) {
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[600];
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(dir);
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/su_ckpt_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip();
    test_exact_layout();
    test_corrupt();
    test_write_errors();
    test_disk_full();
    test_python();
    cleanup();
    return check_report("checkpoint");
}
