r"""Hypothesis strategies for small exact bandit instances (counterexample searches of the claims).

Every number is a small-denominator Fraction, and everything shrinks towards fewer arms, fewer support
points, smaller rewards and the uniform policy, so that a shrunk counterexample is tiny and readable.
hypothesis is imported lazily (only when a strategy is built).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from mdpkit.policy_gradient.bandit import Bandit
from mdpkit.policy_gradient.distributions import Dist

__all__ = ["BanditInstance", "bandit_instances"]


@dataclass(frozen=True, eq=False)
class BanditInstance:
    """A bandit, an old policy and a clip range (the data of one PPO step).

    Attributes
    ----------
    bandit : Bandit
        Exact (Fraction) arms.
    pi : tuple of Fraction
        Old policy, summing exactly to 1.
    eps : Fraction
        PPO clip range.
    """

    bandit: Bandit
    pi: tuple[Fraction, ...]
    eps: Fraction

    def as_dict(self) -> dict[str, Any]:
        """JSON form with exact strings."""
        from mdpkit.claims.exact import fraction_str

        return {
            "bandit": self.bandit.as_dict(),
            "pi_old": [fraction_str(p) for p in self.pi],
            "eps": fraction_str(self.eps),
        }

    def __repr__(self) -> str:
        return f"BanditInstance({self.bandit!r}, pi={[str(p) for p in self.pi]}, eps={self.eps})"


def _weights(w: list[int]) -> list[Fraction]:
    tot = sum(w)
    return [Fraction(x, tot) for x in w]


def bandit_instances(
    max_arms: int = 3,
    max_support: int = 2,
    max_reward: int = 10,
    max_weight: int = 4,
    eps_choices: tuple[str, ...] = ("1/5", "1/10", "1/2"),
    deterministic: bool = False,
) -> Any:
    r"""Strategy of :class:`BanditInstance` with rational arms and policy.

    Parameters
    ----------
    max_arms : int
        Arms in ``[2, max_arms]``.
    max_support : int
        Reward support points per arm in ``[1, max_support]`` (1 for every arm if ``deterministic``).
    max_reward : int
        Integer rewards in ``[0, max_reward]``.
    max_weight : int
        Probabilities of rewards and of the policy are proportional to integers in ``[1, max_weight]``.
    eps_choices : tuple of str
        Clip ranges to draw from (shrinks to the first).
    """
    from hypothesis import strategies as st

    eps_f = [Fraction(e) for e in eps_choices]

    @st.composite
    def build(draw: Any) -> BanditInstance:
        A = draw(st.integers(2, max_arms))
        arms = []
        for _ in range(A):
            k = 1 if deterministic else draw(st.integers(1, max_support))
            vals = draw(st.lists(st.integers(0, max_reward), min_size=k, max_size=k, unique=True))
            w = draw(st.lists(st.integers(1, max_weight), min_size=k, max_size=k))
            arms.append(Dist.from_arrays([Fraction(v) for v in vals], _weights(w)))
        pw = draw(st.lists(st.integers(1, max_weight), min_size=A, max_size=A))
        eps = draw(st.sampled_from(eps_f))
        return BanditInstance(Bandit(arms), tuple(_weights(pw)), eps)

    return build()
