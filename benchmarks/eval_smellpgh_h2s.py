"""Smell Pittsburgh: do the suspects the wind names agree with an instrument the model never reads?

The Allegheny County Health Department's Liberty monitor (ESDR feed 28) sits 2 km
north-north-east of U.S. Steel's Clairton Coke Works, between the works and the city,
and records hourly hydrogen sulphide (H2S), the rotten-egg gas of coke-oven gas. The
model reads only Liberty's *wind*. If it names Clairton for the right events, the
events it blames on Clairton should come with more H2S at Liberty than those it blames
on the other plants, and the more H2S at Liberty, the more often it should name Clairton.

For every event of the whole record (``envtrace trace --profile smellpgh``, no
permutations) this script takes the mean Liberty H2S over the event's span, from 6 h
before its first report to its last, and tabulates the top-1 suspect against it, for
the real wind and, as a control, for every wind direction turned round (the same hours,
speeds and texts). Results: ``benchmarks/results/smellpgh.md``.

Usage::

    .venv/bin/python benchmarks/eval_smellpgh_h2s.py [--data ../shared/data/smellpgh]
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from envtrace import io, pipeline

NY = "America/New_York"
H2S = "3.feed_28.H2S_PPM"


def event_h2s(events: pd.DataFrame, liberty: pd.DataFrame) -> pd.Series:
    """Mean Liberty H2S (ppb) from 6 h before each event's start to its end."""
    t = pd.to_datetime(liberty["EpochTime"], unit="s", utc=True)
    h = pd.Series(pd.to_numeric(liberty[H2S], errors="coerce").to_numpy() * 1000.0, index=t).sort_index()
    h = h[~h.index.duplicated()]
    cum = np.r_[0.0, np.cumsum(h.fillna(0.0).to_numpy())]
    cnt = np.r_[0, np.cumsum(h.notna().to_numpy())]
    idx = h.index.to_numpy()
    s = pd.to_datetime(events["start"], utc=True) - pd.Timedelta(hours=6)
    e = pd.to_datetime(events["end"], utc=True)
    i0 = np.searchsorted(idx, s.to_numpy(), side="left")
    i1 = np.searchsorted(idx, e.to_numpy(), side="right")
    n = cnt[i1] - cnt[i0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.Series(np.where(n > 0, (cum[i1] - cum[i0]) / n, np.nan), index=events.index)


def table(res: pipeline.TraceResult, liberty: pd.DataFrame) -> pd.DataFrame:
    ev = res.events.reset_index(drop=True)
    top = res.candidates[res.candidates["rank"] == 1].set_index("cluster_id")
    ev["top1"] = ev["cluster_id"].map(top["enterprise_id"]).fillna("")
    ev["score"] = ev["cluster_id"].map(top["score"]).fillna(0.0)
    ev["h2s_ppb"] = event_h2s(ev, liberty)
    return ev[["cluster_id", "n_complaints", "start", "top1", "score", "h2s_ppb"]]


def summarise(ev: pd.DataFrame, label: str) -> None:
    ev = ev.dropna(subset=["h2s_ppb"])
    print(f"\n{label}: {len(ev)} events with Liberty H2S, {int(ev['n_complaints'].sum())} reports")
    by = ev.groupby("top1").agg(events=("cluster_id", "size"), reports=("n_complaints", "sum"),
                                h2s_median=("h2s_ppb", "median"), h2s_mean=("h2s_ppb", "mean"))
    print(by.round(2).to_string())
    bins = pd.cut(ev["h2s_ppb"], [-np.inf, 1, 3, 6, 10, np.inf], labels=["<1", "1-3", "3-6", "6-10", ">=10"])
    g = ev.assign(clairton=(ev["top1"] == "clairton") * ev["n_complaints"],
                  sure=((ev["top1"] == "clairton") & (ev["score"] >= 0.5)) * ev["n_complaints"])
    t = g.groupby(bins, observed=True).agg(events=("cluster_id", "size"), reports=("n_complaints", "sum"),
                                           clairton=("clairton", "sum"), sure=("sure", "sum"))
    t["clairton_share"] = (t["clairton"] / t["reports"]).round(3)
    t["clairton_sure_share"] = (t["sure"] / t["reports"]).round(3)
    print("reports whose event names Clairton first, by the event's mean Liberty H2S (ppb):")
    print(t.to_string())
    c = ev[ev["top1"] == "clairton"]
    rho = c["score"].rank().corr(c["h2s_ppb"].rank())
    print(f"Spearman correlation of Clairton's score with the event's Liberty H2S, over the "
          f"{len(c)} events naming it first: {rho:.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "smellpgh")
    args = ap.parse_args(argv)
    if not (args.data / "reports.csv").is_file():
        print(f"Smell Pittsburgh data not found at {args.data}", file=sys.stderr)
        return 2
    ds = io.load_dataset(None, complaints=args.data / "reports.csv", enterprises=args.data / "facilities.csv",
                         wind=args.data / "monitors.csv", profile="smellpgh", tz=NY)
    liberty = pd.read_csv(args.data / "esdr_feed28_liberty.csv")
    print(f"machine: {platform.platform()} python {sys.version.split()[0]}")
    kw = dict(tz=NY, lang="en", n_permutations=0, event_params={"n_permutations": 0})
    summarise(table(pipeline.trace(ds, **kw), liberty), "real wind")
    w = ds.wind
    turned = dataclasses.replace(ds, wind=w.assign(wind_dir_deg=(w["wind_dir_deg"] + 180.0) % 360.0))
    summarise(table(pipeline.trace(turned, **kw), liberty), "every wind direction turned round (control)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
