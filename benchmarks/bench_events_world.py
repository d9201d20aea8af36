"""Grid DBSCAN vs scikit-learn DBSCAN on a world from ``envtrace.sample`` at scale.

The issue asks for the comparison on complaints generated with ``envtrace.sample --scale``
(dense, realistic: repeat callers, duplicates, bursts at the same address), not only on
uniform synthetic points. For each category with the default parameters, both run on the
same scaled space-time points (``events.spacetime_coordinates``) with ``eps = eps_m`` and
``min_samples = min_complainants`` (every complaint its own complainant, which is exactly
sklearn's ``min_samples``); sklearn runs in a subprocess under a memory limit.

Usage::

    python benchmarks/bench_events_world.py --scale 174 [--sk-mem-gb 12]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

WORK = Path(__file__).resolve().parent / "_work"


def _points(scale: float) -> dict[str, np.ndarray]:
    from envtrace import classify, events, io, sample

    folder = WORK / f"world_scale{scale:g}"
    if not (folder / "complaints.csv").exists():
        sample.generate(0, scale=scale).write(folder)
    ds = io.load_dataset(folder)
    comp = classify.fill_categories(ds.complaints)
    comp = comp[comp["duplicate_of"] == ""]
    out = {}
    for cat, par in events.DEFAULT_PARAMS.items():
        sub = comp[comp["category"] == cat]
        if len(sub) > 1:
            out[cat] = events.spacetime_coordinates(sub, eps_m=par["eps_m"], window_h=par["window_h"])
    return out


def _sklearn(path: str, eps: float, k: int, mem_gb: float) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (int(mem_gb * 2**30),) * 2)
    from sklearn.cluster import DBSCAN

    pts = np.load(path)
    t = time.perf_counter()
    lab = DBSCAN(eps=eps, min_samples=k, algorithm="kd_tree").fit(pts).labels_
    print(json.dumps({"s": time.perf_counter() - t}))
    np.save(path + ".labels.npy", lab)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--sk":
        _sklearn(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=174.0)
    ap.add_argument("--sk-mem-gb", type=float, default=12.0)
    args = ap.parse_args()
    from sklearn.metrics import adjusted_rand_score

    from envtrace import events
    from envtrace._grid_dbscan import grid_dbscan

    WORK.mkdir(exist_ok=True)
    pts_by_cat = _points(args.scale)
    n_total = sum(len(p) for p in pts_by_cat.values())
    ours_s = sk_s = 0.0
    rows = []
    for cat, pts in pts_by_cat.items():
        par = events.DEFAULT_PARAMS[cat]
        eps, k = float(par["eps_m"]), int(par["min_complainants"])
        t = time.perf_counter()
        lab, core = grid_dbscan(pts, eps=eps, min_samples=k)
        t_ours = time.perf_counter() - t
        path = str(WORK / f"pts_{cat}.npy")
        np.save(path, pts)
        run = subprocess.run([sys.executable, __file__, "--sk", path, str(eps), str(k),
                              str(args.sk_mem_gb)], capture_output=True, text=True)
        if run.returncode == 0:
            t_sk = json.loads(run.stdout.strip().splitlines()[-1])["s"]
            sk = np.load(path + ".labels.npy")
            ari = adjusted_rand_score(sk, lab)
            noise_eq = bool(((sk == -1) == (lab == -1)).all())
        else:
            t_sk, ari, noise_eq = float("nan"), float("nan"), None
            print(f"{cat}: sklearn failed: {run.stderr.strip().splitlines()[-1][:200]}")
        ours_s += t_ours
        sk_s += t_sk
        rows.append((cat, len(pts), t_ours, t_sk, ari, noise_eq))
        print(f"{cat}: n={len(pts)} ours {t_ours:.2f} s, sklearn {t_sk:.2f} s, ARI {ari:.6f}, noise equal {noise_eq}")
    print(f"total n={n_total}: ours {ours_s:.2f} s, sklearn {sk_s:.2f} s, speed-up {sk_s / ours_s:.1f}x")


if __name__ == "__main__":
    main()
