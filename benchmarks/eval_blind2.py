"""Black-box evaluation of `envtrace trace` on blind_world2 counties.

For every seed: generate a world (benchmarks/blind_world2.py), optionally append an
[attribution] section to DATA/envtrace.toml (--set KEY=VALUE ...), run the CLI as a
subprocess, check its outputs against the data contract, join with the truth by
complaint_id and score:

* top1     share of clustered complaints with a true source whose cluster's rank-1
           enterprise is that source (top3: within ranks 1-3);
* innocent share of all clustered complaints (background included) whose cluster's
           rank-1 enterprise has score >= 0.5 and is not the complaint's true source;
* naive    top1 of "nearest odour/dust-capable enterprise (my own list of industries),
           not closed before the cluster started, to the cluster centre";
* top1 by source type and by emission behaviour.

If the CLI refuses input that DESIGN.md allows (exit != 0), that is a FINDING; the
world is then regenerated with single format choices reset to plain ones to find the
culprit, and scored on the first variant that runs.

Never imports envtrace.

    .venv/bin/python benchmarks/eval_blind2.py --seeds 0-15 --out /tmp/blind2.csv
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import blind_world2 as bw  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BASE_OVERRIDES: dict[str, Any] = {}  # e.g. {"ideal_wind": True} from --ideal-wind
PY = REPO / ".venv" / "bin" / "python"


@dataclass
class WorldResult:
    seed: int
    row: dict[str, Any] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    per_complaint: pd.DataFrame | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)


def parse_seeds(spec: list[str]) -> list[int]:
    out: list[int] = []
    for part in spec:
        for p in part.split(","):
            if "-" in p:
                a, b = p.split("-")
                out.extend(range(int(a), int(b) + 1))
            elif p:
                out.append(int(p))
    return out


def append_settings(data: Path, settings: list[str]) -> None:
    if not settings:
        return
    toml = data / "envtrace.toml"
    old = toml.read_text(encoding="utf-8") if toml.exists() else ""
    lines = ["", "[attribution]"]
    for kv in settings:
        k, _, v = kv.partition("=")
        lines.append(f"{k.strip()} = {v.strip()}")
    toml.write_text(old + "\n".join(lines) + "\n", encoding="utf-8")


def run_cli(data: Path, out: Path, timeout: float) -> tuple[int, str, float]:
    cmd = [str(PY), "-m", "envtrace", "trace", "--data", str(data), "--out", str(out),
           "--permutations", "0", "--lang", "en"]
    t0 = time.time()
    try:
        p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -9, f"timeout after {timeout:.0f} s", time.time() - t0
    msg = (p.stderr.strip().splitlines() or p.stdout.strip().splitlines() or [""])[-1]
    if p.returncode != 0 and "Traceback" in p.stderr:
        msg = "TRACEBACK: " + msg
    return p.returncode, msg, time.time() - t0


def build(seed: int, wdir: Path, settings: list[str], overrides: dict[str, Any] | None) -> tuple[Path, Path]:
    data = wdir / "data"
    if data.exists():
        shutil.rmtree(data)
    truth = bw.generate(seed, data, {**BASE_OVERRIDES, **(overrides or {})})
    append_settings(data, settings)
    return data, truth


def to_utc_minutes(s: pd.Series, local: bool) -> pd.Series:
    t = pd.to_datetime(s, utc=not local, format="ISO8601")
    if local:
        t = t.dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")
    return t


def is_odour_industry(code: str) -> bool:
    return any(str(code).startswith(p) for p in bw.ODOUR_PREFIXES)


def evaluate(seed: int, work: Path, settings: list[str], timeout: float) -> WorldResult:
    res = WorldResult(seed)
    wdir = work / f"seed{seed:03d}"
    wdir.mkdir(parents=True, exist_ok=True)
    out = wdir / "out"
    t0 = time.time()
    data, truth = build(seed, wdir, settings, None)
    gen_s = time.time() - t0
    meta = json.loads((truth / "world.json").read_text(encoding="utf-8"))
    rc, msg, secs = run_cli(data, out, timeout)
    variant = "as generated"
    first_rc = rc
    if rc != 0 and settings:
        data, truth = build(seed, wdir, [], None)
        rc0, _, _ = run_cli(data, out, timeout)
        if rc0 == 0:
            res.findings.append(f"seed {seed}: exit {rc} only with --set {' '.join(settings)}: {msg} "
                                "(not scored)")
            res.row.update({"seed": seed, "terrain": meta["terrain"], "months": meta["months"],
                            "n_complaints": meta["n_complaints"], "n_src_compl": meta["n_source_complaints"],
                            "n_ent": meta["n_enterprises"], "n_sources": meta["n_sources"], "exit": rc,
                            "variant": "settings rejected", "gen_s": round(gen_s, 1), "cli_s": round(secs, 1)})
            return res
        data, truth = build(seed, wdir, settings, None)
    if rc != 0:
        res.findings.append(f"seed {seed}: exit {rc} on contract-valid input: {msg}")
        fmts = meta["formats"]
        tried = False
        for k, v in bw.PLAIN_FORMATS.items():
            if fmts.get(k) == v:
                continue
            tried = True
            data, truth = build(seed, wdir, settings, {k: v})
            rc2, msg2, secs2 = run_cli(data, out, timeout)
            if rc2 == 0:
                res.findings.append(f"seed {seed}:   culprit format {k}={fmts.get(k)!r} (runs with {k}={v!r})")
                rc, secs, variant = 0, secs2, f"{k}={v}"
                break
        if rc != 0:
            data, truth = build(seed, wdir, settings, bw.PLAIN_FORMATS)
            rc3, msg3, secs3 = run_cli(data, out, timeout)
            if rc3 == 0:
                note = "no single format is the culprit" if tried else "formats were already plain"
                res.findings.append(f"seed {seed}:   runs only with all formats plain ({note})")
                rc, secs, variant = 0, secs3, "plain"
            else:
                res.findings.append(f"seed {seed}:   still exit {rc3} with plain formats: {msg3}")
        meta = json.loads((truth / "world.json").read_text(encoding="utf-8"))
    res.row.update({"seed": seed, "terrain": meta["terrain"], "months": meta["months"],
                    "n_complaints": meta["n_complaints"], "n_src_compl": meta["n_source_complaints"],
                    "n_ent": meta["n_enterprises"], "n_sources": meta["n_sources"], "exit": first_rc,
                    "variant": variant, "gen_s": round(gen_s, 1), "cli_s": round(secs, 1)})
    if rc != 0:
        return res
    tc = pd.read_csv(truth / "complaints.csv", dtype=str, keep_default_na=False)
    te = pd.read_csv(truth / "enterprises.csv", dtype=str, keep_default_na=False)
    ts = pd.read_csv(truth / "sources.csv", dtype=str, keep_default_na=False)
    oc = pd.read_csv(out / "complaints.csv", dtype=str, keep_default_na=False)
    ocl = pd.read_csv(out / "clusters.csv", dtype=str, keep_default_na=False)
    oca = pd.read_csv(out / "candidates.csv", dtype=str, keep_default_na=False)
    rej = pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False)
    check_contract(res, tc, te, oc, ocl, oca, rej, data)
    score_world(res, meta, tc, te, ts, oc, ocl, oca)
    return res


def check_contract(res: WorldResult, tc: pd.DataFrame, te: pd.DataFrame, oc: pd.DataFrame,
                   ocl: pd.DataFrame, oca: pd.DataFrame, rej: pd.DataFrame, data: Path) -> None:
    s = res.seed
    f = res.findings
    rj = rej[rej["source_file"].str.contains("complaints")]
    if len(oc) + len(rj) != len(tc):
        f.append(f"seed {s}: complaints rows read {len(tc)} != accepted {len(oc)} + rejected {len(rj)}")
    merged = tc.merge(rj, left_on="complaint_id", right_on="record_id", how="inner")
    bad = merged[merged["coords_given"] == "True"]
    for reason, g in bad.groupby("reason"):
        f.append(f"seed {s}: {len(g)} complaint(s) with valid coordinates rejected as {reason!r} "
                 f"(e.g. {g['complaint_id'].iloc[0]}, {g['receptor'].iloc[0]})")
    res.row["rejected_no_coord"] = int((merged["coords_given"] == "False").sum())
    j = oc.merge(tc, on="complaint_id", how="left", suffixes=("", "_t"))
    miss = j["source_type"].isna().sum()
    if miss:
        f.append(f"seed {s}: {miss} output complaint ids not in the input")
    ok = j["lon"].ne("") & j["geo_lon"].notna()
    if ok.any():
        d = bw.haversine_m(j.loc[ok, "lon"].astype(float), j.loc[ok, "lat"].astype(float),
                           j.loc[ok, "geo_lon"].astype(float), j.loc[ok, "geo_lat"].astype(float))
        d = np.asarray(d)
        res.row["geo_err_med_m"] = round(float(np.median(d)), 1)
        nbad = int((d > 30).sum())
        if nbad:
            f.append(f"seed {s}: {nbad}/{len(d)} complaint positions off by > 30 m after CRS conversion "
                     f"(median {np.median(d):.0f} m, max {d.max():.0f} m)")
    tt = to_utc_minutes(j["reported_at"], local=True)
    to = to_utc_minutes(j["received_at"], local=False)
    dt = (to - tt).dt.total_seconds().abs() / 60
    nbad = int((dt > 1.01).sum())
    if nbad:
        f.append(f"seed {s}: {nbad}/{len(dt)} received_at differ from the input time by > 1 min "
                 f"(e.g. {j.loc[dt.idxmax(), 'complaint_id']}: {dt.max():.0f} min)")
    # candidates
    if len(oca):
        sc = oca["score"].astype(float)
        if ((sc < 0) | (sc > 1)).any() or sc.isna().any():
            f.append(f"seed {s}: candidate scores outside [0, 1]")
        for cid, g in oca.groupby("cluster_id"):
            r = sorted(g["rank"].astype(int))
            if r != list(range(1, len(r) + 1)) or len(r) > 5:
                f.append(f"seed {s}: cluster {cid} ranks {r}")
                break
        unknown = set(oca["cluster_id"]) - set(ocl["cluster_id"])
        if unknown:
            f.append(f"seed {s}: {len(unknown)} candidate cluster ids not in clusters.csv")
        ent = te.set_index("enterprise_id")
        cl = ocl.set_index("cluster_id")
        ca = oca.join(cl[["start", "lon", "lat"]], on="cluster_id")
        ca = ca.join(ent[["lon", "lat", "closed_on"]].rename(columns={"lon": "elon", "lat": "elat"}),
                     on="enterprise_id")
        closed = ca[ca["closed_on"].fillna("") != ""]
        if len(closed):
            start = pd.to_datetime(closed["start"], format="ISO8601", utc=True).dt.tz_convert("Asia/Shanghai")
            con = pd.to_datetime(closed["closed_on"]).dt.tz_localize("Asia/Shanghai")
            viol = closed[(con < start).to_numpy()]
            if len(viol):
                f.append(f"seed {s}: {len(viol)} candidate(s) closed before their cluster started "
                         f"(e.g. {viol['enterprise_id'].iloc[0]} in {viol['cluster_id'].iloc[0]})")
        dd = bw.haversine_m(ca["lon"].astype(float), ca["lat"].astype(float), ca["elon"].astype(float),
                            ca["elat"].astype(float))
        rep = ca["distance_m"].astype(float)
        off = np.abs(rep - dd) > np.maximum(100, 0.05 * dd)
        if off.any():
            f.append(f"seed {s}: {int(off.sum())}/{len(ca)} candidate distance_m disagree with the true "
                     f"enterprise position (max {np.abs(rep - dd).max():.0f} m)")
    # cluster membership
    cnt = oc[oc["cluster_id"] != "-1"]["cluster_id"].value_counts()
    for cid, n in ocl.set_index("cluster_id")["n_complaints"].astype(int).items():
        if cnt.get(cid, 0) != n:
            f.append(f"seed {s}: cluster {cid} says n_complaints={n}, complaints.csv has {cnt.get(cid, 0)}")
            break
    del data


def score_world(res: WorldResult, meta: dict[str, Any], tc: pd.DataFrame, te: pd.DataFrame,
                ts: pd.DataFrame, oc: pd.DataFrame, ocl: pd.DataFrame, oca: pd.DataFrame) -> None:
    j = oc[["complaint_id", "cluster_id"]].merge(
        tc[["complaint_id", "source_enterprise_id", "source_type", "behaviour", "cause"]],
        on="complaint_id", how="left")
    j = j[j["cluster_id"] != "-1"].copy()
    oca = oca.copy()
    oca["rank"] = oca["rank"].astype(int)
    oca["score"] = oca["score"].astype(float)
    r1 = oca[oca["rank"] == 1].set_index("cluster_id")
    top3 = oca[oca["rank"] <= 3].groupby("cluster_id")["enterprise_id"].apply(list)
    j["rank1"] = j["cluster_id"].map(r1["enterprise_id"]).fillna("")
    j["rank1_score"] = j["cluster_id"].map(r1["score"]).fillna(0.0)
    j["top3"] = j["cluster_id"].map(top3)
    j["top3"] = j["top3"].apply(lambda v: v if isinstance(v, list) else [])
    # naive: nearest odour-capable enterprise (not closed before the cluster) to the cluster centre
    ent = te.copy()
    ent = ent[ent["industry"].map(is_odour_industry)]
    elon = ent["lon"].astype(float).to_numpy()
    elat = ent["lat"].astype(float).to_numpy()
    closed_on = pd.to_datetime(ent["closed_on"].replace("", None)).dt.tz_localize("Asia/Shanghai")
    naive: dict[str, str] = {}
    for _, c in ocl.iterrows():
        st = pd.Timestamp(c["start"]).tz_convert("Asia/Shanghai")
        alive = (closed_on.isna() | (closed_on >= st)).to_numpy()
        d = bw.haversine_m(float(c["lon"]), float(c["lat"]), elon, elat)
        d = np.where(alive, d, np.inf)
        naive[c["cluster_id"]] = ent["enterprise_id"].iloc[int(np.argmin(d))]
    j["naive"] = j["cluster_id"].map(naive).fillna("")
    src = j["source_enterprise_id"].fillna("") != ""
    j["is_src"] = src
    j["hit1"] = src & (j["rank1"] == j["source_enterprise_id"])
    j["hit3"] = src & j.apply(lambda r: r["source_enterprise_id"] in r["top3"], axis=1)
    j["naive_hit"] = src & (j["naive"] == j["source_enterprise_id"])
    j["innocent"] = (j["rank1_score"] >= 0.5) & (j["rank1"] != "") & (j["rank1"] != j["source_enterprise_id"].fillna(""))
    j["seed"] = res.seed
    res.per_complaint = j
    n_src_all = int((tc["source_enterprise_id"] != "").sum())
    ns = int(src.sum())
    row = res.row
    row.update({
        "clustered": len(j), "clustered_src": ns, "recall_src": round(ns / max(n_src_all, 1), 3),
        "n_clusters": len(ocl),
        "top1": round(float(j.loc[src, "hit1"].mean()), 3) if ns else float("nan"),
        "top3": round(float(j.loc[src, "hit3"].mean()), 3) if ns else float("nan"),
        "naive_top1": round(float(j.loc[src, "naive_hit"].mean()), 3) if ns else float("nan"),
        "innocent": round(float(j["innocent"].mean()), 3) if len(j) else float("nan"),
    })
    # wrong attributions, per cluster with a majority true source
    ent_t = te.set_index("enterprise_id")
    srcinfo = ts.set_index("enterprise_id")
    cl = ocl.set_index("cluster_id")
    for cid, g in j.groupby("cluster_id"):
        s = g["source_enterprise_id"].fillna("")
        vc = s[s != ""].value_counts()
        if vc.empty or vc.iloc[0] < 0.5 * len(g):
            continue
        true_id = vc.index[0]
        r1id = g["rank1"].iloc[0]
        if r1id == true_id:
            continue
        c = cl.loc[cid]
        tlon, tlat = float(ent_t.loc[true_id, "lon"]), float(ent_t.loc[true_id, "lat"])
        dtrue = float(bw.haversine_m(float(c["lon"]), float(c["lat"]), tlon, tlat))
        cands = oca[oca["cluster_id"] == cid].set_index("enterprise_id")
        r1 = cands.loc[r1id] if r1id in cands.index else None
        res.errors.append({
            "seed": res.seed, "terrain": meta["terrain"], "cluster_id": cid, "n": len(g),
            "n_true": int(vc.iloc[0]), "start": c["start"], "true_source": true_id,
            "true_type": srcinfo.loc[true_id, "type"], "true_behaviour": srcinfo.loc[true_id, "behaviour"],
            "true_dist_m": round(dtrue), "true_rank": int(cands.loc[true_id, "rank"]) if true_id in cands.index else 0,
            "rank1": r1id, "rank1_name": ent_t.loc[r1id, "name"] if r1id in ent_t.index else "",
            "rank1_industry": ent_t.loc[r1id, "industry"] if r1id in ent_t.index else "",
            "rank1_role": ent_t.loc[r1id, "role"] if r1id in ent_t.index else "",
            "rank1_score": float(r1["score"]) if r1 is not None else float("nan"),
            "rank1_dist_m": float(r1["distance_m"]) if r1 is not None else float("nan"),
            "evidence": str(r1["evidence"])[:300] if r1 is not None else "",
        })


def fmt_pct(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "  -  "
    return f"{100 * v:5.1f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", nargs="+", default=["0-15"], help="e.g. 0-15 or 1,4,9")
    ap.add_argument("--work", type=Path, default=None, help="keep the worlds and outputs here")
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "blind2_results.csv",
                    help="per-world CSV (+ _errors.csv, _complaints.csv beside it)")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="lines appended under [attribution] in DATA/envtrace.toml (TOML values)")
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--ideal-wind", action="store_true",
                    help="diagnostic: give envtrace the true wind at the town centre instead of the airport's")
    a = ap.parse_args()
    if a.ideal_wind:
        BASE_OVERRIDES["ideal_wind"] = True
    seeds = parse_seeds(a.seeds)
    tmp = None
    work = a.work
    if work is None:
        tmp = tempfile.mkdtemp(prefix="blind2_")
        work = Path(tmp)
    work.mkdir(parents=True, exist_ok=True)
    results: list[WorldResult] = []
    hdr = (f"{'seed':>4} {'terrain':<11} {'mo':>2} {'compl':>5} {'src':>5} {'nsrc':>4} {'ent':>4} "
           f"{'clust':>5} {'recall':>6} {'top1':>5} {'top3':>5} {'naive':>5} {'innoc':>5} {'exit':>4} {'s':>5}")
    print(hdr, flush=True)
    try:
        for s in seeds:
            r = evaluate(s, work, a.set, a.timeout)
            results.append(r)
            w = r.row
            print(f"{s:>4} {w['terrain']:<11} {w['months']:>2} {w['n_complaints']:>5} {w['n_src_compl']:>5} "
                  f"{w['n_sources']:>4} {w['n_ent']:>4} {w.get('n_clusters', 0):>5} "
                  f"{fmt_pct(w.get('recall_src'))} {fmt_pct(w.get('top1'))} {fmt_pct(w.get('top3'))} "
                  f"{fmt_pct(w.get('naive_top1'))} {fmt_pct(w.get('innocent'))} {w['exit']:>4} "
                  f"{w['cli_s']:>5}", flush=True)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    rows = pd.DataFrame([r.row for r in results])
    pcs = [r.per_complaint for r in results if r.per_complaint is not None]
    print()
    if pcs:
        pc = pd.concat(pcs, ignore_index=True)
        src = pc[pc["is_src"]]
        print(f"OVERALL (pooled over {len(pcs)} worlds, {len(pc)} clustered complaints, {len(src)} with a true source)")
        print(f"  top1 {fmt_pct(src['hit1'].mean())}   top3 {fmt_pct(src['hit3'].mean())}   "
              f"naive top1 {fmt_pct(src['naive_hit'].mean())}   innocent {fmt_pct(pc['innocent'].mean())}")
        print(f"  mean over worlds: top1 {fmt_pct(rows['top1'].mean())}  top3 {fmt_pct(rows['top3'].mean())}  "
              f"naive {fmt_pct(rows['naive_top1'].mean())}  innocent {fmt_pct(rows['innocent'].mean())}  "
              f"recall {fmt_pct(rows['recall_src'].mean())}")
        for key in ("source_type", "behaviour"):
            print(f"\n  top1 by {key}:")
            g = src.groupby(key).agg(n=("hit1", "size"), top1=("hit1", "mean"), top3=("hit3", "mean"),
                                     naive=("naive_hit", "mean"), worlds=("seed", "nunique"))
            for k, v in g.iterrows():
                print(f"    {k:<13} n={int(v['n']):>5} worlds={int(v['worlds']):>2}  top1 {fmt_pct(v['top1'])}  "
                      f"top3 {fmt_pct(v['top3'])}  naive {fmt_pct(v['naive'])}")
        bg = pc[~pc["is_src"]]
        print(f"\n  background complaints clustered: {len(bg)}; blamed on an enterprise with score >= 0.5: "
              f"{fmt_pct(bg['innocent'].mean() if len(bg) else float('nan'))}")
    findings = [f for r in results for f in r.findings]
    print("\nFINDINGS" + ("" if findings else ": none"))
    for f in findings:
        print("  " + f)
    errs = pd.DataFrame([e for r in results for e in r.errors])
    if len(errs):
        errs = errs.sort_values("n_true", ascending=False)
        print("\nLargest wrong attributions (cluster majority source != rank 1):")
        for _, e in errs.head(12).iterrows():
            print(f"  seed {e['seed']} {e['cluster_id']} n={e['n']} ({e['n_true']} true) start {e['start'][:16]}: "
                  f"true {e['true_source']} {e['true_type']}/{e['true_behaviour']} at {e['true_dist_m']} m "
                  f"(rank {e['true_rank'] or '-'}); rank1 {e['rank1']} {e['rank1_industry']} [{e['rank1_role']}] "
                  f"score {e['rank1_score']:.2f} at {e['rank1_dist_m']:.0f} m")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    rows["findings"] = [len(r.findings) for r in results]
    rows.to_csv(a.out, index=False)
    if len(errs):
        errs.to_csv(a.out.with_name(a.out.stem + "_errors.csv"), index=False)
    if pcs:
        pd.concat(pcs, ignore_index=True).drop(columns=["top3"]).to_csv(
            a.out.with_name(a.out.stem + "_complaints.csv"), index=False)
    print(f"\nwrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
