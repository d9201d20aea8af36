"""The case ledger: the bureau's 立 (organise) and 改 (rectify) stages.

Traced events become *cases* with an owner, a deadline and a status; staff actions move
them along ``open → diagnosing → rectifying → closed → verified`` (and back to
``rectifying`` on recurrence or by hand); a colour is computed *from data, as of a date*:

========  =================================================================================
colour    rule, first match in this order (``as_of`` = end of that local day; thresholds
          in :class:`LedgerRules`; status, owner and deadline replayed as of that day)
========  =================================================================================
red       not closed and past its deadline; or reopened on recurrence and not closed again;
          or closed/verified and a recurrence happened by ``as_of``
yellow    not closed and the deadline is within ``warn_days`` (7) days; or a step is late:
          still ``open`` more than ``step_late_days`` (7) days after opening
green     verified, with no recurrence so far in the watch period
blue      everything else (on track; closed and awaiting verification)
========  =================================================================================

Owner and deadline (:meth:`LedgerRules.assign`): the most specific ``[ledger]`` rule
matching the case's township (``area``) and category wins (area and category > area >
category > catch-all; ties go to the first listed); no match gives ``default_owner``
(待指派). The deadline is the opening day (local) plus the rule's ``deadline_days``, else
``[ledger.deadline_days]`` of the category (defaults odour 30, noise 15, dust 15, water 30,
waste 15, other 30). Changes by hand (``set_status``) are audited.

A case's *source* is its enterprise: the credible top-1 suspect (score ≥
``min_suspect_score``, 0.5) of the event that opened it, or, if it had none, the
enterprise named by the first ``rectified``/``penalty_case``/``police_transfer`` row of
``actions.csv`` applied to it ("source confirmed by action", audited).

Recurrence: after a case's (last) closure and within ``watch_days`` (90), complaints of
the case's category that are attributable to its source (members of an event whose
top-1 suspect is the source with score ≥ ``min_suspect_score``, or in which the source
is ranked 1–3 with score ≥ ``link_min_score``, 0.1) or place (inside the case footprint
buffered by ``recurrence_buffer_m``, 500 m) from at least ``recurrence_households`` (5)
distinct households (``complainant_key``; empty keys do not count) within any
``recurrence_window_days`` (30) days. ``Ledger.update`` reopens such a case
(``closed/verified → rectifying``, by ``envtrace``, why ``recurrence: ...``, at the time
the rule was met), before applying a later action to it.

How an ``actions.csv`` row reaches a case (:meth:`Ledger._resolve_case`): a row naming a
complaint goes to the case holding it. A row naming enterprise X on day D goes, among
the cases opened by D, to one where X is *linked*: tier 1 = X is the case's source, or
X is ranked 1–3 with score ≥ ``link_min_score`` among the suspects of one of the case's
events that started by D; tier 2 = X is any listed suspect (ranks 1–5) of such an event.
The best tier wins; within it, a case the action can act on as of D (open/diagnosing/
rectifying; for ``verified``: closed), then the case with the most recent such event,
then the lowest case id. Rows that reach no case stay pending (``Ledger.pending_actions``,
``UpdateReport.pending``, ``envtrace ledger show``/``update``) and are retried later.

KPIs (:func:`kpis`, local dates, both ends inclusive; previous = the preceding period
of the same length): ``received`` complaints received in the period; ``closed`` of
those, closed by the period's end (their own ``closed_at``, else their case's first
closure); ``closure_rate`` = closed / received; ``on_time_rate`` = closed by the
deadline / closed (the case's deadline, else received + ``complaint_days``, 15);
``satisfaction_rate`` = (satisfied + partly) / answered; ``inspections`` and
``inspection_person_times`` (sum of ``persons``), ``penalty_cases``,
``police_transfers``: actions dated in the period; ``recurrences``: reopenings on
recurrence in the period; ``cases_opened``. Complaints count once by ``complaint_id``
(re-numbered rows of overlapping exports are mapped to the stored id, see step 2).

Storage is SQLite (``$ENVTRACE_VAR/ledger.sqlite``, default ``./var``) or any SQLAlchemy
URL; the schema (:mod:`envtrace._ledger_schema`) is migrated with Alembic on open. Every
write (update, set, record, import) is one transaction under an exclusive lock: a file
lock next to the database (``var/ledger.lock``) held for the whole write, and SQLite
``BEGIN IMMEDIATE`` with a busy timeout. A second writer waits up to ``lock_timeout``
seconds (default 10) and then fails with :class:`LedgerBusy` (an ``InputError``; exit 2).

No complainant name, phone number or complaint text is ever stored: only the columns in
:data:`COMPLAINT_COLUMNS` are read from a complaints frame; staff notes have phone and ID
numbers masked.

What ``Ledger.update(dataset, month)`` does, in order:

1. Takes the dataset's complaints received in ``month`` (local) and traces *that month
   alone* (``envtrace.pipeline.trace``; the trace runs before the lock is taken). Events
   that straddle a month boundary are therefore split, and joined again in step 4.
2. In one transaction under the lock: stores the month's complaints in the history,
   keyed by ``complaint_id``. A known id only refreshes ``closed_at``/``satisfaction``/
   an empty ``area`` (later exports know more); a new id whose content hash (received
   time, lon/lat to 5 decimals, household, channel) is already stored is a re-numbered
   row of an overlapping export and is mapped to the stored id, not added.
3. Stores new events (by ``cluster_id``) with their ranked suspects (ranks 1–5) and
   member complaints. A new event sharing complaints with a stored one is that event
   re-traced from a later, overlapping export: its new complaints join the stored event
   (and its case) and no event is added — unless the two name different credible
   suspects (top-1 score ≥ ``min_suspect_score`` each): the re-trace has then found a
   second source among the stored event's complaints (the attribution splits an event
   holding two sources' complaints, and a longer export can tip it). The stored event and
   its case keep their complaints; the new event is stored with its complaints not yet in
   any event (if any), so that it opens or joins a case of its own suspect.
4. Each new event, oldest first: with a credible suspect (top-1 score ≥
   ``min_suspect_score``) it joins the latest case of that enterprise and category that
   is open (else closed but within the watch period), or failing that a case naming no
   source yet of the same area and category whose footprint intersects the event's;
   without one it joins a case of the same area and category whose footprint
   intersects the event's. Otherwise a case
   opens (id ``YYYYMM-NNN``, opened at the event's start, owner and deadline by rule).
5. Stores ``actions.csv`` rows not seen before (a hash of the row) and applies every
   not-yet-applied row dated up to the month's end to its case (see above), effective
   at the end of the action's date: inspection: open → diagnosing; rectified: → closed;
   verified: closed → verified; penalty_case/police_transfer: recorded. Rows dated
   after the month wait for the update of their month; rows naming no case stay
   pending and are retried by later updates.
6. Reopens closed/verified cases whose recurrence rule is met by the month's end.

Each change of status, owner, deadline, source or event membership is a ``status_history`` row
(``at`` = when it happened in the data, ``by``, ``why``). Running the same update twice
writes nothing the second time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import fcntl
import hashlib
import io
import os
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from envtrace import _ledger_schema as S
from envtrace._atomic import atomic_write_bytes
from envtrace.errors import InputError

__all__ = [
    "ACTIONS",
    "COLOURS",
    "COLOUR_FILLS",
    "COMPLAINT_COLUMNS",
    "Ledger",
    "LedgerBusy",
    "LedgerRules",
    "OwnerRule",
    "STATUSES",
    "TOTAL_AREA",
    "UpdateReport",
    "default_url",
    "kpis",
    "migrate",
    "open_engine",
]

STATUSES: tuple[str, ...] = ("open", "diagnosing", "rectifying", "closed", "verified")
OPEN_STATUSES = frozenset({"open", "diagnosing", "rectifying"})
DONE_STATUSES = frozenset({"closed", "verified"})
#: Allowed status changes (anything else is refused by :meth:`Ledger.set_status`).
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"diagnosing", "rectifying", "closed"}),
    "diagnosing": frozenset({"rectifying", "closed"}),
    "rectifying": frozenset({"closed"}),
    "closed": frozenset({"verified", "rectifying"}),
    "verified": frozenset({"rectifying"}),
}
ACTIONS: tuple[str, ...] = ("inspection", "penalty_case", "police_transfer", "rectified", "verified")
SATISFACTION = {
    "满意": "satisfied",
    "基本满意": "partly",
    "不满意": "unsatisfied",
    "satisfied": "satisfied",
    "partly": "partly",
    "unsatisfied": "unsatisfied",
}
COLOURS: tuple[str, ...] = ("green", "blue", "yellow", "red")
#: Cell fills of the exported XLSX ledger (ARGB-less hex, as Excel's "good/neutral/bad" styles).
COLOUR_FILLS = {"green": "C6EFCE", "blue": "BDD7EE", "yellow": "FFEB9C", "red": "FFC7CE"}
COLOUR_ZH = {"green": "绿", "blue": "蓝", "yellow": "黄", "red": "红"}
STATUS_ZH = {
    "open": "已立案",
    "diagnosing": "诊断中",
    "rectifying": "整改中",
    "closed": "已办结",
    "verified": "已核查销号",
}
CATEGORY_ZH = {
    "odour": "异味",
    "noise": "噪声",
    "dust": "扬尘",
    "water": "水污染",
    "waste": "固废",
    "other": "其他",
}
TOTAL_AREA = "全县"
#: The only complaint columns the ledger reads (no name, phone, text or address).
COMPLAINT_COLUMNS = (
    "complaint_id",
    "received_at",
    "lon",
    "lat",
    "category",
    "channel",
    "complainant_key",
    "area",
    "closed_at",
    "satisfaction",
    "duplicate_of",
)
#: Actions that confirm the enterprise they name as the source of the case they apply to.
CONFIRMING_ACTIONS = frozenset({"rectified", "penalty_case", "police_transfer"})
#: Suspects kept per event (the trace's ranks 1..5); actions naming an enterprise use them.
MAX_SUSPECT_RANK = 5
#: Ranks of an event's suspects that count as "credible" for an action naming the enterprise.
ACTION_RANKS = 3
_PAUSE_ENV = "ENVTRACE_LEDGER_TEST_PAUSE"
_SYSTEM = "envtrace"


class LedgerBusy(InputError):
    """Another process holds the ledger's write lock (the CLI exits with status 2)."""


# --------------------------------------------------------------------------- rules
@dataclasses.dataclass(frozen=True)
class OwnerRule:
    """Owner (and optionally deadline) for cases of one township and/or category.

    An empty ``area`` or ``category`` (or ``"*"``) matches any. The most specific matching
    rule wins (area and category > area > category); ties go to the first listed.
    """

    owner: str
    area: str = ""
    category: str = ""
    deadline_days: int | None = None

    def matches(self, area: str, category: str) -> int:
        """Specificity of the match (0 = no match, 1 = catch-all, 4 = area and category)."""
        a = self.area in ("", "*") or self.area == area
        c = self.category in ("", "*") or self.category == category
        if not (a and c):
            return 0
        return 1 + (2 if self.area not in ("", "*") else 0) + (1 if self.category not in ("", "*") else 0)


@dataclasses.dataclass(frozen=True)
class LedgerRules:
    """Thresholds of the ledger, from the ``[ledger]`` section of ``envtrace.toml``.

    Every key is optional::

        [ledger]
        default_owner = "待指派"      # when no rule matches
        warn_days = 7                # yellow: deadline within this many days
        step_late_days = 7           # yellow: still 'open' after this many days
        watch_days = 90              # recurrence watch period after closure (days)
        recurrence_households = 5    # distinct households ...
        recurrence_window_days = 30  # ... within this many days = recurrence
        recurrence_buffer_m = 500    # case footprint buffer for place attribution (metres)
        min_suspect_score = 0.5      # top-1 candidate score that makes a credible suspect
        link_min_score = 0.1         # a rank 1-3 suspect with this score links an enterprise to an event
        complaint_days = 15          # on-time limit of a complaint that is in no case (days)
        [ledger.deadline_days]       # days from opening, by category
        odour = 30
        noise = 15
        [ledger.owners]              # short form: township = owner
        "城关镇" = "张科长"
        [[ledger.rules]]             # owners (and deadlines) by township and category
        area = "城关镇"
        category = "odour"
        owner = "城关镇人民政府/王副镇长"
        deadline_days = 20
    """

    deadline_days: Mapping[str, int] = dataclasses.field(
        default_factory=lambda: {"odour": 30, "noise": 15, "dust": 15, "water": 30, "waste": 15, "other": 30}
    )
    default_deadline_days: int = 30
    default_owner: str = "待指派"
    rules: tuple[OwnerRule, ...] = ()
    warn_days: int = 7
    step_late_days: int = 7
    watch_days: int = 90
    recurrence_households: int = 5
    recurrence_window_days: int = 30
    recurrence_buffer_m: float = 500.0
    min_suspect_score: float = 0.5
    link_min_score: float = 0.1
    complaint_days: int = 15
    tz: str = "Asia/Shanghai"

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None, *, tz: str | None = None) -> LedgerRules:
        """Rules from a ``[ledger]`` mapping; unknown keys raise :class:`InputError`."""
        section = dict(section or {})
        kwargs: dict[str, Any] = {}
        fields = {f.name for f in dataclasses.fields(cls)}
        owners = section.pop("owners", None)  # short form: {area: owner} or {area: {category: owner}}
        if owners is not None:
            if not isinstance(owners, Mapping):
                raise InputError("[ledger.owners]: expected a table of township = owner")
            extra = []
            for area, who in owners.items():
                if isinstance(who, Mapping):
                    extra += [{"area": area, "category": cat, "owner": o} for cat, o in who.items()]
                else:
                    extra.append({"area": area, "owner": who})
            section["rules"] = list(section.get("rules", [])) + extra
        for key, value in section.items():
            if key not in fields:
                raise InputError(f"[ledger]: unknown key {key!r}")
            kwargs[key] = value
        try:
            if "deadline_days" in kwargs:
                merged = dict(cls().deadline_days)
                merged.update({str(k): int(v) for k, v in dict(kwargs["deadline_days"]).items()})
                kwargs["deadline_days"] = merged
            if "rules" in kwargs:
                kwargs["rules"] = tuple(
                    OwnerRule(
                        owner=str(r["owner"]),
                        area=str(r.get("area", "")),
                        category=str(r.get("category", "")),
                        deadline_days=None if r.get("deadline_days") is None else int(r["deadline_days"]),
                    )
                    for r in kwargs["rules"]
                )
            for key in ("warn_days", "step_late_days", "watch_days", "recurrence_households",
                        "recurrence_window_days", "complaint_days", "default_deadline_days"):
                if key in kwargs:
                    kwargs[key] = int(kwargs[key])
            for key in ("recurrence_buffer_m", "min_suspect_score", "link_min_score"):
                if key in kwargs:
                    kwargs[key] = float(kwargs[key])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"[ledger]: bad value ({exc})") from None
        if tz is not None and "tz" not in kwargs:
            kwargs["tz"] = tz
        return cls(**kwargs)

    @classmethod
    def from_config(cls, config: Any) -> LedgerRules:
        """Rules from an :class:`envtrace.config.Config` (its ``ledger`` section and ``tz``)."""
        if config is None:
            return cls()
        if isinstance(config, Mapping):
            return cls.from_mapping(config.get("ledger"), tz=config.get("tz"))
        return cls.from_mapping(getattr(config, "ledger", None), tz=getattr(config, "tz", None))

    def assign(self, area: str, category: str) -> tuple[str, int]:
        """Owner and deadline (days from opening) for a case of ``area`` and ``category``."""
        best, best_score = None, 0
        for rule in self.rules:
            score = rule.matches(area, category)
            if score > best_score:
                best, best_score = rule, score
        days = int(self.deadline_days.get(category, self.default_deadline_days))
        if best is None:
            return self.default_owner, days
        return best.owner, days if best.deadline_days is None else int(best.deadline_days)


@dataclasses.dataclass
class UpdateReport:
    """What one :meth:`Ledger.update` did (all counts are of rows written)."""

    month: str
    complaints_new: int = 0
    complaints_updated: int = 0
    complaints_renumbered: int = 0
    events_new: int = 0
    events_merged: int = 0
    #: Re-traced events sharing complaints with a stored event but naming another
    #: credible suspect: stored with their complaints that no event held (if any).
    events_other_suspect: int = 0
    cases_opened: int = 0
    events_attached: int = 0
    actions_new: int = 0
    actions_applied: int = 0
    actions_unresolved: int = 0
    actions_not_due: int = 0
    reopened: int = 0
    #: Unresolved rows naming an enterprise, ``"YYYY-MM-DD action enterprise_id"``.
    pending: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)


# --------------------------------------------------------------------------- engine
def default_url() -> str:
    """``sqlite:///$ENVTRACE_VAR/ledger.sqlite`` (``ENVTRACE_VAR`` defaults to ``./var``)."""
    var = Path(os.environ.get("ENVTRACE_VAR", "var"))
    return f"sqlite:///{(var / 'ledger.sqlite').as_posix()}"


def _sqlite_path(url: sa.URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def open_engine(url: str | None = None, *, busy_timeout_s: float = 10.0) -> Engine:
    """An engine on the ledger database, created and migrated to the head revision.

    SQLite databases get their directory created, a busy timeout, foreign keys on, and
    ``BEGIN IMMEDIATE`` transactions (a writer takes the write lock at ``BEGIN``).
    """
    try:
        parsed = sa.make_url(url or default_url())
    except sa.exc.ArgumentError:
        raise InputError(f"not a database URL: {url!r}") from None
    path = _sqlite_path(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = sa.create_engine(parsed)
    except (ImportError, sa.exc.ArgumentError) as exc:
        raise InputError(f"cannot open ledger database: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        ms = int(busy_timeout_s * 1000)

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {ms}")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # writers take SQLite's write lock at BEGIN; readers stay deferred (shared)
            write = conn.get_execution_options().get("envtrace_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    try:
        migrate(engine)
    except sa.exc.OperationalError as exc:
        raise InputError(f"cannot open ledger database: {str(exc).splitlines()[0]}") from None
    return engine


def migrate(engine: Engine) -> str:
    """Upgrade the schema to the head revision with Alembic (a no-op when current).

    Returns the revision the database is at.
    """
    from alembic import command
    from alembic.config import Config as AlembicConfig

    with engine.connect() as conn:
        if sa.inspect(conn).has_table("alembic_version"):
            current = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            if current == S.SCHEMA_REVISION:
                return current
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent / "_ledger_migrations"))
    with engine.connect().execution_options(envtrace_write=True) as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return S.SCHEMA_REVISION


# --------------------------------------------------------------------------- time helpers
def _utc(value: Any, tz: str) -> dt.datetime | None:
    """A naive UTC datetime from a timestamp (naive values are in ``tz``); None for NA."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize(tz)
    return ts.tz_convert("UTC").tz_localize(None).to_pydatetime()


def _local(value: Any, tz: str) -> pd.Timestamp | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).tz_localize("UTC").tz_convert(tz)


def _local_series(values: pd.Series, tz: str) -> pd.Series:
    s = pd.to_datetime(values)
    return s.dt.tz_localize("UTC").dt.tz_convert(tz)


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return pd.Timestamp(str(value).strip()).date()
    except (ValueError, TypeError):
        raise InputError(f"not a date: {value!r}") from None


def _end_of_day_utc(day: dt.date, tz: str) -> dt.datetime:
    """Naive UTC of the last second of ``day`` in ``tz`` (the instant an ``as_of`` means)."""
    local = pd.Timestamp(dt.datetime.combine(day, dt.time(23, 59, 59)), tz=tz)
    return local.tz_convert("UTC").tz_localize(None).to_pydatetime()


def _start_of_day_utc(day: dt.date, tz: str) -> dt.datetime:
    local = pd.Timestamp(dt.datetime.combine(day, dt.time(0, 0)), tz=tz)
    return local.tz_convert("UTC").tz_localize(None).to_pydatetime()


def _today(tz: str) -> dt.date:
    return pd.Timestamp.now(tz=tz).date()


def _now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of ``YYYY-MM``."""
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", str(month))
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InputError(f"month must be YYYY-MM, got {month!r}")
    first = dt.date(int(m.group(1)), int(m.group(2)), 1)
    nxt = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def _mask(text: str) -> str:
    """Free staff text with phone and ID numbers masked (:func:`envtrace.io.mask_text`)."""
    if not text or not re.search(r"[0-9]{3}[ \-]?[0-9]{4}", text):
        return text
    from envtrace.io import mask_text

    return str(mask_text([text]).iloc[0])


def _s(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def _f(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(out) else out


# --------------------------------------------------------------------------- geometry
def _metric(geoms: list[Any], lon: float, lat: float) -> tuple[list[Any], Any]:
    """Project shapely geometries (WGS84) to a local metric CRS; returns (geoms, crs)."""
    import geopandas as gpd

    from envtrace.geo import local_crs

    crs = local_crs(np.array([lon]), np.array([lat]))
    return list(gpd.GeoSeries(geoms, crs=4326).to_crs(crs)), crs


def _footprint(wkt: str | None, lon: float | None, lat: float | None, radius_m: float | None = None) -> Any:
    """The WGS84 footprint polygon of an event/case: its WKT or a circle around its centre."""
    import shapely

    if wkt:
        with contextlib.suppress(shapely.errors.ShapelyError, ValueError):
            return shapely.from_wkt(wkt)
    if lon is None or lat is None:
        return None
    import geopandas as gpd

    pt, crs = _metric([shapely.Point(lon, lat)], lon, lat)
    circle = pt[0].buffer(max(radius_m or 0.0, 1.0))
    return gpd.GeoSeries([circle], crs=crs).to_crs(4326).iloc[0]


def _within_buffer(footprint: Any, buffer_m: float, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Which points lie within ``buffer_m`` metres of ``footprint`` (a WGS84 geometry)."""
    import shapely

    from envtrace.geo import project

    if footprint is None or len(lon) == 0:
        return np.zeros(len(lon), dtype=bool)
    c = footprint.centroid
    (poly,), crs = _metric([footprint], c.x, c.y)
    x, y = project(np.asarray(lon, float), np.asarray(lat, float), crs)
    return shapely.contains_xy(poly.buffer(buffer_m), x, y) | shapely.intersects_xy(poly.buffer(buffer_m), x, y)


# --------------------------------------------------------------------------- the ledger
class Ledger:
    """The case ledger on a database (SQLite by default).

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL; default ``sqlite:///$ENVTRACE_VAR/ledger.sqlite``.
    rules : LedgerRules, optional
        Thresholds, owners and deadlines; default :class:`LedgerRules()`. ``update``
        replaces them by the dataset's ``[ledger]`` section when this is not given.
    lock_timeout : float
        Seconds a writer waits for another writer before :class:`LedgerBusy`.
    """

    def __init__(self, url: str | None = None, *, rules: LedgerRules | None = None, lock_timeout: float = 10.0):
        self.url = url or default_url()
        self._rules_given = rules is not None
        self.rules = rules or LedgerRules()
        self.lock_timeout = float(lock_timeout)
        self.engine = open_engine(self.url, busy_timeout_s=max(self.lock_timeout, 0.1))
        parsed = sa.make_url(self.url)
        path = _sqlite_path(parsed)
        if path is not None:
            self.lock_path = path.with_suffix(".lock")
        else:
            self.lock_path = Path(os.environ.get("ENVTRACE_VAR", "var")) / "ledger.lock"

    def __repr__(self) -> str:
        return f"Ledger({self.engine.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        """Dispose of the engine's connections."""
        self.engine.dispose()

    # ------------------------------------------------------------------ locking
    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        """Exclusive write: file lock for the whole block, then one transaction."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        raise LedgerBusy(
                            f"ledger is busy: another update holds {self.lock_path} "
                            f"(waited {self.lock_timeout:g} s)"
                        ) from None
                    time.sleep(0.05)
            try:
                with self.engine.connect().execution_options(envtrace_write=True) as conn, conn.begin():
                    yield conn
            except sa.exc.OperationalError as exc:
                if "locked" in str(exc):
                    raise LedgerBusy(f"ledger is busy: database locked ({self.lock_path})") from None
                raise
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ update
    def update(
        self,
        dataset: Any,
        month: str,
        *,
        trace: Any = None,
        by: str = _SYSTEM,
    ) -> UpdateReport:
        """Ingest a month's complaints and actions, trace it, open/attach cases, reopen recurrences.

        Parameters
        ----------
        dataset : Dataset-like
            Anything with ``complaints`` (the Complaints frame of ``envtrace.io``) and
            optionally ``actions``, ``enterprises``, ``config``. Only the columns in
            :data:`COMPLAINT_COLUMNS` are read.
        month : str
            ``YYYY-MM`` (local time in the rules' zone).
        trace : TraceResult-like or callable, optional
            The month's trace (``complaints`` with ``cluster_id``, ``events``,
            ``candidates``), or a callable taking the month's dataset and returning one.
            Default: :func:`envtrace.pipeline.trace` on the dataset restricted to the
            month's complaints.
        by : str
            Who made the automatic changes (recorded in the audit trail).

        Returns
        -------
        UpdateReport
            Counts of what was written. Running the same update again writes nothing.
        """
        if not self._rules_given:
            self.rules = LedgerRules.from_config(getattr(dataset, "config", None))
        rules = self.rules
        first, last = month_bounds(month)
        month = f"{first.year:04d}-{first.month:02d}"
        start_utc, end_utc = _start_of_day_utc(first, rules.tz), _end_of_day_utc(last, rules.tz)
        report = UpdateReport(month=month)

        frame = _complaints_frame(getattr(dataset, "complaints", None), rules.tz)
        in_month = (frame["received_utc"] >= start_utc) & (frame["received_utc"] <= end_utc)
        month_frame = frame.loc[in_month].reset_index(drop=True)
        digest = hashlib.sha1(
            "\n".join(sorted(month_frame["complaint_id"] + "|" + month_frame["content_hash"])).encode("utf-8")
        ).hexdigest()
        with self.engine.connect() as conn:
            done = conn.execute(sa.select(S.updates.c.input_hash).where(S.updates.c.month == month)).scalar()
        # the same month's complaints were traced before: skip the (slow) trace, keep its events
        result = self._run_trace(dataset, month_frame, trace) if len(month_frame) and done != digest else None
        if result is not None:
            labelled = getattr(result, "complaints", None)
            if labelled is not None and "complaint_id" in labelled:
                lab = pd.DataFrame(labelled)[[c for c in ("complaint_id", "category", "cluster_id") if c in labelled]]
                lab = lab.assign(complaint_id=lab["complaint_id"].astype(str))
                lab = lab.drop_duplicates("complaint_id").set_index("complaint_id")
                if "category" in lab:
                    filled = month_frame["complaint_id"].map(lab["category"].astype(object))
                    month_frame["category"] = [
                        _s(f) or _s(c) or "other" for f, c in zip(filled, month_frame["category"], strict=True)
                    ]
                if "cluster_id" in lab:
                    month_frame["cluster_id"] = month_frame["complaint_id"].map(lab["cluster_id"].astype(str))
        month_frame["category"] = [_s(c) or "other" for c in month_frame["category"]]
        actions = _actions_frame(getattr(dataset, "actions", None))

        with self._write() as conn:
            id_map = self._ingest_complaints(conn, month_frame, month, report)
            if result is not None:
                self._ingest_events(conn, result, month_frame, id_map, month, report)
            self._assign_events(conn, month, report, by=by)
            _test_pause()
            self._ingest_actions(conn, actions, report)
            self._apply_pending_actions(conn, last, report, by=by)
            self._reopen_recurrences(conn, end_utc, report, by=by)
            row = conn.execute(sa.select(S.updates).where(S.updates.c.month == month)).first()
            if row is None:
                conn.execute(
                    S.updates.insert().values(
                        month=month,
                        input_hash=digest,
                        n_complaints=len(month_frame),
                        n_events=report.events_new,
                        updated_at=_now_utc(),
                    )
                )
            elif row.input_hash != digest:
                conn.execute(
                    S.updates.update()
                    .where(S.updates.c.month == month)
                    .values(input_hash=digest, n_complaints=len(month_frame), updated_at=_now_utc())
                )
        return report

    def _run_trace(self, dataset: Any, month_frame: pd.DataFrame, trace: Any) -> Any:
        if trace is not None and not callable(trace):
            return trace
        original = getattr(dataset, "complaints", None)
        keep = original[original["complaint_id"].astype(str).isin(set(month_frame["complaint_id"]))]
        if dataclasses.is_dataclass(dataset) and not isinstance(dataset, type):
            sub = dataclasses.replace(dataset, complaints=keep.reset_index(drop=True))
        else:
            sub = _Namespace(dataset, complaints=keep.reset_index(drop=True))
        if callable(trace):
            return trace(sub)
        try:
            from envtrace.pipeline import trace as pipeline_trace
        except ImportError:  # pragma: no cover - pipeline missing
            raise InputError("envtrace.pipeline is not available: cannot trace the month") from None
        return pipeline_trace(sub)

    # complaints ---------------------------------------------------------------
    def _ingest_complaints(
        self, conn: Connection, frame: pd.DataFrame, month: str, report: UpdateReport
    ) -> dict[str, str]:
        """Insert new complaints; refresh closure/satisfaction of known ones. Returns id → stored id."""
        id_map: dict[str, str] = {}
        if frame.empty:
            return id_map
        ids = list(frame["complaint_id"])
        hashes = list(frame["content_hash"])
        known: dict[str, Any] = {}
        by_hash: dict[str, str] = {}
        for chunk in range(0, len(ids), 500):
            for row in conn.execute(
                sa.select(S.complaints).where(S.complaints.c.complaint_id.in_(ids[chunk : chunk + 500]))
            ):
                known[row.complaint_id] = row
            for row in conn.execute(
                sa.select(S.complaints.c.complaint_id, S.complaints.c.content_hash).where(
                    S.complaints.c.content_hash.in_(hashes[chunk : chunk + 500])
                )
            ):
                by_hash.setdefault(row.content_hash, row.complaint_id)
        now = _now_utc()
        new_rows = []
        for rec in frame.to_dict("records"):
            cid = rec["complaint_id"]
            if cid in known:
                id_map[cid] = cid
                old = known[cid]
                changes = {}
                if rec["closed_at"] is not None and old.closed_at != rec["closed_at"]:
                    changes["closed_at"] = rec["closed_at"]
                if rec["satisfaction"] and old.satisfaction != rec["satisfaction"]:
                    changes["satisfaction"] = rec["satisfaction"]
                if rec["area"] and not old.area:
                    changes["area"] = rec["area"]
                if changes:
                    conn.execute(S.complaints.update().where(S.complaints.c.complaint_id == cid).values(**changes))
                    report.complaints_updated += 1
                continue
            if rec["content_hash"] in by_hash:  # re-numbered in a later export
                id_map[cid] = by_hash[rec["content_hash"]]
                report.complaints_renumbered += 1
                continue
            by_hash[rec["content_hash"]] = cid
            id_map[cid] = cid
            new_rows.append(
                {
                    "complaint_id": cid,
                    "content_hash": rec["content_hash"],
                    "received_at": rec["received_utc"],
                    "lon": rec["lon"],
                    "lat": rec["lat"],
                    "category": rec["category"],
                    "channel": rec["channel"],
                    "complainant_key": rec["complainant_key"],
                    "area": rec["area"],
                    "closed_at": rec["closed_at"],
                    "satisfaction": rec["satisfaction"],
                    "duplicate_of": rec["duplicate_of"],
                    "month": month,
                    "ingested_at": now,
                }
            )
        if new_rows:
            conn.execute(S.complaints.insert(), new_rows)
        report.complaints_new += len(new_rows)
        return id_map

    # events -------------------------------------------------------------------
    def _ingest_events(
        self,
        conn: Connection,
        result: Any,
        month_frame: pd.DataFrame,
        id_map: dict[str, str],
        month: str,
        report: UpdateReport,
    ) -> None:
        events = getattr(result, "events", None)
        if events is None or len(events) == 0:
            return
        tz = self.rules.tz
        cands = getattr(result, "candidates", None)
        top: dict[str, tuple[str, float, str]] = {}
        ranked: dict[str, list[dict[str, Any]]] = {}
        if cands is not None and len(cands):
            c = pd.DataFrame(cands).copy()
            c["rank"] = pd.to_numeric(c["rank"], errors="coerce")
            for rec in c.loc[c["rank"].between(1, MAX_SUSPECT_RANK)].sort_values("rank").to_dict("records"):
                ent = _s(rec["enterprise_id"])
                if not ent:
                    continue
                cl = _s(rec["cluster_id"])
                if int(rec["rank"]) == 1:
                    top[cl] = (ent, _f(rec.get("score")) or 0.0, _s(rec.get("name")))
                if all(r["rank"] != int(rec["rank"]) for r in ranked.get(cl, [])):
                    ranked.setdefault(cl, []).append({"cluster_id": cl, "rank": int(rec["rank"]), "enterprise_id": ent,
                                                      "name": _s(rec.get("name")), "score": _f(rec.get("score"))})
        self._names = {k: v[2] for k, v in top.items()}
        members: dict[str, list[str]] = {}
        if "cluster_id" in month_frame:
            for cid, cl in zip(month_frame["complaint_id"], month_frame["cluster_id"], strict=True):
                cl = _s(cl)
                if cl and cl != "-1":
                    members.setdefault(cl, []).append(id_map.get(cid, cid))
        areas = dict(zip(month_frame["complaint_id"], month_frame["area"], strict=True))
        row_of = {id_map.get(c, c): i for i, c in enumerate(month_frame["complaint_id"])}
        existing = {r[0] for r in conn.execute(sa.select(S.events.c.cluster_id))}
        for rec in pd.DataFrame(events).to_dict("records"):
            cl = _s(rec["cluster_id"])
            if not cl or cl == "-1" or cl in existing:
                continue
            geom = rec.get("geometry")
            wkt = geom.wkt if geom is not None and not getattr(geom, "is_empty", True) else None
            ent, score, _name = top.get(cl, ("", None, ""))
            mem = sorted(set(members.get(cl, [])))
            summary = {
                "n_complaints": int(rec.get("n_complaints") or len(mem)),
                "n_complainants": int(rec.get("n_complainants") or 0),
                "start": _utc(rec["start"], tz), "end": _utc(rec["end"], tz),
                "lon": float(rec["lon"]), "lat": float(rec["lat"]),
                "radius_m": _f(rec.get("radius_m")), "footprint_wkt": wkt,
            }
            if mem:
                credible = ent if (score or 0.0) >= self.rules.min_suspect_score else ""
                merged = self._merge_retraced(conn, cl, mem, summary["end"], report, suspect=credible)
                if isinstance(merged, list):  # another suspect's: only what no event holds
                    if not merged:
                        existing.add(cl)
                        continue
                    mem = merged
                    # described by the complaints it holds, not by the re-traced event
                    summary = _summary_of(month_frame.iloc[[row_of[m] for m in mem if m in row_of]], len(mem))
                elif merged:
                    existing.add(cl)
                    continue
            area_votes = pd.Series([areas.get(m, "") for m in mem if areas.get(m, "")], dtype=object)
            area = str(area_votes.value_counts().index[0]) if len(area_votes) else ""
            conn.execute(
                S.events.insert().values(
                    cluster_id=cl,
                    month=month,
                    category=_s(rec.get("category")) or "other",
                    area=area,
                    **summary,
                    p_value=_f(rec.get("p_value")),
                    top_enterprise_id=ent,
                    top_score=score,
                )
            )
            if mem:
                conn.execute(S.event_complaints.insert(), [{"cluster_id": cl, "complaint_id": m} for m in mem])
            if ranked.get(cl):
                conn.execute(S.event_suspects.insert(), ranked[cl])
            existing.add(cl)
            report.events_new += 1

    def _merge_retraced(
        self, conn: Connection, cluster_id: str, members: list[str], end: dt.datetime | None,
        report: UpdateReport, *, suspect: str = "",
    ) -> bool | list[str]:
        """A new event sharing complaints with a stored one is that event re-traced from a later export.

        Its complaints not yet in any event join the stored event with the largest
        overlap (and that event's case); no new event is stored. Returns whether it merged
        (``False``: no stored event shares a complaint). With a credible ``suspect`` (``""``:
        none), the overlapping stored event of the same credible top-1 suspect that shares
        the most is the one merged into; if there is none and the event of the largest
        overlap names another credible suspect, nothing is merged and the new event's
        complaints that no event holds are returned (possibly none): the new event is
        another source's.
        """
        stored: dict[str, set[str]] = {}
        for chunk in range(0, len(members), 500):
            for cl, cid in conn.execute(
                sa.select(S.event_complaints.c.cluster_id, S.event_complaints.c.complaint_id)
                .where(S.event_complaints.c.complaint_id.in_(members[chunk : chunk + 500]))
            ):
                stored.setdefault(cl, set()).add(cid)
        if not stored:
            return False
        taken = set().union(*stored.values())
        new = [m for m in members if m not in taken]
        by_overlap = sorted(sorted(stored), key=lambda k: -len(stored[k]))  # ties: by id
        target = by_overlap[0]
        if suspect:
            names = {}
            for chunk in range(0, len(by_overlap), 500):
                for cl, top_id, top_score in conn.execute(
                    sa.select(S.events.c.cluster_id, S.events.c.top_enterprise_id, S.events.c.top_score)
                    .where(S.events.c.cluster_id.in_(by_overlap[chunk : chunk + 500]))
                ):
                    credible = bool(top_id) and (top_score or 0.0) >= self.rules.min_suspect_score
                    names[cl] = top_id if credible else ""
            same = [k for k in by_overlap if names.get(k) == suspect]
            if same:  # the stored event of the same suspect that shares the most
                target = same[0]
            elif names.get(target):  # the event it overlaps most names another suspect
                report.events_other_suspect += 1
                return new
        if new:
            conn.execute(S.event_complaints.insert(), [{"cluster_id": target, "complaint_id": m} for m in new])
            n = conn.execute(sa.select(sa.func.count()).select_from(S.event_complaints)
                             .where(S.event_complaints.c.cluster_id == target)).scalar()
            values: dict[str, Any] = {"n_complaints": int(n)}
            old_end = conn.execute(sa.select(S.events.c.end).where(S.events.c.cluster_id == target)).scalar()
            if end is not None and old_end is not None and end > old_end:
                values["end"] = end
            conn.execute(S.events.update().where(S.events.c.cluster_id == target).values(**values))
            for (case_id,) in conn.execute(sa.select(S.case_events.c.case_id).where(S.case_events.c.cluster_id == target)):
                have = {r[0] for r in conn.execute(
                    sa.select(S.case_complaints.c.complaint_id).where(S.case_complaints.c.case_id == case_id))}
                rows = [{"case_id": case_id, "complaint_id": m} for m in new if m not in have]
                if rows:
                    conn.execute(S.case_complaints.insert(), rows)
        report.events_merged += 1
        return True

    def _assign_events(self, conn: Connection, month: str, report: UpdateReport, *, by: str) -> None:
        """Open a case per unassigned event, or attach it to a matching case."""
        rules = self.rules
        assigned = sa.select(S.case_events.c.cluster_id)
        pending = conn.execute(
            sa.select(S.events)
            .where(S.events.c.cluster_id.not_in(assigned))
            .order_by(S.events.c.start, S.events.c.cluster_id)
        ).all()
        names = getattr(self, "_names", {})
        for ev in pending:
            credible = bool(ev.top_enterprise_id) and (ev.top_score or 0.0) >= rules.min_suspect_score
            fp = _footprint(ev.footprint_wkt, ev.lon, ev.lat, ev.radius_m)
            case, why = self._match_case(conn, ev, fp, credible)
            if case is None:
                self._open_case(conn, ev, fp, credible, names.get(ev.cluster_id, ""), by=by)
                report.cases_opened += 1
            else:
                self._attach(conn, case, ev, fp, why, by=by)
                report.events_attached += 1

    def _match_case(self, conn: Connection, ev: Any, fp: Any, credible: bool) -> tuple[Any, str]:
        found = self._match_rows(conn, ev, fp, credible)
        if found[0] is None and credible:
            # the same place and category as a case that names no source yet: the same
            # problem, now with a suspect (a monthly update files events before the month's
            # actions, so a case confirmed later in the month still names nobody here)
            found = self._match_rows(conn, ev, fp, False, unnamed_only=True)
        return found

    def _match_rows(self, conn: Connection, ev: Any, fp: Any, credible: bool, *, unnamed_only: bool = False
                    ) -> tuple[Any, str]:
        rules = self.rules
        q = sa.select(S.cases).where(S.cases.c.category == ev.category)
        if credible:
            q = q.where(S.cases.c.enterprise_id == ev.top_enterprise_id)
            why = f"same suspect {ev.top_enterprise_id}"
            rows = conn.execute(q.order_by(S.cases.c.opened_at.desc())).all()
        else:
            q = q.where(S.cases.c.area == ev.area)
            if unnamed_only:
                q = q.where(sa.or_(S.cases.c.enterprise_id.is_(None), S.cases.c.enterprise_id == ""))
            why = "same area and category, overlapping footprint"
            rows = [
                r
                for r in conn.execute(q.order_by(S.cases.c.opened_at.desc())).all()
                if fp is not None
                and (cfp := _footprint(r.footprint_wkt, r.lon, r.lat)) is not None
                and cfp.intersects(fp)
            ]
        for r in rows:
            if r.status in OPEN_STATUSES:
                return r, why
        for r in rows:  # a closed case still under watch: the event counts towards recurrence
            closed_at = self._last_closure(conn, r.case_id)
            if closed_at is not None and ev.start <= closed_at + dt.timedelta(days=rules.watch_days):
                return r, why + " (under watch after closure)"
        return None, ""

    def _last_closure(self, conn: Connection, case_id: str, until: dt.datetime | None = None) -> dt.datetime | None:
        q = sa.select(sa.func.max(S.status_history.c.at)).where(
            S.status_history.c.case_id == case_id,
            S.status_history.c.field == "status",
            S.status_history.c.new == "closed",
        )
        if until is not None:
            q = q.where(S.status_history.c.at <= until)
        return conn.execute(q).scalar()

    def _open_case(self, conn: Connection, ev: Any, fp: Any, credible: bool, name: str, *, by: str) -> str:
        rules = self.rules
        opened_local = _local(ev.start, rules.tz)
        prefix = f"{opened_local.year:04d}{opened_local.month:02d}-"
        n = conn.execute(
            sa.select(sa.func.count()).select_from(S.cases).where(S.cases.c.case_id.like(prefix + "%"))
        ).scalar()
        case_id = f"{prefix}{n + 1:03d}"
        while conn.execute(sa.select(S.cases.c.case_id).where(S.cases.c.case_id == case_id)).first():
            n += 1
            case_id = f"{prefix}{n + 1:03d}"
        owner, days = rules.assign(ev.area, ev.category)
        deadline = opened_local.date() + dt.timedelta(days=days)
        cat = CATEGORY_ZH.get(ev.category, ev.category)
        suspect = ev.top_enterprise_id if credible else ""
        title = f"{ev.area}{cat}投诉" + (f"，疑似{name or suspect}" if suspect else "聚集")
        conn.execute(
            S.cases.insert().values(
                case_id=case_id,
                title=title,
                area=ev.area,
                category=ev.category,
                enterprise_id=suspect,
                enterprise_name=name if suspect else "",
                owner=owner,
                opened_at=ev.start,
                deadline=deadline,
                status="open",
                lon=ev.lon,
                lat=ev.lat,
                footprint_wkt=fp.wkt if fp is not None else None,
                source="update",
            )
        )
        why = f"opened from event {ev.cluster_id}"
        self._log(conn, case_id, "status", None, "open", ev.start, by, why)
        self._log(conn, case_id, "owner", None, owner, ev.start, by, "rule" if owner != rules.default_owner else "no rule")
        self._log(conn, case_id, "deadline", None, deadline.isoformat(), ev.start, by, f"{days} days ({ev.category})")
        self._link(conn, case_id, ev.cluster_id)
        return case_id

    def _attach(self, conn: Connection, case: Any, ev: Any, fp: Any, why: str, *, by: str) -> None:
        cfp = _footprint(case.footprint_wkt, case.lon, case.lat)
        union = fp if cfp is None else (cfp if fp is None else cfp.union(fp))
        conn.execute(
            S.cases.update()
            .where(S.cases.c.case_id == case.case_id)
            .values(footprint_wkt=union.wkt if union is not None else None)
        )
        self._log(conn, case.case_id, "event", None, ev.cluster_id, ev.start, by, f"attached: {why}")
        self._link(conn, case.case_id, ev.cluster_id)

    def _link(self, conn: Connection, case_id: str, cluster_id: str) -> None:
        conn.execute(S.case_events.insert().values(case_id=case_id, cluster_id=cluster_id))
        members = [r[0] for r in conn.execute(
            sa.select(S.event_complaints.c.complaint_id).where(S.event_complaints.c.cluster_id == cluster_id)
        )]
        have = {r[0] for r in conn.execute(
            sa.select(S.case_complaints.c.complaint_id).where(S.case_complaints.c.case_id == case_id)
        )}
        rows = [{"case_id": case_id, "complaint_id": m} for m in members if m not in have]
        if rows:
            conn.execute(S.case_complaints.insert(), rows)

    @staticmethod
    def _log(
        conn: Connection, case_id: str, field: str, old: Any, new: Any, at: dt.datetime, by: str, why: str
    ) -> None:
        conn.execute(
            S.status_history.insert().values(
                case_id=case_id,
                field=field,
                old=None if old is None else str(old),
                new=None if new is None else str(new),
                at=at,
                by=by,
                why=_mask(why),
                recorded_at=_now_utc(),
            )
        )

    # actions ------------------------------------------------------------------
    def _ingest_actions(self, conn: Connection, actions: pd.DataFrame, report: UpdateReport) -> None:
        if actions.empty:
            return
        keys = set(r[0] for r in conn.execute(sa.select(S.actions.c.natural_key)))
        now = _now_utc()
        rows = []
        for rec in actions.to_dict("records"):
            if rec["action"] not in ACTIONS:
                report.warnings.append(f"actions: unknown action {rec['action']!r} skipped")
                continue
            key = hashlib.sha1(
                "|".join(
                    str(rec[k]) for k in ("date", "action", "complaint_id", "enterprise_id", "persons", "note")
                ).encode("utf-8")
            ).hexdigest()
            if key in keys:
                continue
            keys.add(key)
            rows.append({**rec, "natural_key": key, "case_id": None, "source": "actions", "by": "",
                         "value": "", "recorded_at": now})
        if rows:
            conn.execute(S.actions.insert(), rows)
        report.actions_new += len(rows)

    def _resolve_case(
        self, conn: Connection, complaint_id: str, enterprise_id: str, action: str, day: dt.date
    ) -> tuple[str | None, str]:
        """The case an ``actions.csv`` row applies to, and how it was matched (see the module notes).

        1. A row naming a complaint: the case holding that complaint.
        2. A row naming an enterprise X, dated D: among the cases opened by the end of D,
           tier 1 = X is the case's named suspect, or X is ranked 1..``ACTION_RANKS`` with
           score >= ``link_min_score`` in one of the case's events that started by D;
           tier 2 = X is any listed suspect (ranks 1..5) of such an event. The best tier
           wins; within it a case the action can act on as of D (open/diagnosing/
           rectifying; for ``verified``: closed) is preferred, then the case with the most
           recent such event (or opening), then the lower case id.
        3. A ``verified`` row naming an enterprise X verifies X's latest rectification (a
           row naming X, or any rectification of a case whose source is X): it goes to that
           case unless that rectification was verified already, whatever else has happened
           to the case since (a recurrence may have reopened it); otherwise rule 2 applies.
        """
        if complaint_id:
            row = conn.execute(
                sa.select(S.case_complaints.c.case_id)
                .where(S.case_complaints.c.complaint_id == complaint_id)
                .order_by(S.case_complaints.c.case_id)
            ).first()
            if row is not None:
                return row[0], f"complaint {complaint_id}"
        if not enterprise_id:
            return None, ""
        rules = self.rules
        until = _end_of_day_utc(day, rules.tz)
        if action == "verified":
            # the latest rectification of X: a row naming X, or any rectification of a case
            # whose source is X (recorded by complaint or with `ledger record`)
            row = conn.execute(
                sa.select(S.actions.c.case_id, S.actions.c.date)
                .join(S.cases, S.cases.c.case_id == S.actions.c.case_id)
                .where(S.actions.c.action == "rectified", S.actions.c.date <= day,
                       sa.or_(S.actions.c.enterprise_id == enterprise_id, S.cases.c.enterprise_id == enterprise_id))
                .order_by(S.actions.c.date.desc(), S.actions.c.action_id.desc())
            ).first()
            done = row is not None and conn.execute(
                sa.select(S.actions.c.action_id).where(
                    S.actions.c.case_id == row[0], S.actions.c.action == "verified",
                    S.actions.c.date >= row[1], S.actions.c.date <= day)
            ).first() is not None
            if row is not None and not done:
                return row[0], f"verifies the rectification of {row[1].isoformat()}"
        best: dict[str, tuple[int, dt.datetime, str]] = {}  # case -> (tier, most recent, how)

        def offer(case_id: str, tier: int, when: dt.datetime, how: str) -> None:
            old = best.get(case_id)
            if old is None or (tier, -when.timestamp()) < (old[0], -old[1].timestamp()):
                best[case_id] = (tier, when, how)

        for case_id, opened in conn.execute(
            sa.select(S.cases.c.case_id, S.cases.c.opened_at).where(
                S.cases.c.enterprise_id == enterprise_id, S.cases.c.opened_at <= until
            )
        ):
            offer(case_id, 1, opened, f"named suspect {enterprise_id}")
        q = (
            sa.select(S.case_events.c.case_id, S.event_suspects.c.cluster_id, S.event_suspects.c.rank,
                      S.event_suspects.c.score, S.events.c.start)
            .join(S.events, S.events.c.cluster_id == S.event_suspects.c.cluster_id)
            .join(S.case_events, S.case_events.c.cluster_id == S.event_suspects.c.cluster_id)
            .join(S.cases, S.cases.c.case_id == S.case_events.c.case_id)
            .where(S.event_suspects.c.enterprise_id == enterprise_id, S.events.c.start <= until,
                   S.cases.c.opened_at <= until)
        )
        for case_id, cluster_id, rank, score, start in conn.execute(q):
            credible = rank <= ACTION_RANKS and (score or 0.0) >= rules.link_min_score
            offer(case_id, 1 if credible else 2, start,
                  f"{enterprise_id} suspect rank {rank} (score {score or 0.0:.2f}) of event {cluster_id}")
        if not best:
            return None, ""
        can = {"closed"} if action == "verified" else OPEN_STATUSES

        def key(case_id: str) -> tuple:
            tier, when, _ = best[case_id]
            return (tier, self._status_at(conn, case_id, until) not in can, -when.timestamp(), case_id)

        case_id = min(best, key=key)
        return case_id, best[case_id][2]

    def _status_at(self, conn: Connection, case_id: str, until: dt.datetime) -> str:
        """A case's status at ``until`` (naive UTC), from its audit trail."""
        row = conn.execute(
            sa.select(S.status_history.c.new)
            .where(S.status_history.c.case_id == case_id, S.status_history.c.field == "status",
                   S.status_history.c.at <= until)
            .order_by(S.status_history.c.at.desc(), S.status_history.c.history_id.desc())
        ).first()
        return row[0] if row is not None else self._status(conn, case_id)

    def _apply_pending_actions(self, conn: Connection, last_day: dt.date, report: UpdateReport, *, by: str) -> None:
        """Apply not-yet-applied ``actions.csv`` rows dated up to ``last_day``, oldest first."""
        pending = conn.execute(
            sa.select(S.actions)
            .where(S.actions.c.case_id.is_(None), S.actions.c.source == "actions")
            .order_by(S.actions.c.date, S.actions.c.action_id)
        ).all()
        data: _RecurrenceData | None = None
        for act in pending:
            if act.date > last_day:  # applied by the update of its own month (or a later one)
                report.actions_not_due += 1
                continue
            case_id, how = self._resolve_case(conn, act.complaint_id, act.enterprise_id, act.action, act.date)
            if case_id is None:
                report.actions_unresolved += 1
                if act.enterprise_id:
                    report.pending.append(f"{act.date.isoformat()} {act.action} {act.enterprise_id}")
                continue
            conn.execute(S.actions.update().where(S.actions.c.action_id == act.action_id).values(case_id=case_id))
            at = _end_of_day_utc(act.date, self.rules.tz)
            case = conn.execute(sa.select(S.cases).where(S.cases.c.case_id == case_id)).first()
            if case.status in DONE_STATUSES:  # a recurrence before the action comes first (audit in data order)
                data = data or _RecurrenceData.load(conn)
                self._reopen_if_recurred(conn, case, at, data, report, by=by)
            why = f"action {act.action} ({how}): {act.note}" if act.enterprise_id and not how.startswith("complaint") \
                else f"action {act.action}: {act.note}"
            self._action_effect(conn, case_id, act.action, at, by=by, why=why.strip(": "), strict=False)
            if act.enterprise_id and act.action in CONFIRMING_ACTIONS:
                self._confirm_source(conn, case_id, act.enterprise_id, act.action, at, by=by)
            report.actions_applied += 1

    def _confirm_source(self, conn: Connection, case_id: str, enterprise_id: str, action: str, at: dt.datetime,
                        *, by: str) -> None:
        """A case with no named suspect takes the enterprise a confirming action names (audited)."""
        row = conn.execute(sa.select(S.cases.c.enterprise_id).where(S.cases.c.case_id == case_id)).first()
        if row is None or row[0]:
            return
        name = conn.execute(
            sa.select(S.event_suspects.c.name).where(S.event_suspects.c.enterprise_id == enterprise_id,
                                                     S.event_suspects.c.name != "")
        ).scalar() or ""
        conn.execute(S.cases.update().where(S.cases.c.case_id == case_id)
                     .values(enterprise_id=enterprise_id, enterprise_name=name))
        self._log(conn, case_id, "enterprise", None, enterprise_id, at, by, f"source confirmed by action {action}")

    def _action_effect(
        self, conn: Connection, case_id: str, action: str, at: dt.datetime, *, by: str, why: str, strict: bool
    ) -> None:
        status = self._status(conn, case_id)
        target = {"inspection": "diagnosing", "rectified": "closed", "verified": "verified"}.get(action)
        if target is None or status == target:
            return
        if action == "inspection" and status != "open":
            return
        if action == "rectified" and status not in OPEN_STATUSES:
            return
        if action == "verified" and status != "closed":
            if strict:
                raise InputError(f"case {case_id} is {status}: only a closed case can be verified")
            return
        self._set(conn, case_id, "status", status, target, at, by, why)

    def _status(self, conn: Connection, case_id: str) -> str:
        row = conn.execute(sa.select(S.cases.c.status).where(S.cases.c.case_id == case_id)).first()
        if row is None:
            raise InputError(f"no such case: {case_id}")
        return row[0]

    def _set(self, conn: Connection, case_id: str, field: str, old: Any, new: Any, at: dt.datetime, by: str, why: str) -> None:
        conn.execute(S.cases.update().where(S.cases.c.case_id == case_id).values(**{field: new}))
        self._log(conn, case_id, field, old.isoformat() if isinstance(old, dt.date) else old,
                  new.isoformat() if isinstance(new, dt.date) else new, at, by, why)

    # recurrence ---------------------------------------------------------------
    def _reopen_recurrences(self, conn: Connection, until: dt.datetime, report: UpdateReport, *, by: str) -> None:
        done = conn.execute(sa.select(S.cases).where(S.cases.c.status.in_(DONE_STATUSES))).all()
        if not done:
            return
        data = _RecurrenceData.load(conn)
        for case in done:
            self._reopen_if_recurred(conn, case, until, data, report, by=by)

    def _reopen_if_recurred(self, conn: Connection, case: Any, until: dt.datetime, data: _RecurrenceData,
                            report: UpdateReport, *, by: str) -> bool:
        """Reopen a closed/verified case whose recurrence rule is met by ``until`` (naive UTC)."""
        closed_at = self._last_closure(conn, case.case_id)
        if closed_at is None:
            return False
        hit = data.recurrence(case, closed_at, until, self.rules)
        if hit is None:
            return False
        when, n = hit
        why = (f"recurrence: {n} households within {self.rules.recurrence_window_days} days "
               f"after closure on {_local(closed_at, self.rules.tz).date().isoformat()}")
        self._set(conn, case.case_id, "status", case.status, "rectifying", when, by, why)
        report.reopened += 1
        return True

    # ------------------------------------------------------------------ manual changes
    def set_status(
        self,
        case_id: str,
        status: str | None = None,
        *,
        by: str,
        note: str = "",
        at: Any = None,
        owner: str | None = None,
        deadline: Any = None,
    ) -> None:
        """Change a case's status (and/or owner, deadline) by hand, with who and why.

        Raises
        ------
        InputError
            Unknown case or status, an empty ``by``, or a transition the lifecycle does
            not allow (see :data:`TRANSITIONS`).
        """
        if not str(by or "").strip():
            raise InputError("say who makes the change (--by)")
        when = _utc(at, self.rules.tz) if at is not None else _now_utc()
        with self._write() as conn:
            row = conn.execute(sa.select(S.cases).where(S.cases.c.case_id == case_id)).first()
            if row is None:
                raise InputError(f"no such case: {case_id}")
            if status is not None and status != row.status:
                if status not in STATUSES:
                    raise InputError(f"unknown status {status!r} (one of {', '.join(STATUSES)})")
                if status not in TRANSITIONS[row.status]:
                    raise InputError(f"case {case_id}: cannot go from {row.status} to {status}")
                self._set(conn, case_id, "status", row.status, status, when, by, note)
            if owner is not None and owner != row.owner:
                self._set(conn, case_id, "owner", row.owner, owner, when, by, note)
            if deadline is not None and _date(deadline) != row.deadline:
                self._set(conn, case_id, "deadline", row.deadline, _date(deadline), when, by, note)

    def record_action(
        self,
        case_id: str,
        action: str,
        *,
        date: Any = None,
        persons: int = 0,
        by: str = "",
        note: str = "",
    ) -> None:
        """Record a staff action on a case and apply its status effect.

        ``inspection``: open → diagnosing; ``rectified``: (not closed) → closed;
        ``verified``: closed → verified (refused on a case that is not closed);
        ``penalty_case``, ``police_transfer``: recorded only.
        """
        if action not in ACTIONS:
            raise InputError(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
        day = _date(date) if date is not None else _today(self.rules.tz)
        with self._write() as conn:
            self._status(conn, case_id)
            self._insert_manual_action(conn, case_id=case_id, action=action, day=day, persons=persons, by=by, note=note)
            self._action_effect(conn, case_id, action, _end_of_day_utc(day, self.rules.tz), by=by or _SYSTEM,
                                why=f"action {action}: {note}".strip(": "), strict=True)

    def record_satisfaction(
        self, complaint_id: str, satisfaction: str, *, date: Any = None, persons: int = 0, by: str = "", note: str = ""
    ) -> None:
        """Record a satisfaction callback (满意 / 基本满意 / 不满意) on a complaint."""
        value = SATISFACTION.get(str(satisfaction).strip())
        if value is None:
            raise InputError(f"satisfaction must be 满意, 基本满意 or 不满意, got {satisfaction!r}")
        day = _date(date) if date is not None else _today(self.rules.tz)
        with self._write() as conn:
            row = conn.execute(
                sa.select(S.complaints.c.complaint_id).where(S.complaints.c.complaint_id == str(complaint_id))
            ).first()
            if row is None:
                raise InputError(f"no such complaint: {complaint_id}")
            conn.execute(
                S.complaints.update().where(S.complaints.c.complaint_id == str(complaint_id)).values(satisfaction=value)
            )
            case = conn.execute(
                sa.select(S.case_complaints.c.case_id).where(S.case_complaints.c.complaint_id == str(complaint_id))
            ).first()
            self._insert_manual_action(conn, case_id=case[0] if case else None, action="satisfaction", day=day,
                                       persons=persons, by=by, note=note, complaint_id=str(complaint_id), value=value)

    def _insert_manual_action(self, conn: Connection, *, case_id: str | None, action: str, day: dt.date,
                              persons: int, by: str, note: str, complaint_id: str = "", value: str = "") -> None:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        key = hashlib.sha1(f"manual|{case_id}|{action}|{day}|{complaint_id}|{now.isoformat()}|{os.getpid()}".encode()).hexdigest()
        conn.execute(
            S.actions.insert().values(
                natural_key=key, case_id=case_id, date=day, action=action, complaint_id=complaint_id,
                enterprise_id="", persons=int(persons or 0), value=value, note=_mask(note or ""), by=by or "",
                source="manual", recorded_at=now.replace(microsecond=0),
            )
        )

    # ------------------------------------------------------------------ reading
    def cases(self, as_of: Any = None) -> pd.DataFrame:
        """Every case opened by ``as_of`` with its status, deadline and colour *as of* that day.

        Status and deadline are replayed from the audit trail up to the end of ``as_of``
        (local day; default today), so a report for a past month is reproducible.
        """
        return _cases_as_of(self.engine, self.rules, as_of)

    def history(self, case_id: str) -> pd.DataFrame:
        """The audit trail of one case: ``field, old, new, at, by, why`` in order (``at`` local)."""
        with self.engine.connect() as conn:
            df = pd.read_sql(
                sa.select(S.status_history)
                .where(S.status_history.c.case_id == case_id)
                .order_by(S.status_history.c.at, S.status_history.c.history_id),
                conn,
            )
        if df.empty:
            with self.engine.connect() as conn:
                self._status(conn, case_id)
        for col in ("at", "recorded_at"):
            df[col] = _local_series(df[col], self.rules.tz)
        return df

    def actions(self, case_id: str | None = None) -> pd.DataFrame:
        """Recorded actions (all, or of one case), oldest first."""
        q = sa.select(S.actions).order_by(S.actions.c.date, S.actions.c.action_id)
        if case_id is not None:
            q = q.where(S.actions.c.case_id == case_id)
        with self.engine.connect() as conn:
            return pd.read_sql(q, conn)

    def pending_actions(self, *, until: Any = None) -> pd.DataFrame:
        """``actions.csv`` rows not applied to any case (dated up to ``until``, default all), oldest first.

        Rows naming a complaint that is in no case stay here for good (they still count
        in the KPIs); rows naming an enterprise wait for a case in which it is a suspect.
        """
        q = (sa.select(S.actions.c.date, S.actions.c.action, S.actions.c.complaint_id, S.actions.c.enterprise_id,
                       S.actions.c.persons, S.actions.c.note)
             .where(S.actions.c.case_id.is_(None), S.actions.c.source == "actions")
             .order_by(S.actions.c.date, S.actions.c.action_id))
        if until is not None:
            q = q.where(S.actions.c.date <= _date(until))
        with self.engine.connect() as conn:
            return pd.read_sql(q, conn)

    def case_events(self, case_id: str | None = None) -> pd.DataFrame:
        """The events of one case (or of every case), oldest first.

        Returns
        -------
        DataFrame
            ``case_id, cluster_id, month, category, area, start, end`` (local time),
            ``n_complaints, n_complainants, lon, lat`` (WGS84 degrees of the centre),
            ``radius_m`` (metres), ``p_value``, ``top_enterprise_id, top_name, top_score``
            (the trace's rank-1 suspect; ``""``/NaN when none) and ``footprint_wkt``
            (WGS84 polygon, or None).
        """
        top = S.event_suspects.alias("top")
        q = (
            sa.select(S.case_events.c.case_id, S.events.c.cluster_id, S.events.c.month, S.events.c.category,
                      S.events.c.area, S.events.c.start, S.events.c.end, S.events.c.n_complaints,
                      S.events.c.n_complainants, S.events.c.lon, S.events.c.lat, S.events.c.radius_m,
                      S.events.c.p_value, S.events.c.top_enterprise_id,
                      sa.func.coalesce(top.c.name, "").label("top_name"), S.events.c.top_score,
                      S.events.c.footprint_wkt)
            .join(S.events, S.events.c.cluster_id == S.case_events.c.cluster_id)
            .outerjoin(top, sa.and_(top.c.cluster_id == S.events.c.cluster_id, top.c.rank == 1))
            .order_by(S.case_events.c.case_id, S.events.c.start, S.events.c.cluster_id)
        )
        with self.engine.connect() as conn:
            if case_id is not None:
                self._status(conn, str(case_id))
                q = q.where(S.case_events.c.case_id == str(case_id))
            df = pd.read_sql(q, conn)
        for col in ("start", "end"):
            df[col] = _local_series(df[col], self.rules.tz)
        return df

    def case_complaints(self, case_id: str) -> pd.DataFrame:
        """The complaints of one case, oldest first (no personal data: households are keyed hashes).

        Returns
        -------
        DataFrame
            ``complaint_id, received_at`` (local), ``lon, lat`` (WGS84 degrees),
            ``category, channel, complainant_key, area, closed_at`` (local or NaT),
            ``satisfaction, duplicate_of, cluster_id`` (the case's event holding it).
        """
        c = S.complaints.c
        ev = (sa.select(S.event_complaints.c.complaint_id, sa.func.min(S.event_complaints.c.cluster_id).label("cluster_id"))
              .join(S.case_events, S.case_events.c.cluster_id == S.event_complaints.c.cluster_id)
              .where(S.case_events.c.case_id == str(case_id))
              .group_by(S.event_complaints.c.complaint_id)
              .subquery())
        q = (
            sa.select(c.complaint_id, c.received_at, c.lon, c.lat, c.category, c.channel, c.complainant_key, c.area,
                      c.closed_at, c.satisfaction, c.duplicate_of, sa.func.coalesce(ev.c.cluster_id, "").label("cluster_id"))
            .join(S.case_complaints, S.case_complaints.c.complaint_id == c.complaint_id)
            .outerjoin(ev, ev.c.complaint_id == c.complaint_id)
            .where(S.case_complaints.c.case_id == str(case_id))
            .order_by(c.received_at, c.complaint_id)
        )
        with self.engine.connect() as conn:
            self._status(conn, str(case_id))
            df = pd.read_sql(q, conn)
        for col in ("received_at", "closed_at"):
            df[col] = _local_series(df[col], self.rules.tz)
        return df

    def kpis(self, start: Any, end: Any | None = None, *, by_area: bool = False) -> pd.DataFrame:
        """See :func:`kpis`; ``start`` may be a month ``YYYY-MM`` (then ``end`` is omitted)."""
        return kpis(self.engine, start, end, by_area=by_area, rules=self.rules)

    # ------------------------------------------------------------------ XLSX
    def export_xlsx(self, path: str | os.PathLike[str], *, as_of: Any = None) -> Path:
        """Write the ledger as bureaus keep it: one row per case, filled in its colour.

        Chinese headers, frozen header row, column widths; written atomically.
        """
        return _export_xlsx(self.cases(as_of), path)

    def import_xlsx(self, path: str | os.PathLike[str], *, by: str = "import") -> int:
        """Import cases from a bureau's Excel ledger (Chinese headers; colour is ignored).

        A 颜色依据 (reason) cell starting with "reopened on recurrence" on a 整改中 case
        keeps the reopening's meaning (red until closed), so an exported ledger imports
        back with the same colours.

        New cases are inserted, known ones updated field by field (with history). Returns
        the number of cases inserted or changed.
        """
        return _import_xlsx(self, Path(path), by=by)


class _Namespace:
    """A dataset-like view with some attributes replaced."""

    def __init__(self, base: Any, **overrides: Any):
        self._base = base
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


def _test_pause() -> None:
    """Test hook: with ``ENVTRACE_LEDGER_TEST_PAUSE=FILE`` create FILE and sleep mid-transaction."""
    marker = os.environ.get(_PAUSE_ENV)
    if marker:
        Path(marker).write_text("paused", encoding="utf-8")
        time.sleep(float(os.environ.get("ENVTRACE_LEDGER_TEST_PAUSE_S", "60")))


# --------------------------------------------------------------------------- frames in
def _summary_of(rows: pd.DataFrame, n: int) -> dict[str, Any]:
    """An event's stored summary from its complaints' rows (``_complaints_frame``): counts,
    first and last receipt, mean place, radius (metres, the farthest from it), no footprint
    (the ledger draws a disc of the radius)."""
    from envtrace.geo import distance_bearing

    lon, lat = rows["lon"].to_numpy(float), rows["lat"].to_numpy(float)
    c_lon, c_lat = float(lon.mean()), float(lat.mean())
    keys = rows["complainant_key"].astype(str)
    return {
        "n_complaints": int(n),
        "n_complainants": int(keys[keys != ""].nunique() + (keys == "").sum()),
        "start": min(rows["received_utc"]), "end": max(rows["received_utc"]),
        "lon": c_lon, "lat": c_lat,
        "radius_m": float(distance_bearing(c_lon, c_lat, lon, lat)[0].max()) if len(rows) else None,
        "footprint_wkt": None,
    }


def _complaints_frame(frame: Any, tz: str) -> pd.DataFrame:
    """The whitelisted complaint columns, normalised, with UTC times and a content hash."""
    cols = ["complaint_id", "received_utc", "lon", "lat", "category", "channel", "complainant_key",
            "area", "closed_at", "satisfaction", "duplicate_of", "content_hash"]
    if frame is None or len(frame) == 0:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
    missing = [c for c in ("complaint_id", "received_at", "lon", "lat") if c not in frame]
    if missing:
        raise InputError(f"complaints: missing column(s) {', '.join(missing)}")
    out = pd.DataFrame(index=range(len(frame)))
    out["complaint_id"] = [_s(v) for v in frame["complaint_id"]]
    out["received_utc"] = [_utc(v, tz) for v in frame["received_at"]]
    out["lon"] = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(float)
    out["lat"] = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(float)
    for col in ("category", "channel", "complainant_key", "area", "satisfaction", "duplicate_of"):
        out[col] = [_s(v) for v in frame[col]] if col in frame else ""
    out["satisfaction"] = [SATISFACTION.get(v, "") for v in out["satisfaction"]]
    out["closed_at"] = [_utc(v, tz) for v in frame["closed_at"]] if "closed_at" in frame else None
    bad = (out["complaint_id"] == "") | out["received_utc"].isna() | out["lon"].isna() | out["lat"].isna()
    out = out.loc[~bad].drop_duplicates("complaint_id").reset_index(drop=True)
    out["content_hash"] = [
        hashlib.sha1(f"{t.isoformat()}|{x:.5f}|{y:.5f}|{k}|{c}".encode()).hexdigest()
        for t, x, y, k, c in zip(out["received_utc"], out["lon"], out["lat"], out["complainant_key"],
                                 out["channel"], strict=True)
    ]
    out["closed_at"] = out["closed_at"].astype(object).where(out["closed_at"].notna(), None)
    return out


def _actions_frame(frame: Any) -> pd.DataFrame:
    cols = ["date", "action", "complaint_id", "enterprise_id", "persons", "note"]
    if frame is None or len(frame) == 0:
        return pd.DataFrame(columns=cols)
    if "date" not in frame or "action" not in frame:
        raise InputError("actions: need columns date and action")
    rows = []
    for rec in pd.DataFrame(frame).to_dict("records"):
        try:
            day = _date(rec["date"])
        except InputError:
            continue
        persons = _f(rec.get("persons"))
        rows.append({
            "date": day,
            "action": _s(rec["action"]).lower(),
            "complaint_id": _s(rec.get("complaint_id")),
            "enterprise_id": _s(rec.get("enterprise_id")),
            "persons": int(persons) if persons is not None else 0,
            "note": _mask(_s(rec.get("note"))),
        })
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- recurrence
@dataclasses.dataclass
class _RecurrenceData:
    complaints: pd.DataFrame  # complaint_id, received_at (naive UTC), lon, lat, category, key
    top: pd.DataFrame  # complaint_id, top_enterprise_id, top_score
    suspects: pd.DataFrame  # complaint_id, enterprise_id, rank (<= ACTION_RANKS), score

    @classmethod
    def load(cls, conn: Connection) -> _RecurrenceData:
        c = pd.read_sql(
            sa.select(S.complaints.c.complaint_id, S.complaints.c.received_at, S.complaints.c.lon,
                      S.complaints.c.lat, S.complaints.c.category, S.complaints.c.complainant_key),
            conn,
        )
        c["received_at"] = pd.to_datetime(c["received_at"])
        t = pd.read_sql(
            sa.select(S.event_complaints.c.complaint_id, S.events.c.top_enterprise_id, S.events.c.top_score)
            .join(S.events, S.events.c.cluster_id == S.event_complaints.c.cluster_id),
            conn,
        )
        s = pd.read_sql(
            sa.select(S.event_complaints.c.complaint_id, S.event_suspects.c.enterprise_id, S.event_suspects.c.rank,
                      S.event_suspects.c.score)
            .join(S.event_suspects, S.event_suspects.c.cluster_id == S.event_complaints.c.cluster_id)
            .where(S.event_suspects.c.rank <= ACTION_RANKS),
            conn,
        )
        return cls(c, t, s)

    def recurrence(self, case: Any, closed_at: dt.datetime, until: dt.datetime,
                   rules: LedgerRules) -> tuple[dt.datetime, int] | None:
        """(time the rule was first met, households in that window) or None."""
        stop = min(until, closed_at + dt.timedelta(days=rules.watch_days))
        c = self.complaints
        sel = c.loc[(c["category"] == case.category) & (c["received_at"] > closed_at) & (c["received_at"] <= stop)]
        sel = sel.loc[sel["complainant_key"] != ""]
        if sel.empty:
            return None
        attributable = np.zeros(len(sel), dtype=bool)
        if case.enterprise_id:
            t = self.top
            ids = set(t.loc[(t["top_enterprise_id"] == case.enterprise_id)
                            & (t["top_score"].fillna(0.0) >= rules.min_suspect_score), "complaint_id"])
            sus = self.suspects
            ids |= set(sus.loc[(sus["enterprise_id"] == case.enterprise_id)
                               & (sus["score"].fillna(0.0) >= rules.link_min_score), "complaint_id"])
            attributable |= sel["complaint_id"].isin(ids).to_numpy()
        fp = _footprint(case.footprint_wkt, case.lon, case.lat)
        attributable |= _within_buffer(fp, rules.recurrence_buffer_m, sel["lon"].to_numpy(), sel["lat"].to_numpy())
        sel = sel.loc[attributable].sort_values("received_at")
        window = pd.Timedelta(days=rules.recurrence_window_days)
        times = sel["received_at"].to_numpy()
        keys = sel["complainant_key"].to_numpy()
        for i in range(len(sel)):
            lo = np.searchsorted(times, times[i] - window, side="right")
            n = len(set(keys[lo : i + 1]))
            if n >= rules.recurrence_households:
                return pd.Timestamp(times[i]).to_pydatetime(), n
        return None


# --------------------------------------------------------------------------- cases as of
def _cases_as_of(engine: Engine, rules: LedgerRules, as_of: Any) -> pd.DataFrame:
    tz = rules.tz
    day = _date(as_of) if as_of is not None else _today(tz)
    until = _end_of_day_utc(day, tz)
    cols = ["case_id", "title", "area", "category", "enterprise_id", "enterprise_name", "owner", "opened_at",
            "deadline", "status", "closed_at", "verified_at", "n_events", "n_complaints", "n_households",
            "colour", "reason", "as_of"]
    with engine.connect() as conn:
        cases = conn.execute(
            sa.select(S.cases).where(S.cases.c.opened_at <= until).order_by(S.cases.c.case_id)
        ).all()
        hist = pd.read_sql(
            sa.select(S.status_history)
            .where(S.status_history.c.at <= until, S.status_history.c.field.in_(["status", "deadline", "owner"]))
            .order_by(S.status_history.c.at, S.status_history.c.history_id),
            conn,
        )
        n_events = dict(conn.execute(
            sa.select(S.case_events.c.case_id, sa.func.count()).group_by(S.case_events.c.case_id)
        ).all())
        members = pd.read_sql(
            sa.select(S.case_complaints.c.case_id, S.complaints.c.complainant_key, S.complaints.c.received_at)
            .join(S.complaints, S.complaints.c.complaint_id == S.case_complaints.c.complaint_id),
            conn,
        )
        data = _RecurrenceData.load(conn) if cases else None
    members = members.loc[pd.to_datetime(members["received_at"]) <= until]
    rows = []
    for case in cases:
        h = hist.loc[hist["case_id"] == case.case_id]
        st = h.loc[h["field"] == "status"]
        status = st["new"].iloc[-1] if len(st) else case.status
        dl = h.loc[h["field"] == "deadline"]
        deadline = _date(dl["new"].iloc[-1]) if len(dl) else case.deadline
        ow = h.loc[h["field"] == "owner"]
        owner = ow["new"].iloc[-1] if len(ow) else case.owner
        closed_at = verified_at = None
        if status in DONE_STATUSES:
            closes = st.loc[st["new"] == "closed", "at"]
            closed_at = pd.Timestamp(closes.iloc[-1]).to_pydatetime() if len(closes) else None
        if status == "verified":
            verified_at = pd.Timestamp(st.loc[st["new"] == "verified", "at"].iloc[-1]).to_pydatetime()
        colour, reason = _colour(case, status, deadline, closed_at, st, day, until, rules, data)
        m = members.loc[members["case_id"] == case.case_id]
        rows.append({
            "case_id": case.case_id,
            "title": case.title,
            "area": case.area,
            "category": case.category,
            "enterprise_id": case.enterprise_id,
            "enterprise_name": case.enterprise_name,
            "owner": owner,
            "opened_at": _local(case.opened_at, tz),
            "deadline": deadline,
            "status": status,
            "closed_at": _local(closed_at, tz),
            "verified_at": _local(verified_at, tz),
            "n_events": int(n_events.get(case.case_id, 0)),
            "n_complaints": len(m),
            "n_households": int(m.loc[m["complainant_key"] != "", "complainant_key"].nunique()),
            "colour": colour,
            "reason": reason,
            "as_of": day,
        })
    return pd.DataFrame(rows, columns=cols)


def _colour(case: Any, status: str, deadline: dt.date, closed_at: dt.datetime | None, st: pd.DataFrame,
            day: dt.date, until: dt.datetime, rules: LedgerRules, data: _RecurrenceData | None) -> tuple[str, str]:
    if status in DONE_STATUSES:
        hit = data.recurrence(case, closed_at, until, rules) if (data is not None and closed_at) else None
        if hit is not None:
            return "red", (f"recurrence: {hit[1]} households within {rules.recurrence_window_days} days "
                           f"(by {_local(hit[0], rules.tz).date().isoformat()})")
        if status == "verified":
            return "green", "verified, no recurrence"
        return "blue", "closed, awaiting verification"
    if len(st) and str(st["why"].iloc[-1]).startswith("recurrence"):
        return "red", "reopened on recurrence"
    left = (deadline - day).days
    if left < 0:
        return "red", f"overdue by {-left} days"
    if left <= rules.warn_days:
        return "yellow", f"deadline in {left} days"
    opened = _local(case.opened_at, rules.tz).date()
    if status == "open" and (day - opened).days > rules.step_late_days:
        return "yellow", f"still open after {(day - opened).days} days"
    return "blue", "on track"


# --------------------------------------------------------------------------- KPIs
KPI_NAMES = (
    "received", "closed", "closure_rate", "on_time_rate", "satisfaction_rate", "inspections",
    "inspection_person_times", "penalty_cases", "police_transfers", "recurrences", "cases_opened",
)


def _period(start: Any, end: Any) -> tuple[dt.date, dt.date]:
    if end is None:
        if isinstance(start, str) and re.fullmatch(r"\s*\d{4}-\d{1,2}\s*", start):
            return month_bounds(start)
        raise InputError("give an end date or a month YYYY-MM")
    a, b = _date(start), _date(end)
    if b < a:
        raise InputError(f"period ends ({b}) before it starts ({a})")
    return a, b


def kpis(
    engine: Engine,
    start: Any,
    end: Any = None,
    *,
    by_area: bool = False,
    rules: LedgerRules | None = None,
) -> pd.DataFrame:
    """Key figures for the period ``start``–``end`` (local dates, both inclusive).

    ========================  ===================================================================
    kpi                       definition
    ========================  ===================================================================
    received                  complaints received in the period
    closed                    of those, closed by the end of the period (their own ``closed_at``,
                              else the first closure of their case)
    closure_rate              closed / received
    on_time_rate              closed by the deadline / closed (deadline: the case's, else
                              received + ``complaint_days``)
    satisfaction_rate         (satisfied + partly) / answered, over complaints received
    inspections               inspection actions dated in the period
    inspection_person_times   sum of their ``persons``
    penalty_cases             penalty_case actions in the period
    police_transfers          police_transfer actions in the period
    recurrences               cases reopened on recurrence in the period
    cases_opened              cases opened in the period
    ========================  ===================================================================

    Returns
    -------
    DataFrame
        Long format: ``area, kpi, value, previous, change`` with ``previous`` the value in
        the preceding period of the same length and ``change = value - previous``. Area
        :data:`TOTAL_AREA` is the whole county; with ``by_area`` one block per township
        follows (complaints by their area, actions and cases by their case's area).
    """
    rules = rules or LedgerRules()
    a, b = _period(start, end)
    length = (b - a).days + 1
    pa, pb = a - dt.timedelta(days=length), a - dt.timedelta(days=1)
    tables = _kpi_tables(engine, rules)
    now = _kpi_values(tables, a, b, rules)
    prev = _kpi_values(tables, pa, pb, rules)
    out = []
    areas = [TOTAL_AREA] + (sorted(set(now) | set(prev) - {TOTAL_AREA}) if by_area else [])
    areas = [TOTAL_AREA] + [x for x in areas if x != TOTAL_AREA]
    for area in areas:
        for k in KPI_NAMES:
            v = now.get(area, {}).get(k, 0 if not k.endswith("_rate") else np.nan)
            p = prev.get(area, {}).get(k, 0 if not k.endswith("_rate") else np.nan)
            out.append({"area": area, "kpi": k, "value": float(v), "previous": float(p), "change": float(v) - float(p)})
    df = pd.DataFrame(out, columns=["area", "kpi", "value", "previous", "change"])
    df.attrs["period"] = (a.isoformat(), b.isoformat())
    df.attrs["previous_period"] = (pa.isoformat(), pb.isoformat())
    return df


def _kpi_tables(engine: Engine, rules: LedgerRules) -> dict[str, pd.DataFrame]:
    tz = rules.tz
    with engine.connect() as conn:
        c = pd.read_sql(sa.select(S.complaints.c.complaint_id, S.complaints.c.received_at, S.complaints.c.closed_at,
                                  S.complaints.c.satisfaction, S.complaints.c.area), conn)
        cc = pd.read_sql(sa.select(S.case_complaints.c.complaint_id, S.cases.c.case_id, S.cases.c.deadline)
                         .join(S.cases, S.cases.c.case_id == S.case_complaints.c.case_id), conn)
        cases = pd.read_sql(sa.select(S.cases.c.case_id, S.cases.c.area, S.cases.c.opened_at), conn)
        closes = pd.read_sql(sa.select(S.status_history.c.case_id, sa.func.min(S.status_history.c.at).label("first_close"))
                             .where(S.status_history.c.field == "status", S.status_history.c.new == "closed")
                             .group_by(S.status_history.c.case_id), conn)
        reopen = pd.read_sql(sa.select(S.status_history.c.case_id, S.status_history.c.at)
                             .where(S.status_history.c.field == "status", S.status_history.c.why.like("recurrence%")), conn)
        acts = pd.read_sql(sa.select(S.actions.c.case_id, S.actions.c.complaint_id, S.actions.c.date,
                                     S.actions.c.action, S.actions.c.persons), conn)
    cc = cc.drop_duplicates("complaint_id").merge(closes, on="case_id", how="left")
    c = c.merge(cc, on="complaint_id", how="left")
    c["received_local"] = _local_series(c["received_at"], tz).dt.date
    own = pd.to_datetime(c["closed_at"])
    case_close = pd.to_datetime(c["first_close"])
    c["closed_when"] = own.where(own.notna(), case_close)
    c["closed_local"] = [None if pd.isna(x) else _local(x, tz).date() for x in c["closed_when"]]
    c["deadline_local"] = [
        _date(d) if not pd.isna(d) else r + dt.timedelta(days=rules.complaint_days)
        for d, r in zip(c["deadline"], c["received_local"], strict=True)
    ]
    c["area"] = c["area"].fillna("").astype(object)
    area_of_case = dict(zip(cases["case_id"], cases["area"], strict=True))
    area_of_complaint = dict(zip(c["complaint_id"], c["area"], strict=True))
    acts["area"] = [area_of_case.get(k, "") if isinstance(k, str) and k else area_of_complaint.get(q, "")
                    for k, q in zip(acts["case_id"], acts["complaint_id"], strict=True)]
    acts["day"] = [_date(d) for d in acts["date"]]
    cases["day"] = _local_series(cases["opened_at"], tz).dt.date
    reopen["area"] = [area_of_case.get(k, "") for k in reopen["case_id"]]
    reopen["day"] = _local_series(reopen["at"], tz).dt.date if len(reopen) else []
    return {"complaints": c, "actions": acts, "cases": cases, "reopen": reopen}


def _kpi_values(t: dict[str, pd.DataFrame], a: dt.date, b: dt.date, rules: LedgerRules) -> dict[str, dict[str, float]]:
    c, acts, cases, reopen = t["complaints"], t["actions"], t["cases"], t["reopen"]
    c = c.loc[(c["received_local"] >= a) & (c["received_local"] <= b)]
    acts = acts.loc[[a <= d <= b for d in acts["day"]]] if len(acts) else acts
    cases = cases.loc[(cases["day"] >= a) & (cases["day"] <= b)] if len(cases) else cases
    reopen = reopen.loc[[a <= d <= b for d in reopen["day"]]] if len(reopen) else reopen
    out: dict[str, dict[str, float]] = {}

    def block(cc: pd.DataFrame, aa: pd.DataFrame, ca: pd.DataFrame, ro: pd.DataFrame) -> dict[str, float]:
        closed = [x is not None and x <= b for x in cc["closed_local"]]
        closed_n = int(sum(closed))
        on_time = sum(
            1 for ok, x, d in zip(closed, cc["closed_local"], cc["deadline_local"], strict=True) if ok and x <= d
        )
        answered = cc["satisfaction"].isin(["satisfied", "partly", "unsatisfied"])
        good = cc["satisfaction"].isin(["satisfied", "partly"])
        return {
            "received": len(cc),
            "closed": closed_n,
            "closure_rate": closed_n / len(cc) if len(cc) else np.nan,
            "on_time_rate": on_time / closed_n if closed_n else np.nan,
            "satisfaction_rate": good.sum() / answered.sum() if answered.sum() else np.nan,
            "inspections": int((aa["action"] == "inspection").sum()),
            "inspection_person_times": int(aa.loc[aa["action"] == "inspection", "persons"].sum()),
            "penalty_cases": int((aa["action"] == "penalty_case").sum()),
            "police_transfers": int((aa["action"] == "police_transfer").sum()),
            "recurrences": len(ro),
            "cases_opened": len(ca),
        }

    out[TOTAL_AREA] = block(c, acts, cases, reopen)
    areas = sorted((set(c["area"]) | set(acts["area"]) | set(cases["area"]) | set(reopen["area"])) - {""})
    for area in areas:
        out[area] = block(c.loc[c["area"] == area], acts.loc[acts["area"] == area],
                          cases.loc[cases["area"] == area], reopen.loc[reopen["area"] == area])
    return out


# --------------------------------------------------------------------------- XLSX
XLSX_HEADERS = [
    ("case_id", "案件编号", 16),
    ("title", "问题描述", 40),
    ("area", "所属乡镇", 12),
    ("category", "类别", 8),
    ("enterprise_name", "疑似污染源", 24),
    ("owner", "责任单位/包案领导", 26),
    ("opened_at", "立案日期", 12),
    ("deadline", "办理期限", 12),
    ("status", "状态", 12),
    ("colour", "颜色", 6),
    ("reason", "颜色依据", 30),
    ("n_complaints", "关联投诉数", 10),
    ("n_households", "投诉户数", 10),
    ("closed_at", "结案日期", 12),
    ("verified_at", "核查日期", 12),
]


def _export_xlsx(cases: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    wb = Workbook()
    ws = wb.active
    ws.title = "问题台账"
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.append([h for _, h, _ in XLSX_HEADERS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.fill = PatternFill("solid", fgColor="D9D9D9")
        cell.border = border
    for rec in cases.to_dict("records"):
        values = []
        for key, _, _ in XLSX_HEADERS:
            v = rec.get(key)
            if key == "category":
                v = CATEGORY_ZH.get(v, v)
            elif key == "status":
                v = STATUS_ZH.get(v, v)
            elif key == "colour":
                v = COLOUR_ZH.get(v, v)
            elif key in ("opened_at", "closed_at", "verified_at"):
                v = None if v is None or pd.isna(v) else pd.Timestamp(v).date()
            elif isinstance(v, np.integer):
                v = int(v)
            values.append(v)
        ws.append(values)
        fill = PatternFill("solid", fgColor=COLOUR_FILLS.get(rec["colour"], "FFFFFF"))
        for cell in ws[ws.max_row]:
            cell.fill = fill
            cell.border = border
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    for i, (_, _, width) in enumerate(XLSX_HEADERS, start=1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(path, buf.getvalue())


_IMPORT_HEADERS = {
    "case_id": ("案件编号", "编号", "序号编号", "case_id"),
    "title": ("问题描述", "问题", "投诉内容摘要", "title"),
    "area": ("所属乡镇", "乡镇", "乡镇（街道）", "所属乡镇（街道）", "area"),
    "category": ("类别", "问题类别", "污染类别", "category"),
    "enterprise_name": ("疑似污染源", "涉及企业", "enterprise_name"),
    "owner": ("责任单位/包案领导", "责任单位", "owner"),
    "leader": ("包案领导",),
    "opened_at": ("立案日期", "交办日期", "opened_at"),
    "deadline": ("办理期限", "整改时限", "完成时限", "deadline"),
    "status": ("状态", "办理状态", "status"),
    "closed_at": ("结案日期", "办结日期", "closed_at"),
    "verified_at": ("核查日期", "销号日期", "verified_at"),
    "reason": ("颜色依据", "reason"),
}
_CATEGORY_IN = {**{v: k for k, v in CATEGORY_ZH.items()}, "恶臭": "odour", "臭气": "odour", "废气": "odour",
                "大气": "odour", "噪音": "noise", "粉尘": "dust", "水": "water", "废水": "water", "固体废物": "waste",
                **{k: k for k in CATEGORY_ZH}}
_STATUS_IN = {**{v: k for k, v in STATUS_ZH.items()}, "待办": "open", "未办结": "open", "立案": "open",
              "调查中": "diagnosing", "核查中": "diagnosing", "诊断": "diagnosing", "整改": "rectifying",
              "整改中": "rectifying", "办理中": "rectifying", "已整改": "closed", "办结": "closed", "已结案": "closed",
              "已完成": "closed", "已销号": "verified", "已核查": "verified", "已验收": "verified", "销号": "verified",
              **{k: k for k in STATUSES}}


def _import_xlsx(ledger: Ledger, path: Path, *, by: str) -> int:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.is_file():
        raise InputError(f"no such file: {path}")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise InputError(f"{path.name}: not a readable XLSX ({exc})") from None
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    header_at = next((i for i, r in enumerate(rows[:10]) if any(_s(v) in _IMPORT_HEADERS["case_id"] for v in r)), None)
    if header_at is None:
        raise InputError(f"{path.name}: no 案件编号 column in the first sheet")
    header = [_s(v) for v in rows[header_at]]
    col: dict[str, int] = {}
    for field, names in _IMPORT_HEADERS.items():
        for i, h in enumerate(header):
            if h in names and field not in col:
                col[field] = i
    rules, tz = ledger.rules, ledger.rules.tz
    now = _now_utc()
    changed = 0
    with ledger._write() as conn:
        for row in rows[header_at + 1 :]:
            def get(field: str, row: tuple = row) -> Any:
                i = col.get(field)
                return row[i] if i is not None and i < len(row) else None

            case_id = _s(get("case_id"))
            if not case_id:
                continue
            area = _s(get("area"))
            cat_raw = _s(get("category"))
            category = _CATEGORY_IN.get(cat_raw, next((v for k, v in _CATEGORY_IN.items() if k and k in cat_raw), "other"))
            owner = _s(get("owner"))
            leader = _s(get("leader"))
            if leader and leader not in owner:
                owner = f"{owner}/{leader}" if owner else leader
            rule_owner, days = rules.assign(area, category)
            owner = owner or rule_owner
            opened = _utc(get("opened_at"), tz) if _s(get("opened_at")) else now
            dl_raw = get("deadline")
            deadline = _date(dl_raw) if _s(dl_raw) else _local(opened, tz).date() + dt.timedelta(days=days)
            status_raw = _s(get("status"))
            status = _STATUS_IN.get(status_raw)
            if status is None:
                raise InputError(f"{path.name}: case {case_id}: unknown status {status_raw!r}")
            title = _mask(_s(get("title")))
            why = f"imported from {path.name}"
            old = conn.execute(sa.select(S.cases).where(S.cases.c.case_id == case_id)).first()
            touched = False
            if old is None:
                conn.execute(S.cases.insert().values(
                    case_id=case_id, title=title, area=area, category=category, enterprise_id="",
                    enterprise_name=_s(get("enterprise_name")), owner=owner, opened_at=opened, deadline=deadline,
                    status="open", source="import"))
                ledger._log(conn, case_id, "status", None, "open", opened, by, why)
                ledger._log(conn, case_id, "owner", None, owner, opened, by, why)
                ledger._log(conn, case_id, "deadline", None, deadline.isoformat(), opened, by, why)
                current = "open"
                touched = True
            else:
                current = old.status
                for field, value in (("title", title), ("area", area), ("category", category), ("owner", owner),
                                     ("deadline", deadline)):
                    if value != getattr(old, field) and (value or field == "deadline"):
                        ledger._set(conn, case_id, field, getattr(old, field), value, now, by, why)
                        touched = True
            if status != current:
                for step in _status_path(current, status):
                    at_raw = get("verified_at") if step == "verified" else get("closed_at") if step == "closed" else None
                    at = _utc(at_raw, tz) if _s(at_raw) else (opened if old is None else now)
                    reopened = step == "rectifying" and _s(get("reason")).startswith(("reopened on recurrence",
                                                                                       "recurrence"))
                    ledger._set(conn, case_id, "status", current, step, at, by,
                                f"recurrence ({why})" if reopened else why)
                    current = step
                touched = True
            changed += touched
    return changed


def _status_path(current: str, target: str) -> list[str]:
    """Steps from ``current`` to ``target`` (imports may jump; the trail shows each step)."""
    if target in TRANSITIONS.get(current, ()):
        return [target]
    if target == "verified" and current in OPEN_STATUSES:
        return ["closed", "verified"]
    return [target]
