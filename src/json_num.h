/* Numbers (and optional strings) in the JSON metadata of checkpoints (model configuration, training state).
 * Floats are written as the shortest decimal that reads back as the same float, so a config holds
 * "beta":0.95 rather than 0.949999988079071 and still restores the exact value on resume. */
#ifndef SPIKEUNET_JSON_NUM_H
#define SPIKEUNET_JSON_NUM_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "spikeunet/error.h"

static inline double su_json_float(float x) {
    char buf[32];
    for (int digits = 6; digits <= 9; digits++) { /* 9 significant digits always round-trip a float */
        snprintf(buf, sizeof buf, "%.*g", digits, (double)x);
        double d = strtod(buf, NULL);
        if ((float)d == x) return d;
    }
    return (double)x; /* NaN */
}

/* o[key] as a number; fails with "<what>: '<key>' missing or not a number". */
static inline int su_json_number(const cJSON *o, const char *key, const char *what, double *v, su_error *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(it)) return su_fail(err, "%s: '%s' missing or not a number", what, key);
    *v = it->valuedouble;
    return 0;
}

/* o[key] copied into dst (size bytes), or "" when it is missing or not a string (optional fields). */
static inline void su_json_string(char *dst, size_t size, const cJSON *o, const char *key) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    snprintf(dst, size, "%s", cJSON_IsString(it) ? it->valuestring : "");
}

#endif
