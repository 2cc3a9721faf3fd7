"""Epsilon with the RDP at every fractional order below 4 computed by numerical integration
(mpmath, 30 digits) instead of dp-accounting 0.6.0's series; integer and larger orders from
dp-accounting. For the grid cells where our accountant and dp-accounting differ by more than 1%."""
import numpy as np, mpmath as mp
from dp_accounting.rdp import rdp_privacy_accountant as rpa
mp.mp.dps = 30
def rdp_integral(q, sigma, a):
    q = mp.mpf(q); s = mp.mpf(sigma); a = mp.mpf(a)
    f = lambda z: mp.npdf(z, 0, s) * ((1 - q) + q * mp.exp((2 * z - 1) / (2 * s * s))) ** a
    pts = [-mp.inf, -20 * s, -5 * s, 0, mp.mpf(0.5), 5 * s, 20 * s + a * 5, mp.inf]
    return float(mp.log(mp.quad(f, pts)) / (a - 1))
orders = np.array(rpa.DEFAULT_RDP_ORDERS, dtype=float)
print("sigma,steps,q,epsilon_dp_accounting,epsilon_integral_small_orders")
for sigma, q, steps in [(0.5, 0.01, 10000), (0.5, 0.1, 100), (0.5, 0.1, 1000), (0.5, 0.1, 10000), (0.8, 0.1, 1000), (0.8, 0.1, 10000), (1.0, 0.1, 10000), (1.1, 0.1, 10000)]:
    per = rpa._compute_rdp_poisson_subsampled_gaussian(q, sigma, orders)
    fixed = per.copy()
    for i, a in enumerate(orders):
        if a < 4 and a != round(a): fixed[i] = rdp_integral(q, sigma, a)
    e_lib, _ = rpa.compute_epsilon(orders, per * steps, 1e-5)
    e_fix, _ = rpa.compute_epsilon(orders, fixed * steps, 1e-5)
    print(f"{sigma},{steps},{q},{float(e_lib)!r},{float(e_fix)!r}", flush=True)
