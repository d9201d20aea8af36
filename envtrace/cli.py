"""Command line: a thin layer over the package's functions.

Every command turns :class:`envtrace.errors.InputError` into one line on stderr and exit
status 2; nothing else about bad data should ever reach the user as a traceback.
"""

from __future__ import annotations

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


def fail(message: str) -> None:
    """Print a one-line error and exit with status 2."""
    first = str(message).strip().splitlines()[0] if str(message).strip() else "unusable input"
    typer.echo(f"envtrace: error: {first}", err=True)
    raise typer.Exit(code=2)


# --- ingest (envtrace.io) -------------------------------------------------------------

# --- classify (envtrace.classify) ----------------------------------------------------

# --- events (envtrace.events) --------------------------------------------------------

# --- trace (envtrace.pipeline) -------------------------------------------------------

# --- sample (envtrace.sample) --------------------------------------------------------

# --- ledger (envtrace.ledger) --------------------------------------------------------

# --- brief (envtrace.brief) ----------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        app(args=argv, standalone_mode=True)
    except InputError as exc:  # raised outside a command's own handler
        typer.echo(f"envtrace: error: {str(exc).splitlines()[0] if str(exc) else 'unusable input'}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
