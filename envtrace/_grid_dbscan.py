"""Grid-based DBSCAN with an optional "distinct groups" core condition.

Private helper of :mod:`envtrace.events`. Plain DBSCAN (Ester et al. 1996) in any number
of dimensions with Euclidean distance and closed balls (``distance <= eps``, as
scikit-learn), in the grid formulation of Gunawan (2013) and de Berg, Gunawan & Roeloffzen
(2017). No step lists all neighbour pairs, so memory stays linear in the number of points
however many of them crowd one spot (hundreds of repeat complaints at one address).

0. **Coincident points.** Points with equal coordinates have the same ball and so the same
   fate; they are collapsed into one *position* weighted by its multiplicity (with
   ``groups``: by its number of distinct groups; a (position, group) pair is an *entry*).
1. **Core points.** Positions are binned into cubic cells of side ``eps/√dim`` (a cell's
   diagonal is ``eps``); every position of a cell holding ``min_samples`` points (distinct
   groups) is core at once. Elsewhere a position is core when the weights of its ball
   reach ``min_samples``: one ``cKDTree.query(k=min_samples, distance_upper_bound=eps)``
   (each weight is ≥ 1, so a full list is enough; a short list is the whole ball), whose
   cost does not grow with the density. With ``groups`` the weighted count is an upper
   bound on the distinct count; it is exact unless one group has entries at two positions
   of the ball. Such entries lie within ``2·eps`` of each other; they are found with a
   ``k=2`` query on a tree whose extra coordinate separates the groups, and only balls
   holding two of them are listed (in chunks of bounded size) and counted exactly.
2. **Core connectivity, cell by cell.** All cores of one cell are within ``eps`` of each
   other: one node. Two non-empty neighbouring cells (offsets whose boxes are at most
   ``eps`` apart) are linked iff their closest core–core pair is within ``eps``. Cells with
   at most ``_LIGHT`` cores are linked through their core–core pairs (``query_pairs`` in
   slabs along the last axis; a light core has at most ``_LIGHT`` × (number of neighbouring
   cells) such partners, so this is linear in the number of cores). Pairs of cells with a
   heavy cell are decided by nearest-neighbour queries: per cell offset (nearest first),
   pairs already in one component are skipped; for the others the cores of the smaller
   cell that are within ``eps`` of the other cell's box are queried (``k=1``,
   ``distance_upper_bound=eps``) against that cell's cores only (one tree of all cores with
   an extra coordinate separating the cells), those nearest the box first and in growing
   batches, so a pair stops at its first hits. Connected components
   (``scipy.sparse.csgraph``) of the cell graph are the clusters.
3. **Border points.** A non-core position with a core within ``eps`` takes the cluster of
   its *nearest* core (one ``k=1`` query). (scikit-learn gives it the first cluster that
   reaches it, which depends on the input order; that is the only way the two may differ.)
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

__all__ = ["grid_dbscan"]

_SMALL = 5_000  # at most this many points (and _SMALL_PAIRS pairs): one query_pairs
_SMALL_PAIRS = 2_000_000
_BUDGET = 4_000_000  # (point, neighbour) pairs listed at once when counting distinct groups
_QUERY_ROWS = 2_000_000  # rows of one k-NN query (× min_samples)
_LIGHT = 16  # cells with at most this many cores are linked by their core-core pairs
_SLAB = 100_000  # light cores per query_pairs slab


def _unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of ``a`` with equal rows merged: rows, inverse index and counts.

    Rows are sorted by a hash of their bits, so equal rows are merged unless a hash
    collision interleaves them; a row left unmerged only costs time (every step below is
    correct for repeated positions too).
    """
    bits = np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)
    h = np.zeros(len(a), dtype=np.uint64)
    for col in bits.T:
        h = (h ^ col) * np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(29)
    order = np.argsort(h, kind="stable")
    sa = a[order]
    new = np.ones(len(a), dtype=bool)
    new[1:] = (sa[1:] != sa[:-1]).any(axis=1)
    if new.all():
        return a, np.arange(len(a)), np.ones(len(a), dtype=np.int64)
    ids = np.cumsum(new) - 1
    inv = np.empty(len(a), dtype=np.int64)
    inv[order] = ids
    return sa[new], inv, np.bincount(ids, minlength=int(ids[-1]) + 1)


class _Cells:
    """Non-empty grid cells of integer cell coordinates ``ijk`` (n × dim), with lookup of
    cells up to ``pad`` cells away."""

    def __init__(self, ijk: np.ndarray, *, pad: int = 0) -> None:
        self.lo = ijk.min(axis=0) - pad
        self.box = tuple(int(v) for v in ijk.max(axis=0) + pad + 1 - self.lo)
        size = float(np.prod(np.array(self.box, dtype=np.float64)))
        self.flat = size < 2.0**62
        if self.flat:  # cell key: ravelled offset from the box corner
            self.keys, inv = np.unique(np.ravel_multi_index(tuple((ijk - self.lo).T), self.box),
                                       return_inverse=True)
            self.n = len(self.keys)
        else:  # pragma: no cover - astronomically fine grids
            _, inv = np.unique(ijk, axis=0, return_inverse=True)
            self.n = int(inv.max()) + 1
        self.of_point = inv.ravel().astype(np.int64)
        self.ijk = np.empty((self.n, ijk.shape[1]), dtype=np.int64)
        self.ijk[self.of_point] = ijk
        # lookups by direct indexing when the box is small (table built on first use)
        self.table: np.ndarray | None = None
        self.use_table = bool(pad) and self.flat and size <= max(16.0 * self.n, 2.0**20)

    def lookup(self, q: np.ndarray) -> np.ndarray:
        """Cell number of each row of cell coordinates ``q`` (within ``pad`` of a cell),
        -1 where there is no such cell."""
        if self.flat:
            key = np.ravel_multi_index(tuple((q - self.lo).T), self.box)
            if self.use_table:
                if self.table is None:
                    self.table = np.full(int(np.prod(self.box)), -1, dtype=np.int32)
                    self.table[self.keys] = np.arange(self.n)
                return self.table[key].astype(np.int64)
            j = np.minimum(np.searchsorted(self.keys, key), self.n - 1)
            return np.where(self.keys[j] == key, j, -1)
        _, inv = np.unique(np.r_[self.ijk, q], axis=0, return_inverse=True)  # pragma: no cover
        inv = inv.ravel()  # pragma: no cover
        to_cell = np.full(int(inv.max()) + 1, -1, dtype=np.int64)  # pragma: no cover
        to_cell[inv[: self.n]] = np.arange(self.n)  # pragma: no cover
        return to_cell[inv[self.n :]]  # pragma: no cover


def _offsets(dim: int) -> list[np.ndarray]:
    """Cell offsets (one of each ± pair) whose boxes can hold points within ``eps``, nearest first."""
    r = int(np.floor(1.0 + np.sqrt(dim)))
    out = []
    for d in itertools.product(range(-r, r + 1), repeat=dim):
        nz = [v for v in d if v]
        if not nz or nz[0] < 0:
            continue
        gap = sum(max(abs(v) - 1, 0) ** 2 for v in d)  # (box distance / side)²
        if gap <= dim:
            out.append((gap, len(nz), d))
    out.sort()
    return [np.array(d, dtype=np.int64) for _, _, d in out]


def _core_components(rel: np.ndarray, ijk: np.ndarray, side: float, eps: float,
                     workers: int) -> np.ndarray:
    """Cluster number (0..k-1) of each core, ``rel`` their coordinates from the grid origin
    and ``ijk`` their cell coordinates (cells of side ``side``)."""
    offsets = _offsets(ijk.shape[1])
    cells = _Cells(ijk, pad=int(np.abs(np.array(offsets)).max()))
    cell = cells.of_point
    n_cells = cells.n
    comp = np.arange(n_cells)
    if n_cells == 1:
        return comp[cell]
    order = np.argsort(cell, kind="stable")
    cnt = np.bincount(cell, minlength=n_cells)
    start = np.r_[0, np.cumsum(cnt)[:-1]]
    rel = rel[order]
    cell_s = cell[order]
    heavy = cnt > _LIGHT
    # 1. cells with few cores: their core-core pairs directly (at most _LIGHT per cell, so
    #    few per point), in slabs along the last axis
    li = np.flatnonzero(~heavy[cell_s])
    if len(li) > _SLAB:
        li = li[np.argsort(rel[li, -1], kind="stable")]
        ts = rel[li, -1]
    else:  # one slab
        ts = np.zeros(len(li))
    edges = []
    for lo in range(0, len(li), _SLAB):
        hi = min(lo + _SLAB, len(li))
        ext = int(np.searchsorted(ts, ts[hi - 1] + eps, side="right"))
        pairs = cKDTree(rel[li[lo:ext]], leafsize=32).query_pairs(eps, output_type="ndarray")
        pairs = pairs[pairs.min(axis=1) < hi - lo]  # each pair once: slab of its earlier point
        a, b = cell_s[li[lo + pairs[:, 0]]], cell_s[li[lo + pairs[:, 1]]]
        cross = a != b
        e = np.minimum(a[cross], b[cross]) * n_cells + np.maximum(a[cross], b[cross])
        edges.append(np.unique(e) if len(e) > 1_000_000 else e)
    if edges:
        e = np.concatenate(edges)
        graph = coo_matrix((np.ones(len(e), dtype=np.int8), (e // n_cells, e % n_cells)),
                           shape=(n_cells, n_cells))
        _, comp = connected_components(graph.tocsr(), directed=False)
    if not heavy.any():
        return comp[cell]
    # 2. pairs of neighbouring cells with a heavy one: nearest-neighbour queries
    span = float(np.ptp(rel, axis=0).max()) + 4.0 * eps + 1.0  # separates the cells
    aug = np.column_stack([rel, cell_s.astype(np.float64) * span])
    tree = cKDTree(aug, leafsize=16, balanced_tree=False, compact_nodes=False)
    ub = np.nextafter(eps, np.inf)
    eps2 = eps * eps * (1.0 + 1e-6)  # loose prefilter; the query decides exactly
    hv = np.flatnonzero(heavy)
    for delta in offsets:  # pairs (a, a + delta) with a heavy cell, each once
        up = cells.lookup(cells.ijk[hv] + delta)
        down = cells.lookup(cells.ijk[hv] - delta)
        down_ok = down >= 0
        down_ok[down_ok] = ~heavy[down[down_ok]]  # heavy ones are met going up
        a = np.r_[hv[up >= 0], down[down_ok]]
        b = np.r_[up[up >= 0], hv[down_ok]]
        live = comp[a] != comp[b]
        a, b = a[live], b[live]
        if len(a) == 0:
            continue
        swap = cnt[a] > cnt[b]  # query from the cell with fewer cores
        s = np.where(swap, b, a)
        t = np.where(swap, a, b)
        k = cnt[s]
        pair = np.repeat(np.arange(len(s)), k)
        idx = np.arange(int(k.sum())) + np.repeat(start[s] - (np.cumsum(k) - k), k)
        lo = cells.ijk[t[pair]] * side  # target box, same origin as rel
        p = rel[idx]
        gap = np.maximum(lo - p, 0.0) + np.maximum(p - (lo + side), 0.0)
        g2 = (gap * gap).sum(axis=1)
        ok = g2 <= eps2
        pair, idx, g2 = pair[ok], idx[ok], g2[ok]
        if len(pair) == 0:
            continue
        o = np.lexsort((g2, pair))  # per pair, nearest the target box first
        pair, idx = pair[o], idx[o]
        rank = np.arange(len(pair)) - np.searchsorted(pair, pair, side="left")
        hit = np.zeros(len(s), dtype=bool)
        r0, width, r_max = 0, 1, int(rank.max())
        while r0 <= r_max:
            sel = np.flatnonzero((rank >= r0) & (rank < r0 + width))
            sel = sel[~hit[pair[sel]]]
            if len(sel):
                q = np.column_stack([rel[idx[sel]], t[pair[sel]].astype(np.float64) * span])
                d, _ = tree.query(q, k=1, distance_upper_bound=ub, workers=workers)
                hit[pair[sel[np.isfinite(d)]]] = True
            r0 += width
            width *= 4
        if hit.any():
            graph = coo_matrix((np.ones(int(hit.sum()), dtype=np.int8),
                                (comp[a[hit]], comp[b[hit]])), shape=(n_cells, n_cells))
            _, merged = connected_components(graph.tocsr(), directed=False)
            comp = merged[comp]
    return comp[cell]


def _distinct_core(pos: np.ndarray, ent_pos: np.ndarray, ent_g: np.ndarray, cand: np.ndarray,
                   eps: float, min_samples: int, workers: int) -> np.ndarray:
    """For candidate positions (at least ``min_samples`` entries in their ball): are they
    still core when the entries of one group count once?"""
    keep = np.ones(len(cand), dtype=bool)
    n_groups = int(ent_g.max()) + 1
    multi = np.flatnonzero(np.bincount(ent_g, minlength=n_groups)[ent_g] > 1)
    if len(multi) == 0 or len(cand) == 0:
        return keep
    # entries with another entry of their group within 2·eps (an extra coordinate puts the
    # groups far apart; entries are distinct, so the second neighbour is another entry)
    span = float(np.ptp(pos, axis=0).max()) + 4.0 * eps + 1.0
    x4 = np.column_stack([pos[ent_pos[multi]], ent_g[multi].astype(np.float64) * span])
    d, _ = cKDTree(x4).query(x4, k=2, distance_upper_bound=2.0 * eps * (1.0 + 1e-9),
                             workers=workers)
    risky = multi[np.isfinite(d[:, 1])]
    if len(risky) == 0:
        return keep
    tree_r = cKDTree(pos[ent_pos[risky]])
    risky_group = ent_g[risky].astype(np.int64)
    n_risky = np.asarray(tree_r.query_ball_point(pos[cand], eps, return_length=True,
                                                 workers=workers))
    affected = np.flatnonzero(n_risky >= 2)
    if len(affected) == 0:
        return keep
    tree_e = cKDTree(pos[ent_pos])
    cum = np.cumsum(n_risky[affected])
    lo = 0
    while lo < len(affected):  # chunks listing at most _BUDGET (position, entry) pairs
        done = cum[lo - 1] if lo else 0
        hi = max(lo + 1, int(np.searchsorted(cum, done + _BUDGET, side="right")))
        sub = affected[lo:hi]
        pts = pos[cand[sub]]
        total = np.asarray(tree_e.query_ball_point(pts, eps, return_length=True, workers=workers))
        sdm = cKDTree(pts).sparse_distance_matrix(tree_r, eps, output_type="ndarray")
        owner = sdm["i"].astype(np.int64)
        uniq = np.unique(owner * n_groups + risky_group[sdm["j"]])
        distinct = np.bincount(uniq // n_groups, minlength=len(sub))
        lens = np.bincount(owner, minlength=len(sub))
        keep[sub] = total - (lens - distinct) >= min_samples
        lo = hi
    return keep


def _pairs_dbscan(
    x: np.ndarray, pairs: np.ndarray, min_samples: int, groups: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Small-input path: everything from one ``query_pairs`` (same result as the grid)."""
    n = len(x)
    pairs = pairs.astype(np.int64)
    i = np.r_[pairs[:, 0], pairs[:, 1]]
    j = np.r_[pairs[:, 1], pairs[:, 0]]
    if groups is None:
        counts = 1 + np.bincount(i, minlength=n)
    else:
        _, g = np.unique(np.asarray(groups), return_inverse=True)
        g = g.ravel().astype(np.int64)
        n_g = int(g.max()) + 1
        # distinct (point, group) keys by sorting (np.unique's hash path is ~50x slower
        # on a million distinct keys)
        key = np.r_[np.arange(n, dtype=np.int64), i] * n_g + np.r_[g, g[j]]
        key.sort()
        own = key[np.r_[True, key[1:] != key[:-1]]]
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


def _pair_bound(x: np.ndarray, eps: float) -> int:
    """An upper bound on the number of point pairs within ``eps``: on a grid of cells of
    side ``eps``, each point pairs at most with the points of the 3^dim cells around its own."""
    ijk = np.floor((x - x.min(axis=0)) / (eps * (1.0 + 1e-9))).astype(np.int64)  # side > eps: rounding
    cells = _Cells(ijk, pad=1)
    cnt = np.bincount(cells.of_point, minlength=cells.n)
    around = np.zeros(cells.n, dtype=np.int64)
    for off in itertools.product((-1, 0, 1), repeat=x.shape[1]):
        nb = cells.lookup(cells.ijk + np.array(off, dtype=np.int64))
        around += np.where(nb >= 0, cnt[np.maximum(nb, 0)], 0)
    return int((cnt * around).sum() - len(x)) // 2


def _positions_dbscan(pos: np.ndarray, w: np.ndarray, eps: float, min_samples: int,
                      ent: tuple[np.ndarray, np.ndarray] | None,
                      workers: int) -> tuple[np.ndarray, np.ndarray]:
    """DBSCAN on distinct positions of weight ``w``; ``ent`` = (position, group) of each
    entry when groups count once."""
    n, dim = pos.shape
    side = eps / np.sqrt(dim) * (1.0 - 1e-9)
    rel = pos - pos.min(axis=0)
    ijk = np.floor(rel / side).astype(np.int64)
    cells = _Cells(ijk)
    order = np.argsort(cells.of_point, kind="stable")  # by cell: cache-friendly queries
    rel, ijk, w, cp = rel[order], ijk[order], w[order], cells.of_point[order]
    back = np.empty(n, dtype=np.int64)
    back[order] = np.arange(n)
    if ent is not None:
        ent = (back[ent[0]], ent[1])
    # a cell holding min_samples points (distinct groups) makes all of them core
    if ent is None:
        dense_cell = np.bincount(cp, weights=w, minlength=cells.n) >= min_samples
    else:
        ent_pos, ent_g = ent
        n_g = int(ent_g.max()) + 1
        pair = np.unique(cp[ent_pos] * n_g + ent_g)
        dense_cell = np.bincount(pair // n_g, minlength=cells.n) >= min_samples
    sure = dense_cell[cp]
    cores = sure.copy()
    todo = np.flatnonzero(~sure)
    ub = np.nextafter(eps, np.inf)  # closed ball: distance <= eps
    if len(todo):
        if min_samples <= 1:
            cores[todo] = True
        else:  # the weights of the first min_samples positions (itself first) within eps
            tree = cKDTree(rel, leafsize=32, balanced_tree=False, compact_nodes=False)
            step = max(1, _QUERY_ROWS // min_samples)
            for lo in range(0, len(todo), step):
                rows = todo[lo : lo + step]
                _, nn = tree.query(rel[rows], k=min_samples, distance_upper_bound=ub,
                                   workers=workers)
                nn = nn.reshape(len(rows), -1)
                wsum = np.where(nn < n, w[np.minimum(nn, n - 1)], 0).sum(axis=1)
                cores[rows] = wsum >= min_samples
            del tree
    if ent is not None:
        cand = np.flatnonzero(cores & ~sure)
        cores[cand] = _distinct_core(rel, ent[0], ent[1], cand, eps, min_samples, workers)
    labels = np.full(n, -1, dtype=np.int64)
    core_idx = np.flatnonzero(cores)
    if len(core_idx) == 0:
        return labels, cores[back]
    comp = _core_components(rel[core_idx], ijk[core_idx], side, eps, workers)
    labels[core_idx] = comp
    rest = np.flatnonzero(~cores)
    if len(rest):  # border: nearest core within eps
        d, j = cKDTree(rel[core_idx], leafsize=32).query(rel[rest], k=1, distance_upper_bound=ub,
                                                          workers=workers)
        ok = np.isfinite(d)
        labels[rest[ok]] = comp[j[ok]]
    return labels[back], cores[back]


def grid_dbscan(
    points: np.ndarray,
    *,
    eps: float,
    min_samples: int,
    groups: np.ndarray | None = None,
    workers: int = -1,
    max_pairs: int = 0,
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
    max_pairs : int
        Above the small-input size too, cluster from one list of all neighbour pairs when
        there can be at most this many (a bound from a grid of side ``eps``): faster where
        the points are not crowded (the scan's replicates, whose times are shuffled), with
        memory proportional to ``max_pairs``. 0: the grid (memory linear in ``n``). The
        clusters are the same, up to ties: a border point equidistant from two clusters'
        cores may join the other one, and points exactly ``eps`` apart may be rounded
        differently by the two paths.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
        Cluster number (0, 1, …, arbitrary order) or -1 for noise.
    core : ndarray of bool, shape (n,)
        Core-point mask.

    Notes
    -----
    Memory is linear in ``n`` whatever the density (no neighbour lists are kept).
    """
    x = np.ascontiguousarray(points, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("points must be a 2-D array")
    n = len(x)
    if n == 0:
        return np.full(0, -1, dtype=np.int64), np.zeros(0, dtype=bool)
    eps = float(eps)
    if not eps > 0:
        raise ValueError("eps must be positive")
    if n <= _SMALL:
        tree = cKDTree(x)
        if (tree.count_neighbors(tree, eps) - n) // 2 <= _SMALL_PAIRS:
            pairs = tree.query_pairs(eps, output_type="ndarray")
            return _pairs_dbscan(x, pairs, min_samples, groups)
    elif max_pairs > 0 and _pair_bound(x, eps) <= max_pairs:
        pairs = cKDTree(x).query_pairs(eps, output_type="ndarray")
        return _pairs_dbscan(x, pairs, min_samples, groups)
    if groups is None:
        pos, pt_pos, w = _unique_rows(x)
        ent = None
    else:
        _, g = np.unique(np.asarray(groups), return_inverse=True)
        rows, pt_ent, _ = _unique_rows(np.column_stack([x, g.ravel().astype(np.float64)]))
        pos, ent_pos, w = _unique_rows(rows[:, :-1])
        ent = (ent_pos, rows[:, -1].astype(np.int64))
        pt_pos = ent_pos[pt_ent]
    lab, core = _positions_dbscan(pos, w, eps, min_samples, ent, workers)
    return lab[pt_pos], core[pt_pos]
