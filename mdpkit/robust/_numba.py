r"""numba kernels of the robust Bellman operators: exact inner problems and whole sweeps.

Private: :mod:`mdpkit.robust.inner` and :mod:`mdpkit.robust.sets` validate and dispatch. Conventions of
:mod:`mdpkit.core._numba`: ``P[s, a, s']`` dense float64 (S, A, S), rewards (S, A) with ``-inf`` at
infeasible pairs (their rows are skipped). Every sweep first sorts ``v`` once (``order = argsort(v)``,
ascending); each (s, a) inner problem is then linear in ``S`` (L1, L-infinity) or ``S`` times the number
of Newton steps (KL).

Inner problems (``p`` a nominal distribution, ``v`` a value vector, ``q`` the worst case written in place):

* L1 (Iyengar 2005; Strehl & Littman 2008; Ho, Petrik & Wiesemann 2018, homotopy method):
  :math:`\min\{q^\top v : q \in \Delta, \|q - p\|_1 \le \kappa\}` moves
  :math:`\epsilon = \min(\kappa/2, 1 - p_{i^*})` of mass onto :math:`i^* = \arg\min v`, taken from the
  states of largest :math:`v` first.
* L-infinity: :math:`\min\{q^\top v : q \in \Delta, |q_i - p_i| \le \kappa\}`: start at the lower bounds
  :math:`\max(0, p_i - \kappa)` and fill the states of smallest :math:`v` up to :math:`\min(1, p_i+\kappa)`.
* KL (Nilim & El Ghaoui 2005; Iyengar 2005): :math:`\min\{q^\top v : \mathrm{KL}(q\|p) \le
  \delta\}` has the one-dimensional dual :math:`\max_{\beta \ge 0} -\beta \log \sum_i p_i e^{-v_i/\beta}
  - \beta\delta`, maximised where :math:`\mathrm{KL}(q_\beta \| p) = \delta` with
  :math:`q_\beta \propto p\, e^{-v/\beta}` (the derivative of the dual is :math:`\mathrm{KL}(q_\beta\|p) -
  \delta`, decreasing in :math:`\beta`); solved by safeguarded Newton steps on :math:`\log\beta`
  (bisection when a step leaves the bracket) until :math:`\beta|\mathrm{KL}(q_\beta\|p) - \delta|`, the
  first-order error of the value, is at rounding level.
  When :math:`\delta \ge -\log p(\arg\min_{\mathrm{supp}\,p} v)` the minimum :math:`\min_{p_i>0} v_i` is
  attained by :math:`p` conditioned on the argmin set.
* s-rectangular L1 (Ho, Petrik & Wiesemann 2018, bisection method over the level): see
  :func:`s_l1_state`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_JIT = dict(cache=True, nogil=True)

L1, LINF, KL = 0, 1, 2


# --------------------------------------------------------------------------- (s, a) inner problems
@nb.njit(**_JIT)
def l1_inner(p, v, order, radius, q):
    """Worst case over the L1 ball; writes q, returns q.v (order = argsort(v) ascending)."""
    S = v.shape[0]
    for i in range(S):
        q[i] = p[i]
    imin = order[0]
    eps = min(0.5 * radius, 1.0 - p[imin])
    if eps > 0.0:
        q[imin] += eps
        rem = eps
        for k in range(S - 1, 0, -1):
            j = order[k]
            take = min(q[j], rem)
            q[j] -= take
            rem -= take
            if rem <= 0.0:
                break
    acc = 0.0
    for i in range(S):
        acc += q[i] * v[i]
    return acc


@nb.njit(**_JIT)
def linf_inner(p, v, order, radius, q):
    """Worst case over the L-infinity ball intersected with the simplex; writes q, returns q.v."""
    S = v.shape[0]
    mass = 1.0
    for i in range(S):
        q[i] = max(0.0, p[i] - radius)
        mass -= q[i]
    for k in range(S):
        if mass <= 0.0:
            break
        j = order[k]
        add = min(min(1.0, p[j] + radius) - q[j], mass)
        q[j] += add
        mass -= add
    acc = 0.0
    for i in range(S):
        acc += q[i] * v[i]
    return acc


@nb.njit(**_JIT)
def _kl_tilt(p, v, vmin, beta, q):
    """q = p exp(-(v - vmin)/beta) / Z; returns KL(q || p)."""
    S = v.shape[0]
    z = 0.0
    for i in range(S):
        if p[i] > 0.0:
            q[i] = p[i] * np.exp(-(v[i] - vmin) / beta)
            z += q[i]
        else:
            q[i] = 0.0
    kl = 0.0
    for i in range(S):
        q[i] /= z
        if q[i] > 0.0:
            kl += q[i] * (-(v[i] - vmin) / beta)
    return kl - np.log(z)


@nb.njit(**_JIT)
def kl_inner(p, v, delta, q):
    """Worst case over the KL ball {q : KL(q||p) <= delta}; writes q, returns q.v."""
    S = v.shape[0]
    vmin = np.inf
    vmax = -np.inf
    for i in range(S):
        if p[i] > 0.0:
            vmin = min(vmin, v[i])
            vmax = max(vmax, v[i])
    mmin = 0.0
    for i in range(S):
        if p[i] > 0.0 and v[i] == vmin:
            mmin += p[i]
    if delta <= 0.0 or vmax == vmin:
        acc = 0.0
        for i in range(S):
            q[i] = p[i]
            acc += p[i] * v[i]
        return acc
    if delta >= -np.log(mmin):
        for i in range(S):
            q[i] = p[i] / mmin if (p[i] > 0.0 and v[i] == vmin) else 0.0
        return vmin
    # bracket beta: KL(q_beta || p) decreases from -log(mmin) (beta -> 0) to 0 (beta -> inf)
    hi = vmax - vmin
    while _kl_tilt(p, v, vmin, hi, q) > delta:
        hi *= 2.0
    lo = hi
    while _kl_tilt(p, v, vmin, lo, q) <= delta and lo > 1e-300:
        lo *= 0.5
    # safeguarded Newton on x = log(beta): dKL/dx = -Var_q(v) / beta^2; near beta*, the value error is
    # about beta * |KL - delta|, so stop when that is at rounding level
    scale = 4.0 * np.finfo(np.float64).eps * (abs(vmin) + vmax - vmin)
    beta = np.sqrt(lo * hi)
    for _ in range(200):
        f = _kl_tilt(p, v, vmin, beta, q) - delta
        if f > 0.0:
            lo = beta
        else:
            hi = beta
        if abs(f) * beta <= scale or hi <= lo * (1.0 + 1e-15):
            break
        m1 = 0.0
        m2 = 0.0
        for i in range(S):
            d = v[i] - vmin
            m1 += q[i] * d
            m2 += q[i] * d * d
        var = m2 - m1 * m1
        nxt = beta * np.exp(f * beta * beta / var) if var > 0.0 else 0.0
        beta = nxt if lo < nxt < hi else np.sqrt(lo * hi)
    kl = _kl_tilt(p, v, vmin, beta, q)
    if kl > delta:
        # the stopping rule bounds the value error, not KL: with values tied to rounding, beta can end on the
        # infeasible side by far in KL. Pull q back into the ball: KL is convex, so (1 - t) p + t q with
        # t = delta / KL(q || p) is feasible; its value moves by at most (1 - t)(vmax - vmin), i.e. by the
        # stopping tolerance (|f| beta <= scale) or by the rounding-level spread of tied values.
        t = delta / kl
        for i in range(S):
            q[i] = (1.0 - t) * p[i] + t * q[i]
    acc = 0.0
    for i in range(S):
        acc += q[i] * v[i]
    return acc


@nb.njit(**_JIT)
def inner(kind, p, v, order, radius, q):
    if kind == L1:
        return l1_inner(p, v, order, radius, q)
    if kind == LINF:
        return linf_inner(p, v, order, radius, q)
    return kl_inner(p, v, radius, q)


# --------------------------------------------------------------------------- (s, a)-rectangular sweeps
@nb.njit(parallel=True, **_JIT)
def q_sa(kind, P, R, gamma, v, radius, Q):
    """Q[s, a] = R[s, a] + gamma * min_{q in U_{s,a}} q.v (``-inf`` at infeasible pairs)."""
    S, A = R.shape
    order = np.argsort(v, kind="mergesort")
    for s in nb.prange(S):
        q = np.empty(S)
        for a in range(A):
            if R[s, a] == -np.inf:
                Q[s, a] = -np.inf
            else:
                Q[s, a] = R[s, a] + gamma * inner(kind, P[s, a], v, order, radius[s, a], q)


@nb.njit(parallel=True, **_JIT)
def kernel_sa(kind, P, R, v, radius, Pw):
    """Pw[s, a] = argmin_{q in U_{s,a}} q.v (the nominal row at infeasible pairs)."""
    S, A = R.shape
    order = np.argsort(v, kind="mergesort")
    for s in nb.prange(S):
        for a in range(A):
            if R[s, a] == -np.inf:
                Pw[s, a, :] = P[s, a, :]
            else:
                inner(kind, P[s, a], v, order, radius[s, a], Pw[s, a])


@nb.njit(parallel=True, **_JIT)
def policy_backup_sa(kind, P, R, gamma, v, radius, pol, out):
    """out[s] = R[s, pol[s]] + gamma * min_{q in U_{s,pol[s]}} q.v."""
    S = R.shape[0]
    order = np.argsort(v, kind="mergesort")
    for s in nb.prange(S):
        q = np.empty(S)
        a = pol[s]
        out[s] = R[s, a] + gamma * inner(kind, P[s, a], v, order, radius[s, a], q)


# --------------------------------------------------------------------------- s-rectangular L1
@nb.njit(**_JIT)
def _knots(Ps, Rs, gamma, v, order, xi, g):
    r"""Breakpoints of g_a(x) = R[a] + gamma * min_{||q - P[a]||_1 <= x} q.v, x in [0, 2(1 - P[a, i*])].

    xi[a, k], g[a, k] for k < n[a] + 1 (convex, nonincreasing, piecewise linear); returns n (A,)."""
    A, S = Ps.shape
    n = np.zeros(A, dtype=np.int64)
    imin = order[0]
    for a in range(A):
        if Rs[a] == -np.inf:
            n[a] = -1
            continue
        g0 = 0.0
        for i in range(S):
            g0 += Ps[a, i] * v[i]
        xi[a, 0] = 0.0
        g[a, 0] = Rs[a] + gamma * g0
        rem = 1.0 - Ps[a, imin]
        k = 0
        for m in range(S - 1, 0, -1):
            if rem <= 0.0:
                break
            j = order[m]
            take = min(Ps[a, j], rem)
            if take <= 0.0:
                continue
            rem -= take
            k += 1
            xi[a, k] = xi[a, k - 1] + 2.0 * take
            g[a, k] = g[a, k - 1] - gamma * take * (v[j] - v[imin])
        n[a] = k
    return n


@nb.njit(**_JIT)
def _xi_of(xi, g, n, a, u):
    """Smallest x with g_a(x) <= u (inf when even the whole budget cannot reach u)."""
    if u >= g[a, 0]:
        return 0.0
    for k in range(n[a]):
        if g[a, k + 1] <= u:
            return xi[a, k] + (g[a, k] - u) / (g[a, k] - g[a, k + 1]) * (xi[a, k + 1] - xi[a, k])
    return np.inf


@nb.njit(**_JIT)
def _budget(xi, g, n, u):
    tot = 0.0
    for a in range(n.shape[0]):
        if n[a] >= 0:
            tot += _xi_of(xi, g, n, a, u)
    return tot


@nb.njit(**_JIT)
def s_l1_state(Ps, Rs, gamma, v, order, kappa, d, Pw):
    r"""One s-rectangular L1 robust backup (Ho, Petrik & Wiesemann 2018, bisection method).

    .. math:: u^* = \max_{d \in \Delta_A} \min_{\sum_a \|p_a - \bar p_a\|_1 \le \kappa}
              \sum_a d_a (r_a + \gamma p_a^\top v)
              = \min_{\xi \ge 0,\, \sum_a \xi_a \le \kappa} \max_a g_a(\xi_a)

    with :math:`g_a(\xi) = r_a + \gamma \min_{\|p - \bar p_a\|_1 \le \xi} p^\top v` convex, piecewise linear
    and nonincreasing (knots from the L1 homotopy). The level :math:`u^*` is the smallest :math:`u` whose
    budget :math:`B(u) = \sum_a g_a^{-1}(u)` is at most :math:`\kappa`; :math:`B` is piecewise linear
    between the knot values, so a binary search over the sorted knot values and one linear interpolation
    give :math:`u^*` exactly (no bisection tolerance). The maximising (randomised) policy is
    :math:`d_a \propto 1/\sigma_a` over the actions whose budget is positive on the final segment
    (:math:`\sigma_a` their slope magnitude there), a saddle point by the KKT conditions; when the budget
    does not bind it is the action with the largest fully-adversarial value. Writes ``d`` (A,) and the
    worst kernel ``Pw`` (A, S); returns :math:`u^*`.
    """
    A, S = Ps.shape
    xi = np.zeros((A, S + 1))
    g = np.zeros((A, S + 1))
    n = _knots(Ps, Rs, gamma, v, order, xi, g)
    ulow = -np.inf
    abest = -1
    for a in range(A):
        if n[a] >= 0 and g[a, n[a]] > ulow:
            ulow = g[a, n[a]]
            abest = a
    for a in range(A):
        d[a] = 0.0
    if _budget(xi, g, n, ulow) <= kappa:
        ustar = ulow
        d[abest] = 1.0
    else:
        m = 0
        for a in range(A):
            if n[a] >= 0:
                m += n[a] + 1
        cand = np.empty(m + 1)
        c = 0
        for a in range(A):
            for k in range(n[a] + 1):
                cand[c] = g[a, k]
                c += 1
        cand[c] = ulow
        cand = np.sort(cand)
        # smallest index with budget <= kappa among candidates >= ulow
        lo = 0
        while cand[lo] < ulow:
            lo += 1
        hi = m  # cand[m] = max_a g_a(0): budget 0
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _budget(xi, g, n, cand[mid]) <= kappa:
                hi = mid
            else:
                lo = mid
        clo, chi = cand[lo], cand[hi]
        blo, bhi = _budget(xi, g, n, clo), _budget(xi, g, n, chi)
        ustar = clo + (blo - kappa) * (chi - clo) / (blo - bhi)
        umid = 0.5 * (clo + chi)
        tot = 0.0
        for a in range(A):
            if n[a] < 0 or g[a, 0] <= umid:
                continue
            for k in range(n[a]):
                if g[a, k + 1] <= umid:
                    d[a] = (xi[a, k + 1] - xi[a, k]) / (g[a, k] - g[a, k + 1])
                    tot += d[a]
                    break
        for a in range(A):
            d[a] /= tot
    q = np.empty(S)
    for a in range(A):
        if n[a] < 0:
            Pw[a, :] = Ps[a, :]
            continue
        x = _xi_of(xi, g, n, a, ustar)
        if not np.isfinite(x):
            x = xi[a, n[a]]
        l1_inner(Ps[a], v, order, x, q)
        Pw[a, :] = q
    return ustar


@nb.njit(**_JIT)
def s_l1_policy_state(Ps, Rs, gamma, v, order, kappa, d, Pw):
    r"""Adversary's best response to a fixed randomised action ``d`` at one state (s-rectangular L1).

    .. math:: \min_{\xi \ge 0,\, \sum_a \xi_a \le \kappa} \sum_a d_a\, g_a(\xi_a)

    is a separable convex piecewise-linear problem: spend the budget on the knot pieces in decreasing order
    of their rate :math:`d_a \sigma_{a,k}` (each :math:`g_a` convex, so its own pieces come in that order).
    Writes the worst kernel ``Pw`` (A, S); returns the value.
    """
    A, S = Ps.shape
    xi = np.zeros((A, S + 1))
    g = np.zeros((A, S + 1))
    n = _knots(Ps, Rs, gamma, v, order, xi, g)
    m = 0
    for a in range(A):
        if n[a] > 0 and d[a] > 0.0:
            m += n[a]
    rate = np.empty(m)
    pa = np.empty(m, dtype=np.int64)
    pk = np.empty(m, dtype=np.int64)
    c = 0
    for a in range(A):
        if n[a] > 0 and d[a] > 0.0:
            for k in range(n[a]):
                rate[c] = -d[a] * (g[a, k] - g[a, k + 1]) / (xi[a, k + 1] - xi[a, k])
                pa[c] = a
                pk[c] = k
                c += 1
    idx = np.argsort(rate, kind="mergesort")
    x = np.zeros(A)
    rem = kappa
    for t in range(m):
        if rem <= 0.0:
            break
        c = idx[t]
        a, k = pa[c], pk[c]
        if rate[c] >= 0.0:
            break
        width = xi[a, k + 1] - xi[a, k]
        use = min(width, rem)
        x[a] += use
        rem -= use
    val = 0.0
    q = np.empty(S)
    for a in range(A):
        if n[a] < 0:
            Pw[a, :] = Ps[a, :]
            continue
        inner_v = l1_inner(Ps[a], v, order, x[a], q)
        Pw[a, :] = q
        if d[a] > 0.0:
            val += d[a] * (Rs[a] + gamma * inner_v)
    return val


@nb.njit(parallel=True, **_JIT)
def bellman_s_l1(P, R, gamma, v, kappa, V, D):
    """V[s] = s-rectangular L1 robust backup at s, D[s] = its maximising randomised action."""
    S, A = R.shape
    order = np.argsort(v, kind="mergesort")
    for s in nb.prange(S):
        Pw = np.empty((A, S))
        V[s] = s_l1_state(P[s], R[s], gamma, v, order, kappa[s], D[s], Pw)


@nb.njit(parallel=True, **_JIT)
def policy_s_l1(P, R, gamma, v, kappa, D, V, Pw):
    """V[s] = min over the s-rectangular L1 set of sum_a D[s, a] (R + gamma p_a.v); Pw the minimiser."""
    S, A = R.shape
    order = np.argsort(v, kind="mergesort")
    for s in nb.prange(S):
        V[s] = s_l1_policy_state(P[s], R[s], gamma, v, order, kappa[s], D[s], Pw[s])
