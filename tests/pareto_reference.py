"""Brute-force references for Pareto logic (O(n^2) definitions), shared by the pareto and
selection tests."""

from __future__ import annotations

import math

INF = math.inf


def bf_dominates(a, b) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(
        x < y for x, y in zip(a, b, strict=True)
    )


def bf_ranks(points: list[list[float]]) -> list[int]:
    """Peel fronts one at a time (definition of non-dominated sorting)."""
    ranks = [-1] * len(points)
    remaining = set(range(len(points)))
    r = 0
    while remaining:
        front = {
            i for i in remaining if not any(bf_dominates(points[j], points[i]) for j in remaining)
        }
        for i in front:
            ranks[i] = r
        remaining -= front
        r += 1
    return ranks


def bf_crowding(points: list[list[float]]) -> list[float]:
    """Literal Deb et al. (2002) crowding-distance assignment; ties sorted by position."""
    n = len(points)
    dist = [0.0] * n
    if n == 0:
        return dist
    m = len(points[0])
    for j in range(m):
        order = sorted(range(n), key=lambda i: (points[i][j], i))
        fmin, fmax = points[order[0]][j], points[order[-1]][j]
        dist[order[0]] = INF
        dist[order[-1]] = INF
        for k in range(1, n - 1):
            i = order[k]
            if fmax > fmin:
                dist[i] += (points[order[k + 1]][j] - points[order[k - 1]][j]) / (fmax - fmin)
    return dist
