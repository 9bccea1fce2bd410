r"""Direct convex-programming formulations of the inner problems (cvxpy, scipy ``linprog``).

Slow references for the property tests and the benchmark (``benchmarks/robust.py``): each states the
same optimisation problem as its exact counterpart in :mod:`mdpkit.robust.inner` and hands it to a
general solver. cvxpy uses Clarabel (interior point, tolerances tightened to 1e-11 so that agreement to
1e-7 is meaningful); ``linprog`` uses HiGHS.

* :func:`cvxpy_l1`, :func:`linprog_l1`: :math:`\min q^\top v` s.t. :math:`q \ge 0,\ \mathbf 1^\top q = 1,\
  \|q - p\|_1 \le \kappa` (the LP uses :math:`q - p = t^+ - t^-`, :math:`\mathbf 1^\top(t^+ + t^-) \le
  \kappa`);
* :func:`cvxpy_linf`: the same with :math:`\|q - p\|_\infty \le \kappa`;
* :func:`cvxpy_kl`: :math:`\sum_i \mathrm{rel\_entr}(q_i, p_i) \le \delta` (an exponential-cone program);
* :func:`cvxpy_s_l1`: :math:`\min_{t, (q_a)} t` s.t. :math:`t \ge r_a + \gamma q_a^\top v` for all feasible
  :math:`a`, :math:`\sum_a \|q_a - p_a\|_1 \le \kappa` (the min-max form, equal to the max-min by
  Sion's theorem); :func:`cvxpy_s_l1_policy` fixes the randomised action ``d``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cvxpy_l1", "cvxpy_linf", "cvxpy_kl", "cvxpy_s_l1", "cvxpy_s_l1_policy", "linprog_l1", "CLARABEL"]

#: Solver options: Clarabel with tight tolerances.
CLARABEL = dict(
    solver="CLARABEL", tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11, tol_ktratio=1e-9, max_iter=400
)


def _simplex(p: np.ndarray, v: np.ndarray, ball: str, radius: float) -> float:
    import cvxpy as cp

    x = cp.Variable(p.shape[0])
    cons = [x >= 0, cp.sum(x) == 1]
    if ball == "l1":
        cons.append(cp.norm1(x - p) <= radius)
    elif ball == "linf":
        cons.append(cp.norm_inf(x - p) <= radius)
    else:
        cons.append(cp.sum(cp.rel_entr(x, p)) <= radius)
    prob = cp.Problem(cp.Minimize(v @ x), cons)
    prob.solve(**CLARABEL)
    return float(prob.value)


def cvxpy_l1(p: np.ndarray, v: np.ndarray, radius: float) -> float:
    """:math:`\\min\\{q^\\top v : q \\in \\Delta, \\|q - p\\|_1 \\le \\kappa\\}` with cvxpy (Clarabel)."""
    return _simplex(np.asarray(p, float), np.asarray(v, float), "l1", float(radius))


def cvxpy_linf(p: np.ndarray, v: np.ndarray, radius: float) -> float:
    """:math:`\\min\\{q^\\top v : q \\in \\Delta, \\|q - p\\|_\\infty \\le \\kappa\\}` with cvxpy."""
    return _simplex(np.asarray(p, float), np.asarray(v, float), "linf", float(radius))


def cvxpy_kl(p: np.ndarray, v: np.ndarray, radius: float) -> float:
    """:math:`\\min\\{q^\\top v : q \\in \\Delta, \\mathrm{KL}(q\\|p) \\le \\delta\\}` with cvxpy (exp. cone).

    Entries with ``p = 0`` are fixed to 0 (``rel_entr(x, 0)`` is infinite for ``x > 0``)."""
    p, v = np.asarray(p, float), np.asarray(v, float)
    sup = p > 0
    return _simplex(p[sup], v[sup], "kl", float(radius))


def linprog_l1(p: np.ndarray, v: np.ndarray, radius: float) -> float:
    r"""The L1 inner problem as an LP for scipy's HiGHS: variables :math:`(q, t^+, t^-) \ge 0`."""
    from scipy.optimize import linprog

    p, v = np.asarray(p, float), np.asarray(v, float)
    S = p.shape[0]
    eye = np.eye(S)
    c = np.concatenate([v, np.zeros(2 * S)])
    A_eq = np.block([[eye, -eye, eye], [np.ones((1, S)), np.zeros((1, 2 * S))]])
    b_eq = np.concatenate([p, [1.0]])
    A_ub = np.concatenate([np.zeros(S), np.ones(2 * S)])[None]
    res = linprog(c, A_ub=A_ub, b_ub=[radius], A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    return float(res.fun)


def _s_problem(P, r, v, gamma, radius, d=None):
    import cvxpy as cp

    P, r, v = np.asarray(P, float), np.asarray(r, float), np.asarray(v, float)
    A, S = P.shape
    X = cp.Variable((A, S))
    cons = [X >= 0, cp.sum(X, axis=1) == 1, cp.sum(cp.abs(X - P)) <= radius]
    feas = [a for a in range(A) if np.isfinite(r[a])]
    if d is None:
        t = cp.Variable()
        cons += [t >= r[a] + gamma * (X[a] @ v) for a in feas]
        obj = t
    else:
        obj = sum(float(d[a]) * (r[a] + gamma * (X[a] @ v)) for a in feas if d[a] > 0)
    prob = cp.Problem(cp.Minimize(obj), cons)
    prob.solve(**CLARABEL)
    return float(prob.value)


def cvxpy_s_l1(P: np.ndarray, r: np.ndarray, v: np.ndarray, gamma: float, radius: float) -> float:
    r""":math:`\min_{\sum_a\|q_a - p_a\|_1 \le \kappa} \max_a r_a + \gamma q_a^\top v` with cvxpy."""
    return _s_problem(P, r, v, gamma, radius)


def cvxpy_s_l1_policy(
    P: np.ndarray, r: np.ndarray, v: np.ndarray, gamma: float, radius: float, d: np.ndarray
) -> float:
    r""":math:`\min_{\sum_a\|q_a - p_a\|_1 \le \kappa} \sum_a d_a (r_a + \gamma q_a^\top v)` with cvxpy."""
    return _s_problem(P, r, v, gamma, radius, d)
