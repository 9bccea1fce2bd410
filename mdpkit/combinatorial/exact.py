r"""Exact dynamic programming on the BQ-MDPs: Held-Karp (TSP/ATSP), CVRP, OP and knapsack.

Each solver computes the optimal value function of the problem's BQ-MDP (Drakulic et al., NeurIPS 2023,
§3.2: the state is the remaining sub-instance) by backward induction over bitmask tables, then follows the
greedy policy from the initial state. Since an optimal policy of the BQ-MDP yields an optimal solution of the
original problem (the BQ-MDP is a bisimulation quotient of the direct MDP, §3.1-3.2), these are exact
solvers; :mod:`mdpkit.combinatorial.brute_force` checks them against enumeration.

* TSP / ATSP (Held & Karp 1962): BQ state = path-TSP from the current node :math:`j` through the remaining
  set :math:`U` back to the origin 0,
  :math:`V(U, j) = \min_{k \in U} d(j, k) + V(U \setminus k, k)`, :math:`V(\emptyset, j) = d(j, 0)`.
  Time :math:`O(2^{n-1} (n-1)^2)`, memory :math:`2^{n-1}(n-1)` float64 + int8 (90 MB at n = 20).
* CVRP: BQ state adds the remaining capacity :math:`c`; a move to :math:`k` is direct (if
  :math:`q_k \le c`) or via the depot (refill), exactly BQ-NCO's CVRP action set.
* OP: BQ state adds the remaining budget :math:`b`; among states with the same remaining set and current
  node the largest budget dominates, so the table of least consumed lengths is exact.
* KP: BQ state = (remaining items, remaining capacity). The value depends on the chosen set only, so
  deciding the items in index order loses nothing: :math:`F(i, c) = \max(F(i+1, c), v_i + F(i+1, c-w_i))`
  for integer data; for real data the exact Pareto-front DP (Nemhauser & Ullmann 1969) over the same order.
"""

from __future__ import annotations

import numpy as np

from mdpkit.combinatorial import _numba as K
from mdpkit.combinatorial.problems import (
    FEAS_TOL,
    CVRPInstance,
    InvalidInstanceError,
    KPInstance,
    OPInstance,
    TSPInstance,
    validate_distance_matrix,
)
from mdpkit.errors import InvalidArgumentError

__all__ = [
    "MAX_HELD_KARP_N",
    "MAX_CVRP_N",
    "MAX_OP_N",
    "solve_tsp",
    "solve_cvrp",
    "solve_op",
    "solve_knapsack",
    "tsp_value_table",
]

#: Largest TSP size Held-Karp accepts (2^(n-1) (n-1) doubles: 352 MB at n = 22).
MAX_HELD_KARP_N = 22
#: Largest CVRP / OP customer counts the bitmask tables accept.
MAX_CVRP_N = 16
MAX_OP_N = 20


def solve_tsp(dist: object) -> tuple[float, list[int]]:
    r"""Optimal (A)TSP tour by Held-Karp dynamic programming on the BQ-MDP (path-TSP sub-instances).

    Parameters
    ----------
    dist : array_like (n, n) or TSPInstance
        Distances :math:`d(i, j) \ge 0`, finite, asymmetric allowed; the diagonal is ignored.
        :math:`1 \le n \le` :data:`MAX_HELD_KARP_N`.

    Returns
    -------
    length : float
        :math:`\min_\tau \sum_{t} d(\tau_t, \tau_{t+1 \bmod n})`.
    tour : list of int
        An optimal tour, a permutation of ``0..n-1`` starting at node 0 (``[0]`` for n = 1).

    Raises
    ------
    InvalidInstanceError
        ``dist`` is not a finite non-negative square matrix with n >= 1.
    InvalidArgumentError
        ``n > MAX_HELD_KARP_N`` (the table would not fit in memory).
    """
    d = dist.dist if isinstance(dist, TSPInstance) else validate_distance_matrix(dist)
    n = d.shape[0]
    if n > MAX_HELD_KARP_N:
        raise InvalidArgumentError(
            f"Held-Karp needs 2^(n-1)(n-1) table entries; n = {n} > MAX_HELD_KARP_N = {MAX_HELD_KARP_N}"
        )
    if n == 1:
        return 0.0, [0]
    if n == 2:
        return float(d[0, 1] + d[1, 0]), [0, 1]
    V, choice = K.held_karp_values(d)
    length, tour = K.held_karp_tour(d, V, choice)
    return float(length), [int(v) for v in tour]


def tsp_value_table(dist: object) -> np.ndarray:
    r"""The optimal value function of the TSP BQ-MDP: ``V[U, j-1]`` = shortest path from ``j`` through the
    remaining set ``U`` (bitmask over nodes ``1..n-1``, bit ``i-1`` for node ``i``) to node 0; ``inf`` where
    ``j`` is in ``U``. Shape :math:`(2^{n-1}, n-1)`; n >= 2."""
    d = dist.dist if isinstance(dist, TSPInstance) else validate_distance_matrix(dist)
    if d.shape[0] < 2 or d.shape[0] > MAX_HELD_KARP_N:
        raise InvalidArgumentError(f"tsp_value_table needs 2 <= n <= {MAX_HELD_KARP_N}, got n = {d.shape[0]}")
    return K.held_karp_values(d)[0]


def solve_cvrp(inst: CVRPInstance) -> tuple[float, list[list[int]]]:
    r"""Optimal CVRP solution by DP on the BQ-MDP (current node, remaining customers, remaining capacity).

    Returns ``(cost, routes)``: the least total length and a list of routes (customer lists, each served
    from the depot with load :math:`\le Q`). Memory :math:`2^n (n+1)(Q+1)` doubles; :math:`n \le`
    :data:`MAX_CVRP_N`.
    """
    if not isinstance(inst, CVRPInstance):
        raise InvalidInstanceError(f"solve_cvrp expects a CVRPInstance, got {type(inst).__name__}")
    n, Q = inst.n, inst.capacity
    if n > MAX_CVRP_N:
        raise InvalidArgumentError(f"solve_cvrp: n = {n} customers > MAX_CVRP_N = {MAX_CVRP_N}")
    if n == 0:
        return 0.0, []
    V, choice = K.cvrp_values(inst.dist, inst.demands, Q)
    U, j, c = (1 << n) - 1, 0, Q
    value = float(V[U, j, c])
    routes: list[list[int]] = [[]]
    while U:
        a = int(choice[U, j, c])
        k, via = a // 2, a % 2
        if via:
            if routes[-1]:
                routes.append([])
            c = Q
        routes[-1].append(k)
        c -= int(inst.demands[k])
        U ^= 1 << (k - 1)
        j = k
    return value, routes


def solve_op(inst: OPInstance) -> tuple[float, list[int]]:
    r"""Optimal orienteering route by DP on the BQ-MDP (current node, remaining nodes, remaining budget).

    Returns ``(prize, route)``: the largest prize :math:`\sum_{i \in \text{route}} p_i` over depot tours of
    length :math:`\le T` + :data:`FEAS_TOL`, and such a route (customer sequence, depot excluded). Among the
    optimal routes the shortest is returned. :math:`n \le` :data:`MAX_OP_N`.
    """
    if not isinstance(inst, OPInstance):
        raise InvalidInstanceError(f"solve_op expects an OPInstance, got {type(inst).__name__}")
    n = inst.n
    if n > MAX_OP_N:
        raise InvalidArgumentError(f"solve_op: n = {n} nodes > MAX_OP_N = {MAX_OP_N}")
    if n == 0:
        return 0.0, []
    L, parent = K.op_min_lengths(inst.dist)
    size = 1 << n
    masks = np.arange(size)
    bits = ((masks[:, None] >> np.arange(n)[None, :]) & 1).astype(np.float64)
    prize = bits @ inst.prizes[1:]
    total = L + inst.dist[1:, 0][None, :]
    feasible = total <= inst.budget + FEAS_TOL
    best_val, best_len, best = 0.0, 0.0, (0, -1)
    S_idx, j_idx = np.nonzero(feasible)
    for S, j in zip(S_idx.tolist(), j_idx.tolist(), strict=True):
        val, length = float(prize[S]), float(total[S, j])
        if val > best_val or (val == best_val and best[1] >= 0 and length < best_len):
            best_val, best_len, best = val, length, (S, j)
    S, j = best
    route: list[int] = []
    node = j + 1
    while S and j >= 0:
        route.append(node)
        prev = int(parent[S, node - 1])
        S ^= 1 << (node - 1)
        node = prev
    return best_val, route[::-1]


def solve_knapsack(values: object, weights: object, capacity: object) -> tuple[float, list[int]]:
    r"""Optimal 0/1 knapsack by DP on the KP BQ-MDP (remaining items, remaining capacity).

    Parameters
    ----------
    values, weights : array_like (n,)
        :math:`v_i \ge 0`, :math:`w_i \ge 0`, finite.
    capacity : float
        :math:`C \ge 0`.

    Returns
    -------
    value : float
        :math:`\max \{\sum_{i \in I} v_i : \sum_{i \in I} w_i \le C\}`.
    items : list of int
        An optimal item set, sorted.

    Notes
    -----
    Integer weights and capacity (up to :math:`n C \le 5 \cdot 10^7`): the table
    :math:`F(i, c)` (numba). Otherwise the exact Pareto-front recursion: the non-dominated
    (weight, value) pairs of subsets of items ``0..i`` with weight :math:`\le C` + :data:`FEAS_TOL`.
    """
    inst = values if isinstance(values, KPInstance) else KPInstance(values, weights, capacity)
    v, w, C = inst.values, inst.weights, inst.capacity
    n = inst.n
    if n == 0:
        return 0.0, []
    integral = bool(np.all(w == np.round(w))) and C == round(C)
    Ci = int(min(C, w.sum())) if integral else 0
    if integral and (n + 1) * (Ci + 1) <= 5 * 10**7:
        wi = w.astype(np.int64)
        F = K.knapsack_int_table(v, wi, Ci)
        items, c = [], Ci
        for i in range(n):
            if F[i, c] != F[i + 1, c]:
                items.append(i)
                c -= int(wi[i])
        return float(F[0, Ci]), items
    return _knapsack_pareto(v, w, C)


def _knapsack_pareto(v: np.ndarray, w: np.ndarray, C: float) -> tuple[float, list[int]]:
    """Nemhauser-Ullmann: keep the Pareto front of (weight, value) over subsets, with back-pointers."""
    W = np.zeros(1)
    Val = np.zeros(1)
    fronts: list[tuple[np.ndarray, np.ndarray]] = []  # per item: (from-index, took?) for each front point
    for i in range(v.shape[0]):
        W2, V2 = W + w[i], Val + v[i]
        ok = W2 <= C + FEAS_TOL
        allW = np.concatenate([W, W2[ok]])
        allV = np.concatenate([Val, V2[ok]])
        src = np.concatenate([np.arange(W.shape[0]), np.nonzero(ok)[0]])
        took = np.concatenate([np.zeros(W.shape[0], bool), np.ones(int(ok.sum()), bool)])
        order = np.lexsort((-allV, allW))  # by weight, then larger value first
        allW, allV, src, took = allW[order], allV[order], src[order], took[order]
        keep = allV > np.concatenate([[-np.inf], np.maximum.accumulate(allV)[:-1]])
        W, Val = allW[keep], allV[keep]
        fronts.append((src[keep], took[keep]))
    idx = int(np.argmax(Val))
    best = float(Val[idx])
    items = []
    for i in range(v.shape[0] - 1, -1, -1):
        src, took = fronts[i]
        if took[idx]:
            items.append(i)
        idx = int(src[idx])
    return best, sorted(items)
