"""Dataset configuration (``envtrace.toml``) and column-mapping profiles (YAML).

``envtrace.toml`` sits in a dataset folder; every key is optional::

    tz = "Asia/Shanghai"          # zone of naive times; results are tz-aware in it
    default_crs = "wgs84"         # coordinate system of files without a crs column
    profile = "default"           # a bundled profile name or a YAML file (relative to DIR)
    boundary = "boundary.geojson" # optional study-area polygon (relative to DIR)

    [columns]                     # explicit header mapping: source header = canonical name
    "受理单号" = "complaint_id"

    [events]                      # passed through untouched to envtrace.events
    [attribution]                 # ... to envtrace.attribution
    [ledger]                      # ... to envtrace.ledger

A profile (``--profile NAME|FILE``) is a YAML file describing one source's layout::

    name: smell_pittsburgh
    columns: {epoch time: received_at, skewed latitude: lat, skewed longitude: lon}
    tz: America/New_York          # zone results are expressed in (and naive times are in)
    crs: wgs84                    # coordinate system of the whole file
    time_unit: epoch_s            # auto | epoch_s | epoch_ms | excel | text
    defaults: {channel: app}      # constants for columns absent or empty in the file
    text_columns: [smell description, feelings symptoms, additional comments]
    text_separator: "；"
    intensity_column: smell value # numeric 1-5 rating, becomes ``intensity``
    drop_below_intensity: 2       # rows rated below this are rejected (``below_intensity``)
    drop_columns: [complainant, phone]   # never read these (e.g. no identity in the source)
    speed_unit: m/s               # wind speed unit for wind files (m/s, mph, km/h, knots)
    events:                       # event parameters suited to this kind of source, per
      odour: {eps_m: 1000, window_h: 6, min_complainants: 5}   # category (envtrace.toml wins)

Bundled profiles live in ``envtrace/column_profiles/*.yaml`` (package data).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from envtrace.errors import InputError

__all__ = ["Config", "Profile", "load_config", "load_profile", "PROFILE_DIR"]

PROFILE_DIR = Path(__file__).resolve().parent / "column_profiles"


class Profile(BaseModel):
    """A column-mapping profile for one source layout (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    name: str = "default"
    description: str = ""
    columns: dict[str, str] = Field(default_factory=dict)
    tz: str | None = None
    crs: str | None = None
    time_unit: Literal["auto", "epoch_s", "epoch_ms", "excel", "text"] = "auto"
    defaults: dict[str, str] = Field(default_factory=dict)
    text_columns: list[str] = Field(default_factory=list)
    text_separator: str = "；"
    intensity_column: str | None = None
    drop_below_intensity: float | None = None
    drop_columns: list[str] = Field(default_factory=list)
    speed_unit: str = "m/s"
    events: dict[str, dict[str, float]] = Field(default_factory=dict)


class Config(BaseModel):
    """Settings from a dataset folder's ``envtrace.toml``.

    Attributes
    ----------
    tz : str
        IANA zone for naive input times and for every output time. Default ``Asia/Shanghai``.
    default_crs : str
        Coordinate system of files without a ``crs`` column. Default ``wgs84``.
    columns : dict
        Explicit header mapping ``{source header: canonical column}``.
    profile : str or None
        Bundled profile name or YAML path (relative paths are relative to the folder).
    boundary : str or None
        Study-area polygon file (relative to the folder).
    events, attribution, ledger : dict
        Sections passed through untouched to the modules of those names.
    root : Path or None
        The folder the file was read from (not a TOML key).
    """

    model_config = ConfigDict(extra="allow")

    tz: str = "Asia/Shanghai"
    default_crs: str = "wgs84"
    columns: dict[str, str] = Field(default_factory=dict)
    profile: str | None = None
    boundary: str | None = None
    events: dict[str, Any] = Field(default_factory=dict)
    attribution: dict[str, Any] = Field(default_factory=dict)
    ledger: dict[str, Any] = Field(default_factory=dict)
    root: Path | None = None


def load_config(directory: str | os.PathLike[str] | None = None) -> Config:
    """Read ``envtrace.toml`` from ``directory``; defaults when the file is absent.

    Raises
    ------
    InputError
        If the file exists but is not valid TOML or has a key of the wrong type.
    """
    if directory is None:
        return Config()
    root = Path(directory)
    path = root / "envtrace.toml" if root.is_dir() or not root.suffix else root
    if not path.exists():
        return Config(root=root if root.is_dir() else None)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: not valid TOML ({_first_line(exc)})") from None
    try:
        cfg = Config(**data)
    except ValidationError as exc:
        raise InputError(f"{path.name}: {_pydantic_reason(exc)}") from None
    cfg.root = path.parent
    _check_tz(cfg.tz, where=path.name)
    return cfg


def load_profile(profile: str | os.PathLike[str] | Profile | None, *, base: Path | None = None) -> Profile:
    """A :class:`Profile` from a bundled name (``default``), a YAML path, or ``None``.

    Raises
    ------
    InputError
        Unknown name, unreadable file, or a key the format does not know.
    """
    if profile is None:
        return Profile()
    if isinstance(profile, Profile):
        return profile
    text = str(profile)
    path = Path(text)
    candidates = [path]
    if base is not None and not path.is_absolute():
        candidates.insert(0, base / path)
    found = next((p for p in candidates if p.is_file()), None)
    if found is None and path.suffix == "" and "/" not in text:
        bundled = PROFILE_DIR / f"{text}.yaml"
        if bundled.is_file():
            found = bundled
    if found is None:
        names = sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))
        raise InputError(f"profile {text!r} not found (bundled: {', '.join(names) or 'none'})")
    try:
        data = yaml.safe_load(found.read_text(encoding="utf-8-sig")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"profile {found.name}: not valid YAML ({_first_line(exc)})") from None
    if not isinstance(data, dict):
        raise InputError(f"profile {found.name}: expected a mapping at the top level")
    data = {k: v for k, v in data.items() if v is not None or k in ("drop_below_intensity",)}
    for key in ("columns", "defaults"):
        if isinstance(data.get(key), dict):
            data[key] = {str(k): str(v) for k, v in data[key].items()}
    try:
        prof = Profile(**data)
    except ValidationError as exc:
        raise InputError(f"profile {found.name}: {_pydantic_reason(exc)}") from None
    if prof.tz:
        _check_tz(prof.tz, where=f"profile {found.name}")
    return prof


def _check_tz(tz: str, *, where: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"{where}: unknown time zone {tz!r}") from None


def _first_line(exc: BaseException) -> str:
    s = str(exc).strip()
    return s.splitlines()[0] if s else type(exc).__name__


def _pydantic_reason(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err.get("loc", ()))
    return f"{loc}: {err.get('msg', 'invalid value')}" if loc else err.get("msg", "invalid value")
