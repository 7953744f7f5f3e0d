/* The spike convolution kernels for the baseline instruction set (x86-64: SSE2), or plain C elsewhere. */
#define SK_SFX base
#include "spikeconv_kern.h"
