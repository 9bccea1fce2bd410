r"""IWOCS against robust VI on (s, a)-rectangular sets: equal when IWOCS converges, but it can stall.

Two claims, checked on random (s, a)-rectangular instances (rectangular hulls of finite sets, L1 and KL
balls) with exact static solves and exact worst-case search (robust policy evaluation):

* ``iwocs.robust-vi-when-converged`` (expected *holds*): whenever IWOCS stops with
  :math:`\mathrm{gap}_i \le \varepsilon`, its bound :math:`\mu^\top V_i` and its policy's worst-case value
  both lie within :math:`\varepsilon` (plus certified solver bounds) of the robust VI value
  :math:`\mu^\top V^*_{\mathcal U}`. This follows from :math:`\mu^\top V_i \ge \mu^\top V^*_{\mathcal U}
  \ge J^{\pi_i}_{\mathcal U}` (Property 1).
* ``iwocs.never-stalls-rectangular`` (expected *refuted*): "on (s, a)-rectangular sets IWOCS always
  reaches the robust VI value". It does not: the worst case :math:`T_{i+1}` of :math:`\pi_i` can already be
  in the pool while :math:`\mu^\top V_i` is still above :math:`V^*_{\mathcal U}`. Then
  :math:`Q_{i+1} = Q_i`, :math:`\pi_{i+1} = \pi_i`, and Algorithm 1 repeats itself forever. Mechanism:
  :math:`Q^*_{T}` is the value of the policy that is *optimal* under :math:`T`; adding a kernel that is bad
  for :math:`\pi_i` only lowers :math:`Q_i` where the optimal policy of that kernel also does badly. The
  counterexample (a rectangular hull of 3 dyadic kernels) lists the instance, the pool and the values, all
  re-checked in exact rational arithmetic (exact policy iteration for each :math:`Q^*_T`, enumeration of
  the adversary's rows for the worst case of :math:`\pi_i` and for the robust value).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np

from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.claims.exact import RationalMDP, exact_evaluate, exact_optimal, fraction_str
from mdpkit.claims.instances import float_tolerance, numba_threads
from mdpkit.core.model import TabularMDP
from mdpkit.robust import RectangularHull, iwocs, solve
from mdpkit.robust.exact import exact_dynamic_value
from mdpkit.robust.instances import random_instance, random_kernels

PAPER = "Zouitine, Geist & Rachelson, IWOCS, arXiv:2410.06212, 2024 (Algorithm 1, Properties 1-2)"
RECT = ("hull", "l1", "kl")
EPS = 1e-9
GAMMA = Fraction(9, 10)


def _runs(budget: Budget, key: str, n: int, dyadic: bool = True, radius: float | None = None):
    rng = budget.rng(key)
    with numba_threads(1):
        for t in range(n):
            kind = RECT[t % len(RECT)]
            S, A = int(rng.integers(2, 6)), int(rng.integers(2, 5))
            mdp, U = random_instance(rng, kind, S, A, dyadic=dyadic, radius=radius)
            res = iwocs(mdp, U, eps=EPS, max_iter=100)
            sol = solve(mdp, U, tol=1e-12)
            yield t, kind, mdp, U, res, sol


def check_converged(budget: Budget) -> Verdict:
    n = budget.pick(30, 300)
    conv, worst = 0, 0.0
    for t, kind, mdp, _U, res, sol in _runs(budget, "iwocs.robust-vi-when-converged", n):
        if res.status != "converged":
            continue
        conv += 1
        J = float(mdp.initial @ sol.V)
        allow = EPS + sol.error_bound + float_tolerance(mdp.S, 0.9, float(np.max(np.abs(sol.V))))
        err = max(abs(res.J_upper - J), abs(res.J_worst - J))
        worst = max(worst, err / allow)
        if err > allow:
            return Verdict(
                "refuted",
                f"{kind} instance #{t}: IWOCS converged to J_upper={res.J_upper!r}, J_worst={res.J_worst!r} "
                f"but robust VI gives {J!r} (allowance {allow:.3g})",
                counterexample={"R": mdp.R, "kind": kind, "J_upper": res.J_upper, "J_robust_vi": J},
            )
    return Verdict(
        "holds" if conv else "inconclusive",
        f"{n} (s,a)-rectangular instances ({', '.join(RECT)}), {conv} converged (gap <= {EPS:g}); on each, "
        f"J_upper and J_worst agree with robust VI; worst error / allowance = {worst:.3g}",
        data={"instances": n, "converged": conv, "worst_ratio": worst},
    )


def _fractions(a: object) -> object:
    """Nested lists of exact fraction strings ("3/16") of a float array (dyadic entries stay exact)."""
    return [_fractions(x) for x in a] if np.ndim(a) else fraction_str(a)


def _exact_stall(Ks: list[np.ndarray], R: np.ndarray, pool: list[np.ndarray], policy: np.ndarray):
    """Re-check a stall of IWOCS on the hull of ``Ks`` in exact rational arithmetic; None if it fails.

    Verifies: Q_i = min over the pool of Q*_T (exact policy iteration); ``policy`` is greedy for Q_i; the last
    kernel of the pool is a worst case of ``policy`` over the hull (enumeration of the adversary's rows); and
    mu^T max_a Q_i exceeds the exact robust value of the hull.
    """
    S, A = R.shape
    Qs = [exact_optimal(RationalMDP(np.asarray(P, dtype=object), R, GAMMA)).Q for P in pool]
    Q = np.array([[min(q[s, a] for q in Qs) for a in range(A)] for s in range(S)], dtype=object)
    Vi = [max(Q[s]) for s in range(S)]
    if any(Q[s, policy[s]] != Vi[s] for s in range(S)):
        return None
    J_upper = sum(Vi, Fraction(0)) / S
    J_pool = exact_evaluate(RationalMDP(np.asarray(pool[-1], dtype=object), R, GAMMA), policy).J
    J_worst = None
    for sig in itertools.product(range(len(Ks)), repeat=S):
        P = np.array(Ks[0], dtype=object)
        for st in range(S):
            P[st, policy[st]] = Ks[sig[st]][st, policy[st]]
        J = exact_evaluate(RationalMDP(P, R, GAMMA), policy).J
        J_worst = J if J_worst is None else min(J_worst, J)
    J_rob, pol_rob, _ = exact_dynamic_value(Ks, R, GAMMA)
    if J_pool != J_worst or not J_upper > J_rob:
        return None
    return {
        "J_upper": J_upper,
        "J_worst_of_policy": J_worst,
        "J_robust": J_rob,
        "robust_policy": list(pol_rob),
    }


def check_never_stalls(budget: Budget) -> Verdict:
    rng = budget.rng("iwocs.never-stalls-rectangular")
    n = budget.pick(6000, 30000)
    stalls = 0
    with numba_threads(1):
        for t in range(n):
            S, A = int(rng.integers(2, 4)), 2
            Ks = random_kernels(rng, 3, S, A, bits=4)
            R = np.round(rng.normal(size=(S, A)) * 4) / 4
            mdp = TabularMDP(Ks[0], R, float(GAMMA))
            res = iwocs(mdp, RectangularHull(Ks), eps=EPS, max_iter=100)
            if res.status == "converged":
                continue
            stalls += 1
            last = res.steps[-1]
            cert = _exact_stall(Ks, R, res.kernels, last.policy)
            if res.status != "stalled" or cert is None:
                continue
            return Verdict(
                "refuted",
                f"hull of 3 kernels, instance #{t} (S={S}, A={A}): IWOCS stalls at iteration {last.i} (the "
                f"worst case of pi_{last.i} = {last.policy.tolist()} is already in its pool) with bound "
                f"mu^T V_i = {cert['J_upper']} (~{float(cert['J_upper']):.6f}) > robust value "
                f"{cert['J_robust']} (~{float(cert['J_robust']):.6f}); pi_i's worst-case value "
                f"{float(cert['J_worst_of_policy']):.6f}. Certified in exact rational arithmetic. "
                f"{stalls} stall(s) in {t + 1} instances.",
                counterexample={
                    "gamma": fraction_str(GAMMA),
                    "initial": "uniform",
                    "R": _fractions(R),
                    "kernels": [_fractions(P) for P in Ks],
                    "pool": [_fractions(P) for P in res.kernels],
                    "policy": last.policy.tolist(),
                    **{k: (fraction_str(v) if isinstance(v, Fraction) else v) for k, v in cert.items()},
                },
                data={"instances_tried": t + 1, "stalls": stalls},
            )
    return Verdict(
        "inconclusive", f"no certified stall in {n} random rectangular hulls ({stalls} float stalls)"
    )


CLAIMS = [
    Claim(
        id="iwocs.robust-vi-when-converged",
        paper=PAPER,
        statement="On (s,a)-rectangular uncertainty sets, when IWOCS (exact static solves, exact worst-case "
        "search) stops with gap <= eps, its value equals the robust value computed by robust VI "
        "(within eps).",
        assumptions="gamma = 0.9, eps = 1e-9; random dyadic instances (S in 2..5, A in 2..4): rectangular "
        "hulls of 3 kernels, L1 balls (radius 1/4), KL balls (radius 1/5).",
        check=check_converged,
        expected="holds",
    ),
    Claim(
        id="iwocs.never-stalls-rectangular",
        paper=PAPER,
        statement="On (s,a)-rectangular uncertainty sets IWOCS with an exact worst-case search always "
        "reaches the robust value (gap <= eps): it never stalls on a worst case already in its pool.",
        assumptions="gamma = 9/10, eps = 1e-9, uniform initial distribution; rectangular hulls of 3 random "
        "kernels (S in 2..3, A = 2, entries in multiples of 1/16, rewards N(0,1) rounded to 1/4). Stalls "
        "are rare (about 1 in 1000 such hulls). Expected refuted: a stall with the bound strictly above the "
        "robust value, certified in exact rational arithmetic.",
        check=check_never_stalls,
        expected="refuted",
    ),
]
