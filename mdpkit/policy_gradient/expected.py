r"""Exact expected updates of REINFORCE, PPO-clip and mirror descent with critic or group-relative
advantages, on bandits and multi-turn (finite-horizon) problems, and the SeeUPO turn-by-turn schedule.

Advantages
----------
An ``advantage`` argument is either

* ``"true"``: the exact advantage :math:`A_h(s, a) = Q_h(s, a) - V_h(s)` (an ideal critic, "GAE" in
  SeeUPO's taxonomy), deterministic given the decision; or
* a :class:`~mdpkit.policy_gradient.grae.GroupAdvantage`: the group-relative advantage of a sampled
  return, whose conditional law given the decision :math:`(h, s, a)` is computed exactly from the return
  distributions (:mod:`mdpkit.policy_gradient.distributions`) and the multiset enumeration of
  :class:`~mdpkit.policy_gradient.grae.GroupMomentTable`. Every decision of a trajectory receives the
  trajectory's advantage (sequence-level outcome reward, as in GRPO and SeeUPO).

:class:`DecisionStats` holds, for each decision, :math:`m = \mathbb E[\hat A \mid s_h=s, a_h=a]` and the
expected positive and negative parts :math:`P, N` that the clipped surrogate needs.

Updates (for a learning rate :math:`\eta` and clip range :math:`\epsilon`)
------------------------------------------------------------------------
* REINFORCE: :math:`\theta \leftarrow \theta + \eta\, \mathbb E\big[\frac1G \sum_i \hat A_i \sum_h
  \nabla \log \pi_h(a_{h,i}|s_{h,i})\big]`, whose expectation is
  :math:`d_h(s)\,\pi_h(\cdot|s) \odot (m - \langle \pi_h, m\rangle)` per turn and state
  (:func:`reinforce_direction`);
* PPO-clip: :func:`~mdpkit.policy_gradient.ppo.ppo_clip_update` on the turn-level ratios
  :math:`\pi_h(a|s)/\pi_{h,\mathrm{old}}(a|s)` with state weights :math:`d_h(s)`;
* mirror descent / NPG / MDPO:
  :math:`\pi_h(\cdot|s) \propto \pi_{h,\mathrm{old}}(\cdot|s)\, e^{\eta m(s,\cdot)}`.

SeeUPO (Hu et al. 2026, arXiv:2602.06554, §4) updates the turns *one at a time in reverse execution
order*: for :math:`h = H-1, \dots, 0` the statistics of turn :math:`h` are recomputed with the later turns'
already-updated policies and only :math:`\pi_h` changes (:func:`sequential_update`, ``order="reverse"``).
``order="forward"`` and ``order="simultaneous"`` (every turn from the old statistics, i.e. ordinary
multi-turn PPO/GRPO with turn-level ratios) are provided for comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal, Union

import numpy as np

from mdpkit.core.finite import backward_induction
from mdpkit.core.model import FiniteHorizonMDP
from mdpkit.core.validate import check_choice
from mdpkit.errors import InvalidArgumentError
from mdpkit.policy_gradient._common import Number, check_int, check_positive, is_exact
from mdpkit.policy_gradient.bandit import Bandit
from mdpkit.policy_gradient.distributions import finite_return_distributions, float_dist, support_union
from mdpkit.policy_gradient.grae import GroupAdvantage, GroupMomentTable
from mdpkit.policy_gradient.mirror import mirror_descent_step
from mdpkit.policy_gradient.ppo import PPOUpdate, ppo_clip_update
from mdpkit.policy_gradient.softmax import logits_from_policy, score_direction, softmax

__all__ = [
    "AdvantageSpec",
    "DecisionStats",
    "finite_values",
    "finite_state_dist",
    "bandit_stats",
    "finite_stats",
    "reinforce_direction",
    "PGRun",
    "run_reinforce",
    "bandit_ppo_step",
    "sequential_update",
    "SequentialRun",
    "run_sequential",
]

#: ``"true"`` or a :class:`GroupAdvantage`.
AdvantageSpec = Union[str, GroupAdvantage]  # noqa: UP007 (a runtime alias)


def _check_adv(advantage: AdvantageSpec) -> AdvantageSpec:
    if isinstance(advantage, GroupAdvantage):
        return advantage
    if advantage == "true":
        return advantage
    raise InvalidArgumentError(f"advantage = {advantage!r} must be 'true' or a GroupAdvantage")


@dataclass(frozen=True, eq=False)
class DecisionStats:
    r"""Conditional statistics of the advantage given each decision.

    Attributes
    ----------
    mean, pos, neg : ndarray (..., A)
        :math:`\mathbb E[\hat A|\cdot]`, :math:`\mathbb E[\hat A^+|\cdot]`, :math:`\mathbb E[\hat A^-|\cdot]`
        (object arrays of Fractions when exact). Shape (A,) for a bandit, (H, S, A) for a multi-turn problem
        (zeros for decisions that never happen).
    weights : ndarray (...)
        Probability of reaching each decision state: 1 for a bandit, :math:`d_h(s)` with shape (H, S).
    """

    mean: np.ndarray
    pos: np.ndarray
    neg: np.ndarray
    weights: np.ndarray = field(default_factory=lambda: np.ones(()))


# --------------------------------------------------------------------------------------------- bandits
def _bandit_table(bandit: Bandit, adv: GroupAdvantage, exact: bool) -> GroupMomentTable:
    sup = bandit.support()
    return GroupMomentTable(adv, sup if exact else tuple(float(v) for v in sup), exact)


def bandit_stats(
    bandit: Bandit, pi: Sequence[Number], advantage: AdvantageSpec, table: GroupMomentTable | None = None
) -> DecisionStats:
    r"""Per-arm advantage statistics of a bandit policy.

    ``"true"``: :math:`\hat A = \mu_a - J(\pi)` (deterministic). A :class:`GroupAdvantage`: the member's
    own reward is :math:`r \sim \nu_a` and the other :math:`G - 1` rewards are i.i.d. from
    :math:`\sum_b \pi(b) \nu_b`. Exact when ``pi``, the arms (and ``eps``) are rational and the std's are.
    """
    advantage = _check_adv(advantage)
    p = bandit.check_policy(pi)
    exact = bandit.exact and all(is_exact(x) for x in p)
    if advantage == "true":
        mu = bandit.means()
        J = bandit.value(p)
        vals = [m - J for m in mu] if exact else [float(m) - float(J) for m in mu]
        dt = object if exact else np.float64
        zero = Fraction(0) if exact else 0.0
        return DecisionStats(
            np.array(vals, dtype=dt),
            np.array([max(v, zero) for v in vals], dtype=dt),
            np.array([max(-v, zero) for v in vals], dtype=dt),
        )
    if table is None:
        table = _bandit_table(bandit, advantage, exact)
    if table.exact and not exact:
        raise InvalidArgumentError("an exact moment table needs a rational bandit and a rational policy")
    marg = bandit.return_distribution(p)
    if table.exact:
        probs, arms = marg.prob_of(table.support), list(bandit.arms)
    else:
        probs, arms = float_dist(marg).prob_of(table.support), [float_dist(a) for a in bandit.arms]
    cache = table.moments(probs)
    out = [table.conditional(arm, None, cache) for arm in arms]
    dt = object if table.exact else np.float64
    return DecisionStats(*(np.array([o[i] for o in out], dtype=dt) for i in range(3)))


def bandit_ppo_step(
    bandit: Bandit,
    pi_old: Sequence[Number],
    advantage: AdvantageSpec,
    eps: Number = 0.2,
    method: Literal["exact", "gradient"] = "exact",
    tie: Literal["closest", "lo"] = "closest",
    steps: int = 5000,
    lr: float = 0.05,
) -> PPOUpdate:
    """One exact PPO-clip update of a bandit policy (see :func:`~mdpkit.policy_gradient.ppo.ppo_clip_update`).

    Returns the :class:`~mdpkit.policy_gradient.ppo.PPOUpdate` (``policy`` of shape (A,); ``argmax[0]`` is
    the polytope of maximisers in exact mode).
    """
    st = bandit_stats(bandit, pi_old, advantage)
    p = np.asarray(list(pi_old), dtype=st.pos.dtype)
    return ppo_clip_update(p, st.pos, st.neg, eps, method=method, tie=tie, steps=steps, lr=lr)


# --------------------------------------------------------------------------------------------- multi-turn
def finite_stats(
    fh: FiniteHorizonMDP,
    policy: np.ndarray,
    advantage: AdvantageSpec,
    table: GroupMomentTable | None = None,
    decimals: int | None = None,
) -> DecisionStats:
    r"""Per-decision advantage statistics of a time-indexed policy in a multi-turn problem (floats).

    ``"true"``: :math:`A_h(s, a) = Q_h(s, a) - V_h(s)`. A :class:`GroupAdvantage`: the sampled trajectory's
    return has law :math:`\mathcal L(R \mid s_h = s, a_h = a)` and the other members' returns are i.i.d.
    from the marginal return law; all members start from the same state (one prompt), so ``fh.initial``
    must be a point mass (:class:`InvalidArgumentError` otherwise). Shapes (H, S, A); weights
    :math:`d_h(s)` of shape (H, S).
    """
    advantage = _check_adv(advantage)
    pi = np.asarray(policy, dtype=np.float64)
    H, S, A = fh.H, fh.S, fh.A
    if advantage == "true":
        V, Q = finite_values(fh, pi)
        adv = np.where(fh.mask, Q - V[:H, :, None], 0.0)
        d = finite_state_dist(fh, pi)
        return DecisionStats(adv, np.maximum(adv, 0.0), np.maximum(-adv, 0.0), d)
    if np.count_nonzero(fh.initial) != 1:
        raise InvalidArgumentError(
            f"group-relative advantages compare trajectories of one prompt: the initial distribution must be "
            f"a point mass (it has {np.count_nonzero(fh.initial)} states); build one problem per state"
        )
    rd = finite_return_distributions(fh, pi, decimals=decimals)
    if table is None:
        sup = support_union([rd.marginal])
        table = GroupMomentTable(advantage, tuple(float(v) for v in sup), False)
    cache = table.moments(rd.marginal.prob_of(table.support))
    mean = np.zeros((H, S, A))
    pos = np.zeros((H, S, A))
    neg = np.zeros((H, S, A))
    for h in range(H):
        for s in range(S):
            for a in range(A):
                c = rd.conditional[h][s][a]
                if c is None:
                    continue
                mean[h, s, a], pos[h, s, a], neg[h, s, a] = table.conditional(c, None, cache)
    return DecisionStats(mean, pos, neg, rd.state_dist)


def reinforce_direction(
    problem: Bandit | FiniteHorizonMDP,
    logits: np.ndarray,
    advantage: AdvantageSpec,
    table: GroupMomentTable | None = None,
) -> np.ndarray:
    r"""Exact expected REINFORCE update direction in logit space.

    .. math:: \mathbb E\Big[\frac1G\sum_{i=1}^G \hat A_i \sum_h \nabla_\theta \log \pi_h(a_{h,i}|s_{h,i})\Big]
              = \Big(d_h(s)\, \pi_h(\cdot|s) \odot \big(m_h(s,\cdot) - \langle \pi_h(\cdot|s),
              m_h(s,\cdot)\rangle\big)\Big)_{h,s}

    (exchangeability of the group members reduces the group average to member 1). With
    ``advantage="true"`` this is the exact policy gradient :math:`\nabla_\theta J`. Shape of ``logits``.
    """
    pi = softmax(logits)
    if isinstance(problem, Bandit):
        st = bandit_stats(problem, list(pi), advantage, table)
        return score_direction(pi, np.asarray(st.mean, dtype=np.float64))
    st = finite_stats(problem, pi, advantage, table)
    return st.weights[:, :, None] * score_direction(pi, st.mean)


@dataclass(frozen=True, eq=False)
class PGRun:
    """Trajectory of an exact expected policy-gradient run.

    Attributes
    ----------
    J : ndarray (iters + 1,)
        Objective after each iteration (index 0: the initial policy).
    logits : ndarray
        Final logits.
    policy : ndarray
        Final policy.
    optimum : float
        :math:`J^*` (best arm / backward-induction value).
    """

    J: np.ndarray
    logits: np.ndarray
    policy: np.ndarray
    optimum: float

    @property
    def gap(self) -> np.ndarray:
        """:math:`J^* - J_k`."""
        return self.optimum - self.J


def finite_values(fh: FiniteHorizonMDP, policy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""``(V (H+1, S), Q (H, S, A))`` of a time-indexed policy by the backward recursion
    :math:`Q_h = r_h + P_h V_{h+1}`, :math:`V_h(s) = \sum_a \pi_h(a|s) Q_h(s, a)` (dense numpy; the same as
    :func:`mdpkit.evaluate_finite` without its validation, for the many small evaluations of the dynamics
    here). Infeasible pairs get :math:`Q = 0` weighted by :math:`\pi = 0`."""
    pi = np.asarray(policy, dtype=np.float64)
    H, S, A = fh.H, fh.S, fh.A
    R = np.where(fh.mask, fh.R, 0.0)
    V = np.empty((H + 1, S))
    Q = np.empty((H, S, A))
    V[H] = fh.terminal
    for h in range(H - 1, -1, -1):
        Ph = fh.P_at(h)
        Ph = Ph.toarray().reshape(S, A, S) if hasattr(Ph, "toarray") else np.asarray(Ph)
        Q[h] = R[h] + Ph @ V[h + 1]
        V[h] = np.sum(pi[h] * Q[h], axis=1)
    return V, Q


def finite_state_dist(fh: FiniteHorizonMDP, policy: np.ndarray) -> np.ndarray:
    r""":math:`d_h(s) = \Pr(s_h = s)` of a time-indexed policy, shape (H, S)."""
    pi = np.asarray(policy, dtype=np.float64)
    H, S, A = fh.H, fh.S, fh.A
    d = np.empty((H, S))
    d[0] = fh.initial
    for h in range(H - 1):
        Ph = fh.P_at(h)
        Ph = Ph.toarray().reshape(S, A, S) if hasattr(Ph, "toarray") else np.asarray(Ph)
        d[h + 1] = np.einsum("s,sa,sat->t", d[h], pi[h], Ph)
    return d


def _objective(problem: Bandit | FiniteHorizonMDP, pi: np.ndarray) -> float:
    if isinstance(problem, Bandit):
        return float(np.dot(pi, [float(m) for m in problem.means()]))
    V, _ = finite_values(problem, pi)
    return float(problem.initial @ V[0])


def _optimum(problem: Bandit | FiniteHorizonMDP) -> float:
    if isinstance(problem, Bandit):
        return float(problem.optimum())
    return float(backward_induction(problem).value)


def run_reinforce(
    problem: Bandit | FiniteHorizonMDP,
    advantage: AdvantageSpec,
    eta: float,
    iters: int,
    logits0: np.ndarray | None = None,
) -> PGRun:
    r"""Iterate the exact expected REINFORCE update :math:`\theta_{k+1} = \theta_k + \eta\, g(\theta_k)`.

    Parameters
    ----------
    problem : Bandit or FiniteHorizonMDP
        Single-turn bandit or multi-turn problem (time-indexed logits of shape (H, S, A)).
    advantage : "true" or GroupAdvantage
    eta : float
        Step size :math:`\eta > 0`.
    iters : int
        Number of updates.
    logits0 : ndarray, optional
        Initial logits (default: uniform policy, ``-inf`` on infeasible actions).

    Returns
    -------
    PGRun
    """
    check_positive(eta, "eta")
    check_int(iters, "iters", low=0)
    advantage = _check_adv(advantage)
    if isinstance(problem, Bandit):
        shape: tuple[int, ...] = (problem.A,)
        mask = None
    else:
        shape = (problem.H, problem.S, problem.A)
        mask = problem.mask
    th = np.zeros(shape) if logits0 is None else np.array(logits0, dtype=np.float64)
    if mask is not None and logits0 is None:
        th = np.where(mask, th, -np.inf)
    if th.shape != shape:
        raise InvalidArgumentError(f"logits0 has shape {th.shape}, expected {shape}")
    table = None
    if isinstance(advantage, GroupAdvantage):
        if isinstance(problem, Bandit):
            table = GroupMomentTable(advantage, tuple(float(v) for v in problem.support()), False)
        else:
            rd = finite_return_distributions(problem, softmax(th))
            table = GroupMomentTable(advantage, tuple(float(v) for v in rd.marginal.values), False)
    Js = np.empty(iters + 1)
    Js[0] = _objective(problem, softmax(th))
    for k in range(iters):
        th = th + eta * reinforce_direction(problem, th, advantage, table)
        # keep logits bounded (shifting a state's logits leaves the policy unchanged)
        th = th - np.max(np.where(np.isfinite(th), th, -np.inf), axis=-1, keepdims=True)
        Js[k + 1] = _objective(problem, softmax(th))
    return PGRun(Js, th, softmax(th), _optimum(problem))


# --------------------------------------------------------------------------------------------- sequential
def _turn_update(
    pi_h: np.ndarray,
    st_mean: np.ndarray,
    st_pos: np.ndarray,
    st_neg: np.ndarray,
    w: np.ndarray,
    update: str,
    eps: float,
    eta: float,
    method: str,
    tie: str,
) -> np.ndarray:
    if update == "ppo":
        return np.asarray(
            ppo_clip_update(pi_h, st_pos, st_neg, eps, weights=w, method=method, tie=tie).policy,
            dtype=np.float64,
        )
    if update == "npg":
        new = mirror_descent_step(pi_h, st_mean, eta)
        return np.where(w[:, None] > 0, new, pi_h)
    if update == "reinforce":
        th = logits_from_policy(pi_h) + eta * w[:, None] * score_direction(pi_h, st_mean)
        return softmax(th)
    raise InvalidArgumentError(f"update = {update!r} is not 'ppo', 'npg' or 'reinforce'")


def sequential_update(
    fh: FiniteHorizonMDP,
    policy: np.ndarray,
    advantage: AdvantageSpec,
    order: Literal["reverse", "forward", "simultaneous"] = "reverse",
    update: Literal["ppo", "npg", "reinforce"] = "ppo",
    eps: float = 0.2,
    eta: float = 1.0,
    method: Literal["exact", "gradient"] = "exact",
    tie: Literal["closest", "lo"] = "closest",
) -> tuple[np.ndarray, list[float]]:
    r"""One iteration of turn-wise policy updates in a multi-turn problem.

    Parameters
    ----------
    fh : FiniteHorizonMDP
    policy : ndarray (H, S, A)
        Current time-indexed policy.
    advantage : "true" or GroupAdvantage
    order : {"reverse", "forward", "simultaneous"}
        ``"reverse"``: SeeUPO's schedule, turns :math:`H-1, \dots, 0`, each with statistics recomputed
        after the later turns were updated; ``"forward"``: turns :math:`0, \dots, H-1`, likewise
        sequential; ``"simultaneous"``: every turn from the statistics of the old policy.
    update : {"ppo", "npg", "reinforce"}
        Per-turn rule: exact PPO-clip (``eps``, ``method``, ``tie``), mirror descent
        :math:`\pi_h \propto \pi_h e^{\eta m}`, or one REINFORCE step of size ``eta``.

    Returns
    -------
    (new_policy, J_trace)
        ``J_trace[0]`` is :math:`J` before the iteration, then one entry after each turn update (after the
        single joint update for ``"simultaneous"``).
    """
    check_choice(order, "order", ("reverse", "forward", "simultaneous"))
    check_choice(update, "update", ("ppo", "npg", "reinforce"))
    advantage = _check_adv(advantage)
    pi = np.array(policy, dtype=np.float64)
    trace = [_objective(fh, pi)]
    if order == "simultaneous":
        st = finite_stats(fh, pi, advantage)
        new = pi.copy()
        for h in range(fh.H):
            new[h] = _turn_update(
                pi[h], st.mean[h], st.pos[h], st.neg[h], st.weights[h], update, eps, eta, method, tie
            )
        trace.append(_objective(fh, new))
        return new, trace
    turns = range(fh.H - 1, -1, -1) if order == "reverse" else range(fh.H)
    for h in turns:
        st = finite_stats(fh, pi, advantage)
        pi[h] = _turn_update(
            pi[h], st.mean[h], st.pos[h], st.neg[h], st.weights[h], update, eps, eta, method, tie
        )
        trace.append(_objective(fh, pi))
    return pi, trace


@dataclass(frozen=True, eq=False)
class SequentialRun:
    """Result of :func:`run_sequential`.

    Attributes
    ----------
    J : ndarray (iters + 1,)
        Objective after each full iteration.
    trace : ndarray
        Objective after every single turn update (all iterations concatenated, starting with the initial J).
    policy : ndarray (H, S, A)
    optimum : float
        Backward-induction value :math:`J^*`.
    """

    J: np.ndarray
    trace: np.ndarray
    policy: np.ndarray
    optimum: float


def run_sequential(
    fh: FiniteHorizonMDP,
    advantage: AdvantageSpec,
    iters: int,
    order: Literal["reverse", "forward", "simultaneous"] = "reverse",
    update: Literal["ppo", "npg", "reinforce"] = "ppo",
    eps: float = 0.2,
    eta: float = 1.0,
    policy0: np.ndarray | None = None,
    method: Literal["exact", "gradient"] = "exact",
    tie: Literal["closest", "lo"] = "closest",
) -> SequentialRun:
    """Repeat :func:`sequential_update` ``iters`` times from ``policy0`` (default: uniform)."""
    check_int(iters, "iters", low=0)
    if policy0 is None:
        pi = softmax(np.where(fh.mask, 0.0, -np.inf))
    else:
        pi = np.array(policy0, dtype=np.float64)
    Js = [_objective(fh, pi)]
    trace = [Js[0]]
    for _ in range(iters):
        pi, tr = sequential_update(fh, pi, advantage, order, update, eps, eta, method, tie)
        trace.extend(tr[1:])
        Js.append(tr[-1])
    return SequentialRun(np.asarray(Js), np.asarray(trace), pi, _optimum(fh))
