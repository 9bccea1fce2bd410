r"""Uncertainty sets of transition kernels and their robust Bellman operators.

A robust MDP replaces the kernel :math:`P` by a set :math:`\mathcal U` of kernels. The sets here:

* :class:`L1Ball` — :math:`\prod_{s,a}\{q \in \Delta : \|q - \bar P_{sa}\|_1 \le \kappa_{sa}\}`,
  (s, a)-rectangular;
* :class:`LinfBall` — :math:`\prod_{s,a}\{q \in \Delta : \|q - \bar P_{sa}\|_\infty \le \kappa_{sa}\}`,
  (s, a)-rectangular;
* :class:`KLBall` — :math:`\prod_{s,a}\{q \in \Delta : \mathrm{KL}(q\|\bar P_{sa}) \le \delta_{sa}\}`,
  (s, a)-rectangular;
* :class:`SL1Ball` — :math:`\prod_{s}\{(q_a)_a : \sum_a \|q_a - \bar P_{sa}\|_1 \le \kappa_s\}`,
  s-rectangular;
* :class:`FiniteSet` — :math:`\{P_1, \dots, P_K\}`, static, not rectangular;
* :class:`RectangularHull` — :math:`\prod_{s,a} \{P_1(\cdot|s,a), \dots, P_K(\cdot|s,a)\}`,
  (s, a)-rectangular.

(Wiesemann, Kuhn & Rustem 2013 for the rectangularity notions; Iyengar 2005 and Nilim & El Ghaoui 2005
for (s, a)-rectangular robust dynamic programming; Ho, Petrik & Wiesemann 2018 for s-rectangular L1 sets.)

Every set exposes the operators the solvers need, at a value vector ``v`` (``R`` the (S, A) rewards with
``-inf`` at infeasible pairs):

* ``q(R, gamma, v)`` — :math:`Q(s,a) = r(s,a) + \gamma \min_{q \in \mathcal U_{sa}} q^\top v` (for an
  s-rectangular set: the value of committing to ``a``, i.e. the whole budget :math:`\kappa_s` on ``a``);
* ``bellman(R, gamma, v)`` — the robust optimality backup :math:`(Tv, \pi)`; :math:`\pi` is a stochastic
  (S, A) matrix (one-hot for (s, a)-rectangular sets, randomised for s-rectangular ones);
* ``policy_backup(R, gamma, v, pi)`` — :math:`(T^\pi v)(s) = \min_{P_s \in \mathcal U_s} \sum_a
  \pi(a|s)(r(s,a) + \gamma P_{sa}^\top v)`;
* ``worst_kernel(R, v, pi)`` — a minimiser :math:`P \in \mathcal U` of the last expression, shape (S, A, S).

A :class:`FiniteSet` is the *static* model (one kernel for a whole episode); its dynamic (Bellman)
operators are those of its (s, a)-rectangular hull, the set the dynamic adversary effectively plays in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from mdpkit.core import validate as V
from mdpkit.core._ops import _run, _threads
from mdpkit.core.model import TabularMDP
from mdpkit.errors import InvalidArgumentError, InvalidMDPError
from mdpkit.robust import _numba as K
from mdpkit.robust.inner import check_radius

__all__ = [
    "UncertaintySet",
    "L1Ball",
    "LinfBall",
    "KLBall",
    "SL1Ball",
    "FiniteSet",
    "RectangularHull",
    "as_kernel",
]


def as_kernel(P: object, name: str = "P") -> np.ndarray:
    """A validated dense float64 copy (S, A, S) of a kernel (array, CSR (S*A, S) or a TabularMDP)."""
    if isinstance(P, TabularMDP):
        return np.array(P.dense_P(), dtype=np.float64, order="C")
    if hasattr(P, "toarray"):
        S = P.shape[1]
        arr = np.asarray(P.toarray(), dtype=np.float64).reshape(-1, S)
        if arr.shape[0] % S:
            raise InvalidMDPError(f"{name} (CSR) has shape {P.shape}; expected (S*A, S)")
        arr = arr.reshape(S, -1, S)
    else:
        arr = V.as_float_array(P, name)
    if arr.ndim != 3 or arr.shape[0] != arr.shape[2] or arr.shape[1] == 0:
        raise InvalidMDPError(f"{name} has shape {arr.shape}, expected (S, A, S)")
    V.check_distribution_rows(arr, name)
    return np.array(arr, dtype=np.float64, order="C", copy=True)


def _onehot(pol: np.ndarray, A: int) -> np.ndarray:
    D = np.zeros((pol.shape[0], A))
    D[np.arange(pol.shape[0]), pol] = 1.0
    return D


def _greedy(Q: np.ndarray) -> np.ndarray:
    """First maximiser per row (``-inf`` entries never win unless a row is all ``-inf``)."""
    return np.argmax(Q, axis=1).astype(np.int64)


class UncertaintySet(ABC):
    """Base class: a set of kernels over S states and A actions with its robust Bellman operators."""

    #: ``"sa"``, ``"s"`` or ``"none"`` (a static, non-rectangular set).
    rectangularity: str = "sa"
    nominal: np.ndarray

    @property
    def S(self) -> int:
        """Number of states."""
        return int(self.nominal.shape[0])

    @property
    def A(self) -> int:
        """Number of actions."""
        return int(self.nominal.shape[1])

    def check_model(self, mdp: TabularMDP) -> None:
        """Raise unless ``mdp`` has the set's number of states and actions."""
        if (mdp.S, mdp.A) != (self.S, self.A):
            raise InvalidArgumentError(
                f"the uncertainty set is over S={self.S}, A={self.A}; the model has S={mdp.S}, A={mdp.A}"
            )

    @abstractmethod
    def q(self, R: np.ndarray, gamma: float, v: np.ndarray) -> np.ndarray:
        r""":math:`Q(s,a) = r(s,a) + \gamma \min_{q \in \mathcal U_{sa}} q^\top v`, shape (S, A)."""

    def bellman(self, R: np.ndarray, gamma: float, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""Robust optimality backup: :math:`(Tv)(s) = \max_a Q(s, a)` and the greedy one-hot policy."""
        Q = self.q(R, gamma, v)
        pol = _greedy(Q)
        return Q[np.arange(self.S), pol], _onehot(pol, self.A)

    def policy_backup(self, R: np.ndarray, gamma: float, v: np.ndarray, pi: np.ndarray) -> np.ndarray:
        r""":math:`(T^\pi v)(s) = \sum_a \pi(a|s) Q(s, a)` ((s, a)-rectangular: the adversary is per pair)."""
        Q = self.q(R, gamma, v)
        return np.sum(np.where(pi > 0, pi * np.where(np.isfinite(Q), Q, 0.0), 0.0), axis=1)

    @abstractmethod
    def worst_kernel(self, R: np.ndarray, v: np.ndarray, pi: np.ndarray | None = None) -> np.ndarray:
        r"""A kernel :math:`P \in \mathcal U` minimising :math:`P_{sa}^\top v` (given ``pi`` for s-sets)."""

    @abstractmethod
    def contains(self, P: object, tol: float = 1e-9) -> bool:
        """Whether the kernel ``P`` (S, A, S) lies in the set (up to ``tol``)."""


class _SABall(UncertaintySet):
    kind: int = K.L1
    name: str = "l1"

    def __init__(self, nominal: object, radius: object) -> None:
        self.nominal = as_kernel(nominal, "nominal")
        self.radius = check_radius(radius, (self.S, self.A), self.name)

    def __repr__(self) -> str:
        r = self.radius
        rr = f"{r.flat[0]:g}" if np.all(r == r.flat[0]) else f"[{r.min():g}, {r.max():g}]"
        return f"{type(self).__name__}(S={self.S}, A={self.A}, radius={rr})"

    def q(self, R: np.ndarray, gamma: float, v: np.ndarray) -> np.ndarray:
        Q = np.empty((self.S, self.A))
        _run(
            _threads(self.nominal.size),
            K.q_sa,
            self.kind,
            self.nominal,
            R,
            gamma,
            np.ascontiguousarray(v, dtype=np.float64),
            self.radius,
            Q,
        )
        return Q

    def policy_backup(self, R: np.ndarray, gamma: float, v: np.ndarray, pi: np.ndarray) -> np.ndarray:
        pol = np.argmax(pi, axis=1)
        if not np.all(pi[np.arange(self.S), pol] == 1.0):  # randomised: average the pairs' robust Q
            return super().policy_backup(R, gamma, v, pi)
        out = np.empty(self.S)
        _run(
            _threads(self.nominal.size // self.A),
            K.policy_backup_sa,
            self.kind,
            self.nominal,
            R,
            gamma,
            np.ascontiguousarray(v, dtype=np.float64),
            self.radius,
            pol.astype(np.int64),
            out,
        )
        return out

    def worst_kernel(self, R: np.ndarray, v: np.ndarray, pi: np.ndarray | None = None) -> np.ndarray:
        Pw = np.empty_like(self.nominal)
        _run(
            _threads(self.nominal.size),
            K.kernel_sa,
            self.kind,
            self.nominal,
            R,
            np.ascontiguousarray(v, dtype=np.float64),
            self.radius,
            Pw,
        )
        return Pw

    def _dist(self, P: np.ndarray) -> np.ndarray:
        return np.abs(P - self.nominal).sum(axis=-1)

    def contains(self, P: object, tol: float = 1e-9) -> bool:
        P = np.asarray(P, dtype=np.float64)
        if P.shape != self.nominal.shape or np.any(P < -tol) or np.any(np.abs(P.sum(-1) - 1) > tol):
            return False
        return bool(np.all(self._dist(P) <= self.radius + tol))


class L1Ball(_SABall):
    r"""(s, a)-rectangular L1 ball :math:`\{P : \|P_{sa} - \bar P_{sa}\|_1 \le \kappa_{sa}\ \forall s,a\}`.

    Parameters
    ----------
    nominal : array (S, A, S), CSR or TabularMDP
        The nominal kernel :math:`\bar P`.
    radius : float or array broadcastable to (S, A), each in [0, 2]

    References
    ----------
    Iyengar (2005); Ho, Petrik & Wiesemann, "Fast Bellman updates for robust MDPs", ICML 2018.
    """

    kind = K.L1
    name = "l1"


class LinfBall(_SABall):
    r"""(s, a)-rectangular L-infinity ball :math:`\{P : |P(s'|s,a) - \bar P(s'|s,a)| \le \kappa_{sa}\}`,
    radius in [0, 1] (an interval-MDP with symmetric intervals; Givan, Leach & Dean 2000)."""

    kind = K.LINF
    name = "linf"

    def _dist(self, P: np.ndarray) -> np.ndarray:
        return np.abs(P - self.nominal).max(axis=-1)


class KLBall(_SABall):
    r"""(s, a)-rectangular KL ball :math:`\{P : \mathrm{KL}(P_{sa}\|\bar P_{sa}) \le \delta_{sa}\}`, radius
    finite and :math:`\ge 0` (Nilim & El Ghaoui 2005; Iyengar 2005)."""

    kind = K.KL
    name = "kl"

    def _dist(self, P: np.ndarray) -> np.ndarray:
        out = np.zeros(P.shape[:2])
        pos = P > 0
        if np.any(pos & (self.nominal <= 0)):
            return np.full(P.shape[:2], np.inf)
        ratio = np.where(pos, P / np.where(self.nominal > 0, self.nominal, 1.0), 1.0)
        out = np.sum(np.where(pos, P * np.log(ratio), 0.0), axis=-1)
        return out


class SL1Ball(UncertaintySet):
    r"""s-rectangular L1 set :math:`\{P : \sum_a \|P_{sa} - \bar P_{sa}\|_1 \le \kappa_s\ \forall s\}`.

    The adversary shares a budget :math:`\kappa_s \in [0, 2A]` across the actions of a state, so optimal
    robust policies may randomise; the backup is the exact max-min of
    :func:`mdpkit.robust.inner.worst_case_s_l1` (Ho, Petrik & Wiesemann 2018; Wiesemann, Kuhn & Rustem
    2013).
    """

    rectangularity = "s"

    def __init__(self, nominal: object, radius: object) -> None:
        self.nominal = as_kernel(nominal, "nominal")
        self.radius = check_radius(radius, (self.S,), f"s_l1:{2 * self.A}")

    def __repr__(self) -> str:
        return f"SL1Ball(S={self.S}, A={self.A}, radius in [{self.radius.min():g}, {self.radius.max():g}])"

    def q(self, R: np.ndarray, gamma: float, v: np.ndarray) -> np.ndarray:
        r"""Value of committing to ``a`` at ``s``: the whole budget goes to ``a``, an L1 ball of radius
        :math:`\min(\kappa_s, 2)`."""
        Q = np.empty((self.S, self.A))
        rad = np.ascontiguousarray(np.broadcast_to(np.minimum(self.radius, 2.0)[:, None], (self.S, self.A)))
        _run(
            _threads(self.nominal.size),
            K.q_sa,
            K.L1,
            self.nominal,
            R,
            gamma,
            np.ascontiguousarray(v, dtype=np.float64),
            rad,
            Q,
        )
        return Q

    def bellman(self, R: np.ndarray, gamma: float, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = np.empty(self.S)
        D = np.empty((self.S, self.A))
        _run(
            _threads(self.nominal.size),
            K.bellman_s_l1,
            self.nominal,
            R,
            gamma,
            np.ascontiguousarray(v, dtype=np.float64),
            self.radius,
            out,
            D,
        )
        return out, D

    def _policy(self, R: np.ndarray, gamma: float, v: np.ndarray, pi: np.ndarray):
        out = np.empty(self.S)
        Pw = np.empty_like(self.nominal)
        D = np.ascontiguousarray(pi, dtype=np.float64)
        _run(
            _threads(self.nominal.size),
            K.policy_s_l1,
            self.nominal,
            R,
            gamma,
            np.ascontiguousarray(v, dtype=np.float64),
            self.radius,
            D,
            out,
            Pw,
        )
        return out, Pw

    def policy_backup(self, R: np.ndarray, gamma: float, v: np.ndarray, pi: np.ndarray) -> np.ndarray:
        return self._policy(R, gamma, v, pi)[0]

    def worst_kernel(self, R: np.ndarray, v: np.ndarray, pi: np.ndarray | None = None) -> np.ndarray:
        if pi is None:
            raise InvalidArgumentError(
                "the worst kernel of an s-rectangular set depends on the policy: pass pi"
            )
        return self._policy(R, 0.5, v, pi)[1]  # the minimiser does not depend on gamma > 0

    def contains(self, P: object, tol: float = 1e-9) -> bool:
        P = np.asarray(P, dtype=np.float64)
        if P.shape != self.nominal.shape or np.any(P < -tol) or np.any(np.abs(P.sum(-1) - 1) > tol):
            return False
        return bool(np.all(np.abs(P - self.nominal).sum(axis=(1, 2)) <= self.radius + tol))


class RectangularHull(UncertaintySet):
    r"""(s, a)-rectangular hull of finitely many kernels: at each pair the adversary picks the row of any
    :math:`P_k` (or a mixture; linear objectives make the two the same):
    :math:`\prod_{s,a} \mathrm{conv}\{P_1(\cdot|s,a), \dots, P_K(\cdot|s,a)\}`."""

    def __init__(self, kernels: object) -> None:
        ks = [as_kernel(k, f"kernels[{i}]") for i, k in enumerate(kernels)]
        if not ks:
            raise InvalidArgumentError("a set of kernels needs at least one kernel")
        for i, k in enumerate(ks):
            if k.shape != ks[0].shape:
                raise InvalidArgumentError(
                    f"kernels[{i}] has shape {k.shape}; kernels[0] has {ks[0].shape} (all must be equal)"
                )
        self.kernels = np.stack(ks)
        self.nominal = self.kernels[0]

    @property
    def K(self) -> int:
        """Number of kernels."""
        return int(self.kernels.shape[0])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(K={self.K}, S={self.S}, A={self.A})"

    def _values(self, v: np.ndarray) -> np.ndarray:
        return np.einsum("ksat,t->ksa", self.kernels, v)  # (K, S, A)

    def q(self, R: np.ndarray, gamma: float, v: np.ndarray) -> np.ndarray:
        Q = R + gamma * self._values(v).min(axis=0)
        return np.where(np.isneginf(R), -np.inf, Q)

    def argmin(self, v: np.ndarray) -> np.ndarray:
        """Index (S, A) of the kernel whose row minimises :math:`P_k(\\cdot|s,a)^\\top v` (first on ties)."""
        return np.argmin(self._values(v), axis=0)

    def worst_kernel(self, R: np.ndarray, v: np.ndarray, pi: np.ndarray | None = None) -> np.ndarray:
        k = self.argmin(v)
        ss, aa = np.meshgrid(np.arange(self.S), np.arange(self.A), indexing="ij")
        return np.ascontiguousarray(self.kernels[k, ss, aa])

    def contains(self, P: object, tol: float = 1e-9) -> bool:
        P = np.asarray(P, dtype=np.float64)
        if P.shape != self.nominal.shape:
            return False
        close = np.abs(self.kernels - P[None]).max(axis=-1) <= tol  # (K, S, A)
        return bool(np.all(close.any(axis=0)))


class FiniteSet(RectangularHull):
    r"""A finite, *static* uncertainty set :math:`\{P_1, \dots, P_K\}`: nature draws one kernel for a whole
    episode. Not rectangular: its static robust value :math:`\max_\pi \min_k J^\pi_{P_k}` (see
    :mod:`mdpkit.robust.static`) can exceed the dynamic robust value, which is that of
    :meth:`hull` (the Bellman operators below are the hull's). IWOCS searches this set by enumeration.

    Parameters
    ----------
    kernels : sequence of (S, A, S) arrays or TabularMDPs (e.g. :func:`mdpkit.envs.windy_walk_kernels`)
    """

    rectangularity = "none"

    def hull(self) -> RectangularHull:
        """The (s, a)-rectangular hull (the set the dynamic adversary plays in)."""
        return RectangularHull(self.kernels)

    def index(self, P: np.ndarray, tol: float = 0.0) -> int | None:
        """Index of a kernel equal to ``P`` (max abs difference <= ``tol``), or None."""
        diff = np.abs(self.kernels - np.asarray(P)[None]).reshape(self.K, -1).max(axis=1)
        hit = np.flatnonzero(diff <= tol)
        return int(hit[0]) if hit.size else None

    def contains(self, P: object, tol: float = 1e-9) -> bool:
        return self.index(np.asarray(P, dtype=np.float64), tol) is not None
