"""MLE-LOOP against UCRL2 on a small RiverSwim: ground truth, regret, policy switches, optimistic planning.

MLE-LOOP (He, Zhong & Yang, ICLR 2024) recomputes its optimistic model only when the one in force has become
implausible (the lazy 3-beta test), so it switches policies far less often than UCRL2's doubling episodes.
With the paper's confidence level (c = 1) it pays for that with a long burn-in; with beta scaled by 0.01 (no
guarantee) the rate shows. Runs in a few seconds::

    python examples/average_loop.py
"""

from __future__ import annotations

import numpy as np

from mdpkit.average import MLELoop, extended_value_iteration, ground_truth
from mdpkit.envs import riverswim
from mdpkit.experiments import UCRL2, run_continuing

mdp = riverswim(4)
gt = ground_truth(mdp)
print(f"RiverSwim(4): rho* = {gt.rho:.4f}, sp(h*) = {gt.span:.3f}, optimal policy {gt.policy}")

# optimistic planning on the true model with L1 radius 0.2 around it: a gain above rho*
res = extended_value_iteration(mdp.dense_P(), mdp.R, np.full((4, 2), 0.2), eps=1e-10)
print(f"EVI, L1 radius 0.2: optimistic gain in [{res.gain_lower:.4f}, {res.gain_upper:.4f}]")

T = 50_000
for label, agent in [
    ("LOOP c=1", MLELoop(4, 2, T, seed=0)),
    ("LOOP c=0.01", MLELoop(4, 2, T, beta_scale=0.01, seed=0)),
    ("UCRL2", UCRL2(4, 2, seed=0)),
]:
    run = run_continuing(mdp, agent, T, seed=1, rho_star=gt.rho)
    print(
        f"{label:12s} regret {run.regret()[-1]:9.1f}  pseudo-regret {run.pseudo_regret()[-1]:9.1f}  "
        f"policy switches {run.n_switches:4d}"
    )
