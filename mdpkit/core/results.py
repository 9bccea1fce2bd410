"""Result dataclasses returned by the exact solvers (the same for every backend)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Solution:
    r"""Solution of a discounted MDP.

    Attributes
    ----------
    V : ndarray (S,)
        Value estimate, within ``error_bound / 2`` of :math:`V^*` in sup norm.
    policy : int ndarray (S,)
        Greedy deterministic policy; :math:`\|V^{\pi} - V^*\|_\infty \le` ``error_bound``.
    iterations : int
        Sweeps (VI, MPI), policy evaluations (PI) or simplex/IPM iterations (LP).
    residual : float
        Bellman residual :math:`\|TV - V\|_\infty` of the returned ``V``.
    converged : bool
        Whether the stopping rule was met within the iteration budget (VI/MPI: the span rule
        :math:`\mathrm{sp}(Tv - v) \le \mathrm{tol}(1-\gamma)`; PI and LP: a stable policy).
    method : str
        ``"vi" | "pi" | "mpi" | "lp"``.
    error_bound : float
        Certified bound on :math:`\|V^{\pi} - V^*\|_\infty`: the span bracket of the last sweep,
        :math:`\mathrm{sp}(Tv - v) / (1 - \gamma)` (Puterman 1994, Prop. 6.6.5 and Thm 6.6.6), plus
        ``rounding``. It can exceed ``tol`` when ``tol`` is below the floating-point floor.
    rounding : float
        Worst-case rounding term included in ``error_bound``,
        :math:`2 (n+2) u (\max|r| + \gamma\|V\|_\infty)/(1-\gamma)` (see
        :func:`mdpkit.core.discounted.rounding_floor`).
    Q : ndarray (S, A)
        :math:`Q = R + \gamma P V` with ``-inf`` at infeasible pairs (computed on first access).
    """

    V: np.ndarray
    policy: np.ndarray
    iterations: int
    residual: float
    converged: bool
    method: str = ""
    error_bound: float = float("nan")
    rounding: float = 0.0
    _q: Callable[[], np.ndarray] | None = field(default=None, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def Q(self) -> np.ndarray:
        if "Q" not in self._cache:
            if self._q is None:
                raise AttributeError("this Solution was built without a Q")
            self._cache["Q"] = self._q()
        return self._cache["Q"]


@dataclass(frozen=True, eq=False)
class FiniteSolution:
    r"""Solution of a finite-horizon MDP by backward induction.

    Attributes
    ----------
    V : ndarray (H+1, S)
        :math:`V_h^*`, with ``V[H]`` the terminal reward.
    Q : ndarray (H, S, A)
        :math:`Q_h^*(s, a) = r_h(s, a) + P_h(\cdot|s,a)^\top V_{h+1}^*` (``-inf`` at infeasible pairs).
    policy : int ndarray (H, S)
        An optimal (first-maximiser) deterministic Markov policy.
    value : float
        :math:`\mu^\top V_0^*`.
    """

    V: np.ndarray
    Q: np.ndarray
    policy: np.ndarray
    value: float


@dataclass(frozen=True, eq=False)
class PolicyEvaluation:
    r"""Exact evaluation of a stationary policy in a discounted MDP.

    ``V = (I - gamma P_pi)^{-1} r_pi``, ``Q = R + gamma P V``, ``advantage = Q - V[:, None]`` (``-inf`` at
    infeasible pairs) and ``J = mu^T V``.
    """

    V: np.ndarray
    Q: np.ndarray
    advantage: np.ndarray
    J: float


@dataclass(frozen=True, eq=False)
class AverageRewardSolution:
    r"""Solution of an average-reward MDP with constant optimal gain.

    Attributes
    ----------
    gain : float
        Optimal gain :math:`\rho^*` (within ``tol / 2``).
    h : ndarray (S,)
        A solution of the optimality equation :math:`\rho^* + h(s) = \max_a r(s,a) + P(\cdot|s,a)^\top h`,
        shifted so that :math:`\min_s h(s) = 0`. Any constant shift is another solution.
    span : float
        :math:`\mathrm{sp}(h^*) = \max h - \min h`.
    policy : int ndarray (S,)
        A greedy policy with respect to ``h``; its gain is at least ``gain_lower``.
    iterations, residual, converged, method
        As for :class:`Solution`; ``residual`` is
        :math:`\max_s |\rho + h(s) - \max_a (r + P h)(s, a)|`.
    gain_lower, gain_upper : float
        Certified bounds :math:`\min(Th - h) \le \rho^* \le \max(Th - h)` (Puterman 1994, Thm 8.5.5).
    """

    gain: float
    h: np.ndarray
    span: float
    policy: np.ndarray
    iterations: int
    residual: float
    converged: bool
    method: str
    gain_lower: float
    gain_upper: float
