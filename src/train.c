/* The training job (see train.h). */
#include "spikeunet/train.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spikeunet/adam.h"
#include "spikeunet/augment.h"
#include "spikeunet/energy.h"
#include "spikeunet/metrics.h"
#include "spikeunet/model_io.h"
#include "spikeunet/rng.h"
#include "atomic.h"
#include "json_num.h"

void su_train_options_default(su_train_options *o, su_model_kind kind) {
    memset(o, 0, sizeof *o);
    su_model_config_default(&o->model, kind);
    su_grid_config_default(&o->grid);
    o->epochs = 100;
    o->batch = 1;
    o->lr = 1e-4f;
    o->loss = SU_LOSS_CE_DICE;
    o->seed = 42;
    o->val_fraction = 0.2;
    o->val_every = 1;
    o->augment_flip = 0.0f; /* augment.h: mirror flips only on request */
}

/* Everything a run holds while it trains. */
typedef struct run {
    su_train_options o;
    char data_dir[4096], run_dir[4096];
    char init_from[4096]; /* what the weights started from, kept through a resume for the checkpoints */
    su_dataset ds;
    su_split split;
    char *split_json;
    su_sample_set train, val;
    su_model *m;
    su_adam_config adam;
    long adam_t;
    int epochs_done, step_in_epoch;
    double loss_sum, seconds_total;
    long loss_count;
    double best_iou;
    int best_epoch, since_best;
    float *img, *probs, *aug_scratch;
    double *loss_scratch; /* per-thread sums of the validation loss */
    uint8_t *lab, *pred;
    int *order;
    su_energy_counter counter;
    int have_counter;
} run;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* A stream of random numbers for (seed, a, b): the data order of epoch a, or sample b's augmentation in
 * epoch a. Derived, not carried, so a resumed run draws exactly what an uninterrupted one would. */
static void derive_rng(su_rng *r, uint64_t seed, uint64_t a, uint64_t b) {
    su_rng_seed(r, seed ^ (a * 0x9E3779B97F4A7C15ULL) ^ ((b + 1) * 0xC2B2AE3D27D4EB4FULL));
}

static void path_join(char *out, size_t size, const char *dir, const char *name) {
    snprintf(out, size, "%s/%s", dir, name);
}

/* ---- options <-> JSON (checkpoint metadata) ---------------------------------------------------- */

static char *options_json(const run *r) {
    const su_train_options *o = &r->o;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "data_dir", r->data_dir);
    cJSON_AddNumberToObject(j, "epochs", o->epochs);
    cJSON_AddNumberToObject(j, "batch", o->batch);
    cJSON_AddNumberToObject(j, "lr", su_json_float(o->lr));
    cJSON_AddNumberToObject(j, "weight_decay", su_json_float(o->weight_decay));
    cJSON_AddNumberToObject(j, "loss", o->loss);
    if (o->use_class_weight) {
        cJSON *cw = cJSON_AddArrayToObject(j, "class_weight");
        for (int i = 0; i < 4; i++) cJSON_AddItemToArray(cw, cJSON_CreateNumber(o->class_weight[i]));
    }
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    cJSON_AddStringToObject(j, "seed", seed);
    cJSON_AddNumberToObject(j, "val_fraction", su_json_float(o->val_fraction));
    cJSON_AddBoolToObject(j, "split_by_volume", o->split_by_volume);
    cJSON_AddNumberToObject(j, "val_every", o->val_every);
    cJSON_AddBoolToObject(j, "augment", o->augment);
    cJSON_AddNumberToObject(j, "augment_flip", su_json_float(o->augment_flip));
    cJSON_AddNumberToObject(j, "max_train", o->max_train);
    cJSON_AddNumberToObject(j, "patience", o->patience);
    cJSON_AddStringToObject(j, "init_from", o->init_from ? o->init_from : "");
    cJSON *g = cJSON_AddObjectToObject(j, "grid");
    cJSON_AddNumberToObject(g, "D", o->grid.D);
    cJSON_AddNumberToObject(g, "H", o->grid.H);
    cJSON_AddNumberToObject(g, "W", o->grid.W);
    cJSON_AddNumberToObject(g, "spacing", su_json_float(o->grid.spacing));
    cJSON *s = cJSON_AddObjectToObject(j, "state");
    cJSON_AddNumberToObject(s, "epochs_done", r->epochs_done);
    cJSON_AddNumberToObject(s, "step_in_epoch", r->step_in_epoch);
    cJSON_AddNumberToObject(s, "loss_sum", r->loss_sum);
    cJSON_AddNumberToObject(s, "loss_count", (double)r->loss_count);
    cJSON_AddNumberToObject(s, "adam_t", (double)r->adam_t);
    cJSON_AddNumberToObject(s, "best_iou", r->best_iou);
    cJSON_AddNumberToObject(s, "best_epoch", r->best_epoch);
    cJSON_AddNumberToObject(s, "since_best", r->since_best);
    cJSON_AddNumberToObject(s, "seconds", r->seconds_total);
    cJSON_AddRawToObject(j, "split", r->split_json);
    char *out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return out;
}

/* a number of the training state JSON */
static int jnum(const cJSON *o, const char *key, double *v, su_error *err) {
    return su_json_number(o, key, "training state", v, err);
}

/* Restores options and state from a checkpoint's metadata. */
static int options_from_json(run *r, const char *json, su_error *err) {
    cJSON *j = cJSON_Parse(json), *s = NULL, *g = NULL;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return su_fail(err, "training state: not a JSON object");
    }
    int rc = -1;
    su_train_options *o = &r->o;
    double v[24] = {0};
    const cJSON *dd = cJSON_GetObjectItemCaseSensitive(j, "data_dir"), *seed = cJSON_GetObjectItemCaseSensitive(j, "seed"),
                *split = cJSON_GetObjectItemCaseSensitive(j, "split");
    s = cJSON_GetObjectItemCaseSensitive(j, "state");
    g = cJSON_GetObjectItemCaseSensitive(j, "grid");
    if (!cJSON_IsString(dd) || !cJSON_IsString(seed) || !cJSON_IsObject(s) || !cJSON_IsObject(g) || !cJSON_IsObject(split)) {
        su_fail(err, "training state: incomplete");
        goto done;
    }
    if (jnum(j, "epochs", &v[0], err) || jnum(j, "batch", &v[1], err) || jnum(j, "lr", &v[2], err) ||
        jnum(j, "weight_decay", &v[3], err) || jnum(j, "loss", &v[4], err) || jnum(j, "val_fraction", &v[5], err) ||
        jnum(j, "val_every", &v[6], err) || jnum(j, "max_train", &v[7], err) || jnum(j, "patience", &v[8], err) ||
        jnum(g, "D", &v[9], err) || jnum(g, "H", &v[10], err) || jnum(g, "W", &v[11], err) ||
        jnum(g, "spacing", &v[12], err) || jnum(s, "epochs_done", &v[13], err) ||
        jnum(s, "step_in_epoch", &v[14], err) || jnum(s, "loss_sum", &v[15], err) || jnum(s, "loss_count", &v[16], err) ||
        jnum(s, "adam_t", &v[17], err) || jnum(s, "best_iou", &v[18], err) || jnum(s, "best_epoch", &v[19], err) ||
        jnum(s, "since_best", &v[20], err) || jnum(s, "seconds", &v[21], err))
        goto done;
    snprintf(r->data_dir, sizeof r->data_dir, "%s", dd->valuestring);
    o->epochs = (int)v[0], o->batch = (int)v[1], o->lr = (float)v[2], o->weight_decay = (float)v[3];
    o->loss = (su_loss_kind)(int)v[4], o->val_fraction = v[5], o->val_every = (int)v[6], o->max_train = (int)v[7];
    o->patience = (int)v[8];
    o->grid.D = (int)v[9], o->grid.H = (int)v[10], o->grid.W = (int)v[11], o->grid.spacing = (float)v[12];
    r->epochs_done = (int)v[13], r->step_in_epoch = (int)v[14], r->loss_sum = v[15], r->loss_count = (long)v[16];
    r->adam_t = (long)v[17], r->best_iou = v[18], r->best_epoch = (int)v[19], r->since_best = (int)v[20];
    r->seconds_total = v[21];
    o->seed = strtoull(seed->valuestring, NULL, 10);
    o->split_by_volume = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "split_by_volume"));
    o->augment = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "augment"));
    /* states written before the option existed flipped with probability 0.5 */
    const cJSON *flip = cJSON_GetObjectItemCaseSensitive(j, "augment_flip");
    o->augment_flip = cJSON_IsNumber(flip) ? (float)flip->valuedouble : 0.5f;
    if (!(o->augment_flip >= 0 && o->augment_flip <= 1)) {
        su_fail(err, "training state: augment_flip out of range");
        goto done;
    }
    const cJSON *cw = cJSON_GetObjectItemCaseSensitive(j, "class_weight");
    o->use_class_weight = cJSON_IsArray(cw) && cJSON_GetArraySize(cw) == 4;
    for (int i = 0; o->use_class_weight && i < 4; i++) o->class_weight[i] = (float)cJSON_GetArrayItem(cw, i)->valuedouble;
    r->split_json = cJSON_PrintUnformatted(split);
    su_json_string(r->init_from, sizeof r->init_from, j, "init_from");
    o->init_from = r->init_from[0] ? r->init_from : NULL;
    if (o->batch < 1 || o->epochs < 0 || o->grid.D < 1 || o->grid.H < 1 || o->grid.W < 1 || !(o->grid.spacing > 0)) {
        su_fail(err, "training state: values out of range");
        goto done;
    }
    rc = 0;
done:
    cJSON_Delete(j);
    return rc;
}

/* ---- files of the run ------------------------------------------------------------------------- */

/* A run killed while writing (SIGKILL, power loss) leaves its temporary file behind; the files
 * themselves are whole (written under a temporary name, renamed into place), so the leftovers go. */
static void remove_stale_temporaries(const char *run_dir) {
    static const char *const prefixes[] = {"last.safetensors.tmp", "best.safetensors.tmp", "log.csv.tmp",
                                           "split.json.tmp"};
    DIR *d = opendir(run_dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)))
        for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
            if (!strncmp(e->d_name, prefixes[i], strlen(prefixes[i]))) {
                char path[4400];
                snprintf(path, sizeof path, "%s/%s", run_dir, e->d_name);
                unlink(path);
            }
    closedir(d);
}

static void csv_header(char *buf, size_t size, const run *r) {
    int n = snprintf(buf, size,
                     "epoch,train_loss,val_loss,val_dice_rv,val_dice_myo,val_dice_lv,val_dice_mean,val_iou_rv,"
                     "val_iou_myo,val_iou_lv,val_iou_mean,val_iou_mean4,seconds,train_seconds,val_seconds,joules,lr");
    if (r->o.model.kind == SU_MODEL_SPIKING) {
        n += snprintf(buf + n, size - n, ",firing_rate_mean");
        for (int i = 0; i < su_model_num_lif(r->m) && n < (int)size; i++)
            n += snprintf(buf + n, size - n, ",fr_%s", su_model_lif_name(r->m, i));
    }
    snprintf(buf + n, size - n, "\n");
}

/* Keeps the header and the rows of epochs 1..r->epochs_done (a resumed run rewrites what came after). */
static int log_truncate(const run *r, su_error *err) {
    char path[4200], line[8192];
    path_join(path, sizeof path, r->run_dir, "log.csv");
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    if (!text) return su_fail(err, "out of memory");
    text[0] = 0;
    FILE *f = fopen(path, "r");
    int first = 1;
    if (f) {
        while (fgets(line, sizeof line, f)) {
            if (!first && atoi(line) > r->epochs_done) continue;
            size_t l = strlen(line);
            if (len + l + 1 > cap) {
                char *t = realloc(text, cap = 2 * (len + l + 1));
                if (!t) {
                    fclose(f);
                    free(text);
                    return su_fail(err, "out of memory");
                }
                text = t;
            }
            memcpy(text + len, line, l + 1);
            len += l;
            first = 0;
        }
        fclose(f);
    }
    if (first) csv_header(text, cap, r); /* no log yet */
    int rc = su_write_text_atomic(path, text, err);
    free(text);
    return rc;
}

static int log_append(const run *r, const su_epoch_record *e, su_error *err) {
    char path[4200];
    path_join(path, sizeof path, r->run_dir, "log.csv");
    FILE *f = fopen(path, "a");
    if (!f) return su_fail(err, "%s: %s", path, strerror(errno));
    char val[512] = "";
    if (e->validated)
        snprintf(val, sizeof val, "%.6f,%.5f,%.5f,%.5f,%.5f,%.5f,%.5f,%.5f,%.5f,%.5f", e->val_loss, e->val_dice[1],
                 e->val_dice[2], e->val_dice[3], e->val_dice_mean, e->val_iou[1], e->val_iou[2], e->val_iou[3],
                 e->val_iou_mean, e->val_iou_mean4);
    else
        snprintf(val, sizeof val, ",,,,,,,,,");
    fprintf(f, "%d,%.6f,%s,%.2f,%.2f,%.2f,", e->epoch, e->train_loss, val, e->seconds, e->train_seconds,
            e->val_seconds);
    if (e->joules >= 0) fprintf(f, "%.1f", e->joules);
    fprintf(f, ",%g", r->o.lr);
    if (r->o.model.kind == SU_MODEL_SPIKING) {
        if (e->validated) fprintf(f, ",%.5f", e->mean_firing_rate); else fprintf(f, ",");
        for (int i = 0; i < e->n_lif; i++) {
            if (e->validated) fprintf(f, ",%.5f", e->firing_rate[i]); else fprintf(f, ",");
        }
    }
    fprintf(f, "\n");
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    int e2 = errno;
    bad |= fclose(f) != 0;
    if (bad) return su_fail(err, "%s: write failed: %s", path, strerror(e2));
    return 0;
}

static int save(run *r, const char *name, int with_optimizer, su_error *err) {
    char path[4200], grid[160];
    path_join(path, sizeof path, r->run_dir, name);
    char *json = options_json(r);
    snprintf(grid, sizeof grid, "{\"D\":%d,\"H\":%d,\"W\":%d,\"spacing\":%g}", r->o.grid.D, r->o.grid.H, r->o.grid.W,
             r->o.grid.spacing);
    su_checkpoint_meta meta[2] = {{SU_TRAIN_KEY, json}, {"spikeunet.grid", grid}};
    int rc = json ? su_model_save(path, r->m, with_optimizer, meta, 2, err) : su_fail(err, "out of memory");
    free(json);
    return rc;
}

/* ---- data ------------------------------------------------------------------------------------ */

static void load_progress(void *ctx, int done, int total) {
    void **c = ctx;
    su_progress_fn fn = (su_progress_fn)(uintptr_t)c[0];
    if (!fn) return;
    su_train_progress p = {SU_PROGRESS_LOAD, 0, 0, done, total, 0, 0, 0, NULL, (const char *)c[2]};
    fn(c[1], &p);
}

static int prepare_data(run *r, su_progress_fn progress, void *ctx, su_error *err) {
    int *tr = r->split.train, ntr = r->split.n_train;
    if (r->o.max_train > 0 && ntr > r->o.max_train) ntr = r->o.max_train;
    if (ntr < r->o.batch)
        return su_fail(err, "%s: %d training volumes, fewer than a batch of %d", r->data_dir, ntr, r->o.batch);
    void *c[3] = {(void *)(uintptr_t)progress, ctx, (void *)"loading training volumes"};
    if (su_samples_load(&r->train, &r->ds, tr, ntr, &r->o.grid, 1, load_progress, c, err)) return -1;
    c[2] = (void *)"loading validation volumes";
    if (su_samples_load(&r->val, &r->ds, r->split.val, r->split.n_val, &r->o.grid, 1, load_progress, c, err)) return -1;
    const su_grid_config *g = &r->o.grid;
    const size_t S = (size_t)g->D * g->H * g->W;
    r->img = malloc(sizeof(float) * S * r->o.batch);
    r->lab = malloc(S * r->o.batch);
    r->pred = malloc(S);
    r->probs = malloc(sizeof(float) * S * r->o.model.classes);
    r->order = malloc(sizeof(int) * (size_t)r->train.n);
    r->loss_scratch = malloc(sizeof(double) * 4 * r->o.model.classes * su_max_threads());
    r->aug_scratch = r->o.augment ? malloc(sizeof(float) * su_augment_scratch_floats(g->D, g->H, g->W)) : NULL;
    if (!r->img || !r->lab || !r->pred || !r->probs || !r->order || !r->loss_scratch || (r->o.augment && !r->aug_scratch))
        return su_fail(err, "out of memory for the batch buffers");
    return 0;
}

static void epoch_order(run *r, int epoch) {
    su_rng rng;
    derive_rng(&rng, r->o.seed, (uint64_t)epoch, UINT64_MAX - 1);
    for (int i = 0; i < r->train.n; i++) r->order[i] = i;
    for (int i = r->train.n - 1; i > 0; i--) { /* Fisher-Yates */
        int j = (int)su_rng_below(&rng, (uint64_t)i + 1), t = r->order[i];
        r->order[i] = r->order[j];
        r->order[j] = t;
    }
}

/* Fills slot b of the batch with training sample idx for this epoch (window, augmentation). */
static void fill_train(run *r, int b, int idx, int epoch) {
    const su_grid_config *g = &r->o.grid;
    const su_sample *s = &r->train.samples[idx];
    const size_t S = (size_t)g->D * g->H * g->W;
    su_rng rng;
    derive_rng(&rng, r->o.seed, (uint64_t)epoch, (uint64_t)idx);
    int z = su_sample_centre(s, g->D);
    if (r->o.augment && s->depth > g->D) z = (int)su_rng_below(&rng, (uint64_t)(s->depth - g->D + 1));
    su_sample_window(r->img + b * S, r->lab + b * S, s, z, g->D, g->H, g->W);
    if (r->o.augment) {
        su_augment_config ac;
        su_augment_config_default(&ac);
        ac.p_flip = r->o.augment_flip;
        su_augment_volume(r->img + b * S, r->lab + b * S, g->D, g->H, g->W, &rng, &ac, r->aug_scratch);
    }
}

/* ---- the loop ---------------------------------------------------------------------------------- */

static int validate(run *r, su_epoch_record *e, su_progress_fn progress, void *ctx, su_error *err) {
    const su_grid_config *g = &r->o.grid;
    const size_t S = (size_t)g->D * g->H * g->W;
    const int B = r->o.batch, K = r->o.model.classes, nl = su_model_num_lif(r->m);
    su_confusion conf;
    su_confusion_reset(&conf);
    double loss = 0, rates[SU_MAX_LIF] = {0};
    int batches = 0;
    for (int i0 = 0; i0 < r->val.n; i0 += B) {
        for (int b = 0; b < B; b++) { /* a short last batch repeats its last volume (not scored twice) */
            const su_sample *s = &r->val.samples[i0 + b < r->val.n ? i0 + b : r->val.n - 1];
            su_sample_window(r->img + b * S, r->lab + b * S, s, su_sample_centre(s, g->D), g->D, g->H, g->W);
        }
        const float *logits;
        if (su_model_forward(r->m, r->img, 0, &logits, err)) return -1;
        for (int b = 0; b < B && i0 + b < r->val.n; b++) {
            su_loss_value v = su_loss_forward_backward(NULL, r->probs, logits + b * S * K, r->lab + b * S, (long)S, K,
                                                       r->o.loss, r->o.use_class_weight ? r->o.class_weight : NULL,
                                                       r->loss_scratch);
            loss += v.total;
            su_argmax(r->pred, logits + b * S * K, (long)S, K);
            if (su_confusion_add(&conf, r->pred, r->lab + b * S, S, err)) return -1;
        }
        for (int i = 0; i < nl; i++) rates[i] += su_model_firing_rate(r->m, i);
        batches++;
        if (progress) {
            su_train_progress p = {SU_PROGRESS_VAL, e->epoch, r->o.epochs, i0 + B < r->val.n ? i0 + B : r->val.n,
                                   r->val.n, 0, 0, 0, NULL, NULL};
            progress(ctx, &p);
        }
    }
    e->validated = r->val.n > 0;
    e->val_loss = r->val.n ? loss / r->val.n : 0;
    su_confusion_scores(&conf, e->val_dice, e->val_iou, &e->val_dice_mean, &e->val_iou_mean, NULL, &e->val_iou_mean4);
    e->n_lif = nl;
    e->mean_firing_rate = 0;
    for (int i = 0; i < nl; i++) {
        e->firing_rate[i] = batches ? rates[i] / batches : 0;
        e->mean_firing_rate += e->firing_rate[i] / nl;
    }
    return 0;
}

static int train_loop(run *r, su_progress_fn progress, void *ctx, volatile sig_atomic_t *stop, su_train_result *res,
                      su_error *err) {
    const su_grid_config *g = &r->o.grid;
    const int B = r->o.batch, steps = r->train.n / B;
    const float *cw = r->o.use_class_weight ? r->o.class_weight : NULL;
    memset(res, 0, sizeof *res);
    if (su_model_plan(r->m, B, g->D, g->H, g->W, 1, err)) return -1;
    while (r->epochs_done < r->o.epochs) {
        const int epoch = r->epochs_done + 1;
        su_epoch_record e;
        memset(&e, 0, sizeof e);
        e.epoch = epoch;
        su_energy_measure meas;
        su_energy_begin(&meas, r->have_counter ? &r->counter : NULL);
        double t0 = now_s();
        epoch_order(r, epoch);
        for (int step = r->step_in_epoch; step < steps; step++) {
            for (int b = 0; b < B; b++) fill_train(r, b, r->order[step * B + b], epoch);
            su_loss_value v;
            if (su_model_forward(r->m, r->img, 1, NULL, err)) return -1;
            su_model_zero_grad(r->m);
            if (su_model_backward(r->m, r->lab, r->o.loss, cw, &v, err)) return -1;
            if (r->o.fault_nan_step && r->adam_t + 1 == r->o.fault_nan_step) v.total = NAN;
            if (!isfinite(v.total))
                return su_fail(err, "epoch %d, step %d: the loss is %g; training stopped, the last good checkpoint "
                               "(%s/last.safetensors, end of epoch %d) is kept", epoch, step + 1, v.total, r->run_dir,
                               r->epochs_done);
            r->adam_t++;
            su_adam_step(su_model_params(r->m), su_model_grads(r->m), su_model_adam_m(r->m), su_model_adam_v(r->m),
                         su_model_trainable_mask(r->m), su_model_num_params(r->m), r->adam_t, &r->adam);
            su_model_params_changed(r->m);
            r->loss_sum += v.total;
            r->loss_count++;
            r->step_in_epoch = step + 1;
            su_energy_poll(&meas);
            if (progress) {
                double el = now_s() - t0;
                int done = step + 1 - (r->step_in_epoch - (step + 1)); /* steps this session */
                double vps = done > 0 ? done * B / el : 0;
                su_train_progress p = {SU_PROGRESS_STEP, epoch, r->o.epochs, step + 1, steps,
                                       r->loss_sum / r->loss_count, vps,
                                       vps > 0 ? ((steps - step - 1) * B + (double)(r->o.epochs - epoch) * steps * B) / vps : 0,
                                       NULL, NULL};
                progress(ctx, &p);
            }
            if (stop && *stop) {
                r->seconds_total += now_s() - t0;
                if (save(r, "last.safetensors", 1, err)) return -1;
                res->stopped = 1;
                res->epochs_done = r->epochs_done;
                res->best_iou = r->best_iou;
                res->best_epoch = r->best_epoch;
                return 0;
            }
        }
        e.train_seconds = now_s() - t0;
        e.train_loss = r->loss_count ? r->loss_sum / r->loss_count : 0;
        double t1 = now_s();
        if (r->val.n > 0 && (epoch % r->o.val_every == 0 || epoch == r->o.epochs))
            if (validate(r, &e, progress, ctx, err)) return -1;
        e.val_seconds = now_s() - t1;
        e.seconds = now_s() - t0;
        su_energy_result er;
        su_energy_end(&meas, &er);
        e.joules = er.energy_available && er.has[SU_ENERGY_PACKAGE] ? er.joules[SU_ENERGY_PACKAGE] : -1;
        r->seconds_total += e.seconds;
        r->epochs_done = epoch;
        r->step_in_epoch = 0;
        r->loss_sum = 0;
        r->loss_count = 0;
        if (e.validated) {
            if (e.val_iou_mean > r->best_iou) {
                r->best_iou = e.val_iou_mean;
                r->best_epoch = epoch;
                r->since_best = 0;
                e.best = 1;
            } else {
                r->since_best++;
            }
        }
        /* the log row first: killed before the checkpoint, the resumed run redoes this epoch and rewrites
         * its row (log_truncate); the other order could lose a row for good */
        if (e.best && save(r, "best.safetensors", 0, err)) return -1;
        if (log_append(r, &e, err) || save(r, "last.safetensors", 1, err)) return -1;
        if (progress) {
            su_train_progress p = {SU_PROGRESS_EPOCH, epoch, r->o.epochs, steps, steps, e.train_loss, 0, 0, &e, NULL};
            progress(ctx, &p);
        }
        if (r->o.patience > 0 && r->since_best >= r->o.patience) break;
        if (stop && *stop) {
            res->stopped = 1;
            break;
        }
    }
    res->epochs_done = r->epochs_done;
    res->best_iou = r->best_iou;
    res->best_epoch = r->best_epoch;
    return 0;
}

static void run_free(run *r) {
    su_model_destroy(r->m);
    su_samples_free(&r->train);
    su_samples_free(&r->val);
    su_split_free(&r->split);
    su_acdc_free(&r->ds);
    free(r->split_json);
    free(r->img);
    free(r->lab);
    free(r->pred);
    free(r->probs);
    free(r->order);
    free(r->aug_scratch);
    free(r->loss_scratch);
    if (r->have_counter) su_energy_counter_close(&r->counter);
}

static void open_counter(run *r) {
    su_error ignored;
    r->have_counter = su_energy_rapl_open(&r->counter, NULL, &ignored) == 0;
}

/* Refuses a starting checkpoint that was trained on a patient this run validates on: its validation
 * scores would be flattered (the patient's heart was seen). Checkpoints without a saved split (trained
 * elsewhere) pass. By patient, because ED and ES of one heart are near-duplicates. */
static int check_init_leak(const su_checkpoint *ck, const char *path, const su_dataset *ds, const su_split *split,
                           su_error *err) {
    char *sj = NULL;
    su_error ignored;
    if (su_train_saved_split(&sj, NULL, 0, ck, &ignored)) return 0;
    su_split seen;
    int mt = 0, mv = 0, rc = 0;
    if (su_split_parse_present(&seen, &mt, &mv, ds, sj, &ignored)) {
        free(sj);
        return 0;
    }
    free(sj);
    for (int i = 0; i < split->n_val && !rc; i++)
        for (int j = 0; j < seen.n_train; j++)
            if (split->val[i] / 2 == seen.train[j] / 2) {
                rc = su_fail(err,
                             "%s was trained on %s, which this run validates on (its validation scores would be "
                             "flattered); train with the same --seed, --val-fraction and --split-by as that run "
                             "(--init-from)",
                             path, ds->patients[split->val[i] / 2].id);
                break;
            }
    su_split_free(&seen);
    return rc;
}

/* Copies every tensor of a checkpoint that the model also has (same name and shape). */
static int init_from(su_model *m, const char *path, const su_dataset *ds, const su_split *split, su_error *err) {
    su_checkpoint ck;
    if (su_checkpoint_read(&ck, path, err)) return -1;
    if (check_init_leak(&ck, path, ds, split, err)) {
        su_checkpoint_free(&ck);
        return -1;
    }
    int copied = 0;
    for (int i = 0; i < su_model_num_tensors(m); i++) {
        const su_tensor_info *t = su_model_tensor(m, i);
        const su_checkpoint_tensor *c = su_checkpoint_find(&ck, t->name);
        if (!c) continue;
        int64_t shape[5];
        for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d];
        if (su_checkpoint_get(&ck, t->name, SU_CKPT_F32, t->ndim, shape, t->data, err)) {
            su_checkpoint_free(&ck);
            return su_fail_context(err, "--init-from");
        }
        copied++;
    }
    su_checkpoint_free(&ck);
    if (!copied) return su_fail(err, "%s: no tensor matches this model (--init-from)", path);
    su_model_params_changed(m);
    return 0;
}

int su_train(const su_train_options *o, int force, su_progress_fn progress, void *ctx, volatile sig_atomic_t *stop,
             su_train_result *result, su_error *err) {
    run r;
    memset(&r, 0, sizeof r);
    r.o = *o;
    r.best_iou = -1;
    snprintf(r.data_dir, sizeof r.data_dir, "%s", o->data_dir);
    snprintf(r.run_dir, sizeof r.run_dir, "%s", o->run_dir);
    su_adam_config_default(&r.adam);
    r.adam.lr = o->lr;
    r.adam.weight_decay = o->weight_decay;
    int rc = -1;
    if (o->batch < 1 || o->epochs < 1 || o->val_every < 1)
        return su_fail(err, "batch, epochs and val-every must be at least 1");
    if (!(o->augment_flip >= 0 && o->augment_flip <= 1))
        return su_fail(err, "augment-flip %g: a probability must lie in [0, 1]", (double)o->augment_flip);
    if (o->grid.H % (1 << o->model.depth) || o->grid.W % (1 << o->model.depth))
        return su_fail(err, "grid %dx%d: H and W must be multiples of 2^depth = %d", o->grid.H, o->grid.W, 1 << o->model.depth);
    struct stat st;
    const int exists = stat(o->run_dir, &st) == 0;
    if (exists) {
        char probe[4200];
        path_join(probe, sizeof probe, o->run_dir, "last.safetensors");
        if (!S_ISDIR(st.st_mode)) return su_fail(err, "%s: exists and is not a folder", o->run_dir);
        if (!force && access(probe, F_OK) == 0)
            return su_fail(err, "%s: holds a run already (resume it with --resume, or start over with --force)", o->run_dir);
    }
    /* Everything that can fail on bad input (data, split, model, --init-from) comes before the run folder
     * is made, so a refused start leaves nothing behind. */
    if (su_acdc_scan(&r.ds, r.data_dir, err)) goto done;
    if ((o->split_by_volume ? su_split_by_volume : su_split_by_patient)(&r.split, &r.ds, o->val_fraction, o->seed, err) ||
        su_split_format(&r.split_json, &r.split, &r.ds, err))
        goto done;
    if (su_model_create(&r.m, &o->model, o->seed, err)) goto done;
    if (o->init_from && *o->init_from && init_from(r.m, o->init_from, &r.ds, &r.split, err)) goto done;
    if (prepare_data(&r, progress, ctx, err)) goto done;
    if (!exists && mkdir(o->run_dir, 0755)) {
        su_fail(err, "%s: cannot create the run folder: %s", o->run_dir, strerror(errno));
        goto done;
    }
    remove_stale_temporaries(r.run_dir);
    char path[4200];
    path_join(path, sizeof path, r.run_dir, "split.json");
    char *text = malloc(strlen(r.split_json) + 2); /* the file ends with a newline, the metadata copy does not */
    if (!text) {
        su_fail(err, "out of memory");
        goto done;
    }
    sprintf(text, "%s\n", r.split_json);
    int wrc = su_write_text_atomic(path, text, err);
    free(text);
    if (wrc) goto done;
    path_join(path, sizeof path, r.run_dir, "log.csv");
    unlink(path);
    if (log_truncate(&r, err)) goto done;
    open_counter(&r);
    rc = train_loop(&r, progress, ctx, stop, result, err);
done:
    run_free(&r);
    return rc;
}

int su_train_resume(const char *run_dir, const su_resume_options *ov, su_progress_fn progress, void *ctx,
                    volatile sig_atomic_t *stop, su_train_result *result, su_error *err) {
    run r;
    memset(&r, 0, sizeof r);
    snprintf(r.run_dir, sizeof r.run_dir, "%s", run_dir);
    char path[4200];
    path_join(path, sizeof path, run_dir, "last.safetensors");
    remove_stale_temporaries(run_dir);
    su_checkpoint ck;
    if (su_checkpoint_read(&ck, path, err)) return -1;
    int rc = -1;
    const char *json = su_checkpoint_meta_get(&ck, SU_TRAIN_KEY);
    if (!json) {
        su_fail(err, "%s: no training state in this checkpoint (metadata '%s')", path, SU_TRAIN_KEY);
        goto done;
    }
    if (options_from_json(&r, json, err)) {
        su_fail_context(err, "%s", path);
        goto done;
    }
    if (su_model_from_checkpoint(&r.m, &ck, 1, err)) goto done;
    r.o.model = *su_model_get_config(r.m);
    if (ov && ov->epochs > 0 && ov->epochs < r.epochs_done) {
        su_fail(err, "%s: the run has done %d epochs already; --epochs %d would end before that (give more to "
                     "continue)", run_dir, r.epochs_done, ov->epochs);
        goto done;
    }
    if (ov && ov->epochs > 0) r.o.epochs = ov->epochs;
    if (ov && ov->data_dir) snprintf(r.data_dir, sizeof r.data_dir, "%s", ov->data_dir);
    if (ov && ov->lr > 0) r.o.lr = ov->lr;
    if (ov) r.o.fault_nan_step = ov->fault_nan_step;
    su_adam_config_default(&r.adam);
    r.adam.lr = r.o.lr;
    r.adam.weight_decay = r.o.weight_decay;
    if (su_acdc_scan(&r.ds, r.data_dir, err) || su_split_parse(&r.split, &r.ds, r.split_json, err)) goto done;
    if (prepare_data(&r, progress, ctx, err) || log_truncate(&r, err)) goto done;
    open_counter(&r);
    rc = train_loop(&r, progress, ctx, stop, result, err);
done:
    su_checkpoint_free(&ck);
    run_free(&r);
    return rc;
}

int su_train_saved_split(char **json, char *data_dir, size_t size, const su_checkpoint *ck, su_error *err) {
    const char *tj = su_checkpoint_meta_get(ck, SU_TRAIN_KEY);
    cJSON *j = tj ? cJSON_Parse(tj) : NULL;
    const cJSON *split = cJSON_GetObjectItemCaseSensitive(j, "split");
    *json = cJSON_IsObject(split) ? cJSON_PrintUnformatted(split) : NULL;
    if (data_dir && size) su_json_string(data_dir, size, j, "data_dir");
    cJSON_Delete(j);
    if (!*json) return su_fail(err, "%s: no data split in this checkpoint (written by spikeunet train?)", ck->path);
    return 0;
}

int su_train_state(su_train_state_info *info, const su_checkpoint *ck, su_error *err) {
    memset(info, 0, sizeof *info);
    const char *tj = su_checkpoint_meta_get(ck, SU_TRAIN_KEY);
    cJSON *j = tj ? cJSON_Parse(tj) : NULL;
    if (!j) return su_fail(err, "%s: no training state in this checkpoint (metadata '%s')", ck->path, SU_TRAIN_KEY);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "state"), *split = cJSON_GetObjectItemCaseSensitive(j, "split");
    double v[6] = {0};
    int rc = jnum(j, "epochs", &v[0], err) || jnum(s, "epochs_done", &v[1], err) || jnum(s, "best_iou", &v[2], err) ||
             jnum(s, "best_epoch", &v[3], err) || jnum(s, "adam_t", &v[4], err) || jnum(s, "seconds", &v[5], err);
    if (rc) {
        su_fail_context(err, "%s", ck->path);
    } else {
        info->epochs = (int)v[0], info->epochs_done = (int)v[1], info->best_iou = v[2], info->best_epoch = (int)v[3];
        info->adam_t = (long)v[4], info->seconds = v[5];
        info->n_train = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(split, "train"));
        info->n_val = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(split, "val"));
        su_json_string(info->data_dir, sizeof info->data_dir, j, "data_dir");
        su_json_string(info->init_from, sizeof info->init_from, j, "init_from");
    }
    cJSON_Delete(j);
    return rc ? -1 : 0;
}
