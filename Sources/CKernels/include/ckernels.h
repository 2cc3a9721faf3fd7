#ifndef CKERNELS_H
#define CKERNELS_H

/* Elementwise kernels for the networks, with a run-time choice between an AVX2 build of the loop
 * and a baseline (SSE2) build. Floating-point contraction is off, so both builds give the same
 * bits: results do not depend on the CPU. */

/* In-place tanh of n doubles: sign(x) (1 - 2 / (exp(2|x|) + 1)), exp by range reduction and a
 * degree-12 Taylor polynomial (the algorithm of GymLinalg.VectorMath, bit for bit). */
void ck_tanh(double *p, long n);

/* The baseline (SSE2) build, whatever the CPU (for tests). */
void ck_tanh_baseline(double *p, long n);

/* In-place tanh of n floats: the same algorithm in single precision, degree-7 polynomial
 * (absolute error a few float ulps). */
void ck_tanhf(float *p, long n);

/* The baseline build of ck_tanhf, whatever the CPU (for tests). */
void ck_tanhf_baseline(float *p, long n);

/* One Adam step over n parameters: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= step * m / (sqrt(v / c2) + eps). */
void ck_adam(double *p, const double *g, double *m, double *v, long n,
             double b1, double b2, double step, double c2, double eps);

/* dx[i] *= 1 - h[i]^2 (tanh's derivative), single precision. */
void ck_tanh_gradf(float *dx, const float *h, long n);

/* gb[j] += sum over r < rows of dz[r * cols + j], single precision. */
void ck_colsumf(float *gb, const float *dz, long rows, long cols);

/* Sum of x[i]^2 with four partial sums (x[i] into sum i mod 4), returned as (s0 + s1) + (s2 + s3). */
double ck_sumsq(const double *x, long n);

/* 1 when the AVX2 build is used. */
/* ReLU in place; dx[i] = 0 where h[i] <= 0 (single precision). */
void ck_reluf(float *p, long n);
void ck_relu_gradf(float *dx, const float *h, long n);

int ck_uses_avx2(void);

#endif
