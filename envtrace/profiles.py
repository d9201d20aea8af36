"""Industry profiles: which kinds of complaint an industry causes, how strongly, how far.

The table ships as ``envtrace/data/industries.csv`` (editable; one row per GB/T 4754-2017
code at any level: section letter ``C``, division ``C26``, group ``C262``, class ``C2521``).

Columns
-------
``code``
    GB/T 4754-2017 code, section letter + 0, 2, 3 or 4 digits.
``name_zh``, ``name_en``
    Official Chinese name, English name.
``odour, noise, dust, water, waste``
    Weights in [0, 1]: how strongly this industry causes complaints of that kind.
``reach_m``
    Typical distance (metres) at which its odour / dust / noise is still noticed.
``operating_hours``
    ``24h``, ``day``, ``night_possible`` (mostly day but night work is common) or
    ``seasonal``.
``note``
    Free text for people.
``aliases``
    (optional; an addition to the original column list) ``;``-separated everyday names
    (``垃圾中转站``, ``养猪场``, ``KTV``) used by :func:`parse_industry` when a value has no
    code.

A user file with the same columns overrides rows by ``code`` and may add rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from envtrace.errors import InputError

__all__ = [
    "CATEGORIES",
    "code_by_name",
    "OPERATING_HOURS",
    "OTHER_WEIGHT",
    "UNREAD_WEIGHT",
    "load_industry_profiles",
    "parse_industry",
    "profile_for",
]

CATEGORIES: tuple[str, ...] = ("odour", "noise", "dust", "water", "waste")
OPERATING_HOURS: tuple[str, ...] = ("24h", "day", "night_possible", "seasonal")
#: weight of the ``other`` category, for every profile, known or not
OTHER_WEIGHT: float = 0.05
#: weight for every category of an enterprise whose industry is not given or cannot be
#: read at all (no GB/T 4754 code found): it may cause anything, so it stays a possible
#: suspect with a weak prior (a tenth of a matching industry's) that wind, timing and
#: alarms can overcome. A readable code that is not in the table (e.g. ``K70`` real
#: estate) is an industry without a nuisance profile and gets 0.
UNREAD_WEIGHT: float = 0.1
#: defaults for a code that matches no row
UNKNOWN_REACH_M: float = 1000.0
UNKNOWN_HOURS: str = "night_possible"

_COLUMNS = (
    "code",
    "name_zh",
    "name_en",
    *CATEGORIES,
    "reach_m",
    "operating_hours",
    "note",
)

# GB/T 4754-2017: two-digit division -> section letter
_SECTION_OF_DIVISION: list[tuple[int, int, str]] = [
    (1, 5, "A"), (6, 12, "B"), (13, 43, "C"), (44, 46, "D"), (47, 50, "E"),
    (51, 52, "F"), (53, 60, "G"), (61, 62, "H"), (63, 65, "I"), (66, 69, "J"),
    (70, 70, "K"), (71, 72, "L"), (73, 75, "M"), (76, 79, "N"), (80, 82, "O"),
    (83, 83, "P"), (84, 85, "Q"), (86, 90, "R"), (91, 96, "S"), (97, 97, "T"),
]  # fmt: skip

# a letter with digits ("C2521", "c 26"), or a letter alone before end / non-ASCII text ("C 制造业")
_CODE_RE = re.compile(r"^\s*([A-Ta-t])(?:\s*(\d{2,4})(?![0-9A-Za-z])|(?=\s*(?:$|[^\x00-\x7f])))")
_DIGITS_RE = re.compile(r"^\s*(\d{2,4})(?![0-9])")


def _section_for(digits: str) -> str | None:
    div = int(digits[:2])
    for lo, hi, letter in _SECTION_OF_DIVISION:
        if lo <= div <= hi:
            return letter
    return None


def _default_path() -> Any:
    return resources.files("envtrace") / "data" / "industries.csv"


def _read_csv(source: Any, what: str) -> pd.DataFrame:
    try:
        if isinstance(source, str | Path):
            return pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        with resources.as_file(source) as p:
            return pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"industry profile file not found: {what}") from exc
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"cannot read industry profile file {what}: {first}") from exc


def _validate(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    frame = frame.rename(columns=lambda c: str(c).strip())
    missing = [c for c in ("code", *CATEGORIES) if c not in frame.columns]
    if missing:
        raise InputError(f"industry profile file {what} lacks columns: {', '.join(missing)}")
    out = pd.DataFrame({"code": frame["code"].astype(str).str.strip().str.upper()})
    if (out["code"] == "").any():
        raise InputError(f"industry profile file {what} has a row without code")
    bad_codes = out.loc[~out["code"].str.fullmatch(r"[A-T](\d{2,4})?"), "code"]
    if len(bad_codes):
        raise InputError(f"industry profile file {what}: bad code {bad_codes.iloc[0]!r}")
    dup = out["code"].duplicated()
    if dup.any():
        raise InputError(f"industry profile file {what}: duplicate code {out['code'][dup].iloc[0]}")
    for c in ("name_zh", "name_en", "note", "aliases"):
        out[c] = frame[c].astype(str).str.strip() if c in frame.columns else ""
    for c in CATEGORIES:
        v = pd.to_numeric(frame[c].astype(str).str.strip(), errors="coerce")
        if v.isna().any() or ((v < 0) | (v > 1)).any():
            raise InputError(f"industry profile file {what}: {c} must be numbers in [0, 1]")
        out[c] = v.astype(float).to_numpy()
    if "reach_m" in frame.columns:
        r = pd.to_numeric(frame["reach_m"].astype(str).str.strip(), errors="coerce")
        if r.isna().any() or (r <= 0).any():
            raise InputError(f"industry profile file {what}: reach_m must be positive metres")
        out["reach_m"] = r.astype(float).to_numpy()
    else:
        out["reach_m"] = UNKNOWN_REACH_M
    if "operating_hours" in frame.columns:
        h = frame["operating_hours"].astype(str).str.strip()
        bad = ~h.isin(OPERATING_HOURS)
        if bad.any():
            raise InputError(
                f"industry profile file {what}: operating_hours {h[bad].iloc[0]!r} "
                f"not one of {', '.join(OPERATING_HOURS)}"
            )
        out["operating_hours"] = h.to_numpy()
    else:
        out["operating_hours"] = UNKNOWN_HOURS
    return out[[*_COLUMNS, "aliases"]]


@lru_cache(maxsize=1)
def _packaged() -> pd.DataFrame:
    return _validate(_read_csv(_default_path(), "industries.csv"), "industries.csv")


def load_industry_profiles(path: str | Path | None = None) -> pd.DataFrame:
    """The industry profile table.

    Parameters
    ----------
    path : str or Path, optional
        A user CSV with the same columns (``code`` and the five weights required). Its
        rows replace packaged rows with the same code and add new codes.

    Returns
    -------
    DataFrame
        Columns ``code, name_zh, name_en, odour, noise, dust, water, waste, reach_m,
        operating_hours, note, aliases``, sorted by code; weights float in [0, 1],
        ``reach_m`` float metres.

    Raises
    ------
    InputError
        If the user file is missing or malformed (one-line reason).
    """
    base = _packaged().copy()
    if path is None:
        return base
    user = _validate(_read_csv(Path(path), str(path)), str(Path(path).name))
    merged = pd.concat([base[~base["code"].isin(user["code"])], user], ignore_index=True)
    return merged.sort_values("code", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- parsing
def _norm_code(letter: str, digits: str | None) -> str:
    return letter.upper() + (digits or "")


def _name_index(profiles: pd.DataFrame) -> list[tuple[str, str, bool]]:
    """(name casefolded, code, is_ascii) for every name and alias."""
    out: list[tuple[str, str, bool]] = []
    for code, zh, en, aliases in profiles[["code", "name_zh", "name_en", "aliases"]].itertuples(
        index=False
    ):
        names = [zh, en, *str(aliases).split(";")]
        for n in names:
            n = str(n).strip().casefold()
            if len(n) >= 2:
                out.append((n, code, n.isascii()))
    return out


def _contains(text: str, name: str, is_ascii: bool) -> bool:
    if is_ascii:
        return re.search(r"(?<![a-z0-9])" + re.escape(name) + r"(?![a-z0-9])", text) is not None
    return name in text


def _parse_name(text: str, index: list[tuple[str, str, bool]]) -> str:
    t = text.strip().casefold()
    if len(t) < 2:
        return ""
    exact = [code for n, code, _ in index if n == t]
    if exact:
        return max(exact, key=len)
    # the value contains a known name: the longest name wins (most specific text)
    inside = [(len(n), len(code), code) for n, code, a in index if _contains(t, n, a)]
    if inside:
        return max(inside)[2]
    # the value is part of a known name: the most general such code
    around = [code for n, code, _ in index if t in n]
    if around:
        return min(around, key=len)
    return ""


def parse_industry(value: Any, *, profiles: pd.DataFrame | None = None) -> str:
    """Extract a GB/T 4754 code from an ``industry`` value.

    Parameters
    ----------
    value : str
        ``"C2521 炼焦"``, ``"C26 化学原料和化学制品制造业"``, ``"c2521"``, ``"C 2521"``;
        digits alone (``"2521"``, ``"26"``) get their section letter from the two-digit
        division (13–43 → C, 44–46 → D, …), as GB/T 4754 divisions are unique across
        sections; a name alone (``"炼焦"``, ``"Coking"``, ``"垃圾中转站"``) is looked up
        among names and aliases (exact match first, else the longest known name inside the
        value, else the most general code whose name contains the value).
    profiles : DataFrame, optional
        Table for name lookup; default the packaged one.

    Returns
    -------
    str
        The code (``"C2521"``), or ``""`` if none can be found.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    m = _CODE_RE.match(text)
    if m:
        return _norm_code(m.group(1), m.group(2))
    m = _DIGITS_RE.match(text)
    if m:
        letter = _section_for(m.group(1))
        return _norm_code(letter, m.group(1)) if letter else ""
    table = _packaged() if profiles is None else profiles
    return _parse_name(text, _name_index_cached(table))


_INDEX_CACHE: dict[int, tuple[pd.DataFrame, list[tuple[str, str, bool]]]] = {}


def _name_index_cached(table: pd.DataFrame) -> list[tuple[str, str, bool]]:
    key = id(table)
    hit = _INDEX_CACHE.get(key)
    if hit is not None and hit[0] is table:
        return hit[1]
    idx = _name_index(table)
    _INDEX_CACHE.clear()
    _INDEX_CACHE[key] = (table, idx)
    return idx


def profile_for(codes: Iterable[Any], *, profiles: pd.DataFrame | None = None) -> pd.DataFrame:
    """Profile rows for industry codes, by longest matching prefix.

    ``C2521`` uses the row ``C2521`` if present, else ``C252``, else ``C25``, else ``C``.
    Values that are not clean codes go through :func:`parse_industry` first.

    Parameters
    ----------
    codes : iterable of str
        One per enterprise.
    profiles : DataFrame, optional
        From :func:`load_industry_profiles`; default the packaged table.

    Returns
    -------
    DataFrame
        One row per input, same order, index 0..n-1; columns ``code`` (parsed),
        ``matched_code`` (``""`` if none), ``odour, noise, dust, water, waste`` (0 for a
        code without a profile, :data:`UNREAD_WEIGHT` when no code could be read at all),
        ``other`` (:data:`OTHER_WEIGHT`), ``reach_m`` (1000 m when unknown),
        ``operating_hours`` (``night_possible`` when unknown), ``known`` (bool).
    """
    table = _packaged() if profiles is None else profiles
    values = list(codes) if not isinstance(codes, str) else [codes]
    lookup = {c: i for i, c in enumerate(table["code"].tolist())}
    weights = table[list(CATEGORIES)].to_numpy(dtype=float)
    reach = table["reach_m"].to_numpy(dtype=float)
    hours = table["operating_hours"].to_numpy(dtype=object)

    n = len(values)
    parsed = np.empty(n, dtype=object)
    matched = np.empty(n, dtype=object)
    row_idx = np.full(n, -1, dtype=int)
    cache: dict[Any, tuple[str, str, int]] = {}
    for i, v in enumerate(values):
        key = v if isinstance(v, str) else repr(v)
        if key not in cache:
            code = parse_industry(v, profiles=table)
            hit, idx = "", -1
            for k in range(len(code), 0, -1):
                if code[:k] in lookup:
                    hit, idx = code[:k], lookup[code[:k]]
                    break
            cache[key] = (code, hit, idx)
        parsed[i], matched[i], row_idx[i] = cache[key]

    known = row_idx >= 0
    w = np.zeros((n, len(CATEGORIES)), dtype=float)
    w[known] = weights[row_idx[known]]
    w[parsed.astype(str) == ""] = UNREAD_WEIGHT
    out = pd.DataFrame(w, columns=list(CATEGORIES))
    out.insert(0, "matched_code", matched.astype(str))
    out.insert(0, "code", parsed.astype(str))
    out["other"] = OTHER_WEIGHT
    out["reach_m"] = np.where(known, reach[np.maximum(row_idx, 0)], UNKNOWN_REACH_M)
    out["operating_hours"] = np.where(known, hours[np.maximum(row_idx, 0)], UNKNOWN_HOURS)
    out["known"] = known
    return out


# legal forms and plant words that end a Chinese enterprise name after the word for what it
# does (longest first): 某某生活垃圾填埋场有限公司 -> 某某生活垃圾填埋场
_LEGAL_FORMS: tuple[str, ...] = (
    "股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "集团公司", "分公司", "公司", "集团",
    "co., ltd.", "co., ltd", "co.,ltd.", "co.,ltd", "co. ltd", "ltd.", "ltd", "inc.", "inc",
    "limited", "company", "corporation", "corp.", "llc",
)


def code_by_name(names: Iterable[Any], codes: Iterable[Any], *, profiles: pd.DataFrame | None = None
                 ) -> list[str]:
    """The industry code to profile each enterprise by, read from what its name says it is.

    A registered code is often coarse or of the operator rather than the plant: a county's
    landfill is registered under 环境卫生管理 (N7820, whose profile is a transfer station's,
    800 m) by the sanitation department that runs it, a slaughterhouse under 农副食品加工业
    (C13). The words just before the legal form (``有限公司``, ``Co., Ltd``) name the plant:
    when they end with an alias of the industry table (``生活垃圾填埋场`` ends with
    ``填埋场``, N7723), the alias's code is used if the registered code is empty or of the
    same section (first letter) and is not the alias's code or a more specific one under it
    (``化工有限公司`` registered C2614 stays C2614: 化工 is C26). Other names keep their
    code. Longest alias first.

    Parameters
    ----------
    names, codes : iterable
        Enterprise names and their parsed GB/T 4754 codes (``""`` when unknown).
    profiles : DataFrame, optional
        Table with ``aliases``; default the packaged one.

    Returns
    -------
    list of str
        One code per enterprise.
    """
    table = _packaged() if profiles is None else profiles
    # aliases by length, longest first; per length the first code in code order
    by_len: dict[int, dict[str, str]] = {}
    for n, c in sorted({(n, c) for n, c, _ in _name_index_cached(table)}, key=lambda t: (-len(t[0]), t[1])):
        if len(n) >= 2:
            by_len.setdefault(len(n), {}).setdefault(n, c)
    aliases = sorted(by_len.items(), key=lambda kv: -kv[0])
    out: list[str] = []
    cache: dict[tuple[str, str], str] = {}
    for name, code in zip(names, codes, strict=True):
        nm = "" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
        cd = "" if code is None or (isinstance(code, float) and np.isnan(code)) else str(code)
        key = (nm, cd)
        if key not in cache:
            cache[key] = _code_by_name(nm, cd, aliases)
        out.append(cache[key])
    return out


def _code_by_name(name: str, code: str, aliases: list[tuple[int, dict[str, str]]]) -> str:
    t = re.sub(r"[\s（）()·\-]+$", "", name.strip().casefold())
    changed = True
    while changed and t:
        changed = False
        for form in _LEGAL_FORMS:
            if t.endswith(form) and len(t) > len(form):
                t = re.sub(r"[\s,，.]+$", "", t[: -len(form)])
                changed = True
                break
    for n, names in aliases:
        alias = t[-n:]
        acode = names.get(alias) if len(t) >= n else None
        if acode is None:
            continue
        if alias.isascii() and len(t) > n and t[-n - 1].isalnum():
            continue  # an English word must end the name as a whole word
        if not code:
            return acode
        if code[0] != acode[0] or code.startswith(acode):
            return code  # another section, or the alias says less than the code
        return acode
    return code
