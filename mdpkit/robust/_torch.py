r"""torch twin of robust value iteration for (s, a)-rectangular L1 and KL balls, batched, any device.

Everything is batched over a leading axis ``B`` (independent robust models solved together): kernels
``P[b, s, a, s']`` (B, S, A, S), rewards ``R[b, s, a]`` (``-inf`` at infeasible pairs), discounts
``gamma[b]``, radii ``radius[b, s, a]``. Float64 throughout (the property tests compare with numba at
1e-10).

* :func:`q_l1` — the sort-based L1 inner problem of :func:`mdpkit.robust.inner.worst_case_l1`, vectorised:
  sort each kernel row by decreasing :math:`v`, remove :math:`\epsilon = \min(\kappa/2, 1 - p_{i^*})` from
  the front with a cumulative sum, add it to :math:`i^* = \arg\min v`.
* :func:`q_kl` — the KL dual of :func:`mdpkit.robust.inner.worst_case_kl`: :math:`\mathrm{KL}(q_\beta\|p)`
  is decreasing in :math:`\beta`, so 80 vectorised bisection steps on :math:`\log_2\beta` over
  :math:`[\rho\,2^{-200}, \rho\,2^{60}]` (:math:`\rho` the range of :math:`v` on the support) pin
  :math:`\beta^*` to ~1e-22 relative; the value is taken at the feasible end.
* :func:`robust_vi` — robust VI with the certified span stopping rule of :mod:`mdpkit.robust.solvers`,
  each model stopping at its own sweep.
"""

from __future__ import annotations

import numpy as np
import torch

from mdpkit.core import validate as V
from mdpkit.core._torch import resolve_device
from mdpkit.core.model import TabularMDP
from mdpkit.errors import InvalidArgumentError
from mdpkit.robust.sets import KLBall, L1Ball, UncertaintySet
from mdpkit.robust.solvers import RobustSolution

__all__ = ["q_l1", "q_kl", "robust_vi", "solve", "solve_batched"]

KL_STEPS = 80


def q_l1(P: torch.Tensor, R: torch.Tensor, gamma: torch.Tensor, v: torch.Tensor, radius: torch.Tensor):
    r""":math:`Q[b,s,a] = R + \gamma \min_{\|q - P_{bsa}\|_1 \le \kappa_{bsa}} q^\top v_b`, (B, S, A)."""
    B, S, A, _ = P.shape
    desc = torch.argsort(v, dim=1, descending=True, stable=True)  # (B, S); imin is last
    idx = desc[:, None, None, :].expand(B, S, A, S)
    Pd = torch.gather(P, 3, idx)  # rows sorted by decreasing v
    vd = torch.gather(v, 1, desc)  # (B, S)
    pmin = Pd[..., -1]
    eps = torch.minimum(radius / 2, 1 - pmin).clamp_min(0)
    before = torch.cumsum(Pd, dim=3) - Pd
    take = torch.minimum((eps[..., None] - before).clamp_min(0), Pd)
    take[..., -1] = 0
    base = torch.einsum("bsat,bt->bsa", P, v)
    val = base - torch.einsum("bsat,bt->bsa", take, vd) + eps * vd[:, -1][:, None, None]
    Q = R + gamma[:, None, None] * val
    return torch.where(torch.isneginf(R), R, Q)


def q_kl(P: torch.Tensor, R: torch.Tensor, gamma: torch.Tensor, v: torch.Tensor, radius: torch.Tensor):
    r""":math:`Q[b,s,a] = R + \gamma \min_{\mathrm{KL}(q\|P_{bsa}) \le \delta_{bsa}} q^\top v_b`."""
    sup = P > 0
    vb = v[:, None, None, :].expand_as(P)
    big = torch.finfo(P.dtype).max
    vmin = torch.where(sup, vb, torch.full_like(vb, big)).amin(dim=3)
    vmax = torch.where(sup, vb, torch.full_like(vb, -big)).amax(dim=3)
    d = torch.where(sup, vb - vmin[..., None], torch.zeros_like(vb))
    mmin = torch.where(sup & (d == 0), P, torch.zeros_like(P)).sum(dim=3)
    rng = (vmax - vmin).clamp_min(torch.finfo(P.dtype).tiny)

    def tilt(beta: torch.Tensor):
        logw = torch.where(sup, torch.log(torch.where(sup, P, 1.0)) - d / beta[..., None], -torch.inf)
        logz = torch.logsumexp(logw, dim=3)
        q = torch.exp(logw - logz[..., None])
        # KL(q||p) = sum q log(q/p) = sum q (-d/beta) - log Z, with Z = sum p e^{-d/beta}
        kl = (q * (-d / beta[..., None])).sum(dim=3) - logz
        return q, kl

    lo = torch.log2(rng) - 200.0
    hi = torch.log2(rng) + 60.0
    for _ in range(KL_STEPS):
        mid = 0.5 * (lo + hi)
        _, kl = tilt(torch.exp2(mid))
        over = kl > radius
        lo = torch.where(over, mid, lo)
        hi = torch.where(over, hi, mid)
    q, _ = tilt(torch.exp2(hi))
    val = (q * vb).sum(dim=3)
    nominal = (P * v[:, None, None, :]).sum(dim=3)
    all_min = radius >= -torch.log(mmin)
    val = torch.where(all_min, vmin, val)
    val = torch.where((radius <= 0) | (vmax == vmin), nominal, val)
    Q = R + gamma[:, None, None] * val
    return torch.where(torch.isneginf(R), R, Q)


def robust_vi(
    P: torch.Tensor,
    R: torch.Tensor,
    gamma: torch.Tensor,
    radius: torch.Tensor,
    kind: str = "l1",
    tol: float = 1e-10,
    max_iter: int = 1_000_000,
    v0: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    r"""Batched robust value iteration with the certified span rule (Puterman 1994, Prop. 6.6.5).

    Model ``b`` stops once :math:`\mathrm{sp}(Tv - v) \le \mathrm{tol}(1-\gamma_b)`; returns a dict of
    tensors ``V`` (B, S) (midpoint of the span bracket), ``policy`` (B, S), ``iterations`` (B,),
    ``error_bound`` (B,) (:math:`\mathrm{sp}/(1-\gamma)`, no rounding term), ``converged`` (B,).
    """
    qf = {"l1": q_l1, "kl": q_kl}[kind]
    B, S, A, _ = P.shape
    v = torch.zeros(B, S, dtype=P.dtype, device=P.device) if v0 is None else v0.clone()
    Vout = torch.empty_like(v)
    pol = torch.zeros(B, S, dtype=torch.int64, device=P.device)
    iters = torch.zeros(B, dtype=torch.int64, device=P.device)
    bound = torch.full((B,), torch.inf, dtype=P.dtype, device=P.device)
    live = torch.ones(B, dtype=torch.bool, device=P.device)
    for k in range(1, max_iter + 1):
        ids = torch.nonzero(live).flatten()
        Q = qf(P[ids], R[ids], gamma[ids], v[ids], radius[ids])
        tv, arg = Q.max(dim=2)
        dlt = tv - v[ids]
        lo, hi = dlt.min(dim=1).values, dlt.max(dim=1).values
        g = gamma[ids]
        done = (hi - lo) <= tol * (1 - g)
        if k == max_iter:
            done = torch.ones_like(done)
        fin = ids[done]
        Vout[fin] = v[fin] + ((lo + hi) / (2 * (1 - g)))[done][:, None]
        pol[fin] = arg[done]
        iters[fin] = k
        bound[fin] = ((hi - lo) / (1 - g))[done]
        live[fin] = False
        v[ids] = tv
        if not bool(live.any()):
            break
    return {"V": Vout, "policy": pol, "iterations": iters, "error_bound": bound, "converged": bound <= tol}


def solve(
    mdp: TabularMDP,
    uset: UncertaintySet,
    tol: float = 1e-10,
    device: str | None = None,
    max_iter: int = 1_000_000,
    v0: np.ndarray | None = None,
) -> RobustSolution:
    """``mdpkit.robust.solve(..., backend="torch")``: robust VI on ``device`` for an L1 or KL ball (B = 1).

    The worst-case kernel at the returned value is computed by the numba kernels."""
    if not isinstance(uset, L1Ball | KLBall):
        raise InvalidArgumentError(
            f"backend='torch' supports L1Ball and KLBall; got {type(uset).__name__} (use backend='numba')"
        )
    gamma = V.require_discounted(mdp.gamma, "robust solve")
    uset.check_model(mdp)
    tol = V.check_tol(tol)
    dev = resolve_device(device)
    t = dict(dtype=torch.float64, device=dev)
    P = torch.as_tensor(np.array(uset.nominal), **t)[None]
    R = torch.as_tensor(np.array(mdp.R), **t)[None]
    g = torch.tensor([gamma], **t)
    rad = torch.as_tensor(uset.radius, **t)[None]
    x0 = None if v0 is None else torch.as_tensor(np.asarray(v0, dtype=np.float64), **t)[None]
    out = robust_vi(P, R, g, rad, "l1" if isinstance(uset, L1Ball) else "kl", tol, max_iter, x0)
    Vn = out["V"][0].cpu().numpy()
    pol = out["policy"][0].cpu().numpy()
    D = np.zeros((mdp.S, mdp.A))
    D[np.arange(mdp.S), pol] = 1.0
    Rn = np.asarray(mdp.R)
    eb = float(out["error_bound"][0])
    return RobustSolution(
        V=Vn,
        policy=pol,
        iterations=int(out["iterations"][0]),
        residual=eb * (1 - gamma) / 2,
        converged=eb <= tol,
        method="robust-vi-torch",
        error_bound=eb,
        _q=lambda: uset.q(Rn, gamma, Vn),
        kernel=uset.worst_kernel(Rn, Vn, D),
        policy_matrix=D,
        uset=uset,
    )


def solve_batched(
    mdps: list[TabularMDP],
    usets: list[UncertaintySet],
    tol: float = 1e-10,
    device: str | None = None,
    max_iter: int = 1_000_000,
) -> list[RobustSolution]:
    r"""Robust VI for ``B`` robust models at once on ``device`` (default CUDA when available).

    All models share S and A and all sets are :class:`~mdpkit.robust.sets.L1Ball` or all
    :class:`~mdpkit.robust.sets.KLBall` (radii, kernels, rewards and discounts may differ). Each model
    stops at its own sweep (:func:`robust_vi`); the worst-case kernels are computed by the numba kernels.
    """
    if len(mdps) != len(usets) or not mdps:
        raise InvalidArgumentError(
            f"got {len(mdps)} models and {len(usets)} sets; need as many, at least one"
        )
    kinds = {type(u) for u in usets}
    if not (kinds <= {L1Ball} or kinds <= {KLBall}):
        raise InvalidArgumentError(
            f"all sets must be L1Ball or all KLBall; got {sorted(k.__name__ for k in kinds)}"
        )
    for m, u in zip(mdps, usets, strict=True):
        u.check_model(m)
        if (m.S, m.A) != (mdps[0].S, mdps[0].A):
            raise InvalidArgumentError("all models must have the same S and A")
    gammas = [V.require_discounted(m.gamma, "robust solve_batched") for m in mdps]
    tol = V.check_tol(tol)
    t = dict(dtype=torch.float64, device=resolve_device(device))
    P = torch.as_tensor(np.stack([u.nominal for u in usets]), **t)
    R = torch.as_tensor(np.stack([np.array(m.R) for m in mdps]), **t)
    rad = torch.as_tensor(np.stack([u.radius for u in usets]), **t)
    out = robust_vi(P, R, torch.tensor(gammas, **t), rad, "l1" if L1Ball in kinds else "kl", tol, max_iter)
    sols = []
    for b, (m, u) in enumerate(zip(mdps, usets, strict=True)):
        Vn = out["V"][b].cpu().numpy()
        pol = out["policy"][b].cpu().numpy()
        D = np.zeros((m.S, m.A))
        D[np.arange(m.S), pol] = 1.0
        Rn, g, eb = np.array(m.R), gammas[b], float(out["error_bound"][b])
        sols.append(
            RobustSolution(
                V=Vn,
                policy=pol,
                iterations=int(out["iterations"][b]),
                residual=eb * (1 - g) / 2,
                converged=eb <= tol,
                method="robust-vi-torch",
                error_bound=eb,
                _q=lambda u=u, Rn=Rn, g=g, Vn=Vn: u.q(Rn, g, Vn),
                kernel=u.worst_kernel(Rn, Vn, D),
                policy_matrix=D,
                uset=u,
            )
        )
    return sols
