"""Check of dp-accounting's fractional-order series (_compute_log_a_frac).

dp-accounting 0.6.0 caps the series at 1000 terms and, if it has not converged,
returns inf for that order (logged as "Excluding this order"). This script:
  1. computes the Poisson-subsampled Gaussian RDP directly by numerical integration
     (mpmath, 40 digits):  A_a = E_{z~N(0,s^2)}[((1-q) + q*exp((2z-1)/(2 s^2)))^a],
     rdp = log(A_a)/(a-1)   (Mironov-Talwar-Zhang 2019, Sec. 3.3)
     and compares with the library series at several fractional / integer orders;
  2. for the grid points hit by the non-convergence, recomputes epsilon with the
     excluded orders filled in by the integral, to show how much the excluded orders matter.
Output: dpacc_frac_check.txt
"""
import math
import os

import mpmath as mp
import numpy as np
from dp_accounting.rdp import rdp_privacy_accountant as rpa

OUT = os.path.dirname(os.path.abspath(__file__))
mp.mp.dps = 40
out = open(os.path.join(OUT, "dpacc_frac_check.txt"), "w")


def p(*a):
    s = " ".join(str(x) for x in a)
    print(s, flush=True); out.write(s + "\n")


def rdp_integral(q, sigma, a):
    q = mp.mpf(q); s = mp.mpf(sigma); a = mp.mpf(a)
    f = lambda z: mp.npdf(z, 0, s) * ((1 - q) + q * mp.exp((2 * z - 1) / (2 * s * s))) ** a
    # integrand mass is spread; split the line at several points
    pts = [-mp.inf, -20 * s, -5 * s, 0, mp.mpf(0.5), 5 * s, 20 * s + a * 5, mp.inf]
    A = mp.quad(f, pts)
    return float(mp.log(A) / (a - 1))


def main():
    p("1) series (library) vs integral, per-step RDP")
    for q, sigma in [(0.01, 1.1), (0.1, 1.1), (0.1, 0.5), (0.001, 0.8), (0.1, 2.0)]:
        for a in [1.5, 2.0, 2.5, 4.5, 8.0, 10.7]:
            lib = float(rpa._compute_rdp_poisson_subsampled_gaussian(q, sigma, [a])[0])
            integ = rdp_integral(q, sigma, a)
            p(f"  q={q} sigma={sigma} a={a}: series={lib!r} integral={integ!r} rel={abs(lib-integ)/integ if math.isfinite(lib) else 'inf':}")

    p("2) excluded orders (series did not converge in 1000 terms) filled by the integral")
    orders = np.array(rpa.DEFAULT_RDP_ORDERS, dtype=float)
    for sigma in [0.5, 0.8, 1.0, 1.1]:
        q = 0.1
        per = rpa._compute_rdp_poisson_subsampled_gaussian(q, sigma, orders)
        bad = [i for i in range(len(orders)) if not np.isfinite(per[i])]
        fixed = per.copy()
        for i in bad:
            fixed[i] = rdp_integral(q, sigma, orders[i])
        p(f"  sigma={sigma} q=0.1 excluded orders {[float(orders[i]) for i in bad]}")
        p(f"    integral RDP at those orders: {[fixed[i] for i in bad]}")
        for steps in [1, 10, 100, 1000, 10000]:
            e_lib, o_lib = rpa.compute_epsilon(orders, per * steps, 1e-5)
            e_fix, o_fix = rpa.compute_epsilon(orders, fixed * steps, 1e-5)
            p(f"    steps={steps}: library eps={float(e_lib)!r} (order {o_lib}); with excluded orders filled eps={float(e_fix)!r} (order {o_fix})")


if __name__ == "__main__":
    main()
