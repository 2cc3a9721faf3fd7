"""Deliverable 1a: epsilon grid + per-order RDP with Google's dp-accounting RdpAccountant.

Outputs (in the same directory):
  dpacc_grid_eps.csv       sigma,steps,q,delta,epsilon,opt_order
  dpacc_grid_rdp.csv       per-step and composed RDP at orders 2,4.5,8,32,128
  dpacc_meta.txt           versions, default orders
"""
import csv
import importlib.metadata as md
import os
import sys

import numpy as np
import dp_accounting
from dp_accounting import dp_event
from dp_accounting.rdp import rdp_privacy_accountant as rpa

OUT = os.path.dirname(os.path.abspath(__file__))
DELTA = 1e-5
SIGMAS = [0.5, 0.8, 1.0, 1.1, 2.0, 4.0]
STEPS = [1, 10, 100, 1000, 10000]
QS = [0.001, 0.01, 0.1, 1.0]
CHECK_ORDERS = [2.0, 4.5, 8.0, 32.0, 128.0]


def base_event(q, sigma):
    g = dp_event.GaussianDpEvent(sigma)
    return g if q == 1.0 else dp_event.PoissonSampledDpEvent(q, g)


def main():
    with open(os.path.join(OUT, "dpacc_meta.txt"), "w") as f:
        f.write(f"python {sys.version}\n")
        f.write(f"dp-accounting {md.version('dp-accounting')}\n")
        f.write(f"numpy {np.__version__}\n")
        import scipy
        f.write(f"scipy {scipy.__version__}\n")
        f.write(f"rdp module file {rpa.__file__}\n")
        acc = rpa.RdpAccountant()
        orders = list(acc._orders)
        f.write(f"default orders count {len(orders)}\n")
        f.write("default orders repr " + repr([float(o) for o in orders]) + "\n")
        f.write("DEFAULT_RDP_ORDERS constant " + repr(rpa.DEFAULT_RDP_ORDERS) + "\n")
        f.write(f"default neighboring relation {acc.neighboring_relation}\n")

    # q=1 sanity: PoissonSampledDpEvent(1.0, G) vs GaussianDpEvent directly
    a1 = rpa.RdpAccountant(); a1.compose(dp_event.SelfComposedDpEvent(dp_event.GaussianDpEvent(1.1), 100))
    a2 = rpa.RdpAccountant(); a2.compose(dp_event.SelfComposedDpEvent(
        dp_event.PoissonSampledDpEvent(1.0, dp_event.GaussianDpEvent(1.1)), 100))
    print("q=1 check", repr(a1.get_epsilon(DELTA)), repr(a2.get_epsilon(DELTA)))

    rows = []
    for sigma in SIGMAS:
        for steps in STEPS:
            for q in QS:
                acc = rpa.RdpAccountant()
                acc.compose(dp_event.SelfComposedDpEvent(base_event(q, sigma), steps))
                eps, order = acc.get_epsilon_and_optimal_order(DELTA)
                rows.append((sigma, steps, q, DELTA, float(eps), float(order)))
                print(sigma, steps, q, repr(float(eps)), order, flush=True)
    with open(os.path.join(OUT, "dpacc_grid_eps.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sigma", "steps", "q", "delta", "epsilon", "opt_order"])
        for r in rows:
            w.writerow([repr(x) for x in r])

    # Per-order RDP (custom orders list; same computation path as default orders)
    with open(os.path.join(OUT, "dpacc_grid_rdp.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sigma", "q", "order", "rdp_per_step", "rdp_after_100_steps", "rdp_after_10000_steps"])
        for sigma in SIGMAS:
            for q in QS:
                acc = rpa.RdpAccountant(orders=CHECK_ORDERS)
                acc.compose(base_event(q, sigma), 1)
                acc100 = rpa.RdpAccountant(orders=CHECK_ORDERS)
                acc100.compose(base_event(q, sigma), 100)
                acc1e4 = rpa.RdpAccountant(orders=CHECK_ORDERS)
                acc1e4.compose(dp_event.SelfComposedDpEvent(base_event(q, sigma), 10000))
                for o, r, r100, r1e4 in zip(CHECK_ORDERS, acc._rdp, acc100._rdp, acc1e4._rdp):
                    w.writerow([repr(sigma), repr(q), repr(o), repr(float(r)), repr(float(r100)), repr(float(r1e4))])


if __name__ == "__main__":
    main()
