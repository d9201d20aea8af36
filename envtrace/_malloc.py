"""Allocator settings for envtrace's own processes (glibc only; elsewhere nothing).

A trace at scale allocates and frees arrays of a few to a few tens of megabytes
thousands of times (a column of a million complaints is 8 MB). By default glibc's
``malloc`` serves an allocation above its mmap threshold (128 kB at first, raised
dynamically to the size of the last freed mmapped chunk, at most 32 MB on 64-bit) with a
fresh ``mmap`` region and unmaps it when freed, and hands freed memory at the top of the
heap back to the kernel above its trim threshold; every new array then faults its pages
in again. A 1M-complaint ``envtrace trace`` took 2.9 million page faults. With arrays up
to 32 MB served from the heap (``M_MMAP_THRESHOLD``) and up to 256 MB of freed heap top
kept for reuse (``M_TRIM_THRESHOLD``) it took 1.4 million and about 5 of its 100
CPU-seconds less (``benchmarks/results/trace.md``, fourteenth session). These are the settings
glibc documents for this (``mallopt(3)``, the ``glibc.malloc.*`` tunables).

Only the ``envtrace`` command and the child processes it starts apply them: a library
imported into an analyst's notebook leaves the process's allocator alone.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["keep_freed_memory", "applied", "is_glibc"]

_M_TRIM_THRESHOLD = -1  # <malloc.h>
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # the dynamic threshold's own ceiling on 64-bit
TRIM_THRESHOLD_BYTES = 256 * 1024 * 1024

_applied = False


def _libc() -> ctypes.CDLL | None:
    """The C library this process runs on, when it is glibc (musl's ``mallopt`` does
    nothing; macOS and Windows have none)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)  # the symbols already loaded: the libc in use
        libc.gnu_get_libc_version  # noqa: B018 - glibc only
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def is_glibc() -> bool:
    """Whether this process runs on glibc."""
    return _libc() is not None


def keep_freed_memory() -> bool:
    """Set glibc's ``M_MMAP_THRESHOLD`` to 32 MB and ``M_TRIM_THRESHOLD`` to 256 MB for
    this process (module docstring).

    Returns whether both were set: ``False`` off glibc, or when glibc refuses a value (a
    32-bit build refuses the 32 MB threshold, and the trim threshold is then not set
    either). Once both are set, :func:`applied` is true.
    """
    global _applied
    libc = _libc()
    if libc is None:
        return False
    mallopt = libc.mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = (mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
          and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1)
    _applied = _applied or ok
    return ok


def applied() -> bool:
    """Whether :func:`keep_freed_memory` has set the allocator of this process."""
    return _applied
