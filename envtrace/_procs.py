"""One call in a child process (private helper of :mod:`envtrace.events`).

The events' scan runs beside the attribution. On threads the two share one interpreter
lock, and the scan's many small numpy steps held it often enough to slow the attribution
by a third on a 2-core machine (the 1M county: 78 s with the scan on threads, 63 s with it
in a child process, the same p-values; ``benchmarks/results/trace.md``). So a large scan
runs in a child process, one process per call, started by a *forkserver* (a clean
single-threaded server forks the children: forking this multi-threaded process itself is
unsafe) where the platform has one, else by *spawn*.

Children are daemonic: when the parent fails and exits, :mod:`multiprocessing` ends them
instead of waiting for them. A child that dies without answering (killed by the
out-of-memory killer, say) raises :class:`RuntimeError` in the parent: never a hang.

A forkserver or spawn child normally imports the parent's main script again (as
``__mp_main__``), so a script without an ``if __name__ == "__main__":`` guard would run
again in every child. The children here need nothing from it (the call is a function of
an envtrace module), so the script is hidden from them: while a child starts, the main
module says it is ``__main__`` by name, which :mod:`multiprocessing` never re-imports.
"""

from __future__ import annotations

import importlib.machinery
import multiprocessing as mp
import os
import pickle
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["call_in_process", "available", "warm_up"]

_PRELOAD = ["envtrace.events"]
_START_LOCK = threading.Lock()


def _context() -> Any:
    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)  # each child starts with these imported
        return ctx
    return mp.get_context("spawn")


def available() -> bool:
    """Whether child processes can be started here (a sandbox may forbid it)."""
    try:
        ctx = _context()
        ctx.Pipe(duplex=False)  # needs working OS pipes / semaphores
    except (OSError, ImportError, ValueError):  # pragma: no cover - platform dependent
        return False
    return True


def warm_up() -> None:
    """Start the forkserver (it imports :mod:`envtrace.events`, about a second) on a daemon
    thread, so that the first :func:`call_in_process` does not wait for it."""
    if "forkserver" not in mp.get_all_start_methods():
        return

    def start() -> None:
        from multiprocessing import forkserver

        _context()  # sets the preload list first
        try:
            forkserver.ensure_running()
        except OSError:  # pragma: no cover - the first call will report it
            pass

    threading.Thread(target=start, name="envtrace-forkserver", daemon=True).start()


def _child(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...], nice: int) -> None:
    if nice and hasattr(os, "nice"):
        os.nice(nice)
    try:
        out: tuple[str, Any] = ("ok", fn(*args))
    except BaseException as exc:  # handed to the parent, which re-raises it
        out = ("error", exc)
    try:
        conn.send(out)
    except (pickle.PicklingError, TypeError, AttributeError):  # pragma: no cover
        conn.send(("error", RuntimeError(f"{type(out[1]).__name__}: {out[1]}")))
    finally:
        conn.close()


def call_in_process(fn: Callable[..., Any], *args: Any, name: str = "envtrace-child",
                    nice: int = 0) -> Any:
    """``fn(*args)`` in a daemonic child process; returns its result or re-raises its error.

    ``fn`` and ``args`` must be picklable (``fn`` a module-level function). ``nice``: the
    child's priority is lowered by that much (Unix), so that it takes the cores the
    parent leaves idle rather than sharing them evenly with the parent's own work.
    """
    ctx = _context()
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args, int(nice)), name=name, daemon=True)
    main = sys.modules.get("__main__")
    with _START_LOCK:  # one start at a time: each sees the main module as it really is
        hide = main is not None and getattr(getattr(main, "__spec__", None), "name", None) is None
        if hide:  # see the module docstring
            saved = main.__dict__.get("__spec__")
            main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
        try:
            proc.start()
        finally:
            if hide:
                main.__spec__ = saved
    send.close()  # the child holds the only writing end: its death closes the pipe
    try:
        status, value = recv.recv()
    except EOFError:
        proc.join()
        raise RuntimeError(f"{name} ended without a result (exit code {proc.exitcode})") from None
    finally:
        recv.close()
    proc.join()
    if status == "error":
        raise value
    return value
