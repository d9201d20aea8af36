"""Tests for envtrace.geo: datum shifts, metric projection, distances, study area."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from envtrace import geo


def metres_apart(lon0, lat0, lon1, lat1):
    """Local flat-earth distance in metres (good to <0.5 % at these tiny offsets)."""
    lat_mid = np.radians((np.asarray(lat0) + np.asarray(lat1)) / 2.0)
    dx = (np.asarray(lon1) - np.asarray(lon0)) * 111_320.0 * np.cos(lat_mid)
    dy = (np.asarray(lat1) - np.asarray(lat0)) * 110_574.0
    return np.hypot(dx, dy)


# --------------------------------------------------------------------------- normalise_crs
@pytest.mark.parametrize(
    "name, expected",
    [
        ("WGS-84", "wgs84"),
        ("WGS84", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("4326", "wgs84"),
        (" wgs 84 ", "wgs84"),
        ("GCJ-02", "gcj02"),
        ("gcj", "gcj02"),
        ("火星坐标", "gcj02"),
        ("火星", "gcj02"),
        ("国测局", "gcj02"),
        ("高德", "gcj02"),
        ("BD-09", "bd09"),
        ("bd09ll", "bd09"),
        ("百度坐标", "bd09"),
        ("百度", "bd09"),
        ("CGCS2000", "cgcs2000"),
        ("EPSG:4490", "cgcs2000"),
        ("2000国家大地坐标系", "cgcs2000"),
        ("大地2000", "cgcs2000"),
    ],
)
def test_normalise_crs_spellings(name, expected):
    assert geo.normalise_crs(name) == expected


def test_normalise_crs_empty_gives_default():
    assert geo.normalise_crs("") == "wgs84"
    assert geo.normalise_crs(None) == "wgs84"
    assert geo.normalise_crs(float("nan")) == "wgs84"
    assert geo.normalise_crs("  ", default="gcj02") == "gcj02"


def test_normalise_crs_unknown_raises():
    with pytest.raises(ValueError):
        geo.normalise_crs("EPSG:3857")
    with pytest.raises(ValueError):
        geo.normalise_crs("谷歌")


def test_normalise_crs_array_marks_unknown_as_none():
    out = geo.normalise_crs_array(["高德", None, "xyz", "BD-09", ""], default="cgcs2000")
    assert out.dtype == object
    assert list(out) == ["gcj02", "cgcs2000", None, "bd09", "cgcs2000"]


# --------------------------------------------------------------------------- GCJ / BD
def test_published_gcj_pairs():
    # WGS84 -> GCJ-02 pairs from the eviltransform test suite (Shanghai, Shenzhen, Beijing)
    wgs = np.array([[121.5272106, 31.1774276], [113.912316, 22.543847], [116.377817, 39.911954]])
    gcj = np.array(
        [
            [121.531541859215, 31.17530398364597],
            [113.9171764808363, 22.540796131694766],
            [116.38404722455657, 39.91334545536069],
        ]
    )
    lon, lat = geo.from_wgs84(wgs[:, 0], wgs[:, 1], "gcj02")
    np.testing.assert_allclose(lon, gcj[:, 0], atol=1e-9)
    np.testing.assert_allclose(lat, gcj[:, 1], atol=1e-9)
    back_lon, back_lat = geo.to_wgs84(gcj[:, 0], gcj[:, 1], "GCJ-02")
    assert np.all(metres_apart(back_lon, back_lat, wgs[:, 0], wgs[:, 1]) < 0.01)


def test_gcj_offset_near_shandong_is_a_few_hundred_metres():
    lon, lat = geo.from_wgs84(117.0, 35.6, "gcj02")
    d = float(metres_apart(117.0, 35.6, lon, lat))
    assert 200.0 < d < 800.0
    # and Baidu adds another few hundred metres on top of GCJ-02
    blon, blat = geo.from_wgs84(117.0, 35.6, "bd09")
    assert 300.0 < float(metres_apart(lon, lat, blon, blat)) < 1500.0


def test_baidu_published_formula():
    # GCJ-02 -> BD-09 by hand for one point, x_pi = pi*3000/180
    glon, glat = geo.from_wgs84(117.0, 35.6, "gcj02")
    x_pi = math.pi * 3000.0 / 180.0
    z = math.hypot(glon, glat) + 0.00002 * math.sin(glat * x_pi)
    theta = math.atan2(glat, glon) + 0.000003 * math.cos(glon * x_pi)
    blon, blat = geo.from_wgs84(117.0, 35.6, "bd09")
    assert float(blon) == pytest.approx(z * math.cos(theta) + 0.0065, abs=1e-12)
    assert float(blat) == pytest.approx(z * math.sin(theta) + 0.006, abs=1e-12)


def test_outside_china_unchanged():
    lon = np.array([2.35, -74.0, 139.7, 100.0])  # Paris, New York, Tokyo, south of the box
    lat = np.array([48.85, 40.7, 35.7, -5.0])
    for crs in ("gcj02", "bd09"):
        flon, flat = geo.from_wgs84(lon, lat, crs)
        np.testing.assert_array_equal(flon, lon)
        np.testing.assert_array_equal(flat, lat)
        tlon, tlat = geo.to_wgs84(lon, lat, crs)
        np.testing.assert_allclose(tlon, lon, atol=1e-12)
        np.testing.assert_allclose(tlat, lat, atol=1e-12)


def test_wgs84_and_cgcs2000_are_identity():
    lon, lat = np.array([117.0, 118.5]), np.array([35.6, 36.0])
    for crs in ("wgs84", "cgcs2000", "EPSG:4490"):
        a, b = geo.to_wgs84(lon, lat, crs)
        np.testing.assert_array_equal(a, lon)
        np.testing.assert_array_equal(b, lat)


def test_mixed_crs_per_row_and_nan():
    lon = np.array([117.0, 117.0, 117.0, np.nan, 117.0])
    lat = np.array([35.6, 35.6, 35.6, 35.6, 35.6])
    crs = np.array(["wgs84", "gcj02", "bd09", "gcj02", "百度"], dtype=object)
    flon, flat = geo.from_wgs84(lon, lat, crs)
    g = geo.from_wgs84(117.0, 35.6, "gcj02")
    b = geo.from_wgs84(117.0, 35.6, "bd09")
    assert flon[0] == 117.0 and flat[0] == 35.6
    assert (flon[1], flat[1]) == (float(g[0]), float(g[1]))
    assert (flon[2], flat[2]) == (float(b[0]), float(b[1]))
    assert np.isnan(flon[3])
    assert (flon[4], flat[4]) == (float(b[0]), float(b[1]))
    tlon, tlat = geo.to_wgs84(flon, flat, crs)
    ok = np.isfinite(tlon)
    assert np.all(metres_apart(tlon[ok], tlat[ok], lon[ok], lat[ok]) < 0.01)


def test_unknown_crs_in_array_raises():
    with pytest.raises(ValueError):
        geo.to_wgs84([117.0], [35.6], ["mercator"])


china_lon = st.floats(73.5, 135.0, allow_nan=False)
china_lat = st.floats(18.0, 53.6, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_roundtrip_gcj02_hypothesis(lon, lat):
    glon, glat = geo.from_wgs84(lon, lat, "gcj02")
    wlon, wlat = geo.to_wgs84(glon, glat, "gcj02")
    assert float(metres_apart(lon, lat, wlon, wlat)) < 0.01


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_roundtrip_bd09_hypothesis(lon, lat):
    blon, blat = geo.from_wgs84(lon, lat, "bd09")
    wlon, wlat = geo.to_wgs84(blon, blat, "bd09")
    assert float(metres_apart(lon, lat, wlon, wlat)) < 0.01


def test_roundtrip_vectorised_grid():
    lon, lat = np.meshgrid(np.linspace(73.5, 135.0, 60), np.linspace(18.0, 53.6, 40))
    for crs in ("gcj02", "bd09"):
        flon, flat = geo.from_wgs84(lon, lat, crs)
        assert flon.shape == lon.shape
        wlon, wlat = geo.to_wgs84(flon, flat, crs)
        assert metres_apart(lon, lat, wlon, wlat).max() < 0.01


# --------------------------------------------------------------------------- metric work
def test_local_crs_is_metric_and_centred_on_median():
    crs = geo.local_crs([117.0, 117.2, 117.4], [35.5, 35.6, 35.9])
    assert isinstance(crs, pyproj.CRS)
    assert crs.axis_info[0].unit_name == "metre"
    x, y = geo.project(117.2, 35.6, crs)
    assert abs(float(x)) < 1e-6 and abs(float(y)) < 1e-6
    lon, lat = geo.unproject(np.array([1000.0, -2000.0]), np.array([500.0, 0.0]), crs)
    x2, y2 = geo.project(lon, lat, crs)
    np.testing.assert_allclose(x2, [1000.0, -2000.0], atol=1e-6)
    np.testing.assert_allclose(y2, [500.0, 0.0], atol=1e-6)


def test_local_crs_needs_points():
    with pytest.raises(ValueError):
        geo.local_crs([np.nan], [np.nan])


def test_project_distance_matches_geodesic():
    crs = geo.local_crs([117.0], [35.6])
    x, y = geo.project(np.array([117.0, 117.1]), np.array([35.6, 35.65]), crs)
    d_proj = math.hypot(x[1] - x[0], y[1] - y[0])
    d_geod, _ = geo.distance_bearing(117.0, 35.6, 117.1, 35.65)
    assert d_proj == pytest.approx(float(d_geod), rel=1e-5)


def test_distance_bearing_cardinal_directions():
    lon0 = np.full(4, 117.0)
    lat0 = np.full(4, 35.6)
    lon1 = np.array([117.0, 117.01, 117.0, 116.99])
    lat1 = np.array([35.61, 35.6, 35.59, 35.6])
    d, b = geo.distance_bearing(lon0, lat0, lon1, lat1)
    # one hundredth of a degree of latitude at 35.6N is about 1109 m
    assert d[0] == pytest.approx(1109.4, abs=1.0)
    assert d[2] == pytest.approx(1109.4, abs=1.0)
    assert d[1] == pytest.approx(0.01 * 111_320 * math.cos(math.radians(35.6)), rel=2e-3)
    np.testing.assert_allclose(b, [0.0, 90.0, 180.0, 270.0], atol=0.01)
    assert np.all((b >= 0.0) & (b < 360.0))


def test_distance_bearing_same_point_and_nan():
    d, b = geo.distance_bearing([117.0, np.nan], [35.6, 35.6], [117.0, 117.0], [35.6, 35.6])
    assert d[0] == 0.0 and b[0] == 0.0
    assert np.isnan(d[1]) and np.isnan(b[1])


def test_distance_bearing_broadcasts_scalar_origin():
    d, b = geo.distance_bearing(117.0, 35.6, np.array([117.0, 117.0]), np.array([35.7, 35.5]))
    assert d.shape == (2,)
    np.testing.assert_allclose(b, [0.0, 180.0], atol=1e-6)


# --------------------------------------------------------------------------- study area
def test_study_area_union_of_areas():
    areas = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[box(117.0, 35.5, 117.1, 35.6), box(117.1, 35.5, 117.2, 35.6)],
        crs="EPSG:4326",
    )
    geom = geo.study_area(areas)
    assert geom.area == pytest.approx(0.02, rel=1e-9)
    assert geom.bounds == pytest.approx((117.0, 35.5, 117.2, 35.6))


def test_study_area_boundary_wins_and_is_reprojected():
    areas = gpd.GeoDataFrame(geometry=[box(117.0, 35.5, 117.1, 35.6)], crs="EPSG:4326")
    crs = geo.local_crs([117.0], [35.6])
    x, y = geo.project([117.0, 117.05], [35.6, 35.65], crs)
    boundary = gpd.GeoDataFrame(geometry=[box(x[0], y[0], x[1], y[1])], crs=crs)
    geom = geo.study_area(areas, boundary=boundary)
    minx, miny, maxx, maxy = geom.bounds
    assert minx == pytest.approx(117.0, abs=1e-6)
    assert maxy == pytest.approx(35.65, abs=1e-3)


def test_study_area_from_points_has_margin():
    lon = np.array([117.0, 117.1, 117.05])
    lat = np.array([35.6, 35.6, 35.7])
    geom = geo.study_area(points_lon=lon, points_lat=lat, margin_m=5000.0)
    # 4.9 km west of the westernmost point is inside, 5.1 km is not
    step = 1.0 / (111_320 * math.cos(math.radians(35.6)))
    inside = geo.in_area([117.0 - 4900 * step, 117.0 - 5100 * step], [35.6, 35.6], geom)
    assert inside.tolist() == [True, False]
    assert geo.in_area(lon, lat, geom).all()


def test_study_area_without_input_raises():
    with pytest.raises(ValueError):
        geo.study_area()


def test_in_area_boundary_counts_and_nan_is_outside():
    square = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    res = geo.in_area(
        np.array([0.5, 1.0, 0.0, 1.5, np.nan]), np.array([0.5, 0.5, 0.0, 0.5, 0.5]), square
    )
    assert res.dtype == bool
    assert res.tolist() == [True, True, True, False, False]
