r"""Exact planning in latent MDPs: dynamic programming over histories with alpha vectors.

With the context hidden, the optimal policy of an LMDP is history dependent (Kwon et al. 2021, §2). Let
:math:`\beta_m(\tau) = w_m \Pr(\tau \mid m)` be the joint probability of context :math:`m` and history
:math:`\tau_t = (s_0, a_0, r_0, \dots, s_t)` (see :mod:`mdpkit.latent.model` for the observation model). The
expected return of any policy from :math:`\tau` on, given the context, is its **alpha vector**

.. math:: \alpha^\pi_m(\tau_t) = R_{m,t}(s_t, a_t) + \sum_{s'} P_{m,t}(s'|s_t, a_t)\,
          \alpha^\pi_m(\tau_t\, a_t\, R_{m,t}(s_t, a_t)\, s'), \qquad a_t = \pi(\tau_t),

and the value of the history is :math:`\sum_m b_m(\tau)\, \alpha^\pi_m(\tau)` with the posterior
:math:`b \propto \beta`. The optimal value satisfies the Bellman equation over histories (unnormalised):

.. math:: W(\tau_t) = \max_a \Big[\sum_m \beta_m(\tau_t) R_{m,t}(s_t, a)
          + \sum_{(r, s')} W(\tau_t\, a\, r\, s')\Big], \qquad W(\tau_H) = 0,

and :math:`V^* = \sum_{s_0} W(s_0)` (the sum over observations :math:`(r, s')` of positive probability).
This is the "alpha-vector" DP of Zhou, Wang & Du (2023, §3.2 and Algorithm 1, where the planner is an
oracle) made exact by enumerating every history of positive probability.

Cost and limit. The tree has :math:`\sum_{t<H} |\mathcal S_0| (A B)^t` nodes in the worst case, with
:math:`B \le \min(S \cdot \#\text{rewards}, M \Gamma)` observations per action, i.e. it grows like
:math:`(S A)^H`. :func:`plan` builds it level by level and raises :class:`PlanningLimitError` **before
allocating** a level that would take the total beyond ``max_histories`` (default
:data:`DEFAULT_MAX_HISTORIES`; about :math:`8(6 + 3M + A)` bytes per history). Measured scaling is in the
report of issue #7 and in ``tests/latent/test_planning.py``.

References
----------
Zhou, Wang & Du (2023), *Horizon-Free and Variance-Dependent RL for Latent MDPs*, ICML, §3.2 (alpha vectors).
Kwon, Efroni, Caramanis & Mannor (2021), *RL for Latent MDPs*, NeurIPS, §2 (history-dependent optimality).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mdpkit.errors import InvalidArgumentError, InvalidPolicyError, MdpkitError
from mdpkit.latent import _numba as K
from mdpkit.latent.model import History, LatentMDP, MarkovLatentPolicy, as_latent_policy

__all__ = [
    "PlanningLimitError",
    "DEFAULT_MAX_HISTORIES",
    "HistoryPolicy",
    "LatentSolution",
    "ReturnMoments",
    "VarStar",
    "HistoryTree",
    "plan",
    "evaluate",
    "return_moments",
    "build_tree",
    "var_star",
    "qmdp_policy",
    "tree_policy",
    "brute_force",
]

#: Default cap on the number of histories (tree nodes) an exact computation may allocate.
DEFAULT_MAX_HISTORIES = 2_000_000

#: Observed rewards are matched to a policy tree's rewards within this absolute tolerance.
REWARD_MATCH_TOL = 1e-12


class PlanningLimitError(MdpkitError, MemoryError):
    """Exact planning would enumerate more histories than allowed (raised before allocating them).

    The message gives the level reached, the number of histories so far and the size of the next level.
    """


@dataclass
class _Level:
    state: np.ndarray  # (N,) int64
    ridx: np.ndarray  # (N,) incoming reward index (0 at the roots)
    beta: np.ndarray  # (N, M)
    z: np.ndarray  # (N, M) return so far per context
    parent: np.ndarray  # (N,) index in the previous level (-1 at roots)
    pact: np.ndarray  # (N,) incoming action (-1 at roots)
    off: np.ndarray | None = None  # (N*A + 1,) children ranges in the next level
    act: np.ndarray | None = None  # (N,) expanded action (-1 = all)


@dataclass
class HistoryTree:
    """Every history of positive probability of an LMDP (all actions), level by level.

    Attributes
    ----------
    levels : list
        ``levels[t]`` holds the histories :math:`\\tau_t` (arrays ``state``, ``beta`` (N, M), ``z`` (N, M),
        ``parent``, ``pact``, and ``off`` (N*A + 1) locating the children of each (node, action)).
    rid : ndarray (M, H, S, A)
        Index of :math:`R_{m,h}(s, a)` among the distinct rewards at ``(h, s, a)``.
    rvals : ndarray (H, S, A, M)
        The distinct rewards themselves (NaN padding).
    """

    lmdp: LatentMDP
    levels: list
    rid: np.ndarray
    rvals: np.ndarray

    @property
    def n_histories(self) -> int:
        """Total number of nodes (decision histories :math:`\\tau_0, \\dots, \\tau_{H-1}`)."""
        return int(sum(lv.state.shape[0] for lv in self.levels))


def _reward_index(lmdp: LatentMDP) -> tuple[np.ndarray, np.ndarray]:
    M, H, S, A = lmdp.M, lmdp.H, lmdp.S, lmdp.A
    R = np.asarray(lmdp.R)
    rid = np.zeros((M, H, S, A), dtype=np.int64)
    rvals = np.full((H, S, A, M), np.nan)
    if not lmdp.reward_observed:
        return rid, rvals
    # distinct values per (h, s, a), in order of first context
    for h in range(H):
        for s in range(S):
            for a in range(A):
                vals: list[float] = []
                for m in range(M):
                    r = float(R[m, h, s, a])
                    if r not in vals:
                        vals.append(r)
                    rid[m, h, s, a] = vals.index(r)
                rvals[h, s, a, : len(vals)] = vals
    return rid, rvals


def _check_limit(max_histories: object) -> int:
    if (
        isinstance(max_histories, bool)
        or not isinstance(max_histories, int | np.integer)
        or max_histories < 1
    ):
        raise InvalidArgumentError(f"max_histories = {max_histories!r} must be a positive int")
    return int(max_histories)


def _roots(lmdp: LatentMDP) -> _Level:
    p0 = lmdp.weights[:, None] * lmdp.initial  # (M, S)
    states = np.flatnonzero(p0.sum(axis=0) > 0).astype(np.int64)
    N = states.shape[0]
    return _Level(
        state=states,
        ridx=np.zeros(N, dtype=np.int64),
        beta=np.ascontiguousarray(p0[:, states].T),
        z=np.zeros((N, lmdp.M)),
        parent=np.full(N, -1, dtype=np.int64),
        pact=np.full(N, -1, dtype=np.int64),
    )


def _expand(
    lmdp: LatentMDP,
    P: np.ndarray,
    R: np.ndarray,
    rid: np.ndarray,
    t: int,
    lv: _Level,
    act: np.ndarray,
    total: int,
    max_histories: int,
    what: str,
) -> _Level:
    M, S, A = lmdp.M, lmdp.S, lmdp.A
    counts = K.count_children(P, rid, t, lv.state, lv.beta, act, M, S, A)
    n_next = int(counts.sum())
    if total + n_next > max_histories:
        per = 8 * (6 + 3 * M + A)
        raise PlanningLimitError(
            f"{what}: level t={t + 1} would hold {n_next} histories on top of {total} already built "
            f"(M={M}, S={S}, A={A}, H={lmdp.H}); the limit is max_histories={max_histories} "
            f"(about {per} bytes per history). Exact planning over histories grows like (S*A)^H: "
            f"reduce H, S or A, or raise max_histories if memory allows."
        )
    off = np.zeros(lv.state.shape[0] * A + 1, dtype=np.int64)
    np.cumsum(counts, out=off[1:])
    lv.off = off
    lv.act = act
    cstate, cridx, cbeta, cz = K.fill_children(P, R, rid, t, lv.state, lv.beta, lv.z, act, off, M, S, A)
    slot = np.repeat(np.arange(lv.state.shape[0] * A), counts)
    return _Level(state=cstate, ridx=cridx, beta=cbeta, z=cz, parent=slot // A, pact=slot % A)


def _arrays(lmdp: LatentMDP) -> tuple[np.ndarray, np.ndarray]:
    return np.ascontiguousarray(lmdp.P), np.ascontiguousarray(lmdp.R)


def build_tree(lmdp: LatentMDP, max_histories: int = DEFAULT_MAX_HISTORIES) -> HistoryTree:
    """Enumerate every history of positive probability under every action sequence.

    Parameters
    ----------
    lmdp : LatentMDP
        The model.
    max_histories : int
        Cap on the number of nodes (checked before each level is allocated).

    Returns
    -------
    HistoryTree

    Raises
    ------
    PlanningLimitError
        When the next level would take the tree beyond ``max_histories``.
    """
    if not isinstance(lmdp, LatentMDP):
        raise InvalidArgumentError(f"expected a LatentMDP, got {type(lmdp).__name__}")
    max_histories = _check_limit(max_histories)
    P, R = _arrays(lmdp)
    rid, rvals = _reward_index(lmdp)
    lv = _roots(lmdp)
    if lv.state.shape[0] > max_histories:
        raise PlanningLimitError(
            f"{lv.state.shape[0]} initial histories exceed max_histories={max_histories}"
        )
    levels = [lv]
    total = lv.state.shape[0]
    for t in range(lmdp.H - 1):
        act = np.full(lv.state.shape[0], -1, dtype=np.int64)
        lv = _expand(lmdp, P, R, rid, t, lv, act, total, max_histories, "exact planning")
        levels.append(lv)
        total += lv.state.shape[0]
    levels[-1].act = np.full(levels[-1].state.shape[0], -1, dtype=np.int64)
    levels[-1].off = np.zeros(levels[-1].state.shape[0] * lmdp.A + 1, dtype=np.int64)
    return HistoryTree(lmdp=lmdp, levels=levels, rid=rid, rvals=rvals)


def _backup(tree: HistoryTree, mode: int, c: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """Backward pass on the full tree; returns (sum of root values, best action per level)."""
    lmdp = tree.lmdp
    R = np.ascontiguousarray(lmdp.R)
    H, M, A = lmdp.H, lmdp.M, lmdp.A
    Vnext = np.zeros(0)
    best: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * H
    for t in range(H - 1, -1, -1):
        lv = tree.levels[t]
        V, b = K.backup_level(R, t, lv.state, lv.beta, lv.z, lv.off, Vnext, t == H - 1, mode, c, M, A)
        best[t] = b
        Vnext = V
    return float(Vnext.sum()), best


def _alphas(tree: HistoryTree, acts: list[np.ndarray]) -> list[np.ndarray]:
    """Alpha vectors (N_t, M) of every level under the per-node actions ``acts`` (NaN where beta = 0)."""
    lmdp = tree.lmdp
    P, R = _arrays(lmdp)
    H, M, A = lmdp.H, lmdp.M, lmdp.A
    out: list[np.ndarray] = [np.empty((0, M))] * H
    nxt = np.empty((0, M))
    for t in range(H - 1, -1, -1):
        lv = tree.levels[t]
        last = t == H - 1
        cst = tree.levels[t + 1].state if not last else np.empty(0, dtype=np.int64)
        crx = tree.levels[t + 1].ridx if not last else np.empty(0, dtype=np.int64)
        alpha = K.alpha_level(
            P, R, tree.rid, t, lv.state, lv.beta, acts[t], lv.off, cst, crx, nxt, last, M, A
        )
        out[t] = alpha
        nxt = alpha
    return out


# ---------------------------------------------------------------------------------------------- policies
@dataclass(frozen=True, eq=False)
class HistoryPolicy:
    r"""A deterministic history-dependent policy stored as a tree of the histories it can reach.

    Node ``n`` is a history :math:`\tau_t` (``depth[n] = t``) reachable under the policy in the model it
    was computed for; the policy plays ``action[n]`` there. Its children (the observations
    :math:`(r, s')` of positive probability after that action) are ``child_ptr[n] : child_ptr[n+1]`` with
    ``child_state``, ``child_reward`` (the reward value) and ``child_node``. Histories outside the tree
    (probability 0 in the planning model, e.g. when a learner's estimated model misses a transition) are
    played by the Markov ``fallback[t, s]``.

    Use :meth:`act` with a full :class:`~mdpkit.latent.model.History`, or the O(1)-per-step cursor:
    ``node = start(s0)``; ``a = action_at(node, t, s_t)``; ``node = advance(node, a, r, s_next)``.

    Attributes
    ----------
    alpha : ndarray (N, M)
        Alpha vectors :math:`\alpha_m(\tau)` in the planning model (NaN where :math:`\beta_m(\tau) = 0`).
    beta : ndarray (N, M)
        Joint probabilities :math:`w_m \Pr(\tau|m)` in the planning model; ``belief(n)`` normalises them.
    """

    H: int
    S: int
    A: int
    reward_observed: bool
    root: np.ndarray
    action: np.ndarray
    depth: np.ndarray
    child_ptr: np.ndarray
    child_state: np.ndarray
    child_reward: np.ndarray
    child_node: np.ndarray
    fallback: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    _meta: dict = field(default_factory=dict, repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of stored histories."""
        return int(self.action.shape[0])

    def start(self, s0: int) -> int:
        """Tree node of the initial history :math:`(s_0)` (``-1`` if outside the tree)."""
        return int(self.root[s0])

    def advance(self, node: int, action: int, reward: float, next_state: int) -> int:
        """Node of :math:`\\tau\\, a\\, r\\, s'` (``-1`` if the history leaves the tree)."""
        if node < 0 or int(self.action[node]) != int(action):
            return -1
        for k in range(int(self.child_ptr[node]), int(self.child_ptr[node + 1])):
            if int(self.child_state[k]) == int(next_state) and (
                not self.reward_observed
                or abs(float(self.child_reward[k]) - float(reward)) <= REWARD_MATCH_TOL
            ):
                return int(self.child_node[k])
        return -1

    def action_at(self, node: int, t: int, s: int) -> int:
        """Action at tree node ``node`` (step ``t``, state ``s``; the fallback if ``node < 0``)."""
        return int(self.action[node]) if node >= 0 else int(self.fallback[t, s])

    def node_of(self, history: History) -> int:
        """Tree node of a full history (``-1`` when it is outside the tree)."""
        states, actions, rewards = history
        node = self.start(int(states[0]))
        for i, a in enumerate(actions):
            node = self.advance(node, int(a), float(rewards[i]), int(states[i + 1]))
        return node

    def act(self, history: History) -> int:
        """The action after ``history = (states, actions, rewards)``."""
        states, actions, _ = history
        if len(actions) >= self.H or len(states) != len(actions) + 1:
            raise InvalidPolicyError(f"history of length t={len(actions)} does not fit horizon H={self.H}")
        return self.action_at(self.node_of(history), len(actions), int(states[-1]))

    def belief(self, node: int) -> np.ndarray:
        """Posterior over contexts at a tree node, in the planning model."""
        b = self.beta[node]
        return b / b.sum()


@dataclass(frozen=True)
class LatentSolution:
    """Result of :func:`plan`.

    Attributes
    ----------
    value : float
        Optimal value :math:`V^* = \\max_\\pi \\mathbb E_{m \\sim w}[\\sum_h R_m(s_h, a_h)]`.
    policy : HistoryPolicy
        An optimal deterministic history-dependent policy (first maximiser at ties).
    n_histories : int
        Number of histories the DP enumerated (all actions).
    context_values : ndarray (M,)
        :math:`\\mathbb E[\\sum_h r_h \\mid m]` of the optimal policy.
    """

    value: float
    policy: HistoryPolicy
    n_histories: int
    context_values: np.ndarray


def qmdp_policy(lmdp: LatentMDP) -> np.ndarray:
    r"""The Markov policy :math:`\arg\max_a \sum_m w_m Q^*_{m,t}(s, a)` (each context solved alone), (H, S).

    Used as the fallback of :class:`HistoryPolicy` off its tree (there the planning model gives no belief).
    """
    M, H, S = lmdp.M, lmdp.H, lmdp.S
    Vn = np.zeros((M, S))
    out = np.empty((H, S), dtype=np.int64)
    for t in range(H - 1, -1, -1):
        Q = lmdp.R[:, t] + np.einsum("msat,mt->msa", lmdp.P[:, t], Vn)
        out[t] = np.argmax(np.einsum("m,msa->sa", lmdp.weights, Q), axis=1)
        Vn = Q.max(axis=2)
    return out


def _extract_policy(
    tree: HistoryTree, best: list[np.ndarray], alphas: list[np.ndarray], fallback
) -> HistoryPolicy:
    lmdp = tree.lmdp
    H, S, A = lmdp.H, lmdp.S, lmdp.A
    sel = np.arange(tree.levels[0].state.shape[0])
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("action", "depth", "alpha", "beta", "nchild", "cs", "cr")
    }
    root = np.full(S, -1, dtype=np.int64)
    root[tree.levels[0].state] = np.arange(sel.shape[0])
    base = 0
    sels = []
    for t in range(H):
        lv = tree.levels[t]
        a = best[t][sel]
        sels.append(sel)
        parts["action"].append(a)
        parts["depth"].append(np.full(sel.shape[0], t, dtype=np.int64))
        parts["alpha"].append(alphas[t][sel])
        parts["beta"].append(lv.beta[sel])
        if t == H - 1:
            parts["nchild"].append(np.zeros(sel.shape[0], dtype=np.int64))
            break
        lo = lv.off[sel * A + a]
        hi = lv.off[sel * A + a + 1]
        n = hi - lo
        parts["nchild"].append(n)
        nxt = (
            np.concatenate([np.arange(x, y) for x, y in zip(lo, hi, strict=True)])
            if n.sum()
            else np.zeros(0, dtype=np.int64)
        )
        nxt = nxt.astype(np.int64)
        child_lv = tree.levels[t + 1]
        par_state = np.repeat(lv.state[sel], n)
        par_act = np.repeat(a, n)
        parts["cs"].append(child_lv.state[nxt])
        if lmdp.reward_observed:
            parts["cr"].append(tree.rvals[t, par_state, par_act, child_lv.ridx[nxt]])
        else:
            parts["cr"].append(np.zeros(nxt.shape[0]))
        base += sel.shape[0]
        sel = nxt
    nchild = np.concatenate(parts["nchild"])
    ptr = np.zeros(nchild.shape[0] + 1, dtype=np.int64)
    np.cumsum(nchild, out=ptr[1:])
    n_children = int(ptr[-1])
    n0 = sels[0].shape[0]
    child_node = np.arange(n0, n0 + n_children, dtype=np.int64)  # children are the next levels, in order

    def cat(k: str, dt: type) -> np.ndarray:
        return np.concatenate(parts[k]).astype(dt)

    pol = HistoryPolicy(
        H=H,
        S=S,
        A=A,
        reward_observed=lmdp.reward_observed,
        root=root,
        action=cat("action", np.int64),
        depth=cat("depth", np.int64),
        child_ptr=ptr,
        child_state=np.concatenate(parts["cs"]).astype(np.int64) if parts["cs"] else np.zeros(0, np.int64),
        child_reward=np.concatenate(parts["cr"]).astype(np.float64) if parts["cr"] else np.zeros(0),
        child_node=child_node,
        fallback=np.asarray(fallback, dtype=np.int64),
        alpha=np.concatenate(parts["alpha"]),
        beta=np.concatenate(parts["beta"]),
    )
    for arr in (
        pol.root,
        pol.action,
        pol.depth,
        pol.child_ptr,
        pol.child_state,
        pol.child_reward,
        pol.child_node,
        pol.fallback,
        pol.alpha,
        pol.beta,
    ):
        arr.setflags(write=False)
    return pol


def plan(
    lmdp: LatentMDP, max_histories: int = DEFAULT_MAX_HISTORIES, fallback: np.ndarray | None = None
) -> LatentSolution:
    r"""The optimal history-dependent policy of an LMDP by exact DP over histories (module docstring).

    Parameters
    ----------
    lmdp : LatentMDP
        The model (rewards deterministic; observed or not as ``lmdp.reward_observed`` says).
    max_histories : int
        Cap on the enumerated histories; :class:`PlanningLimitError` is raised before allocating beyond it.
    fallback : int ndarray (H, S), optional
        Markov policy played at histories of probability 0 in ``lmdp`` (default :func:`qmdp_policy`).

    Returns
    -------
    LatentSolution
        ``value`` :math:`= V^*`, ``policy`` (a :class:`HistoryPolicy` attaining it), ``n_histories``,
        ``context_values``.

    Raises
    ------
    PlanningLimitError
        The history tree would exceed ``max_histories``.
    """
    tree = build_tree(lmdp, max_histories)
    value, best = _backup(tree, 0, np.zeros(lmdp.M))
    alphas = _alphas(tree, best)
    fb = qmdp_policy(lmdp) if fallback is None else MarkovLatentPolicy_table(fallback, lmdp)
    pol = _extract_policy(tree, best, alphas, fb)
    lv0 = tree.levels[0]
    ctx = np.where(lv0.beta > 0, lv0.beta * np.nan_to_num(alphas[0]), 0.0).sum(axis=0) / lmdp.weights
    return LatentSolution(value=value, policy=pol, n_histories=tree.n_histories, context_values=ctx)


def MarkovLatentPolicy_table(table: Any, lmdp: LatentMDP) -> np.ndarray:  # noqa: N802 - internal helper
    """Validate a Markov table (H, S) or (S,) for ``lmdp``."""
    from mdpkit.latent.model import _markov_table

    return _markov_table(table, lmdp.H, lmdp.S, lmdp.A)


# ---------------------------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class ReturnMoments:
    r"""Moments of the return :math:`Z = \sum_h R_m(s_h, a_h)` of a policy (exact).

    Attributes
    ----------
    value : float
        :math:`\mathbb E[Z] = \sum_m w_m \mu_m`.
    mean : ndarray (M,)
        :math:`\mu_m = \mathbb E[Z \mid m]`.
    second : ndarray (M,)
        :math:`\mathbb E[Z^2 \mid m]`.
    within : float
        :math:`\sum_m w_m \mathrm{Var}(Z \mid m)` (the quantity maximised by :math:`\mathrm{Var}^*`).
    total : float
        :math:`\mathrm{Var}(Z)` = ``within`` + the variance of :math:`\mu_m` over contexts.
    n_histories : int
        Histories enumerated (0 for a Markov policy, evaluated per context without histories).
    """

    value: float
    mean: np.ndarray
    second: np.ndarray
    within: float
    total: float
    n_histories: int


def _history_of(levels: list[_Level], rvals: np.ndarray, t: int, n: int, reward_observed: bool) -> History:
    states, actions, rewards = [], [], []
    while True:
        lv = levels[t]
        states.append(int(lv.state[n]))
        if t == 0:
            break
        p = int(lv.parent[n])
        a = int(lv.pact[n])
        ps = int(levels[t - 1].state[p])
        actions.append(a)
        rewards.append(float(rvals[t - 1, ps, a, lv.ridx[n]]) if reward_observed else float("nan"))
        n, t = p, t - 1
    return History(tuple(reversed(states)), tuple(reversed(actions)), tuple(reversed(rewards)))


def _moments(value: float, mean_w: np.ndarray, second_w: np.ndarray, w: np.ndarray, n: int) -> ReturnMoments:
    mu = mean_w / w
    sec = second_w / w
    within = float(w @ np.maximum(sec - mu**2, 0.0))
    total = max(float(w @ sec) - value**2, 0.0)
    return ReturnMoments(value=value, mean=mu, second=sec, within=within, total=total, n_histories=n)


def _markov_moments(lmdp: LatentMDP, table: np.ndarray) -> ReturnMoments:
    r"""Moments of a Markov policy per context, without histories (a Markov policy ignores the belief).

    :math:`V_{m,t} = r + P V_{m,t+1}` and :math:`W_{m,t} = r^2 + 2 r\, P V_{m,t+1} + P W_{m,t+1}` (second
    moment of the return-to-go), :math:`\mathbb E[Z|m] = \nu_m^\top V_{m,0}`,
    :math:`\mathbb E[Z^2|m] = \nu_m^\top W_{m,0}`.
    """
    M, H, S = lmdp.M, lmdp.H, lmdp.S
    V = np.zeros((M, S))
    W = np.zeros((M, S))
    ss = np.arange(S)
    for t in range(H - 1, -1, -1):
        a = table[t]
        r = lmdp.R[:, t, ss, a]  # (M, S)
        Pt = lmdp.P[:, t, ss, a, :]  # (M, S, S)
        PV = np.einsum("mst,mt->ms", Pt, V)
        PW = np.einsum("mst,mt->ms", Pt, W)
        V, W = r + PV, r * r + 2.0 * r * PV + PW
    w = lmdp.weights
    mean_w = w * np.einsum("ms,ms->m", lmdp.initial, V)
    second_w = w * np.einsum("ms,ms->m", lmdp.initial, W)
    return _moments(float(mean_w.sum()), mean_w, second_w, w, 0)


def return_moments(lmdp: LatentMDP, policy: Any, max_histories: int = DEFAULT_MAX_HISTORIES) -> ReturnMoments:
    r"""Exact mean and second moment of the return of any deterministic history-dependent policy.

    Forward pass over the histories the policy reaches:
    :math:`\mathbb E[Z \mid m] = w_m^{-1} \sum_t \sum_{\tau_t} \beta_m(\tau_t) R_{m,t}(s_t, \pi(\tau_t))` and
    :math:`\mathbb E[Z^2 \mid m] = w_m^{-1} \sum_{\tau_{H-1}} \beta_m(\tau_{H-1}) (z_m(\tau_{H-1}) +
    R_{m,H-1}(s, \pi(\tau_{H-1})))^2`. A Markov policy (table) is evaluated per context by the recursions
    of the first two moments of the return-to-go instead, in :math:`O(M H S^2)` (no history limit).

    Parameters
    ----------
    lmdp : LatentMDP
        The model the policy runs in.
    policy : HistoryPolicy, LatentPolicy, int ndarray (H, S) or (S,), or callable
        A :class:`HistoryPolicy` (possibly planned in another model: off-tree histories use its fallback), a
        Markov table, anything with ``act(history)``, or a function of the history. When rewards are not
        observed, the rewards of the histories passed to ``act`` are NaN.
    max_histories : int
        Cap on the enumerated histories.

    Returns
    -------
    ReturnMoments

    Raises
    ------
    PlanningLimitError
        Beyond ``max_histories``.
    InvalidPolicyError
        An action outside ``range(A)``.
    """
    return _forward(lmdp, policy, max_histories, keep=False)[0]


def _forward(lmdp: LatentMDP, policy: Any, max_histories: int, keep: bool) -> tuple[ReturnMoments, Any, Any]:
    """Forward pass of :func:`return_moments`; with ``keep`` also the policy's history tree and actions."""
    max_histories = _check_limit(max_histories)
    M, H, S, A = lmdp.M, lmdp.H, lmdp.S, lmdp.A
    P, R = _arrays(lmdp)
    rid, rvals = _reward_index(lmdp)
    if isinstance(policy, HistoryPolicy):
        if (policy.H, policy.S, policy.A) != (H, S, A):
            raise InvalidPolicyError(
                f"policy is for (H, S, A) = {(policy.H, policy.S, policy.A)}, the model has {(H, S, A)}"
            )
        pol: Any = policy
    else:
        pol = as_latent_policy(policy, H, S, A)
    if isinstance(pol, MarkovLatentPolicy):
        return _markov_moments(lmdp, pol.table), None, pol.table
    keep_all = keep or not isinstance(pol, HistoryPolicy)
    acts: list[np.ndarray] = []
    lv = _roots(lmdp)
    pnode = pol.root[lv.state] if isinstance(pol, HistoryPolicy) else None
    levels = [lv]
    total = lv.state.shape[0]
    mean = np.zeros(M)
    second = np.zeros(M)
    for t in range(H):
        if isinstance(pol, HistoryPolicy):
            act = np.where(pnode >= 0, pol.action[np.maximum(pnode, 0)], pol.fallback[t, lv.state])
        else:
            act = np.array(
                [
                    int(pol.act(_history_of(levels, rvals, t, n, lmdp.reward_observed)))
                    for n in range(len(lv.state))
                ],
                dtype=np.int64,
            )
        act = np.asarray(act, dtype=np.int64)
        bad = (act < 0) | (act >= A)
        if bad.any():
            n = int(np.argmax(bad))
            raise InvalidPolicyError(f"policy chose action {int(act[n])} at step {t}, not in range({A})")
        acts.append(act)
        r = R[np.arange(M)[:, None], t, lv.state[None, :], act[None, :]].T  # (N, M)
        mean += (lv.beta * r).sum(axis=0)
        if t == H - 1:
            second += (lv.beta * (lv.z + r) ** 2).sum(axis=0)
            break
        child = _expand(lmdp, P, R, rid, t, lv, act, total, max_histories, "exact evaluation")
        if isinstance(pol, HistoryPolicy):
            ps = np.repeat(lv.state, np.diff(lv.off)[np.arange(len(lv.state)) * A + act])
            pa = np.repeat(act, np.diff(lv.off)[np.arange(len(lv.state)) * A + act])
            crew = rvals[t, ps, pa, child.ridx] if lmdp.reward_observed else np.zeros(len(child.state))
            pnode = K.match_policy_children(
                lv.off,
                act,
                pnode,
                child.state,
                np.ascontiguousarray(crew),
                A,
                pol.child_ptr,
                pol.child_state,
                pol.child_reward,
                pol.child_node,
                pol.reward_observed and lmdp.reward_observed,
                REWARD_MATCH_TOL,
            )
        total += child.state.shape[0]
        if keep_all:
            levels.append(child)
        else:
            levels = [child]
        lv = child
    moments = _moments(float(mean.sum()), mean, second, lmdp.weights, total)
    if not keep:
        return moments, None, None
    return moments, HistoryTree(lmdp=lmdp, levels=levels, rid=rid, rvals=rvals), np.concatenate(acts)


def evaluate(
    lmdp: LatentMDP,
    policy: Any,
    max_histories: int = DEFAULT_MAX_HISTORIES,
    backend: str = "numba",
    device: str | None = None,
) -> float:
    r"""Exact value :math:`\mathbb E_{m \sim w}\, \mathbb E^\pi_m[\sum_h R_m(s_h, a_h)]` of any policy.

    Parameters
    ----------
    lmdp : LatentMDP
        The model.
    policy : HistoryPolicy, LatentPolicy, int ndarray (H, S) or (S,), or callable
        See :func:`return_moments`.
    max_histories : int
        Cap on the enumerated histories.
    backend : {"numba", "torch"}
        ``numba``: the forward pass of :func:`return_moments`. ``torch``: the histories the policy reaches are
        enumerated the same way, then the alpha vectors are backed up by
        :func:`mdpkit.latent._torch.tree_policy_values` (Markov tables by
        :func:`~mdpkit.latent._torch.markov_values`).
    device : str, optional
        Torch device (default CUDA when available, else CPU); only with ``backend="torch"``.

    Returns
    -------
    float
    """
    if backend not in ("numba", "torch"):
        raise InvalidArgumentError(f"backend = {backend!r} must be 'numba' or 'torch'")
    if backend == "numba":
        if device not in (None, "cpu"):
            raise InvalidArgumentError(f"device = {device!r} needs backend='torch'")
        return return_moments(lmdp, policy, max_histories).value
    from mdpkit.latent import _torch as T

    moments, tree, acts = _forward(lmdp, policy, _check_limit(max_histories), keep=True)
    if tree is None:  # a Markov table
        return float(T.markov_values(lmdp.P, lmdp.R, lmdp.weights, lmdp.initial, acts, device=device).item())
    return float(T.tree_policy_values(tree, acts[None, :], device=device)[0].item())


# ---------------------------------------------------------------------------------------------- Var*
@dataclass(frozen=True)
class VarStar:
    r"""Result of :func:`var_star`.

    Attributes
    ----------
    value : float
        :math:`\mathrm{Var}^*`.
    policy : HistoryPolicy
        A history policy attaining the maximum (its trajectories carry the most variance of
        :math:`\alpha^*`).
    initial_term : float
        The part due to the initial state, :math:`\sum_m w_m \mathbb V(\nu_m, \alpha^*_m(s_0))`.
    optimal_within : float
        :math:`\sum_m w_m \mathrm{Var}_{\pi^*}(Z \mid m)` of the optimal policy, which equals the same sum
        along the optimal policy's own trajectories (law of total variance), so ``optimal_within <= value``.
    n_histories : int
        Histories enumerated.
    """

    value: float
    policy: HistoryPolicy
    initial_term: float
    optimal_within: float
    n_histories: int


def var_star(lmdp: LatentMDP, max_histories: int = DEFAULT_MAX_HISTORIES) -> VarStar:
    r""":math:`\mathrm{Var}^*`: the largest expected total variance of the optimal alpha vectors.

    .. math:: \mathrm{Var}^* = \max_{\pi} \mathbb E_{m \sim w,\, \tau \sim \pi}\Big[
              \mathbb V(\nu_m, \alpha^*_m(\cdot)) + \sum_{t=0}^{H-2}
              \mathbb V\big(P_{m,t}(\cdot|s_t, a_t),\, \alpha^*_m(\tau_t\, a_t\, r_t\, \cdot)\big)\Big]

    where :math:`\alpha^*` are the alpha vectors of the optimal policy of :func:`plan` (defined at every
    history by the Bellman-optimal action), :math:`\mathbb V(p, x) = p^\top x^2 - (p^\top x)^2` and the max is
    over history-dependent policies (a DP over histories with the additive per-step cost above).

    **Reading of the paper.** Zhou, Wang & Du (2023) call :math:`\mathrm{Var}^*` "a variance quantity
    describing the determinism of the LMDP" and bound the *total variance of alpha vectors*; the defining
    display (§3) could not be retrieved while writing this module, so this is our reading, in the style of the
    :math:`\max_\pi \mathbb E_\pi \sum_h \mathbb V(P, V^*_{h+1})` variance of Zhou, Zhang & Du (2023) for
    MDPs. Properties (tested): :math:`\mathrm{Var}^* = 0` when every context is deterministic (initial state
    and transitions); :math:`\mathrm{Var}^* \ge \sum_m w_m \mathrm{Var}_{\pi^*}(Z|m)` with equality of the
    :math:`\pi = \pi^*` term (law of total variance, rewards deterministic given m).
    For the :func:`~mdpkit.latent.instances.hard_instance` family it equals ``scale**2 / 4``.

    Parameters
    ----------
    lmdp : LatentMDP
        The model.
    max_histories : int
        Cap on the history tree.

    Returns
    -------
    VarStar
    """
    tree = build_tree(lmdp, max_histories)
    _, best = _backup(tree, 0, np.zeros(lmdp.M))
    alphas = _alphas(tree, best)
    P, _ = _arrays(lmdp)
    H, M, A = lmdp.H, lmdp.M, lmdp.A
    Wnext = np.zeros(0)
    argmax: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * H
    for t in range(H - 1, -1, -1):
        lv = tree.levels[t]
        N = lv.state.shape[0]
        if t == H - 1:
            q = np.zeros((N, A))
        else:
            nxt = tree.levels[t + 1]
            cost = K.variance_cost_level(
                P, tree.rid, t, lv.state, lv.beta, lv.off, nxt.state, nxt.ridx, alphas[t + 1], M, A
            )
            csum = np.concatenate([[0.0], np.cumsum(Wnext)])
            q = cost + (csum[lv.off[1:]] - csum[lv.off[:-1]]).reshape(N, A)
        argmax[t] = np.argmax(q, axis=1)
        Wnext = q[np.arange(N), argmax[t]]
    lv0 = tree.levels[0]
    a0 = np.where(lv0.beta > 0, np.nan_to_num(alphas[0]), 0.0)  # (N0, M)
    p0 = lv0.beta / lmdp.weights  # (N0, M) = nu_m(s0)
    e1 = (p0 * a0).sum(axis=0)
    e2 = (p0 * a0**2).sum(axis=0)
    init = float(lmdp.weights @ np.maximum(e2 - e1**2, 0.0))
    value = float(Wnext.sum()) + init
    pol = _extract_policy(tree, argmax, _alphas(tree, argmax), qmdp_policy(lmdp))
    opt = _extract_policy(tree, best, alphas, qmdp_policy(lmdp))
    within = return_moments(lmdp, opt, max_histories).within
    return VarStar(
        value=value, policy=pol, initial_term=init, optimal_within=within, n_histories=tree.n_histories
    )


# ---------------------------------------------------------------------------------------------- brute force
def tree_policy(tree: HistoryTree, actions: np.ndarray) -> HistoryPolicy:
    """The :class:`HistoryPolicy` that plays ``actions[n]`` at node ``n`` of ``tree`` (nodes level by level).

    Parameters
    ----------
    tree : HistoryTree
        From :func:`build_tree`.
    actions : int ndarray (N,)
        One action per node, ``N = tree.n_histories``.

    Returns
    -------
    HistoryPolicy
        Restricted to the histories the policy reaches; fallback :func:`qmdp_policy` elsewhere.
    """
    acts = np.asarray(actions, dtype=np.int64)
    sizes = [lv.state.shape[0] for lv in tree.levels]
    if acts.shape != (sum(sizes),):
        raise InvalidPolicyError(f"actions has shape {acts.shape}, expected ({sum(sizes)},)")
    if acts.size and (acts.min() < 0 or acts.max() >= tree.lmdp.A):
        raise InvalidPolicyError(f"actions hold an action outside range({tree.lmdp.A})")
    per = np.split(acts, np.cumsum(sizes)[:-1])
    return _extract_policy(tree, per, _alphas(tree, per), qmdp_policy(tree.lmdp))


def brute_force(
    lmdp: LatentMDP, max_policies: int = 1 << 22, device: str | None = None, chunk: int = 1 << 15
) -> tuple[float, np.ndarray]:
    r""":math:`\max` over **all** deterministic history policies (one action per history), by enumeration.

    Enumerates the :math:`A^N` action assignments of the :math:`N` histories of :func:`build_tree` and
    evaluates them in batch with the torch twin (:func:`mdpkit.latent._torch.tree_policy_values`). Only for
    tiny instances: it is the independent check that :func:`plan` is optimal.

    Parameters
    ----------
    lmdp : LatentMDP
        The model.
    max_policies : int
        Refuse (:class:`PlanningLimitError`) when :math:`A^N` exceeds it.
    device : str, optional
        Torch device (default CUDA when available, else CPU).
    chunk : int
        Policies per batch.

    Returns
    -------
    (float, ndarray (N,))
        The best value and one maximising assignment.
    """
    import torch

    from mdpkit.latent import _torch as T

    tree = build_tree(lmdp, max_histories=64)
    N, A = tree.n_histories, lmdp.A
    n_pol = A**N
    if n_pol > max_policies:
        raise PlanningLimitError(
            f"brute force over A^N = {A}^{N} = {n_pol} policies exceeds max_policies={max_policies}"
        )
    dev = T.resolve_device(device)
    radix = torch.tensor([A**i for i in range(N)], dtype=torch.long, device=dev)
    best_v, best_a = -np.inf, None
    for lo in range(0, n_pol, chunk):
        ids = torch.arange(lo, min(lo + chunk, n_pol), device=dev)
        acts = (ids[:, None] // radix[None, :]) % A
        vals = T.tree_policy_values(tree, acts, device=dev, chunk=chunk)
        k = int(torch.argmax(vals))
        if float(vals[k]) > best_v:
            best_v, best_a = float(vals[k]), acts[k].cpu().numpy()
    return best_v, best_a
