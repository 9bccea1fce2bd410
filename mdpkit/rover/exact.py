r"""Exact (rational) values on trees, for certificates: Fractions for everything that is rational, mpmath
at a stated precision for the softmax policy (whose probabilities :math:`e^{Q/\rho}/\sum e^{Q/\rho}` are not).

Rational inputs come from ``tree.prob_exact`` / ``tree.reward_exact`` when the tree was built from exact
numbers (:func:`~mdpkit.rover.tree.tree_from_spec`, :class:`~mdpkit.rover.tree.TreeBuilder`), otherwise from
the exact binary values of the floats. Ties in :math:`\arg\max` are exact here, unlike in float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import mpmath

from mdpkit.errors import InvalidArgumentError
from mdpkit.rover.tree import Tree

__all__ = [
    "uniform_q_exact",
    "optimal_q_exact",
    "policy_q_exact",
    "greedy_sets_exact",
    "greedy_policy_exact",
    "greedy_value_range_exact",
    "visit_probabilities_exact",
    "success_probability_exact",
    "SoftmaxBound",
    "softmax_bound_mp",
    "GreedyCheck",
    "greedy_check_exact",
    "greedy_certificate",
]


def _backward(
    tree: Tree, mode: str, pi: Sequence[Fraction] | None = None
) -> tuple[list[Fraction], list[Fraction]]:
    ap, op, ch = tree.action_ptr.tolist(), tree.outcome_ptr.tolist(), tree.child.tolist()
    pr, rw = tree.exact_prob(), tree.exact_reward()
    N = tree.n_nodes
    q = [Fraction(0)] * tree.n_edges
    v = [Fraction(0)] * N
    for n in range(N - 1, -1, -1):
        a0, a1 = ap[n], ap[n + 1]
        if a0 == a1:
            v[n] = rw[n]
            continue
        for e in range(a0, a1):
            q[e] = sum((pr[j] * v[ch[j]] for j in range(op[e], op[e + 1])), Fraction(0))
        if mode == "mean":
            v[n] = sum(q[a0:a1], Fraction(0)) / (a1 - a0)
        elif mode == "max":
            v[n] = max(q[a0:a1])
        else:
            assert pi is not None
            v[n] = sum((pi[e] * q[e] for e in range(a0, a1)), Fraction(0))
    return q, v


def uniform_q_exact(tree: Tree) -> tuple[list[Fraction], list[Fraction]]:
    r"""``(Q, V)`` of the uniform policy in rationals: Q per edge (E), V per node (N); see
    :func:`mdpkit.rover.uniform_q`."""
    return _backward(tree, "mean")


def optimal_q_exact(tree: Tree) -> tuple[list[Fraction], list[Fraction]]:
    r"""``(Q*, V*)`` by backward induction in rationals."""
    return _backward(tree, "max")


def _check_exact_policy(tree: Tree, policy: Sequence[object]) -> list[Fraction]:
    if len(policy) != tree.n_edges:
        raise InvalidArgumentError(f"policy has {len(policy)} entries, expected E = {tree.n_edges}")
    pi = [p if isinstance(p, Fraction) else Fraction(p) for p in policy]  # type: ignore[arg-type]
    ap = tree.action_ptr.tolist()
    for n in range(tree.n_nodes):
        if ap[n] < ap[n + 1]:
            s = sum(pi[ap[n] : ap[n + 1]], Fraction(0))
            if s != 1 or any(p < 0 for p in pi[ap[n] : ap[n + 1]]):
                raise InvalidArgumentError(
                    f"the exact policy at node {n} is not a distribution (sums to {s})"
                )
    return pi


def policy_q_exact(tree: Tree, policy: Sequence[object]) -> tuple[list[Fraction], list[Fraction]]:
    r"""``(Q^pi, V^pi)`` of a policy given by rational probabilities per edge."""
    return _backward(tree, "policy", _check_exact_policy(tree, policy))


def greedy_sets_exact(tree: Tree, q: Sequence[Fraction]) -> list[list[int]]:
    r"""For each node the edges attaining :math:`\max_a Q(s, a)` exactly (empty at leaves)."""
    ap = tree.action_ptr.tolist()
    out: list[list[int]] = []
    for n in range(tree.n_nodes):
        a0, a1 = ap[n], ap[n + 1]
        if a0 == a1:
            out.append([])
            continue
        m = max(q[a0:a1])
        out.append([e for e in range(a0, a1) if q[e] == m])
    return out


def greedy_policy_exact(tree: Tree, q: Sequence[Fraction]) -> list[Fraction]:
    """The first-maximiser greedy policy on ``q`` as rational one-hot probabilities per edge."""
    pi = [Fraction(0)] * tree.n_edges
    for edges in greedy_sets_exact(tree, q):
        if edges:
            pi[edges[0]] = Fraction(1)
    return pi


def greedy_value_range_exact(tree: Tree, q: Sequence[Fraction]) -> tuple[Fraction, Fraction]:
    r"""``(worst, best)`` root value over every tie-breaking of the greedy policy on ``q``.

    .. math:: V_{\mathrm{lo/hi}}(s) = \min/\max_{a \in \arg\max Q(s, \cdot)}
              \sum_{s'} P(s'|s,a) V_{\mathrm{lo/hi}}(s')

    A greedy policy is optimal whatever the tie-breaking iff ``worst`` equals :math:`V^*(s_0)`; no greedy
    policy is optimal iff ``best`` is below it.
    """
    sets = greedy_sets_exact(tree, q)
    op, ch = tree.outcome_ptr.tolist(), tree.child.tolist()
    pr, rw = tree.exact_prob(), tree.exact_reward()
    lo = [Fraction(0)] * tree.n_nodes
    hi = [Fraction(0)] * tree.n_nodes
    for n in range(tree.n_nodes - 1, -1, -1):
        if not sets[n]:
            lo[n] = hi[n] = rw[n]
            continue
        vals_lo = [sum((pr[j] * lo[ch[j]] for j in range(op[e], op[e + 1])), Fraction(0)) for e in sets[n]]
        vals_hi = [sum((pr[j] * hi[ch[j]] for j in range(op[e], op[e + 1])), Fraction(0)) for e in sets[n]]
        lo[n] = min(vals_lo)
        hi[n] = max(vals_hi)
    return lo[0], hi[0]


def visit_probabilities_exact(tree: Tree, policy: Sequence[object]) -> list[Fraction]:
    r"""Visit probabilities :math:`d^\pi(s)` in rationals."""
    pi = _check_exact_policy(tree, policy)
    ap, op, ch = tree.action_ptr.tolist(), tree.outcome_ptr.tolist(), tree.child.tolist()
    pr = tree.exact_prob()
    d = [Fraction(0)] * tree.n_nodes
    d[0] = Fraction(1)
    for n in range(tree.n_nodes):
        if d[n] == 0:
            continue
        for e in range(ap[n], ap[n + 1]):
            w = d[n] * pi[e]
            if w:
                for j in range(op[e], op[e + 1]):
                    d[ch[j]] += w * pr[j]
    return d


def success_probability_exact(tree: Tree, policy: Sequence[object]) -> Fraction:
    """Probability of ending in a leaf with positive reward, in rationals."""
    d = visit_probabilities_exact(tree, policy)
    rw = tree.exact_reward()
    return sum((d[n] for n in tree.leaves.tolist() if rw[n] > 0), Fraction(0))


@dataclass(frozen=True)
class SoftmaxBound:
    r"""Theorem 3.2 of the ROVER paper evaluated at one temperature, in ``dps``-digit arithmetic.

    Attributes
    ----------
    rho : Fraction
    value : mpmath.mpf
        :math:`V^{\pi_s}(s_0)` of the softmax policy over :math:`Q^{\pi_u}`.
    bound : mpmath.mpf
        :math:`R\,(1 - \sum_{s \in P} \Pr^{\pi_s}(s|s_0)\, N(s) / (N(s) + \exp(\max_a Q^{\pi_u}(s,a)/\rho)))`.
    key_states : tuple of int
        :math:`P = \{s : 1 \le N(s) \le A(s) - 1\}`, :math:`N(s)` the number of zero-valued actions.
    dps : int
        Decimal digits of the arithmetic.
    """

    rho: Fraction
    value: mpmath.mpf
    bound: mpmath.mpf
    key_states: tuple[int, ...]
    dps: int

    @property
    def slack(self) -> mpmath.mpf:
        """``value - bound`` (>= 0 when the bound holds)."""
        return self.value - self.bound


def _mp(x: Fraction) -> mpmath.mpf:
    return mpmath.mpf(x.numerator) / mpmath.mpf(x.denominator)


def softmax_bound_mp(tree: Tree, rho: object, dps: int = 50, R: object = None) -> SoftmaxBound:
    r"""Both sides of the ROVER paper's Theorem 3.2 for the softmax policy at temperature ``rho``:

    .. math:: V^{\pi_s}(s_0) \ge R\Big(1 - \sum_{s \in P} \Pr^{\pi_s}(s \mid s_0)
              \frac{N(s)}{N(s) + \exp(\max_a Q^{\pi_u}(s, a)/\rho)}\Big)

    :math:`Q^{\pi_u}` is exact (rationals), so the key states and zero-valued actions are exact; the
    exponentials, the softmax probabilities, the visit probabilities and both sides are computed with
    ``dps`` decimal digits (mpmath). ``R`` is the success reward of the binary rewards :math:`\{0, R\}`
    (default: the largest terminal reward; give it for a tree in which no leaf succeeds).
    """
    r = rho if isinstance(rho, Fraction) else Fraction(rho)  # type: ignore[arg-type]
    if r <= 0:
        raise InvalidArgumentError(f"rho = {rho!r} must be > 0")
    q, _ = uniform_q_exact(tree)
    ap, op, ch = tree.action_ptr.tolist(), tree.outcome_ptr.tolist(), tree.child.tolist()
    pr, rw = tree.exact_prob(), tree.exact_reward()
    with mpmath.workdps(dps):
        inv = 1 / _mp(r)
        pi = [mpmath.mpf(0)] * tree.n_edges
        key: list[int] = []
        term: dict[int, mpmath.mpf] = {}
        for n in range(tree.n_nodes):
            a0, a1 = ap[n], ap[n + 1]
            if a0 == a1:
                continue
            qm = max(q[a0:a1])
            w = [mpmath.exp((_mp(q[e]) - _mp(qm)) * inv) for e in range(a0, a1)]
            z = mpmath.fsum(w)
            for i, e in enumerate(range(a0, a1)):
                pi[e] = w[i] / z
            nz = sum(1 for e in range(a0, a1) if q[e] == 0)
            if 1 <= nz <= (a1 - a0) - 1:
                key.append(n)
                term[n] = nz / (nz + mpmath.exp(_mp(qm) * inv))
        d = [mpmath.mpf(0)] * tree.n_nodes
        d[0] = mpmath.mpf(1)
        for n in range(tree.n_nodes):
            for e in range(ap[n], ap[n + 1]):
                for j in range(op[e], op[e + 1]):
                    d[ch[j]] += d[n] * pi[e] * _mp(pr[j])
        Rx = max(rw[n] for n in tree.leaves.tolist()) if R is None else Fraction(str(R))
        if any(rw[n] not in (0, Rx) for n in tree.leaves.tolist()) or Rx <= 0:
            raise InvalidArgumentError(f"the terminal rewards are not binary {{0, R}} with R = {Rx} > 0")
        Rm = _mp(Rx)
        value = mpmath.fsum(d[n] * _mp(rw[n]) for n in tree.leaves.tolist())
        bound = Rm * (1 - mpmath.fsum(d[n] * term[n] for n in key))
    return SoftmaxBound(rho=r, value=value, bound=bound, key_states=tuple(key), dps=dps)


@dataclass(frozen=True)
class GreedyCheck:
    r"""Theorem 3.1 on one tree, in rationals.

    Attributes
    ----------
    v_star : Fraction
        :math:`V^*(s_0)`.
    worst, best : Fraction
        Root value of the worst / best tie-breaking of the greedy policy on :math:`Q^{\pi_u}`.
    q_uniform, q_star : list of Fraction
        :math:`Q^{\pi_u}` and :math:`Q^*` per edge.
    """

    v_star: Fraction
    worst: Fraction
    best: Fraction
    q_uniform: list[Fraction]
    q_star: list[Fraction]

    @property
    def gap(self) -> Fraction:
        """:math:`V^* - ` worst greedy value (0 iff every greedy policy is optimal)."""
        return self.v_star - self.worst

    @property
    def every_greedy_suboptimal(self) -> bool:
        """True when even the best greedy tie-breaking is below :math:`V^*`."""
        return self.best < self.v_star


def greedy_check_exact(tree: Tree) -> GreedyCheck:
    r"""Exact :math:`V^*`, worst and best greedy values on :math:`Q^{\pi_u}` (ROVER Theorem 3.1)."""
    q, _ = uniform_q_exact(tree)
    qs, vs = optimal_q_exact(tree)
    worst, best = greedy_value_range_exact(tree, q)
    return GreedyCheck(v_star=vs[0], worst=worst, best=best, q_uniform=q, q_star=qs)


def greedy_certificate(tree: Tree) -> dict[str, object]:
    """JSON-serialisable exact numbers of :func:`greedy_check_exact` with the tree, for a verdict."""
    g = greedy_check_exact(tree)
    root = range(int(tree.action_ptr[0]), int(tree.action_ptr[1]))
    toks = tree.tokens(0)
    out: dict[str, object] = {
        "tree": tree.to_dict(),
        "Q_uniform_root": {t: str(g.q_uniform[e]) for t, e in zip(toks, root, strict=True)},
        "Q_star_root": {t: str(g.q_star[e]) for t, e in zip(toks, root, strict=True)},
        "V_star": str(g.v_star),
        "V_greedy_best": str(g.best),
        "V_greedy_worst": str(g.worst),
    }
    if tree.is_tree:
        out["spec"] = tree.spec_str()
    return out
