"""Exact expected updates: REINFORCE directions against exact gradients, return distributions, SeeUPO."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdpkit.core.finite import backward_induction, evaluate_finite
from mdpkit.core.model import FiniteHorizonMDP
from mdpkit.policy_gradient import (
    Bandit,
    Dist,
    GroupAdvantage,
    bandit_gradient,
    bandit_stats,
    finite_gradient,
    finite_return_distributions,
    finite_stats,
    random_bandit,
    random_turn_chain,
    reinforce_direction,
    run_reinforce,
    run_sequential,
    sequential_update,
    softmax,
)
from mdpkit.policy_gradient.expected import finite_state_dist, finite_values


def _chain(seed, H=3, S=3, A=2, **kw):
    return random_turn_chain(H, S, A, seed, **kw)


@pytest.mark.parametrize("seed", range(4))
def test_finite_values_match_core(seed):
    fh = _chain(seed, outcome_only=bool(seed % 2))
    pi = softmax(np.random.default_rng(seed).normal(size=(fh.H, fh.S, fh.A)))
    V, Q = finite_values(fh, pi)
    V0, Q0 = evaluate_finite(fh, pi)
    np.testing.assert_allclose(V, V0, atol=1e-12)
    np.testing.assert_allclose(Q, Q0, atol=1e-12)
    from mdpkit.core.finite import occupancy_finite

    np.testing.assert_allclose(finite_state_dist(fh, pi), occupancy_finite(fh, pi).sum(axis=2), atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_return_distributions_are_consistent(seed):
    fh = _chain(seed, H=3, S=3, A=3, outcome_only=bool(seed % 2), deterministic=seed == 3)
    pi = softmax(np.random.default_rng(seed).normal(size=(fh.H, fh.S, fh.A)))
    rd = finite_return_distributions(fh, pi)
    V, Q = finite_values(fh, pi)
    assert rd.marginal.mean() == pytest.approx(float(fh.initial @ V[0]), abs=1e-12)
    assert sum(rd.marginal.probs) == pytest.approx(1.0, abs=1e-12)
    for h in range(fh.H):
        for s in range(fh.S):
            for a in range(fh.A):
                c = rd.conditional[h][s][a]
                if c is None:
                    assert rd.state_dist[h, s] == 0
                    continue
                assert sum(c.probs) == pytest.approx(1.0, abs=1e-12)
                assert c.mean() == pytest.approx(rd.past_mean[h, s] + Q[h, s, a], abs=1e-12)
                assert set(c.values) <= set(rd.marginal.values)
    np.testing.assert_allclose(rd.q_future, Q, atol=1e-12)


def test_one_turn_chain_equals_bandit():
    b = Bandit([Dist.from_arrays([0.0, 4.0], [0.5, 0.5]), 1.0, 3.0])
    # the same problem as a 2-turn chain: turn 0 picks the arm, the environment draws the reward
    P = np.zeros((2, 5, 3, 5))
    P[0, 0, 0, 1] = P[0, 0, 0, 2] = 0.5
    P[0, 0, 1, 3] = P[0, 0, 2, 4] = 1.0
    for s in range(1, 5):
        P[0, s, :, s] = 1.0
    for s in range(5):
        P[1, s, :, s] = 1.0
    fh = FiniteHorizonMDP(
        P, np.zeros((2, 5, 3)), 2, initial=np.eye(5)[0], terminal=np.array([0, 0, 4, 1, 3.0])
    )
    pi_arm = np.array([0.2, 0.5, 0.3])
    pi = np.full((2, 5, 3), 1 / 3)
    pi[0, 0] = pi_arm
    for adv in (GroupAdvantage(3), GroupAdvantage(4, "loo", "none"), "true"):
        sb = bandit_stats(b, list(pi_arm), adv)
        sf = finite_stats(fh, pi, adv)
        for x, y in ((sb.mean, sf.mean[0, 0]), (sb.pos, sf.pos[0, 0]), (sb.neg, sf.neg[0, 0])):
            np.testing.assert_allclose(np.asarray(x, dtype=float), y, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_reinforce_with_true_advantage_is_the_gradient(seed):
    rng = np.random.default_rng(seed)
    b = random_bandit(4, seed, kind="stochastic", K=3).to_float()
    th = rng.normal(size=4)
    np.testing.assert_allclose(reinforce_direction(b, th, "true"), bandit_gradient(b, th), atol=1e-12)
    fh = _chain(seed, outcome_only=False)
    th = rng.normal(size=(fh.H, fh.S, fh.A))
    np.testing.assert_allclose(reinforce_direction(fh, th, "true"), finite_gradient(fh, th), atol=1e-12)


def test_finite_gradient_matches_finite_differences():
    fh = _chain(7, outcome_only=False)
    th = np.random.default_rng(0).normal(size=(fh.H, fh.S, fh.A))

    def J(t):
        V, _ = finite_values(fh, softmax(t))
        return float(fh.initial @ V[0])

    g = finite_gradient(fh, th)
    h = 1e-6
    for idx in [(0, 0, 0), (1, 1, 1), (2, 2, 0)]:
        e = np.zeros_like(th)
        e[idx] = h
        assert g[idx] == pytest.approx((J(th + e) - J(th - e)) / (2 * h), abs=1e-7)


@pytest.mark.parametrize("G", [2, 3, 5])
def test_mean_only_grae_is_a_scaled_gradient_for_any_returns(G):
    rng = np.random.default_rng(G)
    b = random_bandit(3, G, kind="stochastic", K=3).to_float()
    th = rng.normal(size=3)
    np.testing.assert_allclose(
        reinforce_direction(b, th, GroupAdvantage(G, scale="none")),
        (G - 1) / G * bandit_gradient(b, th),
        atol=1e-12,
    )
    fh = _chain(G, outcome_only=False)
    th = rng.normal(size=(fh.H, fh.S, fh.A))
    np.testing.assert_allclose(
        reinforce_direction(fh, th, GroupAdvantage(G, "loo", "none")), finite_gradient(fh, th), atol=1e-12
    )


def test_std_grae_is_parallel_to_the_gradient_for_binary_outcomes():
    fh = _chain(11, H=3, S=3, A=2, max_reward=1)  # outcome rewards in {0, 1}, stochastic environment
    th = np.random.default_rng(1).normal(size=(fh.H, fh.S, fh.A))
    d = reinforce_direction(fh, th, GroupAdvantage(4))
    g = finite_gradient(fh, th)
    mask = np.abs(g) > 1e-9
    ratio = d[mask] / g[mask]
    assert ratio.min() > 0 and np.ptp(ratio) < 1e-9


def test_exact_bandit_stats_are_fractions():
    b = Bandit([Dist.from_arrays([F(0), F(10)], [F(4, 5), F(1, 5)]), F(1)])
    st_ = bandit_stats(b, [F(1, 2), F(1, 2)], GroupAdvantage(2))
    assert list(st_.mean) == [F(-3, 10), F(3, 10)]
    assert all(isinstance(x, F) for x in st_.pos)


def test_reinforce_run_reaches_optimum_on_deterministic_bandit():
    b = Bandit.deterministic([1.0, 3.0, 2.0])
    run = run_reinforce(b, GroupAdvantage(4), 1.0, 300)
    assert run.gap[-1] < 0.02 * run.gap[0]
    assert np.all(np.diff(run.J) > -1e-12)


def test_reverse_greedy_sweep_is_backward_induction():
    for seed in range(5):
        fh = _chain(seed, H=3, S=3, A=3, outcome_only=bool(seed % 2))
        uni = softmax(np.zeros((fh.H, fh.S, fh.A)))
        _, tr = sequential_update(fh, uni, "true", order="reverse", update="npg", eta=np.inf)
        assert tr[-1] == pytest.approx(backward_induction(fh).value, abs=1e-12)


@settings(max_examples=15)
@given(st.integers(0, 10_000), st.booleans(), st.booleans())
def test_seeupo_mean_only_is_monotone(seed, det, outcome):
    fh = _chain(seed, H=2, S=2, A=3, deterministic=det, outcome_only=outcome)
    run = run_sequential(fh, GroupAdvantage(4, scale="none"), 5)
    assert np.min(np.diff(run.trace)) >= -1e-10


def test_group_advantages_need_one_prompt():
    from mdpkit.errors import InvalidArgumentError

    fh = _chain(0)
    fh2 = FiniteHorizonMDP(np.stack([fh.P_at(h) for h in range(fh.H)]), fh.R, fh.H, terminal=fh.terminal)
    pi = softmax(np.zeros((fh.H, fh.S, fh.A)))
    with pytest.raises(InvalidArgumentError, match="point mass"):
        finite_stats(fh2, pi, GroupAdvantage(2))
    finite_stats(fh2, pi, "true")  # the true advantage needs no group
