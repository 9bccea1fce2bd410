"""Robust MDPs in five lines: an L1 ball around a nominal kernel, robust VI, and the worst-case kernel.

The inner problem min {q.v : ||q - p||_1 <= radius} is solved exactly by sorting (move radius/2 of mass
from the highest-value successors onto the lowest-value one); robust VI repeats it for every (s, a) pair.
As the radius grows, the robust value of RiverSwim falls and the robust policy stops swimming upstream.

Run: ``python examples/robust_l1_worst_case.py``
"""

from __future__ import annotations

import numpy as np

import mdpkit
from mdpkit import robust

# 1. one inner problem
p, v = np.array([0.1, 0.6, 0.3]), np.array([1.0, 5.0, 0.0])
value, q = robust.worst_case_l1(p, v, radius=0.4)
print(f"nominal p.v = {p @ v:.2f}; worst case over the L1 ball of radius 0.4: {value:.2f} at q = {q}")

# 2. robust VI on RiverSwim, for growing radii
mdp = mdpkit.envs.riverswim(6, gamma=0.95)
nominal = mdpkit.solve(mdp)
print(f"\nnominal: V(0) = {nominal.V[0]:.3f}, policy {nominal.policy}")
for radius in (0.05, 0.1, 0.2, 0.4):
    sol = robust.solve(mdp, robust.L1Ball(mdp, radius))
    ev = robust.robust_evaluate(mdp, robust.L1Ball(mdp, radius), nominal.policy)
    print(
        f"radius {radius:4}: robust V(0) = {sol.V[0]:7.3f} (certified to {sol.error_bound:.1e}), "
        f"policy {sol.policy}; the nominal policy's robust value {ev.V[0]:7.3f}"
    )

# 3. the worst-case kernel is a kernel of the set; under it the robust policy earns exactly the robust value
sol = robust.solve(mdp, robust.L1Ball(mdp, 0.2))
V_worst = robust.evaluate_kernel(mdp, sol.kernel, sol.policy_matrix)
print(f"\nrobust V vs exact value under the worst kernel: max diff {np.abs(V_worst - sol.V).max():.1e}")
