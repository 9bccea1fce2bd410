r"""Average-reward MDPs: optimal gain and bias by relative value iteration and by LP; exact gain/bias of a
policy; structural checks.

The optimality equation of a model with constant optimal gain (communicating or weakly communicating,
Puterman 1994, §8.3-8.4 and §9.5) reads

.. math:: \rho^* + h^*(s) = \max_{a} \; r(s, a) + \sum_{s'} P(s'|s, a)\, h^*(s').

Relative value iteration runs on the aperiodicity-transformed kernel :math:`\tilde P = \tau P + (1-\tau) I`
(same gain, bias scaled by :math:`1/\tau`; Puterman 1994, §8.5.4), which makes it converge on periodic
models too. With :math:`\Delta = Th - h` the gain is bracketed by
:math:`\min \Delta \le \rho^* \le \max\Delta` and a greedy policy has gain :math:`\ge \min\Delta`
(Puterman 1994, Thm 8.5.5), so stopping at :math:`\mathrm{sp}(\Delta) \le` ``tol`` certifies both.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from mdpkit.core import validate as V
from mdpkit.core._ops import Operators
from mdpkit.core.model import TabularMDP
from mdpkit.core.results import AverageRewardSolution
from mdpkit.errors import ConvergenceError, InvalidArgumentError, MultichainError

__all__ = ["average_reward", "policy_gain", "is_communicating", "relative_value_iteration", "chain_limit"]


def _support_graph(mdp: TabularMDP) -> sp.csr_matrix:
    """Adjacency (S, S) of s -> s' reachable in one step under some feasible action."""
    rows = sp.csr_matrix(mdp.P_rows)
    feas = mdp.mask.reshape(-1)
    W = sp.csr_matrix(
        (feas.astype(float), (np.repeat(np.arange(mdp.S), mdp.A), np.arange(mdp.S * mdp.A))),
        shape=(mdp.S, mdp.S * mdp.A),
    )
    G = (W @ rows).tocsr()
    G.data = (G.data > 0).astype(float)
    G.eliminate_zeros()
    return G


def is_communicating(mdp: TabularMDP) -> bool:
    """Whether every state reaches every other under some policy (the union graph is strongly connected).

    Communicating models have a constant optimal gain (Puterman 1994, Thm 8.3.2 and §9.5).
    """
    n, _ = connected_components(_support_graph(mdp), directed=True, connection="strong")
    return n == 1


def chain_limit(P: np.ndarray) -> np.ndarray:
    r"""Cesàro limit :math:`P^* = \lim_N \frac1N \sum_{t<N} P^t` of a finite Markov chain (any structure).

    Built from the closed communicating classes :math:`C` (stationary distributions :math:`\pi_C`) and the
    absorption probabilities of the transient states (Puterman 1994, Appendix A.4).
    """
    P = np.asarray(P, dtype=np.float64)
    S = P.shape[0]
    n, lab = connected_components(sp.csr_matrix(P > 0), directed=True, connection="strong")
    Pstar = np.zeros((S, S))
    closed = []
    for c in range(n):
        idx = np.flatnonzero(lab == c)
        if np.all(P[np.ix_(idx, np.setdiff1d(np.arange(S), idx))] == 0):
            closed.append(idx)
            k = idx.size
            M = np.eye(k) - P[np.ix_(idx, idx)].T
            M[-1, :] = 1.0
            b = np.zeros(k)
            b[-1] = 1.0
            pi = np.linalg.solve(M, b)
            Pstar[np.ix_(idx, idx)] = pi[None, :]
    rec = np.concatenate(closed)
    trans = np.setdiff1d(np.arange(S), rec)
    if trans.size:
        M = np.eye(trans.size) - P[np.ix_(trans, trans)]
        for idx in closed:
            absorb = np.linalg.solve(M, P[np.ix_(trans, idx)].sum(axis=1))
            Pstar[np.ix_(trans, idx)] = absorb[:, None] * Pstar[idx[0], idx][None, :]
    return Pstar


def policy_gain(mdp: TabularMDP, policy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact gain vector and bias of a stationary policy, for any chain structure.

    .. math:: g^\pi = P_\pi^* r_\pi, \qquad h^\pi = (I - P_\pi + P_\pi^*)^{-1}(I - P_\pi^*)\, r_\pi

    (Puterman 1994, §8.2: :math:`h^\pi` is the bias, with :math:`P^*_\pi h^\pi = 0`). They satisfy
    :math:`g = P_\pi g` and :math:`g + h = r_\pi + P_\pi h`. Dense linear algebra: :math:`O(S^3)`.
    """
    P = mdp.transition_matrix(policy)
    P = P.toarray() if sp.issparse(P) else np.asarray(P)
    r = mdp.reward_vector(policy)
    Pstar = chain_limit(P)
    g = Pstar @ r
    I = np.eye(mdp.S)
    h = np.linalg.solve(I - P + Pstar, r - g)
    return g, h


def relative_value_iteration(
    mdp: TabularMDP,
    tol: float = 1e-10,
    max_iter: int = 1_000_000,
    tau: float = 0.5,
    ref: int = 0,
    h0: np.ndarray | None = None,
    raise_on_multichain: bool = True,
) -> AverageRewardSolution:
    r"""Relative value iteration on the aperiodicity transform (Puterman 1994, §8.5.5 and §8.5.4).

    Iterates :math:`w = \tilde T v = (1-\tau) v + \max_a (r + \tau P v)` and
    :math:`v \leftarrow w - w(\mathrm{ref})`.
    With :math:`h = \tau v`, :math:`Th - h = \tilde T v - v`, so the stopping rule
    :math:`\mathrm{sp}(\tilde T v - v) \le` ``tol`` certifies :math:`|\rho - \rho^*| \le \mathrm{tol}/2`.

    A model whose optimal gain is not constant makes :math:`\tilde T v - v` converge to the non-constant
    gain vector :math:`g^*`; that is detected and raised as :class:`~mdpkit.MultichainError` with the gains.
    """
    tol = V.check_tol(tol)
    if not (0 < tau <= 1):
        raise InvalidArgumentError(f"tau = {tau!r} must be in (0, 1]")
    if not (0 <= ref < mdp.S):
        raise InvalidArgumentError(f"ref = {ref!r} is not a state in 0..{mdp.S - 1}")
    ops = Operators(mdp.P, mdp.R)
    v = np.zeros(mdp.S) if h0 is None else np.asarray(h0, dtype=np.float64) / tau
    w = np.empty(mdp.S)
    pol = np.empty(mdp.S, dtype=np.int64)
    dprev = None
    communicating = None
    k = 0
    ok = False
    for k in range(1, max_iter + 1):  # noqa: B007 (k is reported)
        ops.bellman(v, tau, w, pol)
        w += (1.0 - tau) * v
        d = w - v
        lo, hi = float(d.min()), float(d.max())
        if hi - lo <= tol:
            ok = True
            break
        if dprev is not None and np.max(np.abs(d - dprev)) <= 1e-9 * (hi - lo):
            if communicating is None:
                communicating = is_communicating(mdp)
            if not communicating:
                order = np.argsort(d)
                msg = (
                    f"the optimal gain is not constant: relative value iteration converged to gains between "
                    f"{lo:.6g} (state {order[0]}) and {hi:.6g} (state {order[-1]}); the model is multichain "
                    f"(not weakly communicating). Use mdpkit.policy_gain to study its gain vector."
                )
                if raise_on_multichain:
                    raise MultichainError(msg)
                break
        dprev = d
        v = w - w[ref]
    h = tau * v
    h = h - h.min()
    return AverageRewardSolution(
        gain=(lo + hi) / 2.0,
        h=h,
        span=float(h.max() - h.min()),
        policy=pol.copy(),
        iterations=k,
        residual=(hi - lo) / 2.0,
        converged=ok,
        method="rvi",
        gain_lower=lo,
        gain_upper=hi,
    )


def _lp_gain(mdp: TabularMDP) -> tuple[float, np.ndarray]:
    r"""The unichain primal LP :math:`\min \rho` s.t. :math:`\rho + h(s) - P(\cdot|s,a)^\top h \ge r(s,a)`."""
    S, A = mdp.S, mdp.A
    feas = np.flatnonzero(mdp.mask.reshape(-1))
    rows = sp.csr_matrix(mdp.P_rows)[feas]
    E = sp.csr_matrix((np.ones(feas.size), (np.arange(feas.size), feas // A)), shape=(feas.size, S))
    A_ub = sp.hstack([-np.ones((feas.size, 1)), rows - E]).tocsr()
    b_ub = -mdp.R.reshape(-1)[feas]
    c = np.zeros(S + 1)
    c[0] = 1.0
    bounds = [(None, None)] * (S + 1)
    bounds[1] = (0.0, 0.0)  # h(0) = 0 pins the free additive constant
    # interior point (with crossover): about 5x faster than HiGHS' simplex on dense 1000 x 4 models
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs-ipm")
    if res.status != 0:
        raise ConvergenceError(f"HiGHS failed on the average-reward LP: {res.message}")
    return float(res.x[0]), res.x[1:]


def average_reward(
    mdp: TabularMDP, method: str = "rvi", tol: float = 1e-10, **options: object
) -> AverageRewardSolution:
    r"""Optimal gain :math:`\rho^*`, a bias :math:`h^*` (min 0), its span and a gain-optimal policy.

    Parameters
    ----------
    mdp : TabularMDP
        Any model with constant optimal gain (communicating, weakly communicating, unichain); ``gamma`` is
        ignored. Multichain models raise :class:`~mdpkit.MultichainError`.
    method : {"rvi", "lp"}
        ``"rvi"``: :func:`relative_value_iteration`. ``"lp"``: the unichain primal LP solved by HiGHS for
        :math:`\rho^*` (checked against the certified RVI bracket), whose :math:`h` warm-starts RVI to obtain
        a solution of the optimality equation to ``tol``.
    """
    method = V.check_choice(method, "method", ("rvi", "lp"))
    if method == "rvi":
        return relative_value_iteration(mdp, tol=tol, **options)
    rho_lp, h_lp = _lp_gain(mdp)
    sol = relative_value_iteration(mdp, tol=tol, h0=h_lp, **options)
    slack = 1e-7 * (1.0 + abs(rho_lp))  # HiGHS' feasibility tolerance
    if not (sol.gain_lower - slack <= rho_lp <= sol.gain_upper + slack):
        raise ConvergenceError(
            f"LP gain {rho_lp!r} lies outside the certified bracket [{sol.gain_lower!r}, {sol.gain_upper!r}]"
        )
    return AverageRewardSolution(**{**sol.__dict__, "method": "lp"})
