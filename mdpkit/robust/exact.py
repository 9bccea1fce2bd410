r"""Exact (rational) static and dynamic robust values of tiny models with a finite set of kernels.

For kernels :math:`P_1, \dots, P_K` with rational entries (e.g. dyadic floats), rewards and discount:

* :func:`exact_static_value` — :math:`\max_\pi \min_k \mu^\top V^\pi_{P_k}` over deterministic stationary
  policies (enumeration, each value by Gauss-Jordan elimination over the rationals);
* :func:`exact_dynamic_value` — the robust value of the (s, a)-rectangular hull,
  :math:`\max_\pi \min_\sigma \mu^\top V^{\pi}_{P_\sigma}`, where :math:`\sigma(s) \in \{1..K\}` picks the
  kernel row of the pair :math:`(s, \pi(s))` (the adversary's MDP has an optimal deterministic stationary
  :math:`\sigma` minimising every state at once, and for rectangular sets a deterministic :math:`\pi` is
  optimal: Iyengar 2005).

Both enumerate, so they are for the certificates of ``proofs/robust_static_vs_dynamic.py`` (S, A, K tiny).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np

from mdpkit.claims.exact import RationalMDP, exact_evaluate

__all__ = ["exact_static_value", "exact_dynamic_value"]


def _models(kernels, R, gamma, initial) -> list[RationalMDP]:
    return [RationalMDP(np.asarray(P, dtype=object), R, gamma, initial) for P in kernels]


def exact_static_value(kernels, R, gamma, initial=None) -> tuple[Fraction, tuple[int, ...], dict]:
    r"""Exact :math:`\max_\pi \min_k J^\pi_{P_k}` over deterministic stationary policies.

    Returns ``(value, policy, table)`` with ``table[policy] = [J^pi_{P_k} for k]`` (fractions).
    """
    ms = _models(kernels, R, gamma, initial)
    S, A = ms[0].S, ms[0].A
    best, arg, table = None, None, {}
    for pol in itertools.product(range(A), repeat=S):
        J = [exact_evaluate(m, np.array(pol)).J for m in ms]
        table[pol] = J
        if best is None or min(J) > best:
            best, arg = min(J), pol
    return best, arg, table


def exact_dynamic_value(kernels, R, gamma, initial=None) -> tuple[Fraction, tuple[int, ...], tuple[int, ...]]:
    r"""Exact robust value of the rectangular hull: :math:`\max_\pi \min_\sigma \mu^\top V^\pi_{P_\sigma}`.

    Returns ``(value, policy, sigma)`` (``sigma[s]`` the kernel whose row the adversary plays at
    :math:`(s, \pi(s))`).
    """
    Ks = [np.asarray(P, dtype=object) for P in kernels]
    S, A = Ks[0].shape[0], Ks[0].shape[1]
    best, arg, argsig = None, None, None
    for pol in itertools.product(range(A), repeat=S):
        worst, wsig = None, None
        for sig in itertools.product(range(len(Ks)), repeat=S):
            P = np.array(Ks[0], dtype=object)
            for s in range(S):
                P[s, pol[s], :] = Ks[sig[s]][s, pol[s], :]
            J = exact_evaluate(RationalMDP(P, R, gamma, initial), np.array(pol)).J
            if worst is None or J < worst:
                worst, wsig = J, sig
        if best is None or worst > best:
            best, arg, argsig = worst, pol, wsig
    return best, arg, argsig
