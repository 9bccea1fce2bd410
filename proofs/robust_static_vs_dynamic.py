r"""Static and dynamic robust values differ on a finite (non-rectangular) set; does IWOCS find the static
optimum there?

A finite set :math:`\{P_1, \dots, P_K\}` is not rectangular: in the *static* model nature draws one kernel
per episode, in the *dynamic* model it may switch rows at every step (the (s, a)-rectangular hull). For
stationary policies the static value :math:`\max_\pi \min_k J^\pi_{P_k}` is at least the dynamic one and can
be strictly larger (Iyengar 2005; Wiesemann, Kuhn & Rustem 2013). The IWOCS paper motivates
solving the static model by its equivalence with the dynamic one under (s, a)-rectangularity; this file
exhibits, with exact rational arithmetic, an instance where the rectangularity fails and the two differ,
then runs IWOCS (exact static solves, worst case by enumeration) on it.

Claims:

* ``robust.static-gt-dynamic`` (expected *holds*): a certified instance with static value > dynamic value
  (both exact: enumeration of deterministic stationary policies and of the adversary's row choices).
* ``iwocs.static-optimum-on-certified-instance``: IWOCS ends on a static-optimal policy on that instance
  (its policy's exact static value equals the static optimum). Expected *holds*; see the evidence.
* ``iwocs.always-static-optimal-finite`` (expected *refuted*): "IWOCS always ends on a static-optimal
  policy of a finite set" — a stall below the static optimum is exhibited (exactly certified).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.claims.exact import fraction_str
from mdpkit.claims.instances import numba_threads
from mdpkit.core.model import TabularMDP
from mdpkit.robust import FiniteSet, iwocs
from mdpkit.robust.exact import exact_dynamic_value, exact_static_value
from mdpkit.robust.instances import random_kernels

PAPER = (
    "Zouitine, Geist & Rachelson, 'Solving robust MDPs as a sequence of static RL problems' (IWOCS), "
    "arXiv:2410.06212, 2024 (static vs dynamic models; Algorithm 1)"
)
GAMMA = Fraction(9, 10)


def _instance(rng: np.random.Generator, S: int, A: int, K: int):
    Ks = random_kernels(rng, K, S, A, bits=3)
    R = np.round(rng.uniform(-2, 2, size=(S, A)) * 4) / 4
    return Ks, R


def _certificate(Ks, R, **extra) -> dict:
    return {
        "gamma": fraction_str(GAMMA),
        "R": [[fraction_str(x) for x in row] for row in R],
        "kernels": [
            [[[fraction_str(x) for x in row] for row in P[s]] for s in range(P.shape[0])] for P in Ks
        ],
        **{k: (fraction_str(v) if isinstance(v, Fraction) else v) for k, v in extra.items()},
    }


def _find_gap(budget: Budget, key: str):
    """First instance (S = 2, A = 2, K = 2) with exact static value > exact dynamic value."""
    rng = budget.rng(key)
    for t in range(budget.pick(400, 4000)):
        Ks, R = _instance(rng, 2, 2, 2)
        st, pst, _ = exact_static_value(Ks, R, GAMMA)
        dy, pdy, sig = exact_dynamic_value(Ks, R, GAMMA)
        if st > dy:
            return t, Ks, R, st, pst, dy, pdy, sig
    return None


def check_gap(budget: Budget) -> Verdict:
    found = _find_gap(budget, "robust.static-gt-dynamic")
    if found is None:
        return Verdict("inconclusive", "no instance with static > dynamic value found")
    t, Ks, R, st, pst, dy, pdy, sig = found
    return Verdict(
        "holds",
        f"instance #{t} (S=2, A=2, K=2 kernels, gamma=9/10, uniform mu): static value {st} "
        f"(~{float(st):.6f}, policy {pst}) > dynamic (rectangular-hull) value {dy} (~{float(dy):.6f}, "
        f"policy {pdy}, adversary rows {sig}), exact rationals",
        counterexample=_certificate(Ks, R, static_value=st, dynamic_value=dy, static_policy=list(pst)),
        data={"static": float(st), "dynamic": float(dy)},
    )


def check_iwocs_on_instance(budget: Budget) -> Verdict:
    found = _find_gap(budget, "robust.static-gt-dynamic")
    if found is None:
        return Verdict("inconclusive", "no certified instance found")
    t, Ks, R, st, pst, dy, _, _ = found
    mdp = TabularMDP(Ks[0], R, float(GAMMA))
    with numba_threads(1):
        res = iwocs(mdp, FiniteSet(Ks), eps=1e-12)
    _, _, table = exact_static_value(Ks, R, GAMMA)
    got = min(table[tuple(int(a) for a in res.policy)])
    trace = "; ".join(
        f"i={s.i}: pi={s.policy.tolist()}, J_upper={s.J_upper:.6f}, worst kernel {s.kernel_index}, "
        f"J_worst={s.J_worst:.6f}"
        for s in res.steps
    )
    status = "holds" if got == st else "refuted"
    return Verdict(
        status,
        f"IWOCS on instance #{t} ({res.status} after {res.iterations} iterations): its policy "
        f"{res.policy.tolist()} has exact static value {got} (~{float(got):.6f}) vs static optimum {st} "
        f"(~{float(st):.6f}) and dynamic value {float(dy):.6f}. Trace: {trace}",
        counterexample=None
        if status == "holds"
        else _certificate(Ks, R, iwocs_policy=res.policy.tolist(), iwocs_value=got, static_value=st),
        data={"iwocs_value": float(got), "static": float(st), "status": res.status},
    )


def check_always(budget: Budget) -> Verdict:
    rng = budget.rng("iwocs.always-static-optimal-finite")
    n = budget.pick(400, 4000)
    with numba_threads(1):
        for t in range(n):
            S, A, K = int(rng.integers(2, 4)), 2, int(rng.integers(2, 4))
            Ks, R = _instance(rng, S, A, K)
            mdp = TabularMDP(Ks[0], R, float(GAMMA))
            res = iwocs(mdp, FiniteSet(Ks), eps=1e-12)
            if res.status == "converged" or res.gap < 1e-6:
                continue
            st, pst, table = exact_static_value(Ks, R, GAMMA)
            got = min(table[tuple(int(a) for a in res.policy)])
            if got < st:
                return Verdict(
                    "refuted",
                    f"instance #{t} (S={S}, A={A}, K={K}): IWOCS {res.status} at iteration {res.steps[-1].i} "
                    f"(worst case of its policy already in the pool, gap {res.gap:.4g}) on policy "
                    f"{res.policy.tolist()} of exact static value {got} (~{float(got):.6f}) < static optimum "
                    f"{st} (~{float(st):.6f}, policy {pst})",
                    counterexample=_certificate(
                        Ks,
                        R,
                        iwocs_policy=res.policy.tolist(),
                        iwocs_value=got,
                        static_value=st,
                        static_policy=list(pst),
                    ),
                    data={"instances_tried": t + 1},
                )
    return Verdict("inconclusive", f"IWOCS ended static-optimal on all {n} random finite sets")


CLAIMS = [
    Claim(
        id="robust.static-gt-dynamic",
        paper=PAPER,
        statement="For a finite, non-rectangular set of kernels the static robust value (max over stationary "
        "policies of the min over kernels) can be strictly larger than the dynamic robust value (the robust "
        "value of the (s,a)-rectangular hull).",
        assumptions="S = 2, A = 2, K = 2 kernels with entries in multiples of 1/8, rewards in multiples of "
        "1/4, gamma = 9/10, uniform initial distribution; deterministic stationary policies; "
        "exact rationals.",
        check=check_gap,
        expected="holds",
    ),
    Claim(
        id="iwocs.static-optimum-on-certified-instance",
        paper=PAPER,
        statement="On the certified instance of robust.static-gt-dynamic, IWOCS (exact static solves, worst "
        "case by enumeration) ends on a policy whose static robust value is the static optimum.",
        assumptions="As robust.static-gt-dynamic; eps = 1e-12; T_0 = the first kernel.",
        check=check_iwocs_on_instance,
        expected="holds",
    ),
    Claim(
        id="iwocs.always-static-optimal-finite",
        paper=PAPER,
        statement="On any finite static set of kernels, IWOCS with exact static solves and exact worst-case "
        "search ends on a static-optimal (deterministic stationary) policy.",
        assumptions="Random instances: S in 2..3, A = 2, K in 2..3, entries in multiples of 1/8, "
        "gamma = 9/10. Expected refuted: a stall strictly below the static optimum is exhibited, values "
        "exact.",
        check=check_always,
        expected="refuted",
    ),
]
