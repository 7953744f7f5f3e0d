/* The spike convolution kernels for AVX-512 (F, BW, VL, DQ) with BMI2; chosen at run time. */
#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,bmi,bmi2,popcnt,lzcnt")
#include <immintrin.h>
#define SK_SFX avx512
#include "spikeconv_kern.h"
#endif
