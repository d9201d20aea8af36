"""The install surface: pyproject and environment.yml in step, console script, Makefile targets."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_deps() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = list(meta["dependencies"]) + list(meta["optional-dependencies"]["test"])
    out = {}
    for dep in deps:
        m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", dep)
        assert m, dep
        out[m.group(1).lower()] = m.group(2).replace(" ", "")
    return out


def _conda_deps() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict) or dep == "pip" or dep.startswith("python="):
            continue
        m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", dep)
        out[m.group(1).lower()] = m.group(2).replace(" ", "")
    return out


def test_environment_yml_has_the_same_packages_and_pins_as_pyproject():
    assert _conda_deps() == _pyproject_deps()


def test_environment_yml_python_matches_requires_python():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert f"python={meta['requires-python'].removeprefix('>=')}" in env["dependencies"]


def test_console_script_runs_and_shows_help():
    out = subprocess.run(
        [sys.executable, "-m", "envtrace", "--help"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    for command in ("ingest", "trace"):
        assert command in out.stdout


def test_makefile_has_the_readme_targets():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("demo:", "test:", "wheelhouse:"):
        assert re.search(rf"^{target}", text, re.M), target


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
