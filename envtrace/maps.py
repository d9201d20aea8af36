"""Interactive maps of complaints, events, suspected sources and cases (folium + branca).

Two builders return a :class:`folium.Map`:

* :func:`complaint_map` — complaints by category (grid counts + heat map when published,
  clustered points for staff with ``internal=True``), township boundaries, optional events;
* :func:`event_map` — event footprints with p-values and case colours, ranked suspects with
  lines to their events, a wind rose per event in the event's popup, optional complaints.

:func:`save_map` / :func:`map_html` write the map as one self-contained HTML file.

Privacy
-------
A *published* map (the default, ``internal=False``) never carries a complaint's point: the
complaints are counted on a square grid (``grid_m`` metres, cells with fewer than
``min_cell_count`` complaints are left out) and the heat map is drawn from those cell
centres. ``internal=True`` (staff only) shows the points with complaint id, time, category
and the complaint's text (phone and ID numbers masked again with
:func:`envtrace.io.mask_text`, cut at 140 characters; left out above 20 000 points to keep
the file light). No map ever carries ``complainant_key``, a name field, a phone number or
an address; a published map carries no text either.

Escaping
--------
folium does not escape popup or tooltip content and renders it inside JavaScript template
literals. envtrace therefore binds its own popups and tooltips. Complaint popups (internal
map) are built in the browser with DOM ``textContent`` from JSON data, so their text is
never parsed as HTML. Elsewhere every value that came from
an input file goes through :func:`escape_text` (``html.escape`` plus the characters that are
live inside a JavaScript template literal: backtick, ``$``, backslash, braces) and the whole
popup is embedded as a JSON string literal with ``<``, ``>``, ``&`` written as ``\\u003c`` …,
so neither ``</script>`` nor ``${...}`` can break out.

Offline
-------
With ``offline=True`` (the default) every ``<script src>`` / ``<link href>`` pointing at a CDN
is replaced by the file shipped in ``envtrace/data/web/`` (Leaflet 1.9.4,
Leaflet.markercluster 1.5.3, Leaflet.heat as shipped with folium), inlined into the HTML, so
the single file works on an isolated network. Only tile URLs of a tiled base map remain.

Base maps
---------
``tianditu`` (天地图, key from the environment variable ``TIANDITU_KEY``; CGCS2000 ≈ WGS84),
``amap`` (高德; its tiles are GCJ-02, so *every* overlay is shifted with
:func:`envtrace.geo.from_wgs84` when it is chosen), ``osm`` and ``none`` (blank, for isolated
networks). Default: ``lang='zh'`` → Tianditu when a key is set, else ``none``;
``lang='en'`` → OpenStreetMap.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import re
import warnings
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import branca
import folium
import folium.plugins
import numpy as np
import pandas as pd
import pyproj
import shapely
from jinja2 import Template

from envtrace import geo
from envtrace._atomic import atomic_write_text
from envtrace.i18n import category_label, colour_label, direction_labels, label

__all__ = [
    "BASEMAPS",
    "CATEGORY_COLOURS",
    "CASE_COLOURS",
    "default_basemap",
    "escape_text",
    "js_string",
    "cjk_font",
    "wind_rose_png",
    "complaint_grid",
    "complaint_map",
    "event_map",
    "map_html",
    "save_map",
    "inline_assets",
]

BASEMAPS: tuple[str, ...] = ("tianditu", "amap", "osm", "none")

CATEGORY_COLOURS: dict[str, str] = {
    "odour": "#8e44ad",
    "noise": "#2980b9",
    "dust": "#b9770e",
    "water": "#16a085",
    "waste": "#7f8c8d",
    "other": "#34495e",
}
CASE_COLOURS: dict[str, str] = {
    "green": "#27ae60",
    "blue": "#2e86de",
    "yellow": "#f1c40f",
    "red": "#e74c3c",
}
_RANK_COLOURS = ["#c0392b", "#e67e22", "#f39c12", "#7f8c8d", "#95a5a6"]

_LEAFLET_JS = ("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js")
_LEAFLET_CSS = ("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css")

# CDN file name -> file shipped in envtrace/data/web
_ASSETS: dict[str, str] = {
    "leaflet.js": "leaflet/leaflet.js",
    "leaflet.css": "leaflet/leaflet.css",
    "leaflet.markercluster.js": "markercluster/leaflet.markercluster.js",
    "MarkerCluster.css": "markercluster/MarkerCluster.css",
    "MarkerCluster.Default.css": "markercluster/MarkerCluster.Default.css",
    "leaflet_heat.min.js": "heat/leaflet_heat.min.js",
    "leaflet-heat.js": "heat/leaflet_heat.min.js",
}

_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "AR PL UMing CN",
)


# ---------------------------------------------------------------------------------------
# escaping
# ---------------------------------------------------------------------------------------
_TEMPLATE_LIVE = str.maketrans(
    {"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"}
)


def escape_text(value: Any) -> str:
    """Escape one value for HTML that may end up inside a JavaScript string or template.

    ``html.escape`` (``& < > " '``) plus backtick, ``$``, backslash and braces as character
    references, so the result is inert in HTML text, attributes and JS template literals.
    ``None``/NaN become ``""``.
    """
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return html.escape(str(value), quote=True).translate(_TEMPLATE_LIVE)


def js_string(value: str) -> str:
    """A JavaScript string literal for ``value`` that is safe inside ``<script>``.

    JSON encoding with ``<``, ``>``, ``&``, U+2028 and U+2029 as ``\\uXXXX`` escapes.
    """
    return (
        json.dumps(str(value), ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


class _Bind(branca.element.MacroElement):
    """Bind a popup or tooltip (already escaped HTML) to the parent layer as a JS string."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.{{ this.method }}({{ this.content }}, {{ this.options }});
        {% endmacro %}"""
    )

    def __init__(self, content_html: str, *, method: str, options: dict | None = None):
        super().__init__()
        self._name = "Bind"
        self.method = method
        self.content = js_string(content_html)
        self.options = json.dumps(options or {})


def _popup(layer: Any, content_html: str, *, max_width: int = 420) -> None:
    layer.add_child(_Bind(content_html, method="bindPopup", options={"maxWidth": max_width}))


def _tooltip(layer: Any, content_html: str) -> None:
    layer.add_child(_Bind(content_html, method="bindTooltip", options={"sticky": True}))


def _table(rows: Iterable[tuple[str, Any]], *, title: str | None = None) -> str:
    parts = ['<div class="envtrace-popup" style="font-size:12px">']
    if title is not None:
        parts.append(f"<b>{escape_text(title)}</b>")
    parts.append('<table style="border-collapse:collapse">')
    for key, value in rows:
        parts.append(
            f'<tr><th style="text-align:left;padding-right:6px;white-space:nowrap">'
            f"{escape_text(key)}</th><td>{escape_text(value)}</td></tr>"
        )
    parts.append("</table></div>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------
# base maps and coordinate shift
# ---------------------------------------------------------------------------------------
def default_basemap(lang: str = "zh") -> str:
    """``'tianditu'`` for Chinese when ``TIANDITU_KEY`` is set, else ``'none'``; ``'osm'`` for English."""
    if lang == "en":
        return "osm"
    return "tianditu" if os.environ.get("TIANDITU_KEY", "").strip() else "none"


def _check_basemap(basemap: str | None, lang: str) -> str:
    name = default_basemap(lang) if basemap in (None, "", "default") else str(basemap).lower()
    aliases = {"gaode": "amap", "autonavi": "amap", "openstreetmap": "osm", "blank": "none"}
    name = aliases.get(name, name)
    if name not in BASEMAPS:
        raise ValueError(f"unknown base map {basemap!r}; use one of {', '.join(BASEMAPS)}")
    if name == "tianditu" and not os.environ.get("TIANDITU_KEY", "").strip():
        warnings.warn("TIANDITU_KEY is not set; using a blank base map", stacklevel=3)
        name = "none"
    return name


def _tianditu_url(layer: str, key: str) -> str:
    return (
        f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
    )


def _add_basemap(m: folium.Map, basemap: str, lang: str) -> None:
    if basemap == "tianditu":
        key = re.sub(r"[^0-9A-Za-z]", "", os.environ.get("TIANDITU_KEY", ""))
        sub = list("01234567")
        folium.TileLayer(
            _tianditu_url("vec", key), attr="天地图", name=label("basemap_tianditu", lang),
            subdomains=sub, max_zoom=18, overlay=False, control=True,
        ).add_to(m)
        folium.TileLayer(
            _tianditu_url("eva" if lang == "en" else "cva", key), attr="天地图",
            name=label("basemap_tianditu", lang) + " ·", subdomains=sub, max_zoom=18,
            overlay=True, control=False,
        ).add_to(m)
    elif basemap == "amap":
        amap_lang = "en" if lang == "en" else "zh_cn"
        folium.TileLayer(
            f"https://webrd0{{s}}.is.autonavi.com/appmaptile?lang={amap_lang}&size=1&scale=1"
            "&style=8&x={x}&y={y}&z={z}",
            attr="高德地图 AutoNavi", name=label("basemap_amap", lang), subdomains=list("1234"),
            max_zoom=18, overlay=False, control=True,
        ).add_to(m)
    elif basemap == "osm":
        folium.TileLayer(
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            attr="&copy; OpenStreetMap contributors", name=label("basemap_osm", lang),
            max_zoom=19, overlay=False, control=True,
        ).add_to(m)
    else:
        m.get_root().header.add_child(
            branca.element.Element(
                "<style>.leaflet-container{background:#f7f7f2}</style>"
            ),
            name="envtrace_blank_background",
        )


def _shifter(basemap: str) -> Callable[[Any, Any], tuple[np.ndarray, np.ndarray]]:
    """(lon, lat) -> (lon, lat) in the base map's datum: GCJ-02 for Amap, else unchanged."""
    if basemap == "amap":
        return lambda lon, lat: geo.from_wgs84(lon, lat, "gcj02")
    return lambda lon, lat: (np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))


def _shift_geometry(geoms: Any, shift: Callable) -> Any:
    def fn(xy: np.ndarray) -> np.ndarray:
        lon, lat = shift(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, fn)


def _new_map(basemap: str, lang: str) -> folium.Map:
    m = folium.Map(location=[30.0, 114.0], zoom_start=11, tiles=None, control_scale=True,
                   prefer_canvas=False)
    # only Leaflet itself: no jQuery, Bootstrap, Font Awesome (envtrace binds its own popups)
    m.default_js = [_LEAFLET_JS]
    m.default_css = [_LEAFLET_CSS]
    # clustering needs a maxZoom, which a blank base map (no tile layer) does not supply
    m.options["maxZoom"] = 19
    _add_basemap(m, basemap, lang)
    return m


def _fit(m: folium.Map, lons: list[np.ndarray], lats: list[np.ndarray]) -> None:
    lon = np.concatenate([np.asarray(v, dtype=float).ravel() for v in lons] or [np.array([])])
    lat = np.concatenate([np.asarray(v, dtype=float).ravel() for v in lats] or [np.array([])])
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return
    s, n = float(lat[ok].min()), float(lat[ok].max())
    w, e = float(lon[ok].min()), float(lon[ok].max())
    m.location = [(s + n) / 2, (w + e) / 2]
    m.fit_bounds([[s, w], [n, e]], padding=(10, 10))


# ---------------------------------------------------------------------------------------
# fonts and wind rose
# ---------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Name of an installed font that renders Chinese (``'Noto Sans CJK SC'`` first), or None."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in _CJK_FONTS:
        if name in names:
            return name
    for name in sorted(names):
        if "CJK" in name or "Han Sans" in name or "WenQuanYi" in name:
            return name
    return None


def _plot_lang(lang: str) -> tuple[str, str | None]:
    """Language for plot labels and the font to use (falls back to English without a CJK font)."""
    if lang != "zh":
        return lang, None
    font = cjk_font()
    if font is None:
        warnings.warn(
            "no CJK font found (install fonts-noto-cjk); plot labels fall back to English",
            stacklevel=3,
        )
        return "en", None
    return "zh", font


_SPEED_BINS = (0.0, 1.5, 3.3, 5.4, np.inf)


def wind_rose_png(
    wind: pd.DataFrame | None,
    *,
    start: Any = None,
    end: Any = None,
    pad_h: float = 2.0,
    lon: float | None = None,
    lat: float | None = None,
    lang: str = "zh",
    title: str | None = None,
    size_in: float = 2.8,
    dpi: int = 90,
) -> bytes | None:
    """A wind rose (matplotlib polar bar chart, 16 sectors stacked by speed) as PNG bytes.

    Parameters
    ----------
    wind : DataFrame
        ``time, wind_dir_deg`` (FROM, degrees from north), ``wind_speed_ms`` (m/s), optional
        ``station_id, lon, lat``.
    start, end : timestamp, optional
        Period to use, widened by ``pad_h`` hours either side.
    lon, lat : float, optional
        Event centre; with several stations the nearest one is used.
    lang : {'zh', 'en'}
        Labels; Chinese needs a CJK font (see :func:`cjk_font`), else English with a warning.

    Returns
    -------
    bytes or None
        PNG, or None when there is no usable hour of wind in the period.
    """
    if wind is None or len(wind) == 0 or "wind_dir_deg" not in wind:
        return None
    w = wind
    if "time" in w and (start is not None or end is not None):
        t = pd.to_datetime(w["time"])
        mask = pd.Series(True, index=w.index)
        if start is not None:
            mask &= t >= pd.Timestamp(start) - pd.Timedelta(hours=pad_h)
        if end is not None:
            mask &= t <= pd.Timestamp(end) + pd.Timedelta(hours=pad_h)
        w = w[mask.to_numpy()]
    if (
        lon is not None and lat is not None and "station_id" in w and "lon" in w and "lat" in w
        and w["station_id"].nunique() > 1
    ):
        st = w.groupby("station_id")[["lon", "lat"]].first().dropna()
        if len(st):
            d, _ = geo.distance_bearing(lon, lat, st["lon"].to_numpy(), st["lat"].to_numpy())
            w = w[w["station_id"] == st.index[int(np.nanargmin(d))]]
    direction = pd.to_numeric(w["wind_dir_deg"], errors="coerce").to_numpy(dtype=float)
    speed = (
        pd.to_numeric(w["wind_speed_ms"], errors="coerce").to_numpy(dtype=float)
        if "wind_speed_ms" in w
        else np.full(len(w), np.nan)
    )
    ok = np.isfinite(direction)
    if not ok.any():
        return None
    direction, speed = direction[ok], np.nan_to_num(speed[ok], nan=0.0)
    sector = np.floor(((direction % 360.0) + 11.25) / 22.5).astype(int) % 16

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    plot_lang, font = _plot_lang(lang)
    fig = Figure(figsize=(size_in, size_in), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(projection="polar")
    ax.set_theta_zero_location("N")
    ax.set_theta_direction(-1)
    theta = np.deg2rad(np.arange(16) * 22.5)
    width = np.deg2rad(22.5) * 0.9
    bottom = np.zeros(16)
    colours = ["#d6eaf8", "#85c1e9", "#2e86c1", "#1b4f72"]
    n = len(direction)
    for i in range(len(_SPEED_BINS) - 1):
        sel = (speed >= _SPEED_BINS[i]) & (speed < _SPEED_BINS[i + 1])
        freq = np.bincount(sector[sel], minlength=16) / n * 100.0
        hi = _SPEED_BINS[i + 1]
        name = f"{_SPEED_BINS[i]:g}–{hi:g}" if np.isfinite(hi) else f"≥{_SPEED_BINS[i]:g}"
        ax.bar(theta, freq, width=width, bottom=bottom, color=colours[i], edgecolor="white",
               linewidth=0.4, label=name)
        bottom += freq
    fontprops = {"family": font} if font else {}
    labels = direction_labels(plot_lang)
    ax.set_xticks(theta[::2])
    ax.set_xticklabels(labels[::2], fontsize=7, **fontprops)
    ax.tick_params(axis="y", labelsize=6)
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}%"))
    ttl = title if title is not None else label("wind_rose", plot_lang)
    ax.set_title(ttl, fontsize=8, **fontprops)
    leg = ax.legend(loc="lower left", bbox_to_anchor=(-0.18, -0.22), fontsize=5, ncol=2,
                    title=label("wind_speed", plot_lang), title_fontsize=5, frameon=False)
    if font:
        leg.get_title().set_fontfamily(font)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------
# complaints
# ---------------------------------------------------------------------------------------
def _valid_points(frame: pd.DataFrame) -> pd.DataFrame:
    lon = pd.to_numeric(frame["lon"], errors="coerce")
    lat = pd.to_numeric(frame["lat"], errors="coerce")
    ok = (lon.notna() & lat.notna()).to_numpy()
    return frame[ok]


def complaint_grid(
    complaints: pd.DataFrame,
    *,
    grid_m: float = 500.0,
    min_cell_count: int = 3,
    crs: pyproj.CRS | None = None,
) -> pd.DataFrame:
    """Count complaints on a square grid (for published maps).

    Parameters
    ----------
    complaints : DataFrame
        ``lon, lat`` (WGS84 degrees), optional ``category``.
    grid_m : float
        Cell side in metres, in :func:`envtrace.geo.local_crs` of the complaints.
    min_cell_count : int
        Cells with fewer complaints are dropped, so a single household cannot be located.

    Returns
    -------
    DataFrame
        One row per kept cell: ``n`` (complaints), ``lon, lat`` (cell centre, WGS84),
        ``corners`` (5×2 array of lon/lat, closed ring), ``top_category``.
    """
    pts = _valid_points(complaints)
    cols = ["n", "lon", "lat", "corners", "top_category"]
    if len(pts) == 0:
        return pd.DataFrame(columns=cols)
    lon = pts["lon"].to_numpy(dtype=float)
    lat = pts["lat"].to_numpy(dtype=float)
    crs = crs or geo.local_crs(lon, lat)
    x, y = geo.project(lon, lat, crs)
    ix = np.floor(x / grid_m).astype(np.int64)
    iy = np.floor(y / grid_m).astype(np.int64)
    cats = (
        pts["category"].astype(object).where(pts["category"].notna(), "other").astype(str).to_numpy()
        if "category" in pts
        else np.full(len(pts), "other", dtype=object)
    )
    cells = pd.DataFrame({"ix": ix, "iy": iy, "category": cats})
    counts = cells.groupby(["ix", "iy"]).size().rename("n").reset_index()
    top = (
        cells.groupby(["ix", "iy", "category"]).size().rename("k").reset_index()
        .sort_values(["ix", "iy", "k", "category"], ascending=[True, True, False, True])
        .drop_duplicates(["ix", "iy"])
    )
    counts = counts.merge(top[["ix", "iy", "category"]], on=["ix", "iy"])
    counts = counts[counts["n"] >= min_cell_count].reset_index(drop=True)
    if len(counts) == 0:
        return pd.DataFrame(columns=cols)
    x0 = counts["ix"].to_numpy() * grid_m
    y0 = counts["iy"].to_numpy() * grid_m
    cx, cy = geo.unproject(x0 + grid_m / 2, y0 + grid_m / 2, crs)
    rx = np.stack([x0, x0 + grid_m, x0 + grid_m, x0, x0], axis=1)
    ry = np.stack([y0, y0, y0 + grid_m, y0 + grid_m, y0], axis=1)
    rlon, rlat = geo.unproject(rx.ravel(), ry.ravel(), crs)
    corners = np.stack([rlon.reshape(rx.shape), rlat.reshape(ry.shape)], axis=2)
    return pd.DataFrame(
        {
            "n": counts["n"].to_numpy(dtype=int),
            "lon": cx,
            "lat": cy,
            "corners": list(corners),
            "top_category": counts["category"].to_numpy(dtype=object),
        }
    )


def _js_literal(obj: Any) -> str:
    """Compact JSON of ``obj`` that is safe inside ``<script>`` (see :func:`js_string`)."""
    return (
        json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


class _ComplaintPoints(folium.plugins.MarkerCluster):
    """Clustered complaint points of one category for the internal map.

    The points travel as compact arrays (latitude sorted and delta-coded, both in 1e-5
    degrees; times as minutes from the first one) and each popup is built only when it is
    opened, with DOM ``textContent``: a complaint's text is never parsed as HTML, so a
    script payload in it is shown as the literal text it is.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function () {
  var P = {{ this.payload }};
  var cluster = L.markerClusterGroup({{ this.options|tojson }});
  var style = {radius: 4, color: P.c, weight: 1, fillOpacity: 0.8};
  var line = function (box, text) {
    if (text === null || text === undefined || text === "") { return; }
    var e = document.createElement("div");
    e.textContent = text;
    box.appendChild(e);
  };
  var content = function (i) {
      var box = document.createElement("div");
      box.className = "envtrace-popup envtrace-complaint";
      box.style.fontSize = "12px";
      box.style.maxWidth = "320px";
      var b = document.createElement("b");
      b.textContent = P.k;
      box.appendChild(b);
      if (P.id) { line(box, P.ip + P.id[i]); }
      if (P.t && P.t[i] >= 0) {
        line(box, new Date((P.t0 + P.t[i]) * 60000).toISOString().slice(0, 16).replace("T", " "));
      }
      if (P.x) { line(box, P.x[i]); }
      return box;
  };
  var markers = new Array(P.lo.length), la = 0;
  for (var i = 0; i < P.lo.length; i++) {
    la += P.la[i];
    var mk = L.circleMarker([la / 1e5, P.lo[i] / 1e5], style);
    mk._envtraceIndex = i;
    markers[i] = mk;
  }
  // one popup for the layer, filled on click: no popup object per point
  cluster.on("click", function (e) {
    var i = e.layer ? e.layer._envtraceIndex : undefined;
    if (i === undefined) { return; }
    L.popup({maxWidth: 340}).setLatLng(e.layer.getLatLng()).setContent(content(i))
      .openOn({{ this._parent.get_name() }});
  });
  // on the map first: markercluster then adds in chunks without blocking the page
  // (before it is on a map, every added point is checked against all the others)
  window.__envtracePending = (window.__envtracePending || 0) + 1;
  cluster.options.chunkProgress = function (done, total) {
    if (done >= total) { window.__envtracePending -= 1; }
  };
  cluster.addTo({{ this._parent.get_name() }});
  cluster.addLayers(markers);
  return cluster;
})();
{% endmacro %}"""
    )

    def __init__(
        self,
        lat: np.ndarray,
        lon: np.ndarray,
        *,
        ids: np.ndarray | None,
        minutes: np.ndarray | None,
        texts: np.ndarray | None,
        colour: str,
        title: str,
        name: str,
    ):
        super().__init__(name=name, options={"disableClusteringAtZoom": 16, "chunkedLoading": True})
        self._name = "ComplaintPoints"
        ila = np.round(np.asarray(lat, dtype=float) * 1e5).astype(np.int64)
        ilo = np.round(np.asarray(lon, dtype=float) * 1e5).astype(np.int64)
        order = np.argsort(ila, kind="stable")
        ila, ilo = ila[order], ilo[order]
        payload: dict[str, Any] = {
            "c": colour, "k": title,
            "la": np.diff(ila, prepend=0).tolist(), "lo": ilo.tolist(),
        }
        if ids is not None:
            id_list = [str(x) for x in np.asarray(ids, dtype=object)[order]]
            prefix = os.path.commonprefix(id_list) if len(id_list) > 1 else ""
            payload["ip"] = prefix
            payload["id"] = [x[len(prefix):] for x in id_list]
        if minutes is not None:
            mins = np.asarray(minutes, dtype=np.int64)[order]
            t0 = int(mins[mins >= 0].min()) if (mins >= 0).any() else 0
            payload["t0"] = t0
            payload["t"] = np.where(mins >= 0, mins - t0, -1).tolist()
        if texts is not None:
            payload["x"] = [str(x) for x in np.asarray(texts, dtype=object)[order]]
        self.payload = _js_literal(payload)


def _add_complaints(
    m: folium.Map,
    complaints: pd.DataFrame,
    *,
    internal: bool,
    shift: Callable,
    lang: str,
    grid_m: float,
    min_cell_count: int,
    heat: bool,
    bounds: tuple[list, list],
    max_texts: int = 20_000,
    max_text_chars: int = 140,
) -> list[str]:
    """Add complaint layers; return the categories shown (for the legend)."""
    pts = _valid_points(complaints)
    if len(pts) == 0:
        return []
    cats_all = (
        pts["category"].astype(object).where(pts["category"].notna(), "other").astype(str)
        if "category" in pts
        else pd.Series("other", index=pts.index, dtype=object)
    )
    if not internal:
        grid = complaint_grid(pts, grid_m=grid_m, min_cell_count=min_cell_count)
        if len(grid) == 0:
            return []
        vmax = max(int(grid["n"].max()), 1)
        cmap = branca.colormap.LinearColormap(
            ["#fff5eb", "#fd8d3c", "#a63603"], vmin=0, vmax=vmax
        )
        features = []
        for row in grid.itertuples(index=False):
            c = np.asarray(row.corners)
            slon, slat = shift(c[:, 0], c[:, 1])
            ring = [[round(float(a), 6), round(float(b), 6)] for a, b in zip(slon, slat, strict=True)]
            features.append(
                {
                    "type": "Feature",
                    "properties": {"n": int(row.n), "fill": cmap(row.n)},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
        layer = folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            name=label("complaint_grid", lang),
            style_function=lambda f: {
                "fillColor": f["properties"]["fill"],
                "color": "#a63603",
                "weight": 0.5,
                "fillOpacity": 0.55,
            },
            tooltip=folium.GeoJsonTooltip(fields=["n"], aliases=[label("n_complaints", lang)]),
        )
        layer.add_to(m)
        glon, glat = shift(grid["lon"].to_numpy(dtype=float), grid["lat"].to_numpy(dtype=float))
        bounds[0].append(glon)
        bounds[1].append(glat)
        if heat:
            data = [
                [round(float(b), 5), round(float(a), 5), float(n)]
                for a, b, n in zip(glon, glat, grid["n"], strict=True)
            ]
            folium.plugins.HeatMap(
                data, name=label("heatmap", lang), radius=25, blur=20, max_zoom=14,
                show=False,
            ).add_to(m)
        return []
    lon, lat = shift(pts["lon"].to_numpy(dtype=float), pts["lat"].to_numpy(dtype=float))
    bounds[0].append(lon)
    bounds[1].append(lat)
    ids = pts["complaint_id"].astype(str).to_numpy(dtype=object) if "complaint_id" in pts else None
    minutes = None
    if "received_at" in pts:
        t = pd.to_datetime(pts["received_at"], errors="coerce")
        if t.dt.tz is not None:
            t = t.dt.tz_localize(None)  # wall-clock time of the data's zone
        minutes = (t.astype("datetime64[s]").astype("int64") // 60).where(t.notna(), -1).to_numpy()
    texts = None
    if "text" in pts and 0 < len(pts) <= max_texts:
        from envtrace.io import mask_text

        texts = mask_text(pts["text"].astype(object).where(pts["text"].notna(), "").astype(str)).to_numpy(dtype=object)
        texts = np.array([x if len(x) <= max_text_chars else x[:max_text_chars] + "…" for x in texts], dtype=object)
    elif "text" in pts and len(pts) > max_texts:
        warnings.warn(f"{len(pts)} complaints > max_texts={max_texts}: complaint texts left out of the map",
                      stacklevel=4)
    shown = []
    for cat in sorted(set(cats_all)):
        sel = np.flatnonzero((cats_all == cat).to_numpy())
        _ComplaintPoints(
            lat[sel], lon[sel],
            ids=None if ids is None else ids[sel],
            minutes=None if minutes is None else minutes[sel],
            texts=None if texts is None else texts[sel],
            colour=CATEGORY_COLOURS.get(cat, CATEGORY_COLOURS["other"]),
            title=category_label(cat, lang),
            name=f"{label('complaints', lang)} · {category_label(cat, lang)}",
        ).add_to(m)
        shown.append(cat)
    if heat:
        # weighted 100 m cells rather than every point: the same picture at a fraction of the bytes
        cells = complaint_grid(pts, grid_m=min(grid_m, 100.0), min_cell_count=1)
        hlon, hlat = shift(cells["lon"].to_numpy(dtype=float), cells["lat"].to_numpy(dtype=float))
        data = [[round(float(b), 5), round(float(a), 5), int(n)]
                for a, b, n in zip(hlon, hlat, cells["n"], strict=True)]
        folium.plugins.HeatMap(
            data, name=label("heatmap", lang), radius=12, blur=15, max_zoom=15, show=False
        ).add_to(m)
    return shown


# ---------------------------------------------------------------------------------------
# areas, events, suspects, legend
# ---------------------------------------------------------------------------------------
def _geojson_of(geom: Any) -> dict:
    return json.loads(shapely.to_geojson(shapely.set_precision(geom, 1e-6)))


def _add_areas(m: folium.Map, areas: Any, *, shift: Callable, lang: str) -> None:
    if areas is None or len(areas) == 0 or "geometry" not in areas:
        return
    g = areas
    if getattr(g, "crs", None) is not None and not g.crs.equals("EPSG:4326"):
        g = g.to_crs("EPSG:4326")
    group = folium.FeatureGroup(name=label("areas", lang), show=True)
    col = "name" if "name" in g else "area" if "area" in g else None  # io.read_areas names it ``area``
    names = g[col] if col else pd.Series([""] * len(g), index=g.index)
    for geom, name in zip(g.geometry, names, strict=True):
        if geom is None or geom.is_empty:
            continue
        gj = folium.GeoJson(
            _geojson_of(_shift_geometry(geom, shift)),
            style_function=lambda f: {"color": "#555555", "weight": 1.2, "fill": False,
                                      "dashArray": "4 3"},
        )
        if name is not None and str(name):
            _tooltip(gj, escape_text(name))
        gj.add_to(group)
    group.add_to(m)


def _fmt_time(value: Any) -> str:
    if value is None:
        return ""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    return "" if pd.isna(ts) else ts.strftime("%Y-%m-%d %H:%M")


def _fmt_p(value: Any) -> str:
    try:
        p = float(value)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _case_lookup(cases: pd.DataFrame | None) -> dict[str, dict]:
    if cases is None or len(cases) == 0 or "cluster_id" not in cases or "colour" not in cases:
        return {}
    out: dict[str, dict] = {}
    for rec in cases.to_dict("records"):
        out[str(rec["cluster_id"])] = rec
    return out


def _event_geometry(ev: Any) -> Any:
    geom = getattr(ev, "geometry", None)
    if geom is not None and not shapely.is_empty(geom):
        return geom
    # no footprint: a circle of radius_m around the centre
    r = float(getattr(ev, "radius_m", 0) or 0) or 200.0
    lon, lat = float(ev.lon), float(ev.lat)
    crs = geo.local_crs([lon], [lat])
    x, y = geo.project([lon], [lat], crs)
    circle = shapely.Point(float(x[0]), float(y[0])).buffer(r, 32)
    ring = np.asarray(circle.exterior.coords)
    clon, clat = geo.unproject(ring[:, 0], ring[:, 1], crs)
    return shapely.Polygon(np.column_stack([clon, clat]))


def _add_events(
    m: folium.Map,
    events: pd.DataFrame,
    *,
    cases: pd.DataFrame | None,
    wind: pd.DataFrame | None,
    shift: Callable,
    lang: str,
    wind_roses: bool,
    max_wind_roses: int,
    bounds: tuple[list, list],
) -> None:
    group = folium.FeatureGroup(name=label("events", lang), show=True)
    lookup = _case_lookup(cases)
    evs = events.sort_values("n_complaints", ascending=False) if "n_complaints" in events else events
    n_roses = 0
    for ev in evs.itertuples(index=False):
        cid = str(ev.cluster_id)
        case = lookup.get(cid)
        cat = str(getattr(ev, "category", "other"))
        colour = (
            CASE_COLOURS.get(str(case["colour"]), "#555555")
            if case is not None
            else CATEGORY_COLOURS.get(cat, CATEGORY_COLOURS["other"])
        )
        geom = _shift_geometry(_event_geometry(ev), shift)
        rows = [
            (label("category", lang), category_label(cat, lang)),
            (label("n_complaints", lang), getattr(ev, "n_complaints", "")),
            (label("n_complainants", lang), getattr(ev, "n_complainants", "")),
            (label("start", lang), _fmt_time(getattr(ev, "start", None))),
            (label("end", lang), _fmt_time(getattr(ev, "end", None))),
            (label("radius_m", lang), f"{float(getattr(ev, 'radius_m', float('nan'))):.0f}"),
            (label("event_p_value", lang), _fmt_p(getattr(ev, "p_value", None))),
        ]
        if case is not None:
            rows.append((label("case", lang), case.get("case_id", "")))
            rows.append((label("case_status", lang), colour_label(str(case["colour"]), lang)))
        content = _table(rows, title=f"{label('event', lang)} {cid}")
        if wind_roses and wind is not None and n_roses < max_wind_roses:
            png = wind_rose_png(
                wind, start=getattr(ev, "start", None), end=getattr(ev, "end", None),
                lon=float(ev.lon), lat=float(ev.lat), lang=lang,
            )
            if png is not None:
                n_roses += 1
                content += (
                    '<img alt="wind rose" style="width:220px" src="data:image/png;base64,'
                    + base64.b64encode(png).decode("ascii") + '">'
                )
            else:
                content += f"<div><i>{escape_text(label('no_wind', lang))}</i></div>"
        gj = folium.GeoJson(
            _geojson_of(geom),
            style_function=lambda f, c=colour: {
                "color": c, "weight": 2, "fillColor": c, "fillOpacity": 0.25,
            },
        )
        gj.options["className"] = "envtrace-event"
        _popup(gj, content)
        p = _fmt_p(getattr(ev, "p_value", None))
        _tooltip(gj, escape_text(f"{cid} · n={getattr(ev, 'n_complaints', '')} · p={p}"))
        gj.add_to(group)
        clon, clat = shift([float(ev.lon)], [float(ev.lat)])
        bounds[0].append(clon)
        bounds[1].append(clat)
        b = shapely.bounds(geom)
        bounds[0].append(np.array([b[0], b[2]]))
        bounds[1].append(np.array([b[1], b[3]]))
    group.add_to(m)


def _add_suspects(
    m: folium.Map,
    candidates: pd.DataFrame,
    events: pd.DataFrame,
    *,
    enterprises: pd.DataFrame | None,
    shift: Callable,
    lang: str,
    max_rank: int,
    bounds: tuple[list, list],
    min_score: float = 0.0,
) -> None:
    group = folium.FeatureGroup(name=label("suspects", lang), show=True)
    centres = {
        str(r.cluster_id): (float(r.lon), float(r.lat)) for r in events.itertuples(index=False)
    }
    ent_pos: dict[str, tuple[float, float]] = {}
    if enterprises is not None and len(enterprises) and "enterprise_id" in enterprises:
        for r in enterprises.itertuples(index=False):
            ent_pos[str(r.enterprise_id)] = (float(r.lon), float(r.lat))
    geod = pyproj.Geod(ellps="WGS84")
    cand = candidates
    if "rank" in cand:
        rk = pd.to_numeric(cand["rank"], errors="coerce")
        keep = rk <= max_rank
        if "score" in cand:
            keep &= (rk == 1) | (pd.to_numeric(cand["score"], errors="coerce") >= min_score)
        cand = cand[keep]
    for c in cand.itertuples(index=False):
        cid = str(c.cluster_id)
        if cid not in centres:
            continue
        clon, clat = centres[cid]
        eid = str(getattr(c, "enterprise_id", ""))
        if eid in ent_pos:
            elon, elat = ent_pos[eid]
        else:
            dist = float(getattr(c, "distance_m", float("nan")))
            bearing = float(getattr(c, "bearing_deg", float("nan")))
            if not (math.isfinite(dist) and math.isfinite(bearing)):
                continue
            elon, elat, _ = geod.fwd(clon, clat, bearing, dist)
        (sx,), (sy,) = shift([elon], [elat])
        (ex,), (ey,) = shift([clon], [clat])
        rank = int(getattr(c, "rank", 1) or 1)
        colour = _RANK_COLOURS[min(max(rank, 1), len(_RANK_COLOURS)) - 1]
        rows = [
            (label("event", lang), cid),
            (label("rank", lang), rank),
            (label("score", lang), f"{float(getattr(c, 'score', float('nan'))):.2f}"),
            (label("distance_m", lang), f"{float(getattr(c, 'distance_m', float('nan'))):.0f}"),
            (label("bearing_deg", lang), f"{float(getattr(c, 'bearing_deg', float('nan'))):.0f}"),
            (label("p_value", lang), _fmt_p(getattr(c, "p_value", None))),
            (label("evidence", lang), getattr(c, "evidence", "")),
        ]
        name = getattr(c, "name", "")
        content = _table(rows, title=f"{eid} {'' if pd.isna(name) else name}")
        line = folium.PolyLine(
            [[sy, sx], [ey, ex]], color=colour, weight=2 if rank > 1 else 3, dash_array="6 4",
            opacity=0.9,
        )
        _tooltip(line, escape_text(f"#{rank} {name} → {cid}"))
        line.add_to(group)
        mk = folium.CircleMarker(
            [sy, sx], radius=7 if rank == 1 else 5, color="#222222", weight=1,
            fill=True, fill_color=colour, fill_opacity=0.95,
        )
        mk.options["className"] = "envtrace-suspect"
        _popup(mk, content)
        _tooltip(mk, escape_text(f"#{rank} {name}"))
        mk.add_to(group)
        bounds[0].append(np.array([sx]))
        bounds[1].append(np.array([sy]))
    group.add_to(m)


class _Ready(branca.element.MacroElement):
    """Sets ``window.__envtraceReady`` (``performance.now()``, ms) once every layer is drawn.

    Rendered after all other layers; it waits for the complaint clusters' chunked loading
    (``window.__envtracePending``), so browser tests and benchmarks can wait for it.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
(function () {
  var check = function () {
    if ((window.__envtracePending || 0) > 0) { setTimeout(check, 10); return; }
    window.__envtraceReady = performance.now();
  };
  check();
})();
{% endmacro %}"""
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "Ready"


class _Legend(branca.element.MacroElement):
    """A small fixed HTML legend in the bottom-left corner."""

    _template = Template(
        """{% macro html(this, kwargs) %}
<div class="envtrace-legend" style="position:fixed;bottom:48px;left:10px;z-index:9999;
 background:rgba(255,255,255,0.92);padding:6px 9px;border:1px solid #999;border-radius:4px;
 font-size:12px;line-height:1.45;max-width:260px">{{ this.content }}</div>
{% endmacro %}"""
    )

    def __init__(self, content_html: str):
        super().__init__()
        self._name = "Legend"
        self.content = content_html


def _legend_html(
    *, lang: str, categories: list[str], case_colours: list[str], suspects: bool, grid: bool
) -> str:
    parts = [f"<b>{escape_text(label('legend', lang))}</b><br>"]

    def swatch(colour: str, text: str, *, line: bool = False) -> str:
        style = (
            f"display:inline-block;width:16px;height:0;border-top:3px dashed {colour};"
            "margin:0 6px 3px 0"
            if line
            else f"display:inline-block;width:12px;height:12px;background:{colour};"
            "margin-right:6px;border:1px solid #666;vertical-align:-1px"
        )
        return f'<span style="{style}"></span>{escape_text(text)}<br>'

    for cat in categories:
        parts.append(swatch(CATEGORY_COLOURS.get(cat, "#34495e"), category_label(cat, lang)))
    for colour in ("green", "blue", "yellow", "red"):
        if colour in case_colours:
            parts.append(swatch(CASE_COLOURS[colour], colour_label(colour, lang)))
    if suspects:
        parts.append(swatch(_RANK_COLOURS[0], label("suspects", lang), line=True))
    if grid:
        parts.append(
            '<span style="display:inline-block;width:40px;height:10px;margin-right:6px;'
            'background:linear-gradient(to right,#fff5eb,#fd8d3c,#a63603);border:1px solid #666">'
            f'</span>{escape_text(label("complaint_grid", lang))}<br>'
            f'<span style="color:#666">{escape_text(label("grid_note", lang))}</span>'
        )
    return "".join(parts)


# ---------------------------------------------------------------------------------------
# builders
# ---------------------------------------------------------------------------------------
def complaint_map(
    complaints: pd.DataFrame,
    *,
    events: pd.DataFrame | None = None,
    areas: Any = None,
    internal: bool = False,
    basemap: str | None = None,
    lang: str = "zh",
    grid_m: float = 500.0,
    min_cell_count: int = 3,
    heat: bool = True,
    max_texts: int = 20_000,
) -> folium.Map:
    """Map of complaints by category, with township boundaries and optional event footprints.

    Parameters
    ----------
    complaints : DataFrame
        ``lon, lat`` (WGS84), ``category``; ``complaint_id``, ``received_at`` and ``text``
        (masked) shown when ``internal``. Other columns are ignored (never put on the map).
    events : GeoDataFrame, optional
        Events (``cluster_id, category, n_complaints, ..., geometry``).
    areas : GeoDataFrame, optional
        Township/street polygons with ``name`` (or ``area``, as :func:`envtrace.io.read_areas` gives).
    internal : bool
        Show individual complaint points (staff only). Default: grid counts.
    basemap : {'tianditu', 'amap', 'osm', 'none'}, optional
        Default from :func:`default_basemap`. With ``'amap'`` all overlays are GCJ-02.
    lang : {'zh', 'en'}
    grid_m : float
        Grid cell side (metres) for published maps.
    min_cell_count : int
        Published grid cells with fewer complaints are left out.
    heat : bool
        Add a heat-map layer (off until switched on in the layer control).
    max_texts : int
        Internal map: complaint texts go into the popups only when there are at most this
        many points (keeps a 100 000-point map under 5 MB); otherwise id, time, category.
    """
    return _build(
        complaints=complaints, events=events, areas=areas, internal=internal, basemap=basemap,
        lang=lang, grid_m=grid_m, min_cell_count=min_cell_count, heat=heat,
        candidates=None, enterprises=None, cases=None, wind=None, wind_roses=False,
        max_wind_roses=0, max_rank=5, max_texts=max_texts,
    )


def event_map(
    events: pd.DataFrame,
    *,
    candidates: pd.DataFrame | None = None,
    enterprises: pd.DataFrame | None = None,
    cases: pd.DataFrame | None = None,
    wind: pd.DataFrame | None = None,
    complaints: pd.DataFrame | None = None,
    areas: Any = None,
    internal: bool = False,
    basemap: str | None = None,
    lang: str = "zh",
    wind_roses: bool = True,
    max_wind_roses: int = 50,
    max_rank: int = 3,
    min_score: float = 0.1,
    grid_m: float = 500.0,
    min_cell_count: int = 3,
    heat: bool = False,
    max_texts: int = 20_000,
) -> folium.Map:
    """Map of events with footprints, p-values, case colours, suspects and wind roses.

    Parameters
    ----------
    events : GeoDataFrame
        ``cluster_id, category, n_complaints, n_complainants, start, end, lon, lat, radius_m,
        p_value, geometry`` (footprint; a circle of ``radius_m`` when missing).
    candidates : DataFrame, optional
        ``cluster_id, rank, enterprise_id, name, score, distance_m, bearing_deg, p_value,
        evidence``; suspects up to ``max_rank`` are drawn with a line to their event (the
        rank-1 suspect always, the others only with ``score >= min_score``, so a map of
        many events is not a web of unlikely lines; the brief's tables list them all). Their
        position comes from ``enterprises`` (``enterprise_id, lon, lat``) when given, else
        from the event centre, ``distance_m`` and ``bearing_deg``.
    cases : DataFrame, optional
        Ledger cases with ``cluster_id`` and ``colour`` (green/blue/yellow/red): the
        footprint takes the case colour.
    wind : DataFrame, optional
        Hourly wind; a wind rose of each event's period (±2 h) goes into its popup, for at
        most ``max_wind_roses`` events (largest first) to keep the file light.
    complaints, areas, internal, basemap, lang, grid_m, min_cell_count, heat, max_texts
        As in :func:`complaint_map`.
    """
    return _build(
        complaints=complaints, events=events, areas=areas, internal=internal, basemap=basemap,
        lang=lang, grid_m=grid_m, min_cell_count=min_cell_count, heat=heat,
        candidates=candidates, enterprises=enterprises, cases=cases, wind=wind,
        wind_roses=wind_roses, max_wind_roses=max_wind_roses, max_rank=max_rank,
        min_score=min_score, max_texts=max_texts,
    )


def _build(
    *,
    complaints: pd.DataFrame | None,
    events: pd.DataFrame | None,
    areas: Any,
    internal: bool,
    basemap: str | None,
    lang: str,
    grid_m: float,
    min_cell_count: int,
    heat: bool,
    candidates: pd.DataFrame | None,
    enterprises: pd.DataFrame | None,
    cases: pd.DataFrame | None,
    wind: pd.DataFrame | None,
    wind_roses: bool,
    max_wind_roses: int,
    max_rank: int,
    max_texts: int = 20_000,
    min_score: float = 0.0,
) -> folium.Map:
    base = _check_basemap(basemap, lang)
    shift = _shifter(base)
    m = _new_map(base, lang)
    m._envtrace_basemap = base  # type: ignore[attr-defined]
    m._envtrace_lang = lang  # type: ignore[attr-defined]
    bounds: tuple[list, list] = ([], [])
    _add_areas(m, areas, shift=shift, lang=lang)
    categories: list[str] = []
    if complaints is not None and len(complaints):
        categories = _add_complaints(
            m, complaints, internal=internal, shift=shift, lang=lang, grid_m=grid_m,
            min_cell_count=min_cell_count, heat=heat, bounds=bounds, max_texts=max_texts,
        )
    has_events = events is not None and len(events) > 0
    if has_events:
        _add_events(
            m, events, cases=cases, wind=wind, shift=shift, lang=lang, wind_roses=wind_roses,
            max_wind_roses=max_wind_roses, bounds=bounds,
        )
        for cat in events["category"].astype(str) if "category" in events else []:
            if cat not in categories:
                categories.append(cat)
    has_suspects = has_events and candidates is not None and len(candidates) > 0
    if has_suspects:
        _add_suspects(
            m, candidates, events, enterprises=enterprises, shift=shift, lang=lang,
            max_rank=max_rank, min_score=min_score, bounds=bounds,
        )
    if not bounds[0] and areas is not None and len(areas):
        b = shapely.bounds(_shift_geometry(shapely.union_all(np.asarray(areas.geometry)), shift))
        bounds[0].append(np.array([b[0], b[2]]))
        bounds[1].append(np.array([b[1], b[3]]))
    _fit(m, bounds[0], bounds[1])
    case_colours = sorted(set(_case_lookup(cases)[k]["colour"] for k in _case_lookup(cases)))
    m.get_root().add_child(
        _Legend(
            _legend_html(
                lang=lang, categories=sorted(set(categories)), case_colours=case_colours,
                suspects=has_suspects,
                grid=complaints is not None and len(complaints) > 0 and not internal,
            )
        )
    )
    folium.LayerControl(collapsed=False).add_to(m)
    m.add_child(_Ready())
    return m


# ---------------------------------------------------------------------------------------
# HTML output
# ---------------------------------------------------------------------------------------
def _web_file(rel: str) -> bytes:
    return resources.files("envtrace").joinpath("data", "web", *rel.split("/")).read_bytes()


@lru_cache(maxsize=16)
def _asset_text(rel: str) -> str:
    text = _web_file(rel).decode("utf-8")
    if rel.endswith(".css"):
        base = rel.rsplit("/", 1)[0]

        def data_uri(match: re.Match) -> str:
            ref = match.group(1).strip("'\"")
            if ref.startswith(("data:", "#")) or not ref.lower().endswith(".png"):
                return match.group(0)
            try:
                raw = _web_file(f"{base}/{ref}")
            except (FileNotFoundError, OSError):
                return "url()"
            return "url(data:image/png;base64," + base64.b64encode(raw).decode("ascii") + ")"

        text = re.sub(r"url\(([^)]*)\)", data_uri, text)
    return text


_SCRIPT_RE = re.compile(r'<script\s+src="(https?://[^"]+)"\s*>\s*</script>', re.I)
_LINK_RE = re.compile(r'<link\s+rel="stylesheet"\s+href="(https?://[^"]+)"\s*/?>', re.I)


def inline_assets(page: str) -> str:
    """Replace CDN ``<script src>`` / ``<link rel=stylesheet>`` by the shipped files, inlined.

    References to files envtrace does not ship are removed with a warning (envtrace's maps
    do not need them).
    """

    def asset_for(url: str) -> str | None:
        return _ASSETS.get(url.split("?")[0].rsplit("/", 1)[-1])

    def script(match: re.Match) -> str:
        rel = asset_for(match.group(1))
        if rel is None:
            warnings.warn(f"dropping unshipped script {match.group(1)}", stacklevel=4)
            return ""
        return "<script>" + re.sub(r"</(script)", r"<\\/\1", _asset_text(rel), flags=re.I) + "</script>"

    def link(match: re.Match) -> str:
        rel = asset_for(match.group(1))
        if rel is None:
            warnings.warn(f"dropping unshipped stylesheet {match.group(1)}", stacklevel=4)
            return ""
        return "<style>" + re.sub(r"</(style)", r"<\\/\1", _asset_text(rel), flags=re.I) + "</style>"

    page = _SCRIPT_RE.sub(lambda mm: script(mm), page)
    return _LINK_RE.sub(lambda mm: link(mm), page)


def map_html(m: folium.Map, *, offline: bool = True) -> str:
    """The map as one HTML page; ``offline`` inlines the shipped Leaflet assets.

    The page is tagged with its language (``zh-CN``/``en``) and prefers a Simplified-Chinese
    font, so Han characters get Chinese glyph forms.
    """
    page = m.get_root().render()
    lang = "en" if getattr(m, "_envtrace_lang", "zh") == "en" else "zh-CN"
    page = re.sub(r"<html\b[^>]*>", f'<html lang="{lang}">', page, count=1)
    page = page.replace("L.control.scale().addTo(", "L.control.scale({imperial: false}).addTo(")  # metres only
    page = page.replace(
        "</head>",
        '<style>.leaflet-container, .envtrace-legend {font-family: "Helvetica Neue", Arial, '
        '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif;}</style></head>',
        1,
    )
    return inline_assets(page) if offline else page


def save_map(m: folium.Map, path: str | os.PathLike[str], *, offline: bool = True) -> Path:
    """Write the map as one self-contained HTML file (atomically); return its path."""
    return atomic_write_text(path, map_html(m, offline=offline))
