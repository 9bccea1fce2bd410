r"""Multi-armed bandits with finite reward distributions (single-turn problems).

A bandit is the single-turn case of the problems in :mod:`mdpkit.policy_gradient`: a policy
:math:`\pi \in \Delta(\mathcal A)` pulls arm :math:`a` and receives a reward :math:`r \sim \nu_a`, where
:math:`\nu_a` is a finite distribution (a point mass for deterministic rewards, two points for a
Bernoulli/verifier reward). The objective is :math:`J(\pi) = \sum_a \pi(a)\, \mu_a` with
:math:`\mu_a = \mathbb E_{\nu_a}[r]`. Entries may be Fractions, in which case every quantity derived
here (means, return distributions, :math:`J`) is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from mdpkit.errors import InvalidArgumentError, InvalidPolicyError
from mdpkit.policy_gradient._common import Number, check_prob_vector, is_exact
from mdpkit.policy_gradient.distributions import Dist, mixture

__all__ = ["Bandit"]


@dataclass(frozen=True, eq=False, init=False)
class Bandit:
    r"""A bandit whose arm ``a`` pays a reward drawn from a finite distribution :math:`\nu_a`.

    Parameters
    ----------
    arms : sequence of Dist, or sequence of numbers
        One reward distribution per arm; a plain number is a deterministic reward.

    Attributes
    ----------
    arms : tuple of Dist
    A : int
        Number of arms.

    Examples
    --------
    >>> from fractions import Fraction as F
    >>> b = Bandit([Dist.from_arrays([0, 10], [F(9, 10), F(1, 10)]), 1])   # risky vs safe arm
    >>> b.means()
    [Fraction(1, 1), Fraction(1, 1)]
    """

    arms: tuple[Dist, ...]

    def __init__(self, arms: Sequence[Dist | Number]) -> None:
        if len(arms) == 0:
            raise InvalidArgumentError("a bandit needs at least one arm")
        out = []
        for a, arm in enumerate(arms):
            if isinstance(arm, Dist):
                out.append(arm)
            else:
                try:
                    v = arm if is_exact(arm) else float(arm)
                except (TypeError, ValueError):
                    raise InvalidArgumentError(f"arm {a}: {arm!r} is neither a Dist nor a number") from None
                out.append(Dist((v,), (Fraction(1) if is_exact(v) else 1.0,)))
        object.__setattr__(self, "arms", tuple(out))

    @classmethod
    def deterministic(cls, rewards: Sequence[Number]) -> Bandit:
        """Arm ``a`` always pays ``rewards[a]``."""
        return cls(list(rewards))

    @classmethod
    def bernoulli(cls, p: Sequence[Number], high: Number = 1, low: Number = 0) -> Bandit:
        """Arm ``a`` pays ``high`` with probability ``p[a]`` and ``low`` otherwise (a verifier reward)."""
        arms = []
        for a, pa in enumerate(p):
            if not 0 <= pa <= 1:
                raise InvalidArgumentError(f"p[{a}] = {pa} is not a probability")
            one = Fraction(1) if is_exact(pa) else 1.0
            arms.append(
                Dist.from_arrays([low, high], [one - pa, pa])
                if 0 < pa < 1
                else Dist((high if pa == 1 else low,), (one,))
            )
        return cls(arms)

    @property
    def A(self) -> int:
        """Number of arms."""
        return len(self.arms)

    @property
    def exact(self) -> bool:
        """Whether every arm's distribution is rational."""
        return all(arm.exact for arm in self.arms)

    @property
    def deterministic_rewards(self) -> bool:
        """Whether every arm pays a deterministic reward."""
        return all(arm.K == 1 for arm in self.arms)

    def means(self) -> list[Number]:
        r""":math:`\mu_a = \mathbb E_{\nu_a}[r]` (exact for rational arms)."""
        return [arm.mean() for arm in self.arms]

    def optimum(self) -> Number:
        r""":math:`J^* = \max_a \mu_a`."""
        return max(self.means())

    def check_policy(self, pi: Sequence[Number]) -> list[Number]:
        """Validate a policy (float vector or a sequence of Fractions summing exactly to 1)."""
        arr = np.asarray(pi, dtype=object if any(is_exact(x) for x in pi) else np.float64)
        if arr.shape != (self.A,):
            raise InvalidPolicyError(f"policy has shape {arr.shape}, expected ({self.A},)")
        check_prob_vector(arr, "policy")
        return list(arr)

    def value(self, pi: Sequence[Number]) -> Number:
        r""":math:`J(\pi) = \sum_a \pi(a) \mu_a` (exact when ``pi`` and the arms are rational)."""
        p = self.check_policy(pi)
        return sum((w * m for w, m in zip(p, self.means(), strict=True)), start=0 * p[0])

    def return_distribution(self, pi: Sequence[Number]) -> Dist:
        r"""Law of the reward of one pull, :math:`\sum_a \pi(a)\, \nu_a`."""
        p = self.check_policy(pi)
        return mixture(p, self.arms)

    def support(self) -> tuple[Number, ...]:
        """Sorted union of the arms' reward supports."""
        vals: set[Number] = set()
        for arm in self.arms:
            vals.update(arm.values)
        return tuple(sorted(vals))

    def to_float(self) -> Bandit:
        """A float copy."""
        return Bandit(
            [Dist(tuple(float(v) for v in a.values), tuple(float(p) for p in a.probs)) for a in self.arms]
        )

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form (numbers as exact strings)."""
        return {"arms": [arm.as_dict() for arm in self.arms]}

    def __repr__(self) -> str:
        return f"Bandit(A={self.A}, arms={list(self.arms)!r})"
