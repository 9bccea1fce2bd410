"""REINFORCE with group-normalised advantages converges to the *wrong* arm when rewards are random.

Exact expected REINFORCE dynamics (no sampling noise) of a softmax policy on the risky/safe bandit
(risky: 10 w.p. 1/5 else 0, mean 2 — optimal; safe: 1). With GRPO's (R - mean)/std the risky arm loses
most comparisons, and the policy converges to the safe arm for every group size; with the mean-only
advantage R - mean (an unbiased, scaled policy gradient) it converges to the optimum.
See proofs/seeupo_reinforce_grae.py.

Run: python examples/pg_reinforce_grae_risky_safe.py
"""

from mdpkit.policy_gradient import GroupAdvantage, risky_safe_bandit, run_reinforce

bandit = risky_safe_bandit().to_float()
print(f"optimum J* = {bandit.optimum():.1f} (risky arm), safe arm = 1.0")
for name, adv, eta in [
    ("std GRAE, G = 2", GroupAdvantage(2), 1.0),
    ("std GRAE, G = 8", GroupAdvantage(8), 1.0),
    ("mean-only, G = 8", GroupAdvantage(8, scale="none"), 0.2),
]:
    run = run_reinforce(bandit, adv, eta, 2000)
    trace = ", ".join(f"{run.J[k]:.3f}" for k in (0, 10, 100, 1000, 2000))
    print(f"{name:18s} J_k at k = 0, 10, 100, 1000, 2000: {trace}   pi(risky) -> {run.policy[0]:.4f}")
