"""Exact regularised robust DP on d-rectangular linear MDPs: the simulated 5-state MDP and an American put.

1. Solve the simulated linear MDP (Liu & Xu 2024 style, our reconstruction) robustly with a TV ball of radius
   rho, then test the robust and the nominal policy on target models whose first step is perturbed by q.
2. The KL ball and the policy regulariser: V = lam log E_ref exp(Q / lam), the softmax policy.
3. The dual and the primal (cvxpy) inner problems give the same robust value.
4. An American put option: the exercise boundary, nominal vs robust (the robust holder exercises earlier).

Run: ``python examples/linear_robust_dp.py``.
"""

from __future__ import annotations

import numpy as np

import mdpkit
from mdpkit.linear import american_put, evaluate_under, robust_dp, simulated_linear_mdp


def main() -> int:
    # 1. robust vs nominal policy under first-step perturbations of the simulated MDP
    nominal = simulated_linear_mdp(H=3, delta=0.3, m=4)
    rho = 0.3
    robust = robust_dp(nominal, "tv", rho)
    greedy = mdpkit.backward_induction(nominal.to_finite_horizon())
    print(
        f"simulated MDP {nominal}: nominal optimum {greedy.value:.4f}, TV robust value (rho={rho}) ", end=""
    )
    print(f"{robust.value:.4f}")
    # every state's actions differ by one scalar p(a), so both policies pick the action of largest p(a):
    # the columns coincide, and the robust value is a floor for every q <= rho
    same = np.array_equal(robust.policy.argmax(-1), greedy.policy)
    print(f"robust and nominal optimal policies coincide: {same}")
    print("   q   robust policy   nominal policy")
    for q in (0.0, 0.1, 0.2, 0.3, 0.5):
        target = simulated_linear_mdp(H=3, delta=0.3, m=4, q=q).mu
        vr = evaluate_under(nominal, robust.policy, mu=target).value
        vn = evaluate_under(nominal, greedy.policy, mu=target).value
        print(
            f"  {q:.1f}      {vr:.4f}          {vn:.4f}"
            + ("   (q <= rho: robust value is a floor)" if q <= rho else "")
        )

    # 2. KL ball and the KL-to-reference regulariser
    for lam in (0.0, 0.1, 1.0):
        sol = robust_dp(nominal, "kl", 0.1, lam=lam)
        print(
            f"KL rho=0.1, lam={lam}: regularised robust value {sol.value:.4f}, "
            f"P(best action at x1) = {sol.policy[0, 0].max():.3f}"
        )

    # 3. dual = primal
    a, b = robust_dp(nominal, "kl", 0.1, method="dual"), robust_dp(nominal, "kl", 0.1, method="primal")
    print(f"dual vs primal (cvxpy) robust value: {a.value:.10f} vs {b.value:.10f}")

    # 4. American put: exercise boundary at h = 0
    put = american_put(H=20)
    grid = np.linspace(70, 130, 41)
    nom = mdpkit.backward_induction(put.to_finite_horizon())
    rob = robust_dp(put, "tv", 0.1)
    ex_nom = grid[np.flatnonzero(nom.policy[0, :41] == 1)].max()
    ex_rob = grid[np.flatnonzero(rob.policy[0, :41].argmax(1) == 1)].max()
    print(
        f"American put {put}: value nominal {nom.value:.4f}, robust (TV 0.1) {rob.value:.4f}; "
        f"exercise at h=0 when price <= {ex_nom:.1f} (nominal), <= {ex_rob:.1f} (robust)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
