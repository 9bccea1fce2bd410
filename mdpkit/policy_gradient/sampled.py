r"""Sampled (Monte-Carlo) versions of the policy-gradient estimators, batched in torch on any device.

Each function returns **one estimate per group / rollout** (a leading batch axis) so that the mean of many
estimates can be compared with the exact expectation of :mod:`mdpkit.policy_gradient.expected` with a CLT
tolerance (see ``tests/policy_gradient/test_sampled.py``). Tensors are float64; ``device=None`` uses CUDA
when available, else the CPU; randomness comes from a ``torch.Generator`` seeded by ``seed``.

Estimators
----------
* :func:`sample_bandit_groups`, :func:`sample_trajectories`: groups of sampled actions / trajectories and
  their rewards / returns;
* :func:`group_advantages`: GRAE advantages of sampled groups (the conventions of
  :class:`~mdpkit.policy_gradient.grae.GroupAdvantage`, zero-std groups give 0);
* :func:`reinforce_grad_bandit`, :func:`reinforce_grad_finite`: per-group REINFORCE gradients
  :math:`\frac1G\sum_i \hat A_i \nabla_\theta \log \pi(\cdot)` with the closed-form softmax score;
* :func:`ppo_grad_bandit`: per-group gradients of :math:`\frac1G\sum_i \min(\rho_i\hat A_i,
  \mathrm{clip}(\rho_i)\hat A_i)` for samples drawn from the old policy;
* :func:`mc_q_estimates`: unbiased Monte-Carlo :math:`Q^\pi(s, a)` estimates for a discounted MDP with a
  geometric horizon (episodes stop with probability :math:`1 - \gamma` after each step, rewards undiscounted),
  and :func:`sampled_mirror_descent_step` using them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mdpkit.core.model import FiniteHorizonMDP, TabularMDP
from mdpkit.errors import InvalidArgumentError
from mdpkit.policy_gradient._common import check_int, torch_device, torch_generator
from mdpkit.policy_gradient.bandit import Bandit
from mdpkit.policy_gradient.grae import GroupAdvantage

if TYPE_CHECKING:  # torch is imported lazily at run time
    import torch

__all__ = [
    "sample_bandit_groups",
    "group_advantages",
    "reinforce_grad_bandit",
    "ppo_grad_bandit",
    "sample_trajectories",
    "reinforce_grad_finite",
    "mc_q_estimates",
    "sampled_mirror_descent_step",
]


def _t(x: object, device: object) -> torch.Tensor:
    import torch

    return torch.as_tensor(np.array(x, dtype=np.float64), dtype=torch.float64, device=device)


def _categorical(probs: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One draw per row of ``probs`` (n, K) by inversion of the cumulative sums (faster than
    ``torch.multinomial`` for many short rows). Rows must sum to 1; zero-probability entries are never
    drawn."""
    import torch

    c = torch.cumsum(probs, dim=-1)
    u = torch.rand(probs.shape[:-1] + (1,), generator=gen, dtype=probs.dtype, device=probs.device)
    idx = torch.searchsorted(c, u * c[..., -1:], right=True).squeeze(-1)
    return idx.clamp_(max=probs.shape[-1] - 1)


def sample_bandit_groups(
    bandit: Bandit,
    pi: np.ndarray,
    G: int,
    n_groups: int,
    seed: int | np.random.Generator = 0,
    device: object | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``n_groups`` groups of ``G`` i.i.d. pulls from policy ``pi``.

    Returns
    -------
    (actions, rewards) : LongTensor (n_groups, G), float64 Tensor (n_groups, G)
    """

    check_int(G, "G", low=1)
    check_int(n_groups, "n_groups", low=1)
    dev = torch_device(device)
    gen = torch_generator(seed, dev)
    p = _t(bandit.check_policy([float(x) for x in pi]), dev)
    n = n_groups * G
    actions = _categorical(p.expand(n, -1), gen)
    Kmax = max(arm.K for arm in bandit.arms)
    vals = np.zeros((bandit.A, Kmax))
    probs = np.zeros((bandit.A, Kmax))
    for a, arm in enumerate(bandit.arms):
        vals[a, : arm.K] = [float(v) for v in arm.values]
        probs[a, : arm.K] = [float(q) for q in arm.probs]
    V, Pr = _t(vals, dev), _t(probs, dev)
    idx = _categorical(Pr[actions], gen)
    rewards = V[actions, idx]
    return actions.reshape(n_groups, G), rewards.reshape(n_groups, G)


def group_advantages(rewards: torch.Tensor | np.ndarray, spec: GroupAdvantage) -> torch.Tensor:
    r"""GRAE advantages of groups of rewards (last axis = group), as a float64 tensor of the same shape.

    Zero-std groups (all rewards equal) give 0 (the 0/0 convention of
    :class:`~mdpkit.policy_gradient.grae.GroupAdvantage`).
    """
    import torch

    r = torch.as_tensor(rewards, dtype=torch.float64)
    G = r.shape[-1]
    if G != spec.G:
        raise InvalidArgumentError(f"groups have {G} members, expected G = {spec.G}")
    tot = r.sum(dim=-1, keepdim=True)
    num = r - tot / G if spec.baseline == "mean" else r - (tot - r) / (G - 1)
    if spec.scale == "none":
        return num
    sd = r.std(dim=-1, correction=1 if spec.scale == "std_unbiased" else 0, keepdim=True)
    den = sd + float(spec.eps)
    if float(spec.eps) > 0:
        return num / den
    # eps = 0: groups whose members are all equal get 0 (decided exactly, not from a rounded std)
    flat = r.max(dim=-1, keepdim=True).values == r.min(dim=-1, keepdim=True).values
    safe = torch.where(flat, torch.ones_like(den), den)
    return torch.where(flat, torch.zeros_like(num), num / safe)


def reinforce_grad_bandit(actions: torch.Tensor, adv: torch.Tensor, pi: np.ndarray) -> torch.Tensor:
    r"""Per-group REINFORCE gradients :math:`\frac1G\sum_i \hat A_i (e_{a_i} - \pi)` in logit space, shape
    (n_groups, A)."""
    import torch

    p = _t(pi, actions.device)
    A = p.shape[0]
    onehot = torch.nn.functional.one_hot(actions, A).to(torch.float64)
    adv = adv.to(torch.float64)
    return (adv[..., None] * (onehot - p)).mean(dim=1)


def ppo_grad_bandit(
    actions: torch.Tensor, adv: torch.Tensor, pi: np.ndarray, pi_old: np.ndarray, eps: float
) -> torch.Tensor:
    r"""Per-group gradients in logit space of :math:`\frac1G\sum_i \min(\rho_i \hat A_i,
    \mathrm{clip}(\rho_i, 1-\epsilon, 1+\epsilon)\hat A_i)`, with
    :math:`\rho_i = \pi(a_i)/\pi_{\mathrm{old}}(a_i)` and :math:`a_i \sim \pi_{\mathrm{old}}`:
    :math:`\hat A_i \rho_i (e_{a_i} - \pi)` where the unclipped branch is active, 0 otherwise.
    Shape (n_groups, A)."""
    import torch

    p = _t(pi, actions.device)
    p0 = _t(pi_old, actions.device)
    A = p.shape[0]
    rho = p[actions] / p0[actions]
    adv = adv.to(torch.float64)
    active = ((adv > 0) & (rho < 1 + eps)) | ((adv < 0) & (rho > 1 - eps))
    coef = torch.where(active, adv * rho, torch.zeros_like(adv))
    onehot = torch.nn.functional.one_hot(actions, A).to(torch.float64)
    return (coef[..., None] * (onehot - p)).mean(dim=1)


def sample_trajectories(
    fh: FiniteHorizonMDP,
    policy: np.ndarray,
    n: int,
    seed: int | np.random.Generator = 0,
    device: object | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Sample ``n`` trajectories of a time-indexed policy (H, S, A) in a multi-turn problem.

    Returns
    -------
    (states, actions, returns) : LongTensor (n, H + 1), LongTensor (n, H), float64 Tensor (n,)
        ``returns`` is the undiscounted sum of rewards plus the terminal reward.
    """
    import torch

    check_int(n, "n", low=1)
    dev = torch_device(device)
    gen = torch_generator(seed, dev)
    pi = _t(policy, dev)
    H, S, A = fh.H, fh.S, fh.A
    if tuple(pi.shape) != (H, S, A):
        raise InvalidArgumentError(
            f"policy has shape {tuple(pi.shape)}, expected (H, S, A) = ({H}, {S}, {A})"
        )
    P = np.stack(
        [
            np.asarray(
                fh.P_at(h).toarray().reshape(S, A, S) if hasattr(fh.P_at(h), "toarray") else fh.P_at(h)
            )
            for h in range(H)
        ]
    )
    Pt = _t(P, dev)
    R = _t(np.where(fh.mask, fh.R, 0.0), dev)
    term = _t(fh.terminal, dev)
    states = torch.empty((n, H + 1), dtype=torch.long, device=dev)
    actions = torch.empty((n, H), dtype=torch.long, device=dev)
    s = _categorical(_t(fh.initial, dev).expand(n, -1), gen)
    ret = torch.zeros(n, dtype=torch.float64, device=dev)
    for h in range(H):
        states[:, h] = s
        a = _categorical(pi[h, s], gen)
        actions[:, h] = a
        ret = ret + R[h, s, a]
        s = _categorical(Pt[h, s, a], gen)
    states[:, H] = s
    ret = ret + term[s]
    return states, actions, ret


def reinforce_grad_finite(
    states: torch.Tensor, actions: torch.Tensor, adv: torch.Tensor, policy: np.ndarray
) -> torch.Tensor:
    r"""Per-group REINFORCE gradients for time-indexed logits, shape (n_groups, H, S, A).

    Parameters
    ----------
    states, actions : LongTensor (n_groups, G, H + 1), (n_groups, G, H)
        Trajectories arranged in groups.
    adv : Tensor (n_groups, G)
        Each trajectory's (sequence-level) advantage, applied to every turn.
    policy : ndarray (H, S, A)

    Returns
    -------
    Tensor (n_groups, H, S, A)
        :math:`\frac1G\sum_i \hat A_i \sum_h (e_{a_{h,i}} - \pi_h(\cdot|s_{h,i}))`, each term placed at
        :math:`(h, s_{h,i})`.
    """
    import torch

    pi = _t(policy, states.device)
    H, S, A = pi.shape
    n, G = adv.shape
    out = torch.zeros((n, H, S, A), dtype=torch.float64, device=states.device)
    adv = adv.to(torch.float64)
    for h in range(H):
        s = states[:, :, h]
        a = actions[:, :, h]
        score = torch.nn.functional.one_hot(a, A).to(torch.float64) - pi[h, s]  # (n, G, A)
        contrib = adv[..., None] * score / G
        idx = s[..., None].expand(n, G, A)
        out[:, h].scatter_add_(1, idx, contrib)
    return out


def mc_q_estimates(
    mdp: TabularMDP,
    pi: np.ndarray,
    n: int,
    seed: int | np.random.Generator = 0,
    device: object | None = None,
    max_steps: int | None = None,
) -> torch.Tensor:
    r"""Unbiased Monte-Carlo estimates of :math:`Q^\pi(s, a)` for every pair, shape (n, S, A).

    Each estimate starts at :math:`(s, a)` and sums **undiscounted** rewards of an episode that stops after
    each step with probability :math:`1 - \gamma`; since :math:`\Pr(T \ge t) = \gamma^t`,
    :math:`\mathbb E[\sum_{t \le T} r_t] = Q^\pi(s, a)`. Episodes are cut after ``max_steps`` steps
    (default :math:`\lceil 40 / (1 - \gamma) \rceil`, bias at most :math:`\gamma^{\text{max\_steps}}
    \|r\|_\infty / (1-\gamma)`). Infeasible pairs get ``nan``.
    """
    import torch

    check_int(n, "n", low=1)
    gamma = mdp.gamma
    if gamma is None or not gamma < 1:
        raise InvalidArgumentError(f"mc_q_estimates needs a discounted model, got gamma = {gamma!r}")
    dev = torch_device(device)
    gen = torch_generator(seed, dev)
    S, A = mdp.S, mdp.A
    steps = (
        int(np.ceil(40.0 / (1.0 - gamma))) if max_steps is None else check_int(max_steps, "max_steps", low=0)
    )
    P = _t(mdp.dense_P(), dev)
    R = _t(np.where(mdp.mask, mdp.R, 0.0), dev)
    p = _t(mdp.policy_matrix(pi), dev)
    s = torch.arange(S, device=dev).repeat_interleave(A).repeat(n)
    a = torch.arange(A, device=dev).repeat(S).repeat(n)
    total = R[s, a].clone()
    live = torch.arange(total.shape[0], device=dev)  # particles still running
    for _ in range(steps):
        cont = torch.rand(live.shape, generator=gen, dtype=torch.float64, device=dev) < gamma
        live, s, a = live[cont], s[cont], a[cont]
        if live.numel() == 0:
            break
        s = _categorical(P[s, a], gen)
        a = _categorical(p[s], gen)
        total.index_add_(0, live, R[s, a])
    out = total.reshape(n, S, A)
    mask = torch.as_tensor(np.array(mdp.mask), device=dev)
    return torch.where(mask, out, torch.full_like(out, float("nan")))


def sampled_mirror_descent_step(
    mdp: TabularMDP,
    pi: np.ndarray,
    eta: float,
    n: int,
    seed: int | np.random.Generator = 0,
    device: object | None = None,
) -> np.ndarray:
    r"""Mirror-descent / NPG step :math:`\pi' \propto \pi e^{\eta \hat A}` with the advantage estimated from
    ``n`` Monte-Carlo :math:`Q` estimates per pair (:func:`mc_q_estimates`); returns an (S, A) numpy array."""
    from mdpkit.policy_gradient.mirror import mirror_descent_step

    q = mc_q_estimates(mdp, pi, n, seed, device).mean(dim=0).cpu().numpy()
    p = mdp.policy_matrix(pi)
    v = np.sum(p * np.where(mdp.mask, q, 0.0), axis=1)
    return mirror_descent_step(p, np.where(mdp.mask, q - v[:, None], -np.inf), eta)
