"""The ``trace`` pipeline: ingest → classify → events → attribution, and its output folder.

:func:`trace` runs the stages on a dataset folder, explicit files or an already loaded
:class:`envtrace.io.Dataset`, and returns a :class:`TraceResult` holding every frame, so a
notebook can look at each stage. :func:`write_trace` writes the folder that
``envtrace trace --out DIR`` promises (``docs`` in ``shared/DESIGN.md``), atomically::

    complaints.csv  rejects.csv  clusters.csv  clusters.geojson  candidates.csv  summary.json

:func:`trace_to` does both in one run, as the command does, writing the big tables while
the events' scan p-values are still being computed.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from envtrace import __version__, _threads
from envtrace._atomic import atomic_dir, sha256_file
from envtrace.errors import InputError

__all__ = [
    "COMPLAINT_COLUMNS",
    "CLUSTER_COLUMNS",
    "REJECT_COLUMNS",
    "TraceResult",
    "trace",
    "trace_to",
    "write_trace",
]

COMPLAINT_COLUMNS: list[str] = [
    "complaint_id", "received_at", "lon", "lat", "category", "channel", "complainant_key",
    "cluster_id", "duplicate_of",
]
CLUSTER_COLUMNS: list[str] = [
    "cluster_id", "category", "n_complaints", "n_complainants", "start", "end", "lon", "lat",
    "radius_m", "p_value",
]
REJECT_COLUMNS: list[str] = ["source_file", "source_row", "record_id", "reason"]

Progress = Callable[[str], None]


@dataclass
class TraceResult:
    """Everything one trace run produced.

    Attributes
    ----------
    complaints : DataFrame
        Accepted complaints, categories filled, with ``cluster_id`` (``"-1"`` = none) and
        ``left_event``: for a complaint that left its event for none in step 11 of
        :mod:`envtrace.attribution` (another source explains it far better than the
        suspect of its part), the id of that part as ranked (with ``split_rounds = 2``, a
        part split again in the second round keeps its first-round id here); ``""`` for
        the others. Not a column of ``complaints.csv``.
    events : GeoDataFrame
        One row per event (:mod:`envtrace.events`).
    candidates : DataFrame
        Ranked suspects (:func:`envtrace.attribution.rank_suspects`).
    rejects : DataFrame
        Rejected input rows of every file read.
    enterprises, wind, alarms : DataFrame or None
        The other inputs as read.
    summary : dict
        What ``summary.json`` holds.
    tz : str
        Zone of the output times.
    """

    complaints: pd.DataFrame
    events: Any
    candidates: pd.DataFrame
    rejects: pd.DataFrame
    enterprises: pd.DataFrame
    wind: pd.DataFrame | None = None
    alarms: pd.DataFrame | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    tz: str = "Asia/Shanghai"


def _event_settings(cfg: Any, profile: Any, event_params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Event settings: the profile's per-category ``events`` under ``envtrace.toml [events]``
    under the caller's ``event_params`` (per category, key by key)."""
    from envtrace.config import load_profile

    prof = profile if profile is not None else getattr(cfg, "profile", None)
    per_cat: dict[str, dict[str, Any]] = {}
    if prof is not None:
        for cat, v in load_profile(prof, base=getattr(cfg, "root", None)).events.items():
            per_cat[str(cat)] = dict(v)
    params: dict[str, Any] = {}
    for layer in (dict(getattr(cfg, "events", None) or {}), dict(event_params or {})):
        for cat, v in dict(layer.pop("params", None) or {}).items():
            per_cat.setdefault(str(cat), {}).update(dict(v))
        params.update(layer)
    if per_cat:
        params["params"] = per_cat
    return params


def trace(
    dataset: Any = None,
    *,
    complaints: str | os.PathLike[str] | None = None,
    enterprises: str | os.PathLike[str] | None = None,
    wind: str | os.PathLike[str] | None = None,
    alarms: str | os.PathLike[str] | None = None,
    actions: str | os.PathLike[str] | None = None,
    profile: str | os.PathLike[str] | None = None,
    columns: Mapping[str, str] | None = None,
    boundary: str | os.PathLike[str] | None = None,
    tz: str | None = None,
    max_distance_m: float = 20000.0,
    n_permutations: int = 999,
    lang: str = "zh",
    seed: int = 0,
    event_params: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    start: str | None = None,
    end: str | None = None,
    min_intensity: float | None = 2.0,
    wind_station: str | None = None,
    writer: _EarlyTables | None = None,
) -> TraceResult:
    """Run ingest → classify → events → attribution.

    Parameters
    ----------
    dataset : path or Dataset, optional
        A dataset folder (``--data DIR``) or a loaded :class:`envtrace.io.Dataset`.
        Explicit file arguments override the folder's files.
    complaints, enterprises, wind, alarms : path, optional
        Input files (CSV/XLSX).
    actions : path, optional
        What staff did (``actions.csv``; a dataset folder's is read by default). Earlier
        enforcement findings weigh in the attribution (its step 7b).
    profile, columns, boundary, tz
        As in :func:`envtrace.io.load_dataset`.
    max_distance_m : float
        Candidate pruning radius from each event's centre, metres.
    n_permutations : int
        Permutations for the suspects' p-values.
    lang : {"zh", "en"}
        Language of the evidence lines.
    seed : int
        Seeds every random step.
    event_params : mapping, optional
        Passed to :func:`envtrace.events.find_events` (over ``envtrace.toml [events]``).
    progress : callable, optional
        Called with the name of each stage as it starts.
    start, end : str, optional
        (smellpgh hook) Period filter on ``received_at``, dates or date-times in the output
        zone, both inclusive (a bare date ``end`` means the whole day). Complaints outside
        it are left out of every stage and counted in ``counts.outside_period``; the wind
        record is cut to the period ± 3 days (the attribution's background is the period's
        wind, not the whole record).
    min_intensity : float or None
        (smellpgh hook) Complaints whose ``intensity`` is known and below this (a smell
        rated 1 = "just fine") are kept and counted but never clustered (``cluster_id``
        ``-1``), so they cannot help form an event. Default 2; ``None`` clusters all. No
        effect when the source has no intensity. ``envtrace.toml [events] min_intensity``
        overrides the default.
    wind_station : str, optional
        (smellpgh hook) Use only this wind station's record. Default: every station; the
        attribution then takes, per complaint and hour, the nearest station with data.
    writer : optional
        Internal (:func:`trace_to`): told each table's content as soon as it is known, so
        that ``complaints.csv`` is formatted while the events are clustered and written
        while the suspects are ranked.

    Returns
    -------
    TraceResult

    Raises
    ------
    InputError
        Unusable input (missing file, no usable rows, ...).
    """
    from envtrace import io

    # the later stages' modules (geopandas, scipy: ~0.7 s) load on the core
    # that the ingest leaves idle
    _threads.background(_import_stages, name="envtrace-import")
    if lang not in ("zh", "en"):
        raise InputError(f"unknown language {lang!r} (use zh or en)")
    durations: dict[str, float] = {}
    say = progress or (lambda _stage: None)

    t0 = time.perf_counter()
    say("ingest")
    paths: dict[str, Path] = {}
    hash_job = None
    if isinstance(dataset, io.Dataset):
        ds = dataset
        root = None
    else:
        root = Path(dataset) if dataset is not None else None
        if root is None and (complaints is None or enterprises is None):
            raise InputError("give a dataset folder or both a complaints and an enterprises file")
        for name, p in (("complaints", complaints), ("enterprises", enterprises), ("wind", wind),
                        ("alarms", alarms), ("actions", actions), ("boundary", boundary)):
            if p is not None:
                if not Path(p).is_file():
                    raise InputError(f"{p}: no such file")
                paths[name] = Path(p)
        if _large_input(root, paths):  # child processes will help: their server starts now
            from envtrace import _procs

            _procs.warm_up()
        # the inputs' SHA-256 for the summary, on the core that the ingest leaves idle
        hash_job = _threads.background(lambda: _sha256_all(_input_files(root, paths)),
                                       name="envtrace-hash")
        ds = io.load_dataset(
            root, tz=tz, columns=dict(columns) if columns else None, profile=profile,
            boundary=str(boundary) if boundary is not None else None,
            complaints=complaints, enterprises=enterprises, wind=wind, alarms=alarms,
            actions=actions,
        )
    out_tz = tz or ds.config.tz or "Asia/Shanghai"
    # smellpgh hooks: period filter and wind station choice -----------------------
    n_outside = 0
    ds_wind = ds.wind
    if start is not None or end is not None:
        t0_, t1_ = _period_bounds(start, end, out_tz)
        rt = ds.complaints["received_at"]
        keep = pd.Series(True, index=ds.complaints.index)
        if t0_ is not None:
            keep &= rt >= t0_
        if t1_ is not None:
            keep &= rt < t1_
        n_outside = int((~keep).sum())
        ds = _replace_complaints(ds, ds.complaints.loc[keep.to_numpy()].reset_index(drop=True))
        if ds_wind is not None and len(ds_wind):
            wt = ds_wind["time"]
            wk = pd.Series(True, index=ds_wind.index)
            if t0_ is not None:
                wk &= wt >= t0_ - pd.Timedelta(days=3)
            if t1_ is not None:
                wk &= wt < t1_ + pd.Timedelta(days=3)
            ds_wind = ds_wind.loc[wk.to_numpy()].reset_index(drop=True)
    if wind_station is not None and ds_wind is not None:
        sids = ds_wind["station_id"].astype(str)
        if not (sids == str(wind_station)).any():
            raise InputError(f"wind station {wind_station!r} not in the wind data "
                             f"(stations: {', '.join(sorted(set(sids))) or 'none'})")
        ds_wind = ds_wind.loc[(sids == str(wind_station)).to_numpy()].reset_index(drop=True)
    durations["ingest_s"] = time.perf_counter() - t0

    from envtrace import attribution, classify, events

    t0 = time.perf_counter()
    say("classify")
    comp = ds.complaints
    if len(comp):
        comp = classify.fill_categories(comp)
    durations["classify_s"] = time.perf_counter() - t0
    if writer is not None:
        writer.complaints_ready(comp, ds.rejects, out_tz)

    # the attribution's settings are checked before the long stages start
    att_cfg = dict(ds.config.attribution or {})
    prm = None
    if att_cfg:
        known = set(attribution.AttributionParams.__dataclass_fields__)
        unknown = sorted(set(att_cfg) - known)
        if unknown:
            raise InputError(f"envtrace.toml [attribution]: unknown key(s) {', '.join(unknown)}")
        prm = attribution.AttributionParams(**att_cfg)

    t0 = time.perf_counter()
    say("events")
    profile_label = str(profile) if profile is not None else None
    if profile is None and isinstance(dataset, io.Dataset) and dataset.profile is not None:
        profile = dataset.profile  # the one it was read with, given to load_dataset
        profile_label = str(dataset.summary.get("profile") or dataset.profile.name)
    params = _event_settings(ds.config, profile, event_params)
    params.setdefault("seed", seed)
    params.setdefault("n_permutations", n_permutations)
    # smellpgh hook: intensity below min_intensity ("just fine") never forms an event
    min_int = params.pop("min_intensity", min_intensity)
    low = np.zeros(len(comp), dtype=bool)
    if min_int is not None and "intensity" in comp.columns:
        inten = pd.to_numeric(comp["intensity"], errors="coerce").to_numpy(dtype=float)
        low = np.isfinite(inten) & (inten < float(min_int))
    labels = np.full(len(comp), "-1", dtype=object)
    est = None
    if (~low).any():
        # each category's scan starts as soon as it is clustered (the small categories'
        # while the largest is still being clustered, on the otherwise idle core)
        est = events.SpaceTimeEvents(**params).fit(comp.loc[~low], scan="background")
        ev = est.events_
        labels[~low] = est.labels_.to_numpy().astype(str)
    else:
        ev = _empty_events()
    comp = comp.assign(cluster_id=pd.Series(labels.astype(str), index=comp.index, dtype="str"))
    durations["events_s"] = time.perf_counter() - t0
    p_att = prm or attribution.AttributionParams()
    rounds = int(p_att.split_rounds) if p_att.split_min_gain > 0 else 0
    if writer is not None and rounds == 0:
        # complaints.csv is written beside the attribution, unless events may be split
        # (step 11 of the attribution): then once, after it
        writer.clusters_ready(comp["cluster_id"])
    # The events' scan p-values run on threads beside the attribution, which does not
    # need them; this thread waits for them (scan_s: from here to the last category).
    scan_job = None
    if est is not None and est.n_permutations and len(ev):
        t_scan = time.perf_counter()

        def _timed_scan() -> tuple[pd.Series, float]:
            pv = est.scan()
            return pv, time.perf_counter() - t_scan

        scan_job = _threads.background(_timed_scan, name="envtrace-scan")

    t0 = time.perf_counter()
    say("attribution")
    # an error here leaves the scan thread behind (a daemon): it is not waited for
    rank = functools.partial(
        attribution.rank_suspects, enterprises=ds.enterprises, wind=ds_wind, alarms=ds.alarms,
        actions=ds.actions, max_distance_m=max_distance_m, n_permutations=n_permutations, seed=seed,
        lang=lang, params=prm)
    cand = rank(ev, comp, split=rounds > 0)
    parent = None
    n_split = 0
    for r in range(rounds):  # no events (no estimator): nothing is proposed
        if not len(cand.attrs["split"]):
            break
        # step 11: events holding several sources' complaints become several, ranked again
        # (a part may hold two sources still: up to split_rounds rounds); after the last
        # split the complaints' events are final: complaints.csv is written beside the
        # ranking of the parts
        last = r == rounds - 1
        n_split += int(cand.attrs["info"].get("split_events", 0))
        cand, comp, ev, par = _rank_split_parts(
            cand, comp, ev, buffer_m=est.buffer_m, rank=functools.partial(rank, split=not last),
            on_final_labels=writer.clusters_ready if writer is not None and last else None)
        # each event's original: through the earlier rounds' parents
        parent = par if parent is None else par.map(parent).fillna(par)
    cand.attrs.pop("split", None), cand.attrs.pop("fixed", None)  # used up
    if parent is not None:
        cand.attrs["info"]["split_events"] = n_split
    if "left_event" not in comp:
        comp["left_event"] = ""
    if writer is not None and not writer.complaints_started:
        writer.clusters_ready(comp["cluster_id"])
    durations["attribution_s"] = time.perf_counter() - t0
    if writer is not None:
        # the tables that do not wait for the scan: candidates.csv now, and whatever is
        # left of complaints.csv and rejects.csv (written on a thread since the events)
        t_w = time.perf_counter()
        writer.candidates_ready(cand)
        durations["write_early_s"] = time.perf_counter() - t_w
    if scan_job is not None:
        say("event p-values")
        t0 = time.perf_counter()
        pv, durations["scan_s"] = scan_job.result()
        durations["scan_wait_s"] = time.perf_counter() - t0
        ev = ev.copy()
        # the parts of a split event (step 11 of the attribution) share its p-value
        key = ev["cluster_id"].astype(str)
        if parent is not None:
            key = key.map(parent).fillna(key)
        ev["p_value"] = pv.reindex(key).to_numpy(dtype=float)
    info = dict(cand.attrs.get("info", {}))

    # provenance -------------------------------------------------------------------
    files = dict(ds.summary.get("files", {})) if ds.summary else {}
    hashes = _input_hashes(root, files, paths, hash_job.result() if hash_job is not None else {},
                           extra=_map_files(root, getattr(ds.config, "boundary", None), paths))
    warnings = list(ds.summary.get("warnings", [])) if ds.summary else []
    warnings += [w for w in info.get("warnings", []) if w not in warnings]
    warnings += _wind_coverage_warnings(comp, ds_wind, out_tz)  # smellpgh hook
    n_clustered = int((comp["cluster_id"] != "-1").sum()) if len(comp) else 0
    summary: dict[str, Any] = {
        "envtrace_version": __version__,
        "parameters": {
            "data": str(root) if root is not None else None,
            "complaints": str(paths["complaints"]) if "complaints" in paths else None,
            "enterprises": str(paths["enterprises"]) if "enterprises" in paths else None,
            "wind": str(paths["wind"]) if "wind" in paths else None,
            "alarms": str(paths["alarms"]) if "alarms" in paths else None,
            "actions": str(paths["actions"]) if "actions" in paths else None,
            "boundary": str(paths["boundary"]) if "boundary" in paths else None,
            "profile": profile_label if profile_label is not None else ds.config.profile,
            "columns": dict(columns) if columns else {},
            "tz": out_tz,
            "max_distance_m": float(max_distance_m),
            "permutations": int(n_permutations),
            "lang": lang,
            "seed": int(seed),
            "start": start,
            "end": end,
            "min_intensity": None if min_int is None else float(min_int),
            "wind_station": wind_station,
            "events": {k: v for k, v in params.items() if _jsonable(v)},
            "attribution": att_cfg,
        },
        "inputs_sha256": hashes,
        "files": files,
        "rows": {
            "read": ds.summary.get("rows_read") if ds.summary else None,
            "accepted": ds.summary.get("rows_accepted") if ds.summary else None,
            "rejected": ds.summary.get("rows_rejected") if ds.summary else None,
        },
        "evidence": {"wind": bool(info.get("wind", False)), "alarms": bool(info.get("alarms", False)),
                     "enforcement_history": bool(info.get("history", False)),
                     # complaints whose text says when, and how far those words are believed
                     "time_words": int(info.get("time_words", 0)),
                     "time_word_trust": float(info.get("time_word_trust", 0.0)),
                     # odour events' complaints that name a kind of smell, and how far
                     # those words are believed to name the source's kind
                     "odour_words": int(info.get("odour_words", 0)),
                     "odour_word_trust": float(info.get("odour_word_trust", 0.0)),
                     # complaints (of events) that name a firm, how far those names are
                     # believed beyond naming the plants near home (step 7d)
                     "named": int(info.get("named", 0)),
                     "name_trust": float(info.get("name_trust", 0.0)),
                     # how well the lexicon's kinds of smell fit the likely sources (the
                     # trust above includes it)
                     # (null: not computed, as the words' agreement was no better than chance)
                     "odour_lexicon_fit": (float(info["odour_lexicon_fit"])
                                           if "odour_lexicon_fit" in info else None),
                     # per category, the time scale (days) of the triangulation's weights
                     # (null: over the whole record)
                     "triangulation_tau_days": {
                         k: (float(v) if np.isfinite(v) else None)
                         for k, v in sorted(info.get("triangulation_tau_days", {}).items())}},
        "counts": {
            "outside_period": n_outside,
            "below_min_intensity": int(low.sum()),
            "complaints": int(len(comp)),
            "clustered_complaints": n_clustered,
            "clusters": int(len(ev)),
            # events split in parts because they held several sources' complaints, or
            # shortened by complaints that left them (step 11)
            "split_clusters": int(info.get("split_events", 0)),
            # complaints that left their event for none: another source explains them far
            # better than the event's suspect (step 11)
            "left_event_complaints": int((comp["left_event"] != "").sum()),
            "candidates": int(len(cand)),
            "rejects": int(len(ds.rejects)),
        },
        "warnings": warnings,
        "durations_s": {k: round(v, 3) for k, v in durations.items()},
    }
    return TraceResult(
        complaints=comp, events=ev, candidates=cand, rejects=ds.rejects, enterprises=ds.enterprises,
        wind=ds_wind, alarms=ds.alarms, summary=summary, tz=out_tz,
    )


def _rank_split_parts(cand: pd.DataFrame, comp: pd.DataFrame, ev: Any, *, buffer_m: float,
                      rank: Callable[..., pd.DataFrame],
                      on_final_labels: Callable[[pd.Series], None] | None = None,
                      ) -> tuple[pd.DataFrame, pd.DataFrame, Any, pd.Series]:
    """Split the events that hold several sources' complaints and rank their parts.

    ``cand`` is the first ranking, whose ``attrs["split"]`` lists the complaints that leave
    their event (step 11 of :mod:`envtrace.attribution`). The parts are ranked by ``rank``
    with what the first ranking learnt from all events (``attrs["fixed"]``: the
    triangulation's weights, the trusts in the texts' words); the other events keep their
    suspects.

    ``on_final_labels`` is called with the new ``cluster_id`` of every complaint before the
    parts are ranked (the last round: the file of complaints can be written meanwhile).

    Returns the candidates, the complaints with their new ``cluster_id``, the events and,
    per event, the event it came from.
    """
    from envtrace import events

    # off the frames first: pandas copies attrs with every operation on them
    info = dict(cand.attrs.pop("info", {}))
    split, fixed = cand.attrs.pop("split"), dict(cand.attrs.pop("fixed"))
    labels, ev2, parent, left_from = events.split_events(comp, ev, split, buffer_m=buffer_m)
    # every event a complaint left is replaced (by its parts, or by what is left of it, or
    # by nothing): its old suspects go
    changed = set(comp.loc[split.index, "cluster_id"].astype(str)) - {"-1"}
    # a complaint that leaves its event for none (step 11: another source explains it far
    # better than the suspect of its part) keeps the new id of the part it left
    prev = comp["left_event"] if "left_event" in comp else ""
    comp = comp.assign(cluster_id=labels, left_event=left_from.where(left_from != "", prev))
    if on_final_labels is not None:
        on_final_labels(comp["cluster_id"])
    is_part = parent.index.to_numpy() != parent.to_numpy()
    part_ids = parent.index[is_part]
    part_parent = parent[is_part].to_numpy()
    parts_of: dict[str, list[str]] = {}
    for pid, cid in zip(part_ids, part_parent, strict=True):
        parts_of.setdefault(cid, []).append(pid)
    fixed["prior"] = {(pid, ent): m for (cid, ent), m in fixed.get("prior", {}).items()
                      for pid in parts_of.get(cid, ())}
    parts = ev2.loc[ev2["cluster_id"].astype(str).isin(part_ids)]
    cand2 = rank(parts, comp.loc[comp["cluster_id"].isin(part_ids)], fixed=fixed)
    info2 = cand2.attrs.pop("info", {})
    split2, fixed2 = cand2.attrs.pop("split"), cand2.attrs.pop("fixed")
    keep = cand.loc[~cand["cluster_id"].isin(changed | set(part_parent))]
    order = pd.Series(np.arange(len(ev2)), index=ev2["cluster_id"].astype(str).to_numpy())
    out = pd.concat([keep, cand2], ignore_index=True)
    out = out.iloc[np.lexsort((out["rank"].to_numpy(),
                               order.reindex(out["cluster_id"].astype(str)).to_numpy()))]
    out = out.reset_index(drop=True)
    info["warnings"] = list(info.get("warnings", [])) + [
        w for w in info2.get("warnings", []) if w not in info.get("warnings", [])]
    info["n_events"] = int(len(ev2))
    info["split_events"] = int(info2.get("split_events", 0))
    out.attrs["info"] = info
    # what the parts propose in turn (a part may still hold two sources)
    out.attrs["split"], out.attrs["fixed"] = split2, fixed2
    return out, comp, ev2, parent


# a complaints file of about 80,000 rows and more: the events' scan will use child
# processes (a category of 10,000 complaints), the classification too with 100,000
# distinct texts
_LARGE_INPUT_BYTES = 20_000_000


def _large_input(root: Path | None, paths: Mapping[str, Path]) -> bool:
    """Whether the complaints file (the one :func:`envtrace.io.load_dataset` reads) is
    large enough for child processes (their forkserver is then started at once, on the
    core that the ingest leaves idle)."""
    from envtrace import io

    p = paths.get("complaints")
    if p is None and root is not None and root.is_dir():
        p = io._find(root, "complaints", io.DATASET_FILES["complaints"])
    try:
        return p is not None and p.stat().st_size >= _LARGE_INPUT_BYTES
    except OSError:
        return False


def _import_stages() -> None:
    """Load the modules of the stages after the ingest (on a thread while it runs)."""
    import envtrace.attribution
    import envtrace.classify
    import envtrace.events  # noqa: F401


# --- smellpgh hooks: period filter, wind coverage -----------------------------------
def _period_bounds(start: str | None, end: str | None, tz: str) -> tuple[Any, Any]:
    """``[start, end)`` as aware timestamps in ``tz``; a bare-date ``end`` covers its day."""

    def one(text: str, *, is_end: bool) -> pd.Timestamp:
        try:
            ts = pd.Timestamp(str(text).strip())
        except (ValueError, TypeError):
            raise InputError(f"period: cannot read {text!r} as a date (use YYYY-MM-DD)") from None
        if ts is pd.NaT:
            raise InputError(f"period: cannot read {text!r} as a date (use YYYY-MM-DD)")
        bare = ts == ts.normalize() and len(str(text).strip()) <= 10
        ts = ts.tz_localize(tz) if ts.tzinfo is None else ts.tz_convert(tz)
        if is_end:
            ts = (ts + pd.Timedelta(days=1)) if bare else ts + pd.Timedelta(seconds=1)
        return ts

    t0 = one(start, is_end=False) if start is not None else None
    t1 = one(end, is_end=True) if end is not None else None
    if t0 is not None and t1 is not None and t1 <= t0:
        raise InputError(f"period: end {end} is before start {start}")
    return t0, t1


def _replace_complaints(ds: Any, complaints: pd.DataFrame) -> Any:
    import dataclasses

    return dataclasses.replace(ds, complaints=complaints)


def _wind_coverage_warnings(comp: pd.DataFrame, wind: pd.DataFrame | None, tz: str) -> list[str]:
    """A warning when clustered complaints fall outside the wind record (no wind evidence)."""
    if wind is None or len(wind) == 0 or len(comp) == 0 or "cluster_id" not in comp:
        return []
    clustered = comp.loc[comp["cluster_id"].astype(str) != "-1", "received_at"]
    if len(clustered) == 0:
        return []
    w0 = wind["time"].min()
    w1 = wind["time"].max() + pd.Timedelta(hours=1)
    out = int(((clustered < w0) | (clustered >= w1)).sum())
    if not out:
        return []
    fmt = "%Y-%m-%d %H:%M"
    return [f"{out} clustered complaint(s) fall outside the wind record "
            f"({w0.tz_convert(tz).strftime(fmt)} to {w1.tz_convert(tz).strftime(fmt)}): "
            "no wind evidence for them"]


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
    except (TypeError, ValueError):
        return False
    return True


def _empty_events() -> Any:
    import geopandas as gpd

    return gpd.GeoDataFrame(
        {c: pd.Series(dtype="float64" if c in ("lon", "lat", "radius_m", "p_value") else "object")
         for c in CLUSTER_COLUMNS},
        geometry=gpd.GeoSeries([], crs="EPSG:4326"),
    )


def _iso(values: Any, tz: str) -> pd.Series:
    """Aware datetimes -> ISO 8601 strings with offset (``2026-10-29T22:15:00+08:00``)."""
    s = pd.Series(values)
    if len(s) == 0:
        return pd.Series([], dtype="str")
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        s = pd.to_datetime(s, errors="coerce")
        if not isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_localize(tz)
    from envtrace import io

    return io._format_times(s.dt.tz_convert(tz))


def _col(frame: pd.DataFrame, name: str, default: Any = "") -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([default] * len(frame), index=frame.index)


def write_trace(result: TraceResult, out_dir: str | os.PathLike[str]) -> Path:
    """Write the ``envtrace trace`` output folder atomically (all files or none).

    Parameters
    ----------
    result : TraceResult
    out_dir : path
        Replaced whole on success; left untouched when anything fails.

    Returns
    -------
    Path
        ``out_dir``.
    """
    t0 = time.perf_counter()
    with atomic_dir(out_dir) as tmp:
        counts = _write_tables(tmp, result.complaints, result.candidates, result.rejects, result.tz)
        _write_clusters_and_summary(tmp, result, counts, t0)
    return Path(out_dir)


def trace_to(out_dir: str | os.PathLike[str], dataset: Any = None, **kwargs: Any) -> TraceResult:
    """:func:`trace` and :func:`write_trace` in one, as ``envtrace trace`` runs them.

    The big tables are written while later stages run: ``complaints.csv`` is formatted
    while the events are clustered, and it and ``rejects.csv`` are written on a thread
    while the suspects are ranked; ``candidates.csv`` follows the ranking, while the
    events' scan p-values may still be computed (on a 2-core machine the scan and the
    ranking share the cores); the clusters and ``summary.json`` come last. The new folder
    beside ``out_dir`` is created once the events are known, and it replaces ``out_dir``
    only when everything succeeded: an error (bad input included) leaves ``out_dir`` as it
    was and nothing beside it. In ``summary.json``, ``write_early_s`` is the time the run
    spent on the early tables after the ranking and ``write_s`` that of the rest.

    Parameters
    ----------
    out_dir : path
        Output folder.
    dataset, **kwargs
        As :func:`trace` (except ``writer``, which this function provides).

    Returns
    -------
    TraceResult
    """
    if "writer" in kwargs:
        raise TypeError("trace_to writes the tables itself: no writer argument")
    say = kwargs.get("progress") or (lambda _stage: None)
    with contextlib.ExitStack() as stack:
        folder: list[Path] = []

        def open_folder() -> Path:
            if not folder:
                folder.append(stack.enter_context(atomic_dir(out_dir)))
                # registered after the folder: on an error the writing threads end first,
                # then the folder is removed (the stack unwinds last in, first out)
                stack.callback(writer.settle)
            return folder[0]

        writer = _EarlyTables(open_folder, say)
        # and before that: a failure between the formatting and the folder waits for it too
        stack.callback(writer.settle)
        result = trace(dataset, writer=writer, **kwargs)
        say("writing")
        t0 = time.perf_counter()
        _write_clusters_and_summary(open_folder(), result, writer.counts, t0)
    return result


class _EarlyTables:
    """``complaints.csv``, ``rejects.csv`` and ``candidates.csv`` of :func:`trace_to`,
    each written as soon as its content is known (the calls come in this order).

    :meth:`complaints_ready` (after classification) formats every complaint column but
    ``cluster_id`` on a daemon thread; :meth:`clusters_ready` (after the events) opens the
    output folder and writes ``complaints.csv`` and ``rejects.csv`` on that thread;
    :meth:`candidates_ready` writes ``candidates.csv`` and waits for the thread.
    """

    def __init__(self, open_folder: Callable[[], Path], say: Progress) -> None:
        self._open = open_folder
        self._say = say
        self._fields: Any = None  # Future of _complaint_fields
        self._written: Any = None  # Future of the (complaints, rejects) row counts
        self._rejects: pd.DataFrame | None = None
        self.counts: dict[str, int] = {}

    def complaints_ready(self, comp: pd.DataFrame, rejects: pd.DataFrame, tz: str) -> None:
        self._rejects = rejects
        self._fields = _threads.background(lambda: _complaint_fields(comp, tz), name="envtrace-write")

    @property
    def complaints_started(self) -> bool:
        """Whether complaints.csv is being (or has been) written."""
        return self._written is not None

    def clusters_ready(self, cluster_id: pd.Series) -> None:
        """Write complaints.csv (and rejects.csv) on a thread, once the events are final."""
        tmp = self._open()
        fields, rej = self._fields, self._rejects

        def job() -> tuple[int, int]:
            n = _write_complaints(tmp / "complaints.csv", fields.result(), cluster_id)
            return n, _write_rejects(tmp / "rejects.csv", rej)

        self._written = _threads.background(job, name="envtrace-write")

    def candidates_ready(self, cand: pd.DataFrame) -> None:
        self._say("writing complaints and candidates")
        n_cand = _write_candidates(self._open() / "candidates.csv", cand)
        n_comp, n_rej = self._written.result()
        self.counts = {"complaints.csv": n_comp, "rejects.csv": n_rej, "candidates.csv": n_cand}

    def settle(self) -> None:
        """Wait for the writing threads, whatever they end with (errors surface elsewhere)."""
        import concurrent.futures as cf

        cf.wait([f for f in (self._fields, self._written) if f is not None])


def _map_files(root: Path | None, boundary: str | None, paths: Mapping[str, Path]) -> list[Path]:
    """The map files of a dataset folder that :func:`envtrace.io.load_dataset` reads: the
    township areas (``areas.*``) and the ``envtrace.toml`` boundary, unless a boundary file
    is given."""
    from envtrace import io

    if root is None:
        return []
    out = [io._find(root, "areas", io.DATASET_FILES["areas"])]
    if boundary and "boundary" not in paths:
        out.append(root / boundary)
    return [p for p in out if p is not None and p.is_file()]


def _input_files(root: Path | None, paths: Mapping[str, Path]) -> list[Path]:
    """The files a run will read: per kind, the one :func:`envtrace.io.load_dataset` picks
    in the dataset folder unless a file is given for it, the folder's ``envtrace.toml``, its
    map files and the explicitly given files."""
    from envtrace import io

    found: list[Path] = []
    if root is not None:
        for stem, exts in io.DATASET_FILES.items():
            hit = None if stem in paths else io._find(root, stem, exts)
            if hit is not None:
                found.append(hit)
        if (root / "envtrace.toml").is_file():
            found.append(root / "envtrace.toml")
    return found + list(paths.values())


def _sha256_all(files: list[Path]) -> dict[Path, str]:
    """SHA-256 per file; a file that cannot be read is left out (hashed again, and its
    error raised, only if the run turns out to read it)."""
    out: dict[Path, str] = {}
    for p in files:
        try:
            out[p] = sha256_file(p)
        except OSError:
            continue
    return out


def _input_hashes(root: Path | None, files: Mapping[str, Any], paths: Mapping[str, Path],
                  done: Mapping[Path, str], *, extra: Sequence[Path] = ()) -> dict[str, str]:
    """SHA-256 of the dataset's files read (``files``: names in ``root``), its
    ``envtrace.toml``, its map files (``extra``) and the explicitly given files; ``done``
    holds hashes computed already (while the ingest ran), by path."""

    def sha(p: Path) -> str:
        return done[p] if p in done else sha256_file(p)

    hashes: dict[str, str] = {}
    if root is not None:
        for f in files:
            p = root / f
            if p.is_file():
                hashes[f] = sha(p)
        toml = root / "envtrace.toml"
        if toml.is_file():
            hashes["envtrace.toml"] = sha(toml)
        for p in extra:
            hashes[str(p.relative_to(root)) if p.is_relative_to(root) else p.name] = sha(p)
    for p in paths.values():
        hashes[p.name] = sha(p)
    return hashes


def _write_tables(tmp: Path, comp: pd.DataFrame, cand: pd.DataFrame, rej: pd.DataFrame,
                  tz: str) -> dict[str, int]:
    """complaints.csv, rejects.csv and candidates.csv into ``tmp``; their row counts."""
    n_comp = _write_complaints(tmp / "complaints.csv", _complaint_fields(comp, tz),
                               _col(comp, "cluster_id", "-1"))
    return {"complaints.csv": n_comp, "rejects.csv": _write_rejects(tmp / "rejects.csv", rej),
            "candidates.csv": _write_candidates(tmp / "candidates.csv", cand)}


@dataclass
class _Fields:
    """The complaint table without ``cluster_id``, and its CSV fields when the fast path
    of :func:`write_csv` takes it (``None``: pandas writes the whole table)."""

    frame: pd.DataFrame
    fields: dict[str, Any] | None


def _complaint_fields(comp: pd.DataFrame, tz: str) -> _Fields:
    frame = pd.DataFrame({
        "complaint_id": _col(comp, "complaint_id").astype(str),
        "received_at": _iso(_col(comp, "received_at", pd.NaT), tz).to_numpy(),
        "lon": pd.to_numeric(_col(comp, "lon", np.nan), errors="coerce").round(6),
        "lat": pd.to_numeric(_col(comp, "lat", np.nan), errors="coerce").round(6),
        "category": _col(comp, "category").fillna("other").astype(str),
        "channel": _col(comp, "channel").fillna("").astype(str),
        "complainant_key": _col(comp, "complainant_key").fillna("").astype(str),
        "duplicate_of": _col(comp, "duplicate_of").fillna("").astype(str),
    })
    fields = _fast_fields(frame) if len(frame) else None
    return _Fields(frame, dict(zip(frame.columns, fields, strict=True)) if fields is not None else None)


def _write_complaints(path: Path, pre: _Fields, cluster_id: pd.Series) -> int:
    """complaints.csv from the formatted columns and the cluster ids; its row count."""
    cid = pd.Series(cluster_id.to_numpy(), index=pre.frame.index).fillna("-1").astype(str)
    if pre.fields is not None and _plain(cid):
        fields = {**pre.fields, "cluster_id": _csv_field(cid)}
        _write_fields(path, COMPLAINT_COLUMNS, [fields[c] for c in COMPLAINT_COLUMNS])
    else:
        write_csv(pre.frame.assign(cluster_id=cid)[COMPLAINT_COLUMNS], path)
    return int(len(pre.frame))


def _write_rejects(path: Path, rej: pd.DataFrame) -> int:
    out = rej[REJECT_COLUMNS].copy() if len(rej) else pd.DataFrame(columns=REJECT_COLUMNS)
    out.to_csv(path, index=False, encoding="utf-8")
    return int(len(out))


def _write_candidates(path: Path, cand: pd.DataFrame) -> int:
    from envtrace.attribution import CANDIDATE_COLUMNS

    out = cand[CANDIDATE_COLUMNS].copy() if len(cand) else pd.DataFrame(columns=CANDIDATE_COLUMNS)
    out.to_csv(path, index=False, encoding="utf-8", float_format="%.6g")
    return int(len(out))


def _write_clusters_and_summary(tmp: Path, result: TraceResult, counts: dict[str, int],
                                t0: float) -> None:
    """clusters.csv, clusters.geojson and summary.json into ``tmp``."""
    import geopandas as gpd

    tz = result.tz
    ev = result.events
    ev_df = pd.DataFrame({c: (ev[c].to_numpy() if c in ev.columns else [None] * len(ev))
                          for c in CLUSTER_COLUMNS})
    if len(ev_df):
        ev_df["cluster_id"] = ev_df["cluster_id"].astype(str)
        ev_df["start"] = _iso(ev["start"], tz).to_numpy()
        ev_df["end"] = _iso(ev["end"], tz).to_numpy()
        for c in ("lon", "lat"):
            ev_df[c] = pd.to_numeric(ev_df[c], errors="coerce").round(6)
        ev_df["radius_m"] = pd.to_numeric(ev_df["radius_m"], errors="coerce").round(1)
    geoms = ev.geometry.to_numpy() if len(ev) and hasattr(ev, "geometry") else []
    crs = ev.crs if getattr(ev, "crs", None) is not None else "EPSG:4326"
    gdf = gpd.GeoDataFrame(ev_df, geometry=gpd.GeoSeries(list(geoms), crs=crs))
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    ev_df.to_csv(tmp / "clusters.csv", index=False, encoding="utf-8")
    _write_geojson(gdf, tmp / "clusters.geojson")
    summary = dict(result.summary)
    durations = dict(summary.get("durations_s", {}))
    durations["write_s"] = round(time.perf_counter() - t0, 3)
    summary["durations_s"] = durations
    summary["outputs"] = {
        "complaints.csv": counts["complaints.csv"], "rejects.csv": counts["rejects.csv"],
        "clusters.csv": int(len(ev_df)), "candidates.csv": counts["candidates.csv"],
    }
    (tmp / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``frame`` as UTF-8 CSV like ``frame.to_csv(path, index=False)``, in Arrow.

    The same dialect as pandas' (comma, ``\n`` line ends, minimal quoting: a field is
    quoted only when it holds a comma, a double quote, ``\n`` or ``\r``, with quotes
    doubled; missing values empty), built with vectorised pyarrow string kernels and
    written from Arrow's buffer without Python strings: a million complaints in about
    1 s instead of 4. Differences from pandas: a bare ``\r`` is quoted (pandas leaves it
    bare, which breaks readers in universal-newline mode), and floats are written in
    Arrow's shortest form (``117`` and ``1e-7`` where pandas writes ``117.0`` and
    ``1e-07``); both read back as the same number. Only frames of two or more string and
    number columns take this path; others go to ``to_csv``.
    """
    fields = _fast_fields(frame)
    if fields is None:
        frame.to_csv(path, index=False, encoding="utf-8")
        return
    _write_fields(path, [str(c) for c in frame.columns], fields)


def _fast_fields(frame: pd.DataFrame) -> list[Any] | None:
    """The CSV fields of each column, in order, for :func:`_write_fields`, or None when the frame is
    not for the fast path: it is for two or more string and number columns; pandas writes
    the rest (booleans, times, mixed objects) and one-column frames (an empty row there
    must be quoted)."""
    if frame.shape[1] < 2 or not all(_plain(frame.iloc[:, i]) for i in range(frame.shape[1])):
        return None
    return [_csv_field(frame.iloc[:, i]) for i in range(frame.shape[1])]


def _plain(col: pd.Series) -> bool:
    """A string or (non-boolean) number column: :func:`write_csv`'s fast path takes it."""
    return isinstance(col.dtype, pd.StringDtype) or (
        pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype))


def _csv_field(values: Any) -> Any:
    """One column as Arrow ``large_string`` CSV fields (quoted where needed, nulls empty)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = pc.fill_null(pc.cast(arr, pa.large_string()), "")
    need = pc.match_substring(arr, ",")
    for ch in ('"', "\n", "\r"):
        need = pc.or_(need, pc.match_substring(arr, ch))
    if not pc.any(need).as_py():
        return arr
    q, empty = pa.scalar('"', pa.large_string()), pa.scalar("", pa.large_string())
    quoted = pc.binary_join_element_wise(q, pc.replace_substring(arr, '"', '""'), q, empty)
    return pc.if_else(need, quoted, arr)


def _write_fields(path: str | os.PathLike[str], header: list[str], cols: list[Any]) -> None:
    """The header line, then one line per row of the (equally long) field arrays."""
    import pyarrow as pa
    import pyarrow.compute as pc

    with open(path, "wb") as fh:
        fh.write((",".join(_csv_field(header).to_pylist()) + "\n").encode("utf-8"))
        if not cols or len(cols[0]) == 0:
            return
        comma, nl = pa.scalar(",", pa.large_string()), pa.scalar("\n", pa.large_string())
        step = 200_000
        for lo in range(0, len(cols[0]), step):
            # each line with its "\n": the chunk's data buffer is the file's bytes
            lines = pc.binary_join_element_wise(*[c[lo:lo + step] for c in cols], comma)
            lines = pc.binary_join_element_wise(lines, pa.scalar("", pa.large_string()), nl)
            if isinstance(lines, pa.ChunkedArray):
                lines = lines.combine_chunks()
            if lines.null_count:  # the fields are filled; a null would drop its row silently
                raise ValueError("write_csv: a null field reached the line join")
            _, offsets, data = lines.buffers()
            off = np.frombuffer(offsets, dtype=np.int64)[lines.offset:lines.offset + len(lines) + 1]
            fh.write(memoryview(data)[int(off[0]):int(off[-1])])


def _write_geojson(gdf: Any, path: Path) -> None:
    """GeoJSON FeatureCollection (an empty one when there are no clusters)."""
    if len(gdf) == 0:
        path.write_text(json.dumps({"type": "FeatureCollection", "features": []}), encoding="utf-8")
        return
    import shapely

    # what ``gdf.to_json(na="null", drop_id=True)`` writes, with the geometries serialised
    # in GEOS (12 000 event footprints: 0.2 s instead of 1.2 s)
    props = gdf.drop(columns=gdf.geometry.name)
    props = props.astype(object).where(props.notna(), None)
    geoms = shapely.to_geojson(np.asarray(gdf.geometry.values))
    feats = [
        '{"type": "Feature", "properties": '
        + json.dumps(rec, ensure_ascii=False, default=_json_default)
        + ', "geometry": ' + (g if g is not None else "null") + "}"
        for rec, g in zip(props.to_dict(orient="records"), geoms.tolist(), strict=True)
    ]
    path.write_text('{"type": "FeatureCollection", "features": [' + ", ".join(feats) + "]}",
                    encoding="utf-8")


def _json_default(v: Any) -> Any:
    """numpy scalars in GeoJSON properties as plain numbers."""
    if isinstance(v, np.generic):
        return v.item()
    return str(v)
