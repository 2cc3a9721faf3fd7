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

/* Single precision: the same algorithm in float, with a degree-7 polynomial (truncation error
 * (ln2/2)^8 / 8! = 5e-9, below float's half-ulp 6e-8) and inputs clamped to 2|x| <= 80 (tanh is
 * 1 in float long before that, and 2^80 keeps e + 1 finite). */
static const float shifterf = 12582912.0f; /* 1.5 * 2^23 */

#define CK_TANHF_BODY                                                                  \
    for (long i = 0; i < n; i++) {                                                     \
        float x = p[i];                                                                \
        float ax = x < 0 ? -x : x;                                                     \
        float xc = 2 * ax;                                                             \
        xc = xc > 80.0f ? 80.0f : xc;                                                  \
        float t = xc * 1.44269504f + shifterf;                                         \
        float k = t - shifterf;                                                        \
        float r = xc - k * 0.693145751953125f - k * 1.428606765330187e-06f;            \
        float q = 1.0f / 5040.0f;                                                      \
        q = q * r + 1.0f / 720.0f;                                                     \
        q = q * r + 1.0f / 120.0f;                                                     \
        q = q * r + 1.0f / 24.0f;                                                      \
        q = q * r + 1.0f / 6.0f;                                                       \
        q = q * r + 0.5f;                                                              \
        q = q * r + 1.0f;                                                              \
        q = q * r + 1.0f;                                                              \
        int32_t tb, sb;                                                                \
        memcpy(&tb, &t, 4);                                                            \
        memcpy(&sb, &shifterf, 4);                                                     \
        int32_t sc = (int32_t)((uint32_t)(tb - sb + 127) << 23);                       \
        float scale;                                                                   \
        memcpy(&scale, &sc, 4);                                                        \
        float e = q * scale;                                                           \
        float th = 1 - 2 / (e + 1);                                                    \
        p[i] = x < 0 ? -th : th;                                                       \
    }

__attribute__((target("avx2")))
static void tanhf_avx2(float *restrict p, long n) { CK_TANHF_BODY }

static void tanhf_generic(float *restrict p, long n) { CK_TANHF_BODY }

void ck_tanhf(float *p, long n) {
    if (ck_uses_avx2()) tanhf_avx2(p, n); else tanhf_generic(p, n);
}

void ck_tanhf_baseline(float *p, long n) { tanhf_generic(p, n); }

/* Adam over a flat vector (same operation order as the Swift reference, contraction off; sqrt and
 * division are correctly rounded, so the AVX2 and baseline builds agree bit for bit). */
#define CK_ADAM_BODY                                                                   \
    for (long i = 0; i < n; i++) {                                                     \
        double gi = g[i];                                                              \
        double mi = b1 * m[i] + (1 - b1) * gi;                                         \
        double vi = b2 * v[i] + (1 - b2) * gi * gi;                                    \
        m[i] = mi;                                                                     \
        v[i] = vi;                                                                     \
        p[i] -= step * mi / (__builtin_sqrt(vi / c2) + eps);                           \
    }

__attribute__((target("avx2")))
static void adam_avx2(double *restrict p, const double *restrict g, double *restrict m, double *restrict v, long n,
                      double b1, double b2, double step, double c2, double eps) { CK_ADAM_BODY }

static void adam_generic(double *restrict p, const double *restrict g, double *restrict m, double *restrict v, long n,
                         double b1, double b2, double step, double c2, double eps) { CK_ADAM_BODY }

void ck_adam(double *p, const double *g, double *m, double *v, long n,
             double b1, double b2, double step, double c2, double eps) {
    if (ck_uses_avx2()) adam_avx2(p, g, m, v, n, b1, b2, step, c2, eps);
    else adam_generic(p, g, m, v, n, b1, b2, step, c2, eps);
}

/* Backward helpers in single precision: dx *= 1 - h^2, and gb[j] += sum over rows of dz[r][j]. */
#define CK_TANH_GRADF_BODY for (long i = 0; i < n; i++) dx[i] *= 1 - h[i] * h[i];
#define CK_COLSUMF_BODY for (long r = 0; r < rows; r++) for (long j = 0; j < cols; j++) gb[j] += dz[r * cols + j];

__attribute__((target("avx2")))
static void tanh_gradf_avx2(float *restrict dx, const float *restrict h, long n) { CK_TANH_GRADF_BODY }
static void tanh_gradf_generic(float *restrict dx, const float *restrict h, long n) { CK_TANH_GRADF_BODY }
void ck_tanh_gradf(float *dx, const float *h, long n) {
    if (ck_uses_avx2()) tanh_gradf_avx2(dx, h, n); else tanh_gradf_generic(dx, h, n);
}

__attribute__((target("avx2")))
static void colsumf_avx2(float *restrict gb, const float *restrict dz, long rows, long cols) { CK_COLSUMF_BODY }
static void colsumf_generic(float *restrict gb, const float *restrict dz, long rows, long cols) { CK_COLSUMF_BODY }
void ck_colsumf(float *gb, const float *dz, long rows, long cols) {
    if (ck_uses_avx2()) colsumf_avx2(gb, dz, rows, cols); else colsumf_generic(gb, dz, rows, cols);
}

#define CK_SUMSQ_BODY                                                                  \
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                             \
    long i = 0;                                                                        \
    for (; i + 4 <= n; i += 4) {                                                       \
        s0 += x[i] * x[i]; s1 += x[i + 1] * x[i + 1];                                  \
        s2 += x[i + 2] * x[i + 2]; s3 += x[i + 3] * x[i + 3];                          \
    }                                                                                  \
    if (i < n) s0 += x[i] * x[i];                                                      \
    if (i + 1 < n) s1 += x[i + 1] * x[i + 1];                                          \
    if (i + 2 < n) s2 += x[i + 2] * x[i + 2];                                          \
    return (s0 + s1) + (s2 + s3);

__attribute__((target("avx2")))
static double sumsq_avx2(const double *restrict x, long n) { CK_SUMSQ_BODY }
static double sumsq_generic(const double *restrict x, long n) { CK_SUMSQ_BODY }
double ck_sumsq(const double *x, long n) { return ck_uses_avx2() ? sumsq_avx2(x, n) : sumsq_generic(x, n); }

/* ReLU in place and its gradient (dx = 0 where h <= 0), single precision: the same results as the
   scalar loops they replace (a negative value becomes 0, anything else is kept, -0 included). */
#define CK_RELUF_BODY for (long i = 0; i < n; i++) p[i] = p[i] < 0 ? 0.0f : p[i];
#define CK_RELU_GRADF_BODY for (long i = 0; i < n; i++) dx[i] = h[i] <= 0 ? 0.0f : dx[i];
__attribute__((target("avx2")))
static void reluf_avx2(float *restrict p, long n) { CK_RELUF_BODY }
static void reluf_generic(float *restrict p, long n) { CK_RELUF_BODY }
void ck_reluf(float *p, long n) {
    if (ck_uses_avx2()) reluf_avx2(p, n); else reluf_generic(p, n);
}
__attribute__((target("avx2")))
static void relu_gradf_avx2(float *restrict dx, const float *restrict h, long n) { CK_RELU_GRADF_BODY }
static void relu_gradf_generic(float *restrict dx, const float *restrict h, long n) { CK_RELU_GRADF_BODY }
void ck_relu_gradf(float *dx, const float *h, long n) {
    if (ck_uses_avx2()) relu_gradf_avx2(dx, h, n); else relu_gradf_generic(dx, h, n);
}
