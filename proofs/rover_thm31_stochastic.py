r"""ROVER Theorem 3.1 fails once transitions are stochastic (a certified counterexample).

With binary rewards but random outcomes, :math:`Q^{\pi_u}(s, a) = \sum_{s'} P(s'|s,a) V^{\pi_u}(s')` weighs
the *uniform* values of the outcomes, :math:`Q^*(s, a)` their *optimal* values: an action whose outcome is
a sure success with probability 2/3 can beat, under :math:`\pi_u`, an action leading to a state where a
success is one choice away (uniform value 1/2, optimal value 1). hypothesis searches small trees with
1-2 outcomes per action (rational probabilities) for one on which every tie-breaking of the greedy policy
is suboptimal, shrinks it, and :func:`mdpkit.rover.minimize.minimize_tree` reduces it to a 1-minimal tree;
the certificate is exact.
"""

from __future__ import annotations

from mdpkit import rover
from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.claims.search import search_counterexample
from mdpkit.rover import exact, strategies
from mdpkit.rover.minimize import minimize_tree
from mdpkit.rover.paper import CITATION, THEOREM_31

#: A refutation search stops at its first violation; this floor only matters when none is found early.
MIN_EXAMPLES = 200
ID = "rover.thm31-stochastic-refuted"


def every_greedy_suboptimal(tree: rover.Tree) -> bool:
    """True when even the best tie-breaking of greedy-on-Q^{pi_u} is below V* (exact)."""
    return exact.greedy_check_exact(tree).every_greedy_suboptimal


def check(budget: Budget) -> Verdict:
    res = search_counterexample(
        strategies.trees(max_depth=3, max_branching=3, transitions="stochastic", max_outcomes=2),
        every_greedy_suboptimal,
        budget,
        key=ID,
        max_examples=max(budget.max_examples, MIN_EXAMPLES),
    )
    if not res.found:
        return Verdict("inconclusive", f"{res.summary()}: no stochastic tree refutes the theorem")
    t = minimize_tree(res.example, every_greedy_suboptimal)
    cert = exact.greedy_certificate(t)
    return Verdict(
        "refuted",
        (
            f"{res.summary()}; minimised to {t.n_nodes} nodes: {cert['spec']}. Q^{{pi_u}} at the root "
            f"{cert['Q_uniform_root']} vs Q* {cert['Q_star_root']}: every greedy policy earns at most "
            f"{cert['V_greedy_best']} < V* = {cert['V_star']} (exact rationals; rewards binary {{0, R}})"
        ),
        cert,
        data={"nodes": t.n_nodes, "shrunk_from": res.example.n_nodes},
    )


CLAIM = Claim(
    id=ID,
    paper=f"{CITATION}, Theorem 3.1 (outside its assumptions: stochastic transitions)",
    statement=THEOREM_31 + " [Checked with the deterministic-transition assumption dropped.]",
    assumptions=(
        "As Theorem 3.1 (tree: every outcome is a fresh state; terminal rewards in {0, R}; gamma = 1) except "
        "that an action has 1 or 2 random outcomes with rational probabilities. Expected refuted: "
        "determinism "
        "is necessary."
    ),
    check=check,
    expected="refuted",
)
