"""Validation of models and policies: one place, used by every constructor and solver.

Every check raises a subclass of :class:`mdpkit.MdpkitError` whose message names the offending index and
value, e.g. ``InvalidMDPError: P[3, 1, :] sums to 0.97, expected 1 (tolerance 1e-09)``.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from mdpkit.errors import InvalidArgumentError, InvalidMDPError, InvalidPolicyError

#: Row sums of transition kernels must equal 1 within this absolute tolerance.
ROW_SUM_TOL = 1e-9


def _fmt_index(idx: tuple[int, ...] | np.ndarray) -> str:
    return ", ".join(str(int(i)) for i in np.atleast_1d(idx))


def as_float_array(x: object, name: str) -> np.ndarray:
    """Convert ``x`` to a float64 ndarray or raise :class:`InvalidMDPError` naming ``name``."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidMDPError(f"{name} cannot be converted to a float array: {exc}") from None
    return arr


def _num(x: object) -> str:
    """A number as a user wrote it (``-0.5``, not ``np.float64(-0.5)``)."""
    return repr(float(x)) if isinstance(x, numbers.Real | np.floating | np.integer) else repr(x)


def check_finite(
    arr: np.ndarray, name: str, allow_neg_inf: bool = False, skip: np.ndarray | None = None
) -> None:
    """Raise if ``arr`` holds NaN or an infinity (``-inf`` may be allowed, e.g. for infeasible rewards).

    ``skip`` (bool, shape ``arr.shape[:-1]``) exempts whole rows, e.g. those of infeasible pairs.
    """
    if np.isfinite(arr).all():  # fast path: one pass, no temporaries beyond a bool array
        return
    bad = np.isnan(arr) | np.isposinf(arr) | (np.isneginf(arr) & (not allow_neg_inf))
    if skip is not None:
        bad &= ~skip[..., None]
    if bad.any():
        idx = np.argwhere(bad)[0]
        raise InvalidMDPError(f"{name}[{_fmt_index(idx)}] = {_num(arr[tuple(idx)])} is not finite")


def check_shape(arr: np.ndarray, shape: tuple[int, ...], name: str) -> None:
    if arr.shape != tuple(shape):
        raise InvalidMDPError(f"{name} has shape {arr.shape}, expected {tuple(shape)}")


def check_distribution_rows(
    arr: np.ndarray, name: str, skip: np.ndarray | None = None, tol: float = ROW_SUM_TOL
) -> None:
    """Check that the last axis of ``arr`` holds probability vectors.

    Parameters
    ----------
    arr : ndarray (..., n)
        Candidate stochastic array.
    skip : bool ndarray of shape ``arr.shape[:-1]``, optional
        Rows to skip (infeasible state-action pairs).
    """
    check_finite(arr, name, skip=skip)
    neg = arr < 0
    if skip is not None:
        neg &= ~skip[..., None]
    if neg.any():
        idx = np.argwhere(neg)[0]
        raise InvalidMDPError(f"{name}[{_fmt_index(idx)}] = {_num(arr[tuple(idx)])} is negative")
    sums = arr.sum(axis=-1)
    bad = np.abs(sums - 1.0) > tol
    if skip is not None:
        bad &= ~skip
    if bad.any():
        idx = np.argwhere(bad)[0]
        rows = _fmt_index(idx)
        raise InvalidMDPError(
            f"{name}[{rows}, :] sums to {sums[tuple(idx)]:.12g}, expected 1 (tolerance {tol:g})"
        )


def check_csr_rows(P: sp.csr_matrix, S: int, A: int, name: str, skip: np.ndarray | None) -> None:
    """Check a CSR kernel of shape (S*A, S): finite, non-negative entries and unit row sums."""
    if P.shape != (S * A, S):
        raise InvalidMDPError(f"{name} (CSR) has shape {P.shape}, expected (S*A, S) = ({S * A}, {S})")
    data = P.data
    rows = np.repeat(np.arange(S * A), np.diff(P.indptr))
    keep = np.ones(data.shape, dtype=bool) if skip is None else ~skip.reshape(-1)[rows]
    bad = ~np.isfinite(data) & keep
    if bad.any():
        k = int(np.argmax(bad))
        s, a = divmod(int(rows[k]), A)
        raise InvalidMDPError(f"{name}[{s}, {a}, {P.indices[k]}] = {_num(data[k])} is not finite")
    bad = (data < 0) & keep
    if bad.any():
        k = int(np.argmax(bad))
        s, a = divmod(int(rows[k]), A)
        raise InvalidMDPError(f"{name}[{s}, {a}, {P.indices[k]}] = {_num(data[k])} is negative")
    sums = np.asarray(P.sum(axis=1)).ravel()
    badrow = np.abs(sums - 1.0) > ROW_SUM_TOL
    if skip is not None:
        badrow &= ~skip.reshape(-1)
    if badrow.any():
        r = int(np.argmax(badrow))
        s, a = divmod(r, A)
        raise InvalidMDPError(
            f"{name}[{s}, {a}, :] sums to {sums[r]:.12g}, expected 1 (tolerance {ROW_SUM_TOL:g})"
        )


def check_gamma(gamma: object, allow_one: bool = True) -> float:
    """Validate a discount factor: a real number in [0, 1] (or [0, 1) when ``allow_one`` is False)."""
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real):
        raise InvalidMDPError(f"gamma = {gamma!r} must be a real number in [0, 1]")
    g = float(gamma)
    if not np.isfinite(g) or g < 0 or g > 1 or (g == 1 and not allow_one):
        upper = "1]" if allow_one else "1)"
        raise InvalidMDPError(f"gamma = {g!r} is outside [0, {upper}")
    return g


def require_discounted(gamma: float | None, what: str) -> float:
    """Return gamma if it is a valid discount for a discounted problem, else raise."""
    if gamma is None:
        raise InvalidMDPError(f"{what} needs a discount factor, but the model has gamma=None")
    if not gamma < 1:
        raise InvalidMDPError(f"{what} needs 0 <= gamma < 1, got gamma = {gamma!r}")
    return gamma


def check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise InvalidMDPError(f"{name} = {value!r} must be a positive integer")
    return int(value)


def check_tol(tol: object) -> float:
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not (0 < float(tol) < np.inf):
        raise InvalidArgumentError(f"tol = {tol!r} must be a positive finite number")
    return float(tol)


def check_distribution(mu: object, n: int, name: str, error: type[Exception] = InvalidMDPError) -> np.ndarray:
    """Validate a probability vector of length ``n``; messages name ``name[i]``; raises ``error``."""
    try:
        arr = as_float_array(mu, name)
        check_shape(arr, (n,), name)
        check_finite(arr, name)
    except InvalidMDPError as exc:
        raise error(str(exc)) from None
    if (arr < 0).any():
        i = int(np.argmax(arr < 0))
        raise error(f"{name}[{i}] = {_num(arr[i])} is negative")
    total = float(arr.sum())
    if abs(total - 1.0) > ROW_SUM_TOL:
        raise error(f"{name} sums to {total:.12g}, expected 1 (tolerance {ROW_SUM_TOL:g})")
    return np.array(arr, copy=True)


def check_choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidArgumentError(f"{name} = {value!r} is not one of {', '.join(map(repr, choices))}")
    return str(value)


def check_feasible_states(mask: np.ndarray, name: str = "mask") -> None:
    """Every state (of every stage) must keep at least one feasible action."""
    none = ~mask.any(axis=-1)
    if none.any():
        idx = np.argwhere(none)[0]
        raise InvalidMDPError(f"state {_fmt_index(idx)} has no feasible action ({name} is False for every a)")


def check_policy(policy: object, mask: np.ndarray, name: str = "policy") -> np.ndarray:
    """Validate a stationary policy against a feasibility mask of shape (S, A).

    A deterministic policy is an int array ``pi[s]`` of shape (S,); a stochastic one a float array
    ``pi[s, a]`` of shape (S, A) whose rows are probability vectors. Returns the policy as a stochastic
    float64 matrix of shape (S, A).
    """
    S, A = mask.shape
    arr = np.asarray(policy)
    if arr.ndim == 1:
        if arr.shape != (S,):
            raise InvalidPolicyError(f"{name} has shape {arr.shape}, expected (S,) = ({S},) or (S, A)")
        if not np.issubdtype(arr.dtype, np.integer):
            if (
                np.issubdtype(arr.dtype, np.floating)
                and np.all(np.isfinite(arr))
                and np.all(arr == np.round(arr))
            ):
                arr = arr.astype(np.int64)
            else:
                raise InvalidPolicyError(
                    f"deterministic {name} must hold integer actions, got dtype {arr.dtype}"
                )
        bad = (arr < 0) | (arr >= A)
        if bad.any():
            s = int(np.argmax(bad))
            raise InvalidPolicyError(f"{name}[{s}] = {arr[s]} is not an action in 0..{A - 1}")
        infeasible = ~mask[np.arange(S), arr]
        if infeasible.any():
            s = int(np.argmax(infeasible))
            raise InvalidPolicyError(f"{name}[{s}] = {arr[s]} is an infeasible action in state {s}")
        out = np.zeros((S, A))
        out[np.arange(S), arr] = 1.0
        return out
    if arr.ndim == 2:
        if arr.shape != (S, A):
            raise InvalidPolicyError(f"{name} has shape {arr.shape}, expected (S, A) = ({S}, {A})")
        out = np.asarray(arr, dtype=np.float64)
        try:
            check_distribution_rows(out, name)
        except InvalidMDPError as exc:
            raise InvalidPolicyError(str(exc)) from None
        bad = (out > 0) & ~mask
        if bad.any():
            s, a = np.argwhere(bad)[0]
            raise InvalidPolicyError(
                f"{name}[{s}, {a}] = {_num(out[s, a])} puts mass on an infeasible action in state {s}"
            )
        return out
    raise InvalidPolicyError(
        f"{name} must be an int array (S,) or a stochastic matrix (S, A), got ndim {arr.ndim}"
    )


def finite_float_copy(x: object, name: str) -> np.ndarray:
    """A float64 copy of ``x`` (same memory order) whose entries are all finite.

    Parameters
    ----------
    x : array_like
        Input.
    name : str
        Name used in error messages.

    Returns
    -------
    ndarray
        A new array (never a view of ``x``, so the caller may freeze it).

    Raises
    ------
    InvalidMDPError
        If ``x`` cannot be converted, or naming the first non-finite entry, e.g. ``theta[2] = nan``.
    """
    arr = np.array(as_float_array(x, name))
    check_finite(arr, name)
    return arr


def check_features(phi: object, name: str = "phi") -> np.ndarray:
    r"""Validate the feature tensor :math:`\phi(s, a) \in \mathbb R^d` of a linear MDP, ``phi[s, a, i]``.

    Parameters
    ----------
    phi : array_like (S, A, d)
        Features of every state-action pair.
    name : str
        Name used in error messages.

    Returns
    -------
    ndarray (S, A, d)
        A finite float64 copy (:func:`finite_float_copy`).

    Raises
    ------
    InvalidMDPError
        If ``phi`` is not 3-d with :math:`S, A, d \ge 1`, or naming its first non-finite entry.
    """
    arr = np.array(as_float_array(phi, name))
    if arr.ndim != 3 or 0 in arr.shape:
        raise InvalidMDPError(f"{name} has shape {arr.shape}, expected (S, A, d) with S, A, d >= 1")
    check_finite(arr, name)
    return arr
