"""Tests for envtrace.config: envtrace.toml and column-mapping profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from envtrace.config import PROFILE_DIR, Config, load_config, load_profile
from envtrace.errors import InputError


def test_defaults_without_file(tmp_path: Path) -> None:
    cfg = load_config(tmp_path)
    assert cfg.tz == "Asia/Shanghai" and cfg.default_crs == "wgs84"
    assert cfg.columns == {} and cfg.profile is None and cfg.events == {}
    assert load_config(None) == Config()


def test_toml_values_and_pass_through_sections(tmp_path: Path) -> None:
    (tmp_path / "envtrace.toml").write_text(
        'tz = "Asia/Urumqi"\ndefault_crs = "gcj02"\nprofile = "default"\n'
        '[columns]\n"受理单号" = "complaint_id"\n'
        '[events]\neps_m = 400\n[ledger.owners]\n"城北街道" = "李局长"\n[extra]\nx = 1\n',
        encoding="utf-8",
    )
    cfg = load_config(tmp_path)
    assert cfg.tz == "Asia/Urumqi" and cfg.default_crs == "gcj02" and cfg.profile == "default"
    assert cfg.columns == {"受理单号": "complaint_id"}
    assert cfg.events == {"eps_m": 400}
    assert cfg.ledger == {"owners": {"城北街道": "李局长"}}
    assert cfg.root == tmp_path
    assert cfg.model_extra == {"extra": {"x": 1}}


@pytest.mark.parametrize(
    ("text", "message"),
    [("tz = ", "not valid TOML"), ('tz = "Mars/Olympus"', "unknown time zone"), ("columns = 3", "columns")],
)
def test_bad_toml(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "envtrace.toml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_config(tmp_path)


def test_profiles(tmp_path: Path) -> None:
    assert (PROFILE_DIR / "default.yaml").is_file()
    prof = load_profile("default")
    assert prof.columns == {} and prof.time_unit == "auto" and prof.drop_below_intensity is None
    p = tmp_path / "p.yaml"
    p.write_text("columns: {a: lon}\ntime_unit: epoch_ms\ndefaults: {channel: app}\n", encoding="utf-8")
    got = load_profile(str(p))
    assert got.columns == {"a": "lon"} and got.time_unit == "epoch_ms" and got.defaults == {"channel": "app"}
    # relative to a dataset folder
    assert load_profile("p.yaml", base=tmp_path).columns == {"a": "lon"}
    p.write_text("colums: {a: lon}\n", encoding="utf-8")
    with pytest.raises(InputError, match="colums"):
        load_profile(str(p))
    p.write_text("time_unit: fortnights\n", encoding="utf-8")
    with pytest.raises(InputError, match="time_unit"):
        load_profile(str(p))
    p.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(InputError, match="mapping"):
        load_profile(str(p))
