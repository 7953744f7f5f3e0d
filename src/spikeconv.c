/* Convolutions fed by binary spikes (include/spikeunet/spikeconv.h): the plan, the packing of spikes into
 * a bit mask, run-time choice of the kernels (src/spikeconv_kern.h) and the threading around them.
 *
 * Why a bit mask: a voxel's Cin spikes become ceil(Cin/64) words whose set bits are scanned (count
 * trailing zeros, clear lowest bit), so the work per voxel follows the number of spikes, not Cin. The mask
 * has a halo of zero voxels (padding 1), so the 27 neighbours of any voxel are read without border tests.
 * Weights are kept as rows wt[k][ci][0..Cp): one spike adds one contiguous row to the outputs held in
 * registers (forward), and one dout row is added to one row of a per-thread gradient partial (weight
 * gradient). When the rows of all 27 offsets would not stay near L1 (wider layers) the offsets are taken
 * in blocks, each block over a chunk of voxels. Narrow layers use byte tables instead, and the weight
 * gradient of most layers gathers dout rows per input channel (see spikeconv.h, su_spikeconv_method). Measurements: docs/SPIKECONV.md. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "spikeconv_impl.h"

/* Weight rows of one pass (offsets x Cin x Cp floats) are kept under this many bytes (at least one
 * offset): the rows' loads, not the adds, bound the forward, and measured 32 -> 32 .. 128 -> 128 layers
 * ran 10-25 % faster with 64 KiB passes than with 384 KiB ones, despite rereading the outputs per pass. */
#define SK_L2_BUDGET (64 * 1024)
/* Voxels per forward work item, and per interleaved weight-gradient item. */
#define SK_CHUNK_VOXELS 128
/* Byte tables are built for layers of at most 16 input channels (two lookups per offset) whose table
 * stays under this size: for wider layers a table lookup costs more (L3) than the rows of the spikes. */
#define SK_TABLE_MAX (2u << 20)

static void *alloc64(size_t bytes, size_t *held) {
    void *q = NULL;
    if (posix_memalign(&q, 64, bytes ? bytes : 64)) return NULL;
    *held += bytes;
    return q;
}

static int cpu_has(su_spikeconv_isa isa) {
#if defined(SK_HAVE_X86)
    __builtin_cpu_init();
    if (isa == SU_SPIKECONV_ISA_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
    if (isa == SU_SPIKECONV_ISA_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2") &&
               __builtin_cpu_supports("popcnt");
#endif
    return isa == SU_SPIKECONV_ISA_BASELINE;
}

static const char *isa_name(su_spikeconv_isa isa) {
    return isa == SU_SPIKECONV_ISA_AVX512 ? "AVX-512" : isa == SU_SPIKECONV_ISA_AVX2 ? "AVX2" : "baseline";
}

int su_spikeconv_set_isa(su_spikeconv *p, su_spikeconv_isa isa, su_error *err) {
    if (isa == SU_SPIKECONV_ISA_AUTO)
        isa = cpu_has(SU_SPIKECONV_ISA_AVX512) ? SU_SPIKECONV_ISA_AVX512
              : cpu_has(SU_SPIKECONV_ISA_AVX2) ? SU_SPIKECONV_ISA_AVX2
                                               : SU_SPIKECONV_ISA_BASELINE;
    if (isa < SU_SPIKECONV_ISA_BASELINE || isa > SU_SPIKECONV_ISA_AVX512)
        return su_fail(err, "spike convolution: unknown instruction set %d", (int)isa);
    if (!cpu_has(isa)) return su_fail(err, "spike convolution: this CPU lacks %s", isa_name(isa));
    p->isa = isa;
    p->pack_f32 = sk_pack_f32_base;
    p->pack_u8 = sk_pack_u8_base;
    p->forward = sk_forward_base;
    p->wgrad = sk_wgrad_base;
    p->build_table = sk_build_table_base;
    p->fold_table = sk_fold_table_base;
#if defined(SK_HAVE_X86)
    if (isa == SU_SPIKECONV_ISA_AVX2) {
        p->pack_f32 = sk_pack_f32_avx2;
        p->pack_u8 = sk_pack_u8_avx2;
        p->forward = sk_forward_avx2;
        p->wgrad = sk_wgrad_avx2;
        p->build_table = sk_build_table_avx2;
        p->wgrad_gather = sk_wgrad_gather_avx2;
        p->fold_table = sk_fold_table_avx2;
    } else if (isa == SU_SPIKECONV_ISA_AVX512) {
        p->pack_f32 = sk_pack_f32_avx512;
        p->pack_u8 = sk_pack_u8_avx512;
        p->forward = sk_forward_avx512;
        p->wgrad = sk_wgrad_avx512;
        p->build_table = sk_build_table_avx512;
        p->wgrad_gather = sk_wgrad_gather_avx512;
        p->fold_table = sk_fold_table_avx512;
    }
#endif
    return 0;
}

su_spikeconv_isa su_spikeconv_get_isa(const su_spikeconv *p) { return p->isa; }

/* Rows r = (n*D + d)*H + h of W voxels. */
static long rows(const su_spikeconv *p) { return (long)p->N * p->D * p->H; }

/* The gathering weight gradient needs k = 3 and whole vectors of outputs. */
static int gather_ok(const su_spikeconv *p) { return p->k == 3 && p->Cout == p->Cp; }

/* Entries of one thread's active list: every offset and channel, the padding, 16 of slack. */
static size_t list_len(const su_spikeconv *p) { return (size_t)p->K3 * p->Cin + 64; }

int su_spikeconv_create(su_spikeconv **out, int k, int N, int D, int H, int W, int Cin, int Cout, su_error *err) {
    *out = NULL;
    if (k != 1 && k != 3) return su_fail(err, "spike convolution: kernel size %d (expected 1 or 3)", k);
    if (N < 1 || D < 1 || H < 1 || W < 1 || Cin < 1 || Cout < 1 || Cin > 4096 || Cout > 65536 ||
        (long)N * D * H * W > INT32_MAX)
        return su_fail(err, "spike convolution: bad sizes N=%d D=%d H=%d W=%d Cin=%d Cout=%d", N, D, H, W, Cin,
                       Cout);
    su_spikeconv *p = calloc(1, sizeof *p);
    if (!p) return su_fail(err, "spike convolution: out of memory");
    p->k = k;
    p->N = N;
    p->D = D;
    p->H = H;
    p->W = W;
    p->Cin = Cin;
    p->Cout = Cout;
    p->K3 = k * k * k;
    if (Cout <= SK_CHUNK) {
        p->Cp = 16;
        while (p->Cp < Cout) p->Cp *= 2;
    } else {
        p->Cp = (Cout + SK_CHUNK - 1) / SK_CHUNK * SK_CHUNK;
    }
    p->NW = (Cin + 63) / 64;
    p->MB = (Cin + 7) / 8;
    p->last = Cin % 64 ? (((uint64_t)1 << (Cin % 64)) - 1) : ~(uint64_t)0;
    p->pad = k / 2;
    p->Dp = D + 2 * p->pad;
    p->Hp = H + 2 * p->pad;
    p->Wp = W + 2 * p->pad;
    p->Sp = (long)p->Dp * p->Hp * p->Wp;
    for (int kd = 0; kd < k; kd++)
        for (int kh = 0; kh < k; kh++)
            for (int kw = 0; kw < k; kw++) p->off[(kd * k + kh) * k + kw] = ((long)kd * p->Hp + kh) * p->Wp + kw;
    if (k == 3)
        for (int kk = 0; kk < 27; kk++)
            p->doff[kk] = -(((long)(kk / 9 - 1) * H + (kk / 3 % 3 - 1)) * W + (kk % 3 - 1));
    {
        long tv = 65536 / Cin, tr;
        tv = tv < 256 ? 256 : tv > 2048 ? 2048 : tv;
        tr = tv / W < 1 ? 1 : tv / W;
        p->tile_voxels = tr * W;
    }
    size_t row_bytes = sizeof(float) * (size_t)Cin * p->Cp;
    p->kblock = (int)(SK_L2_BUDGET / row_bytes);
    if (p->kblock < 1) p->kblock = 1;
    if (p->kblock > p->K3) p->kblock = p->K3;
    p->threads = omp_get_max_threads();
    size_t wsz = ((size_t)p->K3 * Cin + 1) * p->Cp, rb = (size_t)(W > p->K3 ? W : p->K3) * p->Cp;
    p->mask = alloc64((size_t)N * p->Sp * p->MB + 8, &p->bytes);
    p->wt = alloc64(sizeof(float) * wsz, &p->bytes);
    p->dwt = alloc64(sizeof(float) * wsz * p->threads, &p->bytes);
    p->biasp = alloc64(sizeof(float) * p->Cp, &p->bytes);
    p->rowbuf = alloc64(sizeof(float) * rb * p->threads, &p->bytes);
    p->lists = alloc64(sizeof(int32_t) * list_len(p) * p->threads, &p->bytes);
    size_t tsz = (size_t)p->K3 * p->MB * SK_TROWS * p->Cp;
    int want_table = Cin <= 16 && sizeof(float) * tsz <= SK_TABLE_MAX;
    if (want_table) {
        p->table = alloc64(sizeof(float) * tsz, &p->bytes);
        p->tparts = alloc64(sizeof(float) * tsz * p->threads, &p->bytes);
    }
    if (gather_ok(p)) {
        size_t gl = (size_t)Cin * p->tile_voxels * p->threads;
        p->glists = alloc64(sizeof(int32_t) * gl, &p->bytes);
        p->gvalid = alloc64(sizeof(int32_t) * gl, &p->bytes);
        p->gcounts = alloc64(sizeof(int32_t) * 2 * Cin * p->threads, &p->bytes);
        if (!p->glists || !p->gvalid || !p->gcounts) want_table = -1;
    }
    if (want_table < 0 || !p->mask || !p->wt || !p->dwt || !p->biasp || !p->rowbuf || !p->lists ||
        (want_table && (!p->table || !p->tparts))) {
        su_spikeconv_destroy(p);
        return su_fail(err, "spike convolution: out of memory (%d->%d channels, %dx%dx%d x %d)", Cin, Cout, D, H,
                       W, N);
    }
    memset(p->mask, 0, (size_t)N * p->Sp * p->MB + 8);
    memset(p->wt, 0, sizeof(float) * wsz);
    if (p->table) memset(p->table, 0, sizeof(float) * tsz);
    memset(p->biasp, 0, sizeof(float) * p->Cp);
    if (su_spikeconv_set_isa(p, SU_SPIKECONV_ISA_AUTO, err)) {
        su_spikeconv_destroy(p);
        return -1;
    }
    *out = p;
    return 0;
}

void su_spikeconv_destroy(su_spikeconv *p) {
    if (!p) return;
    free(p->mask);
    free(p->wt);
    free(p->dwt);
    free(p->biasp);
    free(p->rowbuf);
    free(p->lists);
    free(p->table);
    free(p->tparts);
    free(p->glists);
    free(p->gvalid);
    free(p->gcounts);
    free(p);
}

size_t su_spikeconv_bytes(const su_spikeconv *p) { return p ? p->bytes : 0; }

void su_spikeconv_set_weights(su_spikeconv *p, const float *w) { su_spikeconv_set_weights_slice(p, w, p->Cin, 0); }

void su_spikeconv_set_weights_slice(su_spikeconv *p, const float *w, int w_cin, int ci0) {
    const int Cin = p->Cin, Cout = p->Cout, Cp = p->Cp, K3 = p->K3;
#pragma omp parallel for schedule(static)
    for (int kk = 0; kk < K3; kk++)
        for (int ci = 0; ci < Cin; ci++) {
            float *row = p->wt + ((size_t)kk * Cin + ci) * Cp;
            for (int co = 0; co < Cout; co++) row[co] = w[((size_t)co * w_cin + ci0 + ci) * K3 + kk];
        }
    if (p->table) {
        const long nt = (long)K3 * p->MB;
#pragma omp parallel for schedule(static)
        for (long t = 0; t < nt; t++) p->build_table(p, t, t + 1);
    }
}

int su_spikeconv_set_method(su_spikeconv *p, su_spikeconv_method m, su_error *err) {
    if (m < SU_SPIKECONV_AUTO || m > SU_SPIKECONV_GATHER)
        return su_fail(err, "spike convolution: unknown method %d", (int)m);
    if (m == SU_SPIKECONV_TABLE && !p->table)
        return su_fail(err, "spike convolution: %d->%d channels: no table (needs Cin <= 16, at most %u bytes)",
                       p->Cin, p->Cout, SK_TABLE_MAX);
    if (m == SU_SPIKECONV_GATHER && !p->glists)
        return su_fail(err, "spike convolution: %d->%d channels, k = %d: cannot gather (needs k = 3, Cout a "
                       "multiple of 16)", p->Cin, p->Cout, p->k);
    p->method = m;
    return 0;
}

/* AUTO, from the measurements in docs/SPIKECONV.md (one thread, firing rates 5-40 %):
 * forward: the table wherever there is one (16 input channels: 2-4x faster than rows, whose per-offset
 * overhead dominates with so few channels), else rows;
 * weight gradient: the table for 16 -> 16 channels; gathering up to 128 outputs (no store per spike: up
 * to 2x faster than rows); rows for 256 outputs (gathering rereads 1 KiB dout rows per offset) and
 * wherever gathering cannot run. */
static su_spikeconv_method forward_method(const su_spikeconv *p) {
    if (p->method == SU_SPIKECONV_TABLE) return SU_SPIKECONV_TABLE;
    if (p->method != SU_SPIKECONV_AUTO) return SU_SPIKECONV_ROWS;
    return p->table ? SU_SPIKECONV_TABLE : SU_SPIKECONV_ROWS;
}

static su_spikeconv_method wgrad_method(const su_spikeconv *p) {
    if (p->method != SU_SPIKECONV_AUTO) return p->method;
    if (p->table && p->Cp == 16) return SU_SPIKECONV_TABLE;
    if (p->glists && p->Cout < 256) return SU_SPIKECONV_GATHER;
    return SU_SPIKECONV_ROWS;
}

long su_spikeconv_load(su_spikeconv *p, const float *spikes, int lds) {
    long total = 0, R = rows(p);
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (long r = 0; r < R; r++) total += p->pack_f32(p, spikes, lds, r, r + 1);
    p->spikes = total;
    return total;
}

long su_spikeconv_load_u8(su_spikeconv *p, const uint8_t *spikes, int lds) {
    long total = 0, R = rows(p);
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (long r = 0; r < R; r++) total += p->pack_u8(p, spikes, lds, r, r + 1);
    p->spikes = total;
    return total;
}

/* Rows per work item. */
static long chunk_rows(const su_spikeconv *p) {
    long c = SK_CHUNK_VOXELS / p->W;
    return c < 1 ? 1 : c;
}

static int call_threads(const su_spikeconv *p) {
    int nt = omp_get_max_threads();
    return nt < p->threads ? nt : p->threads;
}

void su_spikeconv_forward(su_spikeconv *p, float *out, const float *bias, int accumulate) {
    const float *biasp = NULL;
    if (bias) {
        memcpy(p->biasp, bias, sizeof(float) * p->Cout);
        biasp = p->biasp;
    }
    const long R = rows(p), CR = chunk_rows(p), nchunk = (R + CR - 1) / CR;
    const int table = forward_method(p) == SU_SPIKECONV_TABLE, K3 = p->K3, kb = table ? K3 : p->kblock;
    const size_t rb = (size_t)(p->W > K3 ? p->W : K3) * p->Cp;
#pragma omp parallel num_threads(call_threads(p))
    {
        float *rowbuf = p->rowbuf + rb * omp_get_thread_num();
        int32_t *list = p->lists + list_len(p) * omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
        for (long c = 0; c < nchunk; c++) {
            long r0 = c * CR, r1 = r0 + CR < R ? r0 + CR : R;
            for (int k0 = 0; k0 < K3; k0 += kb) {
                int k1 = k0 + kb < K3 ? k0 + kb : K3;
                /* the first block starts from the bias (and out, accumulating); later ones from out */
                p->forward(p, out, k0 == 0 ? biasp : NULL, k0 == 0 ? accumulate : 1, r0, r1, k0, k1, table, rowbuf,
                           list);
            }
        }
    }
}

double su_spikeconv_rate(const su_spikeconv *p) {
    return (double)p->spikes / ((double)rows(p) * p->W * p->Cin);
}

void su_spikeconv_backward_weights(su_spikeconv *p, float *dw, const float *dout) {
    su_spikeconv_backward_weights_slice(p, dw, p->Cin, 0, dout);
}

void su_spikeconv_backward_weights_slice(su_spikeconv *p, float *dw, int w_cin, int ci0, const float *dout) {
    const su_spikeconv_method m = wgrad_method(p);
    const int table = m == SU_SPIKECONV_TABLE, gather = m == SU_SPIKECONV_GATHER, K3 = p->K3, Cin = p->Cin, Cout = p->Cout,
              Cp = p->Cp;
    const int kb = table || gather ? K3 : p->kblock;
    const long R = rows(p), CR = gather ? p->tile_voxels / p->W : chunk_rows(p), nchunk = (R + CR - 1) / CR;
    const size_t tsz = (size_t)K3 * p->MB * SK_TROWS * Cp;
    const size_t wsz = ((size_t)K3 * Cin + 1) * Cp, rb = (size_t)(p->W > K3 ? p->W : K3) * Cp;
    const size_t gl = (size_t)Cin * p->tile_voxels;
#pragma omp parallel num_threads(call_threads(p))
    {
        /* thread t takes chunks t, t + nt, ...: a fixed partition (deterministic sums), interleaved so that
         * dense and empty regions of the volume spread over the threads */
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        float *part = p->dwt + wsz * t, *rowbuf = p->rowbuf + rb * t;
        int32_t *list = p->lists + list_len(p) * t;
        float *tpart = table ? p->tparts + tsz * t : NULL;
        memset(part, 0, sizeof(float) * wsz);
        if (tpart) memset(tpart, 0, sizeof(float) * tsz);
        for (int k0 = 0; k0 < K3; k0 += kb) {
            int k1 = k0 + kb < K3 ? k0 + kb : K3;
            for (long c = t; c < nchunk; c += T) {
                long r0 = c * CR, r1 = r0 + CR < R ? r0 + CR : R;
                if (gather)
                    p->wgrad_gather(p, part, dout, r0, r1, p->glists + gl * t, p->gvalid + gl * t,
                                    p->gcounts + 2 * Cin * t);
                else
                    p->wgrad(p, table ? tpart : part, dout, r0, r1, k0, k1, table, rowbuf, list);
            }
        }
        if (tpart) p->fold_table(p, part, tpart, 0, (long)K3 * p->MB);
#pragma omp barrier
        /* dw[co][ci][k] += sum over threads in order 0, 1, ...: each thread owns whole input channels */
#pragma omp for schedule(static)
        for (int ci = 0; ci < Cin; ci++) {
            for (int kk = 0; kk < K3; kk++) {
                float *s = rowbuf + (size_t)kk * Cp;
                const float *src = p->dwt + ((size_t)kk * Cin + ci) * Cp;
                memcpy(s, src, sizeof(float) * Cout);
                for (int u = 1; u < T; u++)
                    for (int co = 0; co < Cout; co++) s[co] += src[wsz * u + co];
            }
            for (int co = 0; co < Cout; co++) {
                float *d = dw + ((size_t)co * w_cin + ci0 + ci) * K3;
                for (int kk = 0; kk < K3; kk++) d[kk] += rowbuf[(size_t)kk * Cp + co];
            }
        }
    }
}
