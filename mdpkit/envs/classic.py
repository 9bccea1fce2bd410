r"""Small textbook models with known structure: RiverSwim, a deterministic chain, Puterman's two-state
example."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mdpkit.core.model import TabularMDP
from mdpkit.envs._common import check_gamma, check_int, check_prob, check_real, use_sparse
from mdpkit.errors import InvalidArgumentError

__all__ = ["riverswim", "chain", "two_state_puterman"]


def riverswim(
    n: int = 6,
    gamma: float | None = None,
    p_right: float = 0.35,
    p_stay: float = 0.6,
    r_left: float = 0.005,
    r_right: float = 1.0,
    *,
    p_right_start: float = 0.6,
    p_stay_end: float = 0.6,
    sparse: bool | None = None,
) -> TabularMDP:
    r"""RiverSwim: a chain of ``n`` states where swimming right (against the current) pays off only far away.

    States :math:`0, \dots, n-1` (0 is the left bank); action 0 = *left* (with the current), action 1 =
    *right* (against it). With :math:`p_\ell = 1 - p_r - p_s` (``p_left``, 0.05 by default):

    * state 0: *left* stays in 0 with reward ``r_left``; *right* moves to 1 w.p. ``p_right_start``, else
      stays in 0;
    * a middle state :math:`0 < s < n-1`: *left* moves to :math:`s-1` (reward 0); *right* moves to
      :math:`s+1` w.p. :math:`p_r`, stays w.p. :math:`p_s` and drifts to :math:`s-1` w.p. :math:`p_\ell`;
    * state :math:`n-1`: *left* moves to :math:`n-2` (reward 0); *right* stays w.p. ``p_stay_end``, else
      drifts to :math:`n-2`, with reward ``r_right``.

    All other rewards are 0; rewards are state-action rewards (``r(n-1, right) = r_right`` whatever the
    outcome). The initial distribution is the point mass on state 0. The defaults are the
    parameterisation of Osband, Russo & Van Roy (2013), Figure 2 (``p_r = 0.35``, ``p_s = 0.6``, ends 0.6 /
    0.4, rewards 5/1000 and 1), used by UCRL-style benchmarks; the model is communicating.

    Parameters
    ----------
    n : int
        Number of states, at least 2.
    gamma : float or None
        Discount factor; None (default) for average-reward use.
    p_right, p_stay : float
        Middle-state probabilities of moving right and of staying under action 1 (``p_right + p_stay <= 1``).
    r_left, r_right : float
        Reward for action 0 in state 0 and for action 1 in state ``n-1``.
    p_right_start : float
        Probability that action 1 moves 0 -> 1 (keyword only).
    p_stay_end : float
        Probability that action 1 keeps the agent in ``n-1`` (keyword only).
    sparse : bool or None
        Store ``P`` as CSR (True), dense (False), or choose by size and density (None: CSR from about
        n = 71 on, where fewer than 5 % of the dense entries are non-zero; keyword only).

    References
    ----------
    Strehl & Littman, "An analysis of model-based interval estimation for Markov decision processes",
    J. Comput. Syst. Sci. 74 (2008), section 6 (RiverSwim). Osband, Russo & Van Roy, "(More) efficient
    reinforcement learning via posterior sampling", NeurIPS 2013, Figure 2 (this parameterisation).
    """
    n = check_int(n, "n", 2)
    g = check_gamma(gamma)
    pr = check_prob(p_right, "p_right")
    ps = check_prob(p_stay, "p_stay")
    if pr + ps > 1.0 + 1e-12:
        raise InvalidArgumentError(
            f"p_right + p_stay = {pr + ps!r} exceeds 1 (p_left = 1 - p_right - p_stay)"
        )
    pl = max(0.0, 1.0 - pr - ps)
    p0 = check_prob(p_right_start, "p_right_start")
    pe = check_prob(p_stay_end, "p_stay_end")
    rl = check_real(r_left, "r_left")
    rr = check_real(r_right, "r_right")
    # entries (s, a, s', p): left is deterministic; right drifts up-river with pr, stays ps, slips back pl
    s = np.arange(n)
    mid = s[1:-1]
    ss = np.concatenate([s, mid, mid, mid, [0, 0, n - 1, n - 1]])
    aa = np.concatenate([np.zeros(n, int), np.ones(3 * mid.size + 4, int)])
    tt = np.concatenate([np.maximum(s - 1, 0), mid + 1, mid, mid - 1, [1, 0, n - 1, n - 2]])
    pp = np.concatenate([np.ones(n), np.full(mid.size, pr), np.full(mid.size, ps), np.full(mid.size, pl)])
    pp = np.concatenate([pp, [p0, 1.0 - p0, pe, 1.0 - pe]])
    rows = sp.csr_matrix((pp, (ss * 2 + aa, tt)), shape=(2 * n, n))  # duplicates (n = 2) are summed
    P = rows if use_sparse(sparse, n, 2, nnz=rows.nnz) else rows.toarray().reshape(n, 2, n)
    R = np.zeros((n, 2))
    R[0, 0] = rl
    R[n - 1, 1] = rr
    initial = np.zeros(n)
    initial[0] = 1.0
    return TabularMDP(P, R, g, initial=initial)


def chain(n: int, gamma: float | None = 0.9, r_end: float = 1.0, r_start: float = 0.0) -> TabularMDP:
    r"""A deterministic ``n``-state chain with a reward at the right end (a noise-free RiverSwim).

    States :math:`0, \dots, n-1`; action 0 moves left, :math:`s \mapsto \max(s-1, 0)`; action 1 moves right,
    :math:`s \mapsto \min(s+1, n-1)`. Rewards: :math:`r(n-1, 1) = ` ``r_end``, :math:`r(0, 0) = ` ``r_start``,
    0 otherwise. The initial distribution is the point mass on state 0.

    If ``r_start < gamma**(n-1) * r_end`` (e.g. the default ``r_start = 0 < r_end``), "always right" is the
    unique optimal policy in the states :math:`s < n-1` and

    .. math:: V^*(s) = \frac{\gamma^{\,n-1-s}\; r_{\text{end}}}{1 - \gamma}

    (the first reward comes after the :math:`n-1-s` moves to the end, then every step). Its gain is
    ``r_end`` from every state (the model is communicating).

    Parameters
    ----------
    n : int
        Number of states (at least 1).
    gamma : float or None
        Discount factor.
    r_end, r_start : float
        Rewards of "right" in the last state and of "left" in the first one.

    References
    ----------
    The classic exploration chain; see e.g. Strehl & Littman (2008) and Osband et al. (2013) for its
    stochastic version :func:`riverswim`.
    """
    n = check_int(n, "n")
    g = check_gamma(gamma)
    re = check_real(r_end, "r_end")
    rs = check_real(r_start, "r_start")
    s = np.arange(n)
    P = np.zeros((n, 2, n))
    P[s, 0, np.maximum(s - 1, 0)] = 1.0
    P[s, 1, np.minimum(s + 1, n - 1)] = 1.0
    R = np.zeros((n, 2))
    R[n - 1, 1] += re
    R[0, 0] += rs
    initial = np.zeros(n)
    initial[0] = 1.0
    return TabularMDP(P, R, g, initial=initial)


def two_state_puterman(gamma: float | None = 0.95) -> TabularMDP:
    r"""The two-state, state-dependent-action example of Puterman (1994), §3.1, Figure 3.1.1.

    States :math:`s_1, s_2` are indices 0, 1. In :math:`s_1` the actions :math:`a_{1,1}, a_{1,2}` are
    indices 0, 1; in :math:`s_2` only :math:`a_{2,1}` (index 0) is feasible (``mask[1, 1] = False``).

    .. math::
        r(s_1, a_{1,1}) = 5,\quad r(s_1, a_{1,2}) = 10,\quad r(s_2, a_{2,1}) = -1, \\
        p(s_1|s_1, a_{1,1}) = p(s_2|s_1, a_{1,1}) = 0.5,\quad p(s_2|s_1, a_{1,2}) = 1,\quad
        p(s_2|s_2, a_{2,1}) = 1.

    For :math:`0 \le \gamma < 1`: :math:`V^*(s_2) = -1/(1-\gamma)`; :math:`a_{1,2}` gives
    :math:`10 + \gamma V^*(s_2)` and :math:`a_{1,1}` the solution of
    :math:`v = 5 + \gamma(v + V^*(s_2))/2`, i.e. :math:`v = (5 + \gamma V^*(s_2)/2)/(1 - \gamma/2)`
    (e.g. :math:`\gamma = 0.95`: :math:`V^*(s_2) = -20`, :math:`a_{1,1}` gives :math:`-60/7` and beats
    :math:`a_{1,2}`'s :math:`-9`).

    Parameters
    ----------
    gamma : float or None
        Any discount factor in [0, 1] (None for average-reward use); default 0.95 (Puterman's λ).

    References
    ----------
    Puterman, *Markov Decision Processes* (1994), §3.1, Figure 3.1.1 (a running example of chapter 6,
    with discount λ = 0.95).
    """
    g = check_gamma(gamma)
    P = np.zeros((2, 2, 2))
    P[0, 0] = [0.5, 0.5]
    P[0, 1] = [0.0, 1.0]
    P[1, 0] = [0.0, 1.0]
    P[1, 1] = [0.0, 1.0]  # infeasible pair; the model turns it into a self-loop
    R = np.array([[5.0, 10.0], [-1.0, -np.inf]])
    mask = np.array([[True, True], [True, False]])
    return TabularMDP(P, R, g, mask=mask)
