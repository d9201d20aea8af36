"""Grid-based DBSCAN with an optional "distinct groups" core condition.

Private helper of :mod:`envtrace.events`. Plain DBSCAN (Ester et al. 1996) in any number
of dimensions with Euclidean distance and closed balls (``distance <= eps``, as
scikit-learn), computed in three vectorised steps:

1. **Core points.** Points are binned into cubic cells of side ``eps/√dim`` (a cell's
   diagonal is ``eps``); every point of a cell holding ``min_samples`` points (distinct
   groups) is core at once. Elsewhere a point is core when its ``min_samples``-th
   nearest neighbour (itself first) is within ``eps``: one ``cKDTree.query(k=[m],
   distance_upper_bound=eps, workers=-1)``, whose cost does not grow with the density.
   With ``groups`` (complainant codes) a point is core when its ball holds at least
   ``min_samples`` *distinct* groups; the plain count is an upper bound, so the exact
   distinct count is needed only where a group has two members in one ball. Such members must lie within ``2·eps`` of each
   other; they are found with one ``query_pairs`` on a tree whose extra coordinate
   separates the groups, and only balls holding two of them are listed and counted.
2. **Core connectivity, cell by cell.** All cores of one cell are within ``eps`` of each
   other and form one node. Cells are linked when a core-core pair across them is within ``eps``; those pairs
   come from ``cKDTree.query_pairs`` run in slabs along the last axis (time), so memory
   stays bounded, and are reduced to distinct cell pairs at once. Connected components
   of the cell graph (``scipy.sparse.csgraph``) are the clusters.
3. **Border points.** A non-core point with a core within ``eps`` takes the cluster of its
   *nearest* core, read off its k-NN list from step 1 (which holds its whole ball). (scikit-learn gives it the first cluster that reaches it, which depends
   on the input order; that is the only way the two may differ.)
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

__all__ = ["grid_dbscan"]

_SLAB = 500_000  # cores per query_pairs slab
_SMALL = 5_000  # at most this many points: one query_pairs does it all
_CHUNK = 100_000  # balls listed at once when counting distinct groups


def _distinct_core(
    x: np.ndarray, groups: np.ndarray, eps: float, cand: np.ndarray, min_samples: int,
    tree: cKDTree, workers: int
) -> np.ndarray:
    """For candidates (at least ``min_samples`` points in their ball): are they still core
    when points of one group count once?"""
    keep = np.ones(len(cand), dtype=bool)
    _, inv, cnt = np.unique(groups, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    multi = np.flatnonzero(cnt[inv] > 1)
    if len(multi) == 0 or len(cand) == 0:
        return keep
    # same-group pairs within 2·eps: an extra coordinate puts the groups far apart
    span = float(np.ptp(x, axis=0).max()) + 4.0 * eps + 1.0
    x4 = np.column_stack([x[multi], inv[multi].astype(np.float64) * span])
    pairs = cKDTree(x4).query_pairs(2.0 * eps, output_type="ndarray")
    if len(pairs) == 0:
        return keep
    risky = multi[np.unique(pairs.ravel())]
    tree_r = cKDTree(x[risky])
    n_risky = tree_r.query_ball_point(x[cand], eps, return_length=True, workers=workers)
    affected = np.flatnonzero(n_risky >= 2)
    risky_group = inv[risky].astype(np.int64)
    n_groups = int(inv.max()) + 1
    for lo in range(0, len(affected), _CHUNK):
        pos = affected[lo : lo + _CHUNK]
        pts = x[cand[pos]]
        total = np.asarray(tree.query_ball_point(pts, eps, return_length=True, workers=workers))
        sdm = cKDTree(pts).sparse_distance_matrix(tree_r, eps, output_type="ndarray")
        owner = sdm["i"].astype(np.int64)
        uniq = np.unique(owner * n_groups + risky_group[sdm["j"]])
        distinct = np.bincount(uniq // n_groups, minlength=len(pos))
        lens = np.bincount(owner, minlength=len(pos))
        keep[pos] = total - (lens - distinct) >= min_samples
    return keep


def _cell_ids(x: np.ndarray, side: float) -> np.ndarray:
    """Flat integer id of each point's cubic cell; the last axis (time) varies slowest."""
    ijk = np.floor((x - x.min(axis=0)) / side).astype(np.int64)[:, ::-1]
    dims = ijk.max(axis=0) + 1
    if float(np.prod(dims.astype(np.float64))) < 2.0**62:
        return np.ravel_multi_index(tuple(ijk.T), tuple(int(d) for d in dims))
    _, inv = np.unique(ijk, axis=0, return_inverse=True)  # pragma: no cover - huge extents
    return inv.ravel().astype(np.int64)  # pragma: no cover


def _core_components(c: np.ndarray, cell: np.ndarray, eps: float) -> np.ndarray:
    """Cluster number of each core point (connected components at distance ``eps``).

    ``c`` are the cores sorted along the last axis (needed only beyond one slab), ``cell``
    their dense cell numbers 0..n_cells-1.
    """
    n_cells = int(cell.max()) + 1
    ts = c[:, -1]
    if len(c) <= _SLAB:
        ts = np.full(len(c), ts[0])  # one slab: no need to be sorted
    edges: list[np.ndarray] = []
    for lo in range(0, len(c), _SLAB):
        hi = min(lo + _SLAB, len(c))
        ext = int(np.searchsorted(ts, ts[hi - 1] + eps, side="right"))
        pairs = cKDTree(c[lo:ext], leafsize=32).query_pairs(eps, output_type="ndarray")
        if len(pairs) == 0:
            continue
        keep = pairs.min(axis=1) < hi - lo  # each pair once: in the slab of its earlier point
        a = cell[lo + pairs[keep, 0]]
        b = cell[lo + pairs[keep, 1]]
        cross = a != b
        if cross.any():
            lo_c = np.minimum(a[cross], b[cross]).astype(np.int64)
            hi_c = np.maximum(a[cross], b[cross]).astype(np.int64)
            e = lo_c * n_cells + hi_c
            edges.append(np.unique(e) if len(e) > 1_000_000 else e)
    if edges:
        e = np.concatenate(edges)
        a, b = e // n_cells, e % n_cells
    else:
        a = b = np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n_cells, n_cells))
    _, comp = connected_components(graph.tocsr(), directed=False)
    return comp[cell]


def _pairs_dbscan(
    x: np.ndarray, eps: float, min_samples: int, groups: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Small-input path: everything from one ``query_pairs`` (same result as the grid)."""
    n = len(x)
    pairs = cKDTree(x).query_pairs(eps, output_type="ndarray").astype(np.int64)
    i = np.r_[pairs[:, 0], pairs[:, 1]]
    j = np.r_[pairs[:, 1], pairs[:, 0]]
    if groups is None:
        counts = 1 + np.bincount(i, minlength=n)
    else:
        _, g = np.unique(np.asarray(groups), return_inverse=True)
        g = g.ravel().astype(np.int64)
        n_g = int(g.max()) + 1
        own = np.unique(np.r_[np.arange(n, dtype=np.int64), i] * n_g + np.r_[g, g[j]])
        counts = np.bincount(own // n_g, minlength=n)
    core = counts >= min_samples
    labels = np.full(n, -1, dtype=np.int64)
    cc = core[i] & core[j]
    graph = coo_matrix((np.ones(int(cc.sum()), dtype=np.int8), (i[cc], j[cc])), shape=(n, n))
    _, comp = connected_components(graph.tocsr(), directed=False)
    labels[core] = comp[core]
    # border: nearest core neighbour
    bj = ~core[i] & core[j]
    if bj.any():
        bi, bc = i[bj], j[bj]
        d = np.sqrt(((x[bi] - x[bc]) ** 2).sum(axis=1))
        o = np.lexsort((bc, d, bi))
        first = np.r_[True, bi[o][1:] != bi[o][:-1]]
        labels[bi[o][first]] = comp[bc[o][first]]
    if labels.max(initial=-1) >= 0:  # dense numbering
        _, dense = np.unique(labels, return_inverse=True)
        labels = dense.ravel() - (1 if (labels == -1).any() else 0)
    return labels, core


def grid_dbscan(
    points: np.ndarray,
    *,
    eps: float,
    min_samples: int,
    groups: np.ndarray | None = None,
    workers: int = -1,
) -> tuple[np.ndarray, np.ndarray]:
    """DBSCAN on ``points`` (n × dim, same units as ``eps``).

    Parameters
    ----------
    points : ndarray, shape (n, dim)
        Coordinates; Euclidean distance.
    eps : float
        Neighbourhood radius (closed ball: ``distance <= eps``).
    min_samples : int
        A point is core when its ball (itself included) holds at least this many points,
        or, with ``groups``, this many distinct groups.
    groups : ndarray of int, shape (n,), optional
        Group code per point (e.g. complainant); points of one group count once per ball.
        ``None``: every point is its own group (plain DBSCAN, equal to
        ``sklearn.cluster.DBSCAN(eps, min_samples=min_samples)``).
    workers : int
        Threads for the tree queries (-1 = all cores).

    Returns
    -------
    labels : ndarray of int64, shape (n,)
        Cluster number (0, 1, …, arbitrary order) or -1 for noise.
    core : ndarray of bool, shape (n,)
        Core-point mask.
    """
    x = np.ascontiguousarray(points, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("points must be a 2-D array")
    n = len(x)
    labels = np.full(n, -1, dtype=np.int64)
    core = np.zeros(n, dtype=bool)
    if n == 0:
        return labels, core
    eps = float(eps)
    if not eps > 0:
        raise ValueError("eps must be positive")
    if n <= _SMALL:
        return _pairs_dbscan(x, eps, min_samples, groups)
    dim = x.shape[1]
    # sort by cell (time slowest): cache-friendly queries, slabs along time for free
    cell_all = _cell_ids(x, eps / np.sqrt(dim) * (1.0 - 1e-9))
    order = np.argsort(cell_all, kind="stable")
    xs = x[order]
    cells = cell_all[order]
    g = None if groups is None else np.asarray(groups)[order]
    # a cell holding min_samples points (distinct groups) makes all of them core
    start = np.flatnonzero(np.r_[True, cells[1:] != cells[:-1]])
    n_in = np.diff(np.r_[start, n])
    if g is None:
        dense_cell = n_in >= min_samples
    else:
        cell_no = np.repeat(np.arange(len(start)), n_in)
        _, ginv = np.unique(g, return_inverse=True)
        pair = np.unique(cell_no.astype(np.int64) * (int(ginv.max()) + 1) + ginv.ravel())
        n_distinct = np.bincount(pair // (int(ginv.max()) + 1), minlength=len(start))
        dense_cell = n_distinct >= min_samples
    sure = np.repeat(dense_cell, n_in)
    tree = cKDTree(xs, leafsize=32, balanced_tree=False, compact_nodes=False)
    todo = np.flatnonzero(~sure)
    cores = sure.copy()
    ub = np.nextafter(eps, np.inf)  # closed ball: distance <= eps
    nn = np.zeros((0, 1), dtype=np.int64)
    complete = np.zeros(0, dtype=bool)
    if len(todo):
        if min_samples <= 1:
            cores[todo] = True
        else:  # core iff the min_samples-th nearest point (itself included) is within eps
            d, nn = tree.query(xs[todo], k=min_samples, distance_upper_bound=ub, workers=workers)
            complete = ~np.isfinite(d[:, -1])  # fewer than min_samples: the list is the ball
            cores[todo] = ~complete
    if g is not None:
        cand = np.flatnonzero(cores & ~sure)
        cores[cand] = _distinct_core(xs, g, eps, cand, min_samples, tree, workers)
    core_idx = np.flatnonzero(cores)
    if len(core_idx) == 0:
        return labels, core
    c = xs[core_idx]
    # cells are time-major, so the cores are (nearly) sorted along the last axis
    cc = cells[core_idx]  # sorted
    cc = np.cumsum(np.r_[0, (cc[1:] != cc[:-1]).astype(np.int64)])
    if len(c) <= _SLAB:
        comp = _core_components(c, cc, eps)
    else:
        t_order = np.argsort(c[:, -1], kind="stable")
        comp = np.empty(len(core_idx), dtype=np.int64)
        comp[t_order] = _core_components(c[t_order], cc[t_order], eps)
    lab_s = np.full(n, -1, dtype=np.int64)
    lab_s[core_idx] = comp
    # border points: a non-core point with fewer than min_samples neighbours has its whole
    # ball in its k-NN list (sorted by distance): take the first core there
    if complete.any():
        rows = todo[complete]
        j = nn[complete]
        valid = (j < n) & (j != rows[:, None])
        jj = np.where(valid, j, 0)
        is_c = valid & cores[jj]
        has = is_c.any(axis=1)
        first = np.argmax(is_c, axis=1)
        lab_s[rows[has]] = lab_s[jj[has, first[has]]]
    # the others (enough points but too few distinct groups): nearest core by a query
    rest = np.flatnonzero(~cores)
    if len(todo) and min_samples > 1:
        rest = rest[~np.isin(rest, todo[complete])]
    if len(rest):
        d, j = cKDTree(c, leafsize=32).query(xs[rest], k=1, distance_upper_bound=ub,
                                             workers=workers)
        ok = np.isfinite(d)
        lab_s[rest[ok]] = comp[j[ok]]
    labels[order] = lab_s
    core[order] = cores
    return labels, core
