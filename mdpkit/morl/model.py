r"""Multi-objective MDPs: vector rewards, exact policy returns and the occupancy-measure polytope.

A multi-objective MDP (MOMDP) is :math:`(\mathcal S, \mathcal A, P, \mathbf r, \gamma, \mu)` with a
vector reward :math:`\mathbf r(s, a) \in \mathbb R^k`, :math:`k \ge 2` (Roijers et al. 2013, JAIR 48,
"A survey of multi-objective sequential decision-making", §2). A stationary policy :math:`\pi` has the
vector return

.. math:: \mathbf J(\pi) = \mu^\top \mathbf V^\pi, \qquad
          \mathbf V^\pi = (I - \gamma P_\pi)^{-1} \mathbf r_\pi \in \mathbb R^{S \times k}.

Episodic models (``gamma = 1``) are *total-reward* models: a set of ``terminal`` states is absorbing
with zero reward, the sums run over the transient (non-terminal) states only, and a policy has a finite
return iff it reaches a terminal state with probability 1 from the states it visits (it is *proper*,
Bertsekas & Tsitsiklis 1991). Deep Sea Treasure and Fruit Tree are represented this way; no artificial
horizon or discount is added.

The set of achievable returns of stationary (stochastic) policies is the linear image
:math:`\{R^\top x\}` of the occupancy polytope (Altman 1999, *Constrained MDPs*, Thm 3.2)

.. math:: \mathcal X = \{x \in \mathbb R_{\ge 0}^{T \times A} :
          \textstyle\sum_a x(s', a) - \gamma \sum_{s, a} P(s' | s, a)\, x(s, a) = \mu(s')
          \ \ \forall s' \in T\},

:math:`T` the transient states; :func:`occupancy_lp` builds it, :func:`policy_from_occupancy` maps a
point back to the policy :math:`\pi(a | s) = x(s, a) / \sum_b x(s, b)` that attains it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from mdpkit.core import validate as V
from mdpkit.core.model import TabularMDP
from mdpkit.errors import InvalidMDPError, InvalidPolicyError

__all__ = [
    "MultiObjectiveMDP",
    "VectorEvaluation",
    "evaluate_vector",
    "policy_returns",
    "occupancy_lp",
    "policy_from_occupancy",
    "MIN_OBJECTIVES",
    "MAX_OBJECTIVES",
]

MIN_OBJECTIVES = 2
MAX_OBJECTIVES = 9


def _ro(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False, init=False)
class MultiObjectiveMDP:
    r"""A finite MDP with vector rewards ``R[s, a, k]``, :math:`2 \le k \le 9`.

    Parameters
    ----------
    P : ndarray (S, A, S)
        Transition kernel ``P[s, a, s']``; rows sum to 1 (rows of infeasible pairs are not checked).
    R : ndarray (S, A, k) or (S, A, S, k)
        Vector reward; ``R[s, a, s', k]`` is reduced to ``R[s, a, k] = sum_s' P[s, a, s'] R[s, a, s', k]``.
    gamma : float
        Discount in [0, 1]. ``gamma = 1`` requires ``terminal`` (total-reward episodic model).
    initial : ndarray (S,), optional
        Start distribution :math:`\mu` (default uniform over the non-terminal states).
    mask : bool ndarray (S, A), optional
        Feasible actions; every state needs one.
    terminal : bool ndarray (S,), optional
        Absorbing zero-reward states: ``P[s, a, s] = 1`` and ``R[s, a, :] = 0`` for every feasible ``a``.
    names : sequence of str, optional
        Objective names (default ``obj0``, ``obj1``, ...).

    Raises
    ------
    InvalidMDPError
        Wrong shapes, non-stochastic rows, non-finite rewards, ``k`` outside [2, 9], a terminal state that
        is not absorbing with zero reward, ``gamma = 1`` without terminal states, or initial mass on them.
    """

    P: np.ndarray
    R: np.ndarray
    gamma: float
    initial: np.ndarray
    mask: np.ndarray
    terminal: np.ndarray
    names: tuple[str, ...]

    def __init__(
        self,
        P: np.ndarray,
        R: np.ndarray,
        gamma: float,
        initial: np.ndarray | None = None,
        mask: np.ndarray | None = None,
        terminal: np.ndarray | None = None,
        names: tuple[str, ...] | list[str] | None = None,
    ) -> None:
        if sp.issparse(P):
            P = P.toarray().reshape(P.shape[1], -1, P.shape[1])
        Pa = V.as_float_array(P, "P")
        if Pa.ndim != 3 or Pa.shape[0] != Pa.shape[2] or Pa.shape[0] == 0 or Pa.shape[1] == 0:
            raise InvalidMDPError(f"P has shape {Pa.shape}, expected (S, A, S) with S, A >= 1")
        S, A = Pa.shape[:2]
        Ra = V.as_float_array(R, "R")
        if Ra.ndim == 4:
            V.check_shape(Ra, (S, A, S, Ra.shape[-1]), "R")
            V.check_finite(Ra, "R")
            Ra = np.einsum("ijl,ijlk->ijk", Pa, Ra)
        elif Ra.ndim != 3 or Ra.shape[:2] != (S, A):
            raise InvalidMDPError(
                f"R has shape {Ra.shape}, expected (S, A, k) = ({S}, {A}, k) or (S, A, S, k)"
            )
        k = Ra.shape[-1]
        if not MIN_OBJECTIVES <= k <= MAX_OBJECTIVES:
            raise InvalidMDPError(f"R has k = {k} objectives; MultiObjectiveMDP supports 2..9")
        m = np.ones((S, A), dtype=bool) if mask is None else np.array(mask, dtype=bool, copy=True)
        if m.shape != (S, A):
            raise InvalidMDPError(f"mask has shape {m.shape}, expected ({S}, {A})")
        V.check_feasible_states(m)
        V.check_finite(Ra, "R", skip=~m)
        V.check_distribution_rows(Pa, "P", skip=~m)
        g = V.check_gamma(gamma)
        term = np.zeros(S, dtype=bool) if terminal is None else np.array(terminal, dtype=bool, copy=True)
        if term.shape != (S,):
            raise InvalidMDPError(f"terminal has shape {term.shape}, expected ({S},)")
        for s in np.flatnonzero(term):
            for a in np.flatnonzero(m[s]):
                if abs(Pa[s, a, s] - 1.0) > V.ROW_SUM_TOL:
                    raise InvalidMDPError(
                        f"terminal state {s} is not absorbing: P[{s}, {a}, {s}] = {Pa[s, a, s]!r}"
                    )
                if np.any(Ra[s, a] != 0):
                    j = int(np.flatnonzero(Ra[s, a])[0])
                    raise InvalidMDPError(
                        f"terminal state {s} has reward R[{s}, {a}, {j}] = {Ra[s, a, j]!r} != 0"
                    )
        if term.all():
            raise InvalidMDPError("every state is terminal")
        if g == 1.0 and not term.any():
            raise InvalidMDPError("gamma = 1 (total reward) needs at least one terminal state")
        if initial is None:
            mu = (~term).astype(np.float64) / float((~term).sum())
        else:
            mu = V.check_distribution(initial, S, "initial")
            if np.any(mu[term] > 0):
                s = int(np.flatnonzero(term & (mu > 0))[0])
                raise InvalidMDPError(f"initial[{s}] = {mu[s]!r} puts mass on terminal state {s}")
        Ra = np.array(Ra, dtype=np.float64, copy=True)
        Ra[~m] = 0.0
        nm = tuple(f"obj{j}" for j in range(k)) if names is None else tuple(str(n) for n in names)
        if len(nm) != k:
            raise InvalidMDPError(f"names has {len(nm)} entries, expected k = {k}")
        object.__setattr__(self, "P", _ro(np.array(Pa, dtype=np.float64, order="C", copy=True)))
        object.__setattr__(self, "R", _ro(Ra))
        object.__setattr__(self, "gamma", g)
        object.__setattr__(self, "initial", _ro(mu))
        object.__setattr__(self, "mask", _ro(m))
        object.__setattr__(self, "terminal", _ro(term))
        object.__setattr__(self, "names", nm)

    @property
    def S(self) -> int:
        """Number of states."""
        return int(self.P.shape[0])

    @property
    def A(self) -> int:
        """Number of actions."""
        return int(self.P.shape[1])

    @property
    def k(self) -> int:
        """Number of objectives."""
        return int(self.R.shape[-1])

    @property
    def transient(self) -> np.ndarray:
        """Indices of the non-terminal states, shape (T,)."""
        return np.flatnonzero(~self.terminal)

    def __repr__(self) -> str:
        names = ", ".join(self.names) if getattr(self, "names", None) else f"k={self.k}"
        return f"MultiObjectiveMDP(S={self.S}, A={self.A}, objectives=({names}), gamma={self.gamma})"

    def scalarize(self, w: np.ndarray) -> TabularMDP:
        r"""The scalar MDP with reward :math:`r_w(s, a) = w^\top \mathbf r(s, a)` (discounted models only).

        Raises :class:`InvalidMDPError` for ``gamma = 1``; use :func:`mdpkit.morl.scalarized_solve`,
        which handles both cases through the occupancy LP.
        """
        w = np.asarray(w, dtype=np.float64)
        if w.shape != (self.k,):
            raise InvalidMDPError(f"weight has shape {w.shape}, expected ({self.k},)")
        if self.gamma >= 1.0:
            raise InvalidMDPError("scalarize builds a discounted TabularMDP; this model has gamma = 1")
        r = self.R @ w
        r = np.where(self.mask, r, -np.inf)
        return TabularMDP(self.P, r, gamma=self.gamma, initial=self.initial, mask=self.mask)


@dataclass(frozen=True)
class VectorEvaluation:
    r"""Exact evaluation of a stationary policy in a MOMDP.

    Attributes
    ----------
    V : ndarray (S, k)
        :math:`\mathbf V^\pi`; 0 on terminal states, NaN on states from which :math:`\pi` is improper.
    Q : ndarray (S, A, k)
        :math:`\mathbf Q^\pi(s, a) = \mathbf r(s, a) + \gamma \sum_{s'} P(s'|s,a) \mathbf V^\pi(s')`.
    J : ndarray (k,)
        Start-state return :math:`\mu^\top \mathbf V^\pi`.
    d : ndarray (S,)
        Discounted (or expected-visit) state occupancy :math:`d = \mu^\top (I - \gamma P_\pi)^{-1}`.
    """

    V: np.ndarray
    Q: np.ndarray
    J: np.ndarray
    d: np.ndarray


def _as_stochastic(momdp: MultiObjectiveMDP, policy: np.ndarray) -> np.ndarray:
    pi = np.asarray(policy)
    if pi.ndim == 1:
        if pi.shape != (momdp.S,):
            raise InvalidPolicyError(f"deterministic policy has shape {pi.shape}, expected ({momdp.S},)")
        out = np.zeros((momdp.S, momdp.A))
        a = pi.astype(np.int64)
        if np.any((a < 0) | (a >= momdp.A)):
            s = int(np.flatnonzero((a < 0) | (a >= momdp.A))[0])
            raise InvalidPolicyError(f"policy[{s}] = {a[s]} is not an action in 0..{momdp.A - 1}")
        out[np.arange(momdp.S), a] = 1.0
        pi = out
    return V.check_policy(pi, momdp.mask)


def _reachable(momdp: MultiObjectiveMDP, pi: np.ndarray) -> np.ndarray:
    """Bool (S,): transient states reachable from the support of mu under pi."""
    Ppi = np.einsum("sa,sat->st", pi, momdp.P)
    seen = (momdp.initial > 0) & ~momdp.terminal
    frontier = seen.copy()
    while frontier.any():
        nxt = (Ppi[frontier] > 0).any(axis=0) & ~momdp.terminal & ~seen
        seen |= nxt
        frontier = nxt
    return seen


def evaluate_vector(momdp: MultiObjectiveMDP, policy: np.ndarray) -> VectorEvaluation:
    r"""Exact vector value, Q and occupancy of a stationary policy (dense linear solves).

    Solves :math:`(I - \gamma P_\pi) \mathbf V = \mathbf r_\pi` on the transient states. With ``gamma = 1``
    an improper policy makes that system singular; then the solve is restricted to the states reachable
    from :math:`\mu` and raises :class:`InvalidPolicyError` if :math:`\pi` is improper there (its return
    is unbounded or undefined).

    Parameters
    ----------
    momdp : MultiObjectiveMDP
    policy : ndarray (S, A) stochastic or (S,) deterministic
    """
    pi = _as_stochastic(momdp, policy)
    S, k, g = momdp.S, momdp.k, momdp.gamma
    T = momdp.transient
    Ppi = np.einsum("sa,sat->st", pi, momdp.P)
    rpi = np.einsum("sa,sak->sk", pi, momdp.R)
    Vv = np.full((S, k), np.nan)
    Vv[momdp.terminal] = 0.0
    d = np.zeros(S)

    def solve_on(idx: np.ndarray) -> bool:
        M = np.eye(idx.size) - g * Ppi[np.ix_(idx, idx)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an exactly singular factor is detected below
            try:
                fac = scipy.linalg.lu_factor(M, check_finite=False)
                lu = scipy.linalg.lu_solve(fac, rpi[idx], check_finite=False)
                dd = scipy.linalg.lu_solve(fac, momdp.initial[idx], trans=1, check_finite=False)
            except (np.linalg.LinAlgError, ValueError):
                return False
        if not (np.isfinite(lu).all() and np.isfinite(dd).all()):
            return False
        # a numerically singular (improper) system shows up as huge values or a large residual
        big = 1e12 * (1.0 + float(np.max(np.abs(rpi[idx]), initial=0.0)))
        if np.max(np.abs(lu), initial=0.0) > big or np.max(np.abs(dd), initial=0.0) > big:
            return False
        if np.max(np.abs(M @ lu - rpi[idx]), initial=0.0) > 1e-8 * (1.0 + np.max(np.abs(lu), initial=0.0)):
            return False
        Vv[idx] = lu
        d[idx] = dd
        return True

    if not solve_on(T):
        reach = np.flatnonzero(_reachable(momdp, pi))
        if not solve_on(reach):
            raise InvalidPolicyError(
                "policy is improper under gamma = 1: from the start distribution it does not reach a "
                "terminal state with probability 1, so its total return is not finite"
            )
    Vz = np.nan_to_num(Vv, nan=0.0)
    Q = momdp.R + g * np.einsum("sat,tk->sak", momdp.P, Vz)
    J = momdp.initial @ Vz
    return VectorEvaluation(V=Vv, Q=Q, J=J, d=d)


def policy_returns(momdp: MultiObjectiveMDP, policies: np.ndarray) -> np.ndarray:
    r"""Start-state returns :math:`\mathbf J(\pi)` of a batch of deterministic policies, shape (n, k).

    Parameters
    ----------
    policies : int ndarray (n, S)
        One deterministic policy per row. Improper policies (``gamma = 1``) get ``-inf`` returns in every
        objective, so that Pareto filters discard them.
    """
    pols = np.asarray(policies, dtype=np.int64)
    if pols.ndim != 2 or pols.shape[1] != momdp.S:
        raise InvalidPolicyError(f"policies has shape {pols.shape}, expected (n, {momdp.S})")
    T = momdp.transient
    n, t = pols.shape[0], T.size
    S_idx = np.arange(momdp.S)
    Ppi = momdp.P[S_idx[None, :], pols]  # (n, S, S)
    rpi = momdp.R[S_idx[None, :], pols]  # (n, S, k)
    if not np.all(momdp.mask[S_idx[None, :], pols]):
        i, s = np.argwhere(~momdp.mask[S_idx[None, :], pols])[0]
        raise InvalidPolicyError(f"policies[{i}, {s}] = {pols[i, s]} is infeasible in state {s}")
    M = np.eye(t)[None] - momdp.gamma * Ppi[:, T][:, :, T]
    mu = momdp.initial[T]
    out = np.full((n, momdp.k), -np.inf)
    cond = np.linalg.cond(M)
    ok = np.isfinite(cond) & (cond < 1e12)
    if ok.any():
        Vt = np.linalg.solve(M[ok], rpi[ok][:, T])
        out[ok] = np.einsum("t,ntk->nk", mu, Vt)
    return out


def occupancy_lp(momdp: MultiObjectiveMDP) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    r"""The occupancy polytope :math:`\mathcal X` in LP form.

    Returns
    -------
    A_eq : CSR (T, n)
        Flow constraints :math:`\sum_a x(s', a) - \gamma \sum_{s,a} P(s'|s,a) x(s,a) = \mu(s')`.
    b_eq : ndarray (T,)
        :math:`\mu` on the transient states.
    Rx : ndarray (n, k)
        Reward of each variable: the return of :math:`x` is ``Rx.T @ x``.
    pairs : int ndarray (n, 2)
        The feasible transient pair ``(s, a)`` of each variable.
    """
    T = momdp.transient
    pos = np.full(momdp.S, -1)
    pos[T] = np.arange(T.size)
    pairs = np.array([(s, a) for s in T for a in np.flatnonzero(momdp.mask[s])], dtype=np.int64)
    n = pairs.shape[0]
    rows, cols, vals = [], [], []
    for j, (s, a) in enumerate(pairs):
        rows.append(pos[s])
        cols.append(j)
        vals.append(1.0)
        nxt = np.flatnonzero(momdp.P[s, a])
        keep = pos[nxt] >= 0
        rows.extend(pos[nxt[keep]].tolist())
        cols.extend([j] * int(keep.sum()))
        vals.extend((-momdp.gamma * momdp.P[s, a, nxt[keep]]).tolist())
    A_eq = sp.csr_matrix((vals, (rows, cols)), shape=(T.size, n))
    A_eq.sum_duplicates()
    Rx = momdp.R[pairs[:, 0], pairs[:, 1]]
    return A_eq, momdp.initial[T].copy(), Rx, pairs


def policy_from_occupancy(momdp: MultiObjectiveMDP, x: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    r"""The stationary policy :math:`\pi(a|s) = x(s,a)/\sum_b x(s,b)` attaining an occupancy ``x``.

    States with zero occupancy (never visited) get the action with the largest occupancy-weighted
    preference of no one: the first feasible action, unless ``gamma = 1`` where that could create an
    improper loop; there the policy plays uniformly over feasible actions (irrelevant for the return,
    as the state is not visited). Returns an (S, A) stochastic matrix.
    """
    xs = np.clip(np.asarray(x, dtype=np.float64), 0.0, None)
    pi = np.zeros((momdp.S, momdp.A))
    np.add.at(pi, (pairs[:, 0], pairs[:, 1]), xs)
    tot = pi.sum(axis=1)
    visited = tot > 1e-12 * max(1.0, float(tot.max()))
    pi[visited] /= tot[visited, None]
    unv = ~visited
    pi[unv] = momdp.mask[unv] / momdp.mask[unv].sum(axis=1, keepdims=True)
    pi[pi < 1e-13] = 0.0
    pi /= pi.sum(axis=1, keepdims=True)
    return pi
