/* Floats into JSON metadata: the shortest decimal that reads back as the same float, so a config holds
 * "beta":0.95 rather than 0.949999988079071 and still restores the exact value on resume. */
#ifndef SPIKEUNET_JSON_NUM_H
#define SPIKEUNET_JSON_NUM_H

#include <stdio.h>
#include <stdlib.h>

static inline double su_json_float(float x) {
    char buf[32];
    for (int digits = 6; digits <= 9; digits++) { /* 9 significant digits always round-trip a float */
        snprintf(buf, sizeof buf, "%.*g", digits, (double)x);
        double d = strtod(buf, NULL);
        if ((float)d == x) return d;
    }
    return (double)x; /* NaN */
}

#endif
