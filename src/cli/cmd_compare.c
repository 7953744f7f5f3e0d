/* spikeunet compare (and demo): train both networks on the same split with the same seed, evaluate both
 * on the validation patients, and write the study's table (text and OUT/results.md) with overlay pictures
 * and learning curves. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "presets.h"
#include "progress.h"
#include "report.h"
#include "spikeunet/acdc.h"
#include "spikeunet/checkpoint.h"
#include "spikeunet/evaluate.h"
#include "spikeunet/model_io.h"
#include "spikeunet/nifti.h"
#include "spikeunet/picture.h"
#include "spikeunet/train.h"

int cli_train_options(su_train_options *o, const char *cmd, const char *loss, const char *split_by,
                      const char *grid, const char *class_weights);

/* What one model brought home. */
typedef struct outcome {
    const char *name, *title;
    su_model_config cfg;
    su_eval_result eval;
    su_train_result train;
    double train_seconds_per_epoch;
    int epochs;
    char run[4200], best[4300];
} outcome;

static int dir_has_files(const char *path) {
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *e;
    int any = 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) any = 1;
    closedir(d);
    return any;
}

/* Mean seconds per epoch of training, from the run's log.csv (column train_seconds). */
static double seconds_per_epoch(const char *run, int *epochs) {
    char path[4300], line[8192];
    snprintf(path, sizeof path, "%s/log.csv", run);
    FILE *f = fopen(path, "r");
    double sum = 0;
    int n = 0;
    if (!f) return 0;
    if (fgets(line, sizeof line, f))
        while (fgets(line, sizeof line, f)) {
            char *p = line;
            for (int c = 0; c < 13 && p; c++) { /* train_seconds is the 14th column */
                p = strchr(p, ',');
                if (p) p++;
            }
            if (p) sum += atof(p), n++;
        }
    fclose(f);
    *epochs = n;
    return n ? sum / n : 0;
}

static int train_one(outcome *o, su_train_options *opt, int resume, int quiet, volatile sig_atomic_t *stop,
                     su_error *err) {
    cli_progress prog;
    cli_progress_init(&prog, o->name, quiet);
    char last[4300];
    snprintf(last, sizeof last, "%s/last.safetensors", o->run);
    if (resume && access(last, F_OK) == 0) {
        su_resume_options ov = {opt->epochs, opt->data_dir, 0, 0};
        if (su_train_resume(o->run, &ov, cli_progress_fn, &prog, stop, &o->train, err)) return -1;
    } else {
        opt->run_dir = o->run;
        if (su_train(opt, 1, cli_progress_fn, &prog, stop, &o->train, err)) return -1;
    }
    o->train_seconds_per_epoch = seconds_per_epoch(o->run, &o->epochs);
    return 0;
}

/* Evaluates best.safetensors on the run's validation patients, on their own voxel grids. */
static int evaluate_one(outcome *o, const su_energy_table *table, su_error *err) {
    su_predictor pred;
    su_dataset ds = {0};
    su_split split = {0};
    su_checkpoint ck;
    char *sj = NULL;
    int rc = -1;
    if (su_checkpoint_read(&ck, o->best, err)) return -1;
    char data_dir[4096] = "";
    su_train_saved_split(&sj, data_dir, sizeof data_dir, &ck, err); /* the data folder and split the run used */
    su_checkpoint_free(&ck);
    if (!sj) return -1;
    if (su_predictor_open(&pred, o->best, err)) {
        free(sj);
        return -1;
    }
    o->cfg = *su_model_get_config(pred.m);
    if (su_acdc_scan(&ds, data_dir, err) || su_split_parse(&split, &ds, sj, err)) goto done;
    if (su_evaluate(&o->eval, &pred, &ds, split.val, split.n_val, table, report_eval_progress, (void *)o->name, err))
        goto done;
    rc = 0;
done:
    free(sj);
    su_split_free(&split);
    su_acdc_free(&ds);
    su_predictor_close(&pred);
    return rc;
}

/* Overlay pictures of the first two validation volumes, for each model. */
static int figures(outcome *o, int n_models, const char *out, char names[2][64], su_error *err) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/figures", out);
    mkdir(dir, 0755);
    su_dataset ds = {0};
    int rc = -1;
    for (int k = 0; k < n_models; k++) {
        su_predictor pred;
        if (su_predictor_open(&pred, o[k].best, err)) return -1;
        for (int s = 0; s < 2 && s < (int)o[k].eval.set.n; s++) {
            const su_metrics_record *rec = &o[k].eval.set.rec[s];
            if (!ds.patients) {
                /* find the patient folder from the first run's data folder */
                char *sj = NULL, data_dir[4096] = "";
                su_checkpoint ck;
                if (su_checkpoint_read(&ck, o[k].best, err)) goto fail;
                int src = su_train_saved_split(&sj, data_dir, sizeof data_dir, &ck, err);
                su_checkpoint_free(&ck);
                free(sj);
                if (src) goto fail;
                if (su_acdc_scan(&ds, data_dir, err)) goto fail;
            }
            int pi = su_acdc_find(&ds, rec->patient), phase = rec->phase == SU_METRICS_PHASE_ES;
            if (pi < 0) continue;
            su_volume img;
            uint8_t *gt = NULL, *lab = NULL;
            if (su_acdc_load(&img, &gt, &ds.patients[pi], phase, err)) goto fail;
            lab = malloc(su_volume_voxels(&img));
            snprintf(names[s], 64, "%.56s_%s", rec->patient, phase ? "ES" : "ED");
            char path[4400];
            snprintf(path, sizeof path, "%s/%s_%s.png", dir, names[s], o[k].name);
            su_overlay_opts oo;
            su_overlay_opts_default(&oo);
            int bad = !lab || su_predict_volume(&pred, &img, lab, err) ||
                      su_overlay_write_png(path, img.data, lab, gt, img.nx, img.ny, img.nz, &oo, err);
            su_volume_free(&img);
            free(gt);
            free(lab);
            if (bad) goto fail;
        }
        su_predictor_close(&pred);
        continue;
    fail:
        su_predictor_close(&pred);
        goto done;
    }
    rc = 0;
done:
    su_acdc_free(&ds);
    return rc;
}

static double sample_iou(const outcome *o, int s) {
    return s < (int)o->eval.set.n ? o->eval.set.rec[s].s.iou_mean3 : NAN;
}

static void print_table(FILE *f, outcome *o, int n, int md, char names[2][64]) {
    if (md)
        fprintf(f, "| model | mean IoU (RV, MYO, LV) | mean IoU (4 classes) | IoU %s | IoU %s | Dice (RV, MYO, LV) | "
                   "HD95 mm | est. energy mJ/volume | measured J/volume | inference s/volume | train s/epoch |\n"
                   "|---|---|---|---|---|---|---|---|---|---|---|\n",
                names[0], names[1]);
    else
        fprintf(f, "%-18s %9s %9s %9s %9s %9s %8s %11s %11s %9s %9s\n", "model", "IoU(3)", "IoU(4)", "IoU s1", "IoU s2",
                "Dice(3)", "HD95", "est. mJ/vol", "meas. J/vol", "infer s", "s/epoch");
    for (int k = 0; k < n; k++) {
        su_metrics_summary s;
        su_metrics_summarize(&s, o[k].eval.set.rec, o[k].eval.set.n, SU_METRICS_PHASE_NONE);
        char meas[32];
        if (o[k].eval.measured.energy_available && o[k].eval.n)
            snprintf(meas, sizeof meas, "%.2f", o[k].eval.measured.joules[SU_ENERGY_PACKAGE] / o[k].eval.n);
        else
            snprintf(meas, sizeof meas, "n/a");
        double per = o[k].eval.n ? o[k].eval.infer_seconds / o[k].eval.n : 0;
        if (md)
            fprintf(f, "| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.2f | %.1f | %s | %.2f | %.1f |\n", o[k].title,
                    s.iou_mean3.mean, s.iou_mean4.mean, sample_iou(&o[k], 0), sample_iou(&o[k], 1), s.dice_mean3.mean,
                    s.hd95_mean3.mean, o[k].eval.estimate.total_mj, meas, per, o[k].train_seconds_per_epoch);
        else
            fprintf(f, "%-18s %9.4f %9.4f %9.4f %9.4f %9.4f %8.2f %11.1f %11s %9.2f %9.1f\n", o[k].title, s.iou_mean3.mean,
                    s.iou_mean4.mean, sample_iou(&o[k], 0), sample_iou(&o[k], 1), s.dice_mean3.mean, s.hd95_mean3.mean,
                    o[k].eval.estimate.total_mj, meas, per, o[k].train_seconds_per_epoch);
    }
}

/* What a run's weights started from, read back from its checkpoint (so a resumed compare reports it too). */
static void started_from(char *text, size_t size, const char *checkpoint) {
    su_checkpoint ck;
    su_train_state_info st;
    su_error ignored;
    snprintf(text, size, "not recorded");
    if (su_checkpoint_read(&ck, checkpoint, &ignored)) return;
    if (su_train_state(&st, &ck, &ignored) == 0) {
        if (st.init_from[0])
            snprintf(text, size, "the trained `%s` (--spiking-init unet)", st.init_from);
        else
            snprintf(text, size, "random (seeded)");
    }
    su_checkpoint_free(&ck);
}

static int write_results(const char *out, outcome *o, int n, char names[2][64], const char *data, int demo,
                         su_error *err) {
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/results.md", out);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return su_fail(err, "%s: %s", tmp, strerror(errno));
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime(&now));
    fprintf(f, "# 3D U-Net vs Spiking 3D U-Net%s\n\n", demo ? " (demo on the bundled sample)" : "");
    fprintf(f, "Data: `%s`; both models trained on the same split (by patient) with the same seed, evaluated on the "
               "validation patients (%d volumes) on each image's own voxel grid. Written by `spikeunet %s` on %s.\n\n",
            data, o[0].eval.n, demo ? "demo" : "compare", when);
    print_table(f, o, n, 1, names);
    fprintf(f, "\nThe published study (PyTorch + snntorch on a GPU, ACDC test set, 100 epochs): 3D U-Net mean IoU 0.7989, "
               "Spiking 3D U-Net 0.5881; GPU power read from nvidia-smi about 250 W vs 200 W (power, not energy).\n\n");
    fprintf(f, "- IoU (3): mean over RV, MYO, LV; IoU (4): over all four classes including background (the study does "
               "not say which it reports). IoU s1/s2: the samples %s and %s.\n", names[0], names[1]);
    fprintf(f, "- Estimated energy: operation counts x 45 nm pJ table (%s: MAC %.2f pJ, AC %.2f pJ); spike-fed layers "
               "cost accumulates at their measured input firing rate; %s.\n",
            o[0].eval.estimate.table.name, o[0].eval.estimate.table.e_mac_pj, o[0].eval.estimate.table.e_ac_pj,
            SU_ENERGY_NOTE);
    fprintf(f, "- Measured energy: RAPL package counter around inference%s.\n",
            o[0].eval.measured.energy_available ? "" : " -- not available on this machine (reason below), so time only");
    if (!o[0].eval.measured.energy_available) fprintf(f, "  (%s)\n", o[0].eval.measured.reason);
    for (int k = 0; k < n; k++) {
        fprintf(f, "\n## %s\n\n", o[k].title);
        char *cfg = su_model_config_to_json(&o[k].cfg);
        fprintf(f, "Configuration: `%s`  \nTraining: %d epochs, best validation IoU (network grid) %.4f at epoch %d; "
                   "run folder `%s`.\n", cfg, o[k].epochs, o[k].train.best_iou, o[k].train.best_epoch, o[k].run);
        free(cfg);
        char start[1200];
        started_from(start, sizeof start, o[k].best);
        fprintf(f, "Starting weights: %s.\n", start);
        if (o[k].eval.n_lif) {
            fprintf(f, "\nFiring rates per LIF layer (mean %.4f): ", o[k].eval.mean_rate);
            for (int i = 0; i < o[k].eval.n_lif; i++) fprintf(f, "%s%.3f", i ? ", " : "", o[k].eval.rates[i]);
            fprintf(f, "\n");
        }
        fprintf(f, "\n```\n");
        report_summary(f, &o[k].eval);
        report_energy(f, &o[k].eval, &o[k].cfg);
        fprintf(f, "```\n");
        for (int s = 0; s < 2; s++)
            if (names[s][0]) fprintf(f, "\n![%s, %s](figures/%s_%s.png)\n", names[s], o[k].name, names[s], o[k].name);
    }
    fprintf(f, "\nOverlay pictures: prediction contours (top row) and ground truth (bottom row); RV red, MYO green, LV "
               "blue. Learning curves: [curves.svg](curves.svg).\n");
    int bad = fclose(f) != 0;
    if (bad || rename(tmp, path)) {
        unlink(tmp);
        return su_fail(err, "%s: write failed", path);
    }
    return 0;
}

/* DIR/unet/best.safetensors, which --spiking-init unet starts the spiking network from; -1 (printed) if absent. */
static int unet_checkpoint(char *path, size_t size, const char *out, const char *cmd) {
    snprintf(path, size, "%s/unet/best.safetensors", out);
    if (access(path, R_OK) == 0) return 0;
    cli_error(cmd, "--spiking-init unet: %s: %s (train the 3D U-Net first: --models unet,spiking)", path,
              strerror(errno));
    return -1;
}

static int run_compare(int argc, char **argv, int demo) {
    const char *name = demo ? "demo" : "compare";
    cli_model_args ma;
    cli_model_args_default(&ma);
    su_train_options o;
    su_train_options_default(&o, SU_MODEL_UNET);
    const char *data = demo ? "data/acdc-sample" : NULL, *out = demo ? "runs/demo" : NULL, *loss = "ce+dice",
               *split_by = "patient", *grid = "16x128x128", *table_spec = "fp32", *models = "unet,spiking",
               *preset = NULL, *spiking_init = "none";
    int seed = 42, threads = 0, force = demo, resume = 0, quiet = 0, spiking_epochs = 0;
    float val_fraction = 0.2f;
    if (demo) { /* sized to finish in a few minutes on 2 cores and still learn (README) */
        ma.base = 8;
        o.epochs = 30;
        spiking_epochs = 35;
        o.lr = 2e-3f;
        grid = "16x96x96";
        o.grid.spacing = 2.8f;
        val_fraction = 0.34f;
    }
    cli_opt opts[] = {
        {"--data", OPT_STRING, &data, "DIR", "ACDC folder with ground truth"},
        {"--out", OPT_STRING, &out, "DIR", "output: DIR/unet, DIR/spiking (runs), DIR/results.md, figures"},
        CLI_PRESET_OPT(preset),
        CLI_ARCH_OPTS(ma),
        {"--models", OPT_STRING, &models, "LIST", "which to train: unet,spiking (or one of them)"},
        {"--epochs", OPT_INT, &o.epochs, "N", "epochs (both models unless --spiking-epochs)"},
        {"--spiking-epochs", OPT_INT, &spiking_epochs, "N", "epochs of the spiking model (0: same as --epochs)"},
        {"--spiking-init", OPT_STRING, &spiking_init, "none|unet",
         "start the spiking network from random weights, or from this comparison's trained 3D U-Net (DIR/unet)"},
        {"--lr", OPT_FLOAT, &o.lr, "LR", "Adam learning rate"},
        {"--batch", OPT_INT, &o.batch, "B", "volumes per step"},
        {"--loss", OPT_STRING, &loss, "ce|dice|ce+dice", "loss"},
        {"--seed", OPT_INT, &seed, "N", "seed (the same for both models)"},
        {"--val-fraction", OPT_FLOAT, &val_fraction, "F", "share of patients held out"},
        {"--split-by", OPT_STRING, &split_by, "patient|volume", "split (volume LEAKS ED/ES pairs across the split)"},
        {"--augment", OPT_FLAG, &o.augment, NULL, "data augmentation, as train --augment (no mirror flips)"},
        {"--grid", OPT_STRING, &grid, "DxHxW", "network input window"},
        {"--spacing", OPT_FLOAT, &o.grid.spacing, "MM", "in-plane grid spacing"},
        {"--max-train", OPT_INT, &o.max_train, "N", "use at most N training volumes (0: all)"},
        {"--energy-table", OPT_STRING, &table_spec, "fp32|fp16|int8|MAC,AC", "pJ per operation for the estimate"},
        CLI_THREADS_OPT(threads),
        {"--resume", OPT_FLAG, &resume, NULL, "continue the runs in DIR where they stopped, then evaluate"},
        {"--force", OPT_FLAG, &force, NULL, "start over in a folder that holds results"},
        {"--quiet", OPT_FLAG, &quiet, NULL, "no progress output"},
        {NULL, 0, NULL, NULL, NULL}};
    cli_command cmd = {name,
                       demo ? "Train and compare both networks on the bundled ACDC sample (what `make demo` runs): a "
                              "small configuration that finishes in minutes on 2 cores."
                            : "Train both networks on the same split with the same seed, evaluate both, and print the "
                              "study's table (also DIR/results.md with overlay pictures and learning curves).",
                       demo ? "spikeunet demo [--out DIR] [options of compare]"
                            : "spikeunet compare --data DIR --out DIR [options]",
                       NULL, cli_print_presets};
    char **av;
    int ac, rc = cli_expand_preset(name, argc, argv, &ac, &av);
    if (rc) return rc;
    if (av != argv) spiking_epochs = 0; /* a preset's --epochs is for both networks unless --spiking-epochs is given */
    rc = cli_parse(&cmd, opts, ac, av, NULL, 0, NULL);
    if (av != argv) free(av);
    if (rc) return rc < 0 ? CLI_OK : rc;
    (void)preset; /* expanded above */
    if (cli_require(name, "--data", data) || cli_require(name, "--out", out)) return CLI_USAGE;
    if ((rc = cli_set_threads(threads, name))) return rc;
    su_error err;
    su_energy_table table;
    if (su_energy_table_parse(&table, table_spec, &err)) {
        cli_error(name, "--energy-table: %s", err.msg);
        return CLI_USAGE;
    }
    int want_unet = 0, want_spk = 0;
    for (const char *p = models; *p;) { /* "unet", "spiking", or both separated by a comma */
        size_t len = strcspn(p, ",");
        if (len == 4 && !strncmp(p, "unet", 4)) want_unet = 1;
        else if (len == 7 && !strncmp(p, "spiking", 7)) want_spk = 1;
        else {
            cli_error(name, "--models: expected unet, spiking or unet,spiking, got '%s'", models);
            return CLI_USAGE;
        }
        p += len + (p[len] == ',');
    }
    if (!want_unet && !want_spk) {
        cli_error(name, "--models: expected unet, spiking or unet,spiking, got '%s'", models);
        return CLI_USAGE;
    }
    o.val_fraction = val_fraction;
    if ((rc = cli_train_options(&o, name, loss, split_by, grid, NULL))) return rc;
    if (strcmp(spiking_init, "none") && strcmp(spiking_init, "unet")) {
        cli_error(name, "--spiking-init: expected none or unet, got '%s'", spiking_init);
        return CLI_USAGE;
    }
    if (spiking_epochs < 0) {
        cli_error(name, "--spiking-epochs must be >= 0 (0: same as --epochs)");
        return CLI_USAGE;
    }
    o.data_dir = data;
    o.seed = (uint64_t)seed;
    struct stat st;
    if (stat(out, &st) == 0 && dir_has_files(out) && !force && !resume) {
        cli_error(name, "%s: folder holds results (use --resume to continue its runs, or --force to start over)", out);
        return CLI_USAGE;
    }
    char unet_best[4300];
    if (!want_unet && !strcmp(spiking_init, "unet") && unet_checkpoint(unet_best, sizeof unet_best, out, name))
        return CLI_FAIL; /* without training one here, DIR/unet must hold a trained 3D U-Net already */
    su_dataset check; /* a missing or unreadable data folder is refused before DIR is made */
    if (su_acdc_scan(&check, data, &err)) {
        cli_error(name, "%s", err.msg);
        return CLI_FAIL;
    }
    su_acdc_free(&check);
    if (stat(out, &st) != 0 && mkdir(out, 0755)) {
        cli_error(name, "%s: cannot create: %s", out, strerror(errno));
        return CLI_FAIL;
    }
    outcome res[2];
    memset(res, 0, sizeof res);
    int n = 0;
    volatile sig_atomic_t *stop = cli_stop_flag();
    for (int k = 0; k < 2; k++) {
        int spk = k == 1;
        if ((spk && !want_spk) || (!spk && !want_unet)) continue;
        outcome *oc = &res[n++];
        oc->name = spk ? "spiking" : "unet";
        oc->title = spk ? "Spiking 3D U-Net" : "3D U-Net";
        snprintf(oc->run, sizeof oc->run, "%s/%s", out, oc->name);
        snprintf(oc->best, sizeof oc->best, "%s/%s/best.safetensors", out, oc->name);
        su_train_options opt = o;
        ma.model = oc->name;
        if ((rc = cli_model_config(&opt.model, &ma, name))) return rc;
        if (spk && spiking_epochs > 0) opt.epochs = spiking_epochs;
        if (spk && !strcmp(spiking_init, "unet")) {
            if (unet_checkpoint(unet_best, sizeof unet_best, out, name)) return CLI_FAIL;
            opt.init_from = unet_best;
        }
        if (!quiet) fprintf(stderr, "== %s: %d epochs\n", oc->title, opt.epochs);
        if (train_one(oc, &opt, resume, quiet, stop, &err)) goto fail;
        if (oc->train.stopped) {
            fprintf(stderr, "stopped; continue with: spikeunet %s --out %s --resume%s\n", name, out,
                    demo ? "" : " --data ...");
            return cli_exit_status(stop);
        }
        if (evaluate_one(oc, &table, &err)) goto fail;
    }
    char names[2][64] = {"", ""};
    char curves[4200];
    snprintf(curves, sizeof curves, "%s/curves.svg", out);
    char *pargv[6] = {"plot", res[0].run, n > 1 ? res[1].run : "--out", n > 1 ? "--out" : curves, n > 1 ? curves : NULL,
                      NULL};
    if (figures(res, n, out, names, &err)) goto fail;
    if (cmd_plot(n > 1 ? 5 : 4, pargv) != CLI_OK) fprintf(stderr, "(learning curves not drawn)\n");
    if (write_results(out, res, n, names, data, demo, &err)) goto fail;
    printf("\n");
    print_table(stdout, res, n, 0, names);
    printf("\nsamples: s1 = %s, s2 = %s; the study (GPU, test set): 3D U-Net IoU 0.7989, spiking 0.5881\n", names[0],
           names[1]);
    printf("full report: %s/results.md\n", out);
    for (int k = 0; k < n; k++) su_eval_result_free(&res[k].eval);
    return CLI_OK;
fail:
    cli_error(name, "%s", err.msg);
    for (int k = 0; k < n; k++) su_eval_result_free(&res[k].eval);
    return CLI_FAIL;
}

int cmd_compare(int argc, char **argv) { return run_compare(argc, argv, 0); }
int cmd_demo(int argc, char **argv) { return run_compare(argc, argv, 1); }
