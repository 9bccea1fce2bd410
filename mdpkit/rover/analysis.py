r"""Exact quality and diversity of a policy on a tree: no sampling, one forward pass.

For a policy :math:`\pi` the visit probabilities :math:`d^\pi(s)` follow from the root,
:math:`d^\pi(s') = \sum_{(s, a)} d^\pi(s)\, \pi(a|s)\, P(s'|s, a)`; at the leaves they give

* the value :math:`V^\pi(s_0) = \sum_\ell d^\pi(\ell) R(\ell)` and the success probability
  :math:`p = \sum_{\ell: R(\ell) > 0} d^\pi(\ell)`;
* the distribution over *solutions* (successful leaves) given success, :math:`q_\ell = d^\pi(\ell)/p`, its
  entropy :math:`H = -\sum_\ell q_\ell \log q_\ell` (nats) and effective number :math:`e^H`;
* the number of solutions covered (positive probability), the expected number of distinct solutions among
  :math:`n` independent samples, :math:`\sum_\ell 1 - (1 - d^\pi(\ell))^n`, and
  pass@k :math:`= 1 - (1 - p)^k` (Chen et al. 2021).

These are the quality/diversity measures of the ROVER paper (§3.1.1, Fig. 5e, §4: pass@k, distinct
solutions) computed exactly in float64; :mod:`mdpkit.rover.exact` has rational versions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from mdpkit.core.validate import check_choice
from mdpkit.errors import InvalidArgumentError
from mdpkit.rover import _numba, _torch
from mdpkit.rover.token import TokenTree
from mdpkit.rover.tree import Tree
from mdpkit.rover.valuation import (
    Policy,
    _check_levels,
    _check_tree,
    check_policy,
    greedy_policy,
    optimal_q,
    softmax_policy,
    uniform_policy,
    uniform_q,
)

__all__ = [
    "visit_probabilities",
    "success_probability",
    "policy_value",
    "solution_distribution",
    "solution_entropy",
    "distinct_solutions",
    "pass_at_k",
    "PolicyAnalysis",
    "analyse",
    "quality_diversity",
]


def visit_probabilities(
    tree: Tree | TokenTree, policy: Policy, backend: str = "numba", device: str | None = None
) -> np.ndarray | torch.Tensor:
    r"""Visit probabilities :math:`d^\pi(s)` of every node (N,) of a :class:`Tree`, or of every leaf
    (V**H,) of a :class:`TokenTree` (a tensor on the tree's device)."""
    tree = _check_tree(tree)
    if isinstance(tree, TokenTree):
        return _torch.token_reach(_check_levels(tree, policy, "policy"))
    pi = check_policy(tree, policy)
    backend = check_choice(backend, "backend", ("numba", "torch"))
    if backend == "torch":
        return _torch.forward_tree(tree, pi, device).cpu().numpy()
    reach = np.zeros(tree.n_nodes)
    _numba.forward_reach(tree.action_ptr, tree.outcome_ptr, tree.child, tree.prob, pi, reach)
    return reach


def _leaf_probs(tree: Tree | TokenTree, policy: Policy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(leaf ids, their rewards, their probabilities) as numpy arrays."""
    reach = visit_probabilities(tree, policy)
    if isinstance(tree, TokenTree):
        return (
            np.arange(tree.n_leaves),
            tree.leaf_reward.cpu().numpy(),
            reach.cpu().numpy(),
        )
    leaves = tree.leaves
    return leaves, tree.reward[leaves], reach[leaves]


def success_probability(tree: Tree | TokenTree, policy: Policy) -> float:
    r"""Probability that ``policy`` ends in a successful leaf (reward > 0), :math:`\sum_{\ell:R(\ell)>0}
    d^\pi(\ell)`; for binary rewards :math:`\{0, R\}` this is :math:`V^\pi(s_0)/R`. Exact (no sampling)."""
    tree = _check_tree(tree)
    if isinstance(tree, TokenTree):
        reach = visit_probabilities(tree, policy)
        return float(reach[tree.leaf_reward > 0].sum())
    _, r, p = _leaf_probs(tree, policy)
    return float(p[r > 0].sum())


def policy_value(tree: Tree | TokenTree, policy: Policy) -> float:
    r"""Expected terminal reward :math:`V^\pi(s_0) = \sum_\ell d^\pi(\ell) R(\ell)`."""
    tree = _check_tree(tree)
    if isinstance(tree, TokenTree):
        reach = visit_probabilities(tree, policy)
        return float((reach * tree.leaf_reward).sum())
    _, r, p = _leaf_probs(tree, policy)
    return float(p @ r)


def solution_distribution(
    tree: Tree | TokenTree, policy: Policy, conditional: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    r"""``(solutions, probabilities)``: the successful leaves (node ids of a Tree, leaf indices of a
    TokenTree) and the probability of each, given success (:math:`q_\ell = d^\pi(\ell)/p`) or not."""
    leaves, r, p = _leaf_probs(tree, policy)
    sol = r > 0
    probs = p[sol]
    if conditional:
        tot = probs.sum()
        probs = probs / tot if tot > 0 else np.zeros_like(probs)
    return leaves[sol], probs


def _entropy(q: np.ndarray) -> float:
    q = q[q > 0]
    h = float(-(q * np.log(q)).sum()) if q.size else 0.0
    return h if h > 0 else 0.0  # no -0.0 (a point mass) or rounding below 0


def solution_entropy(tree: Tree | TokenTree, policy: Policy, base: float | None = None) -> float:
    r"""Entropy of the distribution over solutions given success, :math:`-\sum_\ell q_\ell \log q_\ell`
    (nats; ``base=2`` for bits). 0 when the policy never succeeds."""
    _, q = solution_distribution(tree, policy)
    h = _entropy(q)
    if base is not None:
        if not base > 1:
            raise InvalidArgumentError(f"base = {base} must be > 1")
        h /= np.log(base)
    return h


def distinct_solutions(
    tree: Tree | TokenTree, policy: Policy, n: int | None = None, tol: float = 0.0
) -> float:
    r"""Number of distinct solutions: with ``n=None`` the number the policy reaches with probability
    ``> tol`` (its support among the solutions); with an integer ``n`` the expected number of distinct
    solutions among ``n`` independent samples, :math:`\sum_\ell 1 - (1 - d^\pi(\ell))^n`."""
    _, p = solution_distribution(tree, policy, conditional=False)
    if n is None:
        return float(np.count_nonzero(p > tol))
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise InvalidArgumentError(f"n = {n!r} must be a positive integer")
    full = p >= 1.0
    return float(np.sum(-np.expm1(int(n) * np.log1p(-p[~full]))) + np.count_nonzero(full))


def pass_at_k(tree: Tree | TokenTree, policy: Policy, k: int) -> float:
    r"""pass@k of ``policy``: probability that at least one of :math:`k` independent samples succeeds,
    :math:`1 - (1 - p)^k` with :math:`p` the :func:`success_probability`."""
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise InvalidArgumentError(f"k = {k!r} must be a positive integer")
    p = success_probability(tree, policy)
    return float(-np.expm1(int(k) * np.log1p(-p))) if p < 1 else 1.0


@dataclass(frozen=True)
class PolicyAnalysis:
    r"""Quality and diversity of one policy (see the module docstring for the definitions).

    Attributes
    ----------
    value : float
        :math:`V^\pi(s_0)`.
    success : float
        Success probability :math:`p`.
    solutions : ndarray
        Successful leaves (node ids, or leaf indices of a TokenTree).
    solution_probs : ndarray
        Unconditional probability of each solution (sums to ``success``).
    entropy : float
        Entropy (nats) of the solution distribution given success.
    effective_solutions : float
        :math:`e^{H}`.
    covered : int
        Solutions with positive probability.
    n_solutions : int
        All successful leaves of the tree.
    """

    value: float
    success: float
    solutions: np.ndarray = field(repr=False)
    solution_probs: np.ndarray = field(repr=False)
    entropy: float
    effective_solutions: float
    covered: int
    n_solutions: int

    def pass_at_k(self, k: int) -> float:
        r""":math:`1 - (1 - p)^k`."""
        if int(k) < 1:
            raise InvalidArgumentError(f"k = {k!r} must be a positive integer")
        return float(-np.expm1(int(k) * np.log1p(-self.success))) if self.success < 1 else 1.0

    def expected_distinct(self, n: int) -> float:
        r"""Expected number of distinct solutions among ``n`` samples, :math:`\sum_\ell 1-(1-d(\ell))^n`."""
        if int(n) < 1:
            raise InvalidArgumentError(f"n = {n!r} must be a positive integer")
        p = self.solution_probs
        full = p >= 1.0
        return float(np.sum(-np.expm1(int(n) * np.log1p(-p[~full]))) + np.count_nonzero(full))


def analyse(tree: Tree | TokenTree, policy: Policy) -> PolicyAnalysis:
    """All the measures of one policy from a single forward pass."""
    leaves, r, p = _leaf_probs(tree, policy)
    sol = r > 0
    probs = p[sol]
    succ = float(probs.sum())
    q = probs / succ if succ > 0 else np.zeros_like(probs)
    h = _entropy(q)
    return PolicyAnalysis(
        value=float(p @ r),
        success=succ,
        solutions=leaves[sol],
        solution_probs=probs,
        entropy=h,
        effective_solutions=float(np.exp(h)) if succ > 0 else 0.0,
        covered=int(np.count_nonzero(probs > 0)),
        n_solutions=int(sol.sum()),
    )


def quality_diversity(
    tree: Tree | TokenTree,
    rhos: Iterable[float],
    ks: Sequence[int] = (1, 8, 64),
    n_samples: Sequence[int] = (8, 64),
    q: Policy | None = None,
) -> list[dict[str, float | str]]:
    r"""Quality and diversity of ROVER's policies: softmax(:math:`Q^{\pi_u}/\rho`) for each ``rho``, greedy on
    :math:`Q^{\pi_u}` (Theorem 3.1), the optimal policy a value-iteration learner converges to (first
    maximiser), the uniform-over-optimal-actions policy, and the uniform policy.

    Returns one row (dict) per policy with ``policy``, ``rho`` (nan when not a softmax), ``value``,
    ``success``, ``entropy``, ``effective_solutions``, ``covered``, ``n_solutions``, ``pass@k`` for each ``k``
    and ``distinct@n`` (expected distinct solutions in ``n`` samples) for each ``n``.
    """
    tree = _check_tree(tree)
    qu = uniform_q(tree) if q is None else q
    qs = optimal_q(tree)
    named: list[tuple[str, float, Policy]] = []
    for r in rhos:
        named.append(("softmax", float(r), softmax_policy(tree, qu, float(r))))
    named.append(("greedy", float("nan"), greedy_policy(tree, qu)))
    named.append(("optimal_first", float("nan"), greedy_policy(tree, qs, ties="first")))
    named.append(("optimal_uniform", float("nan"), greedy_policy(tree, qs, ties="uniform")))
    named.append(("uniform", float("inf"), uniform_policy(tree)))
    rows: list[dict[str, float | str]] = []
    for name, r, pi in named:
        a = analyse(tree, pi)
        row: dict[str, float | str] = {
            "policy": name,
            "rho": r,
            "value": a.value,
            "success": a.success,
            "entropy": a.entropy,
            "effective_solutions": a.effective_solutions,
            "covered": a.covered,
            "n_solutions": a.n_solutions,
        }
        for k in ks:
            row[f"pass@{k}"] = a.pass_at_k(k)
        for n in n_samples:
            row[f"distinct@{n}"] = a.expected_distinct(n)
        rows.append(row)
    return rows
