"""OPE at scale with obp 0.5.7: IPW, SNIPW, DR point estimate + bootstrap interval on n=1M rounds.

Logged data: rows of OBD random/all/all.csv resampled with replacement (seed 0):
action = item_id (0..79), position = position - 1 (file is 1-based: 1,2,3), reward = click,
pscore = propensity_score. Evaluation policy: one fixed 80x3 table (softmax over actions of
N(0,1) logits, seed 1) broadcast to (n, 80, 3) with np.broadcast_to (zero-copy view; obp accepts it),
or materialized with --materialize. DR uses estimated_rewards_by_reg_model = constant mean click
(also a broadcast view unless --materialize).

The OBD sample is read from data/obd in the repository (fetch it with scripts/get-obd.sh), or from
--data DIR. The optima-gym side is `optima-gym bench ope`.

Run from the repository root (install steps in bench/peers/README.md):
  OMP_NUM_THREADS=1 .build-peers/venv/bin/python bench/peers/ope_obp.py ipw --n 1000000 --boot 1000
"""
import argparse, json, os, resource, sys, time
import numpy as np
import pandas as pd
import obp
from obp.ope import InverseProbabilityWeighting, SelfNormalizedInverseProbabilityWeighting, DoublyRobust

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DATA = os.path.join(REPO, "data", "obd")
N_ACTIONS, LEN_LIST = 80, 3


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def build(csv, n, materialize, need_q=True):
    df = pd.read_csv(csv, usecols=["item_id", "position", "click", "propensity_score"])
    assert df.position.min() == 1 and df.position.max() == 3, "position expected 1-based"
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(df), size=n)
    action = df.item_id.to_numpy(np.int64)[idx]
    position = (df.position.to_numpy(np.int64) - 1)[idx]
    reward = df.click.to_numpy(np.int64)[idx]
    pscore = df.propensity_score.to_numpy(np.float64)[idx]
    logits = np.random.default_rng(1).standard_normal((N_ACTIONS, LEN_LIST))
    table = np.exp(logits) / np.exp(logits).sum(axis=0, keepdims=True)  # sums to 1 over actions
    q = float(reward.mean())
    if materialize:
        action_dist = np.ascontiguousarray(np.broadcast_to(table[None], (n, N_ACTIONS, LEN_LIST)))
        q_hat = np.full((n, N_ACTIONS, LEN_LIST), q) if need_q else None
    else:
        action_dist = np.broadcast_to(table[None], (n, N_ACTIONS, LEN_LIST))
        q_hat = np.broadcast_to(np.float64(q), (n, N_ACTIONS, LEN_LIST))
    return dict(reward=reward, action=action, position=position, pscore=pscore,
                action_dist=action_dist), q_hat, table


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("estimator", choices=["ipw", "snipw", "dr"])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--materialize", action="store_true")
    ap.add_argument("--no-interval", action="store_true")
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help="the OBD sample folder (<policy>/<campaign>/<campaign>.csv); default: data/obd in the repository")
    a = ap.parse_args()
    csv = os.path.join(a.data, "random", "all", "all.csv")
    if not os.path.isfile(csv):
        sys.exit(f"ope_obp: {csv} not found; fetch the sample with scripts/get-obd.sh or pass --data DIR")

    rss_import = peak_rss_mb()
    t0 = time.perf_counter()
    kw, q_hat, table = build(csv, a.n, a.materialize, need_q=(a.estimator == "dr"))
    t_build = time.perf_counter() - t0
    rss_build = peak_rss_mb()
    est = {"ipw": InverseProbabilityWeighting(), "snipw": SelfNormalizedInverseProbabilityWeighting(),
           "dr": DoublyRobust()}[a.estimator]
    if a.estimator == "dr":
        kw["estimated_rewards_by_reg_model"] = q_hat

    t1 = time.perf_counter()
    v = est.estimate_policy_value(**kw)
    t_point = time.perf_counter() - t1
    rss_point = peak_rss_mb()

    res = dict(estimator=a.estimator, n=a.n, materialize=a.materialize, build_seconds=t_build,
               point_seconds=t_point, value=float(v),
               peak_rss_mb_after_import=rss_import, peak_rss_mb_after_build=rss_build, peak_rss_mb_after_point=rss_point)
    if not a.no_interval:
        t2 = time.perf_counter()
        ci = est.estimate_interval(**kw, n_bootstrap_samples=a.boot, random_state=12345)
        t_int = time.perf_counter() - t2
        res.update(boot=a.boot, interval_seconds=t_int, interval={k: float(x) for k, x in ci.items()},
                   peak_rss_mb_after_interval=peak_rss_mb())
    res["obp"] = obp.__version__; res["numpy"] = np.__version__
    print("RESULT " + json.dumps(res), flush=True)
