"""Command line: a thin layer over the package's functions.

Every command turns :class:`envtrace.errors.InputError` into one line on stderr and exit
status 2; nothing else about bad data should ever reach the user as a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional  # noqa: F401

import typer

from envtrace.errors import InputError

app = typer.Typer(
    name="envtrace",
    help="Trace citizen environmental complaints to their sources and track the cases.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_DATA = Path("data/sample")


def _unusable_out(out: Path) -> str:
    """Why ``out`` cannot become an output folder ("" when it can), checked before a run."""
    p = Path(out).resolve()
    if p.exists() and not p.is_dir():
        return "exists and is not a folder"
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                return f"{parent} is not a folder"
            if not os.access(parent, os.W_OK | os.X_OK):
                return f"cannot write in {parent}"
            return ""
    return ""


def fail(message: str) -> None:
    """Print a one-line error and exit with status 2."""
    first = str(message).strip().splitlines()[0] if str(message).strip() else "unusable input"
    typer.echo(f"envtrace: error: {first}", err=True)
    raise typer.Exit(code=2)


# --- ingest (envtrace.io) -------------------------------------------------------------
@app.command("ingest")
def ingest_command(
    file: Annotated[Path, typer.Argument(help="A complaints file (CSV/XLSX/GeoJSON) or a dataset folder.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder, replaced atomically.")] = Path("var/ingest"),
    tz: Annotated[str | None, typer.Option("--tz", help="Zone of naive times (default Asia/Shanghai).")] = None,
    crs: Annotated[str | None, typer.Option("--crs", help="Coordinate system of the file: wgs84, gcj02, bd09, cgcs2000.")] = None,
    columns: Annotated[str | None, typer.Option("--columns", help="Header mapping SRC=DST,...")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="Column-mapping profile: bundled NAME or YAML FILE.")] = None,
    boundary: Annotated[Path | None, typer.Option("--boundary", help="Study-area polygon file (GeoJSON/GPKG).")] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="XLSX sheet name or 0-based number.")] = None,
) -> None:
    """Read, validate, normalise and pseudonymise complaints; write complaints.csv, rejects.csv, summary.json."""
    import hashlib
    import json
    import time as _time

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from envtrace import io as eio
    from envtrace._atomic import atomic_dir

    started = _time.perf_counter()
    bar: dict[str, object] = {}
    stages = ("read", "pseudonymise", "coordinates", "times", "ids_text", "normalise_duplicates")

    def progress(stage: str, n_rows: int) -> None:
        if n_rows <= eio.LARGE_FILE_ROWS:
            return
        if "p" not in bar:
            p = Progress(TextColumn("ingest {task.description}"), BarColumn(), TimeElapsedColumn(),
                         console=Console(stderr=True), transient=True)
            p.start()
            bar["p"], bar["t"] = p, p.add_task(f"{n_rows:,} rows", total=len(stages))
        p = bar["p"]
        p.update(bar["t"], advance=1, description=f"{n_rows:,} rows: {stage}")  # type: ignore[attr-defined]

    try:
        cols = eio.parse_columns_option(columns)
        sheet_arg: str | int | None = int(sheet) if sheet is not None and sheet.isdigit() else sheet
        if file.is_dir():
            ds = eio.load_dataset(file, tz=tz, crs=crs, columns=cols or None, profile=profile,
                                  boundary=boundary, sheet=sheet_arg, require_enterprises=False,
                                  progress=progress)
            frame, rejects, summary = ds.complaints, ds.rejects, ds.summary
            inputs = [p for p in sorted(file.iterdir()) if p.is_file()]
        else:
            cfg = eio.load_config(file.parent)
            res = eio.read_complaints(file, config=cfg, columns=cols or None, profile=profile,
                                      boundary=boundary, tz=tz, crs=crs, sheet=sheet_arg,
                                      progress=progress)
            frame, rejects = res.frame, res.rejects
            summary = {"files": {res.summary["file"]: {k: v for k, v in res.summary.items() if k not in ("file", "warnings")}},
                       "rows_read": res.summary["rows_read"], "rows_accepted": res.summary["rows_accepted"],
                       "rows_rejected": res.summary["rows_rejected"], "tz": res.summary["tz"],
                       "warnings": res.summary["warnings"]}
            inputs = [file]
    except eio.InputError as exc:
        fail(str(exc))
        return
    finally:
        if "p" in bar:
            bar["p"].stop()  # type: ignore[attr-defined]
    summary["parameters"] = {"input": str(file), "tz": tz, "crs": crs, "columns": columns,
                             "profile": profile, "boundary": str(boundary) if boundary else None,
                             "sheet": sheet}
    summary["input_sha256"] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inputs}
    summary["duration_s"] = round(_time.perf_counter() - started, 3)
    with atomic_dir(out) as tmp:
        (tmp / "complaints.csv").write_text(eio.complaints_to_csv(frame), encoding="utf-8")
        (tmp / "rejects.csv").write_text(rejects.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
        (tmp / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=str),
                                          encoding="utf-8")
    console = Console()
    table = Table(title=f"envtrace ingest → {out}")
    table.add_column("group")
    table.add_column("value")
    table.add_column("rows", justify="right")
    for fname, fs in summary["files"].items():
        table.add_row(fname, "read / accepted / rejected",
                      f"{fs['rows_read']:,} / {fs['rows_accepted']:,} / {fs['rows_rejected']:,}")
    for k, v in frame["channel"].value_counts().sort_index().items():
        table.add_row("channel", str(k), f"{v:,}")
    for k, v in frame["crs_in"].value_counts().sort_index().items():
        table.add_row("crs", str(k), f"{v:,}")
    codes = rejects["reason"].str.split(":").str[0] if len(rejects) else rejects["reason"]
    for k, v in codes.value_counts().sort_index().items():
        table.add_row("rejected (all files)", str(k), f"{v:,}")
    console.print(table)
    for w in summary.get("warnings", []):
        typer.echo(f"envtrace: warning: {w}", err=True)


# --- classify (envtrace.classify) ----------------------------------------------------
classify_app = typer.Typer(help="Complaint categories from free text (lexicon + model).",
                           no_args_is_help=True)
app.add_typer(classify_app, name="classify")


@classify_app.command("train")
def classify_train_command(
    seed: Annotated[int, typer.Option("--seed", help="Seed of the training-set generator and model.")] = 0,
    out_dir: Annotated[Path | None, typer.Option("--out-dir", help="Write classify_train.csv and classifier.npz here instead of the package data folder.")] = None,
) -> None:
    """Regenerate the training set and retrain the model (same seed → same model)."""
    from envtrace import classify as ec

    train_path = out_dir / "classify_train.csv" if out_dir else ec.TRAIN_PATH
    model_path = out_dir / "classifier.npz" if out_dir else ec.MODEL_PATH
    try:
        model = ec.rebuild(seed=seed, train_path=train_path, model_path=model_path)
    except InputError as exc:
        fail(str(exc))
        return
    typer.echo(f"trained on {train_path} (seed {seed}): {len(model.vocabulary_):,} n-grams, "
               f"classes {', '.join(model.classes_)} → {model_path}")


@classify_app.command("evaluate")
def classify_evaluate_command(
    eval_file: Annotated[Path, typer.Option("--eval", help="Labelled CSV with columns text, category.")] = Path("tests/data/classify_eval.csv"),
    model_file: Annotated[Path | None, typer.Option("--model", help="Model .npz (default: the packaged one).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="auto, zh or en.")] = "auto",
) -> None:
    """Print per-class precision, recall and F1 on a held-out labelled set."""
    import pandas as pd

    from envtrace import classify as ec

    try:
        if not eval_file.is_file():
            raise InputError(f"evaluation file not found: {eval_file}")
        frame = pd.read_csv(eval_file, dtype=str, keep_default_na=False)
        model = ec.load_model(model_file) if model_file else ec.load_model()
        table = ec.evaluate(frame, model=model, lang=lang)
        _, sources = ec.classify_with_source(frame["text"], lang=lang, model=model)
    except InputError as exc:
        fail(str(exc))
        return
    typer.echo(f"evaluation set: {eval_file} ({len(frame)} texts)")
    typer.echo(table.to_string(float_format=lambda v: f"{v:.3f}", na_rep=""))
    counts = pd.Series(sources).value_counts()
    typer.echo("decided by: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@classify_app.command("explain")
def classify_explain_command(
    texts: Annotated[list[str], typer.Argument(help="One or more complaint texts.")],
    lang: Annotated[str, typer.Option("--lang", help="auto, zh or en.")] = "auto",
) -> None:
    """Show the category, who decided it, and the lexicon keywords found."""
    from envtrace import classify as ec

    try:
        labels, sources = ec.classify_with_source(texts, lang=lang)
        lex = ec.Lexicon.load()
    except InputError as exc:
        fail(str(exc))
        return
    for text, label, source in zip(texts, labels, sources, strict=True):
        hits = ", ".join(f"{h.matched}→{h.category}{'(negated)' if h.negated else f'+{h.weight}'}"
                         for h in lex.explain(text, lang=lang))
        typer.echo(f"{label}\t{source}\t{hits}")


# --- events (envtrace.events) --------------------------------------------------------
@app.command("events")
def events_command(
    data: Annotated[Path, typer.Option("--data", help="Dataset folder (complaints.csv/.xlsx).")] = DEFAULT_DATA,
    out: Annotated[Path, typer.Option("--out", help="Output folder, replaced atomically.")] = Path("var/events"),
    eps_m: Annotated[float | None, typer.Option("--eps-m", help="Space radius, metres (default per category).")] = None,
    window_h: Annotated[float | None, typer.Option("--window-h", help="Time window, hours (default per category).")] = None,
    min_complainants: Annotated[int | None, typer.Option("--min-complainants", help="Distinct complainants for a core complaint.")] = None,
    permutations: Annotated[int, typer.Option("--permutations", help="Scan replicates (0: no p-values).")] = 999,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Find space-time events: write complaints.csv (with cluster_id), clusters.csv, clusters.geojson."""
    from envtrace import io as eio
    from envtrace._atomic import atomic_dir
    from envtrace.events import EVENT_COLUMNS, find_events

    try:
        ds = eio.load_dataset(data, require_enterprises=False)
        complaints = ds.complaints
        if "category" in complaints and complaints["category"].isna().any():
            from envtrace.classify import fill_categories

            complaints = fill_categories(complaints)
        labels, events = find_events(complaints, eps_m=eps_m, window_h=window_h,
                                     min_complainants=min_complainants,
                                     n_permutations=permutations, seed=seed)
    except InputError as exc:
        fail(str(exc))
        return
    keep = [c for c in ("complaint_id", "received_at", "lon", "lat", "category", "channel",
                        "complainant_key", "duplicate_of") if c in complaints]
    table = complaints[keep].copy()
    table.insert(len(keep) - 1 if "duplicate_of" in keep else len(keep), "cluster_id", labels)
    flat = events[EVENT_COLUMNS].copy()
    for c in ("start", "end"):
        flat[c] = flat[c].map(lambda t: t.isoformat())
    table["received_at"] = table["received_at"].map(lambda t: t.isoformat())
    with atomic_dir(out) as tmp:
        table.to_csv(tmp / "complaints.csv", index=False, lineterminator="\n")
        flat.to_csv(tmp / "clusters.csv", index=False, lineterminator="\n")
        geo = events.copy()
        for c in ("start", "end"):
            geo[c] = flat[c]
        (tmp / "clusters.geojson").write_text(geo.to_json(drop_id=True), encoding="utf-8")
    n_sig = int((events["p_value"] <= 0.05).sum()) if permutations else 0
    typer.echo(f"{len(events)} events ({n_sig} with p <= 0.05) from {len(complaints)} complaints -> {out}")


# --- trace (envtrace.pipeline) -------------------------------------------------------


@app.command("trace")
def trace_command(
    out: Annotated[Path, typer.Option("--out", help="Output folder, replaced atomically.")],
    data: Annotated[Optional[Path], typer.Option("--data", help="Dataset folder (default data/sample when no files are given).")] = None,  # noqa: UP045
    complaints: Annotated[Optional[Path], typer.Option("--complaints", help="Complaints file (CSV/XLSX).")] = None,  # noqa: UP045
    enterprises: Annotated[Optional[Path], typer.Option("--enterprises", help="Enterprises file.")] = None,  # noqa: UP045
    wind: Annotated[Optional[Path], typer.Option("--wind", help="Hourly wind: canonical CSV, ESDR export, or station manifest (smellpgh hook).")] = None,  # noqa: UP045
    alarms: Annotated[Optional[Path], typer.Option("--alarms", help="Online-monitoring alarms file.")] = None,  # noqa: UP045
    actions: Annotated[Optional[Path], typer.Option("--actions", help="What staff did (actions.csv): earlier enforcement findings weigh in.")] = None,  # noqa: UP045
    profile: Annotated[Optional[str], typer.Option("--profile", help="Column-mapping profile: bundled NAME or YAML FILE.")] = None,  # noqa: UP045
    columns: Annotated[Optional[str], typer.Option("--columns", help="Header mapping SRC=DST,...")] = None,  # noqa: UP045
    boundary: Annotated[Optional[Path], typer.Option("--boundary", help="Study-area polygon file.")] = None,  # noqa: UP045
    tz: Annotated[Optional[str], typer.Option("--tz", help="Time zone of naive times and outputs (default Asia/Shanghai).")] = None,  # noqa: UP045
    max_distance_m: Annotated[float, typer.Option("--max-distance-m", help="Prune suspects farther than this from the event centre (m).")] = 20000.0,
    permutations: Annotated[int, typer.Option("--permutations", help="Permutations for the p-values.")] = 999,
    lang: Annotated[str, typer.Option("--lang", help="Language of the evidence: zh or en.")] = "zh",
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random step.")] = 0,
    # smellpgh hook: period filter, intensity floor, wind station (see pipeline.trace)
    start: Annotated[Optional[str], typer.Option("--start", help="Only complaints from this date (YYYY-MM-DD, in --tz).")] = None,  # noqa: UP045
    end: Annotated[Optional[str], typer.Option("--end", help="Only complaints up to this date, inclusive.")] = None,  # noqa: UP045
    min_intensity: Annotated[float, typer.Option("--min-intensity", help="Complaints rated below this (e.g. smell 1 = fine) are kept but never clustered; 0 clusters all.")] = 2.0,
    wind_station: Annotated[Optional[str], typer.Option("--wind-station", help="Use only this station of the wind data (default: nearest station with data).")] = None,  # noqa: UP045
) -> None:
    """Complaints -> events -> ranked suspect enterprises with evidence, into DIR.

    --wind takes a canonical wind CSV, an ESDR monitor export (EpochTime, *SONICWD_DEG)
    or a station manifest (station_id, lat, lon, file, wind_dir_column, wind_speed_column).
    """
    import time as _time

    from rich.console import Console

    from envtrace import pipeline

    if lang not in ("zh", "en"):
        fail(f"--lang must be zh or en, not {lang!r}")
    if permutations < 0:
        fail("--permutations must be >= 0")
    if max_distance_m <= 0:
        fail("--max-distance-m must be > 0")
    if data is None and complaints is None and enterprises is None:
        data = DEFAULT_DATA
    if data is None and (complaints is None or enterprises is None):
        fail("give --data DIR, or both --complaints FILE and --enterprises FILE")
    for opt, p in (("--complaints", complaints), ("--enterprises", enterprises), ("--wind", wind),
                   ("--alarms", alarms), ("--actions", actions), ("--boundary", boundary)):
        if p is not None and not p.is_file():
            fail(f"{opt} {p}: no such file")
    if data is not None and not data.is_dir():
        fail(f"--data {data}: no such folder")
    bad_out = _unusable_out(out)
    if bad_out:
        fail(f"--out {out}: {bad_out}")
    console = Console(stderr=True)
    started = _time.perf_counter()
    try:
        from envtrace import io as _io

        mapping = _io.parse_columns_option(columns) if columns else None
        with console.status("trace: starting", spinner="dots") as status:
            def progress(stage: str) -> None:
                status.update(f"trace: {stage} ({_time.perf_counter() - started:.1f} s)")

            # the big tables are written while the events' scan still runs; the folder
            # replaces --out only when all went well
            result = pipeline.trace_to(
                out, data, complaints=complaints, enterprises=enterprises, wind=wind, alarms=alarms,
                actions=actions, profile=profile, columns=mapping, boundary=boundary, tz=tz,
                max_distance_m=max_distance_m, n_permutations=permutations, lang=lang, seed=seed,
                progress=progress, start=start, end=end, wind_station=wind_station,
                min_intensity=min_intensity if min_intensity > 0 else None,
            )
    except InputError as exc:
        fail(str(exc))
    s = result.summary["counts"]
    console.print(
        f"trace: {s['complaints']} complaints, {s['clusters']} clusters, {s['candidates']} candidates, "
        f"{s['rejects']} rejected rows -> {out} ({_time.perf_counter() - started:.1f} s)",
        highlight=False,
    )

# --- sample (envtrace.sample) --------------------------------------------------------


@app.command("sample")
def sample_command(
    out: Annotated[Path, typer.Option("--out", help="Dataset folder to write (replaced whole).")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same files.")] = 0,
    scale: Annotated[float, typer.Option("--scale", help="Multiplies the complaint volume (500 = ~1M).")] = 1.0,
    preset: Annotated[
        str | None,
        typer.Option("--preset", help="shandong (default), valley, uniform, strong_prevailing, long_lag, "
                     "dense_decoys, mobile, livestock, quiet, urban, or random."),
    ] = None,
    n_enterprises: Annotated[
        int | None, typer.Option("--n-enterprises", help="Override the number of enterprises.")
    ] = None,
) -> None:
    """Generate a seeded synthetic county: a dataset folder plus its ground truth in truth/."""
    from envtrace.sample import generate

    try:
        world = generate(seed, scale=scale, preset=preset, n_enterprises=n_enterprises)
        world.write(out)
    except InputError as exc:
        fail(str(exc))
    counts = world.info["counts"]
    typer.echo(
        f"wrote {out}: {counts['complaints']} complaints, {counts['enterprises']} enterprises, "
        f"{len(world.truth_sources)} true sources"
    )


# --- ledger (envtrace.ledger) --------------------------------------------------------

ledger_app = typer.Typer(
    help="The case ledger: cases from events, four colours, audit trail, KPIs, Excel.",
    no_args_is_help=True,
)
app.add_typer(ledger_app, name="ledger")

_DB_HELP = "SQLAlchemy URL of the ledger (default sqlite:///$ENVTRACE_VAR/ledger.sqlite, ENVTRACE_VAR=./var)."
_WAIT_HELP = "Seconds to wait for another writer before giving up (exit 2)."
_RULES_HELP = "Dataset folder whose envtrace.toml [ledger] rules apply (default data/sample if present)."


def _open_ledger(db: str | None, wait: float = 10.0, data: Path | None = None):  # noqa: ANN202
    from envtrace.ledger import Ledger, LedgerRules

    rules = None
    if data is None and DEFAULT_DATA.is_dir():
        data = DEFAULT_DATA  # the [ledger] rules of the default dataset
    if data is not None:
        from envtrace.config import load_config

        rules = LedgerRules.from_config(load_config(data))
    return Ledger(db, rules=rules, lock_timeout=wait)


@ledger_app.command("update")
def ledger_update(
    month: Annotated[str, typer.Option("--month", help="Month to ingest, YYYY-MM.")],
    data: Annotated[Path, typer.Option("--data", help="Dataset folder.")] = DEFAULT_DATA,
    db: Annotated[Optional[str], typer.Option("--db", help=_DB_HELP)] = None,  # noqa: UP045
    wait: Annotated[float, typer.Option("--wait", help=_WAIT_HELP)] = 10.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the trace's random steps.")] = 0,
) -> None:
    """Ingest a month's complaints and actions, trace it, open/attach cases (idempotent)."""
    if not data.is_dir():
        fail(f"--data {data}: no such folder")
    try:
        from envtrace import io as _io
        from envtrace import pipeline

        ledger = _open_ledger(db, wait, data)
        ds = _io.load_dataset(data)
        report = ledger.update(ds, month, trace=lambda sub: pipeline.trace(sub, seed=seed))
    except InputError as exc:
        fail(str(exc))
    typer.echo(
        f"ledger update {report.month}: {report.complaints_new} new complaints "
        f"({report.complaints_renumbered} re-numbered), {report.events_new} new events, "
        f"{report.events_merged} re-traced events merged into stored ones"
        f"{f' ({report.events_other_suspect} naming another suspect kept apart)' if report.events_other_suspect else ''}, "
        f"{report.cases_opened} cases opened, {report.events_attached} events attached, "
        f"{report.actions_applied} actions applied ({report.actions_unresolved} pending, "
        f"{report.actions_not_due} dated after the month), {report.reopened} reopened on recurrence"
    )
    if report.pending:
        typer.echo(f"pending actions naming an enterprise that is no case's suspect: {'; '.join(report.pending)}")
    for w in report.warnings:
        typer.echo(f"envtrace: warning: {w}", err=True)


@ledger_app.command("show")
def ledger_show(
    colour: Annotated[Optional[str], typer.Option("--colour", "--color", help="Only cases of this colour: green, blue, yellow, red.")] = None,  # noqa: UP045
    area: Annotated[Optional[str], typer.Option("--area", help="Only cases of this township.")] = None,  # noqa: UP045
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Colours as of this date (default today).")] = None,  # noqa: UP045
    data: Annotated[Optional[Path], typer.Option("--data", help=_RULES_HELP)] = None,  # noqa: UP045
    db: Annotated[Optional[str], typer.Option("--db", help=_DB_HELP)] = None,  # noqa: UP045
) -> None:
    """Show the cases with their colour as of a date (rich table)."""
    from rich.console import Console
    from rich.table import Table

    from envtrace.ledger import CATEGORY_ZH, COLOURS

    if colour is not None and colour not in COLOURS:
        fail(f"--colour must be one of {', '.join(COLOURS)}")
    try:
        ledger = _open_ledger(db, data=data)
        cases = ledger.cases(as_of)
        pending = ledger.pending_actions(until=cases["as_of"].iloc[0] if len(cases) else as_of)
    except InputError as exc:
        fail(str(exc))
    if colour is not None:
        cases = cases.loc[cases["colour"] == colour]
    if area is not None:
        cases = cases.loc[cases["area"] == area]
    style = {"green": "green", "blue": "blue", "yellow": "yellow", "red": "bold red"}
    table = Table(title=f"ledger as of {cases['as_of'].iloc[0] if len(cases) else as_of or 'today'}")
    for head in ("case", "area", "category", "suspect", "owner", "deadline", "status", "colour", "why", "complaints"):
        table.add_column(head, no_wrap=head in ("case", "deadline", "colour"))
    for r in cases.to_dict("records"):
        table.add_row(
            r["case_id"], r["area"], CATEGORY_ZH.get(r["category"], r["category"]),
            r["enterprise_name"] or r["enterprise_id"], r["owner"], str(r["deadline"]), r["status"],
            f"[{style[r['colour']]}]{r['colour']}[/]", r["reason"], str(r["n_complaints"]),
        )
    Console().print(table)
    named = pending.loc[pending["enterprise_id"] != ""]
    if len(pending):
        typer.echo(f"{len(pending)} actions.csv rows in no case ({len(named)} naming an enterprise): " + "; ".join(
            f"{r.date} {r.action} {r.enterprise_id}" for r in named.itertuples()))


@ledger_app.command("set")
def ledger_set(
    case: Annotated[str, typer.Argument(help="Case id.")],
    by: Annotated[str, typer.Option("--by", help="Who makes the change (recorded).")],
    status: Annotated[Optional[str], typer.Option("--status", help="open, diagnosing, rectifying, closed, verified.")] = None,  # noqa: UP045
    owner: Annotated[Optional[str], typer.Option("--owner", help="New owner (责任单位/包案领导).")] = None,  # noqa: UP045
    deadline: Annotated[Optional[str], typer.Option("--deadline", help="New deadline, YYYY-MM-DD.")] = None,  # noqa: UP045
    note: Annotated[str, typer.Option("--note", help="Why (recorded).")] = "",
    date: Annotated[Optional[str], typer.Option("--date", help="When it happened (default now).")] = None,  # noqa: UP045
    data: Annotated[Optional[Path], typer.Option("--data", help=_RULES_HELP)] = None,  # noqa: UP045
    db: Annotated[Optional[str], typer.Option("--db", help=_DB_HELP)] = None,  # noqa: UP045
    wait: Annotated[float, typer.Option("--wait", help=_WAIT_HELP)] = 10.0,
) -> None:
    """Change a case's status/owner/deadline by hand; refused if the lifecycle forbids it."""
    try:
        _open_ledger(db, wait, data).set_status(case, status, by=by, note=note, at=date, owner=owner, deadline=deadline)
    except InputError as exc:
        fail(str(exc))
    typer.echo(f"{case}: updated")


@ledger_app.command("record")
def ledger_record(
    case: Annotated[Optional[str], typer.Argument(help="Case id (omit with --complaint).")] = None,  # noqa: UP045
    action: Annotated[Optional[str], typer.Option("--action", help="inspection, penalty_case, police_transfer, rectified, verified.")] = None,  # noqa: UP045
    complaint: Annotated[Optional[str], typer.Option("--complaint", help="Complaint id of a satisfaction callback.")] = None,  # noqa: UP045
    satisfaction: Annotated[Optional[str], typer.Option("--satisfaction", help="满意, 基本满意 or 不满意.")] = None,  # noqa: UP045
    date: Annotated[Optional[str], typer.Option("--date", help="Date of the action (default today).")] = None,  # noqa: UP045
    persons: Annotated[int, typer.Option("--persons", help="Staff involved (person-times).")] = 0,
    by: Annotated[str, typer.Option("--by", help="Who recorded it.")] = "",
    note: Annotated[str, typer.Option("--note", help="Note.")] = "",
    data: Annotated[Optional[Path], typer.Option("--data", help=_RULES_HELP)] = None,  # noqa: UP045
    db: Annotated[Optional[str], typer.Option("--db", help=_DB_HELP)] = None,  # noqa: UP045
    wait: Annotated[float, typer.Option("--wait", help=_WAIT_HELP)] = 10.0,
) -> None:
    """Record an action on a case, or a satisfaction callback on a complaint."""
    try:
        ledger = _open_ledger(db, wait, data)
        if complaint is not None:
            if satisfaction is None:
                fail("--complaint needs --satisfaction 满意|基本满意|不满意")
            ledger.record_satisfaction(complaint, satisfaction, date=date, persons=persons, by=by, note=note)
            typer.echo(f"{complaint}: satisfaction recorded")
            return
        if case is None or action is None:
            fail("give CASE --action ACTION, or --complaint ID --satisfaction VALUE")
        ledger.record_action(case, action, date=date, persons=persons, by=by, note=note)
    except InputError as exc:
        fail(str(exc))
    typer.echo(f"{case}: {action} recorded")


@ledger_app.command("import")
def ledger_import(
    xlsx: Annotated[Path, typer.Option("--xlsx", help="A bureau's Excel ledger (Chinese headers).")],
    by: Annotated[str, typer.Option("--by", help="Who imports (recorded).")] = "import",
    data: Annotated[Optional[Path], typer.Option("--data", help=_RULES_HELP)] = None,  # noqa: UP045
    db: Annotated[Optional[str], typer.Option("--db", help=_DB_HELP)] = None,  # noqa: UP045
    wait: Annotated[float, typer.Option("--wait", help=_WAIT_HELP)] = 10.0,
) -> None:
    """Import cases from an Excel ledger; its colours are ignored and recomputed."""
    try:
        n = _open_ledger(db, wait, data).import_xlsx(xlsx, by=by)
    except InputError as exc:
        fail(str(exc))
    typer.echo(f"imported {n} cases from {xlsx}")


@ledger_app.command("export")
def ledger_export(
    xlsx: Annotated[Path, typer.Option("--xlsx", help="Output .xlsx (written atomically).")],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Colours as of this date (default today).")] = None,  # noqa: UP045
    data: Annotated[Optional[Path], typer.Option("--data", help=_RULES_HELP)] = None,  # noqa: UP045
    db: Annotated[Optional[str], typer.Option("--db", help=_DB_HELP)] = None,  # noqa: UP045
) -> None:
    """Write the four-colour ledger as an Excel file, one row per case."""
    try:
        path = _open_ledger(db, data=data).export_xlsx(xlsx, as_of=as_of)
    except InputError as exc:
        fail(str(exc))
    typer.echo(f"ledger written to {path}")


@ledger_app.command("kpis")
def ledger_kpis(
    month: Annotated[str, typer.Option("--month", help="Period, YYYY-MM.")],
    by_area: Annotated[bool, typer.Option("--by-area", help="One block per township.")] = False,
    data: Annotated[Optional[Path], typer.Option("--data", help=_RULES_HELP)] = None,  # noqa: UP045
    db: Annotated[Optional[str], typer.Option("--db", help=_DB_HELP)] = None,  # noqa: UP045
) -> None:
    """Key figures of a month and their change against the previous month-long period."""
    from rich.console import Console
    from rich.table import Table

    try:
        df = _open_ledger(db, data=data).kpis(month, by_area=by_area)
    except InputError as exc:
        fail(str(exc))
    a, b = df.attrs["period"]
    table = Table(title=f"KPIs {a} – {b} (previous {df.attrs['previous_period'][0]} – {df.attrs['previous_period'][1]})")
    for head in ("area", "kpi", "value", "previous", "change"):
        table.add_column(head, justify="right" if head in ("value", "previous", "change") else "left")

    def fmt(kpi: str, v: float) -> str:
        if v != v:  # NaN
            return "–"
        return f"{v:.1%}" if kpi.endswith("_rate") else f"{v:g}"

    for r in df.to_dict("records"):
        change = r["change"]
        sign = "" if change != change else ("+" if change > 0 else "")
        ch = "–" if change != change else (f"{sign}{change * 100:.1f} pt" if r["kpi"].endswith("_rate") else f"{sign}{change:g}")
        table.add_row(r["area"], r["kpi"], fmt(r["kpi"], r["value"]), fmt(r["kpi"], r["previous"]), ch)
    Console().print(table)


# --- brief (envtrace.brief) ----------------------------------------------------------
brief_app = typer.Typer(help="Monthly briefings and case consultation briefs (HTML/PDF/DOCX/XLSX).",
                        no_args_is_help=True)
app.add_typer(brief_app, name="brief")

_BriefOut = Annotated[Path, typer.Option("--out", help="Reports folder (YYYY-MM/, cases/, failed/ inside).")]
_BriefData = Annotated[Path, typer.Option("--data", help="Dataset folder.")]
_BriefDb = Annotated[Optional[str], typer.Option("--db", help="Ledger URL (default sqlite:///var/ledger.sqlite).")]  # noqa: UP045
_BriefLang = Annotated[str, typer.Option("--lang", help="zh or en.")]
_BriefOnFail = Annotated[Optional[str], typer.Option("--on-failure", help="Shell command run when the brief fails.")]  # noqa: UP045
_BriefBase = Annotated[Optional[str], typer.Option("--basemap", help="tianditu, amap, osm or none.")]  # noqa: UP045


def _brief_done(run) -> None:  # noqa: ANN001
    from envtrace.brief import BriefError

    try:
        result = run()
    except InputError as exc:
        fail(str(exc))
    except BriefError as exc:
        typer.echo(f"envtrace: brief failed: {exc}", err=True)
        raise typer.Exit(code=1) from None
    for f in result.files:
        if f != result.html:
            typer.echo(str(f))
    typer.echo(str(result.html))


@brief_app.command("monthly")
def brief_monthly(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM or 'last' (latest ended month the complaints or wind cover to its end).")] = "last",
    data: _BriefData = DEFAULT_DATA,
    db: _BriefDb = None,
    out: _BriefOut = Path("reports"),
    pdf: Annotated[bool, typer.Option("--pdf", help="Also a PDF (headless Chromium).")] = False,
    docx: Annotated[bool, typer.Option("--docx", help="Also a Word document.")] = False,
    lang: _BriefLang = "zh",
    internal: Annotated[bool, typer.Option("--internal", help="Staff map with complaint points.")] = False,
    basemap: _BriefBase = None,
    on_failure: _BriefOnFail = None,
) -> None:
    """Execute the monthly briefing notebook and export it; prints the HTML path last."""
    from envtrace import brief

    _brief_done(lambda: brief.monthly_brief(
        month=month, data_dir=data, db_url=db, out=out, pdf=pdf, docx=docx, lang=lang,
        internal=internal, basemap=basemap, on_failure=on_failure))


@brief_app.command("case")
def brief_case(
    case_id: Annotated[str, typer.Argument(help="Ledger case id.")],
    data: _BriefData = DEFAULT_DATA,
    db: _BriefDb = None,
    out: _BriefOut = Path("reports"),
    pdf: Annotated[bool, typer.Option("--pdf", help="Also a PDF (headless Chromium).")] = False,
    docx: Annotated[bool, typer.Option("--docx", help="Also a Word document.")] = False,
    lang: _BriefLang = "zh",
    internal: Annotated[bool, typer.Option("--internal", help="Staff map with complaint points.")] = False,
    basemap: _BriefBase = None,
    on_failure: _BriefOnFail = None,
) -> None:
    """Execute the consultation brief (一案一策) for one case; prints the HTML path last."""
    from envtrace import brief

    _brief_done(lambda: brief.case_brief(
        case_id, data_dir=data, db_url=db, out=out, pdf=pdf, docx=docx, lang=lang,
        internal=internal, basemap=basemap, on_failure=on_failure))



def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    from envtrace import _malloc

    _malloc.keep_freed_memory()  # this process is envtrace's own (envtrace._malloc)
    try:
        app(args=argv, standalone_mode=True)
    except InputError as exc:  # raised outside a command's own handler
        typer.echo(f"envtrace: error: {str(exc).splitlines()[0] if str(exc) else 'unusable input'}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
