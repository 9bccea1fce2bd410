"""numba kernels of the online-learning harness: exact evaluation of played policies and the inner loops of
the baseline agents (UCRL2's extended value iteration, UCBVI's optimistic backward pass).

Extended value iteration lives here once, with the optimistic backup that also returns the maximising kernel
and the optional span truncation of SCAL: :mod:`mdpkit.average` (EVI, MLE-LOOP, SpanUCRL) calls these
kernels; nothing here imports :mod:`mdpkit.average`.

Private: :mod:`mdpkit.experiments.protocol` and :mod:`mdpkit.experiments.agents` validate and document.
No kernel uses ``fastmath`` or ``parallel``: the agents must give the same bits on every machine and in every
worker process (a sweep runs many agents side by side, one per core).
"""

from __future__ import annotations

import numba as nb
import numpy as np

_JIT = dict(cache=True, nogil=True)


# --------------------------------------------------------------------------- exact evaluation
@nb.njit(**_JIT)
def eval_markov_det_dense(P, R, pols, terminal):
    r"""Values of deterministic Markov policies in a dense finite-horizon model.

    ``P`` is (Hp, S, A, S) with ``Hp in {1, H}`` (1 = stationary kernel), ``R`` (H, S, A), ``pols``
    (n, H, S) ints, ``terminal`` (S,). Returns :math:`V_0^{\pi_i}` (n, S) from
    :math:`V_h(s) = R_h(s, \pi_h(s)) + \sum_{s'} P_h(s'|s, \pi_h(s)) V_{h+1}(s')`, :math:`V_H` = terminal.
    """
    n, H, S = pols.shape
    out = np.empty((n, S))
    V = np.empty(S)
    W = np.empty(S)
    for i in range(n):
        V[:] = terminal
        for h in range(H - 1, -1, -1):
            k = h if P.shape[0] > 1 else 0
            for s in range(S):
                a = pols[i, h, s]
                acc = 0.0
                for t in range(S):
                    acc += P[k, s, a, t] * V[t]
                W[s] = R[h, s, a] + acc
            V[:] = W
        out[i] = V
    return out


@nb.njit(**_JIT)
def pick_max(q, u):
    """Index of a maximiser of ``q`` (``-inf`` entries are infeasible): with ``u`` in [0, 1) the
    ``floor(u * m)``-th of the ``m`` exactly tied maximisers (a uniform pick for a uniform ``u``); with
    ``u < 0`` the first one."""
    best = -np.inf
    first = 0
    m = 0
    for a in range(q.shape[0]):
        if q[a] > best:
            best = q[a]
            first = a
            m = 1
        elif q[a] == best:
            m += 1
    if u < 0.0 or m <= 1:
        return first
    j = int(u * m)
    for a in range(first, q.shape[0]):
        if q[a] == best:
            if j == 0:
                return a
            j -= 1
    return first


# --------------------------------------------------------------------------- UCRL2
@nb.njit(**_JIT)
def optimistic_l1_value(p_hat, d, order, u, p):
    r"""Inner maximisation of extended value iteration (Jaksch, Ortner & Auer 2010, Figure 2).

    :math:`\max \{ p^\top u : p \in \Delta_S, \|p - \hat p\|_1 \le d \}`: put
    :math:`\min(1, \hat p(s'_1) + d/2)` on the best state :math:`s'_1` (``order`` sorts ``u`` decreasingly),
    keep :math:`\hat p` elsewhere, then take the excess mass from the worst states first. ``p`` (S,) is a
    work array that receives the maximiser. An all-zero ``p_hat`` (unvisited pair) gives the point mass on
    :math:`s'_1` (UCRL2's radius is then above 2, so the ball holds the whole simplex).
    """
    S = p_hat.shape[0]
    total = 0.0
    for j in range(S):
        p[j] = p_hat[j]
    best = order[0]
    p[best] = min(1.0, p_hat[best] + 0.5 * d)
    for j in range(S):
        total += p[j]
    if total < 1.0:  # p_hat not a distribution (never visited): the rest goes to the best state
        p[best] += 1.0 - total
        total = 1.0
    l = S - 1
    while total > 1.0 and l > 0:
        j = order[l]
        take = min(p[j], total - 1.0)
        p[j] -= take
        total -= take
        l -= 1
    acc = 0.0
    for j in range(S):
        acc += p[j] * u[j]
    return acc


@nb.njit(**_JIT)
def _backup(p_hat, r_tilde, d, mask, u, tie_u, out, pol, p, p_opt, keep):
    """The sweep of :func:`optimistic_backup`, with the work array ``p`` (S,) of the inner maximisation; the
    maximisers are copied into ``p_opt`` only when ``keep`` (a loop that does not need them runs at the speed
    of a 1-d work array)."""
    S, A = r_tilde.shape
    order = np.argsort(-u, kind="mergesort")
    qs = np.empty(A)
    for s in range(S):
        for a in range(A):
            if mask[s, a]:
                qs[a] = r_tilde[s, a] + optimistic_l1_value(p_hat[s, a], d[s, a], order, u, p)
                if keep:
                    p_opt[s, a, :] = p
            else:
                qs[a] = -np.inf
                if keep:
                    p_opt[s, a, :] = 0.0
        arg = pick_max(qs, tie_u[s])
        out[s] = qs[arg]
        pol[s] = arg


@nb.njit(**_JIT)
def optimistic_backup(p_hat, r_tilde, d, mask, u, tie_u, out, pol, p_opt):
    r"""One optimistic Bellman backup :math:`(\tilde T u)(s) = \max_a \tilde r(s,a) + \max_{p \in B(s,a)}
    p^\top u`.

    :math:`B(s,a) = \{p \in \Delta_S : \|p - \hat p(\cdot|s,a)\|_1 \le d(s,a)\}` (Jaksch et al. 2010, Fig. 2).
    Writes :math:`\tilde T u` into ``out`` (S,), the greedy action into ``pol`` (S,) (ties by ``tie_u``, see
    :func:`pick_max`) and the maximiser :math:`p` of every feasible pair into ``p_opt`` (S, A, S)
    (infeasible pairs: zeros).
    """
    _backup(p_hat, r_tilde, d, mask, u, tie_u, out, pol, np.empty(p_hat.shape[2]), p_opt, True)


@nb.njit(**_JIT)
def span_truncated_evi(p_hat, r_tilde, d, mask, cap, eps, max_iter, u0, tie_u):
    r"""Extended value iteration of UCRL2 (Jaksch, Ortner & Auer 2010, section 3.1.2), optionally with the
    span truncation of SCAL (Fruit et al. 2018, ScOpt, section 4).

    Iterates :math:`u_{i+1} = \Gamma_c \tilde T u_i` (the sweep of :func:`optimistic_backup`) with
    :math:`\Gamma_c v = \min\{v, \min_s v(s) + c\}` (``cap`` = :math:`c`; ``inf`` gives plain extended
    value iteration) until :math:`\mathrm{sp}(u_{i+1} - u_i) < \varepsilon`; the greedy policy is then
    :math:`\varepsilon`-optimal in the extended MDP (their Theorem 7). ``u`` is shifted by its minimum after
    each sweep (this changes neither the differences nor the greedy policy). If ``max_iter`` sweeps do not
    reach ``eps`` (a periodic extended chain) the iteration continues on the aperiodicity transform
    :math:`u \leftarrow \tfrac12 (u + \Gamma_c \tilde T u)`, whose fixed points and certificate are those of
    :math:`\Gamma_c \tilde T` (Puterman 1994, section 8.5.4), for up to ``max_iter`` more sweeps.

    ``tie_u`` (S,) picks among exactly tied greedy actions (:func:`pick_max`; negative = first).
    Returns ``(u, policy, sweeps, lo, hi)``: the last iterate :math:`u_i`, the greedy policy of
    :math:`\tilde T u_i` (SCAL randomises at truncated states; this kernel keeps the greedy action, see
    :class:`mdpkit.average.baselines.SpanUCRL`), and :math:`[\min, \max]` of :math:`\Gamma_c\tilde T u_i -
    u_i`.
    """
    S, A = r_tilde.shape
    u = u0.copy()
    w = np.empty(S)
    pol = np.zeros(S, dtype=np.int64)
    p = np.empty(S)  # work array of the inner maximisation
    no_kernels = np.empty((0, 0, 0))  # the maximisers are not kept
    lo = -np.inf
    hi = np.inf
    it = 0
    tau = 1.0
    while it < 2 * max_iter:
        it += 1
        if it > max_iter:
            tau = 0.5
        _backup(p_hat, r_tilde, d, mask, u, tie_u, w, pol, p, no_kernels, False)
        if cap < np.inf:
            m = w.min() + cap
            for s in range(S):
                if w[s] > m:
                    w[s] = m
        lo = np.inf
        hi = -np.inf
        for s in range(S):
            diff = w[s] - u[s]
            lo = min(lo, diff)
            hi = max(hi, diff)
        if hi - lo < eps:
            break
        for s in range(S):
            w[s] = (1.0 - tau) * u[s] + tau * w[s]
        m = w.min()
        for s in range(S):
            u[s] = w[s] - m
    return u, pol, it, lo, hi


@nb.njit(**_JIT)
def extended_value_iteration(p_hat, r_tilde, d, mask, eps, max_iter, u0, tie_u):
    r"""Plain extended value iteration of UCRL2: :func:`span_truncated_evi` with no truncation
    (:math:`c = \infty`).

    Returns ``(u, policy, sweeps, span)`` with ``span`` the last :math:`\mathrm{sp}(\tilde T u - u)`.
    """
    u, pol, it, lo, hi = span_truncated_evi(p_hat, r_tilde, d, mask, np.inf, eps, max_iter, u0, tie_u)
    return u, pol, it, hi - lo


# --------------------------------------------------------------------------- UCBVI
@nb.njit(**_JIT)
def ucbvi_bernstein_backward(n_sa, n_sas, r_sum, n_hs, q_prev, mask, L, c3, scale, tie_u):
    r"""Optimistic backward pass of UCBVI-BF (Azar, Osband & Munos 2017, Algorithms 1 and 4).

    For :math:`h = H-1, \dots, 0` and every visited pair (:math:`N(x,a) > 0`),

    .. math::
        Q_h(x,a) = \min\{Q^{\mathrm{prev}}_h(x,a),\; H,\; \hat r(x,a) + \hat P V_{h+1}(x,a) + b_h(x,a)\},

    .. math::
        b_h(x,a) = \sqrt{\frac{8 L \operatorname{Var}_{y\sim\hat P(\cdot|x,a)} V_{h+1}(y)}{N(x,a)}}
        + \frac{14 H L}{3 N(x,a)}
        + \sqrt{\frac{8 \sum_y \hat P(y|x,a) \min\{c_3 / N'_{h+1}(y),\, H^2\}}{N(x,a)}},

    with :math:`c_3 = 100^2 H^3 S^2 A L^2` and :math:`N'_{h+1}(y)` the visits to state ``y`` at stage
    ``h+1`` (``min`` = :math:`H^2` when it is 0); the last term is 0 at the last stage, where
    :math:`V_{H} = V^*_{H} = 0` leaves nothing to correct. Unvisited pairs get :math:`Q_h = H`.

    Parameters: ``n_sa`` (S, A) visits, ``n_sas`` (S, A, S) transition counts, ``r_sum`` (S, A) summed
    rewards, ``n_hs`` (H, S) stage visits, ``q_prev`` (H, S, A) the previous episode's Q (initially H),
    ``mask`` (S, A) feasible pairs, ``scale`` a factor on :math:`b` (1 in the paper), ``tie_u`` (H, S)
    uniforms that pick among exactly tied maximisers (:func:`pick_max`). Returns
    ``(Q (H, S, A), V (H+1, S), policy (H, S))`` (infeasible pairs hold ``-inf``).
    """
    H = q_prev.shape[0]
    S, A = n_sa.shape
    Hf = float(H)
    Q = np.empty((H, S, A))
    V = np.zeros((H + 1, S))
    pol = np.zeros((H, S), dtype=np.int64)
    for h in range(H - 1, -1, -1):
        for x in range(S):
            for a in range(A):
                if not mask[x, a]:
                    Q[h, x, a] = -np.inf
                    continue
                n = n_sa[x, a]
                if n == 0:
                    q = Hf
                else:
                    nf = float(n)
                    mean = 0.0
                    for y in range(S):
                        mean += n_sas[x, a, y] * V[h + 1, y]
                    mean /= nf
                    var = 0.0
                    extra = 0.0
                    for y in range(S):
                        c = n_sas[x, a, y]
                        if c == 0:
                            continue
                        dv = V[h + 1, y] - mean
                        var += c * dv * dv
                        if h < H - 1:
                            ny = n_hs[h + 1, y]
                            cap = Hf * Hf if ny == 0 else min(c3 / ny, Hf * Hf)
                            extra += c * cap
                    var /= nf
                    extra /= nf
                    bonus = np.sqrt(8.0 * L * var / nf) + 14.0 * Hf * L / (3.0 * nf)
                    if h < H - 1:
                        bonus += np.sqrt(8.0 * extra / nf)
                    q = r_sum[x, a] / nf + mean + scale * bonus
                    q = min(q, Hf, q_prev[h, x, a])
                Q[h, x, a] = q
            arg = pick_max(Q[h, x], tie_u[h, x])
            V[h, x] = Q[h, x, arg]
            pol[h, x] = arg
    return Q, V, pol
