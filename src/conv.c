/* The fast path for convolutions: oneDNN primitives on channels-last (NDHWC) activations.
 *
 * Why oneDNN: measured on the 2-core AVX-512 machine (docs/PERFORMANCE.md), its JIT kernels reach
 * 200-270 GFLOP/s on our layer shapes in NDHWC, forward and both backward passes, and it picks the
 * instruction set at run time. Weights stay in PyTorch's layout in the parameter block; a plan reorders
 * them into the kernels' preferred blocked layout once per weight update, and reorders weight gradients
 * back, accumulating into the gradient block. Every plan shares the engine's scratchpad (user-managed),
 * so no primitive allocates while a step runs. */
#include <oneapi/dnnl/dnnl.h>
#include <stdlib.h>
#include <string.h>

#include "spikeunet/layers.h"

struct su_engine {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    void *scratch;
    size_t scratch_size;
};

struct su_conv_plan {
    su_engine *eng;
    su_conv_kind kind;
    int Cout, has_bias, training, need_din;
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
    dnnl_primitive_t w_to_fwd, w_to_bwd, dw_to_user; /* reorders; w_to_bwd NULL when formats agree */
    dnnl_memory_t src, dst, bias, w_user, w_fwd, w_bwd, diff_src, diff_dst, diff_w, diff_b, scratch;
    float *diff_bias_buf; /* oneDNN writes the bias gradient here; we add it into dbias */
    size_t held_bytes;
};

#define DNNL_TRY(call)                                                                          \
    do {                                                                                        \
        dnnl_status_t st_ = (call);                                                             \
        if (st_ != dnnl_success) {                                                              \
            su_fail(err, "oneDNN: %s failed (status %d)", #call, (int)st_);                     \
            goto fail;                                                                          \
        }                                                                                       \
    } while (0)

int su_engine_create(su_engine **out, su_error *err) {
    su_engine *e = calloc(1, sizeof *e);
    if (!e) return su_fail(err, "out of memory creating the compute engine");
    if (dnnl_engine_create(&e->engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&e->stream, e->engine, dnnl_stream_default_flags) != dnnl_success) {
        su_engine_destroy(e);
        return su_fail(err, "oneDNN: cannot create a CPU engine");
    }
    *out = e;
    return 0;
}

void su_engine_destroy(su_engine *e) {
    if (!e) return;
    if (e->stream) dnnl_stream_destroy(e->stream);
    if (e->engine) dnnl_engine_destroy(e->engine);
    free(e->scratch);
    free(e);
}

size_t su_engine_scratch_bytes(const su_engine *e) { return e ? e->scratch_size : 0; }

/* Grows the shared scratchpad to fit a primitive (at plan time, never during a step). */
static int reserve_scratch(su_engine *e, const_dnnl_primitive_desc_t pd, su_error *err) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t need = md ? dnnl_memory_desc_get_size(md) : 0;
    if (need <= e->scratch_size) return 0;
    void *p = NULL;
    if (posix_memalign(&p, 64, need)) return su_fail(err, "out of memory (%zu bytes of scratchpad)", need);
    free(e->scratch);
    e->scratch = p;
    e->scratch_size = need;
    return 0;
}

static int make_memory(dnnl_memory_t *m, const dnnl_memory_desc_t *md, su_engine *e, int allocate,
                       size_t *held, su_error *err) {
    if (dnnl_memory_create(m, md, e->engine, allocate ? DNNL_MEMORY_ALLOCATE : DNNL_MEMORY_NONE) != dnnl_success)
        return su_fail(err, "oneDNN: cannot create a memory object");
    if (allocate) *held += dnnl_memory_desc_get_size(md);
    return 0;
}

static int make_reorder(dnnl_primitive_t *prim, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                        su_engine *e, int accumulate, su_error *err) {
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    DNNL_TRY(dnnl_primitive_attr_create(&attr));
    DNNL_TRY(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    if (accumulate) { /* to += reorder(from) */
        DNNL_TRY(dnnl_post_ops_create(&po));
        DNNL_TRY(dnnl_post_ops_append_sum(po, 1.0f));
        DNNL_TRY(dnnl_primitive_attr_set_post_ops(attr, po));
    }
    DNNL_TRY(dnnl_reorder_primitive_desc_create(&pd, from, e->engine, to, e->engine, attr));
    if (reserve_scratch(e, pd, err)) goto fail;
    DNNL_TRY(dnnl_primitive_create(prim, pd));
    dnnl_primitive_desc_destroy(pd);
    if (po) dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    return 0;
fail:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (po) dnnl_post_ops_destroy(po);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return -1;
}

int su_conv_plan_create(su_conv_plan **out, su_engine *e, su_conv_kind kind, int N, int D, int H, int W,
                        int Cin, int Cout, int flags, su_error *err) {
    const int has_bias = (flags & SU_CONV_BIAS) != 0, training = (flags & SU_CONV_TRAIN) != 0,
              need_din = (flags & SU_CONV_NEED_DIN) != 0, accumulate = (flags & SU_CONV_ACCUMULATE) != 0;
    su_conv_plan *p = calloc(1, sizeof *p);
    dnnl_primitive_attr_t attr = NULL, fattr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t fpd = NULL, dpd = NULL, wpd = NULL;
    if (!p) return su_fail(err, "out of memory creating a convolution plan");
    p->eng = e;
    p->kind = kind;
    p->Cout = Cout;
    p->has_bias = has_bias;
    p->training = training;
    p->need_din = training && need_din;

    const int k = kind == SU_CONV3 ? 3 : 1;
    const int up = kind == SU_UPCONV;
    dnnl_dims_t src_dims = {N, Cin, D, H, W};
    dnnl_dims_t dst_dims = {N, Cout, D, up ? 2 * H : H, up ? 2 * W : W};
    dnnl_dims_t w_dims = {Cout, Cin, 1, up ? 2 : k, up ? 2 : k};
    if (!up) w_dims[2] = k;
    dnnl_dims_t b_dims = {Cout};
    dnnl_dims_t strides = {1, up ? 2 : 1, up ? 2 : 1};
    dnnl_dims_t pad = {k / 2, k / 2, k / 2};
    if (up) pad[0] = pad[1] = pad[2] = 0;

    dnnl_memory_desc_t src_md, dst_md, w_any, w_user_md, b_md;
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&src_md, 5, src_dims, dnnl_f32, dnnl_ndhwc));
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&dst_md, 5, dst_dims, dnnl_f32, dnnl_ndhwc));
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&w_any, 5, w_dims, dnnl_f32, dnnl_format_tag_any));
    /* PyTorch: conv w[Cout][Cin][k..]; transposed conv w[Cin][Cout][k..] (oneDNN's "bacde") */
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&w_user_md, 5, w_dims, dnnl_f32, up ? dnnl_bacde : dnnl_abcde));
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&b_md, 1, b_dims, dnnl_f32, dnnl_a));
    const dnnl_memory_desc_t *bias_md = has_bias ? &b_md : NULL;
    DNNL_TRY(dnnl_primitive_attr_create(&attr));
    DNNL_TRY(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    /* the forward's attributes: out += conv(in) through a sum post-op when accumulating */
    DNNL_TRY(dnnl_primitive_attr_create(&fattr));
    DNNL_TRY(dnnl_primitive_attr_set_scratchpad_mode(fattr, dnnl_scratchpad_mode_user));
    if (accumulate) {
        DNNL_TRY(dnnl_post_ops_create(&po));
        DNNL_TRY(dnnl_post_ops_append_sum(po, 1.0f));
        DNNL_TRY(dnnl_primitive_attr_set_post_ops(fattr, po));
    }

    dnnl_prop_kind_t prop = training ? dnnl_forward_training : dnnl_forward_inference;
    if (up) {
        dnnl_deconvolution_desc_t d;
        DNNL_TRY(dnnl_deconvolution_forward_desc_init(&d, prop, dnnl_deconvolution_direct, &src_md, &w_any,
                                                      bias_md, &dst_md, strides, pad, pad));
        DNNL_TRY(dnnl_primitive_desc_create(&fpd, &d, fattr, e->engine, NULL));
    } else {
        dnnl_convolution_desc_t d;
        DNNL_TRY(dnnl_convolution_forward_desc_init(&d, prop, dnnl_convolution_direct, &src_md, &w_any, bias_md,
                                                    &dst_md, strides, pad, pad));
        DNNL_TRY(dnnl_primitive_desc_create(&fpd, &d, fattr, e->engine, NULL));
    }
    if (reserve_scratch(e, fpd, err)) goto fail;
    DNNL_TRY(dnnl_primitive_create(&p->fwd, fpd));
    const dnnl_memory_desc_t *w_fwd_md = dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 0);

    size_t held = 0;
    if (make_memory(&p->src, &src_md, e, 0, &held, err) || make_memory(&p->dst, &dst_md, e, 0, &held, err) ||
        make_memory(&p->bias, &b_md, e, 0, &held, err) || make_memory(&p->w_user, &w_user_md, e, 0, &held, err) ||
        make_memory(&p->w_fwd, w_fwd_md, e, 1, &held, err) ||
        make_reorder(&p->w_to_fwd, &w_user_md, w_fwd_md, e, 0, err))
        goto fail;
    dnnl_memory_desc_t scratch_md;
    dnnl_dims_t sdims = {1};
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&scratch_md, 1, sdims, dnnl_u8, dnnl_a));
    if (make_memory(&p->scratch, &scratch_md, e, 0, &held, err)) goto fail;

    if (training) {
        if (p->need_din) {
            if (up) {
                dnnl_deconvolution_desc_t d;
                DNNL_TRY(dnnl_deconvolution_backward_data_desc_init(&d, dnnl_deconvolution_direct, &src_md, &w_any,
                                                                    &dst_md, strides, pad, pad));
                DNNL_TRY(dnnl_primitive_desc_create(&dpd, &d, attr, e->engine, fpd));
            } else {
                dnnl_convolution_desc_t d;
                DNNL_TRY(dnnl_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &src_md, &w_any,
                                                                  &dst_md, strides, pad, pad));
                DNNL_TRY(dnnl_primitive_desc_create(&dpd, &d, attr, e->engine, fpd));
            }
            if (reserve_scratch(e, dpd, err)) goto fail;
            DNNL_TRY(dnnl_primitive_create(&p->bwd_data, dpd));
            const dnnl_memory_desc_t *w_bwd_md = dnnl_primitive_desc_query_md(dpd, dnnl_query_weights_md, 0);
            if (make_memory(&p->diff_src, &src_md, e, 0, &held, err)) goto fail;
            if (dnnl_memory_desc_equal(w_bwd_md, w_fwd_md)) {
                p->w_bwd = p->w_fwd;
            } else if (make_memory(&p->w_bwd, w_bwd_md, e, 1, &held, err) ||
                       make_reorder(&p->w_to_bwd, &w_user_md, w_bwd_md, e, 0, err)) {
                goto fail;
            }
        }
        if (up) {
            dnnl_deconvolution_desc_t d;
            DNNL_TRY(dnnl_deconvolution_backward_weights_desc_init(&d, dnnl_deconvolution_direct, &src_md, &w_any,
                                                                   bias_md, &dst_md, strides, pad, pad));
            DNNL_TRY(dnnl_primitive_desc_create(&wpd, &d, attr, e->engine, fpd));
        } else {
            dnnl_convolution_desc_t d;
            DNNL_TRY(dnnl_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, &src_md, &w_any,
                                                                 bias_md, &dst_md, strides, pad, pad));
            DNNL_TRY(dnnl_primitive_desc_create(&wpd, &d, attr, e->engine, fpd));
        }
        if (reserve_scratch(e, wpd, err)) goto fail;
        DNNL_TRY(dnnl_primitive_create(&p->bwd_weights, wpd));
        const dnnl_memory_desc_t *dw_md = dnnl_primitive_desc_query_md(wpd, dnnl_query_diff_weights_md, 0);
        p->diff_bias_buf = malloc(sizeof(float) * Cout);
        if (!p->diff_bias_buf) {
            su_fail(err, "out of memory");
            goto fail;
        }
        held += sizeof(float) * Cout;
        if (make_memory(&p->diff_dst, &dst_md, e, 0, &held, err) || make_memory(&p->diff_w, dw_md, e, 1, &held, err) ||
            make_memory(&p->diff_b, &b_md, e, 0, &held, err) ||
            make_reorder(&p->dw_to_user, dw_md, &w_user_md, e, 1, err))
            goto fail;
        DNNL_TRY(dnnl_memory_set_data_handle(p->diff_b, p->diff_bias_buf));
    }
    p->held_bytes = held;
    dnnl_primitive_desc_destroy(fpd);
    if (dpd) dnnl_primitive_desc_destroy(dpd);
    if (wpd) dnnl_primitive_desc_destroy(wpd);
    dnnl_primitive_attr_destroy(attr);
    dnnl_primitive_attr_destroy(fattr);
    if (po) dnnl_post_ops_destroy(po);
    *out = p;
    return 0;
fail:
    if (fpd) dnnl_primitive_desc_destroy(fpd);
    if (dpd) dnnl_primitive_desc_destroy(dpd);
    if (wpd) dnnl_primitive_desc_destroy(wpd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (fattr) dnnl_primitive_attr_destroy(fattr);
    if (po) dnnl_post_ops_destroy(po);
    su_conv_plan_destroy(p);
    return -1;
}

void su_conv_plan_destroy(su_conv_plan *p) {
    if (!p) return;
    dnnl_primitive_t prims[] = {p->fwd, p->bwd_data, p->bwd_weights, p->w_to_fwd, p->w_to_bwd, p->dw_to_user};
    for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
        if (prims[i]) dnnl_primitive_destroy(prims[i]);
    if (p->w_bwd && p->w_bwd != p->w_fwd) dnnl_memory_destroy(p->w_bwd);
    dnnl_memory_t mems[] = {p->src, p->dst, p->bias, p->w_user, p->w_fwd, p->diff_src,
                            p->diff_dst, p->diff_w, p->diff_b, p->scratch};
    for (size_t i = 0; i < sizeof mems / sizeof mems[0]; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    free(p->diff_bias_buf);
    free(p);
}

size_t su_conv_plan_bytes(const su_conv_plan *p) { return p ? p->held_bytes : 0; }

/* Executes one primitive on the engine's stream with the shared scratchpad. */
static int run(su_conv_plan *p, dnnl_primitive_t prim, int nargs, dnnl_exec_arg_t *args, su_error *err) {
    if (dnnl_memory_set_data_handle(p->scratch, p->eng->scratch) != dnnl_success)
        return su_fail(err, "oneDNN: cannot bind the scratchpad");
    args[nargs].arg = DNNL_ARG_SCRATCHPAD;
    args[nargs].memory = p->scratch;
    if (dnnl_primitive_execute(prim, p->eng->stream, nargs + 1, args) != dnnl_success ||
        dnnl_stream_wait(p->eng->stream) != dnnl_success)
        return su_fail(err, "oneDNN: a convolution primitive failed to execute");
    return 0;
}

static int bind(dnnl_memory_t m, const void *data, su_error *err) {
    if (dnnl_memory_set_data_handle(m, (void *)data) != dnnl_success)
        return su_fail(err, "oneDNN: cannot bind a buffer");
    return 0;
}

int su_conv_set_weights(su_conv_plan *p, const float *w, su_error *err) {
    if (bind(p->w_user, w, err)) return -1;
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_FROM, p->w_user}, {DNNL_ARG_TO, p->w_fwd}};
    if (run(p, p->w_to_fwd, 2, a, err)) return -1;
    if (p->w_to_bwd) {
        dnnl_exec_arg_t b[3] = {{DNNL_ARG_FROM, p->w_user}, {DNNL_ARG_TO, p->w_bwd}};
        if (run(p, p->w_to_bwd, 2, b, err)) return -1;
    }
    return 0;
}

int su_conv_forward(su_conv_plan *p, float *out, const float *in, const float *bias, su_error *err) {
    if (p->has_bias != (bias != NULL)) return su_fail(err, "convolution: bias given to a plan %s one", p->has_bias ? "that needs" : "without");
    if (bind(p->src, in, err) || bind(p->dst, out, err) || (bias && bind(p->bias, bias, err))) return -1;
    dnnl_exec_arg_t a[5] = {{DNNL_ARG_SRC, p->src}, {DNNL_ARG_WEIGHTS, p->w_fwd}, {DNNL_ARG_DST, p->dst},
                            {DNNL_ARG_BIAS, p->bias}};
    return run(p, p->fwd, p->has_bias ? 4 : 3, a, err);
}

int su_conv_backward(su_conv_plan *p, float *din, float *dw, float *dbias, const float *dout,
                     const float *in, su_error *err) {
    if (!p->training) return su_fail(err, "convolution plan was created for inference only");
    if (p->need_din && din) {
        if (bind(p->diff_src, din, err) || bind(p->diff_dst, dout, err)) return -1;
        dnnl_exec_arg_t a[4] = {{DNNL_ARG_DIFF_SRC, p->diff_src}, {DNNL_ARG_WEIGHTS, p->w_bwd},
                                {DNNL_ARG_DIFF_DST, p->diff_dst}};
        if (run(p, p->bwd_data, 3, a, err)) return -1;
    }
    if (!dw) return 0;
    if (bind(p->src, in, err) || bind(p->diff_dst, dout, err)) return -1;
    dnnl_exec_arg_t b[5] = {{DNNL_ARG_SRC, p->src}, {DNNL_ARG_DIFF_DST, p->diff_dst},
                            {DNNL_ARG_DIFF_WEIGHTS, p->diff_w}, {DNNL_ARG_DIFF_BIAS, p->diff_b}};
    if (run(p, p->bwd_weights, p->has_bias ? 4 : 3, b, err)) return -1;
    if (bind(p->w_user, dw, err)) return -1;
    dnnl_exec_arg_t c[3] = {{DNNL_ARG_FROM, p->diff_w}, {DNNL_ARG_TO, p->w_user}};
    if (run(p, p->dw_to_user, 2, c, err)) return -1;
    if (p->has_bias && dbias)
        for (int i = 0; i < p->Cout; i++) dbias[i] += p->diff_bias_buf[i];
    return 0;
}
