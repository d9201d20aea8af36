"""Replay a dataset month by month into a fresh ledger and print the four-colour distribution.

Usage::

    python benchmarks/replay_ledger.py [--data data/sample] [--as-of 2026-10-31] [--permutations 99]

Each month is traced with ``pipeline.trace`` (seeded) and applied with ``Ledger.update``;
the ledger lives in a temporary SQLite file. Prints one line per month (cases opened,
events attached, actions applied/unresolved, reopenings) and the colours as of ``--as-of``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from envtrace import io, pipeline
from envtrace.ledger import Ledger, LedgerRules


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/sample")
    ap.add_argument("--as-of", default=None, help="date of the colours (default: end of the data)")
    ap.add_argument("--permutations", type=int, default=99)
    args = ap.parse_args()

    ds = io.load_dataset(args.data)
    times = ds.complaints["received_at"]
    months = pd.period_range(times.min().tz_localize(None), times.max().tz_localize(None), freq="M")
    as_of = args.as_of or str(times.max().date())
    with tempfile.TemporaryDirectory() as tmp:
        led = Ledger(f"sqlite:///{Path(tmp) / 'ledger.sqlite'}", rules=LedgerRules.from_config(ds.config))
        t0 = time.perf_counter()
        for month in months:
            m = str(month)
            r = led.update(ds, m, trace=lambda sub: pipeline.trace(sub, n_permutations=args.permutations, seed=0))
            print(m, f"opened={r.cases_opened} attached={r.events_attached} applied={r.actions_applied}"
                     f" unresolved={r.actions_unresolved} reopened={r.reopened}")
        cases = led.cases(as_of)
        print(f"{len(months)} months in {time.perf_counter() - t0:.1f} s; colours as of {as_of}:",
              cases["colour"].value_counts().to_dict())


if __name__ == "__main__":
    main()
