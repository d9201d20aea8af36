"""Tests for envtrace.wind: parsing, stability, Briggs spreads, wind climate."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from envtrace import wind


# --------------------------------------------------------------------------- direction
@pytest.mark.parametrize(
    "value, expected",
    [
        ("北风", 0.0),
        ("北", 0.0),
        ("北东北风", 22.5),
        ("东北偏北", 22.5),
        ("东北风", 45.0),
        ("东东北风", 67.5),
        ("东风", 90.0),
        ("东南偏东", 112.5),
        ("东南", 135.0),
        ("南风", 180.0),
        ("西南偏南", 202.5),
        ("西南风", 225.0),
        ("西南偏西", 247.5),
        ("西西南", 247.5),
        ("西风", 270.0),
        ("西北风", 315.0),
        ("北西北风", 337.5),
        ("偏北风", 0.0),
        ("偏南风", 180.0),
        ("N", 0.0),
        ("nne", 22.5),
        ("ENE", 67.5),
        ("SSW", 202.5),
        ("WNW", 292.5),
        ("north-east", 45.0),
        ("North East", 45.0),
        ("south-south-west", 202.5),
        ("Northerly", 0.0),
        ("NW wind", 315.0),
        ("45", 45.0),
        ("45°", 45.0),
        (" 12.5 ", 12.5),
        (360, 0.0),
        ("360", 0.0),
        (0, 0.0),
    ],
)
def test_parse_direction_values(value, expected):
    out, bad = wind.parse_direction([value], errors="mask")
    assert out[0] == expected
    assert not bad[0]


def test_parse_direction_calm_and_variable_are_nan_but_not_bad():
    vals = ["静风", "calm", "C", "variable", "VRB", "风向不定", "无风", "微风"]
    out, bad = wind.parse_direction(vals, errors="mask")
    assert np.isnan(out).all()
    assert not bad.any()


def test_parse_direction_bad_and_missing():
    vals = ["东北东北", "999", -5, "xyz", None, "", np.nan]
    out, bad = wind.parse_direction(np.array(vals, dtype=object), errors="mask")
    assert np.isnan(out).all()
    assert bad.tolist() == [True, True, True, True, False, False, False]


def test_parse_direction_modes():
    out = wind.parse_direction(pd.Series(["东风", "bad"]))
    assert out[0] == 90.0 and np.isnan(out[1])
    with pytest.raises(ValueError, match="bad"):
        wind.parse_direction(["东风", "bad"], errors="raise")
    with pytest.raises(ValueError):
        wind.parse_direction(["东风"], errors="ignore")


def test_parse_direction_numeric_fast_path():
    out, bad = wind.parse_direction(np.array([0.0, 90.0, 360.0, 400.0, np.nan]), errors="mask")
    np.testing.assert_array_equal(out[:3], [0.0, 90.0, 0.0])
    assert np.isnan(out[3]) and np.isnan(out[4])
    assert bad.tolist() == [False, False, False, True, False]
    ser = pd.Series([10.0, 20.0])
    np.testing.assert_array_equal(wind.parse_direction(ser), [10.0, 20.0])


# --------------------------------------------------------------------------- speed
@pytest.mark.parametrize(
    "value, expected",
    [
        ("3级", 4.4),
        ("3 级", 4.4),
        ("三级", 4.4),
        ("Beaufort 3", 4.4),
        ("F3", 4.4),
        ("0级", 0.1),
        ("十级", 26.45),
        ("十二级", 34.0),
        ("3-4级", (3.4 + 7.9) / 2),
        ("3～4级", (3.4 + 7.9) / 2),
        ("<3级", (0.0 + 3.3) / 2),
        ("和风", 6.7),
        ("静风", 0.0),
        ("无风", 0.0),
        ("2.5", 2.5),
        ("2.5m/s", 2.5),
        ("18 km/h", 5.0),
        ("10 mph", 4.4704),
        ("10kn", 5.14444),
        (3, 3.0),
        (0.0, 0.0),
    ],
)
def test_parse_speed_values(value, expected):
    out, bad = wind.parse_speed([value], errors="mask")
    assert out[0] == pytest.approx(expected, abs=1e-9)
    assert not bad[0]


def test_parse_speed_units_for_bare_numbers():
    np.testing.assert_allclose(wind.parse_speed([10.0], unit="mph"), [4.4704])
    np.testing.assert_allclose(wind.parse_speed(["36"], unit="km/h"), [10.0])
    np.testing.assert_allclose(wind.parse_speed(pd.Series([2.0]), unit="knots"), [1.028888])
    # an explicit unit in the string wins over the default
    np.testing.assert_allclose(wind.parse_speed(["36 km/h"], unit="mph"), [10.0])
    with pytest.raises(ValueError):
        wind.parse_speed([1.0], unit="furlongs/fortnight")


def test_parse_speed_bad_values():
    vals = np.array([-1.0, "-2", "13 furlongs", "abc", "99级", None, ""], dtype=object)
    out, bad = wind.parse_speed(vals, errors="mask")
    assert np.isnan(out).all()
    assert bad.tolist() == [True, True, True, True, True, False, False]
    out2, bad2 = wind.parse_speed(np.array([1.0, -1.0]), errors="mask")
    assert out2[0] == 1.0 and np.isnan(out2[1])
    assert bad2.tolist() == [False, True]


def test_beaufort_midpoints_are_wmo_range_midpoints():
    assert wind.BEAUFORT_MS[1] == pytest.approx((0.3 + 1.5) / 2)
    assert wind.BEAUFORT_MS[5] == pytest.approx((8.0 + 10.7) / 2)
    assert wind.BEAUFORT_MS[8] == pytest.approx((17.2 + 20.7) / 2)


# --------------------------------------------------------------------------- stability
def test_solar_elevation_summer_noon_and_midnight():
    t = pd.to_datetime(["2026-06-21 12:12", "2026-06-21 00:12"]).tz_localize("Asia/Shanghai")
    elev = wind.solar_elevation(t, 35.6, 117.0)
    # local solar noon at the solstice: 90 - 35.6 + 23.44
    assert elev[0] == pytest.approx(90.0 - 35.6 + 23.44, abs=0.5)
    assert elev[1] < -25.0


def test_stability_summer_noon_light_wind_is_unstable():
    t = pd.Series(pd.to_datetime(["2026-07-01 12:00"]).tz_localize("Asia/Shanghai"))
    assert wind.estimate_stability(t, [1.5], lat=35.6, lon=117.0)[0] in ("A", "B")


def test_stability_night_table():
    t = pd.to_datetime(["2026-07-01 23:00"] * 5).tz_localize("Asia/Shanghai")
    u = [1.5, 2.5, 4.0, 5.5, 8.0]
    assert list(wind.estimate_stability(t, u, lat=35.6, lon=117.0)) == ["F", "F", "E", "D", "D"]
    cloudy = wind.estimate_stability(t, u, lat=35.6, lon=117.0, cloud_cover=0.6)
    assert list(cloudy) == ["E", "E", "D", "D", "D"]
    # oktas are accepted too
    overcast = wind.estimate_stability(t, u, lat=35.6, lon=117.0, cloud_cover=8)
    assert list(overcast) == ["D"] * 5


def test_stability_day_strong_insolation_by_speed_and_naive_times():
    # naive times are read in Asia/Shanghai; 12:12 is solar noon at 117E, elevation ~77.8
    t = ["2026-06-21 12:12"] * 5
    out = wind.estimate_stability(t, [1.0, 2.5, 4.0, 5.5, 7.0], lat=35.6, lon=117.0)
    assert list(out) == ["A", "B", "B", "C", "C"]
    winter = wind.estimate_stability(["2026-12-21 12:12"], [1.0], lat=35.6, lon=117.0)
    assert winter[0] == "B"  # elevation ~31 deg: slight insolation


def test_stability_missing_speed_is_neutral():
    t = pd.to_datetime(["2026-07-01 23:00"]).tz_localize("Asia/Shanghai")
    assert wind.estimate_stability(t, [np.nan], lat=35.6, lon=117.0)[0] == "D"


# --------------------------------------------------------------------------- Briggs
def test_sigma_y_class_d_at_1000m_by_hand():
    assert wind.sigma_y(1000.0, "D") == pytest.approx(0.08 * 1000 / math.sqrt(1 + 0.0001 * 1000))


def test_sigma_z_by_hand_all_classes():
    x = 2000.0
    expected = {
        "A": 0.20 * x,
        "B": 0.12 * x,
        "C": 0.08 * x / math.sqrt(1 + 0.0002 * x),
        "D": 0.06 * x / math.sqrt(1 + 0.0015 * x),
        "E": 0.03 * x / (1 + 0.0003 * x),
        "F": 0.016 * x / (1 + 0.0003 * x),
    }
    letters = list(expected)
    got = wind.sigma_z(np.full(6, x), np.array(letters))
    np.testing.assert_allclose(got, [expected[k] for k in letters], rtol=1e-12)


def test_sigma_y_vectorised_and_unknown():
    d = np.array([500.0, 500.0, 500.0, -1.0])
    got = wind.sigma_y(d, np.array(["A", "f", "X", "D"], dtype=object))
    assert got[0] == pytest.approx(0.22 * 500 / math.sqrt(1.05))
    assert got[1] == pytest.approx(0.04 * 500 / math.sqrt(1.05))
    assert np.isnan(got[2]) and np.isnan(got[3])
    # one letter for many distances; spreads grow with distance and from F to A
    row = wind.sigma_y([100.0, 1000.0, 10000.0], "C")
    assert np.all(np.diff(row) > 0)
    assert np.all(np.diff(wind.sigma_y(1000.0, list("ABCDEF"))) < 0)


# --------------------------------------------------------------------------- climate
def test_sector_of():
    np.testing.assert_array_equal(
        wind.sector_of([0.0, 11.24, 11.25, 348.75, 359.9, 90.0, np.nan]), [0, 0, 1, 0, 0, 4, -1]
    )


def test_wind_climate_shares():
    w = pd.DataFrame(
        {
            "wind_dir_deg": [0.0, 5.0, 45.0, 45.0, np.nan, 90.0, np.nan, 180.0],
            "wind_speed_ms": [2.0, 4.0, 3.0, 3.0, 0.0, 0.2, np.nan, np.nan],
        }
    )
    c = wind.wind_climate(w)
    assert len(c) == 17
    assert c["sector"].tolist()[:3] == ["N", "NNE", "NE"] and c["sector"].iloc[-1] == "calm"
    by = c.set_index("sector")
    # usable hours: 7 (the row with neither direction nor speed is left out)
    assert by.loc["N", "hours"] == 2 and by.loc["N", "share"] == pytest.approx(2 / 7)
    assert by.loc["NE", "hours"] == 2 and by.loc["NE", "mean_speed_ms"] == pytest.approx(3.0)
    assert by.loc["calm", "hours"] == 2  # NaN direction at 0 m/s, and 0.2 m/s
    assert by.loc["S", "hours"] == 1 and np.isnan(by.loc["S", "mean_speed_ms"])
    assert by.loc["E", "hours"] == 0
    assert c["share"].sum() == pytest.approx(1.0)
    assert by.loc["N", "mean_speed_ms"] == pytest.approx(3.0)


# --------------------------------------------------------------------------- ESDR exports
# 1546300800 = 2019-01-01T00:00:00Z = 2018-12-31 19:00 in New York (UTC-5).
_ESDR = (
    "EpochTime,3.feed_9.H2S_PPM,3.feed_9.SONICWD_DEG,3.feed_9.SONICWS_MPH\n"
    "1546309800,0.0,90.0,10.0\n"  # 02:30Z -> hour 02:00Z; 10 mph
    "1546302600,0.1,360.0,5.0\n"  # 00:30Z, out of order; 360 -> 0
    "1546306200,0.2,,\n"  # 01:30Z: no wind at all -> rejected (a gap)
    "1546313400,0.0,,0.0\n"  # 03:30Z: no direction, 0 mph -> kept, direction NaN (calm)
    "1546313400,0.0,10.0,1.0\n"  # second row for 03:00Z -> duplicate
    "abc,0.0,10.0,1.0\n"  # unreadable time
)


@pytest.fixture
def esdr_file(tmp_path):
    p = tmp_path / "esdr_feed9.csv"
    p.write_text(_ESDR, encoding="utf-8")
    return p


def test_read_esdr_floors_sorts_converts(esdr_file):
    w = wind.read_esdr(esdr_file, station_id="9", lon=-79.9, lat=40.4, tz="America/New_York")
    assert list(w.columns[:7]) == [
        "time", "wind_dir_deg", "wind_speed_ms", "station_id", "lon", "lat", "stability"
    ]
    expected = pd.to_datetime(
        ["2018-12-31 19:00", "2018-12-31 21:00", "2018-12-31 22:00"]
    ).tz_localize("America/New_York")
    assert list(w["time"]) == list(expected)
    assert str(w["time"].dt.tz) == "America/New_York"
    np.testing.assert_allclose(w["wind_dir_deg"], [0.0, 90.0, np.nan])
    np.testing.assert_allclose(w["wind_speed_ms"], [5 * 0.44704, 10 * 0.44704, 0.0])
    assert w["source_row"].tolist() == [2, 1, 4]
    assert set(w["station_id"]) == {"9"} and set(w["lon"]) == {-79.9}
    # night in Pittsburgh (19:30-22:30 local, late December): stable classes, calm -> F
    assert w["stability"].tolist()[-1] == "F"
    rj = w.attrs["rejects"]
    assert rj["source_row"].tolist() == [3, 5, 6]
    assert rj["reason"].tolist() == ["bad_value: wind_speed", "duplicate_id: time", "unparsable_time"]
    s = w.attrs["summary"]
    assert (s["rows_read"], s["rows_accepted"], s["rows_rejected"]) == (6, 3, 3)
    assert s["speed_unit"] == "mph" and s["wind_dir_column"] == "3.feed_9.SONICWD_DEG"


def test_read_esdr_explicit_columns_and_unit(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("EpochTime,a.DIR,a.SPD\n1546302600,180,3.5\n", encoding="utf-8")
    w = wind.read_esdr(p, station_id="a", lon=0.5, lat=0.5, dir_column="a.DIR",
                       speed_column="a.SPD", speed_unit="m/s", tz="UTC")
    assert w["time"].iloc[0] == pd.Timestamp("2019-01-01 00:00", tz="UTC")
    assert w["wind_dir_deg"].iloc[0] == 180.0 and w["wind_speed_ms"].iloc[0] == 3.5


@pytest.mark.parametrize(
    "header, kwargs, message",
    [
        ("Time,x.SONICWD_DEG,x.SONICWS_MPH", {}, "EpochTime"),
        ("EpochTime,x.SONICWS_MPH", {}, "wind direction"),
        ("EpochTime,x.SONICWD_DEG,y.SONICWD_DEG,x.SONICWS_MPH", {}, "several"),
        ("EpochTime,x.SONICWD_DEG,x.SPD", {"speed_column": "x.SPD"}, "unit"),
        ("EpochTime,x.SONICWD_DEG,x.SONICWS_MPH", {"dir_column": "nope"}, "nope"),
    ],
)
def test_read_esdr_unusable_input(tmp_path, header, kwargs, message):
    from envtrace.errors import InputError

    p = tmp_path / "bad.csv"
    p.write_text(header + "\n" + ",".join(["1546302600"] + ["1"] * header.count(",")) + "\n")
    with pytest.raises(InputError, match=message):
        wind.read_esdr(p, station_id="x", lon=0.0, lat=0.0, **kwargs)


def test_read_wind_manifest_relative_paths(tmp_path, esdr_file):
    sub = tmp_path / "m"
    sub.mkdir()
    (sub / "b.csv").write_text(
        "EpochTime,3.feed_1.SONICWD_DEG..3.feed_2.SONICWD_DEG,3.feed_1.SONICWS_MPH..3.feed_2.SONICWS_MPH\n"
        "1546306200,270,1\n1546302600,180,2\n",
        encoding="utf-8",
    )
    man = sub / "monitors.csv"
    man.write_text(
        "station_id,name,lat,lon,file,wind_dir_column,wind_speed_column\n"
        "9,A,40.4,-79.9,../esdr_feed9.csv,3.feed_9.SONICWD_DEG,3.feed_9.SONICWS_MPH\n"
        "2,B,40.5,-79.8,b.csv,3.feed_1.SONICWD_DEG..3.feed_2.SONICWD_DEG,"
        "3.feed_1.SONICWS_MPH..3.feed_2.SONICWS_MPH\n",
        encoding="utf-8",
    )
    w = wind.read_wind_manifest(man, tz="UTC")
    assert w["station_id"].tolist() == ["2", "2", "9", "9", "9"]
    assert w.loc[w["station_id"] == "2", "wind_dir_deg"].tolist() == [180.0, 270.0]
    assert w.loc[w["station_id"] == "2", "lat"].tolist() == [40.5, 40.5]
    s = w.attrs["summary"]
    assert s["rows_read"] == 8 and s["rows_accepted"] == 5 and s["rows_rejected"] == 3
    assert set(w.attrs["rejects"]["source_file"]) == {"esdr_feed9.csv"}
    assert wind.is_wind_manifest(["station_id", "file", "wind_dir_column"])
    assert wind.is_esdr(["EpochTime", "3.feed_9.SONICWD_DEG"]) and not wind.is_esdr(["time", "wind_dir"])


def test_read_wind_manifest_missing_file(tmp_path):
    from envtrace.errors import InputError

    man = tmp_path / "monitors.csv"
    man.write_text("station_id,lat,lon,file,wind_dir_column\n1,40,-80,nothere.csv,x\n")
    with pytest.raises(InputError, match="nothere.csv"):
        wind.read_wind_manifest(man)


def test_io_read_wind_detects_esdr_and_manifest(tmp_path, esdr_file):
    from envtrace import io

    res = io.read_wind(esdr_file, tz="America/New_York")
    assert res.frame["station_id"].unique().tolist() == ["feed9"]
    assert res.summary["rows_read"] == len(res.frame) + len(res.rejects) == 6
    canon = tmp_path / "wind.csv"
    canon.write_text("time,wind_dir_deg,wind_speed_ms\n2019-01-01 00:00,90,2\n", encoding="utf-8")
    assert wind.read_wind_any(canon) is None
    assert io.read_wind(canon, tz="UTC").frame["wind_dir_deg"].tolist() == [90.0]
