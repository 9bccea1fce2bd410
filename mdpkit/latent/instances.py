r"""Instance families of latent MDPs: seeded random LMDPs and a :math:`\Gamma = 2` lower-bound family.

* :func:`random_lmdp` — M random contexts on shared S, A with rewards :math:`U[0,1]/H` (so every episode's
  total is at most 1 for any H), either noisy (Dirichlet rows on :math:`\Gamma` next states) or
  near-deterministic (one dominant next state of mass :math:`1 - \epsilon`); with the same S, A, M these
  vary :math:`\mathrm{Var}^*` (experiment (c) of issue #7).
* :func:`hard_instance` — a :math:`\Gamma = 2` family in the spirit of the lower bound of Zhou, Wang & Du
  (2023, §6, :math:`\Omega(\sqrt{\mathrm{Var}^* M S A K})`): the context is revealed by a deterministic
  chain of "bit" states, a fair binary tree of coin flips leads to one of L leaves, and at leaf
  :math:`\ell` the action :math:`a^*_{m,\ell}` reaches the rewarding state with probability
  :math:`1/2 + \epsilon` (:math:`1/2` otherwise), so a learner faces M·L independent A-armed Bernoulli
  bandits. The paper's exact construction could not be retrieved while writing this module; this family
  reproduces its ingredients (:math:`\Gamma = 2`, per-context hidden optimal actions, a reward ``scale``
  that sets :math:`\mathrm{Var}^* = \mathrm{scale}^2/4` exactly) and is documented as ours.
* :func:`signal_lmdp` — a genuinely latent family for the horizon-free check (experiment (b) of issue #7):
  no single transition reveals the context (all contexts share every support, rewards are not observed), so
  the optimal policy must track a belief for the whole episode; rewards :math:`u/H`, the same kernels and
  :math:`u` for every H. Ours, designed so that the learners' belief DAG stays small at H = 40.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from mdpkit.errors import InvalidArgumentError
from mdpkit.latent.model import LatentMDP, as_rng

__all__ = ["random_lmdp", "hard_instance", "HardInstance", "hard_instance_horizon", "signal_lmdp"]


def _pos_int(v: object, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or int(v) < 1:
        raise InvalidArgumentError(f"{name} = {v!r} must be a positive int")
    return int(v)


def random_lmdp(
    S: int,
    A: int,
    M: int,
    H: int,
    seed: int | np.random.Generator = 0,
    noise: float | None = None,
    support: int | None = None,
    initial: str = "fixed",
    weights: str = "uniform",
    stationary: bool = True,
    reward_observed: bool = True,
) -> LatentMDP:
    r"""A seeded random LMDP with total reward at most 1 for any horizon.

    Parameters
    ----------
    S, A, M, H : int
        States, actions, contexts, horizon.
    seed : int or Generator
        Randomness.
    noise : float or None
        ``None``: each row :math:`P_m(\cdot|s,a)` is Dirichlet(1) on a random support of size ``support``.
        A float :math:`\epsilon \in [0, 1]`: *near-deterministic* rows, mass :math:`1 - \epsilon` on one
        random next state and :math:`\epsilon` spread evenly over ``support - 1`` others
        (:math:`\epsilon = 0` is deterministic, :math:`\Gamma = 1`).
    support : int, optional
        Row support size :math:`\Gamma` (default S, clipped to S).
    initial : {"fixed", "uniform", "random"}
        ``fixed``: every context starts in state 0; ``uniform``: uniform over S; ``random``: Dirichlet(1) per
        context.
    weights : {"uniform", "random"}
        Mixing weights: uniform, or Dirichlet(1) (floored at 1e-3 and renormalised).
    stationary : bool
        Stationary kernels and rewards (default), or drawn independently per stage.
    reward_observed : bool
        Passed to :class:`LatentMDP`.

    Returns
    -------
    LatentMDP
        With :math:`R_{m,h}(s, a) \sim U[0, 1] / H`, hence :math:`\sum_h r_h \le 1`.
    """
    S, A, M, H = (_pos_int(v, n) for v, n in ((S, "S"), (A, "A"), (M, "M"), (H, "H")))
    rng = as_rng(seed)
    G = S if support is None else min(_pos_int(support, "support"), S)
    if noise is not None and not (0.0 <= float(noise) <= 1.0):
        raise InvalidArgumentError(f"noise = {noise!r} must be None or in [0, 1]")
    stages = 1 if stationary else H
    P = np.zeros((M, stages, S, A, S))
    for idx in np.ndindex(M, stages, S, A):
        supp = rng.choice(S, size=G, replace=False)
        if noise is None:
            P[idx][supp] = rng.dirichlet(np.ones(G))
        elif G == 1 or noise == 0:
            P[idx][supp[0]] = 1.0
        else:
            P[idx][supp[0]] = 1.0 - noise
            P[idx][supp[1:]] = noise / (G - 1)
    R = rng.uniform(size=(M, stages, S, A)) / H
    if initial == "fixed":
        mu = np.zeros((M, S))
        mu[:, 0] = 1.0
    elif initial == "uniform":
        mu = np.full((M, S), 1.0 / S)
    elif initial == "random":
        mu = rng.dirichlet(np.ones(S), size=M)
    else:
        raise InvalidArgumentError(f"initial = {initial!r} must be 'fixed', 'uniform' or 'random'")
    if weights == "uniform":
        w = np.full(M, 1.0 / M)
    elif weights == "random":
        w = np.maximum(rng.dirichlet(np.ones(M)), 1e-3)
        w /= w.sum()
    else:
        raise InvalidArgumentError(f"weights = {weights!r} must be 'uniform' or 'random'")
    if stationary:
        return LatentMDP(P[:, 0], R[:, 0], H, w, mu, reward_observed=reward_observed)
    return LatentMDP(P, R, H, w, mu, reward_observed=reward_observed)


class HardInstance(NamedTuple):
    """A member of the :math:`\\Gamma = 2` family: the model, the hidden good arms and the exact Var*."""

    lmdp: LatentMDP
    good_arms: np.ndarray  # (M, L)
    var_star: float  # scale^2 / 4
    optimal_value: float  # scale * (1/2 + eps)
    leaves: np.ndarray  # (L,) state index of each leaf


def hard_instance_horizon(M: int, L: int) -> int:
    """Smallest horizon of :func:`hard_instance`: bit chain, tree, leaf decision, reward step."""
    nb = math.ceil(math.log2(M)) if M > 1 else 0
    depth = math.ceil(math.log2(L)) if L > 1 else 0
    return (nb + 1 if nb else 0) + depth + 2


def hard_instance(
    M: int,
    L: int,
    A: int,
    eps: float = 0.1,
    scale: float = 1.0,
    H: int | None = None,
    seed: int | np.random.Generator = 0,
) -> HardInstance:
    r"""The :math:`\Gamma = 2` lower-bound family (module docstring).

    States: a start state and :math:`2 \lceil \log_2 M \rceil` bit states (context m follows its binary code,
    deterministically, so the history identifies m), a fair binary tree with L leaves (internal nodes move to
    each child with probability 1/2 whatever the action), the good state g (reward ``scale``), the bad state b
    (reward 0) and an absorbing zero-reward state z. At leaf :math:`\ell`,
    :math:`P_m(g|\ell, a) = 1/2 + \epsilon\,\mathbb 1[a = a^*_{m,\ell}]`, else b; g and b move to z.

    Then :math:`\Gamma = 2`, every return is 0 or ``scale``, :math:`V^* = \mathrm{scale}(1/2 + \epsilon)` and
    :math:`\mathrm{Var}^* = \mathrm{scale}^2/4` (a non-good arm has a fair coin; no policy does better
    since a Bernoulli variance is at most 1/4).

    Parameters
    ----------
    M : int
        Contexts.
    L : int
        Leaves (a power of 2).
    A : int
        Actions (>= 2).
    eps : float
        Gap in (0, 1/2].
    scale : float
        Reward of g, in (0, 1].
    H : int, optional
        Horizon (default and minimum :func:`hard_instance_horizon`); extra steps are spent in z.
    seed : int or Generator
        Draws the good arms :math:`a^*_{m,\ell}` uniformly.

    Returns
    -------
    HardInstance
    """
    M, L, A = _pos_int(M, "M"), _pos_int(L, "L"), _pos_int(A, "A")
    if L & (L - 1):
        raise InvalidArgumentError(f"L = {L} must be a power of 2")
    if A < 2:
        raise InvalidArgumentError(f"A = {A} must be at least 2")
    if not 0.0 < float(eps) <= 0.5:
        raise InvalidArgumentError(f"eps = {eps!r} must be in (0, 1/2]")
    if not 0.0 < float(scale) <= 1.0:
        raise InvalidArgumentError(f"scale = {scale!r} must be in (0, 1]")
    Hmin = hard_instance_horizon(M, L)
    H = Hmin if H is None else _pos_int(H, "H")
    if H < Hmin:
        raise InvalidArgumentError(f"H = {H} is below the minimum horizon {Hmin} for M={M}, L={L}")
    rng = as_rng(seed)
    nb = math.ceil(math.log2(M)) if M > 1 else 0
    n_bits = 1 + 2 * nb if nb else 0  # start + bit states
    tree0 = n_bits  # heap-indexed tree: node i has children 2i+1, 2i+2; leaves are i >= L - 1
    n_tree = 2 * L - 1
    g, b, z = tree0 + n_tree, tree0 + n_tree + 1, tree0 + n_tree + 2
    S = z + 1
    good = rng.integers(0, A, size=(M, L))
    P = np.zeros((M, S, A, S))
    R = np.zeros((M, S, A))
    for m in range(M):
        if nb:
            bits = [(m >> j) & 1 for j in range(nb)]
            P[m, 0, :, 1 + bits[0]] = 1.0
            for j in range(nb):
                here = 1 + 2 * j + bits[j]
                nxt = 1 + 2 * (j + 1) + bits[j + 1] if j + 1 < nb else tree0
                P[m, here, :, nxt] = 1.0
                other = 1 + 2 * j + (1 - bits[j])  # unreachable in context m: any valid row
                nxt_o = 1 + 2 * (j + 1) if j + 1 < nb else tree0
                P[m, other, :, nxt_o] = 1.0
        for i in range(L - 1):
            P[m, tree0 + i, :, tree0 + 2 * i + 1] = 0.5
            P[m, tree0 + i, :, tree0 + 2 * i + 2] = 0.5
        for ell in range(L):
            s = tree0 + L - 1 + ell
            P[m, s, :, g] = 0.5
            P[m, s, :, b] = 0.5
            P[m, s, good[m, ell], g] = 0.5 + eps
            P[m, s, good[m, ell], b] = 0.5 - eps
        P[m, g, :, z] = 1.0
        P[m, b, :, z] = 1.0
        P[m, z, :, z] = 1.0
        R[m, g, :] = scale
    mu = np.zeros((M, S))
    mu[:, 0] = 1.0
    lmdp = LatentMDP(P, R, H, np.full(M, 1.0 / M), mu)
    leaves = np.arange(tree0 + L - 1, tree0 + 2 * L - 1)
    return HardInstance(lmdp, good, scale**2 / 4.0, scale * (0.5 + eps), leaves)


def signal_lmdp(
    W: int,
    A: int,
    M: int,
    H: int,
    seed: int | np.random.Generator = 0,
    noise: float = 0.2,
) -> LatentMDP:
    r"""A latent "noisy signal" family: no transition reveals the context, beliefs must be tracked.

    States: a signal state 0 and :math:`W` work states :math:`1, \dots, W`; every context starts in 0. At the
    signal state, action 0 (*listen*) moves to work state :math:`1 + (m \bmod W)` with probability
    :math:`1 - \epsilon` and to each other work state with probability :math:`\epsilon / (W - 1)`, in
    context :math:`m`; every other action (*skip*) moves to work state 1 in every context; rewards at the
    signal state are 0. Every work state moves back to 0 whatever the action, in every context. Work-state
    rewards :math:`R_m(s, a) = u_m(s, a) / H`: per work state a random permutation :math:`\sigma_s` of the
    actions gives context :math:`m` the best action :math:`\sigma_s(m \bmod A)` with
    :math:`u \sim U[1/2, 1]` and the other actions :math:`u \sim U[0, 1/2)`, so with :math:`M \le A` the
    contexts disagree on the best action at every work state.

    Why it is latent (contrast :func:`mdpkit.latent.experiments.revealing_lmdp`). Every transition of
    positive probability in one context has positive probability in all contexts (for :math:`0 < \epsilon <
    1`), and rewards are not observed (``reward_observed=False``), so after any history the posterior
    :math:`b(m \mid \tau) \propto w_m \prod_t P_m(s_{t+1} \mid s_t, a_t)` is never a point mass unless it
    starts as one: with :math:`M = 2`, :math:`W = 2` it is a function of the counts of "agreeing" and
    "disagreeing" signals, and the best work-state action depends on it. The horizon enters only through
    the number of signal/work rounds (:math:`\lfloor H / 2 \rfloor`) and the reward scale :math:`1/H`.

    Properties: total reward of every episode at most :math:`\lfloor H/2 \rfloor / H \le 1/2` (work
    steps are the odd steps); :math:`\Gamma = W`
    (the listen rows); for a fixed ``seed`` the members with different :math:`H` share the kernels and
    :math:`u`. Few distinct likelihood ratios keep the belief DAG of the learners' *empirical* models small
    (about 5 000 nodes at :math:`H = 40`, :math:`W = A = M = 2`), whereas near-deterministic
    :func:`random_lmdp` instances, where each pair has its own empirical ratio, need :math:`3 \cdot 10^4`
    nodes per plan already at :math:`H = 20` (measured).

    Parameters
    ----------
    W : int
        Work states (>= 2).
    A : int
        Actions (>= 2: listen and at least one skip).
    M : int
        Contexts (uniform weights).
    H : int
        Horizon (>= 2: one signal and one work step).
    seed : int or Generator
        Draws the permutations :math:`\sigma_s` and the base rewards :math:`u`.
    noise : float
        Signal noise :math:`\epsilon \in (0, 1)`.

    Returns
    -------
    LatentMDP
        ``1 + W`` states, stationary kernels, uniform weights, start state 0, ``reward_observed=False``.

    Raises
    ------
    InvalidArgumentError
        ``W < 2``, ``A < 2``, ``H < 2``, a non-positive ``M`` or ``noise`` outside (0, 1).
    """
    W, A, M, H = (_pos_int(v, n) for v, n in ((W, "W"), (A, "A"), (M, "M"), (H, "H")))
    if W < 2:
        raise InvalidArgumentError(f"W = {W} must be at least 2 (the signal needs two outcomes)")
    if A < 2:
        raise InvalidArgumentError(f"A = {A} must be at least 2 (listen and skip)")
    if H < 2:
        raise InvalidArgumentError(f"H = {H} must be at least 2 (a signal step and a work step)")
    if isinstance(noise, bool) or not isinstance(noise, int | float | np.floating) or not 0.0 < noise < 1.0:
        raise InvalidArgumentError(f"noise = {noise!r} must be in (0, 1) (0 or 1 reveals the context)")
    rng = as_rng(seed)
    S = 1 + W
    P = np.zeros((M, S, A, S))
    u = np.zeros((M, S, A))
    for m in range(M):
        P[m, 0, 0, 1:] = noise / (W - 1)
        P[m, 0, 0, 1 + m % W] = 1.0 - noise
        P[m, 0, 1:, 1] = 1.0
        P[m, 1:, :, 0] = 1.0
    for s in range(1, S):
        sigma = rng.permutation(A)
        for m in range(M):
            u[m, s] = rng.uniform(0.0, 0.5, size=A)
            u[m, s, sigma[m % A]] = rng.uniform(0.5, 1.0)
    mu = np.zeros((M, S))
    mu[:, 0] = 1.0
    return LatentMDP(P, u / H, H, np.full(M, 1.0 / M), mu, reward_observed=False)
