r"""Exact inner problems of robust dynamic programming: worst-case expectations over one ambiguity set.

For a nominal next-state distribution :math:`p \in \Delta_S` and a value vector :math:`v \in \mathbb R^S`,
each function returns :math:`\min_{q \in \mathcal U(p)} q^\top v` and a minimiser :math:`q`:

* :func:`worst_case_l1` — :math:`\mathcal U = \{q \in \Delta : \|q - p\|_1 \le \kappa\}`, by sorting,
  :math:`O(S \log S)` (Iyengar 2005; Ho, Petrik & Wiesemann 2018, homotopy method for plain L1);
* :func:`worst_case_linf` — :math:`\{q \in \Delta : \|q - p\|_\infty \le \kappa\}`, by sorting;
* :func:`worst_case_kl` — :math:`\{q \in \Delta : \mathrm{KL}(q \| p) \le \delta\}`, through the
  one-dimensional dual :math:`\max_{\beta \ge 0} -\beta\log \mathbb E_p e^{-v/\beta} - \beta\delta`
  (Nilim & El Ghaoui 2005);
* :func:`worst_case_s_l1` — one state of an s-rectangular L1 set
  :math:`\{(q_a)_a : \sum_a \|q_a - p_a\|_1 \le \kappa\}`, the max-min over randomised actions (Ho, Petrik &
  Wiesemann 2018).

These are the single-problem entry points (validated, for tests and teaching); the solvers call the same
numba kernels (:mod:`mdpkit.robust._numba`) on whole sweeps.

References
----------
Iyengar, "Robust dynamic programming", Math. Oper. Res. 30(2), 2005.
Nilim & El Ghaoui, "Robust control of Markov decision processes with uncertain transition matrices",
Oper. Res. 53(5), 2005.
Ho, Petrik & Wiesemann, "Fast Bellman updates for robust MDPs", ICML 2018.
"""

from __future__ import annotations

import numpy as np

from mdpkit.core import validate as V
from mdpkit.errors import InvalidArgumentError, InvalidMDPError
from mdpkit.robust import _numba as K

__all__ = ["worst_case_l1", "worst_case_linf", "worst_case_kl", "worst_case_s_l1", "check_radius"]

#: Largest meaningful radius of each kind of ball (an L1 distance between distributions is at most 2).
RADIUS_MAX = {"l1": 2.0, "linf": 1.0, "kl": np.inf}


def check_radius(radius: object, shape: tuple[int, ...], kind: str, name: str = "radius") -> np.ndarray:
    r"""Validate a radius (scalar or array broadcastable to ``shape``); return a float64 array of ``shape``.

    Radii must be finite and in :math:`[0, \rho_{\max}]` with :math:`\rho_{\max}` = 2 (L1), 1 (L-infinity),
    :math:`\infty` (KL) or :math:`2A` (s-rectangular L1, ``kind = "s_l1"`` with ``shape = (S,)`` and the
    bound passed through ``RADIUS_MAX``): a larger ball contains the same distributions, so a larger value
    is a mistake rather than a request. The error names the offending index and value.
    """
    try:
        arr = np.asarray(radius, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name} = {radius!r} is not a number or an array of numbers") from None
    try:
        arr = np.broadcast_to(arr, shape).astype(np.float64)
    except ValueError:
        raise InvalidArgumentError(
            f"{name} has shape {np.shape(radius)}, which does not broadcast to {shape}"
        ) from None
    hi = RADIUS_MAX[kind] if kind in RADIUS_MAX else float(kind.split(":")[1])
    bad = ~np.isfinite(arr) | (arr < 0) | (arr > hi)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f"[{', '.join(map(str, idx))}]" if idx else ""
        raise InvalidArgumentError(
            f"{name}{where} = {float(arr[idx])!r} is not a valid radius: need a finite value in [0, {hi:g}]"
        )
    return np.array(arr, dtype=np.float64, order="C", copy=True)


def _vec(p: object, v: object) -> tuple[np.ndarray, np.ndarray]:
    p = V.check_distribution(p, np.size(p), "p", InvalidMDPError)
    v = np.ascontiguousarray(np.asarray(v, dtype=np.float64))
    if v.shape != p.shape:
        raise InvalidArgumentError(f"v has shape {v.shape}, expected {p.shape} (the shape of p)")
    if not np.all(np.isfinite(v)):
        i = int(np.flatnonzero(~np.isfinite(v))[0])
        raise InvalidArgumentError(f"v[{i}] = {v[i]!r} is not finite")
    return np.ascontiguousarray(p, dtype=np.float64), v


def worst_case_l1(p: object, v: object, radius: float) -> tuple[float, np.ndarray]:
    r"""Worst-case expectation over an L1 ball: :math:`\min\{q^\top v : q \in \Delta_S,\ \|q - p\|_1 \le
    \kappa\}`.

    Exact in :math:`O(S \log S)`: with :math:`i^* = \arg\min_i v_i`, move
    :math:`\epsilon = \min(\kappa/2,\, 1 - p_{i^*})` of probability onto :math:`i^*`, removing it from the
    states of largest :math:`v` first (Iyengar 2005; Ho, Petrik & Wiesemann 2018, the homotopy method for
    plain L1).

    Parameters
    ----------
    p : array (S,)
        Nominal distribution.
    v : array (S,)
        Finite values.
    radius : float in [0, 2]

    Returns
    -------
    value : float
        :math:`q^\top v` at the minimiser.
    q : ndarray (S,)
        A minimiser (in the ball up to rounding).
    """
    p, v = _vec(p, v)
    r = float(check_radius(radius, (), "l1"))
    q = np.empty_like(p)
    val = K.l1_inner(p, v, np.argsort(v, kind="mergesort"), r, q)
    return float(val), q


def worst_case_linf(p: object, v: object, radius: float) -> tuple[float, np.ndarray]:
    r"""Worst-case expectation over an L-infinity ball:
    :math:`\min\{q^\top v : q \in \Delta_S,\ |q_i - p_i| \le \kappa\ \forall i\}`.

    Exact by sorting: start from the lower bounds :math:`\max(0, p_i - \kappa)` and fill the states of
    smallest :math:`v` up to :math:`\min(1, p_i + \kappa)` until the mass is 1 (a fractional knapsack).
    ``radius`` in [0, 1]. Returns ``(value, q)``.
    """
    p, v = _vec(p, v)
    r = float(check_radius(radius, (), "linf"))
    q = np.empty_like(p)
    val = K.linf_inner(p, v, np.argsort(v, kind="mergesort"), r, q)
    return float(val), q


def worst_case_kl(p: object, v: object, radius: float) -> tuple[float, np.ndarray]:
    r"""Worst-case expectation over a KL ball: :math:`\min\{q^\top v : q \in \Delta_S,\
    \mathrm{KL}(q\|p) = \sum_i q_i \log(q_i/p_i) \le \delta\}`.

    Through the dual (Nilim & El Ghaoui 2005)

    .. math:: \max_{\beta \ge 0}\; -\beta \log \sum_i p_i e^{-v_i/\beta} - \beta\delta,

    whose derivative :math:`\mathrm{KL}(q_\beta\|p) - \delta` (:math:`q_\beta \propto p\,e^{-v/\beta}`) is
    decreasing: safeguarded Newton on :math:`\log\beta` (:math:`d\,\mathrm{KL}/d\log\beta =
    -\mathrm{Var}_{q_\beta}(v)/\beta^2`) to rounding level, and :math:`q = q_\beta`. If
    :math:`\delta \ge -\log p(\{i : v_i = \min_{p_j > 0} v_j\})` the minimum is the smallest value on the
    support of ``p``. ``radius`` (:math:`\delta`) finite and :math:`\ge 0`. Returns
    ``(value, q)``.
    """
    p, v = _vec(p, v)
    r = float(check_radius(radius, (), "kl"))
    q = np.empty_like(p)
    val = K.kl_inner(p, v, r, q)
    return float(val), q


def worst_case_s_l1(
    P: object, r: object, v: object, gamma: float, radius: float
) -> tuple[float, np.ndarray, np.ndarray]:
    r"""One state of an s-rectangular L1 robust Bellman update (Ho, Petrik & Wiesemann 2018).

    .. math:: u^* = \max_{d \in \Delta_A}\ \min_{\sum_a \|q_a - p_a\|_1 \le \kappa}\
              \sum_a d_a\,(r_a + \gamma\, q_a^\top v)
              = \min_{\xi \ge 0,\ \sum_a \xi_a \le \kappa}\ \max_a g_a(\xi_a),

    :math:`g_a(\xi) = r_a + \gamma \min_{\|q - p_a\|_1 \le \xi} q^\top v`. Each :math:`g_a` is convex,
    piecewise linear with at most :math:`S` knots (the L1 homotopy), so the level :math:`u^*` is found
    exactly by a binary search over the sorted knot values of the budget function
    :math:`B(u) = \sum_a g_a^{-1}(u)` and one linear interpolation: :math:`O(SA \log(SA))` after one sort
    of :math:`v` (the paper's bisection, made exact). See :func:`mdpkit.robust._numba.s_l1_state`.

    Parameters
    ----------
    P : array (A, S)
        Nominal distributions :math:`p_a` of the state's actions.
    r : array (A,)
        Rewards (``-inf`` = infeasible action, ignored).
    v : array (S,)
    gamma : float in [0, 1)
    radius : float in [0, 2A]
        Budget :math:`\kappa` shared by the actions.

    Returns
    -------
    value : float
        :math:`u^*`.
    d : ndarray (A,)
        A maximising randomised action (a saddle point with ``Q``).
    Q : ndarray (A, S)
        The minimising distributions :math:`q_a`.
    """
    P = V.as_float_array(P, "P")
    if P.ndim != 2:
        raise InvalidArgumentError(f"P has shape {P.shape}, expected (A, S)")
    A, S = P.shape
    V.check_distribution_rows(P, "P")
    r = V.as_float_array(r, "r")
    V.check_shape(r, (A,), "r")
    if np.all(r == -np.inf):
        raise InvalidArgumentError("every action of the state is infeasible (r = -inf everywhere)")
    if np.any(np.isnan(r) | (r == np.inf)):
        raise InvalidArgumentError("r must be finite or -inf")
    _, v = _vec(P[0], v)
    gamma = V.check_gamma(gamma, allow_one=False)
    kappa = float(check_radius(radius, (), f"s_l1:{2 * A}"))
    d = np.empty(A)
    Q = np.empty((A, S))
    val = K.s_l1_state(
        np.ascontiguousarray(P),
        np.ascontiguousarray(r),
        gamma,
        v,
        np.argsort(v, kind="mergesort"),
        kappa,
        d,
        Q,
    )
    return float(val), d, Q
