"""numba kernels on raw arrays: Bellman backups, greedy improvement, policy-restricted backups.

Private: the public modules validate and dispatch. Dense kernels take ``P`` of shape (S, A, S)
(C-contiguous, float64 or float32); sparse ones take the CSR triple ``(indptr, indices, data)`` of the
(S*A, S) matrix whose row ``s*A + a`` is ``P[s, a, :]``. Rewards are (S, A) float64 with ``-inf`` at
infeasible pairs (whose rows are self-loops), so a max over actions ignores them. Accumulation is in
float64 whatever the storage type of ``P``.
"""

from __future__ import annotations

import numba as nb
import numpy as np

# Re-association lets LLVM vectorise the dense dot products; no "nnan"/"ninf" flags, because rewards hold
# -inf. CSR rows are short gathers that do not vectorise, and there the flags measurably slow the loop.
_FM = {"reassoc", "contract"}
_JIT = dict(cache=True, nogil=True, fastmath=_FM)
_JIT_CSR = dict(cache=True, nogil=True)
# Small helpers are inlined at numba-IR level (inline="always"): left as calls inside a prange body they
# cost ~2.5x on short CSR rows.


@nb.njit(inline="always", **_JIT)
def _dot(P, s, a, v):
    """sum_t P[s, a, t] v[t] (indexing, not slicing, keeps the loop vectorisable)."""
    acc = 0.0
    for t in range(v.shape[0]):
        acc += P[s, a, t] * v[t]
    return acc


@nb.njit(inline="always", **_JIT_CSR)
def _csr_dot(indptr, indices, data, r, v):
    """sum_k data[k] v[indices[k]] over row r (unsigned indices: no negative-index wrap check)."""
    acc = 0.0
    for k in range(indptr[r], indptr[r + 1]):
        acc += data[k] * v[indices[k]]
    return acc


# --------------------------------------------------------------------------- dense
@nb.njit(parallel=True, **_JIT)
def q_dense(P, R, gamma, v, Q):
    """Q[s, a] = R[s, a] + gamma * sum_t P[s, a, t] v[t]."""
    S, A = R.shape
    for s in nb.prange(S):
        for a in range(A):
            Q[s, a] = R[s, a] + gamma * _dot(P, s, a, v)


@nb.njit(inline="always", **_JIT)
def _greedy_dense(P, R, gamma, v, s, keep):
    """(max_a Q(s, a), first maximiser, Q(s, keep)) with Q = R + gamma P v; infeasible actions skipped."""
    best = -np.inf
    arg = 0
    qkeep = -np.inf
    for a in range(R.shape[1]):
        if R[s, a] == -np.inf:
            continue
        q = R[s, a] + gamma * _dot(P, s, a, v)
        if a == keep:
            qkeep = q
        if q > best:
            best = q
            arg = a
    return best, arg, qkeep


@nb.njit(parallel=True, **_JIT)
def bellman_dense(P, R, gamma, v, vout, pol):
    """vout = T v, pol = greedy(v) (first maximiser); one pass over P, Q never stored."""
    for s in nb.prange(R.shape[0]):
        vout[s], pol[s], _ = _greedy_dense(P, R, gamma, v, s, -1)


@nb.njit(parallel=True, **_JIT)
def improve_dense(P, R, gamma, v, pol, vout, newpol, vpi, tie):
    """Howard improvement: greedy(v), but keep pol[s] unless another action beats it by more than tie.

    vout = T v, newpol = the improved policy, vpi = T_newpol v (the backup of the action taken)."""
    for s in nb.prange(R.shape[0]):
        best, arg, cur = _greedy_dense(P, R, gamma, v, s, pol[s])
        _keep_on_tie(s, best, arg, cur, pol, vout, newpol, vpi, tie)


@nb.njit(inline="always", **_JIT)
def _keep_on_tie(s, best, arg, cur, pol, vout, newpol, vpi, tie):
    vout[s] = best
    if cur >= best - tie:
        newpol[s] = pol[s]
        vpi[s] = cur
    else:
        newpol[s] = arg
        vpi[s] = best


@nb.njit(parallel=True, **_JIT)
def gather_policy_dense(P, R, pol, Ppi, rpi):
    """P_pi[s, :] = P[s, pol[s], :], r_pi[s] = R[s, pol[s]]."""
    S = R.shape[0]
    for s in nb.prange(S):
        Ppi[s, :] = P[s, pol[s], :]
        rpi[s] = R[s, pol[s]]


# --------------------------------------------------------------------------- sparse (CSR over S*A rows)
@nb.njit(parallel=True, **_JIT_CSR)
def q_csr(indptr, indices, data, R, gamma, v, Q):
    S, A = R.shape
    for s in nb.prange(S):
        for a in range(A):
            Q[s, a] = R[s, a] + gamma * _csr_dot(indptr, indices, data, s * A + a, v)


@nb.njit(inline="always", **_JIT_CSR)
def _greedy_csr(indptr, indices, data, R, gamma, v, s, keep):
    """As :func:`_greedy_dense` for a CSR kernel; an infeasible pair's q = -inf never wins the strict
    comparison, so no branch is needed (the branch costs ~2x on short rows)."""
    best = -np.inf
    arg = 0
    qkeep = -np.inf
    A = R.shape[1]
    for a in range(A):
        q = R[s, a] + gamma * _csr_dot(indptr, indices, data, s * A + a, v)
        if a == keep:
            qkeep = q
        if q > best:
            best = q
            arg = a
    return best, arg, qkeep


@nb.njit(parallel=True, **_JIT_CSR)
def bellman_csr(indptr, indices, data, R, gamma, v, vout, pol):
    for s in nb.prange(R.shape[0]):
        vout[s], pol[s], _ = _greedy_csr(indptr, indices, data, R, gamma, v, s, -1)


@nb.njit(parallel=True, **_JIT_CSR)
def improve_csr(indptr, indices, data, R, gamma, v, pol, vout, newpol, vpi, tie):
    for s in nb.prange(R.shape[0]):
        best, arg, cur = _greedy_csr(indptr, indices, data, R, gamma, v, s, pol[s])
        _keep_on_tie(s, best, arg, cur, pol, vout, newpol, vpi, tie)


@nb.njit(**_JIT)
def gather_policy_csr(indptr, indices, data, R, pol):
    """CSR triple and reward of the chain P_pi (rows P[s, pol[s], :])."""
    S, A = R.shape
    ptr = np.zeros(S + 1, dtype=np.int64)
    for s in range(S):
        r = s * A + pol[s]
        ptr[s + 1] = ptr[s] + indptr[r + 1] - indptr[r]
    idx = np.empty(ptr[S], dtype=indices.dtype)
    dat = np.empty(ptr[S], dtype=data.dtype)
    rpi = np.empty(S)
    for s in range(S):
        r = s * A + pol[s]
        n = indptr[r + 1] - indptr[r]
        idx[ptr[s] : ptr[s] + n] = indices[indptr[r] : indptr[r + 1]]
        dat[ptr[s] : ptr[s] + n] = data[indptr[r] : indptr[r + 1]]
        rpi[s] = R[s, pol[s]]
    return ptr, idx, dat, rpi


# --------------------------------------------------------------------------- whole VI / MPI loops
@nb.njit(parallel=True, **_JIT)
def policy_step_dense(P, R, pol, gamma, v, vout):
    """vout = T_pol v, reading the rows P[s, pol[s], :] in place (no gathered chain)."""
    for s in nb.prange(R.shape[0]):
        vout[s] = R[s, pol[s]] + gamma * _dot(P, s, pol[s], v)


@nb.njit(parallel=True, **_JIT_CSR)
def policy_step_csr(indptr, indices, data, R, pol, gamma, v, vout):
    A = R.shape[1]
    for s in nb.prange(R.shape[0]):
        vout[s] = R[s, pol[s]] + gamma * _csr_dot(indptr, indices, data, s * A + pol[s], v)


@nb.njit(**_JIT)
def _backup(dense, P, indptr, indices, data, R, gamma, v, tv, pol):
    if dense:
        bellman_dense(P, R, gamma, v, tv, pol)
    else:
        bellman_csr(indptr, indices, data, R, gamma, v, tv, pol)


@nb.njit(**_JIT)
def span_loop(dense, P, indptr, indices, data, R, gamma, v, tv, pol, thresh, max_iter, m, theta):
    """VI (m = 0) or modified PI (m > 0) until sp(Tv - v) <= thresh, all sweeps inside one compiled loop.

    Keeping the loop in numba avoids Python overhead per sweep and keeps the worker threads spinning
    between back-to-back parallel regions (a sleeping OpenMP pool costs milliseconds to wake).
    On return ``tv = T v`` and ``pol = greedy(v)`` for the final ``v``; returns (sweeps, converged).
    """
    S = R.shape[0]
    w = np.empty(S)
    for k in range(1, max_iter + 1):
        _backup(dense, P, indptr, indices, data, R, gamma, v, tv, pol)
        lo = np.inf
        hi = -np.inf
        for s in range(S):
            d = tv[s] - v[s]
            lo = min(lo, d)
            hi = max(hi, d)
        if hi - lo <= thresh:
            return k, True
        v[:] = tv
        outer = hi - lo
        for _ in range(m):
            if dense:
                policy_step_dense(P, R, pol, gamma, v, w)
            else:
                policy_step_csr(indptr, indices, data, R, pol, gamma, v, w)
            ilo = np.inf
            ihi = -np.inf
            for s in range(S):
                d = w[s] - v[s]
                ilo = min(ilo, d)
                ihi = max(ihi, d)
            v[:] = w
            if ihi - ilo <= theta * outer:
                break
    _backup(dense, P, indptr, indices, data, R, gamma, v, tv, pol)
    return max_iter, False
