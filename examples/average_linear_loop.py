"""LOOP on a linear average-reward MDP: regret, optimism and low switching, all against exact ground truth.

    python examples/average_linear_loop.py

A random communicating linear AMDP (features phi(s, a) in the simplex of d = 4 latent factors, S = 6 states,
A = 2 actions, so d < S*A) is turned into a tabular model for the exact optimal gain rho*; LOOP
(He, Zhong & Yang, ICLR 2024) learns it from features only. At every update it solves
max { J : (w, J) in the confidence set } exactly (one second-order cone program per greedy cone) and plays the
greedy policy of Q = phi^T w until det(Lambda) doubles ("doubling") or until the hypothesis in force leaves
the confidence set enlarged 4 times ("discrepancy"). The radius is the self-normalised one without the union
bound over a cover (covering=False); the last runs shrink it, which voids the guarantee.
"""

from __future__ import annotations

import numpy as np

import mdpkit
from mdpkit.average.linear import LinearLOOP, optimistic_solve, random_linear_amdp, switch_bound
from mdpkit.experiments import run_continuing

T = 20_000
model = random_linear_amdp(S=6, A=2, d=4, seed=0)
tab = model.to_tabular()
sol = mdpkit.average_reward(tab, tol=1e-12)
print(f"linear AMDP S={model.S}, A={model.A}, d={model.d}: rho* = {sol.gain:.4f}, sp(h*) = {sol.span:.3f}")

for label, scale, rule in [
    ("paper radius", 1.0, "doubling"),
    ("radius x 0.05", 0.05, "doubling"),
    ("paper, discrep.", 1.0, "discrepancy"),
]:
    agent = LinearLOOP.for_model(model, conf_scale=scale, switching=rule, covering=False, keep_sets=True)
    run = run_continuing(tab, agent, T, seed=0, rho_star=sol.gain)
    J = np.array([u["J"] for u in agent.updates])
    times = np.array([u["t"] for u in agent.updates])
    counts = {t: int(np.sum(times < t)) for t in (1_000, 5_000, T)}
    print(
        f"{label:>15}: regret(T) = {run.regret()[-1]:7.1f}, pseudo-regret = {run.pseudo_regret()[-1]:7.1f}, "
        f"updates at t = 1e3/5e3/T: {counts[1_000]}/{counts[5_000]}/{counts[T]} "
        f"(bound at T: {switch_bound(T, model.d):.1f}), policy switches = {run.n_switches}, "
        f"min_t J_t - rho* = {(J - sol.gain).min():+.4f}, J_T - rho* = {J[-1] - sol.gain:+.4f}"
    )
    # the cheaper optimistic solvers against the exact one, on the sets this run built
    gaps = [
        (
            optimistic_solve(u["set"], "relaxed").J - u["J"],
            u["J"] - optimistic_solve(u["set"], "alternating").J,
        )
        for u in agent.updates[-10:]
    ]
    rel, alt = np.array(gaps).T
    print(
        f"{'':>15}  last 10 sets: relaxed - exact <= {rel.max():.2e}, exact - alternating <= {alt.max():.2e}"
    )
