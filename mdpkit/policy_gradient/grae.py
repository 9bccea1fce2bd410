r"""Group-relative advantage estimation (GRAE, the advantage of GRPO) and its exact expectations.

For a group of :math:`G` returns :math:`R_1, \dots, R_G` sampled i.i.d. from the current policy (the same
prompt / initial state), the group-relative advantage of member :math:`i` is

.. math:: \hat A_i = \frac{R_i - b_i}{\sigma + \epsilon}

with one of the conventions of :class:`GroupAdvantage`:

* ``baseline="mean"``: :math:`b_i = \bar R = \frac1G \sum_j R_j` (GRPO, Shao et al. 2024, §4.1.2);
  ``baseline="loo"``: :math:`b_i = \frac1{G-1}\sum_{j \ne i} R_j` (RLOO, Ahmadian et al. 2024);
* ``scale="std"``: :math:`\sigma = \big(\frac1G \sum_j (R_j - \bar R)^2\big)^{1/2}` (population std, ddof 0);
  ``scale="std_unbiased"``: ddof 1 (``torch.std``'s default, as in TRL's GRPO trainer);
  ``scale="none"``: :math:`\sigma = 1, \epsilon = 0` (Dr. GRPO, Liu et al. 2025; the mean-only form);
* **zero-std groups**: when every member has the same return, :math:`R_i - b_i = 0` for every :math:`i`;
  with ``eps == 0`` the ratio :math:`0/0` is *defined as 0* (the group carries no signal, as in every
  GRPO implementation, where ``eps > 0`` makes it 0 too).

Exact expectations
------------------
The expected update of every algorithm in this package needs, for a member whose own return is
:math:`x`, the conditional moments

.. math:: m(x) = \mathbb E[\hat A_1 \mid R_1 = x], \quad m^+(x) = \mathbb E[\hat A_1^+ \mid R_1 = x], \quad
          m^-(x) = \mathbb E[\hat A_1^- \mid R_1 = x]

(:math:`a^\pm = \max(\pm a, 0)`), where the other :math:`G - 1` returns are i.i.d. from the marginal return
distribution :math:`D = \sum_k p_k \delta_{v_k}`. :class:`GroupMomentTable` computes them **exactly** by
enumerating the multisets of the other members' outcomes: a multiset with counts :math:`c_1..c_K`
(:math:`\sum c_k = G - 1`) has probability :math:`\binom{G-1}{c_1, \dots, c_K} \prod_k p_k^{c_k}`. There are
:math:`\binom{K + G - 2}{G - 1}` multisets; the advantages depend only on the support and are computed once,
so re-weighting for a new policy is a matrix-vector product. With Fraction inputs the moments are exact
rationals whenever every group std that occurs with positive probability is rational (always for
``scale="none"``, and for ``G = 2`` with ``scale="std"``, where :math:`\hat A_i = \mathrm{sign}(R_i - R_j)`);
otherwise :class:`NotExactError` (exact advantages are computed lazily, only for multisets of positive
probability).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

import numpy as np

from mdpkit.core.validate import check_choice
from mdpkit.errors import InvalidArgumentError
from mdpkit.policy_gradient._common import NotExactError, Number, check_int, is_exact, sqrt_exact
from mdpkit.policy_gradient.distributions import Dist

__all__ = ["GroupAdvantage", "GroupMomentTable", "MAX_MULTISETS", "check_exact_possible"]

#: Largest number of multisets :class:`GroupMomentTable` enumerates (raise beyond).
MAX_MULTISETS = 2_000_000


@dataclass(frozen=True)
class GroupAdvantage:
    r"""A group-relative advantage convention (see the module docstring for the formulas).

    Parameters
    ----------
    G : int
        Group size (>= 2).
    baseline : {"mean", "loo"}
        Group mean including the member itself (GRPO) or the leave-one-out mean (RLOO).
    scale : {"std", "std_unbiased", "none"}
        Divide by the group's population std, its ddof-1 std, or not at all.
    eps : number
        Added to the std in the denominator (0 by default; GRPO implementations use 1e-4..1e-8). Ignored
        when ``scale="none"``.
    """

    G: int = 8
    baseline: Literal["mean", "loo"] = "mean"
    scale: Literal["std", "std_unbiased", "none"] = "std"
    eps: Number = 0

    def __post_init__(self) -> None:
        check_int(self.G, "G", low=2)
        check_choice(self.baseline, "baseline", ("mean", "loo"))
        check_choice(self.scale, "scale", ("std", "std_unbiased", "none"))
        if self.eps < 0:
            raise InvalidArgumentError(f"eps = {self.eps!r} must be >= 0")

    @property
    def label(self) -> str:
        """Short description, e.g. ``GRAE(G=8, mean, std)``."""
        eps = f", eps={self.eps}" if self.eps and self.scale != "none" else ""
        return f"GRAE(G={self.G}, {self.baseline}, {self.scale}{eps})"

    def advantages(self, rewards: Sequence[Number]) -> list[Number]:
        r"""The advantages :math:`\hat A_1..\hat A_G` of one group (exact for Fraction rewards when the std
        is rational; see :class:`NotExactError`)."""
        r = list(rewards)
        G = len(r)
        if G != self.G:
            raise InvalidArgumentError(f"group has {G} rewards, expected G = {self.G}")
        exact = all(is_exact(x) for x in r) and is_exact(self.eps)
        zero = Fraction(0) if exact else 0.0
        tot = sum(r, zero)
        if self.baseline == "mean":
            num = [x - tot / G for x in r]
        else:
            num = [x - (tot - x) / (G - 1) for x in r]
        if self.scale == "none":
            return num
        if self.eps == 0 and all(x == r[0] for x in r):
            return [zero] * G  # 0/0 := 0 (all returns equal), decided exactly even for floats
        mean = tot / G
        ss = sum(((x - mean) ** 2 for x in r), zero)
        var = ss / G if self.scale == "std" else ss / (G - 1)
        sd = sqrt_exact(var) if exact else math.sqrt(float(var))
        den = sd + (self.eps if exact else float(self.eps))
        return [n / den for n in num]

    def table(self, support: Sequence[Number], exact: bool | None = None) -> GroupMomentTable:
        """A :class:`GroupMomentTable` on ``support`` (sorted distinct return values)."""
        return GroupMomentTable(self, tuple(support), exact)


@dataclass(frozen=True, eq=False)
class GroupMomentTable:
    r"""Exact conditional moments of a group-relative advantage on a fixed finite support.

    Parameters
    ----------
    spec : GroupAdvantage
    support : tuple of numbers
        Distinct possible returns :math:`v_1 < \dots < v_K` (the union of the supports of every return
        distribution the table will be used with).
    exact : bool, optional
        Compute with Fractions (default: when the support and ``eps`` are rational).

    Notes
    -----
    :meth:`moments` returns, for each support point :math:`x = v_j`, the triple
    :math:`(m(x), m^+(x), m^-(x))` defined in the module docstring, for the return distribution with
    probabilities ``probs`` on ``support``.
    """

    spec: GroupAdvantage
    support: tuple[Number, ...]
    exact: bool | None = None
    _adv: object = field(default=None, repr=False)  # (K, M) advantages of member 1 with own value v_j
    _counts: object = field(default=None, repr=False)  # (M, K) counts of each multiset of the others
    _coef: object = field(default=None, repr=False)  # (M,) multinomial coefficients
    _combos: object = field(default=None, repr=False)  # the multisets, as sorted index tuples
    _vals: object = field(default=None, repr=False)  # the support as Fractions or floats

    def __post_init__(self) -> None:
        K = len(self.support)
        if K == 0:
            raise InvalidArgumentError("the support is empty")
        if len(set(self.support)) != K:
            raise InvalidArgumentError("the support has repeated values")
        exact = self.exact
        if exact is None:
            exact = all(is_exact(v) for v in self.support) and is_exact(self.spec.eps)
        object.__setattr__(self, "exact", bool(exact))
        G = self.spec.G
        n_multi = math.comb(K + G - 2, G - 1)
        if n_multi > MAX_MULTISETS:
            raise InvalidArgumentError(
                f"{n_multi} multisets of G-1 = {G - 1} outcomes over K = {K} values exceed MAX_MULTISETS = "
                f"{MAX_MULTISETS}; use a smaller group, a coarser support, or the sampled estimators"
            )
        vals = [Fraction(v) for v in self.support] if exact else [float(v) for v in self.support]
        combos = list(itertools.combinations_with_replacement(range(K), G - 1))
        counts = np.zeros((len(combos), K), dtype=np.int64)
        for m, c in enumerate(combos):
            for k in c:
                counts[m, k] += 1
        fact = math.factorial(G - 1)
        coef = [fact // math.prod(math.factorial(int(x)) for x in row) for row in counts]
        adv = np.empty((K, len(combos)), dtype=object if exact else np.float64)
        spec = (
            self.spec
            if exact
            else GroupAdvantage(G, self.spec.baseline, self.spec.scale, float(self.spec.eps))
        )
        if not exact and self.spec.scale == "none":
            # closed form, vectorised: sum of the others is counts @ vals
            vv = np.asarray(vals)
            S_others = counts @ vv
            x = vv[:, None]
            if self.spec.baseline == "mean":
                adv[:] = x - (x + S_others[None, :]) / G
            else:
                adv[:] = x - S_others[None, :] / (G - 1)
        elif exact:
            adv[:] = None  # computed on demand in moments(): only multisets of positive probability
        else:
            for m, c in enumerate(combos):
                others = [vals[k] for k in c]
                for j in range(K):
                    adv[j, m] = spec.advantages([vals[j], *others])[0]
        object.__setattr__(self, "_combos", combos)
        object.__setattr__(self, "_vals", vals)
        object.__setattr__(self, "_adv", adv)
        object.__setattr__(self, "_counts", counts)
        object.__setattr__(self, "_coef", coef)

    @property
    def n_multisets(self) -> int:
        """Number of enumerated multisets of the other ``G - 1`` outcomes."""
        return int(self._counts.shape[0])

    def multiset_probs(self, probs: Sequence[Number]) -> np.ndarray:
        r"""Probabilities :math:`\binom{G-1}{c}\prod_k p_k^{c_k}` of the multisets (return law ``probs``)."""
        K = len(self.support)
        if len(probs) != K:
            raise InvalidArgumentError(f"{len(probs)} probabilities for a support of size {K}")
        if self.exact:
            p = [Fraction(x) for x in probs]
            out = np.empty(self.n_multisets, dtype=object)
            for m in range(self.n_multisets):
                w = Fraction(self._coef[m])
                for k in range(K):
                    c = int(self._counts[m, k])
                    if c:
                        w *= p[k] ** c
                out[m] = w
            return out
        p = np.asarray([float(x) for x in probs])
        pw = np.prod(np.power(p[None, :], self._counts), axis=1)
        return np.asarray(self._coef, dtype=np.float64) * pw

    def moments(self, probs: Sequence[Number]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r"""``(m, m_plus, m_minus)``, each of shape (K,): the conditional mean, positive part and negative
        part of :math:`\hat A_1` given :math:`R_1 = v_j`, others i.i.d. with law ``probs`` on the support."""
        w = self.multiset_probs(probs)
        adv = self._adv
        if self.exact:
            K, M = adv.shape
            zero = Fraction(0)
            m = np.empty(K, dtype=object)
            mp = np.empty(K, dtype=object)
            mn = np.empty(K, dtype=object)
            for j in range(K):
                s = sp = sn = zero
                for k in range(M):
                    if w[k] == 0:
                        continue
                    a = adv[j, k]
                    if a is None:  # exact advantages are computed only where they are needed
                        others = [self._vals[i] for i in self._combos[k]]
                        a = adv[j, k] = self.spec.advantages([self._vals[j], *others])[0]
                    if a == 0:
                        continue
                    t = w[k] * a
                    s += t
                    if a > 0:
                        sp += t
                    else:
                        sn -= t
                m[j], mp[j], mn[j] = s, sp, sn
            return m, mp, mn
        return adv @ w, np.maximum(adv, 0.0) @ w, np.maximum(-adv, 0.0) @ w

    def moments_for(self, dist: Dist) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`moments` for a return distribution given as a :class:`Dist` on (a subset of) the support."""
        return self.moments(dist.prob_of(self.support))

    def conditional(
        self,
        own: Dist,
        marginal_probs: Sequence[Number] | None,
        cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> tuple[Number, Number, Number]:
        r""":math:`(\mathbb E[\hat A_1], \mathbb E[\hat A_1^+], \mathbb E[\hat A_1^-])` when the member's own
        return has law ``own`` (e.g. given its action) and the others have law ``marginal_probs``. ``cache``:
        the output of :meth:`moments` for that law, to reuse across many ``own`` laws (``marginal_probs``
        is then ignored)."""
        m, mp, mn = self.moments(marginal_probs) if cache is None else cache
        idx = {v: j for j, v in enumerate(self.support)}
        zero = Fraction(0) if self.exact else 0.0
        s = sp = sn = zero
        for v, p in zip(own.values, own.probs, strict=True):
            if v not in idx:
                raise InvalidArgumentError(f"return value {v} is not in the table's support")
            j = idx[v]
            pp = Fraction(p) if self.exact else float(p)
            s += pp * m[j]
            sp += pp * mp[j]
            sn += pp * mn[j]
        return s, sp, sn


def check_exact_possible(spec: GroupAdvantage, support: Sequence[Number]) -> bool:
    """Whether every group std over ``support`` is rational, i.e. :class:`GroupMomentTable` is exact for
    every return law on it (tries all multisets)."""
    sup = tuple(Fraction(v) for v in support)
    try:
        GroupMomentTable(spec, sup, True).moments([Fraction(1, len(sup))] * len(sup))
    except NotExactError:
        return False
    return True
