r"""The static model of a finite uncertainty set: nature draws one kernel :math:`P_k` for a whole episode.

For a stationary policy :math:`\pi` and a finite set :math:`\mathcal T = \{P_1, \dots, P_K\}`:

.. math:: J^\pi_k = \mu^\top V^\pi_{P_k}, \quad V^\pi_{P_k} = (I - \gamma P_{k,\pi})^{-1} r_\pi, \qquad
          J^\pi_{\mathrm{static}} = \min_k J^\pi_k, \qquad
          J^*_{\mathrm{static}} = \max_{\pi} \min_k J^\pi_k.

The set is not rectangular, so :math:`J^*_{\mathrm{static}}` can exceed the dynamic robust value (the value
of the (s, a)-rectangular hull, where nature may switch kernels at every step); the static optimum can
also need a randomised or history-dependent policy. :func:`static_optimal` is the ground truth over
*deterministic stationary* policies, by enumeration of all :math:`\prod_s |\mathcal A(s)|` of them
(tiny models only).

References
----------
Zouitine, Geist & Rachelson, "Solving robust MDPs as a sequence of static RL problems", arXiv:2410.06212
(2024) (static vs dynamic models); Iyengar (2005) (static and dynamic adversaries).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from mdpkit.core import validate as V
from mdpkit.core.model import TabularMDP
from mdpkit.errors import InvalidArgumentError
from mdpkit.robust.sets import FiniteSet, RectangularHull

__all__ = ["static_values", "static_robust_value", "static_optimal", "StaticOptimum", "MAX_POLICIES"]

#: Largest number of deterministic policies :func:`static_optimal` enumerates.
MAX_POLICIES = 200_000


def _kernels(tset: object) -> np.ndarray:
    if isinstance(tset, RectangularHull):
        return tset.kernels
    return FiniteSet(tset).kernels


def static_values(mdp: TabularMDP, tset: object, policy: np.ndarray) -> np.ndarray:
    r"""Exact values :math:`V^\pi_{P_k}` of one policy under each kernel, shape (K, S).

    Parameters
    ----------
    mdp : TabularMDP
        Rewards, discount (< 1), initial distribution (its kernel is not used).
    tset : FiniteSet or sequence of (S, A, S) kernels
    policy : int (S,) or stochastic (S, A)
    """
    gamma = V.require_discounted(mdp.gamma, "static_values")
    Ks = _kernels(tset)
    if Ks.shape[1:3] != (mdp.S, mdp.A):
        raise InvalidArgumentError(
            f"kernels are over (S, A) = {Ks.shape[1:3]}, the model over {(mdp.S, mdp.A)}"
        )
    pi = mdp.policy_matrix(policy)
    rpi = np.sum(np.where(pi > 0, pi * np.where(np.isfinite(mdp.R), mdp.R, 0.0), 0.0), axis=1)
    Ppi = np.einsum("sa,ksat->kst", pi, Ks)
    M = np.eye(mdp.S)[None] - gamma * Ppi
    return np.linalg.solve(M, np.broadcast_to(rpi, (Ks.shape[0], mdp.S))[..., None])[..., 0]


def static_robust_value(mdp: TabularMDP, tset: object, policy: np.ndarray) -> tuple[float, int, np.ndarray]:
    r"""Static robust value :math:`\min_k \mu^\top V^\pi_{P_k}` of a policy.

    Returns
    -------
    value : float
    k : int
        Index of a worst kernel (the first on ties).
    J : ndarray (K,)
        :math:`\mu^\top V^\pi_{P_k}` for every kernel.
    """
    J = static_values(mdp, tset, policy) @ mdp.initial
    k = int(np.argmin(J))
    return float(J[k]), k, J


@dataclass(frozen=True, eq=False)
class StaticOptimum:
    r"""Best deterministic stationary policy of the static model (by enumeration).

    Attributes
    ----------
    policy : int ndarray (S,)
        A maximiser of :math:`\min_k J^\pi_k` (the first in enumeration order).
    value : float
        :math:`J^*_{\mathrm{static}}` over deterministic stationary policies.
    kernel : int
        Index of the worst kernel of ``policy``.
    values : ndarray (n_policies,)
        :math:`\min_k J^\pi_k` of every enumerated policy.
    n_policies : int
    """

    policy: np.ndarray
    value: float
    kernel: int
    values: np.ndarray
    n_policies: int


def static_optimal(mdp: TabularMDP, tset: object, max_policies: int = MAX_POLICIES) -> StaticOptimum:
    r"""Exact static-optimal robust policy of a tiny model among deterministic stationary policies.

    Enumerates every policy :math:`\pi \in \prod_s \mathcal A(s)` (feasible actions only) and evaluates it
    exactly under each kernel (:func:`static_values`): :math:`\arg\max_\pi \min_k \mu^\top V^\pi_{P_k}`.

    Raises
    ------
    InvalidArgumentError
        When there are more than ``max_policies`` policies.
    """
    V.require_discounted(mdp.gamma, "static_optimal")
    acts = [np.flatnonzero(mdp.mask[s]) for s in range(mdp.S)]
    n = int(np.prod([len(a) for a in acts], dtype=np.float64))
    if n > max_policies:
        raise InvalidArgumentError(
            f"static_optimal enumerates {n} deterministic policies, more than max_policies = {max_policies}"
        )
    best, best_val, best_k = None, -np.inf, -1
    vals = np.empty(n)
    for i, pol in enumerate(itertools.product(*acts)):
        p = np.asarray(pol, dtype=np.int64)
        val, k, _ = static_robust_value(mdp, tset, p)
        vals[i] = val
        if val > best_val:
            best, best_val, best_k = p, val, k
    return StaticOptimum(policy=best, value=float(best_val), kernel=best_k, values=vals, n_policies=n)
