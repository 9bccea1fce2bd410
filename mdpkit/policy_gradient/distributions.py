r"""Finite distributions of returns, exact or in floating point, and the return distributions of
multi-turn (finite-horizon) problems.

Group-relative advantages (GRPO's GRAE) depend on the whole *distribution* of a sampled return, not only
on its mean, so the exact expected updates of :mod:`mdpkit.policy_gradient` need return distributions:

* :class:`Dist` — a finite distribution ``{value: probability}`` with Fraction or float entries;
  :func:`mixture`, :func:`shift`, :func:`convolve`, :func:`convolve_power`;
* :func:`finite_return_distributions` — for a :class:`~mdpkit.FiniteHorizonMDP` (a multi-turn problem whose
  turn-``h`` agent sees state ``s_h``) and a time-indexed policy, the distribution of the undiscounted
  return :math:`R = \sum_{h<H} r_h(s_h, a_h) + v_{\mathrm{term}}(s_H)`, conditioned on each decision
  ``(h, s, a)``, and its marginal.

Conditional on :math:`s_h = s` the past and the future of a Markov chain are independent, so

.. math:: \mathcal L(R \mid s_h = s, a_h = a) = \mathcal L(R_{<h} \mid s_h = s) \ast
          \mathcal L\big(r_h(s, a) + R_{>h} \mid s_h = s, a_h = a\big),

which is how the conditional distributions are computed (one forward and one backward pass).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from mdpkit.core.model import FiniteHorizonMDP
from mdpkit.errors import InvalidArgumentError, InvalidPolicyError
from mdpkit.policy_gradient._common import Number, check_prob_vector, is_exact

__all__ = [
    "Dist",
    "point",
    "mixture",
    "shift",
    "convolve",
    "convolve_power",
    "FiniteReturnDistributions",
    "finite_return_distributions",
    "is_binary",
    "support_union",
    "float_dist",
]

#: Largest support a distribution may reach before :class:`InvalidArgumentError` (keeps enumeration cheap).
MAX_SUPPORT = 100_000


@dataclass(frozen=True, eq=False)
class Dist:
    """A finite probability distribution on the real line.

    Attributes
    ----------
    values : tuple of numbers
        Sorted, distinct support points (Fractions for an exact distribution).
    probs : tuple of numbers
        Their probabilities (all > 0), summing to 1 (exactly for Fractions).
    """

    values: tuple[Number, ...]
    probs: tuple[Number, ...]

    @classmethod
    def from_mapping(cls, m: Mapping[Number, Number]) -> Dist:
        """Build from ``{value: probability}``, dropping zero probabilities and sorting the support."""
        items = sorted((v, p) for v, p in m.items() if p != 0)
        if not items:
            raise InvalidArgumentError("a distribution needs at least one point of positive probability")
        if len(items) > MAX_SUPPORT:
            raise InvalidArgumentError(
                f"distribution support {len(items)} exceeds MAX_SUPPORT = {MAX_SUPPORT}"
            )
        return cls(tuple(v for v, _ in items), tuple(p for _, p in items))

    @classmethod
    def from_arrays(cls, values: Sequence[Number], probs: Sequence[Number]) -> Dist:
        """Build from parallel sequences (equal values are merged)."""
        if len(values) != len(probs):
            raise InvalidArgumentError(f"{len(values)} values but {len(probs)} probabilities")
        m: dict[Number, Number] = {}
        for v, p in zip(values, probs, strict=True):
            if p < 0:
                raise InvalidArgumentError(f"probability {p} of value {v} is negative")
            m[v] = m.get(v, 0) + p
        d = cls.from_mapping(m)
        tot = sum(d.probs)
        if is_exact(tot) and all(is_exact(p) for p in d.probs):
            if tot != 1:
                raise InvalidArgumentError(f"probabilities sum to {tot}, expected exactly 1")
        elif abs(float(tot) - 1.0) > 1e-9:
            raise InvalidArgumentError(f"probabilities sum to {float(tot):.12g}, expected 1")
        return d

    @property
    def exact(self) -> bool:
        """Whether every value and probability is a rational number."""
        return all(is_exact(v) for v in self.values) and all(is_exact(p) for p in self.probs)

    @property
    def K(self) -> int:
        """Support size."""
        return len(self.values)

    def mean(self) -> Number:
        """:math:`\\sum_x p(x)\\, x`."""
        return sum((p * v for v, p in zip(self.values, self.probs, strict=True)), start=_zero(self))

    def var(self) -> Number:
        """Variance :math:`\\sum_x p(x) (x - \\mu)^2`."""
        mu = self.mean()
        return sum(
            (p * (v - mu) ** 2 for v, p in zip(self.values, self.probs, strict=True)), start=_zero(self)
        )

    def prob_of(self, support: Sequence[Number]) -> list[Number]:
        """Probabilities of the points of ``support`` (0 for points outside this distribution's support)."""
        m = dict(zip(self.values, self.probs, strict=True))
        z = _zero(self)
        extra = set(m) - set(support)
        if extra:
            raise InvalidArgumentError(
                f"support points {sorted(extra)[:5]} are missing from the given support"
            )
        return [m.get(v, z) for v in support]

    def as_dict(self) -> dict[str, list[str]]:
        """JSON-friendly form (numbers as exact strings)."""
        from mdpkit.claims.exact import fraction_str

        return {
            "values": [fraction_str(v) for v in self.values],
            "probs": [fraction_str(p) for p in self.probs],
        }

    def __repr__(self) -> str:
        body = ", ".join(f"{v}: {p}" for v, p in zip(self.values, self.probs, strict=True))
        return f"Dist({{{body}}})"


def _zero(d: Dist) -> Number:
    return Fraction(0) if d.exact else 0.0


def point(x: Number) -> Dist:
    """The point mass at ``x`` (exact when ``x`` is rational)."""
    return Dist((x,), (Fraction(1) if is_exact(x) else 1.0,))


def mixture(weights: Iterable[Number], dists: Iterable[Dist]) -> Dist:
    """:math:`\\sum_i w_i D_i` (weights sum to 1; zero weights are skipped)."""
    m: dict[Number, Number] = {}
    for w, d in zip(weights, dists, strict=True):
        if w == 0:
            continue
        for v, p in zip(d.values, d.probs, strict=True):
            m[v] = m.get(v, 0) + w * p
    return Dist.from_mapping(m)


def shift(d: Dist, c: Number) -> Dist:
    """The law of :math:`X + c`."""
    return Dist(tuple(v + c for v in d.values), d.probs)


def convolve(d1: Dist, d2: Dist) -> Dist:
    """The law of :math:`X_1 + X_2` for independent :math:`X_1 \\sim D_1`, :math:`X_2 \\sim D_2`."""
    if d1.K == 1:
        return shift(d2, d1.values[0]) if d1.probs[0] == 1 else _conv(d1, d2)
    if d2.K == 1 and d2.probs[0] == 1:
        return shift(d1, d2.values[0])
    return _conv(d1, d2)


def _conv(d1: Dist, d2: Dist) -> Dist:
    m: dict[Number, Number] = {}
    for v1, p1 in zip(d1.values, d1.probs, strict=True):
        for v2, p2 in zip(d2.values, d2.probs, strict=True):
            k = v1 + v2
            m[k] = m.get(k, 0) + p1 * p2
    return Dist.from_mapping(m)


def convolve_power(d: Dist, n: int) -> Dist:
    """The law of the sum of ``n`` i.i.d. copies (``n = 0``: the point mass at 0)."""
    if n < 0:
        raise InvalidArgumentError(f"n = {n} must be >= 0")
    out = point(Fraction(0) if d.exact else 0.0)
    base = d
    while n:
        if n & 1:
            out = convolve(out, base)
        n >>= 1
        if n:
            base = convolve(base, base)
    return out


# --------------------------------------------------------------------------------------------- multi-turn
@dataclass(frozen=True, eq=False)
class FiniteReturnDistributions:
    r"""Return distributions of a time-indexed policy in a finite-horizon (multi-turn) problem.

    Attributes
    ----------
    marginal : Dist
        Law of the return :math:`R` from :math:`s_0 \sim \mu`.
    conditional : list (H) of list (S) of list (A) of Dist or None
        ``conditional[h][s][a]`` is :math:`\mathcal L(R \mid s_h = s, a_h = a)`; None where
        :math:`d_h(s)\,\pi_h(a|s) = 0` (the decision never happens).
    state_dist : ndarray (H, S)
        :math:`d_h(s) = \Pr(s_h = s)`.
    q_future : ndarray (H, S, A)
        :math:`Q_h(s, a) = \mathbb E[r_h + R_{>h} \mid s_h = s, a_h = a]` (the usual finite-horizon Q).
    past_mean : ndarray (H, S)
        :math:`\mathbb E[R_{<h} \mid s_h = s]` (0 where :math:`d_h(s) = 0`).
    """

    marginal: Dist
    conditional: list
    state_dist: np.ndarray
    q_future: np.ndarray
    past_mean: np.ndarray


def _time_policy(fh: FiniteHorizonMDP, policy: np.ndarray) -> np.ndarray:
    pi = np.asarray(policy, dtype=np.float64)
    if pi.shape != (fh.H, fh.S, fh.A):
        raise InvalidPolicyError(
            f"policy has shape {pi.shape}, expected (H, S, A) = ({fh.H}, {fh.S}, {fh.A})"
        )
    check_prob_vector(pi, "policy")
    bad = (pi > 0) & ~fh.mask
    if bad.any():
        h, s, a = np.argwhere(bad)[0]
        raise InvalidPolicyError(f"policy[{h}, {s}, {a}] = {pi[h, s, a]!r} > 0 on an infeasible action")
    return pi


def finite_return_distributions(
    fh: FiniteHorizonMDP, policy: np.ndarray, decimals: int | None = None
) -> FiniteReturnDistributions:
    r"""Distributions of the undiscounted return of a time-indexed policy, marginal and per decision.

    Parameters
    ----------
    fh : FiniteHorizonMDP
        The multi-turn problem: turn ``h`` chooses :math:`a_h \sim \pi_h(\cdot|s_h)`, collects the
        deterministic reward ``R[h, s, a]`` and moves to :math:`s_{h+1} \sim P_h(\cdot|s_h, a_h)`; the return
        adds ``terminal[s_H]``.
    policy : ndarray (H, S, A)
        Time-indexed stochastic policy (one "virtual agent" per turn, as in SeeUPO's multi-agent view).
    decimals : int, optional
        Round return values to this many decimals before merging equal values (float rewards whose sums
        are not exactly representable). Default: merge exactly equal floats only; use integer rewards to
        keep supports small.

    Returns
    -------
    FiniteReturnDistributions

    Notes
    -----
    Cost grows with the number of distinct partial returns; :data:`MAX_SUPPORT` bounds each distribution.
    """
    pi = _time_policy(fh, policy)
    H, S, A = fh.H, fh.S, fh.A
    R = np.where(fh.mask, fh.R, 0.0)

    def key(x: float) -> float:
        return round(x, decimals) if decimals is not None else float(x)

    def rnd(d: Dist) -> Dist:
        if decimals is None:
            return d
        m: dict[Number, Number] = {}
        for v, p in zip(d.values, d.probs, strict=True):
            m[key(v)] = m.get(key(v), 0) + p
        return Dist.from_mapping(m)

    P = [
        np.asarray(fh.P_at(h).toarray().reshape(S, A, S) if hasattr(fh.P_at(h), "toarray") else fh.P_at(h))
        for h in range(H)
    ]
    # forward: state distribution and law of the past return given s_h
    d = np.zeros((H + 1, S))
    d[0] = fh.initial
    past: list[list[Dist | None]] = [[point(0.0) if fh.initial[s] > 0 else None for s in range(S)]]
    for h in range(H):
        nxt: list[dict[float, float]] = [{} for _ in range(S)]
        for s in range(S):
            if d[h, s] == 0:
                continue
            ps = past[h][s]
            for a in range(A):
                w = d[h, s] * pi[h, s, a]
                if w == 0:
                    continue
                for t in np.nonzero(P[h][s, a])[0]:
                    wt = w * P[h][s, a, t]
                    for v, p in zip(ps.values, ps.probs, strict=True):
                        k = key(v + R[h, s, a])
                        nxt[t][k] = nxt[t].get(k, 0.0) + wt * p
        d[h + 1] = [sum(m.values()) for m in nxt]
        past.append(
            [
                Dist.from_mapping({v: p / d[h + 1, t] for v, p in nxt[t].items()})
                if d[h + 1, t] > 0
                else None
                for t in range(S)
            ]
        )
    # backward: law of the future return from (h, s, a)
    fut: list[Dist] = [point(float(fh.terminal[s])) for s in range(S)]
    futQ: list = [None] * H
    qf = np.zeros((H, S, A))
    for h in range(H - 1, -1, -1):
        fq = [[None] * A for _ in range(S)]
        new_fut: list[Dist] = []
        for s in range(S):
            for a in range(A):
                if not fh.mask[h, s, a]:
                    continue
                succ = np.nonzero(P[h][s, a])[0]
                mix = mixture([P[h][s, a, t] for t in succ], [fut[t] for t in succ])
                fq[s][a] = rnd(shift(mix, float(R[h, s, a])))
                qf[h, s, a] = fq[s][a].mean()
            acts = [a for a in range(A) if pi[h, s, a] > 0]
            new_fut.append(mixture([pi[h, s, a] for a in acts], [fq[s][a] for a in acts]))
        futQ[h] = fq
        fut = new_fut
    marginal = rnd(
        mixture(
            [fh.initial[s] for s in range(S) if fh.initial[s] > 0],
            [fut[s] for s in range(S) if fh.initial[s] > 0],
        )
    )
    cond: list = []
    pm = np.zeros((H, S))
    for h in range(H):
        rows = []
        for s in range(S):
            row: list[Dist | None] = []
            for a in range(A):
                if d[h, s] > 0 and pi[h, s, a] > 0:
                    row.append(rnd(convolve(past[h][s], futQ[h][s][a])))
                else:
                    row.append(None)
            rows.append(row)
            if d[h, s] > 0:
                pm[h, s] = past[h][s].mean()
        cond.append(rows)
    return FiniteReturnDistributions(marginal, cond, d[:H].copy(), qf, pm)


def is_binary(d: Dist) -> bool:
    """Whether the support has at most two points (a Bernoulli-type outcome reward)."""
    return d.K <= 2


def support_union(dists: Iterable[Dist | None]) -> tuple[Number, ...]:
    """Sorted union of the supports of the given distributions (None entries skipped)."""
    vals: set[Number] = set()
    for d in dists:
        if d is not None:
            vals.update(d.values)
    return tuple(sorted(vals))


def float_dist(d: Dist) -> Dist:
    """A float copy of a distribution."""
    return Dist(tuple(float(v) for v in d.values), tuple(float(p) for p in d.probs))
