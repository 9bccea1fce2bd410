"""Shared helpers of the policy-gradient family: argument checks, number-generic arithmetic, torch devices.

The exact update rules of this package are written once for "numbers": Python floats or
:class:`fractions.Fraction` (for exact certificates). :func:`sqrt_exact` is the only operation that can
leave the rationals; it raises :class:`NotExactError` when a square root is irrational.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from typing import TYPE_CHECKING, Union

import numpy as np

from mdpkit.errors import InvalidArgumentError, InvalidPolicyError, MdpkitError

if TYPE_CHECKING:  # torch is imported lazily at run time
    import torch

#: A scalar the exact routines accept: a float or an exact fraction.
Number = Union[float, Fraction]  # noqa: UP007 (a runtime alias)

#: Absolute tolerance for "is a probability vector" checks on float policies.
PROB_TOL = 1e-9


class NotExactError(MdpkitError):
    """An exact (rational) computation met an irrational number, e.g. the square root of a non-square."""


def is_exact(x: object) -> bool:
    """Whether ``x`` is an exact rational (int or Fraction, not a float)."""
    return isinstance(x, Fraction | numbers.Integral) and not isinstance(x, bool)


def sqrt_exact(x: Number) -> Number:
    """Square root: exact for a Fraction that is the square of a rational, ``math.sqrt`` for a float.

    Raises
    ------
    NotExactError
        If ``x`` is a Fraction whose square root is irrational.
    InvalidArgumentError
        If ``x`` is negative.
    """
    if x < 0:
        raise InvalidArgumentError(f"square root of a negative number {x}")
    if isinstance(x, Fraction) or (isinstance(x, numbers.Integral) and not isinstance(x, bool)):
        f = Fraction(x)
        n, d = math.isqrt(f.numerator), math.isqrt(f.denominator)
        if n * n == f.numerator and d * d == f.denominator:
            return Fraction(n, d)
        raise NotExactError(
            f"sqrt({f}) is irrational; use floats or a group size/normalisation with a rational std"
        )
    return math.sqrt(float(x))


def zero_like(x: Number) -> Number:
    """``0`` of the same kind as ``x`` (Fraction or float)."""
    return Fraction(0) if is_exact(x) else 0.0


def check_positive(value: object, name: str, allow_zero: bool = False) -> float:
    """A finite real number > 0 (or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise InvalidArgumentError(f"{name} = {value!r} must be a finite real number")
    if float(value) < 0 or (float(value) == 0 and not allow_zero):
        raise InvalidArgumentError(f"{name} = {value!r} must be {'>= 0' if allow_zero else '> 0'}")
    return value  # type: ignore[return-value]  (keeps a Fraction exact)


def check_int(value: object, name: str, low: int = 1, high: int | None = None) -> int:
    """An integer in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(f"{name} = {value!r} must be an integer")
    v = int(value)
    if v < low or (high is not None and v > high):
        raise InvalidArgumentError(
            f"{name} = {v} must be >= {low}" + ("" if high is None else f" and <= {high}")
        )
    return v


def check_prob_vector(p: np.ndarray, name: str, tol: float = PROB_TOL) -> None:
    """Raise :class:`InvalidPolicyError` unless the last axis of ``p`` holds probability vectors.

    Works for float arrays and object arrays of Fractions (checked exactly).
    """
    arr = np.asarray(p)
    if arr.dtype == object:
        for idx in np.ndindex(arr.shape[:-1]):
            row = arr[idx]
            for j, v in enumerate(row):
                if v < 0:
                    raise InvalidPolicyError(f"{name}[{', '.join(map(str, (*idx, j)))}] = {v} is negative")
            tot = sum(row, Fraction(0))
            if tot != 1:
                raise InvalidPolicyError(
                    f"{name}[{', '.join(map(str, idx))}, :] sums to {tot}, expected exactly 1"
                )
        return
    if not np.all(np.isfinite(arr)):
        idx = np.argwhere(~np.isfinite(arr))[0]
        raise InvalidPolicyError(f"{name}[{', '.join(map(str, idx))}] = {arr[tuple(idx)]!r} is not finite")
    if (arr < -tol).any():
        idx = np.argwhere(arr < -tol)[0]
        raise InvalidPolicyError(f"{name}[{', '.join(map(str, idx))}] = {arr[tuple(idx)]!r} is negative")
    sums = arr.sum(axis=-1)
    bad = np.abs(sums - 1.0) > tol
    if bad.any():
        idx = np.argwhere(np.atleast_1d(bad))[0]
        val = np.atleast_1d(sums)[tuple(idx)]
        raise InvalidPolicyError(f"{name}[{', '.join(map(str, idx))}, :] sums to {val:.12g}, expected 1")


def torch_device(device: object | None = None) -> torch.device:
    """The torch device to use: ``device`` if given, else CUDA when available, else CPU."""
    import torch

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def torch_generator(seed: int | np.random.Generator, device: object) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded from an int or a numpy Generator (which is advanced)."""
    import torch

    if isinstance(seed, np.random.Generator):
        s = int(seed.integers(0, 2**63 - 1))
    elif isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and int(seed) >= 0:
        s = int(seed)
    else:
        raise InvalidArgumentError(f"seed = {seed!r} must be a non-negative int or a numpy Generator")
    g = torch.Generator(device=device)
    g.manual_seed(s)
    return g
