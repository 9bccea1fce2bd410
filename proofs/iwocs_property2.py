r"""IWOCS Property 2: the bounds decrease, :math:`Q_{i+1} \le Q_i` (and so :math:`\mu^\top V_{i+1} \le
\mu^\top V_i`).

Holds by construction (:math:`Q_{i+1} = \min(Q_i, Q^*_{T_{i+1}})`); the check runs IWOCS on random
instances and verifies it elementwise, exactly (no tolerance: a minimum never rounds upwards).
"""

from __future__ import annotations

import numpy as np

from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.claims.exact import to_jsonable
from mdpkit.claims.instances import numba_threads
from mdpkit.robust import iwocs
from mdpkit.robust.instances import KINDS, random_instance

ID = "iwocs.property2"


def check(budget: Budget) -> Verdict:
    rng = budget.rng(ID)
    n, pairs = budget.pick(24, 200), 0
    with numba_threads(1):
        for t in range(n):
            kind = KINDS[t % len(KINDS)]
            mdp, U = random_instance(rng, kind, int(rng.integers(2, 6)), int(rng.integers(2, 4)))
            res = iwocs(mdp, U, eps=1e-10, max_iter=50)
            for a, b in zip(res.steps, res.steps[1:], strict=False):
                pairs += 1
                if np.any(b.Q > a.Q) or b.J_upper > a.J_upper:
                    return Verdict(
                        "refuted",
                        f"{kind} instance #{t}: Q_{b.i} exceeds Q_{a.i} by {float(np.max(b.Q - a.Q)):.3g}",
                        counterexample=to_jsonable({"R": mdp.R, "Q_i": a.Q, "Q_next": b.Q}),
                    )
    return Verdict(
        "holds",
        f"{n} instances ({', '.join(KINDS)}), {pairs} consecutive pairs: Q_(i+1) <= Q_i elementwise and "
        "mu^T V_(i+1) <= mu^T V_i, exactly",
        data={"instances": n, "pairs": pairs},
    )


CLAIM = Claim(
    id=ID,
    paper="Zouitine, Geist & Rachelson, IWOCS, arXiv:2410.06212, 2024, Property 2",
    statement="The IWOCS bounds are non-increasing: Q_{i+1} <= Q_i.",
    assumptions="As Property 1 (exact static solves, exact worst-case search); random dyadic instances.",
    check=check,
    expected="holds",
)
