"""Robust MDPs: uncertainty sets, exact inner problems, robust VI / modified PI, the static model, IWOCS.

* :mod:`mdpkit.robust.inner` — exact worst-case expectations (L1, L-infinity, KL, s-rectangular L1);
* :mod:`mdpkit.robust.sets` — uncertainty sets and their robust Bellman operators;
* :mod:`mdpkit.robust.solvers` — robust value iteration, robust modified PI, robust policy evaluation,
  :func:`solve` (dynamic model); :func:`solve_batched` runs B L1/KL models at once with torch on any device;
* :mod:`mdpkit.robust.static` — the static model over a finite set of kernels (exact values, enumeration);
* :mod:`mdpkit.robust.iwocs` — IWOCS (Zouitine, Geist & Rachelson 2024, Algorithm 1) with exact solvers.
"""

from mdpkit.robust.inner import worst_case_kl, worst_case_l1, worst_case_linf, worst_case_s_l1
from mdpkit.robust.iwocs import IwocsResult, IwocsStep, iwocs
from mdpkit.robust.sets import FiniteSet, KLBall, L1Ball, LinfBall, RectangularHull, SL1Ball, UncertaintySet
from mdpkit.robust.solvers import (
    RobustEvaluation,
    RobustSolution,
    evaluate_kernel,
    robust_evaluate,
    robust_modified_policy_iteration,
    robust_value_iteration,
    solve,
)
from mdpkit.robust.static import StaticOptimum, static_optimal, static_robust_value, static_values

__all__ = [
    "worst_case_l1",
    "worst_case_linf",
    "worst_case_kl",
    "worst_case_s_l1",
    "UncertaintySet",
    "L1Ball",
    "LinfBall",
    "KLBall",
    "SL1Ball",
    "FiniteSet",
    "RectangularHull",
    "RobustSolution",
    "RobustEvaluation",
    "robust_value_iteration",
    "robust_modified_policy_iteration",
    "robust_evaluate",
    "evaluate_kernel",
    "solve",
    "solve_batched",
    "static_values",
    "static_robust_value",
    "static_optimal",
    "StaticOptimum",
    "iwocs",
    "IwocsResult",
    "IwocsStep",
]


def solve_batched(mdps, usets, tol: float = 1e-10, device: str | None = None, max_iter: int = 1_000_000):
    """Batched robust VI with torch (L1 or KL balls); see :func:`mdpkit.robust._torch.solve_batched`.

    Imports torch lazily, so ``import mdpkit.robust`` stays light.
    """
    from mdpkit.robust._torch import solve_batched as _sb

    return _sb(mdps, usets, tol=tol, device=device, max_iter=max_iter)
