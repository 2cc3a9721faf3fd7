"""The Open Bandit Pipeline's side of the OBD agreement figures in docs/ope.md.

`optima-gym ope obd` runs the Open Bandit Dataset experiment of Saito et al. (2021) on the small OBD
sample; docs/ope.md compares its estimates with OBP 0.5.7's. This script produces OBP's figures:

  for each campaign (all, men, women):
    direction A: the prior-only Bernoulli TS (ZOZOTOWN prior) estimated from the Random logs;
                 its action distribution comes from OBP's Monte Carlo simulation,
                 BernoulliTS(n_actions, len_list=3, is_zozotown_prior=True, campaign=c,
                 random_state=SEED).compute_batch_action_dist(n_sim=N_SIM) (N_SIM 10^7 by default;
                 --n-sim lowers it for a quick run: the estimates then carry simulation noise);
    direction B: the uniform random policy (obp.policy.Random) estimated from the BTS logs;
  estimators DM, IPW, SNIPW, DR, SNDR (SelfNormalizedDoublyRobust), SwitchDR (lambda 100), through
  obp.ope.OffPolicyEvaluation; reward model RegressionModel(base_model=LogisticRegression(C=100,
  max_iter=10000), action_context = the dataset's item features), fit_predict(n_folds=3,
  random_state=SEED); data OpenBanditDataset(behavior_policy, campaign, data_path=DATA).

The truth of each direction is the evaluated policy's on-policy value: the mean click of its own
logs (OpenBanditDataset.calc_on_policy_policy_value_estimate). Note that in direction A the truth
comes from the production BTS, whose parameters moved during the week, not from the prior-only BTS
that is evaluated (see docs/ope.md).

Prints a table (campaign, direction, estimator, value, truth, relative error) and, with --out,
writes it as CSV. The data is data/obd in the repository (scripts/get-obd.sh fetches it) unless
--data is given.

Run from the repository root (install steps in bench/peers/README.md):
  OMP_NUM_THREADS=1 .build-peers/venv/bin/python bench/peers/obp_obd_experiment.py --out obp_obd.csv
  OMP_NUM_THREADS=1 .build-peers/venv/bin/python bench/peers/obp_obd_experiment.py --n-sim 100000   # quick
The default n_sim of 10^7 runs OBP's per-draw Python loop 10^7 times per campaign: expect of the
order of 10-15 minutes per campaign on one core.
"""
import argparse
import csv
import os
import sys
import time

import numpy as np
import yaml
from sklearn.linear_model import LogisticRegression

import obp
from obp.dataset import OpenBanditDataset
from obp.ope import (
    DirectMethod,
    DoublyRobust,
    InverseProbabilityWeighting,
    OffPolicyEvaluation,
    RegressionModel,
    SelfNormalizedDoublyRobust,
    SelfNormalizedInverseProbabilityWeighting,
    SwitchDoublyRobust,
)
from obp.policy import BernoulliTS, Random
from obp.policy import contextfree as obp_contextfree

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DATA = os.path.join(REPO, "data", "obd")
CAMPAIGNS = ("all", "men", "women")
LEN_LIST = 3
# (OBP's estimator_name, the name printed here)
ESTIMATORS = [("dm", "DM"), ("ipw", "IPW"), ("snipw", "SNIPW"), ("dr", "DR"), ("sndr", "SNDR"),
              ("switch-dr", "SwitchDR")]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def check_prior(data, campaign):
    """BernoulliTS(is_zozotown_prior=True) reads the prior shipped inside obp; make sure it is the
    prior_bts.yaml of the data folder, which optima-gym reads."""
    path = os.path.join(data, "prior_bts.yaml")
    if not os.path.isfile(path):
        log(f"note: {path} not found; using obp's own copy of the ZOZOTOWN prior")
        return
    with open(path, "rb") as f:
        ours = yaml.safe_load(f)[campaign]
    theirs = obp_contextfree.production_prior_for_bts[campaign]
    for k in ("alpha", "beta"):
        if not np.array_equal(np.asarray(ours[k], float), np.asarray(theirs[k], float)):
            sys.exit(f"obp_obd_experiment: obp's ZOZOTOWN prior ({k}, {campaign}) differs from {path}")


def reward_model_predictions(dataset, feedback, seed):
    model = RegressionModel(
        n_actions=dataset.n_actions,
        len_list=dataset.len_list,
        action_context=dataset.action_context,
        base_model=LogisticRegression(C=100, max_iter=10000),
    )
    return model.fit_predict(
        context=feedback["context"],
        action=feedback["action"],
        reward=feedback["reward"],
        position=feedback["position"],
        pscore=feedback["pscore"],
        n_folds=3,
        random_state=seed,
    )


def weight_diagnostics(feedback, action_dist):
    n = feedback["n_rounds"]
    pi_e = action_dist[np.arange(n), feedback["action"], feedback["position"]]
    w = pi_e / feedback["pscore"]
    return float(w.sum() ** 2 / (w ** 2).sum()), float(w.max())


def run_direction(campaign, direction, data, seed, n_sim, switch_lambda):
    behavior = "random" if direction == "A" else "bts"
    evaluated = "bts" if direction == "A" else "random"
    t0 = time.perf_counter()
    dataset = OpenBanditDataset(behavior_policy=behavior, campaign=campaign, data_path=data)
    feedback = dataset.obtain_batch_bandit_feedback()
    n, n_actions = feedback["n_rounds"], dataset.n_actions
    assert dataset.len_list == LEN_LIST, dataset.len_list

    if direction == "A":
        check_prior(data, campaign)
        policy = BernoulliTS(n_actions=n_actions, len_list=LEN_LIST, is_zozotown_prior=True,
                             campaign=campaign, random_state=seed)
        log(f"{campaign}/A: simulating the prior-only BTS, n_sim={n_sim:,}")
        t_sim = time.perf_counter()
        action_dist = policy.compute_batch_action_dist(n_rounds=n, n_sim=n_sim)
        log(f"{campaign}/A: simulation took {time.perf_counter() - t_sim:.1f} s")
    else:
        action_dist = Random(n_actions=n_actions, len_list=LEN_LIST, random_state=seed) \
            .compute_batch_action_dist(n_rounds=n)

    log(f"{campaign}/{direction}: fitting the reward model (3 folds) on the {behavior} logs")
    q_hat = reward_model_predictions(dataset, feedback, seed)
    ope = OffPolicyEvaluation(
        bandit_feedback=feedback,
        ope_estimators=[
            DirectMethod(),
            InverseProbabilityWeighting(),
            SelfNormalizedInverseProbabilityWeighting(),
            DoublyRobust(),
            SelfNormalizedDoublyRobust(),
            SwitchDoublyRobust(lambda_=switch_lambda),
        ],
    )
    values = ope.estimate_policy_values(action_dist=action_dist, estimated_rewards_by_reg_model=q_hat)
    truth = float(OpenBanditDataset.calc_on_policy_policy_value_estimate(
        behavior_policy=evaluated, campaign=campaign, data_path=data))
    ess, max_w = weight_diagnostics(feedback, action_dist)
    label = "BTS from Random logs" if direction == "A" else "Random from BTS logs"
    log(f"{campaign}/{direction}: {label}: n={n}, truth {truth:.6f}, ESS {ess:.0f}, max weight {max_w:.1f}, "
        f"{time.perf_counter() - t0:.1f} s")
    rows = []
    for key, name in ESTIMATORS:
        v = float(values[key])
        rows.append(dict(campaign=campaign, direction=direction, description=label, estimator=name,
                         value=v, truth=truth, relative_error=abs(v - truth) / truth,
                         n_rounds=n, n_sim=n_sim if direction == "A" else "", seed=seed))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help="the OBD sample folder (<policy>/<campaign>/<campaign>.csv, prior_bts.yaml); "
                         "default: data/obd in the repository")
    ap.add_argument("--campaigns", default=",".join(CAMPAIGNS), help="comma-separated, of all,men,women")
    ap.add_argument("--directions", default="A,B", help="A: BTS from Random logs; B: Random from BTS logs")
    ap.add_argument("--n-sim", type=int, default=10_000_000,
                    help="Monte Carlo draws for the BTS action distribution (default 10^7)")
    ap.add_argument("--seed", type=int, default=12345,
                    help="random_state of fit_predict's folds and of BernoulliTS (default 12345)")
    ap.add_argument("--switch-lambda", type=float, default=100.0)
    ap.add_argument("--out", default=None, help="write the table as CSV to this file")
    a = ap.parse_args()

    campaigns = [c for c in a.campaigns.split(",") if c]
    directions = [d.strip().upper() for d in a.directions.split(",") if d.strip()]
    if any(c not in CAMPAIGNS for c in campaigns) or any(d not in ("A", "B") for d in directions):
        ap.error("campaigns are all, men, women; directions are A, B")
    for c in campaigns:
        for p in ("random", "bts"):
            f = os.path.join(a.data, p, c, f"{c}.csv")
            if not os.path.isfile(f):
                sys.exit(f"obp_obd_experiment: {f} not found; fetch the sample with scripts/get-obd.sh "
                         "or pass --data DIR")

    log(f"obp {obp.__version__}, numpy {np.__version__}, data {os.path.abspath(a.data)}")
    rows = []
    for c in campaigns:
        for d in directions:
            rows += run_direction(c, d, a.data, a.seed, a.n_sim, a.switch_lambda)

    print(f"{'campaign':<8} {'direction':<9} {'estimator':<9} {'value':>10} {'truth':>10} {'rel.error':>9}")
    for r in rows:
        print(f"{r['campaign']:<8} {r['direction']:<9} {r['estimator']:<9} {r['value']:>10.6f} "
              f"{r['truth']:>10.6f} {r['relative_error']:>9.3f}")
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in r.items()})
        log(f"wrote {a.out}")


if __name__ == "__main__":
    main()
