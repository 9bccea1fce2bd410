"""Exact maximisation of the clipped surrogate: against an LP solver, by hand, and the improvement theorem."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import linprog

from mdpkit.errors import InvalidArgumentError
from mdpkit.policy_gradient import (
    Bandit,
    Dist,
    bandit_ppo_step,
    clipped_surrogate,
    maximize_clipped_surrogate,
    ppo_clip_update,
    surrogate_logit_gradient,
)


def _lp(p, P, N, eps, c=None, level=None, sense=1):
    """max_pi L(pi) by an epigraph LP (variables pi, u, v); or optimise c.pi subject to L(pi) >= level."""
    A = len(p)
    n = 3 * A
    # u_a <= pi_a, u_a <= (1+eps) p_a ; v_a >= pi_a, v_a >= (1-eps) p_a
    A_ub, b_ub = [], []
    for a in range(A):
        row = np.zeros(n)
        row[A + a], row[a] = 1, -1
        A_ub.append(row), b_ub.append(0.0)
        row = np.zeros(n)
        row[2 * A + a], row[a] = -1, 1
        A_ub.append(row), b_ub.append(0.0)
    bounds = [(0, 0 if p[a] == 0 else 1) for a in range(A)]
    bounds += [(None, (1 + eps) * p[a]) for a in range(A)]
    bounds += [(max(1 - eps, 0) * p[a], None) for a in range(A)]
    A_eq = [np.concatenate([np.ones(A), np.zeros(2 * A)])]
    obj = np.concatenate([np.zeros(A), P, -np.asarray(N)])
    if c is None:
        r = linprog(-obj, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[1.0], bounds=bounds)
        return -r.fun
    A_ub.append(-obj), b_ub.append(-level)
    r = linprog(
        -sense * np.concatenate([c, np.zeros(2 * A)]),
        A_ub=A_ub,
        b_ub=b_ub,
        A_eq=A_eq,
        b_eq=[1.0],
        bounds=bounds,
    )
    return sense * -r.fun


@given(st.integers(2, 5), st.sampled_from([0.1, 0.2, 0.5, 1.0, 1.5]), st.integers(0, 10_000), st.booleans())
def test_exact_maximum_matches_linprog(A, eps, seed, zero_action):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(A))
    if zero_action:
        p[0] = 0.0
        p /= p.sum()
    P = rng.random(A) * (rng.random(A) < 0.8)
    N = rng.random(A) * (rng.random(A) < 0.8)
    arg = maximize_clipped_surrogate(list(p), list(P), list(N), eps)
    assert arg.value == pytest.approx(_lp(p, P, N, eps), abs=1e-9)
    for tie in ("closest", "lo"):
        pi = np.array(arg.pick(tie))
        assert pi.sum() == pytest.approx(1.0, abs=1e-12) and (pi >= -1e-15).all()
        assert np.all(pi >= np.array(arg.lo) - 1e-12) and np.all(pi <= np.array(arg.hi) + 1e-12)
        assert clipped_surrogate(list(pi), list(p), list(P), list(N), eps) == pytest.approx(
            arg.value, abs=1e-9
        )
    # the polytope of maximisers: range of a linear function over it, against the LP
    c = rng.normal(size=A)
    lo, hi = arg.linear_range(list(c))
    assert lo == pytest.approx(_lp(p, P, N, eps, c, arg.value - 1e-10, -1), abs=1e-6)
    assert hi == pytest.approx(_lp(p, P, N, eps, c, arg.value - 1e-10, 1), abs=1e-6)
    # no policy does better
    for _ in range(20):
        q = rng.dirichlet(np.ones(A)) * (p > 0)
        q /= q.sum()
        assert clipped_surrogate(list(q), list(p), list(P), list(N), eps) <= arg.value + 1e-12


def test_hand_computed_exact_example():
    # p = (1/2, 1/2), advantage +1 / -1, eps = 1/5: arm 0 up to ratio 1.2 has slope 1, then 0; arm 1 is flat
    # below ratio 0.8 -> maximisers pi_0 in [3/5, 1], value 3/5 - 2/5
    arg = maximize_clipped_surrogate([F(1, 2), F(1, 2)], [F(1), F(0)], [F(0), F(1)], F(1, 5))
    assert arg.value == F(1, 5)
    assert arg.lo == (F(3, 5), F(0)) and arg.hi == (F(1), F(2, 5))
    assert arg.pick("closest") == [F(3, 5), F(2, 5)]
    assert arg.pick("lo") == [F(1), F(0)]
    assert arg.linear_range([F(1), F(0)]) == (F(3, 5), F(1))
    assert not arg.unique


def test_gradient_method_reaches_the_maximum():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(4), size=3)
    P, N = rng.random((3, 4)), rng.random((3, 4))
    ex = ppo_clip_update(p, P, N, 0.2)
    gd = ppo_clip_update(p, P, N, 0.2, method="gradient", steps=10_000, lr=0.02)
    # constant-step ascent on a piecewise-linear objective ends within O(lr) of the maximum
    assert gd.surrogate == pytest.approx(ex.surrogate, abs=5e-4)
    assert gd.surrogate <= ex.surrogate + 1e-12


def test_surrogate_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    p0 = rng.dirichlet(np.ones(4))
    theta = np.log(p0) + rng.normal(size=4) * 0.1
    P, N, eps = rng.random(4), rng.random(4), 0.2

    def L(th):
        pi = np.exp(th - th.max())
        pi /= pi.sum()
        return clipped_surrogate(list(pi), list(p0), list(P), list(N), eps)

    pi = np.exp(theta - theta.max())
    pi /= pi.sum()
    g = surrogate_logit_gradient(pi, p0, P, N, eps)
    h = 1e-6
    fd = np.array([(L(theta + h * e) - L(theta - h * e)) / (2 * h) for e in np.eye(4)])
    np.testing.assert_allclose(g, fd, atol=1e-6)


def test_weights_and_zero_actions():
    p = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    P = np.array([[1.0, 0.0, 5.0], [0.0, 1.0, 0.0]])
    N = np.zeros((2, 3))
    up = ppo_clip_update(p, P, N, 0.2, weights=np.array([1.0, 0.0]))
    assert up.policy[0, 2] == 0.0  # never leaves the old support
    np.testing.assert_array_equal(up.policy[1], p[1])  # weight 0: unchanged
    assert up.argmax[1] is None


def test_invalid_arguments():
    with pytest.raises(InvalidArgumentError):
        maximize_clipped_surrogate([0.5, 0.5], [-1.0, 0.0], [0.0, 0.0], 0.2)
    with pytest.raises(InvalidArgumentError):
        maximize_clipped_surrogate([0.5, 0.5], [1.0, 0.0], [0.0, 0.0], 0.0)
    with pytest.raises(InvalidArgumentError):
        ppo_clip_update(np.array([F(1, 2), F(1, 2)], dtype=object), [1, 0], [0, 1], 0.2, method="gradient")


@st.composite
def exact_bandits(draw):
    A = draw(st.integers(2, 3))
    arms = []
    for _ in range(A):
        k = draw(st.integers(1, 2))
        vals = draw(st.lists(st.integers(0, 6), min_size=k, max_size=k, unique=True))
        w = draw(st.lists(st.integers(1, 3), min_size=k, max_size=k))
        arms.append(Dist.from_arrays([F(v) for v in vals], [F(x, sum(w)) for x in w]))
    pw = draw(st.lists(st.integers(1, 4), min_size=A, max_size=A))
    return Bandit(arms), [F(x, sum(pw)) for x in pw], draw(st.sampled_from([F(1, 10), F(1, 5), F(1, 2)]))


@given(exact_bandits(), st.sampled_from(["true", "mean-only-2", "mean-only-3"]))
def test_every_maximiser_improves_with_affine_advantages(inst, adv_name):
    """PPO's monotonic improvement (exact): true advantage and the mean-only group advantage."""
    from mdpkit.policy_gradient import GroupAdvantage

    b, pi, eps = inst
    adv = "true" if adv_name == "true" else GroupAdvantage(int(adv_name[-1]), scale="none")
    up = bandit_ppo_step(b, pi, adv, eps)
    lo, _ = up.argmax[0].linear_range(b.means())
    assert lo >= b.value(pi)
