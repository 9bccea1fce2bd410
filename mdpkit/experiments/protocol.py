r"""The online-learning protocol: an :class:`Agent` interacts with a tabular environment, and the runner
records what happened and computes the regret exactly against the model's optimal value.

Two settings:

* **episodic** (finite horizon :math:`H`, :func:`run_episodic`): episode :math:`k` starts in
  :math:`s_0^k \sim \mu` and lasts :math:`H` steps; the regret after :math:`K` episodes is

  .. math:: \mathrm{Regret}(K) = \sum_{k=1}^{K} V_0^*(s_0^k) - V_0^{\pi_k}(s_0^k),

  where :math:`\pi_k` is the Markov policy the agent played in episode :math:`k`, evaluated exactly by
  backward induction (Azar, Osband & Munos 2017, section 2). The realised regret
  :math:`\sum_k V_0^*(s_0^k) - \sum_h r_h^k` is recorded too.
* **continuing** (average reward, :func:`run_continuing`): one trajectory of :math:`T` steps; with
  :math:`\rho^*` the optimal gain of a communicating model,

  .. math:: \mathrm{Regret}(T) = T\rho^* - \sum_{t=1}^{T} r_t \quad
            \text{(Jaksch, Ortner \& Auer 2010, section 1)},

  and the pseudo-regret :math:`\sum_{t=1}^{T} \rho^* - g^{\pi_t}(s_t)` with :math:`g^{\pi}` the exact gain
  (:func:`mdpkit.policy_gain`) of the stationary policy :math:`\pi_t` in force at step :math:`t`.

An agent reports the policy it follows through :meth:`Agent.policy`; the runner checks every action against
it (deterministic policies) and records a *policy switch* each time it changes.
"""

from __future__ import annotations

import bisect
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from mdpkit.core.average import average_reward, policy_gain
from mdpkit.core.finite import backward_induction, evaluate_finite
from mdpkit.core.model import FiniteHorizonMDP, TabularMDP
from mdpkit.errors import InvalidArgumentError, InvalidPolicyError
from mdpkit.experiments import _numba as K

__all__ = [
    "Observation",
    "Transition",
    "EnvSpec",
    "Agent",
    "TabularEnv",
    "EpisodicRun",
    "ContinuingRun",
    "run_episodic",
    "run_continuing",
    "as_rng",
]

REWARD_NOISES = ("none", "bernoulli")

#: spawn key of the environment's stream when it is seeded with an int (see :class:`TabularEnv`)
ENV_STREAM = 0x656E76


def as_rng(seed: int | np.random.Generator | np.random.SeedSequence) -> np.random.Generator:
    """``np.random.default_rng(seed)``; a Generator is returned as is (and advanced by its user)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise InvalidArgumentError(f"seed = {seed!r} must be a non-negative int or a numpy Generator")
    return np.random.default_rng(int(seed))


class Observation(NamedTuple):
    """What an agent sees before acting: the current ``state`` and the ``step``.

    ``step`` is the stage :math:`h \\in \\{0..H-1\\}` inside the episode (episodic setting) or the global time
    :math:`t \\in \\{0..T-1\\}` (continuing setting).
    """

    state: int
    step: int


class Transition(NamedTuple):
    """One step of interaction: :math:`(s_t, a_t, r_t, s_{t+1})`, the ``step`` of :class:`Observation`, and
    ``done`` (True on the last step of an episode; always False in the continuing setting)."""

    state: int
    action: int
    reward: float
    next_state: int
    step: int
    done: bool


@dataclass(frozen=True, eq=False)
class EnvSpec:
    """What an agent may know before interacting: the sizes, the feasible actions, the horizon and budget.

    Attributes
    ----------
    S, A : int
        Numbers of states and actions.
    mask : bool ndarray (S, A)
        Feasible actions (``mask[s, a]``); the same at every stage.
    horizon : int or None
        :math:`H` in the episodic setting; None in the continuing setting.
    total_steps : int
        The interaction budget :math:`T` (number of steps; :math:`K = T // H` episodes when episodic).
    """

    S: int
    A: int
    mask: np.ndarray
    horizon: int | None
    total_steps: int

    @property
    def episodic(self) -> bool:
        """Whether a horizon is set."""
        return self.horizon is not None

    @property
    def n_episodes(self) -> int:
        """:math:`K = \\lfloor T / H \\rfloor` (episodic) — raises in the continuing setting."""
        if self.horizon is None:
            raise InvalidArgumentError("n_episodes is only defined in the episodic setting (horizon is None)")
        return self.total_steps // self.horizon


class Agent(ABC):
    """An online learner.

    The runner calls, at every step, ``a = agent.act(obs)``, then ``agent.policy()`` (optional, see below),
    then ``agent.observe(transition)``; in the episodic setting it calls ``agent.end_episode()`` after the
    last step of each episode.

    :meth:`policy` returns the policy under which the *last* action was chosen: an int array ``pi[s]`` or a
    stochastic matrix ``pi[s, a]`` (continuing), or ``pi[h, s]`` / ``pi[h, s, a]`` (episodic; a stationary
    ``(S,)``/``(S, A)`` array also works). Returning the same array object while the policy does not change
    keeps the runner cheap; an agent must not change its episodic policy inside an episode. Returning None
    (the default) disables the exact regret (recorded as NaN); the reward-based regret is always recorded.
    """

    @abstractmethod
    def act(self, obs: Observation) -> int:
        """The action to take in ``obs.state``."""

    @abstractmethod
    def observe(self, transition: Transition) -> None:
        """Learn from one transition."""

    def end_episode(self) -> None:  # noqa: B027 - optional hook, empty by design
        """Called after the last step of each episode (episodic setting only)."""

    def policy(self) -> np.ndarray | None:
        """The policy the last action was drawn from (see the class docstring), or None if unknown."""
        return None


class TabularEnv:
    r"""Sampler of a tabular model: :math:`s_{t+1} \sim P_h(\cdot | s_t, a_t)` and a reward.

    Parameters
    ----------
    mdp : TabularMDP or FiniteHorizonMDP
        The model (dense or CSR; time-indexed kernels for finite-horizon models).
    seed : int or Generator
        Source of every random draw (next states, initial states, reward noise). An int seeds a stream of
        its own (``SeedSequence(seed, spawn_key=(ENV_STREAM,))``), so an agent seeded with the same int
        draws independent numbers; a Generator is used as is.
    reward_noise : {"none", "bernoulli"}
        ``"none"``: the reward is :math:`r(s, a)`; ``"bernoulli"``: a draw of
        :math:`\mathrm{Bernoulli}(r(s, a))` (needs :math:`r \in [0, 1]`), the usual model of the regret
        papers.

    Notes
    -----
    Next states are drawn by inverting the cumulative distribution of the row with one uniform draw per step
    (uniforms come in blocks from the generator); rows are converted to Python lists on first use, so a step
    costs a few hundred nanoseconds.
    """

    _BLOCK = 4096

    def __init__(
        self, mdp: TabularMDP | FiniteHorizonMDP, seed: int | np.random.Generator, reward_noise: str = "none"
    ) -> None:
        if reward_noise not in REWARD_NOISES:
            raise InvalidArgumentError(f"reward_noise = {reward_noise!r} is not one of {REWARD_NOISES}")
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            as_rng(seed)  # validates
            seed = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(ENV_STREAM,)))
        self.rng = as_rng(seed)
        self.mdp = mdp
        self.finite = isinstance(mdp, FiniteHorizonMDP)
        self.S, self.A = mdp.S, mdp.A
        self.noise = reward_noise == "bernoulli"
        if self.finite:
            self.H = mdp.H
            n_stages = 1 if mdp.stationary else mdp.H
            self._csr = [sp.csr_matrix(mdp.P_rows_at(h)) for h in range(n_stages)]
            self._R = [np.where(mdp.mask[h], mdp.R[h], 0.0).tolist() for h in range(mdp.H)]
            masks = mdp.mask
        else:
            self.H = None
            self._csr = [sp.csr_matrix(mdp.P_rows)]
            self._R = [mdp.R_finite.tolist()]
            masks = mdp.mask[None]
        if self.noise:
            feas = np.asarray(masks, dtype=bool)
            Rs = mdp.R if self.finite else mdp.R[None]
            vals = np.asarray(Rs)[feas]
            if vals.size and (vals.min() < 0 or vals.max() > 1):
                raise InvalidArgumentError(
                    f"reward_noise='bernoulli' needs rewards in [0, 1]; the model has rewards in "
                    f"[{vals.min():g}, {vals.max():g}]"
                )
        self._staged = len(self._csr) > 1
        self._rows: list[dict[int, tuple[list[float], list[int], int]]] = [{} for _ in self._csr]
        self._u: list[float] = []
        self._i = self._BLOCK
        mu = np.asarray(mdp.initial)
        self._init_cdf = np.cumsum(mu).tolist()
        self._init_last = int(np.flatnonzero(mu > 0)[-1])

    def _refill(self) -> None:
        self._u = self.rng.random(self._BLOCK).tolist()
        self._i = 0

    def _uniform(self) -> float:
        if self._i >= self._BLOCK:
            self._refill()
        u = self._u[self._i]
        self._i += 1
        return u

    def _row(self, stage: int, r: int) -> tuple[list[float], list[int], int]:
        csr = self._csr[stage]
        lo, hi = csr.indptr[r], csr.indptr[r + 1]
        data = csr.data[lo:hi]
        keep = data > 0
        cdf = np.cumsum(data[keep]).tolist()
        idx = csr.indices[lo:hi][keep].tolist()
        row = (cdf, idx, len(idx) - 1)
        self._rows[stage][r] = row
        return row

    def reset(self) -> int:
        """Draw an initial state :math:`s_0 \\sim \\mu`."""
        s = bisect.bisect_right(self._init_cdf, self._uniform())
        return min(s, self._init_last)  # (a cumulative sum that rounds below 1 must not pick a null state)

    def step(self, state: int, action: int, h: int = 0) -> tuple[float, int]:
        """One transition from ``(state, action)`` at stage ``h``: returns ``(reward, next_state)``.

        The next state is the first :math:`s'` whose cumulative probability exceeds a uniform draw.
        """
        stage = h if self._staged else 0
        r = state * self.A + action
        row = self._rows[stage].get(r)
        if row is None:
            row = self._row(stage, r)
        if self._i >= self._BLOCK:
            self._refill()
        k = bisect.bisect_right(row[0], self._u[self._i])
        self._i += 1
        nxt = row[1][k if k <= row[2] else row[2]]
        mean = self._R[h if self.finite else 0][state][action]
        if self.noise:
            return (1.0 if self._uniform() < mean else 0.0), nxt
        return mean, nxt


def _bad_action(a: object, s: int, step: int, mask: list[list[bool]]) -> int:
    """``a`` as an int if it is a feasible action in ``s``; otherwise raise (slow path of the runners)."""
    if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
        raise InvalidArgumentError(f"agent.act returned {a!r} at step {step} (state {s}); expected an int")
    a = int(a)
    if not (0 <= a < len(mask[s])) or not mask[s][a]:
        raise InvalidArgumentError(f"agent.act returned action {a} at step {step} in state {s}: not feasible")
    return a


def _allowed_table(pol: np.ndarray, H: int | None) -> tuple[bool, list]:
    """How the runners check actions against a validated policy: ``(True, pi)`` with nested int lists
    ``pi[s]`` / ``pi[h][s]`` for a deterministic policy, ``(False, ok)`` with nested bool lists
    ``ok[s][a]`` / ``ok[h][s][a]`` (positive probability) for a stochastic one."""
    det = pol.dtype.kind in "iu"
    table = pol if det else pol > 0
    if H is not None and table.ndim == (1 if det else 2):
        table = np.broadcast_to(table, (H, *table.shape))
    return det, table.tolist()


def _policy_checker(S: int, A: int, H: int | None):
    """A function that validates the shape and dtype of a reported policy (raises InvalidPolicyError)."""
    if H is None:
        shapes = {"i": ((S,),), "f": ((S, A),)}
        expected = f"({S},) ints or ({S}, {A}) floats"
    else:
        shapes = {"i": ((S,), (H, S)), "f": ((S, A), (H, S, A))}
        expected = f"({H}, {S}) or ({S},) ints, or ({H}, {S}, {A}) or ({S}, {A}) floats"

    def check(pol: np.ndarray) -> None:
        kind = "i" if pol.dtype.kind in "iu" else "f" if pol.dtype.kind == "f" else "?"
        if pol.shape not in shapes.get(kind, ()):
            raise InvalidPolicyError(
                f"agent.policy() returned an array of shape {pol.shape} and dtype {pol.dtype}; "
                f"expected {expected}"
            )
        if kind == "i" and pol.size and (pol.min() < 0 or pol.max() >= A):
            bad = np.argwhere((pol < 0) | (pol >= A))[0]
            raise InvalidPolicyError(
                f"agent.policy()[{', '.join(map(str, bad))}] = {pol[tuple(bad)]} "
                f"is not an action in 0..{A - 1}"
            )

    return check


_UNSET = object()


class _PolicyLog:
    """Distinct policies played and the segments during which each was in force."""

    def __init__(self, check, H: int | None) -> None:
        self.check = check
        self.H = H
        self.allowed: list[tuple[bool, list]] = []
        self.policies: list[np.ndarray] = []
        self._ids: dict[tuple[tuple[int, ...], str, bytes], int] = {}
        self.last_obj: object = None
        self.last_id = -1

    def id_of(self, pol: np.ndarray | None) -> int:
        """Index of ``pol`` among the distinct policies seen (registering it if new); -1 for None."""
        if pol is None:
            return -1
        if pol is self.last_obj:
            return self.last_id
        arr = np.asarray(pol)
        key = (arr.shape, arr.dtype.str, arr.tobytes())
        pid = self._ids.get(key)
        if pid is None:
            self.check(arr)
            pid = len(self.policies)
            frozen = np.array(arr, copy=True)
            frozen.setflags(write=False)
            self.policies.append(frozen)
            self.allowed.append(_allowed_table(frozen, self.H))
            self._ids[key] = pid
        self.last_obj, self.last_id = pol, pid
        return pid


@dataclass(frozen=True, eq=False)
class EpisodicRun:
    r"""What :func:`run_episodic` recorded over :math:`K` episodes of horizon :math:`H`.

    Attributes
    ----------
    H, K : int
        Horizon and number of episodes (:math:`T = KH` steps).
    start_states : int ndarray (K,)
        :math:`s_0^k`.
    returns : ndarray (K,)
        Realised returns :math:`\sum_h r_h^k + v_{\mathrm{term}}(s_H^k)`.
    v_star : ndarray (S,)
        :math:`V_0^*`: the exact value of the optimal policy found by backward induction.
    values : ndarray (K,)
        :math:`V_0^{\pi_k}(s_0^k)`, exact (NaN where the agent reported no policy).
    policy_ids : int ndarray (K,)
        Index into ``policies`` of the policy played in each episode (-1 if unknown).
    policies : list of ndarray
        The distinct policies played.
    wall_time : float
        Seconds spent in the interaction loop (agent + environment).
    eval_time : float
        Seconds spent evaluating the played policies and solving the model.
    """

    H: int
    K: int
    start_states: np.ndarray
    returns: np.ndarray
    v_star: np.ndarray
    values: np.ndarray
    policy_ids: np.ndarray
    policies: list[np.ndarray] = field(repr=False)
    wall_time: float
    eval_time: float

    @property
    def steps(self) -> np.ndarray:
        """Steps elapsed at the end of each episode, :math:`t_k = kH` (K,)."""
        return self.H * np.arange(1, self.K + 1, dtype=np.int64)

    @property
    def n_switches(self) -> int:
        """Number of episodes whose policy differs from the previous episode's."""
        ids = self.policy_ids
        return int(np.count_nonzero(ids[1:] != ids[:-1])) if ids.size else 0

    def regret(self) -> np.ndarray:
        r"""Cumulative exact regret :math:`\sum_{j \le k} V_0^*(s_0^j) - V_0^{\pi_j}(s_0^j)` (K,)."""
        return np.cumsum(self.v_star[self.start_states] - self.values)

    def realized_regret(self) -> np.ndarray:
        r"""Cumulative realised regret :math:`\sum_{j \le k} V_0^*(s_0^j) - \sum_h r_h^j` (K,)."""
        return np.cumsum(self.v_star[self.start_states] - self.returns)


@dataclass(frozen=True, eq=False)
class ContinuingRun:
    r"""What :func:`run_continuing` recorded over :math:`T` steps.

    Attributes
    ----------
    states, actions : int ndarray (T,)
        :math:`s_t, a_t` for :math:`t = 0..T-1`.
    rewards : ndarray (T,)
        :math:`r_t`.
    rho_star : float
        Optimal gain :math:`\rho^*` (:func:`mdpkit.average_reward`).
    gains : ndarray (T,)
        :math:`g^{\pi_t}(s_t)`, exact (NaN where the agent reported no policy).
    switch_times : int ndarray
        Steps :math:`t` at which the policy in force changed (the first policy starts at 0, not counted).
    policy_ids : int ndarray (T,)
        Index into ``policies`` of the policy in force at each step (-1 if unknown).
    policies : list of ndarray
        The distinct policies played.
    wall_time, eval_time : float
        Seconds in the interaction loop; seconds solving the model and evaluating the played policies.
    """

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    rho_star: float
    gains: np.ndarray
    switch_times: np.ndarray
    policy_ids: np.ndarray
    policies: list[np.ndarray] = field(repr=False)
    wall_time: float
    eval_time: float

    @property
    def T(self) -> int:
        """Number of steps."""
        return int(self.rewards.size)

    @property
    def steps(self) -> np.ndarray:
        """:math:`t = 1..T` (T,)."""
        return np.arange(1, self.T + 1, dtype=np.int64)

    @property
    def n_switches(self) -> int:
        """Number of policy changes."""
        return int(self.switch_times.size)

    def regret(self) -> np.ndarray:
        r""":math:`t\rho^* - \sum_{j<t} r_j` for :math:`t = 1..T` (T,)."""
        return self.rho_star * self.steps - np.cumsum(self.rewards)

    def pseudo_regret(self) -> np.ndarray:
        r""":math:`\sum_{j<t} \rho^* - g^{\pi_j}(s_j)` for :math:`t = 1..T` (T,)."""
        return np.cumsum(self.rho_star - self.gains)


class _FiniteEvaluator:
    """Exact :math:`V_0^\\pi` of Markov policies: one numba pass for the deterministic ones of a dense model,
    :func:`mdpkit.evaluate_finite` for the others."""

    def __init__(self, fh: FiniteHorizonMDP) -> None:
        self.fh = fh
        self.fast = not (fh.stationary and sp.issparse(fh.P))
        if self.fast:
            P = np.asarray(fh.P)
            self.P = np.ascontiguousarray(P[None] if fh.stationary else P)
            self.R = np.ascontiguousarray(np.where(fh.mask, fh.R, 0.0))
            self.terminal = np.ascontiguousarray(fh.terminal, dtype=np.float64)

    def values(self, policies: list[np.ndarray]) -> np.ndarray:
        """:math:`V_0^{\\pi_i}` (n, S) of validated policies (see :func:`_policy_checker`)."""
        H, S = self.fh.H, self.fh.S
        out = np.empty((len(policies), S))
        det = [i for i, p in enumerate(policies) if p.dtype.kind in "iu"] if self.fast else []
        if det:
            stack = np.stack([np.broadcast_to(policies[i], (H, S)) for i in det]).astype(np.int64)
            ok = np.take_along_axis(
                np.broadcast_to(self.fh.mask, (len(det), H, S, self.fh.A)), stack[..., None], 3
            )
            if not ok.all():
                j, h, s, _ = np.argwhere(~ok)[0]
                raise InvalidPolicyError(
                    f"policy #{det[j]} plays the infeasible action {stack[j, h, s]} in state {s} at stage {h}"
                )
            out[det] = K.eval_markov_det_dense(self.P, self.R, stack, self.terminal)
        rest = sorted(set(range(len(policies))) - set(det))
        for i in rest:
            out[i] = evaluate_finite(self.fh, policies[i])[0][0]
        return out


def run_episodic(
    mdp: FiniteHorizonMDP,
    agent: Agent,
    n_episodes: int,
    seed: int | np.random.Generator,
    reward_noise: str = "none",
    check_policy: bool = True,
) -> EpisodicRun:
    r"""Let ``agent`` play ``n_episodes`` episodes of the finite-horizon ``mdp`` and record them.

    Parameters
    ----------
    mdp : FiniteHorizonMDP
        Horizon :math:`H`, initial distribution :math:`\mu` (each episode starts in :math:`s_0 \sim \mu`).
    agent : Agent
        The learner; its :meth:`Agent.policy` must return a Markov policy that stays fixed within an episode.
    n_episodes : int
        :math:`K`.
    seed : int or Generator
        Seed of the environment's draws (the agent has its own).
    reward_noise : {"none", "bernoulli"}
        See :class:`TabularEnv`.
    check_policy : bool
        Check every action against the reported policy (it must have positive probability) and raise
        :class:`~mdpkit.InvalidPolicyError` otherwise.

    Returns
    -------
    EpisodicRun
        Regret: :math:`\sum_k V_0^*(s_0^k) - V_0^{\pi_k}(s_0^k)` with :math:`V^{\pi_k}` computed exactly.
    """
    if not isinstance(mdp, FiniteHorizonMDP):
        raise InvalidArgumentError(f"run_episodic needs a FiniteHorizonMDP, got {type(mdp).__name__}")
    if isinstance(n_episodes, bool) or not isinstance(n_episodes, (int, np.integer)) or n_episodes < 1:
        raise InvalidArgumentError(f"n_episodes = {n_episodes!r} must be a positive int")
    env = TabularEnv(mdp, seed, reward_noise)
    H, Kn, A = mdp.H, int(n_episodes), mdp.A
    masks = np.asarray(mdp.mask).tolist()
    starts = np.empty(Kn, dtype=np.int64)
    returns = np.empty(Kn)
    ids = np.empty(Kn, dtype=np.int64)
    log = _PolicyLog(_policy_checker(mdp.S, A, H), H)
    has_end = type(agent).end_episode is not Agent.end_episode
    act, observe, policy, step = agent.act, agent.observe, agent.policy, env.step
    last = H - 1
    terminal = np.asarray(mdp.terminal).tolist()
    prev_obj: object = _UNSET
    pid, det, table = -1, None, None
    t0 = time.perf_counter()
    for k in range(Kn):
        s = env.reset()
        starts[k] = s
        g = 0.0
        pid_k = None
        for h in range(H):
            a = act(Observation(s, h))
            if type(a) is not int or not (0 <= a < A and masks[h][s][a]):
                a = _bad_action(a, s, h, masks[h])
            pol = policy()
            if pol is not prev_obj:
                prev_obj = pol
                pid = log.id_of(pol)
                det, table = log.allowed[pid] if (check_policy and pid >= 0) else (None, None)
            if pid_k is None:
                pid_k = pid
            elif pid != pid_k:
                raise InvalidPolicyError(
                    f"the agent changed its policy inside episode {k} (at stage {h}); episodic agents must "
                    "fix their Markov policy for a whole episode"
                )
            if table is not None and not (table[h][s] == a if det else table[h][s][a]):
                raise InvalidPolicyError(
                    f"episode {k}, stage {h}, state {s}: the agent played action {a}, which its reported "
                    "policy does not allow"
                )
            r, s2 = step(s, a, h)
            g += r
            observe(Transition(s, a, r, s2, h, h == last))
            s = s2
        if has_end:
            agent.end_episode()
        returns[k] = g + terminal[s]
        ids[k] = pid_k
    wall = time.perf_counter() - t0
    t1 = time.perf_counter()
    evaluator = _FiniteEvaluator(mdp)
    # V* as the value of an optimal policy, computed by the same arithmetic as the played policies' values:
    # an agent that plays an optimal policy then has exactly zero regret (not a rounding residue)
    v_star = evaluator.values([backward_induction(mdp).policy])[0]
    values = np.full(Kn, np.nan)
    known = ids >= 0
    if log.policies:
        table = evaluator.values(log.policies)
        values[known] = table[ids[known], starts[known]]
    return EpisodicRun(
        H=H,
        K=Kn,
        start_states=starts,
        returns=returns,
        v_star=v_star,
        values=values,
        policy_ids=ids,
        policies=log.policies,
        wall_time=wall,
        eval_time=time.perf_counter() - t1,
    )


def run_continuing(
    mdp: TabularMDP,
    agent: Agent,
    T: int,
    seed: int | np.random.Generator,
    reward_noise: str = "none",
    check_policy: bool = True,
    rho_star: float | None = None,
) -> ContinuingRun:
    r"""Let ``agent`` act for ``T`` steps in the average-reward ``mdp`` and record the trajectory.

    Parameters
    ----------
    mdp : TabularMDP
        A model with constant optimal gain (communicating or weakly communicating); ``gamma`` is ignored and
        :math:`s_0 \sim` ``mdp.initial``.
    agent : Agent
        The learner; :meth:`Agent.policy` should return the stationary policy in force (``(S,)`` ints or
        ``(S, A)``), or None.
    T : int
        Number of steps.
    seed : int or Generator
        Seed of the environment's draws (the agent has its own).
    reward_noise : {"none", "bernoulli"}
        See :class:`TabularEnv`.
    check_policy : bool
        Check every action against the reported policy.
    rho_star : float, optional
        The optimal gain if already known (else :func:`mdpkit.average_reward` computes it, ``tol=1e-12``).

    Returns
    -------
    ContinuingRun
        Regret :math:`T\rho^* - \sum_t r_t` and pseudo-regret :math:`\sum_t \rho^* - g^{\pi_t}(s_t)`.
    """
    if not isinstance(mdp, TabularMDP):
        raise InvalidArgumentError(f"run_continuing needs a TabularMDP, got {type(mdp).__name__}")
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise InvalidArgumentError(f"T = {T!r} must be a positive int")
    T = int(T)
    env = TabularEnv(mdp, seed, reward_noise)
    A = mdp.A
    mask = np.asarray(mdp.mask).tolist()
    states: list[int] = []
    actions: list[int] = []
    rewards: list[float] = []
    id_list: list[int] = []
    switches: list[int] = []
    log = _PolicyLog(_policy_checker(mdp.S, A, None), None)
    act, observe, policy, step = agent.act, agent.observe, agent.policy, env.step
    s = env.reset()
    prev_obj: object = _UNSET
    pid = prev = None
    det, table = None, None
    t0 = time.perf_counter()
    for t in range(T):
        a = act(Observation(s, t))
        if type(a) is not int or not (0 <= a < A and mask[s][a]):
            a = _bad_action(a, s, t, mask)
        pol = policy()
        if pol is not prev_obj:
            prev_obj = pol
            pid = log.id_of(pol)
            if pid != prev:
                if prev is not None:
                    switches.append(t)
                prev = pid
            det, table = log.allowed[pid] if (check_policy and pid >= 0) else (None, None)
        if table is not None and not (table[s] == a if det else table[s][a]):
            raise InvalidPolicyError(
                f"step {t}, state {s}: the agent played action {a}, which its reported policy does not allow"
            )
        r, s2 = step(s, a)
        observe(Transition(s, a, r, s2, t, False))
        states.append(s)
        actions.append(a)
        rewards.append(r)
        id_list.append(pid)
        s = s2
    wall = time.perf_counter() - t0
    t1 = time.perf_counter()
    if rho_star is None:
        rho_star = float(average_reward(mdp, tol=1e-12).gain)
    gains = np.full(T, np.nan)
    states_a = np.asarray(states, dtype=np.int64)
    ids = np.asarray(id_list, dtype=np.int64)
    if log.policies:
        table = np.stack([policy_gain(mdp, p)[0] for p in log.policies])
        known = ids >= 0
        gains[known] = table[ids[known], states_a[known]]
    return ContinuingRun(
        states=states_a,
        actions=np.asarray(actions, dtype=np.int64),
        rewards=np.asarray(rewards, dtype=np.float64),
        rho_star=float(rho_star),
        gains=gains,
        switch_times=np.asarray(switches, dtype=np.int64),
        policy_ids=ids,
        policies=log.policies,
        wall_time=wall,
        eval_time=time.perf_counter() - t1,
    )
