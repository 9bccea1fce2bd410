r"""ROVER Theorem 3.1 fails once terminal rewards are non-binary (a certified counterexample).

With rewards in {0, 1, 2, 3} the uniform policy's :math:`Q^{\pi_u}(s, a)` is the *mean* reward below
:math:`(s, a)`, while optimality needs the *max*: a branch with one large reward among zeros can have a
smaller mean than a branch of medium rewards. hypothesis searches small deterministic trees for one on
which *every* tie-breaking of the greedy policy is suboptimal (exact rationals), shrinks it, and
:func:`mdpkit.rover.minimize.minimize_tree` reduces it further to a 1-minimal tree. The certificate lists
:math:`Q^{\pi_u}` and :math:`Q^*` at the root, :math:`V^*(s_0)` and the best greedy value, as fractions.
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
ID = "rover.thm31-nonbinary-refuted"


def every_greedy_suboptimal(tree: rover.Tree) -> bool:
    """True when even the best tie-breaking of greedy-on-Q^{pi_u} is below V* (exact)."""
    return exact.greedy_check_exact(tree).every_greedy_suboptimal


def check(budget: Budget) -> Verdict:
    res = search_counterexample(
        strategies.trees(max_depth=3, max_branching=3, rewards="nonbinary"),
        every_greedy_suboptimal,
        budget,
        key=ID,
        max_examples=max(budget.max_examples, MIN_EXAMPLES),
    )
    if not res.found:
        return Verdict(
            "inconclusive", f"{res.summary()}: no tree with non-binary rewards refutes the theorem"
        )
    t = minimize_tree(res.example, every_greedy_suboptimal)
    cert = exact.greedy_certificate(t)
    return Verdict(
        "refuted",
        (
            f"{res.summary()}; minimised to {t.n_nodes} nodes: {cert['spec']}. Q^{{pi_u}} at the root "
            f"{cert['Q_uniform_root']} vs Q* {cert['Q_star_root']}: every greedy policy earns at most "
            f"{cert['V_greedy_best']} < V* = {cert['V_star']} (exact rationals)"
        ),
        cert,
        data={"nodes": t.n_nodes, "shrunk_from": res.example.n_nodes},
    )


CLAIM = Claim(
    id=ID,
    paper=f"{CITATION}, Theorem 3.1 (outside its assumptions: non-binary rewards)",
    statement=THEOREM_31 + " [Checked with the binary-reward assumption dropped.]",
    assumptions=(
        "As Theorem 3.1 (deterministic transitions, tree, terminal rewards only, gamma = 1) except that "
        "terminal "
        "rewards take values in {0, 1, 2, 3}. Expected refuted: the assumption is necessary."
    ),
    check=check,
    expected="refuted",
)
