"""Sampled torch estimators against the exact expectations (CLT tolerances).

For ``n`` i.i.d. per-group estimates with sample standard deviation ``sd``, the mean is within
``Z * sd / sqrt(n)`` of its expectation except with probability about ``2 * Phi(-Z)`` per coordinate;
``Z = 5.5`` makes a false alarm (over every coordinate of every test) below 1e-6. Seeds are fixed, so each
test is deterministic.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mdpkit.core.discounted import evaluate
from mdpkit.envs import garnet
from mdpkit.policy_gradient import (
    GroupAdvantage,
    bandit_stats,
    random_bandit,
    random_turn_chain,
    reinforce_direction,
    softmax,
    surrogate_logit_gradient,
)
from mdpkit.policy_gradient.sampled import (
    group_advantages,
    mc_q_estimates,
    ppo_grad_bandit,
    reinforce_grad_bandit,
    reinforce_grad_finite,
    sample_bandit_groups,
    sample_trajectories,
    sampled_mirror_descent_step,
)

Z = 5.5


def _clt(samples: torch.Tensor, exact: np.ndarray) -> None:
    x = samples.detach().cpu().numpy().reshape(samples.shape[0], -1)
    mean, sd = x.mean(axis=0), x.std(axis=0, ddof=1)
    tol = Z * sd / np.sqrt(x.shape[0]) + 1e-12
    err = np.abs(mean - np.asarray(exact).ravel())
    assert np.all(err <= tol), f"max err/tol = {np.max(err / tol):.2f}"


@pytest.mark.parametrize(
    "spec",
    [
        GroupAdvantage(2),
        GroupAdvantage(4, "loo", "std_unbiased"),
        GroupAdvantage(5, "mean", "std", 0.1),
        GroupAdvantage(3, scale="none"),
    ],
)
def test_group_advantages_match_the_reference(spec):
    rng = np.random.default_rng(0)
    r = rng.integers(0, 3, size=(200, spec.G)).astype(float)
    r[0] = 0.1  # an all-equal group of a non-representable value
    got = group_advantages(torch.tensor(r), spec).numpy()
    ref = np.array([spec.advantages(list(row)) for row in r])
    np.testing.assert_allclose(got, ref, atol=1e-12)


@pytest.mark.parametrize("G", [2, 4])
def test_bandit_reinforce_gradient_clt(G):
    b = random_bandit(3, 5, kind="stochastic", K=3).to_float()
    th = np.array([0.3, -0.2, 0.1])
    pi = softmax(th)
    spec = GroupAdvantage(G)
    acts, rew = sample_bandit_groups(b, pi, G, 40_000, seed=1, device="cpu")
    grads = reinforce_grad_bandit(acts, group_advantages(rew, spec), pi)
    _clt(grads, reinforce_direction(b, th, spec))


def test_bandit_ppo_gradient_clt():
    b = random_bandit(3, 9, kind="stochastic", K=2).to_float()
    pi_old = np.array([0.3, 0.5, 0.2])
    pi = np.array([0.36, 0.38, 0.26])  # ratios 1.2, 0.76, 1.3: some clipped
    spec, eps = GroupAdvantage(4), 0.2
    st = bandit_stats(b, list(pi_old), spec)
    exact = surrogate_logit_gradient(pi, pi_old, st.pos, st.neg, eps)
    acts, rew = sample_bandit_groups(b, pi_old, spec.G, 40_000, seed=2)
    _clt(ppo_grad_bandit(acts, group_advantages(rew, spec), pi, pi_old, eps), exact)


def test_finite_reinforce_gradient_clt():
    fh = random_turn_chain(2, 2, 2, 3, deterministic=False, outcome_only=True, max_reward=3)
    th = np.random.default_rng(0).normal(size=(fh.H, fh.S, fh.A))
    pi = softmax(th)
    G, n = 4, 30_000
    spec = GroupAdvantage(G)
    s, a, ret = sample_trajectories(fh, pi, n * G, seed=4)
    adv = group_advantages(ret.reshape(n, G), spec)
    grads = reinforce_grad_finite(s.reshape(n, G, -1), a.reshape(n, G, -1), adv, pi)
    _clt(grads, reinforce_direction(fh, th, spec))


def test_trajectory_returns_clt():
    fh = random_turn_chain(3, 3, 2, 8, outcome_only=False)
    pi = softmax(np.random.default_rng(1).normal(size=(fh.H, fh.S, fh.A)))
    from mdpkit.policy_gradient.expected import finite_values

    V, _ = finite_values(fh, pi)
    _, _, ret = sample_trajectories(fh, pi, 50_000, seed=5)
    _clt(ret[:, None], np.array([fh.initial @ V[0]]))


def test_mc_q_estimates_clt_and_sampled_npg_step():
    mdp = garnet(4, 2, 2, gamma=0.7, seed=3)
    pi = np.array([[0.3, 0.7], [0.5, 0.5], [0.9, 0.1], [0.2, 0.8]])
    q = mc_q_estimates(mdp, pi, 20_000, seed=6)
    _clt(q, evaluate(mdp, pi).Q)
    new = sampled_mirror_descent_step(mdp, pi, 1.0, 20_000, seed=7)
    from mdpkit.policy_gradient import mirror_descent_step

    exact = mirror_descent_step(pi, evaluate(mdp, pi).advantage, 1.0)
    np.testing.assert_allclose(new, exact, atol=0.02)


def test_default_device_and_seeding():
    b = random_bandit(2, 0, kind="bernoulli").to_float()
    a1, r1 = sample_bandit_groups(b, [0.5, 0.5], 2, 10, seed=np.random.default_rng(3))
    a2, r2 = sample_bandit_groups(b, [0.5, 0.5], 2, 10, seed=np.random.default_rng(3))
    assert torch.equal(a1, a2) and torch.equal(r1, r2)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert a1.device.type == expected
