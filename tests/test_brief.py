"""Tests for envtrace.brief: month resolution, exporters, the monthly brief end to end."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from envtrace import brief
from envtrace.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
TZ = "Asia/Shanghai"


# --- month resolution -------------------------------------------------------------------
def test_last_full_month():
    today = "2026-11-27"
    ends_on_last_day = pd.Series(pd.to_datetime(["2026-09-03 10:00", "2026-10-31 00:00"]).tz_localize(TZ))
    assert brief.last_full_month(ends_on_last_day, today=today) == "2026-10"
    ends_early = pd.Series(pd.to_datetime(["2026-09-03 10:00", "2026-10-30 18:08"]).tz_localize(TZ))
    assert brief.last_full_month(ends_early, today=today) == "2026-09"
    # the wind feed runs to the month's end: the month is covered without a complaint on its last day
    wind_to_end = pd.Series(pd.date_range("2026-10-25", "2026-10-31 23:00", freq="h", tz=TZ))
    assert brief.last_full_month(ends_early, wind_times=wind_to_end, today=today) == "2026-10"
    wind_short = pd.Series(pd.date_range("2026-10-25", "2026-10-30 23:00", freq="h", tz=TZ))
    assert brief.last_full_month(ends_early, wind_times=wind_short, today=today) == "2026-09"
    # 2026-10-30 20:00 UTC is already 31 October in Shanghai: October is then covered
    utc = pd.Series(pd.to_datetime(["2026-10-30 20:00"]).tz_localize("UTC"))
    assert brief.last_full_month(utc, tz=TZ, today=today) == "2026-10"
    assert brief.last_full_month(utc, tz="UTC", today=today) == "2026-09"
    # a month that has not ended yet is never "last", however well it is covered
    november = pd.Series(pd.to_datetime(["2026-11-30 09:00"]).tz_localize(TZ))
    assert brief.last_full_month(november, today="2026-11-30") == "2026-10"
    assert brief.last_full_month(november, today="2026-12-01") == "2026-11"
    with pytest.raises(InputError):
        brief.last_full_month(pd.Series([pd.NaT]), today=today)


def test_resolve_month():
    assert brief.resolve_month("2026-3") == "2026-03"
    frame = pd.DataFrame({"received_at": pd.to_datetime(["2026-02-28 12:00"]).tz_localize(TZ)})
    assert brief.resolve_month("last", frame, today="2026-11-27") == "2026-02"
    wind = pd.DataFrame({"time": pd.date_range("2026-03-01", "2026-03-31 23:00", freq="h", tz=TZ)})
    assert brief.resolve_month("last", frame, wind=wind, today="2026-11-27") == "2026-03"
    with pytest.raises(InputError):
        brief.resolve_month("October")


def test_last_month_of_the_sample_county_is_covered_by_its_wind():
    from envtrace import io

    ds = io.load_dataset(_sample_dir(ROOT))
    # the last complaint is on 30 October, the hourly wind runs to 31 October 23:00
    assert brief.resolve_month("last", ds.complaints, wind=ds.wind, tz=TZ, today="2026-11-27") == "2026-10"


# --- exporters on hand-made artefacts ------------------------------------------------------
@pytest.fixture
def artefacts(tmp_path: Path) -> Path:
    d = tmp_path / "artefacts"
    d.mkdir()
    pd.DataFrame({"area": ["全县", "全县"], "kpi": ["received", "closure_rate"], "value": [10, 0.5],
                  "previous": [8, 0.25], "change": [2, 0.25]}).to_csv(d / "kpis.csv", index=False)
    pd.DataFrame({"case_id": ["K1", "K2"], "title": ["化工异味", "工地扬尘"], "area": ["城关镇", "东乡"],
                  "owner": ["刘科长", "马科长"], "deadline": ["2026-10-20", "2026-10-30"],
                  "status": ["open", "closed"], "colour": ["red", "green"]}).to_csv(d / "ledger.csv", index=False)
    pd.DataFrame({"cluster_id": ["E1"], "category": ["odour"], "n_complaints": [9]}).to_csv(d / "events.csv", index=False)
    pd.DataFrame({"cluster_id": ["E1"], "rank": [1], "enterprise_id": ["ENT1"], "name": ["化工厂"],
                  "score": [0.8], "p_value": [0.01]}).to_csv(d / "candidates.csv", index=False)
    return d


def test_write_xlsx_has_events_suspects_and_coloured_ledger(artefacts: Path, tmp_path: Path):
    from openpyxl import load_workbook

    path = brief.write_xlsx(artefacts, tmp_path / "b.xlsx", lang="en")
    wb = load_workbook(path)
    assert {"Events", "Suspects", "Four-colour ledger"} <= set(wb.sheetnames)
    ws = wb["Four-colour ledger"]
    header = [c.value for c in ws[1]]
    col = header.index("colour") + 1
    assert ws.cell(row=2, column=col).fill.fgColor.rgb.endswith("FFC7CE")  # red
    assert ws.cell(row=3, column=col).fill.fgColor.rgb.endswith("C6EFCE")  # green
    assert wb["Suspects"]["D2"].value == "化工厂"


def test_write_docx_has_kpi_and_coloured_ledger_tables(artefacts: Path, tmp_path: Path):
    from docx import Document

    path = brief.write_docx(artefacts, tmp_path / "b.docx", lang="zh", title="月报", images=[])
    doc = Document(str(path))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[:3] == ["月报", "主要指标", "四色台账"]
    kpi, ledger = doc.tables[0], doc.tables[1]
    assert [c.text for c in kpi.rows[0].cells] == ["指标", "本月", "上月", "变化"]
    assert [c.text for c in kpi.rows[1].cells] == ["受理投诉", "10", "8", "+2"]
    assert [c.text for c in kpi.rows[2].cells] == ["办结率", "50.0%", "25.0%", "+25.0 个百分点"]
    xml = ledger._tbl.xml
    assert 'w:fill="FFC7CE"' in xml and 'w:fill="C6EFCE"' in xml


def test_area_table_counts_as_integers_and_rates_as_percentages():
    kpis = pd.DataFrame({
        "area": ["城关镇", "城关镇", "东乡", "东乡"],
        "kpi": ["received", "closure_rate", "received", "closure_rate"],
        "value": [4.0, 0.75, 2.0, float("nan")], "previous": [3.0, 1.0, 0.0, 0.5], "change": [1.0, -0.25, 2.0, None],
    })
    t = brief.area_table(kpis, lang="zh", kpis=("received", "closure_rate"))
    assert list(t.columns) == ["乡镇/街道", "受理投诉 (本月)", "受理投诉 (上月)", "办结率 (本月)", "办结率 (上月)"]
    assert t.values.tolist() == [["城关镇", "4", "3", "75.0%", "100.0%"], ["东乡", "2", "0", "", "50.0%"]]


def _areas_two_towns():
    import geopandas as gpd
    import shapely

    return gpd.GeoDataFrame({"area": ["西镇", "东镇"]},
                            geometry=[shapely.box(117.00, 35.00, 117.10, 35.10), shapely.box(117.10, 35.00, 117.20, 35.10)],
                            crs="EPSG:4326")


def test_place_names_give_township_and_direction_from_nearest_centre():
    import pyproj

    from envtrace import geo

    areas = _areas_two_towns()
    # 2 km north-east of the west town's centre (117.05, 35.05), and right at the east town's centre
    lon, lat, _ = pyproj.Geod(ellps="WGS84").fwd(117.05, 35.05, 45.0, 2000.0)
    places = brief.place_names([lon, 117.15], [lat, 35.05], areas, lang="zh")
    assert places.values.tolist() == [["西镇", "西镇中心东北 2.0 公里"], ["东镇", "东镇中心附近"]]
    en = brief.place_names([lon], [lat], areas, lang="en")
    assert en.values.tolist() == [["西镇", "2.0 km NE of 西镇 centre"]]
    assert float(geo.distance_bearing(117.05, 35.05, lon, lat)[0]) == pytest.approx(2000.0, abs=1)
    assert brief.place_names([117.0], [35.0], None).values.tolist() == [["", ""]]


def test_hotspot_table_names_places_and_translates_trends():
    hot = pd.DataFrame({
        "cluster_id": ["H1", "H2", "H3", "H4"], "category": ["odour", "noise", "dust", "odour"],
        "label": ["persistent", "new", "none", "diminishing"], "n_complaints": [30, 5, 2, 9],
        "n_hot_months": [4, 1, 0, 2], "lon": [117.05, 117.15, 117.05, 117.05], "lat": [35.05] * 4,
        "2026-09": [10, 0, 1, 6], "2026-10": [12, 5, 1, 3],
    })
    t = brief.hotspot_table(hot, lang="zh", areas=_areas_two_towns())
    assert list(t.columns[:4]) == ["乡镇/街道", "位置", "类别", "趋势"]
    assert t["趋势"].tolist() == ["新出现", "持续", "减弱"]  # never-hot H3 left out; new before persistent
    assert t["乡镇/街道"].tolist() == ["东镇", "西镇", "西镇"]
    assert t["2026-10"].tolist() == [5, 12, 3]
    assert not t.astype(str).apply(lambda c: c.str.contains("H1")).any().any()  # ids mean nothing to readers
    en = brief.hotspot_table(hot, lang="en", areas=_areas_two_towns())
    assert en["Trend"].tolist() == ["New", "Persistent", "Diminishing"]


def test_case_tables_are_labelled_and_translated():
    hist = brief._history_text("status", "open", "diagnosing", "zh")
    assert hist == "状态: 已立案 → 诊断中"
    assert brief._history_text("owner", None, "刘科长", "en") == "Owner: — → 刘科长"
    tl = brief.timeline_table(pd.DataFrame({"time": pd.to_datetime(["2026-10-17 12:10:33"]).tz_localize(TZ),
                                            "what": [hist]}), lang="zh")
    assert tl.values.tolist() == [["2026-10-17 12:10", "状态: 已立案 → 诊断中"]]
    acts = pd.DataFrame({"date": ["2026-10-17"], "action": ["police_transfer"], "enterprise_id": ["E1"],
                         "complaint_id": [None], "persons": [2.0], "note": ["移送"]})
    t = brief.actions_table(acts, lang="zh")
    assert list(t.columns) == ["日期", "措施", "企业", "投诉编号", "人次", "备注"]
    assert t.values.tolist() == [["2026-10-17", "移送公安", "E1", "", "2", "移送"]]
    alarms = pd.DataFrame({"enterprise_id": ["E1"], "time": pd.to_datetime(["2026-10-18 20:00"]).tz_localize(TZ),
                           "pollutant": ["颗粒物"], "value": [21.6], "limit": [10.0], "source_row": [7]})
    assert brief.alarms_table(alarms, lang="en").values.tolist() == [["E1", "2026-10-18 20:00", "颗粒物", "21.6", "10"]]
    assert brief.alarms_table(alarms.iloc[:0], lang="zh").columns.tolist() == ["无"]


def test_case_brief_rejects_unsafe_case_id(tmp_path: Path):
    with pytest.raises(InputError):
        brief.case_brief("../etc", data_dir=tmp_path, out=tmp_path / "reports")


# --- end to end on the sample county ------------------------------------------------------------
def _sample_dir(tmp_root: Path) -> Path:
    d = ROOT / "data" / "sample"
    if (d / "complaints.csv").is_file():
        return d
    from envtrace.sample import generate

    out = tmp_root / "sample"
    generate(0).write(out)
    return out


def _pii(sample: Path) -> tuple[list[str], list[str]]:
    """Complainant names and phone numbers of the raw input, minus strings that also occur
    in non-personal inputs (a name like 王庄 can be a village too)."""
    raw = pd.read_csv(sample / "complaints.csv", dtype=str, keep_default_na=False)
    public = "".join(
        p.read_text(encoding="utf-8", errors="ignore")
        for p in (sample / "enterprises.csv", sample / "areas.geojson", sample / "actions.csv")
        if p.is_file()
    ) + "".join(raw.get("text", [])) + "".join(raw.get("address", []))
    names = sorted({n for n in raw["complainant"] if len(n) >= 2 and n not in public})
    phones = sorted({re.sub(r"\D", "", p) for p in raw["phone"] if len(re.sub(r"\D", "", p)) >= 7})
    assert names and phones  # the sample county has both
    return names, phones


def _texts(out: Path) -> dict[str, str]:
    """Every output's text: raw bytes for text formats, extracted text for DOCX/XLSX."""
    from docx import Document
    from openpyxl import load_workbook

    texts = {}
    for p in sorted(out.iterdir()):
        if p.suffix == ".docx":
            doc = Document(str(p))
            parts = [para.text for para in doc.paragraphs]
            parts += [c.text for t in doc.tables for r in t.rows for c in r.cells]
            with zipfile.ZipFile(p) as z:
                parts += [z.read(n).decode("utf-8", "ignore") for n in z.namelist() if n.endswith(".xml")]
            texts[p.name] = "\n".join(parts)
        elif p.suffix == ".xlsx":
            wb = load_workbook(p)
            texts[p.name] = "\n".join(
                str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None
            )
        elif p.suffix == ".pdf":
            texts[p.name] = _pdf_text(p)
        elif p.suffix in {".html", ".ipynb", ".json"}:
            texts[p.name] = p.read_bytes().decode("utf-8", "ignore")
    return texts


def _pdf_text(path: Path) -> str:
    """The text of every page of a PDF (its streams are compressed: raw bytes say nothing)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


def _assert_no_personal_data(texts: dict[str, str], sample: Path) -> None:
    names, phones = _pii(sample)
    for fname, text in texts.items():
        digits = re.sub(r"\D", "", text)
        for n in names:
            assert n not in text, f"a complainant name leaked into {fname}"
        for ph in phones:
            assert ph not in text and ph not in digits, f"a phone number leaked into {fname}"


@pytest.fixture(scope="module")
def monthly(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("brief")
    sample = _sample_dir(tmp)
    result = brief.monthly_brief(
        month="last", data_dir=sample, db_url=f"sqlite:///{tmp / 'ledger.sqlite'}", out=tmp / "reports",
        pdf=brief.chromium_path() is not None, docx=True, lang="zh", n_permutations=99,
    )
    return result, sample, tmp


@pytest.mark.slow
def test_monthly_brief_outputs(monthly):
    result, sample, _ = monthly
    assert result.html.is_file() and result.html == result.out_dir / "monthly_briefing.html"
    assert re.fullmatch(r"\d{4}-\d{2}", result.out_dir.name)
    page = result.html.read_text(encoding="utf-8")
    assert "主要指标" in page and "四色台账" in page and "envtrace-map" in page
    assert "brief.monthly_context(" not in page  # no code cells
    assert not re.search(r'class="[^"]*jp-InputArea\b', page)
    assert not re.search(r'<(?:script|link)\b[^>]*(?:src|href)="https?://[^"]*(?:leaflet|jquery)', page)
    xlsx, docx = result.out_dir / "monthly_briefing.xlsx", result.out_dir / "monthly_briefing.docx"
    from docx import Document
    from openpyxl import load_workbook

    assert load_workbook(xlsx).sheetnames[:2] == ["事件", "疑似污染源"]
    assert len(Document(str(docx)).tables) >= 2
    side = (result.out_dir / "brief.json").read_text(encoding="utf-8")
    assert '"input_hashes"' in side and "complaints.csv" in side
    if brief.chromium_path():
        pdf = (result.out_dir / "monthly_briefing.pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
        assert (result.out_dir / "map.png").read_bytes().startswith(b"\x89PNG")


@pytest.fixture(scope="module")
def case(monthly):
    """The consultation brief of the sample's largest case with events (after the monthly run)."""
    from envtrace.ledger import Ledger

    _, sample, tmp = monthly
    db = f"sqlite:///{tmp / 'ledger.sqlite'}"
    led = Ledger(db)
    try:
        linked = set(led.case_events()["case_id"].astype(str))
        cases = led.cases()
    finally:
        led.close()
    cases = cases[cases["case_id"].astype(str).isin(linked)]
    assert len(cases), "the sample month opens at least one case"
    case_id = str(cases.sort_values("n_complaints", ascending=False)["case_id"].iloc[0])
    result = brief.case_brief(case_id, data_dir=sample, db_url=db, out=tmp / "reports",
                              pdf=brief.chromium_path() is not None, docx=True, lang="zh", n_permutations=99)
    return result, sample, case_id


@pytest.fixture(scope="module")
def explore(tmp_path_factory: pytest.TempPathFactory):
    """The analyst notebook executed on the sample's last month (internal map with texts)."""
    tmp = tmp_path_factory.mktemp("explore")
    sample = _sample_dir(tmp)
    out = tmp / "out"
    out.mkdir()
    nb = brief.execute_notebook(brief.notebook_path("explore"), out / "explore.ipynb",
                                {"data_dir": str(sample), "month": "2026-10", "lang": "zh", "n_permutations": 99},
                                cwd=ROOT)
    (out / "explore.html").write_text(brief.notebook_to_html(nb, lang="zh"), encoding="utf-8")
    return out, sample


@pytest.mark.slow
def test_monthly_brief_contains_no_personal_data(monthly):
    result, sample, _ = monthly
    texts = _texts(result.out_dir)
    expected = {"monthly_briefing.html", "monthly_briefing.ipynb", "monthly_briefing.docx",
                "monthly_briefing.xlsx", "map.html"} | ({"monthly_briefing.pdf"} if brief.chromium_path() else set())
    assert expected <= set(texts)
    assert "主要指标" in texts["monthly_briefing.docx"] and "cluster_id" in texts["monthly_briefing.xlsx"]  # text was read
    if "monthly_briefing.pdf" in texts:
        assert "主要指标" in texts["monthly_briefing.pdf"]
    _assert_no_personal_data(texts, sample)


@pytest.mark.slow
def test_consultation_brief_runs_and_contains_no_personal_data(case):
    result, sample, case_id = case
    assert result.out_dir.name == case_id and result.html.name == "consultation_brief.html"
    texts = _texts(result.out_dir)
    expected = {"consultation_brief.html", "consultation_brief.ipynb", "consultation_brief.docx",
                "consultation_brief.xlsx", "map.html"} | ({"consultation_brief.pdf"} if brief.chromium_path() else set())
    assert expected <= set(texts)
    assert "一案一策会商材料" in texts["consultation_brief.html"] and case_id in texts["consultation_brief.html"]
    assert "envtrace-map" in texts["consultation_brief.html"]
    _assert_no_personal_data(texts, sample)


@pytest.mark.slow
def test_explore_notebook_runs_and_contains_no_personal_data(explore):
    out, sample = explore
    texts = _texts(out)
    assert {"explore.ipynb", "explore.html"} <= set(texts)
    assert "数据探查" in texts["explore.html"] and "complaint_points_" in texts["explore.html"]  # internal map
    _assert_no_personal_data(texts, sample)


@pytest.mark.slow
def test_hotspot_and_township_tables_read_well_in_the_monthly_brief(monthly):
    result, _, _ = monthly
    page = result.html.read_text(encoding="utf-8")
    assert not re.search(r">\s*\d+\.000\s*<", page)  # no count printed as 4.000
    assert re.search(r">\s*\d{1,3}\.\d%\s*<", page)  # rates as percentages
    assert not re.search(r">\s*H[0-9a-f]{6,}", page)  # no meaningless hotspot ids
    assert re.search(r"中心[东南西北]{1,2} \d+\.\d 公里|中心附近", page)


def _chromium_or_skip() -> str:
    exe = brief.chromium_path()
    if exe is None:
        pytest.skip("Debian chromium not installed (apt-get install chromium)")
    return exe


@pytest.mark.slow
def test_brief_html_renders_its_map_overlays_with_the_network_cut_off(monthly, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    exe = _chromium_or_skip()
    result, _, _ = monthly
    errors: list[str] = []
    aborted: list[str] = []

    def route(r):
        if r.request.url.startswith(("file://", "data:", "about:")):
            r.continue_()
        else:
            aborted.append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=brief.CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", route)
            page.goto(result.html.resolve().as_uri(), wait_until="load")
            frame = page.frame_locator("iframe.envtrace-map")
            frame.locator(".leaflet-container").wait_for(timeout=30_000)
            inner = next(f for f in page.frames if f != page.main_frame)
            inner.wait_for_function("window.__envtraceReady !== undefined", timeout=30_000)
            n_events = inner.locator("path.envtrace-event").count()
            n_paths = inner.locator(".leaflet-overlay-pane path").count()
            legend = inner.locator(".envtrace-legend").inner_text()
            page.screenshot(path=str(tmp_path / "brief.png"), full_page=True)
        finally:
            browser.close()
    sidecar = (result.out_dir / "brief.json").read_text(encoding="utf-8")
    assert f'"events": {n_events}' in sidecar and n_events >= 1  # every event of the month is drawn
    assert n_paths > n_events  # plus townships, suspects' lines
    assert "图例" in legend
    assert errors == []
    assert aborted == []  # a Chinese brief without TIANDITU_KEY asks the network for nothing


@pytest.mark.slow
def test_pdf_shows_chinese_text_with_a_cjk_font(monthly, tmp_path: Path):
    import pypdfium2 as pdfium

    _chromium_or_skip()
    result, _, _ = monthly
    path = result.out_dir / "monthly_briefing.pdf"
    text = _pdf_text(path)
    assert "环境信访投诉月度简报" in text and "主要指标" in text
    # rendered, the first page is not blank: a good share of non-white pixels, spread over it
    pdf = pdfium.PdfDocument(str(path))
    try:
        img = pdf[0].render(scale=1).to_pil().convert("L")
    finally:
        pdf.close()
    img.save(tmp_path / "page1.png")
    import numpy as np

    px = np.asarray(img)
    dark = px < 200
    assert dark.mean() > 0.01
    assert dark[: px.shape[0] // 3].any() and dark[px.shape[0] // 3:].any()
    # the Chinese glyphs come from a Simplified-Chinese CJK font, drawn into the file
    raw = path.read_bytes()
    fonts = set(re.findall(rb"/FontName\s*/[A-Z]{6}\+([A-Za-z0-9-]+)", raw))
    assert any(b"CJKsc" in f or b"CJK-SC" in f or b"HansSC" in f for f in fonts), fonts
    assert b"/FontFile" in raw or b"/Type3" in raw  # glyph outlines embedded, not referenced


def _tree_hash(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_failed_run_exits_nonzero_and_keeps_last_good_brief(monthly, tmp_path: Path):
    result, _, tmp = monthly
    reports = result.out_dir.parent
    before = _tree_hash(result.out_dir)
    marker = tmp_path / "hook.txt"
    proc = subprocess.run(
        [sys.executable, "-m", "envtrace", "brief", "monthly", "--month", result.out_dir.name,
         "--data", str(tmp_path / "no-such-dir"), "--db", f"sqlite:///{tmp / 'ledger.sqlite'}",
         "--out", str(reports), "--on-failure", f'echo "$ENVTRACE_BRIEF $ENVTRACE_FAILED_LOG" > {marker}'],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=600,
    )
    assert proc.returncode != 0
    assert "brief failed" in proc.stderr
    assert _tree_hash(result.out_dir) == before
    failed = sorted((reports / "failed").iterdir())[-1]
    assert (failed / "monthly_briefing.ipynb").is_file()  # the executed notebook with its error
    log = (failed / "brief.log").read_text(encoding="utf-8")
    assert "failed" in log
    hook = marker.read_text(encoding="utf-8").split()
    assert hook == ["monthly", str(failed / "brief.log")]
    assert not [p for p in reports.iterdir() if p.name.startswith(".monthly-")]  # no temp dir left


def test_lock_stops_a_second_run(tmp_path: Path):
    with brief._lock(tmp_path, "monthly"):
        with pytest.raises(brief.BriefError, match="in progress"):
            with brief._lock(tmp_path, "monthly"):
                pass
    with brief._lock(tmp_path, "monthly"):  # released again
        pass


def test_english_tables_translate_the_ledgers_own_chinese_labels():
    from envtrace.brief import area_table, ledger_table

    cases = pd.DataFrame({
        "case_id": ["202610-001", "202610-002"], "title": ["城北街道异味投诉聚集", "15218异味投诉，疑似X"],
        "area": ["城北街道", "15218"], "category": ["odour", "noise"],
        "enterprise_name": ["", "Clairton Coke Works"], "owner": ["待指派", "张科长"],
        "deadline": ["2026-11-01", "2026-11-01"], "status": ["open", "open"],
        "n_complaints": [3, 4], "colour": ["blue", "red"],
    })
    en = ledger_table(cases, lang="en")
    assert en["title"].tolist() == ["城北街道 odour complaints",
                                    "15218 noise complaints, suspected Clairton Coke Works"]
    assert en["owner"].tolist() == ["unassigned", "张科长"]  # real owners are data
    zh = ledger_table(cases, lang="zh")
    assert zh["title"].tolist() == cases["title"].tolist() and zh["owner"].iloc[0] == "待指派"
    kpis = pd.DataFrame({"area": ["全县", "城北街道"], "kpi": ["received", "received"],
                         "value": [5.0, 3.0], "previous": [4.0, 1.0], "change": [1.0, 2.0]})
    assert area_table(kpis, lang="en").iloc[:, 0].tolist() == ["County total", "城北街道"]
    assert area_table(kpis, lang="zh").iloc[:, 0].tolist() == ["全县", "城北街道"]
