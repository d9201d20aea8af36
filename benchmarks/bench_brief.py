"""Benchmark of envtrace.brief and envtrace.maps: the monthly briefing and big maps.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_brief.py
    .venv/bin/python benchmarks/bench_brief.py --n 100000 --repeat 3 --no-monthly --out -

Measured:

* **monthly briefing, end to end** — ``envtrace brief monthly --month last --data
  data/sample --pdf --docx`` as a subprocess (the command a scheduler runs: interpreter
  start, load, trace with 999 permutations, ledger update of two months, notebook execution
  on the ``envtrace`` kernel, HTML, PDF and map screenshot in headless Chromium, DOCX,
  XLSX), on a fresh ledger in a temporary folder. Target ≤ 60 s.
* **a map of ``--n`` complaints** (default 100 000; synthetic, see :func:`synth`), published
  (grid counts + heat map) and internal (clustered points with id, time, category), built
  with :func:`envtrace.maps.complaint_map` and written by :func:`envtrace.maps.save_map`:
  build time, HTML size (target ≤ 5 MB) and the time until it is interactive in headless
  Debian Chromium with the network cut off: navigation start → ``window.__envtraceReady``
  (set by the map once every layer is added and the complaint clusters have finished their
  chunked loading; read as ``performance.now()``, whose origin is navigation start), best
  of ``--repeat`` loads. Target ≤ 3 s.

The machine is usually shared with other jobs: the load average is recorded with the
figures; re-run on a quiet machine for firm numbers.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _machine import cpu_model, ram_gb  # noqa: E402  (benchmarks/ is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MAX_HTML_BYTES = 5_000_000
MAX_READY_S = 3.0
MAX_MONTHLY_S = 60.0


def synth(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` complaints over one county-sized area (σ ≈ 5 km around one centre, a quarter
    around 8 towns), four categories, one year, ids like the sample's ``TS2026…``, a short
    Chinese text each."""
    rng = np.random.default_rng(seed)
    towns = rng.normal(0, 0.08, size=(8, 2))
    k = rng.integers(0, 8, n)
    near = rng.random(n) < 0.25
    lon = 117.1 + np.where(near, towns[k, 0] + rng.normal(0, 0.01, n), rng.normal(0, 0.05, n))
    lat = 35.6 + np.where(near, towns[k, 1] + rng.normal(0, 0.01, n), rng.normal(0, 0.05, n))
    t0 = pd.Timestamp("2026-01-01", tz="Asia/Shanghai")
    return pd.DataFrame({
        "complaint_id": [f"TS2026{i:08d}" for i in range(n)],
        "received_at": t0 + pd.to_timedelta(np.sort(rng.uniform(0, 365 * 24, n)), unit="h"),
        "lon": lon, "lat": lat,
        "category": rng.choice(["odour", "noise", "dust", "water"], n, p=[0.45, 0.25, 0.2, 0.1]),
        "text": "夜里一股刺鼻的酸臭味，开窗都不敢。",
    })


def machine() -> str:
    cpu = cpu_model()
    ram = ram_gb()
    mem = "" if ram != ram else f"; RAM {ram:.1f} GB"
    return f"{cpu}, {os.cpu_count()} logical cores{mem}"


def chromium_version(exe: str) -> str:
    try:
        return subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def bench_monthly(data: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-brief-") as tmp:
        cmd = [sys.executable, "-m", "envtrace", "brief", "monthly", "--month", "last", "--data", str(data),
               "--db", f"sqlite:///{tmp}/ledger.sqlite", "--out", f"{tmp}/reports", "--pdf", "--docx"]
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            raise SystemExit(f"monthly brief failed:\n{proc.stderr[-2000:]}")
        html = Path(proc.stdout.strip().splitlines()[-1])
        import json

        side = json.loads((html.parent / "brief.json").read_text(encoding="utf-8"))
    shown = " ".join(cmd[1:]).replace(tmp, "$TMP").replace(str(ROOT) + "/", "")
    return {"wall_s": wall, "month": html.parent.name, "durations": side.get("durations", {}),
            "counts": side.get("counts", {}), "command": "python " + shown}


def load_in_chromium(path: Path, repeat: int) -> tuple[float, list[str]]:
    from playwright.sync_api import sync_playwright

    from envtrace.brief import CHROMIUM_ARGS, chromium_path

    exe = chromium_path()
    if exe is None:
        raise SystemExit("Chromium not found (apt-get install chromium)")
    best, errors = float("inf"), []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            for _ in range(repeat):
                page = browser.new_page(viewport={"width": 1200, "height": 800})
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "about:"))
                           else r.abort())
                page.goto(path.resolve().as_uri(), wait_until="commit")
                page.wait_for_function("window.__envtraceReady !== undefined", timeout=120_000)
                best = min(best, float(page.evaluate("window.__envtraceReady")) / 1000.0)
                page.close()
        finally:
            browser.close()
    return best, errors


def bench_maps(n: int, repeat: int, out_dir: Path) -> list[dict]:
    from envtrace import maps

    c = synth(n)
    rows = []
    for internal in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "texts left out above max_texts" is expected here
            t = time.perf_counter()
            m = maps.complaint_map(c, internal=internal, basemap="none", lang="zh")
            path = maps.save_map(m, out_dir / f"map_{'internal' if internal else 'published'}_{n}.html")
            build = time.perf_counter() - t
        ready, errors = load_in_chromium(path, repeat)
        rows.append({"map": "internal" if internal else "published", "n": n, "build_s": build,
                     "bytes": path.stat().st_size, "ready_s": ready, "errors": errors})
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "sample")
    ap.add_argument("--n", type=int, default=100_000, help="complaints on the big maps")
    ap.add_argument("--repeat", type=int, default=3, help="browser loads per map (best is reported)")
    ap.add_argument("--no-monthly", action="store_true", help="skip the end-to-end monthly briefing")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "brief.md"), help="'-' for stdout")
    args = ap.parse_args(argv)

    load0 = os.getloadavg()[0]
    monthly = None if args.no_monthly else bench_monthly(args.data)
    with tempfile.TemporaryDirectory(prefix="bench-maps-") as tmp:
        rows = bench_maps(args.n, args.repeat, Path(tmp))
    load1 = os.getloadavg()[0]

    import folium

    from envtrace.brief import chromium_path

    lines = [
        "# envtrace.brief / envtrace.maps benchmark",
        "",
        f"- Machine: {machine()}; load average {load0:.1f} at start, {load1:.1f} at end "
        "(machine shared with other jobs: timings vary 2-3x)",
        f"- Python {platform.python_version()}, pandas {pd.__version__}, folium {folium.__version__}, "
        f"{chromium_version(chromium_path() or 'chromium')}",
        f"- Run on {time.strftime('%Y-%m-%d %H:%M %Z')}",
        "",
        "Reproduce: `.venv/bin/python benchmarks/bench_brief.py"
        + ("" if args.n == 100_000 else f" --n {args.n}") + (" --no-monthly" if args.no_monthly else "") + "`",
        "",
    ]
    if monthly is not None:
        ok = "met" if monthly["wall_s"] <= MAX_MONTHLY_S else "NOT met"
        d = monthly["durations"]
        lines += [
            "## Monthly briefing of the sample county, end to end",
            "",
            f"Command (a subprocess, fresh ledger): `{monthly['command']}` → month {monthly['month']}, "
            f"{monthly['counts'].get('complaints_month', '?')} complaints, {monthly['counts'].get('events', '?')} events.",
            "",
            f"- wall time **{monthly['wall_s']:.1f} s** (target ≤ {MAX_MONTHLY_S:.0f} s: {ok})",
            "- inside: " + ", ".join(f"{k} {v:.1f} s" for k, v in d.items() if isinstance(v, int | float)),
            "",
        ]
    lines += [
        f"## Maps of {args.n:,} complaints",
        "",
        "Synthetic complaints (`synth` in the script), `maps.complaint_map(..., basemap='none')`, "
        "`maps.save_map` (assets inlined, one file). Ready = navigation start → `window.__envtraceReady` "
        f"in headless Chromium, network cut off, best of {args.repeat} loads.",
        "",
        "| map | complaints | build + write s | HTML MB | ≤ 5 MB | ready in Chromium s | ≤ 3 s | console errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['map']} | {r['n']:,} | {r['build_s']:.1f} | {r['bytes'] / 1e6:.2f} | "
            f"{'yes' if r['bytes'] <= MAX_HTML_BYTES else 'NO'} | {r['ready_s']:.2f} | "
            f"{'yes' if r['ready_s'] <= MAX_READY_S else 'NO'} | {len(r['errors'])} |"
        )
    text = "\n".join(lines) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
