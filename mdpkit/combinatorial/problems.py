r"""Combinatorial problems of BQ-NCO: instances, the paper's generators, validation and objectives.

Definitions of the five problems of Drakulic et al., "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023 (section 4 and appendix):

* **TSP** (Euclidean) and **ATSP**: a tour :math:`\tau` is a permutation of :math:`\{0, \dots, n-1\}` with
  :math:`\tau_0 = 0`; its length is :math:`\sum_{t=0}^{n-1} d(\tau_t, \tau_{t+1 \bmod n})`.
* **CVRP**: node 0 is the depot, nodes :math:`1..n` customers with integer demands :math:`q_i \ge 1`,
  vehicle capacity :math:`Q \ge \max_i q_i`. A solution is a list of routes (depot-to-depot customer
  sequences) that visit every customer once with :math:`\sum_{i \in \text{route}} q_i \le Q`; its cost is
  the total travelled length.
* **OP** (orienteering): node 0 is the depot, nodes :math:`1..n` carry prizes :math:`p_i \ge 0`; a solution
  is one depot-to-depot route of length at most the budget :math:`T`; its objective is the collected prize
  (maximised).
* **KP** (0/1 knapsack): items with values :math:`v_i \ge 0` and weights :math:`w_i \ge 0`; a solution is a
  set :math:`I` with :math:`\sum_{i \in I} w_i \le C`; objective :math:`\sum_{i \in I} v_i` (maximised).

Generators follow the distributions the paper trains and tests on (which follow Kool et al. 2019 for
TSP/CVRP/OP, Kwon et al. 2021 (MatNet) for ATSP and Kwon et al. 2020 (POMO) for KP); see each generator.
Every constructor validates its arrays and raises :class:`~mdpkit.errors.InvalidInstanceError` naming the
offending index and value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mdpkit.errors import InvalidArgumentError, MdpkitError

__all__ = [
    "InvalidInstanceError",
    "InvalidSolutionError",
    "FEAS_TOL",
    "TSPInstance",
    "CVRPInstance",
    "OPInstance",
    "KPInstance",
    "validate_distance_matrix",
    "euclidean_distances",
    "random_tsp",
    "random_atsp",
    "random_cvrp",
    "random_op",
    "random_kp",
    "tour_length",
    "cvrp_cost",
    "op_prize",
    "op_length",
    "kp_value",
    "CVRP_CAPACITY",
    "OP_BUDGET",
]

#: Absolute tolerance of the OP budget and KP capacity constraints on float data (same in every solver).
FEAS_TOL = 1e-9
#: Vehicle capacity per CVRP size (Kool et al. 2019, Table/appendix; BQ-NCO uses the same instances).
CVRP_CAPACITY: dict[int, int] = {10: 20, 20: 30, 50: 40, 100: 50}
#: OP budget per size (Kool et al. 2019, "distance" prizes); sizes below 20 use 2.
OP_BUDGET: dict[int, float] = {20: 2.0, 50: 3.0, 100: 4.0}


class InvalidInstanceError(MdpkitError, ValueError):
    """A problem instance is malformed (shape, non-finite or negative entry, infeasible data)."""


class InvalidSolutionError(MdpkitError, ValueError):
    """A candidate solution is not a feasible solution of its instance (the message says why)."""


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check_n(n: object, minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or int(n) < minimum:
        raise InvalidArgumentError(f"n = {n!r} must be an integer >= {minimum}")
    return int(n)


# --------------------------------------------------------------------------- validation
def validate_distance_matrix(dist: object, name: str = "dist") -> np.ndarray:
    r"""Check a distance matrix and return it as a float64 C-contiguous copy.

    Parameters
    ----------
    dist : array_like, shape (n, n)
        :math:`d(i, j) \ge 0` finite for :math:`i \ne j`; asymmetric allowed. The diagonal is never used by
        a tour and is ignored (any value, e.g. ``inf``); the returned copy has a zero diagonal.

    Raises
    ------
    InvalidInstanceError
        Not a real square matrix with ``n >= 1``, a non-finite or negative off-diagonal entry
        (the message names the first offending ``(i, j)`` and its value).
    """
    try:
        d = np.array(dist, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise InvalidInstanceError(f"{name} is not a real matrix: {exc}") from exc
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise InvalidInstanceError(f"{name} has shape {d.shape}, expected a square (n, n) matrix")
    n = d.shape[0]
    if n == 0:
        raise InvalidInstanceError(f"{name} is empty; need n >= 1 nodes")
    off = d.copy()
    np.fill_diagonal(off, 0.0)  # the diagonal is never used: any value (inf, nan) is accepted
    bad = np.argwhere(~np.isfinite(off))
    if len(bad):
        i, j = bad[0]
        raise InvalidInstanceError(f"{name}[{i}, {j}] = {float(d[i, j])!r} is not finite")
    bad = np.argwhere(off < 0)
    if len(bad):
        i, j = bad[0]
        raise InvalidInstanceError(
            f"{name}[{i}, {j}] = {float(d[i, j])!r} is negative; distances must be >= 0"
        )
    return np.ascontiguousarray(off)


def _coords(coords: object, name: str = "coords") -> np.ndarray:
    try:
        c = np.array(coords, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise InvalidInstanceError(f"{name} is not a real array: {exc}") from exc
    if c.ndim != 2 or c.shape[1] != 2 or c.shape[0] == 0:
        raise InvalidInstanceError(f"{name} has shape {c.shape}, expected (n, 2) with n >= 1")
    bad = np.argwhere(~np.isfinite(c))
    if len(bad):
        i, j = bad[0]
        raise InvalidInstanceError(f"{name}[{i}, {j}] = {float(c[i, j])!r} is not finite")
    return c


def euclidean_distances(coords: object) -> np.ndarray:
    r"""Pairwise Euclidean distances :math:`d(i, j) = \|x_i - x_j\|_2` of points ``coords`` (n, 2)."""
    c = _coords(coords)
    diff = c[:, None, :] - c[None, :, :]
    return np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))


def _vector(x: object, n: int, name: str, integer: bool = False, positive: bool = False) -> np.ndarray:
    try:
        v = np.array(x, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise InvalidInstanceError(f"{name} is not a real vector: {exc}") from exc
    if v.shape != (n,):
        raise InvalidInstanceError(f"{name} has shape {v.shape}, expected ({n},)")
    for i, val in enumerate(v.tolist()):
        if not math.isfinite(val):
            raise InvalidInstanceError(f"{name}[{i}] = {val!r} is not finite")
        if val < 0 or (positive and val <= 0):
            raise InvalidInstanceError(f"{name}[{i}] = {val!r} must be {'> 0' if positive else '>= 0'}")
        if integer and val != round(val):
            raise InvalidInstanceError(f"{name}[{i}] = {val!r} is not an integer")
    return v


# --------------------------------------------------------------------------- instances
@dataclass(frozen=True, eq=False)
class TSPInstance:
    r"""A (possibly asymmetric) TSP instance: a distance matrix and, for Euclidean instances, the points.

    Attributes
    ----------
    dist : ndarray (n, n)
        Validated distances (zero diagonal).
    coords : ndarray (n, 2) or None
        Node coordinates of a Euclidean instance (then ``dist`` is their distance matrix).
    """

    dist: np.ndarray
    coords: np.ndarray | None = None

    def __init__(self, dist: object = None, coords: object = None) -> None:
        if coords is not None:
            c = _coords(coords)
            d = euclidean_distances(c) if dist is None else validate_distance_matrix(dist)
            if d.shape[0] != c.shape[0]:
                raise InvalidInstanceError(f"coords has {c.shape[0]} points but dist is {d.shape}")
            c.setflags(write=False)
        elif dist is None:
            raise InvalidInstanceError("a TSP instance needs dist or coords")
        else:
            d, c = validate_distance_matrix(dist), None
        d.setflags(write=False)
        object.__setattr__(self, "dist", d)
        object.__setattr__(self, "coords", c)

    @property
    def n(self) -> int:
        """Number of nodes (node 0 is the tour's origin)."""
        return int(self.dist.shape[0])

    @property
    def symmetric(self) -> bool:
        """Whether :math:`d(i, j) = d(j, i)` for all pairs."""
        return bool(np.array_equal(self.dist, self.dist.T))


@dataclass(frozen=True, eq=False)
class CVRPInstance:
    r"""A CVRP instance: depot 0 and customers ``1..n`` with integer demands and an integer capacity.

    Attributes
    ----------
    dist : ndarray (n+1, n+1)
    demands : ndarray (n+1,) of int64, ``demands[0] == 0``, ``1 <= demands[i] <= capacity``
    capacity : int
    coords : ndarray (n+1, 2) or None
    """

    dist: np.ndarray
    demands: np.ndarray
    capacity: int
    coords: np.ndarray | None = None

    def __init__(self, demands: object, capacity: object, dist: object = None, coords: object = None) -> None:
        tsp = TSPInstance(dist, coords)
        m = tsp.n
        if m < 1:
            raise InvalidInstanceError("a CVRP instance needs the depot (node 0)")
        try:
            ok = not isinstance(capacity, bool) and float(capacity) == int(capacity) >= 1  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise InvalidInstanceError(f"capacity = {capacity!r} must be a positive integer")
        cap = int(capacity)  # type: ignore[arg-type]
        q = _vector(demands, m, "demands", integer=True)
        if q[0] != 0:
            raise InvalidInstanceError(f"demands[0] = {float(q[0])!r}: the depot (node 0) must have demand 0")
        for i in range(1, m):
            if not 1 <= q[i] <= cap:
                raise InvalidInstanceError(f"demands[{i}] = {float(q[i])!r} must be in [1, capacity = {cap}]")
        qi = q.astype(np.int64)
        qi.setflags(write=False)
        object.__setattr__(self, "dist", tsp.dist)
        object.__setattr__(self, "coords", tsp.coords)
        object.__setattr__(self, "demands", qi)
        object.__setattr__(self, "capacity", cap)

    @property
    def n(self) -> int:
        """Number of customers (nodes ``1..n``; node 0 is the depot)."""
        return int(self.dist.shape[0]) - 1


@dataclass(frozen=True, eq=False)
class OPInstance:
    r"""An orienteering instance: depot 0, prizes ``prizes[1..n] >= 0`` (``prizes[0] == 0``), budget ``T``.

    A route starts and ends at the depot and has length :math:`\le T` (up to :data:`FEAS_TOL`).
    """

    dist: np.ndarray
    prizes: np.ndarray
    budget: float
    coords: np.ndarray | None = None

    def __init__(self, prizes: object, budget: object, dist: object = None, coords: object = None) -> None:
        tsp = TSPInstance(dist, coords)
        p = _vector(prizes, tsp.n, "prizes")
        if p[0] != 0:
            raise InvalidInstanceError(f"prizes[0] = {float(p[0])!r}: the depot (node 0) must have prize 0")
        try:
            b = float(budget)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise InvalidInstanceError(f"budget = {budget!r} is not a real number") from exc
        if not math.isfinite(b) or b < 0:
            raise InvalidInstanceError(f"budget = {budget!r} must be finite and >= 0")
        p.setflags(write=False)
        object.__setattr__(self, "dist", tsp.dist)
        object.__setattr__(self, "coords", tsp.coords)
        object.__setattr__(self, "prizes", p)
        object.__setattr__(self, "budget", b)

    @property
    def n(self) -> int:
        """Number of prize nodes (``1..n``; node 0 is the depot)."""
        return int(self.dist.shape[0]) - 1


@dataclass(frozen=True, eq=False)
class KPInstance:
    r"""A 0/1 knapsack: values :math:`v \ge 0`, weights :math:`w \ge 0` (n,), capacity :math:`C \ge 0`.

    Attributes: ``values``, ``weights`` (float64, read-only) and ``capacity`` (float).
    """

    values: np.ndarray
    weights: np.ndarray
    capacity: float

    def __init__(self, values: object, weights: object, capacity: object) -> None:
        v = np.asarray(values, dtype=object)
        if v.ndim != 1:
            raise InvalidInstanceError(f"values has shape {v.shape}, expected (n,)")
        n = v.shape[0]
        vals = _vector(values, n, "values")
        w = _vector(weights, n, "weights")
        try:
            c = float(capacity)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise InvalidInstanceError(f"capacity = {capacity!r} is not a real number") from exc
        if not math.isfinite(c) or c < 0:
            raise InvalidInstanceError(f"capacity = {capacity!r} must be finite and >= 0")
        vals.setflags(write=False)
        w.setflags(write=False)
        object.__setattr__(self, "values", vals)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "capacity", c)

    @property
    def n(self) -> int:
        """Number of items."""
        return int(self.values.shape[0])


# --------------------------------------------------------------------------- generators
def random_tsp(n: int, seed: int | np.random.Generator = 0) -> TSPInstance:
    r"""Euclidean TSP: :math:`n` points i.i.d. uniform on :math:`[0, 1]^2` (BQ-NCO §5, Kool et al. 2019)."""
    n = _check_n(n)
    return TSPInstance(coords=_rng(seed).random((n, 2)))


def random_atsp(n: int, seed: int | np.random.Generator = 0, scale: int = 10**6) -> TSPInstance:
    r"""ATSP with "tmat" distances (MatNet, Kwon et al. 2021; used by BQ-NCO §5).

    Draw :math:`d(i, j) \sim \mathcal{U}\{1, \dots, \text{scale}\}` i.i.d. for :math:`i \ne j`, replace
    :math:`d` by its shortest-path closure (so the triangle inequality holds) and divide by ``scale``.
    """
    n = _check_n(n)
    rng = _rng(seed)
    d = rng.integers(1, scale + 1, size=(n, n)).astype(np.float64)
    np.fill_diagonal(d, 0.0)
    for k in range(n):  # Floyd-Warshall closure
        d = np.minimum(d, d[:, k : k + 1] + d[k : k + 1, :])
    return TSPInstance(dist=d / scale)


def _capacity_for(n: int) -> int:
    if n in CVRP_CAPACITY:
        return CVRP_CAPACITY[n]
    if n < 10:
        return 20
    keys = sorted(CVRP_CAPACITY)
    if n > keys[-1]:
        return CVRP_CAPACITY[keys[-1]]
    lo = max(k for k in keys if k <= n)
    hi = min(k for k in keys if k >= n)
    t = (n - lo) / (hi - lo)
    return int(round(CVRP_CAPACITY[lo] + t * (CVRP_CAPACITY[hi] - CVRP_CAPACITY[lo])))


def random_cvrp(
    n: int, seed: int | np.random.Generator = 0, capacity: int | None = None, max_demand: int = 9
) -> CVRPInstance:
    r"""CVRP of Kool et al. (2019) as used by BQ-NCO: depot and ``n`` customers uniform on :math:`[0,1]^2`,
    demands uniform on :math:`\{1, \dots, 9\}`, capacity from :data:`CVRP_CAPACITY` (interpolated between
    the tabulated sizes; 20 below n = 10) unless given."""
    n = _check_n(n)
    rng = _rng(seed)
    cap = _capacity_for(n) if capacity is None else int(capacity)
    coords = rng.random((n + 1, 2))
    q = np.concatenate([[0], rng.integers(1, min(max_demand, cap) + 1, size=n)])
    return CVRPInstance(q, cap, coords=coords)


def random_op(n: int, seed: int | np.random.Generator = 0, budget: float | None = None) -> OPInstance:
    r"""OP with "distance" prizes (Kool et al. 2019, used by BQ-NCO): points uniform on :math:`[0,1]^2`,
    :math:`p_i = (1 + \lfloor 99\, d(0, i) / \max_j d(0, j) \rfloor) / 100`, budget from :data:`OP_BUDGET`
    (2 below n = 20; the largest tabulated size below ``n`` otherwise) unless given."""
    n = _check_n(n)
    rng = _rng(seed)
    coords = rng.random((n + 1, 2))
    d0 = np.linalg.norm(coords - coords[0], axis=1)
    p = (1.0 + np.floor(99.0 * d0[1:] / max(d0[1:].max(), 1e-300))) / 100.0
    if budget is None:
        budget = OP_BUDGET.get(n, OP_BUDGET[max([k for k in OP_BUDGET if k <= n], default=20)])
    return OPInstance(np.concatenate([[0.0], p]), budget, coords=coords)


def random_kp(
    n: int, seed: int | np.random.Generator = 0, capacity: float | None = None, integer: int | None = None
) -> KPInstance:
    r"""Knapsack of POMO (Kwon et al. 2020) as used by BQ-NCO: values and weights i.i.d.
    :math:`\mathcal{U}(0, 1)`, capacity 12.5 for n = 50 and 25 for n >= 100 (:math:`n/4` below 50).

    With ``integer=K`` the values and weights are drawn from :math:`\{1, \dots, K\}` instead and the
    capacity is :math:`\lfloor K n / 4 \rfloor` (for the integer dynamic programme and exact tests).
    """
    n = _check_n(n)
    rng = _rng(seed)
    if integer is not None:
        v = rng.integers(1, integer + 1, size=n).astype(np.float64)
        w = rng.integers(1, integer + 1, size=n).astype(np.float64)
        cap = float(integer * n // 4) if capacity is None else float(capacity)
        return KPInstance(v, w, cap)
    v, w = rng.random(n), rng.random(n)
    if capacity is None:
        capacity = 25.0 if n >= 100 else (12.5 if n >= 50 else n / 4)
    return KPInstance(v, w, capacity)


# --------------------------------------------------------------------------- objectives
def _as_tour(tour: Sequence[int] | np.ndarray, n: int) -> np.ndarray:
    t = np.asarray(tour)
    if t.ndim != 1 or t.shape[0] != n:
        raise InvalidSolutionError(f"tour has shape {t.shape}, expected a permutation of {n} nodes")
    if n and (not np.issubdtype(t.dtype, np.integer)):
        raise InvalidSolutionError(f"tour has dtype {t.dtype}, expected integers")
    seen = np.zeros(n, dtype=bool)
    for pos, v in enumerate(t.tolist()):
        if not 0 <= v < n:
            raise InvalidSolutionError(f"tour[{pos}] = {v} is not a node in 0..{n - 1}")
        if seen[v]:
            raise InvalidSolutionError(f"tour[{pos}] = {v} visits node {v} twice")
        seen[v] = True
    return t.astype(np.int64)


def tour_length(dist: object, tour: Sequence[int] | np.ndarray) -> float:
    r"""Length :math:`\sum_t d(\tau_t, \tau_{t+1 \bmod n})` of the closed tour ``tour`` (a permutation).

    Raises :class:`InvalidSolutionError` when ``tour`` is not a permutation of ``0..n-1``.
    """
    d = dist.dist if isinstance(dist, TSPInstance) else validate_distance_matrix(dist)
    t = _as_tour(tour, d.shape[0])
    return float(d[t, np.roll(t, -1)].sum())


def _routes(routes: Sequence[Sequence[int]], n: int) -> list[list[int]]:
    out = [[int(v) for v in r] for r in routes]
    seen: dict[int, int] = {}
    for k, r in enumerate(out):
        for v in r:
            if not 1 <= v <= n:
                raise InvalidSolutionError(f"route {k} visits {v}, not a customer in 1..{n}")
            if v in seen:
                raise InvalidSolutionError(f"customer {v} is visited by route {seen[v]} and route {k}")
            seen[v] = k
    missing = sorted(set(range(1, n + 1)) - set(seen))
    if missing:
        raise InvalidSolutionError(f"customers {missing} are not visited")
    return out


def cvrp_cost(inst: CVRPInstance, routes: Sequence[Sequence[int]]) -> float:
    r"""Total length of the routes (each depot -> customers -> depot); checks coverage and capacity.

    Raises :class:`InvalidSolutionError` when a customer is missed or repeated, or a route's demand
    :math:`\sum q_i` exceeds the capacity.
    """
    rs = _routes(routes, inst.n)
    total = 0.0
    for k, r in enumerate(rs):
        load = int(inst.demands[r].sum()) if r else 0
        if load > inst.capacity:
            raise InvalidSolutionError(f"route {k} carries {load} > capacity {inst.capacity}")
        path = [0, *r, 0]
        total += float(sum(inst.dist[a, b] for a, b in zip(path[:-1], path[1:], strict=True)))
    return total


def op_length(inst: OPInstance, route: Sequence[int]) -> float:
    """Length of the depot -> ``route`` -> depot tour of an OP instance (no feasibility check)."""
    path = [0, *[int(v) for v in route], 0]
    return float(sum(inst.dist[a, b] for a, b in zip(path[:-1], path[1:], strict=True)))


def op_prize(inst: OPInstance, route: Sequence[int]) -> float:
    r"""Collected prize :math:`\sum_{i \in \text{route}} p_i` of a feasible OP route (distinct nodes in
    ``1..n``, length :math:`\le T` + :data:`FEAS_TOL`); raises :class:`InvalidSolutionError` otherwise."""
    r = [int(v) for v in route]
    for k, v in enumerate(r):
        if not 1 <= v <= inst.n:
            raise InvalidSolutionError(f"route[{k}] = {v} is not a prize node in 1..{inst.n}")
    if len(set(r)) != len(r):
        raise InvalidSolutionError(f"route {r} visits a node twice")
    length = op_length(inst, r)
    if length > inst.budget + FEAS_TOL:
        raise InvalidSolutionError(f"route length {length!r} exceeds the budget {inst.budget!r}")
    return float(inst.prizes[r].sum()) if r else 0.0


def kp_value(inst: KPInstance, items: Sequence[int]) -> float:
    r"""Value :math:`\sum_{i \in I} v_i` of a feasible item set (distinct indices, weight
    :math:`\le C` + :data:`FEAS_TOL`); raises :class:`InvalidSolutionError` otherwise."""
    it = [int(i) for i in items]
    for k, i in enumerate(it):
        if not 0 <= i < inst.n:
            raise InvalidSolutionError(f"items[{k}] = {i} is not an item in 0..{inst.n - 1}")
    if len(set(it)) != len(it):
        raise InvalidSolutionError(f"items {it} repeat an item")
    w = float(inst.weights[it].sum()) if it else 0.0
    if w > inst.capacity + FEAS_TOL:
        raise InvalidSolutionError(f"items weigh {w!r} > capacity {inst.capacity!r}")
    return float(inst.values[it].sum()) if it else 0.0
