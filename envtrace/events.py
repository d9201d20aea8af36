"""Events: complaints of one kind bunched in space and time, their significance, hotspots.

An *event* is a group of complaints of ONE category that are close in space and in time,
reported by several different people: the smell of one night's release, a week of dust
from one building site. This module finds them, tests whether they stand out from the
county's usual pattern, and follows purely spatial hotspots from month to month.

Space-time metric
-----------------
Complaints are projected to metres with :func:`envtrace.geo.local_crs` and
:func:`envtrace.geo.project`; time is measured in hours and scaled so that ``window_h``
hours count as ``eps_m`` metres::

    (x, y, t) = (x_m, y_m, hours · eps_m / window_h)
    neighbours  <=>  ‖(Δx, Δy, Δt·eps_m/window_h)‖ <= eps_m
               <=>  (d / eps_m)² + (Δt / window_h)² <= 1

i.e. two complaints are neighbours when they fall inside an ellipsoid ``eps_m`` metres
wide and ``window_h`` hours long (both at most; 0.7·eps_m apart in space leaves
0.7·window_h in time). The scaled points are returned by :func:`spacetime_coordinates`, so
any DBSCAN (e.g. ``sklearn.cluster.DBSCAN(eps=eps_m)``) on them gives the same clusters.

Clustering (DBSCAN with distinct complainants)
----------------------------------------------
DBSCAN on the scaled points, separately per category, with one change to the core
condition: a complaint is *core* when its neighbourhood (itself included) holds at least
``min_complainants`` DISTINCT complainants. Repeat calls of one household count once;
complaints without an identity (``complainant_key == ""``) each count as one person.
When every key is distinct this is exactly DBSCAN with ``min_samples=min_complainants``.
Border complaints join the cluster of their nearest core complaint. Duplicates
(``duplicate_of`` naming a complaint in the frame) are left out of the clustering and
then take their original's label; a ``duplicate_of`` that names no complaint in the frame
is ignored. Complaints without a category (NA or ``""``) are not clustered (label ``-1``):
run :func:`envtrace.classify.fill_categories` first. The implementation is a grid DBSCAN
(:mod:`envtrace._grid_dbscan`): core counts with a k-d tree, core connectivity cell by
cell, no neighbour lists kept.

Event ids are stable for the same input and independent of row order:
``"E" + sha1("\\n".join(sorted(member complaint_ids)))[:10]`` over the clustered
(non-duplicate) members; hotspots use ``"H"``. Noise is ``"-1"``.

Each event row: ``cluster_id, category, n_complaints`` (duplicates included),
``n_complainants`` (distinct keys, each ``""`` one person, duplicates included), and from
the clustered (non-duplicate) members only: ``start, end`` (first and last
``received_at``), ``lon, lat`` (WGS84 of the mean of the projected positions: cheaper and
steadier than a medoid), ``radius_m`` (largest member distance from that centre, metres,
so the event's cylinder holds all its members), ``p_value`` (below), and ``geometry``:
the members' convex hull buffered by ``buffer_m`` (default 100 m), in WGS84.

Default parameters (:data:`DEFAULT_PARAMS`), chosen for a county: odour travels with the
wind and is reported for a day or two (1000 m, 48 h); noise is local and short (300 m,
24 h); dust (800 m, 72 h); water along a channel over days (1500 m, 72 h); waste dumping
sites (500 m, 168 h); anything else (800 m, 48 h); all with 3 distinct complainants.

Significance: the space-time permutation scan
---------------------------------------------
:func:`scan_pvalues` judges each event with Kulldorff's (2005) space-time permutation
scan statistic, per category, on non-duplicate complaints. Time is cut into bins of
``time_unit_h`` hours (default 24: local calendar days). For a cylinder A (a disc around
a centre, a range of bins) the expected count from the space and time marginals is
``μ_A = N_disc · N_bins / N`` and the statistic is the Poisson generalised likelihood ratio
``LLR = c ln(c/μ) + (N−c) ln((N−c)/(N−μ))`` when ``c > μ`` (else 0). Replicates shuffle
the complaint times among the complaint locations (``n_permutations``, default 999;
``seed``), which keeps both marginals and so every ``μ``. An event's ``p_value`` is the
Monte Carlo rank of its own cylinder's LLR (centre = event centre, radius = ``radius_m``,
bins from its start to its end) among the MAXIMUM LLR over all candidate cylinders in each
replicate, as SaTScan judges secondary clusters:
``p = (1 + #{replicates: max ≥ observed}) / (1 + R)``.

Candidate cylinders (search limits, all documented parameters of :func:`scan_pvalues`):

(a) a grid: ``n_centres`` (default 32) k-means centres of the complaint locations
    (``seed``; above 100 000 complaints fitted on a seeded sample of 100 000) × radii
    ``radii_m`` (default 250, 500, 750, 1000, 1500, 2000, 3000 m, cut at
    ``max_radius_m`` = 3000 m) × every window of 1…``max_window_days`` (default 7)
    bins; discs holding more than ``max_population_share`` (default 50 %) of the
    complaints are skipped;
(b) every observed event's own cylinder;
(c) with ``refit`` (default ``"auto"``: categories of up to 50,000 complaints), the own cylinders of the events that the same
    clustering finds in each replicate. The observed cylinders are cut to fit their
    members after the fact; without (c) a replicate would have no such tailored
    cylinders and small chance events would get p-values far too small (on uniform
    random data the smallest event p-value was often < 0.05; with (c) it is not).

The search is still coarser than SaTScan's (every complaint as a centre, every radius),
which makes the p-values somewhat liberal for events that the grid does not cover well.
Vectorised: per replicate one ``bincount`` of (centre, ring, bin) and cumulative sums over
rings and bins give every grid count; cells are only scored where the count reaches the
least count that could beat the smallest observed LLR still being tested.

Sequential stopping (Besag & Clifford 1991, :mod:`envtrace._mc`): an event stops being
tested once ``h = ⌈stop_alpha (R + 1)⌉`` replicates have reached its LLR (50 of 999 with
the default ``stop_alpha = 0.05``): its full-run p-value could no longer fall to 0.05.
Its p-value is then ``h / L`` after ``L`` replicates, otherwise the fixed-``R`` value
above. Events with p-values below 0.05 run all replicates, so no decision at the 5 %
level changes, while events that chance clusters beat (most events of a long record)
stop after about ``h``; the replicates that remain only score cylinders that could beat
the surviving, stronger events. ``stop_alpha=None`` always runs every replicate.

Hotspot trends
--------------
:func:`spatial_hotspots` runs the same DBSCAN in 2-D over all time. :func:`hotspot_trends`
counts each hotspot's complaints per month and labels it with the vocabulary of emerging
hot-spot analysis; see its docstring for the rules.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import stats
from scipy.spatial import cKDTree

from envtrace import _mc, _procs, _threads, geo
from envtrace._grid_dbscan import grid_dbscan
from envtrace.errors import InputError

_log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_PARAMS",
    "EVENT_COLUMNS",
    "TREND_LABELS",
    "SpaceTimeEvents",
    "find_events",
    "split_events",
    "spacetime_coordinates",
    "spatial_hotspots",
    "scan_pvalues",
    "hotspot_trends",
    "mann_kendall",
]

#: Per-category defaults: ``eps_m`` (metres), ``window_h`` (hours), ``min_complainants``.
DEFAULT_PARAMS: dict[str, dict[str, float]] = {
    "odour": {"eps_m": 1000.0, "window_h": 48.0, "min_complainants": 3},
    "noise": {"eps_m": 300.0, "window_h": 24.0, "min_complainants": 3},
    "dust": {"eps_m": 800.0, "window_h": 72.0, "min_complainants": 3},
    "water": {"eps_m": 1500.0, "window_h": 72.0, "min_complainants": 3},
    "waste": {"eps_m": 500.0, "window_h": 168.0, "min_complainants": 3},
    "other": {"eps_m": 800.0, "window_h": 48.0, "min_complainants": 3},
}
_FALLBACK = DEFAULT_PARAMS["other"]

EVENT_COLUMNS: list[str] = [
    "cluster_id", "category", "n_complaints", "n_complainants", "start", "end",
    "lon", "lat", "radius_m", "p_value",
]
NOISE = "-1"
TREND_LABELS: tuple[str, ...] = (
    "new", "intensifying", "persistent", "diminishing", "sporadic", "none",
)
DEFAULT_RADII_M: tuple[float, ...] = (250.0, 500.0, 750.0, 1000.0, 1500.0, 2000.0, 3000.0)
_REFIT_POINTS = 5_000  # points per batched DBSCAN of the scan's replicates (the small-input path of _grid_dbscan)
# a replicate's DBSCAN from its list of neighbour pairs when it has at most this many (its
# times are shuffled, so its points are rarely crowded): 1.5-3x faster than the grid
_REFIT_MAX_PAIRS = 2_000_000
# background scans of at least this many (non-duplicate) complaints run in child processes
_PROCESS_MIN_COMPLAINTS = 10_000
# complaints from which _Prepared projects them on a thread (1M: 0.9 s of PROJ, beside
# 1.5 s of reading the other columns; below this the thread costs more than it saves)
_PROJECT_THREAD_MIN = 100_000
_MAX_REFIT_POINTS = 50_000  # scan_pvalues' default max_refit_points


# --------------------------------------------------------------------------- input


class _Prepared:
    """Validated columns of a Complaints frame as numpy arrays (input row order)."""

    @functools.cached_property
    def categories(self) -> list[str]:
        """The categories present, sorted (rows without one left out)."""
        return sorted({c for c in self.category if c != ""})

    def __init__(self, complaints: pd.DataFrame) -> None:
        if not isinstance(complaints, pd.DataFrame):
            raise InputError("complaints must be a DataFrame")
        missing = [c for c in ("complaint_id", "received_at", "lon", "lat") if c not in complaints]
        if missing:
            raise InputError(f"complaints lack column(s): {', '.join(missing)}")
        self.index = complaints.index
        n = len(complaints)
        self.n = n
        ids = complaints["complaint_id"]
        if ids.isna().any():
            raise InputError("complaints have a missing complaint_id")
        self.ids = ids.astype(str).to_numpy(dtype=object)
        if not pd.Index(self.ids).is_unique:
            raise InputError("complaint_id is not unique")
        t = complaints["received_at"]
        if not pd.api.types.is_datetime64_any_dtype(t):
            try:
                t = pd.to_datetime(t, utc=False)
            except (ValueError, TypeError) as exc:
                raise InputError("received_at is not a date-time column") from exc
        if t.isna().any():
            raise InputError("complaints have a missing received_at")
        self.time = t
        self.t_int = np.asarray(t.array.asi8, dtype=np.int64) if n else np.zeros(0, np.int64)
        # local wall-clock time (days start at local midnight)
        wall = t.dt.tz_localize(None) if getattr(t.dt, "tz", None) is not None else t
        self.wall = wall
        if n:
            self.hours = ((t - t.min()).dt.total_seconds() / 3600.0).to_numpy(dtype=float)
        else:
            self.hours = np.zeros(0)
        try:
            lon = pd.to_numeric(complaints["lon"]).to_numpy(dtype=float)
            lat = pd.to_numeric(complaints["lat"]).to_numpy(dtype=float)
        except (ValueError, TypeError) as exc:
            raise InputError("lon/lat are not numbers") from exc
        if n and not (np.isfinite(lon).all() and np.isfinite(lat).all()):
            raise InputError("complaints have missing or non-finite lon/lat")
        if n and ((np.abs(lat) > 90).any() or (np.abs(lon) > 180).any()):
            raise InputError("lon/lat out of range (expected WGS84 degrees)")
        self.lon, self.lat = lon, lat
        proj = None
        if n >= _PROJECT_THREAD_MIN:  # PROJ works without the GIL: beside the steps below
            proj = _threads.background(self._project, name="envtrace-project")
        try:
            self._read_columns(complaints)
        except BaseException:
            if proj is not None:
                proj.cancel()
            raise
        self.crs, self.x, self.y = proj.result() if proj is not None else self._project()

    def _read_columns(self, complaints: pd.DataFrame) -> None:
        """Categories, complainant keys and the duplicates' originals."""
        n = self.n
        if "category" in complaints:
            cat = complaints["category"].astype(object).where(complaints["category"].notna(), "")
            self.category = cat.astype(str).to_numpy(dtype=object)
        else:
            self.category = np.full(n, "other", dtype=object)
        if "complainant_key" in complaints:
            k = complaints["complainant_key"].astype(object)
            self.keys = k.where(k.notna(), "").astype(str).to_numpy(dtype=object)
        else:
            self.keys = np.full(n, "", dtype=object)
        self.root = self._resolve_duplicates(complaints)

    def _project(self) -> tuple[Any, np.ndarray, np.ndarray]:
        """The local projection (:func:`envtrace.geo.local_crs`) and the metres of every row."""
        if not self.n:
            return None, np.zeros(0), np.zeros(0)
        crs = geo.local_crs(self.lon, self.lat)
        x, y = geo.project(self.lon, self.lat, crs)
        return crs, x, y

    def _resolve_duplicates(self, complaints: pd.DataFrame) -> np.ndarray:
        """Position of each row's original (itself when not a duplicate)."""
        root = np.arange(self.n)
        if "duplicate_of" not in complaints or self.n == 0:
            return root
        d = complaints["duplicate_of"].astype(object)
        d = d.where(d.notna(), "").astype(str).to_numpy(dtype=object)
        if not (d != "").any():
            return root
        named = np.flatnonzero(d != "")  # only the duplicates are looked up
        target = pd.Index(self.ids).get_indexer(d[named])
        has = target >= 0
        parent = root.copy()
        parent[named[has]] = target[has]
        for _ in range(32):  # follow chains a -> b -> c
            nxt = parent[parent]
            if np.array_equal(nxt, parent):
                break
            parent = nxt
        # cycles: treat their members as originals
        cyc = parent[parent] != parent
        parent[cyc] = root[cyc]
        return parent

    def times_from_int(self, values: np.ndarray) -> pd.Series:
        """``received_at``-typed Series from the integer representation of :attr:`t_int`."""
        unit = np.datetime_data(self.time.dtype.base if hasattr(self.time.dtype, "base")
                                else self.time.dtype)[0] if self.n else "ns"
        arr = np.asarray(values, dtype=np.int64).astype(f"datetime64[{unit}]")
        out = pd.Series(arr)
        tz = getattr(self.time.dt, "tz", None) if self.n else None
        if tz is not None:
            out = out.dt.tz_localize("UTC").dt.tz_convert(tz)
        return out

    @property
    def is_dup(self) -> np.ndarray:
        return self.root != np.arange(self.n)

    def group_codes(self, rows: np.ndarray) -> np.ndarray:
        """Complainant code per row: equal keys share a code, each ``""`` is its own."""
        k = self.keys[rows]
        codes, _ = pd.factorize(pd.Series(k, dtype=object))
        codes = codes.astype(np.int64)
        blank = k == ""
        codes[blank] = codes.max(initial=-1) + 1 + np.arange(int(blank.sum()))
        return codes


class _ScanView(_Prepared):
    """The non-duplicate complaints of one category as the scan reads them: a picklable
    slice of a :class:`_Prepared` (the arrays themselves, not recomputed, so a scan of the
    view gives the same p-values), sent to a scan in a child process. Only what the scan
    reads is kept: complainants as their group codes, ``time`` as one row (its time zone)."""

    def __init__(self, p: _Prepared, rows: np.ndarray) -> None:  # noqa: D107 - sliced, not validated
        self.n = len(rows)
        self.index = pd.RangeIndex(self.n)
        self.time = p.time.iloc[rows[:1]].reset_index(drop=True)  # dtype (time zone) only
        self.wall = p.wall.iloc[rows].reset_index(drop=True)
        self.hours = p.hours[rows]
        self.category = p.category[rows]
        self.crs = p.crs
        self.x, self.y = p.x[rows], p.y[rows]
        self._groups = p.group_codes(rows)

    @property
    def is_dup(self) -> np.ndarray:
        return np.zeros(self.n, dtype=bool)

    def group_codes(self, rows: np.ndarray) -> np.ndarray:
        return self._groups[rows]


def _scan_view(view: _ScanView, events: pd.DataFrame, options: dict[str, Any]) -> pd.Series:
    """:func:`scan_pvalues` of ``events`` on ``view`` (run in a child process)."""
    return scan_pvalues(None, events, _prepared=view, **options)


def _scan_in_process(p: _Prepared, rows: np.ndarray, events: pd.DataFrame, options: dict[str, Any],
                     cat: str) -> pd.Series:
    """:func:`_scan_view` of the category's slice in a child process (the slice is made when
    the job starts, not while it waits, and dropped once sent)."""
    return _procs.call_in_process(_scan_view, _ScanView(p, rows), events, options,
                                  name=f"envtrace-scan-{cat}")


def _params(category: str, eps_m: float | None, window_h: float | None,
            min_complainants: int | None,
            params: Mapping[str, Mapping[str, float]] | None) -> tuple[float, float, int]:
    base = dict(DEFAULT_PARAMS.get(category, _FALLBACK))
    if params and category in params:
        base.update(params[category])
    e = float(eps_m if eps_m is not None else base["eps_m"])
    w = float(window_h if window_h is not None else base["window_h"])
    m = int(min_complainants if min_complainants is not None else base["min_complainants"])
    if not (np.isfinite(e) and e > 0):
        raise InputError("eps_m must be a positive number of metres")
    if not (np.isfinite(w) and w > 0):
        raise InputError("window_h must be a positive number of hours")
    if m < 1:
        raise InputError("min_complainants must be at least 1")
    return e, w, m


def spacetime_coordinates(complaints: pd.DataFrame, *, eps_m: float, window_h: float) -> np.ndarray:
    """The scaled space-time points the clustering runs on.

    Parameters
    ----------
    complaints : DataFrame
        Complaints frame (``received_at``, ``lon``, ``lat``, ``complaint_id``).
    eps_m : float
        Space radius, metres.
    window_h : float
        Time window, hours; ``window_h`` hours are scaled to ``eps_m`` metres.

    Returns
    -------
    ndarray, shape (n, 3)
        ``x, y`` metres in :func:`envtrace.geo.local_crs` of all the complaints, and
        hours since the first complaint × ``eps_m / window_h``. DBSCAN with Euclidean
        ``eps = eps_m`` on these is the module's space-time neighbourhood.
    """
    p = _Prepared(complaints)
    return np.column_stack([p.x, p.y, p.hours * (float(eps_m) / float(window_h))])


def _cluster_ids(prefix: str, ids: np.ndarray, labels: np.ndarray) -> dict[int, str]:
    """Stable id per integer label from the sorted member complaint ids."""
    sel = np.flatnonzero(labels >= 0)
    if len(sel) == 0:
        return {}
    lab = labels[sel]
    member = np.asarray(ids[sel], dtype=object)
    order = np.lexsort((member.astype(str), lab))
    lab, member = lab[order], member[order]
    cut = np.flatnonzero(lab[1:] != lab[:-1]) + 1
    out: dict[int, str] = {}
    for first, chunk in zip(lab[np.r_[0, cut]].tolist(), np.split(member, cut), strict=True):
        digest = hashlib.sha1("\n".join(chunk.tolist()).encode("utf-8")).hexdigest()[:10]
        out[first] = prefix + digest
    return out


def _names(labels: np.ndarray, ids_map: dict[int, str]) -> np.ndarray:
    """Cluster id string per row (``"-1"`` for noise)."""
    table = np.full(int(labels.max(initial=-1)) + 2, NOISE, dtype=object)
    for k, v in ids_map.items():
        table[k] = v
    return table[np.where(labels >= 0, labels, len(table) - 1)]


def _maybe_hull(x: np.ndarray, y: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Points that may be convex-hull vertices of their group (Akl–Toussaint).

    Groups are the runs ``offsets[g]:offsets[g + 1]`` (each non-empty). A point strictly
    inside the quadrilateral of its group's leftmost, lowest, rightmost and highest points
    is no hull vertex, so dropping it leaves the hull unchanged; at a million members this
    drops most points before shapely builds the multipoints.
    """
    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=bool)
    starts = offsets[:-1]
    grp = np.repeat(np.arange(len(starts)), np.diff(offsets))
    idx = np.arange(n)

    def extreme(v: np.ndarray, reduce: np.ufunc) -> np.ndarray:
        best = reduce.reduceat(v, starts)
        hit = np.flatnonzero(v == best[grp])
        first = np.unique(grp[hit], return_index=True)[1]
        return idx[hit[first]]

    corners = [extreme(x, np.minimum), extreme(y, np.minimum), extreme(x, np.maximum),
               extreme(y, np.maximum)]  # counter-clockwise: left, bottom, right, top
    inside = np.ones(n, dtype=bool)
    edges = np.zeros(len(starts), dtype=np.int64)  # non-degenerate edges per group
    for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
        same = (x[a] == x[b]) & (y[a] == y[b])  # two corners at one point: no edge
        edges += ~same
        ax, ay = x[a][grp], y[a][grp]
        bx, by = x[b][grp], y[b][grp]
        inside &= ((bx - ax) * (y - ay) - (by - ay) * (x - ax) > 0) | same[grp]
    return ~(inside & (edges[grp] > 0))


def _summarise(p: _Prepared, labels: np.ndarray, ids_map: dict[int, str],
               *, buffer_m: float) -> gpd.GeoDataFrame:
    """One row per cluster: counts, times, centre, radius, footprint."""
    sel = np.flatnonzero(labels >= 0)
    if len(sel) == 0:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in EVENT_COLUMNS})
        for c in ("n_complaints", "n_complainants"):
            empty[c] = empty[c].astype(np.int64)
        for c in ("lon", "lat", "radius_m", "p_value"):
            empty[c] = empty[c].astype(float)
        for c in ("cluster_id", "category"):
            empty[c] = empty[c].astype(str)
        tz = p.time.dt.tz if p.n else None
        for c in ("start", "end"):
            empty[c] = pd.Series(pd.DatetimeIndex([], tz=tz), dtype=p.time.dtype if p.n else "datetime64[ns]")
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    lab = labels[sel]
    uniq, inv = np.unique(lab, return_inverse=True)
    k = len(uniq)
    cnt = np.bincount(inv, minlength=k)
    keys = p.keys[sel]
    person = np.where(keys == "", "\x00" + p.ids[sel].astype(str), keys)
    n_people = pd.Series(person).groupby(inv).nunique().to_numpy()
    cat = pd.Series(p.category[sel]).groupby(inv).first().to_numpy()
    # place and time from the clustered members; duplicates only add to the counts
    sel = sel[~p.is_dup[sel]]
    inv = np.searchsorted(uniq, labels[sel])
    m = np.bincount(inv, minlength=k)
    cx = np.bincount(inv, weights=p.x[sel], minlength=k) / m
    cy = np.bincount(inv, weights=p.y[sel], minlength=k) / m
    dist = np.hypot(p.x[sel] - cx[inv], p.y[sel] - cy[inv])
    radius = np.zeros(k)
    np.maximum.at(radius, inv, dist)
    t_ns = p.t_int[sel]
    start = np.full(k, np.iinfo(np.int64).max)
    end = np.full(k, np.iinfo(np.int64).min)
    np.minimum.at(start, inv, t_ns)
    np.maximum.at(end, inv, t_ns)
    # footprints: convex hull of members, buffered, back to WGS84
    order = np.argsort(inv, kind="stable")
    offsets = np.r_[0, np.cumsum(np.bincount(inv, minlength=k))].astype(np.int64)
    xs, ys = p.x[sel][order], p.y[sel][order]
    keep = _maybe_hull(xs, ys, offsets)
    counts = np.add.reduceat(keep.astype(np.int64), offsets[:-1]) if k else np.zeros(0, np.int64)
    multi = shapely.from_ragged_array(
        shapely.GeometryType.MULTIPOINT, np.column_stack([xs[keep], ys[keep]]),
        (np.r_[0, np.cumsum(counts)].astype(np.int64),))
    hull = shapely.buffer(shapely.convex_hull(multi), float(buffer_m), quad_segs=3)
    crs = p.crs

    def _to_wgs(xy: np.ndarray) -> np.ndarray:
        lo, la = geo.unproject(xy[:, 0], xy[:, 1], crs)
        return np.column_stack([lo, la])

    footprint = shapely.transform(hull, _to_wgs)
    clon, clat = geo.unproject(cx, cy, crs)
    frame = pd.DataFrame({
        "cluster_id": [ids_map[int(u)] for u in uniq],
        "category": pd.array(cat.astype(str), dtype="str"),
        "n_complaints": cnt.astype(np.int64),
        "n_complainants": n_people.astype(np.int64),
        "start": p.times_from_int(start),
        "end": p.times_from_int(end),
        "lon": clon,
        "lat": clat,
        "radius_m": radius,
        "p_value": np.full(k, np.nan),
    })
    frame["cluster_id"] = frame["cluster_id"].astype("str")
    out = gpd.GeoDataFrame(frame, geometry=np.asarray(footprint), crs="EPSG:4326")
    return out.sort_values(["start", "cluster_id"], kind="stable").reset_index(drop=True)


def _n_threads(workers: int) -> int:
    """Threads for ``workers`` (-1 or 0: all cores), as in scipy's k-d tree queries."""
    return max(1, os.cpu_count() or 1) if workers < 1 else int(workers)


def _map_categories(fn: Callable[[Any], Any], jobs: Sequence[Any], workers: int,
                    size: Callable[[Any], int] | None = None) -> list[Any]:
    """``[fn(j) for j in jobs]``, run on up to ``workers`` threads, largest jobs first.

    The categories of a scan or a clustering share nothing and each is seeded on its own,
    so the results do not depend on the number of threads; numpy, scipy's k-d tree and the
    sorts release the GIL for most of the work (on the 1M county the scan's six categories
    took 39 s one after the other and 24 s on two threads).
    """
    n = min(_n_threads(workers), len(jobs))
    if n <= 1:
        return [fn(j) for j in jobs]
    from concurrent.futures import ThreadPoolExecutor

    order = sorted(range(len(jobs)), key=lambda i: -(size(jobs[i]) if size else len(jobs[i][0])))
    with ThreadPoolExecutor(max_workers=n) as ex:
        futs = {i: ex.submit(fn, jobs[i]) for i in order}
        return [futs[i].result() for i in range(len(jobs))]


def _cluster(p: _Prepared, *, spatial: bool, eps_m: float | None, window_h: float | None,
             min_complainants: int | None, params: Mapping[str, Mapping[str, float]] | None,
             categories: Iterable[str] | None, workers: int,
             on_done: Callable[[str, np.ndarray, np.ndarray], None] | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Integer label per row (-1 noise) and core mask; duplicates take their original's label.

    ``on_done(category, rows, labels)`` is called on the worker thread as soon as a
    category is clustered (its own labels from 0, -1 noise), before the others finish.
    """
    labels = np.full(p.n, -1, dtype=np.int64)
    core = np.zeros(p.n, dtype=bool)
    orig = ~p.is_dup
    cats = p.categories if categories is None else list(categories)
    jobs = []
    for cat in cats:
        rows = np.flatnonzero(orig & (p.category == cat))
        if len(rows) == 0:
            continue
        e, w, m = _params(cat, eps_m, window_h, min_complainants, params)
        if spatial:
            pts = np.column_stack([p.x[rows], p.y[rows]])
        else:
            pts = np.column_stack([p.x[rows], p.y[rows], p.hours[rows] * (e / w)])
        jobs.append((rows, pts, e, m, cat))

    def run(job: tuple[np.ndarray, np.ndarray, float, int, str]) -> tuple[np.ndarray, np.ndarray]:
        rows, pts, e, m, cat = job
        out = grid_dbscan(pts, eps=e, min_samples=m, groups=p.group_codes(rows), workers=workers)
        if on_done is not None:
            on_done(cat, rows, out[0])
        return out

    offset = 0
    # categories are independent: clustered side by side, labelled in category order
    for (rows, *_job), (lab, is_core) in zip(jobs, _map_categories(run, jobs, workers),
                                              strict=True):
        core[rows] = is_core
        ok = lab >= 0
        labels[rows[ok]] = lab[ok] + offset
        offset += int(lab.max(initial=-1)) + 1
    _inherit_duplicates(p, labels)
    return labels, core


def _inherit_duplicates(p: _Prepared, labels: np.ndarray) -> None:
    """Duplicates take their original's label (-1 where the original is not clustered)."""
    dup = np.flatnonzero(p.is_dup)
    labels[dup] = labels[p.root[dup]]


# --------------------------------------------------------------------------- events


class SpaceTimeEvents:
    """Find space-time events in a Complaints frame (DBSCAN with distinct complainants).

    Parameters
    ----------
    eps_m : float, optional
        Space radius, metres. ``None``: per category from :data:`DEFAULT_PARAMS`.
    window_h : float, optional
        Time window, hours (``window_h`` hours weigh as much as ``eps_m`` metres).
        ``None``: per category default.
    min_complainants : int, optional
        Minimum distinct complainants in a core complaint's neighbourhood (itself
        included). ``None``: per category default (3).
    params : mapping, optional
        Per-category overrides, e.g. ``{"noise": {"eps_m": 200}}``; explicit ``eps_m`` /
        ``window_h`` / ``min_complainants`` win over it.
    buffer_m : float
        Buffer around the members' convex hull for the footprint polygon, metres.
    n_permutations : int
        Monte Carlo replicates of :func:`scan_pvalues`; 0 skips the scan (``p_value`` NaN).
    seed : int
        Seed of the scan's permutations and k-means centres.
    scan_options : mapping, optional
        Further keyword arguments of :func:`scan_pvalues` (``max_radius_m``,
        ``max_window_days``, ``n_centres``, ``time_unit_h``, ...).
    workers : int
        Threads (-1 = all cores): categories are clustered and scanned side by side and
        the k-d tree queries use them. The results do not depend on it.
    scan_processes : bool, optional
        With ``fit(scan="background")``, scan each category in a child process instead
        of on a thread, so that the scan does not hold the interpreter lock the caller's
        work beside it needs (the p-values are the same). ``None`` (default): for
        categories of at least 10,000 complaints on a machine of more than one core,
        where starting a process (about a second) is worth it.

    Attributes
    ----------
    labels_ : Series of str
        ``cluster_id`` or ``"-1"`` per complaint, on the input index.
    events_ : GeoDataFrame
        One row per event, columns :data:`EVENT_COLUMNS` + ``geometry`` (WGS84).
    core_ : Series of bool
        Core complaints of the DBSCAN (duplicates and uncategorised ones False).
    crs_ : pyproj.CRS
        The local metric projection used.
    """

    def __init__(self, eps_m: float | None = None, window_h: float | None = None,
                 min_complainants: int | None = None, *,
                 params: Mapping[str, Mapping[str, float]] | None = None,
                 buffer_m: float = 100.0, n_permutations: int = 999, seed: int = 0,
                 scan_options: Mapping[str, Any] | None = None, workers: int = -1,
                 scan_processes: bool | None = None) -> None:
        self.eps_m = eps_m
        self.window_h = window_h
        self.min_complainants = min_complainants
        self.params = params
        self.buffer_m = buffer_m
        self.n_permutations = n_permutations
        self.seed = seed
        self.scan_options = scan_options
        self.workers = workers
        self.scan_processes = scan_processes

    def fit(self, complaints: pd.DataFrame, *, scan: bool | str = True) -> SpaceTimeEvents:
        """Cluster ``complaints``; sets ``labels_``, ``events_``, ``crs_``. Returns self.

        With ``scan=False`` the events' ``p_value`` stays NaN and :meth:`scan` computes
        the p-values later (``envtrace trace`` runs it beside the attribution, which does
        not need them). With ``scan="background"`` each category's scan starts on a
        background thread as soon as that category is clustered — the small categories'
        while the largest is still being clustered — and :meth:`scan` waits for them; the
        p-values are the same as with ``scan=False`` (the categories are scanned
        independently and each is seeded on its own).
        """
        if isinstance(scan, str):
            if scan != "background":
                raise InputError(f"scan must be True, False or 'background', not {scan!r}")
        else:
            scan = bool(scan)
        p = _Prepared(complaints)
        jobs, on_done, pool = None, None, None
        if scan == "background" and self.n_permutations:
            jobs, on_done, pool = self._background_scans(p)
        try:
            lab, core = _cluster(p, spatial=False, eps_m=self.eps_m, window_h=self.window_h,
                                 min_complainants=self.min_complainants, params=self.params,
                                 categories=None, workers=self.workers, on_done=on_done)
        except BaseException:
            if pool is not None:  # scans not started yet never start; the pool's threads end
                pool.cancel_pending()
                pool.shutdown()
            raise
        if pool is not None:
            pool.shutdown()  # every category is submitted: the threads end when done
        if jobs is not None:  # the categories' ids, made for their scans, at their offsets
            ids_map = {}
            for rows, loc, ids_c in jobs["ids"].values():
                first = int(np.flatnonzero(loc >= 0)[0])
                off = int(lab[rows[first]]) - int(loc[first])
                ids_map.update({k + off: v for k, v in ids_c.items()})
        else:
            ids_map = _cluster_ids("E", p.ids[~p.is_dup], lab[~p.is_dup])
        names = _names(lab, ids_map)
        self.labels_ = pd.Series(names, index=p.index, name="cluster_id", dtype="str")
        self.core_ = pd.Series(core, index=p.index, name="core", dtype=bool)
        if jobs is not None and jobs["frames"]:  # the categories' own summaries, made for their scans
            frames = jobs["frames"]
            ev = pd.concat([frames[c] for c in sorted(frames)], ignore_index=True)
            self.events_ = ev.sort_values(["start", "cluster_id"], kind="stable").reset_index(drop=True)
        else:
            self.events_ = _summarise(p, lab, ids_map, buffer_m=self.buffer_m)
        self.crs_ = p.crs
        self._prepared = p
        self._jobs = jobs
        if scan is True and self.n_permutations and len(self.events_):
            pv = self.scan()
            self.events_["p_value"] = pv.reindex(self.events_["cluster_id"]).to_numpy(dtype=float)
        return self

    def scan(self) -> pd.Series:
        """Monte Carlo p-values of the fitted events (:func:`scan_pvalues` with this
        estimator's settings), indexed by ``cluster_id``; ``events_`` is not modified.

        Raises
        ------
        InputError
            When the estimator has not been fitted.
        """
        p = getattr(self, "_prepared", None)
        if p is None:
            raise InputError("SpaceTimeEvents.scan needs a fitted estimator (call fit first)")
        jobs = getattr(self, "_jobs", None)
        if jobs is not None:  # started by fit(scan="background"): wait for every category
            parts = [f.result() for f in jobs["futures"].values()]
            pv = pd.concat(parts) if parts else pd.Series(dtype=float)
            ids = pd.Index(self.events_["cluster_id"].astype(str), name="cluster_id")
            return pv.reindex(ids).rename("p_value").astype(float)
        return self._scan_events(p, self.events_.copy())

    def _scan_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`scan_pvalues` with this estimator's settings."""
        return dict(n_permutations=self.n_permutations, seed=self.seed, eps_m=self.eps_m,
                    window_h=self.window_h, min_complainants=self.min_complainants,
                    params=self.params, workers=self.workers, **dict(self.scan_options or {}))

    def _scan_events(self, p: _Prepared, events: pd.DataFrame) -> pd.Series:
        """:func:`scan_pvalues` of ``events`` with this estimator's settings."""
        return scan_pvalues(None, events, _prepared=p, **self._scan_kwargs())


    def _background_scans(self, p: _Prepared
                          ) -> tuple[dict[str, Any], Callable[..., None], _threads.DaemonPool]:
        """Per-category scan jobs on daemon threads, the hook that starts each one once its
        category is clustered (the category's own events, summarised as in fit), and the
        pool (at most one thread per category, never more than ``workers``)."""
        jobs: dict[str, Any] = {"futures": {}, "frames": {}, "ids": {}}
        n_cat = len(p.categories)
        pool = _threads.DaemonPool(min(_n_threads(self.workers), max(n_cat, 1)), name="envtrace-scan")
        lock = threading.Lock()

        procs = self.scan_processes
        if procs is None:
            procs = _n_threads(self.workers) > 1 and _procs.available()
        elif procs and not _procs.available():  # pragma: no cover - platform dependent
            _log.warning("scan: child processes cannot be started here; scanning on threads")
            procs = False
        opts = self._scan_kwargs()
        if procs and (self.scan_processes or pd.Series(p.category[~p.is_dup]).value_counts()
                      .max() >= _PROCESS_MIN_COMPLAINTS):
            _procs.warm_up()  # while the categories are clustered

        def on_done(cat: str, rows: np.ndarray, lab: np.ndarray) -> None:
            labels = np.full(p.n, -1, dtype=np.int64)
            ok = lab >= 0
            labels[rows[ok]] = lab[ok]
            _inherit_duplicates(p, labels)
            ids_c = _cluster_ids("E", p.ids[rows], lab)  # the category's own members only
            ev = _summarise(p, labels, ids_c, buffer_m=self.buffer_m)
            if not len(ev):
                return
            big = len(rows) >= _PROCESS_MIN_COMPLAINTS or self.scan_processes
            if procs and big:
                # the same call on the category's slice, in a child process; the refit
                # warning is decided (and logged) here
                o = dict(opts, refit=_refit_for(cat, len(rows), opts.get("refit", "auto"),
                                                opts.get("max_refit_points", _MAX_REFIT_POINTS)))
                fut = pool.submit(_scan_in_process, p, rows, pd.DataFrame(ev.drop(columns="geometry")),
                                  o, cat)
            else:
                fut = pool.submit(self._scan_events, p, ev)  # this category's events alone
            with lock:
                jobs["futures"][cat] = fut
                jobs["frames"][cat] = ev
                jobs["ids"][cat] = (rows, lab, ids_c)

        return jobs, on_done, pool


def _part_numbers(moved: pd.Series) -> np.ndarray:
    """The part (1, 2, …; negative: no event) each moved complaint joins: ``moved``'s values
    when they are whole numbers (any numeric or object dtype), 1 for all when they are not
    numbers (event ids).

    Raises InputError on 0, fractions, or a mix of numbers and text."""
    if not len(moved):
        return np.zeros(0, dtype=np.int64)
    num = pd.to_numeric(moved, errors="coerce")
    if num.isna().all():  # event ids or other labels: one part
        return np.ones(len(moved), dtype=np.int64)
    vals = num.to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(vals).any() or (vals == 0).any() or (vals != np.round(vals)).any():
        raise InputError("split_events: moved must hold part numbers 1, 2, … or negative ones "
                         "(no event), or event ids for one part")
    return vals.astype(np.int64)


def split_events(complaints: pd.DataFrame, events: pd.DataFrame, moved: pd.Series, *,
                 buffer_m: float = 100.0) -> tuple[pd.Series, gpd.GeoDataFrame, pd.Series, pd.Series]:
    """Split events in parts: the complaints in ``moved`` leave their event for new ones.

    Used when one space-time event holds several sources' complaints
    (:func:`envtrace.attribution.rank_suspects`, step 11). All parts get new ids derived
    from their members, as every event's id is, and their own summary (counts, times,
    centre, radius, footprint); a duplicate goes where its original goes.

    Parameters
    ----------
    complaints : DataFrame
        Complaints with ``cluster_id`` (and the columns of :class:`SpaceTimeEvents`).
    events : DataFrame
        The events (:data:`EVENT_COLUMNS` + ``geometry``).
    moved : Series
        Index: the complaints (labels of ``complaints.index``) that leave their event;
        values: the part each joins, 1, 2, … (whole numbers of any dtype; one event per
        part), a negative number for no event (``cluster_id`` ``"-1"``; the rest of the
        event gets a new id and summary, as a part does; step 11 writes ``-1 - k`` for a
        complaint out of part ``k``), or labels that are not numbers (e.g. the event ids:
        all leave as one part).
    buffer_m : float
        Footprint buffer of the parts, metres.

    Returns
    -------
    labels : Series of str
        The new ``cluster_id`` of every complaint (``complaints.index``).
    events : GeoDataFrame
        Unsplit events as they were, each split event replaced by its parts, ordered
        by start and id; a part's ``p_value`` is its parent's.
    parent : Series of str
        Per new ``cluster_id``: the event it came from (itself when not split).
    left_from : Series of str
        Per complaint (``complaints.index``): for one sent to no event by ``-1 - k``, the
        new ``cluster_id`` of part ``k`` of its event (0: what stays of it), or its old
        ``cluster_id`` when no complaint is left in that part; ``""`` for the others.
    """
    lab = complaints["cluster_id"].astype(str).to_numpy(dtype=object)
    ids = events["cluster_id"].astype(str)
    idx = complaints.index.get_indexer(pd.Index(moved.index))
    if (idx < 0).any():
        raise InputError("split_events: moved complaints not found in complaints")
    split = pd.unique(lab[idx])
    split = split[pd.Index(split).isin(ids.to_numpy()) & (split != NOISE)]
    rows = np.flatnonzero(pd.Index(lab).isin(split))  # hashed: np.isin sorts objects (12 s at 1M)
    part = np.zeros(len(complaints), dtype=np.int64)
    part[idx] = _part_numbers(moved)
    n_parts = max(int(part.max()), 1) + 1 if part.size else 2
    parent_of = pd.Series(ids.to_numpy(), index=ids.to_numpy(), dtype="str")
    left_from = np.full(len(complaints), "", dtype=object)
    if not len(rows):
        return (pd.Series(lab, index=complaints.index, name="cluster_id", dtype="str"),
                events.copy(), parent_of, pd.Series(left_from, index=complaints.index, dtype="str"))
    cols = [c for c in ("complaint_id", "received_at", "lon", "lat", "category", "complainant_key",
                        "duplicate_of") if c in complaints.columns]
    p = _Prepared(complaints[cols].iloc[rows])
    part_sub = part[rows]
    _inherit_duplicates(p, part_sub)  # duplicates follow their originals
    ev_code = pd.factorize(lab[rows])[0].astype(np.int64)
    ilab = ev_code * n_parts + part_sub  # (event, part)
    gone = part_sub < 0
    ilab[gone] = -1  # in no event
    orig = ~p.is_dup
    ids_map = _cluster_ids("E", p.ids[orig], ilab[orig])
    names = _names(ilab, ids_map)
    # the part each of those left: -1 - k is part k of the same event
    k = -1 - part_sub[gone]
    was = np.where(k < n_parts, ev_code[gone] * n_parts + k, -1)
    left_from[rows[gone]] = [ids_map.get(int(g), o) for g, o in zip(was, lab[rows][gone], strict=True)]
    parts = _summarise(p, ilab, ids_map, buffer_m=buffer_m)
    par = pd.Series(lab[rows], index=names).groupby(level=0).first().drop(NOISE, errors="ignore")
    pv = pd.Series(events["p_value"].to_numpy(dtype=float), index=ids.to_numpy())
    parts["p_value"] = pv.reindex(par.reindex(parts["cluster_id"]).to_numpy()).to_numpy()
    keep = events.loc[~ids.isin(split).to_numpy()]
    out = pd.concat([keep, parts], ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=events.crs if hasattr(events, "crs") else None)
    out = out.sort_values(["start", "cluster_id"], kind="stable").reset_index(drop=True)
    new_lab = lab.copy()
    new_lab[rows] = names
    parent_of = pd.concat([parent_of[~parent_of.isin(split)], par.astype(str)])
    return (pd.Series(new_lab, index=complaints.index, name="cluster_id", dtype="str"), out, parent_of,
            pd.Series(left_from, index=complaints.index, dtype="str"))


def find_events(complaints: pd.DataFrame, **params: Any) -> tuple[pd.Series, gpd.GeoDataFrame]:
    """Plain-function form of :class:`SpaceTimeEvents`.

    Parameters
    ----------
    complaints : DataFrame
        Complaints frame.
    **params
        Keyword arguments of :class:`SpaceTimeEvents`.

    Returns
    -------
    labels : Series of str
        ``cluster_id`` or ``"-1"`` per complaint (input index).
    events : GeoDataFrame
        One row per event (see :class:`SpaceTimeEvents`).
    """
    est = SpaceTimeEvents(**params).fit(complaints)
    return est.labels_, est.events_


def spatial_hotspots(complaints: pd.DataFrame, *, eps_m: float | None = None,
                     min_complainants: int | None = None, category: str | None = None,
                     buffer_m: float = 100.0,
                     params: Mapping[str, Mapping[str, float]] | None = None,
                     workers: int = -1) -> tuple[pd.Series, gpd.GeoDataFrame]:
    """Purely spatial hotspots over all time (2-D DBSCAN with distinct complainants).

    Parameters
    ----------
    complaints : DataFrame
        Complaints frame.
    eps_m : float, optional
        Radius, metres; ``None``: the category's default ``eps_m``.
    min_complainants : int, optional
        Minimum distinct complainants within ``eps_m`` of a core complaint, over the whole
        period. ``None``: the category default.
    category : str, optional
        Only this category; ``None``: every category, each clustered separately.
    buffer_m : float
        Footprint buffer, metres.

    Returns
    -------
    labels : Series of str
        ``"H…"`` hotspot id or ``"-1"`` per complaint (other categories ``"-1"``).
    hotspots : GeoDataFrame
        Columns of :data:`EVENT_COLUMNS` (``p_value`` NaN) + ``geometry``.
    """
    p = _Prepared(complaints)
    cats = None if category is None else [category]
    lab, _ = _cluster(p, spatial=True, eps_m=eps_m, window_h=1.0,
                   min_complainants=min_complainants, params=params, categories=cats,
                   workers=workers)
    ids_map = _cluster_ids("H", p.ids[~p.is_dup], lab[~p.is_dup])
    names = _names(lab, ids_map)
    labels = pd.Series(names, index=p.index, name="cluster_id", dtype="str")
    return labels, _summarise(p, lab, ids_map, buffer_m=buffer_m)


# --------------------------------------------------------------------------- scan


def _xlogx(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    out = np.zeros_like(v)
    pos = v > 0
    out[pos] = v[pos] * np.log(v[pos])
    return out


def _time_bins(p: _Prepared, rows: np.ndarray, unit_h: float) -> np.ndarray:
    """Bin number of each row: local wall-clock hours from the first local midnight."""
    wall = p.wall.iloc[rows]
    t0 = wall.min().normalize()
    h = ((wall - t0).dt.total_seconds() / 3600.0).to_numpy(dtype=float)
    return np.floor(h / unit_h).astype(np.int64)


def scan_pvalues(complaints: pd.DataFrame | None, events: pd.DataFrame, *, n_permutations: int = 999,
                 seed: int = 0, max_radius_m: float = 3000.0, max_window_days: int = 7,
                 n_centres: int = 32, time_unit_h: float = 24.0,
                 radii_m: Sequence[float] = DEFAULT_RADII_M,
                 max_population_share: float = 0.5, refit: bool | str = "auto",
                 max_refit_points: int = _MAX_REFIT_POINTS,
                 stop_alpha: float | None = 0.05,
                 eps_m: float | None = None, window_h: float | None = None,
                 min_complainants: int | None = None,
                 params: Mapping[str, Mapping[str, float]] | None = None,
                 workers: int = -1, _prepared: Any = None) -> pd.Series:
    """Monte Carlo p-values of events under the space-time permutation scan (Kulldorff 2005).

    See the module docstring for the method. Per category of ``events``, on the
    non-duplicate complaints of that category.

    Parameters
    ----------
    complaints : DataFrame
        Complaints frame (the one the events were found in).
    events : DataFrame
        ``cluster_id, category, lon, lat, radius_m, start, end`` per event.
    n_permutations : int
        Replicates (times shuffled among complaints), e.g. 999.
    seed : int
        Seed of the permutations and of the k-means centres.
    max_radius_m : float
        Largest disc radius of the grid search, metres.
    max_window_days : int
        Longest window of the grid search, in time bins (days with the default unit).
    n_centres : int
        Number of k-means centres of the complaint locations for the grid search.
    time_unit_h : float
        Width of a time bin, hours (24 = local calendar days).
    radii_m : sequence of float
        Disc radii of the grid search, metres (those above ``max_radius_m`` dropped,
        ``max_radius_m`` itself added).
    max_population_share : float
        Discs holding more than this share of a category's complaints are skipped.
    refit : bool or "auto"
        Also re-run the event clustering on every replicate and add the found events'
        own cylinders to that replicate's candidates. The observed events' cylinders are
        cut to fit their members; without this the replicates would lack such tailored
        cylinders and the p-values of small events would be too small. ``"auto"``
        (default): refit for categories with at most ``max_refit_points`` complaints,
        where it costs seconds; above that a full clustering per replicate would cost
        minutes, so the replicates use the grid and the observed cylinders only and the
        p-values of small events are somewhat liberal (a warning is logged).
    max_refit_points : int
        Largest number of (non-duplicate) complaints of a category for ``refit="auto"``.
    stop_alpha : float or None
        Sequential Monte Carlo (Besag & Clifford 1991): stop testing an event once
        ``h = ⌈stop_alpha (n_permutations + 1)⌉`` replicates reached its LLR (its p-value
        can no longer fall to ``stop_alpha``) and report ``h / replicates run``; ``None``
        runs all ``n_permutations`` for every event.
    eps_m, window_h, min_complainants, params
        Clustering parameters for ``refit`` (as :class:`SpaceTimeEvents`; ``None``: the
        category defaults). Use the ones the events were found with.
    workers : int
        Threads (-1: all cores): categories are scanned side by side, and the k-d tree
        queries of ``refit`` use them. The p-values do not depend on it.

    Returns
    -------
    Series of float
        ``p_value`` indexed by ``cluster_id``; NaN for events of categories with fewer than
        two complaints or when ``n_permutations`` is 0.
    """
    p = _prepared if isinstance(_prepared, _Prepared) else _Prepared(complaints)
    need = [c for c in ("cluster_id", "category", "lon", "lat", "radius_m", "start", "end")
            if c not in events]
    if need:
        raise InputError(f"events lack column(s): {', '.join(need)}")
    n_perm = int(n_permutations)
    if n_perm < 0:
        raise InputError("n_permutations must be >= 0")
    if time_unit_h <= 0 or max_window_days < 1 or max_radius_m <= 0:
        raise InputError("scan limits must be positive")
    h_stop = _mc.stop_count(stop_alpha, n_perm)
    out = pd.Series(np.nan, index=pd.Index(events["cluster_id"].astype(str), name="cluster_id"),
                    name="p_value", dtype=float)
    if n_perm == 0 or len(events) == 0 or p.n == 0:
        return out
    radii = np.unique(np.r_[[r for r in radii_m if r < max_radius_m], max_radius_m]).astype(float)
    ev_cat = events["category"].astype(str).to_numpy()
    jobs = []
    for cat in sorted(set(ev_cat)):
        rows = np.flatnonzero(~p.is_dup & (p.category == cat))
        sel_ev = np.flatnonzero(ev_cat == cat)
        if len(rows) < 2:
            continue
        do_refit = _refit_for(cat, len(rows), refit, max_refit_points)
        fit_params = (_params(cat, eps_m, window_h, min_complainants, params)
                      if do_refit else None)
        jobs.append((rows, sel_ev, fit_params))

    def run(job: tuple[np.ndarray, np.ndarray, Any]) -> np.ndarray:
        rows, sel_ev, fit_params = job
        return _scan_category(p, rows, events.iloc[sel_ev], n_perm=n_perm, seed=seed,
                              radii=radii, max_window=int(max_window_days),
                              n_centres=int(n_centres), unit_h=float(time_unit_h),
                              share=float(max_population_share), refit=fit_params,
                              stop=h_stop, workers=workers)

    # a refit replicate costs about as much as a grid replicate over ~10x the complaints
    for (_rows, sel_ev, _f), pv in zip(jobs, _map_categories(
            run, jobs, workers, size=lambda j: len(j[0]) * (10 if j[2] is not None else 1)),
            strict=True):
        out.iloc[sel_ev] = pv
    return out


def _refit_for(cat: str, n: int, refit: bool | str, max_refit_points: int) -> bool:
    """Whether the scan of ``n`` complaints of ``cat`` re-clusters its replicates (logs
    the warning when ``"auto"`` says no)."""
    if refit != "auto":
        return bool(refit)
    if n <= int(max_refit_points):
        return True
    _log.warning("scan: %s has %d complaints (> max_refit_points=%d): replicates are "
                 "not re-clustered, p-values of small events are somewhat liberal",
                 cat, n, int(max_refit_points))
    return False


def _llr(c: np.ndarray, mu: np.ndarray, n: int, table: np.ndarray) -> np.ndarray:
    """Poisson GLR of observed ``c`` vs expected ``mu`` out of ``n`` (0 unless c > mu)."""
    c = np.asarray(c, dtype=np.int64)
    mu = np.asarray(mu, dtype=float)
    ok = (c > mu) & (mu > 0) & (mu < n)
    mu_s = np.where(ok, mu, 1.0)
    v = table[np.clip(c, 0, n)] - c * (np.log(mu_s) - np.log(n - mu_s)) - n * np.log(n - mu_s)
    return np.where(ok, v, 0.0)


def _min_count(mu: np.ndarray, tau: float, n: int, table: np.ndarray,
               cap: np.ndarray | None = None) -> np.ndarray:
    """Smallest integer c > mu with LLR(c, mu) >= tau (n + 1 where none), by bisection.

    With ``cap``: searched among c <= cap only (cap + 1 where none).
    """
    lo = np.floor(mu).astype(np.int64) + 1  # LLR rises with c above mu
    hi = (np.full(mu.shape, n + 1, dtype=np.int64) if cap is None
          else np.minimum(np.asarray(cap, dtype=np.int64), n) + 1)
    if tau <= 0:
        return np.minimum(lo, hi)
    lo = np.minimum(lo, hi)
    while True:
        todo = lo < hi
        if not todo.any():
            return lo
        mid = (lo + hi) // 2
        good = _llr(np.minimum(mid, n), mu, n, table) >= tau
        good &= mid <= n
        hi = np.where(todo & good, mid, hi)
        lo = np.where(todo & ~good, mid + 1, lo)


def _cylinders(x: np.ndarray, y: np.ndarray, bins: np.ndarray, labels: np.ndarray,
               tcum: np.ndarray, n: int, table: np.ndarray, tree: Any) -> np.ndarray:
    """LLR of each cluster's own cylinder (mean centre, max radius, first..last bin).

    ``tree`` is a ``cKDTree`` of ``(x, y)``.
    """
    sel = np.flatnonzero(labels >= 0)
    if len(sel) == 0:
        return np.zeros(0)
    _, inv = np.unique(labels[sel], return_inverse=True)
    k = int(inv.max()) + 1
    m = np.bincount(inv, minlength=k)
    cx = np.bincount(inv, weights=x[sel], minlength=k) / m
    cy = np.bincount(inv, weights=y[sel], minlength=k) / m
    r = np.zeros(k)
    np.maximum.at(r, inv, np.hypot(x[sel] - cx[inv], y[sel] - cy[inv]))
    r = r * (1 + 1e-9) + 1e-6
    d1 = np.full(k, np.iinfo(np.int64).max)
    d2 = np.zeros(k, dtype=np.int64)
    np.minimum.at(d1, inv, bins[sel])
    np.maximum.at(d2, inv, bins[sel])
    s = tree.query_ball_point(np.column_stack([cx, cy]), r, return_length=True)
    # complaints in each cylinder's bins: a contiguous run once sorted by bin
    order = np.argsort(bins, kind="stable")
    sb = bins[order]
    lo = np.searchsorted(sb, d1, side="left")
    hi = np.searchsorted(sb, d2, side="right")
    ln = hi - lo
    owner = np.repeat(np.arange(k), ln)
    idx = order[np.arange(int(ln.sum())) - np.repeat(np.cumsum(ln) - ln, ln) + np.repeat(lo, ln)]
    inside = np.hypot(x[idx] - cx[owner], y[idx] - cy[owner]) <= r[owner]
    c = np.bincount(owner[inside], minlength=k)
    mu = s * (tcum[d2 + 1] - tcum[d1]) / n
    return _llr(c, mu, n, table)


_KMEANS_SAMPLE = 100_000  # complaints the grid's k-means centres are fitted on, at most
_LEVEL_CACHE_BYTES = 256 * 2**20  # scan levels kept per category


def _nbytes(cells: list[Any]) -> int:
    return sum(0 if c is None else (sum(a.nbytes for a in c) if isinstance(c, tuple) else c.nbytes)
               for c in cells)


def _scan_category(p: _Prepared, rows: np.ndarray, ev: pd.DataFrame, *, n_perm: int,
                   seed: int, radii: np.ndarray, max_window: int, n_centres: int,
                   unit_h: float, share: float, refit: tuple[float, float, int] | None,
                   workers: int, stop: int | None = None) -> np.ndarray:
    from scipy.cluster.vq import kmeans2

    n = len(rows)
    x, y = p.x[rows], p.y[rows]
    hours = p.hours[rows]
    b = _time_bins(p, rows, unit_h)
    n_bins = int(b.max()) + 1
    tcum = np.r_[0.0, np.cumsum(np.bincount(b, minlength=n_bins))]
    table = _xlogx(np.arange(n + 1)) + _xlogx(n - np.arange(n + 1))  # A[c]

    # --- each event's own cylinder (fixed in space and time)
    ecx, ecy = geo.project(ev["lon"].to_numpy(float), ev["lat"].to_numpy(float), p.crs)
    er = ev["radius_m"].to_numpy(float) * (1 + 1e-9) + 1e-6
    wall_t0 = p.wall.iloc[rows].min().normalize()
    tz = getattr(p.time.dt, "tz", None)

    def _bin(ts: pd.Series) -> np.ndarray:
        tt = pd.Series(ts).reset_index(drop=True)
        if getattr(tt.dt, "tz", None) is not None:
            tt = tt.dt.tz_convert(tz).dt.tz_localize(None) if tz is not None else tt.dt.tz_localize(None)
        h = ((tt - wall_t0).dt.total_seconds() / 3600.0).to_numpy(float)
        return np.clip(np.floor(h / unit_h).astype(np.int64), 0, n_bins - 1)

    d1, d2 = _bin(ev["start"]), _bin(ev["end"])
    n_ev = len(ev)
    # members of each event's disc: k-d tree candidates (slightly wider), then the exact
    # test; no (events x complaints) matrix (5 GB at a million complaints)
    near = cKDTree(np.column_stack([x, y])).query_ball_point(
        np.column_stack([ecx, ecy]), er * (1 + 1e-6) + 1e-3)
    ee = np.repeat(np.arange(len(near)), [len(v) for v in near]).astype(np.int64)
    ei = (np.concatenate([np.asarray(v, dtype=np.int64) for v in near]) if len(near)
          else np.zeros(0, dtype=np.int64))
    er2 = er * er
    inside_e = (x[ei] - ecx[ee]) ** 2 + (y[ei] - ecy[ee]) ** 2 <= er2[ee]
    ee, ei = ee[inside_e], ei[inside_e]
    e_size = np.bincount(ee, minlength=n_ev)
    e_mu = e_size * (tcum[d2 + 1] - tcum[d1]) / n

    # A replicate moves times among the fixed locations. An event's count is the number of
    # its disc's locations that receive a time of its window: counted over whichever set
    # is smaller — the window's times (a fixed run of the bin-sorted order; where they
    # land changes: tens of complaints in a long sparse record) or the disc's locations
    # (whose bins change: fewer in a short dense one).
    t_order = np.argsort(b, kind="stable")
    t_sorted = b[t_order]
    w_lo = np.searchsorted(t_sorted, d1, side="left")
    w_len = np.searchsorted(t_sorted, d2, side="right") - w_lo
    by_disc = e_size < w_len
    pairs: list[np.ndarray] = []

    def _event_pairs(keep: np.ndarray) -> None:
        """(event, window time) and (event, disc location) pairs of the kept cylinders."""
        wl = np.where(keep & ~by_disc, w_len, 0)
        te = np.repeat(np.arange(n_ev), wl)
        tt = t_order[np.arange(int(wl.sum())) - np.repeat(np.cumsum(wl) - wl, wl)
                     + np.repeat(w_lo, wl)]
        dm = (keep & by_disc)[ee]
        de, di = ee[dm], ei[dm]
        pairs[:] = [te, tt, ecx[te], ecy[te], er2[te], de, di, d1[de], d2[de]]

    def _event_llr(inv: np.ndarray | None, bins: np.ndarray = b) -> np.ndarray:
        te, tt, ecx_t, ecy_t, er2_t, de, di, lo_d, hi_d = pairs
        loc = tt if inv is None else inv[tt]  # where each window time sits in this replicate
        dx, dy = x[loc] - ecx_t, y[loc] - ecy_t
        inside = dx * dx + dy * dy <= er2_t
        c = np.bincount(te[inside], minlength=n_ev)
        if de.size:
            bi = bins[di]  # the bins the disc's locations hold in this replicate
            c += np.bincount(de[(bi >= lo_d) & (bi <= hi_d)], minlength=n_ev)
        return _llr(c, e_mu, n, table)

    _event_pairs(np.ones(n_ev, dtype=bool))

    observed = _event_llr(None)
    # the most an event's cylinder can reach in any replicate (all its window in its disc)
    e_top = _llr(np.minimum(e_size, w_len), e_mu, n, table)
    pos = observed[observed > 0]
    tau = float(pos.min()) if len(pos) else np.inf  # replicate maxima below tau matter to no one

    # --- grid: k-means centres x radii x windows, as one (k, r, window) array
    xy = np.column_stack([x, y])
    if n > _KMEANS_SAMPLE:  # centres from a seeded sample: k-means++ on 500k points costs ~1 s
        sampler = np.random.default_rng(None if seed is None else [seed, 7])
        xy = xy[sampler.choice(n, _KMEANS_SAMPLE, replace=False)]
    k = max(1, min(n_centres, len(np.unique(xy, axis=0))))
    centres, _ = kmeans2(xy, k, seed=seed, minit="++")
    n_r = len(radii)
    ring = np.searchsorted(radii, np.hypot(x[None, :] - centres[:, 0, None],
                                           y[None, :] - centres[:, 1, None]), side="left")
    kk, ii = np.nonzero(ring < n_r)
    flat_kr = kk * n_r + ring[kk, ii]
    s_tot = np.bincount(flat_kr, minlength=k * n_r).reshape(k, n_r).cumsum(axis=1).astype(float)
    ok_disc = (s_tot > 0) & (s_tot <= share * n)
    if not np.isfinite(tau):  # no event stands out: every p-value is 1, replicates or not
        return np.ones(n_ev)
    # Per window w: LLR = A[c] - c·a - b on cells with c >= cthr(T) (LLR >= T there), kept
    # only where the count can reach cthr at all (c <= disc size and <= window size). The
    # level T >= tau is raised per replicate (below) to what could still change a comparison.
    n_w = min(max_window, n_bins)
    grid_levels: dict[float, list[tuple[np.ndarray, ...] | np.ndarray | None]] = {}

    base: list[tuple[np.ndarray, ...]] = []  # per window, cells that can reach tau
    n_kr = k * n_r
    s_flat = s_tot.reshape(-1)
    big = np.int32(min(n + 1, np.iinfo(np.int32).max))

    def _base() -> list[tuple[np.ndarray, ...]]:
        if base:
            return base
        for w in range(1, n_w + 1):
            tw = tcum[w:] - tcum[:-w]
            mu = s_tot[:, :, None] * tw[None, None, :] / n
            cap = np.minimum(s_tot[:, :, None], tw[None, None, :]).astype(np.int64)
            ok = ok_disc[:, :, None] & (mu > 0) & (mu < n) & (cap > mu)
            kk_, rr_, tt_ = np.nonzero(ok)
            mu_s, cap_s = mu[ok], cap[ok]
            top = _llr(cap_s, mu_s, n, table)  # LLR rises with c: cap is the best case
            keep = np.flatnonzero(top >= tau)
            keep = keep[np.argsort(-top[keep], kind="stable")]  # a level keeps a prefix
            kr_ = (kk_[keep] * n_r + rr_[keep]).astype(np.int64)
            tt_ = tt_[keep]
            # the threshold count depends on (disc size, window count) only
            key = kr_ * (n + 1) + tw[tt_].astype(np.int64)
            _, first, back = np.unique(key, return_index=True, return_inverse=True)
            base.append((kr_, tt_, -top[keep], mu_s[keep][first], cap_s[keep][first],
                         back.reshape(-1), tw))
        return base

    def _grid_level(level: float) -> list[tuple[np.ndarray, ...] | np.ndarray | None]:
        """Per window, the least count reaching ``level`` of each cell that can reach it.

        Sparse (cell index arrays) when few cells can, else a dense (disc, start bin) array.
        """
        cells = grid_levels.pop(level, None)
        if cells is None:
            cells = []
            for w, (kr_, tt_, neg_top, mu_u, cap_u, back, _tw) in enumerate(_base(), start=1):
                m = int(np.searchsorted(neg_top, -level, side="right"))  # top >= level
                if m == 0:
                    cells.append(None)
                    continue
                cthr = _min_count(mu_u, level, n, table, cap=cap_u)[back[:m]].astype(np.int32)
                if 4 * m < n_kr * (n_bins + 1 - w):
                    cells.append((kr_[:m], tt_[:m], kr_[:m] * (n_bins + 1) + tt_[:m], cthr))
                    continue
                dense = np.full(n_kr * (n_bins + 1 - w), big, dtype=np.int32)
                dense[kr_[:m] * (n_bins + 1 - w) + tt_[:m]] = cthr
                cells.append(dense.reshape(n_kr, n_bins + 1 - w))
            while grid_levels and sum(_nbytes(v) for v in grid_levels.values()) > _LEVEL_CACHE_BYTES:
                grid_levels.pop(next(iter(grid_levels)))  # least recently used first
        grid_levels[level] = cells
        return cells

    # levels: the least observed LLR still tested, then up to 15 more observed LLRs of the
    # events still tested (each less its comparison tolerance); rebuilt when sequential
    # stopping has retired half of the events the ladder was built for
    thresh = observed * (1 - 1e-9)
    active = observed > 0
    exceed = np.zeros(n_ev, dtype=np.int64)
    ran = np.full(n_ev, n_perm, dtype=np.int64)  # replicates run per event

    def _ladder() -> tuple[np.ndarray, np.ndarray]:
        oc = np.unique(thresh[active])
        lad = np.unique(oc[np.unique(np.linspace(0, oc.size - 1, 16).round().astype(np.int64))])
        return oc, lad

    obs_cmp, ladder = _ladder()
    n_ladder = int(active.sum())

    rng = np.random.default_rng(seed)
    cum = np.zeros((k, n_r, n_bins + 1), dtype=np.int32)
    if refit is not None:
        eps_m, window_h, min_c = refit
        groups = p.group_codes(rows)
        scale = eps_m / window_h
        tree = cKDTree(np.column_stack([x, y]))
    cum_kr = cum.reshape(n_kr, n_bins + 1)
    cum_flat = cum.reshape(-1)
    # per replicate: a bincount of (centre, ring, bin) over the (centre, complaint) pairs,
    # then cumulative sums over rings (discs) and over bins
    kr_nb = flat_kr.astype(np.int64) * n_bins
    h3 = np.zeros((k, n_r, n_bins), dtype=np.int32)
    # replicates in batches: one DBSCAN call for a batch, its replicates stacked in time
    # ``gap`` apart (farther than any neighbourhood), so each keeps its own clusters
    batch = max(1, min(n_perm, _REFIT_POINTS // max(n, 1)))
    gap = (float(np.ptp(hours)) * scale + 4.0 * eps_m + 1.0) if refit is not None else 0.0
    perms: list[np.ndarray] = []
    labs = np.zeros(0, dtype=np.int64)
    for r in range(n_perm):
        if not active.any():
            break
        if r % batch == 0:
            perms = [rng.permutation(n) for _ in range(min(batch, n_perm - r))]  # same stream
            if refit is not None:
                pts = np.column_stack([np.tile(x, len(perms)), np.tile(y, len(perms)),
                                       np.concatenate([hours[q] * scale + i * gap
                                                       for i, q in enumerate(perms)])])
                labs, _ = grid_dbscan(pts, eps=eps_m, min_samples=min_c,
                                      groups=np.tile(groups, len(perms)), workers=workers,
                                      max_pairs=_REFIT_MAX_PAIRS)
        perm = perms[r % batch]  # times move among the fixed locations
        bp = b[perm]
        inv = np.empty(n, dtype=np.int64)
        inv[perm] = np.arange(n)
        best = float(_event_llr(inv, bp).max(initial=0.0))
        if refit is not None:
            lab = labs[(r % batch) * n:(r % batch + 1) * n]
            own = _cylinders(x, y, bp, lab, tcum, n, table, tree)
            best = max(best, float(own.max(initial=0.0)))
        # The grid matters only if it reaches an observed LLR that ``best`` does not: scan
        # it at the highest ladder level not above the least such LLR (same comparisons).
        j = int(np.searchsorted(obs_cmp, best, side="right"))
        if j < obs_cmp.size:
            level = float(ladder[max(int(np.searchsorted(ladder, obs_cmp[j], side="right")) - 1, 0)])
            h3.reshape(-1)[:] = np.bincount(kr_nb + bp[ii], minlength=k * n_r * n_bins)
            np.cumsum(h3, axis=1, dtype=np.int32, out=h3)
            np.cumsum(h3, axis=2, dtype=np.int32, out=cum[:, :, 1:])
            for w, cells in enumerate(_grid_level(level), start=1):
                if cells is None:
                    continue
                if isinstance(cells, tuple):
                    kr_, tt_, lo_i, cthr = cells
                    c = cum_flat[lo_i + w] - cum_flat[lo_i]
                    sel = np.flatnonzero(c >= cthr)
                    if not len(sel):
                        continue
                    hr, ht, ch = kr_[sel], tt_[sel], c[sel].astype(np.int64)
                else:
                    c = cum_kr[:, w:] - cum_kr[:, :-w]  # count of bins t .. t + w - 1
                    hit = c >= cells
                    if not hit.any():
                        continue
                    hr, ht = np.nonzero(hit)
                    ch = c[hr, ht].astype(np.int64)
                mu_h = s_flat[hr] * base[w - 1][6][ht] / n
                best = max(best, float(_llr(ch, mu_h, n, table).max()))
        hit_e = active & (best >= thresh)
        exceed += hit_e
        if stop is not None and hit_e.any():
            done = active & (exceed >= stop)
            if done.any():
                ran[done] = r + 1
                active &= ~done
                if active.any() and 2 * int(active.sum()) <= n_ladder:
                    grid_levels.clear()
                    obs_cmp, ladder = _ladder()
                    n_ladder = int(active.sum())
                    # a retired event's cylinder still counts in the replicate maxima, but
                    # only where it could reach an event still tested
                    _event_pairs(active | (e_top >= obs_cmp[0]))
                elif active.any():
                    obs_cmp = np.unique(thresh[active])
    pv = _mc.sequential_p(exceed, ran, n_perm, stop)
    return np.where(observed > 0, pv, 1.0)


# --------------------------------------------------------------------------- trends


def mann_kendall(values: Sequence[float]) -> tuple[float, float]:
    """Mann–Kendall trend test.

    Parameters
    ----------
    values : sequence of float
        A series in time order.

    Returns
    -------
    z : float
        Standardised statistic (continuity-corrected, tie-corrected variance); > 0 rising.
    p_value : float
        Two-sided p-value (normal approximation); 1.0 for fewer than 3 values or no
        variation.
    """
    v = np.asarray(values, dtype=float)
    n = len(v)
    if n < 3:
        return 0.0, 1.0
    s = float(np.sign(v[None, :] - v[:, None])[np.triu_indices(n, 1)].sum())
    _, ties = np.unique(v, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - float((ties * (ties - 1) * (2 * ties + 5)).sum())) / 18.0
    if var <= 0 or s == 0:
        return 0.0, 1.0
    z = (s - np.sign(s)) / np.sqrt(var)
    return float(z), float(2.0 * stats.norm.sf(abs(z)))


def _month_labels(wall: pd.Series) -> np.ndarray:
    return wall.dt.strftime("%Y-%m").to_numpy(dtype=object)


def hotspot_trends(complaints: pd.DataFrame, *, months: Sequence[str] | int | None = None,
                   eps_m: float | None = None, min_complainants: int | None = None,
                   category: str | None = None, alpha: float = 0.05,
                   persistent_share: float = 0.5, buffer_m: float = 100.0,
                   params: Mapping[str, Mapping[str, float]] | None = None) -> pd.DataFrame:
    """Month-to-month behaviour of each spatial hotspot (emerging hot-spot vocabulary).

    Hotspots are :func:`spatial_hotspots` of the complaints in ``months``. For hotspot h
    and month m, with ``N_m`` the category's complaints in the county that month, the
    expected count is ``μ_hm = N_m · area(h) / area(county)`` (footprint polygon area over
    the area of the buffered convex hull of all the category's complaints); the month is
    *hot* when the count ``c_hm`` has Poisson upper-tail probability ``P(X ≥ c_hm | μ_hm)
    < alpha``. The trend is the Mann–Kendall test on the monthly counts (two-sided,
    ``alpha``). Labels, first match wins:

    ``none``
        never hot;
    ``new``
        hot in the final month only;
    ``intensifying`` / ``diminishing``
        hot in at least ``persistent_share`` of the months with a significant rising /
        falling trend;
    ``persistent``
        hot in at least ``persistent_share`` of the months including the final month, no
        significant trend (hot in most months but not the final one counts as
        ``diminishing``: the hotspot has faded);
    ``sporadic``
        hot in some months, on and off (fewer than ``persistent_share``).

    Parameters
    ----------
    complaints : DataFrame
        Complaints frame.
    months : sequence of "YYYY-MM", int or None
        The months to analyse, in order; an int ``n`` means the last ``n`` calendar months
        of the data; ``None`` every month from the first to the last complaint.
    eps_m, min_complainants, category, buffer_m, params
        As :func:`spatial_hotspots`.
    alpha : float
        Significance level of the monthly Poisson test and of the trend test.
    persistent_share : float
        Share of hot months that counts as "most months".

    Returns
    -------
    DataFrame
        One row per hotspot: ``cluster_id, category, label, n_complaints, n_hot_months,
        trend_z, trend_p, lon, lat, radius_m``, then one count column per month
        (``"YYYY-MM"``), sorted by category and cluster_id.
    """
    p_all = _Prepared(complaints)
    base_cols = ["cluster_id", "category", "label", "n_complaints", "n_hot_months",
                 "trend_z", "trend_p", "lon", "lat", "radius_m"]
    if p_all.n == 0:
        return pd.DataFrame(columns=base_cols)
    month_all = _month_labels(p_all.wall)
    if months is None or isinstance(months, int | np.integer):
        first = pd.Period(min(month_all), freq="M")
        last = pd.Period(max(month_all), freq="M")
        span = [str(q) for q in pd.period_range(first, last, freq="M")]
        month_list = span if months is None else span[-int(months):]
    else:
        month_list = [str(pd.Period(m, freq="M")) for m in months]
    if not month_list:
        raise InputError("no months to analyse")
    keep = np.isin(month_all, month_list)
    frame = complaints.iloc[np.flatnonzero(keep)]
    labels, hot = spatial_hotspots(frame, eps_m=eps_m, min_complainants=min_complainants,
                                   category=category, buffer_m=buffer_m, params=params)
    if len(hot) == 0:
        return pd.DataFrame(columns=base_cols + month_list)
    p = _Prepared(frame)
    month = month_all[keep]
    crs = p.crs
    area_h = gpd.GeoSeries(hot.geometry, crs="EPSG:4326").to_crs(crs).area.to_numpy()
    records = []
    for cat in sorted(hot["category"].astype(str).unique()):
        in_cat = p.category == cat
        county = shapely.buffer(
            shapely.convex_hull(shapely.multipoints(np.column_stack([p.x[in_cat], p.y[in_cat]]))),
            float(buffer_m))
        area_c = float(shapely.area(county))
        n_month = pd.Series(month[in_cat]).value_counts().reindex(month_list, fill_value=0)
        for j in np.flatnonzero(hot["category"].astype(str).to_numpy() == cat):
            hid = hot["cluster_id"].iloc[j]
            mine = labels.to_numpy(dtype=object) == hid
            counts = pd.Series(month[mine]).value_counts().reindex(month_list, fill_value=0)
            c = counts.to_numpy(dtype=float)
            mu = n_month.to_numpy(dtype=float) * min(1.0, area_h[j] / area_c)
            pv = np.where(c > 0, stats.poisson.sf(c - 1, np.maximum(mu, 1e-12)), 1.0)
            is_hot = (c > 0) & (pv < alpha)
            z, tp = mann_kendall(c)
            n_hot = int(is_hot.sum())
            if n_hot == 0:
                lab = "none"
            elif is_hot[-1] and n_hot == 1:
                lab = "new"
            elif n_hot >= persistent_share * len(month_list):
                if tp < alpha:
                    lab = "intensifying" if z > 0 else "diminishing"
                elif not is_hot[-1]:
                    # hot in most months but no longer in the final one: fading, not
                    # persistent (ESRI's "historical"; our vocabulary calls it diminishing)
                    lab = "diminishing"
                else:
                    lab = "persistent"
            else:
                lab = "sporadic"
            rec: dict[str, Any] = {
                "cluster_id": hid, "category": cat, "label": lab,
                "n_complaints": int(hot["n_complaints"].iloc[j]), "n_hot_months": n_hot,
                "trend_z": z, "trend_p": tp, "lon": float(hot["lon"].iloc[j]),
                "lat": float(hot["lat"].iloc[j]), "radius_m": float(hot["radius_m"].iloc[j]),
            }
            rec.update({m: int(v) for m, v in zip(month_list, c, strict=True)})
            records.append(rec)
    out = pd.DataFrame.from_records(records, columns=base_cols + month_list)
    return out.sort_values(["category", "cluster_id"], kind="stable").reset_index(drop=True)
