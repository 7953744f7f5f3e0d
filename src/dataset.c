/* ACDC volumes on the network grid, in memory (see dataset.h). */
#include "spikeunet/dataset.h"

#include <stdlib.h>
#include <string.h>

void su_grid_config_default(su_grid_config *g) {
    g->D = SU_GRID_D;
    g->H = SU_GRID_H;
    g->W = SU_GRID_W;
    g->spacing = SU_GRID_SPACING_MM;
}

void su_samples_free(su_sample_set *set) {
    for (int i = 0; i < set->n; i++) {
        free(set->samples[i].image);
        free(set->samples[i].labels);
    }
    free(set->samples);
    set->samples = NULL;
    set->n = 0;
}

static int load_one(su_sample *s, const su_dataset *ds, int volume, const su_grid_config *g, int need_labels,
                    su_error *err) {
    const su_patient *p = &ds->patients[volume / 2];
    const int phase = volume % 2;
    su_volume img;
    uint8_t *lab = NULL;
    const int want_labels = need_labels || p->has_gt;
    if (need_labels && !p->has_gt)
        return su_fail(err, "%s %s: no ground truth (no _gt file beside %s); training and evaluation need it",
                       p->id, su_phase_name(phase), p->image_path[phase]);
    if (su_acdc_load(&img, want_labels ? &lab : NULL, p, phase, err)) return -1;
    int rc = -1;
    s->volume = volume;
    s->depth = img.nz > g->D ? img.nz : g->D;
    if (su_grid_plan(&s->map, img.nx, img.ny, img.nz, img.dx, img.dy, s->depth, g->H, g->W, g->spacing, err)) {
        su_fail_context(err, "%s", p->image_path[phase]);
        goto done;
    }
    size_t n = (size_t)s->depth * g->H * g->W;
    s->image = malloc(n * sizeof(float));
    s->labels = lab ? malloc(n) : NULL;
    if (!s->image || (lab && !s->labels)) {
        su_fail(err, "%s: out of memory for the grid", p->image_path[phase]);
        goto done;
    }
    su_grid_image(s->image, &s->map, img.data);
    if (lab) su_grid_labels(s->labels, &s->map, lab);
    rc = 0;
done:
    if (rc) {
        free(s->image);
        free(s->labels);
        s->image = NULL;
        s->labels = NULL;
    }
    su_volume_free(&img);
    free(lab);
    return rc;
}

int su_samples_load(su_sample_set *set, const su_dataset *ds, const int *volumes, int n, const su_grid_config *g,
                    int need_labels, void (*progress)(void *ctx, int done, int total), void *ctx, su_error *err) {
    set->samples = calloc(n > 0 ? (size_t)n : 1, sizeof *set->samples);
    set->n = 0;
    if (!set->samples) return su_fail(err, "out of memory for %d samples", n);
    for (int i = 0; i < n; i++) {
        if (volumes[i] < 0 || volumes[i] >= 2 * ds->n_patients) {
            su_samples_free(set);
            return su_fail(err, "volume index %d out of range", volumes[i]);
        }
        if (load_one(&set->samples[i], ds, volumes[i], g, need_labels, err)) {
            su_samples_free(set);
            return -1;
        }
        set->n = i + 1;
        if (progress) progress(ctx, i + 1, n);
    }
    return 0;
}

int su_sample_centre(const su_sample *s, int D) { return (s->depth - D) / 2; }

void su_sample_window(float *img, uint8_t *lab, const su_sample *s, int z, int D, int H, int W) {
    const size_t plane = (size_t)H * W;
    for (int d = 0; d < D; d++) {
        int src = z + d;
        int inside = src >= 0 && src < s->depth;
        if (img) {
            if (inside)
                memcpy(img + d * plane, s->image + src * plane, plane * sizeof(float));
            else
                memset(img + d * plane, 0, plane * sizeof(float));
        }
        if (lab) {
            if (inside && s->labels)
                memcpy(lab + d * plane, s->labels + src * plane, plane);
            else
                memset(lab + d * plane, 0, plane);
        }
    }
}
