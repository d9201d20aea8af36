"""Daemon worker threads (private helper of :mod:`envtrace.events` and
:mod:`envtrace.pipeline`).

Daemons, unlike a ``ThreadPoolExecutor``'s workers, do not hold up the interpreter's exit:
when the main thread fails (bad input, Ctrl-C) the command ends at once instead of waiting
for a background scan.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

__all__ = ["DaemonPool", "background"]

_STOP = object()


class DaemonPool:
    """``n`` daemon threads running submitted calls in order of submission.

    :meth:`submit` returns a :class:`concurrent.futures.Future`; :meth:`shutdown` lets the
    threads end once the calls submitted so far are done (nothing of a finished call is
    kept alive by an idle thread); :meth:`cancel_pending` cancels the calls not started.
    """

    def __init__(self, n: int, *, name: str) -> None:
        self._q: queue.Queue[Any] = queue.Queue()
        self._n = max(1, int(n))
        self._futures: list[Future[Any]] = []
        for i in range(self._n):
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True).start()

    def _work(self) -> None:
        while True:
            item = self._q.get()
            if item is _STOP:
                return
            fut, fn, args, kw = item
            del item
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn(*args, **kw))
                except BaseException as exc:  # handed to the caller of result()
                    fut.set_exception(exc)
            del fut, fn, args, kw

    def submit(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        self._futures.append(fut)
        self._q.put((fut, fn, args, kw))
        return fut

    def shutdown(self) -> None:
        for _ in range(self._n):
            self._q.put(_STOP)

    def cancel_pending(self) -> None:
        for fut in self._futures:
            fut.cancel()


def background(fn: Callable[[], Any], *, name: str) -> Future[Any]:
    """Run ``fn()`` on one daemon thread; the future's ``result()`` waits and returns or
    re-raises."""
    pool = DaemonPool(1, name=name)
    fut = pool.submit(fn)
    pool.shutdown()
    return fut
