/* spikeunet energy: operation counts per layer, the energy estimate, and measured joules per volume, on
 * real volumes (firing rates depend on the data and the trained weights). */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "spikeunet/acdc.h"
#include "spikeunet/evaluate.h"
#include "spikeunet/infer.h"

int cmd_energy(int argc, char **argv) {
    const char *ckpt = NULL, *data = NULL, *table_spec = "fp32";
    int max_volumes = 10, threads = 0;
    cli_opt opts[] = {
        {"--checkpoint", OPT_STRING, &ckpt, "FILE", "a checkpoint written by spikeunet train"},
        {"--data", OPT_STRING, &data, "DIR", "ACDC folder (images; ground truth not needed)"},
        {"--volumes", OPT_INT, &max_volumes, "N", "run on the first N volumes (0: all)"},
        {"--energy-table", OPT_STRING, &table_spec, "fp32|fp16|int8|MAC,AC",
         "pJ per operation: 45 nm presets (Horowitz, ISSCC 2014) or your own MAC,AC values"},
        CLI_THREADS_OPT(threads),
        {NULL, 0, NULL, NULL, NULL}};
    cli_command cmd = {"energy", "Operation counts and estimated energy per layer, measured joules and seconds per "
                                 "volume, for a trained model on real volumes.",
                       "spikeunet energy --checkpoint FILE --data DIR [--energy-table fp32|fp16|int8|MAC,AC]",
                       "Estimate: E = E_MAC x MACs + E_AC x SOPs. A layer fed by spikes costs SOPs = (firing rate of "
                       "its input) x T x MACs-per-step (accumulates only); layers fed by real values (the first "
                       "convolution, batch norm, the output convolution, the upsampled half of each decoder "
                       "convolution) cost MACs; every LIF update counts as one MAC. Memory traffic is not "
                       "modelled. Measured: the RAPL package (and dram) counters around each inference, where the "
                       "machine exposes them.", NULL};
    int rc = cli_parse(&cmd, opts, argc, argv, NULL, 0, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (cli_require("energy", "--checkpoint", ckpt) || cli_require("energy", "--data", data)) return CLI_USAGE;
    if ((rc = cli_set_threads(threads, "energy"))) return rc;
    if (max_volumes < 0) {
        cli_error("energy", "--volumes must be >= 0 (0: all)");
        return CLI_USAGE;
    }
    su_error err;
    su_energy_table table;
    if (su_energy_table_parse(&table, table_spec, &err)) {
        cli_error("energy", "--energy-table: %s", err.msg);
        return CLI_USAGE;
    }
    su_predictor pred;
    su_dataset ds = {0};
    if (su_predictor_open(&pred, ckpt, &err) || su_acdc_scan(&ds, data, &err)) {
        cli_error("energy", "%s", err.msg);
        return CLI_FAIL;
    }
    rc = CLI_FAIL;
    su_energy_counter counter;
    su_error cerr;
    int have = su_energy_rapl_open(&counter, NULL, &cerr) == 0;
    double joules = 0, dram = 0, seconds = 0, cpu = 0;
    int n = 0, has_dram = 0;
    for (int i = 0; i < 2 * ds.n_patients && (max_volumes <= 0 || n < max_volumes); i++) {
        su_volume img;
        if (su_nifti_read(&img, ds.patients[i / 2].image_path[i % 2], &err)) goto done;
        uint8_t *lab = malloc(su_volume_voxels(&img));
        su_energy_measure m;
        su_energy_result r;
        su_energy_begin(&m, have ? &counter : NULL);
        int bad = !lab || su_predict_volume(&pred, &img, lab, &err);
        su_energy_end(&m, &r);
        su_volume_free(&img);
        free(lab);
        if (bad) goto done;
        if (n > 0 || max_volumes == 1) { /* the first pass builds the kernels: not counted */
            seconds += r.wall_s, cpu += r.cpu_s;
            joules += r.joules[SU_ENERGY_PACKAGE];
            dram += r.joules[SU_ENERGY_DRAM];
            has_dram = r.has[SU_ENERGY_DRAM];
        }
        n++;
    }
    const int counted = n > 1 ? n - 1 : n;
    const su_model_config *cfg = su_model_get_config(pred.m);
    const int nl = su_model_num_lif(pred.m);
    double rates[SU_MAX_LIF];
    for (int i = 0; i < nl; i++) rates[i] = su_predictor_rate(&pred, i);
    int nops = su_model_op_counts(cfg, pred.grid.D, pred.grid.H, pred.grid.W, nl ? rates : NULL, NULL, 0);
    su_layer_ops *ops = calloc((size_t)nops, sizeof *ops);
    su_layer_energy *per = calloc((size_t)nops, sizeof *per);
    su_energy_estimate est;
    su_model_op_counts(cfg, pred.grid.D, pred.grid.H, pred.grid.W, nl ? rates : NULL, ops, nops);
    if (su_energy_estimate_compute(&est, per, ops, (size_t)nops, &table, &err)) goto done;
    printf("%s: %s on %d volume%s of %s, grid %dx%dx%d at %.2f mm\n\n", ckpt,
           cfg->kind == SU_MODEL_SPIKING ? "Spiking 3D U-Net" : "3D U-Net", n, n == 1 ? "" : "s", data, pred.grid.D,
           pred.grid.H, pred.grid.W, pred.grid.spacing);
    /* dense: every multiply-accumulate of the graph; charged: what the estimate counts (MACs where the input is
     * real-valued, accumulates (SOPs) where it is spikes) */
    printf("%-18s %-7s %11s %11s %11s %8s %10s\n", "layer", "kind", "dense MMAC", "MAC (M)", "SOP (M)", "in rate",
           "est. mJ");
    for (int i = 0; i < nops; i++) {
        char rate[16] = "-";
        if (ops[i].input_rate >= 0) snprintf(rate, sizeof rate, "%.3f", ops[i].input_rate);
        printf("%-18s %-7s %11.1f %11.1f %11.1f %8s %10.3f\n", ops[i].name, ops[i].kind, ops[i].macs / 1e6,
               per[i].charged_macs / 1e6, per[i].charged_acs / 1e6, rate, per[i].total_mj);
    }
    printf("\ntotal per volume: %.2f GMAC + %.2f GSOP + %.2f M neuron updates -> estimated %.1f mJ (%s: MAC %.2f pJ, "
           "AC %.2f pJ; %s)\n", est.charged_macs / 1e9, est.charged_acs / 1e9, est.neuron_updates / 1e6, est.total_mj,
           table.name, table.e_mac_pj, table.e_ac_pj, SU_ENERGY_NOTE);
    if (cfg->kind == SU_MODEL_SPIKING) {
        printf("the same operations all as dense MACs (what a non-spiking run of this graph would cost): %.1f mJ\n",
               (est.macs + est.neuron_updates) * table.e_mac_pj * 1e-9);
        printf("firing rates:");
        for (int i = 0; i < nl; i++) printf(" %s %.3f%s", su_model_lif_name(pred.m, i), rates[i], i + 1 < nl ? "," : "\n");
    }
    printf("measured per volume: %.3f s wall, %.3f s CPU", seconds / counted, cpu / counted);
    if (have)
        printf(", %.2f J package%s\n", joules / counted, has_dram ? "" : " (no dram zone)");
    else
        printf(", energy not available (%s)\n", cerr.msg);
    if (has_dram) printf("                     %.2f J dram\n", dram / counted);
    free(ops);
    free(per);
    rc = CLI_OK;
done:
    if (rc) cli_error("energy", "%s", err.msg);
    if (have) su_energy_counter_close(&counter);
    su_acdc_free(&ds);
    su_predictor_close(&pred);
    return rc;
}
