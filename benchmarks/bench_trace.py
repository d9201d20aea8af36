"""Timing of ``envtrace trace`` on the sample county and of attribution at scale.

Two measurements, each printed with the machine it ran on:

1. ``envtrace trace --data data/sample --out <tmp>`` with the defaults (999 permutations),
   wall-clock time of the whole command and the per-stage durations from summary.json.
2. :func:`envtrace.attribution.rank_suspects` alone on a synthetic county of
   ``--complaints`` complaints (``--clustered`` share of them in events of ~25),
   ``--enterprises`` enterprises and a year of hourly wind, with ``--permutations``
   (99 by default at this scale); wall-clock time and peak resident memory.

Usage::

    .venv/bin/python benchmarks/bench_trace.py                       # both, full scale
    .venv/bin/python benchmarks/bench_trace.py --skip-sample --complaints 100000 --enterprises 2000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def machine() -> str:
    return (f"{platform.platform()}; {os.cpu_count()} cpu; python {sys.version.split()[0]}; "
            f"load {os.getloadavg()[0]:.1f}")


def bench_sample(data: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        t0 = time.perf_counter()
        subprocess.run([str(ROOT / ".venv/bin/envtrace"), "trace", "--data", str(data), "--out", str(out)],
                       check=True, cwd=ROOT, capture_output=True)
        wall = time.perf_counter() - t0
        s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {"wall_s": round(wall, 2), **s["durations_s"], **s["counts"]}


def synthetic(n_complaints: int, n_enterprises: int, clustered: float, seed: int = 0):
    from envtrace import geo

    rng = np.random.default_rng(seed)
    tz = "Asia/Shanghai"
    crs = geo.local_crs([117.0], [35.6])
    half = 40_000.0
    ex, ey = rng.uniform(-half, half, n_enterprises), rng.uniform(-half, half, n_enterprises)
    codes = rng.choice(["C2614", "C27", "C13", "C2913", "C30", "E47", "C33", "C22"], n_enterprises)
    elon, elat = geo.unproject(ex, ey, crs)
    ent = pd.DataFrame({"enterprise_id": [f"E{i}" for i in range(n_enterprises)],
                        "name": [f"ent {i}" for i in range(n_enterprises)], "industry": codes,
                        "industry_code": codes, "lon": elon, "lat": elat, "status": "operating",
                        "closed_on": pd.Series(pd.NaT, index=range(n_enterprises), dtype=f"datetime64[ns, {tz}]")})
    times = pd.date_range("2025-01-01", periods=365 * 24, freq="h", tz=tz)
    wind = pd.DataFrame({"time": times, "wind_dir_deg": rng.uniform(0, 360, times.size).round(),
                         "wind_speed_ms": rng.gamma(2.0, 1.5, times.size).round(1), "station_id": "",
                         "lon": np.nan, "lat": np.nan, "stability": rng.choice(list("ABCDEF"), times.size)})
    n_cl = int(n_complaints * clustered)
    n_ev = max(1, n_cl // 25)
    cx0, cy0 = rng.uniform(-half, half, n_ev), rng.uniform(-half, half, n_ev)
    t0 = rng.integers(0, (365 - 2) * 24 * 3600, n_ev)
    ev_of = rng.integers(0, n_ev, n_cl)
    x = np.concatenate([cx0[ev_of] + rng.normal(0, 300, n_cl), rng.uniform(-half, half, n_complaints - n_cl)])
    y = np.concatenate([cy0[ev_of] + rng.normal(0, 300, n_cl), rng.uniform(-half, half, n_complaints - n_cl)])
    secs = np.concatenate([t0[ev_of] + rng.integers(0, 6 * 3600, n_cl),
                           rng.integers(0, 364 * 24 * 3600, n_complaints - n_cl)])
    lon, lat = geo.unproject(x, y, crs)
    cats = np.array(["odour", "dust", "noise"])[rng.choice(3, n_ev, p=[0.7, 0.15, 0.15])]
    labels = np.concatenate([np.array([f"E{i}" for i in range(n_ev)], dtype=object)[ev_of],
                             np.full(n_complaints - n_cl, "-1", dtype=object)])
    comp = pd.DataFrame({
        "complaint_id": [f"c{i}" for i in range(n_complaints)],
        "received_at": times[0] + pd.to_timedelta(secs, unit="s"),
        "lon": lon, "lat": lat, "category": "odour", "channel": rng.choice(["hotline", "12345"], n_complaints),
        "complainant_key": [f"k{v}" for v in rng.integers(0, n_complaints // 2, n_complaints)],
        "duplicate_of": "", "cluster_id": labels,
    })
    elon_, elat_ = geo.unproject(cx0, cy0, crs)
    events = pd.DataFrame({"cluster_id": [f"E{i}" for i in range(n_ev)], "category": cats,
                           "lon": elon_, "lat": elat_})
    return events, comp, ent, wind


def bench_scale(n_complaints: int, n_enterprises: int, clustered: float, permutations: int) -> dict:
    from envtrace import attribution

    events, comp, ent, wind = synthetic(n_complaints, n_enterprises, clustered)
    t0 = time.perf_counter()
    cand = attribution.rank_suspects(events, comp, ent, wind=wind, n_permutations=permutations, lang="en")
    wall = time.perf_counter() - t0
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    return {"complaints": n_complaints, "enterprises": n_enterprises, "events": len(events),
            "permutations": permutations, "candidates": len(cand), "attribution_s": round(wall, 1),
            "peak_rss_gb (whole process, incl. synthetic data)": round(peak_gb, 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "sample")
    ap.add_argument("--skip-sample", action="store_true")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--complaints", type=int, default=1_000_000)
    ap.add_argument("--enterprises", type=int, default=10_000)
    ap.add_argument("--clustered", type=float, default=0.5)
    ap.add_argument("--permutations", type=int, default=99)
    args = ap.parse_args(argv)
    print("machine:", machine())
    if not args.skip_sample:
        print("sample county:", json.dumps(bench_sample(args.data)))
    if not args.skip_scale:
        print("scale:", json.dumps(bench_scale(args.complaints, args.enterprises, args.clustered,
                                               args.permutations)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
