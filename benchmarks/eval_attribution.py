"""Evaluate envtrace attribution on generated worlds against their ground truth.

For each (seed, preset) a world is generated with :func:`envtrace.sample.generate`, written
to a temporary dataset folder, traced with :func:`envtrace.pipeline.trace` (the same code
as ``envtrace trace``), and scored against ``truth/complaints.csv``:

top1
    complaint-weighted share of clustered, source-caused complaints (truth
    ``source_enterprise_id`` non-empty, in a cluster) whose event's top-1 suspect is their
    true source;
top3
    the same with the true source among the event's first three suspects;
innocent
    share of all clustered complaints that are *blamed on an innocent enterprise*: their
    event's top-1 suspect has ``score >= 0.5`` and is not that complaint's true source
    (background complaints have no true source, so any blame of them is innocent);
innocent_nonsource
    the part of ``innocent`` whose blamed enterprise is no source at all in the world (the
    rest blames a true source for another source's complaints, typically two sources in
    one plume or one event);
innocent_mixed
    the part of ``innocent`` whose blamed enterprise is a true source of *other* complaints
    of the same event: one event holding two sources' complaints (or a source's and
    background ones), where the event's top suspect is right for part of it;
twin_share
    share of clustered, source-caused complaints whose true source has a *twin*: another
    enterprise of the same industry division (first three characters of the GB/T 4754
    code, e.g. ``C26``) within ``TWIN_RADIUS_M`` (1 km) of it. Seen from homes several km
    away such a twin lies inside the same plume, so wind cannot separate the two;
top1_park
    top1 relaxed to "park level": the event's top-1 suspect is the true source or one of
    its twins (an inspector sent there finds the right site). Hard cases are kept; this is
    an additional column, not a replacement of top1;
naive_top1, naive_innocent
    the same for the NAIVE method: the operating enterprise nearest the event centre
    whose industry weight for the event's category is > 0 (always blames, score 1).

Complaints that the attribution takes out of their event (step 11: another source
explains them far better than the event's suspect; ``left_event`` of the trace's
complaints) still count as clustered, blamed on nobody: they can only lower top1 and top3,
and the innocent share keeps its denominator (column ``left_event``: how many).

Permutation p-values do not change ranks or scores, so they are skipped here
(``n_permutations=0`` for attribution and for the events scan) to keep the run short.

Usage::

    .venv/bin/python benchmarks/eval_attribution.py --seeds 0 1 2 3 4 \
        --presets shandong dense_decoys long_lag mobile valley strong_prevailing --out benchmarks/results/eval_tune.csv
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from envtrace import geo, pipeline, profiles, sample
from envtrace.attribution import CATEGORIES


def naive_top1(result: pipeline.TraceResult) -> pd.Series:
    """Nearest operating enterprise with a matching industry weight > 0, per event."""
    ev = result.events
    ent = result.enterprises
    prof = profiles.profile_for(ent["industry_code"].fillna("").astype(str).tolist())
    status = ent["status"].fillna("").astype(str).str.lower().to_numpy()
    out = {}
    for _, e in ev.iterrows():
        k = e["category"]
        if k not in CATEGORIES:
            out[e["cluster_id"]] = ""
            continue
        ok = (prof[k].to_numpy() > 0) & (status != "closed")
        if not ok.any():
            out[e["cluster_id"]] = ""
            continue
        d, _ = geo.distance_bearing(e["lon"], e["lat"], ent["lon"].to_numpy()[ok], ent["lat"].to_numpy()[ok])
        out[e["cluster_id"]] = str(ent["enterprise_id"].to_numpy()[ok][int(np.argmin(d))])
    return pd.Series(out, dtype="object")


TWIN_RADIUS_M = 1000.0
BREAKDOWN: list[pd.DataFrame] = []  # per world, filled by score_world
CALIBRATION: list[pd.DataFrame] = []  # per world, filled by score_world


def twins(ent: pd.DataFrame, radius_m: float = TWIN_RADIUS_M) -> dict[str, set[str]]:
    """Enterprise id -> ids of other enterprises of the same industry division within ``radius_m``."""
    ids = ent["enterprise_id"].astype(str).to_numpy()
    div = ent["industry_code"].fillna("").astype(str).str[:3].to_numpy()
    lon = pd.to_numeric(ent["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(ent["lat"], errors="coerce").to_numpy(dtype=float)
    out: dict[str, set[str]] = {}
    for i in range(len(ids)):
        d, _ = geo.distance_bearing(lon[i], lat[i], lon, lat)
        near = (np.asarray(d) <= radius_m) & (div == div[i]) & (div != "") & (np.arange(len(ids)) != i)
        out[str(ids[i])] = set(ids[near].tolist())
    return out


def breakdown(res: pipeline.TraceResult, cl: pd.DataFrame, sources: pd.DataFrame,
              tw: dict[str, set[str]]) -> pd.DataFrame:
    """Source-caused clustered complaints by true source's behaviour and outcome.

    Outcome of each (event, true source) group: ``ok`` (top-1), ``twin`` (top-1 is a twin of
    the source), ``impure`` (most of the event's complaints have another source), ``rank2-5``,
    ``beyond5`` (not among the event's reported suspects), ``left`` (the complaint left its
    event in step 11 and is blamed on nobody).
    """
    cand = res.candidates
    top1 = cand[cand["rank"] == 1].set_index("cluster_id")["enterprise_id"]
    rank = cand.set_index(["cluster_id", "enterprise_id"])["rank"]
    beh = sources.set_index("enterprise_id")["behaviour"]
    src = cl[cl["source_enterprise_id"] != ""]
    major = cl.groupby("cluster_id")["source_enterprise_id"].agg(lambda s_: s_.value_counts().index[0])
    rows = []
    for (cid, sid), g in src.groupby(["cluster_id", "source_enterprise_id"]):
        if cid == "-1":  # complaints that left their events (step 11): no event, no blame
            rows.append({"behaviour": beh.get(sid, "?"), "outcome": "left", "n": len(g)})
            continue
        t1 = top1.get(cid, "")
        rk = int(rank.get((cid, sid), 99))
        if t1 == sid:
            cls = "ok"
        elif t1 in tw.get(sid, set()):
            cls = "twin"
        elif major[cid] != sid:
            cls = "impure"
        elif rk <= 5:
            cls = "rank2-5"
        else:
            cls = "beyond5"
        rows.append({"behaviour": beh.get(sid, "?"), "outcome": cls, "n": len(g)})
    return pd.DataFrame(rows, columns=["behaviour", "outcome", "n"])


def calibration(res: pipeline.TraceResult, cl: pd.DataFrame) -> pd.DataFrame:
    """Per event: the top suspect's score, whether the evidence puts it in one plume with
    other candidates, the event's clustered complaints and how many of them the top
    suspect caused (background complaints count as not caused)."""
    cand = res.candidates
    top1 = cand[cand["rank"] == 1].set_index("cluster_id")
    g = cl.assign(t1=cl["cluster_id"].map(top1["enterprise_id"])).dropna(subset=["t1"])
    g = g.assign(right=(g["t1"] == g["source_enterprise_id"]).astype(int))
    per = g.groupby("cluster_id").agg(n=("t1", "size"), right=("right", "sum"))
    per["score"] = top1["score"].reindex(per.index).to_numpy()
    marks = ("in one plume", "同处一个烟羽")
    per["one_plume"] = [any(m in str(e) for m in marks) for e in top1["evidence"].reindex(per.index)]
    return per.reset_index()


def calibration_table(cal: pd.DataFrame) -> pd.DataFrame:
    """Complaint-weighted share right by score bin, for top suspects the wind separates
    from the others and for those in one plume with others."""
    b = pd.cut(cal["score"], [0, .2, .3, .4, .5, .6, .7, .8, .9, 1.0])
    out = {}
    for plume, name in ((False, "separable"), (True, "one plume")):
        g = cal[cal["one_plume"] == plume].groupby(b[cal["one_plume"] == plume], observed=True)
        out[f"{name}: right"] = (g["right"].sum() / g["n"].sum()).round(3)
        out[f"{name}: complaints"] = g["n"].sum()
    return pd.DataFrame(out)


def alter_time_words(path: Path, mode: str, seed: int) -> None:
    """Diagnostic: ``strip`` the time words (半夜, 白天, …) from the complaint texts, or
    ``scramble`` them (each replaced by one drawn from all the texts' time words, so they
    say nothing about when the smell was). Categories do not depend on them."""
    from envtrace.classify import _TIME_RE

    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    pool = [m.group(0) for t in df["text"] for m in _TIME_RE.finditer(t)]
    rng = np.random.default_rng(seed)
    if mode == "strip" or not pool:
        df["text"] = [_TIME_RE.sub("", t) for t in df["text"]]
    else:
        df["text"] = [_TIME_RE.sub(lambda _m: pool[int(rng.integers(len(pool)))], t) for t in df["text"]]
    df.to_csv(path, index=False)


def score_world(seed: int, preset: str, workdir: Path, overrides: dict | None = None,
                decoys: float | None = None, time_words: str = "keep",
                world: dict | None = None) -> dict:
    t0 = time.perf_counter()
    cfg = sample.WorldConfig.preset(preset, seed=seed)
    if decoys is not None:  # diagnostic: the same worlds with more or fewer look-alikes
        cfg = dataclasses.replace(cfg, decoys_per_source=float(decoys))
    if world:  # diagnostic: the same worlds with other knobs (e.g. name_source_share=0)
        cfg = dataclasses.replace(cfg, **world)
    world = sample.generate(seed, config=cfg)
    d = workdir / f"w{seed}_{preset}"
    world.write(d)
    if time_words != "keep":
        alter_time_words(d / "complaints.csv", time_words, seed)
    if overrides:  # model constants through the dataset's envtrace.toml [attribution]
        toml = (d / "envtrace.toml").read_text(encoding="utf-8")
        lines = "".join(f"{k} = {v}\n" for k, v in overrides.items())
        (d / "envtrace.toml").write_text(toml + "\n[attribution]\n" + lines, encoding="utf-8")
    t1 = time.perf_counter()
    res = pipeline.trace(d, n_permutations=0, lang="en", seed=0, event_params={"n_permutations": 0})
    t2 = time.perf_counter()
    truth = pd.read_csv(d / "truth" / "complaints.csv", dtype=str, keep_default_na=False)
    truth["source_row"] = truth["source_row"].astype(int)
    comp = res.complaints[["source_row", "cluster_id", "left_event"]].copy()
    comp["source_row"] = comp["source_row"].astype(int)
    comp = comp.merge(truth[["source_row", "source_enterprise_id", "cause"]], on="source_row", how="left")
    comp["source_enterprise_id"] = comp["source_enterprise_id"].fillna("")
    # complaints that left their event for none (step 11) still count as clustered, blamed
    # on nobody: right for neither top1 nor top3, innocent for nobody
    left = comp["left_event"] != ""
    cl = comp[(comp["cluster_id"] != "-1") | left]
    cand = res.candidates
    top1 = cand[cand["rank"] == 1].set_index("cluster_id")
    t1_id = cl["cluster_id"].map(top1["enterprise_id"]).fillna("")
    t1_score = cl["cluster_id"].map(top1["score"]).fillna(0.0)
    top3 = cand[cand["rank"] <= 3].groupby("cluster_id")["enterprise_id"].agg(set)
    in3 = [src in top3.get(c, set()) for c, src in zip(cl["cluster_id"], cl["source_enterprise_id"], strict=True)]
    src = cl["source_enterprise_id"] != ""
    naive = naive_top1(res)
    n_id = cl["cluster_id"].map(naive).fillna("")
    blamed = (t1_score >= 0.5) & (t1_id != "") & (t1_id != cl["source_enterprise_id"])
    all_sources = set(truth.loc[truth["source_enterprise_id"] != "", "source_enterprise_id"])
    blamed_nonsource = blamed & ~t1_id.isin(all_sources)
    causes = cl.groupby("cluster_id")["source_enterprise_id"].agg(set)
    t1_in_event = np.array([t_ in causes.get(c_, set()) for t_, c_ in zip(t1_id, cl["cluster_id"], strict=True)],
                           dtype=bool)
    blamed_mixed = blamed & t1_in_event
    n_blamed = (n_id != "") & (n_id != cl["source_enterprise_id"])
    n_src = int(src.sum())
    tw = twins(res.enterprises)
    src_ids = cl["source_enterprise_id"].to_numpy()
    has_twin = np.array([bool(tw.get(s_)) for s_ in src_ids])
    park_ok = np.array([t_ == s_ or t_ in tw.get(s_, set()) for t_, s_ in zip(t1_id, src_ids, strict=True)])
    srcm = src.to_numpy()
    sources = pd.read_csv(d / "truth" / "sources.csv", dtype=str, keep_default_na=False)
    BREAKDOWN.append(breakdown(res, cl, sources, tw))
    CALIBRATION.append(calibration(res, cl).assign(seed=seed, preset=preset))
    return {
        "seed": seed, "preset": preset,
        "complaints": len(comp), "clustered": len(cl), "clustered_source": n_src,
        "clusters": len(res.events),
        "left_event": int(left.sum()),
        "top1": float((t1_id[src] == cl["source_enterprise_id"][src]).mean()) if n_src else np.nan,
        "top3": float(np.asarray(in3)[src.to_numpy()].mean()) if n_src else np.nan,
        "innocent": float(blamed.mean()) if len(cl) else np.nan,
        "innocent_nonsource": float(blamed_nonsource.mean()) if len(cl) else np.nan,
        "innocent_mixed": float(blamed_mixed.mean()) if len(cl) else np.nan,
        "twin_share": float(has_twin[srcm].mean()) if n_src else np.nan,
        "top1_park": float(park_ok[srcm].mean()) if n_src else np.nan,
        "naive_top1": float((n_id[src] == cl["source_enterprise_id"][src]).mean()) if n_src else np.nan,
        "naive_innocent": float(n_blamed.mean()) if len(cl) else np.nan,
        "name_share": cfg.name_share, "name_source_share": cfg.name_source_share,
        "name_trust": res.candidates.attrs.get("info", {}).get("name_trust", np.nan),
        "name_scale_m": res.candidates.attrs.get("info", {}).get("name_scale_m", np.nan),
        "generate_s": round(t1 - t0, 1), "trace_s": round(t2 - t1, 1),
        "attribution_s": res.summary["durations_s"].get("attribution_s"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102, 103, 104])
    ap.add_argument("--presets", nargs="+", default=["shandong", "dense_decoys", "long_lag", "mobile",
                                                     "valley", "strong_prevailing"])
    ap.add_argument("--out", type=Path, default=None, help="CSV of per-world results")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="AttributionParams overrides (TOML values), e.g. eb_iterations=0")
    ap.add_argument("--breakdown", action="store_true",
                    help="also print where top-1 is lost, by true source behaviour and outcome (counts to OUT_breakdown.csv)")
    ap.add_argument("--world", nargs="*", default=[], metavar="KEY=VALUE",
                    help="diagnostic: override WorldConfig float knobs, e.g. name_source_share=0")
    ap.add_argument("--decoys", type=float, default=None,
                    help="diagnostic: override the worlds' decoys_per_source (0 = no look-alikes)")
    ap.add_argument("--calibration", type=Path, default=None, metavar="CSV",
                    help="also write each event's top score and outcome there, and print "
                         "how often top suspects of each score are right")
    ap.add_argument("--time-words", choices=("keep", "strip", "scramble"), default="keep",
                    help="diagnostic: remove the texts' time words, or replace them at random")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for preset in args.presets:
                r = score_world(seed, preset, Path(tmp), dict(kv.split("=", 1) for kv in args.set),
                                decoys=args.decoys, time_words=args.time_words,
                                world={k: float(v) for k, v in (x.split("=", 1) for x in args.world)})
                rows.append(r)
                print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()),
                      flush=True)
    df = pd.DataFrame(rows)
    w = df["clustered_source"]
    print(f"\nmachine: {platform.platform()} python {sys.version.split()[0]}")
    print(df.to_string(index=False))
    tot = {
        "top1 (mean of worlds)": df["top1"].mean(), "top1 (pooled)": np.average(df["top1"].fillna(0), weights=w),
        "top3 (mean)": df["top3"].mean(), "innocent (mean)": df["innocent"].mean(),
        "innocent_nonsource (mean)": df["innocent_nonsource"].mean(),
        "innocent_mixed (mean)": df["innocent_mixed"].mean(),
        "twin_share (mean)": df["twin_share"].mean(), "top1_park (mean)": df["top1_park"].mean(),
        "naive_top1 (mean)": df["naive_top1"].mean(), "naive_innocent (mean)": df["naive_innocent"].mean(),
    }
    for k, v in tot.items():
        print(f"{k}: {v:.3f}")
    if args.breakdown and BREAKDOWN:
        b = pd.concat(BREAKDOWN, ignore_index=True)
        tab = b.pivot_table(index="behaviour", columns="outcome", values="n", aggfunc="sum", fill_value=0)
        print("\nshare of source-caused clustered complaints, by true source and outcome:")
        print((tab / tab.to_numpy().sum()).round(3).to_string())
        if args.out:  # the counts behind the shares, beside the per-world CSV
            args.out.parent.mkdir(parents=True, exist_ok=True)
            tab.to_csv(args.out.with_name(args.out.stem + "_breakdown.csv"))
    if args.calibration and CALIBRATION:
        cal = pd.concat(CALIBRATION, ignore_index=True)
        print("\nshare of an event's clustered complaints caused by its top suspect, by the "
              "suspect's score:")
        print(calibration_table(cal).to_string())
        args.calibration.parent.mkdir(parents=True, exist_ok=True)
        cal.to_csv(args.calibration, index=False)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
