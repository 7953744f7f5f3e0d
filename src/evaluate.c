/* The evaluation job (see evaluate.h). */
#include "spikeunet/evaluate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int su_energy_of_model(su_energy_estimate *est, const su_model_config *cfg, int D, int H, int W, const double *rates,
                       const su_energy_table *table, double *macs, double *sops, su_error *err) {
    int n = su_model_op_counts(cfg, D, H, W, rates, NULL, 0);
    su_layer_ops *ops = calloc((size_t)n, sizeof *ops);
    if (!ops) return su_fail(err, "out of memory");
    su_model_op_counts(cfg, D, H, W, rates, ops, n);
    int rc = su_energy_estimate_compute(est, NULL, ops, (size_t)n, table, err);
    if (macs) *macs = est->macs;
    if (sops) *sops = est->sops;
    free(ops);
    return rc;
}

void su_eval_result_free(su_eval_result *r) {
    su_metrics_set_free(&r->set);
    free(r->seconds);
    memset(r, 0, sizeof *r);
}

int su_evaluate(su_eval_result *r, su_predictor *p, const su_dataset *ds, const int *volumes, int n,
                const su_energy_table *table, su_eval_progress_fn progress, void *ctx, su_error *err) {
    memset(r, 0, sizeof *r);
    su_metrics_set_init(&r->set);
    int *all = NULL;
    if (!volumes) { /* every volume with ground truth */
        all = malloc(sizeof(int) * 2 * (ds->n_patients + 1));
        if (!all) return su_fail(err, "out of memory");
        n = 0;
        for (int i = 0; i < ds->n_patients; i++)
            if (ds->patients[i].has_gt) all[n++] = 2 * i, all[n++] = 2 * i + 1;
        volumes = all;
    }
    int rc = -1;
    if (n == 0) {
        if (all)
            su_fail(err, "no volumes with ground truth to evaluate (test folders have none)");
        else
            su_fail(err, "no volumes to evaluate in the chosen subset (e.g. a run trained with --val-fraction 0 "
                         "has no validation patients)");
        goto done;
    }
    r->seconds = calloc((size_t)n, sizeof(double));
    if (!r->seconds) {
        su_fail(err, "out of memory");
        goto done;
    }
    su_energy_counter counter;
    su_error ignored;
    int have = su_energy_rapl_open(&counter, NULL, &ignored) == 0;
    r->measured.energy_available = have;
    if (!have) snprintf(r->measured.reason, sizeof r->measured.reason, "%s", counter.reason);
    for (int i = 0; i < n; i++) {
        const su_patient *pt = &ds->patients[volumes[i] / 2];
        const int phase = volumes[i] % 2;
        su_volume img;
        uint8_t *gt = NULL, *pred = NULL;
        if (su_acdc_load(&img, &gt, pt, phase, err)) goto fail;
        pred = malloc(su_volume_voxels(&img));
        su_energy_measure meas; /* around the inference alone, not reading or scoring */
        su_energy_result one;
        su_energy_begin(&meas, have ? &counter : NULL);
        double t0 = now_s();
        int bad = !pred || su_predict_volume(p, &img, pred, err);
        r->seconds[i] = now_s() - t0;
        su_energy_end(&meas, &one);
        r->measured.wall_s += one.wall_s;
        r->measured.cpu_s += one.cpu_s;
        if (!one.energy_available) r->measured.energy_available = 0;
        for (int d = 0; d < SU_ENERGY_N_DOMAINS; d++) {
            r->measured.joules[d] += one.joules[d];
            r->measured.has[d] = one.has[d];
        }
        su_volume_scores s;
        if (!bad) bad = su_metrics_volume(&s, pred, gt, img.nx, img.ny, img.nz, img.dx, img.dy, img.dz, err);
        if (!bad) bad = su_metrics_set_add(&r->set, pt->id, phase == 0 ? SU_METRICS_PHASE_ED : SU_METRICS_PHASE_ES, &s, err);
        if (bad && !pred) su_fail(err, "out of memory");
        su_volume_free(&img);
        free(gt);
        free(pred);
        if (bad) {
            su_fail_context(err, "%s %s", pt->id, su_phase_name(phase));
            goto fail;
        }
        r->n = i + 1;
        r->infer_seconds += r->seconds[i];
        if (progress) progress(ctx, i + 1, n, pt->id);
    }
    if (have) su_energy_counter_close(&counter);
    r->n_lif = su_model_num_lif(p->m);
    for (int i = 0; i < r->n_lif; i++) {
        r->rates[i] = su_predictor_rate(p, i);
        r->mean_rate += r->rates[i] / r->n_lif;
    }
    if (su_energy_of_model(&r->estimate, su_model_get_config(p->m), p->grid.D, p->grid.H, p->grid.W,
                           r->n_lif ? r->rates : NULL, table, &r->macs, &r->sops, err))
        goto done;
    rc = 0;
    goto done;
fail:
    if (have) su_energy_counter_close(&counter);
done:
    free(all);
    if (rc) su_eval_result_free(r);
    return rc;
}
