r"""IWOCS: Incremental Worst-Case Search (Zouitine, Geist & Rachelson 2024, Algorithm 1), with exact parts.

IWOCS solves a robust MDP as a sequence of ordinary (static) MDPs. It keeps a pool of kernels
:math:`\mathcal T_i = \{T_0, \dots, T_i\}`, the optimal Q-functions :math:`Q^*_{T_j}` of the static MDPs
:math:`(S, A, T_j, r, \gamma)`, and

.. math:: Q_i = \min_{j \le i} Q^*_{T_j}, \qquad \pi_i = \mathrm{greedy}(Q_i), \qquad
          T_{i+1} \in \arg\min_{T \in \mathcal T} J^{\pi_i}_T, \qquad
          \mathrm{gap}_i = \mu^\top \max_a Q_i(\cdot, a) - J^{\pi_i}_{T_{i+1}},

stopping when :math:`\mathrm{gap}_i \le \varepsilon`. Here every part is exact: each static problem is
solved by policy iteration (exact linear solves, :func:`mdpkit.solve` with ``method="pi"``) and the
worst-case search is exact — enumeration of :math:`J^{\pi}_{P_k} = \mu^\top V^\pi_{P_k}` over a
:class:`~mdpkit.robust.sets.FiniteSet` (ties prefer a kernel not yet in the pool, then the first), robust
policy evaluation (:func:`~mdpkit.robust.solvers.robust_evaluate`) over a rectangular set.

Why the gap certifies: for every stationary :math:`\pi` and :math:`j`, :math:`Q^*_{T_j} \ge Q^\pi_{T_j}`, so
:math:`\mu^\top \max_a Q_i \ge \max_\pi \min_{T \in \mathcal T} J^\pi_T` — an upper bound on the static
robust value (over stationary policies), and for (s, a)-rectangular :math:`\mathcal T` on the robust value
(Property 1 of the paper: :math:`Q_i \ge Q^*_{\mathrm{hull}(\mathcal T_i)} \ge Q^*_{\mathcal T}`); the
lower bound :math:`J^{\pi_i}_{T_{i+1}}` is the exact worst-case value of :math:`\pi_i`. Property 2,
:math:`Q_{i+1} \le Q_i`, holds by construction.

Scope: the bounds above need the set to be finite or (s, a)-rectangular. On an s-rectangular set
(:class:`~mdpkit.robust.sets.SL1Ball`) IWOCS still runs (the worst case of a deterministic policy puts the
whole budget of a state on its action) but :math:`Q_i` no longer bounds the robust value, whose optimal
policies randomise.

Stall: when :math:`T_{i+1}` is already in the pool, :math:`Q_{i+1} = Q_i` and the iteration would repeat
itself forever; IWOCS then stops with ``status = "stalled"`` and reports the gap it could not close.

References
----------
Zouitine, Geist & Rachelson, "Solving robust MDPs as a sequence of static RL problems", arXiv:2410.06212
(2024), Algorithm 1 and Properties 1-2.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from mdpkit.core import validate as V
from mdpkit.core.discounted import solve as solve_mdp
from mdpkit.core.model import TabularMDP
from mdpkit.errors import InvalidArgumentError
from mdpkit.robust.sets import FiniteSet, UncertaintySet, as_kernel
from mdpkit.robust.solvers import robust_evaluate
from mdpkit.robust.static import static_values

__all__ = ["iwocs", "IwocsStep", "IwocsResult", "static_q"]


@dataclass(frozen=True, eq=False)
class IwocsStep:
    r"""One iteration :math:`i` of IWOCS.

    Attributes
    ----------
    i : int
    Q : ndarray (S, A)
        :math:`Q_i = \min_{j \le i} Q^*_{T_j}`.
    policy : int ndarray (S,)
        :math:`\pi_i = \mathrm{greedy}(Q_i)`.
    kernel : ndarray (S, A, S)
        :math:`T_{i+1}`, the worst case found for :math:`\pi_i`.
    kernel_index : int or None
        Its index in a :class:`FiniteSet` (None for other sets).
    J_upper : float
        :math:`\mu^\top \max_a Q_i(\cdot, a)`.
    J_worst : float
        :math:`J^{\pi_i}_{T_{i+1}}` (exact worst-case value of :math:`\pi_i`).
    gap : float
        ``J_upper - J_worst``.
    in_pool : bool
        Whether :math:`T_{i+1}` was already in the pool (a stall unless the gap is closed).
    """

    i: int
    Q: np.ndarray
    policy: np.ndarray
    kernel: np.ndarray
    kernel_index: int | None
    J_upper: float
    J_worst: float
    gap: float
    in_pool: bool


@dataclass(frozen=True, eq=False)
class IwocsResult:
    r"""Outcome of :func:`iwocs`.

    Attributes
    ----------
    policy : int ndarray (S,)
        The last :math:`\pi_i`.
    Q : ndarray (S, A)
        The last :math:`Q_i`.
    J_upper, J_worst, gap : float
        Of the last step: :math:`\mu^\top V_i`, the worst-case value of :math:`\pi_i` and their difference.
    status : {"converged", "stalled", "max_iter"}
    iterations : int
        Number of steps (worst-case searches) performed.
    kernels : list of ndarray (S, A, S)
        The pool :math:`T_0, T_1, \dots` (in order of discovery).
    kernel_indices : list of int or None
        Their indices in a :class:`FiniteSet`.
    steps : list of IwocsStep
    """

    policy: np.ndarray
    Q: np.ndarray
    J_upper: float
    J_worst: float
    gap: float
    status: str
    iterations: int
    kernels: list[np.ndarray] = field(default_factory=list)
    kernel_indices: list[int | None] = field(default_factory=list)
    steps: list[IwocsStep] = field(default_factory=list)


def static_q(mdp: TabularMDP, P: np.ndarray) -> np.ndarray:
    r""":math:`Q^*_P` of the static MDP ``(P, mdp.R, mdp.gamma)``, exact (policy iteration, LU solves)."""
    m = TabularMDP(P, mdp.R, mdp.gamma, mdp.initial, mdp.mask)
    return np.array(solve_mdp(m, method="pi").Q)


def _greedy(Q: np.ndarray) -> np.ndarray:
    return np.argmax(Q, axis=1).astype(np.int64)


def iwocs(
    mdp: TabularMDP,
    uset: UncertaintySet,
    eps: float = 1e-8,
    max_iter: int = 100,
    initial: int | np.ndarray = 0,
    pool_tol: float = 1e-12,
) -> IwocsResult:
    r"""Run IWOCS (Zouitine, Geist & Rachelson 2024, Algorithm 1) with exact static solves and exact
    worst-case search.

    Parameters
    ----------
    mdp : TabularMDP
        Rewards, discount (< 1), initial distribution :math:`\mu` of the objective :math:`J = \mu^\top V`.
    uset : UncertaintySet
        A :class:`FiniteSet` (worst case by enumeration; the static model) or a rectangular set (worst case
        by robust policy evaluation; the dynamic model).
    eps : float
        Stop when :math:`\mathrm{gap}_i \le \varepsilon`.
    max_iter : int
        Largest number of worst-case searches.
    initial : int or ndarray (S, A, S)
        :math:`T_0`: an index into a FiniteSet, or a kernel (default: the set's first/nominal kernel).
    pool_tol : float
        Two kernels are the same when their entries differ by at most this (stall detection).

    Returns
    -------
    IwocsResult
    """
    V.require_discounted(mdp.gamma, "iwocs")
    if not isinstance(uset, UncertaintySet):
        raise InvalidArgumentError(f"iwocs needs an UncertaintySet, got {type(uset).__name__}")
    uset.check_model(mdp)
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not (np.isfinite(eps) and eps >= 0):
        raise InvalidArgumentError(f"eps = {eps!r} must be a finite number >= 0")
    max_iter = V.check_positive_int(max_iter, "max_iter")
    finite = isinstance(uset, FiniteSet)
    if isinstance(initial, int | np.integer):
        if finite:
            if not 0 <= int(initial) < uset.K:
                raise InvalidArgumentError(f"initial = {initial} is not a kernel index in [0, {uset.K})")
            T0, k0 = uset.kernels[int(initial)], int(initial)
        elif int(initial) == 0:
            T0, k0 = uset.nominal, None
        else:
            raise InvalidArgumentError(
                "initial must be 0 (the nominal kernel) or a kernel for a non-finite set"
            )
    else:
        T0 = as_kernel(initial, "initial")
        if not uset.contains(T0):
            raise InvalidArgumentError("the initial kernel is not in the uncertainty set")
        k0 = uset.index(T0, pool_tol) if finite else None
    pool = [np.array(T0)]
    idx: list[int | None] = [k0]
    Q = static_q(mdp, pool[0])
    steps: list[IwocsStep] = []
    status = "max_iter"
    for i in range(max_iter):
        pol = _greedy(Q)
        J_upper = float(mdp.initial @ Q[np.arange(mdp.S), pol])
        if finite:
            J = static_values(mdp, uset, pol) @ mdp.initial
            jmin = float(J.min())
            ties = np.flatnonzero(J <= jmin)
            fresh = [int(k) for k in ties if int(k) not in idx]
            k = fresh[0] if fresh else int(ties[0])
            T, J_worst = uset.kernels[k], float(J[k])
        else:
            ev = robust_evaluate(mdp, uset, pol)
            T, J_worst, k = ev.kernel, ev.J, None
        in_pool = any(np.max(np.abs(T - P)) <= pool_tol for P in pool)
        gap = J_upper - J_worst
        steps.append(IwocsStep(i, Q.copy(), pol, np.array(T), k, J_upper, J_worst, gap, in_pool))
        if gap <= eps:
            status = "converged"
            break
        if in_pool:
            status = "stalled"
            break
        pool.append(np.array(T))
        idx.append(k)
        Q = np.minimum(Q, static_q(mdp, T))
    last = steps[-1]
    return IwocsResult(
        policy=last.policy,
        Q=last.Q,
        J_upper=last.J_upper,
        J_worst=last.J_worst,
        gap=last.gap,
        status=status,
        iterations=len(steps),
        kernels=pool,
        kernel_indices=idx,
        steps=steps,
    )
