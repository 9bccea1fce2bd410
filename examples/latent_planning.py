"""Latent MDPs: why the optimal policy needs the history, and how exact planning over histories finds it.

Two contexts share three states. From the start state 0, a "probe" (action 0) lands in state 1 or 2 with
context-dependent odds (0.9 / 0.1); every state then returns to 0. At the last step, in state 0, the action
equal to the context pays 1/2. A Markov policy sees only (step, state) = (2, 0) there and cannot use the
probe's outcome; a history-dependent policy reads it from the history (the context stays hidden until the
episode ends). We compute the exact optimum with the alpha-vector DP, check it against every Markov policy,
show the posterior over contexts after a few histories, Var* of random instances, and the planner's limit.

Run: ``python examples/latent_planning.py``
"""

from __future__ import annotations

import itertools

import numpy as np

from mdpkit.latent import History, LatentMDP, PlanningLimitError, evaluate, plan, var_star
from mdpkit.latent.instances import hard_instance, random_lmdp
from mdpkit.latent.planning import qmdp_policy

M, S, A, H = 2, 3, 2, 3
P = np.zeros((M, S, A, S))
P[:, 1:, :, 0] = 1.0  # states 1 and 2 return to 0
P[:, 0, 1, 0] = 1.0  # action 1 in state 0: stay
P[0, 0, 0, [1, 2]] = [0.9, 0.1]  # the probe: context 0 mostly lands in 1, context 1 mostly in 2
P[1, 0, 0, [1, 2]] = [0.1, 0.9]
R = np.zeros((M, H, S, A))
R[0, 2, 0, 0] = R[1, 2, 0, 1] = 0.5  # last step, state 0: the action equal to the context pays 1/2
lmdp = LatentMDP(P, R, H, weights=[0.5, 0.5], initial=[1.0, 0.0, 0.0])
print(lmdp)

sol = plan(lmdp)
best_markov = max(evaluate(lmdp, np.reshape(t, (H, S))) for t in itertools.product(range(A), repeat=H * S))
print(f"optimal history-dependent value V* = {sol.value:.4f}  ({sol.n_histories} histories enumerated)")
print(f"best Markov policy (all {A ** (H * S)} enumerated) = {best_markov:.4f}")
print(f"QMDP heuristic (argmax_a sum_m w_m Q*_m)          = {evaluate(lmdp, qmdp_policy(lmdp)):.4f}")
print(f"per-context values of the optimal policy: {np.round(sol.context_values, 4)}")

for hist in (History((0, 1, 0), (0, 0), (0.0, 0.0)), History((0, 2, 0), (0, 0), (0.0, 0.0))):
    print(f"after {hist.states}: posterior {np.round(lmdp.belief(hist), 3)}, plays {sol.policy.act(hist)}")

rng = np.random.default_rng(0)
returns = [lmdp.sample_episode(sol.policy, rng).rewards.sum() for _ in range(4000)]
print(f"Monte Carlo return of the optimal policy: {np.mean(returns):.4f} (exact {sol.value:.4f})")

# Var*: the largest expected total variance of the optimal alpha vectors along any policy
for noise in (0.0, 0.05, None):
    inst = random_lmdp(4, 2, 2, 4, seed=1, noise=noise, support=None if noise is None else 3)
    v = var_star(inst)
    print(
        f"random LMDP, noise={noise}: Gamma={inst.gamma_degree}, V*={plan(inst).value:.4f}, "
        f"Var*={v.value:.5f}"
    )
hi = hard_instance(M=2, L=4, A=3, eps=0.1, scale=0.8, seed=0)
print(
    f"Gamma=2 hard instance: Var* = {hi.lmdp.var_star:.4f} (scale^2/4 = {hi.var_star:.4f}), "
    f"V* = {plan(hi.lmdp).value:.4f} (scale (1/2 + eps) = {hi.optimal_value:.4f})"
)

# exact planning enumerates histories, (S A)^H of them in the worst case: it stops before allocating
try:
    plan(random_lmdp(4, 2, 2, 12, seed=0))
except PlanningLimitError as err:
    print(f"PlanningLimitError: {err}")
