#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "spikeunet/acdc.h"
#include "spikeunet/model_io.h"

void report_eval_progress(void *ctx, int done, int total, const char *volume) {
    const char *label = ctx;
    if (!isatty(2)) return;
    fprintf(stderr, "\r%s%s%sevaluating %d/%d (%s)\033[K", label ? "[" : "", label ? label : "", label ? "] " : "",
            done, total, volume);
    if (done == total) fprintf(stderr, "\r\033[K");
}

void report_volumes(FILE *f, const su_eval_result *r) {
    fprintf(f, "%-11s %-5s %7s %7s %7s %7s %7s %7s %8s %8s %8s %8s %8s %7s\n", "patient", "phase", "DiceRV", "DiceMYO",
            "DiceLV", "IoU_RV", "IoU_MYO", "IoU_LV", "IoU3", "IoU4", "HD95RV", "HD95MYO", "HD95LV", "sec");
    for (size_t i = 0; i < r->set.n; i++) {
        const su_metrics_record *m = &r->set.rec[i];
        const su_class_scores *c = m->s.cls;
        fprintf(f, "%-11s %-5s %7.4f %7.4f %7.4f %7.4f %7.4f %7.4f %8.4f %8.4f %8.2f %8.2f %8.2f %7.2f\n", m->patient,
                m->phase == SU_METRICS_PHASE_ED ? "ED" : "ES", c[1].dice, c[2].dice, c[3].dice, c[1].iou, c[2].iou,
                c[3].iou, m->s.iou_mean3, m->s.iou_mean4, c[1].hd95_mm, c[2].hd95_mm, c[3].hd95_mm, r->seconds[i]);
    }
}

static void stat_cell(FILE *f, su_stat s, int hd) {
    if (hd)
        fprintf(f, " %6.2f±%-5.2f", s.mean, s.std);
    else
        fprintf(f, " %6.4f±%-6.4f", s.mean, s.std);
}

void report_summary(FILE *f, const su_eval_result *r) {
    static const char *const phases[] = {"all", "ED", "ES"};
    const int codes[] = {SU_METRICS_PHASE_NONE, SU_METRICS_PHASE_ED, SU_METRICS_PHASE_ES};
    fprintf(f, "%-5s %4s %-14s %-14s %-14s %-14s %-14s %-14s %-12s %-12s %-12s\n", "phase", "n", "Dice RV", "Dice MYO",
            "Dice LV", "IoU RV", "IoU MYO", "IoU LV", "HD95 RV mm", "HD95 MYO mm", "HD95 LV mm");
    for (int p = 0; p < 3; p++) {
        su_metrics_summary s;
        su_metrics_summarize(&s, r->set.rec, r->set.n, codes[p]);
        if (!s.n) continue;
        fprintf(f, "%-5s %4d", phases[p], s.n);
        for (int c = 1; c < 4; c++) stat_cell(f, s.dice[c], 0);
        for (int c = 1; c < 4; c++) stat_cell(f, s.iou[c], 0);
        for (int c = 1; c < 4; c++) stat_cell(f, s.hd95[c], 1);
        fprintf(f, "\n");
    }
    su_metrics_summary all;
    su_metrics_summarize(&all, r->set.rec, r->set.n, SU_METRICS_PHASE_NONE);
    fprintf(f, "mean IoU over RV, MYO, LV (3 structures): %.4f ± %.4f\n", all.iou_mean3.mean, all.iou_mean3.std);
    fprintf(f, "pooled IoU over all volumes' voxels, RV / MYO / LV: %.4f / %.4f / %.4f, mean %.4f (the kind of figure "
               "the training log shows)\n", all.iou_pooled[SU_RV], all.iou_pooled[SU_MYO], all.iou_pooled[SU_LV],
            all.iou_pooled_mean3);
    fprintf(f, "mean IoU over all 4 classes (with background): %.4f ± %.4f\n", all.iou_mean4.mean, all.iou_mean4.std);
    fprintf(f, "mean Dice over RV, MYO, LV: %.4f;  mean HD95 over RV, MYO, LV: %.2f mm\n", all.dice_mean3.mean,
            all.hd95_mean3.mean);
    fprintf(f, "(a structure absent from both prediction and truth scores Dice/IoU 1, HD95 0; absent from one only: "
               "Dice/IoU 0 and HD95 = the volume diagonal; all counted)\n");
    su_ef_result *ef = NULL;
    size_t nef = 0;
    su_error err;
    if (su_metrics_ejection(&ef, &nef, r->set.rec, r->set.n, &err) == 0 && nef > 0) {
        su_ef_summary es;
        su_metrics_ef_summarize(&es, ef, nef);
        char t[6][32];
        const double v[6] = {es.lv_ef_gt.mean, es.lv_ef_pred.mean, es.lv_ef_absdiff.mean,
                             es.rv_ef_gt.mean, es.rv_ef_pred.mean, es.rv_ef_absdiff.mean};
        for (int i = 0; i < 6; i++) /* NaN: no patient had a usable ED volume (e.g. LV never predicted) */
            if (!isfinite(v[i])) snprintf(t[i], sizeof t[i], "n/a");
            else snprintf(t[i], sizeof t[i], "%.1f%s", v[i], i % 3 == 2 ? " points" : "%");
        fprintf(f, "ejection fraction over %zu patient%s: LV truth %s predicted %s (mean |error| %s); "
                   "RV truth %s predicted %s (mean |error| %s)\n",
                nef, nef == 1 ? "" : "s", t[0], t[1], t[2], t[3], t[4], t[5]);
    }
    free(ef);
}

void report_energy(FILE *f, const su_eval_result *r, const su_model_config *cfg) {
    const double per = r->n ? 1.0 / r->n : 0;
    fprintf(f, "per volume: %.3f s inference (%d volumes)", r->infer_seconds * per, r->n);
    if (r->measured.energy_available)
        fprintf(f, ", measured %.2f J (package%s)", r->measured.joules[SU_ENERGY_PACKAGE] * per,
                r->measured.has[SU_ENERGY_DRAM] ? " + dram reported separately" : "");
    else
        fprintf(f, ", measured energy not available (%s)", r->measured.reason);
    fprintf(f, "\n");
    /* the counts that are charged: MACs of layers fed by real values, SOPs of layers fed by spikes, LIF updates */
    fprintf(f, "operation-count estimate per volume (%s): %.2f GMAC + %.2f GSOP + %.1f M neuron updates",
            cfg->kind == SU_MODEL_SPIKING ? "spiking, at these firing rates" : "dense", r->estimate.charged_macs / 1e9,
            r->estimate.charged_acs / 1e9, r->estimate.neuron_updates / 1e6);
    fprintf(f, " -> %.1f mJ (%s table: MAC %.2f pJ, AC %.2f pJ; %s)\n", r->estimate.total_mj, r->estimate.table.name,
            r->estimate.table.e_mac_pj, r->estimate.table.e_ac_pj, SU_ENERGY_NOTE);
    if (r->n_lif) {
        fprintf(f, "firing rates (mean %.4f):", r->mean_rate);
        for (int i = 0; i < r->n_lif; i++) fprintf(f, " %.3f", r->rates[i]);
        fprintf(f, "\n");
    }
}
