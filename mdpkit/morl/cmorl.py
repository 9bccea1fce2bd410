r"""C-MORL with exact tabular quantities (Liu et al., "C-MORL: Multi-Objective Reinforcement Learning through
Efficient Discovery of Pareto Front", ICLR 2025).

The algorithm, on a tabular softmax policy :math:`\pi_\theta(a|s) \propto \exp\theta(s, a)` with exact
returns :math:`\mathbf J(\theta)` and exact advantages (no sampling):

**Stage 1, Pareto initialisation** (§4.1). For ``n_init`` preference vectors :math:`w`, ascend
:math:`w^\top \mathbf J(\theta)`. We use the exact natural policy gradient of the softmax policy,
:math:`\theta \leftarrow \theta + \eta\, w^\top \mathbf A^{\pi_\theta}(s, a)` (Kakade 2001; Agarwal et al.
2021,
§5.3: the NPG direction of the tabular softmax class is the advantage), in place of the paper's PPO.

**Stage 2, Pareto extension** (§4.2). Repeat ``n_rounds`` times: take the Pareto set of the archive,
select the ``n_select`` policies of largest crowding distance (Deb et al. 2002; §4.2 "crowding distance
selection") that were not extended before, and for each selected :math:`\pi_r` and each objective
:math:`l` solve the constrained problem (eq. 3 of the paper)

.. math:: \max_\theta J_l(\theta) \quad\text{s.t.}\quad
          J_j(\theta) \ge c_j := J_j(\pi_r) - (1-\beta)|J_j(\pi_r)|,
          \ j \ne l,

which is the paper's :math:`J_j \ge \beta J_j(\pi_r)` for non-negative returns (for negative returns,
such as Deep Sea Treasure's time, :math:`\beta J_j` would *demand an improvement*; the form above keeps
the paper's meaning "lose at most a fraction :math:`1-\beta`"). Two solvers:

* ``method="barrier"``: the paper's log-barrier ascent (eq. 5),
  :math:`\max_\theta J_l(\theta) + \frac1t\sum_{j\ne l}\log(J_j(\theta) - c_j)` with :math:`\beta = 0.9`,
  :math:`t = 20`, by natural-gradient steps on the combined advantage
  :math:`A_l + \sum_{j \ne l} \frac{A_j}{t (J_j - c_j)}`, with step halving to stay strictly feasible;
* ``method="lp"``: the same problem solved exactly as the CMDP occupancy LP
  (:func:`mdpkit.morl.constrained_solve`).

Every new policy enters the archive, which keeps the non-dominated ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mdpkit.envs._common import as_rng, check_int
from mdpkit.errors import InvalidArgumentError
from mdpkit.morl.fronts import constrained_solve
from mdpkit.morl.metrics import crowding_distance, pareto_mask
from mdpkit.morl.model import MultiObjectiveMDP, evaluate_vector

__all__ = [
    "CMORLResult",
    "softmax_policy",
    "vector_advantages",
    "preference_optimize",
    "constraint_thresholds",
    "barrier_extend",
    "cmorl",
    "linear_scalarization",
    "preference_weights",
]


@dataclass
class CMORLResult:
    """Archive and bookkeeping of a C-MORL (or baseline) run.

    Attributes
    ----------
    values : ndarray (m, k)
        Non-dominated archive returns :math:`\\mathbf J(\\pi_i)` (exact evaluations).
    policies : list of ndarray (S, A)
        The archive's policies, one per row of ``values``.
    steps : int
        Policy-gradient steps spent (the budget unit).
    lps : int
        Constrained LPs solved (``method="lp"``).
    log : list of dict
        One entry per produced policy: stage, weight or (parent, objective), value, thresholds.
    """

    values: np.ndarray
    policies: list
    steps: int
    lps: int = 0
    log: list = field(default_factory=list)


def softmax_policy(theta: np.ndarray, mask: np.ndarray) -> np.ndarray:
    r""":math:`\pi_\theta(a|s) = \exp\theta(s,a) / \sum_{b \in \mathcal A(s)} \exp\theta(s,b)`, infeasible
    actions 0. Shapes (S, A) -> (S, A)."""
    z = np.where(mask, theta, -np.inf)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def vector_advantages(momdp: MultiObjectiveMDP, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact :math:`\mathbf J(\pi_\theta)` (k,) and advantages
    :math:`\mathbf A(s, a) = \mathbf Q - \mathbf V`
    (S, A, k), zero at infeasible pairs and terminal states."""
    pi = softmax_policy(theta, momdp.mask)
    ev = evaluate_vector(momdp, pi)
    V = np.nan_to_num(ev.V, nan=0.0)
    A = ev.Q - V[:, None, :]
    A[~momdp.mask] = 0.0
    A[momdp.terminal] = 0.0
    return ev.J, A


def _theta0(momdp: MultiObjectiveMDP, rng: np.random.Generator, scale: float = 0.01) -> np.ndarray:
    return scale * rng.standard_normal((momdp.S, momdp.A))


def preference_optimize(
    momdp: MultiObjectiveMDP, w: np.ndarray, iters: int, lr: float, theta: np.ndarray
) -> np.ndarray:
    r"""``iters`` exact natural-gradient steps on :math:`w^\top \mathbf J`:
    :math:`\theta \leftarrow \theta + \eta \sum_j w_j A_j` (stage 1 of C-MORL). Returns the new theta."""
    th = np.array(theta, dtype=np.float64, copy=True)
    for _ in range(iters):
        _, A = vector_advantages(momdp, th)
        th += lr * (A @ w)
    return th


def constraint_thresholds(J: np.ndarray, beta: float, objective: int) -> np.ndarray:
    r""":math:`c_j = J_j - (1-\beta)\max(|J_j|, \epsilon)` for :math:`j \ne l` (``-inf`` at :math:`l`),
    :math:`\epsilon = 10^{-8}(1 + \|J\|_\infty)` keeping a strictly feasible start when :math:`J_j = 0`."""
    eps = 1e-8 * (1.0 + float(np.max(np.abs(J))))
    c = J - (1.0 - beta) * np.maximum(np.abs(J), eps)
    c = c.astype(np.float64)
    c[objective] = -np.inf
    return c


def barrier_extend(
    momdp: MultiObjectiveMDP,
    theta: np.ndarray,
    objective: int,
    beta: float = 0.9,
    t: float = 20.0,
    iters: int = 50,
    lr: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""C-MORL's log-barrier constrained step from :math:`\pi_r = \pi_\theta` (paper eq. 5).

    Maximises :math:`J_l + \frac1t\sum_{j\ne l}\log(J_j - c_j)`, :math:`c` from
    :func:`constraint_thresholds`, by natural-gradient steps on
    :math:`A_l + \sum_{j\ne l} A_j / (t(J_j - c_j))`; a step that leaves the strict interior or lowers the
    barrier objective is halved (up to 30 times) or skipped. The iterate stays strictly feasible.

    Returns
    -------
    theta : ndarray (S, A)
    J : ndarray (k,)
    c : ndarray (k,) thresholds
    """
    th = np.array(theta, dtype=np.float64, copy=True)
    J, A = vector_advantages(momdp, th)
    c = constraint_thresholds(J, beta, objective)
    others = [j for j in range(momdp.k) if j != objective]

    def barrier(Jv: np.ndarray) -> float:
        gaps = Jv[others] - c[others]
        if np.any(gaps <= 0):
            return -np.inf
        return float(Jv[objective] + np.sum(np.log(gaps)) / t)

    f = barrier(J)
    for _ in range(iters):
        coef = np.zeros(momdp.k)
        coef[objective] = 1.0
        coef[others] = 1.0 / (t * (J[others] - c[others]))
        direction = A @ coef
        step = lr
        for _h in range(30):
            th_new = th + step * direction
            J_new, A_new = vector_advantages(momdp, th_new)
            f_new = barrier(J_new)
            if f_new >= f:
                th, J, A, f = th_new, J_new, A_new, f_new
                break
            step *= 0.5
        else:
            break
    return th, J, c


def preference_weights(k: int, n: int, rng: np.random.Generator) -> np.ndarray:
    r"""``n`` preference vectors on the simplex: evenly spaced for k = 2 (both extremes included), the
    ``k`` unit vectors then Dirichlet(1) draws for k > 2."""
    if k == 2:
        a = np.linspace(0.0, 1.0, n)
        return np.stack([a, 1.0 - a], axis=1)
    W = [np.eye(k)[i] for i in range(min(k, n))]
    while len(W) < n:
        W.append(rng.dirichlet(np.ones(k)))
    return np.array(W)


def _archive(values: list, policies: list) -> tuple[np.ndarray, list, np.ndarray]:
    """Non-dominated entries; returns equal up to 1e-9 (relative) count once (the first is kept)."""
    V = np.array(values)
    scale = 1e-9 * (1.0 + float(np.max(np.abs(V))))
    _, first = np.unique(np.round(V / scale), axis=0, return_index=True)
    cand = np.sort(first)
    idx = cand[pareto_mask(V[cand])]
    return V[idx], [policies[int(i)] for i in idx], idx


def _stage2_entry(rnd: int, parent: int, objective: int, J: np.ndarray, c: np.ndarray) -> dict:
    """The log record of one stage-2 (constrained) step; infinite thresholds (unconstrained) become NaN."""
    return {
        "stage": 2,
        "round": rnd,
        "parent": parent,
        "objective": objective,
        "value": J.tolist(),
        "thresholds": np.where(np.isfinite(c), c, np.nan).tolist(),
    }


def cmorl(
    momdp: MultiObjectiveMDP,
    n_init: int = 6,
    n_select: int = 5,
    n_rounds: int = 2,
    init_iters: int = 60,
    ext_iters: int = 20,
    beta: float = 0.9,
    t: float = 20.0,
    lr: float = 0.5,
    method: str = "barrier",
    seed: int | np.random.Generator = 0,
) -> CMORLResult:
    r"""C-MORL (Liu et al. 2025, Alg. 1) with exact tabular returns; see the module docstring.

    Parameters
    ----------
    n_init : int
        Stage-1 policies (preference vectors, :func:`preference_weights`).
    n_select : int
        Policies selected by crowding distance per extension round (paper's N).
    n_rounds : int
        Extension rounds.
    init_iters, ext_iters : int
        Natural-gradient steps per stage-1 policy and per constrained step (paper's K).
    beta, t : float
        Constraint relaxation (paper: 0.9) and barrier parameter (paper: 20).
    lr : float
        Step size :math:`\eta` (in units of the advantage).
    method : "barrier" | "lp"
        Constrained-step solver.
    seed : int or Generator
        Stage-1 weights for k > 2 and the small random initial parameters.

    Returns
    -------
    CMORLResult
    """
    if method not in ("barrier", "lp"):
        raise InvalidArgumentError(f"method = {method!r} is not 'barrier' or 'lp'")
    n_init = check_int(n_init, "n_init")
    n_select = check_int(n_select, "n_select")
    n_rounds = check_int(n_rounds, "n_rounds", 0)
    rng = as_rng(seed)
    k = momdp.k
    values: list[np.ndarray] = []
    thetas: list[np.ndarray] = []
    log: list[dict] = []
    steps = lps = 0
    for w in preference_weights(k, n_init, rng):
        th = preference_optimize(momdp, w, init_iters, lr, _theta0(momdp, rng))
        steps += init_iters
        J, _ = vector_advantages(momdp, th)
        values.append(J)
        thetas.append(th)
        log.append({"stage": 1, "weight": w.tolist(), "value": J.tolist()})
    extended: set[int] = set()
    for rnd in range(n_rounds):
        V = np.array(values)
        pareto = np.flatnonzero(pareto_mask(V))
        cand = [int(i) for i in pareto if int(i) not in extended]
        if not cand:
            break
        cd = crowding_distance(V[cand])
        order = np.argsort(-cd, kind="stable")[:n_select]
        for idx in order:
            parent = cand[int(idx)]
            extended.add(parent)
            for l in range(k):
                if method == "barrier":
                    th, J, c = barrier_extend(momdp, thetas[parent], l, beta, t, ext_iters, lr)
                    steps += ext_iters
                else:
                    c = constraint_thresholds(values[parent], beta, l)
                    out = constrained_solve(momdp, l, c)
                    lps += 1
                    if out is None:  # cannot happen: the parent is feasible; kept for robustness
                        continue
                    pi, J = out
                    th = np.log(np.maximum(pi, 1e-300))
                values.append(J)
                thetas.append(th)
                log.append(_stage2_entry(rnd, parent, l, J, c))
    Vf, th_keep, _ = _archive(values, thetas)
    pols = [softmax_policy(th, momdp.mask) for th in th_keep]
    return CMORLResult(values=Vf, policies=pols, steps=steps, lps=lps, log=log)


def linear_scalarization(
    momdp: MultiObjectiveMDP,
    n_policies: int,
    iters: int,
    lr: float = 0.5,
    seed: int | np.random.Generator = 0,
) -> CMORLResult:
    r"""Baseline: ``n_policies`` independent natural-gradient runs on :math:`w^\top \mathbf J`, ``iters``
    steps each, weights from :func:`preference_weights` (linear scalarisation with the same step budget
    as a C-MORL run when ``n_policies * iters`` matches its ``steps``)."""
    rng = as_rng(seed)
    values, thetas, log = [], [], []
    for w in preference_weights(momdp.k, check_int(n_policies, "n_policies"), rng):
        th = preference_optimize(momdp, w, iters, lr, _theta0(momdp, rng))
        J, _ = vector_advantages(momdp, th)
        values.append(J)
        thetas.append(th)
        log.append({"stage": 1, "weight": w.tolist(), "value": J.tolist()})
    Vf, th_keep, _ = _archive(values, thetas)
    pols = [softmax_policy(th, momdp.mask) for th in th_keep]
    return CMORLResult(values=Vf, policies=pols, steps=n_policies * iters, log=log)
