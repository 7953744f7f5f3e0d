/* Inference: segment volumes with a checkpoint; operation counts for the energy estimate. */
#include "spikeunet/infer.h"
#include "spikeunet/postprocess.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spikeunet/model_io.h"

static int grid_from_json(su_grid_config *g, const char *json, const char *path, su_error *err) {
    cJSON *j = cJSON_Parse(json);
    const char *keys[4] = {"D", "H", "W", "spacing"};
    double v[4];
    for (int i = 0; i < 4; i++) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
        if (!cJSON_IsNumber(it)) {
            cJSON_Delete(j);
            return su_fail(err, "%s: grid metadata lacks '%s'", path, keys[i]);
        }
        v[i] = it->valuedouble;
    }
    cJSON_Delete(j);
    g->D = (int)v[0], g->H = (int)v[1], g->W = (int)v[2], g->spacing = (float)v[3];
    if (g->D < 1 || g->H < 1 || g->W < 1 || g->D > 4096 || g->H > 4096 || g->W > 4096 || !(g->spacing > 0))
        return su_fail(err, "%s: grid metadata out of range", path);
    return 0;
}

int su_predictor_init(su_predictor *p, su_model *m, const su_grid_config *grid, su_error *err) {
    memset(p, 0, sizeof *p);
    const int f = 1 << su_model_get_config(m)->depth;
    if (grid->H % f || grid->W % f)
        return su_fail(err, "grid %dx%d does not fit a model of depth %d", grid->H, grid->W, su_model_get_config(m)->depth);
    p->m = m;
    p->grid = *grid;
    return 0;
}

int su_predictor_open(su_predictor *p, const char *path, su_error *err) {
    su_checkpoint ck;
    memset(p, 0, sizeof *p);
    if (su_checkpoint_read(&ck, path, err)) return -1;
    su_grid_config g;
    const char *gj = su_checkpoint_meta_get(&ck, "spikeunet.grid");
    su_model *m = NULL;
    int rc = -1;
    if (!gj) {
        su_fail(err, "%s: no grid metadata ('spikeunet.grid'); was it written by spikeunet train?", path);
        goto done;
    }
    if (grid_from_json(&g, gj, path, err) || su_model_from_checkpoint(&m, &ck, 0, err)) goto done;
    if (su_predictor_init(p, m, &g, err)) {
        su_model_destroy(m);
        goto done;
    }
    rc = 0;
done:
    su_checkpoint_free(&ck);
    return rc;
}

void su_predictor_close(su_predictor *p) {
    su_model_destroy(p->m);
    free(p->input);
    free(p->scores);
    memset(p, 0, sizeof *p);
}

double su_predictor_rate(const su_predictor *p, int i) { return p->volumes > 0 ? p->rate_sum[i] / p->volumes : 0; }

int su_predict_volume(su_predictor *p, const su_volume *img, uint8_t *labels, su_error *err) {
    const su_grid_config *g = &p->grid;
    const int depth = img->nz > g->D ? img->nz : g->D;
    su_grid_map map;
    if (su_grid_plan(&map, img->nx, img->ny, img->nz, img->dx, img->dy, depth, g->H, g->W, g->spacing, err)) return -1;
    const size_t n = (size_t)depth * g->H * g->W;
    const int K = su_model_get_config(p->m)->classes;
    if (n > p->cap) {
        free(p->input);
        free(p->scores);
        p->input = malloc(n * sizeof(float));
        p->scores = malloc(n * K * sizeof(float));
        if (!p->input || !p->scores) return su_fail(err, "out of memory for a %dx%dx%d grid", depth, g->H, g->W);
        p->cap = n;
    }
    if (depth != p->planned_depth) { /* the depth follows the volume, so no slice is ever cut */
        if (su_model_plan(p->m, 1, depth, g->H, g->W, 0, err)) return -1;
        p->planned_depth = depth;
    }
    su_grid_image(p->input, &map, img->data);
    const float *logits;
    if (su_model_forward(p->m, p->input, 0, &logits, err)) return -1;
    memcpy(p->scores, logits, n * K * sizeof(float));
    su_grid_scores_inverse(labels, &map, p->scores, K);
    if (p->keep_largest && su_keep_largest_components(labels, img->nx, img->ny, img->nz, K, (su_keep_mode)p->keep_largest, NULL, err)) return -1;
    for (int i = 0; i < su_model_num_lif(p->m); i++) p->rate_sum[i] += su_model_firing_rate(p->m, i);
    p->volumes++;
    return 0;
}

/* ---- operation counts ------------------------------------------------------------------------- */

static int add(su_layer_ops *rows, int n, int max, const char *name, const char *kind, double macs, double rate,
               double updates) {
    if (n < max) {
        su_layer_ops *r = &rows[n];
        memset(r, 0, sizeof *r);
        snprintf(r->name, sizeof r->name, "%s", name);
        snprintf(r->kind, sizeof r->kind, "%s", kind);
        r->macs = macs;
        r->input_rate = rate;
        r->sops = rate >= 0 ? rate * macs : 0;
        r->neuron_updates = updates;
    }
    return n + 1;
}

int su_model_op_counts(const su_model_config *cfg, int D, int H, int W, const double *rates, su_layer_ops *rows,
                       int max) {
    int nl = su_model_layers(cfg, D, H, W, NULL, 0);
    su_layer_info *info = calloc((size_t)nl, sizeof *info);
    if (!info) return -1;
    su_model_layers(cfg, D, H, W, info, nl);
    static const char *const kinds[] = {"conv", "bn", "relu", "lif", "pool", "upconv", "concat", "mean"};
    int n = 0;
    for (int i = 0; i < nl; i++) {
        const su_layer_info *l = &info[i];
        const char *kind = kinds[l->kind];
        double rate_in = l->input_lif >= 0 ? (rates ? rates[l->input_lif] : 1.0) : -1.0;
        switch (l->kind) {
        case SU_LAYER_CONV:
        case SU_LAYER_UPCONV:
            if (l->spike_input == 2) { /* [skip spikes, upsampled real values]: two halves */
                char nm[48];
                double skip_rate = rates ? rates[l->second_lif] : 1.0;
                snprintf(nm, sizeof nm, "%s[skip]", l->name);
                n = add(rows, n, max, nm, kind, l->macs / 2, skip_rate, 0);
                snprintf(nm, sizeof nm, "%s[up]", l->name);
                n = add(rows, n, max, nm, kind, l->macs / 2, -1, 0);
            } else {
                n = add(rows, n, max, l->name, kind, l->macs, l->spike_input ? rate_in : -1, 0);
            }
            break;
        case SU_LAYER_BN:
            n = add(rows, n, max, l->name, kind, l->macs, -1, 0);
            break;
        case SU_LAYER_LIF:
            n = add(rows, n, max, l->name, kind, 0, -1, (double)l->C * l->D * l->H * l->W * l->steps);
            break;
        case SU_LAYER_MEAN: /* T - 1 additions and a scale per output: counted as MACs */
            n = add(rows, n, max, l->name, kind, (double)l->C * l->D * l->H * l->W * cfg->timesteps, -1, 0);
            break;
        default: /* ReLU, pooling, concatenation: comparisons and copies, no arithmetic counted */
            break;
        }
    }
    free(info);
    return n;
}
