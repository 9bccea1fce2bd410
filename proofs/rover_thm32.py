r"""ROVER Theorem 3.2: the softmax policy over :math:`Q^{\pi_u}` keeps a guaranteed value.

Both sides of

.. math:: V^{\pi_s}(s_0) \ge R\Big(1 - \sum_{s \in P} \Pr^{\pi_s}(s \mid s_0)
          \frac{N(s)}{N(s) + \exp(\max_a Q^{\pi_u}(s, a)/\rho)}\Big)

are computed by :func:`mdpkit.rover.exact.softmax_bound_mp`: :math:`Q^{\pi_u}`, the zero-valued actions
:math:`N(s)` and the key states :math:`P` exactly (rationals), the exponentials, softmax probabilities and
visit probabilities with 50 significant digits. A violation is a slack below :math:`-10^{-40}` (far above
the 50-digit rounding, far below any real gap). Checked on the paper's toy, on hypothesis-drawn trees of
the paper's class with at least one correct leaf (shrinking), and on a seeded sweep of random trees, for
:math:`\rho \in \{1/100, 1/20, 1/10, 1/4, 1/2, 1, 2, 10\}`. The float64 evaluation
:func:`mdpkit.rover.softmax_lower_bound` is compared with the 50-digit one on the way.

On the toy every key state has a single non-zero action, so the bound is an equality (the proof's only
inequality, :math:`\sum_{a: Q > 0} e^{Q/\rho} \ge e^{\max Q/\rho}`, is then tight).
"""

from __future__ import annotations

from fractions import Fraction

import mpmath

from mdpkit import rover
from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.claims.search import search_counterexample
from mdpkit.rover import exact, strategies
from mdpkit.rover.paper import CITATION, THEOREM_32

ID = "rover.thm32-softmax-bound"
RHOS = tuple(Fraction(x) for x in ("1/100", "1/20", "1/10", "1/4", "1/2", "1", "2", "10"))
DPS = 50
EPS = mpmath.mpf(10) ** -40


def min_slack(tree: rover.Tree, rhos: tuple[Fraction, ...] = RHOS) -> tuple[mpmath.mpf, Fraction]:
    """Smallest value - bound over ``rhos`` and the temperature attaining it."""
    worst = None
    arg = rhos[0]
    for r in rhos:
        s = exact.softmax_bound_mp(tree, r, DPS).slack
        if worst is None or s < worst:
            worst, arg = s, r
    assert worst is not None
    return worst, arg


def check(budget: Budget) -> Verdict:
    toy = rover.paper_toy()
    toy_rows = []
    q_toy = rover.uniform_q(toy)
    float_dev = 0.0
    for r in RHOS:
        sb = exact.softmax_bound_mp(toy, r, DPS)
        if sb.slack < -EPS:
            return Verdict("refuted", f"toy, rho = {r}: value {sb.value} < bound {sb.bound}", {"rho": str(r)})
        toy_rows.append((str(r), float(sb.value), float(sb.slack)))
        float_dev = max(float_dev, abs(rover.softmax_lower_bound(toy, float(r), q_toy) - float(sb.bound)))
    res = search_counterexample(
        strategies.trees(max_depth=3, max_branching=3, solvable=True),
        lambda t: min_slack(t, RHOS[::3])[0] < -EPS,
        budget,
        key=ID,
    )
    if res.found:
        s, r = min_slack(res.example)
        return Verdict(
            "refuted",
            f"{res.summary()}: at rho = {r} value - bound = {mpmath.nstr(s, 10)}",
            {"tree": res.example.to_dict(), "rho": str(r)},
        )
    rng = budget.rng(ID)
    n_sweep = budget.pick(30, 300)
    worst = mpmath.mpf(1)
    tight = 0
    checked = 0
    for i in range(n_sweep):
        t = rover.random_tree(
            rng,
            depth=int(rng.integers(2, 5)),
            branching=(1, int(rng.integers(2, 4))),
            p_stop=float(rng.choice([0.0, 0.3])),
            p_success=float(rng.choice([0.05, 0.2, 0.5])),
            R=float(rng.choice([1.0, 3.0])),
            min_solutions=1,
        )
        q = rover.uniform_q(t)
        for r in RHOS:
            sb = exact.softmax_bound_mp(t, r, DPS)
            checked += 1
            if sb.slack < -EPS:
                return Verdict(
                    "refuted",
                    f"sweep tree #{i}, rho = {r}: value {mpmath.nstr(sb.value, 15)} < bound "
                    f"{mpmath.nstr(sb.bound, 15)}",
                    {"tree": t.to_dict(), "rho": str(r)},
                )
            worst = min(worst, sb.slack)
            tight += int(abs(sb.slack) <= EPS)
            float_dev = max(float_dev, abs(rover.softmax_lower_bound(t, float(r), q) - float(sb.bound)))
    toy_txt = ", ".join(f"rho={r}: V={v:.6g}" for r, v, _ in toy_rows)
    evidence = (
        f"paper toy, bound = value (tight, |slack| <= 1e-40 at 50 digits) at every rho: {toy_txt}; "
        f"{res.summary()} over solvable trees of depth <= 3 (rho in 1/100, 1/4, 2); seeded sweep: {n_sweep} "
        f"random trees x {len(RHOS)} temperatures = {checked} checks, smallest slack "
        f"{mpmath.nstr(worst, 6)} ({tight} tight); float64 bound within {float_dev:.1e} of the 50-digit one"
    )
    return Verdict(
        "holds",
        evidence,
        data={
            "toy": [{"rho": r, "value": v, "slack": s} for r, v, s in toy_rows],
            "sweep_checks": checked,
            "sweep_min_slack": float(worst),
            "tight": tight,
            "float_vs_mp": float_dev,
        },
    )


CLAIM = Claim(
    id=ID,
    paper=f"{CITATION}, Theorem 3.2 (proof in Appendix A.2)",
    statement=THEOREM_32,
    assumptions=(
        "The MDP of Theorem 3.1 (deterministic, tree, terminal rewards in {0, R}, R > 0, gamma = 1) in "
        "which at "
        "least one correct leaf is reachable, V*(s0) = R. The paper leaves this last condition implicit; "
        "without "
        "it the statement fails (see rover.thm32-unsolvable-refuted). Temperatures rho in {1/100, ..., 10}."
    ),
    check=check,
    expected="holds",
)
