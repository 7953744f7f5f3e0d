/* Energy: (1) an estimate from operation counts x a pJ-per-operation table (the field's
 * standard comparison of spiking and conventional networks), and (2) a measurement from hardware
 * energy counters (Linux RAPL now; an NVML GPU counter can sit behind the same interface).
 * See docs/ENERGY.md. Nothing here prints: the CLI formats and prints. */
#ifndef SPIKEUNET_ENERGY_H
#define SPIKEUNET_ENERGY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "spikeunet/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- 1. estimate --------------------------------------------------------------------------
 * One row per layer, filled by the model for one volume (the spiking net: all T steps).
 * Charging rule, per layer:
 *   input_rate <  0 (real-valued input, e.g. the first conv, every layer of the plain U-Net):
 *       energy = E_MAC * macs
 *   input_rate >= 0 (binary spikes in): multiplications vanish, only the accumulates that a
 *       spike triggers are done:  energy = E_AC * sops     (macs is then informative only)
 *   plus, always, E_MAC * neuron_updates (a LIF update v = beta*v + I is one multiply-add).
 * Layers with no synaptic work (bn, pool, ...) report what they execute in macs (e.g. one MAC
 * per element for a batch norm that is not folded into the conv at inference; 0 if folded). */
typedef struct su_layer_ops {
    char name[48];
    char kind[16];          /* "conv", "bn", "pool", "upconv", "lif", "concat", ... */
    double macs;            /* dense multiply-accumulates (all T steps for the spiking net) */
    double sops;            /* synaptic accumulate-only operations: input_rate * macs */
    double neuron_updates;  /* LIF membrane updates: neurons * T */
    double input_rate;      /* firing rate of the layer's input in [0,1]; -1 if real-valued */
} su_layer_ops;

/* Energy per operation in picojoules. */
typedef struct su_energy_table {
    char name[16];          /* "fp32", "fp16", "int8", or "custom" */
    double e_mac_pj;
    double e_ac_pj;
} su_energy_table;

typedef enum su_energy_preset {
    SU_ENERGY_FP32 = 0,     /* 45 nm, 4.6 / 0.9 pJ (Horowitz, ISSCC 2014) -- the default */
    SU_ENERGY_FP16,         /* 45 nm, 1.5 / 0.4 pJ */
    SU_ENERGY_INT8          /* 45 nm, 0.23 / 0.03 pJ */
} su_energy_preset;

#define SU_ENERGY_CITATION \
    "M. Horowitz, \"Computing's energy problem (and what we can do about it)\", ISSCC 2014 (45 nm)"
#define SU_ENERGY_NOTE "memory traffic is not modelled"

su_energy_table su_energy_table_preset(su_energy_preset preset);
/* spec: "fp32" | "fp16" | "int8" (any case) or "MAC,AC" in pJ, e.g. "4.6,0.9" (both finite,
 * > 0, <= 1e6). For a flag like --energy-table. */
int su_energy_table_parse(su_energy_table *table, const char *spec, su_error *err);

typedef struct su_layer_energy {
    char name[48];
    char kind[16];
    double charged_macs;    /* operations charged at E_MAC (macs when input is real, else 0) */
    double charged_acs;     /* operations charged at E_AC (sops when input is spikes, else 0) */
    double neuron_updates;  /* charged at E_MAC */
    double synaptic_mj;     /* E_MAC * charged_macs + E_AC * charged_acs */
    double neuron_mj;       /* E_MAC * neuron_updates */
    double total_mj;
} su_layer_energy;

typedef struct su_energy_estimate {
    su_energy_table table;
    size_t n_layers;
    double macs, sops, neuron_updates;  /* sums of the inputs */
    double charged_macs, charged_acs;   /* sums of the per-layer charged counts */
    double synaptic_mj, neuron_mj, total_mj;
    const char *note;       /* always SU_ENERGY_NOTE */
} su_energy_estimate;

/* Fills est (and per_layer[0..n-1] when per_layer is not NULL). Fails, naming the layer, on a
 * negative or non-finite count, or an input_rate above 1. */
int su_energy_estimate_compute(su_energy_estimate *est, su_layer_energy *per_layer,
                               const su_layer_ops *ops, size_t n, const su_energy_table *table,
                               su_error *err);

/* Writes a plain-text table (one line per layer, a total line, the table and citation, the note)
 * into buf like snprintf: at most size bytes with a terminating NUL, and returns the length the
 * full text needs (excluding the NUL), so a caller can size the buffer with a first call
 * (buf NULL, size 0). per_layer may be NULL (totals only). */
size_t su_energy_format(char *buf, size_t size, const su_energy_estimate *est,
                        const su_layer_energy *per_layer);

/* ---- 2. measurement: energy counters --------------------------------------------------------
 * A counter is a set of zones whose cumulative energy (microjoules) can be read; a backend fills
 * zones[] and the ops table at open time. Counters wrap: a zone with max_range_uj > 0 wraps
 * from max_range_uj to 0, and a decrease between two reads is taken as one wrap. */
#define SU_ENERGY_MAX_ZONES 32

typedef enum su_energy_domain {
    SU_ENERGY_PACKAGE = 0,  /* CPU package (RAPL "package-N") */
    SU_ENERGY_DRAM,         /* RAPL "dram" subzone (not part of the package figure) */
    SU_ENERGY_GPU,          /* reserved for an NVML total-energy counter */
    SU_ENERGY_N_DOMAINS
} su_energy_domain;

const char *su_energy_domain_name(su_energy_domain d); /* "package", "dram", "gpu" */

typedef struct su_energy_zone {
    char label[160];         /* "intel-rapl:0 (package-0)" */
    su_energy_domain domain;
    char path[512];          /* the counter file (RAPL: .../energy_uj) */
    double max_range_uj;     /* wrap modulus; 0 when the counter does not wrap */
} su_energy_zone;

typedef struct su_energy_sample {
    int n;                                 /* = counter's n_zones */
    double uj[SU_ENERGY_MAX_ZONES];        /* raw cumulative value per zone */
} su_energy_sample;

typedef struct su_energy_counter su_energy_counter;
typedef struct su_energy_counter_ops {
    const char *name;                      /* "rapl" */
    int (*read)(const su_energy_counter *c, su_energy_sample *s, su_error *err);
    void (*close)(su_energy_counter *c);
} su_energy_counter_ops;

struct su_energy_counter {
    const su_energy_counter_ops *ops;      /* NULL when not available */
    char reason[256];                      /* when not available: why, in one line */
    int n_zones;
    su_energy_zone zones[SU_ENERGY_MAX_ZONES];
    void *impl;                            /* backend state (unused by RAPL) */
};

#define SU_POWERCAP_ROOT "/sys/class/powercap"

/* Opens the RAPL zones under root (NULL = SU_POWERCAP_ROOT): top-level entries "intel-rapl:N"
 * whose name file starts with "package", and "intel-rapl:N:M" named "dram" (AMD CPUs show their
 * package zones under the same intel-rapl names; psys, core, uncore and the duplicate
 * intel-rapl-mmio zones are skipped). Every chosen zone must have a readable energy_uj and
 * max_energy_range_uj. Returns 0 when available; otherwise -1, c->ops NULL, and both c->reason
 * and err hold the one-line reason ("/sys/class/powercap: not present (no RAPL: not Linux, or a
 * VM/container without powercap)", "...: permission denied (energy_uj is root-only since the
 * 2020 PLATYPUS fix)", "no RAPL package zone under ..."). */
int su_energy_rapl_open(su_energy_counter *c, const char *root, su_error *err);
int su_energy_counter_read(const su_energy_counter *c, su_energy_sample *s, su_error *err);
void su_energy_counter_close(su_energy_counter *c);

/* Joules per domain between two samples of c (wrap-around handled per zone). has[d] is 1 when c
 * has a zone of domain d. */
int su_energy_counter_delta(const su_energy_counter *c, const su_energy_sample *begin,
                            const su_energy_sample *end, double joules[SU_ENERGY_N_DOMAINS],
                            int has[SU_ENERGY_N_DOMAINS], su_error *err);

/* Measurement around a piece of work: wall seconds (CLOCK_MONOTONIC), process CPU seconds (all
 * threads, CLOCK_PROCESS_CPUTIME_ID: may exceed wall time), and joules when counter is available.
 * Call su_energy_poll now and then during long work (at least once per wrap period: RAPL
 * package counters wrap after max_energy_range_uj, ~262 kJ, i.e. about 45 min at 100 W). */
typedef struct su_energy_result {
    double wall_s, cpu_s;
    int energy_available;                  /* 0: reason says why */
    char reason[256];
    const char *counter;                   /* "rapl", or NULL */
    double joules[SU_ENERGY_N_DOMAINS];
    int has[SU_ENERGY_N_DOMAINS];
} su_energy_result;

typedef struct su_energy_measure {
    const su_energy_counter *counter;      /* may be NULL or unavailable */
    struct timespec wall0, cpu0;
    su_energy_sample last;
    su_energy_result acc;
} su_energy_measure;

void su_energy_begin(su_energy_measure *m, const su_energy_counter *counter);
void su_energy_poll(su_energy_measure *m);
void su_energy_end(su_energy_measure *m, su_energy_result *out);

#ifdef __cplusplus
}
#endif
#endif
