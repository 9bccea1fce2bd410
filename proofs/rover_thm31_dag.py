r"""ROVER Theorem 3.1 without the tree assumption: greedy on :math:`Q^{\pi_u}` stays optimal when states
merge.

The paper assumes a tree-structured state space ("each state has a unique parent"). With deterministic
transitions and binary terminal rewards the proof only needs :math:`Q^{\pi_u}(s, a) > 0 \iff` a correct
leaf is reachable after :math:`(s, a)` :math:`\iff Q^*(s, a) = R`, which holds on any finite DAG: the
uniform policy reaches every reachable leaf with positive probability. So DAGs with merging states are
*not* counterexamples to Theorem 3.1. Checked exactly (rationals) on hypothesis-drawn layered DAGs and a
seeded sweep of :func:`mdpkit.rover.random_dag` instances, under every tie-breaking of the greedy policy.
"""

from __future__ import annotations

from fractions import Fraction

from mdpkit import rover
from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.claims.search import search_counterexample
from mdpkit.rover import exact, strategies
from mdpkit.rover.paper import CITATION, THEOREM_31

ID = "rover.thm31-dag-extension"


def greedy_gap_exact(tree: rover.Tree) -> Fraction:
    r""":math:`V^*(s_0) - \min_{\text{ties}} V^{\pi_{\mathrm{greedy}}}(s_0)` in rationals."""
    return exact.greedy_check_exact(tree).gap


def check(budget: Budget) -> Verdict:
    res = search_counterexample(
        strategies.dags(max_depth=budget.pick(3, 5), max_width=3, max_branching=3),
        lambda t: greedy_gap_exact(t) > 0,
        budget,
        key=ID,
    )
    if res.found:
        t = res.example
        return Verdict(
            "refuted", f"{res.summary()}; greedy below V* by {greedy_gap_exact(t)}", {"dag": t.to_dict()}
        )
    rng = budget.rng(ID)
    n_sweep = budget.pick(100, 1000)
    merged = 0
    for i in range(n_sweep):
        t = rover.random_dag(
            rng,
            depth=int(rng.integers(2, 8)),
            width=int(rng.integers(2, 10)),
            branching=(1, int(rng.integers(2, 5))),
            p_success=float(rng.choice([0.05, 0.2, 0.5])),
        )
        merged += int(not t.is_tree)
        gap = greedy_gap_exact(t)
        if gap != 0:
            return Verdict("refuted", f"sweep DAG #{i}: greedy below V* by {gap}", {"dag": t.to_dict()})
    return Verdict(
        "holds",
        f"{res.summary()} over layered DAGs (depth <= {budget.pick(3, 5)}, width <= 3, branching <= 3); "
        f"seeded sweep of {n_sweep} random DAGs ({merged} with merging states): every greedy tie-breaking "
        f"attains V* exactly",
        data={"sweep": n_sweep, "with_merging": merged},
    )


CLAIM = Claim(
    id=ID,
    paper=f"{CITATION}, Theorem 3.1 (extension beyond its stated assumptions)",
    statement=(
        "The conclusion of Theorem 3.1 holds without the tree assumption: on a finite-horizon MDP with "
        "deterministic transitions whose states may merge (a DAG) and binary terminal rewards {0, R}, "
        "greedy on "
        "Q^{pi_u} is optimal. Theorem 3.1 as stated: " + THEOREM_31
    ),
    assumptions=(
        "Deterministic transitions, layered acyclic graph (states may have several parents), terminal "
        "rewards "
        "in {0, R}, R > 0, gamma = 1. Optimality required under every tie-breaking of the argmax (exact)."
    ),
    check=check,
    expected="holds",
)
