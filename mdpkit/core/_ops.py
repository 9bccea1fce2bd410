"""Dense/sparse dispatch of the numba kernels behind one small object, shared by every exact solver."""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from mdpkit.core import _numba as K

#: Above this many states a sparse policy evaluation uses an iterative Krylov solve instead of sparse LU.
SPARSE_DIRECT_MAX_S = 4000
#: Below this many stored transition probabilities (a sweep of about a millisecond) kernels run on one
#: thread: waking a sleeping thread pool costs milliseconds, more than the sweep itself (measured 50x
#: slower on 5-state models, and slower on every model below ~1e6 entries, on a loaded 2-core machine).
PARALLEL_MIN_WORK = 2_000_000


def _run(nthreads: int, kernel, *args):
    """Call a numba kernel with ``nthreads`` threads (restoring the caller's setting)."""
    prev = numba.get_num_threads()
    if nthreads == prev:
        return kernel(*args)
    numba.set_num_threads(nthreads)
    try:
        return kernel(*args)
    finally:
        numba.set_num_threads(prev)


def _threads(work: int) -> int:
    return 1 if work < PARALLEL_MIN_WORK else numba.get_num_threads()


class Operators:
    """Bellman operators of one stationary stage ``(P, R)``.

    ``P`` is dense (S, A, S) or CSR (S*A, S); ``R`` is (S, A) with ``-inf`` at infeasible pairs.
    """

    def __init__(self, P: np.ndarray | sp.csr_matrix, R: np.ndarray) -> None:
        self.R = np.ascontiguousarray(R, dtype=np.float64)
        self.S, self.A = self.R.shape
        self.sparse = sp.issparse(P)
        if self.sparse:
            # unsigned column indices spare numba's negative-index check in the gather v[indices[k]]
            idx_t = np.uint32 if P.shape[1] < 2**32 else np.uint64
            self.csr = (P.indptr.astype(np.int64), P.indices.astype(idx_t), P.data)
            self.P = None
            self.nthreads = _threads(P.nnz)
            self.row_len = int(np.max(np.diff(P.indptr)))
        else:
            self.P = np.ascontiguousarray(P)
            self.csr = None
            self.nthreads = _threads(self.P.size)
            self.row_len = self.S

    # T v and greedy(v) in one pass
    def bellman(
        self, v: np.ndarray, gamma: float, out: np.ndarray | None = None, pol: np.ndarray | None = None
    ):
        out = np.empty(self.S) if out is None else out
        pol = np.empty(self.S, dtype=np.int64) if pol is None else pol
        if self.sparse:
            _run(self.nthreads, K.bellman_csr, *self.csr, self.R, gamma, v, out, pol)
        else:
            _run(self.nthreads, K.bellman_dense, self.P, self.R, gamma, v, out, pol)
        return out, pol

    def q(self, v: np.ndarray, gamma: float) -> np.ndarray:
        Q = np.empty((self.S, self.A))
        if self.sparse:
            _run(self.nthreads, K.q_csr, *self.csr, self.R, gamma, v, Q)
        else:
            _run(self.nthreads, K.q_dense, self.P, self.R, gamma, v, Q)
        return Q

    def improve(self, v: np.ndarray, pol: np.ndarray, gamma: float, tie: float):
        """Howard improvement step keeping ``pol[s]`` on near-ties: returns (T v, new policy, T_new v)."""
        out = np.empty(self.S)
        vpi = np.empty(self.S)
        new = np.empty(self.S, dtype=np.int64)
        if self.sparse:
            _run(self.nthreads, K.improve_csr, *self.csr, self.R, gamma, v, pol, out, new, vpi, tie)
        else:
            _run(self.nthreads, K.improve_dense, self.P, self.R, gamma, v, pol, out, new, vpi, tie)
        return out, new, vpi

    def _arrays(self):
        """(dense?, P, indptr, indices, data) with empty placeholders for the unused form."""
        if self.sparse:
            return (False, np.empty((0, 0, 0)), *self.csr)
        e = np.empty(0, dtype=np.int64)
        return (True, self.P, e, e.astype(np.uint32), np.empty(0))

    def span_loop(
        self, v: np.ndarray, gamma: float, thresh: float, max_iter: int, m: int, theta: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, bool]:
        """VI (``m = 0``) / MPI sweeps in one compiled loop until ``sp(Tv - v) <= thresh``.

        Returns ``(v, T v, greedy(v), sweeps, converged)``; ``v`` is a copy of the input, updated.
        """
        v = np.array(v, dtype=np.float64)
        tv = np.empty(self.S)
        pol = np.empty(self.S, dtype=np.int64)
        k, ok = _run(
            self.nthreads, K.span_loop, *self._arrays(), self.R, gamma, v, tv, pol, thresh, max_iter, m, theta
        )
        return v, tv, pol, int(k), bool(ok)

    def policy_step(self, pol: np.ndarray, gamma: float, v: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out = T_pol v`` read in place from the kernel (no gathered chain)."""
        if self.sparse:
            _run(self.nthreads, K.policy_step_csr, *self.csr, self.R, pol, gamma, v, out)
        else:
            _run(self.nthreads, K.policy_step_dense, self.P, self.R, pol, gamma, v, out)
        return out

    def chain(self, pol: np.ndarray) -> Chain:
        """The Markov reward process (P_pi, r_pi) of a deterministic policy."""
        pol = np.ascontiguousarray(pol, dtype=np.int64)
        if self.sparse:
            ptr, idx, dat, rpi = K.gather_policy_csr(*self.csr, self.R, pol)
            return Chain(sp.csr_matrix((dat, idx, ptr), shape=(self.S, self.S)), rpi)
        Ppi = np.empty((self.S, self.S), dtype=self.P.dtype)
        rpi = np.empty(self.S)
        _run(self.nthreads, K.gather_policy_dense, self.P, self.R, pol, Ppi, rpi)
        return Chain(Ppi, rpi)


class Chain:
    """A Markov reward process ``(P_pi, r_pi)``: dense (S, S) or CSR."""

    def __init__(self, P: np.ndarray | sp.csr_matrix, r: np.ndarray) -> None:
        self.P, self.r = P, r
        self.S = r.shape[0]
        self.sparse = sp.issparse(P)

    def evaluate(self, gamma: float, r: np.ndarray | None = None, x0: np.ndarray | None = None) -> np.ndarray:
        r"""Exact :math:`V = (I - \gamma P_\pi)^{-1} r`.

        Dense: LU (LAPACK). Sparse with at most :data:`SPARSE_DIRECT_MAX_S` states: sparse LU (SuperLU).
        Larger sparse chains: BiCGSTAB warm-started at ``x0`` to relative residual 1e-15 (sparse LU of a
        random sparse graph fills in to a dense matrix), falling back to sparse LU if it stalls.
        """
        r = self.r if r is None else r
        if not self.sparse:
            M = -gamma * np.asarray(self.P, dtype=np.float64)
            M[np.diag_indices(self.S)] += 1.0
            return np.linalg.solve(M, r)
        M = (sp.identity(self.S, format="csr") - gamma * self.P).tocsr()
        if self.S > SPARSE_DIRECT_MAX_S:
            x, info = spla.bicgstab(M, r, x0=x0, rtol=1e-15, atol=0.0, maxiter=20 * self.S)
            scale = float(np.max(np.abs(r))) + float(np.max(np.abs(x))) if x.size else 1.0
            if info >= 0 and np.all(np.isfinite(x)) and np.max(np.abs(M @ x - r)) <= 1e-12 * scale:
                return x
        return spla.spsolve(M.tocsc(), r)
