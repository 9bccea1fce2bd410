r"""The two theorems of the ROVER paper as computable quantities (float64; :mod:`mdpkit.rover.exact` has
the rational / multi-precision versions used by the claims in ``proofs/rover_*.py``).

Theorem 3.1 (He et al. 2025): on a finite-horizon MDP with deterministic transitions, tree-structured
states and binary terminal rewards :math:`\{0, R\}`, the greedy policy on :math:`Q^{\pi_u}` is optimal.
:func:`greedy_gap` measures :math:`V^*(s_0) - V^{\pi_{\mathrm{greedy}}}(s_0)`.

Theorem 3.2: with :math:`N(s) = |\{a : Q^{\pi_u}(s,a) = 0\}|` and the key states
:math:`P = \{s : 1 \le N(s) \le A(s) - 1\}`, the softmax policy :math:`\pi_s \propto \exp(Q^{\pi_u}/\rho)`
satisfies

.. math:: V^{\pi_s}(s_0) \ge R\Big(1 - \sum_{s \in P} \Pr^{\pi_s}(s \mid s_0)\,
          \frac{N(s)}{N(s) + \exp(\max_a Q^{\pi_u}(s, a)/\rho)}\Big).

:func:`softmax_lower_bound` evaluates the right-hand side.
"""

from __future__ import annotations

import numpy as np

from mdpkit.errors import InvalidArgumentError
from mdpkit.rover.analysis import policy_value, visit_probabilities
from mdpkit.rover.tree import Tree
from mdpkit.rover.valuation import _check_q, greedy_policy, optimal_q, softmax_policy, state_values, uniform_q

__all__ = ["key_states", "greedy_gap", "softmax_lower_bound"]


def key_states(tree: Tree, q: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""``(states, N)``: the key states :math:`P = \{s : 1 \le N(s) \le A(s)-1\}` of Theorem 3.2 and their
    numbers :math:`N(s)` of zero-valued actions under :math:`Q^{\pi_u}` (``q``, computed when omitted).

    :math:`Q^{\pi_u}(s,a) = 0` exactly iff no positive reward lies below :math:`(s, a)` (a float sum of
    non-negative terms is 0 only when every term is; valid while no reach probability underflows).
    """
    if not isinstance(tree, Tree):
        raise InvalidArgumentError("key_states takes a Tree")
    qa = uniform_q(tree) if q is None else _check_q(tree, q)
    internal = ~tree.is_leaf
    zeros = np.zeros(tree.n_nodes, dtype=np.int64)
    np.add.at(zeros, tree.node_of_edge, (qa == 0).astype(np.int64))
    key = internal & (zeros >= 1) & (zeros <= tree.n_actions - 1)
    states = np.flatnonzero(key)
    return states, zeros[states]


def greedy_gap(tree: Tree, ties: str = "first") -> float:
    r""":math:`V^*(s_0) - V^{\pi_{\mathrm{greedy}}}(s_0)` for the greedy policy on :math:`Q^{\pi_u}`
    (0 when Theorem 3.1's conclusion holds on ``tree``)."""
    if not isinstance(tree, Tree):
        raise InvalidArgumentError("greedy_gap takes a Tree")
    vstar = state_values(tree, optimal_q(tree), "max")[0]
    return float(vstar - policy_value(tree, greedy_policy(tree, uniform_q(tree), ties=ties)))


def softmax_lower_bound(tree: Tree, rho: float, q: np.ndarray | None = None) -> float:
    r"""Right-hand side of Theorem 3.2 (ROVER paper, §3.1.1) at temperature ``rho`` (float64), with
    :math:`R` the largest terminal reward."""
    if not isinstance(tree, Tree):
        raise InvalidArgumentError("softmax_lower_bound takes a Tree")
    qa = uniform_q(tree) if q is None else _check_q(tree, q)
    pi = softmax_policy(tree, qa, rho)
    reach = visit_probabilities(tree, pi)
    states, nz = key_states(tree, qa)
    if not states.size:
        return tree.R
    qmax = np.full(tree.n_nodes, -np.inf)
    np.maximum.at(qmax, tree.node_of_edge, qa)
    # N / (N + e^x) written with e^{-x} (x = max Q / rho > 0 at a key state): no overflow as rho -> 0
    w = nz * np.exp(-qmax[states] / float(rho))
    term = w / (w + 1.0)
    return float(tree.R * (1.0 - np.sum(reach[states] * term)))
