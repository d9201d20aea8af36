"""Black-box evaluation of envtrace attribution on blind synthetic worlds.

For each seed: generate a world with ``blind_world.generate`` into a temp dir, run the
envtrace CLI as a subprocess (never imported), join its outputs with our truth by
complaint_id, and score.

    .venv/bin/python benchmarks/eval_blind.py --seeds 0-11 --out /tmp/blind_eval/blind_eval.csv

Metrics per world (complaint-weighted, over complaints in a cluster, cluster_id != '-1'):
  top1      share of clustered complaints with a true source whose cluster's rank-1 suspect
            is that source
  top3      likewise within ranks 1-3
  innocent  share of ALL clustered complaints (background included) whose cluster's rank-1
            suspect has score >= 0.5 and is not that complaint's true source
  naive1    top1 of a naive rule: nearest operating odour-capable (dust-capable for dust
            clusters) enterprise to the cluster centre
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
from blind_world import DUST_CAPABLE, ODOUR_CAPABLE, generate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PY = ROOT / ".venv" / "bin" / "python"


def _parse_seeds(s: str) -> list[int]:
    out: list[int] = []
    for part in s.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


def _dist_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    k = math.pi / 180
    x = (lon2 - lon1) * k * np.cos((lat1 + lat2) / 2 * k)
    y = (lat2 - lat1) * k
    return 6_371_000.0 * np.hypot(x, y)


def run_cli(data: Path, out: Path, timeout: int = 300) -> tuple[int, str, float]:
    env = dict(os.environ, ENVTRACE_PII_KEY="blind-eval-key")
    t = time.time()
    p = subprocess.run([str(PY), "-m", "envtrace", "trace", "--data", str(data), "--out", str(out),
                        "--permutations", "0", "--lang", "en"], cwd=str(data.parent), env=env,
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, (p.stderr.strip().splitlines() or [""])[-1], time.time() - t


def check_contract(out: Path, n_in: int) -> list[str]:
    """DESIGN.md output checks; returns a list of violations."""
    bad: list[str] = []
    need = {
        "complaints.csv": ["complaint_id", "received_at", "lon", "lat", "category", "channel",
                           "complainant_key", "cluster_id", "duplicate_of"],
        "rejects.csv": ["source_file", "source_row", "record_id", "reason"],
        "clusters.csv": ["cluster_id", "category", "n_complaints", "n_complainants", "start", "end",
                         "lon", "lat", "radius_m", "p_value"],
        "candidates.csv": ["cluster_id", "rank", "enterprise_id", "name", "score", "distance_m",
                           "bearing_deg", "p_value", "evidence"],
    }
    for f, cols in need.items():
        if not (out / f).exists():
            bad.append(f"missing {f}")
            continue
        have = list(pd.read_csv(out / f, dtype=str, nrows=0).columns)
        if have[: len(cols)] != cols and not set(cols) <= set(have):
            bad.append(f"{f} columns {have}")
    for f in ("clusters.geojson", "summary.json"):
        if not (out / f).exists():
            bad.append(f"missing {f}")
    if bad:
        return bad
    comp = pd.read_csv(out / "complaints.csv", dtype=str, keep_default_na=False)
    rej = pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False)
    n_rej_c = int((rej["source_file"].str.startswith("complaints")).sum())
    if len(comp) + n_rej_c != n_in:
        bad.append(f"complaints accepted {len(comp)} + rejected {n_rej_c} != read {n_in}")
    if not comp["received_at"].str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?(\.\d+)?[+-]\d\d:\d\d$").all():
        bad.append("complaints.received_at not ISO 8601 with offset")
    cand = pd.read_csv(out / "candidates.csv", dtype={"cluster_id": str})
    if len(cand):
        if not cand["score"].between(0, 1).all():
            bad.append("candidate score outside [0,1]")
        if cand.groupby("cluster_id")["rank"].max().max() > 5:
            bad.append("more than 5 candidates per cluster")
        if not cand["bearing_deg"].between(0, 360).all():
            bad.append("bearing outside [0,360]")
    clus = pd.read_csv(out / "clusters.csv", dtype={"cluster_id": str})
    cids = set(comp.loc[comp["cluster_id"] != "-1", "cluster_id"])
    if cids != set(clus["cluster_id"]):
        bad.append(f"cluster ids differ complaints vs clusters ({len(cids)} vs {len(clus)})")
    if not set(cand["cluster_id"]) <= set(clus["cluster_id"]):
        bad.append("candidates reference unknown clusters")
    return bad


def _read_input(path: Path, enc: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc)


def check_semantics(data: Path, truth_dir: Path, out: Path, world: dict) -> list[str]:
    """Meaning checks of DESIGN.md promises against what we know we fed in."""
    bad: list[str] = []
    enc = "gb18030" if world["flavour"].get("gb18030") else "utf-8"
    cin = _read_input(data / "complaints.csv", enc)
    ein = _read_input(data / "enterprises.csv", enc)
    comp = pd.read_csv(out / "complaints.csv", dtype=str, keep_default_na=False)
    clus = pd.read_csv(out / "clusters.csv", dtype={"cluster_id": str})
    cand = pd.read_csv(out / "candidates.csv", dtype={"cluster_id": str, "enterprise_id": str})
    truth = pd.read_csv(truth_dir / "complaints_truth.csv", dtype=str, keep_default_na=False)
    # received_at: same instant as the naive local time we wrote
    t_in = pd.Series(pd.NaT, index=cin.index, dtype="datetime64[ns]")
    for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y年%m月%d日 %H:%M"):
        t_in = t_in.fillna(pd.to_datetime(cin["received_at"], format=fmt, errors="coerce"))
    for fmt in ("%Y年%m月%d日 %H时%M分",):
        t_in = t_in.fillna(pd.to_datetime(cin["received_at"], format=fmt, errors="coerce"))
    t_in = t_in.dt.tz_localize("Asia/Shanghai")
    is_ms = cin["received_at"].str.fullmatch(r"\d{12,14}")
    t_in[is_ms] = pd.to_datetime(cin.loc[is_ms, "received_at"].astype("int64"), unit="ms", utc=True
                                 ).dt.tz_convert("Asia/Shanghai")
    j = comp.merge(cin.assign(t_in=t_in)[["complaint_id", "t_in"]], on="complaint_id", how="left")
    t_out = pd.to_datetime(j["received_at"], utc=True, format="ISO8601")
    n_bad_t = int((t_out != j["t_in"].dt.tz_convert("UTC")).sum())
    if n_bad_t:
        bad.append(f"{n_bad_t} complaints with received_at changed by ingest")
    # positions: back in WGS84 (gcj02/bd09 rows converted)
    j = comp.merge(truth[["complaint_id", "true_lon", "true_lat"]], on="complaint_id")
    d = _dist_m(j["lon"].astype(float).to_numpy(), j["lat"].astype(float).to_numpy(),
                j["true_lon"].astype(float).to_numpy(), j["true_lat"].astype(float).to_numpy())
    if (d > 30).any():
        bad.append(f"{int((d > 30).sum())} complaints placed >30 m from their WGS84 position (max {d.max():.0f} m)")
    # cluster counts
    inc = comp[comp["cluster_id"] != "-1"].groupby("cluster_id")
    cnt = clus.set_index("cluster_id")
    if not (inc.size().reindex(cnt.index) == cnt["n_complaints"]).all():
        bad.append("clusters.n_complaints != complaints carrying the cluster_id")
    # anonymous complaints carry an empty key: allow each to count as one complainant or not
    keys = inc["complainant_key"].agg(lambda k: k[k != ""].nunique()).reindex(cnt.index)
    anon = inc["complainant_key"].agg(lambda k: int((k == "").sum())).reindex(cnt.index)
    if not ((cnt["n_complainants"] >= keys) & (cnt["n_complainants"] <= keys + anon)).all():
        bad.append("clusters.n_complainants outside [distinct keys, distinct keys + anonymous]")
    # candidates: geometry, pruning, closed enterprises
    e = ein.set_index("enterprise_id")
    c = cand.join(e[["lon", "lat", "status", "closed_on"]], on="enterprise_id")
    clon, clat = c["cluster_id"].map(cnt["lon"]), c["cluster_id"].map(cnt["lat"])
    elon, elat = c["lon"].astype(float), c["lat"].astype(float)
    dd = _dist_m(clon.to_numpy(), clat.to_numpy(), elon.to_numpy(), elat.to_numpy())
    if ((np.abs(dd - c["distance_m"]) > 100) & (np.abs(dd - c["distance_m"]) > 0.02 * dd)).any():
        bad.append("candidate distance_m disagrees with cluster centre -> enterprise distance")
    brg = np.degrees(np.arctan2((elon - clon) * np.cos(np.radians(clat)), elat - clat)) % 360
    berr = np.abs((brg - c["bearing_deg"] + 180) % 360 - 180)
    if (berr[dd > 300] > 3).any():
        bad.append("candidate bearing_deg disagrees with cluster centre -> enterprise bearing")
    if (c["distance_m"] > 20000 + 1).any():
        bad.append(f"{int((c['distance_m'] > 20001).sum())} candidates beyond --max-distance-m 20000")
    start = pd.to_datetime(c["cluster_id"].map(cnt["start"]), utc=True, format="ISO8601")
    closed_on = pd.to_datetime(c["closed_on"].replace("", None)).dt.tz_localize("Asia/Shanghai")
    blamed = (c["status"] == "closed") & (closed_on.isna() | (closed_on <= start))
    if blamed.any():
        bad.append(f"{int(blamed.sum())} candidates closed before their cluster started")
    return bad


def naive_rank1(clus: pd.DataFrame, ents: pd.DataFrame) -> dict[str, str]:
    op = ents[ents["status"] != "closed"]
    od = op[op["industry"].str.startswith(ODOUR_CAPABLE)]
    du = op[op["industry"].str.startswith(DUST_CAPABLE)]
    out: dict[str, str] = {}
    for _, c in clus.iterrows():
        pool = du if c["category"] == "dust" and len(du) else od
        d = _dist_m(np.full(len(pool), c["lon"]), np.full(len(pool), c["lat"]),
                    pool["lon"].to_numpy(), pool["lat"].to_numpy())
        out[c["cluster_id"]] = str(pool["enterprise_id"].iloc[int(np.argmin(d))])
    return out


def evaluate(seed: int, work: Path, determinism: bool = False, overrides: list[str] | None = None
             ) -> tuple[dict, pd.DataFrame, list[str]]:
    data = work / f"w{seed}"
    truth_dir = work / f"w{seed}_truth"
    out = work / f"o{seed}"
    world = generate(seed, data, truth_dir)
    if overrides:  # model constants through the dataset's envtrace.toml (diagnostics)
        toml = data / "envtrace.toml"
        old = toml.read_text(encoding="utf-8") if toml.exists() else ""
        toml.write_text(old + "\n[attribution]\n" + "".join(f"{kv}\n" for kv in overrides), encoding="utf-8")
    rc, msg, secs = run_cli(data, out)
    row: dict = dict(seed=seed, climate=world["climate"], months=world["months"],
                     n_complaints=world["n_complaints"], n_src=world["n_sources"],
                     n_ent=world["n_enterprises"], flavour=",".join([k for k, v in world["flavour"].items() if v]
                                     + (["2st"] if world["two_stations"] else [])),
                     rc=rc, secs=round(secs, 1))
    findings: list[str] = []
    if rc != 0:
        findings.append(f"seed {seed}: exit {rc}: {msg}")
        return row, pd.DataFrame(), findings
    viol = check_contract(out, world["n_complaints"])
    if not viol:
        viol += check_semantics(data, truth_dir, out, world)
    if determinism:
        out2 = work / f"o{seed}_again"
        rc2, _, _ = run_cli(data, out2)
        same = rc2 == 0 and all((out / f).read_bytes() == (out2 / f).read_bytes()
                                for f in ("complaints.csv", "clusters.csv", "candidates.csv"))
        row["deterministic"] = same
        if not same:
            viol.append("second run on the same input gave different complaints/clusters/candidates")
    findings += [f"seed {seed}: contract: {v}" for v in viol]

    comp = pd.read_csv(out / "complaints.csv", dtype=str, keep_default_na=False)
    cand = pd.read_csv(out / "candidates.csv", dtype={"cluster_id": str, "enterprise_id": str},
                       keep_default_na=False)
    clus = pd.read_csv(out / "clusters.csv", dtype={"cluster_id": str})
    truth = pd.read_csv(truth_dir / "complaints_truth.csv", dtype={"source_id": str}, keep_default_na=False)
    srcs = pd.read_csv(truth_dir / "sources.csv", dtype=str, keep_default_na=False)
    ents = pd.read_csv(truth_dir / "enterprises_truth.csv", dtype={"enterprise_id": str})
    beh = dict(zip(srcs["enterprise_id"], srcs["behaviour"], strict=True))

    m = truth.merge(comp[["complaint_id", "cluster_id", "duplicate_of"]], on="complaint_id", how="left")
    m["cluster_id"] = m["cluster_id"].fillna("REJECTED")
    cand["score"] = pd.to_numeric(cand["score"], errors="coerce")
    cand["rank"] = pd.to_numeric(cand["rank"], errors="coerce")
    r1 = cand[cand["rank"] == 1].set_index("cluster_id")
    top3 = cand[cand["rank"] <= 3].groupby("cluster_id")["enterprise_id"].agg(set)
    naive = naive_rank1(clus, ents)
    m["in_cl"] = ~m["cluster_id"].isin(["-1", "REJECTED"])
    m["r1"] = m["cluster_id"].map(r1["enterprise_id"]).fillna("")
    m["r1_score"] = m["cluster_id"].map(r1["score"]).fillna(0.0)
    m["top3"] = m["cluster_id"].map(top3)
    m["naive"] = m["cluster_id"].map(naive).fillna("")
    m["has_src"] = m["source_id"] != ""
    cl = m[m["in_cl"]]
    cs = cl[cl["has_src"]]
    hit1 = cs["r1"] == cs["source_id"]
    hit3 = [s in t if isinstance(t, set) else False for s, t in zip(cs["source_id"], cs["top3"], strict=True)]
    innocent = (cl["r1_score"] >= 0.5) & (cl["r1"] != "") & (cl["r1"] != cl["source_id"])
    row.update(
        rejected=int((m["cluster_id"] == "REJECTED").sum()),
        clustered=round(float(m["in_cl"].mean()), 3),
        src_clustered=round(float(m.loc[m["has_src"], "in_cl"].mean()), 3),
        n_clusters=int(len(clus)),
        top1=round(float(hit1.mean()), 3) if len(cs) else float("nan"),
        top3=round(float(np.mean(hit3)), 3) if len(cs) else float("nan"),
        innocent=round(float(innocent.mean()), 3) if len(cl) else float("nan"),
        naive1=round(float((cs["naive"] == cs["source_id"]).mean()), 3) if len(cs) else float("nan"),
        n_eval=int(len(cs)),
    )
    per = cs.assign(hit=hit1.to_numpy(), beh=cs["source_id"].map(beh))
    per_src = per.groupby(["source_id", "beh"]).agg(n=("hit", "size"), top1=("hit", "mean")).reset_index()
    per_src["seed"] = seed
    srcs_n = srcs.set_index("enterprise_id")
    per_src["kind"] = per_src["source_id"].map(srcs_n["kind"])
    per_src["n_total"] = per_src["source_id"].map(srcs_n["n_complaints"])

    # worst clusters: many source complaints, rank-1 wrong
    role = ents.set_index("enterprise_id")["role"]
    eloc = ents.set_index("enterprise_id")[["lon", "lat", "industry"]]
    bad = (cs.assign(hit=hit1.to_numpy()).groupby("cluster_id")
           .agg(n=("hit", "size"), hits=("hit", "sum"), src=("source_id", lambda s: s.mode()[0])))
    bad = bad[bad["hits"] == 0].sort_values("n", ascending=False).head(3)
    examples = []
    for cid, b in bad.iterrows():
        c = clus.set_index("cluster_id").loc[cid]
        rk = r1.loc[cid] if cid in r1.index else None
        ds = _dist_m(np.array([c["lon"]]), np.array([c["lat"]]), np.array([eloc.loc[b["src"], "lon"]]),
                     np.array([eloc.loc[b["src"], "lat"]]))[0]
        trank = cand[(cand["cluster_id"] == cid) & (cand["enterprise_id"] == b["src"])]["rank"]
        examples.append(
            f"seed {seed} cluster {cid} ({c['category']}, n={int(c['n_complaints'])}, src-cpl={b['n']}, "
            f"{str(c['start'])[:16]}): true {b['src']} {beh.get(b['src'])} "
            f"{eloc.loc[b['src'], 'industry']} at {ds:.0f} m (rank {int(trank.iloc[0]) if len(trank) else '-'}); "
            + (f"rank1 {rk['enterprise_id']} [{role.get(rk['enterprise_id'], '?')}] "
               f"{eloc.loc[rk['enterprise_id'], 'industry'] if rk['enterprise_id'] in eloc.index else ''} "
               f"score {rk['score']:.2f} at {float(rk['distance_m']):.0f} m" if rk is not None else "no candidates"))
    row["examples"] = examples
    return row, per_src, findings


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Blind-world evaluation of envtrace trace")
    ap.add_argument("--seeds", default="0-11")
    ap.add_argument("--out", type=Path, default=Path("/tmp/blind_eval/blind_eval.csv"))
    ap.add_argument("--work", type=Path, default=None, help="keep worlds here (default: temp dir)")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="diagnostic: AttributionParams overrides (TOML values) for every world")
    ap.add_argument("--no-determinism", action="store_true", help="skip the second run of the first world")
    a = ap.parse_args(argv)
    rows, pers, findings = [], [], []
    with tempfile.TemporaryDirectory(prefix="blind_") as tmp:
        work = a.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for seed in _parse_seeds(a.seeds):
            row, per, f = evaluate(seed, work, determinism=not rows and not a.no_determinism,
                                   overrides=a.set)
            rows.append(row)
            pers.append(per)
            findings += f
            print(f"seed {seed}: rc={row['rc']} {row['secs']}s top1={row.get('top1')} "
                  f"top3={row.get('top3')} innocent={row.get('innocent')} naive1={row.get('naive1')}",
                  file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    examples = [e for ex in df.pop("examples") if isinstance(ex, list) for e in ex] if "examples" in df else []
    ok = df[df["rc"] == 0]
    per_all = pd.concat([p for p in pers if len(p)], ignore_index=True) if any(len(p) for p in pers) else None
    overall: dict = dict(seed="ALL", rc=int((df["rc"] != 0).sum()), n_eval=int(ok["n_eval"].sum()))
    if len(ok):
        wsum = ok["n_eval"].sum()
        for k in ("top1", "top3", "naive1"):
            overall[k] = round(float((ok[k] * ok["n_eval"]).sum() / wsum), 3)
        overall["innocent"] = round(float(ok["innocent"].mean()), 3)
        overall["clustered"] = round(float(ok["clustered"].mean()), 3)
        overall["n_clusters"] = int(ok["n_clusters"].sum())
        overall["n_complaints"] = int(ok["n_complaints"].sum())
        overall["secs"] = round(float(ok["secs"].max()), 1)
    df = pd.concat([df, pd.DataFrame([overall])], ignore_index=True)
    cols = ["seed", "climate", "months", "n_complaints", "n_src", "n_ent", "flavour", "rc", "secs",
            "rejected", "clustered", "src_clustered", "n_clusters", "n_eval", "top1", "top3", "innocent", "naive1"]
    df = df[[c for c in cols if c in df.columns]]
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(df.to_string(index=False))
        if per_all is not None:
            b = per_all.assign(h=per_all["top1"] * per_all["n"]).groupby(
                per_all["beh"].str.replace("+closed_mid", "", regex=False))
            by_beh = pd.DataFrame({"sources": b.size(), "complaints": b["n"].sum(),
                                   "top1": (b["h"].sum() / b["n"].sum()).round(3)})
            print("\nTop1 by source behaviour (clustered source complaints):")
            print(by_beh.to_string())
            print("\nPer source:")
            print(per_all[["seed", "source_id", "kind", "beh", "n_total", "n", "top1"]]
                  .round(3).to_string(index=False))
    if examples:
        print("\nWrong rank-1 examples (largest clusters where no complaint's rank-1 was right):")
        for e in examples:
            print(" ", e)
    print("\nFINDINGS:" if findings else "\nFINDINGS: none")
    for f in findings:
        print(" ", f)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(a.out, index=False)
    if per_all is not None:
        per_all.to_csv(a.out.with_name(a.out.stem + "_sources.csv"), index=False)
    (a.out.with_name(a.out.stem + "_notes.json")).write_text(
        json.dumps(dict(findings=findings, examples=examples), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
