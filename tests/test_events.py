"""Tests for envtrace.events and its grid DBSCAN."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial import cKDTree
from sklearn.cluster import DBSCAN
from sklearn.metrics import adjusted_rand_score

from envtrace import _grid_dbscan, geo
from envtrace.errors import InputError
from envtrace.events import (
    SpaceTimeEvents,
    find_events,
    hotspot_trends,
    mann_kendall,
    scan_pvalues,
    spacetime_coordinates,
    spatial_hotspots,
    split_events,
)

T0 = pd.Timestamp("2026-06-01 20:00", tz="Asia/Shanghai")
LON0, LAT0 = 117.0, 36.0
CRS0 = geo.local_crs(LON0, LAT0)  # metres around (LON0, LAT0)


def frame(rows: list[dict]) -> pd.DataFrame:
    """Complaints frame from dicts with x_m, y_m (metres from LON0/LAT0) and h (hours)."""
    out = []
    lon, lat = geo.unproject([r.get("x_m", 0.0) for r in rows], [r.get("y_m", 0.0) for r in rows],
                             CRS0)
    for i, r in enumerate(rows):
        out.append({
            "complaint_id": r.get("id", f"c{i:03d}"),
            "received_at": T0 + pd.Timedelta(hours=r.get("h", 0.0)),
            "lon": float(lon[i]),
            "lat": float(lat[i]),
            "category": r.get("category", "odour"),
            "complainant_key": r.get("key", f"k{i:03d}"),
            "duplicate_of": r.get("dup", ""),
        })
    df = pd.DataFrame(out)
    df["received_at"] = pd.to_datetime(df["received_at"])
    return df


def burst(n: int = 5, *, key=None, category: str = "odour", x0: float = 0.0, h0: float = 0.0,
          prefix: str = "b") -> list[dict]:
    """n complaints within 40 m and 2 hours."""
    return [
        {"id": f"{prefix}{i}", "x_m": x0 + 10.0 * i, "y_m": 0.0, "h": h0 + 0.5 * i,
         "category": category, "key": key if key is not None else f"{prefix}k{i}"}
        for i in range(n)
    ]


PARAMS = {"eps_m": 1000.0, "window_h": 48.0, "min_complainants": 3, "n_permutations": 0}


# ----------------------------------------------------------------- clustering fixtures


def test_burst_and_far_point() -> None:
    df = frame(burst(5) + [{"id": "far", "x_m": 20_000.0, "h": 1.0}])
    labels, events = find_events(df, **PARAMS)
    assert len(events) == 1
    ev = events.iloc[0]
    members = sorted(f"b{i}" for i in range(5))
    expected = "E" + hashlib.sha1("\n".join(members).encode()).hexdigest()[:10]
    assert ev["cluster_id"] == expected
    assert labels.tolist() == [expected] * 5 + ["-1"]
    assert ev["category"] == "odour"
    assert ev["n_complaints"] == 5 and ev["n_complainants"] == 5
    assert ev["start"] == T0 and ev["end"] == T0 + pd.Timedelta(hours=2)
    # centre = mean of x 0..40 m -> 20 m east; radius = 20 m
    assert ev["radius_m"] == pytest.approx(20.0, abs=0.5)
    cx, cy = geo.project(ev["lon"], ev["lat"], CRS0)
    assert float(cx) == pytest.approx(20.0, abs=0.01) and float(cy) == pytest.approx(0.0, abs=0.01)
    assert np.isnan(ev["p_value"])
    # footprint: WGS84 polygon holding every member, hull buffered by 100 m
    assert events.crs.to_epsg() == 4326
    pts = shapely.points(df["lon"].to_numpy()[:5], df["lat"].to_numpy()[:5])
    assert shapely.contains(ev.geometry, pts).all()
    assert not shapely.contains(ev.geometry, shapely.Point(df["lon"].iloc[5], df["lat"].iloc[5]))
    assert labels.index.equals(df.index)


def test_one_complainant_is_no_event() -> None:
    df = frame(burst(5, key="same"))
    labels, events = find_events(df, **PARAMS)
    assert len(events) == 0
    assert (labels == "-1").all()
    # one person is enough when asked for
    _, events1 = find_events(df, **{**PARAMS, "min_complainants": 1})
    assert len(events1) == 1
    assert events1["n_complaints"].iloc[0] == 5 and events1["n_complainants"].iloc[0] == 1


def test_blank_keys_each_count_as_one() -> None:
    df = frame(burst(3, key=""))
    labels, events = find_events(df, **PARAMS)
    assert len(events) == 1 and events["n_complainants"].iloc[0] == 3
    assert (labels != "-1").all()


def test_repeat_callers_count_once_in_core_condition() -> None:
    # two people, one calling three times: 4 complaints but 2 distinct complainants
    rows = burst(4)
    rows[2]["key"] = rows[3]["key"] = rows[1]["key"]
    labels, events = find_events(frame(rows), **PARAMS)
    assert len(events) == 0
    rows.append({"id": "third", "x_m": 5.0, "h": 0.2, "key": "new"})
    labels, events = find_events(frame(rows), **PARAMS)
    assert len(events) == 1 and events["n_complainants"].iloc[0] == 3


def test_duplicates_inherit_and_do_not_count() -> None:
    rows = burst(2) + [
        {"id": "d1", "x_m": 30.0, "h": 0.1, "key": "other1", "dup": "b0"},
        {"id": "d2", "x_m": 5_000.0, "h": 0.1, "key": "other2", "dup": "b1"},
    ]
    labels, events = find_events(frame(rows), **PARAMS)
    assert len(events) == 0  # 2 originals only: duplicates do not make a third person
    rows = burst(3) + [
        {"id": "d1", "x_m": 9_000.0, "h": 200.0, "key": "other", "dup": "b0"},
        {"id": "d2", "x_m": 0.0, "h": 0.0, "dup": "d1"},  # chain d2 -> d1 -> b0
        {"id": "lone", "x_m": 0.0, "h": 0.0, "dup": "not-here"},  # unknown original: a complaint
    ]
    labels, events = find_events(frame(rows), **PARAMS)
    assert len(events) == 1
    eid = events["cluster_id"].iloc[0]
    assert labels.tolist() == [eid] * 6
    # the id comes from the clustered members, duplicates only add to the counts
    members = sorted(["b0", "b1", "b2", "lone"])
    assert eid == "E" + hashlib.sha1("\n".join(members).encode()).hexdigest()[:10]
    assert events["n_complaints"].iloc[0] == 6
    # the far duplicate does not stretch the event
    assert events["radius_m"].iloc[0] < 100


def _sha_id(members: list[str]) -> str:
    return "E" + hashlib.sha1("\n".join(sorted(members)).encode()).hexdigest()[:10]


def test_split_events_makes_two_events_from_their_members() -> None:
    """An event of 6 complaints (a0..a2 at 0-20 m, a3..a5 at 430-450 m, a far duplicate of a4) and a
    second event: moving a3..a5 gives two events with ids from their members, their own
    counts, centres and times, the parent's p-value; the other event is untouched."""
    rows = [{"id": f"a{i}", "x_m": 10.0 * i, "h": 0.5 * i} for i in range(3)]
    rows += [{"id": f"a{i}", "x_m": 400.0 + 10.0 * i, "h": 5.0 + 0.5 * i} for i in range(3, 6)]
    rows += [{"id": "dup", "x_m": 9_000.0, "h": 6.0, "key": "kd", "dup": "a4"}]
    rows += burst(3, x0=30_000.0, h0=300.0, prefix="z")
    df = frame(rows)
    labels, ev = find_events(df, **PARAMS)
    assert len(ev) == 2
    ev = ev.assign(p_value=[0.01, 0.2])
    df = df.assign(cluster_id=labels)
    parent_id, other_id = labels.iloc[0], labels.iloc[-1]
    moved = pd.Series(parent_id, index=df.index[[3, 4, 5]])
    lab2, ev2, parent, _ = split_events(df, ev, moved)
    west, east = _sha_id(["a0", "a1", "a2"]), _sha_id(["a3", "a4", "a5"])
    assert lab2.tolist() == [west] * 3 + [east] * 4 + [other_id] * 3
    assert lab2.index.equals(df.index)
    assert ev2["cluster_id"].tolist() == [west, east, other_id]  # by start
    e2 = ev2.set_index("cluster_id")
    assert e2.loc[west, "n_complaints"] == 3 and e2.loc[east, "n_complaints"] == 4  # + duplicate
    assert e2.loc[east, "start"] == T0 + pd.Timedelta(hours=6.5)
    assert e2.loc[east, "end"] == T0 + pd.Timedelta(hours=7.5)
    cx, _ = geo.project(e2.loc[east, "lon"], e2.loc[east, "lat"], CRS0)
    assert float(cx) == pytest.approx(440.0, abs=0.01)  # the far duplicate does not count
    assert e2.loc[east, "radius_m"] == pytest.approx(10.0, abs=0.1)
    assert e2.loc[west, "p_value"] == e2.loc[east, "p_value"] == 0.01
    assert e2.loc[other_id, "p_value"] == 0.2
    assert e2.loc[other_id, "geometry"].equals(ev.set_index("cluster_id").loc[other_id, "geometry"])
    assert parent.to_dict() == {other_id: other_id, west: parent_id, east: parent_id}
    assert ev2.crs.to_epsg() == 4326
    # nothing moved: all as it was
    lab3, ev3, parent3, _ = split_events(df, ev, pd.Series([], dtype="str"))
    assert lab3.equals(df["cluster_id"].astype("str").rename("cluster_id"))
    assert ev3["cluster_id"].tolist() == ev["cluster_id"].tolist()
    with pytest.raises(InputError):
        split_events(df, ev, pd.Series(parent_id, index=[999]))


def test_split_events_makes_one_event_per_numbered_part() -> None:
    """Nine complaints in three places of one event: part numbers 1 and 2 for the second and
    third places give three events of three complaints, each with its own centre."""
    rows = [{"id": f"a{i}", "x_m": 10.0 * i, "h": 0.5 * i} for i in range(3)]
    rows += [{"id": f"a{i}", "x_m": 200.0 + 10.0 * i, "h": 2.0 + 0.5 * i} for i in range(3, 6)]
    rows += [{"id": f"a{i}", "x_m": 400.0 + 10.0 * i, "h": 4.0 + 0.5 * i} for i in range(6, 9)]
    df = frame(rows)
    labels, ev = find_events(df, **PARAMS)
    assert len(ev) == 1
    df = df.assign(cluster_id=labels)
    moved = pd.Series([1, 1, 1, 2, 2, 2], index=df.index[3:9], dtype="int64")
    lab2, ev2, parent, _ = split_events(df, ev.assign(p_value=0.03), moved)
    ids = [_sha_id([f"a{i}" for i in range(k, k + 3)]) for k in (0, 3, 6)]
    assert lab2.tolist() == [ids[0]] * 3 + [ids[1]] * 3 + [ids[2]] * 3
    assert ev2["cluster_id"].tolist() == ids  # by start
    cx, _ = geo.project(ev2["lon"].to_numpy(), ev2["lat"].to_numpy(), CRS0)
    np.testing.assert_allclose(cx, [10.0, 240.0, 470.0], atol=0.01)  # x = 200 + 10 i, 400 + 10 i
    assert (ev2["n_complaints"] == 3).all() and (ev2["p_value"] == 0.03).all()
    assert set(parent.to_numpy()) == {labels.iloc[0]}
    # part numbers of any whole-number dtype give the same parts; labels that are no numbers
    # (event ids) one part; numbers below 1 or fractions are refused
    for vals in (moved.astype(float), moved.astype(object), moved.astype("Int64")):
        assert split_events(df, ev.assign(p_value=0.03), vals)[0].tolist() == lab2.tolist()
    one = split_events(df, ev.assign(p_value=0.03), pd.Series(labels.iloc[0], index=moved.index))[1]
    assert sorted(one["n_complaints"].tolist()) == [3, 6]
    for bad in (moved.where(moved == 1, 0), moved / 2):
        with pytest.raises(InputError):
            split_events(df, ev.assign(p_value=0.03), bad)


def test_split_events_sends_part_minus_one_to_no_event() -> None:
    """Part -1: a complaint leaves its event for none (cluster ``-1``), its duplicate with
    it; the rest of the event gets a new id, count and centre from its members, the
    parent's p-value, and the parent as its parent. Any negative number is no event."""
    rows = [{"id": f"a{i}", "x_m": 10.0 * i, "h": 0.5 * i} for i in range(4)]
    rows += [{"id": "a4", "x_m": 90.0, "h": 2.0}]
    rows += [{"id": "dup", "x_m": 95.0, "h": 2.2, "key": "kd", "dup": "a4"}]
    df = frame(rows)
    labels, ev = find_events(df, **PARAMS)
    assert len(ev) == 1 and (labels != "-1").all()
    df = df.assign(cluster_id=labels)
    moved = pd.Series([-1], index=df.index[[4]], dtype="int64")
    lab2, ev2, parent, _ = split_events(df, ev.assign(p_value=0.04), moved)
    rest = _sha_id(["a0", "a1", "a2", "a3"])
    assert lab2.tolist() == [rest] * 4 + ["-1", "-1"]
    assert ev2["cluster_id"].tolist() == [rest]
    assert int(ev2["n_complaints"].iloc[0]) == 4 and float(ev2["p_value"].iloc[0]) == 0.04
    cx, _ = geo.project(ev2["lon"].to_numpy(), ev2["lat"].to_numpy(), CRS0)
    np.testing.assert_allclose(cx, [15.0], atol=0.01)  # x = 0, 10, 20, 30
    assert parent.to_dict() == {rest: labels.iloc[0]}
    # parts and -1 together
    both = pd.Series([1, 1, -1], index=df.index[[2, 3, 4]], dtype="int64")
    lab3, ev3, _, _ = split_events(df, ev.assign(p_value=0.04), both)
    assert lab3.tolist() == [_sha_id(["a0", "a1"])] * 2 + [_sha_id(["a2", "a3"])] * 2 + ["-1", "-1"]
    assert len(ev3) == 2
    # any negative number is no event (step 11 writes -1 - k for part k); 0 is refused
    assert split_events(df, ev.assign(p_value=0.04), pd.Series([-3], index=df.index[[4]]))[0].tolist() \
        == lab2.tolist()
    with pytest.raises(InputError):
        split_events(df, ev, pd.Series([0], index=df.index[[4]]))


def test_a_complaint_that_left_names_the_part_it_left() -> None:
    """``left_from`` is the new id of the part a complaint left (``-1 - k``: part ``k``);
    a duplicate follows its original; without a member left in the part, the old id."""
    rows = [{"id": f"a{i}", "x_m": 10.0 * i, "h": 0.5 * i} for i in range(4)]
    rows += [{"id": "a4", "x_m": 40.0, "h": 2.0}]
    rows += [{"id": "dup", "x_m": 45.0, "h": 2.2, "key": "kd", "dup": "a4"}]
    rows += burst(3, x0=30_000.0, h0=300.0, prefix="z")
    df = frame(rows)
    labels, ev = find_events(df, **PARAMS)
    assert len(ev) == 2
    df = df.assign(cluster_id=labels)
    # a0 stays (part 0), a2 and a3 form part 1, a4 (and its duplicate) leaves out of
    # part 1, a1 out of part 0; all of z leave out of part 0, which then holds nobody
    moved = pd.Series([-1, 1, 1, -2, -1, -1, -1], index=df.index[[1, 2, 3, 4, 6, 7, 8]])
    lab2, _, _, left_from = split_events(df, ev.assign(p_value=0.1), moved)
    stay, one = _sha_id(["a0"]), _sha_id(["a2", "a3"])
    assert lab2.tolist() == [stay, "-1", one, one, "-1", "-1", "-1", "-1", "-1"]
    assert left_from.tolist() == ["", stay, "", "", one, one] + [labels.iloc[6]] * 3
    assert left_from.index.equals(df.index)


def test_categories_do_not_merge() -> None:
    df = frame(burst(3, category="odour", prefix="o") + burst(2, category="noise", prefix="n"))
    labels, events = find_events(df, **PARAMS)
    assert events["category"].tolist() == ["odour"]
    assert (labels.iloc[3:] == "-1").all() and (labels.iloc[:3] != "-1").all()
    df2 = frame(burst(3, category="odour", prefix="o") + burst(3, category="noise", prefix="n"))
    labels2, events2 = find_events(df2, **PARAMS)
    assert sorted(events2["category"]) == ["noise", "odour"]
    assert labels2.iloc[0] != labels2.iloc[3]


def test_missing_category_is_not_clustered() -> None:
    df = frame(burst(4))
    df["category"] = pd.Series([None] * 4, dtype="str")
    labels, events = find_events(df, **PARAMS)
    assert len(events) == 0 and (labels == "-1").all()


def test_space_time_metric_is_an_ellipsoid() -> None:
    # three complainants: centre, 0.6 eps east & 0.6 window later, and its mirror
    inside = [{"x_m": 0.0, "h": 0.0}, {"x_m": 600.0, "h": 28.8}, {"x_m": -600.0, "h": -28.8}]
    _, ev_in = find_events(frame(inside), **PARAMS)
    assert len(ev_in) == 1  # (0.6² + 0.6²) = 0.72 <= 1
    outside = [{"x_m": 0.0, "h": 0.0}, {"x_m": 800.0, "h": 38.4}, {"x_m": -800.0, "h": -38.4}]
    _, ev_out = find_events(frame(outside), **PARAMS)
    assert len(ev_out) == 0  # (0.8² + 0.8²) = 1.28 > 1
    pts = spacetime_coordinates(frame(inside), eps_m=1000.0, window_h=48.0)
    assert pts[1, 2] - pts[0, 2] == pytest.approx(600.0)
    assert np.hypot(pts[1, 0] - pts[0, 0], pts[1, 1] - pts[0, 1]) == pytest.approx(600.0, rel=1e-3)


def test_ids_stable_under_shuffling() -> None:
    rng = np.random.default_rng(3)
    rows = burst(6, prefix="a") + burst(4, x0=5_000.0, h0=100.0, prefix="z")
    rows += [{"id": f"r{i}", "x_m": float(rng.uniform(-3e4, 3e4)), "h": float(rng.uniform(0, 800))}
             for i in range(30)]
    df = frame(rows)
    lab1, ev1 = find_events(df, **PARAMS)
    shuffled = df.sample(frac=1.0, random_state=1)
    lab2, ev2 = find_events(shuffled, **PARAMS)
    assert lab2.index.equals(shuffled.index)
    assert lab1.sort_index().equals(lab2.sort_index())
    assert sorted(ev1["cluster_id"]) == sorted(ev2["cluster_id"])
    assert len(ev1) >= 2


def test_estimator_and_defaults() -> None:
    df = frame(burst(3, category="noise"))
    est = SpaceTimeEvents(n_permutations=0).fit(df)
    assert len(est.events_) == 1  # noise default: 300 m, 24 h, 3 complainants
    far = frame([{"x_m": 0.0, "category": "noise"}, {"x_m": 400.0, "category": "noise"},
                 {"x_m": 200.0, "y_m": 350.0, "category": "noise"}])
    assert len(SpaceTimeEvents(n_permutations=0).fit(far).events_) == 0
    assert len(SpaceTimeEvents(n_permutations=0, params={"noise": {"eps_m": 500}})
               .fit(far).events_) == 1
    assert est.crs_ is not None


def test_empty_and_bad_input() -> None:
    df = frame(burst(2))
    labels, events = find_events(df.iloc[:0], **PARAMS)
    assert len(labels) == 0 and len(events) == 0
    assert list(events.columns[:10]) == ["cluster_id", "category", "n_complaints",
                                         "n_complainants", "start", "end", "lon", "lat",
                                         "radius_m", "p_value"]
    with pytest.raises(InputError):
        find_events(df.drop(columns=["lon"]), **PARAMS)
    bad = df.copy()
    bad.loc[0, "lat"] = np.nan
    with pytest.raises(InputError):
        find_events(bad, **PARAMS)
    dup = df.copy()
    dup["complaint_id"] = "same"
    with pytest.raises(InputError):
        find_events(dup, **PARAMS)
    with pytest.raises(InputError):
        find_events(df, **{**PARAMS, "eps_m": -1.0})


# ----------------------------------------------------------------- grid DBSCAN vs sklearn


def _random_points(seed: int) -> tuple[np.ndarray, float, int]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 1500))
    dim = int(rng.integers(2, 4))
    x = np.r_[rng.uniform(0, 10, (n, dim)), rng.normal(5, 0.4, (n // 3, dim))]
    return x, float(rng.uniform(0.1, 1.2)), int(rng.integers(1, 8))


def _use_path(path: str, monkeypatch) -> int:
    """Force one of grid_dbscan's paths; returns the ``max_pairs`` to call it with."""
    monkeypatch.setattr(_grid_dbscan, "_SMALL", 10**9 if path == "small" else 0)
    return 10**9 if path == "pairs" else 0


@pytest.mark.parametrize("path", ["small", "grid", "pairs"])
@pytest.mark.parametrize("seed", range(12))
def test_grid_dbscan_equals_sklearn(seed: int, path: str, monkeypatch) -> None:
    max_pairs = _use_path(path, monkeypatch)
    x, eps, m = _random_points(seed)
    labels, core = _grid_dbscan.grid_dbscan(x, eps=eps, min_samples=m, max_pairs=max_pairs)
    sk = DBSCAN(eps=eps, min_samples=m, algorithm="kd_tree").fit(x)
    sk_core = np.zeros(len(x), dtype=bool)
    sk_core[sk.core_sample_indices_] = True
    np.testing.assert_array_equal(core, sk_core)
    np.testing.assert_array_equal(labels == -1, sk.labels_ == -1)
    assert adjusted_rand_score(sk.labels_[core], labels[core]) == 1.0
    # a border point may join any cluster it touches; ours must be one of those
    to_sk = dict(zip(labels[core].tolist(), sk.labels_[core].tolist(), strict=True))
    border = np.flatnonzero(~core & (labels >= 0))
    near = cKDTree(x[core]).query_ball_point(x[border], eps)
    for b, nb in zip(border, near, strict=True):
        assert to_sk[int(labels[b])] in set(sk.labels_[core][nb].tolist())


@pytest.mark.parametrize("path", ["small", "grid", "pairs"])
@pytest.mark.parametrize("seed", range(8))
def test_grid_dbscan_distinct_groups_brute_force(seed: int, path: str, monkeypatch) -> None:
    max_pairs = _use_path(path, monkeypatch)
    x, eps, m = _random_points(100 + seed)
    x = x[:600]
    groups = np.random.default_rng(seed).integers(0, max(1, len(x) // 3), len(x))
    _, core = _grid_dbscan.grid_dbscan(x, eps=eps, min_samples=m, groups=groups, max_pairs=max_pairs)
    near = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)) <= eps
    distinct = np.array([len(set(groups[near[i]])) for i in range(len(x))])
    np.testing.assert_array_equal(core, distinct >= m)
    # all groups distinct -> plain DBSCAN
    _, core_all = _grid_dbscan.grid_dbscan(x, eps=eps, min_samples=m, groups=np.arange(len(x)),
                                           max_pairs=max_pairs)
    np.testing.assert_array_equal(core_all, near.sum(axis=1) >= m)


@pytest.mark.parametrize("seed", range(6))
def test_pair_bound_is_at_least_the_number_of_pairs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    dim = 2 + seed % 2
    x = np.r_[rng.uniform(0, 10, (400, dim)), np.repeat(rng.uniform(0, 10, (3, dim)), 50, axis=0)]
    eps = float(rng.uniform(0.2, 1.5))
    d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    true = int((np.triu(d <= eps, k=1)).sum())
    bound = _grid_dbscan._pair_bound(x, eps)
    assert true <= bound
    assert true > 1000  # the crowded spots make it a real test
    # points exactly eps apart along an axis (rounding at the cell boundary)
    line = np.zeros((50, dim))
    line[:, 0] = np.arange(50) * eps
    assert _grid_dbscan._pair_bound(line, eps) >= 49


def test_grid_dbscan_keeps_the_grid_above_max_pairs(monkeypatch) -> None:
    # too many pairs possible: the pair list is never built
    x, eps, m = _random_points(3)
    monkeypatch.setattr(_grid_dbscan, "_SMALL", 0)

    def no_pairs(*a, **k):
        raise AssertionError("pair list built above max_pairs")

    expected = _grid_dbscan.grid_dbscan(x, eps=eps, min_samples=m)
    monkeypatch.setattr(_grid_dbscan, "_pairs_dbscan", no_pairs)
    got = _grid_dbscan.grid_dbscan(x, eps=eps, min_samples=m, max_pairs=10)
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_array_equal(got[0] == -1, expected[0] == -1)


def test_events_equal_sklearn_on_scaled_points() -> None:
    rng = np.random.default_rng(7)
    rows = [{"x_m": float(rng.normal(0, 3000)), "y_m": float(rng.normal(0, 3000)),
             "h": float(rng.uniform(0, 24 * 30))} for _ in range(800)]
    df = frame(rows)
    labels, _ = find_events(df, **PARAMS)
    pts = spacetime_coordinates(df, eps_m=1000.0, window_h=48.0)
    sk = DBSCAN(eps=1000.0, min_samples=3).fit(pts)
    np.testing.assert_array_equal(labels.to_numpy() == "-1", sk.labels_ == -1)
    assert adjusted_rand_score(sk.labels_, labels.to_numpy()) > 0.999


# ----------------------------------------------------------------- significance


def scan_fixture(seed: int, *, with_burst: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 300
    rows = [{"id": f"u{i:03d}", "x_m": float(rng.uniform(0, 11_000)),
             "y_m": float(rng.uniform(0, 11_000)), "h": float(rng.uniform(0, 24 * 60))}
            for i in range(n)]
    if with_burst:
        rows += [{"id": f"s{i:02d}", "x_m": 5_000.0 + float(rng.normal(0, 80)),
                  "y_m": 5_000.0 + float(rng.normal(0, 80)), "h": 24 * 30 + float(rng.uniform(0, 6))}
                 for i in range(15)]
    return frame(rows)


def test_scan_burst_is_significant() -> None:
    df = scan_fixture(0, with_burst=True)
    labels, events = find_events(df, **{**PARAMS, "n_permutations": 999, "seed": 1})
    burst_id = labels[df["complaint_id"] == "s00"].iloc[0]
    assert burst_id != "-1"
    p_burst = events.set_index("cluster_id").loc[burst_id, "p_value"]
    assert p_burst <= 0.01
    assert ((events["p_value"] > 0) & (events["p_value"] <= 1)).all()


def test_scan_random_data_not_significant_and_reproducible() -> None:
    not_small = 0
    for seed in range(3):
        df = scan_fixture(seed, with_burst=False)
        _, events = find_events(df, **{**PARAMS, "n_permutations": 199, "seed": seed})
        assert len(events) > 0
        not_small += int(events["p_value"].min() > 0.05)
    assert not_small >= 2
    pv1 = scan_pvalues(df, events, n_permutations=99, seed=5, eps_m=1000.0, window_h=48.0,
                       min_complainants=3, stop_alpha=None)
    pv2 = scan_pvalues(df, events, n_permutations=99, seed=5, eps_m=1000.0, window_h=48.0,
                       min_complainants=3, stop_alpha=None)
    pd.testing.assert_series_equal(pv1, pv2)
    assert pv1.index.tolist() == events["cluster_id"].tolist()
    # p-values are multiples of 1/(R + 1)
    np.testing.assert_allclose((pv1 * 100) % 1, 0, atol=1e-9)
    assert scan_pvalues(df, events, n_permutations=0).isna().all()


def test_scan_sequential_stopping_agrees_with_the_full_run() -> None:
    # Besag & Clifford: the same replicate stream; an event that never collects h
    # exceedances gets exactly the full-run p-value, one that does gets h / L >= h / R
    df = pd.concat([scan_fixture(s, with_burst=s == 0) for s in range(2)], ignore_index=True)
    df["complaint_id"] = [f"c{i}" for i in range(len(df))]
    _, events = find_events(df, **{**PARAMS, "n_permutations": 0})
    kw = dict(n_permutations=199, seed=2, eps_m=1000.0, window_h=48.0, min_complainants=3)
    full = scan_pvalues(df, events, stop_alpha=None, **kw)
    h = 10  # = ⌈0.05 · 200⌉
    seq = scan_pvalues(df, events, stop_alpha=0.05, **kw)
    assert len(events) >= 10
    never = full < (1 + h) / 200 - 1e-12  # fewer than h exceedances in the full run
    assert never.any() and (~never).any()
    np.testing.assert_array_equal(seq[never].to_numpy(), full[never].to_numpy())
    assert (seq[~never] >= h / 199 - 1e-12).all()
    # h / L estimates the same probability: close to the full run's value
    assert float((seq[~never] - full[~never]).abs().max()) < 0.35
    # the burst keeps the smallest possible p-value
    assert seq.min() == pytest.approx(1 / 200)
    with pytest.raises(InputError):
        scan_pvalues(df, events, stop_alpha=1.5, **kw)


def test_threads_do_not_change_events_or_pvalues() -> None:
    # categories are clustered and scanned side by side; each is seeded on its own, so
    # one thread and several give the same labels and the same p-values
    parts = []
    for i, cat in enumerate(("odour", "noise", "dust")):
        d = scan_fixture(i, with_burst=i != 1)
        d["category"] = cat
        parts.append(d)
    df = pd.concat(parts, ignore_index=True)
    df["complaint_id"] = [f"c{i}" for i in range(len(df))]
    kw = {**PARAMS, "n_permutations": 99, "seed": 3}
    lab1, ev1 = find_events(df, **kw, workers=1)
    lab3, ev3 = find_events(df, **kw, workers=3)
    assert set(ev1["category"]) == {"odour", "noise", "dust"}
    pd.testing.assert_series_equal(lab1, lab3)
    pd.testing.assert_frame_equal(ev1.drop(columns="geometry"), ev3.drop(columns="geometry"))
    assert ev1["p_value"].notna().all()


def test_scan_later_equals_scan_in_fit() -> None:
    df = scan_fixture(0, with_burst=True)
    kw = {**PARAMS, "n_permutations": 99, "seed": 4}
    both = SpaceTimeEvents(**kw).fit(df)
    est = SpaceTimeEvents(**kw).fit(df, scan=False)
    assert est.events_["p_value"].isna().all()
    pv = est.scan()
    assert est.events_["p_value"].isna().all()  # scan() leaves events_ alone
    np.testing.assert_array_equal(pv.reindex(both.events_["cluster_id"]).to_numpy(),
                                  both.events_["p_value"].to_numpy())
    with pytest.raises(InputError, match="fit first"):
        SpaceTimeEvents(**kw).scan()


def _four_categories() -> pd.DataFrame:
    parts = []
    for i, cat in enumerate(("odour", "noise", "dust", "water")):
        d = scan_fixture(i, with_burst=i != 1)
        d["category"] = cat
        parts.append(d)
    df = pd.concat(parts, ignore_index=True)
    df["complaint_id"] = [f"c{i}" for i in range(len(df))]
    return df


@pytest.mark.parametrize(("workers", "processes"), [(1, False), (2, False), (2, True)])
def test_background_scan_equals_scan_after_fit(workers: int, processes: bool) -> None:
    # each category's scan starts once that category is clustered: the events (made from
    # the categories' own summaries) and the p-values are those of fit + scan; in child
    # processes too (each sent its category's slice)
    df = _four_categories()
    df.loc[5, "duplicate_of"] = "c4"  # a duplicate inherits its original's event
    kw = {**PARAMS, "n_permutations": 99, "seed": 5, "workers": workers}
    later = SpaceTimeEvents(**kw).fit(df, scan=False)
    bg = SpaceTimeEvents(**kw, scan_processes=processes).fit(df, scan="background")
    pd.testing.assert_series_equal(bg.labels_, later.labels_)
    pd.testing.assert_frame_equal(bg.events_, later.events_)
    assert bg.events_.geometry.geom_equals_exact(later.events_.geometry, 1e-9).all()
    pv_bg, pv = bg.scan(), later.scan()
    assert pv.notna().all() and len(pv) == len(later.events_) > 3
    pd.testing.assert_series_equal(pv_bg, pv)
    with pytest.raises(InputError, match="background"):
        SpaceTimeEvents(**kw).fit(df, scan="later")


def test_scan_in_child_processes_equals_scan_on_threads(monkeypatch) -> None:
    # what the slice sent to a child must carry: complainants shared and blank, local
    # time zone, the scan's own options; each category is scanned in its own child
    import envtrace._procs as procs_mod

    df = _four_categories()
    rng = np.random.default_rng(3)
    keys = np.array([f"k{v}" for v in rng.integers(0, 12, len(df))], dtype=object)  # repeat callers
    keys[rng.random(len(df)) < 0.2] = ""
    df["complainant_key"] = keys
    t = pd.to_datetime(df["received_at"])
    df["received_at"] = t.dt.tz_convert("Asia/Shanghai") if t.dt.tz is not None else t.dt.tz_localize("Asia/Shanghai")
    assert df["received_at"].dt.tz is not None
    df.loc[5, "duplicate_of"] = "c4"
    kw = {**PARAMS, "n_permutations": 99, "seed": 11, "workers": 2,
          "scan_options": {"time_unit_h": 12.0, "n_centres": 8, "stop_alpha": 0.1}}
    calls: list[str] = []
    real = procs_mod.call_in_process

    def counted(fn, *args, **k):
        calls.append(k.get("name", ""))
        return real(fn, *args, **k)

    monkeypatch.setattr(procs_mod, "call_in_process", counted)
    threads = SpaceTimeEvents(**kw, scan_processes=False).fit(df, scan="background")
    assert calls == []
    children = SpaceTimeEvents(**kw, scan_processes=True).fit(df, scan="background")
    pv_t, pv_c = threads.scan(), children.scan()
    assert sorted(calls) == sorted(f"envtrace-scan-{c}" for c in children.events_["category"].unique())
    assert pv_t.notna().all() and len(pv_t) > 3 and (pv_t < 0.5).any()
    pd.testing.assert_series_equal(pv_c, pv_t)


def test_background_scan_threads_end_and_truthy_scan_flags_work() -> None:
    import threading
    import time

    df = _four_categories()
    kw = {**PARAMS, "n_permutations": 19, "seed": 5}
    est = SpaceTimeEvents(**kw).fit(df, scan="background")
    assert est.scan().notna().all()
    deadline = time.monotonic() + 10
    while any(t.name.startswith("envtrace-scan") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "scan threads still alive"
        time.sleep(0.05)
    # numpy's True is True: the p-values are computed in fit
    assert SpaceTimeEvents(**kw).fit(df, scan=np.True_).events_["p_value"].notna().all()


def test_failed_background_fit_leaves_the_fitted_estimator_as_it_was(monkeypatch) -> None:
    import envtrace.events as events_mod

    df = _four_categories()
    kw = {**PARAMS, "n_permutations": 19, "seed": 5, "workers": 1}
    est = SpaceTimeEvents(**kw).fit(df, scan="background")
    before = est.scan()
    calls = {"n": 0}
    real = events_mod.grid_dbscan

    def flaky(*a, **k):  # the second category's clustering fails
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("boom")
        return real(*a, **k)

    monkeypatch.setattr(events_mod, "grid_dbscan", flaky)
    with pytest.raises(RuntimeError, match="boom"):
        est.fit(df, scan="background")
    pd.testing.assert_series_equal(est.scan(), before)


def test_hull_prefilter_keeps_every_hull_vertex() -> None:
    from envtrace.events import _maybe_hull

    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 60, 300)
    offsets = np.r_[0, np.cumsum(sizes)]
    x, y = rng.normal(size=offsets[-1]) * 100, rng.normal(size=offsets[-1]) * 30
    x[:5] = 7.0  # a group with a repeated point
    keep = _maybe_hull(x, y, offsets)
    assert 0.1 < keep.mean() < 0.9

    def hulls(m: np.ndarray) -> np.ndarray:
        counts = np.add.reduceat(m.astype(np.int64), offsets[:-1])
        return shapely.convex_hull(shapely.from_ragged_array(
            shapely.GeometryType.MULTIPOINT, np.column_stack([x[m], y[m]]),
            (np.r_[0, np.cumsum(counts)],)))

    assert shapely.equals(hulls(keep), hulls(np.ones_like(keep))).all()
    # collinear, repeated and single points: nothing is strictly inside, all kept
    x2, y2 = np.array([0, 1, 2, 5, 5, 5, 3.0]), np.array([0, 0, 0, 1, 1, 1, 3.0])
    assert _maybe_hull(x2, y2, np.array([0, 3, 6, 7])).all()
    # a diamond with its centre: the centre goes
    x3, y3 = np.array([0, 1, 2, 1, 1.0]), np.array([1, 0, 1, 2, 1.0])
    assert _maybe_hull(x3, y3, np.array([0, 5])).tolist() == [True, True, True, True, False]


# ----------------------------------------------------------------- hotspots and trends


def test_spatial_hotspots_ignore_time() -> None:
    rows = [{"x_m": 10.0 * i, "h": 24.0 * 30 * i, "key": f"k{i}"} for i in range(3)]
    rows.append({"id": "far", "x_m": 9_000.0})
    df = frame(rows)
    labels, hot = spatial_hotspots(df, eps_m=300.0, min_complainants=3)
    assert len(hot) == 1 and hot["cluster_id"].iloc[0].startswith("H")
    assert labels.tolist()[:3] == [hot["cluster_id"].iloc[0]] * 3 and labels.iloc[3] == "-1"
    _, none = spatial_hotspots(df, eps_m=300.0, min_complainants=3, category="noise")
    assert len(none) == 0
    # in space-time they are months apart: no event
    assert len(find_events(df, **PARAMS)[1]) == 0


def test_mann_kendall_known_values() -> None:
    z, p = mann_kendall([1, 2, 3, 4, 5])
    # S = 10, var = 5·4·15/18, z = (10 - 1)/sqrt(var)
    assert z == pytest.approx(9 / np.sqrt(50 / 3))
    assert p == pytest.approx(0.02749, abs=1e-4)
    assert mann_kendall([3, 3, 3, 3]) == (0.0, 1.0)
    assert mann_kendall([1, 2]) == (0.0, 1.0)
    assert mann_kendall([5, 4, 3, 2, 1])[0] < 0


def test_hotspot_trends_labels() -> None:
    rng = np.random.default_rng(0)
    months = pd.period_range("2026-01", "2026-06", freq="M")
    sites = {  # monthly counts at five sites 5 km apart
        "grow": [3, 4, 5, 6, 8, 10],
        "flat": [5, 5, 5, 5, 5, 5],
        "last": [0, 0, 0, 0, 0, 6],
        "onoff": [6, 0, 0, 6, 0, 0],
        "fall": [10, 8, 6, 5, 4, 3],
        "faded": [12, 0, 9, 8, 0, 0],  # hot in half the months, silent at the end
    }
    rows = []
    for s, (site, counts) in enumerate(sites.items()):
        for m, c in enumerate(counts):
            start = (months[m].start_time.tz_localize("Asia/Shanghai") - T0) / pd.Timedelta(hours=1)
            for i in range(c):
                rows.append({"id": f"{site}-{m}-{i}", "x_m": 5_000.0 * s + 10.0 * (i % 5),
                             "y_m": 20_000.0 + 10.0 * (i // 5), "h": start + 24.0 * i + 1.0})
    # sparse background over 40 km x 40 km, 30 a month
    for m in range(6):
        start = (months[m].start_time.tz_localize("Asia/Shanghai") - T0) / pd.Timedelta(hours=1)
        for i in range(30):
            rows.append({"id": f"bg-{m}-{i}", "x_m": float(rng.uniform(-10_000, 30_000)),
                         "y_m": float(rng.uniform(-20_000, 20_000)),
                         "h": start + float(rng.uniform(0, 24 * 27))})
    df = frame(rows)
    out = hotspot_trends(df, eps_m=300.0, min_complainants=3)
    labels, _ = spatial_hotspots(df, eps_m=300.0, min_complainants=3)
    ids = df["complaint_id"].to_numpy()
    got = {site: out.set_index("cluster_id").loc[labels[ids == f"{site}-5-0"].iloc[0]]
           for site in ("grow", "flat", "last")}
    got["onoff"] = out.set_index("cluster_id").loc[labels[ids == "onoff-0-0"].iloc[0]]
    got["fall"] = out.set_index("cluster_id").loc[labels[ids == "fall-0-0"].iloc[0]]
    got["faded"] = out.set_index("cluster_id").loc[labels[ids == "faded-0-0"].iloc[0]]
    assert {k: v["label"] for k, v in got.items()} == {
        "grow": "intensifying", "flat": "persistent", "last": "new", "onoff": "sporadic",
        "fall": "diminishing", "faded": "diminishing",
    }
    month_cols = [str(m) for m in months]
    assert list(out.columns[-6:]) == month_cols
    assert got["grow"][month_cols].tolist() == sites["grow"]
    assert got["flat"]["n_hot_months"] == 6
    # months=2: the last two months only
    last2 = hotspot_trends(df, months=2, eps_m=300.0, min_complainants=3)
    assert list(last2.columns[-2:]) == month_cols[-2:]


def test_grid_dbscan_dense_address_equals_weighted_sklearn() -> None:
    # 20,000 complaints at one address within one hour (whole minutes: 60 instants), a
    # tight crowd of 3,000 distinct points and 2,000 scattered ones (metres, 1000 m / 48 h);
    # listing all core-core pairs would need ~2e8 pairs
    rng = np.random.default_rng(3)
    scale = 1000.0 / 48.0
    addr = np.column_stack([np.full(20_000, 500.0), np.full(20_000, -300.0),
                            (100.0 + rng.integers(0, 60, 20_000) / 60.0) * scale])
    crowd = np.column_stack([rng.normal(30_000, 10, 3000), rng.normal(0, 10, 3000),
                             (500.0 + rng.uniform(0, 1, 3000)) * scale])
    scattered = np.column_stack([rng.uniform(-10_000, 10_000, (2000, 2)),
                                 rng.uniform(0, 24 * 365, 2000) * scale])
    x = np.r_[addr, crowd, scattered]
    labels, core = _grid_dbscan.grid_dbscan(x, eps=1000.0, min_samples=3)
    # the same multiset for sklearn: distinct points weighted by multiplicity
    u, inv, cnt = np.unique(x, axis=0, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    sk = DBSCAN(eps=1000.0, min_samples=3).fit(u, sample_weight=cnt)
    sk_core = np.zeros(len(u), dtype=bool)
    sk_core[sk.core_sample_indices_] = True
    np.testing.assert_array_equal(core, sk_core[inv])
    np.testing.assert_array_equal(labels == -1, sk.labels_[inv] == -1)
    assert adjusted_rand_score(sk.labels_[inv][core], labels[core]) == 1.0
    assert len(set(labels[:20_000].tolist())) == 1 and labels[0] >= 0
    assert len(set(labels[20_000:23_000].tolist())) == 1 and labels[20_000] != labels[0]
    # the same complaints from only two households at each spot: no core there, and the
    # scattered points are unaffected
    groups = np.r_[np.arange(20_000) % 2, 2 + np.arange(3000) % 2, 10 + np.arange(2000)]
    labels_g, core_g = _grid_dbscan.grid_dbscan(x, eps=1000.0, min_samples=3, groups=groups)
    assert not core_g[:23_000].any() and (labels_g[:23_000] == -1).all()
    np.testing.assert_array_equal(core_g[23_000:], core[23_000:])


def test_scan_refit_auto_switches_off_above_max_refit_points() -> None:
    df = scan_fixture(1, with_burst=False)
    _, events = find_events(df, **{**PARAMS, "n_permutations": 0})
    kw = dict(n_permutations=99, seed=3, eps_m=1000.0, window_h=48.0, min_complainants=3)
    with_refit = scan_pvalues(df, events, refit=True, **kw)
    without = scan_pvalues(df, events, refit=False, **kw)
    # the fixture is small: "auto" refits; with a tiny limit it does not
    pd.testing.assert_series_equal(scan_pvalues(df, events, **kw), with_refit)
    pd.testing.assert_series_equal(scan_pvalues(df, events, max_refit_points=10, **kw), without)
    # refitted replicates hold more tailored cylinders: p-values can only grow
    assert (with_refit >= without).all() and (with_refit > without).any()
