/* spikeunet info DIR: one row per ACDC volume (shape, spacing, dtype, label voxel counts). */
#include <stdint.h>
#include <stdlib.h>

#include "cli.h"
#include "spikeunet/acdc.h"

static const cli_command info_cmd = {
    "info",
    "list the volumes of an ACDC folder (shape, spacing, dtype, label counts)",
    "spikeunet info DIR",
    "DIR is the ACDC root (training/ and testing/), one of those, or one patient folder.\n"
    "Prints one row per volume (ED and ES of every patient): group, frame, shape (x y z),\n"
    "spacing in mm, the image's stored datatype and the voxel count of each label\n"
    "(0 background, 1 RV, 2 myocardium, 3 LV; '-' without ground truth). Every file is\n"
    "read and checked, so a bad file stops the listing with its name and fault.",
    NULL};

int cmd_info(int argc, char **argv) {
    const cli_opt opts[] = {{0}};
    const char *pos[1] = {0};
    int npos = 0;
    int rc = cli_parse(&info_cmd, opts, argc, argv, pos, 1, &npos);
    if (rc < 0) return CLI_OK;
    if (rc) return rc;
    if (npos != 1) {
        cli_error("info", "expected one folder (see 'spikeunet info --help')");
        return CLI_USAGE;
    }
    su_error err = {{0}};
    su_dataset ds;
    if (su_acdc_scan(&ds, pos[0], &err)) {
        cli_error("info", "%s", err.msg);
        return CLI_FAIL;
    }
    printf("%-12s %-5s %-5s %5s %-12s %-22s %-8s %9s %7s %7s %7s\n", "patient", "group", "phase", "frame",
           "shape", "spacing_mm", "dtype", "bg", "RV", "MYO", "LV");
    int n_vol = 0, no_gt = 0;
    for (int i = 0; i < ds.n_patients; i++) {
        const su_patient *p = &ds.patients[i];
        for (int ph = 0; ph < 2; ph++) {
            su_volume img;
            uint8_t *lab = NULL;
            if (su_acdc_load(&img, p->has_gt ? &lab : NULL, p, ph, &err)) {
                fflush(stdout);
                cli_error("info", "%s", err.msg);
                su_acdc_free(&ds);
                return CLI_FAIL;
            }
            char shape[40], spacing[64];
            snprintf(shape, sizeof shape, "%dx%dx%d", img.nx, img.ny, img.nz);
            snprintf(spacing, sizeof spacing, "%.5gx%.5gx%.5g", (double)img.dx, (double)img.dy, (double)img.dz);
            printf("%-12s %-5s %-5s %5d %-12s %-22s %-8s", p->id, p->group, su_phase_name(ph),
                   ph == SU_ED ? p->ed_frame : p->es_frame, shape, spacing, su_nifti_dtype_name(img.datatype));
            if (lab) {
                long count[SU_N_LABELS] = {0};
                size_t n = su_volume_voxels(&img);
                for (size_t v = 0; v < n; v++) count[lab[v]]++;
                printf(" %9ld %7ld %7ld %7ld\n", count[0], count[1], count[2], count[3]);
            } else {
                printf(" %9s %7s %7s %7s\n", "-", "-", "-", "-");
                no_gt++;
            }
            free(lab);
            su_volume_free(&img);
            n_vol++;
        }
    }
    printf("%d patient%s, %d volume%s", ds.n_patients, ds.n_patients == 1 ? "" : "s", n_vol, n_vol == 1 ? "" : "s");
    if (no_gt) printf(" (%d without ground truth)", no_gt);
    printf("\n");
    su_acdc_free(&ds);
    return CLI_OK;
}
