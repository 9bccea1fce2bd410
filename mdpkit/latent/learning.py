r"""Optimistic learning in latent MDPs with the context revealed in hindsight (Zhou, Wang & Du, ICML 2023).

Setting (Zhou, Wang & Du 2023, "Horizon-Free and Variance-Dependent Reinforcement Learning for Latent Markov
Decision Processes", arXiv:2210.11604, section 3). An LMDP is a family of :math:`M` MDPs on shared
:math:`S`, :math:`A`, horizon :math:`H`, with mixing weights :math:`w`, initial distributions
:math:`\nu_m`, transitions :math:`P_m` and deterministic rewards :math:`R_m` (total episode reward
:math:`\le 1`). In episode :math:`k` a context :math:`m_k \sim w` is drawn and hidden; the agent plays
:math:`H` steps with a history-dependent policy :math:`\pi_k`; at the end of the episode :math:`m_k` is
revealed (*context in hindsight*), so visit counts :math:`N_m(s, a)` and :math:`N_m(s, a, s')` can be kept
per context. Regret: :math:`\mathrm{Regret}(K) = \sum_{k \le K} V^\star - V^{\pi_k}`, with :math:`V^\star`
the value of the optimal history-dependent policy, both computed exactly here.

What the agent knows. The mixing weights, the initial distributions and the (deterministic) rewards are
given to the agent; the transitions :math:`P_m` are learned. (The paper's difficulty, and its bound, are
about the transitions; rewards in the paper are deterministic, so one visit would reveal them.)

The framework (the paper's Algorithm 1, re-implemented from the paper's description; the retrieved text
did not include the pseudo-code, so constants below are ours and documented):

* counts per context, updated when the context is revealed at the end of the episode;
* **doubling updates**: the empirical model :math:`\hat P_m(\cdot \mid s, a)` of a pair is refreshed only
  when its count reaches twice the count at its last refresh (first refresh at the first visit), and the
  policy is re-planned only after a refresh: :math:`O(M S A \log K)` policies in all;
* an optimistic solver, run exactly on the history tree (see below), with
  :math:`\iota = 2 \ln(2 M S A H K / \delta)` (the paper's log term).

Two solvers, both computing *optimistic alpha vectors* :math:`\tilde\alpha_m(\tau)` (the value of the
remaining episode in context :math:`m` after history :math:`\tau`) by backward induction over histories,
with the action at :math:`\tau` chosen by the empirical belief
:math:`\hat b(m \mid \tau) \propto w_m \nu_m(s_1) \prod_t \hat P_m(s_{t+1} \mid s_t, a_t)\,
[r_t = R_m(s_t, a_t)]`:

.. math::

    \tilde Q_m(\tau, a) = R_m(s, a) + B_m(s, a, \tilde\alpha_m(\tau a \cdot)),\qquad
    a(\tau) = \arg\max_a \sum_m \hat b(m \mid \tau)\, \tilde Q_m(\tau, a),\qquad
    \tilde\alpha_m(\tau) = \min\bigl(1, \tilde Q_m(\tau, a(\tau))\bigr),

and optimistic value :math:`\tilde V = \sum_m w_m \sum_s \nu_m(s)\, \tilde\alpha_m(s)`.

* **value-optimistic** (:class:`ValueOptimistic`): :math:`B = \hat P \alpha + c\,(\sqrt{2\,
  \mathbb V(\hat P, \alpha)\,\iota / N} + \iota / N)`, a Bernstein bonus with the empirical variance
  :math:`\mathbb V(\hat P, \alpha) = \hat P(\alpha^2) - (\hat P \alpha)^2` of the alpha vector itself;
* **model-optimistic** (:class:`ModelOptimistic`): :math:`B = \max_{p \in \mathcal C} p^\top \alpha` over the
  entrywise empirical-Bernstein set :math:`\mathcal C = \{p \in \Delta_S : |p(s') - \hat P(s')| \le
  c\,(\sqrt{2 \hat P(s')(1 - \hat P(s'))\,\iota / N} + \iota / N)\}`, solved exactly by the greedy
  water-filling of the box-constrained simplex LP; next states never seen from :math:`(m, s, a)` carry the
  optimistic value 1.

Unvisited pairs (:math:`N_m(s, a) = 0`) get :math:`\tilde Q_m = 1` (and a uniform :math:`\hat P` for
belief tracking only). Actions are ranked by the *untruncated* optimistic values (an unvisited pair ranking
above every visited one) and the truncation :math:`\min(1, \cdot)` is applied to the chosen action's
values; ranking by the truncated values makes every action tie at 1 while the bonuses exceed 1, and the tie
rule (not the data) would then decide the exploration for thousands of episodes. A history the empirical
model gives probability 0 in every context restarts the belief at the prior (:math:`w`, filtered by the
observed reward).

What the optimistic planning problem is, and how it is solved. A model-optimistic solver in the sense of
the paper maximises :math:`V^\star(\tilde P)` over one model :math:`\tilde P` of the confidence set; with
history-dependent policies this is a non-convex polynomial program (each :math:`\tilde P_m(\cdot|s,a)`
appears in many path products). Here the optimistic model is chosen per history node and per context (a
history-rectangular relaxation whose set contains every single model of the confidence set), the contexts
being weighted by the empirical belief; the problem solved is the backward recursion above, and it is
solved *exactly*: histories with the same :math:`(h, s, \hat b)` have the same continuation and are merged
(beliefs compared after rounding to 12 decimals), so the tree becomes a DAG over :math:`(h, s, \hat b)`
nodes, expanded lazily from the histories actually met (:class:`BeliefPolicy`). Optimism
(:math:`\tilde V \ge V^\star`) is not assumed: the tests and the claim ``latent.optimism`` check it in
every episode. With the true :math:`P` and no bonus the same recursion is the exact optimal
history-dependent planner (:func:`belief_plan`); the tests match it to :math:`10^{-12}` with the
history-enumerating planner of :mod:`mdpkit.latent.planning`. Merging makes it scale much further than
enumeration when beliefs recur (e.g. :math:`H = 40` on the revealing family of
:mod:`mdpkit.latent.experiments`), and :class:`LatentLearningError` is raised beyond ``max_nodes``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mdpkit.errors import InvalidArgumentError, MdpkitError

__all__ = [
    "LatentLearningError",
    "LatentSpec",
    "BeliefPolicy",
    "belief_plan",
    "evaluate_belief_policy",
    "LatentAgent",
    "ValueOptimistic",
    "ModelOptimistic",
    "LatentRun",
    "run_latent",
    "AGENTS",
    "make_latent_agent",
    "iota",
]

_ROUND = 12
#: untruncated optimistic value of an unvisited pair: ranks it above every visited one
_UNVISITED = 1e6


class LatentLearningError(MdpkitError):
    """An optimistic plan or an exact evaluation grew beyond its node budget, or a run was misconfigured."""


# ---------------------------------------------------------------------------------------------------------
# model arrays
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatentSpec:
    r"""What a learning agent is told about an LMDP: sizes, horizon, weights, initial laws and rewards.

    Attributes
    ----------
    M, S, A, H : int
        Contexts, states, actions, horizon.
    weights : (M,) array
        Mixing weights :math:`w_m > 0`, summing to 1.
    initial : (M, S) array
        Initial distributions :math:`\nu_m`.
    R : (M, H, S, A) array
        Deterministic rewards :math:`R_{m,h}(s, a)` (time-homogeneous models are broadcast over ``h``).
    stationary : bool
        True when the transitions do not depend on the step (counts per ``(m, s, a)``; else per
        ``(m, h, s, a)``).
    reward_observed : bool
        Whether rewards are observed during the episode (they then enter the belief).
    """

    M: int
    S: int
    A: int
    H: int
    weights: np.ndarray
    initial: np.ndarray
    R: np.ndarray
    stationary: bool
    reward_observed: bool = True

    @classmethod
    def of(cls, lmdp: Any) -> LatentSpec:
        """The spec of a :class:`~mdpkit.latent.LatentMDP` (or an object with its attributes)."""
        P, R, w, nu, stationary = model_arrays(lmdp)
        M, H, S, A, _ = P.shape
        return cls(M, S, A, H, w, nu, R, stationary, bool(getattr(lmdp, "reward_observed", True)))


def model_arrays(lmdp: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    r"""``(P, R, w, nu, stationary)`` of an LMDP with the step axis made explicit.

    Parameters
    ----------
    lmdp : LatentMDP
        Object with ``P`` of shape (M, S, A, S) or (M, H, S, A, S), ``R`` of shape (M, S, A) or (M, H, S, A),
        ``H``, ``weights`` (M,) and ``initial`` (M, S) (or (S,), shared by all contexts).

    Returns
    -------
    P : (M, H, S, A, S) array
    R : (M, H, S, A) array
    w : (M,) array
    nu : (M, S) array
    stationary : bool
        Whether ``lmdp.P`` had no step axis.

    Raises
    ------
    InvalidArgumentError
        If the shapes disagree.
    """
    P = np.asarray(lmdp.P, dtype=np.float64)
    R = np.asarray(lmdp.R, dtype=np.float64)
    H = int(lmdp.H)
    stationary = bool(getattr(lmdp, "stationary", P.ndim == 4))
    if P.ndim == 4:
        P = np.broadcast_to(P[:, None], (P.shape[0], H, *P.shape[1:]))
    if P.ndim != 5 or P.shape[1] != H:
        raise InvalidArgumentError(
            f"P has shape {np.shape(lmdp.P)}; expected (M, S, A, S) or (M, {H}, S, A, S)"
        )
    M, _, S, A, _ = P.shape
    if R.ndim == 3:
        R = np.broadcast_to(R[:, None], (M, H, S, A))
    if R.shape != (M, H, S, A):
        raise InvalidArgumentError(f"R has shape {np.shape(lmdp.R)}; expected (M, S, A) or (M, H, S, A)")
    w = np.asarray(lmdp.weights, dtype=np.float64)
    nu = np.asarray(lmdp.initial, dtype=np.float64)
    if nu.ndim == 1:
        nu = np.broadcast_to(nu, (M, S))
    if w.shape != (M,) or nu.shape != (M, S):
        raise InvalidArgumentError(f"weights {w.shape} / initial {nu.shape} do not match M = {M}, S = {S}")
    return np.ascontiguousarray(P), np.ascontiguousarray(R), w.copy(), np.ascontiguousarray(nu), stationary


def iota(M: int, S: int, A: int, H: int, K: int, delta: float) -> float:
    r"""The paper's log term :math:`\iota = 2 \ln(2 M S A H K / \delta)` (section 3, notations).

    Parameters
    ----------
    M, S, A, H, K : int
        Contexts, states, actions, horizon, episodes.
    delta : float
        Confidence parameter in (0, 1).

    Returns
    -------
    float
    """
    if not 0.0 < float(delta) < 1.0:
        raise InvalidArgumentError(f"delta = {delta!r} must be in (0, 1)")
    return 2.0 * math.log(2.0 * M * S * A * H * K / float(delta))


# ---------------------------------------------------------------------------------------------------------
# the belief DP (exact planner, optimistic planners)
# ---------------------------------------------------------------------------------------------------------


def _greedy_box_simplex(p_hat: np.ndarray, radius: np.ndarray, alpha: np.ndarray) -> float:
    r""":math:`\max \{p^\top \alpha : p \in \Delta_S,\ |p - \hat p| \le \text{radius}\}` (exact, greedy).

    Start from the lower bounds :math:`\max(0, \hat p - r)` and pour the missing mass into the coordinates
    of largest :math:`\alpha` first, each up to :math:`\min(1, \hat p + r)`. The set is non-empty since it
    contains :math:`\hat p`.
    """
    lo = np.maximum(0.0, p_hat - radius)
    hi = np.minimum(1.0, p_hat + radius)
    p = lo.copy()
    rest = 1.0 - lo.sum()
    for j in np.argsort(-alpha, kind="stable"):
        if rest <= 0.0:
            break
        add = min(hi[j] - lo[j], rest)
        p[j] += add
        rest -= add
    return float(p @ alpha)


class BeliefPolicy:
    r"""A history-dependent policy given by a backward recursion over :math:`(h, s, \hat b)` nodes.

    The recursion (see the module docstring) uses a *tracking* model :math:`\bar P` (the true model for the
    exact planner, the frozen empirical model for the learners) to update the belief, and a per-context
    backup :math:`B_m` (``mode``): ``"exact"`` :math:`\bar P\alpha`, ``"value"`` :math:`\hat P\alpha` +
    Bernstein
    bonus, ``"model"`` :math:`\max_{p \in \mathcal C} p^\top\alpha`. Nodes are solved lazily and memoised.

    Parameters
    ----------
    P_track : (M, H, S, A, S) array
        Transition model used for belief tracking and (``mode="exact"``/``"value"``) for the backup.
    R : (M, H, S, A) array
        Rewards.
    weights : (M,) array
    initial : (M, S) array
    mode : {"exact", "value", "model"}
    counts : (M, H, S, A) array, optional
        Counts :math:`N` of the frozen estimate (``"value"``/``"model"``); 0 marks unvisited pairs.
    iota : float
        Log term (``"value"``/``"model"``).
    bonus_scale : float
        Factor :math:`c` of the confidence widths (1 = the formulas above).
    truncate : bool
        Apply :math:`\min(1, \cdot)` to the optimistic alpha vectors (the learners; never for ``"exact"``).
    max_nodes : int
        Budget of solved nodes; beyond it :class:`LatentLearningError` is raised.
    reward_observed : bool
        Whether observed rewards enter the belief (factor :math:`[R_m(s, a) = r]`).
    stationary : bool
        ``P_track`` and ``R`` do not depend on the step (the per-``(s, a)`` structure is shared by steps).
    """

    def __init__(
        self,
        P_track: np.ndarray,
        R: np.ndarray,
        weights: np.ndarray,
        initial: np.ndarray,
        mode: str = "exact",
        counts: np.ndarray | None = None,
        iota: float = 0.0,
        bonus_scale: float = 1.0,
        truncate: bool = False,
        max_nodes: int = 2_000_000,
        reward_observed: bool = True,
        stationary: bool = False,
    ) -> None:
        if mode not in ("exact", "value", "model"):
            raise InvalidArgumentError(f"mode = {mode!r} must be 'exact', 'value' or 'model'")
        self.P = P_track
        self.R = R
        self.w = np.asarray(weights, dtype=np.float64)
        self.nu = np.asarray(initial, dtype=np.float64)
        self.M, self.H, self.S, self.A, _ = P_track.shape
        self.mode = mode
        self.N = counts
        self.iota = float(iota)
        self.c = float(bonus_scale)
        self.truncate = bool(truncate)
        self.max_nodes = int(max_nodes)
        self.reward_observed = bool(reward_observed)
        self.stationary = bool(stationary)
        self._memo: dict[tuple, tuple[int, np.ndarray]] = {}
        self._struct: dict[tuple[int, int, int], list] = {}

    # -- beliefs -----------------------------------------------------------------------------------------
    def initial_belief(self, s: int) -> np.ndarray:
        r"""Initial belief :math:`\hat b(m \mid s_1) \propto w_m \nu_m(s_1)`.

        Parameters
        ----------
        s : int
            First state.

        Returns
        -------
        (M,) array
        """
        b = self.w * self.nu[:, s]
        tot = b.sum()
        return b / tot if tot > 0 else self.w.copy()

    def update(self, b: np.ndarray, h: int, s: int, a: int, r: float, s2: int) -> np.ndarray:
        r"""Belief after ``(s, a, r, s2)`` at step ``h``:
        :math:`\hat b'_m \propto \hat b_m \bar P_m(s_2 \mid s, a)
        [R_m(s, a) = r]`, restarted at :math:`w [R_m(s,a) = r]` when the history has probability 0."""
        match = self.R[:, h, s, a] == r if self.reward_observed else np.ones(self.M, dtype=bool)
        nb = b * self.P[:, h, s, a, s2] * match
        tot = nb.sum()
        if tot > 0:
            return nb / tot
        nb = self.w * match
        tot = nb.sum()
        return nb / tot if tot > 0 else self.w.copy()

    @staticmethod
    def _key(h: int, s: int, b: np.ndarray) -> tuple:
        return (h, s, np.round(b, _ROUND).tobytes())

    def _structure(self, h: int, s: int, a: int) -> list[tuple[np.ndarray, list[tuple[int, np.ndarray]]]]:
        """Reward groups of ``(h, s, a)``: ``[(group mask, [(s2, P[:, h, s, a, s2]) with support]), ...]``."""
        key = (0 if self.stationary else h, s, a)
        hit = self._struct.get(key)
        if hit is not None:
            return hit
        rewards = self.R[:, h, s, a] if self.reward_observed else np.zeros(self.M)
        out = []
        for r in np.unique(rewards):
            group = rewards == r
            col = self.P[:, h, s, a, :]
            succ = [
                (int(s2), np.ascontiguousarray(col[:, s2]))
                for s2 in range(self.S)
                if (col[group, s2] > 0).any()
            ]
            out.append((group, succ))
        self._struct[key] = out
        return out

    # -- backups -----------------------------------------------------------------------------------------
    def _backup(self, m: int, h: int, s: int, a: int, child: np.ndarray, known: np.ndarray) -> float:
        """Untruncated backup of context ``m`` at ``(h, s, a)`` (optimistic modes: visited pairs only)."""
        r = self.R[m, h, s, a]
        p = self.P[m, h, s, a]
        if self.mode == "exact":
            return float(r + p @ child)
        n = float(self.N[m, h, s, a])
        if self.mode == "value":
            mean = float(p @ child)
            var = max(0.0, float(p @ (child * child)) - mean * mean)
            return r + mean + self.c * (math.sqrt(2.0 * var * self.iota / n) + self.iota / n)
        alpha = np.where(known, child, 1.0)
        radius = self.c * (np.sqrt(2.0 * p * (1.0 - p) * self.iota / n) + self.iota / n)
        return r + _greedy_box_simplex(p, radius, alpha)

    # -- nodes ---------------------------------------------------------------------------------------------
    def node(self, h: int, s: int, b: np.ndarray) -> tuple[int, np.ndarray]:
        r"""``(action, alpha)`` at the node :math:`(h, s, \hat b)`, solved on first use and memoised.

        Parameters
        ----------
        h : int
            Step (0-based; ``h = H`` is terminal).
        s : int
            State.
        b : (M,) array
            Belief over contexts.

        Returns
        -------
        action : int
            :math:`\arg\max_a \sum_m \hat b_m \tilde Q_m(a)` (first maximiser).
        alpha : (M,) array
            :math:`\tilde\alpha_m` (0 for contexts of zero belief, which no decision below depends on).

        Raises
        ------
        LatentLearningError
            More than ``max_nodes`` nodes.
        """
        key = self._key(h, s, b)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        M, S, A = self.M, self.S, self.A
        if h == self.H:
            out = (0, np.zeros(M))
            self._memo[key] = out
            return out
        if len(self._memo) >= self.max_nodes:
            raise LatentLearningError(
                f"the belief DP reached its budget of {self.max_nodes} nodes "
                f"(H = {self.H}, S = {S}, A = {A}, "
                f"M = {M}); use a smaller instance or raise max_nodes"
            )
        active = b > 0
        exact = self.mode == "exact"
        best_a, best_v, best_q = 0, -np.inf, None
        for a in range(A):
            q = np.zeros(M)
            need = active.copy()
            if not exact:
                unvisited = self.N[:, h, s, a] <= 0
                q[active & unvisited] = _UNVISITED
                need &= ~unvisited
            if need.any():
                child = np.zeros((M, S))
                known = np.zeros((M, S), dtype=bool)
                for group, succ in self._structure(h, s, a):
                    gn = group & need
                    if not gn.any():
                        continue
                    lik = b * group
                    for s2, col in succ:
                        if not (col[gn] > 0).any():
                            continue
                        nb = lik * col
                        _, alpha = self.node(h + 1, s2, nb / nb.sum())
                        sel = (nb > 0) & group
                        child[sel, s2] = alpha[sel]
                        known[sel, s2] = True
                for m in np.flatnonzero(need):
                    q[m] = self._backup(int(m), h, s, a, child[m], known[m])
            v = float(b @ q)
            if v > best_v + 1e-13:
                best_a, best_v, best_q = a, v, q
        if self.truncate:
            best_q = np.minimum(best_q, 1.0)
        out = (best_a, best_q)
        self._memo[key] = out
        return out

    @property
    def n_nodes(self) -> int:
        """Number of nodes solved so far."""
        return len(self._memo)

    def value(self) -> float:
        r"""The recursion's value at the start: :math:`\sum_m w_m \sum_s \nu_m(s) \tilde\alpha_m(s)`."""
        total = 0.0
        for s in range(self.S):
            mass = self.w * self.nu[:, s]
            if mass.sum() <= 0:
                continue
            _, alpha = self.node(0, s, self.initial_belief(s))
            total += float(mass @ alpha)
        return total

    def act(self, history: Any) -> int:
        r"""Action after a history :math:`(s_0, a_0, r_0, \dots, s_t)`.

        Parameters
        ----------
        history : mdpkit.latent.History or (states, actions, rewards)
            ``len(states) == len(actions) + 1 == len(rewards) + 1``.

        Returns
        -------
        int
        """
        states, actions, rewards = history
        s = int(states[0])
        b = self.initial_belief(s)
        for h, a in enumerate(actions):
            s2 = int(states[h + 1])
            b = self.update(b, h, s, int(a), float(rewards[h]), s2)
            s = s2
        return self.node(len(actions), s, b)[0]

    # cursor protocol of mdpkit.latent (O(1) per step in LatentMDP.sample_episode)
    def start(self, s: int) -> tuple[int, int, np.ndarray]:
        """Cursor at the first step in state ``s``: ``(h, s, belief)``."""
        return (0, int(s), self.initial_belief(int(s)))

    def action_at(self, cursor: tuple[int, int, np.ndarray], t: int, s: int) -> int:
        """Action at a cursor (``t`` and ``s`` repeat the cursor's step and state)."""
        return self.node(cursor[0], cursor[1], cursor[2])[0]

    def advance(
        self, cursor: tuple[int, int, np.ndarray], a: int, r: float, s2: int
    ) -> tuple[int, int, np.ndarray]:
        """Cursor after ``(a, r, s2)``."""
        h, s, b = cursor
        return (h + 1, int(s2), self.update(b, h, s, int(a), float(r), int(s2)))


def belief_plan(lmdp: Any, max_nodes: int = 2_000_000) -> tuple[float, BeliefPolicy]:
    r"""The exact optimal history-dependent value and policy of an LMDP, by the belief DP with the true model.

    :math:`V^\star = \max_\pi \sum_m w_m V_m^\pi`, computed by backward induction over
    :math:`(h, s, b)` nodes with :math:`b(m \mid \tau) \propto w_m \nu_m(s_1) \prod_t P_m(s_{t+1} \mid s_t,
    a_t) [r_t = R_m(s_t, a_t)]` (histories with the same belief are merged, which is exact).

    Parameters
    ----------
    lmdp : LatentMDP
    max_nodes : int
        Node budget.

    Returns
    -------
    value : float
    policy : BeliefPolicy
    """
    P, R, w, nu, _ = model_arrays(lmdp)
    obs = bool(getattr(lmdp, "reward_observed", True))
    st = bool(np.all(P == P[:, :1]) and np.all(R == R[:, :1]))
    pol = BeliefPolicy(P, R, w, nu, mode="exact", max_nodes=max_nodes, reward_observed=obs, stationary=st)
    return pol.value(), pol


def evaluate_belief_policy(lmdp: Any, policy: BeliefPolicy, max_nodes: int = 2_000_000) -> float:
    r"""Exact value :math:`\sum_m w_m V_m^\pi` of a :class:`BeliefPolicy` in the true LMDP.

    For each context :math:`m` the pair (state, tracked belief) is a Markov chain under :math:`P_m` and the
    policy; its law is pushed forward step by step and the rewards :math:`R_m` collected. Exact (no
    sampling); the belief is the policy's own (empirical-model) belief, not the true one.

    Parameters
    ----------
    lmdp : LatentMDP
    policy : BeliefPolicy
    max_nodes : int
        Budget of distinct (state, belief) pairs per step and context.

    Returns
    -------
    float
    """
    P, R, w, nu, _ = model_arrays(lmdp)
    M, H, S, A, _ = P.shape
    total = 0.0
    for m in range(M):
        layer: dict[tuple, list] = {}
        for s in np.flatnonzero(nu[m] > 0):
            b = policy.initial_belief(int(s))
            layer[policy._key(0, int(s), b)] = [int(s), b, float(nu[m, s])]
        value = 0.0
        for h in range(H):
            nxt: dict[tuple, list] = {}
            for s, b, prob in layer.values():
                a, _ = policy.node(h, s, b)
                r = float(R[m, h, s, a])
                value += prob * r
                if h + 1 == H:
                    continue
                row = P[m, h, s, a]
                for s2 in np.flatnonzero(row > 0):
                    s2 = int(s2)
                    nb = policy.update(b, h, s, a, r, s2)
                    key = policy._key(h + 1, s2, nb)
                    hit = nxt.get(key)
                    if hit is None:
                        nxt[key] = [s2, nb, prob * float(row[s2])]
                    else:
                        hit[2] += prob * float(row[s2])
            if len(nxt) > max_nodes:
                raise LatentLearningError(
                    f"exact evaluation: {len(nxt)} (state, belief) pairs at step {h + 1} in context {m} "
                    f"exceed max_nodes = {max_nodes}"
                )
            layer = nxt
        total += float(w[m]) * value
    return total


# ---------------------------------------------------------------------------------------------------------
# agents
# ---------------------------------------------------------------------------------------------------------


def _check_positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value) > 0:
        raise InvalidArgumentError(f"{name} = {value!r} must be a positive number")
    return float(value)


class LatentAgent:
    r"""The framework of the paper's Algorithm 1: counts per context, doubling refreshes, optimistic planning.

    Subclasses fix the solver (``MODE``). The agent is deterministic (ties go to the smallest action), so a
    run is reproducible bit for bit from the environment seed.

    Parameters
    ----------
    spec : LatentSpec
        What the agent knows (sizes, weights, initial laws, rewards, whether ``P`` is stationary).
    K : int
        Number of episodes (enters :math:`\iota`).
    delta : float
        Confidence parameter.
    bonus_scale : float
        Factor :math:`c` of the confidence widths (1 = the formulas in the module docstring).
    max_nodes : int
        Node budget of each optimistic plan.

    Attributes
    ----------
    counts : (M, H', S, A, S) array
        Transition counts (``H' = 1`` for stationary models).
    refresh_log : list of (episode, m, h, s, a, n)
        Every refresh of an empirical estimate, with the count :math:`n` it was computed from.
    policy : BeliefPolicy
        The policy of the current episode (replaced after a refresh).
    optimistic_value : float
        Its optimistic value :math:`\tilde V`.
    n_plans : int
        Plans made so far (1 + the number of episodes that ended with a refresh).
    """

    MODE = "value"
    NAME = "latent-agent"

    def __init__(
        self,
        spec: LatentSpec,
        K: int,
        delta: float = 0.05,
        bonus_scale: float = 1.0,
        max_nodes: int = 2_000_000,
    ) -> None:
        if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 1:
            raise InvalidArgumentError(f"K = {K!r} must be a positive integer")
        self.spec = spec
        self.K = int(K)
        self.delta = float(delta)
        self.iota = iota(spec.M, spec.S, spec.A, spec.H, self.K, self.delta)
        self.bonus_scale = _check_positive(bonus_scale, "bonus_scale")
        self.max_nodes = int(max_nodes)
        Hc = 1 if spec.stationary else spec.H
        M, S, A = spec.M, spec.S, spec.A
        self.counts = np.zeros((M, Hc, S, A, S), dtype=np.int64)
        self._n_frozen = np.zeros((M, Hc, S, A), dtype=np.int64)
        self._p_frozen = np.zeros((M, Hc, S, A, S))
        self.refresh_log: list[tuple[int, int, int, int, int, int]] = []
        self.episode = 0
        self.n_plans = 0
        self._trajectory: list[tuple[int, int, int]] = []
        self._plan()

    # -- planning ------------------------------------------------------------------------------------------
    def _tracking_model(self) -> tuple[np.ndarray, np.ndarray]:
        sp = self.spec
        P = self._p_frozen.copy()
        unvisited = self._n_frozen == 0
        P[unvisited] = 1.0 / sp.S
        N = self._n_frozen
        if sp.stationary:
            P = np.broadcast_to(P, (sp.M, sp.H, sp.S, sp.A, sp.S))
            N = np.broadcast_to(N, (sp.M, sp.H, sp.S, sp.A))
        return np.ascontiguousarray(P), np.ascontiguousarray(N)

    def _plan(self) -> None:
        P, N = self._tracking_model()
        sp = self.spec
        self.policy = BeliefPolicy(
            P,
            sp.R,
            sp.weights,
            sp.initial,
            mode=self.MODE,
            counts=N,
            iota=self.iota,
            bonus_scale=self.bonus_scale,
            truncate=True,
            max_nodes=self.max_nodes,
            reward_observed=sp.reward_observed,
            stationary=sp.stationary and bool(np.all(sp.R == sp.R[:, :1])),
        )
        self.optimistic_value = self.policy.value()
        self.n_plans += 1

    # -- interaction ---------------------------------------------------------------------------------------
    def begin_episode(self, s: int) -> None:
        """Start an episode in state ``s``.

        Parameters
        ----------
        s : int
            The first state.
        """
        self._h = 0
        self._s = int(s)
        self._b = self.policy.initial_belief(self._s)
        self._trajectory = []

    def act(self) -> int:
        """The action at the current step (the policy of this episode at the current belief)."""
        return self.policy.node(self._h, self._s, self._b)[0]

    def observe(self, a: int, r: float, s2: int) -> None:
        """Record ``(s, a, r, s2)`` of the current step and update the belief.

        Parameters
        ----------
        a : int
            Action taken.
        r : float
            Reward observed.
        s2 : int
            Next state.
        """
        self._trajectory.append((self._s, int(a), int(s2)))
        self._b = self.policy.update(self._b, self._h, self._s, int(a), float(r), int(s2))
        self._s = int(s2)
        self._h += 1

    def end_episode(self, context: int) -> bool:
        """Context revealed: add the episode's transitions to the counts of ``context``; refresh the pairs
        whose count doubled since their last refresh and re-plan if any did.

        Parameters
        ----------
        context : int
            The context of the episode that just ended.

        Returns
        -------
        bool
            Whether the agent re-planned.
        """
        m = int(context)
        st = self.spec.stationary
        touched = set()
        for h, (s, a, s2) in enumerate(self._trajectory):
            hh = 0 if st else h
            self.counts[m, hh, s, a, s2] += 1
            touched.add((hh, s, a))
        refreshed = False
        for hh, s, a in sorted(touched):
            n = int(self.counts[m, hh, s, a].sum())
            n0 = int(self._n_frozen[m, hh, s, a])
            if n >= max(1, 2 * n0):
                self._n_frozen[m, hh, s, a] = n
                self._p_frozen[m, hh, s, a] = self.counts[m, hh, s, a] / n
                self.refresh_log.append((self.episode, m, hh, s, a, n))
                refreshed = True
        self.episode += 1
        if refreshed:
            self._plan()
        return refreshed

    @property
    def stats(self) -> dict:
        """Plans made, refreshes, nodes of the current plan."""
        return {"n_plans": self.n_plans, "n_refreshes": len(self.refresh_log), "nodes": self.policy.n_nodes}


class ValueOptimistic(LatentAgent):
    r"""Value-optimistic solver: empirical model plus the Bernstein bonus
    :math:`c(\sqrt{2\mathbb V(\hat P, \tilde\alpha)\iota/N} + \iota/N)` on each context's alpha vector."""

    MODE = "value"
    NAME = "value-optimistic"


class ModelOptimistic(LatentAgent):
    r"""Model-optimistic solver: per node and context, the best next-state law in the entrywise
    empirical-Bernstein set
    :math:`|p(s') - \hat P(s')| \le c(\sqrt{2\hat P(s')(1-\hat P(s'))\iota/N} + \iota/N)`."""

    MODE = "model"
    NAME = "model-optimistic"


AGENTS: dict[str, type[LatentAgent]] = {
    "value-optimistic": ValueOptimistic,
    "model-optimistic": ModelOptimistic,
}


def make_latent_agent(name: str, spec: LatentSpec, K: int, **params: Any) -> LatentAgent:
    """The agent ``name`` (a key of :data:`AGENTS`) for ``spec`` and ``K`` episodes.

    Parameters
    ----------
    name : str
    spec : LatentSpec
    K : int
    **params
        ``delta``, ``bonus_scale``, ``max_nodes``.

    Returns
    -------
    LatentAgent

    Raises
    ------
    InvalidArgumentError
        For an unknown name or parameter.
    """
    if name not in AGENTS:
        raise InvalidArgumentError(f"unknown latent agent {name!r}; known: {sorted(AGENTS)}")
    unknown = sorted(set(params) - {"delta", "bonus_scale", "max_nodes"})
    if unknown:
        raise InvalidArgumentError(f"latent agent {name!r} got unknown parameter(s) {unknown}")
    return AGENTS[name](spec, K, **params)


# ---------------------------------------------------------------------------------------------------------
# the episodic loop with exact regret
# ---------------------------------------------------------------------------------------------------------


@dataclass
class LatentRun:
    r"""One run of an agent for ``K`` episodes.

    Attributes
    ----------
    v_star : float
        :math:`V^\star`, the optimal history-dependent value.
    values : (K,) array
        :math:`V^{\pi_k}`, the exact value of the policy played in episode ``k``.
    optimistic : (K,) array
        The agent's optimistic value :math:`\tilde V_k` for the policy of episode ``k``.
    returns : (K,) array
        Realised episode returns.
    contexts : (K,) array
        The drawn contexts.
    n_plans : int
    wall_time, eval_time : float
        Seconds spent in the loop and in exact evaluation.
    """

    v_star: float
    values: np.ndarray
    optimistic: np.ndarray
    returns: np.ndarray
    contexts: np.ndarray
    n_plans: int
    wall_time: float = 0.0
    eval_time: float = 0.0
    stats: dict = field(default_factory=dict)

    def regret(self) -> np.ndarray:
        r"""Cumulative exact regret :math:`\sum_{j \le k} (V^\star - V^{\pi_j})`, shape (K,)."""
        return np.cumsum(self.v_star - self.values)

    def realized_regret(self) -> np.ndarray:
        r"""Cumulative :math:`\sum_{j \le k} (V^\star - G_j)` with realised returns :math:`G_j`."""
        return np.cumsum(self.v_star - self.returns)


def run_latent(
    lmdp: Any,
    agent: LatentAgent,
    K: int,
    seed: int | np.random.Generator = 0,
    v_star: float | None = None,
    max_nodes: int = 2_000_000,
) -> LatentRun:
    r"""Play ``K`` episodes of ``agent`` in ``lmdp`` with the context revealed at the end of each episode.

    Episode :math:`k`: :math:`m \sim w`, :math:`s_1 \sim \nu_m`, then for :math:`h < H`: the agent acts,
    :math:`r = R_{m,h}(s, a)`, :math:`s' \sim P_{m,h}(\cdot \mid s, a)`; finally ``agent.end_episode(m)``. The
    regret of episode :math:`k` is :math:`V^\star - V^{\pi_k}`, both exact (:func:`belief_plan`,
    :func:`evaluate_belief_policy`; each distinct policy is evaluated once).

    Parameters
    ----------
    lmdp : LatentMDP
    agent : LatentAgent
    K : int
        Episodes.
    seed : int or Generator
        Environment randomness.
    v_star : float, optional
        :math:`V^\star` if already known (else computed by :func:`belief_plan`).
    max_nodes : int
        Node budget of the exact computations.

    Returns
    -------
    LatentRun
    """
    P, R, w, nu, _ = model_arrays(lmdp)
    M, H, S, A, _ = P.shape
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    if v_star is None:
        v_star, _ = belief_plan(lmdp, max_nodes=max_nodes)
    eval_time = time.perf_counter() - t0
    values = np.empty(K)
    optimistic = np.empty(K)
    returns = np.empty(K)
    contexts = np.empty(K, dtype=np.int64)
    cum_w = np.cumsum(w)
    cum_nu = np.cumsum(nu, axis=1)
    cum_P = np.cumsum(P, axis=-1)
    current = None
    for k in range(K):
        if agent.policy is not current:
            current = agent.policy
            te = time.perf_counter()
            v_pi = evaluate_belief_policy(lmdp, current, max_nodes=max_nodes)
            eval_time += time.perf_counter() - te
        values[k] = v_pi
        optimistic[k] = agent.optimistic_value
        m = min(int(np.searchsorted(cum_w, rng.random(), side="right")), M - 1)
        s = min(int(np.searchsorted(cum_nu[m], rng.random(), side="right")), S - 1)
        agent.begin_episode(s)
        G = 0.0
        for h in range(H):
            a = agent.act()
            r = float(R[m, h, s, a])
            s2 = min(int(np.searchsorted(cum_P[m, h, s, a], rng.random(), side="right")), S - 1)
            G += r
            agent.observe(a, r, s2)
            s = s2
        returns[k] = G
        contexts[k] = m
        agent.end_episode(m)
    wall = time.perf_counter() - t0
    return LatentRun(
        float(v_star),
        values,
        optimistic,
        returns,
        contexts,
        agent.n_plans,
        wall,
        eval_time,
        dict(agent.stats),
    )
