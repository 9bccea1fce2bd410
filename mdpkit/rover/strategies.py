r"""Hypothesis strategies of small rover trees with exact (rational) data, for property tests and for the
counterexample searches of ``proofs/rover_*.py``.

Everything shrinks towards small instances: a node towards a leaf, a reward towards 0, a branching factor
towards 1, an outcome count towards 1 and outcome weights towards equal ones, so a shrunk counterexample is
the smallest tree on which a property fails. hypothesis is imported when a strategy is built, not when
:mod:`mdpkit.rover` is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any, Literal

from mdpkit.errors import InvalidArgumentError
from mdpkit.rover.tree import Tree, TreeBuilder, tree_from_spec

__all__ = ["trees", "dags"]

_TOKENS = "abcdefghijklmnopqrstuvwxyz"


def trees(
    max_depth: int = 3,
    max_branching: int = 3,
    rewards: Literal["binary", "nonbinary"] = "binary",
    transitions: Literal["deterministic", "stochastic"] = "deterministic",
    max_outcomes: int = 2,
    success_values: Sequence[object] = (1, 3, "1/2"),
    reward_values: Sequence[object] = (0, 1, 2, 3),
    solvable: bool = False,
) -> Any:
    r"""Strategy of :class:`~mdpkit.rover.tree.Tree` with a non-leaf root.

    Parameters
    ----------
    max_depth, max_branching : int
        Largest depth and number of actions of a node.
    rewards : "binary" | "nonbinary"
        Binary: leaves earn 0 or one success reward :math:`R` drawn from ``success_values`` (the paper's
        class); non-binary: each leaf draws from ``reward_values``.
    transitions : "deterministic" | "stochastic"
        Stochastic: each action has 1..``max_outcomes`` outcomes (fresh subtrees) with probabilities
        proportional to integer weights in 1..3 (exact fractions).
    solvable : bool
        Only trees with at least one leaf of positive reward.
    """
    from hypothesis import strategies as st

    if rewards not in ("binary", "nonbinary"):
        raise InvalidArgumentError(f"rewards = {rewards!r} is not 'binary' or 'nonbinary'")
    if transitions not in ("deterministic", "stochastic"):
        raise InvalidArgumentError(f"transitions = {transitions!r} is not 'deterministic' or 'stochastic'")
    succ = [Fraction(str(v)) for v in success_values]
    vals = [Fraction(str(v)) for v in reward_values]

    @st.composite
    def build(draw: Any) -> Tree:
        R = draw(st.sampled_from(succ))

        def node(depth: int, force_internal: bool = False) -> Any:
            internal = depth < max_depth and (force_internal or draw(st.booleans()))
            if not internal:
                if rewards == "binary":
                    return R if draw(st.booleans()) else Fraction(0)
                return draw(st.sampled_from(vals))
            k = draw(st.integers(1, max_branching))
            spec: dict[str, Any] = {}
            for a in range(k):
                if transitions == "stochastic":
                    m = draw(st.integers(1, max_outcomes))
                    w = [draw(st.integers(1, 3)) for _ in range(m)]
                    spec[_TOKENS[a]] = [(Fraction(wi, sum(w)), node(depth + 1)) for wi in w]
                else:
                    spec[_TOKENS[a]] = node(depth + 1)
            return spec

        return tree_from_spec(node(0, force_internal=True))

    s = build()
    if solvable:
        s = s.filter(lambda t: t.success_leaves.size > 0)
    return s


def dags(
    max_depth: int = 3,
    max_width: int = 3,
    max_branching: int = 3,
    success_values: Sequence[object] = (1, 3, "1/2"),
    solvable: bool = False,
) -> Any:
    r"""Strategy of deterministic layered DAGs with merging states and binary terminal rewards.

    Level :math:`d+1` has 1..``max_width`` nodes; each node of level :math:`d` has 1..``max_branching``
    actions, each leading to any node of the next level (so states merge); nodes that no action reaches are
    dropped; the last level's nodes are leaves earning 0 or :math:`R`.
    """
    from hypothesis import strategies as st

    succ = [Fraction(str(v)) for v in success_values]

    @st.composite
    def build(draw: Any) -> Tree:
        R = draw(st.sampled_from(succ))
        depth = draw(st.integers(1, max_depth))
        b = TreeBuilder()
        level = [b.add_node(0)]
        for d in range(depth):
            size = draw(st.integers(1, max_width))
            last = d == depth - 1
            nxt = [b.add_node(R if last and draw(st.booleans()) else 0) for _ in range(size)]
            for n in level:
                k = draw(st.integers(1, max_branching))
                for a in range(k):
                    b.add_action(n, _TOKENS[a], nxt[draw(st.integers(0, size - 1))])
            level = nxt
        return b.build(prune=True)

    s = build()
    if solvable:
        s = s.filter(lambda t: t.success_leaves.size > 0)
    return s
