"""PPO with group-normalised advantages (GRPO's GRAE) can make a policy worse — an exact counterexample.

Two arms: a *risky* one paying 10 with probability 1/5 (else 0, mean 2) and a *safe* one paying 1. Start
from pi_old = (1/2, 1/2) and take one PPO-clip step (eps = 1/5) whose expected clipped surrogate is
maximised exactly. With the group-relative advantage (R_i - mean) / std the risky arm loses most pairwise
comparisons, so PPO moves towards the safe arm and J drops from 3/2 to 7/5 — for *every* maximiser, in
exact rational arithmetic. The same step with the mean-only advantage R_i - mean, or with the true
advantage, raises J (PPO's monotonic improvement). SeeUPO (arXiv:2602.06554) states this breakage; see
proofs/seeupo_ppo_grae_not_monotone.py for the searched, shrunk and certified version.

Run: python examples/pg_ppo_grae_counterexample.py
"""

from fractions import Fraction as F

from mdpkit.policy_gradient import GroupAdvantage, bandit_ppo_step, bandit_stats, risky_safe_bandit

bandit = risky_safe_bandit()  # risky: 10 w.p. 1/5 else 0; safe: 1
pi_old = [F(1, 2), F(1, 2)]
eps = F(1, 5)
J_old = bandit.value(pi_old)
print(f"arms: {bandit.arms}, means {[str(m) for m in bandit.means()]}, J(pi_old) = {J_old}")

for name, adv in [
    ("GRAE (R - mean) / std, G = 2", GroupAdvantage(2)),
    ("mean-only R - mean, G = 2", GroupAdvantage(2, scale="none")),
    ("true advantage", "true"),
]:
    stats = bandit_stats(bandit, pi_old, adv)
    step = bandit_ppo_step(bandit, pi_old, adv, eps)
    lo, hi = step.argmax[0].linear_range(bandit.means())
    print(f"\n{name}")
    print(f"  E[A+ | arm] = {list(map(str, stats.pos))},  E[A- | arm] = {list(map(str, stats.neg))}")
    print(f"  new policy (closest maximiser) = {list(map(str, step.policy))}")
    print(f"  J over all maximisers in [{lo}, {hi}]  ->  {'DECREASE' if hi < J_old else 'no decrease'}")

# the decrease is not an artefact of G = 2: larger groups in floating point
fb = bandit.to_float()
for G in (4, 8, 16):
    step = bandit_ppo_step(fb, [0.5, 0.5], GroupAdvantage(G), 0.2)
    print(f"G = {G:2d}: J = {fb.value(list(step.policy)):.4f} (was 1.5)")
