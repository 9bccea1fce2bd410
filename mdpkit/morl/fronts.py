r"""Exact Pareto fronts of multi-objective MDPs, each with the policies that attain it.

* :func:`scalarized_solve`: :math:`\max_\pi w^\top \mathbf J(\pi)` exactly, by the occupancy LP (HiGHS dual
  simplex; a basic optimum is a deterministic policy on the visited states), the policy then evaluated by
  a linear solve.
* :func:`convex_coverage_set`: optimistic linear support (Roijers, Whiteson & Oliehoek 2015, "Computing
  convex coverage sets for faster multi-objective coordination", JAIR 52, Alg. 1): scalarised solves at
  the corner weights of the current upper envelope until no corner weight improves it.
* :func:`pareto_front`: ``policies="deterministic"`` enumerates all :math:`\prod_s |\mathcal A(s)|`
  deterministic stationary policies (tiny models; deterministic episodic models such as Deep Sea Treasure
  by Pareto label correcting over paths); ``policies="stochastic"`` samples the upper boundary of
  the achievable-return polytope with the epsilon-constraint method (Haimes et al. 1971; Chankong & Haimes
  1983) on the occupancy LP, plus its vertices (the CCS).
* :func:`constrained_solve`: the CMDP LP :math:`\max_x R_l^\top x` s.t. :math:`R_j^\top x \ge c_j`
  (Altman 1999, Ch. 3), used by C-MORL's exact extension step.
* :func:`dominance_margin`: :math:`\max t` s.t. some achievable return is :math:`\ge p + t\mathbf 1`, a
  certificate that a point is (or is not) achievable / weakly dominated by the exact front.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog
from scipy.spatial import HalfspaceIntersection

from mdpkit.errors import ConvergenceError, InvalidArgumentError
from mdpkit.morl.metrics import pareto_mask
from mdpkit.morl.model import (
    MultiObjectiveMDP,
    evaluate_vector,
    occupancy_lp,
    policy_from_occupancy,
    policy_returns,
)

__all__ = [
    "Front",
    "scalarized_solve",
    "constrained_solve",
    "dominance_margin",
    "convex_coverage_set",
    "pareto_front",
    "deterministic_front",
    "stochastic_front",
]

#: Largest number of deterministic policies :func:`deterministic_front` enumerates.
MAX_ENUMERATION = 200_000


@dataclass(frozen=True)
class Front:
    """A set of value vectors with the policies that attain them.

    Attributes
    ----------
    values : ndarray (m, k)
        Start-state returns :math:`\\mathbf J(\\pi_i)`, non-dominated.
    policies : list of ndarray
        ``policies[i]`` attains ``values[i]``: an int (S,) deterministic policy or an (S, A) stochastic one.
    kind : str
        ``"ccs"``, ``"deterministic"`` or ``"stochastic"``.
    weights : ndarray (m, k) or None
        For a CCS, a weight at which each point is optimal.
    info : dict
        Counts (LPs solved, policies enumerated, ...).
    """

    values: np.ndarray
    policies: list
    kind: str
    weights: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.values.shape[0])


def _lp(c: np.ndarray, A_ub, b_ub, A_eq, b_eq) -> np.ndarray:
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs-ds")
    if res.status == 2:
        raise InvalidArgumentError("the occupancy LP is infeasible (constraints cannot be met)")
    if res.status == 3:
        raise InvalidArgumentError(
            "the occupancy LP is unbounded: with gamma = 1 some improper policy collects reward forever"
        )
    if res.status != 0:
        raise ConvergenceError(f"HiGHS failed on the occupancy LP: {res.message}")
    return res.x


def _check_weight(momdp: MultiObjectiveMDP, w: object) -> np.ndarray:
    w = np.asarray(w, dtype=np.float64).reshape(-1)
    if w.shape != (momdp.k,) or not np.isfinite(w).all():
        raise InvalidArgumentError(f"weight {w.tolist()} must be a finite vector of length k = {momdp.k}")
    return w


def scalarized_solve(momdp: MultiObjectiveMDP, w: object) -> tuple[np.ndarray, np.ndarray]:
    r"""An optimal policy for the scalarised objective :math:`w^\top \mathbf J(\pi)` and its vector return.

    Solves :math:`\max_{x \in \mathcal X} w^\top R^\top x` (discounted or total-reward occupancy LP) with
    HiGHS' dual simplex; the basic optimum is deterministic on visited states. The returned value is the
    exact evaluation of the recovered policy (:func:`mdpkit.morl.evaluate_vector`), not the LP objective.

    Returns
    -------
    policy : ndarray (S, A)
    J : ndarray (k,)
    """
    w = _check_weight(momdp, w)
    A_eq, b_eq, Rx, pairs = occupancy_lp(momdp)
    x = _lp(-(Rx @ w), None, None, A_eq, b_eq)
    pi = policy_from_occupancy(momdp, x, pairs)
    return pi, evaluate_vector(momdp, pi).J


def constrained_solve(
    momdp: MultiObjectiveMDP, objective: int, lower: object
) -> tuple[np.ndarray, np.ndarray] | None:
    r"""The CMDP LP: :math:`\max_\pi J_l(\pi)` s.t. :math:`J_j(\pi) \ge c_j` for :math:`j \ne l`.

    Parameters
    ----------
    objective : int
        The maximised objective :math:`l`.
    lower : array_like (k,)
        Lower bounds :math:`c_j`; entry :math:`l` and ``-inf`` entries are ignored.

    Returns
    -------
    (policy (S, A), J (k,)) or None when the constraints are infeasible. The optimal occupancy of a CMDP
    with :math:`m` constraints randomises in at most :math:`m` states (Altman 1999, Thm 3.8).
    """
    k = momdp.k
    if not 0 <= int(objective) < k:
        raise InvalidArgumentError(f"objective = {objective} is not in 0..{k - 1}")
    c = np.asarray(lower, dtype=np.float64).reshape(-1)
    if c.shape != (k,):
        raise InvalidArgumentError(f"lower has shape {c.shape}, expected ({k},)")
    A_eq, b_eq, Rx, pairs = occupancy_lp(momdp)
    rows = [j for j in range(k) if j != objective and np.isfinite(c[j])]
    A_ub = -Rx[:, rows].T if rows else None
    b_ub = -c[rows] if rows else None
    try:
        x = _lp(-Rx[:, objective], A_ub, b_ub, A_eq, b_eq)
    except InvalidArgumentError as exc:
        if "infeasible" in str(exc):
            return None
        raise
    pi = policy_from_occupancy(momdp, x, pairs)
    return pi, evaluate_vector(momdp, pi).J


def dominance_margin(momdp: MultiObjectiveMDP, point: object) -> float:
    r"""The largest :math:`t` such that some stationary policy has :math:`\mathbf J(\pi) \ge p + t\mathbf 1`.

    :math:`t \ge 0` iff ``point`` is weakly dominated by an achievable return (hence by the stochastic
    Pareto front); :math:`t > 0` iff it is strictly dominated in every objective. An LP over
    :math:`(x, t)` with ``t`` free.
    """
    p = np.asarray(point, dtype=np.float64).reshape(-1)
    if p.shape != (momdp.k,):
        raise InvalidArgumentError(f"point has shape {p.shape}, expected ({momdp.k},)")
    A_eq, b_eq, Rx, _ = occupancy_lp(momdp)
    n = Rx.shape[0]
    import scipy.sparse as sp

    A_eq2 = sp.hstack([A_eq, sp.csr_matrix((A_eq.shape[0], 1))]).tocsr()
    # p_j + t - R_j^T x <= 0
    A_ub = np.hstack([-Rx.T, np.ones((momdp.k, 1))])
    c = np.zeros(n + 1)
    c[-1] = -1.0
    bounds = [(0, None)] * n + [(None, None)]
    res = linprog(c, A_ub=A_ub, b_ub=-p, A_eq=A_eq2, b_eq=b_eq, bounds=bounds, method="highs")
    if res.status == 3:
        return np.inf
    if res.status != 0:
        raise ConvergenceError(f"HiGHS failed on the dominance LP: {res.message}")
    return float(res.x[-1])


# ----------------------------------------------------------------------------- OLS
def _corner_weights(values: np.ndarray) -> np.ndarray:
    r"""Vertices (weights) of the upper envelope :math:`\max_{v} w^\top v` over the simplex.

    Halfspace intersection in :math:`(w_1, \dots, w_{k-1}, y)` space with :math:`w_k = 1 - \sum w_i`:
    :math:`w \ge 0`, :math:`\sum_{i<k} w_i \le 1`, :math:`y \ge w^\top v` for each v, :math:`y \le Y`.
    """
    k = values.shape[1]
    scale = max(1.0, float(np.max(np.abs(values))))
    Vn = values / scale
    d = k  # dims: k-1 weights + y
    hs = []
    for i in range(k - 1):  # -w_i <= 0
        row = np.zeros(d + 1)
        row[i] = -1.0
        hs.append(row)
    row = np.zeros(d + 1)
    row[: k - 1] = 1.0
    row[-1] = -1.0
    hs.append(row)  # sum w_i - 1 <= 0
    for v in Vn:
        row = np.zeros(d + 1)
        row[: k - 1] = v[:-1] - v[-1]
        row[k - 1] = -1.0
        row[-1] = v[-1]
        hs.append(row)  # w.(v) - y <= 0
    ytop = float(np.max(np.abs(Vn))) + 2.0
    row = np.zeros(d + 1)
    row[k - 1] = 1.0
    row[-1] = -ytop
    hs.append(row)  # y - ytop <= 0
    w0 = np.full(k - 1, 1.0 / k)
    y0 = float(np.max(Vn @ np.append(w0, 1.0 - w0.sum()))) + 1.0
    interior = np.append(w0, y0)
    hsi = HalfspaceIntersection(np.array(hs), interior, qhull_options="QJ")
    pts = hsi.intersections
    pts = pts[pts[:, -1] < ytop - 1e-9]
    W = np.clip(pts[:, : k - 1], 0.0, 1.0)
    W = np.hstack([W, np.clip(1.0 - W.sum(axis=1, keepdims=True), 0.0, 1.0)])
    W /= W.sum(axis=1, keepdims=True)
    # deduplicate
    W = np.unique(np.round(W, 12), axis=0)
    return W


def convex_coverage_set(momdp: MultiObjectiveMDP, tol: float = 1e-9, max_iter: int = 10_000) -> Front:
    r"""The convex coverage set by optimistic linear support (Roijers et al. 2015, Alg. 1).

    Starting from the simplex vertices, repeatedly solve the scalarised problem (:func:`scalarized_solve`)
    at a corner weight of the current partial CCS's upper envelope :math:`\bar V(w) = \max_{v} w^\top v`;
    a solution improving :math:`\bar V(w)` by more than ``tol`` (relative) joins the set and the corner
    weights are recomputed. When no corner weight improves, the set is the CCS: every
    :math:`w`-optimal value is in its convex hull (the envelope is piecewise linear and attains its
    maximal error at a corner; Cheng 1988, Roijers 2016 Thm 3.2). Points not Pareto-optimal (supported only
    by weights with a zero entry) are removed at the end.
    """
    k = momdp.k
    vals: list[np.ndarray] = []
    pols: list[np.ndarray] = []
    wts: list[np.ndarray] = []
    checked: list[np.ndarray] = []
    n_lp = 0
    queue = list(np.eye(k))
    while n_lp < max_iter:
        if not queue:
            corners = _corner_weights(np.array(vals))
            queue = [w for w in corners if not any(np.max(np.abs(w - c)) < 1e-9 for c in checked)]
            if not queue:
                break
        w = queue.pop(0)
        checked.append(w)
        pi, J = scalarized_solve(momdp, w)
        n_lp += 1
        best = max((float(w @ v) for v in vals), default=-np.inf)
        scale = 1.0 + abs(best) if np.isfinite(best) else 1.0
        if float(w @ J) > best + tol * scale:
            vals.append(J)
            pols.append(pi)
            wts.append(w)
            queue = []  # corner weights change: recompute
    else:
        raise ConvergenceError(f"OLS did not finish within max_iter = {max_iter} scalarised solves")
    V = np.array(vals)
    keep = pareto_mask(V)
    return Front(
        values=V[keep],
        policies=[p for p, kp in zip(pols, keep, strict=True) if kp],
        kind="ccs",
        weights=np.array(wts)[keep],
        info={"scalarised_solves": n_lp},
    )


# ----------------------------------------------------------------------------- Pareto fronts
def deterministic_front(momdp: MultiObjectiveMDP, batch: int = 4096) -> Front:
    r"""Pareto front of the deterministic stationary policies, by enumerating all of them.

    Returns, for each non-dominated value vector, one deterministic policy (int (S,)) attaining it; the
    actions of terminal states are fixed to their first feasible action. Above :data:`MAX_ENUMERATION`
    policies, a model with deterministic transitions, ``gamma = 1`` and one start state (Deep Sea
    Treasure, Fruit Tree) is solved exactly by Pareto label correcting over paths (:func:`_path_front`);
    otherwise :class:`InvalidArgumentError` is raised.
    """
    choices = [
        np.flatnonzero(momdp.mask[s]) if not momdp.terminal[s] else np.flatnonzero(momdp.mask[s])[:1]
        for s in range(momdp.S)
    ]
    total = float(np.prod([len(c) for c in choices], dtype=np.float64))
    if total > MAX_ENUMERATION:
        if _is_deterministic_episodic(momdp):
            return _path_front(momdp)
        raise InvalidArgumentError(
            f"{total:.3g} deterministic policies exceed MAX_ENUMERATION = {MAX_ENUMERATION}; use "
            "convex_coverage_set or pareto_front(..., policies='stochastic')"
        )
    total = int(total)
    allv, allp = [], []
    it = itertools.product(*choices)
    while True:
        chunk = list(itertools.islice(it, batch))
        if not chunk:
            break
        pols = np.array(chunk, dtype=np.int64)
        J = policy_returns(momdp, pols)
        ok = np.all(np.isfinite(J), axis=1)
        pols, J = pols[ok], J[ok]
        if J.shape[0]:
            m = pareto_mask(J)
            allv.append(J[m])
            allp.append(pols[m])
    V = np.vstack(allv)
    Pm = np.vstack(allp)
    keep = pareto_mask(V)
    return Front(values=V[keep], policies=list(Pm[keep]), kind="deterministic", info={"enumerated": total})


def _is_deterministic_episodic(momdp: MultiObjectiveMDP) -> bool:
    feas = momdp.mask
    return (
        momdp.gamma == 1.0
        and bool(np.all(np.isclose(momdp.P.max(axis=2)[feas], 1.0)))
        and int(np.count_nonzero(momdp.initial)) == 1
    )


def _path_front(momdp: MultiObjectiveMDP, max_rounds: int | None = None) -> Front:
    r"""Deterministic-policy front of a deterministic, total-reward model by Pareto label correcting.

    With deterministic transitions a deterministic stationary policy follows one path from the start
    state; a proper one never revisits a state, so its return is the reward sum of a *simple* path to a
    terminal state. Multi-objective Bellman-Ford (Hansen 1980; Martins 1984) iterates

    .. math:: F(s) = \mathrm{ND}\Big(\bigcup_{a} \{\mathbf r(s, a) + v : v \in F(s'_{s,a})\}\Big),
              \qquad F(\text{terminal}) = \{0\},

    to its fixed point; when every cycle is dominated (its reward sum is :math:`\le 0` with a negative
    entry, e.g. DST's -1 per step) the fixed point holds exactly the non-dominated simple-path returns and
    is reached within S rounds. Raises :class:`ConvergenceError` otherwise. Each front point comes with
    the stationary policy that follows its path (other states: first feasible action).
    """
    S, k = momdp.S, momdp.k
    succ = np.argmax(momdp.P, axis=2)
    trans = momdp.transient
    F: dict[int, np.ndarray] = {s: np.zeros((0, k)) for s in trans}
    back: dict[int, list] = {s: [] for s in trans}
    for s in np.flatnonzero(momdp.terminal):
        F[int(s)] = np.zeros((1, k))
    rounds = S + 2 if max_rounds is None else max_rounds
    for _ in range(rounds):
        newF, newB = {}, {}
        for s in trans:
            cand, info = [], []
            for a in np.flatnonzero(momdp.mask[s]):
                s2 = int(succ[s, a])
                for j, v in enumerate(F[s2]):
                    cand.append(momdp.R[s, a] + v)
                    info.append((int(a), s2, j))
            if not cand:
                newF[s], newB[s] = np.zeros((0, k)), []
                continue
            C = np.array(cand)
            keep = np.flatnonzero(pareto_mask(C))
            order = keep[np.lexsort(C[keep].T[::-1])]
            newF[s], newB[s] = C[order], [info[i] for i in order]
        stable = all(newF[s].shape == F[s].shape and np.array_equal(newF[s], F[s]) for s in trans)
        for s in trans:
            F[s], back[s] = newF[s], newB[s]
        if stable:
            break
    else:
        raise ConvergenceError("Pareto label correcting did not converge: some cycle is not dominated")
    s0 = int(np.flatnonzero(momdp.initial)[0])
    first = np.array([np.flatnonzero(momdp.mask[s])[0] for s in range(S)], dtype=np.int64)
    pols = []
    for j in range(F[s0].shape[0]):
        pi = first.copy()
        s, jj, seen = s0, j, set()
        while not momdp.terminal[s]:
            if s in seen:
                raise ConvergenceError(f"front path from state {s0} revisits state {s}")
            seen.add(s)
            a, s2, j2 = back[s][jj]
            pi[s] = a
            s, jj = s2, j2
        pols.append(pi)
    return Front(
        values=F[s0].copy(), policies=pols, kind="deterministic", info={"method": "label-correcting"}
    )


def stochastic_front(momdp: MultiObjectiveMDP, n_points: int = 21, ccs: Front | None = None) -> Front:
    r"""Points of the Pareto front of stationary stochastic policies, by the epsilon-constraint method.

    The front is the Pareto boundary of the return polytope :math:`\{R^\top x : x \in \mathcal X\}`; its
    vertices are the CCS (every Pareto-optimal point of a polytope maximises a strictly positive weighted
    sum, Isermann 1974). For a grid of levels :math:`\varepsilon` over objectives :math:`2..k` (``n_points``
    per objective, spanning the CCS's range), solve

    .. math:: \max_{x \in \mathcal X} R_1^\top x \ \text{ s.t. } R_j^\top x \ge \varepsilon_j,

    then, with :math:`R_1^\top x` held at its optimum, maximise :math:`\sum_{j \ge 2} R_j^\top x` (so the
    point is Pareto-optimal, not only weakly). The result holds the CCS vertices and every grid point,
    each with its stochastic policy; for k = 2 the front is exactly the polyline through the vertices.
    """
    if ccs is None:
        ccs = convex_coverage_set(momdp)
    k = momdp.k
    A_eq, b_eq, Rx, pairs = occupancy_lp(momdp)
    lo, hi = ccs.values.min(axis=0), ccs.values.max(axis=0)
    grids = [np.linspace(lo[j], hi[j], n_points) for j in range(1, k)]
    vals = [v for v in ccs.values]
    pols = [p for p in ccs.policies]
    n_lp = 0
    for eps in itertools.product(*grids):
        e = np.array(eps)
        A_ub = -Rx[:, 1:].T
        b_ub = -e
        try:
            x = _lp(-Rx[:, 0], A_ub, b_ub, A_eq, b_eq)
        except InvalidArgumentError as exc:
            if "infeasible" in str(exc):
                continue
            raise
        n_lp += 1
        best = float(Rx[:, 0] @ x)
        A2 = np.vstack([A_ub, -Rx[:, :1].T])
        b2 = np.append(b_ub, -(best - 1e-9 * (1.0 + abs(best))))
        try:
            x = _lp(-Rx[:, 1:].sum(axis=1), A2, b2, A_eq, b_eq)
            n_lp += 1
        except InvalidArgumentError:
            pass
        pi = policy_from_occupancy(momdp, x, pairs)
        vals.append(evaluate_vector(momdp, pi).J)
        pols.append(pi)
    V = np.array(vals)
    keep = pareto_mask(V)
    return Front(
        values=V[keep],
        policies=[p for p, kp in zip(pols, keep, strict=True) if kp],
        kind="stochastic",
        info={"lps": n_lp, "vertices": ccs.values, "vertex_policies": ccs.policies},
    )


def pareto_front(momdp: MultiObjectiveMDP, policies: str = "deterministic", **kwargs: object) -> Front:
    r"""The Pareto front of a MOMDP's start-state returns, with the policies that attain it.

    Parameters
    ----------
    momdp : MultiObjectiveMDP
    policies : "deterministic" | "stochastic"
        ``"deterministic"``: exact front of deterministic stationary policies by enumeration
        (:func:`deterministic_front`, tiny models), or by Pareto label correcting over paths for
        deterministic total-reward models with one start state (Deep Sea Treasure, Fruit Tree).
        ``"stochastic"``: points of the upper boundary of the achievable-return polytope by the
        epsilon-constraint method plus its vertices (:func:`stochastic_front`; ``n_points`` per objective).

    Returns
    -------
    Front
        ``front.values`` (m, k) and ``front.policies`` (one per row).
    """
    if policies == "deterministic":
        return deterministic_front(momdp, **kwargs)  # type: ignore[arg-type]
    if policies == "stochastic":
        return stochastic_front(momdp, **kwargs)  # type: ignore[arg-type]
    raise InvalidArgumentError(f"policies = {policies!r} is not 'deterministic' or 'stochastic'")
