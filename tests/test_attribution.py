"""Tests of envtrace.attribution on hand-built worlds whose answer is plain geometry."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from envtrace import attribution as at
from envtrace import geo, wind
from envtrace.errors import InputError

TZ = "Asia/Shanghai"
LON0, LAT0 = 117.0, 35.6
CRS = geo.local_crs([LON0], [LAT0])


def fake_profile_for(codes):
    """Chemical plants (C26): odour 1, water 0.5, reach 3 km; plastics (C29): odour 1, water
    0.1; construction (E47): noise 1, reach 300 m."""
    rows = []
    for c in codes:
        if c.startswith("C29"):
            rows.append({"odour": 1.0, "noise": 0.1, "dust": 0.1, "water": 0.1, "waste": 0.2,
                         "reach_m": 3000.0, "operating_hours": "24h", "known": True})
        elif c.startswith("C26"):
            rows.append({"odour": 1.0, "noise": 0.1, "dust": 0.1, "water": 0.5, "waste": 0.2,
                         "reach_m": 3000.0, "operating_hours": "24h", "known": True})
        elif c.startswith("E47"):
            rows.append({"odour": 0.0, "noise": 1.0, "dust": 0.8, "water": 0.0, "waste": 0.2,
                         "reach_m": 300.0, "operating_hours": "day", "known": True})
        else:
            rows.append({"odour": 0.0, "noise": 0.0, "dust": 0.0, "water": 0.0, "waste": 0.0,
                         "reach_m": 1000.0, "operating_hours": "night_possible", "known": False})
    return pd.DataFrame(rows)


def lonlat(x, y):
    return geo.unproject(np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float)), CRS)


def enterprises(extra=()):
    """A: chemical plant 3 km west of the village; B: the same industry 500 m east."""
    rows = [("A", "Alpha Chem", "C2614", -3000.0, 0.0), ("B", "Beta Chem", "C2614", 500.0, 0.0), *extra]
    lon, lat = lonlat([r[3] for r in rows], [r[4] for r in rows])
    return pd.DataFrame({
        "enterprise_id": [r[0] for r in rows], "name": [r[1] for r in rows],
        "industry": [r[2] + " 有机化学原料制造" for r in rows], "industry_code": [r[2] for r in rows],
        "lon": lon, "lat": lat, "status": "operating",
        "closed_on": pd.Series([pd.NaT] * len(rows), dtype=f"datetime64[ns, {TZ}]"),
    })


COMPLAINT_TIMES = ["2025-06-10 20:10", "2025-06-10 20:40", "2025-06-10 21:05", "2025-06-10 21:30",
                   "2025-06-10 22:15", "2025-06-10 22:50"]
XS = np.array([0.0, 200.0, -150.0, 100.0, -50.0, 250.0])
YS = np.array([0.0, 100.0, -200.0, 250.0, 50.0, -100.0])


def complaints(category="odour", times=COMPLAINT_TIMES, xs=XS, ys=YS):
    lon, lat = lonlat(xs, ys)
    n = len(times)
    return pd.DataFrame({
        "complaint_id": [f"c{i}" for i in range(n)],
        "received_at": pd.to_datetime(times).tz_localize(TZ),
        "lon": lon, "lat": lat, "category": category, "channel": "hotline",
        "complainant_key": [f"k{i}" for i in range(n)], "duplicate_of": "", "cluster_id": "E1",
    })


def event_of(comp):
    return pd.DataFrame({
        "cluster_id": ["E1"], "category": [comp["category"].iloc[0]],
        "lon": [comp["lon"].mean()], "lat": [comp["lat"].mean()],
        "start": [comp["received_at"].min()], "end": [comp["received_at"].max()],
    })


def wind_year(*, seed=1, prevailing=None, west_at=COMPLAINT_TIMES):
    """A year of hourly wind, 3 m/s, class D; random directions (or a prevailing one),
    and west wind (270°) in the 6 hours before each complaint time."""
    times = pd.date_range("2025-01-01", periods=365 * 24, freq="h", tz=TZ)
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 360, times.size) if prevailing is None else np.full(times.size, float(prevailing))
    for t in pd.to_datetime(west_at).tz_localize(TZ):
        i = times.get_indexer([t.floor("h")])[0]
        d[i - 6:i + 1] = 270.0
    return pd.DataFrame({"time": times, "wind_dir_deg": d, "wind_speed_ms": 3.0, "station_id": "",
                         "lon": np.nan, "lat": np.nan, "stability": "D"})


def rank(comp, ent, **kw):
    kw.setdefault("profile_for", fake_profile_for)
    kw.setdefault("lang", "en")
    return at.rank_suspects(event_of(comp), comp, ent, **kw)


# --------------------------------------------------------------------------- physics
def meander_sigma_y(x, u):
    """x · tan σθ with σθ² = (12°)² + (0.5 m/s / u)² (radians), as in the module docstring."""
    return x * np.tan(np.sqrt(np.deg2rad(12.0) ** 2 + (0.5 / u) ** 2))


def test_plume_centreline_matches_briggs_with_meander_floor():
    c, inside = at.plume_concentration(0.0, -1000.0, 0.0, 3.0, "D")  # 1 km south of a source, north wind
    sy = max(float(wind.sigma_y(1000.0, "D")), meander_sigma_y(1000.0, 3.0))
    sz = float(wind.sigma_z(1000.0, "D"))
    assert sy == pytest.approx(274.4, abs=0.5)  # σθ = 15.3° at 3 m/s
    assert c == pytest.approx(1.0 / (np.pi * 3.0 * sy * sz), rel=2e-3)
    assert bool(inside)


def test_meander_widens_the_plume_in_light_wind():
    """At 1.5 m/s σθ = 22.6°, at 6 m/s 12.9°: a receptor 30° off the axis at 1 km is in the
    light-wind plume (|y| ≤ 2σy) but not in the strong-wind one."""
    y, x = 1000.0 * np.sin(np.deg2rad(30.0)), 1000.0 * np.cos(np.deg2rad(30.0))
    sz = float(wind.sigma_z(x, "D"))
    for u, inside_expected in ((1.5, True), (6.0, False)):
        c, inside = at.plume_concentration(y, -x, 0.0, u, "D")
        sy = meander_sigma_y(x, u)
        assert c == pytest.approx(np.exp(-0.5 * (y / sy) ** 2) / (np.pi * u * sy * sz), rel=3e-3)
        assert bool(inside) is inside_expected
    assert meander_sigma_y(1.0, 1.5) == pytest.approx(np.tan(np.deg2rad(22.56)), rel=1e-3)
    assert meander_sigma_y(1.0, 6.0) == pytest.approx(np.tan(np.deg2rad(12.92)), rel=1e-3)


def test_long_run_mean_table_equals_the_mean_over_hours():
    """B of step 3 from the speed-class tables equals the plain mean of C over the record
    when the record's speeds are the classes' own speeds and directions fall on the 5° grid."""
    speeds = np.array([1.2, 2.4, 5.5, 13.0])
    dirs = np.array([180.0, 185.0, 170.0, 0.0, 90.0])
    th, u = (a.ravel() for a in np.meshgrid(dirs, speeds, indexing="ij"))
    st = np.full(th.size, 3, dtype=np.int64)
    g = at._WindGroup(th, u, st, np.ones(th.size, dtype=bool))
    at._polar_tables(g)
    r = at._POLAR_R[50]  # a grid distance (about 2.9 km), due north of the source
    direct, _ = at.plume_concentration(0.0, r, th, u, st)
    looked_up = at._polar_lookup(g.b_all, np.array([r]), np.array([0.0]))[0]
    assert looked_up == pytest.approx(direct.mean(), rel=5e-3)


def test_plume_is_zero_upwind_and_falls_off_crosswind():
    c_up, in_up = at.plume_concentration(0.0, 1000.0, 0.0, 3.0, "D")
    assert c_up == 0.0 and not bool(in_up)
    c_axis, _ = at.plume_concentration(0.0, -1000.0, 0.0, 3.0, "D")
    c_off, in_off = at.plume_concentration(600.0, -1000.0, 0.0, 3.0, "D")
    assert 0 < c_off < c_axis
    assert not bool(in_off)  # 600 m > 2 sigma_y (2 x 274 m)


def test_calm_spreads_in_every_direction():
    c, inside = at.plume_concentration([1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0], np.nan, 0.2, "F")
    assert np.allclose(c, c[0]) and c[0] > 0
    assert not inside.any()


def test_lag_prior_decays_and_sums_to_one():
    p = at.lag_prior(6, 1.5)
    assert p.size == 7 and p.sum() == pytest.approx(1.0)
    assert np.all(np.diff(p) < 0)
    assert at.lag_prior(12, 4.0).size == 13


def test_lag_weights_without_a_time_word_are_the_channel_prior():
    p0 = at.lag_prior(6, 1.5)
    w = at.lag_weights(8, 0, p0, max_h=18, trust=0.8)
    assert w.size == 19 and w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(w[:7], p0)
    assert not w[7:].any()


def test_lag_weights_of_an_ongoing_smell_stay_inside_the_window():
    """Received at 23:xx saying 半夜 (21–5 h): lags 0, 1, 2 (23, 22, 21 h) are in the window."""
    p0 = at.lag_prior(6, 1.5)
    night = int(sum(1 << h for h in (21, 22, 23, 0, 1, 2, 3, 4, 5)))
    w = at.lag_weights(23, night, p0, max_h=18, trust=0.8)
    expected = np.zeros(19)
    expected[:3] = 0.8 * p0[:3] / p0[:3].sum()
    expected[:7] += 0.2 * p0
    np.testing.assert_allclose(w, expected)


def test_lag_weights_of_a_night_smell_reported_in_the_morning():
    """Received at 08:xx saying 凌晨 (0–5 h): the smell was 3–8 hours earlier, anywhere in
    that run of hours; the rest of the weight keeps the prior."""
    p0 = at.lag_prior(6, 1.5)
    early = int(sum(1 << h for h in range(6)))
    w = at.lag_weights(8, early, p0, max_h=18, trust=0.8)
    expected = np.zeros(19)
    expected[3:9] = 0.8 / 6
    expected[:7] += 0.2 * p0
    np.testing.assert_allclose(w, expected)
    # out of reach (max 2 h back from 12:00): the prior alone
    np.testing.assert_allclose(at.lag_weights(12, early, p0, max_h=2, trust=0.8),
                               at.lag_prior(6, 1.5)[:3] / at.lag_prior(6, 1.5)[:3].sum())
    # received at 23:00: 凌晨 was 18-23 h back; with max_h = 18 one hour of six is in reach
    w = at.lag_weights(23, early, p0, max_h=18, trust=0.8)
    expected = np.zeros(19)
    expected[18] = 0.8 / 6
    expected[:7] += (1 - 0.8 / 6) * p0
    np.testing.assert_allclose(w, expected)


def test_time_word_agreement_known_answers():
    """Night window 21–5 h and day window 7–18 h; receipt hours 23, 8, 3 and 20.
    Agreement (inside the window or at most 6 h after it): 23 night yes, 8 night yes
    (2 h after 05:59), 3 day no, 20 day yes. Chance: every hour with every window."""
    night = int(sum(1 << h for h in (21, 22, 23, 0, 1, 2, 3, 4, 5)))
    day = int(sum(1 << h for h in range(7, 19)))
    hod = np.array([23, 8, 3, 20])
    masks = np.array([night, night, day, day])
    a, a0 = at.time_word_agreement(hod, masks)
    assert a == pytest.approx(3 / 4)
    # night agrees with 23, 8, 3 (not 20); day agrees with 23 (5 h after 18:59), 8, 20 (not 3)
    assert a0 == pytest.approx((3 + 3) / 8)


def test_time_word_trust_believes_words_that_agree_and_ignores_random_ones():
    rng = np.random.default_rng(5)
    windows = [int(sum(1 << h for h in hs)) for hs in
               ((21, 22, 23, 0, 1, 2, 3, 4, 5), tuple(range(7, 19)), (17, 18, 19, 20, 21))]
    noticed = rng.integers(0, 24, 2000)
    true_mask = np.array([next((m for m in windows if m >> h & 1), windows[0]) for h in noticed])
    hod = np.mod(noticed + rng.integers(0, 3, noticed.size), 24)  # reported 0-2 h later
    right = at.time_word_trust(hod, true_mask, cap=0.8)
    shuffled = at.time_word_trust(hod, rng.permutation(true_mask), cap=0.8)
    assert right == pytest.approx(0.8, abs=0.02)
    assert shuffled < 0.1
    assert at.time_word_trust(hod, np.zeros_like(hod), cap=0.8) == 0.0


def test_a_night_smell_phoned_in_next_morning_is_matched_to_the_night_wind():
    """Six mornings, complaints at 08:xx saying 凌晨 (small hours). The wind blew from A
    (west) from 00:00 to 05:59 and from B (east) from 06:00 to 08:59 on those days. The
    receipt times alone point at B; the texts' time words point at A."""
    times = pd.date_range("2025-01-01", periods=365 * 24, freq="h", tz=TZ)
    d = np.random.default_rng(7).uniform(0, 360, times.size)
    comp_times = [f"2025-06-{day:02d} 08:{m:02d}" for day, m in
                  ((10, 10), (12, 25), (15, 40), (18, 5), (21, 30), (24, 50))]
    for t in pd.to_datetime(comp_times).tz_localize(TZ):
        i = times.get_indexer([t.floor("D")])[0]
        d[i:i + 6] = 270.0  # 00:00-05:59 from A
        d[i + 6:i + 9] = 90.0  # 06:00-08:59 from B
    w = pd.DataFrame({"time": times, "wind_dir_deg": d, "wind_speed_ms": 3.0, "station_id": "",
                      "lon": np.nan, "lat": np.nan, "stability": "D"})
    comp = complaints(times=comp_times)
    comp["text"] = "凌晨两三点闻到很重的化工味，熏得人睡不着"
    with_words = rank(comp, enterprises(), wind=w, n_permutations=0)
    without = rank(comp, enterprises(), wind=w, n_permutations=0,
                   params=at.AttributionParams(time_cue_trust=0.0))
    assert with_words["enterprise_id"].iloc[0] == "A" and with_words["score"].iloc[0] > 0.5
    assert without["enterprise_id"].iloc[0] == "B"
    assert with_words.attrs["info"]["time_words"] == 6


# --------------------------------------------------------------------------- ranking
def test_upwind_far_plant_beats_near_plant_with_small_p():
    r = rank(complaints(), enterprises(), wind=wind_year(), n_permutations=199, seed=3)
    assert list(r.columns) == at.CANDIDATE_COLUMNS
    assert r["enterprise_id"].tolist() == ["A", "B"]
    assert r["rank"].tolist() == [1, 2]
    a = r.iloc[0]
    assert a["score"] > 0.9 and r.iloc[1]["score"] < 0.05
    assert a["p_value"] == pytest.approx(1 / 200)  # no shifted wind year does better
    assert a["distance_m"] == pytest.approx(3000 + XS.mean(), abs=5)  # from the event centre
    assert 265 < a["bearing_deg"] < 275
    assert a["evidence"].startswith("upwind in 100% of complaint hours")
    assert "3.1 km W" in a["evidence"] and "p=0.005" in a["evidence"]
    ratio = float(a["evidence"].split("its air at ")[1].split("×")[0])
    assert ratio > 5  # west wind in every complaint hour vs random directions all year
    assert r.attrs["info"]["wind"] is True


def test_same_seed_same_p_values():
    kw = {"wind": wind_year(), "n_permutations": 99, "seed": 5}
    a = rank(complaints(), enterprises(), **kw)
    b = rank(complaints(), enterprises(), **kw)
    pd.testing.assert_frame_equal(a, b)


def test_prevailing_wind_from_the_plant_is_no_evidence():
    """Wind always from the west: the complaints say nothing about timing (R = 1)."""
    specific = rank(complaints(), enterprises(), wind=wind_year(), n_permutations=99)
    climate = rank(complaints(), enterprises(), wind=wind_year(prevailing=270.0), n_permutations=99)
    a_spec = specific.set_index("enterprise_id").loc["A"]
    a_clim = climate.set_index("enterprise_id").loc["A"]
    assert a_clim["score"] < a_spec["score"] - 0.3
    assert a_clim["p_value"] == 1.0  # every shifted year gives the same statistic
    assert "(100% of all hours)" in a_clim["evidence"]
    # R ≈ 1 (B comes from speed-class tables: the meander of 3.6 m/s for this 3 m/s wind)
    assert 0.85 <= float(a_clim["evidence"].split("its air at ")[1].split("×")[0]) <= 1.15


def _two_source_event():
    """One event, two plants 3 km west (A) and east (B) of the village: 6 complaints after
    west wind (A's air), 6 two days later after east wind (B's air)."""
    east_times = [t.replace("2025-06-10", "2025-06-12") for t in COMPLAINT_TIMES]
    comp = complaints(times=COMPLAINT_TIMES + east_times, xs=np.r_[XS, XS], ys=np.r_[YS, YS])
    wind = wind_year(west_at=COMPLAINT_TIMES)
    wind = wind.set_index("time")
    for t in pd.to_datetime(east_times).tz_localize(TZ):
        wind.loc[t.floor("h") - pd.Timedelta(hours=6):t.floor("h"), "wind_dir_deg"] = 90.0
    ent = enterprises().assign(industry_code=["C2614", "C2614"])
    lon, lat = lonlat([-3000.0, 3000.0], [0.0, 0.0])
    ent["lon"], ent["lat"] = lon, lat
    return comp, wind.reset_index(), ent


def test_an_event_of_two_sources_is_split_and_each_part_names_its_own():
    comp, wind, ent = _two_source_event()
    r = rank(comp, ent, wind=wind, n_permutations=0, split=True)
    split = r.attrs["split"]
    top = r.set_index("rank").loc[1, "enterprise_id"]
    other = "B" if top == "A" else "A"
    moved = set(split.index)
    # exactly the complaints of the other plant's wind leave, as one part
    assert moved == (set(range(6, 12)) if other == "B" else set(range(6)))
    assert set(split) == {1}  # one part leaves: the other plant's
    fixed = r.attrs["fixed"]
    assert set(fixed["prior"]) == {("E1", "A"), ("E1", "B")}
    assert fixed["time_word_trust"] == pytest.approx(r.attrs["info"]["time_word_trust"], abs=5e-4)
    # the parts, ranked with what the first ranking learnt: each names its own plant
    parts = comp.assign(cluster_id=np.where(comp.index.isin(moved), "E2", "E1"))
    ev = pd.concat([event_of(parts[parts.cluster_id == "E1"]),
                    event_of(parts[parts.cluster_id == "E2"]).assign(cluster_id="E2")])
    fixed = {**fixed, "prior": {(c, e): m for (_, e), m in fixed["prior"].items() for c in ("E1", "E2")}}
    r2 = at.rank_suspects(ev, parts, ent, wind=wind, n_permutations=0, lang="en",
                          profile_for=fake_profile_for, fixed=fixed, split=True)
    first = r2[r2["rank"] == 1].set_index("cluster_id")["enterprise_id"]
    assert first["E1"] == top and first["E2"] == other
    assert r2.attrs["split"].empty  # each part holds one source: nothing more to split
    # one source only: nothing to split; and the step switched off
    one = rank(complaints(), ent, wind=wind_year(), n_permutations=0, split=True)
    assert one.attrs["split"].empty
    off = rank(comp, ent, wind=wind, n_permutations=0, params=at.AttributionParams(split_min_gain=0),
               split=True)
    assert off.attrs["split"].empty
    # not asked for (the default of the library function): no proposal, every p-value
    plain = rank(comp, ent, wind=wind, n_permutations=19)
    assert plain.attrs["split"].empty and plain["p_value"].notna().all()
    asked = rank(comp, ent, wind=wind, n_permutations=19, split=True)
    assert asked["p_value"].isna().all()  # its suspects are tested in the parts


def test_an_event_of_three_sources_leaves_in_two_parts_in_one_round():
    """Plants A (3 km west), B (3 km east) and C (3 km north), six complaints after each
    one's wind on three days: the top suspect keeps its six and the other two plants' six
    leave as two parts (numbered 1 and 2) in one round; ``split_max_parts = 2`` without the
    complaints' places lets only one part go (the rule before the fifteenth session)."""
    comp, wind, ent = _two_source_event()
    north = [t.replace("2025-06-10", "2025-06-14") for t in COMPLAINT_TIMES]
    base = comp.iloc[:6]
    third = base.assign(complaint_id=[f"n{i}" for i in range(6)], complainant_key=[f"kn{i}" for i in range(6)],
                        received_at=pd.to_datetime(north).tz_localize(TZ))
    comp = pd.concat([comp, third], ignore_index=True)
    wind = wind.set_index("time")
    for t in pd.to_datetime(north).tz_localize(TZ):
        wind.loc[t.floor("h") - pd.Timedelta(hours=6):t.floor("h"), "wind_dir_deg"] = 0.0
    wind = wind.reset_index()
    ent = pd.concat([ent, enterprises()[:1].assign(enterprise_id="C", name="Gamma Chem")], ignore_index=True)
    ent.loc[2, "lon"], ent.loc[2, "lat"] = (float(v[0]) for v in lonlat([0.0], [3000.0]))
    r = rank(comp, ent, wind=wind, n_permutations=0, split=True)
    top = r.set_index("rank").loc[1, "enterprise_id"]
    own = {"A": set(range(6)), "B": set(range(6, 12)), "C": set(range(12, 18))}
    split = r.attrs["split"]
    assert sorted(set(split)) == [1, 2]
    parts = [set(split.index[split == k]) for k in (1, 2)]
    assert sorted(map(sorted, parts)) == sorted(sorted(own[e]) for e in own if e != top)
    two = rank(comp, ent, wind=wind, n_permutations=0, split=True,
               params=at.AttributionParams(split_max_parts=2, split_reach=False,
                                           split_detach_margin=float("inf")))
    assert set(two.attrs["split"]) == {1}
    assert set(two.attrs["split"].index) in [own[e] for e in own if e != top]
    # with two parts, the third source's six complainants find no part; they stay, as a
    # group (a later round may make them a part): only too few complainants leave alone
    kept = rank(comp, ent, wind=wind, n_permutations=0, split=True,
                params=at.AttributionParams(split_max_parts=2, split_reach=False)).attrs["split"]
    assert set(kept) == {1} and set(kept.index) in [own[e] for e in own if e != top]


def _short_reach_profile(codes):
    """``fake_profile_for`` with restaurants (H62): odour 1, reach 300 m."""
    out = fake_profile_for(list(codes))
    for i, c in enumerate(codes):
        if str(c).startswith("H62"):
            out.loc[i, ["odour", "reach_m", "operating_hours", "known"]] = [1.0, 300.0, "24h", True]
    return out


def test_complaints_at_a_short_reach_source_leave_with_it():
    """Plant A 3 km west of the village, a restaurant R (reach 300 m) 1.5 km east. Six
    complaints in the village after west wind; six at R's door (60–140 m) on a day of north
    wind, which carries neither's air to anyone: the wind says nothing of them, their place
    does — R reaches them far more surely than the event centre 1.6 km away
    (``split_reach``), so they leave with R; without the term they stay with A."""
    north = [t.replace("2025-06-10", "2025-06-11") for t in COMPLAINT_TIMES]
    comp = complaints(times=COMPLAINT_TIMES + north, xs=np.r_[XS, 1500.0 + XS / 3],
                      ys=np.r_[YS, 60.0 + np.abs(YS) / 3])
    wind = wind_year(west_at=COMPLAINT_TIMES).set_index("time")
    for t in pd.to_datetime(north).tz_localize(TZ):
        wind.loc[t.floor("h") - pd.Timedelta(hours=8):t.floor("h"), "wind_dir_deg"] = 0.0
    wind = wind.reset_index()
    ent = enterprises()
    ent["lon"], ent["lat"] = lonlat([-3000.0, 1500.0], [0.0, 0.0])
    ent["industry_code"] = ["C2614", "H621"]
    kw = {"wind": wind, "n_permutations": 0, "split": True, "profile_for": _short_reach_profile}
    r = rank(comp, ent, **kw)
    assert r.set_index("rank").loc[1, "enterprise_id"] == "A"
    assert sorted(r.attrs["split"].index) == list(range(6, 12))
    off = rank(comp, ent, params=at.AttributionParams(split_reach=False), **kw)
    assert off.attrs["split"].empty
    # the same six complaints 700 m from R: no nearer R than the event centre, so they stay
    comp2 = comp.copy()
    comp2.loc[6:, ["lon", "lat"]] = np.column_stack(lonlat(800.0 + XS / 3, 60.0 + np.abs(YS) / 3))
    assert rank(comp2, ent, **kw).attrs["split"].empty


def test_an_event_larger_than_its_wind_sample_is_split_by_the_sample():
    """Twelve complaints, a wind sample of eight: the four outside it follow their nearest
    sampled complaint in space and time, so the parts are the two plants' complaints
    exactly; above ``split_max_members`` the event is left whole."""
    comp, wind, ent = _two_source_event()
    prm = at.AttributionParams(max_complaints_wind=8, split_max_members=12)
    r = rank(comp, ent, wind=wind, n_permutations=0, split=True, params=prm)
    assert r.attrs["info"]["split_events"] == 1
    other = "B" if r.set_index("rank").loc[1, "enterprise_id"] == "A" else "A"
    assert set(r.attrs["split"].index) == (set(range(6, 12)) if other == "B" else set(range(6)))
    whole = rank(comp, ent, wind=wind, n_permutations=0, split=True,
                 params=dataclasses.replace(prm, split_max_members=11))
    assert whole.attrs["split"].empty
    # a part needs three complainants among the scored complaints, not among their
    # followers: with a sample of seven, the seeds that sample one or two of a plant's six
    # complaints leave the event whole (review: 6 moved on the evidence of one)
    small = dataclasses.replace(prm, max_complaints_wind=7)
    seen, detached = set(), set()
    for seed in range(40):
        rec = {}
        orig = at._split_parts

        def spy(cache, *a, orig=orig, rec=rec, **k):
            rec["sampled"] = set(np.unique(cache["comp"]).tolist())
            return orig(cache, *a, **k)

        at._split_parts = spy
        try:
            r7 = rank(comp, ent, wind=wind, n_permutations=0, split=True, params=small, seed=seed)
        finally:
            at._split_parts = orig
        sp = r7.attrs["split"]
        moved = set(sp.index[sp > 0])
        few = min(len(rec["sampled"] & set(range(6))), len(rec["sampled"] & set(range(6, 12))))
        seen.add(few)
        assert (few >= 3) == bool(moved) and (not moved or moved in (set(range(6)), set(range(6, 12))))
        # too few to make a part: the sampled ones leave for no event, their followers stay
        gone = set(sp.index[sp == -1])
        if few < 3:
            minority = min((set(range(6)), set(range(6, 12))), key=lambda g: len(rec["sampled"] & g))
            assert gone <= rec["sampled"] & minority
            detached.add(len(gone))
    assert seen >= {1, 2, 3} and max(detached) >= 1


def test_a_complaint_leaves_its_event_only_if_its_part_keeps_three_complainants():
    """Four calls at A's wind from three people and two at B's wind from two: the two
    leave for no event (B explains them far better, too few for a part of their own). With
    A's four calls from two people, A's part would keep two complainants: nobody leaves."""
    comp, wind, ent = _two_source_event()
    sub = comp.iloc[[0, 1, 2, 3, 6, 7]].copy()
    sub["complainant_key"] = ["p0", "p0", "p1", "p2", "q0", "q1"]
    r = rank(sub, ent, wind=wind, n_permutations=0, split=True)
    assert r.set_index("rank").loc[1, "enterprise_id"] == "A"
    assert dict(r.attrs["split"]) == {6: -1, 7: -1}
    sub.loc[3, "complainant_key"] = "p1"
    assert rank(sub, ent, wind=wind, n_permutations=0, split=True).attrs["split"].empty


def test_one_persons_calls_are_not_split_off_as_an_event():
    """Three calls at B's wind from one complainant (not duplicates: a day later): a part
    needs three complainants, as an event does (review of step 11)."""
    comp, wind, ent = _two_source_event()
    comp = comp.iloc[:9].copy()  # 6 people after west wind, 3 calls after east wind
    three = rank(comp, ent, wind=wind, n_permutations=0, split=True)
    assert sorted(three.attrs["split"].index) == [6, 7, 8]  # three people: their own event
    comp.loc[6:8, "complainant_key"] = "same-person"
    one = rank(comp, ent, wind=wind, n_permutations=0, split=True)
    # no part of one person's calls: they leave the event for none (B's wind, not A's)
    assert dict(one.attrs["split"]) == {6: -1, 7: -1, 8: -1}
    kept = rank(comp, ent, wind=wind, n_permutations=0, split=True,
                params=at.AttributionParams(split_detach_margin=float("inf")))
    assert kept.attrs["split"].empty


def test_complaints_no_plume_reaches_stay_with_the_event():
    """Six complaints after west wind (plant A, 7 km west) and six after a north wind that
    carries neither plant's air: the six say nothing of A or B, so they do not leave with
    B, the nearer plant of the larger prior (the prior counts once, not per complaint)."""
    north = [t.replace("2025-06-10", "2025-06-11") for t in COMPLAINT_TIMES]
    comp = complaints(times=COMPLAINT_TIMES + north, xs=np.r_[XS, XS], ys=np.r_[YS, YS])
    wind = wind_year(west_at=COMPLAINT_TIMES).set_index("time")
    for t in pd.to_datetime(north).tz_localize(TZ):
        wind.loc[t.floor("h") - pd.Timedelta(hours=8):t.floor("h"), "wind_dir_deg"] = 0.0
    ent = enterprises()
    ent["lon"], ent["lat"] = lonlat([-7000.0, 500.0], [0.0, 0.0])
    r = rank(comp, ent, wind=wind.reset_index(), n_permutations=0, split=True)
    assert r.set_index("rank").loc[1, "enterprise_id"] == "A"
    assert r.attrs["split"].empty


def test_odour_words_of_each_complaint_side_with_their_source():
    """Two sources in one place, the same wind evidence: the complaints that say 油烟
    (cooking fumes) side with the restaurant, those that say 垃圾 (garbage) with the
    transfer station (step 11 with the words of each complaint)."""
    F = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])  # restaurant, station, no listed kind
    q = np.array([0.5, 0.5])
    masks = np.array([1, 2, 0, 3])  # food, garbage, none, both
    lr = at._odour_complaint_log_lr(masks, F, q, 0.6)
    # a named kind of j's: (0.6 + 0.4 * 0.5) / 0.5 = 1.6; another kind: 0.4
    assert lr[:, 0] == pytest.approx([np.log(1.6), np.log(0.4), 0.0])
    assert lr[:, 1] == pytest.approx([np.log(0.4), np.log(1.6), 0.0])
    assert (lr[:, 2] == 0).all()  # names no kind
    assert lr[:2, 3] == pytest.approx([np.log(1.0)] * 2)  # both kinds: mean LR (1.6 + 0.4) / 2
    assert (lr[2] == 0).all()  # an industry of unknown smell


def _one_event_cache(s_wind, w):
    """The wind structures of step 11 for one event of ``n`` complaints (positions 0..n-1)
    and two candidates: rows candidate-major, ``term_w = w · s``."""
    s_wind = np.asarray(s_wind, dtype=float)
    n = s_wind.shape[1]
    w_rows = np.tile(np.asarray(w, dtype=float), 2)
    return {"ev": np.zeros(2 * n, dtype=np.int64), "comp": np.tile(np.arange(n), 2),
            "term_w": s_wind.ravel() * w_rows, "w": w_rows, "has_w": np.ones(2 * n, dtype=bool)}


def _split_one_hour(n, n_words, ckey=None):
    """Step 11's inputs for one event of ``n`` complaints received in one hour (weights
    1/n), no wind difference between the two candidates, and the words of the first
    ``n_words`` favouring candidate 1 by 1.5 nats each."""
    cache = _one_event_cache(np.zeros((2, n)), np.full(n, 1.0 / n))
    words = np.zeros((2, n))
    words[1, :n_words] = 1.5
    kw = {"ckey": np.arange(n) if ckey is None else np.asarray(ckey), "words_llr": [words],
          "members": (np.arange(n), np.array([0, n])),
          "xyt": (np.zeros(n), np.zeros(n), np.zeros(n, dtype=np.int64))}
    return cache, kw


def test_words_count_once_per_complainant_in_a_split():
    """Six complaints of one event received in one hour share its wind (weights 1/6) and
    the wind favours neither candidate. Three people's words favour candidate 1 by 1.5 nats
    each. By the hour's weights the part would gain 3 × 1/6 × 1.5 = 0.75 nats, below the
    2 needed; counted once per person (at most three people's worth, as in the ranking)
    it gains 4.5 nats, and the three leave as a part."""
    cache, kw = _split_one_hour(6, 3)
    post, prior, ps = np.array([0.6, 0.4]), np.array([0.5, 0.5]), np.array([0, 2])
    pos, part = at._split_parts(cache, post, prior, ps, at.AttributionParams(), **kw)
    assert pos.tolist() == [0, 1, 2] and part.tolist() == [1, 1, 1]
    off = at.AttributionParams(split_words_per_person=False)
    assert at._split_parts(cache, post, prior, ps, off, **kw)[0].size == 0
    # one person's three calls (not duplicates) weigh one unit: 1.5 nats, no split, and no
    # part of one complainant anyway
    cache1, kw1 = _split_one_hour(6, 3, ckey=[7, 7, 7, 3, 4, 5])
    assert at._split_parts(cache1, post, prior, ps, at.AttributionParams(), **kw1)[0].size == 0
    # seven complaints, four people's words: capped at three people's worth
    # (odour_max_weight), 4.5 nats, where 4 × 1.5 = 6 would pass a gain of 4.6
    cache7, kw7 = _split_one_hour(7, 4)
    for need, moved in ((4.6, []), (4.4, [0, 1, 2, 3])):
        got, _ = at._split_parts(cache7, post, prior, ps, at.AttributionParams(split_min_gain=need), **kw7)
        assert got.tolist() == moved


def test_closed_enterprise_is_never_blamed():
    ent = enterprises()
    ent.loc[0, "status"] = "closed"
    ent.loc[0, "closed_on"] = pd.Timestamp("2025-05-01", tz=TZ)
    r = rank(complaints(), ent, wind=wind_year(), n_permutations=0)
    assert r["enterprise_id"].tolist() == ["B"]
    assert r["p_value"].isna().all()


def test_closed_without_date_is_excluded():
    ent = enterprises()
    ent.loc[0, "status"] = "closed"
    r = rank(complaints(), ent, wind=wind_year(), n_permutations=0)
    assert "A" not in r["enterprise_id"].tolist()


def test_without_wind_evidence_says_so_and_nearest_leads():
    r = rank(complaints(), enterprises(), wind=None)
    assert r["enterprise_id"].tolist() == ["B", "A"]
    assert r["p_value"].isna().all()
    assert r["evidence"].str.startswith("no wind data").all()
    assert r.attrs["info"]["wind"] is False
    zh = rank(complaints(), enterprises(), wind=None, lang="zh")
    assert zh["evidence"].str.startswith("无风向数据").all()
    assert "距离" in zh.iloc[0]["evidence"] and "（东）" in zh.iloc[0]["evidence"]


def test_noise_event_nearest_construction_site_wins():
    extra = (("S1", "Site near", "E4710", 100.0, 50.0), ("S2", "Site far", "E4710", -600.0, 0.0))
    comp = complaints(category="noise")
    r = rank(comp, enterprises(extra), wind=wind_year(), n_permutations=99)
    assert r.iloc[0]["enterprise_id"] == "S1"
    assert r["p_value"].isna().all()  # noise has no wind term
    assert r.iloc[0]["evidence"].startswith("noise event: no wind term")


def test_operating_hours_are_judged_at_the_hour_the_text_names():
    """Noise complaints phoned in at 08:xx about noise 半夜 (at night): the day-shift site
    (E47, 07–19 h) is judged at night, where it should be idle, so a plant working round
    the clock (24 h) at the same distance overtakes it. Without the time words it is judged
    at the hours of the channel's lag prior (08:xx and the 6 h before), mostly its own."""
    def prof(codes):
        out = fake_profile_for(codes)
        hours = np.where([c.startswith("C33") for c in codes], "24h", out["operating_hours"])
        noise = np.where([c.startswith("C33") for c in codes], 1.0, out["noise"])
        return out.assign(operating_hours=hours, noise=noise,
                          reach_m=np.where([c.startswith("C33") for c in codes], 300.0, out["reach_m"]))
    extra = (("S", "Day site", "E4710", 300.0, 0.0), ("M", "Night works", "C3360", -300.0, 0.0))
    times = [f"2025-06-{d:02d} 08:{m:02d}" for d, m in ((10, 5), (11, 20), (12, 35), (13, 50))]
    comp = complaints(category="noise", times=times, xs=XS[:4] * 0, ys=YS[:4] * 0)
    comp["text"] = "半夜施工噪音太大，吵得睡不着"
    ent = enterprises(extra)
    cued = rank(comp, ent, n_permutations=0, profile_for=prof).set_index("enterprise_id")
    plain = rank(comp, ent, n_permutations=0, profile_for=prof,
                 params=at.AttributionParams(time_cue_trust=0.0)).set_index("enterprise_id")
    assert cued.loc["M", "score"] > cued.loc["S", "score"]
    assert plain.loc["S", "score"] > plain.loc["M", "score"]


def test_max_distance_prunes_from_event_centre():
    r = rank(complaints(), enterprises(), wind=wind_year(), n_permutations=0, max_distance_m=1000)
    assert r["enterprise_id"].tolist() == ["B"]


def test_duplicates_and_repeat_calls_are_not_independent_evidence():
    base = rank(complaints(), enterprises(), wind=wind_year(), n_permutations=0)
    # an east-wind-hour report that duplicates c0 must change nothing
    comp = complaints()
    extra = complaints(times=["2025-03-01 10:00"], xs=[0.0], ys=[0.0]).assign(
        complaint_id="d1", duplicate_of="c0", complainant_key="k9")
    # (the same event row: only the complaint table gains the duplicate)
    with_dup = at.rank_suspects(event_of(comp), pd.concat([comp, extra], ignore_index=True), enterprises(),
                                wind=wind_year(), n_permutations=0, profile_for=fake_profile_for, lang="en")
    pd.testing.assert_series_equal(base["score"], with_dup["score"])
    # the same household calling 6 times weighs as one complainant, not six
    one = complaints().assign(complainant_key="k0")
    r_one = rank(one, enterprises(), wind=wind_year(), n_permutations=0)
    assert r_one.iloc[0]["enterprise_id"] == "A"
    assert r_one.iloc[0]["score"] < base.iloc[0]["score"]


def test_complaints_of_one_hour_are_one_observation_of_its_wind():
    """Three households at one place calling in the same hour weigh as one complaint there:
    they share that hour's wind, the one random quantity the timing term tests."""
    one = complaints(times=["2025-06-10 21:05"], xs=[0.0], ys=[0.0])
    three = complaints(times=["2025-06-10 21:05", "2025-06-10 21:20", "2025-06-10 21:50"],
                       xs=[0.0, 0.0, 0.0], ys=[0.0, 0.0, 0.0])
    a = rank(one, enterprises(), wind=wind_year(), n_permutations=0)
    b = rank(three, enterprises(), wind=wind_year(), n_permutations=0)
    pd.testing.assert_series_equal(a["score"], b["score"], rtol=1e-9)
    assert a.iloc[0]["enterprise_id"] == "A"
    half = rank(three, enterprises(), wind=wind_year(), n_permutations=0,
                params=at.AttributionParams(same_hour_exponent=0.5))
    assert half.iloc[0]["score"] > b.iloc[0]["score"]  # √3 complaints' worth


def test_alarms_before_complaints_raise_the_score():
    al = pd.DataFrame({
        "enterprise_id": ["B", "B", "B"],
        "time": pd.to_datetime(["2025-06-10 17:00", "2025-06-10 19:30", "2025-06-10 21:00"]).tz_localize(TZ),
        "pollutant": ["VOCs", "VOCs", "VOCs"], "value": [5.0, 6.0, 7.0], "limit": [2.0, 2.0, 2.0],
    })
    no = rank(complaints(), enterprises(), wind=None).set_index("enterprise_id")
    yes = rank(complaints(), enterprises(), wind=None, alarms=al).set_index("enterprise_id")
    assert yes.loc["B", "score"] > no.loc["B", "score"]
    assert "3 VOCs alarms within 6 h before complaints" in yes.loc["B", "evidence"]
    assert "no alarms within 6 h" in yes.loc["A", "evidence"]
    assert yes.attrs["info"]["alarms"] is True


def test_an_hour_by_hour_burst_of_alarms_is_one_episode():
    """Three hourly alarms of one upset (19:00-21:00 before the complaints) weigh like one
    alarm at 20:00, against a record of the same number of episodes (January, December);
    counted alarm by alarm (``alarm_episode_gap_h = 0``) they weigh more. The evidence
    line counts the alarms."""
    jan = ["2025-01-15 03:00", "2025-12-20 03:00"]

    def alarms(times):
        t = pd.to_datetime(jan + times).tz_localize(TZ)
        return pd.DataFrame({"enterprise_id": "B", "pollutant": "VOCs", "time": t})

    burst = alarms(["2025-06-10 19:00", "2025-06-10 20:00", "2025-06-10 21:00"])
    one = alarms(["2025-06-10 20:00"])
    ep = at._prepare_alarms(burst, np.array(["A", "B"]), episode_gap_h=2.0)
    assert ep is not None and ep[1][1][2].tolist() == [0, 1, 1, 1, 2]
    span_h = (pd.Timestamp("2025-12-20 03:00") - pd.Timestamp("2025-01-15 03:00")) / pd.Timedelta(hours=1)
    assert ep[0][1] == pytest.approx(3 / span_h)  # episodes per hour of the record
    r_burst = rank(complaints(), enterprises(), wind=None, alarms=burst).set_index("enterprise_id")
    r_one = rank(complaints(), enterprises(), wind=None, alarms=one).set_index("enterprise_id")
    assert r_burst.loc["B", "score"] == pytest.approx(r_one.loc["B", "score"], rel=1e-9)
    assert "3 VOCs alarms within 6 h before complaints" in r_burst.loc["B", "evidence"]
    each = rank(complaints(), enterprises(), wind=None, alarms=burst,
                params=at.AttributionParams(alarm_episode_gap_h=0.0)).set_index("enterprise_id")
    assert each.loc["B", "score"] > r_burst.loc["B", "score"]


def test_alarms_count_only_before_complaints_the_plume_reached():
    """With wind, a plant's alarms speak only for complaints its plume reached: C lies
    4 km south of the village while the wind blew from the west before every complaint, so
    C's alarms change nothing; the same alarms at A (3 km west, upwind) raise A's score."""
    ent = enterprises((("C", "Gamma Chem", "C2614", 0.0, -4000.0),))
    wind = wind_year()

    def alarms(who):
        return pd.DataFrame({
            "enterprise_id": [who] * 3, "pollutant": ["VOCs"] * 3,
            "time": pd.to_datetime(["2025-01-15 03:00", "2025-06-10 19:30",
                                    "2025-06-10 21:00"]).tz_localize(TZ)})

    quiet = alarms("C").iloc[:1]  # a monitor with one alarm in January only
    base = rank(complaints(), ent, wind=wind, alarms=quiet, n_permutations=0).set_index("enterprise_id")
    at_c = rank(complaints(), ent, wind=wind, alarms=alarms("C"), n_permutations=0).set_index("enterprise_id")
    assert at_c.loc["C", "score"] == pytest.approx(base.loc["C", "score"], rel=1e-9)
    assert at_c.loc["A", "score"] == pytest.approx(base.loc["A", "score"], rel=1e-9)
    at_a = rank(complaints(), ent, wind=wind, alarms=pd.concat([quiet, alarms("A")]),
                n_permutations=0).set_index("enterprise_id")
    assert at_a.loc["A", "score"] > base.loc["A", "score"]
    # without wind nothing says where the air went: the alarms count for C
    no_wind = rank(complaints(), ent, wind=None, alarms=alarms("C")).set_index("enterprise_id")
    no_wind0 = rank(complaints(), ent, wind=None, alarms=quiet).set_index("enterprise_id")
    assert no_wind.loc["C", "score"] > no_wind0.loc["C", "score"]


def test_emission_strength_prior_is_heavy_tailed():
    """a = w · Φ(-α ln(d/L) / σ_Q): half the weight at the reach, Φ(-1) one σ_Q further."""
    prm = at.AttributionParams()
    w, L = np.array([0.8]), np.array([3000.0])
    d1 = L * np.exp(prm.emission_log_sd / prm.distance_exponent)  # needs e^σ_Q the typical emission
    assert at._plausibility(w, L, L, prm)[0] == pytest.approx(0.4)
    assert at._plausibility(w, d1, L, prm)[0] == pytest.approx(0.8 * 0.158655, rel=1e-5)
    # 5 x the reach still keeps 10 % of the weight, Φ(-1.8 ln 5 / 2.3) (1 / (1 + 25) keeps 4 %)
    assert at._plausibility(w, 5 * L, L, prm)[0] / 0.8 == pytest.approx(0.1039, abs=2e-4)
    old = at.AttributionParams(emission_log_sd=0.0)
    assert at._plausibility(w, 5 * L, L, old)[0] == pytest.approx(0.8 / 26)


def test_alarm_bayes_factor_values():
    prm = at.AttributionParams()  # m = 1 extra alarm, bypass β = 0.5
    assert at._alarm_log_bf(0, 0.1, prm) == pytest.approx(np.log(0.75))
    # n = 1, baseline 0.1: P(1 | source) / P(1 | baseline) = (0.25 + 0.1 · 0.5) / 0.1 = 3
    assert at._alarm_log_bf(1, 0.1, prm) == pytest.approx(np.log(0.5 + 0.5 * 3.0))
    assert at._alarm_log_bf(3, 0.1, prm) > at._alarm_log_bf(1, 0.1, prm) > 0
    old = at.AttributionParams(alarm_extra_mean=0.0)
    assert at._alarm_log_bf(2, 0.5, old) == pytest.approx(np.log(3.0 / 1.5))


def test_monitored_plant_without_alarms_is_slightly_less_suspect():
    """Two identical plants at the same distance; C has a VOCs monitor (an alarm in January),
    D none. No alarm near the complaints: C's score is 0.75 of D's. A monitor of a water
    pollutant (COD) says nothing about the odour of a plant that hardly pollutes water
    (C29: water weight 0.1), but it does for one that causes both strongly (C26: odour 1,
    water 0.5): one process makes both."""
    cx, cy = XS.mean(), YS.mean()

    def plants(code):
        extra = (("C", "Gamma", code, cx - 4000.0, cy), ("D", "Delta", code, cx + 4000.0, cy))
        return enterprises(extra).iloc[2:].reset_index(drop=True)

    def alarms(pollutant):
        return pd.DataFrame({"enterprise_id": ["C"], "pollutant": [pollutant],
                             "time": pd.to_datetime(["2025-01-15 03:00"]).tz_localize(TZ)})

    r = rank(complaints(), plants("C2614"), wind=None, alarms=alarms("VOCs")).set_index("enterprise_id")
    assert r.loc["C", "score"] / r.loc["D", "score"] == pytest.approx(0.75, rel=1e-4)
    r = rank(complaints(), plants("C2614"), wind=None, alarms=alarms("COD")).set_index("enterprise_id")
    assert r.loc["C", "score"] / r.loc["D", "score"] == pytest.approx(0.75, rel=1e-4)
    r = rank(complaints(), plants("C2921"), wind=None, alarms=alarms("COD")).set_index("enterprise_id")
    assert r.loc["C", "score"] == pytest.approx(r.loc["D", "score"], rel=1e-4)


def test_effluent_alarms_count_for_the_odour_of_a_plant_that_causes_both():
    """COD alarms of C in the hours before the complaints: evidence for the odour when C's
    industry causes odour and water pollution strongly (a sewage works' upset), none when
    it hardly pollutes water; ``alarm_shared_weight > 1`` restores the pollutant-only rule."""
    cx, cy = XS.mean(), YS.mean()

    def plants(code):
        extra = (("C", "Gamma", code, cx - 4000.0, cy), ("D", "Delta", code, cx + 4000.0, cy))
        return enterprises(extra).iloc[2:].reset_index(drop=True)

    al = pd.DataFrame({
        "enterprise_id": ["C", "C", "C", "C"], "pollutant": ["COD"] * 4,
        "time": pd.to_datetime(["2025-01-15 03:00", "2025-06-10 18:00", "2025-06-10 19:30",
                                "2025-06-10 21:00"]).tz_localize(TZ)})
    both = rank(complaints(), plants("C2614"), wind=None, alarms=al).set_index("enterprise_id")
    assert both.loc["C", "score"] > 2 * both.loc["D", "score"]
    assert "3 COD alarms within 6 h before complaints" in both.loc["C", "evidence"]
    one = rank(complaints(), plants("C2921"), wind=None, alarms=al).set_index("enterprise_id")
    assert one.loc["C", "score"] == pytest.approx(one.loc["D", "score"], rel=1e-4)
    old = rank(complaints(), plants("C2614"), wind=None, alarms=al,
               params=at.AttributionParams(alarm_shared_weight=2.0)).set_index("enterprise_id")
    assert old.loc["C", "score"] == pytest.approx(old.loc["D", "score"], rel=1e-4)
    assert at._pollutant_relevant("COD", "odour", np.array([0.9, 0.3, 0.0, 0.8, 0.3]))
    assert not at._pollutant_relevant("COD", "odour", np.array([0.9, 0.3, 0.0, 0.4, 0.3]))
    assert not at._pollutant_relevant("COD", "noise", np.array([0.9, 0.3, 0.0, 0.8, 0.3]))
    assert at._pollutant_relevant("VOCs", "odour") and not at._pollutant_relevant("COD", "odour")


def test_alarm_relevance_is_judged_per_category_of_event():
    """The same enterprise's COD alarms count for its odour event (odour 1, water 0.5) but
    not for a noise event traced in the same call (noise weight 0.1): the noise event
    scores as it does when traced alone."""
    cx, cy = XS.mean(), YS.mean()
    extra = (("C", "Gamma", "C2614", cx - 4000.0, cy), ("D", "Delta", "C2614", cx + 4000.0, cy))
    ent = enterprises(extra).iloc[2:].reset_index(drop=True)
    al = pd.DataFrame({"enterprise_id": ["C"] * 3, "pollutant": ["COD"] * 3,
                       "time": pd.to_datetime(["2025-06-10 18:00", "2025-06-10 19:30",
                                               "2025-06-10 21:00"]).tz_localize(TZ)})
    odour = complaints()
    noise = complaints(category="noise").assign(
        complaint_id=lambda d: "n" + d["complaint_id"], cluster_id="E2")
    both = pd.concat([odour, noise], ignore_index=True)
    ev = pd.concat([event_of(odour), event_of(noise).assign(cluster_id="E2")], ignore_index=True)
    r = at.rank_suspects(ev, both, ent, alarms=al, lang="en", profile_for=fake_profile_for)
    alone = at.rank_suspects(event_of(noise).assign(cluster_id="E2"), noise, ent, alarms=al, lang="en",
                             profile_for=fake_profile_for)
    s_odour = r[r.cluster_id == "E1"].set_index("enterprise_id")["score"]
    s_noise = r[r.cluster_id == "E2"].set_index("enterprise_id")["score"]
    assert s_odour["C"] > 2 * s_odour["D"]
    assert s_noise["C"] == pytest.approx(s_noise["D"], rel=1e-4)
    pd.testing.assert_series_equal(s_noise, alone.set_index("enterprise_id")["score"], rtol=1e-9)


def test_no_events_gives_empty_frame_with_columns():
    comp = complaints()
    r = at.rank_suspects(event_of(comp).iloc[:0], comp, enterprises(), profile_for=fake_profile_for)
    assert list(r.columns) == at.CANDIDATE_COLUMNS and len(r) == 0


def test_bad_input_raises_input_error():
    comp = complaints()
    with pytest.raises(InputError):
        at.rank_suspects(event_of(comp), comp.drop(columns="cluster_id"), enterprises(),
                         profile_for=fake_profile_for)
    with pytest.raises(InputError):
        rank(comp, enterprises(), lang="fr")
    with pytest.raises(InputError):
        rank(comp, enterprises(), wind=pd.DataFrame({"time": [pd.Timestamp("2025-01-01", tz=TZ)]}))


def test_hours_mask_spellings():
    assert at._hours_mask("24h").sum() == 24
    assert at._hours_mask("day").sum() == 12
    assert at._hours_mask((22, 4)).sum() == 6
    assert at._hours_mask("8-18")[8] == 1 and at._hours_mask("8-18")[18] == 0


def test_long_run_mean_table_counts_calm_hours_once():
    """Calm hours enter B with their own (sector-average) concentration, not twice it."""
    th = np.array([180.0, 185.0, np.nan, np.nan, 0.0, np.nan])
    u = np.array([2.4, 5.5, 0.2, 0.3, 1.2, np.nan])
    st = np.full(th.size, 5, dtype=np.int64)  # F: calm nights
    g = at._WindGroup(th, u, st, np.ones(th.size, dtype=bool))
    at._polar_tables(g)
    r = at._POLAR_R[30]  # a grid distance, due north of the source
    direct, _ = at.plume_concentration(0.0, r, th, u, st)
    looked_up = at._polar_lookup(g.b_all, np.array([r]), np.array([0.0]))[0]
    assert looked_up == pytest.approx(direct.mean(), rel=5e-3)


def test_sequential_permutation_stop_agrees_with_the_full_test():
    """Besag & Clifford stopping (h = ⌈0.05 · 200⌉ = 10): suspects whose full-run p-value is
    below (1 + h)/200 get exactly the full-run value; the others h / L >= h / 199."""
    extra = tuple((f"X{i}", f"Chem {i}", "C2614", float(x), float(y)) for i, (x, y) in enumerate(
        [(2500.0, 2500.0), (-2000.0, -2500.0), (0.0, 3000.0), (1500.0, -2800.0), (-2800.0, 1500.0)]))
    ent = enterprises(extra)
    # complaints on six random evenings: the west plant A is favoured only on some
    rng = np.random.default_rng(4)
    days = pd.date_range("2025-03-01", periods=200, freq="D")[rng.choice(200, 6, replace=False)]
    times = [str(d.date()) + f" {20 + i % 3}:{10 * i:02d}" for i, d in enumerate(days)]
    comp = complaints(times=times)
    w = wind_year(seed=7, west_at=times[:2])
    kw = {"wind": w, "n_permutations": 199, "seed": 2, "max_distance_m": 5000}
    full = rank(comp, ent, params=at.AttributionParams(perm_stop_alpha=None), **kw)
    seq = rank(comp, ent, **kw)
    pd.testing.assert_frame_equal(full.drop(columns=["p_value", "evidence"]),
                                  seq.drop(columns=["p_value", "evidence"]))
    h = 10
    never = full["p_value"] < (1 + h) / 200 - 1e-12
    np.testing.assert_array_equal(seq["p_value"][never], full["p_value"][never])
    assert (seq["p_value"][~never] >= h / 199 - 1e-12).all()
    assert never.any() and (~never).any()
    with pytest.raises(InputError):
        rank(comp, ent, params=at.AttributionParams(perm_stop_alpha=2.0), **kw)


def test_wind_direction_autocorrelation_known_answers():
    rng = np.random.default_rng(0)
    # random directions held for blocks of 4 hours: ρ(k) = 1 - k/4 for k < 4, then 0
    blocks = rng.uniform(0, 360, 20_000)
    d = np.repeat(blocks, 4)
    rho = at.wind_direction_autocorrelation(d, max_lag_h=8)
    np.testing.assert_allclose(rho[:4], [1.0, 0.75, 0.5, 0.25], atol=0.02)
    assert (rho[5:] == 0).all()
    # hourly independent directions: no memory; a prevailing wind is not memory either
    iid = at.wind_direction_autocorrelation(rng.uniform(0, 360, 50_000), max_lag_h=6)
    assert iid[0] == 1.0 and (iid[1:] < 0.02).all()
    prevailing = 270.0 + rng.normal(0, 20, 50_000)
    assert (at.wind_direction_autocorrelation(prevailing, max_lag_h=6)[1:] < 0.02).all()
    # a constant direction or gaps only: nothing to correlate
    assert at.wind_direction_autocorrelation(np.full(100, 90.0))[1:].sum() == 0
    with_gaps = d.copy()
    with_gaps[::3] = np.nan
    np.testing.assert_allclose(at.wind_direction_autocorrelation(with_gaps, max_lag_h=3)[:3],
                               [1.0, 0.75, 0.5], atol=0.03)


def _hour_weights(hours: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Step 4's definition for one event: ``1 / Σ_h' ρ(|h − h'|)`` over its distinct hours."""
    lag = np.abs(hours[:, None] - hours[None, :])
    return 1.0 / np.where(lag < rho.size, rho[np.minimum(lag, rho.size - 1)], 0.0).sum(axis=1)


def test_hour_weights_share_one_unit_among_correlated_hours():
    """Three events (one complaint an hour, anonymous): hours 10 and 30 (independent), 10
    and 11 (ρ(1) = 0.5: 1 / 1.5 each), 10, 11 and 12 (the middle hour 1 / 2)."""
    rho = np.array([1.0, 0.5, 0.0])
    c_hour = np.array([10, 30, 10, 11, 10, 11, 12])
    used = [np.array([0, 1]), np.array([2, 3]), np.array([4, 5, 6])]
    w = at._complaint_weights(used, np.full(7, -1), c_hour, rho, 1.0)
    np.testing.assert_allclose(w[0], [1.0, 1.0])
    np.testing.assert_allclose(w[1], [1 / 1.5, 1 / 1.5])
    np.testing.assert_allclose(w[2], [1 / 1.5, 1 / 2.0, 1 / 1.5])
    np.testing.assert_allclose(_hour_weights(np.array([10, 11, 12]), rho), w[2])


# --------------------------------------------------------------------------- generated worlds
def _score_world(seed: int, preset: str, root) -> dict[str, float]:
    """top-1, top-3, innocent blame and the naive method's top-1 on one generated world."""
    from envtrace import pipeline, profiles, sample

    d = sample.generate(seed, config=sample.WorldConfig.preset(preset, seed=seed)).write(root / preset)
    r = pipeline.trace(d, n_permutations=0, lang="en", event_params={"n_permutations": 0})
    truth = pd.read_csv(d / "truth" / "complaints.csv", dtype=str, keep_default_na=False)
    comp = r.complaints[["source_row", "cluster_id"]].astype({"source_row": int}).merge(
        truth[["source_row", "source_enterprise_id"]].astype({"source_row": int}), on="source_row")
    cl = comp[comp["cluster_id"] != "-1"]
    src = cl["source_enterprise_id"] != ""
    cand = r.candidates
    top = cand[cand["rank"] == 1].set_index("cluster_id")
    t1 = cl["cluster_id"].map(top["enterprise_id"]).fillna("")
    s1 = cl["cluster_id"].map(top["score"]).fillna(0.0)
    top3 = cand[cand["rank"] <= 3].groupby("cluster_id")["enterprise_id"].agg(set)
    in3 = np.array([s in top3.get(c, set()) for c, s in zip(cl["cluster_id"], cl["source_enterprise_id"], strict=True)])
    ent = r.enterprises
    prof = profiles.profile_for(ent["industry_code"].fillna("").tolist())
    naive = {}
    for _, e in r.events.iterrows():
        ok = (prof[e["category"]].to_numpy() > 0) & (ent["status"].to_numpy() != "closed")
        dist, _ = geo.distance_bearing(e["lon"], e["lat"], ent["lon"].to_numpy(), ent["lat"].to_numpy())
        naive[e["cluster_id"]] = ent["enterprise_id"].to_numpy()[np.argmin(np.where(ok, dist, np.inf))]
    truth_id = cl["source_enterprise_id"]
    return {
        "top1": float((t1[src] == truth_id[src]).mean()),
        "top3": float(in3[src.to_numpy()].mean()),
        "innocent": float(((s1 >= 0.5) & (t1 != "") & (t1 != truth_id)).mean()),
        "naive": float((cl["cluster_id"].map(naive)[src] == truth_id[src]).mean()),
    }


@pytest.mark.slow
def test_generated_worlds_beat_the_naive_method_without_blaming_innocents(tmp_path):
    """Seed 7 (in no evaluation or tuning set), four settings: innocent look-alikes next to
    the homes, reports hours late, GCJ-02/BD-09 input from phones, a valley wind climate.
    Pooled over the four worlds: top-1 at least twice the naive method's (an issue target
    the model meets), the true source among the first three suspects for most complaints,
    and innocent blame near the issue's 5 % (5.05 % in the fourth session; 5.78 % when a
    sewage works' COD alarms began to count for its odour, 4.60 % since alarms count only
    before complaints the plant's plume reached; top-1 0.71 here;
    benchmarks/results/attribution.md), failing if it grows past 6 %."""
    rows = [_score_world(7, p, tmp_path) for p in ("dense_decoys", "long_lag", "mobile", "valley")]
    mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    assert mean["innocent"] <= 0.06, rows
    assert mean["top1"] >= 2 * mean["naive"] and mean["top1"] >= 0.3, rows
    assert mean["top3"] >= 0.6, rows


def test_complaint_weights_of_all_events_at_once_match_event_by_event():
    """The vectorised weights of step 4 equal the per-event definition: repeat callers
    share one unit, one hour's complaints weigh one, distinct hours 1 / Σ ρ(|h − h'|)."""
    rng = np.random.default_rng(11)
    rho = np.array([1.0, 0.6, 0.3, 0.1, 0.0, 0.0, 0.0])
    c_hour = rng.integers(400_000, 400_060, 500)
    ckey = np.where(rng.random(500) < 0.3, -1, rng.integers(0, 40, 500))
    used = [np.sort(rng.choice(500, size=n, replace=False)) for n in (0, 1, 7, 30, 120)]
    got = at._complaint_weights(used, ckey, c_hour, rho, 1.0)
    for mem, w in zip(used, got, strict=True):
        ref = np.ones(mem.size)
        named = ckey[mem] >= 0
        if named.any():
            _, inv, cnt = np.unique(ckey[mem][named], return_inverse=True, return_counts=True)
            ref[named] = 1.0 / cnt[inv]
        if mem.size:
            hrs, hinv, hcnt = np.unique(c_hour[mem], return_inverse=True, return_counts=True)
            ref = ref / hcnt[hinv] * _hour_weights(hrs, rho)[hinv]
        np.testing.assert_allclose(w, ref, rtol=1e-12)


def test_enterprise_without_industry_stays_a_weak_suspect():
    """No industry given: possibly anything (weak prior); a readable code without a nuisance
    profile (K70 real estate) is never a suspect. Real industry profiles."""
    ent = enterprises()
    ent.loc[0, ["industry", "industry_code"]] = ""  # A, upwind at every complaint
    r = at.rank_suspects(event_of(complaints()), complaints(), ent, wind=wind_year(),
                         n_permutations=0, lang="en")
    a = r.set_index("enterprise_id").loc["A"]
    assert a["evidence"].startswith("upwind in 100% of complaint hours")
    assert r.iloc[0]["enterprise_id"] == "A"  # the wind evidence overcomes the weak prior
    ent.loc[0, ["industry", "industry_code"]] = ["K70 房地产业", "K70"]
    r2 = at.rank_suspects(event_of(complaints()), complaints(), ent, wind=wind_year(),
                          n_permutations=0, lang="en")
    assert "A" not in set(r2["enterprise_id"])


# --------------------------------------------------------------------------- helpers at scale
def test_station_groups_rank_stations_by_distance():
    # stations at x = 0, 10 km and unknown; points near each known station
    st_xy = np.array([[0.0, 0.0], [10_000.0, 0.0], [np.nan, np.nan]])
    wd = at._Wind(h0=0, n_hours=1, stations=["s0", "s1", "s2"], st_xy=st_xy,
                  dir=np.zeros((3, 1)), spd=np.zeros((3, 1)), stab=np.zeros((3, 1), dtype=np.int64),
                  valid=np.ones((3, 1), dtype=bool))
    x = np.array([9_000.0, 100.0, 8_000.0, -50.0])
    gkey, groups = at._station_groups(wd, x, np.zeros(4))
    # numbered by first appearance; the unknown station always last
    assert groups == [(1, 0, 2), (0, 1, 2)]
    assert gkey.tolist() == [0, 1, 0, 1]
    one = at._Wind(h0=0, n_hours=1, stations=["s0"], st_xy=st_xy[:1], dir=np.zeros((1, 1)),
                   spd=np.zeros((1, 1)), stab=np.zeros((1, 1), dtype=np.int64),
                   valid=np.ones((1, 1), dtype=bool))
    gkey, groups = at._station_groups(one, x, np.zeros(4))
    assert groups == [(0,)] and gkey.tolist() == [0, 0, 0, 0]


def test_preselect_keeps_the_most_plausible_open_candidates_in_order():
    # one odour event at the origin, first complaint at hour 100; six enterprises on the
    # x axis: weight 1 at 1, 2 and 4 km, weight 0 at 500 m (cannot cause odour), one at
    # 800 m closed at hour 50 (before the event: the nearest of its class, so the search
    # must look one further) and one at 25 km (beyond max_distance)
    prm = at.AttributionParams(max_candidates=2, nearest_candidates=0, max_distance_m=20_000.0)
    ex = np.array([2000.0, 500.0, 1000.0, 800.0, 4000.0, 25_000.0])
    ey = np.zeros(6)
    W = np.zeros((6, len(at.CATEGORIES)))
    W[:, at.CATEGORIES.index("odour")] = [1.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    REACH = np.full_like(W, 3000.0)
    closed = np.array([np.inf, np.inf, np.inf, 50.0, np.inf, np.inf])
    c_hour = np.array([120, 100, 130])
    start, ents, plaus = at._preselect(
        np.array(["odour", "noise"]), np.array([0.0, 0.0]), np.array([0.0, 0.0]),
        members=np.array([0, 1, 2]), bounds=np.array([0, 3, 3]), c_hour=c_hour, ex=ex, ey=ey,
        e_ok=np.ones(6, dtype=bool), W=W, REACH=REACH, closed_h=closed, prm=prm)
    assert start[0] == 100 and np.isnan(start[1])
    assert ents[0].tolist() == [2, 0]  # 1 km, then 2 km; 4 km cut by max_candidates
    np.testing.assert_allclose(plaus[0], at._plausibility(np.ones(2), np.array([1000.0, 2000.0]),
                                                          np.full(2, 3000.0), prm))
    assert ents[1].size == 0  # no enterprise can cause noise
    # without the cap: 4 km joins; blocks of one event give the same answer
    wide = at.AttributionParams(max_candidates=40, nearest_candidates=0, max_distance_m=20_000.0)
    _, ents, _ = at._preselect(np.array(["odour"]), np.zeros(1), np.zeros(1), np.array([0, 1, 2]),
                               np.array([0, 3]), c_hour, ex, ey, np.ones(6, dtype=bool), W, REACH,
                               closed, wide, chunk_cells=1)
    assert ents[0].tolist() == [2, 0, 4]


def test_preselect_keeps_the_nearest_plants_whatever_their_listed_reach():
    # odour event at the origin; three plants of a far-reaching industry (reach 15 km) at
    # 5, 6 and 7 km and a printer (weight 0.6, reach 500 m) 1.5 km away: by plausibility
    # alone the far plants fill the two places, the printer is not examined at all
    ex = np.array([5000.0, 6000.0, 7000.0, -1500.0])
    ey = np.zeros(4)
    W = np.zeros((4, len(at.CATEGORIES)))
    W[:, at.CATEGORIES.index("odour")] = [1.0, 1.0, 1.0, 0.6]
    REACH = np.full_like(W, 15000.0)
    REACH[3] = 500.0
    args = (np.array(["odour"]), np.zeros(1), np.zeros(1), np.array([0]), np.array([0, 1]),
            np.array([100]), ex, ey, np.ones(4, dtype=bool), W, REACH, np.full(4, np.inf))
    by_a = at.AttributionParams(max_candidates=2, nearest_candidates=0)
    _, ents, plaus = at._preselect(*args, by_a)
    assert ents[0].tolist() == [0, 1]
    near = at.AttributionParams(max_candidates=2, nearest_candidates=1)
    _, ents, plaus = at._preselect(*args, near)
    assert ents[0].tolist() == [0, 1, 3]  # the two most plausible, then the nearest
    a3 = at._plausibility(np.array([0.6]), np.array([1500.0]), np.array([500.0]), near)[0]
    assert plaus[0][2] == pytest.approx(a3) and a3 < plaus[0][1]  # its prior is unchanged
    _, ents, _ = at._preselect(*args, at.AttributionParams(max_candidates=3, nearest_candidates=1))
    assert ents[0].tolist() == [0, 1, 2, 3]
    # the nearest that is among the most plausible already takes no extra place: plants of
    # one industry at 1, 2, 3 and 4 km, the nearest is the most plausible
    one = (np.array(["odour"]), np.zeros(1), np.zeros(1), np.array([0]), np.array([0, 1]),
           np.array([100]), np.array([1000.0, 2000.0, 3000.0, 4000.0]), np.zeros(4),
           np.ones(4, dtype=bool), np.tile(W[:1], (4, 1)), np.tile(REACH[:1], (4, 1)),
           np.full(4, np.inf))
    for n_near in (0, 1, 2):
        _, ents, _ = at._preselect(*one, at.AttributionParams(max_candidates=2, nearest_candidates=n_near))
        assert ents[0].tolist() == [0, 1]
    _, ents, _ = at._preselect(np.array(["odour"]), np.zeros(1), np.zeros(1), np.array([0]),
                               np.array([0, 1]), np.array([100]), ex[:3], ey[:3],
                               np.ones(3, dtype=bool), W[:3], REACH[:3], np.full(3, np.inf),
                               at.AttributionParams(max_candidates=2, nearest_candidates=1))
    assert ents[0].tolist() == [0, 1]


def test_a_plant_next_to_the_complaints_is_judged_by_the_wind():
    # A (3 km west, upwind at every complaint) is a printer whose listed reach is 500 m;
    # B and eight plants of a far-reaching industry lie 4-6 km east and north, downwind or
    # across: with the two places going by plausibility A is not even a candidate
    def prof(codes):
        out = fake_profile_for(codes)
        out.loc[[c.startswith("C23") for c in codes], ["odour", "reach_m"]] = [0.6, 500.0]
        return out

    extra = tuple((f"F{i}", f"Far {i}", "C2614", 4000.0 + 250.0 * i, 3000.0 + 300.0 * i)
                  for i in range(8))
    ent = enterprises(extra)
    ent.loc[ent["enterprise_id"] == "A", "industry_code"] = "C23"
    comp = complaints()
    w = wind_year()
    prm0 = at.AttributionParams(max_candidates=2, nearest_candidates=0)
    out0 = rank(comp, ent, wind=w, n_permutations=0, params=prm0, profile_for=prof)
    assert "A" not in out0["enterprise_id"].tolist()
    prm = at.AttributionParams(max_candidates=2, nearest_candidates=2)
    out = rank(comp, ent, wind=w, n_permutations=0, params=prm, profile_for=prof)
    assert out["enterprise_id"].iloc[0] == "A"


def test_plants_in_one_plume_are_flagged_to_inspect_together():
    # A2 sits 150 m north of A, 3 km west of the village: 3° apart, the same plume
    extra = (("A2", "Alpha Two", "C2614", -3000.0, 150.0),)
    r = rank(complaints(), enterprises(extra), wind=wind_year(), n_permutations=0)
    ev = r.set_index("enterprise_id")["evidence"]
    assert "in one plume with A2: the wind cannot tell them apart" in ev["A"]
    assert "in one plume with A:" in ev["A2"]
    assert "in one plume" not in ev["B"]  # east of the village, upwind of nothing
    zh = rank(complaints(), enterprises(extra), wind=wind_year(), n_permutations=0, lang="zh")
    assert "与A2同处一个烟羽方向" in zh.set_index("enterprise_id").loc["A", "evidence"]
    # rows of one event, in rank order: angle and likelihood both decide
    i, j = at._same_plume(np.array([0, 0, 0, 1, 1]), np.array([270.0, 275.0, 300.0, 359.0, 3.0]),
                          np.array([2.0, 1.8, 2.0, 1.0, 1.0 + np.log(3.0)]),
                          np.array([True, True, True, True, True]))
    assert (i.tolist(), j.tolist()) == ([0, 1], [1, 0])  # 300° is 25° off; 3x the LR
    # side by side but the wind says nothing of either (LR_time ~ 1): no plume to share
    i, _ = at._same_plume(np.array([0, 0]), np.array([270.0, 272.0]), np.array([0.1, 0.0]),
                          np.array([True, True]))
    assert i.size == 0
    # a park's plants beyond the reported top_k are counted
    few = rank(complaints(), enterprises(extra), wind=wind_year(), n_permutations=0,
               params=at.AttributionParams(top_k=1))
    assert few["evidence"].iloc[0].count("in one plume with 1 more candidate:") == 1


# --------------------------------------------------------------------------- step 7b
def actions_frame(rows):
    """``(date, action, enterprise_id)`` rows as read by :func:`envtrace.io.read_actions`."""
    return pd.DataFrame({
        "date": pd.to_datetime([r[0] for r in rows]).tz_localize(TZ),
        "action": [r[1] for r in rows], "complaint_id": "", "enterprise_id": [r[2] for r in rows],
    })


def twins_enterprises():
    """T1 and T2: the same industry, 1 km north and 1 km south of the village: a tie on
    distance and industry, and no wind (so the tie is exact)."""
    rows = [("T1", "Twin one", "C2614", 0.0, 1000.0), ("T2", "Twin two", "C2614", 0.0, -1000.0)]
    lon, lat = lonlat([r[3] for r in rows], [r[4] for r in rows])
    return pd.DataFrame({
        "enterprise_id": [r[0] for r in rows], "name": [r[1] for r in rows],
        "industry": "C2614", "industry_code": "C2614", "lon": lon, "lat": lat, "status": "operating",
    })


def test_enforcement_finding_on_a_short_list_of_firms():
    """T1 was fined a month before the complaints. Two enterprises, one with a finding:
    the base rate's Beta(1, 49) prior keeps b = (1 + 1) / (2 + 50) small, so with r = 0.1
    T1's odds against its twin are (r / b) / ((1 - r) / (1 - b)) = 2.6 / (0.9 · 52 / 50)."""
    comp = complaints(xs=np.zeros(6), ys=np.zeros(6))
    ent = twins_enterprises()
    prm = at.AttributionParams(eb_iterations=0)
    acts = actions_frame([("2025-05-10", "penalty_case", "T1")])
    r = rank(comp, ent, wind=None, actions=acts, params=prm).set_index("enterprise_id")
    base = rank(comp, ent, wind=None, params=prm).set_index("enterprise_id")
    assert base.loc["T1", "score"] == pytest.approx(base.loc["T2", "score"])
    odds = r.loc["T1", "score"] / r.loc["T2", "score"]
    assert odds == pytest.approx((0.1 / (2 / 52)) / (0.9 / (50 / 52)))
    assert r.attrs["info"]["history"] is True


def test_enforcement_finding_of_a_rare_violator_makes_it_the_suspect():
    """Among 20 enterprises one has a penalty case before the event: b = 2/70, r = 0.1,
    so its odds against its twin are (0.1 / (2/70)) / (0.9 / (68/70)) = 3.8; a finding
    after the event started, or an inspection, changes nothing."""
    comp = complaints(xs=np.zeros(6), ys=np.zeros(6))
    ent = twenty_enterprises()
    prm = at.AttributionParams(eb_iterations=0)
    acts = actions_frame([("2025-05-10", "penalty_case", "T2"), ("2025-05-12", "inspection", "T1")])
    r = rank(comp, ent, wind=None, actions=acts, params=prm).set_index("enterprise_id")
    assert r.index[0] == "T2"
    assert r.loc["T2", "score"] / r.loc["T1", "score"] == pytest.approx((0.1 / (2 / 70)) / (0.9 / (68 / 70)))
    assert "earlier finding: penalty case 2025-05-10" in r.loc["T2", "evidence"]
    assert "earlier finding" not in r.loc["T1", "evidence"]
    zh = rank(comp, ent, wind=None, actions=acts, params=prm, lang="zh").set_index("enterprise_id")
    assert "此前执法记录：2025-05-10立案查处" in zh.loc["T2", "evidence"]
    # the same finding on the day of the first complaint (10 June) or later: no effect
    for day in ("2025-06-10", "2025-06-11"):
        late = rank(comp, ent, wind=None, params=prm,
                    actions=actions_frame([(day, "penalty_case", "T2")])).set_index("enterprise_id")
        assert late.loc["T1", "score"] == pytest.approx(late.loc["T2", "score"])
    # older than the window (365 days): no effect
    old = rank(comp, ent, wind=None, params=prm,
               actions=actions_frame([("2024-05-01", "penalty_case", "T2")])).set_index("enterprise_id")
    assert old.loc["T1", "score"] == pytest.approx(old.loc["T2", "score"])
    off = rank(comp, ent, wind=None, actions=acts,
               params=at.AttributionParams(eb_iterations=0, history_recall=0.0))
    assert off.attrs["info"]["history"] is False
    assert off["score"].iloc[0] == pytest.approx(off["score"].iloc[1])


def test_prepare_findings_counts_findings_only():
    acts = actions_frame([("2025-05-10", "penalty_case", "T2"), ("2025-05-12", "inspection", "T1"),
                          ("2025-05-13", "rectified", "T3"), ("2025-05-14", "police_transfer", "X"),
                          ("2025-05-15", "verified", "T1")])
    f = at._prepare_findings(acts, np.array(["T1", "T2", "T3"]), TZ)
    assert list(f.table) == [1]  # inspections, rectifications and verifications are no findings
    assert f.table[1][1].tolist() == ["penalty_case"]
    assert f.table[1][2].tolist() == ["2025-05-10"]
    assert f.table[1][0].tolist() == [(pd.Timestamp("2025-05-10") - pd.Timestamp("1970-01-01")).days]
    assert f.n_enterprises == 3
    assert at._prepare_findings(None, np.array(["T1"]), TZ) is None
    assert at._prepare_findings(acts.iloc[:0], np.array(["T1"]), TZ) is None
    only_inspections = at._prepare_findings(acts.iloc[[1]], np.array(["T1", "T2"]), TZ)
    assert only_inspections.table == {} and only_inspections.n_enterprises == 2
    two = at._prepare_findings(actions_frame([("2025-05-12", "penalty_case", "T2"), ("2025-05-10", "police_transfer", "T1"),
                                              ("2025-05-01", "penalty_case", "T2")]), np.array(["T1", "T2"]), TZ)
    assert sorted(two.table) == [0, 1] and two.table[1][2].tolist() == ["2025-05-01", "2025-05-12"]
    with pytest.raises(InputError):
        at._prepare_findings(acts.drop(columns="action"), np.array(["T1"]), TZ)


def twenty_enterprises():
    far = [(f"F{i}", f"Far {i}", "K70", 5000.0 + 100 * i, 0.0) for i in range(18)]  # no odour profile
    lon, lat = lonlat([r[3] for r in far], [r[4] for r in far])
    return pd.concat([twins_enterprises(), pd.DataFrame({
        "enterprise_id": [r[0] for r in far], "name": [r[1] for r in far], "industry": "K70",
        "industry_code": "K70", "lon": lon, "lat": lat, "status": "operating"})], ignore_index=True)


def test_base_rate_counts_findings_of_the_same_window_only():
    """Nine other firms penalised after the event, or years before it, do not make findings
    look common: T2's odds against T1 stay (0.1 / (2/70)) / (0.9 / (68/70))."""
    comp = complaints(xs=np.zeros(6), ys=np.zeros(6))
    prm = at.AttributionParams(eb_iterations=0)
    expected = (0.1 / (2 / 70)) / (0.9 / (68 / 70))
    for when in ("2025-09-01", "2021-03-01"):
        acts = actions_frame([("2025-05-10", "penalty_case", "T2")]
                             + [(when, "penalty_case", f"F{i}") for i in range(9)])
        r = rank(comp, twenty_enterprises(), wind=None, actions=acts, params=prm).set_index("enterprise_id")
        assert r.loc["T2", "score"] / r.loc["T1", "score"] == pytest.approx(expected), when
    # nine others fined in the same window: b = 11/70 > r, so a finding is no longer evidence for
    acts = actions_frame([("2025-05-10", "penalty_case", "T2")]
                         + [("2025-04-01", "penalty_case", f"F{i}") for i in range(9)])
    r = rank(comp, twenty_enterprises(), wind=None, actions=acts, params=prm).set_index("enterprise_id")
    assert r.loc["T2", "score"] / r.loc["T1", "score"] == pytest.approx((0.1 / (11 / 70)) / (0.9 / (59 / 70)))


@pytest.mark.parametrize("tz, complaint, finding, counted", [
    ("America/New_York", "2025-11-02 23:30", "2025-11-02", False),  # a 25-hour day: same day
    ("America/New_York", "2025-03-10 00:30", "2025-03-09", True),  # a 23-hour day: the day before
    ("America/New_York", "2025-06-10 21:00", "2025-06-10", False),
    ("Asia/Shanghai", "2025-06-10 07:00", "2025-06-09", True),
])
@pytest.mark.parametrize("as_text", [False, True])
def test_finding_window_uses_the_local_calendar(tz, complaint, finding, counted, as_text):
    """A finding counts when its date is before the day of the first complaint, in the
    complaints' zone, whether the dates come zoned or as plain date strings."""
    comp = complaints(times=[complaint] * 3, xs=np.zeros(3), ys=np.zeros(3))
    comp["received_at"] = pd.to_datetime([complaint] * 3).tz_localize(tz)
    date = finding if as_text else pd.Timestamp(finding, tz=tz)
    acts = pd.DataFrame({"date": [date], "action": ["penalty_case"], "enterprise_id": ["T2"]})
    r = rank(comp, twenty_enterprises(), wind=None, actions=acts,
             params=at.AttributionParams(eb_iterations=0)).set_index("enterprise_id")
    assert bool(r.loc["T2", "score"] > 1.5 * r.loc["T1", "score"]) == counted
    assert ("earlier finding: penalty case " + finding in r.loc["T2", "evidence"]) is counted


def test_an_empty_actions_record_changes_nothing():
    comp = complaints(xs=np.zeros(6), ys=np.zeros(6))
    none = rank(comp, twenty_enterprises(), wind=None)
    empty = rank(comp, twenty_enterprises(), wind=None, actions=actions_frame([]))
    assert empty.attrs["info"]["history"] is False
    assert np.allclose(empty["score"], none["score"])


# --------------------------------------------------------------------------- step 3, γ
@pytest.mark.parametrize("gamma", [1.0, 0.5, 0.3])
def test_long_run_mean_response_table_equals_the_mean_over_hours(gamma):
    """With γ the table holds the mean of C^γ over the record (speeds on the class speeds,
    directions on the 5° grid, two stabilities)."""
    speeds = np.array([1.2, 2.4, 5.5, 13.0])
    dirs = np.array([180.0, 185.0, 170.0, 0.0, 90.0])
    th, u = (a.ravel() for a in np.meshgrid(dirs, speeds, indexing="ij"))
    th, u = np.r_[th, th], np.r_[u, u]
    st = np.r_[np.full(th.size // 2, 3), np.full(th.size // 2, 5)].astype(np.int64)
    g = at._WindGroup(th, u, st, np.ones(th.size, dtype=bool))
    at._polar_tables(g, gamma=gamma)
    r = at._POLAR_R[50]
    direct, _ = at.plume_concentration(0.0, r, th, u, st)
    looked_up = at._polar_lookup(g.b_all, np.array([r]), np.array([0.0]))[0]
    assert looked_up == pytest.approx((direct ** gamma).mean(), rel=5e-3)


def test_hour_weights_weigh_the_long_run_mean():
    """Two hours, one blowing at the receptor and one away: with weights 3 and 1 the mean
    is 3/4 of the downwind hour's value, not 1/2."""
    th = np.array([180.0, 0.0])
    u = np.array([2.4, 2.4])
    st = np.array([3, 3], dtype=np.int64)
    g = at._WindGroup(th, u, st, np.ones(2, dtype=bool))
    at._polar_tables(g, hour_w=np.array([1.5, 0.5]))
    r = at._POLAR_R[40]
    direct, _ = at.plume_concentration(0.0, r, th, u, st)
    looked_up = at._polar_lookup(g.b_all, np.array([r]), np.array([0.0]))[0]
    assert direct[1] == 0.0
    assert looked_up == pytest.approx(0.75 * direct[0], rel=5e-3)
    # the in-plume share still counts the hours alike
    assert at._polar_lookup(g.table_u, np.array([r]), np.array([0.0]))[0] == pytest.approx(0.5, abs=1e-6)


def test_a_day_shift_plant_is_not_judged_against_stable_nights():
    """A plant east of the village; the wind blows from it in daytime (class B, 3 m/s) on
    the complaint days and from it at night (class F, 1 m/s) on 60 other nights. With
    C proportional to the complaint rate (γ = 1) the stable nights dominate the long-run
    mean and the daytime complaints look like evidence *against* the plant; with γ = 0.5
    (perceived intensity, Stevens' law) they support it."""
    times = pd.date_range("2025-01-01", periods=365 * 24, freq="h", tz=TZ)
    rng = np.random.default_rng(3)
    d = rng.uniform(0, 360, times.size)
    u = np.full(times.size, 3.0)
    st = np.array(["D"] * times.size, dtype=object)
    for day in range(40, 100):  # 60 stable nights with wind from the plant (east, 90°)
        i = day * 24
        d[i:i + 6], u[i:i + 6], st[i:i + 6] = 90.0, 1.0, "F"
    comp_times = ["2025-06-10 10:10", "2025-06-10 11:40", "2025-06-11 10:05", "2025-06-11 14:30",
                  "2025-06-12 09:15", "2025-06-12 15:50"]
    for t in pd.to_datetime(comp_times).tz_localize(TZ):
        i = times.get_indexer([t.floor("h")])[0]
        d[i - 6:i + 1], st[i - 6:i + 1] = 90.0, "B"
    w = pd.DataFrame({"time": times, "wind_dir_deg": d, "wind_speed_ms": u, "station_id": "",
                      "lon": np.nan, "lat": np.nan, "stability": st})
    ent = enterprises()  # A 3 km west, B 500 m east
    comp = complaints(times=comp_times)
    lin = rank(comp, ent, wind=w, n_permutations=0,
               params=at.AttributionParams(response_exponent=1.0)).set_index("enterprise_id")
    sub = rank(comp, ent, wind=w, n_permutations=0).set_index("enterprise_id")
    ratio = {k: float(re.search(r"its air at ([0-9.]+)×", f.loc["B", "evidence"]).group(1))
             for k, f in (("lin", lin), ("sub", sub))}
    assert ratio["lin"] < 1.0 < ratio["sub"]
    assert lin.loc["B", "score"] < 0.5 < sub.loc["B", "score"]
    assert sub.index[0] == "B"


def test_complaint_hour_weights_follow_the_local_hour_profile():
    """48 complaints at 10:00 Shanghai time (02:00 UTC): hour 10 weighs 2/4 of the counts
    after the [1, 2, 1] smoothing, hours 9 and 11 a quarter, the rest the floor (a tenth of
    the mean); the wind hours are indexed in UTC and mapped to local hours of day."""
    times = pd.date_range("2025-06-01 10:00", periods=48, freq="D", tz=TZ)
    c_hour = at._hour_index(times)
    c_hod = times.hour.to_numpy()
    wd = at._Wind(h0=int(c_hour.min()) - 10, n_hours=48, stations=[""], st_xy=np.full((1, 2), np.nan),
                  dir=np.zeros((1, 48)), spd=np.ones((1, 48)), stab=np.zeros((1, 48), dtype=np.int64),
                  valid=np.ones((1, 48), dtype=bool))
    w = at._complaint_hour_weights(wd, c_hour, c_hod)
    local = np.mod(wd.h0 + np.arange(48) + 8, 24)
    raw = np.full(24, 0.1)
    raw[[9, 10, 11]] = np.array([0.25, 0.5, 0.25]) * 24  # smoothed counts over their mean of 2
    raw = np.maximum(raw, 0.1)
    expected = raw[local] / raw[local].mean()
    assert np.allclose(w, expected)
    assert at._complaint_hour_weights(wd, c_hour[:10], c_hod[:10]) is None  # too few complaints
    sub = rank(complaints(), enterprises(), wind=wind_year(), n_permutations=0,
               params=at.AttributionParams(complaint_hours_baseline=True))
    assert sub.index.size == 2 and sub.iloc[0]["enterprise_id"] == "A"


def test_findings_on_the_complaints_calendar_whatever_the_input_types():
    """The complaints at 07:00 Shanghai time on 10 June; the finding at 2025-06-09 20:00
    UTC is 04:00 on the same Shanghai day, so it does not count, whether ``received_at``
    holds zoned times, UTC times or ISO strings with offsets. A column of action dates
    mixing zones keeps every finding (T2's penalty of 10 May counts)."""
    ent, prm = twenty_enterprises(), at.AttributionParams(eb_iterations=0)
    base = complaints(times=["2025-06-10 07:00"] * 3, xs=np.zeros(3), ys=np.zeros(3))
    acts = pd.DataFrame({"date": [pd.Timestamp("2025-06-09 20:00", tz="UTC")], "action": ["penalty_case"],
                         "enterprise_id": ["T2"]})
    as_text = base.assign(received_at=base["received_at"].dt.strftime("%Y-%m-%dT%H:%M:%S%z").astype(object))
    as_utc = base.assign(received_at=base["received_at"].dt.tz_convert("UTC"))
    for comp in (base, as_text, as_utc):
        r = rank(comp, ent, wind=None, actions=acts, params=prm).set_index("enterprise_id")
        assert r.loc["T2", "score"] == pytest.approx(r.loc["T1", "score"])
    mixed = pd.DataFrame({"date": pd.Series([pd.Timestamp("2025-04-01", tz="UTC"),
                                             pd.Timestamp("2025-05-10", tz=TZ)], dtype=object),
                          "action": "penalty_case", "enterprise_id": ["F0", "T2"]})
    r = rank(complaints(xs=np.zeros(6), ys=np.zeros(6)), ent, wind=None, actions=mixed,
             params=prm).set_index("enterprise_id")
    assert r.loc["T2", "score"] / r.loc["T1", "score"] == pytest.approx((0.1 / (3 / 70)) / (0.9 / (67 / 70)))


def test_a_complaint_without_a_usable_time_is_left_out():
    comp = complaints(xs=np.zeros(6), ys=np.zeros(6))
    bad = comp.iloc[:1].assign(complaint_id="bad", received_at=pd.NaT, cluster_id="-1")
    r = at.rank_suspects(event_of(comp), pd.concat([comp, bad], ignore_index=True), twenty_enterprises(),
                         wind=None, profile_for=fake_profile_for, lang="en")
    ref = rank(comp, twenty_enterprises(), wind=None)
    assert r["enterprise_id"].tolist() == ref["enterprise_id"].tolist()
    assert np.allclose(r["score"], ref["score"])


@pytest.mark.parametrize("tau", [2.0, 30.0, np.inf])
def test_kernel_sums_equal_the_brute_force_sums(tau):
    rng = np.random.default_rng(3)
    t = np.round(rng.uniform(0, 400, 300), 1)  # ties included
    seg = rng.integers(0, 7, 300) * 10
    x = rng.random(300)
    x[rng.random(300) < 0.2] = 0.0
    k = np.exp(-np.abs(t[:, None] - t[None, :]) / tau) * (seg[:, None] == seg[None, :])
    np.testing.assert_allclose(at._KernelSums(t, seg)(x, tau), k @ x, rtol=1e-9, atol=1e-12)
    # a background share 1 - Σ post that rounds below zero counts as zero, never as NaN
    x[:5] = -1e-16
    got = at._KernelSums(t, seg)(x, tau)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, k @ np.maximum(x, 0.0), rtol=1e-9, atol=1e-12)


def _season_case():
    """Odour events of two plants, A (0) and B (1), both candidates of every event: ten summer
    events (days 150-195) that A's plume explains (log LR 5 against 0 for B), then ten
    winter events (days 330-375) that B explains a little better than A (1.3 against 1)."""
    n = 20
    day = np.r_[150 + 5.0 * np.arange(10), 330 + 5.0 * np.arange(10)]
    P_ev = np.repeat(np.arange(n), 2)
    P_ent = np.tile([0, 1], n)
    ll = np.where(np.arange(n) < 10, 1, 0)[:, None] * np.array([5.0, 0.0]) + \
        np.where(np.arange(n) < 10, 0, 1)[:, None] * np.array([1.0, 1.3])
    return day, P_ev, P_ent, ll.reshape(-1), np.arange(0, 2 * n + 1, 2), np.array(["odour"] * n)


def test_a_seasonal_source_is_not_the_suspect_out_of_its_season():
    day, P_ev, P_ent, ll, ps, cat = _season_case()
    a = np.full(ll.size, 0.5)
    glob = at.AttributionParams(triangulation_tau_days=(np.inf,))  # one weight for the record
    post_g, _ = at._triangulate(a, ll, P_ev, P_ent, ps, cat, glob, ev_day=day)
    local = at.AttributionParams(triangulation_tau_days=(7.0, 30.0, np.inf))
    info: dict = {}
    post_l, mult_l = at._triangulate(a, ll, P_ev, P_ent, ps, cat, local, ev_day=day, info=info)
    winter = np.arange(10, 20)
    # globally A's summer weight carries over: it leads the winter events although B's
    # wind evidence is better there; with weights local in time B leads them
    assert (post_g[2 * winter] > post_g[2 * winter + 1]).all()
    assert (post_l[2 * winter + 1] > post_l[2 * winter]).all()
    assert (post_l[2 * np.arange(10)] > post_l[2 * np.arange(10) + 1]).all()  # summer: A
    assert info["triangulation_tau_days"]["odour"] in (7.0, 30.0)
    # the candidates' prior mass per event is kept
    np.testing.assert_allclose(np.add.reduceat(a * mult_l, ps[:-1]), 1.0)


def test_time_scale_by_the_one_standard_error_rule():
    rng = np.random.default_rng(0)
    taus = np.array([7.0, 30.0, np.inf])
    base = rng.normal(0, 1, 100)
    # 30 days beats the whole record by 0.05 nats per event (5 in all) with a paired
    # spread of 0.1 (standard error 1): a real gain, chosen
    d30 = 0.05 + rng.normal(0, 0.1, 100)
    levs = [base + d30 - 0.3, base + d30, base]
    assert at._choose_time_scale(taus, levs) == 1
    # the same mean gain with a spread of 1 per event (standard error 10): noise, the
    # whole record is kept; the order the scales are given in does not matter
    noisy = 0.05 + rng.normal(0, 1.0, 100)
    assert at._choose_time_scale(taus, [base + noisy - 0.3, base + noisy, base]) == 2
    assert at._choose_time_scale(taus[::-1], [base, base + noisy, base + noisy - 0.3]) == 0
    # a single scale, or a best that is the whole record, is returned as it is
    assert at._choose_time_scale(np.array([np.inf]), [base]) == 0
    assert at._choose_time_scale(taus, [base - 1, base - 0.5, base]) == 2


def test_weights_over_the_whole_record_are_the_infinite_time_scale():
    day, P_ev, P_ent, ll, ps, cat = _season_case()
    a = np.linspace(0.2, 0.9, ll.size)
    prm = at.AttributionParams(triangulation_tau_days=(np.inf,))
    post0, m0 = at._triangulate(a, ll, P_ev, P_ent, ps, cat, prm)  # no event times
    post1, m1 = at._triangulate(a, ll, P_ev, P_ent, ps, cat, prm, ev_day=day)
    np.testing.assert_allclose(post1, post0, rtol=1e-12)
    np.testing.assert_allclose(m1, m0, rtol=1e-12)
    # a very long time scale is the same thing, to rounding
    long = at.AttributionParams(triangulation_tau_days=(1e9,))
    post2, _ = at._triangulate(a, ll, P_ev, P_ent, ps, cat, long, ev_day=day)
    np.testing.assert_allclose(post2, post0, rtol=1e-6)


def test_time_scales_must_be_positive():
    for bad in ((0.0, np.inf), (-7.0,), (np.nan,)):
        with pytest.raises(InputError, match="positive"):
            at.AttributionParams(triangulation_tau_days=bad)
    with pytest.raises(InputError, match="not a list of numbers"):
        at.AttributionParams(triangulation_tau_days=("a week",))
    with pytest.raises(InputError, match="nearest_candidates"):
        at.AttributionParams(nearest_candidates=-1)
    assert at.AttributionParams(triangulation_tau_days=[30, float("inf")]).triangulation_tau_days == [30, np.inf]


# --------------------------------------------------------------------------- odour words
def test_odour_word_trust_from_agreement_within_events():
    rng = np.random.default_rng(3)
    fams = np.array([1 << b for b in range(6)], dtype=np.int64)
    # 40 events of 8 complaints: each names its event's family (agree), or one at random
    agree = [np.full(8, fams[i % 6]) for i in range(40)]
    random = [rng.choice(fams, 8) for _ in range(40)]
    mixed = [np.where(rng.random(8) < 0.5, fams[i % 6], rng.choice(fams, 8)) for i in range(40)]
    assert at.odour_word_trust(agree, cap=0.8) == pytest.approx(0.8)
    assert at.odour_word_trust(random, cap=0.8) < 0.15
    # each word right with probability s = 0.5 + 0.5/6 (a random one can hit the family too)
    assert at.odour_word_trust(mixed, cap=1.0) == pytest.approx(0.58, abs=0.08)
    assert at.odour_word_trust([np.zeros(0, dtype=np.int64)], cap=0.8) == 0.0
    assert at.odour_word_trust(agree, cap=0.0) == 0.0


def smell_profile_for(codes):
    """Odour 1, reach 5 km, all day, for a pig farm (A03), a chemical plant (C2614) and a
    paint factory (C264)."""
    return pd.DataFrame([{"odour": 1.0, "noise": 0.0, "dust": 0.0, "water": 0.0, "waste": 0.0,
                          "reach_m": 5000.0, "operating_hours": "24h", "known": True} for _ in codes])


def test_complainants_words_for_the_smell_name_the_farm_behind_the_chemical_plant():
    """Event E1: a pig farm F 3 km west of the village and a chemical plant C 1.2 km west
    lie in one plume (west wind); the complaints say 猪粪味 (pig manure). Event E2, 6 km
    north: its complaints say 油漆味 (paint), west wind again, a paint factory P upwind.
    Without the words the nearer chemical plant leads E1; with them the farm does."""
    comp1 = complaints()
    comp1["text"] = "晚上闻到很重的猪粪味"
    comp2 = complaints(xs=XS, ys=YS + 6000.0)
    comp2["complaint_id"] = [f"d{i}" for i in range(len(comp2))]
    comp2["complainant_key"] = [f"m{i}" for i in range(len(comp2))]
    comp2["cluster_id"] = "E2"
    comp2["text"] = "一股油漆味，刺鼻"
    comp = pd.concat([comp1, comp2], ignore_index=True)
    rows = [("F", "Farm", "A03", -3000.0, 0.0), ("C", "Chem", "C2614", -1200.0, 30.0),
            ("P", "Paint", "C264", -2000.0, 6000.0)]
    lon, lat = lonlat([r[3] for r in rows], [r[4] for r in rows])
    ent = pd.DataFrame({"enterprise_id": [r[0] for r in rows], "name": [r[1] for r in rows],
                        "industry": [r[2] for r in rows], "industry_code": [r[2] for r in rows],
                        "lon": lon, "lat": lat, "status": "operating"})
    ev = pd.concat([event_of(comp1), event_of(comp2).assign(cluster_id="E2")], ignore_index=True)
    kw = {"wind": wind_year(), "n_permutations": 0, "profile_for": smell_profile_for, "lang": "en"}
    words = at.rank_suspects(ev, comp, ent, **kw)
    blind = at.rank_suspects(ev, comp, ent, params=at.AttributionParams(odour_word_trust=0.0), **kw)
    top = words[words["rank"] == 1].set_index("cluster_id")["enterprise_id"]
    top_blind = blind[blind["rank"] == 1].set_index("cluster_id")["enterprise_id"]
    assert top["E1"] == "F" and top_blind["E1"] == "C"
    assert top["E2"] == "P"
    info = words.attrs["info"]
    assert info["odour_words"] == 12 and info["odour_word_trust"] > 0.1
    # the other evidence ranks C first in E1 but cannot tell it from the farm in its plume:
    # the two stand for the source together, and the words fit (odour_fit_margin)
    assert info["odour_lexicon_fit"] == pytest.approx(1.0)
    # with the first suspect alone, E1's words contradict it: the fit is about half way
    first = at.rank_suspects(ev, comp, ent, params=at.AttributionParams(odour_fit_margin=1.0), **kw)
    assert 0.2 < first.attrs["info"]["odour_lexicon_fit"] < 0.6
    farm = words[(words["cluster_id"] == "E1") & (words["enterprise_id"] == "F")]["evidence"].iloc[0]
    chem = words[(words["cluster_id"] == "E1") & (words["enterprise_id"] == "C")]["evidence"].iloc[0]
    assert "complaints name a manure smell (6 of 6 naming one): typical of its industry" in farm
    assert "not typical of its industry" in chem
    # the words of one event alone cannot be seen to agree more than chance: no factor
    one = at.rank_suspects(ev.iloc[:1], comp1, ent, **kw)
    assert one.attrs["info"]["odour_word_trust"] == 0.0
    assert one[one["rank"] == 1]["enterprise_id"].iloc[0] == "C"


def test_odour_lexicon_fit_is_one_when_the_words_name_the_likely_sources_kind_and_zero_when_not():
    # 10 odour events, two candidates each: enterprise 0 (kind bit 0) ranked first by the
    # other evidence, enterprise 1 (kind bit 1) second; q even over 4 kinds
    n_ev = 10
    pair_start = np.arange(0, 2 * n_ev + 1, 2)
    P_ent = np.tile([0, 1], n_ev)
    ent_fam = np.array([1, 2], dtype=np.int64)
    q = np.full(4, 0.25)
    log_post = np.tile([0.0, -2.0], n_ev)
    ev_odour = np.ones(n_ev, dtype=bool)
    w = [np.ones(6)] * n_ev
    right = [np.full(6, 1, dtype=np.int64)] * n_ev  # every complaint names kind 0
    wrong = [np.full(6, 4, dtype=np.int64)] * n_ev  # kind 2: typical of neither
    other = [np.full(6, 2, dtype=np.int64)] * n_ev  # kind 1: the second suspect's
    fit = at.odour_lexicon_fit(right, w, ev_odour, pair_start, P_ent, ent_fam, q, 1.0, log_post)
    assert fit == pytest.approx(1.0)
    assert at.odour_lexicon_fit(wrong, w, ev_odour, pair_start, P_ent, ent_fam, q, 1.0, log_post) == 0.0
    assert at.odour_lexicon_fit(other, w, ev_odour, pair_start, P_ent, ent_fam, q, 1.0, log_post) == 0.0
    # half the events' words fit: about half way (chance is a quarter)
    half = [right[0] if e % 2 else wrong[0] for e in range(n_ev)]
    assert at.odour_lexicon_fit(half, w, ev_odour, pair_start, P_ent, ent_fam, q, 1.0, log_post) == \
        pytest.approx((0.5 - 0.25) / (1.0 - 0.25))


def test_odour_lexicon_fit_takes_suspects_the_other_evidence_cannot_tell_apart_together():
    """As above, the second suspect 2 nats (7.4×) behind the first: with a margin of 20
    both stand for the source, words of either's kind fit (chance: half, the union of two
    of four even kinds), words of neither's do not; 5 nats (148×) behind, only the first."""
    n_ev = 10
    pair_start = np.arange(0, 2 * n_ev + 1, 2)
    P_ent = np.tile([0, 1], n_ev)
    ent_fam = np.array([1, 2], dtype=np.int64)
    q = np.full(4, 0.25)
    ev_odour = np.ones(n_ev, dtype=bool)
    w = [np.ones(6)] * n_ev
    other = [np.full(6, 2, dtype=np.int64)] * n_ev  # kind 1: the second suspect's
    wrong = [np.full(6, 4, dtype=np.int64)] * n_ev  # kind 2: typical of neither
    close, far = np.tile([0.0, -2.0], n_ev), np.tile([0.0, -5.0], n_ev)
    args = (w, ev_odour, pair_start, P_ent, ent_fam, q)
    assert at.odour_lexicon_fit(other, *args, 0.6, close, margin=20.0) == pytest.approx(1.0)
    assert at.odour_lexicon_fit(other, *args, 0.6, close) == 0.0  # margin 1: the first alone
    assert at.odour_lexicon_fit(wrong, *args, 0.6, close, margin=20.0) == 0.0
    assert at.odour_lexicon_fit(other, *args, 0.6, far, margin=20.0) == 0.0
    # 8 of 10 events name the second suspect's kind: (M - M0) / (M1 - M0) with the union's
    # chance M0 = 1/2 and, with s = 1, M1 = 1
    most = [wrong[0] if e % 5 == 0 else other[0] for e in range(n_ev)]
    assert at.odour_lexicon_fit(most, *args, 1.0, close, margin=20.0) == pytest.approx((0.8 - 0.5) / (1.0 - 0.5))


def test_odour_word_terms_follow_the_formula():
    # one odour event, two candidates: j0 of kinds {0} and j1 of kinds {1, 2}; three
    # complaints naming kind 0, kind 0, and kinds {0, 1}; weights 1, 0.5, 1; s = 0.6
    q = np.array([0.5, 0.3, 0.2])
    masks = [np.array([1, 1, 3], dtype=np.int64)]
    w = [np.array([1.0, 0.5, 1.0])]
    log_w, top, _ = at._odour_word_terms(masks, w, np.array([True]), np.array([0, 2]), np.array([0, 1]),
                                         np.array([1, 6], dtype=np.int64), q, 0.6, 2.0)
    s = 0.6

    def lr(f, F):
        return (s * (f in F) / len(F) + (1 - s) * q[f]) / q[f]

    def term(F):
        per = [lr(0, F), lr(0, F), (lr(0, F) + lr(1, F)) / 2]  # the mean over a complaint's kinds
        return min(2.5, 2.0) * np.average(np.log(per), weights=[1.0, 0.5, 1.0])

    np.testing.assert_allclose(log_w, [term({0}), term({1, 2})])
    assert top == [(0, 3, 3, (3, 1, 0))]  # kind 0 named by all three, kind 1 by one
    # an industry of unknown smell: no factor; a kind the base rates never saw is bounded
    # by the quarter spread evenly (q >= 0.25 / n_kinds)
    log_u, _, _ = at._odour_word_terms(masks, w, np.array([True]), np.array([0, 1]), np.array([0]),
                                       np.array([0], dtype=np.int64), q, 0.6, 2.0)
    assert log_u[0] == 0.0


def test_odour_word_trust_counts_each_complainant_once():
    """Each event's words come from one person calling six times: they say nothing about
    how much complainants agree, and the words get no weight."""
    comp1 = complaints()
    comp1["text"] = "晚上闻到很重的猪粪味"
    comp1["complainant_key"] = "k0"
    comp2 = complaints(xs=XS, ys=YS + 6000.0)
    comp2["complaint_id"] = [f"d{i}" for i in range(len(comp2))]
    comp2["complainant_key"] = "m0"
    comp2["cluster_id"] = "E2"
    comp2["text"] = "一股油漆味，刺鼻"
    comp = pd.concat([comp1, comp2], ignore_index=True)
    rows = [("F", "Farm", "A03", -3000.0, 0.0), ("P", "Paint", "C264", -2000.0, 6000.0)]
    lon, lat = lonlat([r[3] for r in rows], [r[4] for r in rows])
    ent = pd.DataFrame({"enterprise_id": [r[0] for r in rows], "name": [r[1] for r in rows],
                        "industry": [r[2] for r in rows], "industry_code": [r[2] for r in rows],
                        "lon": lon, "lat": lat, "status": "operating"})
    ev = pd.concat([event_of(comp1), event_of(comp2).assign(cluster_id="E2")], ignore_index=True)
    r = at.rank_suspects(ev, comp, ent, wind=wind_year(), n_permutations=0,
                         profile_for=smell_profile_for, lang="en")
    assert r.attrs["info"]["odour_words"] == 12 and r.attrs["info"]["odour_word_trust"] == 0.0


def test_odour_word_settings_are_checked():
    for bad in ({"odour_word_trust": 1.0}, {"odour_word_trust": -0.1}, {"odour_max_weight": -3.0}):
        with pytest.raises(InputError):
            at.AttributionParams(**bad)


def test_odour_evidence_names_a_typical_smell_that_is_not_the_most_named():
    from envtrace.classify import odour_lexicon

    kinds = [f.family for f in odour_lexicon()]
    burnt, chem, manure = kinds.index("burnt"), kinds.index("chemical"), kinds.index("manure")
    named = [0] * len(kinds)
    named[burnt], named[chem] = 6, 3
    top = (burnt, 6, 9, tuple(named))
    assert at._odour_evidence(top, 1 << chem, "en") == (
        "complaints name a burnt rubber/plastic smell (6 of 9 naming one): not typical of its "
        "industry (3 name a chemical smell, typical)")
    assert at._odour_evidence(top, 1 << burnt, "en").endswith(": typical of its industry")
    assert at._odour_evidence(top, 1 << manure, "en").endswith(": not typical of its industry")
    assert at._odour_evidence(top, 0, "en") == "complaints name a burnt rubber/plastic smell (6 of 9 naming one)"
    assert at._odour_evidence(top, 1 << chem, "zh") == (
        "投诉描述为焦糊/烧橡胶塑料味（描述气味的9件中6件），与其行业特征不符（另有3件描述为化工/化学品味，相符）")
    assert at._odour_evidence((-1, 0, 0, ()), 1, "en") == ""


# ------------------------------------------------------------- complainants naming a firm
def _twins_named(names_in_text):
    """Complainants at one spot midway between two chemical plants of one industry, 1 km
    west (A) and 1 km east (B), one complaint a day: distance and industry cannot tell the
    plants apart, and each complaint weighs one."""
    ent = enterprises()
    ent["lon"], ent["lat"] = lonlat(np.array([-1000.0, 1000.0]), np.array([0.0, 0.0]))
    ent["name"] = ["阿尔法化工有限公司", "贝塔化工有限公司"]
    n = len(names_in_text)
    times = [str(pd.Timestamp("2025-06-01 20:10") + pd.Timedelta(days=i)) for i in range(n)]
    comp = complaints(times=times, xs=np.zeros(n), ys=np.zeros(n))
    comp["text"] = ["闻到刺鼻的气味。" + t for t in names_in_text]
    return comp, ent


def _names_log_ratio(n_named: int, t: float) -> float:
    """log(score_B / score_A) of step 7d when n_named complaints name B: at the spot midway
    the local salience of each plant is 1/2 at any D, and so is the floor's share (B is
    named in no other event than this one, which is left out); at most three
    complainants' worth."""
    pi = 0.9 * 0.5 + 0.1 * 0.5
    return min(n_named, 3) * np.log1p(t / (1 - t) / pi)


def test_a_firm_the_complainants_name_leads_its_twin():
    # the trust in names is what an earlier ranking of all events learnt (step 7d)
    learnt = {"name_trust": 0.6, "name_scale_m": 1000.0}
    comp, ent = _twins_named(["怀疑是贝塔化工。", "", "估计是贝塔化工厂那边的。", "", "", ""])
    r = rank(comp, ent, wind=None, fixed=learnt)
    assert r["enterprise_id"].tolist() == ["B", "A"]
    s = r.set_index("enterprise_id")["score"]
    assert np.log(s["B"] / s["A"]) == pytest.approx(_names_log_ratio(2, 0.6), rel=1e-9)
    assert "named in 2 complaints" in r.iloc[0]["evidence"]
    assert "named" not in r.iloc[1]["evidence"]
    # the same event with no name: a tie, broken by id; names not believed: the same
    comp0, _ = _twins_named([""] * 6)
    assert rank(comp0, ent, wind=None, fixed=learnt)["enterprise_id"].tolist() == ["A", "B"]
    off = rank(comp, ent, wind=None, fixed={"name_trust": 0.0, "name_scale_m": 1000.0})
    assert off["enterprise_id"].tolist() == ["A", "B"]
    assert "named in 2 complaints" in off.set_index("enterprise_id").loc["B", "evidence"]
    # a text naming two firms at once names neither
    both, _ = _twins_named(["不是阿尔法化工，是贝塔化工。"] * 2 + [""] * 4)
    assert rank(both, ent, wind=None, fixed=learnt)["enterprise_id"].tolist() == ["A", "B"]


def test_names_of_firms_that_cannot_be_the_source_say_nothing():
    learnt = {"name_trust": 0.6, "name_scale_m": 1000.0}
    comp, ent = _twins_named(["怀疑是贝塔化工。"] * 3 + ["是伽马建筑工地吧。"] * 3)
    ent3 = enterprises(extra=[("G", "伽马建筑工程有限公司", "E47", 0.0, 300.0)])
    ent3.loc[:1, ["lon", "lat", "name"]] = ent[["lon", "lat", "name"]].to_numpy()
    with_g = rank(comp, ent3, wind=None, fixed=learnt).set_index("enterprise_id")["score"]
    # a construction site cannot cause odour: its three names change nothing
    only_b, _ = _twins_named(["怀疑是贝塔化工。"] * 3 + [""] * 3)
    plain = rank(only_b, ent3, wind=None, fixed=learnt).set_index("enterprise_id")["score"]
    assert with_g["B"] == pytest.approx(plain["B"], rel=1e-12)
    # B closed before the complaints, or without coordinates: no name of it counts
    silent, _ = _twins_named([""] * 6)
    for change in ({"status": "closed"}, {"lon": np.nan}):
        ent_b = ent.copy()
        for col, val in change.items():
            ent_b.loc[1, col] = val
        r = rank(only_b, ent_b, wind=None, fixed=learnt)
        r0 = rank(silent, ent_b, wind=None, fixed=learnt)
        assert r["enterprise_id"].tolist() == ["A"]
        assert r["score"].iloc[0] == pytest.approx(r0["score"].iloc[0], rel=1e-12)


def test_names_weigh_at_most_a_few_complainants():
    learnt = {"name_trust": 0.9, "name_scale_m": 1000.0}
    for n_named, n in ((2, 6), (6, 6), (24, 24)):
        comp, ent = _twins_named(["贝塔化工又在排。"] * n_named + [""] * (n - n_named))
        s = rank(comp, ent, wind=None, fixed=learnt).set_index("enterprise_id")["score"]
        # three complainants' worth at most (names spread by word of mouth)
        assert np.log(s["B"] / s["A"]) == pytest.approx(_names_log_ratio(n_named, 0.9), rel=1e-9)
    # every candidate loses log(1 + rho) per complainant's worth of names (of anyone) against
    # the background, and the named one gains log(1 + rho / pi) on top
    comp, ent = _twins_named(["贝塔化工又在排。"] * 2 + [""] * 4)
    silent, _ = _twins_named([""] * 6)
    s2 = rank(comp, ent, wind=None, fixed=learnt).set_index("enterprise_id")["score"]
    s0 = rank(silent, ent, wind=None, fixed=learnt).set_index("enterprise_id")["score"]
    bg2, bg0 = 1 - s2.sum(), 1 - s0.sum()
    rho = 0.9 / 0.1
    assert np.log(s2["A"] / bg2) - np.log(s0["A"] / bg0) == pytest.approx(-2 * np.log1p(rho), rel=1e-9)
    assert np.log(s2["B"] / bg2) - np.log(s0["B"] / bg0) == pytest.approx(
        _names_log_ratio(2, 0.9) - 2 * np.log1p(rho), rel=1e-9)


def _name_world(seed, name_source_share, root):
    from envtrace import pipeline, sample

    cfg = dataclasses.replace(sample.WorldConfig.preset("shandong", seed=seed), name_share=0.25,
                              name_source_share=name_source_share)
    d = sample.generate(seed, config=cfg).write(root / f"w{name_source_share}")
    r = pipeline.trace(d, n_permutations=0, lang="en", event_params={"n_permutations": 0})
    return r.candidates.attrs["info"]


@pytest.mark.slow
def test_trust_in_names_is_learnt_and_nearby_names_are_not_believed(tmp_path):
    """Seed 9 (in no evaluation set): when half the names point at the true source the
    learnt trust is near a half (0.4 measured, 189 naming complaints clustered); when every
    complainant names a plant near home (an innocent one as often as not) the names are not
    believed at all (0.0: no trust gains the names' likelihood anything)."""
    right = _name_world(9, 0.5, tmp_path)
    assert right["named"] > 50 and 0.3 <= right["name_trust"] <= 0.7, right
    near = _name_world(9, 0.0, tmp_path)
    assert near["name_trust"] == 0.0, near


def test_one_complainants_habit_of_naming_a_firm_is_one_opinion_in_the_fit():
    """Ten events whose other evidence points at a far plant (F, 3 km) rather than a near one
    (N, 300 m); one complaint of each names F. Ten people naming it: the trust in names is
    learnt; one person naming it in all ten events counts as one name in the fit."""
    n_ev = 10
    W = np.zeros((2, len(at.CATEGORIES)))
    W[:, at.CATEGORIES.index("odour")] = 1.0
    ex, ey = np.array([3000.0, 300.0]), np.array([0.0, 0.0])
    n_c = 3 * n_ev
    cx, cy = np.zeros(n_c), np.zeros(n_c)
    used = [np.arange(3 * e, 3 * e + 3) for e in range(n_ev)]
    w = [np.ones(3) for _ in range(n_ev)]
    named = np.full(n_c, -1)
    named[0::3] = 0
    pair_start = np.arange(0, 2 * n_ev + 1, 2)
    P_ent = np.tile([0, 1], n_ev)
    prov = np.tile([3.0, 0.0], n_ev)  # the evidence without names favours F
    args = (named, np.array(["odour"] * n_ev), used, w, pair_start, np.repeat(np.arange(n_ev), 2), P_ent, W,
            (cx, cy, ex, ey),
            np.ones(2, dtype=bool), np.full(2, np.inf), np.zeros(n_c, dtype=np.int64), prov,
            at.AttributionParams())
    gains = {}
    for label, key in (("ten people", np.arange(n_c)), ("one person", np.zeros(n_c, dtype=np.int64))):
        info: dict = {}
        at._named_terms(*args, info, ckey=key)
        gains[label] = info["name_gain"]
    assert gains["ten people"] > at.AttributionParams().name_min_gain
    assert gains["one person"] == pytest.approx(gains["ten people"] / 10, abs=0.011)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint16])
@pytest.mark.parametrize("size", [1, 7, 1000])
def test_dense_unique_equals_numpy_unique(size: int, dtype: type) -> None:
    rng = np.random.default_rng(size)
    for n in (0, 1, 50, 5000):
        v = rng.integers(0, size, n).astype(dtype)
        u, inv = at._dense_unique(v, size)
        u0, inv0 = np.unique(v, return_inverse=True)
        np.testing.assert_array_equal(u, u0)
        np.testing.assert_array_equal(inv, inv0.ravel())
        assert u.dtype == v.dtype
        np.testing.assert_array_equal(u[inv], v)  # the inverse rebuilds the values
    with pytest.raises(TypeError):
        at._dense_unique(np.array([0.5, 1.0]), 2)  # integers only


def test_an_operating_profile_weighs_the_long_run_mean_of_its_enterprises():
    """Two wind hours, 10:00 and 22:00 Shanghai time: at 10:00 the wind blows at the
    receptor, at 22:00 away from it. A day-shift plant (07–19 h, ε = 0.5: weights 1 and
    0.5) has B = 2/3 of the downwind hour's value; a plant working all hours 1/2 (the
    plain mean, profile 0)."""
    times = pd.DatetimeIndex(["2025-06-01 10:00", "2025-06-01 22:00"]).tz_localize(TZ)
    c_hour = at._hour_index(times)
    wd = at._Wind(h0=int(c_hour[0]), n_hours=13, stations=[""], st_xy=np.full((1, 2), np.nan),
                  dir=np.full((1, 13), np.nan), spd=np.full((1, 13), 2.4),
                  stab=np.full((1, 13), 3, dtype=np.int64), valid=np.zeros((1, 13), dtype=bool))
    wd.dir[0, [0, 12]] = [180.0, 0.0]
    wd.valid[0, [0, 12]] = True
    wd.hod = at._wind_local_hours(wd, c_hour, times.hour.to_numpy())
    assert wd.hod[[0, 12]].tolist() == [10, 22]
    hours = np.stack([at._hours_mask("day"), at._hours_mask("24h")])
    prof = at._operating_profiles(wd, hours, 0.5)
    assert prof[1] == 0 and prof[0] > 0
    assert np.allclose(wd.profiles[prof[0]], np.where(at._hours_mask("day") > 0, 1.0, 0.5))
    r = at._POLAR_R[40]
    direct, _ = at.plume_concentration(0.0, r, np.array([180.0]), np.array([2.4]), np.array([3]))
    day = at._polar_lookup(wd.b_table((0,), int(prof[0])), np.array([r]), np.array([0.0]))[0]
    flat = at._polar_lookup(wd.b_table((0,), 0), np.array([r]), np.array([0.0]))[0]
    assert day == pytest.approx(direct[0] / 1.5, rel=5e-3)
    assert flat == pytest.approx(direct[0] / 2, rel=5e-3)
    # in a ranking: stable nights raise the all-hours mean; a day-shift plant's daytime
    # complaints are judged against its own hours, where they stand out more
    day_times = ["2025-06-10 10:10", "2025-06-11 11:40", "2025-06-12 14:30"]
    comp = complaints(times=day_times, xs=XS[:3], ys=YS[:3])
    w = wind_year(west_at=day_times)
    night = ~pd.DatetimeIndex(w["time"]).hour.isin(range(7, 19))
    w.loc[night, "stability"], w.loc[night, "wind_speed_ms"] = "F", 1.0  # stable nights

    def day_shift(codes):
        return fake_profile_for(codes).assign(operating_hours="day")

    on = rank(comp, enterprises(), wind=w, n_permutations=0, profile_for=day_shift,
              params=at.AttributionParams(activity_baseline=True)).set_index("enterprise_id")
    off = rank(comp, enterprises(), wind=w, n_permutations=0, profile_for=day_shift).set_index("enterprise_id")
    r_on, r_off = (float(re.search(r"its air at ([0-9.]+)×", f.loc["A", "evidence"]).group(1))
                   for f in (on, off))
    assert r_on > r_off


def test_an_enterprise_profiled_by_what_its_name_says_it_is():
    """A landfill 3 km west, registered under 环境卫生管理 (N7820: a transfer station's
    profile, reach 800 m) and named 生活垃圾填埋场: with ``industry_from_name`` it is
    profiled as a landfill (N7723, reach 15 km), ranks higher, and the evidence says why
    (``industry_from_name``, on by default)."""
    from envtrace import profiles

    ent = enterprises().assign(name=["某某生活垃圾填埋场", "Beta Chem"], industry_code=["N7820", "C2614"],
                               industry=["N7820 环境卫生管理", "C2614 有机化学原料制造"])
    kw = {"wind": wind_year(), "n_permutations": 0, "profile_for": profiles.profile_for}
    off = rank(complaints(), ent, params=at.AttributionParams(industry_from_name=False), **kw
               ).set_index("enterprise_id")
    on = rank(complaints(), ent, **kw).set_index("enterprise_id")  # the default
    assert on.loc["A", "score"] > off.loc["A", "score"]
    assert "N7723 Solid waste treatment (by its name; registered N7820)" in on.loc["A", "evidence"]
    assert "registered" not in off.loc["A", "evidence"] and "registered" not in on.loc["B", "evidence"]


def test_the_wind_rose_stretches_the_reach_downwind_and_shrinks_it_upwind():
    """Wind from the west every hour: an event 3 km east of a plant lies where its air
    always goes (ρ > 1, as if nearer), an event 3 km west where it never goes (ρ = 0,
    clipped at 1e-3: as if 47 times farther, (1e3)^(1/1.8)); z moves by -ln ρ / σ_Q."""
    from scipy.special import ndtr

    n = 200
    wd = at._Wind(h0=0, n_hours=n, stations=[""], st_xy=np.full((1, 2), np.nan),
                  dir=np.full((1, n), 270.0), spd=np.full((1, n), 3.0),
                  stab=np.full((1, n), 3, dtype=np.int64), valid=np.ones((1, n), dtype=bool))
    prm = at.AttributionParams()
    W = np.zeros((1, 5))
    W[0, 0] = 0.9  # odour
    REACH = np.full((1, 5), 3000.0)
    ex, ey = np.zeros(1), np.zeros(1)
    vx, vy = np.array([3000.0, -3000.0]), np.zeros(2)  # event 0 east, event 1 west
    base = at._plausibility(np.full(2, 0.9), np.full(2, 3000.0), np.full(2, 3000.0), prm)
    a = at._directional_plausibility(base.copy(), np.array([0, 1]), np.array([0, 0]),
                                     np.array(["odour", "odour"]), W, REACH, (ex, ey, vx, vy), wd, prm)
    b, iso = (at._polar_lookup(t, np.array([3000.0]), np.array([90.0]))[0] for t in wd.mean_tables((0,)))
    rho = b / iso
    assert rho > 5
    assert a[0] == pytest.approx(0.9 * ndtr(np.log(rho) / prm.emission_log_sd), rel=1e-6)
    assert a[1] == pytest.approx(0.9 * ndtr(np.log(1e-3) / prm.emission_log_sd), rel=1e-6)
    assert base[0] == pytest.approx(0.45)
    assert a[0] > base[0] > a[1]
    # noise does not travel with the wind: unchanged
    same = at._directional_plausibility(base.copy(), np.array([0, 1]), np.array([0, 0]),
                                        np.array(["noise", "noise"]), W, REACH, (ex, ey, vx, vy), wd, prm)
    assert np.array_equal(same, base)


def test_a_station_reading_the_wind_turned_is_turned_back_when_asked():
    """The village's complaints came with west wind (270°), but the station read it 30°
    turned (300°) all year: with ``wind_rotation_sd_deg`` the record is turned back by -30°
    (ten events of the plant 3 km west, each in its own week), and the plant leads; the
    default leaves the record as it is."""
    times = [f"2025-{m:02d}-10 20:10" for m in range(1, 11)]
    w = wind_year(west_at=times)
    w["wind_dir_deg"] = np.mod(w["wind_dir_deg"] + 30.0, 360.0)
    comps, evs = [], []
    for k, t in enumerate(times):
        c = complaints(times=[t] * 6)
        c["received_at"] = c["received_at"] + pd.to_timedelta(np.arange(6) * 10, unit="min")
        c["complaint_id"] = [f"c{k}_{i}" for i in range(6)]
        c["complainant_key"] = [f"k{k}_{i}" for i in range(6)]
        c["cluster_id"] = f"E{k}"
        comps.append(c)
        evs.append(event_of(c).assign(cluster_id=f"E{k}"))
    comp, ev = pd.concat(comps, ignore_index=True), pd.concat(evs, ignore_index=True)
    kw = {"wind": w, "n_permutations": 0, "profile_for": fake_profile_for, "lang": "en"}
    turned = at.rank_suspects(ev, comp, enterprises(), params=at.AttributionParams(wind_rotation_sd_deg=15.0), **kw)
    plain = at.rank_suspects(ev, comp, enterprises(), **kw)
    assert turned.attrs["info"]["wind_rotation_deg"] == -30.0
    assert any("turned by -30°" in x for x in turned.attrs["info"]["warnings"])
    assert "wind_rotation_deg" not in plain.attrs["info"]
    top_t = turned[turned["rank"] == 1].set_index("cluster_id")
    top_p = plain[plain["rank"] == 1].set_index("cluster_id")
    assert (top_t["enterprise_id"] == "A").all()
    assert top_t["score"].mean() > top_p.loc[top_t.index, "score"].where(top_p["enterprise_id"] == "A", 0).mean()
    # the parts of split events are ranked with the turn, and hand it on to a next round
    part = at.rank_suspects(ev.iloc[:2], comp[comp["cluster_id"].isin(["E0", "E1"])], enterprises(),
                            fixed={"wind_rotation_deg": -30.0}, **kw)
    assert part.attrs["fixed"]["wind_rotation_deg"] == -30.0
    assert part[part["rank"] == 1]["enterprise_id"].tolist() == ["A", "A"]
    # complaints whose times say nothing of the wind (west wind every hour): no turn,
    # however the candidates' plausibility moves with the wind rose as it turns
    calm = dict(kw, wind=wind_year(prevailing=270.0, west_at=[]))
    none = at.rank_suspects(ev, comp, enterprises((("C", "Gamma Chem", "C2614", 0.0, -2500.0),)),
                            params=at.AttributionParams(wind_rotation_sd_deg=15.0), **calm)
    assert none.attrs["info"]["wind_rotation_deg"] == 0.0


def test_new_attribution_constants_are_checked():
    for bad in ({"alarm_episode_gap_h": float("nan")}, {"alarm_episode_gap_h": -1.0},
                {"odour_fit_margin": 0.5}, {"wind_rotation_step_deg": 0.0},
                {"wind_rotation_sd_deg": -1.0}, {"wind_rotation_events": 0},
                {"wind_rotation_complaints": 0}, {"wind_rotation_max_deg": -10.0}):
        with pytest.raises(InputError):
            at.AttributionParams(**bad)
