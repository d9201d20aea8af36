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


def test_unlikely_lower_ranked_suspects_get_no_line():
    cands = _candidates(["A", "B", "C"])
    cands["score"] = [0.05, 0.3, 0.02]  # rank 1 is drawn whatever its score
    page = maps.map_html(maps.event_map(_events(), candidates=cands, basemap="none"))
    assert page.count("envtrace-suspect") == 2
    assert "#3 C" not in page and "#2 B" in page and "#1 A" in page
    page0 = maps.map_html(maps.event_map(_events(), candidates=cands, basemap="none", min_score=0))
    assert page0.count("envtrace-suspect") == 3


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


def _payloads(page: str) -> list[dict]:
    """The complaint points' data of an internal map (one JSON object per category)."""
    return [json.loads(x) for x in re.findall(r"var P = (\{.*?\});\n", page)]


def test_internal_map_shows_points_with_masked_text_but_no_personal_fields():
    c = _complaints(12)
    page = maps.map_html(maps.complaint_map(c, basemap="none", internal=True), offline=False)
    data = _payloads(page)
    assert sorted(d["k"] for d in data) == [label("cat_noise", "zh"), label("cat_odour", "zh")]
    ids = sorted(d["ip"] + i for d in data for i in d["id"])
    assert ids == sorted(c["complaint_id"])
    # coordinates: latitude delta-coded, both in 1e-5 degrees
    lats = sorted(np.cumsum(d["la"])[k] / 1e5 for d in data for k in range(len(d["la"])))
    assert lats == pytest.approx(sorted(c["lat"]), abs=1e-5)
    # times as wall-clock minutes of the data's zone: 2026-10-01 20:00 is the first one
    first = min(d["t0"] + min(d["t"]) for d in data)
    assert pd.Timestamp(first * 60, unit="s") == pd.Timestamp("2026-10-01 20:00")
    texts = {x for d in data for x in d["x"]}
    assert texts == {"张三 [电话] 臭味"}  # phone masked again; a name inside free text cannot be recognised
    assert "markerClusterGroup" in page
    for forbidden in ("feedface", "13812345678", "幸福路"):
        assert forbidden not in page


def test_internal_map_leaves_texts_out_above_max_texts():
    c = _complaints(12)
    with pytest.warns(UserWarning, match="max_texts"):
        m = maps.complaint_map(c, basemap="none", internal=True, max_texts=10)
    data = _payloads(maps.map_html(m, offline=False))
    assert data and all("x" not in d for d in data)
    assert "臭味" not in maps.map_html(maps.complaint_map(c, basemap="none"), offline=False)


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
    # the staff map carries every point with id and time (texts left out above max_texts)
    c["complaint_id"] = [f"TS2026{i:08d}" for i in range(n)]
    c["received_at"] = pd.date_range("2026-01-01", periods=n, freq="5min", tz=TZ)
    c["text"] = "夜里一股酸臭味"
    with pytest.warns(UserWarning, match="max_texts"):
        internal = maps.map_html(maps.complaint_map(c, basemap="none", internal=True), offline=True)
    assert len(internal.encode()) < 5_000_000
    assert sum(len(d["id"]) for d in _payloads(internal)) == n


# --- browser -------------------------------------------------------------------------------
def _chromium() -> str | None:
    return "/usr/bin/chromium" if shutil.os.path.isfile("/usr/bin/chromium") else (
        shutil.which("chromium") or shutil.which("chromium-browser"))


needs_chromium = pytest.mark.skipif(_chromium() is None, reason="Debian chromium not installed (apt-get install chromium)")

# payloads that would show themselves if they ran: a dialog, an element, or a global flag
PAYLOADS = [
    '<img src=x onerror="window.__pwned=1;alert(1)">',
    "${window.__pwned=2}",
    "`${alert(3)}`",
    "</script><script>window.__pwned=4;alert(4)</script>",
    "\\u003c/script\\u003e \\\" ' 臭味",
]


class _Browser:
    """Headless Debian Chromium, network cut off (every non-file request aborted)."""

    def __init__(self, p):
        self.browser = p.chromium.launch(
            executable_path=_chromium(),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.aborted: list[str] = []

    def open(self, path, *, width: int = 1000, height: int = 700):
        page = self.browser.new_page(viewport={"width": width, "height": height})
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r):
            if r.request.url.startswith(("file://", "data:", "about:")):
                r.continue_()
            else:
                self.aborted.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.goto(path.as_uri())
        page.wait_for_function("window.__envtraceReady !== undefined", timeout=30_000)
        return page


_OPEN_ALL = """() => { for (const k of Object.keys(window)) {
     const m = window[k];
     if (k.startsWith('map_') && m && m.eachLayer) {
       m.eachLayer(l => {
         if (l.getPopup && l.getPopup()) { l.openPopup(); }
         if (l.getTooltip && l.getTooltip()) { l.openTooltip(); }
       });
     } } }"""

# click every complaint point of the internal map (through its cluster layer) and collect
# what each popup shows
_CLICK_COMPLAINTS = """() => { const shown = [];
   for (const k of Object.keys(window)) {
     const c = window[k];
     if (k.startsWith('complaint_points_') && c && c.getLayers) {
       for (const mk of c.getLayers()) {
         c.fire('click', {layer: mk, latlng: mk.getLatLng()});
         // a closed popup fades out for a while: the one just opened is the last
         const boxes = document.querySelectorAll('.leaflet-popup-content .envtrace-complaint');
         shown.push(boxes.length ? boxes[boxes.length - 1].innerText : null);
       }
     } }
   return shown; }"""


@pytest.mark.slow
@needs_chromium
def test_map_renders_offline_in_chromium_without_injection_or_console_errors(tmp_path):
    from playwright.sync_api import sync_playwright

    cands = _candidates(HOSTILE)
    cands["evidence"] = HOSTILE
    areas = _areas()
    areas.loc[0, "name"] = HOSTILE[3]
    m = maps.event_map(_events(), candidates=cands, complaints=_complaints(), areas=areas,
                       wind=_wind(), max_rank=5, basemap="none", min_cell_count=1)
    path = maps.save_map(m, tmp_path / "map.html")
    with sync_playwright() as p:
        b = _Browser(p)
        try:
            page = b.open(path)
            page.evaluate(_OPEN_ALL)  # every popup and tooltip's HTML goes into the DOM
            page.wait_for_timeout(300)
            assert page.locator(".leaflet-container").count() == 1
            assert page.locator("path.envtrace-event").count() == 2
            assert page.locator("path.envtrace-suspect").count() == len(HOSTILE)
            assert page.locator(".leaflet-overlay-pane path").count() >= 2 + len(HOSTILE) + 2  # + areas, grid
            assert page.locator(".envtrace-legend").is_visible()
            assert page.locator(".leaflet-control-layers-overlays label").count() >= 4
            assert page.locator('img[src="x"]').count() == 0
            assert page.locator(".leaflet-popup-content").count() >= 1
            page.screenshot(path=str(tmp_path / "map.png"))
        finally:
            b.browser.close()
    assert b.dialogs == []
    assert b.errors == []
    assert (tmp_path / "map.png").stat().st_size > 1000


@pytest.mark.slow
@needs_chromium
def test_internal_map_shows_script_payloads_in_complaint_texts_as_text(tmp_path):
    from playwright.sync_api import sync_playwright

    c = _complaints(len(PAYLOADS) * 2)
    c["text"] = PAYLOADS * 2
    path = maps.save_map(maps.complaint_map(c, basemap="none", internal=True), tmp_path / "internal.html")
    with sync_playwright() as p:
        b = _Browser(p)
        try:
            page = b.open(path)
            shown = page.evaluate(_CLICK_COMPLAINTS)
            # and one real click: zoom in on a point until it is drawn alone and click it
            page.evaluate("""() => { const k = Object.keys(window).find(k => k.startsWith('map_'));
                                     window[k].closePopup(); }""")
            lat, lon = float(c["lat"].iloc[0]), float(c["lon"].iloc[0])
            the_map = "window[Object.keys(window).find(k => k.startsWith('map_'))]"
            for _ in range(5):  # the view may still be settling from the clicks above
                page.evaluate(f"() => {the_map}.setView([{lat}, {lon}], 18, {{animate: false}})")
                page.wait_for_timeout(400)
                if page.evaluate(f"() => {the_map}.getZoom()") == 18:
                    break
            xy = page.evaluate(f"""() => {{ const m = {the_map};
                const pt = m.latLngToContainerPoint([{lat}, {lon}]);
                const r = m.getContainer().getBoundingClientRect();
                return [r.left + pt.x, r.top + pt.y]; }}""")
            page.mouse.click(xy[0], xy[1])
            page.wait_for_selector(".leaflet-popup-content .envtrace-complaint", timeout=5_000)
            clicked = page.locator(".leaflet-popup-content .envtrace-complaint").inner_text()
            assert page.locator('img[src="x"]').count() == 0
            assert page.locator(".leaflet-popup-content script, .leaflet-popup-content img").count() == 0
            pwned = page.evaluate("() => window.__pwned")
        finally:
            b.browser.close()
    assert len(shown) == len(c)
    for payload in PAYLOADS:  # the literal text is what the reader sees
        assert sum(payload in (s or "") for s in shown) == 2, payload
    assert "C000" in clicked and c["text"].iloc[0] in clicked
    assert pwned is None
    assert b.dialogs == []
    assert b.errors == []
