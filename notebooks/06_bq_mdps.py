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
# # 6. BQ-MDPs: bisimulation quotients of combinatorial-optimisation MDPs
#
# **Learning goals.** After this notebook you can
#
# 1. write a constructive solver for the TSP or the knapsack problem as a (deterministic) MDP, and see why
#    its naive state space, the partial solutions, explodes;
# 2. define a **bisimulation** and compute the coarsest one of an explicit MDP;
# 3. recognise the **BQ-MDP** of Drakulic et al. (NeurIPS 2023), whose states are the *remaining
#    sub-instances*, as a bisimulation quotient, and its exact DP as Held-Karp;
# 4. find, on the knapsack, that the BQ partition is a bisimulation but not always the coarsest one.
#
# Exercises have a check cell right after them; the solutions at the end are checked the same way.

# %%
import itertools
import math
import os

import matplotlib.pyplot as plt
import numpy as np

import mdpkit
from mdpkit import combinatorial as co
from mdpkit.plotting import PALETTE, STYLE, figsize
from mdpkit.teaching import check

FAST = os.environ.get("MDPKIT_FAST", "0") == "1"  # small sizes for CI
plt.rcParams.update({**STYLE, "figure.dpi": 120})


# %% [markdown]
# ## 1. A constructive solver is an MDP
#
# A constructive heuristic builds a TSP tour one node at a time. As an MDP (Drakulic et al. 2023, §3):
#
# * **direct MDP**: a state is the partial tour $(0, \tau_1, \dots, \tau_t)$, an action the next node, the
#   reward minus the distance travelled; the episode ends when the tour closes. Its optimal return is minus
#   the optimal tour length.
# * **BQ-MDP**: a state is the *remaining sub-instance* only: the current node $j$ and the unvisited set $U$
#   (a path-TSP from $j$ through $U$ back to 0). How we got there does not matter for the future.
#
# The direct MDP has $\sum_{t=0}^{n-1} \frac{(n-1)!}{(n-1-t)!}$ decision states, the BQ-MDP
# $1 + (n-1)2^{n-2}$: factorial against exponential. `co.direct_mdp` builds the direct MDP explicitly;
# `co.count_states` counts both exactly without building them.

# %%
inst = co.random_tsp(6, seed=0)
ex = co.direct_mdp(inst)
print("direct MDP of a 6-node TSP (decision states + 1 terminal state):", ex.mdp)
print("partial tour (0, 2, 5) has BQ key (current node, unvisited bitmask):", co.bq_state(inst, (2, 5)))
print("exact (direct, BQ) decision-state counts:", co.count_states(inst))

ns = np.arange(3, 16 if FAST else 21)
direct, bq = np.array([co.state_count_formula(int(n)) for n in ns], dtype=float).T
fig, ax = plt.subplots(figsize=figsize(1.3, 0.65))
ax.semilogy(ns, direct, "o-", label="direct MDP (partial tours)")
ax.semilogy(ns, bq, "s-", label="BQ-MDP (sub-instances)")
checked = ns[ns <= (7 if FAST else 9)]
counted = np.array([co.count_states(co.random_tsp(int(n), seed=1)) for n in checked], dtype=float)
ax.semilogy(checked, counted[:, 0], "x", color="k", label="counted on a random instance")
ax.semilogy(checked, counted[:, 1], "x", color="k")
ax.set_xlabel("number of nodes $n$")
ax.set_ylabel("decision states")
ax.set_title("TSP: factorial vs exponential state spaces")
ax.legend()
plt.show()

# %% [markdown]
# ### Exercise 1 — how many states?
#
# Compute the pair (direct, BQ) of decision-state counts for a 7-node TSP from the two formulas above
# (`math.factorial` helps). The check compares with `co.count_states` on a random instance.

# %%
counts7 = None  # your answer: a tuple of two ints

# %%
check("Exercise 1", counts7, co.count_states(co.random_tsp(7, seed=3)), atol=0)

# %% [markdown]
# ## 2. Bisimulation, and the BQ-MDP as a quotient
#
# A partition of the states is a **bisimulation** (Givan, Dean & Greig 2003) if any two states $s \sim t$ in
# the same block have the same feasible actions, the same rewards $r(s, a) = r(t, a)$, and the same
# probability of moving into every block: $P(B \mid s, a) = P(B \mid t, a)$ for all blocks $B$. Bisimilar
# states have the same optimal value, so the **quotient MDP** (one state per block) has the same optimal
# policies. The *coarsest* bisimulation is found by refinement: start from one block, split blocks whose
# members have different (reward, block-transition) signatures, repeat until stable.
#
# For the TSP with generic distances the coarsest bisimulation of the direct MDP is *exactly* the BQ
# partition: two partial tours are bisimilar iff they end at the same node with the same unvisited set.

# %%
labels = co.coarsest_bisimulation(ex.mdp)
print(f"direct states: {ex.mdp.S}; coarsest bisimulation: {labels.max() + 1} blocks")
print("equal to the BQ partition:", co.same_partition(labels, co.bq_partition(ex)))
quot = co.quotient(ex.mdp, labels)
print("quotient MDP:", quot)
value_direct = mdpkit.backward_induction(ex.finite()).value
length, tour = co.solve_tsp(inst)  # Held-Karp = exact DP on the BQ-MDP
print(f"optimal return of the direct MDP {value_direct:.6f}; Held-Karp tour length {length:.6f}, tour {tour}")

# %% [markdown]
# Held-Karp's table $V(j, U)$ (shortest path from $j$ through $U$ back to 0) is precisely the optimal value
# function of the BQ-MDP, so the exact DP costs $O(n^2 2^n)$ instead of $O(n!)$. Below, an optimal tour
# of a larger instance next to the nearest-neighbour heuristic.

# %%
n_big = 10 if FAST else 14
big = co.random_tsp(n_big, seed=2)
best_len, best_tour = co.solve_tsp(big)
nn_len, nn_tour = co.nearest_neighbour(big.dist)
fig, axes = plt.subplots(1, 2, figsize=figsize(2, 0.42))
for ax, (name, L, tr), color in zip(
    axes,
    (("Held-Karp (optimal)", best_len, best_tour), ("nearest neighbour", nn_len, nn_tour)),
    PALETTE[:2],
    strict=True,
):
    xy = big.coords[tr + tr[:1]]
    ax.plot(xy[:, 0], xy[:, 1], "-o", color=color)
    ax.plot(*big.coords[0], "s", color="k", ms=7, label="start (node 0)")
    ax.set_title(f"{name}: length {L:.3f}")
    ax.set_aspect("equal")
    ax.set_xlabel("$x$")
axes[0].set_ylabel("$y$")
axes[0].legend(loc="lower left")
plt.show()

# %% [markdown]
# ### Exercise 2 — how many partial tours share a BQ state?
#
# In the 6-node instance `inst`, how many direct states (partial tours) are merged into the BQ state
# reached by the partial tour $(0, 1, 2, 3)$ (current node 3, nodes 4 and 5 unvisited)? Count by reasoning;
# the check counts the direct states with that BQ key in `ex.keys`.

# %%
merged = None  # your answer: an int

# %%
key = co.bq_state(inst, (1, 2, 3))
check("Exercise 2", merged, sum(k == key for k in ex.keys), atol=0)

# %% [markdown]
# ## 3. The knapsack: the BQ partition is not always the coarsest
#
# For the 0/1 knapsack the BQ state is (remaining items that still fit, remaining capacity). That is a
# bisimulation, but the remaining capacity matters only through *which sets of items still fit*: two
# different capacities that admit the same futures are bisimilar too. The coarsest bisimulation can
# therefore be strictly coarser than the BQ partition.

# %%
rows = []
for seed in range(4 if FAST else 12):
    kp = co.random_kp(6, seed=seed, integer=10)
    ek = co.direct_mdp(kp)
    lab = co.coarsest_bisimulation(ek.mdp)
    bqp = co.bq_partition(ek)
    assert co.is_bisimulation(ek.mdp, bqp)
    exact = co.solve_knapsack(kp.values, kp.weights, kp.capacity)[0]
    assert np.isclose(mdpkit.backward_induction(ek.finite()).value, exact)
    rows.append((ek.mdp.S, bqp.max() + 1, lab.max() + 1))
rows = np.array(rows)
fig, ax = plt.subplots(figsize=figsize(1.3, 0.6))
x = np.arange(len(rows))
names = ("direct MDP", "BQ partition", "coarsest bisimulation")
for i, (name, color) in enumerate(zip(names, PALETTE, strict=False)):
    ax.bar(x + (i - 1) * 0.27, rows[:, i], width=0.27, color=color, label=name)
ax.set_yscale("log")
ax.set_xlabel("random knapsack instance (6 items, integer weights)")
ax.set_ylabel("number of states (blocks)")
ax.set_title("Knapsack: the BQ partition vs the coarsest bisimulation")
ax.set_ylim(top=rows.max() * 12)
ax.legend(ncol=3, loc="upper center")
plt.show()

# %% [markdown]
# ### Exercise 3 — a knapsack by brute force
#
# For the instance `kp3 = co.random_kp(8, seed=5, integer=20)`, find the optimal value by enumerating all
# $2^8$ item subsets (`itertools.combinations` or bit masks). The check compares with `co.solve_knapsack`,
# the exact DP on the BQ-MDP.

# %%
kp3 = co.random_kp(8, seed=5, integer=20)
best_value = None  # your answer: a float

# %%
check("Exercise 3", best_value, co.solve_knapsack(kp3.values, kp3.weights, kp3.capacity)[0])

# %% [markdown]
# ## Solutions

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 1
n = 7
counts7 = (
    sum(math.factorial(n - 1) // math.factorial(n - 1 - t) for t in range(n)),
    1 + (n - 1) * 2 ** (n - 2),
)
print(counts7)
check("Exercise 1", counts7, co.count_states(co.random_tsp(7, seed=3)), atol=0)

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 2: the visited nodes {1, 2} before ending at 3 can come in 2! orders
merged = math.factorial(2)
check("Exercise 2", merged, sum(k == key for k in ex.keys), atol=0)

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 3
best_value = max(
    kp3.values[list(c)].sum()
    for r in range(len(kp3.values) + 1)
    for c in itertools.combinations(range(len(kp3.values)), r)
    if kp3.weights[list(c)].sum() <= kp3.capacity
)
check("Exercise 3", best_value, co.solve_knapsack(kp3.values, kp3.weights, kp3.capacity)[0])
