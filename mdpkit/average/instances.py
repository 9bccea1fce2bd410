r"""Exact ground truth of average-reward instances and a family whose bias span varies with :math:`S, A`
fixed.

* :func:`ground_truth` — :math:`\rho^*`, :math:`h^*` (min 0), :math:`\mathrm{sp}(h^*)` and a gain-optimal
  policy from :func:`mdpkit.average_reward` (certified relative value iteration), plus the diameter-free
  quantities the regret bounds use. The exact gain of any played stationary policy is
  :func:`mdpkit.policy_gain` (used by :func:`mdpkit.experiments.run_continuing` for the pseudo-regret).
* :func:`slow_chain` — a chain where the "climb" action advances with probability :math:`p`; the optimal bias
  span grows like :math:`1/p` while :math:`S` and :math:`A = 2` stay fixed.
* :func:`span_family` — a list of :func:`slow_chain` instances with their exact :math:`\mathrm{sp}(h^*)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdpkit.core.average import average_reward
from mdpkit.core.model import TabularMDP
from mdpkit.envs._common import check_int, check_prob

__all__ = ["GroundTruth", "ground_truth", "slow_chain", "span_family", "SPAN_FAMILY_P"]

#: climb probabilities of the default span family (sp(h*) from about 5 to about 50 when S = 5)
SPAN_FAMILY_P: tuple[float, ...] = (0.8, 0.4, 0.2, 0.1, 0.05)


@dataclass(frozen=True)
class GroundTruth:
    r"""Exact optimal average-reward quantities of a model.

    Attributes
    ----------
    rho : float
        Optimal gain :math:`\rho^*` (midpoint of the certified bracket, width ``<= tol``).
    h : ndarray (S,)
        Optimal bias :math:`h^*` with :math:`\min h^* = 0`, solving
        :math:`\rho^* + h^*(s) = \max_a r(s,a) + P(\cdot|s,a)^\top h^*` to ``tol``.
    span : float
        :math:`\mathrm{sp}(h^*) = \max h^* - \min h^*`.
    policy : int ndarray (S,)
        A gain-optimal deterministic policy.
    residual : float
        Half-width of the gain bracket.
    """

    rho: float
    h: np.ndarray
    span: float
    policy: np.ndarray
    residual: float


def ground_truth(mdp: TabularMDP, tol: float = 1e-10) -> GroundTruth:
    r""":math:`\rho^*`, :math:`h^*`, :math:`\mathrm{sp}(h^*)` of a model with constant optimal gain.

    Parameters
    ----------
    mdp : TabularMDP
        Communicating or weakly communicating model (``gamma`` ignored).
    tol : float
        Stopping tolerance of relative value iteration (:func:`mdpkit.average_reward`).

    Returns
    -------
    GroundTruth
        The exact quantities (to ``tol``).
    """
    sol = average_reward(mdp, tol=tol)
    return GroundTruth(float(sol.gain), sol.h, float(sol.span), sol.policy, float(sol.residual))


def slow_chain(S: int = 5, p: float = 0.2, r_rest: float = 0.1, p_stay_end: float = 0.9) -> TabularMDP:
    r"""A chain whose optimal bias span is controlled by the climb probability ``p``.

    States :math:`0..S-1`, actions 0 = *rest*, 1 = *climb*:

    * *rest* returns to state 0 (from anywhere, deterministically), with reward ``r_rest`` in state 0 and 0
      elsewhere;
    * *climb* in :math:`s < S-1` moves to :math:`s+1` with probability :math:`p` and stays otherwise (reward
      0); in :math:`S-1` it pays 1, stays with probability ``p_stay_end`` and slips to :math:`S-2` otherwise.

    The model is communicating (climb reaches every state, rest returns to 0). With the defaults climbing is
    optimal for :math:`p \ge 0.05` and :math:`h^*(S-1) - h^*(0) \approx (S-1)\rho^*/p`: the span grows like
    :math:`1/p` (exact values from :func:`ground_truth`), with the initial state 0.

    Parameters
    ----------
    S : int
        Number of states (>= 2).
    p : float
        Climb success probability in (0, 1].
    r_rest : float
        Reward of resting in state 0, in [0, 1].
    p_stay_end : float
        Probability that climbing keeps the agent at the top, in [0, 1).

    Returns
    -------
    TabularMDP
        The model (dense, average reward, start in 0).
    """
    S = check_int(S, "S", 2)
    p = check_prob(p, "p")
    r_rest = check_prob(r_rest, "r_rest")
    q = check_prob(p_stay_end, "p_stay_end")
    if p == 0.0:
        from mdpkit.errors import InvalidArgumentError

        raise InvalidArgumentError("p = 0.0 must be in (0, 1]: the chain would not be communicating")
    P = np.zeros((S, 2, S))
    R = np.zeros((S, 2))
    P[:, 0, 0] = 1.0
    R[0, 0] = r_rest
    for s in range(S - 1):
        P[s, 1, s + 1] += p
        P[s, 1, s] += 1.0 - p
    P[S - 1, 1, S - 1] += q
    P[S - 1, 1, S - 2] += 1.0 - q
    R[S - 1, 1] = 1.0
    initial = np.zeros(S)
    initial[0] = 1.0
    return TabularMDP(P, R, None, initial=initial)


def span_family(
    S: int = 5, ps: tuple[float, ...] = SPAN_FAMILY_P, **kwargs: float
) -> list[tuple[float, TabularMDP, GroundTruth]]:
    r"""The :func:`slow_chain` instances for each climb probability, with their exact ground truth.

    Parameters
    ----------
    S : int
        Number of states (fixed across the family; :math:`A = 2`).
    ps : tuple of float
        Climb probabilities.
    **kwargs
        Further arguments of :func:`slow_chain`.

    Returns
    -------
    list of (p, TabularMDP, GroundTruth)
        Sorted as ``ps``; ``GroundTruth.span`` is :math:`\mathrm{sp}(h^*)`.
    """
    out = []
    for p in ps:
        mdp = slow_chain(S, p, **kwargs)
        out.append((float(p), mdp, ground_truth(mdp)))
    return out
