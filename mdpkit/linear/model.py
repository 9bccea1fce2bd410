r"""Finite-horizon linear MDPs with simplex features (the d-rectangular linear MDP model).

A :class:`LinearMDP` has horizon :math:`H`, states :math:`\mathcal S = \{0, \dots, S-1\}`, actions
:math:`\mathcal A = \{0, \dots, A-1\}` and a known feature map :math:`\phi : \mathcal S \times \mathcal A
\to \Delta_d` (each :math:`\phi(s, a)` a probability vector over :math:`d` factors). At stage :math:`h`

.. math:: r_h(s, a) = \phi(s, a)^\top \theta_h \in [0, 1], \qquad
          P_h(s' \mid s, a) = \sum_{i=1}^d \phi_i(s, a)\, \mu_{h,i}(s'),

with factor distributions :math:`\mu_{h,i} \in \Delta_S`. Because :math:`\phi(s,a)` is in the simplex,
:math:`P_h(\cdot|s,a)` is a mixture of the factors, hence a distribution, for *any* choice of factors:
perturbing each factor inside a ball gives a valid kernel. That is the *d-rectangular* structure of
Ma et al. (2022), Liu & Xu (AISTATS 2024) and the DR-RPO paper (2025), whose uncertainty sets perturb
each :math:`\mu_{h,i}` independently (see :mod:`mdpkit.linear.robust`).

Arrays (see ``ARCHITECTURE.md``): ``phi[s, a, i]`` (S, A, d); ``mu[h, i, s']`` (H, d, S); ``theta[h, i]``
(H, d); kernels ``P[h, s, a, s']`` (H, S, A, S); rewards ``R[h, s, a]`` (H, S, A).

References
----------
Jin, Yang, Wang & Jordan, "Provably efficient reinforcement learning with linear function approximation",
COLT 2020 (linear MDPs).
Ma, Liang, Blanchet, Liu, Xu, Zhou & Zhou, "Distributionally robust offline reinforcement learning with
linear function approximation", arXiv:2209.06620, 2022 (d-rectangular sets).
Liu & Xu, "Distributionally robust off-dynamics reinforcement learning: provable efficiency with linear
function approximation", AISTATS 2024 (DR-LSVI-UCB).
Gu, He, Liu & Xu, "Policy regularized distributionally robust Markov decision processes with linear
function approximation" (DR-RPO), arXiv:2510.14246, 2025 (the model; full text not retrieved here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mdpkit.core import validate as V
from mdpkit.core.model import FiniteHorizonMDP
from mdpkit.errors import InvalidMDPError

__all__ = ["LinearMDP", "REWARD_TOL", "FEATURE_TOL"]

#: Rewards :math:`\phi^\top\theta_h` may leave [0, 1] by at most this much (rounding of the product).
REWARD_TOL = 1e-9
#: Feature rows must sum to 1 within this tolerance (as kernel rows, ``mdpkit.core.validate.ROW_SUM_TOL``).
FEATURE_TOL = V.ROW_SUM_TOL


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, order="C", copy=True)
    a.setflags(write=False)
    return a


def _check_factors(mu: object, H: int, d: int, S: int | None, name: str = "mu") -> np.ndarray:
    """Validate factor distributions: (H, d, S) or stationary (d, S); return a (H, d, S) float64 copy."""
    arr = V.as_float_array(mu, name)
    if arr.ndim == 2:
        arr = np.broadcast_to(arr, (H, *arr.shape))
    if arr.ndim != 3:
        raise InvalidMDPError(f"{name} has shape {arr.shape}, expected (H, d, S) or (d, S)")
    if arr.shape[0] != H or arr.shape[1] != d or (S is not None and arr.shape[2] != S):
        want = f"(H, d, S) = ({H}, {d}, {S if S is not None else 'S'})"
        raise InvalidMDPError(f"{name} has shape {arr.shape}, expected {want}")
    V.check_distribution_rows(arr, name)
    return np.array(arr, dtype=np.float64, order="C", copy=True)


class FeatureSizes:
    """Sizes of a model with features ``phi`` (S, A, d): the :attr:`S`, :attr:`A`, :attr:`d` properties shared
    by :class:`LinearMDP` and :class:`mdpkit.average.LinearAMDP`."""

    phi: np.ndarray

    @property
    def S(self) -> int:
        """Number of states."""
        return int(self.phi.shape[0])

    @property
    def A(self) -> int:
        """Number of actions."""
        return int(self.phi.shape[1])

    @property
    def d(self) -> int:
        """Feature dimension (number of factors of a d-rectangular model)."""
        return int(self.phi.shape[2])


@dataclass(frozen=True, init=False)
class LinearMDP(FeatureSizes):
    r"""A finite-horizon linear MDP with simplex features (d-rectangular linear MDP).

    .. math:: r_h(s,a) = \phi(s,a)^\top\theta_h, \qquad P_h(s'|s,a) = \phi(s,a)^\top \mu_h(s'),
              \qquad h = 0, \dots, H-1.

    Parameters
    ----------
    phi : array (S, A, d)
        Features; every row ``phi[s, a, :]`` must be a probability vector (non-negative, sums to 1).
    mu : array (H, d, S) or (d, S)
        Factor distributions :math:`\mu_{h,i} \in \Delta_S` (``mu[h, i, :]`` sums to 1); a 2-d array is
        used at every stage.
    theta : array (H, d) or (d,)
        Reward parameters; a 1-d array is used at every stage.
    H : int
        Horizon (number of decisions).
    initial : array (S,), optional
        Initial-state distribution (default uniform).
    bounded : bool, default True
        Require :math:`r_h(s,a) \in [0, 1]` (up to :data:`REWARD_TOL`), the standing assumption of the
        d-rectangular theory (TV duals, bonuses). ``False`` only requires finite rewards.

    Raises
    ------
    InvalidMDPError
        A shape mismatch, a feature or factor row that is not a distribution, or a reward out of range;
        the message names the index and the value, e.g. ``phi[2, 1, :] sums to 0.9``.

    Notes
    -----
    The model is frozen: its arrays are private read-only copies. The induced tabular model is
    :meth:`to_finite_horizon`; :meth:`from_tabular` is the one-hot embedding of a tabular model
    (:math:`d = SA`, :math:`\phi(s,a) = e_{(s,a)}`, :math:`\mu_{h,(s,a)} = P_h(\cdot|s,a)`), under which
    the d-rectangular sets are exactly the (s, a)-rectangular sets.
    """

    phi: np.ndarray
    mu: np.ndarray
    theta: np.ndarray
    H: int
    initial: np.ndarray
    bounded: bool

    def __init__(
        self,
        phi: object,
        mu: object,
        theta: object,
        H: int,
        initial: object | None = None,
        bounded: bool = True,
    ) -> None:
        H = V.check_positive_int(H, "H")
        ph = V.check_features(phi)
        S, A, d = ph.shape
        V.check_distribution_rows(ph, "phi", tol=FEATURE_TOL)
        m = _check_factors(mu, H, d, S)
        th = V.as_float_array(theta, "theta")
        if th.ndim == 1:
            th = np.broadcast_to(th, (H, th.shape[0]))
        V.check_shape(th, (H, d), "theta")
        V.check_finite(th, "theta")
        R = np.einsum("sai,hi->hsa", ph, th)
        if bounded:
            bad = (R < -REWARD_TOL) | (R > 1.0 + REWARD_TOL)
            if bad.any():
                h, s, a = (int(x) for x in np.argwhere(bad)[0])
                raise InvalidMDPError(
                    f"reward r_{h}({s}, {a}) = phi[{s}, {a}] . theta[{h}] = {float(R[h, s, a])!r} "
                    "is outside [0, 1] "
                    "(pass bounded=False to allow any finite reward)"
                )
        else:
            V.check_finite(R, "r")
        mu0 = V.check_distribution(
            np.full(S, 1.0 / S) if initial is None else initial, S, "initial", InvalidMDPError
        )
        object.__setattr__(self, "phi", _readonly(ph))
        object.__setattr__(self, "mu", _readonly(m))
        object.__setattr__(self, "theta", _readonly(th))
        object.__setattr__(self, "H", H)
        object.__setattr__(self, "initial", _readonly(mu0))
        object.__setattr__(self, "bounded", bool(bounded))

    def __repr__(self) -> str:
        return f"LinearMDP(S={self.S}, A={self.A}, d={self.d}, H={self.H})"

    # ------------------------------------------------------------------ induced tabular model
    @property
    def R(self) -> np.ndarray:
        r"""Rewards :math:`r_h(s, a) = \phi(s,a)^\top\theta_h`, shape (H, S, A)."""
        return np.einsum("sai,hi->hsa", self.phi, self.theta)

    def kernel(self, mu: object | None = None) -> np.ndarray:
        r"""Transition kernel :math:`P_h(s'|s,a) = \sum_i \phi_i(s,a)\,\mu_{h,i}(s')`, shape (H, S, A, S).

        Parameters
        ----------
        mu : array (H, d, S) or (d, S), optional
            Factors to use instead of the model's (e.g. a perturbed or worst-case choice); validated.

        Returns
        -------
        ndarray (H, S, A, S)
            Rows are distributions because the features are in the simplex.
        """
        m = self.mu if mu is None else _check_factors(mu, self.H, self.d, self.S)
        P = np.einsum("sai,hit->hsat", self.phi, m)
        # rows are convex combinations of distributions; renormalise away the rounding of the sum
        return P / P.sum(axis=-1, keepdims=True)

    def with_factors(self, mu: object) -> LinearMDP:
        r"""The same features, rewards and initial distribution with factors ``mu`` ((H, d, S) or (d, S)).

        Parameters
        ----------
        mu : array (H, d, S) or (d, S)
            New factor distributions (e.g. a member of a d-rectangular ball around :attr:`mu`).

        Returns
        -------
        LinearMDP
        """
        return LinearMDP(self.phi, mu, self.theta, self.H, self.initial, bounded=self.bounded)

    def to_finite_horizon(self, mu: object | None = None) -> FiniteHorizonMDP:
        r"""The tabular finite-horizon MDP the model induces: ``P`` (H, S, A, S) and ``R`` (H, S, A).

        Its :func:`mdpkit.backward_induction` gives the exact nominal values
        :math:`V_h^*(s) = \max_a \{ r_h(s,a) + P_h(\cdot|s,a)^\top V_{h+1}^* \}`, :math:`V_H = 0`.

        Parameters
        ----------
        mu : array (H, d, S) or (d, S), optional
            Factors to use instead of the model's (a perturbed model).

        Returns
        -------
        FiniteHorizonMDP
        """
        return FiniteHorizonMDP(self.kernel(mu), self.R, self.H, initial=self.initial)

    @classmethod
    def from_tabular(cls, fh: FiniteHorizonMDP, bounded: bool = True) -> LinearMDP:
        r"""One-hot embedding of a tabular finite-horizon MDP: :math:`d = SA`.

        .. math:: \phi(s, a) = e_{sA + a}, \qquad \mu_{h, sA+a} = P_h(\cdot|s, a), \qquad
                  \theta_{h, sA+a} = r_h(s, a).

        Then :meth:`to_finite_horizon` returns ``fh`` back (same ``P``, ``R``, ``initial``), and a
        d-rectangular ball around each factor is the (s, a)-rectangular ball around ``P_h(.|s, a)``.

        Parameters
        ----------
        fh : FiniteHorizonMDP
            Every pair feasible and zero terminal reward (a linear MDP has neither masks nor terminal
            rewards).
        bounded : bool, default True
            Require rewards in [0, 1] (see :class:`LinearMDP`).

        Returns
        -------
        LinearMDP

        Raises
        ------
        InvalidMDPError
            ``fh`` has an infeasible pair, a non-zero terminal reward, or (with ``bounded``) a reward
            outside [0, 1].
        """
        if not isinstance(fh, FiniteHorizonMDP):
            raise InvalidMDPError(f"from_tabular needs a FiniteHorizonMDP, got {type(fh).__name__}")
        if not fh.mask.all():
            h, s, a = (int(x) for x in np.argwhere(~fh.mask)[0])
            raise InvalidMDPError(f"pair (h={h}, s={s}, a={a}) is infeasible; a linear MDP has no masks")
        if np.any(fh.terminal != 0):
            s = int(np.flatnonzero(fh.terminal)[0])
            raise InvalidMDPError(
                f"terminal[{s}] = {float(fh.terminal[s])!r}; the embedding needs zero terminal reward"
            )
        H, S, A = fh.H, fh.S, fh.A
        P = np.stack([_dense(fh.P_at(h), S, A) for h in range(H)])
        phi = np.eye(S * A).reshape(S, A, S * A)
        mu = P.reshape(H, S * A, S)
        theta = np.asarray(fh.R, dtype=np.float64).reshape(H, S * A)
        return cls(phi, mu, theta, H, fh.initial, bounded=bounded)


def _dense(P: object, S: int, A: int) -> np.ndarray:
    if hasattr(P, "toarray"):
        return np.asarray(P.toarray(), dtype=np.float64).reshape(S, A, S)
    return np.asarray(P, dtype=np.float64).reshape(S, A, S)
