"""Sequential OPE with SCOPE-RL 0.2.1 on a synthetic logged dataset: TIS, PDIS, SNTIS, SNPDIS, DR, DM,
point estimates and 1,000-resample bootstrap intervals, and the FQE (d3rlpy DiscreteFQE) pipeline.

Data: our own seeded numpy process (not SCOPE-RL's synthetic env, which is a gym env that needs online
rollouts of d3rlpy policies to produce logs). A random finite-horizon tabular MDP with S states and A
actions, drawn from default_rng(seed): d0 ~ Dir(1), P[s,a,:] ~ Dir(1), reward ~ Bernoulli(R[s,a]) with
R ~ U(0,1). Behaviour policy pi_b = 0.5 Dir(1) + 0.5 uniform per state (so pi_b >= 0.5/A); evaluation
policy pi_e(.|s) proportional to pi_b(.|s) exp(z), z ~ N(0, 0.5^2). N trajectories of exactly H steps
(no early termination), gamma = --gamma. The exact time-indexed Q_t of pi_e comes from backward DP.

Timed separately (each once, in this process):
  * point:    <Estimator>().estimate_policy_value(...) for tis, pdis, sntis, snpdis, dr, dm
              (dr and dm given the exact Q_t(s_t, .) per logged row, i.e. a precomputed model);
  * interval: <Estimator>().estimate_interval(ci="bootstrap", n_bootstrap_samples=--boot, alpha=0.05,
              random_state=--seed). SCOPE-RL computes one value per trajectory and resamples those, so the
              unit is the trajectory; for sntis/snpdis the self-normalising denominators are computed once on
              the full sample and NOT recomputed inside each resample;
  * fqe:      the SCOPE-RL FQE path, CreateOPEInput(gamma, device="cpu") with its default FQE model
              (d3rlpy DiscreteFQE, encoder 1 hidden layer of 100, MeanQFunction, lr 1e-4, batch 100,
              target update every 100 steps) on one-hot states: registering the logged dataset (builds the
              d3rlpy MDPDataset), build_and_fit_FQE(n_steps=--fqe-steps), and
              obtain_state_action_value_prediction("fqe") (Q for every logged row and action); then dr and dm
              point + interval with that Q. d3rlpy's FQE bootstraps with the wrapped algorithm's GREEDY action
              (predict_best_action), so it evaluates the greedy policy of the head's base network, not a
              stochastic table; the base network here is an untrained DQN built on the data. The FQE figures
              are timings only; their values are not estimates of J(pi_e).

--write-logs FILE writes the logged data as CSV (trajectory_id, step, state, action, reward, propensity,
eval_prob_of_logged_action; propensities with 17 significant digits) and FILE.mdp.json with the tables,
gamma, the exact Q and the values printed here, so another implementation can time the same data.

Run with OMP_NUM_THREADS=1; torch is set to one thread.
"""
import argparse
import json
import os
import resource
import shutil
import tempfile
import time
import warnings
from importlib import metadata

os.environ.setdefault("TQDM_DISABLE", "1")
warnings.filterwarnings("ignore")

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))  # unused; kept as in the other peer scripts


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_mdp(rng, S, A):
    d0 = rng.dirichlet(np.ones(S))
    P = rng.dirichlet(np.ones(S), size=(S, A))  # (S, A, S)
    R = rng.random((S, A))
    pib = 0.5 * rng.dirichlet(np.ones(A), size=S) + 0.5 / A
    tilt = pib * np.exp(0.5 * rng.standard_normal((S, A)))
    pie = tilt / tilt.sum(axis=1, keepdims=True)
    return d0, P, R, pib, pie


def _cdf(p):
    c = np.cumsum(p, axis=-1)
    c[..., -1] = 1.0
    return c


def sample(rng, n, H, d0, P, R, pib):
    """Per step: n uniforms for a_t, n for r_t, n for s_{t+1}; inverse-CDF draws."""
    S, A = R.shape
    cd0, cpb, cP = _cdf(d0), _cdf(pib), _cdf(P)
    s = np.empty((n, H), dtype=np.int64)
    a = np.empty((n, H), dtype=np.int64)
    r = np.empty((n, H), dtype=np.float64)
    st = (rng.random(n)[:, None] >= cd0[None, :]).sum(axis=1)
    for t in range(H):
        s[:, t] = st
        at = (rng.random(n)[:, None] >= cpb[st]).sum(axis=1)
        a[:, t] = at
        r[:, t] = (rng.random(n) < R[st, at]).astype(np.float64)
        st = (rng.random(n)[:, None] >= cP[st, at]).sum(axis=1)
    return s, a, r


def exact_q(H, gamma, P, R, pi):
    S, A = R.shape
    Q = np.zeros((H, S, A))
    V = np.zeros((H + 1, S))
    for t in range(H - 1, -1, -1):
        Q[t] = R + gamma * P @ V[t + 1]
        V[t] = (pi * Q[t]).sum(axis=1)
    return Q, V


def write_logs(path, s, a, r, pib, pie, meta):
    n, H = s.shape
    tid = np.repeat(np.arange(n), H)
    step = np.tile(np.arange(H), n)
    sf, af = s.reshape(-1), a.reshape(-1)
    with open(path, "w") as f:
        f.write("trajectory_id,step,state,action,reward,propensity,eval_prob_of_logged_action\n")
        chunk = 200_000
        for i in range(0, sf.size, chunk):
            j = slice(i, i + chunk)
            cols = [tid[j], step[j], sf[j], af[j], r.reshape(-1)[j].astype(np.int64)]
            lines = [",".join(map(str, row)) for row in zip(*(c.tolist() for c in cols),
                                                             map(repr, pib[sf[j], af[j]].tolist()),
                                                             map(repr, pie[sf[j], af[j]].tolist()))]
            f.write("\n".join(lines) + "\n")
    with open(path + ".mdp.json", "w") as f:
        json.dump(meta, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-trajectories", type=int, default=100_000)
    ap.add_argument("--horizon", type=int, default=20)
    ap.add_argument("--states", type=int, default=10)
    ap.add_argument("--actions", type=int, default=5)
    ap.add_argument("--gamma", type=float, default=0.95)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fqe-steps", type=int, default=10_000,
                    help="SCOPE-RL's default n_steps; only whole multiples of 10,000 are trained")
    ap.add_argument("--no-fqe", action="store_true")
    ap.add_argument("--write-logs", type=str, default=None, metavar="FILE")
    ap.add_argument("--out", type=str, default=None, help="path of a JSON summary to write")
    a = ap.parse_args()

    import torch
    torch.set_num_threads(1)
    from scope_rl.ope.discrete import (
        DirectMethod, DoublyRobust, PerDecisionImportanceSampling, SelfNormalizedPDIS, SelfNormalizedTIS,
        TrajectoryWiseImportanceSampling)
    rss_import = peak_rss_mb()

    n, H, S, A, g = a.n_trajectories, a.horizon, a.states, a.actions, a.gamma
    t0 = time.perf_counter()
    rng = np.random.default_rng(a.seed)
    d0, P, R, pib, pie = make_mdp(rng, S, A)
    s, act, rew = sample(rng, n, H, d0, P, R, pib)
    Q, V = exact_q(H, g, P, R, pie)
    true_value = float(d0 @ V[0])
    sf = s.reshape(-1)
    tt = np.tile(np.arange(H), n)
    common = dict(step_per_trajectory=H, action=act.reshape(-1), reward=rew.reshape(-1), pscore=pib[sf, act.reshape(-1)],
                  evaluation_policy_action_dist=pie[sf], gamma=g)
    q_exact = Q[tt, sf]  # (n*H, A)
    t_build = time.perf_counter() - t0
    rss_build = peak_rss_mb()

    res = dict(n_trajectories=n, horizon=H, rows=n * H, states=S, actions=A, gamma=g, boot=a.boot, seed=a.seed,
               true_value=true_value, build_seconds=t_build, point_seconds={}, interval_seconds={}, value={},
               interval={}, peak_rss_mb={"after_import": rss_import, "after_build": rss_build})

    if a.write_logs:
        t = time.perf_counter()
        meta = dict(states=S, actions=A, horizon=H, gamma=g, seed=a.seed, n_trajectories=n, d0=d0.tolist(),
                    transition=P.tolist(), reward_mean=R.tolist(), behaviour_policy=pib.tolist(),
                    evaluation_policy=pie.tolist(), exact_q=Q.tolist(), exact_q_layout="[t][s][a]",
                    true_value=true_value, generator="ope_scope_rl.py")
        write_logs(a.write_logs, s, act, rew, pib, pie, meta)
        res["write_logs_seconds"] = time.perf_counter() - t

    ests = {"tis": (TrajectoryWiseImportanceSampling(), {}), "pdis": (PerDecisionImportanceSampling(), {}),
            "sntis": (SelfNormalizedTIS(), {}), "snpdis": (SelfNormalizedPDIS(), {}),
            "dr": (DoublyRobust(), {"state_action_value_prediction": q_exact}),
            "dm": (DirectMethod(), {"state_action_value_prediction": q_exact})}

    def run(tag, est, extra):
        kw = dict(common, **extra)
        t = time.perf_counter()
        v = est.estimate_policy_value(**kw)
        res["point_seconds"][tag] = time.perf_counter() - t
        res["value"][tag] = float(v)
        t = time.perf_counter()
        ci = est.estimate_interval(**kw, alpha=0.05, ci="bootstrap", n_bootstrap_samples=a.boot,
                                   random_state=a.seed)
        res["interval_seconds"][tag] = time.perf_counter() - t
        res["interval"][tag] = [float(x) for x in ci.values()]  # mean, lower, upper

    for tag, (est, extra) in ests.items():
        run(tag, est, extra)
    res["peak_rss_mb"]["after_estimators"] = peak_rss_mb()
    res["point_seconds_total_6"] = sum(res["point_seconds"].values())
    res["interval_seconds_total_6"] = sum(res["interval_seconds"].values())

    if not a.no_fqe:
        import d3rlpy
        from d3rlpy.algos import DQNConfig
        from scope_rl.ope import CreateOPEInput
        from scope_rl.policy import OnlineHead
        logged = dict(behavior_policy="pi_b", dataset_id=0, action_type="discrete", n_actions=A, action_dim=None,
                      state_dim=S, n_trajectories=n, step_per_trajectory=H,
                      state=np.eye(S, dtype=np.float32)[sf], action=act.reshape(-1), reward=rew.reshape(-1),
                      pscore=common["pscore"], done=np.tile(np.eye(H)[H - 1], n), terminal=np.zeros(n * H))
        cwd, tmp = os.getcwd(), tempfile.mkdtemp(prefix="scope_rl_fqe_")
        os.chdir(tmp)  # d3rlpy writes d3rlpy_logs/ into the working directory
        try:
            d3rlpy.seed(a.seed)
            inp = CreateOPEInput(env=None, gamma=g, device="cpu:0")
            t = time.perf_counter()
            inp._register_logged_dataset(logged)  # what obtain_whole_inputs does first
            res["fqe_register_dataset_seconds"] = time.perf_counter() - t
            base = DQNConfig().create(device="cpu:0")
            base.build_with_dataset(inp.mdp_dataset)
            head = OnlineHead(base_policy=base, name="pi_e")
            t = time.perf_counter()
            inp.build_and_fit_FQE(head, n_steps=a.fqe_steps)
            res["fqe_fit_seconds"] = time.perf_counter() - t
            # d3rlpy's fit runs n_steps // n_steps_per_epoch whole epochs and SCOPE-RL leaves
            # n_steps_per_epoch at 10,000, so fewer than 10,000 steps train nothing
            res["fqe_steps"] = a.fqe_steps
            res["fqe_steps_trained"] = (a.fqe_steps // 10_000) * 10_000
            res["fqe_steps_per_second"] = res["fqe_steps_trained"] / res["fqe_fit_seconds"]
            t = time.perf_counter()
            q_fqe = inp.obtain_state_action_value_prediction("fqe", head)
            res["fqe_predict_seconds"] = time.perf_counter() - t
        finally:
            os.chdir(cwd)
            shutil.rmtree(tmp, ignore_errors=True)
        res["peak_rss_mb"]["after_fqe"] = peak_rss_mb()
        run("dr_fqe", DoublyRobust(), {"state_action_value_prediction": q_fqe})
        run("dm_fqe", DirectMethod(), {"state_action_value_prediction": q_fqe})
        res["fqe_pipeline_seconds"] = (res["fqe_register_dataset_seconds"] + res["fqe_fit_seconds"]
                                       + res["fqe_predict_seconds"])
    res["peak_rss_mb"]["final"] = peak_rss_mb()
    res["versions"] = {p: metadata.version(p) for p in ("scope-rl", "d3rlpy", "torch", "numpy")}
    res["torch_threads"] = torch.get_num_threads()
    res["omp_num_threads"] = os.environ.get("OMP_NUM_THREADS")
    print("RESULT " + json.dumps(res), flush=True)
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
