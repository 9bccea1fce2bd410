r"""The performance-difference lemma (Kakade & Langford 2002, Lemma 6.1), exactly and in floating point.

.. math:: J(\pi') - J(\pi) \;=\; \frac{1}{1-\gamma}\;
          \mathbb E_{(s, a) \sim d^{\pi'}_\mu}\big[A^{\pi}(s, a)\big],
          \qquad d^{\pi'}_\mu(s, a) = (1-\gamma) \sum_t \gamma^t \Pr{}^{\pi'}_\mu(s_t = s, a_t = a)

Three parts:

1. *exact search*: hypothesis searches small rational MDPs and policy pairs for one where the two sides
   differ in exact arithmetic (:func:`mdpkit.claims.search.search_counterexample`);
2. *exact vs library*: on random models whose float entries are dyadic (so the float model is exactly
   rational), both sides are computed in exact arithmetic, must be equal, and
   :func:`mdpkit.performance_difference` must return each side within the float rounding allowance;
3. *float, larger models*: dense and CSR models with S up to 150 and infeasible pairs, both sides computed
   independently here with dense numpy solves, within the rounding allowance.
"""

from __future__ import annotations

import numpy as np

import mdpkit
from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.claims.exact import counterexample_dict, exact_performance_difference, rationalize
from mdpkit.claims.instances import (
    dyadic_mdp,
    dyadic_round,
    float_tolerance,
    numba_threads,
    random_mdp,
    random_policy,
)
from mdpkit.claims.search import rational_instances, search_counterexample

ID = "pdl.identity"


def _sides_float(mdp: mdpkit.TabularMDP, new: np.ndarray, old: np.ndarray) -> tuple[float, float, float]:
    r"""(lhs, rhs, scale) by dense numpy solves, independently of :mod:`mdpkit.core`.

    :math:`V^\pi = (I - \gamma P_\pi)^{-1} r_\pi`, :math:`A^\pi = r + \gamma P V^\pi - V^\pi`,
    :math:`d^{\pi'} = (1-\gamma) (I - \gamma P_{\pi'}^\top)^{-1} \mu \otimes \pi'`.
    """
    P, R, g, mu = mdp.dense_P(), mdp.R_finite, float(mdp.gamma), mdp.initial
    S = mdp.S
    I = np.eye(S)

    def value(pi: np.ndarray) -> np.ndarray:
        Ppi = np.einsum("sa,sat->st", pi, P)
        return np.linalg.solve(I - g * Ppi, np.einsum("sa,sa->s", pi, R))

    v_old, v_new = value(old), value(new)
    adv = R + g * np.einsum("sat,t->sa", P, v_old) - v_old[:, None]
    ds = (1 - g) * np.linalg.solve(I - g * np.einsum("sa,sat->st", new, P).T, mu)
    d = ds[:, None] * new
    rhs = float(np.sum(d[new > 0] * adv[new > 0])) / (1 - g)
    return float(mu @ v_new - mu @ v_old), rhs, float(max(np.max(np.abs(v_old)), np.max(np.abs(v_new))))


def _one_hot(pol: np.ndarray, A: int) -> np.ndarray:
    return mdpkit.deterministic_to_stochastic(pol, A)


def check(budget: Budget) -> Verdict:
    """Run the check serially (tiny models: numba's thread synchronisation would dominate)."""
    with numba_threads(1):
        return _check(budget)


def _check(budget: Budget) -> Verdict:
    lines: list[str] = []
    # 1. exact hypothesis search on tiny rational models
    res = search_counterexample(
        rational_instances(n_policies=2, max_S=3, max_A=3),
        lambda inst: (lambda lhs, rhs: lhs != rhs)(*exact_performance_difference(inst[0], *inst[1])),
        budget,
        key=ID,
    )
    if res.found:
        m, (new, old) = res.example
        lhs, rhs = exact_performance_difference(m, new, old)
        return Verdict(
            "refuted",
            f"exact counterexample: J(new) - J(old) = {lhs} but the occupancy-weighted advantage gives {rhs}",
            counterexample=counterexample_dict(m, new_policy=new, old_policy=old, lhs=lhs, rhs=rhs),
        )
    lines.append("1. " + res.summary())

    # 2. exact arithmetic on dyadic models, and the library against it
    rng = budget.rng(ID)
    n_exact, worst_lib = budget.pick(12, 120), 0.0
    for i in range(n_exact):
        S, A = int(rng.integers(1, 9)), int(rng.integers(1, 4))
        gamma = (0.0, 0.5, 0.9, 0.99)[i % 4]
        mdp = dyadic_mdp(
            rng, S, A, gamma, infeasible=bool(i % 2), random_initial=True, sparse=bool(i % 3 == 2)
        )
        det = i % 3 == 0
        # dyadic policies too, so that the float policies are exactly the rational ones
        new, old = (random_policy(rng, mdp, deterministic=det) for _ in range(2))
        if not det:
            new, old = dyadic_round(new), dyadic_round(old)
        rm = rationalize(mdp, None)
        lhs, rhs = exact_performance_difference(rm, new, old)
        if lhs != rhs:
            return Verdict(
                "refuted",
                f"exact arithmetic on dyadic model #{i}: lhs {lhs} != rhs {rhs}",
                counterexample=counterexample_dict(rm, new_policy=new, old_policy=old, lhs=lhs, rhs=rhs),
            )
        f_lhs, f_rhs = mdpkit.performance_difference(mdp, new, old)
        scale = float(np.max(np.abs(mdpkit.evaluate(mdp, old).V))) + float(
            np.max(np.abs(mdpkit.evaluate(mdp, new).V))
        )
        tol = float_tolerance(S, gamma, scale)
        err = max(abs(f_lhs - float(lhs)), abs(f_rhs - float(rhs)))
        worst_lib = max(worst_lib, err / tol)
        if err > tol:
            return Verdict(
                "refuted",
                f"mdpkit.performance_difference on dyadic model #{i} returned ({f_lhs!r}, {f_rhs!r}); the "
                f"exact sides are {lhs} = {rhs} (error {err:.3g} > allowance {tol:.3g})",
                counterexample=counterexample_dict(rm, new_policy=new, old_policy=old, lhs=lhs, rhs=rhs),
            )
    lines.append(
        f"2. {n_exact} dyadic models (S <= 8, exact rational arithmetic): lhs == rhs exactly; "
        f"mdpkit.performance_difference error / allowance <= {worst_lib:.3g}"
    )

    # 3. float identity on larger models
    n_float, worst = budget.pick(8, 60), 0.0
    for i in range(n_float):
        S, A = int(rng.integers(20, 151)), int(rng.integers(2, 6))
        gamma = (0.5, 0.9, 0.99)[i % 3]
        mdp = random_mdp(
            rng, S, A, gamma, sparse=bool(i % 2), infeasible=bool(i % 3 == 1), random_initial=True
        )
        new, old = (random_policy(rng, mdp, concentration=0.3) for _ in range(2))
        if i % 4 == 0:
            new = _one_hot(mdpkit.solve(mdp).policy, A)
        lhs, rhs, scale = _sides_float(mdp, new, old)
        tol = float_tolerance(S, gamma, scale)
        worst = max(worst, abs(lhs - rhs) / tol)
        if abs(lhs - rhs) > tol:
            return Verdict(
                "refuted",
                f"float model #{i} (S={S}, A={A}, gamma={gamma}): lhs {lhs!r} vs rhs {rhs!r}, "
                f"difference {abs(lhs - rhs):.3g} > allowance {tol:.3g}",
                counterexample={"S": S, "A": A, "gamma": gamma, "seed": budget.seed, "instance": i},
            )
    lines.append(
        f"3. {n_float} float models (S in 20..150, dense/CSR): |lhs - rhs| / allowance <= {worst:.3g}"
    )
    return Verdict(
        "holds",
        "\n".join(lines),
        data={
            "search_calls": res.calls,
            "exact_models": n_exact,
            "float_models": n_float,
            "worst_ratio": worst,
        },
    )


CLAIM = Claim(
    id=ID,
    paper="Kakade & Langford, Approximately Optimal Approximate Reinforcement Learning, ICML 2002, Lemma 6.1",
    statement="For any two stationary policies pi', pi of a discounted MDP with initial distribution mu: "
    "J(pi') - J(pi) = 1/(1-gamma) E_{(s,a) ~ d^{pi'}_mu}[A^pi(s, a)], with d the normalised discounted "
    "state-action occupancy of pi' and A^pi = Q^pi - V^pi.",
    assumptions="Finite S and A (state-dependent action sets allowed), 0 <= gamma < 1, stochastic stationary "
    "policies. Exact rational arithmetic on small models (equality must be exact); float64 on larger ones "
    "with the allowance 8 S eps (1 + |V|) / (1 - gamma).",
    check=check,
    expected="holds",
)
