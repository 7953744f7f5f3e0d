/* The LIF neuron: forward over T steps and backpropagation through time (equations in lif.h). */
#include "spikeunet/lif.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "dispatch.h"

enum { MAX_T = 256 }; /* the backward keeps one neuron's T membrane values on the stack */

static inline float clamp01(float b) { return b < 0 ? 0 : (b > 1 ? 1 : b); }

float su_lif_surrogate(float x, const su_lif_config *cfg) {
    if (cfg->surrogate == SU_SURROGATE_FAST_SIGMOID) {
        float d = cfg->slope * fabsf(x) + 1.0f;
        return 1.0f / (d * d);
    }
    const float alpha = cfg->slope, k = (float)M_PI / 2 * alpha * x;
    return alpha / 2 / (1.0f + k * k);
}

/* Rows [r0, r1) of B*S, all channels, all steps. The channel loop is innermost so it vectorises. */
SU_DISPATCH static long lif_forward_rows(uint8_t *spikes, int lds, const float *a, const su_lif_args *p,
                                         const su_lif_config *cfg, long r0, long r1) {
    const int C = p->C, T = p->T;
    const long BS = p->BS;
    float U[C], b[C], th[C];
    for (int c = 0; c < C; c++) {
        b[c] = clamp01(p->beta[p->nparam > 1 ? c : 0]);
        th[c] = p->theta[p->nparam > 1 ? c : 0];
    }
    long count = 0;
    for (long r = r0; r < r1; r++) {
        for (int c = 0; c < C; c++) U[c] = 0;
        for (int t = 0; t < T; t++) {
            const float *ar = a + ((p->shared_input ? 0 : (long)t * BS) + r) * C;
            uint8_t *sr = spikes + ((long)t * BS + r) * lds;
            for (int c = 0; c < C; c++) {
                float x = ar[c] * p->scale[c] + p->shift[c];
                float R = U[c] > th[c] ? 1.0f : 0.0f; /* the previous step's spike */
                float u;
                if (cfg->reset == SU_RESET_SUBTRACT)
                    u = b[c] * U[c] + x - th[c] * R;
                else if (cfg->reset == SU_RESET_ZERO)
                    u = b[c] * ((1.0f - R) * U[c]) + x;
                else
                    u = b[c] * U[c] + x;
                U[c] = u;
                uint8_t s = u > th[c];
                sr[c] = s;
                count += s;
            }
        }
    }
    return count;
}

long su_lif_forward(uint8_t *spikes, int lds, const float *a, const su_lif_args *p, const su_lif_config *cfg) {
    long total = 0;
#pragma omp parallel reduction(+ : total)
    {
        int nt = omp_get_num_threads(), t = omp_get_thread_num();
        total += lif_forward_rows(spikes, lds, a, p, cfg, p->BS * t / nt, p->BS * (t + 1) / nt);
    }
    return total;
}

/* Rows [r0, r1) of B*S, in blocks of CB channels: recompute X and U(1..T) for the block (the channel loop
 * innermost, so it vectorises), then walk back through time. Per-channel sums of dL/dbeta and dL/dtheta
 * go to sb/sth (indexed by parameter). */
enum { CB = 64 };
SU_DISPATCH static void lif_backward_rows(float *dx, double *sb, double *sth, const float *dspikes, const float *a,
                                          const su_lif_args *p, const su_lif_config *cfg, long r0, long r1,
                                          float *U /* (T+1) * CB */, float *R /* (T+1) * CB */) {
    const int C = p->C, T = p->T;
    const long BS = p->BS;
    const int reset = cfg->reset, fast = cfg->surrogate == SU_SURROGATE_FAST_SIGMOID;
    const float slope = cfg->slope, k_atan = (float)M_PI / 2 * cfg->slope, half_alpha = cfg->slope / 2;
    for (long r = r0; r < r1; r++) {
        for (int c0 = 0; c0 < C; c0 += CB) {
            const int nc = C - c0 < CB ? C - c0 : CB;
            float b[CB], th[CB], scale[CB], shift[CB], dU[CB], dxs[CB], gb[CB], gth[CB];
            for (int j = 0; j < nc; j++) {
                const int pc = p->nparam > 1 ? c0 + j : 0;
                b[j] = clamp01(p->beta[pc]);
                th[j] = p->theta[pc];
                scale[j] = p->scale[c0 + j];
                shift[j] = p->shift[c0 + j];
                U[j] = 0;
                dU[j] = dxs[j] = gb[j] = gth[j] = 0;
            }
            for (int t = 1; t <= T; t++) {
                const float *ar = a + ((p->shared_input ? 0 : (long)(t - 1) * BS) + r) * C + c0;
                float *Ut = U + t * CB, *Up = U + (t - 1) * CB, *Rt = R + t * CB;
                for (int j = 0; j < nc; j++) {
                    float x = ar[j] * scale[j] + shift[j];
                    Rt[j] = Up[j] > th[j] ? 1.0f : 0.0f;
                    if (reset == SU_RESET_SUBTRACT)
                        Ut[j] = b[j] * Up[j] + x - th[j] * Rt[j];
                    else if (reset == SU_RESET_ZERO)
                        Ut[j] = b[j] * ((1.0f - Rt[j]) * Up[j]) + x;
                    else
                        Ut[j] = b[j] * Up[j] + x;
                }
            }
            for (int t = T; t >= 1; t--) {
                const long idx = ((long)(t - 1) * BS + r) * C + c0;
                const float *gS = dspikes + idx, *Ut = U + t * CB, *Up = U + (t - 1) * CB, *Rt = R + t * CB,
                            *Rn = R + (t < T ? t + 1 : t) * CB;
                for (int j = 0; j < nc; j++) {
                    const float xx = Ut[j] - th[j];
                    float sg;
                    if (fast) {
                        float d = slope * fabsf(xx) + 1.0f;
                        sg = 1.0f / (d * d);
                    } else {
                        float kx = k_atan * xx;
                        sg = half_alpha / (1.0f + kx * kx);
                    }
                    /* U(t+1) depends on U(t) through the leak only (the reset spike is detached) */
                    float carry = t == T ? 0.0f : (reset == SU_RESET_ZERO ? b[j] * (1.0f - Rn[j]) : b[j]);
                    float d = gS[j] * sg + dU[j] * carry;
                    float decay_in = reset == SU_RESET_ZERO ? (1.0f - Rt[j]) * Up[j] : Up[j];
                    gb[j] += d * decay_in;
                    gth[j] += -gS[j] * sg - (reset == SU_RESET_SUBTRACT ? d * Rt[j] : 0.0f);
                    dxs[j] += d;
                    dU[j] = d;
                }
                if (!p->shared_input) memcpy(dx + idx, dU, sizeof(float) * nc);
            }
            if (p->shared_input) memcpy(dx + r * C + c0, dxs, sizeof(float) * nc);
            for (int j = 0; j < nc; j++) {
                const int pc = p->nparam > 1 ? c0 + j : 0;
                float beta = p->beta[pc];
                if (beta >= 0 && beta <= 1) sb[pc] += gb[j];
                sth[pc] += gth[j];
            }
        }
    }
}

void su_lif_backward(float *dx, float *dbeta, float *dtheta, const float *dspikes, const float *a,
                     const su_lif_args *p, const su_lif_config *cfg, double *scratch) {
    const int np = p->nparam;
    int nthreads = 1;
#pragma omp parallel
    {
#pragma omp single
        nthreads = omp_get_num_threads();
        int t = omp_get_thread_num();
        double *sb = scratch + (size_t)2 * np * t, *sth = sb + np;
        memset(sb, 0, sizeof(double) * 2 * np);
        float U[(MAX_T + 1) * CB], R[(MAX_T + 1) * CB];
        lif_backward_rows(dx, sb, sth, dspikes, a, p, cfg, p->BS * t / nthreads, p->BS * (t + 1) / nthreads, U, R);
    }
    for (int i = 0; i < np; i++) {
        double gb = 0, gth = 0;
        for (int t = 0; t < nthreads; t++) {
            gb += scratch[(size_t)2 * np * t + i];
            gth += scratch[(size_t)2 * np * t + np + i];
        }
        if (dbeta) dbeta[i] += (float)gb;
        if (dtheta) dtheta[i] += (float)gth;
    }
}
