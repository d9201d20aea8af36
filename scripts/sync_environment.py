"""Regenerate environment.yml from pyproject.toml so conda users get the same pins.

Usage: python scripts/sync_environment.py [--check]
``--check`` exits 1 when environment.yml is out of step (tests/test_packaging.py does the same).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# PyPI name -> conda-forge name, where they differ.
CONDA_NAMES = {"playwright": "playwright", "python-docx": "python-docx", "pyyaml": "pyyaml"}


def expected() -> str:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = list(meta["dependencies"]) + list(meta["optional-dependencies"]["test"])
    py = meta["requires-python"].replace(">=", "")
    lines = [
        "# conda environment for envtrace; generated from pyproject.toml by",
        "# scripts/sync_environment.py: edit pyproject.toml, then re-run it.",
        "name: envtrace",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={py}",
        "  - pip",
    ]
    for dep in deps:
        name = dep.split(">")[0].split("=")[0].split("<")[0].strip()
        spec = dep[len(name):].strip()
        lines.append(f"  - {CONDA_NAMES.get(name, name)}{spec}")
    lines += ["  - pip:", "      - -e ."]
    return "\n".join(lines) + "\n"


def main() -> int:
    path = ROOT / "environment.yml"
    text = expected()
    if "--check" in sys.argv:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print("environment.yml is out of step with pyproject.toml; run scripts/sync_environment.py")
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
