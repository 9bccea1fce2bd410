r"""Small random and named instances for the policy-gradient claims (bandits and multi-turn chains).

Random instances use integer rewards and probabilities with small denominators so that exact (Fraction)
versions exist and return supports stay small.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from mdpkit.core.model import FiniteHorizonMDP
from mdpkit.core.validate import check_choice
from mdpkit.envs._common import as_rng
from mdpkit.policy_gradient._common import check_int
from mdpkit.policy_gradient.bandit import Bandit
from mdpkit.policy_gradient.distributions import Dist

__all__ = ["random_rational_simplex", "random_bandit", "random_turn_chain", "risky_safe_bandit"]


def random_rational_simplex(k: int, rng: np.random.Generator, denominator: int = 10) -> list[Fraction]:
    """A random point of the open simplex with entries in ``(1/denominator) * {1, 2, ...}`` (needs
    ``denominator >= k``)."""
    check_int(k, "k", low=1)
    check_int(denominator, "denominator", low=k)
    # stars and bars: k positive parts summing to `denominator`
    cuts = (
        np.sort(rng.choice(np.arange(1, denominator), size=k - 1, replace=False)) if k > 1 else np.array([])
    )
    parts = np.diff(np.concatenate([[0], cuts, [denominator]])).astype(int)
    return [Fraction(int(x), denominator) for x in parts]


def random_bandit(
    A: int,
    seed: int | np.random.Generator,
    kind: str = "deterministic",
    K: int = 2,
    max_reward: int = 5,
    denominator: int = 10,
) -> Bandit:
    """A random bandit with exact rational arms.

    Parameters
    ----------
    A : int
        Number of arms.
    seed : int or Generator
    kind : {"deterministic", "bernoulli", "stochastic"}
        Deterministic integer rewards in ``[0, max_reward]``; Bernoulli arms (reward 1 w.p. ``p_a``, else
        0); or arms with ``K`` integer support points in ``[0, max_reward]`` and random rational weights.
    K : int
        Support size of a "stochastic" arm.
    max_reward, denominator : int
        Reward range and probability denominator.
    """
    check_int(A, "A", low=1)
    check_choice(kind, "kind", ("deterministic", "bernoulli", "stochastic"))
    rng = as_rng(seed)
    if kind == "deterministic":
        return Bandit.deterministic([Fraction(int(x)) for x in rng.integers(0, max_reward + 1, size=A)])
    if kind == "bernoulli":
        return Bandit.bernoulli([Fraction(int(x), denominator) for x in rng.integers(1, denominator, size=A)])
    arms = []
    for _ in range(A):
        k = min(K, max_reward + 1)
        vals = rng.choice(np.arange(max_reward + 1), size=k, replace=False)
        probs = random_rational_simplex(k, rng, max(denominator, k))
        arms.append(Dist.from_arrays([Fraction(int(v)) for v in vals], probs))
    return Bandit(arms)


def random_turn_chain(
    H: int,
    S: int,
    A: int,
    seed: int | np.random.Generator,
    deterministic: bool = False,
    outcome_only: bool = True,
    max_reward: int = 3,
    branching: int = 2,
) -> FiniteHorizonMDP:
    r"""A random multi-turn problem (time-indexed finite-horizon MDP) with integer rewards.

    Parameters
    ----------
    H, S, A : int
        Turns, states per turn, actions.
    seed : int or Generator
    deterministic : bool
        Deterministic transitions (each (h, s, a) has one successor) — the "tool call with a deterministic
        environment" case; otherwise each (h, s, a) has up to ``branching`` successors with random dyadic
        probabilities (multiples of 1/8, exact in floating point).
    outcome_only : bool
        Reward only at the end (an integer terminal reward per final state, the outcome reward of agentic
        RL); otherwise integer rewards ``R[h, s, a]`` at every turn and no terminal reward.
    max_reward : int
        Rewards are integers in ``[0, max_reward]``.
    branching : int
        Maximum number of successors of a stochastic transition.
    """
    for name, v in (("H", H), ("S", S), ("A", A)):
        check_int(v, name, low=1)
    rng = as_rng(seed)
    P = np.zeros((H, S, A, S))
    for h in range(H):
        for s in range(S):
            for a in range(A):
                if deterministic:
                    P[h, s, a, int(rng.integers(S))] = 1.0
                else:
                    k = int(rng.integers(1, min(branching, S) + 1))
                    succ = rng.choice(S, size=k, replace=False)
                    # dyadic probabilities (multiples of 1/8): rows sum to 1 exactly in floating point
                    cuts = np.sort(rng.choice(np.arange(1, 8), size=k - 1, replace=False))
                    w = np.diff(np.concatenate([[0], cuts, [8]])).astype(float)
                    P[h, s, a, succ] = w / 8.0
    if outcome_only:
        R = np.zeros((H, S, A))
        terminal = rng.integers(0, max_reward + 1, size=S).astype(float)
    else:
        R = rng.integers(0, max_reward + 1, size=(H, S, A)).astype(float)
        terminal = None
    initial = np.zeros(S)
    initial[0] = 1.0  # one prompt / query: every group member starts from the same state
    # a 4-d reward R[h, s, a, s'] (constant in s') is never ambiguous; the dyadic rows reduce it exactly
    R4 = np.broadcast_to(R[..., None], (H, S, A, S))
    return FiniteHorizonMDP(P, R4, H, initial=initial, terminal=terminal)


def risky_safe_bandit(high: int = 10, p_high: Fraction = Fraction(1, 5), safe: int = 1) -> Bandit:
    r"""Two arms: *risky* pays ``high`` w.p. ``p_high`` (else 0), *safe* always pays ``safe``.

    With the defaults the risky arm is optimal (mean 2 > 1), yet it loses most pairwise comparisons
    (:math:`\Pr(\text{risky} < \text{safe}) = 4/5`): a rank-like group advantage prefers the safe arm.
    """
    risky = Dist.from_arrays([Fraction(0), Fraction(high)], [1 - Fraction(p_high), Fraction(p_high)])
    return Bandit([risky, Fraction(safe)])
