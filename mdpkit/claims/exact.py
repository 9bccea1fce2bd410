r"""Exact (rational) certificates for tabular MDPs.

A refutation found in floating point can be an artefact of rounding. The helpers here redo the computation
in exact rational arithmetic (:class:`fractions.Fraction`), so that a counterexample in a report is a
*certificate*: a small MDP with fraction entries on which the claimed inequality fails exactly.

* :class:`RationalMDP` — a discounted tabular MDP whose entries are fractions; rows sum to 1 exactly.
* :func:`rationalize` — a float :class:`~mdpkit.TabularMDP` converted to a "nice" rational model
  (``Fraction.limit_denominator``, rows repaired to sum to 1 exactly).
* :func:`exact_evaluate`, :func:`exact_occupancy`, :func:`exact_performance_difference`,
  :func:`exact_optimal` — policy evaluation, discounted occupancy, both sides of the performance-difference
  lemma and exact policy iteration, by Gauss-Jordan elimination over the rationals (:func:`solve_exact`).
* :func:`certify` — re-check a claimed inequality ``margin(model) >= 0`` exactly on the nicest rational
  version of a float model that still violates it.
* :func:`counterexample_dict` / :func:`mdp_from_counterexample` — the JSON form of a counterexample
  (numbers as fraction strings such as ``"9/10"``) and back.

The hypothesis search helper :func:`~mdpkit.claims.search.search_counterexample` and the rational-MDP
strategies live in :mod:`mdpkit.claims.search` (importing hypothesis lazily); they can also be imported from
here (``from mdpkit.claims.exact import search_counterexample``).

References
----------
Puterman, *Markov Decision Processes* (1994): policy evaluation Thm 6.1.1, policy iteration §6.4 (finite
termination with exact arithmetic, Thm 6.4.2), occupancy measures §6.9.
Kakade & Langford, "Approximately optimal approximate reinforcement learning", ICML 2002, Lemma 6.1.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.sparse as sp

from mdpkit.core.model import TabularMDP
from mdpkit.errors import InvalidArgumentError, InvalidMDPError, InvalidPolicyError, MdpkitError

__all__ = [
    "as_fraction",
    "fraction_array",
    "fraction_str",
    "rational_distribution",
    "RationalMDP",
    "rationalize",
    "rational_policy",
    "solve_exact",
    "ExactEvaluation",
    "exact_evaluate",
    "exact_occupancy",
    "exact_performance_difference",
    "ExactOptimum",
    "exact_optimal",
    "Certificate",
    "certify",
    "DEFAULT_DENOMINATORS",
    "to_jsonable",
    "counterexample_dict",
    "mdp_from_counterexample",
]

#: Denominator limits tried by :func:`certify`, nicest first; ``None`` = the float values exactly.
DEFAULT_DENOMINATORS: tuple[int | None, ...] = (
    *(1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 50, 100),
    *(10**3, 10**4, 10**6, None),
)

#: Largest denominator :func:`fraction_str` uses to print a float as a fraction.
NICE_DENOMINATOR = 10**6


# --------------------------------------------------------------------------------------------- numbers
def as_fraction(x: object, max_denominator: int | None = None) -> Fraction:
    """Convert a number to a :class:`~fractions.Fraction`.

    Parameters
    ----------
    x : int, Fraction, float, str (``"3/4"``, ``"0.25"``), numpy scalar or sympy Rational
        A float is converted *exactly* (every finite float is a dyadic rational) unless ``max_denominator``
        is given.
    max_denominator : int, optional
        Round to the closest fraction with denominator at most this (``Fraction.limit_denominator``).

    Raises
    ------
    InvalidArgumentError
        For NaN, infinities and objects that are not numbers.
    """
    if isinstance(x, Fraction):
        f = x
    elif isinstance(x, bool | np.bool_):
        f = Fraction(int(x))
    elif isinstance(x, numbers.Integral):
        f = Fraction(int(x))
    elif isinstance(x, str):
        try:
            f = Fraction(x.strip())
        except (ValueError, ZeroDivisionError) as exc:
            raise InvalidArgumentError(f"{x!r} is not a fraction: {exc}") from None
    elif isinstance(x, numbers.Rational):
        f = Fraction(int(x.numerator), int(x.denominator))
    elif isinstance(x, float | np.floating):
        if not math.isfinite(float(x)):
            raise InvalidArgumentError(f"{x!r} is not a finite number")
        f = Fraction(float(x))
    elif hasattr(x, "p") and hasattr(x, "q"):  # sympy.Rational
        f = Fraction(int(x.p), int(x.q))
    else:
        raise InvalidArgumentError(f"{x!r} (type {type(x).__name__}) is not a number")
    if max_denominator is not None:
        f = f.limit_denominator(int(max_denominator))
    return f


def fraction_array(x: object, max_denominator: int | None = None) -> np.ndarray:
    """An object ndarray of :class:`~fractions.Fraction` with the shape of ``x`` (see :func:`as_fraction`)."""
    arr = np.asarray(x, dtype=object)
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        out[idx] = as_fraction(arr[idx], max_denominator)
    return out


def fraction_str(x: object) -> str:
    """A short exact string for a number: ``"p/q"`` for fractions, ``"p"`` for integers.

    A float is printed as the fraction of denominator at most :data:`NICE_DENOMINATOR` that equals it
    exactly as a float (``0.1 -> "1/10"``, ``1/3 -> "1/3"``), and as its ``repr`` otherwise
    (``"0.123456789"``); infinities as ``"inf"``/``"-inf"``.
    """
    if isinstance(x, float | np.floating):
        xf = float(x)
        if not math.isfinite(xf):
            return repr(xf)
        f = Fraction(xf).limit_denominator(NICE_DENOMINATOR)
        return str(f) if float(f) == xf else repr(xf)
    return str(as_fraction(x))


def _is_neg_inf(v: object) -> bool:
    """Whether ``v`` is ``-inf`` (float) or the string ``"-inf"`` (an infeasible reward)."""
    if isinstance(v, str):
        return v.strip() == "-inf"
    return isinstance(v, float | np.floating) and v == -math.inf


def _idx(idx: tuple[int, ...]) -> str:
    return ", ".join(str(int(i)) for i in idx)


def rational_distribution(
    p: object, max_denominator: int | None = None, name: str = "p", skip: np.ndarray | None = None
) -> np.ndarray:
    """Probability vectors (last axis) as fractions that sum to 1 exactly.

    With ``max_denominator = d``, each entry is first rounded with ``limit_denominator(d)`` (so 0.333 becomes
    1/3); a row whose rounded entries do not sum to exactly 1 is instead rounded to multiples of ``1/d`` by
    the largest-remainder method (``floor(p d) / d`` plus ``1/d`` for the largest remainders). Either way
    every denominator is at most ``d`` and zero entries stay zero. With ``max_denominator=None`` the floats
    are taken exactly and a row whose sum is not exactly 1 is divided by its sum. ``skip`` (bool, shape
    ``p.shape[:-1]``) marks rows left as they are.

    Raises
    ------
    InvalidMDPError
        If an entry is negative or a row sums to 0 (naming the row).
    """
    orig = np.asarray(p, dtype=object)
    if orig.ndim == 0:
        raise InvalidMDPError(f"{name} is a scalar, expected probability vectors")
    q = fraction_array(orig, max_denominator)
    for idx in np.ndindex(q.shape[:-1]):
        if skip is not None and skip[idx]:
            continue
        exact = fraction_array(orig[idx])
        neg = [j for j, v in enumerate(exact) if v < 0]
        if neg:
            raise InvalidMDPError(f"{name}[{_idx((*idx, neg[0]))}] = {orig[idx][neg[0]]!r} is negative")
        if sum(q[idx], Fraction(0)) == 1:
            continue
        total = sum(exact, Fraction(0))
        if total == 0:
            raise InvalidMDPError(f"{name}[{_idx(idx)}, :] sums to 0, expected 1")
        w = [v / total for v in exact]
        if max_denominator is None:
            q[idx] = np.array(w, dtype=object)
            continue
        d = int(max_denominator)
        k = [math.floor(v * d) for v in w]
        rem = [
            (v * d - kk if v > 0 else Fraction(-1), -j) for j, (v, kk) in enumerate(zip(w, k, strict=True))
        ]
        for _, negj in sorted(rem, reverse=True)[: d - sum(k)]:
            k[-negj] += 1
        q[idx] = np.array([Fraction(kk, d) for kk in k], dtype=object)
    return q


# --------------------------------------------------------------------------------------------- the model
@dataclass(frozen=True, eq=False, init=False)
class RationalMDP:
    r"""A discounted tabular MDP with exact rational entries.

    Parameters
    ----------
    P : array-like (S, A, S) of numbers
        ``P[s, a, s']``; every feasible row must sum to 1 *exactly* (use :func:`rationalize` or
        :meth:`from_arrays` to repair float rows).
    R : array-like (S, A)
        Rewards ``r(s, a)``; ``-inf`` (or ``mask[s, a] = False``) marks an infeasible pair.
    gamma : number in [0, 1)
    initial : array-like (S,), optional
        Initial distribution :math:`\mu`, default uniform; must sum to 1 exactly.
    mask : bool array (S, A), optional
        Feasible pairs. Infeasible pairs get ``R = 0`` and a self-loop row; exact results hold ``None`` there.

    Attributes
    ----------
    P, R : object ndarrays of :class:`~fractions.Fraction`; gamma : Fraction; initial : object ndarray (S,);
    mask : bool ndarray (S, A).
    """

    P: np.ndarray
    R: np.ndarray
    gamma: Fraction
    initial: np.ndarray
    mask: np.ndarray

    def __init__(
        self,
        P: object,
        R: object,
        gamma: object,
        initial: object | None = None,
        mask: object | None = None,
    ) -> None:
        Pa = np.asarray(P, dtype=object)
        if Pa.ndim != 3 or Pa.shape[0] != Pa.shape[2] or 0 in Pa.shape:
            raise InvalidMDPError(f"P has shape {Pa.shape}, expected (S, A, S) with S, A >= 1")
        S, A = Pa.shape[0], Pa.shape[1]
        Ra = np.asarray(R, dtype=object)
        if Ra.shape != (S, A):
            raise InvalidMDPError(f"R has shape {Ra.shape}, expected (S, A) = ({S}, {A})")
        m = np.ones((S, A), dtype=bool) if mask is None else np.array(mask, dtype=bool)
        if m.shape != (S, A):
            raise InvalidMDPError(f"mask has shape {m.shape}, expected (S, A) = ({S}, {A})")
        Rf = np.empty((S, A), dtype=object)
        for s, a in np.ndindex(S, A):
            v = Ra[s, a]
            if _is_neg_inf(v):
                m[s, a] = False
            Rf[s, a] = as_fraction(v) if m[s, a] else Fraction(0)
        for s in range(S):
            if not m[s].any():
                raise InvalidMDPError(f"state {s} has no feasible action")
        Pf = fraction_array(Pa)
        for s, a in np.ndindex(S, A):
            if not m[s, a]:
                Pf[s, a, :] = Fraction(0)
                Pf[s, a, s] = Fraction(1)
                continue
            for t in range(S):
                if Pf[s, a, t] < 0:
                    raise InvalidMDPError(f"P[{s}, {a}, {t}] = {Pf[s, a, t]} is negative")
            tot = sum(Pf[s, a], Fraction(0))
            if tot != 1:
                raise InvalidMDPError(f"P[{s}, {a}, :] sums to {tot}, expected exactly 1")
        g = as_fraction(gamma)
        if not (0 <= g < 1):
            raise InvalidMDPError(f"gamma = {g} must be in [0, 1)")
        mu = np.full(S, Fraction(1, S), dtype=object) if initial is None else fraction_array(initial)
        if mu.shape != (S,):
            raise InvalidMDPError(f"initial has shape {mu.shape}, expected ({S},)")
        for s in range(S):
            if mu[s] < 0:
                raise InvalidMDPError(f"initial[{s}] = {mu[s]} is negative")
        if sum(mu, Fraction(0)) != 1:
            raise InvalidMDPError(f"initial sums to {sum(mu, Fraction(0))}, expected exactly 1")
        object.__setattr__(self, "P", Pf)
        object.__setattr__(self, "R", Rf)
        object.__setattr__(self, "gamma", g)
        object.__setattr__(self, "initial", mu)
        object.__setattr__(self, "mask", m)

    @property
    def S(self) -> int:
        """Number of states."""
        return int(self.P.shape[0])

    @property
    def A(self) -> int:
        """Number of actions."""
        return int(self.P.shape[1])

    def __repr__(self) -> str:
        return f"RationalMDP(S={self.S}, A={self.A}, gamma={self.gamma})"

    @classmethod
    def from_arrays(
        cls,
        P: object,
        R: object,
        gamma: object,
        initial: object | None = None,
        mask: object | None = None,
        max_denominator: int | None = None,
    ) -> RationalMDP:
        """Build from float (or any numeric) arrays, rounding with :func:`rational_distribution`.

        ``R`` and ``gamma`` are rounded with ``limit_denominator(max_denominator)`` (exact when None).
        """
        Pa = np.asarray(P, dtype=object)
        S, A = Pa.shape[0], Pa.shape[1]
        m = np.ones((S, A), dtype=bool) if mask is None else np.array(mask, dtype=bool)
        Ra = np.asarray(R, dtype=object)
        if Ra.shape != (S, A):
            raise InvalidMDPError(f"R has shape {Ra.shape}, expected (S, A) = ({S}, {A})")
        Rr = np.empty((S, A), dtype=object)
        for s, a in np.ndindex(S, A):
            v = Ra[s, a]
            if _is_neg_inf(v) or not m[s, a]:
                m[s, a] = False
                Rr[s, a] = Fraction(0)
            else:
                Rr[s, a] = as_fraction(v, max_denominator)
        Pr = rational_distribution(Pa, max_denominator, "P", skip=~m)
        mu = None if initial is None else rational_distribution(initial, max_denominator, "initial")
        return cls(Pr, Rr, as_fraction(gamma, max_denominator), mu, m)

    def to_tabular(self) -> TabularMDP:
        """The float :class:`~mdpkit.TabularMDP` (entries rounded to the nearest float64)."""
        P = np.array(self.P.tolist(), dtype=np.float64)
        R = np.array(self.R.tolist(), dtype=np.float64)
        R[~self.mask] = -np.inf
        mu = np.array(self.initial.tolist(), dtype=np.float64)
        return TabularMDP(P, R, float(self.gamma), mu, self.mask)

    def policy_matrix(self, policy: object, max_denominator: int | None = None) -> np.ndarray:
        """``policy`` (int (S,) or stochastic (S, A)) as an exact stochastic (S, A) object matrix."""
        return rational_policy(policy, self.S, self.A, self.mask, max_denominator)

    def transition_matrix(self, pi: np.ndarray) -> np.ndarray:
        r""":math:`P_\pi[s, s'] = \sum_a \pi(a|s) P(s'|s, a)`, object (S, S), for an exact policy matrix."""
        S, A = self.S, self.A
        out = np.empty((S, S), dtype=object)
        for s in range(S):
            for t in range(S):
                out[s, t] = sum((pi[s, a] * self.P[s, a, t] for a in range(A) if pi[s, a]), Fraction(0))
        return out

    def reward_vector(self, pi: np.ndarray) -> np.ndarray:
        r""":math:`r_\pi[s] = \sum_a \pi(a|s) r(s, a)`, object (S,), for an exact policy matrix."""
        out = np.empty(self.S, dtype=object)
        for s in range(self.S):
            out[s] = sum((pi[s, a] * self.R[s, a] for a in range(self.A) if pi[s, a]), Fraction(0))
        return out


def rationalize(mdp: TabularMDP, max_denominator: int | None = 1000) -> RationalMDP:
    """A "nice" rational version of a float model.

    Every reward and ``gamma`` is replaced by the closest fraction with denominator at most
    ``max_denominator``; each row of ``P`` and the initial distribution become exact distributions with
    denominators at most ``max_denominator`` (:func:`rational_distribution`). ``max_denominator=None``
    keeps the float values exactly (rows renormalised only when their float sum is not exactly 1).

    Raises
    ------
    InvalidMDPError
        If ``gamma`` rounds to 1 or more (choose a larger ``max_denominator``), or ``mdp`` is undiscounted.
    """
    if mdp.gamma is None:
        raise InvalidMDPError("rationalize needs a discounted model (gamma is None)")
    return RationalMDP.from_arrays(
        mdp.dense_P(), np.where(mdp.mask, mdp.R, -np.inf), mdp.gamma, mdp.initial, mdp.mask, max_denominator
    )


def rational_policy(
    policy: object, S: int, A: int, mask: np.ndarray | None = None, max_denominator: int | None = None
) -> np.ndarray:
    """An exact stochastic policy matrix (S, A) of fractions.

    Parameters
    ----------
    policy : int array (S,) (deterministic) or array (S, A) of probabilities (floats, fractions, strings)
        Float rows are rounded as in :func:`rational_distribution`.
    mask : bool (S, A), optional
        Feasible pairs; positive probability on an infeasible pair raises.

    Raises
    ------
    InvalidPolicyError
        Wrong shape, an action out of range, a negative entry or an infeasible action (naming the state).
    """
    arr = np.asarray(policy, dtype=object)
    if arr.shape == (S,):
        pi = np.full((S, A), Fraction(0), dtype=object)
        for s in range(S):
            a = arr[s]
            if not isinstance(a, numbers.Integral) or not (0 <= int(a) < A):
                raise InvalidPolicyError(f"policy[{s}] = {a!r} is not an action in 0..{A - 1}")
            pi[s, int(a)] = Fraction(1)
    elif arr.shape == (S, A):
        try:
            pi = rational_distribution(arr, max_denominator, "policy")
        except InvalidMDPError as exc:
            raise InvalidPolicyError(str(exc)) from None
    else:
        raise InvalidPolicyError(f"policy has shape {arr.shape}, expected ({S},) or ({S}, {A})")
    if mask is not None:
        for s, a in np.ndindex(S, A):
            if pi[s, a] != 0 and not mask[s, a]:
                raise InvalidPolicyError(
                    f"policy puts probability {pi[s, a]} on infeasible action {a} in state {s}"
                )
    return pi


# --------------------------------------------------------------------------------------------- linear algebra
def solve_exact(M: object, b: object) -> np.ndarray:
    r"""Solve :math:`M x = b` exactly by Gauss-Jordan elimination over the rationals.

    Parameters
    ----------
    M : array-like (n, n) of numbers
    b : array-like (n,) or (n, k)

    Returns
    -------
    object ndarray of :class:`~fractions.Fraction`, shape of ``b``.

    Raises
    ------
    InvalidArgumentError
        If ``M`` is singular (naming the column without a pivot) or the shapes do not match.

    Notes
    -----
    :math:`O(n^3)` fraction operations; intended for the small instances of certificates (n up to a few
    dozen). Float inputs are taken exactly (dyadic rationals), so denominators may grow large.
    """
    Mf = fraction_array(M)
    bf = fraction_array(b)
    if Mf.ndim != 2 or Mf.shape[0] != Mf.shape[1]:
        raise InvalidArgumentError(f"M has shape {Mf.shape}, expected a square matrix")
    n = Mf.shape[0]
    vec = bf.ndim == 1
    B = bf.reshape(n, 1) if vec else bf
    if B.ndim != 2 or B.shape[0] != n:
        raise InvalidArgumentError(f"b has shape {bf.shape}, expected ({n},) or ({n}, k)")
    k = B.shape[1]
    rows = [list(Mf[i]) + list(B[i]) for i in range(n)]
    for col in range(n):
        piv = next((r for r in range(col, n) if rows[r][col] != 0), None)
        if piv is None:
            raise InvalidArgumentError(f"the matrix is singular: no pivot in column {col}")
        rows[col], rows[piv] = rows[piv], rows[col]
        pr = rows[col]
        inv = 1 / pr[col]
        pr[:] = [v * inv for v in pr]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                f = rows[r][col]
                row = rows[r]
                row[:] = [x - f * y for x, y in zip(row, pr, strict=True)]
    X = np.empty((n, k), dtype=object)
    for i in range(n):
        for j in range(k):
            X[i, j] = rows[i][n + j]
    return X[:, 0].copy() if vec else X


# --------------------------------------------------------------------------------------------- evaluation
@dataclass(frozen=True, eq=False)
class ExactEvaluation:
    r"""Exact evaluation of a stationary policy: object arrays of fractions.

    ``V`` (S,), ``Q`` (S, A), ``advantage`` (S, A) (``None`` at infeasible pairs), ``J`` :math:`= \mu^\top V`.
    """

    V: np.ndarray
    Q: np.ndarray
    advantage: np.ndarray
    J: Fraction


def _q_exact(mdp: RationalMDP, V: np.ndarray) -> np.ndarray:
    S, A = mdp.S, mdp.A
    Q = np.full((S, A), None, dtype=object)
    for s, a in np.ndindex(S, A):
        if mdp.mask[s, a]:
            Q[s, a] = mdp.R[s, a] + mdp.gamma * sum(
                (mdp.P[s, a, t] * V[t] for t in range(S) if mdp.P[s, a, t]), Fraction(0)
            )
    return Q


def exact_evaluate(mdp: RationalMDP, policy: object, max_denominator: int | None = None) -> ExactEvaluation:
    r"""Exact policy evaluation (Puterman 1994, Thm 6.1.1).

    .. math:: (I - \gamma P_\pi) V^\pi = r_\pi, \quad Q^\pi(s,a) = r(s,a) + \gamma P(\cdot|s,a)^\top V^\pi,
              \quad A^\pi = Q^\pi - V^\pi, \quad J(\pi) = \mu^\top V^\pi

    solved by :func:`solve_exact`. ``policy`` is an int array (S,) or a stochastic matrix (S, A)
    (see :func:`rational_policy`; floats are taken exactly unless ``max_denominator`` is given).
    """
    pi = mdp.policy_matrix(policy, max_denominator)
    S = mdp.S
    Ppi = mdp.transition_matrix(pi)
    M = np.empty((S, S), dtype=object)
    for s, t in np.ndindex(S, S):
        M[s, t] = (1 if s == t else 0) - mdp.gamma * Ppi[s, t]
    V = solve_exact(M, mdp.reward_vector(pi))
    Q = _q_exact(mdp, V)
    adv = np.full(Q.shape, None, dtype=object)
    for s, a in np.ndindex(*Q.shape):
        if Q[s, a] is not None:
            adv[s, a] = Q[s, a] - V[s]
    J = sum((mdp.initial[s] * V[s] for s in range(S)), Fraction(0))
    return ExactEvaluation(V=V, Q=Q, advantage=adv, J=J)


def exact_occupancy(
    mdp: RationalMDP, policy: object, initial: object | None = None, max_denominator: int | None = None
) -> np.ndarray:
    r"""Exact normalised discounted occupancy measure (S, A), summing to exactly 1.

    .. math:: d^\pi_\mu(s, a) = (1-\gamma)\,\big[\mu^\top (I - \gamma P_\pi)^{-1}\big](s)\;\pi(a|s)

    (Puterman 1994, §6.9; Kakade & Langford 2002, §2).
    """
    pi = mdp.policy_matrix(policy, max_denominator)
    S, A = mdp.S, mdp.A
    mu = mdp.initial if initial is None else rational_distribution(initial, None, "initial")
    Ppi = mdp.transition_matrix(pi)
    MT = np.empty((S, S), dtype=object)
    for s, t in np.ndindex(S, S):
        MT[t, s] = (1 if s == t else 0) - mdp.gamma * Ppi[s, t]
    ds = solve_exact(MT, mu)
    d = np.empty((S, A), dtype=object)
    for s, a in np.ndindex(S, A):
        d[s, a] = (1 - mdp.gamma) * ds[s] * pi[s, a]
    return d


def exact_performance_difference(
    mdp: RationalMDP, new: object, old: object, max_denominator: int | None = None
) -> tuple[Fraction, Fraction]:
    r"""Both sides of the performance-difference lemma, exactly (Kakade & Langford 2002, Lemma 6.1).

    .. math:: J(\pi') - J(\pi) \;=\; \frac{1}{1-\gamma} \sum_{s,a} d^{\pi'}_\mu(s, a)\, A^{\pi}(s, a)

    Returns ``(lhs, rhs)`` as fractions; the lemma says they are equal.
    """
    ev_old = exact_evaluate(mdp, old, max_denominator)
    ev_new = exact_evaluate(mdp, new, max_denominator)
    d = exact_occupancy(mdp, new, max_denominator=max_denominator)
    rhs = Fraction(0)
    for s, a in np.ndindex(mdp.S, mdp.A):
        if d[s, a]:
            rhs += d[s, a] * ev_old.advantage[s, a]
    return ev_new.J - ev_old.J, rhs / (1 - mdp.gamma)


@dataclass(frozen=True, eq=False)
class ExactOptimum:
    r"""Exact solution of a rational discounted MDP.

    ``V`` (S,) is :math:`V^*`, ``policy`` (S,) an optimal deterministic policy, ``Q`` (S, A) :math:`Q^*`
    (``None`` at infeasible pairs) with the optimality certificate :math:`Q^*(s, a) \le V^*(s)` for every
    feasible pair (equality at ``policy``), ``iterations`` the number of exact evaluations.
    """

    V: np.ndarray
    policy: np.ndarray
    Q: np.ndarray
    iterations: int


def exact_optimal(mdp: RationalMDP, policy0: object | None = None, max_iter: int = 1000) -> ExactOptimum:
    r"""Howard policy iteration in exact arithmetic (Puterman 1994, §6.4, Thm 6.4.2).

    Each step evaluates :math:`\pi_k` exactly and switches a state's action only on a *strict* improvement
    :math:`Q^{\pi_k}(s, a) > V^{\pi_k}(s)` (the first maximiser). Values increase strictly until no state
    improves, so the method stops at an optimal policy after finitely many steps, with the certificate
    :math:`\max_a Q^{\pi}(s, a) = V^{\pi}(s)`.

    Raises
    ------
    MdpkitError
        If ``max_iter`` evaluations do not suffice (cannot happen before :math:`A^S` steps).
    """
    S, A = mdp.S, mdp.A
    if policy0 is None:
        pol = np.array([min(a for a in range(A) if mdp.mask[s, a]) for s in range(S)], dtype=np.int64)
    else:
        pol = np.asarray(policy0, dtype=np.int64).copy()
        rational_policy(pol, S, A, mdp.mask)
    for k in range(1, max_iter + 1):
        ev = exact_evaluate(mdp, pol)
        new = pol.copy()
        for s in range(S):
            best = ev.Q[s, pol[s]]
            for a in range(A):
                if ev.Q[s, a] is not None and ev.Q[s, a] > best:
                    best, new[s] = ev.Q[s, a], a
        if np.array_equal(new, pol):
            return ExactOptimum(V=ev.V, policy=pol, Q=ev.Q, iterations=k)
        pol = new
    raise MdpkitError(f"exact policy iteration did not terminate within {max_iter} evaluations")


# --------------------------------------------------------------------------------------------- certificates
@dataclass(frozen=True, eq=False)
class Certificate:
    """Result of :func:`certify`.

    Attributes
    ----------
    violated : bool
        Whether some rationalisation makes the margin exactly negative (the claim fails on ``model``).
    margin : Fraction
        The margin on ``model``.
    model : RationalMDP
        The nicest violating rational model (or the finest one tried when none violates).
    max_denominator : int or None
        The denominator limit that produced ``model`` (None: the float values exactly).
    tried : tuple of (max_denominator, margin or error message)
    """

    violated: bool
    margin: Fraction
    model: RationalMDP
    max_denominator: int | None
    tried: tuple[tuple[int | None, str], ...]

    def as_dict(self, **extra: object) -> dict[str, Any]:
        """The counterexample's JSON form (:func:`counterexample_dict`) with the exact margin."""
        return counterexample_dict(
            self.model,
            margin=self.margin,
            max_denominator=self.max_denominator,
            violated=self.violated,
            **extra,
        )


def certify(
    margin: Callable[[RationalMDP, int | None], object],
    mdp: TabularMDP | RationalMDP,
    max_denominators: Iterable[int | None] = DEFAULT_DENOMINATORS,
) -> Certificate:
    r"""Re-check a claimed inequality ``margin(model) >= 0`` exactly, on the nicest violating rational model.

    For each denominator limit ``d`` (nicest first) the float model is rounded with :func:`rationalize`
    ``(mdp, d)`` and ``margin(model, d)`` is evaluated in exact arithmetic (it should use the exact helpers of
    this module, rounding any float policy it needs with the same ``d``). The first model with a negative
    margin is returned: a certificate that the claim fails on that (rational, hence exactly specified) MDP.
    Limits that make the model invalid (e.g. ``gamma`` rounding to 1) are skipped and recorded in ``tried``.

    Parameters
    ----------
    margin : callable(RationalMDP, int | None) -> number
        Exact slack of the claimed inequality; the claim holds on an instance iff it is ``>= 0``.
    mdp : TabularMDP or RationalMDP
        A float model suspected to violate the claim (a RationalMDP is checked as is).
    max_denominators : iterable of int or None
        Limits to try (default :data:`DEFAULT_DENOMINATORS`; ``None`` = exact float values).

    Returns
    -------
    Certificate
    """
    tried: list[tuple[int | None, str]] = []
    if isinstance(mdp, RationalMDP):
        m = as_fraction(margin(mdp, None))
        return Certificate(m < 0, m, mdp, None, ((None, str(m)),))
    last: tuple[Fraction, RationalMDP, int | None] | None = None
    for d in max_denominators:
        try:
            model = rationalize(mdp, d)
            m = as_fraction(margin(model, d))
        except (MdpkitError, ZeroDivisionError) as exc:
            tried.append((d, f"skipped: {exc}"))
            continue
        tried.append((d, str(m)))
        last = (m, model, d)
        if m < 0:
            return Certificate(True, m, model, d, tuple(tried))
    if last is None:
        raise InvalidArgumentError(f"no denominator limit gave a valid rational model: {tried}")
    return Certificate(False, last[0], last[1], last[2], tuple(tried))


# --------------------------------------------------------------------------------------------- JSON form
def to_jsonable(x: object) -> object:
    """A JSON-serialisable copy: fractions and floats as strings (:func:`fraction_str`), arrays as lists.

    Integers, booleans, strings and None are kept; numpy integer arrays become lists of ints; dicts, lists
    and tuples are converted recursively; :class:`RationalMDP` and :class:`~mdpkit.TabularMDP` become
    :func:`counterexample_dict`; anything else becomes its ``str``.
    """
    if x is None or isinstance(x, bool | str):
        return x
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, numbers.Integral):
        return int(x)
    if isinstance(x, Fraction | float | np.floating) or (hasattr(x, "p") and hasattr(x, "q")):
        return fraction_str(x)
    if isinstance(x, RationalMDP | TabularMDP):
        return counterexample_dict(x)
    if sp.issparse(x):
        return to_jsonable(x.toarray())
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "iub":
            return x.tolist()
        return [to_jsonable(v) for v in x] if x.ndim else to_jsonable(x.item())
    if isinstance(x, Mapping):
        return {str(k): to_jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [to_jsonable(v) for v in x]
    return str(x)


def _model_arrays(
    model: object,
) -> tuple[np.ndarray, np.ndarray, object, np.ndarray | None, np.ndarray, bool]:
    """(P (S,A,S), R (S,A) with -inf at infeasible pairs, gamma, initial, mask, exact) of any model form."""
    if isinstance(model, RationalMDP):
        R = model.R.copy()
        R[~model.mask] = -math.inf
        return model.P, R, model.gamma, model.initial, model.mask, True
    if isinstance(model, TabularMDP):
        return model.dense_P(), np.asarray(model.R), model.gamma, model.initial, model.mask, False
    if isinstance(model, Mapping):
        P, R, gamma = model["P"], model["R"], model.get("gamma")
        initial, mask = model.get("initial"), model.get("mask")
    elif isinstance(model, Sequence) and 3 <= len(model) <= 5:
        P, R, gamma, *rest = model
        initial = rest[0] if rest else None
        mask = rest[1] if len(rest) > 1 else None
    else:
        raise InvalidArgumentError(
            f"cannot read a model from a {type(model).__name__}; pass a TabularMDP, a RationalMDP, a dict "
            "with keys P, R, gamma (initial, mask) or a tuple (P, R, gamma[, initial[, mask]])"
        )
    Pa = P.toarray() if sp.issparse(P) else np.asarray(P, dtype=object)
    if Pa.ndim == 2:  # CSR-style (S*A, S)
        S = Pa.shape[1]
        Pa = Pa.reshape(Pa.shape[0] // S, S, S) if S else Pa
    Ra = np.asarray(R, dtype=object)
    m = np.ones(Ra.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    exact = all(not isinstance(v, float | np.floating) for v in np.concatenate([Pa.ravel(), Ra.ravel()]))
    return Pa, Ra, gamma, None if initial is None else np.asarray(initial, dtype=object), m, exact


def counterexample_dict(model: object, /, **extra: object) -> dict[str, Any]:
    """The JSON form of a (counterexample) MDP, numbers as exact strings.

    Parameters
    ----------
    model : RationalMDP, TabularMDP, dict with keys ``P, R, gamma`` (optional ``initial``, ``mask``) or tuple
        ``(P, R, gamma[, initial[, mask]])`` with ``P`` of shape (S, A, S) or (S*A, S).
    **extra
        Further items (policies, parameters, the computed gap, ...), converted with :func:`to_jsonable`.

    Returns
    -------
    dict
        ``{"S", "A", "gamma", "P": [s][a][s'], "R": [s][a], "initial": [s], "mask" (only when some pair is
        infeasible), "exact": bool, **extra}``. Numbers are strings such as ``"9/10"`` (:func:`fraction_str`);
        infeasible rewards are ``"-inf"``. ``exact`` is True when the model's entries are rationals (a
        :class:`RationalMDP`), i.e. the dict is a certificate that :func:`mdp_from_counterexample` rebuilds
        exactly.
    """
    P, R, gamma, initial, mask, exact = _model_arrays(model)
    S, A = int(P.shape[0]), int(P.shape[1])
    out: dict[str, Any] = {
        "S": S,
        "A": A,
        "gamma": None if gamma is None else fraction_str(gamma),
        "P": [[[fraction_str(P[s, a, t]) for t in range(S)] for a in range(A)] for s in range(S)],
        "R": [["-inf" if not mask[s, a] else fraction_str(R[s, a]) for a in range(A)] for s in range(S)],
        "initial": None if initial is None else [fraction_str(v) for v in initial],
    }
    if not mask.all():
        out["mask"] = mask.astype(bool).tolist()
    out["exact"] = bool(exact)
    for k, v in extra.items():
        if k in out:
            raise InvalidArgumentError(f"extra key {k!r} clashes with a model field")
        out[k] = to_jsonable(v)
    return out


def mdp_from_counterexample(d: Mapping[str, Any]) -> RationalMDP:
    """Rebuild the :class:`RationalMDP` of a :func:`counterexample_dict`.

    Strings are parsed exactly with :class:`~fractions.Fraction` (``"0.1"`` is 1/10). Rows of a non-exact dict
    (floats printed by ``repr``) that do not sum exactly to 1 are renormalised.
    """
    S, A = int(d["S"]), int(d["A"])
    mask = np.array(d.get("mask", np.ones((S, A), dtype=bool)), dtype=bool)
    R = np.empty((S, A), dtype=object)
    for s, a in np.ndindex(S, A):
        v = d["R"][s][a]
        if _is_neg_inf(v) or not mask[s, a]:
            mask[s, a] = False
            R[s, a] = Fraction(0)
        else:
            R[s, a] = as_fraction(v)
    P = rational_distribution(np.array(d["P"], dtype=object), None, "P", skip=~mask)
    initial = d.get("initial")
    mu = None if initial is None else rational_distribution(np.array(initial, dtype=object), None, "initial")
    if d.get("gamma") is None:
        raise InvalidMDPError("the counterexample has no gamma")
    return RationalMDP(P, R, as_fraction(d["gamma"]), mu, mask)


# ------------------------------------------------------------------------------------------- lazy re-exports
_SEARCH_NAMES = {
    "SearchResult",
    "search_counterexample",
    "rational_mdps",
    "rational_policies",
    "rational_instances",
}


def __getattr__(name: str) -> Any:
    if name in _SEARCH_NAMES:
        from mdpkit.claims import search

        return getattr(search, name)
    raise AttributeError(f"module 'mdpkit.claims.exact' has no attribute {name!r}")
