r"""d-rectangular uncertainty sets (TV, KL) and the exact policy-regularised robust value by backward DP.

For a :class:`~mdpkit.linear.model.LinearMDP` with nominal factors :math:`\mu^0_{h,i}`, the
d-rectangular uncertainty set of radius :math:`\rho` (Ma et al. 2022; Liu & Xu 2024) is

.. math:: \mathcal U_h(\rho) = \Bigl\{ \textstyle\sum_i \phi_i(s,a)\,\mu_{h,i}(\cdot) :
          \mu_{h,i} \in \Delta_S,\ D(\mu_{h,i}, \mu^0_{h,i}) \le \rho \ \forall i \Bigr\},

with :math:`D` the total variation :math:`\mathrm{TV}(\mu, \mu^0) = \frac12 \|\mu - \mu^0\|_1`
(:math:`\rho \in [0, 1]`) or the Kullback-Leibler divergence :math:`\mathrm{KL}(\mu\|\mu^0)`
(:math:`\rho \ge 0`). The policy-regularised robust value of the DR-RPO paper (Gu et al. 2025) is the
backward recursion, :math:`V_H = 0`,

.. math:: \nu_{h,i} = \inf_{D(\mu, \mu^0_{h,i}) \le \rho} \mathbb E_{\mu}[V_{h+1}], \qquad
          Q_h(s,a) = r_h(s,a) + \phi(s,a)^\top \nu_h,

.. math:: V_h(s) = \max_{\pi \in \Delta_A} \sum_a \pi(a)\,Q_h(s,a)
          - \lambda\,\mathrm{KL}(\pi\|\pi_{\mathrm{ref}}(\cdot|s))
          = \lambda \log \sum_a \pi_{\mathrm{ref}}(a|s)\, e^{Q_h(s,a)/\lambda},

maximised by :math:`\pi_h(a|s) \propto \pi_{\mathrm{ref}}(a|s)\,e^{Q_h(s,a)/\lambda}`; :math:`\lambda = 0`
is the unregularised robust value :math:`\max_a Q_h(s,a)`. Because the set is a product over
:math:`(h, i)` and :math:`\phi \ge 0`, the adversary's problem separates into one inner problem per
factor, and the recursion is exact (Ma et al. 2022; Liu & Xu 2024).

Each inner problem is solved

* in its **dual** (a 1-D optimisation): TV (Liu & Xu 2024; Shi et al. 2023)
  :math:`\max_{\alpha \in [\min V, \max V]} \mathbb E_{\mu^0}[V]_\alpha - \rho(\alpha - \min_s [V]_\alpha)`
  with :math:`[V]_\alpha = \min(V, \alpha)`, maximised exactly over the kinks :math:`\alpha \in \{V(s)\}`
  (:func:`tv_dual`); KL (Hu & Hong 2013; Nilim & El Ghaoui 2005)
  :math:`\sup_{\beta \ge 0} -\beta \log \mathbb E_{\mu^0} e^{-V/\beta} - \beta\rho`, by
  :func:`mdpkit.robust.inner.worst_case_kl`;
* in its **primal** with cvxpy (CLARABEL) (:func:`primal_inner`).

A minimiser for the TV ball comes from :func:`mdpkit.robust.inner.worst_case_l1` (an L1 ball of radius
:math:`2\rho`).

References
----------
Ma, Liang, Blanchet, Liu, Xu, Zhou & Zhou, "Distributionally robust offline reinforcement learning with
linear function approximation", arXiv:2209.06620, 2022.
Liu & Xu, "Distributionally robust off-dynamics reinforcement learning: provable efficiency with linear
function approximation", AISTATS 2024.
Gu, He, Liu & Xu, "Policy regularized distributionally robust Markov decision processes with linear
function approximation" (DR-RPO), arXiv:2510.14246, 2025. Only the abstract could be retrieved in the
session that wrote this module: the regularised objective above (coefficient :math:`\lambda` on
:math:`\mathrm{KL}(\pi_h(\cdot|s)\|\pi_{\mathrm{ref}}(\cdot|s))` at every step) is our reading of its
"reference-policy regularization".
Hu & Hong, "Kullback-Leibler divergence constrained distributionally robust optimization", 2013.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from mdpkit.core import validate as V
from mdpkit.core.model import FiniteHorizonMDP
from mdpkit.errors import InvalidArgumentError, InvalidPolicyError
from mdpkit.linear.model import LinearMDP, _check_factors
from mdpkit.robust.inner import worst_case_kl, worst_case_l1

__all__ = [
    "DIVERGENCES",
    "PRIMAL_TOL",
    "check_rho",
    "DRectangularSet",
    "tv_dual",
    "kl_dual_objective",
    "primal_inner",
    "worst_case_factors",
    "regularised_value",
    "softmax_policy",
    "as_markov_policy",
    "RobustLinearSolution",
    "RobustLinearEvaluation",
    "LinearEvaluation",
    "robust_dp",
    "robust_evaluate",
    "evaluate_under",
    "sa_rectangular_backward",
]

#: Divergences of the d-rectangular balls.
DIVERGENCES = ("tv", "kl")
_METHODS = ("dual", "primal")
#: Gap and feasibility tolerances given to CLARABEL in :func:`primal_inner`. Measured (claim
#: ``drrpo.primal-dual``, full budget, 1500 random inner problems per divergence, S <= 7, V in [0, 3]):
#: |primal - dual| / (1 + max|V|) <= 6.3e-11 (TV) and 1.6e-8 (KL, radius 0 or >= 1e-3).
PRIMAL_TOL = 1e-10


def _check_divergence(divergence: object) -> str:
    return V.check_choice(divergence, "divergence", DIVERGENCES)


def check_rho(rho: object, shape: tuple[int, ...], divergence: str) -> np.ndarray:
    r"""Validate a radius (scalar or broadcastable to ``shape``): TV in [0, 1], KL finite and :math:`\ge 0`.

    Parameters
    ----------
    rho : float or array
        Radius per factor.
    shape : tuple of int
        Target shape, e.g. (H, d).
    divergence : {"tv", "kl"}

    Returns
    -------
    ndarray of ``shape`` (float64 copy)

    Raises
    ------
    InvalidArgumentError
        Names the offending index and value.
    """
    divergence = _check_divergence(divergence)
    try:
        arr = np.broadcast_to(np.asarray(rho, dtype=np.float64), shape).astype(np.float64)
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            f"rho = {rho!r} is not a number or does not broadcast to {shape}"
        ) from None
    hi = 1.0 if divergence == "tv" else np.inf
    bad = ~np.isfinite(arr) | (arr < 0) | (arr > hi)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f"[{', '.join(map(str, idx))}]" if idx else ""
        raise InvalidArgumentError(
            f"rho{where} = {float(arr[idx])!r} is not a valid {divergence.upper()} radius: "
            f"need a finite value in [0, {hi:g}]"
        )
    return arr


# ---------------------------------------------------------------------------------------------- sets
@dataclass(frozen=True, init=False)
class DRectangularSet:
    r"""A d-rectangular ball :math:`\prod_{h,i} \{\mu \in \Delta_S : D(\mu, \mu^0_{h,i}) \le \rho_{h,i}\}`.

    Parameters
    ----------
    nominal : LinearMDP or array (H, d, S)
        The nominal factors :math:`\mu^0` (a model's ``mu``).
    divergence : {"tv", "kl"}
        Total variation :math:`\frac12\|\mu - \mu^0\|_1` or :math:`\mathrm{KL}(\mu\|\mu^0)`.
    rho : float or array broadcastable to (H, d)
        Radius per factor (TV in [0, 1]; KL finite, :math:`\ge 0`).
    """

    nominal: np.ndarray
    divergence: str
    rho: np.ndarray

    def __init__(self, nominal: LinearMDP | np.ndarray, divergence: str, rho: object) -> None:
        mu = nominal.mu if isinstance(nominal, LinearMDP) else nominal
        arr = V.as_float_array(mu, "nominal")
        if arr.ndim != 3:
            raise InvalidArgumentError(f"nominal has shape {arr.shape}, expected (H, d, S)")
        arr = _check_factors(arr, arr.shape[0], arr.shape[1], arr.shape[2], "nominal")
        arr.setflags(write=False)
        div = _check_divergence(divergence)
        r = check_rho(rho, arr.shape[:2], div)
        r.setflags(write=False)
        object.__setattr__(self, "nominal", arr)
        object.__setattr__(self, "divergence", div)
        object.__setattr__(self, "rho", r)

    def __repr__(self) -> str:
        H, d, S = self.nominal.shape
        r = self.rho
        rr = f"{r.flat[0]:g}" if np.all(r == r.flat[0]) else f"[{r.min():g}, {r.max():g}]"
        return f"DRectangularSet({self.divergence}, H={H}, d={d}, S={S}, rho={rr})"

    def distance(self, mu: object) -> np.ndarray:
        r"""Divergence :math:`D(\mu_{h,i}, \mu^0_{h,i})` of each factor, shape (H, d) (``inf`` off-support
        for KL).

        Parameters
        ----------
        mu : array (H, d, S)
            Factors (validated as distributions).

        Returns
        -------
        ndarray (H, d)
        """
        H, d, S = self.nominal.shape
        m = _check_factors(mu, H, d, S)
        p = self.nominal
        if self.divergence == "tv":
            return 0.5 * np.abs(m - p).sum(axis=-1)
        pos = m > 0
        if np.any(pos & (p <= 0)):
            bad = np.any(pos & (p <= 0), axis=-1)
        else:
            bad = np.zeros((H, d), dtype=bool)
        ratio = np.where(pos & (p > 0), m / np.where(p > 0, p, 1.0), 1.0)
        out = np.sum(np.where(pos, m * np.log(ratio), 0.0), axis=-1)
        return np.where(bad, np.inf, out)

    def contains(self, mu: object, tol: float = 1e-9) -> bool:
        """Whether factors ``mu`` (H, d, S) lie in the set up to ``tol`` (on each divergence).

        Parameters
        ----------
        mu : array (H, d, S)
        tol : float, default 1e-9

        Returns
        -------
        bool
        """
        return bool(np.all(self.distance(mu) <= self.rho + tol))

    def sample(self, seed: int | np.random.Generator, on_boundary: bool = False) -> np.ndarray:
        r"""A random member of the set: factors :math:`\mu_{h,i} = (1-t)\mu^0_{h,i} + t\,q_{h,i}`.

        :math:`q_{h,i}` is drawn from a Dirichlet(1/2) on :math:`\Delta_S` (on the support of
        :math:`\mu^0_{h,i}` for KL, so the divergence is finite) and
        :math:`t = \min(1, \rho_{h,i} / D(q_{h,i}, \mu^0_{h,i}))`; both divergences are convex in their
        first argument, so :math:`D(\mu_{h,i}, \mu^0_{h,i}) \le t\,D(q_{h,i}, \mu^0_{h,i}) \le \rho_{h,i}`
        (for TV with equality). With ``on_boundary=False`` the step is further scaled by a uniform
        :math:`U[0, 1]`, so interior points are drawn too.

        Parameters
        ----------
        seed : int or numpy.random.Generator
        on_boundary : bool, default False
            Use the largest step (on the boundary for TV; at or inside it for KL).

        Returns
        -------
        ndarray (H, d, S)
            Factors inside the set (for e.g. ``model.with_factors``).
        """
        rng = np.random.default_rng(seed)
        H, d, S = self.nominal.shape
        out = np.empty_like(self.nominal)
        for h in range(H):
            for i in range(d):
                p = self.nominal[h, i]
                q = np.zeros(S)
                sup = np.flatnonzero(p > 0) if self.divergence == "kl" else np.arange(S)
                q[sup] = rng.dirichlet(0.5 * np.ones(sup.size))
                dist = 0.5 * float(np.abs(q - p).sum()) if self.divergence == "tv" else _kl(q, p)
                t = 1.0 if dist <= self.rho[h, i] else float(self.rho[h, i]) / dist
                if not on_boundary:
                    t *= float(rng.uniform())
                m = (1.0 - t) * p + t * q
                out[h, i] = m / m.sum()
        return out


# -------------------------------------------------------------------------------------- inner problems
def _as_rows(mu0: object, v: object) -> tuple[np.ndarray, np.ndarray, bool]:
    p = V.as_float_array(mu0, "mu0")
    single = p.ndim == 1
    p = np.atleast_2d(p)
    if p.ndim != 2:
        raise InvalidArgumentError(f"mu0 has shape {p.shape}, expected (S,) or (d, S)")
    V.check_distribution_rows(p, "mu0")
    vv = np.ascontiguousarray(V.as_float_array(v, "v"))
    if vv.shape != (p.shape[1],):
        raise InvalidArgumentError(f"v has shape {vv.shape}, expected (S,) = ({p.shape[1]},)")
    V.check_finite(vv, "v")
    return p, vv, single


def tv_dual(mu0: object, v: object, rho: object) -> tuple[np.ndarray | float, np.ndarray | float]:
    r"""TV worst case through its dual, exactly: :math:`\inf_{\mathrm{TV}(\mu,\mu^0)\le\rho} \mathbb E_\mu V`.

    .. math:: \inf_{\frac12\|\mu - \mu^0\|_1 \le \rho} \mathbb E_\mu[V]
              = \max_{\alpha \in [\min_s V(s), \max_s V(s)]} \Bigl\{ \mathbb E_{\mu^0}[V]_\alpha
              - \rho\bigl(\alpha - \min_s [V]_\alpha(s)\bigr) \Bigr\}, \qquad [V]_\alpha = \min(V, \alpha)

    (Liu & Xu 2024; Shi, Li, Wei, Chen & Chi 2023). The objective is concave and piecewise
    linear in :math:`\alpha` with kinks at the values :math:`V(s)`, so its maximum is attained at one of
    them: after one sort of ``v``, :math:`\mathbb E_{\mu^0}[V]_{\alpha}` at :math:`\alpha = v_{(j)}` is a
    prefix sum, and the maximum over ``j`` costs :math:`O(dS)` for ``d`` factors sharing ``v``.

    Parameters
    ----------
    mu0 : array (S,) or (d, S)
        Nominal distribution(s).
    v : array (S,)
        Finite values.
    rho : float or array (d,)
        TV radius in [0, 1].

    Returns
    -------
    value : float or ndarray (d,)
        The worst-case expectation(s).
    alpha : float or ndarray (d,)
        A maximising dual variable.
    """
    p, vv, single = _as_rows(mu0, v)
    shape = () if np.ndim(rho) == 0 else (p.shape[0],)  # a scalar's error names no index
    r = np.broadcast_to(check_rho(rho, shape, "tv"), (p.shape[0],))
    order = np.argsort(vv, kind="mergesort")
    u = vv[order]
    Ps = p[:, order]
    cum_p = np.cumsum(Ps, axis=1) - Ps  # mass strictly below position j
    cum_pu = np.cumsum(Ps * u, axis=1) - Ps * u
    expect = cum_pu + u[None, :] * (1.0 - cum_p)  # E_mu0[min(V, u_j)]
    obj = expect - r[:, None] * (u[None, :] - u[0])
    j = np.argmax(obj, axis=1)
    val = obj[np.arange(p.shape[0]), j]
    alpha = u[j]
    if single:
        return float(val[0]), float(alpha[0])
    return val, alpha


def kl_dual_objective(mu0: object, v: object, rho: float, beta: float) -> float:
    r"""The KL dual objective :math:`g(\beta) = -\beta \log \mathbb E_{\mu^0} e^{-V/\beta} - \beta\rho`.

    Every :math:`\beta > 0` gives a lower bound :math:`g(\beta) \le \inf_{\mathrm{KL}(\mu\|\mu^0)\le\rho}
    \mathbb E_\mu V` (weak duality), with equality at the maximiser (Hu & Hong 2013);
    :math:`g(0^+) = \operatorname{ess\,min}_{\mu^0} V`.

    Parameters
    ----------
    mu0 : array (S,)
    v : array (S,)
    rho : float, >= 0
    beta : float, > 0

    Returns
    -------
    float
    """
    p, vv, _ = _as_rows(mu0, v)
    r = float(check_rho(rho, (), "kl"))
    if not (np.isfinite(beta) and beta > 0):
        raise InvalidArgumentError(f"beta = {beta!r} must be finite and > 0")
    p = p[0]
    sup = p > 0
    return float(-beta * logsumexp(-vv[sup] / beta, b=p[sup]) - beta * r)


def primal_inner(mu0: object, v: object, divergence: str, rho: float) -> tuple[float, np.ndarray]:
    r"""The inner problem in its primal, solved with cvxpy (CLARABEL, tolerances :data:`PRIMAL_TOL`).

    .. math:: \min_{\mu \in \Delta_S} \mu^\top V \quad \text{s.t.} \quad
              \tfrac12\|\mu - \mu^0\|_1 \le \rho \ \ (\mathrm{TV}) \quad\text{or}\quad
              \sum_{s:\,\mu^0(s)>0} \mu(s)\log\frac{\mu(s)}{\mu^0(s)} \le \rho,\
              \mu \ll \mu^0 \ \ (\mathrm{KL}).

    A reference implementation for checking the duals (one conic solve per call, milliseconds). At
    :math:`\rho = 0` the ball is :math:`\{\mu^0\}` and is returned as such. Accuracy (measured against
    the duals on random problems with :math:`S \le 7`): within 1e-10 for TV at any radius and 2e-8 for KL
    at :math:`\rho \ge 10^{-3}` (relative to :math:`1 + \max|V|`); for KL radii in :math:`(0, 10^{-3})`
    the exponential-cone constraint is nearly degenerate and CLARABEL's answer degrades (gaps up to 2e-8
    at :math:`10^{-4}`, 4e-7 at :math:`10^{-8}`, 1.6e-5 at :math:`10^{-12}`, its point violating the KL
    constraint), while the dual :func:`mdpkit.robust.inner.worst_case_kl` stays exact.

    Parameters
    ----------
    mu0 : array (S,)
    v : array (S,)
    divergence : {"tv", "kl"}
    rho : float

    Returns
    -------
    value : float
        :math:`\mu^{\star\top} V` at the solver's minimiser.
    mu : ndarray (S,)
        The minimiser (clipped at 0 and renormalised).

    Raises
    ------
    InvalidArgumentError
        Bad arguments, or the conic solver failed (status named).
    """
    import cvxpy as cp

    p, vv, _ = _as_rows(mu0, v)
    p = p[0]
    div = _check_divergence(divergence)
    r = float(check_rho(rho, (), div))
    S = p.size
    if r == 0.0:  # the ball is {mu0}; the conic problem would have no interior (Slater fails)
        return float(p @ vv), p.copy()
    if div == "tv":
        x = cp.Variable(S, nonneg=True)
        cons = [cp.sum(x) == 1, 0.5 * cp.norm1(x - p) <= r]
        idx = np.arange(S)
    else:
        idx = np.flatnonzero(p > 0)
        x = cp.Variable(idx.size, nonneg=True)
        cons = [cp.sum(x) == 1, cp.sum(cp.rel_entr(x, p[idx])) <= r]
    prob = cp.Problem(cp.Minimize(vv[idx] @ x), cons)
    try:
        with warnings.catch_warnings():  # "optimal_inaccurate" is accepted below; its gap is what tests bound
            warnings.simplefilter("ignore", UserWarning)
            prob.solve(
                solver=cp.CLARABEL,
                tol_gap_abs=PRIMAL_TOL,
                tol_gap_rel=PRIMAL_TOL,
                tol_feas=PRIMAL_TOL,
                max_iter=500,
            )
    except cp.error.SolverError as exc:  # pragma: no cover - depends on the solver build
        raise InvalidArgumentError(f"the conic solver failed on the {div} inner problem: {exc}") from None
    if prob.status not in ("optimal", "optimal_inaccurate") or x.value is None:
        raise InvalidArgumentError(
            f"the conic solver returned status {prob.status!r} on the {div} inner problem"
        )
    q = np.zeros(S)
    q[idx] = np.maximum(np.asarray(x.value, dtype=np.float64), 0.0)
    q /= q.sum()
    return float(prob.value), q


def worst_case_factors(
    mu0: object, v: object, divergence: str, rho: object, method: str = "dual"
) -> tuple[np.ndarray, np.ndarray]:
    r"""All inner problems of one stage: :math:`\nu_i = \inf_{D(\mu,\mu^0_i)\le\rho_i} \mu^\top V` per factor.

    Parameters
    ----------
    mu0 : array (d, S)
        Nominal factors of the stage.
    v : array (S,)
        Next-stage values :math:`V_{h+1}`.
    divergence : {"tv", "kl"}
    rho : float or array (d,)
    method : {"dual", "primal"}, default "dual"
        ``"dual"``: TV by :func:`tv_dual` (value) and :func:`mdpkit.robust.inner.worst_case_l1` with radius
        :math:`2\rho` (minimiser); KL by :func:`mdpkit.robust.inner.worst_case_kl` (the :math:`\beta` dual).
        ``"primal"``: :func:`primal_inner` (cvxpy).

    Returns
    -------
    nu : ndarray (d,)
        Worst-case expectations.
    mu : ndarray (d, S)
        Minimising factors.
    """
    p, vv, _ = _as_rows(mu0, v)
    div = _check_divergence(divergence)
    method = V.check_choice(method, "method", _METHODS)
    r = check_rho(rho, (p.shape[0],), div)
    d = p.shape[0]
    nu = np.empty(d)
    mu = np.empty_like(p)
    if method == "primal":
        for i in range(d):
            nu[i], mu[i] = primal_inner(p[i], vv, div, float(r[i]))
        return nu, mu
    if div == "tv":
        nu[:] = tv_dual(p, vv, r)[0]
        for i in range(d):
            mu[i] = worst_case_l1(p[i], vv, min(2.0 * float(r[i]), 2.0))[1]
    else:
        for i in range(d):
            nu[i], mu[i] = worst_case_kl(p[i], vv, float(r[i]))
    return nu, mu


def _kl(q: np.ndarray, p: np.ndarray) -> float:
    pos = q > 0
    if np.any(pos & (p <= 0)):
        return float("inf")
    return float(np.sum(q[pos] * np.log(q[pos] / p[pos])))


# ---------------------------------------------------------------------------------------------- policies
def _check_lam(lam: object) -> float:
    try:
        val = float(lam)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"lam = {lam!r} is not a number") from None
    if not np.isfinite(val) or val < 0:
        raise InvalidArgumentError(f"lam = {val!r} must be finite and >= 0")
    return val


def _check_ref(pi_ref: object | None, H: int, S: int, A: int) -> np.ndarray:
    """Reference policy: None (uniform), (S, A) or (H, S, A) stochastic; returns (H, S, A)."""
    if pi_ref is None:
        return np.full((H, S, A), 1.0 / A)
    ref = np.asarray(pi_ref, dtype=np.float64)
    if ref.shape == (S, A):
        ref = np.broadcast_to(ref, (H, S, A))
    if ref.shape != (H, S, A):
        raise InvalidPolicyError(
            f"pi_ref has shape {ref.shape}, expected (S, A) or (H, S, A) = ({H}, {S}, {A})"
        )
    try:
        V.check_distribution_rows(ref, "pi_ref")
    except Exception as exc:
        raise InvalidPolicyError(str(exc)) from None
    return ref


def as_markov_policy(policy: object, H: int, S: int, A: int) -> np.ndarray:
    r"""Validate a Markov policy; return it as a stochastic array ``pi[h, s, a]`` of shape (H, S, A).

    Accepts (H, S, A) stochastic, (H, S) integer (deterministic), (S, A) stochastic or (S,) integer
    (stationary, used at every stage).

    Parameters
    ----------
    policy : array
    H, S, A : int

    Returns
    -------
    ndarray (H, S, A)

    Raises
    ------
    InvalidPolicyError
        Wrong shape, an action out of range, or a row that is not a distribution (index and value named).
    """
    arr = np.asarray(policy)
    if arr.ndim in (1, 2) and np.issubdtype(arr.dtype, np.integer):
        if arr.shape == (S,):
            arr = np.broadcast_to(arr, (H, S))
        if arr.shape != (H, S):
            raise InvalidPolicyError(
                f"policy has shape {arr.shape}, expected (H, S) = ({H}, {S}) for actions"
            )
        bad = (arr < 0) | (arr >= A)
        if bad.any():
            h, s = (int(x) for x in np.argwhere(bad)[0])
            raise InvalidPolicyError(f"policy[{h}, {s}] = {int(arr[h, s])} is not an action in [0, {A})")
        out = np.zeros((H, S, A))
        np.put_along_axis(out, arr[..., None].astype(np.int64), 1.0, axis=-1)
        return out
    arr = np.asarray(policy, dtype=np.float64)
    if arr.shape == (S, A):
        arr = np.broadcast_to(arr, (H, S, A))
    if arr.shape != (H, S, A):
        raise InvalidPolicyError(f"policy has shape {arr.shape}, expected (H, S, A) = ({H}, {S}, {A})")
    try:
        V.check_distribution_rows(arr, "policy")
    except Exception as exc:
        raise InvalidPolicyError(str(exc)) from None
    return np.array(arr, dtype=np.float64, copy=True)


def regularised_value(Q: np.ndarray, lam: float, pi_ref: np.ndarray | None = None) -> np.ndarray:
    r"""Soft maximum :math:`\max_\pi \langle\pi, Q\rangle - \lambda\mathrm{KL}(\pi\|\pi_{\mathrm{ref}})
    = \lambda \log \sum_a \pi_{\mathrm{ref}}(a)\,e^{Q(a)/\lambda}` over the last axis (``max`` if
    :math:`\lambda = 0`).

    Parameters
    ----------
    Q : ndarray (..., A)
    lam : float, >= 0
    pi_ref : ndarray (..., A), optional
        Reference distributions (default uniform).

    Returns
    -------
    ndarray (...)
    """
    lam = _check_lam(lam)
    Q = np.asarray(Q, dtype=np.float64)
    if lam == 0.0:
        return Q.max(axis=-1)
    ref = np.full(Q.shape, 1.0 / Q.shape[-1]) if pi_ref is None else np.broadcast_to(pi_ref, Q.shape)
    # shift by the max before dividing by lambda: Q / lambda overflows for a subnormal lambda
    m = Q.max(axis=-1, keepdims=True)
    with np.errstate(over="ignore"):  # (Q - m) / lambda -> -inf is exact here
        shifted = (Q - m) / lam
    return m[..., 0] + lam * logsumexp(shifted, b=ref, axis=-1)


def softmax_policy(Q: np.ndarray, lam: float, pi_ref: np.ndarray | None = None) -> np.ndarray:
    r"""The maximiser of :func:`regularised_value`:
    :math:`\pi(a) \propto \pi_{\mathrm{ref}}(a)\,e^{Q(a)/\lambda}` (one-hot on the first maximiser of ``Q``
    when :math:`\lambda = 0`).

    Parameters
    ----------
    Q : ndarray (..., A)
    lam : float, >= 0
    pi_ref : ndarray (..., A), optional
        Default uniform.

    Returns
    -------
    ndarray (..., A)
        Distributions over the last axis.
    """
    lam = _check_lam(lam)
    Q = np.asarray(Q, dtype=np.float64)
    if lam == 0.0:
        out = np.zeros_like(Q)
        np.put_along_axis(out, np.argmax(Q, axis=-1)[..., None], 1.0, axis=-1)
        return out
    ref = np.full(Q.shape, 1.0 / Q.shape[-1]) if pi_ref is None else np.broadcast_to(pi_ref, Q.shape)
    with np.errstate(divide="ignore", over="ignore"):
        logits = np.log(ref) + (Q - Q.max(axis=-1, keepdims=True)) / lam
    logits -= logits.max(axis=-1, keepdims=True)
    w = np.exp(logits)
    return w / w.sum(axis=-1, keepdims=True)


def _kl_rows(pi: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """KL(pi(.|s) || ref(.|s)) over the last axis; raises if pi charges an action ref excludes."""
    bad = (pi > 0) & (ref <= 0)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidPolicyError(
            f"policy{list(idx)} = {float(pi[idx])!r} > 0 where pi_ref is 0: the KL regulariser is infinite"
        )
    pos = pi > 0
    ratio = np.where(pos, pi / np.where(ref > 0, ref, 1.0), 1.0)
    return np.sum(np.where(pos, pi * np.log(ratio), 0.0), axis=-1)


# ---------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class RobustLinearSolution:
    r"""Exact regularised robust optimum of a d-rectangular linear MDP (:func:`robust_dp`).

    Attributes
    ----------
    V : ndarray (H+1, S)
        :math:`V^\star_h` (``V[H] = 0``).
    Q : ndarray (H, S, A)
        :math:`Q^\star_h = r_h + \phi^\top \nu_h`.
    policy : ndarray (H, S, A)
        The optimal (softmax, or greedy one-hot if :math:`\lambda = 0`) Markov policy.
    nu : ndarray (H, d)
        Worst-case factor expectations :math:`\nu_{h,i}`.
    worst_mu : ndarray (H, d, S)
        Minimising factors (a worst-case model: ``model.with_factors(worst_mu)``).
    value : float
        :math:`\sum_s \mu_0(s) V^\star_0(s)`.
    lam : float
    divergence : str
    rho : ndarray (H, d)
    """

    V: np.ndarray
    Q: np.ndarray
    policy: np.ndarray
    nu: np.ndarray
    worst_mu: np.ndarray
    value: float
    lam: float
    divergence: str
    rho: np.ndarray


@dataclass(frozen=True)
class RobustLinearEvaluation:
    r"""Regularised robust value of a fixed Markov policy (:func:`robust_evaluate`).

    Attributes
    ----------
    V : ndarray (H+1, S)
        :math:`V^\pi_h(s) = \sum_a \pi_h(a|s) Q^\pi_h(s,a)
        - \lambda \mathrm{KL}(\pi_h(\cdot|s)\|\pi_{\mathrm{ref}})`.
    Q : ndarray (H, S, A)
    nu : ndarray (H, d)
    worst_mu : ndarray (H, d, S)
        The adversary's factors against this policy.
    value : float
    """

    V: np.ndarray
    Q: np.ndarray
    nu: np.ndarray
    worst_mu: np.ndarray
    value: float


@dataclass(frozen=True)
class LinearEvaluation:
    r"""Value of a Markov policy under one given kernel (:func:`evaluate_under`).

    Attributes
    ----------
    V : ndarray (H+1, S)
    Q : ndarray (H, S, A)
    value : float
    """

    V: np.ndarray
    Q: np.ndarray
    value: float


# ---------------------------------------------------------------------------------------------- DP
def _setup(model: LinearMDP, divergence: str, rho: object, lam: object, pi_ref: object, method: str):
    if not isinstance(model, LinearMDP):
        raise InvalidArgumentError(f"expected a LinearMDP, got {type(model).__name__}")
    div = _check_divergence(divergence)
    method = V.check_choice(method, "method", _METHODS)
    r = check_rho(rho, (model.H, model.d), div)
    return div, method, r, _check_lam(lam), _check_ref(pi_ref, model.H, model.S, model.A)


def _robust_backward(
    model: LinearMDP,
    div: str,
    r: np.ndarray,
    method: str,
    stage: Callable[[int, np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""The backward pass shared by :func:`robust_dp` and :func:`robust_evaluate`.

    For :math:`h = H-1, \dots, 0`: :math:`(\nu_h, \mu^{\mathrm{worst}}_h)` from :func:`worst_case_factors`
    against :math:`V_{h+1}` (:math:`V_H = 0`), :math:`Q_h = r_h + \phi^\top\nu_h`, and :math:`V_h` (S,) given
    by the caller's ``stage(h, Q_h)``. Returns ``(V (H+1, S), Q (H, S, A), nu (H, d), worst_mu (H, d, S))``.
    """
    H, S, A, d = model.H, model.S, model.A, model.d
    Vt = np.zeros((H + 1, S))
    Q = np.empty((H, S, A))
    nu = np.empty((H, d))
    wmu = np.empty((H, d, S))
    R = model.R
    for h in range(H - 1, -1, -1):
        nu[h], wmu[h] = worst_case_factors(model.mu[h], Vt[h + 1], div, r[h], method)
        Q[h] = R[h] + model.phi @ nu[h]
        Vt[h] = stage(h, Q[h])
    return Vt, Q, nu, wmu


def robust_dp(
    model: LinearMDP,
    divergence: str,
    rho: object,
    lam: float = 0.0,
    pi_ref: object | None = None,
    method: str = "dual",
) -> RobustLinearSolution:
    r"""Exact policy-regularised robust value of a d-rectangular linear MDP by backward DP.

    .. math:: V_H = 0,\quad \nu_{h,i} = \inf_{D(\mu,\mu^0_{h,i})\le\rho_{h,i}} \mu^\top V_{h+1},\quad
              Q_h = r_h + \phi^\top\nu_h,\quad
              V_h(s) = \lambda\log\sum_a \pi_{\mathrm{ref}}(a|s)\,e^{Q_h(s,a)/\lambda}

    (``max_a`` when :math:`\lambda = 0`), and the optimal policy
    :math:`\pi_h(a|s) \propto \pi_{\mathrm{ref}}(a|s)\,e^{Q_h(s,a)/\lambda}`: the objective
    :math:`\max_\pi \inf_{P \in \mathcal U(\rho)} \mathbb E^{\pi,P}\bigl[\sum_h r_h - \lambda
    \mathrm{KL}(\pi_h\|\pi_{\mathrm{ref}})\bigr]` of the DR-RPO paper (Gu et al. 2025), exact because the
    set is d-rectangular (see the module docstring). Cost: ``H`` stages of ``d`` inner problems plus
    :math:`O(SAd)`.

    Parameters
    ----------
    model : LinearMDP
    divergence : {"tv", "kl"}
    rho : float or array broadcastable to (H, d)
        Radii (TV in [0, 1]; KL finite, :math:`\ge 0`).
    lam : float, default 0
        Regularisation strength :math:`\lambda \ge 0`.
    pi_ref : array (S, A) or (H, S, A), optional
        Reference policy (default uniform).
    method : {"dual", "primal"}, default "dual"
        How the inner problems are solved (see :func:`worst_case_factors`).

    Returns
    -------
    RobustLinearSolution
    """
    div, method, r, lam, ref = _setup(model, divergence, rho, lam, pi_ref, method)
    pol = np.empty((model.H, model.S, model.A))

    def stage(h: int, Qh: np.ndarray) -> np.ndarray:
        pol[h] = softmax_policy(Qh, lam, ref[h])
        return regularised_value(Qh, lam, ref[h])

    Vt, Q, nu, wmu = _robust_backward(model, div, r, method, stage)
    return RobustLinearSolution(
        V=Vt,
        Q=Q,
        policy=pol,
        nu=nu,
        worst_mu=wmu,
        value=float(model.initial @ Vt[0]),
        lam=lam,
        divergence=div,
        rho=r,
    )


def robust_evaluate(
    model: LinearMDP,
    policy: object,
    divergence: str,
    rho: object,
    lam: float = 0.0,
    pi_ref: object | None = None,
    method: str = "dual",
) -> RobustLinearEvaluation:
    r"""Regularised robust value of a fixed Markov policy against the d-rectangular worst case.

    .. math:: \nu^\pi_{h,i} = \inf_{D(\mu,\mu^0_{h,i})\le\rho_{h,i}} \mu^\top V^\pi_{h+1},\quad
              Q^\pi_h = r_h + \phi^\top\nu^\pi_h,\quad
              V^\pi_h(s) = \sum_a \pi_h(a|s) Q^\pi_h(s,a)
              - \lambda\,\mathrm{KL}(\pi_h(\cdot|s)\|\pi_{\mathrm{ref}}(\cdot|s)),

    :math:`V^\pi_H = 0`: :math:`\inf_{P\in\mathcal U(\rho)} \mathbb E^{\pi,P}[\sum_h r_h - \lambda
    \mathrm{KL}_h]`, exact for d-rectangular sets (the regulariser does not depend on the kernel).

    Parameters
    ----------
    model : LinearMDP
    policy : array (H, S, A), (H, S) int, (S, A) or (S,) int
        Markov policy (see :func:`as_markov_policy`).
    divergence : {"tv", "kl"}
    rho : float or array broadcastable to (H, d)
    lam : float, default 0
    pi_ref : array (S, A) or (H, S, A), optional
        Default uniform.
    method : {"dual", "primal"}, default "dual"

    Returns
    -------
    RobustLinearEvaluation
    """
    div, method, r, lam, ref = _setup(model, divergence, rho, lam, pi_ref, method)
    H, S, A = model.H, model.S, model.A
    pi = as_markov_policy(policy, H, S, A)
    pen = lam * _kl_rows(pi, ref) if lam > 0 else np.zeros((H, S))
    Vt, Q, nu, wmu = _robust_backward(
        model, div, r, method, lambda h, Qh: np.sum(pi[h] * Qh, axis=1) - pen[h]
    )
    return RobustLinearEvaluation(V=Vt, Q=Q, nu=nu, worst_mu=wmu, value=float(model.initial @ Vt[0]))


def evaluate_under(
    model: LinearMDP,
    policy: object,
    mu: object | None = None,
    kernel: object | None = None,
    lam: float = 0.0,
    pi_ref: object | None = None,
) -> LinearEvaluation:
    r"""Exact (regularised) value of a Markov policy under given dynamics, by backward recursion.

    .. math:: Q_h(s,a) = r_h(s,a) + \sum_{s'} P_h(s'|s,a) V_{h+1}(s'),\qquad
              V_h(s) = \sum_a \pi_h(a|s) Q_h(s,a)
              - \lambda\mathrm{KL}(\pi_h(\cdot|s)\|\pi_{\mathrm{ref}}(\cdot|s)),

    with :math:`P_h = \phi^\top\mu_h` for factors ``mu`` (e.g. a perturbed test model, or a solution's
    ``worst_mu``), an arbitrary kernel ``kernel`` (H, S, A, S) (need not be linear), or the nominal model.

    Parameters
    ----------
    model : LinearMDP
        Supplies rewards, features and the initial distribution.
    policy : array (H, S, A), (H, S) int, (S, A) or (S,) int
    mu : array (H, d, S) or (d, S), optional
        Factors of the test dynamics.
    kernel : array (H, S, A, S) or (S, A, S), optional
        Test kernel (exclusive with ``mu``).
    lam : float, default 0
    pi_ref : array, optional
        Default uniform.

    Returns
    -------
    LinearEvaluation
    """
    if not isinstance(model, LinearMDP):
        raise InvalidArgumentError(f"expected a LinearMDP, got {type(model).__name__}")
    if mu is not None and kernel is not None:
        raise InvalidArgumentError("pass at most one of mu and kernel")
    H, S, A = model.H, model.S, model.A
    if kernel is None:
        P = model.kernel(mu)
    else:
        P = V.as_float_array(kernel, "kernel")
        if P.shape == (S, A, S):
            P = np.broadcast_to(P, (H, S, A, S))
        V.check_shape(P, (H, S, A, S), "kernel")
        V.check_distribution_rows(P, "kernel")
    lam = _check_lam(lam)
    ref = _check_ref(pi_ref, H, S, A)
    pi = as_markov_policy(policy, H, S, A)
    pen = lam * _kl_rows(pi, ref) if lam > 0 else np.zeros((H, S))
    R = model.R
    Vt = np.zeros((H + 1, S))
    Q = np.empty((H, S, A))
    for h in range(H - 1, -1, -1):
        Q[h] = R[h] + P[h] @ Vt[h + 1]
        Vt[h] = np.sum(pi[h] * Q[h], axis=1) - pen[h]
    return LinearEvaluation(V=Vt, Q=Q, value=float(model.initial @ Vt[0]))


def sa_rectangular_backward(
    fh: FiniteHorizonMDP, divergence: str, rho: object
) -> tuple[np.ndarray, np.ndarray]:
    r"""Finite-horizon robust backward induction with the (s, a)-rectangular balls of
    :mod:`mdpkit.robust`.

    .. math:: V_H = v_{\mathrm{term}},\quad
              Q_h(s,a) = r_h(s,a) + \min_{q \in \mathcal U_h(s,a)} q^\top V_{h+1},\quad
              V_h(s) = \max_a Q_h(s,a),

    with :math:`\mathcal U_h(s,a)` the L1 ball of radius :math:`2\rho` (= TV ball of radius :math:`\rho`,
    :class:`mdpkit.robust.L1Ball`) or the KL ball (:class:`mdpkit.robust.KLBall`) around
    :math:`P_h(\cdot|s,a)`; each stage is one ``q(R_h, 1.0, V_{h+1})`` call of the set (the robust
    package's numba kernels). :mod:`mdpkit.robust.solvers` is discounted-only, so this is the
    finite-horizon form of its (s, a)-rectangular robust solution (Iyengar 2005; Nilim & El Ghaoui 2005),
    against which the one-hot embedding's d-rectangular value is checked.

    Parameters
    ----------
    fh : FiniteHorizonMDP
    divergence : {"tv", "kl"}
    rho : float or array broadcastable to (H, S, A)

    Returns
    -------
    V : ndarray (H+1, S)
    Q : ndarray (H, S, A)
    """
    from mdpkit.robust.sets import KLBall, L1Ball

    if not isinstance(fh, FiniteHorizonMDP):
        raise InvalidArgumentError(f"expected a FiniteHorizonMDP, got {type(fh).__name__}")
    div = _check_divergence(divergence)
    H, S, A = fh.H, fh.S, fh.A
    r = check_rho(rho, (H, S, A), div)
    Vt = np.empty((H + 1, S))
    Q = np.empty((H, S, A))
    Vt[H] = fh.terminal
    for h in range(H - 1, -1, -1):
        Ph = fh.P_at(h)
        Ph = np.asarray(Ph.toarray()).reshape(S, A, S) if hasattr(Ph, "toarray") else np.asarray(Ph)
        ball = L1Ball(Ph, np.minimum(2.0 * r[h], 2.0)) if div == "tv" else KLBall(Ph, r[h])
        Q[h] = ball.q(np.ascontiguousarray(fh.R[h]), 1.0, Vt[h + 1])
        Vt[h] = Q[h].max(axis=1)
    return Vt, Q
