/* The spike convolution kernels for AVX2 + FMA with BMI2; chosen at run time. */
#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC target("avx2,fma,bmi,bmi2,popcnt,lzcnt")
#include <immintrin.h>
#define SK_SFX avx2
#include "spikeconv_kern.h"
#endif
