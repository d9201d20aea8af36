"""Atomic writes: all or nothing, and ordinary file modes."""

from __future__ import annotations

import os
import stat

import pytest

from envtrace._atomic import atomic_dir, atomic_write_text


def test_atomic_write_text_replaces_whole_file_with_umask_mode(tmp_path):
    path = tmp_path / "a" / "out.txt"
    atomic_write_text(path, "old")
    atomic_write_text(path, "新内容")
    assert path.read_text(encoding="utf-8") == "新内容"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in path.parent.iterdir()] == ["out.txt"]  # no temp files left


def test_atomic_dir_swaps_in_new_content(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.csv").write_text("old")
    with atomic_dir(out) as tmp:
        (tmp / "new.csv").write_text("new")
        assert not (out / "new.csv").exists()  # invisible until the block ends
    assert sorted(p.name for p in out.iterdir()) == ["new.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_atomic_dir_failure_leaves_previous_content_untouched(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "good.csv").write_text("good")
    with pytest.raises(RuntimeError), atomic_dir(out) as tmp:
        (tmp / "half.csv").write_text("half")
        raise RuntimeError("crash mid-write")
    assert sorted(p.name for p in out.iterdir()) == ["good.csv"]
    assert (out / "good.csv").read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # temp dir removed


def test_atomic_dir_failure_removes_the_parents_it_made_only(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "a" / "b" / "c" / "out") as tmp:
            (tmp / "x.csv").write_text("1\n", encoding="utf-8")
            raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]  # "a" was there before
    assert list((tmp_path / "a").iterdir()) == []
    with atomic_dir(tmp_path / "a" / "b" / "out") as tmp:
        (tmp / "x.csv").write_text("1\n", encoding="utf-8")
    assert (tmp_path / "a" / "b" / "out" / "x.csv").read_text(encoding="utf-8") == "1\n"
