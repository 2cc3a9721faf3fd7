"""Persona synthesis with plain numpy (the 'researcher baseline').

Each profile: 5 Beta traits, 16-topic Dirichlet interests, 1 group label of 3,
512-D persona vector v = normalize(W @ z + 0.1 * N(0, I)), z = [traits, interests, onehot(group)] (24-D),
W fixed 512x24 standard Gaussian. Generated in vectorized chunks of 10,000 rows.

Tasks: `synth` (profiles/s), `rng` (raw Gaussian draws/s), `csv` (pandas to_csv of --n profiles with
535 columns; the file is written under .build-peers/out/ in the repository unless --path is given,
and deleted after it is measured). The optima-gym side is `optima-gym bench synth`.

Run from the repository root (install steps in bench/peers/README.md):
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .build-peers/venv/bin/python bench/peers/persona_numpy.py synth --n 1000000
"""
import argparse, json, os, sys, time
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_CSV = os.path.join(REPO, ".build-peers", "out", "personas.csv")

D_TRAITS, D_TOPICS, N_GROUPS, D_VEC = 5, 16, 3, 512
TRAIT_A = np.array([2.0, 5.0, 2.0, 3.0, 1.5])
TRAIT_B = np.array([5.0, 2.0, 2.0, 3.0, 1.5])
TOPIC_ALPHA = np.full(D_TOPICS, 0.5)
GROUP_P = np.array([0.5, 0.3, 0.2])


def make_W(seed=7):
    return np.random.default_rng(seed).standard_normal((D_VEC, D_TRAITS + D_TOPICS + N_GROUPS))


def gen_chunk(rng, m, W, dtype=np.float64):
    traits = rng.beta(TRAIT_A, TRAIT_B, size=(m, D_TRAITS))
    interests = rng.dirichlet(TOPIC_ALPHA, size=m)
    group = rng.choice(N_GROUPS, size=m, p=GROUP_P)
    z = np.concatenate([traits, interests, np.eye(N_GROUPS)[group]], axis=1)  # (m, 24)
    if dtype == np.float64:
        v = z @ W.T
        v += 0.1 * rng.standard_normal((m, D_VEC))
    else:
        v = z.astype(dtype) @ W.T.astype(dtype)
        v += dtype(0.1) * rng.standard_normal((m, D_VEC), dtype=dtype)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return traits, interests, group, v


def run_synth(n, chunk, dtype, seed):
    rng = np.random.default_rng(seed)
    W = make_W()
    checksum = 0.0
    t0 = time.perf_counter()
    done = 0
    while done < n:
        m = min(chunk, n - done)
        traits, interests, group, v = gen_chunk(rng, m, W, dtype)
        checksum += float(v[:, 0].sum()) + float(traits[:, 0].sum()) + int(group.sum())
        done += m
    dt = time.perf_counter() - t0
    return dict(task="synth", n=n, chunk=chunk, dtype=np.dtype(dtype).name, seconds=dt,
                profiles_per_s=n / dt, checksum=checksum)


def run_rng(total, chunk, dtype, seed):
    rng = np.random.default_rng(seed)
    s = 0.0
    t0 = time.perf_counter()
    for _ in range(total // chunk):
        x = rng.standard_normal(chunk, dtype=dtype)
        s += float(x[0])
    dt = time.perf_counter() - t0
    return dict(task="rng", draws=total, chunk=chunk, dtype=np.dtype(dtype).name, seconds=dt,
                draws_per_s=total / dt, checksum=s)


def run_csv(n, chunk, seed, path, float_format):
    import pandas as pd
    rng = np.random.default_rng(seed)
    W = make_W()
    t0 = time.perf_counter()
    parts = []
    done = 0
    while done < n:
        m = min(chunk, n - done)
        parts.append(gen_chunk(rng, m, W))
        done += m
    t_gen = time.perf_counter() - t0
    t1 = time.perf_counter()
    traits = np.concatenate([p[0] for p in parts]); interests = np.concatenate([p[1] for p in parts])
    group = np.concatenate([p[2] for p in parts]); v = np.concatenate([p[3] for p in parts])
    cols = {"id": np.arange(n), "group": group}
    cols.update({f"trait_{i}": traits[:, i] for i in range(D_TRAITS)})
    cols.update({f"interest_{i}": interests[:, i] for i in range(D_TOPICS)})
    cols.update({f"vec_{i}": v[:, i] for i in range(D_VEC)})
    df = pd.DataFrame(cols)
    t_df = time.perf_counter() - t1
    t2 = time.perf_counter()
    df.to_csv(path, index=False, float_format=float_format)
    t_csv = time.perf_counter() - t2
    size = os.path.getsize(path)
    os.remove(path)
    return dict(task="csv", n=n, columns=df.shape[1], float_format=float_format, gen_seconds=t_gen,
                dataframe_seconds=t_df, to_csv_seconds=t_csv, rows_per_s_csv=n / t_csv, bytes=size,
                MB_per_s=size / 1e6 / t_csv)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=["synth", "rng", "csv"])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=10_000)
    ap.add_argument("--dtype", default="float64")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--float-format", default=None)
    ap.add_argument("--path", default=DEFAULT_CSV, help="CSV written (then deleted) by the csv task")
    a = ap.parse_args()
    dt = np.float32 if a.dtype == "float32" else np.float64
    if a.task == "synth":
        r = run_synth(a.n, a.chunk, dt, a.seed)
    elif a.task == "rng":
        r = run_rng(a.n, a.chunk, dt, a.seed)
    else:
        os.makedirs(os.path.dirname(a.path) or ".", exist_ok=True)
        r = run_csv(a.n, a.chunk, a.seed, a.path, a.float_format)
    r["numpy"] = np.__version__
    if a.task == "csv":
        import pandas as pd
        r["pandas"] = pd.__version__
    print("RESULT " + json.dumps(r), flush=True)
