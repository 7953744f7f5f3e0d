/* spikeunet evaluate: score a checkpoint on ACDC volumes with ground truth. */
#include <errno.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "report.h"
#include "spikeunet/checkpoint.h"
#include "spikeunet/model_io.h"
#include "spikeunet/train.h"

int cmd_evaluate(int argc, char **argv) {
    const char *keep = NULL, *ckpt = NULL, *data = NULL, *csv = NULL, *table_spec = "fp32", *subset = "all";
    int threads = 0, quiet = 0;
    cli_opt opts[] = {
        {"--checkpoint", OPT_STRING, &ckpt, "FILE", "a checkpoint written by spikeunet train (best.safetensors)"},
        {"--data", OPT_STRING, &data, "DIR", "ACDC folder with ground truth"},
        {"--subset", OPT_STRING, &subset, "all|val|train", "which volumes: all with ground truth, or the run's split (those of its patients present in --data)"},
        {"--csv", OPT_STRING, &csv, "FILE", "write per-volume scores (and FILE's .summary.csv, .ef.csv beside it)"},
        {"--energy-table", OPT_STRING, &table_spec, "fp32|fp16|int8|MAC,AC", "pJ per operation for the estimate"},
        CLI_KEEP_LARGEST_OPT(keep),
        CLI_THREADS_OPT(threads),
        {"--quiet", OPT_FLAG, &quiet, NULL, "summary only (no per-volume table)"},
        {NULL, 0, NULL, NULL, NULL}};
    cli_command cmd = {"evaluate", "Score a checkpoint: Dice and IoU for RV, MYO and LV, HD95 in mm, volumes and "
                                   "ejection fractions, split by ED/ES; time, energy.",
                       "spikeunet evaluate --checkpoint FILE --data DIR [--csv OUT]",
                       "Scores are computed on each image's own voxel grid with its real spacing. Both mean IoUs are "
                       "printed: over the three structures and over all four classes (the study does not say which "
                       "it reports).", NULL};
    int rc = cli_parse(&cmd, opts, argc, argv, NULL, 0, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (cli_require("evaluate", "--checkpoint", ckpt) || cli_require("evaluate", "--data", data)) return CLI_USAGE;
    if (strcmp(subset, "all") && strcmp(subset, "val") && strcmp(subset, "train")) {
        cli_error("evaluate", "--subset: expected all, val or train, got '%s'", subset);
        return CLI_USAGE;
    }
    if ((rc = cli_set_threads(threads, "evaluate"))) return rc;
    const int keep_mode = cli_keep_mode(keep, "evaluate");
    if (keep_mode < 0) return CLI_USAGE;
    if (csv) { /* find out now, not after the whole evaluation, that the CSV cannot be written */
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", csv);
        char *slash = strrchr(dir, '/');
        if (slash) *(slash == dir ? slash + 1 : slash) = 0;
        else snprintf(dir, sizeof dir, ".");
        if (access(dir, W_OK | X_OK)) {
            cli_error("evaluate", "--csv %s: cannot write into %s: %s", csv, dir, strerror(errno));
            return CLI_FAIL;
        }
    }
    su_error err;
    su_energy_table table;
    if (su_energy_table_parse(&table, table_spec, &err)) {
        cli_error("evaluate", "--energy-table: %s", err.msg);
        return CLI_USAGE;
    }
    su_predictor pred;
    su_dataset ds = {0};
    su_split split = {0};
    su_eval_result res;
    memset(&res, 0, sizeof res);
    rc = CLI_FAIL;
    if (su_predictor_open(&pred, ckpt, &err)) {
        cli_error("evaluate", "%s", err.msg);
        return CLI_FAIL;
    }
    pred.keep_largest = keep_mode;
    if (su_acdc_scan(&ds, data, &err)) goto fail;
    const int *vols = NULL;
    int nv = -1;
    if (strcmp(subset, "all")) { /* the run's own split, from the checkpoint's metadata */
        su_checkpoint ck;
        if (su_checkpoint_read(&ck, ckpt, &err)) goto fail;
        char *sj = NULL;
        int prc = su_train_saved_split(&sj, NULL, 0, &ck, &err);
        su_checkpoint_free(&ck);
        if (prc) goto fail;
        int miss_train = 0, miss_val = 0;
        prc = su_split_parse_present(&split, &miss_train, &miss_val, &ds, sj, &err);
        free(sj);
        if (prc) goto fail;
        const int want_val = !strcmp(subset, "val");
        vols = want_val ? split.val : split.train;
        nv = want_val ? split.n_val : split.n_train;
        const int missing = want_val ? miss_val : miss_train;
        if (missing && nv) /* score the run's patients that are here; say which part that is */
            fprintf(stderr, "evaluate: %d of the run's %d %s volumes are not in %s; scoring the %d present\n",
                    missing, missing + nv, want_val ? "validation" : "training", data, nv);
        if (missing && !nv) {
            su_fail(&err, "%s holds none of the run's %d %s volumes (--subset %s)", data, missing,
                    want_val ? "validation" : "training", subset);
            goto fail;
        }
    }
    if (su_evaluate(&res, &pred, &ds, vols, nv, &table, report_eval_progress, NULL, &err)) goto fail;
    const su_model_config *cfg = su_model_get_config(pred.m);
    printf("%s  %s  (%s, %d volumes)\n\n", ckpt, cfg->kind == SU_MODEL_SPIKING ? "Spiking 3D U-Net" : "3D U-Net", data,
           res.n);
    if (!quiet) {
        report_volumes(stdout, &res);
        printf("\n");
    }
    report_summary(stdout, &res);
    report_energy(stdout, &res, cfg);
    if (csv) {
        char path[4200];
        su_ef_result *ef = NULL;
        size_t nef = 0;
        snprintf(path, sizeof path, "%s.summary.csv", csv);
        if (su_metrics_csv_write(csv, res.set.rec, res.set.n, &err) ||
            su_metrics_summary_csv_write(path, res.set.rec, res.set.n, &err))
            goto fail;
        snprintf(path, sizeof path, "%s.ef.csv", csv);
        if (su_metrics_ejection(&ef, &nef, res.set.rec, res.set.n, &err) || su_metrics_ef_csv_write(path, ef, nef, &err)) {
            free(ef);
            goto fail;
        }
        free(ef);
    }
    rc = CLI_OK;
    goto done;
fail:
    cli_error("evaluate", "%s", err.msg);
done:
    su_eval_result_free(&res);
    su_split_free(&split);
    su_acdc_free(&ds);
    su_predictor_close(&pred);
    return rc;
}
