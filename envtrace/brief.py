"""Briefs: the notebooks' building blocks and the scheduled runs that export them.

Two layers:

* **what the notebooks call** — :func:`monthly_context`, :func:`case_context`,
  :func:`explore_context` gather everything a brief shows (KPIs, ledger, hotspots,
  suspects, maps) from the package's modules; :func:`save_artefacts` writes the tables
  the exporters need. The notebooks only call these and display the results.
* **what the command line runs** — :func:`monthly_brief` / :func:`case_brief`: execute a
  notebook with papermill on the ``envtrace`` kernel, export HTML without code cells,
  optionally PDF (headless Debian Chromium via playwright), DOCX (python-docx) and always an
  Excel workbook of the events and suspects plus a JSON sidecar, into
  ``reports/YYYY-MM/`` (``reports/cases/CASE_ID/``), atomically.

Failure handling: everything is built in a temporary directory and swapped in whole
(:func:`envtrace._atomic.atomic_dir`); on failure the executed notebook (with its error) and a
log go to ``reports/failed/<timestamp>/``, the last good brief is left untouched,
``--on-failure CMD`` is run with ``ENVTRACE_FAILED_LOG``, ``ENVTRACE_FAILED_DIR``,
``ENVTRACE_BRIEF`` and ``ENVTRACE_ERROR`` in its environment, and :class:`BriefError` is
raised (the CLI exits 1). A ``fcntl`` lock per brief (``reports/.locks/``) stops two runs of
the same brief at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import fcntl
import io as _io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from envtrace._atomic import atomic_dir, atomic_write_text, sha256_file
from envtrace.errors import InputError
from envtrace.i18n import category_label, colour_label, label

__all__ = [
    "BriefError",
    "BriefResult",
    "KERNEL_NAME",
    "CHROMIUM_ARGS",
    "notebook_path",
    "last_full_month",
    "resolve_month",
    "ensure_kernel",
    "execute_notebook",
    "notebook_to_html",
    "chromium_path",
    "html_to_pdf",
    "screenshot",
    "monthly_context",
    "case_context",
    "explore_context",
    "save_artefacts",
    "write_xlsx",
    "write_docx",
    "monthly_brief",
    "case_brief",
]

KERNEL_NAME = "envtrace"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
_LEDGER_FILL = {"green": "C6EFCE", "blue": "BDD7EE", "yellow": "FFEB9C", "red": "FFC7CE"}


class BriefError(Exception):
    """A brief run failed; the message names the failed-run directory."""


@dataclass
class BriefResult:
    """What a successful brief run wrote.

    Attributes
    ----------
    out_dir : Path
        ``reports/YYYY-MM`` or ``reports/cases/CASE_ID``.
    html : Path
        The HTML brief (the path printed last by the CLI).
    files : list of Path
        Every file written.
    sidecar : dict
        The JSON sidecar's content.
    """

    out_dir: Path
    html: Path
    files: list[Path] = field(default_factory=list)
    sidecar: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------
def notebook_path(name: str) -> Path:
    """Path of a bundled notebook (``monthly_briefing``, ``consultation_brief``, ``explore``).

    Looked up in ``$ENVTRACE_NOTEBOOKS``, then in the package (``envtrace/data/notebooks``, a
    link to the repository's ``notebooks/`` that wheel builds turn into copies, so an
    install from ``make wheelhouse`` has them too).
    """
    stem = name.removesuffix(".ipynb")
    dirs = [os.environ.get("ENVTRACE_NOTEBOOKS", ""), str(Path(__file__).resolve().parent / "data" / "notebooks")]
    for d in dirs:
        if d and (Path(d) / f"{stem}.ipynb").is_file():
            return Path(d) / f"{stem}.ipynb"
    raise InputError(f"notebook {stem}.ipynb not found (set ENVTRACE_NOTEBOOKS)")


def last_full_month(
    received_at: Any,
    *,
    wind_times: Any = None,
    tz: str = "Asia/Shanghai",
    today: Any = None,
) -> str:
    """The most recent calendar month that has ended and that the data cover (``YYYY-MM``).

    The data cover up to ``coverage end = max(latest complaint time, latest wind time)``.
    A month is *covered* when the coverage end reaches its last day (00:00 local time in
    ``tz``): a quiet last evening without complaints does not make a month incomplete,
    and hourly wind to the month's end shows the data feed ran to the end. A month has
    *ended* when ``today`` (local date in ``tz``) lies after it. The answer is the latest
    month that is both.

    Parameters
    ----------
    received_at : sequence of timestamps
        Complaint times (naive times are taken as ``tz``).
    wind_times : sequence of timestamps, optional
        Hourly wind times (hour start).
    tz : str
        The dataset's time zone.
    today : date-like, optional
        Today's date (default: now in ``tz``).
    """

    def local(values: Any) -> pd.Series:
        t = pd.to_datetime(pd.Series(values), errors="coerce").dropna()
        if len(t) and t.dt.tz is not None:
            t = t.dt.tz_convert(tz).dt.tz_localize(None)
        return t

    t = local(received_at)
    if t.empty:
        raise InputError("no complaint with a usable time: cannot find the last full month")
    end = t.max()
    if wind_times is not None:
        w = local(wind_times)
        if len(w):
            end = max(end, w.max())
    period = pd.Period(year=end.year, month=end.month, freq="M")
    last_day = pd.Timestamp(year=end.year, month=end.month, day=end.days_in_month)
    covered = period if end >= last_day else period - 1
    now = pd.Timestamp.now(tz=tz).tz_localize(None) if today is None else pd.Timestamp(today)
    if now.tzinfo is not None:
        now = now.tz_convert(tz).tz_localize(None)
    ended = pd.Period(year=now.year, month=now.month, freq="M") - 1
    return str(min(covered, ended))


def resolve_month(
    month: str | None,
    complaints: pd.DataFrame | None = None,
    *,
    wind: pd.DataFrame | None = None,
    tz: str = "Asia/Shanghai",
    today: Any = None,
) -> str:
    """``'last'``/None → :func:`last_full_month` (complaints and wind); ``'2026-10'`` → itself (validated)."""
    if month in (None, "", "last"):
        if complaints is None or "received_at" not in complaints:
            raise InputError("month 'last' needs complaints with received_at")
        wind_times = wind["time"] if wind is not None and "time" in wind else None
        return last_full_month(complaints["received_at"], wind_times=wind_times, tz=tz, today=today)
    import re

    hit = re.fullmatch(r"(\d{4})-(\d{1,2})", str(month).strip())
    if not hit or not 1 <= int(hit.group(2)) <= 12:
        raise InputError(f"bad month {month!r}; use YYYY-MM or 'last'")
    return f"{int(hit.group(1)):04d}-{int(hit.group(2)):02d}"


def _month_mask(times: pd.Series, month: str, tz: str) -> np.ndarray:
    t = pd.to_datetime(times, errors="coerce")
    if t.dt.tz is not None:
        t = t.dt.tz_convert(tz)
    return (t.dt.strftime("%Y-%m") == month).fillna(False).to_numpy(dtype=bool)


def _tz(dataset: Any) -> str:
    cfg = getattr(dataset, "config", None)
    return str(getattr(cfg, "tz", None) or getattr(cfg, "timezone", None) or "Asia/Shanghai")


def _month_dataset(dataset: Any, month: str) -> Any:
    mask = _month_mask(dataset.complaints["received_at"], month, _tz(dataset))
    return dataclasses.replace(dataset, complaints=dataset.complaints[mask].reset_index(drop=True))


def _input_hashes(data_dir: Path) -> dict[str, str]:
    out = {}
    if data_dir.is_dir():
        for p in sorted(data_dir.iterdir()):
            if p.is_file() and p.suffix.lower() in {".csv", ".xlsx", ".geojson", ".gpkg", ".toml"}:
                out[p.name] = sha256_file(p)
    return out


# ---------------------------------------------------------------------------------------
# context for the notebooks
# ---------------------------------------------------------------------------------------
@dataclass
class MonthlyContext:
    """Everything the monthly briefing shows (see :func:`monthly_context`)."""

    month: str
    previous_month: str
    lang: str
    dataset: Any
    trace: Any
    cases: pd.DataFrame
    kpis: pd.DataFrame
    kpis_by_area: pd.DataFrame
    hotspots: pd.DataFrame
    top_suspects: pd.DataFrame
    map: Any
    counts: dict[str, int] = field(default_factory=dict)


def _case_events(ledger: Any) -> pd.DataFrame:
    """``case_id, cluster_id`` links from the ledger (read-only)."""
    return ledger.case_events()[["case_id", "cluster_id"]]


def _ledger_events(ledger: Any, cluster_ids: list[str]) -> pd.DataFrame:
    """The ledger's stored events (``start``/``end`` local time), one row per cluster."""
    ev = ledger.case_events()
    return ev[ev["cluster_id"].isin(cluster_ids)].drop(columns="case_id").drop_duplicates("cluster_id")


def _cases_with_clusters(ledger: Any, cases: pd.DataFrame) -> pd.DataFrame:
    links = _case_events(ledger)
    if cases.empty or links.empty:
        return cases.assign(cluster_id=pd.Series(dtype=object))
    return cases.merge(links, on="case_id", how="inner")


def _top_suspects(trace: Any, n: int = 10) -> pd.DataFrame:
    cand = trace.candidates
    cols = ["cluster_id", "category", "n_complaints", "enterprise_id", "name", "score", "distance_m", "p_value", "evidence"]
    if cand is None or len(cand) == 0:
        return pd.DataFrame(columns=cols)
    top = cand[pd.to_numeric(cand["rank"], errors="coerce") == 1]
    ev = pd.DataFrame(trace.events)[["cluster_id", "category", "n_complaints"]]
    top = top.merge(ev, on="cluster_id", how="left")
    return top.sort_values(["score", "n_complaints"], ascending=False).head(n)[cols].reset_index(drop=True)


def monthly_context(
    data_dir: str | os.PathLike[str],
    month: str = "last",
    *,
    db_url: str | None = None,
    lang: str = "zh",
    internal: bool = False,
    basemap: str | None = None,
    n_permutations: int = 999,
    seed: int = 0,
    trend_months: int = 6,
) -> MonthlyContext:
    """Load, trace and update the ledger for ``month`` and gather the monthly briefing.

    The ledger is updated for the previous month and ``month`` (idempotent: a month
    already in the ledger writes nothing), so the KPIs have a comparison.

    Parameters
    ----------
    data_dir : path
        Dataset folder.
    month : str
        ``YYYY-MM`` or ``'last'`` (see :func:`last_full_month`: ended and covered by complaints or wind).
    db_url : str, optional
        Ledger URL (default ``sqlite:///var/ledger.sqlite``).
    lang, internal, basemap
        Language, staff map with points, base map (:mod:`envtrace.maps`).
    n_permutations, seed
        For the traces' p-values.
    trend_months : int
        Months of history for the hotspot trends.
    """
    from envtrace import events as ev_mod
    from envtrace import io, maps, pipeline
    from envtrace.ledger import Ledger

    dataset = io.load_dataset(data_dir)
    tz = _tz(dataset)
    month = resolve_month(month, dataset.complaints, wind=dataset.wind, tz=tz)
    prev = str(pd.Period(month, freq="M") - 1)
    ledger = Ledger(db_url)
    try:
        prev_ds = _month_dataset(dataset, prev)
        if len(prev_ds.complaints):
            ledger.update(dataset, prev, trace=lambda d: pipeline.trace(
                d, n_permutations=n_permutations, lang=lang, seed=seed))
        month_ds = _month_dataset(dataset, month)
        if len(month_ds.complaints) == 0:
            raise InputError(f"no complaints in {month}")
        result = pipeline.trace(month_ds, n_permutations=n_permutations, lang=lang, seed=seed)
        ledger.update(dataset, month, trace=result)
        end = pd.Period(month, freq="M").end_time.date()
        cases = ledger.cases(as_of=end)
        kpis = ledger.kpis(month)
        kpis_area = ledger.kpis(month, by_area=True)
        cases_map = _cases_with_clusters(ledger, cases)
    finally:
        ledger.close()
    months = [str(pd.Period(month, freq="M") - k) for k in range(trend_months - 1, -1, -1)]
    upto = dataset.complaints[
        pd.to_datetime(dataset.complaints["received_at"]).dt.tz_convert(tz).dt.strftime("%Y-%m").isin(months).to_numpy()
    ]
    try:
        hotspots = ev_mod.hotspot_trends(upto, months=months)
    except (ValueError, InputError) as exc:  # too little data for trends
        warnings.warn(f"hotspot trends skipped: {exc}", stacklevel=2)
        hotspots = pd.DataFrame(columns=["cluster_id", "category", "label", "n_complaints"])
    m = maps.event_map(
        result.events, candidates=result.candidates, enterprises=dataset.enterprises,
        cases=cases_map, wind=dataset.wind, complaints=result.complaints, areas=dataset.areas,
        internal=internal, basemap=basemap, lang=lang,
    )
    counts = {
        # rows of the complaints file only (rejects also list wind, alarm, ... rows)
        "complaints_read": int(len(dataset.complaints) + int(dataset.rejects["source_file"].isin(
            set(dataset.complaints["source_file"].astype(str))).sum()
            if "source_file" in dataset.complaints and "source_file" in dataset.rejects else 0)),
        "complaints_month": int(len(month_ds.complaints)),
        "rejects": int(len(dataset.rejects)),
        "events": int(len(result.events)),
        "candidates": int(len(result.candidates)),
        "cases": int(len(cases)),
    }
    return MonthlyContext(
        month=month, previous_month=prev, lang=lang, dataset=dataset, trace=result,
        cases=cases, kpis=kpis, kpis_by_area=kpis_area, hotspots=hotspots,
        top_suspects=_top_suspects(result), map=m, counts=counts,
    )


@dataclass
class CaseContext:
    """Everything the consultation brief shows (see :func:`case_context`)."""

    case_id: str
    lang: str
    case: pd.Series
    events: Any
    candidates: pd.DataFrame
    history: pd.DataFrame
    actions: pd.DataFrame
    alarms: pd.DataFrame
    wind_png: bytes | None
    timeline: pd.DataFrame
    map: Any
    counts: dict[str, int] = field(default_factory=dict)


def case_context(
    case_id: str,
    data_dir: str | os.PathLike[str],
    *,
    db_url: str | None = None,
    lang: str = "zh",
    internal: bool = False,
    basemap: str | None = None,
    n_permutations: int = 999,
    seed: int = 0,
) -> CaseContext:
    """Gather one ledger case for the expert team (一案一策).

    The case's events come from the ledger; its suspects with evidence from tracing the
    months those events fall in; alarms of the suspects within the events' period ±3 days;
    the inspection history from the ledger's actions and the dataset's ``actions``.
    """
    import geopandas as gpd
    import shapely

    from envtrace import io, maps, pipeline
    from envtrace.ledger import Ledger

    dataset = io.load_dataset(data_dir)
    tz = _tz(dataset)
    ledger = Ledger(db_url)
    try:
        cases = ledger.cases()
        hit = cases[cases["case_id"].astype(str) == str(case_id)]
        if hit.empty:
            raise InputError(f"no case {case_id} in the ledger")
        case = hit.iloc[0]
        links = _case_events(ledger)
        cids = links.loc[links["case_id"].astype(str) == str(case_id), "cluster_id"].astype(str).tolist()
        ev_rows = _ledger_events(ledger, cids)
        history = ledger.history(str(case_id))
        actions = ledger.actions(str(case_id))
        actions = actions[[c for c in ("date", "action", "enterprise_id", "complaint_id", "persons", "note")
                           if c in actions]]
    finally:
        ledger.close()
    geoms = [
        shapely.from_wkt(w) if isinstance(w, str) and w else shapely.Point(lo, la)
        for w, lo, la in zip(ev_rows.get("footprint_wkt", []), ev_rows.get("lon", []), ev_rows.get("lat", []), strict=False)
    ]
    events = gpd.GeoDataFrame(ev_rows.drop(columns=["footprint_wkt"], errors="ignore"), geometry=geoms, crs="EPSG:4326")
    for col in ("start", "end"):
        if col in events:
            events[col] = pd.to_datetime(events[col]).dt.tz_convert(tz)
    candidates = pd.DataFrame(columns=["cluster_id", "rank", "enterprise_id", "name", "score",
                                       "distance_m", "bearing_deg", "p_value", "evidence"])
    for mon in sorted(set(events["month"].astype(str))) if "month" in events else []:
        res = pipeline.trace(_month_dataset(dataset, mon), n_permutations=n_permutations, lang=lang, seed=seed)
        cand = res.candidates[res.candidates["cluster_id"].astype(str).isin(cids)]
        candidates = pd.concat([candidates, cand], ignore_index=True) if len(candidates) else cand
    start = events["start"].min() if len(events) else None
    end = events["end"].max() if len(events) else None
    alarms = dataset.alarms if dataset.alarms is not None else pd.DataFrame()
    if len(alarms) and start is not None:
        suspects = set(candidates["enterprise_id"].astype(str)) | {str(case.get("enterprise_id", ""))}
        t = pd.to_datetime(alarms["time"])
        keep = alarms["enterprise_id"].astype(str).isin(suspects) & (t >= start - pd.Timedelta(days=3)) & (
            t <= end + pd.Timedelta(days=3))
        alarms = alarms[keep.to_numpy()].reset_index(drop=True)
    wind_png = maps.wind_rose_png(dataset.wind, start=start, end=end, lang=lang,
                                  lon=float(events["lon"].mean()) if len(events) else None,
                                  lat=float(events["lat"].mean()) if len(events) else None,
                                  size_in=3.0, dpi=150) if len(events) else None
    timeline = pd.concat(
        [
            pd.DataFrame({"time": events.get("start", []), "what": [
                f"{label('event', lang)} {c} ({category_label(k, lang)}, n={n})"
                for c, k, n in zip(events.get("cluster_id", []), events.get("category", []),
                                   events.get("n_complaints", []), strict=False)]}),
            pd.DataFrame({"time": pd.to_datetime(history.get("at", pd.Series(dtype=object))),
                          "what": [_history_text(f, o, n, lang) for f, o, n in zip(
                              history.get("field", []), history.get("old", []), history.get("new", []), strict=False)]}),
        ],
        ignore_index=True,
    )
    timeline["time"] = pd.to_datetime(timeline["time"], utc=True).dt.tz_convert(tz)
    timeline = timeline.sort_values("time").reset_index(drop=True)
    cases_map = pd.DataFrame({"case_id": [case_id] * len(cids), "cluster_id": cids,
                              "colour": [case["colour"]] * len(cids)})
    m = maps.event_map(events, candidates=candidates, enterprises=dataset.enterprises, cases=cases_map,
                       wind=dataset.wind, areas=dataset.areas, internal=internal, basemap=basemap, lang=lang)
    counts = {"events": int(len(events)), "candidates": int(len(candidates)), "alarms": int(len(alarms)),
              "actions": int(len(actions))}
    return CaseContext(case_id=str(case_id), lang=lang, case=case, events=events, candidates=candidates,
                       history=history, actions=actions, alarms=alarms, wind_png=wind_png,
                       timeline=timeline, map=m, counts=counts)


@dataclass
class ExploreContext:
    """What the explore notebook shows (see :func:`explore_context`)."""

    dataset: Any
    trace: Any
    rejects_summary: pd.DataFrame
    categories: pd.DataFrame
    map: Any


def explore_context(
    data_dir: str | os.PathLike[str],
    *,
    month: str | None = None,
    lang: str = "zh",
    internal: bool = True,
    basemap: str | None = None,
    n_permutations: int = 199,
    seed: int = 0,
) -> ExploreContext:
    """Load a dataset folder, trace it (one month, or everything) and summarise it."""
    from envtrace import io, maps, pipeline

    dataset = io.load_dataset(data_dir)
    ds = _month_dataset(dataset, resolve_month(month, dataset.complaints, wind=dataset.wind, tz=_tz(dataset))) if month else dataset
    result = pipeline.trace(ds, n_permutations=n_permutations, lang=lang, seed=seed)
    rej = dataset.rejects
    reason = rej["reason"].astype(str).str.split(":").str[0] if len(rej) else pd.Series(dtype=str)
    rejects_summary = (
        pd.DataFrame({"source_file": rej.get("source_file", pd.Series(dtype=str)), "reason": reason})
        .value_counts().rename("n").reset_index()
    )
    cats = result.complaints["category"].astype(str).value_counts().rename("n").reset_index()
    cats["label"] = [category_label(c, lang) for c in cats["category"]]
    m = maps.event_map(result.events, candidates=result.candidates, enterprises=dataset.enterprises,
                       wind=dataset.wind, complaints=result.complaints, areas=dataset.areas,
                       internal=internal, basemap=basemap, lang=lang)
    return ExploreContext(dataset=dataset, trace=result, rejects_summary=rejects_summary, categories=cats, map=m)


# ---------------------------------------------------------------------------------------
# display helpers (notebooks)
# ---------------------------------------------------------------------------------------
def _fmt_kpi(kpi: str, value: Any) -> str:
    """A KPI value for reading: rates (``*_rate``) as percentages, counts as integers."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    if not np.isfinite(v):
        return ""
    if str(kpi).endswith("_rate"):
        return f"{v:.1%}"
    return str(int(round(v))) if v == round(v) else f"{v:.1f}"


def _fmt_change(kpi: str, value: Any, lang: str) -> str:
    """A KPI's change, signed: counts as ``+17``, rates in percentage points (``+15.2 个百分点``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    if not np.isfinite(v):
        return ""
    if str(kpi).endswith("_rate"):
        pts = round(v * 100, 1) + 0.0
        return f"{pts:+.1f} {label('pct_points', lang)}" if pts else "0"
    return f"{int(round(v)):+d}" if v == round(v) and round(v) != 0 else ("0" if v == 0 else f"{v:+.1f}")


def kpi_table(kpis: pd.DataFrame, *, lang: str = "zh", area: str | None = None) -> pd.DataFrame:
    """KPIs of one area (default: the county) as ``kpi, this month, previous, change``."""
    if kpis is None or kpis.empty:
        return pd.DataFrame()
    k = kpis if area is None else kpis[kpis["area"] == area]
    if area is None:
        k = k[k["area"] == k["area"].iloc[0]]
    out = k[["kpi", "value", "previous", "change"]].copy()
    for c in ("value", "previous"):
        out[c] = [_fmt_kpi(kpi, v) for kpi, v in zip(out["kpi"], out[c], strict=True)]
    out["change"] = [_fmt_change(kpi, v, lang) for kpi, v in zip(out["kpi"], out["change"], strict=True)]
    out["kpi"] = [label(f"kpi_{x}", lang) if f"kpi_{x}" in _KPI_KEYS else x for x in out["kpi"]]
    out.columns = [label("kpi", lang), label("this_month", lang), label("previous_month", lang), label("change", lang)]
    return out.reset_index(drop=True)


_KPI_KEYS = {"kpi_received", "kpi_closed", "kpi_closure_rate", "kpi_on_time_rate", "kpi_satisfaction_rate",
             "kpi_inspections", "kpi_inspection_person_times", "kpi_penalty_cases", "kpi_police_transfers",
             "kpi_recurrences", "kpi_cases_opened"}


def show(table: pd.DataFrame) -> Any:
    """A table for display in a brief: no index column, numbers to 3 significant places."""
    return table.style.hide(axis="index").format(precision=3, na_rep="")


def area_table(kpis_by_area: pd.DataFrame, *, lang: str = "zh",
               kpis: tuple[str, ...] = ("received", "closure_rate", "on_time_rate", "recurrences")) -> pd.DataFrame:
    """Selected KPIs per township, this month and the previous one (wide table of text).

    Counts are written as integers and rates (``*_rate``) as percentages, as in
    :func:`kpi_table`; a KPI without a value (no complaint in a township) is left blank.
    """
    if kpis_by_area is None or kpis_by_area.empty:
        return pd.DataFrame()
    k = kpis_by_area[kpis_by_area["kpi"].isin(kpis)]
    areas = list(dict.fromkeys(k["area"]))
    first = k.drop_duplicates(["area", "kpi"]).set_index(["area", "kpi"])
    out = pd.DataFrame({label("areas", lang): [_area_label(a, lang) for a in areas]})
    for kpi in (x for x in kpis if x in set(k["kpi"])):
        for col, when in (("value", "this_month"), ("previous", "previous_month")):
            out[f"{label('kpi_' + kpi, lang)} ({label(when, lang)})"] = [
                _fmt_kpi(kpi, first[col].get((a, kpi), np.nan)) for a in areas]
    return out


# trend labels of envtrace.events.hotspot_trends, in reading order; "none" is not shown
_TRENDS = ("intensifying", "new", "persistent", "sporadic", "diminishing")


def place_names(lon: Any, lat: Any, areas: Any, *, lang: str = "zh") -> pd.DataFrame:
    """Township and a short place description for points, for readers of a brief.

    The township is the ``areas`` polygon containing the point (else the nearest one); the
    description places the point from the nearest township centre (a representative point
    of its polygon) with an 8-point direction and the distance in km, e.g. ``高桥镇中心
    东北 1.2 公里`` / ``1.2 km NE of 高桥镇 centre``; within 300 m: ``高桥镇中心附近``.

    Parameters
    ----------
    lon, lat : array-like
        WGS84 degrees.
    areas : GeoDataFrame or None
        Township polygons with ``area`` (or ``name``); without it both columns are ``""``.

    Returns
    -------
    DataFrame
        ``township, place`` (strings), one row per point.
    """
    import shapely

    from envtrace import geo
    from envtrace.i18n import direction_labels

    lon = np.asarray(lon, dtype=float).ravel()
    lat = np.asarray(lat, dtype=float).ravel()
    col = None if areas is None else "area" if "area" in areas else "name" if "name" in areas else None
    if col is None or len(areas) == 0 or len(lon) == 0:
        return pd.DataFrame({"township": [""] * len(lon), "place": [""] * len(lon)})
    g = areas[areas.geometry.notna()]
    if getattr(g, "crs", None) is not None and not g.crs.equals("EPSG:4326"):
        g = g.to_crs("EPSG:4326")
    names = g[col].astype(str).to_numpy()
    polys = np.asarray(g.geometry)
    pts = shapely.points(lon, lat)
    centres = shapely.point_on_surface(polys)
    clon, clat = shapely.get_x(centres), shapely.get_y(centres)
    dirs = direction_labels(lang)[::2]
    town, place = [], []
    for i, pt in enumerate(pts):
        inside = np.flatnonzero(shapely.contains(polys, pt))
        d_poly = shapely.distance(polys, pt)
        town.append(str(names[inside[0]] if len(inside) else names[int(np.argmin(d_poly))]))
        d, b = geo.distance_bearing(clon, clat, np.full(len(clon), lon[i]), np.full(len(clat), lat[i]))
        j = int(np.nanargmin(d))
        km, name = float(d[j]) / 1000.0, str(names[j])
        if km < 0.3:
            place.append(f"{name}中心附近" if lang == "zh" else f"near {name} centre")
            continue
        direction = dirs[int(round(float(b[j]) / 45.0)) % 8]
        place.append(f"{name}中心{direction} {km:.1f} 公里" if lang == "zh"
                     else f"{km:.1f} km {direction} of {name} centre")
    return pd.DataFrame({"township": town, "place": place})


def hotspot_table(hotspots: pd.DataFrame, *, lang: str = "zh", areas: Any = None) -> pd.DataFrame:
    """Hotspots with a trend, for readers: where (township, place), what, which trend.

    Trends (:func:`envtrace.events.hotspot_trends`) and their labels: intensifying 加剧,
    new 新出现, persistent 持续, sporadic 零星, diminishing 减弱 (``none``, never hot, is
    left out); rows in that order, then by complaints. The hotspot id is left out: the
    township and place (see :func:`place_names`) say where it is.
    """
    if hotspots is None or hotspots.empty or "label" not in hotspots:
        return pd.DataFrame(columns=[label("areas", lang), label("place", lang), label("category", lang),
                                     label("trend", lang)])
    h = hotspots[hotspots["label"].isin(_TRENDS)].copy()
    h["_o"] = [_TRENDS.index(x) for x in h["label"]]
    h = h.sort_values(["_o", "n_complaints"], ascending=[True, False]).reset_index(drop=True)
    where = place_names(h["lon"], h["lat"], areas, lang=lang) if {"lon", "lat"} <= set(h.columns) else None
    out = pd.DataFrame({
        label("areas", lang): where["township"] if where is not None else "",
        label("place", lang): where["place"] if where is not None else "",
        label("category", lang): [category_label(c, lang) for c in h["category"]],
        label("trend", lang): [label(f"trend_{x}", lang) for x in h["label"]],
        label("n_complaints", lang): pd.to_numeric(h["n_complaints"], errors="coerce").fillna(0).astype(int),
        label("n_hot_months", lang): pd.to_numeric(h.get("n_hot_months", 0), errors="coerce").fillna(0).astype(int),
    })
    for m in (c for c in h.columns if len(str(c)) == 7 and str(c)[4] == "-"):
        out[str(m)] = pd.to_numeric(h[m], errors="coerce").fillna(0).astype(int)
    return out


def suspect_table(candidates: pd.DataFrame, *, lang: str = "zh") -> pd.DataFrame:
    """Suspects with evidence and p-values, columns labelled in ``lang``."""
    cols = [c for c in ("cluster_id", "rank", "category", "n_complaints", "enterprise_id", "name", "score",
                        "distance_m", "p_value", "evidence") if c in candidates]
    t = candidates[cols].copy()
    if "category" in t:
        t["category"] = [category_label(c, lang) for c in t["category"]]
    # written out as text, so a display's fixed precision cannot print "1092.000 m"
    for c, fmt in (("score", "{:.2f}"), ("distance_m", "{:.0f}"), ("p_value", "{:.3f}"), ("n_complaints", "{:.0f}"),
                   ("rank", "{:.0f}")):
        if c in t:
            v = pd.to_numeric(t[c], errors="coerce")
            t[c] = ["" if pd.isna(x) else "<0.001" if c == "p_value" and x < 0.001 else fmt.format(x) for x in v]
    names = {"cluster_id": label("event", lang), "rank": label("rank", lang), "category": label("category", lang),
             "n_complaints": label("n_complaints", lang), "enterprise_id": "ID", "name": label("enterprise", lang),
             "score": label("score", lang), "distance_m": label("distance_m", lang),
             "p_value": label("p_value", lang), "evidence": label("evidence", lang)}
    return t.rename(columns=names).reset_index(drop=True)


def summary_markdown(ctx: MonthlyContext) -> str:
    """One paragraph of headline counts for the monthly briefing."""
    c, lang = ctx.counts, ctx.lang
    colours = ctx.cases["colour"].value_counts().to_dict() if "colour" in ctx.cases else {}
    parts = [
        f"**{label('month', lang)}**: {ctx.month}",
        f"**{label('complaints', lang)}**: {c.get('complaints_month', 0)}",
        f"**{label('events', lang)}**: {c.get('events', 0)}",
        f"**{label('ledger', lang)}**: " + ", ".join(
            f"{colour_label(k, lang)} {int(colours.get(k, 0))}" for k in ("red", "yellow", "blue", "green")),
        f"**{label('rejects', lang)}**: {c.get('rejects', 0)}",
    ]
    return " · ".join(parts)


def case_markdown(ctx: CaseContext) -> str:
    """The case's ledger status as a short Markdown list."""
    lang, c = ctx.lang, ctx.case
    rows = [("case_status", f"{colour_label(str(c.get('colour', '')), lang)} · {_status(c.get('status', ''), lang)}"),
            ("category", category_label(str(c.get("category", "")), lang)),
            ("areas", c.get("area", "")), ("enterprise", c.get("enterprise_name", "")),
            ("owner", c.get("owner", "")), ("deadline", c.get("deadline", "")),
            ("n_complaints", c.get("n_complaints", "")), ("events", ctx.counts.get("events", 0))]
    return "\n".join(f"- **{label(k, lang)}**: {'—' if v is None or (not isinstance(v, str) and pd.isna(v)) or v == '' else v}"
                     for k, v in rows)


def _status(value: Any, lang: str) -> str:
    return label(f"status_{value}", lang) if f"status_{value}" in _STATUS_KEYS else ("" if pd.isna(value) else str(value))


def _history_text(fld: Any, old: Any, new: Any, lang: str) -> str:
    """One ledger history row for the timeline: ``状态: 已立案 → 诊断中``."""
    def val(v: Any) -> str:
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return "—"
        return _status(v, lang) if fld == "status" else str(v) or "—"

    name = {"status": "status", "owner": "owner", "deadline": "deadline", "event": "event",
            "colour": "colour"}.get(str(fld))
    return f"{label(name, lang) if name else fld}: {val(old)} → {val(new)}"


def _time_text(values: Any) -> list[str]:
    t = pd.to_datetime(pd.Series(values), errors="coerce")
    return ["" if pd.isna(x) else x.strftime("%Y-%m-%d %H:%M") for x in t]


def timeline_table(timeline: pd.DataFrame, *, lang: str = "zh") -> pd.DataFrame:
    """The case timeline for display: local time to the minute, labelled columns."""
    return pd.DataFrame({label("time", lang): _time_text(timeline.get("time", [])),
                         label("what", lang): list(timeline.get("what", []))})


def alarms_table(alarms: pd.DataFrame, *, lang: str = "zh") -> pd.DataFrame:
    """Online-monitoring alarms for display (no provenance columns)."""
    if alarms is None or len(alarms) == 0:
        return pd.DataFrame({label("no_data", lang): []})
    out = pd.DataFrame({label("enterprise", lang): alarms["enterprise_id"].astype(str).to_numpy(),
                        label("time", lang): _time_text(alarms["time"])})
    for col in ("pollutant", "value", "limit"):
        if col in alarms:
            vals = alarms[col] if col == "pollutant" else pd.to_numeric(alarms[col], errors="coerce")
            out[label(col, lang)] = [str(x) if col == "pollutant" else ("" if pd.isna(x) else f"{x:g}") for x in vals]
    return out


def actions_table(actions: pd.DataFrame, *, lang: str = "zh") -> pd.DataFrame:
    """What staff did on the case, for display: action names in ``lang``."""
    if actions is None or len(actions) == 0:
        return pd.DataFrame({label("no_data", lang): []})
    out = pd.DataFrame({label("date", lang): [str(x)[:10] for x in actions["date"]],
                        label("action", lang): [label(f"action_{a}", lang) for a in actions["action"]]})
    for col, key in (("enterprise_id", "enterprise"), ("complaint_id", "complaint_id"), ("persons", "persons"),
                     ("note", "note")):
        if col in actions:
            out[label(key, lang)] = ["" if x is None or (not isinstance(x, str) and pd.isna(x)) else
                                     (str(int(x)) if isinstance(x, float) and x == int(x) else str(x))
                                     for x in actions[col]]
    return out


def proposed_plan(ctx: CaseContext) -> str:
    """A draft plan (一案一策) for the expert team to edit: built from the case's evidence."""
    lang = ctx.lang
    top = ctx.candidates.sort_values(["cluster_id", "rank"]).drop_duplicates("enterprise_id").head(3) \
        if len(ctx.candidates) else ctx.candidates
    lines = []
    for i, r in enumerate(top.itertuples(index=False), start=1):
        lines.append(f"{i}. " + label("plan_inspect", lang).format(name=r.name, id=r.enterprise_id))
    if len(ctx.alarms):
        lines.append(f"{len(lines) + 1}. " + label("plan_alarms", lang).format(n=len(ctx.alarms)))
    if ctx.wind_png:
        lines.append(f"{len(lines) + 1}. " + label("plan_wind", lang))
    lines.append(f"{len(lines) + 1}. " + label("plan_deadline", lang).format(
        deadline=ctx.case.get("deadline", ""), owner=ctx.case.get("owner", "")))
    lines.append(f"{len(lines) + 1}. " + label("plan_verify", lang))
    return "\n".join(lines)


def ledger_table(cases: pd.DataFrame, *, lang: str = "zh") -> pd.DataFrame:
    """The four-colour ledger for display: no personal data (cases carry none)."""
    cols = [c for c in ("case_id", "title", "area", "category", "enterprise_name", "owner", "deadline",
                        "status", "n_complaints", "colour") if c in cases]
    t = cases[cols].copy()
    if lang == "en" and "title" in t:
        # the ledger stores its case titles in Chinese; English briefs say the same in English
        ent = (t["enterprise_name"].fillna("").astype(str) if "enterprise_name" in t
               else pd.Series("", index=t.index))
        t["title"] = [f"{_area_label(a, lang)} {category_label(c, lang).lower()} complaints"
                      + (f", suspected {e}" if e else "")
                      for a, c, e in zip(t.get("area", ""), t.get("category", ""), ent, strict=True)]
    if "owner" in t:
        t["owner"] = [_owner_label(o, lang) for o in t["owner"]]
    if "area" in t:
        t["area"] = [_area_label(a, lang) for a in t["area"]]
    if "category" in t:
        t["category"] = [category_label(c, lang) for c in t["category"]]
    return t.reset_index(drop=True)


def _area_label(area: Any, lang: str) -> str:
    """The ledger's county-total row (``全县``) in ``lang``; township names are data."""
    from envtrace.ledger import TOTAL_AREA

    return label("county_total", lang) if str(area) == TOTAL_AREA else str(area)


def _owner_label(owner: Any, lang: str) -> str:
    """The ledger's default owner (``待指派``) in ``lang``; real owners are data."""
    from envtrace.ledger import LedgerRules

    return label("unassigned", lang) if str(owner) == LedgerRules.default_owner else str(owner)


def style_ledger(table: pd.DataFrame, *, lang: str = "zh") -> Any:
    """A pandas Styler colouring each row's ``colour`` cell (for notebooks), headers and
    status in ``lang``."""
    fills = {k: f"background-color: #{v}" for k, v in _LEDGER_FILL.items()}
    shown = table.assign(colour=[colour_label(c, lang) for c in table["colour"]]) if "colour" in table else table
    if "status" in shown:
        shown = shown.assign(status=[label(f"status_{x}", lang) if f"status_{x}" in _STATUS_KEYS else x
                                     for x in shown["status"]])
    heads = {"case_id": "case_id", "title": "case_name", "area": "areas", "category": "category",
             "enterprise_name": "enterprise", "owner": "owner", "deadline": "deadline", "status": "status",
             "n_complaints": "n_complaints", "colour": "colour"}
    shown = shown.rename(columns={c: label(k, lang) for c, k in heads.items() if c in shown})
    styler = shown.style
    wrap = [label(k, lang) for c, k in heads.items() if c in ("title", "enterprise_name") and c in table]
    if wrap:  # long text wraps, so the status and colour columns stay on the page
        styler = styler.set_properties(subset=wrap, **{"white-space": "normal", "min-width": "10em",
                                                        "max-width": "22em"})
    if "colour" in table:
        styler = styler.apply(lambda col: [fills.get(c, "") for c in table["colour"]], subset=[label("colour", lang)])
    return styler.hide(axis="index")


_STATUS_KEYS = {"status_open", "status_diagnosing", "status_rectifying", "status_closed", "status_verified"}


def png_html(png: bytes | None, *, width: int = 360) -> str:
    """An ``<img>`` with the PNG inline (for ``IPython.display.HTML``)."""
    import base64

    if not png:
        return ""
    return f'<img style="width:{width}px" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def map_iframe(m: Any, *, height: int = 560) -> str:
    """The map as an ``<iframe srcdoc>`` with its assets inlined (works in exported HTML offline)."""
    import html

    from envtrace import maps

    doc = maps.map_html(m, offline=True)
    return (f'<iframe class="envtrace-map" style="width:100%;height:{height}px;border:1px solid #ccc" '
            f'srcdoc="{html.escape(doc, quote=True)}"></iframe>')


def save_artefacts(ctx: Any, out_dir: str | os.PathLike[str] | None) -> Path | None:
    """Write what the exporters need: ``context.json``, ``map.html`` and CSV tables.

    Nothing is written when ``out_dir`` is empty (interactive use).
    """
    from envtrace import maps

    if not out_dir:
        return None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"lang": getattr(ctx, "lang", "zh"), "counts": getattr(ctx, "counts", {})}
    if isinstance(ctx, MonthlyContext):
        meta.update(kind="monthly", month=ctx.month, previous_month=ctx.previous_month)
        ctx.kpis.to_csv(out / "kpis.csv", index=False)
        ctx.kpis_by_area.to_csv(out / "kpis_by_area.csv", index=False)
        ledger_table(ctx.cases, lang=ctx.lang).to_csv(out / "ledger.csv", index=False)
        ev = pd.DataFrame(ctx.trace.events).drop(columns=["geometry"], errors="ignore")
        ev.to_csv(out / "events.csv", index=False)
        ctx.trace.candidates.to_csv(out / "candidates.csv", index=False)
        ctx.hotspots.to_csv(out / "hotspots.csv", index=False)
    elif isinstance(ctx, CaseContext):
        meta.update(kind="case", case_id=ctx.case_id, colour=str(ctx.case.get("colour", "")),
                    status=str(ctx.case.get("status", "")))
        pd.DataFrame([ctx.case]).to_csv(out / "ledger.csv", index=False)
        pd.DataFrame(ctx.events).drop(columns=["geometry"], errors="ignore").to_csv(out / "events.csv", index=False)
        ctx.candidates.to_csv(out / "candidates.csv", index=False)
        ctx.timeline.to_csv(out / "timeline.csv", index=False)
        if ctx.wind_png:
            (out / "wind_rose.png").write_bytes(ctx.wind_png)
    maps.save_map(ctx.map, out / "map.html")
    atomic_write_text(out / "context.json", json.dumps(meta, ensure_ascii=False, indent=2, default=str))
    return out


# ---------------------------------------------------------------------------------------
# execution and export
# ---------------------------------------------------------------------------------------
def ensure_kernel(name: str = KERNEL_NAME) -> str:
    """Make sure a Jupyter kernel ``name`` runs this interpreter; install it (``--sys-prefix``) if missing."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
        return name
    except NoSuchKernel:
        pass
    subprocess.run(
        [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", name,
         "--display-name", f"Python ({name})"],
        check=True, capture_output=True,
    )
    return name


def execute_notebook(
    notebook: str | os.PathLike[str],
    output: str | os.PathLike[str],
    parameters: dict[str, Any],
    *,
    kernel: str = KERNEL_NAME,
    cwd: str | os.PathLike[str] | None = None,
    timeout_s: float = 3600.0,
) -> Path:
    """Run a notebook with papermill (raises ``papermill.PapermillExecutionError`` on a cell error)."""
    import papermill

    ensure_kernel(kernel)
    extra: dict[str, Any] = {}
    if os.name != "nt":
        # the kernel talks over local IPC sockets, not TCP ports: nothing listens on the
        # network during a scheduled run (and ipykernel's warning about unencrypted TCP,
        # printed on every run, goes away)
        extra["kernel_manager_class"] = _ipc_kernel_manager()
    papermill.execute_notebook(
        str(notebook), str(output), parameters=parameters, kernel_name=kernel,
        cwd=str(cwd) if cwd else None, progress_bar=False, log_output=False,
        execution_timeout=timeout_s, request_save_on_cell_execute=False, **extra,
    )
    return Path(output)


def _ipc_kernel_manager() -> type:
    """An ``AsyncKernelManager`` whose kernels use the ``ipc`` transport."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    return IPCKernelManager


_CJK_CSS = (
    "<style>body, .jp-RenderedHTMLCommon, .jp-RenderedMarkdown, table {font-family: "
    '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", '
    '"PingFang SC", sans-serif;} '
    # short cells (category, rank, score) on one line; the last column (evidence, note) wraps
    "td:not(:last-child) {white-space: nowrap;} "
    # a table wider than the page scrolls inside its own box instead of being cut off
    ".jp-OutputArea-output {overflow-x: auto;}</style>"
)


def notebook_to_html(notebook: str | os.PathLike[str], *, lang: str = "zh") -> str:
    """Export an executed notebook to HTML without code cells or prompts, for offline reading.

    The page is tagged ``lang="zh-CN"`` (or ``en``) with a Simplified-Chinese font first,
    so Chromium draws Han characters with Chinese, not Japanese, glyph forms; nbconvert's
    CDN scripts (require.js, MathJax — a brief has no widgets or formulas) are dropped so
    the file needs no network.
    """
    import re

    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4)
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    body = re.sub(r'<script\b[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>', "", body, flags=re.I)
    body = re.sub(r"<html\b[^>]*>", f'<html lang="{"zh-CN" if lang == "zh" else "en"}">', body, count=1)
    return body.replace("</head>", _CJK_CSS + "</head>", 1)


def chromium_path() -> str | None:
    """Debian's Chromium (``/usr/bin/chromium``) or another on PATH; envtrace never downloads one."""
    for cand in (os.environ.get("ENVTRACE_CHROMIUM", ""), "/usr/bin/chromium"):
        if cand and Path(cand).is_file():
            return cand
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextlib.contextmanager
def _browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise BriefError("Chromium not found (apt-get install chromium); needed for PDF and map images")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _offline_page(browser: Any, *, width: int, height: int) -> Any:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file://", "data:", "about:"))
               else r.abort())
    return page


def html_to_pdf(html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str]) -> Path:
    """Print an HTML file to PDF (A4) with headless Chromium, network blocked."""
    with _browser() as browser:
        page = _offline_page(browser, width=1200, height=900)
        page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
        page.wait_for_timeout(1200)
        page.pdf(path=str(pdf_path), format="A4", print_background=True,
                 margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"})
    return Path(pdf_path)


def screenshot(html_path: str | os.PathLike[str], png_path: str | os.PathLike[str], *,
               width: int = 1200, height: int = 800, full_page: bool = False) -> Path:
    """Screenshot an HTML file (e.g. a map) with headless Chromium, network blocked."""
    with _browser() as browser:
        page = _offline_page(browser, width=width, height=height)
        page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
        page.wait_for_timeout(1200)
        page.screenshot(path=str(png_path), full_page=full_page)
    return Path(png_path)


def write_xlsx(artefacts: Path, path: Path, *, lang: str = "zh") -> Path:
    """Excel workbook: events, suspects and (when present) the ledger, KPIs."""
    from openpyxl.styles import PatternFill

    sheets = [("events.csv", label("events_sheet", lang)), ("candidates.csv", label("suspects_sheet", lang)),
              ("ledger.csv", label("ledger", lang)), ("kpis.csv", label("kpis", lang))]
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for fname, sheet in sheets:
            f = artefacts / fname
            if f.is_file():
                df = pd.read_csv(f, dtype=str, keep_default_na=False)
                df.to_excel(xw, sheet_name=sheet[:31], index=False)
                if fname == "ledger.csv" and "colour" in df:
                    ws = xw.sheets[sheet[:31]]
                    col = list(df.columns).index("colour") + 1
                    for i, c in enumerate(df["colour"], start=2):
                        if c in _LEDGER_FILL:
                            ws.cell(row=i, column=col).fill = PatternFill("solid", fgColor=_LEDGER_FILL[c])
    return path


def write_docx(artefacts: Path, path: Path, *, lang: str = "zh", title: str, images: list[Path]) -> Path:
    """Word document: headings, KPI table, ledger table with coloured cells, images."""
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    doc = Document()
    doc.add_heading(title, level=0)

    def table(df: pd.DataFrame, *, colour_col: str | None = None) -> None:
        t = doc.add_table(rows=1, cols=len(df.columns))
        t.style = "Table Grid"
        for j, c in enumerate(df.columns):
            t.rows[0].cells[j].text = str(c)
        for _, row in df.iterrows():
            cells = t.add_row().cells
            for j, c in enumerate(df.columns):
                cells[j].text = "" if pd.isna(row[c]) else str(row[c])
                if colour_col is not None and c == colour_col and row[c] in _LEDGER_FILL:
                    shd = OxmlElement("w:shd")
                    shd.set(qn("w:val"), "clear")
                    shd.set(qn("w:fill"), _LEDGER_FILL[row[c]])
                    cells[j]._tc.get_or_add_tcPr().append(shd)

    kpis = artefacts / "kpis.csv"
    if kpis.is_file():
        doc.add_heading(label("kpis", lang), level=1)
        k = pd.read_csv(kpis, dtype={"area": str})
        if len(k):
            table(kpi_table(k, lang=lang))  # counts as integers, rates as percentages
    ledger_csv = artefacts / "ledger.csv"
    if ledger_csv.is_file():
        doc.add_heading(label("ledger", lang), level=1)
        df = pd.read_csv(ledger_csv, dtype=str, keep_default_na=False)
        keep = [c for c in ("case_id", "title", "area", "owner", "deadline", "status", "colour") if c in df]
        table(df[keep].head(60), colour_col="colour")
    cands = artefacts / "candidates.csv"
    if cands.is_file():
        doc.add_heading(label("top_suspects", lang), level=1)
        df = pd.read_csv(cands, dtype=str, keep_default_na=False)
        df = df[df["rank"] == "1"] if "rank" in df and "kpis.csv" in os.listdir(artefacts) else df
        keep = [c for c in ("cluster_id", "rank", "enterprise_id", "name", "score", "p_value") if c in df]
        table(df[keep].head(20))
    for img in images:
        if img.is_file():
            doc.add_heading(label("map" if "map" in img.name else "wind_analysis", lang), level=1)
            doc.add_picture(str(img), width=Cm(16))
    buf = _io.BytesIO()
    doc.save(buf)
    path.write_bytes(buf.getvalue())
    return path


@contextlib.contextmanager
def _lock(out: Path, name: str) -> Iterator[None]:
    lock_dir = out / ".locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_dir / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise BriefError(f"another run of the {name} brief is in progress") from None
            raise
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _run(
    *,
    kind: str,
    notebook: str,
    parameters: dict[str, Any],
    data_dir: Path,
    out: Path,
    target_of: Any,
    title_key: str,
    lang: str,
    pdf: bool,
    docx: bool,
    on_failure: str | None,
    lock_name: str,
    kernel: str,
) -> BriefResult:
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with _lock(out, lock_name):
        work = Path(tempfile.mkdtemp(prefix=f".{kind}-", dir=out))
        nb_out = work / Path(notebook).name
        log_lines: list[str] = []
        durations: dict[str, float] = {}
        try:
            artefacts = work / "artefacts"
            params = dict(parameters, artefacts_dir=str(artefacts))
            t0 = time.time()
            execute_notebook(notebook_path(notebook), nb_out, params, kernel=kernel, cwd=Path.cwd())
            durations["execute_s"] = round(time.time() - t0, 2)
            meta = json.loads((artefacts / "context.json").read_text(encoding="utf-8"))
            target = target_of(meta)
            with atomic_dir(target) as tmp:
                files: list[Path] = []
                shutil.copy2(nb_out, tmp / nb_out.name)
                t0 = time.time()
                html_file = tmp / f"{Path(notebook).stem}.html"
                html_file.write_text(notebook_to_html(nb_out, lang=lang), encoding="utf-8")
                shutil.copy2(artefacts / "map.html", tmp / "map.html")
                files += [tmp / nb_out.name, html_file, tmp / "map.html"]
                durations["html_s"] = round(time.time() - t0, 2)
                images: list[Path] = []
                if docx and chromium_path():
                    t0 = time.time()
                    images.append(screenshot(tmp / "map.html", tmp / "map.png", width=1100, height=750))
                    durations["screenshot_s"] = round(time.time() - t0, 2)
                if (artefacts / "wind_rose.png").is_file():
                    shutil.copy2(artefacts / "wind_rose.png", tmp / "wind_rose.png")
                    images.append(tmp / "wind_rose.png")
                files += images
                if pdf:
                    t0 = time.time()
                    files.append(html_to_pdf(html_file, tmp / f"{Path(notebook).stem}.pdf"))
                    durations["pdf_s"] = round(time.time() - t0, 2)
                if docx:
                    t0 = time.time()
                    files.append(write_docx(artefacts, tmp / f"{Path(notebook).stem}.docx", lang=lang,
                                            title=label(title_key, lang), images=images))
                    durations["docx_s"] = round(time.time() - t0, 2)
                files.append(write_xlsx(artefacts, tmp / f"{Path(notebook).stem}.xlsx", lang=lang))
                durations["total_s"] = round(time.time() - started, 2)
                sidecar = {
                    "kind": kind,
                    "parameters": {k: v for k, v in parameters.items()},
                    "resolved": {k: v for k, v in meta.items() if k != "counts"},
                    "input_hashes": _input_hashes(data_dir),
                    "counts": meta.get("counts", {}),
                    "durations": durations,
                    "files": sorted(f.name for f in files),
                    "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                }
                (tmp / "brief.json").write_text(json.dumps(sidecar, ensure_ascii=False, indent=2, default=str),
                                                encoding="utf-8")
                tmp.chmod(0o755)  # mkdtemp/mkstemp make 0700/0600; briefs are meant to be read
                for f in tmp.iterdir():
                    f.chmod(0o644)
            shutil.rmtree(work, ignore_errors=True)
            final = [target / f.name for f in files] + [target / "brief.json"]
            return BriefResult(out_dir=target, html=target / html_file.name, files=final, sidecar=sidecar)
        except BaseException as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            if type(exc).__name__ == "PapermillExecutionError":
                ename = getattr(exc, "ename", "")
                evalue = str(getattr(exc, "evalue", "")).strip().splitlines()
                first = f"notebook cell failed: {ename}: {evalue[0] if evalue else ''}"
            failed = out / "failed" / dt.datetime.now().strftime("%Y%m%dT%H%M%S-%f")
            failed.mkdir(parents=True, exist_ok=True)
            if nb_out.is_file():
                shutil.copy2(nb_out, failed / nb_out.name)
            log_lines.append(f"brief {kind} failed: {first}")
            log_lines.append(f"parameters: {json.dumps(parameters, ensure_ascii=False, default=str)}")
            log_lines.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=8)))
            log = failed / "brief.log"
            log.write_text("\n".join(log_lines), encoding="utf-8")
            shutil.rmtree(work, ignore_errors=True)
            if on_failure:
                env = dict(os.environ, ENVTRACE_FAILED_LOG=str(log), ENVTRACE_FAILED_DIR=str(failed),
                           ENVTRACE_BRIEF=kind, ENVTRACE_ERROR=first)
                with contextlib.suppress(OSError, subprocess.SubprocessError):
                    subprocess.run(on_failure, shell=True, env=env, timeout=300, check=False)
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise BriefError(f"{first} (details in {failed})") from exc


def monthly_brief(
    *,
    month: str = "last",
    data_dir: str | os.PathLike[str] = "data/sample",
    db_url: str | None = None,
    out: str | os.PathLike[str] = "reports",
    pdf: bool = False,
    docx: bool = False,
    lang: str = "zh",
    internal: bool = False,
    basemap: str | None = None,
    on_failure: str | None = None,
    n_permutations: int = 999,
    kernel: str = KERNEL_NAME,
) -> BriefResult:
    """Run ``monthly_briefing.ipynb`` and export it into ``out/YYYY-MM/``.

    Returns
    -------
    BriefResult
        Paths written; ``html`` is the brief to open.

    Raises
    ------
    BriefError
        The run failed (see ``out/failed/<timestamp>/``); the previous brief is untouched.
    """
    if lang not in ("zh", "en"):
        raise InputError(f"bad language {lang!r}; use zh or en")
    if month not in ("last", "", None):
        month = resolve_month(month)
    data = Path(data_dir).resolve()
    out_p = Path(out).resolve()
    params = {"data_dir": str(data), "month": month or "last", "db_url": db_url or "", "lang": lang,
              "internal": bool(internal), "basemap": basemap or "", "n_permutations": int(n_permutations)}
    return _run(kind="monthly", notebook="monthly_briefing.ipynb", parameters=params, data_dir=data, out=out_p,
                target_of=lambda meta: out_p / str(meta["month"]), title_key="monthly_title", lang=lang,
                pdf=pdf, docx=docx, on_failure=on_failure, lock_name="monthly", kernel=kernel)


def case_brief(
    case_id: str,
    *,
    data_dir: str | os.PathLike[str] = "data/sample",
    db_url: str | None = None,
    out: str | os.PathLike[str] = "reports",
    pdf: bool = False,
    docx: bool = False,
    lang: str = "zh",
    internal: bool = False,
    basemap: str | None = None,
    on_failure: str | None = None,
    n_permutations: int = 999,
    kernel: str = KERNEL_NAME,
) -> BriefResult:
    """Run ``consultation_brief.ipynb`` for one case into ``out/cases/CASE_ID/``."""
    if lang not in ("zh", "en"):
        raise InputError(f"bad language {lang!r}; use zh or en")
    safe = "".join(ch for ch in str(case_id) if ch.isalnum() or ch in "-_.")
    if not safe or safe != str(case_id):
        raise InputError(f"bad case id {case_id!r}")
    data = Path(data_dir).resolve()
    out_p = Path(out).resolve()
    params = {"case_id": safe, "data_dir": str(data), "db_url": db_url or "", "lang": lang,
              "internal": bool(internal), "basemap": basemap or "", "n_permutations": int(n_permutations)}
    return _run(kind="case", notebook="consultation_brief.ipynb", parameters=params, data_dir=data, out=out_p,
                target_of=lambda meta: out_p / "cases" / safe, title_key="case_title", lang=lang,
                pdf=pdf, docx=docx, on_failure=on_failure, lock_name=f"case-{safe}", kernel=kernel)
