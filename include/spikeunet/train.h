/* The training job: a model on an ACDC folder, split by patient, Adam, a validation pass every N epochs,
 * RUN/log.csv, RUN/last.safetensors (every epoch, and when stopped) and RUN/best.safetensors (best
 * validation mean IoU over RV, MYO, LV), all written atomically. A run resumes exactly where it stopped:
 * the checkpoint holds the weights, Adam's state, batch-norm statistics, the split, every option and the
 * position in the epoch; the data order and augmentation are derived from (seed, epoch, sample), so no
 * random state needs saving.
 *
 * The library prints nothing: progress goes to a callback; the CLI draws the progress bar. */
#ifndef SPIKEUNET_TRAIN_H
#define SPIKEUNET_TRAIN_H

#include <signal.h>
#include <stdint.h>

#include "spikeunet/checkpoint.h"
#include "spikeunet/dataset.h"
#include "spikeunet/layers.h"
#include "spikeunet/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct su_train_options {
    const char *data_dir;      /* ACDC folder with ground truth */
    const char *run_dir;       /* output folder RUN */
    su_model_config model;
    su_grid_config grid;
    int epochs;                /* total epochs (a resumed run may raise it) */
    int batch;                 /* volumes per step */
    float lr, weight_decay;
    su_loss_kind loss;
    int use_class_weight;
    float class_weight[4];
    uint64_t seed;             /* initialisation, split, data order, augmentation */
    double val_fraction;
    int split_by_volume;       /* the study's leaky split (a patient's ED and ES can land on both sides) */
    int val_every;             /* validation pass every N epochs (and after the last) */
    int augment;               /* random flips, rotations, scaling, intensity, elastic (augment.h) */
    float augment_flip;        /* probability of each in-plane mirror flip under augment (0: keep orientation) */
    int max_train;             /* use at most this many training volumes (0: all); for quick runs */
    const char *init_from;     /* checkpoint whose weights start the model (e.g. a trained 3D U-Net) */
    int patience;              /* stop after this many validations without improvement (0: never) */
    long fault_nan_step;       /* testing only: the loss of this global step (1-based) is made NaN (0: off) */
} su_train_options;

void su_train_options_default(su_train_options *o, su_model_kind kind);

typedef enum { SU_PROGRESS_LOAD, SU_PROGRESS_STEP, SU_PROGRESS_VAL, SU_PROGRESS_EPOCH } su_progress_kind;

/* One epoch's results (a row of log.csv). */
typedef struct su_epoch_record {
    int epoch;                  /* 1-based */
    double train_loss, val_loss;
    double val_dice[4], val_iou[4], val_dice_mean, val_iou_mean, val_iou_mean4; /* on the network grid */
    int validated;              /* 0 when this epoch had no validation pass */
    double seconds, train_seconds, val_seconds;
    double joules;              /* measured package energy of the epoch, or -1 when not available */
    int n_lif;
    double firing_rate[SU_MAX_LIF]; /* mean over the validation pass (spiking) */
    double mean_firing_rate;
    int best;                   /* this epoch produced best.safetensors */
} su_epoch_record;

typedef struct su_train_progress {
    su_progress_kind kind;
    int epoch, epochs;          /* 1-based epoch */
    int step, steps;            /* within the phase */
    double loss;                /* running mean of the epoch's training loss */
    double volumes_per_s, eta_s;
    const su_epoch_record *record; /* SU_PROGRESS_EPOCH */
    const char *message;        /* SU_PROGRESS_LOAD: what is happening */
} su_train_progress;

typedef void (*su_progress_fn)(void *ctx, const su_train_progress *p);

typedef struct su_train_result {
    int epochs_done;
    int stopped;                /* stopped by the flag (the run can be resumed) */
    double best_iou;
    int best_epoch;
    char split_json[64];        /* unused */
} su_train_result;

/* A new run: creates run_dir (which must not exist or be empty unless force), writes split.json,
 * trains. stop: polled after every step; when it becomes non-zero the job saves last.safetensors and
 * returns with result->stopped = 1. */
int su_train(const su_train_options *o, int force, su_progress_fn progress, void *ctx,
             volatile sig_atomic_t *stop, su_train_result *result, su_error *err);

/* What a resumed run may change; zero / NULL keeps the recorded value. */
typedef struct su_resume_options {
    int epochs;           /* a new total */
    const char *data_dir; /* the data folder moved */
    float lr;             /* a new learning rate from here on (Adam's moments are kept) */
    long fault_nan_step;  /* testing only, as in su_train_options */
} su_resume_options;

/* Continues the run in run_dir from its last.safetensors (ov may be NULL). */
int su_train_resume(const char *run_dir, const su_resume_options *ov, su_progress_fn progress, void *ctx,
                    volatile sig_atomic_t *stop, su_train_result *result, su_error *err);

/* The run's options as saved in a checkpoint's metadata (key "spikeunet.train"). */
#define SU_TRAIN_KEY "spikeunet.train"

/* The data folder and the split (JSON, malloc'd; for su_split_parse) saved in a training checkpoint's
 * metadata. data_dir may be NULL. */
int su_train_saved_split(char **json, char *data_dir, size_t size, const su_checkpoint *ck, su_error *err);

/* Where a run stood when a checkpoint was written, for people (spikeunet checkpoint). */
typedef struct su_train_state_info {
    int epochs_done, epochs;  /* finished epochs, of the run's total */
    double best_iou;          /* best validation mean IoU (3 structures, network grid), at best_epoch */
    int best_epoch;
    long adam_t;              /* optimiser steps taken */
    double seconds;           /* training + validation wall time so far */
    int n_train, n_val;       /* volumes in the split */
    char data_dir[1024];
    char init_from[1024];     /* the checkpoint the weights started from (--init-from), "" for random */
} su_train_state_info;

/* Reads the training state of a checkpoint written by su_train (fails when it has none). */
int su_train_state(su_train_state_info *info, const su_checkpoint *ck, su_error *err);

#ifdef __cplusplus
}
#endif
#endif
