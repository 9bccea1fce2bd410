r"""Extended value iteration (EVI): optimistic average-reward planning over L1 confidence sets of transitions.

Given empirical kernels :math:`\hat p(\cdot|s,a)`, optimistic rewards :math:`\tilde r(s,a)` and radii
:math:`d(s,a)`, the *extended MDP* lets the planner also pick the kernel inside
:math:`B(s,a) = \{p \in \Delta_S : \|p - \hat p(\cdot|s,a)\|_1 \le d(s,a)\}`. Its optimal gain
:math:`\tilde\rho = \max_{\pi, p \in B} \rho(\pi, p)` is found by value iteration on

.. math:: (\tilde T u)(s) = \max_{a} \Big\{\tilde r(s,a) + \max_{p \in B(s,a)} p^\top u\Big\}

(Jaksch, Ortner & Auer 2010, section 3.1.2; the inner maximum puts :math:`d/2` extra mass on the best state
and removes it from the worst ones, their Figure 2). Stopping rule: :math:`\mathrm{sp}(\tilde T u_i - u_i) <
\varepsilon`; then :math:`\min(\tilde Tu_i - u_i) \le \tilde\rho \le \max(\tilde Tu_i - u_i)` and the greedy
policy is :math:`\varepsilon`-optimal in the extended MDP (their Theorem 7; Puterman 1994, Thm 8.5.5).

With ``span_cap`` :math:`= c` the iteration is :math:`u \leftarrow \Gamma_c \tilde T u`,
:math:`\Gamma_c v = \min\{v, \min v + c\}`: the span-constrained optimistic planning of SCAL (Fruit, Pirotta,
Lazaric & Ortner 2018, *Efficient Bias-Span-Constrained Exploration-Exploitation in RL*, ICML, ScOpt), whose
solution satisfies :math:`\mathrm{sp}(u) \le c`.

Backends: ``"numba"`` (one model at a time; UCRL2's kernels
:func:`mdpkit.experiments._numba.extended_value_iteration` and, truncated,
:func:`mdpkit.experiments._numba.span_truncated_evi`) and ``"torch"`` (batched over a leading axis, any
device, CUDA by default when available). Both give the same bracket; the property tests check it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mdpkit.errors import InvalidArgumentError
from mdpkit.experiments import _numba as EK

__all__ = ["EVIResult", "extended_value_iteration", "optimistic_backup"]


@dataclass(frozen=True, eq=False)
class EVIResult:
    r"""Result of :func:`extended_value_iteration` (arrays carry a leading batch axis when the input did).

    Attributes
    ----------
    u : ndarray (S,) or (B, S)
        The last iterate :math:`u_i` (min 0): an approximate bias of the optimistic model.
    policy : int ndarray (S,) or (B, S)
        The greedy policy of :math:`\tilde T u_i`.
    gain_lower, gain_upper : float or ndarray (B,)
        :math:`\min` and :math:`\max` of :math:`\tilde T u_i - u_i` (of :math:`\Gamma_c \tilde T u_i - u_i`
        with a span cap): a bracket of the optimistic gain when converged.
    iterations : int or ndarray (B,)
        Sweeps done.
    converged : bool or ndarray (B,)
        Whether :math:`\mathrm{sp}(\tilde T u_i - u_i) <` ``eps``.
    eps : float
        The tolerance.
    """

    u: np.ndarray
    policy: np.ndarray
    gain_lower: float | np.ndarray
    gain_upper: float | np.ndarray
    iterations: int | np.ndarray
    converged: bool | np.ndarray
    eps: float

    @property
    def gain(self) -> float | np.ndarray:
        """Midpoint of the bracket, within ``eps / 2`` of the optimistic gain when converged."""
        return (np.asarray(self.gain_lower) + np.asarray(self.gain_upper)) / 2.0


def _prepare(
    p_hat: np.ndarray,
    r_tilde: np.ndarray,
    d: np.ndarray,
    mask: np.ndarray | None,
    span_cap: float | np.ndarray | None,
    eps: float,
    max_iter: int,
    u0: np.ndarray | None,
) -> tuple[bool, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate and broadcast everything to a leading batch axis."""
    p = np.asarray(p_hat, dtype=np.float64)
    if p.ndim not in (3, 4):
        raise InvalidArgumentError(f"p_hat has shape {p.shape}; expected (S, A, S) or (B, S, A, S)")
    batched = p.ndim == 4
    if not batched:
        p = p[None]
    B, S, A, S2 = p.shape
    if S2 != S:
        raise InvalidArgumentError(f"p_hat has shape {p.shape[-3:]}; its last axis must have S = {S} entries")

    def at(name: str, arr: np.ndarray, ix: np.ndarray) -> str:
        """``name(i, j, ...) = value`` without the added batch axis."""
        key = tuple(int(i) for i in ix)
        return f"{name}{key if batched else key[1:]} = {float(arr[key])!r}"

    bad = np.argwhere(~(p >= 0.0))
    if bad.size:
        raise InvalidArgumentError(f"{at('p_hat', p, bad[0])} is not >= 0")
    sums = p.sum(-1)
    bad = np.argwhere(sums > 1.0 + 1e-9)
    if bad.size:
        raise InvalidArgumentError(
            f"{at('p_hat row sum', sums, bad[0])} > 1 "
            "(rows are distributions, or all zeros for an unvisited pair)"
        )

    def shaped(x: object, name: str) -> np.ndarray:
        arr = np.asarray(x, dtype=np.float64)
        try:
            return np.ascontiguousarray(np.broadcast_to(arr if batched else arr[None], (B, S, A)))
        except ValueError:
            raise InvalidArgumentError(
                f"{name} has shape {arr.shape}; expected (S, A) = ({S}, {A})"
            ) from None

    r = shaped(r_tilde, "r_tilde")
    if not np.all(np.isfinite(r)):
        raise InvalidArgumentError(f"{at('r_tilde', r, np.argwhere(~np.isfinite(r))[0])} is not finite")
    dd = shaped(d, "d")
    bad = np.argwhere(~(dd >= 0.0))
    if bad.size:
        raise InvalidArgumentError(f"{at('d', dd, bad[0])} must be >= 0")
    if mask is None:
        m = np.ones((B, S, A), dtype=bool)
    else:
        m0 = np.asarray(mask, dtype=bool)
        try:
            m = np.ascontiguousarray(np.broadcast_to(m0 if (batched and m0.ndim == 3) else m0, (B, S, A)))
        except ValueError:
            raise InvalidArgumentError(f"mask has shape {m0.shape}; expected (S, A) = ({S}, {A})") from None
    empty = np.argwhere(~m.any(axis=-1))
    if empty.size:
        raise InvalidArgumentError(f"state {int(empty[0][-1])} has no feasible action in mask")
    if span_cap is None:
        cap = np.full(B, np.inf)
    else:
        cap = np.broadcast_to(np.asarray(span_cap, dtype=np.float64), (B,)).copy()
        bad = np.flatnonzero(~(cap >= 0.0))
        if bad.size:
            raise InvalidArgumentError(f"span_cap = {float(cap[bad[0]])!r} must be >= 0 (or None)")
    if not (isinstance(eps, (int, float)) and not isinstance(eps, bool) and eps > 0 and math.isfinite(eps)):
        raise InvalidArgumentError(f"eps = {eps!r} must be a positive finite number")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise InvalidArgumentError(f"max_iter = {max_iter!r} must be a positive int")
    if u0 is None:
        u = np.zeros((B, S))
    else:
        u0a = np.asarray(u0, dtype=np.float64)
        try:
            u = np.ascontiguousarray(np.broadcast_to(u0a if batched else u0a[None], (B, S)))
        except ValueError:
            raise InvalidArgumentError(f"u0 has shape {u0a.shape}; expected ({S},)") from None
    return batched, np.ascontiguousarray(p), r, dd, m, cap, u


def optimistic_backup(
    p_hat: np.ndarray,
    r_tilde: np.ndarray,
    d: np.ndarray,
    u: np.ndarray,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""One optimistic Bellman backup and its maximisers (numba).

    .. math:: (\tilde T u)(s) = \max_a \tilde r(s,a) + \max_{\|p - \hat p(\cdot|s,a)\|_1 \le d(s,a)} p^\top u

    Parameters
    ----------
    p_hat : ndarray (S, A, S)
        Empirical kernels (rows of zeros for unvisited pairs).
    r_tilde, d : ndarray (S, A)
        Optimistic rewards and L1 radii.
    u : ndarray (S,)
        Values.
    mask : bool ndarray (S, A), optional
        Feasible actions.

    Returns
    -------
    (Tu, policy, p_opt) : ndarray (S,), int ndarray (S,), ndarray (S, A, S)
        The backup, its first greedy action, and the maximising kernel of every pair (Jaksch et al. 2010,
        Figure 2).
    """
    _, p, r, dd, m, _, uu = _prepare(p_hat, r_tilde, d, mask, None, 1.0, 1, u)
    S, A = r.shape[1:]
    out = np.empty(S)
    pol = np.empty(S, dtype=np.int64)
    p_opt = np.empty((S, A, S))
    EK.optimistic_backup(p[0], r[0], dd[0], m[0], uu[0], np.full(S, -1.0), out, pol, p_opt)
    return out, pol, p_opt


def extended_value_iteration(
    p_hat: np.ndarray,
    r_tilde: np.ndarray,
    d: np.ndarray,
    mask: np.ndarray | None = None,
    eps: float = 1e-6,
    max_iter: int = 100_000,
    span_cap: float | np.ndarray | None = None,
    u0: np.ndarray | None = None,
    backend: str = "numba",
    device: str | None = None,
) -> EVIResult:
    r"""Extended value iteration (Jaksch et al. 2010, section 3.1.2), optionally span-truncated (SCAL).

    Parameters
    ----------
    p_hat : ndarray (S, A, S) or (B, S, A, S)
        Empirical kernels :math:`\hat p(s'|s,a)`; a row of zeros (unvisited pair) lets the inner maximum put
        all mass on the best state.
    r_tilde : ndarray (S, A) or (B, S, A)
        Optimistic rewards.
    d : ndarray (S, A) or (B, S, A)
        L1 radii :math:`d(s,a) \ge 0`.
    mask : bool ndarray (S, A) or (B, S, A), optional
        Feasible actions (default: all).
    eps : float
        Stopping tolerance on :math:`\mathrm{sp}(\tilde T u - u)`.
    max_iter : int
        Plain sweeps before switching to the aperiodicity transform :math:`\frac12(u + \tilde T u)` (for at
        most ``max_iter`` more sweeps).
    span_cap : float or ndarray (B,), optional
        :math:`c` of the truncation :math:`\Gamma_c` (None: no truncation).
    u0 : ndarray (S,) or (B, S), optional
        Starting values (default 0).
    backend : {"numba", "torch"}
        Kernel family; the torch one is batched.
    device : str, optional
        Torch device (default: CUDA when available, else CPU).

    Returns
    -------
    EVIResult
        ``u``, greedy ``policy``, the gain bracket, sweeps and convergence flags.

    Raises
    ------
    InvalidArgumentError
        For malformed inputs (naming the offending index and value).
    """
    batched, p, r, dd, m, cap, u = _prepare(p_hat, r_tilde, d, mask, span_cap, eps, max_iter, u0)
    B, S, A = r.shape
    eps = float(eps)
    max_iter = int(max_iter)
    if backend == "numba":
        us = np.empty((B, S))
        pols = np.empty((B, S), dtype=np.int64)
        its = np.empty(B, dtype=np.int64)
        lo = np.empty(B)
        hi = np.empty(B)
        tie = np.full(S, -1.0)
        w = np.empty(S)
        p_opt = np.empty((S, A, S))
        for b in range(B):
            if math.isinf(cap[b]):
                ub, pb, it, _ = EK.extended_value_iteration(p[b], r[b], dd[b], m[b], eps, max_iter, u[b], tie)
                EK.optimistic_backup(p[b], r[b], dd[b], m[b], ub, tie, w, pols[b], p_opt)
                diff = w - ub
                lo[b], hi[b] = diff.min(), diff.max()
            else:
                ub, pb, it, lo[b], hi[b] = EK.span_truncated_evi(
                    p[b], r[b], dd[b], m[b], cap[b], eps, max_iter, u[b], tie
                )
                pols[b] = pb
            us[b] = ub
            its[b] = it
    elif backend == "torch":
        import torch

        from mdpkit.average import _torch as AT
        from mdpkit.core._torch import resolve_device

        dev = resolve_device(device)

        def t(x: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.array(x, copy=True)).to(dev)

        ut, pt, st, lt, ht = AT.evi_batched(t(p), t(r), t(dd), t(m), t(cap), eps, max_iter, t(u))
        us, pols, its = ut.cpu().numpy(), pt.cpu().numpy(), st.cpu().numpy()
        lo, hi = lt.cpu().numpy(), ht.cpu().numpy()
    else:
        raise InvalidArgumentError(f"backend = {backend!r} must be 'numba' or 'torch'")
    conv = (hi - lo) < eps
    if batched:
        return EVIResult(us, pols, lo, hi, its, conv, eps)
    return EVIResult(us[0], pols[0], float(lo[0]), float(hi[0]), int(its[0]), bool(conv[0]), eps)
