"""Where the innocent blame of generated worlds comes from (a diagnostic, not a score).

For each world, every clustered complaint whose event's top-1 suspect (score >= 0.5) is
not its true source (``innocent`` of ``eval_attribution.py``) is put in one class:

nonsource
    the blamed enterprise is no source anywhere in the world;
mixed_other_source
    the blamed enterprise is the true source of *other* complaints of the same event, and
    this complaint has another true source: one event holds two sources' complaints;
mixed_background
    as above, but this complaint has no source (a background complaint inside a source's
    event);
other
    the blamed enterprise is a source elsewhere, of none of this event's complaints.

Shares are of all clustered complaints, pooled over the worlds.

Usage::

    .venv/bin/python benchmarks/diag_innocent.py --preset urban --seeds 4500 4501 4502
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter

import pandas as pd

from envtrace import pipeline, sample


def classify_world(seed: int, preset: str) -> Counter:
    """Counts of the classes above (and of all clustered complaints) on one world."""
    w = sample.generate(seed, config=sample.WorldConfig.preset(preset, seed=seed))
    with tempfile.TemporaryDirectory() as tmp:
        d = w.write(f"{tmp}/world")
        r = pipeline.trace(d, n_permutations=0, lang="en", seed=0, event_params={"n_permutations": 0})
        truth = pd.read_csv(d / "truth" / "complaints.csv", dtype=str, keep_default_na=False)
        sources = set(pd.read_csv(d / "truth" / "sources.csv", dtype=str)["enterprise_id"])
    comp = r.complaints[["source_row", "cluster_id"]].astype({"source_row": int}).merge(
        truth[["source_row", "source_enterprise_id"]].astype({"source_row": int}), on="source_row")
    cl = comp[comp["cluster_id"] != "-1"]
    top = r.candidates[r.candidates["rank"] == 1].set_index("cluster_id")
    blamed = cl["cluster_id"].map(top["enterprise_id"]).fillna("")
    score = cl["cluster_id"].map(top["score"]).fillna(0.0)
    innocent = (score >= 0.5) & (blamed != "") & (blamed != cl["source_enterprise_id"])
    in_event = cl.groupby("cluster_id")["source_enterprise_id"].agg(set)
    out = Counter(clustered=len(cl))
    for cid, truth_id, who in zip(cl.loc[innocent, "cluster_id"], cl.loc[innocent, "source_enterprise_id"],
                                  blamed[innocent], strict=True):
        if who not in sources:
            out["nonsource"] += 1
        elif who in in_event[cid]:
            out["mixed_background" if truth_id == "" else "mixed_other_source"] += 1
        else:
            out["other"] += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="random")
    ap.add_argument("--seeds", type=int, nargs="+", required=True)
    args = ap.parse_args()
    total: Counter = Counter()
    for seed in args.seeds:
        total += classify_world(seed, args.preset)
    n = max(total["clustered"], 1)
    parts = ("nonsource", "mixed_other_source", "mixed_background", "other")
    print(f"{args.preset} seeds {args.seeds[0]}..{args.seeds[-1]} ({len(args.seeds)} worlds, "
          f"{total['clustered']:,} clustered complaints): innocent {sum(total[p] for p in parts) / n:.3f} = "
          + " + ".join(f"{p} {total[p] / n:.3f}" for p in parts))


if __name__ == "__main__":
    main()
