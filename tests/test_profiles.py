"""Tests for envtrace.profiles: the industry table, code parsing, prefix resolution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from envtrace import profiles
from envtrace.errors import InputError

HEADER = "code,name_zh,name_en,odour,noise,dust,water,waste,reach_m,operating_hours,note\n"


def test_packaged_table_is_valid_and_covers_the_brief():
    p = profiles.load_industry_profiles()
    assert list(p.columns) == [
        "code", "name_zh", "name_en", "odour", "noise", "dust", "water", "waste",
        "reach_m", "operating_hours", "note", "aliases",
    ]  # fmt: skip
    assert p["code"].is_unique
    for c in profiles.CATEGORIES:
        assert p[c].between(0.0, 1.0).all()
    assert (p["reach_m"] > 0).all()
    assert set(p["operating_hours"]) <= set(profiles.OPERATING_HOURS)
    required = {
        "A03", "A031", "B06", "B10", "C13", "C135", "C14", "C15", "C17", "C1713", "C19",
        "C22", "C23", "C25", "C2511", "C2521", "C26", "C261", "C262", "C263", "C264",
        "C265", "C27", "C28", "C29", "C291", "C292", "C30", "C301", "C303", "C304", "C31",
        "C32", "C33", "C336", "C3360", "C34", "C35", "C36", "C39", "D44", "D4411", "D46",
        "D4620", "E47", "E48", "E50", "H62", "N7723", "N7820", "O8111", "R90",
    }  # fmt: skip
    assert required <= set(p["code"])


def test_weights_reflect_reality():
    p = profiles.load_industry_profiles().set_index("code")
    # restaurants and waste transfer stations: odour first, short reach
    assert p.loc["H62", "odour"] >= 0.8 and p.loc["H62", "reach_m"] <= 500
    assert p.loc["N7820", "odour"] >= 0.8
    # construction: noise and dust, not odour
    for code in ("E47", "E48"):
        assert p.loc[code, "noise"] >= 0.8 and p.loc[code, "dust"] >= 0.8
        assert p.loc[code, "odour"] <= 0.2
    # quarrying: dust and noise
    assert p.loc["B10", "dust"] >= 0.8 and p.loc["B10", "noise"] >= 0.7
    # wastewater plants: odour and water
    assert p.loc["D4620", "odour"] >= 0.8 and p.loc["D4620", "water"] >= 0.7
    # big odour sources reach 10-20 km
    for code in ("C2521", "C261", "C1353", "N7723", "A0313"):
        assert 10_000 <= p.loc[code, "reach_m"] <= 20_000
    # entertainment is noise at night
    assert p.loc["R90", "noise"] == 1.0 and p.loc["R90", "operating_hours"] == "night_possible"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("C2521 炼焦", "C2521"),
        ("C26 化学原料和化学制品制造业", "C26"),
        ("c2521", "C2521"),
        ("C 2521", "C2521"),
        (" C262", "C262"),
        ("C", "C"),
        ("C 制造业", "C"),
        ("2521", "C2521"),  # division 25 is in section C
        ("26", "C26"),
        ("4620", "D4620"),  # division 46 is in section D
        ("0313", "A0313"),
        ("9011", "R9011"),
        ("炼焦", "C2521"),
        ("Coking", "C2521"),
        ("化学原料和化学制品制造业", "C26"),
        ("垃圾中转站", "N7820"),
        ("城东垃圾中转站", "N7820"),
        ("道路施工", "E48"),  # the longer name inside wins over 施工 (E47)
        ("XX县污水处理厂", "D4620"),
        ("barbecue stall", "H629"),
        ("KTV", "R9011"),
        ("E-waste recycling", "C42"),  # "E-" is not a section code
        ("", ""),
        (None, ""),
        (float("nan"), ""),
        ("xyz", ""),
        ("99", ""),  # no such division
    ],
)
def test_parse_industry(value, expected):
    assert profiles.parse_industry(value) == expected


def test_profile_for_longest_prefix():
    out = profiles.profile_for(["C2521", "C2529", "C2599", "C9999", "C2521 炼焦", "炼焦"])
    assert out["matched_code"].tolist() == ["C2521", "C252", "C25", "C", "C2521", "C2521"]
    assert out["code"].tolist()[:4] == ["C2521", "C2529", "C2599", "C9999"]
    assert out["known"].all()
    p = profiles.load_industry_profiles().set_index("code")
    assert out.loc[1, "odour"] == p.loc["C252", "odour"]
    assert out.loc[1, "reach_m"] == p.loc["C252", "reach_m"]
    assert out.loc[3, "dust"] == p.loc["C", "dust"]


def test_profile_for_unknown():
    out = profiles.profile_for(["K70", "", "zzz"])
    assert not out["known"].any()
    w = out[list(profiles.CATEGORIES)].to_numpy()
    # K70 (real estate) is an industry without a nuisance profile: never a suspect;
    # no industry at all (or unreadable text): possibly anything, weakly
    assert (w[0] == 0.0).all()
    assert (w[1:] == profiles.UNREAD_WEIGHT).all() and 0 < profiles.UNREAD_WEIGHT < 0.5
    assert (out["other"] == profiles.OTHER_WEIGHT).all()
    assert profiles.OTHER_WEIGHT > 0
    assert out["matched_code"].tolist() == ["", "", ""]
    assert out["code"].tolist() == ["K70", "", ""]
    assert (out["reach_m"] == profiles.UNKNOWN_REACH_M).all()


def test_profile_for_keeps_order_and_length():
    codes = pd.Series(["H62", "K70", "H62", "E47"], index=[10, 11, 12, 13])
    out = profiles.profile_for(codes)
    assert len(out) == 4 and list(out.index) == [0, 1, 2, 3]
    assert out["known"].tolist() == [True, False, True, True]
    assert out.loc[0, "odour"] == out.loc[2, "odour"]
    assert out["operating_hours"].tolist()[3] == "night_possible"


def test_user_file_overrides_and_adds(tmp_path):
    f = tmp_path / "mine.csv"
    f.write_text(
        HEADER
        + "H62,餐饮业,Catering,0.5,0.5,0.0,0.0,0.1,150,day,local override\n"
        + "K70,房地产业,Real estate,0.0,0.3,0.1,0.0,0.1,200,day,added\n",
        encoding="utf-8",
    )
    p = profiles.load_industry_profiles(f)
    assert p["code"].is_unique
    row = p.set_index("code").loc["H62"]
    assert row["odour"] == 0.5 and row["reach_m"] == 150.0 and row["operating_hours"] == "day"
    out = profiles.profile_for(["K70", "H621", "H62"], profiles=p)
    assert out["known"].tolist() == [True, True, True]
    assert out["matched_code"].tolist() == ["K70", "H621", "H62"]
    assert out.loc[2, "odour"] == 0.5
    # packaged table untouched
    assert profiles.load_industry_profiles().set_index("code").loc["H62", "odour"] == 0.9


@pytest.mark.parametrize(
    "body, match",
    [
        ("H62,餐饮业,Catering,1.5,0,0,0,0,300,day,\n", "odour"),
        ("H62,餐饮业,Catering,x,0,0,0,0,300,day,\n", "odour"),
        ("H62,餐饮业,Catering,0.5,0,0,0,0,300,always,\n", "operating_hours"),
        ("H62,餐饮业,Catering,0.5,0,0,0,0,-3,day,\n", "reach_m"),
        ("Z99,x,x,0.5,0,0,0,0,300,day,\n", "bad code"),
        (
            "H62,a,a,0.5,0,0,0,0,300,day,\nh62,b,b,0.5,0,0,0,0,300,day,\n",
            "duplicate",
        ),
    ],
)
def test_user_file_validation(tmp_path, body, match):
    f = tmp_path / "bad.csv"
    f.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        profiles.load_industry_profiles(f)


def test_user_file_missing_or_lacking_columns(tmp_path):
    with pytest.raises(InputError, match="not found"):
        profiles.load_industry_profiles(tmp_path / "nope.csv")
    f = tmp_path / "cols.csv"
    f.write_text("code,odour\nH62,0.5\n", encoding="utf-8")
    with pytest.raises(InputError, match="lacks columns"):
        profiles.load_industry_profiles(f)


def test_profile_for_numpy_input():
    out = profiles.profile_for(np.array(["D4620", "2521"], dtype=object))
    assert out["matched_code"].tolist() == ["D4620", "C2521"]


def test_code_by_name_reads_the_plant_word_before_the_legal_form():
    """The words just before 有限公司 / Co., Ltd say what the plant is: a landfill run by the
    sanitation department (N7820) is a landfill (N7723); a slaughterhouse registered as
    food processing (C13) is one (C135); an empty code takes the name's; a name whose word
    says less than the code (化工 for C2614), names another section (印染 inside a
    machinery maker's name is not its last word anyway) or ends with no plant word keeps
    the code; English plant words must be whole words."""
    names = ["某某生活垃圾填埋场", "城南立华屠宰场有限公司", "东平养猪场", "华丰化工有限公司",
             "新印染机械有限公司", "长城食品有限公司", "Xyz Landfill Co., Ltd", "Megalandfill Ltd",
             "某某垃圾中转站", "华丰热电厂"]
    codes = ["N7820", "C13", "", "C2614", "C34", "C13", "N7820", "N7820", "N7820", "C2614"]
    assert profiles.code_by_name(names, codes) == [
        "N7723", "C135", "A0313", "C2614", "C34", "C13", "N7723", "N7820", "N7820", "C2614"]
