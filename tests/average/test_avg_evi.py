"""Extended value iteration: numba vs batched torch, the optimistic Bellman equation, the span cap, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mdpkit
from mdpkit.average.evi import extended_value_iteration, optimistic_backup
from mdpkit.errors import InvalidArgumentError


@st.composite
def evi_problems(draw, max_S: int = 6, max_A: int = 3):
    """(p_hat, r, d, mask): random rows (some all-zero = unvisited), radii from 1e-3 to above 2, some
    infeasible pairs."""
    S = draw(st.integers(1, max_S))
    A = draw(st.integers(1, max_A))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    P = np.zeros((S, A, S))
    for s in range(S):
        for a in range(A):
            k = int(rng.integers(1, S + 1))
            succ = rng.choice(S, size=k, replace=False)
            w = rng.random(k) + 1e-3
            P[s, a, succ] = w / w.sum()
    P[rng.random((S, A)) < 0.15] = 0.0  # unvisited pairs
    R = rng.random((S, A))
    # positive radii: every state reaches the best one in the extended MDP, whose optimal gain is then
    # constant (the setting of Jaksch et al.'s Theorem 7); zero radii on communicating models: see below
    d = rng.choice([1e-3, 0.05, 0.3, 1.0, 2.5], size=(S, A))
    mask = rng.random((S, A)) < 0.8
    mask[np.arange(S), rng.integers(0, A, S)] = True
    return P, R, d, mask


def _residual(P, R, d, mask, u, lo, hi):
    Tu, _, _ = optimistic_backup(P, R, d, u, mask)
    diff = Tu - u
    return diff.min(), diff.max()


@settings(max_examples=30, deadline=None)
@given(evi_problems(), st.sampled_from([None, 0.0, 0.2, 1.0]))
def test_numba_and_torch_agree(problem, cap):
    P, R, d, mask = problem
    eps = 1e-9
    a = extended_value_iteration(P, R, d, mask, eps=eps, span_cap=cap, max_iter=500)
    b = extended_value_iteration(P, R, d, mask, eps=eps, span_cap=cap, max_iter=500, backend="torch")
    assert a.converged and b.converged
    # both brackets have width < eps and contain the optimistic gain: their midpoints are eps/2-close each
    assert abs(a.gain - b.gain) <= eps
    assert a.gain_lower <= b.gain_upper + 1e-12 and b.gain_lower <= a.gain_upper + 1e-12
    if a.iterations == b.iterations:
        np.testing.assert_allclose(a.u, b.u, rtol=0, atol=1e-9)
    if cap is not None:
        assert a.u.max() - a.u.min() <= cap + 1e-12
        assert b.u.max() - b.u.min() <= cap + 1e-12


@settings(max_examples=30, deadline=None)
@given(evi_problems())
def test_optimistic_bellman_equation_at_solution(problem):
    """At EVI's output, Tu - u is constant up to eps and the greedy policy attains the backup."""
    P, R, d, mask = problem
    eps = 1e-8
    res = extended_value_iteration(P, R, d, mask, eps=eps)
    Tu, pol, p_opt = optimistic_backup(P, R, d, res.u, mask)
    diff = Tu - res.u
    assert diff.max() - diff.min() < eps
    assert res.gain_lower == pytest.approx(diff.min(), abs=1e-12)
    np.testing.assert_array_equal(pol, res.policy)
    # the maximisers are distributions inside the L1 balls and attain the backup
    S = P.shape[0]
    for s in range(S):
        a = pol[s]
        p = p_opt[s, a]
        assert p.min() >= -1e-15 and p.sum() == pytest.approx(1.0, abs=1e-12)
        if P[s, a].sum() > 0:
            assert np.abs(p - P[s, a]).sum() <= d[s, a] + 1e-12
        assert R[s, a] + p @ res.u == pytest.approx(Tu[s], abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_zero_radius_gives_the_true_optimal_gain(seed):
    """With d = 0 the extended MDP is the model itself: EVI's bracket contains rho* (average_reward)."""
    rng = np.random.default_rng(seed)
    S, A = int(rng.integers(2, 7)), int(rng.integers(1, 4))
    mdp = mdpkit.envs.random_communicating(S, A, seed=rng)
    P = mdp.dense_P()
    exact = mdpkit.average_reward(mdp, tol=1e-12)
    res = extended_value_iteration(P, mdp.R, np.zeros((S, A)), eps=1e-10, max_iter=50_000)
    assert res.converged
    assert res.gain_lower - 1e-9 <= exact.gain <= res.gain_upper + 1e-9
    g, _ = mdpkit.policy_gain(mdp, res.policy)
    assert g.min() >= exact.gain - 1e-8  # the greedy policy is eps-optimal


def test_radius_adds_optimism_and_monotone():
    mdp = mdpkit.envs.riverswim(6)
    P, R = mdp.dense_P(), mdp.R
    gains = [extended_value_iteration(P, R, np.full((6, 2), r), eps=1e-10).gain for r in (0.0, 0.1, 0.5, 2.0)]
    assert gains[0] == pytest.approx(mdpkit.average_reward(mdp, tol=1e-12).gain, abs=1e-9)
    assert all(g1 <= g2 + 1e-12 for g1, g2 in zip(gains, gains[1:], strict=False))
    assert gains[-1] == pytest.approx(1.0, abs=1e-9)  # the whole simplex: reach the reward-1 pair forever


def test_batched_matches_single():
    rng = np.random.default_rng(3)
    B, S, A = 4, 5, 2
    P = rng.dirichlet(np.ones(S), size=(B, S, A))
    R = rng.random((B, S, A))
    d = rng.random((B, S, A))
    for backend in ("numba", "torch"):
        batch = extended_value_iteration(
            P, R, d, eps=1e-9, span_cap=np.array([np.inf, 0.3, 1.0, 0.0]), backend=backend, device="cpu"
        )
        for b, cap in enumerate([None, 0.3, 1.0, 0.0]):
            one = extended_value_iteration(P[b], R[b], d[b], eps=1e-9, span_cap=cap)
            assert batch.gain[b] == pytest.approx(one.gain, abs=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"p_hat": -np.ones((2, 1, 2))}, r"p_hat\(0, 0, 0\) = -1.0"),
        ({"p_hat": np.ones((2, 1, 2))}, r"p_hat row sum\(0, 0\) = 2.0 > 1"),
        ({"d": -np.ones((2, 1))}, r"d\(0, 0\) = -1.0"),
        ({"eps": 0.0}, "eps = 0.0"),
        ({"span_cap": -1.0}, "span_cap = -1"),
        ({"backend": "jax"}, "backend = 'jax'"),
        ({"mask": np.zeros((2, 1), bool)}, "state 0 has no feasible action"),
        ({"r_tilde": np.ones((3, 1))}, r"r_tilde has shape \(3, 1\)"),
    ],
)
def test_errors_name_the_offending_value(kwargs, match):
    args = {"p_hat": np.full((2, 1, 2), 0.5), "r_tilde": np.ones((2, 1)), "d": np.zeros((2, 1))}
    args.update(kwargs)
    with pytest.raises(InvalidArgumentError, match=match):
        extended_value_iteration(**args)
