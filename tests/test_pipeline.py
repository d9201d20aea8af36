"""Tests of envtrace.pipeline and the ``envtrace trace`` command-line contract."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from envtrace import geo, pipeline
from envtrace.cli import app
from envtrace.errors import InputError

TZ = "Asia/Shanghai"
LON0, LAT0 = 117.0, 35.6
CRS = geo.local_crs([LON0], [LAT0])
COMPLAINT_TIMES = ["2025-06-10 20:10", "2025-06-10 20:40", "2025-06-10 21:05", "2025-06-10 21:30",
                   "2025-06-10 22:15", "2025-06-10 22:50"]


@pytest.fixture(autouse=True)
def _pii_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ENVTRACE_PII_KEY", "test-key")
    monkeypatch.setenv("ENVTRACE_VAR", str(tmp_path / "var"))


def lonlat(x, y):
    lon, lat = geo.unproject(np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float)), CRS)
    return [f"{v:.6f}" for v in lon], [f"{v:.6f}" for v in lat]


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_plants(root: Path, xs: list[float]) -> None:
    """Chemical plants A and B at ``xs`` metres east of the village (y = 0)."""
    elon, elat = lonlat(xs, [0] * len(xs))
    write_csv(root / "enterprises.csv", ["enterprise_id", "name", "industry", "lon", "lat", "status"], [
        ["A", "甲化工有限公司", "C2614 有机化学原料制造", elon[0], elat[0], "operating"],
        ["B", "乙化工有限公司", "C2614 有机化学原料制造", elon[1], elat[1], "operating"],
    ])


def write_wind(root: Path, runs: list[tuple[list[str], int]]) -> None:
    """Hourly wind, random directions at 3 m/s, except from ``deg`` in the 6 h up to each
    of the ``times`` of every run."""
    times = pd.date_range("2025-05-20", "2025-07-10", freq="h", tz=TZ)
    d = np.random.default_rng(1).uniform(0, 360, times.size).round()
    for ts, deg in runs:
        for t in pd.to_datetime(ts).tz_localize(TZ):
            i = times.get_indexer([t.floor("h")])[0]
            d[i - 6:i + 1] = deg
    write_csv(root / "wind.csv", ["time", "wind_dir_deg", "wind_speed_ms"],
              [[t.strftime("%Y-%m-%d %H:%M"), int(v), 3.0] for t, v in zip(times, d, strict=True)])


def make_dataset(root: Path, *, wind: bool = True, bad_row: bool = True) -> Path:
    """A village with 6 odour complaints at west-wind hours; plant A 3 km west, B 500 m east."""
    root.mkdir(parents=True, exist_ok=True)
    xs = [0, 200, -150, 100, -50, 250]
    ys = [0, 100, -200, 250, 50, -100]
    lon, lat = lonlat(xs, ys)
    rows = [[f"T{i}", t, lon[i], lat[i], "wgs84", "12369", "odour", "化工厂异味很重", "",
             f"居民{i}", f"1380000000{i}"] for i, t in enumerate(COMPLAINT_TIMES)]
    rows.append(["T9", "2025-06-01 10:00", lon[0], lat[0], "wgs84", "12369", "noise", "噪音", "", "居民9",
                 "13800000009"])
    if bad_row:
        rows.append(["T10", "2025-06-02 10:00", "", "", "wgs84", "12369", "odour", "臭", "", "居民10", ""])
    write_csv(root / "complaints.csv", ["complaint_id", "received_at", "lon", "lat", "crs", "channel",
                                        "category", "text", "address", "complainant", "phone"], rows)
    write_plants(root, [-3000, 500])
    if wind:
        write_wind(root, [(COMPLAINT_TIMES, 270)])
    write_csv(root / "alarms.csv", ["enterprise_id", "time", "pollutant", "value", "limit"],
              [["A", "2025-06-10 19:00", "VOCs", "150", "60"]])
    return root


def run(args: list[str]):
    return CliRunner().invoke(app, args)


EXPECTED = {
    "complaints.csv": pipeline.COMPLAINT_COLUMNS,
    "rejects.csv": ["source_file", "source_row", "record_id", "reason"],
    "clusters.csv": ["cluster_id", "category", "n_complaints", "n_complainants", "start", "end", "lon",
                     "lat", "radius_m", "p_value"],
    "candidates.csv": ["cluster_id", "rank", "enterprise_id", "name", "score", "distance_m", "bearing_deg",
                       "p_value", "evidence"],
}


def test_trace_reads_actions_and_weighs_earlier_findings(tmp_path: Path) -> None:
    """``--actions FILE`` (and a dataset folder's actions.csv): B's penalty case a month
    before the complaints shows in its evidence and raises its score; a row with an
    unknown action is listed in rejects.csv and counted."""
    data = make_dataset(tmp_path / "data", bad_row=False)
    acts = write_csv(tmp_path / "acts.csv", ["date", "action", "enterprise_id", "note"], [
        ["2025-05-10", "立案查处", "B", "夜间偷排"], ["2025-05-11", "喝茶", "A", ""]])
    base = pipeline.trace(data, n_permutations=0, lang="en")
    files = {k: str(data / f"{k}.csv") for k in ("complaints", "enterprises", "wind", "alarms")}
    res = run(["trace", *[a for k, v in files.items() for a in (f"--{k}", v)], "--actions", str(acts),
               "--out", str(tmp_path / "out"), "--permutations", "0", "--lang", "en"])
    assert res.exit_code == 0, res.output
    cand = pd.read_csv(tmp_path / "out" / "candidates.csv", dtype=str, keep_default_na=False).set_index("enterprise_id")
    before = base.candidates.set_index("enterprise_id")
    assert "earlier finding: penalty case 2025-05-10" in cand.loc["B", "evidence"]
    assert float(cand.loc["B", "score"]) > before.loc["B", "score"]
    s = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert s["evidence"]["enforcement_history"] is True and s["parameters"]["actions"] == str(acts)
    rej = pd.read_csv(tmp_path / "out" / "rejects.csv", dtype=str, keep_default_na=False)
    assert rej[["source_file", "source_row", "reason"]].values.tolist() == [["acts.csv", "2", "bad_value: action"]]
    (data / "actions.csv").write_bytes(acts.read_bytes())  # the same from the dataset folder
    folder = pipeline.trace(data, n_permutations=0, lang="en")
    assert folder.candidates.set_index("enterprise_id").loc["B", "score"] == pytest.approx(float(cand.loc["B", "score"]), rel=1e-4)
    bad = run(["trace", "--data", str(data), "--actions", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o2")])
    assert bad.exit_code == 2 and "--actions" in bad.output and "Traceback" not in bad.output


def test_trace_writes_the_contract_files(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data")
    out = tmp_path / "out"
    res = run(["trace", "--data", str(data), "--out", str(out), "--permutations", "99", "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == sorted([*EXPECTED, "clusters.geojson", "summary.json"])
    frames = {n: pd.read_csv(out / n, dtype=str, keep_default_na=False) for n in EXPECTED}
    for name, cols in EXPECTED.items():
        assert list(frames[name].columns) == cols, name
    comp = frames["complaints.csv"]
    assert len(comp) == 7  # 8 rows read, 1 rejected
    assert comp["received_at"].str.endswith("+08:00").all()
    assert comp.loc[comp["complaint_id"] == "T0", "received_at"].item() == "2025-06-10T20:10:00+08:00"
    odour = comp[comp["complaint_id"].isin([f"T{i}" for i in range(6)])]
    assert odour["cluster_id"].nunique() == 1 and odour["cluster_id"].iloc[0] != "-1"
    assert comp.loc[comp["complaint_id"] == "T9", "cluster_id"].item() == "-1"
    assert not comp["complainant_key"].str.contains("居民").any()
    rej = frames["rejects.csv"]
    assert rej["source_file"].tolist() == ["complaints.csv"] and rej["source_row"].tolist() == ["8"]
    cand = frames["candidates.csv"]
    assert cand["enterprise_id"].tolist()[0] == "A" and cand["rank"].tolist() == ["1", "2"]
    assert float(cand["p_value"].iloc[0]) <= 0.05
    assert 0.0 <= float(cand["score"].iloc[0]) <= 1.0
    assert "alarms within 6 h before complaints" in cand["evidence"].iloc[0]
    gj = json.loads((out / "clusters.geojson").read_text(encoding="utf-8"))
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == 1
    assert gj["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    sha = hashlib.sha256((data / "complaints.csv").read_bytes()).hexdigest()
    assert s["inputs_sha256"]["complaints.csv"] == sha
    assert s["evidence"] == {"wind": True, "alarms": True, "enforcement_history": False,
                             "time_words": 0, "time_word_trust": 0.0,  # no 半夜/白天 in the texts
                             # six complaints name a smell, but with one event their words
                             # cannot be seen to agree more than chance
                             "odour_words": 6, "odour_word_trust": 0.0, "odour_lexicon_fit": None,
                             "named": 0, "name_trust": 0.0,  # no firm named in the texts
                             "triangulation_tau_days": {}}  # one event: nothing to triangulate
    assert s["files"]["complaints.csv"]["rows_read"] == 8
    assert s["files"]["complaints.csv"]["rows_accepted"] + s["files"]["complaints.csv"]["rows_rejected"] == 8
    assert s["parameters"]["permutations"] == 99 and s["parameters"]["lang"] == "en"
    assert {"ingest_s", "classify_s", "events_s", "attribution_s", "scan_s", "write_s"} <= set(s["durations_s"])
    # the event p-values (scanned beside the attribution) reached clusters.csv
    clusters = frames["clusters.csv"]
    assert len(clusters) == 1 and 0 < float(clusters["p_value"].iloc[0]) <= 1
    text = "".join(p.read_text(encoding="utf-8") for p in out.iterdir())
    assert "居民" not in text and "1380000000" not in text  # no personal data anywhere


def test_explicit_files_give_the_same_candidates(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data")
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(["trace", "--data", str(data), "--out", str(a), "--permutations", "19"]).exit_code == 0
    res = run(["trace", "--complaints", str(data / "complaints.csv"), "--enterprises",
               str(data / "enterprises.csv"), "--wind", str(data / "wind.csv"), "--alarms",
               str(data / "alarms.csv"), "--permutations", "19", "--out", str(b)])
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(pd.read_csv(a / "candidates.csv"), pd.read_csv(b / "candidates.csv"))
    assert "上风向" in pd.read_csv(a / "candidates.csv")["evidence"].iloc[0]  # zh by default


def test_without_wind_summary_and_evidence_say_so(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", wind=False)
    out = tmp_path / "out"
    assert run(["trace", "--data", str(data), "--out", str(out), "--lang", "en"]).exit_code == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["evidence"]["wind"] is False
    assert any("no wind data" in w for w in s["warnings"])
    cand = pd.read_csv(out / "candidates.csv")
    assert cand["evidence"].str.startswith("no wind data").all()
    assert cand["p_value"].isna().all()


def test_failing_run_leaves_the_old_dir_untouched(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data")
    out = tmp_path / "out"
    out.mkdir()
    (out / "marker.txt").write_text("old", encoding="utf-8")
    (data / "enterprises.csv").write_text("foo,bar\n1,2\n", encoding="utf-8")  # unusable
    res = run(["trace", "--data", str(data), "--out", str(out)])
    assert res.exit_code == 2
    assert sorted(p.name for p in out.iterdir()) == ["marker.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no temp dir left


def test_trace_to_writes_what_trace_and_write_trace_write(tmp_path: Path) -> None:
    """trace_to writes the big tables while the scan runs: same files, byte for byte
    (summary.json apart from its durations), as trace() then write_trace()."""
    data = make_dataset(tmp_path / "data")
    a = pipeline.write_trace(pipeline.trace(data, n_permutations=19, lang="en"), tmp_path / "a")
    r = pipeline.trace_to(tmp_path / "b", data, n_permutations=19, lang="en")
    b = tmp_path / "b"
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    for name in ("complaints.csv", "rejects.csv", "candidates.csv", "clusters.csv", "clusters.geojson"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    sa, sb = (json.loads((d / "summary.json").read_text(encoding="utf-8")) for d in (a, b))
    assert sa.pop("durations_s").keys() <= sb.pop("durations_s").keys() == r.summary["durations_s"].keys() | {"write_s"}
    sa["parameters"].pop("data"), sb["parameters"].pop("data")
    assert sa == sb
    assert "write_early_s" in r.summary["durations_s"]


def test_trace_to_failing_after_the_early_tables_leaves_the_old_dir(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from envtrace import events

    data = make_dataset(tmp_path / "data")
    out = tmp_path / "out"
    out.mkdir()
    (out / "marker.txt").write_text("old", encoding="utf-8")
    early = []
    candidates_ready = pipeline._EarlyTables.candidates_ready

    def record(self, cand):
        candidates_ready(self, cand)
        early.append(sorted(p.name for p in self._open().iterdir()))

    def boom(self):  # the scan fails; trace_to learns it after the early tables
        raise RuntimeError("scan failed")

    monkeypatch.setattr(pipeline._EarlyTables, "candidates_ready", record)
    monkeypatch.setattr(events.SpaceTimeEvents, "scan", boom)
    with pytest.raises(RuntimeError):
        pipeline.trace_to(out, data, n_permutations=19)
    assert early == [["candidates.csv", "complaints.csv", "rejects.csv"]]
    # bad input fails before any folder is made: none beside --out, no parent created
    (data / "enterprises.csv").write_text("foo,bar\n1,2\n", encoding="utf-8")
    monkeypatch.undo()
    with pytest.raises(InputError):
        pipeline.trace_to(tmp_path / "x" / "y" / "out", data, n_permutations=19)
    assert not (tmp_path / "x").exists()
    with pytest.raises(TypeError):
        pipeline.trace_to(out, data, early_write=print)
    assert sorted(p.name for p in out.iterdir()) == ["marker.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    res = run(["trace", "--complaints", str(tmp_path / "nope.csv"), "--enterprises",
               str(tmp_path / "nope2.csv"), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("envtrace: error:") and "nope.csv" in err[0]
    assert "Traceback" not in res.output
    assert not (tmp_path / "out").exists()


def test_bad_attribution_setting_is_one_line_exit_2(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data")
    toml = data / "envtrace.toml"
    old = toml.read_text(encoding="utf-8") if toml.exists() else ""
    toml.write_text(old + "\n[attribution]\ntriangulation_tau_days = [0.0, inf]\n", encoding="utf-8")
    res = run(["trace", "--data", str(data), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and "triangulation_tau_days" in err[0] and "positive" in err[0]
    assert not (tmp_path / "out").exists()


def test_unusable_out_is_one_line_exit_2_before_the_run(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data")
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    for out, why in ((afile / "out", "is not a folder"), (afile, "exists and is not a folder")):
        res = run(["trace", "--data", str(data), "--out", str(out)])
        assert res.exit_code == 2, res.output
        err = res.stderr.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("envtrace: error: --out") and why in err[0]
        assert "Traceback" not in res.output
    assert afile.read_text(encoding="utf-8") == "x"


def test_trace_function_returns_all_frames(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data")
    r = pipeline.trace(data, n_permutations=0, lang="en")
    assert isinstance(r, pipeline.TraceResult)
    assert len(r.events) == 1 and len(r.candidates) == 2
    assert (r.complaints["cluster_id"] != "-1").sum() == 6
    assert r.summary["counts"]["clusters"] == 1 and r.wind is not None and r.alarms is not None


@pytest.mark.slow
def test_generated_world_beats_the_naive_method(tmp_path: Path) -> None:
    """On a generated county, top-1 accuracy beats 'nearest enterprise of a matching industry'."""
    from envtrace import profiles, sample

    d = sample.generate(3).write(tmp_path / "world")
    r = pipeline.trace(d, n_permutations=0, lang="en", event_params={"n_permutations": 0})
    truth = pd.read_csv(d / "truth" / "complaints.csv", dtype=str, keep_default_na=False)
    truth["source_row"] = truth["source_row"].astype(int)
    comp = r.complaints[["source_row", "cluster_id"]].astype({"source_row": int})
    comp = comp.merge(truth[["source_row", "source_enterprise_id"]], on="source_row")
    comp = comp[(comp["cluster_id"] != "-1") & (comp["source_enterprise_id"] != "")]
    top = r.candidates[r.candidates["rank"] == 1].set_index("cluster_id")["enterprise_id"]
    ent = r.enterprises
    prof = profiles.profile_for(ent["industry_code"].tolist())
    naive = {}
    for _, e in r.events.iterrows():
        ok = (prof[e["category"]].to_numpy() > 0) if e["category"] in prof.columns else np.zeros(len(ent), bool)
        ok &= ent["status"].to_numpy() != "closed"
        dist, _ = geo.distance_bearing(e["lon"], e["lat"], ent["lon"].to_numpy(), ent["lat"].to_numpy())
        naive[e["cluster_id"]] = ent["enterprise_id"].to_numpy()[np.argmin(np.where(ok, dist, np.inf))]
    ours = (comp["cluster_id"].map(top) == comp["source_enterprise_id"]).mean()
    base = (comp["cluster_id"].map(naive) == comp["source_enterprise_id"]).mean()
    assert len(comp) > 50
    assert ours > base + 0.1
    # the triangulation's time scale, chosen from the events, is reported per category
    tau = r.summary["evidence"]["triangulation_tau_days"]
    assert "odour" in tau and tau["odour"] in (7.0, 14.0, 30.0, 60.0, 120.0, None)


def test_write_csv_is_pandas_dialect(tmp_path):
    # quoting only where needed, quotes doubled, missing values empty, UTF-8
    df = pd.DataFrame({
        "complaint_id": pd.Series(["c1", 'a,"b"', "x\ny", "投诉，中文", "r\rs", ""], dtype="str"),
        "lon": [117.123456, np.nan, 0.5, -1.25, 1e-07, 3.0],
        "cluster_id": pd.Series(["E1", "-1", None, "E2", "E3", "E4"], dtype="str"),
        "n": [1, 2, 3, 4, 5, 6],
    })
    pipeline.write_csv(df, tmp_path / "a.csv")
    df.iloc[:4].to_csv(tmp_path / "pandas.csv", index=False, encoding="utf-8")
    pipeline.write_csv(df.iloc[:4], tmp_path / "b.csv")
    # without integral or tiny floats and bare carriage returns (which pandas leaves
    # unquoted): byte for byte what pandas writes
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    back = pd.read_csv(tmp_path / "a.csv", dtype={"complaint_id": str, "cluster_id": str},
                       keep_default_na=False, na_values={"lon": [""]})
    assert back["complaint_id"].tolist() == df["complaint_id"].tolist()
    assert back["cluster_id"].tolist() == ["E1", "-1", "", "E2", "E3", "E4"]
    np.testing.assert_array_equal(back["lon"].to_numpy(), df["lon"].to_numpy())
    assert back["n"].tolist() == [1, 2, 3, 4, 5, 6]
    with open(tmp_path / "a.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["complaint_id", "lon", "cluster_id", "n"] and len(rows) == 7
    # booleans, times and one-column frames are written by pandas itself
    other = pd.DataFrame({"ok": [True, False], "t": pd.to_datetime(["2026-01-01 08:00"] * 2).tz_localize("Asia/Shanghai")})
    for frame_, name in ((other, "o"), (pd.DataFrame({"a": pd.Series(["x", ""], dtype="str")}), "one")):
        pipeline.write_csv(frame_, tmp_path / f"{name}.csv")
        frame_.to_csv(tmp_path / f"{name}_pd.csv", index=False, encoding="utf-8")
        assert (tmp_path / f"{name}.csv").read_bytes() == (tmp_path / f"{name}_pd.csv").read_bytes()
    pipeline.write_csv(df.iloc[:0], tmp_path / "empty.csv")
    assert (tmp_path / "empty.csv").read_text(encoding="utf-8") == "complaint_id,lon,cluster_id,n\n"


def test_trace_to_failing_while_complaints_are_written_leaves_the_old_dir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # complaints.csv is being written on a thread when the ranking fails: the thread ends
    # before the new folder is removed, and nothing is left beside --out (nor the parent
    # directories the run made)
    import threading
    import time as _time

    from envtrace import _atomic, attribution

    data = make_dataset(tmp_path / "data")
    # without step 11 of the attribution complaints.csv is written beside the ranking (with
    # it, once the events are final, after the ranking)
    (data / "envtrace.toml").write_text("[attribution]\nsplit_rounds = 0\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "marker.txt").write_text("old", encoding="utf-8")

    def boom(*args, **kwargs):
        raise RuntimeError("ranking failed")

    write_complaints = pipeline._write_complaints

    def slow(*args, **kwargs):
        _time.sleep(0.5)
        return write_complaints(*args, **kwargs)

    writing_at_removal: list[list[str]] = []
    rmtree = _atomic.shutil.rmtree

    def watched(path, *args, **kwargs):
        writing_at_removal.append([t.name for t in threading.enumerate() if t.name.startswith("envtrace-write")])
        return rmtree(path, *args, **kwargs)

    monkeypatch.setattr(attribution, "rank_suspects", boom)
    monkeypatch.setattr(pipeline, "_write_complaints", slow)
    monkeypatch.setattr(_atomic.shutil, "rmtree", watched)
    for dest in (out, tmp_path / "new" / "deeper" / "out"):
        writing_at_removal.clear()
        with pytest.raises(RuntimeError, match="ranking failed"):
            pipeline.trace_to(dest, data, n_permutations=19)
        assert writing_at_removal == [[]]  # the folder was removed once, no writer alive
    assert sorted(p.name for p in out.iterdir()) == ["marker.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    assert not (tmp_path / "new").exists()


def test_input_files_are_those_the_run_reads(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data")
    (data / "complaints.xlsx").write_bytes(b"not read: complaints.csv comes first")
    (data / "areas.geojson").write_text("{}", encoding="utf-8")
    got = pipeline._input_files(data, {})
    assert [p.name for p in got] == ["complaints.csv", "enterprises.csv", "wind.csv", "alarms.csv",
                                     "areas.geojson"]
    given = tmp_path / "other.csv"
    given.write_text("a,b\n", encoding="utf-8")
    got = pipeline._input_files(data, {"complaints": given})
    assert [p.name for p in got] == ["enterprises.csv", "wind.csv", "alarms.csv", "areas.geojson", "other.csv"]
    # the map files load_dataset reads: the areas, and the envtrace.toml boundary unless given
    (data / "maps").mkdir()
    (data / "maps" / "county.geojson").write_text("{}", encoding="utf-8")
    assert [p.name for p in pipeline._map_files(data, "maps/county.geojson", {})] == ["areas.geojson",
                                                                                     "county.geojson"]
    assert [p.name for p in pipeline._map_files(data, "maps/county.geojson", {"boundary": given})] == [
        "areas.geojson"]
    hashes = pipeline._input_hashes(data, {}, {}, {}, extra=pipeline._map_files(data, "maps/county.geojson", {}))
    assert set(hashes) == {"areas.geojson", "maps/county.geojson"}
    # a file that cannot be read is left out, not an error (the run may never read it)
    hashes = pipeline._sha256_all([data / "wind.csv", data])  # a directory: IsADirectoryError
    assert list(hashes) == [data / "wind.csv"]


def test_write_csv_many_chunks_and_a_slice_equal_pandas(tmp_path: Path) -> None:
    # more rows than one 200,000-line chunk, quoting in some of them, from a sliced frame
    n = 450_001
    ids = pd.Series([f"c{i}" if i % 1000 else f'c,"{i}"' for i in range(n)], dtype="str")
    df = pd.DataFrame({"complaint_id": ids, "n": np.arange(n), "cluster_id": pd.Series(["E1"] * n, dtype="str")})
    part = df.iloc[7:n - 3]
    pipeline.write_csv(part, tmp_path / "a.csv")
    part.to_csv(tmp_path / "b.csv", index=False, encoding="utf-8")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def read_tables(out: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """complaints.csv, clusters.csv and candidates.csv of a trace, as text."""
    return tuple(pd.read_csv(out / f"{name}.csv", dtype=str, keep_default_na=False)
                 for name in ("complaints", "clusters", "candidates"))


def make_two_source_dataset(root: Path) -> Path:
    """One village, one space-time event: 6 odour complaints after west wind on 10 June and
    6 after east wind on 11 June (within the 48 h window); plant A 3 km west, B 3 km east."""
    root.mkdir(parents=True, exist_ok=True)
    xs = [0, 200, -150, 100, -50, 250]
    ys = [0, 100, -200, 250, 50, -100]
    lon, lat = lonlat(xs, ys)
    east_times = [t.replace("2025-06-10", "2025-06-11") for t in COMPLAINT_TIMES]
    rows = [[f"T{i}", t, lon[i % 6], lat[i % 6], "wgs84", "12369", "odour", "化工厂异味很重", "",
             f"居民{i}", f"13800000{i:03d}"] for i, t in enumerate(COMPLAINT_TIMES + east_times)]
    write_csv(root / "complaints.csv", ["complaint_id", "received_at", "lon", "lat", "crs", "channel",
                                        "category", "text", "address", "complainant", "phone"], rows)
    write_plants(root, [-3000, 3000])
    write_wind(root, [(COMPLAINT_TIMES, 270), (east_times, 90)])
    return root


def test_an_event_of_two_sources_becomes_two_in_every_output(tmp_path: Path) -> None:
    """Step 11 end to end: the event holding A's and B's complaints is written as two
    events, each naming its own plant, with the parent's scan p-value; complaints.csv
    (written once the events are final) agrees with clusters.csv; trace_to = trace +
    write_trace."""
    data = make_two_source_dataset(tmp_path / "data")
    r = pipeline.trace_to(tmp_path / "b", data, n_permutations=19, lang="en")
    out = tmp_path / "b"
    comp, clusters, cand = read_tables(out)
    assert r.summary["counts"]["split_clusters"] == 1 and len(clusters) == 2
    west = comp.loc[comp["complaint_id"].isin([f"T{i}" for i in range(6)]), "cluster_id"]
    east = comp.loc[comp["complaint_id"].isin([f"T{i}" for i in range(6, 12)]), "cluster_id"]
    assert west.nunique() == east.nunique() == 1 and west.iloc[0] != east.iloc[0]
    assert set(clusters["cluster_id"]) == {west.iloc[0], east.iloc[0]}
    assert clusters["n_complaints"].tolist() == ["6", "6"]
    top = cand[cand["rank"] == "1"].set_index("cluster_id")["enterprise_id"]
    assert top[west.iloc[0]] == "A" and top[east.iloc[0]] == "B"
    assert clusters["p_value"].nunique() == 1  # the parent's
    assert (cand["p_value"] != "").all()  # the parts' suspects are tested (not the parent's)
    a = pipeline.write_trace(pipeline.trace(data, n_permutations=19, lang="en"), tmp_path / "a")
    for name in ("complaints.csv", "candidates.csv", "clusters.csv"):
        assert (a / name).read_bytes() == (out / name).read_bytes(), name
    # switched off (envtrace.toml): one event, of both plants' complaints, whose scan
    # p-value the parts carry
    (data / "envtrace.toml").write_text("[attribution]\nsplit_min_gain = 0\n", encoding="utf-8")
    off = pipeline.trace(data, n_permutations=19, lang="en")
    assert len(off.events) == 1 and off.summary["counts"]["split_clusters"] == 0
    assert float(clusters["p_value"].iloc[0]) == pytest.approx(float(off.events["p_value"].iloc[0]))


def test_an_event_of_three_sources_becomes_three_in_every_output(tmp_path: Path) -> None:
    """Step 11 with three plants, end to end: A 3 km west, B 3 km east and C 3 km north of
    the village; 6 complaints after each one's wind on 10, 11 and 12 June (one chain of
    complaints, one event). One round splits it in three (``split_max_parts``), each part
    naming its own plant; complaints.csv and clusters.csv agree."""
    data = make_two_source_dataset(tmp_path / "data")
    north = [t.replace("2025-06-10", "2025-06-12") for t in COMPLAINT_TIMES]
    comp = pd.read_csv(data / "complaints.csv", dtype=str, keep_default_na=False)
    third = comp.iloc[:6].copy()
    third["complaint_id"] = [f"T{i}" for i in range(12, 18)]
    third["received_at"] = north
    third["complainant"] = [f"居民{i}" for i in range(12, 18)]
    third["phone"] = [f"13800000{i:03d}" for i in range(12, 18)]
    pd.concat([comp, third]).to_csv(data / "complaints.csv", index=False)
    east = [t.replace("2025-06-10", "2025-06-11") for t in COMPLAINT_TIMES]
    write_wind(data, [(COMPLAINT_TIMES, 270), (east, 90), (north, 0)])
    ent = pd.read_csv(data / "enterprises.csv", dtype=str, keep_default_na=False)
    clon, clat = lonlat([0], [3000])
    ent = pd.concat([ent, pd.DataFrame([["C", "丙化工有限公司", "C2614 有机化学原料制造", clon[0], clat[0],
                                         "operating"]], columns=ent.columns)])
    ent.to_csv(data / "enterprises.csv", index=False)
    r = pipeline.trace_to(tmp_path / "out", data, n_permutations=0, lang="en")
    out = tmp_path / "out"
    comp, clusters, cand = read_tables(out)
    assert r.summary["counts"]["split_clusters"] == 1 and len(clusters) == 3
    top = cand[cand["rank"] == "1"].set_index("cluster_id")["enterprise_id"]
    for plant, ids in (("A", range(6)), ("B", range(6, 12)), ("C", range(12, 18))):
        cid = comp.loc[comp["complaint_id"].isin([f"T{i}" for i in ids]), "cluster_id"]
        assert cid.nunique() == 1 and top[cid.iloc[0]] == plant
    assert sorted(clusters["n_complaints"].astype(int)) == [6, 6, 6]
    # the rule of before (two parts, no places) leaves one event holding two plants
    (data / "envtrace.toml").write_text("[attribution]\nsplit_max_parts = 2\nsplit_reach = false\n"
                                        "split_detach_margin = inf\n", encoding="utf-8")
    two = pipeline.trace(data, n_permutations=0, lang="en")
    assert sorted(two.events["n_complaints"].astype(int)) == [6, 12]
    # two parts: the third plant's six complainants find no part, and as a group they stay
    # (complaints leave one by one, not as a group); a second round makes them a part
    (data / "envtrace.toml").write_text("[attribution]\nsplit_max_parts = 2\nsplit_reach = false\n",
                                        encoding="utf-8")
    two = pipeline.trace(data, n_permutations=0, lang="en")
    assert sorted(two.events["n_complaints"].astype(int)) == [6, 12]
    assert two.summary["counts"]["left_event_complaints"] == 0
    (data / "envtrace.toml").write_text("[attribution]\nsplit_max_parts = 2\nsplit_reach = false\n"
                                        "split_rounds = 2\n", encoding="utf-8")
    again = pipeline.trace(data, n_permutations=0, lang="en")
    assert sorted(again.events["n_complaints"].astype(int)) == [6, 6, 6]
    # the third plant's six calls from two residents: too few for a part, so they leave the
    # event for none, with the duplicates among them, rather than be blamed on A or B
    (data / "envtrace.toml").unlink()
    raw = pd.read_csv(data / "complaints.csv", dtype=str, keep_default_na=False)
    two_people = raw["complaint_id"].isin([f"T{i}" for i in range(12, 18)])
    raw.loc[two_people, "complainant"] = ["居民12", "居民13"] * 3
    raw.loc[two_people, "phone"] = ["13800000012", "13800000013"] * 3
    raw.to_csv(data / "complaints.csv", index=False)
    r2 = pipeline.trace_to(tmp_path / "out2", data, n_permutations=0, lang="en")
    comp2, clusters2, cand2 = read_tables(tmp_path / "out2")
    assert sorted(clusters2["n_complaints"].astype(int)) == [6, 6]
    gone = comp2.loc[comp2["cluster_id"] == "-1", "complaint_id"]
    assert set(gone) == {f"T{i}" for i in range(12, 18)}
    assert r2.summary["counts"]["left_event_complaints"] == 6
    top2 = cand2[cand2["rank"] == "1"].set_index("cluster_id")["enterprise_id"]
    assert sorted(top2) == ["A", "B"]
    left = r2.complaints.set_index("complaint_id")["left_event"]
    assert (left.drop(gone) == "").all()
    # they were in the top suspect's part (C's north wind is neither A's nor B's): its new
    # id, an event of the outputs
    assert left[gone].nunique() == 1 and left[gone].iloc[0] in set(clusters2["cluster_id"])


def test_large_input_starts_the_child_processes_server_early(tmp_path: Path) -> None:
    small = tmp_path / "complaints.csv"
    small.write_text("complaint_id,received_at,lon,lat\n", encoding="utf-8")
    assert not pipeline._large_input(tmp_path, {})
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:
        fh.truncate(pipeline._LARGE_INPUT_BYTES)
    assert pipeline._large_input(None, {"complaints": big})
    assert pipeline._large_input(tmp_path, {"complaints": big})  # an explicit file wins
    assert not pipeline._large_input(tmp_path / "missing", {})


@pytest.mark.parametrize("module", ["blind_world", "blind_world2"])
def test_worlds_written_by_someone_else_go_through_the_command(tmp_path: Path, module: str) -> None:
    """The two independent world generators of ``benchmarks/`` (written from DESIGN.md
    alone: GCJ-02/BD-09, Chinese headers and wind words, GB18030) stay readable: every
    complaint row is accepted or rejected with a reason, events are found and ranked, and
    some event ranks a true source of its complaints (accuracy on these worlds is measured
    by ``benchmarks/eval_blind.py`` and ``eval_blind2.py``, not here)."""
    import importlib
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        gen = importlib.import_module(module)
    finally:
        sys.path.pop(0)
    data = tmp_path / "w"
    if module == "blind_world":
        gen.generate(3, data, tmp_path / "truth")
        truth = pd.read_csv(tmp_path / "truth" / "complaints_truth.csv", dtype=str, keep_default_na=False)
        src_col = "source_id"
    else:
        truth_dir = gen.generate(3, data)
        truth = pd.read_csv(truth_dir / "complaints.csv", dtype=str, keep_default_na=False)
        src_col = "source_enterprise_id"
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["trace", "--data", str(data), "--out", str(out), "--permutations", "0"])
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rows = summary["rows"]
    assert rows["read"] == rows["accepted"] + rows["rejected"] > 0
    comp = pd.read_csv(out / "complaints.csv", dtype=str, keep_default_na=False)
    cand = pd.read_csv(out / "candidates.csv", dtype=str, keep_default_na=False)
    j = comp.merge(truth[["complaint_id", src_col]], on="complaint_id")
    j = j[(j["cluster_id"] != "-1") & (j[src_col] != "")]
    ranked = cand.groupby("cluster_id")["enterprise_id"].agg(set)
    events = j.groupby("cluster_id")[src_col].agg(set)
    hit = [bool(events[c] & ranked.get(c, set())) for c in events.index]
    assert len(hit) >= 5 and any(hit)
