r"""C-MORL with sampled policy gradients (PPO-style), in torch, on any device.

The same two stages as :func:`mdpkit.morl.cmorl` (Liu et al., ICLR 2025, Alg. 1), but every gradient is
estimated from sampled episodes, as in the paper's PPO implementation:

* rollouts: ``n_envs`` episodes in parallel on ``device``, each until a terminal state or ``horizon``
  steps; next states sampled from the rows of ``P`` (inverse-CDF on the cumulative rows);
* advantages: Monte-Carlo returns-to-go :math:`\hat G_t \in \mathbb R^k` minus a tabular per-state,
  per-objective baseline (the batch mean of :math:`\hat G` at that state);
* stage 1: PPO-clip on the scalarised advantage :math:`w^\top \hat A` (Schulman et al. 2017, eq. 7);
* stage 2 (crowding-distance selection as in the exact version): PPO-clip on the log-barrier advantage
  :math:`\hat A_l + \sum_{j \ne l} \hat A_j / (t\,(\hat J_j - c_j))` with :math:`c` from the parent's
  *exact* return (:func:`mdpkit.morl.constraint_thresholds`) and :math:`\hat J` the batch estimate;
  a barrier gap that the estimate says is violated is floored at ``1e-3`` of the threshold scale, so
  the update pushes back into the feasible set.

The policy is a tabular softmax :math:`\pi_\theta(a|s) \propto \exp\theta(s, a)` optimised by Adam. The
archive holds *exact* returns of the final policies (:func:`mdpkit.morl.evaluate_vector`), so fronts are
compared without sampling noise.
"""

from __future__ import annotations

import numpy as np

from mdpkit.envs._common import as_rng, check_int
from mdpkit.morl.cmorl import CMORLResult, _archive, _stage2_entry, constraint_thresholds, preference_weights
from mdpkit.morl.metrics import crowding_distance, pareto_mask
from mdpkit.morl.model import MultiObjectiveMDP, evaluate_vector

__all__ = ["cmorl_torch"]


class _Sampler:
    """Batched episode sampler for a MOMDP on a torch device."""

    def __init__(self, momdp: MultiObjectiveMDP, device: str, horizon: int, gen) -> None:
        import torch

        self.torch = torch
        self.m = momdp
        self.dev = device
        self.H = horizon
        self.gen = gen
        self.cdf = torch.as_tensor(np.cumsum(momdp.P, axis=2), device=device, dtype=torch.float64)
        self.cdf[..., -1] = 1.0
        self.R = torch.as_tensor(np.array(momdp.R), device=device, dtype=torch.float64)
        self.mu = torch.as_tensor(np.array(momdp.initial), device=device, dtype=torch.float64)
        self.term = torch.as_tensor(np.array(momdp.terminal), device=device)
        self.mask = torch.as_tensor(np.array(momdp.mask), device=device)

    def policy(self, theta):
        z = theta.masked_fill(~self.mask, float("-inf"))
        return self.torch.softmax(z, dim=1)

    def rollout(self, theta, n: int):
        """States (n, H), actions (n, H), alive (n, H) and discounted returns-to-go (n, H, k)."""
        torch = self.torch
        with torch.no_grad():
            pi = self.policy(theta)
            s = torch.multinomial(self.mu.expand(n, -1), 1, generator=self.gen).squeeze(1)
            S = torch.empty((n, self.H), dtype=torch.long, device=self.dev)
            Aa = torch.empty_like(S)
            alive = torch.empty((n, self.H), dtype=torch.bool, device=self.dev)
            rew = torch.zeros((n, self.H, self.m.k), dtype=torch.float64, device=self.dev)
            live = ~self.term[s]
            for h in range(self.H):
                a = torch.multinomial(pi[s], 1, generator=self.gen).squeeze(1)
                S[:, h], Aa[:, h], alive[:, h] = s, a, live
                rew[:, h] = self.R[s, a] * live[:, None]
                u = torch.rand((n, 1), generator=self.gen, device=self.dev, dtype=torch.float64)
                nxt = torch.searchsorted(self.cdf[s, a], u).squeeze(1).clamp_max(self.m.S - 1)
                s = torch.where(live, nxt, s)
                live = live & ~self.term[s]
            G = torch.zeros_like(rew)
            acc = torch.zeros((n, self.m.k), dtype=torch.float64, device=self.dev)
            for h in range(self.H - 1, -1, -1):
                acc = rew[:, h] + self.m.gamma * acc
                G[:, h] = acc
        return S, Aa, alive, G


def _advantages(sampler: _Sampler, S, alive, G):
    """Per-state Monte-Carlo baseline: A = G - mean_{batch}(G | s); also the estimated J (k,)."""
    torch = sampler.torch
    k = G.shape[-1]
    flat_s = S[alive]
    flat_g = G[alive]
    sums = torch.zeros((sampler.m.S, k), dtype=torch.float64, device=sampler.dev).index_add_(
        0, flat_s, flat_g
    )
    cnt = torch.bincount(flat_s, minlength=sampler.m.S).clamp_min(1).to(torch.float64)
    base = sums / cnt[:, None]
    A = G - base[S]
    J = G[:, 0].mean(dim=0)
    return A, J


def _ppo(sampler: _Sampler, theta, coef_fn, iters: int, n_envs: int, epochs: int, clip: float, lr: float):
    """``iters`` PPO-clip iterations on the advantage ``A @ coef_fn(J_hat)``; returns the new theta."""
    torch = sampler.torch
    theta = theta.clone().requires_grad_(True)
    opt = torch.optim.Adam([theta], lr=lr)
    for _ in range(iters):
        S, Aa, alive, G = sampler.rollout(theta.detach(), n_envs)
        A, J = _advantages(sampler, S, alive, G)
        adv = (A @ coef_fn(J))[alive]
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        s, a = S[alive], Aa[alive]
        with torch.no_grad():
            logp_old = torch.log(sampler.policy(theta)[s, a])
        for _e in range(epochs):
            logp = torch.log(sampler.policy(theta)[s, a])
            ratio = torch.exp(logp - logp_old)
            loss = -torch.min(ratio * adv, torch.clamp(ratio, 1 - clip, 1 + clip) * adv).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return theta.detach()


def cmorl_torch(
    momdp: MultiObjectiveMDP,
    n_init: int = 6,
    n_select: int = 5,
    n_rounds: int = 2,
    init_iters: int = 30,
    ext_iters: int = 10,
    beta: float = 0.9,
    t: float = 20.0,
    n_envs: int = 256,
    horizon: int = 100,
    epochs: int = 4,
    clip: float = 0.2,
    lr: float = 0.1,
    seed: int | np.random.Generator = 0,
    device: str | None = None,
) -> CMORLResult:
    r"""C-MORL with sampled PPO-style updates (module docstring); archive values are exact returns.

    Parameters
    ----------
    n_init, n_select, n_rounds, beta, t
        As in :func:`mdpkit.morl.cmorl`.
    init_iters, ext_iters : int
        PPO iterations (one batch of ``n_envs`` episodes each) per stage-1 policy / constrained step.
    n_envs, horizon : int
        Episodes per batch and their truncation length.
    epochs, clip, lr : PPO epochs per batch, clip range, Adam step size.
    seed : int or Generator
    device : str, optional
        Torch device; default CUDA when available, else CPU.

    Returns
    -------
    CMORLResult
        ``steps`` counts PPO iterations; ``log`` entries carry the exact value of every produced policy.
    """
    import torch

    from mdpkit.core._torch import resolve_device

    dev = resolve_device(device)
    rng = as_rng(seed)
    n_init = check_int(n_init, "n_init")
    gen = torch.Generator(device=dev)
    gen.manual_seed(int(rng.integers(2**62)))
    sampler = _Sampler(momdp, dev, check_int(horizon, "horizon"), gen)
    k = momdp.k
    values, thetas, log = [], [], []
    steps = 0

    def exact(theta) -> np.ndarray:
        pi = sampler.policy(theta).cpu().numpy()
        return evaluate_vector(momdp, pi / pi.sum(axis=1, keepdims=True)).J

    for w in preference_weights(k, n_init, rng):
        wt = torch.as_tensor(w, device=dev, dtype=torch.float64)
        th0 = torch.as_tensor(0.01 * rng.standard_normal((momdp.S, momdp.A)), device=dev)
        th = _ppo(sampler, th0, lambda J, wt=wt: wt, init_iters, n_envs, epochs, clip, lr)
        steps += init_iters
        J = exact(th)
        values.append(J)
        thetas.append(th)
        log.append({"stage": 1, "weight": w.tolist(), "value": J.tolist()})
    extended: set[int] = set()
    for rnd in range(check_int(n_rounds, "n_rounds", 0)):
        V = np.array(values)
        cand = [int(i) for i in np.flatnonzero(pareto_mask(V)) if int(i) not in extended]
        if not cand:
            break
        order = np.argsort(-crowding_distance(V[cand]), kind="stable")[: check_int(n_select, "n_select")]
        for idx in order:
            parent = cand[int(idx)]
            extended.add(parent)
            for l in range(k):
                c = constraint_thresholds(values[parent], beta, l)
                others = [j for j in range(k) if j != l]
                ct = torch.as_tensor(np.where(np.isfinite(c), c, 0.0), device=dev, dtype=torch.float64)
                floor = 1e-3 * (1.0 + float(np.max(np.abs(c[others]))))

                def coef(J, l=l, others=others, ct=ct, floor=floor):
                    out = torch.zeros(k, dtype=torch.float64, device=dev)
                    out[l] = 1.0
                    gap = (J[others] - ct[others]).clamp_min(floor)
                    out[others] = 1.0 / (t * gap)
                    return out

                th = _ppo(sampler, thetas[parent], coef, ext_iters, n_envs, epochs, clip, lr)
                steps += ext_iters
                J = exact(th)
                values.append(J)
                thetas.append(th)
                log.append(_stage2_entry(rnd, parent, l, J, c))
    Vf, th_keep, _ = _archive(values, thetas)
    pols = [sampler.policy(th).cpu().numpy() for th in th_keep]
    return CMORLResult(values=Vf, policies=pols, steps=steps, log=log)
