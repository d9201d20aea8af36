"""Wind: parsing directions and speeds, Pasquill stability, Briggs plume spreads, wind climate.

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

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

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
