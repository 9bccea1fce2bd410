r"""ROVER Theorem 3.2 as literally stated fails on trees without a correct leaf.

The statement fixes :math:`R > 0` with rewards in :math:`\{0, R\}` but does not require that a correct
leaf be reachable. If none is, every action has :math:`Q^{\pi_u}(s, a) = 0`, so :math:`N(s) = A(s)` and no
state is a key state: :math:`P = \emptyset` and the right-hand side is :math:`R(1 - 0) = R > 0`, while
:math:`V^{\pi_s}(s_0) = 0`. The proof's first step ("for any incorrect trajectory ... there must exist at
least one key state along :math:`\tau`", Appendix A.2) is what fails. hypothesis finds such a tree in the
paper's class and shrinks it; the certificate is exact (rational: no exponential enters when
:math:`P = \emptyset`). The remedy is the assumption :math:`V^*(s_0) = R`, under which
rover.thm32-softmax-bound holds.
"""

from __future__ import annotations

from fractions import Fraction

from mdpkit import rover
from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.claims.search import search_counterexample
from mdpkit.rover import exact, strategies
from mdpkit.rover.minimize import minimize_tree
from mdpkit.rover.paper import CITATION, THEOREM_32

#: A refutation search stops at its first violation; this floor only matters when none is found early.
MIN_EXAMPLES = 200
ID = "rover.thm32-unsolvable-refuted"
R = Fraction(1)
RHO = Fraction(1)


def violated(tree: rover.Tree) -> bool:
    """Theorem 3.2 with success reward R = 1 (rewards in {0, 1}) fails at rho = 1 (50 digits)."""
    if any(r not in (0, R) for r in tree.exact_reward()):
        return False
    return exact.softmax_bound_mp(tree, RHO, 50, R=R).slack < 0


def check(budget: Budget) -> Verdict:
    res = search_counterexample(
        strategies.trees(max_depth=3, max_branching=3, success_values=("1",)),
        violated,
        budget,
        key=ID,
        max_examples=max(budget.max_examples, MIN_EXAMPLES),
    )
    if not res.found:
        return Verdict("inconclusive", f"{res.summary()}: the literal statement held on every drawn tree")
    t = minimize_tree(res.example, violated, leaf_values=(0, 1))
    q, v = exact.uniform_q_exact(t)
    _, vstar = exact.optimal_q_exact(t)
    sb = exact.softmax_bound_mp(t, RHO, 50, R=R)
    value_exact = exact.policy_q_exact(
        t, [Fraction(1, int(t.n_actions[n])) for n in t.node_of_edge.tolist()]
    )[1][0]
    return Verdict(
        "refuted",
        (
            f"{res.summary()}; minimised to {t.n_nodes} nodes: {t.spec_str()} with R = {R}: no correct leaf, "
            f"Q^{{pi_u}} = {[str(x) for x in q]} (all 0), key states P = {list(sb.key_states)}, so the "
            "bound is "
            f"R (1 - 0) = {R} while V^{{pi_s}}(s0) = {value_exact} for every rho (V* = {vstar[0]})"
        ),
        {
            "tree": t.to_dict(),
            "spec": t.spec_str(),
            "R": str(R),
            "rho": str(RHO),
            "Q_uniform": [str(x) for x in q],
            "key_states": list(sb.key_states),
            "bound": str(R),
            "value": str(value_exact),
        },
    )


CLAIM = Claim(
    id=ID,
    paper=f"{CITATION}, Theorem 3.2 (literal statement; proof in Appendix A.2)",
    statement=THEOREM_32,
    assumptions=(
        "Exactly the stated ones (deterministic tree, terminal rewards in {0, R} with R = 1, rho > 0), "
        "without "
        "the unstated requirement that a correct leaf be reachable. Expected refuted on that degenerate case."
    ),
    check=check,
    expected="refuted",
)
