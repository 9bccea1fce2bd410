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
# # 1. MDP basics: Bellman operators, three exact solvers, contraction and certificates
#
# **Learning goals.** After this notebook you can
#
# 1. write the Bellman operators $T^\pi$ and $T$ of a tabular MDP as array code, and evaluate a policy by
#    one linear solve;
# 2. solve a discounted MDP with value iteration, policy iteration and linear programming in `mdpkit`, and
#    explain why the three agree;
# 3. *see* that $T$ is a $\gamma$-contraction: $\|T^k V - V^*\|_\infty \le \gamma^k \|V - V^*\|_\infty$;
# 4. read the certified error bound that comes with every `mdpkit` solution;
# 5. connect the discounted value to the average reward (gain) as $\gamma \to 1$.
#
# Each section ends with an exercise; the cell after it checks your answer against `mdpkit`'s exact result.
# Answers left as `None` are skipped, and the solutions at the end of the notebook are checked the same way.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import mdpkit
from mdpkit.plotting import PALETTE, STYLE, figsize
from mdpkit.teaching import check

FAST = os.environ.get("MDPKIT_FAST", "0") == "1"  # small sizes for CI
plt.rcParams.update({**STYLE, "figure.dpi": 120})


# %% [markdown]
# ## 1. A tabular MDP
#
# A discounted MDP is $(\mathcal S, \mathcal A, P, r, \gamma)$ with $P[s, a, s'] = \Pr(s_{t+1} = s' \mid
# s_t = s, a_t = a)$ and rewards $r[s, a]$. In `mdpkit` it is a `TabularMDP` holding exactly these arrays.
# Our running example is **RiverSwim** (Strehl & Littman 2008): a chain of $n$ states; swimming *left*
# (action 0) is safe and earns a small reward $0.005$ on the left bank; swimming *right* (action 1) fights the
# current and succeeds only with probability $0.35$, but the right bank pays $1$ per step.

# %%
mdp = mdpkit.envs.riverswim(6, gamma=0.95)
print(mdp)
print("P has shape", mdp.P.shape, "- R has shape", mdp.R.shape)
print("P[2, 1, :] (swim right from state 2) =", mdp.P[2, 1])
print("R =\n", mdp.R)

# %% [markdown]
# ## 2. Bellman operators
#
# For a stationary policy $\pi$ (here deterministic, an int per state) let $r_\pi(s) = r(s, \pi(s))$ and
# $P_\pi(s, s') = P(s' \mid s, \pi(s))$. The **policy operator** and the **optimality operator** are
#
# $$ (T^\pi V)(s) = r_\pi(s) + \gamma \sum_{s'} P_\pi(s, s') V(s'), \qquad
#    (T V)(s) = \max_a \Big[ r(s, a) + \gamma \sum_{s'} P(s' \mid s, a) V(s') \Big]. $$
#
# $V^\pi$ is the unique fixed point of $T^\pi$, i.e. the solution of the linear system
# $(I - \gamma P_\pi) V^\pi = r_\pi$; $V^*$ is the unique fixed point of $T$. In numpy both operators are one
# line each.


# %%
def T(mdp, V):
    """Optimality operator: returns (TV, greedy policy)."""
    Q = mdp.R + mdp.gamma * mdp.P @ V  # (S, A, S) @ (S,) -> (S, A)
    return Q.max(axis=1), Q.argmax(axis=1)


def T_pi(mdp, V, pi):
    """Policy operator of a deterministic policy pi (int array of shape (S,))."""
    s = np.arange(mdp.S)
    return mdp.R[s, pi] + mdp.gamma * mdp.P[s, pi] @ V


sol = mdpkit.solve(mdp, method="pi")
TV, greedy = T(mdp, sol.V)
print("V*             =", np.round(sol.V, 4))
print(
    "||T V* - V*||  =",
    np.abs(TV - sol.V).max(),
    "; mdpkit.bellman_residual:",
    mdpkit.bellman_residual(mdp, sol.V),
)
print("greedy(V*)     =", greedy, "= sol.policy", sol.policy)
print("||T^pi* V* - V*|| =", np.abs(T_pi(mdp, sol.V, sol.policy) - sol.V).max())

# %% [markdown]
# ### Exercise 1 — evaluate a policy by one linear solve
#
# Let `left = np.zeros(6, dtype=int)` be the policy that always swims left. Compute $V^{\text{left}}$ by
# solving $(I - \gamma P_\pi) V = r_\pi$ with `np.linalg.solve` (build $P_\pi$ and $r_\pi$ with fancy
# indexing as in `T_pi`). The check compares with `mdpkit.evaluate(mdp, left).V`.

# %%
left = np.zeros(mdp.S, dtype=int)
V_left = None  # your answer: an array of shape (6,)

# %%
check("Exercise 1", V_left, mdpkit.evaluate(mdp, left).V)

# %% [markdown]
# ## 3. Three exact solvers that agree
#
# * **Value iteration** (VI) iterates $V_{k+1} = T V_k$.
# * **Policy iteration** (PI) alternates exact evaluation $V_k = (I - \gamma P_{\pi_k})^{-1} r_{\pi_k}$ and
#   greedy improvement $\pi_{k+1} = \mathrm{greedy}(V_k)$; it stops at a policy that is its own greedy
#   policy, which is optimal.
# * **Linear programming** (LP): $V^*$ is the smallest $V$ with $V \ge T V$, i.e.
#   $\min_V \sum_s V(s)$ s.t. $V(s) \ge r(s, a) + \gamma P(\cdot \mid s, a)^\top V$ for all $(s, a)$.
#
# `mdpkit.solve(mdp, method=...)` runs any of them (plus modified PI, `"mpi"`), and returns a `Solution`
# with the values, a greedy policy, the iteration count and a certified error bound.

# %%
methods = ["vi", "pi", "mpi", "lp"]
sols = {m: mdpkit.solve(mdp, method=m, tol=1e-10) for m in methods}
print(f"{'method':>6} {'iterations':>10} {'max |V - V_pi|':>15} {'error bound':>12}  policy")
for m, s in sols.items():
    gap = np.abs(s.V - sols["pi"].V).max()
    print(f"{m:>6} {s.iterations:>10} {gap:>15.2e} {s.error_bound:>12.1e}  {s.policy}")

# %% [markdown]
# All four return the same policy ("always swim right") and values that agree to $10^{-10}$. PI needs a
# handful of (expensive) iterations, VI many cheap ones.
#
# ## 4. Contraction, seen on a plot
#
# For any $U, V$: $\|TU - TV\|_\infty \le \gamma \|U - V\|_\infty$ (a max of $\gamma$-weighted averages
# cannot move further than $\gamma$ times the largest difference). With $U = V^* = T V^*$ and induction,
#
# $$ \|T^k V_0 - V^*\|_\infty \le \gamma^k \, \|V_0 - V^*\|_\infty . $$
#
# `mdpkit.value_iteration` takes a `callback(k, v, policy)` called after every sweep with $v = T^k V_0$;
# we use it to record the error of each iterate. We run VI on a random GARNET MDP too (Archibald et al.
# 1995: each $(s, a)$ has a few random successors), and at two discount factors.


# %%
def vi_errors(mdp, tol=1e-9):
    """Sup-norm and span of T^k V0 - V* for k = 1, 2, ... (V0 = 0), and ||V*||."""
    v_star = mdpkit.solve(mdp, method="pi").V
    sup, span = [], []

    def record(k, v, pi):
        sup.append(np.abs(v - v_star).max())
        span.append(np.ptp(v - v_star))

    mdpkit.value_iteration(mdp, tol=tol, callback=record)
    return np.array(sup), np.array(span), np.abs(v_star).max()


S_garnet = 30 if FAST else 200
instances = {
    "RiverSwim(6), $\\gamma$=0.9": mdpkit.envs.riverswim(6, gamma=0.9),
    "RiverSwim(6), $\\gamma$=0.95": mdpkit.envs.riverswim(6, gamma=0.95),
    f"GARNET(S={S_garnet}), $\\gamma$=0.95": mdpkit.envs.garnet(S_garnet, 4, 3, gamma=0.95, seed=0),
}
fig, (ax, ax2) = plt.subplots(1, 2, figsize=figsize(2, 0.45))
for (name, m), color in zip(instances.items(), PALETTE, strict=False):
    sup, span, e0 = vi_errors(m)
    k = np.arange(1, sup.size + 1)
    ax.semilogy(k, sup, color=color, label=name)
    ax.semilogy(k, m.gamma**k * e0, ":", color=color, linewidth=2.2)
    ax2.semilogy(k, span, color=color, label=name)
ax.plot([], [], ":", color="0.3", linewidth=2.2, label=r"bound $\gamma^k\|V_0 - V^*\|_\infty$")
ax.set_xlabel("value-iteration sweep $k$")
ax.set_ylabel(r"$\|T^k V_0 - V^*\|_\infty$")
ax.set_title(r"sup-norm error vs the $\gamma^k$ bound ($V_0 = 0$)")
ax.legend()
ax2.set_xlabel("value-iteration sweep $k$")
ax2.set_ylabel(r"$\mathrm{sp}(T^k V_0 - V^*)$")
ax2.set_title("span of the error (what VI's stopping rule sees)")
plt.show()

# %% [markdown]
# Left: every solid curve stays below its dotted bound $\gamma^k \|V_0 - V^*\|_\infty$, and the sup-norm
# error decays at exactly the rate $\gamma$: the constant part of the error shrinks by exactly $\gamma$ per
# sweep. Right: the *span* of the error (the error up to a constant) shrinks much faster on the well-mixing
# GARNET model than on the slowly mixing river. VI's stopping rule, described in Section 5, works with spans,
# which is why each curve ends long before $\gamma^k$ is tiny.
#
# ### Exercise 2 — how many sweeps does the bound promise?
#
# Using only the contraction bound, the smallest $k$ with $\gamma^k \|V^*\|_\infty \le \varepsilon$ guarantees
# $\|T^k 0 - V^*\|_\infty \le \varepsilon$. For RiverSwim(6) with $\gamma = 0.95$ and $\varepsilon = 10^{-6}$,
# compute this $k$ (an int; use `sols["pi"].V`).

# %%
eps = 1e-6
k_bound = None  # your answer: an int

# %%
check("Exercise 2", k_bound, int(np.ceil(np.log(eps / np.abs(sols["pi"].V).max()) / np.log(0.95))), atol=0)

# %% [markdown]
# ## 5. Certified error bounds
#
# How does VI know when to stop without knowing $V^*$? With $\Delta = T v - v$, monotonicity of $T$ gives the
# bracket (Puterman 1994, Prop. 6.6.5 and Thm 6.6.6)
#
# $$ v + \frac{\min_s \Delta(s)}{1 - \gamma} \;\le\; V^{\pi} \le V^*
#    \;\le\; v + \frac{\max_s \Delta(s)}{1 - \gamma} \qquad (\pi = \mathrm{greedy}(v)), $$
#
# so $\|V^\pi - V^*\|_\infty \le \mathrm{sp}(Tv - v)/(1-\gamma)$, where $\mathrm{sp}(x) = \max x - \min x$.
# `Solution.error_bound` is this bracket (plus a worst-case floating-point term), and VI stops once it is
# below `tol`. Let us check that the bound is never violated, by evaluating the returned policy exactly.

# %%
tols = np.logspace(-1, -10, 6 if FAST else 10)
rows = []
for tol in tols:
    s = mdpkit.solve(mdp, method="vi", tol=tol)
    true_err = np.abs(mdpkit.evaluate(mdp, s.policy).V - sols["pi"].V).max()
    v_err = np.abs(s.V - sols["pi"].V).max()
    rows.append((tol, s.iterations, s.error_bound, v_err, true_err))
    assert true_err <= s.error_bound and v_err <= s.error_bound / 2 + s.rounding
rows = np.array(rows)
fig, ax = plt.subplots(figsize=figsize(1.3, 0.7))
ax.loglog(rows[:, 0], rows[:, 2], "o-", label="certified bound (error_bound)")
ax.loglog(rows[:, 0], np.maximum(rows[:, 3], 1e-17), "s--", label=r"actual $\|V - V^*\|_\infty$")
ax.loglog(rows[:, 0], rows[:, 0], ":", color="0.5", label="tol")
ax.set_xlabel("requested tol")
ax.set_ylabel("sup-norm error")
ax.set_title("VI: the span bound certifies the answer")
ax.invert_xaxis()
ax.legend()
plt.show()
print("sweeps per tol:", rows[:, 1].astype(int))

# %% [markdown]
# The returned greedy policy is optimal at every tolerance here (its true error is 0 and not drawn), and the
# value error stays below the certificate. Because the span ignores constant offsets, it shrinks faster than
# the sup-norm error: at tol = 1e-10 VI stops after ~100 sweeps instead of the ~490 that the contraction
# bound of Exercise 2 asks for.
#
# ## 6. Average reward, briefly
#
# Without discounting, the natural objective is the **gain** $\rho^\pi = \lim_{T\to\infty}
# \frac1T \mathbb E \sum_{t<T} r_t$. For communicating models the optimal gain $\rho^*$ is the same in every
# state and solves, with a *bias* $h^*$,
#
# $$ \rho^* + h^*(s) = \max_a \Big[ r(s, a) + \sum_{s'} P(s' \mid s, a) h^*(s') \Big]. $$
#
# The discounted value connects to it through the Laurent expansion
# $V^*_\gamma = \frac{\rho^*}{1-\gamma} + h + O(1-\gamma)$, with $h$ the bias of a Blackwell-optimal policy
# (Puterman 1994, §8.2 and §10.1), so
# $(1-\gamma) V^*_\gamma(s) \to \rho^*$. Notebook 3 uses the gain as the benchmark of regret.

# %%
avg = mdpkit.average_reward(mdp)
print(f"optimal gain rho* = {avg.gain:.6f} (certified in [{avg.gain_lower:.12f}, {avg.gain_upper:.12f}])")
print(f"span of the bias sp(h*) = {avg.span:.4f}; gain-optimal policy {avg.policy}")
gammas = 1 - np.logspace(-0.5, -3 if FAST else -4, 8 if FAST else 16)
scaled = np.array([(1 - g) * mdpkit.solve(mdp.with_gamma(g), method="pi").V for g in gammas])
fig, ax = plt.subplots(figsize=figsize(1.3, 0.7))
for s, color in zip([0, 3, 5], PALETTE, strict=False):
    ax.semilogx(1 - gammas, scaled[:, s], "o-", color=color, label=f"$(1-\\gamma)V^*_\\gamma(s={s})$")
ax.axhline(avg.gain, color="k", linestyle=":", label=r"$\rho^*$")
ax.set_xlabel(r"$1 - \gamma$")
ax.set_ylabel("scaled value")
ax.set_title(r"$(1-\gamma)V^*_\gamma \to \rho^*$ as $\gamma \to 1$")
ax.invert_xaxis()
ax.legend()
plt.show()

# %% [markdown]
# ### Exercise 3 — the gain of a policy from its stationary distribution
#
# Under the optimal policy the RiverSwim chain $P_{\pi^*}$ is irreducible, so the gain is
# $\rho^{\pi^*} = d^\top r_{\pi^*}$, where $d$ is the stationary distribution ($d^\top P_{\pi^*} = d^\top$,
# $\sum_s d(s) = 1$). Compute it (hint: `mdp.transition_matrix(pi)`, `mdp.reward_vector(pi)`, and the left
# eigenvector of eigenvalue 1, or a least-squares solve). The check compares with `mdpkit.average_reward`.

# %%
rho_answer = None  # your answer: a float

# %%
check("Exercise 3", rho_answer, avg.gain, atol=1e-9)

# %% [markdown]
# ## Solutions
#
# Each solution cell fills in the answer and runs the same check.

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 1
s = np.arange(mdp.S)
P_left, r_left = mdp.P[s, left], mdp.R[s, left]
V_left = np.linalg.solve(np.eye(mdp.S) - mdp.gamma * P_left, r_left)
check("Exercise 1", V_left, mdpkit.evaluate(mdp, left).V)

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 2: gamma^k ||V*|| <= eps  <=>  k >= log(eps / ||V*||) / log(gamma)
k_bound = int(np.ceil(np.log(eps / np.abs(sols["pi"].V).max()) / np.log(mdp.gamma)))
print("k =", k_bound, "; VI at tol=1e-6 used", mdpkit.solve(mdp, method="vi", tol=eps).iterations, "sweeps")
check("Exercise 2", k_bound, int(np.ceil(np.log(eps / np.abs(sols["pi"].V).max()) / np.log(0.95))), atol=0)

# %% tags=["solution"] jupyter={"source_hidden": true}
# Exercise 3: solve d^T (I - P) = 0 with sum(d) = 1 as one least-squares system
P_opt, r_opt = mdp.transition_matrix(avg.policy), mdp.reward_vector(avg.policy)
M = np.vstack([(np.eye(mdp.S) - P_opt).T, np.ones(mdp.S)])
d = np.linalg.lstsq(M, np.r_[np.zeros(mdp.S), 1.0], rcond=None)[0]
rho_answer = float(d @ r_opt)
check("Exercise 3", rho_answer, avg.gain, atol=1e-9)
