/* postprocess: the largest connected component per structure, on hand-built label maps. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "spikeunet/postprocess.h"

#define NX 6
#define NY 5
#define NZ 3
#define AT(v, x, y, z) (v)[((z) * NY + (y)) * NX + (x)]

static long count(const uint8_t *v, uint8_t c) {
    long k = 0;
    for (int i = 0; i < NX * NY * NZ; i++) k += v[i] == c;
    return k;
}

/* RV: a 4-voxel bar in slice 0 continued diagonally (corner contact only) into slice 1 -> one component
 * of 5, kept; plus a 2-voxel blob far away -> removed. MYO: two blobs of 3 and 3 -> the first found stays.
 * LV: one voxel -> kept. Background and the other classes untouched. */
static void test_hand(void) {
    uint8_t *v = calloc(NX * NY * NZ, 1);
    for (int x = 0; x < 4; x++) AT(v, x, 0, 0) = 1;
    AT(v, 4, 1, 1) = 1;             /* touches (3,0,0) by a corner only: 26-connectivity joins it */
    AT(v, 0, 4, 2) = AT(v, 1, 4, 2) = 1; /* a stray RV blob */
    AT(v, 0, 2, 0) = AT(v, 1, 2, 0) = AT(v, 2, 2, 0) = 2;
    AT(v, 5, 4, 2) = AT(v, 5, 3, 2) = AT(v, 5, 2, 2) = 2;
    AT(v, 3, 3, 1) = 3;
    long removed = -1;
    su_error err = {{0}};
    CHECK_OK(su_keep_largest_components(v, NX, NY, NZ, 4, SU_KEEP_PER_STRUCTURE, &removed, &err), &err);
    CHECK(removed == 5, "removed %ld voxels, want 2 RV + 3 MYO", removed);
    CHECK(count(v, 1) == 5 && AT(v, 4, 1, 1) == 1 && AT(v, 0, 4, 2) == 0, "RV: bar + diagonal voxel kept, blob gone");
    CHECK(count(v, 2) == 3 && AT(v, 0, 2, 0) == 2 && AT(v, 5, 4, 2) == 0, "MYO: first of two equal blobs kept");
    CHECK(count(v, 3) == 1 && AT(v, 3, 3, 1) == 3, "LV: single voxel kept");
    CHECK(count(v, 0) == NX * NY * NZ - 9, "background gains what was removed");
    /* idempotent: a second pass removes nothing */
    CHECK_OK(su_keep_largest_components(v, NX, NY, NZ, 4, SU_KEEP_PER_STRUCTURE, &removed, &err), &err);
    CHECK(removed == 0, "second pass removed %ld", removed);
    /* an empty map stays empty */
    for (int i = 0; i < NX * NY * NZ; i++) v[i] = 0;
    CHECK_OK(su_keep_largest_components(v, NX, NY, NZ, 4, SU_KEEP_PER_STRUCTURE, &removed, &err), &err);
    CHECK(removed == 0 && count(v, 0) == NX * NY * NZ, "empty map");
    CHECK_FAILS_WITH(su_keep_largest_components(v, 0, NY, NZ, 4, SU_KEEP_PER_STRUCTURE, NULL, &err), &err, "shape");
    CHECK_FAILS_WITH(su_keep_largest_components(v, NX, NY, NZ, 4, (su_keep_mode)0, NULL, &err), &err, "mode");
    free(v);
}

/* Heart mode: structures that touch each other form one component whatever their labels; a blob away
 * from it goes, even a large one of a class the heart lacks. */
static void test_heart(void) {
    uint8_t *v = calloc(NX * NY * NZ, 1);
    AT(v, 1, 1, 0) = 3, AT(v, 2, 1, 0) = 2, AT(v, 3, 2, 1) = 1, AT(v, 3, 3, 1) = 1; /* LV-MYO-RV chain: 4 */
    AT(v, 5, 0, 2) = AT(v, 5, 1, 2) = 2;                                         /* stray MYO: 2, away */
    AT(v, 0, 4, 2) = 1;                                                            /* stray RV: 1 */
    long removed = 0;
    su_error err = {{0}};
    CHECK_OK(su_keep_largest_components(v, NX, NY, NZ, 4, SU_KEEP_HEART, &removed, &err), &err);
    CHECK(removed == 3, "heart mode removed %ld, want 3", removed);
    CHECK(count(v, 1) == 2 && count(v, 2) == 1 && count(v, 3) == 1, "the chain keeps its labels");
    free(v);
}

/* Voxels across the volume's faces are not neighbours: x = 0 and x = NX-1 of the next row are far apart. */
static void test_no_wraparound(void) {
    uint8_t *v = calloc(NX * NY * NZ, 1);
    AT(v, NX - 1, 0, 0) = 1; /* index NX-1; index NX (x=0, y=1) would be adjacent in memory */
    AT(v, 0, 1, 0) = AT(v, 0, 2, 0) = 1;
    long removed = 0;
    su_error err = {{0}};
    CHECK_OK(su_keep_largest_components(v, NX, NY, NZ, 2, SU_KEEP_PER_STRUCTURE, &removed, &err), &err);
    CHECK(removed == 1 && AT(v, NX - 1, 0, 0) == 0 && AT(v, 0, 1, 0) == 1, "row ends do not touch");
    free(v);
}

int main(void) {
    test_hand();
    test_no_wraparound();
    test_heart();
    return check_report("postprocess");
}
