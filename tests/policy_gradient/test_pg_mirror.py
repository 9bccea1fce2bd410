"""Mirror descent / NPG: the closed-form step, monotone improvement, linear-rate fits."""

from __future__ import annotations

import numpy as np
import pytest

from mdpkit.core.discounted import evaluate
from mdpkit.envs import garnet
from mdpkit.errors import InvalidArgumentError, InvalidMDPError
from mdpkit.policy_gradient import fit_linear_rate, geometric_steps, mirror_descent_step, run_mirror_descent
from mdpkit.policy_gradient.mirror import policy_values


def test_step_formula_and_limits():
    pi = np.array([[0.2, 0.3, 0.5], [0.5, 0.5, 0.0]])
    A = np.array([[1.0, 0.0, -1.0], [0.0, 2.0, -np.inf]])
    new = mirror_descent_step(pi, A, 0.7)
    expect = pi * np.exp(0.7 * np.where(pi > 0, A, 0.0))
    expect /= expect.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(new, expect, atol=1e-15)
    assert new[1, 2] == 0.0
    np.testing.assert_allclose(mirror_descent_step(pi, A, 0.0), pi)
    np.testing.assert_allclose(mirror_descent_step(pi, A, np.inf), [[1, 0, 0], [0, 1, 0]])
    # shift invariance and huge steps without overflow
    np.testing.assert_allclose(mirror_descent_step(pi, A + 100.0, 0.7), new, atol=1e-15)
    assert np.isfinite(mirror_descent_step(pi, A, 1e300)).all()
    with pytest.raises(InvalidArgumentError):
        mirror_descent_step(pi, A, -1.0)


def test_policy_values_match_evaluate():
    mdp = garnet(7, 3, 2, gamma=0.9, seed=1)
    pi = np.random.default_rng(0).dirichlet(np.ones(3), size=7)
    V, adv = policy_values(mdp, pi)
    ev = evaluate(mdp, pi)
    np.testing.assert_allclose(V, ev.V, atol=1e-10)
    np.testing.assert_allclose(adv, ev.advantage, atol=1e-10)


@pytest.mark.parametrize("eta", [1e-2, 1.0, 100.0])
def test_run_is_monotone_per_state_and_converges(eta):
    mdp = garnet(8, 3, 2, gamma=0.8, seed=4)
    run = run_mirror_descent(mdp, eta, 300)
    assert np.min(np.diff(run.V, axis=0)) >= -1e-12
    assert np.all(np.diff(run.sup_gap) <= 1e-12)
    if eta >= 1:
        assert run.sup_gap[-1] < 1e-8


def test_stop_gap_and_schedule():
    mdp = garnet(6, 2, 2, gamma=0.9, seed=2)
    run = run_mirror_descent(mdp, geometric_steps(1.0, 0.9), 500, stop_gap=1e-10)
    assert run.sup_gap[-1] <= 1e-10 and run.J.size < 501 and run.steps.size == run.J.size - 1
    np.testing.assert_allclose(run.steps[:3], [1.0, 1 / 0.9, 1 / 0.81])
    assert np.isfinite(geometric_steps(1.0, 0.5)(10_000))
    with pytest.raises(InvalidArgumentError):
        geometric_steps(1.0, 1.0)
    with pytest.raises(InvalidMDPError):
        run_mirror_descent(mdp.with_gamma(None), 1.0, 3)


def test_fit_linear_rate():
    g = 3.0 * 0.7 ** np.arange(60)
    rate, r2, n = fit_linear_rate(g)
    assert rate == pytest.approx(0.7, rel=1e-9) and r2 == pytest.approx(1.0) and n >= 3
    g2 = np.concatenate([g[:20], np.zeros(10)])  # round-off zeros are dropped
    assert fit_linear_rate(g2)[0] == pytest.approx(0.7, rel=1e-9)
    assert np.isnan(fit_linear_rate(np.zeros(5))[0])
    sub = 1.0 / np.arange(1, 400)
    assert fit_linear_rate(sub)[0] > 0.99  # a sublinear sequence fits a rate close to 1
