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

/* One neuron (row r, channel c): recompute U(1..T), then walk back through time. */
static void lif_backward_rows(float *dx, double *sb, double *sth, const float *dspikes, const float *a,
                              const su_lif_args *p, const su_lif_config *cfg, long r0, long r1) {
    const int C = p->C, T = p->T;
    const long BS = p->BS;
    float U[MAX_T + 1], R[MAX_T + 1];
    for (long r = r0; r < r1; r++) {
        for (int c = 0; c < C; c++) {
            const int pc = p->nparam > 1 ? c : 0;
            const float beta = p->beta[pc], b = clamp01(beta), th = p->theta[pc];
            const float scale = p->scale[c], shift = p->shift[c];
            U[0] = 0;
            for (int t = 1; t <= T; t++) {
                const float *ar = a + ((p->shared_input ? 0 : (long)(t - 1) * BS) + r) * C;
                float x = ar[c] * scale + shift;
                R[t] = U[t - 1] > th ? 1.0f : 0.0f;
                if (cfg->reset == SU_RESET_SUBTRACT)
                    U[t] = b * U[t - 1] + x - th * R[t];
                else if (cfg->reset == SU_RESET_ZERO)
                    U[t] = b * ((1.0f - R[t]) * U[t - 1]) + x;
                else
                    U[t] = b * U[t - 1] + x;
            }
            float dU_next = 0, dx_sum = 0;
            double gb = 0, gth = 0;
            for (int t = T; t >= 1; t--) {
                long idx = ((long)(t - 1) * BS + r) * C + c;
                float sg = su_lif_surrogate(U[t] - th, cfg);
                float gS = dspikes[idx];
                /* U(t+1) depends on U(t) through the leak only (the reset spike is detached) */
                float carry = cfg->reset == SU_RESET_ZERO && t < T ? b * (1.0f - R[t + 1]) : b;
                float dU = gS * sg + (t < T ? dU_next * carry : 0.0f);
                float decay_in = cfg->reset == SU_RESET_ZERO ? (1.0f - R[t]) * U[t - 1] : U[t - 1];
                gb += (double)dU * decay_in;
                gth += -(double)gS * sg - (cfg->reset == SU_RESET_SUBTRACT ? (double)dU * R[t] : 0.0);
                if (p->shared_input)
                    dx_sum += dU;
                else
                    dx[idx] = dU;
                dU_next = dU;
            }
            if (p->shared_input) dx[r * C + c] = dx_sum;
            if (beta >= 0 && beta <= 1) sb[pc] += gb;
            sth[pc] += gth;
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
        lif_backward_rows(dx, sb, sth, dspikes, a, p, cfg, p->BS * t / nthreads, p->BS * (t + 1) / nthreads);
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
