/* Largest connected component of the heart or of each structure (see postprocess.h). */
#include "spikeunet/postprocess.h"

#include <stdlib.h>

/* voxel label l belongs to what is being filled: class c, or any structure for c = 0 */
#define IN(l, c) ((c) ? (l) == (c) : (l) != 0)

/* Flood fill of class c (0: any structure) from voxel start, marking comp[] = id; returns the component's
 * size. queue: room for every voxel. */
static long fill(const uint8_t *labels, int32_t *comp, int32_t *queue, int nx, int ny, int nz, long start, uint8_t c,
                 int32_t id) {
    long head = 0, tail = 0;
    comp[start] = id;
    queue[tail++] = (int32_t)start;
    const long plane = (long)nx * ny;
    while (head < tail) {
        long v = queue[head++];
        int z = (int)(v / plane), y = (int)(v % plane / nx), x = (int)(v % nx);
        for (int dz = -1; dz <= 1; dz++) {
            if (z + dz < 0 || z + dz >= nz) continue;
            for (int dy = -1; dy <= 1; dy++) {
                if (y + dy < 0 || y + dy >= ny) continue;
                for (int dx = -1; dx <= 1; dx++) {
                    if (x + dx < 0 || x + dx >= nx) continue;
                    long u = v + dz * plane + (long)dy * nx + dx;
                    if (IN(labels[u], c) && comp[u] == 0) {
                        comp[u] = id;
                        queue[tail++] = (int32_t)u;
                    }
                }
            }
        }
    }
    return tail;
}

int su_keep_largest_components(uint8_t *labels, int nx, int ny, int nz, int classes, su_keep_mode mode, long *removed,
                               su_error *err) {
    if (removed) *removed = 0;
    if (mode != SU_KEEP_HEART && mode != SU_KEEP_PER_STRUCTURE)
        return su_fail(err, "keep-largest: unknown mode %d", (int)mode);
    if (nx < 1 || ny < 1 || nz < 1 || classes < 1 || classes > 256)
        return su_fail(err, "keep-largest: bad shape %dx%dx%d or class count %d", nx, ny, nz, classes);
    const long n = (long)nx * ny * nz;
    if (n > INT32_MAX) return su_fail(err, "keep-largest: volume of %ld voxels is too large", n);
    int32_t *comp = malloc(sizeof(int32_t) * (size_t)n), *queue = malloc(sizeof(int32_t) * (size_t)n);
    if (!comp || !queue) {
        free(comp), free(queue);
        return su_fail(err, "keep-largest: out of memory for %ld voxels", n);
    }
    long gone = 0;
    /* SU_KEEP_HEART: one pass over "any structure" (c = 0); per structure: one pass per class */
    for (int c = mode == SU_KEEP_HEART ? 0 : 1; c < (mode == SU_KEEP_HEART ? 1 : classes); c++) {
        for (long v = 0; v < n; v++) comp[v] = 0;
        int32_t ids = 0, best = 0;
        long best_size = 0;
        for (long v = 0; v < n; v++)
            if (IN(labels[v], c) && comp[v] == 0) {
                long size = fill(labels, comp, queue, nx, ny, nz, v, (uint8_t)c, ++ids);
                if (size > best_size) best_size = size, best = ids; /* ties: the first found stays */
            }
        for (long v = 0; v < n; v++)
            if (IN(labels[v], c) && comp[v] != best) labels[v] = 0, gone++;
    }
    free(comp), free(queue);
    if (removed) *removed = gone;
    return 0;
}
