r"""Latent MDPs with the context revealed in hindsight (the model of Zhou, Wang & Du, ICML 2023, §3.1).

A latent MDP (LMDP; Kwon et al., 2021) is a finite collection of MDPs
:math:`\mathcal M = \{\mathcal M_1, \dots, \mathcal M_M\}` on shared state set :math:`\mathcal S`, action set
:math:`\mathcal A` and horizon :math:`H`. Context :math:`m` has its own initial distribution
:math:`\nu_m \in \Delta(\mathcal S)`, kernel :math:`P_m(\cdot|s, a)` (here optionally time-indexed,
:math:`P_{m,h}`) and **deterministic** reward :math:`R_m(s, a) \in [0, 1]`. At the start of an episode nature
draws :math:`m \sim w` (mixing weights :math:`w_m > 0`, :math:`\sum_m w_m = 1`), then
:math:`s_1 \sim \nu_m` and :math:`s_{h+1} \sim P_m(\cdot|s_h, a_h)`. As in the paper, the total reward of
every episode is at most one, :math:`\sum_{h=1}^H R_m(s_h, a_h) \le 1` (checked exactly here on every
trajectory of positive probability, see :class:`LatentMDP`).

Observation model (documented decision)
---------------------------------------
During an episode the agent observes the states, its own actions and the rewards,
:math:`\tau_t = (s_0, a_0, r_0, s_1, \dots, s_t)`; the context :math:`m` stays hidden and is revealed only
when the episode ends ("in hindsight"), where a learner may use it to update per-context counts. Policies are
therefore *history dependent*: :math:`a_t = \pi(\tau_t)`. The posterior over contexts after a history is

.. math:: b_m(\tau_t) \propto w_m\, \nu_m(s_0)
          \prod_{i<t} \mathbb 1[R_m(s_i, a_i) = r_i]\, P_m(s_{i+1}|s_i, a_i),

so a reward that differs between contexts at the same :math:`(s, a)` identifies the context as well as the
transitions do. Pass ``reward_observed=False`` for the variant where rewards are not observed until the end
(the indicator factors then disappear from the likelihood).

Shapes
------
``P[m, s, a, s']`` (M, S, A, S) stationary or ``P[m, h, s, a, s']`` (M, H, S, A, S);
``R[m, s, a]`` (M, S, A) or ``R[m, h, s, a]`` (M, H, S, A); ``weights[m]`` (M,);
``initial[m, s]`` (M, S) or a shared (S,). Time is 0-based in code (``h = 0, ..., H-1``).

References
----------
R. Zhou, R. Wang, S. S. Du. *Horizon-Free and Variance-Dependent Reinforcement Learning for Latent Markov
Decision Processes*, ICML 2023 (arXiv:2210.11604), §3.1 (model, :math:`\Gamma`).
J. Kwon, Y. Efroni, C. Caramanis, S. Mannor. *RL for Latent MDPs: Regret Guarantees and a Lower Bound*,
NeurIPS 2021.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from mdpkit.core import validate as V
from mdpkit.core.model import FiniteHorizonMDP
from mdpkit.errors import InvalidMDPError, InvalidPolicyError

__all__ = [
    "LatentMDP",
    "History",
    "Episode",
    "LatentPolicy",
    "MarkovLatentPolicy",
    "as_latent_policy",
    "stack_contexts",
    "REWARD_TOL",
]

#: Tolerance of the total-reward check :math:`\max_\tau \sum_h R_m(s_h, a_h) \le` ``reward_bound``.
REWARD_TOL = 1e-9


class History(NamedTuple):
    r"""What the agent has seen at step :math:`t` of an episode: :math:`(s_0, a_0, r_0, \dots, s_t)`.

    ``len(states) == len(actions) + 1 == len(rewards) + 1``; the step index is ``t = len(actions)``.
    """

    states: tuple[int, ...]
    actions: tuple[int, ...]
    rewards: tuple[float, ...]


class Episode(NamedTuple):
    """One sampled episode: hidden ``context`` (revealed in hindsight), ``states`` (H+1,), ``actions`` (H,)
    and ``rewards`` (H,)."""

    context: int
    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray


@runtime_checkable
class LatentPolicy(Protocol):
    """A deterministic history-dependent policy: ``act(history) -> action``."""

    def act(self, history: History) -> int:  # pragma: no cover - protocol
        """The action taken after ``history``."""
        ...


@dataclass(frozen=True)
class MarkovLatentPolicy:
    """A Markov policy ``pi[h, s]`` (ignores everything in the history but the step and the last state).

    Parameters
    ----------
    table : int ndarray (H, S)
        Action taken at step ``h`` in state ``s``.
    """

    table: np.ndarray

    def act(self, history: History) -> int:
        """``table[t, s_t]`` with ``t = len(history.actions)``."""
        return int(self.table[len(history.actions), history.states[-1]])


@dataclass(frozen=True)
class _CallablePolicy:
    fn: Callable[[History], int]

    def act(self, history: History) -> int:
        return int(self.fn(history))


def as_latent_policy(policy: Any, H: int, S: int, A: int) -> Any:
    """Turn a policy given in any accepted form into an object with ``act(history)``.

    Parameters
    ----------
    policy : LatentPolicy, int ndarray (H, S) or (S,), or callable
        A history policy (anything with ``act``), a Markov policy table ``pi[h, s]`` / stationary ``pi[s]``,
        or a function ``history -> action``.
    H, S, A : int
        Sizes of the LMDP the policy will run on.

    Returns
    -------
    object with ``act(history) -> int``

    Raises
    ------
    InvalidPolicyError
        A table of the wrong shape or with an action outside ``range(A)``.
    """
    if hasattr(policy, "act"):
        return policy
    if callable(policy):
        return _CallablePolicy(policy)
    table = _markov_table(policy, H, S, A)
    return MarkovLatentPolicy(table)


def _markov_table(policy: Any, H: int, S: int, A: int) -> np.ndarray:
    arr = np.asarray(policy)
    if arr.shape == (S,):
        arr = np.broadcast_to(arr, (H, S))
    if arr.shape != (H, S):
        raise InvalidPolicyError(f"Markov policy has shape {arr.shape}, expected (H, S) = ({H}, {S}) or (S,)")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.equal(np.mod(arr, 1), 0)):
            raise InvalidPolicyError("a Markov policy table must hold integer actions")
        arr = arr.astype(np.int64)
    bad = (arr < 0) | (arr >= A)
    if bad.any():
        h, s = np.argwhere(bad)[0]
        raise InvalidPolicyError(f"policy[{h}, {s}] = {int(arr[h, s])} is not an action in range({A})")
    out = np.array(arr, dtype=np.int64)
    out.setflags(write=False)
    return out


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def as_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """``np.random.default_rng(seed)`` unless ``seed`` is already a Generator."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


@dataclass(frozen=True, eq=False, init=False)
class LatentMDP:
    r"""A latent MDP :math:`(\{\mathcal M_m\}_{m=1}^M, w)` with deterministic rewards (Zhou et al. 2023).

    Parameters
    ----------
    P : ndarray (M, S, A, S) or (M, H, S, A, S)
        Per-context kernels, ``P[m, (h,) s, a, s'] = P_m(s' | s, a)``; rows sum to 1 (tolerance
        :data:`mdpkit.core.validate.ROW_SUM_TOL`).
    R : ndarray (M, S, A) or (M, H, S, A)
        Deterministic rewards :math:`R_m(s, a) \in [0, 1]`.
    H : int
        Horizon (number of decisions per episode).
    weights : ndarray (M,)
        Mixing weights :math:`w_m > 0` summing to 1 (the paper requires :math:`w_m > 0`).
    initial : ndarray (M, S) or (S,)
        Initial distributions :math:`\nu_m` (a single (S,) vector is shared by all contexts).
    reward_bound : float or None
        Upper bound on the total reward of every trajectory of positive probability, checked exactly by a
        max-reward dynamic program per context (default 1, the paper's normalisation; ``None`` skips the
        check, e.g. for optimistic models with bonuses).
    reward_observed : bool
        Whether the agent observes rewards during the episode (default True; see the module docstring).

    Attributes
    ----------
    P : ndarray (M, H, S, A, S)
        Always stored time-indexed (a read-only broadcast view when the input was stationary).
    R : ndarray (M, H, S, A)
        Rewards, time-indexed likewise.
    weights, initial : ndarray (M,), (M, S)
        Validated read-only copies.
    stationary : bool
        Whether ``P`` and ``R`` were given without a time axis.

    Raises
    ------
    InvalidMDPError
        A malformed array; the message names the context, stage, index and value, e.g.
        ``P[1, 0, 2, :] sums to 0.9`` or ``context m=0: trajectory s=(0, 1) a=(1, 1) collects total reward
        1.2 > 1``.

    References
    ----------
    Zhou, Wang & Du (2023), §3.1; Kwon et al. (2021), §2.
    """

    P: np.ndarray
    R: np.ndarray
    H: int
    weights: np.ndarray
    initial: np.ndarray
    reward_bound: float | None
    reward_observed: bool
    stationary: bool
    _cache: dict = field(repr=False)

    def __init__(
        self,
        P: np.ndarray,
        R: np.ndarray,
        H: int,
        weights: np.ndarray,
        initial: np.ndarray,
        reward_bound: float | None = 1.0,
        reward_observed: bool = True,
    ) -> None:
        H = V.check_positive_int(H, "H")
        Pa = V.as_float_array(P, "P")
        Ra = V.as_float_array(R, "R")
        if Pa.ndim == 4:
            stationary = True
            M, S, A, S2 = Pa.shape
        elif Pa.ndim == 5:
            stationary = False
            M, H2, S, A, S2 = Pa.shape
            if H2 != H:
                raise InvalidMDPError(f"P has {H2} stages (axis 1), expected H = {H}")
        else:
            raise InvalidMDPError(f"P has shape {Pa.shape}, expected (M, S, A, S) or (M, H, S, A, S)")
        if S2 != S:
            raise InvalidMDPError(f"P has shape {Pa.shape}: the next-state axis must have S = {S} entries")
        if min(M, S, A) < 1:
            raise InvalidMDPError(f"P has shape {Pa.shape}; need M, S, A >= 1")
        V.check_distribution_rows(Pa, "P")
        if Ra.shape == (M, S, A):
            Rt = np.broadcast_to(Ra[:, None], (M, H, S, A))
        elif Ra.shape == (M, H, S, A):
            Rt = Ra
            stationary = stationary and bool(np.all(Ra == Ra[:, :1]))
        else:
            raise InvalidMDPError(
                f"R has shape {Ra.shape}, expected (M, S, A) = ({M}, {S}, {A}) "
                f"or (M, H, S, A) = ({M}, {H}, {S}, {A})"
            )
        V.check_finite(Rt, "R")
        for name, bad in (("negative", Rt < 0), ("above 1", Rt > 1)):
            if bad.any():
                idx = tuple(np.argwhere(bad)[0])
                shown = idx if Ra.ndim == 4 else (idx[0], *idx[2:])
                raise InvalidMDPError(
                    f"R[{', '.join(map(str, shown))}] = {float(Rt[idx])!r} is {name}; "
                    "rewards must lie in [0, 1]"
                )
        w = V.as_float_array(weights, "weights")
        V.check_shape(w, (M,), "weights")
        V.check_finite(w, "weights")
        nonpos = np.flatnonzero(w <= 0)
        if nonpos.size:
            m = int(nonpos[0])
            raise InvalidMDPError(
                f"weights[{m}] = {float(w[m])!r} must be > 0 (a context of weight 0 is absent)"
            )
        if abs(w.sum() - 1.0) > V.ROW_SUM_TOL:
            raise InvalidMDPError(f"weights sum to {w.sum():.12g}, expected 1 (tolerance {V.ROW_SUM_TOL:g})")
        mu = V.as_float_array(initial, "initial")
        if mu.shape == (S,):
            mu = np.broadcast_to(mu, (M, S))
        if mu.shape != (M, S):
            raise InvalidMDPError(f"initial has shape {mu.shape}, expected (M, S) = ({M}, {S}) or (S,)")
        V.check_distribution_rows(np.asarray(mu), "initial")
        if Pa.ndim == 4:
            Pt = np.broadcast_to(_readonly(np.array(Pa, copy=True))[:, None], (M, H, S, A, S))
        else:
            Pt = _readonly(np.array(Pa, copy=True))
        if Ra.ndim == 3:
            Rt = np.broadcast_to(_readonly(np.array(Ra, copy=True))[:, None], (M, H, S, A))
        else:
            Rt = _readonly(np.array(Ra, copy=True))
        if reward_bound is not None:
            if isinstance(reward_bound, bool) or not isinstance(reward_bound, numbers.Real):
                raise InvalidMDPError(f"reward_bound = {reward_bound!r} must be a real number or None")
            reward_bound = float(reward_bound)
        object.__setattr__(self, "P", Pt)
        object.__setattr__(self, "R", Rt)
        object.__setattr__(self, "H", H)
        object.__setattr__(self, "weights", _readonly(np.array(w, copy=True)))
        object.__setattr__(self, "initial", _readonly(np.array(mu, dtype=np.float64, copy=True)))
        object.__setattr__(self, "reward_bound", reward_bound)
        object.__setattr__(self, "reward_observed", bool(reward_observed))
        object.__setattr__(self, "stationary", stationary)
        object.__setattr__(self, "_cache", {})
        if reward_bound is not None:
            total, m, states, actions = self._max_total_reward()
            if total > reward_bound + REWARD_TOL:
                raise InvalidMDPError(
                    f"context m={m}: trajectory s={states} a={actions} collects total reward {total:.12g} > "
                    f"reward_bound = {reward_bound:g} (the paper assumes sum_h R_m(s_h, a_h) <= 1)"
                )

    # ------------------------------------------------------------------ sizes
    @property
    def M(self) -> int:
        """Number of contexts."""
        return int(self.P.shape[0])

    @property
    def S(self) -> int:
        """Number of states."""
        return int(self.P.shape[2])

    @property
    def A(self) -> int:
        """Number of actions."""
        return int(self.P.shape[3])

    def __repr__(self) -> str:
        kind = "stationary" if self.stationary else "time-indexed"
        return f"LatentMDP(M={self.M}, S={self.S}, A={self.A}, H={self.H}, {kind}, Gamma={self.gamma_degree})"

    # ------------------------------------------------------------------ structure
    @property
    def gamma_degree(self) -> int:
        r"""Maximum transition degree :math:`\Gamma = \max_{m, (h), s, a} |\mathrm{supp}\, P_m(\cdot|s, a)|`.

        Zhou et al. (2023), §3.1; always :math:`\Gamma \le S`. Entries are counted as positive when ``> 0``.
        """
        if "gamma" not in self._cache:
            self._cache["gamma"] = int((self.P > 0).sum(axis=-1).max())
        return self._cache["gamma"]

    @property
    def var_star(self) -> float:
        r""":math:`\mathrm{Var}^*`: the largest expected total variance of the optimal alpha vectors.

        .. math:: \mathrm{Var}^* = \max_\pi \mathbb E_{m \sim w, \tau \sim \pi}\Big[
                  \mathbb V(\nu_m, \alpha^*_m)
                  + \sum_{t} \mathbb V\big(P_{m,t}(\cdot|s_t, a_t), \alpha^*_m(\tau_t a_t r_t \cdot)\big)\Big]

        (:math:`\alpha^*` the optimal alpha vectors). Computed exactly by
        :func:`mdpkit.latent.planning.var_star`, which documents the formula and our reading of the paper;
        it needs the history tree, so it obeys the same size limit as :func:`~mdpkit.latent.planning.plan`.
        Zero for deterministic contexts.
        """
        if "var_star" not in self._cache:
            from mdpkit.latent.planning import var_star

            self._cache["var_star"] = var_star(self).value
        return self._cache["var_star"]

    def P_at(self, h: int) -> np.ndarray:
        """The kernels of stage ``h``, shape (M, S, A, S)."""
        return self.P[:, h]

    def context(self, m: int) -> FiniteHorizonMDP:
        r"""Context :math:`\mathcal M_m` as a :class:`mdpkit.FiniteHorizonMDP` (initial :math:`\nu_m`).

        Parameters
        ----------
        m : int
            Context index in ``range(M)``.

        Returns
        -------
        FiniteHorizonMDP
        """
        m = self._check_context(m)
        if self.stationary:
            return FiniteHorizonMDP(self.P[m, 0], self.R[m, 0], self.H, initial=self.initial[m])
        return FiniteHorizonMDP(np.asarray(self.P[m]), np.asarray(self.R[m]), self.H, initial=self.initial[m])

    def _check_context(self, m: object) -> int:
        if isinstance(m, bool) or not isinstance(m, numbers.Integral) or not 0 <= int(m) < self.M:
            raise InvalidMDPError(f"context m = {m!r} is not in range({self.M})")
        return int(m)

    def _max_total_reward(self) -> tuple[float, int, tuple[int, ...], tuple[int, ...]]:
        r"""Exact :math:`\max_m \max_\tau \sum_h R_m(s_h, a_h)` over trajectories of positive probability.

        Backward DP on the support graph: :math:`U_H = 0`,
        :math:`U_h(s) = \max_a [R_{m,h}(s, a) + \max_{s': P_{m,h}(s'|s,a) > 0} U_{h+1}(s')]`, started from
        :math:`\mathrm{supp}\,\nu_m`. Returns (value, context, states, actions) of a maximiser.
        """
        M, H, S, A = self.M, self.H, self.S, self.A
        best = (-np.inf, 0, (), ())
        for m in range(M):
            U = np.zeros((H + 1, S))
            arg_a = np.zeros((H, S), dtype=np.int64)
            arg_s = np.zeros((H, S, A), dtype=np.int64)
            for h in range(H - 1, -1, -1):
                nxt = np.where(self.P[m, h] > 0, U[h + 1][None, None, :], -np.inf)  # (S, A, S)
                arg_s[h] = np.argmax(nxt, axis=2)
                q = self.R[m, h] + nxt.max(axis=2)
                arg_a[h] = np.argmax(q, axis=1)
                U[h] = q.max(axis=1)
            start = np.where(self.initial[m] > 0, U[0], -np.inf)
            s = int(np.argmax(start))
            if start[s] > best[0]:
                value = float(start[s])
                states, actions = [s], []
                for h in range(H):
                    a = int(arg_a[h, s])
                    actions.append(a)
                    if h < H - 1:
                        s = int(arg_s[h, s, a])
                        states.append(s)
                best = (value, m, tuple(states), tuple(actions))
        return best

    @property
    def max_total_reward(self) -> float:
        r""":math:`\max_m \max_\tau \sum_h R_m(s_h, a_h)` over trajectories of positive probability."""
        return self._max_total_reward()[0]

    # ------------------------------------------------------------------ belief
    def likelihood(self, history: History) -> np.ndarray:
        r"""The joint probabilities :math:`\beta_m(\tau) = w_m \Pr(\tau \mid m)` of a history, shape (M,).

        .. math:: \beta_m(\tau_t) = w_m \nu_m(s_0) \prod_{i<t} \mathbb 1[R_{m,i}(s_i, a_i) = r_i]\,
                  P_{m,i}(s_{i+1}|s_i, a_i)

        (the reward indicator only when ``reward_observed``). The posterior is ``beta / beta.sum()``.

        Parameters
        ----------
        history : History
            ``(states, actions, rewards)`` with ``len(states) == len(actions) + 1 <= H + 1``.

        Returns
        -------
        ndarray (M,)
        """
        states, actions, rewards = _check_history(history, self.H, self.S, self.A)
        beta = self.weights * self.initial[:, states[0]]
        for i, a in enumerate(actions):
            s, s2 = states[i], states[i + 1]
            beta = beta * self.P[:, i, s, a, s2]
            if self.reward_observed:
                beta = beta * (self.R[:, i, s, a] == rewards[i])
        return beta

    def belief(self, history: History) -> np.ndarray:
        r"""Posterior :math:`b_m(\tau) = \beta_m(\tau) / \sum_{m'} \beta_{m'}(\tau)`, shape (M,).

        Raises
        ------
        InvalidPolicyError
            If the history has probability zero under every context.
        """
        beta = self.likelihood(history)
        tot = beta.sum()
        if tot <= 0:
            raise InvalidPolicyError(f"history {tuple(history)} has probability 0 under every context")
        return beta / tot

    # ------------------------------------------------------------------ simulation
    def sample_episode(self, policy: Any, rng: int | np.random.Generator | None = None) -> Episode:
        r"""Play one episode: :math:`m \sim w`, :math:`s_0 \sim \nu_m`, :math:`a_t = \pi(\tau_t)`,
        :math:`r_t = R_{m,t}(s_t, a_t)`, :math:`s_{t+1} \sim P_{m,t}(\cdot|s_t, a_t)`.

        Parameters
        ----------
        policy : LatentPolicy, int ndarray (H, S) or (S,), or callable
            See :func:`as_latent_policy`. A :class:`~mdpkit.latent.planning.HistoryPolicy` is followed with
            its cursor (O(1) per step).
        rng : int or Generator
            Randomness (context, states).

        Returns
        -------
        Episode
            ``(context, states (H+1,), actions (H,), rewards (H,))``; the context is hidden from the policy.
        """
        rng = as_rng(rng)
        pol = as_latent_policy(policy, self.H, self.S, self.A)
        m = int(rng.choice(self.M, p=self.weights))
        H = self.H
        states = np.empty(H + 1, dtype=np.int64)
        actions = np.empty(H, dtype=np.int64)
        rewards = np.empty(H)
        states[0] = rng.choice(self.S, p=self.initial[m])
        cursor = pol.start(int(states[0])) if hasattr(pol, "start") else None
        for t in range(H):
            s = int(states[t])
            if cursor is not None:
                a = pol.action_at(cursor, t, s)
            else:
                hist = History(
                    tuple(int(x) for x in states[: t + 1]),
                    tuple(int(x) for x in actions[:t]),
                    tuple(float(x) for x in rewards[:t]),
                )
                a = int(pol.act(hist))
            if not 0 <= a < self.A:
                raise InvalidPolicyError(f"policy chose action {a} at step {t}, not in range({self.A})")
            actions[t] = a
            rewards[t] = self.R[m, t, s, a]
            states[t + 1] = rng.choice(self.S, p=self.P[m, t, s, a])
            if cursor is not None and t < H - 1:
                cursor = pol.advance(cursor, a, float(rewards[t]), int(states[t + 1]))
        return Episode(m, states, actions, rewards)


def _check_history(history: Any, H: int, S: int, A: int) -> tuple[list[int], list[int], list[float]]:
    try:
        states, actions, rewards = history
    except (TypeError, ValueError):
        raise InvalidPolicyError("a history is a triple (states, actions, rewards)") from None
    states = [int(s) for s in states]
    actions = [int(a) for a in actions]
    rewards = [float(r) for r in rewards]
    if len(states) != len(actions) + 1 or len(rewards) != len(actions) or len(actions) > H:
        raise InvalidPolicyError(
            f"history has {len(states)} states, {len(actions)} actions and {len(rewards)} rewards; expected "
            f"t + 1, t and t with t <= H = {H}"
        )
    for i, s in enumerate(states):
        if not 0 <= s < S:
            raise InvalidPolicyError(f"history state s_{i} = {s} is not in range({S})")
    for i, a in enumerate(actions):
        if not 0 <= a < A:
            raise InvalidPolicyError(f"history action a_{i} = {a} is not in range({A})")
    return states, actions, rewards


def stack_contexts(mdps: Sequence[FiniteHorizonMDP], weights: np.ndarray, **kwargs: Any) -> LatentMDP:
    """Build a :class:`LatentMDP` from M finite-horizon MDPs on the same S, A, H (dense kernels).

    Parameters
    ----------
    mdps : sequence of FiniteHorizonMDP
        The contexts; their ``initial`` distributions become :math:`\\nu_m`.
    weights : ndarray (M,)
        Mixing weights.
    **kwargs
        Passed to :class:`LatentMDP` (``reward_bound``, ``reward_observed``).

    Returns
    -------
    LatentMDP
    """
    if not mdps:
        raise InvalidMDPError("need at least one context")
    H = mdps[0].H
    P = np.stack(
        [
            np.stack(
                [
                    np.asarray(d.P_at(h).toarray() if hasattr(d.P_at(h), "toarray") else d.P_at(h)).reshape(
                        d.S, d.A, d.S
                    )
                    for h in range(H)
                ]
            )
            for d in mdps
        ]
    )
    R = np.stack([d.R for d in mdps])
    mu = np.stack([d.initial for d in mdps])
    return LatentMDP(P, R, H, weights, mu, **kwargs)
