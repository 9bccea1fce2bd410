r"""torch twin of DR-RPO (:mod:`mdpkit.linear.drrpo`): ``B`` runs at once, on any device, in float64.

Private: :func:`mdpkit.linear.drrpo.drrpo_batched` validates the inputs, draws the uniforms and calls
:func:`run`. Every step mirrors a numba kernel of :mod:`mdpkit.linear.drrpo` operation for operation
(the same dual maximisations — TV over the breakpoints :math:`\alpha \in \{V(s)\}`, KL over the same grid of
:math:`\log\beta` followed by the same zoom rounds — the same inverse-CDF sampling and the same
mirror-descent update), batched over a leading axis ``B`` (seeds and/or models of one shape). With the same
uniforms a run follows the numba run's trajectory; values agree to rounding (tested to 1e-9).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from mdpkit.core._torch import resolve_device
from mdpkit.linear.drrpo import KL_ZOOM, KL_ZOOM_POINTS

__all__ = ["robust_expect", "run"]


def _kl_obj(M, V, vmin, span, rho, t):
    """Dual objective at t (B, d, n): M (B, d, S), V (B, S), vmin/span (B,); z in log space."""
    beta = span[:, None, None] * torch.exp(t)  # (B, d, n)
    w = -(V - vmin[:, None])[:, None, None, :] / beta[..., None]  # (B, d, n, S)
    nz = (M != 0)[:, :, None, :]
    c = torch.where(nz, w, torch.full_like(w, -math.inf)).max(-1).values
    c = torch.where(torch.isinf(c), torch.zeros_like(c), c)
    z = torch.where(nz, M[:, :, None, :] * torch.exp(w - c[..., None]), torch.zeros_like(w)).sum(-1)
    lo = -span[:, None, None] / beta
    logz = torch.where(z > 0, c + torch.log(torch.where(z > 0, z, torch.ones_like(z))), lo)
    logz = torch.clamp(torch.maximum(logz, lo), max=0.0)
    return vmin[:, None, None] - beta * logz - beta * rho


def robust_expect(
    M: torch.Tensor, V: torch.Tensor, kind: int, rho: float, tgrid: torch.Tensor
) -> torch.Tensor:
    r"""Batched dual robust expectation: ``M`` (B, d, S), ``V`` (B, S) -> (B, d).

    ``kind`` 0: :math:`MV`; 1 (TV): :math:`\max_{\alpha \in \{V(s)\}} M\min(V,\alpha) - \rho(\alpha -
    \min V)`; 2 (KL): :math:`\sup_\beta -\beta\log M e^{-V/\beta} - \beta\rho` by grid + zoom rounds.
    """
    if kind == 0 or rho == 0.0:
        return (M * V[:, None, :]).sum(-1)
    vmin = V.min(-1).values
    if kind == 1:
        cap = torch.minimum(V[:, :, None], V[:, None, :])  # (B, S_s, S_j)
        z = (M[:, :, :, None] * cap[:, None, :, :]).sum(2)  # (B, d, S_j)
        z = z - rho * (V - vmin[:, None])[:, None, :]
        return z.max(-1).values
    vmax = V.max(-1).values
    span = vmax - vmin
    flat = span <= 0
    sp = torch.where(flat, torch.ones_like(span), span)
    B, d, S = M.shape
    inf = torch.full_like(V, math.inf)
    limit = torch.where(M > 0, V[:, None, :], inf[:, None, :]).min(-1).values
    limit = torch.where(torch.isinf(limit), vmin[:, None].expand(B, d), limit)
    G = tgrid.shape[0]
    fgrid = _kl_obj(M, V, vmin, sp, rho, tgrid.expand(B, d, G))
    fbest, jbest = fgrid.max(-1)  # first maximiser, as the numba loop
    a = tgrid[torch.clamp(jbest - 1, min=0)]
    b = tgrid[torch.clamp(jbest + 1, max=G - 1)]
    n = KL_ZOOM_POINTS - 1
    frac = torch.arange(n + 1, dtype=M.dtype, device=M.device) / n
    for _ in range(KL_ZOOM):
        pts = a[..., None] + (b - a)[..., None] * frac  # (B, d, n+1)
        fz, jz = _kl_obj(M, V, vmin, sp, rho, pts).max(-1)
        fbest = torch.maximum(fbest, fz)
        lo_f = torch.clamp(jz - 1, min=0).to(M.dtype) / n
        hi_f = torch.clamp(jz + 1, max=n).to(M.dtype) / n
        a, b = a + (b - a) * lo_f, a + (b - a) * hi_f
    out = torch.maximum(limit, fbest)
    return torch.where(flat[:, None], vmin[:, None].expand(B, d), out)


def _policy_value(logpi, Q, logref, lam):
    """<pi, Q> - lam KL(pi || ref) over the last axis; logpi, Q, logref (B, S, A) -> (B, S)."""
    p = torch.exp(logpi)
    pos = p > 0
    val = torch.where(pos, p * Q, torch.zeros_like(Q))
    if lam != 0.0:
        kl = torch.where(pos, p * (logpi - logref), torch.zeros_like(Q))
        val = val - lam * kl
    return val.sum(-1)


def _q(phi, R_h, nu):
    """R_h (B, S, A) + phi (B, S, A, d) . nu (B, d)."""
    return R_h + torch.einsum("bsai,bi->bsa", phi, nu)


def _sample(cdf, u):
    """First index j with u < cdf[..., j] (last index if none): cdf (B, n), u (B,)."""
    n = cdf.shape[-1]
    return torch.clamp((cdf <= u[:, None]).sum(-1), max=n - 1)


def run(
    arrays: dict[str, np.ndarray],
    kind: int,
    rho: float,
    lam: float,
    eta: float,
    beta: float,
    ridge: float,
    tgrid: np.ndarray,
    device: str | None = None,
) -> dict[str, np.ndarray]:
    """Run ``B`` DR-RPO learners (see :mod:`mdpkit.linear.drrpo` for the algorithm).

    Parameters
    ----------
    arrays : dict
        ``phi`` (B, S, A, d), ``R`` (B, H, S, A), ``mu`` (B, H, d, S), ``P_cdf`` (B, H, S, A, S),
        ``init_cdf`` and ``initial`` (B, S), ``logref`` (B, H, S, A), ``U`` (B, K, 2H+1).
    kind, rho, lam, eta, beta, ridge : scalars
        As in the numba kernel (``kind`` 0 none, 1 TV, 2 KL).
    tgrid : ndarray
        The KL grid of ``log(beta / sp(V))``.
    device : str, optional
        torch device (default CUDA when available).

    Returns
    -------
    dict
        ``values`` and ``returns`` (B, K), ``logpi`` (B, H, S, A) after the last update,
        ``visits`` (B, H, S, A) int64.
    """
    dev = resolve_device(device)
    t = {
        k: torch.as_tensor(np.ascontiguousarray(v), dtype=torch.float64, device=dev)
        for k, v in arrays.items()
    }
    tg = torch.as_tensor(tgrid, dtype=torch.float64, device=dev)
    phi, R, mu, P_cdf, init_cdf, initial, logref, U = (
        t["phi"],
        t["R"],
        t["mu"],
        t["P_cdf"],
        t["init_cdf"],
        t["initial"],
        t["logref"],
        t["U"],
    )
    B, H, S, A = R.shape
    d = phi.shape[-1]
    K = U.shape[1]
    idx = torch.arange(B, device=dev)
    Lam = ridge * torch.eye(d, dtype=torch.float64, device=dev).expand(B, H, d, d).clone()
    N = torch.zeros(B, H, d, S, dtype=torch.float64, device=dev)
    visits = torch.zeros(B, H, S, A, dtype=torch.int64, device=dev)
    logpi = logref.clone()
    values = torch.empty(B, K, dtype=torch.float64, device=dev)
    returns = torch.empty(B, K, dtype=torch.float64, device=dev)
    zeros = torch.zeros(B, S, dtype=torch.float64, device=dev)
    scale = 1.0 / (1.0 + eta * lam)
    for k in range(K):
        # exact regularised robust value of pi_k
        Vn = zeros
        for h in range(H - 1, -1, -1):
            nu = robust_expect(mu[:, h], Vn, kind, rho, tg)
            Vn = _policy_value(logpi[:, h], _q(phi, R[:, h], nu), logref[:, h], lam)
        values[:, k] = (initial * Vn).sum(-1)
        # play pi_k
        s = _sample(init_cdf, U[:, k, 0])
        ret = torch.zeros(B, dtype=torch.float64, device=dev)
        for h in range(H):
            cdf = torch.cumsum(torch.exp(logpi[idx, h, s]), -1)
            a = _sample(cdf, U[:, k, 1 + 2 * h])
            s2 = _sample(P_cdf[idx, h, s, a], U[:, k, 2 + 2 * h])
            ret = ret + R[idx, h, s, a]
            visits[idx, h, s, a] += 1
            f = phi[idx, s, a]  # (B, d)
            Lam[:, h] += f[:, :, None] * f[:, None, :]
            N[idx, h, :, s2] += f
            s = s2
        returns[:, k] = ret
        # ridge regression, dual robust backup, optimistic evaluation of pi_k
        Vn = zeros
        Qk = torch.empty(B, H, S, A, dtype=torch.float64, device=dev)
        for h in range(H - 1, -1, -1):
            Linv = torch.linalg.inv(Lam[:, h])
            Mh = Linv @ N[:, h]
            nu = robust_expect(Mh, Vn, kind, rho, tg)
            bon = beta * torch.sqrt(torch.clamp(torch.diagonal(Linv, dim1=-2, dim2=-1), min=0.0))
            Qk[:, h] = torch.clamp(_q(phi, R[:, h], nu + bon), max=float(H - h))
            Vn = _policy_value(logpi[:, h], Qk[:, h], logref[:, h], lam)
        # mirror descent toward the reference policy
        x = (logpi + eta * lam * logref + eta * Qk) * scale
        logpi = x - torch.logsumexp(x, -1, keepdim=True)
    return {
        "values": values.cpu().numpy(),
        "returns": returns.cpu().numpy(),
        "logpi": logpi.cpu().numpy(),
        "visits": visits.cpu().numpy(),
    }
