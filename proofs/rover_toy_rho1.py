r"""The paper's toy at temperature :math:`\rho = 1`: all four modes, but not "100% success".

§3.1.1 reports that on the didactic example ROVER with :math:`\rho = 1` covers all four solutions "while
maintaining 100% success rate". The policy that §3.1.1 defines and Theorem 3.2 analyses,
:math:`\pi_s \propto \exp(Q^{\pi_u}/\rho)`, has on this tree (root: four equal values 1/16; on a solution
prefix one action of value 1/4, then one of value 1, all others 0) the closed-form success probability

.. math:: p(\rho) = \frac{e^{1/(4\rho)}}{3 + e^{1/(4\rho)}} \cdot \frac{e^{1/\rho}}{3 + e^{1/\rho}},

so :math:`p(1) \approx 0.1425`; it covers the four solutions uniformly (entropy :math:`\log 4`). The check
computes :math:`p(1)` in 50 digits from the exact :math:`Q^{\pi_u}`, compares it with the closed form and
with Theorem 3.2's bound (equal here), finds the temperature at which :math:`p(\rho) = 0.99`, and trains the
tabular ROVER of :mod:`mdpkit.rover.learning` at :math:`\rho = 1` on several seeds.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np

from mdpkit import rover
from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.rover import exact
from mdpkit.rover.paper import CITATION, TOY_RHO1

ID = "rover.toy-rho1-full-success"


def closed_form(rho: mpmath.mpf) -> mpmath.mpf:
    a = mpmath.exp(1 / (4 * rho))
    b = mpmath.exp(1 / rho)
    return a / (3 + a) * b / (3 + b)


def check(budget: Budget) -> Verdict:
    toy = rover.paper_toy()
    with mpmath.workdps(50):
        sb = exact.softmax_bound_mp(toy, Fraction(1), 50)
        p1 = sb.value
        cf = closed_form(mpmath.mpf(1))
        if abs(p1 - cf) > mpmath.mpf(10) ** -40:
            return Verdict("inconclusive", f"exact value {p1} disagrees with the closed form {cf}")
        rho99 = mpmath.findroot(
            lambda r: closed_form(r) - mpmath.mpf("0.99"),
            (mpmath.mpf("0.01"), mpmath.mpf(1)),
            solver="bisect",
        )
    pi = rover.softmax_policy(toy, rover.uniform_q(toy), 1.0)
    a = rover.analyse(toy, pi)
    seeds = budget.pick(4, 16)
    learned = [
        rover.train(
            toy, "rover", rho=1.0, iterations=1000, n_rollouts=8, log_every=1000, seed=budget.seed * 1000 + s
        ).success[-1]
        for s in range(seeds)
    ]
    evidence = (
        f"softmax(Q^{{pi_u}}/rho) at rho = 1 on the toy: success probability {mpmath.nstr(p1, 12)} "
        f"(closed form e^(1/4)/(3+e^(1/4)) * e/(3+e), 50 digits; Theorem 3.2's bound equals it), covering "
        "all "
        f"{a.covered} solutions with entropy {a.entropy:.4f} = log 4; success reaches 0.99 only at rho = "
        f"{mpmath.nstr(rho99, 6)}. Tabular ROVER (Q table, rho = 1, 1000 batches of 8) ends at success "
        f"{np.mean(learned):.3f} (mean over {seeds} seeds, max {np.max(learned):.3f}). 100% success at rho "
        "= 1 is "
        f"not attainable by a softmax over values in [0, 1]: at a solution prefix it picks the correct "
        "token with "
        f"probability at most e/(3+e) = 0.475"
    )
    return Verdict(
        "refuted",
        evidence,
        {
            "tree": "mdpkit.rover.paper_toy()",
            "rho": "1",
            "success": mpmath.nstr(p1, 30),
            "rho_for_0.99": mpmath.nstr(rho99, 10),
        },
        data={
            "success_rho1": float(p1),
            "rho_0.99": float(rho99),
            "learned_success_rho1": float(np.mean(learned)),
        },
    )


CLAIM = Claim(
    id=ID,
    paper=f"{CITATION}, §3.1.1 (didactic example, Fig. 5d-e)",
    statement=TOY_RHO1,
    assumptions=(
        "Read as the policy §3.1.1 defines and Theorem 3.2 bounds, softmax(Q^{pi_u}/rho) with rho = 1 on "
        "the toy "
        "of Fig. 5(a), and as tabular ROVER (sampled mean-operator update on a Q table, behaviour "
        "softmax(Q/rho)). "
        "Not checked: the paper's LLM parameterisation Q = rho (log pi_theta - log pi_old) (Alg. 1), whose "
        "policy "
        "compounds exp(Q/rho) over epochs and so is not a softmax of Q^{pi_u} at temperature rho."
    ),
    check=check,
    expected="refuted",
)
