r"""DR-RPO / d-rectangular sets: for the one-hot embedding of a tabular MDP they are (s, a)-rectangular.

With :math:`\phi(s,a) = e_{(s,a)}` (:meth:`mdpkit.linear.LinearMDP.from_tabular`, :math:`d = SA`) each
factor is one pair's next-state distribution, so the d-rectangular ball
:math:`\{\sum_i\phi_i(s,a)\mu_{h,i} : D(\mu_{h,i}, \mu^0_{h,i}) \le \rho\}` is the product over pairs of
the balls :math:`\{q : D(q, P_h(\cdot|s,a)) \le \rho\}` — the (s, a)-rectangular set of the robust-MDP
package (TV radius :math:`\rho` = L1 radius :math:`2\rho`). Hence the exact robust value (:math:`\lambda = 0`)
of :func:`mdpkit.linear.robust_dp` must equal the (s, a)-rectangular robust backward induction built on
:class:`mdpkit.robust.L1Ball` / :class:`mdpkit.robust.KLBall`
(:func:`mdpkit.linear.robust.sa_rectangular_backward`; :mod:`mdpkit.robust.solvers` is discounted-only).
The TV side is an independent computation (prefix-sum dual over kinks vs the robust package's sorting
kernel); the KL side shares the robust package's KL kernel, so on a subset it is also checked against the
cvxpy primal DP.
"""

from __future__ import annotations

import time

import numpy as np

import mdpkit
from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.claims.exact import to_jsonable
from mdpkit.claims.instances import numba_threads
from mdpkit.linear import LinearMDP, robust_dp, sa_rectangular_backward

ID = "drrpo.tabular-special-case"
PAPER = (
    "Gu, He, Liu & Xu, 'Policy regularized distributionally robust MDPs with linear function approximation' "
    "(DR-RPO), arXiv:2510.14246, 2025, "
    "d-rectangular sets (Ma et al. 2022; Liu & Xu 2024): tabular special case"
)
TOL = 1e-12
PRIMAL_TOL = 1e-7


def check(budget: Budget) -> Verdict:
    rng = budget.rng(ID)
    n = budget.pick(60, 600)
    worst, worst_primal = 0.0, 0.0
    t0 = time.perf_counter()
    with numba_threads(1):
        for t in range(n):
            S, A, H = int(rng.integers(1, 7)), int(rng.integers(1, 4)), int(rng.integers(1, 6))
            P = rng.dirichlet(0.5 * np.ones(S), size=(H, S, A))
            if t % 3 == 0:  # sparse rows
                P = np.where(rng.random(P.shape) < 0.4, 0.0, P)
                P[..., 0] += P.sum(-1) == 0
                P /= P.sum(-1, keepdims=True)
            R = rng.uniform(size=(H, S, A))
            fh = mdpkit.FiniteHorizonMDP(P, R, H, initial=rng.dirichlet(np.ones(S)))
            lm = LinearMDP.from_tabular(fh)
            for div in ("tv", "kl"):
                rho = float(rng.uniform(0, 1)) if div == "tv" else float(rng.uniform(0, 2))
                lin = robust_dp(lm, div, rho)
                Vsa, Qsa = sa_rectangular_backward(fh, div, rho)
                err = float(max(np.abs(lin.V - Vsa).max(), np.abs(lin.Q - Qsa).max())) / (1 + H)
                worst = max(worst, err)
                bad = err > TOL
                if div == "kl" and t % 6 == 0 and S * A * H <= 40:
                    rho_p = max(rho, 1e-3)
                    prim = robust_dp(lm, div, rho_p, method="primal")
                    Vp, _ = sa_rectangular_backward(fh, div, rho_p)
                    ep = float(np.abs(prim.V - Vp).max()) / (1 + H)
                    worst_primal = max(worst_primal, ep)
                    bad = bad or ep > PRIMAL_TOL * H
                if bad:
                    return Verdict(
                        "refuted",
                        f"instance #{t} ({div}, rho={rho:.3g}, S={S}, A={A}, H={H}): d-rectangular robust "
                        f"value "
                        f"differs from the (s,a)-rectangular one by {err:.3g} (relative to 1+H)",
                        counterexample=to_jsonable({"P": P, "R": R, "rho": rho, "divergence": div}),
                    )
    return Verdict(
        "holds",
        f"{n} random tabular finite-horizon MDPs (S<=6, A<=3, H<=5), TV and KL: one-hot d-rectangular robust "
        f"V and Q = (s,a)-rectangular robust backward induction, max error / (1+H) = {worst:.2g} "
        f"(tolerance {TOL:g}); KL via the cvxpy primal: {worst_primal:.2g} "
        f"({time.perf_counter() - t0:.1f} s)",
        data={"instances": n, "worst": worst, "worst_primal": worst_primal},
    )


CLAIM = Claim(
    id=ID,
    paper=PAPER,
    statement="For the one-hot feature embedding of a tabular MDP (d = SA), the d-rectangular TV/KL "
    "uncertainty set is the (s,a)-rectangular one, and the exact robust value (lambda = 0) equals the "
    "(s,a)-rectangular robust solution.",
    assumptions="Random time-indexed finite-horizon MDPs with rewards in [0, 1], S in 1..6, A in 1..3, H in "
    "1..5, some sparse rows; TV radius in [0, 1] (L1 radius 2 rho), KL radius in [0, 2]; reference: "
    "finite-horizon backward induction with mdpkit.robust's L1Ball / KLBall kernels (gamma = 1 per stage).",
    check=check,
    expected="holds",
)
