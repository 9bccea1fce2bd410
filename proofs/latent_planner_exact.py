r"""Exactness of the LMDP planner: the alpha-vector DP over histories attains the brute-force optimum.

On random tiny latent MDPs with dyadic probabilities and rewards, an independent pure-Python recursion in
exact rational arithmetic (``fractions.Fraction``) enumerates the value of **every** deterministic
history-dependent policy (the set of values reachable from each history, built bottom-up as Minkowski sums
over observations and unions over actions) and takes the maximum; it is compared, exactly, with the same DP's
:math:`\max_a` recursion in rationals, and, within a stated float tolerance, with
:func:`mdpkit.latent.planning.plan` (numba, float64) and with :func:`mdpkit.latent.planning.evaluate` of the
policy it returns.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.claims.exact import to_jsonable
from mdpkit.claims.instances import numba_threads
from mdpkit.latent import LatentMDP
from mdpkit.latent.planning import evaluate, plan

ID = "latent.planner-exact"
PAPER = (
    "Zhou, Wang & Du, 'Horizon-Free and Variance-Dependent Reinforcement Learning for Latent Markov "
    "Decision Processes', ICML 2023 (arXiv:2210.11604), §3.2 (alpha vectors; the planning oracle)"
)
FLOAT_TOL = 1e-12  # float64 DP of at most a few hundred products of dyadic numbers
MAX_SET = 200_000  # refuse instances whose policy-value sets would be larger (never hit on these sizes)


def _instance(rng: np.random.Generator, M: int, S: int, A: int, H: int) -> dict:
    """Dyadic model: P in multiples of 1/4, rewards in {0, 1/(2H), 1/H}, integer weights (normalised)."""
    P = np.zeros((M, S, A, S), dtype=np.int64)
    for idx in np.ndindex(M, S, A):
        cuts = np.sort(rng.integers(0, 5, size=S - 1))
        P[idx] = np.diff(np.concatenate([[0], cuts, [4]]))
    R = rng.integers(0, 3, size=(M, S, A))  # reward = R / (2H)
    wi = rng.integers(1, 4, size=M)
    mu = np.zeros((M, S), dtype=np.int64)
    mu[:, 0] = 1
    if rng.random() < 0.5:
        mu[:, :] = 0
        mu[np.arange(M), rng.integers(0, S, size=M)] = 1
    return {"P4": P, "R2H": R, "w": wi, "mu": mu, "H": H, "observed": bool(rng.random() < 0.7)}


def _exact(inst: dict) -> tuple[Fraction, Fraction, int, int]:
    """(max of all policy values, DP value, #distinct values, #deterministic policies), in rationals."""
    P4, R2H, wi, mu, H, obs = inst["P4"], inst["R2H"], inst["w"], inst["mu"], inst["H"], inst["observed"]
    M, S, A, _ = P4.shape
    P = [
        [[[Fraction(int(P4[m, s, a, t]), 4) for t in range(S)] for a in range(A)] for s in range(S)]
        for m in range(M)
    ]
    R = [[[Fraction(int(R2H[m, s, a]), 2 * H) for a in range(A)] for s in range(S)] for m in range(M)]
    w = [Fraction(int(x), int(wi.sum())) for x in wi]

    def children(beta, s, a):
        out: dict[tuple, list] = {}
        for m in range(M):
            if beta[m] == 0:
                continue
            for t in range(S):
                if P[m][s][a][t] > 0:
                    key = (R[m][s][a] if obs else 0, t)
                    nb = out.setdefault(key, [Fraction(0)] * M)
                    nb[m] = beta[m] * P[m][s][a][t]
        # contexts whose reward differs from the key's have beta 0 there (set only for matching m above);
        # when rewards are unobserved every context shares the key
        return out

    def rec(t, s, beta):
        """(set of policy values, DP value, number of policies) from history (.., s), joint weights beta."""
        allv: set = set()
        best = None
        count = 0
        for a in range(A):
            inst_r = sum(beta[m] * R[m][s][a] for m in range(M))
            vals = {inst_r}
            dp = inst_r
            n_a = 1
            if t < H - 1:
                for (_, t2), nb in children(beta, s, a).items():
                    cset, cdp, cn = rec(t + 1, t2, nb)
                    n_a *= cn
                    vals = {x + y for x in vals for y in cset}
                    if len(vals) > MAX_SET:
                        raise RuntimeError("policy-value set too large")
                    dp += cdp
            allv |= vals
            count += n_a
            best = dp if best is None else max(best, dp)
        return allv, best, count

    total_sets = {Fraction(0)}
    dp_total = Fraction(0)
    n_policies = 1
    for s in range(S):
        beta = [w[m] * int(mu[m, s]) for m in range(M)]
        if all(b == 0 for b in beta):
            continue
        vs, d, n = rec(0, s, beta)
        n_policies *= n
        total_sets = {x + y for x in total_sets for y in vs}
        dp_total += d
    return max(total_sets), dp_total, len(total_sets), n_policies


def _to_lmdp(inst: dict) -> LatentMDP:
    H = inst["H"]
    return LatentMDP(
        inst["P4"] / 4.0,
        inst["R2H"] / (2.0 * H),
        H,
        inst["w"] / inst["w"].sum(),
        inst["mu"].astype(float),
        reward_observed=inst["observed"],
    )


def check(budget: Budget) -> Verdict:
    rng = budget.rng(ID)
    n = budget.pick(12, 60)
    worst = 0.0
    policies = 0
    values = 0
    with numba_threads(1):
        for k in range(n):
            M, S, A = int(rng.integers(1, 4)), int(rng.integers(2, 4)), int(rng.integers(2, 4))
            H = 3 if S * A <= budget.pick(4, 6) and M <= 2 else 2
            inst = _instance(rng, M, S, A, H)
            brute, dp, n_values, n_pol = _exact(inst)
            values += n_values
            policies += n_pol
            L = _to_lmdp(inst)
            sol = plan(L)
            v_eval = evaluate(L, sol.policy)
            err = max(abs(sol.value - float(dp)), abs(v_eval - float(brute)))
            worst = max(worst, err)
            if brute != dp or err > FLOAT_TOL:
                return Verdict(
                    "refuted",
                    f"instance #{k} (M={M}, S={S}, A={A}, H={H}): brute force {brute} vs exact DP {dp}, "
                    f"numba plan {sol.value!r}, evaluate(plan policy) {v_eval!r}",
                    counterexample=to_jsonable({**inst, "brute": str(brute), "dp": str(dp)}),
                )
    return Verdict(
        "holds",
        f"{n} random dyadic LMDPs (M <= 3, S, A <= 3, H <= 3; rewards observed or not): the exact rational "
        f"DP equals the maximum of the values of all {policies} deterministic history policies (as maps from "
        f"reachable histories to actions; {values} distinct values), enumerated; numba plan() and "
        f"evaluate() agree to {worst:.2g} (tolerance {FLOAT_TOL:g})",
        data={"instances": n, "policies": policies, "distinct_values": values, "worst_float_error": worst},
    )


CLAIM = Claim(
    id=ID,
    paper=PAPER,
    statement="The optimal value of a latent MDP with deterministic rewards over deterministic history-"
    "dependent policies equals the alpha-vector dynamic program over histories, V*(tau) = max_a [sum_m "
    "beta_m(tau) R_m(s, a) + sum_{(r, s')} V*(tau a r s')]; mdpkit.latent.plan computes it and returns a "
    "policy attaining it.",
    assumptions="Tiny random dyadic instances (M in 1..3, S, A in 2..3, H in 2..3), exact rational "
    "arithmetic for the brute force and the DP; float64 planner compared within 1e-12.",
    check=check,
    expected="holds",
)
