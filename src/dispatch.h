/* Run-time instruction-set dispatch for our own hot loops. The library is compiled for the portable
 * x86-64 baseline; functions marked SU_DISPATCH are compiled three times (AVX-512, AVX2+FMA, baseline)
 * and the loader picks the best one for the CPU it runs on (GCC function multiversioning, ifunc).
 * Convolutions need none of this: oneDNN JIT-compiles them for the CPU it finds. */
#ifndef SPIKEUNET_DISPATCH_H
#define SPIKEUNET_DISPATCH_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(SU_NO_DISPATCH)
#define SU_DISPATCH __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SU_DISPATCH
#endif

#endif
