"""Dense/sparse dispatch of the numba kernels behind one small object, shared by every exact solver."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from mdpkit.core import _numba as K

#: Above this many states a sparse policy evaluation uses an iterative Krylov solve instead of sparse LU.
SPARSE_DIRECT_MAX_S = 4000


class Operators:
    """Bellman operators of one stationary stage ``(P, R)``.

    ``P`` is dense (S, A, S) or CSR (S*A, S); ``R`` is (S, A) with ``-inf`` at infeasible pairs.
    """

    def __init__(self, P: np.ndarray | sp.csr_matrix, R: np.ndarray) -> None:
        self.R = np.ascontiguousarray(R, dtype=np.float64)
        self.S, self.A = self.R.shape
        self.sparse = sp.issparse(P)
        if self.sparse:
            self.csr = (P.indptr.astype(np.int64), P.indices.astype(np.int64), P.data)
            self.P = None
        else:
            self.P = np.ascontiguousarray(P)
            self.csr = None

    # T v and greedy(v) in one pass
    def bellman(
        self, v: np.ndarray, gamma: float, out: np.ndarray | None = None, pol: np.ndarray | None = None
    ):
        out = np.empty(self.S) if out is None else out
        pol = np.empty(self.S, dtype=np.int64) if pol is None else pol
        if self.sparse:
            K.bellman_csr(*self.csr, self.R, gamma, v, out, pol)
        else:
            K.bellman_dense(self.P, self.R, gamma, v, out, pol)
        return out, pol

    def q(self, v: np.ndarray, gamma: float) -> np.ndarray:
        Q = np.empty((self.S, self.A))
        if self.sparse:
            K.q_csr(*self.csr, self.R, gamma, v, Q)
        else:
            K.q_dense(self.P, self.R, gamma, v, Q)
        return Q

    def improve(self, v: np.ndarray, pol: np.ndarray, gamma: float, tie: float):
        """Howard improvement step; returns (T v, new policy) keeping ``pol[s]`` on near-ties."""
        out = np.empty(self.S)
        new = np.empty(self.S, dtype=np.int64)
        if self.sparse:
            K.improve_csr(*self.csr, self.R, gamma, v, pol, out, new, tie)
        else:
            K.improve_dense(self.P, self.R, gamma, v, pol, out, new, tie)
        return out, new

    def chain(self, pol: np.ndarray) -> Chain:
        """The Markov reward process (P_pi, r_pi) of a deterministic policy."""
        pol = np.ascontiguousarray(pol, dtype=np.int64)
        if self.sparse:
            ptr, idx, dat, rpi = K.gather_policy_csr(*self.csr, self.R, pol)
            return Chain(sp.csr_matrix((dat, idx, ptr), shape=(self.S, self.S)), rpi)
        Ppi = np.empty((self.S, self.S), dtype=self.P.dtype)
        rpi = np.empty(self.S)
        K.gather_policy_dense(self.P, self.R, pol, Ppi, rpi)
        return Chain(Ppi, rpi)


class Chain:
    """A Markov reward process ``(P_pi, r_pi)``: dense (S, S) or CSR."""

    def __init__(self, P: np.ndarray | sp.csr_matrix, r: np.ndarray) -> None:
        self.P, self.r = P, r
        self.S = r.shape[0]
        self.sparse = sp.issparse(P)

    def step(self, v: np.ndarray, gamma: float, out: np.ndarray | None = None) -> np.ndarray:
        """``r_pi + gamma P_pi v``."""
        out = np.empty(self.S) if out is None else out
        if self.sparse:
            K.chain_step_csr(
                self.P.indptr.astype(np.int64), self.P.indices, self.P.data, self.r, gamma, v, out
            )
        else:
            K.chain_step_dense(self.P, self.r, gamma, v, out)
        return out

    def evaluate(self, gamma: float, r: np.ndarray | None = None) -> np.ndarray:
        r"""Exact :math:`V = (I - \gamma P_\pi)^{-1} r` (LU; Krylov to machine precision for large sparse)."""
        r = self.r if r is None else r
        if not self.sparse:
            M = -gamma * np.asarray(self.P, dtype=np.float64)
            M[np.diag_indices(self.S)] += 1.0
            return np.linalg.solve(M, r)
        M = (sp.identity(self.S, format="csr") - gamma * self.P).tocsc()
        if self.S <= SPARSE_DIRECT_MAX_S:
            return spla.spsolve(M, r)
        # Large sparse: GMRES started from the VI fixed-point guess, then refined to machine precision.
        x, info = spla.gmres(M, r, rtol=1e-14, atol=0.0, restart=50, maxiter=2000)
        if info != 0 or not np.all(np.isfinite(x)):
            x = spla.spsolve(M, r)
        return x
