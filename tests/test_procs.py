"""Tests of envtrace._procs: one call in a daemonic child process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from envtrace import _procs
from envtrace.errors import InputError


def _boom(message: str) -> None:
    raise InputError(message)


def _die() -> None:
    os._exit(3)  # no answer: as if killed


def test_result_comes_back_from_another_process() -> None:
    pid, arr = _procs.call_in_process(_pid_and_double, np.arange(5))
    assert pid != os.getpid()
    np.testing.assert_array_equal(arr, np.arange(5) * 2)


def _pid_and_double(a: np.ndarray) -> tuple[int, np.ndarray]:
    return os.getpid(), a * 2


def test_error_in_the_child_is_raised_in_the_parent() -> None:
    with pytest.raises(InputError, match="bad input seen in child"):
        _procs.call_in_process(_boom, "bad input seen in child")


def test_a_child_that_dies_raises_instead_of_hanging() -> None:
    with pytest.raises(RuntimeError, match="ended without a result .exit code 3"):
        _procs.call_in_process(_die, name="doomed")


def test_an_unguarded_script_is_not_run_again_in_the_child(tmp_path: Path) -> None:
    # a script without `if __name__ == "__main__":` (an analyst's) must not run twice
    script = tmp_path / "run.py"
    log = tmp_path / "log.txt"
    script.write_text(textwrap.dedent(f"""
        import os
        from envtrace import _procs
        with open({str(log)!r}, "a") as fh:
            fh.write("ran\\n")
        print(_procs.call_in_process(os.getpid) != os.getpid())
    """), encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"
    assert log.read_text().splitlines() == ["ran"]
