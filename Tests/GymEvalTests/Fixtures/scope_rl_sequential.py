"""Reference values for the sequential off-policy estimators, from SCOPE-RL 0.2.1.

Writes scope_rl_0.2.1_sequential.csv (a trajectory log, rows in a shuffled order) and
scope_rl_0.2.1_sequential.json (the evaluation policy per state, the exact time-indexed Q, the
tabular FQE Q computed here, and SCOPE-RL's estimates). SequentialOPETests reads both.

Data: a random finite-horizon tabular MDP drawn from numpy's default_rng(SEED): d0 ~ Dir(1),
P[s, a, :] ~ Dir(1), rewards ~ N(R[s, a], 1) with R ~ U(0, 1); behaviour pi_b = 0.5 Dir(1) + 0.5
uniform per state; evaluation pi_e proportional to pi_b exp(z), z ~ N(0, 0.5^2). N trajectories of
H steps, gamma 0.9.

The tabular FQE here is the time-indexed certainty-equivalence estimate (backwards from t = H-1:
Q_t(s, a) = mean over logged rows at step t in (s, a) of r + gamma sum_a' pi_e(a'|s') Q_{t+1}(s', a'),
0 for cells without rows). SCOPE-RL's DR and DM (its direct method) are given that Q per logged row,
and also the exact Q.

Run: python3 -m venv v && v/bin/pip install scope-rl==0.2.1 && v/bin/python scope_rl_sequential.py
"""
import json
import warnings

import numpy as np

warnings.filterwarnings("ignore")
SEED, N, H, S, A, GAMMA = 7, 400, 5, 4, 3, 0.9


def main():
    from scope_rl.ope.discrete import (DirectMethod, DoublyRobust, PerDecisionImportanceSampling, SelfNormalizedPDIS,
                                       SelfNormalizedTIS, TrajectoryWiseImportanceSampling)
    rng = np.random.default_rng(SEED)
    d0 = rng.dirichlet(np.ones(S))
    P = rng.dirichlet(np.ones(S), size=(S, A))
    R = rng.random((S, A))
    pib = 0.5 * rng.dirichlet(np.ones(A), size=S) + 0.5 / A
    tilt = pib * np.exp(0.5 * rng.standard_normal((S, A)))
    pie = tilt / tilt.sum(axis=1, keepdims=True)
    s = np.empty((N, H), dtype=np.int64)
    a = np.empty((N, H), dtype=np.int64)
    r = np.empty((N, H))
    st = rng.choice(S, size=N, p=d0)
    for t in range(H):
        s[:, t] = st
        a[:, t] = np.array([rng.choice(A, p=pib[x]) for x in st])
        r[:, t] = R[st, a[:, t]] + rng.standard_normal(N)
        st = np.array([rng.choice(S, p=P[x, y]) for x, y in zip(st, a[:, t])])
    # Exact Q_t of pi_e.
    Qx = np.zeros((H, S, A))
    Vn = np.zeros(S)
    for t in range(H - 1, -1, -1):
        Qx[t] = R + GAMMA * P @ Vn
        Vn = (pie * Qx[t]).sum(axis=1)
    # Tabular certainty-equivalence FQE.
    Qf = np.zeros((H, S, A))
    for t in range(H - 1, -1, -1):
        y = r[:, t].copy()
        if t + 1 < H:
            y += GAMMA * (pie[s[:, t + 1]] * Qf[t + 1][s[:, t + 1]]).sum(axis=1)
        for x in range(S):
            for k in range(A):
                m = (s[:, t] == x) & (a[:, t] == k)
                Qf[t, x, k] = y[m].mean() if m.any() else 0.0
    sf, af, tt = s.reshape(-1), a.reshape(-1), np.tile(np.arange(H), N)
    common = dict(step_per_trajectory=H, action=af, reward=r.reshape(-1), pscore=pib[sf, af],
                  evaluation_policy_action_dist=pie[sf], gamma=GAMMA)
    out = {}
    for name, est in [("tis", TrajectoryWiseImportanceSampling()), ("sntis", SelfNormalizedTIS()),
                      ("pdis", PerDecisionImportanceSampling()), ("snpdis", SelfNormalizedPDIS())]:
        out[name] = float(est.estimate_policy_value(**common))
    for tag, Q in [("exact", Qx), ("fqe", Qf)]:
        q = Q[tt, sf]
        out["dr_" + tag] = float(DoublyRobust().estimate_policy_value(**common, state_action_value_prediction=q))
        out["dm_" + tag] = float(DirectMethod().estimate_policy_value(**common, state_action_value_prediction=q))
    order = rng.permutation(N * H)
    tid = np.repeat(np.arange(N), H)
    with open("scope_rl_0.2.1_sequential.csv", "w") as f:
        f.write("trajectory_id,step,state,action,reward,propensity\n")
        for i in order:
            f.write(f"u{tid[i]},{tt[i]},{sf[i]},{af[i]},{float(r.reshape(-1)[i])!r},{float(pib[sf[i], af[i]])!r}\n")
    with open("scope_rl_0.2.1_sequential.json", "w") as f:
        json.dump(dict(seed=SEED, trajectories=N, horizon=H, states=S, actions=A, gamma=GAMMA,
                       evaluation_policy=pie.tolist(), exact_q=Qx.tolist(), fqe_q=Qf.tolist(), q_layout="[t][s][a]",
                       true_value=float(d0 @ Vn), scope_rl=out), f, indent=1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
