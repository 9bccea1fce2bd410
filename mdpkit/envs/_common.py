"""Shared helpers of the instance families: seeds, argument checks, the dense/CSR storage rule."""

from __future__ import annotations

import numbers

import numpy as np

from mdpkit.core import validate as V
from mdpkit.errors import InvalidArgumentError

#: Above this many dense entries ``S * A * S`` a family built with ``sparse=None`` is stored as CSR.
DENSE_LIMIT = 5_000_000


def as_rng(seed: int | np.random.Generator) -> np.random.Generator:
    """``np.random.default_rng(seed)`` for an integer seed; a Generator is used as is (and advanced)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or int(seed) < 0:
        raise InvalidArgumentError(f"seed = {seed!r} must be a non-negative int or a numpy Generator")
    return np.random.default_rng(int(seed))


def check_int(value: object, name: str, low: int = 1, high: int | None = None) -> int:
    """An integer in ``[low, high]`` or :class:`InvalidArgumentError` naming ``name`` and the value."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(f"{name} = {value!r} must be an integer")
    v = int(value)
    if v < low or (high is not None and v > high):
        upper = "" if high is None else f" and <= {high}"
        raise InvalidArgumentError(f"{name} = {v} must be >= {low}{upper}")
    return v


def check_prob(value: object, name: str, low: float = 0.0, high: float = 1.0) -> float:
    """A real number in ``[low, high]`` (a probability by default)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(float(value)):
        raise InvalidArgumentError(f"{name} = {value!r} must be a finite real number in [{low:g}, {high:g}]")
    v = float(value)
    if v < low or v > high:
        raise InvalidArgumentError(f"{name} = {v!r} is outside [{low:g}, {high:g}]")
    return v


def check_real(value: object, name: str) -> float:
    """A finite real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(float(value)):
        raise InvalidArgumentError(f"{name} = {value!r} must be a finite real number")
    return float(value)


def check_gamma(gamma: object) -> float | None:
    """``None`` (average reward) or a discount in [0, 1] (:class:`InvalidMDPError` otherwise)."""
    return None if gamma is None else V.check_gamma(gamma)


#: With ``sparse=None``, a kernel with at least this many dense entries is stored as CSR when fewer than
#: :data:`SPARSE_DENSITY` of them are non-zero (RiverSwim(500): 0.3 % non-zero, CSR sweeps ~15x faster).
SPARSE_MIN_ENTRIES = 10_000
SPARSE_DENSITY = 0.05


def use_sparse(sparse: bool | None, S: int, A: int, nnz: int | None = None) -> bool:
    """The storage rule: CSR when ``sparse`` is True, or when it is None and ``S*A*S > DENSE_LIMIT`` or
    the kernel is large and sparse (``nnz`` known, ``S*A*S >= SPARSE_MIN_ENTRIES``, density below
    ``SPARSE_DENSITY``)."""
    if sparse is None:
        entries = S * A * S
        if entries > DENSE_LIMIT:
            return True
        return nnz is not None and entries >= SPARSE_MIN_ENTRIES and nnz < SPARSE_DENSITY * entries
    if not isinstance(sparse, (bool, np.bool_)):
        raise InvalidArgumentError(f"sparse = {sparse!r} must be True, False or None")
    return bool(sparse)
