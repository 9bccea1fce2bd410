r"""numba kernels of the exact latent-MDP planner: the history tree, level by level, and its backups.

Conventions (shared by :mod:`mdpkit.latent.planning`): ``P`` (M, H, S, A, S) and ``R`` (M, H, S, A) float64,
``rid[m, h, s, a]`` the index of :math:`R_{m,h}(s, a)` among the distinct rewards of ``(h, s, a)`` (all 0 when
rewards are not observed). A *node* is a history :math:`\tau_t` of positive probability; level ``t`` holds the
histories that end in the state :math:`s_t`, stored as ``state[n]`` and the joint probabilities
``beta[n, m]`` :math:`= w_m \Pr(\tau_t \mid m)` (policy actions are part of the history, so these are
policy-free), and ``z[n, m]`` :math:`= \sum_{i<t} R_{m,i}(s_i, a_i)` (the return so far if the context is m).
Children of node ``n`` under action ``a`` occupy ``off[n*A + a] : off[n*A + a + 1]`` of the next level,
one per observation :math:`(r, s')` of positive probability, ordered by (reward index, next state).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def count_children(P, rid, t, state, beta, act, M, S, A):  # pragma: no cover - compiled
    """Number of children of every (node, action) of level ``t``; ``act[n] >= 0`` restricts to one action."""
    N = state.shape[0]
    counts = np.zeros(N * A, dtype=np.int64)
    mark = np.zeros((M, S), dtype=np.bool_)
    for n in range(N):
        s = state[n]
        for a in range(A):
            if act[n] >= 0 and act[n] != a:
                continue
            c = 0
            for m in range(M):
                if beta[n, m] <= 0.0:
                    continue
                k = rid[m, t, s, a]
                for s2 in range(S):
                    if P[m, t, s, a, s2] > 0.0 and not mark[k, s2]:
                        mark[k, s2] = True
                        c += 1
            counts[n * A + a] = c
            for m in range(M):
                for s2 in range(S):
                    mark[m, s2] = False
    return counts


@njit(cache=True)
def fill_children(P, R, rid, t, state, beta, z, act, off, M, S, A):  # pragma: no cover - compiled
    """Children of level ``t``: state, reward index, beta, z (``off`` from :func:`count_children`)."""
    N = state.shape[0]
    total = off[N * A]
    cstate = np.empty(total, dtype=np.int64)
    cridx = np.empty(total, dtype=np.int64)
    cbeta = np.zeros((total, M))
    cz = np.empty((total, M))
    for n in range(N):
        s = state[n]
        for a in range(A):
            if act[n] >= 0 and act[n] != a:
                continue
            pos = off[n * A + a]
            for k in range(M):
                for s2 in range(S):
                    hit = False
                    for m in range(M):
                        if beta[n, m] > 0.0 and rid[m, t, s, a] == k and P[m, t, s, a, s2] > 0.0:
                            hit = True
                            break
                    if not hit:
                        continue
                    cstate[pos] = s2
                    cridx[pos] = k
                    for m in range(M):
                        if rid[m, t, s, a] == k:
                            cbeta[pos, m] = beta[n, m] * P[m, t, s, a, s2]
                        cz[pos, m] = z[n, m] + R[m, t, s, a]
                    pos += 1
    return cstate, cridx, cbeta, cz


@njit(cache=True)
def backup_level(R, t, state, beta, z, off, Vnext, last, mode, c, M, A):  # pragma: no cover - compiled
    r"""Optimal backup of one level: ``V[n] = max_a Q(n, a)``, first maximiser as ``best[n]``.

    ``mode == 0`` (expected return): :math:`Q(n, a) = \sum_m \beta_m R_{m,t}(s, a) + \sum_{c} V(c)`.
    ``mode == 1`` (centred second moment, for Var*): at the last level
    :math:`Q(n, a) = \sum_m \beta_m (z_m + R_{m,t}(s, a) - c_m)^2`, before it :math:`Q(n, a) = \sum_c V(c)`.
    """
    N = state.shape[0]
    V = np.empty(N)
    best = np.empty(N, dtype=np.int64)
    for n in range(N):
        s = state[n]
        vb = -np.inf
        ab = 0
        for a in range(A):
            q = 0.0
            if mode == 0:
                for m in range(M):
                    q += beta[n, m] * R[m, t, s, a]
            elif last:
                for m in range(M):
                    d = z[n, m] + R[m, t, s, a] - c[m]
                    q += beta[n, m] * d * d
            if not last:
                for j in range(off[n * A + a], off[n * A + a + 1]):
                    q += Vnext[j]
            if q > vb:
                vb = q
                ab = a
        V[n] = vb
        best[n] = ab
    return V, best


@njit(cache=True)
def alpha_level(
    P, R, rid, t, state, beta, act, off, cstate, cridx, alpha_next, last, M, A
):  # pragma: no cover
    r"""Alpha vectors of one level under the actions ``act``:

    .. math:: \alpha_m(\tau) = R_{m,t}(s, a) + \sum_{(r, s')} \mathbb 1[\mathrm{rid}_m = r]\,
              P_{m,t}(s'|s, a)\, \alpha_m(\tau a r s')

    NaN where ``beta[n, m] == 0`` (the history is impossible in context m, so its alpha is undefined there).
    """
    N = state.shape[0]
    alpha = np.empty((N, M))
    for n in range(N):
        s = state[n]
        a = act[n]
        for m in range(M):
            if beta[n, m] <= 0.0:
                alpha[n, m] = np.nan
                continue
            v = R[m, t, s, a]
            if not last:
                k = rid[m, t, s, a]
                for j in range(off[n * A + a], off[n * A + a + 1]):
                    p = P[m, t, s, a, cstate[j]]
                    if cridx[j] == k and p > 0.0:
                        v += p * alpha_next[j, m]
            alpha[n, m] = v
    return alpha


@njit(cache=True)
def variance_cost_level(P, rid, t, state, beta, off, cstate, cridx, alpha_next, M, A):  # pragma: no cover
    r"""Per-step variance cost of every (node, action) of level ``t``:

    .. math:: \mathrm{cost}[n, a] = \sum_m \beta_m(\tau)\,
              \mathbb V(P_{m,t}(\cdot|s, a), \alpha^*_m(\tau a r_m \cdot))

    The variance of the next alpha vector under context m's transition (the reward of the step is
    deterministic given m, so only the next state is random).
    """
    N = state.shape[0]
    cost = np.zeros((N, A))
    for n in range(N):
        s = state[n]
        for a in range(A):
            tot = 0.0
            for m in range(M):
                if beta[n, m] <= 0.0:
                    continue
                k = rid[m, t, s, a]
                e1 = 0.0
                e2 = 0.0
                for j in range(off[n * A + a], off[n * A + a + 1]):
                    p = P[m, t, s, a, cstate[j]]
                    if cridx[j] == k and p > 0.0:
                        x = alpha_next[j, m]
                        e1 += p * x
                        e2 += p * x * x
                tot += beta[n, m] * max(e2 - e1 * e1, 0.0)
            cost[n, a] = tot
    return cost


@njit(cache=True)
def match_policy_children(
    off, act, pnode, cstate, crew, A, pol_ptr, pol_state, pol_rew, pol_node, use_rew, tol
):
    """Policy-tree node of every child (``-1`` when the policy tree has no matching history)."""  # noqa: D401
    N = pnode.shape[0]
    out = np.full(off[N * A], -1, dtype=np.int64)
    for n in range(N):
        p = pnode[n]
        a = act[n]
        for j in range(off[n * A + a], off[n * A + a + 1]):
            if p < 0:
                continue
            for k in range(pol_ptr[p], pol_ptr[p + 1]):
                if pol_state[k] == cstate[j] and (not use_rew or abs(pol_rew[k] - crew[j]) <= tol):
                    out[j] = pol_node[k]
                    break
    return out
