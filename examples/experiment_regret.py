"""One regret experiment, by hand: UCRL2 and a random agent on RiverSwim, regret computed exactly.

    python examples/experiment_regret.py

The online-learning protocol (mdpkit.experiments.protocol): an agent acts, observes transitions, and reports
the policy it follows; the runner records rewards, policy switches and wall time, then computes the regret
against the model's optimal gain rho* (average reward) or optimal value V* (episodic), and the
pseudo-regret with the exact gain of every policy played. Writing a new algorithm means writing an Agent.
"""

from __future__ import annotations

import numpy as np

import mdpkit
from mdpkit.envs import riverswim
from mdpkit.experiments import UCBVI, UCRL2, RandomAgent, loglog_slope, run_continuing, run_episodic

T = 100_000
mdp = riverswim(3)  # the 3-state river of Osband et al. (2013): rewards 0.005 (left bank), 1 (right bank)

print(f"RiverSwim(3): optimal gain rho* = {mdpkit.average_reward(mdp).gain:.6f}")
for name, agent in [
    ("UCRL2", UCRL2(mdp.S, mdp.A, delta=0.05, seed=0)),
    ("random", RandomAgent(mdp.S, mdp.A, seed=0)),
]:
    run = run_continuing(mdp, agent, T, seed=0)
    t = np.unique(np.geomspace(1e3, T, 30).astype(int))
    fit = loglog_slope(t, run.regret()[t - 1])  # one seed: a point estimate (sweeps give intervals)
    print(
        f"{name:>7}: regret(T) = {run.regret()[-1]:9.1f}, pseudo-regret = {run.pseudo_regret()[-1]:9.1f}, "
        f"policy switches = {run.n_switches:3d}, log-log slope on [1e3, 1e5] = {fit.slope:.3f}, "
        f"{run.wall_time:.2f} s"
    )

# the episodic setting: K episodes of H steps, regret = sum_k V*(s0) - V^{pi_k}(s0), pi_k evaluated exactly
H = 5
fh = mdpkit.FiniteHorizonMDP.from_tabular(mdp, H)
K = T // H
run = run_episodic(fh, UCBVI(mdp.S, mdp.A, H, K, delta=0.05, seed=0), K, seed=0)
print(
    f"UCBVI-BF (H={H}): regret after {K} episodes = {run.regret()[-1]:.1f} "
    f"(V*(s0) = {run.v_star[0]:.4f} per episode), {len(run.policies)} distinct policies, "
    f"{run.wall_time:.2f} s"
)
