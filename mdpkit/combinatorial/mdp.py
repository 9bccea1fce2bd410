r"""Direct MDPs and BQ-MDPs of the five problems; explicit construction and exact state counts.

Drakulic et al., "BQ-NCO", NeurIPS 2023, §3. A constructive solver builds a solution one decision at a
time. In the **direct MDP** a state is the pair (instance, partial solution), the partial solution being
the sequence of decisions taken so far; the reward of a decision is its increment of the objective
(minus a travelled distance for TSP/ATSP/CVRP, a prize or value for OP/KP). In the **BQ-MDP** a state is
the *remaining sub-instance*, which is all the future depends on:

* TSP, ATSP: direct state = tour prefix :math:`(0, \tau_1, \dots, \tau_t)`; BQ state = the path-TSP from
  the current node :math:`j` over the unvisited set :math:`U` back to 0, key ``(j, U)``.
* CVRP: direct = the decisions so far (customer, via depot or not); BQ key ``(j, U, c)`` with the remaining
  capacity :math:`c`.
* OP: direct = route prefix; BQ key ``(j, U', b)`` with the remaining budget :math:`b` and, on metric
  instances, only the nodes :math:`U'` still reachable within it (one empty state ``(-1, 0, None)`` once
  none is); on non-metric instances ``U'`` is the whole unvisited set.
* KP: direct = sequence of chosen items; BQ key ``(U', c)``, the remaining items that still fit and the
  remaining capacity (one empty state ``(0, None)`` once none fits).

Action sets (integers, the same in both MDPs): TSP/ATSP ``a = k`` goes to node ``k`` (``a = 0`` closes the
tour once every node is visited); CVRP ``a = k`` goes directly to customer ``k`` (if :math:`q_k \le c`),
``a = n + k`` goes to ``k`` via the depot (refill), ``a = 0`` returns to the depot when all are served;
OP ``a = k`` visits ``k`` if the return to the depot stays within the budget, ``a = 0`` returns and stops;
KP ``a = i + 1`` takes item ``i`` if it fits, ``a = 0`` stops. After the final action the process moves to
an absorbing terminal state (reward 0).

Because the BQ map is a bisimulation (§3.2), a BQ state's transitions do not depend on which partial
solution led to it, and the direct states mapping to a BQ state are exactly the decision paths reaching it
in the BQ transition DAG; :func:`count_states` counts both that way, exactly, in Python integers.

Findings (checked by ``proofs/bq_bisimulation.py``): for TSP and ATSP with generic distances the coarsest
bisimulation of the direct MDP is exactly the BQ partition. For CVRP, OP and KP the BQ partition is a
bisimulation but usually not the coarsest one: a remaining capacity or budget matters only through the
futures it allows, so different values are often bisimilar; for OP, whose rewards (prizes) do not depend on
the route, even different current nodes with the same reachable set can be. With a real-valued budget the
OP BQ-MDP barely shrinks the direct MDP (two orders of the same nodes consume different budgets): about 2x
at n = 10..20 on the paper's distribution (``benchmarks/combinatorial.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from mdpkit.combinatorial.problems import (
    FEAS_TOL,
    CVRPInstance,
    InvalidInstanceError,
    KPInstance,
    OPInstance,
    TSPInstance,
)
from mdpkit.core import FiniteHorizonMDP, TabularMDP
from mdpkit.errors import InvalidArgumentError

__all__ = [
    "Instance",
    "ExplicitMDP",
    "direct_mdp",
    "bq_state",
    "bq_partition",
    "count_states",
    "state_count_formula",
    "sub_instance",
]

Instance = TSPInstance | CVRPInstance | OPInstance | KPInstance
#: internal BQ state: (current node or -1, remaining bitmask, resource or None)
_State = tuple[int, int, Any]
#: transitions of a BQ state: (action, reward, next state or None for the terminal state)
_Step = list[tuple[int, float, _State | None]]


@dataclass(frozen=True)
class _Spec:
    n_actions: int
    root: _State
    step: Callable[[_State], _Step]
    key: Callable[[_State], Hashable]
    depth: int  # maximal number of decisions (including the final one)
    rank: Callable[[Hashable], int]  # size of the key's remaining set: strictly decreases along transitions


def _spec(inst: Instance) -> _Spec:
    if isinstance(inst, TSPInstance):
        return _tsp_spec(inst)
    if isinstance(inst, CVRPInstance):
        return _cvrp_spec(inst)
    if isinstance(inst, OPInstance):
        return _op_spec(inst)
    if isinstance(inst, KPInstance):
        return _kp_spec(inst)
    raise InvalidInstanceError(f"expected a TSP/CVRP/OP/KP instance, got {type(inst).__name__}")


def _rank1(key: Hashable) -> int:
    return int(key[1]).bit_count()  # type: ignore[index]


def _bits(U: int) -> list[int]:
    out, i = [], 1
    while U:
        if U & 1:
            out.append(i)
        U >>= 1
        i += 1
    return out


def _tsp_spec(inst: TSPInstance) -> _Spec:
    d, n = inst.dist, inst.n

    def step(s: _State) -> _Step:
        j, U, _ = s
        if U == 0:
            return [(0, -float(d[j, 0]), None)]
        return [(k, -float(d[j, k]), (k, U ^ (1 << (k - 1)), None)) for k in _bits(U)]

    return _Spec(n, (0, (1 << (n - 1)) - 1, None), step, lambda s: (s[0], s[1]), n, _rank1)


def _cvrp_spec(inst: CVRPInstance) -> _Spec:
    d, n, q, Q = inst.dist, inst.n, inst.demands, inst.capacity

    def step(s: _State) -> _Step:
        j, U, c = s
        if U == 0:
            return [(0, -float(d[j, 0]), None)]
        out: _Step = []
        for k in _bits(U):
            rest = U ^ (1 << (k - 1))
            if q[k] <= c:
                out.append((k, -float(d[j, k]), (k, rest, c - int(q[k]))))
            out.append((n + k, -float(d[j, 0] + d[0, k]), (k, rest, Q - int(q[k]))))
        return out

    return _Spec(2 * n + 1, (0, (1 << n) - 1, Q), step, lambda s: s, n + 1, _rank1)


def _op_spec(inst: OPInstance) -> _Spec:
    d, n, p = inst.dist, inst.n, inst.prizes

    def step(s: _State) -> _Step:
        j, U, b = s
        out: _Step = [(0, 0.0, None)]
        for k in _bits(U):
            if d[j, k] + d[k, 0] <= b + FEAS_TOL:
                out.append((k, float(p[k]), (k, U ^ (1 << (k - 1)), b - float(d[j, k]))))
        return out

    # under the triangle inequality a node out of reach stays out of reach: drop it from the sub-instance
    metric = bool(
        np.all(d[:, None, :] <= d[:, :, None] + d[None, :, :] + FEAS_TOL)
    )  # d[i,k] <= d[i,j]+d[j,k]

    def key(s: _State) -> Hashable:
        j, U, b = s
        if not metric:
            return s
        reach = sum(1 << (k - 1) for k in _bits(U) if d[j, k] + d[k, 0] <= b + FEAS_TOL)
        return (j, reach, b) if reach else (-1, 0, None)  # empty sub-instance: only "return" is left

    return _Spec(n + 1, (0, (1 << n) - 1, inst.budget), step, key, n + 1, _rank1)


def _kp_spec(inst: KPInstance) -> _Spec:
    v, w, C, n = inst.values, inst.weights, inst.capacity, inst.n
    # internal state: (-1, chosen bitmask, None); the key forgets the chosen set: (items that fit, capacity)

    def capacity(chosen: int) -> float:  # order-free: the same float for every order of the same set
        return C - math.fsum(float(w[i]) for i in range(n) if (chosen >> i) & 1)

    def fitting(chosen: int, c: float) -> int:
        return sum(1 << i for i in range(n) if not (chosen >> i) & 1 and w[i] <= c + FEAS_TOL)

    def step(s: _State) -> _Step:
        chosen = s[1]
        out: _Step = [(0, 0.0, None)]
        U = fitting(chosen, capacity(chosen))
        for i in range(n):
            if (U >> i) & 1:
                out.append((i + 1, float(v[i]), (-1, chosen | (1 << i), None)))
        return out

    def key(s: _State) -> Hashable:
        c = capacity(s[1])
        fit = fitting(s[1], c)
        return (fit, c) if fit else (0, None)  # nothing fits: the capacity no longer matters

    return _Spec(n + 1, (-1, 0, None), step, key, n + 1, lambda k: int(k[0]).bit_count())


def bq_state(inst: Instance, partial: tuple[int, ...] | list[int]) -> Hashable:
    r"""The BQ key of the direct state (``inst``, ``partial``), reached by applying ``partial``.

    Returns ``(j, U)`` for TSP/ATSP, ``(j, U, c)`` for CVRP, ``(j, U, b)`` for OP, ``(U', c)`` for KP (see the
    module table; ``U`` bitmasks with bit ``k-1`` for node ``k``, bit ``i`` for item ``i``), or
    ``"terminal"`` after the final action. Raises :class:`InvalidArgumentError` on an infeasible action.
    """
    spec = _spec(inst)
    s: _State | None = spec.root
    for t, a in enumerate(partial):
        if s is None:
            raise InvalidArgumentError(f"partial[{t}] = {a}: the episode already ended")
        nxt = {act: ns for act, _, ns in spec.step(s)}
        if int(a) not in nxt:
            raise InvalidArgumentError(
                f"partial[{t}] = {a} is not a feasible action (feasible: {sorted(nxt)})"
            )
        s = nxt[int(a)]
    return "terminal" if s is None else spec.key(s)


def sub_instance(inst: TSPInstance, partial: tuple[int, ...] | list[int]) -> tuple[np.ndarray, np.ndarray]:
    r"""The remaining path-TSP sub-instance of a TSP prefix, as the BQ-NCO policy sees it.

    Returns ``(nodes, dist)``: ``nodes = [j, u_1, ..., u_m, 0]`` (current node, unvisited nodes in increasing
    order, destination = origin) and the distance submatrix ``dist[nodes][:, nodes]``. The partial solution
    itself (which nodes were visited in which order) is gone: only this sub-instance is kept.
    """
    key = bq_state(inst, partial)
    if key == "terminal":
        raise InvalidArgumentError("the tour is closed: no sub-instance remains")
    j, U = key  # type: ignore[misc]
    nodes = np.array([j, *_bits(U), 0], dtype=np.int64)
    return nodes, inst.dist[np.ix_(nodes, nodes)]


@dataclass(frozen=True)
class ExplicitMDP:
    r"""The expanded direct MDP of one instance: every reachable partial solution is a state.

    Attributes
    ----------
    mdp : TabularMDP
        Deterministic CSR kernel over the states; ``R[s, a]`` the objective increment, ``-inf`` where ``a``
        is infeasible; the last state is the absorbing terminal state (action 0, reward 0). ``gamma=None``.
    states : list of tuple
        The partial solutions (action sequences); ``states[0] == ()`` is the root; the terminal is ``None``.
    keys : list
        The BQ key of each state (``"terminal"`` for the terminal state).
    horizon : int
        Number of decisions of the longest episode (the horizon of :meth:`finite`).
    """

    mdp: TabularMDP
    states: list[tuple[int, ...] | None]
    keys: list[Hashable]
    horizon: int

    def finite(self) -> FiniteHorizonMDP:
        """The same model as a finite-horizon MDP (horizon :attr:`horizon`, start at the root)."""
        mu = np.zeros(self.mdp.S)
        mu[0] = 1.0
        return FiniteHorizonMDP(self.mdp.P, self.mdp.R, self.horizon, initial=mu, mask=self.mdp.mask)


def direct_mdp(inst: Instance, max_states: int = 200_000) -> ExplicitMDP:
    r"""Build the expanded direct MDP of ``inst`` explicitly (depth-first over all partial solutions).

    Raises :class:`InvalidArgumentError` when it would have more than ``max_states`` states (see
    :func:`count_states` for its size without building it).
    """
    spec = _spec(inst)
    states: list[tuple[int, ...] | None] = [()]
    keys: list[Hashable] = [spec.key(spec.root)]
    inner: list[_State] = [spec.root]
    edges: list[tuple[int, int, float, int]] = []  # (s, a, r, s') with s' = -1 for terminal
    i = 0
    while i < len(states):
        seq = states[i]
        assert seq is not None
        for a, r, nxt in spec.step(inner[i]):
            if nxt is None:
                edges.append((i, a, r, -1))
                continue
            states.append((*seq, a))
            inner.append(nxt)
            keys.append(spec.key(nxt))
            edges.append((i, a, r, len(states) - 1))
            if len(states) >= max_states:
                raise InvalidArgumentError(f"the direct MDP has more than max_states = {max_states} states")
        i += 1
    S, A = len(states) + 1, spec.n_actions
    term = S - 1
    R = np.full((S, A), -np.inf)
    nxt_of = np.arange(S).repeat(A)  # infeasible pairs: self-loops
    for s, a, r, s2 in edges:
        R[s, a] = r
        nxt_of[s * A + a] = term if s2 < 0 else s2
    R[term, 0] = 0.0
    P = sp.csr_matrix((np.ones(S * A), nxt_of, np.arange(S * A + 1)), shape=(S * A, S))
    mdp = TabularMDP(P, R, None, mask=np.isfinite(R))
    return ExplicitMDP(mdp, [*states, None], [*keys, "terminal"], spec.depth)


def bq_partition(explicit: ExplicitMDP) -> np.ndarray:
    """Labels ``0..B-1`` of the BQ classes of an explicit direct MDP (states with equal BQ key share one)."""
    ids: dict[Hashable, int] = {}
    return np.array([ids.setdefault(k, len(ids)) for k in explicit.keys], dtype=np.int64)


def count_states(inst: Instance, max_bq_states: int = 5_000_000) -> tuple[int, int]:
    r"""Exact numbers of (direct, BQ) decision states reachable from the root (terminal state excluded).

    Sweeps the BQ transition DAG in topological order (every decision shrinks the remaining set), carrying
    the number of decision paths into each BQ state: the direct states are exactly those paths. Python
    integers, so the direct count is exact at any size (e.g. :math:`\approx 1.7 \cdot 10^{17}` at TSP n = 20).
    Raises :class:`InvalidArgumentError` beyond ``max_bq_states`` BQ states.
    """
    spec = _spec(inst)
    # keys bucketed by rank (size of their remaining set), processed from large to small: a topological
    # order of the BQ DAG, also when keys of different depths coincide (e.g. the empty OP/KP state)
    buckets: dict[int, dict[Hashable, tuple[_State, int]]] = {}
    root = spec.key(spec.root)
    buckets[spec.rank(root)] = {root: (spec.root, 1)}
    n_direct = n_bq = 0
    while buckets:
        r = max(buckets)
        layer = buckets.pop(r)
        n_bq += len(layer)
        n_direct += sum(c for _, c in layer.values())
        if n_bq > max_bq_states:
            raise InvalidArgumentError(f"more than max_bq_states = {max_bq_states} BQ states")
        for s, c in layer.values():
            for _a, _r, s2 in spec.step(s):
                if s2 is None:
                    continue
                k = spec.key(s2)
                rk = spec.rank(k)
                if rk >= r:
                    raise AssertionError(f"BQ transition {s} -> {s2} does not shrink the remaining set")
                tgt = buckets.setdefault(rk, {})
                old = tgt.get(k)
                tgt[k] = (s2, c if old is None else old[1] + c)
    return n_direct, n_bq


def state_count_formula(n: int) -> tuple[int, int]:
    r"""Closed-form (direct, BQ) decision-state counts of TSP/ATSP with ``n`` nodes (any instance).

    Direct: tour prefixes from node 0, :math:`\sum_{t=0}^{n-1} (n-1)!/(n-1-t)!`. BQ: the root plus one state
    per (current node, unvisited set) with the current node visited,
    :math:`1 + \sum_{t=1}^{n-1} t \binom{n-1}{t} = 1 + (n-1) 2^{n-2}`.
    """
    if n < 1:
        raise InvalidArgumentError(f"n = {n} must be >= 1")
    m = n - 1
    direct = sum(math.perm(m, t) for t in range(m + 1))
    bq = 1 + sum(t * math.comb(m, t) for t in range(1, m + 1))
    return direct, bq
