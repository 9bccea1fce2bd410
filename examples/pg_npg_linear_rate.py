"""Natural policy gradient (KL mirror descent) on a random MDP: monotone, and linearly convergent.

pi_{k+1} proportional to pi_k exp(eta A_k) with exact advantages, from the uniform policy, on a GARNET MDP.
Prints the fitted geometric rate of ||V* - V^k||_inf for constant and geometrically increasing step sizes.
See proofs/npg_monotone_improvement.py and proofs/npg_linear_convergence.py.

Run: python examples/pg_npg_linear_rate.py
"""

import numpy as np

from mdpkit.envs import garnet
from mdpkit.policy_gradient import fit_linear_rate, geometric_steps, run_mirror_descent

mdp = garnet(S=20, A=4, branching=3, gamma=0.9, seed=0)
for label, eta in [("eta = 0.5", 0.5), ("eta = 5", 5.0), ("eta_k = 1/gamma^k", geometric_steps(1.0, 0.9))]:
    run = run_mirror_descent(mdp, eta, 3000, stop_gap=1e-12)
    rate, r2, _ = fit_linear_rate(run.sup_gap)
    worst = float(np.min(np.diff(run.V, axis=0)))
    print(
        f"{label:18s}: {run.J.size - 1:4d} iterations to 1e-12, fitted rate {rate:.4f} (R^2 {r2:.3f}), "
        f"smallest per-state change {worst:+.1e}"
    )
