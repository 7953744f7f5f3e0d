/* spikeunet train: train a 3D U-Net or a Spiking 3D U-Net on ACDC (or resume a run). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "presets.h"
#include "progress.h"
#include "spikeunet/train.h"

int cli_train_options(su_train_options *o, const char *cmd, const char *loss, const char *split_by,
                      const char *grid, const char *class_weights);

int cli_train_options(su_train_options *o, const char *cmd, const char *loss, const char *split_by,
                      const char *grid, const char *class_weights) {
    if (!strcmp(loss, "ce")) o->loss = SU_LOSS_CE;
    else if (!strcmp(loss, "dice")) o->loss = SU_LOSS_DICE;
    else if (!strcmp(loss, "ce+dice")) o->loss = SU_LOSS_CE_DICE;
    else {
        cli_error(cmd, "--loss: expected ce, dice or ce+dice, got '%s'", loss);
        return CLI_USAGE;
    }
    if (!strcmp(split_by, "volume")) o->split_by_volume = 1;
    else if (strcmp(split_by, "patient")) {
        cli_error(cmd, "--split-by: expected patient or volume, got '%s'", split_by);
        return CLI_USAGE;
    }
    int dims[3];
    if (cli_parse_dims(dims, 3, grid, "--grid", cmd)) return CLI_USAGE;
    o->grid.D = dims[0], o->grid.H = dims[1], o->grid.W = dims[2];
    if (class_weights) {
        if (sscanf(class_weights, "%f,%f,%f,%f", &o->class_weight[0], &o->class_weight[1], &o->class_weight[2],
                   &o->class_weight[3]) != 4) {
            cli_error(cmd, "--class-weights: expected four numbers w0,w1,w2,w3, got '%s'", class_weights);
            return CLI_USAGE;
        }
        for (int c = 0; c < 4; c++)
            if (!(o->class_weight[c] >= 0 && o->class_weight[c] < 1e6f)) {
                cli_error(cmd, "--class-weights: weights must be >= 0, got '%s'", class_weights);
                return CLI_USAGE;
            }
        o->use_class_weight = 1;
    }
    const char *bad = o->epochs < 1 ? "--epochs must be >= 1"
                      : o->batch < 1 ? "--batch must be >= 1"
                      : o->val_every < 1 ? "--val-every must be >= 1"
                      : !(o->lr > 0 && o->lr < 10) ? "--lr must be > 0 (and < 10)"
                      : !(o->weight_decay >= 0) ? "--weight-decay must be >= 0"
                      : !(o->val_fraction >= 0 && o->val_fraction < 1) ? "--val-fraction must be in [0, 1)"
                      : !(o->grid.spacing > 0 && o->grid.spacing < 100) ? "--spacing must be > 0 (mm)"
                      : o->max_train < 0 ? "--max-train must be >= 0 (0: all)"
                      : o->patience < 0 ? "--patience must be >= 0 (0: never)"
                      : NULL;
    if (bad) {
        cli_error(cmd, "%s", bad);
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cmd_train(int argc, char **argv) {
    cli_model_args ma;
    cli_model_args_default(&ma);
    su_train_options o;
    su_train_options_default(&o, SU_MODEL_UNET);
    const char *data = NULL, *out = NULL, *resume = NULL, *loss = "ce+dice", *split_by = "patient", *grid = "16x128x128",
               *class_weights = NULL, *init = NULL, *preset = NULL;
    int seed = 42, threads = 0, force = 0, quiet = 0;
    float val_fraction = 0.2f;
    cli_opt opts[] = {
        {"--data", OPT_STRING, &data, "DIR", "ACDC folder with ground truth (root, training/, or patients)"},
        {"--out", OPT_STRING, &out, "RUN", "run folder: log.csv, last.safetensors, best.safetensors, split.json"},
        {"--resume", OPT_STRING, &resume, "RUN", "continue a stopped run exactly where it was (only --epochs, --lr, "
                                                 "--data, --threads may change)"},
        CLI_PRESET_OPT(preset),
        CLI_MODEL_OPTS(ma),
        {"--epochs", OPT_INT, &o.epochs, "N", "epochs"},
        {"--lr", OPT_FLOAT, &o.lr, "LR", "Adam learning rate"},
        {"--weight-decay", OPT_FLOAT, &o.weight_decay, "WD", "Adam L2 weight decay"},
        {"--batch", OPT_INT, &o.batch, "B", "volumes per step"},
        {"--loss", OPT_STRING, &loss, "ce|dice|ce+dice", "loss: softmax cross-entropy, soft Dice (RV, MYO, LV), or both"},
        {"--class-weights", OPT_STRING, &class_weights, "W0,W1,W2,W3", "cross-entropy class weights"},
        {"--seed", OPT_INT, &seed, "N", "seed of the initialisation, split, data order and augmentation"},
        {"--val-fraction", OPT_FLOAT, &val_fraction, "F", "share of patients held out for validation"},
        {"--split-by", OPT_STRING, &split_by, "patient|volume",
         "patient (stratified by group), or volume: the study's 160/40 split, which LEAKS a patient's ED/ES pair "
         "across train and validation"},
        {"--val-every", OPT_INT, &o.val_every, "N", "validate every N epochs (and after the last)"},
        {"--augment", OPT_FLAG, &o.augment, NULL, "random rotations, scaling, intensity changes, elastic deformation, a random window of slices (mirror "
         "flips: --augment-flip)"},
        {"--augment-flip", OPT_FLOAT, &o.augment_flip, "P",
         "probability of each in-plane mirror flip under --augment (0 keeps the heart's orientation: ACDC's "
         "RV is always on one side, and flips cost a trained U-Net 0.17 IoU, docs/RESULTS.md)"},
        {"--grid", OPT_STRING, &grid, "DxHxW", "network input window (slices x rows x columns)"},
        {"--spacing", OPT_FLOAT, &o.grid.spacing, "MM", "in-plane grid spacing in mm"},
        {"--max-train", OPT_INT, &o.max_train, "N", "use at most N training volumes (0: all)"},
        {"--init-from", OPT_STRING, &init, "FILE", "start from a checkpoint's weights (e.g. a trained 3D U-Net)"},
        {"--patience", OPT_INT, &o.patience, "N", "stop after N validations without a better IoU (0: never)"},
        CLI_THREADS_OPT(threads),
        {"--force", OPT_FLAG, &force, NULL, "overwrite a run folder that holds a run"},
        {"--quiet", OPT_FLAG, &quiet, NULL, "no progress output"},
        {NULL, 0, NULL, NULL, NULL}};
    cli_command cmd = {"train", "Train a network on ACDC; Ctrl-C (or SIGTERM) finishes the step, saves, and exits.",
                       "spikeunet train --data DIR --model unet|spiking --out RUN [options]\n"
                       "       spikeunet train --resume RUN [--epochs N]",
                       "The split is by patient unless --split-by volume. Validation scores here are on the network "
                       "grid; `spikeunet evaluate` scores on each image's own voxels.",
                       cli_print_presets};
    const int default_epochs = o.epochs;
    const float default_lr = o.lr;
    char **av;
    int ac, rc = cli_expand_preset("train", argc, argv, &ac, &av);
    if (rc) return rc;
    rc = cli_parse(&cmd, opts, ac, av, NULL, 0, NULL);
    if (av != argv) free(av);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (resume) { /* a run keeps its configuration: refuse flags that --resume would otherwise ignore */
        static const char *const allowed[] = {"--resume", "--epochs", "--lr", "--data", "--threads", "--quiet", NULL};
        for (int i = 1; i < argc; i++) {
            if (strncmp(argv[i], "--", 2)) continue;
            size_t len = strcspn(argv[i], "=");
            int ok = 0;
            for (const char *const *a = allowed; *a && !ok; a++) ok = strlen(*a) == len && !strncmp(*a, argv[i], len);
            if (!ok) {
                cli_error("train", "%.*s does not apply to --resume (a run keeps its configuration; only --epochs, "
                                   "--lr, --data and --threads can change)", (int)len, argv[i]);
                return CLI_USAGE;
            }
        }
    }
    if ((rc = cli_set_threads(threads, "train"))) return rc;
    /* fault injection for the reliability tests (docs/RELIABILITY.md): the loss of this step becomes NaN */
    const char *fault = getenv("SU_FAULT_NAN_AT_STEP");
    long fault_nan = fault ? atol(fault) : 0;
    o.fault_nan_step = fault_nan;
    cli_progress prog;
    cli_progress_init(&prog, NULL, quiet);
    su_train_result res;
    su_error err;
    volatile sig_atomic_t *stop = cli_stop_flag();
    if (resume) {
        su_resume_options ov = {o.epochs != default_epochs ? o.epochs : 0, data, o.lr != default_lr ? o.lr : 0,
                                fault_nan};
        if (su_train_resume(resume, &ov, cli_progress_fn, &prog, stop, &res, &err)) {
            cli_error("train", "%s", err.msg);
            return CLI_FAIL;
        }
    } else {
        if (cli_require("train", "--data", data) || cli_require("train", "--out", out)) return CLI_USAGE;
        if ((rc = cli_model_config(&o.model, &ma, "train"))) return rc;
        if (preset && !strcmp(preset, "best") && o.model.kind == SU_MODEL_SPIKING && !init) {
            cli_error("train", "--preset best starts the spiking network from a trained 3D U-Net: give its "
                               "checkpoint with --init-from (e.g. runs/unet/best.safetensors)");
            return CLI_USAGE;
        }
        o.val_fraction = val_fraction;
        if ((rc = cli_train_options(&o, "train", loss, split_by, grid, class_weights))) return rc;
        o.data_dir = data;
        o.run_dir = out;
        o.seed = (uint64_t)seed;
        o.init_from = init;
        if (su_train(&o, force, cli_progress_fn, &prog, stop, &res, &err)) {
            cli_error("train", "%s", err.msg);
            return CLI_FAIL;
        }
    }
    const int exit_code = cli_exit_status(stop);
    if (quiet) return exit_code;
    if (res.stopped)
        fprintf(stderr, "stopped after %d epoch%s; resume with: spikeunet train --resume %s\n", res.epochs_done,
                res.epochs_done == 1 ? "" : "s",
                resume ? resume : out);
    else
        fprintf(stderr, "done: %d epoch%s, best validation IoU %.4f at epoch %d\n", res.epochs_done,
                res.epochs_done == 1 ? "" : "s", res.best_iou,
                res.best_epoch);
    return exit_code;
}
