"""IWOCS on the windy walk: solve a robust MDP as a short sequence of ordinary MDPs.

The uncertainty set is a finite family of windy walks (wind probability alpha in 11 values). IWOCS keeps a
pool of kernels, takes the minimum of their optimal Q-functions as an upper bound, acts greedily, finds the
worst kernel for that policy by enumeration, and stops when the bound meets the policy's worst-case value.
On a finite (non-rectangular) set the static and dynamic robust values can differ; here the worst case is
the windiest kernel everywhere, so both coincide with robust VI's value.

Run: ``python examples/robust_iwocs_windy_walk.py``
"""

from __future__ import annotations

import numpy as np

import mdpkit
from mdpkit import robust

alphas = np.linspace(0.0, 0.5, 11)
models = mdpkit.envs.windy_walk_kernels(alphas, gamma=0.95)
mdp, tset = models[0], robust.FiniteSet(models)

res = robust.iwocs(mdp, tset, eps=1e-8)
for step in res.steps:
    print(
        f"iteration {step.i}: bound mu.V_i = {step.J_upper:8.4f}, worst case of pi_i: alpha = "
        f"{alphas[step.kernel_index]:.2f}, value {step.J_worst:8.4f}, gap {step.gap:.2e}"
    )
pool = [round(float(alphas[k]), 2) for k in res.kernel_indices]
print(f"IWOCS: {res.status} after {res.iterations} iterations, pool of alphas = {pool}")

sol = robust.solve(mdp, tset)  # dynamic model: robust VI over the (s, a)-rectangular hull
print(f"robust VI value {mdp.initial @ sol.V:.6f}; IWOCS worst-case value {res.J_worst:.6f}")
print(mdpkit.envs.windy_walk_grid().render_policy(res.policy))
