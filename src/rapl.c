/* Energy counters: Linux RAPL through powercap sysfs, the generic counter calls, and the
 * begin/poll/end measurement helper. A GPU counter (NVML nvmlDeviceGetTotalEnergyConsumption,
 * millijoules, no wrap) would be another su_energy_counter_ops next to rapl_ops. */
#include "spikeunet/energy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *su_energy_domain_name(su_energy_domain d) {
    switch (d) {
    case SU_ENERGY_PACKAGE: return "package";
    case SU_ENERGY_DRAM: return "dram";
    case SU_ENERGY_GPU: return "gpu";
    default: return "?";
    }
}

static void copy_text(char *dst, size_t size, const char *src) {
    size_t len = strnlen(src, size - 1);
    memcpy(dst, src, len);
    dst[len] = 0;
}

/* Reads a small text file; 0 or -1 with errno set. */
static int read_small(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    size_t len = 0;
    for (;;) {
        ssize_t got = read(fd, buf + len, size - 1 - len);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (got == 0 || (len += (size_t)got) >= size - 1) break;
    }
    close(fd);
    buf[len] = 0;
    return 0;
}

/* A file holding one unsigned decimal integer (sysfs style, trailing newline). */
static int read_uj(const char *path, double *out) {
    char buf[64];
    if (read_small(path, buf, sizeof buf) != 0) return -1;
    char *p = buf;
    unsigned long long v = 0;
    if (*p < '0' || *p > '9') { errno = EINVAL; return -1; }
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (~0ULL - 9) / 10) { errno = ERANGE; return -1; }
        v = v * 10 + (unsigned)(*p - '0');
    }
    while (*p == '\n' || *p == ' ') p++;
    if (*p) { errno = EINVAL; return -1; }
    *out = (double)v;
    return 0;
}

static int rapl_read(const su_energy_counter *c, su_energy_sample *s, su_error *err) {
    s->n = c->n_zones;
    for (int i = 0; i < c->n_zones; i++)
        if (read_uj(c->zones[i].path, &s->uj[i]) != 0)
            return su_fail(err, "%s: cannot read: %s", c->zones[i].path, strerror(errno));
    return 0;
}

static void rapl_close(su_energy_counter *c) { (void)c; }

static const su_energy_counter_ops rapl_ops = {"rapl", rapl_read, rapl_close};

/* "intel-rapl:N" -> depth 1, "intel-rapl:N:M" -> depth 2, else 0 */
static int rapl_entry(const char *name, unsigned *a, unsigned *b) {
    int used = -1;
    if (sscanf(name, "intel-rapl:%u:%u%n", a, b, &used) == 2 && used > 0 && name[used] == 0) return 2;
    used = -1;
    if (sscanf(name, "intel-rapl:%u%n", a, &used) == 1 && used > 0 && name[used] == 0) return 1;
    return 0;
}

typedef struct cand { unsigned a, b; int depth; char entry[64]; } cand;

static int cand_cmp(const void *x, const void *y) {
    const cand *p = x, *q = y;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->depth != q->depth) return p->depth < q->depth ? -1 : 1;
    return p->b < q->b ? -1 : p->b > q->b;
}

static int unavailable(su_energy_counter *c, su_error *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int unavailable(su_energy_counter *c, su_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
    c->ops = NULL;
    c->n_zones = 0;
    return su_fail(err, "%s", c->reason);
}

static int file_fault(su_energy_counter *c, su_error *err, const char *path, int e) {
    if (e == EACCES || e == EPERM)
        return unavailable(c, err, "%s: permission denied (energy_uj is root-only since the 2020 PLATYPUS fix)", path);
    return unavailable(c, err, "%s: cannot read: %s", path, strerror(e));
}

int su_energy_rapl_open(su_energy_counter *c, const char *root, su_error *err) {
    if (!c) return su_fail(err, "energy counter: NULL handle");
    memset(c, 0, sizeof *c);
    if (!root) root = SU_POWERCAP_ROOT;
    DIR *d = opendir(root);
    if (!d) {
        int e = errno;
        if (e == ENOENT)
            return unavailable(c, err, "%s: not present (no RAPL: not Linux, or a VM/container without powercap)", root);
        return unavailable(c, err, "%s: %s", root, strerror(e));
    }
    cand cands[4 * SU_ENERGY_MAX_ZONES];
    int nc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        cand k;
        memset(&k, 0, sizeof k);
        k.depth = rapl_entry(de->d_name, &k.a, &k.b);
        if (!k.depth || strlen(de->d_name) >= sizeof k.entry) continue;
        if (nc == (int)(sizeof cands / sizeof cands[0])) {
            closedir(d);
            return unavailable(c, err, "%s: more than %d RAPL zones", root, nc);
        }
        copy_text(k.entry, sizeof k.entry, de->d_name);
        cands[nc++] = k;
    }
    closedir(d);
    qsort(cands, (size_t)nc, sizeof *cands, cand_cmp);

    int packages = 0;
    char path[600], zname[64];
    for (int i = 0; i < nc; i++) {
        snprintf(path, sizeof path, "%s/%s/name", root, cands[i].entry);
        if (read_small(path, zname, sizeof zname) != 0) continue; /* not a zone we can identify */
        zname[strcspn(zname, "\n")] = 0;
        su_energy_domain dom;
        if (cands[i].depth == 1 && strncmp(zname, "package", 7) == 0) dom = SU_ENERGY_PACKAGE;
        else if (cands[i].depth == 2 && strcmp(zname, "dram") == 0) dom = SU_ENERGY_DRAM;
        else continue; /* psys, core, uncore: psys overlaps, core/uncore are inside the package */
        if (c->n_zones == SU_ENERGY_MAX_ZONES)
            return unavailable(c, err, "%s: more than %d RAPL package/dram zones", root, SU_ENERGY_MAX_ZONES);
        su_energy_zone *z = &c->zones[c->n_zones];
        z->domain = dom;
        snprintf(z->label, sizeof z->label, "%s (%s)", cands[i].entry, zname);
        snprintf(z->path, sizeof z->path, "%s/%s/energy_uj", root, cands[i].entry);
        double v;
        if (read_uj(z->path, &v) != 0) return file_fault(c, err, z->path, errno);
        snprintf(path, sizeof path, "%s/%s/max_energy_range_uj", root, cands[i].entry);
        if (read_uj(path, &z->max_range_uj) != 0) return file_fault(c, err, path, errno);
        c->n_zones++;
        packages += dom == SU_ENERGY_PACKAGE;
    }
    if (!packages) return unavailable(c, err, "%s: no RAPL package zone (intel-rapl:N named package-N)", root);
    c->ops = &rapl_ops;
    return 0;
}

int su_energy_counter_read(const su_energy_counter *c, su_energy_sample *s, su_error *err) {
    if (!c || !s) return su_fail(err, "energy counter: NULL argument");
    if (!c->ops) return su_fail(err, "energy counter not available: %s", c->reason[0] ? c->reason : "not opened");
    return c->ops->read(c, s, err);
}

void su_energy_counter_close(su_energy_counter *c) {
    if (!c) return;
    if (c->ops && c->ops->close) c->ops->close(c);
    memset(c, 0, sizeof *c);
}

int su_energy_counter_delta(const su_energy_counter *c, const su_energy_sample *begin, const su_energy_sample *end,
                            double joules[SU_ENERGY_N_DOMAINS], int has[SU_ENERGY_N_DOMAINS], su_error *err) {
    if (!c || !begin || !end || !joules || !has) return su_fail(err, "energy counter: NULL argument");
    if (begin->n != c->n_zones || end->n != c->n_zones)
        return su_fail(err, "energy counter: samples have %d and %d zones, counter has %d", begin->n, end->n, c->n_zones);
    for (int d = 0; d < SU_ENERGY_N_DOMAINS; d++) joules[d] = 0, has[d] = 0;
    for (int i = 0; i < c->n_zones; i++) {
        const su_energy_zone *z = &c->zones[i];
        double delta = end->uj[i] - begin->uj[i];
        if (delta < 0) {
            if (z->max_range_uj <= 0)
                return su_fail(err, "%s: counter went backwards (%.0f -> %.0f uJ) and does not wrap", z->label,
                               begin->uj[i], end->uj[i]);
            delta += z->max_range_uj;
        }
        joules[z->domain] += delta * 1e-6;
        has[z->domain] = 1;
    }
    return 0;
}

static double seconds(const struct timespec *a, const struct timespec *b) {
    return (double)(b->tv_sec - a->tv_sec) + 1e-9 * (double)(b->tv_nsec - a->tv_nsec);
}

void su_energy_begin(su_energy_measure *m, const su_energy_counter *counter) {
    memset(m, 0, sizeof *m);
    m->counter = counter;
    if (!counter) {
        snprintf(m->acc.reason, sizeof m->acc.reason, "no energy counter");
    } else if (!counter->ops) {
        copy_text(m->acc.reason, sizeof m->acc.reason, counter->reason[0] ? counter->reason : "counter not opened");
    } else {
        su_error e = {{0}};
        if (su_energy_counter_read(counter, &m->last, &e) != 0) {
            copy_text(m->acc.reason, sizeof m->acc.reason, e.msg);
        } else {
            m->acc.energy_available = 1;
            m->acc.counter = counter->ops->name;
            for (int i = 0; i < counter->n_zones; i++) m->acc.has[counter->zones[i].domain] = 1;
        }
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &m->cpu0);
    clock_gettime(CLOCK_MONOTONIC, &m->wall0);
}

void su_energy_poll(su_energy_measure *m) {
    if (!m->acc.energy_available) return;
    su_energy_sample now;
    double j[SU_ENERGY_N_DOMAINS];
    int has[SU_ENERGY_N_DOMAINS];
    su_error e = {{0}};
    if (su_energy_counter_read(m->counter, &now, &e) != 0 ||
        su_energy_counter_delta(m->counter, &m->last, &now, j, has, &e) != 0) {
        m->acc.energy_available = 0;
        m->acc.counter = NULL;
        copy_text(m->acc.reason, sizeof m->acc.reason, e.msg);
        for (int d = 0; d < SU_ENERGY_N_DOMAINS; d++) m->acc.joules[d] = 0, m->acc.has[d] = 0;
        return;
    }
    for (int d = 0; d < SU_ENERGY_N_DOMAINS; d++) m->acc.joules[d] += j[d];
    m->last = now;
}

void su_energy_end(su_energy_measure *m, su_energy_result *out) {
    struct timespec wall1, cpu1;
    clock_gettime(CLOCK_MONOTONIC, &wall1);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
    su_energy_poll(m);
    m->acc.wall_s = seconds(&m->wall0, &wall1);
    m->acc.cpu_s = seconds(&m->cpu0, &cpu1);
    if (out) *out = m->acc;
}
