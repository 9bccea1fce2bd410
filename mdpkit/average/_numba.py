r"""numba kernels of the average-reward learners: one optimistic Bellman backup over L1 confidence sets (which
also returns the maximising kernel), span-truncated extended value iteration (SCAL-style), and the lazy-update
statistic of MLE-LOOP.

Private: :mod:`mdpkit.average.evi`, :mod:`mdpkit.average.loop` and :mod:`mdpkit.average.baselines` validate
and document. The plain extended value iteration of UCRL2 is *not* repeated here: it lives in
:func:`mdpkit.experiments._numba.extended_value_iteration`, and its inner L1 maximisation
(:func:`mdpkit.experiments._numba.optimistic_l1_value`) and tie-breaking
(:func:`~mdpkit.experiments._numba.pick_max`) are the ones called below. No ``fastmath``/``parallel``: a
learner must give the same bits everywhere.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from mdpkit.experiments._numba import optimistic_l1_value, pick_max

_JIT = dict(cache=True, nogil=True)


@nb.njit(**_JIT)
def optimistic_backup(p_hat, r_tilde, d, mask, u, tie_u, out, pol, p_opt):
    r"""One optimistic Bellman backup :math:`(\tilde T u)(s) = \max_a \tilde r(s,a) + \max_{p \in B(s,a)}
    p^\top u`.

    :math:`B(s,a) = \{p \in \Delta_S : \|p - \hat p(\cdot|s,a)\|_1 \le d(s,a)\}` (Jaksch et al. 2010, Fig. 2).
    Writes :math:`\tilde T u` into ``out`` (S,), the greedy action into ``pol`` (S,) (ties by ``tie_u``, see
    :func:`~mdpkit.experiments._numba.pick_max`) and the maximiser :math:`p` of every feasible pair into
    ``p_opt`` (S, A, S) (infeasible pairs: zeros).
    """
    S, A = r_tilde.shape
    order = np.argsort(-u, kind="mergesort")
    qs = np.empty(A)
    for s in range(S):
        for a in range(A):
            if mask[s, a]:
                qs[a] = r_tilde[s, a] + optimistic_l1_value(p_hat[s, a], d[s, a], order, u, p_opt[s, a])
            else:
                qs[a] = -np.inf
                p_opt[s, a, :] = 0.0
        arg = pick_max(qs, tie_u[s])
        out[s] = qs[arg]
        pol[s] = arg


@nb.njit(**_JIT)
def span_truncated_evi(p_hat, r_tilde, d, mask, cap, eps, max_iter, u0, tie_u):
    r"""Extended value iteration with the span truncation of SCAL (Fruit et al. 2018, ScOpt, section 4).

    Iterates :math:`u_{i+1} = \Gamma_c \tilde T u_i` with :math:`\Gamma_c v = \min\{v, \min_s v(s) + c\}`
    (``cap`` = :math:`c`; ``inf`` gives plain extended value iteration) until
    :math:`\mathrm{sp}(u_{i+1} - u_i) < \varepsilon`; ``u`` is shifted by its minimum after each sweep. After
    ``max_iter`` sweeps without convergence the aperiodicity transform :math:`u \leftarrow \frac12(u +
    \Gamma_c \tilde T u)` is used for up to ``max_iter`` more (as in
    :func:`mdpkit.experiments._numba.extended_value_iteration`).

    Returns ``(u, policy, sweeps, lo, hi)``: the last iterate :math:`u_i`, the greedy policy of
    :math:`\tilde T u_i` (SCAL randomises at truncated states; this kernel keeps the greedy action, see
    :class:`mdpkit.average.baselines.SpanUCRL`), and :math:`[\min, \max]` of :math:`\Gamma_c\tilde T u_i -
    u_i`.
    """
    S, A = r_tilde.shape
    u = u0.copy()
    w = np.empty(S)
    pol = np.zeros(S, dtype=np.int64)
    p_opt = np.empty((S, A, S))
    lo = -np.inf
    hi = np.inf
    it = 0
    tau = 1.0
    while it < 2 * max_iter:
        it += 1
        if it > max_iter:
            tau = 0.5
        optimistic_backup(p_hat, r_tilde, d, mask, u, tie_u, w, pol, p_opt)
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
def lazy_statistic(counts, n, p_tilde, r_sum, r_tilde):
    r"""Per-pair lazy-update statistics of MLE-LOOP (Pinsker surrogates of the log-likelihood gap).

    For one pair with ``n`` visits, transition counts ``counts`` (S,) and summed rewards ``r_sum``, against
    the pair's optimistic kernel ``p_tilde`` (S,) and reward ``r_tilde``: returns
    :math:`(\tfrac n2 \|\tilde p - \hat p_n\|_1^2,\; 2n(\tilde r - \hat r_n)^2)` with
    :math:`\hat p_n = \text{counts}/n`, :math:`\hat r_n = r_\text{sum}/n` (zeros when ``n == 0``).
    """
    if n == 0:
        return 0.0, 0.0
    nf = float(n)
    l1 = 0.0
    for j in range(counts.shape[0]):
        l1 += abs(p_tilde[j] - counts[j] / nf)
    dr = r_tilde - r_sum / nf
    return 0.5 * nf * l1 * l1, 2.0 * nf * dr * dr
