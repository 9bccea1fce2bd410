"""LinearMDP: validation, the induced tabular model, the one-hot embedding, and the two instances."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mdpkit
from mdpkit.errors import InvalidArgumentError, InvalidMDPError, MdpkitError
from mdpkit.linear import LinearMDP, american_put, hat_weights, random_linear_mdp, simulated_linear_mdp
from mdpkit.linear.instances import SIM_STATES
from tests.property.strategies import finite_horizon_mdps


def _parts(seed: int = 0, S: int = 4, A: int = 2, d: int = 3, H: int = 3):
    m = random_linear_mdp(seed, S, A, d, H)
    return np.array(m.phi), np.array(m.mu), np.array(m.theta), H


def test_induced_model_matches_definition():
    m = random_linear_mdp(1, S=5, A=3, d=4, H=4)
    P = m.kernel()
    for h in range(m.H):
        for s in range(m.S):
            for a in range(m.A):
                np.testing.assert_allclose(P[h, s, a], m.phi[s, a] @ m.mu[h], atol=1e-15)
                assert m.R[h, s, a] == pytest.approx(m.phi[s, a] @ m.theta[h], abs=1e-15)
    fh = m.to_finite_horizon()
    assert (fh.H, fh.S, fh.A) == (4, 5, 3)
    np.testing.assert_allclose(fh.R, m.R, atol=0)
    sol = mdpkit.backward_induction(fh)
    # Bellman identity of the nominal optimum, written with the factors: Q_h = r_h + phi^T (mu_h V_{h+1})
    for h in range(m.H):
        np.testing.assert_allclose(sol.Q[h], m.R[h] + m.phi @ (m.mu[h] @ sol.V[h + 1]), atol=1e-13)


def test_stationary_inputs_broadcast():
    phi, mu, theta, H = _parts()
    m = LinearMDP(phi, mu[0], theta[0], H)
    assert m.mu.shape == (H, 3, 4) and m.theta.shape == (H, 3)
    np.testing.assert_array_equal(m.mu[2], mu[0])
    np.testing.assert_allclose(m.initial, np.full(4, 0.25))


def test_model_is_frozen():
    m = random_linear_mdp(0)
    with pytest.raises(ValueError):
        m.phi[0, 0, 0] = 1.0
    with pytest.raises(AttributeError):
        m.H = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (
            lambda p, m, t: (p.__setitem__((1, 0, 2), p[1, 0, 2] + 0.1), (p, m, t))[1],
            r"phi\[1, 0, :\] sums to",
        ),
        (
            lambda p, m, t: (p.__setitem__((2, 1, 0), -0.5), (p, m, t))[1],
            r"phi\[2, 1, 0\] = -0.5 is negative",
        ),
        (
            lambda p, m, t: (m.__setitem__((1, 2, 3), m[1, 2, 3] + 0.2), (p, m, t))[1],
            r"mu\[1, 2, :\] sums to",
        ),
        (lambda p, m, t: (t.__setitem__((2, 1), np.nan), (p, m, t))[1], r"theta\[2, 1\] = nan is not finite"),
        (lambda p, m, t: (p, m, t * 5.0), r"reward r_\d\(\d, \d\) = .* is outside \[0, 1\]"),
        (lambda p, m, t: (p, m, -t), r"is outside \[0, 1\]"),
        (
            lambda p, m, t: (p[:, :, :2] / p[:, :, :2].sum(-1, keepdims=True), m, t),
            r"mu has shape \(3, 3, 4\), expected \(H, d, S\) = \(3, 2, 4\)",
        ),
        (lambda p, m, t: (p, m, t[:2]), r"theta has shape \(2, 3\), expected \(3, 3\)"),
    ],
)
def test_validation_names_index_and_value(edit, pattern):
    phi, mu, theta, H = _parts()
    p, m, t = edit(phi, mu, theta)
    with pytest.raises(InvalidMDPError, match=pattern):
        LinearMDP(p, m, t, H)


def test_validation_other_arguments():
    phi, mu, theta, H = _parts()
    with pytest.raises(MdpkitError, match="H"):
        LinearMDP(phi, mu, theta, 0)
    with pytest.raises(InvalidMDPError, match="initial"):
        LinearMDP(phi, mu, theta, H, initial=[0.5, 0.5, 0.5, -0.5])
    with pytest.raises(InvalidMDPError, match="phi has shape"):
        LinearMDP(phi[0], mu, theta, H)
    # unbounded rewards are allowed on request, but must stay finite
    m = LinearMDP(phi, mu, theta * 5, H, bounded=False)
    assert m.R.max() > 1
    with pytest.raises(InvalidMDPError, match="kernel|mu"):
        random_linear_mdp(0).kernel(np.ones((3, 3, 4)))


@settings(max_examples=25, deadline=None)
@given(fh=finite_horizon_mdps(max_S=5, max_A=3, max_H=4), seed=st.integers(0, 2**32 - 1))
def test_one_hot_embedding_round_trip(fh, seed):
    # rewards of the strategy are unbounded: use bounded=False, and also a rescaled [0, 1] copy
    if not fh.mask.all() or np.any(fh.terminal != 0):
        with pytest.raises(InvalidMDPError):
            LinearMDP.from_tabular(fh, bounded=False)
        return
    lm = LinearMDP.from_tabular(fh, bounded=False)
    assert lm.d == fh.S * fh.A
    np.testing.assert_array_equal(lm.phi.reshape(fh.S * fh.A, -1), np.eye(fh.S * fh.A))
    P = np.stack(
        [
            np.asarray(fh.P_at(h).toarray() if hasattr(fh.P_at(h), "toarray") else fh.P_at(h))
            for h in range(fh.H)
        ]
    )
    P = P.reshape(fh.H, fh.S, fh.A, fh.S)
    np.testing.assert_allclose(lm.kernel(), P, atol=1e-15)
    back = lm.to_finite_horizon()
    np.testing.assert_allclose(back.R, fh.R, atol=0)
    a, b = mdpkit.backward_induction(back), mdpkit.backward_induction(fh)
    np.testing.assert_allclose(a.V, b.V, atol=1e-12 * (1 + np.abs(b.V).max()))


def test_from_tabular_rejects_masks_and_rewards_out_of_range():
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(3), size=(3, 2))
    fh = mdpkit.FiniteHorizonMDP(P, rng.uniform(size=(3, 2)) * 2, 2)
    with pytest.raises(InvalidMDPError, match="outside"):
        LinearMDP.from_tabular(fh)
    mask = np.ones((3, 2), dtype=bool)
    mask[1, 0] = False
    fh = mdpkit.FiniteHorizonMDP(P, rng.uniform(size=(3, 2)), 2, mask=mask)
    with pytest.raises(InvalidMDPError, match=r"pair \(h=0, s=1, a=0\) is infeasible"):
        LinearMDP.from_tabular(fh)
    fh = mdpkit.FiniteHorizonMDP(P, rng.uniform(size=(3, 2)), 2, terminal=[0.0, 1.0, 0.0])
    with pytest.raises(InvalidMDPError, match=r"terminal\[1\] = 1.0"):
        LinearMDP.from_tabular(fh)


# ----------------------------------------------------------------------------------------------- instances
def test_simulated_linear_mdp_structure():
    m = simulated_linear_mdp(H=3, delta=0.3, m=4)
    assert (m.S, m.A, m.d, m.H) == (5, 16, 4, 3) and len(SIM_STATES) == 5
    P = m.kernel()
    # x4 (fail) and x5 (goal) are absorbing; x5 pays 1 per step, x4 nothing
    np.testing.assert_array_equal(P[:, 3, :, 3], 1.0)
    np.testing.assert_array_equal(P[:, 4, :, 4], 1.0)
    np.testing.assert_array_equal(m.R[:, 4], 1.0)
    np.testing.assert_array_equal(m.R[:, 3], 0.0)
    # success probability p(a) = delta + <xi, a>, xi = delta/(2m): best action all ones (index 15)
    p = P[0, 0, :, 4]
    assert p.max() == pytest.approx(0.3 + 4 * 0.3 / 8) and int(np.argmax(p)) == 15
    assert p.min() == pytest.approx(0.3 - 4 * 0.3 / 8) and int(np.argmin(p)) == 0
    np.testing.assert_array_equal(m.initial, [1, 0, 0, 0, 0])


@pytest.mark.parametrize("q", [0.0, 0.1, 0.37, 1.0])
def test_simulated_perturbation_is_a_tv_ball_member(q):
    nominal, target = simulated_linear_mdp(q=0.0), simulated_linear_mdp(q=q)
    tv = 0.5 * np.abs(target.mu - nominal.mu).sum(axis=-1)
    assert tv[0, 3] == pytest.approx(q) and tv.sum() == pytest.approx(q)  # only the goal factor of step 0
    # the perturbation hurts: value under the target is lower, by q times the first-step goal mass
    pol = mdpkit.backward_induction(nominal.to_finite_horizon()).policy
    v_nom = mdpkit.evaluate_finite(nominal.to_finite_horizon(), pol)[0][0, 0]
    v_tar = mdpkit.evaluate_finite(target.to_finite_horizon(), pol)[0][0, 0]
    p_best = 0.3 * 1.5
    assert v_nom - v_tar == pytest.approx(q * p_best * (nominal.H - 1), abs=1e-12)


def test_simulated_rejects_bad_parameters():
    with pytest.raises(InvalidArgumentError, match="delta = 0.7"):
        simulated_linear_mdp(delta=0.7)
    with pytest.raises(InvalidArgumentError, match=r"\|\|xi\|\|_1"):
        simulated_linear_mdp(delta=0.2, xi=[0.1, 0.1, 0.1, 0.1])
    with pytest.raises(InvalidArgumentError, match="q = 1.5"):
        simulated_linear_mdp(q=1.5)


def test_hat_weights_are_simplex_and_reproduce_points():
    grid = np.array([0.0, 1.0, 3.0, 6.0])
    x = np.array([-1.0, 0.0, 0.5, 2.0, 5.9, 6.0, 8.0])
    W = hat_weights(x, grid)
    assert np.all(W >= 0)
    np.testing.assert_allclose(W.sum(1), 1.0)
    np.testing.assert_allclose(W @ grid, np.clip(x, 0, 6), atol=1e-15)


def test_american_put_structure_and_exercise_boundary():
    m = american_put(H=10, n_prices=31, n_anchors=7, strike=100.0, p_low=70.0, p_high=130.0)
    N = 31
    assert (m.S, m.A, m.d) == (N + 1, 2, 15)
    grid = np.linspace(70, 130, N)
    # the strike is an anchor, so the payoff is exact on the whole grid
    np.testing.assert_allclose(m.R[0, :N, 1], np.maximum(0.0, 100.0 - grid) / 100.0, atol=1e-15)
    np.testing.assert_array_equal(m.R[:, :, 0], 0.0)
    P = m.kernel()
    np.testing.assert_array_equal(P[:, :, 1, N], 1.0)  # exercising ends the episode
    np.testing.assert_array_equal(P[:, N, :, N], 1.0)
    sol = mdpkit.backward_induction(m.to_finite_horizon())
    # a put is worth at least its immediate payoff, and deep in the money it is exercised at once
    assert np.all(sol.V[0, :N] >= m.R[0, :N, 1] - 1e-15)
    assert sol.policy[0, 0] == 1
    assert sol.policy[0, N - 1] == 0  # far out of the money: hold
    # the value is non-increasing in the price
    assert np.all(np.diff(sol.V[0, :N]) <= 1e-12)
    # a lower up-probability (bearish perturbation) makes the put more valuable under the same policy
    bear = american_put(H=10, n_prices=31, n_anchors=7, p_up=0.3)
    np.testing.assert_array_equal(bear.phi, m.phi)
    v_bear = mdpkit.evaluate_finite(bear.to_finite_horizon(), sol.policy)[0][0]
    assert bear.initial @ v_bear > m.initial @ sol.V[0]
