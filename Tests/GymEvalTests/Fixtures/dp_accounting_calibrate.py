"""Deliverable 1c: noise calibration with dp-accounting (RdpAccountant, default orders).

For each (target_eps, steps, q), find sigma such that RDP epsilon(delta=1e-5) == target.
Two methods:
  (A) dp_accounting.calibrate_dp_mechanism (library routine), tol=1e-7 (absolute on sigma)
  (B) own bisection on sigma to relative width 1e-12 returning the upper end (eps <= target)
Output: dpacc_calibrate.csv
"""
import csv
import os

from dp_accounting import dp_event
import dp_accounting
from dp_accounting.rdp import rdp_privacy_accountant as rpa

OUT = os.path.dirname(os.path.abspath(__file__))
DELTA = 1e-5


def event(sigma, q, steps):
    g = dp_event.GaussianDpEvent(sigma)
    base = g if q == 1.0 else dp_event.PoissonSampledDpEvent(q, g)
    return dp_event.SelfComposedDpEvent(base, steps)


def eps_of(sigma, q, steps):
    acc = rpa.RdpAccountant()
    acc.compose(event(sigma, q, steps))
    return acc.get_epsilon(DELTA)


def bisect(target, q, steps):
    lo, hi = 1e-3, 1.0
    while eps_of(hi, q, steps) > target:
        lo, hi = hi, hi * 2
    while (hi - lo) / hi > 1e-12:
        mid = 0.5 * (lo + hi)
        if eps_of(mid, q, steps) > target:
            lo = mid
        else:
            hi = mid
    return hi


def main():
    rows = []
    for target in [1.0, 3.0, 8.0]:
        for steps in [1, 100, 1000]:
            for q in [0.01, 1.0]:
                s_lib = dp_accounting.calibrate_dp_mechanism(
                    rpa.RdpAccountant,
                    lambda s, q=q, steps=steps: event(s, q, steps),
                    target, DELTA, tol=1e-7)
                s_bis = bisect(target, q, steps)
                e_lib = eps_of(s_lib, q, steps)
                e_bis = eps_of(s_bis, q, steps)
                rows.append((target, steps, q, DELTA, s_lib, e_lib, s_bis, e_bis))
                print(target, steps, q, repr(s_lib), repr(e_lib), repr(s_bis), repr(e_bis), flush=True)
    with open(os.path.join(OUT, "dpacc_calibrate.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["target_epsilon", "steps", "q", "delta", "sigma_calibrate_dp_mechanism",
                    "epsilon_at_that_sigma", "sigma_bisection_rel1e-12", "epsilon_at_bisection_sigma"])
        for r in rows:
            w.writerow([repr(x) for x in r])


if __name__ == "__main__":
    main()
