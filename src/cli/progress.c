#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The one piece of process-wide state: a signal handler can only reach a static flag. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) { stop_requested = sig; /* the CLI exits with 128 + sig after saving */ }

volatile sig_atomic_t *cli_stop_flag(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return &stop_requested;
}

int cli_exit_status(volatile sig_atomic_t *stop) { return *stop ? 128 + (int)*stop : 0; }

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

void cli_progress_init(cli_progress *p, const char *label, int quiet) {
    p->label = label;
    p->tty = isatty(2);
    p->quiet = quiet;
    p->last_draw = 0;
}

static const char *hms(char *buf, size_t n, double s) {
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    return buf;
}

void cli_progress_fn(void *ctx, const su_train_progress *p) {
    cli_progress *c = ctx;
    if (c->quiet) return;
    char eta[32], pre[64] = "";
    if (c->label) snprintf(pre, sizeof pre, "[%s] ", c->label);
    double t = now_s();
    switch (p->kind) {
    case SU_PROGRESS_LOAD:
        if (c->tty && (t - c->last_draw > 0.1 || p->step == p->steps)) {
            fprintf(stderr, "\r%s%s %d/%d\033[K", pre, p->message, p->step, p->steps);
            c->last_draw = t;
        }
        if (p->step == p->steps) fprintf(stderr, c->tty ? "\n" : "%s%s: %d\n", pre, p->message, p->steps);
        break;
    case SU_PROGRESS_STEP:
        if (c->tty && (t - c->last_draw > 0.2 || p->step == p->steps)) {
            fprintf(stderr, "\r%sepoch %d/%d  step %d/%d  loss %.4f  %.2f vol/s  ETA %s\033[K", pre, p->epoch, p->epochs,
                    p->step, p->steps, p->loss, p->volumes_per_s, hms(eta, sizeof eta, p->eta_s));
            c->last_draw = t;
        }
        break;
    case SU_PROGRESS_VAL:
        if (c->tty && (t - c->last_draw > 0.2 || p->step == p->steps)) {
            fprintf(stderr, "\r%sepoch %d/%d  validating %d/%d\033[K", pre, p->epoch, p->epochs, p->step, p->steps);
            c->last_draw = t;
        }
        break;
    case SU_PROGRESS_EPOCH: {
        const su_epoch_record *e = p->record;
        if (c->tty) fprintf(stderr, "\r\033[K");
        fprintf(stderr, "%sepoch %d/%d  train loss %.4f", pre, e->epoch, p->epochs, e->train_loss);
        if (e->validated)
            fprintf(stderr, "  val loss %.4f  Dice RV %.3f MYO %.3f LV %.3f  IoU mean %.4f%s", e->val_loss, e->val_dice[1],
                    e->val_dice[2], e->val_dice[3], e->val_iou_mean, e->best ? " (best)" : "");
        if (e->n_lif && e->validated) fprintf(stderr, "  firing %.3f", e->mean_firing_rate);
        fprintf(stderr, "  %s\n", hms(eta, sizeof eta, e->seconds));
        break;
    }
    }
}
