r"""IWOCS Property 1: :math:`Q_i \ge Q^*_{\mathrm{hull}(\mathcal T_i)} \ge Q^*_{\mathcal T}` at each step.

:math:`Q_i = \min_{j \le i} Q^*_{T_j}` is IWOCS's running bound, :math:`Q^*_{\mathrm{hull}(\mathcal T_i)}`
the robust optimal Q-function of the (s, a)-rectangular hull of the kernels found so far, and
:math:`Q^*_{\mathcal T}` the robust optimal Q-function of the whole set (of its rectangular hull for a finite
static set). Checked on random instances of four kinds (finite static sets, their hulls, L1 and KL balls),
with exact static solves (policy iteration) and the robust values from robust VI at tol 1e-12; each
inequality up to the robust solvers' certified error bounds plus a float allowance.
"""

from __future__ import annotations

import numpy as np

from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.claims.exact import to_jsonable
from mdpkit.claims.instances import float_tolerance, numba_threads
from mdpkit.robust import RectangularHull, iwocs, solve
from mdpkit.robust.instances import KINDS, random_instance

ID = "iwocs.property1"
PAPER = (
    "Zouitine, Geist & Rachelson, 'Solving robust MDPs as a sequence of static RL problems' "
    "(IWOCS), arXiv:2410.06212, 2024, Property 1"
)


def check(budget: Budget) -> Verdict:
    rng = budget.rng(ID)
    n, steps, worst = budget.pick(16, 120), 0, -np.inf
    with numba_threads(1):
        for t in range(n):
            kind = KINDS[t % len(KINDS)]
            S, A = int(rng.integers(2, 6)), int(rng.integers(2, 4))
            mdp, U = random_instance(rng, kind, S, A)
            res = iwocs(mdp, U, eps=1e-10, max_iter=50)
            rob = solve(mdp, U, tol=1e-12)
            pool = [res.kernels[0]]
            for i, step in enumerate(res.steps):
                hull = solve(mdp, RectangularHull(pool), tol=1e-12)
                scale = float(np.max(np.abs(rob.V)))
                slack = hull.error_bound + rob.error_bound + float_tolerance(S, 0.9, scale)
                m1 = float(np.max(hull.Q - step.Q))
                m2 = float(np.max(rob.Q - hull.Q))
                worst = max(worst, m1 / slack, m2 / slack)
                steps += 1
                if m1 > slack or m2 > slack:
                    return Verdict(
                        "refuted",
                        f"{kind} instance #{t}, iteration {i}: max(Q*_hull - Q_i) = {m1:.3g}, "
                        f"max(Q*_T - Q*_hull) = {m2:.3g} (allowance {slack:.3g})",
                        counterexample=to_jsonable(
                            {"R": mdp.R, "kernels_found": pool, "iteration": i, "kind": kind}
                        ),
                    )
                if i + 1 < len(res.steps):
                    pool.append(step.kernel)
    return Verdict(
        "holds",
        f"{n} instances ({', '.join(KINDS)}), {steps} IWOCS iterations: Q_i >= Q*_hull(found) >= Q*_T "
        f"everywhere; worst violation / allowance = {worst:.3g} (<= 1 passes; negative = strict)",
        data={"instances": n, "iterations": steps, "worst_ratio": worst},
    )


CLAIM = Claim(
    id=ID,
    paper=PAPER,
    statement="At every iteration i of IWOCS, Q_i = min_{j<=i} Q*_{T_j} upper-bounds the robust optimal "
    "Q-function of the (s,a)-rectangular hull of the kernels found, which upper-bounds the robust optimal "
    "Q-function of the uncertainty set: Q_i >= Q*_{hull(T_0..T_i)} >= Q*_T.",
    assumptions="Finite S, A; gamma = 0.9; exact static solves; exact worst-case search (enumeration for "
    "finite sets, robust policy evaluation for rectangular ones). For a finite static set, Q*_T is that of "
    "its rectangular hull (the dynamic model). Random dyadic instances, S in 2..5, A in 2..3.",
    check=check,
    expected="holds",
)
