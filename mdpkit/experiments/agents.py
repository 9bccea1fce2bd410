r"""Baseline agents that every regret figure compares against, written from their papers.

* :class:`UCBVI` — UCBVI-BF, the Bernstein–Freedman variant of Azar, Osband & Munos (2017), *Minimax Regret
  Bounds for Reinforcement Learning*, ICML (Algorithms 1 and 4), for episodic MDPs with a stationary kernel.
* :class:`UCRL2` — Jaksch, Ortner & Auer (2010), *Near-optimal Regret Bounds for Reinforcement Learning*,
  JMLR 11 (Figure 1, extended value iteration of section 3.1.2), for average reward.
* :class:`RandomAgent` — uniform over the feasible actions (linear regret unless every policy is optimal).

The agents know only :class:`~mdpkit.experiments.protocol.EnvSpec` (sizes, feasible actions, horizon,
budget); rewards are assumed in :math:`[0, 1]` as in both papers. :func:`make_agent` builds an agent by
name (``"ucbvi"``, ``"ucrl2"``, ``"random"``, or ``"package.module:Class"``) for the sweep layer.
"""

from __future__ import annotations

import importlib
import inspect
import math

import numpy as np

from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments import _numba as K
from mdpkit.experiments.protocol import Agent, EnvSpec, Observation, Transition, as_rng

__all__ = ["RandomAgent", "UCRL2", "UCBVI", "AGENTS", "make_agent", "resolve_agent", "agent_settings"]


def _check_delta(delta: object) -> float:
    if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not (0.0 < float(delta) < 1.0):
        raise InvalidArgumentError(f"delta = {delta!r} must be a confidence level in (0, 1)")
    return float(delta)


def _check_scale(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0.0 <= float(value) < math.inf):
        raise InvalidArgumentError(f"{name} = {value!r} must be a finite number >= 0")
    return float(value)


def _check_tie_break(value: object) -> str:
    if value not in ("random", "first"):
        raise InvalidArgumentError(f"tie_break = {value!r} must be 'random' or 'first'")
    return str(value)


def _check_sizes(S: object, A: object, mask: np.ndarray | None) -> tuple[int, int, np.ndarray]:
    for name, v in (("S", S), ("A", A)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise InvalidArgumentError(f"{name} = {v!r} must be a positive int")
    S, A = int(S), int(A)
    m = np.ones((S, A), dtype=bool) if mask is None else np.array(mask, dtype=bool)
    if m.shape != (S, A):
        raise InvalidArgumentError(f"mask has shape {m.shape}, expected (S, A) = ({S}, {A})")
    empty = np.flatnonzero(~m.any(axis=1))
    if empty.size:
        raise InvalidArgumentError(f"state {empty[0]} has no feasible action in mask")
    return S, A, m


def _check_max_iter(max_iter: object) -> int:
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise InvalidArgumentError(f"max_iter = {max_iter!r} must be a positive int")
    return max_iter


class OptimisticAverageAgent(Agent):
    r"""What the optimistic average-reward learners share (:class:`UCRL2`,
    :class:`mdpkit.average.SpanUCRL`, :class:`mdpkit.average.MLELoop`): validated settings, the transition
    counts :math:`n(s, a, s')`, and the planning step.

    The planning step (:meth:`_plan`) takes the centre :math:`\hat p`, the optimistic rewards
    :math:`\tilde r` and the L1 radii :math:`d` of a rectangular confidence set and runs extended value
    iteration (Jaksch, Ortner & Auer 2010, section 3.1.2; :meth:`_evi`, overridden by the span-truncated
    variant) to accuracy :math:`1/\sqrt{t}` at the current (1-based) time :math:`t`, from the previous
    :math:`u` (``warm_start``) or from 0, with the agent's tie-breaking draws; the greedy policy becomes the
    policy in force. Subclasses call :meth:`_init_optimistic` from ``__init__`` and keep their own episode or
    update rule.
    """

    def _init_optimistic(
        self,
        S: int,
        A: int,
        delta: float,
        mask: np.ndarray | None,
        warm_start: bool,
        max_iter: int,
        tie_break: str,
        seed: int | np.random.Generator,
    ) -> None:
        """Validate and store the shared settings; zero counts, :math:`t = 1`, :math:`u = 0`, no policy."""
        self.S, self.A, self.mask = _check_sizes(S, A, mask)
        self.delta = _check_delta(delta)
        self.warm_start = bool(warm_start)
        self.tie_break = _check_tie_break(tie_break)
        self.rng = as_rng(seed)
        self.max_iter = _check_max_iter(max_iter)
        self.n_sas = np.zeros((self.S, self.A, self.S), dtype=np.int64)
        self.t = 1  # 1-based time of the next action
        self.u = np.zeros(self.S)
        self._pi: np.ndarray | None = None
        self._pi_list: list[int] = []

    @staticmethod
    def _require_continuing(spec: EnvSpec, name: str) -> None:
        if spec.episodic:
            raise InvalidArgumentError(f"{name} is an average-reward algorithm; use setting = 'continuing'")

    def _evi(
        self,
        p_hat: np.ndarray,
        r_tilde: np.ndarray,
        d: np.ndarray,
        eps: float,
        u0: np.ndarray,
        tie_u: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """Plain extended value iteration (:func:`mdpkit.experiments._numba.extended_value_iteration`):
        ``(u, policy, sweeps)``."""
        u, pol, sweeps, _ = K.extended_value_iteration(
            p_hat, r_tilde, d, self.mask, eps, self.max_iter, u0, tie_u
        )
        return u, pol, sweeps

    def _plan(self, p_hat: np.ndarray, r_tilde: np.ndarray, d: np.ndarray) -> np.ndarray:
        r"""Optimistic planning at accuracy :math:`1/\sqrt t`; installs the greedy policy and returns the
        tie-breaking draws ``tie_u`` (S,) it used (uniforms, or -1 for the first maximiser).

        Parameters
        ----------
        p_hat : ndarray (S, A, S)
            Centres of the L1 balls (rows of zeros for unvisited pairs).
        r_tilde, d : ndarray (S, A)
            Optimistic rewards and L1 radii.

        Returns
        -------
        ndarray (S,)
            ``tie_u``. ``self.u``, ``stats["evi_sweeps"]``, ``stats["evi_damped"]`` and the policy in force
            are updated.
        """
        S = self.S
        u0 = self.u if self.warm_start else np.zeros(S)
        tie_u = self.rng.random(S) if self.tie_break == "random" else np.full(S, -1.0)
        u, pol, sweeps = self._evi(p_hat, r_tilde, d, 1.0 / math.sqrt(self.t), u0, tie_u)
        self.u = u
        self.stats["evi_sweeps"] += int(sweeps)
        self.stats["evi_damped"] += int(sweeps > self.max_iter)
        pol.setflags(write=False)
        self._pi = pol
        self._pi_list = pol.tolist()
        return tie_u

    def policy(self) -> np.ndarray | None:
        """The deterministic policy (S,) in force (None before the first action)."""
        return self._pi


class RandomAgent(Agent):
    r"""Plays uniformly at random among the feasible actions, :math:`\pi(a|s) = 1/|\mathcal A(s)|`.

    Parameters
    ----------
    S, A : int
        Sizes.
    mask : bool ndarray (S, A), optional
        Feasible actions (default: all).
    seed : int or Generator
        Source of the action draws.
    """

    def __init__(self, S: int, A: int, mask: np.ndarray | None = None, seed: int | np.random.Generator = 0):
        self.S, self.A, self.mask = _check_sizes(S, A, mask)
        self.rng = as_rng(seed)
        pi = self.mask / self.mask.sum(axis=1, keepdims=True)
        pi.setflags(write=False)
        self._pi = pi
        self._choices = [np.flatnonzero(row).tolist() for row in self.mask]
        self._u: list[float] = []
        self._i = 0

    @classmethod
    def from_spec(cls, spec: EnvSpec, seed: int | np.random.Generator) -> RandomAgent:
        """The agent for an environment spec (episodic or continuing)."""
        return cls(spec.S, spec.A, mask=spec.mask, seed=seed)

    def act(self, obs: Observation) -> int:
        """A uniform draw among the feasible actions of ``obs.state``."""
        if self._i >= len(self._u):
            self._u = self.rng.random(4096).tolist()
            self._i = 0
        u = self._u[self._i]
        self._i += 1
        choices = self._choices[obs.state]
        return choices[int(u * len(choices))]

    def observe(self, transition: Transition) -> None:
        """Nothing to learn."""

    def policy(self) -> np.ndarray:
        """The uniform stochastic policy (S, A) (stationary, also valid at every stage of an episode)."""
        return self._pi


class UCRL2(OptimisticAverageAgent):
    r"""UCRL2 (Jaksch, Ortner & Auer 2010, Figure 1) for communicating average-reward MDPs.

    Episode :math:`k` starts at time :math:`t_k` (1-based) with the counts :math:`N_k(s,a)` of all earlier
    steps, the empirical rewards :math:`\hat r_k` and transitions :math:`\hat p_k`, and the set of plausible
    MDPs

    .. math::
        |\tilde r(s,a) - \hat r_k(s,a)| \le \sqrt{\frac{7 \log(2 S A t_k / \delta)}{2 \max\{1, N_k(s,a)\}}},
        \qquad
        \|\tilde p(\cdot|s,a) - \hat p_k(\cdot|s,a)\|_1 \le \sqrt{\frac{14 S \log(2 A t_k / \delta)}
        {\max\{1, N_k(s,a)\}}}.

    Extended value iteration (:func:`mdpkit.experiments._numba.extended_value_iteration`) returns a policy
    :math:`\tilde\pi_k` that is :math:`1/\sqrt{t_k}`-optimal for the optimistic model. It is played until the
    visits :math:`v_k(s,a)` in the episode of the pair about to be played reach
    :math:`\max\{1, N_k(s, \tilde\pi_k(s))\}` (the doubling rule, step 6 of Figure 1).
    The regret is :math:`\tilde O(D S \sqrt{A T})` with probability :math:`1 - \delta` (their Theorem 2).

    Parameters
    ----------
    S, A : int
        Sizes.
    delta : float
        Confidence :math:`\delta \in (0, 1)`.
    mask : bool ndarray (S, A), optional
        Feasible actions.
    warm_start : bool
        Start each extended value iteration from the previous episode's :math:`u` instead of 0 (the paper
        starts from 0; the stopping rule certifies the same :math:`1/\sqrt{t_k}` accuracy either way).
    max_iter : int
        Sweeps of extended value iteration before it switches to the aperiodicity transform (see the
        kernel); the number of episodes whose iteration needed it is ``stats["evi_damped"]``.
    conf_scale : float
        Factor on both confidence radii (1 = the paper). Values below 1 are the usual empirical shortcut and
        void the regret guarantee; they are here to measure how much of the regret the constants cost.
    tie_break : {"random", "first"}
        How the greedy step of extended value iteration picks among exactly tied actions (the paper leaves
        it open): uniformly with the agent's generator, or the first one.
    seed : int or Generator
        Generator of the tie-breaking draws.

    Attributes
    ----------
    stats : dict
        ``episodes``, ``evi_sweeps`` (total), ``evi_damped``.
    episode_starts : list of int
        :math:`t_k` (1-based) of every episode.
    """

    def __init__(
        self,
        S: int,
        A: int,
        delta: float = 0.05,
        mask: np.ndarray | None = None,
        warm_start: bool = False,
        max_iter: int = 100_000,
        conf_scale: float = 1.0,
        tie_break: str = "random",
        seed: int | np.random.Generator = 0,
    ) -> None:
        self._init_optimistic(S, A, delta, mask, warm_start, max_iter, tie_break, seed)
        self.conf_scale = _check_scale(conf_scale, "conf_scale")
        S, A = self.S, self.A
        self.N = np.zeros((S, A), dtype=np.int64)  # visits before the current episode (N_k)
        self.v = np.zeros((S, A), dtype=np.int64)  # visits in the current episode (v_k)
        self.r_sum = np.zeros((S, A))
        self._v_list = [[0] * A for _ in range(S)]
        self._limit = [[1] * A for _ in range(S)]
        self.stats = {"episodes": 0, "evi_sweeps": 0, "evi_damped": 0}
        self.episode_starts: list[int] = []

    @classmethod
    def from_spec(
        cls,
        spec: EnvSpec,
        seed: int | np.random.Generator,
        delta: float = 0.05,
        warm_start: bool = False,
        conf_scale: float = 1.0,
        tie_break: str = "random",
    ) -> UCRL2:
        """The agent for a continuing environment (``seed`` drives the tie-breaking)."""
        cls._require_continuing(spec, "UCRL2")
        return cls(
            spec.S,
            spec.A,
            delta=delta,
            mask=spec.mask,
            warm_start=warm_start,
            conf_scale=conf_scale,
            tie_break=tie_break,
            seed=seed,
        )

    def _confidence_set(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r"""``(p_hat, r_tilde, d)`` of episode :math:`k`: :math:`\hat p_k`, :math:`\hat r_k` plus the reward
        radius, and the L1 radius of the kernels (Figure 1, steps 2-4; both radii times ``conf_scale``)."""
        S, A, tk, delta = self.S, self.A, self.t, self.delta
        n1 = np.maximum(1, self.N)
        r_hat = self.r_sum / n1
        p_hat = self.n_sas / n1[:, :, None]
        c = self.conf_scale
        r_tilde = r_hat + c * np.sqrt(7.0 * math.log(2.0 * S * A * tk / delta) / (2.0 * n1))
        d = c * np.sqrt(14.0 * S * math.log(2.0 * A * tk / delta) / n1)
        return p_hat, r_tilde, d

    def _new_episode(self) -> None:
        """Steps 1-5 of Figure 1: fold the episode's visits into N, then run extended value iteration."""
        self.N += np.asarray(self._v_list, dtype=np.int64)
        self._v_list = [[0] * self.A for _ in range(self.S)]
        self._plan(*self._confidence_set())
        self.episode_starts.append(self.t)
        self.stats["episodes"] += 1
        N = self.N
        self._limit = [[max(1, int(N[s, a])) for a in range(self.A)] for s in range(self.S)]

    def act(self, obs: Observation) -> int:
        """:math:`\\tilde\\pi_k(s_t)`, after starting a new episode if the doubling rule says so."""
        s = obs.state
        if self._pi is None:
            self._new_episode()
        a = self._pi_list[s]
        if self._v_list[s][a] >= self._limit[s][a]:  # step 6: the doubling rule ends the episode
            self._new_episode()
            a = self._pi_list[s]
        return a

    def observe(self, transition: Transition) -> None:
        """Count the visit, the transition and the reward (they enter :math:`N_k` at the next episode)."""
        s, a, r, s2 = transition.state, transition.action, transition.reward, transition.next_state
        self._v_list[s][a] += 1
        self.n_sas[s, a, s2] += 1
        self.r_sum[s, a] += r
        self.t += 1


class UCBVI(Agent):
    r"""UCBVI-BF (Azar, Osband & Munos 2017, Algorithm 1 with the Bernstein–Freedman bonus of Algorithm 4).

    Before episode :math:`k` the agent computes optimistic Q-values by backward induction on the empirical
    model (counts :math:`N_k(x,a)` over all steps of episodes :math:`1..k-1`, stationary kernel):

    .. math::
        Q_{k,h}(x,a) = \min\{Q_{k-1,h}(x,a),\; H,\; \hat r_k(x,a) + \hat P_k V_{k,h+1}(x,a) + b_{k,h}(x,a)\}

    (:math:`Q_{k,h} = H` for unvisited pairs, :math:`Q_{0,h} = H`), with the bonus of Algorithm 4,

    .. math::
        b_{k,h}(x,a) = \sqrt{\frac{8L\,\mathrm{Var}_{\hat P_k}(V_{k,h+1})}{N_k(x,a)}}
        + \frac{14HL}{3N_k(x,a)}
        + \sqrt{\frac{8\sum_y \hat P_k(y|x,a)\min\{100^2 H^3 S^2 A L^2 / N'_{k,h+1}(y),\, H^2\}}{N_k(x,a)}},

    :math:`L = \ln(5SAT/\delta)`, :math:`T = KH`, and :math:`N'_{k,h}(y)` the visits to state :math:`y` at
    stage :math:`h` (the last term is 0 at the last stage, where :math:`V_{k,H} = V^*_H = 0`). The episode
    is played greedily, :math:`\pi_k(h, x) = \arg\max_a Q_{k,h}(x,a)` (first maximiser). Regret
    :math:`\tilde O(\sqrt{HSAT} + H^2S^2A + H\sqrt T)` with probability :math:`1-\delta` (their Theorem 2).
    The paper takes the reward as known; here :math:`\hat r_k` is the empirical mean (exact after one visit
    for deterministic rewards).

    Parameters
    ----------
    S, A, H : int
        Sizes and horizon.
    n_episodes : int
        :math:`K` (enters :math:`L` through :math:`T = KH`).
    delta : float
        Confidence :math:`\delta \in (0, 1)`.
    mask : bool ndarray (S, A), optional
        Feasible actions.
    bonus_scale : float
        Factor on :math:`b_{k,h}` (1 = the paper; below 1 voids the guarantee, see :class:`UCRL2`).
    tie_break : {"random", "first"}
        How :math:`\arg\max_a Q_{k,h}(x, a)` picks among exactly tied actions (all actions tie at
        :math:`H` while unvisited or capped): uniformly with the agent's generator, or the first one.
    seed : int or Generator
        Generator of the tie-breaking draws.
    """

    def __init__(
        self,
        S: int,
        A: int,
        H: int,
        n_episodes: int,
        delta: float = 0.05,
        mask: np.ndarray | None = None,
        bonus_scale: float = 1.0,
        tie_break: str = "random",
        seed: int | np.random.Generator = 0,
    ) -> None:
        self.S, self.A, self.mask = _check_sizes(S, A, mask)
        self.bonus_scale = _check_scale(bonus_scale, "bonus_scale")
        self.tie_break = _check_tie_break(tie_break)
        self.rng = as_rng(seed)
        for name, v in (("H", H), ("n_episodes", n_episodes)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise InvalidArgumentError(f"{name} = {v!r} must be a positive int")
        self.H, self.K = int(H), int(n_episodes)
        self.delta = _check_delta(delta)
        S, A, H = self.S, self.A, self.H
        self.L = math.log(5.0 * S * A * self.K * H / self.delta)
        self.c3 = 100.0**2 * H**3 * S**2 * A * self.L**2
        self.n_sa = np.zeros((S, A), dtype=np.int64)
        self.n_sas = np.zeros((S, A, S), dtype=np.int64)
        self.r_sum = np.zeros((S, A))
        self.n_hs = np.zeros((H, S), dtype=np.int64)
        self.Q = np.full((H, S, A), float(H))
        self.Q[:, ~self.mask] = -np.inf
        self._pi: np.ndarray | None = None
        self._pi_list: list[list[int]] = []
        self._stale = True
        self._buffer: list[tuple[int, int, float, int, int]] = []

    @classmethod
    def from_spec(
        cls,
        spec: EnvSpec,
        seed: int | np.random.Generator,
        delta: float = 0.05,
        bonus_scale: float = 1.0,
        tie_break: str = "random",
    ) -> UCBVI:
        """The agent for an episodic environment (``seed`` drives the tie-breaking)."""
        if not spec.episodic:
            raise InvalidArgumentError(
                "UCBVI is an episodic algorithm; use setting = 'episodic' with a horizon H"
            )
        return cls(
            spec.S,
            spec.A,
            spec.horizon,
            spec.n_episodes,
            delta=delta,
            mask=spec.mask,
            bonus_scale=bonus_scale,
            tie_break=tie_break,
            seed=seed,
        )

    def _plan(self) -> None:
        for s, a, r, s2, h in self._buffer:
            self.n_sa[s, a] += 1
            self.n_sas[s, a, s2] += 1
            self.r_sum[s, a] += r
            self.n_hs[h, s] += 1
        self._buffer.clear()
        tie_u = (
            self.rng.random((self.H, self.S))
            if self.tie_break == "random"
            else np.full((self.H, self.S), -1.0)
        )
        Q, _, pol = K.ucbvi_bernstein_backward(
            self.n_sa,
            self.n_sas,
            self.r_sum,
            self.n_hs,
            self.Q,
            self.mask,
            self.L,
            self.c3,
            self.bonus_scale,
            tie_u,
        )
        self.Q = Q
        pol.setflags(write=False)
        self._pi = pol
        self._pi_list = pol.tolist()
        self._stale = False

    def act(self, obs: Observation) -> int:
        """:math:`\\pi_k(h, s)`; the first step of an episode computes :math:`Q_k` from the counts so far."""
        if self._stale:
            if obs.step != 0:
                raise InvalidArgumentError(f"UCBVI: an episode must start at stage 0, got stage {obs.step}")
            self._plan()
        return self._pi_list[obs.step][obs.state]

    def observe(self, transition: Transition) -> None:
        """Buffer the transition; counts are updated between episodes (as in Algorithm 1)."""
        t = transition
        self._buffer.append((t.state, t.action, t.reward, t.next_state, t.step))
        if t.done:
            self._stale = True

    def end_episode(self) -> None:
        """The next action starts a new episode (and a new backward pass)."""
        self._stale = True

    def policy(self) -> np.ndarray | None:
        """:math:`\\pi_k` (H, S) of the current episode."""
        return self._pi


#: name -> (class, settings it supports)
AGENTS: dict[str, tuple[type, tuple[str, ...]]] = {
    "ucbvi": (UCBVI, ("episodic",)),
    "ucrl2": (UCRL2, ("continuing",)),
    "random": (RandomAgent, ("episodic", "continuing")),
}

#: agents defined in other packages, imported on first use: name -> ("package.module:Class", settings)
LAZY_AGENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "loop": ("mdpkit.average.loop:MLELoop", ("continuing",)),
    "ucrl2-span": ("mdpkit.average.baselines:SpanUCRL", ("continuing",)),
    "loop-linear": ("mdpkit.average.linear:LinearLOOP", ("continuing",)),
}


def resolve_agent(name: str) -> type:
    """The agent class called ``name`` in :data:`AGENTS`, or ``"package.module:Class"``.

    A class from a module must define ``from_spec(spec, seed, **params)``.
    """
    if not isinstance(name, str):
        raise InvalidArgumentError(f"algorithm name {name!r} must be a string")
    key = name.lower()
    if key in AGENTS:
        return AGENTS[key][0]
    if key in LAZY_AGENTS:
        name = LAZY_AGENTS[key][0]
    if ":" in name:
        mod, _, attr = name.partition(":")
        try:
            cls = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as exc:
            raise InvalidArgumentError(f"algorithm {name!r} cannot be imported: {exc}") from None
        if not hasattr(cls, "from_spec"):
            raise InvalidArgumentError(
                f"algorithm {name!r} has no from_spec(spec, seed, **params) constructor"
            )
        return cls
    raise InvalidArgumentError(
        f"unknown algorithm {name!r}; known: {sorted(AGENTS)} (or give 'package.module:Class')"
    )


def agent_settings(name: str) -> tuple[str, ...]:
    """The settings (``"episodic"``, ``"continuing"``) an agent supports (both for external classes)."""
    key = name.lower() if isinstance(name, str) else name
    if key in AGENTS:
        return AGENTS[key][1]
    if key in LAZY_AGENTS:
        return LAZY_AGENTS[key][1]
    resolve_agent(name)
    return ("episodic", "continuing")


def agent_params(name: str) -> dict[str, object]:
    """The keyword parameters ``from_spec`` accepts for agent ``name``, with their defaults."""
    cls = resolve_agent(name)
    sig = inspect.signature(cls.from_spec)
    out = {}
    for p in list(sig.parameters.values())[2:]:
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        out[p.name] = p.default
    return out


def make_agent(name: str, spec: EnvSpec, seed: int | np.random.Generator, **params: object) -> Agent:
    """Build agent ``name`` for ``spec``; unknown parameters raise an error that lists the accepted ones."""
    cls = resolve_agent(name)
    accepted = agent_params(name)
    has_var_kw = any(p.kind == p.VAR_KEYWORD for p in inspect.signature(cls.from_spec).parameters.values())
    unknown = sorted(set(params) - set(accepted))
    if unknown and not has_var_kw:
        raise InvalidArgumentError(
            f"algorithm {name!r} got unknown parameter(s) {unknown}; it accepts {sorted(accepted)}"
        )
    setting = "episodic" if spec.episodic else "continuing"
    if setting not in agent_settings(name):
        raise InvalidArgumentError(
            f"algorithm {name!r} does not support the {setting} setting (supports {agent_settings(name)})"
        )
    return cls.from_spec(spec, seed, **params)
