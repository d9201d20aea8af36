"""Timing of ``envtrace trace`` on the sample county and of attribution at scale.

Two measurements, each printed with the machine it ran on:

1. ``envtrace trace --data data/sample --out <tmp>`` with the defaults (999 permutations),
   wall-clock time of the whole command, its CPU time (user + sys: less sensitive to other
   jobs on a shared machine) and the per-stage durations from summary.json.
2. :func:`envtrace.attribution.rank_suspects` alone on a synthetic county of
   ``--complaints`` complaints (``--clustered`` share of them in events of ~25),
   ``--enterprises`` enterprises and a year of hourly wind, with ``--permutations``
   (99 by default at this scale); wall-clock time and peak resident memory.

3. With ``--world SCALE`` also the whole ``envtrace trace --permutations 99`` on a world
   from ``envtrace.sample.generate(0, scale=SCALE, n_enterprises=10000)`` (580 gives about
   a million complaints), written once to ``benchmarks/_work/world_<SCALE>`` (git-ignored)
   and reused: wall, CPU, peak RSS of the command and the stage durations.

Usage::

    .venv/bin/python benchmarks/bench_trace.py                       # sample + attribution at 1M
    .venv/bin/python benchmarks/bench_trace.py --skip-sample --complaints 100000 --enterprises 2000
    .venv/bin/python benchmarks/bench_trace.py --skip-sample --skip-scale --world 580
    .venv/bin/python benchmarks/bench_trace.py --skip-sample --skip-scale --world 580 --distinct-texts

Results and the machine they were measured on: ``benchmarks/results/trace.md``.
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
from _machine import cpu_model, ram_gb  # noqa: E402  (benchmarks/ is on sys.path)

ROOT = Path(__file__).resolve().parents[1]


def machine() -> str:
    cpu, ram = cpu_model(), ram_gb()
    import scipy

    return (f"{platform.platform()}; {cpu}; {os.cpu_count()} cpu; RAM {ram:.1f} GB; "
            f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}, "
            f"scipy {scipy.__version__}; load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


def _tree_sample(root: int) -> tuple[int, dict[int, float]]:
    """Proportional set size of process ``root`` and all its descendants, and the CPU
    seconds (user + system) of each descendant so far (Linux ``/proc``; 0 and nothing
    elsewhere). PSS, not RSS: the scan's child processes share the pages of their
    forkserver, which RSS would count once per child."""
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for d in Path("/proc").glob("[0-9]*"):
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            parent[int(d.name)] = int(fields[1])
            cpu[int(d.name)] = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, ValueError, IndexError):
            continue
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo += [c for c, p in parent.items() if p == pid and c not in tree]
    total = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
    return total, {pid: cpu[pid] for pid in tree if pid != root and pid in cpu}


def run_trace(args: list[str]) -> dict:
    """``envtrace trace ARGS --out <tmp>`` in a subprocess: wall, CPU (the command and its
    child processes), peak memory and stage durations.

    Peak memory: ``peak_rss_gb`` is the largest single process (``getrusage``);
    ``peak_tree_pss_gb`` the largest sum over the command and its child processes (the
    events' scan runs in children), sampled every 0.2 s on Linux. CPU: ``cpu_s`` is the
    command's own (``getrusage``: its forkserver's children are not its to wait for);
    ``children_cpu_s`` that of its descendants as last sampled (a child's last 0.2 s may
    be missed).
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        with open(Path(tmp) / "stderr.txt", "w+") as err:
            proc = subprocess.Popen([str(ROOT / ".venv/bin/envtrace"), "trace", *args, "--out", str(out)],
                                    cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, text=True)
            peak_tree = 0
            child_cpu: dict[int, float] = {}
            while proc.poll() is None:
                pss, cpu = _tree_sample(proc.pid)
                peak_tree = max(peak_tree, pss)
                child_cpu.update(cpu)
                time.sleep(0.2)
            err.seek(0)
            stderr = err.read()
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        mem = {"peak_rss_gb": round(r1.ru_maxrss / 1024 ** 2, 2),
               "peak_tree_pss_gb": round(peak_tree / 1024 ** 3, 2)}
        if proc.returncode != 0:
            tail = stderr.strip().splitlines()[-3:]
            return {"failed": proc.returncode, "wall_s": round(wall, 2), **mem, "stderr": tail}
        s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {"wall_s": round(wall, 2),
            "cpu_s": round((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), 2),
            "children_cpu_s": round(sum(child_cpu.values()), 2),
            **mem, **s["durations_s"], **s["counts"]}


def bench_sample(data: Path) -> dict:
    return run_trace(["--data", str(data)])


def distinct_copy(world: Path) -> Path:
    """``<world>_distinct``: the world with every complaint text made distinct (a case
    number at its end, ``（工单0000123）``), as a real county's texts are; the generator
    draws large worlds' texts from a pool."""
    import shutil

    out = world.with_name(world.name + "_distinct")
    if (out / "complaints.csv").is_file():
        return out
    shutil.copytree(world, out, ignore=shutil.ignore_patterns("complaints.csv"), dirs_exist_ok=True)
    df = pd.read_csv(world / "complaints.csv", dtype=str, keep_default_na=False)
    df["text"] = [f"{t}（工单{i:07d}）" if t else t for i, t in enumerate(df["text"])]
    df.to_csv(out / "complaints.csv", index=False)
    return out


def bench_world(scale: float, permutations: int, *, distinct: bool = False) -> dict:
    from envtrace import sample

    world = ROOT / "benchmarks" / "_work" / f"world_{scale:g}"
    if not (world / "complaints.csv").is_file():
        sample.generate(0, scale=scale, n_enterprises=10_000).write(world)
    if distinct:
        world = distinct_copy(world)
    return {"world": str(world.relative_to(ROOT)), "permutations": permutations,
            **run_trace(["--data", str(world), "--permutations", str(permutations)])}


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
    t0, c0 = time.perf_counter(), time.process_time()
    cand = attribution.rank_suspects(events, comp, ent, wind=wind, n_permutations=permutations, lang="en")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    return {"complaints": n_complaints, "enterprises": n_enterprises, "events": len(events),
            "permutations": permutations, "candidates": len(cand), "attribution_s": round(wall, 1),
            "attribution_cpu_s (all threads)": round(cpu, 1),
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
    ap.add_argument("--world", type=float, default=None,
                    help="also trace a generated world of this scale (580: about 1M complaints)")
    ap.add_argument("--distinct-texts", action="store_true",
                    help="trace the world with every complaint text made distinct (a real county's texts)")
    args = ap.parse_args(argv)
    print("machine:", machine())
    if not args.skip_sample:
        print("sample county:", json.dumps(bench_sample(args.data)))
    if not args.skip_scale:
        print("scale:", json.dumps(bench_scale(args.complaints, args.enterprises, args.clustered,
                                               args.permutations)))
    if args.world is not None:
        print("world:", json.dumps(bench_world(args.world, args.permutations, distinct=args.distinct_texts)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
