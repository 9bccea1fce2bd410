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
# # 5. Multi-objective MDPs: Pareto fronts, hypervolume and C-MORL
#
# **Learning goals.** After this notebook you can
#
# 1. define Pareto dominance between vector returns and compute the exact Pareto front of a small MOMDP,
#    over deterministic and over stochastic policies;
# 2. explain why linear scalarisation finds only the *convex coverage set*, and see it fail on the concave
#    front of Deep Sea Treasure;
# 3. compute the hypervolume of a front exactly;
# 4. run C-MORL (Liu et al., ICLR 2025), which extends a front by constrained policy optimisation, and
#    compare it with linear scalarisation by hypervolume.
#
# Exercises have a check cell right after them; the solutions at the end are checked the same way.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from mdpkit import morl
from mdpkit.envs import DST_PARETO_FRONT, deep_sea_treasure
from mdpkit.plotting import PALETTE, STYLE, figsize
from mdpkit.teaching import check

FAST = os.environ.get("MDPKIT_FAST", "0") == "1"  # small sizes for CI
plt.rcParams.update({**STYLE, "figure.dpi": 120})


# %% [markdown]
# ## 1. Vector returns and Pareto fronts
#
# A multi-objective MDP has a vector reward $\mathbf r(s, a) \in \mathbb R^k$, so each policy has a vector
# return $\mathbf J(\pi) = \mathbb E^\pi \sum_t \gamma^t \mathbf r(s_t, a_t)$. Return $\mathbf u$
# **dominates** $\mathbf v$ ($\mathbf u \succ \mathbf v$) if $u_i \ge v_i$ for all $i$ and $u_j > v_j$ for
# some $j$. The **Pareto front** is the set of non-dominated returns. Which policies we allow matters:
#
# * over **deterministic** stationary policies the front is a finite set of points;
# * over **stochastic** policies the achievable returns form a convex polytope (the image of the occupancy
#   polytope), and the front is its upper-right boundary: a polyline in 2-D.
#
# **Deep Sea Treasure** (Vamplew et al. 2011): a submarine collects one treasure; objectives are the treasure
# value and minus the time taken. Its deterministic front is famously *concave*.

# %%
m = deep_sea_treasure()
print(f"Deep Sea Treasure: S={m.S}, A={m.A}, objectives {m.names}, gamma={m.gamma}")
det = morl.pareto_front(m, policies="deterministic")  # exact (label correcting over paths)
ccs = morl.convex_coverage_set(m)  # optimistic linear support
stoch = morl.pareto_front(m, policies="stochastic", n_points=11)  # epsilon-constraint LPs
order = np.argsort(det.values[:, 1])
print("deterministic front (treasure, -time):", det.values[order].tolist())
print("convex coverage set:", ccs.values.tolist())

# %% [markdown]
# Linear scalarisation maximises $w^\top \mathbf J(\pi)$ for weights $w$ on the simplex. Each such optimum
# lies on the *convex hull* of the front, so sweeping $w$ finds only the **convex coverage set (CCS)**: here
# just the two extreme treasures. The eight points in between are Pareto optimal but never the best weighted
# sum; stochastic mixtures of the two extremes dominate them.

# %%
fig, ax = plt.subplots(figsize=figsize(1.5, 0.62))
s = np.argsort(stoch.values[:, 1])
ax.plot(
    stoch.values[s, 1],
    stoch.values[s, 0],
    "-",
    color=PALETTE[5],
    label="stochastic front (polytope boundary)",
)
ax.plot(det.values[:, 1], det.values[:, 0], "o", color=PALETTE[0], label="deterministic front")
ax.plot(
    ccs.values[:, 1], ccs.values[:, 0], "s", mfc="none", ms=9, color=PALETTE[1], label="convex coverage set"
)
ax.set_xlabel("objective 2: $-$time")
ax.set_ylabel("objective 1: treasure")
ax.set_title("Deep Sea Treasure: a concave deterministic front")
ax.legend(loc="upper right")
plt.show()

# %% [markdown]
# ### Exercise 1 — which points are Pareto optimal?
#
# For the points below (two objectives, both maximised), enter a boolean array that is `True` exactly at the
# non-dominated points. The check compares with `morl.pareto_mask`.

# %%
pts = np.array([[1.0, 5.0], [2.0, 4.0], [2.0, 3.0], [3.0, 3.0], [0.5, 5.0], [3.0, 1.0], [4.0, 0.0]])
nondominated = None  # your answer: a bool array of shape (7,)

# %%
check("Exercise 1", nondominated, morl.pareto_mask(pts), atol=0)

# %% [markdown]
# ## 2. Hypervolume
#
# The **hypervolume** of a set $P$ with respect to a reference point $\mathbf r$ dominated by all of it is
# the volume of the region it dominates,
#
# $$ \mathrm{HV}(P; \mathbf r) = \lambda\Big( \bigcup_{\mathbf p \in P} [\mathbf r, \mathbf p] \Big), $$
#
# a single number that grows when a front gets better *or* more complete, and is maximal only for the
# true front. `morl.hypervolume` computes it exactly (WFG algorithm), `morl.hypervolume_convex` the
# hypervolume of the region under a convex hull (the exact HV of the stochastic front).

# %%
ref = np.array([0.0, -25.0])
hv_det = morl.hypervolume(det.values, ref)
hv_stoch = morl.hypervolume_convex(ccs.values, ref)
hv_ccs = morl.hypervolume(ccs.values, ref)
print(f"HV of the deterministic front {hv_det:.1f}, of the stochastic front {hv_stoch:.1f}")
print(f"HV of the CCS points alone {hv_ccs:.1f} ({hv_ccs / hv_stoch:.1%} of the stochastic front)")

# %% [markdown]
# ### Exercise 2 — a 2-D hypervolume by hand
#
# In 2-D the dominated region is a staircase: sort the points by the first objective in decreasing order;
# each point adds a rectangle of width $p_1 - r_1$ and height $p_2 - (\text{previous best } p_2)$, starting
# from $r_2$. Compute the hypervolume of the published deterministic front `DST_PARETO_FRONT` with respect
# to `ref`. The check compares with `morl.hypervolume`.

# %%
hv_by_hand = None  # your answer: a float

# %%
check("Exercise 2", hv_by_hand, morl.hypervolume(DST_PARETO_FRONT, ref))

# %% [markdown]
# ## 3. C-MORL: extend the front by constrained optimisation
#
# C-MORL (Liu et al. 2025) runs in two stages on a softmax policy $\pi_\theta(a \mid s) \propto
# e^{\theta(s,a)}$ (here with exact returns and advantages):
#
# 1. **Pareto initialisation**: for a few preference vectors $w$, ascend $w^\top \mathbf J(\theta)$ (exact
#    natural policy gradient: $\theta \leftarrow \theta + \eta\, w^\top \mathbf A^{\pi_\theta}$);
# 2. **Pareto extension**: pick the archive policies with the largest crowding distance, and for each
#    objective $l$ solve
#
# $$ \max_\theta J_l(\theta) \quad \text{s.t.} \quad J_j(\theta) \ge J_j(\pi_r) - (1-\beta)|J_j(\pi_r)|,
#    \quad j \ne l, $$
#
# by a log-barrier ascent (the paper's method, `method="barrier"`) or exactly as a constrained-MDP
# occupancy LP (`method="lp"`). The constraints let the search walk *along* the front, into the concave
# part that no weighted sum reaches. Below: C-MORL against linear scalarisation with a similar budget of
# natural-gradient steps, by hypervolume relative to the exact stochastic front.

# %%
if FAST:
    settings = {"n_rounds": 1, "init_iters": 20, "ext_iters": 10}
    ls_runs = (4, 20)
else:
    settings = {"n_rounds": 3}
    ls_runs = (16, 45)
results = {
    "C-MORL (barrier)": morl.cmorl(m, method="barrier", seed=0, **settings),
    "C-MORL (exact LP step)": morl.cmorl(m, method="lp", seed=0, **settings),
    "linear scalarisation": morl.linear_scalarization(m, *ls_runs, seed=0),
}
for name, res in results.items():
    ratio = morl.hypervolume(res.values, ref) / hv_stoch
    print(f"{name:>24}: {len(res.values):2d} points, {res.steps:4d} gradient steps, HV ratio {ratio:.3f}")

fig, ax = plt.subplots(figsize=figsize(1.5, 0.62))
ax.plot(
    stoch.values[s, 1], stoch.values[s, 0], "-", color="0.75", linewidth=3, label="exact stochastic front"
)
for (name, res), marker, color in zip(results.items(), "o^s", PALETTE, strict=False):
    ax.plot(res.values[:, 1], res.values[:, 0], marker, color=color, mfc="none", ms=7, label=name)
ax.set_xlabel("objective 2: $-$time")
ax.set_ylabel("objective 1: treasure")
ax.set_title("Deep Sea Treasure: fronts found by C-MORL and by linear scalarisation")
ax.legend(loc="upper right")
plt.show()

# %% [markdown]
# Linear scalarisation's policies pile up at (or, when not fully converged, near) the two CCS points,
# whatever its budget. C-MORL's constrained steps produce stochastic policies in between, on the exact
# front, and its hypervolume grows with every extension round (the exact LP step gets further than the
# barrier ascent, with fewer gradient steps).
#
# ### Exercise 3 — linear scalarisation finds only the CCS
#
# Solve the scalarised problem exactly for $w = (w_1, 1 - w_1)$, $w_1 \in \{0.05, 0.15, \dots, 0.95\}$, with
# `morl.scalarized_solve(m, w)` (it returns `(policy, J)`). Collect the distinct returns $J$ as an array of
# shape (n, 2), sorted by the first objective. The check compares with the CCS computed by `mdpkit`.

# %%
distinct_returns = None  # your answer: an array of shape (n, 2)

# %%
check("Exercise 3", distinct_returns, ccs.values[np.argsort(ccs.values[:, 0])], atol=1e-6)

# %% [markdown]
# ## Solutions

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 1: a point is dominated if another is >= in both objectives and > in one
nondominated = np.array(
    [not any(np.all(q >= p) and np.any(q > p) for q in pts) for p in pts],
)
print(pts[nondominated].tolist())
check("Exercise 1", nondominated, morl.pareto_mask(pts), atol=0)

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 2: staircase sum
hv_by_hand, best2 = 0.0, ref[1]
for p1, p2 in sorted(DST_PARETO_FRONT.tolist(), reverse=True):
    if p2 > best2:
        hv_by_hand += (p1 - ref[0]) * (p2 - best2)
        best2 = p2
check("Exercise 2", hv_by_hand, morl.hypervolume(DST_PARETO_FRONT, ref))

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 3
found = {tuple(np.round(morl.scalarized_solve(m, [w, 1 - w])[1], 9)) for w in np.linspace(0.05, 0.95, 10)}
distinct_returns = np.array(sorted(found))
print(distinct_returns.tolist())
check("Exercise 3", distinct_returns, ccs.values[np.argsort(ccs.values[:, 0])], atol=1e-6)
