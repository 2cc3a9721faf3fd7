"""The d3rlpy peer of `optima-gym bench cql`: DiscreteCQL (or DiscreteBC) gradient steps per second.

Workload (the same as `bench cql`'s defaults): N = 200,000 logged transitions in episodes of 100 steps
(terminal on each episode's last step), 64-D float32 observations from a per-episode AR(1) process,
10 actions drawn from a softmax behaviour, reward 1 when the action is the best of a fixed linear rule.
The data only has to look like a logged dataset; the figure is training throughput. d3rlpy's own
defaults otherwise (DiscreteCQL: lr 6.25e-5, alpha 1, target update every 8,000 steps; DiscreteBC:
lr 1e-3, beta 0.5), batch --batch, encoder VectorEncoderFactory(--hidden), CPU, one torch thread.

    OMP_NUM_THREADS=1 python offline_rl_d3rlpy.py cql --hidden 256,256 --steps 10000
    OMP_NUM_THREADS=1 python offline_rl_d3rlpy.py cql --hidden 64,64 --steps 10000

Prints one JSON line: steps/s over fit(), the time to build the dataset, peak RSS (MB), versions.
"""
import argparse
import json
import resource
import time
import warnings
from importlib import metadata

import numpy as np

warnings.filterwarnings("ignore")


def logged_data(seed, n, dim, actions, length):
    g = np.random.default_rng(seed)
    wb = g.standard_normal((dim, actions)) / np.sqrt(dim)
    wr = g.standard_normal((dim, actions)) / np.sqrt(dim)
    episodes = -(-n // length)
    x = g.standard_normal((episodes, dim))
    obs = np.empty((episodes, length, dim), dtype=np.float32)
    for t in range(length):
        obs[:, t] = x
        x = 0.9 * x + 0.436 * g.standard_normal((episodes, dim))
    obs = obs.reshape(-1, dim)[:n]
    z = obs.astype(np.float64) @ wb
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    u = g.random(n)
    act = (u[:, None] > np.cumsum(p, axis=1)[:, :-1]).sum(axis=1)
    rew = (act == (obs.astype(np.float64) @ wr).argmax(axis=1)).astype(np.float32)
    term = np.zeros(n, dtype=np.float32)
    term[length - 1::length] = 1
    term[-1] = 1
    return obs, act.astype(np.int64), rew, term


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("algo", choices=["cql", "bc"])
    ap.add_argument("--transitions", type=int, default=200_000)
    ap.add_argument("--obs-dim", type=int, default=64)
    ap.add_argument("--actions", type=int, default=10)
    ap.add_argument("--episode-length", type=int, default=100)
    ap.add_argument("--hidden", default="256,256")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    import torch
    torch.set_num_threads(1)
    import d3rlpy
    from d3rlpy.algos import DiscreteBCConfig, DiscreteCQLConfig
    from d3rlpy.dataset import MDPDataset
    from d3rlpy.logging import NoopAdapterFactory
    from d3rlpy.models.encoders import VectorEncoderFactory

    obs, act, rew, term = logged_data(a.seed, a.transitions, a.obs_dim, a.actions, a.episode_length)
    t = time.perf_counter()
    ds = MDPDataset(observations=obs, actions=act, rewards=rew, terminals=term,
                    action_space=d3rlpy.ActionSpace.DISCRETE, action_size=a.actions)
    dataset_s = time.perf_counter() - t
    enc = VectorEncoderFactory(hidden_units=[int(h) for h in a.hidden.split(",")])
    d3rlpy.seed(a.seed)
    config = DiscreteCQLConfig if a.algo == "cql" else DiscreteBCConfig
    algo = config(batch_size=a.batch, encoder_factory=enc).create(device="cpu:0")
    algo.build_with_dataset(ds)
    t = time.perf_counter()
    algo.fit(ds, n_steps=a.steps, n_steps_per_epoch=a.steps, show_progress=False,
             logger_adapter=NoopAdapterFactory(), save_interval=10**9)
    fit_s = time.perf_counter() - t
    print(json.dumps(dict(algo=a.algo, hidden=a.hidden, batch=a.batch, steps=a.steps, transitions=a.transitions,
                          fit_seconds=round(fit_s, 3), steps_per_second=round(a.steps / fit_s, 1),
                          dataset_seconds=round(dataset_s, 3),
                          peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                          versions={p: metadata.version(p) for p in ("d3rlpy", "torch", "numpy")})), flush=True)


if __name__ == "__main__":
    main()
