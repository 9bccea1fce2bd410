r"""Exact solvers for discounted MDPs: value iteration, policy iteration, modified PI and the primal LP.

All four compute :math:`V^*`, the unique fixed point of the Bellman optimality operator

.. math:: (TV)(s) = \max_{a \in \mathcal A(s)} \; r(s, a) + \gamma \sum_{s'} P(s' | s, a) V(s'),

and a greedy policy that is ``tol``-optimal: :math:`\|V^{\pi} - V^*\|_\infty \le` ``tol``.

Stopping rule (VI, MPI). With :math:`\Delta = Tv - v` and :math:`\pi` greedy with respect to ``v``,
both :math:`V^*` and :math:`V^\pi` lie in :math:`[v + \min\Delta/(1-\gamma),\; v + \max\Delta/(1-\gamma)]`
(Puterman 1994, Prop. 6.6.5 and Thm 6.6.6). Stopping once
:math:`\mathrm{sp}(\Delta) \le \mathrm{tol}\,(1-\gamma)`
therefore certifies a ``tol``-optimal greedy policy, and the returned value
:math:`V = v + (\min\Delta + \max\Delta)/(2(1-\gamma))` is within ``tol/2`` of :math:`V^*`.

References
----------
Puterman, *Markov Decision Processes* (1994): VI §6.3, PI §6.4, MPI §6.5, span bounds §6.6, LP §6.9.
Howard, *Dynamic Programming and Markov Processes* (1960).
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from mdpkit.core import validate as V
from mdpkit.core._ops import Operators
from mdpkit.core.model import TabularMDP
from mdpkit.core.results import PolicyEvaluation, Solution
from mdpkit.errors import ConvergenceError, InvalidArgumentError, InvalidPolicyError

__all__ = [
    "solve",
    "value_iteration",
    "policy_iteration",
    "modified_policy_iteration",
    "linear_program",
    "evaluate",
    "occupancy",
    "performance_difference",
    "bellman_residual",
]

METHODS = ("vi", "pi", "mpi", "lp")
BACKENDS = ("numba", "torch")
Callback = Callable[[int, np.ndarray, np.ndarray], None]


def _ops(mdp: TabularMDP) -> Operators:
    return Operators(mdp.P, mdp.R)


def _tie(v: np.ndarray) -> float:
    """Tolerance under which Howard PI keeps its current action (prevents cycling on rounding noise)."""
    return 64 * np.finfo(np.float64).eps * (1.0 + float(np.max(np.abs(v))))


def rounding_floor(ops: Operators, v: np.ndarray, gamma: float) -> float:
    r"""Worst-case effect of floating-point rounding on the span certificate.

    A computed backup :math:`\mathrm{fl}((Tv)(s))` differs from the exact one by at most
    :math:`\delta = (n + 2)\,u\,(\max|r| + \gamma \|v\|_\infty)` (:math:`n` the longest row of ``P``,
    :math:`u = 2^{-53}`; inner-product bound of Higham 2002, Thm 3.1), which moves each end of the span
    bracket by at most :math:`\delta/(1-\gamma)`. Returns :math:`2\delta/(1-\gamma)`.
    """
    u = np.finfo(np.float64).eps / 2.0
    rmax = float(np.max(np.abs(ops.R[np.isfinite(ops.R)])))
    vmax = float(np.max(np.abs(v))) if v.size else 0.0
    return 2.0 * (ops.row_len + 2) * u * (rmax + gamma * vmax) / (1.0 - gamma)


def _certified(
    ops: Operators,
    gamma: float,
    v: np.ndarray,
    tv: np.ndarray,
    pol: np.ndarray,
    k: int,
    ok: bool,
    method: str,
    shift: bool = True,
    tpv: np.ndarray | None = None,
) -> Solution:
    r"""Package a solution with its certificate.

    With :math:`hi = \max(Tv - v)` and :math:`lo = \min(T_\pi v - v)` (``tpv`` :math:`= T_\pi v`, equal to
    :math:`Tv` for an exact greedy policy), :math:`V^\pi - v \ge lo/(1-\gamma)` and
    :math:`V^* - v \le hi/(1-\gamma)`, so :math:`\|V^\pi - V^*\|_\infty \le (hi - lo)/(1-\gamma)` plus
    :func:`rounding_floor`. ``shift`` moves ``v`` to the middle of the bracket (VI, MPI); PI keeps its
    exact :math:`V^{\pi}`.
    """
    d = tv - v
    hi = float(d.max())
    lo = float(d.min() if tpv is None else (tpv - v).min())
    floor = rounding_floor(ops, v, gamma)
    if shift:
        c = (lo + hi) / (2.0 * (1.0 - gamma))
        Vout = v + c
        residual = (hi - lo) / 2.0
    else:
        Vout = v
        residual = float(np.max(np.abs(d)))
    return Solution(
        V=Vout,
        policy=pol.copy(),
        iterations=k,
        residual=residual,
        converged=ok,
        method=method,
        error_bound=(hi - lo) / (1.0 - gamma) + floor,
        rounding=floor,
        _q=lambda: ops.q(Vout, gamma),
    )


def value_iteration(
    mdp: TabularMDP,
    tol: float = 1e-10,
    max_iter: int = 1_000_000,
    v0: np.ndarray | None = None,
    callback: Callback | None = None,
) -> Solution:
    r"""Value iteration :math:`v_{k+1} = T v_k` with the span stopping rule (Puterman 1994, §6.3 and §6.6).

    Stops when :math:`\mathrm{sp}(Tv_k - v_k) \le \mathrm{tol}(1-\gamma)`, which certifies
    :math:`\|V^{\pi_k} - V^*\|_\infty \le \mathrm{tol}` for the greedy :math:`\pi_k`. The span contracts at
    least as fast as :math:`\gamma\,\tau(P)` per sweep (:math:`\tau` the ergodicity coefficient), so
    fast-mixing models stop long before the :math:`\log(\mathrm{tol})/\log\gamma` sweeps of a sup-norm rule.

    Parameters
    ----------
    mdp : TabularMDP with ``gamma < 1``.
    tol : float
        Target sup-norm suboptimality of the returned greedy policy.
    max_iter : int
        Sweep budget; ``converged`` is False when it runs out.
    v0 : ndarray (S,), optional
        Starting value (default 0).
    callback : callable(k, v, policy), optional
        Called after every sweep.
    """
    gamma = V.require_discounted(mdp.gamma, "value_iteration")
    tol = V.check_tol(tol)
    ops = _ops(mdp)
    v = np.zeros(mdp.S) if v0 is None else np.array(v0, dtype=np.float64)
    return _span_iteration(ops, gamma, tol, 0, v, max_iter, callback, "vi")


def _span_iteration(
    ops: Operators,
    gamma: float,
    tol: float,
    m: int,
    v: np.ndarray,
    max_iter: int,
    callback: Callback | None,
    method: str,
    theta: float = 0.0,
) -> Solution:
    """Shared loop of VI (``m = 0``) and MPI: ``v <- T_pi^m T v`` until the span rule certifies ``tol``.

    Without a callback the whole loop runs compiled (:meth:`Operators.span_loop`); with one, the same
    iteration runs in Python so the callback sees every sweep.
    """
    thresh = tol * (1.0 - gamma)
    if callback is None:
        v, tv, pol, k, ok = ops.span_loop(v, gamma, thresh, max_iter, m, theta)
        return _certified(ops, gamma, v, tv, pol, k, ok, method)
    tv = np.empty(ops.S)
    pol = np.empty(ops.S, dtype=np.int64)
    w = np.empty(ops.S)
    for k in range(1, max_iter + 1):
        ops.bellman(v, gamma, tv, pol)
        callback(k, tv, pol)
        d = tv - v
        if d.max() - d.min() <= thresh:
            return _certified(ops, gamma, v, tv, pol, k, True, method)
        v = tv.copy()
        outer = d.max() - d.min()
        for _ in range(m):
            ops.policy_step(pol, gamma, v, w)
            inner = w - v
            v, w = w, v
            if inner.max() - inner.min() <= theta * outer:
                break
    ops.bellman(v, gamma, tv, pol)
    return _certified(ops, gamma, v, tv, pol, max_iter, False, method)


def policy_iteration(
    mdp: TabularMDP,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    policy0: np.ndarray | None = None,
    callback: Callback | None = None,
) -> Solution:
    r"""Howard's policy iteration with exact evaluation (Puterman 1994, §6.4).

    Evaluation solves :math:`(I - \gamma P_{\pi_k}) V_k = r_{\pi_k}` exactly (LU; for sparse models with more
    than :data:`mdpkit.core._ops.SPARSE_DIRECT_MAX_S` states, BiCGSTAB warm-started at the previous
    policy's values, to relative residual 1e-15). Improvement
    takes the greedy action, keeping :math:`\pi_k(s)` on ties within a few ulps, so :math:`V_{k+1} \ge V_k`
    and the method stops after finitely many steps at an optimal policy (``error_bound`` ~ rounding).

    Parameters
    ----------
    policy0 : int ndarray (S,), optional
        Initial policy (default: myopic, greedy with respect to ``R``).
    tol : float
        Unused by the stopping rule (a stable policy is optimal); kept for a uniform signature.
    """
    gamma = V.require_discounted(mdp.gamma, "policy_iteration")
    tol = V.check_tol(tol)
    ops = _ops(mdp)
    if policy0 is None:
        _, pol = ops.bellman(np.zeros(mdp.S), 0.0)
    else:
        if np.ndim(policy0) != 1:
            raise InvalidPolicyError(
                f"policy0 must be a deterministic policy, an int array of shape (S,) = ({mdp.S},); "
                f"got shape {np.shape(policy0)}"
            )
        V.check_policy(policy0, mdp.mask, "policy0")
        pol = np.asarray(policy0, dtype=np.int64).copy()
    v = None
    for k in range(1, max_iter + 1):
        v = ops.chain(pol).evaluate(gamma, x0=v)
        tv, new, tpv = ops.improve(v, pol, gamma, _tie(v))
        if callback is not None:
            callback(k, v, pol)
        if np.array_equal(new, pol):
            return _certified(ops, gamma, v, tv, pol, k, True, "pi", shift=False, tpv=tpv)
        pol = new
    tv, pol = ops.bellman(v, gamma)
    return _certified(ops, gamma, v, tv, pol, max_iter, False, "pi")


def modified_policy_iteration(
    mdp: TabularMDP,
    tol: float = 1e-10,
    m: int = 100,
    theta: float = 0.3,
    max_iter: int = 1_000_000,
    v0: np.ndarray | None = None,
    callback: Callback | None = None,
) -> Solution:
    r"""Modified policy iteration with an adaptive order (Puterman 1994, §6.5; Puterman & Shin 1978).

    Iterates :math:`\pi_k = \mathrm{greedy}(v_k)`, :math:`v_{k+1} = T_{\pi_k}^{m_k}\, T v_k`. Each partial
    evaluation step reads the rows :math:`P(\cdot|s, \pi_k(s))` in place (cost :math:`1/A` of a Bellman
    sweep, no max). The order :math:`m_k \le` ``m`` is adaptive: the steps stop once
    :math:`\mathrm{sp}(T_{\pi_k} u - u) \le \theta\, \mathrm{sp}(T v_k - v_k)`, so fast-mixing models take
    few steps and slow-mixing ones up to ``m`` (``theta = 0`` gives the classical fixed order ``m``).
    Starting from :math:`v_0 = \min r / (1 - \gamma)` (so :math:`Tv_0 \ge v_0`) the iterates increase
    monotonically to :math:`V^*` for any sequence of orders (Puterman 1994, Thm 6.5.5). Same span stopping
    rule and certificate as :func:`value_iteration`.
    """
    gamma = V.require_discounted(mdp.gamma, "modified_policy_iteration")
    tol = V.check_tol(tol)
    if isinstance(m, bool) or not isinstance(m, int | np.integer) or m < 0:
        raise InvalidArgumentError(f"m = {m!r} must be a non-negative integer")
    if isinstance(theta, bool) or not isinstance(theta, numbers.Real) or not 0 <= theta <= 1:
        raise InvalidArgumentError(f"theta = {theta!r} must be a number in [0, 1]")
    ops = _ops(mdp)
    if v0 is None:
        v = np.full(mdp.S, float(mdp.R[mdp.mask].min()) / (1.0 - gamma))
    else:
        v = np.array(v0, dtype=np.float64)
    return _span_iteration(ops, gamma, tol, int(m), v, max_iter, callback, "mpi", float(theta))


def linear_program(mdp: TabularMDP, tol: float = 1e-10) -> Solution:
    r"""The primal LP of a discounted MDP, solved with HiGHS, followed by an exact crossover.

    .. math:: \min_V \sum_s V(s) \quad \text{s.t.} \quad V(s) - \gamma \sum_{s'} P(s'|s,a) V(s') \ge r(s,a)
              \;\; \forall\, (s, a) \text{ feasible}

    (Puterman 1994, §6.9; uniform weights make the solution unique). HiGHS solves to ~1e-9 feasibility, so
    the LP's greedy policy is then evaluated exactly and, if not yet optimal, improved by Howard steps
    (none are needed in the common case); ``iterations`` counts the LP's own iterations.
    """
    gamma = V.require_discounted(mdp.gamma, "linear_program")
    tol = V.check_tol(tol)
    S, A = mdp.S, mdp.A
    feas = np.flatnonzero(mdp.mask.reshape(-1))
    rows = sp.csr_matrix(mdp.P_rows)[feas]
    states = feas // A
    E = sp.csr_matrix((np.ones(feas.size), (np.arange(feas.size), states)), shape=(feas.size, S))
    A_ub = (gamma * rows - E).tocsr()  # -(V(s) - gamma P V) <= -r
    b_ub = -mdp.R.reshape(-1)[feas]
    res = linprog(np.ones(S), A_ub=A_ub, b_ub=b_ub, bounds=(None, None), method="highs")
    if res.status != 0:
        raise ConvergenceError(f"HiGHS failed on the primal LP: {res.message}")
    ops = _ops(mdp)
    _, pol = ops.bellman(res.x, gamma)
    sol = policy_iteration(mdp, tol=tol, policy0=pol)
    return Solution(
        V=sol.V,
        policy=sol.policy,
        iterations=int(getattr(res, "nit", 0)),
        residual=sol.residual,
        converged=sol.converged,
        method="lp",
        error_bound=sol.error_bound,
        rounding=sol.rounding,
        _q=sol._q,
    )


def solve(
    mdp: TabularMDP,
    method: str = "pi",
    tol: float = 1e-10,
    backend: str = "numba",
    device: str | None = None,
    **options: object,
) -> Solution:
    r"""Solve a discounted MDP exactly: :math:`V^*` and a ``tol``-optimal greedy policy.

    Parameters
    ----------
    mdp : TabularMDP
        Model with ``0 <= gamma < 1``; dense or CSR.
    method : {"vi", "pi", "mpi", "lp"}
        :func:`value_iteration`, :func:`policy_iteration`, :func:`modified_policy_iteration` or
        :func:`linear_program`. All four agree: values to ``tol``, policies up to ties.
    tol : float
        Certified sup-norm suboptimality of the returned policy (see the module docstring).
    backend : {"numba", "torch"}
        ``"torch"`` runs the same algorithm (``vi``, ``pi``, or ``mpi`` of fixed order ``m``) with the
        batched torch operators of :mod:`mdpkit.core._torch` on ``device`` (default: CUDA when available,
        else CPU).
    **options
        Passed to the method (``max_iter``, ``m``, ``theta``, ``v0``, ``policy0``, ``callback``).

    Returns
    -------
    Solution
    """
    method = V.check_choice(method, "method", METHODS)
    backend = V.check_choice(backend, "backend", BACKENDS)
    if backend == "torch":
        from mdpkit.core import _torch

        return _torch.solve_discounted(mdp, method=method, tol=tol, device=device, **options)
    if device not in (None, "cpu"):
        raise InvalidArgumentError(
            f"device = {device!r} needs backend='torch'; the numba backend runs on the CPU"
        )
    fn = {
        "vi": value_iteration,
        "pi": policy_iteration,
        "mpi": modified_policy_iteration,
        "lp": linear_program,
    }[method]
    allowed = set(inspect.signature(fn).parameters) - {"mdp", "tol"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise InvalidArgumentError(
            f"method {method!r} takes no option {', '.join(map(repr, unknown))}; "
            f"its options are {', '.join(sorted(allowed)) or 'none'}"
        )
    return fn(mdp, tol=tol, **options)


def bellman_residual(mdp: TabularMDP, v: np.ndarray) -> float:
    r""":math:`\|Tv - v\|_\infty` for a discounted model."""
    gamma = V.require_discounted(mdp.gamma, "bellman_residual")
    v = np.asarray(v, dtype=np.float64)
    V.check_shape(v, (mdp.S,), "v")
    tv, _ = _ops(mdp).bellman(v, gamma)
    return float(np.max(np.abs(tv - v)))


def _policy_chain(mdp: TabularMDP, pi: np.ndarray):
    """(P_pi, r_pi) for a stochastic policy matrix (dense (S, S) or CSR)."""
    return mdp.transition_matrix(pi), mdp.reward_vector(pi)


def evaluate(mdp: TabularMDP, policy: np.ndarray) -> PolicyEvaluation:
    r"""Exact evaluation of a stationary policy (deterministic int (S,) or stochastic (S, A)).

    .. math:: V^\pi = (I - \gamma P_\pi)^{-1} r_\pi, \quad Q^\pi = r + \gamma P V^\pi, \quad
              A^\pi = Q^\pi - V^\pi, \quad J(\pi) = \mu^\top V^\pi

    (Puterman 1994, Thm 6.1.1; Sutton & Barto 2018, §3.5).
    """
    from mdpkit.core._ops import Chain

    gamma = V.require_discounted(mdp.gamma, "evaluate")
    pi = mdp.policy_matrix(policy)
    Ppi, rpi = _policy_chain(mdp, pi)
    v = Chain(Ppi, rpi).evaluate(gamma)
    Q = _ops(mdp).q(v, gamma)
    adv = Q - v[:, None]
    return PolicyEvaluation(V=v, Q=Q, advantage=adv, J=float(mdp.initial @ v))


def occupancy(mdp: TabularMDP, policy: np.ndarray, initial: np.ndarray | None = None) -> np.ndarray:
    r"""Normalised discounted state-action occupancy measure, shape (S, A), summing to 1.

    .. math:: d^\pi_\mu(s, a) = (1-\gamma) \sum_{t \ge 0} \gamma^t \Pr^\pi_\mu(s_t = s, a_t = a)
              = (1-\gamma)\,[\mu^\top (I - \gamma P_\pi)^{-1}](s)\, \pi(a|s)

    (Puterman 1994, §6.9; Kakade & Langford 2002).
    """
    from mdpkit.core._ops import Chain

    gamma = V.require_discounted(mdp.gamma, "occupancy")
    pi = mdp.policy_matrix(policy)
    mu = (
        mdp.initial
        if initial is None
        else V.check_distribution(initial, mdp.S, "initial", InvalidArgumentError)
    )
    Ppi, _ = _policy_chain(mdp, pi)
    PT = Ppi.T.tocsr() if sp.issparse(Ppi) else np.ascontiguousarray(Ppi.T)
    ds = (1.0 - gamma) * Chain(PT, mu).evaluate(gamma)
    return ds[:, None] * pi


def performance_difference(mdp: TabularMDP, new: np.ndarray, old: np.ndarray) -> tuple[float, float]:
    r"""Both sides of the performance-difference lemma (Kakade & Langford 2002, Lemma 6.1).

    .. math:: J(\pi') - J(\pi) = \frac{1}{1-\gamma}\,
              \mathbb E_{(s,a) \sim d^{\pi'}_\mu}\big[A^{\pi}(s, a)\big]

    Returns ``(lhs, rhs)``; they agree to rounding (~1e-12 relative) for every pair of policies.
    """
    gamma = V.require_discounted(mdp.gamma, "performance_difference")
    ev_old = evaluate(mdp, old)
    ev_new = evaluate(mdp, new)
    d = occupancy(mdp, new)
    adv = np.where(d > 0, ev_old.advantage, 0.0)
    return ev_new.J - ev_old.J, float(np.sum(d * adv)) / (1.0 - gamma)
