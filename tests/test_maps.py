"""Tests for envtrace.maps: layers, escaping, offline assets, privacy, GCJ-02 shift, browser."""

from __future__ import annotations

import json
import re
import shutil

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from envtrace import geo, maps
from envtrace.i18n import label

TZ = "Asia/Shanghai"
HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "${alert(1)}",
    "`x`",
    "</script><script>alert(1)</script>",
]


def _complaints(n: int = 12, *, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "complaint_id": [f"C{i:03d}" for i in range(n)],
            "received_at": pd.date_range("2026-10-01 20:00", periods=n, freq="h", tz=TZ),
            "lon": 114.30 + rng.uniform(-0.01, 0.01, n),
            "lat": 30.50 + rng.uniform(-0.01, 0.01, n),
            "category": ["odour", "noise"] * (n // 2),
            "complainant_key": [f"feedface{i:08d}" for i in range(n)],
            "text": ["张三 13812345678 臭味"] * n,
            "address": ["幸福路88号"] * n,
        }
    )


def _events() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "cluster_id": ["E1", "E2"],
            "category": ["odour", "noise"],
            "n_complaints": [12, 5],
            "n_complainants": [8, 4],
            "start": pd.to_datetime(["2026-10-02 20:00", "2026-10-05 08:00"]).tz_localize(TZ),
            "end": pd.to_datetime(["2026-10-03 02:00", "2026-10-05 12:00"]).tz_localize(TZ),
            "lon": [114.30, 114.32],
            "lat": [30.50, 30.52],
            "radius_m": [400.0, 300.0],
            "p_value": [0.002, 0.2],
        },
        geometry=[
            shapely.Point(114.30, 30.50).buffer(0.004),
            shapely.Point(114.32, 30.52).buffer(0.003),
        ],
        crs="EPSG:4326",
    )


def _candidates(names: list[str] | None = None) -> pd.DataFrame:
    names = names or ["化工厂A", "焦化厂B"]
    return pd.DataFrame(
        {
            "cluster_id": ["E1"] * len(names),
            "rank": list(range(1, len(names) + 1)),
            "enterprise_id": [f"ENT{i}" for i in range(len(names))],
            "name": names,
            "score": np.linspace(0.9, 0.5, len(names)),
            "distance_m": [1500.0] * len(names),
            "bearing_deg": [45.0] * len(names),
            "p_value": [0.01] * len(names),
            "evidence": ["downwind " + n for n in names],
        }
    )


def _wind() -> pd.DataFrame:
    t = pd.date_range("2026-10-02", periods=48, freq="h", tz=TZ)
    return pd.DataFrame(
        {"time": t, "wind_dir_deg": np.tile([45.0, 90.0, 225.0], 16), "wind_speed_ms": 2.0}
    )


def _areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["城关镇", "<b>东乡</b>"]},
        geometry=[shapely.box(114.28, 30.48, 114.31, 30.53), shapely.box(114.31, 30.48, 114.34, 30.53)],
        crs="EPSG:4326",
    )


def _js(text: str) -> str:
    """How folium's ``tojson`` writes non-ASCII text into the page."""
    return json.dumps(text)[1:-1]


def _names(m: folium.Map) -> list[str]:
    return [getattr(ch, "layer_name", "") for ch in m._children.values()]


# --- escaping ------------------------------------------------------------------------------
def test_escape_text_neutralises_html_and_template_characters():
    assert maps.escape_text("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert maps.escape_text("${alert(1)}") == "&#36;&#123;alert(1)&#125;"
    assert maps.escape_text("`x`\\") == "&#96;x&#96;&#92;"
    assert maps.escape_text(float("nan")) == ""
    assert maps.escape_text(None) == ""


def test_js_string_cannot_close_a_script():
    s = maps.js_string("</script><script>alert(1)</script>")
    assert "<" not in s and ">" not in s
    assert s.startswith('"') and s.endswith('"')


def test_hostile_strings_never_reach_the_html_raw():
    cands = _candidates(HOSTILE)
    cands["evidence"] = HOSTILE
    areas = _areas()
    areas.loc[0, "name"] = HOSTILE[0]
    m = maps.event_map(_events(), candidates=cands, areas=areas, max_rank=5, basemap="none")
    page = maps.map_html(m, offline=False)
    for bad in HOSTILE:
        assert bad not in page
    assert "onerror=alert(1)" in page  # the text is kept, escaped
    assert "${" not in page
    # the only <script> opening tags are folium's own; the hostile ones are escaped
    assert page.count("<script>alert(1)") == 0


# --- layers ----------------------------------------------------------------------------------
def test_event_map_has_all_layers():
    cases = pd.DataFrame({"case_id": ["K1"], "cluster_id": ["E1"], "colour": ["red"]})
    m = maps.event_map(
        _events(), candidates=_candidates(), cases=cases, wind=_wind(),
        complaints=_complaints(), areas=_areas(), basemap="none", lang="zh", min_cell_count=1,
    )
    names = _names(m)
    for key in ("events", "suspects", "areas", "complaint_grid"):
        assert label(key, "zh") in names
    page = maps.map_html(m)
    assert "L.control.layers" in page
    assert "envtrace-legend" in page
    assert page.count("data:image/png;base64,") >= 1  # a wind rose in a popup
    assert maps.CASE_COLOURS["red"] in page  # the case colour on the footprint
    assert page.count("envtrace-event") >= 2
    assert page.count("envtrace-suspect") == 2


def test_wind_rose_is_a_png_and_none_without_wind():
    png = maps.wind_rose_png(_wind(), lang="zh")
    assert png is not None and png.startswith(b"\x89PNG")
    empty = _wind().iloc[:0]
    assert maps.wind_rose_png(empty) is None
    outside = maps.wind_rose_png(_wind(), start=pd.Timestamp("2030-01-01", tz=TZ),
                                 end=pd.Timestamp("2030-01-02", tz=TZ))
    assert outside is None


# --- privacy ---------------------------------------------------------------------------------
def test_published_map_shows_counts_not_points():
    c = _complaints(12)
    page = maps.map_html(maps.complaint_map(c, basemap="none", min_cell_count=1), offline=False)
    for cid in c["complaint_id"]:
        assert cid not in page
    for lon in c["lon"]:
        assert f"{lon:.5f}" not in page
    for forbidden in ("feedface", "13812345678", "张三", "幸福路"):
        assert forbidden not in page


def test_internal_map_shows_points_but_never_personal_fields():
    c = _complaints(12)
    page = maps.map_html(maps.complaint_map(c, basemap="none", internal=True), offline=False)
    for cid in c["complaint_id"]:
        assert cid in page
    assert "markerClusterGroup" in page
    for forbidden in ("feedface", "13812345678", "张三", "幸福路"):
        assert forbidden not in page


def test_complaint_grid_counts_and_threshold():
    # 3 complaints at one spot, 2 at another 5 km away; cells of 500 m, at least 3
    c = pd.DataFrame(
        {"lon": [114.3, 114.3, 114.3, 114.35, 114.35], "lat": [30.5] * 5,
         "category": ["odour", "odour", "noise", "dust", "dust"]}
    )
    grid = maps.complaint_grid(c, grid_m=500, min_cell_count=3)
    assert list(grid["n"]) == [3]
    assert grid["top_category"].iloc[0] == "odour"
    d, _ = geo.distance_bearing(114.3, 30.5, grid["lon"].iloc[0], grid["lat"].iloc[0])
    assert float(d) < 500 * np.sqrt(2) / 2 + 1
    assert list(maps.complaint_grid(c, grid_m=500, min_cell_count=1)["n"].sort_values()) == [2, 3]


# --- offline and base maps -----------------------------------------------------------------
_CDN = re.compile(r'<(?:script|link)\b[^>]*(?:src|href)="https?://', re.I)


@pytest.mark.parametrize("basemap", ["none", "osm"])
def test_offline_map_references_no_cdn(basemap):
    m = maps.event_map(_events(), candidates=_candidates(), complaints=_complaints(),
                       basemap=basemap, lang="en", heat=True, min_cell_count=1)
    page = maps.map_html(m, offline=True)
    assert not _CDN.search(page)
    assert "L.heatLayer" in page and "L.map(" in page
    assert ("tile.openstreetmap.org" in page) == (basemap == "osm")
    online = maps.map_html(m, offline=False)
    assert _CDN.search(online)


def test_default_basemap(monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    assert maps.default_basemap("zh") == "none"
    assert maps.default_basemap("en") == "osm"
    monkeypatch.setenv("TIANDITU_KEY", "abc123")
    assert maps.default_basemap("zh") == "tianditu"
    page = maps.map_html(maps.event_map(_events(), lang="zh"), offline=True)
    assert "tianditu.gov.cn/vec_w" in page and "tianditu.gov.cn/cva_w" in page
    assert "tk=abc123" in page and _js("天地图") in page
    with pytest.raises(ValueError):
        maps.event_map(_events(), basemap="google")


def test_amap_shifts_every_overlay_to_gcj02():
    ent = pd.DataFrame({"enterprise_id": ["ENT0"], "lon": [114.31], "lat": [30.51]})
    cands = _candidates(["化工厂A"])
    m_wgs = maps.event_map(_events(), candidates=cands, enterprises=ent, basemap="none")
    m_gcj = maps.event_map(_events(), candidates=cands, enterprises=ent, basemap="amap")

    def suspect_location(m):
        for ch in m._children.values():
            for sub in getattr(ch, "_children", {}).values():
                if isinstance(sub, folium.CircleMarker):
                    return sub.location
        raise AssertionError("no suspect marker")

    assert suspect_location(m_wgs) == pytest.approx([30.51, 114.31])
    glon, glat = geo.from_wgs84(114.31, 30.51, "gcj02")
    assert suspect_location(m_gcj) == pytest.approx([float(glat), float(glon)], abs=1e-12)
    assert abs(float(glon) - 114.31) > 1e-3  # the shift is real (hundreds of metres)
    page = maps.map_html(m_gcj)
    assert "autonavi.com" in page and _js("高德") in page
    # the event footprint is shifted too
    ring = np.asarray(shapely.get_coordinates(_events().geometry.iloc[0]))
    slon, slat = geo.from_wgs84(ring[0, 0], ring[0, 1], "gcj02")
    assert f"{float(slon):.6f}"[:-1] in page


def test_published_html_stays_light_at_100k_complaints():
    rng = np.random.default_rng(1)
    n = 100_000
    c = pd.DataFrame(
        {
            "lon": 114.3 + rng.normal(0, 0.05, n),
            "lat": 30.5 + rng.normal(0, 0.05, n),
            "category": rng.choice(["odour", "noise", "dust"], n),
        }
    )
    page = maps.map_html(maps.complaint_map(c, basemap="none"), offline=True)
    assert len(page.encode()) < 2_000_000


# --- browser -------------------------------------------------------------------------------
def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="Debian chromium not installed (apt-get install chromium)")
def test_map_renders_offline_in_chromium_without_injection(tmp_path):
    from playwright.sync_api import sync_playwright

    cands = _candidates(HOSTILE)
    cands["evidence"] = HOSTILE
    areas = _areas()
    areas.loc[0, "name"] = HOSTILE[3]
    m = maps.event_map(_events(), candidates=cands, complaints=_complaints(), areas=areas,
                       wind=_wind(), max_rank=5, basemap="none")
    path = maps.save_map(m, tmp_path / "map.html")
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=_chromium(),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.route(
                "**/*",
                lambda r: r.continue_() if r.request.url.startswith(("file://", "data:")) else r.abort(),
            )
            page.goto(path.as_uri())
            page.wait_for_selector(".leaflet-container")
            # open every popup and tooltip so their HTML is inserted into the DOM
            page.evaluate(
                """() => { for (const k of Object.keys(window)) {
                     const m = window[k];
                     if (k.startsWith('map_') && m && m.eachLayer) {
                       m.eachLayer(l => {
                         if (l.getPopup && l.getPopup()) { l.openPopup(); }
                         if (l.getTooltip && l.getTooltip()) { l.openTooltip(); }
                       });
                     } } }"""
            )
            page.wait_for_timeout(300)
            assert page.locator(".leaflet-container").count() == 1
            assert page.locator("path.envtrace-event").count() == 2
            assert page.locator("path.envtrace-suspect").count() == len(HOSTILE)
            assert page.locator('img[src="x"]').count() == 0
            assert page.locator(".leaflet-popup-content").count() >= 1
            page.screenshot(path=str(tmp_path / "map.png"))
        finally:
            browser.close()
    assert dialogs == []
    assert (tmp_path / "map.png").stat().st_size > 1000
