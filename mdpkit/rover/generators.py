r"""Random instances: trees in the ROVER paper's class, and the generalisations outside it.

* :func:`random_tree` — deterministic trees with variable branching and depth, binary terminal rewards
  :math:`\{0, R\}` (the class of Theorems 3.1 and 3.2), or non-binary rewards with ``reward_values``;
* :func:`random_stochastic_tree` — each action has several random outcomes (stochastic transitions), with
  rational probabilities (``prob_exact``) for exact certificates;
* :func:`random_dag` — deterministic layered graphs in which states merge (several parents).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from mdpkit.envs._common import as_rng, check_int, check_prob, check_real
from mdpkit.errors import InvalidArgumentError
from mdpkit.rover.tree import Tree, TreeBuilder

__all__ = ["random_tree", "random_stochastic_tree", "random_dag"]


def _branching(branching: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(branching, tuple):
        lo = check_int(branching[0], "branching[0]", 1)
        hi = check_int(branching[1], "branching[1]", lo)
        return lo, hi
    b = check_int(branching, "branching", 1)
    return b, b


def _leaf_reward(
    rng: np.random.Generator, p_success: float, R: float, values: Sequence[float] | None
) -> float:
    if values is not None:
        return float(values[int(rng.integers(len(values)))])
    return R if rng.random() < p_success else 0.0


def _vocab(b_hi: int) -> list[str]:
    return [chr(ord("A") + i) for i in range(b_hi)] if b_hi <= 26 else [str(i) for i in range(b_hi)]


def random_tree(
    seed: int | np.random.Generator = 0,
    depth: int = 4,
    branching: int | tuple[int, int] = (2, 4),
    p_stop: float = 0.0,
    p_success: float = 0.2,
    R: float = 1.0,
    reward_values: Sequence[float] | None = None,
    min_solutions: int = 0,
) -> Tree:
    r"""A random deterministic tree.

    Each node at depth :math:`d <` ``depth`` has a uniform number of actions in ``branching`` (an int or an
    inclusive range), except that a non-root node stops early (is a leaf) with probability ``p_stop``; nodes
    at depth ``depth`` are leaves. A leaf earns ``R`` with probability ``p_success`` and 0 otherwise, or, with
    ``reward_values``, a uniform draw from those values (non-binary rewards). ``min_solutions`` turns random
    failing leaves into successes until that many leaves earn ``R`` (binary rewards only).
    """
    rng = as_rng(seed)
    depth = check_int(depth, "depth", 1)
    lo, hi = _branching(branching)
    p_stop = check_prob(p_stop, "p_stop")
    p_success = check_prob(p_success, "p_success")
    R = check_real(R, "R")
    if R <= 0:
        raise InvalidArgumentError(f"R = {R} must be positive")
    if reward_values is not None and min_solutions:
        raise InvalidArgumentError("min_solutions applies to binary rewards only")
    b = TreeBuilder(_vocab(hi))
    root = b.add_node(0)
    frontier = [(root, 0)]
    leaves: list[int] = []
    rewards: dict[int, float] = {}
    while frontier:
        nxt = []
        for n, d in frontier:
            if d == depth or (d > 0 and rng.random() < p_stop):
                leaves.append(n)
                continue
            for a in range(int(rng.integers(lo, hi + 1))):
                c = b.add_node(0)
                b.add_action(n, a, c)
                nxt.append((c, d + 1))
        frontier = nxt
    for n in leaves:
        rewards[n] = _leaf_reward(rng, p_success, R, reward_values)
    if min_solutions:
        fails = [n for n in leaves if rewards[n] == 0]
        need = check_int(min_solutions, "min_solutions", 0, len(leaves)) - (len(leaves) - len(fails))
        if need > 0:
            for n in rng.choice(np.array(fails), size=need, replace=False):
                rewards[int(n)] = R
    for n, r in rewards.items():
        b.set_reward(n, r)
    return b.build()


def random_stochastic_tree(
    seed: int | np.random.Generator = 0,
    depth: int = 3,
    branching: int | tuple[int, int] = (2, 3),
    outcomes: int | tuple[int, int] = (1, 3),
    p_success: float = 0.3,
    R: float = 1.0,
    reward_values: Sequence[float] | None = None,
) -> Tree:
    r"""A random tree with stochastic transitions: every action has a uniform number of outcomes in
    ``outcomes``, each a fresh subtree, with probabilities :math:`w_j / \sum w` for integer weights
    :math:`w_j \in \{1..4\}` (exact rationals in ``prob_exact``). Nodes at depth ``depth`` are leaves with
    rewards as in :func:`random_tree`."""
    rng = as_rng(seed)
    depth = check_int(depth, "depth", 1)
    lo, hi = _branching(branching)
    olo, ohi = _branching(outcomes)
    p_success = check_prob(p_success, "p_success")
    R = check_real(R, "R")
    b = TreeBuilder(_vocab(hi))
    root = b.add_node(0)
    frontier = [root]
    for _ in range(depth):
        nxt = []
        for n in frontier:
            for a in range(int(rng.integers(lo, hi + 1))):
                m = int(rng.integers(olo, ohi + 1))
                w = rng.integers(1, 5, size=m)
                kids = [b.add_node(0) for _ in range(m)]
                b.add_action(
                    n, a, [(c, Fraction(int(wi), int(w.sum()))) for c, wi in zip(kids, w, strict=True)]
                )
                nxt.extend(kids)
        frontier = nxt
    for n in frontier:
        b.set_reward(n, _leaf_reward(rng, p_success, R, reward_values))
    return b.build()


def random_dag(
    seed: int | np.random.Generator = 0,
    depth: int = 4,
    width: int = 6,
    branching: int | tuple[int, int] = (2, 3),
    p_success: float = 0.2,
    R: float = 1.0,
) -> Tree:
    r"""A random deterministic layered DAG with merging states.

    Level 0 is the root; level :math:`d+1` has a uniform number of nodes in ``[1, width]``; each node of level
    :math:`d <` ``depth`` has a uniform number of actions in ``branching``, each leading to a uniform node of
    the next level (so states merge); nodes no action reaches are dropped. Nodes of the last level are leaves
    earning ``R`` with probability ``p_success``.
    """
    rng = as_rng(seed)
    depth = check_int(depth, "depth", 1)
    width = check_int(width, "width", 1)
    lo, hi = _branching(branching)
    p_success = check_prob(p_success, "p_success")
    R = check_real(R, "R")
    b = TreeBuilder(_vocab(hi))
    level = [b.add_node(0)]
    for d in range(depth):
        size = int(rng.integers(1, width + 1))
        last = d == depth - 1
        nxt = [b.add_node(R if last and rng.random() < p_success else 0) for _ in range(size)]
        for n in level:
            for a in range(int(rng.integers(lo, hi + 1))):
                b.add_action(n, a, nxt[int(rng.integers(size))])
        level = nxt
    return b.build(prune=True)
