"""Pareto-dominance utilities (pure functions).

Convention: every objective vector is in *minimization* form (callers flip the sign of
maximized objectives before calling).  Point sets are float arrays of shape ``(n, m)``;
NaN is not supported (failed candidates never reach these functions), ``+/-inf`` is.

``a`` dominates ``b`` iff ``a <= b`` in every objective and ``a < b`` in at least one.
Hence equal points never dominate each other: duplicates of a non-dominated point are all
non-dominated and duplicates always share a rank.
"""

from __future__ import annotations

import math

import moocore
import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "crowding_distance",
    "dominates",
    "frontwise_crowding_distance",
    "hypervolume",
    "non_dominated_mask",
    "non_dominated_sort",
    "pareto_front",
]


def _as_points(points: ArrayLike) -> np.ndarray:
    arr = np.asarray(points, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"points must be a 2-D array of shape (n, m), got shape {arr.shape}")
    if arr.shape[1] == 0 and arr.shape[0] > 0:
        raise ValueError("points must have at least one objective")
    return arr


def _order_preserving(points: np.ndarray) -> np.ndarray:
    """Points safe to hand to moocore.

    moocore 0.3.2 crashes (segfault) on some inputs holding ``-inf`` (e.g.
    ``is_nondominated([[0, -inf, 1], [0, 0, 0]])``).  Dominance only depends on the order of
    the values inside each objective, so non-finite inputs are replaced column-wise by their
    dense ranks (ties kept equal), which gives exactly the same dominance relation.
    """
    if np.isfinite(points).all():
        return points
    out = np.empty_like(points)
    for j in range(points.shape[1]):
        out[:, j] = np.unique(points[:, j], return_inverse=True)[1].reshape(-1)
    return out


def dominates(a: ArrayLike, b: ArrayLike) -> bool:
    """True iff ``a`` Pareto-dominates ``b`` (minimization): ``a <= b`` everywhere, ``<`` once."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"expected two 1-D vectors of equal length, got {a.shape} and {b.shape}")
    return bool(np.all(a <= b) and np.any(a < b))


def _non_dominated_mask_2d(points: np.ndarray) -> np.ndarray:
    """O(n log n) sweep: sort by (f1, f2); within a run of equal f1 only the minimal f2 can
    survive, and it survives iff it is strictly below the best f2 of every smaller f1."""
    n = points.shape[0]
    x, y = points[:, 0], points[:, 1]
    order = np.lexsort((y, x))
    xs, ys = x[order], y[order]
    group_start = np.empty(n, dtype=bool)
    group_start[0] = True
    group_start[1:] = xs[1:] != xs[:-1]
    group_id = np.cumsum(group_start) - 1
    group_min = ys[group_start]  # sorted by y inside each group, so the first is the minimum
    # a group's minimum survives iff it beats the best f2 of all groups with a smaller f1
    group_ok = np.empty(group_min.shape[0], dtype=bool)
    group_ok[0] = True
    group_ok[1:] = group_min[1:] < np.minimum.accumulate(group_min)[:-1]
    keep_sorted = group_ok[group_id] & (ys == group_min[group_id])
    mask = np.empty(n, dtype=bool)
    mask[order] = keep_sorted
    return mask


def non_dominated_mask(points: ArrayLike) -> np.ndarray:
    """Boolean mask of the points not dominated by any other point (duplicates all kept).

    m == 1 and m == 2 use an O(n log n) sort-based sweep; m >= 3 uses
    ``moocore.is_nondominated(..., keep_weakly=True)``.
    """
    pts = _as_points(points)
    n, m = pts.shape
    if n == 0:
        return np.zeros(0, dtype=bool)
    if m == 1:
        return pts[:, 0] == pts[:, 0].min()
    if m == 2:
        return _non_dominated_mask_2d(pts)
    safe = _order_preserving(pts)
    return np.asarray(moocore.is_nondominated(safe, keep_weakly=True), dtype=bool)


def non_dominated_sort(points: ArrayLike) -> np.ndarray:
    """Front index of every point (0 = non-dominated, 1 = non-dominated once front 0 is
    removed, ...), as in NSGA-II's fast non-dominated sort; duplicates share a rank.

    Delegates to ``moocore.pareto_rank``.
    """
    pts = _as_points(points)
    if pts.shape[0] == 0:
        return np.zeros(0, dtype=np.intp)
    return np.asarray(moocore.pareto_rank(_order_preserving(pts)), dtype=np.intp)


def frontwise_crowding_distance(points: ArrayLike, ranks: ArrayLike) -> np.ndarray:
    """NSGA-II crowding distance computed independently inside every front.

    ``ranks[i]`` is the front of ``points[i]``.  Equivalent to calling
    :func:`crowding_distance` on each front separately, but vectorized over all fronts.
    """
    pts = _as_points(points)
    rk = np.asarray(ranks)
    n, m = pts.shape
    if rk.shape != (n,):
        raise ValueError(f"ranks must have shape ({n},), got {rk.shape}")
    dist = np.zeros(n, dtype=float)
    if n == 0:
        return dist
    index = np.arange(n)
    for j in range(m):
        # stable order: by front, then objective value, then position (ties broken by index)
        order = np.lexsort((index, pts[:, j], rk))
        r = rk[order]
        v = pts[order, j]
        first = np.empty(n, dtype=bool)
        first[0] = True
        first[1:] = r[1:] != r[:-1]
        last = np.empty(n, dtype=bool)
        last[-1] = True
        last[:-1] = r[1:] != r[:-1]
        # range of the objective inside each point's front
        front_id = np.cumsum(first) - 1
        with np.errstate(invalid="ignore"):
            span = (v[last] - v[first])[front_id]
        interior = ~(first | last)
        contrib = np.zeros(n, dtype=float)
        if interior.any():
            pos = np.flatnonzero(interior)
            gap = v[pos + 1] - v[pos - 1]
            s = span[pos]
            with np.errstate(invalid="ignore", divide="ignore"):
                c = gap / s
            # a degenerate (zero) or non-finite objective range contributes nothing
            c[~np.isfinite(s) | (s <= 0) | ~np.isfinite(c)] = 0.0
            contrib[pos] = c
        contrib[first | last] = np.inf
        dist[order] += contrib
    return dist


def crowding_distance(points: ArrayLike) -> np.ndarray:
    """NSGA-II crowding distance (Deb et al. 2002) of the points of ONE front.

    For each objective the points are sorted (ties broken by position, stable); the two
    boundary points get ``inf`` and every interior point adds
    ``(f[next] - f[prev]) / (f_max - f_min)``.  An objective whose range is zero (or not
    finite) adds nothing to the interior points.  With two or fewer points all are ``inf``.
    """
    pts = _as_points(points)
    return frontwise_crowding_distance(pts, np.zeros(pts.shape[0], dtype=np.intp))


def hypervolume(points: ArrayLike, reference: ArrayLike) -> float:
    """Hypervolume dominated by ``points`` and bounded by ``reference`` (minimization).

    Points that do not strictly dominate the reference point (some coordinate >= the
    reference's) contribute no volume and are ignored.  Uses ``moocore.hypervolume``.
    The reference must be finite; the result is ``inf`` when a remaining point has a
    ``-inf`` coordinate (or a coordinate so far below the reference that the span overflows).
    """
    pts = _as_points(points)
    ref = np.asarray(reference, dtype=float)
    if ref.ndim != 1 or (pts.shape[0] > 0 and ref.shape[0] != pts.shape[1]):
        raise ValueError(
            f"reference must be a 1-D vector of length {pts.shape[1]}, got shape {ref.shape}"
        )
    if not np.isfinite(ref).all():
        raise ValueError(f"reference must be finite, got {ref}")
    if pts.shape[0] == 0:
        return 0.0
    inside = pts[np.all(pts < ref, axis=1)]
    if inside.shape[0] == 0:
        return 0.0
    with np.errstate(over="ignore"):
        spans = ref - inside
    if not np.isfinite(spans).all():  # moocore 0.3.2 can crash here instead of returning inf
        return math.inf
    return float(moocore.hypervolume(inside, ref=ref))


def pareto_front(points: ArrayLike) -> np.ndarray:
    """Indices of the non-dominated points (duplicates kept), sorted by the first objective
    (ties by the following objectives, then by index)."""
    pts = _as_points(points)
    idx = np.flatnonzero(non_dominated_mask(pts))
    if idx.size == 0:
        return idx.astype(np.intp)
    sub = pts[idx]
    keys = (idx,) + tuple(sub[:, j] for j in range(sub.shape[1] - 1, -1, -1))
    return idx[np.lexsort(keys)].astype(np.intp)
