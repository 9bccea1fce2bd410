"""The data model: tabular MDPs (discounted / average reward) and finite-horizon MDPs.

Conventions (see ``ARCHITECTURE.md``):

* ``P[s, a, s']`` is a dense float array of shape (S, A, S), or a ``scipy.sparse.csr_matrix`` of shape
  (S*A, S) whose row ``s*A + a`` is the next-state distribution of the pair (s, a);
* ``R[s, a]`` is the expected one-step reward; a reward ``R[s, a, s']`` is reduced on construction to
  ``R[s, a] = sum_s' P[s, a, s'] R[s, a, s']``;
* an infeasible pair (s, a) (state-dependent action sets) is marked by ``mask[s, a] = False`` or by
  ``R[s, a] = -inf`` (as QuantEcon's ``DiscreteDP`` does). Internally its reward is ``-inf`` and its
  transition row a self-loop, so every Bellman backup ignores it without a special case.

Models are frozen: their arrays are private read-only copies, so a model cannot change under a solver.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from mdpkit.core import validate as V
from mdpkit.errors import InvalidMDPError

__all__ = ["TabularMDP", "FiniteHorizonMDP", "deterministic_to_stochastic"]


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _as_csr(P: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    csr = sp.csr_matrix(P, dtype=np.float64, copy=True)
    csr.sum_duplicates()
    csr.sort_indices()
    return csr


def _prepare_kernel(P: object, name: str = "P") -> tuple[np.ndarray | sp.csr_matrix, int, int]:
    """Convert a kernel to a private float64 copy (dense C-contiguous (S, A, S) or canonical CSR)."""
    if sp.issparse(P):
        Pc = _as_csr(P)
        S = Pc.shape[1]
        if S == 0 or Pc.shape[0] % S:
            raise InvalidMDPError(f"{name} (CSR) has shape {Pc.shape}; expected (S*A, S)")
        A = Pc.shape[0] // S
    else:
        Pc = V.as_float_array(P, name)
        if Pc.ndim != 3 or Pc.shape[0] != Pc.shape[2]:
            raise InvalidMDPError(f"{name} has shape {Pc.shape}, expected (S, A, S)")
        S, A = Pc.shape[0], Pc.shape[1]
        Pc = np.array(Pc, dtype=np.float64, order="C", copy=True)
    if S == 0 or A == 0:
        raise InvalidMDPError(f"{name} has S={S} states and A={A} actions; need at least one of each")
    return Pc, S, A


def _prepare_reward(
    R: object, P: np.ndarray | sp.csr_matrix, S: int, A: int, mask: object, name: str = "R"
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a reward and a mask of one stage; return (r (S, A) with -inf at infeasible pairs, mask)."""
    Ra = V.as_float_array(R, name)
    if Ra.ndim == 3:
        V.check_shape(Ra, (S, A, S), name)
        V.check_finite(Ra, name)
    elif Ra.ndim == 2:
        V.check_shape(Ra, (S, A), name)
        V.check_finite(Ra, name, allow_neg_inf=True)
    else:
        raise InvalidMDPError(f"{name} has shape {Ra.shape}, expected (S, A) or (S, A, S)")
    if mask is None:
        m = np.ones((S, A), dtype=bool)
    else:
        m = np.array(mask, dtype=bool, copy=True)
        if m.shape != (S, A):
            raise InvalidMDPError(f"mask has shape {m.shape}, expected (S, A) = ({S}, {A})")
    if Ra.ndim == 2:
        m &= ~np.isneginf(Ra)
        r = np.array(Ra, dtype=np.float64, copy=True)
    elif sp.issparse(P):  # reduce R[s, a, s'] to r[s, a] = sum_s' P[s, a, s'] R[s, a, s']
        rows = np.repeat(np.arange(S * A), np.diff(P.indptr))
        flat = Ra.reshape(S * A, S)[rows, P.indices] * P.data
        r = np.bincount(rows, weights=flat, minlength=S * A).reshape(S, A)
    else:
        r = np.einsum("ijk,ijk->ij", P, Ra)
    V.check_feasible_states(m)
    r[~m] = -np.inf
    return r, m


def _finalize_kernel(P: np.ndarray | sp.csr_matrix, S: int, A: int, infeasible: np.ndarray, name: str = "P"):
    """Validate the rows of feasible pairs; make the rows of never-feasible pairs self-loops."""
    if sp.issparse(P):
        V.check_csr_rows(P, S, A, name, infeasible)
    else:
        V.check_distribution_rows(P, name, skip=infeasible)
    if not infeasible.any():
        return P
    ss, aa = np.nonzero(infeasible)
    if sp.issparse(P):
        lil = P.tolil()
        for s, a in zip(ss, aa, strict=True):
            lil.rows[s * A + a] = [int(s)]
            lil.data[s * A + a] = [1.0]
        return _as_csr(lil)
    P[ss, aa, :] = 0.0
    P[ss, aa, ss] = 1.0
    return P


def _prepare_kernel_and_reward(
    P: object, R: object, mask: object
) -> tuple[np.ndarray | sp.csr_matrix, np.ndarray, np.ndarray]:
    """Validate one (P, R, mask) triple of a stationary model; return (P, R with -inf, mask)."""
    Pc, S, A = _prepare_kernel(P)
    r, m = _prepare_reward(R, Pc, S, A, mask)
    return _finalize_kernel(Pc, S, A, ~m), r, m


def _check_initial(initial: object, S: int) -> np.ndarray:
    if initial is None:
        return np.full(S, 1.0 / S)
    return V.check_distribution(initial, S, "initial")


@dataclass(frozen=True, eq=False, init=False)
class TabularMDP:
    r"""A finite MDP :math:`(\mathcal S, \mathcal A, P, r, \gamma, \mu)`.

    Parameters
    ----------
    P : ndarray (S, A, S) or scipy CSR (S*A, S)
        Transition kernel, ``P[s, a, s'] = Pr(s_{t+1} = s' | s_t = s, a_t = a)``. Rows sum to 1 within
        :data:`mdpkit.core.validate.ROW_SUM_TOL`; rows of infeasible pairs are not checked.
    R : ndarray (S, A) or (S, A, S)
        Expected reward ``r(s, a)``, or ``R[s, a, s']`` reduced to ``r(s, a) = sum_s' P[s,a,s'] R[s,a,s']``.
        ``-inf`` marks an infeasible pair.
    gamma : float or None
        Discount factor in [0, 1]. Discounted solvers need ``gamma < 1``; average-reward solvers ignore it.
    initial : ndarray (S,), optional
        Initial distribution :math:`\mu` (default uniform), used by scalar objectives
        :math:`J(\pi) = \mu^\top V^\pi` and occupancy measures.
    mask : bool ndarray (S, A), optional
        Feasible actions (``False`` = infeasible). Every state needs at least one feasible action.

    Attributes
    ----------
    P, R, gamma, initial, mask
        Validated read-only copies; ``R`` holds ``-inf`` at infeasible pairs whose ``P`` row is a self-loop.

    References
    ----------
    Puterman, *Markov Decision Processes* (1994), chapters 2, 6 and 8.
    """

    P: np.ndarray | sp.csr_matrix
    R: np.ndarray
    gamma: float | None
    initial: np.ndarray
    mask: np.ndarray
    _rows: object = field(repr=False)

    def __init__(
        self,
        P: np.ndarray | sp.spmatrix,
        R: np.ndarray,
        gamma: float | None = None,
        initial: np.ndarray | None = None,
        mask: np.ndarray | None = None,
    ) -> None:
        Pc, r, m = _prepare_kernel_and_reward(P, R, mask)
        g = None if gamma is None else V.check_gamma(gamma)
        S = r.shape[0]
        mu = _check_initial(initial, S)
        if sp.issparse(Pc):
            for arr in (Pc.data, Pc.indices, Pc.indptr):
                arr.setflags(write=False)
            rows = Pc
        else:
            _readonly(Pc)
            rows = Pc.reshape(S * r.shape[1], S)
        object.__setattr__(self, "P", Pc)
        object.__setattr__(self, "R", _readonly(r))
        object.__setattr__(self, "gamma", g)
        object.__setattr__(self, "initial", _readonly(mu))
        object.__setattr__(self, "mask", _readonly(m))
        object.__setattr__(self, "_rows", rows)

    # ----------------------------------------------------------------- shape helpers
    @property
    def S(self) -> int:
        """Number of states."""
        return int(self.R.shape[0])

    @property
    def A(self) -> int:
        """Number of actions (the same set in every state; see ``mask`` for state-dependent sets)."""
        return int(self.R.shape[1])

    @property
    def is_sparse(self) -> bool:
        """Whether ``P`` is stored as a CSR matrix of shape (S*A, S)."""
        return sp.issparse(self.P)

    @property
    def nnz(self) -> int:
        """Number of stored transition probabilities (S*A*S when dense)."""
        return int(self.P.nnz) if self.is_sparse else int(self.P.size)

    @property
    def P_rows(self) -> np.ndarray | sp.csr_matrix:
        """The kernel as a matrix of shape (S*A, S) (a view for dense P, the CSR itself when sparse)."""
        return self._rows

    @property
    def R_finite(self) -> np.ndarray:
        """``R`` with infeasible entries replaced by 0 (for sums weighted by a feasible policy)."""
        return np.where(self.mask, self.R, 0.0)

    def __repr__(self) -> str:
        kind = f"CSR nnz={self.nnz}" if self.is_sparse else "dense"
        infeasible = int((~self.mask).sum())
        extra = f", infeasible pairs={infeasible}" if infeasible else ""
        return f"TabularMDP(S={self.S}, A={self.A}, gamma={self.gamma}, P {kind}{extra})"

    # ----------------------------------------------------------------- conversions
    def with_gamma(self, gamma: float | None) -> TabularMDP:
        """The same model with another discount factor."""
        return TabularMDP(self.P, self.R, gamma, self.initial, self.mask)

    def with_initial(self, initial: np.ndarray) -> TabularMDP:
        """The same model with another initial distribution."""
        return TabularMDP(self.P, self.R, self.gamma, initial, self.mask)

    def to_dense(self) -> TabularMDP:
        """A copy with a dense kernel of shape (S, A, S)."""
        if not self.is_sparse:
            return self
        return TabularMDP(self.dense_P(), self.R, self.gamma, self.initial, self.mask)

    def to_sparse(self) -> TabularMDP:
        """A copy with a CSR kernel of shape (S*A, S)."""
        if self.is_sparse:
            return self
        return TabularMDP(sp.csr_matrix(self.P_rows), self.R, self.gamma, self.initial, self.mask)

    def dense_P(self) -> np.ndarray:
        """The kernel as a dense array of shape (S, A, S) (a read-only view when already dense)."""
        if self.is_sparse:
            return self.P.toarray().reshape(self.S, self.A, self.S)
        return self.P

    # ----------------------------------------------------------------- policy-induced chain
    def policy_matrix(self, policy: np.ndarray) -> np.ndarray:
        """Validate ``policy`` (int (S,) or stochastic (S, A)) and return it as a stochastic (S, A) matrix."""
        return V.check_policy(policy, self.mask)

    def transition_matrix(self, policy: np.ndarray) -> np.ndarray | sp.csr_matrix:
        r"""The Markov chain of a stationary policy, :math:`P_\pi[s, s'] = \sum_a \pi(a|s) P(s'|s, a)`.

        Returns a dense (S, S) array, or CSR when the model is sparse.
        """
        pi = self.policy_matrix(policy)
        if self.is_sparse:
            W = sp.csr_matrix(
                (pi.ravel(), (np.repeat(np.arange(self.S), self.A), np.arange(self.S * self.A))),
                shape=(self.S, self.S * self.A),
            )
            return (W @ self.P).tocsr()
        return np.einsum("sa,sat->st", pi, self.P)

    def reward_vector(self, policy: np.ndarray) -> np.ndarray:
        r"""The expected reward of a stationary policy, :math:`r_\pi[s] = \sum_a \pi(a|s) r(s, a)`."""
        pi = self.policy_matrix(policy)
        return np.einsum("sa,sa->s", pi, self.R_finite)

    # ----------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write the model to an ``.npz`` file atomically; refuse to replace an existing file unless asked.

        The file holds ``P`` (dense) or ``P_data/P_indices/P_indptr/P_shape`` (CSR), ``R`` (with ``-inf`` at
        infeasible pairs), ``gamma`` (NaN for None), ``initial`` and ``mask``.
        """
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(path.suffix + ".npz")
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        arrays: dict[str, np.ndarray] = {
            "R": self.R,
            "gamma": np.array(np.nan if self.gamma is None else self.gamma),
            "initial": self.initial,
            "mask": self.mask,
        }
        if self.is_sparse:
            arrays |= {
                "P_data": self.P.data,
                "P_indices": self.P.indices,
                "P_indptr": self.P.indptr,
                "P_shape": np.array(self.P.shape),
            }
        else:
            arrays["P"] = self.P
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(fh, **arrays)
            if path.exists() and not overwrite:  # re-check: never clobber a file created meanwhile
                raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> TabularMDP:
        """Read a model written by :meth:`save` (or any ``.npz`` with arrays ``P``, ``R`` and ``gamma``)."""
        with np.load(path, allow_pickle=False) as f:
            keys = set(f.files)
            if "P" in keys:
                P = f["P"]
            elif {"P_data", "P_indices", "P_indptr", "P_shape"} <= keys:
                P = sp.csr_matrix((f["P_data"], f["P_indices"], f["P_indptr"]), shape=tuple(f["P_shape"]))
            else:
                raise InvalidMDPError(
                    f"{path} holds no array 'P' (nor a CSR 'P_data/P_indices/P_indptr/P_shape')"
                )
            if "R" not in keys:
                raise InvalidMDPError(f"{path} holds no array 'R'")
            gamma = float(f["gamma"]) if "gamma" in keys else None
            if gamma is not None and np.isnan(gamma):
                gamma = None
            initial = f["initial"] if "initial" in keys else None
            mask = f["mask"] if "mask" in keys else None
            return cls(P, f["R"], gamma, initial, mask)


@dataclass(frozen=True, eq=False, init=False)
class FiniteHorizonMDP:
    r"""A finite-horizon MDP with stages :math:`h = 0, \dots, H-1`.

    Parameters
    ----------
    P : ndarray (H, S, A, S) or (S, A, S), or a CSR (S*A, S) for a stationary kernel
        Time-indexed or stationary transition kernel.
    R : ndarray (H, S, A), (S, A), (H, S, A, S) or (S, A, S)
        Time-indexed or stationary rewards; ``R[..., s']`` forms are reduced with ``P``. A 3-d ``R`` is read
        as (H, S, A) whenever that shape fits (also when H = S = A), and as (S, A, S) otherwise; pass a 4-d
        (H, S, A, S) reward to force the transition-dependent reading.
    H : int
        Horizon (number of decisions).
    initial : ndarray (S,), optional
        Initial distribution (default uniform).
    terminal : ndarray (S,), optional
        Terminal reward :math:`V_H(s)` (default 0).
    mask : bool ndarray (S, A) or (H, S, A), optional
        Feasible actions.

    Attributes
    ----------
    P : list-like access through :meth:`P_at`; ``R`` is always (H, S, A) with ``-inf`` at infeasible pairs.

    References
    ----------
    Puterman (1994), chapter 4 (finite-horizon MDPs, backward induction).
    """

    P: np.ndarray | sp.csr_matrix
    R: np.ndarray
    H: int
    initial: np.ndarray
    terminal: np.ndarray
    mask: np.ndarray
    stationary: bool

    def __init__(
        self,
        P: np.ndarray | sp.spmatrix,
        R: np.ndarray,
        H: int,
        initial: np.ndarray | None = None,
        terminal: np.ndarray | None = None,
        mask: np.ndarray | None = None,
    ) -> None:
        H = V.check_positive_int(H, "H")
        stationary = sp.issparse(P) or np.ndim(P) == 3
        if not stationary and np.ndim(P) != 4:
            raise InvalidMDPError(
                f"P has shape {np.shape(P)}, expected (H, S, A, S), (S, A, S) or CSR (S*A, S)"
            )
        if not stationary and np.shape(P)[0] != H:
            raise InvalidMDPError(f"P has {np.shape(P)[0]} stages, expected H = {H}")
        Ra = V.as_float_array(R, "R")
        if sp.issparse(P):
            S = P.shape[1]
            A = P.shape[0] // S if S else 0
        else:
            S, A = np.shape(P)[-3], np.shape(P)[-2]
        # interpret the reward's axes
        if Ra.ndim == 2:
            Rh = [Ra] * H
        elif Ra.ndim == 4:
            V.check_shape(Ra, (H, S, A, S), "R")
            Rh = list(Ra)
        elif Ra.ndim == 3:
            fits_t, fits_sas = Ra.shape == (H, S, A), Ra.shape == (S, A, S)
            if fits_t:
                Rh = list(Ra)
            elif fits_sas:
                Rh = [Ra] * H
            else:
                raise InvalidMDPError(
                    f"R has shape {Ra.shape}, expected (H, S, A) = ({H}, {S}, {A}) or (S, A, S)"
                )
        else:
            raise InvalidMDPError(
                f"R has shape {Ra.shape}, expected (H, S, A), (S, A), (H, S, A, S) or (S, A, S)"
            )
        if mask is None:
            masks = np.ones((H, S, A), dtype=bool)
        else:
            m = np.asarray(mask, dtype=bool)
            if m.shape == (S, A):
                masks = np.broadcast_to(m, (H, S, A))
            elif m.shape == (H, S, A):
                masks = m
            else:
                raise InvalidMDPError(
                    f"mask has shape {m.shape}, expected (S, A) = ({S}, {A}) or (H, S, A) = ({H}, {S}, {A})"
                )
        if stationary:
            Pst, S, A = _prepare_kernel(P)
            Rs, Ms = [], []
            for h in range(H):
                try:
                    r, m = _prepare_reward(Rh[h], Pst, S, A, masks[h])
                except InvalidMDPError as exc:
                    if len(Rh) == 1 or (Rh[0] is Rh[-1] and masks.strides[0] == 0):
                        raise  # reward and mask are stationary: no stage to name
                    raise InvalidMDPError(f"stage h={h}: {exc}") from None
                Rs.append(r)
                Ms.append(m)
            Pst = _finalize_kernel(Pst, S, A, ~np.any(Ms, axis=0))
        else:
            Ps, Rs, Ms = [], [], []
            for h in range(H):
                try:
                    Pc, r, m = _prepare_kernel_and_reward(np.asarray(P)[h], Rh[h], masks[h])
                except InvalidMDPError as exc:
                    raise InvalidMDPError(f"stage h={h}: {exc}") from None
                Ps.append(Pc)
                Rs.append(r)
                Ms.append(m)
            Pst = np.stack(Ps)
        if sp.issparse(Pst):
            for arr in (Pst.data, Pst.indices, Pst.indptr):
                arr.setflags(write=False)
        else:
            _readonly(Pst)
        object.__setattr__(self, "P", Pst)
        object.__setattr__(self, "R", _readonly(np.stack(Rs)))
        object.__setattr__(self, "H", H)
        object.__setattr__(self, "initial", _readonly(_check_initial(initial, S)))
        if terminal is None:
            term = np.zeros(S)
        else:
            term = np.array(V.as_float_array(terminal, "terminal"), copy=True)
            V.check_shape(term, (S,), "terminal")
            V.check_finite(term, "terminal")
        object.__setattr__(self, "terminal", _readonly(term))
        object.__setattr__(self, "mask", _readonly(np.stack(Ms)))
        object.__setattr__(self, "stationary", stationary)

    @property
    def S(self) -> int:
        return int(self.R.shape[1])

    @property
    def A(self) -> int:
        return int(self.R.shape[2])

    def P_at(self, h: int) -> np.ndarray | sp.csr_matrix:
        """The kernel of stage ``h``: dense (S, A, S) or CSR (S*A, S)."""
        return self.P if self.stationary else self.P[h]

    def P_rows_at(self, h: int) -> np.ndarray | sp.csr_matrix:
        """The kernel of stage ``h`` as a matrix of shape (S*A, S)."""
        Ph = self.P_at(h)
        return Ph if sp.issparse(Ph) else Ph.reshape(self.S * self.A, self.S)

    def __repr__(self) -> str:
        kind = "stationary" if self.stationary else "time-indexed"
        return f"FiniteHorizonMDP(S={self.S}, A={self.A}, H={self.H}, P {kind})"

    @classmethod
    def from_tabular(cls, mdp: TabularMDP, H: int, terminal: np.ndarray | None = None) -> FiniteHorizonMDP:
        """The H-step truncation of a stationary model (rewards undiscounted)."""
        return cls(mdp.P, mdp.R, H, initial=mdp.initial, terminal=terminal, mask=mdp.mask)


def deterministic_to_stochastic(policy: np.ndarray, A: int) -> np.ndarray:
    """One-hot encode a deterministic policy ``pi[..., s]`` (ints) into ``pi[..., s, a]``."""
    policy = np.asarray(policy, dtype=np.int64)
    out = np.zeros((*policy.shape, A))
    np.put_along_axis(out, policy[..., None], 1.0, axis=-1)
    return out
