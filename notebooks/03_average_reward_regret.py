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
# # 3. Average reward and regret: gain, bias, span, UCRL2 and LOOP on RiverSwim
#
# **Learning goals.** After this notebook you can
#
# 1. state the average-reward optimality equation and read its gain $\rho^*$, bias $h^*$ and span
#    $\mathrm{sp}(h^*)$ from `mdpkit.average_reward`;
# 2. compute the gain of any stationary policy;
# 3. define the regret of an online learner, run UCRL2 (Jaksch, Ortner & Auer 2010) with
#    `mdpkit.experiments`, and measure its growth rate as a log-log slope with a confidence interval;
# 4. compare it with LOOP (He, Zhong & Yang 2024), which trades some regret for far fewer policy switches.
#
# Exercises have a check cell right after them; the solutions at the end are checked the same way.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import mdpkit
from mdpkit.experiments import UCRL2, RandomAgent, loglog_slope, run_continuing
from mdpkit.plotting import PALETTE, STYLE, figsize, seed_band
from mdpkit.teaching import check

FAST = os.environ.get("MDPKIT_FAST", "0") == "1"  # small sizes for CI
plt.rcParams.update({**STYLE, "figure.dpi": 120})


# %% [markdown]
# ## 1. Gain, bias and the optimality equation
#
# The **gain** of a stationary policy is its long-run reward per step,
# $\rho^\pi(s) = \lim_{T\to\infty} \frac1T \mathbb E^\pi_s \sum_{t<T} r(s_t, a_t) = (P_\pi^* r_\pi)(s)$, with
# $P^*_\pi$ the Cesàro limit of $P_\pi^t$. In a *communicating* MDP (every state reaches every other under
# some policy) the optimal gain $\rho^*$ is the same in every state and there is a **bias** $h^*$ with
#
# $$ \rho^* + h^*(s) = \max_a \Big[ r(s, a) + \sum_{s'} P(s' \mid s, a)\, h^*(s') \Big] \qquad \forall s $$
#
# (Puterman 1994, §8.4 and §9.1). $h^*(s) - h^*(s')$ is the long-run advantage of starting in $s$ rather than
# $s'$; its **span** $\mathrm{sp}(h^*) = \max h^* - \min h^*$ measures how hard it is to recover from a bad
# state, and enters the regret bounds of modern algorithms (Bartlett & Tewari 2009; Fruit et al. 2018).
# `mdpkit.average_reward` solves the equation by relative value iteration, with a certified bracket on
# $\rho^*$.

# %%
mdp = mdpkit.envs.riverswim(3)
avg = mdpkit.average_reward(mdp)
print(f"RiverSwim(3): rho* = {avg.gain:.6f} in [{avg.gain_lower:.10f}, {avg.gain_upper:.10f}]")
print(f"h* = {np.round(avg.h, 4)} (shifted so that min h* = 0), sp(h*) = {avg.span:.4f}, policy {avg.policy}")
lhs = avg.gain + avg.h
rhs = (mdp.R + mdp.P @ avg.h).max(axis=1)
print(f"optimality equation residual: {np.abs(lhs - rhs).max():.1e}")

ns = np.arange(2, 9 if FAST else 16)
spans = [mdpkit.average_reward(mdpkit.envs.riverswim(int(n))).span for n in ns]
fig, (ax, ax2) = plt.subplots(1, 2, figsize=figsize(2, 0.38))
for n, color, style in zip((10, 6, 3), PALETTE, ("-", "--", ":"), strict=False):
    h = mdpkit.average_reward(mdpkit.envs.riverswim(n)).h
    ax.plot(np.arange(n), h, "o" + style, color=color, markersize=6 - n / 3, label=f"RiverSwim({n})")
ax.set_xlabel("state $s$ (0 = left bank)")
ax.set_ylabel(r"bias $h^*(s)$")
ax.set_title("The bias hardly depends on $n$ (curves overlap)")
ax.legend()
ax2.plot(ns, spans, "o-")
ax2.set_xlabel("number of states $n$")
ax2.set_ylabel(r"$\mathrm{sp}(h^*)$")
ax2.set_title("Span of the bias of RiverSwim($n$)")
plt.show()

# %% [markdown]
# ### Exercise 1 — the gain of a lazy policy
#
# What is the gain of "always swim left" (`np.zeros(3, dtype=int)`) in RiverSwim(3), in every state? Reason
# it out (where does the chain end up, and what does it earn there?) and enter an array of shape (3,). The
# check compares with `mdpkit.policy_gain`, which computes $P^*_\pi r_\pi$ exactly.

# %%
gain_left = None  # your answer: an array of shape (3,)

# %%
check("Exercise 1", gain_left, mdpkit.policy_gain(mdp, np.zeros(3, dtype=int))[0])

# %% [markdown]
# ## 2. Regret, and UCRL2
#
# An online learner does not know $P$ or $r$. It acts for $T$ steps on one trajectory, and its **regret**
# compares its total reward with what the optimal gain would have earned:
#
# $$ \mathrm{Regret}(T) = T \rho^* - \sum_{t=1}^{T} r_t . $$
#
# **UCRL2** keeps counts $N(s, a)$, empirical rewards $\hat r$ and transitions $\hat p$, and at the start of
# each episode plays the optimistically best policy of the set of plausible MDPs
#
# $$ \Big\{\tilde p : \|\tilde p(\cdot \mid s,a) - \hat p(\cdot \mid s,a)\|_1 \le
#    \sqrt{14 S \log(2 A t/\delta)/N(s,a)}\Big\} $$
#
# (found by *extended value iteration*); an episode ends when the count of some pair doubles. Its regret is
# $\tilde O(D S \sqrt{A T})$ with probability $1 - \delta$ ($D$ the diameter), so $\log \mathrm{Regret}(T)$
# against $\log T$ should have slope at most about $1/2$ once learning has kicked in.
#
# `mdpkit.experiments.run_continuing` runs any `Agent` and records rewards, policy switches and the exact
# regret; `loglog_slope` fits the slope of the mean curve with a bootstrap interval over seeds.

# %%
T = 30_000 if FAST else 300_000
seeds = range(3 if FAST else 8)
t = np.unique(np.geomspace(100, T, 40).astype(int))
runs = {"UCRL2": [], "random": []}
for seed in seeds:
    for name, agent in (
        ("UCRL2", UCRL2(mdp.S, mdp.A, delta=0.05, seed=seed)),
        ("random", RandomAgent(mdp.S, mdp.A, seed=seed)),
    ):
        runs[name].append(run_continuing(mdp, agent, T, seed=seed))
Y = {name: np.array([r.regret()[t - 1] for r in rs]) for name, rs in runs.items()}
fits = {name: loglog_slope(t, Y[name], t_range=(T / 100, T)) for name in Y}

fig, ax = plt.subplots(figsize=figsize(1.5, 0.62))
for name, color in zip(Y, PALETTE, strict=False):
    seed_band(ax, t, Y[name], label=f"{name}: slope {fits[name]}", color=color)
for p, ls in ((0.5, ":"), (1.0, "--")):
    ax.plot(t, Y["UCRL2"].mean(axis=0)[-1] * (t / T) ** p, ls, color="0.6", label=f"$\\propto t^{{{p:g}}}$")
ax.axvspan(T / 100, T, color="0.5", alpha=0.07, linewidth=0)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("steps $t$")
ax.set_ylabel(r"regret $t\rho^* - \sum_{j \leq t} r_j$")
ax.set_title(f"RiverSwim(3): mean regret over {len(seeds)} seeds, 95% bands (fit in the grey range)")
ax.legend()
plt.show()
print(f"UCRL2 policy switches: {[r.n_switches for r in runs['UCRL2']]}")

# %% [markdown]
# The random agent's regret grows linearly: it pays $\rho^* - \rho^{\text{unif}}$ per step forever. UCRL2's
# regret bends from linear (exploring) to sublinear; over the fitted range its slope is well below 1, even
# below the $1/2$ of the worst-case bound, because on this small river it soon plays the optimal policy most
# of the time. It switches policy only $O(SA \log T)$ times thanks to the doubling rule.
#
# ### Exercise 2 — the slope of the random agent
#
# The expected regret of the uniformly random policy grows like $(\rho^* - \rho^{\text{unif}})\,T$. Compute
# $\rho^* - \rho^{\text{unif}}$ for RiverSwim(3) from the stationary distribution $d$ of the uniform
# policy's chain ($d^\top P_{\text{unif}} = d^\top$, $\rho^{\text{unif}} = d^\top r_{\text{unif}}$; use
# `mdp.transition_matrix(pi)` and `mdp.reward_vector(pi)` with `pi = np.full((3, 2), 0.5)`).

# %%
regret_rate = None  # your answer: a float

# %%
uniform = np.full((mdp.S, mdp.A), 0.5)
check("Exercise 2", regret_rate, avg.gain - mdpkit.policy_gain(mdp, uniform)[0][0], atol=1e-9)

# %% [markdown]
# ### Exercise 3 — fit the slope yourself
#
# `loglog_slope` fits a least-squares line to $(\log t, \log \overline{\mathrm{Regret}}(t))$ over the chosen
# range, where $\overline{\mathrm{Regret}}$ is the mean over seeds. Reproduce its point estimate for UCRL2
# with `np.polyfit` on the points of `t` in $[T/100, T]$ and the mean of `Y["UCRL2"]`.

# %%
my_slope = None  # your answer: a float

# %%
check("Exercise 3", my_slope, fits["UCRL2"].slope, atol=1e-10)

# %% [markdown]
# ## 3. LOOP: optimism with few policy switches
#
# LOOP (He, Zhong & Yang, ICLR 2024) is built for general function classes $\mathcal H$. Its tabular,
# model-based form (`mdpkit.average.MLELoop`) keeps a likelihood confidence set and switches lazily:
#
# 1. **confidence set**: $\mathcal B_t = \{f \in \mathcal H : \mathcal L_t(f) - \min_g \mathcal L_t(g) \le
#    \beta\}$, with $\mathcal L_t$ the negative log-likelihood of the data so far and
#    $\beta = \log(T/\delta) + SA(S+1)\log(1 + 2T)$ (a log-covering number of the tabular class);
# 2. **optimistic planning**: play an optimal policy of $\arg\max_{f \in \mathcal B_t} \rho^*(f)$ (with
#    Pinsker's inequality, an extended MDP like UCRL2's, radii $\sqrt{2\beta / N(s,a)}$);
# 3. **lazy update**: re-plan only when the model in force has become implausible (its loss gap exceeds
#    $3\beta$), which bounds the number of policy switches by $O(d \log T)$; regret
#    $\tilde O(\mathrm{sp}(h^*)\, d \sqrt{T \beta})$.
#
# Both are `Agent`s of `mdpkit.experiments`, so the same runner and analysis apply.

# %%
from mdpkit.average import MLELoop, loop_beta  # noqa: E402

runs["LOOP"] = [
    run_continuing(mdp, MLELoop(mdp.S, mdp.A, T, delta=0.05, seed=seed), T, seed=seed) for seed in seeds
]
Y["LOOP"] = np.array([r.regret()[t - 1] for r in runs["LOOP"]])
fits["LOOP"] = loglog_slope(t, Y["LOOP"], t_range=(T / 100, T))

fig, (ax, ax2) = plt.subplots(1, 2, figsize=figsize(2, 0.4))
for name, color in zip(("UCRL2", "LOOP"), PALETTE, strict=False):
    seed_band(ax, t, Y[name], label=f"{name}: slope {fits[name]}", color=color)
    switches = np.array([np.searchsorted(r.switch_times, t, side="right") for r in runs[name]])
    seed_band(ax2, t, switches, label=name, color=color)
for a in (ax, ax2):
    a.set_xscale("log")
    a.set_xlabel("steps $t$")
ax.set_yscale("log")
ax.set_ylabel("regret")
ax.set_title(f"RiverSwim(3): regret, mean over {len(seeds)} seeds")
ax.legend(loc="upper left")
ax2.set_ylabel("policy switches so far")
ax2.set_title("Switches: UCRL2's doubling rule vs LOOP's lazy test")
ax2.legend(loc="upper left")
plt.show()
for name in ("UCRL2", "LOOP"):
    n_switches = [r.n_switches for r in runs[name]]
    print(f"{name:>5}: mean regret at T {Y[name].mean(axis=0)[-1]:8.0f}, policy switches {n_switches}")

# %% [markdown]
# LOOP's confidence set is wider (its $\beta$ covers a whole function class), so it explores longer and its
# regret on this small river is larger, but it changes policy several times less often than UCRL2: the
# lazy test only fires when the data contradict the model in force.
#
# ### Exercise 4 — LOOP's confidence level
#
# Compute $\beta = \log(T/\delta) + SA(S+1)\log(1 + 2T)$ for RiverSwim(3) ($S = 3$, $A = 2$), the horizon
# `T` of this notebook and $\delta = 0.05$. The check compares with `mdpkit.average.loop_beta`.

# %%
beta_answer = None  # your answer: a float

# %%
check("Exercise 4", beta_answer, loop_beta(3, 2, T, delta=0.05))

# %% [markdown]
# ## Solutions

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 1: swimming left always reaches state 0 and stays; r(0, left) = 0.005 per step, from any state
gain_left = np.full(3, 0.005)
check("Exercise 1", gain_left, mdpkit.policy_gain(mdp, np.zeros(3, dtype=int))[0])

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 2: stationary distribution as the least-squares solution of d^T (I - P) = 0, sum(d) = 1
P_u, r_u = mdp.transition_matrix(uniform), mdp.reward_vector(uniform)
M = np.vstack([(np.eye(mdp.S) - P_u).T, np.ones(mdp.S)])
d = np.linalg.lstsq(M, np.r_[np.zeros(mdp.S), 1.0], rcond=None)[0]
regret_rate = avg.gain - d @ r_u
print(
    f"rho* - rho_unif = {regret_rate:.6f}; the random agent's regret at T: {Y['random'].mean(axis=0)[-1]:.0f}"
)
check("Exercise 2", regret_rate, avg.gain - mdpkit.policy_gain(mdp, uniform)[0][0], atol=1e-9)

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 3
sel = (t >= T / 100) & (t <= T)
my_slope = np.polyfit(np.log(t[sel]), np.log(Y["UCRL2"].mean(axis=0)[sel]), 1)[0]
check("Exercise 3", my_slope, fits["UCRL2"].slope, atol=1e-10)

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 4
beta_answer = np.log(T / 0.05) + 3 * 2 * (3 + 1) * np.log(1 + 2 * T)
check("Exercise 4", beta_answer, loop_beta(3, 2, T, delta=0.05))
