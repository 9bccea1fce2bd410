"""numba kernels of the exact dynamic programmes on BQ-MDP states (bitmask tables); private.

Conventions: customer/node ``i >= 1`` is bit ``i - 1`` of a mask ``U`` of *remaining* (unvisited) nodes;
node 0 is the origin / depot. Tables are indexed ``[U, ...]`` and filled in increasing ``U``, which is a
topological order of the BQ-MDP (every transition removes one bit, so ``U \\ {k} < U``).
"""

from __future__ import annotations

import numba as nb
import numpy as np

INF = np.inf


@nb.njit(cache=True)
def held_karp_values(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cost-to-go ``V[U, j-1]`` of the path-TSP BQ state (current j, remaining U, destination 0) and choices.

    ``V[0, j-1] = d[j, 0]``; ``V[U, j-1] = min_{k in U} d[j, k] + V[U - {k}, k-1]`` for ``j not in U``.
    ``choice[U, j-1]`` is the minimising ``k`` (int8). Entries with ``j in U`` are unused (left at inf).
    """
    n = d.shape[0]
    m = n - 1
    size = 1 << m
    V = np.full((size, m), INF)
    choice = np.full((size, m), -1, dtype=np.int8)
    for j in range(1, n):
        V[0, j - 1] = d[j, 0]
    for U in range(1, size):
        for j in range(1, n):
            if (U >> (j - 1)) & 1:
                continue
            best = INF
            bk = -1
            for k in range(1, n):
                if (U >> (k - 1)) & 1:
                    v = d[j, k] + V[U ^ (1 << (k - 1)), k - 1]
                    if v < best:
                        best = v
                        bk = k
            V[U, j - 1] = best
            choice[U, j - 1] = bk
    return V, choice


@nb.njit(cache=True)
def held_karp_tour(d: np.ndarray, V: np.ndarray, choice: np.ndarray) -> tuple[float, np.ndarray]:
    """Optimal closed tour from the tables of :func:`held_karp_values` (starts at node 0)."""
    n = d.shape[0]
    full = (1 << (n - 1)) - 1
    best = INF
    bk = 1
    for k in range(1, n):
        v = d[0, k] + V[full ^ (1 << (k - 1)), k - 1]
        if v < best:
            best = v
            bk = k
    tour = np.zeros(n, dtype=np.int64)
    U = full ^ (1 << (bk - 1))
    j = bk
    tour[1] = bk
    for t in range(2, n):
        k = choice[U, j - 1]
        tour[t] = k
        U ^= 1 << (k - 1)
        j = k
    return best, tour


@nb.njit(cache=True)
def cvrp_values(d: np.ndarray, q: np.ndarray, Q: int) -> tuple[np.ndarray, np.ndarray]:
    """Cost-to-go ``V[U, j, c]`` of the CVRP BQ state (current j, remaining U, remaining capacity c).

    ``V[0, j, c] = d[j, 0]``; otherwise the minimum over ``k in U`` of the direct move
    ``d[j, k] + V[U - {k}, k, c - q_k]`` (if ``q_k <= c``) and the move via the depot
    ``d[j, 0] + d[0, k] + V[U - {k}, k, Q - q_k]``. ``choice = 2 k + via``.
    """
    m = d.shape[0]  # n + 1 nodes
    n = m - 1
    size = 1 << n
    V = np.full((size, m, Q + 1), INF)
    choice = np.full((size, m, Q + 1), -1, dtype=np.int16)
    for j in range(m):
        for c in range(Q + 1):
            V[0, j, c] = d[j, 0]
    for U in range(1, size):
        for j in range(m):
            if j >= 1 and (U >> (j - 1)) & 1:
                continue
            for c in range(Q + 1):
                best = INF
                bc = -1
                for k in range(1, m):
                    if (U >> (k - 1)) & 1:
                        rest = U ^ (1 << (k - 1))
                        if q[k] <= c:
                            v = d[j, k] + V[rest, k, c - q[k]]
                            if v < best:
                                best = v
                                bc = 2 * k
                        v = d[j, 0] + d[0, k] + V[rest, k, Q - q[k]]
                        if v < best:
                            best = v
                            bc = 2 * k + 1
                V[U, j, c] = best
                choice[U, j, c] = bc
    return V, choice


@nb.njit(cache=True)
def op_min_lengths(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``L[S, j-1]``: least length of a depot path visiting exactly the set S (bitmask) and ending at j in S.

    ``L[{j}, j-1] = d[0, j]``; ``L[S, j-1] = min_{i in S - {j}} L[S - {j}, i-1] + d[i, j]``; ``parent``
    holds the minimising ``i`` (0 for singletons). This is the OP BQ-MDP's dominance table: among the BQ
    states with the same remaining set and current node, the one with the largest remaining budget
    ``T - L`` dominates (it can do everything the others can).
    """
    m = d.shape[0]
    n = m - 1
    size = 1 << n
    L = np.full((size, max(n, 1)), INF)
    parent = np.full((size, max(n, 1)), -1, dtype=np.int8)
    for S in range(1, size):
        for j in range(1, m):
            if not (S >> (j - 1)) & 1:
                continue
            prev = S ^ (1 << (j - 1))
            if prev == 0:
                L[S, j - 1] = d[0, j]
                parent[S, j - 1] = 0
                continue
            best = INF
            bi = -1
            for i in range(1, m):
                if (prev >> (i - 1)) & 1:
                    v = L[prev, i - 1] + d[i, j]
                    if v < best:
                        best = v
                        bi = i
            L[S, j - 1] = best
            parent[S, j - 1] = bi
    return L, parent


@nb.njit(cache=True)
def knapsack_int_table(values: np.ndarray, weights: np.ndarray, C: int) -> np.ndarray:
    """``F[i, c]``: best value from items ``i..n-1`` with remaining capacity ``c`` (the KP BQ state).

    ``F[n, c] = 0``; ``F[i, c] = max(F[i+1, c], v_i + F[i+1, c - w_i])`` (second term if ``w_i <= c``).
    """
    n = values.shape[0]
    F = np.zeros((n + 1, C + 1))
    for i in range(n - 1, -1, -1):
        w = weights[i]
        for c in range(C + 1):
            best = F[i + 1, c]
            if w <= c:
                v = values[i] + F[i + 1, c - w]
                if v > best:
                    best = v
            F[i, c] = best
    return F


@nb.njit(cache=True)
def direct_tsp_dp(d: np.ndarray) -> tuple[float, int]:
    """DP on the *direct* TSP MDP: recursion over every partial solution (prefix), no state merging.

    Returns the optimal tour length and the number of direct states visited (all prefixes starting at 0,
    including the complete ones). Iterative depth-first search with an explicit stack.
    """
    n = d.shape[0]
    if n == 1:
        return 0.0, 1
    path = np.zeros(n, dtype=np.int64)
    nxt = np.ones(n, dtype=np.int64)  # next candidate to try at each depth
    cost = np.zeros(n + 1)
    used = np.zeros(n, dtype=np.bool_)
    used[0] = True
    best = INF
    states = 1
    depth = 1  # path[0] = 0 fixed; we are choosing path[depth]
    nxt[1] = 1
    while depth >= 1:
        k = nxt[depth]
        while k < n and used[k]:
            k += 1
        if k >= n:
            depth -= 1
            if depth >= 1:
                used[path[depth]] = False
            continue
        nxt[depth] = k + 1
        path[depth] = k
        used[k] = True
        cost[depth] = cost[depth - 1] + d[path[depth - 1], k]
        states += 1
        if depth == n - 1:
            total = cost[depth] + d[k, 0]
            if total < best:
                best = total
            used[k] = False
        else:
            depth += 1
            nxt[depth] = 1
    return best, states
