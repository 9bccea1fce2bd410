r"""Classical TSP baselines of the BQ-NCO experiments: nearest neighbour and 2-opt local search.

Both work on any distance matrix (2-opt's segment reversal assumes symmetry: on an asymmetric matrix it
evaluates every move exactly, by recomputing the reversed segment's length, which is :math:`O(n)` per move).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mdpkit.combinatorial.problems import TSPInstance, validate_distance_matrix

__all__ = ["nearest_neighbour", "two_opt"]


def _d(dist: object) -> np.ndarray:
    return dist.dist if isinstance(dist, TSPInstance) else validate_distance_matrix(dist)


@nb.njit(cache=True)
def _nn(d: np.ndarray, start: int) -> np.ndarray:
    n = d.shape[0]
    used = np.zeros(n, dtype=np.bool_)
    tour = np.empty(n, dtype=np.int64)
    tour[0] = start
    used[start] = True
    for t in range(1, n):
        j = tour[t - 1]
        best, bk = np.inf, -1
        for k in range(n):
            if not used[k] and d[j, k] < best:
                best, bk = d[j, k], k
        tour[t] = bk
        used[bk] = True
    return tour


def nearest_neighbour(dist: object) -> tuple[float, list[int]]:
    r"""Nearest-neighbour tour from node 0: always move to the closest unvisited node (Rosenkrantz et al.
    1977; at most :math:`O(\log n)` times optimal on metric instances). Returns ``(length, tour)``."""
    d = _d(dist)
    tour = _nn(d, 0)
    return float(d[tour, np.roll(tour, -1)].sum()), [int(v) for v in tour]


@nb.njit(cache=True)
def _two_opt(d: np.ndarray, tour: np.ndarray, max_rounds: int) -> np.ndarray:
    n = tour.shape[0]
    t = tour.copy()
    sym = True
    for i in range(n):
        for j in range(n):
            if d[i, j] != d[j, i]:
                sym = False
    for _ in range(max_rounds):
        improved = False
        for i in range(1, n - 1):
            for j in range(i + 1, n):
                a, b = t[i - 1], t[i]
                c, e = t[j], t[(j + 1) % n]
                if sym:
                    delta = d[a, c] + d[b, e] - d[a, b] - d[c, e]
                else:
                    old = d[a, b] + d[c, e]
                    new = d[a, c] + d[b, e]
                    for k in range(i, j):
                        old += d[t[k], t[k + 1]]
                        new += d[t[k + 1], t[k]]
                    delta = new - old
                if delta < -1e-12:
                    lo, hi = i, j
                    while lo < hi:
                        tmp = t[lo]
                        t[lo] = t[hi]
                        t[hi] = tmp
                        lo += 1
                        hi -= 1
                    improved = True
        if not improved:
            break
    return t


def two_opt(
    dist: object, tour: list[int] | np.ndarray | None = None, max_rounds: int = 1000
) -> tuple[float, list[int]]:
    r"""2-opt local search (Croes 1958): reverse a segment :math:`\tau_i..\tau_j` while that shortens the
    tour (first improvement, until no move helps or ``max_rounds`` sweeps). Starts from ``tour`` (default:
    the nearest-neighbour tour); node 0 stays first. Returns ``(length, tour)``."""
    d = _d(dist)
    n = d.shape[0]
    t0 = _nn(d, 0) if tour is None else np.asarray(tour, dtype=np.int64)
    if n <= 3:
        return float(d[t0, np.roll(t0, -1)].sum()), [int(v) for v in t0]
    t = _two_opt(d, t0, int(max_rounds))
    return float(d[t, np.roll(t, -1)].sum()), [int(v) for v in t]
