r"""DR-RPO: distributionally robust regularised policy optimisation on d-rectangular linear MDPs.

The learner plays :math:`K` episodes of a :class:`~mdpkit.linear.LinearMDP` (the *nominal* model, factors
:math:`\mu^0_h`) and is scored against the *regularised robust* objective: with a reference policy
:math:`\pi^{\mathrm{ref}}`, a regularisation weight :math:`\lambda \ge 0` and a d-rectangular uncertainty set
:math:`\mathcal U^\rho(\mu^0) = \bigotimes_{h,i} \{\mu_{h,i} \in \Delta_S : D(\mu_{h,i} \| \mu^0_{h,i})
\le \rho\}` (:math:`D` = total variation :math:`\tfrac12\|\cdot\|_1` or KL),

.. math::
    Q^\pi_h(s,a) &= r_h(s,a) + \sum_{i=1}^d \phi_i(s,a) \inf_{\mu_{h,i} \in \mathcal U^\rho_{h,i}}
                    \mathbb E_{\mu_{h,i}}[V^\pi_{h+1}], \\
    V^\pi_h(s)   &= \langle \pi_h(\cdot|s), Q^\pi_h(s,\cdot) \rangle
                    - \lambda\, \mathrm{KL}(\pi_h(\cdot|s) \,\|\, \pi^{\mathrm{ref}}_h(\cdot|s)),
                    \qquad V_H = 0,

and :math:`V^*_h(s) = \lambda \log \sum_a \pi^{\mathrm{ref}}_h(a|s) e^{Q^*_h(s,a)/\lambda}` (the maximum of
the regularised objective over policies; :math:`\max_a Q^*_h` when :math:`\lambda = 0`). The robust regret
after :math:`K` episodes is :math:`\sum_{k<K} \mu_0^\top (V^*_0 - V^{\pi_k}_0)`, both terms exact.

Algorithm (one episode :math:`k`; our reading of DR-RPO, Gu, He, Liu & Xu, arXiv:2510.14246, 2025, which
combines the d-rectangular DR-LSVI-UCB estimates of Liu & Xu (AISTATS 2024) with the optimistic policy
optimisation of OPPO, Cai, Yang, Jin & Wang (ICML 2020)). Only the paper's abstract could be retrieved while
this was written; the steps below follow those two papers and are documented where a choice was made.

1. **Play** :math:`\pi_k` (:math:`\pi_0 = \pi^{\mathrm{ref}}`) on the nominal model; store
   :math:`(s^k_h, a^k_h, s^k_{h+1})`.
2. **Ridge regression** of the factor expectations, :math:`\Lambda_h = \gamma I + \sum_{\tau \le k}
   \phi^\tau_h \phi^{\tau\top}_h` (:math:`\gamma` = ``ridge``) and, for any function :math:`f` of the next
   state, :math:`\hat z_h[f] = \Lambda_h^{-1} \sum_\tau \phi^\tau_h f(s^\tau_{h+1})` (an estimate of
   :math:`(\mathbb E_{\mu^0_{h,i}} f)_i`). On a finite state space this equals
   :math:`\hat M_h f` with :math:`\hat M_h = \Lambda_h^{-1} N_h` and
   :math:`N_h[i, s'] = \sum_\tau \phi_i(s^\tau_h, a^\tau_h) 1\{s^\tau_{h+1} = s'\}`, which is what is
   computed (the same numbers without storing the data).
3. **Dual robust backup** of :math:`V = V^k_{h+1}` per factor (Liu & Xu 2024, Prop. 3.1 for TV; the KL dual
   of Nilim & El Ghaoui 2005 / Hu & Hong 2013):

   * TV: :math:`\hat\nu_i = \max_{\alpha \in [\min V, \max V]} \{ \hat z_i[\min(V, \alpha)] - \rho(\alpha -
     \min V) \}`. Both terms are piecewise linear in :math:`\alpha` with kinks at the values of
     :math:`V`, so the maximum over the interval is taken exactly over :math:`\alpha \in \{V(s)\}`.
   * KL: :math:`\hat\nu_i = \sup_{\beta > 0} \{ -\beta \log \hat z_i[e^{-V/\beta}] - \beta\rho \}`, with
     :math:`\hat z_i` clipped to :math:`[e^{-\mathrm{sp}(V)/\beta}, 1]\,e^{-\min V/\beta}` (the range it
     has for a distribution; computed in log space, a non-positive estimate taking the lower end). The
     supremum is taken over :math:`\beta = \mathrm{sp}(V) e^t`: a grid of :data:`KL_GRID` values of
     :math:`t \in [\log 10^{-4}, \log 10^4]`, then :data:`KL_ZOOM` rounds of :data:`KL_ZOOM_POINTS`
     points on the two cells around the best point so far (the bracket shrinks 16-fold per round), and the
     :math:`\beta \to 0` limit :math:`\min\{V(s') : \hat M_{i,s'} > 0\}`. For a true distribution the
     dual is concave in :math:`\beta` (hence unimodal in :math:`t`), so the maximiser stays inside the
     bracket and the value is exact to rounding whenever the maximiser lies in the grid's range, i.e. for
     :math:`\rho \gtrsim 10^{-6}` (tested against :mod:`mdpkit.linear.robust` for
     :math:`\rho \ge 0.1`); for :math:`\hat M` it is a deterministic maximiser.
   * :math:`\rho = 0` (the non-robust counterpart) is plain regression, :math:`\hat\nu = \hat M V`.

4. **Optimistic Q** with the d-rectangular bonus (Liu & Xu 2024, eq. (4.3)):
   :math:`Q^k_h(s,a) = \min\{ r_h(s,a) + \phi(s,a)^\top \hat\nu + \beta \sum_i \phi_i(s,a)
   \sqrt{(\Lambda_h^{-1})_{ii}},\; H - h\}` (rewards are known, as in Jin et al. 2020 and Liu & Xu 2024),
   then the OPPO-style evaluation of the current policy,
   :math:`V^k_h(s) = \langle \pi_k, Q^k_h \rangle - \lambda \mathrm{KL}(\pi_{k,h}(\cdot|s) \|
   \pi^{\mathrm{ref}}_h(\cdot|s))`.
5. **KL-regularised mirror descent** toward the reference policy with step size :math:`\eta`:

   .. math:: \pi_{k+1,h}(\cdot|s) = \arg\max_p \; \eta\big(\langle p, Q^k_h(s,\cdot)\rangle
             - \lambda \mathrm{KL}(p\|\pi^{\mathrm{ref}}_h)\big) - \mathrm{KL}(p \| \pi_{k,h}),
             \quad\text{i.e.}\quad
             \pi_{k+1,h} \propto \big(\pi_{k,h}\, (\pi^{\mathrm{ref}}_h)^{\eta\lambda}\,
             e^{\eta Q^k_h}\big)^{1/(1+\eta\lambda)}.

   As :math:`\eta \to \infty` this is the regularised greedy step :math:`\pi \propto \pi^{\mathrm{ref}}
   e^{Q/\lambda}`; with :math:`\lambda = 0` it is OPPO's update :math:`\pi \propto \pi_k e^{\eta Q}`.

Parameters (defaults): :math:`\beta = c\, d H \sqrt{\log(2dHK/\delta)}` (the order of Liu & Xu's Theorem
4.4, :math:`c` = ``bonus_scale``), :math:`\eta = \sqrt{2 \log A / (H^2 K)}` (OPPO's step size), ridge
:math:`\gamma = 1`. The paper's regret bound is sublinear in :math:`K` (:math:`\tilde O(\sqrt K)` up to
polynomial factors in :math:`d, H`); ``proofs/drrpo_regret.py`` checks the exponent empirically.

Randomness: every run draws one array of uniforms ``U (K, 2H+1)`` from ``np.random.default_rng(seed)``
(initial state, then action and next state per step, sampled by inverse CDF); the numba and torch backends
consume the same uniforms, so a seed gives the same trajectory in both.

Scoring: :math:`\mu_0^\top V^*_0` comes from :func:`mdpkit.linear.robust.robust_dp` (exact, dual inner
problems); the value :math:`\mu_0^\top V^{\pi_k}_0` of every played policy is computed inside the learner's
loop by a numba (resp. torch) copy of :func:`mdpkit.linear.robust.robust_evaluate`'s recursion, with the same
dual inner problems as step 3 applied to the true factors; tests check it equals ``robust_evaluate``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numba as nb
import numpy as np

from mdpkit.errors import InvalidArgumentError
from mdpkit.linear.model import LinearMDP

__all__ = [
    "DIVERGENCES",
    "KL_GRID",
    "KL_ZOOM",
    "KL_ZOOM_POINTS",
    "DRRPOResult",
    "drrpo",
    "drrpo_batched",
    "regularized_oppo",
    "default_beta",
    "default_eta",
    "robust_expectation",
    "draw_uniforms",
    "kl_grid",
]

#: Uncertainty sets of the learner: ``"tv"`` (total variation, half the L1 distance) and ``"kl"``.
DIVERGENCES: tuple[str, ...] = ("tv", "kl")
_KIND = {"none": 0, "tv": 1, "kl": 2}
#: The KL dual's maximisation over t = log(beta / sp(V)): a grid of KL_GRID points, then KL_ZOOM rounds of
#: KL_ZOOM_POINTS equally spaced points on the two cells around the best point so far.
KL_GRID = 49
KL_ZOOM = 5
KL_ZOOM_POINTS = 33
_T_LO, _T_HI = math.log(1e-4), math.log(1e4)


def kl_grid() -> np.ndarray:
    r"""The grid of :math:`t = \log(\beta/\mathrm{sp}(V))` of the KL dual (shared by both backends).

    Returns
    -------
    ndarray (KL_GRID,)
        Equally spaced values from :math:`\log 10^{-4}` to :math:`\log 10^{4}`.
    """
    return np.linspace(_T_LO, _T_HI, KL_GRID)


# ================================================================== numba kernels
@nb.njit(cache=True)
def _kl_obj(m, V, vmin, span, rho, t):
    """-beta log z - beta rho at beta = span e^t, z = sum_s m_s e^{-(V_s - vmin)/beta} in log space."""
    beta = span * math.exp(t)
    c = -np.inf
    for s in range(V.shape[0]):
        if m[s] != 0.0:
            c = max(c, -(V[s] - vmin) / beta)
    if c == -np.inf:
        c = 0.0
    z = 0.0
    for s in range(V.shape[0]):
        if m[s] != 0.0:
            z += m[s] * math.exp(-(V[s] - vmin) / beta - c)
    lo = -span / beta
    logz = c + math.log(z) if z > 0.0 else lo
    if logz < lo:
        logz = lo
    if logz > 0.0:
        logz = 0.0
    return vmin - beta * logz - beta * rho


@nb.njit(cache=True)
def _robust_expect(M, V, kind, rho, tgrid, out):
    """out[i] = robust (dual) expectation of V under factor row M[i] (see the module docstring)."""
    d, S = M.shape
    vmin = V[0]
    vmax = V[0]
    for s in range(1, S):
        vmin = min(vmin, V[s])
        vmax = max(vmax, V[s])
    for i in range(d):
        if kind == 0 or rho == 0.0:
            acc = 0.0
            for s in range(S):
                acc += M[i, s] * V[s]
            out[i] = acc
        elif kind == 1:
            best = -np.inf
            for j in range(S):
                alpha = V[j]
                acc = 0.0
                for s in range(S):
                    acc += M[i, s] * min(V[s], alpha)
                val = acc - rho * (alpha - vmin)
                if val > best:
                    best = val
            out[i] = best
        else:
            span = vmax - vmin
            if span <= 0.0:
                out[i] = vmin
                continue
            # beta -> 0 limit: the smallest value on the (estimated) support
            best = np.inf
            for s in range(S):
                if M[i, s] > 0.0 and V[s] < best:
                    best = V[s]
            if best == np.inf:
                best = vmin
            G = tgrid.shape[0]
            jbest = 0
            fbest = -np.inf
            for j in range(G):
                f = _kl_obj(M[i], V, vmin, span, rho, tgrid[j])
                if f > fbest:
                    fbest = f
                    jbest = j
            a = tgrid[max(jbest - 1, 0)]
            b = tgrid[min(jbest + 1, G - 1)]
            n = KL_ZOOM_POINTS - 1
            for _ in range(KL_ZOOM):
                jb = 0
                fb = -np.inf
                for j in range(n + 1):
                    f = _kl_obj(M[i], V, vmin, span, rho, a + (b - a) * (j / n))
                    if f > fb:
                        fb = f
                        jb = j
                fbest = max(fbest, fb)
                a, b = a + (b - a) * (max(jb - 1, 0) / n), a + (b - a) * (min(jb + 1, n) / n)
            out[i] = max(best, fbest)


@nb.njit(cache=True)
def _policy_value(logpi, Q, logref, lam, out):
    """out[s] = <pi(s), Q(s)> - lam KL(pi(s) || ref(s))."""
    S, A = Q.shape
    for s in range(S):
        acc = 0.0
        for a in range(A):
            p = math.exp(logpi[s, a])
            if p > 0.0:
                acc += p * Q[s, a]
                if lam != 0.0:
                    acc -= lam * p * (logpi[s, a] - logref[s, a])
        out[s] = acc


@nb.njit(cache=True)
def _evaluate(phi, R, mu, logpi, logref, kind, rho, lam, tgrid, Vout):
    """Exact regularised robust values of logpi (H, S, A): Vout (H+1, S)."""
    H, S, A = R.shape
    d = phi.shape[2]
    nu = np.empty(d)
    Q = np.empty((S, A))
    Vout[H, :] = 0.0
    for h in range(H - 1, -1, -1):
        _robust_expect(mu[h], Vout[h + 1], kind, rho, tgrid, nu)
        for s in range(S):
            for a in range(A):
                acc = R[h, s, a]
                for i in range(d):
                    acc += phi[s, a, i] * nu[i]
                Q[s, a] = acc
        _policy_value(logpi[h], Q, logref[h], lam, Vout[h])


@nb.njit(cache=True)
def _sample(p_cdf, u):
    n = p_cdf.shape[0]
    for j in range(n):
        if u < p_cdf[j]:
            return j
    return n - 1


@nb.njit(cache=True)
def _run(
    phi,
    R,
    mu,
    P_cdf,
    init_cdf,
    logref,
    kind,
    rho,
    lam,
    eta,
    beta,
    ridge,
    U,
    tgrid,
    logpi,
    values,
    returns,
    visits,
):
    H, S, A = R.shape
    d = phi.shape[2]
    K = U.shape[0]
    Lam = np.zeros((H, d, d))
    N = np.zeros((H, d, S))
    for h in range(H):
        for i in range(d):
            Lam[h, i, i] = ridge
    Veval = np.empty((H + 1, S))
    Vk = np.empty((H + 1, S))
    Qk = np.empty((H, S, A))
    nu = np.empty(d)
    cdf = np.empty(A)
    bon = np.empty(d)
    for k in range(K):
        # exact regularised robust value of the policy played this episode
        _evaluate(phi, R, mu, logpi, logref, kind, rho, lam, tgrid, Veval)
        acc = 0.0
        for s in range(S):
            acc += (init_cdf[s] - (init_cdf[s - 1] if s > 0 else 0.0)) * Veval[0, s]
        values[k] = acc
        # 1. play pi_k
        s = _sample(init_cdf, U[k, 0])
        ret = 0.0
        for h in range(H):
            c = 0.0
            for a in range(A):
                c += math.exp(logpi[h, s, a])
                cdf[a] = c
            a = _sample(cdf, U[k, 1 + 2 * h])
            s2 = _sample(P_cdf[h, s, a], U[k, 2 + 2 * h])
            ret += R[h, s, a]
            visits[h, s, a] += 1
            for i in range(d):
                fi = phi[s, a, i]
                N[h, i, s2] += fi
                for j in range(d):
                    Lam[h, i, j] += fi * phi[s, a, j]
            s = s2
        returns[k] = ret
        # 2-4. ridge regression, dual robust backup, optimistic evaluation of pi_k
        Vk[H, :] = 0.0
        for h in range(H - 1, -1, -1):
            Linv = np.linalg.inv(Lam[h])
            Mh = Linv @ N[h]
            _robust_expect(Mh, Vk[h + 1], kind, rho, tgrid, nu)
            for i in range(d):
                bon[i] = beta * math.sqrt(max(Linv[i, i], 0.0))
            cap = float(H - h)
            for s in range(S):
                for a in range(A):
                    q = R[h, s, a]
                    for i in range(d):
                        q += phi[s, a, i] * (nu[i] + bon[i])
                    Qk[h, s, a] = min(q, cap)
            _policy_value(logpi[h], Qk[h], logref[h], lam, Vk[h])
        # 5. mirror descent toward the reference policy
        scale = 1.0 / (1.0 + eta * lam)
        for h in range(H):
            for s in range(S):
                m = -np.inf
                for a in range(A):
                    x = (logpi[h, s, a] + eta * lam * logref[h, s, a] + eta * Qk[h, s, a]) * scale
                    logpi[h, s, a] = x
                    m = max(m, x)
                z = 0.0
                for a in range(A):
                    z += math.exp(logpi[h, s, a] - m)
                lz = m + math.log(z)
                for a in range(A):
                    logpi[h, s, a] -= lz


# ================================================================== public API
@dataclass(frozen=True)
class DRRPOResult:
    r"""One DR-RPO run (or a batch of them: every array then has a leading axis ``B``).

    Attributes
    ----------
    gaps : ndarray (K,)
        Per-episode robust regret :math:`\mu_0^\top(V^*_0 - V^{\pi_k}_0)` (regularised, exact).
    values : ndarray (K,)
        :math:`\mu_0^\top V^{\pi_k}_0`, the regularised robust value of the policy played in episode k.
    v_star : float
        :math:`\mu_0^\top V^*_0`, the regularised robust optimum.
    returns : ndarray (K,)
        Realised (unregularised) return of each episode on the nominal model.
    policy : ndarray (H, S, A)
        The policy after the last update (the one episode K would play).
    visits : ndarray (H, S, A)
        Visit counts of the state-action pairs.
    beta, eta : float
        Bonus multiplier and mirror-descent step size used.
    divergence : str
    rho, lam : float
    """

    gaps: np.ndarray
    values: np.ndarray
    v_star: float | np.ndarray
    returns: np.ndarray
    policy: np.ndarray
    visits: np.ndarray
    beta: float
    eta: float
    divergence: str
    rho: float
    lam: float

    @property
    def regret(self) -> np.ndarray:
        r"""Cumulative robust regret :math:`\sum_{j \le k} \mathrm{gap}_j`, shape (K,) (or (B, K))."""
        return np.cumsum(self.gaps, axis=-1)


def _check_nonneg(x: object, name: str, allow_inf: bool = False) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise InvalidArgumentError(f"{name} = {x!r} must be a real number")
    v = float(x)
    if not (v >= 0.0) or (not allow_inf and not math.isfinite(v)):
        raise InvalidArgumentError(f"{name} = {x!r} must be a finite number >= 0")
    return v


def _check_divergence(divergence: object) -> str:
    if divergence not in DIVERGENCES:
        raise InvalidArgumentError(f"divergence = {divergence!r} is not one of {DIVERGENCES}")
    return str(divergence)


def _check_rho(rho: object, divergence: str) -> float:
    r = _check_nonneg(rho, "rho")
    if divergence == "tv" and r > 1.0:
        raise InvalidArgumentError(f"rho = {rho!r} > 1: a total-variation radius is at most 1")
    return r


def _log_reference(lmdp: LinearMDP, pi_ref: object | None) -> np.ndarray:
    H, S, A = lmdp.H, lmdp.S, lmdp.A
    if pi_ref is None:
        return np.full((H, S, A), -math.log(A))
    ref = np.asarray(pi_ref, dtype=np.float64)
    if ref.shape == (S, A):
        ref = np.broadcast_to(ref, (H, S, A))
    if ref.shape != (H, S, A):
        raise InvalidArgumentError(f"pi_ref has shape {ref.shape}, expected (S, A) = ({S}, {A}) or (H, S, A)")
    bad = np.argwhere(~(ref > 0) | ~np.isfinite(ref))
    if bad.size:
        idx = tuple(int(x) for x in bad[0])
        raise InvalidArgumentError(
            f"pi_ref{list(idx)} = {float(ref[idx])!r}: the reference policy must be positive everywhere "
            "(KL(pi || pi_ref) is infinite otherwise)"
        )
    sums = ref.sum(axis=-1)
    j = np.argmax(np.abs(sums - 1.0))
    hj, sj = np.unravel_index(j, sums.shape)
    if abs(sums[hj, sj] - 1.0) > 1e-9:
        raise InvalidArgumentError(f"pi_ref[{hj}, {sj}, :] sums to {float(sums[hj, sj])!r}, not 1")
    return np.log(ref / sums[..., None])


def default_beta(d: int, H: int, K: int, delta: float = 0.05, bonus_scale: float = 1.0) -> float:
    r"""Bonus multiplier :math:`\beta = c\, d H \sqrt{\log(2 d H K / \delta)}` (Liu & Xu 2024, Thm 4.4 order).

    Parameters
    ----------
    d, H, K : int
        Feature dimension, horizon, number of episodes.
    delta : float
        Failure probability of the confidence bound, in (0, 1).
    bonus_scale : float
        The constant :math:`c \ge 0` (``1`` is the theory's order; smaller values void the guarantee).

    Returns
    -------
    float
    """
    if not (0.0 < delta < 1.0):
        raise InvalidArgumentError(f"delta = {delta!r} must be in (0, 1)")
    c = _check_nonneg(bonus_scale, "bonus_scale")
    return c * d * H * math.sqrt(math.log(2.0 * d * H * K / delta))


def default_eta(A: int, H: int, K: int) -> float:
    r"""OPPO's mirror-descent step size :math:`\eta = \sqrt{2 \log A / (H^2 K)}` (Cai et al. 2020, Thm 3.1).

    Parameters
    ----------
    A, H, K : int
        Actions, horizon, episodes.

    Returns
    -------
    float
        (``1.0`` when ``A == 1``, where the update is trivial.)
    """
    if A == 1:
        return 1.0
    return math.sqrt(2.0 * math.log(A) / (H * H * K))


def draw_uniforms(seed: int | np.random.Generator, K: int, H: int) -> np.ndarray:
    """The run's randomness: ``U (K, 2H+1)`` uniforms in [0, 1) (initial state, then action and next state).

    Parameters
    ----------
    seed : int or numpy Generator
    K, H : int

    Returns
    -------
    ndarray (K, 2H+1)
    """
    rng = np.random.default_rng(seed)
    return rng.random((K, 2 * H + 1))


def _prepare(lmdp: LinearMDP, divergence: str, rho: object, lam: object, pi_ref: object | None) -> tuple:
    if not isinstance(lmdp, LinearMDP):
        raise InvalidArgumentError(f"expected a LinearMDP, got {type(lmdp).__name__}")
    div = _check_divergence(divergence)
    r = _check_rho(rho, div)
    la = _check_nonneg(lam, "lam")
    logref = _log_reference(lmdp, pi_ref)
    P = lmdp.kernel()
    P_cdf = np.ascontiguousarray(np.cumsum(P, axis=-1))
    init_cdf = np.cumsum(lmdp.initial)
    kind = _KIND[div] if r > 0 else 0
    return div, r, la, logref, P_cdf, init_cdf, kind


def robust_expectation(M: np.ndarray, V: np.ndarray, divergence: str = "tv", rho: float = 0.1) -> np.ndarray:
    r"""Dual robust expectation of ``V`` under each factor row ``M[i]`` (step 3 of the module docstring).

    For a row :math:`m = \mu_i \in \Delta_S` this is exactly :math:`\min_{\mu: D(\mu\|m) \le \rho}
    \mathbb E_\mu V` (TV: by the breakpoint maximisation; KL: to about 1e-12); for an estimated row
    :math:`\hat M_i` (not a distribution) it is the same formula evaluated as DR-RPO does.

    Parameters
    ----------
    M : ndarray (d, S)
        Factor rows (or their ridge estimates).
    V : ndarray (S,)
        Next-stage values.
    divergence : {"tv", "kl"}
    rho : float
        Radius (``0``: the plain expectation :math:`M V`).

    Returns
    -------
    ndarray (d,)
    """
    div = _check_divergence(divergence)
    r = _check_rho(rho, div)
    M = np.ascontiguousarray(M, dtype=np.float64)
    V = np.ascontiguousarray(V, dtype=np.float64)
    if M.ndim != 2 or V.shape != (M.shape[1],):
        raise InvalidArgumentError(f"M has shape {M.shape} and V {V.shape}; expected (d, S) and (S,)")
    out = np.empty(M.shape[0])
    _robust_expect(M, V, _KIND[div] if r > 0 else 0, r, kl_grid(), out)
    return out


def drrpo(
    lmdp: LinearMDP,
    K: int,
    *,
    rho: float = 0.1,
    divergence: str = "tv",
    lam: float = 0.1,
    pi_ref: np.ndarray | None = None,
    eta: float | None = None,
    beta: float | None = None,
    bonus_scale: float = 1.0,
    delta: float = 0.05,
    ridge: float = 1.0,
    seed: int | np.random.Generator = 0,
    backend: str = "numba",
    device: str | None = None,
) -> DRRPOResult:
    r"""Run DR-RPO for ``K`` episodes on the nominal model and score it exactly (module docstring).

    Parameters
    ----------
    lmdp : LinearMDP
        The nominal model (the learner knows ``phi`` and the rewards, not the factors ``mu``).
    K : int
        Episodes.
    rho : float
        Radius of the d-rectangular set (``0``: the non-robust counterpart, :func:`regularized_oppo`).
    divergence : {"tv", "kl"}
    lam : float
        Weight :math:`\lambda \ge 0` of :math:`\mathrm{KL}(\pi\|\pi^{\mathrm{ref}})`.
    pi_ref : ndarray (S, A) or (H, S, A), optional
        Reference policy, positive everywhere (default uniform); also the first policy played.
    eta : float, optional
        Mirror-descent step (default :func:`default_eta`).
    beta : float, optional
        Bonus multiplier (default :func:`default_beta` with ``bonus_scale`` and ``delta``).
    bonus_scale, delta : float
        See :func:`default_beta`.
    ridge : float
        Ridge parameter :math:`\gamma > 0` of :math:`\Lambda_h = \gamma I + \sum \phi\phi^\top`.
    seed : int or numpy Generator
        Source of :func:`draw_uniforms`.
    backend : {"numba", "torch"}
        ``"torch"`` runs :func:`drrpo_batched` with one seed.
    device : str, optional
        torch device (default CUDA when available).

    Returns
    -------
    DRRPOResult

    Raises
    ------
    InvalidArgumentError
        A parameter out of range (the message names it).
    """
    if backend == "torch":
        res = drrpo_batched(
            lmdp,
            K,
            [seed],
            rho=rho,
            divergence=divergence,
            lam=lam,
            pi_ref=pi_ref,
            eta=eta,
            beta=beta,
            bonus_scale=bonus_scale,
            delta=delta,
            ridge=ridge,
            device=device,
        )
        return _unbatch(res, 0)
    if backend != "numba":
        raise InvalidArgumentError(f"backend = {backend!r} is not 'numba' or 'torch'")
    K, be, et, rg = _hyper(lmdp, K, eta, beta, bonus_scale, delta, ridge)
    div, r, la, logref, P_cdf, init_cdf, kind = _prepare(lmdp, divergence, rho, lam, pi_ref)
    H, S, A = lmdp.H, lmdp.S, lmdp.A
    R = np.ascontiguousarray(lmdp.R)
    U = draw_uniforms(seed, K, H)
    logpi = logref.copy()
    values = np.empty(K)
    returns = np.empty(K)
    visits = np.zeros((H, S, A), dtype=np.int64)
    tg = kl_grid()
    _run(
        lmdp.phi,
        R,
        lmdp.mu,
        P_cdf,
        init_cdf,
        logref,
        kind,
        r,
        la,
        et,
        be,
        rg,
        U,
        tg,
        logpi,
        values,
        returns,
        visits,
    )
    v_star = _v_star(lmdp, div, r, la, logref)
    return DRRPOResult(
        gaps=v_star - values,
        values=values,
        v_star=v_star,
        returns=returns,
        policy=np.exp(logpi),
        visits=visits,
        beta=be,
        eta=et,
        divergence=div,
        rho=r,
        lam=la,
    )


def _v_star(lmdp: LinearMDP, div: str, rho: float, lam: float, logref: np.ndarray) -> float:
    """The regularised robust optimum by :func:`mdpkit.linear.robust.robust_dp` (dual, exact)."""
    from mdpkit.linear.robust import robust_dp

    return robust_dp(lmdp, div, rho, lam=lam, pi_ref=np.exp(logref)).value


def _hyper(lmdp, K, eta, beta, bonus_scale, delta, ridge) -> tuple[int, float, float, float]:
    if isinstance(K, bool) or not isinstance(K, numbers.Integral) or int(K) < 1:
        raise InvalidArgumentError(f"K = {K!r} must be a positive integer")
    K = int(K)
    be = default_beta(lmdp.d, lmdp.H, K, delta, bonus_scale) if beta is None else _check_nonneg(beta, "beta")
    et = default_eta(lmdp.A, lmdp.H, K) if eta is None else _check_nonneg(eta, "eta")
    rg = _check_nonneg(ridge, "ridge")
    if rg <= 0:
        raise InvalidArgumentError(f"ridge = {ridge!r} must be > 0")
    return K, be, et, rg


def _unbatch(res: DRRPOResult, b: int) -> DRRPOResult:
    return DRRPOResult(
        gaps=res.gaps[b],
        values=res.values[b],
        v_star=float(res.v_star[b]),
        returns=res.returns[b],
        policy=res.policy[b],
        visits=res.visits[b],
        beta=res.beta,
        eta=res.eta,
        divergence=res.divergence,
        rho=res.rho,
        lam=res.lam,
    )


def regularized_oppo(lmdp: LinearMDP, K: int, **kwargs: object) -> DRRPOResult:
    r"""The non-robust counterpart: DR-RPO with :math:`\rho = 0` (regularised LSVI-UCB estimates + OPPO step).

    Plain ridge regression :math:`\hat\nu = \hat M_h V` replaces the dual backup; the bonus, the
    regularisation and the mirror-descent update are unchanged. Its regret is scored against the
    regularised *nominal* optimum (``rho = 0``); to score it against a robust objective, evaluate
    ``result.policy`` with :func:`mdpkit.linear.robust.robust_evaluate`.

    Parameters
    ----------
    lmdp : LinearMDP
    K : int
    **kwargs
        Any keyword of :func:`drrpo` except ``rho``.

    Returns
    -------
    DRRPOResult
    """
    if "rho" in kwargs:
        raise InvalidArgumentError("regularized_oppo is DR-RPO with rho = 0; do not pass rho")
    return drrpo(lmdp, K, rho=0.0, **kwargs)  # type: ignore[arg-type]


def drrpo_batched(
    lmdp: LinearMDP | list[LinearMDP],
    K: int,
    seeds: list[int],
    *,
    rho: float = 0.1,
    divergence: str = "tv",
    lam: float = 0.1,
    pi_ref: np.ndarray | None = None,
    eta: float | None = None,
    beta: float | None = None,
    bonus_scale: float = 1.0,
    delta: float = 0.05,
    ridge: float = 1.0,
    device: str | None = None,
) -> DRRPOResult:
    r"""Many DR-RPO runs at once with the torch twin (:mod:`mdpkit.linear._torch`), on any device.

    Parameters
    ----------
    lmdp : LinearMDP or list of LinearMDP
        One model for every seed, or one model per seed (same S, A, d, H).
    K : int
        Episodes.
    seeds : list of int
        One run per seed; run ``b`` uses :func:`draw_uniforms` ``(seeds[b], K, H)``, so it replays the numba
        run with the same seed.
    rho, divergence, lam, pi_ref, eta, beta, bonus_scale, delta, ridge
        As in :func:`drrpo` (shared by the batch).
    device : str, optional
        torch device; default CUDA when available, else CPU.

    Returns
    -------
    DRRPOResult
        Arrays with a leading axis ``B = len(seeds)``; ``v_star`` has shape (B,).
    """
    from mdpkit.linear import _torch as T

    models = list(lmdp) if isinstance(lmdp, (list, tuple)) else None
    if not seeds:
        raise InvalidArgumentError("seeds is empty: give at least one seed")
    if models is not None and len(models) != len(seeds):
        raise InvalidArgumentError(f"{len(models)} models for {len(seeds)} seeds; give one per seed")
    models = models if models is not None else [lmdp] * len(seeds)
    first = models[0]
    for j, m in enumerate(models):
        if not isinstance(m, LinearMDP):
            raise InvalidArgumentError(f"model {j} is a {type(m).__name__}, not a LinearMDP")
        if (m.S, m.A, m.d, m.H) != (first.S, first.A, first.d, first.H):
            raise InvalidArgumentError(
                f"model {j} has (S, A, d, H) = {(m.S, m.A, m.d, m.H)}, model 0 has "
                f"{(first.S, first.A, first.d, first.H)}; a batch needs one shape"
            )
    K, be, et, rg = _hyper(first, K, eta, beta, bonus_scale, delta, ridge)
    preps = [_prepare(m, divergence, rho, lam, pi_ref) for m in models]
    div, r, la, logref, _, _, kind = preps[0]
    arrays = {
        "phi": np.stack([m.phi for m in models]),
        "R": np.stack([m.R for m in models]),
        "mu": np.stack([m.mu for m in models]),
        "P_cdf": np.stack([p[4] for p in preps]),
        "init_cdf": np.stack([p[5] for p in preps]),
        "initial": np.stack([m.initial for m in models]),
        "logref": np.stack([p[3] for p in preps]),
        "U": np.stack([draw_uniforms(s, K, first.H) for s in seeds]),
    }
    out = T.run(arrays, kind, r, la, et, be, rg, kl_grid(), device=device)
    out["v_star"] = np.array([_v_star(m, div, r, la, p[3]) for m, p in zip(models, preps, strict=True)])
    return DRRPOResult(
        gaps=out["v_star"][:, None] - out["values"],
        values=out["values"],
        v_star=out["v_star"],
        returns=out["returns"],
        policy=np.exp(out["logpi"]),
        visits=out["visits"],
        beta=be,
        eta=et,
        divergence=div,
        rho=r,
        lam=la,
    )
