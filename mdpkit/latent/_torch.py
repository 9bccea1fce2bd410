r"""Torch twins of the latent-MDP evaluators: alpha vectors in batch, on any device (CUDA when available).

* :func:`markov_alpha` — alpha vectors of Markov policies, batched over any leading axes of (models,
  policies): :math:`\alpha_{m,H} = 0`,
  :math:`\alpha_{m,t}(s) = R_{m,t}(s, \pi_t(s)) + \sum_{s'} P_{m,t}(s'|s, \pi_t(s))\, \alpha_{m,t+1}(s')`;
  for a Markov policy the alpha vector of a history depends on it only through :math:`(t, s_t)`.
* :func:`tree_policy_values` — exact values of K deterministic history policies at once, each given as one
  action per node of a :class:`~mdpkit.latent.planning.HistoryTree`; alpha vectors are backed up level by
  level with ``index_add_`` over the tree's edges,
  :math:`\alpha^k_m(\tau) = R_{m,t}(s, a_k(\tau)) + \sum_{e: a_e = a_k(\tau)} \mathbb 1[\mathrm{rid}_m = r_e]
  P_{m,t}(s_e|s, a_e)\, \alpha^k_m(\tau_e)`, and
  :math:`V_k = \sum_{s_0} \sum_m \beta_m(s_0)\, \alpha^k_m(s_0)`.

Both are cross-checked against the numba evaluator in ``tests/latent/test_planning.py``.
"""

from __future__ import annotations

import numpy as np
import torch

from mdpkit.core._torch import resolve_device
from mdpkit.errors import InvalidPolicyError

__all__ = ["markov_alpha", "markov_values", "tree_policy_values"]


def _t(x: object, dtype: torch.dtype, dev: torch.device) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.to(device=dev, dtype=dtype)
    return torch.tensor(np.array(x), dtype=dtype, device=dev)


def markov_alpha(
    P: np.ndarray | torch.Tensor,
    R: np.ndarray | torch.Tensor,
    policy: np.ndarray | torch.Tensor,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    r"""Alpha vectors of deterministic Markov policies, batched.

    Parameters
    ----------
    P : array (..., M, H, S, A, S)
        Kernels (leading batch axes broadcast against ``policy``'s).
    R : array (..., M, H, S, A)
        Rewards.
    policy : int array (..., H, S)
        Actions.
    device : str or torch.device, optional
        Default CUDA when available, else CPU.

    Returns
    -------
    torch.Tensor (..., M, H+1, S), float64
        :math:`\alpha_{m,t}(s)`, with :math:`\alpha_{m,H} = 0`.
    """
    dev = resolve_device(device)
    P = _t(P, torch.float64, dev)
    R = _t(R, torch.float64, dev)
    pi = _t(policy, torch.long, dev)
    M, H, S, A = P.shape[-5], P.shape[-4], P.shape[-3], P.shape[-2]
    if pi.shape[-2:] != (H, S):
        raise InvalidPolicyError(
            f"policy has shape {tuple(pi.shape)}, expected (..., H, S) = (..., {H}, {S})"
        )
    if pi.numel() and (int(pi.min()) < 0 or int(pi.max()) >= A):
        raise InvalidPolicyError(f"policy holds an action outside range({A})")
    batch = torch.broadcast_shapes(P.shape[:-5], R.shape[:-4], pi.shape[:-2])
    P = P.expand(*batch, M, H, S, A, S)
    R = R.expand(*batch, M, H, S, A)
    pi = pi.expand(*batch, H, S)
    alpha = torch.zeros(*batch, M, H + 1, S, dtype=torch.float64, device=dev)
    for t in range(H - 1, -1, -1):
        idx = pi[..., t, :].unsqueeze(-2).expand(*batch, M, S)  # (..., M, S)
        r = torch.gather(R[..., t, :, :], -1, idx.unsqueeze(-1)).squeeze(-1)
        Pt = torch.gather(P[..., t, :, :, :], -2, idx[..., None, None].expand(*batch, M, S, 1, S)).squeeze(-2)
        alpha[..., t, :] = r + torch.einsum("...mst,...mt->...ms", Pt, alpha[..., t + 1, :])
    return alpha


def markov_values(
    P: np.ndarray | torch.Tensor,
    R: np.ndarray | torch.Tensor,
    weights: np.ndarray | torch.Tensor,
    initial: np.ndarray | torch.Tensor,
    policy: np.ndarray | torch.Tensor,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    r"""Values :math:`\sum_m w_m \nu_m^\top \alpha_{m,0}` of Markov policies, batched as :func:`markov_alpha`.

    Parameters
    ----------
    P, R, policy
        As in :func:`markov_alpha`.
    weights : array (..., M)
        Mixing weights.
    initial : array (..., M, S)
        Initial distributions.
    device : str or torch.device, optional
        Default CUDA when available, else CPU.

    Returns
    -------
    torch.Tensor (...,)
    """
    alpha = markov_alpha(P, R, policy, device)
    dev = alpha.device
    w = _t(weights, torch.float64, dev)
    mu = _t(initial, torch.float64, dev)
    return torch.einsum("...m,...ms,...ms->...", w, mu, alpha[..., 0, :])


def tree_policy_values(
    tree, actions: np.ndarray | torch.Tensor, device: str | torch.device | None = None, chunk: int = 1 << 16
) -> torch.Tensor:
    r"""Exact values of K deterministic history policies given as one action per tree node.

    Parameters
    ----------
    tree : HistoryTree
        From :func:`mdpkit.latent.planning.build_tree` (all actions expanded).
    actions : int array (K, N)
        ``actions[k, n]``: the action of policy k at node n, nodes numbered level by level
        (``levels[0]`` first). Actions at nodes a policy never reaches do not affect its value.
    device : str or torch.device, optional
        Default CUDA when available, else CPU.
    chunk : int
        Policies evaluated per batch.

    Returns
    -------
    torch.Tensor (K,), float64
    """
    dev = resolve_device(device)
    lmdp = tree.lmdp
    H, A = lmdp.H, lmdp.A
    acts = _t(actions, torch.long, dev)
    sizes = [lv.state.shape[0] for lv in tree.levels]
    if acts.ndim != 2 or acts.shape[1] != sum(sizes):
        raise InvalidPolicyError(f"actions has shape {tuple(acts.shape)}, expected (K, {sum(sizes)})")
    if acts.numel() and (int(acts.min()) < 0 or int(acts.max()) >= A):
        raise InvalidPolicyError(f"actions hold an action outside range({A})")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    Rt = _t(lmdp.R, torch.float64, dev)
    # per level: node states, and the edges (parent, action, factor (E, M)) to the next level
    lev = []
    for t, lv in enumerate(tree.levels):
        st = torch.as_tensor(lv.state, device=dev)
        edge = None
        if t < H - 1:
            nxt = tree.levels[t + 1]
            par = nxt.parent
            pa = nxt.pact
            ps = lv.state[par]
            k = nxt.ridx
            f = np.asarray(lmdp.P)[:, t, ps, pa, nxt.state].T * (
                tree.rid[:, t, ps, pa].T == k[:, None]
            )  # (E, M)
            edge = (
                torch.as_tensor(par, device=dev),
                torch.as_tensor(pa, device=dev),
                torch.as_tensor(f, dtype=torch.float64, device=dev),
            )
        lev.append((st, edge))
    beta0 = _t(tree.levels[0].beta, torch.float64, dev)
    out = torch.empty(acts.shape[0], dtype=torch.float64, device=dev)
    for lo in range(0, acts.shape[0], chunk):
        a_all = acts[lo : lo + chunk]
        Kc = a_all.shape[0]
        alpha_next = None
        for t in range(H - 1, -1, -1):
            st, edge = lev[t]
            a_t = a_all[:, starts[t] : starts[t + 1]]  # (Kc, N_t)
            # R[m, t, s_n, a_k(n)] -> (Kc, N_t, M)
            alpha = Rt[:, t][:, st[None, :], a_t].permute(1, 2, 0).contiguous()
            if edge is not None:
                par, pa, f = edge
                on = (a_t[:, par] == pa[None, :]).to(torch.float64)  # (Kc, E)
                contrib = on[:, :, None] * f[None, :, :] * alpha_next  # (Kc, E, M)
                alpha.index_add_(1, par, contrib)
            alpha_next = alpha
        out[lo : lo + Kc] = torch.einsum("nm,knm->k", beta0, alpha_next)
    return out
