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
# # 4. Latent MDPs: hidden contexts, beliefs, history-dependent planning and optimistic learning
#
# **Learning goals.** After this notebook you can
#
# 1. describe a latent MDP (LMDP): a mixture of $M$ finite-horizon MDPs whose context $m$ is drawn at the
#    start of each episode and hidden from the agent;
# 2. compute the posterior over contexts from a history, and see why optimal policies depend on the history;
# 3. compare the exact optimal value (alpha-vector DP over histories, `mdpkit.latent.plan`) with the value of
#    knowing the context and with the best *Markov* policy;
# 4. run the optimistic learners of Zhou, Wang & Du (ICML 2023), with the context revealed in hindsight, and
#    measure their regret exactly.
#
# Exercises have a check cell right after them; the solutions at the end are checked the same way.

# %%
import itertools
import os

import matplotlib.pyplot as plt
import numpy as np

import mdpkit
from mdpkit import latent
from mdpkit.experiments import loglog_slope
from mdpkit.latent.instances import random_lmdp
from mdpkit.latent.learning import LatentSpec, make_latent_agent, run_latent
from mdpkit.latent.planning import qmdp_policy
from mdpkit.plotting import PALETTE, STYLE, figsize, seed_band
from mdpkit.teaching import check

FAST = os.environ.get("MDPKIT_FAST", "0") == "1"  # small sizes for CI
plt.rcParams.update({**STYLE, "figure.dpi": 120})


# %% [markdown]
# ## 1. The model
#
# A latent MDP (Kwon et al. 2021) is a family of finite-horizon MDPs $\mathcal M_1, \dots, \mathcal M_M$ on
# shared states, actions and horizon $H$, with mixing weights $w$. Each episode: nature draws $m \sim w$,
# then $s_0 \sim \nu_m$, $s_{t+1} \sim P_m(\cdot \mid s_t, a_t)$, rewards $R_m(s_t, a_t)$ with total at most
# 1.
# The agent sees states, actions and rewards, but **not** $m$; in the setting of Zhou, Wang & Du (2023) the
# context is revealed *in hindsight*, at the end of the episode. $\Gamma$ is the largest support size of a
# row $P_m(\cdot \mid s, a)$.
#
# The objective is $\max_\pi \sum_m w_m V^\pi_m$, and because $m$ is hidden the history carries information:
# the posterior over contexts after a history $\tau_t = (s_0, a_0, r_0, \dots, s_t)$ is
#
# $$ b_m(\tau_t) \propto w_m\, \nu_m(s_0) \prod_{i<t} \mathbb 1[R_m(s_i, a_i) = r_i]\, P_m(s_{i+1} \mid s_i,
#    a_i). $$
#
# In our instance the rewards are revealed only at the end of the episode (`reward_observed=False`), so the
# indicators drop out and only the transitions inform the belief.

# %%
H = 4
lmdp = random_lmdp(S=3, A=2, M=2, H=H, seed=0, reward_observed=False)
print(lmdp, "weights", lmdp.weights)
for m in range(lmdp.M):
    print(f"context {m}: optimal value if known {mdpkit.backward_induction(lmdp.context(m)).value:.4f}")
print(
    "P_0(. | s=0, a=0) =",
    np.round(lmdp.P[0, 0, 0, 0], 3),
    "  P_1(. | s=0, a=0) =",
    np.round(lmdp.P[1, 0, 0, 0], 3),
)

# %% [markdown]
# ## 2. Planning: three benchmarks
#
# * **Oracle**: an agent told $m$ plays each context's optimal policy: $\sum_m w_m V^*_m$.
# * **Optimal history-dependent policy**: the alpha-vector DP over every history of positive probability
#   (`latent.plan`): with $\beta_m(\tau) = w_m \Pr(\tau \mid m)$,
#   $W(\tau_t) = \max_a \big[\sum_m \beta_m(\tau_t) R_m(s_t, a) + \sum_{(r, s')} W(\tau_t\, a\, r\, s')\big]$.
# * **Markov policies** $\pi_t(s)$ ignore what the history says about $m$: the best one (by enumeration
#   here) and QMDP, $\arg\max_a \sum_m w_m Q^*_{m,t}(s, a)$.
#
# The oracle bounds the optimum from above, Markov policies from below.

# %%
sol = latent.plan(lmdp)
oracle = sum(lmdp.weights[m] * mdpkit.backward_induction(lmdp.context(m)).value for m in range(lmdp.M))
qmdp = latent.evaluate(lmdp, qmdp_policy(lmdp))
tables = itertools.product(range(lmdp.A), repeat=H * lmdp.S)
best_markov = max(latent.evaluate(lmdp, np.array(t).reshape(H, lmdp.S)) for t in tables)
print(f"histories enumerated by the DP: {sol.n_histories}")
values = {
    "oracle (knows m)": oracle,
    "optimal (history)": sol.value,
    "best Markov": best_markov,
    "QMDP (Markov)": qmdp,
}
for k, v in values.items():
    print(f"{k:>20}: {v:.5f}")

fig, (ax, ax2) = plt.subplots(1, 2, figsize=figsize(2, 0.4))
ax.barh(range(4), list(values.values()), color=PALETTE[:4])
ax.set_yticks(range(4), list(values.keys()))
ax.invert_yaxis()
ax.set_xlim(min(values.values()) * 0.95, max(values.values()) * 1.01)
ax.set_xlabel(r"value $\sum_m w_m V^\pi_m$")
ax.set_title("What the hidden context costs")
rng, seen = np.random.default_rng(1), set()
for _ in range(12):
    ep = lmdp.sample_episode(sol.policy, rng)
    b0 = [
        lmdp.belief(latent.History(tuple(ep.states[: t + 1]), tuple(ep.actions[:t]), tuple(ep.rewards[:t])))[
            0
        ]
        for t in range(H)
    ]
    color = PALETTE[0] if ep.context == 0 else PALETTE[1]
    label = None if ep.context in seen else f"episodes of context {ep.context}"
    seen.add(ep.context)
    ax2.plot(range(H), b0, "o-", color=color, alpha=0.6, label=label)
ax2.set_xlabel("step $t$")
ax2.set_ylabel(r"posterior $b_0(\tau_t)$ of context 0")
ax2.set_title("Beliefs along episodes of the optimal policy")
ax2.legend()
plt.show()

# %% [markdown]
# The optimal policy is strictly better than every Markov policy: it acts on what the first transitions
# reveal about $m$ (right: the belief moves towards the true context as the episode unfolds), and strictly
# worse than the oracle, which needs no learning about $m$ at all.
#
# ### Exercise 1 — a posterior by Bayes' rule
#
# For the history $(s_0, a_0, r_0, s_1)$ printed by the cell below (one sampled step), compute the
# posterior $b(\tau_1) \in \Delta_M$ from `lmdp.weights`, `lmdp.initial` (shape (M, S)), `lmdp.P` (shape
# (M, H, S, A, S)) and `lmdp.R` (shape (M, H, S, A)). The check compares with `lmdp.belief`.

# %%
ep = lmdp.sample_episode(sol.policy, np.random.default_rng(5))
s0, a0, r0, s1 = int(ep.states[0]), int(ep.actions[0]), float(ep.rewards[0]), int(ep.states[1])
history1 = latent.History((s0, s1), (a0,), (r0,))
print(f"history: s0={s0}, a0={a0}, r0={r0:.4f}, s1={s1}")
posterior = None  # your answer: an array of shape (M,)

# %%
check("Exercise 1", posterior, lmdp.belief(history1))

# %% [markdown]
# ### Exercise 2 — the value of a Markov policy
#
# A Markov policy table `pi[h, s]` is an ordinary policy in each context, so its value is
# $\sum_m w_m V^\pi_m$. Compute it for "always action 0" with `mdpkit.evaluate_finite(lmdp.context(m), pi)`
# (it returns `(V, Q)`, `V[0]` the values at step 0) and the initial laws. The check compares with
# `latent.evaluate`.

# %%
always0 = np.zeros((H, lmdp.S), dtype=int)
value_always0 = None  # your answer: a float

# %%
check("Exercise 2", value_always0, latent.evaluate(lmdp, always0))

# %% [markdown]
# ## 3. Learning with the context revealed in hindsight
#
# The learner knows $w$, $\nu_m$ and the rewards but not the kernels $P_m$. After each episode it is told
# $m$, so it can keep counts per context. The framework of Zhou, Wang & Du (2023): refresh the empirical
# model of a pair when its count doubles, then re-plan **optimistically** over histories, either with a
# Bernstein bonus on each context's alpha vector (*value-optimistic*) or with the best kernel of an
# empirical-Bernstein set (*model-optimistic*). Its regret after $K$ episodes,
# $\sum_{k \le K} V^\star - V^{\pi_k}$, is computed here exactly: each policy played is evaluated in the true
# LMDP. The paper bounds it by $\tilde O(\sqrt{\mathrm{Var}^\star M \Gamma S A K})$, horizon-free.

# %%
K = 200 if FAST else 2000
seeds = range(2 if FAST else 10)
k_grid = np.unique(np.geomspace(10, K, 25).astype(int))
regret = {}
for name in ("value-optimistic", "model-optimistic"):
    curves = []
    for seed in seeds:
        run = run_latent(lmdp, make_latent_agent(name, LatentSpec.of(lmdp), K), K, seed=seed)
        curves.append(np.cumsum(run.v_star - run.values)[k_grid - 1])
    regret[name] = np.array(curves)
fig, ax = plt.subplots(figsize=figsize(1.3, 0.65))
for (name, Y), color in zip(regret.items(), PALETTE, strict=False):
    fit = loglog_slope(k_grid, Y, t_range=(K / 10, K))
    seed_band(ax, k_grid, Y, label=f"{name}: slope {fit}", color=color)
ax.plot(k_grid, Y.mean(axis=0)[-1] * np.sqrt(k_grid / K), ":", color="0.6", label=r"$\propto\sqrt{K}$")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("episodes $K$")
ax.set_ylabel(r"regret $\sum_{k \leq K} V^\star - V^{\pi_k}$")
ax.set_title(f"Optimistic learners on the LMDP above, mean over {len(seeds)} seeds")
ax.legend()
plt.show()

# %% [markdown]
# Both learners' regret grows sublinearly: the slopes fitted over the last decade $[K/10, K]$ (legend) are
# below 1. On this instance the model-optimistic learner stops paying regret early, while the
# value-optimistic one is still exploring. The doubling refreshes keep the number of re-plans logarithmic in
# $K$.
#
# ### Exercise 3 — the transition degree $\Gamma$
#
# $\Gamma = \max_{m, s, a} |\{s' : P_m(s' \mid s, a) > 0\}|$ enters the regret bound. Compute it for
# `lmdp` from `lmdp.P`. The check compares with `lmdp.gamma_degree`.

# %%
Gamma = None  # your answer: an int

# %%
check("Exercise 3", Gamma, lmdp.gamma_degree, atol=0)

# %% [markdown]
# ## Solutions

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 1: prior x initial law x transition probability (x reward indicator if rewards are observed)
beta = lmdp.weights * lmdp.initial[:, s0] * lmdp.P[:, 0, s0, a0, s1]
if lmdp.reward_observed:
    beta = beta * (lmdp.R[:, 0, s0, a0] == r0)
posterior = beta / beta.sum()
check("Exercise 1", posterior, lmdp.belief(history1))

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 2
value_always0 = sum(
    lmdp.weights[m] * lmdp.initial[m] @ mdpkit.evaluate_finite(lmdp.context(m), always0)[0][0]
    for m in range(lmdp.M)
)
check("Exercise 2", value_always0, latent.evaluate(lmdp, always0))

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 3
Gamma = int((lmdp.P > 0).sum(axis=-1).max())
check("Exercise 3", Gamma, lmdp.gamma_degree, atol=0)
