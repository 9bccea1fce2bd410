r"""PPO-clip with exact expectations: the clipped surrogate maximised exactly (a separable LP) or by many
gradient steps on the logits.

For a state :math:`s` with old policy :math:`p = \pi_{\mathrm{old}}(\cdot|s)` and an advantage estimate
:math:`\hat A` (random: it may depend on the rest of a sampled group), the expected clipped surrogate of
Schulman et al. (2017, eq. 7) is

.. math:: L_s(\pi) = \mathbb E_{a \sim p}\Big[\min\big(\rho_a \hat A,\ \mathrm{clip}(\rho_a, 1-\epsilon,
          1+\epsilon)\, \hat A\big)\Big], \qquad \rho_a = \pi(a)/p(a).

Since :math:`\min(\rho x, \mathrm{clip}(\rho) x) = x^+ \min(\rho, 1+\epsilon) - x^- \max(\rho, 1-\epsilon)`,

.. math:: L_s(\pi) = \sum_a \Big[P_a \min\big(\pi(a), (1+\epsilon)p(a)\big) - N_a \max\big(\pi(a),
          (1-\epsilon)p(a)\big)\Big]

with :math:`P_a = \mathbb E[\hat A^+ \mid a]` and :math:`N_a = \mathbb E[\hat A^- \mid a]`:
a **separable concave piecewise-linear** function of :math:`\pi(\cdot|s)` on the simplex: each
:math:`\pi(a)` has slopes :math:`P_a` on :math:`[0, (1-\epsilon)p_a]`, :math:`P_a - N_a` on
:math:`[(1-\epsilon)p_a, (1+\epsilon)p_a]` and :math:`-N_a` beyond. Its maximum over the simplex is found
exactly by filling the pieces in decreasing order of slope (the greedy solution of a separable concave
resource-allocation problem); the set of maximisers is :math:`\{\ell \le \pi \le u, \sum_a \pi(a) = 1\}`
(pieces whose slope equals the optimal multiplier can be filled arbitrarily), returned as
:class:`SurrogateArgmax`. With Fraction inputs everything is exact.

Conventions: an action with :math:`p(a) = 0` keeps :math:`\pi(a) = 0` (a softmax policy cannot leave
the support of its old policy by a finite step, and the surrogate does not see such actions); a state of
weight 0 keeps its old policy.

References
----------
Schulman, Wolski, Dhariwal, Radford, Klimov, "Proximal Policy Optimization Algorithms", arXiv:1707.06347
(2017), §3 eq. (7).
Kuba, de Witt, Foerster, "Mirror Learning: A Unifying Framework of Policy Optimisation", ICML 2022 (PPO's
monotonic improvement when the surrogate is maximised with the true advantage).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np

from mdpkit.core.validate import check_choice
from mdpkit.errors import InvalidArgumentError
from mdpkit.policy_gradient._common import Number, check_int, check_positive, check_prob_vector, is_exact

__all__ = [
    "SurrogateArgmax",
    "clipped_surrogate",
    "surrogate_logit_gradient",
    "maximize_clipped_surrogate",
    "PPOUpdate",
    "ppo_clip_update",
]


def _zero(exact: bool) -> Number:
    return Fraction(0) if exact else 0.0


def clipped_surrogate(
    pi: Sequence[Number], pi_old: Sequence[Number], pos: Sequence[Number], neg: Sequence[Number], eps: Number
) -> Number:
    r"""The expected clipped surrogate :math:`L_s(\pi)` of one state (formula in the module docstring).

    Parameters
    ----------
    pi, pi_old : sequences (A,)
        New and old action distributions.
    pos, neg : sequences (A,)
        :math:`P_a = \mathbb E[\hat A^+|a]` and :math:`N_a = \mathbb E[\hat A^-|a]` (both >= 0).
    eps : number
        Clip range :math:`\epsilon > 0`.
    """
    exact = all(is_exact(x) for x in (*pi, *pi_old, *pos, *neg, eps))
    tot = _zero(exact)
    for a in range(len(pi_old)):
        p = pi_old[a]
        if p == 0:
            if pi[a] != 0:
                raise InvalidArgumentError(f"pi[{a}] = {pi[a]} > 0 where pi_old[{a}] = 0")
            continue
        upper = (1 + eps) * p
        lower = (1 - eps) * p if eps < 1 else _zero(exact)
        tot += pos[a] * min(pi[a], upper) - neg[a] * max(pi[a], lower)
    return tot


def surrogate_logit_gradient(
    pi: np.ndarray, pi_old: np.ndarray, pos: np.ndarray, neg: np.ndarray, eps: float
) -> np.ndarray:
    r"""Exact expected gradient of the clipped surrogate with respect to softmax logits, along the last axis.

    .. math:: \frac{\partial L_s}{\partial \theta_{s,b}} = \pi(b)\big(f'_b - \langle \pi, f'\rangle\big),
              \qquad f'_a = P_a\, \mathbb 1[\rho_a < 1+\epsilon] - N_a\, \mathbb 1[\rho_a > 1-\epsilon],

    the expectation of the per-sample autograd gradient :math:`\hat A\, \rho_a (e_a - \pi)\,
    \mathbb 1[\text{unclipped branch active}]`. Convention at the kinks :math:`\rho_a = 1 \pm \epsilon`
    (a null set): the derivative of the clipped side, 0, is used.

    Parameters
    ----------
    pi, pi_old, pos, neg : ndarray (..., A)
        Current and old policies, :math:`P = \mathbb E[\hat A^+|a]`, :math:`N = \mathbb E[\hat A^-|a]`.
    eps : float
    """
    p = np.asarray(pi, dtype=np.float64)
    p0 = np.asarray(pi_old, dtype=np.float64)
    e = float(eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(p0 > 0, p / np.where(p0 > 0, p0, 1.0), 1.0)
    dfdpi = np.asarray(pos, dtype=np.float64) * (rho < 1 + e) - np.asarray(neg, dtype=np.float64) * (
        rho > 1 - e
    )
    dfdpi = np.where(p0 > 0, dfdpi, 0.0)
    return p * (dfdpi - np.sum(p * dfdpi, axis=-1, keepdims=True))


@dataclass(frozen=True, eq=False)
class SurrogateArgmax:
    r"""The set of maximisers of one state's clipped surrogate: :math:`\{\ell \le \pi \le u,\ \sum \pi = 1\}`.

    Attributes
    ----------
    lo, hi : tuple (A,)
        Bounds :math:`\ell \le u` (equal for every action when the maximiser is unique).
    value : number
        The maximum :math:`\max_\pi L_s(\pi)`.
    multiplier : number
        The optimal Lagrange multiplier of :math:`\sum_a \pi(a) = 1` (the slope of the last filled piece).
    pi_old : tuple (A,)
    """

    lo: tuple[Number, ...]
    hi: tuple[Number, ...]
    value: Number
    multiplier: Number
    pi_old: tuple[Number, ...]

    @property
    def exact(self) -> bool:
        return all(is_exact(x) for x in (*self.lo, *self.hi, *self.pi_old))

    @property
    def unique(self) -> bool:
        """Whether the maximiser is unique."""
        return all(lo == hi for lo, hi in zip(self.lo, self.hi, strict=True))

    def pick(self, tie: Literal["closest", "lo"] = "closest") -> list[Number]:
        r"""One maximiser.

        ``tie="closest"`` (default) returns the maximiser closest to :math:`\pi_{\mathrm{old}}` in the
        :math:`\chi^2` sense, :math:`\arg\min \sum_a (\pi(a) - p(a))^2 / p(a)`: it is
        :math:`\pi(a) = \mathrm{clip}(t\, p(a), \ell_a, u_a)` with the scalar :math:`t` making it sum to 1
        (solved exactly on the piecewise-linear map :math:`t \mapsto \sum_a \mathrm{clip}(t p_a, \ell_a,
        u_a)`).
        ``tie="lo"`` fills the remaining mass in action order (a deterministic vertex).
        """
        check_choice(tie, "tie", ("closest", "lo"))
        lo, hi, p = list(self.lo), list(self.hi), list(self.pi_old)
        exact = self.exact
        rem = 1 - sum(lo, _zero(exact))
        if rem == 0 or self.unique:
            return lo
        if tie == "lo":
            out = list(lo)
            for a in range(len(out)):
                t = min(hi[a] - lo[a], rem)
                out[a] += t
                rem -= t
            return out
        free = [a for a in range(len(p)) if hi[a] > lo[a] and p[a] > 0]
        # g(t) = sum_a clip(t p_a, lo_a, hi_a) is continuous, non-decreasing, piecewise linear
        bps = sorted({lo[a] / p[a] for a in free} | {hi[a] / p[a] for a in free})

        def g(t: Number) -> Number:
            return sum(
                (min(max(t * p[a], lo[a]), hi[a]) if a in free else lo[a] for a in range(len(p))),
                _zero(exact),
            )

        def at(t: Number) -> list[Number]:
            return [min(max(t * p[a], lo[a]), hi[a]) if a in free else lo[a] for a in range(len(p))]

        prev_t, prev_g = bps[0], g(bps[0])  # g(min breakpoint) = sum(lo) < 1
        out = at(bps[-1])  # g(max breakpoint) = sum(hi) >= 1 (up to rounding in floating point)
        for t in bps[1:]:
            gt = g(t)
            if gt >= 1:
                # g is linear on [prev_t, t]
                out = at(prev_t + (1 - prev_g) * (t - prev_t) / (gt - prev_g))
                break
            prev_t, prev_g = t, gt
        if exact:
            if sum(out, Fraction(0)) != 1:  # pragma: no cover - impossible in exact arithmetic
                raise InvalidArgumentError("the argmax polytope is empty (sum of upper bounds < 1)")
            return out
        tot = float(sum(out))
        return [float(x) / tot for x in out]  # absorb rounding so the policy sums to 1

    def linear_range(self, c: Sequence[Number]) -> tuple[Number, Number]:
        r""":math:`(\min, \max)` of :math:`\sum_a c_a \pi(a)` over the maximisers (a fractional knapsack)."""
        lo, hi = list(self.lo), list(self.hi)
        exact = self.exact and all(is_exact(x) for x in c)
        base = sum((c[a] * lo[a] for a in range(len(lo))), _zero(exact))
        rem = 1 - sum(lo, _zero(exact))
        out = []
        for order in (
            sorted(range(len(lo)), key=lambda a: c[a]),
            sorted(range(len(lo)), key=lambda a: -c[a]),
        ):
            r, v = rem, base
            for a in order:
                t = min(hi[a] - lo[a], r)
                v += c[a] * t
                r -= t
            out.append(v)
        return out[0], out[1]


def maximize_clipped_surrogate(
    pi_old: Sequence[Number], pos: Sequence[Number], neg: Sequence[Number], eps: Number
) -> SurrogateArgmax:
    r"""Exact maximisation of one state's clipped surrogate over the simplex (greedy piece filling).

    Parameters
    ----------
    pi_old : sequence (A,)
        Old action distribution :math:`p`.
    pos, neg : sequence (A,)
        :math:`P_a, N_a \ge 0`, the expected positive and negative parts of the advantage given ``a``.
    eps : number
        Clip range :math:`\epsilon > 0` (any value; for :math:`\epsilon \ge 1` the lower clip is inactive).

    Returns
    -------
    SurrogateArgmax
        The polytope of maximisers, the maximum and the optimal multiplier. Exact for Fraction inputs.

    Notes
    -----
    Cost :math:`O(A \log A)`. The maximum is attained because the last piece of every action is
    unbounded (capped at mass 1).
    """
    A = len(pi_old)
    if not (len(pos) == len(neg) == A):
        raise InvalidArgumentError(f"pos has {len(pos)} and neg {len(neg)} entries, expected A = {A}")
    check_positive(eps, "eps")
    exact = all(is_exact(x) for x in (*pi_old, *pos, *neg, eps))
    zero = _zero(exact)
    one = Fraction(1) if exact else 1.0
    for a in range(A):
        if pos[a] < 0 or neg[a] < 0:
            raise InvalidArgumentError(f"pos[{a}] = {pos[a]}, neg[{a}] = {neg[a]}: both must be >= 0")
    pieces: list[tuple[Number, int, int, Number]] = []  # (slope, action, order, length)
    for a in range(A):
        p = pi_old[a]
        if p < 0:
            raise InvalidArgumentError(f"pi_old[{a}] = {p} is negative")
        if p == 0:
            continue
        upper = (1 + eps) * p
        lower = (1 - eps) * p if eps < 1 else zero
        if lower > 0:
            pieces.append((pos[a], a, 0, lower))
        pieces.append((pos[a] - neg[a], a, 1, upper - lower))
        pieces.append((-neg[a], a, 2, one))
    if not pieces:
        raise InvalidArgumentError("pi_old has no positive entry")
    pieces.sort(key=lambda q: (-q[0], q[1], q[2]))
    lo = [zero] * A
    hi = [zero] * A
    mass = zero
    lam = pieces[0][0]
    i = 0
    while i < len(pieces):
        j = i
        while j < len(pieces) and pieces[j][0] == pieces[i][0]:
            j += 1
        group = pieces[i:j]
        tot = sum((q[3] for q in group), zero)
        lam = group[0][0]
        if mass + tot <= 1:
            for q in group:
                lo[q[1]] += q[3]
                hi[q[1]] += q[3]
            mass += tot
            if mass == 1:
                break
        else:
            rem = 1 - mass
            for q in group:
                hi[q[1]] += q[3]
            # cap every upper bound by what the remaining mass allows
            for a in range(A):
                hi[a] = min(hi[a], lo[a] + rem)
            break
        i = j
    arg = SurrogateArgmax(tuple(lo), tuple(hi), zero, lam, tuple(pi_old))
    pick = arg.pick("lo")
    value = clipped_surrogate(pick, pi_old, pos, neg, eps)
    return SurrogateArgmax(tuple(lo), tuple(hi), value, lam, tuple(pi_old))


@dataclass(frozen=True, eq=False)
class PPOUpdate:
    """Result of :func:`ppo_clip_update`.

    Attributes
    ----------
    policy : ndarray (S, A)
        The new policy (object array of Fractions in exact mode).
    surrogate : number
        :math:`\\sum_s w_s L_s(\\pi_{\\mathrm{new}})`.
    argmax : list of SurrogateArgmax or None
        Per state (None for states of weight 0, and for ``method="gradient"``).
    method : str
    """

    policy: np.ndarray
    surrogate: Number
    argmax: list | None
    method: str


def ppo_clip_update(
    pi_old: np.ndarray,
    pos: np.ndarray,
    neg: np.ndarray,
    eps: Number = 0.2,
    weights: np.ndarray | None = None,
    method: Literal["exact", "gradient"] = "exact",
    tie: Literal["closest", "lo"] = "closest",
    steps: int = 5000,
    lr: float = 0.05,
) -> PPOUpdate:
    r"""One PPO-clip policy update with exact expectations, for every state at once.

    Maximises :math:`\sum_s w_s L_s(\pi(\cdot|s))` (the state-weighted expected clipped surrogate, with
    :math:`w_s` the old policy's state distribution) over tabular policies.

    Parameters
    ----------
    pi_old : ndarray (S, A) or (A,)
        Old policy (object array of Fractions for exact arithmetic).
    pos, neg : ndarray like ``pi_old``
        :math:`P_{s,a} = \mathbb E[\hat A^+ | s, a]`, :math:`N_{s,a} = \mathbb E[\hat A^- | s, a]`; for a
        deterministic advantage :math:`A` use ``pos = max(A, 0)``, ``neg = max(-A, 0)``.
    eps : number
        Clip range :math:`\epsilon`.
    weights : ndarray (S,), optional
        State weights :math:`w_s \ge 0` (default 1). The exact maximiser does not depend on positive
        weights; states of weight 0 keep their old policy.
    method : {"exact", "gradient"}
        ``"exact"``: the greedy LP solution of :func:`maximize_clipped_surrogate` with the tie-break ``tie``.
        ``"gradient"``: ``steps`` full-batch gradient-ascent steps of size ``lr`` on the logits
        :math:`\theta = \log \pi_{\mathrm{old}}` (PPO's "many inner epochs" with the exact expected
        gradient :func:`surrogate_logit_gradient`). Floats only. The surrogate is piecewise linear, so
        constant-step ascent ends oscillating around the kinks: its value is within :math:`O(\mathrm{lr})`
        of the maximum, not at it.
    tie : {"closest", "lo"}
        Which maximiser to return when it is not unique (:meth:`SurrogateArgmax.pick`).
    steps, lr : int, float
        Gradient-ascent budget (``method="gradient"``).

    Returns
    -------
    PPOUpdate
    """
    check_choice(method, "method", ("exact", "gradient"))
    P_old = np.asarray(pi_old, dtype=object if _is_obj(pi_old) else np.float64)
    squeeze = P_old.ndim == 1
    if squeeze:
        P_old = P_old[None, :]
    S, A = P_old.shape
    pos_a = np.asarray(pos, dtype=P_old.dtype).reshape(S, A)
    neg_a = np.asarray(neg, dtype=P_old.dtype).reshape(S, A)
    check_prob_vector(P_old, "pi_old")
    w = (
        np.ones(S)
        if weights is None
        else np.asarray(weights, dtype=object if _is_obj(weights) else np.float64)
    )
    if w.shape != (S,):
        raise InvalidArgumentError(f"weights has shape {w.shape}, expected ({S},)")
    if any(x < 0 for x in w):
        raise InvalidArgumentError("weights must be >= 0")
    if method == "exact":
        new = P_old.copy()
        arg: list = []
        total = 0 * w[0]
        for s in range(S):
            if w[s] == 0:
                arg.append(None)
                continue
            sol = maximize_clipped_surrogate(list(P_old[s]), list(pos_a[s]), list(neg_a[s]), eps)
            new[s] = sol.pick(tie)
            arg.append(sol)
            total += w[s] * sol.value
        return PPOUpdate(new[0] if squeeze else new, total, arg, "exact")
    if P_old.dtype == object:
        raise InvalidArgumentError("method='gradient' works in floating point; pass float arrays")
    check_int(steps, "steps", low=0)
    check_positive(lr, "lr")
    p0 = P_old
    pa, na = pos_a.astype(np.float64), neg_a.astype(np.float64)
    with np.errstate(divide="ignore"):
        theta = np.where(p0 > 0, np.log(np.where(p0 > 0, p0, 1.0)), -np.inf)
    wf = np.asarray(w, dtype=np.float64)[:, None]
    pi = p0.copy()
    eps_f = float(eps)
    for _ in range(steps):
        theta = theta + lr * wf * surrogate_logit_gradient(pi, p0, pa, na, eps_f)
        z = theta - np.max(theta, axis=1, keepdims=True)
        ez = np.exp(z)
        pi = ez / ez.sum(axis=1, keepdims=True)
    val = sum(
        float(wf[s, 0]) * clipped_surrogate(list(pi[s]), list(p0[s]), list(pa[s]), list(na[s]), eps_f)
        for s in range(S)
    )
    return PPOUpdate(pi[0] if squeeze else pi, val, None, "gradient")


def _is_obj(x: object) -> bool:
    arr = np.asarray(x, dtype=object)
    return arr.size > 0 and any(is_exact(v) for v in arr.ravel())
