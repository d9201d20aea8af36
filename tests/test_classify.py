"""Tests for envtrace.classify: lexicon rule, model storage, filling, reproducibility, eval F1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from envtrace import classify as ec
from envtrace.classify import CATEGORIES, Lexicon, classify, fill_categories
from envtrace.errors import InputError

EVAL = Path(__file__).parent / "data" / "classify_eval.csv"


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return Lexicon.load()


@pytest.fixture(scope="module")
def tiny_lexicon() -> Lexicon:
    return Lexicon(
        {"odour": {2: ["臭", "smell*"], 3: ["恶臭"]}, "noise": {2: ["吵"], 1: ["施工"]},
         "dust": {2: ["灰"]}, "water": {1: ["sewage"], 2: ["river"]}},
        negations=["没有", "不", "no"], ignore=["灰色"], min_score=2,
    )


# --- exact expectations on tiny cases ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("太臭了", "odour"),
        ("半夜施工吵得睡不着", "noise"),
        ("河里的水发黑还有死鱼", "water"),
        ("rotten egg smell", "odour"),
        ("", "other"),
        ("   ", "other"),
        ("sewage smell on my street", "odour"),
        ("sewage discharge into the river", "water"),
        ("路边有人倾倒建筑垃圾", "waste"),
        ("工地扬尘太大", "dust"),
        ("小区旁边的基站有辐射吗", "other"),
        ("今天没有异味了", "other"),
        ("no smell today", "other"),
        ("不吵了，但是落灰很厉害", "dust"),
    ],
)
def test_classify_exact(text: str, expected: str) -> None:
    assert classify([text])[0] == expected


def test_classify_shapes_missing_and_duplicates() -> None:
    texts = pd.Series(["太臭了", None, "太臭了", "噪音扰民", np.nan])
    out = classify(texts)
    assert isinstance(out, np.ndarray)
    assert out.tolist() == ["odour", "other", "odour", "noise", "other"]
    assert classify([]).tolist() == []


def test_classify_rejects_bad_input() -> None:
    with pytest.raises(InputError):
        classify("太臭了")  # one string, not a sequence
    with pytest.raises(InputError):
        classify(["太臭了"], lang="fr")


# --- lexicon rule ---------------------------------------------------------------------


def test_lexicon_scores_longest_match_and_negation(tiny_lexicon: Lexicon) -> None:
    scores, first, negated = tiny_lexicon.scores(["恶臭，施工吵", "没有臭味", "灰色的河 river"])
    cols = {c: i for i, c in enumerate(tiny_lexicon.priority)}
    # 恶臭 counts once as 3 (not also as 臭); noise = 施工 1 + 吵 2
    assert scores[0, cols["odour"]] == 3 and scores[0, cols["noise"]] == 3
    assert first[0, cols["odour"]] == 0 and first[0, cols["noise"]] == 3
    assert scores[1].sum() == 0 and negated[1]
    # 灰色 is an ignore phrase: no dust
    assert scores[2, cols["dust"]] == 0 and scores[2, cols["water"]] == 2


def test_lexicon_decision_rule(tiny_lexicon: Lexicon) -> None:
    got = tiny_lexicon.match([
        "恶臭，施工吵",        # tie 3:3 -> first mention (odour at 0)
        "施工吵，恶臭",        # tie 3:3 -> first mention (noise at 0)
        "施工",                # 1 < min_score -> undecided
        "没有臭",              # only negated hits -> other
        "smells of sewage",   # odour 2 vs water 1
        "sewage river",       # water 1 + 2 = 3 vs odour 0
        "灰 臭",               # tie 2:2, dust first
        "",
    ])
    assert got.tolist() == ["odour", "noise", "", "other", "odour", "water", "dust", ""]


def test_lexicon_tie_same_position_uses_priority() -> None:
    lex = Lexicon({"water": {2: ["x"]}, "odour": {2: ["x"]}},
                  priority=["odour", "noise", "dust", "water", "waste", "other"])
    assert lex.match(["x"]).tolist() == ["odour"]


def test_lexicon_ascii_word_boundaries(tiny_lexicon: Lexicon) -> None:
    lex = Lexicon({"odour": {2: ["tar"]}})
    assert lex.match(["tar smell", "start", "TAR!"]).tolist() == ["odour", "", "odour"]
    hits = tiny_lexicon.explain("Smells bad")
    assert [(h.matched, h.keyword, h.category, h.weight) for h in hits] == [
        ("smells", "smell*", "odour", 2)]


def test_lexicon_lang_restriction(tiny_lexicon: Lexicon) -> None:
    assert tiny_lexicon.match(["臭 smell"], lang="en").tolist() == ["odour"]
    scores, _, _ = tiny_lexicon.scores(["臭 smell"], lang="zh")
    assert scores.sum() == 2


def test_explain_shipped_lexicon(lex: Lexicon) -> None:
    hits = lex.explain("没有异味，但是噪音很大")
    assert [(h.matched, h.category, h.negated) for h in hits] == [
        ("异味", "odour", True), ("噪音", "noise", False)]
    # 影响 is an ignore phrase, so its 响 is not noise
    assert lex.explain("严重影响生活") == []


def test_lexicon_invalid(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        Lexicon({"smell": {2: ["臭"]}})
    with pytest.raises(InputError):
        Lexicon({"odour": {2: [False]}})  # YAML's unquoted `no`
    bad = tmp_path / "lex.yaml"
    bad.write_text("categories: [1, 2]\n", encoding="utf-8")
    with pytest.raises(InputError):
        Lexicon.load(bad)


# --- fill_categories ----------------------------------------------------------------


def test_fill_categories_keeps_given_and_marks_sources() -> None:
    frame = pd.DataFrame({
        "complaint_id": ["a", "b", "c", "d"],
        "category": pd.array(["noise", pd.NA, "", pd.NA], dtype="str"),
        "text": ["太臭了", "太臭了", "", "燥音太大了"],
    })
    out = fill_categories(frame)
    assert out["category"].tolist() == ["noise", "odour", "other", out["category"].iloc[3]]
    assert out["category_source"].tolist() == ["input", "lexicon", "default", "model"]
    assert out["category"].iloc[3] in CATEGORIES
    assert frame["category"].isna().sum() == 2  # input untouched
    assert fill_categories(frame, default="odour")["category"].iloc[2] == "odour"


def test_fill_categories_without_category_column() -> None:
    out = fill_categories(pd.DataFrame({"text": ["河里有死鱼", "no problem"]}))
    assert out["category"].iloc[0] == "water"
    assert set(out["category_source"]) <= {"lexicon", "model"}
    with pytest.raises(InputError):
        fill_categories(pd.DataFrame({"x": [1]}))
    with pytest.raises(InputError):
        fill_categories(pd.DataFrame({"text": ["a"]}), default="smell")


# --- model ------------------------------------------------------------------------------

TINY = pd.DataFrame({
    "text": ["很臭", "臭味大", "smell bad", "噪音大", "很吵", "loud noise", "扬尘", "灰尘多",
             "dust", "污水", "河水黑", "river", "垃圾", "倾倒垃圾", "trash", "辐射", "咨询",
             "radiation"],
    "category": [c for c in CATEGORIES for _ in range(3)],
})


def test_model_matches_sklearn_pipeline() -> None:
    """Prediction from the stored arrays equals TfidfVectorizer + LogisticRegression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    model = ec.train_model(TINY, seed=0, min_df=1)
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=1, sublinear_tf=True)
    clf = LogisticRegression(C=10.0, max_iter=5000, random_state=0)
    clf.fit(vec.fit_transform(TINY["text"]), TINY["category"])
    probe = ["很臭很臭", "loud river", "未知", ""]
    expected = clf.decision_function(vec.transform(probe))
    np.testing.assert_allclose(model.decision_function(probe), expected, atol=1e-9)
    assert model.predict(probe).tolist() == clf.predict(vec.transform(probe)).tolist()


def test_model_roundtrip_npz(tmp_path: Path) -> None:
    model = ec.train_model(TINY, seed=0, min_df=1)
    path = ec.save_model(model, tmp_path / "m.npz")
    back = ec.load_model(path)
    probe = ["臭", "吵", "dust", "河"]
    np.testing.assert_array_equal(back.decision_function(probe), model.decision_function(probe))
    np.testing.assert_allclose(back.predict_proba(probe).sum(axis=1), 1.0)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError):
        ec.load_model(tmp_path / "bad.npz")
    with pytest.raises(InputError):
        ec.load_model(tmp_path / "missing.npz")


def test_load_model_retrains_when_file_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    TINY.to_csv(tmp_path / "train.csv", index=False)
    monkeypatch.setattr(ec, "MODEL_PATH", tmp_path / "absent.npz")
    monkeypatch.setattr(ec, "TRAIN_PATH", tmp_path / "train.csv")
    monkeypatch.setattr(ec, "_MODEL_CACHE", {})
    with pytest.warns(RuntimeWarning, match="retraining"):
        model = ec.load_model()
    assert len(model.vocabulary_) > 0 and not (tmp_path / "absent.npz").exists()
    labels, sources = ec.classify_with_source(["", "很臭"], model=model)
    assert labels.tolist() == ["other", "odour"] and sources.tolist() == ["default", "lexicon"]


def test_train_model_rejects_bad_labels() -> None:
    with pytest.raises(InputError):
        ec.train_model(pd.DataFrame({"text": ["a"], "category": ["smell"]}))
    with pytest.raises(InputError):
        ec.train_model(pd.DataFrame({"text": ["a"]}))


def test_training_set_deterministic_and_disjoint_from_eval() -> None:
    a = ec.build_training_set(seed=0)
    pd.testing.assert_frame_equal(a, ec.build_training_set(seed=0))
    assert not a.equals(ec.build_training_set(seed=1))
    assert set(a["category"]) == set(CATEGORIES)
    assert set(a["lang"]) == {"zh", "en"}
    shipped = pd.read_csv(ec.TRAIN_PATH, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(shipped, a.astype(object), check_dtype=False)
    evalset = pd.read_csv(EVAL, dtype=str, keep_default_na=False)
    assert not set(evalset["text"]) & set(a["text"])  # never train on the evaluation set


@pytest.mark.slow
def test_shipped_model_is_reproducible(tmp_path: Path) -> None:
    """`envtrace classify train` with seed 0 rebuilds the shipped model."""
    rebuilt = ec.rebuild(seed=0, train_path=tmp_path / "t.csv", model_path=tmp_path / "m.npz")
    again = ec.load_model(tmp_path / "m.npz")
    shipped = ec.load_model()
    assert rebuilt.vocabulary_.tolist() == shipped.vocabulary_.tolist()
    np.testing.assert_allclose(rebuilt.coef_, shipped.coef_, atol=1e-6)
    np.testing.assert_array_equal(again.coef_, rebuilt.coef_)
    evalset = pd.read_csv(EVAL, dtype=str, keep_default_na=False)
    texts = evalset["text"].tolist()
    assert again.predict(texts).tolist() == shipped.predict(texts).tolist()


# --- evaluation set ---------------------------------------------------------------------


def test_eval_set_shape() -> None:
    evalset = pd.read_csv(EVAL, dtype=str, keep_default_na=False)
    assert list(evalset.columns) == ["text", "category", "lang"]
    assert len(evalset) >= 200
    assert evalset["text"].is_unique
    counts = evalset["category"].value_counts()
    assert set(counts.index) == set(CATEGORIES) and counts.min() >= 20


def test_eval_macro_f1_at_least_090() -> None:
    evalset = pd.read_csv(EVAL, dtype=str, keep_default_na=False)
    table = ec.evaluate(evalset)
    assert table.loc["macro avg", "f1"] >= 0.90, table.round(3).to_string()
    assert (table.loc[list(CATEGORIES), "f1"] >= 0.80).all(), table.round(3).to_string()


# --- command line -----------------------------------------------------------------------


def test_cli_evaluate_and_explain() -> None:
    from typer.testing import CliRunner

    from envtrace.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["classify", "evaluate", "--eval", str(EVAL)])
    assert res.exit_code == 0, res.output
    assert "macro avg" in res.output and "odour" in res.output
    res = runner.invoke(app, ["classify", "explain", "太臭了"])
    assert res.exit_code == 0 and res.output.startswith("odour\tlexicon")
    res = runner.invoke(app, ["classify", "evaluate", "--eval", "does-not-exist.csv"])
    assert res.exit_code == 2


# --- when the nuisance was noticed ----------------------------------------------------------


def _hours_of(mask: int) -> list[int]:
    return [h for h in range(24) if mask >> h & 1]


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("凌晨两三点闻到很重的臭鸡蛋味", [0, 1, 2, 3, 4, 5]),
        ("最近早上四点左右总有化工味", [0, 1, 2, 3, 4, 5]),  # a clock time beats 早上
        ("晚上七八点有一股焦糊味", [17, 18, 19, 20, 21]),  # not the generic 晚上
        ("半夜一股刺鼻气味，熏得人睡不着", [0, 1, 2, 3, 4, 5, 21, 22, 23]),
        ("晚上闻到", [0, 1, 18, 19, 20, 21, 22, 23]),
        ("白天一直有粉尘", list(range(7, 19))),
        ("下午和晚上都有", [0, 1, *range(12, 24)]),  # the union of both windows
        ("Terrible smell LAST NIGHT", [0, 1, 2, 3, 4, 5, *range(18, 24)]),
        ("昨晚七点多有焦糊味", [17, 18, 19, 20, 21]),  # a clock time beats 昨晚
        ("上午十点以后有粉尘", list(range(5, 12))),  # 十点以后 alone says nothing of night
        ("晚上两点多还在排", [0, 1, 2, 3, 4, 5]),  # 02:00, not the evening
        ("早上四五点", [0, 1, 2, 3, 4, 5]),
        ("Smell at 2:30am again", [0, 1, 2, 3, 4, 5]),
        ("晚上好，我反映个问题", []),  # a greeting
        ("I am sick of it", []),
        ("河水发黑发臭", []),
        ("", []),
    ],
)
def test_noticed_hours_reads_time_words(text: str, hours: list[int]) -> None:
    assert _hours_of(int(ec.noticed_hours([text])[0])) == hours


def test_noticed_hours_shapes_missing_and_duplicates() -> None:
    out = ec.noticed_hours(pd.Series(["半夜有味", None, "半夜有味", "没有时间词"]))
    assert out.dtype == np.int64 and out.shape == (4,)
    assert out[0] == out[2] != 0 and out[1] == 0 and out[3] == 0


def _fams(mask: int) -> list[str]:
    lex = ec.odour_lexicon()
    return [lex[b].family for b in range(len(lex)) if mask >> b & 1]


@pytest.mark.parametrize(("text", "families"), [
    ("半夜闻到很重的臭鸡蛋味", ["h2s"]),
    ("像油漆稀料的味道，很冲", ["solvent"]),
    ("养殖场的猪粪味太重了", ["manure"]),
    ("垃圾渗滤液的臭味", ["garbage"]),
    ("烂鱼味和油烟味", ["food", "cooking"]),
    ("塑料烧焦味", ["burnt"]),
    ("Strong ROTTEN EGGS smell", ["h2s"]),
    ("一股怪味，刺鼻，臭味", []),  # generic words name no kind of smell
    ("", []),
    # English words are whole words: not "ink" in stink, "tar" in started, "cow" in coworker
    ("pinky swear it stinks, I think it started early, coworker and selfish", []),
    ("burning eyes and woodsmoke", []),  # a symptom and wood smoke are no industrial smell
    ("Smells like sulfur and tar, coke works again", ["h2s", "coke"]),
    # a Chinese word names a smell only with 味/臭/气 close after it, not as a landmark
    ("污水处理厂旁边的塑料厂有怪味", []),
    ("附近养殖场边上的工厂晚上排气", []),
    ("一股农药味", ["chemical"]),  # a pesticide, not a medicine
    # rotten cabbage: mercaptans and sulphides, the reduced sulphur of kraft pulp and sewage
    ("小区附近有一股烂白菜味", ["h2s"]),
])
def test_odour_families_reads_the_kind_of_smell(text: str, families: list[str]) -> None:
    assert _fams(int(ec.odour_families([text])[0])) == families


def test_odour_families_shapes_missing_and_several_kinds() -> None:
    out = ec.odour_families(pd.Series(["猪粪味", None, "猪粪味", "下水道的臭鸡蛋味"]))
    assert out.dtype == np.int64 and out.shape == (4,)
    assert out[0] == out[2] != 0 and out[1] == 0
    assert _fams(int(out[3])) == ["h2s", "sewage"]
    with pytest.raises(InputError):
        ec.odour_families("猪粪味")


def test_industry_odour_families_by_code_prefix() -> None:
    got = [_fams(int(m)) for m in ec.industry_odour_families(["A03", "D4620", "C2641", "C23", "", None, "X99"])]
    assert got[0] == ["h2s", "sewage", "manure"]  # a livestock farm
    assert got[1] == ["h2s", "sewage"]  # a sewage works
    assert "solvent" in got[2] and "manure" not in got[2]  # a paint factory
    assert got[3] == ["solvent"]  # a printer: ink
    assert got[4] == got[5] == got[6] == []  # unknown: no kind of smell assumed


def test_a_waste_transfer_station_smells_of_garbage() -> None:
    """N7820 (environmental sanitation: 垃圾中转站, public toilets) is not N772 (treatment)."""
    got = [_fams(int(m)) for m in ec.industry_odour_families(["N7820", "N7723", "N78"])]
    assert got[0] == ["sewage", "garbage"]
    assert "garbage" in got[1] and "burnt" in got[1]  # landfills and incinerators
    assert got[2] == []  # the division alone names no kind


# --------------------------------------------------------------- enterprises named in texts
NAMES = ["岱岳油脂有限公司", "鲁泰化学有限公司", "山东凯瑞五金厂", "山东凯瑞化工有限公司",
         "王庄康宁化工有限公司", "康宁纸业有限公司", "老胡家饭店", "泰山饲料有限公司"]


def test_enterprise_aliases_strip_legal_form_place_and_keep_unique_brands():
    a = ec.enterprise_aliases(NAMES, places=["王庄镇", "岱岳区"], avoid=["泰山花园3号楼"])
    assert sorted(k for k, v in a.items() if v == 4) == ["康宁化工", "王庄康宁化工", "王庄康宁化工有限公司"]
    assert a["鲁泰"] == 1 and a["鲁泰化学"] == 1 and a["凯瑞化工"] == 3 and a["凯瑞五金"] == 2
    assert "凯瑞" not in a and "康宁" not in a  # brands two firms share name neither
    assert a["岱岳油脂"] == 0 and "岱岳" not in a  # 岱岳 is a district, not the firm's brand
    assert "泰山" not in a and a["泰山饲料"] == 7  # complainants live in 泰山花园
    assert a["老胡家饭店"] == 6


def test_enterprise_aliases_of_names_with_places_branches_and_trade_words():
    names = ["泰安市凯瑞化工有限公司", "山东省宁阳县鲁泰化学有限公司", "岱岳区王庄镇华丰养殖场",
             "山东恒通化工有限公司泰安分公司", "王庄环保科技有限公司", "中国石油化工股份有限公司齐鲁分公司"]
    a = ec.enterprise_aliases(names, places=["泰安市", "王庄镇"])
    assert a["凯瑞化工"] == 0 and a["凯瑞"] == 0 and "市凯" not in a and "泰安" not in a
    assert a["鲁泰化学"] == 1 and a["鲁泰"] == 1 and "宁阳" not in a
    assert a["华丰养殖场"] == 2 and a["华丰"] == 2
    assert a["恒通化工"] == 3 and a["恒通"] == 3  # the firm's name ends at its first legal form
    # trade words are no brand: "请环保部门处理" names nobody
    assert "环保" not in a and "环保科技" not in a and "石油化工" not in a and "石油" not in a
    got = ec.named_enterprises(["请环保部门处理", "泰安市区臭味", "凯瑞化工泰安分公司又排了"], a)
    assert got.tolist() == [-1, -1, 0]


def test_named_enterprises_reads_the_longest_name_and_refuses_two():
    a = ec.enterprise_aliases(NAMES, places=["王庄镇"])
    got = ec.named_enterprises(pd.Series([
        "半夜一股臭味，怀疑是凯瑞化工。", "鲁泰那个厂又在排", "不是康宁化工，是凯瑞化工",
        "晚上臭味很重", None, "山东凯瑞五金厂噪声大", "鲁泰那个厂又在排"]), a)
    assert got.tolist() == [3, 1, -1, -1, -1, 2, 1]
    assert ec.named_enterprises(["凯瑞化工"], {}).tolist() == [-1]
    with pytest.raises(InputError):
        ec.named_enterprises("凯瑞化工", a)


def test_english_names_match_whole_words_and_not_generic_ones():
    names = ["U.S. Steel Clairton Coke Works", "U.S. Steel Irvin Works (West Mifflin)",
             "Shenango coke works (Neville Island)"]
    a = ec.enterprise_aliases(names)
    assert a["clairton"] == 0 and a["irvin works"] == 1 and a["shenango"] == 2
    assert not {"steel", "works", "coke works", "u.s. steel", "west mifflin"} & set(a)
    got = ec.named_enterprises(
        ["Smells like Clairton again", "IRVIN WORKS flaring", "Irving Park smells", "steel mill smell"], a)
    assert got.tolist() == [0, 1, -1, -1]


def _first_chars(pattern: str) -> set[str] | None:
    """Characters a match of ``pattern`` can begin with (None: any), from the regex parser."""
    try:
        from re import _constants as c
        from re import _parser as parser
    except ImportError:  # Python < 3.11
        import sre_constants as c  # type: ignore[no-redef]
        import sre_parse as parser  # type: ignore[no-redef]

    def seq(items) -> tuple[set[str] | None, bool]:  # (first chars, can be empty)
        out: set[str] = set()
        for op, av in items:
            got, empty = one(op, av)
            if got is None:
                return None, False
            out |= got
            if not empty:
                return out, False
        return out, True

    def one(op, av) -> tuple[set[str] | None, bool]:
        if op is c.LITERAL:
            return {chr(av)}, False
        if op is c.IN:
            chars: set[str] = set()
            for k, v in av:
                if k is c.LITERAL:
                    chars.add(chr(v))
                elif k is c.RANGE:
                    chars |= {chr(x) for x in range(v[0], v[1] + 1)}
                elif k is c.NEGATE or k is c.CATEGORY:
                    return None, False
            return chars, False
        if op is c.SUBPATTERN:
            return seq(av[-1])
        if op is c.BRANCH:
            out: set[str] = set()
            empty = False
            for b in av[1]:
                got, e = seq(b)
                if got is None:
                    return None, False
                out |= got
                empty |= e
            return out, empty
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            got, e = seq(av[2])
            return got, e or av[0] == 0
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            return set(), True  # zero width
        return None, False  # ANY and the rest: anything

    got, empty = seq(parser.parse(pattern))
    return None if empty else got


def test_time_words_first_characters_cover_every_cue() -> None:
    # the guard of _TIME_RE must let every time word through
    from envtrace.classify import _TIME_CUES, _TIME_FIRST

    allowed = {ch.lower() for ch in _TIME_FIRST}
    for cue, _ in _TIME_CUES:
        first = _first_chars(cue)
        assert first is not None, cue
        missing = {ch for ch in first if ch.lower() not in allowed}
        assert not missing, (cue, missing)
    assert _first_chars("a|b?c") == {"a", "b", "c"} and _first_chars(".x") is None


def test_noticed_hours_equal_the_plain_alternation() -> None:
    import re

    from envtrace.classify import _TIME_CUES

    plain = re.compile("|".join(f"({p})" for p, _ in _TIME_CUES), re.IGNORECASE)
    sample = Path(__file__).resolve().parents[1] / "data" / "sample" / "complaints.csv"
    texts = pd.read_csv(sample, dtype=str, keep_default_na=False)["text"].tolist()
    texts += ["EARLY MORNING smell", "3 AM", "3:30 a.m. again", "Last Night", "晚上好，昨晚八点又臭",
              "通宵施工", "工作时间噪声", "一早就闻到", "Tonight at 11pm", "x半夜y", ""]
    want = []
    for t in texts:
        m = 0
        for hit in plain.finditer(t):
            m |= _TIME_CUES[hit.lastindex - 1][1]
        want.append(m)
    got = ec.noticed_hours(pd.Series(texts, dtype="str"))
    np.testing.assert_array_equal(got, np.array(want, dtype=np.int64))
    assert (got != 0).sum() > 100


def test_odour_families_equal_the_search_of_every_text() -> None:
    # the RE2 prefilter finds every text the exact patterns match, in every spelling
    import re

    from envtrace.classify import _odour_word_pattern, odour_lexicon

    fams = odour_lexicon()
    pats = [re.compile("|".join(_odour_word_pattern(w) for w in f.words), re.IGNORECASE) if f.words
            else None for f in fams]
    texts = []
    for w in (w for f in fams for w in f.words):
        texts += [w, w.upper(), w.title(), "农" + w, w + "的工厂旁边很远的地方有臭味", w + "很远味",
                  "x" + w + "x", w + "s", w + "y臭", "昨晚" + w + "，味", w + "。味", "(" + w + ")味"]
    texts += ["", "农药味", "药味", "Rotten Eggs smell", "ROTTEN EGGS", "stinky ink", "selfish", "started"]
    want = np.array([sum(1 << b for b, p in enumerate(pats) if p is not None and p.search(t))
                     for t in texts], dtype=np.int64)
    got = ec.odour_families(pd.Series(texts + [None], dtype=object))
    np.testing.assert_array_equal(got[:-1], want)
    assert got[-1] == 0 and (want != 0).sum() > 100 and (want == 0).sum() > 50


def test_odour_prefilter_folds_case_at_least_as_python_does() -> None:
    # for every character of the lexicon, each code point Python's re.IGNORECASE takes
    # for it (its case variants, and the extra ones such as İ, ı, ſ, K) the RE2 prefilter
    # takes too; an exhaustive run over all code points found İ and ı the only ones needed
    import re
    import sys

    import pyarrow as pa
    import pyarrow.compute as pc

    from envtrace.classify import _re2_literal, odour_lexicon

    try:
        from re import _casefix
        extra = {chr(c) for k, v in _casefix._EXTRA_CASES.items() for c in (k, *v)}
    except ImportError:  # pragma: no cover - Python < 3.11
        extra = set()
    chars = sorted({ch for f in odour_lexicon() for w in f.words for ch in w})
    by_lower: dict[str, set[str]] = {}
    for c in range(sys.maxunicode + 1):
        if 0xD800 <= c <= 0xDFFF:
            continue
        x = chr(c)
        for key in {x.lower(), x.upper(), x.casefold()}:
            by_lower.setdefault(key, set()).add(x)
    checked = 0
    for ch in chars:
        cand = set().union(*(by_lower.get(k, set()) for k in {ch.lower(), ch.upper(), ch.casefold()})) | extra
        py = sorted(x for x in cand if re.fullmatch(re.escape(ch), x, re.IGNORECASE))
        got = pc.match_substring_regex(pa.array(py), "^" + _re2_literal(ch) + "$", ignore_case=True)
        missed = [x for x, ok in zip(py, got.to_pylist(), strict=True) if not ok]
        assert not missed, (ch, missed)
        checked += len(py)
    assert checked > len(chars)  # case variants were there to check
    assert ec.odour_families(pd.Series(["draİn smell", "PİG FARM", "fıshy"]))[:3].tolist() == \
        ec.odour_families(pd.Series(["drain smell", "pig farm", "fishy"]))[:3].tolist()


def test_odour_families_read_texts_that_are_not_utf8() -> None:
    # a lone surrogate cannot go to Arrow; the text is still read
    got = ec.odour_families(pd.Series(["\ud800 下水道臭味", "下水道臭味"], dtype=object))
    assert got[0] == got[1] != 0


def test_texts_decided_in_a_child_process_get_the_same_categories(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many distinct texts are split between this process and a child
    (classify._decide_on_two_cores): each text's category and source are the same."""
    from envtrace import _procs
    from envtrace import classify as mod

    sample = Path(__file__).resolve().parents[1] / "data" / "sample" / "complaints.csv"
    texts = pd.read_csv(sample, dtype=str, keep_default_na=False)["text"].tolist()
    texts = texts + [t + "，" + w for t in texts[:300] for w in ("刺鼻", "很吵", "灰尘大")] + ["", "  "]
    lab0, src0 = mod.classify_with_source(texts)
    started = []
    call = _procs.call_in_process

    def watched(fn, *args, **kw):  # noqa: ANN001, ANN202
        out = call(fn, *args, **kw)
        started.append(fn.__name__)  # answered by the child, not by the fallback
        return out

    monkeypatch.setattr(_procs, "call_in_process", watched)
    monkeypatch.setattr(mod, "_PROCESS_MIN_TEXTS", 10)
    lab1, src1 = mod.classify_with_source(texts)
    if _procs.available() and _procs.cores() > 1:
        assert started == ["_decide"]
    np.testing.assert_array_equal(lab1, lab0)
    np.testing.assert_array_equal(src1, src0)
    assert {"lexicon", "model", "default"} <= set(src0)  # both deciders and blanks are compared
    # the child decides in the language asked for
    some = [t for t in texts if t.strip()][:200] + ["noise from the factory at night"]
    if started:
        for lang in ("zh", "en"):
            got = call(mod._decide, some, lang)
            want = mod._decide(some, lang)
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])
