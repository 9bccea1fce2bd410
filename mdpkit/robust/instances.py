"""Random robust-MDP instances for the claims in ``proofs/robust_*.py`` and ``proofs/iwocs_*.py``.

Kernels and rewards are exact dyadic rationals (:func:`mdpkit.claims.instances.dyadic_round`), so a float
instance equals its rational copy and a counterexample can be re-checked exactly.
"""

from __future__ import annotations

import numpy as np

from mdpkit.claims.instances import dyadic_round
from mdpkit.core.model import TabularMDP
from mdpkit.errors import InvalidArgumentError
from mdpkit.robust.sets import FiniteSet, KLBall, L1Ball, RectangularHull, UncertaintySet

__all__ = ["KINDS", "random_kernels", "random_instance"]

#: Kinds of uncertainty set :func:`random_instance` draws.
KINDS = ("finite", "hull", "l1", "kl")


def random_kernels(
    rng: np.random.Generator, K: int, S: int, A: int, bits: int | None = 6
) -> list[np.ndarray]:
    """``K`` random kernels (S, A, S) with sparse-ish rows (Dirichlet(0.4)), rounded to multiples of
    2**-bits (exact dyadic rationals) unless ``bits`` is None."""
    out = [rng.dirichlet(np.full(S, 0.4), size=(S, A)) for _ in range(K)]
    return out if bits is None else [dyadic_round(P, bits) for P in out]


def random_instance(
    rng: np.random.Generator,
    kind: str,
    S: int,
    A: int,
    gamma: float = 0.9,
    K: int = 3,
    dyadic: bool = True,
    radius: float | None = None,
) -> tuple[TabularMDP, UncertaintySet]:
    """A model (uniform initial distribution) and an uncertainty set of ``kind``.

    ``dyadic``: kernels in multiples of 1/64 and rewards uniform in [-2, 2] in multiples of 1/16 (exact
    rationals); otherwise unrounded Dirichlet kernels and standard normal rewards.

    ``finite``: :class:`FiniteSet` of ``K`` kernels (static, non-rectangular); ``hull``: their
    :class:`RectangularHull`; ``l1`` / ``kl``: balls of radius ``radius`` (default 1/4 / 1/5) around the
    first kernel.
    """
    Ks = random_kernels(rng, K, S, A, 6 if dyadic else None)
    R = np.round(rng.uniform(-2, 2, size=(S, A)) * 16) / 16 if dyadic else rng.normal(size=(S, A))
    mdp = TabularMDP(Ks[0], R, gamma)
    if kind == "finite":
        return mdp, FiniteSet(Ks)
    if kind == "hull":
        return mdp, RectangularHull(Ks)
    if kind == "l1":
        return mdp, L1Ball(Ks[0], 0.25 if radius is None else radius)
    if kind == "kl":
        return mdp, KLBall(Ks[0], 0.2 if radius is None else radius)
    raise InvalidArgumentError(f"kind {kind!r} is not one of {KINDS}")
