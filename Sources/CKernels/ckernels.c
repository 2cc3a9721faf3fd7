#include "ckernels.h"
#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)

static const double shifter = 6755399441055744.0; /* 1.5 * 2^52 */

#define CK_TANH_BODY                                                                   \
    for (long i = 0; i < n; i++) {                                                     \
        double x = p[i];                                                               \
        double ax = x < 0 ? -x : x;                                                    \
        double xc = 2 * ax;                                                            \
        xc = xc > 700 ? 700 : xc;                                                      \
        double t = xc * 1.4426950408889634 + shifter;                                  \
        double k = t - shifter;                                                        \
        double r = xc - k * 0.6931471803691238 - k * 1.9082149292705877e-10;           \
        double q = 1.0 / 479001600.0;                                                  \
        q = q * r + 1.0 / 39916800.0;                                                  \
        q = q * r + 1.0 / 3628800.0;                                                   \
        q = q * r + 1.0 / 362880.0;                                                    \
        q = q * r + 1.0 / 40320.0;                                                     \
        q = q * r + 1.0 / 5040.0;                                                      \
        q = q * r + 1.0 / 720.0;                                                       \
        q = q * r + 1.0 / 120.0;                                                       \
        q = q * r + 1.0 / 24.0;                                                        \
        q = q * r + 1.0 / 6.0;                                                         \
        q = q * r + 0.5;                                                               \
        q = q * r + 1.0;                                                               \
        q = q * r + 1.0;                                                               \
        int64_t tb, sb;                                                                \
        memcpy(&tb, &t, 8);                                                            \
        memcpy(&sb, &shifter, 8);                                                      \
        int64_t sc = (int64_t)((uint64_t)(tb - sb + 1023) << 52);                      \
        double scale;                                                                  \
        memcpy(&scale, &sc, 8);                                                        \
        double e = q * scale;                                                          \
        double th = 1 - 2 / (e + 1);                                                   \
        p[i] = x < 0 ? -th : th;                                                       \
    }

__attribute__((target("avx2")))
static void tanh_avx2(double *restrict p, long n) { CK_TANH_BODY }

static void tanh_generic(double *restrict p, long n) { CK_TANH_BODY }

static int avx2 = -1;

int ck_uses_avx2(void) {
    if (avx2 < 0) { __builtin_cpu_init(); avx2 = __builtin_cpu_supports("avx2") ? 1 : 0; }
    return avx2;
}

void ck_tanh(double *p, long n) {
    if (ck_uses_avx2()) tanh_avx2(p, n); else tanh_generic(p, n);
}

void ck_tanh_baseline(double *p, long n) { tanh_generic(p, n); }
