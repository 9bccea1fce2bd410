r"""Robust dynamic programming (the dynamic model): robust VI, robust modified PI, robust policy evaluation.

For a rectangular set :math:`\mathcal U` the robust optimality operator

.. math:: (Tv)(s) = \max_{d \in \mathcal D_s} \min_{P_s \in \mathcal U_s} \sum_a d(a)\,
          \big(r(s,a) + \gamma P_{sa}^\top v\big)

(:math:`\mathcal D_s` = actions for (s, a)-rectangular sets, randomised actions for s-rectangular ones) is
a monotone :math:`\gamma`-contraction with :math:`T(v + c\mathbf 1) = Tv + \gamma c\mathbf 1`; its fixed point
is the robust value :math:`V^*_{\mathcal U} = \max_\pi \min_{P \in \mathcal U} V^\pi_P` (Iyengar 2005;
Nilim & El Ghaoui 2005; Wiesemann, Kuhn & Rustem 2013 for s-rectangular sets).

Stopping rule: monotonicity and translation-equivariance are all that the span bounds of Puterman (1994,
Prop. 6.6.5, Thm 6.6.6) use, so they carry over verbatim: with :math:`\Delta = Tv - v`,
:math:`V^*_{\mathcal U}` and :math:`V^\pi_{\mathcal U}` (:math:`\pi` greedy) lie in
:math:`[v + \min\Delta/(1-\gamma),\, v + \max\Delta/(1-\gamma)]`, so stopping at
:math:`\mathrm{sp}(\Delta) \le \mathrm{tol}(1-\gamma)` certifies a tol-optimal robust policy, exactly as in
:mod:`mdpkit.core.discounted`.

References
----------
Iyengar, "Robust dynamic programming", Math. Oper. Res. 30(2), 2005.
Nilim & El Ghaoui, "Robust control of MDPs with uncertain transition matrices", Oper. Res. 53(5), 2005.
Kaufman & Schaefer, "Robust modified policy iteration", INFORMS J. Computing 25(3), 2013.
Wiesemann, Kuhn & Rustem, "Robust Markov decision processes", Math. Oper. Res. 38(1), 2013.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mdpkit.core import validate as V
from mdpkit.core.model import TabularMDP
from mdpkit.core.results import Solution
from mdpkit.errors import InvalidArgumentError
from mdpkit.robust.sets import FiniteSet, UncertaintySet

__all__ = [
    "RobustSolution",
    "RobustEvaluation",
    "robust_value_iteration",
    "robust_modified_policy_iteration",
    "robust_evaluate",
    "evaluate_kernel",
    "solve",
]

Callback = Callable[[int, np.ndarray], None]


@dataclass(frozen=True, eq=False)
class RobustSolution(Solution):
    r"""A :class:`~mdpkit.Solution` of a robust MDP plus the worst-case kernel.

    Attributes (besides those of :class:`~mdpkit.Solution`, with :math:`V^*` the robust value)
    ----------
    kernel : ndarray (S, A, S)
        A kernel of :math:`\mathcal U` attaining the inner minimum at the returned ``V`` for
        ``policy_matrix``: the worst case the robust policy guards against.
    policy_matrix : ndarray (S, A)
        The robust policy as a stochastic matrix (one-hot for (s, a)-rectangular sets; randomised for
        s-rectangular ones, where ``policy`` is only its most likely action).
    uset : UncertaintySet
    """

    kernel: np.ndarray | None = None
    policy_matrix: np.ndarray | None = None
    uset: UncertaintySet | None = field(default=None, repr=False)


@dataclass(frozen=True, eq=False)
class RobustEvaluation:
    r"""Robust value of a fixed policy, :math:`V^\pi_{\mathcal U} = \min_{P \in \mathcal U} V^\pi_P`.

    Attributes
    ----------
    V : ndarray (S,)
        :math:`V^\pi_{\mathcal U}`, computed as the exact value :math:`(I - \gamma P^w_\pi)^{-1} r_\pi` of the
        minimising kernel.
    Q : ndarray (S, A)
        :math:`r(s,a) + \gamma \min_{q \in \mathcal U_{sa}} q^\top V` (``-inf`` at infeasible pairs).
    kernel : ndarray (S, A, S)
        The minimising kernel :math:`P^w \in \mathcal U`.
    J : float
        :math:`\mu^\top V`.
    iterations : int
        Adversary policy-iteration steps.
    error_bound : float
        Certified :math:`\|V - V^\pi_{\mathcal U}\|_\infty` bound, :math:`-\min(T^\pi v - v)/(1-\gamma)` plus
        rounding (0 up to rounding for polyhedral sets, which terminate exactly).
    """

    V: np.ndarray
    Q: np.ndarray
    kernel: np.ndarray
    J: float
    iterations: int
    error_bound: float


def _prepare(mdp: TabularMDP, uset: UncertaintySet, what: str) -> tuple[float, np.ndarray, UncertaintySet]:
    if not isinstance(mdp, TabularMDP):
        raise InvalidArgumentError(f"{what} needs a TabularMDP, got {type(mdp).__name__}")
    if not isinstance(uset, UncertaintySet):
        raise InvalidArgumentError(f"{what} needs an UncertaintySet, got {type(uset).__name__}")
    gamma = V.require_discounted(mdp.gamma, what)
    uset.check_model(mdp)
    if isinstance(uset, FiniteSet):
        uset = uset.hull()
    return gamma, np.ascontiguousarray(mdp.R), uset


def _floor(R: np.ndarray, v: np.ndarray, gamma: float, S: int) -> float:
    """Rounding allowance of a robust backup: twice :func:`mdpkit.core.discounted.rounding_floor`'s."""
    u = np.finfo(np.float64).eps / 2.0
    rmax = float(np.max(np.abs(R[np.isfinite(R)])))
    vmax = float(np.max(np.abs(v))) if v.size else 0.0
    return 4.0 * (S + 2) * u * (rmax + gamma * vmax) / (1.0 - gamma)


def _mode(D: np.ndarray) -> np.ndarray:
    return np.argmax(D, axis=1).astype(np.int64)


def _package(mdp, uset, gamma, v, tv, D, k, ok, method) -> RobustSolution:
    R = np.ascontiguousarray(mdp.R)
    d = tv - v
    lo, hi = float(d.min()), float(d.max())
    Vout = v + (lo + hi) / (2.0 * (1.0 - gamma))
    floor = _floor(R, v, gamma, mdp.S)
    return RobustSolution(
        V=Vout,
        policy=_mode(D),
        iterations=k,
        residual=(hi - lo) / 2.0,
        converged=ok,
        method=method,
        error_bound=(hi - lo) / (1.0 - gamma) + floor,
        rounding=floor,
        _q=lambda: uset.q(R, gamma, Vout),
        kernel=uset.worst_kernel(R, Vout, D),
        policy_matrix=D,
        uset=uset,
    )


def robust_value_iteration(
    mdp: TabularMDP,
    uset: UncertaintySet,
    tol: float = 1e-10,
    max_iter: int = 1_000_000,
    v0: np.ndarray | None = None,
    callback: Callback | None = None,
) -> RobustSolution:
    r"""Robust value iteration :math:`v_{k+1} = T v_k` (Iyengar 2005; Nilim & El Ghaoui 2005).

    Each sweep sorts :math:`v_k` once and solves every inner problem exactly
    (:mod:`mdpkit.robust._numba`). Stops when :math:`\mathrm{sp}(Tv - v) \le \mathrm{tol}(1-\gamma)` (the
    certified span rule of the module docstring).

    Parameters
    ----------
    mdp : TabularMDP
        Rewards, discount, initial distribution and feasible actions (its kernel is not used: the set's
        kernels are).
    uset : UncertaintySet
        A :class:`FiniteSet` is solved over its (s, a)-rectangular hull (the dynamic model).
    tol, max_iter, v0, callback
        As :func:`mdpkit.value_iteration`; ``callback(k, v)``.
    """
    gamma, R, uset = _prepare(mdp, uset, "robust_value_iteration")
    tol = V.check_tol(tol)
    v = np.zeros(mdp.S) if v0 is None else np.array(v0, dtype=np.float64)
    thresh = tol * (1.0 - gamma)
    for k in range(1, max_iter + 1):
        tv, D = uset.bellman(R, gamma, v)
        if callback is not None:
            callback(k, tv)
        d = tv - v
        if d.max() - d.min() <= thresh:
            return _package(mdp, uset, gamma, v, tv, D, k, True, "robust-vi")
        v = tv
    tv, D = uset.bellman(R, gamma, v)
    return _package(mdp, uset, gamma, v, tv, D, max_iter, False, "robust-vi")


def robust_modified_policy_iteration(
    mdp: TabularMDP,
    uset: UncertaintySet,
    tol: float = 1e-10,
    m: int = 20,
    max_iter: int = 1_000_000,
    v0: np.ndarray | None = None,
    callback: Callback | None = None,
) -> RobustSolution:
    r"""Robust modified policy iteration (Kaufman & Schaefer 2013).

    :math:`\pi_k = \mathrm{greedy}(v_k)`, :math:`v_{k+1} = (T^{\pi_k})^m\, T v_k`, where the partial
    evaluation steps use the robust policy operator :math:`T^{\pi}` (one inner problem per state instead
    of per pair). From :math:`v_0 = \min r/(1-\gamma)` (so :math:`Tv_0 \ge v_0`) the iterates increase
    monotonically to :math:`V^*_{\mathcal U}` (Kaufman & Schaefer 2013). Same span stopping rule as
    :func:`robust_value_iteration`.
    """
    gamma, R, uset = _prepare(mdp, uset, "robust_modified_policy_iteration")
    tol = V.check_tol(tol)
    if isinstance(m, bool) or not isinstance(m, int | np.integer) or m < 0:
        raise InvalidArgumentError(f"m = {m!r} must be a non-negative integer")
    if v0 is None:
        v = np.full(mdp.S, float(R[np.isfinite(R)].min()) / (1.0 - gamma))
    else:
        v = np.array(v0, dtype=np.float64)
    thresh = tol * (1.0 - gamma)
    for k in range(1, max_iter + 1):
        tv, D = uset.bellman(R, gamma, v)
        if callback is not None:
            callback(k, tv)
        d = tv - v
        if d.max() - d.min() <= thresh:
            return _package(mdp, uset, gamma, v, tv, D, k, True, "robust-mpi")
        u = tv
        for _ in range(m):
            u = uset.policy_backup(R, gamma, u, D)
        v = u
    tv, D = uset.bellman(R, gamma, v)
    return _package(mdp, uset, gamma, v, tv, D, max_iter, False, "robust-mpi")


def evaluate_kernel(mdp: TabularMDP, P: np.ndarray, pi: np.ndarray) -> np.ndarray:
    r"""Exact :math:`V^\pi_P = (I - \gamma P_\pi)^{-1} r_\pi` of a stochastic (S, A) policy under a dense
    kernel ``P`` (S, A, S) with ``mdp``'s rewards and discount (LAPACK LU)."""
    gamma = V.require_discounted(mdp.gamma, "evaluate_kernel")
    pi = np.asarray(pi, dtype=np.float64)
    Ppi = np.einsum("sa,sat->st", pi, P)
    rpi = np.sum(np.where(pi > 0, pi * np.where(np.isfinite(mdp.R), mdp.R, 0.0), 0.0), axis=1)
    M = np.eye(mdp.S) - gamma * Ppi
    return np.linalg.solve(M, rpi)


def robust_evaluate(
    mdp: TabularMDP, uset: UncertaintySet, policy: np.ndarray, tol: float = 1e-12, max_iter: int = 1000
) -> RobustEvaluation:
    r"""Robust policy evaluation :math:`V^\pi_{\mathcal U} = \min_{P \in \mathcal U} V^\pi_P`, with the
    minimising kernel.

    For a rectangular set this is an MDP for the adversary (its actions: the kernels of
    :math:`\mathcal U_s`), solved by the adversary's policy iteration (Iyengar 2005; Ho, Petrik &
    Wiesemann 2021, "Partial policy iteration"): from :math:`v_0 = V^\pi_{\bar P}`, take the minimising
    kernel :math:`P^{k}` at :math:`v_k` and evaluate it exactly, :math:`v_{k+1} = V^\pi_{P^k}`
    (:math:`v_{k+1} \le v_k`). For polyhedral sets (L1, L-infinity, finite hulls) the kernels are vertices
    and the iteration stops exactly; for KL balls it stops when :math:`-\min(T^\pi v - v) \le
    \mathrm{tol}(1-\gamma)`, which bounds :math:`\|v - V^\pi_{\mathcal U}\|_\infty \le \mathrm{tol}`.

    Parameters
    ----------
    policy : int array (S,) or stochastic (S, A)
    tol : float
        Target accuracy (certified, see ``error_bound``).
    """
    gamma, R, uset = _prepare(mdp, uset, "robust_evaluate")
    pi = mdp.policy_matrix(policy)
    v = evaluate_kernel(mdp, uset.nominal, pi)
    P = uset.nominal
    thresh = V.check_tol(tol) * (1.0 - gamma)
    iters = 0
    while iters < max_iter:
        iters += 1
        P = uset.worst_kernel(R, v, pi)
        tv = uset.policy_backup(R, gamma, v, pi)
        if -(tv - v).min() <= thresh:
            break
        v_new = evaluate_kernel(mdp, P, pi)
        if np.max(v - v_new) <= 0.0:  # no strict decrease: a fixed point up to rounding
            break
        v = v_new
    tv = uset.policy_backup(R, gamma, v, pi)
    floor = _floor(R, v, gamma, mdp.S)
    bound = max(0.0, -float((tv - v).min())) / (1.0 - gamma) + floor
    Q = uset.q(R, gamma, v)
    return RobustEvaluation(V=v, Q=Q, kernel=P, J=float(mdp.initial @ v), iterations=iters, error_bound=bound)


def solve(
    mdp: TabularMDP,
    uset: UncertaintySet,
    method: str = "vi",
    tol: float = 1e-10,
    backend: str = "numba",
    device: str | None = None,
    **options: object,
) -> RobustSolution:
    r"""Solve a robust MDP (dynamic model): :math:`V^*_{\mathcal U}`, a tol-optimal robust policy and the
    worst-case kernel.

    Parameters
    ----------
    mdp : TabularMDP
        Rewards, discount (< 1), initial distribution, feasible actions.
    uset : UncertaintySet
        :class:`~mdpkit.robust.sets.L1Ball`, :class:`~mdpkit.robust.sets.LinfBall`,
        :class:`~mdpkit.robust.sets.KLBall`, :class:`~mdpkit.robust.sets.SL1Ball`,
        :class:`~mdpkit.robust.sets.RectangularHull` or :class:`~mdpkit.robust.sets.FiniteSet` (solved
        over its rectangular hull; for its *static* value see :mod:`mdpkit.robust.static`).
    method : {"vi", "mpi"}
        :func:`robust_value_iteration` or :func:`robust_modified_policy_iteration`.
    tol : float
        Certified sup-norm suboptimality of the returned robust policy.
    backend : {"numba", "torch"}
        ``"torch"``: batched robust VI of :mod:`mdpkit.robust._torch` (L1 and KL balls, ``method="vi"``)
        on ``device`` (default CUDA when available).
    **options
        ``max_iter``, ``v0``, ``callback``, and ``m`` for MPI.

    Returns
    -------
    RobustSolution
    """
    method = V.check_choice(method, "method", ("vi", "mpi"))
    backend = V.check_choice(backend, "backend", ("numba", "torch"))
    if backend == "torch":
        from mdpkit.robust import _torch

        if method != "vi":
            raise InvalidArgumentError("backend='torch' implements method='vi' only")
        return _torch.solve(mdp, uset, tol=tol, device=device, **options)
    if device not in (None, "cpu"):
        raise InvalidArgumentError(f"device = {device!r} needs backend='torch'")
    fn = robust_value_iteration if method == "vi" else robust_modified_policy_iteration
    allowed = {"max_iter", "v0", "callback"} | ({"m"} if method == "mpi" else set())
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise InvalidArgumentError(
            f"method {method!r} takes no option {', '.join(map(repr, unknown))}; its options are "
            f"{', '.join(sorted(allowed))}"
        )
    return fn(mdp, uset, tol=tol, **options)
