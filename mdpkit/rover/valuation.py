r"""Q-functions on trees: the uniform policy's (ROVER's "random policy valuation"), the optimal one, any
policy's; and the policies built from them (greedy, softmax with temperature :math:`\rho`).

With deterministic or stochastic edges and terminal rewards only (:math:`\gamma = 1`), for a policy
:math:`\pi`

.. math::
    Q^\pi(s, a) = \sum_{s'} P(s' \mid s, a)\, V^\pi(s'), \qquad
    V^\pi(s) = \sum_a \pi(a \mid s)\, Q^\pi(s, a), \qquad V^\pi(\text{leaf}) = R(\text{leaf}).

The uniform policy :math:`\pi_u(a|s) = 1/|A(s)|` gives the mean operator of the ROVER paper's Eq. (2),
:math:`Q^{\pi_u}(s, a) \leftarrow r(s, a) + \frac{1}{|A|}\sum_{a'} Q^{\pi_u}(s', a')`; with binary rewards
:math:`Q^{\pi_u}(s, a)/R` is the probability that acting uniformly at random after :math:`(s, a)` ends in a
correct leaf. The optimal :math:`Q^*` replaces the mean by a max (backward induction, Puterman 1994 §4.5).

Inputs are a :class:`~mdpkit.rover.tree.Tree` (results are numpy arrays of shape (E,), indexed by edge) or
a :class:`~mdpkit.rover.token.TokenTree` (results are lists of per-level torch tensors of shape
:math:`(V^h, V)`).

References
----------
H. He, Y. Ye, Q. Cai, C. Hu, B. Jiao, D. Jiang, L. Pan, "Random Policy Valuation is Enough for LLM
Reasoning with Verifiable Rewards", arXiv:2509.24981 (2025), §3.1 (Eq. 2, Theorems 3.1, 3.2).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from mdpkit.core.validate import check_choice
from mdpkit.errors import InvalidArgumentError, InvalidPolicyError
from mdpkit.rover import _numba, _torch
from mdpkit.rover.token import TokenTree
from mdpkit.rover.tree import Tree

__all__ = [
    "uniform_q",
    "optimal_q",
    "policy_q",
    "state_values",
    "uniform_policy",
    "greedy_policy",
    "softmax_policy",
    "optimal_policy",
    "check_policy",
]

LevelTensors = list[torch.Tensor]
Policy = np.ndarray | LevelTensors


def _check_tree(tree: object) -> Tree | TokenTree:
    if not isinstance(tree, (Tree, TokenTree)):
        raise InvalidArgumentError(f"expected a rover Tree or TokenTree, got {type(tree).__name__}")
    return tree


def _backward(
    tree: Tree, mode: int, pi: np.ndarray | None, backend: str, device
) -> tuple[np.ndarray, np.ndarray]:
    backend = check_choice(backend, "backend", ("numba", "torch"))
    if backend == "torch":
        q, v = _torch.backward_tree(tree, mode, pi, device)
        return q.cpu().numpy(), v.cpu().numpy()
    if device not in (None, "cpu"):
        raise InvalidArgumentError(f"device = {device!r} needs backend='torch'")
    q = np.zeros(tree.n_edges)
    v = np.zeros(tree.n_nodes)
    _numba.backward(
        tree.action_ptr,
        tree.outcome_ptr,
        tree.child,
        tree.prob,
        tree.reward,
        pi if pi is not None else np.zeros(0),
        mode,
        q,
        v,
    )
    return q, v


def uniform_q(tree: Tree | TokenTree, backend: str = "numba", device: str | None = None) -> Policy:
    r"""Q-function of the uniform random policy at every (state, action), :math:`Q^{\pi_u}`.

    .. math:: Q^{\pi_u}(s, a) = \sum_{s'} P(s'|s,a) V^{\pi_u}(s'), \quad
              V^{\pi_u}(s) = \frac{1}{|A(s)|} \sum_a Q^{\pi_u}(s, a), \quad
              V^{\pi_u}(\text{leaf}) = R(\text{leaf})

    (ROVER paper, Eq. 2). One backward pass, :math:`O(M)` for :math:`M` outcomes.

    Parameters
    ----------
    tree : Tree or TokenTree
    backend : "numba" | "torch"
        For a :class:`Tree`: a sequential numba pass, or a level-by-level torch pass on ``device``. A
        :class:`TokenTree` is always evaluated in torch on its own device (reshape and mean per level).
    device : str, optional
        torch device for ``backend="torch"`` (default CUDA when available).

    Returns
    -------
    ndarray (E,) for a Tree — ``q[tree.actions(n)]`` are the values of node ``n``'s actions — or, for a
    TokenTree, a list of H tensors of shape (V**h, V).
    """
    tree = _check_tree(tree)
    if isinstance(tree, TokenTree):
        return _torch.token_backward(tree.leaf_reward, tree.V, tree.H, _numba.MODE_MEAN)
    return _backward(tree, _numba.MODE_MEAN, None, backend, device)[0]


def optimal_q(tree: Tree | TokenTree, backend: str = "numba", device: str | None = None) -> Policy:
    r"""Optimal Q-function by backward induction, :math:`Q^*(s,a) = \sum_{s'} P(s'|s,a) \max_{a'} Q^*(s',a')`
    (:math:`V^*` = reward at leaves). Same shapes and backends as :func:`uniform_q`."""
    tree = _check_tree(tree)
    if isinstance(tree, TokenTree):
        return _torch.token_backward(tree.leaf_reward, tree.V, tree.H, _numba.MODE_MAX)
    return _backward(tree, _numba.MODE_MAX, None, backend, device)[0]


def policy_q(tree: Tree, policy: np.ndarray, backend: str = "numba", device: str | None = None) -> np.ndarray:
    r""":math:`Q^\pi` of a stochastic policy ``policy`` (E,) on a :class:`Tree` (see module docstring)."""
    tree = _check_tree(tree)
    if isinstance(tree, TokenTree):
        raise InvalidArgumentError("policy_q takes a Tree; use tree.to_tree() for a small TokenTree")
    pi = check_policy(tree, policy)
    return _backward(tree, _numba.MODE_POLICY, pi, backend, device)[0]


def state_values(
    tree: Tree, q: np.ndarray, policy: np.ndarray | Literal["uniform", "max"] = "uniform"
) -> np.ndarray:
    r"""Node values (N,) from edge values ``q`` (E,): :math:`V(s) = \sum_a w(a|s) Q(s, a)` with ``w`` the
    uniform policy, a given policy (E,), or ``"max"`` (:math:`\max_a Q(s,a)`); leaves get their reward."""
    tree = _check_tree(tree)
    if isinstance(tree, TokenTree):
        raise InvalidArgumentError("state_values takes a Tree")
    q = _check_q(tree, q)
    v = np.where(tree.is_leaf, tree.reward, 0.0).astype(np.float64)
    internal = ~tree.is_leaf
    starts = tree.action_ptr[:-1][internal]
    if not starts.size:
        return v
    if isinstance(policy, str):
        kind = check_choice(policy, "policy", ("uniform", "max"))
        if kind == "max":
            v[internal] = np.maximum.reduceat(q, starts)
        else:
            v[internal] = np.add.reduceat(q, starts) / tree.n_actions[internal]
    else:
        pi = check_policy(tree, policy)
        v[internal] = np.add.reduceat(pi * q, starts)
    return v


def _check_q(tree: Tree, q: object) -> np.ndarray:
    arr = np.asarray(q, dtype=np.float64)
    if arr.shape != (tree.n_edges,):
        raise InvalidArgumentError(f"q has shape {arr.shape}, expected (E,) = ({tree.n_edges},)")
    if not np.all(np.isfinite(arr)):
        e = int(np.argmax(~np.isfinite(arr)))
        raise InvalidArgumentError(f"q[{e}] = {arr[e]!r} is not finite")
    return arr


def _check_levels(tree: TokenTree, q: object, name: str = "q") -> LevelTensors:
    if not isinstance(q, (list, tuple)) or len(q) != tree.H:
        raise InvalidArgumentError(f"{name} must be a list of H = {tree.H} tensors for a TokenTree")
    for h, t in enumerate(q):
        if not isinstance(t, torch.Tensor) or tuple(t.shape) != (tree.V**h, tree.V):
            raise InvalidArgumentError(f"{name}[{h}] must be a tensor of shape ({tree.V**h}, {tree.V})")
    return list(q)


def check_policy(tree: Tree, policy: object, atol: float = 1e-9) -> np.ndarray:
    """Validate a stochastic policy (E,): non-negative, summing to 1 at each internal node (within atol)."""
    pi = np.asarray(policy, dtype=np.float64)
    if pi.shape != (tree.n_edges,):
        raise InvalidPolicyError(f"policy has shape {pi.shape}, expected (E,) = ({tree.n_edges},)")
    bad = ~np.isfinite(pi) | (pi < 0)
    if np.any(bad):
        e = int(np.argmax(bad))
        raise InvalidPolicyError(f"policy[{e}] = {pi[e]!r} is not a probability")
    internal = np.flatnonzero(~tree.is_leaf)
    if internal.size:
        sums = np.add.reduceat(pi, tree.action_ptr[internal])
        off = np.abs(sums - 1.0) > atol
        if np.any(off):
            n = int(internal[np.argmax(off)])
            raise InvalidPolicyError(
                f"the action probabilities at node {n} sum to {sums[np.argmax(off)]!r}, expected 1"
            )
    return pi


def uniform_policy(tree: Tree | TokenTree) -> Policy:
    r"""The uniform random policy :math:`\pi_u(a|s) = 1/|A(s)|`."""
    tree = _check_tree(tree)
    if isinstance(tree, TokenTree):
        return [
            torch.full((tree.V**h, tree.V), 1.0 / tree.V, dtype=_torch.DTYPE, device=tree.device)
            for h in range(tree.H)
        ]
    return 1.0 / np.repeat(np.maximum(tree.n_actions, 1), tree.n_actions).astype(np.float64)


def greedy_policy(
    tree: Tree | TokenTree,
    q: Policy,
    ties: Literal["first", "uniform"] = "first",
    atol: float = 0.0,
) -> Policy:
    r"""The greedy policy :math:`\pi_{\mathrm{greedy}}(s) = \arg\max_a Q(s, a)` (ROVER paper, Theorem 3.1).

    Parameters
    ----------
    tree : Tree or TokenTree
    q : ndarray (E,) or list of (V**h, V) tensors
    ties : "first" | "uniform"
        Among the maximisers (actions within ``atol`` of the maximum), pick the first (a deterministic
        policy, as ``argmax`` does) or spread the probability uniformly (the :math:`\rho \to 0` limit of
        :func:`softmax_policy`).
    atol : float
        Tolerance defining ties (default 0: exact float equality).

    Returns
    -------
    A stochastic-matrix representation (one-hot rows for ``ties="first"``), same layout as ``q``.
    """
    tree = _check_tree(tree)
    ties = check_choice(ties, "ties", ("first", "uniform"))
    if atol < 0:
        raise InvalidArgumentError(f"atol = {atol} must be >= 0")
    if isinstance(tree, TokenTree):
        out = []
        for t in _check_levels(tree, q):
            best = t.amax(dim=1, keepdim=True)
            is_max = t >= best - atol
            if ties == "first":
                first = torch.argmax(is_max.to(torch.int8), dim=1)
                p = torch.zeros_like(t)
                p[torch.arange(t.shape[0], device=t.device), first] = 1.0
            else:
                p = is_max.to(t.dtype)
                p = p / p.sum(dim=1, keepdim=True)
            out.append(p)
        return out
    qa = _check_q(tree, q)
    internal = ~tree.is_leaf
    starts = tree.action_ptr[:-1][internal]
    pi = np.zeros(tree.n_edges)
    if not starts.size:
        return pi
    node_max = np.full(tree.n_nodes, np.nan)
    node_max[internal] = np.maximum.reduceat(qa, starts)
    is_max = qa >= node_max[tree.node_of_edge] - atol
    if ties == "first":
        # first maximiser of each node: the smallest edge index with is_max
        idx = np.flatnonzero(is_max)
        nodes = tree.node_of_edge[idx]
        first = idx[np.r_[True, nodes[1:] != nodes[:-1]]]
        pi[first] = 1.0
    else:
        pi[is_max] = 1.0
        counts = np.ones(tree.n_nodes)
        counts[internal] = np.add.reduceat(pi, starts)
        pi /= counts[tree.node_of_edge]
    return pi


def softmax_policy(tree: Tree | TokenTree, q: Policy, rho: float) -> Policy:
    r"""The softmax (Boltzmann) policy over ``q`` with temperature :math:`\rho > 0`:

    .. math:: \pi_s(a \mid s) = \frac{\exp(Q(s, a)/\rho)}{\sum_{a'} \exp(Q(s, a')/\rho)}

    (ROVER paper §3.1.1, the policy of Theorem 3.2 when ``q`` is :math:`Q^{\pi_u}`). ``rho = inf`` gives the
    uniform policy; :math:`\rho \to 0` tends to :func:`greedy_policy` with ``ties="uniform"``. Computed with
    the per-node maximum subtracted (no overflow).
    """
    tree = _check_tree(tree)
    try:
        r = float(rho)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"rho = {rho!r} must be a positive number") from None
    if not r > 0:
        raise InvalidArgumentError(f"rho = {rho!r} must be > 0")
    if isinstance(tree, TokenTree):
        levels = _check_levels(tree, q)
        if np.isinf(r):
            return uniform_policy(tree)
        return [torch.softmax(t / r, dim=1) for t in levels]
    qa = _check_q(tree, q)
    if np.isinf(r):
        return uniform_policy(tree)
    pi = np.zeros(tree.n_edges)
    _numba.softmax_all(tree.action_ptr, qa, 1.0 / r, pi)
    return pi


def optimal_policy(
    tree: Tree | TokenTree,
    ties: Literal["first", "uniform"] = "first",
    backend: str = "numba",
    device: str | None = None,
) -> Policy:
    r"""Greedy policy on :math:`Q^*`: with ``ties="first"`` the deterministic policy a value-iteration /
    Q-learning learner that breaks ties by the first maximiser converges to (one solution); with
    ``ties="uniform"`` the optimal policy spreading mass uniformly over optimal actions."""
    tree = _check_tree(tree)
    return greedy_policy(tree, optimal_q(tree, backend=backend, device=device), ties=ties)
