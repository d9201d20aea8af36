"""Coordinates: Chinese datum shifts, a local metric projection, distances and the study area.

Everything inside envtrace is WGS84 longitude/latitude in degrees. Inputs may come in

``wgs84``
    GPS, most GIS exports (EPSG:4326).
``gcj02``
    "Mars coordinates" (火星坐标, 国测局), used by AMap/高德, Tencent and most Chinese apps.
``bd09``
    Baidu's coordinates (百度坐标, ``bd09ll``), GCJ-02 with a further published shift.
``cgcs2000``
    China Geodetic Coordinate System 2000 (EPSG:4490). It differs from WGS84 (G1762) by a
    few centimetres, far below any complaint's accuracy, so it is treated as WGS84.

Decision on the GCJ-02 / BD-09 transforms
-----------------------------------------
The PyPI packages that implement them (``coord-convert`` 0.2.1 from 2019, ``eviltransform``
0.1.1 from 2018, ``pygcj`` 0.0.2 from 2020) are unmaintained and work one point at a time,
and ``pyproj`` does not know GCJ-02 at all. The transforms are a couple of dozen lines, so
they are written here, vectorised with numpy:

* WGS84 -> GCJ-02: the published (leaked) formula on the Krasovsky ellipsoid
  (a = 6378245 m, e² = 0.00669342162296594323); points outside China's bounding box
  (lon 72.004–137.8347, lat 0.8293–55.8271, the box used by every public implementation)
  are left unchanged.
* GCJ-02 -> BD-09: Baidu's published formula with ``x_pi = π·3000/180``.
* The inverses have no closed form. They are solved by fixed-point iteration
  ``w <- w - (f(w) - g)``, which converges because the offset's derivative is tiny
  (about 1e-3), until every point moves by less than 1e-10 degrees (about 1e-5 m); the
  round-trip error is below 1 mm, as ``tests/test_geo.py`` checks with hypothesis over all
  of China.

Metric work uses :func:`local_crs`, an azimuthal equidistant projection centred on the
median of the study points: distances from the centre are exact, and distortion within
50 km of it is below 0.002 %, with no UTM zone edge to fall across.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = [
    "CANONICAL_CRS",
    "normalise_crs",
    "normalise_crs_array",
    "from_wgs84",
    "to_wgs84",
    "local_crs",
    "project",
    "unproject",
    "distance_bearing",
    "study_area",
    "in_area",
]

CANONICAL_CRS: tuple[str, ...] = ("wgs84", "gcj02", "bd09", "cgcs2000")

_ALIASES: dict[str, str] = {}
for _canon, _names in {
    "wgs84": [
        "wgs84",
        "wgs-84",
        "wgs 84",
        "epsg:4326",
        "4326",
        "gps",
        "wgs",
        "wgs1984",
        "wgs_1984",
        "世界大地坐标系",
        "gps坐标",
    ],
    "gcj02": [
        "gcj02",
        "gcj-02",
        "gcj",
        "gcj2",
        "火星坐标",
        "火星坐标系",
        "火星",
        "国测局",
        "国测局坐标",
        "高德",
        "高德坐标",
        "腾讯",
        "腾讯坐标",
        "amap",
        "gaode",
        "mars",
    ],
    "bd09": [
        "bd09",
        "bd-09",
        "bd09ll",
        "bd",
        "baidu",
        "百度坐标",
        "百度坐标系",
        "百度",
        "百度经纬度",
    ],
    "cgcs2000": [
        "cgcs2000",
        "cgcs-2000",
        "cgcs",
        "epsg:4490",
        "4490",
        "2000国家大地坐标系",
        "国家2000",
        "大地2000",
        "2000坐标系",
        "国家大地坐标系2000",
    ],
}.items():
    for _n in _names:
        _ALIASES[_n.casefold().replace(" ", "").replace("_", "").replace("-", "")] = _canon


def _key(name: str) -> str:
    return name.strip().casefold().replace(" ", "").replace("_", "").replace("-", "")


def normalise_crs(name: Any, *, default: str = "wgs84") -> str:
    """Map a spelling of a coordinate system to its canonical name.

    Parameters
    ----------
    name : str or None
        e.g. ``"WGS-84"``, ``"EPSG:4326"``, ``"GCJ-02"``, ``"火星坐标"``, ``"高德"``,
        ``"BD-09"``, ``"百度坐标"``, ``"CGCS2000"``, ``"EPSG:4490"``.
    default : str
        Returned for ``None``, NaN or an empty string.

    Returns
    -------
    str
        One of ``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000``.

    Raises
    ------
    ValueError
        For an unknown name (``envtrace.io`` turns it into the reject ``unknown_crs``).
    """
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return default
    try:
        import pandas as pd

        if name is pd.NA or name is pd.NaT:
            return default
    except ImportError:  # pragma: no cover
        pass
    text = str(name)
    k = _key(text)
    if k == "":
        return default
    if k in _ALIASES:
        return _ALIASES[k]
    # integer-looking numbers read from a spreadsheet (4326.0)
    if k.endswith(".0") and k[:-2] in _ALIASES:
        return _ALIASES[k[:-2]]
    raise ValueError(f"unknown coordinate system {text!r}")


def normalise_crs_array(values: Iterable[Any], *, default: str = "wgs84") -> np.ndarray:
    """Vectorised :func:`normalise_crs`: an object array with ``None`` where unknown."""
    vals = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=object)
    out = np.empty(vals.shape, dtype=object)
    cache: dict[Any, str | None] = {}
    for i, v in enumerate(vals.ravel()):
        try:
            ck = v if isinstance(v, str) else repr(v)
        except Exception:  # pragma: no cover
            ck = None
        if ck is not None and ck in cache:
            out.flat[i] = cache[ck]
            continue
        try:
            r: str | None = normalise_crs(v, default=default)
        except ValueError:
            r = None
        if ck is not None:
            cache[ck] = r
        out.flat[i] = r
    return out


# ---------------------------------------------------------------------------------------
# GCJ-02 and BD-09
# ---------------------------------------------------------------------------------------
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
_TOL_DEG = 1e-10
_MAX_ITER = 50


def _out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84, in degrees (zero outside China)."""
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx
    dlat = dlat + common
    dlat = dlat + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat = dlat + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx
    dlon = dlon + common
    dlon = dlon + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon = dlon + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(radlat) * np.pi)
    out = _out_of_china(lon, lat)
    return np.where(out, 0.0, dlon), np.where(out, 0.0, dlat)


def _wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj_approx(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _wgs_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    blon, blat = _gcj_to_bd(*_wgs_to_gcj(lon, lat))
    out = _out_of_china(lon, lat)
    return np.where(out, lon, blon), np.where(out, lat, blat)


def _invert(forward, glon: np.ndarray, glat: np.ndarray, w0: tuple[np.ndarray, np.ndarray]):
    """Solve ``forward(w) = g`` by fixed-point iteration from ``w0``."""
    wlon, wlat = (np.array(w0[0], dtype=float), np.array(w0[1], dtype=float))
    active = np.isfinite(glon) & np.isfinite(glat)
    for _ in range(_MAX_ITER):
        if not active.any():
            break
        flon, flat = forward(wlon[active], wlat[active])
        dlon = flon - glon[active]
        dlat = flat - glat[active]
        wlon[active] -= dlon
        wlat[active] -= dlat
        done = (np.abs(dlon) < _TOL_DEG) & (np.abs(dlat) < _TOL_DEG)
        idx = np.flatnonzero(active)
        active[idx[done]] = False
    return wlon, wlat


def _gcj_to_wgs(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_offset(lon, lat)
    return _invert(_wgs_to_gcj, lon, lat, (lon - dlon, lat - dlat))


def _bd_to_wgs(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    glon, glat = _bd_to_gcj_approx(lon, lat)
    dlon, dlat = _gcj_offset(glon, glat)
    return _invert(_wgs_to_bd, lon, lat, (glon - dlon, glat - dlat))


_FORWARD = {"gcj02": _wgs_to_gcj, "bd09": _wgs_to_bd}
_INVERSE = {"gcj02": _gcj_to_wgs, "bd09": _bd_to_wgs}


def _convert(lon: Any, lat: Any, crs: Any, table: dict) -> tuple[np.ndarray, np.ndarray]:
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    lon_a, lat_a = np.broadcast_arrays(lon_a, lat_a)
    out_lon = np.array(lon_a, dtype=float, copy=True)
    out_lat = np.array(lat_a, dtype=float, copy=True)
    if isinstance(crs, str) or crs is None:
        canon = normalise_crs(crs)
        fn = table.get(canon)
        if fn is None:
            return out_lon, out_lat
        r_lon, r_lat = fn(out_lon.ravel(), out_lat.ravel())
        return r_lon.reshape(out_lon.shape), r_lat.reshape(out_lat.shape)
    crs_a = np.broadcast_to(np.asarray(crs, dtype=object), out_lon.shape).reshape(-1)
    canon_a = normalise_crs_array(crs_a)
    if any(c is None for c in canon_a):
        bad = next(v for v, c in zip(crs_a, canon_a, strict=True) if c is None)
        raise ValueError(f"unknown coordinate system {str(bad)!r}")
    flat_lon = out_lon.reshape(-1)
    flat_lat = out_lat.reshape(-1)
    for canon, fn in table.items():
        mask = canon_a == canon
        if not mask.any():
            continue
        r_lon, r_lat = fn(flat_lon[mask], flat_lat[mask])
        flat_lon[mask] = r_lon
        flat_lat[mask] = r_lat
    return flat_lon.reshape(out_lon.shape), flat_lat.reshape(out_lat.shape)


def from_wgs84(lon: Any, lat: Any, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 longitude/latitude (degrees) to ``crs``.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 degrees. NaN passes through.
    crs : str or array_like of str
        Target system, one name for all points or one per point (any spelling accepted by
        :func:`normalise_crs`).

    Returns
    -------
    (lon, lat) : tuple of ndarray
        Degrees in ``crs``. ``wgs84`` and ``cgcs2000`` are returned unchanged; points
        outside China are unchanged for every system.
    """
    return _convert(lon, lat, crs, _FORWARD)


def to_wgs84(lon: Any, lat: Any, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Convert longitude/latitude in ``crs`` to WGS84 (degrees).

    The GCJ-02 and BD-09 inverses are solved iteratively to 1e-10 degrees; see the module
    docstring. Arguments as in :func:`from_wgs84`.
    """
    return _convert(lon, lat, crs, _INVERSE)


# ---------------------------------------------------------------------------------------
# metric work
# ---------------------------------------------------------------------------------------
_GEOD = pyproj.Geod(ellps="WGS84")


def local_crs(lon: Any, lat: Any) -> pyproj.CRS:
    """A metric projection for the study area.

    An azimuthal equidistant projection on WGS84 centred on the median point (rounded to
    0.001 degrees so the same area always gives the same CRS). Units: metres.

    Raises
    ------
    ValueError
        If no finite point is given.
    """
    lon_a = np.asarray(lon, dtype=float).ravel()
    lat_a = np.asarray(lat, dtype=float).ravel()
    ok = np.isfinite(lon_a) & np.isfinite(lat_a)
    if not ok.any():
        raise ValueError("no finite coordinates to centre a local projection on")
    lon0 = round(float(np.median(lon_a[ok])), 3)
    lat0 = round(float(np.median(lat_a[ok])), 3)
    return pyproj.CRS.from_proj4(
        f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
    )


def _transformer(src: Any, dst: Any) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def project(lon: Any, lat: Any, crs: pyproj.CRS) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 degrees to ``crs`` coordinates (metres for :func:`local_crs`)."""
    t = _transformer("EPSG:4326", crs)
    x, y = t.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def unproject(x: Any, y: Any, crs: pyproj.CRS) -> tuple[np.ndarray, np.ndarray]:
    """``crs`` coordinates back to WGS84 longitude/latitude degrees."""
    t = _transformer(crs, "EPSG:4326")
    lon, lat = t.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def distance_bearing(lon0: Any, lat0: Any, lon1: Any, lat1: Any) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic distance and initial bearing from point 0 to point 1 (WGS84).

    Returns
    -------
    distance_m : ndarray
        Metres on the WGS84 ellipsoid.
    bearing_deg : ndarray
        Degrees clockwise from north in [0, 360), from point 0 towards point 1
        (0 when the points coincide). NaN where any input is NaN.
    """
    a = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lon0, lat0, lon1, lat1)))
    shape = a[0].shape
    flat = [np.ascontiguousarray(v.ravel()) for v in a]
    az, _, dist = _GEOD.inv(*flat)
    az = np.asarray(az, dtype=float)
    dist = np.asarray(dist, dtype=float)
    bad = ~np.all([np.isfinite(v) for v in flat], axis=0)
    bearing = np.mod(az, 360.0)
    bearing = np.where(bearing >= 360.0, 0.0, bearing)
    bearing = np.where(dist == 0.0, 0.0, bearing)
    dist = np.where(bad, np.nan, dist)
    bearing = np.where(bad, np.nan, bearing)
    return dist.reshape(shape), bearing.reshape(shape)


def _to_wgs84_union(frame: Any) -> BaseGeometry | None:
    if frame is None or len(frame) == 0:
        return None
    gdf = frame
    if getattr(gdf, "crs", None) is not None and not gdf.crs.equals(pyproj.CRS("EPSG:4326")):
        gdf = gdf.to_crs("EPSG:4326")
    geoms = [g for g in gdf.geometry if g is not None and not g.is_empty]
    if not geoms:
        return None
    return shapely.union_all(shapely.make_valid(np.asarray(geoms, dtype=object)))


def study_area(
    areas: Any = None,
    *,
    boundary: Any = None,
    points_lon: Any = None,
    points_lat: Any = None,
    margin_m: float = 5000.0,
) -> BaseGeometry:
    """The study area as one WGS84 geometry.

    Precedence: an explicit ``boundary`` (``--boundary``), else the union of ``areas``
    (township/street polygons), else the convex hull of the given points (the enterprises)
    buffered by ``margin_m`` metres (measured in :func:`local_crs`). Polygons are used as
    they are, without margin.

    Raises
    ------
    ValueError
        If nothing usable is given.
    """
    for frame in (boundary, areas):
        geom = _to_wgs84_union(frame)
        if geom is not None and not geom.is_empty:
            return geom
    if points_lon is None or points_lat is None:
        raise ValueError("no areas, boundary or points to build a study area from")
    lon = np.asarray(points_lon, dtype=float).ravel()
    lat = np.asarray(points_lat, dtype=float).ravel()
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        raise ValueError("no finite points to build a study area from")
    crs = local_crs(lon[ok], lat[ok])
    x, y = project(lon[ok], lat[ok], crs)
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([x, y])))
    buffered = shapely.buffer(hull, float(margin_m), quad_segs=16)
    t = _transformer(crs, "EPSG:4326")
    return shapely.transform(buffered, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))


def in_area(lon: Any, lat: Any, geometry: BaseGeometry) -> np.ndarray:
    """Boolean array: which points lie in ``geometry`` (boundary counts as inside).

    NaN coordinates give False.
    """
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    shapely.prepare(geometry)
    res = shapely.intersects_xy(geometry, lon_a, lat_a)
    return np.asarray(res, dtype=bool) & np.isfinite(lon_a) & np.isfinite(lat_a)
