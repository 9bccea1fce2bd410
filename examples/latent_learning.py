"""Learning a latent MDP with the context revealed in hindsight: both optimistic algorithms, exact regret.

    python examples/latent_learning.py

A latent MDP mixes M MDPs; each episode draws one (the context) and hides it, so good policies depend on the
history (they infer the context from the transitions). After the episode the context is revealed and the
learner updates its counts for that context (Zhou, Wang & Du, ICML 2023). Both of the paper's solvers
(model-optimistic, value-optimistic; mdpkit.latent.learning) plan optimistically and exactly over
(step, state, belief) nodes and re-plan only when a count doubles. The regret of every episode is exact:
V* of the optimal history-dependent policy minus the exact value of the policy played.
"""

from __future__ import annotations

import numpy as np

from mdpkit.latent.instances import random_lmdp
from mdpkit.latent.learning import LatentSpec, ModelOptimistic, ValueOptimistic, belief_plan, run_latent
from mdpkit.latent.planning import plan

K = 3000
# 2 contexts on 3 states, 2 actions, horizon 5; each row has 2 next states; rewards U[0,1]/H (total <= 1),
# not observed during the episode, so only the transitions tell the contexts apart
lmdp = random_lmdp(S=3, A=2, M=2, H=5, seed=0, support=2, reward_observed=False)
v_star, _ = belief_plan(lmdp)
print(f"{lmdp}: V* = {v_star:.6f} (history enumeration: {plan(lmdp).value:.6f}), Var* = {lmdp.var_star:.2e}")

for cls in (ValueOptimistic, ModelOptimistic):
    agent = cls(LatentSpec.of(lmdp), K=K, delta=0.05)
    run = run_latent(lmdp, agent, K, seed=1, v_star=v_star)
    regret = run.regret()
    print(
        f"{cls.NAME:17s} regret after 300 / 3000 episodes: {regret[299]:6.1f} / {regret[-1]:6.1f}; "
        f"{run.n_plans} plans; optimistic value >= V* in every episode: "
        f"{bool(np.all(run.optimistic >= v_star - 1e-12))}; last policy's gap {v_star - run.values[-1]:.4f}"
    )
