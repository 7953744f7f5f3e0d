/* The spike convolution kernels for AVX-512 (F, BW, VL, DQ) with BMI2; chosen at run time (src/spikeconv.c). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#include <string.h>

#include "spikeconv_impl.h"

#define SK_SFX avx512
#define SK_AVX512 1
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi,bmi2,popcnt,lzcnt"))), apply_to = function)
#else
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi,bmi2,popcnt,lzcnt")
#endif
#include "spikeconv_kern.h"
#if defined(__clang__)
#pragma clang attribute pop
#endif
#endif
