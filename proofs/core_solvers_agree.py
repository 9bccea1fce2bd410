r"""VI, PI, modified PI and the LP compute the same optimal values, each within its certified bound.

For every instance each solver returns :math:`V` and a greedy policy :math:`\pi` with an ``error_bound``
:math:`\beta` from the span stopping rule. The check verifies, against the *exact* optimal value
:math:`V^*` (rational policy iteration) on small models whose float entries are exact dyadic rationals,
and against policy iteration on larger ones:

* value: :math:`\|V - V^*\|_\infty \le \beta/2` for VI and MPI (midpoint of the span bracket),
  :math:`\le \beta` for PI and LP (which return :math:`V^{\pi}`);
* policy: :math:`\max_s (V^* - V^{\pi})(s) \le \beta` (:math:`V^\pi` exact on the small models);

each up to a rounding allowance :func:`mdpkit.claims.instances.float_tolerance`.
"""

from __future__ import annotations

import numpy as np

import mdpkit
from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.claims.exact import counterexample_dict, exact_evaluate, exact_optimal, rationalize
from mdpkit.claims.instances import builtin_instances, dyadic_mdp, float_tolerance, numba_threads, random_mdp

ID = "core.solvers-agree"
METHODS = ("vi", "pi", "mpi", "lp")
TOL = 1e-10
GAMMAS = (0.0, 0.5, 0.9, 0.99)
#: Models up to this many states are checked against exact rational arithmetic.
EXACT_MAX_S = 6


def _instances(budget: Budget) -> tuple[list[tuple[str, mdpkit.TabularMDP, bool]], list[str]]:
    """(name, model, exact?) for the random draws and the built-in families."""
    rng = budget.rng(ID)
    out: list[tuple[str, mdpkit.TabularMDP, bool]] = []
    for i in range(budget.pick(16, 160)):
        gamma = GAMMAS[i % len(GAMMAS)]
        S, A = int(rng.integers(1, EXACT_MAX_S + 1)), int(rng.integers(1, 5))
        m = dyadic_mdp(rng, S, A, gamma, sparse=bool(i % 3 == 1), infeasible=bool(i % 2), random_initial=True)
        out.append((f"dyadic#{i}(S={S},A={A},gamma={gamma})", m, True))
    for i in range(budget.pick(6, 40)):
        gamma = GAMMAS[1 + i % 3]
        S, A = int(rng.integers(20, 81)), int(rng.integers(2, 6))
        m = random_mdp(
            rng,
            S,
            A,
            gamma,
            sparse=bool(i % 2),
            infeasible=bool(i % 3 == 0),
            integer_rewards=bool(i % 4 == 1),
        )
        out.append((f"random#{i}(S={S},A={A},gamma={gamma})", m, False))
    problems: list[str] = []
    for gamma in (0.95, 0.99):
        built, missing = builtin_instances(gamma)
        out += [(f"{name}@gamma={gamma}", m, False) for name, m in built]
        problems += [f"{p} (gamma={gamma})" for p in missing]
    return out, problems


def _check_instance(name: str, mdp: mdpkit.TabularMDP, exact: bool) -> tuple[float, dict | None]:
    """Worst ratio error / allowance over the methods (<= 1 passes) and a failure description."""
    gamma = float(mdp.gamma)
    sols = {m: mdpkit.solve(mdp, method=m, tol=TOL) for m in METHODS}
    for m, sol in sols.items():
        if not sol.converged:
            problem = f"{m} on {name} did not converge (error bound {sol.error_bound!r} > tol {TOL:g})"
            return np.inf, {"instance": name, "method": m, "problem": problem, "error_bound": sol.error_bound}
    if exact:
        rm = rationalize(mdp, None)  # exact: the entries are dyadic
        opt = exact_optimal(rm, policy0=sols["pi"].policy)
        vstar = np.array([float(v) for v in opt.V])
        ref_bound = 0.0

        def policy_gap(pol: np.ndarray) -> float:
            ev = exact_evaluate(rm, pol)
            return float(max(opt.V[s] - ev.V[s] for s in range(rm.S)))

    else:
        vstar, ref_bound = sols["pi"].V, sols["pi"].error_bound

        def policy_gap(pol: np.ndarray) -> float:
            return float(np.max(vstar - mdpkit.evaluate(mdp, pol).V))

    slack = float_tolerance(mdp.S, gamma, float(np.max(np.abs(vstar))))
    worst = 0.0
    for m, sol in sols.items():
        half = 0.5 if m in ("vi", "mpi") else 1.0
        err_v = float(np.max(np.abs(sol.V - vstar)))
        allow_v = half * sol.error_bound + ref_bound + slack
        gap = policy_gap(sol.policy)
        allow_p = sol.error_bound + ref_bound + slack
        worst = max(worst, err_v / allow_v, gap / allow_p)
        if err_v > allow_v or gap > allow_p:
            fail = {
                "problem": f"{m} on {name}: value error {err_v!r} (allowed {allow_v!r}), policy gap {gap!r} "
                f"(allowed {allow_p!r})",
                "instance": name,
                "method": m,
                "value_error": err_v,
                "value_allowance": allow_v,
                "policy_gap": gap,
                "policy_allowance": allow_p,
                "error_bound": sol.error_bound,
                "policy": sol.policy,
            }
            if exact:
                fail["model"] = counterexample_dict(rationalize(mdp, None), V_star=opt.V)
            return worst, fail
    return worst, None


def check(budget: Budget) -> Verdict:
    """Run the check serially (tiny models: numba's thread synchronisation would dominate)."""
    with numba_threads(1):
        return _check(budget)


def _check(budget: Budget) -> Verdict:
    instances, problems = _instances(budget)
    worst, n_exact = 0.0, 0
    for name, mdp, exact in instances:
        ratio, fail = _check_instance(name, mdp, exact)
        n_exact += exact
        worst = max(worst, ratio)
        if fail is not None:
            cx = fail.pop("model", None) or {}
            return Verdict("refuted", fail["problem"], counterexample={**cx, **fail} if cx else fail)
    lines = [
        f"{len(instances)} instances ({n_exact} with exact rational V*, {len(instances) - n_exact} against "
        f"PI), methods {', '.join(METHODS)}, tol {TOL:g}: every value within its certified bound (beta/2 "
        "for VI/MPI, beta for PI/LP) and every greedy policy beta-optimal.",
        f"worst error / allowance = {worst:.3g} (<= 1 passes)",
    ]
    if problems:
        lines.append("built-in families not checked: " + "; ".join(problems))
    return Verdict(
        "holds", "\n".join(lines), data={"instances": len(instances), "exact": n_exact, "worst_ratio": worst}
    )


CLAIM = Claim(
    id=ID,
    paper="Puterman, Markov Decision Processes (1994), §6.3-6.6 and §6.9 (VI, PI, MPI, LP; span bounds "
    "Prop. 6.6.5 and Thm 6.6.6)",
    statement="Value iteration, policy iteration, modified policy iteration and the primal LP return the "
    "same optimal value V* of a discounted MDP: each returned V is within its certified error bound of V* "
    "(half the bound for VI and MPI) and each greedy policy is error-bound-optimal.",
    assumptions="Finite S and A (state-dependent action sets allowed), 0 <= gamma < 1, tol = 1e-10; a float "
    "rounding allowance 8 S eps (1 + |V*|) / (1 - gamma). Random dense and CSR models (S <= 6 with exact "
    "rational V*, S in 20..80 against policy iteration) and the built-in families of mdpkit.envs.",
    check=check,
    expected="holds",
)
