"""Distributions, bandits, softmax helpers, instance generators and strategies (policy-gradient family)."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given

from mdpkit.errors import InvalidArgumentError, InvalidPolicyError
from mdpkit.policy_gradient import (
    Bandit,
    Dist,
    convolve,
    convolve_power,
    logits_from_policy,
    mixture,
    point,
    random_bandit,
    random_turn_chain,
    risky_safe_bandit,
    shift,
    softmax,
    tabular_gradient,
    uniform_logits,
)
from mdpkit.policy_gradient.instances import random_rational_simplex
from mdpkit.policy_gradient.strategies import bandit_instances


def test_dist_algebra_is_exact():
    d = Dist.from_arrays([F(0), F(1)], [F(1, 3), F(2, 3)])
    assert d.mean() == F(2, 3) and d.var() == F(2, 9) and d.exact
    two = convolve(d, d)
    assert two.values == (0, 1, 2) and two.probs == (F(1, 9), F(4, 9), F(4, 9))
    assert convolve_power(d, 3).mean() == 2
    assert convolve_power(d, 0).values == (0,)
    assert shift(d, F(5)).values == (5, 6)
    m = mixture([F(1, 2), F(1, 2)], [d, point(F(1))])
    assert m.probs == (F(1, 6), F(5, 6))
    assert d.prob_of((F(-1), F(0), F(1))) == [0, F(1, 3), F(2, 3)]


def test_dist_validation():
    with pytest.raises(InvalidArgumentError):
        Dist.from_arrays([F(0)], [F(1, 2)])
    with pytest.raises(InvalidArgumentError):
        Dist.from_arrays([0.0, 1.0], [-0.5, 1.5])
    with pytest.raises(InvalidArgumentError):
        Dist.from_arrays([0.0], [1.0, 0.0])
    with pytest.raises(InvalidArgumentError):
        Dist.from_arrays([0.0, 1.0], [0.0, 0.0])
    with pytest.raises(InvalidArgumentError, match="missing"):
        point(3.0).prob_of((1.0, 2.0))
    assert Dist.from_arrays([1.0, 1.0], [0.5, 0.5]).values == (1.0,)  # merged


def test_bandit_api():
    b = risky_safe_bandit()
    assert b.A == 2 and b.exact and not b.deterministic_rewards
    assert b.means() == [2, 1] and b.optimum() == 2
    assert b.value([F(1, 4), F(3, 4)]) == F(5, 4)
    assert b.support() == (0, 1, 10)
    assert b.return_distribution([F(1, 2), F(1, 2)]).probs == (F(2, 5), F(1, 2), F(1, 10))
    bf = b.to_float()
    assert not bf.exact and bf.value([0.25, 0.75]) == pytest.approx(1.25)
    bb = Bandit.bernoulli([F(1, 3), F(1), F(0)])
    assert bb.means() == [F(1, 3), 1, 0]
    assert Bandit.deterministic([1, 2]).deterministic_rewards
    with pytest.raises(InvalidPolicyError):
        b.value([0.5, 0.6])
    with pytest.raises(InvalidPolicyError):
        b.value([F(1, 2), F(1, 3)])
    with pytest.raises(InvalidArgumentError):
        Bandit([])
    with pytest.raises(InvalidArgumentError):
        Bandit.bernoulli([1.5])


def test_softmax_helpers():
    th = np.array([[0.0, -np.inf, 1.0], [3.0, 3.0, 3.0]])
    pi = softmax(th)
    np.testing.assert_allclose(pi.sum(axis=1), 1.0)
    assert pi[0, 1] == 0.0
    np.testing.assert_allclose(softmax(logits_from_policy(pi)), pi)
    assert np.isneginf(uniform_logits((2, 2), np.array([True, False]))[:, 1]).all()
    with pytest.raises(InvalidPolicyError):
        softmax(np.array([np.nan, 0.0]))
    with pytest.raises(InvalidPolicyError):
        softmax(np.array([[-np.inf, -np.inf]]))


def test_tabular_gradient_matches_finite_differences():
    from mdpkit.core.discounted import evaluate
    from mdpkit.envs import garnet

    mdp = garnet(5, 3, 2, gamma=0.8, seed=0)
    th = np.random.default_rng(0).normal(size=(5, 3))
    g = tabular_gradient(mdp, th)
    h = 1e-6
    for idx in [(0, 0), (2, 1), (4, 2)]:
        e = np.zeros_like(th)
        e[idx] = h
        fd = (evaluate(mdp, softmax(th + e)).J - evaluate(mdp, softmax(th - e)).J) / (2 * h)
        assert g[idx] == pytest.approx(fd, abs=1e-7)


def test_instances_are_exact_and_reproducible():
    p = random_rational_simplex(4, np.random.default_rng(0), 10)
    assert sum(p) == 1 and all(x > 0 for x in p)
    for kind in ("deterministic", "bernoulli", "stochastic"):
        b1 = random_bandit(3, 7, kind=kind, K=3)
        b2 = random_bandit(3, 7, kind=kind, K=3)
        assert b1.exact and b1.as_dict() == b2.as_dict()
    fh = random_turn_chain(3, 3, 3, 5, outcome_only=False)  # H = S = A: no shape ambiguity
    P = np.stack([fh.P_at(h) for h in range(fh.H)])
    assert np.all(P.sum(axis=-1) == 1.0)  # dyadic rows sum exactly
    assert np.all(fh.R == np.round(fh.R))  # integer rewards survive the reduction exactly
    fh2 = random_turn_chain(2, 2, 2, 5, deterministic=True)
    assert set(np.unique(np.stack([fh2.P_at(h) for h in range(2)]))) <= {0.0, 1.0}


@given(bandit_instances(max_arms=3))
def test_bandit_instance_strategy(inst):
    assert 2 <= inst.bandit.A <= 3 and inst.bandit.exact
    assert sum(inst.pi) == 1 and inst.eps in (F(1, 5), F(1, 10), F(1, 2))
    assert inst.as_dict()["pi_old"]
