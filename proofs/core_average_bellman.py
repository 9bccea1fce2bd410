r"""The average-reward optimality equation holds at the RVI solution, and the LP gain equals the RVI gain.

On a communicating MDP the optimal gain :math:`\rho^*` is constant and

.. math:: \rho^* + h^*(s) = \max_{a \in \mathcal A(s)} \; r(s, a) + \sum_{s'} P(s'|s, a)\, h^*(s')

(Puterman 1994, §8.4 and §9.5). For each instance the check verifies:

1. the pair :math:`(\rho, h)` returned by relative value iteration satisfies the equation to
   ``tol / 2`` (recomputing :math:`Th` here with numpy, independently of the solver's kernels);
2. the optimal value of the *dual* LP over stationary state-action frequencies,
   :math:`\max_x \sum x(s,a) r(s,a)` s.t. :math:`\sum_a x(j,a) = \sum_{s,a} P(j|s,a) x(s,a)`,
   :math:`\sum x = 1`, :math:`x \ge 0` (Puterman 1994, §8.8.2 and §9.5), solved with HiGHS here, lies in RVI's
   certified bracket :math:`[\min(Th - h), \max(Th - h)]` (Thm 8.5.5) up to HiGHS' tolerances, and
   the certified bracket of ``mdpkit.average_reward(method="lp")`` (an LP warm start refined by RVI)
   intersects RVI's;
3. the exact gain of RVI's greedy policy (:func:`mdpkit.policy_gain`) is at least the bracket's lower end.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

import mdpkit
from mdpkit.claims import Budget, Claim, Verdict
from mdpkit.claims.exact import counterexample_dict
from mdpkit.claims.instances import builtin_instances, numba_threads, random_communicating_mdp

ID = "core.average-bellman"
TOL = 1e-10
#: HiGHS primal/dual feasibility tolerance used for the dual LP.
LP_FEAS = 1e-10


def dual_lp_gain(mdp: mdpkit.TabularMDP) -> tuple[float, np.ndarray]:
    r"""Optimal value and solution :math:`x` (S, A) of the dual average-reward LP (Puterman 1994, §8.8.2).

    .. math:: \max_{x \ge 0} \sum_{s,a} x(s,a)\, r(s,a) \quad\text{s.t.}\quad
              \sum_a x(j, a) - \sum_{s,a} P(j|s,a)\, x(s,a) = 0 \;\; \forall j, \qquad \sum_{s,a} x(s,a) = 1

    over feasible pairs only. For a communicating model its value is the optimal gain :math:`\rho^*`.
    """
    S, A = mdp.S, mdp.A
    feas = np.flatnonzero(mdp.mask.reshape(-1))
    rows = sp.csr_matrix(mdp.P_rows)[feas]  # (n, S): P(.|s,a) of feasible pairs
    E = sp.csr_matrix((np.ones(feas.size), (feas // A, np.arange(feas.size))), shape=(S, feas.size))
    A_eq = sp.vstack([E - rows.T, sp.csr_matrix(np.ones((1, feas.size)))]).tocsr()
    b_eq = np.zeros(S + 1)
    b_eq[-1] = 1.0
    res = linprog(
        -mdp.R.reshape(-1)[feas],
        A_eq=A_eq,
        b_eq=b_eq,
        bounds=(0, None),
        method="highs",
        options={"primal_feasibility_tolerance": LP_FEAS, "dual_feasibility_tolerance": LP_FEAS},
    )
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed on the dual average-reward LP: {res.message}")
    x = np.zeros(S * A)
    x[feas] = res.x
    return -float(res.fun), x.reshape(S, A)


def _bellman(mdp: mdpkit.TabularMDP, h: np.ndarray) -> np.ndarray:
    """:math:`(Th)(s) = \\max_a r(s,a) + P(\\cdot|s,a)^\\top h` over feasible actions (dense numpy)."""
    Q = np.where(mdp.mask, mdp.R_finite + np.einsum("sat,t->sa", mdp.dense_P(), h), -np.inf)
    return Q.max(axis=1)


def _instances(budget: Budget) -> tuple[list[tuple[str, mdpkit.TabularMDP]], list[str]]:
    rng = budget.rng(ID)
    out: list[tuple[str, mdpkit.TabularMDP]] = []
    for i in range(budget.pick(16, 150)):
        large = i % 4 == 0
        S, A = int(rng.integers(20, 61)) if large else int(rng.integers(1, 13)), int(rng.integers(1, 5))
        # a periodic S-cycle mixes in ~S^2 RVI sweeps: periodic instances stay small
        periodic, infeasible = i % 3 == 1 and not large, i % 2 == 1
        m = random_communicating_mdp(rng, S, A, periodic=periodic, infeasible=infeasible)
        out.append((f"communicating#{i}(S={S},A={A},periodic={periodic})", m))
    built, problems = builtin_instances(None)
    for name, m in built:
        if mdpkit.is_communicating(m):
            out.append((name, m))
        else:
            problems.append(f"{name}: not communicating, outside the claim")
    return out, problems


def check(budget: Budget) -> Verdict:
    """Run the check serially (tiny models: numba's thread synchronisation would dominate)."""
    with numba_threads(1):
        return _check(budget)


def _check(budget: Budget) -> Verdict:
    instances, problems = _instances(budget)
    worst_res, worst_lp, worst_lib = 0.0, 0.0, 0.0
    for name, mdp in instances:
        if not mdpkit.is_communicating(mdp):
            return Verdict("inconclusive", f"instance {name} is not communicating: the generator is broken")
        sol = mdpkit.average_reward(mdp, method="rvi", tol=TOL)
        scale = 1.0 + float(np.max(np.abs(mdp.R_finite))) + float(np.max(np.abs(sol.h)))
        eps = 8 * mdp.S * np.finfo(np.float64).eps * scale  # rounding of one backup
        res = float(np.max(np.abs(sol.gain + sol.h - _bellman(mdp, sol.h))))
        rho_lp, _ = dual_lp_gain(mdp)
        lib = mdpkit.average_reward(mdp, method="lp", tol=TOL)
        rho_lib = lib.gain
        g_pi, _ = mdpkit.policy_gain(mdp, sol.policy)
        lp_slack = mdp.S * LP_FEAS * scale
        lp_out = max(sol.gain_lower - rho_lp, rho_lp - sol.gain_upper, 0.0)
        # both runs certify a bracket containing rho*: the brackets must intersect
        lib_out = max(max(sol.gain_lower, lib.gain_lower) - min(sol.gain_upper, lib.gain_upper), 0.0)
        pi_short = max(sol.gain_lower - float(np.min(g_pi)), 0.0)
        worst_res = max(worst_res, res / (TOL / 2 + eps))
        worst_lp = max(worst_lp, abs(rho_lp - sol.gain))
        worst_lib = max(worst_lib, abs(rho_lib - sol.gain))
        failures = []
        if not sol.converged:
            failures.append(f"RVI did not converge (bracket width {sol.gain_upper - sol.gain_lower:.3g})")
        if res > TOL / 2 + eps:
            failures.append(f"optimality-equation residual {res:.3g} > tol/2 + rounding {TOL / 2 + eps:.3g}")
        if lp_out > lp_slack:
            failures.append(
                f"dual LP gain {rho_lp!r} outside the RVI bracket [{sol.gain_lower!r}, {sol.gain_upper!r}]"
            )
        if lib_out > eps:
            failures.append(
                f"mdpkit LP bracket [{lib.gain_lower!r}, {lib.gain_upper!r}] and RVI bracket "
                f"[{sol.gain_lower!r}, {sol.gain_upper!r}] are disjoint"
            )
        if pi_short > eps:
            failures.append(
                f"greedy policy gain {float(np.min(g_pi))!r} < bracket lower end {sol.gain_lower!r}"
            )
        if failures:
            small = mdp.S <= 12
            cx = counterexample_dict(mdp, h=sol.h, rho=sol.gain) if small else {"instance": name}
            return Verdict("refuted", f"{name}: " + "; ".join(failures), counterexample=cx)
    lines = [
        f"{len(instances)} communicating instances (random, S up to 60, periodic ones up to 12, with action "
        "sets; built-ins): RVI's (rho, h) solves the optimality equation to tol/2; the dual-LP gain and the "
        "greedy policy's exact gain lie in RVI's certified bracket, which intersects mdpkit's LP bracket",
        f"worst residual / (tol/2 + rounding) = {worst_res:.3g}; worst |rho_dualLP - rho_RVI| = "
        f"{worst_lp:.3g}; worst |rho_mdpkitLP - rho_RVI| = {worst_lib:.3g}",
    ]
    if problems:
        lines.append("built-ins not checked: " + "; ".join(problems))
    return Verdict(
        "holds",
        "\n".join(lines),
        data={"instances": len(instances), "worst_residual_ratio": worst_res, "worst_lp_gap": worst_lp},
    )


CLAIM = Claim(
    id=ID,
    paper="Puterman, Markov Decision Processes (1994), §8.4 (optimality equation), §8.5.5 and Thm 8.5.5 "
    "(relative value iteration and its gain bracket), §8.8 and §9.5 (linear programming, communicating "
    "models)",
    statement="On a communicating MDP the relative-value-iteration solution (rho, h) satisfies the average-"
    "reward optimality equation rho + h(s) = max_a r(s,a) + sum_s' P(s'|s,a) h(s'), and the optimal gain "
    "given by linear programming equals the RVI gain.",
    assumptions="Finite communicating MDPs (state-dependent action sets, periodic chains allowed), RVI with "
    "tol = 1e-10 on the aperiodicity transform; HiGHS feasibility tolerance 1e-10 for the LP.",
    check=check,
    expected="holds",
)
