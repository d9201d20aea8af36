"""Tests of envtrace._malloc: glibc keeps freed memory for reuse in envtrace's processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from envtrace import _malloc, _procs

glibc_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="glibc allocator settings: Linux only")

# page faults while 20 arrays of 8.0-15.6 MB, each a little larger than the last, are made
# and freed one after the other (as the tables of a growing computation are)
_FAULTS = textwrap.dedent("""
    import ctypes, resource, sys
    ctypes.CDLL(None).prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE: 4 kB pages whatever the
    import numpy as np                         # kernel's transparent huge pages setting
    from envtrace import _malloc
    if sys.argv[1] == "tuned":
        assert _malloc.keep_freed_memory()
    np.ones(10).sum()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for i in range(20):
        np.ones(1_000_000 + 50_000 * i).sum()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")
_PAGES_ALL = sum((1_000_000 + 50_000 * i) * 8 // 4096 for i in range(20))  # 57,608
_PAGES_LARGEST = (1_000_000 + 50_000 * 19) * 8 // 4096  # 3,808


def _faults(mode: str) -> int:
    env = {k: v for k, v in os.environ.items()  # glibc's defaults, numpy's own pages
           if k not in ("GLIBC_TUNABLES", "LD_PRELOAD") and not k.startswith("MALLOC_")}
    env["NUMPY_MADVISE_HUGEPAGE"] = "0"
    out = subprocess.run([sys.executable, "-c", _FAULTS, mode], env=env, capture_output=True,
                         text=True, check=True)
    return int(out.stdout.strip())


@glibc_only
def test_freed_arrays_are_reused_without_faulting_their_pages_again() -> None:
    if not _malloc.is_glibc():
        pytest.skip("not glibc")
    plain, tuned = _faults("plain"), _faults("tuned")
    # glibc's default: each array larger than the last freed one is a fresh mmap whose
    # every page faults; kept for reuse, only the growth of the heap does
    assert plain > 0.9 * _PAGES_ALL
    assert tuned < 1.5 * _PAGES_LARGEST


def _applied_here() -> bool:
    return _malloc.applied()


def test_children_follow_the_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_malloc, "_applied", False)
    assert _procs.call_in_process(_applied_here) is False  # a notebook's process: left alone
    if not (sys.platform.startswith("linux") and _malloc.is_glibc()):
        pytest.skip("glibc only")
    monkeypatch.setattr(_malloc, "_applied", True)  # as in the envtrace command
    assert _procs.call_in_process(_applied_here) is True


def test_the_command_sets_it_and_a_library_import_does_not() -> None:
    code = ("import sys; from envtrace import _malloc, pipeline; a = _malloc.applied(); "
            "from envtrace import cli\n"
            "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(a, _malloc.applied())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = "False True" if sys.platform.startswith("linux") and _malloc.is_glibc() else "False False"
    assert out.stdout.strip().splitlines()[-1] == expected
