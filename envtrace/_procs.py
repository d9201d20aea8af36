"""One call in a child process (private helper of :mod:`envtrace.events` and
:mod:`envtrace.classify`).

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

A forkserver or spawn child normally imports the parent's main script or module again
(as ``__mp_main__``), so a script without an ``if __name__ == "__main__":`` guard (or one
run with ``python -m``) would run again in every child. The children here need nothing
from it (the call is a function of an envtrace module), so it is hidden from them: while
a child starts, the main module says it is ``__main__`` by name, which
:mod:`multiprocessing` never re-imports. The child is started with two pipe ends only; the
call and its data follow once the main module is itself again. A child whose parent is
killed ends at once (its end of a pipe from the parent closes). The forkserver's preload list
(``set_forkserver_preload``) is process-wide: it is set to ``["envtrace.events",
"envtrace.classify"]``.
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

from envtrace import _malloc

__all__ = ["call_in_process", "available", "cores", "warm_up"]

_PRELOAD = ["envtrace.events", "envtrace.classify"]
_START_LOCK = threading.Lock()


def _context() -> Any:
    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)  # each child starts with these imported
        return ctx
    return mp.get_context("spawn")


def available() -> bool:
    """Whether child processes can be started here: not inside a daemonic process (a
    ``multiprocessing.Pool`` worker may have no children), nor where a sandbox forbids
    pipes."""
    if mp.current_process().daemon:
        return False
    try:
        ctx = _context()
        a, b = ctx.Pipe(duplex=False)  # needs working OS pipes
        a.close()
        b.close()
    except (OSError, ImportError, ValueError):  # pragma: no cover - platform dependent
        return False
    return True


def cores() -> int:
    """The CPU cores this process may run on (its affinity, where the platform says)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def warm_up() -> None:
    """Start the forkserver (it imports :mod:`envtrace.events`, about a second) on a daemon
    thread, so that the first :func:`call_in_process` does not wait for it."""
    if "forkserver" not in mp.get_all_start_methods() or not available():
        return

    def start() -> None:
        from multiprocessing import forkserver

        _context()  # sets the preload list first
        try:
            forkserver.ensure_running()
        except OSError:  # pragma: no cover - the first call will report it
            pass

    threading.Thread(target=start, name="envtrace-forkserver", daemon=True).start()


def _watch_parent(conn: Connection) -> None:
    """End this child when its parent is gone (killed, say), on a daemon thread: the
    parent keeps its end of ``conn`` open until it has the result, so the end of the file
    on ``conn`` means nobody will read it."""

    def watch() -> None:
        try:
            conn.poll(None)  # nothing more is sent: returns at the end of the file
        except (OSError, EOFError):
            pass
        os._exit(1)

    threading.Thread(target=watch, name="envtrace-watch-parent", daemon=True).start()


def _child(args_conn: Connection, out_conn: Connection) -> None:
    try:
        fn, args, tune = args_conn.recv()  # sent once the child has started (module docstring)
        _watch_parent(args_conn)
        if tune:  # the parent is the envtrace command: so is this child (envtrace._malloc)
            _malloc.keep_freed_memory()
        out: tuple[str, Any] = ("ok", fn(*args))
        del fn, args
    except BaseException as exc:  # handed to the parent, which re-raises it
        out = ("error", exc)
    try:
        out_conn.send(out)
    except (pickle.PicklingError, TypeError, AttributeError):  # pragma: no cover
        out_conn.send(("error", RuntimeError(f"{type(out[1]).__name__}: {out[1]}")))
    finally:
        out_conn.close()


def call_in_process(fn: Callable[..., Any], *args: Any, name: str = "envtrace-child") -> Any:
    """``fn(*args)`` in a daemonic child process; returns its result or re-raises its error.

    ``fn`` and ``args`` must be picklable (``fn`` a module-level function).
    """
    ctx = _context()
    args_recv, args_send = ctx.Pipe(duplex=False)
    out_recv, out_send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(args_recv, out_send), name=name, daemon=True)
    main = sys.modules.get("__main__")
    try:
        # the child is started with its two pipe ends only, so the main module is hidden
        # (module docstring) for as short a time as possible, one start at a time
        with _START_LOCK:
            had = main is not None and "__spec__" in main.__dict__
            saved = main.__dict__.get("__spec__") if main is not None else None
            if main is not None:
                main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
            try:
                proc.start()
            finally:
                if main is not None:
                    if had:
                        main.__spec__ = saved
                    else:
                        del main.__spec__
        args_recv.close()
        out_send.close()  # the child holds the only writing end: its death closes the pipe
        try:
            # kept open until the result is in (_watch_parent)
            args_send.send((fn, args, _malloc.applied()))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the child is gone: said below
        try:
            status, value = out_recv.recv()
        except EOFError:
            proc.join()
            raise RuntimeError(f"{name} ended without a result (exit code {proc.exitcode})") from None
    finally:
        for c in (args_recv, args_send, out_recv, out_send):
            c.close()
    proc.join()
    if status == "error":
        raise value
    return value
