/* Layers: reference convolutions and the elementwise layers (batch norm, ReLU, pooling, losses).
 * Dimensions and layouts: see include/spikeunet/layers.h. */
#include "spikeunet/layers.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "dispatch.h"

int su_max_threads(void) { return omp_get_max_threads(); }

/* ---- reference convolutions ------------------------------------------------------------------- */

void su_conv3d_forward_ref(float *out, const float *in, const float *w, const float *bias,
                           int N, int D, int H, int W, int Cin, int Cout, int k) {
    const int p = k / 2;
    const long S = (long)D * H * W;
#pragma omp parallel for schedule(static)
    for (long ns = 0; ns < N * S; ns++) {
        long n = ns / S, s = ns % S;
        int d = (int)(s / ((long)H * W)), h = (int)(s / W % H), x = (int)(s % W);
        for (int co = 0; co < Cout; co++) {
            double acc = bias ? bias[co] : 0.0;
            for (int kd = 0; kd < k; kd++) {
                int id = d + kd - p;
                if (id < 0 || id >= D) continue;
                for (int kh = 0; kh < k; kh++) {
                    int ih = h + kh - p;
                    if (ih < 0 || ih >= H) continue;
                    for (int kw = 0; kw < k; kw++) {
                        int iw = x + kw - p;
                        if (iw < 0 || iw >= W) continue;
                        const float *src = in + ((n * D + id) * H * W + (long)ih * W + iw) * Cin;
                        for (int ci = 0; ci < Cin; ci++)
                            acc += (double)src[ci] * w[(((long)co * Cin + ci) * k + kd) * k * k + kh * k + kw];
                    }
                }
            }
            out[ns * Cout + co] = (float)acc;
        }
    }
}

void su_conv3d_backward_ref(float *din, float *dw, float *dbias, const float *dout, const float *in,
                            const float *w, int N, int D, int H, int W, int Cin, int Cout, int k) {
    const int p = k / 2;
    const long S = (long)D * H * W;
    if (din) {
        /* din[n, s, ci] = sum over the voxels it reached of dout * w (a gather, so threads never race) */
#pragma omp parallel for schedule(static)
        for (long ns = 0; ns < N * S; ns++) {
            long n = ns / S, s = ns % S;
            int d = (int)(s / ((long)H * W)), h = (int)(s / W % H), x = (int)(s % W);
            for (int ci = 0; ci < Cin; ci++) {
                double acc = 0;
                for (int kd = 0; kd < k; kd++) {
                    int od = d - kd + p;
                    if (od < 0 || od >= D) continue;
                    for (int kh = 0; kh < k; kh++) {
                        int oh = h - kh + p;
                        if (oh < 0 || oh >= H) continue;
                        for (int kw = 0; kw < k; kw++) {
                            int ow = x - kw + p;
                            if (ow < 0 || ow >= W) continue;
                            const float *g = dout + ((n * D + od) * H * W + (long)oh * W + ow) * Cout;
                            for (int co = 0; co < Cout; co++)
                                acc += (double)g[co] * w[(((long)co * Cin + ci) * k + kd) * k * k + kh * k + kw];
                        }
                    }
                }
                din[ns * Cin + ci] = (float)acc;
            }
        }
    }
    /* dw[co, ci, kd, kh, kw] = sum over voxels of dout[co] * in[shifted, ci]: one thread per weight */
    const int K3 = k * k * k;
#pragma omp parallel for schedule(static)
    for (long idx = 0; idx < (long)Cout * Cin * K3; idx++) {
        int co = (int)(idx / ((long)Cin * K3)), ci = (int)(idx / K3 % Cin), kk = (int)(idx % K3);
        int kd = kk / (k * k), kh = kk / k % k, kw = kk % k;
        double acc = 0;
        for (long ns = 0; ns < N * S; ns++) {
            long n = ns / S, s = ns % S;
            int d = (int)(s / ((long)H * W)), h = (int)(s / W % H), x = (int)(s % W);
            int id = d + kd - p, ih = h + kh - p, iw = x + kw - p;
            if (id < 0 || id >= D || ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            acc += (double)dout[ns * Cout + co] * in[((n * D + id) * H * W + (long)ih * W + iw) * Cin + ci];
        }
        dw[idx] += (float)acc;
    }
    if (dbias) {
        for (int co = 0; co < Cout; co++) {
            double acc = 0;
            for (long ns = 0; ns < N * S; ns++) acc += dout[ns * Cout + co];
            dbias[co] += (float)acc;
        }
    }
}

void su_upconv_forward_ref(float *out, const float *in, const float *w, const float *bias,
                           int N, int D, int H, int W, int Cin, int Cout) {
    const int H2 = 2 * H, W2 = 2 * W;
#pragma omp parallel for schedule(static)
    for (long o = 0; o < (long)N * D * H2 * W2; o++) {
        int ow = (int)(o % W2), oh = (int)(o / W2 % H2);
        long nd = o / ((long)H2 * W2);
        int ih = oh / 2, iw = ow / 2, kh = oh % 2, kw = ow % 2;
        const float *src = in + ((nd * H + ih) * W + iw) * Cin;
        for (int co = 0; co < Cout; co++) {
            double acc = bias ? bias[co] : 0.0;
            for (int ci = 0; ci < Cin; ci++) acc += (double)src[ci] * w[(((long)ci * Cout + co) * 2 + kh) * 2 + kw];
            out[o * Cout + co] = (float)acc;
        }
    }
}

void su_upconv_backward_ref(float *din, float *dw, float *dbias, const float *dout, const float *in,
                            const float *w, int N, int D, int H, int W, int Cin, int Cout) {
    const int H2 = 2 * H, W2 = 2 * W;
    const long NI = (long)N * D * H * W;
    if (din) {
#pragma omp parallel for schedule(static)
        for (long i = 0; i < NI; i++) {
            int iw = (int)(i % W), ih = (int)(i / W % H);
            long nd = i / ((long)H * W);
            for (int ci = 0; ci < Cin; ci++) {
                double acc = 0;
                for (int kh = 0; kh < 2; kh++)
                    for (int kw = 0; kw < 2; kw++) {
                        const float *g = dout + ((nd * H2 + 2 * ih + kh) * W2 + 2 * iw + kw) * Cout;
                        for (int co = 0; co < Cout; co++) acc += (double)g[co] * w[(((long)ci * Cout + co) * 2 + kh) * 2 + kw];
                    }
                din[i * Cin + ci] = (float)acc;
            }
        }
    }
#pragma omp parallel for schedule(static)
    for (long idx = 0; idx < (long)Cin * Cout * 4; idx++) {
        int ci = (int)(idx / (Cout * 4)), co = (int)(idx / 4 % Cout), kh = (int)(idx / 2 % 2), kw = (int)(idx % 2);
        double acc = 0;
        for (long i = 0; i < NI; i++) {
            int iw = (int)(i % W), ih = (int)(i / W % H);
            long nd = i / ((long)H * W);
            acc += (double)in[i * Cin + ci] * dout[((nd * H2 + 2 * ih + kh) * W2 + 2 * iw + kw) * Cout + co];
        }
        dw[idx] += (float)acc;
    }
    if (dbias) {
        for (int co = 0; co < Cout; co++) {
            double acc = 0;
            for (long o = 0; o < NI * 4; o++) acc += dout[o * Cout + co];
            dbias[co] += (float)acc;
        }
    }
}

/* ---- batch norm ------------------------------------------------------------------------------- */

/* Per-thread partial sums over a static split of the NS rows, combined in thread order, so the
 * result does not depend on scheduling (only on the thread count). */
SU_DISPATCH static void sums_rows(double *s1, double *s2, const float *x, long r0, long r1, int C, int ld) {
    for (long r = r0; r < r1; r++) {
        const float *row = x + r * ld;
        for (int c = 0; c < C; c++) {
            double v = row[c];
            s1[c] += v;
            s2[c] += v * v;
        }
    }
}

void su_bn_stats(float *mean, float *rstd, float *var_unbiased, const float *x, long NS, int C, int ld,
                 float eps, double *scratch) {
    int nt = 1;
#pragma omp parallel
    {
#pragma omp single
        nt = omp_get_num_threads();
        int t = omp_get_thread_num();
        double *s1 = scratch + (size_t)2 * C * t, *s2 = s1 + C;
        memset(s1, 0, sizeof(double) * 2 * C);
        long r0 = NS * t / nt, r1 = NS * (t + 1) / nt;
        sums_rows(s1, s2, x, r0, r1, C, ld);
    }
    for (int c = 0; c < C; c++) {
        double a = 0, b = 0;
        for (int t = 0; t < nt; t++) {
            a += scratch[(size_t)2 * C * t + c];
            b += scratch[(size_t)2 * C * t + C + c];
        }
        double m = a / NS, var = b / NS - m * m;
        if (var < 0) var = 0;
        mean[c] = (float)m;
        rstd[c] = (float)(1.0 / sqrt(var + eps));
        if (var_unbiased) var_unbiased[c] = (float)(NS > 1 ? var * NS / (NS - 1) : var);
    }
}

void su_bn_update_running(float *running_mean, float *running_var, const float *mean,
                          const float *var_unbiased, int C, float momentum) {
    for (int c = 0; c < C; c++) {
        running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean[c];
        running_var[c] = (1 - momentum) * running_var[c] + momentum * var_unbiased[c];
    }
}

void su_bn_eval_stats(float *mean, float *rstd, const float *running_mean, const float *running_var,
                      int C, float eps) {
    for (int c = 0; c < C; c++) {
        mean[c] = running_mean[c];
        rstd[c] = (float)(1.0 / sqrt((double)running_var[c] + eps));
    }
}

SU_DISPATCH static void bn_act_rows(float *y, int ldy, const float *x, const float *scale,
                                    const float *shift, long r0, long r1, int C, int relu) {
    for (long r = r0; r < r1; r++) {
        const float *xr = x + r * C;
        float *yr = y + r * ldy;
        if (relu)
            for (int c = 0; c < C; c++) {
                float v = xr[c] * scale[c] + shift[c];
                yr[c] = v > 0 ? v : 0;
            }
        else
            for (int c = 0; c < C; c++) yr[c] = xr[c] * scale[c] + shift[c];
    }
}

void su_bn_act_forward(float *y, int ldy, const float *x, const float *mean, const float *rstd,
                       const float *gamma, const float *beta, long NS, int C, int relu) {
    /* y = x * scale + shift with scale = gamma * rstd, shift = beta - mean * scale */
    float scale[C], shift[C];
    for (int c = 0; c < C; c++) {
        scale[c] = gamma[c] * rstd[c];
        shift[c] = beta[c] - mean[c] * scale[c];
    }
#pragma omp parallel
    {
        int nt = omp_get_num_threads(), t = omp_get_thread_num();
        bn_act_rows(y, ldy, x, scale, shift, NS * t / nt, NS * (t + 1) / nt, C, relu);
    }
}

/* Pass 1 of the backward: sums of g and g * xhat per channel, g = dy masked by the ReLU. */
SU_DISPATCH static void bn_back_sums(double *sg, double *sgx, const float *dy, int ldd, const float *y,
                                     int ldy, const float *x, const float *mean, const float *rstd,
                                     long r0, long r1, int C) {
    for (long r = r0; r < r1; r++) {
        const float *dr = dy + r * ldd, *xr = x + r * C;
        const float *yr = y ? y + r * ldy : NULL;
        for (int c = 0; c < C; c++) {
            float g = (yr && !(yr[c] > 0)) ? 0.0f : dr[c];
            sg[c] += g;
            sgx[c] += (double)g * ((xr[c] - mean[c]) * rstd[c]);
        }
    }
}

/* Pass 2: dx = gamma * rstd * (g - mean(g) - xhat * mean(g * xhat)). */
SU_DISPATCH static void bn_back_apply(float *dx, const float *dy, int ldd, const float *y, int ldy,
                                      const float *x, const float *mean, const float *rstd,
                                      const float *k1, const float *k2, const float *k3, long r0,
                                      long r1, int C) {
    for (long r = r0; r < r1; r++) {
        const float *dr = dy + r * ldd, *xr = x + r * C;
        const float *yr = y ? y + r * ldy : NULL;
        float *out = dx + r * C;
        for (int c = 0; c < C; c++) {
            float g = (yr && !(yr[c] > 0)) ? 0.0f : dr[c];
            float xhat = (xr[c] - mean[c]) * rstd[c];
            out[c] = k1[c] * g - k2[c] - k3[c] * xhat;
        }
    }
}

void su_bn_act_backward(float *dx, float *dgamma, float *dbeta, const float *dy, int ldd, const float *y,
                        int ldy, const float *x, const float *mean, const float *rstd, const float *gamma,
                        long NS, int C, double *scratch) {
    int nt = 1;
#pragma omp parallel
    {
#pragma omp single
        nt = omp_get_num_threads();
        int t = omp_get_thread_num();
        double *sg = scratch + (size_t)2 * C * t, *sgx = sg + C;
        memset(sg, 0, sizeof(double) * 2 * C);
        bn_back_sums(sg, sgx, dy, ldd, y, ldy, x, mean, rstd, NS * t / nt, NS * (t + 1) / nt, C);
    }
    float k1[C], k2[C], k3[C];
    for (int c = 0; c < C; c++) {
        double a = 0, b = 0;
        for (int t = 0; t < nt; t++) {
            a += scratch[(size_t)2 * C * t + c];
            b += scratch[(size_t)2 * C * t + C + c];
        }
        dbeta[c] += (float)a;
        dgamma[c] += (float)b;
        double gr = (double)gamma[c] * rstd[c];
        k1[c] = (float)gr;
        k2[c] = (float)(gr * a / NS);
        k3[c] = (float)(gr * b / NS);
    }
#pragma omp parallel
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        bn_back_apply(dx, dy, ldd, y, ldy, x, mean, rstd, k1, k2, k3, NS * t / n, NS * (t + 1) / n, C);
    }
}

/* ---- pooling, concatenation ---------------------------------------------------------------------- */

void su_maxpool_forward(float *out, uint8_t *arg, const float *in, int ldi, int N, int D, int H, int W,
                        int C) {
    const int Ho = H / 2, Wo = W / 2;
#pragma omp parallel for schedule(static)
    for (long o = 0; o < (long)N * D * Ho * Wo; o++) {
        int ow = (int)(o % Wo), oh = (int)(o / Wo % Ho);
        long nd = o / ((long)Ho * Wo);
        const float *p[4];
        for (int j = 0; j < 4; j++) p[j] = in + ((nd * H + 2 * oh + j / 2) * W + 2 * ow + j % 2) * ldi;
        float *dst = out + o * C;
        uint8_t *a = arg + o * C;
        for (int c = 0; c < C; c++) {
            float m = p[0][c];
            uint8_t best = 0;
            for (uint8_t j = 1; j < 4; j++)
                if (p[j][c] > m || isnan(p[j][c])) {
                    m = p[j][c];
                    best = j;
                }
            dst[c] = m;
            a[c] = best;
        }
    }
}

void su_maxpool_backward(float *din, int ldi, const float *dout, const uint8_t *arg, int N, int D, int H,
                         int W, int C) {
    const int Ho = H / 2, Wo = W / 2;
#pragma omp parallel for schedule(static)
    for (long o = 0; o < (long)N * D * Ho * Wo; o++) {
        int ow = (int)(o % Wo), oh = (int)(o / Wo % Ho);
        long nd = o / ((long)Ho * Wo);
        const float *g = dout + o * C;
        const uint8_t *a = arg + o * C;
        for (int c = 0; c < C; c++) {
            int j = a[c];
            din[((nd * H + 2 * oh + j / 2) * W + 2 * ow + j % 2) * ldi + c] += g[c];
        }
    }
}

void su_maxpool_forward_u8(uint8_t *out, uint8_t *arg, const uint8_t *in, int N, int D, int H, int W, int C) {
    const int Ho = H / 2, Wo = W / 2;
#pragma omp parallel for schedule(static)
    for (long o = 0; o < (long)N * D * Ho * Wo; o++) {
        int ow = (int)(o % Wo), oh = (int)(o / Wo % Ho);
        long nd = o / ((long)Ho * Wo);
        const uint8_t *p[4];
        for (int j = 0; j < 4; j++) p[j] = in + ((nd * H + 2 * oh + j / 2) * W + 2 * ow + j % 2) * C;
        uint8_t *dst = out + o * C, *a = arg + o * C;
        for (int c = 0; c < C; c++) {
            /* the first window position holding the maximum, as in the float version */
            uint8_t best = p[0][c] ? 0 : p[1][c] ? 1 : p[2][c] ? 2 : p[3][c] ? 3 : 0;
            dst[c] = p[best][c];
            a[c] = best;
        }
    }
}

void su_spikes_to_float(float *dst, const uint8_t *src, long n) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) dst[i] = src[i];
}

void su_copy_channels(float *dst, int ldd, const float *src, int lds, long NS, int C) {
#pragma omp parallel for schedule(static)
    for (long r = 0; r < NS; r++) memcpy(dst + r * ldd, src + r * lds, sizeof(float) * C);
}

/* ---- losses ------------------------------------------------------------------------------------ */

/* Softmax of one voxel's K logits into p. */
static inline void softmax_row(float *p, const float *z, int K) {
    float m = z[0];
    for (int k = 1; k < K; k++) m = z[k] > m ? z[k] : m;
    double sum = 0;
    for (int k = 0; k < K; k++) sum += p[k] = expf(z[k] - m);
    for (int k = 0; k < K; k++) p[k] = (float)(p[k] / sum);
}

su_loss_value su_loss_forward_backward(float *dlogits, float *probs, const float *logits,
                                       const uint8_t *labels, long M, int K, su_loss_kind kind,
                                       const float *class_weight, double *scratch) {
    /* Pass 1: softmax, the CE sum and the Dice sums (I_c, P_c, G_c) per thread. */
    int nt = 1;
    const int stride = 4 * K; /* per thread: I[K], P[K], G[K], {nll, weight} */
#pragma omp parallel
    {
#pragma omp single
        nt = omp_get_num_threads();
        int t = omp_get_thread_num();
        double *I = scratch + (size_t)stride * t, *P = I + K, *G = P + K, *ce = G + K;
        memset(I, 0, sizeof(double) * stride);
        for (long i = M * t / nt; i < M * (t + 1) / nt; i++) {
            float *p = probs + i * K;
            softmax_row(p, logits + i * K, K);
            int y = labels[i];
            double w = class_weight ? class_weight[y] : 1.0;
            ce[0] += -w * log((double)p[y] > 1e-30 ? (double)p[y] : 1e-30);
            ce[1] += w;
            for (int k = 0; k < K; k++) P[k] += p[k];
            I[y] += p[y];
            G[y] += 1;
        }
    }
    double I[K], P[K], G[K], nll = 0, wsum = 0;
    for (int k = 0; k < K; k++) I[k] = P[k] = G[k] = 0;
    for (int t = 0; t < nt; t++) {
        const double *s = scratch + (size_t)stride * t;
        for (int k = 0; k < K; k++) {
            I[k] += s[k];
            P[k] += s[K + k];
            G[k] += s[2 * K + k];
        }
        nll += s[3 * K];
        wsum += s[3 * K + 1];
    }
    su_loss_value v = {0, 0, 0};
    v.ce = wsum > 0 ? nll / wsum : 0;
    const int nfg = K - 1;
    double dice_mean = 0;
    float dP[K], dI[K]; /* dL/dp_c = dP[c] + dI[c] * g_c  (from the Dice term) */
    for (int k = 0; k < K; k++) dP[k] = dI[k] = 0;
    for (int c = 1; c < K; c++) {
        double den = P[c] + G[c] + 1.0, num = 2 * I[c] + 1.0;
        dice_mean += num / den / nfg;
        /* d(num/den)/dp = (2 g den - num) / den^2, and L = 1 - mean */
        dI[c] = (float)(-2.0 / den / nfg);
        dP[c] = (float)(num / (den * den) / nfg);
    }
    v.dice = 1.0 - dice_mean;
    int use_ce = (kind & SU_LOSS_CE) != 0, use_dice = (kind & SU_LOSS_DICE) != 0;
    v.total = (use_ce ? v.ce : 0) + (use_dice ? v.dice : 0);
    if (!dlogits) return v;

    /* Pass 2: gradient. CE: (p - onehot) * w_y / W. Dice: softmax backward of dL/dp. */
    const double ce_scale = wsum > 0 ? 1.0 / wsum : 0;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < M; i++) {
        const float *p = probs + i * K;
        float *g = dlogits + i * K;
        int y = labels[i];
        for (int k = 0; k < K; k++) g[k] = 0;
        if (use_ce) {
            float s = (float)((class_weight ? class_weight[y] : 1.0) * ce_scale);
            for (int k = 0; k < K; k++) g[k] = p[k] * s;
            g[y] -= s;
        }
        if (use_dice) {
            float dp[K], dot = 0;
            for (int k = 0; k < K; k++) {
                dp[k] = dP[k] + (k == y ? dI[k] : 0);
                dot += p[k] * dp[k];
            }
            for (int k = 0; k < K; k++) g[k] += p[k] * (dp[k] - dot);
        }
    }
    return v;
}

void su_argmax(uint8_t *labels, const float *logits, long M, int K) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < M; i++) {
        const float *z = logits + i * K;
        int best = 0;
        for (int k = 1; k < K; k++)
            if (z[k] > z[best]) best = k;
        labels[i] = (uint8_t)best;
    }
}
