r"""Exhaustive enumeration of the five problems: the ground truth of the exact-DP tests (n <= 9).

Independent of the dynamic programmes in :mod:`mdpkit.combinatorial.exact`: every permutation (or subset)
is evaluated with vectorised numpy. TSP: all :math:`(n-1)!` tours from node 0. CVRP: every customer order
with every split into consecutive routes (:math:`n!\, 2^{n-1}`), evaluated in one pass per order by the
optimal split recursion over route end points. OP: every ordered subset is a prefix of some permutation, so
all prefixes of all :math:`n!` orders. KP: all :math:`2^n` subsets.
"""

from __future__ import annotations

import itertools

import numpy as np

from mdpkit.combinatorial.problems import (
    FEAS_TOL,
    CVRPInstance,
    KPInstance,
    OPInstance,
    TSPInstance,
    validate_distance_matrix,
)
from mdpkit.errors import InvalidArgumentError

__all__ = ["MAX_BRUTE_N", "brute_tsp", "brute_cvrp", "brute_op", "brute_kp"]

#: Enumeration limit (10! = 3.6 million orders).
MAX_BRUTE_N = 10


def _perms(items: list[int]) -> np.ndarray:
    if len(items) > MAX_BRUTE_N:
        raise InvalidArgumentError(f"brute force over {len(items)} > MAX_BRUTE_N = {MAX_BRUTE_N} nodes")
    return np.array(list(itertools.permutations(items)), dtype=np.int64).reshape(-1, len(items))


def brute_tsp(dist: object) -> float:
    r""":math:`\min_\tau` tour length over all :math:`(n-1)!` tours starting at 0 (dist (n, n))."""
    d = dist.dist if isinstance(dist, TSPInstance) else validate_distance_matrix(dist)
    n = d.shape[0]
    if n == 1:
        return 0.0
    P = _perms(list(range(1, n)))
    full = np.concatenate([np.zeros((P.shape[0], 1), np.int64), P, np.zeros((P.shape[0], 1), np.int64)], 1)
    return float(d[full[:, :-1], full[:, 1:]].sum(axis=1).min())


def brute_cvrp(inst: CVRPInstance) -> float:
    r"""Least CVRP cost over every customer order and every split of it into capacity-feasible routes."""
    n, d, q, Q = inst.n, inst.dist, inst.demands, inst.capacity
    if n == 0:
        return 0.0
    P = _perms(list(range(1, n + 1)))
    B = P.shape[0]
    # best[t] = least cost serving the first t customers of the order, ending at the depot
    best = np.full((B, n + 1), np.inf)
    best[:, 0] = 0.0
    rows = np.arange(B)
    for end in range(1, n + 1):
        for start in range(end):  # route serves order[start:end]
            seg = P[:, start:end]
            load = q[seg].sum(axis=1)
            inner = d[seg[:, :-1], seg[:, 1:]].sum(axis=1) if end - start > 1 else 0.0
            cost = d[0, seg[:, 0]] + inner + d[seg[:, -1], 0]
            cand = np.where(load <= Q, best[:, start] + cost, np.inf)
            best[rows, end] = np.minimum(best[rows, end], cand)
    return float(best[:, n].min())


def brute_op(inst: OPInstance) -> float:
    r"""Largest OP prize over all ordered node subsets (prefixes of all orders) of length <= T."""
    n, d, p = inst.n, inst.dist, inst.prizes
    if n == 0:
        return 0.0
    P = _perms(list(range(1, n + 1)))
    best = 0.0
    length = d[0, P[:, 0]].copy()
    prize = p[P[:, 0]].copy()
    for t in range(n):
        if t > 0:
            length += d[P[:, t - 1], P[:, t]]
            prize += p[P[:, t]]
        ok = length + d[P[:, t], 0] <= inst.budget + FEAS_TOL
        if ok.any():
            best = max(best, float(prize[ok].max()))
    return best


def brute_kp(inst: KPInstance) -> float:
    r"""Largest knapsack value over all :math:`2^n` subsets with weight <= C."""
    n = inst.n
    if n > 22:
        raise InvalidArgumentError(f"brute_kp over {n} > 22 items")
    if n == 0:
        return 0.0
    masks = np.arange(1 << n)
    bits = ((masks[:, None] >> np.arange(n)[None, :]) & 1).astype(np.float64)
    ok = bits @ inst.weights <= inst.capacity + FEAS_TOL
    return float((bits @ inst.values)[ok].max())
