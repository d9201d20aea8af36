"""Wind: parsing directions and speeds, Pasquill stability, Briggs plume spreads, wind climate, ESDR exports.

Conventions: the wind direction is the direction the wind blows FROM, in degrees clockwise
from north, in [0, 360); NaN means calm or variable. Speeds are in m/s at 10 m.

Parsing results
---------------
:func:`parse_direction` and :func:`parse_speed` take an ``errors`` keyword:

``"coerce"`` (default)
    Return the float array; what cannot be parsed becomes NaN.
``"mask"``
    Return ``(values, bad)``, ``bad`` a boolean array True where a non-empty value could
    not be parsed (``envtrace.io`` turns those into ``bad_value`` rejects). Empty / missing
    values are NaN but not bad; calm and variable directions are NaN but not bad.
``"raise"``
    Raise ``ValueError`` naming the first unparsable value.

Stability (Pasquill–Gifford classes, Turner's method simplified)
---------------------------------------------------------------
Insolation from the solar elevation h: strong h > 60°, moderate 35° < h <= 60°,
slight 15° < h <= 35°; 0° < h <= 15° is a transition hour, class D; h <= 0° is night.
Intermediate classes of the Pasquill table (A–B, B–C, C–D) are resolved to the more
stable letter.

============  ======  ========  ======  =====================  ====================
u (m/s)       strong  moderate  slight  night, cloud >= 1/2    night, cloud < 1/2
============  ======  ========  ======  =====================  ====================
u < 2         A       B         B       E                      F
2 <= u < 3    B       B         C       E                      F
3 <= u < 5    B       C         C       D                      E
5 <= u < 6    C       D         D       D                      D
u >= 6        C       D         D       D                      D
============  ======  ========  ======  =====================  ====================

Without ``cloud_cover`` nights are taken as clear (the stable, worst case for odour).
With it, cloud >= 1/2 lowers the day insolation by one step, and overcast (>= 7/8) gives D
day and night. Missing wind speed gives D.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from envtrace._atomic import sha256_file

__all__ = [
    "SECTORS",
    "BEAUFORT_MS",
    "parse_direction",
    "parse_speed",
    "solar_elevation",
    "estimate_stability",
    "sigma_y",
    "sigma_z",
    "sector_of",
    "wind_climate",
    "read_esdr",
    "read_wind_manifest",
    "read_wind_any",
    "is_esdr",
    "is_wind_manifest",
]

SECTORS: tuple[str, ...] = (
    "N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
    "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW",
)  # fmt: skip

_ZH_SECTORS: tuple[tuple[str, ...], ...] = (
    ("北",),
    ("北东北", "东北偏北", "北偏东北"),
    ("东北",),
    ("东东北", "东北偏东", "东偏东北"),
    ("东",),
    ("东东南", "东南偏东", "东偏东南"),
    ("东南",),
    ("南东南", "东南偏南", "南偏东南"),
    ("南",),
    ("南西南", "西南偏南", "南偏西南"),
    ("西南",),
    ("西西南", "西南偏西", "西偏西南"),
    ("西",),
    ("西西北", "西北偏西", "西偏西北"),
    ("西北",),
    ("北西北", "西北偏北", "北偏西北"),
)

_CALM = {
    "静风", "无风", "静稳", "calm", "c", "clm", "0级", "零级",
}  # fmt: skip
_VARIABLE = {
    "variable", "vrb", "var", "不定", "风向不定", "旋转风", "微风", "轻风", "软风", "风力微弱",
}  # fmt: skip

_DIRECTION_WORDS: dict[str, float] = {}
for _i, _names in enumerate(_ZH_SECTORS):
    for _n in _names:
        _DIRECTION_WORDS[_n] = _i * 22.5
        _DIRECTION_WORDS["偏" + _n] = _i * 22.5
for _i, _code in enumerate(SECTORS):
    _DIRECTION_WORDS[_code.lower()] = _i * 22.5
_EN_WORDS = (("north", "n"), ("east", "e"), ("south", "s"), ("west", "w"))

#: Beaufort force -> midpoint of its WMO range in m/s (13–17: GB/T 28591-2012 ranges).
BEAUFORT_MS: dict[int, float] = {
    0: 0.1, 1: 0.9, 2: 2.45, 3: 4.4, 4: 6.7, 5: 9.35, 6: 12.3, 7: 15.5, 8: 18.95,
    9: 22.6, 10: 26.45, 11: 30.55, 12: 34.0, 13: 39.2, 14: 43.8, 15: 48.55, 16: 53.5,
    17: 58.65,
}  # fmt: skip
#: Beaufort force -> (lower, upper) of its range in m/s, used for ranges like "3-4级".
_BEAUFORT_RANGE: dict[int, tuple[float, float]] = {
    0: (0.0, 0.2), 1: (0.3, 1.5), 2: (1.6, 3.3), 3: (3.4, 5.4), 4: (5.5, 7.9),
    5: (8.0, 10.7), 6: (10.8, 13.8), 7: (13.9, 17.1), 8: (17.2, 20.7), 9: (20.8, 24.4),
    10: (24.5, 28.4), 11: (28.5, 32.6), 12: (32.7, 35.3), 13: (37.0, 41.4),
    14: (41.5, 46.1), 15: (46.2, 50.9), 16: (51.0, 56.0), 17: (56.1, 61.2),
}  # fmt: skip
_BEAUFORT_NAMES_ZH = {
    "无风": 0, "软风": 1, "轻风": 2, "微风": 3, "和风": 4, "清风": 5, "清劲风": 5,
    "强风": 6, "疾风": 7, "大风": 8, "烈风": 9, "狂风": 10, "暴风": 11, "飓风": 12,
}  # fmt: skip
_ZH_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
    "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip

_UNIT_FACTORS: dict[str, float] = {
    "m/s": 1.0, "ms": 1.0, "m/sec": 1.0, "mps": 1.0, "米/秒": 1.0, "米每秒": 1.0,
    "mph": 0.44704, "mi/h": 0.44704,
    "km/h": 1.0 / 3.6, "kmh": 1.0 / 3.6, "kph": 1.0 / 3.6, "公里/小时": 1.0 / 3.6,
    "千米/小时": 1.0 / 3.6,
    "kn": 0.514444, "kt": 0.514444, "kts": 0.514444, "knot": 0.514444,
    "knots": 0.514444, "节": 0.514444,
}  # fmt: skip


# --------------------------------------------------------------------------- helpers
def _as_object_array(values: Any) -> np.ndarray:
    if isinstance(values, pd.Series | pd.Index):
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
            values.dtype
        ):
            return values.to_numpy(dtype=float, na_value=np.nan)
        arr = values.to_numpy(dtype=object, na_value=None)
    elif isinstance(values, np.ndarray):
        arr = values
    elif isinstance(values, str) or np.isscalar(values) or values is None:
        arr = np.array([values], dtype=object)
    else:
        arr = np.asarray(list(values), dtype=object)
    return arr


def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float | np.floating) and np.isnan(v):
        return True
    return isinstance(v, str) and v.strip() in ("", "-", "--", "nan", "NaN", "NA", "N/A", "null")


def _finish(
    out: np.ndarray, bad: np.ndarray, raw: np.ndarray, errors: str, what: str
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    if errors == "mask":
        return out, bad
    if errors == "raise" and bad.any():
        first = raw.ravel()[np.flatnonzero(bad.ravel())[0]]
        raise ValueError(f"cannot parse {what} {str(first)[:40]!r}")
    if errors not in ("coerce", "raise"):
        raise ValueError(f"errors must be 'coerce', 'mask' or 'raise', not {errors!r}")
    return out


def _parse_each(
    arr: np.ndarray, fn: Callable[[Any], tuple[float, bool]]
) -> tuple[np.ndarray, np.ndarray]:
    out = np.full(arr.shape, np.nan, dtype=float)
    bad = np.zeros(arr.shape, dtype=bool)
    cache: dict[Any, tuple[float, bool]] = {}
    for i, v in enumerate(arr.ravel()):
        try:
            key: Any = v if isinstance(v, str) else float(v)
        except (TypeError, ValueError):
            key = None
        if key is not None and key in cache:
            r = cache[key]
        else:
            r = fn(v)
            if key is not None:
                cache[key] = r
        out.flat[i], bad.flat[i] = r
    return out, bad


# --------------------------------------------------------------------------- direction
_NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _direction_one(v: Any) -> tuple[float, bool]:
    """(degrees or NaN, bad)."""
    if _is_missing(v):
        return np.nan, False
    if isinstance(v, bool):
        return np.nan, True
    if isinstance(v, int | float | np.integer | np.floating):
        return _degrees(float(v))
    s = str(v).strip().casefold()
    s = s.replace("°", "").replace("度", "").strip()
    if _NUM.match(s):
        return _degrees(float(s))
    s = re.sub(r"[\s_\-.]+", "", s)
    if s in _CALM or s in _VARIABLE:
        return np.nan, False
    for suffix in ("风向", "风", "wind", "winds", "erly"):
        if s.endswith(suffix) and len(s) > len(suffix):
            s = s[: -len(suffix)]
            break
    if s in _CALM or s in _VARIABLE:
        return np.nan, False
    if s in _DIRECTION_WORDS:
        return _DIRECTION_WORDS[s], False
    en = s
    for word, letter in _EN_WORDS:
        en = en.replace(word, letter)
    if en in _DIRECTION_WORDS and re.fullmatch(r"[nesw]{1,3}", en):
        return _DIRECTION_WORDS[en], False
    return np.nan, True


def _degrees(x: float) -> tuple[float, bool]:
    if not np.isfinite(x):
        return np.nan, False
    if x < 0.0 or x > 360.0:
        return np.nan, True
    return (0.0 if x == 360.0 else x), False


def parse_direction(
    values: Any, *, errors: str = "coerce"
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Parse wind directions to degrees from north (direction the wind blows FROM).

    Parameters
    ----------
    values : array_like or scalar
        Numbers in degrees (0–360; 360 means north), numeric strings (``"45"``, ``"45°"``),
        16-point Chinese names with or without ``风`` (``北风`` 0, ``北东北风`` / ``东北偏北``
        22.5, ``东北风`` 45, ``东东北`` 67.5, ``东风`` 90, … ``西南偏西`` 247.5; ``偏北风``
        = north), English codes and words (``N``, ``NNE``, ``north-east``, ``Northerly``).
        Calm (``静风``, ``无风``, ``calm``, ``C``) and variable (``variable``, ``VRB``,
        ``风向不定``, ``微风`` as weather sites write it for "light, no set direction")
        give NaN without being bad.
    errors : {"coerce", "mask", "raise"}
        See the module docstring. Numbers outside [0, 360] (e.g. missing-value codes
        like 999) are bad.

    Returns
    -------
    ndarray of float, in [0, 360), or ``(degrees, bad)`` with ``errors="mask"``.
    """
    arr = _as_object_array(values)
    if arr.dtype.kind in "iuf":
        x = arr.astype(float)
        bad = np.isfinite(x) & ((x < 0.0) | (x > 360.0))
        out = np.where(bad, np.nan, np.where(x == 360.0, 0.0, x))
    else:
        out, bad = _parse_each(arr, _direction_one)
    return _finish(out, bad, arr, errors, "wind direction")


# --------------------------------------------------------------------------- speed
def _zh_number(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if s == "十":
        return 10
    if len(s) == 2 and s[0] == "十" and s[1] in _ZH_DIGITS:
        return 10 + _ZH_DIGITS[s[1]]
    if len(s) == 1 and s in _ZH_DIGITS:
        return _ZH_DIGITS[s]
    return None


_BEAUFORT_RE = re.compile(
    r"^(?P<lt><|＜|小于|低于)?(?P<pre>beaufort|bft|force|f)?"
    r"(?P<a>\d+|[零〇一二两三四五六七八九十]+)"
    r"(?:(?:级?)[-~～至到](?P<b>\d+|[零〇一二两三四五六七八九十]+))?"
    r"(?P<unit>级|bft|beaufort)?$"
)
_SPEED_RE = re.compile(r"^(?P<num>[+-]?(\d+(\.\d*)?|\.\d+))(?P<unit>.*)$")


def _speed_one_factory(factor: float) -> Callable[[Any], tuple[float, bool]]:
    def one(v: Any) -> tuple[float, bool]:
        if _is_missing(v):
            return np.nan, False
        if isinstance(v, bool):
            return np.nan, True
        if isinstance(v, int | float | np.integer | np.floating):
            x = float(v) * factor
            return (np.nan, True) if x < 0 else (x, False)
        s = re.sub(r"\s+", "", str(v).strip().casefold())
        if s in _CALM and not any(ch.isdigit() or ch == "零" for ch in s):
            return 0.0, False
        if s in _BEAUFORT_NAMES_ZH:
            return BEAUFORT_MS[_BEAUFORT_NAMES_ZH[s]], False
        m = _BEAUFORT_RE.match(s)
        if m and (m.group("unit") or m.group("pre")):
            a = _zh_number(m.group("a"))
            b = _zh_number(m.group("b")) if m.group("b") else None
            if a is None or a not in BEAUFORT_MS or (b is not None and b not in BEAUFORT_MS):
                return np.nan, True
            if m.group("lt"):  # "<3级": below force 3, i.e. forces 0..a-1
                if a == 0:
                    return np.nan, True
                return (_BEAUFORT_RANGE[0][0] + _BEAUFORT_RANGE[a - 1][1]) / 2.0, False
            if b is not None:
                lo, hi = sorted((a, b))
                return (_BEAUFORT_RANGE[lo][0] + _BEAUFORT_RANGE[hi][1]) / 2.0, False
            return BEAUFORT_MS[a], False
        m2 = _SPEED_RE.match(s)
        if m2:
            unit = m2.group("unit")
            f = factor if unit == "" else _UNIT_FACTORS.get(unit)
            if f is None:
                return np.nan, True
            x = float(m2.group("num")) * f
            return (np.nan, True) if x < 0 else (x, False)
        return np.nan, True

    return one


def parse_speed(
    values: Any, *, unit: str = "m/s", errors: str = "coerce"
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Parse wind speeds to m/s.

    Parameters
    ----------
    values : array_like or scalar
        Numbers in ``unit``; strings with their own unit (``"5 km/h"``, ``"10kn"``,
        ``"3.2m/s"``); Beaufort forces ``3级``, ``3 级``, ``三级``, ``Beaufort 3``, ``F3``
        give the midpoint of the WMO range (:data:`BEAUFORT_MS`: 3 → 4.4 m/s); ranges
        ``3-4级`` give the midpoint of the joint range (3.4–7.9 → 5.65 m/s); ``<3级``
        the midpoint of 0–3.3 (1.65 m/s); Chinese force names (``和风`` = 4; ``微风`` = 3
        as in GB/T 28591); ``静风`` / ``无风`` / calm = 0 (but ``0级`` = 0.1).
    unit : {"m/s", "mph", "km/h", "knots"}
        Unit of bare numbers (mph × 0.44704, km/h ÷ 3.6, knots × 0.514444).
    errors : {"coerce", "mask", "raise"}
        See the module docstring. Negative speeds are bad.

    Returns
    -------
    ndarray of float (m/s), or ``(speeds, bad)`` with ``errors="mask"``.
    """
    key = re.sub(r"\s+", "", unit.strip().casefold())
    if key in ("knot",):
        key = "knots"
    if key not in _UNIT_FACTORS:
        raise ValueError(f"unknown speed unit {unit!r}")
    factor = _UNIT_FACTORS[key]
    arr = _as_object_array(values)
    if arr.dtype.kind in "iuf":
        x = arr.astype(float) * factor
        bad = np.isfinite(x) & (x < 0.0)
        out = np.where(bad, np.nan, x)
    else:
        out, bad = _parse_each(arr, _speed_one_factory(factor))
    return _finish(out, bad, arr, errors, "wind speed")


# --------------------------------------------------------------------------- stability
def _utc_times(time: Any, tz: str) -> pd.DatetimeIndex:
    if isinstance(time, pd.Series):
        idx = pd.DatetimeIndex(time)
    else:
        idx = pd.DatetimeIndex(pd.to_datetime(np.atleast_1d(np.asarray(time, dtype=object))))
    if idx.tz is None:
        idx = idx.tz_localize(tz)
    return idx.tz_convert("UTC")


def solar_elevation(time: Any, lat: Any, lon: Any, *, tz: str = "Asia/Shanghai") -> np.ndarray:
    """Solar elevation angle in degrees (NOAA general solar position formulas, ±0.5°).

    Parameters
    ----------
    time : array_like of datetimes
        Aware times, or naive times in ``tz``.
    lat, lon : float or array_like
        Degrees (WGS84), broadcast against ``time``.
    """
    t = _utc_times(time, tz)
    doy = t.day_of_year.to_numpy(dtype=float)
    hour = (
        t.hour.to_numpy(dtype=float)
        + t.minute.to_numpy(dtype=float) / 60.0
        + t.second.to_numpy(dtype=float) / 3600.0
    )
    gamma = 2.0 * np.pi / 365.0 * (doy - 1.0 + (hour - 12.0) / 24.0)
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * np.cos(gamma)
        - 0.032077 * np.sin(gamma)
        - 0.014615 * np.cos(2 * gamma)
        - 0.040849 * np.sin(2 * gamma)
    )
    decl = (
        0.006918
        - 0.399912 * np.cos(gamma)
        + 0.070257 * np.sin(gamma)
        - 0.006758 * np.cos(2 * gamma)
        + 0.000907 * np.sin(2 * gamma)
        - 0.002697 * np.cos(3 * gamma)
        + 0.00148 * np.sin(3 * gamma)
    )
    lat_r = np.radians(np.asarray(lat, dtype=float))
    lon_d = np.asarray(lon, dtype=float)
    true_solar_min = hour * 60.0 + eqtime + 4.0 * lon_d
    ha = np.radians(true_solar_min / 4.0 - 180.0)
    cos_zen = np.sin(lat_r) * np.sin(decl) + np.cos(lat_r) * np.cos(decl) * np.cos(ha)
    elev = 90.0 - np.degrees(np.arccos(np.clip(cos_zen, -1.0, 1.0)))
    nat = np.asarray(t.isna())
    return np.where(nat, np.nan, elev)


#               u<2  2-3  3-5  5-6  >=6
_DAY = {
    3: np.array(list("ABBCC")),  # strong
    2: np.array(list("BBCDD")),  # moderate
    1: np.array(list("BCCDD")),  # slight
}
_NIGHT_CLEAR = np.array(list("FFEDD"))
_NIGHT_CLOUDY = np.array(list("EEDDD"))


def estimate_stability(
    time: Any,
    wind_speed_ms: Any,
    *,
    lat: Any,
    lon: Any,
    cloud_cover: Any = None,
    tz: str = "Asia/Shanghai",
) -> np.ndarray:
    """Pasquill–Gifford stability class (``"A"``–``"F"``) per hour.

    Parameters
    ----------
    time : array_like of datetimes
        Aware, or naive in ``tz``. The sun is taken at the given instant (pass hour
        middles if you want the hour's mean position).
    wind_speed_ms : array_like
        10 m wind speed, m/s (NaN gives D).
    lat, lon : float or array_like
        Station or study-area position, degrees.
    cloud_cover : array_like, optional
        Cloud fraction 0–1 (values above 1 are read as oktas, 0–8).

    Returns
    -------
    ndarray of str
        One letter per hour; the table is in the module docstring.
    """
    elev = solar_elevation(time, lat, lon, tz=tz)
    u = np.broadcast_to(np.asarray(wind_speed_ms, dtype=float), elev.shape)
    col = np.select([u < 2.0, u < 3.0, u < 5.0, u < 6.0], [0, 1, 2, 3], default=4)
    ins = np.select([elev > 60.0, elev > 35.0, elev > 15.0], [3, 2, 1], default=0)
    if cloud_cover is not None:
        cc = np.broadcast_to(np.asarray(cloud_cover, dtype=float), elev.shape).copy()
        cc = np.where(cc > 1.0, cc / 8.0, cc)
        cloudy = np.isfinite(cc) & (cc >= 0.5)
        overcast = np.isfinite(cc) & (cc >= 7.0 / 8.0)
    else:
        cloudy = np.zeros(elev.shape, dtype=bool)
        overcast = np.zeros(elev.shape, dtype=bool)
    ins = np.where(cloudy & (ins > 0), np.maximum(ins - 1, 1), ins)
    out = np.full(elev.shape, "D", dtype="<U1")
    for level, row in _DAY.items():
        m = ins == level
        out[m] = row[col[m]]
    night = elev <= 0.0
    out[night & ~cloudy] = _NIGHT_CLEAR[col[night & ~cloudy]]
    out[night & cloudy] = _NIGHT_CLOUDY[col[night & cloudy]]
    out[(elev > 0.0) & (elev <= 15.0)] = "D"
    out[overcast] = "D"
    out[~np.isfinite(u) | ~np.isfinite(elev)] = "D"
    return out.astype(object)


# --------------------------------------------------------------------------- Briggs
# Briggs (1973) open-country: sigma = a*x*(1+b*x)^p
_SY = {
    "A": (0.22, 0.0001, -0.5),
    "B": (0.16, 0.0001, -0.5),
    "C": (0.11, 0.0001, -0.5),
    "D": (0.08, 0.0001, -0.5),
    "E": (0.06, 0.0001, -0.5),
    "F": (0.04, 0.0001, -0.5),
}
_SZ = {
    "A": (0.20, 0.0, 1.0),
    "B": (0.12, 0.0, 1.0),
    "C": (0.08, 0.0002, -0.5),
    "D": (0.06, 0.0015, -0.5),
    "E": (0.03, 0.0003, -1.0),
    "F": (0.016, 0.0003, -1.0),
}


def _briggs(distance_m: Any, stability: Any, table: dict) -> np.ndarray:
    x = np.asarray(distance_m, dtype=float)
    s = np.asarray(stability, dtype=object)
    x, s = np.broadcast_arrays(x, s)
    s = np.char.upper(np.char.strip(s.astype(str)))
    out = np.full(x.shape, np.nan, dtype=float)
    for letter, (a, b, p) in table.items():
        m = s == letter
        if m.any():
            xm = x[m]
            out[m] = a * xm * (1.0 + b * xm) ** p
    out[x < 0] = np.nan
    return out if out.ndim else out[()]


def sigma_y(distance_m: Any, stability: Any) -> np.ndarray:
    """Horizontal plume spread (m), Briggs (1973) open country.

    ``sigma_y = a·x / sqrt(1 + 0.0001·x)`` with a = 0.22, 0.16, 0.11, 0.08, 0.06, 0.04
    for A–F. Vectorised over distance (m) and stability (letters, or one letter);
    unknown letters and negative distances give NaN.
    """
    return _briggs(distance_m, stability, _SY)


def sigma_z(distance_m: Any, stability: Any) -> np.ndarray:
    """Vertical plume spread (m), Briggs (1973) open country.

    A 0.20x; B 0.12x; C 0.08x(1+0.0002x)^-1/2; D 0.06x(1+0.0015x)^-1/2;
    E 0.03x(1+0.0003x)^-1; F 0.016x(1+0.0003x)^-1. Arguments as :func:`sigma_y`.
    """
    return _briggs(distance_m, stability, _SZ)


# --------------------------------------------------------------------------- climate
def sector_of(deg: Any) -> np.ndarray:
    """Index 0–15 of the 16-point sector (0 = N, centred on 0°); -1 for NaN."""
    d = np.asarray(deg, dtype=float)
    idx = np.floor(np.mod(d + 11.25, 360.0) / 22.5)
    return np.where(np.isfinite(d), idx, -1).astype(int)


def wind_climate(wind: pd.DataFrame, *, calm_ms: float = 0.5) -> pd.DataFrame:
    """Share of hours per 16 direction sectors, and of calm hours.

    Parameters
    ----------
    wind : DataFrame
        With ``wind_dir_deg`` (FROM, degrees) and ``wind_speed_ms``.
    calm_ms : float
        Speeds below this (m/s) count as calm (0.5 m/s, as HJ 2.2-2018 defines 静风), as do
        NaN directions with a known speed.

    Returns
    -------
    DataFrame
        17 rows: the sectors ``N`` … ``NNW`` then ``calm``; columns ``sector``,
        ``dir_deg`` (sector centre, NaN for calm), ``hours``, ``share`` (of hours with a
        usable observation; sums to 1), ``mean_speed_ms``. Hours with neither direction nor
        speed are left out.
    """
    d = pd.to_numeric(wind["wind_dir_deg"], errors="coerce").to_numpy(dtype=float)
    u = pd.to_numeric(wind["wind_speed_ms"], errors="coerce").to_numpy(dtype=float)
    calm = (np.isfinite(u) & (u < calm_ms)) | (~np.isfinite(d) & np.isfinite(u))
    usable = calm | np.isfinite(d)
    sec = np.where(calm, 16, sector_of(d))
    sec = sec[usable]
    uu = u[usable]
    hours = np.bincount(sec, minlength=17).astype(float)
    speed_sum = np.bincount(sec, weights=np.nan_to_num(uu), minlength=17)
    speed_n = np.bincount(sec, weights=np.isfinite(uu).astype(float), minlength=17)
    total = hours.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_speed = np.where(speed_n > 0, speed_sum / speed_n, np.nan)
    return pd.DataFrame(
        {
            "sector": [*SECTORS, "calm"],
            "dir_deg": [*(np.arange(16) * 22.5), np.nan],
            "hours": hours.astype(int),
            "share": hours / total if total > 0 else np.zeros(17),
            "mean_speed_ms": mean_speed,
        }
    )


# --------------------------------------------------------------------------- ESDR exports
# ESDR (Environmental Sensor Data Repository, CMU CREATE Lab; esdr.cmucreatelab.org) CSV
# exports, e.g. Allegheny County Health Department monitors used by Smell Pittsburgh:
#
#   EpochTime,3.feed_28.H2S_PPM,...,3.feed_28.SONICWD_DEG,3.feed_28.SONICWS_MPH
#   1477891800,0.0,...,351.0,4.7
#
# Time stamps: ESDR stamps an hourly average at the MIDDLE of its averaging hour, so a
# stamp hh:30 stands for the hour hh:00-hh:59 and the Wind frame's ``time`` (hour start)
# is the stamp floored to the hour. Flooring is done on the UTC instant; in every zone
# with whole-hour offsets (America/New_York included) that is the local hour too.
ESDR_TIME_COLUMN = "EpochTime"
ESDR_DIR_SUFFIX = "SONICWD_DEG"
ESDR_SPEED_SUFFIXES: dict[str, str] = {
    "SONICWS_MPH": "mph", "WS_MPH": "mph", "_MPH": "mph",
    "_M_S": "m/s", "_MS": "m/s", "_KMH": "km/h", "_KPH": "km/h", "_KNOTS": "knots", "_KT": "knots",
}
MANIFEST_COLUMNS: tuple[str, ...] = ("station_id", "lat", "lon", "file", "wind_dir_column", "wind_speed_column")
_WIND_COLUMNS = ["time", "wind_dir_deg", "wind_speed_ms", "station_id", "lon", "lat", "stability"]
_REJECT_COLUMNS = ["source_file", "source_row", "record_id", "reason"]


def _input_error(reason: str) -> Exception:
    from envtrace.errors import InputError

    return InputError(reason)


def _pick_column(columns: list[str], given: str | None, suffixes: tuple[str, ...], what: str, name: str) -> str:
    if given is not None:
        if given not in columns:
            raise _input_error(f"{name}: no column {given!r} ({what})")
        return given
    found = [c for c in columns if any(c.upper().endswith(s) for s in suffixes)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise _input_error(f"{name}: no {what} column (*{suffixes[0]}); name it explicitly")
    raise _input_error(f"{name}: several {what} columns ({', '.join(found)}); name one explicitly")


def _speed_unit_of(column: str) -> str | None:
    up = column.upper()
    for suffix, unit in ESDR_SPEED_SUFFIXES.items():
        if up.endswith(suffix):
            return unit
    return None


def is_esdr(columns: Any) -> bool:
    """True when a header looks like an ESDR export (``EpochTime`` and ``*SONICWD_DEG``)."""
    cols = [str(c).strip() for c in columns]
    return ESDR_TIME_COLUMN in cols and any(c.upper().endswith(ESDR_DIR_SUFFIX) for c in cols)


def is_wind_manifest(columns: Any) -> bool:
    """True when a header looks like a station manifest (``file`` and ``wind_dir_column``)."""
    cols = {str(c).strip().casefold() for c in columns}
    return {"file", "wind_dir_column"} <= cols


def _esdr_result(
    path: str | os.PathLike[str] | pd.DataFrame,
    *,
    station_id: str,
    lon: float,
    lat: float,
    dir_column: str | None,
    speed_column: str | None,
    speed_unit: str | None,
    time_column: str,
    tz: str,
    source_name: str | None = None,
    centre: tuple[float, float] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """ESDR export -> (Wind frame with ``source_file, source_row``, rejects, summary)."""
    if isinstance(path, pd.DataFrame):
        raw, name = path, source_name or "<frame>"
    else:
        from envtrace.io import read_table

        raw, name = read_table(path), source_name or Path(path).name
    raw = raw.rename(columns=lambda c: str(c).strip())
    cols = list(raw.columns)
    if time_column not in cols:
        raise _input_error(f"{name}: no {time_column} column (not an ESDR export)")
    dcol = _pick_column(cols, dir_column, (ESDR_DIR_SUFFIX,), "wind direction", name)
    scol = _pick_column(cols, speed_column, tuple(ESDR_SPEED_SUFFIXES), "wind speed", name)
    unit = speed_unit or _speed_unit_of(scol)
    if unit is None:
        raise _input_error(f"{name}: unit of {scol!r} unknown (give speed_unit: m/s, mph, km/h, knots)")
    n = len(raw)
    reason = np.full(n, "", dtype=object)

    def reject(mask: np.ndarray, code: str) -> None:
        m = mask & (reason == "")
        reason[m] = code

    t_txt = raw[time_column].astype(str).str.strip()
    epoch = pd.to_numeric(t_txt, errors="coerce").to_numpy(dtype=float)
    reject((t_txt == "").to_numpy() | raw[time_column].isna().to_numpy(), "missing_time")
    reject(~np.isfinite(epoch) | (epoch < 86400.0) | (epoch >= 4102444800.0), "unparsable_time")
    s_txt = raw[scol].astype(str).str.strip().replace({"nan": "", "NaN": "", "None": ""})
    spd, s_bad = parse_speed(pd.to_numeric(s_txt, errors="coerce").to_numpy(dtype=float), unit=unit, errors="mask")
    s_bad = np.asarray(s_bad, dtype=bool) | ((s_txt != "").to_numpy() & ~np.isfinite(spd))
    reject((s_txt == "").to_numpy() | s_bad, "bad_value: wind_speed")
    d_txt = raw[dcol].astype(str).str.strip().replace({"nan": "", "NaN": "", "None": ""})
    d_num = pd.to_numeric(d_txt, errors="coerce").to_numpy(dtype=float)
    d_bad = (d_txt != "").to_numpy() & (~np.isfinite(d_num) | (d_num < 0) | (d_num > 360))
    reject(d_bad, "bad_value: wind_dir")
    deg = np.where(np.isfinite(d_num) & ~d_bad, np.mod(d_num, 360.0), np.nan)
    ok = reason == ""
    hour_ns = np.zeros(n, dtype=np.int64)
    hour_ns[ok] = (np.floor(epoch[ok] / 3600.0) * 3600.0).astype(np.int64) * 1_000_000_000
    # a second row for the same hour: the first (in file order) is kept
    dup = np.zeros(n, dtype=bool)
    idx = np.flatnonzero(ok)
    dup[idx[pd.Series(hour_ns[idx]).duplicated(keep="first").to_numpy()]] = True
    reject(dup, "duplicate_id: time")
    sel = np.flatnonzero(reason == "")
    order = sel[np.argsort(hour_ns[sel], kind="stable")]
    time = pd.Series(pd.DatetimeIndex(hour_ns[order].astype("datetime64[ns]"), tz="UTC").tz_convert(tz))
    u = np.asarray(spd, dtype=float)[order]
    slon, slat = (float(lon), float(lat)) if np.isfinite(lon) and np.isfinite(lat) else (centre or (np.nan, np.nan))
    if np.isfinite(slon) and np.isfinite(slat):
        stab = estimate_stability(time + pd.Timedelta(minutes=30), u, lat=slat, lon=slon, tz=tz)
    else:  # no position to put the sun at: neutral
        stab = np.full(len(order), "D", dtype=object)
    frame = pd.DataFrame(
        {
            "time": time,
            "wind_dir_deg": deg[order],
            "wind_speed_ms": u,
            "station_id": pd.Series([str(station_id)] * len(order), dtype="str"),
            "lon": np.full(len(order), float(lon)),
            "lat": np.full(len(order), float(lat)),
            "stability": pd.Series(np.asarray(stab, dtype=object), dtype="str"),
            "source_file": pd.Series([name] * len(order), dtype="str"),
            "source_row": pd.Series(order + 1, dtype="int64"),
        }
    )
    bad = np.flatnonzero(reason != "")
    rejects = pd.DataFrame(
        {
            "source_file": pd.Series([name] * len(bad), dtype="str"),
            "source_row": pd.Series(bad + 1, dtype="int64"),
            "record_id": pd.Series([str(station_id)] * len(bad), dtype="str"),
            "reason": pd.Series(reason[bad], dtype="str"),
        }
    )
    codes = pd.Series(reason[bad], dtype="str").str.split(":").str[0]
    summary: dict[str, Any] = {
        "file": name,
        "rows_read": int(n),
        "rows_accepted": int(len(order)),
        "rows_rejected": int(len(bad)),
        "rejects_by_reason": {str(k): int(v) for k, v in codes.value_counts().sort_index().items()},
        "station_id": str(station_id),
        "wind_dir_column": dcol,
        "wind_speed_column": scol,
        "speed_unit": unit,
        "out_of_order_rows": int((np.diff(epoch[ok]) < 0).sum()) if ok.sum() > 1 else 0,
        "first_hour": time.iloc[0].isoformat() if len(time) else None,
        "last_hour": time.iloc[-1].isoformat() if len(time) else None,
        "warnings": [],
    }
    return frame, rejects, summary


def read_esdr(
    path: str | os.PathLike[str] | pd.DataFrame,
    *,
    station_id: str,
    lon: float,
    lat: float,
    dir_column: str | None = None,
    speed_column: str | None = None,
    speed_unit: str | None = None,
    time_column: str = ESDR_TIME_COLUMN,
    tz: str = "Asia/Shanghai",
) -> pd.DataFrame:
    """Read one station's hourly wind from an ESDR CSV export.

    Parameters
    ----------
    path : path-like or DataFrame
        The export (``EpochTime`` + ``<feed>.<channel>`` columns), or a frame of it.
    station_id : str
        Id given to every row (e.g. the ESDR feed number ``"28"``).
    lon, lat : float
        Station position, WGS84 degrees.
    dir_column : str, optional
        Direction column (degrees the wind blows FROM). Default: the one column whose
        name ends with ``SONICWD_DEG``.
    speed_column : str, optional
        Speed column. Default: the one column ending with ``SONICWS_MPH`` (or another
        unit suffix: ``_MPH``, ``_MS``/``_M_S``, ``_KMH``/``_KPH``, ``_KNOTS``/``_KT``).
    speed_unit : {"m/s", "mph", "km/h", "knots"}, optional
        Unit of the speed column; default from its suffix (``*_MPH``: mph, × 0.44704).
    time_column : str
        Unix seconds (UTC), default ``EpochTime``.
    tz : str
        Zone the times are expressed in (the instants do not depend on it).

    Returns
    -------
    DataFrame
        Wind frame ``time, wind_dir_deg, wind_speed_ms, station_id, lon, lat, stability``
        (+ ``source_file, source_row``, data rows from 1), sorted by time (exports may be
        out of order). ``time`` is the hour start: ESDR stamps an hourly average at the
        middle of its hour, so ``hh:30`` → ``hh:00`` (the UTC instant floored to the
        hour). Stability is estimated at the station (:func:`estimate_stability`, sun
        at mid-hour). Hours missing from the export are simply absent (gaps).

        Rows dropped, with reasons, are in ``frame.attrs["rejects"]`` (``source_file,
        source_row, record_id, reason``): ``missing_time`` / ``unparsable_time``;
        ``bad_value: wind_speed`` (empty, non-numeric or negative speed: no wind that
        hour); ``bad_value: wind_dir`` (non-numeric, or outside 0–360; an EMPTY
        direction with a speed is kept as NaN = calm/variable); ``duplicate_id: time``
        (a second row for the same hour). ``frame.attrs["summary"]`` has the counts.

    Raises
    ------
    envtrace.errors.InputError
        No time column, no (or several candidate) wind columns, unknown speed unit.
    """
    frame, rejects, summary = _esdr_result(
        path, station_id=station_id, lon=lon, lat=lat, dir_column=dir_column,
        speed_column=speed_column, speed_unit=speed_unit, time_column=time_column, tz=tz,
    )
    frame.attrs["rejects"] = rejects
    frame.attrs["summary"] = summary
    return frame


def _manifest_result(
    path: str | os.PathLike[str], *, tz: str
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    from envtrace.io import read_table

    p = Path(path)
    man = read_table(p).rename(columns=lambda c: str(c).strip().casefold())
    missing = [c for c in ("station_id", "lat", "lon", "file", "wind_dir_column") if c not in man]
    if missing:
        raise _input_error(f"{p.name}: wind manifest lacks column(s) {', '.join(missing)}")
    if len(man) == 0:
        raise _input_error(f"{p.name}: wind manifest lists no station")
    frames, rejects, per_file, warn = [], [], {}, []
    for i, row in enumerate(man.to_dict("records"), start=1):
        sid = str(row["station_id"]).strip()
        lon, lat = pd.to_numeric(pd.Series([row["lon"], row["lat"]]), errors="coerce").to_numpy(dtype=float)
        if not sid or not (np.isfinite(lon) and np.isfinite(lat)) or abs(lat) > 90 or abs(lon) > 180:
            raise _input_error(f"{p.name}: row {i}: station_id, lon and lat must be given (WGS84 degrees)")
        f = Path(str(row["file"]).strip())
        f = f if f.is_absolute() else p.parent / f
        if not f.is_file():
            raise _input_error(f"{p.name}: row {i}: {f.name}: no such file")
        fr, rj, sm = _esdr_result(
            f, station_id=sid, lon=float(lon), lat=float(lat),
            dir_column=str(row.get("wind_dir_column") or "").strip() or None,
            speed_column=str(row.get("wind_speed_column") or "").strip() or None,
            speed_unit=str(row.get("speed_unit") or "").strip() or None,
            time_column=str(row.get("time_column") or "").strip() or ESDR_TIME_COLUMN, tz=tz,
        )
        frames.append(fr)
        rejects.append(rj)
        key = sm["file"] if sm["file"] not in per_file else f"{sm['file']} (station {sid})"
        per_file[key] = {k: v for k, v in sm.items() if k not in ("file", "warnings")}
        per_file[key]["sha256"] = sha256_file(f)
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.sort_values(["station_id", "time"], kind="stable").reset_index(drop=True)
    rej = pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame(columns=_REJECT_COLUMNS)
    codes = rej["reason"].astype(str).str.split(":").str[0] if len(rej) else pd.Series([], dtype="str")
    summary: dict[str, Any] = {
        "file": p.name,
        "rows_read": int(sum(v["rows_read"] for v in per_file.values())),
        "rows_accepted": int(len(frame)),
        "rows_rejected": int(len(rej)),
        "rejects_by_reason": {str(k): int(v) for k, v in codes.value_counts().sort_index().items()},
        "stations": {v["station_id"]: f for f, v in per_file.items()},
        "station_files": per_file,
        "warnings": warn,
    }
    return frame, rej, summary


def read_wind_manifest(path: str | os.PathLike[str], *, tz: str = "Asia/Shanghai") -> pd.DataFrame:
    """Read every station listed in a wind manifest (e.g. Smell Pittsburgh's ``monitors.csv``).

    The manifest is a CSV with one row per station: ``station_id, lat, lon, file,
    wind_dir_column, wind_speed_column`` (+ optional ``name``, ``speed_unit``,
    ``time_column``). ``file`` is an ESDR export (see :func:`read_esdr`); a relative
    path is resolved against the manifest's folder. Empty column names fall back to
    :func:`read_esdr`'s auto-detection.

    Returns
    -------
    DataFrame
        One Wind frame for all stations, sorted by ``station_id`` then ``time``, with
        ``source_file, source_row`` of the station file. ``attrs["rejects"]`` holds every
        station file's rejected rows; ``attrs["summary"]`` the counts per file.

    Raises
    ------
    envtrace.errors.InputError
        Missing manifest columns, a listed file that does not exist, or an unusable export.
    """
    frame, rejects, summary = _manifest_result(path, tz=tz)
    frame.attrs["rejects"] = rejects
    frame.attrs["summary"] = summary
    return frame


def _header(path: Path) -> list[str]:
    """Column names of a CSV (first line only) or an XLSX file."""
    if path.suffix.casefold() == ".xlsx":
        from envtrace.io import read_table

        return list(read_table(path).columns)
    import csv

    with open(path, "rb") as fh:
        first = fh.readline(1 << 16)
    for enc in ("utf-8-sig", "gb18030"):
        try:
            line = first.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        return []
    rows = list(csv.reader([line]))
    return [c.strip() for c in rows[0]] if rows else []


def read_wind_any(
    path: str | os.PathLike[str],
    *,
    tz: str = "Asia/Shanghai",
    columns: Any = None,
    centre: tuple[float, float] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]] | None:
    """ESDR export or manifest → ``(frame, rejects, summary)``; ``None`` for any other file.

    Used by :func:`envtrace.io.read_wind` (so ``--wind`` accepts all three): an ESDR
    export is recognised by ``EpochTime`` and a ``*SONICWD_DEG`` column; it then needs a
    station position, so a bare ESDR export is read with ``station_id`` from the file
    name and NaN position (prefer a manifest). A manifest by ``file`` and
    ``wind_dir_column``. ``columns`` are the file's headers when already known.
    """
    p = Path(path)
    if columns is None:
        if p.suffix.casefold() not in (".csv", ".txt", ".xlsx") or not p.is_file():
            return None
        columns = _header(p)
    if is_wind_manifest(columns):
        return _manifest_result(path, tz=tz)
    if is_esdr(columns):
        sid = re.sub(r"^esdr_", "", p.stem)
        fr, rj, sm = _esdr_result(path, station_id=sid, lon=np.nan, lat=np.nan, dir_column=None,
                                  speed_column=None, speed_unit=None, time_column=ESDR_TIME_COLUMN,
                                  tz=tz, centre=centre)
        sm["warnings"].append(f"{p.name}: ESDR export without a station position "
                              "(station_id from the file name); a wind manifest gives positions")
        return fr, rj, sm
    return None
