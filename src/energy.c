/* Energy estimate from operation counts x pJ per operation. Counters (RAPL) are in rapl.c. */
#include "spikeunet/energy.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PJ_TO_MJ 1e-9

su_energy_table su_energy_table_preset(su_energy_preset preset) {
    su_energy_table t;
    memset(&t, 0, sizeof t);
    switch (preset) {
    case SU_ENERGY_FP16: snprintf(t.name, sizeof t.name, "fp16"); t.e_mac_pj = 1.5; t.e_ac_pj = 0.4; break;
    case SU_ENERGY_INT8: snprintf(t.name, sizeof t.name, "int8"); t.e_mac_pj = 0.23; t.e_ac_pj = 0.03; break;
    case SU_ENERGY_FP32:
    default: snprintf(t.name, sizeof t.name, "fp32"); t.e_mac_pj = 4.6; t.e_ac_pj = 0.9; break;
    }
    return t;
}

/* One pJ value of a "MAC,AC" spec: the whole text must be a number (surrounding blanks allowed). */
static int parse_pj(const char *s, size_t len, double *out) {
    char buf[64];
    if (len == 0 || len >= sizeof buf) return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end = NULL;
    errno = 0;
    double v = strtod(buf, &end);
    if (end == buf || errno) return 0;
    while (*end == ' ' || *end == '\t') end++;
    if (*end || !isfinite(v) || v <= 0 || v > 1e6) return 0;
    *out = v;
    return 1;
}

int su_energy_table_parse(su_energy_table *table, const char *spec, su_error *err) {
    static const struct { const char *name; su_energy_preset p; } presets[] = {
        {"fp32", SU_ENERGY_FP32}, {"fp16", SU_ENERGY_FP16}, {"int8", SU_ENERGY_INT8}};
    if (!table) return su_fail(err, "energy table: NULL output");
    if (!spec) return su_fail(err, "energy table: no value given (fp32, fp16, int8 or MAC,AC in pJ)");
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcasecmp(spec, presets[i].name) == 0) {
            *table = su_energy_table_preset(presets[i].p);
            return 0;
        }
    const char *comma = strchr(spec, ',');
    double mac, ac;
    if (!comma || !parse_pj(spec, (size_t)(comma - spec), &mac) || !parse_pj(comma + 1, strlen(comma + 1), &ac))
        return su_fail(err, "energy table '%.100s': expected fp32, fp16, int8 or two positive pJ values "
                            "'MAC,AC' (e.g. 4.6,0.9)", spec);
    memset(table, 0, sizeof *table);
    snprintf(table->name, sizeof table->name, "custom");
    table->e_mac_pj = mac;
    table->e_ac_pj = ac;
    return 0;
}

static int bad_count(double v) { return !isfinite(v) || v < 0; }

int su_energy_estimate_compute(su_energy_estimate *est, su_layer_energy *per_layer, const su_layer_ops *ops,
                               size_t n, const su_energy_table *table, su_error *err) {
    if (!est || !table || (n && !ops)) return su_fail(err, "energy estimate: NULL argument");
    if (!isfinite(table->e_mac_pj) || !isfinite(table->e_ac_pj) || table->e_mac_pj < 0 || table->e_ac_pj < 0)
        return su_fail(err, "energy table '%.16s': invalid pJ values %g, %g", table->name, table->e_mac_pj, table->e_ac_pj);
    memset(est, 0, sizeof *est);
    est->table = *table;
    est->n_layers = n;
    est->note = SU_ENERGY_NOTE;
    for (size_t i = 0; i < n; i++) {
        const su_layer_ops *o = &ops[i];
        const char *which = bad_count(o->macs) ? "macs" : bad_count(o->sops) ? "sops"
                          : bad_count(o->neuron_updates) ? "neuron_updates" : NULL;
        if (which) return su_fail(err, "energy estimate: layer %zu '%.48s': invalid %s count", i, o->name, which);
        if (!isfinite(o->input_rate) || o->input_rate > 1)
            return su_fail(err, "energy estimate: layer %zu '%.48s': input rate %g outside [0,1] (or -1 for real input)",
                           i, o->name, o->input_rate);
        su_layer_energy l;
        memset(&l, 0, sizeof l);
        memcpy(l.name, o->name, sizeof l.name);
        l.name[sizeof l.name - 1] = 0;
        memcpy(l.kind, o->kind, sizeof l.kind);
        l.kind[sizeof l.kind - 1] = 0;
        if (o->input_rate < 0) l.charged_macs = o->macs;
        else l.charged_acs = o->sops;
        l.neuron_updates = o->neuron_updates;
        l.synaptic_mj = (table->e_mac_pj * l.charged_macs + table->e_ac_pj * l.charged_acs) * PJ_TO_MJ;
        l.neuron_mj = table->e_mac_pj * o->neuron_updates * PJ_TO_MJ;
        l.total_mj = l.synaptic_mj + l.neuron_mj;
        est->macs += o->macs;
        est->sops += o->sops;
        est->neuron_updates += o->neuron_updates;
        est->charged_macs += l.charged_macs;
        est->charged_acs += l.charged_acs;
        est->synaptic_mj += l.synaptic_mj;
        est->neuron_mj += l.neuron_mj;
        est->total_mj += l.total_mj;
        if (per_layer) per_layer[i] = l;
    }
    return 0;
}

/* snprintf that keeps counting past the end of the buffer */
typedef struct text { char *buf; size_t size, len; } text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *at = t->len < t->size ? t->buf + t->len : NULL;
    size_t room = t->len < t->size ? t->size - t->len : 0;
    int n = vsnprintf(at, room, fmt, ap);
    va_end(ap);
    if (n > 0) t->len += (size_t)n;
}

size_t su_energy_format(char *buf, size_t size, const su_energy_estimate *est, const su_layer_energy *per_layer) {
    text t = {buf, buf ? size : 0, 0};
    if (t.size) buf[0] = 0;
    if (!est) return 0;
    const char *row = "%-28s %-8s %12s %12s %12s %14s %8s\n";
    put(&t, row, "layer", "kind", "MAC-charged", "AC-charged", "neuron upd", "energy (mJ)", "share");
    for (size_t i = 0; per_layer && i < est->n_layers; i++) {
        const su_layer_energy *l = &per_layer[i];
        char m[32], a[32], u[32], e[32], s[32];
        snprintf(m, sizeof m, "%.4g", l->charged_macs);
        snprintf(u, sizeof u, "%.4g", l->neuron_updates);
        snprintf(a, sizeof a, "%.4g", l->charged_acs);
        snprintf(e, sizeof e, "%.6g", l->total_mj);
        snprintf(s, sizeof s, "%.1f%%", est->total_mj > 0 ? 100.0 * l->total_mj / est->total_mj : 0.0);
        put(&t, row, l->name, l->kind, m, a, u, e, s);
    }
    char m[32], a[32], u[32], e[32];
    snprintf(m, sizeof m, "%.4g", est->charged_macs);
    snprintf(u, sizeof u, "%.4g", est->neuron_updates);
    snprintf(a, sizeof a, "%.4g", est->charged_acs);
    snprintf(e, sizeof e, "%.6g", est->total_mj);
    put(&t, row, "total", "", m, a, u, e, "100.0%");
    put(&t, "synaptic %.6g mJ + neuron updates %.6g mJ (each at E_MAC); dense MACs %.4g, SOPs %.4g\n",
        est->synaptic_mj, est->neuron_mj, est->macs, est->sops);
    int custom = strcmp(est->table.name, "custom") == 0;
    put(&t, "energy table %s: E_MAC %g pJ, E_AC %g pJ (%s)\n", est->table.name, est->table.e_mac_pj, est->table.e_ac_pj,
        custom ? "user values" : SU_ENERGY_CITATION);
    put(&t, "note: %s\n", SU_ENERGY_NOTE);
    return t.len;
}
