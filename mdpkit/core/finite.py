r"""Finite-horizon MDPs: backward induction, exact evaluation of Markov policies, occupancy measures.

.. math:: V_H = v_{\mathrm{term}}, \qquad Q_h(s, a) = r_h(s, a) + \sum_{s'} P_h(s'|s, a) V_{h+1}(s'),
          \qquad V_h(s) = \max_a Q_h(s, a)

References
----------
Puterman, *Markov Decision Processes* (1994), §4.5 (backward induction).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mdpkit.core._ops import Operators
from mdpkit.core.model import FiniteHorizonMDP
from mdpkit.core.results import FiniteSolution
from mdpkit.core.validate import check_choice, check_distribution, check_policy
from mdpkit.errors import InvalidArgumentError, InvalidPolicyError

__all__ = ["backward_induction", "evaluate_finite", "occupancy_finite"]


def _stage_ops(mdp: FiniteHorizonMDP):
    if mdp.stationary:
        P = mdp.P_at(0)
        return lambda h: Operators(P, mdp.R[h])
    return lambda h: Operators(mdp.P_at(h), mdp.R[h])


def backward_induction(
    mdp: FiniteHorizonMDP, backend: str = "numba", device: str | None = None
) -> FiniteSolution:
    r"""Optimal time-indexed values, Q-functions and a deterministic Markov policy by backward induction.

    Returns :class:`FiniteSolution` with ``V`` of shape (H+1, S), ``Q`` (H, S, A), ``policy`` (H, S) (first
    maximiser) and ``value`` :math:`= \mu^\top V_0`. Cost :math:`O(H \cdot \mathrm{nnz}(P))`.
    """
    backend = check_choice(backend, "backend", ("numba", "torch"))
    if backend == "torch":
        from mdpkit.core import _torch

        return _torch.backward_induction_model(mdp, device=device)
    if device not in (None, "cpu"):
        raise InvalidArgumentError(f"device = {device!r} needs backend='torch'")
    H, S, A = mdp.H, mdp.S, mdp.A
    ops_at = _stage_ops(mdp)
    V = np.empty((H + 1, S))
    Q = np.empty((H, S, A))
    pol = np.empty((H, S), dtype=np.int64)
    V[H] = mdp.terminal
    for h in range(H - 1, -1, -1):
        Q[h] = ops_at(h).q(V[h + 1], 1.0)
        pol[h] = np.argmax(Q[h], axis=1)
        V[h] = Q[h][np.arange(S), pol[h]]
    return FiniteSolution(V=V, Q=Q, policy=pol, value=float(mdp.initial @ V[0]))


def _markov_policy(mdp: FiniteHorizonMDP, policy: np.ndarray) -> np.ndarray:
    """Validate a Markov policy (H, S) ints or (H, S, A) stochastic (or stationary (S,) / (S, A))."""
    arr = np.asarray(policy)
    H, S, A = mdp.H, mdp.S, mdp.A
    if arr.ndim in (1, 2) and arr.shape in ((S,), (S, A)) and not (arr.ndim == 2 and arr.shape == (H, S)):
        arr = np.broadcast_to(arr, (H, *arr.shape))
    if arr.shape not in ((H, S), (H, S, A)):
        raise InvalidPolicyError(f"policy has shape {arr.shape}, expected (H, S) = ({H}, {S}) or (H, S, A)")
    out = np.empty((H, S, A))
    for h in range(H):
        try:
            out[h] = check_policy(arr[h], mdp.mask[h], name=f"policy[{h}]")
        except InvalidPolicyError as exc:
            raise InvalidPolicyError(str(exc)) from None
    return out


def _stage_chain(mdp: FiniteHorizonMDP, h: int, pi_h: np.ndarray):
    P = mdp.P_rows_at(h)
    S, A = mdp.S, mdp.A
    if sp.issparse(P):
        W = sp.csr_matrix((pi_h.ravel(), (np.repeat(np.arange(S), A), np.arange(S * A))), shape=(S, S * A))
        return (W @ P).tocsr()
    return np.einsum("sa,sat->st", pi_h, P.reshape(S, A, S))


def evaluate_finite(mdp: FiniteHorizonMDP, policy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact values of a Markov policy: ``(V (H+1, S), Q (H, S, A))`` with
    :math:`V_h^\pi(s) = \sum_a \pi_h(a|s) Q_h^\pi(s, a)` and :math:`Q^\pi_h = r_h + P_h V^\pi_{h+1}`."""
    pi = _markov_policy(mdp, policy)
    H, S = mdp.H, mdp.S
    ops_at = _stage_ops(mdp)
    V = np.empty((H + 1, S))
    Q = np.empty((H, S, mdp.A))
    V[H] = mdp.terminal
    for h in range(H - 1, -1, -1):
        Q[h] = ops_at(h).q(V[h + 1], 1.0)
        V[h] = np.sum(pi[h] * np.where(mdp.mask[h], Q[h], 0.0), axis=1)
    return V, Q


def occupancy_finite(
    mdp: FiniteHorizonMDP, policy: np.ndarray, initial: np.ndarray | None = None
) -> np.ndarray:
    r"""State-action occupancy :math:`d_h(s, a) = \Pr^\pi_\mu(s_h = s, a_h = a)`, shape (H, S, A).

    Each stage sums to 1, and
    :math:`\mu^\top V_0^\pi = \sum_{h,s,a} d_h(s,a)\, r_h(s,a) + \sum_s d_H(s)\, v_{\mathrm{term}}(s)`.
    """
    pi = _markov_policy(mdp, policy)
    mu = (
        mdp.initial
        if initial is None
        else check_distribution(initial, mdp.S, "initial", InvalidArgumentError)
    )
    d = np.empty((mdp.H, mdp.S, mdp.A))
    state = mu.copy()
    for h in range(mdp.H):
        d[h] = state[:, None] * pi[h]
        state = np.asarray(_stage_chain(mdp, h, pi[h]).T @ state).ravel()
    return d
