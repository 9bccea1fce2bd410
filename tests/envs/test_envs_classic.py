"""Textbook models: RiverSwim, the deterministic chain, Puterman's two-state example."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import mdpkit
from mdpkit import InvalidArgumentError, InvalidMDPError
from mdpkit.envs import chain, riverswim, two_state_puterman


# ----------------------------------------------------------------------------------------------- RiverSwim
def test_riverswim_dynamics_as_documented():
    n = 6
    m = riverswim(n)
    P, R = m.dense_P(), m.R
    assert (m.S, m.A, m.gamma) == (n, 2, None)
    for s in range(n):  # left is deterministic
        np.testing.assert_array_equal(P[s, 0], np.eye(n)[max(s - 1, 0)])
    for s in range(1, n - 1):  # middle states under right
        expected = np.zeros(n)
        expected[[s - 1, s, s + 1]] = [0.05, 0.6, 0.35]
        np.testing.assert_allclose(P[s, 1], expected, atol=1e-15)
    np.testing.assert_allclose(P[0, 1, :2], [0.4, 0.6], atol=1e-15)
    np.testing.assert_allclose(P[n - 1, 1, n - 2 :], [0.4, 0.6], atol=1e-15)
    expected_R = np.zeros((n, 2))
    expected_R[0, 0], expected_R[n - 1, 1] = 0.005, 1.0
    np.testing.assert_array_equal(R, expected_R)
    np.testing.assert_array_equal(m.initial, np.eye(n)[0])
    assert mdpkit.is_communicating(m)


@pytest.mark.parametrize("method", ["pi", "vi", "lp"])
def test_riverswim_optimal_policy_is_always_right(method):
    sol = mdpkit.solve(riverswim(6, gamma=0.95), method=method)
    np.testing.assert_array_equal(sol.policy, np.ones(6, dtype=np.int64))


def test_riverswim_average_reward_agrees_with_always_right():
    m = riverswim(6)
    sol = mdpkit.average_reward(m)
    g, _ = mdpkit.policy_gain(m, np.ones(6, dtype=np.int64))
    np.testing.assert_allclose(g, g[0], atol=1e-12)  # unichain under "always right"
    assert abs(sol.gain - g[0]) <= 1e-9
    assert sol.gain > 0.005  # beats staying on the left bank


def test_riverswim_custom_parameters():
    m = riverswim(
        3, gamma=0.9, p_right=0.3, p_stay=0.6, r_left=5, r_right=10_000, p_right_start=0.3, p_stay_end=0.3
    )
    P = m.dense_P()
    np.testing.assert_allclose(P[1, 1], [0.1, 0.6, 0.3], atol=1e-15)
    np.testing.assert_allclose(P[0, 1], [0.7, 0.3, 0.0], atol=1e-15)
    np.testing.assert_allclose(P[2, 1], [0.0, 0.7, 0.3], atol=1e-15)
    assert m.R[0, 0] == 5 and m.R[2, 1] == 10_000


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n": 1}, InvalidArgumentError, "n = 1"),
        ({"p_right": 0.5, "p_stay": 0.6}, InvalidArgumentError, "exceeds 1"),
        ({"p_right": -0.1}, InvalidArgumentError, "p_right = -0.1"),
        ({"p_stay_end": 2.0}, InvalidArgumentError, "p_stay_end = 2.0"),
        ({"r_right": float("nan")}, InvalidArgumentError, "r_right"),
        ({"gamma": 2.0}, InvalidMDPError, "gamma"),
    ],
)
def test_riverswim_bad_parameters(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        riverswim(**kwargs)


# ----------------------------------------------------------------------------------------------- chain
@pytest.mark.parametrize(("n", "gamma"), [(1, 0.5), (5, 0.9), (8, 0.99)])
def test_chain_closed_form(n, gamma):
    """Always right reaches n-1 after n-1-s moves, then earns r_end = 1 every step:
    V*(s) = gamma^(n-1-s) / (1-gamma)."""
    m = chain(n, gamma=gamma)
    P = m.dense_P()
    assert set(np.unique(P)) <= {0.0, 1.0}  # deterministic
    sol = mdpkit.solve(m, method="pi")
    s = np.arange(n)
    np.testing.assert_allclose(sol.V, gamma ** (n - 1 - s) / (1 - gamma), rtol=1e-9)
    np.testing.assert_array_equal(sol.policy[: n - 1], 1)


def test_chain_trap_reward_and_errors():
    # r_start > gamma^(n-1) r_end: state 0 prefers to stay left
    sol = mdpkit.solve(chain(4, gamma=0.5, r_end=1.0, r_start=0.2))
    assert sol.policy[0] == 0 and sol.policy[2] == 1
    with pytest.raises(InvalidArgumentError, match="n = 0"):
        chain(0)
    with pytest.raises(InvalidArgumentError, match="r_end"):
        chain(3, r_end="big")


# ----------------------------------------------------------------------------------------------- Puterman
def test_two_state_puterman_model():
    m = two_state_puterman()
    np.testing.assert_array_equal(m.mask, [[True, True], [True, False]])
    np.testing.assert_array_equal(m.R, [[5.0, 10.0], [-1.0, -np.inf]])
    P = m.dense_P()
    np.testing.assert_array_equal(P[0, 0], [0.5, 0.5])
    np.testing.assert_array_equal(P[0, 1], [0.0, 1.0])
    np.testing.assert_array_equal(P[1, 0], [0.0, 1.0])
    assert m.gamma == 0.95
    assert two_state_puterman(None).gamma is None and two_state_puterman(0.3).gamma == 0.3


def test_two_state_puterman_closed_form_gamma_095():
    r"""Hand derivation for gamma = 0.95 (Puterman 1994, §3.1 / chapter 6).

    s2 is absorbing with reward -1: V*(s2) = -1 / (1 - 0.95) = -20.
    In s1:
      a12: 10 + 0.95 * V*(s2) = 10 - 19 = -9.
      a11 (kept forever): v = 5 + 0.95 * (v / 2 + V*(s2) / 2) = 5 + 0.475 v - 9.5
          => 0.525 v = -4.5 => v = -4.5 / 0.525 = -60/7 = -8.5714...
      Mixing a12 later cannot help: a12's value -9 < -60/7, so a11 is optimal and V*(s1) = -60/7.
    """
    g = Fraction(95, 100)
    v2 = Fraction(-1) / (1 - g)
    v_a12 = 10 + g * v2
    v_a11 = (5 + g * v2 / 2) / (1 - g / 2)
    assert v2 == -20 and v_a12 == -9 and v_a11 == Fraction(-60, 7)
    expected = np.array([float(max(v_a11, v_a12)), float(v2)])
    for method in ("pi", "vi", "lp"):
        sol = mdpkit.solve(two_state_puterman(0.95), method=method, tol=1e-12)
        np.testing.assert_allclose(sol.V, expected, rtol=0, atol=1e-10)
        assert sol.policy[0] == 0 and sol.policy[1] == 0


@pytest.mark.parametrize("gamma", [0.0, 0.3, 0.5, 0.9, 0.99])
def test_two_state_puterman_any_gamma(gamma):
    """Same derivation for any gamma g: V(s2) = -1/(1-g);
    V(s1) = max(10 + g V(s2), (5 + g V(s2)/2) / (1 - g/2))."""
    v2 = -1.0 / (1 - gamma)
    options = [(5 + gamma * v2 / 2) / (1 - gamma / 2), 10 + gamma * v2]
    sol = mdpkit.solve(two_state_puterman(gamma), method="pi", tol=1e-12)
    np.testing.assert_allclose(sol.V, [max(options), v2], rtol=0, atol=1e-9 / (1 - gamma))
    assert sol.policy[0] == int(np.argmax(options))
