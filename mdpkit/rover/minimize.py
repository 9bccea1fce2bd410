r"""Greedy minimisation of a counterexample tree ("delta debugging" on the nested specification).

hypothesis shrinks the random choices that produced an instance, which does not always reach the smallest
*tree*. :func:`minimize_tree` finishes the job on the tree itself: it repeatedly tries simpler variants —
an internal node replaced by a leaf or by one of its internal children, a single-action node skipped, an
action dropped, a stochastic outcome dropped (the others
renormalised) or the outcome probabilities of an edge made equal, a leaf reward lowered — and keeps the
first one on which the property still fails, until no variant does. The result is 1-minimal: no single
such simplification keeps the failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from typing import Any

from mdpkit.errors import InvalidArgumentError
from mdpkit.rover.tree import Tree, tree_from_spec

__all__ = ["minimize_tree", "spec_size"]


def spec_size(spec: Any) -> tuple[int, int, Fraction, int]:
    """(nodes, outcomes, total leaf reward, total probability denominators): the order variants are judged "
    "by."""
    if not isinstance(spec, dict):
        return (1, 0, Fraction(spec), 0)
    nodes, outs, rew, den = 1, 0, Fraction(0), 0
    for sub in spec.values():
        kids = sub if isinstance(sub, list) else [(Fraction(1), sub)]
        for p, c in kids:
            n2, o2, r2, d2 = spec_size(c)
            nodes += n2
            outs += 1 + o2
            rew += r2
            den += Fraction(p).denominator + d2
    return (nodes, outs, rew, den)


def _variants(spec: Any, leaf_values: Sequence[Fraction], root: bool) -> Iterator[Any]:
    """Every single simplification of ``spec`` (a fresh object each)."""
    if not isinstance(spec, dict):
        for v in leaf_values:
            if v < Fraction(spec):
                yield v
        return
    if not root:
        for v in leaf_values:
            yield v
    # hoist: the node replaced by one of its internal children
    for sub in spec.values():
        for _, c in sub if isinstance(sub, list) else [(1, sub)]:
            if isinstance(c, dict):
                yield c
    keys = list(spec)
    # collapse: an edge into a node with a single action takes that action's outcomes
    for k in keys:
        sub = spec[k]
        if isinstance(sub, dict) and len(sub) == 1:
            yield {**spec, k: next(iter(sub.values()))}
    if len(keys) > 1:
        for k in keys:
            yield {k2: spec[k2] for k2 in keys if k2 != k}
    for k in keys:
        sub = spec[k]
        if isinstance(sub, list):
            if len(sub) > 1:
                for i in range(len(sub)):
                    rest = [(p, c) for j, (p, c) in enumerate(sub) if j != i]
                    tot = sum((Fraction(p) for p, _ in rest), Fraction(0))
                    new = [(Fraction(p) / tot, c) for p, c in rest]
                    yield {**spec, k: new if len(new) > 1 else new[0][1]}
                equal = [(Fraction(1, len(sub)), c) for _, c in sub]
                if any(Fraction(p) != q for (p, _), (q, _) in zip(sub, equal, strict=True)):
                    yield {**spec, k: equal}
            for i, (p, c) in enumerate(sub):
                for v in _variants(c, leaf_values, False):
                    new = list(sub)
                    new[i] = (p, v)
                    yield {**spec, k: new}
        else:
            for v in _variants(sub, leaf_values, False):
                yield {**spec, k: v}


def minimize_tree(
    tree: Tree,
    fails: Callable[[Tree], bool],
    leaf_values: Sequence[object] | None = None,
    max_rounds: int = 10_000,
) -> Tree:
    """The smallest variant of ``tree`` found by greedy simplification on which ``fails`` is still true.

    Parameters
    ----------
    tree : Tree
        A tree (no merging states) on which ``fails(tree)`` is true.
    fails : callable(Tree) -> bool
        The property violation to preserve.
    leaf_values : sequence of numbers, optional
        Rewards a node may be replaced by (default: the distinct leaf rewards of ``tree``, smallest first).
    max_rounds : int
        Bound on accepted simplifications.
    """
    if not fails(tree):
        raise InvalidArgumentError("minimize_tree needs a tree on which the property fails")
    spec = tree.to_spec()
    vals = (
        sorted({Fraction(str(v)) if not isinstance(v, Fraction) else v for v in leaf_values})
        if leaf_values
        else (sorted(set(tree.exact_reward()[n] for n in tree.leaves.tolist())))
    )
    best = tree
    for _ in range(max_rounds):
        size = spec_size(spec)
        for cand in sorted(_variants(spec, vals, True), key=spec_size):
            if spec_size(cand) >= size:
                continue
            t = tree_from_spec(cand, vocab=None)
            if fails(t):
                spec, best = cand, t
                break
        else:
            return best
    return best
