r"""Policy mirror descent / natural policy gradient with exact advantages on tabular MDPs.

The KL policy-mirror-descent step with step size :math:`\eta_k` (Xiao 2022, eq. (13) with the KL
divergence; Lan 2023; Tomar et al.'s MDPO, whose KL-penalised objective
:math:`\max_\pi \mathbb E_{s \sim d}\big[\langle \pi(\cdot|s), A_k(s,\cdot)\rangle - \frac1{\eta}
\mathrm{KL}(\pi(\cdot|s) \,\|\, \pi_k(\cdot|s))\big]` has the same per-state solution) is

.. math:: \pi_{k+1}(a|s) = \frac{\pi_k(a|s)\, e^{\eta_k A^{\pi_k}(s, a)}}
          {\sum_b \pi_k(b|s)\, e^{\eta_k A^{\pi_k}(s, b)}}.

For tabular softmax policies it is the natural policy gradient step of Kakade (2001) as written by
Agarwal, Kakade, Lee and Mahajan (JMLR 2021, eq. (17)): :math:`\theta \leftarrow \theta +
\frac{\eta_{\mathrm{NPG}}}{1-\gamma} A^{\pi_\theta}`, i.e. :math:`\eta_k = \eta_{\mathrm{NPG}} / (1-\gamma)`.

References
----------
Agarwal, Kakade, Lee, Mahajan, "On the theory of policy gradient methods: optimality, approximation, and
distribution shift", JMLR 22(98), 2021 — NPG's improvement lower bound and :math:`O(1/T)` rate.
Xiao, "On the convergence rates of policy gradient methods", JMLR 23(282), 2022 — PMD, linear convergence
with geometrically increasing step sizes.
Khodadadian, Jhunjhunwala, Varma, Maguluri, "On the linear convergence of natural policy gradient
algorithm", CDC 2021 (arXiv:2105.01424) — geometric asymptotic rate with constant step size.
Liu, Li, Wei, "Elementary analysis of policy gradient methods", arXiv:2404.03372 (2024) — global linear
convergence of softmax NPG for any constant step size.
Tomar, Shani, Efroni, Ghavamzadeh, "Mirror Descent Policy Optimization", ICLR 2022 (MDPO).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mdpkit.core.discounted import evaluate, solve
from mdpkit.core.model import TabularMDP
from mdpkit.core.validate import require_discounted
from mdpkit.errors import InvalidArgumentError
from mdpkit.policy_gradient._common import check_int, check_positive

__all__ = [
    "policy_values",
    "mirror_descent_step",
    "MirrorRun",
    "run_mirror_descent",
    "geometric_steps",
    "fit_linear_rate",
]


def mirror_descent_step(pi: np.ndarray, adv: np.ndarray, eta: float | np.ndarray) -> np.ndarray:
    r"""The KL mirror-descent (NPG / MDPO) step :math:`\pi' \propto \pi\, e^{\eta A}` along the last axis.

    Parameters
    ----------
    pi : ndarray (..., A)
        Current policy; zero entries stay zero (``adv`` may be ``-inf`` there).
    adv : ndarray (..., A)
        Advantage (any per-state shift gives the same result).
    eta : float or ndarray broadcastable to ``pi.shape[:-1] + (1,)``
        Step size :math:`\eta \ge 0` (``np.inf`` gives the greedy policy, ties split in proportion to ``pi``).
    """
    p = np.asarray(pi, dtype=np.float64)
    a = np.where(p > 0, np.asarray(adv, dtype=np.float64), -np.inf)
    e_arr = np.asarray(eta, dtype=np.float64)
    if np.any(e_arr < 0) or np.any(np.isnan(e_arr)):
        raise InvalidArgumentError(f"eta = {eta!r} must be >= 0")
    if np.all(np.isinf(e_arr)):
        best = np.max(a, axis=-1, keepdims=True)
        w = np.where(a == best, p, 0.0)
        return w / w.sum(axis=-1, keepdims=True)
    shifted = np.where(p > 0, a - np.max(a, axis=-1, keepdims=True), 0.0)  # finite where pi > 0
    z = np.where(p > 0, e_arr * shifted, -np.inf)
    with np.errstate(divide="ignore"):
        logp = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), -np.inf)
    t = logp + z
    t = t - np.max(t, axis=-1, keepdims=True)
    w = np.exp(t)
    return w / w.sum(axis=-1, keepdims=True)


def geometric_steps(eta0: float, gamma: float) -> Callable[[int], float]:
    r"""The step sizes :math:`\eta_k = \eta_0 / \gamma^{k}` (geometrically increasing, Xiao 2022 §4)."""
    check_positive(eta0, "eta0")
    if not 0 < gamma < 1:
        raise InvalidArgumentError(f"gamma = {gamma!r} must be in (0, 1)")
    log_growth = -np.log(gamma)

    def step(k: int) -> float:
        # capped at ~1e300 (beyond, the step is greedy to machine precision anyway)
        return float(eta0 * np.exp(min(k * log_growth, 690.0 - np.log(max(eta0, 1e-300)))))

    return step


@dataclass(frozen=True, eq=False)
class MirrorRun:
    """Trajectory of exact policy mirror descent.

    Attributes
    ----------
    J : ndarray (iters + 1,)
        :math:`J(\\pi_k) = \\mu^\\top V^{\\pi_k}`.
    V : ndarray (iters + 1, S)
        :math:`V^{\\pi_k}` (to check per-state monotonicity).
    V_star : ndarray (S,)
        Optimal values.
    J_star : float
    policy : ndarray (S, A)
        Final policy.
    steps : ndarray (iters,)
        Step sizes used.
    """

    J: np.ndarray
    V: np.ndarray
    V_star: np.ndarray
    J_star: float
    policy: np.ndarray
    steps: np.ndarray

    @property
    def gap(self) -> np.ndarray:
        """:math:`J^* - J(\\pi_k)`."""
        return self.J_star - self.J

    @property
    def sup_gap(self) -> np.ndarray:
        """:math:`\\|V^* - V^{\\pi_k}\\|_\\infty`."""
        return np.max(self.V_star[None, :] - self.V, axis=1)


#: Up to this many states a dense model is evaluated with ``numpy.linalg.solve`` (no solver overhead).
DENSE_EVAL_MAX_S = 2000


def policy_values(mdp: TabularMDP, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""``(V, advantage)`` of a stochastic policy (S, A), with ``-inf`` advantages at infeasible pairs.

    :math:`V = (I - \gamma P_\pi)^{-1} r_\pi` and :math:`A = r + \gamma P V - V`, by a direct dense solve
    for dense models with at most :data:`DENSE_EVAL_MAX_S` states (no solver overhead in the many small
    evaluations of the dynamics), else by :func:`mdpkit.evaluate`. ``pi`` is not validated.
    """
    if mdp.is_sparse or mdp.S > DENSE_EVAL_MAX_S:
        ev = evaluate(mdp, pi)
        return ev.V, ev.advantage
    P = mdp.P
    R = mdp.R_finite
    Ppi = np.einsum("sa,sat->st", pi, P)
    rpi = np.sum(pi * R, axis=1)
    V = np.linalg.solve(np.eye(mdp.S) - mdp.gamma * Ppi, rpi)
    Q = R + mdp.gamma * (P @ V)
    return V, np.where(mdp.mask, Q - V[:, None], -np.inf)


def run_mirror_descent(
    mdp: TabularMDP,
    eta: float | Callable[[int], float],
    iters: int,
    pi0: np.ndarray | None = None,
    V_star: np.ndarray | None = None,
    stop_gap: float | None = None,
) -> MirrorRun:
    r"""Run exact KL policy mirror descent (NPG) :math:`\pi_{k+1} \propto \pi_k e^{\eta_k A^{\pi_k}}`.

    Parameters
    ----------
    mdp : TabularMDP
        Discounted model (:math:`\gamma < 1`).
    eta : float or callable k -> float
        Constant step size or a schedule (e.g. :func:`geometric_steps`).
    iters : int
        Number of updates.
    pi0 : ndarray (S, A), optional
        Initial policy (default uniform over feasible actions). Must have full support on feasible actions
        for convergence to an optimum.
    V_star : ndarray (S,), optional
        Optimal values (default: solved by policy iteration).
    stop_gap : float, optional
        Stop early once :math:`\|V^* - V^{\pi_k}\|_\infty \le` ``stop_gap`` (the arrays are then shorter).

    Returns
    -------
    MirrorRun
    """
    check_int(iters, "iters", low=0)
    require_discounted(mdp.gamma, "run_mirror_descent")
    if callable(eta):
        sched = eta
    else:
        e_const = float(check_positive(eta, "eta"))

        def sched(k: int) -> float:
            return e_const

    pi = (mdp.mask / mdp.mask.sum(axis=1, keepdims=True)) if pi0 is None else mdp.policy_matrix(pi0)
    if V_star is None:
        V_star = solve(mdp, method="pi").V
    S = mdp.S
    Js = np.empty(iters + 1)
    Vs = np.empty((iters + 1, S))
    steps = np.empty(iters)
    ev = policy_values(mdp, pi)
    Js[0], Vs[0] = mdp.initial @ ev[0], ev[0]
    V_star = np.asarray(V_star, dtype=np.float64)
    n = iters
    for k in range(iters):
        if stop_gap is not None and np.max(V_star - Vs[k]) <= stop_gap:
            n = k
            break
        steps[k] = float(sched(k))
        pi = mirror_descent_step(pi, np.where(mdp.mask, ev[1], -np.inf), steps[k])
        ev = policy_values(mdp, pi)
        Js[k + 1], Vs[k + 1] = mdp.initial @ ev[0], ev[0]
    return MirrorRun(Js[: n + 1], Vs[: n + 1], V_star, float(mdp.initial @ V_star), pi, steps[:n])


def fit_linear_rate(gaps: np.ndarray, floor: float = 1e-11, tail: float = 0.5) -> tuple[float, float, int]:
    r"""Fit :math:`\log g_k \approx c + k \log \rho` on the tail of a gap sequence.

    Parameters
    ----------
    gaps : ndarray (K,)
        Non-negative optimality gaps :math:`g_k`.
    floor : float
        Gaps at or below ``floor`` (relative to ``gaps[0]``) are dropped as round-off.
    tail : float in (0, 1]
        Fraction of the remaining (above-floor) iterations, counted from the end, used for the fit.

    Returns
    -------
    (rho, r2, n)
        Fitted rate :math:`\rho` (< 1 for linear convergence), the coefficient of determination of the
        log-linear fit and the number of points used (``nan`` rate when fewer than 3 points remain).
    """
    g = np.asarray(gaps, dtype=np.float64)
    if g.ndim != 1:
        raise InvalidArgumentError(f"gaps has shape {g.shape}, expected 1-d")
    if not 0 < tail <= 1:
        raise InvalidArgumentError(f"tail = {tail!r} must be in (0, 1]")
    scale = max(float(g[0]), np.finfo(float).tiny) if g.size else 1.0
    keep = np.nonzero(g > floor * scale)[0]
    if keep.size == 0:
        return float("nan"), float("nan"), 0
    last = int(keep[-1])
    idx = np.arange(0, last + 1)
    idx = idx[g[idx] > floor * scale]
    n_tail = max(3, int(np.ceil(tail * idx.size)))
    idx = idx[-n_tail:]
    if idx.size < 3:
        return float("nan"), float("nan"), int(idx.size)
    y = np.log(g[idx])
    X = np.vstack([np.ones(idx.size), idx.astype(float)]).T
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    pred = X @ coef
    ss_res = float(np.sum((y - pred) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return float(np.exp(coef[1])), r2, int(idx.size)
