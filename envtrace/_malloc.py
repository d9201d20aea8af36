"""Allocator settings for envtrace's own processes (glibc only; elsewhere nothing).

A trace at scale allocates and frees arrays of a few to a few tens of megabytes
thousands of times (a column of a million complaints is 8 MB). glibc's ``malloc`` serves
them with fresh ``mmap`` regions (its threshold rises dynamically, but only to what was
last freed) and hands freed memory at the top of the heap back to the kernel at once
(``M_TRIM_THRESHOLD``, 128 kB), so every new array faults its pages in again: 2.9 million
page faults in a 1M-complaint ``envtrace trace``, about 5 s of the 100 CPU-seconds. With
arrays up to 32 MB served from the heap (``M_MMAP_THRESHOLD``, its largest allowed value
on 64-bit) and up to 256 MB of freed heap top kept for reuse (``M_TRIM_THRESHOLD``) the count
halves (``benchmarks/results/trace.md``, fourteenth session). These are the two settings
glibc documents for this (``mallopt(3)``, the ``glibc.malloc.*`` tunables).

Only the ``envtrace`` command and the child processes it starts apply them: a library
imported into an analyst's notebook leaves the process's allocator alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["keep_freed_memory", "applied"]

_M_TRIM_THRESHOLD = -1  # <malloc.h>
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # glibc's maximum on 64-bit (HEAP_MAX_SIZE / 2)
TRIM_THRESHOLD_BYTES = 256 * 1024 * 1024

_applied = False


def keep_freed_memory() -> bool:
    """Set glibc's ``M_MMAP_THRESHOLD`` to 32 MB and ``M_TRIM_THRESHOLD`` to 256 MB for this
    process (module docstring). Returns whether both were set (``False`` off Linux, on
    another C library, or when glibc refuses a value)."""
    global _applied
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018 - glibc only (musl has a mallopt that does nothing)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = (mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
          and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1)
    _applied = _applied or ok
    return ok


def applied() -> bool:
    """Whether :func:`keep_freed_memory` has set the allocator of this process."""
    return _applied
