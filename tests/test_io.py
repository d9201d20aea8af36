"""Tests for envtrace.io: reading, validation, normalisation, pseudonymisation."""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box
from typer.testing import CliRunner

from envtrace import geo
from envtrace import io as eio
from envtrace.errors import InputError

KEY = b"test-key"
TZ = "Asia/Shanghai"
AREA = box(117.0, 36.0, 117.5, 36.5)


@pytest.fixture(autouse=True)
def _pii_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ENVTRACE_PII_KEY", "test-key")
    monkeypatch.setenv("ENVTRACE_VAR", str(tmp_path / "var"))


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert(TZ) if pd.Timestamp(text).tzinfo else pd.Timestamp(text, tz=TZ)


# ---------------------------------------------------------------------------- read_table
def test_read_table_gb18030_chinese_headers_and_dates(tmp_path: Path) -> None:
    p = write_csv(
        tmp_path / "投诉.csv",
        ["投诉编号", "受理时间", "经度", "纬度", "来源渠道", "投诉内容"],
        [
            ["T1", "2026年10月29日 22:15", "117.1", "36.2", "12369环保热线", "化工厂异味很重"],
            ["T2", "2026年10月29日22时15分", "117.1", "36.2", "网络平台", "噪音"],
            ["T3", "2026年1月2日 8点5分30秒", "117.1", "36.2", "12345转办", ""],
        ],
        encoding="gb18030",
    )
    with pytest.raises(UnicodeDecodeError):
        p.read_bytes().decode("utf-8")
    res = eio.read_complaints(p, pii_key_bytes=KEY)
    f = res.frame
    assert list(f["complaint_id"]) == ["T1", "T2", "T3"]
    assert list(f["received_at"]) == [
        ts("2026-10-29 22:15"), ts("2026-10-29 22:15"), ts("2026-01-02 08:05:30")
    ]
    assert str(f["received_at"].dtype) == f"datetime64[ns, {TZ}]"
    assert list(f["channel"]) == ["hotline", "web", "12345"]
    assert f["text"].iloc[0] == "化工厂异味很重"


def test_read_table_utf8_bom(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_bytes("\ufeff编号,时间,lng,lat\nB1,2026-10-29 22:15,117.1,36.2\n".encode())
    t = eio.read_table(p)
    assert list(t.columns) == ["编号", "时间", "lng", "lat"]
    res = eio.read_complaints(p, pii_key_bytes=KEY)
    assert list(res.frame["complaint_id"]) == ["B1"]
    assert res.frame["lon"].iloc[0] == 117.1


def test_read_xlsx_with_excel_serial_and_datetime_cells(tmp_path: Path) -> None:
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "first"
    ws.append(["工单编号", "来电时间", "经度", "纬度", "联系电话"])
    ws.append(["X1", 46324.5, 117.1, 36.2, 13812345678])  # 2026-10-29 12:00 as an Excel serial
    ws.append(["X2", dt.datetime(2026, 10, 29, 22, 15), 117.1, 36.2, None])
    other = wb.create_sheet("second")
    other.append(["编号", "时间", "经度", "纬度"])
    other.append(["S1", "2026-01-01 00:00", "117", "36.3"])
    p = tmp_path / "c.xlsx"
    wb.save(p)
    res = eio.read_complaints(p, pii_key_bytes=KEY)
    assert list(res.frame["received_at"]) == [ts("2026-10-29 12:00"), ts("2026-10-29 22:15")]
    assert res.frame["complainant_key"].iloc[0] == eio.complainant_key(None, ["13812345678"], key=KEY)[0]
    assert res.frame["complainant_key"].iloc[1] == ""
    res2 = eio.read_complaints(p, sheet="second", pii_key_bytes=KEY)
    assert list(res2.frame["complaint_id"]) == ["S1"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"", "empty file"),
        (bytes(range(256)) * 20, "binary"),
        (b"\xff\xfe\x80\x80abc,def\n\x80\xff,1\n", "unreadable encoding"),
    ],
)
def test_read_table_unusable_files(tmp_path: Path, content: bytes | None, message: str) -> None:
    p = tmp_path / "bad.csv"
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(InputError, match=message):
        eio.read_table(p)


def test_no_recognisable_columns(tmp_path: Path) -> None:
    p = write_csv(tmp_path / "c.csv", ["foo", "bar"], [["1", "2"]])
    with pytest.raises(InputError, match="no recognisable complaints columns"):
        eio.read_complaints(p)
    p2 = write_csv(tmp_path / "d.csv", ["编号", "经度", "纬度"], [["1", "117", "36"]])
    with pytest.raises(InputError, match="no received_at column"):
        eio.read_complaints(p2)


# ---------------------------------------------------------------------------- times
def test_parse_times_formats_vectorised() -> None:
    vals = [
        "2026-10-29T22:15:00+08:00",
        "2026-10-29T14:15:00Z",
        "2026-10-29 22:15",
        "2026/10/29 22:15",
        "2026年10月29日 22:15",
        "2026年10月29日22时15分",
        "1793283300",  # epoch seconds
        "1793283300000",  # epoch milliseconds
        "46324.927083333336",  # Excel serial: 2026-10-29 22:15
        "20261029221500",
        "",
        "22时15分",  # no date: unparsable
        "2026-13-45",
        "hello",
    ]
    t, r = eio.parse_times(vals, tz=TZ)
    expected = ts("2026-10-29 22:15")
    assert list(t.iloc[:10]) == [expected] * 10
    assert list(r) == [""] * 10 + ["missing_time"] + ["unparsable_time"] * 3
    assert t.iloc[10:].isna().all()


def test_parse_times_forced_unit_and_zone() -> None:
    t, r = eio.parse_times(["0", "1793283300"], tz="UTC", unit="epoch_s")
    assert list(r) == ["unparsable_time", ""]  # 1970-01-01 is before the accepted range
    assert t.iloc[1] == pd.Timestamp("2026-10-29 14:15", tz="UTC")
    t2, _ = eio.parse_times(["2026-10-29 10:15"], tz="America/New_York")
    assert t2.iloc[0].tz_convert("UTC") == pd.Timestamp("2026-10-29 14:15", tz="UTC")


# ---------------------------------------------------------------------------- rejects
def test_every_complaint_reject_reason(tmp_path: Path) -> None:
    rows = [
        ["C01", "2026-10-29 22:15", "117.1", "36.2", "", "1"],  # accepted
        ["C02", "2026-10-29 22:15", "", "36.2", "", ""],  # missing_coordinates
        ["C03", "2026-10-29 22:15", "abc", "36.2", "", ""],  # bad_value
        ["C04", "2026-10-29 22:15", "0", "0", "", ""],  # zero_coordinates
        ["C05", "2026-10-29 22:15", "117.1", "36.2", "utm50", ""],  # unknown_crs
        ["C06", "2026-10-29 22:15", "36.2", "117.1", "", ""],  # swapped_coordinates
        ["C07", "2026-10-29 22:15", "200", "36.2", "", ""],  # coordinates_out_of_range
        ["C08", "2026-10-29 22:15", "118.5", "37.5", "", ""],  # outside_study_area
        ["C09", "", "117.1", "36.2", "", ""],  # missing_time
        ["C10", "yesterday", "117.1", "36.2", "", ""],  # unparsable_time
        ["C11", "2026-10-29 22:15", "117.1", "36.2", "", "0.5"],  # below_intensity
        ["C01", "2026-10-30 22:15", "117.2", "36.3", "", ""],  # duplicate_id
        ["", "2026-10-30 22:15", "117.2", "36.3", "", ""],  # accepted, generated id
    ]
    p = write_csv(tmp_path / "cmp.csv", ["id", "time", "lon", "lat", "crs", "rating"], rows)
    prof = tmp_path / "p.yaml"
    prof.write_text("intensity_column: rating\ndrop_below_intensity: 1\n", encoding="utf-8")
    res = eio.read_complaints(p, boundary=AREA, profile=str(prof), pii_key_bytes=KEY)
    rej = res.rejects
    assert list(rej["source_row"]) == list(range(2, 13))
    assert [r.split(":")[0] for r in rej["reason"]] == [
        "missing_coordinates", "bad_value", "zero_coordinates", "unknown_crs",
        "swapped_coordinates", "coordinates_out_of_range", "outside_study_area",
        "missing_time", "unparsable_time", "below_intensity", "duplicate_id",
    ]
    assert list(rej["record_id"]) == [f"C{i:02d}" for i in range(2, 12)] + ["C01"]
    assert set(rej["source_file"]) == {"cmp.csv"}
    assert list(res.frame["complaint_id"]) == ["C01", "cmp-13"]
    assert list(res.frame["source_row"]) == [1, 13]
    assert res.frame["intensity"].iloc[0] == 1.0
    codes = {r.split(":")[0] for r in rej["reason"]}
    assert codes <= set(eio.REJECT_REASONS)
    assert res.summary["rows_read"] == 13 and res.summary["rows_rejected"] == 11


def test_swapped_without_study_area_uses_range() -> None:
    df = pd.DataFrame(
        {"time": ["2026-10-29 22:15"] * 3, "lon": ["36.2", "36.2", "10"], "lat": ["117.1", "80", "200"]}
    )
    res = eio.read_complaints(df, pii_key_bytes=KEY)
    # (36.2, 80) is a valid point somewhere on earth: accepted without a study area
    assert list(res.frame["source_row"]) == [2]
    assert list(res.rejects["reason"]) == ["swapped_coordinates", "coordinates_out_of_range"]
    assert any("no study area" in w for w in res.summary["warnings"])


def test_enterprise_missing_id_and_duplicate(tmp_path: Path) -> None:
    p = write_csv(
        tmp_path / "enterprises.csv",
        ["企业编号", "企业名称", "行业", "经度", "纬度", "状态", "关停日期"],
        [
            ["E1", "甲化工", "C26 化学原料和化学制品制造业", "117.1", "36.2", "在产", ""],
            ["", "乙焦化", "C2521 炼焦", "117.2", "36.3", "", ""],
            ["E1", "丙", "", "117.3", "36.3", "", ""],
            ["E2", "丁", "", "117.3", "36.3", "关停", ""],
            ["E3", "戊", "", "117.3", "36.3", "", "2026-05-01"],
        ],
    )
    res = eio.read_enterprises(p)
    assert list(res.rejects["reason"]) == ["missing_id", "duplicate_id"]
    assert list(res.rejects["source_row"]) == [2, 3]
    f = res.frame
    assert list(f["enterprise_id"]) == ["E1", "E2", "E3"]
    assert list(f["status"]) == ["operating", "closed", "closed"]
    assert f["closed_on"].iloc[2] == ts("2026-05-01")
    assert list(f.columns[:11]) == [
        "enterprise_id", "name", "industry", "industry_code", "lon", "lat", "crs_in",
        "permit_id", "status", "closed_on", "area",
    ]


# ---------------------------------------------------------------------------- mapping
def test_explicit_columns_mapping(tmp_path: Path) -> None:
    p = write_csv(tmp_path / "c.csv", ["单号", "when", "E", "N"], [["Z1", "2026-10-29 22:15", "117.1", "36.2"]])
    res = eio.read_complaints(
        p, columns=eio.parse_columns_option("单号=complaint_id, when=received_at,E=lon,N=lat"),
        pii_key_bytes=KEY,
    )
    assert list(res.frame["complaint_id"]) == ["Z1"]
    with pytest.raises(InputError, match="SRC=DST"):
        eio.parse_columns_option("a")
    with pytest.raises(InputError, match="unknown complaints column"):
        eio.read_complaints(p, columns={"E": "longitude_deg"})


def test_profile_smell_app_style(tmp_path: Path) -> None:
    """A Smell-Pittsburgh-like layout: epoch seconds (UTC), a zone, three text columns,
    smell_value as intensity, a constant channel, no identity."""
    prof = tmp_path / "smell.yaml"
    prof.write_text(
        "name: smell\n"
        "columns: {epoch time: received_at, skewed latitude: lat, skewed longitude: lon, "
        "smell value: intensity}\n"
        "tz: America/New_York\n"
        "time_unit: epoch_s\n"
        "defaults: {channel: app}\n"
        "text_columns: [smell description, feelings symptoms, additional comments]\n"
        "text_separator: ' | '\n"
        "drop_below_intensity: 2\n"
        "drop_columns: [user hash]\n",
        encoding="utf-8",
    )
    p = write_csv(
        tmp_path / "smell.csv",
        ["epoch time", "skewed latitude", "skewed longitude", "smell value", "smell description",
         "feelings symptoms", "additional comments", "user hash"],
        [
            ["1793283300", "40.44", "-79.99", "4", "rotten eggs", "headache", "", "u1"],
            ["1793283360", "40.45", "-79.98", "1", "fine", "", "", "u2"],
        ],
    )
    res = eio.read_complaints(p, profile=str(prof), pii_key_bytes=KEY)
    f = res.frame
    assert len(f) == 1 and list(res.rejects["reason"]) == ["below_intensity"]
    assert f["received_at"].iloc[0] == pd.Timestamp("2026-10-29 14:15", tz="UTC")
    assert str(f["received_at"].dt.tz) == "America/New_York"
    assert f["text"].iloc[0] == "rotten eggs | headache"
    assert f["channel"].iloc[0] == "app"
    assert f["intensity"].iloc[0] == 4.0
    assert f["complainant_key"].iloc[0] == ""


def test_bundled_default_profile_and_unknown() -> None:
    from envtrace.config import load_profile

    prof = load_profile("default")
    assert prof.name == "default" and prof.time_unit == "auto"
    with pytest.raises(InputError, match="not found"):
        load_profile("no-such-profile")


# ---------------------------------------------------------------------------- coordinates
def test_crs_per_row_and_per_file_roundtrip() -> None:
    lon0, lat0 = 117.123456, 36.234567
    glon, glat = geo.from_wgs84(np.array([lon0]), np.array([lat0]), "gcj02")
    blon, blat = geo.from_wgs84(np.array([lon0]), np.array([lat0]), "bd09")
    assert abs(glon[0] - lon0) > 1e-3  # the shift is real (hundreds of metres)
    df = pd.DataFrame(
        {
            "time": ["2026-10-29 22:15"] * 3,
            "lon": [repr(float(glon[0])), repr(float(blon[0])), repr(lon0)],
            "lat": [repr(float(glat[0])), repr(float(blat[0])), repr(lat0)],
            "坐标系": ["GCJ-02", "百度坐标", ""],
        }
    )
    res = eio.read_complaints(df, pii_key_bytes=KEY)
    f = res.frame
    assert list(f["crs_in"]) == ["gcj02", "bd09", "wgs84"]
    d, _ = geo.distance_bearing(f["lon"], f["lat"], lon0, lat0)
    assert np.all(d < 0.5)
    # per file: --crs gcj02 for a file without a crs column
    df2 = df.drop(columns=["坐标系"]).iloc[[0]]
    f2 = eio.read_complaints(df2, crs="gcj02", pii_key_bytes=KEY).frame
    d2, _ = geo.distance_bearing(f2["lon"], f2["lat"], lon0, lat0)
    assert f2["crs_in"].iloc[0] == "gcj02" and d2[0] < 0.5


# ---------------------------------------------------------------------------- vocabularies
def test_channel_category_satisfaction() -> None:
    ch = eio.canonical_channel(["12369", "环保热线", "电话", "网站", "网上投诉", "平台", "web",
                                "12345转办", "市民热线", "公众号", "WeChat", "APP", "信访", ""])
    assert list(ch) == ["hotline"] * 3 + ["web"] * 4 + ["12345"] * 2 + ["wechat"] * 2 + ["app", "other", "other"]
    cat = eio.canonical_category(["恶臭", "odor", "噪音", "扬尘", "污水", "垃圾", "其他", ""])
    assert list(cat.iloc[:7]) == ["odour", "odour", "noise", "dust", "water", "waste", "other"]
    assert pd.isna(cat.iloc[7])
    sat = eio.canonical_satisfaction(["满意", "基本满意", "不满意", "partly", ""])
    assert list(sat) == ["satisfied", "partly", "unsatisfied", "partly", ""]


# ---------------------------------------------------------------------------- personal data
def test_mask_text() -> None:
    out = eio.mask_text(
        ["请回电13812345678", "座机0538-1234567谢谢", "身份证37090219800101123X", "编号2026102912 没有", "138 1234 5678"]
    )
    assert list(out) == ["请回电[电话]", "座机[电话]谢谢", "身份证[身份证]", "编号2026102912 没有", "[电话]"]


def test_complainant_key_phone_first_and_stable() -> None:
    k = eio.complainant_key(["张三", "张三", "李四", ""], ["+86 138-1234-5678", "", "13812345678", ""], key=KEY)
    assert k[0] == k[2]  # same phone, different names: same household
    assert k[1] != k[0] and len(k[0]) == 16 and k[3] == ""
    assert eio.complainant_key(["张三"], [""], key=KEY)[0] == k[1]
    assert eio.complainant_key(["张三"], [""], key=b"other")[0] != k[1]
    import hashlib
    import hmac

    # documented construction: HMAC-SHA256 over "p:<digits>" (or "n:<name>"), 16 hex
    assert k[0] == hmac.new(KEY, b"p:13812345678", hashlib.sha256).hexdigest()[:16]
    assert k[1] == hmac.new(KEY, "n:张三".encode(), hashlib.sha256).hexdigest()[:16]


def test_pii_key_created_once_with_mode_0600(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ENVTRACE_PII_KEY")
    monkeypatch.setenv("ENVTRACE_VAR", str(tmp_path / "state"))
    k1 = eio.pii_key()
    path = tmp_path / "state" / "pii.key"
    assert path.exists() and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert eio.pii_key() == k1 and len(k1) == 64


# ---------------------------------------------------------------------------- duplicates
def test_mark_duplicates_exact() -> None:
    t0 = pd.Timestamp("2026-10-29 08:00", tz=TZ)
    h = pd.Timedelta(hours=1)
    frame = pd.DataFrame(
        {
            "complaint_id": list("abcdefghi"),
            "received_at": [t0 + k * h for k in (0, 2, 60, 61, 3, 1, 0, 1, 4)],
            # 0.005 degrees of latitude ~ 556 m, 0.02 ~ 2.2 km
            "lon": [117.1] * 9,
            "lat": [36.2, 36.205, 36.2, 36.2, 36.2, 36.22, 36.2, 36.2, 36.2],
            "category": ["odour", pd.NA, "odour", "odour", "noise", "odour", "odour", "odour", "noise"],
            "complainant_key": ["k1"] * 6 + ["", ""] + ["k1"],
            "source_row": range(1, 10),
        }
    )
    # a opens; f (2.2 km) opens; b (category NA, 556 m, 2 h) -> a; e (noise) opens;
    # i (noise, 1 h after e) -> e; c (60 h: every happening expired) opens; d -> c;
    # g and h have no key.
    assert list(eio.mark_duplicates(frame)) == ["", "a", "", "c", "", "", "", "", "e"]
    wide = eio.mark_duplicates(frame, distance_m=3000.0)
    assert list(wide) == ["", "a", "", "c", "", "a", "", "", "e"]
    # 1 h window: b opens (a expired); e (noise) meets b (category NA, 1 h, 556 m) -> b;
    # i (2 h after b) opens.
    short = eio.mark_duplicates(frame, window_h=1.0)
    assert list(short) == ["", "", "", "c", "b", "", "", "", ""]


# ---------------------------------------------------------------------------- other files
def test_read_wind_alarms_actions(tmp_path: Path) -> None:
    w = write_csv(
        tmp_path / "wind.csv",
        ["时间", "风向", "风速", "站点"],
        [
            ["2026-10-29 23:10", "东北风", "3级", "S1"],
            ["2026-10-29 22:00", "90", "2.5", "S1"],
            ["2026-10-29 22:00", "静风", "0.2", "S2"],
            ["bad", "90", "2", "S1"],
            ["2026-10-29 21:00", "up", "2", "S1"],
            ["2026-10-29 21:00", "90", "", "S1"],
        ],
    )
    res = eio.read_wind(w, centre=(117.1, 36.2))
    f = res.frame
    assert list(f["time"]) == [ts("2026-10-29 22:00"), ts("2026-10-29 23:00"), ts("2026-10-29 22:00")]
    assert list(f["station_id"]) == ["S1", "S1", "S2"]
    assert f["wind_dir_deg"].iloc[1] == 45.0 and np.isnan(f["wind_dir_deg"].iloc[2])
    assert f["wind_speed_ms"].iloc[0] == 2.5
    assert set(f["stability"]) <= set("ABCDEF") and (f["stability"] != "").all()
    assert list(res.rejects["reason"]) == ["unparsable_time", "bad_value: wind_dir", "bad_value: wind_speed"]

    a = write_csv(
        tmp_path / "alarms.csv",
        ["企业编号", "报警时间", "污染物", "监测值", "限值"],
        [["E1", "2026-10-29 22:00", "SO2", "120", "100"], ["", "2026-10-29 22:00", "SO2", "1", "1"],
         ["E1", "2026-10-29 22:00", "SO2", "high", "100"]],
    )
    ra = eio.read_alarms(a)
    assert list(ra.frame["value"]) == [120.0] and list(ra.rejects["reason"]) == ["missing_id", "bad_value: value"]

    c = write_csv(
        tmp_path / "actions.csv",
        ["日期", "措施", "投诉编号", "企业编号", "备注"],
        [["2026-10-30", "现场检查", "C1", "", "联系人13812345678"], ["2026-10-31", "立案处罚", "", "E1", ""],
         ["2026-11-01", "移送公安", "", "E1", ""], ["2026-11-02", "整改完成", "", "E1", ""],
         ["2026-11-03", "复核验收", "", "E1", ""], ["2026-11-03", "喝茶", "", "E1", ""], ["2026-11-03", "检查", "", "", ""]],
    )
    rc = eio.read_actions(c)
    assert list(rc.frame["action"]) == ["inspection", "penalty_case", "police_transfer", "rectified", "verified"]
    assert rc.frame["note"].iloc[0] == "联系人[电话]"
    assert list(rc.rejects["reason"]) == ["bad_value: action", "missing_id"]


def test_load_dataset_and_config(tmp_path: Path) -> None:
    d = tmp_path / "ds"
    d.mkdir()
    (d / "envtrace.toml").write_text('tz = "Asia/Shanghai"\ndefault_crs = "gcj02"\n[events]\neps_m = 500\n', encoding="utf-8")
    write_csv(d / "enterprises.csv", ["enterprise_id", "name", "lon", "lat", "crs"],
              [["E1", "a", "117.10", "36.20", "wgs84"], ["E2", "b", "117.20", "36.30", "wgs84"]])
    write_csv(d / "complaints.csv", ["complaint_id", "received_at", "lon", "lat"],
              [["C1", "2026-10-29 22:15", "117.15", "36.25"], ["C2", "2026-10-29 22:15", "118.5", "37.5"]])
    cfg = eio.load_config(d)
    assert cfg.default_crs == "gcj02" and cfg.events == {"eps_m": 500}
    ds = eio.load_dataset(d)
    assert list(ds.complaints["complaint_id"]) == ["C1"]
    assert ds.complaints["crs_in"].iloc[0] == "gcj02"
    assert list(ds.rejects["reason"]) == ["outside_study_area"]  # enterprises' hull + 20 km
    assert ds.summary["files"]["complaints.csv"]["rows_read"] == 2
    assert ds.wind is None and len(ds.enterprises) == 2
    (d / "envtrace.toml").write_text("tz = [", encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        eio.load_config(d)


# ---------------------------------------------------------------------------- invariant
_CELL = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
    st.sampled_from(["", "0", "117.1", "36.2", "36.2", "1793283300", "2026-10-29 22:15",
                     "2026年10月29日22时15分", "46324.5", "gcj02", "bd09", "xx", "C1", "nan", "-1e400"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_CELL, min_size=6, max_size=6), min_size=1, max_size=25))
def test_rows_read_equals_accepted_plus_rejected(tmp_path: Path, rows: list[list[str]]) -> None:
    p = write_csv(tmp_path / "g.csv", ["编号", "时间", "经度", "纬度", "坐标系", "内容"], rows)
    n = len(eio.read_table(p))
    res = eio.read_complaints(p, boundary=AREA, pii_key_bytes=KEY)
    assert n == len(rows)
    assert len(res.frame) + len(res.rejects) == n
    rows_seen = sorted(list(res.frame["source_row"]) + list(res.rejects["source_row"]))
    assert rows_seen == list(range(1, n + 1))
    assert res.summary["rows_read"] == n
    assert {r.split(":")[0] for r in res.rejects["reason"]} <= set(eio.REJECT_REASONS)


# ---------------------------------------------------------------------------- CLI
def _cli(args: list[str]):
    from envtrace.cli import app

    return CliRunner().invoke(app, args)


def test_cli_ingest_never_leaks_personal_data(tmp_path: Path) -> None:
    names = ["王小明", "赵丽华", "Zhang Wei"]
    phones = ["13912345678", "0538-7654321", "+86 139 8765 4321"]
    idno = "37090219800101123X"
    p = write_csv(
        tmp_path / "complaints.csv",
        ["投诉编号", "受理时间", "经度", "纬度", "投诉人", "联系电话", "投诉内容", "事发地址"],
        [
            ["P1", "2026-10-29 22:15", "117.1", "36.2", names[0], phones[0], f"我是王小明，身份证{idno}，电话{phones[0]}", "某村"],
            ["P2", "2026-10-29 23:15", "117.1", "36.2", names[1], phones[1], "赵丽华反映臭味，回电0538-7654321", f"{names[1]}家门口"],
            ["P3", "bad time", "117.1", "36.2", names[2], phones[2], "x", ""],
        ],
    )
    out = tmp_path / "out"
    r = _cli(["ingest", str(p), "--out", str(out)])
    assert r.exit_code == 0, r.output
    files = sorted(out.iterdir())
    assert [f.name for f in files] == ["complaints.csv", "rejects.csv", "summary.json"]
    blob = b"".join(f.read_bytes() for f in files) + r.output.encode()
    for secret in [*names, *phones, "7654321", "98765", idno, "12345678"]:
        assert secret.encode() not in blob, secret
    got = pd.read_csv(out / "complaints.csv", dtype=str, keep_default_na=False)
    assert list(got["complaint_id"]) == ["P1", "P2"]
    assert list(got["received_at"]) == ["2026-10-29T22:15:00+08:00", "2026-10-29T23:15:00+08:00"]
    assert "complainant" not in got.columns and "phone" not in got.columns
    assert (got["complainant_key"].str.len() == 16).all()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.csv", "no such file"),
        (lambda d: write_csv(d / "c.csv", ["foo", "bar"], [["1", "2"]]), "no recognisable"),
        (lambda d: (d / "g.csv").write_bytes(bytes(range(256)) * 40) and d / "g.csv", "binary"),
    ],
)
def test_cli_ingest_unusable_input_exit_2(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path)
    r = _cli(["ingest", str(path), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2
    lines = [ln for ln in r.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("envtrace: error:") and message in lines[0]
    assert not (tmp_path / "out").exists()


def test_geojson_points_and_area_by_polygon(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    pts = gpd.GeoDataFrame(
        {"编号": ["G1", "G2"], "时间": ["2026-10-29 22:15", "2026-10-29 23:15"]},
        geometry=[Point(117.1, 36.2), Point(117.4, 36.4)],
        crs="EPSG:4326",
    )
    pts.to_file(tmp_path / "c.geojson", driver="GeoJSON")
    areas = gpd.GeoDataFrame(
        {"名称": ["西镇", "东镇"]}, geometry=[box(117.0, 36.0, 117.25, 36.5), box(117.25, 36.0, 117.5, 36.5)],
        crs="EPSG:4326",
    )
    areas.to_file(tmp_path / "areas.geojson", driver="GeoJSON")
    a = eio.read_areas(tmp_path / "areas.geojson")
    assert list(a["area"]) == ["西镇", "东镇"]
    res = eio.read_complaints(tmp_path / "c.geojson", areas=a, pii_key_bytes=KEY)
    f = res.frame
    assert list(f["complaint_id"]) == ["G1", "G2"]
    assert list(f["lon"]) == [117.1, 117.4] and list(f["area"]) == ["西镇", "东镇"]
    assert res.summary["study_area"] is True


def test_cli_ingest_options(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["x"])
    ws = wb.create_sheet("data")
    ws.append(["单号", "when", "E", "N"])
    ws.append(["Q1", "2026-10-29 22:15", "117.1", "36.2"])
    p = tmp_path / "c.xlsx"
    wb.save(p)
    prof = tmp_path / "p.yaml"
    prof.write_text("columns: {单号: complaint_id, when: received_at}\ndefaults: {channel: app}\n", encoding="utf-8")
    out = tmp_path / "out"
    r = _cli(["ingest", str(p), "--out", str(out), "--sheet", "data", "--profile", str(prof),
              "--columns", "E=lon,N=lat", "--tz", "UTC"])
    assert r.exit_code == 0, r.output
    got = pd.read_csv(out / "complaints.csv", dtype=str, keep_default_na=False)
    assert list(got["complaint_id"]) == ["Q1"] and list(got["channel"]) == ["app"]
    assert list(got["received_at"]) == ["2026-10-29T22:15:00+00:00"]
    r2 = _cli(["ingest", str(p), "--out", str(out), "--tz", "Nowhere/City"])
    assert r2.exit_code == 2 and "unknown time zone" in r2.output


def test_format_times_iso_with_offsets_across_dst_and_half_hours():
    from envtrace.io import _format_times

    t = pd.Series(pd.to_datetime(["2026-03-08 06:59:59.900", "2026-03-08 07:00:00.000", None], utc=True))
    assert _format_times(t.dt.tz_convert("America/New_York")).tolist() == [
        "2026-03-08T01:59:59-05:00", "2026-03-08T03:00:00-04:00", ""]
    assert _format_times(t.dt.tz_convert("Asia/Kolkata")).tolist()[:2] == [
        "2026-03-08T12:29:59+05:30", "2026-03-08T12:30:00+05:30"]
    assert _format_times(t.dt.tz_convert("America/St_Johns")).tolist()[1] == "2026-03-08T04:30:00-02:30"  # DST began there too
    assert _format_times(t.dt.tz_convert("Asia/Shanghai")).tolist()[1] == "2026-03-08T15:00:00+08:00"
    assert _format_times(t.iloc[:0].dt.tz_convert("UTC")).tolist() == []


def test_without_areas_the_study_area_reaches_20_km_beyond_the_enterprises(tmp_path: Path) -> None:
    """Odour carries 15 km and more: a village 12 km beyond the last firm is in the study
    area built from the enterprises (convex hull + 20 km), a point 25 km beyond is not."""
    d = tmp_path / "ds"
    d.mkdir()
    write_csv(d / "enterprises.csv", ["enterprise_id", "name", "lon", "lat"],
              [["E1", "a", "117.00", "36.00"], ["E2", "b", "117.05", "36.00"]])
    # one degree of latitude is about 111 km: 12 km and 25 km north of the firms
    write_csv(d / "complaints.csv", ["complaint_id", "received_at", "lon", "lat"],
              [["C1", "2026-10-29 22:15", "117.02", f"{36 + 12 / 111.0:.5f}"],
               ["C2", "2026-10-29 22:15", "117.02", f"{36 + 25 / 111.0:.5f}"]])
    ds = eio.load_dataset(d)
    assert list(ds.complaints["complaint_id"]) == ["C1"]
    assert list(ds.rejects["reason"]) == ["outside_study_area"]
