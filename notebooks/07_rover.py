# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 7. ROVER: random policy valuation on tree MDPs
#
# **Learning goals.** After this notebook you can
#
# 1. model reasoning with a verifiable reward (an LLM appending tokens, reward 1 iff the answer is right) as
#    a finite-horizon **tree MDP** with deterministic transitions and binary terminal rewards;
# 2. compute $Q^{\pi_u}$, the Q-function of the *uniform random* policy, in one backward pass;
# 3. state and check Theorem 3.1 of He et al. (2025): acting greedily on $Q^{\pi_u}$ is optimal on such
#    trees, and see it fail outside that class;
# 4. trade quality for diversity with the softmax policy $\propto \exp(Q^{\pi_u}/\rho)$ (Theorem 3.2), and
#    compare the tabular ROVER learner with GRPO, which collapses to one solution.
#
# Exercises have a check cell right after them; the solutions at the end are checked the same way.

# %%
import os
from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np

from mdpkit import rover
from mdpkit.plotting import PALETTE, STYLE, figsize, seed_band
from mdpkit.teaching import check

FAST = os.environ.get("MDPKIT_FAST", "0") == "1"  # small sizes for CI
plt.rcParams.update({**STYLE, "figure.dpi": 120})


# %% [markdown]
# ## 1. Tree MDPs and the value of the random policy
#
# A state is a prefix (the tokens generated so far), an action appends a token, and the transition is
# deterministic: the states form a tree rooted at the empty prefix. A leaf (a complete answer) pays $R$ if
# the answer is correct and 0 otherwise. The paper's toy (He et al. 2025, Fig. 5a): append one of A, B, C, D
# three times; ACD, BDC, CAB and DBA are correct.
#
# The uniform policy $\pi_u$ picks every action with probability $1/|\mathcal A(s)|$. Its Q-function
# satisfies, for a deterministic tree,
#
# $$ Q^{\pi_u}(s, a) = V^{\pi_u}(s a), \qquad V^{\pi_u}(s) = \frac{1}{|\mathcal A(s)|} \sum_a Q^{\pi_u}(s, a),
#    \qquad V^{\pi_u}(\ell) = R(\ell) \text{ at leaves,} $$
#
# one backward pass over the tree. $Q^{\pi_u}(s, a)/R$ is the probability that a random continuation after
# $(s, a)$ is correct: it counts the solutions below $(s, a)$, weighted by how likely random play reaches
# them.

# %%
toy = rover.paper_toy()
print(toy)
q = rover.uniform_q(toy)
for prefix in ("", "A", "AC", "B"):
    node = toy.node(prefix)
    vals = ", ".join(f"{t}: {x:.4f}" for t, x in zip(toy.tokens(node), q[toy.actions(node)], strict=True))
    print(f"Q^pi_u({prefix or 'root'!s:4}, .) = {vals}")

# %% [markdown]
# ### Exercise 1 — the success probability of random play
#
# What is the probability that the uniform policy produces a correct answer on the toy? Enter it as a float.
# The check compares with `rover.success_probability(toy, rover.uniform_policy(toy))`.

# %%
p_uniform = None  # your answer: a float

# %%
check("Exercise 1", p_uniform, rover.success_probability(toy, rover.uniform_policy(toy)))

# %% [markdown]
# ## 2. Theorem 3.1: greedy on $Q^{\pi_u}$ is optimal
#
# On a tree with deterministic transitions and binary rewards $\{0, R\}$, $Q^{\pi_u}(s, a) > 0$ iff a
# solution lies below $(s, a)$, and the optimal $Q^*(s, a) = R\,\mathbb 1[Q^{\pi_u}(s, a) > 0]$. So
# $\arg\max_a Q^{\pi_u}(s, a)$ always picks an action with a solution below it, and the greedy policy
# succeeds with probability 1 (He et al. 2025, Theorem 3.1): evaluating the *random* policy is enough to
# act optimally. `rover.greedy_gap` measures $V^*(s_0) - V^{\pi_{\text{greedy}}}(s_0)$; we check it on
# random trees in the theorem's class and outside it (non-binary rewards).

# %%
n_trees = 50 if FAST else 300
gaps_binary = [rover.greedy_gap(rover.random_tree(seed, depth=4, min_solutions=1)) for seed in range(n_trees)]
gaps_graded = [
    rover.greedy_gap(rover.random_tree(seed, depth=3, branching=(2, 3), reward_values=(0.0, 1.0, 2.0, 3.0)))
    for seed in range(n_trees)
]
print(f"binary rewards: largest gap over {n_trees} random trees = {max(gaps_binary):.2e}")
print(
    f"rewards in {{0, 1, 2, 3}}: greedy suboptimal on {np.mean(np.array(gaps_graded) > 1e-12):.0%} of the "
    f"trees, largest gap {max(gaps_graded):.3f}"
)

# %% [markdown]
# Outside the class the theorem can fail. A two-action example: action `a` leads to two leaves worth 0 and 3,
# action `b` to a leaf worth 2:
#
# ```
# root -a-> {x: 0, y: 3}        root -b-> 2
# ```

# %%
counter = rover.tree_from_spec({"a": {"x": 0, "y": 3}, "b": 2})
print(counter.spec_str(), "  Q^pi_u(root, .) =", rover.uniform_q(counter)[counter.actions(0)])

# %% [markdown]
# ### Exercise 2 — the price of greed
#
# On `counter`, what is the value $V^{\pi_{\text{greedy}}}(s_0)$ of the greedy policy on $Q^{\pi_u}$, and
# what is $V^*(s_0)$? Enter the pair `(greedy_value, optimal_value)`. The check uses `rover.policy_value` and
# `rover.greedy_gap`.

# %%
values_counter = None  # your answer: a tuple of two floats

# %%
greedy_value = rover.policy_value(counter, rover.greedy_policy(counter, rover.uniform_q(counter)))
check("Exercise 2", values_counter, (greedy_value, greedy_value + rover.greedy_gap(counter)))

# %% [markdown]
# ## 3. Theorem 3.2: softmax trades quality for diversity
#
# The greedy policy finds *one* solution. The softmax policy $\pi_\rho(a \mid s) \propto \exp(Q^{\pi_u}(s,
# a)/\rho)$ spreads probability over every action with a solution below it. Theorem 3.2 of the paper bounds
# its value: with $N(s)$ the number of actions with $Q^{\pi_u}(s, a) = 0$ and the key states
# $\mathcal P = \{s : 1 \le N(s) \le |\mathcal A(s)| - 1\}$,
#
# $$ V^{\pi_\rho}(s_0) \ge R\Big(1 - \sum_{s \in \mathcal P} \Pr^{\pi_\rho}(s \mid s_0)\,
#    \frac{N(s)}{N(s) + \exp(\max_a Q^{\pi_u}(s, a)/\rho)}\Big). $$
#
# Small $\rho$: nearly optimal, less diverse; large $\rho$: diverse, less often right. We measure both on a
# random tree with several solutions: the success probability and the entropy of the distribution over
# solutions given success (`rover.analyse`), against the bound (`rover.softmax_lower_bound`).

# %%
tree = rover.random_tree(7, depth=5, branching=(2, 4), p_success=0.08, min_solutions=6)
qt = rover.uniform_q(tree)
rhos = np.geomspace(1e-3, 1.0, 12 if FAST else 40)
stats = []
for rho in rhos:
    a = rover.analyse(tree, rover.softmax_policy(tree, qt, rho))
    stats.append((a.success, rover.softmax_lower_bound(tree, rho, qt), a.entropy))
stats = np.array(stats)
print(tree)

fig, (ax, ax2) = plt.subplots(1, 2, figsize=figsize(2, 0.4))
ax.semilogx(rhos, stats[:, 0], label=r"success of softmax$(Q^{\pi_u}/\rho)$")
ax.semilogx(rhos, stats[:, 1], "--", label="Theorem 3.2 lower bound")
ax.axhline(1.0, color="0.6", linestyle=":", label="greedy (Theorem 3.1)")
ax.set_xlabel(r"temperature $\rho$")
ax.set_ylabel("success probability")
ax.set_title("Quality")
ax.legend(loc="lower left")
ax2.semilogx(rhos, stats[:, 2], color=PALETTE[2])
ax2.axhline(np.log(a.n_solutions), color="0.6", linestyle=":", label=r"$\log(\#\mathrm{solutions})$")
ax2.set_xlabel(r"temperature $\rho$")
ax2.set_ylabel("entropy over solutions (nats)")
ax2.set_title("Diversity")
ax2.legend(loc="lower right")
plt.show()

# %% [markdown]
# The success probability stays above the bound at every temperature and tends to 1 as $\rho \to 0$, while
# the entropy over solutions rises towards $\log(\#\text{solutions})$ as $\rho$ grows.
#
# ## 4. Learning: ROVER vs GRPO
#
# Without the tree, ROVER learns $Q^{\pi_u}$ from sampled rollouts (a mean-reward target per edge) and
# samples from softmax$(Q/\rho)$; GRPO does policy gradient with a group-normalised advantage. Both learn
# to succeed, but GRPO's policy collapses onto one solution while ROVER keeps them all. `rover.train` runs
# either on a tree and analyses the policy exactly at every logged step.

# %%
iters = 200 if FAST else 1000
seeds = range(2 if FAST else 5)
curves = {
    "ROVER ($\\rho$ = 0.1)": [
        rover.train(toy, "rover", rho=0.1, iterations=iters, n_rollouts=8, log_every=10, seed=s)
        for s in seeds
    ],
    "GRPO": [rover.train(toy, "grpo", iterations=iters, n_rollouts=8, log_every=10, seed=s) for s in seeds],
}
fig, (ax, ax2) = plt.subplots(1, 2, figsize=figsize(2, 0.4))
for (name, cs), color in zip(curves.items(), PALETTE, strict=False):
    steps = cs[0].steps
    seed_band(ax, steps, np.array([c.success for c in cs]), label=name, color=color)
    seed_band(ax2, steps, np.array([c.entropy for c in cs]), label=name, color=color)
ax.set_xlabel("training iteration (batches of 8 rollouts)")
ax.set_ylabel("success probability (exact)")
ax.set_title("Quality on the toy")
ax.legend(loc="lower right")
ax2.axhline(np.log(4), color="0.6", linestyle=":", label="log 4 (all four solutions)")
ax2.set_xlabel("training iteration (batches of 8 rollouts)")
ax2.set_ylabel("entropy over solutions (nats)")
ax2.set_title(f"Diversity on the toy (mean over {len(seeds)} seeds)")
ax2.legend(loc="center right")
plt.show()

# %% [markdown]
# ### Exercise 3 — Q of the uniform policy by hand
#
# On the toy, compute $Q^{\pi_u}(\text{root}, A)$ exactly as a `Fraction`: after A, random play must pick C
# and then D (the only solution starting with A). The check compares with the float `uniform_q` value.

# %%
q_root_A = None  # your answer: a Fraction (or float)

# %%
check("Exercise 3", None if q_root_A is None else float(q_root_A), q[toy.actions(toy.node(""))][0])

# %% [markdown]
# ## Solutions

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 1: 4 correct sequences among 4**3 equally likely ones
p_uniform = 4 / 4**3
check("Exercise 1", p_uniform, rover.success_probability(toy, rover.uniform_policy(toy)))

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 2: Q^pi_u(root, a) = (0 + 3)/2 = 1.5 < Q^pi_u(root, b) = 2: greedy takes b (value 2); V* = 3 (a, y)
values_counter = (2.0, 3.0)
check("Exercise 2", values_counter, (greedy_value, greedy_value + rover.greedy_gap(counter)))

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 3: probability 1/4 of C, then 1/4 of D
q_root_A = Fraction(1, 4) * Fraction(1, 4)
check("Exercise 3", float(q_root_A), q[toy.actions(toy.node(""))][0])
