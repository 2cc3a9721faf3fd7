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

/* 1 when the AVX2 build is used. */
int ck_uses_avx2(void);

#endif
