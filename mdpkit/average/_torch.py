r"""Batched torch twin of (span-truncated) extended value iteration, any device.

Private: :func:`mdpkit.average.evi.extended_value_iteration` validates and documents. Every tensor has a
leading batch axis ``B`` (independent models iterated side by side; a model stops being updated once its own
stopping rule holds). The L1 inner maximisation of Jaksch, Ortner & Auer (2010, Figure 2) is vectorised: with
the states sorted by decreasing :math:`u` and :math:`E = \sum_j p_j - 1` the excess mass after
:math:`p_{(1)} \leftarrow \min(1, \hat p_{(1)} + d/2)`, the greedy removal from the worst states takes
:math:`\mathrm{clip}(E - \sum_{j > l} p_{(j)},\, 0,\, p_{(l)})` from the :math:`l`-th state (:math:`l \ge 2`),
which is what the sequential loop of :func:`mdpkit.experiments._numba.optimistic_l1_value` computes.
Ties in the greedy step go to the first maximiser.
"""

from __future__ import annotations

import math

import torch


def optimistic_values(p_hat: torch.Tensor, d: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    r""":math:`\max\{p^\top u : p \in \Delta_S, \|p - \hat p(\cdot|s,a)\|_1 \le d(s,a)\}` for every pair.

    ``p_hat`` (B, S, A, S), ``d`` (B, S, A), ``u`` (B, S); returns (B, S, A).
    """
    B, S, A, _ = p_hat.shape
    order = torch.sort(u, dim=-1, descending=True, stable=True).indices  # (B, S)
    idx = order[:, None, None, :].expand(B, S, A, S)
    ps = torch.gather(p_hat, -1, idx).clone()
    us = torch.gather(u, -1, order)  # (B, S)
    ps[..., 0] = torch.clamp(ps[..., 0] + 0.5 * d, max=1.0)
    total = ps.sum(-1)
    ps[..., 0] = ps[..., 0] + torch.clamp(1.0 - total, min=0.0)  # unvisited rows: the rest on the best state
    excess = torch.clamp(total - 1.0, min=0.0)
    after = torch.flip(torch.cumsum(torch.flip(ps, [-1]), -1), [-1]) - ps  # mass strictly after l
    take = torch.minimum(torch.clamp(excess[..., None] - after, min=0.0), ps)
    take[..., 0] = 0.0
    ps = ps - take
    return (ps * us[:, None, None, :]).sum(-1)


def evi_batched(
    p_hat: torch.Tensor,
    r_tilde: torch.Tensor,
    d: torch.Tensor,
    mask: torch.Tensor,
    cap: torch.Tensor,
    eps: float,
    max_iter: int,
    u0: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""(Span-truncated) extended value iteration on a batch of models.

    ``p_hat`` (B, S, A, S), ``r_tilde``/``d`` (B, S, A), ``mask`` (B, S, A) bool, ``cap`` (B,) (``inf``: no
    truncation), ``u0`` (B, S). Same iteration, truncation, damping and stopping rule as
    :func:`mdpkit.experiments._numba.span_truncated_evi`. Returns ``(u, policy, sweeps, lo, hi)`` with shapes
    (B, S), (B, S), (B,), (B,), (B,).
    """
    B, S, A = r_tilde.shape
    u = u0.clone()
    pol = torch.zeros((B, S), dtype=torch.int64, device=u.device)
    lo = torch.full((B,), -math.inf, dtype=u.dtype, device=u.device)
    hi = torch.full((B,), math.inf, dtype=u.dtype, device=u.device)
    sweeps = torch.zeros(B, dtype=torch.int64, device=u.device)
    active = torch.ones(B, dtype=torch.bool, device=u.device)
    neg_inf = torch.tensor(-math.inf, dtype=u.dtype, device=u.device)
    it = 0
    while it < 2 * max_iter and bool(active.any()):
        it += 1
        tau = 1.0 if it <= max_iter else 0.5
        q = torch.where(mask, r_tilde + optimistic_values(p_hat, d, u), neg_inf)
        w, a = q.max(dim=-1)
        w = torch.minimum(w, w.min(dim=-1, keepdim=True).values + cap[:, None])
        diff = w - u
        lo_i, hi_i = diff.min(-1).values, diff.max(-1).values
        pol = torch.where(active[:, None], a, pol)
        lo = torch.where(active, lo_i, lo)
        hi = torch.where(active, hi_i, hi)
        sweeps = torch.where(active, torch.full_like(sweeps, it), sweeps)
        stop = (hi_i - lo_i) < eps
        upd = active & ~stop
        w = (1.0 - tau) * u + tau * w
        w = w - w.min(dim=-1, keepdim=True).values
        u = torch.where(upd[:, None], w, u)
        active = upd
    return u, pol, sweeps, lo, hi
