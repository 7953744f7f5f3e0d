/* spikeunet plot RUN [RUN2 ...] [--out FILE.svg]: learning curves of one or more runs from RUN/log.csv.
 * Only reads the CSV files; the SVG comes from the library (su_svg_plot_write). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "spikeunet/picture.h"

enum { MAX_RUNS = 16, N_COLS = 4 };

/* the columns plotted, by name; a run without one of them simply has no such curve */
static const char *const col_names[N_COLS] = {"train_loss", "val_loss", "val_dice_mean", "val_iou_mean"};
static const int col_panel[N_COLS] = {0, 0, 1, 1};

typedef struct run_log {
    char name[256]; /* legend name: the run folder's base name */
    char path[4096];
    int n;          /* data rows */
    double *epoch;
    double *col[N_COLS]; /* NULL when the column is missing */
} run_log;

static void run_free(run_log *r) {
    free(r->epoch);
    for (int c = 0; c < N_COLS; c++) free(r->col[c]);
}

static char *read_all(const char *path, char *msg, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(msg, cap, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t len = 0, size = 1 << 16;
    char *buf = malloc(size);
    for (;;) {
        if (!buf) break;
        len += fread(buf + len, 1, size - len - 1, f);
        if (ferror(f) || feof(f)) break;
        char *p = size < (1u << 30) ? realloc(buf, size * 2) : NULL;
        if (!p) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = p;
        size *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        snprintf(msg, cap, "%s: %s", path, buf ? "read error" : "file too large or out of memory");
        free(buf);
        return NULL;
    }
    buf[len] = 0;
    if (memchr(buf, 0, len)) {
        snprintf(msg, cap, "%s: not a text file (NUL byte)", path);
        free(buf);
        return NULL;
    }
    return buf;
}

/* Splits line (modified in place) at commas into at most max fields, spaces trimmed; returns the
 * field count (which may exceed max: the extra fields are counted, not stored). */
static int split(char *line, char **fields, int max) {
    int n = 0;
    char *p = line;
    for (;;) {
        char *end = strchr(p, ',');
        if (end) *end = 0;
        while (*p == ' ' || *p == '\t') p++;
        size_t l = strlen(p);
        while (l > 0 && (p[l - 1] == ' ' || p[l - 1] == '\t')) p[--l] = 0;
        if (n < max) fields[n] = p;
        n++;
        if (!end) return n;
        p = end + 1;
    }
}

/* "": missing value (NaN); otherwise a number or an error */
static int parse_number(const char *s, double *v) {
    if (!*s) {
        *v = NAN;
        return 0;
    }
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return end != s && *end == 0 ? 0 : -1;
}

enum { MAX_FIELDS = 256 };

static int read_log(run_log *r, const char *path, char *msg, size_t cap) {
    char *text = read_all(path, msg, cap);
    if (!text) return -1;
    int rc = -1, nfields = 0, lineno = 0, epoch_idx = -1, idx[N_COLS], rows_cap = 0;
    char *fields[MAX_FIELDS];
    char *line = text, *next;
    for (int c = 0; c < N_COLS; c++) idx[c] = -1;
    if (!*text) {
        snprintf(msg, cap, "%s: empty file (expected a header line)", path);
        goto done;
    }
    for (; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        lineno++;
        size_t l = strlen(line);
        if (l > 0 && line[l - 1] == '\r') line[--l] = 0;
        if (lineno == 1) {
            if (l == 0) {
                snprintf(msg, cap, "%s:1: empty header line (expected column names such as epoch,train_loss,...)",
                         path);
                goto done;
            }
            nfields = split(line, fields, MAX_FIELDS);
            if (nfields > MAX_FIELDS) {
                snprintf(msg, cap, "%s:1: %d columns, at most %d supported", path, nfields, MAX_FIELDS);
                goto done;
            }
            for (int f = nfields - 1; f >= 0; f--) { /* the first of duplicate names wins */
                if (strcmp(fields[f], "epoch") == 0) epoch_idx = f;
                for (int c = 0; c < N_COLS; c++)
                    if (strcmp(fields[f], col_names[c]) == 0) idx[c] = f;
            }
            if (epoch_idx < 0) {
                snprintf(msg, cap, "%s:1: no 'epoch' column in the header", path);
                goto done;
            }
            continue;
        }
        if (l == 0) continue; /* blank lines (e.g. a final newline) */
        int nf = split(line, fields, MAX_FIELDS);
        if (nf != nfields) {
            snprintf(msg, cap, "%s:%d: %d fields, the header has %d", path, lineno, nf, nfields);
            goto done;
        }
        if (r->n == rows_cap) {
            rows_cap = rows_cap ? rows_cap * 2 : 64;
            double *e = realloc(r->epoch, sizeof(double) * (size_t)rows_cap);
            if (e) r->epoch = e;
            int ok = e != NULL;
            for (int c = 0; c < N_COLS && ok; c++) {
                if (idx[c] < 0) continue;
                double *p = realloc(r->col[c], sizeof(double) * (size_t)rows_cap);
                if (p) r->col[c] = p;
                ok = p != NULL;
            }
            if (!ok) {
                snprintf(msg, cap, "%s:%d: out of memory", path, lineno);
                goto done;
            }
        }
        double v;
        if (parse_number(fields[epoch_idx], &v) || !isfinite(v)) {
            snprintf(msg, cap, "%s:%d: column 'epoch': not a number '%.40s'", path, lineno, fields[epoch_idx]);
            goto done;
        }
        r->epoch[r->n] = v;
        for (int c = 0; c < N_COLS; c++) {
            if (idx[c] < 0) continue;
            if (parse_number(fields[idx[c]], &r->col[c][r->n])) {
                snprintf(msg, cap, "%s:%d: column '%s': not a number '%.40s'", path, lineno, col_names[c],
                         fields[idx[c]]);
                goto done;
            }
        }
        r->n++;
    }
    if (r->n == 0) {
        snprintf(msg, cap, "%s: no data rows after the header", path);
        goto done;
    }
    rc = 0;
done:
    free(text);
    return rc;
}

static void base_name(char *out, size_t cap, const char *dir) {
    size_t l = strlen(dir);
    while (l > 1 && dir[l - 1] == '/') l--;
    size_t s = l;
    while (s > 0 && dir[s - 1] != '/') s--;
    snprintf(out, cap, "%.*s", (int)(l - s), dir + s);
}

int cmd_plot(int argc, char **argv) {
    static const cli_command cmd = {
        "plot", "draw the learning curves of one or more runs as an SVG picture",
        "spikeunet plot RUN [RUN2 ...] [--out FILE.svg]",
        "Reads RUN/log.csv (a header row naming the columns, one row per epoch) of each run and draws two\n"
        "panels per epoch: the losses (train_loss, val_loss) and the validation scores (val_dice_mean,\n"
        "val_iou_mean). Columns are found by name; missing columns and empty cells are skipped. Several runs\n"
        "are overlaid with one colour per run (e.g. the 3D U-Net against the spiking one).", NULL};
    const char *out = NULL;
    const cli_opt opts[] = {{"--out", OPT_STRING, &out, "FILE", "output SVG (default: the first RUN/curves.svg)"},
                            {NULL, OPT_FLAG, NULL, NULL, NULL}};
    const char *runs[MAX_RUNS];
    int nruns = 0;
    int rc = cli_parse(&cmd, opts, argc, argv, runs, MAX_RUNS, &nruns);
    if (rc < 0) return CLI_OK;
    if (rc) return rc;
    if (nruns == 0) {
        cli_error("plot", "no RUN folder given (see 'spikeunet plot --help')");
        return CLI_USAGE;
    }
    run_log *logs = calloc((size_t)nruns, sizeof *logs);
    su_plot_series *series = calloc((size_t)nruns * N_COLS, sizeof *series);
    char (*labels)[320] = calloc((size_t)nruns * N_COLS, sizeof *labels);
    char *default_out = NULL;
    int status = CLI_FAIL;
    if (!logs || !series || !labels) {
        cli_error("plot", "out of memory");
        goto done;
    }
    char msg[1024];
    for (int i = 0; i < nruns; i++) {
        snprintf(logs[i].path, sizeof logs[i].path, "%s/log.csv", runs[i]);
        base_name(logs[i].name, sizeof logs[i].name, runs[i]);
        if (read_log(&logs[i], logs[i].path, msg, sizeof msg)) {
            cli_error("plot", "%s", msg);
            goto done;
        }
    }
    /* two runs with one base name (a/run, b/run): name them by the path as given */
    for (int i = 0; i < nruns; i++)
        for (int j = 0; j < nruns; j++)
            if (i != j && strcmp(logs[i].name, logs[j].name) == 0) {
                snprintf(logs[i].name, sizeof logs[i].name, "%s", runs[i]);
                break;
            }
    int ns = 0;
    for (int i = 0; i < nruns; i++)
        for (int c = 0; c < N_COLS; c++) {
            if (!logs[i].col[c]) continue;
            su_plot_series *s = &series[ns];
            if (nruns == 1) {
                snprintf(labels[ns], sizeof labels[ns], "%s", col_names[c]);
                s->color = c;
            } else {
                snprintf(labels[ns], sizeof labels[ns], "%s: %s", logs[i].name, col_names[c]);
                s->color = i;
                s->dashed = c % 2; /* train/dice solid, val/iou dashed */
            }
            s->name = labels[ns];
            s->x = logs[i].epoch;
            s->y = logs[i].col[c];
            s->n = logs[i].n;
            s->panel = col_panel[c];
            ns++;
        }
    if (ns == 0) {
        cli_error("plot", "%s%s: none of the columns train_loss, val_loss, val_dice_mean, val_iou_mean",
                  logs[0].path, nruns > 1 ? " (nor the other runs)" : "");
        goto done;
    }
    const su_plot_panel panels[2] = {{"Loss", "epoch", "loss"}, {"Validation (mean over RV, MYO, LV)", "epoch", "score"}};
    if (!out) {
        size_t l = strlen(runs[0]) + sizeof "/curves.svg";
        default_out = malloc(l);
        if (!default_out) {
            cli_error("plot", "out of memory");
            goto done;
        }
        snprintf(default_out, l, "%s/curves.svg", runs[0]);
        out = default_out;
    }
    su_error err = {{0}};
    if (su_svg_plot_write(out, panels, 2, series, ns, &err)) {
        cli_error("plot", "%s", err.msg);
        goto done;
    }
    printf("wrote %s (%d curves from %d run%s)\n", out, ns, nruns, nruns == 1 ? "" : "s");
    status = CLI_OK;
done:
    for (int i = 0; logs && i < nruns; i++) run_free(&logs[i]);
    free(logs);
    free(series);
    free(labels);
    free(default_out);
    return status;
}
