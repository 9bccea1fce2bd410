"""numba kernels of the exact hypervolume (WFG, minimisation form); see :func:`mdpkit.morl.hypervolume`."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def nd_min(P: np.ndarray) -> np.ndarray:
    """Rows of ``P`` not weakly dominated by another row (minimisation); duplicates keep the first."""
    n, k = P.shape
    keep = np.ones(n, dtype=np.bool_)
    for i in range(n):
        if not keep[i]:
            continue
        for j in range(n):
            if j == i or not keep[j]:
                continue
            # does j weakly dominate i (j <= i everywhere)?
            le = True
            lt = False
            for c in range(k):
                if P[j, c] > P[i, c]:
                    le = False
                    break
                if P[j, c] < P[i, c]:
                    lt = True
            if le and (lt or j < i):
                keep[i] = False
                break
    return P[keep]


@njit(cache=True)
def hv2_min(P: np.ndarray, ref: np.ndarray) -> float:
    """2-D hypervolume (minimisation) by a sweep on objective 0."""
    order = np.argsort(P[:, 0], kind="mergesort")
    vol = 0.0
    ybest = ref[1]
    for t in range(order.size):
        i = order[t]
        if P[i, 1] < ybest:
            vol += (ref[0] - P[i, 0]) * (ybest - P[i, 1])
            ybest = P[i, 1]
    return vol


@njit(cache=True)
def hv3_min(P: np.ndarray, ref: np.ndarray) -> float:
    """3-D hypervolume (minimisation) by slicing on objective 2 with an incrementally updated 2-D front.

    Points sorted by z ascending; after inserting point i the 2-D front of the first i + 1 points (x
    ascending, y descending) covers the slab ``z in [z_i, z_{i+1})``; O(n^2) time.
    """
    n = P.shape[0]
    order = np.argsort(P[:, 2], kind="mergesort")
    xs = np.empty(n)
    ys = np.empty(n)
    m = 0
    vol = 0.0
    for t in range(n):
        i = order[t]
        x, y = P[i, 0], P[i, 1]
        dominated = False
        for j in range(m):
            if xs[j] <= x and ys[j] <= y:
                dominated = True
                break
        if not dominated:
            nx = np.empty(m + 1)
            ny = np.empty(m + 1)
            q = 0
            placed = False
            for j in range(m):
                if xs[j] >= x and ys[j] >= y:
                    continue  # dominated by the new point
                if not placed and xs[j] > x:
                    nx[q], ny[q] = x, y
                    q += 1
                    placed = True
                nx[q], ny[q] = xs[j], ys[j]
                q += 1
            if not placed:
                nx[q], ny[q] = x, y
                q += 1
            xs[:q] = nx[:q]
            ys[:q] = ny[:q]
            m = q
        z_next = ref[2] if t + 1 == n else P[order[t + 1], 2]
        if z_next > P[i, 2]:
            area = 0.0
            ytop = ref[1]
            for j in range(m):
                area += (ref[0] - xs[j]) * (ytop - ys[j])
                ytop = ys[j]
            vol += area * (z_next - P[i, 2])
    return vol


@njit(cache=True)
def wfg_min(P: np.ndarray, ref: np.ndarray) -> float:
    """WFG with last-objective slicing (While et al. 2012); rows of ``P`` strictly below ``ref``."""
    n, k = P.shape
    if n == 0:
        return 0.0
    if n == 1:
        v = 1.0
        for c in range(k):
            v *= ref[c] - P[0, c]
        return v
    if k == 2:
        return hv2_min(P, ref)
    if k == 3:
        return hv3_min(P, ref)
    order = np.argsort(-P[:, -1], kind="mergesort")
    Q = P[order]
    rh = ref[: k - 1].copy()
    vol = 0.0
    for i in range(n):
        incl = 1.0
        for c in range(k - 1):
            incl *= rh[c] - Q[i, c]
        if i + 1 < n:
            lim = np.empty((n - i - 1, k - 1))
            for j in range(i + 1, n):
                for c in range(k - 1):
                    lim[j - i - 1, c] = max(Q[j, c], Q[i, c])
            incl -= wfg_min(nd_min(lim), rh)
        vol += (ref[k - 1] - Q[i, k - 1]) * incl
    return vol
