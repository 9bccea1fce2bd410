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
# # 2. Robust MDPs: uncertainty sets, robust value iteration, static vs dynamic, IWOCS
#
# **Learning goals.** After this notebook you can
#
# 1. state the robust objective $\max_\pi \min_{P \in \mathcal U} V^\pi_P$ and the robust Bellman operator of
#    an $(s, a)$-rectangular set;
# 2. solve the *inner problem* $\min_{q \in \mathcal U_{sa}} q^\top v$ for L1 and KL balls, and run robust VI
#    with `mdpkit.robust`;
# 3. explain why the *static* model (nature picks one kernel per episode) and the *dynamic* model (nature
#    may switch at every step) differ on a non-rectangular set, on an instance where they do;
# 4. run IWOCS (Zouitine, Geist & Rachelson 2024), which solves a robust MDP as a short sequence of ordinary
#    MDPs, and read its certificate.
#
# Exercises have a check cell right after them; the solutions at the end are checked the same way.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import mdpkit
from mdpkit import robust
from mdpkit.plotting import PALETTE, STYLE, figsize
from mdpkit.teaching import check

FAST = os.environ.get("MDPKIT_FAST", "0") == "1"  # small sizes for CI
plt.rcParams.update({**STYLE, "figure.dpi": 120})


# %% [markdown]
# ## 1. Uncertainty sets and the inner problem
#
# A robust MDP replaces the kernel $P$ by a set $\mathcal U$ of kernels and asks for
# $V^*_{\mathcal U} = \max_\pi \min_{P \in \mathcal U} V^\pi_P$. When $\mathcal U$ is **$(s,a)$-rectangular**,
# $\mathcal U = \prod_{s,a} \mathcal U_{sa}$ (the adversary picks each row independently), dynamic programming
# still works (Iyengar 2005; Nilim & El Ghaoui 2005) with the robust Bellman operator
#
# $$ (T V)(s) = \max_a \Big[ r(s, a) + \gamma \min_{q \in \mathcal U_{sa}} q^\top V \Big], $$
#
# again a $\gamma$-contraction. Everything hinges on the **inner problem** $\min_{q \in \mathcal U_{sa}}
# q^\top v$ around a nominal row $p = \bar P(\cdot \mid s, a)$:
#
# * L1 ball $\{q \in \Delta : \|q - p\|_1 \le \kappa\}$: move $\kappa/2$ of probability mass from the
#   highest-value successors onto the lowest-value one (a sort, `robust.worst_case_l1`);
# * KL ball $\{q \in \Delta : \mathrm{KL}(q \| p) \le \delta\}$: by duality a one-dimensional convex problem,
#   $\max_{\beta > 0} -\beta \log \sum_i p_i e^{-v_i/\beta} - \beta \delta$ (`robust.worst_case_kl`).

# %%
p, v = np.array([0.1, 0.6, 0.3]), np.array([1.0, 5.0, 0.0])
value, q = robust.worst_case_l1(p, v, radius=0.4)
print(f"nominal p.v = {p @ v:.2f}; worst case over the L1 ball of radius 0.4: {value:.2f} at q = {q}")

radii = np.linspace(0, 2, 21 if FAST else 81)
l1 = [robust.worst_case_l1(p, v, r)[0] for r in radii]
kl = [robust.worst_case_kl(p, v, r)[0] for r in radii]
fig, ax = plt.subplots(figsize=figsize(1.3, 0.65))
ax.plot(radii, l1, label=r"L1 ball, radius $\kappa$")
ax.plot(radii, kl, label=r"KL ball, radius $\delta$")
ax.axhline(p @ v, color="0.4", linestyle=":", label=r"nominal $p^\top v$")
ax.axhline(v.min(), color="0.7", linestyle="--", label=r"$\min_i v_i$")
ax.set_xlabel("radius of the ball")
ax.set_ylabel(r"$\min_{q \in \mathcal{U}} q^\top v$")
ax.set_title("Worst-case expectation of one row, $p = (0.1, 0.6, 0.3)$, $v = (1, 5, 0)$")
ax.legend()
plt.show()

# %% [markdown]
# The L1 worst case is piecewise linear: it falls at slope $-\tfrac12(v_{\max} - v_{\min})$ while the best
# successor still has mass to give, then more slowly, until all the mass sits on the worst successor at
# $\kappa = 2(1 - p_{\arg\min v}) = 1.4$. The KL worst case is smooth and reaches $\min_i v_i$ at
# $\delta = \log(1/p_{\arg\min v}) \approx 1.2$, the divergence of the point mass on the worst successor
# (a KL ball never moves mass onto a state with $p_i = 0$).
#
# ### Exercise 1 — an L1 inner problem by hand
#
# For $p = (0.2, 0.3, 0.4, 0.1)$, $v = (3, 1, 4, 2)$ and $\kappa = 0.5$, compute the worst-case distribution
# $q$ (move $\kappa/2$ of mass, from the highest-value successors first, onto the lowest-value one) and enter
# it. The check compares with `robust.worst_case_l1`.

# %%
p1, v1, kappa1 = np.array([0.2, 0.3, 0.4, 0.1]), np.array([3.0, 1.0, 4.0, 2.0]), 0.5
q1 = None  # your answer: an array of shape (4,)

# %%
check("Exercise 1", q1, robust.worst_case_l1(p1, v1, kappa1)[1])

# %% [markdown]
# ## 2. Robust value iteration
#
# `robust.solve(mdp, uset)` runs robust VI with the exact inner problem at every pair and the same certified
# span stopping rule as `mdpkit.solve` (the robust operator is monotone and translation-equivariant, which
# is all the bound needs). It returns the robust value, a robust policy, and the **worst-case kernel**: a
# member of $\mathcal U$ under which the robust policy earns exactly the robust value. We watch RiverSwim
# (notebook 1) lose value as the balls around its nominal kernel grow.

# %%
mdp = mdpkit.envs.riverswim(6, gamma=0.95)
nominal = mdpkit.solve(mdp)
radii_l1 = np.linspace(0, 0.6, 7 if FAST else 25)
radii_kl = np.linspace(0, 0.3, 7 if FAST else 25)
res = {"L1": [], "KL": []}
for name, rs, make in (("L1", radii_l1, robust.L1Ball), ("KL", radii_kl, robust.KLBall)):
    for r in rs:
        uset = make(mdp, r)
        sol = robust.solve(mdp, uset)
        nominal_robust = robust.robust_evaluate(mdp, uset, nominal.policy)
        res[name].append((sol.V[0], nominal_robust.V[0], (sol.policy != nominal.policy).sum()))
res = {k: np.array(x) for k, x in res.items()}

fig, axes = plt.subplots(1, 2, figsize=figsize(2, 0.4), sharey=True)
for ax, (name, rs) in zip(axes, (("L1", radii_l1), ("KL", radii_kl)), strict=True):
    ax.plot(rs, res[name][:, 0], "o-", label="robust policy (robust VI)")
    ax.plot(rs, res[name][:, 1], "s--", label="nominal optimal policy")
    changed = res[name][:, 2] > 0
    ax.plot(rs[changed], res[name][changed, 0], "o", color=PALETTE[2], label="robust policy differs")
    ax.set_xlabel(f"{name} radius")
    ax.set_yscale("log")
    ax.set_title(f"RiverSwim(6): robust value of state 0, {name} balls")
axes[0].set_ylabel(r"worst-case value $\min_{P \in \mathcal{U}} V^\pi_P(0)$")
axes[0].legend()
plt.show()

sol = robust.solve(mdp, robust.L1Ball(mdp, 0.4))
V_worst = robust.evaluate_kernel(mdp, sol.kernel, sol.policy_matrix)
print(f"L1 radius 0.4: robust policy {sol.policy} (nominal {nominal.policy}), bound {sol.error_bound:.1e}")
print(f"robust policy under the worst kernel vs robust V: max diff {np.abs(V_worst - sol.V).max():.1e}")
print("worst-case row of (s=2, swim right):", np.round(sol.kernel[2, 1], 3), "nominal:", mdp.P[2, 1])

# %% [markdown]
# Swimming right stays robustly optimal for small radii; at large radii the adversary can push the swimmer
# back so hard that the small sure reward on the left bank wins in state 0, and the robust policy changes
# there (green dots). The nominal policy's worst-case value (dashed) then falls below the robust one.
#
# ## 3. Static vs dynamic: when rectangularity fails
#
# A **finite** set $\{P_1, \dots, P_K\}$ is not rectangular. In the **static** model nature draws one kernel
# for the whole episode: $J^*_{\text{static}} = \max_\pi \min_k \mu^\top V^\pi_{P_k}$. In the **dynamic**
# model nature may pick the row of any $P_k$ at every pair, i.e. it plays in the rectangular hull
# $\prod_{s,a}\mathrm{conv}\{P_k(\cdot\mid s,a)\}$, and the robust Bellman operator computes that value. The
# hull contains every $P_k$, so $J^*_{\text{dynamic}} \le J^*_{\text{static}}$, with strict inequality
# possible. `robust.static_optimal` enumerates deterministic policies exactly (tiny models only);
# `robust.solve` on a `FiniteSet` solves the dynamic model. We search random two-state instances for a gap.

# %%
rng = np.random.default_rng(0)
found, trial = False, 0
while not found:
    trial += 1
    Ks = [rng.dirichlet(np.full(2, 0.4), size=(2, 2)) for _ in range(2)]
    mdp2 = mdpkit.TabularMDP(Ks[0], rng.uniform(-2, 2, size=(2, 2)), gamma=0.9)
    tset = robust.FiniteSet(Ks)
    static = robust.static_optimal(mdp2, tset)
    dynamic = robust.solve(mdp2, tset)
    found = static.value > mdp2.initial @ dynamic.V + 1e-3  # a gap beyond rounding
print(f"instance #{trial}: static optimum {static.value:.4f} (policy {static.policy})")
print(f"dynamic robust value {mdp2.initial @ dynamic.V:.4f} (policy {dynamic.policy})")
_, _, J_k = robust.static_robust_value(mdp2, tset, static.policy)
print("J of the static-optimal policy under P_1, P_2:", np.round(J_k, 4))
for s in range(2):
    for a in range(2):
        k = np.argmin([np.abs(dynamic.kernel[s, a] - P[s, a]).sum() for P in Ks])
        print(f"the dynamic adversary's worst kernel takes row (s={s}, a={a}) from P_{k + 1}")

# %% [markdown]
# The dynamic adversary combines rows of *different* kernels, a model that is in the hull but not in the
# set, so it can hurt more than any single $P_k$.
#
# ### Exercise 2 — the static value of a policy
#
# For the instance above and the policy `pi2 = np.array([0, 1])`, compute the static robust value
# $\min_k \mu^\top V^{\pi_2}_{P_k}$ with two linear solves $(I - \gamma P_{k,\pi})V = r_\pi$ (use
# `mdp2.R`, `mdp2.gamma`, `mdp2.initial`). The check compares with `robust.static_robust_value`.

# %%
pi2 = np.array([0, 1])
J_static = None  # your answer: a float

# %%
check("Exercise 2", J_static, robust.static_robust_value(mdp2, tset, pi2)[0])

# %% [markdown]
# ## 4. IWOCS: a robust MDP as a sequence of ordinary MDPs
#
# IWOCS (Zouitine, Geist & Rachelson 2024, Algorithm 1) keeps a pool of kernels $T_0, \dots, T_i$ and
#
# $$ Q_i = \min_{j \le i} Q^*_{T_j}, \qquad \pi_i = \mathrm{greedy}(Q_i), \qquad
#    T_{i+1} \in \arg\min_{T \in \mathcal U} J^{\pi_i}_T, \qquad
#    \mathrm{gap}_i = \mu^\top \max_a Q_i(\cdot, a) - J^{\pi_i}_{T_{i+1}} . $$
#
# Each $Q^*_{T_j}$ is an *ordinary* MDP solve. Since $Q^*_{T_j} \ge Q^\pi_{T_j}$ for every policy, $\mu^\top
# \max_a Q_i$ is an upper bound on the robust value, while $J^{\pi_i}_{T_{i+1}}$ is the exact worst-case
# value of $\pi_i$: the gap certifies $\pi_i$. Our instance is the **windy walk** of the paper: a 6x6 grid
# with three corridors from S (bottom left) to G (bottom right), windier the shorter (wind pushes West with
# probability $\alpha$, $\alpha^3$, $\alpha^6$ in the bottom, middle and top corridor; reward $-1$ per step):
#
# ```
# . 6 6 6 6 .      top corridor: wind alpha^6, 13 moves
# . 6 6 6 6 .
# . # # # # .
# . 3 3 3 3 .      middle corridor: wind alpha^3, 9 moves
# . # # # # .
# S 1 1 1 1 G      bottom corridor: wind alpha, 5 moves
# ```
#
# The set holds 11 kernels, $\alpha \in \{0, 0.05, \dots, 0.5\}$.

# %%
alphas = np.linspace(0.0, 0.5, 11)
models = mdpkit.envs.windy_walk_kernels(alphas, gamma=0.95)
walk, wset = models[0], robust.FiniteSet(models)
run = robust.iwocs(walk, wset, eps=1e-8)
for step in run.steps:
    print(
        f"iteration {step.i}: upper bound {step.J_upper:8.4f}; worst case of pi_{step.i}: "
        f"alpha = {alphas[step.kernel_index]:.2f}, value {step.J_worst:8.4f}; gap {step.gap:.2e}"
    )
J_dynamic = walk.initial @ robust.solve(walk, wset).V
print(f"IWOCS {run.status} after {run.iterations} iterations; robust VI (dynamic model): {J_dynamic:.6f}")

# %%
fig, ax = plt.subplots(figsize=figsize(1.5, 0.6))
for step, color in zip(run.steps, PALETTE, strict=False):
    J = [robust.static_robust_value(walk, [P], step.policy)[0] for P in models]
    ax.plot(
        alphas, J, "o-", color=color, label=rf"$J^{{\pi_{step.i}}}_\alpha$ (policy of iteration {step.i})"
    )
    ax.axhline(step.J_upper, color=color, linestyle=":", label=rf"upper bound $\mu^\top \max_a Q_{step.i}$")
ax.set_xlabel(r"wind $\alpha$ of the kernel")
ax.set_ylabel(r"return $\mu^\top V^{\pi}_{P_\alpha}$")
ax.set_title("IWOCS on the windy walk: each policy against every kernel")
ax.legend(loc="lower left")
plt.show()
print("pi_0 (nominal) and pi_1 (robust) on the grid:")
grid = mdpkit.envs.windy_walk_grid()
for step in run.steps:
    print(grid.render_policy(step.policy), "\n")

# %% [markdown]
# $\pi_0$ is the nominal optimum: the short windy corridor, best at $\alpha = 0$ and worst at $\alpha = 0.5$.
# IWOCS adds the kernel $\alpha = 0.5$ to the pool; $\pi_1$ is optimal against the pool's minimum, takes a
# calmer corridor, and its worst case meets the upper bound: gap 0 after two ordinary MDP solves.
#
# ### Exercise 3 — the first upper bound
#
# IWOCS starts from the nominal kernel $T_0 = P_{\alpha=0}$, so its first bound $\mu^\top \max_a Q_0$ is the
# optimal value of the windless walk. Compute it with `mdpkit.solve` on `models[0]`. The check compares with
# `run.steps[0].J_upper`.

# %%
J_upper0 = None  # your answer: a float

# %%
check("Exercise 3", J_upper0, run.steps[0].J_upper)

# %% [markdown]
# ## Solutions

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 1: kappa/2 = 0.25 moves onto the lowest value (index 1), from the highest (index 2: 0.4 -> 0.15)
q1 = np.array([0.2, 0.3 + 0.25, 0.4 - 0.25, 0.1])
check("Exercise 1", q1, robust.worst_case_l1(p1, v1, kappa1)[1])

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 2
s = np.arange(2)
r_pi = mdp2.R[s, pi2]
J_static = min(mdp2.initial @ np.linalg.solve(np.eye(2) - mdp2.gamma * P[s, pi2], r_pi) for P in Ks)
check("Exercise 2", J_static, robust.static_robust_value(mdp2, tset, pi2)[0])

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 3
J_upper0 = models[0].initial @ mdpkit.solve(models[0]).V
check("Exercise 3", J_upper0, run.steps[0].J_upper)
