"""Tests of envtrace._procs: one call in a daemonic child process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
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


ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    """The environment for a script that must import this checkout's envtrace."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


@pytest.mark.parametrize("as_module", [False, True])
def test_an_unguarded_script_is_not_run_again_in_the_child(tmp_path: Path, as_module: bool) -> None:
    # a script without `if __name__ == "__main__":` (an analyst's) must not run twice,
    # whether run as a file or with python -m
    script = tmp_path / "unguarded_run.py"
    log = tmp_path / "log.txt"
    script.write_text(textwrap.dedent(f"""
        import os
        from envtrace import _procs
        with open({str(log)!r}, "a") as fh:
            fh.write("ran\\n")
        print(_procs.call_in_process(os.getpid) != os.getpid())
    """), encoding="utf-8")
    cmd = [sys.executable, "-m", "unguarded_run"] if as_module else [sys.executable, str(script)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path, env=_env())
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"
    assert log.read_text().splitlines() == ["ran"]


def test_not_available_inside_a_daemonic_process() -> None:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:  # pool workers are daemonic: they may not have children
        assert pool.apply(_procs.available) is False
    assert _procs.available() is True


def _state(pid: int) -> str:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("State:"):
                return line.split()[1]
    except OSError:
        return "gone"
    return "?"


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").glob("[0-9]*"):
        try:
            if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
        except (OSError, ValueError, IndexError):
            continue
    return out


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_a_child_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent("""
        import os, sys, threading, time
        from envtrace import _procs
        threading.Thread(target=_procs.call_in_process, args=(time.sleep, 60), daemon=True).start()
        time.sleep(3)
        print("started", flush=True)
        sys.stdin.readline()
        os._exit(0)  # as if killed: nothing is cleaned up
    """), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, cwd=tmp_path, env=_env())
    try:
        assert proc.stdout.readline().strip() == "started"
        kids = _children(proc.pid)
        grandkids = [g for k in kids for g in _children(k)]
        assert grandkids, "no child process found"
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(_state(g) not in ("gone", "Z") for g in grandkids):
            assert time.monotonic() < deadline, "the child outlived its parent"
            time.sleep(0.2)
    finally:
        proc.kill()
