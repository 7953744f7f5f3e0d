/* Models in safetensors checkpoints (see model_io.h). */
#include "spikeunet/model_io.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_num.h"

static const char *RESET_NAMES[] = {"subtract", "zero", "none"};
static const char *SURROGATE_NAMES[] = {"atan", "fast_sigmoid"};
static const char *LEARN_NAMES[] = {"none", "layer", "channel"};

const char *su_model_kind_name(su_model_kind kind) { return kind == SU_MODEL_SPIKING ? "spiking" : "unet"; }

int su_model_kind_parse(su_model_kind *kind, const char *s) {
    if (!strcmp(s, "unet")) *kind = SU_MODEL_UNET;
    else if (!strcmp(s, "spiking")) *kind = SU_MODEL_SPIKING;
    else return -1;
    return 0;
}

char *su_model_config_to_json(const su_model_config *c) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", su_model_kind_name(c->kind));
    cJSON_AddNumberToObject(o, "in_channels", c->in_channels);
    cJSON_AddNumberToObject(o, "classes", c->classes);
    cJSON_AddNumberToObject(o, "base", c->base);
    cJSON_AddNumberToObject(o, "depth", c->depth);
    cJSON_AddNumberToObject(o, "timesteps", c->timesteps);
    cJSON_AddNumberToObject(o, "beta", su_json_float(c->beta));
    cJSON_AddNumberToObject(o, "threshold", su_json_float(c->theta));
    cJSON_AddStringToObject(o, "reset", RESET_NAMES[c->lif.reset]);
    cJSON_AddStringToObject(o, "surrogate", SURROGATE_NAMES[c->lif.surrogate]);
    cJSON_AddNumberToObject(o, "surrogate_slope", su_json_float(c->lif.slope));
    cJSON_AddStringToObject(o, "learn_beta", LEARN_NAMES[c->learn_beta]);
    cJSON_AddStringToObject(o, "learn_threshold", LEARN_NAMES[c->learn_theta]);
    cJSON_AddNumberToObject(o, "bn_momentum", su_json_float(c->bn_momentum));
    cJSON_AddNumberToObject(o, "bn_eps", su_json_float(c->bn_eps));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* a number of the configuration JSON */
static int get_number(const cJSON *o, const char *key, double *v, su_error *err) {
    return su_json_number(o, key, "configuration", v, err);
}

static int get_int(const cJSON *o, const char *key, int *v, su_error *err) {
    double d = 0;
    if (get_number(o, key, &d, err)) return -1;
    if (!(d >= -1e9 && d <= 1e9) || d != (double)(long)d) return su_fail(err, "configuration: '%s' must be an integer, got %g", key, d);
    *v = (int)d;
    return 0;
}

static int get_enum(const cJSON *o, const char *key, const char **names, int n, int *v, su_error *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(it)) return su_fail(err, "configuration: '%s' missing or not a string", key);
    for (int i = 0; i < n; i++)
        if (!strcmp(it->valuestring, names[i])) {
            *v = i;
            return 0;
        }
    return su_fail(err, "configuration: unknown %s '%s'", key, it->valuestring);
}

int su_model_config_from_json(su_model_config *c, const char *json, su_error *err) {
    cJSON *o = cJSON_Parse(json);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return su_fail(err, "configuration: not a JSON object");
    }
    int rc = -1, kind = 0, reset = 0, sur = 0, lb = 0, lt = 0;
    double beta = 0, theta = 0, slope = 0, mom = 0, eps = 0;
    const char *kinds[] = {"unet", "spiking"};
    if (get_enum(o, "model", kinds, 2, &kind, err)) goto done;
    su_model_config_default(c, (su_model_kind)kind);
    if (get_int(o, "in_channels", &c->in_channels, err) || get_int(o, "classes", &c->classes, err) ||
        get_int(o, "base", &c->base, err) || get_int(o, "depth", &c->depth, err) ||
        get_int(o, "timesteps", &c->timesteps, err) || get_number(o, "beta", &beta, err) ||
        get_number(o, "threshold", &theta, err) || get_enum(o, "reset", RESET_NAMES, 3, &reset, err) ||
        get_enum(o, "surrogate", SURROGATE_NAMES, 2, &sur, err) || get_number(o, "surrogate_slope", &slope, err) ||
        get_enum(o, "learn_beta", LEARN_NAMES, 3, &lb, err) || get_enum(o, "learn_threshold", LEARN_NAMES, 3, &lt, err) ||
        get_number(o, "bn_momentum", &mom, err) || get_number(o, "bn_eps", &eps, err))
        goto done;
    c->beta = (float)beta, c->theta = (float)theta, c->lif.slope = (float)slope;
    c->lif.reset = (su_reset)reset, c->lif.surrogate = (su_surrogate)sur;
    c->learn_beta = (su_learn)lb, c->learn_theta = (su_learn)lt;
    c->bn_momentum = (float)mom, c->bn_eps = (float)eps;
    rc = su_model_config_check(c, err);
done:
    cJSON_Delete(o);
    return rc;
}

static void fill_tensor(su_checkpoint_tensor *t, const char *name, const su_tensor_info *info, const float *data) {
    t->name = name;
    t->dtype = SU_CKPT_F32;
    t->ndim = info->ndim;
    for (int d = 0; d < info->ndim; d++) t->shape[d] = info->shape[d];
    t->data = data;
}

int su_model_save(const char *path, const su_model *m, int with_optimizer, const su_checkpoint_meta *extra,
                  size_t n_extra, su_error *err) {
    const int nt = su_model_num_tensors(m);
    su_checkpoint_tensor *ts = calloc((size_t)nt * 3, sizeof *ts);
    char(*names)[64] = calloc((size_t)nt * 2, sizeof *names);
    su_checkpoint_meta *meta = calloc(n_extra + 2, sizeof *meta);
    char *config = su_model_config_to_json(su_model_get_config(m));
    int rc = -1;
    if (!ts || !names || !meta || !config) {
        su_fail(err, "%s: out of memory writing the checkpoint", path);
        goto done;
    }
    size_t n = 0;
    const float *params = su_model_params((su_model *)m), *am = su_model_adam_m((su_model *)m),
                *av = su_model_adam_v((su_model *)m);
    for (int i = 0; i < nt; i++) {
        const su_tensor_info *t = su_model_tensor(m, i);
        fill_tensor(&ts[n++], t->name, t, t->data);
    }
    if (with_optimizer)
        for (int i = 0; i < nt; i++) {
            const su_tensor_info *t = su_model_tensor(m, i);
            if (!t->grad) continue; /* buffers have no moments */
            size_t off = (size_t)(t->data - params);
            snprintf(names[2 * i], 64, "optim.m.%s", t->name);
            snprintf(names[2 * i + 1], 64, "optim.v.%s", t->name);
            fill_tensor(&ts[n++], names[2 * i], t, am + off);
            fill_tensor(&ts[n++], names[2 * i + 1], t, av + off);
        }
    meta[0].key = "spikeunet.format";
    meta[0].value = "1";
    meta[1].key = SU_CONFIG_KEY;
    meta[1].value = config;
    for (size_t i = 0; i < n_extra; i++) meta[2 + i] = extra[i];
    rc = su_checkpoint_write(path, ts, n, meta, n_extra + 2, err);
done:
    free(ts);
    free(names);
    free(meta);
    free(config);
    return rc;
}

int su_model_from_checkpoint(su_model **out, const su_checkpoint *ck, int with_optimizer, su_error *err) {
    const char *json = su_checkpoint_meta_get(ck, SU_CONFIG_KEY);
    if (!json) return su_fail(err, "%s: not a spikeunet checkpoint (no '%s' metadata)", ck->path, SU_CONFIG_KEY);
    su_model_config cfg;
    if (su_model_config_from_json(&cfg, json, err)) return su_fail_context(err, "%s", ck->path);
    su_model *m = NULL;
    if (su_model_create(&m, &cfg, 0, err)) return su_fail_context(err, "%s", ck->path);
    const float *params = su_model_params(m);
    size_t expected = 0;
    for (int i = 0; i < su_model_num_tensors(m); i++) {
        const su_tensor_info *t = su_model_tensor(m, i);
        int64_t shape[5];
        for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d];
        if (su_checkpoint_get(ck, t->name, SU_CKPT_F32, t->ndim, shape, t->data, err)) goto fail;
        expected++;
        if (!with_optimizer || !t->grad) continue;
        size_t off = (size_t)(t->data - params);
        char name[64];
        snprintf(name, sizeof name, "optim.m.%s", t->name);
        if (su_checkpoint_get(ck, name, SU_CKPT_F32, t->ndim, shape, su_model_adam_m(m) + off, err)) goto fail;
        snprintf(name, sizeof name, "optim.v.%s", t->name);
        if (su_checkpoint_get(ck, name, SU_CKPT_F32, t->ndim, shape, su_model_adam_v(m) + off, err)) goto fail;
    }
    /* nothing unknown: a tensor we do not have means another configuration or another program */
    for (size_t i = 0; i < ck->n_tensors; i++) {
        const char *name = ck->tensors[i].name;
        if (!strncmp(name, "optim.", 6)) continue;
        if (!su_model_find_tensor(m, name)) {
            su_fail(err, "%s: tensor '%s' does not belong to this %s configuration", ck->path, name,
                    su_model_kind_name(cfg.kind));
            goto fail;
        }
    }
    for (size_t i = 0; i < su_model_num_params(m); i++)
        if (!isfinite(params[i])) {
            su_fail(err, "%s: parameters contain NaN or Inf", ck->path);
            goto fail;
        }
    (void)expected;
    su_model_params_changed(m);
    *out = m;
    return 0;
fail:
    su_model_destroy(m);
    return -1;
}

int su_model_load(su_model **m, const char *path, su_error *err) {
    su_checkpoint ck;
    if (su_checkpoint_read(&ck, path, err)) return -1;
    int rc = su_model_from_checkpoint(m, &ck, 0, err);
    su_checkpoint_free(&ck);
    return rc;
}
