"""DR-RPO in one screen: learn a robust policy online on a d-rectangular linear MDP, then stress-test it.

1. Run DR-RPO (TV balls, rho = 0.3, KL regulariser lambda = 0.05 toward the uniform policy) and its
   non-robust counterpart (rho = 0) for K episodes on the nominal 5-state simulated linear MDP; the robust
   regret of every episode is exact (backward DP with the dual inner problem).
2. Replay the same seeds with the batched torch twin and check that it agrees.
3. Evaluate both learned policies and the exact regularised robust optimum under test models that move
   mass q of the first step's goal factor to the fail state.

Run: ``python examples/linear_drrpo.py`` (a few seconds after numba's first compilation).
"""

from __future__ import annotations

import numpy as np

from mdpkit.linear import evaluate_under, robust_dp, simulated_linear_mdp
from mdpkit.linear.drrpo import drrpo, drrpo_batched, regularized_oppo

K, LAM, RHO = 5000, 0.05, 0.3
model = simulated_linear_mdp()  # H = 3, S = 5, A = 16, d = 4

# 1. online learning on the nominal model
robust = drrpo(model, K, rho=RHO, lam=LAM, bonus_scale=0.1, seed=0)
plain = regularized_oppo(model, K, lam=LAM, bonus_scale=0.1, seed=0)
for name, r in (("DR-RPO", robust), ("non-robust", plain)):
    print(
        f"{name:10s}: optimum {r.v_star:.4f}, regret after {K // 10} / {K} episodes = "
        f"{r.regret[K // 10 - 1]:.1f} / {r.regret[-1]:.1f}, last gap {r.gaps[-1]:.1e}"
    )

# 2. the torch twin replays the same seeds (CUDA when available)
twin = drrpo_batched(model, 300, [0, 1], rho=RHO, lam=LAM, bonus_scale=0.1)
ref = drrpo(model, 300, rho=RHO, lam=LAM, bonus_scale=0.1, seed=1)
gap = np.abs(twin.values[1] - ref.values).max()
print(f"torch vs numba, seed 1, 300 episodes: max |value difference| = {gap:.1e}")

# 3. robustness under perturbed test dynamics
exact = robust_dp(model, "tv", RHO, lam=LAM).policy
print("\n   q   DR-RPO  non-robust  exact robust")
for q in (0.0, 0.25, 0.5, 0.75, 1.0):
    mu = simulated_linear_mdp(q=q).mu
    vals = [evaluate_under(model, pi, mu=mu, lam=LAM).value for pi in (robust.policy, plain.policy, exact)]
    print(f"{q:4.2f}  " + "  ".join(f"{v:9.4f}" for v in vals))
