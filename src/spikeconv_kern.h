/* The spike convolution kernels, written once and compiled per instruction set: the including file sets
 * the target of every function (#pragma GCC target, or clang's attribute push), SK_SFX (the name suffix)
 * and SK_AVX512 or SK_AVX2 (which intrinsics the target allows). Vectors are GCC vector extensions of 16
 * floats (one zmm, two ymm or four xmm), so the same source serves every target.
 * Rows: r = (n*D + d)*H + h, W voxels each. See src/spikeconv.c for the plan and the data layouts. */
#include <string.h>

#include "spikeconv_impl.h"

#define SK_CAT2(a, b) a##_##b
#define SK_CAT(a, b) SK_CAT2(a, b)
#define SK_NAME(a) SK_CAT(a, SK_SFX)

typedef float sk_vf __attribute__((vector_size(64)));                /* aligned: weight rows, partials */
typedef float sk_vfu __attribute__((vector_size(64), aligned(4)));   /* unaligned: caller's tensors */

#define SK_INLINE static inline __attribute__((always_inline))

SK_INLINE uint64_t sk_load64(const uint8_t *m) {
    uint64_t v;
    memcpy(&v, m, 8);
    return v;
}

/* ---- packing: spikes -> bit mask --------------------------------------------------------------- */

/* One voxel's Cin values -> MB mask bytes; returns the spike count. */
SK_INLINE int sk_pack_voxel_f32(uint8_t *dst, const float *x, int Cin) {
    uint64_t words[(4096 + 63) / 64];
    int nw = (Cin + 63) / 64, count = 0;
    for (int j = 0; j < nw; j++) {
        uint64_t b = 0;
        int c0 = 64 * j, n = Cin - c0 < 64 ? Cin - c0 : 64, c = 0;
#if defined(SK_AVX512)
        for (; c + 16 <= n; c += 16)
            b |= (uint64_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(x + c0 + c), _mm512_setzero_ps(), _CMP_NEQ_UQ) << c;
#elif defined(SK_AVX2)
        for (; c + 8 <= n; c += 8)
            b |= (uint64_t)(unsigned)_mm256_movemask_ps(
                     _mm256_cmp_ps(_mm256_loadu_ps(x + c0 + c), _mm256_setzero_ps(), _CMP_NEQ_UQ)) << c;
#endif
        for (; c < n; c++) b |= (uint64_t)(x[c0 + c] != 0.0f) << c;
        words[j] = b;
        count += __builtin_popcountll(b);
    }
    memcpy(dst, words, (size_t)(Cin + 7) / 8);
    return count;
}

SK_INLINE int sk_pack_voxel_u8(uint8_t *dst, const uint8_t *x, int Cin) {
    uint64_t words[(4096 + 63) / 64];
    int nw = (Cin + 63) / 64, count = 0;
    for (int j = 0; j < nw; j++) {
        uint64_t b = 0;
        int c0 = 64 * j, n = Cin - c0 < 64 ? Cin - c0 : 64, c = 0;
#if defined(SK_AVX512)
        for (; c + 16 <= n; c += 16)
            b |= (uint64_t)_mm_test_epi8_mask(_mm_loadu_si128((const __m128i *)(x + c0 + c)),
                                              _mm_set1_epi8(-1)) << c;
#elif defined(SK_AVX2)
        for (; c + 16 <= n; c += 16)
            b |= (uint64_t)(unsigned)(~_mm_movemask_epi8(_mm_cmpeq_epi8(
                     _mm_loadu_si128((const __m128i *)(x + c0 + c)), _mm_setzero_si128())) & 0xffff) << c;
#endif
        for (; c < n; c++) b |= (uint64_t)(x[c0 + c] != 0) << c;
        words[j] = b;
        count += __builtin_popcountll(b);
    }
    memcpy(dst, words, (size_t)(Cin + 7) / 8);
    return count;
}

/* Padded voxel index of the window corner of output voxel (r, x = 0); the voxel itself is at + pad. */
SK_INLINE long sk_row_base(const su_spikeconv *p, long r) {
    long n = r / ((long)p->D * p->H);
    int d = (int)(r / p->H % p->D), h = (int)(r % p->H);
    return ((n * p->Dp + d) * p->Hp + h) * p->Wp;
}

long SK_NAME(sk_pack_f32)(const su_spikeconv *p, const float *x, int lds, long r0, long r1) {
    long count = 0;
    const long centre = ((long)p->pad * p->Hp + p->pad) * p->Wp + p->pad;
    for (long r = r0; r < r1; r++) {
        uint8_t *m = p->mask + (sk_row_base(p, r) + centre) * p->MB;
        const float *src = x + r * p->W * (long)lds;
        for (int i = 0; i < p->W; i++) count += sk_pack_voxel_f32(m + (long)i * p->MB, src + (long)i * lds, p->Cin);
    }
    return count;
}

long SK_NAME(sk_pack_u8)(const su_spikeconv *p, const uint8_t *x, int lds, long r0, long r1) {
    long count = 0;
    const long centre = ((long)p->pad * p->Hp + p->pad) * p->Wp + p->pad;
    for (long r = r0; r < r1; r++) {
        uint8_t *m = p->mask + (sk_row_base(p, r) + centre) * p->MB;
        const uint8_t *src = x + r * p->W * (long)lds;
        for (int i = 0; i < p->W; i++) count += sk_pack_voxel_u8(m + (long)i * p->MB, src + (long)i * lds, p->Cin);
    }
    return count;
}

/* ---- active lists -------------------------------------------------------------------------------- */

/* The weight rows that the spikes around one voxel select: entries kk*Cin + ci for each offset kk in
 * [k0, k1) and each spike ci of the neighbour at that offset; returns their number. Branch-free per
 * group of channels (compress with AVX-512, a pext-made permutation with AVX2, a counter elsewhere), so
 * the cost does not hinge on predicting how many spikes a neighbour has. list needs 16 entries of slack. */
SK_INLINE int sk_build_list(const su_spikeconv *p, long vox, int k0, int k1, int32_t *list) {
    const int Cin = p->Cin, MB = p->MB, NW = p->NW;
    int n = 0;
#if defined(SK_AVX512)
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
#elif defined(SK_AVX2)
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
#endif
    for (int kk = k0; kk < k1; kk++) {
        const uint8_t *m = p->mask + (vox + p->off[kk]) * MB;
        for (int wd = 0; wd < NW; wd++) {
            uint64_t bits = sk_load64(m + 8 * wd);
            int cn = Cin - 64 * wd < 64 ? Cin - 64 * wd : 64, base = kk * Cin + 64 * wd;
            if (wd == NW - 1) bits &= p->last;
#if defined(SK_AVX512)
            for (int q = 0; q < cn; q += 16) {
                __mmask16 mq = (__mmask16)(bits >> q);
                __m512i idx = _mm512_maskz_compress_epi32(mq, _mm512_add_epi32(iota, _mm512_set1_epi32(base + q)));
                _mm512_storeu_si512((void *)(list + n), idx);
                n += __builtin_popcount((unsigned)mq);
            }
#elif defined(SK_AVX2)
            for (int q = 0; q < cn; q += 8) {
                unsigned mb = (unsigned)(bits >> q) & 0xff;
                /* byte i of sel = index of the i-th set bit: pext of 0..7 under the bytes mb selects */
                uint64_t sel = _pext_u64(0x0706050403020100ull, _pdep_u64(mb, 0x0101010101010101ull) * 0xff);
                __m256i perm = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)sel));
                __m256i idx = _mm256_permutevar8x32_epi32(_mm256_add_epi32(iota, _mm256_set1_epi32(base + q)), perm);
                _mm256_storeu_si256((__m256i *)(list + n), idx);
                n += __builtin_popcount(mb);
            }
#else
            for (int c = 0; c < cn; c++) {
                list[n] = base + c;
                n += (int)((bits >> c) & 1);
            }
#endif
        }
    }
    return n;
}

/* The table rows that the spikes around one voxel select: for each offset kk in [k0, k1) and each byte g
 * of the neighbour's mask (channels 8g..8g+7), row (kk*MB + g)*SK_TROWS + that byte, whose contents are the
 * sum of the weight rows of the byte's spikes (su_spikeconv_set_weights builds them). A fixed count per
 * voxel, whatever the firing rate. */
SK_INLINE int sk_build_table_list(const su_spikeconv *p, long vox, int k0, int k1, int32_t *list) {
    const int MB = p->MB;
    int n = 0;
    for (int kk = k0; kk < k1; kk++) {
        const uint8_t *m = p->mask + (vox + p->off[kk]) * MB;
        for (int g = 0; g < MB; g++) list[n++] = (kk * MB + g) * SK_TROWS + m[g];
    }
    return n;
}

/* The byte-table forward of one output row, for k = 3 and narrow layers (MB mask bytes, NV vectors of
 * outputs, both compile-time): every lookup of the 27*MB is unrolled, its table block a constant offset,
 * so one lookup is a byte load, a shift and an add from memory. */
SK_INLINE void sk_fwd_table_row(const su_spikeconv *p, float *ob, long ldo, const float *biasp, int from_out,
                                long base, const int MB, const int NV) {
    const int S = NV >= 4 ? 1 : 4 / NV;
    const uint8_t *mp[9];
    for (int j = 0; j < 9; j++) mp[j] = p->mask + (base + ((long)(j / 3) * p->Hp + j % 3) * p->Wp) * MB;
    const float *tb = p->table;
    for (int x = 0; x < p->W; x++) {
        float *o = ob + x * ldo;
        sk_vf acc[4][4];
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) {
            acc[0][j] = from_out ? (sk_vf)(*(const sk_vfu *)(o + 16 * j)) : (sk_vf){0};
            if (biasp) acc[0][j] += *(const sk_vf *)(biasp + 16 * j);
#pragma GCC unroll 4
            for (int s = 1; s < S; s++) acc[s][j] = (sk_vf){0};
        }
#pragma GCC unroll 27
        for (int kk = 0; kk < 27; kk++) {
            const uint8_t *m = mp[kk / 3] + (x + kk % 3) * MB;
#pragma GCC unroll 4
            for (int g = 0; g < MB; g++) {
                const sk_vf *row = (const sk_vf *)(tb + ((long)(kk * MB + g) * SK_TROWS + m[g]) * (16 * NV));
#pragma GCC unroll 4
                for (int j = 0; j < NV; j++) acc[(kk * MB + g) % S][j] += row[j];
            }
        }
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) {
#pragma GCC unroll 4
            for (int s = 1; s < S; s++) acc[0][j] += acc[s][j];
            *(sk_vfu *)(o + 16 * j) = acc[0][j];
        }
    }
}

/* The same for the weight gradient: table partial rows += the dout row. */
SK_INLINE void sk_wg_table_row(const su_spikeconv *p, float *tpart, const float *gb, long ldg, long base,
                               const int MB, const int NV) {
    const uint8_t *mp[9];
    for (int j = 0; j < 9; j++) mp[j] = p->mask + (base + ((long)(j / 3) * p->Hp + j % 3) * p->Wp) * MB;
    for (int x = 0; x < p->W; x++) {
        sk_vf g[4];
#pragma GCC unroll 4
        for (int j = 0; j < NV; j++) g[j] = *(const sk_vfu *)(gb + x * ldg + 16 * j);
#pragma GCC unroll 27
        for (int kk = 0; kk < 27; kk++) {
            const uint8_t *m = mp[kk / 3] + (x + kk % 3) * MB;
#pragma GCC unroll 4
            for (int gi = 0; gi < MB; gi++) {
                sk_vf *row = (sk_vf *)(tpart + ((long)(kk * MB + gi) * SK_TROWS + m[gi]) * (16 * NV));
#pragma GCC unroll 4
                for (int j = 0; j < NV; j++) row[j] += g[j];
            }
        }
    }
}

/* Which specialised table row kernel fits: MB in {1, 2, 4} and NV in {1, 2, 4} (0: none). */
SK_INLINE int sk_table_kind(const su_spikeconv *p) {
    if (p->k != 3 || p->Cp > 64 || (p->MB != 1 && p->MB != 2 && p->MB != 4)) return 0;
    return p->MB * 8 + p->Cp / 16;
}

#define SK_TABLE_CASES(CALL)                                                                                  \
    case 9: CALL(1, 1); break;                                                                               \
    case 10: CALL(1, 2); break;                                                                              \
    case 12: CALL(1, 4); break;                                                                              \
    case 17: CALL(2, 1); break;                                                                              \
    case 18: CALL(2, 2); break;                                                                              \
    case 20: CALL(2, 4); break;                                                                              \
    case 33: CALL(4, 1); break;                                                                              \
    case 34: CALL(4, 2); break;                                                                              \
    case 36: CALL(4, 4); break;

/* ---- forward ----------------------------------------------------------------------------------- */

/* acc (NV vectors from output column c0) = init + the rows rows[list[i]] (stride Cp). Rows are summed into
 * 4/NV independent accumulators, so narrow layers are not bound by the latency of one chain of adds;
 * the list is padded to a multiple of that with `zero`, the index of a zero row. */
SK_INLINE void sk_fwd_chunk(const su_spikeconv *p, const float *rows, int32_t zero, float *o, const float *biasp,
                            int from_out, int32_t *list, int n, int c0, const int NV) {
    const int S = NV >= 4 ? 1 : 4 / NV;
    const long Cp = p->Cp;
    const float *wk = rows + c0;
    sk_vf acc[4][16];
#pragma GCC unroll 16
    for (int j = 0; j < NV; j++) {
        acc[0][j] = from_out ? (sk_vf)(*(const sk_vfu *)(o + 16 * j)) : (sk_vf){0};
        if (biasp) acc[0][j] += *(const sk_vf *)(biasp + c0 + 16 * j);
#pragma GCC unroll 4
        for (int s = 1; s < S; s++) acc[s][j] = (sk_vf){0};
    }
    for (int s = 0; s < S - 1; s++) list[n + s] = zero;
    for (int i = 0; i < n; i += S) {
#pragma GCC unroll 4
        for (int s = 0; s < S; s++) {
            const sk_vf *row = (const sk_vf *)(wk + list[i + s] * Cp);
#pragma GCC unroll 16
            for (int j = 0; j < NV; j++) acc[s][j] += row[j];
        }
    }
#pragma GCC unroll 16
    for (int j = 0; j < NV; j++) {
#pragma GCC unroll 4
        for (int s = 1; s < S; s++) acc[0][j] += acc[s][j];
        *(sk_vfu *)(o + 16 * j) = acc[0][j];
    }
}

void SK_NAME(sk_forward)(const su_spikeconv *p, float *out, const float *biasp, int from_out, long r0, long r1,
                         int k0, int k1, int table, float *rowbuf, int32_t *list) {
    const int W = p->W, Cout = p->Cout, Cp = p->Cp;
    const float *rows = table ? p->table : p->wt;
    const int32_t zero = table ? 0 : p->K3 * p->Cin; /* table row 0: no spike in byte 0 of offset 0 */
    for (long r = r0; r < r1; r++) {
        float *orow = out + r * W * (long)Cout, *ob = orow;
        long ldo = Cout;
        int init_out = from_out;
        if (Cout != Cp) { /* work in a padded copy of the row */
            ob = rowbuf;
            ldo = Cp;
            for (int x = 0; x < W; x++) {
                float *b = rowbuf + (long)x * Cp;
                if (from_out) memcpy(b, orow + (long)x * Cout, sizeof(float) * Cout);
                else memset(b, 0, sizeof(float) * Cout);
                memset(b + Cout, 0, sizeof(float) * (Cp - Cout));
            }
            init_out = 1;
        }
        const long base = sk_row_base(p, r);
        const int kind = table && k0 == 0 && k1 == 27 ? sk_table_kind(p) : 0;
        if (kind) {
#define SK_FWD_TABLE(mb, nv) sk_fwd_table_row(p, ob, ldo, biasp, init_out, base, mb, nv)
            switch (kind) { SK_TABLE_CASES(SK_FWD_TABLE) }
#undef SK_FWD_TABLE
        } else
        for (int x = 0; x < W; x++) {
            int n = table ? sk_build_table_list(p, base + x, k0, k1, list) : sk_build_list(p, base + x, k0, k1, list);
            float *o = ob + x * ldo;
            for (int c0 = 0; c0 < Cp; c0 += SK_CHUNK) {
                switch ((Cp - c0 < SK_CHUNK ? Cp - c0 : SK_CHUNK) / 16) {
                case 1: sk_fwd_chunk(p, rows, zero, o + c0, biasp, init_out, list, n, c0, 1); break;
                case 2: sk_fwd_chunk(p, rows, zero, o + c0, biasp, init_out, list, n, c0, 2); break;
                case 4: sk_fwd_chunk(p, rows, zero, o + c0, biasp, init_out, list, n, c0, 4); break;
                case 8: sk_fwd_chunk(p, rows, zero, o + c0, biasp, init_out, list, n, c0, 8); break;
                default: sk_fwd_chunk(p, rows, zero, o + c0, biasp, init_out, list, n, c0, 16); break;
                }
            }
        }
        if (ob != orow)
            for (int x = 0; x < W; x++) memcpy(orow + (long)x * Cout, rowbuf + (long)x * Cp, sizeof(float) * Cout);
    }
}

/* ---- weight gradient --------------------------------------------------------------------------- */

/* The partial rows part[list[i]] (NV vectors from column c0) += g. */
SK_INLINE void sk_wg_chunk(const su_spikeconv *p, float *part, const float *g, const int32_t *list, int n, int c0,
                           const int NV) {
    const long Cp = p->Cp;
    float *dk = part + c0;
    sk_vf gv[16];
#pragma GCC unroll 16
    for (int j = 0; j < NV; j++) gv[j] = *(const sk_vfu *)(g + c0 + 16 * j);
    for (int i = 0; i < n; i++) {
        sk_vf *row = (sk_vf *)(dk + list[i] * Cp);
#pragma GCC unroll 16
        for (int j = 0; j < NV; j++) row[j] += gv[j];
    }
}

/* part: the thread's [K3*Cin + 1][Cp] weight-row partials, or with table its [K3*MB*256][Cp] table
 * partials (each the sum of dout over the voxels whose neighbour byte had that pattern). */
void SK_NAME(sk_wgrad)(const su_spikeconv *p, float *part, const float *dout, long r0, long r1, int k0, int k1,
                       int table, float *rowbuf, int32_t *list) {
    const int W = p->W, Cout = p->Cout, Cp = p->Cp;
    for (long r = r0; r < r1; r++) {
        const float *grow = dout + r * W * (long)Cout, *gb = grow;
        long ldg = Cout;
        if (Cout != Cp) {
            for (int x = 0; x < W; x++) {
                memcpy(rowbuf + (long)x * Cp, grow + (long)x * Cout, sizeof(float) * Cout);
                memset(rowbuf + (long)x * Cp + Cout, 0, sizeof(float) * (Cp - Cout));
            }
            gb = rowbuf;
            ldg = Cp;
        }
        const long base = sk_row_base(p, r);
        const int kind = table && k0 == 0 && k1 == 27 ? sk_table_kind(p) : 0;
        if (kind) {
#define SK_WG_TABLE(mb, nv) sk_wg_table_row(p, part, gb, ldg, base, mb, nv)
            switch (kind) { SK_TABLE_CASES(SK_WG_TABLE) }
#undef SK_WG_TABLE
            continue;
        }
        for (int x = 0; x < W; x++) {
            int n = table ? sk_build_table_list(p, base + x, k0, k1, list) : sk_build_list(p, base + x, k0, k1, list);
            if (!n) continue;
            const float *g = gb + x * ldg;
            for (int c0 = 0; c0 < Cp; c0 += SK_CHUNK) {
                switch ((Cp - c0 < SK_CHUNK ? Cp - c0 : SK_CHUNK) / 16) {
                case 1: sk_wg_chunk(p, part, g, list, n, c0, 1); break;
                case 2: sk_wg_chunk(p, part, g, list, n, c0, 2); break;
                case 4: sk_wg_chunk(p, part, g, list, n, c0, 4); break;
                case 8: sk_wg_chunk(p, part, g, list, n, c0, 8); break;
                default: sk_wg_chunk(p, part, g, list, n, c0, 16); break;
                }
            }
        }
    }
}

/* ---- weight gradient, gathering ----------------------------------------------------------------- */

/* dw[kk][ci] = sum over the spikes (u, ci) of dout[u - (offset kk - centre)]: for one input channel at a
 * time, its spikes in a tile are listed, and the dout rows they reach are summed in registers, KB offsets
 * x NV vectors at once (no store per spike); the sums are added to the partial rows once per tile.
 * For k = 3 and Cout a multiple of 16. Spikes on the volume's border, some of whose outputs fall outside,
 * are listed apart with a 27-bit mask of the offsets that stay inside. */
#if defined(SK_AVX512)
#define SK_GREGS 27
#elif defined(SK_AVX2)
#define SK_GREGS 6
#else
#define SK_GREGS 3
#endif

SK_INLINE void sk_wgg_pass(const su_spikeconv *p, float *part, const float *dout, const int32_t *li, int ni,
                           const int32_t *lb, const int32_t *vb, int nb, int ci, int kk0, int c0, const int KB,
                           const int NV) {
    const long ld = p->Cout;
    const float *zero = p->wt + (long)p->K3 * p->Cin * p->Cp; /* a zero row of Cp floats */
    long doff[27];
    sk_vf acc[27]; /* KB * NV <= max(SK_GREGS, 16) */
#pragma GCC unroll 27
    for (int i = 0; i < KB; i++) doff[i] = p->doff[kk0 + i] * ld + c0;
#pragma GCC unroll 27
    for (int i = 0; i < KB * NV; i++) acc[i] = (sk_vf){0};
    for (int e = 0; e < ni; e++) {
        const float *P = dout + (long)li[e] * ld;
#pragma GCC unroll 27
        for (int i = 0; i < KB; i++)
#pragma GCC unroll 16
            for (int j = 0; j < NV; j++) acc[i * NV + j] += *(const sk_vfu *)(P + doff[i] + 16 * j);
    }
    for (int e = 0; e < nb; e++) {
        const float *P = dout + (long)lb[e] * ld;
        const uint32_t v = (uint32_t)vb[e] >> kk0;
#pragma GCC unroll 27
        for (int i = 0; i < KB; i++) {
            const float *Q = (v >> i) & 1 ? P + doff[i] : zero;
#pragma GCC unroll 16
            for (int j = 0; j < NV; j++) acc[i * NV + j] += *(const sk_vfu *)(Q + 16 * j);
        }
    }
#pragma GCC unroll 27
    for (int i = 0; i < KB; i++) {
        sk_vf *row = (sk_vf *)(part + ((long)(kk0 + i) * p->Cin + ci) * p->Cp + c0);
#pragma GCC unroll 16
        for (int j = 0; j < NV; j++) row[j] += acc[i * NV + j];
    }
}

SK_INLINE void sk_wgg_channel(const su_spikeconv *p, float *part, const float *dout, const int32_t *li, int ni,
                              const int32_t *lb, const int32_t *vb, int nb, int ci, int c0, const int NV) {
    const int KB = 27 <= SK_GREGS / NV ? 27 : 9 <= SK_GREGS / NV ? 9 : 3 <= SK_GREGS / NV ? 3 : 1;
    for (int kk0 = 0; kk0 < 27; kk0 += KB) sk_wgg_pass(p, part, dout, li, ni, lb, vb, nb, ci, kk0, c0, KB, NV);
}

/* One tile of rows [r0, r1) (at most p->tile_voxels voxels). lists: [Cin][tile_voxels] voxel indices,
 * interior spikes from the front of each channel's span, border spikes from the back; valid: the border
 * spikes' masks; counts: [2*Cin]. */
void SK_NAME(sk_wgrad_gather)(const su_spikeconv *p, float *part, const float *dout, long r0, long r1,
                              int32_t *lists, int32_t *valid, int32_t *counts) {
    const int Cin = p->Cin, W = p->W, D = p->D, H = p->H, NW = p->NW, MB = p->MB;
    const long TV = p->tile_voxels;
    const long centre = ((long)p->Hp + 1) * p->Wp + 1;
    int32_t *ni = counts, *nb = counts + Cin;
    memset(counts, 0, sizeof(int32_t) * 2 * Cin);
    for (long r = r0; r < r1; r++) {
        const int d = (int)(r / H % D), h = (int)(r % H);
        const uint8_t *m = p->mask + (sk_row_base(p, r) + centre) * MB;
        /* offsets (kd, kh, kw) whose output d - kd + 1, h - kh + 1 stays inside, for this row */
        uint32_t vdh = 0;
        for (int kd = 0; kd < 3; kd++)
            for (int kh = 0; kh < 3; kh++)
                if (d - kd + 1 >= 0 && d - kd + 1 < D && h - kh + 1 >= 0 && h - kh + 1 < H) vdh |= 7u << (kd * 9 + kh * 3);
        const int row_inside = vdh == 0x7ffffff;
        for (int x = 0; x < W; x++) {
            const int32_t lin = (int32_t)(r * W + x);
            const int inside = row_inside && x > 0 && x < W - 1;
            uint32_t v = vdh;
            if (x == 0) v &= ~(uint32_t)0x4924924; /* kw = 2 reaches x + 1 - 2 = -1: bits 2, 5, 8, .. */
            if (x == W - 1) v &= ~(uint32_t)0x1249249; /* kw = 0 reaches x + 1 = W: bits 0, 3, 6, .. */
            for (int wd = 0; wd < NW; wd++) {
                uint64_t bits = sk_load64(m + (long)x * MB + 8 * wd);
                if (wd == NW - 1) bits &= p->last;
                while (bits) {
                    int ci = 64 * wd + __builtin_ctzll(bits);
                    bits &= bits - 1;
                    if (inside) {
                        lists[ci * TV + ni[ci]++] = lin;
                    } else {
                        long at = ci * TV + TV - 1 - nb[ci]++;
                        lists[at] = lin;
                        valid[at] = (int32_t)v;
                    }
                }
            }
        }
    }
    for (int ci = 0; ci < Cin; ci++) {
        if (!ni[ci] && !nb[ci]) continue;
        const int32_t *li = lists + ci * TV, *lb = lists + ci * TV + TV - nb[ci], *vb = valid + ci * TV + TV - nb[ci];
        for (int c0 = 0; c0 < p->Cp; c0 += SK_CHUNK) {
            switch ((p->Cp - c0 < SK_CHUNK ? p->Cp - c0 : SK_CHUNK) / 16) {
            case 1: sk_wgg_channel(p, part, dout, li, ni[ci], lb, vb, nb[ci], ci, c0, 1); break;
            case 2: sk_wgg_channel(p, part, dout, li, ni[ci], lb, vb, nb[ci], ci, c0, 2); break;
            case 4: sk_wgg_channel(p, part, dout, li, ni[ci], lb, vb, nb[ci], ci, c0, 4); break;
            case 8: sk_wgg_channel(p, part, dout, li, ni[ci], lb, vb, nb[ci], ci, c0, 8); break;
            default: sk_wgg_channel(p, part, dout, li, ni[ci], lb, vb, nb[ci], ci, c0, 16); break;
            }
        }
    }
}

/* ---- tables ------------------------------------------------------------------------------------ */

/* Blocks [t0, t1) of 256 table rows each (t = kk*MB + g): row p = sum of the weight rows of the bits of p,
 * built from the row of p without its lowest bit. */
void SK_NAME(sk_build_table)(const su_spikeconv *p, long t0, long t1) {
    const long Cp = p->Cp;
    const int MB = p->MB, Cin = p->Cin;
    for (long t = t0; t < t1; t++) {
        int kk = (int)(t / MB), g = (int)(t % MB);
        float *tb = p->table + t * SK_TROWS * Cp;
        memset(tb, 0, sizeof(float) * Cp);
        for (int q = 1; q < 256; q++) {
            int ci = 8 * g + __builtin_ctz((unsigned)q);
            sk_vf *dst = (sk_vf *)(tb + q * Cp);
            const sk_vf *a = (const sk_vf *)(tb + (q & (q - 1)) * Cp);
            if (ci >= Cin) { /* no such channel: never selected, keep it defined */
                for (long j = 0; j < Cp / 16; j++) dst[j] = a[j];
                continue;
            }
            const sk_vf *w = (const sk_vf *)(p->wt + ((long)kk * Cin + ci) * Cp);
            for (long j = 0; j < Cp / 16; j++) dst[j] = a[j] + w[j];
        }
    }
}

/* Folds table partials into weight-row partials for t in [t0, t1): part[kk][8g + b] = sum over patterns q
 * with bit b of tpart[t][q]. */
void SK_NAME(sk_fold_table)(const su_spikeconv *p, float *part, const float *tpart, long t0, long t1) {
    const long Cp = p->Cp;
    const int MB = p->MB, Cin = p->Cin;
    for (long t = t0; t < t1; t++) {
        int kk = (int)(t / MB), g = (int)(t % MB);
        const float *tb = tpart + t * SK_TROWS * Cp;
        for (int b = 0; b < 8 && 8 * g + b < Cin; b++) {
            sk_vf *dst = (sk_vf *)(part + ((long)kk * Cin + 8 * g + b) * Cp);
            for (long j = 0; j < Cp / 16; j++) {
                sk_vf s = {0};
                for (int q = 1 << b; q < 256; q = (q + 1) | (1 << b)) s += ((const sk_vf *)(tb + q * Cp))[j];
                dst[j] += s;
            }
        }
    }
}
