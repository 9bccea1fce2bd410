r"""ROVER Theorem 3.1: greedy on the uniform policy's Q is optimal on deterministic trees with binary
terminal rewards.

Check, all in exact rational arithmetic (:mod:`mdpkit.rover.exact`):

* the paper's toy (A-D, depth 3, solutions ACD, BDC, CAB, DBA);
* a hypothesis search (shrinking) over small trees of the paper's class — variable depth and branching,
  leaves in {0, R}, R in {1, 3, 1/2} — for a tree on which *some* tie-breaking of the greedy policy is
  suboptimal: the worst greedy value :math:`\min_{\text{ties}} V^{\pi_{\mathrm{greedy}}}(s_0)` is compared
  with :math:`V^*(s_0)`;
* a seeded sweep of larger random trees (:func:`mdpkit.rover.random_tree`, up to a few thousand nodes),
  also in rationals, and the float64 greedy policy of :func:`mdpkit.rover.greedy_policy` on each.
"""

from __future__ import annotations

from fractions import Fraction

from mdpkit import rover
from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.claims.search import search_counterexample
from mdpkit.rover import exact, strategies
from mdpkit.rover.paper import CITATION, THEOREM_31

ID = "rover.thm31-greedy-optimal"


def greedy_gap_exact(tree: rover.Tree) -> Fraction:
    r""":math:`V^*(s_0) - \min_{\text{ties}} V^{\pi_{\mathrm{greedy}}}(s_0)` in rationals."""
    return exact.greedy_check_exact(tree).gap


def check(budget: Budget) -> Verdict:
    toy = rover.paper_toy()
    gap_toy = greedy_gap_exact(toy)
    if gap_toy != 0:
        return Verdict(
            "refuted", f"greedy is suboptimal on the paper's toy by {gap_toy}", {"tree": toy.to_dict()}
        )
    res = search_counterexample(
        strategies.trees(max_depth=budget.pick(3, 4), max_branching=3),
        lambda t: greedy_gap_exact(t) > 0,
        budget,
        key=ID,
    )
    if res.found:
        t = res.example
        return Verdict(
            "refuted",
            f"{res.summary()}; greedy value below V* by {greedy_gap_exact(t)}",
            {"tree": t.to_dict(), "gap": str(greedy_gap_exact(t))},
        )
    rng = budget.rng(ID)
    n_sweep = budget.pick(60, 600)
    nodes = 0
    float_worst = 0.0
    for i in range(n_sweep):
        t = rover.random_tree(
            rng,
            depth=int(rng.integers(2, 7)),
            branching=(1, int(rng.integers(2, 5))),
            p_stop=float(rng.choice([0.0, 0.2, 0.4])),
            p_success=float(rng.choice([0.02, 0.1, 0.3])),
            R=float(rng.choice([1.0, 3.0, 0.5])),
        )
        nodes += t.n_nodes
        gap = greedy_gap_exact(t)
        if gap != 0:
            return Verdict("refuted", f"sweep tree #{i}: greedy below V* by {gap}", {"tree": t.to_dict()})
        float_worst = max(float_worst, rover.greedy_gap(t))
    evidence = (
        f"paper toy: greedy value = V* = 1 exactly; {res.summary()} over trees of depth <= "
        f"{budget.pick(3, 4)}, "
        f"branching <= 3, leaves in {{0, R}}; seeded sweep of {n_sweep} random trees ({nodes} nodes in all, "
        f"depth 2-6, branching 1-4, early leaves): worst-case tie-breaking greedy value equals V* exactly on "
        f"every instance (rationals), float64 greedy gap <= {float_worst:.1e}"
    )
    return Verdict(
        "holds",
        evidence,
        data={
            "search_examples": res.max_examples,
            "sweep_trees": n_sweep,
            "sweep_nodes": nodes,
            "float_gap": float_worst,
        },
    )


CLAIM = Claim(
    id=ID,
    paper=f"{CITATION}, Theorem 3.1 (proof in Appendix A.1)",
    statement=THEOREM_31,
    assumptions=(
        "Finite horizon, deterministic transitions, every state has one parent (a rooted tree), terminal "
        "rewards "
        "only, in {0, R} with R > 0; gamma = 1. The check asks for optimality under every tie-breaking of "
        "the "
        "argmax (exact rational arithmetic), which is stronger than for one argmax."
    ),
    check=check,
    expected="holds",
)
