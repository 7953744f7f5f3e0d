/* Private to the spike convolution (src/spikeconv*.c): the plan and the per-instruction-set kernels.
 * src/spikeconv_kern.h holds the kernels once; src/spikeconv_{avx512,avx2,base}.c compile it for each
 * instruction set, and src/spikeconv.c picks one at run time. */
#ifndef SPIKEUNET_SPIKECONV_IMPL_H
#define SPIKEUNET_SPIKECONV_IMPL_H

#include <stdint.h>

#include "spikeunet/spikeconv.h"

/* Output channels are handled in chunks of at most SK_CHUNK floats (16 vectors of 16), held in registers. */
#define SK_CHUNK 256
/* Rows per block of the byte table: 256 patterns and one unused row, so that the rows of pattern 0 (the
 * most frequent) of successive blocks do not all fall into the same L1 set (blocks 4 KiB apart would). */
#define SK_TROWS 257

struct su_spikeconv {
    int k, N, D, H, W, Cin, Cout;
    int K3;          /* k^3 offsets */
    int Cp;          /* Cout padded: a power of two >= 16 up to SK_CHUNK, else a multiple of SK_CHUNK */
    int NW;          /* 64-bit mask words per voxel: ceil(Cin / 64) */
    int MB;          /* mask bytes per voxel: ceil(Cin / 8) */
    uint64_t last;   /* valid bits of the last mask word */
    int pad, Dp, Hp, Wp;
    long Sp;         /* padded voxels per sample */
    long off[27];    /* offset of neighbour k in padded voxels, from the window's corner */
    int kblock;      /* offsets per pass, so the weight rows of one pass stay in L2 */
    int threads;     /* per-thread gradient partials held */
    su_spikeconv_isa isa;
    uint8_t *mask;   /* N * Sp * MB bytes (+ 8 slack), halo zero: bit ci of voxel = spike */
    float *wt;       /* [K3*Cin + 1][Cp] weight rows, padding columns zero, then a zero row */
    float *dwt;      /* threads x [K3*Cin + 1][Cp] gradient partials (the last row: a sink) */
    int32_t *lists;  /* threads x [K3*Cin + 64]: the active weight rows of one voxel */
    float *table;    /* [K3*MB*SK_TROWS][Cp] sums of weight rows per spike byte (NULL: too big) */
    float *tparts;   /* threads x [K3*MB*SK_TROWS][Cp] weight-gradient partials per spike byte */
    su_spikeconv_method method;
    long spikes;     /* spikes in the loaded mask */
    long doff[27];   /* k = 3: voxel offset from an input to the output that offset kk takes it to */
    long tile_voxels;   /* gathering weight gradient: voxels per tile (whole rows) */
    int32_t *glists;    /* threads x [Cin][tile_voxels] spike lists per channel */
    int32_t *gvalid;    /* threads x [Cin][tile_voxels] their masks of offsets inside the volume */
    int32_t *gcounts;   /* threads x [2*Cin] */
    float *biasp;    /* [Cp] */
    float *rowbuf;   /* threads x [W][Cp]: output / dout rows when Cout != Cp */
    size_t bytes;
    /* the chosen kernels */
    long (*pack_f32)(const su_spikeconv *p, const float *x, int lds, long r0, long r1);
    long (*pack_u8)(const su_spikeconv *p, const uint8_t *x, int lds, long r0, long r1);
    void (*forward)(const su_spikeconv *p, float *out, const float *biasp, int accumulate, long r0, long r1,
                    int k0, int k1, int table, float *rowbuf, int32_t *list);
    void (*wgrad)(const su_spikeconv *p, float *part, const float *dout, long r0, long r1, int k0, int k1,
                  int table, float *rowbuf, int32_t *list);
    void (*wgrad_gather)(const su_spikeconv *p, float *part, const float *dout, long r0, long r1, int32_t *lists,
                         int32_t *valid, int32_t *counts);
    void (*build_table)(const su_spikeconv *p, long t0, long t1);
    void (*fold_table)(const su_spikeconv *p, float *part, const float *tpart, long t0, long t1);
};

#define SK_DECLARE(sfx)                                                                                    \
    long sk_pack_f32_##sfx(const su_spikeconv *p, const float *x, int lds, long r0, long r1);              \
    long sk_pack_u8_##sfx(const su_spikeconv *p, const uint8_t *x, int lds, long r0, long r1);             \
    void sk_forward_##sfx(const su_spikeconv *p, float *out, const float *biasp, int accumulate, long r0,  \
                          long r1, int k0, int k1, int table, float *rowbuf, int32_t *list);               \
    void sk_wgrad_##sfx(const su_spikeconv *p, float *part, const float *dout, long r0, long r1, int k0,   \
                        int k1, int table, float *rowbuf, int32_t *list);                                  \
    void sk_wgrad_gather_##sfx(const su_spikeconv *p, float *part, const float *dout, long r0, long r1,      \
                               int32_t *lists, int32_t *valid, int32_t *counts);                            \
    void sk_build_table_##sfx(const su_spikeconv *p, long t0, long t1);                                    \
    void sk_fold_table_##sfx(const su_spikeconv *p, float *part, const float *tpart, long t0, long t1);
SK_DECLARE(base)
#if defined(__x86_64__) && defined(__GNUC__)
#define SK_HAVE_X86 1
SK_DECLARE(avx2)
SK_DECLARE(avx512)
#endif

#endif
