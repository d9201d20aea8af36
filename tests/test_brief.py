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
    ends_on_last_day = pd.Series(pd.to_datetime(["2026-09-03 10:00", "2026-10-31 23:10"]).tz_localize(TZ))
    assert brief.last_full_month(ends_on_last_day) == "2026-10"
    ends_early = pd.Series(pd.to_datetime(["2026-09-03 10:00", "2026-10-30 18:08"]).tz_localize(TZ))
    assert brief.last_full_month(ends_early) == "2026-09"
    # 2026-10-31 20:00 UTC is already 1 November in Shanghai: October is then full
    utc = pd.Series(pd.to_datetime(["2026-10-31 20:00"]).tz_localize("UTC"))
    assert brief.last_full_month(utc, tz=TZ) == "2026-10"
    with pytest.raises(InputError):
        brief.last_full_month(pd.Series([pd.NaT]))


def test_resolve_month():
    assert brief.resolve_month("2026-3") == "2026-03"
    frame = pd.DataFrame({"received_at": pd.to_datetime(["2026-02-28 12:00"]).tz_localize(TZ)})
    assert brief.resolve_month("last", frame) == "2026-02"
    with pytest.raises(InputError):
        brief.resolve_month("October")


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
    assert [c.text for c in kpi.rows[1].cells] == ["received", "10.0", "8.0", "2.0"]
    xml = ledger._tbl.xml
    assert 'w:fill="FFC7CE"' in xml and 'w:fill="C6EFCE"' in xml


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
        elif p.suffix in {".html", ".ipynb", ".json", ".pdf"}:
            texts[p.name] = p.read_bytes().decode("utf-8", "ignore")
    return texts


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


@pytest.mark.slow
def test_monthly_brief_contains_no_personal_data(monthly):
    result, sample, _ = monthly
    names, phones = _pii(sample)
    texts = _texts(result.out_dir)
    assert {"monthly_briefing.html", "monthly_briefing.ipynb", "monthly_briefing.docx",
            "monthly_briefing.xlsx", "map.html"} <= set(texts)
    for fname, text in texts.items():
        digits = re.sub(r"\D", "", text)
        for n in names:
            assert n not in text, f"a complainant name leaked into {fname}"
        for ph in phones:
            assert ph not in text and ph not in digits, f"a phone number leaked into {fname}"


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
