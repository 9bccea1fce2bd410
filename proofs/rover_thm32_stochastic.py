r"""ROVER Theorem 3.2 fails once transitions are stochastic (a certified counterexample).

The proof of Theorem 3.2 (Appendix A.2) charges every failed trajectory to the last *key state* on it, a
state with both zero- and positive-valued actions. With random outcomes a trajectory can fail without
passing any key state — an action whose outcome is a failure with some probability — so the bound can
exceed the value. hypothesis searches small trees with binary rewards, at least one correct leaf and 1-2
outcomes per action (rational probabilities), for one where value < bound at some temperature; the tree is
then minimised (:func:`mdpkit.rover.minimize.minimize_tree`) and both sides are reported with 50 digits.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath

from mdpkit import rover
from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.claims.search import search_counterexample
from mdpkit.rover import exact, strategies
from mdpkit.rover.minimize import minimize_tree
from mdpkit.rover.paper import CITATION, THEOREM_32

#: A refutation search stops at its first violation; this floor only matters when none is found early.
MIN_EXAMPLES = 200
ID = "rover.thm32-stochastic-refuted"
RHOS = tuple(Fraction(x) for x in ("1/10", "1", "10"))
DPS = 50
EPS = mpmath.mpf(10) ** -40


def violated(tree: rover.Tree) -> bool:
    """value < bound - 1e-40 at some temperature of RHOS (needs a correct leaf)."""
    if tree.success_leaves.size == 0:
        return False
    return any(exact.softmax_bound_mp(tree, r, DPS).slack < -EPS for r in RHOS)


def check(budget: Budget) -> Verdict:
    res = search_counterexample(
        strategies.trees(
            max_depth=3, max_branching=3, transitions="stochastic", max_outcomes=2, solvable=True
        ),
        violated,
        budget,
        key=ID,
        max_examples=max(budget.max_examples, MIN_EXAMPLES),
    )
    if not res.found:
        return Verdict("inconclusive", f"{res.summary()}: no stochastic tree violates the bound")
    t = minimize_tree(res.example, violated)
    rows = []
    for r in RHOS:
        sb = exact.softmax_bound_mp(t, r, DPS)
        rows.append(
            {
                "rho": str(r),
                "value": mpmath.nstr(sb.value, 30),
                "bound": mpmath.nstr(sb.bound, 30),
                "key_states": list(sb.key_states),
            }
        )
    worst = min(rows, key=lambda x: mpmath.mpf(x["value"]) - mpmath.mpf(x["bound"]))
    return Verdict(
        "refuted",
        (
            f"{res.summary()}; minimised to {t.n_nodes} nodes: {t.spec_str()}. At rho = {worst['rho']}: "
            f"V^{{pi_s}}(s0) = {mpmath.nstr(mpmath.mpf(worst['value']), 12)} < bound "
            f"{mpmath.nstr(mpmath.mpf(worst['bound']), 12)} (key states {worst['key_states']}; 50-digit "
            "arithmetic, "
            f"Q^{{pi_u}} exact)"
        ),
        {"tree": t.to_dict(), "spec": t.spec_str(), "temperatures": rows},
        data={"nodes": t.n_nodes},
    )


CLAIM = Claim(
    id=ID,
    paper=f"{CITATION}, Theorem 3.2 (outside its assumptions: stochastic transitions)",
    statement=THEOREM_32 + " [Checked with the deterministic-transition assumption dropped.]",
    assumptions=(
        "Tree (every outcome a fresh state), terminal rewards in {0, R}, at least one correct leaf, gamma "
        "= 1, "
        "but actions with 1 or 2 random outcomes (rational probabilities). Expected refuted."
    ),
    check=check,
    expected="refuted",
)
