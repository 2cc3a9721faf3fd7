#ifndef CGSL_SHIM_H
#define CGSL_SHIM_H

#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_version.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_erf.h>

/* Accessors for things Swift cannot import directly (macros, global generator types). */

static inline const char *cgsl_version(void) { return GSL_VERSION; }

/* Generator types by name; gsl_rng_types_setup() returns a NULL-terminated array. */
static inline const gsl_rng_type *cgsl_rng_type_named(const char *name) {
    const gsl_rng_type **t = gsl_rng_types_setup();
    for (; *t != 0; t++) {
        const char *a = (*t)->name;
        const char *b = name;
        while (*a && *b && *a == *b) { a++; b++; }
        if (*a == 0 && *b == 0) return *t;
    }
    return 0;
}

static inline int cgsl_rng_type_count(void) {
    const gsl_rng_type **t = gsl_rng_types_setup();
    int n = 0;
    for (; *t != 0; t++) n++;
    return n;
}

static inline const char *cgsl_rng_type_name_at(int i) {
    const gsl_rng_type **t = gsl_rng_types_setup();
    return t[i]->name;
}

static inline int cgsl_success(void) { return GSL_SUCCESS; }
static inline int cgsl_edom(void) { return GSL_EDOM; }

#endif
