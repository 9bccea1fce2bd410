r"""Tabular softmax policies and their exact policy gradients.

A tabular softmax policy has one logit per decision: :math:`\pi_\theta(a|s) = e^{\theta_{s,a}} /
\sum_{b} e^{\theta_{s,b}}` (``-inf`` logits give probability 0, e.g. for infeasible actions). Its score is
:math:`\partial \log \pi_\theta(a|s) / \partial \theta_{s,b} = \mathbb 1[a = b] - \pi_\theta(b|s)`, so for
any per-decision weights :math:`g(s, a)` (an advantage or its conditional expectation)

.. math:: \mathbb E_{a \sim \pi(\cdot|s)}\big[\nabla_{\theta_{s,\cdot}} \log \pi(a|s)\, g(s, a)\big]
          = \pi(\cdot|s) \odot \big(g(s, \cdot) - \langle \pi(\cdot|s), g(s, \cdot)\rangle\big),

which :func:`score_direction` computes. The exact gradients of the objectives follow:

* bandit: :math:`\nabla_\theta J = \pi \odot (\mu - J)`;
* discounted MDP: :math:`\partial J / \partial \theta_{s,a} = \frac{1}{1-\gamma} d^\pi_\mu(s)\, \pi(a|s)\,
  A^\pi(s, a)` (Agarwal, Kakade, Lee, Mahajan, JMLR 2021, Lemma C.1 / eq. (12));
* finite horizon, time-indexed logits :math:`\theta_{h,s,a}`: :math:`\partial J / \partial \theta_{h,s,a} =
  d_h(s)\, \pi_h(a|s)\, A_h(s, a)`.
"""

from __future__ import annotations

import numpy as np

from mdpkit.core.discounted import evaluate, occupancy
from mdpkit.core.finite import evaluate_finite, occupancy_finite
from mdpkit.core.model import FiniteHorizonMDP, TabularMDP
from mdpkit.errors import InvalidPolicyError
from mdpkit.policy_gradient.bandit import Bandit

__all__ = [
    "softmax",
    "logits_from_policy",
    "uniform_logits",
    "score_direction",
    "bandit_gradient",
    "tabular_gradient",
    "finite_gradient",
]


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    r""":math:`\pi = e^{\theta} / \sum e^{\theta}` along ``axis`` (numerically stable; ``-inf`` -> 0).

    Raises
    ------
    InvalidPolicyError
        If a row has no finite logit, or a logit is NaN or ``+inf``.
    """
    th = np.asarray(logits, dtype=np.float64)
    if np.isnan(th).any() or np.isposinf(th).any():
        idx = np.argwhere(np.isnan(th) | np.isposinf(th))[0]
        raise InvalidPolicyError(f"logits[{', '.join(map(str, idx))}] = {th[tuple(idx)]!r} is not allowed")
    m = np.max(th, axis=axis, keepdims=True)
    if np.isneginf(m).any():
        idx = np.argwhere(np.isneginf(np.squeeze(m, axis=axis)))[0] if m.ndim > 1 else ()
        raise InvalidPolicyError(f"logits row {tuple(int(i) for i in np.atleast_1d(idx))} is -inf everywhere")
    e = np.exp(th - m)
    return e / e.sum(axis=axis, keepdims=True)


def logits_from_policy(pi: np.ndarray) -> np.ndarray:
    r""":math:`\theta = \log \pi` (``-inf`` where :math:`\pi = 0`), a logit vector whose softmax is ``pi``."""
    p = np.asarray(pi, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), -np.inf)


def uniform_logits(shape: tuple[int, ...], mask: np.ndarray | None = None) -> np.ndarray:
    """Zero logits (the uniform policy), ``-inf`` where ``mask`` is False."""
    th = np.zeros(shape)
    if mask is not None:
        th = np.where(np.broadcast_to(mask, shape), th, -np.inf)
    return th


def score_direction(pi: np.ndarray, g: np.ndarray) -> np.ndarray:
    r""":math:`\pi \odot (g - \langle \pi, g\rangle)` along the last axis (entries with :math:`\pi = 0` give 0
    even where ``g`` is infinite)."""
    p = np.asarray(pi, dtype=np.float64)
    gg = np.where(p > 0, np.asarray(g, dtype=np.float64), 0.0)
    return p * (gg - np.sum(p * gg, axis=-1, keepdims=True))


def bandit_gradient(bandit: Bandit, logits: np.ndarray) -> np.ndarray:
    r"""Exact :math:`\nabla_\theta J(\pi_\theta) = \pi \odot (\mu - J)` for a softmax bandit policy (A,)."""
    pi = softmax(logits)
    mu = np.asarray([float(m) for m in bandit.means()])
    return score_direction(pi, mu)


def tabular_gradient(mdp: TabularMDP, logits: np.ndarray) -> np.ndarray:
    r"""Exact :math:`\partial J / \partial \theta_{s,a} = \frac{1}{1-\gamma} d^\pi_\mu(s)\pi(a|s) A^\pi(s,a)`
    for a discounted MDP, shape (S, A) (Agarwal et al. 2021, softmax policy gradient)."""
    pi = softmax(logits)
    ev = evaluate(mdp, pi)
    d = occupancy(mdp, pi).sum(axis=1)
    return d[:, None] * score_direction(pi, ev.Q) / (1.0 - mdp.gamma)


def finite_gradient(fh: FiniteHorizonMDP, logits: np.ndarray) -> np.ndarray:
    r"""Exact :math:`\partial J / \partial \theta_{h,s,a} = d_h(s)\,\pi_h(a|s)\,A_h(s,a)` for time-indexed
    softmax logits of shape (H, S, A) in a finite-horizon problem."""
    pi = softmax(logits)
    _, Q = evaluate_finite(fh, pi)
    d = occupancy_finite(fh, pi).sum(axis=2)
    return d[:, :, None] * score_direction(pi, np.where(fh.mask, Q, 0.0))
