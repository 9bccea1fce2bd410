r"""Front metrics, as small tested functions (maximisation throughout).

* :func:`pareto_filter` / :func:`pareto_mask`: the non-dominated points;
* :func:`hypervolume`: exact hypervolume by the WFG algorithm (While, Bradstreet & Barone 2012, IEEE TEC
  16(1), "A fast way of calculating exact hypervolumes"), any number of objectives;
* :func:`hypervolume_2d_polyline`: exact hypervolume of a 2-objective *piecewise-linear* front (the
  stochastic Pareto front of a 2-objective MOMDP);
* :func:`crowding_distance`: NSGA-II's crowding distance (Deb et al. 2002, IEEE TEC 6(2), §III-B);
* :func:`expected_utility`: :math:`\mathrm{EU} = \mathbb E_{w}[\max_{v} w^\top v]` over a weight grid
  (Zintgraf et al. 2015; used by C-MORL, Liu et al. ICLR 2025, §5);
* :func:`sparsity`: C-MORL's (and PGMORL's, Xu et al. 2020) sparsity
  :math:`\frac{1}{|P|-1}\sum_j \sum_i (\tilde P_j(i) - \tilde P_j(i+1))^2`, :math:`\tilde P_j` the sorted
  j-th objective values;
* :func:`simplex_grid`: the Das-Dennis simplex lattice of weights.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from mdpkit.errors import InvalidArgumentError
from mdpkit.morl._numba import nd_min, wfg_min

__all__ = [
    "pareto_mask",
    "pareto_filter",
    "dominates",
    "hypervolume",
    "hypervolume_2d_polyline",
    "hypervolume_convex",
    "crowding_distance",
    "expected_utility",
    "sparsity",
    "simplex_grid",
]


def _points(points: object, name: str = "points") -> np.ndarray:
    P = np.asarray(points, dtype=np.float64)
    if P.ndim == 1 and P.size == 0:
        return P.reshape(0, 0)
    if P.ndim != 2:
        raise InvalidArgumentError(f"{name} has shape {P.shape}, expected (n, k)")
    if np.isnan(P).any():
        i, j = np.argwhere(np.isnan(P))[0]
        raise InvalidArgumentError(f"{name}[{i}, {j}] is NaN")
    return P


def dominates(u: np.ndarray, v: np.ndarray) -> bool:
    r"""Pareto dominance (maximisation): :math:`u \succ v \iff u \ge v` componentwise and :math:`u \ne v`."""
    u, v = np.asarray(u), np.asarray(v)
    return bool(np.all(u >= v) and np.any(u > v))


def pareto_mask(points: object) -> np.ndarray:
    r"""Bool mask of the non-dominated rows of ``points`` (n, k), maximisation; duplicates keep the first.

    A row :math:`p_i` is kept iff no :math:`p_j` dominates it (:func:`dominates`) and no earlier row equals
    it. :math:`O(n^2 k)` time, vectorised over rows.
    """
    P = _points(points)
    n = P.shape[0]
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        if not keep[i]:
            continue
        ge = np.all(P >= P[i], axis=1)
        gt = np.any(P > P[i], axis=1)
        if np.any(ge & gt):
            keep[i] = False
            continue
        # drop later duplicates and the rows P[i] dominates
        dom = np.all(P[i] >= P, axis=1)
        dom[: i + 1] = False
        keep &= ~dom
    return keep


def pareto_filter(points: object) -> np.ndarray:
    """The non-dominated rows of ``points`` (maximisation), in their original order, duplicates removed.

    Parameters
    ----------
    points : array_like (n, k)

    Returns
    -------
    ndarray (m, k), m <= n
    """
    P = _points(points)
    if P.size == 0:
        return P
    return P[pareto_mask(P)]


# ----------------------------------------------------------------------------- hypervolume (WFG)
def hypervolume(points: object, ref: object) -> float:
    r"""Exact hypervolume of ``points`` with respect to ``ref`` (maximisation).

    .. math:: \mathrm{HV}(P; r) = \lambda\Big(\bigcup_{p \in P,\; p > r} [r, p]\Big),

    the Lebesgue measure of the region dominated by the points and dominating the reference point. A
    point that does not strictly exceed ``ref`` in every objective adds nothing. Computed exactly by WFG
    (While et al. 2012): :math:`\mathrm{HV}(P) = \sum_i \big(\mathrm{vol}[r, p_i] -
    \mathrm{HV}(\mathrm{nd}\{p_i \wedge p_j : j > i\})\big)` over the points sorted worst-first on the
    last objective, so that every limit set shares :math:`p_i`'s last coordinate and its hypervolume is
    a (k-1)-dimensional one times :math:`p_{ik} - r_k`; 2-D and 3-D sweeps are the base cases (numba
    kernels in :mod:`mdpkit.morl._numba`). Not Monte-Carlo; the cost grows exponentially with k in the
    worst case.

    Parameters
    ----------
    points : array_like (n, k), k >= 1
    ref : array_like (k,)

    Returns
    -------
    float
    """
    P = _points(points)
    r = np.asarray(ref, dtype=np.float64).reshape(-1)
    if P.size == 0:
        return 0.0
    if P.shape[1] != r.size:
        raise InvalidArgumentError(f"ref has {r.size} entries but points have k = {P.shape[1]} objectives")
    if not np.isfinite(r).all():
        raise InvalidArgumentError(f"ref = {r.tolist()} must be finite")
    P = P[np.all(P > r, axis=1)]
    if P.shape[0] == 0:
        return 0.0
    if not np.isfinite(P).all():
        raise InvalidArgumentError(
            "a point above ref has an infinite coordinate: the hypervolume is infinite"
        )
    if r.size == 1:
        return float(P.max() - r[0])
    Q = nd_min(np.ascontiguousarray(-P))  # to minimisation, non-dominated rows
    return float(wfg_min(Q, np.ascontiguousarray(-r)))


def hypervolume_2d_polyline(vertices: object, ref: object) -> float:
    r"""Exact hypervolume (maximisation) of the region below a 2-objective piecewise-linear front.

    ``vertices`` are the Pareto-optimal corner points of a front whose points are the segments between
    consecutive vertices (sorted by objective 0), e.g. the stochastic Pareto front of a 2-objective
    MOMDP, which is the upper-right boundary of the convex hull of its convex coverage set. The
    dominated region is :math:`\{y \ge r : y \le p \text{ for some } p \text{ on the front}\}`; its area is
    :math:`\int_{r_0}^{x_{\max}} \max(0, g(x) - r_1)\,dx` with :math:`g` the front's upper envelope,
    integrated exactly segment by segment (clipping each segment at :math:`r_1`).
    """
    Vx = pareto_filter(_points(vertices, "vertices"))
    r = np.asarray(ref, dtype=np.float64).reshape(-1)
    if Vx.size == 0:
        return 0.0
    if Vx.shape[1] != 2 or r.size != 2:
        raise InvalidArgumentError("hypervolume_2d_polyline needs 2 objectives")
    Vx = Vx[np.argsort(Vx[:, 0])]
    # front g(x): y_max constant up to x_0, then the segments
    xs = np.concatenate([[r[0]], Vx[:, 0]])
    ys = np.concatenate([[Vx[0, 1]], Vx[:, 1]])
    area = 0.0
    for i in range(xs.size - 1):
        x0, x1, y0, y1 = xs[i], xs[i + 1], ys[i], ys[i + 1]
        a, b = max(x0, r[0]), x1
        if b <= a:
            continue
        # linear interpolation, then clip at r[1]
        if x1 == x0:
            continue
        ya = y0 + (y1 - y0) * (a - x0) / (x1 - x0)
        yb = y1
        ha, hb = ya - r[1], yb - r[1]
        if ha >= 0 and hb >= 0:
            area += 0.5 * (ha + hb) * (b - a)
        elif ha > 0 > hb:
            c = a + (b - a) * ha / (ha - hb)
            area += 0.5 * ha * (c - a)
        elif hb > 0 > ha:
            c = a + (b - a) * (-ha) / (hb - ha)
            area += 0.5 * hb * (b - c)
    return float(area)


def hypervolume_convex(vertices: object, ref: object) -> float:
    r"""Exact hypervolume (maximisation) of the region dominated by the convex hull of ``vertices``.

    For the stochastic Pareto front of a MOMDP (whose achievable returns form a polytope with the CCS as
    Pareto vertices) this is the exact hypervolume of the front, for any k. The region
    :math:`D = (\mathrm{conv}\,V - \mathbb R^k_{\ge 0}) \cap \{y \ge r\}` is a convex polytope: when every
    vertex satisfies :math:`v \ge r`, :math:`D = \mathrm{conv}\{v_S : v \in V, S \subseteq [k]\}`, with
    :math:`v_S` equal to :math:`r` on the coordinates in :math:`S` and to :math:`v` elsewhere (a point
    :math:`r \le y \le x = \sum_i \lambda_i v_i` lies in the box :math:`[r, x]`, the hull of the corners
    :math:`x_S = \sum_i \lambda_i (v_i)_S`). Its volume is computed by Qhull (``scipy.spatial.ConvexHull``).

    Raises :class:`InvalidArgumentError` if a vertex is below ``ref`` in some objective (then D is not
    the hull above; move the reference point down).
    """
    from scipy.spatial import ConvexHull, QhullError

    Vx = pareto_filter(_points(vertices, "vertices"))
    r = np.asarray(ref, dtype=np.float64).reshape(-1)
    if Vx.size == 0:
        return 0.0
    k = Vx.shape[1]
    if r.size != k:
        raise InvalidArgumentError(f"ref has {r.size} entries but vertices have k = {k} objectives")
    if np.any(Vx < r):
        i, j = np.argwhere(Vx < r)[0]
        raise InvalidArgumentError(f"vertex {i} has objective {j} = {Vx[i, j]!r} below ref {r[j]!r}")
    if k == 1:
        return float(Vx.max() - r[0])
    corners = np.array(list(itertools.product((0, 1), repeat=k)), dtype=bool)
    pts = np.where(corners[None, :, :], r[None, None, :], Vx[:, None, :]).reshape(-1, k)
    pts = np.unique(pts, axis=0)
    try:
        return float(ConvexHull(pts).volume)
    except QhullError:  # flat (zero-volume) region
        return 0.0


# ----------------------------------------------------------------------------- other indicators
def crowding_distance(points: object) -> np.ndarray:
    r"""NSGA-II crowding distance of each point (Deb et al. 2002, §III-B).

    For each objective j, sort the points; the two extremes get :math:`+\infty`, an interior point gets
    :math:`(f_j^{(i+1)} - f_j^{(i-1)}) / (f_j^{\max} - f_j^{\min})`; the distance is the sum over j. An
    objective with zero range contributes 0. With at most two points all distances are infinite.

    Returns
    -------
    ndarray (n,)
    """
    P = _points(points)
    n = P.shape[0]
    d = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(P.shape[1]):
        order = np.argsort(P[:, j], kind="stable")
        f = P[order, j]
        span = f[-1] - f[0]
        d[order[0]] = d[order[-1]] = np.inf
        if span > 0:
            d[order[1:-1]] += (f[2:] - f[:-2]) / span
    return d


def simplex_grid(k: int, divisions: int) -> np.ndarray:
    r"""Das-Dennis lattice :math:`\{w \in \{0, 1/H, \dots, 1\}^k : \sum_j w_j = 1\}`, shape
    :math:`(\binom{H + k - 1}{k - 1}, k)` with :math:`H` = ``divisions``."""
    if k < 1 or divisions < 1:
        raise InvalidArgumentError(
            f"simplex_grid needs k >= 1 and divisions >= 1, got k={k}, divisions={divisions}"
        )
    out = []
    for bars in itertools.combinations(range(divisions + k - 1), k - 1):
        prev, parts = -1, []
        for b in bars:
            parts.append(b - prev - 1)
            prev = b
        parts.append(divisions + k - 2 - prev)
        out.append(parts)
    W = np.array(out, dtype=np.float64) / divisions
    assert W.shape[0] == math.comb(divisions + k - 1, k - 1)
    return W


def expected_utility(points: object, weights: object | None = None, divisions: int | None = None) -> float:
    r"""Expected utility :math:`\mathrm{EU}(P) = \frac{1}{|W|}\sum_{w \in W} \max_{p \in P} w^\top p`.

    Parameters
    ----------
    points : array_like (n, k)
    weights : array_like (m, k), optional
        The weight set W; default the Das-Dennis grid :func:`simplex_grid` with ``divisions`` (default
        chosen so that |W| is about 100, as in morl-baselines' ``equally_spaced_weights(k, 100)``).
    """
    P = _points(points)
    if P.shape[0] == 0:
        raise InvalidArgumentError("expected_utility of an empty front is undefined")
    k = P.shape[1]
    if weights is None:
        if divisions is None:
            divisions = 1
            while math.comb(divisions + 1 + k - 1, k - 1) <= 100:
                divisions += 1
        W = simplex_grid(k, divisions)
    else:
        W = np.asarray(weights, dtype=np.float64)
        if W.ndim != 2 or W.shape[1] != k:
            raise InvalidArgumentError(f"weights has shape {W.shape}, expected (m, {k})")
    return float(np.mean(np.max(W @ P.T, axis=1)))


def sparsity(points: object) -> float:
    r"""C-MORL / PGMORL sparsity of a front, lower is denser.

    .. math:: \mathrm{SP}(P) = \frac{1}{|P| - 1} \sum_{j=1}^{k} \sum_{i=1}^{|P|-1}
              \big(\tilde P_j(i) - \tilde P_j(i+1)\big)^2,

    :math:`\tilde P_j` the j-th objective values sorted. 0 for fewer than two points. Computed on the
    points as given (callers pass the Pareto front).
    """
    P = _points(points)
    if P.shape[0] < 2:
        return 0.0
    S = np.sort(P, axis=0)
    return float(np.sum(np.diff(S, axis=0) ** 2) / (P.shape[0] - 1))
