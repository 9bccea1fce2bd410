r"""Coarsest bisimulation of an explicit tabular MDP by iterative signature refinement.

A partition :math:`\mathcal B` of the states is a *bisimulation* (Givan, Dean & Greig, "Equivalence notions
and model minimization in Markov decision processes", AIJ 2003, Def. 4; Larsen & Skou 1991 for the
probabilistic case) when for all :math:`s \sim t` (same block) and every action :math:`a`:

* the same actions are feasible and :math:`r(s, a) = r(t, a)`;
* :math:`P(B \mid s, a) = \sum_{s' \in B} P(s' \mid s, a) = P(B \mid t, a)` for every block :math:`B`.

The coarsest one is the greatest fixed point of the refinement
:math:`\mathcal B_{k+1} = \{ \text{classes of } s \mapsto (\mathcal B_k(s), (r(s, a), P(\cdot \mid s, a)
\text{ aggregated on } \mathcal B_k)_a) \}` started from the single block :math:`\{\mathcal S\}`: each
round splits blocks whose members have different signatures, never merges, and stops when the number of
blocks is stable (at most :math:`S` rounds; Kanellakis & Smolka 1990 signature refinement, the
partition-refinement scheme Paige & Tarjan 1987 make fast). BQ-NCO (Drakulic et al., NeurIPS 2023, §3.2)
obtains its BQ-MDP as such a quotient of the direct MDP; :mod:`mdpkit.combinatorial.mdp` builds both and the
tests check that this algorithm recovers the BQ classes.

Rewards and probabilities are compared after rounding to ``decimals`` decimal digits (exact for the
deterministic 0/1 kernels and shared reward entries of the combinatorial MDPs).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mdpkit.core import TabularMDP
from mdpkit.errors import InvalidArgumentError, InvalidMDPError

__all__ = ["coarsest_bisimulation", "is_bisimulation", "refine", "same_partition", "quotient"]


def _as_model(mdp: TabularMDP | tuple[object, object]) -> tuple[sp.csr_matrix, np.ndarray, int, int]:
    """(P as CSR (S*A, S) with rows of infeasible pairs emptied, R (S, A) with -inf at infeasible, S, A)."""
    if isinstance(mdp, TabularMDP):
        P, R, mask = mdp.P, np.array(mdp.R, dtype=np.float64), np.asarray(mdp.mask)
    else:
        P, R = mdp
        R = np.array(R, dtype=np.float64)
        mask = np.isfinite(R)
    S, A = R.shape
    if sp.issparse(P):
        Pc = sp.csr_matrix(P, dtype=np.float64)
    else:
        Pd = np.asarray(P, dtype=np.float64)
        if Pd.shape != (S, A, S):
            raise InvalidMDPError(f"P has shape {Pd.shape}, expected {(S, A, S)} to match R {R.shape}")
        Pc = sp.csr_matrix(Pd.reshape(S * A, S))
    if Pc.shape != (S * A, S):
        raise InvalidMDPError(f"P has shape {Pc.shape}, expected {(S * A, S)} to match R {R.shape}")
    keep = sp.diags(mask.reshape(-1).astype(np.float64))
    R = np.where(mask, R, -np.inf)
    return sp.csr_matrix(keep @ Pc), R, S, A


def _labels_from_keys(keys: list[bytes]) -> np.ndarray:
    ids: dict[bytes, int] = {}
    return np.array([ids.setdefault(k, len(ids)) for k in keys], dtype=np.int64)


def refine(mdp: TabularMDP | tuple[object, object], labels: np.ndarray, decimals: int = 12) -> np.ndarray:
    r"""One refinement round: split every block of ``labels`` by the states' signatures.

    The signature of :math:`s` is its block, and for each action :math:`a` the rounded reward
    :math:`r(s, a)` (``-inf`` if infeasible) and the sparse vector :math:`(P(B \mid s, a))_B` of rounded
    block probabilities. Returns new labels ``0..B'-1`` (first-occurrence order), a refinement of ``labels``.
    """
    P, R, S, A = _as_model(mdp)
    return _refine(P, R, S, A, np.asarray(labels, dtype=np.int64), decimals)


def _refine(P: sp.csr_matrix, R: np.ndarray, S: int, A: int, labels: np.ndarray, decimals: int) -> np.ndarray:
    if labels.shape != (S,):
        raise InvalidArgumentError(f"labels has shape {labels.shape}, expected ({S},)")
    B = int(labels.max()) + 1 if S else 0
    E = sp.csr_matrix((np.ones(S), labels, np.arange(S + 1)), shape=(S, B))
    M = sp.csr_matrix(P @ E)
    M.sum_duplicates()
    M.sort_indices()
    data = np.round(M.data, decimals) + 0.0  # + 0.0 maps -0.0 to 0.0
    Rr = np.round(R, decimals) + 0.0
    keys: list[bytes] = []
    indptr, indices = M.indptr, M.indices
    for s in range(S):
        parts = [labels[s : s + 1].tobytes(), Rr[s].tobytes()]
        for a in range(A):
            lo, hi = indptr[s * A + a], indptr[s * A + a + 1]
            nz = data[lo:hi] != 0
            parts.append(b"|" + indices[lo:hi][nz].tobytes() + b":" + data[lo:hi][nz].tobytes())
        keys.append(b"".join(parts))
    return _labels_from_keys(keys)


def coarsest_bisimulation(
    mdp: TabularMDP | tuple[object, object], decimals: int = 12, max_rounds: int | None = None
) -> np.ndarray:
    r"""Labels of the coarsest bisimulation partition of an explicit MDP (Givan, Dean & Greig 2003).

    Parameters
    ----------
    mdp : TabularMDP, or a pair (P, R)
        ``P`` dense (S, A, S) or CSR (S*A, S); ``R`` (S, A) with ``-inf`` marking infeasible actions
        (a :class:`~mdpkit.core.TabularMDP` supplies its own mask).
    decimals : int
        Rewards and block probabilities are compared after ``np.round(x, decimals)``.
    max_rounds : int, optional
        Refinement rounds allowed (default ``S + 1``, always enough).

    Returns
    -------
    labels : ndarray (S,) of int64
        ``labels[s] == labels[t]`` iff :math:`s` and :math:`t` are bisimilar; blocks numbered ``0..B-1`` in
        order of first occurrence. Cost per round :math:`O(\mathrm{nnz}(P) + S A)`.
    """
    P, R, S, A = _as_model(mdp)
    labels = np.zeros(S, dtype=np.int64)
    rounds = S + 1 if max_rounds is None else int(max_rounds)
    for _ in range(rounds):
        new = _refine(P, R, S, A, labels, decimals)
        if new.max() == labels.max():
            return new
        labels = new
    raise InvalidArgumentError(f"partition refinement did not stabilise within max_rounds = {rounds}")


def is_bisimulation(mdp: TabularMDP | tuple[object, object], labels: np.ndarray, decimals: int = 12) -> bool:
    """Whether the partition ``labels`` is a bisimulation (a refinement round splits none of its blocks)."""
    P, R, S, A = _as_model(mdp)
    lab = np.asarray(labels, dtype=np.int64)
    return same_partition(_refine(P, R, S, A, lab, decimals), lab)


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two label arrays describe the same partition (equal up to renaming the blocks)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    pairs = np.unique(np.stack([a, b]), axis=1)
    return pairs.shape[1] == len(np.unique(a)) == len(np.unique(b))


def quotient(mdp: TabularMDP, labels: np.ndarray) -> TabularMDP:
    r"""The quotient MDP of a bisimulation: one state per block, :math:`P(B' \mid B, a) = P(B' \mid s, a)`
    and :math:`r(B, a) = r(s, a)` for any representative :math:`s \in B` (the first one).

    Raises :class:`InvalidArgumentError` when ``labels`` is not a bisimulation of ``mdp``.
    """
    if not is_bisimulation(mdp, labels):
        raise InvalidArgumentError("labels is not a bisimulation of mdp; the quotient is not well defined")
    P, R, S, A = _as_model(mdp)
    lab = np.asarray(labels, dtype=np.int64)
    B = int(lab.max()) + 1
    reps = np.array([np.flatnonzero(lab == b)[0] for b in range(B)])
    E = sp.csr_matrix((np.ones(S), lab, np.arange(S + 1)), shape=(S, B))
    rows = (reps[:, None] * A + np.arange(A)[None, :]).reshape(-1)
    Pq = sp.csr_matrix((P @ E)[rows])
    Rq = R[reps]
    Pq = Pq.tolil()
    for b, a in zip(*np.nonzero(~np.isfinite(Rq)), strict=True):
        Pq.rows[b * A + a], Pq.data[b * A + a] = [int(b)], [1.0]
    mu = None if mdp.initial is None else np.bincount(lab, weights=mdp.initial, minlength=B)
    return TabularMDP(sp.csr_matrix(Pq), Rq, mdp.gamma, initial=mu)
